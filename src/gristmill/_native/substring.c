/* The neighbour-LCP scan of substring_dedup (gristmill/dedup/substring.py), in C.

   The text is one byte string: each document's UTF-8 (surrogates allowed) followed by a separator of 6 bytes
   (0xFF, then the document's number in 5 base-64 digits, each 0x80 | digit), so a symbol is a code point or a
   separator and its first byte gives its length. `nb` gives, for the first byte of every symbol, the first
   byte of its neighbour in suffix-array order (the one before it: PHI; or after it: PSI), or -1.

   runs(text, nb, wide, doc_starts, min_length) walks the symbols in text order and computes the longest
   common prefix (in symbols) of each suffix and its neighbour with the PLCP recurrence (it shrinks by at most
   one symbol per step, so the scan is linear). Where it is >= min_length, the neighbour lies earlier in the
   text and in another document, the span [here, here + lcp) is covered. It returns the union of covered spans
   as int64 triples (document, first character, end character; offsets in the document's characters), bytes,
   and the number of such neighbour pairs. Run once with PHI and once with PSI, every adjacent pair of the
   suffix array is seen exactly once from its later suffix. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int sym_len(uint8_t c) {
    if (c < 0x80) return 1;
    if (c < 0xE0) return 2;
    if (c < 0xF0) return 3;
    if (c < 0xF8) return 4;
    return 6; /* 0xFF: separator */
}

typedef struct {
    int64_t *v;
    Py_ssize_t n, cap; /* in triples */
} Runs;

static int push(Runs *r, int64_t d, int64_t a, int64_t b) {
    if (r->n == r->cap) {
        Py_ssize_t cap = r->cap ? r->cap * 2 : 1024;
        int64_t *v = realloc(r->v, (size_t)cap * 3 * sizeof(int64_t));
        if (!v) return -1;
        r->v = v;
        r->cap = cap;
    }
    r->v[3 * r->n] = d;
    r->v[3 * r->n + 1] = a;
    r->v[3 * r->n + 2] = b;
    r->n++;
    return 0;
}

static int64_t doc_of(const int64_t *starts, Py_ssize_t ndocs, int64_t pos) {
    Py_ssize_t lo = 0, hi = ndocs; /* the last start <= pos */
    while (hi - lo > 1) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (starts[mid] <= pos) lo = mid; else hi = mid;
    }
    return lo;
}

#define SCAN(NAME, IDX)                                                                                        \
    static int NAME(const uint8_t *T, Py_ssize_t m, const IDX *nb, const int64_t *starts, Py_ssize_t ndocs,   \
                    int64_t L, Runs *out, int64_t *pairs) {                                                    \
        int64_t h = 0, hb = 0;             /* common prefix with the neighbour: symbols, bytes */             \
        int64_t doc = 0, c = 0;            /* this symbol's document and character offset in it */            \
        int64_t rd = -1, ra = 0, rb = 0;   /* the open run */                                                 \
        Py_ssize_t b = 0;                                                                                      \
        while (b < m) {                                                                                        \
            uint8_t lead = T[b];                                                                               \
            int len = sym_len(lead);                                                                           \
            int64_t q = (int64_t)nb[b];                                                                        \
            if (q < 0) {                                                                                       \
                h = hb = 0;                                                                                    \
            } else {                                                                                           \
                for (;;) {                                                                                     \
                    Py_ssize_t x = b + hb, y = q + hb;                                                         \
                    if (x >= m || y >= m) break;                                                               \
                    uint8_t cx = T[x];                                                                         \
                    if (cx != T[y] || cx == 0xFF) break; /* separators never match */                       \
                    int l = sym_len(cx);                                                                       \
                    if (x + l > m || y + l > m || (l > 1 && memcmp(T + x + 1, T + y + 1, l - 1))) break;       \
                    h++;                                                                                       \
                    hb += l;                                                                                   \
                }                                                                                              \
                if (h >= L && q < b && doc_of(starts, ndocs, q) != doc) {                                      \
                    (*pairs)++;                                                                                \
                    if (rd == doc && c <= rb) {                                                                \
                        if (c + h > rb) rb = c + h;                                                            \
                    } else {                                                                                   \
                        if (rd >= 0 && push(out, rd, ra, rb)) return -1;                                       \
                        rd = doc;                                                                              \
                        ra = c;                                                                                \
                        rb = c + h;                                                                            \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
            if (lead == 0xFF) {                                                                                \
                doc++;                                                                                         \
                c = 0;                                                                                         \
            } else {                                                                                           \
                c++;                                                                                           \
            }                                                                                                  \
            if (h > 0) {                                                                                       \
                h--;                                                                                           \
                hb -= len;                                                                                     \
            }                                                                                                  \
            b += len;                                                                                          \
        }                                                                                                      \
        if (rd >= 0 && push(out, rd, ra, rb)) return -1;                                                       \
        return 0;                                                                                              \
    }

SCAN(scan32, int32_t)
SCAN(scan64, int64_t)

static PyObject *runs(PyObject *self, PyObject *args) {
    Py_buffer text, nb, starts;
    int wide;
    long long min_length;
    if (!PyArg_ParseTuple(args, "y*y*py*L", &text, &nb, &wide, &starts, &min_length)) return NULL;
    PyObject *res = NULL;
    Runs out = {NULL, 0, 0};
    int64_t pairs = 0;
    int rc;
    Py_ssize_t m = text.len, ndocs = starts.len / (Py_ssize_t)sizeof(int64_t);
    if (nb.len != m * (wide ? 8 : 4)) {
        PyErr_SetString(PyExc_ValueError, "neighbour array must have one entry per text byte");
        goto done;
    }
    if (m > 0 && (ndocs < 1 || ((const uint8_t *)text.buf)[m - 1] < 0x80)) {
        PyErr_SetString(PyExc_ValueError, "text must end with a separator and have document starts");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = wide ? scan64(text.buf, m, nb.buf, starts.buf, ndocs, min_length, &out, &pairs)
              : scan32(text.buf, m, nb.buf, starts.buf, ndocs, min_length, &out, &pairs);
    Py_END_ALLOW_THREADS
    if (rc) {
        PyErr_NoMemory();
    } else {
        PyObject *bytes = PyBytes_FromStringAndSize((const char *)out.v, out.n * 3 * (Py_ssize_t)sizeof(int64_t));
        if (bytes) {
            res = Py_BuildValue("(NL)", bytes, (long long)pairs);
        }
    }
done:
    free(out.v);
    PyBuffer_Release(&text);
    PyBuffer_Release(&nb);
    PyBuffer_Release(&starts);
    return res;
}

static PyMethodDef METHODS[] = {
    {"runs", runs, METH_VARARGS,
     "runs(text, nb, wide, doc_starts, min_length) -> (int64 triples as bytes, pairs); see the file's comment."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "gristmill.dedup._substring", "substring_dedup's LCP scan in C.", -1,
                                    METHODS};

PyMODINIT_FUNC PyInit__substring(void) { return PyModule_Create(&MODULE); }

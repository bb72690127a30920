/* gristmill.text._tokhash: work on lists of word tokens (jieba's output, the C tokenizer's) without a Python
 * loop per token.
 *
 *   join_words(tokens)            " ".join(t for t in tokens if not t.isspace())
 *   mask_numbers(s)               " ".join("<num>" if w[:1].isdigit() else w for w in s.split())
 *   dsir_features(words, text, buckets, max_features)
 *                                 one document's DSIR features (gristmill.select.dsir.Featurizer.batch)
 *   sample_text(s, budget, windows)
 *                                 what the language model reads (gristmill.text.langsample.sample_text)
 *   sample_texts(texts, budget, windows)
 *                                 the same for each str of a list (one call per batch)
 *
 * The Python definitions are in gristmill.text.token_lists (and Featurizer's numpy path, and
 * gristmill.text.langsample); tests/test_token_lists.py and tests/test_langsample.py check that both give the
 * same on real English and Chinese text and on random strings. Whitespace and digits are Python's
 * (Py_UNICODE_ISSPACE: str.isspace/str.split; Py_UNICODE_ISDIGIT: str.isdigit), text is read as code points
 * (lone surrogates included).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define POLY 0x100000001B3ULL          /* FNV prime: the token polynomial's base */
#define MIX 0x9E3779B97F4A7C15ULL      /* golden-ratio multiplier: a bigram's first hash */
#define SALT_BI 0xD6E8FEB86659FD93ULL  /* a bigram's second hash */
#define SALT_CHAR 0xA0761D6478BD642FULL /* character unigrams */

static inline uint64_t mix64(uint64_t h) {  /* splitmix64 finaliser (gristmill.select.dsir._mix64) */
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

/* Py_UNICODE_ISSPACE without a function call for Han and most other text: no whitespace character lies above
 * U+3000 (tests/test_token_lists.py checks every code point) */
static inline int is_space(Py_UCS4 c) { return c < 128 ? Py_UNICODE_ISSPACE(c) : c <= 0x3000 && Py_UNICODE_ISSPACE(c); }

/* str.isspace(): true for a non-empty string of whitespace only */
static int all_space(PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n == 0) return 0;
    int kind = PyUnicode_KIND(s);
    const void *d = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!is_space(PyUnicode_READ(kind, d, i))) return 0;
    return 1;
}

static PyObject *join_words(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "a list of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), kept = 0;
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *sep = PyUnicode_FromOrdinal(' '), *result = NULL, *filtered = NULL;
    if (!sep) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_Check(items[i])) { PyErr_SetString(PyExc_TypeError, "str tokens"); goto done; }
        if (!all_space(items[i])) kept++;
    }
    if (kept == n) { result = PyUnicode_Join(sep, seq); goto done; }
    filtered = PyList_New(kept);
    if (!filtered) goto done;
    for (Py_ssize_t i = 0, k = 0; i < n; i++)
        if (!all_space(items[i])) { Py_INCREF(items[i]); PyList_SET_ITEM(filtered, k++, items[i]); }
    result = PyUnicode_Join(sep, filtered);
done:
    Py_XDECREF(filtered);
    Py_XDECREF(sep);
    Py_DECREF(seq);
    return result;
}

/* mask_numbers' first pass over a string of one kind: the result's length and widest character, and whether
 * the result is the string itself (single spaces between words, none at the ends, no word starting with a
 * digit: the common case, which then costs no copy) */
#define MASK_SCAN(NAME, T)                                                                               \
    static Py_ssize_t NAME(const T *d, Py_ssize_t n, Py_UCS4 *maxc, int *same) {                          \
        Py_ssize_t o = 0, words = 0;                                                                     \
        *same = 1;                                                                                       \
        for (Py_ssize_t i = 0; i < n;) {                                                                 \
            Py_ssize_t i0 = i;                                                                           \
            while (i < n && is_space(d[i])) i++;                                                         \
            if (i >= n) { if (i > i0) *same = 0; break; }                                                \
            if (words ? (i - i0 != 1 || d[i0] != ' ') : i > 0) *same = 0;                                \
            Py_ssize_t j = i;                                                                            \
            while (j < n && !is_space(d[j])) j++;                                                        \
            if (words++) o++;                                                                            \
            if (Py_UNICODE_ISDIGIT(d[i])) { o += 5; *same = 0; }                                         \
            else {                                                                                       \
                for (Py_ssize_t k = i; k < j; k++) if (d[k] > *maxc) *maxc = d[k];                       \
                o += j - i;                                                                              \
            }                                                                                            \
            i = j;                                                                                       \
        }                                                                                                \
        return o;                                                                                        \
    }
MASK_SCAN(mask_scan1, Py_UCS1)
MASK_SCAN(mask_scan2, Py_UCS2)
MASK_SCAN(mask_scan4, Py_UCS4)

static PyObject *mask_numbers(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), out;
    int kind = PyUnicode_KIND(arg), same;
    const void *d = PyUnicode_DATA(arg);
    Py_UCS4 maxc = 0x7F;
    out = kind == PyUnicode_1BYTE_KIND ? mask_scan1(d, n, &maxc, &same)
        : kind == PyUnicode_2BYTE_KIND ? mask_scan2(d, n, &maxc, &same) : mask_scan4(d, n, &maxc, &same);
    if (same) return Py_NewRef(arg);
    PyObject *res = PyUnicode_New(out, maxc);
    if (!res) return NULL;
    int rk = PyUnicode_KIND(res);
    void *rd = PyUnicode_DATA(res);
    Py_ssize_t o = 0, words = 0;
    for (Py_ssize_t i = 0; i < n;) {
        while (i < n && is_space(PyUnicode_READ(kind, d, i))) i++;
        if (i >= n) break;
        Py_ssize_t j = i;
        while (j < n && !is_space(PyUnicode_READ(kind, d, j))) j++;
        if (words++) PyUnicode_WRITE(rk, rd, o++, ' ');
        if (Py_UNICODE_ISDIGIT(PyUnicode_READ(kind, d, i))) {
            for (int k = 0; k < 5; k++) PyUnicode_WRITE(rk, rd, o++, "<num>"[k]);
        } else {
            for (Py_ssize_t k = i; k < j; k++) PyUnicode_WRITE(rk, rd, o++, PyUnicode_READ(kind, d, k));
        }
        i = j;
    }
    return res;
}

/* growable uint64 array */
typedef struct { uint64_t *v; Py_ssize_t n, cap; } U64s;

static int push(U64s *a, uint64_t x) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? 2 * a->cap : 256;
        uint64_t *g = PyMem_Realloc(a->v, cap * sizeof(uint64_t));
        if (!g) { PyErr_NoMemory(); return -1; }
        a->v = g;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* the hash of one token: its code points as a polynomial in POLY (mod 2^64) plus its length, mixed
 * (gristmill.select.dsir.Featurizer._hashes) */
static uint64_t token_hash(PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *d = PyUnicode_DATA(s);
    uint64_t h = 0, p = 1;
    for (Py_ssize_t i = 0; i < n; i++) { h += (uint64_t)PyUnicode_READ(kind, d, i) * p; p *= POLY; }
    return mix64(h + (uint64_t)n);
}

/* unigrams mix(h ^ salt), then bigrams mix(a * MIX + (b ^ SALT_BI)), each reduced mod buckets, into out
 * (at most room of them); returns how many were written */
#define NGRAMS(REDUCE)                                                                                   \
    do {                                                                                                 \
        for (Py_ssize_t i = 0; i < n && o < room; i++) out[o++] = (uint32_t)REDUCE(mix64(h[i] ^ salt));  \
        for (Py_ssize_t i = 0; i + 1 < n && o < room; i++)                                               \
            out[o++] = (uint32_t)REDUCE(mix64(h[i] * MIX + (h[i + 1] ^ SALT_BI)));                       \
    } while (0)

static Py_ssize_t ngrams(const uint64_t *h, Py_ssize_t n, uint64_t salt, uint64_t buckets, uint32_t *out,
                         Py_ssize_t room) {
    Py_ssize_t o = 0;
    uint64_t mask = buckets - 1;
#define BY_MASK(x) ((x) & mask)
#define BY_MOD(x) ((x) % buckets)
    if ((buckets & mask) == 0) NGRAMS(BY_MASK);  /* a power of two (the default): no division */
    else NGRAMS(BY_MOD);
    return o;
}

/* dsir_features(words, text, buckets, max_features) -> (bytes, n_words, n_chars)
 *   words: None, a list of str (hashed here; empty and whitespace-only ones skipped) or a bytes-like of
 *          uint64 token hashes (the C core's dsir_token_hashes)
 *   text:  None, or the text whose characters (no ASCII controls or spaces, no U+3000) add character
 *          unigrams and bigrams after the word features
 * The bytes are the features as uint32 bucket ids, cut at max_features. */
static PyObject *dsir_features(PyObject *self, PyObject *args) {
    PyObject *words, *text;
    unsigned long long buckets;
    Py_ssize_t max_features;
    if (!PyArg_ParseTuple(args, "OOKn", &words, &text, &buckets, &max_features)) return NULL;
    if (buckets == 0 || buckets > 0x100000000ULL) {
        PyErr_SetString(PyExc_ValueError, "buckets: 1 to 2**32");
        return NULL;
    }
    if (max_features < 0) max_features = 0;
    U64s w = {0}, c = {0};
    Py_buffer view = {0};
    const uint64_t *wh = NULL;
    Py_ssize_t nw = 0;
    PyObject *result = NULL, *bytes = NULL;
    if (words != Py_None && PyObject_CheckBuffer(words)) {
        if (PyObject_GetBuffer(words, &view, PyBUF_SIMPLE) < 0) return NULL;
        if (view.len % 8) { PyErr_SetString(PyExc_ValueError, "uint64 hashes"); goto done; }
        nw = view.len / 8;
        wh = view.buf;  /* native byte order, as the C core writes them and numpy reads them */
    } else if (words != Py_None) {
        PyObject *seq = PySequence_Fast(words, "a list of str, hashes or None");
        if (!seq) goto done;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        PyObject **items = PySequence_Fast_ITEMS(seq);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *t = items[i];
            if (!PyUnicode_Check(t)) { Py_DECREF(seq); PyErr_SetString(PyExc_TypeError, "str tokens"); goto done; }
            if (PyUnicode_GET_LENGTH(t) == 0 || all_space(t)) continue;
            if (push(&w, token_hash(t)) < 0) { Py_DECREF(seq); goto done; }
        }
        Py_DECREF(seq);
        wh = w.v;
        nw = w.n;
    }
    if (text != Py_None) {
        if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "text: a str or None"); goto done; }
        Py_ssize_t n = PyUnicode_GET_LENGTH(text);
        int kind = PyUnicode_KIND(text);
        const void *d = PyUnicode_DATA(text);
        c.v = PyMem_Malloc((n ? n : 1) * sizeof(uint64_t));
        if (!c.v) { PyErr_NoMemory(); goto done; }
        c.cap = n;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 ch = PyUnicode_READ(kind, d, i);
            if (ch > 32 && ch != 0x3000) c.v[c.n++] = ch;
        }
    }
    Py_ssize_t total = (nw ? 2 * nw - 1 : 0) + (c.n ? 2 * c.n - 1 : 0);
    if (total > max_features) total = max_features;
    bytes = PyBytes_FromStringAndSize(NULL, total * (Py_ssize_t)sizeof(uint32_t));
    if (!bytes) goto done;
    uint32_t *out = (uint32_t *)PyBytes_AS_STRING(bytes);
    Py_ssize_t o = ngrams(wh, nw, 0, buckets, out, total);
    o += ngrams(c.v, c.n, SALT_CHAR, buckets, out + o, total - o);
    result = Py_BuildValue("Onn", bytes, nw, c.n);
done:
    Py_XDECREF(bytes);
    if (view.obj) PyBuffer_Release(&view);
    PyMem_Free(w.v);
    PyMem_Free(c.v);
    return result;
}

/* --- sample_text: gristmill.text.langsample.sample_text, step for step ------------------------------------- */

#define SLACK 24  /* langsample._SLACK: how far a cut looks for a space before cutting inside a word */

/* str.find/rfind's reading of (start, end) for a string of length n (negative: from the end; clamped) */
static void py_range(Py_ssize_t n, Py_ssize_t *lo, Py_ssize_t *hi) {
    if (*hi > n) *hi = n;
    else if (*hi < 0) { *hi += n; if (*hi < 0) *hi = 0; }
    if (*lo < 0) { *lo += n; if (*lo < 0) *lo = 0; }
}

static inline int is_cut(Py_UCS4 c) { return c == ' ' || c == '\n'; }

/* langsample._cut: the piece text[start:end] moved inwards to a space or newline at both ends, as (lo, hi) */
static void cut_piece(int kind, const void *d, Py_ssize_t n, Py_ssize_t start, Py_ssize_t end,
                      Py_ssize_t *lo, Py_ssize_t *hi) {
    if (start) {  /* min(text.find(" ", start - 1, start + SLACK), text.find("\n", ...)) when < end */
        Py_ssize_t a = start - 1, b = start + SLACK;
        py_range(n, &a, &b);
        for (Py_ssize_t i = a; i < b; i++)
            if (is_cut(PyUnicode_READ(kind, d, i))) { if (i < end) start = i + 1; break; }
    }
    if (end < n && !is_cut(PyUnicode_READ(kind, d, end))) {  /* max(text.rfind(" ", end - SLACK, end), ...) */
        Py_ssize_t a = end - SLACK, b = end, cut = -1;
        py_range(n, &a, &b);
        for (Py_ssize_t i = b - 1; i >= a; i--)
            if (is_cut(PyUnicode_READ(kind, d, i))) { cut = i; break; }
        if (cut > start) end = cut;
    }
    /* text[start:end] */
    if (end > n) end = n;
    if (start > end) start = end;
    *lo = start;
    *hi = end;
}

/* the widest character of d[lo:hi] (a string of one kind) */
#define MAX_CHAR(NAME, T)                                                                                \
    static Py_UCS4 NAME(const void *d, Py_ssize_t lo, Py_ssize_t hi) {                                   \
        T m = 0;                                                                                         \
        for (const T *p = (const T *)d + lo, *e = (const T *)d + hi; p < e; p++) m = *p > m ? *p : m;    \
        return m;                                                                                        \
    }
MAX_CHAR(max_char1, Py_UCS1)
MAX_CHAR(max_char2, Py_UCS2)
MAX_CHAR(max_char4, Py_UCS4)

/* newlines and carriage returns to spaces, in place (a loop the compiler vectorises) */
#define FLATTEN(T, DATA, LEN)                                                                            \
    do {                                                                                                 \
        T *q_ = (T *)(DATA);                                                                             \
        for (Py_ssize_t i_ = 0; i_ < (LEN); i_++)                                                        \
            q_[i_] = q_[i_] == '\n' || q_[i_] == '\r' ? (T)' ' : q_[i_];                                 \
    } while (0)

/* the pieces (lo, hi) joined by single spaces, newlines and carriage returns as spaces (langsample.flat); the
 * result is as narrow as its widest character, as every str must be */
static PyObject *join_flat(PyObject *text, const Py_ssize_t *r, Py_ssize_t pieces) {
    int kind = PyUnicode_KIND(text);
    const void *d = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), total = pieces - 1;
    for (Py_ssize_t p = 0; p < pieces; p++) total += r[2 * p + 1] - r[2 * p];
    if (pieces == 1 && r[0] == 0 && r[1] == n) {  /* the whole text: itself when it has no line breaks */
        Py_ssize_t i = 0;
        while (i < n) { Py_UCS4 c = PyUnicode_READ(kind, d, i); if (c == '\n' || c == '\r') break; i++; }
        if (i == n && PyUnicode_CheckExact(text)) return Py_NewRef(text);
    }
    Py_UCS4 maxc = ' ';
    if (!PyUnicode_IS_ASCII(text))
        for (Py_ssize_t p = 0; p < pieces; p++) {
            Py_UCS4 m = kind == PyUnicode_1BYTE_KIND ? max_char1(d, r[2 * p], r[2 * p + 1])
                      : kind == PyUnicode_2BYTE_KIND ? max_char2(d, r[2 * p], r[2 * p + 1])
                      : max_char4(d, r[2 * p], r[2 * p + 1]);
            if (m > maxc) maxc = m;
        }
    PyObject *res = PyUnicode_New(total, maxc);
    if (!res) return NULL;
    int rk = PyUnicode_KIND(res);
    void *rd = PyUnicode_DATA(res);
    Py_ssize_t o = 0;
    for (Py_ssize_t p = 0; p < pieces; p++) {
        if (p) PyUnicode_WRITE(rk, rd, o++, ' ');
        Py_ssize_t lo = r[2 * p], hi = r[2 * p + 1];
        if (rk == kind) memcpy((char *)rd + o * kind, (const char *)d + lo * kind, (hi - lo) * kind);
        else for (Py_ssize_t i = lo; i < hi; i++) PyUnicode_WRITE(rk, rd, o + i - lo, PyUnicode_READ(kind, d, i));
        o += hi - lo;  /* (not PyUnicode_CopyCharacters: 3.11 checks Latin-1 into ASCII from the string's start) */
    }
    if (rk == PyUnicode_1BYTE_KIND) FLATTEN(Py_UCS1, rd, total);
    else if (rk == PyUnicode_2BYTE_KIND) FLATTEN(Py_UCS2, rd, total);
    else FLATTEN(Py_UCS4, rd, total);
    return res;
}

static PyObject *sample_one(PyObject *text, Py_ssize_t budget, Py_ssize_t windows) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "texts: str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), one[2] = {0, n};
    if (n <= budget) return join_flat(text, one, 1);
    if (windows > budget) windows = budget;
    if (windows < 1) windows = 1;
    Py_ssize_t width = (budget - windows + 1) / windows;  /* both positive: C's division is Python's // */
    if (windows == 1 || width < 1) { one[1] = budget; return join_flat(text, one, 1); }
    Py_ssize_t *r = PyMem_Malloc(2 * windows * sizeof(Py_ssize_t));
    if (!r) return PyErr_NoMemory();
    int kind = PyUnicode_KIND(text);
    const void *d = PyUnicode_DATA(text);
    double step = (double)(n - width) / (double)(windows - 1);  /* Python's true division, correctly rounded */
    for (Py_ssize_t j = 0; j < windows; j++) {
        Py_ssize_t s = (Py_ssize_t)((double)j * step);  /* int(j * step) */
        cut_piece(kind, d, n, s, s + width, &r[2 * j], &r[2 * j + 1]);
    }
    PyObject *res = join_flat(text, r, windows);
    PyMem_Free(r);
    return res;
}

static int sample_args(Py_ssize_t budget) {
    if (budget < 1) { PyErr_SetString(PyExc_ValueError, "budget: at least 1"); return -1; }
    return 0;
}

static PyObject *sample_text(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t budget, windows = 3;
    if (!PyArg_ParseTuple(args, "On|n", &text, &budget, &windows) || sample_args(budget) < 0) return NULL;
    return sample_one(text, budget, windows);
}

static PyObject *sample_texts(PyObject *self, PyObject *args) {
    PyObject *texts;
    Py_ssize_t budget, windows = 3;
    if (!PyArg_ParseTuple(args, "On|n", &texts, &budget, &windows) || sample_args(budget) < 0) return NULL;
    PyObject *seq = PySequence_Fast(texts, "a list of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *s = sample_one(items[i], budget, windows);
        if (!s) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, s);
    }
    Py_DECREF(seq);
    return out;
}

static PyMethodDef METHODS[] = {
    {"join_words", join_words, METH_O, "' '.join of the tokens that are not whitespace."},
    {"mask_numbers", mask_numbers, METH_O, "Whitespace-split words of a str joined by spaces, '<num>' for those "
                                           "that start with a digit."},
    {"dsir_features", dsir_features, METH_VARARGS, "dsir_features(words, text, buckets, max_features) -> "
                                                   "(uint32 bytes, n_words, n_chars): one document's DSIR features."},
    {"sample_text", sample_text, METH_VARARGS, "sample_text(text, budget, windows=3) -> str: what the language "
                                               "model reads (gristmill.text.langsample.sample_text)."},
    {"sample_texts", sample_texts, METH_VARARGS, "sample_texts(texts, budget, windows=3) -> list[str]: "
                                                 "sample_text of each."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_tokhash", "Token-list joins and hashes in C.", -1,
                                    METHODS, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__tokhash(void) { return PyModule_Create(&MODULE); }

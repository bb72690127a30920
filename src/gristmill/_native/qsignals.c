/* gristmill._qsignals: the quality step's per-document counts in C, in one pass per structure.
 *
 * The Python reference is gristmill.steps.quality.reference_signals; gristmill.text.native composes the
 * same signal values from the counts returned here, and tests/test_quality_native.py checks that the two
 * agree on every document of the shared English and Chinese data. Text is read as code points, so
 * lengths, lines (str.splitlines), whitespace (str.split), letters (str.isalpha) and cases (str.isupper,
 * str.lower) follow Python's definitions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

static unsigned char SYMBOL[8192];  /* BMP bitmap: characters a "symbol word" is made of */
static unsigned char PRE[8192];     /* characters the tokenizer splits off the front of a chunk */
static unsigned char SUF[8192];     /* ... and off its end, one by one, whatever precedes them */
static PyObject *ABBREVS = NULL;    /* words that keep a following "." (Mr., Jan., ...): a frozenset */
static PyObject *CONTRACTIONS = NULL; /* dont, cannot, ...: lower-case words _word splits */
static PyObject *EMOTICONS = NULL;    /* :) ;-) <3 ...: kept whole */
static PyObject *UNITS = NULL;        /* km, kg, GB ...: split off a number */
static PyObject *PIECE = NULL;      /* gristmill.text.words._piece: the tokens of one whitespace chunk */

#define INMAP(m, c) ((c) < 65536 && ((m[(c) >> 3] >> ((c) & 7)) & 1))
#define ISSYM(c) INMAP(SYMBOL, c)
#define FNV0 0xcbf29ce484222325ULL
#define FNVP 0x100000001b3ULL

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x ? x : 1;  /* 0 marks an empty slot */
}

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* a key for the span s[0:n], for equality only (duplicate lines and paragraphs within one text): four lanes
 * of two code points per 64-bit word, so that the multiplications do not wait on one another */
static uint64_t hash_range(const Py_UCS4 *s, Py_ssize_t n) {
    uint64_t a = FNV0, b = 0x9E3779B97F4A7C15ULL, c = 0xC2B2AE3D27D4EB4FULL, d = 0x165667B19E3779F9ULL;
    const uint64_t K = 0x9FB21C651E98DF25ULL;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x0, x1, x2, x3;
        memcpy(&x0, s + i, 8); memcpy(&x1, s + i + 2, 8); memcpy(&x2, s + i + 4, 8); memcpy(&x3, s + i + 6, 8);
        a = rotl64((a ^ x0) * K, 31); b = rotl64((b ^ x1) * K, 31);
        c = rotl64((c ^ x2) * K, 31); d = rotl64((d ^ x3) * K, 31);
    }
    uint64_t h = mix64(a) ^ rotl64(mix64(b), 17) ^ rotl64(mix64(c), 34) ^ rotl64(mix64(d), 51);
    for (; i < n; i++) h = (h ^ s[i]) * FNVP;
    return mix64(h ^ ((uint64_t)n << 40));
}

static inline int is_alpha(Py_UCS4 c) { return c < 128 ? ((c | 32) >= 'a' && (c | 32) <= 'z') : Py_UNICODE_ISALPHA(c); }
static inline int is_decimal(Py_UCS4 c) { return c < 128 ? (c >= '0' && c <= '9') : Py_UNICODE_ISDECIMAL(c); }
static inline int is_digit(Py_UCS4 c) { return c < 128 ? (c >= '0' && c <= '9') : Py_UNICODE_ISDIGIT(c); }
static inline int is_alnum(Py_UCS4 c) {
    return c < 128 ? ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9') : Py_UNICODE_ISALNUM(c);
}

/* str.isspace for one character (Python 3.11's Unicode data: the same 29 characters as Py_UNICODE_ISSPACE) */
#define ASCII_SPACES ((1ULL << ' ') | (0x1FULL << 9) | (0xFULL << 28))  /* bit c: c is an ASCII space */
static inline int is_space(Py_UCS4 c) {
    if (c <= ' ') return (int)((ASCII_SPACES >> c) & 1);
    if (c < 0x85) return 0;
    if (c < 0x2000) return c == 0x85 || c == 0xA0 || c == 0x1680;
    return c <= 0x200A || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* the ASCII characters' classes for signals' character counts: 1 letter, 2 digit, 4 '#', 8 space, 16 '.', 32 '[',
 * 64 '{', 128 'h' or 'w' (a URL may start), 256 '@' */
static uint16_t ACLS[128];
static void acls_init(void) {
    for (int c = 0; c < 128; c++)
        ACLS[c] = (uint16_t)((((c | 32) >= 'a' && (c | 32) <= 'z') ? 1 : 0) | ((c >= '0' && c <= '9') ? 2 : 0) |
                             (c == '#' ? 4 : 0) | (is_space((Py_UCS4)c) ? 8 : 0) | (c == '.' ? 16 : 0) |
                             (c == '[' ? 32 : 0) | (c == '{' ? 64 : 0) | ((c == 'h' || c == 'w') ? 128 : 0) |
                             (c == '@' ? 256 : 0));
}

static inline int is_han(Py_UCS4 c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2EBEF) || (c >= 0x2F800 && c <= 0x2FA1F) ||
           (c >= 0x30000 && c <= 0x3134F) || c == 0x3007;
}

static inline int in_set(Py_UCS4 c, const Py_UCS4 *set) {
    for (; *set; set++) if (*set == c) return 1;
    return 0;
}

/* ---- scratch memory: signals() keeps its blocks between calls (up to SCRATCH_KEEP bytes in all, enough for a
 * text of some 200,000 characters; a longer one's are freed after it), so that a text does not pay for
 * allocating, zeroing and faulting in fresh pages; a call made while another holds them (a callback into
 * Python let another thread in) gets blocks of its own, freed when it ends ---- */
#define SCRATCH_KEEP ((size_t)32 << 20)
enum { S_TEXT, S_BUF, S_LWORDS, S_LALPHA, S_LNS, S_TOK, S_TAB, S_KEYS, S_CUM, S_DF, S_DL, S_DP, S_KB, S_LSTART,
       S_LEND, S_WH, S_WLEN, S_WLH, S_R0, S_R1, S_R2, S_R3, S_R4, S_R5, S_R6, S_R7, S_C0, S_C1, S_C2, S_LCH, S_LLG, S_LFL, S_N };
typedef struct { void *p; size_t cap; } Block;
typedef struct { Block *b; Block own[S_N]; int shared; } Mem;
static Block SCRATCH[S_N];
static int SCRATCH_BUSY = 0;

static void mem_open(Mem *m) {
    memset(m->own, 0, sizeof(m->own));
    m->shared = !SCRATCH_BUSY;
    m->b = m->shared ? SCRATCH : m->own;
    if (m->shared) SCRATCH_BUSY = 1;
}
/* block k with room for bytes (its content kept when keep); NULL with MemoryError */
static void *mem_get(Mem *m, int k, size_t bytes, int keep) {
    Block *b = &m->b[k];
    if (bytes > b->cap) {
        size_t cap = bytes < 1024 ? 1024 : bytes + bytes / 2;
        void *p = keep ? PyMem_Realloc(b->p, cap) : PyMem_Malloc(cap);
        if (!p) { PyErr_NoMemory(); return NULL; }
        if (!keep) PyMem_Free(b->p);
        b->p = p;
        b->cap = cap;
    }
    return b->p;
}
static void *mem_zero(Mem *m, int k, size_t bytes) {
    void *p = mem_get(m, k, bytes, 0);
    if (p) memset(p, 0, bytes);
    return p;
}
static void mem_close(Mem *m) {
    size_t held = 0;
    for (int k = 0; k < S_N; k++) held += m->b[k].cap;
    for (int k = 0; k < S_N; k++)
        if (!m->shared || held > SCRATCH_KEEP) { PyMem_Free(m->b[k].p); m->b[k].p = NULL; m->b[k].cap = 0; }
    if (m->shared) SCRATCH_BUSY = 0;
}

/* ---- hash tables (open addressing, 64-bit keys, 0 = empty; a key and its two values share a cache line) ---- */
typedef struct { uint64_t key; int32_t a, b; } Slot;
typedef struct { Slot *e; size_t mask; int borrowed; } Table;  /* borrowed: e is a scratch block */

static int table_init(Table *t, Py_ssize_t n, int with_values) {
    (void)with_values;
    size_t cap = 16;
    while (cap < (size_t)n * 2 + 2) cap <<= 1;
    t->mask = cap - 1;
    t->e = PyMem_Calloc(cap, sizeof(Slot));
    if (!t->e) { PyErr_NoMemory(); return -1; }
    return 0;
}
static void table_free(Table *t) { if (!t->borrowed) PyMem_Free(t->e); t->e = NULL; }
/* table_init in the scratch block k of m (Mem is defined above) */
static int table_init_mem(Table *t, Py_ssize_t n, Mem *m, int k) {
    size_t cap = 16;
    while (cap < (size_t)n * 2 + 2) cap <<= 1;
    t->mask = cap - 1;
    t->borrowed = 1;
    t->e = mem_zero(m, k, cap * sizeof(Slot));
    return t->e ? 0 : -1;
}
static void table_clear(Table *t) { memset(t->e, 0, (t->mask + 1) * sizeof(Slot)); }
/* slot of key; *fresh = 1 when it was inserted now */
static inline size_t table_slot(Table *t, uint64_t key, int *fresh) {
    size_t i = (size_t)(key ^ (key >> 29)) & t->mask;
    while (t->e[i].key && t->e[i].key != key) i = (i + 1) & t->mask;
    *fresh = t->e[i].key == 0;
    t->e[i].key = key;
    return i;
}

/* asks for key's first slot ahead of table_slot (a lookup PREFETCH keys ahead of its use) */
#define PREFETCH 12
static inline void table_prefetch(const Table *t, uint64_t key) {
    __builtin_prefetch(&t->e[(size_t)(key ^ (key >> 29)) & t->mask], 1);
}

/* ---- words ---- */
typedef struct {
    Py_ssize_t n, cap;
    uint64_t *h;          /* hash of each word */
    int32_t *len;         /* its length in characters */
    uint64_t *lh;         /* hash of the lower-cased form of each non-symbol word */
    Py_ssize_t nl;
    Py_ssize_t nonsym_chars, alpha, caps;
    uint64_t stop_found;
    const uint64_t *stops; Py_ssize_t nstops;
    uint64_t stop_bits[4];  /* the top byte of each stop word's hash: a word without its bit is no stop word */
    Mem *mem;  /* where h, len and lh live */
} Words;

static int words_grow(Words *w) {
    Py_ssize_t cap = w->cap ? w->cap * 2 : 256;
    if (!(w->h = mem_get(w->mem, S_WH, cap * sizeof(uint64_t), 1))) return -1;
    if (!(w->len = mem_get(w->mem, S_WLEN, cap * sizeof(int32_t), 1))) return -1;
    if (!(w->lh = mem_get(w->mem, S_WLH, cap * sizeof(uint64_t), 1))) return -1;
    w->cap = cap;
    return 0;
}

/* the ASCII characters' classes for add_word: 1 a symbol-word character (SYMBOL), 2 a capital, 4 a small letter */
static unsigned char AWORD[128];

/* One word: s[0:n] (code points), or obj when it is a Python str (then s is NULL). src/start give a
 * way to make the word as a str when its lower-cased form needs Python (non-ASCII capitals). */
static int add_word(Words *w, const Py_UCS4 *s, Py_ssize_t n, PyObject *obj, PyObject *src, Py_ssize_t start) {
    if (w->n == w->cap && words_grow(w) < 0) return -1;
    int kind = 0; const void *data = NULL;
    if (!s) { kind = PyUnicode_KIND(obj); data = PyUnicode_DATA(obj); n = PyUnicode_GET_LENGTH(obj); }
    /* lh: the lower-cased form's hash before mixing, with ASCII capitals lowered (the same as h without them) */
    uint64_t h = FNV0, lh = FNV0;
    int all_sym = 1, alpha = 0, upper = 0, notupper = 0, fallback = 0;
    Py_ssize_t i = 0;
    if (s)  /* the ASCII characters at the start (all of them, mostly), as below */
        for (; i < n && s[i] < 128; i++) {
            Py_UCS4 c = s[i];
            unsigned f = AWORD[c];
            h = (h ^ c) * FNVP;
            lh = (lh ^ (c + ((f & 2) << 4))) * FNVP;
            all_sym &= f; upper |= (f >> 1) & 1; notupper |= (f >> 2) & 1; alpha |= (f >> 1) | (f >> 2);
        }
    for (; i < n; i++) {
        Py_UCS4 c = s ? s[i] : PyUnicode_READ(kind, data, i);
        h = (h ^ c) * FNVP;
        if (c < 128) {  /* AWORD: 1 symbol, 2 capital, 4 small letter */
            unsigned f = AWORD[c];
            lh = (lh ^ (c + ((f & 2) << 4))) * FNVP;
            all_sym &= f; upper |= (f >> 1) & 1; notupper |= (f >> 2) & 1; alpha |= (f >> 1) | (f >> 2);
            continue;
        }
        lh = (lh ^ c) * FNVP;
        if (!ISSYM(c)) all_sym = 0;
        if (is_han(c)) {  /* a letter without case (not 〇, U+3007, nor unassigned code points) */
            if ((c >= 0x4E00 && c <= 0x9FFF) || is_alpha(c)) alpha = 1;
        } else {
            if (is_alpha(c)) alpha = 1;
            if (Py_UNICODE_ISUPPER(c)) { upper = 1; fallback = 1; }
            else if (Py_UNICODE_ISTITLE(c)) { notupper = 1; fallback = 1; }
            else if (Py_UNICODE_ISLOWER(c)) notupper = 1;
        }
    }
    h = mix64(h ^ ((uint64_t)n << 40));
    Py_ssize_t k = w->n++;
    w->h[k] = h;
    w->len[k] = (int32_t)n;
    if (alpha) w->alpha++;
    if (upper && !notupper && n > 1) w->caps++;
    if ((w->stop_bits[h >> 62] >> ((h >> 56) & 63)) & 1)
        for (Py_ssize_t i = 0; i < w->nstops; i++)
            if (w->stops[i] == h) w->stop_found |= (uint64_t)1 << i;
    if (!all_sym || n == 0) {
        if (n == 0) return 0;  /* all() of nothing: a symbol word, as in Python */
        w->nonsym_chars += n;
        if (fallback) {  /* str.lower: full case mapping and final sigma */
            PyObject *word = obj;
            if (!word) word = PyUnicode_Substring(src, start, start + n);
            else Py_INCREF(word);
            if (!word) return -1;
            PyObject *low = PyObject_CallMethod(word, "lower", NULL);
            Py_DECREF(word);
            if (!low) return -1;
            int lk = PyUnicode_KIND(low); const void *ld = PyUnicode_DATA(low);
            Py_ssize_t ln = PyUnicode_GET_LENGTH(low);
            lh = FNV0;
            for (Py_ssize_t i = 0; i < ln; i++) lh = (lh ^ PyUnicode_READ(lk, ld, i)) * FNVP;
            Py_DECREF(low);
            lh = mix64(lh ^ ((uint64_t)ln << 40));
        } else {
            lh = mix64(lh ^ ((uint64_t)n << 40));
        }
        w->lh[w->nl++] = lh;
    }
    return 0;
}

/* ---- the spaCy-like tokenizer of gristmill.text.words, for the chunks whose rules are simple ---- */

/* 1 when s[0:n] is in the frozenset (short ASCII strings only); -1 on error */
static int in_frozenset(PyObject *set, const Py_UCS4 *s, Py_ssize_t n) {
    PyObject *str = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, s, n);
    if (!str) return -1;
    int r = PySet_Contains(set, str);
    Py_DECREF(str);
    return r;
}

/* a letters-only word that _word splits (dont, cannot): 1, 0 when not, -1 when Python must decide */
static int contraction(const Py_UCS4 *s, Py_ssize_t n) {
    int nt = n >= 4 && n <= 8 && (s[n - 2] | 32) == 'n' && (s[n - 1] | 32) == 't';
    int cannot = n == 6 && (s[0] | 32) == 'c' && (s[5] | 32) == 't';
    if (!nt && !cannot) return 0;
    char low[9];
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] >= 128) return -1;
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    }
    PyObject *word = PyUnicode_FromStringAndSize(low, n);
    if (!word) { PyErr_Clear(); return -1; }
    int r = PySet_Contains(CONTRACTIONS, word);
    Py_DECREF(word);
    if (r < 0) { PyErr_Clear(); return -1; }
    return r;
}

/* _word's rules for an alphanumeric piece s[0:n]: 0 when it stays one token, k when it splits into s[:k]
 * and s[k:] (ca|nt, can|not, 20|km), -1 when Python must decide */
static Py_ssize_t word_split(const Py_UCS4 *s, Py_ssize_t n) {
    int alpha = 1, digit = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = s[i];
        if (c < 128) {
            if (!((c | 32) >= 'a' && (c | 32) <= 'z')) alpha = 0;
            if (c < '0' || c > '9') digit = 0;
        } else {
            if (!is_alpha(c)) alpha = 0;
            if (!is_digit(c)) digit = 0;
        }
    }
    if (alpha) {
        int r = contraction(s, n);
        if (r <= 0) return r;
        return (n == 6 && (s[0] | 32) == 'c' && (s[2] | 32) == 'n' && (s[3] | 32) == 'n') ? 3 : n - 2;
    }
    if (digit || !is_digit(s[0])) return 0;
    /* a number and a unit: the leftmost unit that ends the word after a decimal digit */
    for (Py_ssize_t k = 1; k < n; k++) {
        if (n - k > 4 || !is_decimal(s[k - 1])) continue;
        int r = in_frozenset(UNITS, s + k, n - k);
        if (r < 0) { PyErr_Clear(); return -1; }
        if (!r) continue;
        for (Py_ssize_t x = 0; x < k; x++) if (!is_digit(s[x])) return 0;
        return k;
    }
    return 0;
}

/* append s's tokens (one or two, see word_split) at offset off; -1 when Python must decide */
static int push_word(const Py_UCS4 *s, Py_ssize_t off, Py_ssize_t n, Py_ssize_t *tok, Py_ssize_t *k) {
    Py_ssize_t cut = word_split(s, n);
    if (cut < 0) return -1;
    if (cut == 0) { tok[(*k)++] = off; tok[(*k)++] = n; }
    else { tok[(*k)++] = off; tok[(*k)++] = cut; tok[(*k)++] = off + cut; tok[(*k)++] = n - cut; }
    return 0;
}

static inline int word_char(Py_UCS4 c) { return c == '_' || is_alnum(c); }

static int all_alnum(const Py_UCS4 *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) if (!is_alnum(s[i])) return 0;
    return n > 0;
}

static int emoticon(const Py_UCS4 *s, Py_ssize_t n) {  /* all of _EMOTICONS have 2-3 characters, one of :;=()< */
    if (n < 2 || n > 3) return 0;
    int cue = 0;
    for (Py_ssize_t i = 0; i < n; i++) cue |= s[i] == ':' || s[i] == ';' || s[i] == '=' || s[i] == '(' || s[i] == ')' || s[i] == '<';
    return cue ? in_frozenset(EMOTICONS, s, n) : 0;
}

static int abbreviation(const Py_UCS4 *s, Py_ssize_t n) {  /* _ABBREV.fullmatch: (?:\p{L}\.)+ | (names)\. */
    if (n >= 2 && n % 2 == 0) {
        int ok = 1;
        for (Py_ssize_t i = 0; i < n && ok; i += 2) ok = is_alpha(s[i]) && s[i + 1] == '.';
        if (ok) return 1;
    }
    if (n >= 3 && n <= 7 && s[n - 1] == '.') return in_frozenset(ABBREVS, s, n - 1);
    return 0;
}

static inline int letter_or_digit(Py_UCS4 c) { return is_alpha(c) || is_decimal(c); }

/* end of the _INFIX match at s[x] (s[0:n] is the chunk's core), 0 when none, -1 when Python must decide */
static Py_ssize_t infix_at(const Py_UCS4 *s, Py_ssize_t n, Py_ssize_t x) {
    Py_UCS4 c = s[x];
    int prev = x > 0;
    Py_UCS4 pc = prev ? s[x - 1] : 0, nc = x + 1 < n ? s[x + 1] : 0;
    if (prev && letter_or_digit(pc)) {
        if (c == '-') {
            Py_ssize_t y = x;
            while (y < n && s[y] == '-') y++;
            if (y < n && is_alpha(s[y])) return y;
        } else if ((c == 0x2013 || c == 0x2014 || c == '~') && nc && is_alpha(nc)) return x + 1;
    }
    if (c == ',' && prev && is_alpha(pc) && nc && is_alpha(nc)) return x + 1;
    if (c == 0xB0) return x + 1;
    if ((c == ':' || c == '<' || c == '>' || c == '=' || c == '/') && prev && letter_or_digit(pc) && nc &&
        is_alpha(nc)) return x + 1;
    if ((c == '-' || c == '+' || c == '*' || c == '^') && prev && is_decimal(pc) && nc &&
        (is_decimal(nc) || nc == '-')) return x + 1;
    if (c == '.' && nc == '.') {
        Py_ssize_t y = x;
        while (y < n && s[y] == '.') y++;
        return y;
    }
    if (c == 0x2026) return x + 1;
    if (c == '.' && prev && nc) {  /* (?<=\p{Ll})\.(?=\p{Lu}): decided here for ASCII neighbours only */
        if (pc >= 128 || nc >= 128) return -1;
        if (pc >= 'a' && pc <= 'z' && nc >= 'A' && nc <= 'Z') return x + 1;
    }
    return 0;
}

/* always inlined, so that strlen of the literal prefixes and suffixes below is a constant */
static inline __attribute__((always_inline)) int starts(const Py_UCS4 *s, Py_ssize_t n, const char *prefix) {
    Py_ssize_t k = (Py_ssize_t)strlen(prefix);
    if (k > n) return 0;
    for (Py_ssize_t i = 0; i < k; i++) if (s[i] != (Py_UCS4)(unsigned char)prefix[i]) return 0;
    return 1;
}

/* [\w.+-]+@[\w-]+(?:\.[\w-]+)+ matches all of s */
static int email(const Py_UCS4 *s, Py_ssize_t n) {
    Py_ssize_t at = 0;
    while (at < n && s[at] != '@') {
        Py_UCS4 c = s[at];
        if (!(word_char(c) || c == '.' || c == '+' || c == '-')) return 0;
        at++;
    }
    if (at == 0 || at == n) return 0;
    Py_ssize_t seg = 0, segs = 0;
    for (Py_ssize_t x = at + 1; x <= n; x++) {
        if (x == n || s[x] == '.') {
            if (seg == 0) return 0;
            segs++;
            seg = 0;
        } else if (word_char(s[x]) || s[x] == '-') seg++;
        else return 0;
    }
    return segs >= 2;
}

static inline int suffix_char(Py_UCS4 c) { return INMAP(SUF, c) || c == '.' || c == 0x2026; }

/* Tokens of the chunk T[i:j] as (start, length) pairs in tok, following gristmill.text.words._chunk;
 * their number, or -1 when the chunk needs the Python rules (URLs, e-mails, and/or, diffstats, numbers
 * with units, contractions without apostrophe). */
static Py_ssize_t simple_chunk(const Py_UCS4 *T, Py_ssize_t i, Py_ssize_t j, Py_ssize_t *tok) {
    Py_ssize_t n = j - i, k = 0, x;
    if (n == 1) { tok[0] = i; tok[1] = 1; return 1; }
    const Py_UCS4 *c = T + i;
    int alnum = 1, special = 0;
    for (x = 0; x < n; x++) {
        Py_UCS4 ch = c[x];
        if (ch == '@' || ch == '/') special = 1;  /* e-mails, URLs, and/or, w/o: Python */
        if (alnum && !(ch < 128 ? ((ch | 32) >= 'a' && (ch | 32) <= 'z') || (ch >= '0' && ch <= '9') : is_alnum(ch))) alnum = 0;
    }
    if (alnum) {  /* _piece: words, numbers */
        if (push_word(c, i, n, tok, &k) < 0) return -1;
        return k / 2;
    }
    for (x = 0; x < n && c[x] == '-'; x++) ;
    if (x == n) { tok[0] = i; tok[1] = n; return 1; }  /* -+ */
    Py_ssize_t url = starts(c, n, "http://") ? 7 : starts(c, n, "https://") ? 8 : starts(c, n, "ftp://") ? 6 :
                     starts(c, n, "www.") ? 4 : 0;
    if (url && n > url) {  /* a URL: one token, without the punctuation that ends it, which follows as a chunk */
        Py_ssize_t e = n;
        while (e > 1 && (c[e - 1] == '.' || c[e - 1] == ',' || c[e - 1] == ';' || c[e - 1] == ':' || c[e - 1] == '!' ||
                         c[e - 1] == '?' || c[e - 1] == ')' || c[e - 1] == ']' || c[e - 1] == '\'' || c[e - 1] == '"')) e--;
        tok[k++] = i; tok[k++] = e;
        if (e == n) return 1;
        Py_ssize_t more = simple_chunk(T, i + e, j, tok + k);
        return more < 0 ? -1 : 1 + more;
    }
    if (special) {
        if ((n == 6 && starts(c, n, "and/or")) || (n == 3 && starts(c, n, "w/o"))) { tok[0] = i; tok[1] = n; return 1; }
        if (email(c, n)) { tok[0] = i; tok[1] = n; return 1; }
    }
    if (c[0] == '+') {  /* a diffstat: each + alone, then the rest */
        for (x = 0; x < n && (c[x] == '+' || c[x] == '-'); x++) ;
        if (x == n) {
            for (x = 0; x < n && c[x] == '+'; x++) { tok[k++] = i + x; tok[k++] = 1; }
            if (x < n) { tok[k++] = i + x; tok[k++] = n - x; }
            return k / 2;
        }
    }
    if (n >= 4 && n % 2 == 0) {  /* (?:\p{L}\.){2,}: one token */
        int dotted = 1;
        for (x = 0; x < n && dotted; x += 2) dotted = is_alpha(c[x]) && c[x + 1] == '.';
        if (dotted) { tok[0] = i; tok[1] = n; return 1; }
    }
    Py_ssize_t p = 0, q = n;
    while (p < n && INMAP(PRE, c[p])) p++;
    for (x = 0; x < p; x++) { tok[k++] = i + x; tok[k++] = 1; }
    /* the end, from the right (kept in tail, as start/length pairs, last first) */
    Py_ssize_t tail[64], nt = 0;
    while (q > p) {
        Py_ssize_t len = q - p;
        int r = emoticon(c + p, len);
        if (r < 0) { PyErr_Clear(); return -1; }
        if (r) break;
        Py_ssize_t cut = -1;
        if (len > 1 && (c[q - 1] == 0x2026 || (c[q - 1] == '.' && c[q - 2] == '.'))) {
            cut = c[q - 1] == 0x2026 ? q - 1 : q - 2;
            while (cut > p && c[cut - 1] == '.') cut--;
        } else if (c[q - 1] == '.') {
            r = abbreviation(c + p, len);
            if (r < 0) { PyErr_Clear(); return -1; }
            if (r) break;
        }
        if (cut < 0 && len > 3 && c[q - 3] == 'n' && (c[q - 2] == '\'' || c[q - 2] == 0x2019) && c[q - 1] == 't') cut = q - 3;
        if (cut < 0 && len > 2) {
            Py_UCS4 a = 0;
            Py_ssize_t e = q;
            if (c[q - 1] == 's' || c[q - 1] == 'd' || c[q - 1] == 'm') e = q - 1;
            else if (len >= 3 && ((c[q - 2] == 'r' && c[q - 1] == 'e') || (c[q - 2] == 'v' && c[q - 1] == 'e') ||
                                 (c[q - 2] == 'l' && c[q - 1] == 'l'))) e = q - 2;
            if (e < q && e - 1 >= p) a = c[e - 1];
            if (a == '\'' || a == 0x2019) {  /* rfind of "'" when the piece holds one, else of "’" */
                Py_UCS4 ap = 0x2019;
                for (x = p; x < q; x++) if (c[x] == '\'') { ap = '\''; break; }
                for (cut = q - 1; cut >= p && c[cut] != ap; cut--) ;
            }
        }
        if (cut < 0 && len >= 2 && c[q - 2] == ')' && c[q - 1] == ':') cut = q - 2;
        if (cut < 0 && suffix_char(c[q - 1])) cut = q - 1;
        if (cut < 0) break;
        if (nt == 64) return -1;
        tail[nt++] = cut; tail[nt++] = q - cut;
        q = cut;
    }
    if (q > p) {  /* the core */
        const Py_UCS4 *core = c + p;
        Py_ssize_t m = q - p;
        if (all_alnum(core, m)) {
            if (push_word(core, i + p, m, tok, &k) < 0) return -1;
        } else {
            int r = emoticon(core, m);
            if (r < 0) { PyErr_Clear(); return -1; }
            if (r) { tok[k++] = i + p; tok[k++] = m; }
            else {
                Py_ssize_t s0 = 0;
                for (x = 0; x < m;) {
                    Py_ssize_t e = infix_at(core, m, x);
                    if (e < 0) return -1;
                    if (e == 0) { x++; continue; }
                    if (x > s0) {
                        if (all_alnum(core + s0, x - s0)) { if (push_word(core + s0, i + p + s0, x - s0, tok, &k) < 0) return -1; }
                        else { tok[k++] = i + p + s0; tok[k++] = x - s0; }
                    }
                    tok[k++] = i + p + x; tok[k++] = e - x;
                    s0 = x = e;
                }
                if (m > s0) {
                    if (all_alnum(core + s0, m - s0)) { if (push_word(core + s0, i + p + s0, m - s0, tok, &k) < 0) return -1; }
                    else { tok[k++] = i + p + s0; tok[k++] = m - s0; }
                }
            }
        }
    }
    for (x = nt - 2; x >= 0; x -= 2) { tok[k++] = i + tail[x]; tok[k++] = tail[x + 1]; }
    return k / 2;
}

/* Tokens of text[a:b] (one line): simple chunks here, the others through Python's cached _piece */
static int tokenize_line(Words *w, const Py_UCS4 *T, Py_ssize_t a, Py_ssize_t b, PyObject *src, Py_ssize_t *tok) {
    Py_ssize_t i = a;
    while (i < b) {
        while (i < b && is_space(T[i])) i++;
        if (i >= b) break;
        Py_ssize_t j = i;
        int letters = 1;  /* ASCII letters only: one word unless a contraction without apostrophe (dont) */
        for (; j < b; j++) {  /* ACLS bit 8: a space, bit 1: a letter */
            Py_UCS4 c = T[j];
            if (c < 128) { if (ACLS[c] & 8) break; letters &= ACLS[c]; }
            else { if (is_space(c)) break; letters = 0; }
        }
        letters &= 1;
        if (letters && (j - i == 1 || contraction(T + i, j - i) == 0)) {
            if (add_word(w, T + i, j - i, NULL, src, i) < 0) return -1;
            i = j;
            continue;
        }
        Py_ssize_t nt = simple_chunk(T, i, j, tok);
        if (nt >= 0) {
            for (Py_ssize_t k = 0; k < nt; k++)
                if (add_word(w, T + tok[2 * k], tok[2 * k + 1], NULL, src, tok[2 * k]) < 0) return -1;
        } else {
            PyObject *chunk = PyUnicode_Substring(src, i, j);
            if (!chunk) return -1;
            PyObject *toks = PyObject_CallOneArg(PIECE, chunk);
            Py_DECREF(chunk);
            if (!toks) return -1;
            if (!PyTuple_Check(toks)) { Py_DECREF(toks); PyErr_SetString(PyExc_TypeError, "_piece must return a tuple"); return -1; }
            for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(toks); k++) {
                if (add_word(w, NULL, 0, PyTuple_GET_ITEM(toks, k), NULL, 0) < 0) { Py_DECREF(toks); return -1; }
            }
            Py_DECREF(toks);
        }
        i = j;
    }
    return 0;
}

/* ---- Gopher repetition over word hashes ---- */
/* Gopher's word n-gram repetition: top[n] (n = 2..4) is the characters of the most frequent n-gram (the first
 * seen of a tie), with the spaces between its words, times its count; dup[n] (n = 5..10) is the characters in
 * repeated n-grams, walking the n-grams in order and jumping past each one seen before (datatrove's
 * find_all_duplicate). An n-gram key is the FNV-style fold of its words' (mixed) hashes.
 * Only the n-grams that can occur twice are hashed: an n-gram at i repeats only where the (n-1)-grams at i and
 * i + 1 both do, so the others are unique and left out. Counted among the rest, each n-gram has the count it has
 * in the whole text, the most frequent one is the same (all unique: the first, once), and the walk finds the same
 * repeats (a unique n-gram is always new). t is empty on entry and on return. -1: out of memory. */
static int repetition(const Words *w, const int32_t *cum, Table *t, long long *top, long long *dup, Mem *m) {
    Py_ssize_t N = w->n;
    for (int n = 2; n <= 10; n++) top[n] = dup[n] = 0;
    if (N < 2) return 0;
    uint64_t *acc = mem_get(m, S_R0, N * sizeof(uint64_t), 0), *key = mem_get(m, S_R1, N * sizeof(uint64_t), 0);
    Py_ssize_t *pos = mem_get(m, S_R2, N * sizeof(Py_ssize_t), 0), *pos2 = mem_get(m, S_R3, N * sizeof(Py_ssize_t), 0);
    size_t *slot = mem_get(m, S_R4, N * sizeof(size_t), 0), *wslot = mem_get(m, S_R5, N * sizeof(size_t), 0);
    unsigned char *rep = mem_zero(m, S_R6, N + 1);
    int rc = -1;
    if (!acc || !key || !pos || !pos2 || !slot || !wslot || !rep) goto out;
    memcpy(acc, w->h, N * sizeof(uint64_t));  /* the 1-grams */
    Py_ssize_t nc = 0;
    for (Py_ssize_t i = 0; i + 1 < N; i++) pos[nc++] = i;  /* 2-grams: all of them */
    for (int n = 2; n <= 10 && N - n + 1 > 0; n++) {
        if (nc == 0) {  /* every n-gram is unique: the first, once */
            if (n <= 4) top[n] = cum[n] - cum[0] + n - 1;
            continue;
        }
        Table small = {0}, *u = t;  /* few n-grams left: a table of their size, whose slots stay in cache */
        if ((size_t)nc * 8 < t->mask + 1) {
            if (table_init_mem(&small, nc, m, S_R7) < 0) goto out;
            u = &small;
        }
        int32_t best = 0; Py_ssize_t bpos = 0;
        for (Py_ssize_t c = 0; c < nc; c++) {  /* the keys */
            Py_ssize_t i = pos[c];
            acc[i] = (acc[i] * FNVP) ^ w->h[i + n - 1];
            key[c] = acc[i] ? acc[i] : 1;  /* acc's low bits are a word hash's, mixed: a key as it is (0: empty) */
        }
        for (Py_ssize_t c = 0; c < nc; c++) {  /* count, in text order */
            Py_ssize_t i = pos[c];
            if (c + PREFETCH < nc) table_prefetch(u, key[c + PREFETCH]);
            int fresh;
            size_t sl = table_slot(u, key[c], &fresh);
            if (fresh) { u->e[sl].a = 0; u->e[sl].b = (int32_t)i; }
            int32_t k = ++u->e[sl].a;
            if (k > best || (k == best && u->e[sl].b < bpos)) { best = k; bpos = u->e[sl].b; }
            slot[c] = sl;
        }
        for (Py_ssize_t c = 0; c < nc; c++) rep[pos[c]] = u->e[slot[c]].a > 1;
        if (n <= 4) {
            if (best < 2) { best = 1; bpos = 0; }  /* every n-gram once: the first */
            top[n] = (long long)(cum[bpos + n] - cum[bpos] + n - 1) * best;
        }
        if (u == t) for (Py_ssize_t c = 0; c < nc; c++) u->e[slot[c]].key = 0;  /* empty again */
        else table_clear(u);
        if (n >= 5 && N - n + 1 > 1) {  /* dup_chars's walk: jump past each repeat */
            Py_ssize_t idx = 0, nw = 0;
            long long sum = 0;
            for (Py_ssize_t c = 0; c < nc; c++) {
                Py_ssize_t i = pos[c];
                if (c + PREFETCH < nc) table_prefetch(u, key[c + PREFETCH]);
                if (i < idx || !rep[i]) continue;
                int fresh;
                size_t sl = table_slot(u, key[c], &fresh);
                if (fresh) { wslot[nw++] = sl; idx = i + 1; }
                else { sum += cum[i + n] - cum[i]; idx = i + n; }
            }
            for (Py_ssize_t x = 0; x < nw; x++) u->e[wslot[x]].key = 0;
            dup[n] = sum;
        }
        if (u != t) table_free(&small);
        Py_ssize_t nn = 0;  /* the (n+1)-grams that can repeat */
        for (Py_ssize_t c = 0; c < nc; c++) {
            Py_ssize_t i = pos[c];
            pos2[nn] = i;
            nn += (i + n < N) & rep[i] & rep[i + 1];  /* rep[N] is 0 */
        }
        for (Py_ssize_t c = 0; c < nc; c++) rep[pos[c]] = 0;
        Py_ssize_t *tmp = pos; pos = pos2; pos2 = tmp;
        nc = nn;
    }
    rc = 0;
out:
    return rc;
}

/* ---- lines ---- */
typedef struct { Py_ssize_t *start, *end; Py_ssize_t n; Mem *mem; } Lines;  /* mem: where start and end live, or NULL */

static int lines_push(Lines *L, Py_ssize_t *cap, Py_ssize_t start, Py_ssize_t end) {
    if (L->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        Py_ssize_t *a = L->mem ? mem_get(L->mem, S_LSTART, *cap * sizeof(Py_ssize_t), 1)
                               : PyMem_Realloc(L->start, *cap * sizeof(Py_ssize_t));
        if (!a) { if (!L->mem) PyErr_NoMemory(); return -1; }
        L->start = a;
        a = L->mem ? mem_get(L->mem, S_LEND, *cap * sizeof(Py_ssize_t), 1) : PyMem_Realloc(L->end, *cap * sizeof(Py_ssize_t));
        if (!a) { if (!L->mem) PyErr_NoMemory(); return -1; }
        L->end = a;
    }
    L->start[L->n] = start;
    L->end[L->n] = end;
    L->n++;
    return 0;
}

#define LINEBREAKS ((0xFULL << 10) | (0x7ULL << 28))  /* bit c: the ASCII character c breaks a line */
static int split_lines(const Py_UCS4 *T, Py_ssize_t len, Lines *L) {  /* str.splitlines() */
    Py_ssize_t cap = 0, s = 0, i = 0;
    L->n = 0;
    while (i < len) {
        /* four characters at a time while none can break a line: 31..0x84 (the usual ASCII), or above 0x85 but
         * not U+2028 or U+2029 */
#define PLAIN(c) ((c) - 31u < 0x85u - 31u || ((c) > 0x85u && ((c) | 1u) != 0x2029u))
        while (i + 4 <= len && PLAIN(T[i]) & PLAIN(T[i + 1]) & PLAIN(T[i + 2]) & PLAIN(T[i + 3])) i += 4;
#undef PLAIN
        if (i >= len) break;
        Py_UCS4 c = T[i];
        /* \n \v \f \r, \x1c-\x1e, U+0085, U+2028, U+2029: Py_UNICODE_ISLINEBREAK */
        if (c < 31 ? (LINEBREAKS >> c) & 1 : c >= 0x85 && (c == 0x85 || c == 0x2028 || c == 0x2029)) {
            if (lines_push(L, &cap, s, i) < 0) return -1;
            i += (c == '\r' && i + 1 < len && T[i + 1] == '\n') ? 2 : 1;
            s = i;
        } else i++;
    }
    if (s < len && lines_push(L, &cap, s, len) < 0) return -1;
    return 0;
}

/* find_duplicates over segments: adds (number seen before, their characters) */
typedef struct { Table t; Py_ssize_t dups, chars, items; } Dups;
static void dups_add(Dups *d, const Py_UCS4 *s, Py_ssize_t n) {
    int fresh;
    table_slot(&d->t, hash_range(s, n), &fresh);
    d->items++;
    if (!fresh) { d->dups++; d->chars += n; }
}

static const Py_UCS4 CLOSERS[] = {'\'', '"', ')', ']', 0x2019, 0x201D, 0x300D, 0x300F, 0};
static const Py_UCS4 FULLSTOPS[] = {0x3002, 0xFF01, 0xFF1F, 0};

static int sent_lookahead(const Py_UCS4 *s, Py_ssize_t n, Py_ssize_t q) {  /* (?=\s+\S|(?<=[。！？])\S) */
    if (q < n && is_space(s[q])) {
        Py_ssize_t j = q;
        while (j < n && is_space(s[j])) j++;
        if (j < n) return 1;
    }
    return q > 0 && q < n && in_set(s[q - 1], FULLSTOPS) && !is_space(s[q]);
}

static inline int is_word_char(Py_UCS4 c) { return c == '_' || is_alnum(c); }
#define AZ(c) ((c) >= 'A' && (c) <= 'Z')

/* matches of C4's sentence-end pattern (gristmill.text.c4._SENT_END), as re.findall counts them */
static Py_ssize_t sentence_ends(const Py_UCS4 *s, Py_ssize_t n) {
    Py_ssize_t count = 0, p = 0;
    while (p < n) {
        Py_UCS4 c = s[p];
        if (c < 128 ? c != '.' && c != '!' && c != '?' : c != 0x3002 && c != 0xFF01 && c != 0xFF1F) { p++; continue; }
        int cls = c == '.' ? 1 : (c == '!' || c == '?') ? 2 : in_set(c, FULLSTOPS) ? 3 : 0;
        if (cls == 1) {
            if (p > 0 && AZ(s[p - 1])) cls = 0;
            else if (p >= 2 && AZ(s[p - 2]) && s[p - 1] >= 'a' && s[p - 1] <= 'z' &&
                     (p == 2 || !is_word_char(s[p - 3]))) cls = 0;
        }
        if (!cls) { p++; continue; }
        Py_ssize_t e = p;
        while (e < n && (cls == 1 ? s[e] == '.' : cls == 2 ? (s[e] == '!' || s[e] == '?') : in_set(s[e], FULLSTOPS))) e++;
        Py_ssize_t c_end = e;
        while (c_end < n && in_set(s[c_end], CLOSERS)) c_end++;
        Py_ssize_t found = -1;
        for (Py_ssize_t q = c_end; q >= e; q--) if (sent_lookahead(s, n, q)) { found = q; break; }
        if (found < 0 && cls == 3)
            for (Py_ssize_t q = e - 1; q > p; q--) if (sent_lookahead(s, n, q)) { found = q; break; }
        if (found >= 0) { count++; p = found; }
        else p++;
    }
    return count;
}

static inline __attribute__((always_inline)) int ends_with(const Py_UCS4 *s, Py_ssize_t n, const char *suffix) {
    Py_ssize_t k = (Py_ssize_t)strlen(suffix);
    if (k > n) return 0;
    for (Py_ssize_t i = 0; i < k; i++) if (s[n - k + i] != (Py_UCS4)(unsigned char)suffix[i]) return 0;
    return 1;
}

static inline Py_UCS4 lower1(Py_UCS4 c) {  /* str.lower for the ASCII phrases searched below */
    if (c < 128) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0x4E00 && c <= 0x9FFF) return c;  /* the common Han block: no case */
    if (c == 0x130) return 0;  /* İ becomes two characters; neither ends a phrase searched here */
    return Py_UNICODE_TOLOWER(c);
}

static inline int phrase_at(const Py_UCS4 *s, Py_ssize_t n, Py_ssize_t i, const char *needle, Py_ssize_t k) {
    if (i + k > n) return 0;
    Py_ssize_t j = 1;
    while (j < k && lower1(s[i + j]) == (Py_UCS4)needle[j]) j++;
    return j == k;
}

static const char *POLICY[] = {"terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                               "use cookies", NULL};
enum { C4_LOREM = 1, C4_JS = 2, C4_POLICY = 4 };
/* the ASCII characters a phrase below starts with, either case, and the second character of each of those phrases */
static const unsigned char PHRASE_START[128] = {['l'] = 'o', ['j'] = 'a', ['t'] = 'e', ['p'] = 'r', ['c'] = 'o', ['u'] = 's',
                                                ['L'] = 'o', ['J'] = 'a', ['T'] = 'e', ['P'] = 'r', ['C'] = 'o', ['U'] = 's'};

/* which of C4's phrases the line s[0:n], lower-cased, contains ("lorem ipsum", "javascript", the POLICY
 * phrases), in one scan */
static int c4_phrases(const Py_UCS4 *s, Py_ssize_t n) {
    int found = 0;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {  /* every phrase has 10 or more characters */
        /* no phrase starts here: an ASCII character that starts none, or without the second character that all of
         * those it starts have (phrase_at compares that one the same way: lower1 makes no other character ASCII
         * but K, KELVIN SIGN, which is no second character) */
        Py_UCS4 a = s[i], b = s[i + 1];
        if (a < 128 && (b >= 128 || (Py_UCS4)PHRASE_START[a] != (b | ((b >= 'A' && b <= 'Z') << 5)))) continue;
        Py_UCS4 c = lower1(s[i]);
        switch (c) {
        case 'l': if (phrase_at(s, n, i, "lorem ipsum", 11)) found |= C4_LOREM; break;
        case 'j': if (phrase_at(s, n, i, "javascript", 10)) found |= C4_JS; break;
        case 't': case 'p': case 'c': case 'u':
            for (int q = 0; POLICY[q]; q++)
                if ((Py_UCS4)POLICY[q][0] == c && phrase_at(s, n, i, POLICY[q], (Py_ssize_t)strlen(POLICY[q])))
                    found |= C4_POLICY;
            break;
        default: break;
        }
    }
    return found;
}
static const Py_UCS4 END_ZH[] = {0x3002, 0xFF01, 0xFF1F, 0x2026, 0x201D, 0x300D, 0x300F, 0xFF0E, 0xFF1B, 0};
static const Py_UCS4 TERMINAL[] = {'!', '.', '?', 0x2026, 0x3002, 0xFF01, 0xFF1F, 0xFF0E, 0xFF61, 0x061F, 0x0964,
                                   0x0965, 0x203C, 0x203D, 0x2047, 0x2048, 0x2049, 0xFE12, 0xFE52, 0xFE56, 0xFE57, 0};
static const Py_UCS4 ZH_PUNCT[] = {0xFF0C, 0x3002, 0xFF01, 0xFF1F, 0xFF1B, 0xFF1A, 0x3001, 0x201C, 0x201D, 0x2018,
                                   0x2019, 0xFF08, 0xFF09, 0x300A, 0x300B, 0x3010, 0x3011, 0x300C, 0x300D, 0x300E,
                                   0x300F, 0x2026, 0x2014, 0xFF5E, 0x00B7, 0};

/* C4 citation markers: \[\d*]|\[edit]|\[citation needed], removed in place; returns how many */
static Py_ssize_t remove_citations(Py_UCS4 *s, Py_ssize_t *n) {
    Py_ssize_t r = 0, w = 0, k = 0, len = *n;
    static const char *WORDS[] = {"edit]", "citation needed]", NULL};
    static const Py_ssize_t WORD_LEN[] = {5, 16};
    while (r < len) {
        if (s[r] == '[') {
            Py_ssize_t j = r + 1;
            while (j < len && is_decimal(s[j])) j++;
            Py_ssize_t end = -1;
            if (j < len && s[j] == ']') end = j + 1;
            for (int q = 0; end < 0 && WORDS[q]; q++) {
                Py_ssize_t m = WORD_LEN[q];
                if (r + 1 + m <= len) {
                    Py_ssize_t x = 0;
                    while (x < m && s[r + 1 + x] == (Py_UCS4)WORDS[q][x]) x++;
                    if (x == m) end = r + 1 + m;
                }
            }
            if (end >= 0) { k++; r = end; continue; }
        }
        s[w++] = s[r++];
    }
    *n = w;
    return k;
}

/* the end of a match of (?:https?://|www\.)\S+ at T[p], -1 when none starts there */
static Py_ssize_t url_at(const Py_UCS4 *T, Py_ssize_t n, Py_ssize_t p) {
    Py_ssize_t e = -1;
    if (T[p] == 'h' && p + 4 <= n && T[p + 1] == 't' && T[p + 2] == 't' && T[p + 3] == 'p') {
        Py_ssize_t k = p + 4;
        if (k < n && T[k] == 's') k++;
        if (k + 3 <= n && T[k] == ':' && T[k + 1] == '/' && T[k + 2] == '/') e = k + 3;
        if (e >= 0 && !(e < n && !is_space(T[e]))) e = -1;
    }
    if (e < 0 && T[p] == 'w' && p + 4 <= n && T[p + 1] == 'w' && T[p + 2] == 'w' && T[p + 3] == '.') {
        e = p + 4;
        if (!(e < n && !is_space(T[e]))) e = -1;
    }
    if (e >= 0) while (e < n && !is_space(T[e])) e++;
    return e;
}

/* matches of [\w.+-]+@[\w-]+\.[\w.-]+ (re.findall): each '@' in turn, with the longest run before it that
 * starts after the previous match; after it, a run of [\w-], a '.', and a run of [\w.-] */
static Py_ssize_t count_emails(const Py_UCS4 *T, Py_ssize_t n) {
    Py_ssize_t count = 0, last = 0;
    for (Py_ssize_t at = 0; at < n; at++) {
        if (T[at] != '@' || at < last) continue;
        Py_ssize_t s = at;
        while (s > last && (word_char(T[s - 1]) || T[s - 1] == '.' || T[s - 1] == '+' || T[s - 1] == '-')) s--;
        if (s == at) continue;
        Py_ssize_t r = at + 1;
        while (r < n && (word_char(T[r]) || T[r] == '-')) r++;
        if (r == at + 1 || r >= n || T[r] != '.') continue;
        Py_ssize_t e = r + 1;
        while (e < n && (word_char(T[e]) || T[e] == '.' || T[e] == '-')) e++;
        if (e == r + 1) continue;
        count++;
        last = e;
    }
    return count;
}

#include "prose_lines.c"  /* line_kinds, line_parts and their helpers */

/* signals' one pass over the characters: the counts over the text, and each line's runs without a space */
typedef struct {
    long long hashes, ellipsis, letters, digits, spaces, nonspace, han, zpunct, urls, ats;
    Py_ssize_t run, lmax, chunks, url_end;  /* the current run; the line's longest and how many */
    int flags;  /* the line's: 1 a letter (str.isalpha), 32 a '[', 64 a '{' */
} Scan;

/* T[*ip] into S; *ip moves past the rest of a "..." */
static inline __attribute__((always_inline)) void scan_char(Scan *S, const Py_UCS4 *T, Py_ssize_t n, Py_ssize_t *ip) {
    Py_ssize_t i = *ip;
    Py_UCS4 c = T[i];
    if (c < 128) {  /* without branches, but for "...", URLs and e-mails */
        unsigned f = ACLS[c], sp = (f >> 3) & 1;
        S->letters += f & 1; S->digits += (f >> 1) & 1; S->hashes += (f >> 2) & 1;
        S->spaces += sp; S->nonspace += sp ^ 1;
        if (S->run > S->lmax) S->lmax = S->run;
        S->chunks += (S->run == 0) & (sp ^ 1);
        S->run = sp ? 0 : S->run + 1;
        S->flags |= f & (1 | 32 | 64);
        if (f & (16 | 128 | 256)) {
            if ((f & 16) && i + 2 < n && T[i + 1] == '.' && T[i + 2] == '.') {
                S->ellipsis++; S->nonspace += 2; S->run += 2; *ip = i + 2;
            }
            if ((f & 128) && i >= S->url_end) {  /* count_urls's matches: each starts after the one before */
                Py_ssize_t e = url_at(T, n, i);
                if (e >= 0) { S->urls++; S->url_end = e; }
            }
            S->ats += f >> 8;
        }
        return;
    }
    if (c >= 0x4E00 && c <= 0x9FFF) {  /* the common Han block */
        S->nonspace++; S->letters++; S->han++;
        S->chunks += S->run == 0;
        S->run++;
        if (!(S->flags & 1)) S->flags |= is_alpha(c);
        return;
    }
    int sp = is_space(c), alpha = is_alpha(c);
    if (sp) { S->spaces += c < 65536; if (S->run > S->lmax) S->lmax = S->run; S->run = 0; }
    else { S->nonspace++; S->chunks += S->run == 0; S->run++; }
    S->flags |= alpha;
    if (c < 65536) { if (alpha) S->letters++; if (is_digit(c)) S->digits++; }
    if (c == 0x2026) S->ellipsis++;
    if (is_han(c)) { S->han++; if (c >= 65536) S->letters++; }
    if (!sp && (c == 0xB7 || (c >= 0x2014 && c <= 0x3011) || (c >= 0xFF01 && c <= 0xFF5E)) && in_set(c, ZH_PUNCT))
        S->zpunct++;  /* the ranges ZH_PUNCT lies in first */
}

#define N_OUT 63


/* may follow the terminal mark at the end of a prose line: gristmill.steps.quality.PROSE_CLOSERS */
static const Py_UCS4 PROSE_CLOSERS[] = {'"', '\'', ')', ']', 0xFF09, 0x300D, 0x300F, 0x2019, 0x201D, 0};

/* signals(text, zh, words, stops, recount, zh_min_han) -> tuple of counts (see gristmill.text.native for the
 * layout); with zh_min_han >= 0, the prose counts too: over the lines gristmill.text.prose.line_kinds measures,
 * and the Han share over those not in another script (line_languages, with this zh_min_han) */
static PyObject *signals(PyObject *self, PyObject *args) {
    PyObject *text, *wordlist, *recount;
    int zh;
    double zmin = -1.0;
    Py_buffer stopbuf;
    if (!PyArg_ParseTuple(args, "UpOy*O|d", &text, &zh, &wordlist, &stopbuf, &recount, &zmin)) return NULL;
    PyObject *result = NULL;
    Py_UCS4 *T = NULL, *buf = NULL;
    Mem mem;
    mem_open(&mem);
    Words W = {0};
    W.mem = &mem;
    Lines L = {0};
    L.mem = &mem;
    Table tab = {0};
    Dups dl = {0}, dp = {0}, df = {0};
    Py_ssize_t *line_words = NULL, *line_alpha = NULL, *line_ns = NULL, *tokbuf = NULL;
    char *kb = NULL;
    uint64_t *keys = NULL;
    int32_t *cum = NULL;
    long long out[N_OUT];
    double entropy = 0.0;
    memset(out, 0, sizeof(out));
    W.stops = stopbuf.buf;
    W.nstops = stopbuf.len / 8;
    if (W.nstops > 64) W.nstops = 64;
    for (Py_ssize_t i = 0; i < W.nstops; i++) W.stop_bits[W.stops[i] >> 62] |= (uint64_t)1 << ((W.stops[i] >> 56) & 63);

    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    T = mem_get(&mem, S_TEXT, (n + 1) * sizeof(Py_UCS4), 0);
    if (!T || !PyUnicode_AsUCS4(text, T, n + 1, 1)) goto done;
    if (split_lines(T, n, &L) < 0) goto done;
    line_words = mem_zero(&mem, S_LWORDS, (L.n + 1) * sizeof(Py_ssize_t));
    line_alpha = mem_zero(&mem, S_LALPHA, (L.n + 1) * sizeof(Py_ssize_t));
    line_ns = mem_get(&mem, S_LNS, (L.n + 1) * sizeof(Py_ssize_t), 0);  /* non-space characters of each line */
    Py_ssize_t *line_chunks = mem_get(&mem, S_LCH, (L.n + 1) * sizeof(Py_ssize_t), 0);  /* its runs without a space */
    Py_ssize_t *line_longest = mem_get(&mem, S_LLG, (L.n + 1) * sizeof(Py_ssize_t), 0);  /* the longest */
    unsigned char *line_flags = mem_get(&mem, S_LFL, L.n + 1, 0);  /* Scan.flags */
    if (!line_words || !line_alpha || !line_ns || !line_chunks || !line_longest || !line_flags) goto done;

    /* characters, and each line's runs without a space (a chunk has at most as many tokens as characters): the
     * line breaks between the lines, and each line */
    Scan S;
    memset(&S, 0, sizeof(S));
    Py_ssize_t longest = 0, pos = 0;
    for (Py_ssize_t li = 0;; li++) {
        for (Py_ssize_t e = li < L.n ? L.start[li] : n, i = pos; i < e; i++) scan_char(&S, T, n, &i);
        if (li == L.n) break;
        long long ns0 = S.nonspace;
        S.lmax = S.chunks = 0; S.flags = 0;  /* S.run is 0: the text's start, or after a line break */
        for (Py_ssize_t i = L.start[li], e = L.end[li]; i < e; i++) scan_char(&S, T, n, &i);
        if (S.run > S.lmax) S.lmax = S.run;
        line_ns[li] = (Py_ssize_t)(S.nonspace - ns0);
        line_chunks[li] = S.chunks;
        line_longest[li] = S.lmax;
        line_flags[li] = (unsigned char)S.flags;
        if (S.lmax > longest) longest = S.lmax;
        pos = L.end[li];
    }
    long long hashes = S.hashes, ellipsis = S.ellipsis, letters = S.letters, digits = S.digits, spaces = S.spaces,
              nonspace = S.nonspace, han = S.han, zpunct = S.zpunct;

    /* words, and how many fall on each line */
    if (!zh) {
        tokbuf = mem_get(&mem, S_TOK, (2 * longest + 2) * sizeof(Py_ssize_t), 0);
        if (!tokbuf) goto done;
        for (Py_ssize_t li = 0; li < L.n; li++) {
            Py_ssize_t before = W.n, alpha_before = W.alpha;
            if (tokenize_line(&W, T, L.start[li], L.end[li], text, tokbuf) < 0) goto done;
            line_words[li] = W.n - before;
            line_alpha[li] = W.alpha - alpha_before;
        }
    } else {
        PyObject *seq = PySequence_Fast(wordlist, "words must be a list");
        if (!seq) goto done;
        Py_ssize_t pos = 0, li = 0;
        for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(seq); k++) {
            PyObject *tok = PySequence_Fast_GET_ITEM(seq, k);
            if (!PyUnicode_Check(tok)) { Py_DECREF(seq); PyErr_SetString(PyExc_TypeError, "words must be str"); goto done; }
            Py_ssize_t tl = PyUnicode_GET_LENGTH(tok);
            int kind = PyUnicode_KIND(tok); const void *data = PyUnicode_DATA(tok);
            int space = tl > 0;
            for (Py_ssize_t i = 0; i < tl && space; i++) if (!is_space(PyUnicode_READ(kind, data, i))) space = 0;
            if (!space) {
                while (li < L.n && pos >= (li + 1 < L.n ? L.start[li + 1] : n)) li++;
                Py_ssize_t alpha_before = W.alpha;
                if (add_word(&W, NULL, 0, tok, NULL, 0) < 0) { Py_DECREF(seq); goto done; }
                if (li < L.n) { line_words[li]++; line_alpha[li] += W.alpha - alpha_before; }
            }
            pos += tl;
        }
        Py_DECREF(seq);
        if (pos != n) { PyErr_SetString(PyExc_ValueError, "the words do not cover the text"); goto done; }
    }

    /* Gopher repetition */
    if (table_init_mem(&tab, W.n + 1, &mem, S_TAB) < 0) goto done;
    keys = mem_get(&mem, S_KEYS, (W.n + 1) * sizeof(uint64_t), 0);
    cum = mem_get(&mem, S_CUM, (W.n + 1) * sizeof(int32_t), 0);
    if (!keys || !cum) goto done;
    cum[0] = 0;  /* cum[i] = characters of the first i words */
    for (Py_ssize_t i = 0; i < W.n; i++) cum[i + 1] = cum[i] + W.len[i];
    {
        long long top[11], dup[11];
        if (repetition(&W, cum, &tab, top, dup, &mem) < 0) goto done;
        for (int k = 2; k <= 4; k++) out[17 + k - 2] = top[k];
        for (int k = 5; k <= 10; k++) out[20 + k - 5] = dup[k];
    }

    /* unique words and entropy over lower-cased non-symbol words, in first-seen order */
    if (W.nl) {
        table_clear(&tab);
        int32_t *order = (int32_t *)keys;  /* reuse: slot of each distinct word, first seen first */
        Py_ssize_t distinct = 0;
        for (Py_ssize_t i = 0; i < W.nl; i++) {
            int fresh;
            if (i + PREFETCH < W.nl) table_prefetch(&tab, W.lh[i + PREFETCH]);
            size_t s = table_slot(&tab, W.lh[i], &fresh);
            if (fresh) { tab.e[s].a = 0; order[distinct++] = (int32_t)s; }
            tab.e[s].a++;
        }
        double sum = 0.0, total = (double)W.nl;
        for (Py_ssize_t i = 0; i < distinct; i++) {
            double p = (double)tab.e[order[i]].a / total;
            sum += p * log(p);
        }
        entropy = -sum;
        out[42] = distinct;
    }

    /* lines: Gopher bullets and ellipses, C4 rules, FineWeb on the lines C4 keeps, Chinese line lengths */
    buf = mem_get(&mem, S_BUF, (n + 1) * sizeof(Py_UCS4), 0);
    if (!buf) goto done;
    if (table_init_mem(&df.t, L.n + 1, &mem, S_DF) < 0) goto done;
    long long bullets = 0, ell_lines = 0, zh_lines = 0, zh_line_chars = 0;
    long long c4_kept = 0, sentences = 0, no_term = 0, lorem = 0, curly = 0, js = 0, policy = 0, cites = 0;
    long long fw_punct = 0, fw_short = 0, fw_chars = 0, fw_words = 0;
    for (Py_ssize_t li = 0; li < L.n; li++) {
        Py_ssize_t a = L.start[li], b = L.end[li];
        while (a < b && is_space(T[a])) a++;
        while (b > a && is_space(T[b - 1])) b--;
        Py_ssize_t len = b - a;
        if (len) {
            if (T[a] == 0x2022 || T[a] == '-') bullets++;
            if (T[b - 1] == 0x2026 || ends_with(T + a, len, "...")) ell_lines++;
            zh_lines++;
            zh_line_chars += len;
        }
        /* C4: the line's runs without a space (chunks), from the scan */
        Py_ssize_t chunks = line_chunks[li];
        int bracket = line_flags[li] & 32, brace = line_flags[li] & 64;  /* a '[' (a citation to remove?), a '{' */
        if (len > 1000 && line_longest[li] > 1000) continue;
        const Py_UCS4 *line = T + a;  /* the line, or its copy without citations */
        Py_ssize_t m = len;
        int cited = 0;
        if (bracket) {
            memcpy(buf, T + a, len * sizeof(Py_UCS4));
            Py_ssize_t k = remove_citations(buf, &m);
            cites += k;
            cited = k > 0;
            line = buf;
        }
        int ends = m > 0 && (line[m - 1] == '.' || line[m - 1] == '?' || line[m - 1] == '!' || line[m - 1] == '"' ||
                             line[m - 1] == '\'' || (zh && in_set(line[m - 1], END_ZH)));
        if (!ends || ends_with(line, m, "...")) { no_term++; continue; }
        Py_ssize_t nw = zh ? line_words[li] : chunks;
        Py_ssize_t recounted = -1;
        if (cited) {  /* the words of the changed line */
            PyObject *s = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, line, m);
            if (!s) goto done;
            PyObject *r = PyObject_CallOneArg(recount, s);
            Py_DECREF(s);
            if (!r) goto done;
            recounted = PyLong_AsSsize_t(r);
            Py_DECREF(r);
            if (recounted < 0 && PyErr_Occurred()) goto done;
            if (zh) nw = recounted;
        }
        if (nw < 3) continue;
        int found = c4_phrases(line, m);
        if (found & C4_LOREM) lorem = 1;
        if (found & C4_JS) { js++; continue; }
        if (brace) curly = 1;  /* a '{' of the line (citations have none) */
        if (found & C4_POLICY) { policy++; continue; }
        sentences += sentence_ends(line, m) + 1;
        /* kept: FineWeb's line signals on it ("\n".join(kept).strip() only strips the first one) */
        const Py_UCS4 *kb = line; Py_ssize_t km = m;
        if (c4_kept == 0) while (km > 0 && is_space(kb[0])) { kb++; km--; }
        c4_kept++;
        if (in_set(kb[km - 1], TERMINAL)) fw_punct++;
        if (km <= 30) fw_short++;
        fw_chars += km;
        dups_add(&df, kb, km);
        fw_words += cited ? recounted : line_words[li];
    }

    /* Gopher repetition of lines (re.split("\n+")) and paragraphs (re.split("\n{2,}") of the stripped text) */
    if (table_init_mem(&dl.t, L.n + 2, &mem, S_DL) < 0) goto done;
    {
        Py_ssize_t s = 0;
        for (;;) {  /* wchar_t is UCS-4 here (checked at import): wmemchr finds the next newline */
            const Py_UCS4 *nl = s < n ? (const Py_UCS4 *)wmemchr((const wchar_t *)T + s, L'\n', n - s) : NULL;
            if (!nl) { dups_add(&dl, T + s, n - s); break; }
            Py_ssize_t i = nl - T;
            dups_add(&dl, T + s, i - s);
            while (i < n && T[i] == '\n') i++;
            s = i;
        }
    }
    if (table_init_mem(&dp.t, L.n + 2, &mem, S_DP) < 0) goto done;
    {
        Py_ssize_t a = 0, b = n;
        while (a < b && is_space(T[a])) a++;
        while (b > a && is_space(T[b - 1])) b--;
        Py_ssize_t s = a, i = a;
        while (i < b) {
            const Py_UCS4 *nl = (const Py_UCS4 *)wmemchr((const wchar_t *)T + i, L'\n', b - i);
            if (!nl) break;
            i = nl - T;
            if (i + 1 < b && T[i + 1] == '\n') {
                dups_add(&dp, T + s, i - s);
                while (i < b && T[i] == '\n') i++;
                s = i;
            } else i++;
        }
        dups_add(&dp, T + s, b - s);
    }

    /* Chinese: 13-character spans that occur twice, over the text without whitespace */
    long long rep13 = 0;
    if (han && nonspace >= 14) {
        Py_ssize_t k = 0;
        for (Py_ssize_t i = 0; i < n; i++) if (!is_space(T[i])) buf[k++] = T[i];
        Py_ssize_t m = k - 13 + 1;
        uint64_t *wk = mem_get(&mem, S_C0, m * sizeof(uint64_t), 0);
        int32_t *cover = mem_zero(&mem, S_C1, (k + 1) * sizeof(int32_t));
        Table t13 = {0};
        if (!wk || !cover || table_init_mem(&t13, m, &mem, S_C2) < 0) goto done;
        /* the spans' keys: a polynomial hash rolled one character on (equal spans, equal keys) */
        const uint64_t B = 0x9E3779B97F4A7C15ULL | 1;
        uint64_t top = 1, roll = 0;
        for (int j = 0; j < 12; j++) top *= B;  /* B^12: the weight of a span's first character */
        for (int j = 0; j < 13; j++) roll = roll * B + buf[j];
        for (Py_ssize_t i = 0; i < m; i++) {
            if (i) roll = (roll - buf[i - 1] * top) * B + buf[i + 12];
            wk[i] = mix64(roll ^ ((uint64_t)13 << 40));
        }
        for (Py_ssize_t i = 0; i < m; i++) {  /* count; wk[i] becomes the span's slot */
            int fresh;
            if (i + PREFETCH < m) table_prefetch(&t13, wk[i + PREFETCH]);
            size_t s = table_slot(&t13, wk[i], &fresh);
            if (fresh) t13.e[s].a = 0;
            t13.e[s].a++;
            wk[i] = s;
        }
        for (Py_ssize_t i = 0; i < m; i++) {
            if (i + PREFETCH < m) __builtin_prefetch(&t13.e[wk[i + PREFETCH]]);
            if (t13.e[wk[i]].a > 1) { cover[i]++; cover[i + 13]--; }
        }
        long long run = 0;
        for (Py_ssize_t i = 0; i < k; i++) { run += cover[i]; if (run) rep13++; }
    }

    /* prose lines: their non-space and Han characters, terminal ends, words and words with a letter */
    long long p_chars = 0, p_zh_chars = 0, p_han = 0, p_lines = 0, p_term = 0, p_words = 0, p_alpha = 0;
    if (zmin >= 0) {
        kb = mem_get(&mem, S_KB, L.n + 1, 0);
        if (!kb) goto done;
        if (classify_lines(T, &L, kb, &mem, line_flags) < 0) goto done;
        for (Py_ssize_t li = 0; li < L.n; li++) {
            if (kb[li] != K_PROSE && kb[li] != K_NO_LETTERS) continue;  /* gristmill.text.prose.MEASURED */
            Py_ssize_t a = L.start[li], b = L.end[li];
            int zh_part = han && line_part(T + a, b - a, zmin).part != 2;  /* not OTHER_SCRIPT (no Han: 0.0) */
            p_chars += line_ns[li];
            if (zh_part) {
                p_zh_chars += line_ns[li];
                for (Py_ssize_t i = a; i < b; i++) p_han += is_han(T[i]);  /* a Han character is no space */
            }
            p_lines++;
            p_words += line_words[li];
            p_alpha += line_alpha[li];
            while (a < b && is_space(T[a])) a++;
            while (b > a && is_space(T[b - 1])) b--;
            while (b > a && in_set(T[b - 1], PROSE_CLOSERS)) b--;
            if (b > a && in_set(T[b - 1], TERMINAL) && !ends_with(T + a, b - a, "...")) p_term++;
        }
    }

    /* the layout gristmill.text.native.COUNTS names, in order */
    out[0] = n; out[1] = W.n; out[2] = L.n; out[3] = W.nl; out[4] = W.nonsym_chars;
    out[5] = hashes; out[6] = ellipsis; out[7] = bullets; out[8] = ell_lines; out[9] = W.alpha;
    for (uint64_t b = W.stop_found; b; b &= b - 1) out[10]++;  /* distinct stop words: bits set */
    out[11] = dp.dups; out[12] = dp.chars; out[13] = dp.items;
    out[14] = dl.dups; out[15] = dl.chars; out[16] = dl.items;
    out[26] = c4_kept; out[27] = sentences; out[28] = no_term; out[29] = L.n; out[30] = lorem; out[31] = curly;
    out[32] = js; out[33] = policy; out[34] = cites;
    out[35] = c4_kept; out[36] = fw_punct; out[37] = fw_short; out[38] = df.chars; out[39] = fw_chars;
    out[40] = c4_kept ? c4_kept - 1 : 0; out[41] = fw_words;
    out[44] = W.caps; out[45] = letters; out[46] = digits; out[47] = spaces;
    out[54] = S.urls;
    out[55] = S.ats ? count_emails(T, n) : 0;  /* each match holds an '@' */
    out[48] = nonspace; out[49] = han; out[50] = zh_lines; out[51] = zh_line_chars; out[52] = rep13; out[53] = zpunct;
    out[56] = p_chars; out[57] = p_han; out[58] = p_lines; out[59] = p_term; out[60] = p_words; out[61] = p_alpha;
    out[62] = p_zh_chars;
    result = PyTuple_New(N_OUT);
    if (!result) goto done;
    for (int i = 0; i < N_OUT; i++) {
        PyObject *v = i == 43 ? PyFloat_FromDouble(entropy) : PyLong_FromLongLong(out[i]);
        if (!v) { Py_CLEAR(result); goto done; }
        PyTuple_SET_ITEM(result, i, v);
    }
done:
    PyBuffer_Release(&stopbuf);
    mem_close(&mem);  /* every block above is scratch memory */
    return result;
}

/* tokens(text) -> list of str: the words signals() counts for a non-Chinese text (for tests) */
static PyObject *tokens(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    Py_UCS4 *T = PyUnicode_AsUCS4Copy(arg);
    Py_ssize_t *tok = PyMem_Malloc((2 * n + 2) * sizeof(Py_ssize_t));
    PyObject *out = PyList_New(0);
    if (!T || !tok || !out) goto fail;
    for (Py_ssize_t i = 0; i < n;) {
        while (i < n && is_space(T[i])) i++;
        if (i >= n) break;
        Py_ssize_t j = i;
        while (j < n && !is_space(T[j])) j++;
        Py_ssize_t nt = simple_chunk(T, i, j, tok);
        PyObject *part;
        if (nt >= 0) {
            part = PyList_New(nt);
            for (Py_ssize_t k = 0; part && k < nt; k++) {
                PyObject *w = PyUnicode_Substring(arg, tok[2 * k], tok[2 * k] + tok[2 * k + 1]);
                if (!w) { Py_CLEAR(part); break; }
                PyList_SET_ITEM(part, k, w);
            }
        } else {
            PyObject *chunk = PyUnicode_Substring(arg, i, j);
            part = chunk ? PyObject_CallOneArg(PIECE, chunk) : NULL;
            Py_XDECREF(chunk);
        }
        if (!part) goto fail;
        PyObject *r = _PyList_Extend((PyListObject *)out, part);
        Py_DECREF(part);
        if (!r) goto fail;
        Py_DECREF(r);
        i = j;
    }
    PyMem_Free(T); PyMem_Free(tok);
    return out;
fail:
    PyMem_Free(T); PyMem_Free(tok); Py_XDECREF(out);
    if (!PyErr_Occurred()) PyErr_NoMemory();
    return NULL;
}

/* dsir_token_hashes(text) -> bytes: for every token tokens(text) gives (empty ones skipped), the 64-bit hash
 * gristmill.select.dsir.Featurizer._hashes gives it, as little-endian uint64: the polynomial of its code points
 * in base 0x100000001B3 (mod 2^64) plus its length, through the splitmix64 finaliser. DSIR's map phase uses it
 * to hash a document's words without making a str of each. */
static inline uint64_t dsir_mix(uint64_t h) {
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

static inline uint64_t dsir_poly(const Py_UCS4 *s, Py_ssize_t n) {
    uint64_t h = 0, p = 1;
    for (Py_ssize_t i = 0; i < n; i++) { h += (uint64_t)s[i] * p; p *= 0x100000001B3ULL; }
    return dsir_mix(h + (uint64_t)n);
}

static PyObject *dsir_token_hashes(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "a str"); return NULL; }
    if (!PIECE) { PyErr_SetString(PyExc_RuntimeError, "init() first"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), m = 0, cap = 64;
    Py_UCS4 *T = PyUnicode_AsUCS4Copy(arg);
    Py_ssize_t *tok = PyMem_Malloc((2 * n + 2) * sizeof(Py_ssize_t));
    uint64_t *out = PyMem_Malloc(cap * sizeof(uint64_t));
    PyObject *result = NULL;
    if (!T || !tok || !out) goto done;
    for (Py_ssize_t i = 0; i < n;) {
        while (i < n && is_space(T[i])) i++;
        if (i >= n) break;
        Py_ssize_t j = i;
        while (j < n && !is_space(T[j])) j++;
        Py_ssize_t nt = simple_chunk(T, i, j, tok);
        PyObject *part = NULL;
        if (nt < 0) {
            PyObject *chunk = PyUnicode_Substring(arg, i, j);
            PyObject *got = chunk ? PyObject_CallOneArg(PIECE, chunk) : NULL;
            Py_XDECREF(chunk);
            part = got ? PySequence_Fast(got, "tokens") : NULL;
            Py_XDECREF(got);
            if (!part) goto done;
            nt = PySequence_Fast_GET_SIZE(part);
        }
        if (m + nt > cap) {
            while (m + nt > cap) cap *= 2;
            uint64_t *grown = PyMem_Realloc(out, cap * sizeof(uint64_t));
            if (!grown) { Py_XDECREF(part); goto done; }
            out = grown;
        }
        for (Py_ssize_t k = 0; k < nt; k++) {
            if (!part) {
                if (tok[2 * k + 1] > 0) out[m++] = dsir_poly(T + tok[2 * k], tok[2 * k + 1]);
                continue;
            }
            PyObject *w = PySequence_Fast_GET_ITEM(part, k);
            if (!PyUnicode_Check(w)) { Py_DECREF(part); PyErr_SetString(PyExc_TypeError, "str tokens"); goto done; }
            Py_ssize_t wn = PyUnicode_GET_LENGTH(w);
            int kind = PyUnicode_KIND(w); const void *data = PyUnicode_DATA(w);
            uint64_t h = 0, p = 1;
            for (Py_ssize_t x = 0; x < wn; x++) { h += (uint64_t)PyUnicode_READ(kind, data, x) * p; p *= 0x100000001B3ULL; }
            if (wn > 0) out[m++] = dsir_mix(h + (uint64_t)wn);
        }
        Py_XDECREF(part);
        i = j;
    }
    result = PyBytes_FromStringAndSize((const char *)out, m * (Py_ssize_t)sizeof(uint64_t));
done:
    PyMem_Free(T); PyMem_Free(tok); PyMem_Free(out);
    if (!result && !PyErr_Occurred()) PyErr_NoMemory();
    return result;
}

/* count_cues(text, cues, lower, not_after) -> {cue: count}, as re.findall of the alternation of the cues, longest
 * first, finds them: at each position the longest cue that matches, then on after it. With lower, the text is
 * lower-cased character by character first (None when that is not str.lower: İ, Σ; the caller falls back).
 * not_after maps a cue to the characters that must not precede it (a look-behind such as (?<!其)他). */
static PyObject *count_cues(PyObject *self, PyObject *args) {
    PyObject *text, *cues, *not_after;
    int lower;
    if (!PyArg_ParseTuple(args, "UO!pO!", &text, &PyTuple_Type, &cues, &lower, &PyDict_Type, &not_after)) return NULL;
    Py_ssize_t nc = PyTuple_GET_SIZE(cues), n = PyUnicode_GET_LENGTH(text);
    if (nc > 256) { PyErr_SetString(PyExc_ValueError, "at most 256 cues"); return NULL; }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t counts[256] = {0};
    Py_UCS4 first[256];
    Py_ssize_t len[256];
    PyObject *excl[256];
    uint64_t bloom = 0;            /* first characters: ASCII exactly, others by a hash of 6 bits */
    unsigned char ascii[128] = {0};
    /* the cues of each first character's bucket (ASCII 0-127, others 128 + the 6-bit hash), in cue order */
    Py_ssize_t head[192], next[256];
    for (int b = 0; b < 192; b++) head[b] = -1;
    for (Py_ssize_t k = 0; k < nc; k++) {
        PyObject *cue = PyTuple_GET_ITEM(cues, k);
        if (!PyUnicode_Check(cue)) { PyErr_SetString(PyExc_TypeError, "cues must be str"); return NULL; }
        len[k] = PyUnicode_GET_LENGTH(cue);
        first[k] = len[k] ? PyUnicode_READ_CHAR(cue, 0) : 0;
        excl[k] = PyDict_GetItemWithError(not_after, cue);
        if (!excl[k] && PyErr_Occurred()) return NULL;
        if (excl[k] && !PyUnicode_Check(excl[k])) { PyErr_SetString(PyExc_TypeError, "not_after values must be str"); return NULL; }
        if (first[k] < 128) ascii[first[k]] = 1;
        else bloom |= (uint64_t)1 << ((first[k] * 0x9E3779B1u) >> 26);
    }
    for (Py_ssize_t k = nc - 1; k >= 0; k--) {
        int b = first[k] < 128 ? (int)first[k] : 128 + (int)((first[k] * 0x9E3779B1u) >> 26);
        next[k] = head[b];
        head[b] = k;
    }
    /* ASCII first characters whose every cue must not follow an ASCII letter or digit (the usual word-start
     * rule): positions inside a word are passed over without trying those cues */
    unsigned char word_start[128] = {0};
    for (int b = 0; b < 128; b++) {
        if (head[b] < 0) continue;
        int all = 1;
        for (Py_ssize_t k = head[b]; k >= 0 && all; k = next[k]) {
            if (!excl[k]) { all = 0; break; }
            uint64_t seen = 0;  /* bits 0-25: a-z, 26-35: 0-9 */
            int ek = PyUnicode_KIND(excl[k]);
            const void *ed = PyUnicode_DATA(excl[k]);
            for (Py_ssize_t i = 0, el = PyUnicode_GET_LENGTH(excl[k]); i < el; i++) {
                Py_UCS4 e = PyUnicode_READ(ek, ed, i);
                if (e >= 'a' && e <= 'z') seen |= (uint64_t)1 << (e - 'a');
                else if (e >= '0' && e <= '9') seen |= (uint64_t)1 << (26 + e - '0');
            }
            all = seen == ((uint64_t)1 << 36) - 1;
        }
        word_start[b] = (unsigned char)all;
    }
    /* for each ASCII character (lower-cased when lower): 1 it starts a cue, 2 it starts only word-start cues,
     * 4 it is an ASCII letter or digit to the word-start rule; runs of ASCII that start no cue are skipped */
    unsigned char acls[128];
    for (int c = 0; c < 128; c++) {
        Py_UCS4 lc = lower ? lower1((Py_UCS4)c) : (Py_UCS4)c;
        acls[c] = (unsigned char)((ascii[lc] ? (word_start[lc] ? 2 : 1) : 0) |
                                  (((lc >= 'a' && lc <= 'z') || (lc >= '0' && lc <= '9')) ? 4 : 0));
    }
    for (Py_ssize_t p = 0; p < n;) {
        if (kind != PyUnicode_4BYTE_KIND) {
            int pa = 0;  /* the character before p is a letter or digit (lower-cased when lower) */
            if (p > 0) {
                Py_UCS4 prev = PyUnicode_READ(kind, data, p - 1);
                if (lower) prev = lower1(prev);
                pa = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
            }
#define SKIP_ASCII(T) do { const T *s_ = (const T *)data; \
                while (p < n && s_[p] < 128) { \
                    unsigned f_ = acls[s_[p]]; \
                    if ((f_ & 1) | ((f_ >> 1) & 1 & !pa)) break; \
                    pa = (f_ >> 2) & 1; \
                    p++; \
                } } while (0)
            if (kind == PyUnicode_1BYTE_KIND) SKIP_ASCII(Py_UCS1); else SKIP_ASCII(Py_UCS2);
#undef SKIP_ASCII
            if (p >= n) break;
        }
        Py_UCS4 c0 = PyUnicode_READ(kind, data, p);
        if (lower) {
            if (c0 == 0x130 || c0 == 0x3A3) Py_RETURN_NONE;
            c0 = lower1(c0);
        }
        if (c0 < 128 ? !ascii[c0] : !((bloom >> ((c0 * 0x9E3779B1u) >> 26)) & 1)) { p++; continue; }
        if (c0 < 128 && word_start[c0] && p > 0) {
            Py_UCS4 prev = PyUnicode_READ(kind, data, p - 1);
            if (lower) prev = lower1(prev);
            if ((prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9')) { p++; continue; }
        }
        Py_ssize_t best = -1, best_len = 0;
        int bucket = c0 < 128 ? (int)c0 : 128 + (int)((c0 * 0x9E3779B1u) >> 26);
        for (Py_ssize_t k = head[bucket]; k >= 0; k = next[k]) {
            Py_ssize_t m = len[k];
            if (first[k] != c0 || m <= best_len || m == 0 || p + m > n) continue;
            PyObject *cue = PyTuple_GET_ITEM(cues, k);
            int ck = PyUnicode_KIND(cue);
            const void *cd = PyUnicode_DATA(cue);
            Py_ssize_t x = 1;
            while (x < m) {
                Py_UCS4 c = PyUnicode_READ(kind, data, p + x);
                if (lower) {
                    if (c == 0x130 || c == 0x3A3) Py_RETURN_NONE;
                    c = lower1(c);
                }
                if (PyUnicode_READ(ck, cd, x) != c) break;
                x++;
            }
            if (x < m) continue;
            if (excl[k] && p > 0) {
                Py_UCS4 prev = PyUnicode_READ(kind, data, p - 1);
                if (lower) prev = lower1(prev);
                if (PyUnicode_FindChar(excl[k], prev, 0, PyUnicode_GET_LENGTH(excl[k]), 1) >= 0) continue;
            }
            best = k; best_len = m;
        }
        if (best >= 0) { counts[best]++; p += best_len; }
        else p++;
    }
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    for (Py_ssize_t k = 0; k < nc; k++) {
        if (!counts[k]) continue;
        PyObject *cue = PyTuple_GET_ITEM(cues, k);
        PyObject *v = PyDict_GetItemWithError(out, cue);
        if (!v && PyErr_Occurred()) { Py_DECREF(out); return NULL; }
        PyObject *nv = PyLong_FromSsize_t(counts[k] + (v ? PyLong_AsSsize_t(v) : 0));
        if (!nv || PyDict_SetItem(out, cue, nv) < 0) { Py_XDECREF(nv); Py_DECREF(out); return NULL; }
        Py_DECREF(nv);
    }
    return out;
}

/* norm_scan(text, max_blank_lines) -> flags: what gristmill.text.normalize would change, in one pass.
 * 1: a control, zero-width or BOM character (its _CONTROL class, which holds ESC and backspace) or the
 *    mojibake mark (MOJIBAKE_HINT: U+00C2-U+00F4 then a continuation character): the repairs apply;
 * 2: whitespace to normalise: \r, an odd space (_ODD_SPACES, U+2028, U+2029), a space, tab, U+3000 or
 *    U+00A0 before a newline or at the end, or more than max_blank_lines blank lines (max_blank_lines >= 0).
 * Text with neither flag is changed only by the Unicode form and by stripping newlines at its ends. */
static inline int is_mojibake_cont(Py_UCS4 c) {
    if (c >= 0x80 && c <= 0xBF) return 1;
    switch (c) {
    case 0x20AC: case 0x201A: case 0x0192: case 0x201E: case 0x2026: case 0x2020: case 0x2021: case 0x02C6:
    case 0x2030: case 0x0160: case 0x2039: case 0x0152: case 0x017D: case 0x2018: case 0x2019: case 0x201C:
    case 0x201D: case 0x2022: case 0x2013: case 0x2014: case 0x02DC: case 0x2122: case 0x0161: case 0x203A:
    case 0x0153: case 0x017E: case 0x0178: return 1;
    }
    return 0;
}

static PyObject *norm_scan(PyObject *self, PyObject *args) {
    PyObject *text;
    int max_blank;
    if (!PyArg_ParseTuple(args, "Ui", &text, &max_blank)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    int flags = 0;
    Py_ssize_t run = 0;  /* newlines in a row */
    Py_UCS4 prev = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '\n') {
            if (prev == ' ' || prev == '\t' || prev == 0x3000 || prev == 0xA0) flags |= 2;
            if (max_blank >= 0 && ++run >= max_blank + 2) flags |= 2;
        } else {
            run = 0;
            if (c < 0x20) {
                if (c == '\r') flags |= 2;
                else if (c != '\t') flags |= 1;
            } else if (c >= 0x7F) {
                if (c <= 0x9F || c == 0x200B || c == 0x2060 || c == 0xFEFF) flags |= 1;
                else if (c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x2028
                         || c == 0x2029) flags |= 2;
                if (prev >= 0xC2 && prev <= 0xF4 && is_mojibake_cont(c)) flags |= 1;
            }
        }
        if (flags == 3) break;
        prev = c;
    }
    if (flags != 3 && (prev == ' ' || prev == '\t' || prev == 0x3000 || prev == 0xA0)) flags |= 2;  /* at the end */
    return PyLong_FromLong(flags);
}

/* han_changed(a, b) -> positions where a and b (of one length) differ at a Han character of a */
static PyObject *han_changed(PyObject *self, PyObject *args) {
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "UU", &a, &b)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    if (PyUnicode_GET_LENGTH(b) != n) { PyErr_SetString(PyExc_ValueError, "strings of one length"); return NULL; }
    int ka = PyUnicode_KIND(a), kb = PyUnicode_KIND(b);
    const void *da = PyUnicode_DATA(a), *db = PyUnicode_DATA(b);
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(ka, da, i);
        if (c != PyUnicode_READ(kb, db, i) && is_han(c)) count++;
    }
    return PyLong_FromSsize_t(count);
}

/* script_counts(text) -> (letters, han, kana, hangul), as gristmill.text.scripts.script_counts */
static PyObject *script_counts(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    long long letters = 0, han = 0, kana = 0, hangul = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *b = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS1 c = b[i];
            if (c < 128) letters += (c | 32) >= 'a' && (c | 32) <= 'z';
            else letters += is_alpha(c) != 0;
        }
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c < 128) { letters += (c | 32) >= 'a' && (c | 32) <= 'z'; continue; }
            if (c >= 0x4E00 && c <= 0x9FFF) { letters++; han++; continue; }
            int h = is_han(c);
            han += h;
            if (c < 65536) {
                letters += is_alpha(c) != 0;
                kana += (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) || (c >= 0xFF66 && c <= 0xFF9F);
                hangul += (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) || (c >= 0xAC00 && c <= 0xD7AF);
            } else letters += h;
        }
    }
    if (!letters) han = kana = hangul = 0;
    return Py_BuildValue("(LLLL)", letters, han, kana, hangul);
}

/* term_counts(text, terms) -> {term: count} over the whole words of ASCII letters of text, lower-cased, that
 * are in the frozenset terms: re.findall(r"\b[A-Za-z]+\b", text) lower-cased and counted */
static PyObject *term_counts(PyObject *self, PyObject *args) {
    PyObject *text, *terms;
    if (!PyArg_ParseTuple(args, "UO!", &text, &PyFrozenSet_Type, &terms)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), longest = 0;
    PyObject *it = PyObject_GetIter(terms), *t;
    if (!it) return NULL;
    while ((t = PyIter_Next(it))) {
        if (PyUnicode_Check(t) && PyUnicode_GET_LENGTH(t) > longest) longest = PyUnicode_GET_LENGTH(t);
        Py_DECREF(t);
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    char low[64];
    for (Py_ssize_t i = 0; i < n;) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!word_char(c)) { i++; continue; }
        Py_ssize_t j = i;
        int letters = 1;
        while (j < n) {
            Py_UCS4 d = PyUnicode_READ(kind, data, j);
            if (!word_char(d)) break;
            if (!(d < 128 && (d | 32) >= 'a' && (d | 32) <= 'z')) letters = 0;
            j++;
        }
        if (letters && j - i <= longest && j - i < 64) {
            for (Py_ssize_t x = i; x < j; x++) low[x - i] = (char)(PyUnicode_READ(kind, data, x) | 32);
            PyObject *w = PyUnicode_FromStringAndSize(low, j - i);
            if (!w) { Py_DECREF(out); return NULL; }
            int r = PySet_Contains(terms, w);
            if (r > 0) {
                PyObject *v = PyDict_GetItemWithError(out, w);
                long cnt = v ? PyLong_AsLong(v) + 1 : 1;
                PyObject *nv = PyLong_FromLong(cnt);
                if (!nv || PyDict_SetItem(out, w, nv) < 0) r = -1;
                Py_XDECREF(nv);
            }
            Py_DECREF(w);
            if (r < 0) { Py_DECREF(out); return NULL; }
        }
        i = j;
    }
    return out;
}

/* collapse_ws_utf8(text) -> bytes: " ".join(text.split()) encoded as UTF-8 with surrogatepass (exact dedup's
 * "whitespace" key), in one pass without the list of words */
static PyObject *collapse_ws_utf8(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * (kind == PyUnicode_1BYTE_KIND ? 2 : kind == PyUnicode_2BYTE_KIND ? 3 : 4));
    if (!out) return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out), *start = o;
    int gap = 0;  /* whitespace since the last word: one space before the next */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (is_space(c)) { gap = o != start; continue; }
        if (gap) { *o++ = ' '; gap = 0; }
        if (c < 0x80) *o++ = (unsigned char)c;
        else if (c < 0x800) { *o++ = (unsigned char)(0xC0 | (c >> 6)); *o++ = (unsigned char)(0x80 | (c & 0x3F)); }
        else if (c < 0x10000) {
            *o++ = (unsigned char)(0xE0 | (c >> 12)); *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *o++ = (unsigned char)(0xF0 | (c >> 18)); *o++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F)); *o++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    if (_PyBytes_Resize(&out, o - start) < 0) return NULL;
    return out;
}

static PyObject *word_hash(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg); const void *data = PyUnicode_DATA(arg);
    uint64_t h = FNV0;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ PyUnicode_READ(kind, data, i)) * FNVP;
    return PyLong_FromUnsignedLongLong(mix64(h ^ ((uint64_t)n << 40)));
}

static PyObject *init(PyObject *self, PyObject *args) {
    Py_buffer bm, pre, suf;
    PyObject *piece, *abbrevs, *contractions, *emoticons, *units;
    if (!PyArg_ParseTuple(args, "y*y*y*OOOOO", &bm, &pre, &suf, &piece, &abbrevs, &contractions, &emoticons, &units))
        return NULL;
    int ok = bm.len == 8192 && pre.len == 8192 && suf.len == 8192 && PyFrozenSet_Check(abbrevs) &&
             PyFrozenSet_Check(contractions) && PyFrozenSet_Check(emoticons) && PyFrozenSet_Check(units);
    if (ok) {
        memcpy(SYMBOL, bm.buf, 8192); memcpy(PRE, pre.buf, 8192); memcpy(SUF, suf.buf, 8192);
        for (Py_UCS4 c = 0; c < 128; c++)
            AWORD[c] = (unsigned char)(ISSYM(c) | ((c >= 'A' && c <= 'Z') ? 2 : 0) | ((c >= 'a' && c <= 'z') ? 4 : 0));
    }
    PyBuffer_Release(&bm); PyBuffer_Release(&pre); PyBuffer_Release(&suf);
    if (!ok) { PyErr_SetString(PyExc_ValueError, "three bitmaps of 8192 bytes, a function and four frozensets"); return NULL; }
    Py_XSETREF(PIECE, Py_NewRef(piece));
    Py_XSETREF(ABBREVS, Py_NewRef(abbrevs));
    Py_XSETREF(CONTRACTIONS, Py_NewRef(contractions));
    Py_XSETREF(EMOTICONS, Py_NewRef(emoticons));
    Py_XSETREF(UNITS, Py_NewRef(units));
    Py_RETURN_NONE;
}

static PyMethodDef METHODS[] = {
    {"signals", signals, METH_VARARGS, "Counts behind the quality signals of one document."},
    {"word_hash", word_hash, METH_O, "The 64-bit hash signals() gives a word."},
    {"collapse_ws_utf8", collapse_ws_utf8, METH_O, "' '.join(text.split()) as UTF-8 (surrogatepass)."},
    {"tokens", tokens, METH_O, "The words signals() counts for a non-Chinese text."},
    {"dsir_token_hashes", dsir_token_hashes, METH_O, "DSIR's 64-bit hashes of the words tokens() gives, as uint64 bytes."},
    {"term_counts", term_counts, METH_VARARGS, "Whole ASCII-letter words of a text, lower-cased, that are terms."},
    {"script_counts", script_counts, METH_O, "(letters, han, kana, hangul) characters of a text."},
    {"line_kinds", line_kinds, METH_O, "The kind of every line (prose, code, option, table ...)."},
    {"line_parts", line_parts, METH_VARARGS, "CJK and other lines of a text with their weights (language shares)."},
    {"count_cues", count_cues, METH_VARARGS, "Counts of the cues found in a text (longest match first)."},
    {"han_changed", han_changed, METH_VARARGS, "Han characters of a that b changes (same length)."},
    {"norm_scan", norm_scan, METH_VARARGS, "What text normalisation would change (1: repairs, 2: whitespace)."},
    {"init", init, METH_VARARGS, "init(symbols, prefixes, suffixes, piece, abbreviations, contractions, emoticons, units): tokenizer sets."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_qsignals", "Quality-signal counts in C.", -1, METHODS,
                                    NULL, NULL, NULL, NULL};

_Static_assert(sizeof(wchar_t) == sizeof(Py_UCS4), "wmemchr reads UCS-4 text as wchar_t");

PyMODINIT_FUNC PyInit__qsignals(void) {
    acls_init();
    return PyModule_Create(&MODULE);
}

/* Which lines are prose (gristmill.text.prose.line_kinds_py is the definition) and which lines are CJK
 * (gristmill.text.scripts.line_parts_py), for the prose signals and langid's language shares.
 *
 * Included by qsignals.c (one compilation unit: it uses the character classes, split_lines and Lines defined
 * there); tests/test_prose.py and tests/test_quality_native.py check it against the Python definitions.
 */

/* ---- which lines are prose: gristmill.text.prose.line_kinds_py is the definition ---- */
enum { K_BLANK, K_PROSE, K_CODE, K_OPTION, K_TABLE, K_NO_LETTERS };

static inline int ascii_alpha(Py_UCS4 c) { return c < 128 && (c | 32) >= 'a' && (c | 32) <= 'z'; }
static inline int ascii_digit(Py_UCS4 c) { return c >= '0' && c <= '9'; }
static inline int ascii_alnum(Py_UCS4 c) { return ascii_alpha(c) || ascii_digit(c); }
static inline int option_char(Py_UCS4 c) { return is_alpha(c) || Py_UNICODE_ISNUMERIC(c) || c == '?' || c == '@' || c == '#'; }

static int opt_start(const Py_UCS4 *s, Py_ssize_t n) {  /* -a, --all, [-]x, +x after an optional "* " */
    if (n > 1 && s[0] == '*' && is_space(s[1])) {
        s++; n--;
        while (n && is_space(s[0])) { s++; n--; }
    }
    if (n >= 3 && s[0] == '[' && s[1] == '-' && s[2] == ']') return n > 3 && option_char(s[3]);
    if (n > 2 && s[0] == '-' && s[1] == '-' && option_char(s[2])) return 1;
    if (n >= 1 && (s[0] == '-' || s[0] == '+')) return n > 1 && option_char(s[1]);
    return 0;
}

static int call_at_end(const Py_UCS4 *s, Py_ssize_t n) {  /* name(args) ends the line, args not only digits */
    Py_ssize_t m = n;
    if (s[m - 1] == ':' || s[m - 1] == ';' || s[m - 1] == '{') {
        m--;
        while (m && is_space(s[m - 1])) m--;
    }
    if (!m || s[m - 1] != ')') return 0;
    Py_ssize_t depth = 0, i = m - 1;
    for (; i >= 0; i--) {
        depth += (s[i] == ')') - (s[i] == '(');
        if (!depth) break;
    }
    if (i <= 0 || !(ascii_alnum(s[i - 1]) || s[i - 1] == '_')) return 0;
    for (Py_ssize_t k = i + 1; k < m - 1; k++) if (!ascii_digit(s[k])) return 1;
    return 0;
}

static const char *OPERATORS[] = {"==", "!=", "<=", ">=", "->", "=>", ":=", "+=", "-=", "*=", "/=", "|=", "&=", "=", NULL};

static const unsigned char OPERATOR_START[128] = {['='] = 1, ['!'] = 1, ['<'] = 1, ['>'] = 1, ['-'] = 1, [':'] = 1,
                                                  ['+'] = 1, ['*'] = 1, ['/'] = 1, ['|'] = 1, ['&'] = 1};

static inline int ident_char(Py_UCS4 c) {
    return is_alnum(c) || c == '_' || c == '.' || c == '[' || c == ']' || c == '\'' || c == '"';
}

static int assignment(const Py_UCS4 *s, Py_ssize_t n) {  /* identifier (after space or at the start), operator, more */
    for (Py_ssize_t p = 0; p < n; p++) {
        Py_UCS4 c = s[p];
        if (c >= 128 || !OPERATOR_START[c]) continue;  /* no operator starts here */
        Py_ssize_t len = 0;
        for (int o = 0; OPERATORS[o] && !len; o++) {
            Py_ssize_t k = OPERATORS[o][1] ? 2 : 1;  /* every operator has one or two characters */
            if (p + k > n) continue;
            Py_ssize_t x = 0;
            while (x < k && s[p + x] == (Py_UCS4)OPERATORS[o][x]) x++;
            if (x == k) len = k;
        }
        if (!len) continue;
        Py_ssize_t q = p + len;
        while (q < n && is_space(s[q])) q++;
        if (q == n) continue;
        Py_ssize_t r = p;
        while (r > 0 && is_space(s[r - 1])) r--;
        Py_ssize_t end = r;
        while (r > 0 && ident_char(s[r - 1])) r--;
        if (r < end && (r == 0 || is_space(s[r - 1])) && (is_alpha(s[r]) || s[r] == '_')) return 1;
    }
    return 0;
}

static int identifier(const Py_UCS4 *t, Py_ssize_t n) {  /* an ASCII token with a_b, ::, ->, camelCase, a.b, f(x, ). */
    int maybe = 0;  /* every rule below needs one of : > . _ ( or a capital after the first character */
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_UCS4 c = t[k];
        if (c >= 128) return 0;
        maybe |= k > 0 && (c == ':' || c == '>' || c == '.' || c == '_' || c == '(' || (c >= 'A' && c <= 'Z'));
    }
    if (!maybe) return 0;
    for (Py_ssize_t k = 1; k < n; k++) {
        Py_UCS4 a = t[k - 1], b = t[k];
        if ((a == ':' && b == ':') || (a == '-' && b == '>') || (a == ')' && b == '.')) return 1;
    }
    for (Py_ssize_t k = 1; k < n; k++) {
        Py_UCS4 a = t[k - 1], b = t[k];
        if (ascii_alnum(a) && b == '_' && k + 1 < n && ascii_alnum(t[k + 1])) return 1;
        if (a >= 'a' && a <= 'z' && b >= 'A' && b <= 'Z') return 1;
        if (ascii_alpha(a) && b == '.' && k + 1 < n && ascii_alpha(t[k + 1])) return 1;
        if ((ascii_alnum(a) || a == '_') && b == '(') {
            Py_ssize_t j = k + 1;
            while (j < n && ascii_digit(t[j])) j++;
            if (j == n || t[j] != ')') return 1;
        }
    }
    return 0;
}

static int synopsis_token(const Py_UCS4 *t, Py_ssize_t n) {  /* an option (after [ or (), or only brackets */
    Py_ssize_t i = 0;
    while (i < n && (t[i] == '[' || t[i] == '(')) i++;
    if (i < n && t[i] == '-') return 1;
    for (i = 0; i < n; i++)
        if (!(t[i] == '[' || t[i] == ']' || t[i] == '{' || t[i] == '}' || t[i] == '(' || t[i] == ')' || t[i] == '|'))
            return 0;
    return 1;
}

/* one pass over a stripped line s[0:n] for table_line and codeish: its gaps (runs of spaces) and tokens (runs
 * without) */
typedef struct {
    int tab, ops;                   /* a gap holds a tab; an ASCII character an operator starts with */
    Py_ssize_t wide, bar0, bar1;    /* gaps of 3+ spaces; the first and last '|' (-1: none) */
    Py_ssize_t tokens, syn;         /* tokens, synopsis tokens */
    Py_ssize_t tok[24];             /* the first 12 tokens: start, length */
} Shape;

static void line_shape(const Py_UCS4 *s, Py_ssize_t n, Shape *r) {
    memset(r, 0, sizeof(*r));
    r->bar0 = r->bar1 = -1;
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i;
        if (is_space(s[i])) {
            int tab = 0;
            while (j < n && is_space(s[j])) { tab |= s[j] == '\t'; j++; }
            r->tab |= tab;
            r->wide += j - i >= 3;
        } else {
            for (; j < n; j++) {
                Py_UCS4 c = s[j];
                if (c < 128) {
                    if (ACLS[c] & 8) break;
                    r->ops |= OPERATOR_START[c];
                    if (c == '|') { if (r->bar0 < 0) r->bar0 = j; r->bar1 = j; }
                } else if (is_space(c)) break;
            }
            if (r->tokens < 12) { r->tok[2 * r->tokens] = i; r->tok[2 * r->tokens + 1] = j - i; }
            r->tokens++;
            r->syn += synopsis_token(s + i, j - i);
        }
        i = j;
    }
}

static int table_line(const Py_UCS4 *s, const Shape *sh) {  /* a tab gap, two gaps of 3+, or | ... | */
    if (sh->tab) return 1;
    if (sh->bar0 >= 0 && sh->bar0 != sh->bar1)
        for (Py_ssize_t i = sh->bar0 + 1; i < sh->bar1; i++) if (!is_space(s[i])) return 1;
    return sh->wide >= 2;
}

/* a stripped line that is code by its own shape */
static int codeish(const Py_UCS4 *s, Py_ssize_t n, const Shape *sh) {
    Py_UCS4 last = s[n - 1];
    if (last == ';' || last == '{' || last == '}' || call_at_end(s, n)) return 1;
    static const char *PROMPTS[] = {">>>", "...", "$", "%", NULL};
    static const Py_ssize_t PROMPT_LEN[] = {3, 3, 1, 1};
    for (int q = 0; PROMPTS[q]; q++) {
        Py_ssize_t k = PROMPT_LEN[q], x = 0;
        while (x < k && x < n && s[x] == (Py_UCS4)PROMPTS[q][x]) x++;
        if (x == k && (n == k || is_space(s[k]))) return 1;
    }
    if (n <= 120 && sh->ops && assignment(s, n)) return 1;  /* no operator, no assignment */
    Py_ssize_t tokens = sh->tokens, syn = sh->syn, ident = 0;
    if (tokens >= 4 && syn * 10 >= 3 * tokens) return 1;
    if (tokens > 12) return 0;  /* more tokens: not code by identifiers */
    for (Py_ssize_t t = 0; t < tokens; t++) ident += identifier(s + sh->tok[2 * t], sh->tok[2 * t + 1]);
    return tokens <= 12 && ident * 2 >= tokens;
}

typedef struct { Py_ssize_t indent, mass; } IndentMass;
static int by_indent(const void *x, const void *y) {
    Py_ssize_t a = ((const IndentMass *)x)->indent, b = ((const IndentMass *)y)->indent;
    return (a > b) - (a < b);
}

/* the kinds of the lines L of T into k (one byte per line), as gristmill.text.prose.line_kinds_py; -1 when out of
 * memory */
/* m: scratch memory, or NULL; flags: bit 1 of each line's byte says whether it has a letter (signals' scan), or NULL */
static int classify_lines(const Py_UCS4 *T, const Lines *L, char *k, Mem *m, const unsigned char *flags) {
    size_t nb = (L->n + 1) * sizeof(Py_ssize_t);
    Py_ssize_t *indent = m ? mem_get(m, S_R0, nb, 0) : PyMem_Malloc(nb);
    Py_ssize_t *send = m ? mem_get(m, S_R1, nb, 0) : PyMem_Malloc(nb);
    IndentMass *im = m ? mem_get(m, S_R2, (L->n + 1) * sizeof(IndentMass), 0) : PyMem_Malloc((L->n + 1) * sizeof(IndentMass));
    if (!indent || !send || !im) {
        if (!m) { PyMem_Free(indent); PyMem_Free(send); PyMem_Free(im); PyErr_NoMemory(); }
        return -1;
    }
    Py_ssize_t nm = 0;
    for (Py_ssize_t li = 0; li < L->n; li++) {
        Py_ssize_t a = L->start[li], b = L->end[li], x = a;
        while (x < b && is_space(T[x])) x++;
        while (b > x && is_space(T[b - 1])) b--;
        send[li] = b;
        indent[li] = x < b ? x - L->start[li] : -1;
        if (x < b) {
            int letter = flags ? flags[li] & 1 : 0;
            for (Py_ssize_t i = x; i < b && !letter && !flags; i++) letter = is_alpha(T[i]);
            if (letter) { im[nm].indent = indent[li]; im[nm].mass = L->end[li] - x; nm++; }
        }
    }
    /* body indentation: most characters on lines with a letter, the smallest of a tie */
    Py_ssize_t body = 0, best = -1;
    qsort(im, nm, sizeof(IndentMass), by_indent);
    for (Py_ssize_t i = 0; i < nm;) {
        Py_ssize_t j = i, mass = 0;
        while (j < nm && im[j].indent == im[i].indent) mass += im[j++].mass;
        if (mass > best) { best = mass; body = im[i].indent; }
        i = j;
    }
    int fenced = 0;
    Py_ssize_t option_indent = -1;
    for (Py_ssize_t li = 0; li < L->n; li++) {
        Py_ssize_t ind = indent[li], a = L->start[li] + (ind < 0 ? 0 : ind), b = send[li];
        int fence = ind >= 0 && b - a >= 3 && ((T[a] == '`' && T[a + 1] == '`' && T[a + 2] == '`') ||
                                               (T[a] == '~' && T[a + 1] == '~' && T[a + 2] == '~'));
        if (fence) { fenced = !fenced; k[li] = K_CODE; continue; }
        if (fenced) { k[li] = ind >= 0 ? K_CODE : K_BLANK; continue; }
        if (ind < 0) { k[li] = K_BLANK; continue; }
        if (option_indent >= 0 && ind > option_indent) { k[li] = K_OPTION; continue; }
        option_indent = -1;
        int letter = flags ? flags[li] & 1 : 0;
        for (Py_ssize_t i = a; i < b && !letter && !flags; i++) letter = is_alpha(T[i]);
        if (!letter) k[li] = K_NO_LETTERS;
        else if (opt_start(T + a, b - a) || (ind >= body && li + 1 < L->n && indent[li + 1] > ind)) {
            k[li] = K_OPTION;
            option_indent = ind;
        }
        else {
            Shape sh;
            line_shape(T + a, b - a, &sh);
            k[li] = table_line(T + a, &sh) ? K_TABLE : codeish(T + a, b - a, &sh) ? K_CODE : K_PROSE;
        }
    }
    /* every line of a paragraph is code when at least half of its lines are */
    for (Py_ssize_t i = 0; i < L->n;) {
        if (k[i] == K_BLANK) { i++; continue; }
        Py_ssize_t j = i, code = 0;
        while (j < L->n && k[j] != K_BLANK) code += k[j++] == K_CODE;
        if (code && code * 2 >= j - i)
            for (Py_ssize_t x = i; x < j; x++) if (k[x] == K_PROSE || k[x] == K_NO_LETTERS) k[x] = K_CODE;
        i = j;
    }
    if (!m) { PyMem_Free(indent); PyMem_Free(send); PyMem_Free(im); }
    return 0;
}

/* line_kinds(text) -> bytes, one kind per line of text.splitlines() */
static PyObject *line_kinds(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) { PyErr_SetString(PyExc_TypeError, "a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    Py_UCS4 *T = PyUnicode_AsUCS4Copy(arg);
    Lines L = {0};
    PyObject *out = NULL;
    if (T && split_lines(T, n, &L) == 0) {
        out = PyBytes_FromStringAndSize(NULL, L.n);
        if (out && classify_lines(T, &L, PyBytes_AS_STRING(out), NULL, NULL) < 0) Py_CLEAR(out);
    }
    PyMem_Free(T); PyMem_Free(L.start); PyMem_Free(L.end);
    return out;
}

/* characters a word-like token may hold besides letters: gristmill.text.scripts.WORD_PUNCT */
static const Py_UCS4 WORD_PUNCT[] = {',', '.', ';', ':', '!', '?', '\'', '"', '(', ')', '[', ']', '-', 0x2018, 0x2019,
                                     0x201C, 0x201D, 0};

static inline int utf8_width(Py_UCS4 c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

/* one line s[0:n] for language shares, as gristmill.text.scripts.line_parts_py weighs its lines: CJK letters
 * always count, other letters only in word-like tokens; a letter weighs its UTF-8 bytes */
typedef struct { int part; long long weight, han, kana, hangul; } LinePart;
static LinePart line_part(const Py_UCS4 *s, Py_ssize_t n, double zmin) {
    LinePart r = {0};
    long long cjk = 0, counted = 0, t_letters = 0, t_bytes = 0;
    int t_bad = 0, in_tok = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 c = i < n ? s[i] : ' ';
        if (c < 65536 && is_space(c)) {
            if (in_tok && !t_bad) { counted += t_letters; r.weight += t_bytes; }
            in_tok = 0;
            continue;
        }
        if (!in_tok) { in_tok = 1; t_bad = c == '-'; t_letters = t_bytes = 0; }
        int h = is_han(c), letter = c < 65536 ? is_alpha(c) : h;
        if (letter) {
            int ka = (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) || (c >= 0xFF66 && c <= 0xFF9F);
            int hg = (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) || (c >= 0xAC00 && c <= 0xD7AF);
            if (h || ka || hg) {
                cjk++; counted++; r.weight += utf8_width(c);
                r.han += h; r.kana += ka; r.hangul += hg;
            } else { t_letters++; t_bytes += utf8_width(c); }
        } else if (!(c < 65536 ? (c < 128 || (c >= 0x2018 && c <= 0x201D)) && in_set(c, WORD_PUNCT) : h)) t_bad = 1;
    }
    r.part = cjk > 0 && (double)cjk >= zmin * (double)counted ? 1 : counted > 0 ? 2 : 0;
    return r;
}

/* line_parts(text, zh_min_han) -> (cjk weight, other weight, han, kana, hangul, kinds) over the lines of
 * text.split("\n"); kinds holds 0 / 1 (CJK) / 2 (other) per line */
static PyObject *line_parts(PyObject *self, PyObject *args) {
    PyObject *text;
    double zmin;
    if (!PyArg_ParseTuple(args, "Ud", &text, &zmin)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), nl = 1;
    Py_UCS4 *T = PyUnicode_AsUCS4Copy(text);
    if (!T) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) nl += T[i] == '\n';
    PyObject *kinds = PyBytes_FromStringAndSize(NULL, nl);
    if (!kinds) { PyMem_Free(T); return NULL; }
    char *k = PyBytes_AS_STRING(kinds);
    long long cjk_w = 0, other_w = 0, han = 0, kana = 0, hangul = 0;
    Py_ssize_t li = 0, start = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (i < n && T[i] != '\n') continue;
        LinePart r = line_part(T + start, i - start, zmin);
        k[li++] = (char)r.part;
        if (r.part == 1) { cjk_w += r.weight; han += r.han; kana += r.kana; hangul += r.hangul; }
        else if (r.part == 2) other_w += r.weight;
        start = i + 1;
    }
    PyMem_Free(T);
    return Py_BuildValue("(LLLLLN)", cjk_w, other_w, han, kana, hangul, kinds);
}

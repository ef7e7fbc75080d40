/* The fingerprint's arithmetic in C: words, their xxh32 hashes, shingle hashes, sorted unique, and the
 * affine32 MinHash; and the comparisons that verify a pair (signature values in common, shingles in
 * common). The same values as the numpy paths of fingerprint.py and verify.py, which stay as the fallback
 * when this module is not built (tests hold the two to identical answers).
 *
 * An answer is either written into buffers the caller passes (numpy arrays), whose sizes are checked here (a
 * wrong size raises ValueError, never writes out of bounds), or returned as new bytes. The GIL is held
 * throughout (a call takes a few microseconds).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define P1 2654435761U
#define P2 2246822519U
#define P3 3266489917U
#define P4 668265263U
#define P5 374761393U
#define MULT 0x9E3779B1U   /* fingerprint._MULT */

static inline uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static inline uint32_t rd32(const uint8_t *p) {   /* little-endian, as xxh32 reads (one load on such hosts) */
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* XXH32 with seed 0: what xxhash.xxh32_intdigest gives */
static uint32_t xxh32(const uint8_t *p, size_t len) {
    const uint8_t *end = p + len;
    uint32_t h;
    if (len >= 16) {
        uint32_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1;
        const uint8_t *lim = end - 16;
        do {
            v1 = rotl(v1 + rd32(p) * P2, 13) * P1; p += 4;
            v2 = rotl(v2 + rd32(p) * P2, 13) * P1; p += 4;
            v3 = rotl(v3 + rd32(p) * P2, 13) * P1; p += 4;
            v4 = rotl(v4 + rd32(p) * P2, 13) * P1; p += 4;
        } while (p <= lim);
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    } else {
        h = P5;
    }
    h += (uint32_t)len;
    while (p + 4 <= end) { h += rd32(p) * P3; h = rotl(h, 17) * P4; p += 4; }
    while (p < end) { h += (*p) * P5; h = rotl(h, 11) * P1; p++; }
    h ^= h >> 15; h *= P2; h ^= h >> 13; h *= P3; h ^= h >> 16;
    return h;
}

/* fingerprint._ASCII_WORDS: a word byte lowercased, or 0 for a separator */
static uint8_t WORD_BYTE[256];

/* fingerprint.SEPARATORS: the non-ASCII characters read as separators (set_separators) */
#define MAX_SEPARATORS 64
static uint32_t SEPARATOR[MAX_SEPARATORS];
static int n_separators = 0;

static int is_separator(uint32_t cp) {
    for (int i = 0; i < n_separators; i++)
        if (SEPARATOR[i] == cp) return 1;
    return 0;
}

/* Sorts n values (LSD radix, the four byte histograms counted in one read; a byte all values share is
 * skipped); tmp has room for n */
static void radix_sort(uint32_t *a, uint32_t *tmp, Py_ssize_t n) {
    Py_ssize_t count[4][256] = {{0}};
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t v = a[i];
        count[0][v & 255]++; count[1][(v >> 8) & 255]++; count[2][(v >> 16) & 255]++; count[3][v >> 24]++;
    }
    uint32_t *src = a, *dst = tmp;
    for (int pass = 0; pass < 4; pass++) {
        Py_ssize_t *c = count[pass], sum = 0;
        int shift = 8 * pass;
        if (c[(src[0] >> shift) & 255] == n) continue;
        for (int i = 0; i < 256; i++) { Py_ssize_t t = c[i]; c[i] = sum; sum += t; }
        for (Py_ssize_t i = 0; i < n; i++) dst[c[(src[i] >> shift) & 255]++] = src[i];
        uint32_t *t = src; src = dst; dst = t;
    }
    if (src != a) memcpy(a, src, (size_t)n * 4);
}

static inline uint32_t fmix32(uint32_t f) {
    f ^= f >> 16; f *= 0x85EBCA6BU; f ^= f >> 13; f *= 0xC2B2AE35U; f ^= f >> 16;
    return f;
}

/* min over shingles of a[p] * fmix32(h) + b[p], for every permutation p: the loop over p vectorises (AVX-512
 * or AVX2 where the CPU has them, chosen at load time), and with the usual 128 permutations the minimums
 * stay in registers */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef VECTOR_CLONES
#define VECTOR_CLONES
#endif

VECTOR_CLONES
static void minhash_128(const uint32_t *restrict shingles, Py_ssize_t n, const uint32_t *restrict a,
                        const uint32_t *restrict b, uint32_t *restrict mins) {
    uint32_t m[128];
    for (int p = 0; p < 128; p++) m[p] = 0xFFFFFFFFU;
    for (Py_ssize_t s = 0; s < n; s++) {
        uint32_t f = fmix32(shingles[s]);
        for (int p = 0; p < 128; p++) {
            uint32_t v = a[p] * f + b[p];
            m[p] = v < m[p] ? v : m[p];
        }
    }
    memcpy(mins, m, sizeof m);
}

VECTOR_CLONES
static void minhash_into(const uint32_t *restrict shingles, Py_ssize_t n, const uint32_t *restrict a,
                         const uint32_t *restrict b, Py_ssize_t perms, uint32_t *restrict mins) {
    if (perms == 128) {
        minhash_128(shingles, n, a, b, mins);
        return;
    }
    for (Py_ssize_t p = 0; p < perms; p++) mins[p] = 0xFFFFFFFFU;
    for (Py_ssize_t s = 0; s < n; s++) {
        uint32_t f = fmix32(shingles[s]);
        for (Py_ssize_t p = 0; p < perms; p++) {
            uint32_t v = a[p] * f + b[p];
            mins[p] = v < mins[p] ? v : mins[p];
        }
    }
}

/* The sorted unique shingle hashes of n word hashes (into out, room for max(n, 1)), then their MinHash;
 * returns how many shingles. `work`: room for n. */
static Py_ssize_t sign(const uint32_t *wh, Py_ssize_t n, Py_ssize_t k, const uint32_t *a, const uint32_t *b,
                       Py_ssize_t perms, uint32_t *mins, uint32_t *out, uint32_t *work) {
    Py_ssize_t m = 0;
    if (n > 0) {
        Py_ssize_t kk = k < n ? k : n;
        m = n - kk + 1;
        for (Py_ssize_t i = 0; i < m; i++) {
            uint32_t h = wh[i];
            for (Py_ssize_t j = 1; j < kk; j++) h = h * MULT + wh[i + j];
            out[i] = h;
        }
        radix_sort(out, work, m);
        Py_ssize_t u = 1;
        for (Py_ssize_t i = 1; i < m; i++)
            if (out[i] != out[u - 1]) out[u++] = out[i];
        m = u;
    }
    minhash_into(out, m, a, b, perms, mins);
    return m;
}

static const char SIGN_HASHES_DOC[] =
    "sign_hashes(word_hashes, k, a, b, minhash_out, shingles_out) -> number of shingles\n\n"
    "The sorted unique hashes of every run of k word hashes (uint32) into shingles_out (room for\n"
    "max(len(word_hashes), 1)), and their affine32 MinHash under the permutations (a, b) into minhash_out.";

static PyObject *sign_hashes(PyObject *self, PyObject *args) {
    Py_buffer wb = {0}, ab = {0}, bb = {0}, mb = {0}, sb = {0};
    Py_ssize_t k;
    if (!PyArg_ParseTuple(args, "y*ny*y*w*w*", &wb, &k, &ab, &bb, &mb, &sb)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = wb.len / 4, perms = ab.len / 4;
    if (ab.len % 4 || !perms || bb.len != ab.len || mb.len != ab.len) {
        PyErr_SetString(PyExc_ValueError, "permutations a, b and the minhash output must be uint32 arrays of one length");
        goto done;
    }
    if (wb.len % 4 || k < 1 || sb.len < 4 * (n > 1 ? n : 1)) {
        PyErr_SetString(PyExc_ValueError, "word_hashes must be uint32, k at least 1, shingles_out room for max(len(word_hashes), 1)");
        goto done;
    }
    uint32_t *work = PyMem_Malloc(4 * (size_t)(n > 1 ? n : 1));
    if (!work) { PyErr_NoMemory(); goto done; }
    Py_ssize_t m = sign(wb.buf, n, k, ab.buf, bb.buf, perms, mb.buf, sb.buf, work);
    PyMem_Free(work);
    result = PyLong_FromSsize_t(m);
done:
    PyBuffer_Release(&wb); PyBuffer_Release(&ab); PyBuffer_Release(&bb); PyBuffer_Release(&mb); PyBuffer_Release(&sb);
    return result;
}

/* What case folding makes of each non-ASCII character met so far (str.casefold, asked once a character:
 * full case folding maps each character on its own, to at most three), and which of those are word
 * characters (alphanumeric or '_', as re's \w) */
typedef struct { uint32_t cp; uint8_t n; uint8_t word[3]; uint32_t folded[3]; } Fold;
static Fold *folds = NULL;
static Py_ssize_t fold_slots = 0, fold_count = 0;

static inline Py_ssize_t fold_slot(Fold *table, Py_ssize_t slots, uint32_t cp) {
    Py_ssize_t at = (Py_ssize_t)((cp * 0x9E3779B1U) >> 8) & (slots - 1);
    while (table[at].n && table[at].cp != cp) at = (at + 1) & (slots - 1);
    return at;
}

static const Fold *fold_of(uint32_t cp) {
    if (2 * (fold_count + 1) > fold_slots) {
        Py_ssize_t slots = fold_slots ? 2 * fold_slots : 4096;
        Fold *table = PyMem_Calloc((size_t)slots, sizeof *table);
        if (!table) { PyErr_NoMemory(); return NULL; }
        for (Py_ssize_t i = 0; i < fold_slots; i++)
            if (folds[i].n) table[fold_slot(table, slots, folds[i].cp)] = folds[i];
        PyMem_Free(folds);
        folds = table;
        fold_slots = slots;
    }
    Fold *f = &folds[fold_slot(folds, fold_slots, cp)];
    if (f->n) return f;
    PyObject *ch = PyUnicode_FromOrdinal((int)cp);
    PyObject *folded = ch ? PyObject_CallMethod(ch, "casefold", NULL) : NULL;
    Py_XDECREF(ch);
    if (!folded) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(folded);
    if (n < 1 || n > 3) {
        PyErr_Format(PyExc_SystemError, "casefold of U+%04X gave %zd characters", cp, n);
        Py_DECREF(folded);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(folded, i);
        f->folded[i] = c;
        f->word[i] = c == '_' || Py_UNICODE_ISALNUM(c);
    }
    Py_DECREF(folded);
    f->cp = cp;
    f->n = (uint8_t)n;
    fold_count++;
    return f;
}

static inline Py_ssize_t put_utf8(uint8_t *out, uint32_t c) {
    if (c < 0x80) { out[0] = (uint8_t)c; return 1; }
    if (c < 0x800) { out[0] = (uint8_t)(0xC0 | (c >> 6)); out[1] = (uint8_t)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (c >> 12)); out[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); out[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (c >> 18)); out[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); out[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

/* The state of words() as it reads a text */
typedef struct {
    uint32_t *wh; int32_t *counts; uint8_t *norm;
    Py_ssize_t n, at, start, lines, on_line;
    int in_word, line_start;
} Scan;

static inline void word_byte(Scan *st, uint8_t b) {
    if (!st->in_word) {
        if (!st->line_start) st->norm[st->at++] = ' ';
        st->line_start = 0;
        st->start = st->at;
        st->in_word = 1;
    }
    st->norm[st->at++] = b;
}

static inline void word_char(Scan *st, uint32_t c) {
    if (!st->in_word) {
        if (!st->line_start) st->norm[st->at++] = ' ';
        st->line_start = 0;
        st->start = st->at;
        st->in_word = 1;
    }
    st->at += put_utf8(st->norm + st->at, c);
}

static inline void separator(Scan *st) {
    if (st->in_word) {
        st->wh[st->n++] = xxh32(st->norm + st->start, (size_t)(st->at - st->start));
        st->on_line++;
        st->in_word = 0;
    }
}

static inline void line_break(Scan *st, int last) {
    st->counts[st->lines++] = (int32_t)st->on_line;
    st->on_line = 0;
    if (!last) st->norm[st->at++] = '\n';
    st->line_start = 1;
}

/* 0 when read, 1 when the text needs normalising first, -1 on an error (set) */
#define SCAN_OF(NAME, TYPE)                                                                   \
static int NAME(Scan *st, const void *data, Py_ssize_t len, int normalised, int by_line) {     \
    const TYPE *text = data;                                                                  \
    for (Py_ssize_t i = 0; i < len; i++) {                                                    \
        uint32_t c = text[i];                                                                 \
        if (c < 128) {                                                                        \
            uint8_t b = WORD_BYTE[c];                                                         \
            if (b) word_byte(st, b);                                                          \
            else {                                                                            \
                separator(st);                                                                \
                if (by_line && c == '\n') line_break(st, 0);                                  \
            }                                                                                 \
        } else if (!normalised) {                                                             \
            if (!is_separator(c)) return 1;                                                   \
            separator(st);                                                                    \
        } else {                                                                              \
            const Fold *f = fold_of(c);                                                       \
            if (!f) return -1;                                                                \
            for (int j = 0; j < f->n; j++) {                                                  \
                if (f->word[j]) word_char(st, f->folded[j]);                                  \
                else separator(st);                                                           \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    separator(st);                                                                            \
    if (by_line) line_break(st, 1);                                                           \
    return 0;                                                                                 \
}

SCAN_OF(scan_ucs1, Py_UCS1)
SCAN_OF(scan_ucs2, Py_UCS2)
SCAN_OF(scan_ucs4, Py_UCS4)

static const char WORDS_DOC[] =
    "words(text, normalised, by_line) -> (hashes, counts, joined) or None\n\n"
    "The words of a text: runs of word characters (alphanumeric or '_', as re's \\w) once case folded (as\n"
    "str.casefold), each hashed with xxh32 of its UTF-8. `normalised`: the text is NFKC-normalised already;\n"
    "if not, it must be ASCII but for the separators (set_separators), else the answer is None (normalise\n"
    "it and ask again). hashes: uint32 bytes, a word each; joined: the words joined by single spaces (UTF-8\n"
    "bytes). `by_line`: words never span a line break ('\\n'), joined holds one '\\n' a line break, and counts\n"
    "(int32 bytes) how many words each line has; else counts is None.";

static PyObject *words(PyObject *self, PyObject *args) {
    PyObject *text;
    int normalised, by_line;
    if (!PyArg_ParseTuple(args, "Upp", &text, &normalised, &by_line)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    /* Text not normalised is read byte for byte: a character gives at most one byte (a word's, a space
     * starting a word after a separator, which gives none, or a line break). Once normalised, case folding
     * makes at most 3 characters of one, of at most 4 UTF-8 bytes each, and a space at most with each.
     * A word is at least one character, then a separator. */
    Py_ssize_t folded = normalised ? 3 * len : len;
    Py_ssize_t room = (folded + 1) / 2 + 1;
    uint32_t *wh = PyMem_Malloc(4 * (size_t)room);
    int32_t *counts = PyMem_Malloc(4 * (size_t)(len + 1));
    uint8_t *norm = PyMem_Malloc((normalised ? 13 : 1) * (size_t)len + 1);
    PyObject *result = NULL;
    if (!wh || !counts || !norm) { PyErr_NoMemory(); goto done; }
    Scan st = {wh, counts, norm, 0, 0, 0, 0, 0, 0, 1};
    int failed = 0;
    switch (kind) {   /* one loop a character width, so that reading a character is one load */
    case PyUnicode_1BYTE_KIND: failed = scan_ucs1(&st, data, len, normalised, by_line); break;
    case PyUnicode_2BYTE_KIND: failed = scan_ucs2(&st, data, len, normalised, by_line); break;
    default: failed = scan_ucs4(&st, data, len, normalised, by_line); break;
    }
    if (failed < 0) goto done;
    if (failed > 0) { result = Py_NewRef(Py_None); goto done; }
    Py_ssize_t n = st.n, at = st.at, lines = st.lines;
    result = Py_BuildValue("y#Ny#", (const char *)wh, 4 * n,
                           by_line ? PyBytes_FromStringAndSize((const char *)counts, 4 * lines) : Py_NewRef(Py_None),
                           (const char *)norm, at);
done:
    PyMem_Free(wh);
    PyMem_Free(counts);
    PyMem_Free(norm);
    return result;
}

static const char AGREE_DOC[] =
    "agree(minhash, others) -> bytes of int32\n\n"
    "For each row of others (k x num_perm uint32, C order), how many of its values equal minhash's.";

static PyObject *agree(PyObject *self, PyObject *args) {
    Py_buffer mb = {0}, ob = {0};
    if (!PyArg_ParseTuple(args, "y*y*", &mb, &ob)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t perms = mb.len / 4;
    if (mb.len % 4 || !perms || ob.len % mb.len) {
        PyErr_SetString(PyExc_ValueError, "agree: minhash uint32, others k rows of its length");
        goto done;
    }
    Py_ssize_t k = ob.len / mb.len;
    result = PyBytes_FromStringAndSize(NULL, 4 * k);
    if (!result) goto done;
    int32_t *counts = (int32_t *)PyBytes_AS_STRING(result);
    const uint32_t *mine = mb.buf, *others = ob.buf;
    for (Py_ssize_t i = 0; i < k; i++) {
        int32_t same = 0;
        for (Py_ssize_t p = 0; p < perms; p++) same += others[i * perms + p] == mine[p];
        counts[i] = same;
    }
done:
    PyBuffer_Release(&mb); PyBuffer_Release(&ob);
    return result;
}

static const char SHARED_DOC[] =
    "shared(a, b) -> int\n\n"
    "How many values two sorted, distinct uint32 arrays have in common.";

static PyObject *shared(PyObject *self, PyObject *args) {
    Py_buffer ab = {0}, bb = {0};
    if (!PyArg_ParseTuple(args, "y*y*", &ab, &bb)) return NULL;
    PyObject *result = NULL;
    if (ab.len % 4 || bb.len % 4) {
        PyErr_SetString(PyExc_ValueError, "shared: two uint32 arrays");
        goto done;
    }
    const uint32_t *a = ab.buf, *b = bb.buf;
    Py_ssize_t na = ab.len / 4, nb = bb.len / 4, i = 0, j = 0, same = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) i++;
        else if (a[i] > b[j]) j++;
        else { same++; i++; j++; }
    }
    result = PyLong_FromSsize_t(same);
done:
    PyBuffer_Release(&ab); PyBuffer_Release(&bb);
    return result;
}

static PyObject *set_separators(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg) || PyUnicode_GET_LENGTH(arg) > MAX_SEPARATORS) {
        PyErr_Format(PyExc_ValueError, "set_separators takes a str of at most %d characters", MAX_SEPARATORS);
        return NULL;
    }
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyUnicode_READ(kind, data, i) < 128) {
            PyErr_SetString(PyExc_ValueError, "the separators are non-ASCII characters");
            return NULL;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) SEPARATOR[i] = PyUnicode_READ(kind, data, i);
    n_separators = (int)n;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"agree", agree, METH_VARARGS, AGREE_DOC},
    {"shared", shared, METH_VARARGS, SHARED_DOC},
    {"set_separators", set_separators, METH_O, "set_separators(chars): the non-ASCII characters words() reads as separators in text not normalised"},
    {"sign_hashes", sign_hashes, METH_VARARGS, SIGN_HASHES_DOC},
    {"words", words, METH_VARARGS, WORDS_DOC},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_minhash", "The fingerprint's arithmetic and a pair's comparisons in C.", -1, methods};

PyMODINIT_FUNC PyInit__minhash(void) {
    for (int c = 0; c < 256; c++)
        WORD_BYTE[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_' ? (uint8_t)c
                       : (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : 0;
    return PyModule_Create(&module);
}

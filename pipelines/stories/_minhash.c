/* The fingerprint's arithmetic in C: words, their xxh32 hashes, shingle hashes, sorted unique, and the
 * affine32 MinHash; and the comparisons that verify a pair (signature values in common, shingles in
 * common). The same values as the numpy paths of fingerprint.py and verify.py, which stay as the fallback
 * when this module is not built (tests hold the two to identical answers).
 *
 * The caller passes every output buffer (numpy arrays it allocates) and the buffers' sizes are checked here:
 * a wrong size raises ValueError, never writes out of bounds. The GIL is held throughout (a call takes a
 * few microseconds).
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
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }   /* little-endian hosts */

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

/* The code point of the UTF-8 sequence at p (valid UTF-8, as str.encode writes it, lone surrogates
 * included), and its length in *len; 0xFFFFFFFF for a sequence cut short */
static uint32_t code_point(const uint8_t *p, Py_ssize_t left, int *len) {
    uint8_t c = p[0];
    int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (n > left) return 0xFFFFFFFFU;
    uint32_t cp = c & (0x7F >> n);
    for (int i = 1; i < n; i++) cp = (cp << 6) | (p[i] & 0x3F);
    *len = n;
    return cp;
}

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

typedef struct { Py_buffer view; int held; } Buf;

static void release(Buf *bufs, int n) {
    for (int i = 0; i < n; i++)
        if (bufs[i].held) PyBuffer_Release(&bufs[i].view);
}

/* The uint32 permutations and the minhash output: equal lengths, a multiple of 4 bytes */
static int check_perms(Buf *a, Buf *b, Buf *mins, Py_ssize_t *perms) {
    if (a->view.len % 4 || a->view.len != b->view.len || a->view.len != mins->view.len || !a->view.len) {
        PyErr_SetString(PyExc_ValueError, "permutations a, b and the minhash output must be uint32 arrays of one length");
        return -1;
    }
    *perms = a->view.len / 4;
    return 0;
}

static const char SIGN_HASHES_DOC[] =
    "sign_hashes(word_hashes, k, a, b, minhash_out, shingles_out) -> number of shingles\n\n"
    "The sorted unique hashes of every run of k word hashes (uint32) into shingles_out (room for\n"
    "max(len(word_hashes), 1)), and their affine32 MinHash under the permutations (a, b) into minhash_out.";

static PyObject *sign_hashes(PyObject *self, PyObject *args) {
    Buf buf[5] = {{0}};
    Py_ssize_t k, perms, n;
    if (!PyArg_ParseTuple(args, "y*ny*y*w*w*", &buf[0].view, &k, &buf[1].view, &buf[2].view, &buf[3].view, &buf[4].view))
        return NULL;
    for (int i = 0; i < 5; i++) buf[i].held = 1;
    PyObject *result = NULL;
    if (check_perms(&buf[1], &buf[2], &buf[3], &perms) < 0) goto done;
    n = buf[0].view.len / 4;
    if (buf[0].view.len % 4 || k < 1 || buf[4].view.len < 4 * (n > 1 ? n : 1)) {
        PyErr_SetString(PyExc_ValueError, "word_hashes must be uint32, k at least 1, shingles_out room for max(len(word_hashes), 1)");
        goto done;
    }
    uint32_t *work = PyMem_Malloc(4 * (size_t)(n > 1 ? n : 1));
    if (!work) { PyErr_NoMemory(); goto done; }
    Py_ssize_t m = sign(buf[0].view.buf, n, k, buf[1].view.buf, buf[2].view.buf, perms, buf[3].view.buf, buf[4].view.buf, work);
    PyMem_Free(work);
    result = PyLong_FromSsize_t(m);
done:
    release(buf, 5);
    return result;
}

static const char SIGN_TEXT_DOC[] =
    "sign_text(utf8, k, a, b, minhash_out, shingles_out, normalised_out) -> (number of shingles, length of normalised) or None\n\n"
    "The words of text that is ASCII but for separators (set_separators): runs of [0-9A-Za-z_], lowercased,\n"
    "joined by single spaces into normalised_out (room for len(utf8)), hashed with xxh32, and signed as\n"
    "sign_hashes does into minhash_out and shingles_out (room for len(utf8) // 2 + 1). None, with nothing\n"
    "signed, when the text holds any other non-ASCII character (it takes the general path).";

static PyObject *sign_text(PyObject *self, PyObject *args) {
    Buf buf[6] = {{0}};
    Py_ssize_t k, perms;
    if (!PyArg_ParseTuple(args, "y*ny*y*w*w*w*", &buf[0].view, &k, &buf[1].view, &buf[2].view, &buf[3].view,
                          &buf[4].view, &buf[5].view))
        return NULL;
    for (int i = 0; i < 6; i++) buf[i].held = 1;
    PyObject *result = NULL;
    if (check_perms(&buf[1], &buf[2], &buf[3], &perms) < 0) goto done;
    const uint8_t *raw = buf[0].view.buf;
    Py_ssize_t len = buf[0].view.len, room = len / 2 + 1;   /* a word is at least one byte, then a separator */
    if (k < 1 || buf[4].view.len < 4 * room || buf[5].view.len < len) {
        PyErr_SetString(PyExc_ValueError, "k must be at least 1, shingles_out room for len(utf8) // 2 + 1, normalised_out for len(utf8)");
        goto done;
    }
    uint32_t *wh = PyMem_Malloc(8 * (size_t)room);
    if (!wh) { PyErr_NoMemory(); goto done; }
    uint8_t *norm = buf[5].view.buf;
    Py_ssize_t n = 0, at = 0, start = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i <= len; i++) {
        uint8_t c = 0;
        if (i < len && raw[i] >= 128) {   /* a separator, or the general path */
            int seq;
            if (!is_separator(code_point(raw + i, len - i, &seq))) {
                PyMem_Free(wh);
                result = Py_NewRef(Py_None);
                goto done;
            }
            i += seq - 1;
        } else if (i < len) {
            c = WORD_BYTE[raw[i]];
        }
        if (c) {
            if (!in_word) {
                if (at) norm[at++] = ' ';
                start = at;
                in_word = 1;
            }
            norm[at++] = c;
        } else if (in_word) {
            wh[n++] = xxh32(norm + start, (size_t)(at - start));
            in_word = 0;
        }
    }
    Py_ssize_t m = sign(wh, n, k, buf[1].view.buf, buf[2].view.buf, perms, buf[3].view.buf, buf[4].view.buf, wh + room);
    PyMem_Free(wh);
    result = Py_BuildValue("nn", m, at);
done:
    release(buf, 6);
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

static const char SIGN_STR_DOC[] =
    "sign_str(nfkc, k, a, b, minhash_out) -> (shingles, normalised)\n\n"
    "The general path of sign_text, for any text once NFKC-normalised (the caller normalises): case folded\n"
    "(as str.casefold), its words are the runs of word characters (alphanumeric or '_', as re's \\w), each\n"
    "hashed with xxh32 of its UTF-8 and signed into minhash_out; returns the sorted unique shingle hashes\n"
    "(uint32 bytes) and the words joined by single spaces (UTF-8 bytes).";

static PyObject *sign_str(PyObject *self, PyObject *args) {
    Buf buf[3] = {{0}};
    PyObject *text;
    Py_ssize_t k, perms;
    if (!PyArg_ParseTuple(args, "Uny*y*w*", &text, &k, &buf[0].view, &buf[1].view, &buf[2].view)) return NULL;
    for (int i = 0; i < 3; i++) buf[i].held = 1;
    PyObject *result = NULL;
    uint32_t *wh = NULL;
    uint8_t *norm = NULL;
    if (check_perms(&buf[0], &buf[1], &buf[2], &perms) < 0) goto done;
    if (k < 1) { PyErr_SetString(PyExc_ValueError, "k must be at least 1"); goto done; }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    Py_ssize_t room = 3 * len / 2 + 1;   /* words: each of at most 3 folded characters, then a separator */
    wh = PyMem_Malloc(8 * (size_t)room);
    norm = PyMem_Malloc(12 * (size_t)len + 1);   /* at most 3 folded characters of 4 bytes each */
    if (!wh || !norm) { PyErr_NoMemory(); goto done; }
    Py_ssize_t n = 0, at = 0, start = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i <= len; i++) {
        uint32_t one[1];
        uint8_t one_word[1];
        const uint32_t *cps = one;
        const uint8_t *words = one_word;
        int count = 1;
        Py_UCS4 c = i < len ? PyUnicode_READ(kind, data, i) : 0;
        if (c < 128) {   /* (the end of the text reads as a separator) */
            one[0] = WORD_BYTE[c];
            one_word[0] = one[0] != 0;
        } else {
            const Fold *f = fold_of(c);
            if (!f) goto done;
            cps = f->folded;
            words = f->word;
            count = f->n;
        }
        for (int j = 0; j < count; j++) {
            if (words[j]) {
                if (!in_word) {
                    if (at) norm[at++] = ' ';
                    start = at;
                    in_word = 1;
                }
                at += put_utf8(norm + at, cps[j]);
            } else if (in_word) {
                wh[n++] = xxh32(norm + start, (size_t)(at - start));
                in_word = 0;
            }
        }
    }
    PyObject *shingles = PyBytes_FromStringAndSize(NULL, 4 * (n > 1 ? n : 1));
    if (!shingles) goto done;
    Py_ssize_t m = sign(wh, n, k, buf[0].view.buf, buf[1].view.buf, perms, buf[2].view.buf,
                        (uint32_t *)PyBytes_AS_STRING(shingles), wh + room);
    if (_PyBytes_Resize(&shingles, 4 * m) < 0) goto done;
    result = Py_BuildValue("Ny#", shingles, (const char *)norm, at);
done:
    PyMem_Free(wh);
    PyMem_Free(norm);
    release(buf, 3);
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
    {"set_separators", set_separators, METH_O, "set_separators(chars): the non-ASCII characters sign_text reads as separators"},
    {"sign_hashes", sign_hashes, METH_VARARGS, SIGN_HASHES_DOC},
    {"sign_text", sign_text, METH_VARARGS, SIGN_TEXT_DOC},
    {"sign_str", sign_str, METH_VARARGS, SIGN_STR_DOC},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_minhash", "The fingerprint's arithmetic and a pair's comparisons in C.", -1, methods};

PyMODINIT_FUNC PyInit__minhash(void) {
    for (int c = 0; c < 256; c++)
        WORD_BYTE[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_' ? (uint8_t)c
                       : (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : 0;
    return PyModule_Create(&module);
}

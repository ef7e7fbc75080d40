/* The band index's searches in C (bands.py and index.py keep the numpy versions as the fallback when this
 * module is not built; tests hold the two to the same answers).
 *
 * Each answers with bytes holding distinct int64 codes or indexes, which the caller reads with numpy.
 * Buffer sizes are checked: a mismatch raises ValueError. The GIL is held throughout.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int64_t *v; Py_ssize_t n, cap; } Codes;

static int push(Codes *c, int64_t code) {
    if (c->n == c->cap) {
        Py_ssize_t cap = c->cap ? 2 * c->cap : 256;
        int64_t *v = PyMem_Realloc(c->v, (size_t)cap * sizeof *v);
        if (!v) { PyErr_NoMemory(); return -1; }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = code;
    return 0;
}

/* A set of uint32 ids, emptied in O(1) by moving to the next generation */
typedef struct { uint32_t *id, *gen; Py_ssize_t slots, count; uint32_t now; } IdSet;

static int idset_init(IdSet *s, Py_ssize_t slots) {
    s->id = PyMem_Calloc((size_t)slots, sizeof *s->id);
    s->gen = PyMem_Calloc((size_t)slots, sizeof *s->gen);
    s->slots = slots;
    s->count = 0;
    s->now = 1;
    if (!s->id || !s->gen) { PyErr_NoMemory(); return -1; }
    return 0;
}

static void idset_free(IdSet *s) { PyMem_Free(s->id); PyMem_Free(s->gen); }

static void idset_clear(IdSet *s) { s->now++; s->count = 0; }   /* (2**32 generations: no wrap in a call) */

static inline Py_ssize_t idset_slot(const IdSet *s, uint32_t id) {
    Py_ssize_t at = (Py_ssize_t)((id * 0x9E3779B1U) >> 7) & (s->slots - 1);
    while (s->gen[at] == s->now && s->id[at] != id) at = (at + 1) & (s->slots - 1);
    return at;
}

/* 1 when id is new (and now in the set), 0 when it was there, -1 on no memory */
static int idset_add(IdSet *s, uint32_t id) {
    Py_ssize_t at = idset_slot(s, id);
    if (s->gen[at] == s->now) return 0;
    if (2 * (s->count + 1) > s->slots) {   /* grow, keeping this generation's ids */
        IdSet bigger;
        if (idset_init(&bigger, 2 * s->slots) < 0) return -1;
        for (Py_ssize_t i = 0; i < s->slots; i++) {
            if (s->gen[i] == s->now) {
                Py_ssize_t to = idset_slot(&bigger, s->id[i]);
                bigger.id[to] = s->id[i];
                bigger.gen[to] = bigger.now;
            }
        }
        bigger.count = s->count;
        idset_free(s);
        *s = bigger;
        at = idset_slot(s, id);
    }
    s->id[at] = id;
    s->gen[at] = s->now;
    s->count++;
    return 1;
}

static PyObject *as_bytes(Codes *c) {
    return PyBytes_FromStringAndSize((const char *)c->v, c->n * (Py_ssize_t)sizeof *c->v);
}

typedef struct { Py_buffer keys, ids, directory; int shift, width; Py_ssize_t m; } Run;

static const char LOOKUP_DOC[] =
    "lookup(needles, bands, runs) -> bytes of int64\n\n"
    "The entries of the sorted runs whose key is one of the uint64 needles (k x bands: each signature's band\n"
    "keys), as the codes signature << 32 | id, each once, grouped by signature in order. A run is a tuple\n"
    "(keys uint64, ids uint32, directory, shift): its bucket directory of int32 or int64 offsets over the\n"
    "keys' top bits, shift = 64 - bits. What Run.lookup over every run, then numpy.unique, gives.";

static PyObject *lookup(PyObject *self, PyObject *args) {
    Py_buffer nb = {0};
    Py_ssize_t bands;
    PyObject *run_list, *result = NULL;
    if (!PyArg_ParseTuple(args, "y*nO!", &nb, &bands, &PyList_Type, &run_list)) return NULL;
    Py_ssize_t n_runs = PyList_GET_SIZE(run_list), held = 0;
    Run *runs = PyMem_Calloc((size_t)(n_runs ? n_runs : 1), sizeof *runs);
    Codes codes = {0};
    IdSet seen = {0};
    if (!runs) { PyErr_NoMemory(); goto done; }
    for (; held < n_runs; held++) {
        Run *r = &runs[held];
        if (!PyArg_ParseTuple(PyList_GET_ITEM(run_list, held), "y*y*y*i", &r->keys, &r->ids, &r->directory, &r->shift)) goto done;
        Py_ssize_t buckets = r->shift >= 1 && r->shift <= 63 ? (Py_ssize_t)1 << (64 - r->shift) : 0;
        r->m = r->keys.len / 8;
        r->width = buckets && r->directory.len == 4 * (buckets + 1) ? 4 : buckets && r->directory.len == 8 * (buckets + 1) ? 8 : 0;
        if (r->keys.len % 8 || r->ids.len != 4 * r->m || !r->width) {
            held++;
            PyErr_SetString(PyExc_ValueError, "lookup: a run's keys uint64, its ids uint32 of their length, its "
                                              "directory 2**(64 - shift) + 1 int32 or int64 offsets");
            goto done;
        }
    }
    Py_ssize_t n = nb.len / 8;
    if (nb.len % 8 || bands < 1 || n % bands) {
        PyErr_SetString(PyExc_ValueError, "lookup: needles must be uint64, k x bands");
        goto done;
    }
    if (idset_init(&seen, 1024) < 0) goto done;
    const uint64_t *needles = nb.buf;
    for (Py_ssize_t sig = 0; sig < n / bands; sig++) {
        idset_clear(&seen);
        for (Py_ssize_t r = 0; r < n_runs; r++) {
            const uint64_t *keys = runs[r].keys.buf;
            const uint32_t *ids = runs[r].ids.buf;
            const void *dir = runs[r].directory.buf;
            int shift = runs[r].shift;
            for (Py_ssize_t b = 0; b < bands; b++) {
                uint64_t needle = needles[sig * bands + b], bucket = needle >> shift;
                int64_t lo, hi;
                if (runs[r].width == 4) { lo = ((const int32_t *)dir)[bucket]; hi = ((const int32_t *)dir)[bucket + 1]; }
                else { lo = ((const int64_t *)dir)[bucket]; hi = ((const int64_t *)dir)[bucket + 1]; }
                if (lo < 0 || hi > runs[r].m) {
                    PyErr_SetString(PyExc_ValueError, "lookup: a run's directory points outside it");
                    goto done;
                }
                for (int64_t j = lo; j < hi; j++) {
                    if (keys[j] != needle) continue;
                    int added = idset_add(&seen, ids[j]);
                    if (added < 0 || (added && push(&codes, (int64_t)sig << 32 | ids[j]) < 0)) goto done;
                }
            }
        }
    }
    result = as_bytes(&codes);
done:
    for (Py_ssize_t i = 0; i < held; i++) {
        PyBuffer_Release(&runs[i].keys); PyBuffer_Release(&runs[i].ids); PyBuffer_Release(&runs[i].directory);
    }
    PyMem_Free(runs);
    PyMem_Free(codes.v);
    if (seen.id) idset_free(&seen);
    PyBuffer_Release(&nb);
    return result;
}

static const char EARLIER_DOC[] =
    "earlier(keys, bands, found) -> bytes of int64\n\n"
    "For a batch of k signatures' band keys (uint64, k x bands, in batch order), the pairs (later, earlier)\n"
    "of signatures that share a key, the earlier one among those that can be found (found: one byte a\n"
    "signature, nonzero for those that can), as the codes later * k + earlier, each once.";

static PyObject *earlier(PyObject *self, PyObject *args) {
    Py_buffer kb = {0}, fb = {0};
    Py_ssize_t bands;
    if (!PyArg_ParseTuple(args, "y*ny*", &kb, &bands, &fb)) return NULL;
    PyObject *result = NULL;
    Codes codes = {0};
    Py_ssize_t *head = NULL, *next = NULL, *mark = NULL;
    Py_ssize_t entries = kb.len / 8, k = fb.len;
    if (kb.len % 8 || bands < 1 || entries != k * bands) {
        PyErr_SetString(PyExc_ValueError, "earlier: keys must be uint64, k x bands for the k flags of found");
        goto done;
    }
    const uint64_t *keys = kb.buf;
    const uint8_t *found = fb.buf;
    /* open addressing over the keys added so far: each slot heads a chain of the entries with its key */
    Py_ssize_t slots = 16;
    while (slots < 2 * entries) slots *= 2;
    head = PyMem_Malloc((size_t)slots * sizeof *head);
    next = PyMem_Malloc((size_t)(entries ? entries : 1) * sizeof *next);
    mark = PyMem_Malloc((size_t)(k ? k : 1) * sizeof *mark);   /* mark[j] == i: pair (i, j) given already */
    if (!head || !next || !mark) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t s = 0; s < slots; s++) head[s] = -1;
    for (Py_ssize_t j = 0; j < k; j++) mark[j] = -1;
    for (Py_ssize_t i = 0; i < k; i++) {
        for (Py_ssize_t b = 0; b < bands; b++) {
            Py_ssize_t e = i * bands + b;
            uint64_t key = keys[e];
            Py_ssize_t s = (Py_ssize_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (slots - 1);
            while (head[s] >= 0 && keys[head[s]] != key) s = (s + 1) & (slots - 1);
            for (Py_ssize_t f = head[s]; f >= 0; f = next[f]) {
                Py_ssize_t j = f / bands;
                if (j != i && mark[j] != i) {
                    mark[j] = i;
                    if (push(&codes, (int64_t)i * k + j) < 0) goto done;
                }
            }
            if (found[i]) {
                next[e] = head[s];
                head[s] = e;
            }
        }
    }
    result = as_bytes(&codes);
done:
    PyMem_Free(codes.v);
    PyMem_Free(head);
    PyMem_Free(next);
    PyMem_Free(mark);
    PyBuffer_Release(&kb); PyBuffer_Release(&fb);
    return result;
}

static const char SHARE_BAND_DOC[] =
    "share_band(minhash, others, bands, rows) -> bytes of int64\n\n"
    "The indexes of the rows of others (k x num_perm uint32, C order) that share all `rows` values of at\n"
    "least one of the first `bands` bands with minhash (num_perm uint32): index.band_candidates.";

static PyObject *share_band(PyObject *self, PyObject *args) {
    Py_buffer mb = {0}, ob = {0};
    Py_ssize_t bands, rows;
    if (!PyArg_ParseTuple(args, "y*y*nn", &mb, &ob, &bands, &rows)) return NULL;
    PyObject *result = NULL;
    Codes codes = {0};
    Py_ssize_t perms = mb.len / 4;
    if (mb.len % 4 || bands < 1 || rows < 1 || bands * rows > perms || !perms || ob.len % mb.len) {
        PyErr_SetString(PyExc_ValueError, "share_band: minhash uint32 with at least bands x rows values, others k rows of it");
        goto done;
    }
    const uint32_t *mine = mb.buf, *others = ob.buf;
    Py_ssize_t k = ob.len / mb.len;
    for (Py_ssize_t i = 0; i < k; i++) {
        const uint32_t *other = others + i * perms;
        for (Py_ssize_t b = 0; b < bands; b++) {
            if (!memcmp(mine + b * rows, other + b * rows, 4 * (size_t)rows)) {
                if (push(&codes, i) < 0) goto done;
                break;
            }
        }
    }
    result = as_bytes(&codes);
done:
    PyMem_Free(codes.v);
    PyBuffer_Release(&mb); PyBuffer_Release(&ob);
    return result;
}

static PyMethodDef methods[] = {
    {"share_band", share_band, METH_VARARGS, SHARE_BAND_DOC},
    {"lookup", lookup, METH_VARARGS, LOOKUP_DOC},
    {"earlier", earlier, METH_VARARGS, EARLIER_DOC},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bands", "The band index's searches in C.", -1, methods};

PyMODINIT_FUNC PyInit__bands(void) { return PyModule_Create(&module); }

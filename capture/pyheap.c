/*
 * pyheap.c - the CPython part of a snapshot (see pyheap.h).
 *
 * Order of work:
 *   1. pyfind: which CPython, where _PyRuntime is (ELF files only).
 *   2. pause every thread (ptpause), copy the resident writable memory
 *      (pyimage), resume. Everything below reads the copy.
 *   3. pymalloc: the arenas array and every used pool header give the
 *      size-class table, per-arena figures and the totals of
 *      sys._debugmallocstats(), and the list of pools to scan.
 *   4. GC lists of every generation (the permanent one included): the
 *      tracked objects.
 *   5. A scan of every block handed out in the used pools finds the
 *      untracked small objects (int, float, str, bytes, untracked tuples
 *      and dicts); a candidate is accepted only when its type is a real
 *      type, its refcount is plausible and its size maps to the pool's
 *      size class.
 *   6. References from containers (list, tuple, dict, set items) and
 *      pointer-sized words of other objects reach the untracked objects
 *      outside the arenas (over 512 bytes: big str, bytes, int, tuple).
 *   Objects are de-duplicated by address throughout.
 *
 * Sizes: sys.getsizeof is recomputed from the type's rule (exact for the
 * types below and for every type that does not override __sizeof__;
 * others are flagged approximate). Allocated bytes are the pymalloc block
 * size, or the glibc chunk's usable size for malloc'd memory, of the
 * object and of the buffers its getsizeof counts (list items, dict keys
 * and values, set tables, str UTF-8 copies).
 */

#include "pyheap.h"
#include "pyheap_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "ptpause.h"
#include "py_layout.h"
#include "pyfind.h"
#include "pyimage.h"

/* tp_flags bits (Include/object.h, unchanged 3.8-3.13). */
#define TPF_HEAPTYPE (1ull << 9)
#define TPF_READY (1ull << 12)
#define TPF_HAVE_GC (1ull << 14)
#define TPF_LONG_SUBCLASS (1ull << 24)
#define TPF_LIST_SUBCLASS (1ull << 25)
#define TPF_TUPLE_SUBCLASS (1ull << 26)
#define TPF_BYTES_SUBCLASS (1ull << 27)
#define TPF_UNICODE_SUBCLASS (1ull << 28)
#define TPF_DICT_SUBCLASS (1ull << 29)
#define TPF_TYPE_SUBCLASS (1ull << 31)


#define OBMALLOC_FILE "obmalloc.c" /* the STT_FILE of pymalloc's statics (3.8-3.11) */
#define MAX_INTERPRETERS 256
#define MAX_TYPES (1u << 20)
#define NAME_MAX_LEN 512
#define REFCNT_MAX (1ull << 40)
/* Dict entries that dict_get may examine in one walk, beyond one per 8
 * bytes copied. Lookups are linear scans, and types (base chains of up to
 * 64), modules and heap types may all share one huge dict: without a
 * budget a hostile heap makes the walk quadratic. Real heaps use a small
 * fraction of it. */
#define DICT_BUDGET_BASE (1u << 20)

enum { K_GENERIC, K_INT, K_FLOAT, K_STR, K_BYTES, K_TUPLE, K_LIST, K_DICT, K_SET, K_TYPE };

typedef struct {
    uint64_t addr;            /* the type object in the target */
    char *name;               /* tp_name */
    char *qualname, *module;  /* heap types: __qualname__, __module__; else NULL */
    uint64_t flags;           /* tp_flags */
    uint64_t basicsize, itemsize;
    int kind;                 /* K_* size rule */
    int approx;               /* getsizeof rule not known exactly */
    int alloc_approx;         /* some allocation size was not found */
    uint64_t count, getsize, alloc;
} tyinfo;

/* Open-addressing map from a nonzero address to a u32. */
typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;            /* cap: power of two */
} addrmap;

typedef struct {
    uint64_t addr;            /* pool header address */
    uint32_t szidx;
    uint32_t count;           /* ref.count: blocks in use */
} upool;

typedef struct {
    uint64_t start, end;      /* arena memory, [start, end) */
} arena_range;

typedef struct {
    const py_layout *L;
    const py_runtime_info *pi;
    const pyheap_syms *syms;  /* symbol addresses of the runtime's ELF */
    redactor *redact;         /* NULL: paths kept */
    uint64_t sym_delta;       /* added to symbol addresses: which mapped copy is live */
    pyimage *im;
    unsigned minor;
    /* known builtin types */
    uint64_t t_set, t_frozenset, t_float, t_object, t_module;
    /* types */
    tyinfo *ty;
    size_t nty, capty;
    addrmap tymap;            /* type address -> index + 1, or 0 = invalid */
    /* objects */
    uint64_t *seen_bits;      /* objects counted: a bit per 8 bytes of the copy (pyimage_index) */
    uint64_t seen_bitmap_bytes; /* its size */
    size_t last_ar;           /* arena_index's last answer */
    uint64_t *work;           /* objects whose references are followed */
    size_t nwork, capwork;
    /* pymalloc */
    int have_arenas;
    arena_range *ar;          /* sorted by start */
    size_t nar, capar;
    upool *pools;             /* used pools, to scan */
    size_t npools, cappools;
    uint64_t arena_size, pool_size;
    uint64_t pm_counted_arenas, pm_found_arenas, pm_missing_pools;
    /* figures */
    uint64_t gc_objects, pool_objects, ref_objects, bad_gc, broken_lists;
    uint64_t objects, small_objects, small_in_arenas;
    int collecting;
    uint64_t dict_budget;     /* dict entries dict_get may still examine */
    uint64_t ref_budget;      /* references try_ref may still look at */
    int refs_cut;             /* it ran out: follow_refs stopped early */
    size_t name_bytes, name_budget; /* bytes of type names kept, and the most allowed */
    uint64_t types_refused;   /* type-like objects past the limits of type_index */
    uint64_t names_dropped;   /* qualnames and modules past the name budget */
    int dict_budget_out;      /* it ran out: some lookups were not answered */
    int debug_hooks;          /* PYTHONMALLOC=*_debug: blocks start with debug headers */
    const char *allocator;    /* detect_allocator's answer, NULL: unknown */
    FILE *debug;              /* $MEMSNAP_DEBUG_OBJECTS: one line per object counted */
} walk;

/* ----------------------------------------------------------------- utils */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


static int map_init(addrmap *m, size_t cap)
{
    m->cap = cap;
    m->n = 0;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    return m->keys && m->vals ? 0 : -1;
}

static void map_free(addrmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static inline size_t map_slot(const addrmap *m, uint64_t k)
{
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 20) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
    return i;
}

/* 1 and *v when present. */
static int map_get(const addrmap *m, uint64_t k, uint32_t *v)
{
    size_t i = map_slot(m, k);
    if (!m->keys[i]) return 0;
    if (v) *v = m->vals[i];
    return 1;
}

/* 1 if newly inserted, 0 if present (value unchanged), -1 out of memory. */
static int map_put(addrmap *m, uint64_t k, uint32_t v)
{
    if ((m->n + 1) * 2 > m->cap) {
        addrmap g;
        if (map_init(&g, m->cap * 2)) {
            map_free(&g);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = map_slot(&g, m->keys[i]);
                g.keys[j] = m->keys[i];
                g.vals[j] = m->vals[i];
            }
        g.n = m->n;
        map_free(m);
        *m = g;
    }
    size_t i = map_slot(m, k);
    if (m->keys[i]) return 0;
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
    return 1;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 256;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

static int rd64(walk *w, uint64_t a, uint64_t *v)
{
    const void *p = pyimage_ptr(w->im, a, 8);
    if (!p) return -1;
    memcpy(v, p, 8);
    return 0;
}

static int rd32(walk *w, uint64_t a, uint32_t *v)
{
    const void *p = pyimage_ptr(w->im, a, 4);
    if (!p) return -1;
    memcpy(v, p, 4);
    return 0;
}

static uint64_t u64at(const unsigned char *p, uint32_t off)
{
    uint64_t v;
    memcpy(&v, p + off, 8);
    return v;
}

static uint32_t u32at(const unsigned char *p, uint32_t off)
{
    uint32_t v;
    memcpy(&v, p + off, 4);
    return v;
}

/* Index of the arena (or heuristic pool) range holding a, or -1. */
static long arena_index(walk *w, uint64_t a)
{
    /* the scans go through memory in order: the last hit is the best guess */
    size_t g = w->last_ar;
    if (g < w->nar && a >= w->ar[g].start && a < w->ar[g].end) return (long)g;
    size_t lo = 0, hi = w->nar;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->ar[mid].end <= a) lo = mid + 1;
        else hi = mid;
    }
    if (lo < w->nar && a >= w->ar[lo].start) {
        w->last_ar = lo;
        return (long)lo;
    }
    return -1;
}

static int in_arena(walk *w, uint64_t a)
{
    return arena_index(w, a) >= 0;
}

/* Sets up the bitmap of counted objects: a bit per 8 bytes of the copy
 * (an object is counted only after it was read from the copy), so it is
 * a 64th of the copy whatever the heap holds. */
static int seen_init(walk *w)
{
    uint64_t bits = pyimage_span(w->im) / 8 + 1;
    w->seen_bits = calloc((size_t)(bits / 64 + 1), sizeof *w->seen_bits);
    w->seen_bitmap_bytes = (bits / 64 + 1) * sizeof *w->seen_bits;
    return w->seen_bits ? 0 : -1;
}

/* 1 if obj was counted already. */
static int seen_has(walk *w, uint64_t obj)
{
    int64_t i = pyimage_index(w->im, obj);
    if (i < 0) return 0;
    uint64_t b = (uint64_t)i / 8;
    return (w->seen_bits[b / 64] >> (b % 64)) & 1;
}

/* Marks obj counted (an object in the copy). */
static void seen_add(walk *w, uint64_t obj)
{
    int64_t i = pyimage_index(w->im, obj);
    if (i < 0) return;
    uint64_t b = (uint64_t)i / 8;
    w->seen_bits[b / 64] |= 1ull << (b % 64);
}

/* Usable size of the allocation starting at `a`: the pymalloc block size
 * for arena memory, glibc's chunk size for malloc'd memory, 0 for memory
 * that was not allocated at run time (static objects in a data segment).
 * *approx is set when nothing trustworthy was found (then returns `want`). */
static uint64_t alloc_size(walk *w, uint64_t a, uint64_t want, int *approx)
{
    if (w->have_arenas ? in_arena(w, a) : 0) {
        uint64_t pool = a & ~(w->pool_size - 1);
        uint32_t szidx;
        if (!rd32(w, pool + w->L->pool_szidx, &szidx) && szidx < 64) return (uint64_t)(szidx + 1) * w->L->pymalloc_alignment;
        *approx = 1;
        return want;
    }
    uint64_t hdr;
    if (pyimage_is_file(w->im, a)) return 0; /* static: in a data segment */
    if (rd64(w, a - 8, &hdr)) {
        *approx = 1;
        return want;
    }
    uint64_t sz = hdr & ~7ull, usable = sz - ((hdr & 2) ? 16 : 8);
    if (sz >= 32 && usable >= want && usable - want < 4096 + (want >> 3)) return usable;
    if (!w->have_arenas && want <= 512) { /* pool heuristic when the arenas are unknown */
        uint64_t pool = a & ~(w->pool_size - 1);
        uint32_t szidx, cnt;
        if (!rd32(w, pool + w->L->pool_szidx, &szidx) && !rd32(w, pool + w->L->pool_ref_count, &cnt) && szidx < 32 &&
            cnt > 0) {
            uint64_t bs = (uint64_t)(szidx + 1) * w->L->pymalloc_alignment;
            if (bs >= want && (a - pool - w->L->pool_header_size) % bs == 0) return bs;
        }
    }
    *approx = 1;
    return want;
}

static uint64_t sym(walk *w, const char *name)
{
    uint64_t a = w->syms->global(w->syms->ctx, name);
    return a ? a + w->sym_delta : 0;
}

/* A file-static symbol; when the .symtab has no STT_FILE groups (3.12's
 * libpython), a local of that name anywhere, if unique. */
static uint64_t local_sym(walk *w, const char *file, const char *name)
{
    uint64_t a = w->syms->local(w->syms->ctx, file, name);
    if (!a) a = w->syms->local(w->syms->ctx, NULL, name);
    return a ? a + w->sym_delta : 0;
}

/* The symbols of a real target: its runtime ELF, opened by pyfind. */
static uint64_t elf_global(void *ctx, const char *name)
{
    return pyfind_symbol(ctx, name);
}

static uint64_t elf_local(void *ctx, const char *file, const char *name)
{
    return pyfind_local_symbol(ctx, file, name);
}

/* ------------------------------------------------------------- strings */

static size_t utf8_put(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    if (c > 0x10FFFF) c = 0xFFFD;
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Where a str object's characters are: *data, *len (characters), *kind
 * (1, 2, 4), *ascii. -1 when `s` is not a readable str. */
static int str_data(walk *w, uint64_t s, uint64_t *data, uint64_t *len, unsigned *kind, int *ascii, int *compact)
{
    const py_layout *L = w->L;
    const unsigned char *o = pyimage_ptr(w->im, s, L->unicode_ascii_size);
    if (!o) return -1;
    uint64_t n = u64at(o, L->unicode_length);
    uint32_t st = u32at(o, L->unicode_state);
    unsigned k = (st >> 2) & 7;
    *compact = (st >> 5) & 1;
    *ascii = (st >> 6) & 1;
    if (k != 1 && k != 2 && k != 4) return -1; /* 0: a not-ready legacy string (<=3.11) */
    if (n > (1ull << 40)) return -1;
    *len = n;
    *kind = k;
    if (*compact) {
        *data = s + (*ascii ? L->unicode_ascii_size : L->unicode_compact_size);
    } else {
        uint64_t d;
        if (rd64(w, s + L->unicode_compact_size, &d)) return -1;
        *data = d;
    }
    return 0;
}

/* The str at `s` as UTF-8 in buf (cut at cap-1 bytes). -1 if unreadable. */
static long str_read(walk *w, uint64_t s, char *buf, size_t cap)
{
    uint64_t data, len;
    unsigned kind;
    int ascii, compact;
    if (str_data(w, s, &data, &len, &kind, &ascii, &compact)) return -1;
    if (len * kind > 1u << 20) len = (1u << 20) / kind;
    const unsigned char *p = pyimage_ptr(w->im, data, (size_t)(len * kind));
    if (!p && len) return -1;
    size_t o = 0;
    for (uint64_t i = 0; i < len && o + 5 < cap; i++) {
        uint32_t c = kind == 1 ? p[i] : kind == 2 ? (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) : u32at(p, (uint32_t)(4 * i));
        o += utf8_put(buf + o, c);
    }
    buf[o] = 0;
    return (long)o;
}

static int str_equals(walk *w, uint64_t s, const char *want)
{
    char buf[64];
    long n = str_read(w, s, buf, sizeof buf);
    return n >= 0 && strcmp(buf, want) == 0;
}

/* ---------------------------------------------------------------- dicts */

typedef struct {
    uint64_t entries;         /* address of entry 0 */
    uint64_t nentries;
    uint32_t esize;           /* bytes per entry */
    uint32_t key_off, value_off; /* within an entry; value_off UINT32_MAX when split */
    uint64_t values;          /* split dicts: the values array */
    /* for sizeof */
    uint64_t keys, dk_refcnt, dk_size, dk_usable, index_bytes;
} dictview;

static int dict_view(walk *w, uint64_t d, dictview *v)
{
    const py_layout *L = w->L;
    const unsigned char *o = pyimage_ptr(w->im, d, L->dict_size);
    if (!o) return -1;
    memset(v, 0, sizeof *v);
    v->keys = u64at(o, L->dict_ma_keys);
    uint64_t mv = u64at(o, L->dict_ma_values);
    const unsigned char *k = pyimage_ptr(w->im, v->keys, L->dictkeys_size);
    if (!k) return -1;
    v->dk_refcnt = u64at(k, L->dictkeys_dk_refcnt);
    v->dk_usable = u64at(k, L->dictkeys_dk_usable);
    v->nentries = u64at(k, L->dictkeys_dk_nentries);
    if (L->dictkeys_dk_size != PY_LAYOUT_ABSENT) {
        v->dk_size = u64at(k, L->dictkeys_dk_size);
        if (!v->dk_size || v->dk_size > (1ull << 40) || (v->dk_size & (v->dk_size - 1))) return -1; /* 1: the empty keys */
        unsigned ix = v->dk_size <= 0xff ? 1 : v->dk_size <= 0xffff ? 2 : v->dk_size <= 0xffffffffull ? 4 : 8;
        v->index_bytes = v->dk_size * ix;
        v->esize = 24;
        v->key_off = 8;
        v->value_off = 16;
    } else {
        unsigned log2 = k[L->dictkeys_dk_log2_size], log2ix = k[L->dictkeys_dk_log2_index_bytes];
        if (log2 > 40 || log2ix > 43) return -1;
        v->dk_size = 1ull << log2;
        v->index_bytes = 1ull << log2ix;
        if (k[L->dictkeys_dk_kind] == 0) {
            v->esize = 24;
            v->key_off = 8;
            v->value_off = 16;
        } else {
            v->esize = 16;
            v->key_off = 0;
            v->value_off = 8;
        }
    }
    if (v->nentries > v->dk_size) return -1;
    v->entries = v->keys + L->dictkeys_dk_indices + v->index_bytes;
    if (mv) {
        v->values = mv + L->dictvalues_values;
        v->value_off = UINT32_MAX;
    }
    return 0;
}

/* Key and value of entry i (0 when empty). */
static int dict_entry(walk *w, const dictview *v, uint64_t i, uint64_t *key, uint64_t *val)
{
    const unsigned char *e = pyimage_ptr(w->im, v->entries + i * v->esize, v->esize);
    if (!e) return -1;
    *key = u64at(e, v->key_off);
    if (v->value_off != UINT32_MAX) *val = u64at(e, v->value_off);
    else if (rd64(w, v->values + 8 * i, val)) return -1;
    return 0;
}

/* Value for str key `name` in dict d, or 0. */
static uint64_t dict_get(walk *w, uint64_t d, const char *name)
{
    dictview v;
    if (!d || dict_view(w, d, &v)) return 0;
    for (uint64_t i = 0; i < v.nentries; i++) {
        uint64_t k, val;
        if (!w->dict_budget) {
            w->dict_budget_out = 1;
            return 0;
        }
        w->dict_budget--;
        if (dict_entry(w, &v, i, &k, &val)) return 0;
        if (k && val && str_equals(w, k, name)) return val;
    }
    return 0;
}

/* ---------------------------------------------------------------- types */

static const char *const approx_names[] = {
    /* static types known to override __sizeof__ with a rule memsnap does
     * not reproduce: their getsizeof figure is the generic one */
    "bytearray", "collections.deque", "code", "frame", "generator", "coroutine", "async_generator",
    "collections.OrderedDict", "array.array", "re.Pattern", "_sre.SRE_Pattern", "mmap.mmap",
    "_io.BufferedReader", "_io.BufferedWriter", "_io.BufferedRandom", "_io.BufferedRWPair", "_io.BytesIO",
    "_io.StringIO", "_struct.Struct", "Struct", "decimal.Decimal", "_pickle.Pickler", "_pickle.Unpickler",
    "_decimal.Decimal", "functools.partial", "itertools.tee", NULL};

static int name_in(const char *n, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(n, *list)) return 1;
    return 0;
}

/* Is `t` a type object? (its own type is a type: TYPE_SUBCLASS flag) */
static int looks_like_type(walk *w, uint64_t t, const unsigned char **out)
{
    const py_layout *L = w->L;
    const unsigned char *o = pyimage_ptr(w->im, t, L->type_size);
    if (!o) return 0;
    uint64_t meta = u64at(o, L->object_type), flags = u64at(o, L->type_tp_flags);
    uint64_t bs = u64at(o, L->type_tp_basicsize), is = u64at(o, L->type_tp_itemsize);
    if (!(flags & TPF_READY) || bs < L->object_size || bs > (1u << 24) || is > (1u << 16)) return 0;
    const unsigned char *m = pyimage_ptr(w->im, meta, L->type_size);
    if (!m || !(u64at(m, L->type_tp_flags) & TPF_TYPE_SUBCLASS)) return 0;
    *out = o;
    return 1;
}

static int base_chain_has(walk *w, uint64_t t, uint64_t target)
{
    for (int depth = 0; t && depth < 64; depth++) {
        if (t == target) return 1;
        if (rd64(w, t + w->L->type_tp_base, &t)) return 0;
    }
    return 0;
}

/* Does some type on t's base chain (below the ruled builtins and object)
 * define __sizeof__ in its dict? */
static int overrides_sizeof(walk *w, uint64_t t, int kind)
{
    for (int depth = 0; t && t != w->t_object && depth < 64; depth++) {
        const unsigned char *o = pyimage_ptr(w->im, t, w->L->type_size);
        if (!o) return 1;
        uint64_t flags = u64at(o, w->L->type_tp_flags);
        if (kind != K_GENERIC && !(flags & TPF_HEAPTYPE)) return 0; /* reached the ruled builtin */
        uint64_t d = u64at(o, w->L->type_tp_dict);
        char name[NAME_MAX_LEN];
        if (!(flags & TPF_HEAPTYPE) && pyimage_cstr(w->im, u64at(o, w->L->type_tp_name), name, sizeof name) >= 0 &&
            name_in(name, approx_names))
            return 1;
        if (d && dict_get(w, d, "__sizeof__")) return 1;
        if (w->dict_budget_out) return 1; /* not known: approximate */
        t = u64at(o, w->L->type_tp_base);
    }
    return 0;
}

/* Valid UTF-8 without control characters (what every tp_name is). */
static int name_plausible(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], extra;
        if (c < 0x20 || c == 0x7f) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) extra = 1;
        else if (c >= 0xe0 && c <= 0xef) extra = 2;
        else if (c >= 0xf0 && c <= 0xf4) extra = 3;
        else return 0;
        for (unsigned k = 1; k <= extra; k++)
            if (i + k >= n || (p[i + k] & 0xc0) != 0x80) return 0;
        i += extra + 1;
    }
    return 1;
}

/* Remembers that t is not a type (or not one more type), while the cache
 * stays small: past a 256th of the copy in entries a candidate is judged
 * again each time, so that a heap full of words that only look like type
 * pointers cannot grow the map to several times the copy. */
static void not_a_type(walk *w, uint64_t t)
{
    if (w->tymap.n < pyimage_span(w->im) / 256 + 4096) map_put(&w->tymap, t, 0);
}

/* A copy of a type's qualname or module string, within the walk's budget
 * of name bytes (a quarter of the copy): NULL past it, or out of memory. */
static char *name_dup(walk *w, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > w->name_budget - w->name_bytes) {
        w->names_dropped++;
        return NULL;
    }
    w->name_bytes += n;
    return strdup(s);
}

/* Index of type t in w->ty, or -1 when t is not a type. */
static long type_index(walk *w, uint64_t t)
{
    uint32_t v;
    if (map_get(&w->tymap, t, &v)) return v ? (long)v - 1 : -1;
    const unsigned char *o;
    if (!looks_like_type(w, t, &o)) {
        not_a_type(w, t);
        return -1;
    }
    const py_layout *L = w->L;
    tyinfo ti = {0};
    char buf[NAME_MAX_LEN];
    ti.addr = t;
    ti.flags = u64at(o, L->type_tp_flags);
    ti.basicsize = u64at(o, L->type_tp_basicsize);
    ti.itemsize = u64at(o, L->type_tp_itemsize);
    /* A real type has a readable, printable name: bytes that only look
     * like a type object (memory the scans read as a candidate) rarely do. */
    long nl = pyimage_cstr(w->im, u64at(o, L->type_tp_name), buf, sizeof buf);
    if (nl <= 0 || !name_plausible(buf, (size_t)nl)) {
        not_a_type(w, t);
        return -1;
    }
    /* Real types do not overlap: more of them than the copy holds type
     * objects (or than the name budget allows) are bytes that only look
     * like types, which could otherwise cost many times the copy. */
    if (w->nty >= MAX_TYPES || w->nty > pyimage_span(w->im) / L->type_size || (size_t)nl + 1 > w->name_budget - w->name_bytes) {
        w->types_refused++;
        not_a_type(w, t);
        return -1;
    }
    w->name_bytes += (size_t)nl + 1;
    ti.name = strdup(buf);
    if (ti.flags & TPF_HEAPTYPE) {
        const unsigned char *h = pyimage_ptr(w->im, t, L->heaptype_size);
        if (h && str_read(w, u64at(h, L->heaptype_ht_qualname), buf, sizeof buf) >= 0) ti.qualname = name_dup(w, buf);
        uint64_t m = dict_get(w, u64at(o, w->L->type_tp_dict), "__module__");
        if (m && str_read(w, m, buf, sizeof buf) >= 0) ti.module = name_dup(w, buf);
    }
    if (ti.flags & TPF_LONG_SUBCLASS) ti.kind = K_INT;
    else if (ti.flags & TPF_LIST_SUBCLASS) ti.kind = K_LIST;
    else if (ti.flags & TPF_TUPLE_SUBCLASS) ti.kind = K_TUPLE;
    else if (ti.flags & TPF_BYTES_SUBCLASS) ti.kind = K_BYTES;
    else if (ti.flags & TPF_UNICODE_SUBCLASS) ti.kind = K_STR;
    else if (ti.flags & TPF_DICT_SUBCLASS) ti.kind = K_DICT;
    else if (ti.flags & TPF_TYPE_SUBCLASS) ti.kind = K_TYPE;
    else if (base_chain_has(w, t, w->t_set) || base_chain_has(w, t, w->t_frozenset)) ti.kind = K_SET;
    else if (base_chain_has(w, t, w->t_float)) ti.kind = K_FLOAT;
    ti.approx = ti.kind == K_TYPE || overrides_sizeof(w, t, ti.kind);
    if (!ti.name || grow((void **)&w->ty, &w->capty, w->nty + 1, sizeof *w->ty) ||
        map_put(&w->tymap, t, (uint32_t)w->nty + 1) < 0) {
        free(ti.name);
        free(ti.qualname);
        free(ti.module);
        return -1;
    }
    w->ty[w->nty] = ti;
    return (long)w->nty++;
}

/* ------------------------------------------------------------- objects */

/* Bytes before the object: the GC head and the managed pre-header. */
static uint64_t preheader(const walk *w, uint64_t flags)
{
    uint64_t pre = (flags & TPF_HAVE_GC) ? w->L->gchead_size : 0;
    if (flags & w->L->tpflags_preheader) pre += w->L->preheader_managed_size;
    return pre;
}

/* getsizeof, the object's own memory size (without pre-header) and the
 * allocated bytes of the object and its buffers. 0 ok; 1 when the sizes
 * are only the fixed part (an implausible ob_size: *alloc_approx is set);
 * -1 when the object cannot be read. */
static int object_sizes(walk *w, tyinfo *ti, uint64_t obj, uint64_t *getsize, uint64_t *memsize, uint64_t *alloc,
                        int *alloc_approx)
{
    const py_layout *L = w->L;
    uint64_t pre = preheader(w, ti->flags), sz = 0, mem = 0, extra_alloc = 0;
    int guessed = 0;
    const unsigned char *o = pyimage_ptr(w->im, obj, ti->basicsize < 64 ? ti->basicsize : 64);
    if (!o) return -1;
    switch (ti->kind) {
    case K_INT: {
        uint64_t nd;
        if (L->long_lv_tag != PY_LAYOUT_ABSENT) {
            nd = u64at(o, L->long_lv_tag) >> L->long_non_size_bits;
        } else {
            int64_t s = (int64_t)u64at(o, L->varobject_ob_size);
            nd = (uint64_t)(s < 0 ? -s : s);
        }
        if (nd > (1ull << 32)) return -1;
        if (w->minor >= 11 && nd == 0) nd = 1;
        sz = mem = L->long_ob_digit + nd * L->long_digit_size;
        break;
    }
    case K_STR: {
        uint64_t data, len;
        unsigned kind;
        int ascii, compact;
        if (str_data(w, obj, &data, &len, &kind, &ascii, &compact)) return -1;
        if (compact && ascii) sz = mem = L->unicode_ascii_size + len + 1;
        else if (compact) sz = mem = L->unicode_compact_size + (len + 1) * kind;
        else {
            sz = L->unicode_size + (data ? (len + 1) * kind : 0);
            mem = L->unicode_size;
            if (data) extra_alloc += alloc_size(w, data, (len + 1) * kind, alloc_approx);
        }
        if (!(compact && ascii)) { /* a UTF-8 copy made on demand */
            uint64_t u8len, u8;
            if (!rd64(w, obj + L->unicode_ascii_size, &u8len) && !rd64(w, obj + L->unicode_ascii_size + 8, &u8) && u8 &&
                u8 != data && u8len < (1ull << 40)) {
                sz += u8len + 1;
                extra_alloc += alloc_size(w, u8, u8len + 1, alloc_approx);
            }
        }
        if (w->minor <= 11) { /* wstr */
            uint64_t ws, wlen = len;
            if (!rd64(w, obj + L->unicode_ascii_size - 8, &ws) && ws && ws != data) {
                if (!(compact && ascii) && rd64(w, obj + L->unicode_ascii_size + 16, &wlen)) wlen = len;
                if (wlen < (1ull << 40)) {
                    sz += (wlen + 1) * 4;
                    extra_alloc += alloc_size(w, ws, (wlen + 1) * 4, alloc_approx);
                }
            }
        }
        break;
    }
    case K_LIST: {
        const unsigned char *l = pyimage_ptr(w->im, obj, L->list_size);
        if (!l) return -1;
        uint64_t allocated = u64at(l, L->list_allocated), items = u64at(l, L->list_ob_item);
        if (allocated > (1ull << 40)) return -1;
        sz = ti->basicsize + allocated * 8;
        mem = ti->basicsize;
        if (allocated && items) extra_alloc += alloc_size(w, items, allocated * 8, alloc_approx);
        break;
    }
    case K_DICT: {
        dictview v;
        if (dict_view(w, obj, &v)) return -1;
        sz = mem = ti->basicsize;
        uint64_t usable = (v.dk_size << 1) / 3;
        if (v.values) {
            uint64_t n = w->minor >= 11 ? v.nentries + v.dk_usable : usable;
            sz += n * 8;
            uint64_t start = v.values - L->dictvalues_values;
            if (w->minor == 11 || w->minor == 12) { /* a prefix of order bytes precedes values */
                const unsigned char *p = pyimage_ptr(w->im, v.values - 1, 1);
                if (p) start = v.values - *p;
            }
            extra_alloc += alloc_size(w, start, n * 8, alloc_approx);
        }
        if (v.dk_refcnt == 1) {
            uint64_t ks = L->dictkeys_size + v.index_bytes + usable * v.esize;
            sz += ks;
            extra_alloc += alloc_size(w, v.keys, ks, alloc_approx);
        }
        break;
    }
    case K_SET: {
        const unsigned char *s = pyimage_ptr(w->im, obj, L->set_size);
        if (!s) return -1;
        uint64_t table = u64at(s, L->set_table), mask = u64at(s, L->set_mask);
        sz = mem = ti->basicsize;
        if (table != obj + L->set_smalltable) {
            if (mask > (1ull << 40)) return -1;
            sz += (mask + 1) * L->setentry_size;
            extra_alloc += alloc_size(w, table, (mask + 1) * L->setentry_size, alloc_approx);
        }
        break;
    }
    default: {
        int64_t n = 0;
        if (ti->itemsize) {
            n = (int64_t)u64at(o, L->varobject_ob_size);
            if (n < 0) n = -n;
            /* Some variable-size types keep something else where ob_size
             * would be (3.11+ generators): then only the fixed part is known. */
            if ((uint64_t)n > (1ull << 24)) {
                n = 0;
                guessed = 1;
            }
        }
        sz = mem = ti->basicsize + (uint64_t)n * ti->itemsize;
        break;
    }
    }
    *getsize = sz + pre;
    *memsize = mem;
    *alloc = alloc_size(w, obj - pre, mem + pre, alloc_approx) + extra_alloc;
    if (guessed) *alloc_approx = 1;
    return guessed;
}

/* Counts object `obj` of type index ti whose sizes are known (the scans
 * computed them to validate it). Returns ti, or -3 out of memory. */
static long count_object(walk *w, uint64_t obj, long ti, uint64_t gs, uint64_t mem, uint64_t al, int aa)
{
    tyinfo *t = &w->ty[ti];
    seen_add(w, obj);
    if (w->debug) fprintf(w->debug, "%llx %s %llu\n", (unsigned long long)obj, t->name, (unsigned long long)gs);
    t->count++;
    t->getsize += gs;
    t->alloc += al;
    t->alloc_approx |= aa;
    w->objects++;
    if (mem + preheader(w, t->flags) <= w->L->pymalloc_small_request_threshold) {
        w->small_objects++;
        if (in_arena(w, obj)) w->small_in_arenas++;
    }
    if (t->kind == K_LIST || t->kind == K_TUPLE || t->kind == K_DICT || t->kind == K_SET || t->kind == K_GENERIC ||
        (w->L->managed_dict_kind != PY_MANAGED_DICT_NONE && (t->flags & w->L->tpflags_managed_dict))) {
        if (grow((void **)&w->work, &w->capwork, w->nwork + 1, sizeof *w->work)) return -3;
        w->work[w->nwork++] = obj;
    }
    return ti;
}

/* Counts object `obj` once. Returns its type index, -1 if not an object,
 * -2 if already counted, -3 out of memory. */
static long add_object(walk *w, uint64_t obj)
{
    if (seen_has(w, obj)) return -2;
    const unsigned char *o = pyimage_ptr(w->im, obj, w->L->object_size);
    if (!o) return -1;
    long ti = type_index(w, u64at(o, w->L->object_type));
    if (ti < 0) return -1;
    uint64_t gs, mem, al;
    int aa = 0;
    if (object_sizes(w, &w->ty[ti], obj, &gs, &mem, &al, &aa) < 0) return -1;
    return count_object(w, obj, ti, gs, mem, al, aa);
}

static int refcnt_ok(const walk *w, uint64_t rc)
{
    /* Immortal: low 32 bits negative, and no high bits (a pointer, e.g. a
     * list's item array read as an object, has them). */
    if (w->L->immortal_rule == PY_IMMORTAL_LOW32_NEGATIVE && (int32_t)(uint32_t)rc < 0) return (rc >> 32) == 0;
    return rc >= 1 && rc < REFCNT_MAX;
}

/* ------------------------------------------------------------ pymalloc */

typedef struct {
    uint64_t pools[64], blocks[64], free_blocks[64];
    uint64_t narenas, nfreepools, alignment, ntimes, highwater, reclaimed_known;
} mstats;

static int add_u64s(ms_table *t, const unsigned *cols, const uint64_t *vals, size_t n)
{
    if (ms_table_row(t)) return MS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (ms_table_u64(t, cols[i], vals[i])) return MS_ERR_NOMEM;
    return 0;
}

static int cmp_range(const void *a, const void *b)
{
    const arena_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Stripped builds (3.8-3.11 keep the arenas in file statics, named only in
 * .symtab): finds the pools by their headers instead. Every pool-aligned
 * address of anonymous memory whose header is consistent - szidx below the
 * number of classes, maxnextoffset exactly POOL_SIZE - block size (what
 * pymalloc sets), nextoffset and freeblock inside the pool on block
 * boundaries, ref.count within the blocks handed out - counts as a used
 * pool. Fills the size-class table (approximate: a pool whose header is
 * not resident is missed) and lets the object scan and allocation sizes
 * work as with known arenas. Returns the number of pools found. */
static uint64_t pool_header_scan(walk *w, ms_table *tc)
{
    const py_layout *L = w->L;
    uint64_t hdr = L->pool_header_size, ps = w->pool_size, align = L->pymalloc_alignment;
    unsigned nclasses = L->pymalloc_small_request_threshold / align;
    uint64_t pools[64] = {0}, blocks[64] = {0}, freeb[64] = {0}, found = 0;
    uint64_t s, e;
    int file;
    for (size_t r = 0; pyimage_region(w->im, r, &s, &e, &file) == 0; r++) {
        uint64_t first = (s + ps - 1) & ~(ps - 1);
        if (file || first < s || first > e || e - first < hdr) continue; /* no pool-aligned header inside */
        /* counted, not `p += ps` up to e: near the top of the address space that wraps */
        for (uint64_t k = 0, n = (e - first - hdr) / ps + 1; k < n; k++) {
            uint64_t p = first + k * ps;
            const unsigned char *ph = pyimage_ptr(w->im, p, hdr);
            if (!ph) continue;
            uint32_t cnt = u32at(ph, L->pool_ref_count), sz = u32at(ph, L->pool_szidx);
            uint32_t next = u32at(ph, L->pool_nextoffset), maxnext = u32at(ph, L->pool_maxnextoffset);
            if (sz >= nclasses || cnt == 0) continue;
            uint64_t bs = (uint64_t)(sz + 1) * align, nblocks = (ps - hdr) / bs;
            if (maxnext != ps - bs || next < hdr || next > ps || (next - hdr) % bs) continue;
            uint64_t fb = u64at(ph, L->pool_freeblock);
            if (fb && (fb < p + hdr || fb >= p + ps || (fb - p - hdr) % bs)) continue;
            if (cnt > (next - hdr) / bs + 1 || cnt > nblocks) continue;
            if (grow((void **)&w->pools, &w->cappools, w->npools + 1, sizeof *w->pools) ||
                grow((void **)&w->ar, &w->capar, w->nar + 1, sizeof *w->ar))
                return found;
            w->pools[w->npools++] = (upool){p, sz, cnt};
            w->ar[w->nar++] = (arena_range){p, p + ps};
            pools[sz]++;
            blocks[sz] += cnt;
            freeb[sz] += nblocks - cnt;
            found++;
        }
    }
    for (unsigned c = 0; c < nclasses && found; c++) {
        if (!pools[c]) continue;
        static const unsigned cols[] = {MS_SC_INDEX, MS_SC_BLOCK_SIZE, MS_SC_POOLS, MS_SC_BLOCKS_USED, MS_SC_BLOCKS_FREE};
        uint64_t vals[] = {c, (uint64_t)(c + 1) * align, pools[c], blocks[c], freeb[c]};
        if (add_u64s(tc, cols, vals, 5)) break;
    }
    if (found) w->have_arenas = 1; /* pymalloc memory is known: the pools */
    return found;
}

/* Finds the obmalloc state and reads the arenas. 0 ok, 1 unavailable
 * (why in `why`), <0 writer error. */
static int pymalloc_walk(walk *w, uint64_t main_interp, ms_table *ta, ms_table *tc, ms_table *tt, char *why, size_t wlen)
{
    const py_layout *L = w->L;
    uint64_t arenas_ptr = 0;
    uint32_t maxarenas = 0;
    uint64_t narenas_cur = 0, ntimes = 0, highwater = 0;
    w->arena_size = L->arena_size;
    w->pool_size = L->pool_size;
    if (L->obmalloc_where == PY_OBMALLOC_STATICS) {
        uint64_t a = local_sym(w, OBMALLOC_FILE, PY_OBMALLOC_SYM_ARENAS),
                 m = local_sym(w, OBMALLOC_FILE, PY_OBMALLOC_SYM_MAXARENAS),
                 c = local_sym(w, OBMALLOC_FILE, PY_OBMALLOC_SYM_NARENAS_CURRENTLY_ALLOCATED),
                 t = local_sym(w, OBMALLOC_FILE, PY_OBMALLOC_SYM_NTIMES_ARENA_ALLOCATED),
                 h = local_sym(w, OBMALLOC_FILE, PY_OBMALLOC_SYM_NARENAS_HIGHWATER);
        if (!a || !m) {
            snprintf(why, wlen,
                     "pymalloc statistics unavailable: %.300s has no .symtab entry for obmalloc.c's arenas "
                     "(stripped build)",
                     w->redact ? "the runtime's ELF file" : w->pi->elf_path);
            return 1;
        }
        if (rd64(w, a, &arenas_ptr) || rd32(w, m, &maxarenas) || (c && rd64(w, c, &narenas_cur)) ||
            (t && rd64(w, t, &ntimes)) || (h && rd64(w, h, &highwater))) {
            snprintf(why, wlen, "pymalloc statistics unavailable: obmalloc.c's statics are not readable");
            return 1;
        }
    } else {
        uint64_t obm = main_interp + L->interp_obmalloc;
        if (L->obmalloc_where == PY_OBMALLOC_POINTER && rd64(w, obm, &obm)) obm = 0;
        if (!obm || rd64(w, obm + L->obmalloc_arenas, &arenas_ptr) || rd32(w, obm + L->obmalloc_maxarenas, &maxarenas) ||
            rd64(w, obm + L->obmalloc_narenas_currently_allocated, &narenas_cur) ||
            rd64(w, obm + L->obmalloc_ntimes_arena_allocated, &ntimes) ||
            rd64(w, obm + L->obmalloc_narenas_highwater, &highwater)) {
            snprintf(why, wlen, "pymalloc statistics unavailable: the interpreter's obmalloc state is not readable");
            return 1;
        }
    }
    if (maxarenas > (1u << 24)) {
        snprintf(why, wlen, "pymalloc statistics unavailable: implausible maxarenas %u", maxarenas);
        return 1;
    }
    const unsigned char *arr = maxarenas ? pyimage_ptr(w->im, arenas_ptr, (size_t)maxarenas * L->arena_object_size) : NULL;
    if (maxarenas && !arr) {
        snprintf(why, wlen, "pymalloc statistics unavailable: the arenas array (%u entries at 0x%llx) was not copied",
                 maxarenas, (unsigned long long)arenas_ptr);
        return 1;
    }
    mstats ms;
    memset(&ms, 0, sizeof ms);
    int rc = 0;
    uint64_t missing_pools = 0;
    /* Pools already counted: arenas that repeat or overlap (a corrupt
     * array) must not count a pool twice nor have it scanned twice. */
    addrmap pools_seen;
    if (map_init(&pools_seen, 1024)) {
        map_free(&pools_seen);
        return MS_ERR_NOMEM;
    }
    unsigned nclasses = L->pymalloc_small_request_threshold / L->pymalloc_alignment;
    if (nclasses > 64) nclasses = 64;
    for (uint32_t i = 0; i < maxarenas && !rc; i++) {
        const unsigned char *ao = arr + (size_t)i * L->arena_object_size;
        uint64_t base = u64at(ao, L->arena_address);
        if (!base) continue;
        uint64_t pool_address = u64at(ao, L->arena_pool_address);
        uint32_t nfree = u32at(ao, L->arena_nfreepools), ntotal = u32at(ao, L->arena_ntotalpools);
        ms.narenas++;
        ms.nfreepools += nfree;
        uint64_t start = base;
        if (start + w->arena_size < start) { /* wraps past 2^64: corrupt */
            missing_pools++;
            continue;
        }
        /* Only arenas whose memory was copied become ranges (what the
         * object scan covers): a corrupt arenas array cannot make the
         * agent work on memory that is not there. */
        if (pyimage_has(w->im, (base + w->pool_size - 1) & ~(w->pool_size - 1), L->pool_header_size)) {
            if (grow((void **)&w->ar, &w->capar, w->nar + 1, sizeof *w->ar)) {
                rc = MS_ERR_NOMEM;
                break;
            }
            w->ar[w->nar++] = (arena_range){start, start + w->arena_size};
        }
        if (base & (w->pool_size - 1)) {
            ms.alignment += w->pool_size;
            base = (base & ~(w->pool_size - 1)) + w->pool_size;
        }
        if (pool_address < base || pool_address > start + w->arena_size) {
            missing_pools++;
            continue;
        }
        uint64_t used = 0, live = 0;
        for (uint64_t k = 0, n = (pool_address - base + w->pool_size - 1) / w->pool_size; k < n; k++) {
            uint64_t p = base + k * w->pool_size;
            const unsigned char *ph = pyimage_ptr(w->im, p, L->pool_header_size);
            if (!ph) {
                missing_pools++;
                continue;
            }
            int fresh = map_put(&pools_seen, p, 1);
            if (fresh <= 0) {
                if (fresh < 0) rc = MS_ERR_NOMEM;
                else missing_pools++;
                if (fresh < 0) break;
                continue;
            }
            uint32_t cnt = u32at(ph, L->pool_ref_count), sz = u32at(ph, L->pool_szidx);
            if (cnt == 0) continue;
            if (sz >= nclasses) {
                missing_pools++;
                continue;
            }
            uint64_t bsize = (uint64_t)(sz + 1) * L->pymalloc_alignment;
            uint64_t nblocks = (w->pool_size - L->pool_header_size) / bsize;
            ms.pools[sz]++;
            ms.blocks[sz] += cnt;
            ms.free_blocks[sz] += nblocks >= cnt ? nblocks - cnt : 0;
            used++;
            live += cnt * bsize;
            if (grow((void **)&w->pools, &w->cappools, w->npools + 1, sizeof *w->pools)) {
                rc = MS_ERR_NOMEM;
                break;
            }
            w->pools[w->npools++] = (upool){p, sz, cnt};
        }
        static const unsigned cols[] = {MS_AR_ADDRESS, MS_AR_POOLS_USED, MS_AR_POOLS_FREE, MS_AR_POOLS_TOTAL,
                                        MS_AR_LIVE_BYTES};
        uint64_t vals[] = {start, used, nfree, ntotal, live};
        if (!rc) rc = add_u64s(ta, cols, vals, 5);
    }
    map_free(&pools_seen);
    if (rc) return rc;
    if (w->nar) qsort(w->ar, w->nar, sizeof *w->ar, cmp_range);
    size_t kept = 0; /* overlapping ranges only come from a corrupt array: keep the first */
    for (size_t i = 0; i < w->nar; i++)
        if (!kept || w->ar[i].start >= w->ar[kept - 1].end) w->ar[kept++] = w->ar[i];
    w->nar = kept;
    w->have_arenas = 1;

    uint64_t alloc_b = 0, avail_b = 0, npools = 0, quant = 0;
    for (unsigned c = 0; c < nclasses && !rc; c++) {
        uint64_t bsize = (uint64_t)(c + 1) * L->pymalloc_alignment;
        alloc_b += ms.blocks[c] * bsize;
        avail_b += ms.free_blocks[c] * bsize;
        npools += ms.pools[c];
        quant += ms.pools[c] * ((w->pool_size - L->pool_header_size) % bsize);
        if (!ms.pools[c]) continue;
        static const unsigned cols[] = {MS_SC_INDEX, MS_SC_BLOCK_SIZE, MS_SC_POOLS, MS_SC_BLOCKS_USED, MS_SC_BLOCKS_FREE};
        uint64_t vals[] = {c, bsize, ms.pools[c], ms.blocks[c], ms.free_blocks[c]};
        rc = add_u64s(tc, cols, vals, 5);
    }
    if (rc) return rc;
    static const unsigned tcols[] = {MS_AT_ARENAS,          MS_AT_ARENAS_ALLOCATED,  MS_AT_ARENAS_RECLAIMED,
                                     MS_AT_ARENAS_HIGHWATER, MS_AT_ALLOCATED_BYTES,   MS_AT_AVAILABLE_BYTES,
                                     MS_AT_UNUSED_POOL_BYTES, MS_AT_POOL_HEADER_BYTES, MS_AT_QUANTIZATION_BYTES,
                                     MS_AT_ALIGNMENT_BYTES,  MS_AT_ARENA_BYTES};
    uint64_t tvals[] = {ms.narenas,
                        ntimes,
                        ntimes >= ms.narenas ? ntimes - ms.narenas : 0,
                        highwater,
                        alloc_b,
                        avail_b,
                        ms.nfreepools * w->pool_size,
                        npools * L->pool_header_size,
                        quant,
                        ms.alignment,
                        ms.narenas * w->arena_size};
    rc = add_u64s(tt, tcols, tvals, 11);
    if (rc) return rc;
    w->pm_counted_arenas = narenas_cur;
    w->pm_found_arenas = ms.narenas;
    w->pm_missing_pools = missing_pools;
    return rc;
}

/* ----------------------------------------------------------- allocator */

/* Which allocator serves the object domain (PYTHONMALLOC): the malloc
 * function of its PyMemAllocatorEx, compared with obmalloc.c's functions
 * (.symtab). 3.8-3.11 keep the domain in the static _PyObject; 3.12+ in
 * _PyRuntime.allocators.standard, whose third allocator (raw, mem, obj) it
 * is. NULL when the symbols are missing (stripped builds). */
static const char *detect_allocator(walk *w, uint64_t runtime)
{
    uint64_t f_py = local_sym(w, OBMALLOC_FILE, "_PyObject_Malloc"), f_raw = local_sym(w, OBMALLOC_FILE, "_PyMem_RawMalloc"),
             f_dbg = local_sym(w, OBMALLOC_FILE, "_PyMem_DebugMalloc"), domain = local_sym(w, OBMALLOC_FILE, "_PyObject"),
             f_dbgraw = local_sym(w, OBMALLOC_FILE, "_PyMem_DebugRawMalloc");
    uint64_t fn = 0, ctx = 0;
    if (!f_py || !f_raw) return NULL;
    if (domain) {
        if (rd64(w, domain, &ctx) || rd64(w, domain + 8, &fn)) return NULL;
    } else {
        const unsigned char *r = pyimage_ptr(w->im, runtime, 16384);
        unsigned found = 0;
        for (uint32_t off = 8; r && off + 8 <= 16384 && found < 3; off += 8) {
            uint64_t v = u64at(r, off);
            if (v == f_py || v == f_raw || (f_dbg && v == f_dbg) || (f_dbgraw && v == f_dbgraw)) {
                if (++found == 3) {
                    fn = v;
                    ctx = u64at(r, off - 8);
                }
            }
        }
    }
    if (fn == f_py) return "pymalloc";
    if (fn == f_raw) return "malloc";
    if (f_dbg && fn == f_dbg) { /* debug hooks over what? ctx: {char api_id; PyMemAllocatorEx alloc} */
        uint64_t under = 0;
        if (!rd64(w, ctx + 16, &under) && under == f_raw) return "malloc_debug";
        return "pymalloc_debug";
    }
    return NULL;
}

/* ------------------------------------------------------------ GC lists */

/* Walks one GC list from its head; counts into *n. Sets *broken when the
 * list leaves the copy, is asymmetric or too long. -3 out of memory. */
static int gc_list(walk *w, uint64_t head, uint64_t *n, int *broken)
{
    const py_layout *L = w->L;
    uint64_t limit = pyimage_stats_get(w->im)->copied_bytes / L->gchead_size + 1, prev = head, p;
    *n = 0;
    if (rd64(w, head + L->gchead_next, &p)) {
        *broken = 1;
        return 0;
    }
    p &= ~3ull;
    while (p != head) {
        const unsigned char *g = pyimage_ptr(w->im, p, L->gchead_size);
        if (!g || *n >= limit || (u64at(g, L->gchead_prev) & ~3ull) != prev) {
            *broken = 1;
            break;
        }
        long r = add_object(w, p + L->gchead_size);
        if (r == -3) return -3;
        if (r == -1) {
            w->bad_gc++;
            if (w->debug) {
                uint64_t ty = 0;
                rd64(w, p + L->gchead_size + L->object_type, &ty);
                fprintf(w->debug, "BAD %llx type %llx\n", (unsigned long long)(p + L->gchead_size), (unsigned long long)ty);
            }
        }
        ++*n;
        prev = p;
        p = u64at(g, L->gchead_next) & ~3ull;
    }
    return 0;
}

/* Every generation of the GC state at `gc`, rows into tg. */
static int gc_walk(walk *w, uint64_t gc, ms_table *tg)
{
    const py_layout *L = w->L;
    uint32_t collecting = 0;
    if (L->gc_collecting != PY_LAYOUT_ABSENT && !rd32(w, gc + L->gc_collecting, &collecting) && collecting)
        w->collecting = 1;
    for (unsigned g = 0; g <= L->gc_num_generations; g++) {
        uint64_t head = g < L->gc_num_generations
                            ? gc + L->gc_generations + (uint64_t)g * L->gc_generation_size + L->gc_generation_head
                            : gc + L->gc_permanent + L->gc_generation_head;
        uint64_t gen = head - L->gc_generation_head, n = 0;
        uint32_t count = 0, threshold = 0;
        int broken = 0;
        rd32(w, gen + L->gc_generation_count, &count);
        rd32(w, gen + L->gc_generation_threshold, &threshold);
        if (gc_list(w, head, &n, &broken) < 0) return MS_ERR_NOMEM;
        w->gc_objects += n;
        if (broken) w->broken_lists++;
        static const unsigned cols[] = {MS_GC_GENERATION, MS_GC_COUNT, MS_GC_THRESHOLD, MS_GC_OBJECTS, MS_GC_COLLECTING};
        uint64_t vals[] = {g < L->gc_num_generations ? g : 3, count, threshold, n, collecting ? 1 : 0};
        if (add_u64s(tg, cols, vals, 5)) return MS_ERR_NOMEM;
    }
    return 0;
}

/* ------------------------------------------------- untracked objects */

/* Blocks handed out in the used pools that hold a valid object not seen
 * on a GC list. */
static int pool_scan(walk *w)
{
    const py_layout *L = w->L;
    uint64_t hdr = L->pool_header_size, align = L->pymalloc_alignment;
    uint64_t offs[3] = {0, L->gchead_size, L->gchead_size + L->preheader_managed_size};
    unsigned noffs = L->preheader_managed_size ? 3 : 2;
    unsigned char freebits[(1u << 16) / 16 / 8 + 1];
    for (size_t i = 0; i < w->npools; i++) {
        uint64_t pool = w->pools[i].addr, bsize = (uint64_t)(w->pools[i].szidx + 1) * align;
        const unsigned char *ph = pyimage_ptr(w->im, pool, hdr);
        if (!ph) continue;
        uint64_t nextoff = u32at(ph, L->pool_nextoffset), nblocks = (w->pool_size - hdr) / bsize;
        if (nextoff > w->pool_size || nextoff < hdr || nblocks > sizeof freebits * 8) continue;
        uint64_t handed = (nextoff - hdr) / bsize;
        memset(freebits, 0, (size_t)(handed / 8 + 1));
        uint64_t fb = u64at(ph, L->pool_freeblock);
        for (uint64_t k = 0; fb && k <= nblocks; k++) {
            if (fb < pool + hdr || fb >= pool + nextoff || (fb - pool - hdr) % bsize) break;
            uint64_t idx = (fb - pool - hdr) / bsize;
            freebits[idx / 8] |= (unsigned char)(1u << (idx % 8));
            if (rd64(w, fb, &fb)) break;
        }
        for (uint64_t k = 0; k < handed; k++) {
            if (freebits[k / 8] & (1u << (k % 8))) continue;
            uint64_t b = pool + hdr + k * bsize;
            for (unsigned c = 0; c < noffs; c++) {
                uint64_t obj = b + offs[c];
                if (offs[c] + L->object_size > bsize) break;
                if (seen_has(w, obj)) break;
                const unsigned char *o = pyimage_ptr(w->im, obj, L->object_size);
                if (!o || !refcnt_ok(w, u64at(o, L->object_refcnt))) continue;
                long ti = type_index(w, u64at(o, L->object_type));
                if (ti < 0) continue;
                tyinfo *t = &w->ty[ti];
                uint64_t pre = preheader(w, t->flags);
                if (pre != offs[c]) continue;
                if (t->flags & TPF_HAVE_GC) { /* must be untracked: tracked ones are on the lists */
                    uint64_t next;
                    if (rd64(w, obj - L->gchead_size + L->gchead_next, &next) || next) continue;
                }
                uint64_t gs, mem, al;
                int aa = 0;
                if (object_sizes(w, t, obj, &gs, &mem, &al, &aa) != 0) continue;
                uint64_t need = (mem + pre + align - 1) & ~(align - 1);
                /* An int is allocated for the digits an operation might
                 * need and then normalised (2**40 + 1 sits in a 48-byte
                 * block with 32 bytes used): its block may be larger. */
                if (t->kind == K_INT ? need > bsize : need != bsize) continue;
                if (count_object(w, obj, ti, gs, mem, al, aa) == -3) return MS_ERR_NOMEM;
                w->pool_objects++;
                break;
            }
        }
    }
    return 0;
}

/* A pointer found in an object: counts the object it points to when it is
 * a valid untracked object outside the arenas. `certain`: the pointer is a
 * container item (certainly an object); else a word of some object, which
 * must also sit at the start of a consistent malloc chunk. */
#define REFS_OUT 1 /* try_ref: the budget of references is spent */

static int try_ref(walk *w, uint64_t p, int certain)
{
    const py_layout *L = w->L;
    if (!w->ref_budget) return REFS_OUT;
    w->ref_budget--;
    if (!p || (p & 7) || seen_has(w, p)) return 0;
    if (w->have_arenas && in_arena(w, p) && !w->debug_hooks) return 0; /* the pool scan judged it */
    const unsigned char *o = pyimage_ptr(w->im, p, L->object_size);
    if (!o || !refcnt_ok(w, u64at(o, L->object_refcnt))) return 0;
    long ti = type_index(w, u64at(o, L->object_type));
    if (ti < 0) return 0;
    tyinfo *t = &w->ty[ti];
    if (t->flags & TPF_HAVE_GC) {
        uint64_t next;
        if (rd64(w, p - L->gchead_size + L->gchead_next, &next) || next) return 0;
    }
    uint64_t gs, mem, al;
    int aa = 0, sr = object_sizes(w, t, p, &gs, &mem, &al, &aa);
    if (sr < 0 || (!certain && (sr || aa))) return 0;
    if (count_object(w, p, ti, gs, mem, al, aa) == -3) return MS_ERR_NOMEM;
    w->ref_objects++;
    return 0;
}

/* The instance __dict__ of a type with Py_TPFLAGS_MANAGED_DICT (3.11+):
 * a dict object, or values stored outside any dict (3.11/3.12: a values
 * array described by the type's cached keys; 3.13: inline after the
 * object). Values are objects like any container item. */
static int follow_managed(walk *w, uint64_t obj, uint64_t ty, uint64_t flags, uint64_t basic)
{
    const py_layout *L = w->L;
    uint64_t slot = 0, values = 0, n = 0;
    int rc = 0;
    if (rd64(w, obj - L->managed_dict_before, &slot)) return 0;
    if (L->managed_dict_kind == PY_MANAGED_DICT_TAGGED && (slot & 1)) {
        values = slot + 1; /* stored as the values pointer - 1 */
        slot = 0;
    }
    if (L->managed_dict_kind == PY_MANAGED_DICT_SPLIT && L->managed_values_before != PY_LAYOUT_ABSENT)
        rd64(w, obj - L->managed_values_before, &values);
    if (slot) rc = try_ref(w, slot, 1);
    if (rc) return rc;
    if (L->managed_dict_kind == PY_MANAGED_DICT_INLINE) {
        if (!L->tpflags_inline_values || !(flags & L->tpflags_inline_values)) return 0;
        const unsigned char *v = pyimage_ptr(w->im, obj + basic, 8);
        if (!v) return 0;
        n = v[0]; /* capacity */
        values = obj + basic + L->dictvalues_values;
    } else if (values) {
        uint64_t keys;
        if (rd64(w, ty + L->heaptype_ht_cached_keys, &keys) || !keys || rd64(w, keys + L->dictkeys_dk_nentries, &n))
            return 0;
        values += L->dictvalues_values;
    }
    if (!values || n > 4096) return 0;
    const unsigned char *a = pyimage_ptr(w->im, values, (size_t)n * 8);
    for (uint64_t k = 0; a && k < n && !rc; k++) rc = try_ref(w, u64at(a, (uint32_t)(8 * k)), 1);
    return rc;
}

/* Follows references from every counted object (the list grows as
 * untracked containers are found). Containers may share their items
 * (lists one item array, dicts one keys table, overlapping tuples): the
 * references looked at are at most one per byte copied (+1M), else a
 * hostile heap makes this quadratic; past that the walk stops following
 * (refs_cut) and the untracked objects not yet reached are missing. */
static int follow_refs(walk *w)
{
    const py_layout *L = w->L;
    for (size_t i = 0; i < w->nwork; i++) {
        uint64_t obj = w->work[i], ty, n;
        int rc = 0;
        if (rd64(w, obj + L->object_type, &ty)) continue;
        long ti = type_index(w, ty);
        if (ti < 0) continue;
        int kind = w->ty[ti].kind;
        uint64_t flags = w->ty[ti].flags, basic = w->ty[ti].basicsize;
        if (kind == K_LIST || kind == K_TUPLE) {
            uint64_t items = kind == K_LIST ? 0 : obj + L->tuple_ob_item;
            if (rd64(w, obj + L->varobject_ob_size, &n) || n > (1ull << 32)) continue;
            if (kind == K_LIST && rd64(w, obj + L->list_ob_item, &items)) continue;
            const unsigned char *a = n ? pyimage_ptr(w->im, items, (size_t)n * 8) : NULL;
            for (uint64_t k = 0; a && k < n && !rc; k++) rc = try_ref(w, u64at(a, (uint32_t)(8 * k)), 1);
        } else if (kind == K_DICT) {
            dictview v;
            if (dict_view(w, obj, &v)) continue;
            for (uint64_t k = 0; k < v.nentries && !rc; k++) {
                uint64_t key, val;
                if (dict_entry(w, &v, k, &key, &val)) break;
                rc = try_ref(w, key, 1);
                if (!rc) rc = try_ref(w, val, 1);
            }
        } else if (kind == K_SET) {
            uint64_t table, mask;
            if (rd64(w, obj + L->set_table, &table) || rd64(w, obj + L->set_mask, &mask) || mask > (1ull << 32)) continue;
            const unsigned char *a = pyimage_ptr(w->im, table, (size_t)(mask + 1) * L->setentry_size);
            for (uint64_t k = 0; a && k <= mask && !rc; k++)
                rc = try_ref(w, u64at(a, (uint32_t)(k * L->setentry_size)), 1);
        } else if (kind == K_GENERIC) { /* instances, functions, code objects...: every pointer-sized word */
            uint64_t end = basic < 4096 ? basic : 4096;
            const unsigned char *a = pyimage_ptr(w->im, obj, end);
            for (uint64_t off = L->object_size; a && off + 8 <= end && !rc; off += 8) rc = try_ref(w, u64at(a, (uint32_t)off), 0);
        }
        if (!rc && L->managed_dict_kind != PY_MANAGED_DICT_NONE && (flags & L->tpflags_managed_dict))
            rc = follow_managed(w, obj, ty, flags, basic);
        if (rc == REFS_OUT) {
            w->refs_cut = 1;
            return 0;
        }
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------- modules */

/* sys.modules into tm, one row per entry (name, __file__, extension
 * flag). The rows' strings are at most an eighth of the copy (+1 MiB):
 * entries that all name one module with a 4 KiB __file__ would otherwise
 * cost 4 KiB each (*cut is set when the list stops there). */
static int modules_walk(walk *w, uint64_t interp, ms_table *tm, uint64_t *count, int *cut, uint64_t *bytes)
{
    const py_layout *L = w->L;
    uint64_t d, budget = pyimage_span(w->im) / 8 + (1u << 20), used = 0;
    dictview v;
    *count = 0;
    if (rd64(w, interp + L->interp_modules, &d) || !d || dict_view(w, d, &v)) return 1;
    char name[NAME_MAX_LEN], file[4096];
    for (uint64_t i = 0; i < v.nentries; i++) {
        uint64_t key, val, mdict = 0, f;
        if (dict_entry(w, &v, i, &key, &val)) return 1;
        if (!key || !val || str_read(w, key, name, sizeof name) < 0) continue;
        const unsigned char *o = pyimage_ptr(w->im, val, L->object_size);
        long ti = o ? type_index(w, u64at(o, L->object_type)) : -1;
        int is_module = ti >= 0 && (u64at(o, L->object_type) == w->t_module || !strcmp(w->ty[ti].name, "module"));
        if (is_module) rd64(w, val + L->module_md_dict, &mdict);
        f = mdict ? dict_get(w, mdict, "__file__") : 0;
        int have_file = f && str_read(w, f, file, sizeof file) >= 0;
        size_t fl = have_file ? strlen(file) : 0;
        uint64_t flags = have_file && ((fl > 3 && !strcmp(file + fl - 3, ".so")) || strstr(file, ".so.") ||
                                       (fl > 4 && !strcmp(file + fl - 4, ".pyd")))
                             ? 1
                             : 0;
        const char *shown = file;
        size_t shown_len = fl;
        if (have_file && w->redact) {
            const char *r = redact_path(w->redact, file, fl, &shown_len);
            if (r) shown = r;
        }
        size_t need = strlen(name) + fl + 2; /* what was read: the file before redaction */
        if (need > budget - used) {
            *cut = 1;
            return 0;
        }
        used += need;
        *bytes = used;
        if (ms_table_row(tm) || ms_table_cstr(tm, MS_MOD_NAME, name) ||
            (have_file && ms_table_str(tm, MS_MOD_FILE, shown, shown_len)) || ms_table_u64(tm, MS_MOD_FLAGS, flags))
            return MS_ERR_NOMEM;
        ++*count;
    }
    return 0;
}

/* --------------------------------------------------------------- output */

static int cmp_alloc(const void *a, const void *b)
{
    const tyinfo *x = a, *y = b;
    if (x->alloc != y->alloc) return x->alloc > y->alloc ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int types_write(walk *w, ms_writer *wr, int incomplete)
{
    if (w->nty) qsort(w->ty, w->nty, sizeof *w->ty, cmp_alloc);
    map_free(&w->tymap); /* indices changed */
    ms_table *t = ms_table_new(MS_SEC_PY_TYPES);
    if (!t) return MS_ERR_NOMEM;
    int rc = 0;
    for (size_t i = 0; i < w->nty && !rc; i++) {
        tyinfo *ti = &w->ty[i];
        if (!ti->count) continue;
        uint64_t flags = ((ti->flags & TPF_HAVE_GC) ? 1 : 0) | ((ti->approx || ti->alloc_approx) ? 2 : 0) |
                         (incomplete ? 4 : 0);
        if (ms_table_row(t) || ms_table_cstr(t, MS_TY_NAME, ti->name) ||
            (ti->qualname && ms_table_cstr(t, MS_TY_QUALNAME, ti->qualname)) ||
            (ti->module && ms_table_cstr(t, MS_TY_MODULE, ti->module)) ||
            ms_table_u64(t, MS_TY_COUNT, ti->count) || ms_table_u64(t, MS_TY_SIZEOF, ti->getsize) ||
            ms_table_u64(t, MS_TY_ALLOCATED, ti->alloc) || ms_table_u64(t, MS_TY_FLAGS, flags))
            rc = MS_ERR_NOMEM;
    }
    if (!rc) rc = ms_writer_add(wr, t);
    ms_table_free(t);
    return rc;
}

/* A path as stored: hashed when redacting and not a system path. */
static int put_path(ms_table *t, unsigned col, const char *path, redactor *r)
{
    size_t n = strlen(path);
    const char *shown = r ? redact_path(r, path, n, &n) : NULL;
    if (!shown) {
        shown = path;
        n = strlen(path);
    }
    return ms_table_str(t, col, shown, n);
}

static int runtime_write(const py_runtime_info *pi, const py_layout *L, const char *allocator, redactor *r,
                         ms_writer *wr)
{
    ms_table *t = ms_table_new(MS_SEC_PY_RUNTIME);
    if (!t) return MS_ERR_NOMEM;
    int rc = 0;
    if (ms_table_row(t) || ms_table_cstr(t, MS_PY_VERSION, pi->version) ||
        ms_table_u64(t, MS_PY_HEXVERSION, pi->hexversion) || ms_table_u64(t, MS_PY_FLAGS, pi->flags & 31u) ||
        (pi->binary[0] && put_path(t, MS_PY_BINARY, pi->binary, r)) ||
        (pi->libpython[0] && put_path(t, MS_PY_LIBPYTHON, pi->libpython, r)) ||
        (allocator && ms_table_cstr(t, MS_PY_ALLOCATOR, allocator)) ||
        (L && (ms_table_u64(t, MS_PY_ARENA_SIZE, L->arena_size) || ms_table_u64(t, MS_PY_POOL_SIZE, L->pool_size))))
        rc = MS_ERR_NOMEM;
    if (!rc) rc = ms_writer_add(wr, t);
    ms_table_free(t);
    return rc;
}

static void walk_free(walk *w)
{
    for (size_t i = 0; i < w->nty; i++) {
        free(w->ty[i].name);
        free(w->ty[i].qualname);
        free(w->ty[i].module);
    }
    free(w->ty);
    map_free(&w->tymap);
    free(w->seen_bits);
    free(w->work);
    free(w->ar);
    free(w->pools);
    if (w->debug) fclose(w->debug);
    memset(w, 0, sizeof *w);
}

/* ------------------------------------------------------------ the walk */

typedef struct {
    ms_table *arenas, *classes, *totals, *gc, *modules;
} pytables;

static void tables_free(pytables *t)
{
    ms_table_free(t->arenas);
    ms_table_free(t->classes);
    ms_table_free(t->totals);
    ms_table_free(t->gc);
    ms_table_free(t->modules);
    memset(t, 0, sizeof *t);
}

static int tables_new(pytables *t)
{
    t->arenas = ms_table_new(MS_SEC_PY_ARENAS);
    t->classes = ms_table_new(MS_SEC_PY_SIZE_CLASSES);
    t->totals = ms_table_new(MS_SEC_PY_ALLOC_TOTALS);
    t->gc = ms_table_new(MS_SEC_PY_GC);
    t->modules = ms_table_new(MS_SEC_PY_MODULES);
    return t->arenas && t->classes && t->totals && t->gc && t->modules ? 0 : MS_ERR_NOMEM;
}

/* Result of one walk attempt. */
typedef struct {
    int pymalloc;             /* 0 ok, 1 unavailable (why in pm_why), 2 size classes by pool-header scan */
    uint64_t heuristic_pools; /* pools found by pool_header_scan */
    char pm_why[512];
    int modules_ok;
    int modules_cut;          /* sys.modules listed in part: its strings reached the budget */
    uint64_t module_bytes;    /* bytes of the modules rows' strings */
    uint64_t modules, interpreters;
    char fatal[512];          /* non-empty: the walk could not start */
} attempt;

/* Walks the copy in w->im. Fills the tables; 0, or MS_ERR_NOMEM. A
 * collection in progress stops the walk early unless this is the `last`
 * attempt (the caller retries). */
static int walk_copy(walk *w, pytables *t, attempt *a, int last)
{
    const py_layout *L = w->L;
    uint64_t rt = w->pi->runtime, interp = 0, main_interp = 0;
    if ((rd64(w, rt + L->runtime_interpreters_head, &interp) || !interp) && (w->pi->flags & PYF_MULTIPLE)) {
        /* libpython is mapped more than once (e.g. loaded again by ctypes):
         * the live runtime is the copy that has interpreters */
        for (unsigned i = 0; i < w->pi->n_alt && i < PYFIND_MAX_ALT; i++) {
            uint64_t alt = w->pi->alt_runtime[i], head = 0;
            if (!rd64(w, alt + L->runtime_interpreters_head, &head) && head) {
                w->sym_delta = alt - w->pi->runtime;
                rt = alt;
                interp = head;
                break;
            }
        }
    }
    if (!interp) {
        snprintf(a->fatal, sizeof a->fatal,
                 "_PyRuntime at 0x%llx has no interpreter (not initialised yet, or finalising)", (unsigned long long)rt);
        return 0;
    }
    if (map_init(&w->tymap, 4096) || seen_init(w)) return MS_ERR_NOMEM;
    w->dict_budget = pyimage_stats_get(w->im)->copied_bytes / 8 + DICT_BUDGET_BASE;
    w->name_budget = (size_t)(pyimage_span(w->im) / 4) + (256u << 10);
    w->ref_budget = pyimage_span(w->im) + (1u << 20);
    w->t_set = sym(w, "PySet_Type");
    w->t_frozenset = sym(w, "PyFrozenSet_Type");
    w->t_float = sym(w, "PyFloat_Type");
    w->t_object = sym(w, "PyBaseObject_Type");
    w->t_module = sym(w, "PyModule_Type");
    /* interpreters: the main one is the last of the list; an unreadable
     * next link ends it, an interpreter met twice (a cycle) too */
    uint64_t interps[MAX_INTERPRETERS];
    size_t ni = 0;
    for (uint64_t i = interp; i && ni < MAX_INTERPRETERS;) {
        size_t k = 0;
        while (k < ni && interps[k] != i) k++;
        if (k < ni) break;
        interps[ni++] = i;
        if (rd64(w, i + L->interp_next, &i)) break;
    }
    main_interp = interps[ni - 1];
    if (L->runtime_interpreters_main != PY_LAYOUT_ABSENT && rd64(w, rt + L->runtime_interpreters_main, &main_interp))
        main_interp = interps[ni - 1];
    a->interpreters = ni;
    w->allocator = detect_allocator(w, rt);
    w->debug_hooks = w->allocator && strstr(w->allocator, "_debug") != NULL;
    int rc = pymalloc_walk(w, main_interp, t->arenas, t->classes, t->totals, a->pm_why, sizeof a->pm_why);
    if (rc < 0) return rc;
    a->pymalloc = rc;
    if (rc == 1 && L->obmalloc_where == PY_OBMALLOC_STATICS) {
        a->heuristic_pools = pool_header_scan(w, t->classes);
        if (a->heuristic_pools) a->pymalloc = 2;
    }
    rc = 0;
    if (L->gc_where == PY_GC_IN_RUNTIME) {
        rc = gc_walk(w, rt + L->runtime_gc, t->gc);
    } else {
        for (size_t i = 0; i < ni && !rc; i++) rc = gc_walk(w, interps[i] + L->interp_gc, t->gc);
    }
    if (rc) return rc;
    if (w->collecting && !last) return 0; /* the caller retries */
    if ((rc = pool_scan(w)) || (rc = follow_refs(w))) return rc;
    rc = modules_walk(w, main_interp, t->modules, &a->modules, &a->modules_cut, &a->module_bytes);
    if (rc < 0) return rc;
    a->modules_ok = rc == 0;
    return 0;
}

/* The walk of one image once it is there: the 3.13+ layout check against
 * the target's own _Py_DebugOffsets, then walk_copy (see there for
 * `last`). Returns 0 when the walk ran and its results are to be judged
 * (results_write, or a retry), 1 when it ended with the rows saying why
 * added to wr and dg and `note` set (layout mismatch, no interpreter), or
 * an MS_ERR_* code. */
static int walk_image(walk *w, pytables *t, attempt *a, int last, ms_writer *wr, ms_table *dg, char *note,
                      size_t note_len, uint64_t *walk_ns)
{
    const py_layout *L = w->L;
    const py_runtime_info *pi = w->pi;
    char msg[768];
    int rc;
    if (L->debug_offsets_size != PY_LAYOUT_ABSENT) { /* 3.13+: the target describes itself */
        const void *dbg = pyimage_ptr(w->im, pi->runtime, L->debug_offsets_size);
        if (!dbg || py_layout_check_debug_offsets(L, dbg, L->debug_offsets_size, msg, sizeof msg)) {
            if (!dbg) snprintf(msg, sizeof msg, "_Py_DebugOffsets at 0x%llx not readable", (unsigned long long)pi->runtime);
            rc = runtime_write(pi, L, NULL, w->redact, wr);
            if (!rc)
                rc = diag_row(dg, "python", DG_UNAVAILABLE, "CPython %s: layout mismatch, heap not walked: %s", pi->version,
                              msg);
            snprintf(note, note_len, "CPython %s: layout mismatch, heap not walked: %s", pi->version, msg);
            return rc ? rc : 1;
        }
    }
    /* A developer's aid: every object counted, "address tp_name getsizeof". */
    const char *dbg = getenv("MEMSNAP_DEBUG_OBJECTS");
    if (dbg && *dbg) w->debug = fopen(dbg, "w");
    uint64_t t1 = now_ns();
    rc = walk_copy(w, t, a, last);
    *walk_ns = now_ns() - t1;
    if (rc) return rc;
    if (a->fatal[0]) {
        rc = runtime_write(pi, L, NULL, w->redact, wr);
        if (!rc) rc = diag_row(dg, "python", DG_UNAVAILABLE, "CPython %s: %s", pi->version, a->fatal);
        snprintf(note, note_len, "CPython %s: %s", pi->version, a->fatal);
        return rc ? rc : 1;
    }
    return 0;
}

/* Writes an accepted walk: the Python sections to wr, rows to dg saying
 * what is complete or approximate and why; res->objects, copied_bytes.
 * `no_pause`: the copy was read from the running target. 0 or MS_ERR_*. */
static int results_write(walk *w, pytables *t, attempt *a, int no_pause, unsigned attempt_no, ms_writer *wr,
                         ms_table *dg, pyheap_result *res)
{
    const py_runtime_info *pi = w->pi;
    const py_layout *L = w->L;
    int rc;
    int inconsistent = w->collecting || w->broken_lists || w->bad_gc;
    const pyimage_stats *st = pyimage_stats_get(w->im);
    res->copied_bytes = st->copied_bytes;
    res->objects = w->objects;
    int incomplete = inconsistent || st->skipped_bytes || st->swapped_bytes || st->unreadable_bytes;
    const char *allocator = w->allocator;
    int allocator_guessed = !allocator;
    if (!allocator) /* no symbols: where the small objects are */
        allocator = w->small_objects > 100 && w->small_in_arenas == 0 ? "malloc" : "pymalloc";
    if ((rc = runtime_write(pi, L, allocator, w->redact, wr))) return rc;
    if ((rc = types_write(w, wr, incomplete))) return rc;
    if (a->modules_ok && (rc = ms_writer_add(wr, t->modules))) return rc;
    if (a->pymalloc == 0 && ((rc = ms_writer_add(wr, t->classes)) || (rc = ms_writer_add(wr, t->arenas)) ||
                            (rc = ms_writer_add(wr, t->totals))))
        return rc;
    if (a->pymalloc == 2 && (rc = ms_writer_add(wr, t->classes))) return rc;
    if ((rc = ms_writer_add(wr, t->gc))) return rc;
    rc = diag_row(dg, "python", no_pause ? DG_BEST_EFFORT : incomplete ? DG_APPROXIMATE : DG_COMPLETE,
              "CPython %s (%s): %llu objects of %zu types (%llu on GC lists, %llu untracked in pymalloc pools, "
              "%llu untracked reached by reference); %s; %.1f MiB copied in %.1f ms, walk %.1f ms%s",
              pi->version, pi->how, (unsigned long long)w->objects, w->nty, (unsigned long long)w->gc_objects,
              (unsigned long long)w->pool_objects, (unsigned long long)w->ref_objects,
              no_pause ? "read without pausing (--no-pause)" : "target paused",
              st->copied_bytes / 1048576.0, st->copy_ns / 1e6, res->walk_ns / 1e6,
              attempt_no > 1 ? " (after retries)" : "");
    if (!rc && w->collecting)
        rc = diag_row(dg, "python.gc", DG_APPROXIMATE,
                  "a garbage collection was running in every attempt: objects it held on private lists are missing");
    if (!rc && (w->broken_lists || w->bad_gc))
        rc = diag_row(dg, "python.gc", no_pause ? DG_BEST_EFFORT : DG_APPROXIMATE,
                  "%llu GC lists ended early and %llu listed objects had no valid type%s",
                  (unsigned long long)w->broken_lists, (unsigned long long)w->bad_gc,
                  no_pause ? " (the target ran during the copy)" : "");
    if (!rc && (st->skipped_bytes || st->swapped_bytes || st->unreadable_bytes))
        rc = diag_row(dg, "python.copy", DG_APPROXIMATE,
                  "not copied: %.1f MiB over the memory cap (--max-memory), %.1f MiB swapped out, %.1f MiB unreadable; "
                  "objects there are missing",
                  st->skipped_bytes / 1048576.0, st->swapped_bytes / 1048576.0, st->unreadable_bytes / 1048576.0);
    if (!rc && strcmp(allocator, "pymalloc") != 0)
        rc = diag_row(dg, "python.pymalloc", DG_APPROXIMATE,
                  "objects are allocated by %s (PYTHONMALLOC%s): %s", allocator,
                  allocator_guessed ? ", inferred from where objects live" : "",
                  !strcmp(allocator, "malloc")
                      ? "no pymalloc pools to scan; untracked objects are found only by following references"
                      : "blocks carry debug-hook headers; untracked objects in pools are not scanned, only those "
                        "reached by reference");
    else if (!rc && a->pymalloc == 1)
        rc = diag_row(dg, "python.pymalloc", DG_UNAVAILABLE, "%s", a->pm_why);
    if (!rc && a->pymalloc == 2)
        rc = diag_row(dg, "python.pymalloc", DG_APPROXIMATE,
                  "no symbols for pymalloc's arenas (stripped build): size classes from %llu pools found by "
                  "their headers in anonymous memory; arenas and totals unavailable",
                  (unsigned long long)a->heuristic_pools);
    if (!rc && a->pymalloc == 0 && w->pm_counted_arenas != w->pm_found_arenas)
        rc = diag_row(dg, "python.pymalloc", DG_APPROXIMATE, "pymalloc counts %llu arenas, the arenas array holds %llu",
                  (unsigned long long)w->pm_counted_arenas, (unsigned long long)w->pm_found_arenas);
    if (!rc && w->pm_missing_pools)
        rc = diag_row(dg, "python.pymalloc", DG_APPROXIMATE,
                  "%llu pool headers were not readable or inconsistent: the size-class table misses them",
                  (unsigned long long)w->pm_missing_pools);
    if (!rc && !a->modules_ok)
        rc = diag_row(dg, "python.modules", DG_UNAVAILABLE, "sys.modules was not readable in the copy");
    if (!rc && w->refs_cut)
        rc = diag_row(dg, "python.refs", DG_APPROXIMATE,
                      "references followed up to %llu (one per byte copied, a corrupt or hostile heap): untracked "
                      "objects reached only after that are missing",
                      (unsigned long long)(pyimage_span(w->im) + (1u << 20)));
    if (!rc && a->modules_cut)
        rc = diag_row(dg, "python.modules", DG_APPROXIMATE,
                      "sys.modules listed in part: %llu entries, then more name and file bytes than an eighth of "
                      "the copy (a corrupt or hostile heap)",
                      (unsigned long long)a->modules);
    if (!rc && (w->types_refused || w->names_dropped))
        rc = diag_row(dg, "python.types", DG_APPROXIMATE,
                      "%llu objects that look like types were not taken as types and %llu qualnames or modules "
                      "were dropped: more types or name bytes than the copy can hold (a corrupt or hostile heap)",
                      (unsigned long long)w->types_refused, (unsigned long long)w->names_dropped);
    if (!rc && w->dict_budget_out)
        rc = diag_row(dg, "python.types", DG_APPROXIMATE,
                      "dict lookups stopped after %llu entries (a corrupt or hostile heap): later types are flagged "
                      "approximate, some __module__ and __file__ values are missing",
                      (unsigned long long)(pyimage_stats_get(w->im)->copied_bytes / 8 + DICT_BUDGET_BASE));
    if (!rc && a->interpreters > 1)
        rc = diag_row(dg, "python", DG_INFO, "%llu interpreters: objects of all, modules and pymalloc of the main one",
                  (unsigned long long)a->interpreters);
    if (!rc) {
        size_t napprox = 0;
        for (size_t i = 0; i < w->nty; i++) napprox += w->ty[i].count && (w->ty[i].approx || w->ty[i].alloc_approx);
        if (napprox)
            rc = diag_row(dg, "python.types", DG_APPROXIMATE,
                      "%zu types have approximate sizes (flag bit 1): their __sizeof__ or allocation is not "
                      "reproduced exactly",
                      napprox);
    }
    return rc;
}

int pyheap_capture(int pid, const char *proc_root, const pyheap_opts *o, ms_writer *wr, ms_table *dg,
                   pyheap_result *res, char *note, size_t note_len)
{
    py_runtime_info *pi = calloc(1, sizeof *pi);
    char msg[768];
    int rc = 0;
    memset(res, 0, sizeof *res);
    note[0] = 0;
    if (!pi) return MS_ERR_NOMEM;
    int f = pyfind_maps(pid, proc_root, o->maps, o->maps_len, pi, msg, sizeof msg);
    if (f != PYFIND_OK && o->redact) /* pyfind's messages name files: none in a redacted snapshot */
        snprintf(msg, sizeof msg, "PID %d: %s (file names withheld under --redact)", pid,
                 f == PYFIND_NOT_PYTHON    ? "not a CPython process"
                 : f == PYFIND_UNSUPPORTED ? "a Python version or build memsnap does not support"
                                           : "the CPython runtime could not be read");
    if (f == PYFIND_NOT_PYTHON) {
        rc = diag_row(dg, "python", DG_INFO, "%s", msg);
        snprintf(note, note_len, "%s: mappings only", msg);
        goto out;
    }
    if (f != PYFIND_OK) {
        rc = diag_row(dg, "python", DG_UNAVAILABLE, "%s", msg);
        snprintf(note, note_len, "Python part unavailable: %s", msg);
        goto out;
    }
    res->python = 1;
    if (pi->flags & PYF_VERSION_GUESSED)
        if ((rc = diag_row(dg, "python.version", DG_APPROXIMATE, "CPython %s: %s", pi->version, pi->how))) goto out;
    const py_layout *L = py_layout_find(pi->minor);
    const char *why = NULL;
    if (pi->flags & PYF_FREE_THREADED) why = "free-threaded builds keep objects in mimalloc pages, which memsnap does not walk yet";
    else if (pi->flags & PYF_DEBUG) why = "debug builds have a different object layout, which memsnap does not walk";
    else if (!L) why = "no layout table for this version";
    if (why) {
        if ((rc = runtime_write(pi, NULL, NULL, o->redact, wr))) goto out;
        rc = diag_row(dg, "python", DG_UNAVAILABLE, "CPython %s: heap not walked: %s", pi->version, why);
        snprintf(note, note_len, "CPython %s: heap not walked: %s", pi->version, why);
        goto out;
    }

    unsigned tries = o->retries ? o->retries : 1;
    const pyheap_syms elf_syms = {elf_global, elf_local, pi};
    walk w;
    pytables t;
    attempt a;
    memset(&w, 0, sizeof w);
    memset(&t, 0, sizeof t);
    for (unsigned attempt_no = 1;; attempt_no++) {
        memset(&a, 0, sizeof a);
        walk_free(&w);
        tables_free(&t);
        if ((rc = tables_new(&t))) goto out_walk;
        w.L = L;
        w.pi = pi;
        w.syms = &elf_syms;
        w.redact = o->redact;
        w.minor = pi->minor;
        struct pt_pause *pp = NULL;
        pyimage *im = pyimage_new(pid, proc_root, o->max_copy, msg, sizeof msg);
        if (!im) {
            rc = diag_row(dg, "python", DG_UNAVAILABLE, "cannot copy the heap: %s", msg);
            snprintf(note, note_len, "Python part unavailable: %s", msg);
            goto out_walk;
        }
        uint64_t t0 = now_ns();
        if (!o->no_pause && pt_pause(pid, o->pause_timeout_ms ? o->pause_timeout_ms : 3000, &pp, msg, sizeof msg)) {
            pyimage_free(im);
            if (attempt_no < tries) continue; /* threads slow to stop (D state, a starved agent): try again */
            rc = diag_row(dg, "python", DG_UNAVAILABLE, "cannot pause the target: %s", msg);
            snprintf(note, note_len, "Python part unavailable: cannot pause PID %d: %s", pid, msg);
            goto out_walk;
        }
        int copy_rc = pyimage_copy(im, msg, sizeof msg);
        if (pp) {
            pt_resume(pp);
            res->pause_ns = now_ns() - t0;
        }
        if (copy_rc) {
            pyimage_free(im);
            rc = diag_row(dg, "python", DG_UNAVAILABLE, "cannot copy the heap: %s", msg);
            snprintf(note, note_len, "Python part unavailable: %s", msg);
            goto out_walk;
        }
        w.im = im;
        rc = walk_image(&w, &t, &a, attempt_no >= tries, wr, dg, note, note_len, &res->walk_ns);
        if (rc) {
            pyimage_free(im);
            if (rc > 0) rc = 0;
            goto out_walk;
        }
        int inconsistent = w.collecting || w.broken_lists || w.bad_gc;
        if (inconsistent && attempt_no < tries) {
            pyimage_free(im);
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        rc = results_write(&w, &t, &a, o->no_pause, attempt_no, wr, dg, res);
        pyimage_free(im);
        break;
    }
out_walk:
    walk_free(&w);
    tables_free(&t);
out:
    pyfind_free(pi);
    free(pi);
    return rc;
}

int pyheap_walk_image(pyimage *im, const py_runtime_info *pi, const py_layout *L, const pyheap_syms *syms,
                      redactor *redact, ms_writer *wr, ms_table *dg, pyheap_result *res, char *note,
                      size_t note_len, pyheap_walk_stats *st)
{
    walk w;
    pytables t;
    attempt a;
    memset(&w, 0, sizeof w);
    memset(&t, 0, sizeof t);
    memset(&a, 0, sizeof a);
    memset(res, 0, sizeof *res);
    if (st) memset(st, 0, sizeof *st);
    note[0] = 0;
    res->python = 1;
    int rc = tables_new(&t);
    if (!rc) {
        w.L = L;
        w.pi = pi;
        w.syms = syms;
        w.redact = redact;
        w.minor = pi->minor;
        w.im = im;
        rc = walk_image(&w, &t, &a, 1, wr, dg, note, note_len, &res->walk_ns);
        if (st) {
            size_t nty = 0;
            for (size_t i = 0; i < w.nty; i++) nty += w.ty[i].count > 0;
            *st = (pyheap_walk_stats){a.interpreters, w.nar,      w.npools,  nty,        w.gc_objects,      w.pool_objects,
                                      w.ref_objects,  a.modules,  a.pymalloc, rc == 0, w.seen_bitmap_bytes,
                                      a.module_bytes};
        }
        if (!rc) rc = results_write(&w, &t, &a, 0, 1, wr, dg, res);
        else if (rc > 0) rc = 0;
    }
    walk_free(&w);
    tables_free(&t);
    return rc;
}

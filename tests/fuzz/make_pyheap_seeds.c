/*
 * make_pyheap_seeds.c - writes the seed corpus of fuzz_pyheap: small
 * synthetic CPython heaps, one or more per layout of the generated table
 * (3.8 .. 3.13), in the input format of fuzz_pyheap.h. Nothing comes from
 * a real process: every object is laid out here from the layout table.
 *
 * Each heap has a _PyRuntime (with _Py_DebugOffsets for 3.13) in a data
 * segment and one interpreter; static type objects whose tp_name strings
 * sit in read-only memory; GC generation lists holding sys.modules, three
 * modules and their dicts, a list, a set, a heap type "Foo" (qualname,
 * __module__) and an instance of it, and for 3.11+ an instance with a
 * managed __dict__ (values outside any dict); a pymalloc arena whose used
 * pools hold untracked ints, floats, strs and a tuple, plus a freed block
 * on a pool's free list; big strs in malloc chunks reached by reference;
 * the allocator's function pointers (pymalloc, or malloc). Variants:
 * "full" (every symbol), "stripped" (no obmalloc.c symbols: the pool
 * header scan), "malloc" (PYTHONMALLOC=malloc), "multi" (libpython mapped
 * twice: the walk switches to the copy that has interpreters), "subinterp"
 * (two interpreters), "collecting" (a collection running, a broken list).
 *
 * Usage: make_pyheap_seeds OUTDIR (must exist). Run by hand, never by
 * ctest; the output is committed under tests/fuzz/corpus/pyheap.
 * Deterministic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pyheap.h"
#include "py_layout.h"
#include "pyimage.h"

#define TPF_HEAPTYPE (1ull << 9)
#define TPF_READY (1ull << 12)
#define TPF_HAVE_GC (1ull << 14)
#define TPF_LONG (1ull << 24)
#define TPF_LIST (1ull << 25)
#define TPF_TUPLE (1ull << 26)
#define TPF_UNICODE (1ull << 28)
#define TPF_DICT (1ull << 29)
#define TPF_TYPE (1ull << 31)

#define MAX_SEGS 32
#define MAX_GC 64

typedef struct {
    uint64_t base, size;      /* target addresses [base, base+size) */
    unsigned char *b;         /* size bytes */
    uint64_t used;            /* bump allocator */
    int kind;                 /* PYIMAGE_* */
    int split;                /* emit zero runs as data-less regions */
} seg;

static const py_layout *L;
static seg segs[MAX_SEGS];
static unsigned nsegs;
static seg *S_DATA, *S_RO, *S_HEAP, *S_RT;
static uint64_t gc_list[MAX_GC];
static unsigned ngc;
static uint64_t symv[FPH_NSYMBOLS];
static unsigned minor;

static void die(const char *what)
{
    fprintf(stderr, "make_pyheap_seeds: %s\n", what);
    exit(1);
}

static seg *seg_new(uint64_t base, uint64_t size, int kind)
{
    if (nsegs == MAX_SEGS) die("too many segments");
    seg *s = &segs[nsegs++];
    *s = (seg){base, size, calloc(1, size), 0, kind, 0};
    if (!s->b) die("out of memory");
    return s;
}

static uint64_t seg_alloc(seg *s, uint64_t n, uint64_t align)
{
    uint64_t a = (s->base + s->used + align - 1) & ~(align - 1);
    if (a + n > s->base + s->size) die("segment full");
    s->used = a + n - s->base;
    return a;
}

static unsigned char *at(uint64_t addr, uint64_t n)
{
    for (unsigned i = 0; i < nsegs; i++)
        if (addr >= segs[i].base && addr + n <= segs[i].base + segs[i].size) return segs[i].b + (addr - segs[i].base);
    fprintf(stderr, "make_pyheap_seeds: write at 0x%llx outside every segment\n", (unsigned long long)addr);
    exit(1);
}

static void w64(uint64_t a, uint64_t v) { memcpy(at(a, 8), &v, 8); }
static void w32(uint64_t a, uint32_t v) { memcpy(at(a, 4), &v, 4); }
static void w8(uint64_t a, uint8_t v) { *at(a, 1) = v; }

static void set_sym(const char *name, uint64_t v)
{
    static const char *const names[FPH_NSYMBOLS] = {FPH_SYMBOLS};
    for (unsigned i = 0; i < FPH_NSYMBOLS; i++)
        if (!strcmp(names[i], name)) {
            symv[i] = v;
            return;
        }
    die("unknown symbol");
}

static uint64_t ro_str(const char *s)
{
    uint64_t a = seg_alloc(S_RO, strlen(s) + 1, 1);
    memcpy(at(a, strlen(s) + 1), s, strlen(s) + 1);
    return a;
}

/* ------------------------------------------------------------- objects */

static uint64_t T_type, T_object, T_dict, T_list, T_tuple, T_str, T_int, T_float, T_module, T_set, T_frozenset;

static uint64_t static_type(const char *name, uint64_t basic, uint64_t item, uint64_t flags, uint64_t base)
{
    uint64_t t = seg_alloc(S_DATA, L->type_size, 16);
    w64(t + L->object_refcnt, L->immortal_rule ? 0xffffffffu : 1);
    w64(t + L->object_type, T_type ? T_type : t);
    w64(t + L->type_tp_name, ro_str(name));
    w64(t + L->type_tp_basicsize, basic);
    w64(t + L->type_tp_itemsize, item);
    w64(t + L->type_tp_flags, flags | TPF_READY);
    w64(t + L->type_tp_base, base);
    return t;
}

/* Room for an object of `size` bytes with `pre` bytes before it, in the
 * heap (or a malloc chunk: a glibc header before it). Returns the object. */
static uint64_t heap_obj(uint64_t type, uint64_t size, uint64_t pre, int chunk)
{
    if (chunk) { /* a glibc chunk: prev_size, size | PREV_INUSE, then the memory */
        uint64_t want = pre + size, csz = (want + 8 + 15) & ~15ull;
        if (csz < 32) csz = 32;
        uint64_t c = seg_alloc(S_HEAP, csz + 8, 16);
        w64(c + 8, csz | 1);
        uint64_t o = c + 16 + pre;
        w64(o + L->object_refcnt, 1);
        w64(o + L->object_type, type);
        return o;
    }
    uint64_t o = seg_alloc(S_HEAP, pre + size, 16) + pre;
    w64(o + L->object_refcnt, 1);
    w64(o + L->object_type, type);
    return o;
}

static void gc_track(uint64_t o)
{
    if (ngc == MAX_GC) die("too many tracked objects");
    gc_list[ngc++] = o;
}

/* --- pymalloc: one arena, pools allocated as blocks of a class are asked for */
typedef struct {
    uint64_t addr;
    unsigned szidx, count, next;  /* blocks handed out: next */
} spool;
static spool pools[8];
static unsigned npools;
static uint64_t arena_base;

static uint64_t pool_block(uint64_t need)
{
    uint64_t bs = (need + 15) & ~15ull;
    unsigned szidx = (unsigned)(bs / L->pymalloc_alignment) - 1;
    spool *p = NULL;
    for (unsigned i = 0; i < npools && !p; i++)
        if (pools[i].szidx == szidx) p = &pools[i];
    if (!p) {
        if (npools == 8) die("too many pools");
        p = &pools[npools++];
        p->addr = arena_base + (uint64_t)npools * L->pool_size; /* pool 0 unused: the walk skips empty pools */
        p->szidx = szidx;
        seg_new(p->addr, L->pool_size, PYIMAGE_ANON);
    }
    uint64_t b = p->addr + L->pool_header_size + (uint64_t)p->next * bs;
    p->next++;
    p->count++;
    return b;
}

static void pools_finish(void)
{
    for (unsigned i = 0; i < npools; i++) {
        spool *p = &pools[i];
        uint64_t bs = (uint64_t)(p->szidx + 1) * L->pymalloc_alignment;
        w32(p->addr + L->pool_ref_count, p->count);
        w32(p->addr + L->pool_szidx, p->szidx);
        w32(p->addr + L->pool_nextoffset, (uint32_t)(L->pool_header_size + p->next * bs));
        w32(p->addr + L->pool_maxnextoffset, (uint32_t)(L->pool_size - bs));
        w32(p->addr + L->pool_arenaindex, 0);
    }
}

enum { IN_HEAP, IN_POOL, IN_CHUNK };

static uint64_t obj_at(int where, uint64_t type, uint64_t size, uint64_t pre)
{
    if (where != IN_POOL) return heap_obj(type, size, pre, where == IN_CHUNK);
    uint64_t o = pool_block(size + pre) + pre;
    w64(o + L->object_refcnt, 1);
    w64(o + L->object_type, type);
    return o;
}

static uint64_t mk_str(const char *s, int where)
{
    uint64_t n = strlen(s), o = obj_at(where, T_str, L->unicode_ascii_size + n + 1, 0);
    w64(o + L->unicode_length, n);
    w64(o + 24, 0x1234567 + n); /* hash */
    w32(o + L->unicode_state, (1u << L->unicode_state_kind_shift) | (1u << L->unicode_state_compact_bit) |
                                  (1u << L->unicode_state_ascii_bit) | (minor <= 11 ? 1u << 7 : 0));
    memcpy(at(o + L->unicode_ascii_size, n), s, n);
    return o;
}

static uint64_t mk_big_str(char c, size_t n, int where)
{
    char *s = malloc(n + 1);
    if (!s) die("out of memory");
    memset(s, c, n);
    s[n] = 0;
    uint64_t o = mk_str(s, where);
    free(s);
    return o;
}

static uint64_t mk_int(uint32_t v, int where)
{
    uint64_t o = obj_at(where, T_int, L->long_ob_digit + L->long_digit_size, 0);
    if (L->long_lv_tag != PY_LAYOUT_ABSENT) w64(o + L->long_lv_tag, 1ull << L->long_non_size_bits);
    else w64(o + L->varobject_ob_size, 1);
    w32(o + L->long_ob_digit, v);
    return o;
}

static uint64_t mk_float(double d, int where)
{
    uint64_t o = obj_at(where, T_float, L->float_size, 0);
    memcpy(at(o + L->float_ob_fval, 8), &d, 8);
    return o;
}

/* A GC object (header before it), tracked unless `untracked`. */
static uint64_t gc_obj(int where, uint64_t type, uint64_t size, uint64_t extra_pre, int untracked)
{
    uint64_t o = obj_at(where, type, size, L->gchead_size + extra_pre);
    if (!untracked) gc_track(o);
    return o;
}

static uint64_t mk_tuple(const uint64_t *items, unsigned n, int where)
{
    uint64_t o = gc_obj(where, T_tuple, L->tuple_ob_item + 8ull * n, 0, 1);
    w64(o + L->varobject_ob_size, n);
    for (unsigned i = 0; i < n; i++) w64(o + L->tuple_ob_item + 8ull * i, items[i]);
    return o;
}

static uint64_t mk_list(const uint64_t *items, unsigned n)
{
    uint64_t o = gc_obj(IN_HEAP, T_list, L->list_size, 0, 0);
    uint64_t arr = heap_obj(0, 8ull * n, 0, 1); /* a malloc'd item array */
    w64(arr, items[0]);                         /* heap_obj wrote refcnt/type: overwritten */
    for (unsigned i = 0; i < n; i++) w64(arr + 8ull * i, items[i]);
    w64(o + L->varobject_ob_size, n);
    w64(o + L->list_ob_item, arr);
    w64(o + L->list_allocated, n);
    return o;
}

/* Dict keys of n (<= 5) entries: str keys (unicode kind on 3.11+). */
static uint64_t mk_keys(const uint64_t *k, const uint64_t *v, unsigned n)
{
    int new_layout = L->dictkeys_dk_size == PY_LAYOUT_ABSENT;
    uint64_t esz = new_layout ? 16 : 24, size = L->dictkeys_dk_indices + 8 + 5 * esz;
    uint64_t keys = heap_obj(0, size, 0, 1);
    memset(at(keys, 16), 0, 16);
    w64(keys + L->dictkeys_dk_refcnt, 1);
    if (new_layout) {
        w8(keys + L->dictkeys_dk_log2_size, 3);
        w8(keys + L->dictkeys_dk_log2_index_bytes, 3);
        w8(keys + L->dictkeys_dk_kind, 1);
    } else {
        w64(keys + L->dictkeys_dk_size, 8);
    }
    w64(keys + L->dictkeys_dk_usable, 5 - n);
    w64(keys + L->dictkeys_dk_nentries, n);
    uint64_t idx = keys + L->dictkeys_dk_indices, ent = idx + 8;
    for (unsigned i = 0; i < 8; i++) w8(idx + i, i < n ? (uint8_t)i : 0xff);
    for (unsigned i = 0; i < n; i++) {
        uint64_t e = ent + i * esz;
        if (!new_layout) w64(e, 0x5151 + i); /* hash */
        w64(e + (new_layout ? 0 : 8), k[i]);
        w64(e + (new_layout ? 8 : 16), v ? v[i] : 0);
    }
    return keys;
}

static uint64_t mk_dict(const uint64_t *k, const uint64_t *v, unsigned n)
{
    uint64_t d = gc_obj(IN_HEAP, T_dict, L->dict_size, 0, 0);
    w64(d + L->dict_ma_used, n);
    w64(d + L->dict_ma_keys, mk_keys(k, v, n));
    return d;
}

static uint64_t mk_module(const char *name, const char *file)
{
    uint64_t k[2] = {mk_str("__name__", IN_HEAP), 0}, v[2] = {mk_str(name, IN_HEAP), 0};
    unsigned n = 1;
    if (file) {
        k[1] = mk_str("__file__", IN_HEAP);
        v[1] = mk_str(file, IN_HEAP);
        n = 2;
    }
    uint64_t m = gc_obj(IN_HEAP, T_module, L->module_size, 0, 0);
    w64(m + L->module_md_dict, mk_dict(k, v, n));
    w64(m + L->module_md_name, v[0]);
    return m;
}

/* A heap type (class statement) with __qualname__ and __module__. */
static uint64_t mk_heap_type(const char *name, uint64_t basic, uint64_t extra_flags)
{
    uint64_t t = gc_obj(IN_HEAP, T_type, L->heaptype_size, 0, 0);
    uint64_t nm = heap_obj(0, 16, 0, 0);
    memset(at(nm, 16), 0, 16);
    memcpy(at(nm, strlen(name) + 1), name, strlen(name) + 1);
    uint64_t k = mk_str("__module__", IN_HEAP), v = mk_str("__main__", IN_HEAP);
    w64(t + L->type_tp_name, nm);
    w64(t + L->type_tp_basicsize, basic);
    w64(t + L->type_tp_flags, TPF_HEAPTYPE | TPF_READY | TPF_HAVE_GC | extra_flags);
    w64(t + L->type_tp_base, T_object);
    w64(t + L->type_tp_dict, mk_dict(&k, &v, 1));
    w64(t + L->heaptype_ht_name, mk_str(name, IN_HEAP));
    w64(t + L->heaptype_ht_qualname, mk_str(name, IN_HEAP));
    return t;
}

/* Links the tracked objects into generation 0's list at `head`; the other
 * heads of the state at `gc` are empty lists. */
static void gc_state(uint64_t gc, int broken)
{
    for (unsigned g = 0; g <= L->gc_num_generations; g++) {
        uint64_t head = g < L->gc_num_generations
                            ? gc + L->gc_generations + (uint64_t)g * L->gc_generation_size + L->gc_generation_head
                            : gc + L->gc_permanent + L->gc_generation_head;
        uint64_t gen = head - L->gc_generation_head;
        if (g < L->gc_num_generations) {
            w32(gen + L->gc_generation_threshold, g ? 10 : 700);
            w32(gen + L->gc_generation_count, g ? 0 : ngc);
        }
        w64(head + L->gchead_next, head);
        w64(head + L->gchead_prev, head);
        if (g || !ngc) continue;
        uint64_t prev = head;
        for (unsigned i = 0; i < ngc; i++) {
            uint64_t h = gc_list[i] - L->gchead_size;
            w64(prev + L->gchead_next, h);
            w64(h + L->gchead_prev, prev);
            prev = h;
        }
        w64(prev + L->gchead_next, head);
        w64(head + L->gchead_prev, prev);
        if (broken) /* the last object's back link is wrong: the walk stops there */
            w64(gc_list[ngc - 1] - L->gchead_size + L->gchead_prev, head);
    }
}

/* ----------------------------------------------------------------- output */

static unsigned char *out;
static size_t outlen, outcap;

static void put(const void *p, size_t n)
{
    if (outlen + n > outcap) {
        outcap = (outlen + n) * 2;
        out = realloc(out, outcap);
        if (!out) die("out of memory");
    }
    memcpy(out + outlen, p, n);
    outlen += n;
}

static void put_le(uint64_t v, unsigned n)
{
    unsigned char b[8];
    for (unsigned i = 0; i < n; i++) b[i] = (unsigned char)(v >> (8 * i));
    put(b, n);
}

static unsigned nregions;

static void put_region(uint64_t addr, uint64_t size, const unsigned char *d, uint64_t len, int kind)
{
    put_le(addr, 8);
    put_le(size, 4);
    put_le(len, 4);
    put_le((uint64_t)kind, 1);
    put(d, len);
    nregions++;
}

/* A segment as regions: its bytes up to the last nonzero one, the rest
 * zero by its size; a split segment's zero runs of 2 KiB and more become
 * regions without data (its reads never cross them: single fields). */
static void put_seg(const seg *s)
{
    uint64_t end = s->size, start = 0, i = 0;
    while (end && !s->b[end - 1]) end--;
    while (s->split && i < end) {
        if (s->b[i]) {
            i++;
            continue;
        }
        uint64_t zs = i;
        while (i < end && !s->b[i]) i++;
        if (i - zs < 2048) continue;
        put_region(s->base + start, zs + 64 - start, s->b + start, zs - start, s->kind);
        put_region(s->base + zs + 64, i - zs - 128, NULL, 0, s->kind);
        start = i - 64;
    }
    put_region(s->base + start, s->size - start, s->b + start, end - start, s->kind);
}

static void write_seed(const char *dir, const char *name, unsigned layout, unsigned flags, uint64_t runtime,
                       uint64_t alt)
{
    outlen = 0;
    nregions = 0;
    put_le(layout, 1);
    put_le(flags, 1);
    put_le(0, 6);
    put_le(runtime, 8);
    put_le(alt, 8);
    for (unsigned i = 0; i < FPH_NSYMBOLS; i++) put_le(symv[i], 8);
    for (unsigned i = 0; i < nsegs; i++) put_seg(&segs[i]);
    if (nregions > FPH_MAX_REGIONS) die("too many regions for the fuzz target");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(out, 1, outlen, f) != outlen || fclose(f)) die("cannot write a seed");
    printf("%s: %zu bytes, %u regions\n", path, outlen, nregions);
}

/* ------------------------------------------------------------------- heaps */

enum { V_FULL, V_STRIPPED, V_MALLOC, V_MULTI, V_SUBINTERP, V_COLLECTING, V_COUNT };
static const char *const vnames[V_COUNT] = {"full", "stripped", "malloc", "multi", "subinterp", "collecting"};

static void reset(void)
{
    for (unsigned i = 0; i < nsegs; i++) free(segs[i].b);
    nsegs = 0;
    ngc = 0;
    npools = 0;
    memset(symv, 0, sizeof symv);
    T_type = 0;
}

static void build(const char *dir, unsigned li, int v)
{
    L = &py_layout_table[li];
    minor = (L->version >> 16) & 0xff;
    reset();
    const uint64_t delta = v == V_MULTI ? 0x10000000ull : 0; /* the live copy is mapped above the first */
    S_RO = seg_new(0x7f0000000000ull + delta, 0x1000, PYIMAGE_FILE_RO);
    S_DATA = seg_new(0x7f0000200000ull + delta, 0x8000, PYIMAGE_FILE);
    S_HEAP = seg_new(0x560000000000ull, 0x10000, PYIMAGE_ANON);
    arena_base = 0x7f1000000000ull;

    /* _PyRuntime: its own segment, at least 16 KiB (the walk reads that) */
    S_RT = seg_new(0x7f0000300000ull + delta, 0x4000 > L->runtime_size ? 0x4000 : L->runtime_size, PYIMAGE_FILE);
    uint64_t rt = S_RT->base;
    if (L->debug_offsets_size != PY_LAYOUT_ABSENT) {
        memcpy(at(rt + L->debug_cookie, 8), "xdebugpy", 8);
        w64(rt + L->debug_version, L->source_version);
        for (unsigned i = 0; i < L->n_debug_checks; i++) {
            uint32_t val;
            memcpy(&val, (const char *)L + L->debug_checks[i].field_offset, 4);
            w64(rt + L->debug_checks[i].dbg_offset, val);
        }
    }
    T_type = static_type("type", L->heaptype_size, 40, TPF_TYPE | TPF_HAVE_GC, 0);
    w64(T_type + L->object_type, T_type);
    T_object = static_type("object", L->object_size, 0, 0, 0);
    w64(T_type + L->type_tp_base, T_object);
    T_dict = static_type("dict", L->dict_size, 0, TPF_DICT | TPF_HAVE_GC, T_object);
    T_list = static_type("list", L->list_size, 0, TPF_LIST | TPF_HAVE_GC, T_object);
    T_tuple = static_type("tuple", L->tuple_ob_item, 8, TPF_TUPLE | TPF_HAVE_GC, T_object);
    T_str = static_type("str", L->unicode_size, 0, TPF_UNICODE, T_object);
    T_int = static_type("int", L->long_ob_digit, L->long_digit_size, TPF_LONG, T_object);
    T_float = static_type("float", L->float_size, 0, 0, T_object);
    T_module = static_type("module", L->module_size, 0, TPF_HAVE_GC, T_object);
    T_set = static_type("set", L->set_size, 0, TPF_HAVE_GC, T_object);
    T_frozenset = static_type("frozenset", L->set_size, 0, TPF_HAVE_GC, T_object);
    set_sym("PySet_Type", T_set);
    set_sym("PyFrozenSet_Type", T_frozenset);
    set_sym("PyFloat_Type", T_float);
    set_sym("PyBaseObject_Type", T_object);
    set_sym("PyModule_Type", T_module);

    /* the interpreter(s): their own segments, zero runs left out */
    seg *si = seg_new(0x560100000000ull, L->interp_size, PYIMAGE_ANON);
    si->split = 1;
    uint64_t interp = si->base, sub = 0;
    w64(rt + L->runtime_interpreters_head, interp);
    if (L->runtime_interpreters_main != PY_LAYOUT_ABSENT) w64(rt + L->runtime_interpreters_main, interp);
    if (v == V_SUBINTERP) { /* a subinterpreter: first on the list, its own GC state */
        seg *ss = seg_new(0x560200000000ull, L->interp_size, PYIMAGE_ANON);
        ss->split = 1;
        sub = ss->base;
        w64(rt + L->runtime_interpreters_head, sub);
        w64(sub + L->interp_next, interp);
        w64(sub + L->interp_id, 1);
    }

    /* objects: untracked small ones in pools, big ones in malloc chunks */
    uint64_t i42 = mk_int(42, IN_POOL), f = mk_float(3.25, IN_POOL), hello = mk_str("hello", IN_POOL);
    uint64_t world = mk_str("world", IN_POOL);
    uint64_t tup_items[2] = {i42, hello};
    uint64_t tup = mk_tuple(tup_items, 2, IN_POOL);
    uint64_t freed = pool_block(L->long_ob_digit + L->long_digit_size); /* a freed int: on the free list */
    uint64_t i7 = mk_int(7, IN_POOL);
    uint64_t big = mk_big_str('x', 600, IN_CHUNK), big2 = mk_big_str('y', 700, IN_CHUNK);
    uint64_t big_int = obj_at(IN_CHUNK, T_int, L->long_ob_digit + 40 * L->long_digit_size, 0);
    if (L->long_lv_tag != PY_LAYOUT_ABSENT) w64(big_int + L->long_lv_tag, 40ull << L->long_non_size_bits);
    else w64(big_int + L->varobject_ob_size, 40);

    uint64_t items[6] = {i42, f, hello, tup, big, big_int};
    mk_list(items, 6);

    uint64_t set = gc_obj(IN_HEAP, T_set, L->set_size, 0, 0); /* {world, i7} in the small table */
    w64(set + L->set_fill, 2);
    w64(set + L->set_used, 2);
    w64(set + L->set_mask, 7);
    w64(set + L->set_table, set + L->set_smalltable);
    w64(set + L->set_smalltable, world);
    w64(set + L->set_smalltable + 8, 0x77);
    w64(set + L->set_smalltable + L->setentry_size, mk_str("in a set", IN_HEAP));
    w64(set + L->set_smalltable + L->setentry_size + 8, 7);

    uint64_t foo = mk_heap_type("Foo", L->object_size + 16, 0);
    uint64_t inst = gc_obj(IN_POOL, foo, L->object_size + 16, 0, 0);
    w64(inst + L->object_size, big2);    /* a word of an instance: must be a whole malloc chunk */
    w64(inst + L->object_size + 8, i7);  /* in the arena: the pool scan's */

    if (L->managed_dict_kind != PY_MANAGED_DICT_NONE) { /* an instance whose __dict__ is values only */
        uint64_t mflags = L->tpflags_managed_dict | (L->tpflags_preheader & ~(uint64_t)L->tpflags_managed_dict) |
                          L->tpflags_inline_values;
        uint64_t bar = mk_heap_type("Bar", L->object_size, mflags);
        uint64_t ka[2] = {mk_str("a", IN_HEAP), mk_str("b", IN_HEAP)};
        uint64_t va[2] = {mk_str("value-a", IN_HEAP), mk_float(1.5, IN_HEAP)};
        uint64_t ck = mk_keys(ka, NULL, 2);
        w64(bar + L->heaptype_ht_cached_keys, ck);
        uint64_t pre = L->preheader_managed_size;
        uint64_t extra = L->managed_dict_kind == PY_MANAGED_DICT_INLINE ? L->dictvalues_values + 16 : 0;
        uint64_t o = gc_obj(IN_HEAP, bar, L->object_size + extra, pre, 0);
        if (L->managed_dict_kind == PY_MANAGED_DICT_INLINE) {
            w8(o + L->object_size, 2); /* capacity */
            w64(o + L->object_size + L->dictvalues_values, va[0]);
            w64(o + L->object_size + L->dictvalues_values + 8, va[1]);
        } else {
            uint64_t vals = heap_obj(0, L->dictvalues_values + 16 + 8, 0, 1);
            memset(at(vals, L->dictvalues_values + 16), 0, L->dictvalues_values + 16);
            w64(vals + L->dictvalues_values, va[0]);
            w64(vals + L->dictvalues_values + 8, va[1]);
            if (L->managed_dict_kind == PY_MANAGED_DICT_TAGGED) w64(o - L->managed_dict_before, vals - 1);
            else w64(o - L->managed_values_before, vals);
        }
    }

    uint64_t mk[3] = {mk_str("sys", IN_HEAP), mk_str("os", IN_HEAP), mk_str("_json", IN_HEAP)};
    char path[128];
    snprintf(path, sizeof path, "/usr/lib/python3.%u/os.py", minor);
    uint64_t mv[3] = {mk_module("sys", NULL), mk_module("os", path), 0};
    snprintf(path, sizeof path, "/home/user/.venv/lib/_json.cpython-3%u-x86_64-linux-gnu.so", minor);
    mv[2] = mk_module("_json", path);
    uint64_t modules = mk_dict(mk, mv, 3);
    w64(interp + L->interp_modules, modules);
    if (sub) w64(sub + L->interp_modules, modules);

    /* GC state: the runtime's (3.8) or the interpreter's */
    uint64_t gc = L->gc_where == PY_GC_IN_RUNTIME ? rt + L->runtime_gc : interp + L->interp_gc;
    gc_state(gc, v == V_COLLECTING);
    if (sub && L->gc_where == PY_GC_IN_INTERP) {
        unsigned keep = ngc;
        ngc = 0;
        gc_track(gc_obj(IN_HEAP, T_list, L->list_size, 0, 1)); /* an empty list of the subinterpreter */
        gc_state(sub + L->interp_gc, 0);
        ngc = keep;
    }
    if (v == V_COLLECTING && L->gc_collecting != PY_LAYOUT_ABSENT) w32(gc + L->gc_collecting, 1);

    /* pymalloc: the pools, the arenas array, where pymalloc keeps it */
    w64(freed, 0); /* end of the free list */
    w64(freed + 8, 0);
    pools_finish();
    for (unsigned i = 0; i < npools; i++) /* the freed int's pool: freeblock */
        if (freed >= pools[i].addr && freed < pools[i].addr + L->pool_size) {
            w64(pools[i].addr + L->pool_freeblock, freed);
            w32(pools[i].addr + L->pool_ref_count, pools[i].count - 1);
        }
    uint64_t arr = seg_alloc(S_HEAP, 4ull * L->arena_object_size, 16);
    uint64_t npools_arena = L->arena_size / L->pool_size;
    w64(arr + L->arena_address, arena_base);
    w64(arr + L->arena_pool_address, arena_base + (npools + 1ull) * L->pool_size);
    w32(arr + L->arena_nfreepools, (uint32_t)(npools_arena - npools - 1));
    w32(arr + L->arena_ntotalpools, (uint32_t)npools_arena);
    seg_new(arena_base, L->pool_header_size, PYIMAGE_ANON); /* pool 0: a header, never used */
    if (L->obmalloc_where == PY_OBMALLOC_STATICS) {
        if (v != V_STRIPPED) {
            uint64_t s = seg_alloc(S_DATA, 40, 8);
            w64(s, arr);
            w32(s + 8, 4);
            w64(s + 16, 1);
            w64(s + 24, 3);
            w64(s + 32, 2);
            set_sym("arenas", s);
            set_sym("maxarenas", s + 8);
            set_sym("narenas_currently_allocated", s + 16);
            set_sym("ntimes_arena_allocated", s + 24);
            set_sym("narenas_highwater", s + 32);
        }
    } else {
        uint64_t obm = interp + L->interp_obmalloc;
        if (L->obmalloc_where == PY_OBMALLOC_POINTER) {
            seg *so = seg_new(0x560300000000ull, L->obmalloc_size, PYIMAGE_ANON);
            so->split = 1;
            w64(obm, so->base);
            obm = so->base;
        }
        w64(obm + L->obmalloc_arenas, arr);
        w32(obm + L->obmalloc_maxarenas, 4);
        w64(obm + L->obmalloc_narenas_currently_allocated, 1);
        w64(obm + L->obmalloc_ntimes_arena_allocated, 3);
        w64(obm + L->obmalloc_narenas_highwater, 2);
    }

    /* the allocator: obmalloc.c's functions, and which one serves objects */
    if (v != V_STRIPPED) {
        uint64_t text = 0x7f0000400000ull + delta;
        uint64_t f_py = text + 0x100, f_raw = text + 0x200, f_dbg = text + 0x300, f_dbgraw = text + 0x400;
        set_sym("_PyObject_Malloc", f_py);
        set_sym("_PyMem_RawMalloc", f_raw);
        set_sym("_PyMem_DebugMalloc", f_dbg);
        set_sym("_PyMem_DebugRawMalloc", f_dbgraw);
        uint64_t obj_fn = v == V_MALLOC ? f_raw : f_py;
        if (L->obmalloc_where == PY_OBMALLOC_STATICS) {
            uint64_t dom = seg_alloc(S_DATA, 40, 8);
            w64(dom + 8, obj_fn);
            set_sym("_PyObject", dom);
        } else { /* _PyRuntime.allocators.standard: raw, mem, obj */
            uint64_t a = rt + 0x1000;
            uint64_t fns[3] = {v == V_MALLOC ? f_raw : f_raw, v == V_MALLOC ? f_raw : f_py, obj_fn};
            for (unsigned i = 0; i < 3; i++) w64(a + 40ull * i + 8, fns[i]);
        }
    }
    /* symbols are given as in the first copy of libpython: the walk adds
     * the distance to the live copy */
    for (unsigned i = 0; i < FPH_NSYMBOLS; i++)
        if (symv[i]) symv[i] -= delta;

    uint64_t runtime = rt, alt = 0;
    unsigned flags = FPH_SHARED;
    if (v == V_MULTI) { /* the first copy's runtime: no interpreters */
        seg *first = seg_new(rt - delta, 0x4000, PYIMAGE_FILE);
        if (L->debug_offsets_size != PY_LAYOUT_ABSENT)
            memcpy(first->b, at(rt, L->debug_offsets_size), L->debug_offsets_size);
        runtime = first->base;
        alt = rt;
        flags |= FPH_MULTIPLE;
    }
    if (v == V_MALLOC) flags |= FPH_REDACT;
    char name[64];
    snprintf(name, sizeof name, "3.%u-%s", minor, vnames[v]);
    write_seed(dir, name, li, flags, runtime, alt);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_pyheap_seeds OUTDIR\n");
        return 2;
    }
    unsigned n = 0;
    for (unsigned li = 0; li < py_layout_count; li++) {
        build(argv[1], li, V_FULL);
        n++;
        unsigned m = (L->version >> 16) & 0xff;
        /* each variant on the versions where it takes another path */
        if (L->obmalloc_where == PY_OBMALLOC_STATICS || m == 12) build(argv[1], li, V_STRIPPED), n++;
        if (m == 8 || m == 12) build(argv[1], li, V_MALLOC), n++;
        if (m == 10 || m == 13) build(argv[1], li, V_MULTI), n++;
        if (m == 9 || m == 12 || m == 13) build(argv[1], li, V_SUBINTERP), n++;
        if (m == 8 || m == 11) build(argv[1], li, V_COLLECTING), n++;
    }
    reset();
    free(out);
    printf("make_pyheap_seeds: %u seeds written to %s\n", n, argv[1]);
    return 0;
}

/*
 * bench_format.c - how fast and how small the .msnap format is, measured on a
 * synthetic but realistic snapshot and compared with the same data written
 * as the text the kernel prints (/proc/PID/smaps, status, smaps_rollup,
 * memory.stat) plus CSV for the Python sections, compressed with zstd -19.
 *
 *   [1] building the tables, [2] encode and decode speed (checked cell by
 *   cell; and ms_writer_add of the mappings table alone, the agent's part
 *   of the encode), [3] sizes per section and whole against the text (the issue's
 *   target: at most 0.5x), [4] the zstd level sweep, [5] (--columns) what
 *   each mapping and type column costs, [6] the same comparison for a small
 *   process. tests/bench/bench_real.sh does [3] for live Python processes.
 *
 * The comparison is the same data both ways: every value the snapshot
 * holds is in the text, as the kernel prints it (smaps entries with their
 * padded header lines and "kB" fields) or as CSV for the Python sections,
 * and the text is compressed whole, as `zstd -19` compresses a file (the
 * bench checks its figure against the zstd program). Where the text could
 * be laid out two reasonable ways (the type's module and qualname in one
 * field or two) the smaller compressed text is the baseline.
 *
 * Not a test: the figures depend on the machine. `cmake --build build
 * --target bench` runs it; CTest only runs it tiny (bench_format_smoke) to
 * prove it still works. Uses the public API of libmsformat only, plus
 * libzstd for the text baseline.
 *
 * The data are generated with a fixed-seed PRNG so runs are repeatable. The
 * distributions follow real smaps content (see the comments in the
 * generators): compression ratios depend on them, so keep them realistic.
 */
#include "bench_util.h"
#include "msnap.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#ifndef MS_BENCH_BUILD_TYPE
#define MS_BENCH_BUILD_TYPE "unknown"
#endif

#define BENCH_SEED 0x6d736e6170ull /* "msnap" */

/* ------------------------------------------------------------------ errors */

/* Runtime failure: one line on stderr, exit 1. */
static void bench_die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
static void bench_die(const char *fmt, ...)
{
    va_list ap;
    fputs("bench_format: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) bench_die("out of memory (%zu bytes)", n);
    return p;
}

static void *bench_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) bench_die("out of memory (%zu bytes)", n);
    return p;
}

/* -------------------------------------------------------------------- PRNG */

/* xoshiro256**, seeded by splitmix64: fast, and the same sequence on every
 * platform, so the data (and so the sizes) are repeatable. */
typedef struct {
    uint64_t s[4];
} bench_rng;

static uint64_t bench_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(bench_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = bench_splitmix(&seed);
}

static uint64_t rng_u64(bench_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t res = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* Uniform in [0, n); 0 when n is 0. The modulo bias is irrelevant here. */
static uint64_t rng_below(bench_rng *r, uint64_t n)
{
    return n ? rng_u64(r) % n : 0;
}

/* Uniform in [lo, hi], inclusive. */
static uint64_t rng_range(bench_rng *r, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + rng_below(r, hi - lo + 1);
}

static double rng_unit(bench_rng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

static int rng_chance(bench_rng *r, double p)
{
    return rng_unit(r) < p;
}

/* Heavy tail: P(X >= x) = x^-alpha for x >= 1, capped at `cap`. */
static uint64_t rng_pareto(bench_rng *r, double alpha, uint64_t cap)
{
    double u = 1.0 - rng_unit(r); /* (0, 1] */
    double x = pow(u, -1.0 / alpha);
    return x >= (double)cap ? cap : (uint64_t)x;
}

/* Log-uniform in [lo, hi]. */
static uint64_t rng_logu(bench_rng *r, uint64_t lo, uint64_t hi)
{
    double x = exp(log((double)lo) + rng_unit(r) * (log((double)hi) - log((double)lo)));
    uint64_t v = (uint64_t)x;
    return v < lo ? lo : v > hi ? hi : v;
}

/* ------------------------------------------------------------- string pool */

/* All generated strings live in one pool, freed at once. */
typedef struct bench_chunk {
    struct bench_chunk *next;
    size_t used, cap;
    char data[];
} bench_chunk;

typedef struct {
    bench_chunk *head;
} bench_pool;

static char *pool_alloc(bench_pool *p, size_t n)
{
    if (!p->head || p->head->cap - p->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        bench_chunk *c = bench_xmalloc(sizeof *c + cap);
        c->next = p->head;
        c->used = 0;
        c->cap = cap;
        p->head = c;
    }
    char *s = p->head->data + p->head->used;
    p->head->used += n;
    return s;
}

static const char *pool_printf(bench_pool *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static const char *pool_printf(bench_pool *p, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
    char *s = pool_alloc(p, (size_t)n + 1);
    memcpy(s, tmp, (size_t)n + 1);
    return s;
}

static void pool_free(bench_pool *p)
{
    while (p->head) {
        bench_chunk *c = p->head;
        p->head = c->next;
        free(c);
    }
}

/* ----------------------------------------------------------- text buffer */

typedef struct {
    char *p;
    size_t len, cap;
} bench_text;

static void text_reserve(bench_text *t, size_t extra)
{
    if (t->cap - t->len >= extra) return;
    size_t cap = t->cap ? t->cap : 1 << 16;
    while (cap - t->len < extra) cap *= 2;
    t->p = bench_xrealloc(t->p, cap);
    t->cap = cap;
}

static void text_put(bench_text *t, const void *s, size_t n)
{
    if (!n) return;
    text_reserve(t, n);
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void text_printf(bench_text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void text_printf(bench_text *t, const char *fmt, ...)
{
    va_list ap;
    text_reserve(t, 256);
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) bench_die("vsnprintf failed");
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        text_reserve(t, (size_t)n + 1);
    }
}

static void text_free(bench_text *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------- data model */

/* smaps fields in the order the kernel prints them (fs/proc/task_mmu.c),
 * with the column each is stored in. Pss_Anon/File/Shmem are printed only
 * in smaps_rollup, ProtectionKey only on CPUs with pkeys: not per mapping
 * here, as on this machine. */
enum {
    F_SIZE, F_KPS, F_MMUPS, F_RSS, F_PSS, F_PSS_DIRTY, F_SHARED_CLEAN, F_SHARED_DIRTY,
    F_PRIVATE_CLEAN, F_PRIVATE_DIRTY, F_REFERENCED, F_ANONYMOUS, F_KSM, F_LAZYFREE,
    F_ANON_HUGE, F_SHMEM_PMD, F_FILE_PMD, F_SHARED_HUGETLB, F_PRIVATE_HUGETLB, F_SWAP,
    F_SWAP_PSS, F_LOCKED, F_THP_ELIGIBLE, F_COUNT
};

static const struct {
    const char *name; /* as printed, with the colon */
    unsigned col;     /* MS_MAP_* */
    int kib;          /* printed with " kB" */
    int pages;        /* always a multiple of the page size (what-if: store pages) */
} bench_fields[F_COUNT] = {
    {"Size:", MS_MAP_SIZE, 1, 1},
    {"KernelPageSize:", MS_MAP_KERNEL_PAGE_SIZE, 1, 1},
    {"MMUPageSize:", MS_MAP_MMU_PAGE_SIZE, 1, 1},
    {"Rss:", MS_MAP_RSS, 1, 1},
    {"Pss:", MS_MAP_PSS, 1, 0},
    {"Pss_Dirty:", MS_MAP_PSS_DIRTY, 1, 0},
    {"Shared_Clean:", MS_MAP_SHARED_CLEAN, 1, 1},
    {"Shared_Dirty:", MS_MAP_SHARED_DIRTY, 1, 1},
    {"Private_Clean:", MS_MAP_PRIVATE_CLEAN, 1, 1},
    {"Private_Dirty:", MS_MAP_PRIVATE_DIRTY, 1, 1},
    {"Referenced:", MS_MAP_REFERENCED, 1, 1},
    {"Anonymous:", MS_MAP_ANONYMOUS, 1, 1},
    {"KSM:", MS_MAP_KSM, 1, 1},
    {"LazyFree:", MS_MAP_LAZYFREE, 1, 1},
    {"AnonHugePages:", MS_MAP_ANON_HUGE, 1, 1},
    {"ShmemPmdMapped:", MS_MAP_SHMEM_PMD, 1, 1},
    {"FilePmdMapped:", MS_MAP_FILE_PMD, 1, 1},
    {"Shared_Hugetlb:", MS_MAP_SHARED_HUGETLB, 1, 1},
    {"Private_Hugetlb:", MS_MAP_PRIVATE_HUGETLB, 1, 1},
    {"Swap:", MS_MAP_SWAP, 1, 1},
    {"SwapPss:", MS_MAP_SWAP_PSS, 1, 0},
    {"Locked:", MS_MAP_LOCKED, 1, 0},
    {"THPeligible:", MS_MAP_THP_ELIGIBLE, 0, 0},
};

enum { P_R = 1, P_W = 2, P_X = 4, P_S = 8, P_P = 16 }; /* MS_MAP_PERMS bits */

/* VmFlags lines seen on real processes (python3.11 on Linux 6.x). */
enum {
    VF_RO, VF_RX, VF_RO_AC, VF_RW, VF_ARENA, VF_ARENA_RES, VF_STACK, VF_STACK_GUARD,
    VF_GUARD, VF_RW_HG, VF_MAIN_STACK, VF_VVAR, VF_VDSO, VF_VSYSCALL, VF_RO_SHARED,
    VF_RW_SHARED, VF_RW_LOCKED, VF_COUNT
};
static const char *const bench_vmflags[VF_COUNT] = {
    "rd mr mw me", "rd ex mr mw me", "rd mr mw me ac", "rd wr mr mw me ac",
    "rd wr mr mw me nr", "mr mw me nr", "rd wr mr mw me ac nh", "mr mw me nh",
    "mr mw me ac", "rd wr mr mw me ac hg", "rd wr mr mw me gd ac", "rd mr pf io de dd",
    "rd ex mr mw me de", "ex", "rd mr me ms", "rd wr sh mr mw me ms", "rd wr mr mw me lo ac",
};

typedef struct {
    uint64_t start, end;       /* bytes */
    uint64_t offset;           /* file offset, bytes */
    uint64_t inode;
    uint32_t dev_major, dev_minor;
    uint8_t perms;             /* P_* */
    uint8_t deleted;           /* kernel appended " (deleted)" */
    uint8_t vmflags;           /* VF_* */
    int32_t path;              /* index in bench_data.paths, -1 for none */
    uint64_t f[F_COUNT];       /* KiB, except THPeligible */
} bench_map;

typedef struct {
    const char *name;     /* tp_name */
    const char *qualname; /* __qualname__, NULL if unknown */
    const char *module;   /* __module__ of heap types, NULL for static types */
    uint64_t count, sizeof_bytes, allocated, flags;
} bench_type;

typedef struct {
    const char *name, *file; /* file may be NULL */
    uint64_t flags;
} bench_module;

typedef struct {
    uint64_t addr, used, free_pools, total, live;
} bench_arena;

/* A name/value line of /proc/PID/status, smaps_rollup or memory.stat. */
enum { KV_DEC, KV_KB, KV_HEX16, KV_OCT, KV_HEX };
typedef struct {
    const char *file; /* cgroup stat: source file */
    const char *name;
    uint64_t value;
    int style;        /* KV_*: how the kernel prints it */
} bench_kv;

typedef struct {
    bench_pool pool;
    bench_map *maps;
    size_t nmaps, capmaps;
    const char **paths;
    size_t npaths, cappaths;
    bench_type *types;
    size_t ntypes;
    bench_module *mods;
    size_t nmods;
    bench_arena *arenas;
    size_t narenas, caparenas;
    bench_kv status[64];
    size_t nstatus;
    bench_kv rollup[32];
    size_t nrollup;
    bench_kv cgstat[64];
    size_t ncgstat;
    uint64_t rollup_start, rollup_end;
    /* what the generator made, for the header */
    size_t nlibs, nlib_maps, nthreads, nmarenas, ndatafiles, nanon;
    uint64_t pid, swap_on;
} bench_data;

/* ------------------------------------------------------ mapping generator */

#define PAGE 4096u

static bench_map *map_add(bench_data *d, uint64_t *addr, uint64_t pages, uint8_t perms,
                          uint8_t vmflags, int32_t path)
{
    if (d->nmaps == d->capmaps) {
        d->capmaps = d->capmaps ? d->capmaps * 2 : 1024;
        d->maps = bench_xrealloc(d->maps, d->capmaps * sizeof *d->maps);
    }
    bench_map *m = &d->maps[d->nmaps++];
    memset(m, 0, sizeof *m);
    m->start = *addr;
    m->end = *addr + pages * PAGE;
    m->perms = perms;
    m->vmflags = vmflags;
    m->path = path;
    m->f[F_SIZE] = pages * 4;
    m->f[F_KPS] = 4;
    m->f[F_MMUPS] = 4;
    *addr = m->end;
    return m;
}

static int32_t path_add(bench_data *d, const char *s)
{
    if (d->npaths == d->cappaths) {
        d->cappaths = d->cappaths ? d->cappaths * 2 : 256;
        d->paths = bench_xrealloc(d->paths, d->cappaths * sizeof *d->paths);
    }
    d->paths[d->npaths] = s;
    return (int32_t)d->npaths++;
}

/* Private anonymous memory: all resident pages are dirty and anonymous.
 * Small regions are usually fully touched, large ones partly. A few were
 * inherited over fork (shared dirty, PSS halved or less), some swapped, a
 * few under MADV_FREE, some large ones backed by THP. Kernel identities
 * hold: Rss = Shared_* + Private_*, Pss <= Rss, Referenced <= Rss. */
static void fill_anon(bench_data *d, bench_rng *r, bench_map *m, double full)
{
    uint64_t pages = m->f[F_SIZE] / 4, rss;
    double u = rng_unit(r);
    if (u < full)
        rss = pages;
    else if (u < full + (1 - full) * 0.25)
        rss = 0;
    else
        rss = pages > 1 ? rng_range(r, 1, pages - 1) : pages;
    uint64_t shared = 0, k = 1;
    if (rss && rng_chance(r, 0.03)) { /* pages still shared with a forked child */
        shared = rng_range(r, 1, rss);
        k = rng_range(r, 2, 4);
    }
    m->f[F_RSS] = rss * 4;
    m->f[F_SHARED_DIRTY] = shared * 4;
    m->f[F_PRIVATE_DIRTY] = (rss - shared) * 4;
    m->f[F_PSS] = (rss - shared) * 4 + shared * 4 / k;
    m->f[F_PSS_DIRTY] = m->f[F_PSS];
    m->f[F_ANONYMOUS] = rss * 4;
    m->f[F_REFERENCED] = rng_chance(r, 0.85) ? rss * 4 : rng_below(r, rss + 1) * 4;
    if (d->swap_on && rss < pages && rng_chance(r, 0.06)) {
        uint64_t sw = rng_range(r, 1, pages - rss);
        m->f[F_SWAP] = sw * 4;
        m->f[F_SWAP_PSS] = sw * 4;
    }
    if (rss && rng_chance(r, 0.01)) m->f[F_LAZYFREE] = rng_below(r, rss + 1) * 4;
    if (pages >= 512) {
        m->f[F_THP_ELIGIBLE] = 1;
        if (rss >= 512 && rng_chance(r, 0.3)) m->f[F_ANON_HUGE] = rng_range(r, 1, rss / 512) * 2048;
    }
    if (rng_chance(r, 0.002)) {
        m->vmflags = VF_RW_LOCKED;
        m->f[F_LOCKED] = m->f[F_PSS];
    }
}

/* Clean file pages, shared with `k` processes (page cache). */
static void fill_file_clean(bench_rng *r, bench_map *m, uint64_t rss, double k)
{
    m->f[F_RSS] = rss * 4;
    if (k > 1.0) {
        m->f[F_SHARED_CLEAN] = rss * 4;
        m->f[F_PSS] = (uint64_t)((double)(rss * 4) / k);
    } else {
        m->f[F_PRIVATE_CLEAN] = rss * 4;
        m->f[F_PSS] = rss * 4;
    }
    m->f[F_REFERENCED] = rng_chance(r, 0.8) ? rss * 4 : rng_below(r, rss + 1) * 4;
}

/* Copy-on-write file pages (.data.rel.ro, .data): `dirty` of `rss` pages
 * written; with forked workers (k > 1) they stay shared dirty. */
static void fill_file_cow(bench_map *m, uint64_t rss, uint64_t dirty, uint64_t k)
{
    m->f[F_RSS] = rss * 4;
    if (k > 1) {
        m->f[F_SHARED_DIRTY] = dirty * 4;
        m->f[F_PSS_DIRTY] = dirty * 4 / k;
    } else {
        m->f[F_PRIVATE_DIRTY] = dirty * 4;
        m->f[F_PSS_DIRTY] = dirty * 4;
    }
    m->f[F_PRIVATE_CLEAN] = (rss - dirty) * 4;
    m->f[F_PSS] = m->f[F_PSS_DIRTY] + (rss - dirty) * 4;
    m->f[F_ANONYMOUS] = dirty * 4;
    m->f[F_REFERENCED] = rss * 4;
}

typedef struct {
    int32_t path;
    uint64_t inode;
    uint32_t maj, min;
    int system;  /* /usr/lib: page cache shared with many processes */
} bench_lib;

/* One shared object as ld.so maps it. Modern (separate-code) layout:
 * r--p headers, r-xp text, r--p rodata, r--p relro, rw-p data, sometimes
 * an anonymous rw-p .bss tail; offsets are cumulative. Older objects:
 * r-xp, a ---p alignment hole, r--p relro, rw-p. At most `room` mappings. */
static void gen_lib(bench_data *d, bench_rng *r, uint64_t *addr, const bench_lib *L, size_t room,
                    uint64_t workers)
{
    uint64_t text = rng_logu(r, 2, 20000);
    uint64_t hdr = 1 + text / rng_range(r, 3, 8);
    uint64_t ro = 1 + text / rng_range(r, 2, 6);
    uint64_t relro = 1 + text / rng_range(r, 50, 300);
    uint64_t data = 1 + text / rng_range(r, 100, 1000);
    double k = 1.0;
    uint64_t kd = 1;
    if (L->system)
        k = 1.0 + (double)rng_pareto(r, 0.8, 80) * (0.7 + 0.6 * rng_unit(r));
    else if (rng_chance(r, 0.7)) /* loaded before the workers were forked */
        k = (double)workers, kd = workers;
    size_t n0 = d->nmaps;
    int modern = rng_chance(r, 0.8);
    uint64_t off = 0;
#define LIB_MAP(pg, pm, vf)                                                 \
    do {                                                                    \
        if (d->nmaps - n0 >= room) goto done;                               \
        m = map_add(d, addr, (pg), (pm), (vf), L->path);                    \
        m->offset = off * PAGE;                                             \
        m->inode = L->inode;                                                \
        m->dev_major = L->maj;                                              \
        m->dev_minor = L->min;                                              \
    } while (0)
    bench_map *m;
    if (modern) {
        LIB_MAP(hdr, P_R | P_P, VF_RO);
        fill_file_clean(r, m, rng_chance(r, 0.8) ? hdr : rng_range(r, 1, hdr), k);
        off += hdr;
    }
    LIB_MAP(text, P_R | P_X | P_P, VF_RX);
    fill_file_clean(r, m, rng_chance(r, 0.3) ? text : rng_range(r, 1, text), k);
    off += text;
    if (modern) {
        LIB_MAP(ro, P_R | P_P, VF_RO);
        fill_file_clean(r, m, rng_chance(r, 0.2) ? ro : rng_below(r, ro + 1), k);
        off += ro;
    } else {
        uint64_t hole = 512 - text % 512;
        LIB_MAP(hole, P_P, VF_RO);
        m->vmflags = VF_GUARD;
    }
    LIB_MAP(relro, P_R | P_P, VF_RO_AC);
    fill_file_cow(m, relro, relro, kd);
    off += relro;
    LIB_MAP(data, P_R | P_W | P_P, VF_RW);
    {
        uint64_t rss = rng_chance(r, 0.8) ? data : rng_range(r, 1, data);
        fill_file_cow(m, rss, rng_chance(r, 0.7) ? rss : rng_range(r, 1, rss), kd);
    }
    if (rng_chance(r, 0.3)) { /* .bss beyond the file */
        off = 0;
        LIB_MAP(rng_range(r, 1, 64), P_R | P_W | P_P, VF_RW);
        m->inode = 0;
        m->dev_major = m->dev_minor = 0;
        m->path = -1;
        fill_anon(d, r, m, 0.7);
    }
done:
#undef LIB_MAP
    d->nlib_maps += d->nmaps - n0;
}

/* Anonymous sizes in pages: allocator-typical sizes recur (1 MiB pymalloc
 * arenas, 132 KiB glibc mmap chunks, 2 MiB THP-sized blocks, 64 KiB), the
 * rest is heavy-tailed. */
static uint64_t anon_pages(bench_rng *r, int *is_arena)
{
    double u = rng_unit(r);
    *is_arena = 0;
    if (u < 0.18) {
        *is_arena = 1;
        return 256;
    }
    if (u < 0.26) return 33;
    if (u < 0.31) return 512;
    if (u < 0.36) return 16;
    if (u < 0.60) return rng_range(r, 1, 8);
    if (u < 0.80) return rng_range(r, 9, 64);
    if (u < 0.92) return rng_range(r, 65, 512);
    if (u < 0.98) return rng_logu(r, 513, 8192);
    return rng_logu(r, 8193, 262144);
}

static void gen_anon(bench_data *d, bench_rng *r, uint64_t *addr, size_t room)
{
    int arena;
    uint64_t pages = anon_pages(r, &arena);
    bench_map *m = map_add(d, addr, pages, P_R | P_W | P_P, VF_RW, -1);
    if (pages >= 512 && rng_chance(r, 0.1)) m->vmflags = VF_RW_HG;
    fill_anon(d, r, m, pages <= 16 ? 0.85 : pages <= 256 ? 0.55 : 0.25);
    d->nanon++;
    if (arena) {
        if (d->narenas == d->caparenas) {
            d->caparenas = d->caparenas ? d->caparenas * 2 : 256;
            d->arenas = bench_xrealloc(d->arenas, d->caparenas * sizeof *d->arenas);
        }
        bench_arena *a = &d->arenas[d->narenas++];
        a->addr = m->start;
        a->total = 64; /* 1 MiB arena of 16 KiB pools */
        a->used = m->f[F_RSS] / 16 < 64 ? m->f[F_RSS] / 16 : 64;
        a->free_pools = a->total - a->used;
        a->live = a->used * 16384 / 100 * rng_range(r, 40, 99);
    }
    /* What separates it from the next region: a guard page, a region
     * mprotect()ed read-only, or a hole (adjacent identical anonymous
     * mappings would merge into one). */
    double u = rng_unit(r);
    int sep = 1;
    if (room > 1 && u < 0.22) {
        m = map_add(d, addr, rng_chance(r, 0.8) ? 1 : rng_range(r, 2, 16), P_P, VF_GUARD, -1);
        d->nanon++;
    } else if (room > 1 && u < 0.30) {
        m = map_add(d, addr, rng_range(r, 1, 16), P_R | P_P, VF_RO_AC, -1);
        fill_anon(d, r, m, 0.8);
        d->nanon++;
    } else {
        sep = 0;
    }
    /* a hole of a heavy-tailed number of pages; none at all is possible
     * only after a separator */
    *addr += (rng_pareto(r, 1.1, 1 << 18) - (sep && rng_chance(r, 0.5) ? 1 : 0)) * PAGE;
}

/* A thread: guard page, stack (8 MiB default, 512 KiB for a pool with a
 * smaller stack size) of which a few pages are touched; glibc sometimes
 * leaves a small mapping next to it. */
static void gen_thread(bench_data *d, bench_rng *r, uint64_t *addr, size_t room)
{
    size_t n0 = d->nmaps;
    bench_map *m;
    if (room > 2 && rng_chance(r, 0.3)) {
        m = map_add(d, addr, 4, P_R | P_W | P_P, VF_RW, -1);
        fill_anon(d, r, m, 0.3);
    }
    map_add(d, addr, 1, P_P, VF_STACK_GUARD, -1);
    if (d->nmaps - n0 < room) {
        m = map_add(d, addr, rng_chance(r, 0.6) ? 2048 : 128, P_R | P_W | P_P, VF_STACK, -1);
        uint64_t rss = 1 + rng_pareto(r, 1.3, m->f[F_SIZE] / 4 - 1);
        m->f[F_RSS] = m->f[F_PRIVATE_DIRTY] = m->f[F_ANONYMOUS] = rss * 4;
        m->f[F_PSS] = m->f[F_PSS_DIRTY] = rss * 4;
        m->f[F_REFERENCED] = rng_chance(r, 0.9) ? rss * 4 : rng_below(r, rss + 1) * 4;
    }
    d->nthreads++;
}

/* A glibc malloc arena: a 64 MiB-aligned reservation, the used head rw-p
 * (MAP_NORESERVE), the rest ---p. */
static void gen_malloc_arena(bench_data *d, bench_rng *r, uint64_t *addr, size_t room)
{
    const uint64_t span = 16384; /* pages in 64 MiB */
    *addr = (*addr + span * PAGE - 1) / (span * PAGE) * (span * PAGE);
    uint64_t used = 33 + rng_pareto(r, 0.6, span - 34);
    bench_map *m = map_add(d, addr, used, P_R | P_W | P_P, VF_ARENA, -1);
    fill_anon(d, r, m, 0.2);
    if (room > 1) map_add(d, addr, span - used, P_P, VF_ARENA_RES, -1);
    d->nmarenas++;
}

/* A file mapped for data (index shards, model files): page cache shared
 * with the sibling workers, partly resident. */
static void gen_datafile(bench_data *d, bench_rng *r, uint64_t *addr, const int32_t *dpaths,
                         const uint64_t *dinodes, size_t ndp)
{
    size_t i = (size_t)rng_below(r, ndp);
    uint64_t pages = rng_logu(r, 16, 16384);
    int shared = rng_chance(r, 0.6);
    bench_map *m = map_add(d, addr, pages, shared ? (P_R | P_S) : (P_R | P_P),
                           shared ? VF_RO_SHARED : VF_RO, dpaths[i]);
    m->offset = rng_below(r, 64) * pages * PAGE;
    m->inode = dinodes[i];
    m->dev_major = 8;
    m->dev_minor = 17;
    fill_file_clean(r, m, rng_below(r, pages + 1), 1.0 + (double)rng_below(r, 8));
    d->ndatafiles++;
    *addr += rng_range(r, 0, 16) * PAGE;
}

/* Arrow/PyTorch-style shared memory: memfd, rw-s, deleted. */
static void gen_memfd(bench_data *d, bench_rng *r, uint64_t *addr, int32_t path)
{
    uint64_t pages = rng_logu(r, 16, 65536);
    bench_map *m = map_add(d, addr, pages, P_R | P_W | P_S, VF_RW_SHARED, path);
    m->deleted = 1;
    m->dev_major = 0;
    m->dev_minor = 1;
    m->inode = rng_range(r, 1000, 9999999);
    uint64_t rss = rng_below(r, pages + 1), k = rng_range(r, 1, 4);
    m->f[F_RSS] = rss * 4;
    if (k > 1)
        m->f[F_SHARED_DIRTY] = rss * 4;
    else
        m->f[F_PRIVATE_DIRTY] = rss * 4;
    m->f[F_PSS] = m->f[F_PSS_DIRTY] = rss * 4 / k;
    m->f[F_REFERENCED] = rss * 4;
    *addr += rng_range(r, 0, 4) * PAGE;
}

static const char *const bench_syslibs[] = {
    "c", "m", "pthread", "dl", "rt", "stdc++", "gcc_s", "z", "bz2", "lzma", "zstd", "ssl",
    "crypto", "ffi", "sqlite3", "expat", "uuid", "readline", "ncursesw", "tinfo", "gdbm",
    "mpdec", "xml2", "xslt", "exslt", "icuuc", "icui18n", "icudata", "curl", "nghttp2",
    "idn2", "unistring", "psl", "ssh2", "gssapi_krb5", "krb5", "k5crypto", "com_err",
    "krb5support", "keyutils", "resolv", "lber", "ldap", "sasl2", "gnutls", "nettle", "hogweed",
    "gmp", "p11-kit", "tasn1", "brotlidec", "brotlicommon", "jpeg", "png16", "tiff", "webp",
    "freetype", "fontconfig", "harfbuzz", "glib-2.0", "gobject-2.0", "pcre2-8", "selinux",
    "systemd", "cap", "gcrypt", "gpg-error", "lz4", "blkid", "mount", "numa", "gomp", "quadmath",
    "gfortran", "openblas", "lapack", "blas", "pq", "mariadb", "hiredis", "event", "uv",
    "protobuf", "grpc", "re2", "absl_base", "absl_strings", "absl_synchronization", "snappy",
    "jemalloc", "tcmalloc", "unwind", "atomic", "yaml-0", "archive", "magic", "sodium", "zmq",
};

static const char *const bench_pkgs[] = {
    "numpy", "pandas", "scipy", "torch", "pyarrow", "grpc", "google", "cryptography", "lxml",
    "psycopg2", "ujson", "orjson", "msgpack", "yaml", "markupsafe", "pydantic_core", "zstandard",
    "regex", "sklearn", "PIL", "h5py", "tokenizers", "safetensors", "greenlet", "gevent",
    "uvloop", "httptools", "aiohttp", "frozenlist", "multidict", "yarl", "charset_normalizer",
    "bcrypt", "nacl", "zmq", "numba", "llvmlite", "matplotlib", "kiwisolver", "shapely",
};

static const char *const bench_words[] = {
    "core", "util", "base", "model", "field", "query", "sql", "schema", "types", "io", "http",
    "client", "server", "cache", "config", "auth", "token", "session", "event", "handler",
    "stream", "buffer", "codec", "parser", "lexer", "node", "tree", "graph", "index", "store",
    "engine", "pool", "task", "worker", "queue", "job", "batch", "frame", "series", "array",
    "tensor", "layer", "module", "loss", "optim", "metric", "report", "user", "account",
    "billing", "invoice", "order", "item", "price", "cart", "payment", "ledger", "entry",
    "record", "table", "column", "row", "view", "form", "widget", "template", "render", "route",
    "request", "response", "header", "cookie", "proxy", "retry", "backoff", "policy", "rule",
    "filter", "mapper", "reducer", "loader", "reader", "writer", "result", "error", "state",
    "context", "manager", "factory", "builder", "adapter", "visitor", "plugin", "hook", "signal",
};

/* Capitalised word, for class names. */
static void bench_camel(char *dst, size_t cap, const char *w)
{
    snprintf(dst, cap, "%s", w);
    if (dst[0] >= 'a' && dst[0] <= 'z') dst[0] = (char)(dst[0] - 'a' + 'A');
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The process: python3.11 with a venv, forked workers, thousands of
 * threads, mmap-heavy data handling. */
static void gen_mappings(bench_data *d, bench_rng *r, size_t n)
{
    const size_t tail = 5; /* [stack] [vvar] [vvar_vclock] [vdso] [vsyscall] */
    const uint64_t workers = 8;
    size_t nlibs = n / 20 < 320 ? n / 20 : 320;
    if (nlibs < 1) nlibs = 1;
    bench_lib *libs = bench_xmalloc(nlibs * sizeof *libs);
    const char *venv = "/srv/app/.venv/lib/python3.11/site-packages";
    for (size_t i = 0; i < nlibs; i++) {
        bench_lib *L = &libs[i];
        const char *p;
        if (i == 0) {
            p = "/usr/local/bin/python3.11";
            L->system = 0;
        } else if (i == 1) {
            p = "/usr/local/lib/libpython3.11.so.1.0";
            L->system = 0;
        } else if (i % 3 == 0 && i / 3 < NELEM(bench_syslibs)) {
            p = pool_printf(&d->pool, "/usr/lib/x86_64-linux-gnu/lib%s.so.%u",
                            bench_syslibs[i / 3], (unsigned)rng_range(r, 0, 8));
            L->system = 1;
        } else if (i % 3 == 1) {
            /* manylinux wheels vendor their libraries with a hash suffix */
            p = pool_printf(&d->pool, "%s/%s.libs/lib%s-%08" PRIx64 ".so.%u", venv,
                            bench_pkgs[rng_below(r, NELEM(bench_pkgs))],
                            bench_words[rng_below(r, NELEM(bench_words))],
                            rng_u64(r) & 0xffffffffu, (unsigned)rng_range(r, 1, 5));
            L->system = 0;
        } else {
            p = pool_printf(&d->pool, "%s/%s/%s/_%s.cpython-311-x86_64-linux-gnu.so", venv,
                            bench_pkgs[rng_below(r, NELEM(bench_pkgs))],
                            bench_words[rng_below(r, NELEM(bench_words))],
                            bench_words[rng_below(r, NELEM(bench_words))]);
            L->system = 0;
        }
        L->path = path_add(d, p);
        L->inode = rng_range(r, 10000, 2999999);
        if (L->system || i < 2) {
            L->maj = 254;
            L->min = 1;
        } else {
            L->maj = 0; /* overlayfs of the container */
            L->min = 45;
        }
    }
    size_t ndp = n / 200 ? n / 200 : 1;
    int32_t *dpaths = bench_xmalloc(ndp * sizeof *dpaths);
    uint64_t *dinodes = bench_xmalloc(ndp * sizeof *dinodes);
    for (size_t i = 0; i < ndp; i++) {
        dpaths[i] = path_add(d, pool_printf(&d->pool, "/var/lib/app/index/shard-%05zu.bin", i * 7 % 99991));
        dinodes[i] = rng_range(r, 100000, 99999999);
    }
    int32_t heap = path_add(d, "[heap]"), stack = path_add(d, "[stack]");
    int32_t vvar = path_add(d, "[vvar]"), vclock = path_add(d, "[vvar_vclock]");
    int32_t vdso = path_add(d, "[vdso]"), vsys = path_add(d, "[vsyscall]");
    int32_t memfd = path_add(d, "/memfd:arrow-shm");

    /* low: the executable, then the brk heap */
    uint64_t addr = 0x55d0c3a4e000ull + rng_below(r, 1 << 20) * PAGE;
    gen_lib(d, r, &addr, &libs[0], n > tail ? n - tail : 1, workers);
    addr += rng_range(r, 1, 1 << 16) * PAGE;
    if (d->nmaps + tail < n) {
        bench_map *m = map_add(d, &addr, rng_logu(r, 64, 65536), P_R | P_W | P_P, VF_RW, heap);
        fill_anon(d, r, m, 0.6);
    }
    /* the mmap area: anonymous memory, threads, arenas, data files; then
     * the libraries near the top, as ld.so mapped them first */
    addr = 0x7f1000000000ull + rng_below(r, 1 << 24) * PAGE;
    size_t lib_budget = nlibs * 5;
    size_t low_target = n > tail + lib_budget ? n - tail - lib_budget : d->nmaps;
    size_t nthreads_max = n / 50, nmarenas_max = n / 1500 < 64 ? n / 1500 : 64;
    while (d->nmaps < low_target) {
        size_t room = low_target - d->nmaps;
        double u = rng_unit(r);
        if (u < 0.035 && d->nthreads < nthreads_max)
            gen_thread(d, r, &addr, room);
        else if (u < 0.037 && d->nmarenas < nmarenas_max)
            gen_malloc_arena(d, r, &addr, room);
        else if (u < 0.050)
            gen_datafile(d, r, &addr, dpaths, dinodes, ndp);
        else if (u < 0.052)
            gen_memfd(d, r, &addr, memfd);
        else
            gen_anon(d, r, &addr, room);
    }
    addr += rng_range(r, 1 << 12, 1 << 20) * PAGE;
    for (size_t i = 1; i < nlibs && d->nmaps + tail < n; i++) {
        gen_lib(d, r, &addr, &libs[i], n - tail - d->nmaps, workers);
        d->nlibs++;
        if (rng_chance(r, 0.15) && d->nmaps + tail < n) gen_anon(d, r, &addr, 1);
    }
    d->nlibs++; /* the executable */
    while (d->nmaps + tail < n) gen_anon(d, r, &addr, n - tail - d->nmaps);
    /* top: the main stack and the kernel's special mappings */
    uint64_t top = 0x7ffd92913000ull;
    if (addr < top) addr = top;
    bench_map *m = map_add(d, &addr, 33, P_R | P_W | P_P, VF_MAIN_STACK, stack);
    m->f[F_RSS] = m->f[F_PSS] = m->f[F_PSS_DIRTY] = m->f[F_PRIVATE_DIRTY] = 128;
    m->f[F_ANONYMOUS] = m->f[F_REFERENCED] = 128;
    addr += 0x1b000ull * 256;
    map_add(d, &addr, 4, P_R | P_P, VF_VVAR, vvar);
    map_add(d, &addr, 2, P_R | P_P, VF_VVAR, vclock);
    m = map_add(d, &addr, 2, P_R | P_X | P_P, VF_VDSO, vdso);
    m->f[F_RSS] = m->f[F_PSS] = m->f[F_PRIVATE_CLEAN] = m->f[F_REFERENCED] = 8;
    addr = 0xffffffffff600000ull;
    map_add(d, &addr, 1, P_X | P_P, VF_VSYSCALL, vsys);
    d->rollup_start = d->maps[0].start;
    d->rollup_end = d->maps[d->nmaps - 2].end;
    free(libs);
    free(dpaths);
    free(dinodes);
}

/* ----------------------------------------------------- histogram generator */

/* A large application: builtin and extension types with millions of
 * instances, then tens of thousands of classes across thousands of modules
 * with a heavy-tailed number of instances. Sizes follow CPython 3.11:
 * instances with a managed __dict__ are 56 bytes, __slots__ classes
 * 16 + 8 * slots, allocator blocks are 16-byte aligned and GC-tracked
 * objects carry a 16-byte GC header. */
static const struct {
    const char *name;
    unsigned size;  /* sizeof of a typical instance */
    int var;        /* variable-sized: sizes differ per object */
    int gc;
} bench_builtins[] = {
    {"str", 49, 1, 0}, {"dict", 232, 1, 1}, {"tuple", 40, 1, 1}, {"list", 56, 1, 1},
    {"int", 28, 1, 0}, {"function", 152, 0, 1}, {"cell", 40, 0, 1}, {"code", 160, 1, 0},
    {"type", 1072, 0, 1}, {"set", 216, 1, 1}, {"frozenset", 216, 1, 1}, {"bytes", 33, 1, 0},
    {"float", 24, 0, 0}, {"method", 48, 0, 1}, {"builtin_function_or_method", 72, 0, 1},
    {"weakref", 80, 0, 1}, {"getset_descriptor", 56, 0, 1}, {"member_descriptor", 64, 0, 1},
    {"property", 56, 0, 1}, {"module", 72, 0, 1}, {"staticmethod", 56, 0, 1},
    {"classmethod", 56, 0, 1}, {"wrapper_descriptor", 56, 0, 1}, {"method_descriptor", 72, 0, 1},
    {"frame", 88, 1, 1}, {"generator", 200, 0, 1}, {"coroutine", 200, 0, 1},
    {"bytearray", 57, 1, 0}, {"memoryview", 184, 0, 1}, {"slice", 56, 0, 1},
    {"range", 48, 0, 0}, {"enumerate", 56, 0, 1}, {"zip", 56, 0, 1}, {"map", 56, 0, 1},
    {"complex", 32, 0, 0}, {"bool", 28, 0, 0}, {"NoneType", 16, 0, 0},
    {"collections.OrderedDict", 464, 1, 1}, {"collections.deque", 624, 1, 1},
    {"collections.defaultdict", 240, 1, 1}, {"_thread.lock", 56, 0, 0},
    {"_thread.RLock", 64, 0, 0}, {"_io.TextIOWrapper", 184, 0, 1},
    {"_io.BufferedReader", 184, 0, 1}, {"_io.FileIO", 96, 0, 1}, {"re.Pattern", 240, 1, 1},
    {"re.Match", 208, 1, 1}, {"datetime.datetime", 48, 0, 0}, {"datetime.date", 32, 0, 0},
    {"datetime.timedelta", 40, 0, 0}, {"decimal.Decimal", 104, 1, 0},
    {"numpy.ndarray", 112, 1, 1}, {"numpy.dtype", 96, 0, 1}, {"numpy.float64", 32, 0, 0},
    {"numpy.int64", 32, 0, 0}, {"pandas._libs.interval.Interval", 64, 0, 1},
    {"uuid.UUID", 64, 0, 1}, {"functools.partial", 80, 0, 1}, {"itertools.count", 48, 0, 1},
    {"socket.socket", 88, 0, 1}, {"ssl.SSLSocket", 120, 0, 1}, {"select.epoll", 40, 0, 0},
};

static void gen_types(bench_data *d, bench_rng *r, size_t n)
{
    d->types = bench_xmalloc((n ? n : 1) * sizeof *d->types);
    size_t nmods = n / 16 + 1, capmods = nmods;
    d->mods = bench_xmalloc(capmods * sizeof *d->mods);
    char cls[256], w1[64], w2[64], w3[64];
    size_t t = 0;
    for (size_t i = 0; i < NELEM(bench_builtins) && t < n; i++, t++) {
        bench_type *ty = &d->types[t];
        const char *nm = bench_builtins[i].name;
        ty->name = nm;
        ty->qualname = strrchr(nm, '.') ? strrchr(nm, '.') + 1 : nm; /* static type: no module */
        ty->module = NULL;
        ty->count = 1000 + rng_pareto(r, 0.5, 20000000);
        uint64_t per = bench_builtins[i].size;
        if (bench_builtins[i].var) per += rng_logu(r, 1, 400);
        ty->sizeof_bytes = ty->count * per;
        uint64_t blk = (per + (bench_builtins[i].gc ? 16 : 0) + 15) / 16 * 16;
        ty->allocated = ty->count * blk;
        if (bench_builtins[i].var) ty->allocated += ty->count * rng_below(r, 16);
        ty->flags = (uint64_t)bench_builtins[i].gc | (bench_builtins[i].var ? 2u : 0u);
    }
    /* modules and their classes */
    d->nmods = 0;
    while (t < n) {
        if (d->nmods == capmods) {
            capmods *= 2;
            d->mods = bench_xrealloc(d->mods, capmods * sizeof *d->mods);
        }
        const char *top = rng_chance(r, 0.35) ? (rng_chance(r, 0.5) ? "myapp" : "myapp_billing")
                                              : bench_pkgs[rng_below(r, NELEM(bench_pkgs))];
        int depth = (int)rng_range(r, 1, 3);
        char modname[200];
        int len = snprintf(modname, sizeof modname, "%s", top);
        for (int k = 0; k < depth; k++)
            len += snprintf(modname + len, sizeof modname - (size_t)len, ".%s",
                            bench_words[rng_below(r, NELEM(bench_words))]);
        bench_module *mod = &d->mods[d->nmods++];
        mod->name = pool_printf(&d->pool, "%s", modname);
        char file[300];
        snprintf(file, sizeof file, "/srv/app/.venv/lib/python3.11/site-packages/%s.py", modname);
        for (char *c = file + 44; *c; c++)
            if (*c == '.' && strcmp(c, ".py") != 0) *c = '/';
        mod->flags = 0;
        mod->file = rng_chance(r, 0.03) ? NULL : pool_printf(&d->pool, "%s", file);
        size_t ncls = 1 + rng_pareto(r, 1.2, 400);
        int generated = rng_chance(r, 0.1); /* e.g. ORM / protobuf generated classes */
        for (size_t c = 0; c < ncls && t < n; c++, t++) {
            bench_type *ty = &d->types[t];
            bench_camel(w1, sizeof w1, bench_words[rng_below(r, NELEM(bench_words))]);
            bench_camel(w2, sizeof w2, bench_words[rng_below(r, NELEM(bench_words))]);
            bench_camel(w3, sizeof w3, bench_words[rng_below(r, NELEM(bench_words))]);
            if (generated)
                snprintf(cls, sizeof cls, "%s%zu", w1, c);
            else if (rng_chance(r, 0.3))
                snprintf(cls, sizeof cls, "%s", w1);
            else if (rng_chance(r, 0.6))
                snprintf(cls, sizeof cls, "%s%s", w1, w2);
            else
                snprintf(cls, sizeof cls, "%s%s%s", w1, w2, w3);
            ty->name = pool_printf(&d->pool, "%s", cls);
            ty->module = mod->name;
            if (rng_chance(r, 0.1)) /* nested class */
                ty->qualname = pool_printf(&d->pool, "%s.%s", w3, cls);
            else
                ty->qualname = ty->name;
            ty->count = rng_pareto(r, 0.7, 5000000);
            uint64_t per;
            int var = rng_chance(r, 0.04); /* subclasses of dict, list, str */
            if (rng_chance(r, 0.7))
                per = 56;
            else
                per = 16 + 8 * rng_range(r, 1, 12);
            ty->sizeof_bytes = ty->count * per;
            ty->allocated = ty->count * ((per + 16 + 15) / 16 * 16);
            if (var) {
                uint64_t extra = ty->count * rng_logu(r, 8, 2000);
                ty->sizeof_bytes += extra;
                ty->allocated += extra + ty->count * rng_below(r, 16);
            }
            ty->flags = 1u | (var ? 2u : 0u);
        }
    }
    d->ntypes = t;
}

/* ----------------------------------------------------------- other facts */

static void kv_add(bench_kv *arr, size_t *n, size_t cap, const char *file, const char *name,
                   uint64_t v, int style)
{
    if (*n < cap) arr[(*n)++] = (bench_kv){file, name, v, style};
}

static void gen_misc(bench_data *d, bench_rng *r)
{
    /* totals over the mappings, for status and smaps_rollup */
    uint64_t sum[F_COUNT] = {0}, vmsize = 0, anon = 0, file = 0, shmem = 0, pss_anon = 0,
             pss_file = 0, pss_shmem = 0, stk = 0, exe = 0, lib = 0, data = 0;
    for (size_t i = 0; i < d->nmaps; i++) {
        const bench_map *m = &d->maps[i];
        for (int f = 0; f < F_COUNT; f++) sum[f] += m->f[f];
        vmsize += m->f[F_SIZE];
        if (m->perms & P_S) {
            shmem += m->f[F_RSS];
            pss_shmem += m->f[F_PSS];
        } else {
            anon += m->f[F_ANONYMOUS];
            file += m->f[F_RSS] - m->f[F_ANONYMOUS];
            pss_anon += m->f[F_ANONYMOUS] ? m->f[F_PSS_DIRTY] : 0;
            pss_file += m->f[F_PSS] - (m->f[F_ANONYMOUS] ? m->f[F_PSS_DIRTY] : 0);
        }
        if (m->vmflags == VF_MAIN_STACK) stk += m->f[F_SIZE];
        if (m->path == 0 && (m->perms & P_X)) exe += m->f[F_SIZE];
        if (m->path > 0 && (m->perms & P_X) && m->inode) lib += m->f[F_SIZE];
        if ((m->perms & (P_W | P_S)) == P_W) data += m->f[F_SIZE];
    }
    size_t *n = &d->nstatus;
    bench_kv *s = d->status;
    const size_t cap = NELEM(d->status);
    kv_add(s, n, cap, NULL, "Umask", 022, KV_OCT);
    kv_add(s, n, cap, NULL, "Tgid", d->pid, KV_DEC);
    kv_add(s, n, cap, NULL, "Ngid", 0, KV_DEC);
    kv_add(s, n, cap, NULL, "Pid", d->pid, KV_DEC);
    kv_add(s, n, cap, NULL, "PPid", 48190, KV_DEC);
    kv_add(s, n, cap, NULL, "TracerPid", 0, KV_DEC);
    kv_add(s, n, cap, NULL, "Uid", 1000, KV_DEC);
    kv_add(s, n, cap, NULL, "Gid", 1000, KV_DEC);
    kv_add(s, n, cap, NULL, "FDSize", 4096, KV_DEC);
    kv_add(s, n, cap, NULL, "NStgid", d->pid, KV_DEC);
    kv_add(s, n, cap, NULL, "NSpid", d->pid, KV_DEC);
    kv_add(s, n, cap, NULL, "NSpgid", 48190, KV_DEC);
    kv_add(s, n, cap, NULL, "NSsid", 48190, KV_DEC);
    kv_add(s, n, cap, NULL, "Kthread", 0, KV_DEC);
    kv_add(s, n, cap, NULL, "VmPeak", vmsize + rng_below(r, 1 << 20) * 4, KV_KB);
    kv_add(s, n, cap, NULL, "VmSize", vmsize, KV_KB);
    kv_add(s, n, cap, NULL, "VmLck", sum[F_LOCKED], KV_KB);
    kv_add(s, n, cap, NULL, "VmPin", 0, KV_KB);
    kv_add(s, n, cap, NULL, "VmHWM", sum[F_RSS] + rng_below(r, 1 << 18) * 4, KV_KB);
    kv_add(s, n, cap, NULL, "VmRSS", sum[F_RSS], KV_KB);
    kv_add(s, n, cap, NULL, "RssAnon", anon, KV_KB);
    kv_add(s, n, cap, NULL, "RssFile", file, KV_KB);
    kv_add(s, n, cap, NULL, "RssShmem", shmem, KV_KB);
    kv_add(s, n, cap, NULL, "VmData", data, KV_KB);
    kv_add(s, n, cap, NULL, "VmStk", stk, KV_KB);
    kv_add(s, n, cap, NULL, "VmExe", exe, KV_KB);
    kv_add(s, n, cap, NULL, "VmLib", lib, KV_KB);
    kv_add(s, n, cap, NULL, "VmPTE", sum[F_RSS] / 500, KV_KB);
    kv_add(s, n, cap, NULL, "VmSwap", sum[F_SWAP], KV_KB);
    kv_add(s, n, cap, NULL, "HugetlbPages", 0, KV_KB);
    kv_add(s, n, cap, NULL, "CoreDumping", 0, KV_DEC);
    kv_add(s, n, cap, NULL, "THP_enabled", 1, KV_DEC);
    kv_add(s, n, cap, NULL, "untag_mask", UINT64_MAX, KV_HEX);
    kv_add(s, n, cap, NULL, "Threads", d->nthreads + 1, KV_DEC);
    kv_add(s, n, cap, NULL, "SigQ", 3, KV_DEC);
    kv_add(s, n, cap, NULL, "SigPnd", 0, KV_HEX16);
    kv_add(s, n, cap, NULL, "ShdPnd", 0, KV_HEX16);
    kv_add(s, n, cap, NULL, "SigBlk", 0, KV_HEX16);
    kv_add(s, n, cap, NULL, "SigIgn", 0x01001000, KV_HEX16);
    kv_add(s, n, cap, NULL, "SigCgt", 0x100004a02ull, KV_HEX16);
    kv_add(s, n, cap, NULL, "CapInh", 0, KV_HEX16);
    kv_add(s, n, cap, NULL, "CapPrm", 0, KV_HEX16);
    kv_add(s, n, cap, NULL, "CapEff", 0, KV_HEX16);
    kv_add(s, n, cap, NULL, "CapBnd", 0x1ffffffffffull, KV_HEX16);
    kv_add(s, n, cap, NULL, "CapAmb", 0, KV_HEX16);
    kv_add(s, n, cap, NULL, "NoNewPrivs", 1, KV_DEC);
    kv_add(s, n, cap, NULL, "Seccomp", 2, KV_DEC);
    kv_add(s, n, cap, NULL, "Seccomp_filters", 1, KV_DEC);
    kv_add(s, n, cap, NULL, "Cpus_allowed", 0xffff, KV_HEX);
    kv_add(s, n, cap, NULL, "Mems_allowed", 1, KV_HEX);
    kv_add(s, n, cap, NULL, "voluntary_ctxt_switches", 18273641, KV_DEC);
    kv_add(s, n, cap, NULL, "nonvoluntary_ctxt_switches", 912873, KV_DEC);

    n = &d->nrollup;
    s = d->rollup;
    const size_t rcap = NELEM(d->rollup);
    kv_add(s, n, rcap, NULL, "Rss", sum[F_RSS], KV_KB);
    kv_add(s, n, rcap, NULL, "Pss", sum[F_PSS], KV_KB);
    kv_add(s, n, rcap, NULL, "Pss_Dirty", sum[F_PSS_DIRTY], KV_KB);
    kv_add(s, n, rcap, NULL, "Pss_Anon", pss_anon, KV_KB);
    kv_add(s, n, rcap, NULL, "Pss_File", pss_file, KV_KB);
    kv_add(s, n, rcap, NULL, "Pss_Shmem", pss_shmem, KV_KB);
    static const int rf[] = {F_SHARED_CLEAN, F_SHARED_DIRTY, F_PRIVATE_CLEAN, F_PRIVATE_DIRTY,
                             F_REFERENCED, F_ANONYMOUS, F_KSM, F_LAZYFREE, F_ANON_HUGE,
                             F_SHMEM_PMD, F_FILE_PMD, F_SHARED_HUGETLB, F_PRIVATE_HUGETLB,
                             F_SWAP, F_SWAP_PSS, F_LOCKED};
    for (size_t i = 0; i < NELEM(rf); i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "%s", bench_fields[rf[i]].name);
        nm[strlen(nm) - 1] = 0; /* no colon */
        kv_add(s, n, rcap, NULL, pool_printf(&d->pool, "%s", nm), sum[rf[i]], KV_KB);
    }

    /* cgroup v2 memory.stat and memory.events */
    n = &d->ncgstat;
    s = d->cgstat;
    const size_t ccap = NELEM(d->cgstat);
    static const char *const stat_keys[] = {
        "anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu",
        "sock", "vmalloc", "shmem", "zswap", "zswapped", "file_mapped", "file_dirty",
        "file_writeback", "swapcached", "anon_thp", "file_thp", "shmem_thp", "inactive_anon",
        "active_anon", "inactive_file", "active_file", "unevictable", "slab_reclaimable",
        "slab_unreclaimable", "slab", "workingset_refault_anon", "workingset_refault_file",
        "workingset_activate_anon", "workingset_activate_file", "workingset_restore_anon",
        "workingset_restore_file", "workingset_nodereclaim", "pgscan", "pgsteal", "pgfault",
        "pgmajfault", "pgrefill", "pgactivate", "pgdeactivate", "pglazyfree", "thp_fault_alloc",
    };
    for (size_t i = 0; i < NELEM(stat_keys); i++)
        kv_add(s, n, ccap, "memory.stat", stat_keys[i], rng_pareto(r, 0.3, 1ull << 40) * (i < 27 ? 4096 : 1),
               KV_DEC);
    static const char *const ev_keys[] = {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"};
    for (size_t i = 0; i < NELEM(ev_keys); i++)
        kv_add(s, n, ccap, "memory.events", ev_keys[i], i < 3 ? rng_below(r, 5000) : 0, KV_DEC);
}

static void bench_data_free(bench_data *d)
{
    free(d->maps);
    free(d->paths);
    free(d->types);
    free(d->mods);
    free(d->arenas);
    pool_free(&d->pool);
}

/* -------------------------------------------------- building the tables */

/* A cell as set, kept (only when verifying) to compare with what the
 * reader returns. */
typedef struct {
    uint32_t sec, row, col;
    ms_coltype type;
    uint64_t v;
    const char *s; /* NULL: null string */
    size_t len;
} bench_cell;

typedef struct {
    bench_cell *c;
    size_t n, cap;
} bench_shadow;

/* Table builder with a sticky error, so the generators stay readable. */
typedef struct {
    ms_table *t;
    unsigned sec;
    uint32_t row;
    bench_shadow *sh;
    int rc;
} bench_tb;

static void tb_shadow(bench_tb *b, unsigned col, ms_coltype type, uint64_t v, const char *s, size_t len)
{
    bench_shadow *sh = b->sh;
    if (sh->n == sh->cap) {
        sh->cap = sh->cap ? sh->cap * 2 : 4096;
        sh->c = bench_xrealloc(sh->c, sh->cap * sizeof *sh->c);
    }
    sh->c[sh->n++] = (bench_cell){b->sec, b->row - 1, col, type, v, s, len};
}

static void tb_row(bench_tb *b)
{
    if (!b->rc) b->rc = ms_table_row(b->t);
    b->row++;
}
static void tb_u64(bench_tb *b, unsigned col, uint64_t v)
{
    if (!b->rc) b->rc = ms_table_u64(b->t, col, v);
    if (b->sh) tb_shadow(b, col, MS_T_U64, v, NULL, 0);
}
static void tb_i64(bench_tb *b, unsigned col, int64_t v)
{
    if (!b->rc) b->rc = ms_table_i64(b->t, col, v);
    if (b->sh) tb_shadow(b, col, MS_T_I64, (uint64_t)v, NULL, 0);
}
static void tb_str(bench_tb *b, unsigned col, const char *s, size_t len)
{
    if (!b->rc) b->rc = ms_table_str(b->t, col, s, len);
    if (b->sh) tb_shadow(b, col, MS_T_STR, 0, s ? s : "", len);
}
static void tb_cstr(bench_tb *b, unsigned col, const char *s)
{
    if (!s) {
        if (!b->rc) b->rc = ms_table_null(b->t, col);
        if (b->sh) tb_shadow(b, col, MS_T_STR, 0, NULL, 0);
        return;
    }
    tb_str(b, col, s, strlen(s));
}

static ms_table *tb_begin(bench_tb *b, unsigned sec, bench_shadow *sh)
{
    memset(b, 0, sizeof *b);
    b->t = ms_table_new(sec);
    b->sec = sec;
    b->sh = sh;
    if (!b->t) bench_die("ms_table_new(%u) failed", sec);
    return b->t;
}

static ms_table *tb_end(bench_tb *b)
{
    if (b->rc) bench_die("building section %s: %s", ms_section_name(b->sec), ms_strerror(b->rc));
    return b->t;
}

/* The mapping columns in id order, as the capture agent would set them. */
static const unsigned bench_map_cols[] = {
    MS_MAP_START, MS_MAP_END, MS_MAP_PERMS, MS_MAP_OFFSET, MS_MAP_DEV_MAJOR,
    MS_MAP_DEV_MINOR, MS_MAP_INODE, MS_MAP_PATH, MS_MAP_DELETED,
    /* then the smaps fields (bench_fields order = column id order) */
};

static int field_of_col(unsigned col)
{
    for (int f = 0; f < F_COUNT; f++)
        if (bench_fields[f].col == col) return f;
    return -1;
}

/* Value of numeric column `col` of mapping i. */
static uint64_t map_value(const bench_data *d, size_t i, unsigned col)
{
    const bench_map *m = &d->maps[i];
    switch (col) {
    case MS_MAP_START: return m->start;
    case MS_MAP_END: return m->end;
    case MS_MAP_PERMS: return m->perms;
    case MS_MAP_OFFSET: return m->offset;
    case MS_MAP_DEV_MAJOR: return m->dev_major;
    case MS_MAP_DEV_MINOR: return m->dev_minor;
    case MS_MAP_INODE: return m->inode;
    case MS_MAP_DELETED: return m->deleted;
    default: break;
    }
    int f = field_of_col(col);
    return f < 0 ? 0 : m->f[f];
}

/* Builds the mappings table; with `skip` nonzero, without that column. */
static ms_table *build_mappings(const bench_data *d, bench_shadow *sh, unsigned skip)
{
    bench_tb b;
    tb_begin(&b, MS_SEC_MAPPINGS, sh);
    unsigned cols[64];
    size_t ncols = 0;
    for (size_t k = 0; k < NELEM(bench_map_cols); k++) cols[ncols++] = bench_map_cols[k];
    for (int f = 0; f < F_COUNT; f++) cols[ncols++] = bench_fields[f].col;
    cols[ncols++] = MS_MAP_VMFLAGS;
    for (size_t i = 0; i < d->nmaps; i++) {
        const bench_map *m = &d->maps[i];
        tb_row(&b);
        for (size_t k = 0; k < ncols; k++) {
            unsigned col = cols[k];
            if (col == skip) continue;
            if (col == MS_MAP_PATH)
                tb_cstr(&b, col, m->path >= 0 ? d->paths[m->path] : NULL);
            else if (col == MS_MAP_VMFLAGS)
                tb_cstr(&b, col, bench_vmflags[m->vmflags]);
            else
                tb_u64(&b, col, map_value(d, i, col));
        }
    }
    return tb_end(&b);
}

/* Types; with `skip` nonzero, without that column. */
static ms_table *build_types(const bench_data *d, bench_shadow *sh, unsigned skip)
{
    bench_tb b;
    tb_begin(&b, MS_SEC_PY_TYPES, sh);
    for (size_t i = 0; i < d->ntypes; i++) {
        const bench_type *t = &d->types[i];
        tb_row(&b);
        if (skip != MS_TY_NAME) tb_cstr(&b, MS_TY_NAME, t->name);
        if (skip != MS_TY_QUALNAME) tb_cstr(&b, MS_TY_QUALNAME, t->qualname);
        if (skip != MS_TY_COUNT) tb_u64(&b, MS_TY_COUNT, t->count);
        if (skip != MS_TY_SIZEOF) tb_u64(&b, MS_TY_SIZEOF, t->sizeof_bytes);
        if (skip != MS_TY_ALLOCATED) tb_u64(&b, MS_TY_ALLOCATED, t->allocated);
        if (skip != MS_TY_FLAGS) tb_u64(&b, MS_TY_FLAGS, t->flags);
        if (skip != MS_TY_MODULE) tb_cstr(&b, MS_TY_MODULE, t->module);
    }
    return tb_end(&b);
}

/* The fixed facts of the snapshot, host, process, cgroup and Python
 * runtime; values as a real capture would find them. */
static const unsigned char bench_snap_id[16] = {0x3f, 0x91, 0x0c, 0xa7, 0x5e, 0x22, 0xd4, 0x18,
                                                0x6b, 0xe0, 0x73, 0x4c, 0x99, 0x01, 0xbf, 0x2d};
#define BENCH_WALL_NS 1718031234567891234ull
#define BENCH_MONO_NS 8812345678901ull
static const char bench_cmdline[] = "/usr/local/bin/python3.11\0-m\0gunicorn\0myapp.wsgi:app\0"
                                    "--workers\0" "8\0" "--threads\0" "256\0";

typedef struct {
    ms_table *t[MS_SEC_MAX_KNOWN + 1]; /* by section type; NULL if absent */
} bench_tables;

static void build_all(const bench_data *d, bench_tables *T, bench_shadow *sh)
{
    bench_tb b;
    memset(T, 0, sizeof *T);

    tb_begin(&b, MS_SEC_SNAPSHOT, sh);
    tb_row(&b);
    tb_str(&b, MS_SNAP_ID, (const char *)bench_snap_id, sizeof bench_snap_id);
    tb_u64(&b, MS_SNAP_SEQ, 41);
    tb_u64(&b, MS_SNAP_WALL_NS, BENCH_WALL_NS);
    tb_u64(&b, MS_SNAP_MONO_NS, BENCH_MONO_NS);
    tb_u64(&b, MS_SNAP_DURATION_NS, 412345678);
    tb_u64(&b, MS_SNAP_PAUSE_NS, 0);
    tb_u64(&b, MS_SNAP_PID, d->pid);
    tb_cstr(&b, MS_SNAP_AGENT, "memsnap-capture " MS_LIB_VERSION);
    tb_cstr(&b, MS_SNAP_BOOT_ID, "5b0a2c8e-7f3d-4e21-9a6b-0c1d2e3f4a5b");
    tb_u64(&b, MS_SNAP_FLAGS, 1);
    T->t[MS_SEC_SNAPSHOT] = tb_end(&b);

    tb_begin(&b, MS_SEC_HOST, sh);
    tb_row(&b);
    tb_cstr(&b, MS_HOST_NAME, "app-worker-17.prod.example.internal");
    tb_cstr(&b, MS_HOST_KERNEL, "6.1.0-21-cloud-amd64");
    tb_cstr(&b, MS_HOST_KVERSION, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)");
    tb_cstr(&b, MS_HOST_MACHINE, "x86_64");
    tb_u64(&b, MS_HOST_PAGE_SIZE, 4096);
    tb_u64(&b, MS_HOST_MEM_TOTAL, 263921412);
    tb_u64(&b, MS_HOST_MEM_AVAILABLE, 118276340);
    tb_u64(&b, MS_HOST_SWAP_TOTAL, 16777212);
    tb_u64(&b, MS_HOST_SWAP_FREE, 9126404);
    tb_cstr(&b, MS_HOST_THP_ENABLED, "madvise");
    tb_cstr(&b, MS_HOST_THP_DEFRAG, "madvise");
    tb_i64(&b, MS_HOST_OVERCOMMIT, 0);
    tb_u64(&b, MS_HOST_NCPU, 64);
    T->t[MS_SEC_HOST] = tb_end(&b);

    tb_begin(&b, MS_SEC_PROCESS, sh);
    tb_row(&b);
    tb_u64(&b, MS_PROC_PID, d->pid);
    tb_u64(&b, MS_PROC_PPID, 48190);
    tb_u64(&b, MS_PROC_UID, 1000);
    tb_u64(&b, MS_PROC_EUID, 1000);
    tb_cstr(&b, MS_PROC_COMM, "gunicorn");
    tb_cstr(&b, MS_PROC_EXE, "/usr/local/bin/python3.11");
    tb_str(&b, MS_PROC_CMDLINE, bench_cmdline, sizeof bench_cmdline - 1);
    tb_u64(&b, MS_PROC_THREADS, d->nthreads + 1);
    tb_i64(&b, MS_PROC_OOM_SCORE, 712);
    tb_i64(&b, MS_PROC_OOM_SCORE_ADJ, 0);
    tb_cstr(&b, MS_PROC_STATE, "S");
    tb_u64(&b, MS_PROC_START_TICKS, 91827364);
    T->t[MS_SEC_PROCESS] = tb_end(&b);

    tb_begin(&b, MS_SEC_PROC_STATUS, sh);
    for (size_t i = 0; i < d->nstatus; i++) {
        tb_row(&b);
        tb_cstr(&b, MS_KV_NAME, d->status[i].name);
        tb_u64(&b, MS_KV_VALUE, d->status[i].value);
        tb_cstr(&b, MS_KV_UNIT, d->status[i].style == KV_KB ? "kB" : NULL);
    }
    T->t[MS_SEC_PROC_STATUS] = tb_end(&b);

    tb_begin(&b, MS_SEC_CGROUP, sh);
    tb_row(&b);
    tb_u64(&b, MS_CG_VERSION, 2);
    tb_cstr(&b, MS_CG_PATH, "/system.slice/app-worker.service");
    tb_u64(&b, MS_CG_CURRENT, 91234545664ull);
    tb_u64(&b, MS_CG_MAX, 137438953472ull);
    tb_u64(&b, MS_CG_HIGH, UINT64_MAX);
    tb_u64(&b, MS_CG_SWAP_CURRENT, 1234567168);
    tb_u64(&b, MS_CG_SWAP_MAX, UINT64_MAX);
    tb_u64(&b, MS_CG_PEAK, 101234569216ull);
    T->t[MS_SEC_CGROUP] = tb_end(&b);

    tb_begin(&b, MS_SEC_CGROUP_STAT, sh);
    for (size_t i = 0; i < d->ncgstat; i++) {
        tb_row(&b);
        tb_cstr(&b, MS_CGS_FILE, d->cgstat[i].file);
        tb_cstr(&b, MS_CGS_NAME, d->cgstat[i].name);
        tb_u64(&b, MS_CGS_VALUE, d->cgstat[i].value);
    }
    T->t[MS_SEC_CGROUP_STAT] = tb_end(&b);

    T->t[MS_SEC_MAPPINGS] = build_mappings(d, sh, 0);

    tb_begin(&b, MS_SEC_ROLLUP, sh);
    for (size_t i = 0; i < d->nrollup; i++) {
        tb_row(&b);
        tb_cstr(&b, MS_KV_NAME, d->rollup[i].name);
        tb_u64(&b, MS_KV_VALUE, d->rollup[i].value);
        tb_cstr(&b, MS_KV_UNIT, "kB");
    }
    T->t[MS_SEC_ROLLUP] = tb_end(&b);

    tb_begin(&b, MS_SEC_PY_RUNTIME, sh);
    tb_row(&b);
    tb_cstr(&b, MS_PY_VERSION, "3.11.7");
    tb_u64(&b, MS_PY_HEXVERSION, 0x030b07f0);
    tb_u64(&b, MS_PY_FLAGS, 1 | 8);
    tb_cstr(&b, MS_PY_BINARY, "/usr/local/bin/python3.11");
    tb_cstr(&b, MS_PY_LIBPYTHON, "/usr/local/lib/libpython3.11.so.1.0");
    tb_cstr(&b, MS_PY_ALLOCATOR, "pymalloc");
    tb_u64(&b, MS_PY_ARENA_SIZE, 1 << 20);
    tb_u64(&b, MS_PY_POOL_SIZE, 1 << 14);
    T->t[MS_SEC_PY_RUNTIME] = tb_end(&b);

    T->t[MS_SEC_PY_TYPES] = build_types(d, sh, 0);

    tb_begin(&b, MS_SEC_PY_MODULES, sh);
    for (size_t i = 0; i < d->nmods; i++) {
        tb_row(&b);
        tb_cstr(&b, MS_MOD_NAME, d->mods[i].name);
        tb_cstr(&b, MS_MOD_FILE, d->mods[i].file);
        tb_u64(&b, MS_MOD_FLAGS, d->mods[i].flags);
    }
    T->t[MS_SEC_PY_MODULES] = tb_end(&b);

    tb_begin(&b, MS_SEC_PY_SIZE_CLASSES, sh);
    for (unsigned i = 0; i < 32; i++) {
        uint64_t pools = 40 + (uint64_t)(i * 7919 % 997) * (32 - i);
        uint64_t per = (16384 - 48) / (16 * (i + 1)), used = pools * per - (i * 31 % 97);
        tb_row(&b);
        tb_u64(&b, MS_SC_INDEX, i);
        tb_u64(&b, MS_SC_BLOCK_SIZE, 16 * (i + 1));
        tb_u64(&b, MS_SC_POOLS, pools);
        tb_u64(&b, MS_SC_BLOCKS_USED, used);
        tb_u64(&b, MS_SC_BLOCKS_FREE, pools * per - used);
    }
    T->t[MS_SEC_PY_SIZE_CLASSES] = tb_end(&b);

    tb_begin(&b, MS_SEC_PY_ARENAS, sh);
    uint64_t live = 0, used_pools = 0;
    for (size_t i = 0; i < d->narenas; i++) {
        const bench_arena *a = &d->arenas[i];
        tb_row(&b);
        tb_u64(&b, MS_AR_ADDRESS, a->addr);
        tb_u64(&b, MS_AR_POOLS_USED, a->used);
        tb_u64(&b, MS_AR_POOLS_FREE, a->free_pools);
        tb_u64(&b, MS_AR_POOLS_TOTAL, a->total);
        tb_u64(&b, MS_AR_LIVE_BYTES, a->live);
        live += a->live;
        used_pools += a->used;
    }
    T->t[MS_SEC_PY_ARENAS] = tb_end(&b);

    tb_begin(&b, MS_SEC_PY_ALLOC_TOTALS, sh);
    tb_row(&b);
    tb_u64(&b, MS_AT_ARENAS, d->narenas);
    tb_u64(&b, MS_AT_ARENAS_ALLOCATED, d->narenas * 3 + 17);
    tb_u64(&b, MS_AT_ARENAS_RECLAIMED, d->narenas * 2 + 17);
    tb_u64(&b, MS_AT_ARENAS_HIGHWATER, d->narenas + 211);
    tb_u64(&b, MS_AT_ALLOCATED_BYTES, live);
    tb_u64(&b, MS_AT_AVAILABLE_BYTES, used_pools * 16384 - live);
    tb_u64(&b, MS_AT_UNUSED_POOL_BYTES, (d->narenas * 64 - used_pools) * 16384);
    tb_u64(&b, MS_AT_POOL_HEADER_BYTES, used_pools * 48);
    tb_u64(&b, MS_AT_QUANTIZATION_BYTES, used_pools * 37);
    tb_u64(&b, MS_AT_ALIGNMENT_BYTES, 0);
    tb_u64(&b, MS_AT_ARENA_BYTES, d->narenas << 20);
    T->t[MS_SEC_PY_ALLOC_TOTALS] = tb_end(&b);

    tb_begin(&b, MS_SEC_PY_GC, sh);
    static const uint64_t gc_count[4] = {517, 3, 9, 0}, gc_thr[4] = {700, 10, 10, 0};
    static const uint64_t gc_objs[4] = {517, 5123, 18273645, 91234};
    for (unsigned g = 0; g < 4; g++) {
        tb_row(&b);
        tb_u64(&b, MS_GC_GENERATION, g);
        tb_u64(&b, MS_GC_COUNT, gc_count[g]);
        tb_u64(&b, MS_GC_THRESHOLD, gc_thr[g]);
        tb_u64(&b, MS_GC_OBJECTS, gc_objs[g]);
        tb_u64(&b, MS_GC_COLLECTING, 0);
    }
    T->t[MS_SEC_PY_GC] = tb_end(&b);

    tb_begin(&b, MS_SEC_DIAGNOSTICS, sh);
    static const struct { const char *area; uint64_t st; const char *msg; } dg[] = {
        {"smaps", 3, "target not paused: mappings read while it ran (best-effort)"},
        {"python.types", 1, "sizes of 2 types are approximate (__sizeof__ raised)"},
        {"cgroup", 0, "cgroup v2 at /sys/fs/cgroup"},
    };
    for (size_t i = 0; i < NELEM(dg); i++) {
        tb_row(&b);
        tb_cstr(&b, MS_DG_AREA, dg[i].area);
        tb_u64(&b, MS_DG_STATUS, dg[i].st);
        tb_cstr(&b, MS_DG_MESSAGE, dg[i].msg);
    }
    T->t[MS_SEC_DIAGNOSTICS] = tb_end(&b);
}

static void free_all(bench_tables *T)
{
    for (size_t i = 0; i < NELEM(T->t); i++) ms_table_free(T->t[i]);
    memset(T, 0, sizeof *T);
}

/* ------------------------------------------------------------ the text */

/* The same data as the kernel and CPython would print it. Section text
 * goes to texts[type] so sizes can be compared per section. */
typedef struct {
    bench_text s[MS_SEC_MAX_KNOWN + 1];
} bench_texts;

static void kv_text(bench_text *t, const bench_kv *kv)
{
    switch (kv->style) {
    case KV_KB: text_printf(t, "%s:\t%8" PRIu64 " kB\n", kv->name, kv->value); break;
    case KV_HEX16: text_printf(t, "%s:\t%016" PRIx64 "\n", kv->name, kv->value); break;
    case KV_HEX: text_printf(t, "%s:\t%" PRIx64 "\n", kv->name, kv->value); break;
    case KV_OCT: text_printf(t, "%s:\t%04" PRIo64 "\n", kv->name, kv->value); break;
    default: text_printf(t, "%s:\t%" PRIu64 "\n", kv->name, kv->value); break;
    }
}

/* One smaps entry exactly as show_smap() prints it: the header padded to
 * column 73 when there is a name, fields as "%-16s%8lu kB". */
static void map_header_text(bench_text *t, const bench_data *d, const bench_map *m)
{
    char h[128];
    int n = snprintf(h, sizeof h, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                     m->start, m->end, (m->perms & P_R) ? 'r' : '-', (m->perms & P_W) ? 'w' : '-',
                     (m->perms & P_X) ? 'x' : '-', (m->perms & P_S) ? 's' : 'p', m->offset,
                     m->dev_major, m->dev_minor, m->inode);
    text_put(t, h, (size_t)n);
    if (m->path >= 0) {
        for (int c = n; c < 73; c++) text_put(t, " ", 1);
        text_printf(t, "%s%s", d->paths[m->path], m->deleted ? " (deleted)" : "");
    }
    text_put(t, "\n", 1);
}

static void map_field_text(bench_text *t, const bench_map *m, int f)
{
    if (bench_fields[f].kib)
        text_printf(t, "%-16s%8" PRIu64 " kB\n", bench_fields[f].name, m->f[f]);
    else
        text_printf(t, "%-16s%8" PRIu64 "\n", bench_fields[f].name, m->f[f]);
}

static void map_vmflags_text(bench_text *t, const bench_map *m)
{
    text_printf(t, "VmFlags: %s \n", bench_vmflags[m->vmflags]);
}

/* The type histogram as CSV, one line per type: the fully qualified name
 * (module.qualname, or qualname alone when the module is unknown) in one
 * field, or with `split` module and qualname as two fields. Both hold the
 * same data as the py_types section; the benchmark compares against the
 * one that compresses better. */
static void types_csv(const bench_data *d, bench_text *t, int split)
{
    text_reserve(t, d->ntypes * 80);
    text_printf(t, split ? "type,module,qualname,count,sizeof_bytes,allocated_bytes,flags\n"
                         : "type,qualified_name,count,sizeof_bytes,allocated_bytes,flags\n");
    for (size_t i = 0; i < d->ntypes; i++) {
        const bench_type *ty = &d->types[i];
        const char *mod = ty->module ? ty->module : "", *q = ty->qualname ? ty->qualname : "";
        if (split)
            text_printf(t, "%s,%s,%s,", ty->name, mod, q);
        else
            text_printf(t, "%s,%s%s%s,", ty->name, mod, *mod ? "." : "", q);
        text_printf(t, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", ty->count, ty->sizeof_bytes,
                    ty->allocated, ty->flags);
    }
}

static void make_texts(const bench_data *d, bench_texts *X)
{
    memset(X, 0, sizeof *X);
    bench_text *t = &X->s[MS_SEC_SNAPSHOT];
    text_printf(t, "snapshot_id: ");
    for (size_t i = 0; i < sizeof bench_snap_id; i++) text_printf(t, "%02x", bench_snap_id[i]);
    text_printf(t, "\nseq: 41\nwall_ns: %llu\nmono_ns: %llu\nduration_ns: 412345678\npause_ns: 0\n"
                   "pid: %" PRIu64 "\nagent: memsnap-capture %s\nboot_id: 5b0a2c8e-7f3d-4e21-9a6b-0c1d2e3f4a5b\n"
                   "flags: 1\n",
                BENCH_WALL_NS, BENCH_MONO_NS, d->pid, MS_LIB_VERSION);
    t = &X->s[MS_SEC_HOST];
    text_printf(t, "hostname: app-worker-17.prod.example.internal\n"
                   "Linux 6.1.0-21-cloud-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03) x86_64\n"
                   "page_size: 4096\nMemTotal:       263921412 kB\nMemAvailable:   118276340 kB\n"
                   "SwapTotal:       16777212 kB\nSwapFree:         9126404 kB\n"
                   "transparent_hugepage/enabled: always [madvise] never\n"
                   "transparent_hugepage/defrag: always defer defer+madvise [madvise] never\n"
                   "vm.overcommit_memory = 0\nnproc: 64\n");
    t = &X->s[MS_SEC_PROCESS];
    text_printf(t, "pid: %" PRIu64 "\nppid: 48190\nuid: 1000\neuid: 1000\ncomm: gunicorn\n"
                   "exe: /usr/local/bin/python3.11\ncmdline: ", d->pid);
    for (size_t i = 0; i + 1 < sizeof bench_cmdline; i++)
        text_put(t, bench_cmdline[i] ? &bench_cmdline[i] : " ", 1);
    text_printf(t, "\nthreads: %zu\noom_score: 712\noom_score_adj: 0\nstate: S\nstarttime: 91827364\n",
                d->nthreads + 1);
    t = &X->s[MS_SEC_PROC_STATUS];
    for (size_t i = 0; i < d->nstatus; i++) kv_text(t, &d->status[i]);
    t = &X->s[MS_SEC_CGROUP];
    text_printf(t, "0::/system.slice/app-worker.service\nmemory.current: 91234545664\n"
                   "memory.max: 137438953472\nmemory.high: max\nmemory.swap.current: 1234567168\n"
                   "memory.swap.max: max\nmemory.peak: 101234569216\n");
    t = &X->s[MS_SEC_CGROUP_STAT];
    const char *last = "";
    for (size_t i = 0; i < d->ncgstat; i++) {
        if (strcmp(last, d->cgstat[i].file)) text_printf(t, "==> %s <==\n", last = d->cgstat[i].file);
        text_printf(t, "%s %" PRIu64 "\n", d->cgstat[i].name, d->cgstat[i].value);
    }
    t = &X->s[MS_SEC_MAPPINGS];
    text_reserve(t, d->nmaps * 900);
    for (size_t i = 0; i < d->nmaps; i++) {
        const bench_map *m = &d->maps[i];
        map_header_text(t, d, m);
        for (int f = 0; f < F_COUNT; f++) map_field_text(t, m, f);
        map_vmflags_text(t, m);
    }
    t = &X->s[MS_SEC_ROLLUP];
    text_printf(t, "%08" PRIx64 "-%08" PRIx64 " ---p 00000000 00:00 0                          [rollup]\n",
                d->rollup_start, d->rollup_end);
    for (size_t i = 0; i < d->nrollup; i++) {
        char nm[40];
        snprintf(nm, sizeof nm, "%s:", d->rollup[i].name);
        text_printf(t, "%-16s%8" PRIu64 " kB\n", nm, d->rollup[i].value);
    }
    t = &X->s[MS_SEC_PY_RUNTIME];
    text_printf(t, "version: 3.11.7\nhexversion: 0x30b07f0\nflags: shared,pie\n"
                   "executable: /usr/local/bin/python3.11\nlibpython: /usr/local/lib/libpython3.11.so.1.0\n"
                   "allocator: pymalloc\narena_size: 1048576\npool_size: 16384\n");
    types_csv(d, &X->s[MS_SEC_PY_TYPES], 0);
    t = &X->s[MS_SEC_PY_MODULES];
    text_printf(t, "name,file,flags\n");
    for (size_t i = 0; i < d->nmods; i++)
        text_printf(t, "%s,%s,%" PRIu64 "\n", d->mods[i].name, d->mods[i].file ? d->mods[i].file : "",
                    d->mods[i].flags);
    t = &X->s[MS_SEC_PY_SIZE_CLASSES];
    text_printf(t, "class,size,num_pools,blocks_in_use,avail_blocks\n");
    for (unsigned i = 0; i < 32; i++) {
        uint64_t pools = 40 + (uint64_t)(i * 7919 % 997) * (32 - i);
        uint64_t per = (16384 - 48) / (16 * (i + 1)), used = pools * per - (i * 31 % 97);
        text_printf(t, "%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", i, 16 * (i + 1), pools, used,
                    pools * per - used);
    }
    t = &X->s[MS_SEC_PY_ARENAS];
    text_printf(t, "address,pools_used,pools_free,pools_total,live_bytes\n");
    uint64_t live = 0, used_pools = 0;
    for (size_t i = 0; i < d->narenas; i++) {
        const bench_arena *a = &d->arenas[i];
        text_printf(t, "0x%" PRIx64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", a->addr,
                    a->used, a->free_pools, a->total, a->live);
        live += a->live;
        used_pools += a->used;
    }
    t = &X->s[MS_SEC_PY_ALLOC_TOTALS];
    text_printf(t, "# arenas allocated total = %zu\n# arenas reclaimed = %zu\n"
                   "# arenas highwater mark = %zu\n# arenas allocated current = %zu\n"
                   "%zu arenas * 1048576 bytes/arena = %zu\n"
                   "# bytes in allocated blocks = %" PRIu64 "\n# bytes in available blocks = %" PRIu64 "\n"
                   "%" PRIu64 " unused pools * 16384 bytes = %" PRIu64 "\n"
                   "# bytes lost to pool headers = %" PRIu64 "\n# bytes lost to quantization = %" PRIu64 "\n"
                   "# bytes lost to arena alignment = 0\n",
                d->narenas * 3 + 17, d->narenas * 2 + 17, d->narenas + 211, d->narenas, d->narenas,
                d->narenas << 20, live, used_pools * 16384 - live, d->narenas * 64 - used_pools,
                (d->narenas * 64 - used_pools) * 16384, used_pools * 48, used_pools * 37);
    t = &X->s[MS_SEC_PY_GC];
    text_printf(t, "generation,count,threshold,objects,collecting\n0,517,700,517,0\n1,3,10,5123,0\n"
                   "2,9,10,18273645,0\n3,0,0,91234,0\n");
    t = &X->s[MS_SEC_DIAGNOSTICS];
    text_printf(t, "smaps: best-effort: target not paused: mappings read while it ran (best-effort)\n"
                   "python.types: approximate: sizes of 2 types are approximate (__sizeof__ raised)\n"
                   "cgroup: complete: cgroup v2 at /sys/fs/cgroup\n");
}

static void free_texts(bench_texts *X)
{
    for (size_t i = 0; i < NELEM(X->s); i++) text_free(&X->s[i]);
}

/* Compressed size of a buffer with ZSTD_compress at `level`; at 19 this is
 * what `zstd -19` does on a file (same parameters for the same source
 * size). */
static size_t zstd_size(const void *p, size_t n, int level)
{
    size_t bound = ZSTD_compressBound(n);
    void *out = bench_xmalloc(bound);
    size_t z = ZSTD_compress(out, bound, p, n, level);
    free(out);
    if (ZSTD_isError(z)) bench_die("ZSTD_compress: %s", ZSTD_getErrorName(z));
    return z;
}

static size_t zstd19(const void *p, size_t n)
{
    return zstd_size(p, n, 19);
}

/* ---------------------------------------------------------- writing/reading */

typedef struct {
    double secs;      /* begin..end */
    uint64_t raw;     /* payload bytes before compression */
    uint64_t comp;    /* compressed payload bytes */
    uint64_t record;  /* bytes the record takes in the file (header + payload) */
} bench_write;

/* Opens `path` with MS_TRUNCATE and writes the snapshot made of the `n`
 * tables `reps` times with that one writer, as a capture agent does;
 * secs[i] (if secs) is the time of the i-th ms_writer_begin .. ms_writer_end
 * (open/close not timed). Returns the figures of the last snapshot. */
static bench_write write_snapshots(const char *path, int level, ms_table *const *tabs, size_t n, int reps,
                                   double *secs)
{
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "bench_format", level, &err, msg, sizeof msg);
    if (!w) bench_die("%s", msg);
    bench_write r = {0};
    uint64_t off = 0;
    for (int k = 0; k < reps; k++) {
        double t0 = bench_now();
        int rc = ms_writer_begin(w);
        for (size_t i = 0; !rc && i < n; i++) rc = ms_writer_add(w, tabs[i]);
        if (!rc) rc = ms_writer_end(w, 0);
        r.secs = bench_now() - t0;
        if (rc) bench_die("writing %s: %s", path, ms_writer_error(w));
        if (secs) secs[k] = r.secs;
        ms_writer_last_sizes(w, &r.raw, &r.comp, &off);
    }
    int rc = ms_writer_close(w);
    if (rc) bench_die("closing %s: %s", path, ms_strerror(rc));
    struct stat st;
    if (stat(path, &st) != 0) bench_die("stat %s: %s", path, strerror(errno));
    r.record = (uint64_t)st.st_size - off;
    return r;
}

/* Median seconds of ms_writer_add(t) over `reps` snapshots of one writer
 * (begin, add, abort: the strings are interned and the columns encoded,
 * nothing is compressed or written), as the agent adds its MAPPINGS. */
static double add_alone(const char *path, ms_table *t, int reps, double *secs)
{
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "bench_format", 0, &err, msg, sizeof msg);
    if (!w) bench_die("%s", msg);
    for (int k = 0; k < reps; k++) {
        if (ms_writer_begin(w)) bench_die("ms_writer_begin: %s", ms_writer_error(w));
        double t0 = bench_now();
        int rc = ms_writer_add(w, t);
        secs[k] = bench_now() - t0;
        if (rc) bench_die("ms_writer_add: %s", ms_writer_error(w));
        ms_writer_abort(w);
    }
    int rc = ms_writer_close(w);
    if (rc) bench_die("closing %s: %s", path, ms_strerror(rc));
    return bench_median(secs, (size_t)reps);
}

static bench_write write_snapshot(const char *path, int level, ms_table *const *tabs, size_t n)
{
    return write_snapshots(path, level, tabs, n, 1, NULL);
}

/* Tables of T in section order, and how many. */
static size_t tables_list(const bench_tables *T, ms_table **out)
{
    size_t n = 0;
    for (size_t i = 0; i < NELEM(T->t); i++)
        if (T->t[i]) out[n++] = T->t[i];
    return n;
}

/* Bytes one section adds to a record: the record with the snapshot section
 * and it, minus the record with the snapshot section alone. */
static uint64_t section_bytes(const char *path, int level, ms_table *snap, ms_table *t, uint64_t base)
{
    ms_table *two[2] = {snap, t};
    bench_write w = write_snapshot(path, level, two, 2);
    return w.record - base;
}

/* Compares every cell set when building (the shadow) with what the reader
 * returns. */
static void verify(const char *path, const bench_shadow *sh, const bench_tables *T, int count)
{
    int err;
    char msg[512];
    ms_reader *r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    if (!r) bench_die("%s", msg);
    ms_snapshot *s;
    int rc;
    for (int k = 0; k < count; k++) {
        if ((rc = ms_reader_next(r, &s))) bench_die("reading %s: %s", path, ms_reader_error(r));
        for (size_t i = 0; i < NELEM(T->t); i++) {
            if (!T->t[i]) continue;
            const ms_section *sec = ms_snapshot_section(s, (unsigned)i);
            if (!sec || ms_section_nrows(sec) != ms_table_nrows(T->t[i]))
                bench_die("verify: section %s missing or with %zu rows instead of %zu",
                          ms_section_name((unsigned)i), ms_section_nrows(sec), ms_table_nrows(T->t[i]));
        }
        for (size_t i = 0; i < sh->n; i++) {
            const bench_cell *c = &sh->c[i];
            const ms_section *sec = ms_snapshot_section(s, c->sec);
            int ok;
            if (c->type == MS_T_U64) {
                uint64_t v;
                ok = ms_get_u64(sec, c->col, c->row, &v) && v == c->v;
            } else if (c->type == MS_T_I64) {
                int64_t v;
                ok = ms_get_i64(sec, c->col, c->row, &v) && (uint64_t)v == c->v;
            } else {
                const char *str;
                size_t len;
                ok = ms_get_str(sec, c->col, c->row, &str, &len) &&
                     (c->s ? (str && len == c->len && !memcmp(str, c->s, len)) : !str);
            }
            if (!ok)
                bench_die("verify: snapshot %d section %s row %u column %u differs after a round trip", k,
                          ms_section_name(c->sec), c->row, c->col);
        }
        ms_snapshot_free(s);
    }
    if ((rc = ms_reader_next(r, &s)) != MS_ERR_END) bench_die("verify: expected %d snapshots in %s", count, path);
    ms_reader_close(r);
}

/* Times ms_reader_open + ms_reader_next of the file's first snapshot
 * (freeing it and closing not timed). */
static double read_once(const char *path)
{
    int err;
    char msg[512];
    double t0 = bench_now();
    ms_reader *r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    if (!r) bench_die("%s", msg);
    ms_snapshot *s;
    if (ms_reader_next(r, &s)) bench_die("reading %s: %s", path, ms_reader_error(r));
    double dt = bench_now() - t0;
    ms_snapshot_free(s);
    ms_reader_close(r);
    return dt;
}

/* ---------------------------------------------------------------- output */

static void machine_line(void)
{
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ' || *c == '\t') c++;
                    c[strcspn(c, "\n")] = 0;
                    snprintf(model, sizeof model, "%s", c);
                }
                break;
            }
        }
        fclose(f);
    }
    printf("machine: nproc %ld, %s; libzstd %s; build %s", sysconf(_SC_NPROCESSORS_ONLN), model,
           ZSTD_versionString(), MS_BENCH_BUILD_TYPE);
#if defined(__VERSION__)
    printf(", cc %s", __VERSION__);
#endif
    printf("\n");
}

static double mbps(uint64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes / 1e6 / secs : 0;
}

/* Runs the zstd program on `path` at -19 and returns the output size, or
 * 0 if it is not installed. */
static uint64_t zstd_cli19(const char *path)
{
    if (system("command -v zstd >/dev/null 2>&1") != 0) return 0;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "zstd -19 -q -c -- '%s'", path);
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    char buf[65536];
    uint64_t n = 0;
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0) n += k;
    int st = pclose(p);
    return st == 0 ? n : 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) bench_die("writing %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------- main */

typedef struct {
    size_t mappings, types;
    size_t small_mappings, small_types; /* [6]; 0 mappings: not run */
    int reps, sweep_reps, level, columns, cli, speed_only, keep, cpu_time;
    uint64_t seed;
    const char *out;
} bench_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_format [options]\n"
            "Measures .msnap encode/decode speed and size against kernel text + zstd -19.\n"
            "  --mappings N    mappings in the synthetic snapshot (default 100000)\n"
            "  --types N       rows of the Python type histogram (default 50000)\n"
            "  --small-mappings N, --small-types N\n"
            "                  the small process of [6] (default 120 and 400; 0 mappings: skip [6])\n"
            "  --reps N        timed runs per figure; the median is printed (default 7)\n"
            "  --sweep-reps N  timed runs per level in the zstd level sweep (default 3)\n"
            "  --level N       writer zstd level for the main figures (default 0: library default)\n"
            "  --out DIR       where to write the files (default /dev/shm, else /tmp)\n"
            "  --seed N        PRNG seed (default %#llx)\n"
            "  --columns       also measure what each mapping/type column costs ([5])\n"
            "  --no-zstd-cli   do not confirm the text size with the zstd program\n"
            "  --speed         only build/encode/decode times (sections [1] and [2]; for profiling)\n"
            "  --keep          keep the .msnap written in [2] (with --speed) and print its path\n"
            "  --cpu-time      time with the thread's CPU clock instead of CLOCK_MONOTONIC (A/B\n"
            "                  comparisons on a busy machine; excludes waiting for the CPU)\n"
            "  --help          this text\n",
            (unsigned long long)BENCH_SEED);
}

static int parse_num(const char *s, unsigned long long *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return !errno && end != s && !*end && s[0] != '-';
}

static void parse_args(int argc, char **argv, bench_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long long v = 0;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--columns")) {
            o->columns = 1;
            continue;
        } else if (!strcmp(a, "--cpu-time")) {
            o->cpu_time = 1;
            continue;
        } else if (!strcmp(a, "--keep")) {
            o->keep = 1;
            continue;
        } else if (!strcmp(a, "--speed")) {
            o->speed_only = 1;
            continue;
        } else if (!strcmp(a, "--no-zstd-cli")) {
            o->cli = 0;
            continue;
        }
        int takes = !strcmp(a, "--mappings") || !strcmp(a, "--types") || !strcmp(a, "--reps") ||
                    !strcmp(a, "--small-mappings") || !strcmp(a, "--small-types") ||
                    !strcmp(a, "--sweep-reps") || !strcmp(a, "--level") || !strcmp(a, "--out") ||
                    !strcmp(a, "--seed");
        if (!takes) {
            fprintf(stderr, "bench_format: unknown option %s (see --help)\n", a);
            exit(2);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_format: %s needs a value (see --help)\n", a);
            exit(2);
        }
        const char *val = argv[++i];
        if (!strcmp(a, "--out")) {
            o->out = val;
            continue;
        }
        if (!parse_num(val, &v)) {
            fprintf(stderr, "bench_format: %s: not a number: %s\n", a, val);
            exit(2);
        }
        if (!strcmp(a, "--mappings")) {
            if (v < 10 || v > 10000000) {
                fprintf(stderr, "bench_format: --mappings must be 10..10000000\n");
                exit(2);
            }
            o->mappings = (size_t)v;
        } else if (!strcmp(a, "--small-mappings") || !strcmp(a, "--small-types")) {
            if (v > 10000000 || (v && v < 10 && !strcmp(a, "--small-mappings"))) {
                fprintf(stderr, "bench_format: %s must be 0..10000000 (mappings: 0 or at least 10)\n", a);
                exit(2);
            }
            *(!strcmp(a, "--small-mappings") ? &o->small_mappings : &o->small_types) = (size_t)v;
        } else if (!strcmp(a, "--types")) {
            if (v > 10000000) {
                fprintf(stderr, "bench_format: --types must be 0..10000000\n");
                exit(2);
            }
            o->types = (size_t)v;
        } else if (!strcmp(a, "--reps") || !strcmp(a, "--sweep-reps")) {
            if (v < 1 || v > 1000) {
                fprintf(stderr, "bench_format: %s must be 1..1000\n", a);
                exit(2);
            }
            *(!strcmp(a, "--reps") ? &o->reps : &o->sweep_reps) = (int)v;
        } else if (!strcmp(a, "--level")) {
            if (v > 22) {
                fprintf(stderr, "bench_format: --level must be 0..22\n");
                exit(2);
            }
            o->level = (int)v;
        } else {
            o->seed = v;
        }
    }
}

static const char *level_name(int level, char *buf, size_t n)
{
    if (level)
        snprintf(buf, n, "%d", level);
    else
        snprintf(buf, n, "default");
    return buf;
}

/* ------------------------------------------------------------ columns */

/* What each column of the mappings and types sections costs: the record
 * with the whole table minus the record with the table without that column
 * (leave one out: a column that other columns are encoded against costs
 * what they lose without it, too; a negative figure means the section is
 * smaller with the column than without, because others are stored relative
 * to it: start and end, size and rss). Printed next to the text of that
 * field alone compressed with zstd -19, for the mappings. */
static void report_columns(const bench_data *d, const bench_opts *o, const char *path, ms_table *snap,
                           uint64_t base, uint64_t map_bytes, uint64_t types_bytes)
{
    printf("\n[5] what each column costs (writer level %s): the section's bytes minus the section's\n"
           "    bytes without that column (negative: the others are stored relative to it);\n"
           "    text+zstd19 = that smaps field alone as the kernel prints it\n",
           o->level ? "as --level" : "default");
    printf("    %-22s %12s %14s\n", "mappings column", "msnap bytes", "text+zstd19");
    bench_text t = {0};
    unsigned cols[64];
    size_t ncols = 0;
    for (size_t k = 0; k < NELEM(bench_map_cols); k++) cols[ncols++] = bench_map_cols[k];
    for (int f = 0; f < F_COUNT; f++) cols[ncols++] = bench_fields[f].col;
    cols[ncols++] = MS_MAP_VMFLAGS;
    long long sum = 0;
    for (size_t k = 0; k < ncols; k++) {
        ms_table *mt = build_mappings(d, NULL, cols[k]);
        uint64_t without = section_bytes(path, o->level, snap, mt, base);
        ms_table_free(mt);
        long long b = (long long)map_bytes - (long long)without;
        sum += b;
        const char *name;
        ms_coltype ct;
        if (ms_column_info(MS_SEC_MAPPINGS, cols[k], &name, &ct)) name = "?";
        int f = field_of_col(cols[k]);
        if (f < 0 && cols[k] != MS_MAP_VMFLAGS) {
            printf("    %-22s %12lld\n", name, b);
            continue;
        }
        t.len = 0;
        for (size_t i = 0; i < d->nmaps; i++) {
            if (f >= 0)
                map_field_text(&t, &d->maps[i], f);
            else
                map_vmflags_text(&t, &d->maps[i]);
        }
        printf("    %-22s %12lld %14zu\n", name, b, zstd19(t.p, t.len));
    }
    t.len = 0;
    for (size_t i = 0; i < d->nmaps; i++) map_header_text(&t, d, &d->maps[i]);
    printf("    %-22s %12lld   (whole section: %" PRIu64 "; the header lines start..path alone: %zu)\n",
           "sum of columns", sum, map_bytes, zstd19(t.p, t.len));
    printf("    %-22s %12s\n", "py_types column", "msnap bytes");
    static const unsigned tcols[] = {MS_TY_NAME, MS_TY_QUALNAME, MS_TY_COUNT, MS_TY_SIZEOF,
                                     MS_TY_ALLOCATED, MS_TY_FLAGS, MS_TY_MODULE};
    for (size_t k = 0; k < NELEM(tcols); k++) {
        ms_table *tt = build_types(d, NULL, tcols[k]);
        uint64_t without = section_bytes(path, o->level, snap, tt, base);
        ms_table_free(tt);
        const char *name;
        ms_coltype ct;
        if (ms_column_info(MS_SEC_PY_TYPES, tcols[k], &name, &ct)) name = "?";
        printf("    %-22s %12lld\n", name, (long long)types_bytes - (long long)without);
    }
    text_free(&t);
}

/* ---------------------------------------------------------------- sizes */

typedef struct {
    size_t text19;       /* whole text + zstd -19: the baseline */
    uint64_t base;       /* record holding only the snapshot section */
    uint64_t map_bytes, types_bytes; /* bytes the mappings / py_types sections add to a record */
} bench_sizes;

/* Writes the snapshot of T at the writer's level and at 19, and the text
 * of the same data; prints the ratios (`full`: per section too). */
static bench_sizes report_sizes(const bench_data *d, bench_tables *T, const bench_opts *o, const char *path,
                                const char *spath, const char *tpath, int full)
{
    bench_sizes r = {0};
    char lv[16];
    bench_texts X;
    make_texts(d, &X);
    bench_text all = {0}, split = {0};
    types_csv(d, &split, 1);
    size_t ti_a = 0, ti_b = 0; /* where the types text starts in the two whole texts */
    bench_text all_b = {0};
    for (size_t i = 0; i < NELEM(X.s); i++) {
        if (i == MS_SEC_PY_TYPES) ti_a = all.len, ti_b = all_b.len;
        text_put(&all, X.s[i].p ? X.s[i].p : "", X.s[i].len);
        if (i == MS_SEC_PY_TYPES)
            text_put(&all_b, split.p, split.len);
        else
            text_put(&all_b, X.s[i].p ? X.s[i].p : "", X.s[i].len);
    }
    (void)ti_a;
    (void)ti_b;
    double tz0 = bench_now();
    size_t za = zstd19(all.p, all.len);
    double tz = bench_now() - tz0;
    size_t zb = zstd19(all_b.p, all_b.len);
    r.text19 = za < zb ? za : zb;
    int wl = o->level ? o->level : 9; /* the writer's default, msnap_writer.c */
    ms_table *tabs[MS_SEC_MAX_KNOWN + 1];
    size_t ntabs = tables_list(T, tabs);
    bench_write w = write_snapshot(path, o->level, tabs, ntabs);
    bench_write w19 = write_snapshot(path, 19, tabs, ntabs);
    bench_write wn = write_snapshot(path, o->level | MS_ZLEVEL_NO_DICT, tabs, ntabs); /* codec 1 */
    ms_table *snap = T->t[MS_SEC_SNAPSHOT];
    r.base = write_snapshot(spath, o->level, &snap, 1).record;
    if (full) {
        printf("    %-16s %11s %11s %11s %11s %7s\n", "section", "text", "text+zstd19", "msnap", "text+zstd", "ratio");
        printf("    %-16s %11s %11s %11s %8s%-3d %7s\n", "", "bytes", "bytes", "bytes", "level ", wl, "msnap/19");
        for (size_t i = 1; i < NELEM(X.s); i++) {
            if (!T->t[i]) continue;
            const bench_text *x = &X.s[i];
            size_t tz_i = zstd19(x->p ? x->p : "", x->len);
            size_t tl_i = zstd_size(x->p ? x->p : "", x->len, wl);
            size_t zq = tz_i, zs = 0;
            if (i == MS_SEC_PY_TYPES) { /* the better of the two CSV layouts */
                zs = zstd19(split.p, split.len);
                size_t ls = zstd_size(split.p, split.len, wl);
                if (zs < tz_i) tz_i = zs, x = &split;
                if (ls < tl_i) tl_i = ls;
            }
            uint64_t mb = i == MS_SEC_SNAPSHOT ? r.base : section_bytes(spath, o->level, snap, T->t[i], r.base);
            if (i == MS_SEC_MAPPINGS) r.map_bytes = mb;
            if (i == MS_SEC_PY_TYPES) r.types_bytes = mb;
            printf("    %-16s %11zu %11zu %11" PRIu64 " %11zu %7.3f\n", ms_section_name((unsigned)i), x->len, tz_i, mb,
                   tl_i, (double)mb / (double)tz_i);
            if (i == MS_SEC_PY_TYPES)
                printf("    %-16s (CSV with the qualified name in one field: %zu, with module,qualname: %zu)\n", "",
                       zq, zs);
        }
        printf("    (msnap per section = bytes the section adds to a record (snapshot: the whole one-section\n"
               "     record); text per section compressed alone; ratio = msnap / text+zstd19)\n");
        size_t all_l = zstd_size(all.p, all.len, wl);
        printf("    %-16s %11zu %11zu %11" PRIu64 " %11zu %7.3f   <- whole snapshot, compressed as one\n", "TOTAL",
               all.len, r.text19, w.record, all_l, (double)w.record / (double)r.text19);
        printf("    (whole text with the qualified-name CSV: %zu bytes after zstd -19; with module,qualname: %zu)\n",
               za, zb);
    }
    printf("    ratio msnap / (text + zstd -19) = %.3f at writer level %s (record %" PRIu64 " bytes), %.3f at\n"
           "    level 19 (%" PRIu64 " bytes); text + zstd -19 = %zu bytes; target <= 0.5: %s\n",
           (double)w.record / (double)r.text19, level_name(o->level, lv, sizeof lv), w.record,
           (double)w19.record / (double)r.text19, w19.record, r.text19,
           (double)w.record / (double)r.text19 <= 0.5 ? "MET" : "NOT MET");
    printf("    with the dictionary (codec 2, the default) as above; without it (codec 1, --no-dict, what\n"
           "    format 1.0 readers read): ratio %.3f (record %" PRIu64 " bytes, %.2fx the record with it)\n",
           (double)wn.record / (double)r.text19, wn.record, (double)wn.record / (double)w.record);
    if (full) {
        printf("    (zstd -19 on the text took %.1f s: %.2f MB/s)\n", tz, mbps(all.len, tz));
        if (o->cli) {
            write_file(tpath, all.p, all.len);
            uint64_t cz = zstd_cli19(tpath);
            if (cz)
                printf("    check with the zstd program: `zstd -19` of the text file = %" PRIu64
                       " bytes, %+.2f%% from the library's %zu\n",
                       cz, 100.0 * ((double)cz - (double)za) / (double)za, za);
            else
                printf("    zstd program not found: library figure only\n");
            unlink(tpath);
        }
        printf("    bytes per 1,000 mappings: mappings section %.0f (text+zstd19 of smaps alone %.0f)\n",
               (double)r.map_bytes * 1000.0 / (double)d->nmaps,
               (double)zstd19(X.s[MS_SEC_MAPPINGS].p, X.s[MS_SEC_MAPPINGS].len) * 1000.0 / (double)d->nmaps);
    }
    text_free(&all);
    text_free(&all_b);
    text_free(&split);
    free_texts(&X);
    return r;
}

int main(int argc, char **argv)
{
    bench_opts o = {100000, 50000, 120, 400, 7, 3, 0, 0, 1, 0, 0, 0, BENCH_SEED, NULL};
    parse_args(argc, argv, &o);
    if (o.cpu_time) bench_clock = CLOCK_THREAD_CPUTIME_ID;
    if (!o.out) {
        struct stat st;
        o.out = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                                                                    : "/tmp";
    }
    char path[4096], tpath[4096], spath[4096], lv[16];
    snprintf(path, sizeof path, "%s/bench_format.%ld.msnap", o.out, (long)getpid());
    snprintf(spath, sizeof spath, "%s/bench_format.%ld.part.msnap", o.out, (long)getpid());
    snprintf(tpath, sizeof tpath, "%s/bench_format.%ld.txt", o.out, (long)getpid());

    printf("memsnap format benchmark (tests/bench/bench_format.c, libmsformat %s, format %d.%d)\n",
           MS_LIB_VERSION, MS_FORMAT_MAJOR, MS_FORMAT_MINOR);
    machine_line();
    printf("figures: medians of %d runs in one process (%s), %d per level in the sweep;\n"
           "         files in %s, written without fsync; MB = 10^6 bytes of raw (uncompressed) payload\n",
           o.reps, o.cpu_time ? "CLOCK_THREAD_CPUTIME_ID" : "CLOCK_MONOTONIC", o.sweep_reps, o.out);

    /* the data */
    bench_data d = {0};
    bench_rng r;
    rng_seed(&r, o.seed);
    d.pid = 48213;
    d.swap_on = 1;
    gen_mappings(&d, &r, o.mappings);
    gen_types(&d, &r, o.types);
    gen_misc(&d, &r);
    size_t nfile = 0, nanon_maps = 0;
    for (size_t i = 0; i < d.nmaps; i++) {
        if (d.maps[i].inode)
            nfile++;
        else
            nanon_maps++;
    }
    printf("data: seed %#llx; %zu mappings (%zu file-backed: %zu libraries in %zu mappings, %zu data-file\n"
           "      maps; %zu without a file: %zu threads, %zu malloc arenas, %zu pymalloc arenas), %zu\n"
           "      distinct paths; %zu type rows in %zu modules; %zu status, %zu rollup, %zu cgroup stat lines\n",
           (unsigned long long)o.seed, d.nmaps, nfile, d.nlibs, d.nlib_maps, d.ndatafiles, nanon_maps,
           d.nthreads, d.nmarenas, d.narenas, d.npaths, d.ntypes, d.nmods, d.nstatus, d.nrollup, d.ncgstat);

    /* [1] building the tables */
    bench_tables T;
    double *tb = bench_xmalloc((size_t)o.reps * sizeof *tb);
    for (int i = 0; i < o.reps; i++) {
        double t0 = bench_now();
        build_all(&d, &T, NULL);
        tb[i] = bench_now() - t0;
        free_all(&T);
    }
    double build_s = bench_median(tb, (size_t)o.reps);
    bench_shadow sh = {0};
    build_all(&d, &T, &sh);
    ms_table *tabs[MS_SEC_MAX_KNOWN + 1];
    size_t ntabs = tables_list(&T, tabs);
    printf("\n[1] build the tables (ms_table_new/row/u64/str..., %zu sections, %zu cells): %.1f ms\n", ntabs,
           sh.n, build_s * 1e3);

    /* [2] encode and decode */
    double *te = bench_xmalloc((size_t)o.reps * sizeof *te), *td = bench_xmalloc((size_t)o.reps * sizeof *td);
    bench_write w = write_snapshots(path, o.level, tabs, ntabs, o.reps, te);
    double first_s = te[0];
    double enc_s = bench_median(te, (size_t)o.reps);
    for (int i = 0; i < o.reps; i++) td[i] = read_once(path);
    double dec_s = bench_median(td, (size_t)o.reps);
    verify(path, &sh, &T, o.reps);
    printf("[2] writer level %s: raw payload %" PRIu64 " bytes -> record %" PRIu64 " bytes (%.1fx)\n",
           level_name(o.level, lv, sizeof lv), w.raw, w.record, (double)w.raw / (double)w.record);
    printf("    encode ms_writer_begin/add x%zu/end: %8.1f ms = %7.1f MB/s = %5.1f M cells/s (one writer,\n"
           "           %d snapshots; the first, with the writer's buffers still cold: %.1f ms = %.1f MB/s)\n",
           ntabs, enc_s * 1e3, mbps(w.raw, enc_s), (double)sh.n / 1e6 / enc_s, o.reps, first_s * 1e3,
           mbps(w.raw, first_s));
    int add_reps = o.reps < 51 ? 51 : o.reps;
    double *ta = bench_xmalloc((size_t)add_reps * sizeof *ta);
    printf("    ms_writer_add of the mappings table alone (%zu rows; the agent's share of the encode):\n"
           "           %.3f ms (median of %d)\n",
           d.nmaps, add_alone(spath, T.t[MS_SEC_MAPPINGS], add_reps, ta) * 1e3, add_reps);
    unlink(spath);
    free(ta);
    printf("    decode ms_reader_open + ms_reader_next: %6.1f ms = %7.1f MB/s = %5.1f M cells/s\n", dec_s * 1e3,
           mbps(w.raw, dec_s), (double)sh.n / 1e6 / dec_s);
    printf("    (MB/s count the raw payload, which a better encoding makes smaller: compare ms or cells/s\n"
           "     across format changes)\n");
    printf("    round trip checked: all %zu cells of each of the %d snapshots read back equal\n", sh.n, o.reps);

    if (o.speed_only) {
        if (o.keep)
            printf("    kept: %s\n", path);
        else
            unlink(path);
        free(te);
        free(td);
        free(tb);
        free(sh.c);
        free_all(&T);
        bench_data_free(&d);
        return fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
    }

    /* [3] size against text + zstd -19 */
    printf("\n[3] size: .msnap record vs the same data as text (smaps as the kernel prints it, types\n"
           "    as CSV, the rest as printed) compressed with zstd level 19: ZSTD_compress(..., 19), the\n"
           "    parameters `zstd -19` uses. The types CSV is written two ways, the fully qualified name\n"
           "    in one field or module and qualname in two: the smaller is the baseline.\n");
    ms_table *snap = T.t[MS_SEC_SNAPSHOT];
    bench_sizes sz = report_sizes(&d, &T, &o, path, spath, tpath, 1);

    /* [4] level sweep */
    printf("\n[4] writer zstd level (the default is set in msnap_writer.c ms_writer_new)\n");
    printf("    %5s %12s %10s %12s %14s %8s\n", "level", "record", "encode", "mappings", "bytes/1000", "ratio");
    printf("    %5s %12s %10s %12s %14s %8s\n", "", "bytes", "MB/s", "section", "mappings", "vs text");
    static const int levels[] = {1, 3, 6, 9, 12, 15, 19};
    double *ts = bench_xmalloc((size_t)o.sweep_reps * sizeof *ts);
    for (size_t k = 0; k < NELEM(levels); k++) {
        bench_write lw = write_snapshots(path, levels[k], tabs, ntabs, o.sweep_reps, ts);
        double s = bench_median(ts, (size_t)o.sweep_reps);
        uint64_t lbase = write_snapshot(spath, levels[k], &snap, 1).record;
        uint64_t lmap = section_bytes(spath, levels[k], snap, T.t[MS_SEC_MAPPINGS], lbase);
        printf("    %5d %12" PRIu64 " %10.1f %12" PRIu64 " %14.0f %8.3f\n", levels[k], lw.record, mbps(lw.raw, s),
               lmap, (double)lmap * 1000.0 / (double)d.nmaps, (double)lw.record / (double)sz.text19);
    }
    printf("    (bytes/1000 mappings: the mappings section's share; ratio: whole record / whole text+zstd19)\n");

    if (o.columns) report_columns(&d, &o, spath, snap, sz.base, sz.map_bytes, sz.types_bytes);

    /* [6] a small process: the same generator, few mappings and types */
    if (o.small_mappings) {
        bench_data sd = {0};
        bench_rng sr;
        rng_seed(&sr, o.seed);
        sd.pid = 48213;
        sd.swap_on = 1;
        gen_mappings(&sd, &sr, o.small_mappings);
        gen_types(&sd, &sr, o.small_types);
        gen_misc(&sd, &sr);
        bench_tables ST;
        build_all(&sd, &ST, NULL);
        printf("\n[6] a small process: %zu mappings, %zu type rows in %zu modules (same generator; a live\n"
               "    capture of a small Python process: tests/bench/bench_real.sh)\n",
               sd.nmaps, sd.ntypes, sd.nmods);
        report_sizes(&sd, &ST, &o, path, spath, tpath, 0);
        free_all(&ST);
        bench_data_free(&sd);
    }

    unlink(path);
    unlink(spath);
    free(ts);
    free(te);
    free(td);
    free(tb);
    free(sh.c);
    free_all(&T);
    bench_data_free(&d);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "bench_format: writing the output failed: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

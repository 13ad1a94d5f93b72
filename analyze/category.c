/*
 * category.c - the mapping categories of mappings.category: the rules as
 * data (name, text for people, heuristic or not) and the classifier that
 * applies them to one snapshot.
 *
 * The classifier runs in three passes because the heuristics look at a
 * mapping's neighbours: first the exact rules (names the kernel or a
 * library gave the mapping, files, Python's own records), then the glibc
 * heap heuristic, then the thread-stack heuristic (which must not take a
 * heap's reserved tail for a stack guard). What is left is "anonymous".
 */
#include "category.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int heuristic;
    const char *rule;
} category_table[CAT_COUNT] = {
    [CAT_KERNEL] = {"kernel", 0,
                    "Pages the kernel maps into every process: path [vdso], [vvar], [vvar_vclock], "
                    "[vsyscall], [uprobes], [sigpage] or [vectors]."},
    [CAT_STACK] = {"stack", 1,
                   "The main thread's stack ([stack], or [stack:TID] on old kernels); glibc thread "
                   "stacks when glibc names them ([anon: glibc: pthread stack...]). Heuristic: an "
                   "unnamed private rw-p mapping directly preceded (no gap) by an unnamed private "
                   "---p mapping of at most 1 MiB is taken for a thread stack and its guard page "
                   "(both get this category), unless that ---p mapping belongs to a C heap region."},
    [CAT_C_HEAP] = {"c_heap", 1,
                    "The brk heap ([heap]); glibc malloc arenas when glibc names them ([anon: "
                    "glibc: malloc...]). Heuristic for the other glibc arenas (threads' heaps): an "
                    "unnamed private rw-p mapping that starts on a 64 MiB boundary and, together "
                    "with an unnamed ---p mapping directly after it (the reserved rest), spans "
                    "exactly 64 MiB (glibc's HEAP_MAX_SIZE on 64-bit); both parts get this "
                    "category. Large blocks that malloc serves with their own mmap are not "
                    "recognised: they count as anonymous."},
    [CAT_SHMEM] = {"shmem", 0,
                   "Shared memory: a path under /dev/shm/, a memfd (/memfd:NAME, memfd:NAME), "
                   "System V shared memory (/SYSV...), [anon_shmem:NAME], or a shared (s) "
                   "mapping without a file (shown by the kernel as /dev/zero)."},
    [CAT_PYTHON_HEAP] = {"python_heap", 0,
                         "The pymalloc object heap: a mapping without a file that contains the base "
                         "address of at least one arena of py_arenas (the whole mapping counts: "
                         "the kernel merges adjacent anonymous mappings), or that CPython named "
                         "[anon:cpython:pymalloc...] (3.13+)."},
    [CAT_INTERPRETER] = {"interpreter", 0,
                         "The Python interpreter: the executable when its file name starts with "
                         "'python' or equals py_runtime.binary, py_runtime.libpython, and any "
                         "libpython*.so*."},
    [CAT_PYTHON_EXTENSION] = {"python_extension", 0,
                              "Python extension modules: a file listed in py_modules (module = its "
                              "name there), or a file named *.cpython-*.so or *.abi3.so (module = "
                              "the file name up to its first '.', without the package)."},
    [CAT_SHARED_LIBRARY] = {"shared_library", 0,
                            "Other shared libraries: a file whose name contains '.so' at its end "
                            "or before a '.' (libc.so.6, ld-linux-x86-64.so.2)."},
    [CAT_FILE] = {"file", 0,
                  "Other file-backed mappings: executables, locale archives, mapped data "
                  "files (a path starting with '/', or a nonzero inode), deleted files included."},
    [CAT_ANONYMOUS] = {"anonymous", 0,
                       "Everything else: anonymous memory not recognised above (malloc's mmap'd "
                       "blocks, the .bss after an executable, JIT code, [anon:NAME] mappings...)."},
};

const char *category_name(category_id c)
{
    return (unsigned)c < CAT_COUNT ? category_table[c].name : "unknown";
}

const char *category_rule(category_id c)
{
    return (unsigned)c < CAT_COUNT ? category_table[c].rule : "";
}

int category_is_heuristic(category_id c)
{
    return (unsigned)c < CAT_COUNT ? category_table[c].heuristic : 0;
}

void category_scratch_free(category_scratch *sc)
{
    if (!sc) return;
    free(sc->p);
    sc->p = NULL;
    sc->cap = 0;
}

/* ------------------------------------------------------------- helpers */

#define PERM_R 1u
#define PERM_W 2u
#define PERM_X 4u
#define PERM_S 8u
#define PERM_P 16u
#define HEAP_REGION ((uint64_t)64 << 20) /* glibc HEAP_MAX_SIZE on 64-bit */
#define GUARD_MAX ((uint64_t)1 << 20)

typedef struct {
    const char *p;
    size_t n;
} span;

static int span_eq(span a, const char *lit)
{
    size_t n = strlen(lit);
    return a.p && a.n == n && !memcmp(a.p, lit, n);
}

static int span_prefix(span a, const char *lit)
{
    size_t n = strlen(lit);
    return a.p && a.n >= n && !memcmp(a.p, lit, n);
}

static int span_same(span a, span b)
{
    return a.p && b.p && a.n == b.n && !memcmp(a.p, b.p, a.n);
}

static int span_suffix(span a, const char *lit)
{
    size_t n = strlen(lit);
    return a.p && a.n >= n && !memcmp(a.p + a.n - n, lit, n);
}

static span span_base(span a)
{
    const char *slash = a.p ? memrchr(a.p, '/', a.n) : NULL;
    if (!slash) return a;
    return (span){slash + 1, a.n - (size_t)(slash + 1 - a.p)};
}

/* ".so" at the end of the name or followed by '.': libc.so.6 */
static int is_shared_object(span base)
{
    for (size_t i = 0; i + 3 <= base.n; i++)
        if (!memcmp(base.p + i, ".so", 3) && (i + 3 == base.n || base.p[i + 3] == '.')) return 1;
    return 0;
}

static int is_cpython_extension(span base)
{
    if (span_suffix(base, ".abi3.so")) return 1;
    return span_suffix(base, ".so") && memmem(base.p, base.n, ".cpython-", 9) != NULL;
}

typedef struct {
    span file; /* py_modules.file */
    span name; /* py_modules.name */
} module_entry;

static int span_cmp(span a, span b)
{
    if (a.n != b.n) return a.n < b.n ? -1 : 1;
    return memcmp(a.p, b.p, a.n);
}

static int module_cmp(const void *a, const void *b)
{
    return span_cmp(((const module_entry *)a)->file, ((const module_entry *)b)->file);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static span get_str(const ms_section *sec, unsigned col, size_t row)
{
    span s = {NULL, 0};
    ms_get_str(sec, col, row, &s.p, &s.n);
    return s;
}

/* ---------------------------------------------------------- classifier */

typedef struct {
    span exe, binary, libpython;
    int exe_is_python;
    const uint64_t *arenas;
    size_t narenas;
    const module_entry *mods;
    size_t nmods;
} classify_ctx;

static int arena_within(const classify_ctx *cx, uint64_t start, uint64_t end)
{
    size_t lo = 0, hi = cx->narenas; /* first arena >= start */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cx->arenas[mid] < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cx->narenas && cx->arenas[lo] < end;
}

static const module_entry *module_find(const classify_ctx *cx, span path)
{
    size_t lo = 0, hi = cx->nmods;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = span_cmp(cx->mods[mid].file, path);
        if (c == 0) return &cx->mods[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int is_kernel_name(span p)
{
    static const char *const names[] = {"[vdso]",    "[vvar]",    "[vvar_vclock]", "[vsyscall]",
                                        "[uprobes]", "[sigpage]", "[vectors]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (span_eq(p, names[i])) return 1;
    return 0;
}

/* The exact rules. Returns the category, or CAT_ANONYMOUS for an unnamed
 * or [anon:] mapping that the heuristics may still claim. */
static category_id classify_exact(const classify_ctx *cx, span path, unsigned perms, uint64_t inode,
                                  uint64_t start, uint64_t end, category_result *r)
{
    if (!path.p || path.n == 0) {
        if (perms & PERM_S) return CAT_SHMEM;
        if (cx->narenas && arena_within(cx, start, end)) return CAT_PYTHON_HEAP;
        return CAT_ANONYMOUS;
    }
    if (path.p[0] == '[') {
        if (is_kernel_name(path)) return CAT_KERNEL;
        if (span_eq(path, "[stack]") || span_prefix(path, "[stack:") ||
            span_prefix(path, "[anon: glibc: pthread stack"))
            return CAT_STACK;
        if (span_eq(path, "[heap]") || span_prefix(path, "[anon: glibc: malloc")) return CAT_C_HEAP;
        if (span_prefix(path, "[anon_shmem:")) return CAT_SHMEM;
        if (span_prefix(path, "[anon:cpython:pymalloc")) return CAT_PYTHON_HEAP;
        if (span_prefix(path, "[anon:")) {
            if (perms & PERM_S) return CAT_SHMEM;
            if (cx->narenas && arena_within(cx, start, end)) return CAT_PYTHON_HEAP;
        }
        return CAT_ANONYMOUS;
    }
    if (span_prefix(path, "/dev/shm/") || span_prefix(path, "/memfd:") ||
        span_prefix(path, "memfd:") || span_prefix(path, "/SYSV") ||
        ((perms & PERM_S) && span_eq(path, "/dev/zero")))
        return CAT_SHMEM;
    span base = span_base(path);
    if ((cx->exe_is_python && span_same(path, cx->exe)) || span_same(path, cx->binary) ||
        span_same(path, cx->libpython) || (span_prefix(base, "libpython") && is_shared_object(base)))
        return CAT_INTERPRETER;
    const module_entry *m = cx->nmods ? module_find(cx, path) : NULL;
    if (m) {
        r->module = m->name.p;
        r->module_len = m->name.n;
        return CAT_PYTHON_EXTENSION;
    }
    if (is_cpython_extension(base)) {
        const char *dot = memchr(base.p, '.', base.n);
        r->module = base.p;
        r->module_len = dot ? (size_t)(dot - base.p) : base.n;
        return CAT_PYTHON_EXTENSION;
    }
    if (is_shared_object(base)) return CAT_SHARED_LIBRARY;
    if (path.p[0] == '/' || inode != 0) return CAT_FILE;
    return CAT_ANONYMOUS;
}

/* Room for the sorted arenas and module index in the scratch buffer. */
static int scratch_reserve(category_scratch *sc, size_t bytes)
{
    if (sc->cap >= bytes) return 0;
    void *p = realloc(sc->p, bytes);
    if (!p) return -1;
    sc->p = p;
    sc->cap = bytes;
    return 0;
}

int category_classify(const ms_snapshot *s, category_result *out, category_scratch *sc)
{
    const ms_section *maps = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    size_t n = ms_section_nrows(maps);
    if (n == 0) return 0;

    classify_ctx cx = {0};
    const ms_section *proc = ms_snapshot_section(s, MS_SEC_PROCESS);
    const ms_section *rt = ms_snapshot_section(s, MS_SEC_PY_RUNTIME);
    const ms_section *ar = ms_snapshot_section(s, MS_SEC_PY_ARENAS);
    const ms_section *mods = ms_snapshot_section(s, MS_SEC_PY_MODULES);
    cx.exe = get_str(proc, MS_PROC_EXE, 0);
    cx.binary = get_str(rt, MS_PY_BINARY, 0);
    cx.libpython = get_str(rt, MS_PY_LIBPYTHON, 0);
    cx.exe_is_python = span_prefix(span_base(cx.exe), "python");

    size_t nar = ms_section_nrows(ar), nmod = ms_section_nrows(mods);
    if (nar > SIZE_MAX / 64 || nmod > SIZE_MAX / 64) return -1;
    size_t need = nar * sizeof(uint64_t) + nmod * sizeof(module_entry);
    if (need && scratch_reserve(sc, need) < 0) return -1;
    module_entry *me = (module_entry *)sc->p; /* module entries first: stricter alignment */
    uint64_t *addrs = (uint64_t *)(void *)((char *)sc->p + nmod * sizeof(module_entry));
    for (size_t i = 0; i < nar; i++)
        if (ms_get_u64(ar, MS_AR_ADDRESS, i, &addrs[cx.narenas])) cx.narenas++;
    if (cx.narenas) qsort(addrs, cx.narenas, sizeof *addrs, u64_cmp);
    cx.arenas = addrs;
    for (size_t i = 0; i < nmod; i++) {
        span file = get_str(mods, MS_MOD_FILE, i), name = get_str(mods, MS_MOD_NAME, i);
        if (!file.p || !name.p) continue;
        if (!(ms_u64_or(mods, MS_MOD_FLAGS, i, 0) & 1) && !is_shared_object(span_base(file))) continue;
        me[cx.nmods++] = (module_entry){file, name};
    }
    if (cx.nmods) qsort(me, cx.nmods, sizeof *me, module_cmp);
    cx.mods = me;

    /* Pass 1: exact rules. Consecutive mappings of one file share the
     * result of the (costlier) file rules. */
    span last_path = {NULL, 0};
    category_result last = {CAT_ANONYMOUS, NULL, 0};
    for (size_t i = 0; i < n; i++) {
        span path = get_str(maps, MS_MAP_PATH, i);
        unsigned perms = (unsigned)ms_u64_or(maps, MS_MAP_PERMS, i, 0);
        category_result *r = &out[i];
        r->module = NULL;
        r->module_len = 0;
        if (path.p && path.n && path.p[0] == '/' && !(perms & PERM_S) && span_same(path, last_path)) {
            *r = last;
            continue;
        }
        r->cat = classify_exact(&cx, path, perms, ms_u64_or(maps, MS_MAP_INODE, i, 0),
                                ms_u64_or(maps, MS_MAP_START, i, 0), ms_u64_or(maps, MS_MAP_END, i, 0), r);
        if (path.p && path.n && path.p[0] == '/' && !(perms & PERM_S)) {
            last_path = path;
            last = *r;
        }
    }

    /* Pass 2: glibc heaps (non-main arenas): rw-p at a 64 MiB boundary,
     * plus the ---p reserve after it, spanning exactly 64 MiB. */
    for (size_t i = 0; i < n; i++) {
        if (out[i].cat != CAT_ANONYMOUS) continue;
        span path = get_str(maps, MS_MAP_PATH, i);
        unsigned perms = (unsigned)ms_u64_or(maps, MS_MAP_PERMS, i, 0);
        uint64_t start = ms_u64_or(maps, MS_MAP_START, i, 0), end = ms_u64_or(maps, MS_MAP_END, i, 0);
        if (path.p || (perms & (PERM_R | PERM_W | PERM_X | PERM_S)) != (PERM_R | PERM_W) ||
            start % HEAP_REGION != 0 || end <= start)
            continue;
        uint64_t span_end = end;
        size_t reserve = n;
        if (i + 1 < n && out[i + 1].cat == CAT_ANONYMOUS && !get_str(maps, MS_MAP_PATH, i + 1).p &&
            (ms_u64_or(maps, MS_MAP_PERMS, i + 1, 0) & (PERM_R | PERM_W | PERM_X | PERM_S)) == 0 &&
            ms_u64_or(maps, MS_MAP_START, i + 1, 0) == end) {
            reserve = i + 1;
            span_end = ms_u64_or(maps, MS_MAP_END, i + 1, 0);
        }
        if (span_end - start != HEAP_REGION) continue;
        out[i].cat = CAT_C_HEAP;
        if (reserve < n) out[reserve].cat = CAT_C_HEAP;
    }

    /* Pass 3: thread stacks: rw-p directly above a small ---p guard. */
    for (size_t i = 1; i < n; i++) {
        if (out[i].cat != CAT_ANONYMOUS || out[i - 1].cat != CAT_ANONYMOUS) continue;
        if (get_str(maps, MS_MAP_PATH, i).p || get_str(maps, MS_MAP_PATH, i - 1).p) continue;
        unsigned perms = (unsigned)ms_u64_or(maps, MS_MAP_PERMS, i, 0);
        unsigned gperms = (unsigned)ms_u64_or(maps, MS_MAP_PERMS, i - 1, 0);
        uint64_t gstart = ms_u64_or(maps, MS_MAP_START, i - 1, 0);
        uint64_t gend = ms_u64_or(maps, MS_MAP_END, i - 1, 0);
        if ((perms & (PERM_R | PERM_W | PERM_X | PERM_S)) != (PERM_R | PERM_W) ||
            (gperms & (PERM_R | PERM_W | PERM_X | PERM_S)) != 0 ||
            gend != ms_u64_or(maps, MS_MAP_START, i, 0) || gend <= gstart || gend - gstart > GUARD_MAX)
            continue;
        out[i].cat = CAT_STACK;
        out[i - 1].cat = CAT_STACK;
    }
    return 0;
}

/*
 * make_golden.c - writes the golden files (tests/golden/README.md).
 *
 * Usage: make_golden OUTDIR: writes OUTDIR/v1.0/ and OUTDIR/v1.1/, which
 * must exist. Run once, by hand, when a format version is released; its
 * output is committed under tests/golden/vMAJOR.MINOR/ and from then on
 * the committed bytes are the truth, not this program: tests never run it.
 * It is kept to show how each file was made and to make the next version's
 * files. Every value is fixed (ids, times, sizes; zstd level 3), so a run
 * gives the same content on every machine (the compressed bytes depend on
 * the zstd version).
 *
 * v1.0/ (codec 1: plain zstd, as a 1.0 writer wrote them)
 *   empty.msnap          a file header and no snapshot (a capture that stopped at once)
 *   minimal.msnap        one snapshot holding only the snapshot section
 *   full.msnap           one snapshot with every section type and every column of
 *                        msnap.h, odd strings and 64-bit extremes
 *   series.msnap         5 snapshots of a small process growing its heap
 *   forward.msnap        what a later 1.x writer may add and a 1.0 reader must skip:
 *                        unknown section types, unknown columns in known sections,
 *                        unknown encodings, the required flag on a known section
 *   forward_minor.msnap  a file of version 1.1 whose file and record headers are
 *                        longer (a newer minor must be read, its extensions skipped)
 *   methods.msnap        every column encoding of SPEC.md 5.3: a snapshot the writer
 *                        encoded, then one built by hand with every type, method and shift
 *
 * v1.1/ (codec 2: zstd with built-in dictionary #1, SPEC.md 3.5)
 *   full.msnap           full.msnap's snapshot, written with codec 2
 *   series.msnap         series.msnap's snapshots, written with codec 2
 *   mixed.msnap          a 1.0 file (header and two codec-1 snapshots) to which a 1.1
 *                        writer appended two codec-2 snapshots: the header stays 1.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_craft.h"
#include "msnap.h"

#define GOLDEN_WRITER "memsnap-golden 1.0"
#define GOLDEN_ZLEVEL 3

static const char *out_dir; /* the folder of the version being written */
static int zlevel;           /* the writer's zlevel argument for it */
static const char *writer;   /* and its writer id */

static void ok(int rc, const char *what)
{
    if (rc) gc_die(what, ms_strerror(rc));
}

static ms_writer *golden_open(const char *name)
{
    char path[4096], msg[512];
    int err;
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, writer, zlevel, &err, msg, sizeof msg);
    if (!w) gc_die(path, msg);
    return w;
}

static void golden_close(ms_writer *w)
{
    ok(ms_writer_close(w), "ms_writer_close");
}

static void add(ms_writer *w, ms_table *t)
{
    if (ms_writer_add(w, t)) gc_die("ms_writer_add", ms_writer_error(w));
    ms_table_free(t);
}

static void end(ms_writer *w)
{
    if (ms_writer_end(w, 0)) gc_die("ms_writer_end", ms_writer_error(w));
}

/* Table helpers: a new table, a new row, typed cells. Strings with
 * explicit lengths so they may hold NULs. */
static ms_table *tab(unsigned type)
{
    ms_table *t = ms_table_new(type);
    if (!t) gc_die("ms_table_new", "failed");
    return t;
}
static void row(ms_table *t) { ok(ms_table_row(t), "ms_table_row"); }
static void u(ms_table *t, unsigned col, uint64_t v) { ok(ms_table_u64(t, col, v), "ms_table_u64"); }
static void i(ms_table *t, unsigned col, int64_t v) { ok(ms_table_i64(t, col, v), "ms_table_i64"); }
static void s(ms_table *t, unsigned col, const char *v) { ok(ms_table_cstr(t, col, v), "ms_table_cstr"); }
static void sn(ms_table *t, unsigned col, const char *v, size_t n) { ok(ms_table_str(t, col, v, n), "ms_table_str"); }

/* The snapshot section of snapshot `seq` of the golden process. */
static ms_table *snapshot_section(uint64_t seq)
{
    ms_table *t = tab(MS_SEC_SNAPSHOT);
    unsigned char id[16];
    for (int k = 0; k < 16; k++) id[k] = (unsigned char)(k * 17 + seq);
    row(t);
    sn(t, MS_SNAP_ID, (const char *)id, sizeof id);
    u(t, MS_SNAP_SEQ, seq);
    u(t, MS_SNAP_WALL_NS, 1700000000123456789ull + seq * 60000000000ull);
    u(t, MS_SNAP_MONO_NS, 987654321000ull + seq * 60000000000ull);
    u(t, MS_SNAP_DURATION_NS, 2500000 + seq * 1000);
    u(t, MS_SNAP_PAUSE_NS, seq == 0 ? 0 : 1800000 + seq);
    u(t, MS_SNAP_PID, 4242);
    s(t, MS_SNAP_AGENT, "memsnap-capture 0.1.0");
    s(t, MS_SNAP_BOOT_ID, "0b5c3a1e-7d2f-4e8a-9c61-2f4d8e7a1b90");
    u(t, MS_SNAP_FLAGS, seq == 0 ? 1 : 0);
    return t;
}

/* ------------------------------------------------------------- files */

static void make_empty(void)
{
    golden_close(golden_open("empty.msnap"));
}

static void make_minimal(void)
{
    ms_writer *w = golden_open("minimal.msnap");
    ok(ms_writer_begin(w), "begin");
    add(w, snapshot_section(0));
    end(w);
    golden_close(w);
}

static void full_host(ms_writer *w)
{
    ms_table *t = tab(MS_SEC_HOST);
    row(t);
    s(t, MS_HOST_NAME, "golden host");
    s(t, MS_HOST_KERNEL, "6.1.0-13-amd64");
    s(t, MS_HOST_KVERSION, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)");
    s(t, MS_HOST_MACHINE, "x86_64");
    u(t, MS_HOST_PAGE_SIZE, 4096);
    u(t, MS_HOST_MEM_TOTAL, UINT64_MAX);
    u(t, MS_HOST_MEM_AVAILABLE, 0);
    u(t, MS_HOST_SWAP_TOTAL, (uint64_t)1 << 63);
    u(t, MS_HOST_SWAP_FREE, ((uint64_t)1 << 63) - 1);
    s(t, MS_HOST_THP_ENABLED, "madvise");
    s(t, MS_HOST_THP_DEFRAG, "");
    i(t, MS_HOST_OVERCOMMIT, INT64_MIN);
    u(t, MS_HOST_NCPU, 1);
    add(w, t);
}

static void full_process(ms_writer *w)
{
    static const char cmdline[] = "python3\0-c\0import time; time.sleep(3600)\0";
    ms_table *t = tab(MS_SEC_PROCESS);
    row(t);
    u(t, MS_PROC_PID, 4242);
    u(t, MS_PROC_PPID, 1);
    u(t, MS_PROC_UID, 1000);
    u(t, MS_PROC_EUID, 0);
    s(t, MS_PROC_COMM, "python3");
    s(t, MS_PROC_EXE, "/usr/bin/python3.11");
    sn(t, MS_PROC_CMDLINE, cmdline, sizeof cmdline - 1);
    u(t, MS_PROC_THREADS, 3);
    i(t, MS_PROC_OOM_SCORE, INT64_MAX);
    i(t, MS_PROC_OOM_SCORE_ADJ, -1000);
    s(t, MS_PROC_STATE, "S");
    u(t, MS_PROC_START_TICKS, UINT64_MAX);
    add(w, t);
}

/* A name/value section (PROC_STATUS, ROLLUP); a NULL unit stores null. */
static void full_kv(ms_writer *w, unsigned type, const char *const *names, const uint64_t *vals,
                    const char *const *units, size_t n)
{
    ms_table *t = tab(type);
    for (size_t k = 0; k < n; k++) {
        row(t);
        s(t, MS_KV_NAME, names[k]);
        u(t, MS_KV_VALUE, vals[k]);
        s(t, MS_KV_UNIT, units[k]);
    }
    add(w, t);
}

static void full_cgroup(ms_writer *w)
{
    ms_table *t = tab(MS_SEC_CGROUP);
    row(t);
    u(t, MS_CG_VERSION, 2);
    s(t, MS_CG_PATH, "/user.slice/user-1000.slice/session 7.scope");
    u(t, MS_CG_CURRENT, 73400320);
    u(t, MS_CG_MAX, UINT64_MAX);
    u(t, MS_CG_HIGH, UINT64_MAX);
    u(t, MS_CG_SWAP_CURRENT, 0);
    u(t, MS_CG_SWAP_MAX, UINT64_MAX);
    u(t, MS_CG_PEAK, 104857600);
    add(w, t);

    static const char *const files[] = {"memory.stat", "memory.stat", "memory.events", "memory.events"};
    static const char *const names[] = {"anon", "file", "oom_kill", "max"};
    static const uint64_t vals[] = {41943040, 31457280, 0, UINT64_MAX};
    t = tab(MS_SEC_CGROUP_STAT);
    for (size_t k = 0; k < 4; k++) {
        row(t);
        s(t, MS_CGS_FILE, files[k]);
        s(t, MS_CGS_NAME, names[k]);
        u(t, MS_CGS_VALUE, vals[k]);
    }
    add(w, t);
}

/* Six mappings; every column set in every row. Row 3 is a live file whose
 * name really ends in " (deleted)"; row 4 is that file after unlink (the
 * kernel's suffix removed, DELETED = 1); row 5 has a non-UTF-8 name; row 2
 * is anonymous (null path); the last row sits at the top of the address
 * space with UINT64_MAX counters. */
static void full_mappings(ms_writer *w)
{
    static const struct {
        uint64_t start, end, perms, offset, major, minor, inode;
        const char *path;
        size_t pathlen;
        uint64_t deleted;
        const char *vmflags;
    } m[] = {
        {0x55d0c0a00000ull, 0x55d0c0a21000ull, 0x15, 0, 8, 1, 1311, "/usr/bin/python3.11", 19, 0,
         "rd ex mr mw me sd"},
        {0x55d0c1b00000ull, 0x55d0c1f42000ull, 0x13, 0, 0, 0, 0, "[heap]", 6, 0, "rd wr mr mw me ac sd"},
        {0x7f1e2c000000ull, 0x7f1e2c021000ull, 0x13, 0, 0, 0, 0, NULL, 0, 0, "rd wr mr mw me nr sd"},
        {0x7f1e2d000000ull, 0x7f1e2d001000ull, 0x11, 4096, 0, 38, 77, "/tmp/a file (deleted)", 21, 0,
         "rd mr mw me sd"},
        {0x7f1e2d001000ull, 0x7f1e2d002000ull, 0x1b, 0, 0, 38, 77, "/tmp/a file (deleted)", 21, 1,
         "rd wr sh mr mw me ms sd"},
        {0x7f1e2e000000ull, 0x7f1e2e010000ull, 0x15, UINT64_MAX, 254, 3, UINT64_MAX,
         "/opt/caf\xe9/lib\x01\x7f\xff.so\n", 20, 0, ""},
        {0xffffffffff600000ull, 0xffffffffff601000ull, 0x14, 0, 0, 0, 0, "[vsyscall]", 10, 0, "ex"},
    };
    ms_table *t = tab(MS_SEC_MAPPINGS);
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        int top = k == sizeof m / sizeof m[0] - 1;
        uint64_t kib = (m[k].end - m[k].start) / 1024;
        row(t);
        u(t, MS_MAP_START, m[k].start);
        u(t, MS_MAP_END, m[k].end);
        u(t, MS_MAP_PERMS, m[k].perms);
        u(t, MS_MAP_OFFSET, m[k].offset);
        u(t, MS_MAP_DEV_MAJOR, m[k].major);
        u(t, MS_MAP_DEV_MINOR, m[k].minor);
        u(t, MS_MAP_INODE, m[k].inode);
        if (m[k].path)
            sn(t, MS_MAP_PATH, m[k].path, m[k].pathlen);
        else
            ok(ms_table_null(t, MS_MAP_PATH), "null");
        u(t, MS_MAP_DELETED, m[k].deleted);
        /* every smaps column, distinct per row and column so a mix-up shows */
        for (unsigned col = MS_MAP_SIZE; col <= MS_MAP_PROTECTION_KEY; col++)
            u(t, col, top ? UINT64_MAX : kib * 1000 + col * 10 + k);
        s(t, MS_MAP_VMFLAGS, m[k].vmflags);
    }
    add(w, t);

    t = tab(MS_SEC_MAPPING_EXTRA);
    row(t);
    u(t, MS_MX_MAPPING, 1);
    s(t, MS_MX_NAME, "FutureKernelField");
    u(t, MS_MX_VALUE, 12);
    s(t, MS_MX_UNIT, "kB");
    ok(ms_table_null(t, MS_MX_TEXT), "null");
    row(t);
    u(t, MS_MX_MAPPING, 6);
    s(t, MS_MX_NAME, "Odd Field");
    u(t, MS_MX_VALUE, 0);
    ok(ms_table_null(t, MS_MX_UNIT), "null");
    s(t, MS_MX_TEXT, "a\tb\\c \"quoted\"\r\n");
    add(w, t);
}

static void full_python(ms_writer *w)
{
    ms_table *t = tab(MS_SEC_PY_RUNTIME);
    row(t);
    s(t, MS_PY_VERSION, "3.11.2");
    u(t, MS_PY_HEXVERSION, 0x030b02f0);
    u(t, MS_PY_FLAGS, 0x9);
    s(t, MS_PY_BINARY, "/usr/bin/python3.11");
    ok(ms_table_null(t, MS_PY_LIBPYTHON), "null");
    s(t, MS_PY_ALLOCATOR, "pymalloc");
    u(t, MS_PY_ARENA_SIZE, 1048576);
    u(t, MS_PY_POOL_SIZE, 16384);
    add(w, t);

    static const struct {
        const char *name, *qualname, *module;
        uint64_t count, size, alloc, flags;
    } ty[] = {
        {"dict", "dict", NULL, 1523, 402112, 421888, 1},
        {"str", NULL, NULL, 40211, 3391432, 3520512, 0},
        {"Thing", "Thing", "app.models", 100000, 5600000, 5600000, 3},
        {"<lambda> with spaces", "m.<locals>.<lambda>", "app.models", 0, 0, 0, 4},
    };
    t = tab(MS_SEC_PY_TYPES);
    for (size_t k = 0; k < sizeof ty / sizeof ty[0]; k++) {
        row(t);
        s(t, MS_TY_NAME, ty[k].name);
        s(t, MS_TY_QUALNAME, ty[k].qualname);
        s(t, MS_TY_MODULE, ty[k].module);
        u(t, MS_TY_COUNT, ty[k].count);
        u(t, MS_TY_SIZEOF, ty[k].size);
        u(t, MS_TY_ALLOCATED, ty[k].alloc);
        u(t, MS_TY_FLAGS, ty[k].flags);
    }
    add(w, t);

    t = tab(MS_SEC_PY_MODULES);
    row(t);
    s(t, MS_MOD_NAME, "sys");
    ok(ms_table_null(t, MS_MOD_FILE), "null");
    u(t, MS_MOD_FLAGS, 0);
    row(t);
    s(t, MS_MOD_NAME, "_json");
    s(t, MS_MOD_FILE, "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so");
    u(t, MS_MOD_FLAGS, 1);
    row(t);
    s(t, MS_MOD_NAME, "caf\xc3\xa9"); /* UTF-8 "café" */
    s(t, MS_MOD_FILE, "/srv/app/caf\xc3\xa9.py");
    u(t, MS_MOD_FLAGS, 0);
    add(w, t);

    t = tab(MS_SEC_PY_SIZE_CLASSES);
    for (uint64_t k = 0; k < 3; k++) {
        row(t);
        u(t, MS_SC_INDEX, k);
        u(t, MS_SC_BLOCK_SIZE, 16 * (k + 1));
        u(t, MS_SC_POOLS, 10 - k);
        u(t, MS_SC_BLOCKS_USED, 9000 - 1000 * k);
        u(t, MS_SC_BLOCKS_FREE, 7 * k);
    }
    add(w, t);

    t = tab(MS_SEC_PY_ARENAS);
    for (uint64_t k = 0; k < 2; k++) {
        row(t);
        u(t, MS_AR_ADDRESS, 0x7f1e30000000ull + k * 0x100000);
        u(t, MS_AR_POOLS_USED, 60 - k * 20);
        u(t, MS_AR_POOLS_FREE, 4 + k * 20);
        u(t, MS_AR_POOLS_TOTAL, 64);
        u(t, MS_AR_LIVE_BYTES, 900000 - k * 300000);
    }
    add(w, t);

    t = tab(MS_SEC_PY_ALLOC_TOTALS);
    row(t);
    for (unsigned col = MS_AT_ARENAS; col <= MS_AT_ARENA_BYTES; col++)
        u(t, col, col == MS_AT_ARENA_BYTES ? UINT64_MAX : col * 1000003ull);
    add(w, t);

    static const uint64_t gc[4][5] = {
        {0, 512, 700, 512, 0}, {1, 3, 10, 2048, 0}, {2, 1, 10, 90000, 1}, {3, 0, 0, 0, 0}};
    t = tab(MS_SEC_PY_GC);
    for (size_t k = 0; k < 4; k++) {
        row(t);
        for (unsigned col = MS_GC_GENERATION; col <= MS_GC_COLLECTING; col++) u(t, col, gc[k][col - 1]);
    }
    add(w, t);
}

static void full_diagnostics(ms_writer *w)
{
    static const char *const area[] = {"smaps", "cgroup", "python.pymalloc", "python.types", "agent"};
    static const char *const msg[] = {
        "complete",
        "memory.peak unreadable: using memory.max_usage_in_bytes",
        "pymalloc arenas not found (stripped binary); Python sections are approximate",
        "the target was not paused: counts are best-effort",
        "multi-line\nmessage with a NUL-free tab\there",
    };
    ms_table *t = tab(MS_SEC_DIAGNOSTICS);
    for (uint64_t k = 0; k < 5; k++) {
        row(t);
        s(t, MS_DG_AREA, area[k]);
        u(t, MS_DG_STATUS, k);
        s(t, MS_DG_MESSAGE, msg[k]);
    }
    add(w, t);
}

static void make_full(void)
{
    static const char *const st_names[] = {"VmPeak", "VmRSS", "RssAnon", "Threads", "VmSwap"};
    static const uint64_t st_vals[] = {226304, 71680, 65536, 3, 0};
    static const char *const st_units[] = {"kB", "kB", "kB", NULL, "kB"};
    static const char *const ru_names[] = {"Rss", "Pss", "Pss_Anon", "Swap", "Locked"};
    static const uint64_t ru_vals[] = {71680, 70012, 65536, 0, UINT64_MAX};
    static const char *const ru_units[] = {"kB", "kB", "kB", "kB", "kB"};
    ms_writer *w = golden_open("full.msnap");
    ok(ms_writer_begin(w), "begin");
    add(w, snapshot_section(0));
    full_host(w);
    full_process(w);
    full_kv(w, MS_SEC_PROC_STATUS, st_names, st_vals, st_units, 5);
    full_cgroup(w);
    full_mappings(w);
    full_kv(w, MS_SEC_ROLLUP, ru_names, ru_vals, ru_units, 5);
    full_python(w);
    full_diagnostics(w);
    end(w);
    golden_close(w);
}

/* Snapshot `seq` of a process whose heap grows, one minute apart. */
static void series_snapshot(ms_writer *w, uint64_t seq)
{
    uint64_t heap_kib = 4096 + seq * seq * 1024;
    ok(ms_writer_begin(w), "begin");
    add(w, snapshot_section(seq));

    ms_table *t = tab(MS_SEC_PROCESS);
    row(t);
    u(t, MS_PROC_PID, 4242);
    u(t, MS_PROC_PPID, 1);
    s(t, MS_PROC_COMM, "python3");
    u(t, MS_PROC_THREADS, 1 + seq % 3);
    add(w, t);

    t = tab(MS_SEC_MAPPINGS);
    static const char *const paths[] = {"/usr/bin/python3.11", "[heap]", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                        "[stack]"};
    uint64_t starts[] = {0x55d0c0a00000ull, 0x55d0c1b00000ull, 0x7f1e2d400000ull, 0x7ffc1e000000ull};
    uint64_t kibs[] = {132, heap_kib, 1652, 132};
    for (size_t k = 0; k < 4; k++) {
        row(t);
        u(t, MS_MAP_START, starts[k]);
        u(t, MS_MAP_END, starts[k] + kibs[k] * 1024);
        u(t, MS_MAP_PERMS, k == 1 || k == 3 ? 0x13 : 0x15);
        s(t, MS_MAP_PATH, paths[k]);
        u(t, MS_MAP_SIZE, kibs[k]);
        u(t, MS_MAP_RSS, k == 1 ? heap_kib - 100 * seq : kibs[k] / 2);
        u(t, MS_MAP_PSS, k == 1 ? heap_kib - 100 * seq : kibs[k] / 4);
    }
    add(w, t);

    t = tab(MS_SEC_ROLLUP);
    row(t);
    s(t, MS_KV_NAME, "Rss");
    u(t, MS_KV_VALUE, heap_kib - 100 * seq + 66 + 826 + 66);
    s(t, MS_KV_UNIT, "kB");
    add(w, t);

    t = tab(MS_SEC_PY_GC);
    for (uint64_t g = 0; g < 3; g++) {
        row(t);
        u(t, MS_GC_GENERATION, g);
        u(t, MS_GC_COUNT, (seq * 97 + g * 13) % 700);
    }
    add(w, t);
    end(w);
}

/* Five snapshots one minute apart of a process whose heap grows. */
static void make_series(void)
{
    ms_writer *w = golden_open("series.msnap");
    for (uint64_t seq = 0; seq < 5; seq++) series_snapshot(w, seq);
    golden_close(w);
}

/* A file begun by a 1.0 writer (codec 1) and continued by a 1.1 writer
 * (codec 2), which keeps the existing header (SPEC.md 7). */
static void make_mixed(void)
{
    char path[4096], msg[512];
    int err;
    snprintf(path, sizeof path, "%s/mixed.msnap", out_dir);
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, GOLDEN_WRITER, GOLDEN_ZLEVEL | MS_ZLEVEL_NO_DICT, &err, msg,
                                  sizeof msg);
    if (!w) gc_die(path, msg);
    series_snapshot(w, 0);
    series_snapshot(w, 1);
    golden_close(w);
    w = ms_writer_open(path, MS_APPEND, "memsnap-golden 1.1", GOLDEN_ZLEVEL, &err, msg, sizeof msg);
    if (!w) gc_die(path, msg);
    series_snapshot(w, 2);
    series_snapshot(w, 3);
    golden_close(w);
}

/* The payload of forward.msnap's second snapshot and forward_minor's
 * only one, built by hand: what no 1.0 writer emits but a 1.x file may
 * hold. */
static void forward_payload(gc_buf *p, uint64_t seq)
{
    static const char *const strs[] = {"memsnap-capture 1.9.0", "python3", "new-string"};
    static const size_t lens[] = {21, 7, 10};
    gc_buf b = {0}, d = {0};
    gc_strings(p, strs, lens, 3);

    /* the snapshot section, flagged required (known: must be read) */
    gc_table(&b, 1, 4);
    gc_column_varints(&b, MS_SNAP_SEQ, GC_ENC(GC_U64, GC_PLAIN), &seq, 1);
    uint64_t pid = 4242, agent = 1, future = 77;
    gc_column_varints(&b, MS_SNAP_PID, GC_ENC(GC_U64, GC_PLAIN), &pid, 1);
    gc_column_varints(&b, MS_SNAP_AGENT, GC_ENC(GC_STR, GC_PLAIN), &agent, 1);
    gc_column_varints(&b, 40, GC_ENC(GC_U64, GC_PLAIN), &future, 1); /* unknown column, known encoding: kept */
    gc_section(p, MS_SEC_SNAPSHOT, GC_SEC_REQUIRED, &b);

    /* a one-row known section with an unknown column in an unknown encoding */
    b.len = 0;
    gc_put(&d, GC_LIT("\x00\x01\x02\x03 any bytes a newer encoding may hold"));
    uint64_t comm = 2, ticks = gc_zigzag(1000);
    gc_table(&b, 1, 4);
    gc_column_varints(&b, MS_PROC_PID, GC_ENC(GC_U64, GC_PLAIN), &pid, 1);
    gc_column_varints(&b, MS_PROC_COMM, GC_ENC(GC_STR, GC_PLAIN), &comm, 1);
    gc_column_varints(&b, MS_PROC_START_TICKS, GC_ENC(GC_U64, GC_DELTA), &ticks, 1);
    gc_column(&b, 100, GC_ENC(GC_U64, 9), &d); /* method 9: unknown, skipped */
    gc_section(p, MS_SEC_PROCESS, 0, &b);

    /* a many-row known section: unknown columns in unknown encodings
       (skipped) and in a known one (kept) */
    b.len = 0;
    uint64_t starts[] = {gc_zigzag(0x400000), gc_zigzag(0x1000)}, paths[] = {2, 0},
             svar[] = {gc_zigzag(-5), gc_zigzag(5)};
    gc_table(&b, 2, 5);
    gc_column_varints(&b, MS_MAP_START, GC_ENC(GC_U64, GC_DELTA), starts, 2);
    gc_column_varints(&b, MS_MAP_PATH, GC_ENC(GC_STR, GC_PLAIN), paths, 2);
    gc_column(&b, 101, 200, &d); /* encoding 200 (bit 7 set): unknown, skipped */
    gc_column_varints(&b, 102, GC_ENC(GC_I64, GC_PLAIN), svar, 2);
    gc_column(&b, 103, 0, &d);   /* encoding 0 (type 0): undefined, skipped */
    gc_section(p, MS_SEC_MAPPINGS, 0, &b);

    /* unknown section types: a table-shaped one, a free-form one, an empty one */
    b.len = 0;
    uint64_t uvar[] = {3, 1};
    gc_table(&b, 2, 2);
    gc_column_varints(&b, 1, GC_ENC(GC_U64, GC_PLAIN), uvar, 2);
    gc_column_varints(&b, 2, GC_ENC(GC_I64, GC_PLAIN), svar, 2);
    gc_section(p, MS_SEC_MAX_KNOWN + 1, 0, &b);
    b.len = 0;
    gc_put(&b, GC_LIT("\xff\xfe not a table at all \x00\x80"));
    gc_section(p, 4097, 0, &b);
    b.len = 0;
    gc_section(p, 65535, 0, &b);
    gc_free(&b);
    gc_free(&d);
}

static void make_forward(void)
{
    /* snapshot 0: through the writer, which keeps unknown types and ids */
    ms_writer *w = golden_open("forward.msnap");
    ok(ms_writer_begin(w), "begin");
    ms_table *t = snapshot_section(0);
    u(t, 11, 123456789);             /* unknown column ids in a known section */
    s(t, 12, "a future string column");
    i(t, 13, -42);
    add(w, t);
    t = tab(MS_SEC_PROCESS);
    row(t);
    u(t, MS_PROC_PID, 4242);
    u(t, 65535, UINT64_MAX);
    add(w, t);
    static const unsigned types[] = {MS_SEC_MAX_KNOWN + 1, 1000, 65535};
    for (size_t k = 0; k < 3; k++) {
        t = tab(types[k]);
        for (uint64_t r = 0; r < 2; r++) {
            row(t);
            u(t, 1, r + k);
            i(t, 2, -(int64_t)r);
            s(t, 3, r ? "row one" : "row zero");
        }
        add(w, t);
    }
    end(w);
    golden_close(w);

    /* snapshot 1: by hand, appended */
    char path[4096];
    snprintf(path, sizeof path, "%s/forward.msnap", out_dir);
    size_t n;
    unsigned char *f = gc_read_file(path, &n);
    gc_buf file = {0}, p = {0};
    gc_put(&file, f, n);
    forward_payload(&p, 1);
    gc_record(&file, &p);
    gc_write_file(path, file.p, file.len);
    free(f);
    gc_free(&file);
    gc_free(&p);
}

static void make_forward_minor(void)
{
    gc_buf file = {0}, p = {0};
    /* 1.1 may lengthen the file and record headers: fields a 1.0 reader skips */
    gc_file_header(&file, 1, 1, "memsnap-capture 1.9.0", GC_LIT("\x01\x02\x03\x04v1.1"));
    forward_payload(&p, 0);
    gc_record_ext(&file, &p, GC_LIT("\xde\xad\xbe\xef record v1.1"));
    char path[4096];
    snprintf(path, sizeof path, "%s/forward_minor.msnap", out_dir);
    gc_write_file(path, file.p, file.len);
    gc_free(&file);
    gc_free(&p);
}

/* ----------------------------------------------------------- methods.msnap */

/* Every column encoding of SPEC.md 5.3 (type, method, shift), in a payload
 * built by hand from the spec's formulas (snapshot 1), after a snapshot the
 * writer encoded itself (snapshot 0: intervals, spans, references between
 * columns, new strings). make_golden then reads the file back with the
 * library and checks every value against the ones written here. */

#define MR 5 /* rows of the hand-made mappings section */

static const uint64_t m_start[MR] = {0x400000, 0x402000, 0x410000, 0x410000 + 0x3000, 0x7f0000000000};
static const uint64_t m_end[MR] = {0x402000, 0x404000, 0x413000, 0x410000 + 0x5000, 0x7f0000100000};
static const uint64_t m_offset[MR] = {0, 0x2000, 0, 0x7000, 0};
static const uint64_t m_dev[MR] = {8, 8, 0, 254, 254};
static const uint64_t m_inode[MR] = {800, 808, 0, 8, 800};
static const uint64_t m_size[MR] = {8, 8, 12, 9, 1024}; /* row 3: not the span (8) */
static const uint64_t m_rss[MR] = {8, 4, 12, 1, 1024};
static const uint64_t m_pss[MR] = {8, 2, 12, 0, 1000};
static const uint64_t m_path[MR] = {1, 2, 0, 3, 1};  /* string indices */
static const uint64_t m_vmf[MR] = {4, 5, 5, 4, 6};
static const int64_t m_i200[MR] = {-32, 16, 0, INT64_MIN, 4096};  /* multiples of 16 */
static const int64_t m_i201[MR] = {INT64_MAX, INT64_MIN, -1, 0, 1}; /* wrapping differences */
static const int64_t m_i203[MR] = {-30, 20, 0, INT64_MIN + 2, 4096}; /* m_i200 + 2 * small */
static const int64_t m_i204[MR] = {-100, -90, -60, -52, 0};     /* sorted intervals, gaps of 4s */
static const int64_t m_i205[MR] = {-90, -60, -56, -40, 8};
static const uint64_t m_s208[MR] = {1, 2, 3, 3, 1};             /* path, one row off */

/* zigzag of a - b (wrapping), shifted right by k first */
static uint64_t zz(uint64_t a, uint64_t b, unsigned k)
{
    return gc_zigzag((int64_t)(a - b) >> k);
}

static void methods_payload(gc_buf *p)
{
    static const char *const strs[] = {"/usr/lib/libc.so.6", "[heap]", "/srv/app/data.bin",
                                       "rd mr mw me", "rd ex mr mw me", "rd wr mr mw me ac"};
    static const size_t lens[] = {18, 6, 17, 11, 14, 17};
    gc_buf b = {0};
    gc_strings(p, strs, lens, 6);
    uint64_t seq = 1;
    gc_table(&b, 1, 1);
    gc_column_varints(&b, MS_SNAP_SEQ, GC_ENC(GC_U64, GC_PLAIN), &seq, 1);
    gc_section(p, MS_SEC_SNAPSHOT, 0, &b);

    b.len = 0;
    gc_table(&b, MR, 21);
    uint64_t x[MR], prm[3];
    /* start GAP after the previous end, end REF start: both in pages (shift 12) */
    for (int r = 0; r < MR; r++) x[r] = zz(m_start[r], r ? m_end[r - 1] : 0, 12);
    gc_column_params(&b, MS_MAP_START, GC_ENC(GC_U64, GC_GAP) | GC_SHIFTED, 12, NULL, 0, x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz(m_end[r], m_start[r], 12);
    prm[0] = MS_MAP_START;
    gc_column_params(&b, MS_MAP_END, GC_ENC(GC_U64, GC_REF) | GC_SHIFTED, 12, prm, 1, x, MR);
    x[0] = 21; /* r-xp */
    gc_column_varints(&b, MS_MAP_PERMS, GC_ENC(GC_U64, GC_CONST), x, 1);
    for (int r = 0; r < MR; r++) x[r] = m_offset[r] >> 12;
    gc_column_params(&b, MS_MAP_OFFSET, GC_ENC(GC_U64, GC_PLAIN) | GC_SHIFTED, 12, NULL, 0, x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz(m_dev[r], r ? m_dev[r - 1] : 0, 0);
    gc_column_varints(&b, MS_MAP_DEV_MAJOR, GC_ENC(GC_U64, GC_DELTA), x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz(m_inode[r], r ? m_inode[r - 1] : 0, 3);
    gc_column_params(&b, MS_MAP_INODE, GC_ENC(GC_U64, GC_DELTA) | GC_SHIFTED, 3, NULL, 0, x, MR);
    {   /* SEQ: 0 null, 1 the string after the largest index so far, else index + 1 */
        uint64_t m = 0;
        for (int r = 0; r < MR; r++) {
            x[r] = !m_path[r] ? 0 : m_path[r] == m + 1 ? 1 : m_path[r] + 1;
            if (m_path[r] > m) m = m_path[r];
        }
        gc_column_varints(&b, MS_MAP_PATH, GC_ENC(GC_STR, GC_SEQ), x, MR);
    }
    for (int r = 0; r < MR; r++) x[r] = zz(m_size[r], (m_end[r] - m_start[r]) >> 10, 0);
    prm[0] = MS_MAP_END, prm[1] = MS_MAP_START;
    {   /* SPAN: a, b, then s as one byte */
        gc_buf d = {0};
        gc_varint(&d, prm[0]);
        gc_varint(&d, prm[1]);
        gc_u8(&d, 10);
        for (int r = 0; r < MR; r++) gc_varint(&d, x[r]);
        gc_column(&b, MS_MAP_SIZE, GC_ENC(GC_U64, GC_SPAN), &d);
        gc_free(&d);
    }
    for (int r = 0; r < MR; r++) x[r] = zz(m_rss[r], m_size[r], 2);
    prm[0] = MS_MAP_SIZE;
    gc_column_params(&b, MS_MAP_RSS, GC_ENC(GC_U64, GC_REF) | GC_SHIFTED, 2, prm, 1, x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz(m_pss[r], m_rss[r], 0);
    prm[0] = MS_MAP_RSS;
    gc_column_params(&b, MS_MAP_PSS, GC_ENC(GC_U64, GC_REF), 0, prm, 1, x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz(m_vmf[r], r ? m_vmf[r - 1] : 0, 0);
    gc_column_varints(&b, MS_MAP_VMFLAGS, GC_ENC(GC_STR, GC_DELTA), x, MR);
    /* unknown ids: the signed methods and the string ones not used above */
    for (int r = 0; r < MR; r++) x[r] = gc_zigzag(m_i200[r] >> 4);
    gc_column_params(&b, 200, GC_ENC(GC_I64, GC_PLAIN) | GC_SHIFTED, 4, NULL, 0, x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz((uint64_t)m_i201[r], r ? (uint64_t)m_i201[r - 1] : 0, 0);
    gc_column_varints(&b, 201, GC_ENC(GC_I64, GC_DELTA), x, MR);
    x[0] = gc_zigzag(-7);
    gc_column_varints(&b, 202, GC_ENC(GC_I64, GC_CONST), x, 1);
    for (int r = 0; r < MR; r++) x[r] = zz((uint64_t)m_i203[r], (uint64_t)m_i200[r], 1);
    prm[0] = 200;
    gc_column_params(&b, 203, GC_ENC(GC_I64, GC_REF) | GC_SHIFTED, 1, prm, 1, x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz((uint64_t)m_i204[r], r ? (uint64_t)m_i205[r - 1] : 0, 2);
    gc_column_params(&b, 204, GC_ENC(GC_I64, GC_GAP) | GC_SHIFTED, 2, NULL, 0, x, MR);
    for (int r = 0; r < MR; r++) x[r] = zz((uint64_t)m_i205[r], (uint64_t)m_i204[r], 0);
    prm[0] = 204;
    gc_column_params(&b, 205, GC_ENC(GC_I64, GC_REF), 0, prm, 1, x, MR);
    {   /* SPAN of the signed pair, halved, plus a residual of 1 in row 2 */
        gc_buf d = {0};
        gc_varint(&d, 205);
        gc_varint(&d, 204);
        gc_u8(&d, 1);
        for (int r = 0; r < MR; r++) gc_varint(&d, r == 2 ? gc_zigzag(1) : 0);
        gc_column(&b, 206, GC_ENC(GC_I64, GC_SPAN), &d);
        gc_free(&d);
    }
    x[0] = 3;
    gc_column_varints(&b, 207, GC_ENC(GC_STR, GC_CONST), x, 1);
    for (int r = 0; r < MR; r++) x[r] = zz(m_s208[r], m_path[r], 0);
    prm[0] = MS_MAP_PATH;
    gc_column_params(&b, 208, GC_ENC(GC_STR, GC_REF), 0, prm, 1, x, MR);
    gc_column_varints(&b, 209, GC_ENC(GC_STR, GC_PLAIN), m_vmf, MR);
    gc_section(p, MS_SEC_MAPPINGS, 0, &b);
    gc_free(&b);
}

static void check_u64(const ms_section *sec, unsigned col, int r, uint64_t want)
{
    uint64_t v;
    int64_t iv;
    ms_coltype ct = 0;
    for (size_t k = 0; k < ms_section_ncols(sec); k++) {
        unsigned id;
        ms_coltype t;
        ms_section_col_at(sec, k, &id, &t);
        if (id == col) ct = t;
    }
    int ok1 = ct == MS_T_I64 ? ms_get_i64(sec, col, (size_t)r, &iv) && (uint64_t)iv == want
                             : ms_get_u64(sec, col, (size_t)r, &v) && v == want;
    if (!ok1) {
        char what[64];
        snprintf(what, sizeof what, "column %u row %d", col, r);
        gc_die("methods.msnap reads back wrong", what);
    }
}

static void check_str(const ms_section *sec, unsigned col, int r, uint64_t want_idx, const char *const *strs)
{
    const char *p;
    size_t n;
    if (!ms_get_str(sec, col, (size_t)r, &p, &n) ||
        (want_idx ? !p || n != strlen(strs[want_idx - 1]) || memcmp(p, strs[want_idx - 1], n) : p != NULL)) {
        char what[64];
        snprintf(what, sizeof what, "string column %u row %d", col, r);
        gc_die("methods.msnap reads back wrong", what);
    }
}

static void make_methods(void)
{
    /* snapshot 0: a small process, encoded by the writer */
    ms_writer *w = golden_open("methods.msnap");
    ok(ms_writer_begin(w), "begin");
    add(w, snapshot_section(0));
    ms_table *t = tab(MS_SEC_MAPPINGS);
    static const char *const paths[] = {"/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                        "/usr/lib/x86_64-linux-gnu/libm.so.6", "[heap]"};
    uint64_t addr = 0x55d0c3a4e000ull;
    for (uint64_t r = 0; r < 120; r++) {
        uint64_t pages = 1 + (r * 37 % 23) * (r % 5 ? 1 : 64), rss = r % 3 ? pages * 4 : (r * 7 % (pages + 1)) * 4;
        row(t);
        u(t, MS_MAP_START, addr);
        u(t, MS_MAP_END, addr + pages * 4096);
        u(t, MS_MAP_PERMS, r % 4 == 1 ? 21 : 19);
        u(t, MS_MAP_OFFSET, r % 4 ? 0 : (r / 4) * 4096);
        s(t, MS_MAP_PATH, r % 4 == 3 ? NULL : paths[r / 30]);
        u(t, MS_MAP_SIZE, pages * 4);
        u(t, MS_MAP_KERNEL_PAGE_SIZE, 4);
        u(t, MS_MAP_RSS, rss);
        u(t, MS_MAP_PSS, r % 7 ? rss : rss / 2);
        u(t, MS_MAP_PRIVATE_DIRTY, r % 4 == 1 ? 0 : rss);
        s(t, MS_MAP_VMFLAGS, r % 4 == 1 ? "rd ex mr mw me" : "rd wr mr mw me ac");
        addr += pages * 4096 + (r % 6 ? 0 : 4096 * (r % 11));
    }
    add(w, t);
    t = tab(MS_SEC_PY_TYPES);
    static const char *const words[] = {"Node", "Tree", "Cache", "Item", "Order", "User"};
    char name[64], module[64];
    for (uint64_t r = 0; r < 90; r++) {
        snprintf(name, sizeof name, "%s%s", words[r % 6], words[(r * 5 / 6) % 6]);
        snprintf(module, sizeof module, "app.%s", words[r / 15]);
        row(t);
        s(t, MS_TY_NAME, name);
        s(t, MS_TY_QUALNAME, name);
        s(t, MS_TY_MODULE, module);
        u(t, MS_TY_COUNT, 1 + r * r * 13 % 1000);
        u(t, MS_TY_SIZEOF, (1 + r * r * 13 % 1000) * 56);
        u(t, MS_TY_FLAGS, 1);
    }
    add(w, t);
    end(w);
    golden_close(w);

    /* snapshot 1: every encoding, by hand, appended */
    char path[4096];
    snprintf(path, sizeof path, "%s/methods.msnap", out_dir);
    size_t n;
    unsigned char *f = gc_read_file(path, &n);
    gc_buf file = {0}, p = {0};
    gc_put(&file, f, n);
    methods_payload(&p);
    gc_record(&file, &p);
    gc_write_file(path, file.p, file.len);
    free(f);
    gc_free(&file);
    gc_free(&p);

    /* read it back: the hand-made values must come out as written above */
    int err;
    char msg[512];
    ms_reader *r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    if (!r) gc_die(path, msg);
    ms_snapshot *s0, *s1;
    if (ms_reader_next(r, &s0) || ms_reader_next(r, &s1)) gc_die(path, ms_reader_error(r));
    static const char *const strs[] = {"/usr/lib/libc.so.6", "[heap]", "/srv/app/data.bin",
                                       "rd mr mw me", "rd ex mr mw me", "rd wr mr mw me ac"};
    const ms_section *sec = ms_snapshot_section(s1, MS_SEC_MAPPINGS);
    if (!sec || ms_section_nrows(sec) != MR || ms_section_ncols(sec) != 21) gc_die(path, "mappings shape");
    for (int k = 0; k < MR; k++) {
        check_u64(sec, MS_MAP_START, k, m_start[k]);
        check_u64(sec, MS_MAP_END, k, m_end[k]);
        check_u64(sec, MS_MAP_PERMS, k, 21);
        check_u64(sec, MS_MAP_OFFSET, k, m_offset[k]);
        check_u64(sec, MS_MAP_DEV_MAJOR, k, m_dev[k]);
        check_u64(sec, MS_MAP_INODE, k, m_inode[k]);
        check_str(sec, MS_MAP_PATH, k, m_path[k], strs);
        check_u64(sec, MS_MAP_SIZE, k, m_size[k]);
        check_u64(sec, MS_MAP_RSS, k, m_rss[k]);
        check_u64(sec, MS_MAP_PSS, k, m_pss[k]);
        check_str(sec, MS_MAP_VMFLAGS, k, m_vmf[k], strs);
        check_u64(sec, 200, k, (uint64_t)m_i200[k]);
        check_u64(sec, 201, k, (uint64_t)m_i201[k]);
        check_u64(sec, 202, k, (uint64_t)-7);
        check_u64(sec, 203, k, (uint64_t)m_i203[k]);
        check_u64(sec, 204, k, (uint64_t)m_i204[k]);
        check_u64(sec, 205, k, (uint64_t)m_i205[k]);
        check_u64(sec, 206, k, (uint64_t)((m_i205[k] - m_i204[k]) / 2 + (k == 2 ? 1 : 0)));
        check_str(sec, 207, k, 3, strs);
        check_str(sec, 208, k, m_s208[k], strs);
        check_str(sec, 209, k, m_vmf[k], strs);
    }
    if (ms_reader_next(r, &s1) != MS_ERR_END) gc_die(path, "more than two snapshots");
    ms_snapshot_free(s0);
    ms_snapshot_free(s1);
    ms_reader_close(r);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_golden OUTDIR (writes OUTDIR/v1.0/ and OUTDIR/v1.1/)\n");
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/v1.0", argv[1]);
    out_dir = dir;
    zlevel = GOLDEN_ZLEVEL | MS_ZLEVEL_NO_DICT;
    writer = GOLDEN_WRITER;
    make_empty();
    make_minimal();
    make_full();
    make_series();
    make_forward();
    make_forward_minor();
    make_methods();

    snprintf(dir, sizeof dir, "%s/v1.1", argv[1]);
    zlevel = GOLDEN_ZLEVEL;
    writer = "memsnap-golden 1.1";
    make_full();
    make_series();
    make_mixed();
    return 0;
}

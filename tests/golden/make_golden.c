/*
 * make_golden.c - writes the v1.0 golden files (tests/golden/README.md).
 *
 * Usage: make_golden OUTDIR. Run once, by hand, when a format version is
 * released; its output is committed under tests/golden/vMAJOR.MINOR/ and
 * from then on the committed bytes are the truth, not this program: tests
 * never run it. It is kept to show how each file was made and to make
 * the next version's files. Every value is fixed (ids, times, sizes; zstd
 * level 3), so a run gives the same content on every machine.
 *
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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_craft.h"
#include "msnap.h"

#define GOLDEN_WRITER "memsnap-golden 1.0"
#define GOLDEN_ZLEVEL 3

static const char *out_dir;

static void ok(int rc, const char *what)
{
    if (rc) gc_die(what, ms_strerror(rc));
}

static ms_writer *golden_open(const char *name)
{
    char path[4096], msg[512];
    int err;
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, GOLDEN_WRITER, GOLDEN_ZLEVEL, &err, msg, sizeof msg);
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

/* Five snapshots one minute apart of a process whose heap grows. */
static void make_series(void)
{
    ms_writer *w = golden_open("series.msnap");
    for (uint64_t seq = 0; seq < 5; seq++) {
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
    gc_column_varints(&b, MS_SNAP_SEQ, GC_UVAR, &seq, 1);
    uint64_t pid = 4242, agent = 1, future = 77;
    gc_column_varints(&b, MS_SNAP_PID, GC_UVAR, &pid, 1);
    gc_column_varints(&b, MS_SNAP_AGENT, GC_STRREF, &agent, 1);
    gc_column_varints(&b, 40, GC_UVAR, &future, 1); /* unknown column, known encoding: kept */
    gc_section(p, MS_SEC_SNAPSHOT, GC_SEC_REQUIRED, &b);

    /* a one-row known section with an unknown column in an unknown encoding */
    b.len = 0;
    gc_put(&d, GC_LIT("\x00\x01\x02\x03 any bytes a newer encoding may hold"));
    uint64_t comm = 2, ticks = gc_zigzag(1000);
    gc_table(&b, 1, 4);
    gc_column_varints(&b, MS_PROC_PID, GC_UVAR, &pid, 1);
    gc_column_varints(&b, MS_PROC_COMM, GC_STRREF, &comm, 1);
    gc_column_varints(&b, MS_PROC_START_TICKS, GC_UDELTA, &ticks, 1);
    gc_column(&b, 100, 5, &d); /* encoding 5: unknown, skipped */
    gc_section(p, MS_SEC_PROCESS, 0, &b);

    /* a many-row known section: unknown columns in unknown encodings
       (skipped) and in a known one (kept) */
    b.len = 0;
    uint64_t starts[] = {gc_zigzag(0x400000), gc_zigzag(0x1000)}, paths[] = {2, 0},
             svar[] = {gc_zigzag(-5), gc_zigzag(5)};
    gc_table(&b, 2, 5);
    gc_column_varints(&b, MS_MAP_START, GC_UDELTA, starts, 2);
    gc_column_varints(&b, MS_MAP_PATH, GC_STRREF, paths, 2);
    gc_column(&b, 101, 200, &d); /* encoding 200: unknown, skipped */
    gc_column_varints(&b, 102, GC_SVAR, svar, 2);
    gc_column(&b, 103, 0, &d);   /* encoding 0: undefined, skipped */
    gc_section(p, MS_SEC_MAPPINGS, 0, &b);

    /* unknown section types: a table-shaped one, a free-form one, an empty one */
    b.len = 0;
    uint64_t uvar[] = {3, 1};
    gc_table(&b, 2, 2);
    gc_column_varints(&b, 1, GC_UVAR, uvar, 2);
    gc_column_varints(&b, 2, GC_SVAR, svar, 2);
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_golden OUTDIR\n");
        return 2;
    }
    out_dir = argv[1];
    make_empty();
    make_minimal();
    make_full();
    make_series();
    make_forward();
    make_forward_minor();
    return 0;
}

/*
 * analyze_test_util.c - see analyze_test_util.h.
 */
#include "analyze_test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema.h"

/* ----------------------------------------------------------------- files */

char *at_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(4096);
    assert_non_null(p);
    snprintf(p, 4096, "%s/msanalyze-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(p));
    return p;
}

void at_rmdir(char *dir)
{
    if (!dir) return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = at_path(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

char *at_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

unsigned char *at_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    assert_true(n >= 0);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* ------------------------------------------------------- full snapshots */

void at_full_id(unsigned seq, unsigned char id[16])
{
    for (int i = 0; i < 16; i++) id[i] = (unsigned char)(0xa0 + i * 7 + seq * 13);
}

static void add(ms_writer *w, ms_table *t)
{
    at_ok(ms_writer_add(w, t));
    ms_table_free(t);
}

/* A mapping row: every column set, values derived from (seq, row). */
static void map_row(ms_table *t, unsigned seq, unsigned row, uint64_t start, uint64_t end, unsigned perms,
                    const char *path, size_t pathlen, uint64_t inode, int deleted)
{
    at_ok(ms_table_row(t));
    at_ok(ms_table_u64(t, MS_MAP_START, start));
    at_ok(ms_table_u64(t, MS_MAP_END, end));
    at_ok(ms_table_u64(t, MS_MAP_PERMS, perms));
    at_ok(ms_table_u64(t, MS_MAP_OFFSET, row * 4096u));
    at_ok(ms_table_u64(t, MS_MAP_DEV_MAJOR, inode ? 0xfe : 0));
    at_ok(ms_table_u64(t, MS_MAP_DEV_MINOR, inode ? 0x1 + row : 0));
    at_ok(ms_table_u64(t, MS_MAP_INODE, inode));
    if (path)
        at_ok(ms_table_str(t, MS_MAP_PATH, path, pathlen));
    else
        at_ok(ms_table_null(t, MS_MAP_PATH));
    at_ok(ms_table_u64(t, MS_MAP_DELETED, (uint64_t)deleted));
    /* the smaps figures (KiB): distinct per column, row and snapshot */
    for (unsigned col = MS_MAP_SIZE; col <= MS_MAP_LOCKED; col++)
        at_ok(ms_table_u64(t, col, (uint64_t)col * 100 + row * 10 + seq));
    at_ok(ms_table_u64(t, MS_MAP_THP_ELIGIBLE, row & 1));
    at_ok(ms_table_u64(t, MS_MAP_PROTECTION_KEY, row % 3));
    at_ok(ms_table_cstr(t, MS_MAP_VMFLAGS, row & 1 ? "rd ex mr mw me" : "rd wr mr mw me ac"));
}

#define EXT_PATH "/usr/lib/python3.12/lib-dynload/_json.cpython-312-x86_64-linux-gnu.so"
#define ARENA_MAP_START 0x7f1000000000u

void at_write_full(ms_writer *w, unsigned seq)
{
    ms_table *t;
    at_ok(ms_writer_begin(w));

    t = ms_table_new(MS_SEC_SNAPSHOT);
    unsigned char id[16];
    at_full_id(seq, id);
    at_ok(ms_table_row(t));
    at_ok(ms_table_str(t, MS_SNAP_ID, id, sizeof id));
    at_ok(ms_table_u64(t, MS_SNAP_SEQ, seq));
    at_ok(ms_table_u64(t, MS_SNAP_WALL_NS, 1767225600123456789u + (uint64_t)seq * 1000000000u));
    at_ok(ms_table_u64(t, MS_SNAP_MONO_NS, 987654321000u + seq));
    at_ok(ms_table_u64(t, MS_SNAP_DURATION_NS, 1500000u + seq));
    at_ok(ms_table_u64(t, MS_SNAP_PAUSE_NS, 250000u + seq));
    at_ok(ms_table_u64(t, MS_SNAP_PID, 4242));
    at_ok(ms_table_cstr(t, MS_SNAP_AGENT, "memsnap-capture 0.1.0"));
    at_ok(ms_table_cstr(t, MS_SNAP_BOOT_ID, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
    at_ok(ms_table_u64(t, MS_SNAP_FLAGS, seq & 3));
    add(w, t);

    t = ms_table_new(MS_SEC_HOST);
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_HOST_NAME, "db-7.example.org"));
    at_ok(ms_table_cstr(t, MS_HOST_KERNEL, "6.1.0-18-amd64"));
    at_ok(ms_table_cstr(t, MS_HOST_KVERSION, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1"));
    at_ok(ms_table_cstr(t, MS_HOST_MACHINE, "x86_64"));
    at_ok(ms_table_u64(t, MS_HOST_PAGE_SIZE, 4096));
    at_ok(ms_table_u64(t, MS_HOST_MEM_TOTAL, 16384000));
    at_ok(ms_table_u64(t, MS_HOST_MEM_AVAILABLE, 8000000 - seq));
    at_ok(ms_table_u64(t, MS_HOST_SWAP_TOTAL, 2097148));
    at_ok(ms_table_u64(t, MS_HOST_SWAP_FREE, 2000000));
    at_ok(ms_table_cstr(t, MS_HOST_THP_ENABLED, "madvise"));
    at_ok(ms_table_cstr(t, MS_HOST_THP_DEFRAG, "defer+madvise"));
    at_ok(ms_table_i64(t, MS_HOST_OVERCOMMIT, 2));
    at_ok(ms_table_u64(t, MS_HOST_NCPU, 8));
    add(w, t);

    t = ms_table_new(MS_SEC_PROCESS);
    static const char cmd[] = "python3\0-c\0import app; app.run()\0";
    at_ok(ms_table_row(t));
    at_ok(ms_table_u64(t, MS_PROC_PID, 4242));
    at_ok(ms_table_u64(t, MS_PROC_PPID, 1));
    at_ok(ms_table_u64(t, MS_PROC_UID, 1000));
    at_ok(ms_table_u64(t, MS_PROC_EUID, 1001));
    at_ok(ms_table_cstr(t, MS_PROC_COMM, "python3"));
    at_ok(ms_table_cstr(t, MS_PROC_EXE, "/usr/bin/python3.12"));
    at_ok(ms_table_str(t, MS_PROC_CMDLINE, cmd, sizeof cmd - 1));
    at_ok(ms_table_u64(t, MS_PROC_THREADS, 3 + seq));
    at_ok(ms_table_i64(t, MS_PROC_OOM_SCORE, 667));
    at_ok(ms_table_i64(t, MS_PROC_OOM_SCORE_ADJ, -500));
    at_ok(ms_table_cstr(t, MS_PROC_STATE, "S"));
    at_ok(ms_table_u64(t, MS_PROC_START_TICKS, 123456));
    add(w, t);

    t = ms_table_new(MS_SEC_PROC_STATUS);
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_KV_NAME, "VmRSS"));
    at_ok(ms_table_u64(t, MS_KV_VALUE, 51200 + seq));
    at_ok(ms_table_cstr(t, MS_KV_UNIT, "kB"));
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_KV_NAME, "Threads"));
    at_ok(ms_table_u64(t, MS_KV_VALUE, 3 + seq));
    at_ok(ms_table_null(t, MS_KV_UNIT));
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_KV_NAME, "VmSwap"));
    at_ok(ms_table_u64(t, MS_KV_VALUE, 0));
    at_ok(ms_table_cstr(t, MS_KV_UNIT, "kB"));
    add(w, t);

    t = ms_table_new(MS_SEC_CGROUP);
    at_ok(ms_table_row(t));
    at_ok(ms_table_u64(t, MS_CG_VERSION, 2));
    at_ok(ms_table_cstr(t, MS_CG_PATH, "/system.slice/app.service"));
    at_ok(ms_table_u64(t, MS_CG_CURRENT, 123456789 + seq));
    at_ok(ms_table_u64(t, MS_CG_MAX, UINT64_MAX));
    at_ok(ms_table_u64(t, MS_CG_HIGH, (uint64_t)1 << 30));
    at_ok(ms_table_u64(t, MS_CG_SWAP_CURRENT, 4096));
    at_ok(ms_table_u64(t, MS_CG_SWAP_MAX, UINT64_MAX));
    at_ok(ms_table_u64(t, MS_CG_PEAK, 200000000));
    add(w, t);

    t = ms_table_new(MS_SEC_CGROUP_STAT);
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_CGS_FILE, "memory.stat"));
    at_ok(ms_table_cstr(t, MS_CGS_NAME, "anon"));
    at_ok(ms_table_u64(t, MS_CGS_VALUE, 98765432 + seq));
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_CGS_FILE, "memory.events"));
    at_ok(ms_table_cstr(t, MS_CGS_NAME, "oom_kill"));
    at_ok(ms_table_u64(t, MS_CGS_VALUE, 1));
    add(w, t);

    t = ms_table_new(MS_SEC_MAPPINGS);
    static const char bad_path[] = "/data/\xff\xfe-blob.bin"; /* not UTF-8 */
    unsigned r = 0;
    map_row(t, seq, r++, 0x555555554000u, 0x555555558000u, 1 | 16, "/usr/bin/python3.12", 19, 1311, 0);
    map_row(t, seq, r++, 0x555555558000u, 0x555555760000u, 1 | 4 | 16, "/usr/bin/python3.12", 19, 1311, 0);
    map_row(t, seq, r++, 0x555555a00000u, 0x555555c00000u, 1 | 2 | 16, "[heap]", 6, 0, 0);
    map_row(t, seq, r++, ARENA_MAP_START, ARENA_MAP_START + 0x400000u, 1 | 2 | 16, NULL, 0, 0, 0);
    map_row(t, seq, r++, 0x7f2000000000u, 0x7f2000004000u, 1 | 4 | 16, EXT_PATH, sizeof EXT_PATH - 1, 2222, 0);
    map_row(t, seq, r++, 0x7f3000000000u, 0x7f3000028000u, 1 | 4 | 16, "/usr/lib/x86_64-linux-gnu/libc.so.6", 35,
            3333, 0);
    map_row(t, seq, r++, 0x7f4000000000u, 0x7f4000001000u, 1 | 16, bad_path, sizeof bad_path - 1, 4444, 1);
    map_row(t, seq, r++, 0x7f5000000000u, 0x7f5000100000u, 1 | 2 | 8, "/dev/shm/app-queue", 18, 5555, 0);
    map_row(t, seq, r++, 0x7ffd00000000u, 0x7ffd00021000u, 1 | 2 | 16, "[stack]", 7, 0, 0);
    map_row(t, seq, r++, 0xffffffffff600000u, 0xffffffffff601000u, 4 | 16, "[vsyscall]", 10, 0, 0);
    add(w, t);

    t = ms_table_new(MS_SEC_MAPPING_EXTRA);
    at_ok(ms_table_row(t));
    at_ok(ms_table_u64(t, MS_MX_MAPPING, 1));
    at_ok(ms_table_cstr(t, MS_MX_NAME, "FutureField"));
    at_ok(ms_table_u64(t, MS_MX_VALUE, 12 + seq));
    at_ok(ms_table_cstr(t, MS_MX_UNIT, "kB"));
    at_ok(ms_table_null(t, MS_MX_TEXT));
    at_ok(ms_table_row(t));
    at_ok(ms_table_u64(t, MS_MX_MAPPING, 3));
    at_ok(ms_table_cstr(t, MS_MX_NAME, "FutureText"));
    at_ok(ms_table_u64(t, MS_MX_VALUE, 0));
    at_ok(ms_table_null(t, MS_MX_UNIT));
    at_ok(ms_table_cstr(t, MS_MX_TEXT, "on,off"));
    add(w, t);

    t = ms_table_new(MS_SEC_ROLLUP);
    static const char *const rollup[] = {"Rss", "Pss", "Pss_Anon", "Swap"};
    for (unsigned i = 0; i < 4; i++) {
        at_ok(ms_table_row(t));
        at_ok(ms_table_cstr(t, MS_KV_NAME, rollup[i]));
        at_ok(ms_table_u64(t, MS_KV_VALUE, 40000 + i * 1000 + seq));
        at_ok(ms_table_cstr(t, MS_KV_UNIT, "kB"));
    }
    add(w, t);

    t = ms_table_new(MS_SEC_PY_RUNTIME);
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_PY_VERSION, "3.12.1"));
    at_ok(ms_table_u64(t, MS_PY_HEXVERSION, 0x030c01f0));
    at_ok(ms_table_u64(t, MS_PY_FLAGS, 1 | 8 | 16));
    at_ok(ms_table_cstr(t, MS_PY_BINARY, "/usr/bin/python3.12"));
    at_ok(ms_table_null(t, MS_PY_LIBPYTHON));
    at_ok(ms_table_cstr(t, MS_PY_ALLOCATOR, "pymalloc"));
    at_ok(ms_table_u64(t, MS_PY_ARENA_SIZE, 1 << 20));
    at_ok(ms_table_u64(t, MS_PY_POOL_SIZE, 16384));
    add(w, t);

    t = ms_table_new(MS_SEC_PY_TYPES);
    static const struct {
        const char *name, *qual, *module;
        uint64_t flags;
    } types[] = {{"dict", "dict", NULL, 1}, {"str", NULL, NULL, 0}, {"MyRecord", "MyRecord", "app.models", 1 | 2 | 4}};
    for (unsigned i = 0; i < 3; i++) {
        at_ok(ms_table_row(t));
        at_ok(ms_table_cstr(t, MS_TY_NAME, types[i].name));
        if (types[i].qual)
            at_ok(ms_table_cstr(t, MS_TY_QUALNAME, types[i].qual));
        else
            at_ok(ms_table_null(t, MS_TY_QUALNAME));
        at_ok(ms_table_cstr(t, MS_TY_MODULE, types[i].module));
        at_ok(ms_table_u64(t, MS_TY_COUNT, 1000 * (i + 1) + seq * 10));
        at_ok(ms_table_u64(t, MS_TY_SIZEOF, 64000 * (i + 1) + seq * 640));
        at_ok(ms_table_u64(t, MS_TY_ALLOCATED, i == 1 ? 0 : 72000 * (i + 1) + seq * 720));
        at_ok(ms_table_u64(t, MS_TY_FLAGS, types[i].flags));
    }
    add(w, t);

    t = ms_table_new(MS_SEC_PY_MODULES);
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_MOD_NAME, "sys"));
    at_ok(ms_table_null(t, MS_MOD_FILE));
    at_ok(ms_table_u64(t, MS_MOD_FLAGS, 0));
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_MOD_NAME, "_json"));
    at_ok(ms_table_cstr(t, MS_MOD_FILE, EXT_PATH));
    at_ok(ms_table_u64(t, MS_MOD_FLAGS, 1));
    at_ok(ms_table_row(t));
    at_ok(ms_table_cstr(t, MS_MOD_NAME, "json"));
    at_ok(ms_table_cstr(t, MS_MOD_FILE, "/usr/lib/python3.12/json/__init__.py"));
    at_ok(ms_table_u64(t, MS_MOD_FLAGS, 0));
    add(w, t);

    t = ms_table_new(MS_SEC_PY_SIZE_CLASSES);
    for (unsigned i = 0; i < 3; i++) {
        at_ok(ms_table_row(t));
        at_ok(ms_table_u64(t, MS_SC_INDEX, i));
        at_ok(ms_table_u64(t, MS_SC_BLOCK_SIZE, 16 * (i + 1)));
        at_ok(ms_table_u64(t, MS_SC_POOLS, 10 + i + seq));
        at_ok(ms_table_u64(t, MS_SC_BLOCKS_USED, 900 + i));
        at_ok(ms_table_u64(t, MS_SC_BLOCKS_FREE, 100 - i));
    }
    add(w, t);

    t = ms_table_new(MS_SEC_PY_ARENAS);
    for (unsigned i = 0; i < 2; i++) {
        at_ok(ms_table_row(t));
        at_ok(ms_table_u64(t, MS_AR_ADDRESS, ARENA_MAP_START + i * 0x100000u));
        at_ok(ms_table_u64(t, MS_AR_POOLS_USED, i ? 10 : 60));
        at_ok(ms_table_u64(t, MS_AR_POOLS_FREE, i ? 54 : 4));
        at_ok(ms_table_u64(t, MS_AR_POOLS_TOTAL, 64));
        at_ok(ms_table_u64(t, MS_AR_LIVE_BYTES, i ? 100000 + seq : 900000 + seq));
    }
    add(w, t);

    t = ms_table_new(MS_SEC_PY_ALLOC_TOTALS);
    at_ok(ms_table_row(t));
    for (unsigned col = MS_AT_ARENAS; col <= MS_AT_ARENA_BYTES; col++)
        at_ok(ms_table_u64(t, col, (uint64_t)col * 1000 + seq));
    add(w, t);

    t = ms_table_new(MS_SEC_PY_GC);
    for (unsigned g = 0; g < 4; g++) {
        at_ok(ms_table_row(t));
        at_ok(ms_table_u64(t, MS_GC_GENERATION, g));
        at_ok(ms_table_u64(t, MS_GC_COUNT, 100 * g + seq));
        at_ok(ms_table_u64(t, MS_GC_THRESHOLD, g == 0 ? 700 : 10));
        at_ok(ms_table_u64(t, MS_GC_OBJECTS, 5000 * (g + 1)));
        at_ok(ms_table_u64(t, MS_GC_COLLECTING, g == 3));
    }
    add(w, t);

    t = ms_table_new(MS_SEC_DIAGNOSTICS);
    static const char *const areas[] = {"mappings", "cgroup", "python.pymalloc", "pause", "capture.timing"};
    for (unsigned i = 0; i < 5; i++) {
        at_ok(ms_table_row(t));
        at_ok(ms_table_cstr(t, MS_DG_AREA, areas[i]));
        at_ok(ms_table_u64(t, MS_DG_STATUS, i));
        at_ok(ms_table_cstr(t, MS_DG_MESSAGE, i == 4 ? "took 1.2 ms" : "a message, with \"quotes\""));
    }
    add(w, t);

    at_ok(ms_writer_end(w, 0));
}

void at_full_file(const char *path, unsigned first_seq, unsigned n)
{
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "analyze-test 1.0", 0, &err, msg, sizeof msg);
    if (!w) fail_msg("%s", msg);
    for (unsigned i = 0; i < n; i++) at_write_full(w, first_seq + i);
    assert_int_equal(ms_writer_close(w), 0);
}

ms_snapshot *at_snapshot_of(ms_table *const *tables, size_t n)
{
    char *dir = at_tmpdir(), *path = at_path(dir, "one.msnap");
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, NULL, 0, &err, msg, sizeof msg);
    if (!w) fail_msg("%s", msg);
    at_ok(ms_writer_begin(w));
    for (size_t i = 0; i < n; i++) at_ok(ms_writer_add(w, tables[i]));
    at_ok(ms_writer_end(w, 0));
    assert_int_equal(ms_writer_close(w), 0);
    ms_reader *r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    if (!r) fail_msg("%s", msg);
    ms_snapshot *s = NULL;
    at_ok(ms_reader_next(r, &s));
    ms_reader_close(r);
    free(path);
    at_rmdir(dir);
    return s;
}

/* ------------------------------------------------------------------- SQL */

int64_t at_sql_int(sqlite3 *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s: no row (%s)", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int64_t at_total_rows(sqlite3 *db)
{
    int64_t n = 0;
    for (size_t i = 0; i < schema_ntables; i++)
        if (schema_tables[i].row_sec != SCHEMA_FIXED_SEC)
            n += at_sql_int(db, "SELECT count(*) FROM %s", schema_tables[i].name);
    return n;
}

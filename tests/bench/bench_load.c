/*
 * bench_load.c - how fast `memsnap load` fills the database, compared in
 * the same run with the stock sqlite3 shell importing the same rows from
 * CSV (.import), and how big both databases are.
 *
 * The goal: 1,000 snapshots of 1,000 mappings and 500 object types
 * each load at >= 1,000,000 rows/s, faster than the shell's .import, into
 * a database no larger than 2x the shell's.
 *
 * Method: one .msnap file of N snapshots is written with the format
 * library (realistic smaps-like values from a fixed-seed generator, so
 * runs repeat). Our side runs loader_open + loader_load_file +
 * loader_close, exactly what `memsnap load` runs, into a fresh file. The
 * rows it stored are then exported as CSV (snapshots, mappings, py_types:
 * exactly the same rows) and the sqlite3 shell imports them into a fresh
 * file holding the same schema (`memsnap schema --sql`: same tables,
 * indexes and views) and the same page size, otherwise with its defaults. Each side runs --reps times and
 * the median is reported; every run is printed too. Times are wall clock
 * and include opening, the schema, commit and close on both sides.
 *
 * Not a test: the figures depend on the machine (and on what else runs on
 * it). `cmake --build build --target bench_load` runs it at full size;
 * CTest runs it tiny (bench_load_smoke) only to prove it still works.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "msnap.h"
#include "query.h"
#include "schema.h"

#define BENCH_SEED 0x6c6f6164ull /* "load" */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("bench_load: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds (user + system) of this process (who = RUSAGE_SELF) or of
 * its waited-for children (RUSAGE_CHILDREN). Wall time suffers when other
 * programs share the machine; CPU time much less. */
static double cpu_time(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

#define OK(call)                                                         \
    do {                                                                 \
        int rc_ = (call);                                                \
        if (rc_ != 0) die("%s failed: %s", #call, ms_strerror(rc_));     \
    } while (0)

/* ------------------------------------------------------- the snapshots */

static const char *const lib_names[] = {
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "libz.so.1", "libssl.so.3",
    "libcrypto.so.3", "libffi.so.8", "libstdc++.so.6", "libgcc_s.so.1", "libexpat.so.1", "liblzma.so.5",
    "libbz2.so.1.0", "libsqlite3.so.0", "libuuid.so.1", "libreadline.so.8", "libtinfo.so.6",
    "libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0",
};

/* Writes snapshot `seq`: snapshot/host/process (one snapshots row),
 * `nmaps` mappings, `ntypes` object types. */
static void write_snapshot(ms_writer *w, unsigned seq, size_t nmaps, size_t ntypes)
{
    uint64_t rng = BENCH_SEED; /* the same layout every snapshot; values drift with seq */
    uint64_t vary = BENCH_SEED ^ ((uint64_t)seq * 0x9e3779b97f4a7c15u);
    OK(ms_writer_begin(w));

    ms_table *t = ms_table_new(MS_SEC_SNAPSHOT);
    unsigned char id[16];
    for (int i = 0; i < 16; i++) id[i] = (unsigned char)(rng_next(&vary) >> 24);
    OK(ms_table_row(t));
    OK(ms_table_str(t, MS_SNAP_ID, id, sizeof id));
    OK(ms_table_u64(t, MS_SNAP_SEQ, seq));
    OK(ms_table_u64(t, MS_SNAP_WALL_NS, 1767225600000000000u + (uint64_t)seq * 10000000000u));
    OK(ms_table_u64(t, MS_SNAP_MONO_NS, 5000000000000u + (uint64_t)seq * 10000000000u));
    OK(ms_table_u64(t, MS_SNAP_DURATION_NS, 3000000 + rng_next(&vary) % 1000000));
    OK(ms_table_u64(t, MS_SNAP_PAUSE_NS, 0));
    OK(ms_table_u64(t, MS_SNAP_PID, 31337));
    OK(ms_table_cstr(t, MS_SNAP_AGENT, "memsnap-capture 0.1.0"));
    OK(ms_table_cstr(t, MS_SNAP_BOOT_ID, "d0d100e6-91e6-4ee6-bd20-be9efd582ac6"));
    OK(ms_table_u64(t, MS_SNAP_FLAGS, 1));
    OK(ms_writer_add(w, t));
    ms_table_free(t);

    t = ms_table_new(MS_SEC_HOST);
    OK(ms_table_row(t));
    OK(ms_table_cstr(t, MS_HOST_NAME, "worker-17.example.net"));
    OK(ms_table_cstr(t, MS_HOST_KERNEL, "6.1.0-18-amd64"));
    OK(ms_table_cstr(t, MS_HOST_MACHINE, "x86_64"));
    OK(ms_table_u64(t, MS_HOST_PAGE_SIZE, 4096));
    OK(ms_table_u64(t, MS_HOST_MEM_TOTAL, 32u << 20));
    OK(ms_table_u64(t, MS_HOST_MEM_AVAILABLE, (20u << 20) - seq * 100));
    OK(ms_table_cstr(t, MS_HOST_THP_ENABLED, "madvise"));
    OK(ms_writer_add(w, t));
    ms_table_free(t);

    t = ms_table_new(MS_SEC_PROCESS);
    OK(ms_table_row(t));
    OK(ms_table_u64(t, MS_PROC_PID, 31337));
    OK(ms_table_u64(t, MS_PROC_PPID, 1));
    OK(ms_table_cstr(t, MS_PROC_COMM, "python3"));
    OK(ms_table_cstr(t, MS_PROC_EXE, "/usr/bin/python3.11"));
    static const char cmd[] = "python3\0-m\0worker\0--queue\0jobs\0";
    OK(ms_table_str(t, MS_PROC_CMDLINE, cmd, sizeof cmd - 1));
    OK(ms_table_u64(t, MS_PROC_THREADS, 12));
    OK(ms_writer_add(w, t));
    ms_table_free(t);

    /* Mappings as a Python process has them: libraries in groups of four
     * (r--p, r-xp, r--p, rw-p), anonymous regions between, sizes in pages,
     * Rss <= Size, most other smaps figures zero. */
    t = ms_table_new(MS_SEC_MAPPINGS);
    uint64_t addr = 0x7f0000000000u;
    char path[128];
    for (size_t i = 0; i < nmaps; i++) {
        uint64_t r = rng_next(&rng);
        uint64_t pages = 1 + r % 64;
        int anon = i % 5 == 4;
        unsigned perms = anon ? (1 | 2 | 16) : (i % 4 == 1 ? (1 | 4 | 16) : i % 4 == 3 ? (1 | 2 | 16) : (1 | 16));
        uint64_t size_kib = pages * 4;
        uint64_t rss = (size_kib * (rng_next(&vary) % 101) / 100) & ~3u;
        OK(ms_table_row(t));
        OK(ms_table_u64(t, MS_MAP_START, addr));
        OK(ms_table_u64(t, MS_MAP_END, addr + pages * 4096));
        OK(ms_table_u64(t, MS_MAP_PERMS, perms));
        if (!anon) {
            snprintf(path, sizeof path, "/usr/lib/x86_64-linux-gnu/%s%s",
                     (i / 5) % 3 ? "" : "python3.11/lib-dynload/",
                     lib_names[(i / 5) % (sizeof lib_names / sizeof lib_names[0])]);
            OK(ms_table_u64(t, MS_MAP_OFFSET, (i % 4) * 4096 * 16));
            OK(ms_table_u64(t, MS_MAP_DEV_MAJOR, 254));
            OK(ms_table_u64(t, MS_MAP_DEV_MINOR, 1));
            OK(ms_table_u64(t, MS_MAP_INODE, 1000000 + i / 5));
            OK(ms_table_cstr(t, MS_MAP_PATH, path));
        }
        OK(ms_table_u64(t, MS_MAP_SIZE, size_kib));
        OK(ms_table_u64(t, MS_MAP_KERNEL_PAGE_SIZE, 4));
        OK(ms_table_u64(t, MS_MAP_MMU_PAGE_SIZE, 4));
        OK(ms_table_u64(t, MS_MAP_RSS, rss));
        OK(ms_table_u64(t, MS_MAP_PSS, anon ? rss : rss / 3));
        OK(ms_table_u64(t, MS_MAP_PSS_ANON, anon ? rss : 0));
        OK(ms_table_u64(t, MS_MAP_PSS_FILE, anon ? 0 : rss / 3));
        OK(ms_table_u64(t, MS_MAP_SHARED_CLEAN, anon ? 0 : rss - rss / 3));
        OK(ms_table_u64(t, MS_MAP_PRIVATE_CLEAN, anon ? 0 : rss / 3));
        OK(ms_table_u64(t, MS_MAP_PRIVATE_DIRTY, anon ? rss : 0));
        OK(ms_table_u64(t, MS_MAP_REFERENCED, rss));
        OK(ms_table_u64(t, MS_MAP_ANONYMOUS, anon ? rss : 0));
        OK(ms_table_u64(t, MS_MAP_THP_ELIGIBLE, anon));
        OK(ms_table_cstr(t, MS_MAP_VMFLAGS, anon ? "rd wr mr mw me ac sd" : perms & 4 ? "rd ex mr mw me sd" : "rd mr mw me sd"));
        addr += pages * 4096 + (r >> 60) * 4096;
    }
    OK(ms_writer_add(w, t));
    ms_table_free(t);

    t = ms_table_new(MS_SEC_PY_TYPES);
    char name[64];
    for (size_t i = 0; i < ntypes; i++) {
        uint64_t r = rng_next(&rng);
        uint64_t count = 1 + (r % 100000) / (1 + i / 8) + rng_next(&vary) % 16;
        char module[32];
        snprintf(name, sizeof name, i % 3 ? "Class%zu" : "builtin_%zu", i);
        snprintf(module, sizeof module, "module%zu", i % 40);
        OK(ms_table_row(t));
        OK(ms_table_cstr(t, MS_TY_NAME, name));
        if (i % 3) OK(ms_table_cstr(t, MS_TY_QUALNAME, name));
        if (i % 3) OK(ms_table_cstr(t, MS_TY_MODULE, module));
        OK(ms_table_u64(t, MS_TY_COUNT, count));
        OK(ms_table_u64(t, MS_TY_SIZEOF, count * (16 + (r >> 58))));
        OK(ms_table_u64(t, MS_TY_ALLOCATED, count * (16 + (r >> 58) + 8)));
        OK(ms_table_u64(t, MS_TY_FLAGS, 1));
    }
    OK(ms_writer_add(w, t));
    ms_table_free(t);
    OK(ms_writer_end(w, 0));
}

/* ------------------------------------------------------------- sides */

/* One `memsnap load` of msnap into a new db. *index gets the time spent
 * building the indexes at the end (part of the total). */
static double run_ours(const char *msnap, const char *db, uint64_t *rows, double *cpu, double *index)
{
    unlink(db);
    char err[768];
    double c0 = cpu_time(RUSAGE_SELF);
    double t0 = now();
    loader *L = loader_open(db, LOAD_DEFAULT_BUSY_MS, err, sizeof err);
    if (!L) die("%s", err);
    load_stats st = {0};
    if (loader_load_file(L, msnap, 0, &st, stderr, "bench_load") != LOAD_OK) die("loading %s failed", msnap);
    double ti = now();
    if (loader_finish(L, err, sizeof err) != 0) die("%s", err);
    *index = now() - ti;
    if (loader_close(L) != 0) die("closing %s failed", db);
    double t = now() - t0;
    *cpu = cpu_time(RUSAGE_SELF) - c0;
    *rows = st.rows;
    return t;
}

/* Reading and decoding only: what the format library costs of our time. */
static double run_decode(const char *msnap)
{
    int err;
    char msg[512];
    double t0 = now();
    ms_reader *r = ms_reader_open(msnap, 0, &err, msg, sizeof msg);
    if (!r) die("%s", msg);
    ms_snapshot *s;
    while (ms_reader_next(r, &s) == 0) ms_snapshot_free(s);
    ms_reader_close(r);
    return now() - t0;
}

static void export_csv(const char *db, const char *table, const char *path)
{
    sqlite3 *h;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("cannot open %s", db);
    FILE *f = fopen(path, "w");
    if (!f) die("%s: %s", path, strerror(errno));
    char q[128];
    snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY rowid", table);
    if (query_run(h, q, QUERY_CSV, f, stderr, "bench_load") != 0) die("exporting %s failed", table);
    if (fclose(f) != 0) die("%s: write failed", path);
    sqlite3_close(h);
}

static double run_shell(const char *shell, const char *dir, const char *db, double *cpu)
{
    unlink(db);
    char script[1100], cmd[3000];
    snprintf(script, sizeof script, "%s/import.sqlite", dir);
    FILE *f = fopen(script, "w");
    if (!f) die("%s: %s", script, strerror(errno));
    /* the page size memsnap gives a new database, so that the comparison
     * is of the loading, not of the page size */
    fprintf(f, ".bail on\nPRAGMA page_size = 16384;\n.read %s/schema.sql\n", dir);
    static const char *const tables[] = {"snapshots", "mappings", "py_types"};
    for (int i = 0; i < 3; i++) fprintf(f, ".import --csv --skip 1 %s/%s.csv %s\n", dir, tables[i], tables[i]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s '%s' < '%s'", shell, db, script);
    double c0 = cpu_time(RUSAGE_CHILDREN);
    double t0 = now();
    int rc = system(cmd);
    double t = now() - t0;
    *cpu = cpu_time(RUSAGE_CHILDREN) - c0; /* the shell (and sh, which costs nothing) */
    if (rc != 0) die("the sqlite3 shell failed (status %d): %s", rc, cmd);
    return t;
}

int main(int argc, char **argv)
{
    size_t nsnap = 1000, nmaps = 1000, ntypes = 500;
    int reps = 3, use_shell = 1;
    const char *dir = ".", *shell = "sqlite3";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--snapshots") && v) nsnap = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--mappings") && v) nmaps = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--types") && v) ntypes = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--reps") && v) reps = atoi(argv[++i]);
        else if (!strcmp(a, "--out") && v) dir = argv[++i];
        else if (!strcmp(a, "--shell") && v) shell = argv[++i];
        else if (!strcmp(a, "--no-shell")) use_shell = 0;
        else {
            fprintf(stderr,
                    "usage: bench_load [--snapshots N] [--mappings N] [--types N] [--reps N] [--out DIR]\n"
                    "                  [--shell SQLITE3] [--no-shell]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 99 || nsnap < 1) die("bad arguments");
    if (use_shell) {
        char probe[600];
        snprintf(probe, sizeof probe, "%s -version >/dev/null 2>&1", shell);
        if (system(probe) != 0) {
            printf("bench_load: SKIP shell comparison: '%s' not found (install the sqlite3 package)\n", shell);
            use_shell = 0;
        }
    }
    loader_global_init();

    char msnap[1024], ours[1024], theirs[1024], path[1100];
    snprintf(msnap, sizeof msnap, "%s/bench_load.msnap", dir);
    snprintf(ours, sizeof ours, "%s/bench_load_memsnap.db", dir);
    snprintf(theirs, sizeof theirs, "%s/bench_load_shell.db", dir);

    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(msnap, MS_TRUNCATE, "bench_load", 0, &err, msg, sizeof msg);
    if (!w) die("%s", msg);
    for (size_t i = 0; i < nsnap; i++) write_snapshot(w, (unsigned)i, nmaps, ntypes);
    if (ms_writer_close(w) != 0) die("closing %s failed", msnap);

    printf("bench_load: %zu snapshots x (%zu mappings + %zu py_types + 1 snapshots row); %s build; "
           "SQLite %s; .msnap %.1f MiB\n",
           nsnap, nmaps, ntypes,
#ifdef MS_BENCH_BUILD_TYPE
           MS_BENCH_BUILD_TYPE,
#else
           "unknown",
#endif
           sqlite3_libversion(), (double)file_size(msnap) / 1048576.0);

    double t_ours[99], t_shell[99], t_dec[99], c_ours[99], c_shell[99], t_index[99];
    uint64_t rows = 0;
    for (int r = 0; r < reps; r++) t_dec[r] = run_decode(msnap);
    for (int r = 0; r < reps; r++) {
        t_ours[r] = run_ours(msnap, ours, &rows, &c_ours[r], &t_index[r]);
        printf("  memsnap load    run %d: %6.3f s %10.0f rows/s   cpu %6.3f s %10.0f rows/s  (indexes %.3f s)\n",
               r + 1, t_ours[r], (double)rows / t_ours[r], c_ours[r], (double)rows / c_ours[r], t_index[r]);
    }
    uint64_t want = (uint64_t)nsnap * (1 + nmaps + ntypes);
    if (rows != want) die("loaded %" PRIu64 " rows, expected %" PRIu64, rows, want);
    double mo = median(t_ours, reps), md = median(t_dec, reps), co = median(c_ours, reps), cs = 0;
    off_t size_ours = file_size(ours);

    double ms = 0;
    off_t size_shell = 0;
    if (use_shell) {
        snprintf(path, sizeof path, "%s/schema.sql", dir);
        FILE *f = fopen(path, "w");
        if (!f) die("%s: %s", path, strerror(errno));
        schema_print_sql(f);
        fclose(f);
        static const char *const tables[] = {"snapshots", "mappings", "py_types"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s.csv", dir, tables[i]);
            export_csv(ours, tables[i], path);
        }
        for (int r = 0; r < reps; r++) {
            t_shell[r] = run_shell(shell, dir, theirs, &c_shell[r]);
            printf("  sqlite3 .import run %d: %6.3f s %10.0f rows/s   cpu %6.3f s %10.0f rows/s\n", r + 1,
                   t_shell[r], (double)rows / t_shell[r], c_shell[r], (double)rows / c_shell[r]);
        }
        ms = median(t_shell, reps);
        cs = median(c_shell, reps);
        size_shell = file_size(theirs);
    }

    printf("rows: %" PRIu64 " per run; medians of %d run%s (wall clock; cpu = user+system time):\n", rows,
           reps, reps == 1 ? "" : "s");
    printf("  memsnap load:     %6.3f s %10.0f rows/s   cpu %6.3f s %10.0f rows/s\n", mo, (double)rows / mo, co,
           (double)rows / co);
    printf("    of which building the indexes at the end: %.3f s; reading and decoding the .msnap alone\n"
           "    takes %.3f s (in a thread of its own, overlapped with the inserts)\n",
           median(t_index, reps), md);
    if (use_shell) {
        printf("  sqlite3 .import:  %6.3f s %10.0f rows/s   cpu %6.3f s %10.0f rows/s  (same rows from CSV)\n",
               ms, (double)rows / ms, cs, (double)rows / cs);
        printf("  speed ratio memsnap/shell: %.2fx wall, %.2fx cpu\n", ms / mo, cs / co);
    }
    printf("  database size: memsnap %.1f MiB", (double)size_ours / 1048576.0);
    if (use_shell)
        printf(", shell %.1f MiB, ratio %.2f", (double)size_shell / 1048576.0,
               (double)size_ours / (double)size_shell);
    printf("\n");
    printf("goals: >= 1,000,000 rows/s: %s (wall), %s (cpu)", (double)rows / mo >= 1e6 ? "met" : "NOT met",
           (double)rows / co >= 1e6 ? "met" : "NOT met");
    if (use_shell)
        printf("; faster than the shell: %s; size <= 2x the shell's: %s", mo < ms ? "met" : "NOT met",
               size_ours <= 2 * size_shell ? "met" : "NOT met");
    printf("\n");
    return 0;
}

/*
 * test_capture_cli.c - memsnap-capture as a user meets it: each failure
 * (no such process, zombie, kernel thread, no permission, existing file,
 * usage errors, disk full) checked by exit status AND message; series
 * that end because the target exits or a signal arrives; and the options
 * that shape the output: --force, --append, --redact, --redact-key,
 * --no-dict.
 *
 * Tests that need root (another user's view, a tmpfs) print SKIP
 * otherwise. Every process, mount and directory a test makes is removed by
 * the teardown, also when the test fails.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture_test_util.h"
#include "pause_test_util.h"
#include "redact.h"

/* Runs memsnap-capture with the arguments given (NULL-terminated). */
static void capture(ct_result *r, double timeout, ...)
{
    char *argv[32] = {MEMSNAP_CAPTURE_BIN};
    int n = 1;
    va_list ap;
    va_start(ap, timeout);
    char *a;
    while ((a = va_arg(ap, char *)) && n < 31) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    ct_run(argv, timeout, r);
}

/* Fails unless the run ended with `status` and stderr holds every string given. */
static void expect(const ct_result *r, int status, const char *what, ...)
{
    if (r->status != status) fail_msg("%s: exit status %d, want %d; stderr: %s", what, r->status, status, r->err);
    va_list ap;
    va_start(ap, what);
    const char *needle;
    while ((needle = va_arg(ap, const char *)))
        if (!ct_contains(r->err, needle)) fail_msg("%s: stderr does not mention \"%s\": %s", what, needle, r->err);
    va_end(ap);
}

static void start_map_target(ct_target *t, const char *dir, const char *exit_after_ms)
{
    char *argv[] = {MAP_TARGET_BIN, (char *)dir, "secret-arg", NULL};
    char *argv_exit[] = {MAP_TARGET_BIN, "--exit-after", (char *)exit_after_ms, (char *)dir, NULL};
    ct_target_start(t, exit_after_ms ? argv_exit : argv, 10);
}

/* A target with 3,000 more mappings of irregular sizes: its snapshots
 * compress to over 10 KiB, more than a page. */
static void start_big_target(ct_target *t, const char *dir)
{
    char *argv[] = {MAP_TARGET_BIN, "--many", "3000", (char *)dir, NULL};
    ct_target_start(t, argv, 10);
}

static char *pidstr(pid_t pid)
{
    static char buf[4][16];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%d", (int)pid);
    return buf[k];
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* `memsnap info` must read the file to its end without any warning. */
static void expect_complete(const char *file)
{
    char *argv[] = {MEMSNAP_BIN, "info", (char *)file, NULL};
    ct_result r;
    ct_run(argv, 30, &r);
    if (r.status != 0) fail_msg("memsnap info %s exited %d: %s", file, r.status, r.err);
    if (ct_contains(r.err, "warning") || ct_contains(r.out, "warning"))
        fail_msg("memsnap info %s warns: %s%s", file, r.err, r.out);
    ct_result_free(&r);
    size_t n;
    int rc;
    ms_snapshot **s = ct_read_snapshots(file, &n, &rc);
    if (rc != MS_ERR_END) fail_msg("%s does not end cleanly after %zu snapshots: %s", file, n, ms_errname(rc));
    ct_free_snapshots(s, n);
}

static size_t count_snapshots(const char *file)
{
    size_t n;
    ms_snapshot **s = ct_read_snapshots(file, &n, NULL);
    ct_free_snapshots(s, n);
    return n;
}

/* Names in `dir` other than . and .., joined by spaces, malloc'd. */
static char *list_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) fail_msg("opendir %s: %s", dir, strerror(errno));
    char *out = calloc(1, 1);
    size_t len = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t l = strlen(e->d_name);
        out = realloc(out, len + l + 2);
        memcpy(out + len, e->d_name, l);
        len += l;
        out[len++] = ' ';
        out[len] = 0;
    }
    closedir(d);
    return out;
}

/* ------------------------------------------------------------ no target */

static void test_no_such_pid(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "out.msnap");
    char *pm = ct_read_file("/proc/sys/kernel/pid_max", NULL);
    long pid_max = pm ? atol(pm) : 0;
    free(pm);
    if (pid_max <= 0 || pid_max >= 0x7fffffff) fail_msg("cannot read /proc/sys/kernel/pid_max");
    ct_result r;
    capture(&r, 10, "-p", pidstr((pid_t)(pid_max + 1)), "-o", f, NULL);
    expect(&r, 1, "PID beyond pid_max", "no process with PID", pidstr((pid_t)(pid_max + 1)), NULL);
    ct_result_free(&r);
    if (exists(f)) fail_msg("a file was written for a missing process");

    /* a PID that existed a moment ago: fork, reap, capture */
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/%d", (int)child);
    if (!exists(proc)) {
        capture(&r, 10, "-p", pidstr(child), "-o", f, NULL);
        expect(&r, 1, "reaped PID", "no process with PID", NULL);
        ct_result_free(&r);
    }
    free(f);
    free(dir);
}

static void test_zombie(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "out.msnap");
    pid_t child = fork();
    if (child < 0) fail_msg("fork: %s", strerror(errno));
    if (child == 0) _exit(0);
    ct_own_pid(child);
    /* not reaped: wait until the kernel shows it as a zombie */
    char statp[64];
    snprintf(statp, sizeof statp, "/proc/%d/stat", (int)child);
    double t0 = ct_now();
    for (;;) {
        char *st = ct_read_file(statp, NULL);
        char *rp = st ? strrchr(st, ')') : NULL;
        int z = rp && rp[1] == ' ' && rp[2] == 'Z';
        free(st);
        if (z) break;
        if (ct_now() - t0 > 5) fail_msg("PID %d never became a zombie", (int)child);
        ct_sleep(0.01);
    }
    ct_result r;
    capture(&r, 10, "-p", pidstr(child), "-o", f, NULL);
    expect(&r, 1, "zombie", "zombie", NULL);
    ct_result_free(&r);
    if (exists(f)) fail_msg("a file was written for a zombie");
    waitpid(child, NULL, 0);
    ct_forget_pid(child);
    free(f);
    free(dir);
}

static void test_kernel_thread(void **state)
{
    (void)state;
    /* reading PID 2's stat does not touch it */
    char *st = ct_read_file("/proc/2/stat", NULL);
    char *rp = st ? strrchr(st, ')') : NULL;
    unsigned long long flags = 0;
    if (rp) sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %llu", &flags);
    int kthread = rp && (flags & 0x00200000u);
    free(st);
    if (!kthread) ct_skip("PID 2 is not a kernel thread here (a PID namespace?)");
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "out.msnap");
    ct_result r;
    capture(&r, 10, "-p", "2", "-o", f, NULL);
    expect(&r, 1, "kernel thread", "kernel thread", NULL);
    ct_result_free(&r);
    if (exists(f)) fail_msg("a file was written for a kernel thread");
    free(f);
    free(dir);
}

/* A root-owned target seen by an unprivileged user. */
static void test_permission_denied(void **state)
{
    (void)state;
    if (geteuid() != 0) ct_skip("not root: cannot start a target owned by another user");
    if (access("/usr/bin/setpriv", X_OK) != 0) ct_skip("setpriv (util-linux) not installed");
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "out.msnap");
    if (chmod(dir, 0777)) fail_msg("chmod %s: %s", dir, strerror(errno));
    ct_target t;
    start_map_target(&t, dir, NULL);
    char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MEMSNAP_CAPTURE_BIN,
                    "-p", pidstr(t.pid), "-o", f, NULL};
    ct_result r;
    ct_run(argv, 10, &r);
    if (r.status == 127 || ct_contains(r.err, "setpriv:")) {
        ct_result_free(&r);
        ct_skip("setpriv cannot switch to uid 65534 here: %s", r.err);
    }
    expect(&r, 1, "root-owned target as uid 65534", "Permission denied", NULL);
    if (!ct_contains(r.err, "root") && !ct_contains(r.err, "CAP_SYS_PTRACE"))
        fail_msg("the permission message names neither root nor CAP_SYS_PTRACE: %s", r.err);
    if (!ct_contains(r.err, "uid 0")) fail_msg("the permission message does not say who owns the target: %s", r.err);
    ct_result_free(&r);
    if (exists(f)) fail_msg("a file was written without permission");
    ct_target_stop(&t);
    free(f);
    free(dir);
}

/* ------------------------------------------------------ output options */

static void test_existing_output(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "out.msnap");
    FILE *fp = fopen(f, "w");
    fputs("precious\n", fp);
    fclose(fp);
    ct_target t;
    start_map_target(&t, dir, NULL);
    ct_result r;
    capture(&r, 10, "-p", pidstr(t.pid), "-o", f, NULL);
    expect(&r, 1, "existing output without --force", "exists", "--force", NULL);
    ct_result_free(&r);
    char *c = ct_read_file(f, NULL);
    if (!c || strcmp(c, "precious\n")) fail_msg("the existing file was changed: \"%s\"", c);
    free(c);
    char *ls = list_dir(dir);
    if (strstr(ls, ".tmp")) fail_msg("a temporary file was left behind: %s", ls);
    free(ls);

    capture(&r, 10, "-p", pidstr(t.pid), "-o", f, "--force", "-q", NULL);
    expect(&r, 0, "existing output with --force", NULL);
    ct_result_free(&r);
    ct_eq_u64(count_snapshots(f), 1, "snapshots in the replaced file");
    expect_complete(f);
    ct_target_stop(&t);
    free(f);
    free(dir);
}

static void test_append(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "out.msnap");
    ct_target t;
    start_map_target(&t, dir, NULL);
    ct_result r;
    capture(&r, 10, "-p", pidstr(t.pid), "-o", f, "-q", NULL);
    expect(&r, 0, "first capture", NULL);
    ct_result_free(&r);
    ct_eq_u64(count_snapshots(f), 1, "snapshots after one capture");
    capture(&r, 10, "-p", pidstr(t.pid), "-o", f, "--append", "-q", NULL);
    expect(&r, 0, "--append", NULL);
    ct_result_free(&r);
    ct_eq_u64(count_snapshots(f), 2, "snapshots after --append");
    capture(&r, 10, "-p", pidstr(t.pid), "-o", f, "--append", "--interval", "0.05", "--count", "3", "-q", NULL);
    expect(&r, 0, "--append of a series", NULL);
    ct_result_free(&r);
    ct_eq_u64(count_snapshots(f), 5, "snapshots after --append of 3 more");
    expect_complete(f);
    ct_target_stop(&t);
    free(f);
    free(dir);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "out.msnap");
    static const struct {
        const char *args[8];
        const char *msg;
    } cases[] = {
        {{"-o", "F"}, "-p PID is required"},
        {{"-p", "1"}, "-o FILE is required"},
        {{"-p", "abc", "-o", "F"}, "invalid PID"},
        {{"-p", "0", "-o", "F"}, "invalid PID"},
        {{"-p", "1", "-o", "F", "--interval", "abc"}, "invalid --interval"},
        {{"-p", "1", "-o", "F", "--interval", "0"}, "invalid --interval"},
        {{"-p", "1", "-o", "F", "--interval", "-1"}, "invalid --interval"},
        {{"-p", "1", "-o", "F", "--count", "3"}, "need --interval"},
        {{"-p", "1", "-o", "F", "--duration", "3"}, "need --interval"},
        {{"-p", "1", "-o", "F", "--interval", "1", "--count", "0"}, "invalid --count"},
        {{"-p", "1", "-o", "F", "--force", "--append"}, "exclude each other"},
        {{"-p", "1", "-o", "F", "--bogus"}, "unknown option"},
        {{"-p", "1", "-o", "F", "extra"}, "unexpected argument"},
        {{"-p", "1", "-o", "F", "--level", "99"}, "invalid --level"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[12] = {MEMSNAP_CAPTURE_BIN};
        char line[256] = "memsnap-capture";
        int n = 1;
        for (int k = 0; k < 8 && cases[i].args[k]; k++) {
            argv[n++] = !strcmp(cases[i].args[k], "F") ? f : (char *)cases[i].args[k];
            strncat(line, " ", sizeof line - strlen(line) - 1);
            strncat(line, cases[i].args[k], sizeof line - strlen(line) - 1);
        }
        argv[n] = NULL;
        ct_result r;
        ct_run(argv, 10, &r);
        expect(&r, 2, line, cases[i].msg, "--help", NULL);
        if (r.out_len) fail_msg("%s: a usage error wrote to stdout: %s", line, r.out);
        ct_result_free(&r);
        if (exists(f)) fail_msg("%s: a file was written", line);
    }
    ct_result r;
    capture(&r, 10, "--help", NULL);
    if (r.status != 0 || !ct_contains(r.out, "usage: memsnap-capture") || r.err_len)
        fail_msg("--help: exit %d, stdout \"%.60s\", stderr \"%s\"", r.status, r.out, r.err);
    if (!ct_contains(r.out, "--no-dict") || !ct_contains(r.out, "format 1.0"))
        fail_msg("--help does not explain --no-dict: %s", r.out);
    ct_result_free(&r);
    free(f);
    free(dir);
}

/* The file header's minor version and the codec of every record of `file`. */
static void expect_codec(const char *file, unsigned minor, unsigned codec, size_t nsnap)
{
    size_t len;
    char *c = ct_read_file(file, &len);
    if (!c || len < 64) fail_msg("%s: not a .msnap file", file);
    unsigned got = (unsigned char)c[10] | (unsigned char)c[11] << 8;
    free(c);
    if (got != minor) fail_msg("%s: header says 1.%u, want 1.%u", file, got, minor);
    size_t n;
    int rc;
    ms_snapshot **s = ct_read_snapshots(file, &n, &rc);
    if (rc != MS_ERR_END || n != nsnap) fail_msg("%s: %zu snapshots, then %s", file, n, ms_errname(rc));
    for (size_t i = 0; i < n; i++)
        if (ms_snapshot_codec(s[i]) != codec) fail_msg("%s: snapshot %zu has codec %u, want %u", file, i, ms_snapshot_codec(s[i]), codec);
    ct_free_snapshots(s, n);
}

/* By default records use codec 2 (format 1.1); --no-dict writes codec 1,
 * which 1.0 readers read, in a file that says 1.0: one snapshot (written
 * through a temporary file), a series (straight to the file) and --append
 * (which keeps the header of the file it appends to). */
static void test_no_dict(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *a = ct_path(dir, "dict.msnap"), *b = ct_path(dir, "nodict.msnap"),
         *c = ct_path(dir, "series.msnap");
    ct_target t;
    start_map_target(&t, dir, NULL);
    ct_result r;
    capture(&r, 10, "-p", pidstr(t.pid), "-o", a, "-q", NULL);
    expect(&r, 0, "default codec", NULL);
    ct_result_free(&r);
    expect_codec(a, 1, MS_CODEC_ZSTD_DICT1, 1);
    capture(&r, 10, "-p", pidstr(t.pid), "-o", b, "-q", "--no-dict", NULL);
    expect(&r, 0, "--no-dict", NULL);
    ct_result_free(&r);
    expect_codec(b, 0, MS_CODEC_ZSTD, 1);
    expect_complete(b);
    capture(&r, 10, "-p", pidstr(t.pid), "-o", c, "-q", "--no-dict", "-i", "0.05", "-n", "2", NULL);
    expect(&r, 0, "--no-dict series", NULL);
    ct_result_free(&r);
    expect_codec(c, 0, MS_CODEC_ZSTD, 2);
    capture(&r, 10, "-p", pidstr(t.pid), "-o", a, "-q", "--append", "--no-dict", NULL);
    expect(&r, 0, "--append --no-dict", NULL);
    ct_result_free(&r);
    size_t n;
    ms_snapshot **s = ct_read_snapshots(a, &n, NULL);
    if (n != 2 || ms_snapshot_codec(s[0]) != MS_CODEC_ZSTD_DICT1 || ms_snapshot_codec(s[1]) != MS_CODEC_ZSTD)
        fail_msg("%s after --append --no-dict: %zu snapshots, codecs %u and %u", a, n, n ? ms_snapshot_codec(s[0]) : 0,
                 n > 1 ? ms_snapshot_codec(s[1]) : 0);
    ct_free_snapshots(s, n);
    expect_complete(a);
    ct_target_stop(&t);
    free(a);
    free(b);
    free(c);
    free(dir);
}

/* ------------------------------------------------------------- series */

static void *reaper(void *arg)
{
    pid_t pid = *(pid_t *)arg;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return NULL;
}

static void test_target_exits_mid_series(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "series.msnap");
    ct_target t;
    start_map_target(&t, dir, "1000");
    /* reap the target the moment it exits, as a real parent would */
    pthread_t th;
    if (pthread_create(&th, NULL, reaper, &t.pid)) fail_msg("pthread_create failed");
    ct_result r;
    capture(&r, 20, "-p", pidstr(t.pid), "-o", f, "--interval", "0.2", "--count", "50", NULL);
    pthread_join(th, NULL);
    pid_t tp = t.pid;
    ct_forget_pid(tp);
    t.pid = 0;
    expect(&r, 0, "target exits mid-series", "exited", pidstr(tp), NULL);
    if (r.secs > 5) fail_msg("the series went on for %.1f s after the target exited", r.secs);
    ct_result_free(&r);
    size_t n = count_snapshots(f);
    if (n < 2 || n > 10) fail_msg("%zu snapshots in about 1 s at 0.2 s intervals", n);
    printf("target exited: %zu complete snapshots\n", n);
    expect_complete(f);
    ct_target_stop(&t);
    free(f);
    free(dir);
}

static void test_sigterm_series(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "series.msnap");
    ct_target t;
    start_map_target(&t, dir, NULL);
    char *argv[] = {MEMSNAP_CAPTURE_BIN, "-p", pidstr(t.pid), "-o", f, "--interval", "0.1", NULL};
    int of, ef;
    double t0 = ct_now();
    pid_t cap = ct_start(argv, &of, &ef);
    ct_sleep(0.7);
    if (kill(cap, SIGTERM)) fail_msg("kill(%d, SIGTERM): %s", (int)cap, strerror(errno));
    ct_result r;
    ct_finish(cap, of, ef, t0, 10, &r);
    expect(&r, 0, "SIGTERM during a series", "signal 15", "complete", NULL);
    ct_result_free(&r);
    size_t n = count_snapshots(f);
    if (n < 2) fail_msg("only %zu snapshots in 0.7 s at 0.1 s intervals", n);
    printf("SIGTERM: %zu complete snapshots\n", n);
    expect_complete(f);
    ct_target_stop(&t);
    free(f);
    free(dir);
}

/* While it reads smaps, the agent keeps its parsing thread on one CPU and
 * the reader on the others; between the snapshots of a series it must be
 * back to one thread with the CPU mask it was started with. */
static void test_cpu_mask_restored(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "series.msnap");
    ct_target t;
    start_big_target(&t, dir);
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof mine, &mine)) fail_msg("sched_getaffinity: %s", strerror(errno));
    if (CPU_COUNT(&mine) < 2)
        printf("note: this process may use one CPU only: the agent narrows no mask; checking it anyway\n");
    char *argv[] = {MEMSNAP_CAPTURE_BIN, "-p", pidstr(t.pid), "-o", f, "--interval", "3", "--count", "2", "-q", NULL};
    int of, ef;
    double t0 = ct_now();
    pid_t cap = ct_start(argv, &of, &ef);
    struct stat st;
    while (!(stat(f, &st) == 0 && st.st_size > 64) && ct_now() - t0 < 20) ct_sleep(0.01);
    if (!(st.st_size > 64)) fail_msg("no snapshot in %s after 20 s", f);
    cpu_set_t mask; /* of the agent's main thread (TID = PID) */
    if (sched_getaffinity(cap, sizeof mask, &mask)) fail_msg("sched_getaffinity(%d): %s", (int)cap, strerror(errno));
    int threads = count_tasks(cap);
    if (!CPU_EQUAL(&mask, &mine))
        fail_msg("between snapshots the agent's CPU mask has %d CPUs, not the %d it was started with", CPU_COUNT(&mask),
                 CPU_COUNT(&mine));
    if (threads != 1) fail_msg("between snapshots the agent runs %d threads, want 1", threads);
    printf("between snapshots: CPU mask of %d CPUs (as started), %d thread\n", CPU_COUNT(&mask), threads);
    kill(cap, SIGTERM);
    ct_result r;
    ct_finish(cap, of, ef, t0, 20, &r);
    expect(&r, 0, "SIGTERM between snapshots", NULL);
    ct_result_free(&r);
    expect_complete(f);
    ct_target_stop(&t);
    free(f);
    free(dir);
}

/* Mappings and their summed Size (KiB) in the one snapshot of `file`
 * (Size, not Rss: page reclaim, such as DAMON's, may change Rss between
 * two captures of an idle target). */
static void map_totals(const char *file, size_t *rows, uint64_t *size)
{
    size_t n;
    int rc;
    ms_snapshot **s = ct_read_snapshots(file, &n, &rc);
    if (n != 1) fail_msg("%s: %zu snapshots (%s), want 1", file, n, ms_errname(rc));
    const ms_section *m = ms_snapshot_section(s[0], MS_SEC_MAPPINGS);
    if (!m) fail_msg("%s: no mappings section", file);
    *rows = ms_section_nrows(m);
    *size = 0;
    for (size_t i = 0; i < *rows; i++) {
        uint64_t v = 0;
        if (ms_get_u64(m, MS_MAP_SIZE, i, &v)) *size += v;
    }
    ct_free_snapshots(s, n);
}

/* The rollup's Rss (failing if the snapshot has none) and which thread read
 * smaps_rollup, from the timing note: 1 a thread of its own, 0 the smaps
 * reader after smaps. */
static int rollup_of(const char *file, uint64_t *rss)
{
    size_t n;
    int rc, by = -1;
    ms_snapshot **s = ct_read_snapshots(file, &n, &rc);
    if (n != 1) fail_msg("%s: %zu snapshots (%s), want 1", file, n, ms_errname(rc));
    const ms_section *ru = ms_snapshot_section(s[0], MS_SEC_ROLLUP), *dg = ms_snapshot_section(s[0], MS_SEC_DIAGNOSTICS);
    if (!ru || !ms_kv_find(ru, "Rss", rss) || *rss == 0) fail_msg("%s: no rollup, or its Rss is 0", file);
    for (size_t i = 0; dg && i < ms_section_nrows(dg); i++) {
        const char *m;
        size_t ml;
        if (!ms_get_str(dg, MS_DG_MESSAGE, i, &m, &ml) || !m) continue;
        char note[1024];
        snprintf(note, sizeof note, "%.*s", (int)ml, m);
        if (strstr(note, "smaps_rollup read by a low-priority thread during the smaps read")) by = 1;
        if (strstr(note, "smaps_rollup read after smaps, during the encode")) by = 0;
    }
    ct_free_snapshots(s, n);
    if (by < 0) fail_msg("%s: the timing note does not say how smaps_rollup was read", file);
    return by;
}

/* On one CPU the reader and the parser share it (no CPU masks are set, the
 * parser's naps give the reader its turns; the reader reads smaps_rollup
 * after smaps): the snapshot must be the same as with every CPU, where a
 * third thread may read smaps_rollup during the smaps read. */
static void test_one_cpu(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL), *one = ct_path(dir, "one.msnap"), *all = ct_path(dir, "all.msnap");
    ct_target t;
    start_big_target(&t, dir);
    cpu_set_t mine, first;
    if (sched_getaffinity(0, sizeof mine, &mine)) fail_msg("sched_getaffinity: %s", strerror(errno));
    int c = 0;
    while (c < CPU_SETSIZE && !CPU_ISSET(c, &mine)) c++;
    CPU_ZERO(&first);
    CPU_SET(c, &first);
    if (sched_setaffinity(0, sizeof first, &first)) fail_msg("sched_setaffinity to CPU %d: %s", c, strerror(errno));
    ct_result r;
    capture(&r, 30, "-p", pidstr(t.pid), "-o", one, "-q", "--no-python", NULL);
    if (sched_setaffinity(0, sizeof mine, &mine)) fail_msg("restoring the CPU mask: %s", strerror(errno));
    expect(&r, 0, "capture on one CPU", NULL);
    ct_result_free(&r);
    capture(&r, 30, "-p", pidstr(t.pid), "-o", all, "-q", "--no-python", NULL);
    expect(&r, 0, "capture on every CPU", NULL);
    ct_result_free(&r);
    size_t n1, n2;
    uint64_t size1, size2;
    map_totals(one, &n1, &size1);
    map_totals(all, &n2, &size2);
    if (n1 != n2 || size1 != size2 || n1 < 3000)
        fail_msg("on CPU %d alone: %zu mappings, Size %llu KiB; on %d CPUs: %zu mappings, Size %llu KiB", c, n1,
                 (unsigned long long)size1, CPU_COUNT(&mine), n2, (unsigned long long)size2);
    printf("on CPU %d alone and on %d CPUs: %zu mappings, Size %llu KiB\n", c, CPU_COUNT(&mine), n1,
           (unsigned long long)size1);
    uint64_t rss1, rss2;
    if (rollup_of(one, &rss1) != 0) fail_msg("on one CPU a thread of its own read smaps_rollup");
    int by = rollup_of(all, &rss2);
    printf("smaps_rollup on %d CPUs read %s; rollup Rss %llu and %llu KiB\n", CPU_COUNT(&mine),
           by ? "by a thread of its own" : "after smaps (other tasks were running, or one CPU)",
           (unsigned long long)rss1, (unsigned long long)rss2);
    expect_complete(one);
    expect_complete(all);
    ct_target_stop(&t);
    free(one);
    free(all);
    free(dir);
}

/* A process that waits for a byte on `gate`, then spins on CPU `cpu`
 * until killed (recorded for cleanup). */
static pid_t start_hog(int cpu, int gate)
{
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof one, &one);
        char c;
        if (read(gate, &c, 1) != 1) _exit(1);
        for (volatile unsigned long x = 0;; x++) {
        }
    }
    ct_own_pid(pid);
    return pid;
}

/* The agent keeps the smaps reader and the parser on separate CPUs only
 * while that costs nobody: with other tasks running when it starts, it does
 * not; when a busy process takes the reader's CPU during the read, it gives
 * the threads their masks back. Here two processes start spinning, one on
 * each of the two CPUs the agent may use, once the agent (at its default
 * niceness 10) has started reading smaps: on a quiet machine that is the
 * second case; with other tests running meanwhile it may be the first. The
 * snapshot's timing note must say which, and the capture must finish. */
static void test_busy_cpus(void **state)
{
    (void)state;
    cpu_set_t mine, two;
    if (sched_getaffinity(0, sizeof mine, &mine)) fail_msg("sched_getaffinity: %s", strerror(errno));
    if (CPU_COUNT(&mine) < 2) {
        printf("SKIP: this process may use one CPU only; the agent keeps no threads apart there\n");
        return;
    }
    int cpu[2], k = 0;
    for (int c = 0; c < CPU_SETSIZE && k < 2; c++)
        if (CPU_ISSET(c, &mine)) cpu[k++] = c;
    char *dir = ct_tmpdir(NULL), *f = ct_path(dir, "busy.msnap");
    ct_target t;
    char *targv[] = {MAP_TARGET_BIN, "--many", "30000", dir, NULL}; /* a read of some 30 ms */
    ct_target_start(&t, targv, 20);
    int gate[2];
    if (pipe(gate)) fail_msg("pipe: %s", strerror(errno));
    pid_t hog[2] = {start_hog(cpu[0], gate[0]), start_hog(cpu[1], gate[0])};
    close(gate[0]);
    CPU_ZERO(&two);
    CPU_SET(cpu[0], &two);
    CPU_SET(cpu[1], &two);
    if (sched_setaffinity(0, sizeof two, &two)) fail_msg("sched_setaffinity: %s", strerror(errno));
    char *argv[] = {MEMSNAP_CAPTURE_BIN, "-p", pidstr(t.pid), "-o", f, "-q", "--no-python", NULL};
    int of, ef;
    double t0 = ct_now();
    pid_t cap = ct_start(argv, &of, &ef);
    if (sched_setaffinity(0, sizeof mine, &mine)) fail_msg("restoring the CPU mask: %s", strerror(errno));
    /* the spinning starts once the agent's smaps reader runs (its second
     * thread), so that it finds the CPUs free if the machine is quiet */
    while (count_tasks(cap) == 1 && ct_now() - t0 < 5) ct_sleep(0.0002); /* not a running task when the agent looks */
    if (write(gate[1], "gg", 2) != 2) fail_msg("starting the spinning processes: %s", strerror(errno));
    ct_result r;
    ct_finish(cap, of, ef, t0, 60, &r);
    close(gate[1]);
    ct_kill(hog[0]);
    ct_kill(hog[1]);
    expect(&r, 0, "capture beside two busy processes", NULL);
    printf("capture on CPUs %d and %d, both made busy: %.0f ms\n", cpu[0], cpu[1], r.secs * 1e3);
    ct_result_free(&r);
    char *dargv[] = {MEMSNAP_BIN, "dump", f, NULL};
    ct_run(dargv, 30, &r);
    if (r.status != 0) fail_msg("memsnap dump %s exited %d: %s", f, r.status, r.err);
    int released = ct_contains(r.out, "until the reader was short of CPU"),
        busy = ct_contains(r.out, "not kept on separate CPUs: other tasks were running");
    if (!released && !busy)
        fail_msg("the timing note says neither that the threads were let share CPUs nor why: %.2000s", r.out);
    printf("the agent's note: %s\n", released ? "kept apart until the reader was short of CPU"
                                              : "not kept apart, other tasks were running");
    ct_result_free(&r);
    expect_complete(f);
    ct_target_stop(&t);
    free(f);
    free(dir);
}

/* --------------------------------------------------------- disk full */

static char *mount_tmpfs(const char *dir, const char *size)
{
    char *mnt = ct_path(dir, "mnt");
    if (mkdir(mnt, 0755)) fail_msg("mkdir %s: %s", mnt, strerror(errno));
    char opts[64];
    snprintf(opts, sizeof opts, "size=%s,mode=0755", size);
    if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
        int e = errno;
        free(mnt);
        ct_skip("cannot mount a tmpfs: %s", strerror(e));
    }
    ct_own_mount(mnt);
    return mnt;
}

static void unmount(char *mnt)
{
    if (umount2(mnt, MNT_DETACH)) fail_msg("umount -l %s: %s", mnt, strerror(errno));
    ct_forget_mount(mnt);
    free(mnt);
}

static void test_disk_full_series(void **state)
{
    (void)state;
    if (geteuid() != 0) ct_skip("not root: cannot mount a small tmpfs");
    char *dir = ct_tmpdir(NULL);
    char *mnt = mount_tmpfs(dir, "200k");
    char *f = ct_path(mnt, "series.msnap");
    ct_target t;
    start_big_target(&t, dir);
    ct_result r;
    capture(&r, 40, "-p", pidstr(t.pid), "-o", f, "--interval", "0.05", NULL);
    expect(&r, 1, "series into a 200 KiB tmpfs", "disk full", "intact", NULL);
    ct_result_free(&r);
    size_t n = count_snapshots(f);
    struct stat st;
    stat(f, &st);
    printf("disk full after %zu complete snapshots, %lld bytes\n", n, (long long)st.st_size);
    if (n < 1) fail_msg("no complete snapshot before the disk was full");
    expect_complete(f);
    ct_target_stop(&t);
    free(f);
    unmount(mnt);
    free(dir);
}

/* Fills `mnt` completely, then frees `leave` bytes. */
static void fill(const char *mnt, off_t leave)
{
    char *filler = ct_path(mnt, "filler");
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) fail_msg("open %s: %s", filler, strerror(errno));
    static char block[65536];
    off_t total = 0;
    for (;;) {
        ssize_t k = write(fd, block, sizeof block);
        if (k <= 0) break;
        total += k;
    }
    for (;;) {
        ssize_t k = write(fd, block, 1);
        if (k <= 0) break;
        total += k;
    }
    if (ftruncate(fd, total > leave ? total - leave : 0)) fail_msg("ftruncate: %s", strerror(errno));
    close(fd);
    free(filler);
}

static void test_disk_full_single(void **state)
{
    (void)state;
    if (geteuid() != 0) ct_skip("not root: cannot mount a small tmpfs");
    char *dir = ct_tmpdir(NULL);
    ct_target t;
    start_big_target(&t, dir);
    long pg = sysconf(_SC_PAGESIZE);
    /* one free page: the file header fits, the snapshot does not;
     * no free page: not even the header fits */
    for (int free_pages = 1; free_pages >= 0; free_pages--) {
        char *mnt = mount_tmpfs(dir, "200k");
        fill(mnt, free_pages * pg);
        char *f = ct_path(mnt, "single.msnap");
        ct_result r;
        capture(&r, 20, "-p", pidstr(t.pid), "-o", f, NULL);
        char what[64];
        snprintf(what, sizeof what, "single snapshot with %d free page(s)", free_pages);
        expect(&r, 1, what, NULL);
        if (!ct_contains(r.err, "disk full") && !ct_contains(r.err, "No space left"))
            fail_msg("%s: stderr says neither disk full nor No space left: %s", what, r.err);
        printf("%s: %s", what, r.err);
        ct_result_free(&r);
        char *ls = list_dir(mnt);
        if (strcmp(ls, "filler ")) fail_msg("%s: files left in the tmpfs: %s", what, ls);
        free(ls);
        free(f);
        unmount(mnt);
        /* the mount point directory is reused */
        char *m = ct_path(dir, "mnt");
        rmdir(m);
        free(m);
    }
    ct_target_stop(&t);
    free(dir);
}

/* ------------------------------------------------------------ redact */

typedef struct {
    char *cmdline; /* arguments joined by '|' */
    char *file_path, *exe, *host;
    size_t cmdline_len;
    int usr_lib_kept, redacted_flag;
} redacted_view;

static void read_redacted(const char *file, const ct_target *t, redacted_view *v)
{
    memset(v, 0, sizeof *v);
    size_t n;
    ms_snapshot **s = ct_read_snapshots(file, &n, NULL);
    if (n != 1) fail_msg("%s: want 1 snapshot, got %zu", file, n);
    const ms_section *p = ct_section(s[0], MS_SEC_PROCESS), *m = ct_section(s[0], MS_SEC_MAPPINGS);
    const char *cl;
    size_t cll;
    if (!ms_get_str(p, MS_PROC_CMDLINE, 0, &cl, &cll) || !cl) fail_msg("no cmdline");
    v->cmdline = malloc(cll + 1);
    for (size_t i = 0; i < cll; i++) v->cmdline[i] = cl[i] ? cl[i] : '|';
    v->cmdline[cll] = 0;
    v->cmdline_len = cll;
    v->exe = ct_str(p, MS_PROC_EXE, 0);
    v->host = ct_str(ct_section(s[0], MS_SEC_HOST), MS_HOST_NAME, 0);
    v->redacted_flag = (ms_u64_or(ct_section(s[0], MS_SEC_SNAPSHOT), MS_SNAP_FLAGS, 0, 0) & 2) != 0;
    uint64_t start, end, rss;
    if (!ct_target_map(t, "file64k", &start, &end, &rss, NULL)) fail_msg("no file64k line");
    long row = ct_find_mapping(m, start);
    if (row < 0) fail_msg("file64k mapping missing");
    v->file_path = ct_str(m, MS_MAP_PATH, (size_t)row);
    for (size_t i = 0; i < ms_section_nrows(m); i++) {
        char *path = ct_str(m, MS_MAP_PATH, i);
        if (path && !strncmp(path, "/usr/lib/", 9)) v->usr_lib_kept = 1;
        free(path);
    }
    ct_free_snapshots(s, n);
}

static void free_view(redacted_view *v)
{
    free(v->cmdline);
    free(v->file_path);
    free(v->exe);
    free(v->host);
}

static void test_redact(void **state)
{
    (void)state;
    char *dir = ct_tmpdir("/tmp");
    ct_target t;
    start_map_target(&t, dir, NULL);
    char *f[3] = {ct_path(dir, "k1a.msnap"), ct_path(dir, "k1b.msnap"), ct_path(dir, "k2.msnap")};
    static const char *const keys[3] = {"key-one", "key-one", "key-two"};
    redacted_view v[3];
    for (int i = 0; i < 3; i++) {
        ct_result r;
        capture(&r, 10, "-p", pidstr(t.pid), "-o", f[i], "--redact-key", keys[i], "-q", NULL);
        expect(&r, 0, "--redact-key", NULL);
        ct_result_free(&r);
        read_redacted(f[i], &t, &v[i]);
    }
    /* what is hidden, and how */
    if (!v[0].redacted_flag) fail_msg("the snapshot is not flagged as redacted");
    if (strstr(v[0].cmdline, "secret-arg") || strstr(v[0].cmdline, dir))
        fail_msg("the command line still shows its arguments: %s", v[0].cmdline);
    const char *a1 = strchr(v[0].cmdline, '|');
    if (!a1 || strncmp(a1 + 1, "<redacted:", 10)) fail_msg("argument 1 is not <redacted:...>: %s", v[0].cmdline);
    if (redact_path_is_system(MAP_TARGET_BIN, strlen(MAP_TARGET_BIN))) {
        if (strncmp(v[0].cmdline, MAP_TARGET_BIN, strlen(MAP_TARGET_BIN))) fail_msg("argv[0] in a system directory was changed");
    } else if (strncmp(v[0].cmdline, "/redacted/", 10)) {
        fail_msg("argv[0] is not /redacted/...: %s", v[0].cmdline);
    }
    if (!v[0].exe || strncmp(v[0].exe, "/redacted/", 10)) fail_msg("exe is not redacted: %s", v[0].exe);
    if (!v[0].file_path || strncmp(v[0].file_path, "/redacted/", 10) || !strstr(v[0].file_path, ".bin") ||
        strstr(v[0].file_path, "data64k"))
        fail_msg("the path of a file under /tmp is \"%s\", want /redacted/<hash>.bin", v[0].file_path);
    if (!v[0].usr_lib_kept) fail_msg("no /usr/lib path kept: system libraries must stay readable");
    struct utsname u;
    uname(&u);
    if (!v[0].host || !strcmp(v[0].host, u.nodename) || strncmp(v[0].host, "<redacted:", 10))
        fail_msg("host name \"%s\" is not redacted (uname says \"%s\")", v[0].host, u.nodename);
    /* same key: same hashes; other key: other hashes */
    if (strcmp(v[0].cmdline, v[1].cmdline) || strcmp(v[0].file_path, v[1].file_path) || strcmp(v[0].host, v[1].host) ||
        strcmp(v[0].exe, v[1].exe))
        fail_msg("two captures with the same key differ: %s vs %s", v[0].cmdline, v[1].cmdline);
    if (!strcmp(v[0].cmdline, v[2].cmdline) || !strcmp(v[0].file_path, v[2].file_path) || !strcmp(v[0].host, v[2].host))
        fail_msg("two captures with different keys agree: %s", v[0].cmdline);
    printf("redacted: cmdline %s, file %s, host %s\n", v[0].cmdline, v[0].file_path, v[0].host);

    /* nothing of the names survives anywhere in the file's content */
    char *dump[] = {MEMSNAP_BIN, "dump", f[0], NULL};
    ct_result r;
    ct_run(dump, 10, &r);
    if (r.status != 0) fail_msg("memsnap dump failed: %s", r.err);
    static const char *const secrets[] = {"secret-arg", "data64k", "name with space", "deleted.bin"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(r.out, secrets[i])) fail_msg("\"%s\" appears in the dump of a redacted snapshot", secrets[i]);
    ct_result_free(&r);

    /* --redact without a key: a random one, noted in the diagnostics */
    char *f4 = ct_path(dir, "random.msnap");
    capture(&r, 10, "-p", pidstr(t.pid), "-o", f4, "--redact", "-q", NULL);
    expect(&r, 0, "--redact", NULL);
    ct_result_free(&r);
    char *info[] = {MEMSNAP_BIN, "dump", f4, NULL};
    ct_run(info, 10, &r);
    if (!ct_contains(r.out, "random key")) fail_msg("a random redaction key is not noted: %.300s", r.out);
    ct_result_free(&r);
    free(f4);
    for (int i = 0; i < 3; i++) {
        free_view(&v[i]);
        free(f[i]);
    }
    ct_target_stop(&t);
    free(dir);
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_no_such_pid, ct_teardown),
        cmocka_unit_test_teardown(test_zombie, ct_teardown),
        cmocka_unit_test_teardown(test_kernel_thread, ct_teardown),
        cmocka_unit_test_teardown(test_permission_denied, ct_teardown),
        cmocka_unit_test_teardown(test_existing_output, ct_teardown),
        cmocka_unit_test_teardown(test_append, ct_teardown),
        cmocka_unit_test_teardown(test_usage_errors, ct_teardown),
        cmocka_unit_test_teardown(test_no_dict, ct_teardown),
        cmocka_unit_test_teardown(test_target_exits_mid_series, ct_teardown),
        cmocka_unit_test_teardown(test_sigterm_series, ct_teardown),
        cmocka_unit_test_teardown(test_cpu_mask_restored, ct_teardown),
        cmocka_unit_test_teardown(test_one_cpu, ct_teardown),
        cmocka_unit_test_teardown(test_busy_cpus, ct_teardown),
        cmocka_unit_test_teardown(test_disk_full_series, ct_teardown),
        cmocka_unit_test_teardown(test_disk_full_single, ct_teardown),
        cmocka_unit_test_teardown(test_redact, ct_teardown),
    };
    return cmocka_run_group_tests_name("capture_cli", tests, NULL, NULL);
}

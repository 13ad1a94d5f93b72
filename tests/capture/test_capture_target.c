/*
 * test_capture_target.c - memsnap-capture on map_target, a process whose
 * every mapping is known: each mapping's addresses, permissions, path,
 * deleted flag, size and resident size must come back exactly, and so
 * must the process identity, the status lines, the rollup and the host
 * and snapshot facts.
 *
 * The group setup starts map_target, captures it once and reads the
 * snapshot; each test checks one part of it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "capture_test_util.h"

typedef struct {
    char *dir, *file;
    ct_target target;
    ms_snapshot **snaps;
    size_t nsnap;
    uint64_t wall_before, wall_after; /* ns, around the capture */
    char *smaps_starts;               /* the target's mapping starts as the test read them after */
} fixture;

static fixture fx;

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *target_args[] = {MAP_TARGET_BIN, NULL, "second arg", "", "-x=3", NULL};

static int group_setup(void **state)
{
    (void)state;
    fx.dir = ct_tmpdir("/tmp");
    target_args[1] = fx.dir;
    ct_target_start(&fx.target, target_args, 10);
    fx.file = ct_path(fx.dir, "snap.msnap");
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)fx.target.pid);
    char *argv[] = {MEMSNAP_CAPTURE_BIN, "-p", pid, "-o", fx.file, "-q", NULL};
    ct_result r;
    fx.wall_before = wall_ns();
    ct_run(argv, 20, &r);
    fx.wall_after = wall_ns();
    if (r.status != 0) fail_msg("memsnap-capture exited %d: %s", r.status, r.err);
    if (r.err_len) fail_msg("memsnap-capture -q wrote to stderr: %s", r.err);
    ct_result_free(&r);
    int rc;
    fx.snaps = ct_read_snapshots(fx.file, &fx.nsnap, &rc);
    if (rc != MS_ERR_END || fx.nsnap != 1) fail_msg("want 1 snapshot and a clean end, got %zu and %s", fx.nsnap, ms_errname(rc));
    /* the mappings as the test sees them now: the target is idle, so they
     * are the ones the agent saw */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)fx.target.pid);
    fx.smaps_starts = ct_read_file(path, NULL);
    if (!fx.smaps_starts) fail_msg("cannot read %s", path);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ct_target_stop(&fx.target);
    ct_free_snapshots(fx.snaps, fx.nsnap);
    free(fx.smaps_starts);
    free(fx.file);
    free(fx.dir);
    ct_cleanup_all();
    memset(&fx, 0, sizeof fx);
    return 0;
}

static const ms_snapshot *snap(void)
{
    if (!fx.snaps || !fx.nsnap) fail_msg("no snapshot (group setup failed)");
    return fx.snaps[0];
}

/* Checks one map_target mapping, row by row against what it reported. */
static void check_mapping(const char *kind, unsigned perms, const char *want_path, int deleted)
{
    uint64_t start, end, rss;
    char *reported = NULL;
    if (!ct_target_map(&fx.target, kind, &start, &end, &rss, &reported))
        fail_msg("map_target did not report its %s mapping: %s", kind, fx.target.lines);
    const ms_section *m = ct_section(snap(), MS_SEC_MAPPINGS);
    long row = ct_find_mapping(m, start);
    if (row < 0) fail_msg("%s: no mapping starts at 0x%llx", kind, (unsigned long long)start);
    size_t r = (size_t)row;
    ct_eq_u64(ms_u64_or(m, MS_MAP_END, r, 0), end, "%s: end", kind);
    ct_eq_u64(ms_u64_or(m, MS_MAP_PERMS, r, 0), perms, "%s: perms", kind);
    ct_eq_u64(ms_u64_or(m, MS_MAP_SIZE, r, 0), (end - start) / 1024, "%s: size_kib", kind);
    ct_eq_u64(ms_u64_or(m, MS_MAP_RSS, r, 99999), rss, "%s: rss_kib", kind);
    ct_eq_u64(ms_u64_or(m, MS_MAP_DELETED, r, 99), deleted, "%s: deleted", kind);
    char *path = ct_str(m, MS_MAP_PATH, r);
    const char *want = want_path ? want_path : reported;
    if (!want != !path || (want && strcmp(want, path)))
        fail_msg("%s: path \"%s\", want \"%s\"", kind, path ? path : "(null)", want ? want : "(null)");
    free(path);
    free(reported);
}

#define P_R 1u
#define P_W 2u
#define P_S 8u
#define P_P 16u

static void test_anon_8m(void **state)
{
    (void)state;
    check_mapping("anon8m", P_R | P_W | P_P, NULL, 0);
    uint64_t start, end, rss;
    ct_target_map(&fx.target, "anon8m", &start, &end, &rss, NULL);
    const ms_section *m = ct_section(snap(), MS_SEC_MAPPINGS);
    size_t r = (size_t)ct_find_mapping(m, start);
    ct_eq_u64(end - start, 8u << 20, "anon8m: bytes");
    ct_eq_u64(ms_u64_or(m, MS_MAP_RSS, r, 0), 5120, "anon8m: Rss of 5 MiB touched");
    ct_eq_u64(ms_u64_or(m, MS_MAP_ANONYMOUS, r, 0), 5120, "anon8m: Anonymous");
    ct_eq_u64(ms_u64_or(m, MS_MAP_PRIVATE_DIRTY, r, 0), 5120, "anon8m: Private_Dirty");
    ct_eq_u64(ms_u64_or(m, MS_MAP_ANON_HUGE, r, 0), 0, "anon8m: AnonHugePages (MADV_NOHUGEPAGE)");
}

static void test_file_64k(void **state)
{
    (void)state;
    check_mapping("file64k", P_R | P_P, NULL, 0);
}

static void test_file_with_spaces(void **state)
{
    (void)state;
    check_mapping("space", P_R | P_P, NULL, 0);
}

static void test_file_deleted(void **state)
{
    (void)state;
    check_mapping("deleted", P_R | P_P, NULL, 1);
}

static void test_anon_readonly(void **state)
{
    (void)state;
    check_mapping("anon_ro", P_R | P_P, NULL, 0);
}

static void test_anon_named(void **state)
{
    (void)state;
    const char *u = strstr(fx.target.lines, "ANON_NAME unsupported: ");
    if (u) {
        const char *nl = strchr(u, '\n');
        ct_skip("named anonymous mapping: the kernel refused PR_SET_VMA_ANON_NAME (%.*s)", (int)(nl ? nl - u - 23 : 40),
                u + 23);
    }
    check_mapping("anon_named", P_R | P_W | P_P, "[anon:msnap-test]", 0);
}

static void test_memfd(void **state)
{
    (void)state;
    check_mapping("memfd", P_R | P_W | P_S, "/memfd:msnap-memfd", 1);
}

static void test_shared_anon(void **state)
{
    (void)state;
    /* shared anonymous memory is a shmem file the kernel shows as deleted /dev/zero */
    check_mapping("shared_anon", P_R | P_W | P_S, "/dev/zero", 1);
}

/* Every mapping the test sees in /proc/PID/maps is in the snapshot, in order. */
static void test_all_mappings(void **state)
{
    (void)state;
    const ms_section *m = ct_section(snap(), MS_SEC_MAPPINGS);
    size_t row = 0;
    for (char *l = fx.smaps_starts; *l;) {
        char *nl = strchr(l, '\n');
        unsigned long long s, e;
        if (sscanf(l, "%llx-%llx", &s, &e) != 2) fail_msg("bad maps line %s", l);
        if (row >= ms_section_nrows(m)) fail_msg("mapping 0x%llx-0x%llx missing from the snapshot", s, e);
        ct_eq_u64(ms_u64_or(m, MS_MAP_START, row, 0), s, "start of mapping %zu", row);
        ct_eq_u64(ms_u64_or(m, MS_MAP_END, row, 0), e, "end of mapping %zu", row);
        row++;
        l = nl ? nl + 1 : l + strlen(l);
    }
    ct_eq_u64(ms_section_nrows(m), row, "mappings in the snapshot vs /proc/PID/maps");
}

static void test_process(void **state)
{
    (void)state;
    const ms_section *p = ct_section(snap(), MS_SEC_PROCESS);
    ct_eq_u64(ms_section_nrows(p), 1, "process rows");
    ct_eq_u64(ms_u64_or(p, MS_PROC_PID, 0, 0), (uint64_t)fx.target.pid, "process pid");
    ct_eq_u64(ms_u64_or(p, MS_PROC_PPID, 0, 0), (uint64_t)getpid(), "process ppid (the test started it)");
    ct_eq_u64(ms_u64_or(p, MS_PROC_UID, 0, 99999), getuid(), "process uid");
    ct_eq_u64(ms_u64_or(p, MS_PROC_EUID, 0, 99999), geteuid(), "process euid");
    ct_eq_u64(ms_u64_or(p, MS_PROC_THREADS, 0, 0), 1, "process threads");
    char *comm = ct_str(p, MS_PROC_COMM, 0);
    if (!comm || strcmp(comm, "map_target")) fail_msg("comm \"%s\", want \"map_target\"", comm ? comm : "(null)");
    free(comm);
    char *state_s = ct_str(p, MS_PROC_STATE, 0);
    if (!state_s || strcmp(state_s, "S")) fail_msg("state \"%s\", want \"S\" (sleeping in pause)", state_s);
    free(state_s);
    char real[PATH_MAX];
    if (!realpath(MAP_TARGET_BIN, real)) fail_msg("realpath %s: %s", MAP_TARGET_BIN, strerror(errno));
    char *exe = ct_str(p, MS_PROC_EXE, 0);
    if (!exe || strcmp(exe, real)) fail_msg("exe \"%s\", want \"%s\"", exe, real);
    free(exe);
    /* every argument, each NUL-terminated, the empty one included */
    const char *cl;
    size_t cll;
    if (!ms_get_str(p, MS_PROC_CMDLINE, 0, &cl, &cll) || !cl) fail_msg("no cmdline");
    size_t off = 0;
    for (int i = 0; target_args[i]; i++) {
        size_t al = strlen(target_args[i]);
        if (off + al + 1 > cll || memcmp(cl + off, target_args[i], al) || cl[off + al] != 0)
            fail_msg("cmdline argument %d is not \"%s\" (cmdline has %zu bytes)", i, target_args[i], cll);
        off += al + 1;
    }
    ct_eq_u64(cll, off, "cmdline bytes");
    int64_t adj = 99;
    if (!ms_get_i64(p, MS_PROC_OOM_SCORE_ADJ, 0, &adj)) fail_msg("no oom_score_adj");
}

static void test_proc_status(void **state)
{
    (void)state;
    const ms_section *st = ct_section(snap(), MS_SEC_PROC_STATUS);
    uint64_t v;
    static const char *const need[] = {"VmRSS", "VmSize", "VmPeak", "VmHWM", "RssAnon", "RssFile", "RssShmem"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!ms_kv_find(st, need[i], &v)) fail_msg("proc_status has no %s", need[i]);
    ms_kv_find(st, "VmRSS", &v);
    /* the 8 MiB mapping alone has 5 MiB resident */
    if (v < 5120) fail_msg("VmRSS %llu kB is less than the 5120 kB the target touched", (unsigned long long)v);
}

/* Rollup Pss vs the sum of the mappings' Pss in `snap`: 0 when within the
 * rounding window, else -1 with the figures in why. field: "Pss" or
 * "Pss_Anon" (rollup name), col: the matching MAPPINGS column. Pss is not
 * exactly additive: smaps rounds each mapping's Pss down to a KiB, the
 * rollup adds the unrounded figures and rounds once, so the rollup is at
 * least the sum and exceeds it by less than 1 KiB per mapping. */
static int pss_window(const ms_snapshot *sn, const char *field, unsigned col, char *why, size_t wl)
{
    const ms_section *m = ct_section(sn, MS_SEC_MAPPINGS), *ru = ct_section(sn, MS_SEC_ROLLUP);
    uint64_t pss = 0, rpss, n = ms_section_nrows(m);
    for (size_t i = 0; i < n; i++) pss += ms_u64_or(m, col, i, 0);
    if (!ms_kv_find(ru, field, &rpss)) fail_msg("rollup has no %s", field);
    if (rpss >= pss && rpss < pss + n) return 0;
    snprintf(why, wl, "rollup %s %llu kB is not within [%llu, %llu) (the sum of %llu mappings' rounded %s)", field,
             (unsigned long long)rpss, (unsigned long long)pss, (unsigned long long)(pss + n), (unsigned long long)n,
             field);
    return -1;
}

static void test_rollup(void **state)
{
    (void)state;
    const ms_section *m = ct_section(snap(), MS_SEC_MAPPINGS), *ru = ct_section(snap(), MS_SEC_ROLLUP);
    uint64_t sum = 0, rss;
    for (size_t i = 0; i < ms_section_nrows(m); i++) sum += ms_u64_or(m, MS_MAP_RSS, i, 0);
    if (!ms_kv_find(ru, "Rss", &rss)) fail_msg("rollup has no Rss");
    /* smaps and smaps_rollup are read at the same time; the target sleeps
     * in pause(), so nothing it maps changes in between. (smaps also lists
     * [vsyscall], which the rollup does not walk; its Rss is 0.) */
    ct_eq_u64(rss, sum, "rollup Rss vs the sum of the mappings' Rss");
    char why[256];
    /* The target's dirty pages are its own (it was exec'd, does not fork
     * and shares no writable memory): their Pss cannot change between the
     * two reads. (Per-mapping Pss_Dirty: kernels 6.0 and later.) */
    uint64_t dirty;
    if (!ms_kv_find(ru, "Pss_Dirty", &dirty))
        printf("SKIP: this kernel's smaps_rollup has no Pss_Dirty: dirty pages' Pss not compared\n");
    else if (pss_window(snap(), "Pss_Dirty", MS_MAP_PSS_DIRTY, why, sizeof why))
        fail_msg("%s", why);
    /* Its file pages are shared with every process mapping the same files
     * (libc): another process starting or exiting between the two reads
     * changes their Pss (the tests run in parallel). Such a snapshot is
     * taken again, a few times at most. */
    if (!pss_window(snap(), "Pss", MS_MAP_PSS, why, sizeof why)) return;
    for (int attempt = 2; attempt <= 5; attempt++) {
        printf("note: attempt %d: %s: another process changed shared pages' Pss meanwhile? capturing again\n",
               attempt - 1, why);
        char pid[16];
        snprintf(pid, sizeof pid, "%d", (int)fx.target.pid);
        char *file = ct_path(fx.dir, "rollup-again.msnap");
        char *argv[] = {MEMSNAP_CAPTURE_BIN, "-p", pid, "-o", file, "-q", "-f", NULL};
        ct_result r;
        ct_run(argv, 20, &r);
        if (r.status != 0) fail_msg("memsnap-capture exited %d: %s", r.status, r.err);
        ct_result_free(&r);
        size_t n;
        ms_snapshot **sn = ct_read_snapshots(file, &n, NULL);
        if (n != 1) fail_msg("want 1 snapshot in %s, got %zu", file, n);
        int ok = !pss_window(sn[0], "Pss", MS_MAP_PSS, why, sizeof why);
        ct_free_snapshots(sn, n);
        free(file);
        if (ok) return;
    }
    fail_msg("%s (5 snapshots)", why);
}

static void test_host(void **state)
{
    (void)state;
    const ms_section *h = ct_section(snap(), MS_SEC_HOST);
    ct_eq_u64(ms_u64_or(h, MS_HOST_PAGE_SIZE, 0, 0), (uint64_t)sysconf(_SC_PAGESIZE), "host page_size");
    ct_eq_u64(ms_u64_or(h, MS_HOST_NCPU, 0, 0), (uint64_t)sysconf(_SC_NPROCESSORS_ONLN), "host ncpu");
    struct utsname u;
    uname(&u);
    char *name = ct_str(h, MS_HOST_NAME, 0), *rel = ct_str(h, MS_HOST_KERNEL, 0), *mach = ct_str(h, MS_HOST_MACHINE, 0);
    if (!name || strcmp(name, u.nodename)) fail_msg("host name \"%s\", want \"%s\"", name, u.nodename);
    if (!rel || strcmp(rel, u.release)) fail_msg("kernel \"%s\", want \"%s\"", rel, u.release);
    if (!mach || strcmp(mach, u.machine)) fail_msg("machine \"%s\", want \"%s\"", mach, u.machine);
    free(name);
    free(rel);
    free(mach);
    if (ms_u64_or(h, MS_HOST_MEM_TOTAL, 0, 0) == 0) fail_msg("host mem_total missing");
}

static void test_snapshot_section(void **state)
{
    (void)state;
    const ms_section *s = ct_section(snap(), MS_SEC_SNAPSHOT);
    ct_eq_u64(ms_u64_or(s, MS_SNAP_PID, 0, 0), (uint64_t)fx.target.pid, "snapshot pid");
    ct_eq_u64(ms_u64_or(s, MS_SNAP_SEQ, 0, 99), 0, "snapshot seq");
    ct_eq_u64(ms_u64_or(s, MS_SNAP_FLAGS, 0, 99) & 2, 0, "snapshot redacted flag");
    char *agent = ct_str(s, MS_SNAP_AGENT, 0);
    if (!agent || strcmp(agent, CAPTURE_AGENT)) fail_msg("agent \"%s\", want \"%s\"", agent, CAPTURE_AGENT);
    free(agent);
    uint64_t wall = ms_u64_or(s, MS_SNAP_WALL_NS, 0, 0);
    if (wall < fx.wall_before || wall > fx.wall_after)
        fail_msg("snapshot wall time %llu is outside the capture run [%llu, %llu]", (unsigned long long)wall,
                 (unsigned long long)fx.wall_before, (unsigned long long)fx.wall_after);
    uint64_t dur = ms_u64_or(s, MS_SNAP_DURATION_NS, 0, 0);
    if (dur == 0 || dur > fx.wall_after - fx.wall_before) fail_msg("capture duration %llu ns is implausible", (unsigned long long)dur);
    const char *id;
    size_t idl;
    if (!ms_get_str(s, MS_SNAP_ID, 0, &id, &idl) || idl != 16) fail_msg("snapshot id is not 16 bytes");
    char *boot = ct_str(s, MS_SNAP_BOOT_ID, 0), *want = ct_read_file("/proc/sys/kernel/random/boot_id", NULL);
    if (want) want[strcspn(want, "\n")] = 0;
    if (!boot || !want || strcmp(boot, want)) fail_msg("boot id \"%s\", want \"%s\"", boot, want);
    free(boot);
    free(want);
}

/* A command line longer than the agent's 64 KiB scratch buffer (but within
 * its 128 KiB limit) comes back whole; one beyond the limit is cut and
 * the cut is noted in the diagnostics. */
static void long_cmdline(size_t arglen, int nargs)
{
    char *dir = ct_tmpdir(NULL);
    char *big[4];
    for (int i = 0; i < nargs; i++) {
        big[i] = malloc(arglen + 1);
        memset(big[i], 'a' + i, arglen);
        big[i][arglen] = 0;
    }
    char *argv[8] = {MAP_TARGET_BIN, dir};
    for (int i = 0; i < nargs; i++) argv[2 + i] = big[i];
    argv[2 + nargs] = NULL;
    ct_target t;
    ct_target_start(&t, argv, 10);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)t.pid);
    char *file = ct_path(dir, "long.msnap");
    char *cap[] = {MEMSNAP_CAPTURE_BIN, "-p", pid, "-o", file, "-q", NULL};
    ct_result r;
    ct_run(cap, 20, &r);
    if (r.status != 0) fail_msg("memsnap-capture exited %d on a %zu-byte command line: %s", r.status,
                                arglen * (size_t)nargs, r.err);
    ct_result_free(&r);
    size_t n;
    ms_snapshot **s = ct_read_snapshots(file, &n, NULL);
    if (n != 1) fail_msg("want 1 snapshot, got %zu", n);
    const ms_section *p = ct_section(s[0], MS_SEC_PROCESS);
    const char *cl;
    size_t cll;
    if (!ms_get_str(p, MS_PROC_CMDLINE, 0, &cl, &cll) || !cl) fail_msg("no cmdline");
    size_t full = strlen(MAP_TARGET_BIN) + 1 + strlen(dir) + 1 + (arglen + 1) * (size_t)nargs;
    int cut = full > (128u << 10) - 1;
    size_t want_len = cut ? (128u << 10) : full; /* cut at 128 KiB - 1, plus the closing NUL */
    ct_eq_u64(cll, want_len, "cmdline bytes");
    size_t off = strlen(MAP_TARGET_BIN) + 1 + strlen(dir) + 1;
    if (memcmp(cl, MAP_TARGET_BIN, strlen(MAP_TARGET_BIN))) fail_msg("cmdline does not start with argv[0]");
    for (size_t i = off; i < cll - 1; i++) {
        size_t k = (i - off) % (arglen + 1);
        char want = k == arglen ? 0 : (char)('a' + (i - off) / (arglen + 1));
        if (cl[i] != want) fail_msg("cmdline byte %zu is 0x%02x, want 0x%02x", i, (unsigned char)cl[i], (unsigned char)want);
    }
    if (cl[cll - 1] != 0) fail_msg("cmdline does not end with a NUL");
    const ms_section *dg = ms_snapshot_section(s[0], MS_SEC_DIAGNOSTICS);
    int noted = 0;
    for (size_t i = 0; dg && i < ms_section_nrows(dg); i++) {
        char *area = ct_str(dg, MS_DG_AREA, i);
        if (area && !strcmp(area, "process.cmdline")) noted = 1;
        free(area);
    }
    if (noted != cut) fail_msg("cmdline cut: %d, noted in diagnostics: %d", cut, noted);
    ct_free_snapshots(s, n);
    ct_target_stop(&t);
    for (int i = 0; i < nargs; i++) free(big[i]);
    free(file);
    free(dir);
}

static void test_long_cmdline(void **state)
{
    (void)state;
    long_cmdline(100000, 1); /* 100 KB: kept whole */
}

static void test_cut_cmdline(void **state)
{
    (void)state;
    long_cmdline(100000, 2); /* 200 KB: cut at 128 KiB */
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anon_8m),       cmocka_unit_test(test_file_64k),
        cmocka_unit_test(test_file_with_spaces), cmocka_unit_test(test_file_deleted),
        cmocka_unit_test(test_anon_readonly), cmocka_unit_test(test_anon_named),
        cmocka_unit_test(test_memfd),         cmocka_unit_test(test_shared_anon),
        cmocka_unit_test(test_all_mappings),  cmocka_unit_test(test_process),
        cmocka_unit_test(test_proc_status),   cmocka_unit_test(test_rollup),
        cmocka_unit_test(test_host),          cmocka_unit_test(test_snapshot_section),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test_teardown(test_long_cmdline, ct_teardown),
        cmocka_unit_test_teardown(test_cut_cmdline, ct_teardown),
    };
    int failed = cmocka_run_group_tests_name("capture_target", tests, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("capture_target_cmdline", alone, NULL, NULL);
    return failed ? 1 : 0;
}

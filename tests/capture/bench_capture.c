/*
 * bench_capture.c - how much the capture agent costs compared with the
 * kernel's own floor: formatting /proc/PID/smaps.
 *
 * usage: bench_capture [--mappings N] [--repeat R] [--capture-bin PATH]
 *                      [--static-bin PATH] [--dir DIR]
 *
 * It forks a helper process holding N small anonymous mappings (1-8
 * pages, alternating protection so they cannot merge, about half with a
 * page touched),
 * then measures, R times each, and reports medians:
 *   1  the floor: open + read /proc/PID/smaps whole into a buffer;
 *      1b the same through `cat` run as a program (context for 2)
 *   2  memsnap-capture run as a program (fork/exec/wait, wall time), one
 *      fresh file per run; 2c the time per snapshot of a series (21
 *      snapshots back to back, less one (2), over 20); 2b capture_one() in
 *      this process (no exec);
 *      ratio of each to the floor (goal: <= 1.5x): the median over the
 *      runs of each run's time over a floor read just before it (the
 *      machine's load drifts during the benchmark); in wall time and, as
 *      other load on the machine inflates wall times, in CPU time
 *   3  snapshot bytes per 1,000 mappings
 *   4  the agent's peak RSS (wait4 ru_maxrss)
 *   5  pmap -X PID, when pmap is installed, against the same floor
 *   6  the statically linked agent, when built: size, ldd's verdict, time
 * Nothing is asserted about speed; the exit status is 0 when every step ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "msnap.h"

#define MAX_REPEAT 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by this process so far (all threads, user + system). */
static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
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

/* The helper: N mappings of 1-8 pages in one region, alternating
 * read-only and read-write (so the kernel cannot merge them), about half
 * with one page touched; sizes and touches vary pseudo-randomly so the
 * snapshot compresses like a real process's, not like a pattern. Then it
 * waits to be killed. */
static pid_t start_helper(long n, int *ready_fd)
{
    int p[2];
    if (pipe(p)) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        close(p[0]);
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        unsigned char *m = mmap(NULL, (size_t)n * 8 * pg, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) _exit(2);
        madvise(m, (size_t)n * 8 * pg, MADV_NOHUGEPAGE);
        uint32_t rng = 2463534242u;
        unsigned char *q = m;
        for (long i = 0; i < n; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            size_t pages = 1 + rng % 8;
            if ((rng >> 8) & 1) q[pg * ((rng >> 9) % pages)] = 1;
            if (i % 2 && mprotect(q, pages * pg, PROT_READ)) _exit(3);
            q += pages * pg;
        }
        unsigned char *end = m + (size_t)n * 8 * pg;
        if (q < end && munmap(q, (size_t)(end - q))) _exit(3);
        if (write(p[1], "R", 1) != 1) _exit(4);
        for (;;) pause();
    }
    close(p[1]);
    *ready_fd = p[0];
    return pid;
}

/* Reads /proc/PID/smaps whole; returns bytes, or -1. */
static long read_smaps(pid_t pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long total = 0;
    for (;;) {
        ssize_t k = read(fd, buf, cap);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        total += k;
    }
    close(fd);
    return total;
}

/* Runs argv with stdout/stderr to /dev/null (stderr kept when show_err);
 * returns the exit status (or -1), the wall time and the child's rusage. */
static int run(char *const argv[], double *secs, struct rusage *ru, int show_err)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0);
        dup2(nul, 1);
        if (!show_err) dup2(nul, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage r;
    while (wait4(pid, &st, 0, &r) < 0)
        if (errno != EINTR) return -1;
    *secs = now() - t0;
    if (ru) *ru = r;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int on_path(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(out, len, "%.*s/%s", (int)n, path, name);
        if (access(out, X_OK) == 0) return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

typedef struct {
    double med_s, med_cpu_s;
    double med_ratio; /* median over the runs of (run time / the floor read just before it) */
    long med_rss_kib, max_rss_kib;
    long bytes;
} agent_stats;

/* One floor read (the (1) measurement) of the helper's smaps; seconds. */
static double floor_once(pid_t pid)
{
    static char fbuf[1u << 20];
    double t0 = now();
    read_smaps(pid, fbuf, sizeof fbuf);
    return now() - t0;
}

/* Runs the agent binary R times into fresh files under dir; `extra` holds
 * up to 6 more arguments, NULL-terminated (or is NULL). Each run is paired
 * with a floor read just before it: the machine's load drifts during a
 * benchmark, and a ratio of neighbours is steadier than one of medians
 * taken seconds apart. `base` is subtracted from each run time and the
 * rest divided by `per` before the ratio (a series: per-snapshot time). */
static int bench_agent(const char *bin, const char *const *extra, pid_t pid, const char *dir, int repeat,
                       double base, double per, agent_stats *out)
{
    double t[MAX_REPEAT], cpu[MAX_REPEAT], ratio[MAX_REPEAT];
    double rss[MAX_REPEAT];
    char pids[16], file[4096];
    snprintf(pids, sizeof pids, "%d", (int)pid);
    out->max_rss_kib = 0;
    for (int i = 0; i < repeat; i++) {
        snprintf(file, sizeof file, "%s/agent-%d.msnap", dir, i);
        char *argv[16] = {(char *)bin, "-p", pids, "-o", file, "-q"};
        for (int k = 0; extra && extra[k] && k < 6; k++) argv[6 + k] = (char *)extra[k];
        struct rusage ru;
        double f = floor_once(pid);
        int rc = run(argv, &t[i], &ru, 1);
        ratio[i] = (t[i] - base) / per / f;
        if (rc != 0) {
            fprintf(stderr, "bench_capture: %s exited %d\n", bin, rc);
            return -1;
        }
        struct stat st;
        if (stat(file, &st) == 0) out->bytes = (long)st.st_size;
        unlink(file);
        rss[i] = (double)ru.ru_maxrss;
        cpu[i] = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 (double)ru.ru_stime.tv_usec / 1e6;
        if (ru.ru_maxrss > out->max_rss_kib) out->max_rss_kib = ru.ru_maxrss;
    }
    out->med_s = median(t, repeat);
    out->med_cpu_s = median(cpu, repeat);
    out->med_ratio = median(ratio, repeat);
    out->med_rss_kib = (long)median(rss, repeat);
    return 0;
}

/* The agent's own phase timings, kept in the snapshot's diagnostics,
 * into out ("" if absent). */
static void read_timing(const char *file, char *out, size_t len)
{
    out[0] = 0;
    int err;
    ms_reader *r = ms_reader_open(file, 0, &err, NULL, 0);
    ms_snapshot *s = NULL;
    if (r && ms_reader_next(r, &s) == 0) {
        const ms_section *dg = ms_snapshot_section(s, MS_SEC_DIAGNOSTICS);
        for (size_t i = 0; dg && i < ms_section_nrows(dg); i++) {
            const char *area, *msg;
            size_t al, ml;
            if (ms_get_str(dg, MS_DG_AREA, i, &area, &al) && area && al == 14 && !memcmp(area, "capture.timing", 14) &&
                ms_get_str(dg, MS_DG_MESSAGE, i, &msg, &ml) && msg)
                snprintf(out, len, "%.*s", (int)ml, msg);
        }
    }
    ms_snapshot_free(s);
    ms_reader_close(r);
}

static const char *verdict(double ratio)
{
    return ratio <= 1.5 ? "goal <= 1.5x met" : "goal <= 1.5x NOT met";
}

int main(int argc, char **argv)
{
    long n = 10000;
    int repeat = 15;
    const char *bin = MEMSNAP_CAPTURE_BIN, *static_bin = NULL, *dir_base = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--mappings") && v) n = atol(v), i++;
        else if (!strcmp(argv[i], "--repeat") && v) repeat = atoi(v), i++;
        else if (!strcmp(argv[i], "--capture-bin") && v) bin = v, i++;
        else if (!strcmp(argv[i], "--static-bin") && v) static_bin = v, i++;
        else if (!strcmp(argv[i], "--dir") && v) dir_base = v, i++;
        else {
            fprintf(stderr, "usage: bench_capture [--mappings N] [--repeat R] [--capture-bin PATH] "
                            "[--static-bin PATH] [--dir DIR]\n");
            return 2;
        }
    }
    if (n < 1 || n > 60000 || repeat < 1 || repeat > MAX_REPEAT) {
        fprintf(stderr, "bench_capture: --mappings 1..60000, --repeat 1..%d\n", MAX_REPEAT);
        return 2;
    }
    if (!dir_base) dir_base = getenv("TMPDIR");
    if (!dir_base || !*dir_base) dir_base = "/tmp";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/bench_capture-XXXXXX", dir_base);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_capture: mkdtemp %s: %s\n", dir, strerror(errno));
        return 1;
    }

    int ready;
    pid_t helper = start_helper(n, &ready);
    char c;
    if (helper < 0 || read(ready, &c, 1) != 1) {
        fprintf(stderr, "bench_capture: the helper process failed to set up %ld mappings\n", n);
        if (helper > 0) {
            kill(helper, SIGKILL);
            waitpid(helper, NULL, 0);
        }
        rmdir(dir);
        return 1;
    }
    close(ready);
    int rc = 0;
    size_t cap = 1u << 20;
    char *buf = malloc(cap);

    /* how many mappings the helper really has, and the text size */
    long text = read_smaps(helper, buf, cap);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)helper);
    FILE *mf = fopen(path, "r");
    long maps = 0;
    for (int ch; mf && (ch = fgetc(mf)) != EOF;) maps += ch == '\n';
    if (mf) fclose(mf);
    printf("bench_capture: helper PID %d with %ld mappings (%ld asked), smaps text %.1f KiB; %d repetitions, medians\n",
           (int)helper, maps, n, (double)text / 1024, repeat);
    char *load = NULL;
    FILE *lf = fopen("/proc/loadavg", "r");
    size_t ll = 0;
    if (lf && getline(&load, &ll, lf) > 0) load[strcspn(load, "\n")] = 0;
    if (lf) fclose(lf);
    printf("  agent: %s\n  output files in %s\n  %ld CPUs online, load average %s (timings are wall clock: other load\n"
           "  inflates them, the agent's default niceness 10 even more)\n",
           bin, dir, sysconf(_SC_NPROCESSORS_ONLN), load ? load : "?");
    free(load);

    /* 1: the floor */
    double t[MAX_REPEAT], cpu[MAX_REPEAT], ratio[MAX_REPEAT];
    for (int i = 0; i < repeat; i++) {
        double c0 = cpu_self(), t0 = now();
        if (read_smaps(helper, buf, cap) < 0) rc = 1;
        t[i] = now() - t0;
        cpu[i] = cpu_self() - c0;
    }
    double floor_s = median(t, repeat), floor_cpu = median(cpu, repeat);
    printf("(1) kernel floor, read /proc/PID/smaps:     %8.2f ms; CPU %.2f ms\n", floor_s * 1e3, floor_cpu * 1e3);
    /* 1b: the same floor paid by a program (fork, exec, cat): the agent's
     * own start-up is in (2), so this says how much of (2)'s excess over
     * (1) any program pays. Context only: the goal is against (1). */
    char cat[4096], smaps_path[64];
    double cat_s = 0;
    if (on_path("cat", cat, sizeof cat)) {
        snprintf(smaps_path, sizeof smaps_path, "/proc/%d/smaps", (int)helper);
        char *cat_argv[] = {cat, smaps_path, NULL};
        int ok = 0;
        for (int i = 0; i < repeat; i++)
            if (run(cat_argv, &t[ok], NULL, 0) == 0) ok++;
        if (ok) {
            cat_s = median(t, ok);
            printf("(1b) the floor as a program, cat smaps:     %8.2f ms  = %.2fx (1) (fork/exec/wait, wall)\n",
                   cat_s * 1e3, cat_s / floor_s);
        }
    }

    /* 2: the agent program */
    agent_stats a = {0};
    if (bench_agent(bin, NULL, helper, dir, repeat, 0, 1, &a) == 0) {
        printf("(2) memsnap-capture (fork/exec, wall):      %8.2f ms  = %.2fx floor (%s); CPU %.2f ms = %.2fx floor CPU\n",
               a.med_s * 1e3, a.med_ratio, verdict(a.med_ratio), a.med_cpu_s * 1e3, a.med_cpu_s / floor_cpu);
        if (cat_s > 0) printf("    (2) against (1b), both programs:         %.2fx\n", a.med_s / cat_s);
    } else {
        rc = 1;
    }
    static const char *const nice0[] = {"--nice", "0", NULL};
    agent_stats a0 = {0};
    if (bench_agent(bin, nice0, helper, dir, repeat, 0, 1, &a0) == 0)
        printf("    the same with --nice 0:                 %8.2f ms  = %.2fx floor; CPU %.2f ms\n", a0.med_s * 1e3,
               a0.med_ratio, a0.med_cpu_s * 1e3);
    else
        rc = 1;
    /* the same, writing to a tmpfs: what the fsyncs of a durable write cost */
    struct stat shm;
    if (stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) && access("/dev/shm", W_OK) == 0) {
        char sdir[64] = "/dev/shm/bench_capture-XXXXXX";
        if (mkdtemp(sdir)) {
            agent_stats s = {0};
            if (bench_agent(bin, nice0, helper, sdir, repeat, 0, 1, &s) == 0)
                printf("    --nice 0, writing to /dev/shm (tmpfs):  %8.2f ms  = %.2fx floor (no disk sync)\n",
                       s.med_s * 1e3, s.med_ratio);
            rmdir(sdir);
        }
    }

    /* 2c: the time per snapshot of a series: SERIES snapshots back to back
     * (an interval shorter than a capture), less one single snapshot run,
     * over SERIES - 1. The program's start-up and the writer's first
     * snapshot costs (its dictionary) are paid once per series. */
    {
        enum { SERIES = 21 };
        static const char *const series[] = {"--interval", "0.001", "--count", "21", NULL};
        agent_stats sr = {0};
        int sreps = repeat < 7 ? repeat : 7;
        if (a.med_s > 0 && bench_agent(bin, series, helper, dir, sreps, a.med_s, SERIES - 1, &sr) == 0) {
            double per = (sr.med_s - a.med_s) / (SERIES - 1);
            printf("(2c) per snapshot in a series of %d:        %8.2f ms  = %.2fx floor (%s); the series took %.1f ms "
                   "(medians of %d), less (2)\n",
                   SERIES, per * 1e3, sr.med_ratio, verdict(sr.med_ratio), sr.med_s * 1e3, sreps);
        } else {
            rc = 1;
        }
    }

    /* 2b: capture_one in this process */
    capture_target tg = {.pid = helper, .max_mappings = 262144, .proc_root = "/proc"};
    char msg[768];
    if (capture_check(&tg, msg, sizeof msg) != CAPTURE_OK) {
        fprintf(stderr, "bench_capture: capture_check: %s\n", msg);
        rc = 1;
    } else {
        long bytes = 0;
        int ok = 1;
        char timing[640] = "";
        for (int i = 0; i < repeat && ok; i++) {
            char file[4200];
            snprintf(file, sizeof file, "%s/inproc-%d.msnap", dir, i);
            int err;
            char eb[512];
            ms_writer *w = ms_writer_open(file, MS_CREATE, CAPTURE_AGENT, 9, &err, eb, sizeof eb);
            if (!w) {
                fprintf(stderr, "bench_capture: %s\n", eb);
                ok = 0;
                break;
            }
            capture_result res;
            double f = floor_once(helper);
            double c0 = cpu_self(), t0 = now();
            capture_status cs = capture_one(&tg, w, &res);
            t[i] = now() - t0;
            cpu[i] = cpu_self() - c0;
            ratio[i] = t[i] / f;
            if (cs != CAPTURE_OK) {
                fprintf(stderr, "bench_capture: capture_one: %s\n", res.msg);
                ok = 0;
            }
            ms_writer_close(w);
            struct stat st;
            if (stat(file, &st) == 0) bytes = (long)st.st_size;
            if (ok && i == repeat - 1) read_timing(file, timing, sizeof timing);
            unlink(file);
        }
        if (ok) {
            double s = median(t, repeat), sr = median(ratio, repeat);
            double sc = median(cpu, repeat);
            printf("(2b) capture_one() in process:             %8.2f ms  = %.2fx floor (%s); CPU %.2f ms = %.2fx floor CPU\n",
                   s * 1e3, sr, verdict(sr), sc * 1e3, sc / floor_cpu);
            if (timing[0]) printf("     phases of the last run (its diagnostics): %s\n", timing);
            if (!a.bytes) a.bytes = bytes;
        } else {
            rc = 1;
        }
    }

    /* 3, 4 */
    if (a.bytes)
        printf("(3) snapshot size: %ld bytes, %.0f bytes per 1,000 mappings\n", a.bytes,
               (double)a.bytes / ((double)maps / 1000));
    if (a.max_rss_kib)
        printf("(4) agent peak RSS: median %.1f MiB, max %.1f MiB\n", (double)a.med_rss_kib / 1024,
               (double)a.max_rss_kib / 1024);

    /* 5: pmap -X */
    char pmap[4096];
    if (on_path("pmap", pmap, sizeof pmap)) {
        char pids[16];
        snprintf(pids, sizeof pids, "%d", (int)helper);
        char *pargv[] = {pmap, "-X", pids, NULL};
        int ok = 1;
        for (int i = 0; i < repeat && ok; i++)
            if (run(pargv, &t[i], NULL, 0) != 0) ok = 0;
        if (ok) {
            double s = median(t, repeat);
            printf("(5) pmap -X PID (%s):          %8.2f ms  = %.2fx floor\n", pmap, s * 1e3, s / floor_s);
        } else {
            printf("(5) pmap -X failed; not compared\n");
        }
    } else {
        printf("(5) pmap is not installed (procps); not compared\n");
    }

    /* 6: the static agent */
    char sbin[4200];
    if (!static_bin) {
        snprintf(sbin, sizeof sbin, "%s/build-static/capture/memsnap-capture", MEMSNAP_SOURCE_DIR);
        if (access(sbin, X_OK) == 0) static_bin = sbin;
    }
    if (static_bin) {
        struct stat st;
        if (stat(static_bin, &st) != 0) {
            printf("(6) static agent %s: %s\n", static_bin, strerror(errno));
        } else {
            char cmd[4400];
            snprintf(cmd, sizeof cmd, "ldd '%s' 2>&1", static_bin);
            FILE *p = popen(cmd, "r");
            char line[512] = "";
            int is_static = 0;
            while (p && fgets(line, sizeof line, p))
                if (strstr(line, "not a dynamic executable") || strstr(line, "statically linked")) is_static = 1;
            if (p) pclose(p);
            printf("(6) static agent %s: %lld bytes (%.1f MiB), ldd: %s\n", static_bin, (long long)st.st_size,
                   (double)st.st_size / (1 << 20), is_static ? "not a dynamic executable" : "DYNAMIC (not static)");
            agent_stats s = {0};
            if (bench_agent(static_bin, NULL, helper, dir, repeat, 0, 1, &s) == 0)
                printf("    static agent (fork/exec, wall):         %8.2f ms  = %.2fx floor; CPU %.2f ms; peak RSS %.1f MiB\n",
                       s.med_s * 1e3, s.med_ratio, s.med_cpu_s * 1e3, (double)s.max_rss_kib / 1024);
        }
    } else {
        printf("(6) no static agent found; build one with:\n"
               "      cmake -S %s -B %s/build-static -DMEMSNAP_STATIC_CAPTURE=ON -DMEMSNAP_TESTS=OFF -DMEMSNAP_BENCH=OFF\n"
               "      cmake --build %s/build-static --target memsnap-capture\n"
               "    then pass --static-bin %s/build-static/capture/memsnap-capture\n",
               MEMSNAP_SOURCE_DIR, MEMSNAP_SOURCE_DIR, MEMSNAP_SOURCE_DIR, MEMSNAP_SOURCE_DIR);
    }

    kill(helper, SIGKILL);
    waitpid(helper, NULL, 0);
    free(buf);
    rmdir(dir);
    return rc;
}

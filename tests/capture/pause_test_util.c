/*
 * pause_test_util.c - helpers of the pause tests (see pause_test_util.h).
 */
#include "pause_test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* --------------------------------------------------------------- target */

static void tt_line(tt *g, const char *l)
{
    unsigned long long seq, pr, u, r, sp, v;
    if (sscanf(l, "TICK %llu %llu %llu %llu %llu", &seq, &pr, &u, &r, &sp) == 5) {
        g->ticks++;
        g->progress = pr;
        g->usr1 = u;
        g->rt = r;
        g->spawned = sp;
    } else if (sscanf(l, "VFORK %llu", &v) == 1) {
        g->vforks = v;
    }
}

/* Reads what the target printed, waiting up to `wait` s for something.
 * Returns the number of bytes read. */
size_t tt_read(tt *g, double wait)
{
    size_t total = 0;
    double until = ct_now() + wait;
    for (;;) {
        char buf[8192];
        ssize_t k = read(g->t.out_fd, buf, sizeof buf);
        if (k > 0) {
            total += (size_t)k;
            for (ssize_t i = 0; i < k; i++) {
                if (buf[i] == '\n') {
                    g->part[g->plen] = 0;
                    tt_line(g, g->part);
                    g->plen = 0;
                } else if (g->plen + 1 < sizeof g->part) {
                    g->part[g->plen++] = buf[i];
                }
            }
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k == 0) return total; /* the target closed its stdout (exited) */
        double left = until - ct_now();
        if (total || left <= 0) return total;
        struct pollfd pf = {g->t.out_fd, POLLIN, 0};
        poll(&pf, 1, (int)(left * 1000) + 1);
    }
}

/* Waits until the target printed `n` more TICK lines; fails after `timeout`. */
void tt_wait_ticks(tt *g, unsigned n, double timeout, const char *why)
{
    unsigned long long want = g->ticks + n;
    double until = ct_now() + timeout;
    while (g->ticks < want) {
        if (ct_now() > until)
            fail_msg("%s: PID %d printed %llu TICK lines in %.1f s, want %u: it does not run", why, (int)g->t.pid,
                     g->ticks + n - want, timeout, n);
        tt_read(g, 0.05);
    }
}

void tt_start(tt *g, char *const argv[])
{
    memset(g, 0, sizeof *g);
    ct_target_start(&g->t, argv, 20);
    int fl = fcntl(g->t.out_fd, F_GETFL);
    fcntl(g->t.out_fd, F_SETFL, fl | O_NONBLOCK);
    tt_wait_ticks(g, 2, 5, "after start");
}

void tt_start_c(tt *g, const char *mode, int threads, const char *extra1, const char *extra2)
{
    char n[16];
    snprintf(n, sizeof n, "%d", threads);
    char *argv[] = {THREAD_TARGET_BIN, "--mode", (char *)mode, "--threads", n, (char *)extra1, (char *)extra2, NULL};
    tt_start(g, argv);
}

char *tt_report(int fd, double timeout, const char *what)
{
    char *line = calloc(1, 1200);
    if (!line) fail_msg("out of memory");
    size_t n = 0;
    double until = ct_now() + timeout;
    while (n + 1 < 1200 && !(n && line[n - 1] == '\n')) {
        struct pollfd pf = {fd, POLLIN, 0};
        double left = until - ct_now();
        if (left <= 0 || poll(&pf, 1, (int)(left * 1000) + 1) == 0)
            fail_msg("%s: no report within %.0f s (got \"%s\")", what, timeout, line);
        ssize_t k = read(fd, line + n, 1);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) fail_msg("%s: the helper ended without a report (got \"%s\")", what, line);
        n++;
    }
    line[strcspn(line, "\n")] = 0;
    return line;
}

void tt_start_under_helper(tt *g, const char *mode, int threads, tt_helper_fn fn, void *arg, pid_t *helper,
                           int *report_fd)
{
    static int subreaper;
    if (!subreaper) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1)) fail_msg("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
        subreaper = 1;
    }
    memset(g, 0, sizeof *g);
    int out[2], rep[2], go[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(rep, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) fail_msg("pipe: %s", strerror(errno));
    char n[16];
    snprintf(n, sizeof n, "%d", threads);
    char *argv[] = {THREAD_TARGET_BIN, "--mode", (char *)mode, "--threads", n, NULL};
    fflush(NULL);
    pid_t h = fork();
    if (h < 0) fail_msg("fork: %s", strerror(errno));
    if (h == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(out[0]);
        close(rep[0]);
        close(go[1]);
        pid_t t = fork();
        if (t == 0) {
            /* no PDEATHSIG: the target must outlive the helper; the test kills it */
            dup2(out[1], 1);
            int nul = open("/dev/null", O_RDONLY);
            if (nul >= 0) dup2(nul, 0);
            execv(argv[0], argv);
            _exit(127);
        }
        close(out[1]);
        dprintf(rep[1], "TARGET %d\n", (int)t);
        char c;
        if (t < 0 || read(go[0], &c, 1) != 1) _exit(1);
        fn(t, rep[1], arg);
        _exit(0);
    }
    ct_own_pid(h);
    *helper = h;
    close(out[1]);
    close(rep[1]);
    close(go[0]);
    char *line = tt_report(rep[0], 10, "starting the target under a helper");
    int t = 0;
    if (sscanf(line, "TARGET %d", &t) != 1 || t <= 0) fail_msg("the helper could not start the target: %s", line);
    free(line);
    ct_own_pid(t);
    g->t.pid = t;
    g->t.out_fd = out[0];
    int fl = fcntl(out[0], F_GETFL);
    fcntl(out[0], F_SETFL, fl | O_NONBLOCK);
    tt_wait_ticks(g, 2, 10, "target started by a helper");
    if (write(go[1], "g", 1) != 1) fail_msg("cannot tell the helper to go: %s", strerror(errno));
    close(go[1]);
    *report_fd = rep[0];
}

/* --------------------------------------------------------------- /proc */

long pt_field_of(const char *status, const char *name)
{
    const char *s = strstr(status, name);
    return s ? strtol(s + strlen(name), NULL, 10) : -1;
}

/* Reads state and TracerPid of every thread of pid. */
void read_tasks(int pid, tasks *ts)
{
    ts->n = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && ts->n < 4096) {
        int tid = atoi(e->d_name);
        if (tid <= 0) continue;
        char sp[96];
        snprintf(sp, sizeof sp, "/proc/%d/task/%d/status", pid, tid);
        char *st = ct_read_file(sp, NULL);
        const char *s = st ? strstr(st, "State:") : NULL;
        long tracer = st ? pt_field_of(st, "\nTracerPid:") : -1;
        if (!s || tracer < 0) { /* the thread ended between readdir and read */
            free(st);
            continue;
        }
        ts->tid[ts->n] = tid;
        ts->state[ts->n] = s ? s[7] : '?';
        ts->tracer[ts->n] = tracer;
        ts->n++;
        free(st);
    }
    closedir(d);
}

/* Fails if any thread's state is (in_set 0) outside / (in_set 1) inside
 * `set`; or if there is no thread at all and `need_threads`. */
static void check_states(int pid, const char *set, int in_set, int need_threads, const char *when)
{
    tasks *ts = malloc(sizeof *ts);
    if (!ts) fail_msg("out of memory");
    read_tasks(pid, ts);
    char bad[512] = "";
    int nbad = 0;
    for (int i = 0; i < ts->n; i++)
        if ((strchr(set, ts->state[i]) != NULL) == (in_set != 0) && nbad++ < 8)
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad), " %d:%c", ts->tid[i], ts->state[i]);
    int n = ts->n;
    free(ts);
    if (!n && need_threads) fail_msg("%s: PID %d has no threads", when, pid);
    if (nbad)
        fail_msg("%s: %d of %d threads of PID %d are %s state \"%s\":%s", when, nbad, n, pid,
                 in_set ? "in a" : "not in a", set, bad);
}

void expect_states(int pid, const char *allowed, const char *when)
{
    check_states(pid, allowed, 0, 1, when);
}

void expect_no_state(int pid, const char *banned, const char *when)
{
    check_states(pid, banned, 1, 0, when);
}

/* Fails if any thread of pid is traced. */
void expect_untraced(int pid, const char *when)
{
    tasks *ts = malloc(sizeof *ts);
    read_tasks(pid, ts);
    char bad[512] = "";
    int nbad = 0;
    for (int i = 0; i < ts->n; i++)
        if (ts->tracer[i] != 0 && nbad++ < 8)
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad), " %d:TracerPid=%ld", ts->tid[i], ts->tracer[i]);
    int n = ts->n;
    free(ts);
    if (nbad) fail_msg("%s: %d of %d threads of PID %d are still traced:%s", when, nbad, n, pid, bad);
}

int count_state(int pid, char state)
{
    tasks *ts = malloc(sizeof *ts);
    read_tasks(pid, ts);
    int n = 0;
    for (int i = 0; i < ts->n; i++) n += ts->state[i] == state;
    free(ts);
    return n;
}

int count_tasks(int pid)
{
    tasks *ts = malloc(sizeof *ts);
    read_tasks(pid, ts);
    int n = ts->n;
    free(ts);
    return n;
}

/* Waits until `n` threads of pid are in `state` (at most `timeout` s). */
void wait_state_count(int pid, char state, int n, double timeout, const char *why)
{
    double until = ct_now() + timeout;
    int got;
    while ((got = count_state(pid, state)) < n) {
        if (ct_now() > until) fail_msg("%s: %d threads of PID %d in state %c after %.1f s, want %d", why, got, pid, state, timeout, n);
        ct_sleep(0.002);
    }
}

/* The pause a test holds, resumed by pause_teardown if the test fails
 * while holding it (else the teardown, killing the target, would wait
 * forever for a process whose threads the tracer still holds). */
static struct pt_pause *held;

struct pt_pause *pause_ok(int pid, unsigned timeout_ms)
{
    char msg[1024];
    struct pt_pause *p = NULL;
    if (pt_pause(pid, timeout_ms, &p, msg, sizeof msg)) fail_msg("pt_pause(%d): %s", pid, msg);
    if (!p) fail_msg("pt_pause(%d) returned 0 without a handle", pid);
    held = p;
    return p;
}

void resume_ok(struct pt_pause *p, pt_pause_stats *st)
{
    pt_pause_stats local;
    if (p == held) held = NULL;
    if (pt_resume_stats(p, st ? st : &local)) fail_msg("pt_resume_stats failed: a thread is still attached");
}

int resume_rc(struct pt_pause *p, pt_pause_stats *st)
{
    if (p == held) held = NULL;
    return pt_resume_stats(p, st);
}

int pause_teardown(void **state)
{
    if (held) {
        pt_resume(held);
        held = NULL;
    }
    return ct_teardown(state);
}

/* The target prints nothing while paused: what it wrote before the stop
 * is drained first. */
void expect_no_progress(tt *g, double secs)
{
    tt_read(g, 0);
    unsigned long long before = g->ticks;
    ct_sleep(secs);
    tt_read(g, 0);
    if (g->ticks != before)
        fail_msg("PID %d printed %llu TICK lines while paused for %.0f ms", (int)g->t.pid, g->ticks - before,
                 secs * 1e3);
}


/*
 * test_capture_pause.c - pt_pause/pt_resume (capture/ptpause.c) on real
 * processes the test starts: thread_target (busy, sleeping, thread-spawning,
 * uninterruptible-sleep and zombie-main-thread variants) and CPython
 * (every supported version installed).
 *
 * What is checked, against /proc and the targets' own output (TICK lines,
 * see thread_target.c): while paused every thread is in tracing stop ('t')
 * and the target makes no progress; after pt_resume every thread runs
 * (not t/T), none is traced, progress resumes; signals sent during the
 * pause are delivered exactly once (SIGUSR1 counted by the handler, a
 * stream of queued SIGRTMIN of which none may be lost); a SIGSTOP'd target
 * is paused without hanging and stays stopped; a thread in uninterruptible
 * sleep is waited for, or makes the pause fail in time leaving nothing
 * attached; a target killed while paused reaches its parent's wait; the
 * agent SIGKILLed while holding the pause leaves the target running; the
 * refusal messages (permissions, Yama, another tracer, zombies). Stop and
 * detach times are printed for 1, 4 and 200 threads (median of 20).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pause_test_util.h"

/* ----------------------------------------------------------------- tests */

static void test_pause_stops_and_resumes(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 4, NULL, NULL);
    int pid = g.t.pid;
    struct pt_pause *p = pause_ok(pid, 2000);
    int tasks_n = count_tasks(pid);
    ct_eq_u64(pt_pause_threads(p), 6, "threads stopped (main, 4 workers, reporter)");
    ct_eq_u64((unsigned)tasks_n, 6, "threads listed");
    expect_states(pid, "t", "while paused");
    /* the tracer is a thread of this process */
    tasks *ts = malloc(sizeof *ts);
    read_tasks(pid, ts);
    char tp[64];
    snprintf(tp, sizeof tp, "/proc/self/task/%ld", ts->tracer[0]);
    if (access(tp, F_OK)) fail_msg("TracerPid %ld of thread %d is not a thread of the test", ts->tracer[0], ts->tid[0]);
    for (int i = 1; i < ts->n; i++)
        ct_eq_u64((unsigned long long)ts->tracer[i], (unsigned long long)ts->tracer[0], "TracerPid of thread %d", ts->tid[i]);
    free(ts);
    expect_no_progress(&g, 0.05);
    printf("4 sleeping threads: stopped %u threads in %.1f us\n", pt_pause_threads(p), pt_pause_stop_ns(p) / 1e3);
    pt_pause_stats st;
    resume_ok(p, &st);
    ct_eq_u64(st.threads, 6, "stats.threads");
    ct_eq_u64(st.gone, 0, "stats.gone");
    ct_eq_u64(st.zombies, 0, "stats.zombies");
    ct_eq_u64(st.group_stopped, 0, "stats.group_stopped");
    if (st.rounds < 2) fail_msg("%u listings of /proc/PID/task: the last must confirm no new thread", st.rounds);
    if (st.held_ns < 50000000u) fail_msg("held %llu ns, but the test held the pause for 50 ms", (unsigned long long)st.held_ns);
    expect_no_state(pid, "tT", "after pt_resume");
    expect_untraced(pid, "after pt_resume");
    unsigned long long pr = g.progress;
    tt_wait_ticks(&g, 3, 2, "after pt_resume");
    if (g.progress <= pr) fail_msg("the workers made no progress after pt_resume");
    /* twice in a row works (nothing left behind by the first) */
    p = pause_ok(pid, 2000);
    expect_states(pid, "t", "second pause");
    resume_ok(p, NULL);
    expect_untraced(pid, "after the second pause");
    ct_target_stop(&g.t);
}

static void test_pause_busy_sigusr1(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "busy", 4, NULL, NULL);
    int pid = g.t.pid;
    for (unsigned i = 0; i < 20; i++) {
        struct pt_pause *p = pause_ok(pid, 2000);
        ct_eq_u64(pt_pause_threads(p), 6, "threads stopped");
        if (kill(pid, SIGUSR1)) fail_msg("kill: %s", strerror(errno));
        ct_sleep(0.002);
        expect_states(pid, "t", "paused with SIGUSR1 pending");
        resume_ok(p, NULL);
        double until = ct_now() + 3;
        while (g.usr1 < i + 1 && ct_now() < until) tt_read(&g, 0.05);
        ct_eq_u64(g.usr1, i + 1, "SIGUSR1 handled by the target after %u pauses with one SIGUSR1 each", i + 1);
    }
    /* none arrives late either */
    tt_wait_ticks(&g, 5, 2, "after the pauses");
    ct_eq_u64(g.usr1, 20, "SIGUSR1 handled in total");
    expect_untraced(pid, "after 20 pauses");
    ct_target_stop(&g.t);
}

/* Queued real-time signals are never merged: if one taken by the kernel
 * in a signal-delivery-stop were not passed on, the count would fall
 * short. A child sends them while the test pauses and resumes the busy
 * target as fast as it can. */
static void test_pause_rt_signals_not_lost(void **state)
{
    (void)state;
    const unsigned nsig = 1500;
    tt g;
    tt_start_c(&g, "busy", 4, NULL, NULL);
    int pid = g.t.pid;
    fflush(NULL);
    pid_t sender = fork();
    if (sender < 0) fail_msg("fork: %s", strerror(errno));
    if (sender == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (unsigned i = 0; i < nsig; i++) {
            union sigval v = {.sival_int = (int)i};
            while (sigqueue(pid, SIGRTMIN, v) != 0) {
                if (errno != EAGAIN) _exit(1);
                usleep(100);
            }
            usleep(150);
        }
        _exit(0);
    }
    ct_own_pid(sender);
    unsigned pauses = 0, caught = 0;
    uint64_t worst = 0;
    int st_sender = -1;
    for (;;) {
        struct pt_pause *p = pause_ok(pid, 2000);
        pt_pause_stats st;
        ct_sleep(0.0005);
        resume_ok(p, &st);
        pauses++;
        caught += st.signals;
        if (st.stop_ns > worst) worst = st.stop_ns;
        pid_t w = waitpid(sender, &st_sender, WNOHANG);
        if (w == sender) break;
        tt_read(&g, 0);
    }
    ct_forget_pid(sender);
    if (!WIFEXITED(st_sender) || WEXITSTATUS(st_sender)) fail_msg("the signal sender failed (status %#x)", st_sender);
    double until = ct_now() + 5;
    while (g.rt < nsig && ct_now() < until) tt_read(&g, 0.05);
    tt_wait_ticks(&g, 3, 2, "after the last pause");
    printf("%u SIGRTMIN sent during %u pauses; %u taken in a signal-delivery-stop and passed on; the target "
           "counted %llu; slowest stop %.0f us\n",
           nsig, pauses, caught, g.rt, worst / 1e3);
    ct_eq_u64(g.rt, nsig, "SIGRTMIN handled by the target");
    expect_untraced(pid, "after the pauses");
    ct_target_stop(&g.t);
}

static void test_pause_already_stopped(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 4, NULL, NULL);
    int pid = g.t.pid;
    kill(pid, SIGSTOP);
    wait_state_count(pid, 'T', 6, 3, "after SIGSTOP");
    double t0 = ct_now();
    struct pt_pause *p = pause_ok(pid, 3000);
    double secs = ct_now() - t0;
    if (secs > 1.5) fail_msg("pausing a stopped target took %.2f s", secs);
    pt_pause_stats st;
    pt_pause_get_stats(p, &st);
    ct_eq_u64(st.threads, 6, "threads");
    ct_eq_u64(st.group_stopped, 6, "threads found group-stopped");
    expect_states(pid, "t", "while paused");
    printf("SIGSTOP'd target: pt_pause returned in %.2f ms\n", secs * 1e3);
    resume_ok(p, NULL);
    /* still stopped by its user: the group stop is back in force */
    wait_state_count(pid, 'T', 6, 3, "after pt_resume of a SIGSTOP'd target");
    expect_untraced(pid, "after pt_resume");
    expect_no_progress(&g, 0.1);
    expect_states(pid, "T", "100 ms after pt_resume");
    kill(pid, SIGCONT);
    tt_wait_ticks(&g, 3, 2, "after SIGCONT");
    expect_no_state(pid, "tT", "after SIGCONT");
    ct_target_stop(&g.t);
}

/* Waits for the next VFORK line and until a thread is in state D. */
static void wait_dstate(tt *g)
{
    unsigned long long v = g->vforks;
    double until = ct_now() + 10;
    while (g->vforks == v && ct_now() < until) tt_read(g, 0.05);
    if (g->vforks == v) fail_msg("thread_target printed no VFORK line");
    wait_state_count(g->t.pid, 'D', 1, 2, "in the CLONE_VFORK wait");
}

static void test_pause_waits_for_dstate(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 2, "--dstate", "1000");
    int pid = g.t.pid;
    wait_dstate(&g);
    double t0 = ct_now();
    struct pt_pause *p = pause_ok(pid, 5000);
    double secs = ct_now() - t0;
    ct_eq_u64(pt_pause_threads(p), 5, "threads stopped (main, 2 workers, reporter, vfork thread)");
    expect_states(pid, "t", "while paused");
    printf("thread in D for up to 1 s: stopped after %.0f ms (pt_pause %.0f ms)\n", pt_pause_stop_ns(p) / 1e6,
           secs * 1e3);
    if (pt_pause_stop_ns(p) < 200000000u)
        fail_msg("stop took %.0f ms, but a thread was in uninterruptible sleep for about 1 s",
                 pt_pause_stop_ns(p) / 1e6);
    resume_ok(p, NULL);
    unsigned long long v = g.vforks;
    double until = ct_now() + 5;
    while (g.vforks == v && ct_now() < until) tt_read(&g, 0.05);
    if (g.vforks == v) fail_msg("the vfork thread did not run on after pt_resume");
    expect_untraced(pid, "after pt_resume");
    ct_target_stop(&g.t);
}

static void test_pause_dstate_timeout(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 2, "--dstate", "2000");
    int pid = g.t.pid;
    wait_dstate(&g);
    tasks *ts = malloc(sizeof *ts);
    read_tasks(pid, ts);
    int dtid = 0;
    for (int i = 0; i < ts->n; i++)
        if (ts->state[i] == 'D') dtid = ts->tid[i];
    free(ts);
    char msg[1024];
    struct pt_pause *p = NULL;
    double t0 = ct_now();
    int rc = pt_pause(pid, 100, &p, msg, sizeof msg);
    double secs = ct_now() - t0;
    printf("pt_pause with 100 ms timeout: rc %d after %.0f ms: %s\n", rc, secs * 1e3, msg);
    if (rc == 0) fail_msg("pt_pause succeeded although thread %d stays in D for about 2 s", dtid);
    if (p) fail_msg("pt_pause failed but set *out");
    if (secs < 0.09 || secs > 1.0) fail_msg("pt_pause with a 100 ms timeout returned after %.0f ms", secs * 1e3);
    char want[64];
    snprintf(want, sizeof want, "thread %d in state D", dtid);
    if (!ct_contains(msg, want) || !ct_contains(msg, "did not stop") || !ct_contains(msg, "nothing is left attached"))
        fail_msg("the message does not name thread %d in state D: %s", dtid, msg);
    if (strchr(msg, '\n')) fail_msg("the message is not one line: %s", msg);
    /* immediately: nothing attached, nothing stopped, progress goes on */
    expect_untraced(pid, "right after the timed-out pause");
    expect_no_state(pid, "tT", "right after the timed-out pause");
    tt_wait_ticks(&g, 3, 1, "after the timed-out pause");
    /* when the D sleep ends, the thread runs on: no stop left pending */
    unsigned long long v = g.vforks;
    double until = ct_now() + 5;
    while (g.vforks == v && ct_now() < until) tt_read(&g, 0.05);
    if (g.vforks == v) fail_msg("the vfork thread did not run on after its uninterruptible sleep");
    expect_no_state(pid, "tT", "after the D sleep ended");
    expect_untraced(pid, "after the D sleep ended");
    ct_target_stop(&g.t);
}

static void on_sigusr2(int sig)
{
    (void)sig;
    pt_resume_from_signal();
}

static void *kill_later(void *arg)
{
    ct_sleep(*(double *)arg);
    kill(getpid(), SIGUSR2);
    return NULL;
}

static void test_pause_resume_from_signal(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr2;
    sigaction(SIGUSR2, &sa, &old);
    /* nothing in progress: a no-op that keeps errno */
    errno = 1234;
    pt_resume_from_signal();
    ct_eq_u64(errno, 1234, "errno after pt_resume_from_signal with no pause");

    /* while paused: the handler resumes the target before it returns */
    tt g;
    tt_start_c(&g, "busy", 4, NULL, NULL);
    int pid = g.t.pid;
    struct pt_pause *p = pause_ok(pid, 2000);
    expect_states(pid, "t", "paused");
    raise(SIGUSR2);
    expect_no_state(pid, "tT", "right after the handler ran");
    expect_untraced(pid, "right after the handler ran");
    tt_wait_ticks(&g, 3, 2, "after pt_resume_from_signal");
    pt_pause_stats st;
    if (resume_rc(p, &st)) fail_msg("pt_resume after pt_resume_from_signal failed");
    ct_eq_u64(st.by_signal, 1, "stats.by_signal");
    ct_eq_u64(st.threads, 6, "stats.threads");
    ct_target_stop(&g.t);

    /* during pt_pause (a thread in D keeps it waiting): it fails at once */
    tt_start_c(&g, "sleep", 2, "--dstate", "2000");
    pid = g.t.pid;
    wait_dstate(&g);
    pthread_t th;
    double delay = 0.1;
    pthread_create(&th, NULL, kill_later, &delay);
    char msg[1024];
    double t0 = ct_now();
    int rc = pt_pause(pid, 5000, &p, msg, sizeof msg);
    double secs = ct_now() - t0;
    pthread_join(th, NULL);
    printf("pt_pause interrupted by a signal after %.0f ms: rc %d: %s\n", secs * 1e3, rc, msg);
    if (rc == 0) fail_msg("pt_pause succeeded although a signal asked to resume");
    if (!ct_contains(msg, "interrupted")) fail_msg("message: %s", msg);
    if (secs > 1.5) fail_msg("pt_pause returned %.2f s after the signal", secs);
    expect_untraced(pid, "after the interrupted pause");
    expect_no_state(pid, "tT", "after the interrupted pause");
    tt_wait_ticks(&g, 3, 1, "after the interrupted pause");
    ct_target_stop(&g.t);
    sigaction(SIGUSR2, &old, NULL);
}

static void test_pause_target_killed(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "busy", 4, NULL, NULL);
    int pid = g.t.pid;
    struct pt_pause *p = pause_ok(pid, 2000);
    kill(pid, SIGKILL);
    ct_sleep(0.02);
    pt_pause_stats st;
    int rc = resume_rc(p, &st);
    printf("target killed while paused: pt_resume returned %d\n", rc);
    ct_eq_u64((unsigned)rc, 0, "pt_resume of a target killed while paused (threads that exited are not an error)");
    /* its parent (this test) still gets its exit status */
    int status = 0;
    pid_t w = 0;
    double until = ct_now() + 3;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && ct_now() < until) ct_sleep(0.005);
    if (w != pid) fail_msg("waitpid(%d) returned %d (%s): the parent lost the exit of its child", pid, (int)w,
                           w < 0 ? strerror(errno) : "still running");
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) fail_msg("exit status %#x, want killed by SIGKILL", status);
    ct_forget_pid(pid);
    g.t.pid = 0;
    ct_target_stop(&g.t);
}

static void test_pause_many_threads(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 200, NULL, NULL);
    int pid = g.t.pid;
    for (int i = 0; i < 5; i++) {
        struct pt_pause *p = pause_ok(pid, 5000);
        ct_eq_u64(pt_pause_threads(p), 202, "threads stopped (200 workers, main, reporter)");
        expect_states(pid, "t", "200 threads paused");
        expect_no_progress(&g, 0.02);
        resume_ok(p, NULL);
        expect_no_state(pid, "tT", "200 threads resumed");
        expect_untraced(pid, "200 threads resumed");
        tt_wait_ticks(&g, 2, 2, "after pt_resume");
    }
    ct_target_stop(&g.t);
}

/* Threads appear and exit all the time: every pause must still end with
 * every thread stopped, and none must be left behind. */
static void test_pause_thread_churn(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "spawn", 4, NULL, NULL);
    int pid = g.t.pid;
    unsigned rounds = 0, gone = 0, extra = 0;
    for (int i = 0; i < 30; i++) {
        struct pt_pause *p = pause_ok(pid, 5000);
        /* a thread that exited during the pause stays a zombie until the
         * tracer lets go of it: not running either */
        expect_states(pid, "tZX", "paused while threads come and go");
        int stopped = count_state(pid, 't');
        ct_eq_u64((unsigned)stopped, pt_pause_threads(p), "threads in tracing stop vs. pt_pause_threads");
        tt_read(&g, 0);
        unsigned long long spawned = g.spawned;
        expect_no_progress(&g, 0.01);
        pt_pause_stats st;
        resume_ok(p, &st);
        rounds += st.rounds;
        gone += st.gone;
        extra += st.rounds > 2;
        expect_untraced(pid, "after a pause with thread churn");
        /* resumed: threads are created again (a loaded machine may take a
         * few ticks to schedule the spawners) */
        double until = ct_now() + 5;
        while (g.spawned <= spawned && ct_now() < until) tt_wait_ticks(&g, 1, 2, "after pt_resume");
        if (g.spawned <= spawned) fail_msg("no thread was created in the 5 s after pt_resume");
    }
    printf("30 pauses of a thread-spawning target (%llu threads made): %u listings, %u pauses needed more than one "
           "re-listing, %u threads exited while being stopped\n",
           g.spawned, rounds, extra, gone);
    ct_target_stop(&g.t);
}

static void test_pause_zombie_main_thread(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 3, "--exit-main", NULL);
    int pid = g.t.pid;
    char sp[64];
    snprintf(sp, sizeof sp, "/proc/%d/task/%d/stat", pid, pid);
    double until = ct_now() + 3;
    for (;;) {
        char *s = ct_read_file(sp, NULL);
        char *rp = s ? strrchr(s, ')') : NULL;
        int z = rp && rp[1] == ' ' && rp[2] == 'Z';
        free(s);
        if (z) break;
        if (ct_now() > until) fail_msg("the main thread of PID %d did not become a zombie", pid);
        ct_sleep(0.005);
    }
    struct pt_pause *p = pause_ok(pid, 2000);
    pt_pause_stats st;
    pt_pause_get_stats(p, &st);
    ct_eq_u64(st.threads, 4, "threads stopped (3 workers, reporter)");
    ct_eq_u64(st.zombies, 1, "zombie threads");
    expect_states(pid, "tZ", "paused with a zombie main thread");
    expect_no_progress(&g, 0.03);
    resume_ok(p, NULL);
    expect_no_state(pid, "tT", "after pt_resume");
    expect_untraced(pid, "after pt_resume");
    tt_wait_ticks(&g, 2, 2, "after pt_resume");
    ct_target_stop(&g.t);
}

static void expect_refused(int pid, const char *needle1, const char *needle2, const char *what)
{
    char msg[1024];
    struct pt_pause *p = (struct pt_pause *)&msg; /* must be reset to NULL */
    double t0 = ct_now();
    int rc = pt_pause(pid, 1000, &p, msg, sizeof msg);
    double secs = ct_now() - t0;
    printf("%s: %s\n", what, msg);
    if (rc == 0) fail_msg("%s: pt_pause(%d) succeeded", what, pid);
    if (p) fail_msg("%s: *out not reset to NULL", what);
    if (!msg[0] || strchr(msg, '\n')) fail_msg("%s: not one line: \"%s\"", what, msg);
    if ((needle1 && !ct_contains(msg, needle1)) || (needle2 && !ct_contains(msg, needle2)))
        fail_msg("%s: message lacks \"%s\"/\"%s\": %s", what, needle1, needle2 ? needle2 : "", msg);
    if (secs > 1.5) fail_msg("%s: took %.2f s", what, secs);
}

static void test_pause_refusals(void **state)
{
    (void)state;
    /* a zombie process: nothing to pause, no hang */
    fflush(NULL);
    pid_t z = fork();
    if (z == 0) _exit(0);
    ct_own_pid(z);
    char sp[64];
    snprintf(sp, sizeof sp, "/proc/%d/stat", (int)z);
    double until = ct_now() + 3;
    for (;;) {
        char *s = ct_read_file(sp, NULL);
        char *rp = s ? strrchr(s, ')') : NULL;
        int isz = rp && rp[1] == ' ' && rp[2] == 'Z';
        free(s);
        if (isz) break;
        if (ct_now() > until) fail_msg("child %d did not become a zombie", (int)z);
        ct_sleep(0.002);
    }
    expect_refused(z, "exited", "zombie", "zombie process");
    ct_kill(z);

    /* no such process: above pid_max */
    char *pm = ct_read_file("/proc/sys/kernel/pid_max", NULL);
    long pid_max = pm ? atol(pm) : 4194304;
    free(pm);
    expect_refused((int)pid_max + 1, "no such process", NULL, "PID above pid_max");
    expect_refused(0, "not a process ID", NULL, "PID 0");
    expect_refused(-5, "not a process ID", NULL, "negative PID");
    expect_refused(getpid(), "own process", NULL, "the agent itself");

    /* a kernel thread (kthreadd is PID 2 in the initial PID namespace) */
    char *k = ct_read_file("/proc/2/stat", NULL);
    if (k && strstr(k, "(kthreadd)"))
        expect_refused(2, "kernel thread", NULL, "kthreadd");
    else
        printf("note: no kthreadd at PID 2 (PID namespace): kernel-thread refusal not exercised\n");
    free(k);

    /* one pause at a time */
    tt g;
    tt_start_c(&g, "sleep", 1, NULL, NULL);
    struct pt_pause *p = pause_ok(g.t.pid, 2000);
    tt h;
    tt_start_c(&h, "sleep", 1, NULL, NULL);
    expect_refused(h.t.pid, "another pause", NULL, "a second pause");
    resume_ok(p, NULL);
    expect_untraced(h.t.pid, "the second target");
    ct_target_stop(&h.t);
    ct_target_stop(&g.t);
}

/* A process that traces the target already (as gdb or strace would): the
 * target's parent, so that it may even under Yama ptrace_scope 1. */
static void other_tracer(int target, int report, void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "other-tracer");
    if (ptrace(PTRACE_SEIZE, target, 0, 0))
        dprintf(report, "FAILED PTRACE_SEIZE: %s\n", strerror(errno));
    else
        dprintf(report, "SEIZED\n");
    for (;;) pause();
}

static void test_pause_already_traced(void **state)
{
    (void)state;
    tt g;
    pid_t tracer;
    int rep;
    tt_start_under_helper(&g, "sleep", 2, other_tracer, NULL, &tracer, &rep);
    int pid = g.t.pid;
    char *line = tt_report(rep, 10, "the other tracer");
    close(rep);
    if (strcmp(line, "SEIZED")) fail_msg("the other tracer could not seize PID %d: %s", pid, line);
    free(line);
    char want[64];
    snprintf(want, sizeof want, "already traced by PID %d (other-tracer)", (int)tracer);
    expect_refused(pid, want, "--no-pause", "traced by another process");
    /* nothing of ours is left: only the other tracer's thread is traced */
    tasks *ts = malloc(sizeof *ts);
    read_tasks(pid, ts);
    for (int i = 0; i < ts->n; i++)
        if (ts->tracer[i] != (ts->tid[i] == pid ? tracer : 0))
            fail_msg("thread %d has TracerPid %ld after the refused pause", ts->tid[i], ts->tracer[i]);
    free(ts);
    ct_kill(tracer);
    expect_untraced(pid, "after the other tracer died");
    tt_wait_ticks(&g, 2, 2, "after the refused pause");
    ct_target_stop(&g.t);
}

static void test_pause_permission_denied(void **state)
{
    (void)state;
    if (getuid() != 0) {
        /* not root: PID 1 (root's) is someone else's */
        char *st = ct_read_file("/proc/1/status", NULL);
        long uid = st ? pt_field_of(st, "\nUid:") : -1;
        free(st);
        if (uid == (long)getuid()) ct_skip("not root, and PID 1 runs as this user: no other user's process to try");
        expect_refused(1, "EPERM", "CAP_SYS_PTRACE", "another user's process");
        return;
    }
    tt g;
    tt_start_c(&g, "sleep", 2, NULL, NULL);
    int pid = g.t.pid;
    int pp[2];
    if (pipe(pp)) fail_msg("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char msg[1024] = "";
        if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
            snprintf(msg, sizeof msg, "SETUID %s", strerror(errno));
        } else {
            struct pt_pause *p = NULL;
            if (pt_pause(pid, 1000, &p, msg, sizeof msg) == 0) {
                pt_resume(p);
                snprintf(msg, sizeof msg, "SUCCEEDED");
            }
        }
        ssize_t k = write(pp[1], msg, strlen(msg));
        _exit(k < 0);
    }
    ct_own_pid(child);
    close(pp[1]);
    char msg[1024];
    size_t n = 0;
    for (;;) {
        ssize_t k = read(pp[0], msg + n, sizeof msg - 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        n += (size_t)k;
    }
    msg[n] = 0;
    close(pp[0]);
    ct_kill(child);
    printf("as uid 65534: %s\n", msg);
    if (!strncmp(msg, "SETUID", 6)) ct_skip("cannot become uid 65534: %s", msg + 7);
    if (!strcmp(msg, "SUCCEEDED")) fail_msg("uid 65534 paused a process of uid 0");
    const char *needles[] = {"EPERM", "uid 0", "uid 65534", "CAP_SYS_PTRACE", "--cap-add SYS_PTRACE",
                             "ptrace_scope"};
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++)
        if (!ct_contains(msg, needles[i])) fail_msg("the refusal lacks \"%s\": %s", needles[i], msg);
    if (strchr(msg, '\n')) fail_msg("not one line: %s", msg);
    expect_untraced(pid, "after the refused pause");
    ct_target_stop(&g.t);
}

static void refusal_has(const pt_refusal *f, const char *const *yes, const char *const *no)
{
    char msg[1024];
    pt_describe_refusal(f, msg, sizeof msg);
    printf("  %s\n", msg);
    if (strchr(msg, '\n')) fail_msg("not one line: %s", msg);
    for (; yes && *yes; yes++)
        if (!ct_contains(msg, *yes)) fail_msg("lacks \"%s\": %s", *yes, msg);
    for (; no && *no; no++)
        if (ct_contains(msg, *no)) fail_msg("should not say \"%s\": %s", *no, msg);
}

static void test_pause_refusal_text(void **state)
{
    (void)state;
    pt_refusal f = {.pid = 42, .tid = 43, .target_uid = 1000, .agent_uid = 1001, .yama_scope = -1};
    refusal_has(&f, (const char *const[]){"PID 42", "thread 43", "no Yama", "uid 1000", "uid 1001",
                                          "run the agent as uid 1000 or as root", "--cap-add SYS_PTRACE", NULL},
                (const char *const[]){"descendants", "security module", NULL});
    f = (pt_refusal){.pid = 42, .tid = 42, .target_uid = 1000, .agent_uid = 1000, .yama_scope = 1};
    refusal_has(&f, (const char *const[]){"kernel.yama.ptrace_scope is 1", "descendants", "CAP_SYS_PTRACE",
                                          "kernel.yama.ptrace_scope=0", "SYS_PTRACE", NULL},
                (const char *const[]){"run the agent as uid", "not dumpable", NULL});
    f.descendant = 1;
    refusal_has(&f, (const char *const[]){"ptrace_scope is 1", "not dumpable", NULL},
                (const char *const[]){"descendants", NULL});
    f.yama_scope = 2;
    refusal_has(&f, (const char *const[]){"ptrace_scope is 2", "only processes with CAP_SYS_PTRACE", NULL}, NULL);
    f.yama_scope = 3;
    refusal_has(&f, (const char *const[]){"ptrace_scope is 3", "disabled", "--no-pause", NULL},
                (const char *const[]){"docker", NULL});
    f = (pt_refusal){.pid = 7, .tid = 7, .target_uid = 0, .agent_uid = 0, .cap_sys_ptrace = 1, .yama_scope = 0};
    refusal_has(&f, (const char *const[]){"ptrace_scope is 0", "has CAP_SYS_PTRACE", "security module", NULL},
                (const char *const[]){"run the agent as", NULL});
    /* a short buffer is cut, NUL-terminated, never overrun */
    char small[24];
    memset(small, 'x', sizeof small);
    pt_describe_refusal(&f, small, 16);
    ct_eq_u64(strlen(small), 15, "length in a 16-byte buffer");
    ct_eq_u64((unsigned char)small[16], 'x', "byte after the buffer");
}

/* The agent SIGKILLed while it holds the target paused: the kernel
 * detaches, the target runs on and gets the signal sent meanwhile. */
static void pausing_agent(int target, int report, void *arg)
{
    (void)arg;
    char msg[1024];
    struct pt_pause *p = NULL;
    if (pt_pause(target, 2000, &p, msg, sizeof msg))
        dprintf(report, "FAILED %s\n", msg);
    else
        dprintf(report, "PAUSED %u\n", pt_pause_threads(p));
    for (;;) pause();
}

static void test_pause_agent_sigkill(void **state)
{
    (void)state;
    tt g;
    pid_t agent;
    int rep;
    tt_start_under_helper(&g, "busy", 4, pausing_agent, NULL, &agent, &rep);
    int pid = g.t.pid;
    char *line = tt_report(rep, 10, "the helper agent");
    close(rep);
    unsigned n = 0;
    if (sscanf(line, "PAUSED %u", &n) != 1) fail_msg("the helper agent did not pause PID %d: %s", pid, line);
    free(line);
    ct_eq_u64(n, 6, "threads the helper stopped");
    expect_states(pid, "t", "paused by the helper");
    kill(pid, SIGUSR1);
    expect_no_progress(&g, 0.05);
    ct_eq_u64(g.usr1, 0, "SIGUSR1 handled while paused");
    ct_kill(agent);
    tt_wait_ticks(&g, 3, 2, "after the agent was SIGKILLed");
    expect_no_state(pid, "tT", "after the agent was SIGKILLed");
    expect_untraced(pid, "after the agent was SIGKILLed");
    double until = ct_now() + 2;
    while (g.usr1 < 1 && ct_now() < until) tt_read(&g, 0.05);
    ct_eq_u64(g.usr1, 1, "SIGUSR1 handled after the agent died");
    ct_target_stop(&g.t);
}

/* ------------------------------------------------------------- timings */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void time_pauses(const char *mode, int threads)
{
    enum { N = 20 };
    tt g;
    tt_start_c(&g, mode, threads, NULL, NULL);
    uint64_t stop[N], det[N], call[N];
    unsigned nthr = 0;
    for (int i = 0; i < N; i++) {
        double t0 = ct_now();
        struct pt_pause *p = pause_ok(g.t.pid, 5000);
        call[i] = (uint64_t)((ct_now() - t0) * 1e9);
        pt_pause_stats st;
        resume_ok(p, &st);
        stop[i] = st.stop_ns;
        det[i] = st.detach_ns;
        nthr = st.threads;
        ct_sleep(0.01);
        tt_read(&g, 0);
    }
    qsort(stop, N, sizeof *stop, cmp_u64);
    qsort(det, N, sizeof *det, cmp_u64);
    qsort(call, N, sizeof *call, cmp_u64);
    printf("%-5s %3d workers (%3u threads): stop median %7.1f us (min %7.1f, max %7.1f); detach median %6.1f us "
           "(max %6.1f); pt_pause call median %7.1f us\n",
           mode, threads, nthr, stop[N / 2] / 1e3, stop[0] / 1e3, stop[N - 1] / 1e3, det[N / 2] / 1e3,
           det[N - 1] / 1e3, call[N / 2] / 1e3);
    /* a generous sanity bound only: the machine is shared */
    if (stop[N / 2] > 500000000u) fail_msg("median stop time %.1f ms", stop[N / 2] / 1e6);
    expect_untraced(g.t.pid, "after the timed pauses");
    ct_target_stop(&g.t);
}

static void test_pause_timing(void **state)
{
    (void)state;
    time_pauses("busy", 1);
    time_pauses("busy", 4);
    time_pauses("sleep", 1);
    time_pauses("sleep", 4);
    time_pauses("sleep", 200);
    /* not "busy 200": 200 spinning threads on a shared 2-core machine
     * starve the test for seconds (the pause itself stays ~1 ms) */
}

/* --------------------------------------------------------------- Python */

static const char py_script[] =
    "import os, signal, threading, time\n"
    "n = 0\n"
    "def on_usr1(sig, frame):\n"
    "    global n\n"
    "    n += 1\n"
    "signal.signal(signal.SIGUSR1, on_usr1)\n"
    "def work():\n"
    "    x = []\n"
    "    while True:\n"
    "        x.append({'k': [1, 2.5, 'v']})\n"
    "        if len(x) > 5000:\n"
    "            x = []\n"
    "for _ in range(4):\n"
    "    threading.Thread(target=work, daemon=True).start()\n"
    "print('READY', flush=True)\n"
    "seq = 0\n"
    "while True:\n"
    "    seq += 1\n"
    "    os.write(1, b'TICK %d %d %d 0 0\\n' % (seq, seq, n))\n"
    "    time.sleep(0.01)\n";

static char *pyenv_root(void)
{
    ct_result r;
    char *argv[] = {"pyenv", "root", NULL};
    int of, ef;
    double t0 = ct_now();
    pid_t pid = ct_start(argv, &of, &ef);
    ct_finish(pid, of, ef, t0, 20, &r);
    char *root = NULL;
    if (r.status == 0 && r.out_len) {
        r.out[strcspn(r.out, "\n")] = 0;
        root = strdup(r.out);
    }
    ct_result_free(&r);
    const char *cand[] = {getenv("PYENV_ROOT"), "/root/.pyenv", "/opt/pyenv"};
    for (size_t i = 0; !root && i < sizeof cand / sizeof *cand; i++) {
        if (!cand[i] || !*cand[i]) continue;
        char *v = ct_path(cand[i], "versions");
        if (access(v, X_OK) == 0) root = strdup(cand[i]);
        free(v);
    }
    return root;
}

static void pause_python(const char *python)
{
    char *argv[] = {(char *)python, "-c", (char *)py_script, NULL};
    tt g;
    tt_start(&g, argv);
    int pid = g.t.pid;
    unsigned threads = 0;
    uint64_t worst = 0;
    for (unsigned i = 0; i < 10; i++) {
        struct pt_pause *p = pause_ok(pid, 2000);
        threads = pt_pause_threads(p);
        if (threads < 5) fail_msg("%s: %u threads stopped, want at least 5 (main + 4 workers)", python, threads);
        expect_states(pid, "t", "python paused");
        kill(pid, SIGUSR1);
        expect_no_progress(&g, 0.01);
        pt_pause_stats st;
        resume_ok(p, &st);
        if (st.stop_ns > worst) worst = st.stop_ns;
        double until = ct_now() + 5;
        while (g.usr1 < i + 1 && ct_now() < until) tt_read(&g, 0.05);
        ct_eq_u64(g.usr1, i + 1, "%s: SIGUSR1 handled by the Python handler after %u pauses", python, i + 1);
        expect_no_state(pid, "tT", "python resumed");
    }
    expect_untraced(pid, "python after 10 pauses");
    tt_wait_ticks(&g, 3, 3, "python after the pauses");
    printf("%s: 10 pauses of %u threads, slowest stop %.0f us; 10 SIGUSR1 sent while paused, 10 handled\n", python,
           threads, worst / 1e3);
    ct_target_stop(&g.t);
}

static void test_pause_python(void **state)
{
    const char *version = *state;
    char *root = pyenv_root();
    if (!root) ct_skip("CPython %s: no pyenv root (pyenv root, $PYENV_ROOT, /root/.pyenv, /opt/pyenv)", version);
    char py[512];
    snprintf(py, sizeof py, "%s/versions/%s/bin/python3", root, version);
    free(root);
    if (access(py, X_OK)) ct_skip("CPython %s is not installed (%s)", version, py);
    pause_python(py);
}

static void test_pause_python_debian(void **state)
{
    (void)state;
    if (access("/usr/bin/python3.11", X_OK)) ct_skip("/usr/bin/python3.11 is not installed");
    pause_python("/usr/bin/python3.11");
}

int main(void)
{
    ct_init();
#define PY(v) cmocka_unit_test_prestate_setup_teardown(test_pause_python, NULL, pause_teardown, (void *)(v))
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pause_refusal_text, pause_teardown),
        cmocka_unit_test_teardown(test_pause_stops_and_resumes, pause_teardown),
        cmocka_unit_test_teardown(test_pause_busy_sigusr1, pause_teardown),
        cmocka_unit_test_teardown(test_pause_rt_signals_not_lost, pause_teardown),
        cmocka_unit_test_teardown(test_pause_already_stopped, pause_teardown),
        cmocka_unit_test_teardown(test_pause_waits_for_dstate, pause_teardown),
        cmocka_unit_test_teardown(test_pause_dstate_timeout, pause_teardown),
        cmocka_unit_test_teardown(test_pause_resume_from_signal, pause_teardown),
        cmocka_unit_test_teardown(test_pause_target_killed, pause_teardown),
        cmocka_unit_test_teardown(test_pause_many_threads, pause_teardown),
        cmocka_unit_test_teardown(test_pause_thread_churn, pause_teardown),
        cmocka_unit_test_teardown(test_pause_zombie_main_thread, pause_teardown),
        cmocka_unit_test_teardown(test_pause_refusals, pause_teardown),
        cmocka_unit_test_teardown(test_pause_already_traced, pause_teardown),
        cmocka_unit_test_teardown(test_pause_permission_denied, pause_teardown),
        cmocka_unit_test_teardown(test_pause_agent_sigkill, pause_teardown),
        cmocka_unit_test_teardown(test_pause_timing, pause_teardown),
        PY("3.8.18"),
        PY("3.9.18"),
        PY("3.10.13"),
        PY("3.11.7"),
        PY("3.12.1"),
        PY("3.13.0"),
        cmocka_unit_test_teardown(test_pause_python_debian, pause_teardown),
    };
    return cmocka_run_group_tests_name("capture_pause", tests, NULL, NULL);
}

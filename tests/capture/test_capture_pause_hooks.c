/*
 * test_capture_pause_hooks.c - the pause's signal-delivery-stop path, made
 * deterministic. Built with its own copy of capture/ptpause.c compiled with
 * PTPAUSE_TEST_HOOKS, which sleeps between PTRACE_SEIZE and PTRACE_INTERRUPT
 * of the first thread seized (the lowest TID). A signal sent to that
 * thread during the gap is dequeued while it is traced: the thread stops in
 * a signal-delivery-stop, and the signal is then held by the tracer. It
 * must reach the target exactly once after pt_resume, also when the agent
 * is SIGKILLed instead, and a SIGSTOP caught that way must leave the target
 * stopped as its sender wanted. The same gap makes the first listing of
 * threads stale, which tests the re-listing: threads created during the
 * pause must be found and stopped, threads that exited must be skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pause_test_util.h"

extern unsigned pt_test_seize_gap_us;

#define GAP_US 300000u /* the gap; the signal is sent 100 ms into it */

static int lowest_tid(int pid)
{
    tasks *ts = malloc(sizeof *ts);
    read_tasks(pid, ts);
    int low = 0;
    for (int i = 0; i < ts->n; i++)
        if (!low || ts->tid[i] < low) low = ts->tid[i];
    free(ts);
    if (!low) fail_msg("PID %d has no threads", pid);
    return low;
}

typedef struct {
    int pid, tid, sig;
} delayed_signal;

static void *send_later(void *arg)
{
    delayed_signal *d = arg;
    ct_sleep(0.1);
    syscall(SYS_tgkill, d->pid, d->tid, d->sig);
    return NULL;
}

/* Pauses `pid` while a thread sends `sig` to its first thread in the gap. */
static struct pt_pause *pause_with_signal(int pid, int sig, pt_pause_stats *st)
{
    delayed_signal d = {pid, lowest_tid(pid), sig};
    pthread_t th;
    pthread_create(&th, NULL, send_later, &d);
    pt_test_seize_gap_us = GAP_US;
    struct pt_pause *p = pause_ok(pid, 5000);
    pt_test_seize_gap_us = 0;
    pthread_join(th, NULL);
    pt_pause_get_stats(p, st);
    return p;
}

static void test_hooks_signal_passed_on(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 2, NULL, NULL);
    int pid = g.t.pid;
    pt_pause_stats st;
    struct pt_pause *p = pause_with_signal(pid, SIGUSR1, &st);
    ct_eq_u64(st.signals, 1, "signals taken in a signal-delivery-stop");
    ct_eq_u64(st.threads, 4, "threads stopped");
    expect_states(pid, "t", "paused");
    expect_no_progress(&g, 0.03);
    ct_eq_u64(g.usr1, 0, "SIGUSR1 handled while paused");
    resume_ok(p, &st);
    double until = ct_now() + 2;
    while (g.usr1 < 1 && ct_now() < until) tt_read(&g, 0.05);
    tt_wait_ticks(&g, 5, 2, "after pt_resume");
    ct_eq_u64(g.usr1, 1, "SIGUSR1 handled after pt_resume (once: passed on, not lost, not doubled)");
    expect_untraced(pid, "after pt_resume");
    ct_target_stop(&g.t);
}

static void gap_agent(int target, int report, void *arg)
{
    (void)arg;
    char msg[1024];
    struct pt_pause *p = NULL;
    pt_test_seize_gap_us = GAP_US;
    dprintf(report, "PAUSING\n");
    if (pt_pause(target, 5000, &p, msg, sizeof msg)) {
        dprintf(report, "FAILED %s\n", msg);
    } else {
        pt_pause_stats st;
        pt_pause_get_stats(p, &st);
        dprintf(report, "PAUSED %u %u\n", st.threads, st.signals);
    }
    for (;;) pause();
}

static void test_hooks_signal_kept_when_agent_dies(void **state)
{
    (void)state;
    tt g;
    pid_t agent;
    int rep;
    tt_start_under_helper(&g, "sleep", 2, gap_agent, NULL, &agent, &rep);
    int pid = g.t.pid;
    int tid = lowest_tid(pid);
    char *line = tt_report(rep, 10, "the helper agent");
    if (strcmp(line, "PAUSING")) fail_msg("the helper agent: %s", line);
    free(line);
    ct_sleep(0.1);
    syscall(SYS_tgkill, pid, tid, SIGUSR1);
    line = tt_report(rep, 10, "the helper agent");
    close(rep);
    unsigned threads = 0, sigs = 0;
    if (sscanf(line, "PAUSED %u %u", &threads, &sigs) != 2) fail_msg("the helper agent: %s", line);
    free(line);
    ct_eq_u64(sigs, 1, "signals the helper took in a signal-delivery-stop");
    expect_states(pid, "t", "paused by the helper");
    ct_kill(agent);
    double until = ct_now() + 2;
    while (g.usr1 < 1 && ct_now() < until) tt_read(&g, 0.05);
    tt_wait_ticks(&g, 5, 2, "after the agent was SIGKILLed");
    ct_eq_u64(g.usr1, 1, "SIGUSR1 handled after the agent holding it was SIGKILLed");
    expect_untraced(pid, "after the agent died");
    expect_no_state(pid, "tT", "after the agent died");
    ct_target_stop(&g.t);
}

/* The user's SIGSTOP caught in the gap: after pt_resume the target is
 * stopped, as its sender wanted. */
static void test_hooks_sigstop_honoured(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "sleep", 2, NULL, NULL);
    int pid = g.t.pid;
    pt_pause_stats st;
    struct pt_pause *p = pause_with_signal(pid, SIGSTOP, &st);
    ct_eq_u64(st.signals, 1, "signals taken in a signal-delivery-stop");
    resume_ok(p, &st);
    wait_state_count(pid, 'T', 4, 3, "after pt_resume with a SIGSTOP held");
    expect_untraced(pid, "after pt_resume");
    expect_no_progress(&g, 0.1);
    kill(pid, SIGCONT);
    tt_wait_ticks(&g, 3, 2, "after SIGCONT");
    expect_no_state(pid, "tT", "after SIGCONT");
    ct_target_stop(&g.t);
}

/* Four threads each keep one child thread alive (it sleeps 50 ms, exits,
 * and the next one is made). During the 300 ms gap every child from the
 * first listing exits (ESRCH when seized) and new ones appear: only a
 * re-listing finds those, and a child missed would be seen sleeping. */
static void test_hooks_threads_created_during_pause(void **state)
{
    (void)state;
    tt g;
    tt_start_c(&g, "spawn", 4, "--child-ms", "50");
    int pid = g.t.pid;
    for (int i = 0; i < 3; i++) {
        pt_test_seize_gap_us = GAP_US;
        struct pt_pause *p = pause_ok(pid, 5000);
        pt_test_seize_gap_us = 0;
        expect_states(pid, "tZX", "paused after a stale first listing");
        pt_pause_stats st;
        pt_pause_get_stats(p, &st);
        ct_eq_u64((unsigned)count_state(pid, 't'), st.threads, "threads in tracing stop vs. stats.threads");
        printf("pause %d: %u threads stopped, %u listings, %u threads gone before they were stopped\n", i,
               st.threads, st.rounds, st.gone);
        if (st.rounds < 3) fail_msg("%u listings: the threads made during the gap were not looked for", st.rounds);
        if (st.gone < 1) fail_msg("no listed thread had exited by the time it was seized");
        if (st.threads < 8) fail_msg("%u threads stopped: want main, reporter, 4 spawners and their children", st.threads);
        resume_ok(p, NULL);
        expect_untraced(pid, "after pt_resume");
        tt_wait_ticks(&g, 2, 2, "after pt_resume");
    }
    ct_target_stop(&g.t);
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hooks_signal_passed_on, pause_teardown),
        cmocka_unit_test_teardown(test_hooks_signal_kept_when_agent_dies, pause_teardown),
        cmocka_unit_test_teardown(test_hooks_sigstop_honoured, pause_teardown),
        cmocka_unit_test_teardown(test_hooks_threads_created_during_pause, pause_teardown),
    };
    return cmocka_run_group_tests_name("capture_pause_hooks", tests, NULL, NULL);
}

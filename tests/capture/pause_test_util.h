/*
 * pause_test_util.h - what the pause tests (test_capture_pause.c,
 * test_capture_pause_hooks.c) share: running a thread_target (or a Python
 * script printing the same TICK lines) and following its output, reading
 * the states and tracers of a process's threads from /proc, and pausing
 * with failures that say why. Every helper fails the running cmocka test
 * with a message naming the PID and what was expected.
 */
#ifndef PAUSE_TEST_UTIL_H
#define PAUSE_TEST_UTIL_H

#include "capture_test_util.h"
#include "ptpause.h"

/* A running target and what it printed so far. */
typedef struct {
    ct_target t;
    char part[4096];            /* a line not yet complete */
    size_t plen;
    unsigned long long ticks;   /* TICK lines seen */
    unsigned long long progress, usr1, rt, spawned;
    unsigned long long vforks;  /* last VFORK number */
} tt;


/* Reads what the target printed, waiting up to `wait` s for something;
 * returns the number of bytes read. */
size_t tt_read(tt *g, double wait);

/* Waits until the target printed `n` more TICK lines; fails after `timeout`. */
void tt_wait_ticks(tt *g, unsigned n, double timeout, const char *why);

/* Starts argv (it must print READY, then TICK lines) and waits for 2 ticks. */
void tt_start(tt *g, char *const argv[]);

/* thread_target --mode MODE --threads N [extra1 [extra2]]. */
void tt_start_c(tt *g, const char *mode, int threads, const char *extra1, const char *extra2);

/* Runs in a helper process that is the target's parent (so that it may
 * trace it even under Yama ptrace_scope 1 without CAP_SYS_PTRACE); it
 * reports to the test by writing lines to report_fd and never returns
 * while the test needs it. */
typedef void (*tt_helper_fn)(int target, int report_fd, void *arg);

/* Forks a helper that starts thread_target --mode MODE --threads N as its
 * child, waits until the target prints TICK lines, then runs fn(target,
 * report_fd, arg) in the helper. The test process becomes a child
 * subreaper, so the target is reparented to it (and reaped by
 * ct_target_stop) when the helper dies. Both PIDs are recorded for
 * cleanup. *report_fd: the read end of the helper's reports (close it). */
void tt_start_under_helper(tt *g, const char *mode, int threads, tt_helper_fn fn, void *arg, pid_t *helper,
                           int *report_fd);

/* Reads one line (without its newline; malloc'd) from a helper's reports;
 * fails the test after `timeout` s or if the helper ends first. */
char *tt_report(int fd, double timeout, const char *what);

/* Fails unless the target prints nothing for `secs` (paused); what it
 * wrote before the stop is drained first. */
void expect_no_progress(tt *g, double secs);

/* The threads of a process: TID, state letter, TracerPid. */
typedef struct {
    int n;
    int tid[4096];
    char state[4096];
    long tracer[4096];
} tasks;


/* Number after `name` in a status file (name includes the ':'), or -1. */
long pt_field_of(const char *status, const char *name);

void read_tasks(int pid, tasks *ts);
int count_state(int pid, char state);
int count_tasks(int pid);

/* Fail unless every thread's state is one of `allowed` / none is one of
 * `banned` / no thread is traced; `when` goes into the message. */
void expect_states(int pid, const char *allowed, const char *when);
void expect_no_state(int pid, const char *banned, const char *when);
void expect_untraced(int pid, const char *when);

/* Waits until `n` threads of pid are in `state` (at most `timeout` s). */
void wait_state_count(int pid, char state, int n, double timeout, const char *why);

/* pt_pause that fails the test with pt_pause's message. The handle is
 * remembered until resume_ok, for pause_teardown. */
struct pt_pause *pause_ok(int pid, unsigned timeout_ms);

/* pt_resume_stats that fails the test if it returns -1. */
void resume_ok(struct pt_pause *p, pt_pause_stats *st);

/* pt_resume_stats of a handle from pause_ok, returning what it returns. */
int resume_rc(struct pt_pause *p, pt_pause_stats *st);

/* cmocka teardown: resumes the pause a failed test still holds (from
 * pause_ok), then ct_teardown. */
int pause_teardown(void **state);

#endif

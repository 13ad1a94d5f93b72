/*
 * ptpause.h - stopping every thread of a process for a few milliseconds with
 * ptrace, so that its memory can be copied in a consistent state, and
 * resuming it on every path.
 *
 * How: PTRACE_SEIZE + PTRACE_INTERRUPT on each thread listed in
 * /proc/PID/task, wait until each reports its stop, list the threads again
 * and repeat until a listing shows no thread that is not stopped. Threads
 * created meanwhile are caught by that re-listing (no PTRACE_O_TRACECLONE: a
 * thread made by a thread not yet stopped runs until the next listing, which
 * does not matter because nothing should be read before pt_pause returns).
 *
 * Every ptrace request is made by a private tracer thread that pt_pause
 * starts, and resuming is that thread's end: the kernel detaches every
 * tracee of a tracer thread that exits, in one pass. ptrace is per tracer
 * *thread*; owning that thread is what lets this module (1) leave nothing
 * attached after a timeout even when a thread never stopped (a thread in
 * uninterruptible sleep cannot be detached with PTRACE_DETACH), (2) resume
 * the target from a signal handler running on any of the agent's threads,
 * and (3) resume 200 busy threads at once instead of one by one while the
 * first ones resumed compete with the tracer for the CPU (PTRACE_DETACH in
 * a loop: 135 ms median here; the thread's end: every thread at once). So,
 * unlike a plain ptrace loop, pt_pause and pt_resume may be called from
 * different threads; the caller must not make ptrace requests of its own on
 * the target while it is paused (they would fail: the caller is not the
 * tracer). Reading the target (process_vm_readv, /proc/PID/mem) works from
 * any thread.
 *
 * Signals: one that arrives while the threads are stopped stays pending and
 * is delivered when they run again. One the kernel had already dequeued
 * when the thread stopped (a signal-delivery-stop) is the thread's stop
 * code, which this module observes with waitid(WNOWAIT) and never
 * consumes, so the kernel delivers it at the detach. Should the agent die
 * (even by SIGKILL) while the target is paused, the kernel takes the same
 * path: the target runs on and no signal is lost.
 *
 * Effects on the target, as for any ptrace-based pause (gdb, py-spy):
 * threads blocked in a system call are interrupted and the call is
 * restarted, except the few Linux returns EINTR from after a stop
 * (epoll_wait, semop, sigtimedwait, sockets with a timeout; CPython retries
 * them, PEP 475). A target stopped by its user (SIGSTOP) stays stopped. The
 * target's parent sees no change. A thread that calls execve between its
 * PTRACE_SEIZE and its stop leaves the process paused in its new program:
 * the thread count is then off, and the heap walker's own checks are what
 * notice it.
 *
 * One pause at a time per agent process (pt_resume_from_signal needs to find
 * it without arguments: that one pointer is this module's only global
 * state).
 */
#ifndef MEMSNAP_PTPAUSE_H
#define MEMSNAP_PTPAUSE_H

#include <stddef.h>
#include <stdint.h>

/* The handle is `struct pt_pause`, without a typedef: in C a typedef and
 * the function pt_pause() cannot share one name. */
struct pt_pause;

#define PT_DEFAULT_TIMEOUT_MS 1000u  /* pt_pause's timeout when given 0 */
#define PT_MAX_THREADS (1u << 18)    /* a target with more threads is refused */

/* Stops every thread of the process `pid` (any thread ID of it names the
 * whole process): PTRACE_SEIZE + PTRACE_INTERRUPT on each thread in
 * /proc/PID/task, waits until each has reported its stop (polling waitid
 * WNOHANG|WNOWAIT|__WALL), re-lists the threads until a listing shows no
 * thread that has not stopped (threads created meanwhile are caught by the
 * re-listing). Exited threads are skipped: a zombie main thread (it called
 * pthread_exit) is counted by pt_pause_stats' `zombies`.
 *
 * Bounded: gives up after `timeout_ms` (0: PT_DEFAULT_TIMEOUT_MS), from the
 * start of the call, and then leaves NOTHING attached: threads that stopped
 * are detached (their signals passed on), threads that never stopped (in
 * uninterruptible sleep, "D") are detached by the exit of the tracer thread,
 * which pt_pause waits for. pt_resume_from_signal() during the call ends it
 * the same way.
 *
 * Returns 0 with *out set on success (free it with pt_resume); -1 with *out
 * NULL and `msg` (if not NULL, `len` bytes, always NUL-terminated) holding
 * one line with the cause and the fix:
 *   - permission: the uids, CAP_SYS_PTRACE, /proc/sys/kernel/yama/ptrace_scope
 *     (value read and named), containers (--cap-add SYS_PTRACE); see
 *     pt_describe_refusal;
 *   - the target does not exist or has exited (ESRCH, zombie);
 *   - already traced by another process (gdb, strace: TracerPid), named;
 *   - threads that did not stop in time: their TIDs and states;
 *   - the agent's own process, a kernel thread, another pause in progress,
 *     out of memory or threads, more than PT_MAX_THREADS threads.
 * Thread-safety: any thread may call it; it blocks the calling thread until
 * the target is stopped or the attempt has been undone. It starts a thread
 * that has every signal blocked. */
int pt_pause(int pid, unsigned timeout_ms, struct pt_pause **out, char *msg, size_t len);

/* Figures of one pause, for the snapshot and the agent's diagnostics. */
typedef struct {
    uint64_t stop_ns;        /* first PTRACE_SEIZE to every thread known stopped (ns) */
    uint64_t held_ns;        /* every thread stopped to the resume request reaching the tracer (ns) */
    uint64_t detach_ns;      /* that request to the tracer thread's end, as pt_resume saw it (ns);
                                includes the caller's wake-up, so CPU contention inflates it */
    unsigned threads;        /* threads stopped (and then resumed) */
    unsigned group_stopped;  /* of those, threads found stopped by a stop signal (SIGSTOP...): left stopped */
    unsigned zombies;        /* threads that had exited but were not reaped (Z): nothing to stop */
    unsigned gone;           /* threads listed that exited before they stopped */
    unsigned signals;        /* signals taken in a signal-delivery-stop, delivered at the detach */
    unsigned rounds;         /* listings of /proc/PID/task (the last one found no new thread) */
    int by_signal;           /* 1 if pt_resume_from_signal resumed the target */
} pt_pause_stats;

/* Resumes and detaches every thread, by ending the tracer thread (the
 * kernel detaches all its tracees: none is skipped, a thread that exited
 * meanwhile is simply released) and waiting until it has ended. Signals
 * are delivered as described at the top; a target that was stopped by a
 * stop signal stays stopped. Frees p (NULL: returns 0). Returns 0, or -1 if
 * the tracer thread had not ended 1 s after it was told to (threads may
 * still be attached: the kernel would be at fault). Any thread may call
 * it. */
int pt_resume(struct pt_pause *p);

/* pt_resume that also fills *st (if not NULL) with the pause's figures,
 * including the detach time. */
int pt_resume_stats(struct pt_pause *p, pt_pause_stats *st);

/* Nanoseconds from the first PTRACE_SEIZE to the moment every thread was
 * known stopped, and the number of threads stopped; for the snapshot's
 * "pause" figures. p must be a paused handle (not NULL). */
uint64_t pt_pause_stop_ns(const struct pt_pause *p);
unsigned pt_pause_threads(const struct pt_pause *p);

/* The figures known while paused (detach_ns and held_ns are 0). */
void pt_pause_get_stats(const struct pt_pause *p, pt_pause_stats *st);

/* Async-signal-safe: resumes and detaches every thread of the pause in
 * progress, if any (a no-op otherwise), for the agent's SIGINT/SIGTERM
 * handler; may run on any thread. It tells the tracer thread to end and
 * waits (at most about 3 s) until it has. A pt_pause in progress then
 * fails ("interrupted"); a paused handle must still be given to pt_resume,
 * which then only frees it (and sets `by_signal`). errno is preserved. */
void pt_resume_from_signal(void);

/* Why a PTRACE_SEIZE was refused with EPERM, from facts the caller gathers
 * (pt_pause gathers them itself; the process_vm_readv path can use this for
 * the same message). */
typedef struct {
    int pid;                /* the target */
    int tid;                /* the thread that was refused */
    long target_uid;        /* real uid of the target (-1: unknown) */
    long agent_uid;         /* effective uid of the agent */
    int cap_sys_ptrace;     /* the agent has CAP_SYS_PTRACE in its effective set */
    int yama_scope;         /* /proc/sys/kernel/yama/ptrace_scope, -1 if absent */
    int descendant;         /* the target descends from the agent */
} pt_refusal;

/* Writes one line (NUL-terminated, at most len bytes) naming why a process
 * with facts `f` may not be traced and what to do: run as the target's user
 * or root, CAP_SYS_PTRACE, the Yama ptrace_scope value and its meaning,
 * containers (docker --cap-add SYS_PTRACE, Kubernetes securityContext);
 * with the capability and still refused: a security module or seccomp. */
void pt_describe_refusal(const pt_refusal *f, char *msg, size_t len);

#endif

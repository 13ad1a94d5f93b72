/*
 * ptpause.c - pausing every thread of a process with ptrace and resuming it
 * (see ptpause.h for the contract).
 *
 * A private tracer thread makes every ptrace request. The caller of
 * pt_pause/pt_resume talks to it through pipes: `cmd` (resume, or abort
 * from pt_resume_from_signal), `ready` (one byte once every thread is
 * stopped or the attempt failed) and `done` (its write end is closed just
 * before the thread ends); pipes because pt_resume_from_signal must use
 * only async-signal-safe calls.
 *
 * Resuming is the end of the tracer thread: the kernel detaches every
 * tracee of an exiting tracer in one pass (exit_ptrace), whether it
 * stopped or not. So a timed-out or interrupted pause leaves nothing
 * attached, even a thread still in uninterruptible sleep (PTRACE_DETACH
 * would refuse it), and the path the kernel takes when the agent dies is
 * the one every pause takes. Stops are observed with waitid(WNOWAIT), never
 * consumed: a signal the kernel dequeued into a signal-delivery-stop stays
 * the thread's stop code and is delivered when the thread is detached.
 */
#include "ptpause.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

#define CAP_SYS_PTRACE_BIT 19
#define PF_KTHREAD 0x00200000u
#define TRACER_STACK (256u << 10)
#define DETACH_WAIT_NS 1000000000u /* how long to wait for the kernel to finish a detach */

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "pt_resume_from_signal needs lock-free atomic int");

/* Thread states. */
enum {
    TS_NEW,     /* listed, not yet seized */
    TS_SEIZED,  /* seized and interrupted, stop not seen yet */
    TS_STOPPED, /* stop seen */
    TS_GONE,    /* exited (seen by waitid, or ESRCH) */
    TS_ZOMBIE   /* listed as Z/X when we tried to seize it: not ours, nothing to stop */
};

typedef struct {
    int tid;
    unsigned char state;
    unsigned char retried;    /* a GONE tid listed again was tried once more (TID reuse) */
    unsigned char group_stop; /* the stop was a group-stop (SIGSTOP...) */
} pt_thread;

enum { CMD_RESUME = 'r', CMD_ABORT = 'a' };

struct pt_pause {
    int pid;                /* the target's PID (TGID) */
    uint64_t deadline;      /* CLOCK_MONOTONIC ns: give up stopping after this */
    unsigned timeout_ms;    /* what the deadline was made of */
    int agent_pid;          /* getpid() of the agent */
    pthread_t thread;       /* the tracer thread */
    _Atomic int tracer_tid; /* its TID: TracerPid of every thread it traces */
    int cmd[2];             /* to the tracer: CMD_RESUME or CMD_ABORT */
    int ready[2];           /* from the tracer: one byte once stopped (or failed) */
    int done[2];            /* the tracer closes done[1] just before it ends (and so detaches) */
    /* written by the tracer thread, read by others after `ready` or join */
    int rc;                 /* 0 paused, -1 failed (msg) */
    char msg[768];
    pt_thread *t;           /* threads, sorted by tid */
    size_t n, cap;
    uint64_t t_seize0, t_stopped, t_detach0, t_detach1; /* CLOCK_MONOTONIC ns */
    pt_pause_stats st;      /* kept up to date by the tracer thread */
    pt_pause_stats paused;  /* copy of st when the target was stopped, for readers while paused */
    char tracer_stat[64];   /* /proc/self/task/TID/stat of the tracer thread */
};

/* The pause in progress, for pt_resume_from_signal: only plain ints (file
 * descriptors, the tracer's TID), read by the handler; release() clears
 * them and waits until no handler uses them before closing the pipes. */
static _Atomic(struct pt_pause *) g_active;
static atomic_int g_cmd_fd = -1;
static atomic_int g_done_fd = -1;
static atomic_int g_tracer_tid;
static atomic_int g_sig_users;

/* ------------------------------------------------------------- helpers */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void setmsg(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setmsg(char *msg, size_t len, const char *fmt, ...)
{
    if (!msg || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

/* Appends to a NUL-terminated buffer, cutting at its end. */
static void addmsg(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addmsg(char *msg, size_t len, const char *fmt, ...)
{
    size_t used = strlen(msg);
    if (used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + used, len - used, fmt, ap);
    va_end(ap);
}

/* Reads a small /proc file into buf (NUL-terminated); 0 or an errno. */
static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            return e;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = 0;
    return 0;
}

/* Value of "Name:\t..." in a status file, as a long; `def` if absent. */
static long status_field(const char *status, const char *name, long def)
{
    size_t nl = strlen(name);
    for (const char *l = status; l && *l;) {
        if (!strncmp(l, name, nl) && l[nl] == ':') return strtol(l + nl + 1, NULL, 10);
        l = strchr(l, '\n');
        if (l) l++;
    }
    return def;
}

/* State letter of a status file ('?' if none). */
static char status_state(const char *status)
{
    const char *s = strstr(status, "State:");
    if (!s) return '?';
    s += 6;
    while (*s == ' ' || *s == '\t') s++;
    return *s ? *s : '?';
}

typedef struct {
    char state;     /* '?' when unreadable */
    long tracer;    /* TracerPid, -1 unknown */
    long uid;       /* real uid, -1 unknown */
    long ppid;      /* -1 unknown */
    long tgid;      /* -1 unknown */
    int exists;
} task_info;

static void read_task(int pid, int tid, task_info *ti)
{
    char path[96], buf[4096];
    if (tid > 0)
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, tid);
    else
        snprintf(path, sizeof path, "/proc/%d/status", pid);
    memset(ti, 0, sizeof *ti);
    ti->state = '?';
    ti->tracer = ti->uid = ti->ppid = ti->tgid = -1;
    if (read_small(path, buf, sizeof buf)) return;
    ti->exists = 1;
    ti->state = status_state(buf);
    ti->tracer = status_field(buf, "TracerPid", -1);
    ti->uid = status_field(buf, "Uid", -1);
    ti->ppid = status_field(buf, "PPid", -1);
    ti->tgid = status_field(buf, "Tgid", -1);
}

static const char *state_name(char s)
{
    switch (s) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "uninterruptible sleep";
    case 'T': return "stopped";
    case 't': return "tracing stop";
    case 'Z': return "zombie";
    case 'X': return "dead";
    case 'I': return "idle";
    case 'P': return "parked";
    default: return "unknown state";
    }
}

/* comm of a process or thread, without the newline ("?" if unreadable). */
static void read_comm(const char *path, char *out, size_t cap)
{
    if (read_small(path, out, cap)) snprintf(out, cap, "?");
    out[strcspn(out, "\n")] = 0;
}

/* Whether the agent has CAP_SYS_PTRACE in its effective set. */
static int have_cap_sys_ptrace(void)
{
    char buf[4096];
    if (read_small("/proc/thread-self/status", buf, sizeof buf) &&
        read_small("/proc/self/status", buf, sizeof buf))
        return 0;
    const char *s = strstr(buf, "CapEff:");
    if (!s) return 0;
    unsigned long long caps = strtoull(s + 7, NULL, 16);
    return (caps >> CAP_SYS_PTRACE_BIT) & 1;
}

/* /proc/sys/kernel/yama/ptrace_scope, or -1 when Yama is absent. */
static int yama_scope(void)
{
    char buf[32];
    if (read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof buf)) return -1;
    return (int)strtol(buf, NULL, 10);
}

/* Whether `pid` descends from the process `ancestor` (bounded walk up). */
static int descends_from(int pid, int ancestor)
{
    for (int i = 0; i < 4096 && pid > 1; i++) {
        if (pid == ancestor) return 1;
        task_info ti;
        read_task(pid, 0, &ti);
        if (ti.ppid < 0) return 0;
        pid = (int)ti.ppid;
    }
    return 0;
}

/* ----------------------------------------------------- refusal message */

void pt_describe_refusal(const pt_refusal *f, char *msg, size_t len)
{
    if (!msg || !len) return;
    msg[0] = 0;
    addmsg(msg, len, "cannot pause PID %d: the kernel refused to trace its thread %d (EPERM)", f->pid, f->tid);
    if (f->yama_scope >= 0)
        addmsg(msg, len, "; kernel.yama.ptrace_scope is %d", f->yama_scope);
    else
        addmsg(msg, len, "; no Yama (/proc/sys/kernel/yama/ptrace_scope absent)");
    if (f->yama_scope >= 3) {
        addmsg(msg, len, ": ptrace is disabled for every process until reboot; capture without pausing (--no-pause)");
        return;
    }
    if (f->cap_sys_ptrace) {
        addmsg(msg, len, "; this agent has CAP_SYS_PTRACE, so a security module (AppArmor, SELinux), a seccomp "
                         "filter or a user-namespace boundary refused it: see the kernel log (dmesg), or capture "
                         "without pausing (--no-pause)");
        return;
    }
    int explained = 0;
    if (f->target_uid >= 0 && f->target_uid != f->agent_uid) {
        addmsg(msg, len, "; the target runs as uid %ld and this agent as uid %ld without CAP_SYS_PTRACE: run the "
                         "agent as uid %ld or as root", f->target_uid, f->agent_uid, f->target_uid);
        explained = 1;
    }
    if (f->yama_scope == 1 && !f->descendant) {
        addmsg(msg, len, "; ptrace_scope 1 lets a process trace only its descendants: run as root or with "
                         "CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep), or allow it with sysctl kernel.yama.ptrace_scope=0");
        explained = 1;
    } else if (f->yama_scope == 2) {
        addmsg(msg, len, "; ptrace_scope 2 lets only processes with CAP_SYS_PTRACE trace: run as root or with "
                         "CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep)");
        explained = 1;
    }
    if (!explained)
        addmsg(msg, len, "; same uid, so the target is probably not dumpable (a setuid/setcap program, or "
                         "prctl(PR_SET_DUMPABLE, 0)): run with CAP_SYS_PTRACE or as root");
    addmsg(msg, len, "; in a container, add the SYS_PTRACE capability (docker run --cap-add SYS_PTRACE; "
                     "Kubernetes: securityContext.capabilities.add: [SYS_PTRACE])");
}

/* ----------------------------------------------------- the thread table */

static int cmp_tid(const void *a, const void *b)
{
    int x = ((const pt_thread *)a)->tid, y = ((const pt_thread *)b)->tid;
    return (x > y) - (x < y);
}

/* Lists /proc/PID/task: unknown threads are added as TS_NEW, a GONE thread
 * that is listed again is retried once (its TID may have been reused).
 * *fresh gets how many threads are to be seized. Returns 0, or an errno
 * (ESRCH: the process is gone; E2BIG: too many threads). */
static int list_tasks(struct pt_pause *p, size_t *fresh)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", p->pid);
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? ESRCH : errno;
    size_t known = p->n, nf = 0;
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*end || tid <= 0 || tid > INT32_MAX) continue;
        pt_thread *t = known ? bsearch(&(pt_thread){.tid = (int)tid}, p->t, known, sizeof *p->t, cmp_tid) : NULL;
        if (t) {
            if (t->state == TS_GONE && !t->retried) {
                t->retried = 1;
                t->state = TS_NEW;
                nf++;
            }
            continue;
        }
        if (p->n >= PT_MAX_THREADS) {
            rc = E2BIG;
            break;
        }
        if (p->n == p->cap) {
            size_t nc = p->cap ? p->cap * 2 : 64;
            pt_thread *nt = realloc(p->t, nc * sizeof *nt);
            if (!nt) {
                rc = ENOMEM;
                break;
            }
            p->t = nt;
            p->cap = nc;
        }
        p->t[p->n++] = (pt_thread){.tid = (int)tid, .state = TS_NEW};
        nf++;
    }
    if (!rc && errno && errno != ENOENT) rc = errno;
    closedir(d);
    if (p->n > known) qsort(p->t, p->n, sizeof *p->t, cmp_tid);
    /* a readdir interrupted by the process's exit lists nothing */
    *fresh = nf;
    return rc;
}

/* ------------------------------------------------------------ stopping */

/* Why the thread could not be seized with EPERM: a zombie (fine), another
 * tracer, or permissions. Returns 0 when the thread is merely dead. */
static int explain_eperm(struct pt_pause *p, pt_thread *t)
{
    task_info ti;
    read_task(p->pid, t->tid, &ti);
    if (!ti.exists || ti.state == 'Z' || ti.state == 'X') {
        t->state = (ti.exists && !t->retried) ? TS_ZOMBIE : TS_GONE;
        if (t->state == TS_ZOMBIE) p->st.zombies++;
        return 0;
    }
    int me = atomic_load(&p->tracer_tid);
    if (ti.tracer > 0 && ti.tracer != me) {
        char cpath[64], comm[64];
        snprintf(cpath, sizeof cpath, "/proc/%ld/comm", ti.tracer);
        read_comm(cpath, comm, sizeof comm);
        setmsg(p->msg, sizeof p->msg,
               "cannot pause PID %d: its thread %d is already traced by PID %ld (%s), and a thread can have only "
               "one tracer: detach that debugger or tracer (quit gdb/strace), or capture without pausing "
               "(--no-pause)",
               p->pid, t->tid, ti.tracer, comm);
        return -1;
    }
    pt_refusal f = {
        .pid = p->pid,
        .tid = t->tid,
        .target_uid = ti.uid,
        .agent_uid = (long)getuid(),
        .cap_sys_ptrace = have_cap_sys_ptrace(),
        .yama_scope = yama_scope(),
        .descendant = descends_from(p->pid, p->agent_pid),
    };
    pt_describe_refusal(&f, p->msg, sizeof p->msg);
    return -1;
}

#ifdef PTPAUSE_TEST_HOOKS
/* Test builds only (tests/capture/test_capture_pause_hooks.c): a sleep
 * between PTRACE_SEIZE and PTRACE_INTERRUPT of the first thread seized, so
 * that a test can put that thread into a signal-delivery-stop at will. */
unsigned pt_test_seize_gap_us;
#endif

/* PTRACE_SEIZE + PTRACE_INTERRUPT of one listed thread. Returns 0 (also
 * when the thread turned out to have exited) or -1 with p->msg. */
static int seize_one(struct pt_pause *p, pt_thread *t)
{
    int first = !p->t_seize0;
    if (first) p->t_seize0 = now_ns();
    if (ptrace(PTRACE_SEIZE, t->tid, 0, 0) == 0) {
        t->state = TS_SEIZED;
#ifdef PTPAUSE_TEST_HOOKS
        if (first && pt_test_seize_gap_us) {
            struct timespec ts = {pt_test_seize_gap_us / 1000000u, (long)(pt_test_seize_gap_us % 1000000u) * 1000};
            nanosleep(&ts, NULL);
        }
#else
        (void)first;
#endif
        /* ESRCH here: the thread is exiting; waitid will report it */
        (void)ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
        return 0;
    }
    int e = errno;
    if (e == ESRCH) {
        if (t->state != TS_GONE) p->st.gone++;
        t->state = TS_GONE;
        t->retried = 1;
        return 0;
    }
    if (e == EPERM) return explain_eperm(p, t);
    setmsg(p->msg, sizeof p->msg, "cannot pause PID %d: PTRACE_SEIZE of its thread %d failed: %s", p->pid, t->tid,
           strerror(e));
    return -1;
}

/* Looks (without consuming it) for the stop or exit of a seized thread. */
static void poll_one(struct pt_pause *p, pt_thread *t)
{
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)t->tid, &si, WSTOPPED | WEXITED | WNOHANG | WNOWAIT | __WALL | __WNOTHREAD) == 0)
            break;
        if (errno == EINTR) continue;
        /* ECHILD: no longer our tracee (it exited and is gone) */
        t->state = TS_GONE;
        p->st.gone++;
        return;
    }
    if (si.si_pid == 0) return; /* not stopped yet */
    switch (si.si_code) {
    case CLD_TRAPPED: {
        int event = (si.si_status >> 8) & 0xff, sig = si.si_status & 0xff;
        t->state = TS_STOPPED;
        if (event == 0 && sig) {
            /* signal-delivery-stop: the signal was dequeued; the kernel
             * keeps it as the thread's stop code (WNOWAIT did not consume
             * it) and delivers it when the thread is detached */
            p->st.signals++;
        } else if (event == PTRACE_EVENT_STOP && sig != SIGTRAP) {
            t->group_stop = 1; /* SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU group-stop */
        }
        break;
    }
    case CLD_EXITED:
    case CLD_KILLED:
    case CLD_DUMPED:
        /* left for the kernel to reap when the tracer thread exits (it
         * knows whether the real parent is this very process) */
        t->state = TS_GONE;
        p->st.gone++;
        break;
    default:
        break; /* CLD_STOPPED/CONTINUED are not ptrace stops: keep waiting */
    }
}

/* Reads a pending command byte, if any (non-blocking). */
static int pending_cmd(struct pt_pause *p, int timeout_us)
{
    struct pollfd pf = {p->cmd[0], POLLIN, 0};
    struct timespec ts = {timeout_us / 1000000, (long)(timeout_us % 1000000) * 1000};
    if (ppoll(&pf, 1, &ts, NULL) <= 0 || !(pf.revents & POLLIN)) return 0;
    char c;
    return read(p->cmd[0], &c, 1) == 1 ? c : 0;
}

enum { WAIT_OK = 0, WAIT_TIMEOUT = 1, WAIT_ABORT = 2 };

/* Waits until no thread is TS_SEIZED. Spins briefly (stops usually take a
 * few microseconds), then sleeps in growing steps up to 1 ms. */
static int wait_stops(struct pt_pause *p)
{
    unsigned spins = 0;
    int step_us = 20;
    for (;;) {
        size_t pending = 0;
        for (size_t i = 0; i < p->n; i++)
            if (p->t[i].state == TS_SEIZED) {
                poll_one(p, &p->t[i]);
                pending += p->t[i].state == TS_SEIZED;
            }
        if (!pending) return WAIT_OK;
        uint64_t now = now_ns();
        if (now >= p->deadline) return WAIT_TIMEOUT;
        int us = 0;
        if (spins < 32) {
            sched_yield();
        } else {
            uint64_t left_us = (p->deadline - now) / 1000 + 1;
            us = left_us < (uint64_t)step_us ? (int)left_us : step_us;
            if (step_us < 1000) step_us *= 2;
        }
        spins++;
        if (pending_cmd(p, us) == CMD_ABORT) return WAIT_ABORT;
    }
}

/* Names (up to three) threads that did not stop, with their state. */
static void describe_stragglers(struct pt_pause *p, size_t stopped, size_t waiting)
{
    addmsg(p->msg, sizeof p->msg, "%zu of %zu threads did not stop:", waiting, waiting + stopped);
    size_t shown = 0;
    for (size_t i = 0; i < p->n && shown < 3; i++) {
        if (p->t[i].state != TS_SEIZED) continue;
        char path[96], stat[512], wchan[64];
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", p->pid, p->t[i].tid);
        char st = '?';
        if (!read_small(path, stat, sizeof stat)) {
            char *rp = strrchr(stat, ')');
            if (rp && rp[1] == ' ') st = rp[2];
        }
        snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", p->pid, p->t[i].tid);
        if (read_small(path, wchan, sizeof wchan) || !wchan[0] || !strcmp(wchan, "0")) snprintf(wchan, sizeof wchan, "?");
        addmsg(p->msg, sizeof p->msg, "%s thread %d in state %c (%s, wchan %s)", shown ? "," : "", p->t[i].tid, st,
               state_name(st), wchan);
        shown++;
    }
    if (waiting > shown) addmsg(p->msg, sizeof p->msg, ", ...");
}

/* Stops every thread (the tracer thread's first job). 0, or -1 with msg;
 * on failure the tracer thread's exit detaches what was seized. */
static int stop_all(struct pt_pause *p)
{
    for (;;) {
        size_t fresh = 0;
        int e = list_tasks(p, &fresh);
        p->st.rounds++;
        if (e == E2BIG) {
            setmsg(p->msg, sizeof p->msg, "cannot pause PID %d: it has more than %u threads", p->pid, PT_MAX_THREADS);
            goto fail;
        }
        if (e == ENOMEM) {
            setmsg(p->msg, sizeof p->msg, "cannot pause PID %d: out of memory for its thread list", p->pid);
            goto fail;
        }
        if (e == ESRCH) {
            setmsg(p->msg, sizeof p->msg, "cannot pause PID %d: it exited %s", p->pid,
                   p->st.rounds == 1 ? "before it could be paused" : "while being paused");
            goto fail;
        }
        if (e) {
            setmsg(p->msg, sizeof p->msg, "cannot pause PID %d: cannot list /proc/%d/task: %s", p->pid, p->pid,
                   strerror(e));
            goto fail;
        }
        if (p->st.rounds > 1 && !fresh) break;
        int w = WAIT_OK;
        size_t seized = 0;
        for (size_t i = 0; i < p->n && w == WAIT_OK; i++) {
            if (p->t[i].state != TS_NEW) continue;
            if (seize_one(p, &p->t[i])) goto fail;
            /* a huge thread list must not outlive the deadline either */
            if (++seized % 256 == 0) {
                if (now_ns() >= p->deadline) w = WAIT_TIMEOUT;
                else if (pending_cmd(p, 0) == CMD_ABORT) w = WAIT_ABORT;
            }
        }
        if (w == WAIT_OK) w = wait_stops(p);
        if (w == WAIT_ABORT) {
            setmsg(p->msg, sizeof p->msg,
                   "pause of PID %d interrupted (pt_resume_from_signal): nothing is left attached", p->pid);
            goto fail;
        }
        if (w == WAIT_TIMEOUT) {
            size_t stopped = 0, waiting = 0;
            for (size_t i = 0; i < p->n; i++) {
                stopped += p->t[i].state == TS_STOPPED;
                waiting += p->t[i].state == TS_SEIZED;
            }
            setmsg(p->msg, sizeof p->msg, "cannot pause PID %d within %u ms: ", p->pid, p->timeout_ms);
            describe_stragglers(p, stopped, waiting);
            addmsg(p->msg, sizeof p->msg,
                   "; nothing is left attached: retry, allow a longer pause timeout, or capture without pausing "
                   "(--no-pause)");
            goto fail;
        }
    }
    p->t_stopped = now_ns();
    for (size_t i = 0; i < p->n; i++)
        if (p->t[i].state == TS_STOPPED) {
            p->st.threads++;
            p->st.group_stopped += p->t[i].group_stop;
        }
    if (!p->st.threads) {
        task_info ti;
        read_task(p->pid, 0, &ti);
        if (ti.state == 'Z' || ti.state == 'X')
            setmsg(p->msg, sizeof p->msg,
                   "cannot pause PID %d: it has exited (a zombie its parent, PID %ld, has not reaped yet): there is "
                   "nothing to pause",
                   p->pid, ti.ppid);
        else
            setmsg(p->msg, sizeof p->msg, "cannot pause PID %d: it exited while being paused", p->pid);
        goto fail;
    }
    p->st.stop_ns = p->t_stopped - p->t_seize0;
    return 0;
fail:
    return -1;
}

static void signal_fd(int fd)
{
    char c = 1;
    while (write(fd, &c, 1) < 0 && errno == EINTR) {
    }
}

static void *tracer_main(void *arg)
{
    struct pt_pause *p = arg;
    int tid = (int)gettid();
    snprintf(p->tracer_stat, sizeof p->tracer_stat, "/proc/self/task/%d/stat", tid);
    atomic_store(&p->tracer_tid, tid);
    atomic_store(&g_tracer_tid, tid);
    p->rc = stop_all(p);
    /* an abort that raced with the last stop wins */
    if (p->rc == 0 && pending_cmd(p, 0) == CMD_ABORT) {
        p->rc = -1;
        p->st.by_signal = 1;
        setmsg(p->msg, sizeof p->msg,
               "pause of PID %d interrupted (pt_resume_from_signal): nothing is left attached", p->pid);
    }
    p->paused = p->st;
    atomic_thread_fence(memory_order_release);
    signal_fd(p->ready[1]);
    if (p->rc == 0) {
        char c = CMD_RESUME;
        ssize_t k;
        do k = read(p->cmd[0], &c, 1);
        while (k < 0 && errno == EINTR);
        if (c == CMD_ABORT) p->st.by_signal = 1;
    }
    p->t_detach0 = now_ns();
    atomic_thread_fence(memory_order_release);
    close(p->done[1]);
    p->done[1] = -1;
    /* Returning ends the thread, and the kernel detaches every thread it
     * traces in one pass (exit_ptrace, under tasklist_lock): stopped
     * threads resume with their stop code (a signal taken in a
     * signal-delivery-stop is delivered), group-stopped ones return to
     * their stop, threads that never stopped lose their pending trap,
     * exited ones are reaped or handed to their parent. That is the very
     * path the kernel takes if the agent dies, so every pause exercises
     * it; and it is fast: PTRACE_DETACH one by one woke threads that then
     * competed with the tracer for the CPU (200 busy threads: 135 ms). */
    return NULL;
}

/* ---------------------------------------------------------- public API */

/* Whether the thread whose /proc/self/task/TID/stat is `path` has ended
 * (no entry, or state Z/X). Async-signal-safe. */
static int tracer_ended(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    char buf[512];
    ssize_t k;
    do k = read(fd, buf, sizeof buf - 1);
    while (k < 0 && errno == EINTR);
    close(fd);
    if (k <= 0) return 1;
    buf[k] = 0;
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* After pthread_join: the thread's TID is released before the kernel
 * runs exit_ptrace, so wait (bounded) until the thread is really gone.
 * Returns 0, or -1 if it is still there after DETACH_WAIT_NS. */
static int wait_tracer_gone(struct pt_pause *p)
{
    uint64_t until = now_ns() + DETACH_WAIT_NS;
    unsigned spins = 0;
    while (!tracer_ended(p->tracer_stat)) {
        if (now_ns() >= until) return -1;
        if (spins++ < 64) {
            sched_yield();
        } else {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

static void close_fds(struct pt_pause *p)
{
    int *fds[] = {p->cmd, p->ready, p->done};
    for (size_t i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            if (fds[i][j] >= 0) {
                close(fds[i][j]);
                fds[i][j] = -1;
            }
}

/* Unregisters p from pt_resume_from_signal and frees it. */
static void release(struct pt_pause *p)
{
    atomic_store(&g_cmd_fd, -1);
    atomic_store(&g_done_fd, -1);
    atomic_store(&g_tracer_tid, 0);
    while (atomic_load(&g_sig_users) > 0) sched_yield();
    close_fds(p);
    free(p->t);
    struct pt_pause *expect = p;
    atomic_compare_exchange_strong(&g_active, &expect, NULL);
    free(p);
}

/* Checks made before any ptrace request: the PID exists, is not this
 * process and is not a kernel thread. 0 or -1 with msg. */
static int preflight(int pid, int agent, char *msg, size_t len)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int e = read_small(path, buf, sizeof buf);
    if (e) {
        if (e == ENOENT || e == ESRCH)
            setmsg(msg, len, "cannot pause PID %d: no such process (no /proc/%d): it has exited, or the PID is wrong",
                   pid, pid);
        else
            setmsg(msg, len, "cannot pause PID %d: cannot read %s: %s", pid, path, strerror(e));
        return -1;
    }
    task_info ti;
    read_task(pid, 0, &ti);
    if (ti.tgid == agent) {
        setmsg(msg, len, "cannot pause PID %d: it is this agent's own process", pid);
        return -1;
    }
    char *rp = strrchr(buf, ')');
    unsigned long flags = 0;
    if (rp) {
        /* fields after ')': 3 state ... 9 flags */
        char *s = rp + 2;
        for (int field = 3; field < 9 && s; field++) {
            s = strchr(s, ' ');
            if (s) s++;
        }
        if (s) flags = strtoul(s, NULL, 10);
    }
    if (flags & PF_KTHREAD) {
        setmsg(msg, len, "cannot pause PID %d: it is a kernel thread (no user memory to capture)", pid);
        return -1;
    }
    return 0;
}

int pt_pause(int pid, unsigned timeout_ms, struct pt_pause **out, char *msg, size_t len)
{
    if (msg && len) msg[0] = 0;
    if (!out) {
        setmsg(msg, len, "pt_pause: out is NULL");
        return -1;
    }
    *out = NULL;
    uint64_t t_call = now_ns();
    if (pid <= 0) {
        setmsg(msg, len, "cannot pause PID %d: not a process ID", pid);
        return -1;
    }
    int agent = (int)getpid();
    if (preflight(pid, agent, msg, len)) return -1;

    struct pt_pause *p = calloc(1, sizeof *p);
    if (!p) {
        setmsg(msg, len, "cannot pause PID %d: out of memory", pid);
        return -1;
    }
    p->pid = pid;
    p->agent_pid = agent;
    p->timeout_ms = timeout_ms ? timeout_ms : PT_DEFAULT_TIMEOUT_MS;
    p->deadline = t_call + (uint64_t)p->timeout_ms * 1000000u;
    p->cmd[0] = p->cmd[1] = p->ready[0] = p->ready[1] = p->done[0] = p->done[1] = -1;
    struct pt_pause *expect = NULL;
    if (!atomic_compare_exchange_strong(&g_active, &expect, p)) {
        setmsg(msg, len, "cannot pause PID %d: another pause (PID %d) is in progress in this agent", pid,
               expect ? expect->pid : 0);
        free(p);
        return -1;
    }
    if (pipe2(p->cmd, O_CLOEXEC) || pipe2(p->ready, O_CLOEXEC) || pipe2(p->done, O_CLOEXEC)) {
        setmsg(msg, len, "cannot pause PID %d: pipe: %s", pid, strerror(errno));
        release(p);
        return -1;
    }
    atomic_store(&g_cmd_fd, p->cmd[1]);
    atomic_store(&g_done_fd, p->done[0]);

    /* the tracer thread blocks every signal: handlers run elsewhere */
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_t attr;
    int e = pthread_attr_init(&attr);
    if (!e) e = pthread_attr_setstacksize(&attr, TRACER_STACK);
    if (!e) {
        pthread_sigmask(SIG_SETMASK, &all, &old);
        e = pthread_create(&p->thread, &attr, tracer_main, p);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (e) {
        setmsg(msg, len, "cannot pause PID %d: cannot start the tracer thread: %s", pid, strerror(e));
        release(p);
        return -1;
    }
    for (;;) {
        char c;
        ssize_t k = read(p->ready[0], &c, 1);
        if (k < 0 && errno == EINTR) continue;
        break; /* a byte, or EOF if the thread ended early: p->rc tells */
    }
    atomic_thread_fence(memory_order_acquire);
    if (p->rc == 0) {
        *out = p;
        return 0;
    }
    pthread_join(p->thread, NULL);
    atomic_thread_fence(memory_order_acquire);
    int stuck = wait_tracer_gone(p);
    setmsg(msg, len, "%s", p->msg);
    if (stuck && msg && len)
        addmsg(msg, len, " (but the tracer thread %d had not ended %u ms later: threads may still be attached)",
               atomic_load(&p->tracer_tid), (unsigned)(DETACH_WAIT_NS / 1000000u));
    release(p);
    return -1;
}

int pt_resume_stats(struct pt_pause *p, pt_pause_stats *st)
{
    if (st) memset(st, 0, sizeof *st);
    if (!p) return 0;
    char c = CMD_RESUME;
    ssize_t k;
    do k = write(p->cmd[1], &c, 1);
    while (k < 0 && errno == EINTR);
    pthread_join(p->thread, NULL);
    atomic_thread_fence(memory_order_acquire);
    int stuck = wait_tracer_gone(p);
    p->t_detach1 = now_ns();
    p->st.detach_ns = p->t_detach1 - p->t_detach0;
    p->st.held_ns = p->t_detach0 > p->t_stopped ? p->t_detach0 - p->t_stopped : 0;
    if (st) *st = p->st;
    release(p);
    return stuck ? -1 : 0;
}

int pt_resume(struct pt_pause *p)
{
    return pt_resume_stats(p, NULL);
}

uint64_t pt_pause_stop_ns(const struct pt_pause *p)
{
    return p->paused.stop_ns;
}

unsigned pt_pause_threads(const struct pt_pause *p)
{
    return p->paused.threads;
}

void pt_pause_get_stats(const struct pt_pause *p, pt_pause_stats *st)
{
    *st = p->paused;
}

void pt_resume_from_signal(void)
{
    int saved = errno;
    atomic_fetch_add(&g_sig_users, 1);
    int cmd = atomic_load(&g_cmd_fd), done = atomic_load(&g_done_fd);
    if (cmd >= 0) {
        char c = CMD_ABORT;
        ssize_t k;
        do k = write(cmd, &c, 1);
        while (k < 0 && errno == EINTR);
        /* the tracer closes done[1] just before it ends... */
        if (done >= 0) {
            struct pollfd pf = {done, POLLIN, 0};
            while (poll(&pf, 1, 2000) < 0 && errno == EINTR) {
            }
        }
        /* ...and its end is the detach: wait for it (bounded), with
         * async-signal-safe calls only */
        int tid = atomic_load(&g_tracer_tid);
        if (tid > 0) {
            char path[64] = "/proc/self/task/", digits[16];
            size_t n = 0, at = strlen(path);
            for (unsigned v = (unsigned)tid; v && n < sizeof digits; v /= 10) digits[n++] = (char)('0' + v % 10);
            while (n && at < sizeof path - 8) path[at++] = digits[--n];
            memcpy(path + at, "/stat", 6);
            uint64_t until = now_ns() + DETACH_WAIT_NS;
            while (!tracer_ended(path) && now_ns() < until) {
                struct timespec ts = {0, 20000};
                nanosleep(&ts, NULL);
            }
        }
    }
    atomic_fetch_sub(&g_sig_users, 1);
    errno = saved;
}

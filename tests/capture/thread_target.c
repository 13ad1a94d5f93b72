/*
 * thread_target.c - a multi-threaded process for the pause tests
 * (test_capture_pause.c) to stop and resume.
 *
 * usage: thread_target [--threads N] [--mode busy|sleep|spawn] [--tick MS]
 *                      [--dstate MS] [--exit-main] [--child-ms MS]
 *
 * It starts N worker threads (default 4):
 *   busy   each spins, counting iterations;
 *   sleep  each sleeps 1 ms in a loop, counting wake-ups;
 *   spawn  each creates a short-lived thread, joins it, and again: threads
 *          appear and exit all the time (with --child-ms MS each of those
 *          threads sleeps MS ms before it exits).
 * then prints "READY" and starts a reporter thread that prints, every
 * --tick MS (default 5),
 *   TICK <seq> <progress> <sigusr1> <sigrtmin> <spawned>
 * (progress: the workers' summed count; sigusr1/sigrtmin: how many of those
 * signals its handlers ran; spawned: threads created in spawn mode). Each
 * line is one write(2). With --dstate MS a further thread loops: it prints
 * "VFORK <n>", makes a CLONE_VFORK child that sleeps MS ms and exits (so
 * that for MS ms the thread is in uninterruptible sleep, state D), then
 * waits 20 ms. With --exit-main the main thread calls pthread_exit 50 ms
 * after READY, leaving a zombie main thread behind live ones. Otherwise
 * the main thread waits in pause() until the process is killed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 4096

typedef struct {
    _Atomic unsigned long long n;
    char pad[56]; /* one cache line per worker */
} counter;

static counter *counts;
static int nthreads = 4, tick_ms = 5, dstate_ms, exit_main, child_ms;
static const char *mode = "busy";
static atomic_ullong usr1, rtmin, spawned;
static atomic_int started;

static void die(const char *what)
{
    fprintf(stderr, "thread_target: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, off = 0;
    while (off < len) {
        ssize_t k = write(1, line + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) exit(0); /* the test closed our stdout: it is done with us */
        off += (size_t)k;
    }
}

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&usr1, 1);
}

static void on_rtmin(int sig)
{
    (void)sig;
    atomic_fetch_add(&rtmin, 1);
}

static void *short_lived(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < 100; i++) atomic_fetch_add_explicit(&c->n, 1, memory_order_relaxed);
    if (child_ms) {
        struct timespec ts = {child_ms / 1000, (long)(child_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void *worker(void *arg)
{
    counter *c = arg;
    atomic_fetch_add(&started, 1);
    if (!strcmp(mode, "busy")) {
        for (;;) atomic_fetch_add_explicit(&c->n, 1, memory_order_relaxed);
    } else if (!strcmp(mode, "sleep")) {
        for (;;) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            atomic_fetch_add_explicit(&c->n, 1, memory_order_relaxed);
        }
    } else {
        for (;;) {
            pthread_t t;
            if (pthread_create(&t, NULL, short_lived, c) == 0) {
                atomic_fetch_add(&spawned, 1);
                pthread_join(t, NULL);
            } else {
                sched_yield();
            }
        }
    }
    return NULL;
}

static void *reporter(void *arg)
{
    (void)arg;
    for (unsigned long long seq = 1;; seq++) {
        unsigned long long progress = 0;
        for (int i = 0; i < nthreads; i++) progress += atomic_load_explicit(&counts[i].n, memory_order_relaxed);
        say("TICK %llu %llu %llu %llu %llu\n", seq, progress, (unsigned long long)atomic_load(&usr1),
            (unsigned long long)atomic_load(&rtmin), (unsigned long long)atomic_load(&spawned));
        struct timespec ts = {tick_ms / 1000, (long)(tick_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* The CLONE_VFORK child: raw system calls only (it runs on a borrowed
 * stack while the parent thread waits in uninterruptible sleep). */
static int vfork_child(void *arg)
{
    (void)arg;
    struct timespec ts = {dstate_ms / 1000, (long)(dstate_ms % 1000) * 1000000};
    syscall(SYS_nanosleep, &ts, NULL);
    syscall(SYS_exit, 0);
    return 0;
}

static void *dstate(void *arg)
{
    (void)arg;
    static char stack[64 << 10] __attribute__((aligned(16)));
    for (unsigned long long n = 1;; n++) {
        say("VFORK %llu\n", n);
        pid_t c = clone(vfork_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
        if (c < 0) die("clone(CLONE_VFORK)");
        while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {
        }
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--tick") && i + 1 < argc)
            tick_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dstate") && i + 1 < argc)
            dstate_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--exit-main"))
            exit_main = 1;
        else if (!strcmp(argv[i], "--child-ms") && i + 1 < argc)
            child_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: thread_target [--threads N] [--mode busy|sleep|spawn] [--tick MS] "
                            "[--dstate MS] [--exit-main] [--child-ms MS]\n");
            return 2;
        }
    }
    if (nthreads < 0 || nthreads > MAX_THREADS || tick_ms <= 0 || dstate_ms < 0 || child_ms < 0 ||
        (strcmp(mode, "busy") && strcmp(mode, "sleep") && strcmp(mode, "spawn"))) {
        fprintf(stderr, "thread_target: bad arguments\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, NULL)) die("sigaction SIGUSR1");
    sa.sa_handler = on_rtmin;
    if (sigaction(SIGRTMIN, &sa, NULL)) die("sigaction SIGRTMIN");

    counts = calloc((size_t)nthreads + 1, sizeof *counts);
    if (!counts) die("calloc");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 << 10);
    for (int i = 0; i < nthreads; i++) {
        pthread_t t;
        int e = pthread_create(&t, &attr, worker, &counts[i]);
        if (e) {
            errno = e;
            die("pthread_create");
        }
    }
    while (atomic_load(&started) < nthreads) sched_yield();
    say("READY\n");
    pthread_t t;
    if (pthread_create(&t, &attr, reporter, NULL)) die("pthread_create reporter");
    if (dstate_ms && pthread_create(&t, &attr, dstate, NULL)) die("pthread_create dstate");
    if (exit_main) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        pthread_exit(NULL);
    }
    for (;;) pause();
}

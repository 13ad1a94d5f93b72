/*
 * capture_test_util.h - helpers shared by the capture tests: starting and
 * stopping the processes a test owns, running a command and collecting its
 * exit status, stdout and stderr, temporary directories and mounts that are
 * removed even when a test fails, and reading a .msnap file back.
 *
 * Cleanup: every process, directory and mount made through these helpers
 * is recorded; ct_cleanup_all() (run by each test's teardown and at exit)
 * kills the processes by PID and reaps them, lazily unmounts the mounts and
 * removes the directories. Processes started here also get
 * PR_SET_PDEATHSIG, so they die with the test even if it is killed.
 * The registry is the one piece of global state of the test programs.
 *
 * Helpers fail the calling cmocka test with a message that says what went
 * wrong; strings they return are malloc'd and freed by the caller.
 */
#ifndef CAPTURE_TEST_UTIL_H
#define CAPTURE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "msnap.h"

/* Prints "SKIP: <why>" and skips the running cmocka test. */
#define ct_skip(...)                  \
    do {                              \
        printf("SKIP: " __VA_ARGS__); \
        printf("\n");                 \
        fflush(stdout);               \
        skip();                       \
    } while (0)

/* Fails unless two unsigned numbers are equal, naming what is compared. */
#define ct_eq_u64(got, want, ...)                                                  \
    do {                                                                           \
        unsigned long long ct_g_ = (got), ct_w_ = (want);                          \
        if (ct_g_ != ct_w_) {                                                      \
            char ct_what_[256];                                                    \
            snprintf(ct_what_, sizeof ct_what_, __VA_ARGS__);                      \
            fail_msg("%s: got %llu (0x%llx), want %llu (0x%llx)", ct_what_, ct_g_, \
                     ct_g_, ct_w_, ct_w_);                                         \
        }                                                                          \
    } while (0)

/* ---------------------------------------------------------------- cleanup */

/* Installs ct_cleanup_all at exit and on SIGINT/SIGTERM/SIGHUP. */
void ct_init(void);

/* Kills (SIGKILL) and reaps every recorded process still running, unmounts
 * the recorded mounts (MNT_DETACH) and removes the recorded directories. */
void ct_cleanup_all(void);

/* cmocka teardown that runs ct_cleanup_all. */
int ct_teardown(void **state);

/* Records a PID to kill at cleanup / forgets it once the test reaped it. */
void ct_own_pid(pid_t pid);
void ct_forget_pid(pid_t pid);

/* Records a mount point to detach at cleanup (before the directories go). */
void ct_own_mount(const char *dir);
void ct_forget_mount(const char *dir);

/* ------------------------------------------------------------- processes */

/* Starts argv (PATH searched) with stdin from /dev/null. *out_fd and
 * *err_fd (either may be NULL: then the test's own stdout/stderr are
 * inherited) receive the read ends of pipes on its stdout and stderr.
 * The PID is recorded for cleanup. */
pid_t ct_start(char *const argv[], int *out_fd, int *err_fd);

typedef struct {
    int status;        /* exit code; 128 + signal number when killed */
    char *out, *err;   /* everything written to stdout / stderr, NUL-terminated */
    size_t out_len, err_len;
    double secs;       /* wall time from ct_start to exit */
    struct rusage ru;  /* of the child (wait4) */
} ct_result;

/* Collects a process started with ct_start until it exits; kills it and
 * fails the test if that takes longer than `timeout` seconds. `t0` is the
 * start time (ct_now()) used for r->secs. The PID is forgotten. */
void ct_finish(pid_t pid, int out_fd, int err_fd, double t0, double timeout, ct_result *r);

/* ct_start + ct_finish. */
void ct_run(char *const argv[], double timeout, ct_result *r);
void ct_result_free(ct_result *r);

/* Monotonic seconds. */
double ct_now(void);
void ct_sleep(double secs);

/* Kills a recorded process with SIGKILL and reaps it. */
void ct_kill(pid_t pid);

/* A started process that printed lines up to "READY". */
typedef struct {
    pid_t pid;
    int out_fd;
    char *lines; /* what it printed before READY */
} ct_target;

/* Starts argv and waits (at most `timeout` s) for a "READY" line, then
 * (at most 5 s more) until the process sleeps; fails the test if the
 * process exits or stays silent. */
void ct_target_start(ct_target *t, char *const argv[], double timeout);
void ct_target_stop(ct_target *t);

/* Finds the map_target line "MAP <kind> start end rss [path]". Returns 1
 * and fills the values (path: malloc'd, NULL when none) if found. */
int ct_target_map(const ct_target *t, const char *kind, uint64_t *start, uint64_t *end, uint64_t *rss,
                  char **path);

/* ---------------------------------------------------------- files, dirs */

/* A fresh directory under `base` (NULL: $TMPDIR or /tmp), recorded for
 * removal. Returns its malloc'd path. */
char *ct_tmpdir(const char *base);

/* malloc'd "dir/name". */
char *ct_path(const char *dir, const char *name);

/* Removes a file tree (no error if absent). */
void ct_rm_rf(const char *path);

/* Reads a whole file (NULL if it cannot be opened); *len gets its size. */
char *ct_read_file(const char *path, size_t *len);

/* Whether `hay` contains `needle`. */
int ct_contains(const char *hay, const char *needle);

/* ---------------------------------------------------------------- .msnap */

/* Reads every snapshot of `path`; *n gets the count and *end_rc how the
 * reading ended (MS_ERR_END for a clean end). Fails the test if the file
 * cannot be opened. Free with ct_free_snapshots. */
ms_snapshot **ct_read_snapshots(const char *path, size_t *n, int *end_rc);
void ct_free_snapshots(ms_snapshot **s, size_t n);

/* A section the test needs; fails the test when it is missing. */
const ms_section *ct_section(const ms_snapshot *s, unsigned type);

/* Row of MS_SEC_MAPPINGS whose start is `start`, or -1. */
long ct_find_mapping(const ms_section *maps, uint64_t start);

/* malloc'd NUL-terminated copy of a string cell; NULL for a null string;
 * fails the test when the cell is missing. */
char *ct_str(const ms_section *sec, unsigned col, size_t row);

#endif

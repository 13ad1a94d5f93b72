/*
 * capture_test_util.c - process, file and cleanup helpers of the capture
 * tests (see capture_test_util.h).
 */
#include "capture_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- cleanup */

#define CT_MAX_OWNED 64

static struct {
    pid_t pids[CT_MAX_OWNED];
    char *mounts[CT_MAX_OWNED];
    char *dirs[CT_MAX_OWNED];
    pid_t owner; /* only the test process itself cleans up, never a forked child */
} owned;

void ct_own_pid(pid_t pid)
{
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (!owned.pids[i]) {
            owned.pids[i] = pid;
            return;
        }
    fail_msg("too many processes recorded for cleanup");
}

void ct_forget_pid(pid_t pid)
{
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (owned.pids[i] == pid) owned.pids[i] = 0;
}

void ct_own_mount(const char *dir)
{
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (!owned.mounts[i]) {
            owned.mounts[i] = strdup(dir);
            return;
        }
    fail_msg("too many mounts recorded for cleanup");
}

void ct_forget_mount(const char *dir)
{
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (owned.mounts[i] && !strcmp(owned.mounts[i], dir)) {
            free(owned.mounts[i]);
            owned.mounts[i] = NULL;
        }
}

static void own_dir(const char *dir)
{
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (!owned.dirs[i]) {
            owned.dirs[i] = strdup(dir);
            return;
        }
    fail_msg("too many directories recorded for cleanup");
}

void ct_cleanup_all(void)
{
    if (owned.owner && owned.owner != getpid()) return;
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (owned.pids[i] > 0) {
            kill(owned.pids[i], SIGKILL);
            while (waitpid(owned.pids[i], NULL, 0) < 0 && errno == EINTR) {
            }
            owned.pids[i] = 0;
        }
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (owned.mounts[i]) {
            if (umount2(owned.mounts[i], MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
                fprintf(stderr, "cleanup: cannot unmount %s: %s\n", owned.mounts[i], strerror(errno));
            free(owned.mounts[i]);
            owned.mounts[i] = NULL;
        }
    for (int i = 0; i < CT_MAX_OWNED; i++)
        if (owned.dirs[i]) {
            ct_rm_rf(owned.dirs[i]);
            free(owned.dirs[i]);
            owned.dirs[i] = NULL;
        }
}

int ct_teardown(void **state)
{
    (void)state;
    ct_cleanup_all();
    return 0;
}

static void on_fatal_signal(int sig)
{
    ct_cleanup_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void ct_init(void)
{
    owned.owner = getpid();
    atexit(ct_cleanup_all);
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGHUP, on_fatal_signal);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* ------------------------------------------------------------- processes */

double ct_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ct_sleep(double secs)
{
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

pid_t ct_start(char *const argv[], int *out_fd, int *err_fd)
{
    int op[2] = {-1, -1}, ep[2] = {-1, -1};
    if ((out_fd && pipe2(op, O_CLOEXEC)) || (err_fd && pipe2(ep, O_CLOEXEC)))
        fail_msg("pipe: %s", strerror(errno));
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        /* the child dies with the test, whatever happens to the test */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        if (out_fd) dup2(op[1], 1);
        if (err_fd) dup2(ep[1], 2);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    ct_own_pid(pid);
    if (out_fd) {
        close(op[1]);
        *out_fd = op[0];
    }
    if (err_fd) {
        close(ep[1]);
        *err_fd = ep[0];
    }
    return pid;
}

static void append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*len + n + 1) * 2;
        char *b = realloc(*buf, c);
        if (!b) fail_msg("out of memory");
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = 0;
}

void ct_finish(pid_t pid, int out_fd, int err_fd, double t0, double timeout, ct_result *r)
{
    memset(r, 0, sizeof *r);
    size_t ocap = 0, ecap = 0;
    append(&r->out, &r->out_len, &ocap, "", 0);
    append(&r->err, &r->err_len, &ecap, "", 0);
    int killed = 0;
    struct pollfd pf[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    while (pf[0].fd >= 0 || pf[1].fd >= 0) {
        double left = t0 + timeout - ct_now();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        int k = poll(pf, 2, (int)(left * 1000) + 1);
        if (k < 0 && errno == EINTR) continue;
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !pf[i].revents) continue;
            char buf[8192];
            ssize_t n = read(pf[i].fd, buf, sizeof buf);
            if (n > 0) {
                if (i == 0) append(&r->out, &r->out_len, &ocap, buf, (size_t)n);
                else append(&r->err, &r->err_len, &ecap, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(pf[i].fd);
                pf[i].fd = -1;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (pf[i].fd >= 0) close(pf[i].fd);
    int st = 0;
    for (;;) {
        double left = t0 + timeout + 2 - ct_now();
        pid_t w = wait4(pid, &st, killed || left <= 0 ? 0 : WNOHANG, &r->ru);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) fail_msg("wait4(%d): %s", (int)pid, strerror(errno));
        if (w == 0 && left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        if (w == 0) ct_sleep(0.005);
    }
    ct_forget_pid(pid);
    r->secs = ct_now() - t0;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (killed) fail_msg("PID %d did not finish within %.1f s; killed. stderr: %s", (int)pid, timeout, r->err);
}

void ct_run(char *const argv[], double timeout, ct_result *r)
{
    int of, ef;
    double t0 = ct_now();
    pid_t pid = ct_start(argv, &of, &ef);
    ct_finish(pid, of, ef, t0, timeout, r);
}

void ct_result_free(ct_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

void ct_kill(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    ct_forget_pid(pid);
}

void ct_target_start(ct_target *t, char *const argv[], double timeout)
{
    memset(t, 0, sizeof *t);
    t->pid = ct_start(argv, &t->out_fd, NULL);
    size_t len = 0, cap = 0;
    char *buf = NULL;
    append(&buf, &len, &cap, "", 0);
    double t0 = ct_now();
    for (;;) {
        char *ready = strstr(buf, "READY\n");
        if (ready && (ready == buf || ready[-1] == '\n')) {
            *ready = 0;
            t->lines = buf;
            /* READY is printed just before the process goes to sleep: wait
             * until it does, so that it is idle while it is captured */
            char statp[64];
            snprintf(statp, sizeof statp, "/proc/%d/stat", (int)t->pid);
            double t1 = ct_now();
            while (ct_now() - t1 < 5) {
                char *st = ct_read_file(statp, NULL);
                char *rp = st ? strrchr(st, ')') : NULL;
                int sleeping = rp && rp[1] == ' ' && rp[2] == 'S';
                free(st);
                if (sleeping) break;
                ct_sleep(0.002);
            }
            return;
        }
        double left = t0 + timeout - ct_now();
        struct pollfd pf = {t->out_fd, POLLIN, 0};
        int k = left > 0 ? poll(&pf, 1, (int)(left * 1000) + 1) : 0;
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) fail_msg("%s printed no READY within %.0f s; it printed: %s", argv[0], timeout, buf);
        char tmp[4096];
        ssize_t n = read(t->out_fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail_msg("%s exited before READY; it printed: %s", argv[0], buf);
        append(&buf, &len, &cap, tmp, (size_t)n);
    }
}

void ct_target_stop(ct_target *t)
{
    if (t->pid > 0) ct_kill(t->pid);
    if (t->out_fd > 0) close(t->out_fd);
    free(t->lines);
    memset(t, 0, sizeof *t);
}

int ct_target_map(const ct_target *t, const char *kind, uint64_t *start, uint64_t *end, uint64_t *rss,
                  char **path)
{
    size_t kl = strlen(kind);
    for (const char *l = t->lines; l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len > 4 + kl && !strncmp(l, "MAP ", 4) && !strncmp(l + 4, kind, kl) && l[4 + kl] == ' ') {
            unsigned long long s, e, r;
            int used = 0;
            if (sscanf(l + 5 + kl, "%llx %llx %llu%n", &s, &e, &r, &used) != 3)
                fail_msg("bad map_target line: %.*s", (int)len, l);
            *start = s;
            *end = e;
            *rss = r;
            const char *p = l + 5 + kl + used;
            size_t pl = len - (size_t)(p - l);
            if (path) *path = pl > 1 ? strndup(p + 1, pl - 1) : NULL;
            return 1;
        }
        l = nl ? nl + 1 : l + len;
    }
    return 0;
}

/* ---------------------------------------------------------- files, dirs */

char *ct_tmpdir(const char *base)
{
    if (!base) base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    char *p = ct_path(base, "msnap-capture-test-XXXXXX");
    if (!mkdtemp(p)) fail_msg("mkdtemp %s: %s", p, strerror(errno));
    own_dir(p);
    return p;
}

char *ct_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) fail_msg("out of memory");
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void ct_rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

char *ct_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t n = 0, cap = 0;
    char *buf = NULL;
    append(&buf, &n, &cap, "", 0);
    for (;;) {
        char tmp[65536];
        ssize_t k = read(fd, tmp, sizeof tmp);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        append(&buf, &n, &cap, tmp, (size_t)k);
    }
    close(fd);
    if (len) *len = n;
    return buf;
}

int ct_contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* ---------------------------------------------------------------- .msnap */

ms_snapshot **ct_read_snapshots(const char *path, size_t *n, int *end_rc)
{
    int err = 0;
    char msg[512];
    ms_reader *r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    if (!r) fail_msg("cannot open %s: %s (%s)", path, msg, ms_errname(err));
    ms_snapshot **v = NULL;
    size_t cnt = 0;
    int rc;
    for (;;) {
        ms_snapshot *s;
        rc = ms_reader_next(r, &s);
        if (rc) break;
        ms_snapshot **nv = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv) fail_msg("out of memory");
        v = nv;
        v[cnt++] = s;
    }
    if (rc != MS_ERR_END) printf("note: reading %s ended with %s: %s\n", path, ms_errname(rc), ms_reader_error(r));
    ms_reader_close(r);
    *n = cnt;
    if (end_rc) *end_rc = rc;
    return v;
}

void ct_free_snapshots(ms_snapshot **s, size_t n)
{
    for (size_t i = 0; i < n; i++) ms_snapshot_free(s[i]);
    free(s);
}

const ms_section *ct_section(const ms_snapshot *s, unsigned type)
{
    const ms_section *sec = ms_snapshot_section(s, type);
    if (!sec) fail_msg("the snapshot has no %s section", ms_section_name(type));
    return sec;
}

long ct_find_mapping(const ms_section *maps, uint64_t start)
{
    size_t n = ms_section_nrows(maps);
    for (size_t i = 0; i < n; i++)
        if (ms_u64_or(maps, MS_MAP_START, i, 0) == start) return (long)i;
    return -1;
}

char *ct_str(const ms_section *sec, unsigned col, size_t row)
{
    const char *s;
    size_t len;
    if (!ms_get_str(sec, col, row, &s, &len))
        fail_msg("%s: no string column %u at row %zu", ms_section_name(ms_section_type_of(sec)), col, row);
    if (!s) return NULL;
    char *c = malloc(len + 1);
    if (!c) fail_msg("out of memory");
    memcpy(c, s, len);
    c[len] = 0;
    return c;
}

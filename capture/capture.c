/*
 * capture.c - one snapshot of one process, read from /proc and /sys.
 *
 * Nothing here stops, signals or writes to the target: every figure comes
 * from files the kernel generates. Files are read with bounded buffers;
 * /proc/PID/smaps is streamed through the incremental parser, so the
 * agent's memory grows with the number of mappings only.
 */
#include "capture.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "smaps.h"

#define SMALL_FILE_MAX (64u << 10)   /* status, stat, meminfo, memory.stat ... */
#define CMDLINE_MAX (128u << 10)     /* longer command lines are cut (and noted) */
/* The smaps buffer: NCHUNK chunks of SMAPS_CHUNK bytes (a multiple of the
 * page size), 2 MiB. Smaller chunks cost more hand-overs: the read took
 * 1.6 ms longer with 64 KiB ones (the parser sleeping on a condition
 * variable), 0.4 ms longer with 128 KiB ones (the parser napping). */
#define SMAPS_CHUNK (256u << 10)

#define PF_KTHREAD 0x00200000u

/* ------------------------------------------------------------- helpers */

typedef struct {
    ms_table *diag;
    int oom; /* a table operation ran out of memory */
} diag_ctx;

static void diag_add(diag_ctx *d, const char *area, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void diag_add(diag_ctx *d, const char *area, int status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (diag_row(d->diag, area, status, "%s", msg)) d->oom = 1;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads a whole (small) file into buf (NUL-terminated). Returns 0 or an
 * errno; *truncated is set when the file is larger than cap-1 bytes. */
static int read_file(const char *path, char *buf, size_t cap, size_t *len, int *truncated)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t n = 0;
    if (truncated) *truncated = 0;
    for (;;) {
        if (n + 1 >= cap) {
            char c;
            if (truncated && read(fd, &c, 1) > 0) *truncated = 1;
            break;
        }
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return e;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return 0;
}

static int read_u64_file(const char *path, uint64_t *v, char *buf, size_t cap)
{
    int e = read_file(path, buf, cap, NULL, NULL);
    if (e) return e;
    char *s = buf;
    while (*s == ' ') s++;
    if (!strncmp(s, "max", 3)) {
        *v = UINT64_MAX;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || errno) return EINVAL;
    *v = x;
    return 0;
}

/* Next line of a NUL-terminated buffer; NULL at the end. */
static char *next_line(char **cursor)
{
    char *s = *cursor;
    if (!s || !*s) return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = 0;
        *cursor = nl + 1;
    } else {
        *cursor = s + strlen(s);
    }
    return s;
}

/* /proc/meminfo-style "Name:   123 kB" line. */
static int kv_line(char *line, char **name, uint64_t *v, char **unit)
{
    char *colon = strchr(line, ':');
    if (!colon || colon == line) return -1;
    *colon = 0;
    *name = line;
    char *s = colon + 1;
    while (*s == ' ' || *s == '\t') s++;
    if (*s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno) return -1;
    while (*end == ' ') end++;
    if (*end && strcmp(end, "kB") != 0) return -1; /* several values: not a plain figure */
    *v = x;
    *unit = *end ? end : NULL;
    return 0;
}

static const char *errtext(int e)
{
    return strerror(e);
}

/* ---------------------------------------------------------------- host */

static const char *bracketed(char *s)
{
    char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;
    if (!a || !b) {
        s[strcspn(s, "\n")] = 0;
        return s;
    }
    *b = 0;
    return a + 1;
}

static int collect_host(capture_target *t, ms_writer *w, diag_ctx *d, char *buf)
{
    ms_table *h = ms_table_new(MS_SEC_HOST);
    if (!h || ms_table_row(h)) goto oom;
    struct utsname u;
    if (uname(&u) == 0) {
        size_t ol;
        const char *hn = t->redact ? redact_text(t->redact, u.nodename, strlen(u.nodename), &ol) : NULL;
        if ((hn ? ms_table_str(h, MS_HOST_NAME, hn, ol) : ms_table_cstr(h, MS_HOST_NAME, u.nodename)) ||
            ms_table_cstr(h, MS_HOST_KERNEL, u.release) || ms_table_cstr(h, MS_HOST_KVERSION, u.version) ||
            ms_table_cstr(h, MS_HOST_MACHINE, u.machine))
            goto oom;
    }
    long ps = sysconf(_SC_PAGESIZE), nc = sysconf(_SC_NPROCESSORS_ONLN);
    if ((ps > 0 && ms_table_u64(h, MS_HOST_PAGE_SIZE, (uint64_t)ps)) ||
        (nc > 0 && ms_table_u64(h, MS_HOST_NCPU, (uint64_t)nc)))
        goto oom;
    int e = read_file("/proc/meminfo", buf, SMALL_FILE_MAX, NULL, NULL);
    if (e) {
        diag_add(d, "host.meminfo", DG_UNAVAILABLE, "cannot read /proc/meminfo: %s", errtext(e));
    } else {
        static const struct { const char *n; unsigned col; } mi[] = {
            {"MemTotal", MS_HOST_MEM_TOTAL}, {"MemAvailable", MS_HOST_MEM_AVAILABLE},
            {"SwapTotal", MS_HOST_SWAP_TOTAL}, {"SwapFree", MS_HOST_SWAP_FREE}};
        char *cur = buf, *line, *name, *unit;
        uint64_t v;
        while ((line = next_line(&cur)))
            if (kv_line(line, &name, &v, &unit) == 0)
                for (size_t i = 0; i < sizeof mi / sizeof mi[0]; i++)
                    if (!strcmp(name, mi[i].n) && ms_table_u64(h, mi[i].col, v)) goto oom;
    }
    if (read_file("/sys/kernel/mm/transparent_hugepage/enabled", buf, 256, NULL, NULL) == 0 &&
        ms_table_cstr(h, MS_HOST_THP_ENABLED, bracketed(buf)))
        goto oom;
    if (read_file("/sys/kernel/mm/transparent_hugepage/defrag", buf, 256, NULL, NULL) == 0 &&
        ms_table_cstr(h, MS_HOST_THP_DEFRAG, bracketed(buf)))
        goto oom;
    if (read_file("/proc/sys/vm/overcommit_memory", buf, 64, NULL, NULL) == 0 &&
        ms_table_i64(h, MS_HOST_OVERCOMMIT, strtoll(buf, NULL, 10)))
        goto oom;
    int rc = ms_writer_add(w, h);
    ms_table_free(h);
    return rc;
oom:
    ms_table_free(h);
    return MS_ERR_NOMEM;
}

/* ------------------------------------------------------------- process */

typedef struct {
    char state;
    unsigned flags;
    uint64_t ppid, start_ticks;
} proc_stat;

/* Parses /proc/PID/stat; comm may hold spaces and parentheses, so fields
 * are counted from the last ')'. */
static int read_stat(const capture_target *t, proc_stat *st, char *buf)
{
    char path[64];
    snprintf(path, sizeof path, "%s/%d/stat", t->proc_root, t->pid);
    int e = read_file(path, buf, SMALL_FILE_MAX, NULL, NULL);
    if (e) return e;
    char *rp = strrchr(buf, ')');
    if (!rp || rp[1] != ' ') return EINVAL;
    char *s = rp + 2;
    /* field 3 state, 4 ppid, ..., 9 flags, ..., 22 starttime */
    st->state = *s;
    unsigned long long f[23] = {0};
    int field = 3;
    char *tok = s;
    while (field <= 22 && tok && *tok) {
        if (field > 3) f[field] = strtoull(tok, NULL, 10);
        tok = strchr(tok, ' ');
        if (tok) tok++;
        field++;
    }
    if (field <= 22) return EINVAL;
    st->ppid = f[4];
    st->flags = (unsigned)f[9];
    st->start_ticks = f[22];
    return 0;
}

static int collect_process(capture_target *t, ms_writer *w, diag_ctx *d, char *buf,
                           const proc_stat *st)
{
    char path[96];
    int rc = MS_ERR_NOMEM, e;
    ms_table *p = ms_table_new(MS_SEC_PROCESS), *kv = ms_table_new(MS_SEC_PROC_STATUS);
    if (!p || !kv || ms_table_row(p)) goto out;
    char stc[2] = {st->state, 0};
    if (ms_table_u64(p, MS_PROC_PID, (uint64_t)t->pid) || ms_table_u64(p, MS_PROC_PPID, st->ppid) ||
        ms_table_cstr(p, MS_PROC_STATE, stc) || ms_table_u64(p, MS_PROC_START_TICKS, st->start_ticks))
        goto out;

    snprintf(path, sizeof path, "%s/%d/status", t->proc_root, t->pid);
    if ((e = read_file(path, buf, SMALL_FILE_MAX, NULL, NULL))) {
        diag_add(d, "process.status", DG_UNAVAILABLE, "cannot read %s: %s", path, errtext(e));
    } else {
        char *cur = buf, *line, *name, *unit;
        uint64_t v;
        while ((line = next_line(&cur))) {
            if (!strncmp(line, "Uid:", 4)) {
                unsigned long long ruid, euid;
                if (sscanf(line + 4, "%llu %llu", &ruid, &euid) == 2 &&
                    (ms_table_u64(p, MS_PROC_UID, ruid) || ms_table_u64(p, MS_PROC_EUID, euid)))
                    goto out;
                continue;
            }
            if (kv_line(line, &name, &v, &unit)) continue;
            /* the memory lines, plus the other plain counters (Threads...) */
            if (!strcmp(name, "Threads") && ms_table_u64(p, MS_PROC_THREADS, v)) goto out;
            if (!strcmp(name, "Pid") || !strcmp(name, "PPid") || !strcmp(name, "Tgid") ||
                !strcmp(name, "TracerPid") || !strcmp(name, "Ngid") || !strcmp(name, "Umask"))
                continue;
            if (ms_table_row(kv) || ms_table_cstr(kv, MS_KV_NAME, name) || ms_table_u64(kv, MS_KV_VALUE, v) ||
                ms_table_cstr(kv, MS_KV_UNIT, unit))
                goto out;
        }
    }

    /* comm is the program's chosen name (usually the executable's): under
     * --redact it is kept only when the executable is a system program */
    char comm[64] = "";
    snprintf(path, sizeof path, "%s/%d/comm", t->proc_root, t->pid);
    if (read_file(path, comm, sizeof comm, NULL, NULL) == 0) comm[strcspn(comm, "\n")] = 0;

    snprintf(path, sizeof path, "%s/%d/exe", t->proc_root, t->pid);
    ssize_t n = readlink(path, buf, 4096);
    int system_exe = 0;
    if (n < 0) {
        diag_add(d, "process.exe", DG_UNAVAILABLE, "cannot read the link %s: %s", path, errtext(errno));
    } else {
        const char *x = buf;
        size_t xl = (size_t)n;
        system_exe = n > 0 && redact_path_is_system(buf, (size_t)n);
        if (t->redact && n > 0 && buf[0] == '/') {
            size_t ol;
            const char *r = redact_path(t->redact, buf, (size_t)n, &ol);
            if (r) {
                x = r;
                xl = ol;
            }
        }
        if (ms_table_str(p, MS_PROC_EXE, x, xl)) goto out;
    }
    if (t->redact && comm[0] && !system_exe) {
        size_t ol;
        const char *r = redact_text(t->redact, comm, strlen(comm), &ol);
        snprintf(comm, sizeof comm, "%.*s", (int)ol, r);
    }
    if (comm[0] && ms_table_cstr(p, MS_PROC_COMM, comm)) goto out;

    snprintf(path, sizeof path, "%s/%d/cmdline", t->proc_root, t->pid);
    size_t clen = 0;
    int cut = 0;
    if ((e = read_file(path, buf, CMDLINE_MAX, &clen, &cut))) {
        diag_add(d, "process.cmdline", DG_UNAVAILABLE, "cannot read %s: %s", path, errtext(e));
    } else {
        if (cut)
            diag_add(d, "process.cmdline", DG_APPROXIMATE, "command line cut at %u bytes", CMDLINE_MAX - 1);
        if (clen && buf[clen - 1] != 0) buf[clen++] = 0; /* keep every argument NUL-terminated */
        if (t->redact) {
            /* argv[0] by the path rule, every argument after it hashed */
            char *out = malloc(clen * 2 + 64 * (clen + 1) + 1);
            if (!out) goto out;
            size_t o = 0;
            for (size_t i = 0, k = 0; i < clen; k++) {
                size_t al = strlen(buf + i), rl;
                const char *r = k == 0 ? (buf[i] == '/' ? redact_path(t->redact, buf + i, al, &rl) : NULL)
                                       : redact_text(t->redact, buf + i, al, &rl);
                if (!r) {
                    r = buf + i;
                    rl = al;
                }
                memcpy(out + o, r, rl);
                o += rl;
                out[o++] = 0;
                i += al + 1;
            }
            int bad = ms_table_str(p, MS_PROC_CMDLINE, out, o);
            free(out);
            if (bad) goto out;
        } else if (ms_table_str(p, MS_PROC_CMDLINE, buf, clen)) {
            goto out;
        }
    }

    snprintf(path, sizeof path, "%s/%d/oom_score", t->proc_root, t->pid);
    if (read_file(path, buf, 64, NULL, NULL) == 0 && ms_table_i64(p, MS_PROC_OOM_SCORE, strtoll(buf, NULL, 10)))
        goto out;
    snprintf(path, sizeof path, "%s/%d/oom_score_adj", t->proc_root, t->pid);
    if (read_file(path, buf, 64, NULL, NULL) == 0 &&
        ms_table_i64(p, MS_PROC_OOM_SCORE_ADJ, strtoll(buf, NULL, 10)))
        goto out;

    if ((rc = ms_writer_add(w, p)) == 0) rc = ms_writer_add(w, kv);
out:
    ms_table_free(p);
    ms_table_free(kv);
    return rc;
}

/* ------------------------------------------------------------- cgroup */

/* Finds where the cgroup hierarchy holding the memory controller is
 * mounted (as this agent sees it). version 2 (unified) or 1. */
static int cgroup_mount(int version, char *mnt, size_t len, char *root, size_t rlen, char *buf)
{
    if (read_file("/proc/self/mountinfo", buf, 1u << 20, NULL, NULL)) return -1;
    char *cur = buf, *line;
    while ((line = next_line(&cur))) {
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        char *f[6] = {0};
        char *s = line;
        for (int i = 0; i < 5 && s; i++) {
            f[i] = s;
            s = strchr(s, ' ');
            if (s) *s++ = 0;
        }
        char *dash = s ? strstr(s, " - ") : NULL;
        if (!dash && s && !strncmp(s, "- ", 2)) dash = s - 1;
        if (!dash || !f[4]) continue;
        char fstype[32], superopts[512];
        if (sscanf(dash + 3, "%31s %*s %511s", fstype, superopts) < 1) continue;
        int match = version == 2 ? !strcmp(fstype, "cgroup2")
                                 : !strcmp(fstype, "cgroup") && strstr(superopts, "memory");
        if (match) {
            snprintf(mnt, len, "%s", f[4]);
            snprintf(root, rlen, "%s", f[3]);
            return 0;
        }
    }
    return -1;
}

static int cg_stat_file(ms_table *cs, const char *dir, const char *file, char *buf)
{
    char path[5400];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) return 1;
    if (read_file(path, buf, SMALL_FILE_MAX, NULL, NULL)) return 1; /* absent: fine */
    char *cur = buf, *line;
    while ((line = next_line(&cur))) {
        char name[128];
        unsigned long long v;
        if (sscanf(line, "%127s %llu", name, &v) == 2) {
            if (ms_table_row(cs) || ms_table_cstr(cs, MS_CGS_FILE, file) ||
                ms_table_cstr(cs, MS_CGS_NAME, name) || ms_table_u64(cs, MS_CGS_VALUE, v))
                return -1;
        } else if (sscanf(line, "%llu", &v) == 1) { /* single-value file (failcnt) */
            if (ms_table_row(cs) || ms_table_cstr(cs, MS_CGS_FILE, file) ||
                ms_table_cstr(cs, MS_CGS_NAME, file) || ms_table_u64(cs, MS_CGS_VALUE, v))
                return -1;
        }
    }
    return 0;
}

static int collect_cgroup(capture_target *t, ms_writer *w, diag_ctx *d, char *buf, char *buf2)
{
    char path[96];
    snprintf(path, sizeof path, "%s/%d/cgroup", t->proc_root, t->pid);
    int e = read_file(path, buf, SMALL_FILE_MAX, NULL, NULL);
    if (e) {
        diag_add(d, "cgroup", DG_UNAVAILABLE, "cannot read %s: %s", path, errtext(e));
        return 0;
    }
    char cgpath[4096] = "";
    int version = 0;
    char *cur = buf, *line;
    while ((line = next_line(&cur))) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = *c2 = 0;
        if (!strcmp(line, "0") && c1[1] == 0 && !version) {
            version = 2;
            snprintf(cgpath, sizeof cgpath, "%s", c2 + 1);
        } else if (strstr(c1 + 1, "memory")) {
            char *ctl = c1 + 1, *tok;
            for (tok = strtok(ctl, ","); tok; tok = strtok(NULL, ","))
                if (!strcmp(tok, "memory")) {
                    version = 1;
                    snprintf(cgpath, sizeof cgpath, "%s", c2 + 1);
                }
        }
    }
    if (!version) {
        diag_add(d, "cgroup", DG_UNAVAILABLE, "no memory cgroup listed in %s", path);
        return 0;
    }
    char mnt[1024], root[1024];
    if (cgroup_mount(version, mnt, sizeof mnt, root, sizeof root, buf2)) {
        diag_add(d, "cgroup", DG_UNAVAILABLE, "the cgroup v%d hierarchy is not mounted where this agent can see it",
                 version);
        return 0;
    }
    const char *rel = cgpath;
    size_t rl = strlen(root);
    if (strcmp(root, "/") && !strncmp(cgpath, root, rl)) rel = cgpath + rl;
    if (!strncmp(rel, "/..", 3)) {
        diag_add(d, "cgroup", DG_UNAVAILABLE,
                 "the target's cgroup %s is outside this agent's cgroup namespace; run the agent in the target's namespace",
                 cgpath);
        return 0;
    }
    char dir[5200];
    snprintf(dir, sizeof dir, "%s%s", mnt, rel);
    int rc = MS_ERR_NOMEM;
    ms_table *cg = ms_table_new(MS_SEC_CGROUP), *cs = ms_table_new(MS_SEC_CGROUP_STAT);
    if (!cg || !cs || ms_table_row(cg) || ms_table_u64(cg, MS_CG_VERSION, (uint64_t)version)) goto out;
    size_t ol;
    const char *shown = t->redact && strcmp(cgpath, "/") ? redact_text(t->redact, cgpath, strlen(cgpath), &ol) : NULL;
    if (shown ? ms_table_str(cg, MS_CG_PATH, shown, ol) : ms_table_cstr(cg, MS_CG_PATH, cgpath)) goto out;
    static const struct { const char *f2, *f1; unsigned col; } files[] = {
        {"memory.current", "memory.usage_in_bytes", MS_CG_CURRENT},
        {"memory.max", "memory.limit_in_bytes", MS_CG_MAX},
        {"memory.high", NULL, MS_CG_HIGH},
        {"memory.swap.current", NULL, MS_CG_SWAP_CURRENT},
        {"memory.swap.max", NULL, MS_CG_SWAP_MAX},
        {"memory.peak", "memory.max_usage_in_bytes", MS_CG_PEAK},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *f = version == 2 ? files[i].f2 : files[i].f1;
        if (!f) continue;
        char p2[5400];
        uint64_t v;
        if (snprintf(p2, sizeof p2, "%s/%s", dir, f) >= (int)sizeof p2) continue;
        if (read_u64_file(p2, &v, buf, 128) == 0) {
            /* cgroup v1 says "no limit" with a huge page-rounded number */
            if (version == 1 && files[i].col == MS_CG_MAX && v >= 0x7ffffffffffff000ull) v = UINT64_MAX;
            if (ms_table_u64(cg, files[i].col, v)) goto out;
            found++;
        }
    }
    if (!found)
        diag_add(d, "cgroup", DG_UNAVAILABLE,
                 "%s has no memory usage files%s", dir,
                 strcmp(rel, "/") ? " (is the memory controller enabled for it?)"
                                  : ": it is the root cgroup, which has no memory limit of its own");
    static const char *const stat2[] = {"memory.stat", "memory.events", "memory.events.local",
                                        "memory.swap.events"};
    static const char *const stat1[] = {"memory.stat", "memory.oom_control", "memory.failcnt",
                                        "memory.memsw.usage_in_bytes", "memory.memsw.limit_in_bytes"};
    const char *const *sf = version == 2 ? stat2 : stat1;
    size_t nsf = version == 2 ? sizeof stat2 / sizeof *stat2 : sizeof stat1 / sizeof *stat1;
    for (size_t i = 0; i < nsf; i++)
        if (cg_stat_file(cs, dir, sf[i], buf) < 0) goto out;
    if ((rc = ms_writer_add(w, cg)) == 0) rc = ms_writer_add(w, cs);
out:
    ms_table_free(cg);
    ms_table_free(cs);
    return rc;
}

/* -------------------------------------------------------------- smaps */

/* Redacts what a mapping name can reveal: file paths outside system
 * directories, and the NAME of [anon:NAME] / [anon_shmem:NAME], which the
 * program chose. Kernel names ([heap], [stack], [vdso]...) are kept. */
static const char *redact_cb(void *ctx, const char *name, size_t len, size_t *outlen)
{
    redactor *r = ctx;
    if (len && name[0] == '/') return redact_path(r, name, len, outlen);
    static const char *const pre[] = {"[anon:", "[anon_shmem:"};
    for (int i = 0; i < 2; i++) {
        size_t pl = strlen(pre[i]);
        if (len > pl + 1 && !memcmp(name, pre[i], pl) && name[len - 1] == ']') {
            unsigned long long h = siphash24(r->k0, r->k1, name + pl, len - pl - 1);
            int n = snprintf(r->buf, sizeof r->buf, "%s<redacted:%016llx>]", pre[i], h);
            *outlen = (size_t)n;
            return r->buf;
        }
    }
    return NULL;
}

/* Reading and parsing smaps overlap: the kernel formats the text (the
 * floor of any smaps-based tool) while the previous chunk is parsed. A
 * reader thread fills a ring of NCHUNK buffers (bounded memory) and the
 * calling thread parses them in order. The reader starts before anything
 * else of the snapshot is collected.
 *
 * smaps_rollup is a second walk of the target's page tables: read alone,
 * 2.0-2.4 ms against 10.5-10.8 ms for smaps at 10,000 mappings, 21.9
 * against 68.7 ms at 60,000.
 * When the reader and the parser are kept on separate CPUs (smaps_start),
 * a third thread reads it on the parser's CPU at niceness 19 once the
 * small files are collected: the parser preempts it, so it runs while the
 * parser waits for the reader, and when the read is over it may use any
 * allowed CPU. Otherwise the reader reads it after smaps, while the
 * calling thread encodes the mappings. Measured on 2 CPUs, a snapshot by
 * the program, with the third thread against read after smaps:
 *   - 10,000 mappings, bench_capture's ratio to the floor: 1.68-1.73x
 *     against 1.78-1.89x (four runs of each, taking turns);
 *   - 10,000 mappings, medians of interleaved runs: 17.7 against 19.8 ms;
 *   - 60,000 mappings, the same: 102.7 against 110.9 ms;
 *   - at the parser's niceness the thread delays the parser instead (the
 *     read took 14.5-15 ms instead of 11); started with the reader, it
 *     delayed the small files (4-6 ms instead of 1.3, in half the runs);
 *     read by the parser itself before it parses, it stopped the reader
 *     at 60,000 mappings (the buffers full): 107-112 ms, no gain;
 *   - the price: if busy processes take both CPUs during the read, the
 *     thread gets little CPU at niceness 19: beside two spinning processes
 *     a 30,000-mapping capture took 666-985 ms against 598-704 ms.
 * The ring of 2 MiB holds what the reader delivers while the parser is
 * behind: with 1 MiB the 10,000-mapping capture took 18.7 ms, with 2 MiB
 * 17.2, with 3 MiB 17.3. */
#define NCHUNK 8
#define ROLLUP_NICE 19
#define POLL_NS 100000 /* the parser's nap while waiting for a chunk (one takes about 0.35 ms) */
#define POLL_MAX 50    /* naps without a chunk before it sleeps until woken */
#define READER_STACK (256u << 10)
#define STARVE_WINDOW_NS 1000000 /* see smaps_check_cpu */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *buf[NCHUNK];
    size_t len[NCHUNK];
    unsigned head, count;
    int done, stop, err; /* err: errno of a failed open/read of smaps */
    int fd;
    int threaded;         /* the reader thread runs (else smaps_parse reads) */
    int pinned;           /* the threads' CPU masks are narrowed (see smaps_start); `orig` */
    int released;         /* they were, until the reader was seen short of CPU */
    long busy;            /* not narrowed because this many other tasks were running (-1: not that) */
    cpu_set_t orig;
    pthread_t th;
    clockid_t rclock;     /* the reader's CPU clock, for smaps_check_cpu */
    int have_rclock;
    uint64_t win_wall, win_cpu; /* start of the current window: wall and reader CPU ns */
    char *rollup;         /* smaps_rollup text (SMALL_FILE_MAX) */
    int rollup_err;       /* errno of reading it; -1: not read yet */
    int rollup_in_reader; /* the reader reads it after smaps (no rollup thread) */
    int rthreaded;        /* the rollup thread `rth` runs */
    int rollup_thread;    /* it was started (for the timing note) */
    int cpu;              /* the parser's CPU while pinned */
    pthread_t rth;
    char rollup_path[64];
} smaps_pipe;

/* Reads smaps_rollup into q->rollup (by whichever thread the pipe gave
 * it to). */
static void read_rollup(smaps_pipe *q)
{
    q->rollup_err = read_file(q->rollup_path, q->rollup, SMALL_FILE_MAX, NULL, NULL);
}

/* The rollup thread: smaps_rollup, at a niceness that lets the parser
 * preempt it (raising one's own niceness needs no privilege; the thread
 * ends here, so nothing has to lower it again). */
static void *rollup_reader(void *arg)
{
    smaps_pipe *q = arg;
    setpriority(PRIO_PROCESS, (id_t)gettid(), ROLLUP_NICE);
    read_rollup(q);
    return NULL;
}

static void *smaps_reader(void *arg)
{
    smaps_pipe *q = arg;
    unsigned tail = 0;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->count == NCHUNK && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
        int stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stop) return NULL;
        /* Fill the chunk: the kernel returns smaps about a page per read,
         * and handing over every page would cost a wakeup each. */
        size_t got = 0;
        ssize_t k = 0;
        while (got < SMAPS_CHUNK) {
            k = read(q->fd, q->buf[tail] + got, SMAPS_CHUNK - got);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            got += (size_t)k;
        }
        int e = k < 0 ? errno : 0;
        pthread_mutex_lock(&q->mu);
        if (got == 0) {
            q->err = e;
            q->done = 1;
            pthread_cond_broadcast(&q->cv);
            pthread_mutex_unlock(&q->mu);
            break;
        }
        if (e) { /* deliver what was read, then report the error */
            q->err = e;
            q->done = 1;
        }
        q->len[tail] = got;
        tail = (tail + 1) % NCHUNK;
        q->count++;
        int finished = q->done || k == 0; /* k == 0: end of file inside this chunk */
        if (k == 0) q->done = 1;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        if (finished) break;
    }
    if (q->rollup_in_reader) read_rollup(q);
    return NULL;
}

/* How many tasks other than this thread are runnable on the machine now
 * (the fourth field of /proc/loadavg, "running/total"); a large number if
 * it cannot be read. */
static long others_running(void)
{
    char b[128];
    if (read_file("/proc/loadavg", b, sizeof b, NULL, NULL)) return LONG_MAX;
    const char *s = b;
    for (int f = 0; f < 3 && s; f++) {
        s = strchr(s, ' ');
        if (s) s++;
    }
    long r = s ? strtol(s, NULL, 10) : 0;
    return r >= 1 ? r - 1 : LONG_MAX;
}

/* Gives the threads back their CPU masks (the parser's: this thread). */
static void smaps_unpin(smaps_pipe *q)
{
    if (!q->pinned) return;
    sched_setaffinity(0, sizeof q->orig, &q->orig);
    /* (ESRCH once a thread has exited) */
    if (q->threaded) pthread_setaffinity_np(q->th, sizeof q->orig, &q->orig);
    if (q->rthreaded) pthread_setaffinity_np(q->rth, sizeof q->orig, &q->orig);
    q->pinned = 0;
}

/* Opens /proc/PID/smaps and starts reading it in a thread, and
 * smaps_rollup into `rollup` (see above). Returns 0 or the errno of the
 * open; after 0, smaps_stop must follow. */
static int smaps_start(const capture_target *t, smaps_pipe *q, char *chunks, char *rollup)
{
    char path[64];
    snprintf(path, sizeof path, "%s/%d/smaps", t->proc_root, t->pid);
    memset(q, 0, sizeof *q);
    snprintf(q->rollup_path, sizeof q->rollup_path, "%s/%d/smaps_rollup", t->proc_root, t->pid);
    q->rollup = rollup;
    q->rollup_err = -1;
    q->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (q->fd < 0) return errno;
    for (unsigned i = 0; i < NCHUNK; i++) q->buf[i] = chunks + (size_t)i * SMAPS_CHUNK;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    /* When two CPUs or more are allowed and fewer other tasks are running
     * than those CPUs less one, the reader and the parser are kept on
     * different CPUs until smaps_stop, or until the reader is seen short
     * of CPU (smaps_check_cpu): left to the scheduler, the woken parser
     * often landed on the reader's CPU and preempted it (measured on 2
     * CPUs: the read took 11.3-19.3 ms of wall time for 11.5-12.5 ms of
     * CPU; kept apart, 10.7-11.5 ms for the same CPU). The parser stays on
     * the CPU it runs on, the reader may use every other one allowed. */
    pthread_attr_t at;
    int have_at = pthread_attr_init(&at) == 0, c = -1;
    /* a small stack: at exit, glibc returns the unused part of a thread's
     * stack with madvise, a TLB flush on the parser's CPU */
    if (have_at) pthread_attr_setstacksize(&at, READER_STACK);
    q->busy = -1;
    long others = LONG_MAX;
    if (have_at && sched_getaffinity(0, sizeof q->orig, &q->orig) == 0 && CPU_COUNT(&q->orig) >= 2) {
        /* A task that runs for a moment is not a busy CPU: at the agent's
         * start one often is (a kernel worker; in 20 runs, one or two
         * other tasks 18 times, none 50 us later in 17 of those 18), so a
         * busy reading is checked twice more, 50 us apart. */
        others = others_running();
        for (int k = 0; k < 2 && others >= CPU_COUNT(&q->orig) - 1; k++) {
            struct timespec pause = {0, 50000};
            nanosleep(&pause, NULL);
            long o = others_running();
            if (o < others) others = o;
        }
        c = sched_getcpu();
    }
    if (c >= 0 && c < CPU_SETSIZE && CPU_ISSET(c, &q->orig)) {
        cpu_set_t me, rd = q->orig;
        CPU_ZERO(&me);
        CPU_SET(c, &me);
        CPU_CLR(c, &rd);
        if (others >= CPU_COUNT(&q->orig) - 1)
            q->busy = others;
        else if (pthread_attr_setaffinity_np(&at, sizeof rd, &rd) == 0 && sched_setaffinity(0, sizeof me, &me) == 0)
            q->pinned = 1;
        else /* the reader's mask stays narrowed in `at`: give it the whole set again */
            pthread_attr_setaffinity_np(&at, sizeof q->orig, &q->orig);
    }
    q->rollup_in_reader = !q->pinned;
    q->threaded = pthread_create(&q->th, have_at ? &at : NULL, smaps_reader, q) == 0;
    if (have_at) pthread_attr_destroy(&at);
    if (!q->threaded) smaps_unpin(q);
    q->cpu = c;
    return 0;
}

/* Starts the rollup thread if the reader and the parser are kept apart
 * (else the reader reads smaps_rollup after smaps). */
static void smaps_start_rollup(smaps_pipe *q)
{
    pthread_attr_t at;
    if (!q->pinned || pthread_attr_init(&at)) return;
    cpu_set_t me;
    CPU_ZERO(&me);
    CPU_SET(q->cpu, &me);
    pthread_attr_setstacksize(&at, READER_STACK);
    pthread_attr_setaffinity_np(&at, sizeof me, &me);
    q->rthreaded = q->rollup_thread = pthread_create(&q->rth, &at, rollup_reader, q) == 0;
    pthread_attr_destroy(&at);
}

/* Kept on separate CPUs, the reader must not starve: a busy process on
 * its CPU (the target itself, often) gets most of it, more so at the
 * agent's niceness 10, where the scheduler would have moved the reader.
 * Every STARVE_WINDOW_NS of wall time, if the reader ran less than 60% of
 * it (preempted, or waiting for a parser short of CPU on its own), the
 * masks are restored. Measured on 2 CPUs with a CPU-bound process beside
 * the agent at niceness 10: kept apart for the whole read, a snapshot of
 * 10,000 mappings took 78 ms; left to the scheduler, 31 ms. */
static void smaps_check_cpu(smaps_pipe *q)
{
    if (!q->pinned || !q->have_rclock) return;
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now - q->win_wall < STARVE_WINDOW_NS) return;
    uint64_t cpu = clock_ns(q->rclock);
    if ((cpu - q->win_cpu) * 10 < (now - q->win_wall) * 6) {
        smaps_unpin(q);
        q->released = 1;
        return;
    }
    q->win_wall = now;
    q->win_cpu = cpu;
}

/* Parses what the reader delivers until the end of smaps. Returns 0, an
 * errno (> 0) for a failed read of smaps, or a negative ms_err from the
 * parser. */
static int smaps_parse(smaps_pipe *q, smaps_parser *sp)
{
    int rc = 0;
    if (!q->threaded) {
        /* no thread to be had: read and parse in turn */
        for (;;) {
            ssize_t k = read(q->fd, q->buf[0], SMAPS_CHUNK);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) rc = errno;
            if (k <= 0 || (rc = smaps_feed(sp, q->buf[0], (size_t)k))) break;
        }
        return rc ? rc : smaps_finish(sp);
    }
    /* Waiting for the next chunk, the parser naps instead of sleeping on
     * the condition variable: a reader that finds no sleeper hands over a
     * chunk without a futex call, and so without waking this CPU from its
     * own (an inter-processor interrupt, dear in a VM). Measured on 2 CPUs:
     * the read 0.4-0.5 ms shorter. After POLL_MAX naps with nothing new
     * (a stalled read) it sleeps on the condition variable, and so it does
     * whenever the two threads are not kept on separate CPUs: sharing one,
     * each nap would interrupt the reader (on one CPU, 6% slower). */
    unsigned naps = 0;
    if (q->pinned && pthread_getcpuclockid(q->th, &q->rclock) == 0) {
        q->have_rclock = 1;
        q->win_wall = clock_ns(CLOCK_MONOTONIC);
        q->win_cpu = clock_ns(q->rclock);
    }
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->count == 0 && !q->done) {
            if (naps >= POLL_MAX || !q->pinned) {
                pthread_cond_wait(&q->cv, &q->mu);
                continue;
            }
            pthread_mutex_unlock(&q->mu);
            struct timespec nap = {0, POLL_NS};
            nanosleep(&nap, NULL);
            naps++;
            smaps_check_cpu(q);
            pthread_mutex_lock(&q->mu);
        }
        if (q->count == 0) break;
        naps = 0;
        unsigned h = q->head;
        pthread_mutex_unlock(&q->mu);
        smaps_check_cpu(q);
        rc = smaps_feed(sp, q->buf[h], q->len[h]);
        pthread_mutex_lock(&q->mu);
        q->head = (q->head + 1) % NCHUNK;
        q->count--;
        pthread_cond_broadcast(&q->cv);
        if (rc) break;
    }
    if (!rc) rc = q->err;
    pthread_mutex_unlock(&q->mu);
    return rc ? rc : smaps_finish(sp);
}

/* Stops the reader and the rollup thread (each finishes the read it may
 * be in) and releases the pipe; returns the errno of reading smaps_rollup
 * (0: the text is in `rollup`), which is read here if no thread did and
 * `need_rollup`. */
static int smaps_stop(smaps_pipe *q, int need_rollup)
{
    smaps_unpin(q);
    if (q->threaded) {
        pthread_mutex_lock(&q->mu);
        q->stop = 1;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->th, NULL);
        q->threaded = 0;
    }
    if (q->rthreaded) {
        pthread_join(q->rth, NULL);
        q->rthreaded = 0;
    }
    if (q->rollup_err < 0 && need_rollup) read_rollup(q);
    if (q->fd >= 0) {
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
        close(q->fd);
        q->fd = -1;
    }
    return q->rollup_err;
}

/* Adds the ROLLUP section from smaps_rollup text already read (or the
 * reason it could not be: errno e). */
static int collect_rollup(capture_target *t, ms_writer *w, diag_ctx *d, char *buf, int e)
{
    if (e) {
        diag_add(d, "rollup", DG_UNAVAILABLE, "cannot read %s/%d/smaps_rollup: %s", t->proc_root, t->pid,
                 errtext(e));
        return 0;
    }
    ms_table *kv = ms_table_new(MS_SEC_ROLLUP);
    if (!kv) return MS_ERR_NOMEM;
    char *cur = buf, *line, *name, *unit;
    uint64_t v;
    int rc = 0;
    while ((line = next_line(&cur)) && !rc) {
        if (kv_line(line, &name, &v, &unit)) continue; /* the header line, VmFlags-like text */
        if (ms_table_row(kv) || ms_table_cstr(kv, MS_KV_NAME, name) || ms_table_u64(kv, MS_KV_VALUE, v) ||
            ms_table_cstr(kv, MS_KV_UNIT, unit))
            rc = MS_ERR_NOMEM;
    }
    if (!rc) rc = ms_writer_add(w, kv);
    ms_table_free(kv);
    return rc;
}

/* -------------------------------------------------------------- checks */

static void permission_help(const capture_target *t, char *msg, size_t len, const char *what, int e)
{
    char path[64], buf[4096];
    unsigned long long ruid = 0;
    int known = 0;
    snprintf(path, sizeof path, "%s/%d/status", t->proc_root, t->pid);
    if (read_file(path, buf, sizeof buf, NULL, NULL) == 0) {
        char *u = strstr(buf, "\nUid:");
        if (u && sscanf(u + 5, "%llu", &ruid) == 1) known = 1;
    }
    char owner[64] = "";
    if (known) snprintf(owner, sizeof owner, " (owned by uid %llu)", ruid);
    snprintf(msg, len,
             "cannot read %s of PID %d%s: %s. Run memsnap-capture as the target's user or as root "
             "(in a container: root with --cap-add SYS_PTRACE, or CAP_SYS_PTRACE); this agent runs as uid %u",
             what, t->pid, owner, strerror(e), (unsigned)geteuid());
}

capture_status capture_check(capture_target *t, char *msg, size_t len)
{
    char buf[SMALL_FILE_MAX];
    proc_stat st;
    int e = read_stat(t, &st, buf);
    if (e == ENOENT || e == ESRCH) {
        snprintf(msg, len, "no process with PID %d (it may have exited; check with: ps -p %d)", t->pid, t->pid);
        return CAPTURE_FAILED;
    }
    if (e) {
        snprintf(msg, len, "cannot read %s/%d/stat: %s", t->proc_root, t->pid, strerror(e));
        return CAPTURE_FAILED;
    }
    if (st.flags & PF_KTHREAD) {
        snprintf(msg, len, "PID %d is a kernel thread: it has no user-space memory to capture", t->pid);
        return CAPTURE_FAILED;
    }
    if (st.state == 'Z' || st.state == 'X') {
        snprintf(msg, len, "PID %d is a zombie: it has exited and its memory is gone (its parent, PID %llu, has not reaped it yet)",
                 t->pid, (unsigned long long)st.ppid);
        return CAPTURE_FAILED;
    }
    char path[64];
    snprintf(path, sizeof path, "%s/%d/smaps", t->proc_root, t->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        if (e == EACCES || e == EPERM) {
            permission_help(t, msg, len, "/proc/PID/smaps", e);
        } else if (e == ENOENT) {
            snprintf(msg, len, "PID %d exited before it could be captured", t->pid);
        } else {
            snprintf(msg, len, "cannot open %s: %s", path, strerror(e));
        }
        return CAPTURE_FAILED;
    }
    /* Opening is checked with the opener's credentials; reading is checked
     * again by the kernel, so read a little to be sure. */
    ssize_t k = read(fd, buf, 64);
    e = errno;
    close(fd);
    if (k < 0) {
        if (e == EACCES || e == EPERM)
            permission_help(t, msg, len, "/proc/PID/smaps", e);
        else
            snprintf(msg, len, "cannot read %s: %s", path, strerror(e));
        return CAPTURE_FAILED;
    }
    t->start_ticks = st.start_ticks;
    return CAPTURE_OK;
}

/* ------------------------------------------------------------- snapshot */

static int add_snapshot_section(capture_target *t, ms_writer *w, uint64_t wall, uint64_t mono,
                                uint64_t dur, uint64_t pause, int best_effort, char *buf)
{
    ms_table *s = ms_table_new(MS_SEC_SNAPSHOT);
    if (!s || ms_table_row(s)) {
        ms_table_free(s);
        return MS_ERR_NOMEM;
    }
    unsigned char id[16];
    if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id) { /* fall back to time and pid */
        uint64_t a = wall ^ ((uint64_t)t->pid << 32), b = mono ^ t->seq;
        memcpy(id, &a, 8);
        memcpy(id + 8, &b, 8);
    }
    int rc = 0;
    if (ms_table_str(s, MS_SNAP_ID, id, sizeof id) || ms_table_u64(s, MS_SNAP_SEQ, t->seq) ||
        ms_table_u64(s, MS_SNAP_WALL_NS, wall) || ms_table_u64(s, MS_SNAP_MONO_NS, mono) ||
        ms_table_u64(s, MS_SNAP_DURATION_NS, dur) || ms_table_u64(s, MS_SNAP_PAUSE_NS, pause) ||
        ms_table_u64(s, MS_SNAP_PID, (uint64_t)t->pid) || ms_table_cstr(s, MS_SNAP_AGENT, CAPTURE_AGENT) ||
        ms_table_u64(s, MS_SNAP_FLAGS, (t->redact ? 2u : 0u) | (best_effort ? 1u : 0u)))
        rc = MS_ERR_NOMEM;
    if (!rc && read_file("/proc/sys/kernel/random/boot_id", buf, 64, NULL, NULL) == 0) {
        buf[strcspn(buf, "\n")] = 0;
        if (ms_table_cstr(s, MS_SNAP_BOOT_ID, buf)) rc = MS_ERR_NOMEM;
    }
    if (!rc) rc = ms_writer_add(w, s);
    ms_table_free(s);
    return rc;
}

/* Is the target still the process we started with? */
static int target_alive(capture_target *t, char *buf)
{
    proc_stat st;
    if (read_stat(t, &st, buf)) return 0;
    if (st.state == 'Z' || st.state == 'X') return 0;
    return st.start_ticks == t->start_ticks;
}

capture_status capture_one(capture_target *t, ms_writer *w, capture_result *res)
{
    memset(res, 0, sizeof *res);
    uint64_t wall = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);
    /* buf also receives the command line (up to CMDLINE_MAX bytes) */
    char *buf = malloc(CMDLINE_MAX > SMALL_FILE_MAX ? CMDLINE_MAX : SMALL_FILE_MAX), *big = aligned_alloc(4096, (size_t)NCHUNK * SMAPS_CHUNK),
         *mnt = malloc(1u << 20),
         *rollup = malloc(SMALL_FILE_MAX);
    diag_ctx d = {ms_table_new(MS_SEC_DIAGNOSTICS), 0};
    smaps_parser *sp = smaps_new(t->max_mappings, t->redact ? redact_cb : NULL, t->redact);
    capture_status status = CAPTURE_FAILED;
    int rc = MS_ERR_NOMEM, piped = 0;
    smaps_pipe q;
    ms_table *maps = NULL, *extra = NULL;
    if (!buf || !big || !mnt || !rollup || !d.diag || !sp) goto fail;

    proc_stat st;
    int e = read_stat(t, &st, buf);
    if (e || st.start_ticks != t->start_ticks || st.state == 'Z' || st.state == 'X') goto gone;

    /* smaps first: the kernel's formatting of it is the longest step, and
     * everything up to the parse loop happens while it runs */
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    e = smaps_start(t, &q, big, rollup);
    piped = e == 0;
    if (!e) {
        /* The first touch of the buffers the reader has not reached yet is
         * done here, not by the kernel inside the reader's read() calls
         * (Linux 5.14+; elsewhere the reader takes the faults as before) */
#ifdef MADV_POPULATE_WRITE
        madvise(big + SMAPS_CHUNK, (size_t)(NCHUNK - 1) * SMAPS_CHUNK, MADV_POPULATE_WRITE);
#endif
        if ((rc = ms_writer_begin(w))) goto fail;
        if ((rc = collect_host(t, w, &d, buf))) goto fail;
        if ((rc = collect_process(t, w, &d, buf, &st))) goto fail;
        if ((rc = collect_cgroup(t, w, &d, buf, mnt))) goto fail;
        smaps_start_rollup(&q);
    }
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    if (!e) e = smaps_parse(&q, sp);
    smaps_unpin(&q); /* the read is over: the rollup thread may use the reader's CPU */
    uint64_t t2 = clock_ns(CLOCK_MONOTONIC);
    if (e > 0) {
        if (!target_alive(t, buf)) goto gone;
        if (e == EACCES || e == EPERM)
            permission_help(t, res->msg, sizeof res->msg, "/proc/PID/smaps", e);
        else
            snprintf(res->msg, sizeof res->msg, "reading %s/%d/smaps failed: %s", t->proc_root, t->pid,
                     strerror(e));
        ms_writer_abort(w);
        goto out;
    }
    if (e < 0) {
        rc = e;
        if (e == MS_ERR_CORRUPT) {
            snprintf(res->msg, sizeof res->msg, "PID %d: unexpected /proc/PID/smaps text: %s", t->pid,
                     smaps_error(sp));
            ms_writer_abort(w);
            goto out;
        }
        goto fail;
    }
    if (smaps_count(sp) == 0 && !target_alive(t, buf)) goto gone;
    if (smaps_dropped(sp))
        diag_add(&d, "mappings", DG_APPROXIMATE,
                 "%zu of %zu mappings kept (--max-mappings %zu); the rollup still covers all of them",
                 smaps_count(sp) - smaps_dropped(sp), smaps_count(sp), t->max_mappings);
    /* The tables are freed after the reader is joined: freeing their
     * columns unmaps memory, and while the reader runs each munmap waits
     * for a TLB flush on its CPU (measured on 2 CPUs of a VM, 10,000
     * mappings: the snapshot 0.46 ms shorter when freed after the join). */
    maps = smaps_take_mappings(sp);
    extra = smaps_take_extra(sp);
    rc = ms_writer_add(w, maps);
    if (!rc && ms_table_nrows(extra)) rc = ms_writer_add(w, extra);
    if (rc) goto fail;
    uint64_t t3 = clock_ns(CLOCK_MONOTONIC);
    piped = 0;
    int rollup_err = smaps_stop(&q, 1);
    if ((rc = collect_rollup(t, w, &d, rollup, rollup_err))) goto fail;
    ms_table_free(maps);
    ms_table_free(extra);
    maps = extra = NULL;
    uint64_t t4 = clock_ns(CLOCK_MONOTONIC);
    if (t->python) {
        /* pyfind looks at the named mappings just parsed instead of reading
         * maps again (a second walk of every mapping in the kernel) */
        pyheap_opts po = t->py;
        po.maps = smaps_named_maps(sp, &po.maps_len);
        if ((rc = pyheap_capture(t->pid, t->proc_root, &po, w, d.diag, &res->py, res->py_note, sizeof res->py_note)))
            goto fail;
    }
    uint64_t t5 = clock_ns(CLOCK_MONOTONIC);
    /* Mappings read from a process that exited meanwhile may be partial. */
    if (!target_alive(t, buf)) goto gone;
    if (t->redact_random_key)
        diag_add(&d, "redaction", DG_INFO,
                 "redacted with a random key: hashes match within this file only (give --redact-key to match across files)");
    diag_add(&d, "capture.timing", DG_INFO,
             "host, process and cgroup while smaps is read %.1f ms, then smaps read and parse %.1f ms%s, "
             "mappings encode %.1f ms, rollup %.1f ms (smaps_rollup read %s), python %.1f ms (target paused %.2f ms)",
             (t1 - t0) / 1e6, (t2 - t1) / 1e6,
             q.released   ? " (reader and parser kept on separate CPUs until the reader was short of CPU)"
             : q.busy >= 0 ? " (reader and parser not kept on separate CPUs: other tasks were running)"
                           : "",
             (t3 - t2) / 1e6, (t4 - t3) / 1e6,
             q.rollup_thread ? "by a low-priority thread during the smaps read"
                             : "after smaps, during the encode", (t5 - t4) / 1e6, res->py.pause_ns / 1e6);
    if (d.oom) goto fail;
    if ((rc = ms_writer_add(w, d.diag))) goto fail;
    uint64_t dur = clock_ns(CLOCK_MONOTONIC) - mono;
    if ((rc = add_snapshot_section(t, w, wall, mono, dur, res->py.pause_ns, res->py.python && t->py.no_pause, buf))) goto fail;
    res->rss_kib = smaps_rss_kib(sp);
    res->mappings = smaps_count(sp);
    if ((rc = ms_writer_end(w, 1))) {
        res->write_err = rc;
        snprintf(res->msg, sizeof res->msg, "%s", ms_writer_error(w));
        goto out;
    }
    ms_writer_last_sizes(w, &res->raw, &res->compressed, NULL);
    t->seq++;
    status = CAPTURE_OK;
    goto out;
gone:
    ms_writer_abort(w);
    snprintf(res->msg, sizeof res->msg, "PID %d exited", t->pid);
    status = CAPTURE_GONE;
    goto out;
fail:
    ms_writer_abort(w);
    snprintf(res->msg, sizeof res->msg, "capturing PID %d failed: %s%s%s", t->pid, ms_strerror(rc),
             ms_writer_error(w)[0] ? ": " : "", ms_writer_error(w));
out:
    if (piped) smaps_stop(&q, 0);
    ms_table_free(maps);
    ms_table_free(extra);
    smaps_free(sp);
    ms_table_free(d.diag);
    free(buf);
    free(big);
    free(mnt);
    free(rollup);
    return status;
}

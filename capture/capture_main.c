/*
 * capture_main.c - `memsnap-capture`: the agent a support engineer sends to
 * a customer. It reads a process's memory figures from /proc and writes
 * .msnap snapshots, once or as a series, without stopping or changing the
 * target.
 *
 * Exit status: 0 snapshots written (also when a series ends early because
 * the target exited or the agent was interrupted, after at least one
 * snapshot); 1 failure (no such process, no permission, disk full, ...);
 * 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "ptpause.h"
#include "msnap.h"

#define EXIT_USAGE 2
#define DEFAULT_MAX_MAPPINGS 262144u
#define MIN_MAX_MEMORY_MIB 512u    /* default --max-memory: MemAvailable / 4 within these */
#define MAX_MAX_MEMORY_MIB 16384u
#define DEFAULT_NICE 10
#define DEFAULT_LEVEL 9

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static volatile sig_atomic_t stop_signal; /* CLI layer only */
static char pending_tmp[PATH_MAX];         /* temp file to remove if a second signal kills us */
static volatile sig_atomic_t have_pending_tmp;

static void on_signal(int sig)
{
    if (stop_signal) { /* second signal: stop now, leaving no temp file */
        if (have_pending_tmp) unlink(pending_tmp); /* async-signal-safe */
        pt_resume_from_signal(); /* dying detaches anyway; be explicit */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: memsnap-capture -p PID -o FILE [options]\n"
            "\n"
            "Writes memory snapshots of a running process into a .msnap file from /proc, /sys\n"
            "and, for CPython, a copy of its heap: nothing is written to or injected into the\n"
            "target; a CPython target is paused only while its memory is copied.\n"
            "\n"
            "  -p, --pid PID          process to capture\n"
            "  -o, --output FILE      .msnap file to write (never overwritten without --force)\n"
            "  -i, --interval SEC     take a series: one snapshot every SEC seconds (decimals ok)\n"
            "  -n, --count N          with --interval: stop after N snapshots\n"
            "  -d, --duration SEC     with --interval: stop after SEC seconds\n"
            "                         (a series without -n/-d runs until Ctrl-C or the target exits)\n"
            "  -f, --force            replace FILE if it exists\n"
            "  -a, --append           add to an existing .msnap FILE (an incomplete last snapshot\n"
            "                         left by a crash is cut off first)\n"
            "      --redact           replace command-line arguments, file paths outside system\n"
            "                         directories, the host name and the cgroup path by keyed hashes\n"
            "      --redact-key TEXT  key for --redact (default: $MEMSNAP_REDACT_KEY, else random for\n"
            "                         this run); the same key gives the same hashes across files\n"
            "      --max-mappings N   mappings kept per snapshot (default %u; more are counted and\n"
            "                         noted in the snapshot's diagnostics)\n"
            "      --max-memory MIB   cap on the agent's own address space (default: a quarter of\n"
            "                         MemAvailable, at least %u, at most %u); half of it may\n"
            "                         hold the copy of a Python heap; beyond that the walk is partial\n"
            "                         and the snapshot says so\n"
            "      --no-python        do not walk a CPython heap (mappings and /proc figures only;\n"
            "                         the target is then never paused)\n"
            "      --no-pause         walk a CPython heap without pausing the target: validated and\n"
            "                         retried, marked best-effort (default: pause every thread with\n"
            "                         ptrace for the few ms the copy takes, then resume it)\n"
            "      --nice N           the agent's CPU niceness (default %d: yields to the workload)\n"
            "      --level N          zstd level 1-19 (default %d)\n"
            "      --no-dict          compress without memsnap's built-in zstd dictionary: records that\n"
            "                         readers of .msnap format 1.0 can read too (format 1.1 needs the\n"
            "                         dictionary); a small snapshot is then about twice as large\n"
            "  -q, --quiet            no progress line, no summary\n"
            "  -h, --help             this help\n"
            "      --version          version\n"
            "\n"
            "Needs: the target's user or root (CAP_SYS_PTRACE); walking a CPython heap also\n"
            "attaches with ptrace, which kernel.yama.ptrace_scope may restrict; in a container,\n"
            "run as root with --cap-add SYS_PTRACE. Exit status: 0 written, 1 failure, 2 usage\n"
            "error. A Python part that cannot be read is noted and the snapshot still written.\n",
            DEFAULT_MAX_MAPPINGS, MIN_MAX_MEMORY_MIB, MAX_MAX_MEMORY_MIB, DEFAULT_NICE, DEFAULT_LEVEL);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "memsnap-capture: %s%s%s\n", what, arg ? " " : "", arg ? arg : "");
    fprintf(stderr, "Try 'memsnap-capture --help'.\n");
    return EXIT_USAGE;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
    char *end;
    errno = 0;
    if (!s || *s == '-' || !*s) return -1;
    unsigned long x = strtoul(s, &end, 10);
    if (errno || *end || x > max) return -1;
    *v = x;
    return 0;
}

static int parse_seconds(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || *end || !(x > 0) || x > 31536000.0 || !isfinite(x)) return -1;
    *v = x;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until the monotonic deadline or a stop signal. */
static void sleep_until(uint64_t deadline)
{
    while (!stop_signal) {
        uint64_t now = now_ns();
        if (now >= deadline) return;
        uint64_t d = deadline - now;
        struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
        nanosleep(&ts, NULL); /* a signal ends it early: the loop re-checks */
    }
}

static void human(char *buf, size_t len, double bytes)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (bytes >= 1024 && i < 4) {
        bytes /= 1024;
        i++;
    }
    snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}

/* A quarter of MemAvailable, within [MIN_MAX_MEMORY_MIB, MAX_MAX_MEMORY_MIB]. */
static unsigned long default_max_memory_mib(void)
{
    unsigned long long kib = 0;
    char line[256];
    FILE *f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) break;
    if (f) fclose(f);
    unsigned long long mib = kib / 1024 / 4;
    if (mib < MIN_MAX_MEMORY_MIB) mib = MIN_MAX_MEMORY_MIB;
    if (mib > MAX_MAX_MEMORY_MIB) mib = MAX_MAX_MEMORY_MIB;
    return (unsigned long)mib;
}

/* Limits the agent itself: lower CPU priority, capped address space. */
static void limit_self(int nice_level, unsigned long max_mib)
{
    errno = 0;
    if (setpriority(PRIO_PROCESS, 0, nice_level) != 0 && errno)
        fprintf(stderr, "memsnap-capture: note: cannot set niceness %d: %s\n", nice_level, strerror(errno));
#ifndef UNDER_ASAN
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = (rlim_t)max_mib << 20;
    struct rlimit cur;
    if (getrlimit(RLIMIT_AS, &cur) == 0 && (cur.rlim_cur == RLIM_INFINITY || cur.rlim_cur > rl.rlim_cur)) {
        rl.rlim_max = cur.rlim_max;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur) rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_AS, &rl);
    }
#else
    (void)max_mib; /* ASan reserves terabytes of address space */
#endif
}

/* Makes a new directory entry durable (the file's own data is synced by
 * the writer). Failure only weakens crash safety, so it is not an error. */
static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Moves the finished temporary file to its name without ever replacing a
 * file that appeared meanwhile (unless --force). */
static int publish(const char *tmp, const char *final, int force)
{
    if (force) return rename(tmp, final) == 0 ? 0 : errno;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return errno;
    if (link(tmp, final) != 0) return errno; /* file systems without renameat2 flags */
    unlink(tmp);
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        OPT_REDACT = 256,
        OPT_REDACT_KEY,
        OPT_MAX_MAPPINGS,
        OPT_MAX_MEMORY,
        OPT_NICE,
        OPT_LEVEL,
        OPT_VERSION,
        OPT_NO_PYTHON,
        OPT_NO_PAUSE,
        OPT_NO_DICT
    };
    static const struct option longopts[] = {
        {"pid", required_argument, 0, 'p'},        {"output", required_argument, 0, 'o'},
        {"interval", required_argument, 0, 'i'},   {"count", required_argument, 0, 'n'},
        {"duration", required_argument, 0, 'd'},   {"force", no_argument, 0, 'f'},
        {"append", no_argument, 0, 'a'},           {"redact", no_argument, 0, OPT_REDACT},
        {"redact-key", required_argument, 0, OPT_REDACT_KEY},
        {"max-mappings", required_argument, 0, OPT_MAX_MAPPINGS},
        {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
        {"nice", required_argument, 0, OPT_NICE},  {"level", required_argument, 0, OPT_LEVEL},
        {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION},  {"no-python", no_argument, 0, OPT_NO_PYTHON},
        {"no-pause", no_argument, 0, OPT_NO_PAUSE}, {"no-dict", no_argument, 0, OPT_NO_DICT},
        {0, 0, 0, 0}};
    unsigned long pid = 0, count = 0, max_maps = DEFAULT_MAX_MAPPINGS, max_mem = 0;
    unsigned long level = DEFAULT_LEVEL, nice_l = DEFAULT_NICE;
    double interval = 0, duration = 0;
    const char *out = NULL, *redact_key = NULL;
    int force = 0, append = 0, redact = 0, quiet = 0, have_pid = 0, no_python = 0, no_pause = 0, no_dict = 0, opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":p:o:i:n:d:faqh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (parse_ulong(optarg, INT_MAX, &pid) || pid == 0) return usage_error("invalid PID", optarg);
            have_pid = 1;
            break;
        case 'o': out = optarg; break;
        case 'i':
            if (parse_seconds(optarg, &interval)) return usage_error("invalid --interval (seconds > 0)", optarg);
            break;
        case 'n':
            if (parse_ulong(optarg, 100000000ul, &count) || count == 0)
                return usage_error("invalid --count (a whole number > 0)", optarg);
            break;
        case 'd':
            if (parse_seconds(optarg, &duration)) return usage_error("invalid --duration (seconds > 0)", optarg);
            break;
        case 'f': force = 1; break;
        case 'a': append = 1; break;
        case 'q': quiet = 1; break;
        case OPT_REDACT: redact = 1; break;
        case OPT_NO_PYTHON: no_python = 1; break;
        case OPT_NO_PAUSE: no_pause = 1; break;
        case OPT_NO_DICT: no_dict = 1; break;
        case OPT_REDACT_KEY: redact_key = optarg; redact = 1; break;
        case OPT_MAX_MAPPINGS:
            if (parse_ulong(optarg, 100000000ul, &max_maps) || max_maps == 0)
                return usage_error("invalid --max-mappings", optarg);
            break;
        case OPT_MAX_MEMORY:
            if (parse_ulong(optarg, 1ul << 20, &max_mem) || max_mem < 64)
                return usage_error("invalid --max-memory (MiB, at least 64)", optarg);
            break;
        case OPT_NICE:
            if (parse_ulong(optarg, 19, &nice_l)) return usage_error("invalid --nice (0-19)", optarg);
            break;
        case OPT_LEVEL:
            if (parse_ulong(optarg, 19, &level) || level == 0) return usage_error("invalid --level (1-19)", optarg);
            break;
        case 'h': usage(stdout); return 0;
        case OPT_VERSION: printf("%s (.msnap format %d.%d)\n", CAPTURE_AGENT, MS_FORMAT_MAJOR, MS_FORMAT_MINOR); return 0;
        case ':': return usage_error("option needs a value:", argv[optind - 1]);
        default: return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("unexpected argument", argv[optind]);
    if (!have_pid) return usage_error("-p PID is required", NULL);
    if (!out) return usage_error("-o FILE is required", NULL);
    if ((count || duration) && !interval) return usage_error("--count and --duration need --interval", NULL);
    if (force && append) return usage_error("--force and --append exclude each other", NULL);
    if (no_python && no_pause) return usage_error("--no-pause has no effect with --no-python", NULL);
    int series = interval > 0;

    if (!max_mem) max_mem = default_max_memory_mib();
    /* One malloc arena: each thread's own would reserve 64 MiB of the
     * address space that --max-memory caps. */
    mallopt(M_ARENA_MAX, 1);
    limit_self((int)nice_l, max_mem);

    redactor rd;
    capture_target t = {.pid = (int)pid, .max_mappings = max_maps, .proc_root = "/proc", .python = !no_python};
    /* The heap copy gets half of the cap; the rest is for the walk's
     * tables (about a tenth of the copy) and the agent itself, whose
     * address space (what the cap limits) includes thread stacks. */
    t.py.max_copy = ((uint64_t)max_mem << 20) / 2;
    t.py.max_copy = t.py.max_copy > (64ull << 20) ? t.py.max_copy - (32ull << 20) : (32ull << 20);
    t.py.no_pause = no_pause;
    t.py.retries = no_pause ? 5 : 3;
    if (redact) {
        if (!redact_key) redact_key = getenv("MEMSNAP_REDACT_KEY");
        if (redact_key && *redact_key) {
            redact_init(&rd, redact_key, strlen(redact_key));
        } else {
            unsigned char k[32];
            if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
                fprintf(stderr, "memsnap-capture: cannot get random bytes for a redaction key: %s\n", strerror(errno));
                return 1;
            }
            redact_init(&rd, (const char *)k, sizeof k);
            t.redact_random_key = 1;
        }
        t.redact = &rd;
        t.py.redact = &rd;
    }

    char msg[768];
    if (capture_check(&t, msg, sizeof msg) != CAPTURE_OK) {
        fprintf(stderr, "memsnap-capture: %s\n", msg);
        return 1;
    }
    struct stat st;
    if (!force && !append && lstat(out, &st) == 0) {
        fprintf(stderr, "memsnap-capture: %s exists; use --force to replace it, --append to add to it, or another name\n", out);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    /* A single snapshot goes to a temporary file renamed into place; a
     * series is written straight to FILE, so every complete snapshot is
     * readable while the capture runs and after any interruption. */
    char tmp[PATH_MAX];
    int tmpfd = -1, err = 0, zlevel = (int)level | (no_dict ? MS_ZLEVEL_NO_DICT : 0);
    ms_writer *w;
    char errbuf[640];
    if (!series && !append) {
        if (snprintf(tmp, sizeof tmp, "%s.XXXXXX.tmp", out) >= (int)sizeof tmp) return usage_error("output path too long", NULL);
        tmpfd = mkstemps(tmp, 4);
        if (tmpfd < 0) {
            fprintf(stderr, "memsnap-capture: cannot create a file next to %s: %s\n", out, strerror(errno));
            return 1;
        }
        fchmod(tmpfd, 0644);
        memcpy(pending_tmp, tmp, sizeof pending_tmp);
        have_pending_tmp = 1;
        w = ms_writer_fdopen(tmpfd, CAPTURE_AGENT, zlevel, &err, errbuf, sizeof errbuf);
    } else {
        w = ms_writer_open(out, append ? MS_APPEND : force ? MS_TRUNCATE : MS_CREATE, CAPTURE_AGENT, zlevel,
                           &err, errbuf, sizeof errbuf);
    }
    if (!w) {
        fprintf(stderr, "memsnap-capture: %s%s\n", err == MS_ERR_NOSPACE ? "disk full: " : "", errbuf);
        if (tmpfd >= 0) {
            close(tmpfd);
            unlink(tmp);
        }
        return 1;
    }
    if (series || append) sync_dir_of(out);
    if (ms_writer_notice(w)[0] && !quiet) fprintf(stderr, "memsnap-capture: note: %s\n", ms_writer_notice(w));

    int tty = !quiet && isatty(STDERR_FILENO);
    uint64_t start = now_ns(), period = (uint64_t)(interval * 1e9), next = start;
    uint64_t written = 0, bytes = ms_writer_count(w) ? 0 : 64;
    int rc = 0;
    for (;;) {
        capture_result res;
        capture_status cs = capture_one(&t, w, &res);
        if (cs == CAPTURE_GONE) {
            if (written == 0) {
                fprintf(stderr, "%smemsnap-capture: %s before a snapshot was complete; nothing written\n",
                        tty ? "\n" : "", res.msg);
                rc = 1;
            } else if (!quiet) {
                fprintf(stderr, "%smemsnap-capture: %s after %llu snapshot%s; %s holds them all\n", tty ? "\n" : "",
                        res.msg, (unsigned long long)written, written == 1 ? "" : "s", out);
            }
            break;
        }
        if (cs != CAPTURE_OK) {
            if (res.write_err == MS_ERR_NOSPACE)
                fprintf(stderr, "%smemsnap-capture: disk full: %s. %s\n", tty ? "\n" : "", res.msg,
                        series || append ? "The snapshots written before are intact; free space and run again with --append"
                                         : "No file was left behind; free space or write elsewhere");
            else
                fprintf(stderr, "%smemsnap-capture: %s\n", tty ? "\n" : "", res.msg);
            rc = 1;
            break;
        }
        written++;
        bytes += res.compressed + 40;
        if (written == 1 && res.py_note[0] && !quiet)
            fprintf(stderr, "%smemsnap-capture: note: %s\n", tty ? "\r\033[K" : "", res.py_note);
        if (tty) {
            char r[32], b[32];
            human(r, sizeof r, (double)res.rss_kib * 1024);
            human(b, sizeof b, (double)bytes);
            fprintf(stderr, "\r\033[Kmemsnap-capture: %llu snapshot%s, PID %d RSS %s, %zu mappings, %s written",
                    (unsigned long long)written, written == 1 ? "" : "s", t.pid, r, res.mappings, b);
        }
        if (!series || stop_signal) break;
        if (count && written >= count) break;
        next += period;
        if (duration && next > start + (uint64_t)(duration * 1e9)) break;
        sleep_until(next);
        if (stop_signal) break;
    }
    if (tty) fputc('\n', stderr);
    if (stop_signal && !quiet)
        fprintf(stderr, "memsnap-capture: stopped by signal %d after %llu snapshot%s; %s is complete\n",
                (int)stop_signal, (unsigned long long)written, written == 1 ? "" : "s", out);
    if (ms_writer_close(w) != 0 && rc == 0) {
        fprintf(stderr, "memsnap-capture: closing %s failed: %s\n", out, strerror(errno));
        rc = 1;
    }
    if (tmpfd >= 0) {
        int ok = rc == 0 && written > 0;
        if (close(tmpfd) != 0 && ok) {
            fprintf(stderr, "memsnap-capture: writing %s failed: %s\n", out, strerror(errno));
            ok = 0;
            rc = 1;
        }
        if (ok) {
            int e = publish(tmp, out, force);
            if (!e) sync_dir_of(out);
            if (e) {
                fprintf(stderr, "memsnap-capture: cannot create %s: %s%s\n", out, strerror(e),
                        e == EEXIST ? " (it appeared during the capture; use --force to replace it)" : "");
                rc = 1;
            }
        }
        if (rc) unlink(tmp);
        have_pending_tmp = 0;
    }
    return rc;
}

/*
 * bench_encode.c - how long ms_writer_add takes for the MAPPINGS table the
 * capture agent builds from real /proc/PID/smaps text.
 *
 * Each FILE is smaps text (saved with `cat /proc/PID/smaps > FILE`; none:
 * this program's own /proc/self/smaps). It is parsed with the agent's
 * parser (capture/smaps.c) and its MAPPINGS table is added to a snapshot
 * `--reps` times with one writer, as the agent does for a series of
 * snapshots (ms_writer_begin, ms_writer_add, ms_writer_abort: the add
 * interns the table's strings and encodes its columns; nothing is
 * compressed or written). Printed: the median add, the first add (a fresh
 * writer, its buffers still cold, as in a one-shot capture) and, for
 * scale, the median time to parse the text.
 *
 * Not a test: the figures depend on the machine. CTest runs it once on
 * its own smaps (bench_encode_smoke) only to prove it still works.
 */
#include "bench_util.h"
#include "msnap.h"
#include "smaps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* Reads the whole file (a /proc file has no size: read until EOF).
 * Returns NULL with a message on stderr. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_encode: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *p = malloc(cap);
    while (p) {
        n += fread(p + n, 1, cap - n, f);
        if (n < cap) break;
        char *q = realloc(p, cap *= 2);
        if (!q) free(p);
        p = q;
    }
    int bad = !p || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "bench_encode: reading %s failed%s\n", path, p ? "" : ": out of memory");
        free(p);
        return NULL;
    }
    *len = n;
    return p;
}

/* The MAPPINGS table of smaps text, as the agent builds it; NULL with a
 * message on stderr. */
static ms_table *parse(const char *path, const char *text, size_t len)
{
    smaps_parser *sp = smaps_new(0, NULL, NULL);
    if (!sp) {
        fprintf(stderr, "bench_encode: out of memory\n");
        return NULL;
    }
    int rc = smaps_feed(sp, text, len);
    if (!rc) rc = smaps_finish(sp);
    ms_table *t = rc ? NULL : smaps_take_mappings(sp);
    if (!t) fprintf(stderr, "bench_encode: %s: not smaps text: %s\n", path, smaps_error(sp));
    smaps_free(sp);
    return t;
}

/* Adds `t` once to a snapshot of `w` and drops the snapshot; returns the
 * seconds ms_writer_add took, or -1 with a message on stderr. */
static double add_once(ms_writer *w, const ms_table *t)
{
    if (ms_writer_begin(w)) return -1;
    double t0 = bench_now();
    int rc = ms_writer_add(w, t);
    double s = bench_now() - t0;
    ms_writer_abort(w);
    if (rc) {
        fprintf(stderr, "bench_encode: ms_writer_add: %s\n", ms_writer_error(w));
        return -1;
    }
    return s;
}

/* Times one smaps file; returns 0 or 1. */
static int bench_file(const char *path, int reps, double *v)
{
    size_t len;
    char *text = read_all(path, &len);
    if (!text) return 1;
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        ms_table *t = parse(path, text, len);
        v[i] = bench_now() - t0;
        ms_table_free(t);
        if (!t) {
            free(text);
            return 1;
        }
    }
    double parse_s = bench_median(v, (size_t)reps);
    ms_table *t = parse(path, text, len);
    free(text);
    if (!t) return 1;

    int err;
    char msg[512];
    FILE *devnull = fopen("/dev/null", "wb");
    ms_writer *w = devnull ? ms_writer_fdopen(fileno(devnull), "bench_encode", 0, &err, msg, sizeof msg) : NULL;
    if (!w) {
        fprintf(stderr, "bench_encode: cannot open a writer on /dev/null: %s\n", devnull ? msg : strerror(errno));
        if (devnull) fclose(devnull);
        ms_table_free(t);
        return 1;
    }
    double first = add_once(w, t);
    int bad = first < 0;
    for (int i = 0; !bad && i < reps; i++) bad = (v[i] = add_once(w, t)) < 0;
    ms_writer_close(w);
    fclose(devnull);
    if (!bad)
        printf("%s: %zu mappings: add %.3f ms median (first, cold writer: %.3f ms); parse %.3f ms\n",
               path, ms_table_nrows(t), bench_median(v, (size_t)reps) * 1e3, first * 1e3,
               parse_s * 1e3);
    ms_table_free(t);
    return bad;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_encode [--reps N] [--cpu-time] [SMAPS_FILE...]\n"
               "Times ms_writer_add of the MAPPINGS table parsed from each smaps text file\n"
               "(default /proc/self/smaps).\n"
               "  --reps N     timed runs; the median is printed (default 101)\n"
               "  --cpu-time   time with the thread's CPU clock instead of CLOCK_MONOTONIC\n"
               "  --help       this text\n");
}

int main(int argc, char **argv)
{
    int reps = 101, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--cpu-time")) {
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 100000) {
                fprintf(stderr, "bench_encode: --reps must be 1..100000\n");
                return 2;
            }
            reps = (int)v;
        } else {
            fprintf(stderr, "bench_encode: unknown option %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    double *v = malloc((size_t)reps * sizeof *v);
    if (!v) {
        fprintf(stderr, "bench_encode: out of memory\n");
        return 1;
    }
    int bad = 0;
    if (i == argc)
        bad = bench_file("/proc/self/smaps", reps, v);
    for (; i < argc; i++) bad |= bench_file(argv[i], reps, v);
    free(v);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "bench_encode: writing the output failed: %s\n", strerror(errno));
        return 1;
    }
    return bad;
}

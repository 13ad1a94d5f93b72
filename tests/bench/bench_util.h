/*
 * bench_util.h - the timing helpers the format benchmarks share
 * (bench_format.c, bench_encode.c).
 */
#ifndef MEMSNAP_BENCH_UTIL_H
#define MEMSNAP_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC, or with --cpu-time the thread's CPU time, which a busy
 * machine disturbs less (for A/B comparisons). Set once in main. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

/* Seconds on bench_clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of n samples (sorts them). */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif

/*
 * test_format_encode.c - the column encoder (format/msnap_encode.c) writes
 * exactly the bytes of the reference encoder (encode_reference.c, the
 * encoder as first written) for every table: same method, shift and base
 * columns for every column, same stored numbers. Tables come from
 * generators of the shapes real sections have (sorted intervals and their
 * lengths, KiB counts that are mostly 0 or copies of each other, page
 * aligned values, string indices, signed values, constants) and from
 * plain random ones, at the row counts where the encoder changes its ways
 * (64 rows, the sample of 4096, steps of 2 and more).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "format_test_util.h"

#include "encode_reference.h"
#include "msnap_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TE_MAXCOLS 40

/* One table to encode: up to TE_MAXCOLS columns of nrows values. */
typedef struct {
    ms_ecol cols[TE_MAXCOLS];
    uint64_t *v[TE_MAXCOLS]; /* the columns' values, owned */
    size_t ncols, nrows;
} te_table;

static void te_alloc(te_table *t, size_t ncols, size_t nrows)
{
    assert_true(ncols <= TE_MAXCOLS);
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->nrows = nrows;
    for (size_t c = 0; c < ncols; c++) {
        t->v[c] = calloc(nrows ? nrows : 1, sizeof(uint64_t));
        assert_non_null(t->v[c]);
        t->cols[c] = (ms_ecol){t->v[c], (unsigned)c + 1, MS_T_U64};
    }
}

static void te_free(te_table *t)
{
    for (size_t c = 0; c < t->ncols; c++) free(t->v[c]);
    memset(t, 0, sizeof *t);
}

static uint64_t te_below(tf_rng *r, uint64_t n)
{
    return n ? tf_rand(r) % n : 0;
}

/* Encodes `t` with the library's encoder `e` and with the reference, and
 * fails unless the bytes are the same. */
static void te_check(ms_encoder *e, const te_table *t, const char *what)
{
    ms_buf got = {0}, want = {0};
    ref_encoder ref = {0};
    int rc = ms_encode_table(e, t->cols, t->ncols, t->nrows, &got);
    tf_assert_err(rc, 0, what);
    rc = ref_encode_table(&ref, t->cols, t->ncols, t->nrows, &want);
    tf_assert_err(rc, 0, what);
    if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0) {
        size_t i = 0;
        while (i < got.len && i < want.len && got.p[i] == want.p[i]) i++;
        fail_msg("%s (%zu rows, %zu columns): %zu bytes, the reference %zu; first difference at byte %zu",
                 what, t->nrows, t->ncols, got.len, want.len, i);
    }
    ms_buf_free(&got);
    ms_buf_free(&want);
    ref_encoder_free(&ref);
}

/* Fills column c of t with values of one of the shapes real sections
 * have, possibly derived from earlier columns, and sets its type. Returns
 * 1 if it filled column c + 1 too (the ends of intervals starting in c),
 * else 0. */
static size_t te_column(tf_rng *r, te_table *t, size_t c)
{
    uint64_t *v = t->v[c];
    size_t n = t->nrows;
    unsigned k = (unsigned)te_below(r, 14), shape = (unsigned)te_below(r, 21);
    uint64_t base = tf_rand(r);
    ms_coltype type = te_below(r, 6) == 0 ? MS_T_I64 : te_below(r, 6) == 0 ? MS_T_STR : MS_T_U64;
    const uint64_t *p1 = c >= 1 ? t->v[c - 1] : NULL, *p2 = c >= 2 ? t->v[c - 2] : NULL;
    const uint64_t *any = c >= 1 ? t->v[te_below(r, c)] : NULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        switch (shape) {
        case 0: x = 0; break;
        case 1: x = base; break;
        case 2: x = te_below(r, 20) ? 0 : te_below(r, 1000) << k; break; /* mostly 0 */
        case 3: x = tf_rand(r); break;
        case 4: x = te_below(r, 100) << k; break;
        case 5: x = (i ? v[i - 1] : base >> 20 << 12) + ((te_below(r, 50) + 1) << 12); break; /* sorted, aligned */
        case 6: x = p1 ? p1[i] + (te_below(r, 4) ? 0 : te_below(r, 10)) : 0; break;           /* near copy */
        case 7: x = any ? any[i] - (te_below(r, 3) ? 0 : te_below(r, 5) << k) : 1; break;
        case 8: x = p2 ? (p1[i] - p2[i]) >> 10 : 0; break;                                      /* a span */
        case 9: x = p2 ? ((p1[i] - p2[i]) >> 12) + (te_below(r, 5) ? 0 : te_below(r, 3)) : 0; break;
        case 10: x = (uint64_t)-(int64_t)te_below(r, 1000); break;
        case 11: x = i ? (te_below(r, 1000) ? v[i - 1] : tf_rand(r)) : base; break; /* long runs */
        case 12: x = i + 1 == n ? base : 7; break;                                  /* constant but the last */
        case 13: x = i == 0 ? base : 7; break;                                      /* constant but the first */
        case 14: x = (tf_rand(r) | 1) << k; break;
        case 15: x = UINT64_MAX - te_below(r, 3); break;
        case 16: x = (uint64_t)1 << 63 >> te_below(r, 3); break;
        case 17: x = any ? any[i] : 0; break;                                       /* a copy */
        case 18: x = (i & 1 ? 4 : 8) << k; break; /* odd rows, unsampled at step 2, allow less shift */
        default: x = i * (k + 1) * 4096; break;
        }
        v[i] = x;
    }
    if (shape == 5 && c + 1 < t->ncols && te_below(r, 2)) { /* the next column ends the intervals */
        for (size_t i = 0; i < n; i++) t->v[c + 1][i] = v[i] + ((te_below(r, 300) + 1) << 12);
        t->cols[c].type = t->cols[c + 1].type = MS_T_U64;
        return 1;
    }
    if (type == MS_T_STR) { /* string indices: nulls, new strings, repeats */
        uint64_t top = 0, repeats = te_below(r, 2) ? 2 : 0; /* 0: all new or null, as type names */
        for (size_t i = 0; i < n; i++) {
            uint64_t u = te_below(r, 3 + repeats);
            v[i] = u == 0 ? 0 : u <= 2 ? ++top : 1 + te_below(r, top + 1);
        }
    }
    t->cols[c].type = type;
    return 0;
}

/* A table of random shape: ncols columns, each of a random shape. */
static void te_random_table(tf_rng *r, te_table *t, size_t ncols, size_t nrows)
{
    te_alloc(t, ncols, nrows);
    for (size_t c = 0; c < ncols; c++) c += te_column(r, t, c);
}

/* A MAPPINGS-like table: sorted intervals (start, end), perms, offsets
 * and inodes of file mappings, size in KiB (a span of the interval), KiB
 * counts that are mostly equal to each other or 0, a path and flags as
 * string indices, and constant columns. */
static void te_mappings(tf_rng *r, te_table *t, size_t nrows)
{
    enum { START, END, PERMS, OFFSET, INODE, PATH, SIZE, KPS, RSS, PSS, PDIRTY, ANON, SWAP, ZERO, FLAGS, NCOLS };
    te_alloc(t, NCOLS, nrows);
    uint64_t addr = 0x55d4c0000000ull, path = 0;
    for (size_t i = 0; i < nrows; i++) {
        uint64_t pages = te_below(r, 4) ? 1 + te_below(r, 64) : 256 + te_below(r, 4096);
        int file = te_below(r, 3) == 0;
        addr += te_below(r, 3) ? 0 : (1 + te_below(r, 1000)) << 12;
        t->v[START][i] = addr;
        t->v[END][i] = addr += pages << 12;
        t->v[PERMS][i] = 1 + te_below(r, 31);
        t->v[OFFSET][i] = file ? te_below(r, 1000) << 12 : 0;
        t->v[INODE][i] = file ? 1000 + te_below(r, 50) : 0;
        t->v[PATH][i] = file ? (te_below(r, 4) ? 1 + te_below(r, path + 1) : ++path) : 0;
        t->v[SIZE][i] = pages * 4;
        t->v[KPS][i] = 4;
        uint64_t rss = te_below(r, 3) ? pages * 4 : te_below(r, pages + 1) * 4;
        t->v[RSS][i] = rss;
        t->v[PSS][i] = te_below(r, 5) ? rss : rss / 2;
        t->v[PDIRTY][i] = file ? 0 : rss;
        t->v[ANON][i] = file ? 0 : rss;
        t->v[SWAP][i] = te_below(r, 50) ? 0 : te_below(r, 100) * 4;
        t->v[ZERO][i] = 0;
        t->v[FLAGS][i] = 1 + te_below(r, 17);
    }
    t->cols[PATH].type = MS_T_STR;
    t->cols[FLAGS].type = MS_T_STR;
}

/* Random tables of every shape at the row counts where the encoder
 * changes its ways, with one encoder reused across tables of growing and
 * shrinking sizes (its scratch memory is kept between calls). */
static void test_encode_random_tables(void **state)
{
    (void)state;
    static const size_t sizes[] = {0,    1,    2,    3,    5,    63,   64,   65,   100,  511,  512,  513,
                                   1025, 4095, 4096, 4097, 8191, 8192, 8193, 10000, 12289, 20000};
    tf_rng r = {0x656e636f6465ull};
    ms_encoder e = {0};
    for (int i = 0; i < 400; i++) {
        size_t n = sizes[te_below(&r, sizeof sizes / sizeof sizes[0])];
        if (te_below(&r, 4) == 0) n = te_below(&r, 3000);
        size_t ncols = 1 + te_below(&r, te_below(&r, 2) ? 8 : TE_MAXCOLS);
        te_table t;
        te_random_table(&r, &t, ncols, n);
        char what[64];
        snprintf(what, sizeof what, "random table %d", i);
        te_check(&e, &t, what);
        te_free(&t);
    }
    ms_encoder_free(&e);
    ms_encoder_free(&e); /* a freed encoder may be freed again */
}

/* Mappings-like tables, whole and in slices of rows and columns. */
static void test_encode_mappings(void **state)
{
    (void)state;
    tf_rng r = {0x6d617073ull};
    ms_encoder e = {0};
    static const size_t sizes[] = {10, 64, 700, 4096, 10000, 30000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        te_table t;
        te_mappings(&r, &t, sizes[s]);
        char what[64];
        snprintf(what, sizeof what, "mappings of %zu rows", sizes[s]);
        te_check(&e, &t, what);
        /* the first rows only, and runs of columns (other REF and SPAN bases) */
        size_t n = t.nrows;
        for (size_t k = 1; k < n; k = k * 3 + 1) {
            t.nrows = k;
            te_check(&e, &t, what);
        }
        t.nrows = n;
        te_table sub = t;
        for (size_t c = 0; c + 4 <= t.ncols; c += 3) {
            memmove(sub.cols, t.cols + c, 4 * sizeof *sub.cols);
            sub.ncols = 4;
            te_check(&e, &sub, what);
        }
        te_free(&t);
    }
    ms_encoder_free(&e);
}

/* Tables whose every column is constant (the first is then stored PLAIN),
 * and one-column tables of each shape. */
static void test_encode_constant_and_single(void **state)
{
    (void)state;
    tf_rng r = {0x636f6e7374ull};
    ms_encoder e = {0};
    static const size_t sizes[] = {1, 2, 64, 5000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        te_table t;
        te_alloc(&t, 3, sizes[s]);
        for (size_t i = 0; i < t.nrows; i++) t.v[1][i] = 42, t.v[2][i] = UINT64_MAX;
        t.cols[2].type = MS_T_I64;
        te_check(&e, &t, "all-constant table");
        te_free(&t);
        for (int k = 0; k < 40; k++) {
            te_alloc(&t, 1, sizes[s]);
            te_column(&r, &t, 0);
            te_check(&e, &t, "one-column table");
            te_free(&t);
        }
    }
    ms_encoder_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_random_tables),
        cmocka_unit_test(test_encode_mappings),
        cmocka_unit_test(test_encode_constant_and_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

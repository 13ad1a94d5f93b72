/*
 * msnap_encode.c - how the writer encodes one table's columns (SPEC.md 5.3).
 *
 * Every column is a sequence of 64-bit integers (string columns: string
 * indices). For each column the writer picks the method that will
 * compress best after zstd: PLAIN, DELTA to the previous row, CONST, REF to
 * an earlier column, GAP after the previous row's end of an interval pair,
 * SPAN (an interval's length), or SEQ for string references that mostly
 * name new strings. The choice is made on an estimate: the order-0 entropy
 * of the bytes each candidate would store, measured on a sample (every
 * (n / MS_ENC_SAMPLE)-th of n rows: MS_ENC_SAMPLE to twice as many). zstd
 * codes literals with Huffman tables and long runs of identical bytes
 * almost for free, so that entropy ranks the candidates the way the
 * compressed sizes do (measured by tests/bench/bench_format: the choice by
 * entropy is within 0.1% of choosing by compressing every candidate). The
 * choice is the writer's business: readers accept every method for every
 * column of its type; but the choices and so the bytes written must not
 * change by accident (tests/format/test_format_encode.c compares them with
 * a plain reference encoder).
 *
 * Speed (the agent encodes 10,000 mappings per snapshot): a candidate's
 * sampled residuals are computed once into scratch, leaving out the zeros
 * (most cells of a mappings table), and its shift and byte histogram are
 * taken from there; methods and signs get a loop each; a column stops
 * trying once a candidate costs the least any can.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "msnap_internal.h"

#include <stdlib.h>

#define MS_ENC_SAMPLE 4096u  /* rows whose stored bytes estimate a candidate's cost */
#define MS_ENC_EQ_SAMPLE 512u /* rows compared to find REF candidates */
#define MS_ENC_REF_CANDIDATES 3 /* earlier columns tried as REF bases */
#define MS_ENC_SMALL 64u      /* below this many rows, cost = stored bytes (no statistics) */

/* One candidate encoding of a column. `a`, `b` are column indices. */
typedef struct {
    unsigned method;  /* MS_M_* */
    unsigned shift;   /* residual shift k (SPEC 5.3), 0-63 */
    size_t a, b;      /* REF/SPAN base columns */
    unsigned s;       /* SPAN: right shift of the difference */
} ms_cand;

/* Functions a method or a sign is passed to as a constant, so that the
 * compiler makes one loop for each instead of deciding for every row. */
#if defined(__GNUC__)
#define MS_ENC_INLINE static inline __attribute__((always_inline))
#else
#define MS_ENC_INLINE static inline
#endif

/* Rows sampled for the statistics: every step-th. */
static size_t ms_enc_step(size_t n)
{
    return n > MS_ENC_SAMPLE ? n / MS_ENC_SAMPLE : 1;
}

/* ---------------------------------------------------- stored numbers */

/* Whether the method stores signed (zigzag) residuals for this column
 * (SEQ stores its numbers as they are). */
static int ms_enc_signed(const ms_ecol *col, unsigned method)
{
    return (method != MS_M_PLAIN && method != MS_M_SEQ) || col->type == MS_T_I64;
}

/* The number stored for residual d (value - base, SPEC 5.3) under shift. */
MS_ENC_INLINE uint64_t ms_enc_stored(uint64_t d, int sign, unsigned shift)
{
    return sign ? ms_zigzag((int64_t)d >> shift) : d >> shift;
}

/* A column as one candidate reads it: its values v and what row r is
 * stored relative to (SPEC 5.3): DELTA and GAP a[r - 1] (the previous row
 * of the column itself, or of the next column), REF a[r], SPAN
 * (a[r] - b[r]) >> s. */
typedef struct {
    const uint64_t *v, *a, *b;
    unsigned s;
} ms_enc_rows;

static ms_enc_rows ms_enc_rows_of(const ms_ecol *cols, size_t c, const ms_cand *k)
{
    ms_enc_rows x = {cols[c].v, cols[c].v, NULL, 0};
    if (k->method == MS_M_GAP) x.a = cols[c + 1].v;
    if (k->method == MS_M_REF || k->method == MS_M_SPAN) x.a = cols[k->a].v;
    if (k->method == MS_M_SPAN) x.b = cols[k->b].v, x.s = k->s;
    return x;
}

/* The residual of row r under method m (not SEQ): its value minus its
 * base, before any shift. */
MS_ENC_INLINE uint64_t ms_enc_residual(unsigned m, const ms_enc_rows *x, size_t r)
{
    switch (m) {
    case MS_M_DELTA:
    case MS_M_GAP: return r ? x->v[r] - x->a[r - 1] : x->v[r];
    case MS_M_REF: return x->v[r] - x->a[r];
    case MS_M_SPAN: return x->v[r] - ((x->a[r] - x->b[r]) >> x->s);
    default: return x->v[r];
    }
}

/* SEQ's number for string index i (SPEC 5.3): 0 null, 1 the string after
 * the largest index so far (*top, which it updates), else index + 1. */
MS_ENC_INLINE uint64_t ms_enc_seq(uint64_t i, uint64_t *top)
{
    uint64_t s = !i ? 0 : i == *top + 1 ? 1 : i + 1;
    if (i > *top) *top = i;
    return s;
}

/* Largest k such that every residual whose OR is `o` is a multiple of
 * 2^k (0 if they are all 0). */
static unsigned ms_enc_shift_of(uint64_t o)
{
    if (!o) return 0;
    unsigned s = 0;
    while (!(o & 1)) o >>= 1, s++;
    return s;
}

/* ---------------------------------------------------------- the cost */

/* ms_enc_sample for method m. */
MS_ENC_INLINE size_t ms_enc_sample_m(unsigned m, const ms_enc_rows *x, size_t n, size_t step, uint64_t *res,
                                     uint64_t *or)
{
    uint64_t o = 0, d, top = 0;
    size_t j = 0;
    /* zeros are left out without a branch, which columns of mostly 0
     * would mispredict */
#define MS_ENC_PUT(e) (d = (e), res[j] = d, j += d != 0, o |= d)
    if (m == MS_M_SEQ) {
        for (size_t r = 0, next = 0; r < n; r++) {
            uint64_t i = ms_enc_seq(x->v[r], &top); /* every row counts towards top */
            if (r != next) continue;
            MS_ENC_PUT(i);
            next += step;
        }
    } else {
        for (size_t r = 0; r < n; r += step) MS_ENC_PUT(ms_enc_residual(m, x, r));
    }
#undef MS_ENC_PUT
    *or = o;
    return j;
}

/* Writes the residuals of column `c` under `k` (SEQ: its numbers) at rows
 * 0, step, 2 step, ... < n into res, except those that are 0; returns how
 * many it wrote and sets *or to the OR of them all. */
static size_t ms_enc_sample(const ms_ecol *cols, size_t c, const ms_cand *k, size_t n, size_t step, uint64_t *res,
                            uint64_t *or)
{
    ms_enc_rows x = ms_enc_rows_of(cols, c, k);
    switch (k->method) {
    case MS_M_DELTA:
    case MS_M_GAP: return ms_enc_sample_m(MS_M_DELTA, &x, n, step, res, or);
    case MS_M_REF: return ms_enc_sample_m(MS_M_REF, &x, n, step, res, or);
    case MS_M_SPAN: return ms_enc_sample_m(MS_M_SPAN, &x, n, step, res, or);
    case MS_M_SEQ: return ms_enc_sample_m(MS_M_SEQ, &x, n, step, res, or);
    default: return ms_enc_sample_m(MS_M_PLAIN, &x, n, step, res, or);
    }
}

/* 256 * log2(x) for x >= 1, within about 0.01 bits: the integer part from
 * the top bit, the fraction from a quadratic fit of log2(1 + f). No libm:
 * the format library uses libc and libzstd only. */
static inline uint64_t ms_enc_log2_256(uint64_t x)
{
#if defined(__GNUC__)
    unsigned e = 63u - (unsigned)__builtin_clzll(x);
#else
    unsigned e = 0;
    while ((x >> e) > 1) e++;
#endif
    uint64_t f = e >= 16 ? (x >> (e - 16)) & 0xffff : (x << (16 - e)) & 0xffff; /* fraction, 16 bits */
    /* log2(1 + f) ~ f + 0.3431 f (1 - f), f in [0, 1) */
    uint64_t frac = f + (f * (65536 - f) / 65536) * 3431 / 10000;
    return ((uint64_t)e << 8) + (frac >> 8);
}

/* Counts the varint bytes of the numbers stored for res[0..m) in h. */
MS_ENC_INLINE void ms_enc_count(uint32_t h[256], const uint64_t *res, size_t m, int sign, unsigned shift)
{
    for (size_t i = 0; i < m; i++) {
        uint64_t x = ms_enc_stored(res[i], sign, shift);
        while (x >= 0x80) {
            h[(x & 0x7f) | 0x80]++;
            x >>= 7;
        }
        h[x]++;
    }
}

/* Estimated compressed bytes of a column of n rows whose sampled
 * residuals (every step-th row) are `zeros` zeros and res[0..m), stored
 * with sign and shift: the order-0 entropy of their varint bytes, scaled
 * to all n rows. */
static uint64_t ms_enc_cost(const uint64_t *res, size_t m, size_t zeros, int sign, unsigned shift, size_t n,
                            size_t step)
{
    if (n < MS_ENC_SMALL) { /* too few rows for statistics: the bytes themselves */
        uint64_t bytes = zeros;
        for (size_t i = 0; i < m; i++) bytes += ms_varint_len(ms_enc_stored(res[i], sign, shift));
        return bytes;
    }
    uint32_t h[256] = {0};
    h[0] = (uint32_t)zeros; /* a residual 0 is stored as the byte 0 */
    if (sign)
        ms_enc_count(h, res, m, 1, shift);
    else
        ms_enc_count(h, res, m, 0, shift);
    uint64_t tot = 0;
    for (int i = 0; i < 256; i++) tot += h[i];
    /* sum over byte values of count * log2(tot / count), in 1/256 bits */
    uint64_t lt = ms_enc_log2_256(tot), bits = 0;
    for (int i = 0; i < 256; i++)
        if (h[i]) bits += h[i] * (lt - ms_enc_log2_256(h[i]));
    /* 1/256 bits -> bytes, scaled from the sample to n rows */
    return bits / 2048 * (uint64_t)step + 1;
}

/* The least any candidate can cost (ms_enc_try): a byte a row below
 * MS_ENC_SMALL rows, else 1 (entropy 0, plus the byte it is rounded up
 * by). */
static uint64_t ms_enc_least(size_t n)
{
    return n < MS_ENC_SMALL ? n : 1;
}

/* Cost of `k` with its shift set from the sample (STR columns keep none),
 * using res (the values of a sample) as scratch. A small column keeps the
 * shift only if it pays for its byte. */
static uint64_t ms_enc_try(const ms_ecol *cols, size_t c, ms_cand *k, size_t n, uint64_t *res)
{
    size_t step = ms_enc_step(n), rows = (n + step - 1) / step;
    uint64_t o;
    size_t m = ms_enc_sample(cols, c, k, n, step, res, &o);
    int sign = ms_enc_signed(&cols[c], k->method);
    k->shift = cols[c].type == MS_T_STR ? 0 : ms_enc_shift_of(o);
    uint64_t cost = ms_enc_cost(res, m, rows - m, sign, k->shift, n, step) + (k->shift != 0);
    if (k->shift && n < MS_ENC_SMALL) {
        uint64_t plain = ms_enc_cost(res, m, rows - m, sign, 0, n, step);
        if (plain <= cost) {
            k->shift = 0;
            return plain;
        }
    }
    return cost;
}

/* ------------------------------------------------------------ choice */

/* Picks the encoding of every column: ch[0..ncols). `res` is scratch for
 * the values of a sample (ms_enc_step). */
static void ms_enc_choose(const ms_ecol *cols, size_t ncols, size_t n, ms_cand *ch, uint64_t *res)
{
    for (size_t c = 0; c < ncols; c++) ch[c] = (ms_cand){MS_M_PLAIN, 0, 0, 0, 0};
    if (n == 0) return;
    size_t gap_lo = SIZE_MAX; /* the first column of an interval pair (GAP), if any */
    for (size_t c = 0; c < ncols; c++) {
        if (c && ch[c - 1].method == MS_M_GAP) continue; /* the pair's REF, set below */
        const ms_ecol *x = &cols[c];
        int str = x->type == MS_T_STR;
        size_t r = 1;
        while (r < n && x->v[r] == x->v[0]) r++;
        if (r == n && n > 1) { /* (one row: PLAIN is as small, and plainer) */
            ch[c].method = MS_M_CONST;
            continue;
        }
        /* Candidates are tried in a fixed order and a later one must cost
         * less to win: once one costs the least any can, the rest of the
         * order is not tried (GAP, which pairs two columns, still is). */
        ms_cand best = {MS_M_PLAIN, 0, 0, 0, 0}, k;
        uint64_t bc = ms_enc_try(cols, c, &best, n, res), kc, least = ms_enc_least(n);
        k = (ms_cand){MS_M_DELTA, 0, 0, 0, 0};
        if (bc > least && (kc = ms_enc_try(cols, c, &k, n, res)) < bc) bc = kc, best = k;

        /* REF: the earlier columns of the same type that most often hold
         * the same value (identical columns cost nothing) */
        size_t cand[MS_ENC_REF_CANDIDATES], score[MS_ENC_REF_CANDIDATES], nc = 0;
        size_t step = n > MS_ENC_EQ_SAMPLE ? n / MS_ENC_EQ_SAMPLE : 1;
        for (size_t a = 0; a < c && bc > least; a++) {
            if (cols[a].type != x->type || ch[a].method == MS_M_CONST) continue;
            size_t eq = 0;
            for (size_t i = 0; i < n; i += step) eq += cols[a].v[i] == x->v[i];
            if (!eq) continue;
            if (nc < MS_ENC_REF_CANDIDATES) {
                cand[nc] = a;
                score[nc++] = eq;
                continue;
            }
            size_t w = 0;
            for (size_t j = 1; j < nc; j++)
                if (score[j] < score[w]) w = j;
            if (eq > score[w]) cand[w] = a, score[w] = eq;
        }
        for (size_t j = 0; j < nc && bc > least; j++) {
            k = (ms_cand){MS_M_REF, 0, cand[j], 0, 0};
            if ((kc = ms_enc_try(cols, c, &k, n, res)) < bc) bc = kc, best = k;
        }

        if (str) {
            k = (ms_cand){MS_M_SEQ, 0, 0, 0, 0};
            if (bc > least && (kc = ms_enc_try(cols, c, &k, n, res)) < bc) bc = kc, best = k;
            ch[c] = best;
            continue;
        }

        /* SPAN: a value that is the length of the interval pair, shifted
         * (mappings: size_kib = (end - start) >> 10) */
        if (gap_lo != SIZE_MAX && cols[gap_lo + 1].type == x->type && bc > least) {
            size_t lo = gap_lo, hi = gap_lo + 1;
            unsigned s = 64;
            for (size_t i = 0; i < n && s == 64; i += step) {
                uint64_t span = cols[hi].v[i] - cols[lo].v[i], v = x->v[i];
                if (!v || !span || span < v) continue;
                unsigned e = 0;
                while (e < 63 && (span >> (e + 1)) >= v) e++;
                s = e;
            }
            if (s < 64) {
                size_t eq = 0, tot = 0;
                for (size_t i = 0; i < n; i += step, tot++) eq += ((cols[hi].v[i] - cols[lo].v[i]) >> s) == x->v[i];
                k = (ms_cand){MS_M_SPAN, 0, hi, lo, s};
                if (eq * 2 >= tot && (kc = ms_enc_try(cols, c, &k, n, res)) < bc) bc = kc, best = k;
            }
        }

        /* GAP: this column and the next are sorted, non-overlapping
         * intervals [lo, hi): store the gap after the previous interval and
         * the length, instead of two addresses */
        if (gap_lo == SIZE_MAX && c + 1 < ncols && cols[c + 1].type == x->type && x->type == MS_T_U64) {
            const ms_ecol *y = &cols[c + 1];
            size_t ok = 0, tot = 0;
            for (size_t i = 1; i < n; i += step, tot++) ok += y->v[i] >= x->v[i] && x->v[i] >= y->v[i - 1];
            if (tot && ok * 10 >= tot * 9) {
                ms_cand g = {MS_M_GAP, 0, 0, 0, 0}, len = {MS_M_REF, 0, c, 0, 0};
                uint64_t pair = ms_enc_try(cols, c, &g, n, res) + ms_enc_try(cols, c + 1, &len, n, res);
                /* the next column alone, as it would be encoded otherwise */
                ms_cand yp = {MS_M_PLAIN, 0, 0, 0, 0}, yd = {MS_M_DELTA, 0, 0, 0, 0};
                uint64_t yc = ms_enc_try(cols, c + 1, &yp, n, res), t2 = ms_enc_try(cols, c + 1, &yd, n, res);
                if (t2 < yc) yc = t2;
                if (pair < bc + yc) {
                    ch[c] = g;
                    ch[c + 1] = len;
                    gap_lo = c;
                    continue;
                }
            }
        }
        ch[c] = best;
    }
    /* a table of rows must hold at least one byte per row (SPEC 5.2 rule
     * 2): all-CONST tables store their first column plainly */
    size_t nconst = 0;
    for (size_t c = 0; c < ncols; c++) nconst += ch[c].method == MS_M_CONST;
    if (ncols && nconst == ncols) ch[0].method = MS_M_PLAIN;
}

/* ------------------------------------------------------------- output */

/* ms_enc_write for method m and sign. */
MS_ENC_INLINE size_t ms_enc_write_m(unsigned m, int sign, unsigned shift, const ms_enc_rows *x, size_t n,
                                    unsigned char *d, uint64_t *or)
{
    unsigned char *p = d;
    uint64_t o = 0, top = 0;
    for (size_t r = 0; r < n; r++) {
        uint64_t e = m == MS_M_SEQ ? ms_enc_seq(x->v[r], &top) : ms_enc_residual(m, x, r);
        o |= e;
        p += ms_varint_put(p, ms_enc_stored(e, sign, shift));
    }
    *or = o;
    return (size_t)(p - d);
}

/* Writes the numbers column `c` stores under `k` for its n rows into d
 * (room for MS_VARINT_MAX bytes a row); returns the bytes written. The
 * shift was set from a sample: if every row allows less, k->shift is
 * lowered to that and the numbers are written again. A choice without a
 * shift keeps none. */
static size_t ms_enc_write(const ms_ecol *cols, size_t c, ms_cand *k, size_t n, unsigned char *d)
{
    ms_enc_rows x = ms_enc_rows_of(cols, c, k);
    for (;;) {
        size_t len;
        uint64_t o;
        switch (k->method) {
        case MS_M_DELTA:
        case MS_M_GAP: len = ms_enc_write_m(MS_M_DELTA, 1, k->shift, &x, n, d, &o); break;
        case MS_M_REF: len = ms_enc_write_m(MS_M_REF, 1, k->shift, &x, n, d, &o); break;
        case MS_M_SPAN: len = ms_enc_write_m(MS_M_SPAN, 1, k->shift, &x, n, d, &o); break;
        case MS_M_SEQ: len = ms_enc_write_m(MS_M_SEQ, 0, 0, &x, n, d, &o); break;
        default:
            if (ms_enc_signed(&cols[c], MS_M_PLAIN))
                len = ms_enc_write_m(MS_M_PLAIN, 1, k->shift, &x, n, d, &o);
            else
                len = ms_enc_write_m(MS_M_PLAIN, 0, k->shift, &x, n, d, &o);
        }
        if (!k->shift || ms_enc_shift_of(o) == k->shift) return len;
        k->shift = ms_enc_shift_of(o);
    }
}

int ms_encode_table(ms_encoder *e, const ms_ecol *cols, size_t ncols, size_t nrows, ms_buf *out)
{
    int rc;
    if (ncols > e->cap) {
        ms_cand *ch = realloc(e->cand, ncols * sizeof *ch);
        if (!ch) return MS_ERR_NOMEM;
        e->cand = ch;
        e->cap = ncols;
    }
    size_t step = ms_enc_step(nrows), rows = nrows / step + 1; /* sampled rows, at most */
    if (rows > e->rescap) {
        uint64_t *s = realloc(e->res, rows * sizeof *s);
        if (!s) return MS_ERR_NOMEM;
        e->res = s;
        e->rescap = rows;
    }
    if (nrows > SIZE_MAX / MS_VARINT_MAX) return MS_ERR_NOMEM;
    ms_buf *d = &e->col;
    d->len = 0;
    if ((rc = ms_buf_reserve(d, nrows * MS_VARINT_MAX))) return rc;
    ms_cand *ch = e->cand;
    ms_enc_choose(cols, ncols, nrows, ch, e->res);
    if ((rc = ms_buf_varint(out, nrows)) || (rc = ms_buf_varint(out, ncols))) return rc;
    for (size_t c = 0; c < ncols; c++) {
        ms_cand *k = &ch[c];
        const ms_ecol *x = &cols[c];
        /* the column's parameters (SPEC 5.3), then its numbers in d */
        unsigned char par[1 + 2 * MS_VARINT_MAX + 1];
        size_t np = 0;
        if (k->method == MS_M_CONST) {
            uint64_t v = x->type == MS_T_I64 ? ms_zigzag((int64_t)x->v[0]) : x->v[0];
            d->len = ms_varint_put(d->p, v);
        } else {
            d->len = ms_enc_write(cols, c, k, nrows, d->p);
            if (k->shift) par[np++] = (unsigned char)k->shift;
            if (k->method == MS_M_REF || k->method == MS_M_SPAN) np += ms_varint_put(par + np, cols[k->a].id);
            if (k->method == MS_M_SPAN) {
                np += ms_varint_put(par + np, cols[k->b].id);
                par[np++] = (unsigned char)k->s;
            }
        }
        unsigned char enc = ms_enc_byte(x->type, k->method, k->shift != 0);
        if ((rc = ms_buf_varint(out, x->id)) || (rc = ms_buf_put(out, &enc, 1)) ||
            (rc = ms_buf_varint(out, np + d->len)) || (rc = ms_buf_put(out, par, np)) ||
            (rc = ms_buf_put(out, d->p, d->len)))
            return rc;
    }
    return 0;
}

void ms_encoder_free(ms_encoder *e)
{
    if (!e) return;
    free(e->cand);
    free(e->res);
    ms_buf_free(&e->col);
    memset(e, 0, sizeof *e);
}

/*
 * encode_reference.c - the column encoder of format/msnap_encode.c as it
 * was first written (commit af56b6e): one plain pass per question, no
 * tricks. test_format_encode.c checks that the library's encoder, made
 * faster since, still writes exactly the bytes this one writes for every
 * table: the choices (method, shift, REF and SPAN columns) are described by
 * SPEC.md 5.3 and the files written with them must stay as they are.
 * Keep this file as it is; it is the yardstick, not a second encoder to
 * improve.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "encode_reference.h"

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

/* ---------------------------------------------------- stored numbers */

/* The base that row r of column `c` is stored relative to. */
static inline uint64_t ms_enc_base(const ms_ecol *cols, size_t c, const ms_cand *k, size_t r)
{
    switch (k->method) {
    case MS_M_DELTA: return r ? cols[c].v[r - 1] : 0;
    case MS_M_REF: return cols[k->a].v[r];
    case MS_M_GAP: return r ? cols[c + 1].v[r - 1] : 0; /* the next column, previous row */
    case MS_M_SPAN: return (cols[k->a].v[r] - cols[k->b].v[r]) >> k->s;
    default: return 0;
    }
}

/* Whether the method stores signed (zigzag) residuals for this column. */
static inline int ms_enc_signed(const ms_ecol *col, unsigned method)
{
    return method != MS_M_PLAIN || col->type == MS_T_I64;
}

/* The number stored for row r (before the shift is applied it is the
 * residual value - base; see SPEC 5.3). */
static inline uint64_t ms_enc_stored(const ms_ecol *cols, size_t c, const ms_cand *k, size_t r)
{
    uint64_t d = cols[c].v[r] - ms_enc_base(cols, c, k, r);
    if (!ms_enc_signed(&cols[c], k->method)) return d >> k->shift;
    return ms_zigzag((int64_t)d >> k->shift);
}

/* Largest k such that every residual of rows [0, n) in steps of `step`
 * is a multiple of 2^k (0 if they are all 0). */
static unsigned ms_enc_common_shift(const ms_ecol *cols, size_t c, ms_cand k, size_t n, size_t step)
{
    uint64_t o = 0;
    k.shift = 0;
    for (size_t r = 0; r < n; r += step) o |= cols[c].v[r] - ms_enc_base(cols, c, &k, r);
    if (!o) return 0;
    unsigned s = 0;
    while (!(o & 1)) o >>= 1, s++;
    return s > 63 ? 63 : s;
}

/* ---------------------------------------------------------- the cost */

/* 256 * log2(x) for x >= 1, within about 0.01 bits: the integer part from
 * the top bit, the fraction from a quadratic fit of log2(1 + f). No libm:
 * the format library uses libc and libzstd only. */
static uint64_t ms_enc_log2_256(uint64_t x)
{
    unsigned e = 0;
    while ((x >> e) > 1) e++;
    uint64_t f = e >= 16 ? (x >> (e - 16)) & 0xffff : (x << (16 - e)) & 0xffff; /* fraction, 16 bits */
    /* log2(1 + f) ~ f + 0.3431 f (1 - f), f in [0, 1) */
    uint64_t frac = f + (f * (65536 - f) / 65536) * 3431 / 10000;
    return ((uint64_t)e << 8) + (frac >> 8);
}

/* Estimated compressed bytes of the column under candidate `k`, scaled
 * to all n rows. */
static uint64_t ms_enc_cost(const ms_ecol *cols, size_t c, const ms_cand *k, size_t n)
{
    if (n < MS_ENC_SMALL) { /* too few rows for statistics: the bytes themselves */
        uint64_t bytes = 0;
        for (size_t r = 0; r < n; r++) bytes += ms_varint_len(ms_enc_stored(cols, c, k, r));
        return bytes;
    }
    size_t step = n > MS_ENC_SAMPLE ? n / MS_ENC_SAMPLE : 1;
    uint32_t h[256] = {0};
    uint64_t tot = 0;
    for (size_t r = 0; r < n; r += step) {
        uint64_t x = ms_enc_stored(cols, c, k, r);
        while (x >= 0x80) {
            h[(x & 0x7f) | 0x80]++;
            x >>= 7;
            tot++;
        }
        h[x]++;
        tot++;
    }
    /* sum over byte values of count * log2(tot / count), in 1/256 bits */
    uint64_t lt = ms_enc_log2_256(tot), bits = 0;
    for (int i = 0; i < 256; i++)
        if (h[i]) bits += h[i] * (lt - ms_enc_log2_256(h[i]));
    /* 1/256 bits -> bytes, scaled from the sample to n rows */
    return bits / 2048 * (uint64_t)step + 1;
}

/* Cost of `k` with its shift set from the sample. A small column keeps
 * the shift only if it pays for its byte. */
static uint64_t ms_enc_try(const ms_ecol *cols, size_t c, ms_cand *k, size_t n)
{
    size_t step = n > MS_ENC_SAMPLE ? n / MS_ENC_SAMPLE : 1;
    k->shift = cols[c].type == MS_T_STR ? 0 : ms_enc_common_shift(cols, c, *k, n, step);
    uint64_t cost = ms_enc_cost(cols, c, k, n) + (k->shift != 0);
    if (k->shift && n < MS_ENC_SMALL) {
        unsigned shift = k->shift;
        k->shift = 0;
        uint64_t plain = ms_enc_cost(cols, c, k, n);
        if (plain <= cost) return plain;
        k->shift = shift;
    }
    return cost;
}

/* The SEQ stream of a string column (SPEC 5.3): 0 null, 1 the string after
 * the largest index so far, else index + 1. Written into out[0..n). */
static void ms_enc_seq(const uint64_t *v, size_t n, uint64_t *out)
{
    uint64_t m = 0;
    for (size_t r = 0; r < n; r++) {
        if (!v[r]) {
            out[r] = 0;
            continue;
        }
        out[r] = v[r] == m + 1 ? 1 : v[r] + 1;
        if (v[r] > m) m = v[r];
    }
}

static uint64_t ms_enc_seq_cost(const uint64_t *seq, size_t n)
{
    ms_ecol one = {seq, 0, MS_T_U64};
    ms_cand plain = {MS_M_PLAIN, 0, 0, 0, 0};
    return ms_enc_cost(&one, 0, &plain, n);
}

/* ------------------------------------------------------------ choice */

/* Picks the encoding of every column: ch[0..ncols). `seq` is scratch for
 * n values. */
static void ms_enc_choose(const ms_ecol *cols, size_t ncols, size_t n, ms_cand *ch, uint64_t *seq)
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
        ms_cand best = {MS_M_PLAIN, 0, 0, 0, 0}, k;
        uint64_t bc = ms_enc_try(cols, c, &best, n), kc;
        k = (ms_cand){MS_M_DELTA, 0, 0, 0, 0};
        if ((kc = ms_enc_try(cols, c, &k, n)) < bc) bc = kc, best = k;

        /* REF: the earlier columns of the same type that most often hold
         * the same value (identical columns cost nothing) */
        size_t cand[MS_ENC_REF_CANDIDATES], score[MS_ENC_REF_CANDIDATES], nc = 0;
        size_t step = n > MS_ENC_EQ_SAMPLE ? n / MS_ENC_EQ_SAMPLE : 1;
        for (size_t a = 0; a < c; a++) {
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
        for (size_t j = 0; j < nc; j++) {
            k = (ms_cand){MS_M_REF, 0, cand[j], 0, 0};
            if ((kc = ms_enc_try(cols, c, &k, n)) < bc) bc = kc, best = k;
        }

        if (str) {
            ms_enc_seq(x->v, n, seq);
            if ((kc = ms_enc_seq_cost(seq, n)) < bc) bc = kc, best = (ms_cand){MS_M_SEQ, 0, 0, 0, 0};
            ch[c] = best;
            continue;
        }

        /* SPAN: a value that is the length of the interval pair, shifted
         * (mappings: size_kib = (end - start) >> 10) */
        if (gap_lo != SIZE_MAX && cols[gap_lo + 1].type == x->type) {
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
                if (eq * 2 >= tot && (kc = ms_enc_try(cols, c, &k, n)) < bc) bc = kc, best = k;
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
                uint64_t pair = ms_enc_try(cols, c, &g, n) + ms_enc_try(cols, c + 1, &len, n);
                /* the next column alone, as it would be encoded otherwise */
                ms_cand yp = {MS_M_PLAIN, 0, 0, 0, 0}, yd = {MS_M_DELTA, 0, 0, 0, 0};
                uint64_t yc = ms_enc_try(cols, c + 1, &yp, n), t2 = ms_enc_try(cols, c + 1, &yd, n);
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

int ref_encode_table(ref_encoder *e, const ms_ecol *cols, size_t ncols, size_t nrows, ms_buf *out)
{
    int rc;
    if (ncols > e->cap) {
        ms_cand *ch = realloc(e->cand, ncols * sizeof *ch);
        if (!ch) return MS_ERR_NOMEM;
        e->cand = ch;
        e->cap = ncols;
    }
    if (nrows > e->seqcap) {
        if (nrows > SIZE_MAX / sizeof(uint64_t)) return MS_ERR_NOMEM;
        uint64_t *s = realloc(e->seq, nrows * sizeof *s);
        if (!s) return MS_ERR_NOMEM;
        e->seq = s;
        e->seqcap = nrows;
    }
    ms_cand *ch = e->cand;
    ms_enc_choose(cols, ncols, nrows, ch, e->seq);
    if ((rc = ms_buf_varint(out, nrows)) || (rc = ms_buf_varint(out, ncols))) return rc;
    ms_buf *d = &e->col;
    for (size_t c = 0; c < ncols; c++) {
        ms_cand *k = &ch[c];
        const ms_ecol *x = &cols[c];
        d->len = 0;
        if (k->method == MS_M_CONST) {
            uint64_t v = x->type == MS_T_I64 ? ms_zigzag((int64_t)x->v[0]) : x->v[0];
            if ((rc = ms_buf_varint(d, v))) return rc;
        } else {
            /* the exact common shift over every row (the choice saw a sample);
             * a choice without one keeps none */
            if (k->shift) k->shift = ms_enc_common_shift(cols, c, *k, nrows, 1);
            if (k->shift) {
                unsigned char s = (unsigned char)k->shift;
                if ((rc = ms_buf_put(d, &s, 1))) return rc;
            }
            if (k->method == MS_M_REF || k->method == MS_M_SPAN)
                if ((rc = ms_buf_varint(d, cols[k->a].id))) return rc;
            if (k->method == MS_M_SPAN) {
                unsigned char s = (unsigned char)k->s;
                if ((rc = ms_buf_varint(d, cols[k->b].id)) || (rc = ms_buf_put(d, &s, 1))) return rc;
            }
            if (nrows > (SIZE_MAX - d->len) / MS_VARINT_MAX) return MS_ERR_NOMEM;
            if ((rc = ms_buf_reserve(d, nrows * MS_VARINT_MAX))) return rc;
            unsigned char *p = d->p + d->len;
            if (k->method == MS_M_SEQ) {
                ms_enc_seq(x->v, nrows, e->seq);
                for (size_t r = 0; r < nrows; r++) p += ms_varint_put(p, e->seq[r]);
            } else if (k->method == MS_M_PLAIN && x->type != MS_T_I64 && !k->shift) {
                for (size_t r = 0; r < nrows; r++) p += ms_varint_put(p, x->v[r]);
            } else if (k->method == MS_M_DELTA && !k->shift) {
                uint64_t prev = 0;
                for (size_t r = 0; r < nrows; r++) {
                    p += ms_varint_put(p, ms_zigzag((int64_t)(x->v[r] - prev)));
                    prev = x->v[r];
                }
            } else {
                for (size_t r = 0; r < nrows; r++) p += ms_varint_put(p, ms_enc_stored(cols, c, k, r));
            }
            d->len = (size_t)(p - d->p);
        }
        unsigned char enc = ms_enc_byte(x->type, k->method, k->shift != 0);
        if ((rc = ms_buf_varint(out, x->id)) || (rc = ms_buf_put(out, &enc, 1)) ||
            (rc = ms_buf_varint(out, d->len)) || (rc = ms_buf_put(out, d->p, d->len)))
            return rc;
    }
    return 0;
}

void ref_encoder_free(ref_encoder *e)
{
    if (!e) return;
    free(e->cand);
    free(e->seq);
    ms_buf_free(&e->col);
    memset(e, 0, sizeof *e);
}

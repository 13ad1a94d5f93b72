/*
 * msnap_table.c - building one section's table row by row (ms_table_*).
 * Columns are created on first use and kept as arrays of 64-bit cells, so
 * the writer can encode each column in one pass.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pread, fdatasync, O_CLOEXEC */
#endif
#include "msnap_internal.h"

#include <stdlib.h>

ms_table *ms_table_new(unsigned type)
{
    if (type == 0 || type > 0xffff || type == MS_SEC_STRINGS) return NULL;
    ms_table *t = calloc(1, sizeof *t);
    if (t) t->type = type;
    return t;
}

void ms_table_free(ms_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->ncols; i++) free(t->cols[i].v);
    free(t->cols);
    ms_buf_free(&t->sbuf);
    free(t->soff);
    free(t->slen);
    free(t);
}

size_t ms_table_nrows(const ms_table *t)
{
    return t ? t->nrows : 0;
}

static ms_tcol *ms_table_col(ms_table *t, unsigned col, ms_coltype type, int *rc);
static ms_tcol *ms_table_col_v(ms_table *t, unsigned col, ms_coltype type, uint64_t *fresh, int *rc);

/* Makes room for `need` rows in every column. */
static int ms_table_grow(ms_table *t, size_t need)
{
    if (need <= t->rowcap) return 0;
    if (need > SIZE_MAX / 2 / sizeof(uint64_t)) return MS_ERR_NOMEM;
    size_t cap = t->rowcap ? t->rowcap : 16;
    while (cap < need) cap *= 2;
    for (size_t i = 0; i < t->ncols; i++) {
        uint64_t *v = realloc(t->cols[i].v, cap * sizeof *v);
        if (!v) return MS_ERR_NOMEM;
        t->cols[i].v = v;
    }
    t->rowcap = cap;
    return 0;
}

int ms_table_row(ms_table *t)
{
    return ms_table_add_rows(t, 1);
}

int ms_table_add_rows(ms_table *t, size_t n)
{
    if (!t) return MS_ERR_USAGE;
    if (n > SIZE_MAX / 2 - t->nrows) return MS_ERR_NOMEM;
    int rc = ms_table_grow(t, t->nrows + n);
    if (rc) return rc;
    for (size_t i = 0; i < t->ncols; i++) memset(t->cols[i].v + t->nrows, 0, n * sizeof(uint64_t));
    t->nrows += n;
    return 0;
}

int ms_table_u64_column_take(ms_table *t, unsigned col, uint64_t *v, size_t cap)
{
    int rc;
    if (!t || !v || !t->nrows || cap < t->nrows) {
        free(v);
        return MS_ERR_USAGE;
    }
    if (cap < t->rowcap) { /* every column has room for rowcap rows */
        uint64_t *nv = realloc(v, t->rowcap * sizeof *nv);
        if (!nv) {
            free(v);
            return MS_ERR_NOMEM;
        }
        v = nv;
    }
    ms_tcol *c = ms_table_col_v(t, col, MS_T_U64, v, &rc);
    if (!c) {
        free(v);
        return rc;
    }
    if (c->v != v) { /* the column existed: its array is replaced */
        free(c->v);
        c->v = v;
    }
    return 0;
}

int ms_table_u64_column(ms_table *t, unsigned col, size_t first, const uint64_t *v, size_t n)
{
    int rc;
    if (!t || (n && !v) || first > t->nrows || n > t->nrows - first) return MS_ERR_USAGE;
    ms_tcol *c = ms_table_col(t, col, MS_T_U64, &rc);
    if (!c) return rc;
    if (n) memcpy(c->v + first, v, n * sizeof *v);
    return 0;
}

/* Finds or creates column `col` with logical type `type`; NULL with *rc set
 * on failure. Columns stay sorted by id so the writer emits them in the
 * increasing order SPEC.md requires. */
static ms_tcol *ms_table_col(ms_table *t, unsigned col, ms_coltype type, int *rc)
{
    return ms_table_col_v(t, col, type, NULL, rc);
}

/* ms_table_col; a column it creates gets `fresh` (rowcap values, owned by
 * the table from then on) as its array, or a zeroed one when NULL. */
static ms_tcol *ms_table_col_v(ms_table *t, unsigned col, ms_coltype type, uint64_t *fresh, int *rc)
{
    *rc = MS_ERR_USAGE;
    if (!t || !t->nrows || col == 0 || col > 0xffff) return NULL;
    /* the column set last, the next one, or the first (a new row) */
    size_t cand[3] = {t->hint, t->hint + 1, 0};
    for (int k = 0; k < 3; k++) {
        size_t h = cand[k];
        if (h < t->ncols && t->cols[h].id == col) {
            t->hint = h;
            return t->cols[h].type == type ? &t->cols[h] : NULL;
        }
    }
    size_t lo = 0, hi = t->ncols;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->cols[mid].id < col)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->ncols && t->cols[lo].id == col) {
        t->hint = lo;
        return t->cols[lo].type == type ? &t->cols[lo] : NULL;
    }
    ms_coltype want = ms_schema_coltype(t->type, col);
    if (want && want != type) return NULL;
    *rc = MS_ERR_NOMEM;
    if (t->ncols == t->colcap) {
        size_t cap = t->colcap ? t->colcap * 2 : 8;
        ms_tcol *c = realloc(t->cols, cap * sizeof *c);
        if (!c) return NULL;
        t->cols = c;
        t->colcap = cap;
    }
    uint64_t *v = fresh ? fresh : calloc(t->rowcap, sizeof *v);
    if (!v) return NULL;
    memmove(&t->cols[lo + 1], &t->cols[lo], (t->ncols - lo) * sizeof *t->cols);
    t->cols[lo] = (ms_tcol){col, type, v};
    t->ncols++;
    t->hint = lo;
    return &t->cols[lo];
}

int ms_table_u64(ms_table *t, unsigned col, uint64_t v)
{
    int rc;
    ms_tcol *c = ms_table_col(t, col, MS_T_U64, &rc);
    if (!c) return rc;
    c->v[t->nrows - 1] = v;
    return 0;
}

int ms_table_i64(ms_table *t, unsigned col, int64_t v)
{
    int rc;
    ms_tcol *c = ms_table_col(t, col, MS_T_I64, &rc);
    if (!c) return rc;
    c->v[t->nrows - 1] = (uint64_t)v;
    return 0;
}

int ms_table_str(ms_table *t, unsigned col, const void *s, size_t len)
{
    int rc;
    if (!s && len) return MS_ERR_USAGE;
    ms_tcol *c = ms_table_col(t, col, MS_T_STR, &rc);
    if (!c) return rc;
    if (t->nstr == t->strcap) {
        size_t cap = t->strcap ? t->strcap * 2 : 16;
        size_t *o = realloc(t->soff, cap * sizeof *o);
        if (!o) return MS_ERR_NOMEM;
        t->soff = o;
        size_t *l = realloc(t->slen, cap * sizeof *l);
        if (!l) return MS_ERR_NOMEM;
        t->slen = l;
        t->strcap = cap;
    }
    t->soff[t->nstr] = t->sbuf.len;
    t->slen[t->nstr] = len;
    if ((rc = ms_buf_put(&t->sbuf, s, len))) return rc;
    c->v[t->nrows - 1] = ++t->nstr;
    return 0;
}

int ms_table_cstr(ms_table *t, unsigned col, const char *s)
{
    return s ? ms_table_str(t, col, s, strlen(s)) : ms_table_null(t, col);
}

int ms_table_null(ms_table *t, unsigned col)
{
    int rc;
    ms_tcol *c = ms_table_col(t, col, MS_T_STR, &rc);
    if (!c) return rc;
    c->v[t->nrows - 1] = 0;
    return 0;
}

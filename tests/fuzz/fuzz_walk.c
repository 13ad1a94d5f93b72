/*
 * fuzz_walk.c - reads every cell of a decoded snapshot through the public
 * accessors and checks what msnap.h promises about them (see fuzz_walk.h).
 */
#include "fuzz_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: invariant broken: %s\n", what);
    abort();
}

/* Mixes a value into the running checksum (FNV-1a style, 64-bit). */
static uint64_t fuzz_mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

static uint64_t fuzz_walk_cell(const ms_section *sec, unsigned col, ms_coltype ctype, size_t row,
                               uint64_t h)
{
    uint64_t u;
    int64_t i;
    const char *s;
    size_t len;
    int got_u = ms_get_u64(sec, col, row, &u);
    int got_i = ms_get_i64(sec, col, row, &i);
    int got_s = ms_get_str(sec, col, row, &s, &len);
    /* exactly the getter of the column's own type answers */
    if (got_u != (ctype == MS_T_U64) || got_i != (ctype == MS_T_I64) || got_s != (ctype == MS_T_STR))
        fuzz_fail("a cell answers to a getter of another type, or not to its own");
    if (!got_u && u != 0) fuzz_fail("ms_get_u64 failed but did not store 0");
    if (!got_i && i != 0) fuzz_fail("ms_get_i64 failed but did not store 0");
    if (ctype == MS_T_U64) {
        if (ms_u64_or(sec, col, row, ~u) != u) fuzz_fail("ms_u64_or disagrees with ms_get_u64");
        return fuzz_mix(h, u);
    }
    if (ctype == MS_T_I64) return fuzz_mix(h, (uint64_t)i);
    if (!s) {
        if (len != 0) fuzz_fail("a null string has a nonzero length");
        return fuzz_mix(h, 0x6e756c6c);
    }
    for (size_t k = 0; k < len; k++) h = fuzz_mix(h, (unsigned char)s[k]);
    if (s[len] != 0) fuzz_fail("a string is not followed by the NUL msnap.h promises");
    return fuzz_mix(h, len);
}

static uint64_t fuzz_walk_section(const ms_section *sec, uint64_t h)
{
    size_t nrows = ms_section_nrows(sec), ncols = ms_section_ncols(sec);
    h = fuzz_mix(h, ms_section_type_of(sec));
    h = fuzz_mix(h, ms_section_bytes(sec));
    h = fuzz_mix(h, nrows);
    unsigned prev = 0;
    for (size_t c = 0; c < ncols; c++) {
        unsigned col = 0;
        ms_coltype ctype = 0;
        if (ms_section_col_at(sec, c, &col, &ctype) != 0) fuzz_fail("ms_section_col_at failed below ncols");
        if (col == 0 || col > 0xffff || col <= prev) fuzz_fail("column ids not in 1..65535 and increasing");
        if (ctype != MS_T_U64 && ctype != MS_T_I64 && ctype != MS_T_STR) fuzz_fail("a column of no known type");
        if (!ms_section_has(sec, col)) fuzz_fail("ms_section_has misses a listed column");
        ms_coltype want = 0;
        if (ms_column_info(ms_section_type_of(sec), col, NULL, &want) == 0 && want != ctype)
            fuzz_fail("a known column decoded with a type other than its schema type");
        prev = col;
        h = fuzz_mix(h, col);
        for (size_t r = 0; r < nrows; r++) h = fuzz_walk_cell(sec, col, ctype, r, h);
        /* one past the last row must be refused */
        uint64_t u;
        int64_t i;
        const char *s;
        if (ms_get_u64(sec, col, nrows, &u) || ms_get_i64(sec, col, nrows, &i) ||
            ms_get_str(sec, col, nrows, &s, NULL))
            fuzz_fail("a getter accepted row == nrows");
    }
    if (ms_section_col_at(sec, ncols, NULL, NULL) != MS_ERR_USAGE) fuzz_fail("ms_section_col_at accepted i == ncols");
    if (ms_section_has(sec, prev + 1)) fuzz_fail("ms_section_has invents a column");
    unsigned type = ms_section_type_of(sec);
    if (type == MS_SEC_PROC_STATUS || type == MS_SEC_ROLLUP) {
        uint64_t v;
        h = fuzz_mix(h, (uint64_t)ms_kv_find(sec, "VmRSS", &v));
        h = fuzz_mix(h, v);
    }
    return h;
}

uint64_t fuzz_walk_snapshot(const ms_snapshot *s)
{
    if (!s) return 0;
    uint64_t h = 0xcbf29ce484222325ull, off, comp, raw;
    ms_snapshot_sizes(s, &off, &comp, &raw);
    h = fuzz_mix(fuzz_mix(fuzz_mix(h, off), comp), raw);
    size_t n = ms_snapshot_nsections(s);
    for (size_t i = 0; i < n; i++) {
        const ms_section *sec = ms_snapshot_section_at(s, i);
        if (!sec) fuzz_fail("ms_snapshot_section_at returned NULL below nsections");
        if (ms_section_type_of(sec) == MS_SEC_STRINGS) fuzz_fail("the string table is listed as a section");
        h = fuzz_walk_section(sec, h);
    }
    if (ms_snapshot_section_at(s, n)) fuzz_fail("ms_snapshot_section_at accepted i == nsections");
    /* by-type lookup agrees with the list, for every type this library knows */
    for (unsigned t = 0; t <= MS_SEC_MAX_KNOWN + 1; t++) {
        const ms_section *sec = ms_snapshot_section(s, t);
        if (sec && ms_section_type_of(sec) != t) fuzz_fail("ms_snapshot_section returned another type");
        h = fuzz_mix(h, sec != NULL);
    }
    if (!ms_snapshot_section(s, MS_SEC_SNAPSHOT)) fuzz_fail("a decoded snapshot without a snapshot section");
    return h;
}

/*
 * test_format_roundtrip.c - what goes into a .msnap file comes back out:
 * every section and column msnap.h defines, empty tables, 300,000-row
 * tables, integer extremes, awkward strings, null versus empty, unknown
 * columns and sections, one-row sections, API misuse, many snapshots per
 * file, the CRC-32C, the error names and the test vectors of format/SPEC.md
 * (the writer must produce its example bytes exactly). Expected values are
 * computed by the test, never taken from an earlier read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "format_test_util.h"

#include "msnap_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

/* ---------------------------------------------------------------- fixture */

static int rt_setup(void **state)
{
    *state = tf_tmpdir();
    return 0;
}

static int rt_teardown(void **state)
{
    tf_rmdir_all(*state);
    return 0;
}

#define RT_TEST(f) cmocka_unit_test_setup_teardown(f, rt_setup, rt_teardown)

static void rt_ok(int rc)
{
    tf_assert_err(rc, 0, "table call");
}

/* A one-row MS_SEC_SNAPSHOT table, which every snapshot needs. */
static ms_table *rt_snapshot_table(unsigned seq)
{
    ms_table *t = ms_table_new(MS_SEC_SNAPSHOT);
    assert_non_null(t);
    rt_ok(ms_table_row(t));
    rt_ok(ms_table_u64(t, MS_SNAP_SEQ, seq));
    return t;
}

/* Writes one snapshot made of tables t[0..n) (a snapshot table is added
 * first unless one is among them) to dir/rt.msnap, reads the file back and
 * returns its only snapshot. *raw gets the payload size; if `file` is not
 * NULL it gets the file's bytes (and *filelen their count). */
static ms_snapshot *rt_write_read(const char *dir, ms_table *const *t, size_t n, uint64_t *raw,
                                  unsigned char **file, size_t *filelen)
{
    char *path = tf_path(dir, "rt.msnap");
    int err = 1;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "roundtrip", 1, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    tf_assert_err(ms_writer_begin(w), 0, ms_writer_error(w));
    int have_snap = 0;
    for (size_t i = 0; i < n; i++) have_snap |= t[i]->type == MS_SEC_SNAPSHOT;
    if (!have_snap) {
        ms_table *s = rt_snapshot_table(0);
        tf_assert_err(ms_writer_add(w, s), 0, ms_writer_error(w));
        ms_table_free(s);
    }
    for (size_t i = 0; i < n; i++) tf_assert_err(ms_writer_add(w, t[i]), 0, ms_writer_error(w));
    tf_assert_err(ms_writer_end(w, 1), 0, ms_writer_error(w));
    uint64_t wraw, wcomp, woff;
    ms_writer_last_sizes(w, &wraw, &wcomp, &woff);
    assert_int_equal(woff, MS_FILE_HEADER_SIZE);
    assert_int_equal(ms_writer_count(w), 1);
    assert_int_equal(ms_writer_close(w), 0);

    tf_readout o;
    tf_read_path(path, 0, &o);
    assert_true(o.opened);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.n, 1);
    ms_snapshot *s = o.snaps[0];
    free(o.snaps);
    uint64_t roff, rcomp, rraw;
    ms_snapshot_sizes(s, &roff, &rcomp, &rraw);
    assert_int_equal(roff, woff);
    assert_int_equal(rcomp, wcomp);
    assert_int_equal(rraw, wraw);
    if (raw) *raw = rraw;
    if (file) *file = tf_read_file(path, filelen);
    free(path);
    return s;
}

/* The encoding byte the writer chose for (type, col) in the one-record file. */
static unsigned rt_encoding(const unsigned char *file, size_t len, unsigned type, unsigned col)
{
    tf_record rec[2];
    assert_int_equal(tf_records(file, len, rec, 2), 1);
    unsigned char *raw = tf_record_payload(file, &rec[0]);
    unsigned enc = tf_payload_col_encoding(raw, (size_t)rec[0].raw, type, col);
    free(raw);
    return enc;
}

static void rt_expect_u64(const ms_section *sec, unsigned col, size_t row, uint64_t want)
{
    uint64_t v = 42;
    assert_int_equal(ms_get_u64(sec, col, row, &v), 1);
    if (v != want)
        fail_msg("section %u col %u row %zu: got %llu want %llu", ms_section_type_of(sec), col,
                 row, (unsigned long long)v, (unsigned long long)want);
}

static void rt_expect_i64(const ms_section *sec, unsigned col, size_t row, int64_t want)
{
    int64_t v = 42;
    assert_int_equal(ms_get_i64(sec, col, row, &v), 1);
    if (v != want)
        fail_msg("section %u col %u row %zu: got %lld want %lld", ms_section_type_of(sec), col,
                 row, (long long)v, (long long)want);
}

/* want NULL: a null string */
static void rt_expect_str(const ms_section *sec, unsigned col, size_t row, const void *want,
                          size_t wlen)
{
    const char *s = "x";
    size_t len = 99;
    assert_int_equal(ms_get_str(sec, col, row, &s, &len), 1);
    if (!want) {
        if (s) fail_msg("section %u col %u row %zu: want null, got %zu bytes",
                        ms_section_type_of(sec), col, row, len);
        assert_int_equal(len, 0);
        return;
    }
    if (!s) fail_msg("section %u col %u row %zu: want %zu bytes, got null", ms_section_type_of(sec),
                     col, row, wlen);
    assert_int_equal(len, wlen);
    assert_memory_equal(s, want, wlen);
    assert_int_equal(s[len], 0);
}

/* ------------------------------------------------------------------ schema */

/* The sections and column types as msnap.h documents them (U, I, S per
 * column id 1..n), written out here so the library's schema table is
 * checked against the header rather than against itself. */
static const struct {
    unsigned type;
    const char *name;
    const char *types;
} rt_schema[] = {
    {MS_SEC_SNAPSHOT, "snapshot", "SUUUUUUSSU"},
    {MS_SEC_HOST, "host", "SSSSUUUUUSSIU"},
    {MS_SEC_PROCESS, "process", "UUUUSSSUIISU"},
    {MS_SEC_PROC_STATUS, "proc_status", "SUS"},
    {MS_SEC_CGROUP, "cgroup", "USUUUUUU"},
    {MS_SEC_CGROUP_STAT, "cgroup_stat", "SSU"},
    {MS_SEC_MAPPINGS, "mappings", "UUUUUUUSUUUUUUUUUUUUUUUUUUUUUUUUUUUUS"},
    {MS_SEC_MAPPING_EXTRA, "mapping_extra", "USUSS"},
    {MS_SEC_ROLLUP, "rollup", "SUS"},
    {MS_SEC_PY_RUNTIME, "py_runtime", "SUUSSSUU"},
    {MS_SEC_PY_TYPES, "py_types", "SSUUUUS"},
    {MS_SEC_PY_MODULES, "py_modules", "SSU"},
    {MS_SEC_PY_SIZE_CLASSES, "py_size_classes", "UUUUU"},
    {MS_SEC_PY_ARENAS, "py_arenas", "UUUUU"},
    {MS_SEC_PY_ALLOC_TOTALS, "py_alloc_totals", "UUUUUUUUUUU"},
    {MS_SEC_PY_GC, "py_gc", "UUUUU"},
    {MS_SEC_DIAGNOSTICS, "diagnostics", "SUS"},
};
#define RT_NSCHEMA (sizeof rt_schema / sizeof rt_schema[0])

static ms_coltype rt_letter_type(char c)
{
    return c == 'U' ? MS_T_U64 : c == 'I' ? MS_T_I64 : MS_T_STR;
}

static void test_schema_matches_header(void **state)
{
    (void)state;
    assert_int_equal(RT_NSCHEMA, MS_SEC_MAX_KNOWN - 1);
    assert_string_equal(ms_section_name(MS_SEC_STRINGS), "strings");
    assert_null(ms_section_name(0));
    assert_null(ms_section_name(MS_SEC_MAX_KNOWN + 1));
    assert_null(ms_section_name(1000));
    for (size_t k = 0; k < RT_NSCHEMA; k++) {
        unsigned type = rt_schema[k].type;
        assert_int_equal(type, k + 2); /* SNAPSHOT .. DIAGNOSTICS, no gap */
        assert_non_null(ms_section_name(type));
        assert_string_equal(ms_section_name(type), rt_schema[k].name);
        size_t ncols = strlen(rt_schema[k].types);
        const char *names[64] = {0};
        assert_int_equal(ms_column_info(type, 0, NULL, NULL), MS_ERR_USAGE);
        for (unsigned col = 1; col <= 64; col++) {
            const char *name = NULL;
            ms_coltype ct = 0;
            int rc = ms_column_info(type, col, &name, &ct);
            if (col > ncols) {
                if (rc != MS_ERR_USAGE)
                    fail_msg("section %s: column %u is not in msnap.h but the library knows it",
                             rt_schema[k].name, col);
                continue;
            }
            if (rc != 0) fail_msg("section %s: column %u unknown to the library", rt_schema[k].name, col);
            if (ct != rt_letter_type(rt_schema[k].types[col - 1]))
                fail_msg("section %s: column %u has type %d, msnap.h says %c", rt_schema[k].name, col,
                         (int)ct, rt_schema[k].types[col - 1]);
            assert_non_null(name);
            assert_true(name[0] != 0);
            for (unsigned j = 1; j < col; j++) assert_string_not_equal(names[j - 1], name);
            names[col - 1] = name;
        }
    }
    assert_int_equal(ms_column_info(1000, 1, NULL, NULL), MS_ERR_USAGE);
    assert_int_equal(ms_column_info(MS_SEC_STRINGS, 1, NULL, NULL), MS_ERR_USAGE);
}

/* ------------------------------------------------------- every section */

/* Deterministic cell values: varied magnitudes (1- to 10-byte varints). */
static uint64_t rt_u64(unsigned type, unsigned col, size_t row, unsigned seed)
{
    uint64_t h = tf_mix(((uint64_t)seed << 40) ^ ((uint64_t)type << 24) ^ ((uint64_t)col << 12) ^ row);
    return h >> (tf_mix(h) % 60);
}

static int64_t rt_i64(unsigned type, unsigned col, size_t row, unsigned seed)
{
    return (int64_t)rt_u64(type, col, row, seed + 7777u) * ((row & 1) ? -1 : 1);
}

/* A string naming its cell followed by 0..23 arbitrary bytes (NULs and
 * non-UTF-8 included); returns its length. */
static size_t rt_str(unsigned type, unsigned col, size_t row, unsigned seed, char buf[64])
{
    int n = snprintf(buf, 64, "%u/%u/%zu/%u|", type, col, row, seed);
    assert_true(n > 0 && n < 40);
    tf_rng rng = {tf_mix(((uint64_t)type << 32) ^ ((uint64_t)col << 16) ^ row ^ ((uint64_t)seed << 48))};
    size_t tail = (size_t)(tf_rand(&rng) % 24);
    tf_rand_bytes(&rng, buf + n, tail);
    return (size_t)n + tail;
}

/* SPEC.md 6: these sections hold exactly one row */
static int rt_one_row(unsigned type)
{
    return type == MS_SEC_SNAPSHOT || type == MS_SEC_HOST || type == MS_SEC_PROCESS ||
           type == MS_SEC_CGROUP || type == MS_SEC_PY_RUNTIME || type == MS_SEC_PY_ALLOC_TOTALS;
}

static size_t rt_rows(unsigned type, unsigned seed)
{
    return rt_one_row(type) ? 1 : 2 + (type + seed) % 5;
}

static ms_table *rt_full_table(unsigned type, unsigned seed)
{
    ms_table *t = ms_table_new(type);
    assert_non_null(t);
    size_t nrows = rt_rows(type, seed);
    for (size_t row = 0; row < nrows; row++) {
        rt_ok(ms_table_row(t));
        for (unsigned col = 1; col <= 64; col++) {
            ms_coltype ct;
            if (ms_column_info(type, col, NULL, &ct)) continue;
            char buf[64];
            if (ct == MS_T_U64) {
                rt_ok(ms_table_u64(t, col, rt_u64(type, col, row, seed)));
            } else if (ct == MS_T_I64) {
                rt_ok(ms_table_i64(t, col, rt_i64(type, col, row, seed)));
            } else {
                size_t n = rt_str(type, col, row, seed, buf);
                rt_ok(ms_table_str(t, col, buf, n));
            }
        }
    }
    assert_int_equal(ms_table_nrows(t), nrows);
    return t;
}

static void rt_check_full_section(const ms_section *sec, size_t k, unsigned seed)
{
    unsigned type = rt_schema[k].type;
    size_t ncols = strlen(rt_schema[k].types);
    assert_non_null(sec);
    assert_int_equal(ms_section_type_of(sec), type);
    assert_int_equal(ms_section_nrows(sec), rt_rows(type, seed));
    assert_int_equal(ms_section_ncols(sec), ncols);
    assert_true(ms_section_bytes(sec) > 2);
    for (size_t j = 0; j < ncols; j++) {
        unsigned col;
        ms_coltype ct;
        assert_int_equal(ms_section_col_at(sec, j, &col, &ct), 0);
        assert_int_equal(col, j + 1);
        assert_int_equal(ct, rt_letter_type(rt_schema[k].types[j]));
        for (size_t row = 0; row < ms_section_nrows(sec); row++) {
            char buf[64];
            if (ct == MS_T_U64) {
                rt_expect_u64(sec, col, row, rt_u64(type, col, row, seed));
            } else if (ct == MS_T_I64) {
                rt_expect_i64(sec, col, row, rt_i64(type, col, row, seed));
            } else {
                size_t n = rt_str(type, col, row, seed, buf);
                rt_expect_str(sec, col, row, buf, n);
            }
        }
    }
}

static void test_every_section_every_column(void **state)
{
    const char *dir = *state;
    char *path = tf_path(dir, "all.msnap");
    enum { NSNAP = 3 };
    uint64_t offs[NSNAP], comps[NSNAP], raws[NSNAP];
    unsigned order[NSNAP][RT_NSCHEMA];
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_CREATE, "roundtrip", 0, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    for (unsigned seed = 0; seed < NSNAP; seed++) {
        /* a different section order per snapshot: the file keeps add order */
        for (size_t k = 0; k < RT_NSCHEMA; k++) order[seed][k] = (unsigned)k;
        tf_rng rng = {seed + 1u};
        for (size_t k = RT_NSCHEMA - 1; k > 0; k--) {
            size_t j = (size_t)(tf_rand(&rng) % (k + 1));
            unsigned tmp = order[seed][k];
            order[seed][k] = order[seed][j];
            order[seed][j] = tmp;
        }
        tf_assert_err(ms_writer_begin(w), 0, ms_writer_error(w));
        for (size_t k = 0; k < RT_NSCHEMA; k++) {
            ms_table *t = rt_full_table(rt_schema[order[seed][k]].type, seed);
            tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
            ms_table_free(t); /* the writer keeps nothing from the table */
        }
        tf_assert_err(ms_writer_end(w, seed == 0), 0, ms_writer_error(w));
        ms_writer_last_sizes(w, &raws[seed], &comps[seed], &offs[seed]);
        assert_int_equal(ms_writer_count(w), seed + 1);
        assert_true(comps[seed] > 0 && raws[seed] > 0);
        if (seed) assert_int_equal(offs[seed], offs[seed - 1] + MS_RECORD_HEADER_SIZE + comps[seed - 1]);
        else assert_int_equal(offs[0], MS_FILE_HEADER_SIZE);
    }
    assert_int_equal(ms_writer_close(w), 0);

    tf_readout o;
    tf_read_path(path, 0, &o);
    assert_true(o.opened);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.major, MS_FORMAT_MAJOR);
    assert_int_equal(o.minor, MS_FORMAT_MINOR);
    assert_string_equal(o.writer_id, "roundtrip");
    assert_int_equal(o.n, NSNAP);
    for (unsigned seed = 0; seed < NSNAP; seed++) {
        const ms_snapshot *s = o.snaps[seed];
        uint64_t off, comp, raw;
        ms_snapshot_sizes(s, &off, &comp, &raw);
        assert_int_equal(off, offs[seed]);
        assert_int_equal(comp, comps[seed]);
        assert_int_equal(raw, raws[seed]);
        assert_int_equal(ms_snapshot_nsections(s), RT_NSCHEMA);
        for (size_t i = 0; i < RT_NSCHEMA; i++) {
            size_t k = order[seed][i];
            const ms_section *sec = ms_snapshot_section_at(s, i);
            assert_ptr_equal(sec, ms_snapshot_section(s, rt_schema[k].type));
            rt_check_full_section(sec, k, seed);
        }
        assert_null(ms_snapshot_section(s, MS_SEC_STRINGS)); /* not counted as a section */
        tf_walk_snapshot(s);
    }
    /* the same through a memory buffer */
    size_t len;
    unsigned char *buf = tf_read_file(path, &len);
    tf_readout m;
    tf_read_mem(buf, len, "mem", 0, 0, &m);
    tf_assert_err(m.rc, MS_ERR_END, m.msg);
    assert_int_equal(m.n, NSNAP);
    for (size_t i = 0; i < NSNAP; i++) tf_assert_snapshot_equal(o.snaps[i], m.snaps[i]);
    tf_readout_free(&m);
    tf_readout_free(&o);
    free(buf);
    free(path);
}

/* ------------------------------------------------------------ empty tables */

static void test_empty_tables(void **state)
{
    ms_table *maps = ms_table_new(MS_SEC_MAPPINGS); /* 0 rows */
    ms_table *types = ms_table_new(MS_SEC_PY_TYPES); /* 4 rows, no column set */
    ms_table *gc = ms_table_new(MS_SEC_PY_GC);      /* 0 rows */
    ms_table *snap = rt_snapshot_table(3);
    assert_non_null(maps);
    assert_non_null(types);
    assert_non_null(gc);
    for (int i = 0; i < 4; i++) rt_ok(ms_table_row(types));
    assert_int_equal(ms_table_nrows(types), 4);
    assert_int_equal(ms_table_nrows(maps), 0);
    ms_table *t[] = {maps, snap, types, gc};
    ms_snapshot *s = rt_write_read(*state, t, 4, NULL, NULL, NULL);
    assert_int_equal(ms_snapshot_nsections(s), 4);
    const ms_section *ss = ms_snapshot_section_at(s, 1);
    assert_int_equal(ms_section_type_of(ss), MS_SEC_SNAPSHOT);
    rt_expect_u64(ss, MS_SNAP_SEQ, 0, 3);
    const unsigned types_at[] = {MS_SEC_MAPPINGS, 0, MS_SEC_PY_TYPES, MS_SEC_PY_GC};
    for (size_t i = 0; i < 4; i++) {
        if (i == 1) continue;
        const ms_section *sec = ms_snapshot_section_at(s, i);
        assert_non_null(sec);
        assert_int_equal(ms_section_type_of(sec), types_at[i]);
        assert_int_equal(ms_section_nrows(sec), 0); /* SPEC: no columns means no rows */
        assert_int_equal(ms_section_ncols(sec), 0);
        assert_int_equal(ms_section_bytes(sec), 2); /* two zero varints */
        uint64_t v = 7;
        assert_int_equal(ms_get_u64(sec, 1, 0, &v), 0);
        assert_true(v == 0);
        assert_int_equal(ms_u64_or(sec, 1, 0, 99), 99);
    }
    ms_snapshot_free(s);
    for (size_t i = 0; i < 4; i++) ms_table_free(t[i]);
}

/* ------------------------------------------------------------- huge tables */

static void test_huge_mappings(void **state)
{
    enum { N = 300000 };
    static const char *paths[] = {"/usr/lib/libc.so.6", "[heap]", "[stack]", "/memfd:x (deleted)",
                                  "/usr/bin/python3.12"};
    ms_table *t = ms_table_new(MS_SEC_MAPPINGS);
    assert_non_null(t);
    tf_rng rng = {12345};
    uint64_t addr = 0x555500000000u;
    for (size_t i = 0; i < N; i++) {
        uint64_t size = 0x1000u * (1 + tf_rand(&rng) % 16);
        rt_ok(ms_table_row(t));
        rt_ok(ms_table_u64(t, MS_MAP_START, addr));
        rt_ok(ms_table_u64(t, MS_MAP_END, addr + size));
        rt_ok(ms_table_u64(t, MS_MAP_RSS, tf_rand(&rng) % ((uint64_t)1 << 42)));
        if (i % 6) rt_ok(ms_table_cstr(t, MS_MAP_PATH, paths[i % 5]));
        addr += size + 0x1000u * (tf_rand(&rng) % 4);
    }
    assert_int_equal(ms_table_nrows(t), N);
    unsigned char *file;
    size_t len;
    uint64_t raw;
    ms_snapshot *s = rt_write_read(*state, &t, 1, &raw, &file, &len);
    /* sorted intervals: start is the gap after the previous end, end the
     * length, both in pages (shifted by 12); random values plain */
    assert_int_equal(rt_encoding(file, len, MS_SEC_MAPPINGS, MS_MAP_START), ms_enc_byte(MS_T_U64, MS_M_GAP, 1));
    assert_int_equal(rt_encoding(file, len, MS_SEC_MAPPINGS, MS_MAP_END), ms_enc_byte(MS_T_U64, MS_M_REF, 1));
    assert_int_equal(rt_encoding(file, len, MS_SEC_MAPPINGS, MS_MAP_RSS), ms_enc_byte(MS_T_U64, MS_M_PLAIN, 0));
    assert_int_equal(rt_encoding(file, len, MS_SEC_MAPPINGS, MS_MAP_PATH) & MS_ENC_TYPE_MASK, MS_T_STR);
    free(file);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    assert_non_null(sec);
    assert_int_equal(ms_section_nrows(sec), N);
    assert_int_equal(ms_section_ncols(sec), 4);
    /* gaps and lengths in pages take a byte a row where plain addresses
     * would take 7 */
    assert_true(ms_section_bytes(sec) < (uint64_t)N * (1 + 1 + 6 + 1) + 64);
    rng.s = 12345;
    addr = 0x555500000000u;
    for (size_t i = 0; i < N; i++) {
        uint64_t size = 0x1000u * (1 + tf_rand(&rng) % 16);
        uint64_t v;
        if (!ms_get_u64(sec, MS_MAP_START, i, &v) || v != addr) fail_msg("row %zu: start", i);
        if (!ms_get_u64(sec, MS_MAP_END, i, &v) || v != addr + size) fail_msg("row %zu: end", i);
        if (!ms_get_u64(sec, MS_MAP_RSS, i, &v) || v != tf_rand(&rng) % ((uint64_t)1 << 42))
            fail_msg("row %zu: rss", i);
        const char *p;
        size_t plen;
        assert_int_equal(ms_get_str(sec, MS_MAP_PATH, i, &p, &plen), 1);
        if (i % 6) {
            if (!p || plen != strlen(paths[i % 5]) || memcmp(p, paths[i % 5], plen))
                fail_msg("row %zu: path", i);
        } else if (p) {
            fail_msg("row %zu: path should be null", i);
        }
        addr += size + 0x1000u * (tf_rand(&rng) % 4);
    }
    ms_snapshot_free(s);
    ms_table_free(t);
}

/* msnap.h: values not set in a row read as 0 or null, also in columns
 * that first appear after the table has grown. */
static void test_unset_cells(void **state)
{
    enum { N = 1000 };
    ms_table *t = ms_table_new(MS_SEC_MAPPINGS);
    assert_non_null(t);
    for (size_t i = 0; i < N; i++) {
        rt_ok(ms_table_row(t));
        rt_ok(ms_table_u64(t, MS_MAP_START, 4096 * i));
        if (i >= 600) rt_ok(ms_table_u64(t, MS_MAP_RSS, i));
        if (i == N - 1) rt_ok(ms_table_cstr(t, MS_MAP_PATH, "last"));
        if (i % 2 == 0) rt_ok(ms_table_cstr(t, MS_MAP_VMFLAGS, "rd wr"));
    }
    ms_snapshot *s = rt_write_read(*state, &t, 1, NULL, NULL, NULL);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    assert_int_equal(ms_section_nrows(sec), N);
    assert_int_equal(ms_section_ncols(sec), 4);
    for (size_t i = 0; i < N; i++) {
        rt_expect_u64(sec, MS_MAP_START, i, 4096 * i);
        rt_expect_u64(sec, MS_MAP_RSS, i, i >= 600 ? i : 0);
        if (i == N - 1) rt_expect_str(sec, MS_MAP_PATH, i, "last", 4);
        else rt_expect_str(sec, MS_MAP_PATH, i, NULL, 0);
        if (i % 2 == 0) rt_expect_str(sec, MS_MAP_VMFLAGS, i, "rd wr", 5);
        else rt_expect_str(sec, MS_MAP_VMFLAGS, i, NULL, 0);
    }
    ms_snapshot_free(s);
    ms_table_free(t);
}

/* msnap.h: ms_table_u64_column_take hands an array over without a copy:
 * a new column, a column that already had values (replaced), capacities
 * below and above the table's own, more rows added afterwards; misuse
 * frees the array (ASan would see a leak) and changes nothing. */
static void test_column_take(void **state)
{
    enum { N = 1000 };
    ms_table *t = ms_table_new(MS_SEC_MAPPINGS);
    assert_non_null(t);
    uint64_t *bad = malloc(8 * sizeof *bad);
    assert_non_null(bad);
    assert_int_equal(ms_table_u64_column_take(t, MS_MAP_START, bad, 8), MS_ERR_USAGE); /* no rows yet */
    rt_ok(ms_table_add_rows(t, N));
    rt_ok(ms_table_u64(t, MS_MAP_END, 7)); /* the last row's end, replaced below */
    uint64_t *start = malloc(N * sizeof *start), *end = malloc(4 * N * sizeof *end);
    assert_non_null(start);
    assert_non_null(end);
    for (size_t i = 0; i < N; i++) {
        start[i] = 4096 * i;
        end[i] = 4096 * i + 4096;
    }
    rt_ok(ms_table_u64_column_take(t, MS_MAP_START, start, N));  /* cap below the table's rowcap */
    rt_ok(ms_table_u64_column_take(t, MS_MAP_END, end, 4 * N));  /* cap above it */
    bad = malloc(N * sizeof *bad);
    assert_non_null(bad);
    assert_int_equal(ms_table_u64_column_take(t, MS_MAP_RSS, bad, N - 1), MS_ERR_USAGE); /* cap < nrows */
    bad = malloc(N * sizeof *bad);
    assert_non_null(bad);
    assert_int_equal(ms_table_u64_column_take(t, MS_MAP_PATH, bad, N), MS_ERR_USAGE); /* a string column */
    assert_int_equal(ms_table_u64_column_take(t, MS_MAP_RSS, NULL, N), MS_ERR_USAGE);
    /* rows after the hand-over: the columns grow and the new cells read 0 */
    for (size_t i = N; i < 3 * N; i++) rt_ok(ms_table_row(t));
    rt_ok(ms_table_u64(t, MS_MAP_START, 1));
    ms_snapshot *s = rt_write_read(*state, &t, 1, NULL, NULL, NULL);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    assert_int_equal(ms_section_nrows(sec), 3 * N);
    assert_int_equal(ms_section_ncols(sec), 2);
    for (size_t i = 0; i < 3 * N; i++) {
        rt_expect_u64(sec, MS_MAP_START, i, i < N ? 4096 * i : i == 3 * N - 1 ? 1 : 0);
        rt_expect_u64(sec, MS_MAP_END, i, i < N ? 4096 * i + 4096 : 0);
    }
    ms_snapshot_free(s);
    ms_table_free(t);
}

/* --------------------------------------------------------- integer extremes */

#define RT_NX 12
static const uint64_t rt_x_address[RT_NX] = {0, 1, UINT64_MAX, 0, UINT64_MAX - 1,
                                             (uint64_t)1 << 63, ((uint64_t)1 << 63) - 1, 2,
                                             127, 128, 16383, 16384};
static const uint64_t rt_x_wrap[RT_NX] = {UINT64_MAX - 40, UINT64_MAX - 30, UINT64_MAX - 20,
                                          UINT64_MAX - 10, UINT64_MAX, 9, 19, 29, 39, 49, 59, 69};
static const uint64_t rt_x_flip[RT_NX] = {0, UINT64_MAX, 0, UINT64_MAX, 0, UINT64_MAX,
                                          0, UINT64_MAX, 0, UINT64_MAX, 0, UINT64_MAX};
static const uint64_t rt_x_half[RT_NX] = {0, (uint64_t)1 << 63, 0, (uint64_t)1 << 63,
                                          0, (uint64_t)1 << 63, 0, (uint64_t)1 << 63,
                                          0, (uint64_t)1 << 63, 0, (uint64_t)1 << 63};
static const int64_t rt_x_i64[RT_NX] = {INT64_MIN, INT64_MAX, -1, 0, 1, -2, INT64_MIN + 1,
                                        INT64_MAX - 1, -64, 63, -65, 64};

static void test_integer_extremes(void **state)
{
    ms_table *ar = ms_table_new(MS_SEC_PY_ARENAS);
    assert_non_null(ar);
    for (size_t i = 0; i < RT_NX; i++) {
        rt_ok(ms_table_row(ar));
        rt_ok(ms_table_u64(ar, MS_AR_ADDRESS, rt_x_address[i]));
        rt_ok(ms_table_u64(ar, MS_AR_POOLS_USED, rt_x_wrap[i]));
        rt_ok(ms_table_u64(ar, MS_AR_POOLS_FREE, rt_x_flip[i]));
        rt_ok(ms_table_u64(ar, MS_AR_POOLS_TOTAL, rt_x_half[i]));
        rt_ok(ms_table_u64(ar, MS_AR_LIVE_BYTES, UINT64_MAX));
        rt_ok(ms_table_i64(ar, 300, rt_x_i64[i])); /* an unknown id, signed */
    }
    unsigned char *file;
    size_t len;
    ms_snapshot *s = rt_write_read(*state, &ar, 1, NULL, &file, &len);
    /* small (wrapping) differences are delta-encoded; 0 and 2^63 are 0 and
     * 1 shifted by 63; a constant is stored once; extremes plainly */
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_ARENAS, MS_AR_POOLS_USED), ms_enc_byte(MS_T_U64, MS_M_DELTA, 0));
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_ARENAS, MS_AR_POOLS_FREE), ms_enc_byte(MS_T_U64, MS_M_DELTA, 0));
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_ARENAS, MS_AR_POOLS_TOTAL), ms_enc_byte(MS_T_U64, MS_M_PLAIN, 1));
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_ARENAS, MS_AR_LIVE_BYTES), ms_enc_byte(MS_T_U64, MS_M_CONST, 0));
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_ARENAS, 300), ms_enc_byte(MS_T_I64, MS_M_PLAIN, 0));
    free(file);
    const ms_section *sa = ms_snapshot_section(s, MS_SEC_PY_ARENAS);
    assert_int_equal(ms_section_nrows(sa), RT_NX);
    for (size_t i = 0; i < RT_NX; i++) {
        rt_expect_u64(sa, MS_AR_ADDRESS, i, rt_x_address[i]);
        rt_expect_u64(sa, MS_AR_POOLS_USED, i, rt_x_wrap[i]);
        rt_expect_u64(sa, MS_AR_POOLS_FREE, i, rt_x_flip[i]);
        rt_expect_u64(sa, MS_AR_POOLS_TOTAL, i, rt_x_half[i]);
        rt_expect_u64(sa, MS_AR_LIVE_BYTES, i, UINT64_MAX);
        rt_expect_i64(sa, 300, i, rt_x_i64[i]);
        assert_int_equal(ms_u64_or(sa, MS_AR_ADDRESS, i, 5), rt_x_address[i]);
        assert_int_equal(ms_u64_or(sa, 300, i, 5), 5); /* I64, not U64 */
    }
    ms_snapshot_free(s);
    ms_table_free(ar);

    /* the known I64 columns live in one-row sections: three per snapshot */
    char *path = tf_path(*state, "signed.msnap");
    int err;
    char msg[256];
    ms_writer *w = ms_writer_open(path, MS_CREATE, NULL, 0, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    for (size_t k = 0; k < RT_NX / 3; k++) {
        ms_table *snap = rt_snapshot_table((unsigned)k);
        ms_table *host = ms_table_new(MS_SEC_HOST), *proc = ms_table_new(MS_SEC_PROCESS);
        rt_ok(ms_table_row(host));
        rt_ok(ms_table_i64(host, MS_HOST_OVERCOMMIT, rt_x_i64[3 * k]));
        rt_ok(ms_table_row(proc));
        rt_ok(ms_table_i64(proc, MS_PROC_OOM_SCORE, rt_x_i64[3 * k + 1]));
        rt_ok(ms_table_i64(proc, MS_PROC_OOM_SCORE_ADJ, rt_x_i64[3 * k + 2]));
        rt_ok(ms_writer_begin(w));
        rt_ok(ms_writer_add(w, snap));
        rt_ok(ms_writer_add(w, host));
        rt_ok(ms_writer_add(w, proc));
        tf_assert_err(ms_writer_end(w, 0), 0, ms_writer_error(w));
        ms_table_free(snap);
        ms_table_free(host);
        ms_table_free(proc);
    }
    assert_int_equal(ms_writer_close(w), 0);
    tf_readout o;
    tf_read_path(path, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.n, RT_NX / 3);
    for (size_t k = 0; k < RT_NX / 3; k++) {
        const ms_section *sh = ms_snapshot_section(o.snaps[k], MS_SEC_HOST);
        const ms_section *sp = ms_snapshot_section(o.snaps[k], MS_SEC_PROCESS);
        rt_expect_i64(sh, MS_HOST_OVERCOMMIT, 0, rt_x_i64[3 * k]);
        rt_expect_i64(sp, MS_PROC_OOM_SCORE, 0, rt_x_i64[3 * k + 1]);
        rt_expect_i64(sp, MS_PROC_OOM_SCORE_ADJ, 0, rt_x_i64[3 * k + 2]);
    }
    tf_readout_free(&o);
    free(path);
}

/* ----------------------------------------------------------------- strings */

enum { RT_STR_BYTES, RT_CSTR, RT_NULL, RT_CSTR_NULL, RT_UNSET };

typedef struct {
    const char *p;
    size_t len;
    int how;
} rt_sval;

static void rt_set(ms_table *t, unsigned col, const rt_sval *v)
{
    switch (v->how) {
    case RT_STR_BYTES: rt_ok(ms_table_str(t, col, v->p, v->len)); break;
    case RT_CSTR: rt_ok(ms_table_cstr(t, col, v->p)); break;
    case RT_NULL: rt_ok(ms_table_null(t, col)); break;
    case RT_CSTR_NULL: rt_ok(ms_table_cstr(t, col, NULL)); break;
    default: break;
    }
}

static void rt_expect(const ms_section *sec, unsigned col, size_t row, const rt_sval *v)
{
    int is_null = v->how == RT_NULL || v->how == RT_CSTR_NULL || v->how == RT_UNSET;
    if (is_null) rt_expect_str(sec, col, row, NULL, 0);
    else rt_expect_str(sec, col, row, v->p ? v->p : "", v->len);
}

static void test_strings(void **state)
{
    enum { BIG = 1 << 20 };
    char *big = malloc(BIG);
    assert_non_null(big);
    tf_rng rng = {77};
    tf_rand_bytes(&rng, big, BIG);
#define RT_S(lit) {lit, sizeof lit - 1, RT_STR_BYTES}
    const rt_sval vals[] = {
        {NULL, 0, RT_UNSET},
        {NULL, 0, RT_STR_BYTES}, /* empty, given as (NULL, 0) */
        {"", 0, RT_CSTR},        /* empty */
        {NULL, 0, RT_NULL},
        {NULL, 0, RT_CSTR_NULL},
        {" with  spaces ", 14, RT_CSTR},
        RT_S("line1\nline2\n\r\n"),
        RT_S("\ttab\t\v"),
        RT_S("a\0b\0"),
        RT_S("\xff\xfe\xfd\x80\xc0\xc1\xf8"),
        RT_S("a"),
        RT_S("a\0"),
        RT_S("a\0\0"),
        RT_S("\0"),
        {big, BIG, RT_STR_BYTES},
        {"dup", 3, RT_CSTR},
        RT_S("dup"),
    };
#undef RT_S
    const size_t nv = sizeof vals / sizeof vals[0];
    /* the same strings in two columns of two sections, shifted, plus an
     * unknown string column: interning must keep them all apart */
    ms_table *mods = ms_table_new(MS_SEC_PY_MODULES);
    ms_table *diag = ms_table_new(MS_SEC_DIAGNOSTICS);
    assert_non_null(mods);
    assert_non_null(diag);
    for (size_t i = 0; i < nv; i++) {
        rt_ok(ms_table_row(mods));
        rt_set(mods, MS_MOD_NAME, &vals[i]);
        rt_set(mods, MS_MOD_FILE, &vals[(i + 1) % nv]);
        rt_ok(ms_table_u64(mods, MS_MOD_FLAGS, i));
        rt_set(mods, 100, &vals[(i + 5) % nv]);
        rt_ok(ms_table_row(diag));
        rt_set(diag, MS_DG_AREA, &vals[nv - 1 - i]);
        rt_set(diag, MS_DG_MESSAGE, &vals[i]);
    }
    /* a family of strings that are prefixes of one another (interned in
     * both orders): enough of them that hash probes run into each other */
    enum { NPFX = 3000 };
    ms_table *types = ms_table_new(MS_SEC_PY_TYPES);
    assert_non_null(types);
    for (size_t k = 0; k < NPFX; k++) {
        rt_ok(ms_table_row(types));
        rt_ok(ms_table_str(types, MS_TY_NAME, big, NPFX - 1 - k));
        rt_ok(ms_table_str(types, MS_TY_QUALNAME, big, k));
    }
    ms_table *t[] = {mods, diag, types};
    uint64_t raw;
    ms_snapshot *s = rt_write_read(*state, t, 3, &raw, NULL, NULL);
    const ms_section *sp = ms_snapshot_section(s, MS_SEC_PY_TYPES);
    assert_int_equal(ms_section_nrows(sp), NPFX);
    for (size_t k = 0; k < NPFX; k++) {
        rt_expect_str(sp, MS_TY_NAME, k, big, NPFX - 1 - k);
        rt_expect_str(sp, MS_TY_QUALNAME, k, big, k);
    }
    ms_table_free(types);
    /* interned: the 1 MiB string is stored once though used five times,
     * and the prefix family once though used twice */
    assert_true(raw > BIG && raw < BIG + (size_t)NPFX * NPFX / 2 + (size_t)NPFX * 16 + 4096);
    const ms_section *sm = ms_snapshot_section(s, MS_SEC_PY_MODULES);
    const ms_section *sd = ms_snapshot_section(s, MS_SEC_DIAGNOSTICS);
    assert_int_equal(ms_section_nrows(sm), nv);
    assert_int_equal(ms_section_nrows(sd), nv);
    assert_int_equal(ms_section_ncols(sm), 4);
    assert_int_equal(ms_section_ncols(sd), 2);
    for (size_t i = 0; i < nv; i++) {
        rt_expect(sm, MS_MOD_NAME, i, &vals[i]);
        rt_expect(sm, MS_MOD_FILE, i, &vals[(i + 1) % nv]);
        rt_expect_u64(sm, MS_MOD_FLAGS, i, i);
        rt_expect(sm, 100, i, &vals[(i + 5) % nv]);
        rt_expect(sd, MS_DG_AREA, i, &vals[nv - 1 - i]);
        rt_expect(sd, MS_DG_MESSAGE, i, &vals[i]);
    }
    /* null and empty differ */
    const char *p;
    size_t plen;
    assert_int_equal(ms_get_str(sm, MS_MOD_NAME, 1, &p, &plen), 1);
    assert_non_null(p);
    assert_int_equal(plen, 0);
    assert_int_equal(ms_get_str(sm, MS_MOD_NAME, 3, &p, &plen), 1);
    assert_null(p);
    assert_int_equal(ms_get_str(sm, MS_MOD_NAME, 0, &p, NULL), 1); /* len may be NULL */
    assert_null(p);
    /* wrong type, missing column, row out of range */
    uint64_t v = 1;
    assert_int_equal(ms_get_u64(sm, MS_MOD_NAME, 0, &v), 0);
    assert_true(v == 0);
    assert_int_equal(ms_get_str(sm, MS_MOD_FLAGS, 0, &p, &plen), 0);
    assert_null(p);
    assert_int_equal(ms_get_str(sm, 99, 0, &p, &plen), 0);
    assert_int_equal(ms_get_str(sm, MS_MOD_NAME, nv, &p, &plen), 0);
    ms_snapshot_free(s);
    ms_table_free(mods);
    ms_table_free(diag);
    free(big);
}

/* ---------------------------------------------------- unknown ids and types */

static void test_unknown_columns(void **state)
{
    ms_table *h = ms_table_new(MS_SEC_CGROUP_STAT);
    assert_non_null(h);
    for (size_t i = 0; i < 3; i++) {
        rt_ok(ms_table_row(h));
        rt_ok(ms_table_u64(h, 65535, 1000 + i)); /* set out of id order on purpose */
        rt_ok(ms_table_str(h, 202, "x\0y", 3 - i));
        rt_ok(ms_table_i64(h, 201, -(int64_t)i - 5));
        rt_ok(ms_table_u64(h, 200, UINT64_MAX - i));
        rt_ok(ms_table_u64(h, MS_CGS_VALUE, 4096));
        rt_ok(ms_table_cstr(h, MS_CGS_FILE, "box"));
    }
    ms_snapshot *s = rt_write_read(*state, &h, 1, NULL, NULL, NULL);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_CGROUP_STAT);
    assert_non_null(sec);
    const unsigned ids[] = {MS_CGS_FILE, MS_CGS_VALUE, 200, 201, 202, 65535};
    const ms_coltype types[] = {MS_T_STR, MS_T_U64, MS_T_U64, MS_T_I64, MS_T_STR, MS_T_U64};
    assert_int_equal(ms_section_ncols(sec), 6);
    for (size_t j = 0; j < 6; j++) {
        unsigned col;
        ms_coltype ct;
        assert_int_equal(ms_section_col_at(sec, j, &col, &ct), 0);
        assert_int_equal(col, ids[j]);
        assert_int_equal(ct, types[j]);
        assert_int_equal(ms_section_has(sec, ids[j]), 1);
    }
    assert_int_equal(ms_section_col_at(sec, 6, NULL, NULL), MS_ERR_USAGE);
    assert_int_equal(ms_section_has(sec, 203), 0);
    for (size_t i = 0; i < 3; i++) {
        rt_expect_str(sec, MS_CGS_FILE, i, "box", 3);
        rt_expect_u64(sec, MS_CGS_VALUE, i, 4096);
        rt_expect_u64(sec, 200, i, UINT64_MAX - i);
        rt_expect_i64(sec, 201, i, -(int64_t)i - 5);
        rt_expect_str(sec, 202, i, "x\0y", 3 - i);
        rt_expect_u64(sec, 65535, i, 1000 + i);
        int64_t iv = 3;
        assert_int_equal(ms_get_i64(sec, 200, i, &iv), 0); /* U64 column read as I64 */
        assert_true(iv == 0);
    }
    ms_snapshot_free(s);
    ms_table_free(h);
}

static void test_unknown_section(void **state)
{
    ms_table *u = ms_table_new(1000);
    ms_table *top = ms_table_new(65535);
    ms_table *h = ms_table_new(MS_SEC_HOST);
    ms_table *snap = rt_snapshot_table(9);
    assert_non_null(u);
    assert_non_null(top);
    assert_non_null(h);
    for (size_t i = 0; i < 5; i++) {
        rt_ok(ms_table_row(u));
        rt_ok(ms_table_u64(u, 1, i * 1000));
        rt_ok(ms_table_cstr(u, 2, "only-in-unknown"));
        rt_ok(ms_table_cstr(u, 3, "shared"));
        rt_ok(ms_table_i64(u, 4, -1));
    }
    rt_ok(ms_table_row(h));
    rt_ok(ms_table_cstr(h, MS_HOST_NAME, "shared"));
    rt_ok(ms_table_cstr(h, MS_HOST_MACHINE, "x86_64"));
    ms_table *t[] = {snap, u, h, top};
    ms_snapshot *s = rt_write_read(*state, t, 4, NULL, NULL, NULL);
    assert_int_equal(ms_snapshot_nsections(s), 4);
    const unsigned types[] = {MS_SEC_SNAPSHOT, 1000, MS_SEC_HOST, 65535};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ms_section_type_of(ms_snapshot_section_at(s, i)), types[i]);
    const ms_section *su = ms_snapshot_section(s, 1000);
    assert_non_null(su);
    assert_ptr_equal(su, ms_snapshot_section_at(s, 1));
    assert_null(ms_section_name(1000));
    assert_int_equal(ms_section_nrows(su), 0); /* unknown sections are kept opaque */
    assert_int_equal(ms_section_ncols(su), 0);
    assert_true(ms_section_bytes(su) > 2 + 5 * 4); /* its body was written, not dropped */
    uint64_t v = 1;
    assert_int_equal(ms_get_u64(su, 1, 0, &v), 0);
    assert_true(v == 0);
    const ms_section *st = ms_snapshot_section(s, 65535);
    assert_non_null(st);
    assert_int_equal(ms_section_bytes(st), 2);
    /* strings after the unknown section's strings still resolve */
    const ms_section *sh = ms_snapshot_section(s, MS_SEC_HOST);
    rt_expect_str(sh, MS_HOST_NAME, 0, "shared", 6);
    rt_expect_str(sh, MS_HOST_MACHINE, 0, "x86_64", 6);
    rt_expect_u64(ms_snapshot_section(s, MS_SEC_SNAPSHOT), MS_SNAP_SEQ, 0, 9);
    assert_null(ms_snapshot_section(s, 1001));
    ms_snapshot_free(s);
    for (size_t i = 0; i < 4; i++) ms_table_free(t[i]);
}

/* ------------------------------------------------------------------ misuse */

static void test_table_new_bounds(void **state)
{
    (void)state;
    assert_null(ms_table_new(0));
    assert_null(ms_table_new(MS_SEC_STRINGS));
    assert_null(ms_table_new(65536));
    ms_table *t = ms_table_new(65535);
    assert_non_null(t);
    assert_int_equal(ms_table_nrows(t), 0);
    ms_table_free(t);
    ms_table_free(NULL);
    assert_int_equal(ms_table_nrows(NULL), 0);
    assert_int_equal(ms_table_row(NULL), MS_ERR_USAGE);
    assert_int_equal(ms_table_u64(NULL, 1, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_i64(NULL, 1, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_str(NULL, 1, "a", 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_cstr(NULL, 1, "a"), MS_ERR_USAGE);
    assert_int_equal(ms_table_null(NULL, 1), MS_ERR_USAGE);
}

static void test_column_type_misuse(void **state)
{
    ms_table *t = ms_table_new(MS_SEC_HOST);
    assert_non_null(t);
    /* before the first row */
    assert_int_equal(ms_table_u64(t, MS_HOST_PAGE_SIZE, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_i64(t, MS_HOST_OVERCOMMIT, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_cstr(t, MS_HOST_NAME, "x"), MS_ERR_USAGE);
    assert_int_equal(ms_table_str(t, MS_HOST_NAME, "x", 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_null(t, MS_HOST_NAME), MS_ERR_USAGE);
    assert_int_equal(ms_table_u64(t, 300, 1), MS_ERR_USAGE);
    rt_ok(ms_table_row(t));
    /* known columns: the spec fixes the type */
    assert_int_equal(ms_table_u64(t, MS_HOST_NAME, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_i64(t, MS_HOST_NAME, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_str(t, MS_HOST_PAGE_SIZE, "4096", 4), MS_ERR_USAGE);
    assert_int_equal(ms_table_cstr(t, MS_HOST_PAGE_SIZE, "4096"), MS_ERR_USAGE);
    assert_int_equal(ms_table_null(t, MS_HOST_PAGE_SIZE), MS_ERR_USAGE);
    assert_int_equal(ms_table_i64(t, MS_HOST_PAGE_SIZE, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_u64(t, MS_HOST_OVERCOMMIT, 1), MS_ERR_USAGE);
    /* unknown columns: the first use fixes the type */
    rt_ok(ms_table_u64(t, 300, 77));
    assert_int_equal(ms_table_str(t, 300, "x", 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_cstr(t, 300, NULL), MS_ERR_USAGE);
    assert_int_equal(ms_table_null(t, 300), MS_ERR_USAGE);
    assert_int_equal(ms_table_i64(t, 300, -1), MS_ERR_USAGE);
    rt_ok(ms_table_i64(t, 301, -3));
    assert_int_equal(ms_table_u64(t, 301, 3), MS_ERR_USAGE);
    /* ids out of range, and bytes without a pointer */
    assert_int_equal(ms_table_u64(t, 0, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_u64(t, 65536, 1), MS_ERR_USAGE);
    assert_int_equal(ms_table_str(t, 302, NULL, 3), MS_ERR_USAGE);
    /* the misuses changed nothing: two columns, values intact */
    ms_snapshot *s = rt_write_read(*state, &t, 1, NULL, NULL, NULL);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_HOST);
    assert_int_equal(ms_section_nrows(sec), 1);
    assert_int_equal(ms_section_ncols(sec), 2);
    rt_expect_u64(sec, 300, 0, 77);
    rt_expect_i64(sec, 301, 0, -3);
    assert_int_equal(ms_section_has(sec, 302), 0);
    assert_int_equal(ms_section_has(sec, MS_HOST_NAME), 0);
    ms_snapshot_free(s);
    ms_table_free(t);
}

static void test_writer_misuse(void **state)
{
    char *path = tf_path(*state, "misuse.msnap");
    int err = 1;
    char msg[512] = "";
    assert_null(ms_writer_open(NULL, MS_CREATE, NULL, 0, &err, msg, sizeof msg));
    tf_assert_err(err, MS_ERR_USAGE, msg);
    err = 1;
    assert_null(ms_writer_open(path, (ms_open_mode)7, NULL, 0, &err, msg, sizeof msg));
    tf_assert_err(err, MS_ERR_USAGE, msg);
    err = 1;
    assert_null(ms_writer_fdopen(-1, NULL, 0, &err, msg, sizeof msg));
    tf_assert_err(err, MS_ERR_USAGE, msg);
    assert_int_equal(ms_writer_begin(NULL), MS_ERR_USAGE);
    assert_int_equal(ms_writer_end(NULL, 0), MS_ERR_USAGE);
    assert_int_equal(ms_writer_close(NULL), 0);
    ms_writer_abort(NULL);
    assert_string_equal(ms_writer_error(NULL), "");
    assert_string_equal(ms_writer_notice(NULL), "");
    assert_int_equal(ms_writer_count(NULL), 0);

    ms_writer *w = ms_writer_open(path, MS_CREATE, "misuse", 0, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    assert_string_equal(ms_writer_error(w), "");
    ms_table *snap = rt_snapshot_table(5);
    ms_table *host = ms_table_new(MS_SEC_HOST);
    assert_non_null(host);
    rt_ok(ms_table_row(host));
    rt_ok(ms_table_cstr(host, MS_HOST_NAME, "must-not-leak"));

    assert_int_equal(ms_writer_add(NULL, snap), MS_ERR_USAGE);
    assert_int_equal(ms_writer_add(w, snap), MS_ERR_USAGE); /* no begin */
    assert_true(ms_writer_error(w)[0] != 0);
    assert_int_equal(ms_writer_end(w, 0), MS_ERR_USAGE); /* no begin */
    rt_ok(ms_writer_begin(w));
    assert_int_equal(ms_writer_begin(w), MS_ERR_USAGE); /* already open */
    assert_int_equal(ms_writer_add(w, NULL), MS_ERR_USAGE);
    rt_ok(ms_writer_add(w, host));
    assert_int_equal(ms_writer_add(w, host), MS_ERR_USAGE); /* same type twice */
    assert_int_equal(ms_writer_end(w, 0), MS_ERR_USAGE);    /* no snapshot section */
    assert_non_null(strstr(ms_writer_error(w), "MS_SEC_SNAPSHOT"));
    ms_writer_abort(w);
    assert_int_equal(ms_writer_end(w, 0), MS_ERR_USAGE); /* aborted: nothing open */
    assert_int_equal(ms_writer_count(w), 0);

    rt_ok(ms_writer_begin(w));
    rt_ok(ms_writer_add(w, snap));
    assert_int_equal(ms_writer_add(w, snap), MS_ERR_USAGE);
    rt_ok(ms_writer_end(w, 0));
    assert_int_equal(ms_writer_count(w), 1);
    assert_int_equal(ms_writer_close(w), 0);

    tf_readout o;
    tf_read_path(path, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.n, 1);
    /* only the completed snapshot, and nothing of the aborted one */
    assert_int_equal(ms_snapshot_nsections(o.snaps[0]), 1);
    assert_null(ms_snapshot_section(o.snaps[0], MS_SEC_HOST));
    rt_expect_u64(ms_snapshot_section(o.snaps[0], MS_SEC_SNAPSHOT), MS_SNAP_SEQ, 0, 5);
    tf_readout_free(&o);
    ms_table_free(snap);
    ms_table_free(host);
    free(path);
}

/* SPEC.md 6: snapshot, host, process, cgroup, py_runtime and
 * py_alloc_totals hold exactly one row. The writer refuses anything else
 * (readers would refuse the whole snapshot), and the reader refuses it. */
static void test_one_row_sections(void **state)
{
    char *path = tf_path(*state, "onerow.msnap");
    int err;
    char msg[256];
    ms_writer *w = ms_writer_open(path, MS_CREATE, NULL, 0, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    rt_ok(ms_writer_begin(w));
    size_t checked = 0;
    for (unsigned type = 2; type <= MS_SEC_MAX_KNOWN; type++) {
        if (!rt_one_row(type)) continue;
        checked++;
        unsigned col = 1;
        ms_coltype ct;
        assert_int_equal(ms_column_info(type, col, NULL, &ct), 0);
        for (int shape = 0; shape < 3; shape++) {
            ms_table *t = ms_table_new(type);
            size_t rows = shape == 0 ? 0 : shape == 1 ? 2 : 1;
            for (size_t r = 0; r < rows; r++) {
                rt_ok(ms_table_row(t));
                if (shape == 2) continue; /* one row, but no column set */
                if (ct == MS_T_STR) rt_ok(ms_table_cstr(t, col, "x"));
                else rt_ok(ms_table_u64(t, col, r));
            }
            assert_int_equal(ms_writer_add(w, t), MS_ERR_USAGE);
            assert_non_null(strstr(ms_writer_error(w), ms_section_name(type)));
            ms_table_free(t);
        }
    }
    assert_int_equal(checked, 6);
    /* the refusals left no trace: the snapshot still takes each type once */
    ms_table *snap = rt_snapshot_table(1), *host = ms_table_new(MS_SEC_HOST);
    rt_ok(ms_table_row(host));
    rt_ok(ms_table_u64(host, MS_HOST_NCPU, 8));
    rt_ok(ms_writer_add(w, snap));
    rt_ok(ms_writer_add(w, host));
    tf_assert_err(ms_writer_end(w, 0), 0, ms_writer_error(w));
    assert_int_equal(ms_writer_close(w), 0);
    ms_table_free(snap);
    ms_table_free(host);
    tf_readout o;
    tf_read_path(path, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.n, 1);
    assert_int_equal(ms_snapshot_nsections(o.snaps[0]), 2);
    rt_expect_u64(ms_snapshot_section(o.snaps[0], MS_SEC_HOST), MS_HOST_NCPU, 0, 8);
    tf_readout_free(&o);
    free(path);

    /* hand-made payloads: a host section of 2 rows, a snapshot section of 0 */
    static const unsigned char two_hosts[] = {
        0x01, 0, 1, 0x00,                            /* STRINGS: no strings */
        0x02, 0, 6, 1, 1, 2, 0x01, 1, 7,             /* SNAPSHOT: seq 7 (U64 PLAIN) */
        0x03, 0, 7, 2, 1, 13, 0x01, 2, 4, 8,         /* HOST: 2 rows of ncpu */
    };
    ms_snapshot *s = NULL;
    char pmsg[256] = "";
    tf_assert_err(ms_payload_parse(two_hosts, sizeof two_hosts, &s, pmsg, sizeof pmsg),
                  MS_ERR_CORRUPT, pmsg);
    assert_null(s);
    assert_non_null(strstr(pmsg, "host"));
    /* the same with one host row is fine: the payload above is well formed otherwise */
    unsigned char one_host[sizeof two_hosts];
    memcpy(one_host, two_hosts, sizeof one_host);
    one_host[sizeof one_host - 7] = 1;    /* nrows */
    one_host[sizeof one_host - 3] = 1;    /* data_length */
    one_host[15] = 6;                     /* the host section's length */
    tf_assert_err(ms_payload_parse(one_host, sizeof one_host - 1, &s, pmsg, sizeof pmsg), 0, pmsg);
    rt_expect_u64(ms_snapshot_section(s, MS_SEC_HOST), MS_HOST_NCPU, 0, 4);
    ms_snapshot_free(s);
    static const unsigned char empty_snap[] = {
        0x01, 0, 1, 0x00,
        0x02, 0, 2, 0, 0,
    };
    tf_assert_err(ms_payload_parse(empty_snap, sizeof empty_snap, &s, pmsg, sizeof pmsg),
                  MS_ERR_CORRUPT, pmsg);
    assert_null(s);
}

/* ---------------------------------------------------------- many snapshots */

static void test_many_snapshots(void **state)
{
    enum { N = 50 };
    char *path = tf_path(*state, "many.msnap");
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_CREATE, NULL, 1, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    uint64_t offs[N];
    for (unsigned i = 0; i < N; i++) {
        tf_sample_write(w, i, i % 7 == 3 ? 100 : 0);
        ms_writer_last_sizes(w, NULL, NULL, &offs[i]);
        assert_int_equal(ms_writer_count(w), i + 1);
    }
    ms_writer_last_sizes(w, NULL, NULL, NULL); /* all pointers may be NULL */
    assert_int_equal(ms_writer_close(w), 0);
    tf_readout o;
    tf_read_path(path, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_true(strncmp(o.writer_id, "libmsnap", 8) == 0); /* NULL writer id */
    assert_int_equal(o.n, N);
    for (unsigned i = 0; i < N; i++) {
        tf_sample_check(o.snaps[i], i, i % 7 == 3 ? 100 : 0);
        uint64_t off;
        ms_snapshot_sizes(o.snaps[i], &off, NULL, NULL);
        assert_int_equal(off, offs[i]);
    }
    tf_readout_free(&o);
    free(path);
}

static void test_writer_id(void **state)
{
    static const char *ids[] = {"memsnap-capture 0.1.0",
                                "a-writer-id-that-is-much-longer-than-thirty-nine-bytes-ok",
                                ""};
    for (size_t i = 0; i < 3; i++) {
        char *path = tf_path(*state, "id.msnap");
        int err;
        char msg[256];
        ms_writer *w = ms_writer_open(path, MS_TRUNCATE, ids[i], 0, &err, msg, sizeof msg);
        if (!w) fail_msg("open: %s", msg);
        assert_int_equal(ms_writer_close(w), 0); /* a file with no snapshot is valid */
        tf_readout o;
        tf_read_path(path, 0, &o);
        tf_assert_err(o.rc, MS_ERR_END, o.msg);
        assert_int_equal(o.n, 0);
        assert_int_equal(o.err_off, MS_FILE_HEADER_SIZE);
        assert_int_equal(strlen(o.writer_id), strlen(ids[i]) < 39 ? strlen(ids[i]) : 39);
        assert_memory_equal(o.writer_id, ids[i], strlen(o.writer_id));
        free(path);
    }
}

/* ------------------------------------------------------------- kv sections */

static void test_kv_find(void **state)
{
    ms_table *ps = ms_table_new(MS_SEC_PROC_STATUS);
    ms_table *ru = ms_table_new(MS_SEC_ROLLUP);
    assert_non_null(ps);
    assert_non_null(ru);
    static const struct {
        const char *name;
        uint64_t value;
    } rows[] = {{"VmPeak", 900}, {NULL, 9},       {"", 5},         {"VmRSS", 111},
                {"VmHWM", 222},  {"VmRSS", 333},  {"VmRSSx", 444}, {"VmSwap", 0}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rt_ok(ms_table_row(ps));
        rt_ok(ms_table_cstr(ps, MS_KV_NAME, rows[i].name));
        rt_ok(ms_table_u64(ps, MS_KV_VALUE, rows[i].value));
        rt_ok(ms_table_cstr(ps, MS_KV_UNIT, i % 2 ? "kB" : NULL));
    }
    rt_ok(ms_table_row(ru));
    rt_ok(ms_table_cstr(ru, MS_KV_NAME, "Rss"));
    rt_ok(ms_table_u64(ru, MS_KV_VALUE, UINT64_MAX));
    rt_ok(ms_table_row(ru));
    rt_ok(ms_table_cstr(ru, MS_KV_NAME, "Pss"));
    ms_table *t[] = {ps, ru};
    ms_snapshot *s = rt_write_read(*state, t, 2, NULL, NULL, NULL);
    const ms_section *sp = ms_snapshot_section(s, MS_SEC_PROC_STATUS);
    const ms_section *sr = ms_snapshot_section(s, MS_SEC_ROLLUP);
    uint64_t v = 1;
    assert_int_equal(ms_kv_find(sp, "VmRSS", &v), 1);
    assert_int_equal(v, 111); /* the first match wins */
    assert_int_equal(ms_kv_find(sp, "VmHWM", &v), 1);
    assert_int_equal(v, 222);
    assert_int_equal(ms_kv_find(sp, "VmRSSx", &v), 1);
    assert_int_equal(v, 444);
    assert_int_equal(ms_kv_find(sp, "VmPeak", &v), 1);
    assert_int_equal(v, 900);
    assert_int_equal(ms_kv_find(sp, "", &v), 1); /* the empty name, not the null one */
    assert_int_equal(v, 5);
    v = 1;
    assert_int_equal(ms_kv_find(sp, "VmSwap", &v), 1);
    assert_int_equal(v, 0);
    v = 1;
    assert_int_equal(ms_kv_find(sp, "VmRS", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ms_kv_find(sp, "vmrss", &v), 0);
    assert_int_equal(ms_kv_find(sr, "Rss", &v), 1);
    assert_true(v == UINT64_MAX);
    assert_int_equal(ms_kv_find(sr, "Pss", &v), 1); /* value not set in that row: 0 */
    assert_int_equal(v, 0);
    v = 1;
    assert_int_equal(ms_kv_find(NULL, "Rss", &v), 0);
    assert_int_equal(v, 0);
    rt_expect_str(sp, MS_KV_UNIT, 0, NULL, 0);
    rt_expect_str(sp, MS_KV_UNIT, 1, "kB", 2);
    ms_snapshot_free(s);
    ms_table_free(ps);
    ms_table_free(ru);
}

/* --------------------------------------------------------------- checksum */

/* Bit-by-bit CRC-32C, the definition the table and SSE 4.2 paths must match. */
static uint32_t rt_crc_ref(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(ms_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(ms_crc32c(0, "", 0), 0);
    unsigned char b[32];
    memset(b, 0, sizeof b); /* RFC 3720 B.4 test vectors */
    assert_int_equal(ms_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof b);
    assert_int_equal(ms_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) b[i] = (unsigned char)i;
    assert_int_equal(ms_crc32c(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) b[i] = (unsigned char)(31 - i);
    assert_int_equal(ms_crc32c(0, b, 32), 0x113FDB5Cu);
    /* every length and alignment, and continuation across any split */
    unsigned char buf[600];
    tf_rng rng = {3};
    tf_rand_bytes(&rng, buf, sizeof buf);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= 300; n++) {
            uint32_t want = rt_crc_ref(0, buf + off, n);
            assert_int_equal(ms_crc32c(0, buf + off, n), want);
            size_t cut = n / 3;
            assert_int_equal(ms_crc32c(ms_crc32c(0, buf + off, cut), buf + off + cut, n - cut), want);
        }
}

/* ----------------------------------------------- SPEC.md appendix A, 5.4 */

/* SPEC.md appendix A: the file header written with this writer id, for
 * codec-1 records (MS_ZLEVEL_NO_DICT: format 1.0) and by default (1.1). */
static const unsigned char rt_spec_header[64] = {
    0x89, 0x4d, 0x53, 0x4e, 0x41, 0x50, 0x0d, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x6d, 0x65, 0x6d, 0x73, 0x6e, 0x61, 0x70, 0x2d, 0x63, 0x61, 0x70, 0x74, 0x75, 0x72, 0x65, 0x20,
    0x30, 0x2e, 0x31, 0x2e, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x81, 0xf9, 0x75,
};
static const unsigned char rt_spec_header_11[64] = {
    0x89, 0x4d, 0x53, 0x4e, 0x41, 0x50, 0x0d, 0x0a, 0x01, 0x00, 0x01, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x6d, 0x65, 0x6d, 0x73, 0x6e, 0x61, 0x70, 0x2d, 0x63, 0x61, 0x70, 0x74, 0x75, 0x72, 0x65, 0x20,
    0x30, 0x2e, 0x31, 0x2e, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x73, 0x77, 0x05, 0x94,
};

/* SPEC.md section 5.4: the 106-byte payload of the example snapshot. */
static const unsigned char rt_spec_payload[106] = {
    0x01, 0x00, 0x2f, 0x05, 0x15, 0x05, 0x06, 0x07, 0x02,
    'm', 'e', 'm', 's', 'n', 'a', 'p', '-', 'c', 'a', 'p', 't', 'u', 'r', 'e', ' ', '0', '.', '1', '.', '0',
    'V', 'm', 'R', 'S', 'S', 'V', 'm', 'S', 'w', 'a', 'p', 'T', 'h', 'r', 'e', 'a', 'd', 's', 'k', 'B',
    0x02, 0x00, 0x0f, 0x01, 0x03, 0x02, 0x01, 0x01, 0x00, 0x07, 0x01, 0x02, 0xd2, 0x09, 0x08, 0x03, 0x01, 0x01,
    0x05, 0x00, 0x16, 0x03, 0x03, 0x01, 0x03, 0x03, 0x02, 0x03, 0x04, 0x02, 0x01, 0x05, 0x80, 0xa0, 0x01, 0x00,
    0x04, 0x03, 0x03, 0x03, 0x05, 0x05, 0x00,
    0x08, 0x00, 0x0a, 0x03, 0x01, 0x01, 0x45, 0x05, 0x0c, 0x80, 0x10, 0x02, 0x02,
};

/* SPEC.md appendix A: the record header of that payload at level 9, with
 * codec 1 and with codec 2 (the compressed size and payload CRC depend on
 * zstd's output: zstd 1.5 made these). */
static const unsigned char rt_spec_record[40] = {
    0x4d, 0x53, 0x52, 0x43, 0x28, 0x00, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x6a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf9, 0xbd, 0x19, 0xa1, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x51, 0xb3, 0xd1,
};
static const unsigned char rt_spec_record_2[40] = {
    0x4d, 0x53, 0x52, 0x43, 0x28, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x6a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa3, 0xc8, 0x92, 0x7f, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x24, 0x57, 0x4d, 0x49,
};

/* Writes the example snapshot of SPEC.md 5.4 with `zlevel` and checks the
 * file against the spec's header, record header and payload. */
static void rt_spec_write(const char *dir, int zlevel, const unsigned char *want_header,
                          const unsigned char *want_record, uint64_t want_comp)
{
    char *path = tf_path(dir, "spec.msnap");
    unlink(path);
    int err;
    char msg[256];
    ms_writer *w = ms_writer_open(path, MS_CREATE, "memsnap-capture 0.1.0", zlevel, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    ms_table *snap = ms_table_new(MS_SEC_SNAPSHOT), *ps = ms_table_new(MS_SEC_PROC_STATUS);
    ms_table *maps = ms_table_new(MS_SEC_MAPPINGS);
    rt_ok(ms_table_row(snap));
    rt_ok(ms_table_u64(snap, MS_SNAP_SEQ, 0));
    rt_ok(ms_table_u64(snap, MS_SNAP_PID, 1234));
    rt_ok(ms_table_cstr(snap, MS_SNAP_AGENT, "memsnap-capture 0.1.0"));
    static const struct {
        const char *name, *unit;
        uint64_t value;
    } kv[] = {{"VmRSS", "kB", 20480}, {"VmSwap", "kB", 0}, {"Threads", NULL, 4}};
    for (size_t i = 0; i < 3; i++) {
        rt_ok(ms_table_row(ps));
        rt_ok(ms_table_cstr(ps, MS_KV_NAME, kv[i].name));
        rt_ok(ms_table_u64(ps, MS_KV_VALUE, kv[i].value));
        rt_ok(ms_table_cstr(ps, MS_KV_UNIT, kv[i].unit));
    }
    for (uint64_t a = 0x400000; a <= 0x402000; a += 0x1000) {
        rt_ok(ms_table_row(maps));
        rt_ok(ms_table_u64(maps, MS_MAP_START, a));
    }
    rt_ok(ms_writer_begin(w));
    rt_ok(ms_writer_add(w, snap));
    rt_ok(ms_writer_add(w, ps));
    rt_ok(ms_writer_add(w, maps));
    rt_ok(ms_writer_end(w, 0));
    assert_int_equal(ms_writer_close(w), 0);
    ms_table_free(snap);
    ms_table_free(ps);
    ms_table_free(maps);
    size_t len;
    unsigned char *file = tf_read_file(path, &len);
    assert_memory_equal(file, want_header, 64);
    tf_record rec;
    assert_int_equal(tf_records(file, len, &rec, 1), 1);
    const unsigned char *h = file + 64;
    assert_memory_equal(h, "MSRC\x28\0\0\0", 8);
    assert_int_equal(rec.raw, sizeof rt_spec_payload);
    assert_int_equal(ms_get_le32(h + 24), ms_crc32c(0, h + 40, (size_t)rec.comp));
    assert_int_equal(h[28], want_record[28]);
    for (int i = 29; i < 36; i++) assert_int_equal(h[i], 0);
    assert_int_equal(ms_get_le32(h + 36), ms_crc32c(0, h, 36));
    assert_memory_equal(h + 16, want_record + 16, 8); /* raw_size */
    if (rec.comp == want_comp) /* the zstd of appendix A: the same frame, so the same header and CRCs */
        assert_memory_equal(h, want_record, 40);
    if (h[28] == MS_CODEC_ZSTD_DICT1) assert_int_equal(ZSTD_getDictID_fromFrame(h + 40, (size_t)rec.comp), MS_DICT1_ID);
    else assert_int_equal(ZSTD_getDictID_fromFrame(h + 40, (size_t)rec.comp), 0);
    unsigned char *raw = tf_record_payload(file, &rec);
    assert_memory_equal(raw, rt_spec_payload, sizeof rt_spec_payload);
    unsigned long long fcs = ZSTD_getFrameContentSize(h + 40, (size_t)rec.comp);
    assert_true(fcs == sizeof rt_spec_payload);
    free(raw);
    free(file);
    free(path);
}

static void test_spec_vectors(void **state)
{
    /* the writer produces the spec's bytes */
    rt_spec_write(*state, 9 | MS_ZLEVEL_NO_DICT, rt_spec_header, rt_spec_record, 119);
    rt_spec_write(*state, 9, rt_spec_header_11, rt_spec_record_2, 80);
    static const struct {
        const char *name, *unit;
        uint64_t value;
    } kv[] = {{"VmRSS", "kB", 20480}, {"VmSwap", "kB", 0}, {"Threads", NULL, 4}};

    /* the reader decodes the spec's bytes into the spec's values */
    ms_snapshot *s = NULL;
    char pmsg[256];
    tf_assert_err(ms_payload_parse(rt_spec_payload, sizeof rt_spec_payload, &s, pmsg, sizeof pmsg),
                  0, pmsg);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_SNAPSHOT);
    rt_expect_u64(sec, MS_SNAP_SEQ, 0, 0);
    rt_expect_u64(sec, MS_SNAP_PID, 0, 1234);
    rt_expect_str(sec, MS_SNAP_AGENT, 0, "memsnap-capture 0.1.0", 21);
    sec = ms_snapshot_section(s, MS_SEC_PROC_STATUS);
    for (size_t i = 0; i < 3; i++) {
        rt_expect_str(sec, MS_KV_NAME, i, kv[i].name, strlen(kv[i].name));
        rt_expect_u64(sec, MS_KV_VALUE, i, kv[i].value);
        rt_expect_str(sec, MS_KV_UNIT, i, kv[i].unit, kv[i].unit ? 2 : 0);
    }
    sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    for (size_t i = 0; i < 3; i++) rt_expect_u64(sec, MS_MAP_START, i, 0x400000 + 0x1000 * i);
    ms_snapshot_free(s);

    /* varints and zigzag (appendix A) */
    static const struct {
        const char *bytes;
        size_t n;
        int ok;
        uint64_t value;
    } vv[] = {
        {"\x00", 1, 1, 0},
        {"\x7f", 1, 1, 127},
        {"\x80\x01", 2, 1, 128},
        {"\xac\x02", 2, 1, 300},
        {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10, 1, UINT64_MAX},
        {"\x80\x00", 2, 0, 0},
        {"\x81\x80\x00", 3, 0, 0},
        {"\x80", 1, 0, 0},
        {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10, 0, 0},
        {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00", 11, 0, 0},
    };
    for (size_t i = 0; i < sizeof vv / sizeof vv[0]; i++) {
        const unsigned char *p = (const unsigned char *)vv[i].bytes;
        uint64_t v = 12345;
        int rc = ms_varint_get(&p, p + vv[i].n, &v);
        if (vv[i].ok) {
            assert_int_equal(rc, 0);
            assert_true(v == vv[i].value);
            assert_ptr_equal(p, (const unsigned char *)vv[i].bytes + vv[i].n);
            unsigned char out[MS_VARINT_MAX];
            assert_int_equal(ms_varint_put(out, v), vv[i].n);
            assert_memory_equal(out, vv[i].bytes, vv[i].n);
            assert_int_equal(ms_varint_len(v), vv[i].n);
        } else {
            if (rc != -1) fail_msg("varint vector %zu was accepted", i);
            assert_ptr_equal(p, (const unsigned char *)vv[i].bytes); /* not advanced */
        }
    }
    static const struct {
        int64_t s;
        uint64_t u;
    } zz[] = {{0, 0}, {-1, 1}, {1, 2}, {-2, 3}, {INT64_MAX, UINT64_MAX - 1}, {INT64_MIN, UINT64_MAX}};
    for (size_t i = 0; i < sizeof zz / sizeof zz[0]; i++) {
        assert_true(ms_zigzag(zz[i].s) == zz[i].u);
        assert_true(ms_unzigzag(zz[i].u) == zz[i].s);
    }
}

/* ------------------------------------------------------------ error names */

#define RT_E(c) {c, #c}
static const struct {
    int code;
    const char *id;
} rt_errs[] = {
    RT_E(MS_OK),           RT_E(MS_ERR_IO),        RT_E(MS_ERR_NOMEM),   RT_E(MS_ERR_MAGIC),
    RT_E(MS_ERR_VERSION),  RT_E(MS_ERR_TRUNCATED), RT_E(MS_ERR_CHECKSUM), RT_E(MS_ERR_CORRUPT),
    RT_E(MS_ERR_LIMIT),    RT_E(MS_ERR_ZSTD),      RT_E(MS_ERR_UNSUPPORTED), RT_E(MS_ERR_USAGE),
    RT_E(MS_ERR_EXISTS),   RT_E(MS_ERR_NOSPACE),   RT_E(MS_ERR_END),
};

static void test_error_names(void **state)
{
    (void)state;
    const size_t n = sizeof rt_errs / sizeof rt_errs[0];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rt_errs[i].code, -(int)i); /* never renumbered */
        const char *text = ms_strerror(rt_errs[i].code), *id = ms_errname(rt_errs[i].code);
        assert_non_null(text);
        assert_non_null(id);
        assert_true(text[0] != 0);
        assert_string_equal(id, rt_errs[i].id);
        assert_string_not_equal(text, ms_strerror(-999));
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(text, ms_strerror(rt_errs[j].code));
            assert_string_not_equal(id, ms_errname(rt_errs[j].code));
        }
    }
    assert_string_equal(ms_strerror(MS_ERR_CHECKSUM), "checksum mismatch");
    assert_string_equal(ms_strerror(-999), "unknown error");
    assert_string_equal(ms_strerror(1), "unknown error");
    assert_non_null(ms_errname(-999));
    assert_true(ms_errname(-999)[0] != 0);
}

/* ------------------------------------------------------ encoding choices */

/* SPEC.md 5.3: the writer picks, per column, the method that suits the
 * data; whatever it picks, every value reads back. A mappings-like table
 * whose columns each call for one method, and strings that do. */
static void test_writer_methods(void **state)
{
    enum { N = 3000 };
    ms_table *t = ms_table_new(MS_SEC_MAPPINGS), *ty = ms_table_new(MS_SEC_PY_TYPES);
    assert_non_null(t);
    assert_non_null(ty);
    tf_rng rng = {99};
    uint64_t addr = 0x7f0000000000u;
    static const char *const vmf[] = {"rd wr mr mw me ac", "mr mw me", "rd mr mw me"};
    uint64_t *st = malloc(N * sizeof *st), *en = malloc(N * sizeof *en), *rss = malloc(N * sizeof *rss);
    assert_non_null(st);
    assert_non_null(en);
    assert_non_null(rss);
    for (size_t i = 0; i < N; i++) {
        uint64_t pages = 1 + tf_rand(&rng) % 300;
        st[i] = addr;
        en[i] = addr + pages * 4096;
        rss[i] = tf_rand(&rng) % 4 ? pages * 4 : (tf_rand(&rng) % (pages + 1)) * 4;
        addr = en[i] + (tf_rand(&rng) % 3 ? 0 : 4096 * (tf_rand(&rng) % 50));
        rt_ok(ms_table_row(t));
        rt_ok(ms_table_u64(t, MS_MAP_START, st[i]));
        rt_ok(ms_table_u64(t, MS_MAP_END, en[i]));
        rt_ok(ms_table_u64(t, MS_MAP_PERMS, 19));                 /* one value: CONST */
        rt_ok(ms_table_u64(t, MS_MAP_SIZE, pages * 4));           /* (end - start) >> 10: SPAN */
        rt_ok(ms_table_u64(t, MS_MAP_RSS, rss[i]));               /* mostly = size: REF */
        rt_ok(ms_table_u64(t, MS_MAP_PSS, rss[i]));               /* = rss: REF */
        rt_ok(ms_table_u64(t, MS_MAP_REFERENCED, 1000000 + 3 * i)); /* grows slowly: DELTA */
        rt_ok(ms_table_cstr(t, MS_MAP_VMFLAGS, vmf[i % 3]));
    }
    char name[64];
    for (size_t i = 0; i < N; i++) {
        rt_ok(ms_table_row(ty));
        snprintf(name, sizeof name, "Class%zu", i % 10 == 9 ? i / 2 : i); /* mostly new names */
        rt_ok(ms_table_cstr(ty, MS_TY_NAME, name));
        rt_ok(ms_table_cstr(ty, MS_TY_QUALNAME, name));               /* = name: REF */
        rt_ok(ms_table_i64(ty, 300, -5));                             /* signed constant */
    }
    unsigned char *file;
    size_t len;
    ms_table *tabs[2] = {t, ty};
    ms_snapshot *s = rt_write_read(*state, tabs, 2, NULL, &file, &len);
    struct {
        unsigned sec, col, enc;
    } want[] = {
        {MS_SEC_MAPPINGS, MS_MAP_START, ms_enc_byte(MS_T_U64, MS_M_GAP, 1)},
        {MS_SEC_MAPPINGS, MS_MAP_END, ms_enc_byte(MS_T_U64, MS_M_REF, 1)},
        {MS_SEC_MAPPINGS, MS_MAP_PERMS, ms_enc_byte(MS_T_U64, MS_M_CONST, 0)},
        {MS_SEC_MAPPINGS, MS_MAP_SIZE, ms_enc_byte(MS_T_U64, MS_M_SPAN, 0)},
        {MS_SEC_MAPPINGS, MS_MAP_RSS, ms_enc_byte(MS_T_U64, MS_M_REF, 1)},
        {MS_SEC_MAPPINGS, MS_MAP_PSS, ms_enc_byte(MS_T_U64, MS_M_REF, 0)},
        {MS_SEC_MAPPINGS, MS_MAP_REFERENCED, ms_enc_byte(MS_T_U64, MS_M_DELTA, 0)},
        {MS_SEC_PY_TYPES, MS_TY_NAME, ms_enc_byte(MS_T_STR, MS_M_SEQ, 0)},
        {MS_SEC_PY_TYPES, MS_TY_QUALNAME, ms_enc_byte(MS_T_STR, MS_M_REF, 0)},
        {MS_SEC_PY_TYPES, 300, ms_enc_byte(MS_T_I64, MS_M_CONST, 0)},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        unsigned got = rt_encoding(file, len, want[k].sec, want[k].col);
        if (got != want[k].enc)
            fail_msg("section %u column %u: encoding 0x%02x, want 0x%02x", want[k].sec, want[k].col, got,
                     want[k].enc);
    }
    free(file);
    const ms_section *sm = ms_snapshot_section(s, MS_SEC_MAPPINGS), *sy = ms_snapshot_section(s, MS_SEC_PY_TYPES);
    for (size_t i = 0; i < N; i++) {
        rt_expect_u64(sm, MS_MAP_START, i, st[i]);
        rt_expect_u64(sm, MS_MAP_END, i, en[i]);
        rt_expect_u64(sm, MS_MAP_PERMS, i, 19);
        rt_expect_u64(sm, MS_MAP_SIZE, i, (en[i] - st[i]) / 1024);
        rt_expect_u64(sm, MS_MAP_RSS, i, rss[i]);
        rt_expect_u64(sm, MS_MAP_PSS, i, rss[i]);
        rt_expect_u64(sm, MS_MAP_REFERENCED, i, 1000000 + 3 * i);
        rt_expect_str(sm, MS_MAP_VMFLAGS, i, vmf[i % 3], strlen(vmf[i % 3]));
        snprintf(name, sizeof name, "Class%zu", i % 10 == 9 ? i / 2 : i);
        rt_expect_str(sy, MS_TY_NAME, i, name, strlen(name));
        rt_expect_str(sy, MS_TY_QUALNAME, i, name, strlen(name));
        rt_expect_i64(sy, 300, i, -5);
    }
    /* the span and the references cost (almost) nothing: the three columns
     * equal to others take a byte a row before compression, at most */
    ms_snapshot_free(s);
    ms_table_free(t);
    ms_table_free(ty);
    free(st);
    free(en);
    free(rss);
}

/* A table of rows must hold a byte per row (SPEC.md 5.2): when every
 * column is constant the writer keeps the first one PLAIN; with one row it
 * stores no column CONST (PLAIN is as small, and plainer), and shifts a
 * value only when the shift byte pays for itself. */
static void test_writer_constant_tables(void **state)
{
    ms_table *t = ms_table_new(MS_SEC_PY_GC), *one = ms_table_new(MS_SEC_PY_ALLOC_TOTALS);
    for (int r = 0; r < 500; r++) {
        rt_ok(ms_table_row(t));
        rt_ok(ms_table_u64(t, MS_GC_GENERATION, 2));
        rt_ok(ms_table_u64(t, MS_GC_COUNT, UINT64_MAX));
    }
    rt_ok(ms_table_row(one));
    rt_ok(ms_table_u64(one, MS_AT_ARENAS, 5));
    rt_ok(ms_table_u64(one, MS_AT_ARENA_BYTES, 5 << 20));
    unsigned char *file;
    size_t len;
    ms_table *tabs[2] = {t, one};
    ms_snapshot *s = rt_write_read(*state, tabs, 2, NULL, &file, &len);
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_GC, MS_GC_GENERATION), ms_enc_byte(MS_T_U64, MS_M_PLAIN, 0));
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_GC, MS_GC_COUNT), ms_enc_byte(MS_T_U64, MS_M_CONST, 0));
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_ALLOC_TOTALS, MS_AT_ARENAS), ms_enc_byte(MS_T_U64, MS_M_PLAIN, 0));
    /* 5 << 20: 5 and a shift byte of 20 take 2 bytes, the plain varint 4 */
    assert_int_equal(rt_encoding(file, len, MS_SEC_PY_ALLOC_TOTALS, MS_AT_ARENA_BYTES), ms_enc_byte(MS_T_U64, MS_M_PLAIN, 1));
    free(file);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_PY_GC);
    assert_int_equal(ms_section_nrows(sec), 500);
    for (size_t r = 0; r < 500; r++) {
        rt_expect_u64(sec, MS_GC_GENERATION, r, 2);
        rt_expect_u64(sec, MS_GC_COUNT, r, UINT64_MAX);
    }
    rt_expect_u64(ms_snapshot_section(s, MS_SEC_PY_ALLOC_TOTALS), MS_AT_ARENA_BYTES, 0, 5 << 20);
    ms_snapshot_free(s);
    ms_table_free(t);
    ms_table_free(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_matches_header),
        RT_TEST(test_every_section_every_column),
        RT_TEST(test_empty_tables),
        RT_TEST(test_huge_mappings),
        RT_TEST(test_unset_cells),
        RT_TEST(test_column_take),
        RT_TEST(test_integer_extremes),
        RT_TEST(test_writer_methods),
        RT_TEST(test_writer_constant_tables),
        RT_TEST(test_strings),
        RT_TEST(test_unknown_columns),
        RT_TEST(test_unknown_section),
        cmocka_unit_test(test_table_new_bounds),
        RT_TEST(test_column_type_misuse),
        RT_TEST(test_writer_misuse),
        RT_TEST(test_one_row_sections),
        RT_TEST(test_many_snapshots),
        RT_TEST(test_writer_id),
        RT_TEST(test_kv_find),
        cmocka_unit_test(test_crc32c),
        RT_TEST(test_spec_vectors),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

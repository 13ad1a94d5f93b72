/*
 * format_test_util.c - shared helpers of the libmsformat tests (see
 * format_test_util.h). The sample series lives here so the truncation,
 * corruption and append tests check contents against values they compute
 * themselves, never against what the library read back earlier.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp */
#endif
#include "format_test_util.h"

#include "msnap_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

/* ------------------------------------------------------------- temp files */

char *tf_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t n = strlen(base) + sizeof "/msnap-test-XXXXXX";
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/msnap-test-XXXXXX", base);
    if (!mkdtemp(p)) fail_msg("mkdtemp %s: %s", p, strerror(errno));
    return p;
}

void tf_rmdir_all(char *dir)
{
    if (!dir) return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = tf_path(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

char *tf_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

unsigned char *tf_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("open %s: %s", path, strerror(errno));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

void tf_write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("create %s: %s", path, strerror(errno));
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------ random */

uint64_t tf_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

uint64_t tf_rand(tf_rng *r)
{
    uint64_t v = tf_mix(r->s);
    r->s += 0x9e3779b97f4a7c15u;
    return v;
}

void tf_rand_bytes(tf_rng *r, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        uint64_t v = tf_rand(r);
        size_t k = n < 8 ? n : 8;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

/* ---------------------------------------------------------------- reading */

static void tf_read_all(ms_reader *r, tf_readout *out)
{
    const char *wid = NULL;
    ms_reader_version(r, &out->major, &out->minor, &wid);
    assert_non_null(wid);
    snprintf(out->writer_id, sizeof out->writer_id, "%s", wid);
    size_t cap = 0;
    for (;;) {
        ms_snapshot *s = (ms_snapshot *)&cap; /* must be overwritten with NULL on error */
        int rc = ms_reader_next(r, &s);
        if (rc) {
            assert_null(s);
            assert_true(rc < 0);
            out->rc = rc;
            break;
        }
        assert_non_null(s);
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            out->snaps = realloc(out->snaps, cap * sizeof *out->snaps);
            assert_non_null(out->snaps);
        }
        out->snaps[out->n++] = s;
        assert_true(out->n < 1000000);
    }
    out->err_off = ms_reader_error_offset(r);
    snprintf(out->msg, sizeof out->msg, "%s", ms_reader_error(r));
    /* errors are sticky: the next call repeats the same one */
    ms_snapshot *again = (ms_snapshot *)&cap;
    assert_int_equal(ms_reader_next(r, &again), out->rc);
    assert_null(again);
    assert_int_equal(ms_reader_error_offset(r), out->err_off);
    ms_reader_close(r);
}

void tf_read_mem(const void *buf, size_t len, const char *name, unsigned flags, uint64_t max_raw,
                 tf_readout *out)
{
    memset(out, 0, sizeof *out);
    int err = 1;
    ms_reader *r = ms_reader_open_mem(buf, len, name, flags, &err, out->msg, sizeof out->msg);
    if (!r) {
        assert_true(err < 0);
        out->rc = err;
        return;
    }
    assert_int_equal(err, 0);
    out->opened = 1;
    if (max_raw) ms_reader_set_max_raw(r, max_raw);
    tf_read_all(r, out);
}

void tf_read_path(const char *path, unsigned flags, tf_readout *out)
{
    memset(out, 0, sizeof *out);
    int err = 1;
    ms_reader *r = ms_reader_open(path, flags, &err, out->msg, sizeof out->msg);
    if (!r) {
        assert_true(err < 0);
        out->rc = err;
        return;
    }
    assert_int_equal(err, 0);
    out->opened = 1;
    tf_read_all(r, out);
}

void tf_readout_free(tf_readout *o)
{
    for (size_t i = 0; i < o->n; i++) ms_snapshot_free(o->snaps[i]);
    free(o->snaps);
    o->snaps = NULL;
    o->n = 0;
}

void tf_assert_snapshot_equal(const ms_snapshot *a, const ms_snapshot *b)
{
    uint64_t ao, ac, ar, bo, bc, br;
    ms_snapshot_sizes(a, &ao, &ac, &ar);
    ms_snapshot_sizes(b, &bo, &bc, &br);
    assert_int_equal(ao, bo);
    assert_int_equal(ac, bc);
    assert_int_equal(ar, br);
    assert_int_equal(ms_snapshot_codec(a), ms_snapshot_codec(b));
    tf_assert_content_equal(a, b);
}

void tf_assert_content_equal(const ms_snapshot *a, const ms_snapshot *b)
{
    assert_int_equal(ms_snapshot_nsections(a), ms_snapshot_nsections(b));
    for (size_t i = 0; i < ms_snapshot_nsections(a); i++) {
        const ms_section *sa = ms_snapshot_section_at(a, i), *sb = ms_snapshot_section_at(b, i);
        assert_non_null(sa);
        assert_non_null(sb);
        assert_int_equal(ms_section_type_of(sa), ms_section_type_of(sb));
        assert_int_equal(ms_section_bytes(sa), ms_section_bytes(sb));
        assert_int_equal(ms_section_nrows(sa), ms_section_nrows(sb));
        assert_int_equal(ms_section_ncols(sa), ms_section_ncols(sb));
        for (size_t j = 0; j < ms_section_ncols(sa); j++) {
            unsigned ca, cb;
            ms_coltype ta, tb;
            assert_int_equal(ms_section_col_at(sa, j, &ca, &ta), 0);
            assert_int_equal(ms_section_col_at(sb, j, &cb, &tb), 0);
            assert_int_equal(ca, cb);
            assert_int_equal(ta, tb);
            for (size_t row = 0; row < ms_section_nrows(sa); row++) {
                if (ta == MS_T_STR) {
                    const char *s1, *s2;
                    size_t l1, l2;
                    assert_int_equal(ms_get_str(sa, ca, row, &s1, &l1), 1);
                    assert_int_equal(ms_get_str(sb, cb, row, &s2, &l2), 1);
                    assert_int_equal(s1 == NULL, s2 == NULL);
                    assert_int_equal(l1, l2);
                    if (s1) assert_memory_equal(s1, s2, l1);
                } else if (ta == MS_T_I64) {
                    int64_t v1, v2;
                    assert_int_equal(ms_get_i64(sa, ca, row, &v1), 1);
                    assert_int_equal(ms_get_i64(sb, cb, row, &v2), 1);
                    assert_true(v1 == v2);
                } else {
                    uint64_t v1, v2;
                    assert_int_equal(ms_get_u64(sa, ca, row, &v1), 1);
                    assert_int_equal(ms_get_u64(sb, cb, row, &v2), 1);
                    assert_true(v1 == v2);
                }
            }
        }
    }
}

uint64_t tf_walk_snapshot(const ms_snapshot *s)
{
    uint64_t h = 0;
    size_t nsec = ms_snapshot_nsections(s);
    assert_null(ms_snapshot_section_at(s, nsec));
    for (size_t i = 0; i < nsec; i++) {
        const ms_section *sec = ms_snapshot_section_at(s, i);
        assert_non_null(sec);
        size_t nrows = ms_section_nrows(sec), ncols = ms_section_ncols(sec);
        h = tf_mix(h ^ ms_section_type_of(sec));
        assert_int_equal(ms_section_col_at(sec, ncols, NULL, NULL), MS_ERR_USAGE);
        unsigned prev = 0;
        for (size_t j = 0; j < ncols; j++) {
            unsigned col;
            ms_coltype t;
            assert_int_equal(ms_section_col_at(sec, j, &col, &t), 0);
            assert_true(col > prev); /* ids strictly increase */
            prev = col;
            assert_int_equal(ms_section_has(sec, col), 1);
            for (size_t row = 0; row <= nrows; row++) {
                uint64_t u;
                int64_t v;
                const char *str;
                size_t len;
                int want = row < nrows; /* one past the end must read as absent */
                assert_int_equal(ms_get_u64(sec, col, row, &u), want && t == MS_T_U64);
                assert_int_equal(ms_get_i64(sec, col, row, &v), want && t == MS_T_I64);
                assert_int_equal(ms_get_str(sec, col, row, &str, &len), want && t == MS_T_STR);
                if (t != MS_T_U64 || !want) assert_true(u == 0);
                if (t != MS_T_I64 || !want) assert_true(v == 0);
                if (str) {
                    assert_int_equal(str[len], 0); /* the documented convenience NUL */
                    h = tf_mix(h ^ len ^ (len ? (unsigned char)str[len - 1] : 0));
                } else {
                    assert_int_equal(len, 0);
                }
                h = tf_mix(h ^ u ^ (uint64_t)v);
            }
        }
    }
    return h;
}

/* ------------------------------------------------------ the sample series */

static const char tf_cmdline[] = "python3\0-m\0app\0"; /* 16 bytes with the last NUL */

static size_t tf_sample_nmaps(unsigned seq)
{
    return 2 + seq % 4;
}

static uint64_t tf_sample_map_start(unsigned seq, size_t i)
{
    return 0x400000u + (uint64_t)i * 0x10000u + (uint64_t)seq * 0x1000000u;
}

static const char *tf_sample_map_path(size_t i)
{
    return i % 3 == 0 ? NULL : i % 3 == 1 ? "/usr/bin/python3" : "[heap]";
}

static void tf_sample_id(unsigned seq, unsigned char id[16])
{
    uint64_t a = tf_mix(seq), b = tf_mix(seq + 1000u);
    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}

static unsigned char *tf_sample_noise(unsigned seq, size_t noise)
{
    unsigned char *p = malloc(noise ? noise : 1);
    assert_non_null(p);
    tf_rng rng = {0xfeedu + seq};
    tf_rand_bytes(&rng, p, noise);
    return p;
}

static void tf_ok(int rc)
{
    tf_assert_err(rc, 0, "building a sample table");
}

void tf_sample_write(ms_writer *w, unsigned seq, size_t noise)
{
    tf_assert_err(tf_sample_try(w, seq, noise, 0), 0, ms_writer_error(w));
}

int tf_sample_try(ms_writer *w, unsigned seq, size_t noise, int durable)
{
    ms_table *t;
    unsigned char id[16];
    tf_assert_err(ms_writer_begin(w), 0, ms_writer_error(w));

    t = ms_table_new(MS_SEC_SNAPSHOT);
    assert_non_null(t);
    tf_sample_id(seq, id);
    tf_ok(ms_table_row(t));
    tf_ok(ms_table_str(t, MS_SNAP_ID, id, sizeof id));
    tf_ok(ms_table_u64(t, MS_SNAP_SEQ, seq));
    tf_ok(ms_table_u64(t, MS_SNAP_WALL_NS, 1700000000123456789u + (uint64_t)seq * 1000000007u));
    tf_ok(ms_table_u64(t, MS_SNAP_PID, 4242));
    tf_ok(ms_table_cstr(t, MS_SNAP_AGENT, "memsnap-test 1.0"));
    tf_ok(ms_table_u64(t, MS_SNAP_FLAGS, seq & 3));
    tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
    ms_table_free(t);

    t = ms_table_new(MS_SEC_PROC_STATUS);
    assert_non_null(t);
    tf_ok(ms_table_row(t));
    tf_ok(ms_table_cstr(t, MS_KV_NAME, "VmRSS"));
    tf_ok(ms_table_u64(t, MS_KV_VALUE, 1000u + seq));
    tf_ok(ms_table_cstr(t, MS_KV_UNIT, "kB"));
    tf_ok(ms_table_row(t));
    tf_ok(ms_table_cstr(t, MS_KV_NAME, "VmHWM"));
    tf_ok(ms_table_u64(t, MS_KV_VALUE, 2000u + seq));
    tf_ok(ms_table_cstr(t, MS_KV_UNIT, "kB"));
    tf_ok(ms_table_row(t));
    tf_ok(ms_table_cstr(t, MS_KV_NAME, "Threads"));
    tf_ok(ms_table_u64(t, MS_KV_VALUE, 3u + seq));
    tf_ok(ms_table_null(t, MS_KV_UNIT));
    tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
    ms_table_free(t);

    if (seq % 2 == 0) {
        t = ms_table_new(MS_SEC_PROCESS);
        assert_non_null(t);
        tf_ok(ms_table_row(t));
        tf_ok(ms_table_u64(t, MS_PROC_PID, 4242));
        tf_ok(ms_table_u64(t, MS_PROC_PPID, 1));
        tf_ok(ms_table_cstr(t, MS_PROC_COMM, "python3"));
        tf_ok(ms_table_str(t, MS_PROC_CMDLINE, tf_cmdline, sizeof tf_cmdline - 1));
        tf_ok(ms_table_i64(t, MS_PROC_OOM_SCORE_ADJ, -1000 + (int64_t)seq));
        tf_ok(ms_table_cstr(t, MS_PROC_STATE, "S"));
        tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
        ms_table_free(t);
    }

    t = ms_table_new(MS_SEC_MAPPINGS);
    assert_non_null(t);
    for (size_t i = 0; i < tf_sample_nmaps(seq); i++) {
        uint64_t start = tf_sample_map_start(seq, i);
        tf_ok(ms_table_row(t));
        tf_ok(ms_table_u64(t, MS_MAP_START, start));
        tf_ok(ms_table_u64(t, MS_MAP_END, start + 0x1000u * (i + 1)));
        tf_ok(ms_table_u64(t, MS_MAP_PERMS, i % 32));
        tf_ok(ms_table_cstr(t, MS_MAP_PATH, tf_sample_map_path(i)));
        tf_ok(ms_table_u64(t, MS_MAP_RSS, tf_mix(seq * 100u + i) % 100000u));
    }
    tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
    ms_table_free(t);

    if (seq % 3 == 1) {
        t = ms_table_new(MS_SEC_CGROUP);
        assert_non_null(t);
        tf_ok(ms_table_row(t));
        tf_ok(ms_table_u64(t, MS_CG_VERSION, 2));
        tf_ok(ms_table_cstr(t, MS_CG_PATH, "/system.slice/app.service"));
        tf_ok(ms_table_u64(t, MS_CG_CURRENT, 123456789u + seq));
        tf_ok(ms_table_u64(t, MS_CG_MAX, UINT64_MAX));
        tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
        ms_table_free(t);
    }

    if (noise) {
        unsigned char *p = tf_sample_noise(seq, noise);
        t = ms_table_new(MS_SEC_DIAGNOSTICS);
        assert_non_null(t);
        tf_ok(ms_table_row(t));
        tf_ok(ms_table_cstr(t, MS_DG_AREA, "noise"));
        tf_ok(ms_table_u64(t, MS_DG_STATUS, 4));
        tf_ok(ms_table_str(t, MS_DG_MESSAGE, p, noise));
        tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
        ms_table_free(t);
        free(p);
    }
    return ms_writer_end(w, durable);
}

static void tf_check_u64(const ms_section *sec, unsigned col, size_t row, uint64_t want)
{
    uint64_t v = 0;
    if (ms_get_u64(sec, col, row, &v) != 1 || v != want)
        fail_msg("section %u column %u row %zu: got %llu, want %llu", ms_section_type_of(sec), col,
                 row, (unsigned long long)v, (unsigned long long)want);
}

static void tf_check_i64(const ms_section *sec, unsigned col, size_t row, int64_t want)
{
    int64_t v = 0;
    if (ms_get_i64(sec, col, row, &v) != 1 || v != want)
        fail_msg("section %u column %u row %zu: got %lld, want %lld", ms_section_type_of(sec), col,
                 row, (long long)v, (long long)want);
}

/* want NULL: a null string. */
static void tf_check_str(const ms_section *sec, unsigned col, size_t row, const void *want,
                         size_t wlen)
{
    const char *s;
    size_t len;
    assert_int_equal(ms_get_str(sec, col, row, &s, &len), 1);
    if (!want) {
        assert_null(s);
        assert_int_equal(len, 0);
        return;
    }
    assert_non_null(s);
    assert_int_equal(len, wlen);
    assert_memory_equal(s, want, wlen);
}

void tf_sample_check(const ms_snapshot *s, unsigned seq, size_t noise)
{
    const ms_section *sec;
    size_t want_secs = 3 + (seq % 2 == 0) + (seq % 3 == 1) + (noise > 0);
    assert_int_equal(ms_snapshot_nsections(s), want_secs);
    size_t at = 0;

    sec = ms_snapshot_section_at(s, at++);
    assert_ptr_equal(sec, ms_snapshot_section(s, MS_SEC_SNAPSHOT));
    assert_int_equal(ms_section_nrows(sec), 1);
    assert_int_equal(ms_section_ncols(sec), 6);
    unsigned char id[16];
    tf_sample_id(seq, id);
    tf_check_str(sec, MS_SNAP_ID, 0, id, sizeof id);
    tf_check_u64(sec, MS_SNAP_SEQ, 0, seq);
    tf_check_u64(sec, MS_SNAP_WALL_NS, 0, 1700000000123456789u + (uint64_t)seq * 1000000007u);
    tf_check_u64(sec, MS_SNAP_PID, 0, 4242);
    tf_check_str(sec, MS_SNAP_AGENT, 0, "memsnap-test 1.0", 16);
    tf_check_u64(sec, MS_SNAP_FLAGS, 0, seq & 3);

    sec = ms_snapshot_section_at(s, at++);
    assert_ptr_equal(sec, ms_snapshot_section(s, MS_SEC_PROC_STATUS));
    assert_int_equal(ms_section_nrows(sec), 3);
    assert_int_equal(ms_section_ncols(sec), 3);
    tf_check_str(sec, MS_KV_NAME, 0, "VmRSS", 5);
    tf_check_u64(sec, MS_KV_VALUE, 0, 1000u + seq);
    tf_check_str(sec, MS_KV_UNIT, 0, "kB", 2);
    tf_check_str(sec, MS_KV_NAME, 1, "VmHWM", 5);
    tf_check_u64(sec, MS_KV_VALUE, 1, 2000u + seq);
    tf_check_str(sec, MS_KV_UNIT, 1, "kB", 2);
    tf_check_str(sec, MS_KV_NAME, 2, "Threads", 7);
    tf_check_u64(sec, MS_KV_VALUE, 2, 3u + seq);
    tf_check_str(sec, MS_KV_UNIT, 2, NULL, 0);

    if (seq % 2 == 0) {
        sec = ms_snapshot_section_at(s, at++);
        assert_ptr_equal(sec, ms_snapshot_section(s, MS_SEC_PROCESS));
        assert_int_equal(ms_section_nrows(sec), 1);
        assert_int_equal(ms_section_ncols(sec), 6);
        tf_check_u64(sec, MS_PROC_PID, 0, 4242);
        tf_check_u64(sec, MS_PROC_PPID, 0, 1);
        tf_check_str(sec, MS_PROC_COMM, 0, "python3", 7);
        tf_check_str(sec, MS_PROC_CMDLINE, 0, tf_cmdline, sizeof tf_cmdline - 1);
        tf_check_i64(sec, MS_PROC_OOM_SCORE_ADJ, 0, -1000 + (int64_t)seq);
        tf_check_str(sec, MS_PROC_STATE, 0, "S", 1);
    } else {
        assert_null(ms_snapshot_section(s, MS_SEC_PROCESS));
    }

    sec = ms_snapshot_section_at(s, at++);
    assert_ptr_equal(sec, ms_snapshot_section(s, MS_SEC_MAPPINGS));
    assert_int_equal(ms_section_nrows(sec), tf_sample_nmaps(seq));
    assert_int_equal(ms_section_ncols(sec), 5);
    for (size_t i = 0; i < tf_sample_nmaps(seq); i++) {
        uint64_t start = tf_sample_map_start(seq, i);
        const char *path = tf_sample_map_path(i);
        tf_check_u64(sec, MS_MAP_START, i, start);
        tf_check_u64(sec, MS_MAP_END, i, start + 0x1000u * (i + 1));
        tf_check_u64(sec, MS_MAP_PERMS, i, i % 32);
        tf_check_str(sec, MS_MAP_PATH, i, path, path ? strlen(path) : 0);
        tf_check_u64(sec, MS_MAP_RSS, i, tf_mix(seq * 100u + i) % 100000u);
    }

    if (seq % 3 == 1) {
        sec = ms_snapshot_section_at(s, at++);
        assert_ptr_equal(sec, ms_snapshot_section(s, MS_SEC_CGROUP));
        assert_int_equal(ms_section_nrows(sec), 1);
        assert_int_equal(ms_section_ncols(sec), 4);
        tf_check_u64(sec, MS_CG_VERSION, 0, 2);
        tf_check_str(sec, MS_CG_PATH, 0, "/system.slice/app.service", 25);
        tf_check_u64(sec, MS_CG_CURRENT, 0, 123456789u + seq);
        tf_check_u64(sec, MS_CG_MAX, 0, UINT64_MAX);
    } else {
        assert_null(ms_snapshot_section(s, MS_SEC_CGROUP));
    }

    if (noise) {
        unsigned char *p = tf_sample_noise(seq, noise);
        sec = ms_snapshot_section_at(s, at++);
        assert_ptr_equal(sec, ms_snapshot_section(s, MS_SEC_DIAGNOSTICS));
        assert_int_equal(ms_section_nrows(sec), 1);
        assert_int_equal(ms_section_ncols(sec), 3);
        tf_check_str(sec, MS_DG_AREA, 0, "noise", 5);
        tf_check_u64(sec, MS_DG_STATUS, 0, 4);
        tf_check_str(sec, MS_DG_MESSAGE, 0, p, noise);
        free(p);
    } else {
        assert_null(ms_snapshot_section(s, MS_SEC_DIAGNOSTICS));
    }
    assert_int_equal(at, want_secs);
}

unsigned char *tf_sample_file(const char *path, unsigned n, const size_t *noise, size_t *len)
{
    return tf_sample_file_z(path, n, noise, 3, len);
}

unsigned char *tf_sample_file_z(const char *path, unsigned n, const size_t *noise, int zlevel, size_t *len)
{
    int err = 1;
    char msg[512] = "";
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "memsnap-test", zlevel, &err, msg, sizeof msg);
    if (!w) fail_msg("ms_writer_open %s: %s (%s)", path, msg, ms_errname(err));
    for (unsigned i = 0; i < n; i++) tf_sample_write(w, i, noise ? noise[i] : 0);
    assert_int_equal(ms_writer_count(w), n);
    assert_int_equal(ms_writer_close(w), 0);
    return tf_read_file(path, len);
}

/* --------------------------------------------------------------- records */

size_t tf_records(const unsigned char *file, size_t len, tf_record *recs, size_t max)
{
    assert_true(len >= MS_FILE_HEADER_SIZE);
    uint64_t off = ms_get_le32(file + 12);
    size_t n = 0;
    while (off < len) {
        assert_true(n < max);
        assert_true(len - off >= MS_RECORD_HEADER_SIZE);
        assert_memory_equal(file + off, MS_RECORD_MAGIC, 4);
        tf_record *r = &recs[n++];
        r->off = off;
        r->hsize = ms_get_le32(file + off + 4);
        r->comp = ms_get_le64(file + off + 8);
        r->raw = ms_get_le64(file + off + 16);
        r->end = off + r->hsize + r->comp;
        r->codec = file[off + 28];
        assert_true(r->end <= len);
        off = r->end;
    }
    return n;
}

unsigned char *tf_record_payload(const unsigned char *file, const tf_record *rec)
{
    unsigned char *raw = malloc((size_t)rec->raw);
    assert_non_null(raw);
    size_t dlen;
    const void *dict = ms_codec_dict(rec->codec, &dlen);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    assert_non_null(d);
    size_t got = ZSTD_decompress_usingDict(d, raw, (size_t)rec->raw, file + rec->off + rec->hsize,
                                           (size_t)rec->comp, dict, dlen);
    ZSTD_freeDCtx(d);
    assert_false(ZSTD_isError(got));
    assert_int_equal(got, rec->raw);
    return raw;
}

unsigned char *tf_record_build(const unsigned char *raw, size_t rawlen, size_t *len)
{
    return tf_record_build_codec(raw, rawlen, MS_CODEC_ZSTD, len);
}

unsigned char *tf_record_build_codec(const unsigned char *raw, size_t rawlen, unsigned codec, size_t *len)
{
    size_t bound = ZSTD_compressBound(rawlen), dlen;
    unsigned char *rec = malloc(MS_RECORD_HEADER_SIZE + bound);
    assert_non_null(rec);
    const void *dict = ms_codec_dict(codec, &dlen);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    assert_non_null(c);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3)));
    if (dict) assert_false(ZSTD_isError(ZSTD_CCtx_loadDictionary(c, dict, dlen)));
    size_t comp = ZSTD_compress2(c, rec + MS_RECORD_HEADER_SIZE, bound, raw, rawlen);
    ZSTD_freeCCtx(c);
    assert_false(ZSTD_isError(comp));
    memset(rec, 0, MS_RECORD_HEADER_SIZE);
    memcpy(rec, MS_RECORD_MAGIC, 4);
    ms_put_le32(rec + 4, MS_RECORD_HEADER_SIZE);
    ms_put_le64(rec + 8, comp);
    ms_put_le64(rec + 16, rawlen);
    ms_put_le32(rec + 24, ms_crc32c(0, rec + MS_RECORD_HEADER_SIZE, comp));
    rec[28] = (unsigned char)codec;
    ms_put_le32(rec + 36, ms_crc32c(0, rec, 36));
    *len = MS_RECORD_HEADER_SIZE + comp;
    return rec;
}

unsigned tf_payload_col_encoding(const unsigned char *raw, size_t rawlen, unsigned type,
                                 unsigned col)
{
    size_t at = tf_payload_col_encoding_at(raw, rawlen, type, col);
    return at ? raw[at] : 0;
}

size_t tf_payload_col_encoding_at(const unsigned char *raw, size_t rawlen, unsigned type,
                                  unsigned col)
{
    const unsigned char *p = raw, *end = raw + rawlen;
    while (p < end) {
        uint64_t t = 0, flags = 0, slen = 0; /* section header: three varints */
        assert_int_equal(ms_varint_get(&p, end, &t), 0);
        assert_int_equal(ms_varint_get(&p, end, &flags), 0);
        assert_int_equal(ms_varint_get(&p, end, &slen), 0);
        assert_true(slen <= (uint64_t)(end - p));
        const unsigned char *send = p + slen;
        if (t == type) {
            uint64_t nrows = 0, ncols = 0;
            assert_int_equal(ms_varint_get(&p, send, &nrows), 0);
            assert_int_equal(ms_varint_get(&p, send, &ncols), 0);
            for (uint64_t k = 0; k < ncols; k++) {
                uint64_t id = 0, dlen = 0;
                assert_int_equal(ms_varint_get(&p, send, &id), 0);
                assert_true(p < send);
                size_t at = (size_t)(p++ - raw);
                assert_int_equal(ms_varint_get(&p, send, &dlen), 0);
                assert_true(dlen <= (uint64_t)(send - p));
                if (id == col) return at;
                p += dlen;
            }
            return 0;
        }
        p = send;
    }
    return 0;
}

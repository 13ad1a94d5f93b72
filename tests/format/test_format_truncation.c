/*
 * test_format_truncation.c - a file cut anywhere still yields every
 * complete snapshot before the cut. Every prefix of a small sample file is
 * read from memory (with and without checksums); a sample of prefixes is
 * read from a real file shortened with ftruncate. The reader must return
 * exactly the records that end at or before the cut, then MS_ERR_END at a
 * record boundary or MS_ERR_TRUNCATED naming the incomplete record's start.
 * A zero-filled tail (what a crash can leave) is a truncation too. The
 * sample's records are codec 2 (the writer's default); every prefix is also
 * tried on a file of codec-1 records.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "format_test_util.h"

#include "msnap_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { TR_NSNAP = 4 };
static const size_t tr_noise[TR_NSNAP] = {0, 40, 0, 200};

typedef struct {
    char *dir;
    char *path;
    unsigned char *file;
    size_t len;
    tf_record recs[TR_NSNAP];
    tf_readout full; /* the whole file, read once */
    int zlevel;      /* ms_writer_open's zlevel for the sample file */
    unsigned codec;  /* the codec its records must have */
} tr_state;

/* Only what cannot fail happens here: cmocka skips the teardown of a
 * test whose setup fails, which would leave the directory behind. */
static int tr_setup(void **state)
{
    tr_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->dir = tf_tmpdir();
    st->zlevel = 3;
    st->codec = MS_CODEC_ZSTD_DICT1;
    *state = st;
    return 0;
}

/* The same with codec-1 records (plain zstd, what a 1.0 writer wrote). */
static int tr_setup_codec1(void **state)
{
    if (tr_setup(state)) return -1;
    tr_state *st = *state;
    st->zlevel = 3 | MS_ZLEVEL_NO_DICT;
    st->codec = MS_CODEC_ZSTD;
    return 0;
}

/* The sample file, written and checked on first use inside a test (so a
 * failure here still gets the teardown). */
static tr_state *tr_get(void **state)
{
    tr_state *st = *state;
    if (st->file) return st;
    st->path = tf_path(st->dir, "trunc.msnap");
    st->file = tf_sample_file_z(st->path, TR_NSNAP, tr_noise, st->zlevel, &st->len);
    assert_int_equal(tf_records(st->file, st->len, st->recs, TR_NSNAP), TR_NSNAP);
    for (unsigned i = 0; i < TR_NSNAP; i++) assert_int_equal(st->recs[i].codec, st->codec);
    tf_read_mem(st->file, st->len, "trunc.msnap", 0, 0, &st->full);
    tf_assert_err(st->full.rc, MS_ERR_END, st->full.msg);
    assert_int_equal(st->full.n, TR_NSNAP);
    for (unsigned i = 0; i < TR_NSNAP; i++) tf_sample_check(st->full.snaps[i], i, tr_noise[i]);
    return st;
}

static int tr_teardown(void **state)
{
    tr_state *st = *state;
    tf_readout_free(&st->full);
    free(st->file);
    free(st->path);
    tf_rmdir_all(st->dir);
    free(st);
    return 0;
}

/* Checks what one pass over the first `cut` bytes of the sample file gave. */
static void tr_expect(const tr_state *st, size_t cut, const tf_readout *o, const char *name)
{
    if (!strstr(o->msg, name) || (o->rc != MS_ERR_END && !strstr(o->msg, "byte ")))
        fail_msg("cut %zu: message lacks the file name or \"byte \": %s", cut, o->msg);
    if (cut < MS_FILE_HEADER_SIZE) {
        if (o->opened) fail_msg("cut %zu: a file shorter than its header was opened", cut);
        tf_assert_err(o->rc, cut == 0 ? MS_ERR_MAGIC : MS_ERR_TRUNCATED, o->msg);
        return;
    }
    if (!o->opened) fail_msg("cut %zu: open failed: %s", cut, o->msg);
    size_t complete = 0;
    int boundary = cut == MS_FILE_HEADER_SIZE;
    for (size_t i = 0; i < TR_NSNAP; i++) {
        if (st->recs[i].end <= cut) complete++;
        if (st->recs[i].end == cut) boundary = 1;
    }
    if (o->n != complete)
        fail_msg("cut %zu: got %zu snapshots, want %zu (%s)", cut, o->n, complete, o->msg);
    for (size_t i = 0; i < complete; i++) tf_assert_snapshot_equal(o->snaps[i], st->full.snaps[i]);
    if (boundary) {
        tf_assert_err(o->rc, MS_ERR_END, o->msg);
        assert_int_equal(o->err_off, cut);
    } else {
        tf_assert_err(o->rc, MS_ERR_TRUNCATED, o->msg);
        uint64_t start = st->recs[complete].off;
        if (o->err_off != start)
            fail_msg("cut %zu: error offset %llu, want %llu (start of the incomplete record)", cut,
                     (unsigned long long)o->err_off, (unsigned long long)start);
        char where[48];
        snprintf(where, sizeof where, "byte %llu:", (unsigned long long)start);
        if (!strstr(o->msg, where)) fail_msg("cut %zu: message does not say %s: %s", cut, where, o->msg);
    }
}

static void test_every_prefix_in_memory(void **state)
{
    tr_state *st = tr_get(state);
    /* small enough to try every length, big enough for varied records */
    assert_true(st->len > 600 && st->len < 8192);
    for (size_t cut = 0; cut <= st->len; cut++) {
        for (unsigned flags = 0; flags <= MS_READ_NO_CHECKSUM; flags += MS_READ_NO_CHECKSUM) {
            /* a copy of exactly `cut` bytes, so ASan sees any read past the end */
            unsigned char *copy = malloc(cut ? cut : 1);
            assert_non_null(copy);
            memcpy(copy, st->file, cut);
            tf_readout o;
            tf_read_mem(copy, cut, "trunc.msnap", flags, 0, &o);
            memset(copy, 0xee, cut); /* the snapshots must not point into the buffer */
            free(copy);
            tr_expect(st, cut, &o, "trunc.msnap");
            tf_readout_free(&o);
        }
    }
}

static int tr_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? 1 : x > y ? -1 : 0; /* descending */
}

/* The same over a file of codec-1 records. */
static void test_every_prefix_in_memory_codec1(void **state)
{
    test_every_prefix_in_memory(state);
}

static void test_prefixes_of_a_real_file(void **state)
{
    tr_state *st = tr_get(state);
    char *path = tf_path(st->dir, "cut.msnap");
    size_t cuts[1024], n = 0;
    for (size_t c = 0; c <= 80; c++) cuts[n++] = c;
    static const int around[] = {-41, -40, -39, -1, 0, 1, 7, 8, 9, 39, 40, 41};
    for (size_t i = 0; i < TR_NSNAP; i++)
        for (size_t k = 0; k < sizeof around / sizeof around[0]; k++) {
            long c = (long)st->recs[i].off + around[k];
            if (c > 80 && (size_t)c <= st->len) cuts[n++] = (size_t)c;
        }
    for (size_t c = 81; c <= st->len && n < 1000; c += 17) cuts[n++] = c;
    cuts[n++] = st->len;
    qsort(cuts, n, sizeof cuts[0], tr_cmp_size);

    tf_write_file(path, st->file, st->len);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    size_t tried = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && cuts[i] == cuts[i - 1]) continue;
        assert_int_equal(ftruncate(fd, (off_t)cuts[i]), 0);
        struct stat sb;
        assert_int_equal(fstat(fd, &sb), 0);
        assert_int_equal((size_t)sb.st_size, cuts[i]);
        tf_readout o;
        tf_read_path(path, 0, &o);
        tr_expect(st, cuts[i], &o, path);
        tf_readout_free(&o);
        tried++;
    }
    close(fd);
    assert_true(tried > 150);
    free(path);
}

/* SPEC.md 3.4 rule 2: a crash can leave zeros where a record should
 * start; that is a truncated tail, not damage. */
static void test_zero_filled_tail(void **state)
{
    tr_state *st = tr_get(state);
    static const size_t zeros[] = {1, 3, 4, 5, 39, 40, 41, 100, 5000};
    for (int at_start = 0; at_start < 2; at_start++)
        for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
            /* after every snapshot, or right after the file header */
            size_t keep = at_start ? MS_FILE_HEADER_SIZE : st->len;
            size_t len = keep + zeros[i];
            unsigned char *b = calloc(1, len);
            assert_non_null(b);
            memcpy(b, st->file, keep);
            tf_readout o;
            tf_read_mem(b, len, "zeros.msnap", 0, 0, &o);
            tf_assert_err(o.rc, MS_ERR_TRUNCATED, o.msg);
            assert_int_equal(o.n, at_start ? 0 : TR_NSNAP);
            assert_int_equal(o.err_off, keep);
            for (size_t k = 0; k < o.n; k++) tf_assert_snapshot_equal(o.snaps[k], st->full.snaps[k]);
            tf_readout_free(&o);
            /* one nonzero byte anywhere in the tail makes it damage */
            b[len - 1 - (zeros[i] - 1) / 2] = 1;
            tf_read_mem(b, len, "zeros.msnap", 0, 0, &o);
            tf_assert_err(o.rc, MS_ERR_CORRUPT, o.msg);
            assert_int_equal(o.n, at_start ? 0 : TR_NSNAP);
            assert_int_equal(o.err_off, keep);
            tf_readout_free(&o);
            free(b);
        }
    /* a complete record header followed by zeros instead of its payload:
     * the header vouches for a payload that is not there, which is damage */
    size_t len = st->len;
    unsigned char *b = malloc(len);
    assert_non_null(b);
    memcpy(b, st->file, len);
    memset(b + st->recs[TR_NSNAP - 1].off + 40, 0, len - (size_t)st->recs[TR_NSNAP - 1].off - 40);
    tf_readout o;
    tf_read_mem(b, len, "zeros.msnap", 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_CHECKSUM, o.msg);
    assert_int_equal(o.n, TR_NSNAP - 1);
    tf_readout_free(&o);
    free(b);
}

static void test_not_a_file(void **state)
{
    tr_state *st = tr_get(state);
    tf_readout o;
    tf_read_mem(NULL, 0, "nothing", 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_MAGIC, o.msg);
    assert_non_null(strstr(o.msg, "nothing"));
    static const char text[] = "hello, this is plain text and not a snapshot file at all......";
    tf_read_mem(text, sizeof text, "text", 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_MAGIC, o.msg);
    tf_read_mem("\x89MS", 3, "short", 0, 0, &o); /* a magic prefix: a cut file */
    tf_assert_err(o.rc, MS_ERR_TRUNCATED, o.msg);
    tf_read_mem("\x89MSX", 4, "short", 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_MAGIC, o.msg);

    char *missing = tf_path(st->dir, "missing.msnap");
    tf_read_path(missing, 0, &o);
    tf_assert_err(o.rc, MS_ERR_IO, o.msg);
    assert_non_null(strstr(o.msg, missing));
    free(missing);
    tf_read_path(st->dir, 0, &o);
    tf_assert_err(o.rc, MS_ERR_IO, o.msg);
    assert_non_null(strstr(o.msg, "directory"));

    int err = 1;
    assert_null(ms_reader_open(NULL, 0, &err, NULL, 0));
    assert_int_equal(err, MS_ERR_USAGE);
    /* NULL-tolerant accessors */
    ms_reader_close(NULL);
    ms_snapshot_free(NULL);
    assert_string_equal(ms_reader_error(NULL), "");
    assert_int_equal(ms_reader_error_offset(NULL), 0);
    assert_int_equal(ms_reader_next(NULL, NULL), MS_ERR_USAGE);
    assert_int_equal(ms_snapshot_nsections(NULL), 0);
    assert_null(ms_snapshot_section(NULL, MS_SEC_SNAPSHOT));
    assert_int_equal(ms_section_nrows(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_prefix_in_memory, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_every_prefix_in_memory_codec1, tr_setup_codec1, tr_teardown),
        cmocka_unit_test_setup_teardown(test_prefixes_of_a_real_file, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_zero_filled_tail, tr_setup, tr_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_file, tr_setup, tr_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

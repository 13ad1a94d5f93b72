/*
 * test_format_append.c - opening modes and failures while writing:
 * MS_CREATE never touches an existing file, MS_TRUNCATE replaces it,
 * MS_APPEND keeps complete snapshots, cuts a tail left by a crash (cut
 * short or zero-filled) and refuses a damaged file; a second writer is
 * refused before it changes anything; a reader follows a file that grows;
 * descriptors (pipes, files) follow ms_writer_fdopen's rules, and a write
 * that cannot be taken back stops the writer; a full disk (/dev/full, and
 * a small tmpfs when running as root) fails cleanly and leaves every
 * earlier snapshot readable.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "format_test_util.h"

#include "msnap_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *dir;
    int mounted; /* a tmpfs is mounted on dir */
} ap_state;

static int ap_setup(void **state)
{
    ap_state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->dir = tf_tmpdir();
    *state = st;
    return 0;
}

/* Runs after a test, failed or not: never leaves a mount behind. */
static int ap_teardown(void **state)
{
    ap_state *st = *state;
    if (st->mounted && umount2(st->dir, MNT_DETACH) != 0)
        fprintf(stderr, "umount %s: %s\n", st->dir, strerror(errno));
    tf_rmdir_all(st->dir);
    free(st);
    return 0;
}

#define AP_TEST(f) cmocka_unit_test_setup_teardown(f, ap_setup, ap_teardown)

static ms_writer *ap_open(const char *path, ms_open_mode mode, int *err, char *msg, size_t len)
{
    *err = 1;
    msg[0] = 0;
    return ms_writer_open(path, mode, "appender", 1, err, msg, len);
}

/* Reads `path` and asserts it holds exactly sample snapshots seqs[0..n). */
static void ap_expect_file(const char *path, const unsigned *seqs, size_t n, const char *writer_id)
{
    tf_readout o;
    tf_read_path(path, 0, &o);
    assert_true(o.opened);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.n, n);
    if (writer_id) assert_string_equal(o.writer_id, writer_id);
    for (size_t i = 0; i < n; i++) tf_sample_check(o.snaps[i], seqs[i], 0);
    tf_readout_free(&o);
}

static void ap_expect_unchanged(const char *path, const unsigned char *before, size_t len)
{
    size_t now_len;
    unsigned char *now = tf_read_file(path, &now_len);
    assert_int_equal(now_len, len);
    assert_memory_equal(now, before, len);
    free(now);
}

static const unsigned ap_seq3[] = {0, 1, 2};

static void test_create_refuses_existing(void **state)
{
    ap_state *st = *state;
    char *path = tf_path(st->dir, "a.msnap");
    size_t len;
    unsigned char *before = tf_sample_file(path, 3, NULL, &len);
    int err;
    char msg[512];
    assert_null(ap_open(path, MS_CREATE, &err, msg, sizeof msg));
    tf_assert_err(err, MS_ERR_EXISTS, msg);
    assert_non_null(strstr(msg, path));
    ap_expect_unchanged(path, before, len);
    /* any existing file, even an empty one */
    char *empty = tf_path(st->dir, "empty");
    tf_write_file(empty, "", 0);
    assert_null(ap_open(empty, MS_CREATE, &err, msg, sizeof msg));
    tf_assert_err(err, MS_ERR_EXISTS, msg);
    ap_expect_unchanged(empty, (const unsigned char *)"", 0);
    /* a missing directory is an I/O error, not "exists" */
    char *nodir = tf_path(st->dir, "no/such/dir.msnap");
    assert_null(ap_open(nodir, MS_CREATE, &err, msg, sizeof msg));
    tf_assert_err(err, MS_ERR_IO, msg);
    free(nodir);
    free(empty);
    free(before);
    free(path);
}

static void test_truncate_replaces(void **state)
{
    ap_state *st = *state;
    char *path = tf_path(st->dir, "t.msnap");
    size_t len;
    free(tf_sample_file(path, 3, NULL, &len));
    int err;
    char msg[512];
    ms_writer *w = ap_open(path, MS_TRUNCATE, &err, msg, sizeof msg);
    if (!w) fail_msg("MS_TRUNCATE: %s", msg);
    assert_int_equal(ms_writer_count(w), 0);
    tf_sample_write(w, 7, 0);
    assert_int_equal(ms_writer_close(w), 0);
    static const unsigned seqs[] = {7};
    ap_expect_file(path, seqs, 1, "appender");
    free(path);
}

static void test_append_after_complete(void **state)
{
    ap_state *st = *state;
    char *path = tf_path(st->dir, "c.msnap");
    size_t len;
    unsigned char *before = tf_sample_file(path, 3, NULL, &len);
    int err;
    char msg[512];
    ms_writer *w = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
    if (!w) fail_msg("MS_APPEND: %s", msg);
    assert_int_equal(ms_writer_count(w), 3);
    assert_string_equal(ms_writer_notice(w), "");
    tf_sample_write(w, 3, 0);
    uint64_t off;
    ms_writer_last_sizes(w, NULL, NULL, &off);
    assert_int_equal(off, len); /* right after the existing snapshots */
    tf_sample_write(w, 4, 0);
    assert_int_equal(ms_writer_count(w), 5);
    assert_int_equal(ms_writer_close(w), 0);
    static const unsigned seqs[] = {0, 1, 2, 3, 4};
    ap_expect_file(path, seqs, 5, "memsnap-test"); /* the header is kept */
    size_t now_len;
    unsigned char *now = tf_read_file(path, &now_len);
    assert_true(now_len > len);
    assert_memory_equal(now, before, len); /* nothing before the end was rewritten */
    free(now);
    free(before);

    /* a missing file is created; an empty one gets a header */
    char *fresh = tf_path(st->dir, "fresh.msnap");
    char *empty = tf_path(st->dir, "empty.msnap");
    tf_write_file(empty, "", 0);
    for (int k = 0; k < 2; k++) {
        const char *p = k ? empty : fresh;
        w = ap_open(p, MS_APPEND, &err, msg, sizeof msg);
        if (!w) fail_msg("MS_APPEND %s: %s", p, msg);
        assert_int_equal(ms_writer_count(w), 0);
        tf_sample_write(w, 9, 0);
        assert_int_equal(ms_writer_close(w), 0);
        static const unsigned nine[] = {9};
        ap_expect_file(p, nine, 1, "appender");
    }
    free(fresh);
    free(empty);
    free(path);
}

static void test_append_cuts_incomplete_tail(void **state)
{
    ap_state *st = *state;
    char *src = tf_path(st->dir, "src.msnap");
    char *path = tf_path(st->dir, "crashed.msnap");
    size_t len;
    unsigned char *file = tf_sample_file(src, 3, NULL, &len);
    tf_record recs[3];
    assert_int_equal(tf_records(file, len, recs, 3), 3);
    const uint64_t last = recs[2].off;
    const uint64_t cuts[] = {last + 1, last + 8, last + 39, last + 40, last + 41,
                             last + (recs[2].end - last) / 2, recs[2].end - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        /* what a capture killed in the middle of a write leaves behind */
        tf_write_file(path, file, len);
        assert_int_equal(truncate(path, (off_t)cuts[i]), 0);
        int err;
        char msg[512];
        ms_writer *w = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
        if (!w) fail_msg("cut at %llu: MS_APPEND refused: %s", (unsigned long long)cuts[i], msg);
        assert_int_equal(ms_writer_count(w), 2);
        const char *notice = ms_writer_notice(w);
        char want[96];
        snprintf(want, sizeof want, "byte %llu", (unsigned long long)last);
        if (!strstr(notice, want)) fail_msg("notice \"%s\" does not mention %s", notice, want);
        snprintf(want, sizeof want, "cut %llu bytes", (unsigned long long)(cuts[i] - last));
        if (!strstr(notice, want)) fail_msg("notice \"%s\" does not mention %s", notice, want);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal((uint64_t)sb.st_size, last); /* the tail is gone already */
        tf_sample_write(w, 10, 0);
        assert_int_equal(ms_writer_count(w), 3);
        assert_int_equal(ms_writer_close(w), 0);
        static const unsigned seqs[] = {0, 1, 10};
        ap_expect_file(path, seqs, 3, "memsnap-test");
        size_t now_len;
        unsigned char *now = tf_read_file(path, &now_len);
        assert_memory_equal(now, file, (size_t)last);
        free(now);
    }
    /* a cut exactly between records is no damage: nothing to report */
    tf_write_file(path, file, (size_t)last);
    int err;
    char msg[512];
    ms_writer *w = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
    if (!w) fail_msg("MS_APPEND: %s", msg);
    assert_int_equal(ms_writer_count(w), 2);
    assert_string_equal(ms_writer_notice(w), "");
    assert_int_equal(ms_writer_close(w), 0);
    ap_expect_file(path, ap_seq3, 2, NULL);
    free(file);
    free(src);
    free(path);
}

/* SPEC.md 10: zeros where the next record should start (a crash before
 * the data reached the disk) are a truncated tail, cut like any other. */
static void test_append_cuts_zero_tail(void **state)
{
    ap_state *st = *state;
    char *path = tf_path(st->dir, "zeros.msnap");
    size_t len;
    unsigned char *file = tf_sample_file(path, 2, NULL, &len);
    unsigned char *b = calloc(1, len + 3000);
    assert_non_null(b);
    memcpy(b, file, len);
    tf_write_file(path, b, len + 3000);
    int err;
    char msg[512];
    ms_writer *w = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
    if (!w) fail_msg("MS_APPEND on a zero tail: %s", msg);
    assert_int_equal(ms_writer_count(w), 2);
    char want[64];
    snprintf(want, sizeof want, "cut 3000 bytes of an incomplete snapshot at byte %zu", len);
    if (!strstr(ms_writer_notice(w), want)) fail_msg("notice \"%s\" lacks \"%s\"", ms_writer_notice(w), want);
    tf_sample_write(w, 5, 0);
    assert_int_equal(ms_writer_close(w), 0);
    static const unsigned seqs[] = {0, 1, 5};
    ap_expect_file(path, seqs, 3, "memsnap-test");
    free(b);
    free(file);
    free(path);
}

static void test_append_refuses_damage(void **state)
{
    ap_state *st = *state;
    char *src = tf_path(st->dir, "src.msnap");
    char *path = tf_path(st->dir, "damaged.msnap");
    size_t len;
    unsigned char *file = tf_sample_file(src, 3, NULL, &len);
    tf_record recs[3];
    assert_int_equal(tf_records(file, len, recs, 3), 3);
    unsigned char *bad = malloc(len);
    assert_non_null(bad);
    static const char text[] = "this is a text file, not a snapshot file; keep it as it is\n";
    static const struct {
        const char *what;
        int rec;      /* record to damage, -1: the file header */
        size_t byte;  /* offset in it */
        int want;
        size_t keep;  /* bytes of the file kept (0: all) */
    } cases[] = {
        {"middle payload", 1, 60, MS_ERR_CHECKSUM, 0},
        {"middle record magic", 1, 0, MS_ERR_CORRUPT, 0},
        {"middle record header", 1, 20, MS_ERR_CHECKSUM, 0},
        {"last payload, complete length", 2, 50, MS_ERR_CHECKSUM, 0},
        {"first record codec", 0, 28, MS_ERR_CHECKSUM, 0},
        {"file header writer id", -1, 20, MS_ERR_CHECKSUM, 0},
        {"newer major version", -1, 9, MS_ERR_VERSION, 0},
        {"file header cut short", -1, 0, MS_ERR_TRUNCATED, 40},
        {"not a .msnap file", -2, 0, MS_ERR_MAGIC, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t blen = cases[i].keep ? cases[i].keep : len;
        memcpy(bad, file, len);
        if (cases[i].rec == -2) {
            blen = sizeof text - 1;
            memcpy(bad, text, blen);
        } else if (cases[i].rec == -1 && !cases[i].keep) {
            bad[cases[i].byte] ^= 0x40;
        } else if (cases[i].rec >= 0) {
            bad[recs[cases[i].rec].off + cases[i].byte] ^= 0x10;
        }
        tf_write_file(path, bad, blen);
        int err;
        char msg[512];
        ms_writer *w = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
        if (w) {
            ms_writer_close(w);
            fail_msg("%s: MS_APPEND accepted a damaged file", cases[i].what);
        }
        if (err != cases[i].want)
            fail_msg("%s: got %s, want %s: %s", cases[i].what, ms_errname(err),
                     ms_errname(cases[i].want), msg);
        if (!strstr(msg, path)) fail_msg("%s: message lacks the path: %s", cases[i].what, msg);
        ap_expect_unchanged(path, bad, blen);
    }
    free(bad);
    free(file);
    free(src);
    free(path);
}

/* SPEC.md 10: one writer at a time; the second one is refused before it
 * changes anything, whatever its mode. */
static void test_one_writer_at_a_time(void **state)
{
    ap_state *st = *state;
    char *path = tf_path(st->dir, "locked.msnap");
    int err;
    char msg[512];
    ms_writer *a = ap_open(path, MS_CREATE, &err, msg, sizeof msg);
    if (!a) fail_msg("open: %s", msg);
    tf_sample_write(a, 0, 0);
    tf_sample_write(a, 1, 0);
    size_t len;
    unsigned char *before = tf_read_file(path, &len);
    static const ms_open_mode modes[] = {MS_APPEND, MS_TRUNCATE};
    for (size_t i = 0; i < 2; i++) {
        ms_writer *b = ap_open(path, modes[i], &err, msg, sizeof msg);
        if (b) {
            ms_writer_close(b);
            fail_msg("mode %d: a second writer was let in", (int)modes[i]);
        }
        tf_assert_err(err, MS_ERR_IO, msg);
        assert_non_null(strstr(msg, "another process"));
        assert_non_null(strstr(msg, path));
        ap_expect_unchanged(path, before, len); /* not even truncated */
    }
    tf_sample_write(a, 2, 0); /* the first writer is unaffected */
    assert_int_equal(ms_writer_close(a), 0);
    ap_expect_file(path, ap_seq3, 3, "appender");
    /* once it is closed, the file is free */
    ms_writer *b = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
    if (!b) fail_msg("MS_APPEND after close: %s", msg);
    assert_int_equal(ms_writer_count(b), 3);
    assert_int_equal(ms_writer_close(b), 0);
    free(before);
    free(path);
}

static void test_reader_follows_growing_file(void **state)
{
    ap_state *st = *state;
    char *path = tf_path(st->dir, "grow.msnap");
    size_t len;
    free(tf_sample_file(path, 2, NULL, &len));
    int err;
    char msg[512];
    ms_reader *r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    if (!r) fail_msg("open: %s", msg);
    ms_snapshot *s;
    tf_assert_err(ms_reader_next(r, &s), 0, ms_reader_error(r));
    tf_sample_check(s, 0, 0);
    ms_snapshot_free(s);
    /* a capture appends while the reader is between records */
    ms_writer *w = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
    if (!w) fail_msg("MS_APPEND: %s", msg);
    tf_sample_write(w, 2, 0);
    assert_int_equal(ms_writer_close(w), 0);
    for (unsigned seq = 1; seq <= 2; seq++) {
        tf_assert_err(ms_reader_next(r, &s), 0, ms_reader_error(r));
        tf_sample_check(s, seq, 0);
        ms_snapshot_free(s);
    }
    tf_assert_err(ms_reader_next(r, &s), MS_ERR_END, ms_reader_error(r));
    ms_reader_close(r);
    free(path);
}

/* ------------------------------------------------------------- disk full */

static void test_fd_writer(void **state)
{
    /* a pipe: the writer streams, the reader reads what came out */
    int p[2];
    assert_int_equal(pipe(p), 0);
    int err = 1;
    char msg[512] = "";
    ms_writer *w = ms_writer_fdopen(p[1], "piped", 1, &err, msg, sizeof msg);
    if (!w) fail_msg("fdopen on a pipe: %s", msg);
    tf_sample_write(w, 0, 0);
    /* durable: fdatasync fails with EINVAL on a pipe, which is not an error */
    tf_assert_err(tf_sample_try(w, 1, 0, 1), 0, ms_writer_error(w));
    assert_int_equal(ms_writer_close(w), 0);
    assert_int_equal(close(p[1]), 0); /* the caller closes the fd, not the writer */
    unsigned char buf[16384];
    size_t n = 0;
    ssize_t k;
    while ((k = read(p[0], buf + n, sizeof buf - n)) > 0) n += (size_t)k;
    assert_int_equal(k, 0);
    close(p[0]);
    tf_readout o;
    tf_read_mem(buf, n, "pipe", 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_string_equal(o.writer_id, "piped");
    assert_int_equal(o.n, 2);
    tf_sample_check(o.snaps[0], 0, 0);
    tf_sample_check(o.snaps[1], 1, 0);
    tf_readout_free(&o);

    /* a pipe nobody reads: the record cannot be taken back, so the writer
     * refuses every later one (SPEC.md 10) */
    assert_int_equal(pipe(p), 0);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
    w = ms_writer_fdopen(p[1], "piped", 1, &err, msg, sizeof msg);
    if (!w) fail_msg("fdopen on a pipe: %s", msg);
    close(p[0]);
    tf_assert_err(tf_sample_try(w, 0, 0, 0), MS_ERR_IO, ms_writer_error(w));
    assert_non_null(strstr(ms_writer_error(w), strerror(EPIPE)));
    tf_assert_err(tf_sample_try(w, 1, 0, 0), MS_ERR_IO, ms_writer_error(w));
    assert_true(ms_writer_error(w)[0] != 0);
    assert_int_equal(ms_writer_count(w), 0);
    assert_int_equal(ms_writer_close(w), 0);
    close(p[1]);
    assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);

    /* a pipe that takes only part of a record (non-blocking, full): the
     * part cannot be taken back, so nothing may follow it, even once the
     * pipe has room again; the stream then ends in a truncated record */
    assert_int_equal(pipe(p), 0);
    assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
    int cap = fcntl(p[1], F_GETPIPE_SZ);
    assert_true(cap >= 4096 && cap < 20000);
    assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    w = ms_writer_fdopen(p[1], "piped", 1, &err, msg, sizeof msg);
    if (!w) fail_msg("fdopen on a pipe: %s", msg);
    tf_assert_err(tf_sample_try(w, 0, 20000, 0), MS_ERR_IO, ms_writer_error(w));
    unsigned char *got = malloc(65536);
    assert_non_null(got);
    size_t ngot = 0;
    while ((k = read(p[0], got + ngot, 65536 - ngot)) > 0) ngot += (size_t)k;
    assert_true(ngot > MS_FILE_HEADER_SIZE && ngot <= (size_t)cap);
    tf_assert_err(tf_sample_try(w, 1, 0, 0), MS_ERR_IO, ms_writer_error(w)); /* room now, still refused */
    while ((k = read(p[0], got + ngot, 65536 - ngot)) > 0) ngot += (size_t)k;
    assert_int_equal(ms_writer_count(w), 0);
    assert_int_equal(ms_writer_close(w), 0);
    close(p[1]);
    close(p[0]);
    tf_read_mem(got, ngot, "pipe", 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_TRUNCATED, o.msg);
    assert_int_equal(o.n, 0);
    tf_readout_free(&o);
    free(got);

    /* a regular file must be empty and at offset 0 */
    ap_state *st = *state;
    char *path = tf_path(st->dir, "fd.msnap");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    w = ms_writer_fdopen(fd, "fd", 1, &err, msg, sizeof msg);
    if (!w) fail_msg("fdopen on an empty file: %s", msg);
    tf_sample_write(w, 4, 0);
    assert_int_equal(ms_writer_close(w), 0);
    static const unsigned four[] = {4};
    ap_expect_file(path, four, 1, "fd");
    size_t flen;
    unsigned char *fbytes = tf_read_file(path, &flen);
    for (int at_start = 0; at_start < 2; at_start++) {
        /* at its end, or at offset 0 of a file that has content */
        assert_true(lseek(fd, at_start ? 0 : (off_t)flen, SEEK_SET) >= 0);
        err = 1;
        assert_null(ms_writer_fdopen(fd, "fd", 1, &err, msg, sizeof msg));
        tf_assert_err(err, MS_ERR_USAGE, msg);
        ap_expect_unchanged(path, fbytes, flen);
    }
    free(fbytes);
    close(fd);
    free(path);

    /* /dev/full: the header write fails with ENOSPC */
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("SKIP: /dev/full is not available (%s)\n", strerror(errno));
        fflush(stdout);
        skip();
    }
    err = 1;
    msg[0] = 0;
    assert_null(ms_writer_fdopen(fd, "full", 0, &err, msg, sizeof msg));
    tf_assert_err(err, MS_ERR_NOSPACE, msg);
    assert_non_null(strstr(msg, "header"));
    assert_non_null(strstr(msg, strerror(ENOSPC)));
    assert_int_equal(close(fd), 0); /* still ours, still open */
}

enum { AP_NOISE = 20000 };

static void test_disk_full_tmpfs(void **state)
{
    ap_state *st = *state;
    char reason[256] = "";
    if (geteuid() != 0) {
        snprintf(reason, sizeof reason, "running as uid %u", (unsigned)geteuid());
    } else {
        /* In a private mount namespace the tmpfs goes away with this
         * process even if it dies before the teardown; where that is not
         * allowed, the teardown's umount is the only cleanup. */
        if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            fprintf(stderr, "note: mount namespace not private: %s\n", strerror(errno));
        if (mount("tmpfs", st->dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=256k,mode=0700") != 0)
            snprintf(reason, sizeof reason, "mount: %s", strerror(errno));
        else
            st->mounted = 1;
    }
    if (!st->mounted) {
        printf("SKIP: disk-full test needs root to mount a tmpfs (%s)\n", reason);
        fflush(stdout);
        skip();
    }
    char *path = tf_path(st->dir, "full.msnap");
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_CREATE, "disk-full", 1, &err, msg, sizeof msg);
    if (!w) fail_msg("open on the tmpfs: %s", msg);
    unsigned ok = 0;
    int rc = 0;
    uint64_t end_before = 0;
    for (unsigned seq = 0; seq < 100; seq++) {
        rc = tf_sample_try(w, seq, AP_NOISE, 1);
        if (rc) break;
        uint64_t raw, comp, off;
        ms_writer_last_sizes(w, &raw, &comp, &off);
        end_before = off + MS_RECORD_HEADER_SIZE + comp;
        ok++;
    }
    tf_assert_err(rc, MS_ERR_NOSPACE, ms_writer_error(w));
    assert_true(ok >= 3); /* 256 KiB hold several 20 KB snapshots */
    assert_int_equal(ms_writer_count(w), ok);
    const char *werr = ms_writer_error(w);
    assert_non_null(strstr(werr, strerror(ENOSPC)));
    assert_non_null(strstr(werr, "cut back"));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, end_before); /* no partial record left */

    /* the writer is still usable: a small snapshot may fit, or fail the same way */
    int rc2 = tf_sample_try(w, 500, 0, 1);
    if (rc2 != 0) tf_assert_err(rc2, MS_ERR_NOSPACE, ms_writer_error(w));
    assert_int_equal(ms_writer_close(w), 0);

    tf_readout o;
    tf_read_path(path, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg); /* a clean end, no truncated tail */
    assert_int_equal(o.n, ok + (rc2 == 0));
    for (unsigned i = 0; i < ok; i++) tf_sample_check(o.snaps[i], i, AP_NOISE);
    if (rc2 == 0) tf_sample_check(o.snaps[ok], 500, 0);
    tf_readout_free(&o);

    /* appending to the full file again: found complete, fails cleanly */
    w = ap_open(path, MS_APPEND, &err, msg, sizeof msg);
    if (!w) fail_msg("MS_APPEND on the full tmpfs: %s", msg);
    assert_int_equal(ms_writer_count(w), ok + (rc2 == 0));
    assert_string_equal(ms_writer_notice(w), "");
    tf_assert_err(tf_sample_try(w, 600, 2 * AP_NOISE, 0), MS_ERR_NOSPACE, ms_writer_error(w));
    assert_int_equal(ms_writer_close(w), 0);
    tf_read_path(path, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.n, ok + (rc2 == 0));
    tf_readout_free(&o);
    free(path);

    /* fill what is left, then a new file cannot even get its header */
    char *filler = tf_path(st->dir, "filler");
    int ffd = open(filler, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(ffd >= 0);
    static const char page[4096];
    while (write(ffd, page, sizeof page) > 0) {}
    assert_int_equal(errno, ENOSPC);
    close(ffd);
    char *fresh = tf_path(st->dir, "fresh.msnap");
    err = 1;
    w = ms_writer_open(fresh, MS_CREATE, "disk-full", 1, &err, msg, sizeof msg);
    if (w) {
        ms_writer_close(w);
        fail_msg("a writer opened on a full file system");
    }
    tf_assert_err(err, MS_ERR_NOSPACE, msg);
    assert_non_null(strstr(msg, fresh));
    assert_int_equal(access(fresh, F_OK), -1); /* no empty, headerless file left behind */
    free(fresh);
    free(filler);

    assert_int_equal(umount2(st->dir, 0), 0);
    st->mounted = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AP_TEST(test_create_refuses_existing),
        AP_TEST(test_truncate_replaces),
        AP_TEST(test_append_after_complete),
        AP_TEST(test_append_cuts_incomplete_tail),
        AP_TEST(test_append_cuts_zero_tail),
        AP_TEST(test_append_refuses_damage),
        AP_TEST(test_one_writer_at_a_time),
        AP_TEST(test_reader_follows_growing_file),
        AP_TEST(test_fd_writer),
        AP_TEST(test_disk_full_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

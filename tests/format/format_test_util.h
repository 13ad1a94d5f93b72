/*
 * format_test_util.h - helpers shared by the cmocka tests of libmsformat:
 * temporary files, a deterministic random generator, reading a whole file
 * into snapshots, comparing snapshots cell by cell, and a "sample" series
 * of snapshots whose every value is known, so a test can check contents
 * without trusting the library that wrote them.
 *
 * Every helper asserts with cmocka, so a failure inside one fails the
 * calling test. Buffers returned are malloc'd; the caller frees them.
 */
#ifndef FORMAT_TEST_UTIL_H
#define FORMAT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "msnap.h"

/* Fails the test unless error code `got` equals `want`, naming both and
 * showing `msg` (a reader or writer message). */
#define tf_assert_err(got, want, msg)                                                     \
    do {                                                                                  \
        int tf_g_ = (got), tf_w_ = (want);                                                \
        if (tf_g_ != tf_w_)                                                               \
            fail_msg("got %s (%d), want %s (%d): %s", ms_errname(tf_g_), tf_g_,            \
                     ms_errname(tf_w_), tf_w_, (msg));                                    \
    } while (0)

/* ------------------------------------------------------------- temp files */

/* Creates a fresh directory under $TMPDIR (or /tmp); returns its malloc'd path. */
char *tf_tmpdir(void);

/* Removes every file in `dir` (one level) and `dir` itself, then frees
 * the string. NULL is a no-op. */
void tf_rmdir_all(char *dir);

/* malloc'd "dir/name". */
char *tf_path(const char *dir, const char *name);

/* Reads a whole file; *len gets its size. The buffer has one spare byte. */
unsigned char *tf_read_file(const char *path, size_t *len);

/* Creates or replaces `path` with exactly `len` bytes of `buf`. */
void tf_write_file(const char *path, const void *buf, size_t len);

/* ------------------------------------------------------------------ random */

/* splitmix64: deterministic, so every run of a test sees the same data. */
typedef struct {
    uint64_t s;
} tf_rng;

uint64_t tf_rand(tf_rng *r);
void tf_rand_bytes(tf_rng *r, void *buf, size_t n);

/* A well-mixed 64-bit value derived from `x` (a stateless splitmix64 step). */
uint64_t tf_mix(uint64_t x);

/* ---------------------------------------------------------------- reading */

/* Everything one pass of a reader over a file produced. */
typedef struct {
    ms_snapshot **snaps; /* snapshots returned, in order */
    size_t n;            /* how many */
    int opened;          /* 1 if ms_reader_open* succeeded */
    int rc;              /* code that ended the pass: the open error, MS_ERR_END or a read error */
    uint64_t err_off;    /* ms_reader_error_offset after the pass (0 if open failed) */
    char msg[1024];      /* the open error message or ms_reader_error */
    unsigned major, minor;
    char writer_id[64];
} tf_readout;

/* Reads every snapshot of the memory buffer (until an error or the end).
 * `max_raw` 0 keeps the reader's default cap. */
void tf_read_mem(const void *buf, size_t len, const char *name, unsigned flags, uint64_t max_raw,
                 tf_readout *out);

/* Same through ms_reader_open on a path. */
void tf_read_path(const char *path, unsigned flags, tf_readout *out);

/* Frees the snapshots of a readout. */
void tf_readout_free(tf_readout *o);

/* Asserts two snapshots hold the same record facts, sections and cells. */
void tf_assert_snapshot_equal(const ms_snapshot *a, const ms_snapshot *b);

/* Asserts two snapshots hold the same sections and cells (their records
 * may differ: offset, codec, compressed size). */
void tf_assert_content_equal(const ms_snapshot *a, const ms_snapshot *b);

/* Touches every cell of every section through the public accessors and
 * asserts they agree with the section's column list (used on snapshots
 * parsed from damaged input: under ASan this proves the reader built
 * nothing out of bounds). Returns a hash of the contents. */
uint64_t tf_walk_snapshot(const ms_snapshot *s);

/* ------------------------------------------------------ the sample series */

/* Adds snapshot `seq` of the sample series to writer `w` (begin, several
 * sections that vary with seq, end). `noise` bytes of random data go into
 * a diagnostics message, to make the record large and incompressible. */
void tf_sample_write(ms_writer *w, unsigned seq, size_t noise);

/* Same, but returns what ms_writer_end(w, durable) returned instead of
 * asserting success (for disk-full tests). */
int tf_sample_try(ms_writer *w, unsigned seq, size_t noise, int durable);

/* Asserts `s` is exactly snapshot `seq` of the sample series. */
void tf_sample_check(const ms_snapshot *s, unsigned seq, size_t noise);

/* Writes a file `path` (replacing it) of n sample snapshots, snapshot i with
 * noise[i] bytes (noise may be NULL: none), and returns its contents. The
 * writer's defaults (codec 2); tf_sample_file_z passes `zlevel` to
 * ms_writer_open (e.g. 3 | MS_ZLEVEL_NO_DICT for codec 1). */
unsigned char *tf_sample_file(const char *path, unsigned n, const size_t *noise, size_t *len);
unsigned char *tf_sample_file_z(const char *path, unsigned n, const size_t *noise, int zlevel, size_t *len);

/* --------------------------------------------------------------- records */

/* Facts of the record starting at `off` of a well-formed file buffer. */
typedef struct {
    uint64_t off;     /* record start */
    uint32_t hsize;   /* record header size */
    uint64_t comp;    /* compressed payload bytes */
    uint64_t raw;     /* decompressed payload bytes */
    uint64_t end;     /* first byte after the record */
    unsigned codec;   /* MS_CODEC_* */
} tf_record;

/* Lists the records of a well-formed file buffer (at most max); returns
 * how many. */
size_t tf_records(const unsigned char *file, size_t len, tf_record *recs, size_t max);

/* Decompresses a record's payload (with dictionary #1 for codec 2);
 * returns a malloc'd buffer of rec->raw bytes. */
unsigned char *tf_record_payload(const unsigned char *file, const tf_record *rec);

/* Builds a complete codec-1 record (header with valid checksums + zstd
 * frame) around `raw`; returns a malloc'd buffer, its size in *len. */
unsigned char *tf_record_build(const unsigned char *raw, size_t rawlen, size_t *len);

/* The same with `codec` (MS_CODEC_ZSTD, or MS_CODEC_ZSTD_DICT1: the frame
 * made with dictionary #1 and naming its id). */
unsigned char *tf_record_build_codec(const unsigned char *raw, size_t rawlen, unsigned codec, size_t *len);

/* The on-disk encoding byte of column `col` of section `type` in a raw
 * payload, or 0 if absent. */
unsigned tf_payload_col_encoding(const unsigned char *raw, size_t rawlen, unsigned type,
                                 unsigned col);

/* Offset in the raw payload of that column's encoding byte, or 0 if absent. */
size_t tf_payload_col_encoding_at(const unsigned char *raw, size_t rawlen, unsigned type,
                                  unsigned col);

#endif /* FORMAT_TEST_UTIL_H */

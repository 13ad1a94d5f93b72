/*
 * test_format_corruption.c - damaged files are reported, never believed.
 * Single bits are flipped in the file header, in every record header and
 * in a sample of payload bytes of a valid two-snapshot file: with checksums
 * the reader must name the damage (magic, version, checksum, structure)
 * and return only the snapshots before it; with MS_READ_NO_CHECKSUM it may
 * read more, but only what passes its structure checks. Decompressed
 * payloads are damaged too (with valid checksums) to exercise the
 * structure checks alone, column encodings are swapped for undefined or
 * ill-typed ones, and hand-made headers check the version policy,
 * reserved fields and the size cap (format/SPEC.md sections 2-5, 7, 8).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "format_test_util.h"

#include "msnap_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

enum { CO_NSNAP = 2 };
static const size_t co_noise[CO_NSNAP] = {0, 3000};
#define CO_NAME "damaged.msnap"

typedef struct {
    char *dir;
    unsigned char *file;
    size_t len;
    tf_record recs[CO_NSNAP];
    tf_readout full;
} co_state;

/* Only what cannot fail happens here: cmocka skips the teardown of a
 * test whose setup fails, which would leave the directory behind. */
static int co_setup(void **state)
{
    co_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->dir = tf_tmpdir();
    *state = st;
    return 0;
}

/* The sample file, written and checked on first use inside a test (so a
 * failure here still gets the teardown). */
static co_state *co_get(void **state)
{
    co_state *st = *state;
    if (st->file) return st;
    char *path = tf_path(st->dir, CO_NAME);
    st->file = tf_sample_file(path, CO_NSNAP, co_noise, &st->len);
    free(path);
    assert_int_equal(tf_records(st->file, st->len, st->recs, CO_NSNAP), CO_NSNAP);
    /* The file must be longer than any file header size a single flipped
     * bit can declare (64 ^ 2048 = 2112), so that such a flip cannot look
     * like a file cut inside its header (SPEC.md 2, rule 6). */
    assert_true(st->len > 64 + 2048 + 4);
    tf_read_mem(st->file, st->len, CO_NAME, 0, 0, &st->full);
    tf_assert_err(st->full.rc, MS_ERR_END, st->full.msg);
    assert_int_equal(st->full.n, CO_NSNAP);
    for (unsigned i = 0; i < CO_NSNAP; i++) tf_sample_check(st->full.snaps[i], i, co_noise[i]);
    return st;
}

static int co_teardown(void **state)
{
    co_state *st = *state;
    tf_readout_free(&st->full);
    free(st->file);
    tf_rmdir_all(st->dir);
    free(st);
    return 0;
}

/* Sets of error codes as bit masks; CO_OK means "the whole file reads". */
#define CO_BIT(code) (1u << (unsigned)-(code))
#define CO_OK CO_BIT(MS_ERR_END)

static const char *co_set_names(unsigned set, char *buf, size_t len)
{
    buf[0] = 0;
    for (int c = 1; c < 32; c++)
        if (set & (1u << c)) {
            size_t n = strlen(buf);
            snprintf(buf + n, len - n, "%s%s", n ? "|" : "", ms_errname(-c));
        }
    return buf;
}

/* Reads `buf` and checks the outcome: its code is in `allowed`; every
 * snapshot returned equals the original at the same offset; after an
 * error, exactly the `before` snapshots before the damage were returned
 * (unless `lenient`: NO_CHECKSUM may legitimately read on). Returns the
 * code. */
static int co_check(const co_state *st, const unsigned char *buf, unsigned flags, unsigned allowed,
                    size_t before, const char *what)
{
    tf_readout o;
    tf_read_mem(buf, st->len, CO_NAME, flags, 0, &o);
    char set[256];
    if (!(CO_BIT(o.rc) & allowed))
        fail_msg("%s (flags %u): got %s, want %s: %s", what, flags, ms_errname(o.rc),
                 co_set_names(allowed, set, sizeof set), o.msg);
    if (o.rc != MS_ERR_END) {
        if (!strstr(o.msg, CO_NAME) || !strstr(o.msg, "byte "))
            fail_msg("%s: the message lacks the file name or \"byte \": %s", what, o.msg);
        if (!(flags & MS_READ_NO_CHECKSUM) && o.n != before)
            fail_msg("%s: %zu snapshots before the error, want %zu (%s)", what, o.n, before, o.msg);
    }
    for (size_t i = 0; i < o.n; i++) {
        uint64_t off;
        ms_snapshot_sizes(o.snaps[i], &off, NULL, NULL);
        size_t k = 0;
        while (k < CO_NSNAP && st->recs[k].off != off) k++;
        if (k == CO_NSNAP) fail_msg("%s: a snapshot at byte %llu, where no record starts", what,
                                    (unsigned long long)off);
        tf_assert_snapshot_equal(o.snaps[i], st->full.snaps[k]);
    }
    int rc = o.rc;
    tf_readout_free(&o);
    return rc;
}

/* ------------------------------------------------------------ file header */

static unsigned co_file_header_allowed(size_t byte, unsigned flags)
{
    int nock = (flags & MS_READ_NO_CHECKSUM) != 0;
    if (byte < 8) return CO_BIT(MS_ERR_MAGIC);
    if (byte < 10) return CO_BIT(MS_ERR_VERSION);
    if (byte < 12) return nock ? CO_OK : CO_BIT(MS_ERR_CHECKSUM);          /* minor */
    if (byte < 16) /* header size: invalid (checked before the CRC), or covered by it */
        return nock ? CO_BIT(MS_ERR_CORRUPT) | CO_OK : CO_BIT(MS_ERR_CORRUPT) | CO_BIT(MS_ERR_CHECKSUM);
    if (byte < 56) return nock ? CO_OK : CO_BIT(MS_ERR_CHECKSUM);          /* writer id */
    if (byte < 60) return CO_BIT(nock ? MS_ERR_CORRUPT : MS_ERR_CHECKSUM); /* reserved flags */
    return nock ? CO_OK : CO_BIT(MS_ERR_CHECKSUM);                         /* the CRC itself */
}

static void test_file_header_bits(void **state)
{
    co_state *st = co_get(state);
    unsigned char *buf = malloc(st->len);
    assert_non_null(buf);
    for (unsigned flags = 0; flags <= MS_READ_NO_CHECKSUM; flags += MS_READ_NO_CHECKSUM)
        for (size_t byte = 0; byte < MS_FILE_HEADER_SIZE; byte++)
            for (unsigned bit = 0; bit < 8; bit++) {
                memcpy(buf, st->file, st->len);
                buf[byte] ^= (unsigned char)(1u << bit);
                char what[64];
                snprintf(what, sizeof what, "file header byte %zu bit %u", byte, bit);
                int rc = co_check(st, buf, flags, co_file_header_allowed(byte, flags), 0, what);
                if (flags == 0) assert_int_not_equal(rc, MS_ERR_END);
            }
    free(buf);
}

/* ---------------------------------------------------------- record headers */

/* SPEC.md 3.4: with checksums, everything after the magic is covered by
 * the header CRC, so a flip there is a checksum error and never a
 * truncation (an appending writer must not cut a damaged record off).
 * Without checksums the structure checks must still refuse it; only a
 * damaged size may then look like a file that ends early. */
static unsigned co_record_header_allowed(size_t byte, unsigned flags)
{
    if (byte < 4) return CO_BIT(MS_ERR_CORRUPT);                                   /* magic */
    if (!(flags & MS_READ_NO_CHECKSUM)) return CO_BIT(MS_ERR_CHECKSUM);
    if (byte < 16) return CO_BIT(MS_ERR_CORRUPT) | CO_BIT(MS_ERR_TRUNCATED);       /* sizes */
    if (byte < 24) return CO_BIT(MS_ERR_CORRUPT) | CO_BIT(MS_ERR_LIMIT);           /* raw */
    if (byte < 28) return CO_OK;                                                   /* payload CRC */
    if (byte < 29) return CO_BIT(MS_ERR_UNSUPPORTED);                              /* codec */
    if (byte < 36) return CO_BIT(MS_ERR_CORRUPT);                                  /* reserved */
    return CO_OK;                                                                  /* header CRC */
}

static void test_record_header_bits(void **state)
{
    co_state *st = co_get(state);
    unsigned char *buf = malloc(st->len);
    assert_non_null(buf);
    for (unsigned flags = 0; flags <= MS_READ_NO_CHECKSUM; flags += MS_READ_NO_CHECKSUM)
        for (size_t r = 0; r < CO_NSNAP; r++)
            for (size_t byte = 0; byte < MS_RECORD_HEADER_SIZE; byte++)
                for (unsigned bit = 0; bit < 8; bit++) {
                    memcpy(buf, st->file, st->len);
                    buf[st->recs[r].off + byte] ^= (unsigned char)(1u << bit);
                    char what[80];
                    snprintf(what, sizeof what, "record %zu header byte %zu bit %u", r, byte, bit);
                    int rc = co_check(st, buf, flags, co_record_header_allowed(byte, flags), r, what);
                    if (flags == 0) assert_int_not_equal(rc, MS_ERR_END);
                }
    free(buf);
}

/* ---------------------------------------------------------------- payloads */

static void test_payload_bits(void **state)
{
    co_state *st = co_get(state);
    unsigned char *buf = malloc(st->len);
    assert_non_null(buf);
    size_t tried = 0, detected_without_crc = 0;
    for (size_t r = 0; r < CO_NSNAP; r++) {
        uint64_t poff = st->recs[r].off + st->recs[r].hsize, comp = st->recs[r].comp;
        for (uint64_t i = 0; i < comp; i++) {
            /* every bit of the frame's head and tail, a spread elsewhere */
            int dense = i < 24 || i + 24 >= comp;
            for (unsigned bit = 0; bit < 8; bit++) {
                if (!dense && (i * 8 + bit) % 11) continue;
                memcpy(buf, st->file, st->len);
                buf[poff + i] ^= (unsigned char)(1u << bit);
                char what[80];
                snprintf(what, sizeof what, "record %zu payload byte %llu bit %u", r,
                         (unsigned long long)i, bit);
                tf_readout o;
                tf_read_mem(buf, st->len, CO_NAME, 0, 0, &o);
                tf_assert_err(o.rc, MS_ERR_CHECKSUM, o.msg);
                assert_int_equal(o.n, r);
                assert_int_equal(o.err_off, poff);
                for (size_t k = 0; k < r; k++) tf_assert_snapshot_equal(o.snaps[k], st->full.snaps[k]);
                char where[64];
                snprintf(where, sizeof where, CO_NAME ": byte %llu: ", (unsigned long long)poff);
                if (!strstr(o.msg, where)) fail_msg("%s: message %s lacks %s", what, o.msg, where);
                tf_readout_free(&o);

                /* without checksums: zstd's own checks or the structure
                 * checks catch it, or (rarely) a valid snapshot results */
                tf_read_mem(buf, st->len, CO_NAME, MS_READ_NO_CHECKSUM, 0, &o);
                if (o.rc == MS_ERR_END) {
                    assert_int_equal(o.n, CO_NSNAP);
                    for (size_t k = 0; k < o.n; k++) tf_walk_snapshot(o.snaps[k]);
                } else {
                    unsigned ok = CO_BIT(MS_ERR_ZSTD) | CO_BIT(MS_ERR_CORRUPT) |
                                  CO_BIT(MS_ERR_LIMIT) | CO_BIT(MS_ERR_UNSUPPORTED);
                    if (!(CO_BIT(o.rc) & ok)) fail_msg("%s without CRC: %s", what, o.msg);
                    assert_int_equal(o.n, r);
                    assert_true(o.err_off >= st->recs[r].off && o.err_off < st->recs[r].end);
                    assert_non_null(strstr(o.msg, CO_NAME));
                    detected_without_crc++;
                }
                tf_readout_free(&o);
                tried++;
            }
        }
    }
    assert_true(tried > 2000);
    /* the zstd frame carries its own checksum: nearly every flip is caught */
    if (detected_without_crc * 100 < tried * 95)
        fail_msg("only %zu of %zu damaged payloads were caught without the CRC",
                 detected_without_crc, tried);
    free(buf);
}

/* Flips every bit of the decompressed payload of snapshot 0 (checksums
 * valid, so only the structure checks stand in the way), both through
 * ms_payload_parse and through a rebuilt file. */
static void test_decompressed_payload_bits(void **state)
{
    co_state *st = co_get(state);
    const tf_record *rec = &st->recs[0];
    unsigned char *raw = tf_record_payload(st->file, rec);
    size_t n = (size_t)rec->raw;
    size_t parsed = 0, refused = 0;
    unsigned char *file = malloc(MS_FILE_HEADER_SIZE + MS_RECORD_HEADER_SIZE + ZSTD_compressBound(n));
    assert_non_null(file);
    for (size_t i = 0; i < n * 8; i++) {
        raw[i / 8] ^= (unsigned char)(1u << (i % 8));
        char msg[400] = "";
        ms_snapshot *s = NULL;
        int rc = ms_payload_parse(raw, n, &s, msg, sizeof msg);
        if (rc == 0) {
            assert_non_null(s);
            tf_walk_snapshot(s);
            ms_snapshot_free(s);
            parsed++;
        } else {
            assert_null(s);
            if (rc != MS_ERR_CORRUPT && rc != MS_ERR_UNSUPPORTED)
                fail_msg("payload bit %zu: %s: %s", i, ms_errname(rc), msg);
            if (strncmp(msg, "payload byte ", 13) != 0) fail_msg("payload bit %zu: message %s", i, msg);
            refused++;
        }
        /* the same through the reader, with valid checksums */
        size_t rlen;
        unsigned char *recb = tf_record_build(raw, n, &rlen);
        memcpy(file, st->file, MS_FILE_HEADER_SIZE);
        memcpy(file + MS_FILE_HEADER_SIZE, recb, rlen);
        free(recb);
        tf_readout o;
        tf_read_mem(file, MS_FILE_HEADER_SIZE + rlen, CO_NAME, 0, 0, &o);
        if (rc == 0) {
            tf_assert_err(o.rc, MS_ERR_END, o.msg);
            assert_int_equal(o.n, 1);
        } else {
            tf_assert_err(o.rc, rc, o.msg);
            assert_int_equal(o.n, 0);
            assert_int_equal(o.err_off, MS_FILE_HEADER_SIZE);
            assert_non_null(strstr(o.msg, "payload byte "));
        }
        tf_readout_free(&o);
        raw[i / 8] ^= (unsigned char)(1u << (i % 8));
    }
    /* most bits are structure, some are values: both outcomes occur */
    assert_true(parsed > 0);
    assert_true(refused > 0);
    free(file);
    free(raw);
}

/* ----------------------------------------------------- structural goldens */

/* Parses `raw` and checks the code (and, on success, walks the result). */
static void co_parse_expect(const unsigned char *raw, size_t n, int want)
{
    char msg[400] = "";
    ms_snapshot *s = NULL;
    int rc = ms_payload_parse(raw, n, &s, msg, sizeof msg);
    tf_assert_err(rc, want, msg);
    if (!rc) {
        tf_walk_snapshot(s);
        ms_snapshot_free(s);
    } else {
        assert_null(s);
        assert_true(msg[0] != 0);
    }
}

/* Offset just after the section that starts at `off` (header: type, flags
 * and length varints, SPEC.md 4.1). */
static size_t co_section_end(const unsigned char *raw, size_t n, size_t off)
{
    const unsigned char *p = raw + off;
    uint64_t type = 0, flags = 0, len = 0;
    assert_int_equal(ms_varint_get(&p, raw + n, &type), 0);
    assert_int_equal(ms_varint_get(&p, raw + n, &flags), 0);
    assert_int_equal(ms_varint_get(&p, raw + n, &len), 0);
    assert_true(len <= (uint64_t)(raw + n - p));
    return (size_t)(p - raw) + (size_t)len;
}

static void test_structure_goldens(void **state)
{
    co_state *st = co_get(state);
    const tf_record *rec = &st->recs[0];
    unsigned char *raw = tf_record_payload(st->file, rec);
    size_t n = (size_t)rec->raw;
    co_parse_expect(raw, n, 0);
    co_parse_expect(raw, 0, MS_ERR_CORRUPT);     /* empty payload */
    co_parse_expect(raw, n - 1, MS_ERR_CORRUPT); /* one byte short */
    size_t strings_end = co_section_end(raw, n, 0);
    co_parse_expect(raw, strings_end, MS_ERR_CORRUPT); /* no snapshot section */
    co_parse_expect(raw + strings_end, n - strings_end, MS_ERR_CORRUPT); /* no string table */
    size_t second_len = co_section_end(raw, n, strings_end) - strings_end;

    unsigned char *big = malloc(n + 64 + second_len + strings_end);
    assert_non_null(big);
    /* an unknown section (type 1000, flags 0, 2 body bytes): skipped;
     * marked required: refused */
    static const unsigned char unknown[6] = {0xe8, 0x07, 0, 2, 0, 0};
    memcpy(big, raw, n);
    memcpy(big + n, unknown, sizeof unknown);
    co_parse_expect(big, n + sizeof unknown, 0);
    big[n + 2] = MS_SECFLAG_REQUIRED;
    co_parse_expect(big, n + sizeof unknown, MS_ERR_UNSUPPORTED);
    size_t rlen;
    unsigned char *recb = tf_record_build(big, n + sizeof unknown, &rlen);
    unsigned char *file = malloc(MS_FILE_HEADER_SIZE + rlen);
    assert_non_null(file);
    memcpy(file, st->file, MS_FILE_HEADER_SIZE);
    memcpy(file + MS_FILE_HEADER_SIZE, recb, rlen);
    tf_readout o;
    tf_read_mem(file, MS_FILE_HEADER_SIZE + rlen, CO_NAME, 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_UNSUPPORTED, o.msg);
    assert_non_null(strstr(o.msg, "required"));
    tf_readout_free(&o);
    free(file);
    free(recb);
    big[n + 2] = 2; /* an undefined flag */
    co_parse_expect(big, n + sizeof unknown, MS_ERR_CORRUPT);
    big[n + 2] = 0;
    big[n + 4] = 1; /* the (skipped) body is opaque: anything goes */
    co_parse_expect(big, n + sizeof unknown, 0);
    big[n + 3] = 3; /* its length runs past the payload */
    co_parse_expect(big, n + sizeof unknown, MS_ERR_CORRUPT);
    big[n + 3] = 2;
    /* header varints: not minimal, or a type over 65535 */
    static const unsigned char padded_flags[7] = {0xe8, 0x07, 0x80, 0x00, 2, 0, 0};
    memcpy(big + n, padded_flags, sizeof padded_flags);
    co_parse_expect(big, n + sizeof padded_flags, MS_ERR_CORRUPT);
    static const unsigned char type_65536[7] = {0x80, 0x80, 0x04, 0, 2, 0, 0};
    memcpy(big + n, type_65536, sizeof type_65536);
    co_parse_expect(big, n + sizeof type_65536, MS_ERR_CORRUPT);
    static const unsigned char type_65535[7] = {0xff, 0xff, 0x03, 0, 2, 0, 0};
    memcpy(big + n, type_65535, sizeof type_65535);
    co_parse_expect(big, n + sizeof type_65535, 0);
    co_parse_expect(big, n + 4, MS_ERR_CORRUPT); /* a header cut short */
    /* the same section twice */
    memcpy(big, raw, n);
    memcpy(big + n, raw + strings_end, second_len);
    co_parse_expect(big, n + second_len, MS_ERR_CORRUPT);
    /* a second string table */
    memcpy(big + n, raw, strings_end);
    co_parse_expect(big, n + strings_end, MS_ERR_CORRUPT);
    /* section type 0 */
    memcpy(big, raw, n);
    memcpy(big + n, unknown, sizeof unknown);
    big[n] = 0;
    big[n + 1] = 0;
    co_parse_expect(big, n + sizeof unknown, MS_ERR_CORRUPT);
    free(big);
    free(raw);
}

/* SPEC.md 5.3: a known column in an undefined encoding, or in one of the
 * wrong type, is corrupt; an unknown column in an undefined encoding is
 * skipped (a later minor may add encodings for the columns it adds). */
static void test_column_encodings(void **state)
{
    co_state *st = co_get(state);
    char *path = tf_path(st->dir, "enc.msnap");
    int err;
    char msg[256];
    ms_writer *w = ms_writer_open(path, MS_CREATE, NULL, 0, &err, msg, sizeof msg);
    if (!w) fail_msg("open: %s", msg);
    ms_table *snap = ms_table_new(MS_SEC_SNAPSHOT), *maps = ms_table_new(MS_SEC_MAPPINGS);
    assert_int_equal(ms_table_row(snap), 0);
    assert_int_equal(ms_table_u64(snap, MS_SNAP_SEQ, 1), 0);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(ms_table_row(maps), 0);
        assert_int_equal(ms_table_u64(maps, MS_MAP_START, 0x1000u * (i + 1)), 0);
        assert_int_equal(ms_table_u64(maps, 300, 7u * i), 0);            /* unknown, U64 */
        assert_int_equal(ms_table_cstr(maps, 301, i % 2 ? "odd" : NULL), 0); /* unknown, STR */
    }
    assert_int_equal(ms_writer_begin(w), 0);
    assert_int_equal(ms_writer_add(w, snap), 0);
    assert_int_equal(ms_writer_add(w, maps), 0);
    tf_assert_err(ms_writer_end(w, 0), 0, ms_writer_error(w));
    assert_int_equal(ms_writer_close(w), 0);
    ms_table_free(snap);
    ms_table_free(maps);
    size_t len;
    unsigned char *file = tf_read_file(path, &len);
    tf_record rec;
    assert_int_equal(tf_records(file, len, &rec, 1), 1);
    unsigned char *raw = tf_record_payload(file, &rec);
    size_t n = (size_t)rec.raw;
    size_t known = tf_payload_col_encoding_at(raw, n, MS_SEC_MAPPINGS, MS_MAP_START);
    size_t unknown = tf_payload_col_encoding_at(raw, n, MS_SEC_MAPPINGS, 300);
    assert_true(known && unknown);
    /* type 0, reserved bit 7, methods 7 and 15, CONST shifted, a shifted
     * string, GAP, SPAN or shifted on a string, SEQ on integers */
    static const unsigned char undefined[] = {0x00, 0x04, 0x81, 0x1d, 0x3d, 0x3e, 0x49, 0x43,
                                              0x13, 0x17, 0x47, 0x19, 0x1a, 0x80, 0xff};
    for (size_t i = 0; i < sizeof undefined; i++) {
        unsigned char save = raw[known];
        raw[known] = undefined[i];
        co_parse_expect(raw, n, MS_ERR_CORRUPT);
        raw[known] = save;
        save = raw[unknown];
        raw[unknown] = undefined[i];
        char pmsg[256];
        ms_snapshot *s = NULL;
        tf_assert_err(ms_payload_parse(raw, n, &s, pmsg, sizeof pmsg), 0, pmsg);
        const ms_section *sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
        assert_int_equal(ms_section_ncols(sec), 2); /* start and 301; 300 skipped */
        assert_int_equal(ms_section_has(sec, 300), 0);
        assert_int_equal(ms_u64_or(sec, MS_MAP_START, 3, 0), 0x4000);
        const char *str;
        size_t slen;
        assert_int_equal(ms_get_str(sec, 301, 1, &str, &slen), 1);
        assert_int_equal(slen, 3);
        assert_memory_equal(str, "odd", 3);
        tf_walk_snapshot(s);
        ms_snapshot_free(s);
        raw[unknown] = save;
    }
    /* defined encodings of the wrong type for a known column */
    const unsigned char wrong[] = {ms_enc_byte(MS_T_I64, MS_M_PLAIN, 1), ms_enc_byte(MS_T_STR, MS_M_PLAIN, 0),
                                          ms_enc_byte(MS_T_STR, MS_M_SEQ, 0)};
    for (size_t i = 0; i < sizeof wrong; i++) {
        unsigned char save = raw[known];
        raw[known] = wrong[i];
        co_parse_expect(raw, n, MS_ERR_CORRUPT);
        raw[known] = save;
    }
    /* an unknown column may switch between the defined encodings: it takes
     * the type of its encoding (U64 and I64 PLAIN read the same bytes) */
    assert_int_equal(raw[unknown], ms_enc_byte(MS_T_U64, MS_M_PLAIN, 0));
    raw[unknown] = ms_enc_byte(MS_T_I64, MS_M_PLAIN, 0);
    ms_snapshot *s = NULL;
    char pmsg[256];
    tf_assert_err(ms_payload_parse(raw, n, &s, pmsg, sizeof pmsg), 0, pmsg);
    unsigned col;
    ms_coltype ct;
    assert_int_equal(ms_section_col_at(ms_snapshot_section(s, MS_SEC_MAPPINGS), 1, &col, &ct), 0);
    assert_int_equal(col, 300);
    assert_int_equal(ct, MS_T_I64);
    ms_snapshot_free(s);
    free(raw);
    free(file);
    free(path);
}

/* ------------------------------------------------------ versions, headers */

/* Copies the sample file, applies nothing, and returns it for patching. */
static unsigned char *co_copy(const co_state *st)
{
    unsigned char *b = malloc(st->len);
    assert_non_null(b);
    memcpy(b, st->file, st->len);
    return b;
}

static void co_fix_file_crc(unsigned char *b)
{
    ms_put_le32(b + 60, ms_crc32c(0, b, 60));
}

static void co_fix_record_crc(unsigned char *rec)
{
    ms_put_le32(rec + 36, ms_crc32c(0, rec, 36));
}

static void co_expect_open_error(const unsigned char *b, size_t len, int want, const char *where)
{
    tf_readout o;
    tf_read_mem(b, len, CO_NAME, 0, 0, &o);
    tf_assert_err(o.rc, want, o.msg);
    assert_false(o.opened);
    assert_non_null(strstr(o.msg, CO_NAME));
    if (!strstr(o.msg, where)) fail_msg("message %s lacks %s", o.msg, where);
}

static void co_expect_sample(const unsigned char *b, size_t len, unsigned major, unsigned minor)
{
    tf_readout o;
    tf_read_mem(b, len, CO_NAME, 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.major, major);
    assert_int_equal(o.minor, minor);
    assert_string_equal(o.writer_id, "memsnap-test");
    assert_int_equal(o.n, CO_NSNAP);
    for (unsigned i = 0; i < CO_NSNAP; i++) tf_sample_check(o.snaps[i], i, co_noise[i]);
    tf_readout_free(&o);
}

static void test_versions(void **state)
{
    co_state *st = co_get(state);
    unsigned char *b = co_copy(st);
    ms_put_le16(b + 8, 2); /* a newer major: refused, whatever follows */
    ms_put_le16(b + 10, 0);
    co_fix_file_crc(b);
    co_expect_open_error(b, st->len, MS_ERR_VERSION, "byte 8: format version 2.0");
    ms_put_le16(b + 8, 0);
    co_fix_file_crc(b);
    co_expect_open_error(b, st->len, MS_ERR_VERSION, "byte 8:");

    ms_put_le16(b + 8, 1); /* a newer minor: read */
    ms_put_le16(b + 10, 7);
    co_fix_file_crc(b);
    co_expect_sample(b, st->len, 1, 7);
    free(b);

    /* a newer minor's larger file header: 64 extension bytes, which the
     * CRC at 60 does not cover and a 1.0 reader skips */
    size_t len2 = st->len + 64;
    unsigned char *b2 = calloc(1, len2);
    assert_non_null(b2);
    memcpy(b2, st->file, 64);
    ms_put_le16(b2 + 10, 1);
    ms_put_le32(b2 + 12, 128);
    co_fix_file_crc(b2);
    memset(b2 + 64, 0xa5, 64);
    memcpy(b2 + 128, st->file + 64, st->len - 64);
    co_expect_sample(b2, len2, 1, 1);
    uint32_t past = (uint32_t)(len2 + 4) & ~3u; /* a valid size, longer than the file */
    assert_true(past > len2 && past <= 4096);
    ms_put_le32(b2 + 12, past);
    co_fix_file_crc(b2);
    co_expect_open_error(b2, len2, MS_ERR_TRUNCATED, "byte ");
    ms_put_le32(b2 + 12, 130); /* not a multiple of 4 */
    co_expect_open_error(b2, len2, MS_ERR_CORRUPT, "byte 12:");
    ms_put_le32(b2 + 12, 4100); /* over the 4096-byte maximum */
    co_expect_open_error(b2, len2, MS_ERR_CORRUPT, "byte 12:");
    ms_put_le32(b2 + 12, 60); /* under the minimum */
    co_expect_open_error(b2, len2, MS_ERR_CORRUPT, "byte 12:");
    free(b2);

    /* a newer minor's larger record header: 12 extension bytes after the
     * CRC, not covered by it, skipped */
    len2 = st->len + 12;
    b2 = calloc(1, len2);
    assert_non_null(b2);
    uint64_t r0 = st->recs[0].off;
    memcpy(b2, st->file, (size_t)r0 + 40);
    ms_put_le32(b2 + r0 + 4, 52);
    co_fix_record_crc(b2 + r0);
    memset(b2 + r0 + 40, 0x5a, 12);
    memcpy(b2 + r0 + 52, st->file + r0 + 40, st->len - (size_t)r0 - 40);
    co_expect_sample(b2, len2, 1, MS_FORMAT_MINOR); /* the sample file is 1.1: codec-2 records */
    /* its header size is checked once the CRC has vouched for it */
    static const uint32_t bad_sizes[] = {36, 42, 4100, 0};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        ms_put_le32(b2 + r0 + 4, bad_sizes[i]);
        co_fix_record_crc(b2 + r0);
        tf_readout o;
        tf_read_mem(b2, len2, CO_NAME, 0, 0, &o);
        tf_assert_err(o.rc, MS_ERR_CORRUPT, o.msg);
        assert_int_equal(o.err_off, r0 + 4);
        tf_readout_free(&o);
    }
    free(b2);
}

static void test_reserved_fields(void **state)
{
    co_state *st = co_get(state);
    unsigned char *b = co_copy(st);
    ms_put_le32(b + 56, 1); /* reserved file header flags, with a valid CRC */
    co_fix_file_crc(b);
    co_expect_open_error(b, st->len, MS_ERR_CORRUPT, "byte 56:");
    free(b);
    b = co_copy(st);
    memset(b + 16, 'x', 40); /* writer id without its NUL */
    co_fix_file_crc(b);
    co_expect_open_error(b, st->len, MS_ERR_CORRUPT, "byte 16:");
    free(b);

    /* record header fields with valid CRCs: each must be refused */
    static const struct {
        size_t byte;
        unsigned char value;
        size_t err_at;
        int want;
    } cases[] = {
        {28, 3, 28, MS_ERR_UNSUPPORTED},   /* a later version's codec */
        {28, 255, 28, MS_ERR_UNSUPPORTED},
        {28, 0, 28, MS_ERR_UNSUPPORTED},
        {28, 1, 40, MS_ERR_ZSTD},          /* codec 1 on a frame that needs dictionary #1 */
        {29, 1, 29, MS_ERR_CORRUPT},       /* reserved */
        {35, 0x80, 35, MS_ERR_CORRUPT},    /* reserved, last byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t r = 0; r < CO_NSNAP; r++) {
            b = co_copy(st);
            unsigned char *rec = b + st->recs[r].off;
            rec[cases[i].byte] = cases[i].value;
            co_fix_record_crc(rec);
            tf_readout o;
            tf_read_mem(b, st->len, CO_NAME, 0, 0, &o);
            tf_assert_err(o.rc, cases[i].want, o.msg);
            assert_int_equal(o.n, r);
            assert_int_equal(o.err_off, st->recs[r].off + cases[i].err_at);
            tf_readout_free(&o);
            free(b);
        }

    /* sizes that disagree with the frame, with valid CRCs */
    for (int k = 0; k < 4; k++) {
        b = co_copy(st);
        unsigned char *rec = b + st->recs[0].off;
        uint64_t raw = st->recs[0].raw, comp = st->recs[0].comp;
        if (k == 0) ms_put_le64(rec + 16, 0);       /* no payload */
        if (k == 1) ms_put_le64(rec + 16, raw + 1); /* frame declares another size */
        if (k == 2) ms_put_le64(rec + 16, raw - 1);
        if (k == 3) { /* the frame is shorter than the record says: the first
                         byte of record 1 is taken into the payload */
            ms_put_le64(rec + 8, comp + 1);
            ms_put_le32(rec + 24, ms_crc32c(0, rec + 40, (size_t)comp + 1));
        }
        co_fix_record_crc(rec);
        tf_readout o;
        tf_read_mem(b, st->len, CO_NAME, 0, 0, &o);
        tf_assert_err(o.rc, MS_ERR_CORRUPT, o.msg);
        assert_int_equal(o.n, 0);
        tf_readout_free(&o);
        free(b);
    }
}

static void test_size_cap(void **state)
{
    co_state *st = co_get(state);
    uint64_t raw0 = st->recs[0].raw, raw1 = st->recs[1].raw;
    assert_true(raw1 > raw0);
    tf_readout o;
    tf_read_mem(st->file, st->len, CO_NAME, 0, raw0 - 1, &o);
    tf_assert_err(o.rc, MS_ERR_LIMIT, o.msg);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.err_off, st->recs[0].off + 16);
    assert_non_null(strstr(o.msg, CO_NAME ": byte "));
    tf_readout_free(&o);
    tf_read_mem(st->file, st->len, CO_NAME, 0, raw0, &o);
    tf_assert_err(o.rc, MS_ERR_LIMIT, o.msg);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.err_off, st->recs[1].off + 16);
    tf_readout_free(&o);
    tf_read_mem(st->file, st->len, CO_NAME, 0, raw1, &o);
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    assert_int_equal(o.n, 2);
    tf_readout_free(&o);
    tf_read_mem(st->file, st->len, CO_NAME, 0, UINT64_MAX, &o); /* clamped, not refused */
    tf_assert_err(o.rc, MS_ERR_END, o.msg);
    tf_readout_free(&o);
    /* a declared size over the default cap is refused before any allocation */
    unsigned char *b = co_copy(st);
    ms_put_le64(b + st->recs[0].off + 16, MS_DEFAULT_MAX_RAW + 1);
    co_fix_record_crc(b + st->recs[0].off);
    tf_read_mem(b, st->len, CO_NAME, 0, 0, &o);
    tf_assert_err(o.rc, MS_ERR_LIMIT, o.msg);
    tf_readout_free(&o);
    ms_put_le64(b + st->recs[0].off + 16, UINT64_MAX);
    co_fix_record_crc(b + st->recs[0].off);
    tf_read_mem(b, st->len, CO_NAME, MS_READ_NO_CHECKSUM, 0, &o);
    tf_assert_err(o.rc, MS_ERR_LIMIT, o.msg);
    tf_readout_free(&o);
    free(b);
}

/* ----------------------------------------------------- column methods */

/* Builds a payload by hand: strings "a", "b", a snapshot section, and a
 * mappings section of `nrows` rows whose column entries are `cols` (id,
 * encoding byte, data_length, data, already laid out). */
static unsigned char *co_methods_payload(uint64_t nrows, uint64_t ncols, const ms_buf *cols, size_t *n)
{
    ms_buf p = {0}, b = {0};
    static const unsigned char strs[] = {0x02, 0x01, 0x01, 'a', 'b'};
    assert_int_equal(ms_buf_varint(&p, MS_SEC_STRINGS), 0);
    assert_int_equal(ms_buf_varint(&p, 0), 0);
    assert_int_equal(ms_buf_varint(&p, sizeof strs), 0);
    assert_int_equal(ms_buf_put(&p, strs, sizeof strs), 0);
    static const unsigned char snap[] = {MS_SEC_SNAPSHOT, 0, 6, 1, 1, MS_SNAP_SEQ, 0x01, 1, 9};
    assert_int_equal(ms_buf_put(&p, snap, sizeof snap), 0);
    assert_int_equal(ms_buf_varint(&b, nrows), 0);
    assert_int_equal(ms_buf_varint(&b, ncols), 0);
    assert_int_equal(ms_buf_put(&b, cols->p, cols->len), 0);
    assert_int_equal(ms_buf_varint(&p, MS_SEC_MAPPINGS), 0);
    assert_int_equal(ms_buf_varint(&p, 0), 0);
    assert_int_equal(ms_buf_varint(&p, b.len), 0);
    assert_int_equal(ms_buf_put(&p, b.p, b.len), 0);
    ms_buf_free(&b);
    *n = p.len;
    return p.p;
}

/* Appends a column entry: id, encoding, then `data` (given as bytes) with
 * its length in front. */
static void co_col(ms_buf *b, unsigned id, unsigned enc, const char *data, size_t len)
{
    assert_int_equal(ms_buf_varint(b, id), 0);
    unsigned char e = (unsigned char)enc;
    assert_int_equal(ms_buf_put(b, &e, 1), 0);
    assert_int_equal(ms_buf_varint(b, len), 0);
    assert_int_equal(ms_buf_put(b, data, len), 0);
}
#define CO_COL(b, id, enc, lit, len) co_col((b), (id), (enc), (lit), (len))

/* Parses the hand-made payload; on success returns the snapshot (the
 * caller frees it), else checks the code and returns NULL. */
static ms_snapshot *co_methods_at(uint64_t nrows, uint64_t ncols, ms_buf *cols, int want, int line)
{
    size_t n;
    unsigned char *raw = co_methods_payload(nrows, ncols, cols, &n);
    char msg[400] = "";
    ms_snapshot *s = NULL;
    int rc = ms_payload_parse(raw, n, &s, msg, sizeof msg);
    free(raw);
    cols->len = 0;
    if (rc != want)
        fail_msg("line %d: got %s, want %s: %s", line, ms_errname(rc), ms_errname(want), msg);
    if (rc) {
        assert_null(s);
        if (strncmp(msg, "payload byte ", 13) != 0) fail_msg("message: %s", msg);
        return NULL;
    }
    tf_walk_snapshot(s);
    return s;
}

#define co_methods(nrows, ncols, cols, want) co_methods_at((nrows), (ncols), (cols), (want), __LINE__)
#define U64(m) ms_enc_byte(MS_T_U64, (m), 0)
#define U64S(m) ms_enc_byte(MS_T_U64, (m), 1)
#define I64(m) ms_enc_byte(MS_T_I64, (m), 0)
#define STR(m) ms_enc_byte(MS_T_STR, (m), 0)

/* SPEC.md 5.3: what each method means, read from bytes made by hand, and
 * every rule of its data refused with MS_ERR_CORRUPT. */
static void test_method_rules(void **state)
{
    (void)state;
    ms_buf c = {0};
    uint64_t v;
    int64_t iv;

    /* GAP + REF: start = previous end + gap, end = start + length (pages) */
    CO_COL(&c, 1, U64S(MS_M_GAP), "\x0c\x80\x10\x00\x04", 5);    /* shift 12: +1024, +0, +2 pages */
    CO_COL(&c, 2, U64S(MS_M_REF), "\x0c\x01\x02\x04\x02", 5);    /* shift 12, a = 1: 1, 2, 1 pages */
    ms_snapshot *s = co_methods(3, 2, &c, 0);
    const ms_section *sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    static const uint64_t st[] = {0x400000, 0x401000, 0x405000}, en[] = {0x401000, 0x403000, 0x406000};
    for (size_t r = 0; r < 3; r++) {
        assert_true(ms_get_u64(sec, 1, r, &v) && v == st[r]);
        assert_true(ms_get_u64(sec, 2, r, &v) && v == en[r]);
    }
    ms_snapshot_free(s);
    /* GAP without its REF partner right after it */
    CO_COL(&c, 1, U64(MS_M_GAP), "\x00\x02", 2);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* the last column */
    CO_COL(&c, 1, U64(MS_M_GAP), "\x00\x02", 2);
    CO_COL(&c, 2, U64(MS_M_PLAIN), "\x00\x02", 2);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* PLAIN */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x00\x02", 2);
    CO_COL(&c, 2, U64(MS_M_GAP), "\x00\x02", 2);
    CO_COL(&c, 3, U64(MS_M_REF), "\x01\x00\x02", 3);
    co_methods(2, 3, &c, MS_ERR_CORRUPT); /* a REF to another column */
    CO_COL(&c, 1, U64(MS_M_GAP), "\x00\x02", 2);
    CO_COL(&c, 200, 0x3d, "\x01\x00\x02", 3);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* an entry that is skipped */
    CO_COL(&c, 1, U64(MS_M_GAP), "\x00\x02", 2);
    CO_COL(&c, 2, I64(MS_M_REF), "\x01\x00\x02", 3);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* of another type */

    /* REF: to an earlier decoded column of the same type only */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x05\x07", 2);
    CO_COL(&c, 2, U64(MS_M_REF), "\x01\x00\x03", 3); /* 5 + 0, 7 - 2 */
    s = co_methods(2, 2, &c, 0);
    sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    assert_true(ms_get_u64(sec, 2, 0, &v) && v == 5);
    assert_true(ms_get_u64(sec, 2, 1, &v) && v == 5);
    ms_snapshot_free(s);
    CO_COL(&c, 1, U64(MS_M_REF), "\x02\x00\x00", 3);
    CO_COL(&c, 2, U64(MS_M_PLAIN), "\x05\x07", 2);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* a later column */
    CO_COL(&c, 1, U64(MS_M_REF), "\x01\x00\x00", 3);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* itself */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x05\x07", 2);
    CO_COL(&c, 2, U64(MS_M_REF), "\x09\x00\x00", 3);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* no such column */
    CO_COL(&c, 8, STR(MS_M_PLAIN), "\x01\x02", 2);
    CO_COL(&c, 10, U64(MS_M_REF), "\x08\x00\x00", 3);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* a string column */
    CO_COL(&c, 200, 0x3d, "\x05\x07", 2);
    CO_COL(&c, 201, U64(MS_M_REF), "\x81\x01\x00\x00", 4);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* a skipped column */
    CO_COL(&c, 1, U64(MS_M_CONST), "\x05", 1);
    CO_COL(&c, 2, U64(MS_M_PLAIN), "\x00\x00", 2);
    CO_COL(&c, 3, U64(MS_M_REF), "\x01\x01\x02", 3); /* a CONST base: 5 - 1, 5 + 1 */
    s = co_methods(2, 3, &c, 0);
    sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    assert_true(ms_get_u64(sec, 3, 0, &v) && v == 4);
    assert_true(ms_get_u64(sec, 3, 1, &v) && v == 6);
    assert_true(ms_get_u64(sec, 1, 1, &v) && v == 5);
    ms_snapshot_free(s);

    /* SPAN: ((a - b) >> s) + residual */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x80\x20\x80\x40", 4);         /* 4096, 8192 */
    CO_COL(&c, 2, U64(MS_M_PLAIN), "\x80\x40\x80\x80\x01", 5);     /* 8192, 16384 */
    CO_COL(&c, 10, U64(MS_M_SPAN), "\x02\x01\x0a\x00\x02", 5);     /* >> 10: 4 + 0, 8 + 1 */
    s = co_methods(2, 3, &c, 0);
    sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    assert_true(ms_get_u64(sec, 10, 0, &v) && v == 4);
    assert_true(ms_get_u64(sec, 10, 1, &v) && v == 9);
    ms_snapshot_free(s);
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x01\x01", 2);
    CO_COL(&c, 2, U64(MS_M_PLAIN), "\x01\x01", 2);
    CO_COL(&c, 10, U64(MS_M_SPAN), "\x02\x01\x40\x00\x00", 5);
    co_methods(2, 3, &c, MS_ERR_CORRUPT); /* s = 64 */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x01\x01", 2);
    CO_COL(&c, 10, U64(MS_M_SPAN), "\x01\x0b\x00\x00\x00", 5);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* b is a later column */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x01\x01", 2);
    CO_COL(&c, 10, U64(MS_M_SPAN), "\x01\x01", 2);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* no s, no values */

    /* shifts: 1-63, and no bit shifted out */
    CO_COL(&c, 1, U64S(MS_M_PLAIN), "\x3f\x01\x00", 3);
    s = co_methods(2, 1, &c, 0);
    assert_true(ms_get_u64(ms_snapshot_section(s, MS_SEC_MAPPINGS), 1, 0, &v) && v == (uint64_t)1 << 63);
    ms_snapshot_free(s);
    CO_COL(&c, 1, U64S(MS_M_PLAIN), "\x3f\x02\x00", 3);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* 2 << 63 */
    CO_COL(&c, 1, U64S(MS_M_PLAIN), "\x00\x01\x00", 3);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* shift 0 with the flag */
    CO_COL(&c, 1, U64S(MS_M_PLAIN), "\x40\x01\x00", 3);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* shift 64 */
    CO_COL(&c, 1, U64S(MS_M_PLAIN), "", 0);
    co_methods(0, 1, &c, MS_ERR_CORRUPT); /* no shift byte */
    CO_COL(&c, 300, I64(MS_M_DELTA) | MS_ENC_SHIFTED, "\x04\x03\x04", 3); /* -2 << 4, +2 << 4 */
    s = co_methods(2, 1, &c, 0);
    sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    assert_true(ms_get_i64(sec, 300, 0, &iv) && iv == -32);
    assert_true(ms_get_i64(sec, 300, 1, &iv) && iv == 0);
    ms_snapshot_free(s);

    /* CONST: exactly one varint, not materialised per row */
    CO_COL(&c, 1, U64(MS_M_CONST), "\x05\x05", 2);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* two varints */
    CO_COL(&c, 1, U64(MS_M_CONST), "", 0);
    CO_COL(&c, 2, U64(MS_M_PLAIN), "\x00\x00", 2);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* none */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x00\x00", 2);
    CO_COL(&c, 8, STR(MS_M_CONST), "\x03", 1);
    co_methods(2, 2, &c, MS_ERR_CORRUPT); /* string 3 of 2 */
    CO_COL(&c, 1, U64(MS_M_CONST), "\x05", 1);
    CO_COL(&c, 2, U64(MS_M_CONST), "\x06", 1);
    co_methods(20, 2, &c, MS_ERR_CORRUPT); /* 20 rows cannot fit in the body's bytes */
    {
        /* a table of 1000 rows, one PLAIN column and 300 CONST ones: the
           CONST ones cost a descriptor each, not 8 bytes a row */
        char zeros[1000] = {0};
        co_col(&c, 1, U64(MS_M_PLAIN), zeros, sizeof zeros);
        for (unsigned id = 100; id < 400; id++) CO_COL(&c, id, I64(MS_M_CONST), "\x05", 1);
        s = co_methods(1000, 301, &c, 0);
        sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
        assert_true(ms_get_i64(sec, 399, 999, &iv) && iv == -3);
        assert_true(ms_get_u64(sec, 1, 999, &v) && v == 0);
        ms_snapshot_free(s);
    }

    /* strings: SEQ and the index range */
    CO_COL(&c, 8, STR(MS_M_SEQ), "\x01\x00\x01\x02\x03", 5); /* 1, null, 2, 1, 2 */
    s = co_methods(5, 1, &c, 0);
    sec = ms_snapshot_section(s, MS_SEC_MAPPINGS);
    static const char *const want[] = {"a", NULL, "b", "a", "b"};
    for (size_t r = 0; r < 5; r++) {
        const char *p;
        size_t len;
        assert_int_equal(ms_get_str(sec, 8, r, &p, &len), 1);
        if (want[r])
            assert_true(p && len == 1 && p[0] == want[r][0]);
        else
            assert_null(p);
    }
    ms_snapshot_free(s);
    CO_COL(&c, 8, STR(MS_M_SEQ), "\x01\x01\x01", 3);
    co_methods(3, 1, &c, MS_ERR_CORRUPT); /* the third new string does not exist */
    CO_COL(&c, 8, STR(MS_M_SEQ), "\x04", 1);
    co_methods(1, 1, &c, MS_ERR_CORRUPT); /* index 3 */
    CO_COL(&c, 8, STR(MS_M_DELTA), "\x02\x03", 2);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* 1, then 2 less: wraps to 2^64 - 1 */
    CO_COL(&c, 8, STR(MS_M_PLAIN), "\x00\x02", 2);
    CO_COL(&c, 37, STR(MS_M_REF), "\x08\x02\x00", 3); /* a: 0 + 1, 2 + 0 */
    s = co_methods(2, 2, &c, 0);
    const char *p;
    size_t len;
    assert_true(ms_get_str(ms_snapshot_section(s, MS_SEC_MAPPINGS), 37, 0, &p, &len) && p && p[0] == 'a');
    ms_snapshot_free(s);

    /* values that the rows cannot hold */
    CO_COL(&c, 1, U64(MS_M_PLAIN), "\x00\x00", 2);
    co_methods(3, 1, &c, MS_ERR_CORRUPT); /* 2 bytes for 3 rows */
    CO_COL(&c, 1, U64(MS_M_DELTA), "\x00\x00\x00", 3);
    co_methods(2, 1, &c, MS_ERR_CORRUPT); /* a value too many */
    ms_buf_free(&c);
}

#define CO_TEST(f) cmocka_unit_test_setup_teardown(f, co_setup, co_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CO_TEST(test_file_header_bits),
        CO_TEST(test_record_header_bits),
        CO_TEST(test_payload_bits),
        CO_TEST(test_decompressed_payload_bits),
        CO_TEST(test_structure_goldens),
        CO_TEST(test_column_encodings),
        cmocka_unit_test(test_method_rules),
        CO_TEST(test_versions),
        CO_TEST(test_reserved_fields),
        CO_TEST(test_size_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

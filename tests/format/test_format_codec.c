/*
 * test_format_codec.c - record codecs (SPEC.md 3.1, 3.5). Built-in
 * dictionary #1 is the frozen file that SPEC.md describes (size, SHA-256,
 * id); codec 2 (the writer's default) and codec 1 (MS_ZLEVEL_NO_DICT)
 * carry every section type and column to the same decoded snapshot; a new
 * file's minor version follows its codec and appending keeps the header;
 * the writer refuses a zlevel it does not know; the reader applies the
 * codec-2 frame rules with the errors and messages the spec names.
 */
#include "format_test_util.h"

#include "msnap_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#ifndef MS_SOURCE_DIR
#error "MS_SOURCE_DIR (the source tree) must be defined by the build"
#endif

/* What SPEC.md 3.5 states about dictionary #1; once released, never changed. */
#define CD_DICT_SHA256 "c7e4d61fe54ce3c141659992226ae3746d9853d1948e1518782294912412e115"

static int cd_setup(void **state)
{
    *state = tf_tmpdir();
    return *state ? 0 : -1;
}

static int cd_teardown(void **state)
{
    tf_rmdir_all(*state);
    return 0;
}

/* ------------------------------------------------------------- SHA-256 */

/* FIPS 180-4 SHA-256 of `n` bytes, as lower-case hex (65 bytes with NUL). */
static void cd_sha256(const unsigned char *p, size_t n, char hex[65])
{
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
#define CD_ROR(x, r) (((x) >> (r)) | ((x) << (32 - (r))))
    size_t total = (n + 9 + 63) / 64 * 64; /* message, 0x80, zeros, 64-bit length */
    for (size_t off = 0; off < total; off += 64) {
        unsigned char blk[64];
        for (size_t i = 0; i < 64; i++) {
            size_t at = off + i;
            blk[i] = at < n ? p[at] : at == n ? 0x80 : 0;
        }
        if (off + 64 == total)
            for (int i = 0; i < 8; i++) blk[63 - i] = (unsigned char)(((uint64_t)n * 8) >> (8 * i));
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 | (uint32_t)blk[4 * i + 2] << 8 |
                   blk[4 * i + 3];
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = CD_ROR(w[i - 15], 7) ^ CD_ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = CD_ROR(w[i - 2], 17) ^ CD_ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; i++) {
            uint32_t t1 = hh + (CD_ROR(e, 6) ^ CD_ROR(e, 11) ^ CD_ROR(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            uint32_t t2 = (CD_ROR(a, 2) ^ CD_ROR(a, 13) ^ CD_ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
#undef CD_ROR
    for (int i = 0; i < 8; i++) snprintf(hex + 8 * i, 9, "%08x", h[i]);
}

/* ----------------------------------------------------------- the dictionary */

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    cd_sha256((const unsigned char *)"", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cd_sha256((const unsigned char *)"abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two blocks */
    cd_sha256((const unsigned char *)two, sizeof two - 1, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_dictionary_is_frozen(void **state)
{
    (void)state;
    size_t size = 1;
    const unsigned char *d = ms_codec_dict(MS_CODEC_ZSTD_DICT1, &size);
    assert_non_null(d);
    assert_int_equal(size, MS_DICT1_SIZE);
    assert_int_equal(MS_DICT1_SIZE, 32768);
    assert_int_equal(MS_DICT1_ID, 52563);
    char hex[65];
    cd_sha256(d, size, hex);
    assert_string_equal(hex, CD_DICT_SHA256);
    /* a zstd dictionary (magic, then the id that every codec-2 frame names) */
    assert_int_equal(ms_get_le32(d), 0xEC30A437u);
    assert_int_equal(ZSTD_getDictID_fromDict(d, size), MS_DICT1_ID);

    /* the library embeds the committed file, byte for byte */
    size_t flen;
    unsigned char *f = tf_read_file(MS_SOURCE_DIR "/format/dict/msnap-dict-1.bin", &flen);
    assert_int_equal(flen, size);
    assert_memory_equal(f, d, size);
    free(f);

    /* and SPEC.md states these figures */
    size_t slen;
    char *spec = (char *)tf_read_file(MS_SOURCE_DIR "/format/SPEC.md", &slen);
    spec = realloc(spec, slen + 1);
    assert_non_null(spec);
    spec[slen] = 0;
    assert_non_null(strstr(spec, CD_DICT_SHA256));
    assert_non_null(strstr(spec, "32,768 bytes"));
    assert_non_null(strstr(spec, "52563 (0xCD53)"));
    assert_non_null(strstr(spec, "format/dict/msnap-dict-1.bin"));
    free(spec);

    /* no dictionary for codec 1, nor for codecs this library does not know */
    size = 1;
    assert_null(ms_codec_dict(MS_CODEC_ZSTD, &size));
    assert_int_equal(size, 0);
    assert_null(ms_codec_dict(0, NULL));
    assert_null(ms_codec_dict(3, &size));
    assert_null(ms_codec_dict(255, &size));
    assert_int_equal(size, 0);
}

/* ------------------------------------------- every section through codec 2 */

/* The value of cell (type, col, row) in the snapshot that every_section
 * builds: U64 and I64 extremes and ordinary values, strings that a real
 * snapshot holds, the empty string, a NUL byte, and null. */
static uint64_t cd_u64(unsigned type, unsigned col, size_t row)
{
    uint64_t x = tf_mix((uint64_t)type << 32 | col << 8 | row);
    switch (row % 4) {
    case 0: return x % 1000;
    case 1: return UINT64_MAX - (x % 3);
    case 2: return 0x7f0000000000ull + (x % 0x100000) * 4096;
    default: return x;
    }
}

static const char *const cd_strings[] = {"/usr/lib/x86_64-linux-gnu/libc.so.6", "VmRSS", "[heap]",
                                         "rd wr mr mw me ac", "", "memory.stat", "_frozen_importlib_external",
                                         "a\0b"};

static const char *cd_str(unsigned type, unsigned col, size_t row, size_t *len)
{
    size_t k = (type + col + row) % 9;
    if (k == 8) {
        *len = 0;
        return NULL; /* null */
    }
    *len = k == 7 ? 3 : strlen(cd_strings[k]);
    return cd_strings[k];
}

/* Adds every known section (2-18) with every known column to `w`'s open
 * snapshot: one row in the one-row sections, `rows` in the others. */
static void cd_every_section(ms_writer *w, size_t rows)
{
    for (unsigned type = MS_SEC_SNAPSHOT; type <= MS_SEC_MAX_KNOWN; type++) {
        ms_table *t = ms_table_new(type);
        assert_non_null(t);
        size_t n = type == MS_SEC_SNAPSHOT || type == MS_SEC_HOST || type == MS_SEC_PROCESS ||
                           type == MS_SEC_CGROUP || type == MS_SEC_PY_RUNTIME || type == MS_SEC_PY_ALLOC_TOTALS
                       ? 1
                       : rows;
        for (size_t r = 0; r < n; r++) {
            assert_int_equal(ms_table_row(t), 0);
            for (unsigned col = 1; col < 64; col++) {
                const char *name;
                ms_coltype ct;
                if (ms_column_info(type, col, &name, &ct)) continue;
                size_t len;
                const char *s;
                if (ct == MS_T_U64) assert_int_equal(ms_table_u64(t, col, cd_u64(type, col, r)), 0);
                else if (ct == MS_T_I64) assert_int_equal(ms_table_i64(t, col, (int64_t)cd_u64(type, col, r)), 0);
                else if ((s = cd_str(type, col, r, &len))) assert_int_equal(ms_table_str(t, col, s, len), 0);
                else assert_int_equal(ms_table_null(t, col), 0);
            }
        }
        tf_assert_err(ms_writer_add(w, t), 0, ms_writer_error(w));
        ms_table_free(t);
    }
}

/* Asserts that `s` holds exactly what cd_every_section wrote. */
static void cd_check_every_section(const ms_snapshot *s, size_t rows)
{
    assert_int_equal(ms_snapshot_nsections(s), MS_SEC_MAX_KNOWN - 1);
    for (unsigned type = MS_SEC_SNAPSHOT; type <= MS_SEC_MAX_KNOWN; type++) {
        const ms_section *sec = ms_snapshot_section(s, type);
        assert_non_null(sec);
        size_t n = ms_section_nrows(sec);
        assert_true(n == 1 || n == rows);
        for (unsigned col = 1; col < 64; col++) {
            const char *name;
            ms_coltype ct;
            if (ms_column_info(type, col, &name, &ct)) continue;
            assert_int_equal(ms_section_has(sec, col), 1);
            for (size_t r = 0; r < n; r++) {
                if (ct == MS_T_STR) {
                    size_t wl, gl;
                    const char *want = cd_str(type, col, r, &wl), *got;
                    assert_int_equal(ms_get_str(sec, col, r, &got, &gl), 1);
                    assert_int_equal(got == NULL, want == NULL);
                    assert_int_equal(gl, wl);
                    if (want) assert_memory_equal(got, want, wl);
                } else if (ct == MS_T_I64) {
                    int64_t v;
                    assert_int_equal(ms_get_i64(sec, col, r, &v), 1);
                    assert_true(v == (int64_t)cd_u64(type, col, r));
                } else {
                    uint64_t v;
                    assert_int_equal(ms_get_u64(sec, col, r, &v), 1);
                    assert_true(v == cd_u64(type, col, r));
                }
            }
        }
    }
}

/* Writes `nsnap` snapshots of every section with `zlevel`, returns the file. */
static unsigned char *cd_write_every(const char *dir, const char *name, int zlevel, unsigned nsnap, size_t *len)
{
    char *path = tf_path(dir, name);
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "codec-test", zlevel, &err, msg, sizeof msg);
    if (!w) fail_msg("ms_writer_open: %s", msg);
    for (unsigned i = 0; i < nsnap; i++) {
        tf_assert_err(ms_writer_begin(w), 0, ms_writer_error(w));
        cd_every_section(w, 3 + i);
        tf_assert_err(ms_writer_end(w, 0), 0, ms_writer_error(w));
    }
    assert_int_equal(ms_writer_close(w), 0);
    unsigned char *f = tf_read_file(path, len);
    free(path);
    return f;
}

static void test_every_section_both_codecs(void **state)
{
    enum { N = 3 };
    size_t len2, len1;
    unsigned char *f2 = cd_write_every(*state, "c2.msnap", 0, N, &len2);
    unsigned char *f1 = cd_write_every(*state, "c1.msnap", MS_ZLEVEL_NO_DICT, N, &len1);
    tf_record r2[N], r1[N];
    assert_int_equal(tf_records(f2, len2, r2, N), N);
    assert_int_equal(tf_records(f1, len1, r1, N), N);
    assert_int_equal(ms_get_le16(f2 + 10), 1); /* a file of codec-2 records says 1.1 */
    assert_int_equal(ms_get_le16(f1 + 10), 0); /* one a 1.0 reader reads says 1.0 */
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(r2[i].codec, MS_CODEC_ZSTD_DICT1);
        assert_int_equal(r1[i].codec, MS_CODEC_ZSTD);
        assert_int_equal(r2[i].raw, r1[i].raw); /* the same payload, */
        unsigned char *p2 = tf_record_payload(f2, &r2[i]), *p1 = tf_record_payload(f1, &r1[i]);
        assert_memory_equal(p2, p1, (size_t)r1[i].raw); /* byte for byte */
        free(p2);
        free(p1);
        assert_true(r2[i].comp < r1[i].comp); /* and the dictionary makes it smaller */
        assert_int_equal(ZSTD_getDictID_fromFrame(f2 + r2[i].off + r2[i].hsize, (size_t)r2[i].comp), MS_DICT1_ID);
        assert_int_equal(ZSTD_getDictID_fromFrame(f1 + r1[i].off + r1[i].hsize, (size_t)r1[i].comp), 0);
    }

    /* both decode to the same snapshots, with and without checksums, from
     * memory and from the file (one dictionary for all records) */
    for (unsigned flags = 0; flags <= MS_READ_NO_CHECKSUM; flags += MS_READ_NO_CHECKSUM) {
        tf_readout o2, o1, of;
        tf_read_mem(f2, len2, "c2.msnap", flags, 0, &o2);
        tf_read_mem(f1, len1, "c1.msnap", flags, 0, &o1);
        char *path = tf_path(*state, "c2.msnap");
        tf_read_path(path, flags, &of);
        free(path);
        tf_assert_err(o2.rc, MS_ERR_END, o2.msg);
        tf_assert_err(o1.rc, MS_ERR_END, o1.msg);
        tf_assert_err(of.rc, MS_ERR_END, of.msg);
        assert_int_equal(o2.n, N);
        assert_int_equal(o1.n, N);
        assert_int_equal(o2.minor, 1);
        assert_int_equal(o1.minor, 0);
        for (unsigned i = 0; i < N; i++) {
            assert_int_equal(ms_snapshot_codec(o2.snaps[i]), MS_CODEC_ZSTD_DICT1);
            assert_int_equal(ms_snapshot_codec(o1.snaps[i]), MS_CODEC_ZSTD);
            cd_check_every_section(o2.snaps[i], 3 + i);
            tf_assert_content_equal(o2.snaps[i], o1.snaps[i]);
            tf_assert_snapshot_equal(o2.snaps[i], of.snaps[i]);
        }
        tf_readout_free(&o2);
        tf_readout_free(&o1);
        tf_readout_free(&of);
    }
    assert_int_equal(ms_snapshot_codec(NULL), 0);
    free(f2);
    free(f1);
}

/* ----------------------------------------------------------- the writer */

static void test_writer_zlevel(void **state)
{
    char *path = tf_path(*state, "z.msnap");
    static const int bad[] = {-1, 23, INT_MIN, 0x200, MS_ZLEVEL_NO_DICT | 23, MS_ZLEVEL_NO_DICT | 0x1000, 99};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int err = 0;
        char msg[256] = "";
        assert_null(ms_writer_open(path, MS_CREATE, NULL, bad[i], &err, msg, sizeof msg));
        tf_assert_err(err, MS_ERR_USAGE, msg);
        assert_non_null(strstr(msg, "zstd level"));
        struct stat st;
        assert_int_not_equal(stat(path, &st), 0); /* refused before anything was created */
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        err = 0;
        assert_null(ms_writer_fdopen(fd, NULL, bad[i], &err, msg, sizeof msg));
        tf_assert_err(err, MS_ERR_USAGE, msg);
        close(fd);
        unlink(path);
    }
    static const struct {
        int zlevel;
        unsigned minor, codec;
    } good[] = {{0, 1, 2}, {1, 1, 2}, {22, 1, 2}, {MS_ZLEVEL_NO_DICT, 0, 1}, {MS_ZLEVEL_NO_DICT | 19, 0, 1}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t len;
        unsigned char *f = tf_sample_file_z(path, 2, NULL, good[i].zlevel, &len);
        assert_int_equal(ms_get_le16(f + 10), good[i].minor);
        tf_record r[2];
        assert_int_equal(tf_records(f, len, r, 2), 2);
        assert_int_equal(r[0].codec, good[i].codec);
        assert_int_equal(r[1].codec, good[i].codec);
        tf_readout o;
        tf_read_mem(f, len, "z.msnap", 0, 0, &o);
        tf_assert_err(o.rc, MS_ERR_END, o.msg);
        assert_int_equal(o.n, 2);
        for (unsigned k = 0; k < 2; k++) tf_sample_check(o.snaps[k], k, 0);
        tf_readout_free(&o);
        free(f);
    }
    /* a file with no snapshot says which records it was opened for */
    int err;
    char msg[256];
    unlink(path);
    ms_writer *w = ms_writer_open(path, MS_CREATE, NULL, MS_ZLEVEL_NO_DICT, &err, msg, sizeof msg);
    assert_non_null(w);
    assert_int_equal(ms_writer_close(w), 0);
    size_t len;
    unsigned char *f = tf_read_file(path, &len);
    assert_int_equal(len, MS_FILE_HEADER_SIZE);
    assert_int_equal(ms_get_le16(f + 10), 0);
    free(f);
    free(path);
}

/* Appending keeps the file header (SPEC.md 7): records of both codecs may
 * follow each other in one file, whichever minor its header says. */
static void test_append_mixes_codecs(void **state)
{
    char *path = tf_path(*state, "mixed.msnap");
    static const int first[2] = {MS_ZLEVEL_NO_DICT, 0};
    for (int start = 0; start < 2; start++) {
        size_t len;
        unsigned char *f = tf_sample_file_z(path, 1, NULL, first[start], &len);
        free(f);
        static const int then[3] = {0, MS_ZLEVEL_NO_DICT, 5};
        for (unsigned i = 0; i < 3; i++) {
            int err;
            char msg[512];
            ms_writer *w = ms_writer_open(path, MS_APPEND, "appender", then[i], &err, msg, sizeof msg);
            if (!w) fail_msg("append: %s", msg);
            tf_sample_write(w, i + 1, 0);
            assert_int_equal(ms_writer_close(w), 0);
        }
        f = tf_read_file(path, &len);
        assert_int_equal(ms_get_le16(f + 10), start ? 1 : 0); /* as the first writer left it */
        tf_record r[4];
        assert_int_equal(tf_records(f, len, r, 4), 4);
        unsigned want[4] = {start ? MS_CODEC_ZSTD_DICT1 : MS_CODEC_ZSTD, MS_CODEC_ZSTD_DICT1, MS_CODEC_ZSTD,
                            MS_CODEC_ZSTD_DICT1};
        tf_readout o;
        tf_read_mem(f, len, "mixed.msnap", 0, 0, &o);
        tf_assert_err(o.rc, MS_ERR_END, o.msg);
        assert_int_equal(o.n, 4);
        for (unsigned k = 0; k < 4; k++) {
            assert_int_equal(r[k].codec, want[k]);
            assert_int_equal(ms_snapshot_codec(o.snaps[k]), want[k]);
            tf_sample_check(o.snaps[k], k, 0);
        }
        tf_readout_free(&o);
        free(f);
        unlink(path);
    }
    free(path);
}

/* ----------------------------------------------------------- the reader */

/* A file: the 64-byte header of `base`, then the record `rec`. */
static unsigned char *cd_file(const unsigned char *base, const unsigned char *rec, size_t reclen, size_t *len)
{
    *len = MS_FILE_HEADER_SIZE + reclen;
    unsigned char *f = malloc(*len);
    assert_non_null(f);
    memcpy(f, base, MS_FILE_HEADER_SIZE);
    memcpy(f + MS_FILE_HEADER_SIZE, rec, reclen);
    return f;
}

/* Reads `f` with `flags` and asserts it fails with `want` at byte `at`,
 * after no snapshot, with a message that holds `text`. */
static void cd_expect(const unsigned char *f, size_t len, unsigned flags, uint64_t max_raw, int want, uint64_t at,
                      const char *text)
{
    tf_readout o;
    tf_read_mem(f, len, "hand.msnap", flags, max_raw, &o);
    tf_assert_err(o.rc, want, o.msg);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.err_off, at);
    if (!strstr(o.msg, text)) fail_msg("message lacks \"%s\": %s", text, o.msg);
    char where[32];
    snprintf(where, sizeof where, "byte %llu:", (unsigned long long)at);
    if (!strstr(o.msg, where) || !strstr(o.msg, "hand.msnap")) fail_msg("message lacks %s or the name: %s", where, o.msg);
    tf_readout_free(&o);
}

static void cd_fix_crcs(unsigned char *rec)
{
    uint64_t comp = ms_get_le64(rec + 8);
    ms_put_le32(rec + 24, ms_crc32c(0, rec + MS_RECORD_HEADER_SIZE, (size_t)comp));
    ms_put_le32(rec + 36, ms_crc32c(0, rec, 36));
}

static void test_codec2_frame_rules(void **state)
{
    /* a real payload and a file header to put records after */
    char *path = tf_path(*state, "src.msnap");
    size_t blen;
    unsigned char *base = tf_sample_file_z(path, 1, NULL, 3, &blen);
    tf_record br;
    assert_int_equal(tf_records(base, blen, &br, 1), 1);
    unsigned char *raw = tf_record_payload(base, &br);
    size_t rawlen = (size_t)br.raw;
    const uint64_t poff = MS_FILE_HEADER_SIZE + MS_RECORD_HEADER_SIZE;

    for (unsigned flags = 0; flags <= MS_READ_NO_CHECKSUM; flags += MS_READ_NO_CHECKSUM) {
        /* a hand-made codec-2 record reads */
        size_t rl, fl;
        unsigned char *rec = tf_record_build_codec(raw, rawlen, MS_CODEC_ZSTD_DICT1, &rl);
        unsigned char *f = cd_file(base, rec, rl, &fl);
        tf_readout o;
        tf_read_mem(f, fl, "hand.msnap", flags, 0, &o);
        tf_assert_err(o.rc, MS_ERR_END, o.msg);
        assert_int_equal(o.n, 1);
        tf_sample_check(o.snaps[0], 0, 0);
        tf_readout_free(&o);

        /* its frame naming another dictionary: corrupt (a later dictionary is a later codec) */
        size_t fhd = f[poff + 4], idat = poff + 5 + ((fhd & 0x20) ? 0 : 1);
        assert_int_equal(fhd & 3, 2); /* a 2-byte Dictionary_ID */
        assert_int_equal(ms_get_le16(f + idat), MS_DICT1_ID);
        ms_put_le16(f + idat, 0x1234);
        cd_fix_crcs(f + MS_FILE_HEADER_SIZE);
        cd_expect(f, fl, flags, 0, MS_ERR_CORRUPT, poff,
                  "the zstd frame names dictionary id 4660, but codec 2 frames must name memsnap's dictionary #1 (id 52563)");
        ms_put_le16(f + idat, MS_DICT1_ID);
        cd_fix_crcs(f + MS_FILE_HEADER_SIZE);

        /* the codec-2 frame under codec 1: zstd finds no dictionary */
        f[MS_FILE_HEADER_SIZE + 28] = MS_CODEC_ZSTD;
        cd_fix_crcs(f + MS_FILE_HEADER_SIZE);
        cd_expect(f, fl, flags, 0, MS_ERR_ZSTD, poff, "decompression failed");

        /* a codec-2 record declaring more than the reader's cap: refused
         * before its frame is looked at */
        f[MS_FILE_HEADER_SIZE + 28] = MS_CODEC_ZSTD_DICT1;
        cd_fix_crcs(f + MS_FILE_HEADER_SIZE);
        cd_expect(f, fl, flags, rawlen - 1, MS_ERR_LIMIT, MS_FILE_HEADER_SIZE + 16, "over the reader's cap");

        /* a declared size that is not the frame's */
        ms_put_le64(f + MS_FILE_HEADER_SIZE + 16, rawlen + 1);
        cd_fix_crcs(f + MS_FILE_HEADER_SIZE);
        cd_expect(f, fl, flags, 0, MS_ERR_CORRUPT, poff, "does not declare the record's");
        free(f);
        free(rec);

        /* a codec-1 frame (no dictionary id) under codec 2 */
        rec = tf_record_build_codec(raw, rawlen, MS_CODEC_ZSTD, &rl);
        rec[28] = MS_CODEC_ZSTD_DICT1;
        cd_fix_crcs(rec);
        f = cd_file(base, rec, rl, &fl);
        cd_expect(f, fl, flags, 0, MS_ERR_CORRUPT, poff,
                  "the zstd frame names no dictionary, but codec 2 frames must name memsnap's dictionary #1");
        free(f);
        free(rec);

        /* codecs no version defines */
        rec = tf_record_build_codec(raw, rawlen, MS_CODEC_ZSTD_DICT1, &rl);
        for (unsigned c = 3; c <= 255; c += 84) {
            rec[28] = (unsigned char)c;
            cd_fix_crcs(rec);
            f = cd_file(base, rec, rl, &fl);
            cd_expect(f, fl, flags, 0, MS_ERR_UNSUPPORTED, MS_FILE_HEADER_SIZE + 28, "(use a newer memsnap)");
            free(f);
        }
        free(rec);
    }

    /* a decompression bomb in codec 2: 16 MiB of zeros in a frame of a few
     * hundred bytes, refused by a reader capped at 1 MiB before it
     * allocates anything for the payload */
    size_t big = 16u << 20, rl, fl;
    unsigned char *zeros = calloc(1, big);
    assert_non_null(zeros);
    unsigned char *rec = tf_record_build_codec(zeros, big, MS_CODEC_ZSTD_DICT1, &rl);
    assert_true(rl < 4096);
    unsigned char *f = cd_file(base, rec, rl, &fl);
    cd_expect(f, fl, 0, 1u << 20, MS_ERR_LIMIT, MS_FILE_HEADER_SIZE + 16, "over the reader's cap");
    free(f);
    free(rec);
    free(zeros);
    free(raw);
    free(base);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_dictionary_is_frozen),
        cmocka_unit_test_setup_teardown(test_every_section_both_codecs, cd_setup, cd_teardown),
        cmocka_unit_test_setup_teardown(test_writer_zlevel, cd_setup, cd_teardown),
        cmocka_unit_test_setup_teardown(test_append_mixes_codecs, cd_setup, cd_teardown),
        cmocka_unit_test_setup_teardown(test_codec2_frame_rules, cd_setup, cd_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

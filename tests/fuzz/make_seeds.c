/*
 * make_seeds.c - writes the seed corpus of the fuzz targets: valid .msnap
 * files for fuzz_reader and raw payloads for fuzz_payload.
 *
 * Usage: make_seeds OUTDIR   (writes OUTDIR/reader/ and OUTDIR/payload/,
 * which must exist). Run by hand when the format grows, never by ctest;
 * its output is committed under tests/fuzz/corpus/ and then grown by
 * fuzzing (libFuzzer -merge=1). Deterministic: same bytes on every run
 * with the same zstd.
 *
 * Reader seeds are written through the public writer, covering every
 * known section and column, multi-snapshot files, empty tables and
 * unknown section types and column ids; each with codec-1 records (NAME)
 * and with codec-2 records (NAME_codec2: zstd with dictionary #1, the
 * writer's default), and each also with one extra trailing byte, because
 * fuzz_reader picks its checksum mode from the input's size parity. Payload seeds are the decompressed payloads of
 * every reader seed plus payloads built by hand for what the writer never
 * emits: unknown encodings, the required flag, unknown section bodies.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "msnap_internal.h"

static const char *seed_dir;

static void seed_die(const char *what, const char *detail)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, detail);
    exit(1);
}

static void seed_check(int rc, const char *what)
{
    if (rc) seed_die(what, ms_strerror(rc));
}

static void seed_write(const char *sub, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", seed_dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f) seed_die(path, strerror(errno));
    if (n && fwrite(p, 1, n, f) != n) seed_die(path, "write failed");
    if (fclose(f) != 0) seed_die(path, strerror(errno));
}

static unsigned char *seed_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) seed_die(path, strerror(errno));
    ms_buf b = {0};
    unsigned char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) seed_check(ms_buf_put(&b, chunk, k), path);
    fclose(f);
    *len = b.len;
    return b.p;
}

/* ------------------------------------------------------ generic values */

/* Values chosen for the encoders' edges: varint length steps, the 64-bit
 * extremes, zigzag's sign handling, strings with NULs and non-UTF-8. */
static uint64_t seed_u64(size_t row, unsigned col)
{
    static const uint64_t v[] = {0, 1, 127, 128, 16383, 16384, (uint64_t)1 << 32,
                                 UINT64_MAX, (uint64_t)1 << 63, 0x7f0000001000ull};
    return v[(row + col) % (sizeof v / sizeof v[0])];
}

static int64_t seed_i64(size_t row, unsigned col)
{
    static const int64_t v[] = {0, -1, 1, INT64_MIN, INT64_MAX, -1000, 63, -64};
    return v[(row + col) % (sizeof v / sizeof v[0])];
}

static void seed_str(ms_table *t, unsigned col, size_t row)
{
    static const struct {
        const char *s;
        size_t len;
    } v[] = {{"", 0}, {NULL, 0}, {"text", 4}, {"nul\0inside", 10}, {"\xff\xfe\x80 bytes", 9},
             {"/usr/lib/x86_64-linux-gnu/libc.so.6", 35}, {"line\nbreak", 10}};
    size_t i = (row + col) % (sizeof v / sizeof v[0]);
    if (!v[i].s)
        seed_check(ms_table_null(t, col), "ms_table_null");
    else
        seed_check(ms_table_str(t, col, v[i].s, v[i].len), "ms_table_str");
}

/* A table of `type` with `nrows` rows filling every column the schema
 * knows for it (found through ms_column_info, so new columns are covered
 * without touching this file). */
static ms_table *seed_table(unsigned type, size_t nrows)
{
    ms_table *t = ms_table_new(type);
    if (!t) seed_die("ms_table_new", "failed");
    for (size_t r = 0; r < nrows; r++) {
        seed_check(ms_table_row(t), "ms_table_row");
        for (unsigned col = 1; col < 256; col++) {
            ms_coltype ct;
            if (ms_column_info(type, col, NULL, &ct) != 0) continue;
            if (ct == MS_T_U64)
                seed_check(ms_table_u64(t, col, seed_u64(r, col)), "ms_table_u64");
            else if (ct == MS_T_I64)
                seed_check(ms_table_i64(t, col, seed_i64(r, col)), "ms_table_i64");
            else
                seed_str(t, col, r);
        }
    }
    return t;
}

static void seed_add(ms_writer *w, ms_table *t)
{
    seed_check(ms_writer_add(w, t), ms_writer_error(w));
    ms_table_free(t);
}

/* The snapshot section of snapshot `seq`. */
static void seed_snapshot_section(ms_writer *w, uint64_t seq)
{
    ms_table *t = ms_table_new(MS_SEC_SNAPSHOT);
    unsigned char id[16];
    for (int i = 0; i < 16; i++) id[i] = (unsigned char)(0xa0 + i + seq);
    seed_check(ms_table_row(t), "row");
    seed_check(ms_table_str(t, MS_SNAP_ID, id, sizeof id), "id");
    seed_check(ms_table_u64(t, MS_SNAP_SEQ, seq), "seq");
    seed_check(ms_table_u64(t, MS_SNAP_WALL_NS, 1700000000000000000ull + seq * 1000000000ull), "wall");
    seed_check(ms_table_u64(t, MS_SNAP_MONO_NS, 5000000000ull + seq * 1000000000ull), "mono");
    seed_check(ms_table_u64(t, MS_SNAP_PID, 4242), "pid");
    seed_check(ms_table_cstr(t, MS_SNAP_AGENT, "make_seeds"), "agent");
    seed_add(w, t);
}

/* A mappings table shaped like a real process: sorted addresses (delta
 * encoding), repeated paths (string dedup). */
static ms_table *seed_mappings(size_t n, uint64_t seed)
{
    ms_table *t = ms_table_new(MS_SEC_MAPPINGS);
    uint64_t addr = 0x55d0c0000000ull;
    static const char *paths[] = {"/usr/bin/python3.11", "[heap]", NULL, "/usr/lib/libc.so.6",
                                  "[stack]", "/memfd:jit (deleted)"};
    for (size_t i = 0; i < n; i++) {
        uint64_t pages = 1 + (i * 7 + seed) % 64;
        seed_check(ms_table_row(t), "row");
        seed_check(ms_table_u64(t, MS_MAP_START, addr), "start");
        seed_check(ms_table_u64(t, MS_MAP_END, addr + pages * 4096), "end");
        seed_check(ms_table_u64(t, MS_MAP_PERMS, 1 + (i % 3) * 2 + 16), "perms");
        seed_check(ms_table_cstr(t, MS_MAP_PATH, paths[i % 6]), "path");
        seed_check(ms_table_u64(t, MS_MAP_DELETED, i % 6 == 5), "deleted");
        seed_check(ms_table_u64(t, MS_MAP_SIZE, pages * 4), "size");
        seed_check(ms_table_u64(t, MS_MAP_RSS, (pages * 4 * (i % 5)) / 4), "rss");
        seed_check(ms_table_cstr(t, MS_MAP_VMFLAGS, "rd wr mr mw me ac sd"), "vmflags");
        addr += pages * 4096 + (i % 4 ? 0 : 0x10000000);
    }
    return t;
}

/* ------------------------------------------------------- reader seeds */

typedef void (*seed_fill_fn)(ms_writer *w);

static void fill_minimal(ms_writer *w)
{
    seed_check(ms_writer_begin(w), "begin");
    seed_snapshot_section(w, 0);
    seed_check(ms_writer_end(w, 0), ms_writer_error(w));
}

static void fill_all_sections(ms_writer *w)
{
    seed_check(ms_writer_begin(w), "begin");
    seed_snapshot_section(w, 0);
    for (unsigned type = MS_SEC_HOST; type <= MS_SEC_MAX_KNOWN; type++)
        seed_add(w, seed_table(type, ms_schema_single_row(type) ? 1 : type == MS_SEC_MAPPINGS ? 7 : 3));
    seed_check(ms_writer_end(w, 0), ms_writer_error(w));
}

static void fill_series(ms_writer *w)
{
    for (uint64_t seq = 0; seq < 4; seq++) {
        seed_check(ms_writer_begin(w), "begin");
        seed_snapshot_section(w, seq);
        seed_add(w, seed_table(MS_SEC_PROCESS, 1));
        seed_add(w, seed_mappings(20 + seq * 10, seq));
        seed_add(w, seed_table(MS_SEC_ROLLUP, 4));
        seed_check(ms_writer_end(w, 0), ms_writer_error(w));
    }
}

static void fill_unknown(ms_writer *w)
{
    static const unsigned types[] = {MS_SEC_MAX_KNOWN + 1, 255, 256, 4096, 65535};
    seed_check(ms_writer_begin(w), "begin");
    seed_snapshot_section(w, 0);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        ms_table *t = ms_table_new(types[i]);
        for (size_t r = 0; r < 2; r++) {
            seed_check(ms_table_row(t), "row");
            seed_check(ms_table_u64(t, 1, seed_u64(r, 1)), "u64");
            seed_check(ms_table_i64(t, 2, seed_i64(r, 2)), "i64");
            seed_str(t, 3, r);
            seed_check(ms_table_u64(t, 65535, r), "u64");
        }
        seed_add(w, t);
    }
    /* unknown columns in a known section, of every type */
    ms_table *t = seed_table(MS_SEC_PROCESS, 1);
    seed_check(ms_table_u64(t, 100, 12345), "u64");
    seed_check(ms_table_i64(t, 101, -12345), "i64");
    seed_check(ms_table_cstr(t, 102, "from the future"), "str");
    seed_add(w, t);
    seed_check(ms_writer_end(w, 0), ms_writer_error(w));
}

static void fill_empty_tables(ms_writer *w)
{
    seed_check(ms_writer_begin(w), "begin");
    seed_snapshot_section(w, 0);
    ms_table *t = ms_table_new(MS_SEC_MAPPINGS); /* no rows */
    seed_add(w, t);
    t = ms_table_new(MS_SEC_DIAGNOSTICS); /* rows but no columns */
    seed_check(ms_table_row(t), "row");
    seed_check(ms_table_row(t), "row");
    seed_add(w, t);
    t = ms_table_new(MS_SEC_PY_TYPES); /* only null strings */
    for (int r = 0; r < 3; r++) {
        seed_check(ms_table_row(t), "row");
        seed_check(ms_table_null(t, MS_TY_NAME), "null");
    }
    seed_add(w, t);
    seed_check(ms_writer_end(w, 0), ms_writer_error(w));
}

static void fill_header_only(ms_writer *w)
{
    (void)w;
}

static const struct {
    const char *name;
    seed_fill_fn fill;
} seeds[] = {
    {"minimal", fill_minimal},         {"all_sections", fill_all_sections},
    {"series", fill_series},           {"unknown", fill_unknown},
    {"empty_tables", fill_empty_tables}, {"header_only", fill_header_only},
};

/* Writes one decompressed payload seed per record of the file. */
static void seed_payloads_of(const char *name, const unsigned char *f, size_t n)
{
    size_t off = ms_get_le32(f + 12);
    for (int i = 0; off + MS_RECORD_HEADER_SIZE <= n; i++) {
        size_t hsize = ms_get_le32(f + off + 4);
        uint64_t comp = ms_get_le64(f + off + 8), raw = ms_get_le64(f + off + 16);
        unsigned char *p = malloc((size_t)raw);
        if (!p) seed_die(name, "out of memory");
        size_t got = ZSTD_decompress(p, (size_t)raw, f + off + hsize, (size_t)comp);
        if (ZSTD_isError(got) || got != raw) seed_die(name, "cannot decompress a record");
        char out[256];
        snprintf(out, sizeof out, "%s_%d.bin", name, i);
        seed_write("payload", out, p, (size_t)raw);
        free(p);
        off += hsize + (size_t)comp;
    }
}

static void seed_reader_files(void)
{
    for (size_t k = 0; k < 2 * sizeof seeds / sizeof seeds[0]; k++) {
        size_t i = k / 2;
        int codec2 = k & 1;
        char path[4096], name[256], base[200];
        snprintf(base, sizeof base, "%s%s", seeds[i].name, codec2 ? "_codec2" : "");
        snprintf(path, sizeof path, "%s/reader/%s.msnap", seed_dir, base);
        int err;
        char msg[512];
        ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "make_seeds", codec2 ? 3 : 3 | MS_ZLEVEL_NO_DICT, &err, msg,
                                      sizeof msg);
        if (!w) seed_die(path, msg);
        seeds[i].fill(w);
        seed_check(ms_writer_close(w), path);
        size_t n;
        unsigned char *f = seed_read(path, &n);
        /* the same file and one stray byte: the other size parity, so
           fuzz_reader reads it in the other checksum mode */
        unsigned char *g = malloc(n + 1);
        if (!g) seed_die(path, "out of memory");
        memcpy(g, f, n);
        g[n] = 'x';
        snprintf(name, sizeof name, "%s_plus1.msnap", base);
        seed_write("reader", name, g, n + 1);
        free(g);
        if (!codec2) seed_payloads_of(seeds[i].name, f, n); /* the same payloads either way */
        free(f);
    }
}

/* ------------------------------------------------ hand-built payloads */

static void put_section(ms_buf *p, unsigned type, unsigned flags, const ms_buf *body)
{
    seed_check(ms_buf_varint(p, type), "varint");
    seed_check(ms_buf_varint(p, flags), "varint");
    seed_check(ms_buf_varint(p, body->len), "varint");
    seed_check(ms_buf_put(p, body->p, body->len), "put");
}

/* A string table holding `n` strings given with explicit lengths: the
 * count, the lengths, then the bytes. */
static void put_strings(ms_buf *p, const char *const *s, const size_t *len, size_t n)
{
    ms_buf b = {0};
    seed_check(ms_buf_varint(&b, n), "varint");
    for (size_t i = 0; i < n; i++) seed_check(ms_buf_varint(&b, len[i]), "varint");
    for (size_t i = 0; i < n; i++) seed_check(ms_buf_put(&b, s[i], len[i]), "put");
    put_section(p, MS_SEC_STRINGS, 0, &b);
    ms_buf_free(&b);
}

/* One column: id, encoding byte, then its data with its length in front:
 * `nparam` parameter varints (a shift byte first when the encoding says
 * so), then `n` already-encoded varint values. */
static void put_col_params(ms_buf *b, unsigned id, unsigned enc, unsigned shift, const uint64_t *param,
                           size_t nparam, const uint64_t *v, size_t n)
{
    ms_buf d = {0};
    if (enc & MS_ENC_SHIFTED) {
        unsigned char k = (unsigned char)shift;
        seed_check(ms_buf_put(&d, &k, 1), "put");
    }
    for (size_t i = 0; i < nparam; i++) seed_check(ms_buf_varint(&d, param[i]), "varint");
    for (size_t i = 0; i < n; i++) seed_check(ms_buf_varint(&d, v[i]), "varint");
    unsigned char e = (unsigned char)enc;
    seed_check(ms_buf_varint(b, id), "varint");
    seed_check(ms_buf_put(b, &e, 1), "put");
    seed_check(ms_buf_varint(b, d.len), "varint");
    seed_check(ms_buf_put(b, d.p, d.len), "put");
    ms_buf_free(&d);
}

static void put_col(ms_buf *b, unsigned id, unsigned enc, const uint64_t *v, size_t n)
{
    put_col_params(b, id, enc, 0, NULL, 0, v, n);
}

/* The smallest valid snapshot section: one row, seq = 7. */
static void put_snapshot(ms_buf *p, unsigned flags)
{
    ms_buf b = {0};
    uint64_t seq = 7;
    seed_check(ms_buf_varint(&b, 1), "varint");
    seed_check(ms_buf_varint(&b, 1), "varint");
    put_col(&b, MS_SNAP_SEQ, ms_enc_byte(MS_T_U64, MS_M_PLAIN, 0), &seq, 1);
    put_section(p, MS_SEC_SNAPSHOT, flags, &b);
    ms_buf_free(&b);
}

static void seed_hand_payloads(void)
{
    static const char *const strs[] = {"python3", "", "nul\0in", "\xc3\x28 invalid utf-8"};
    static const size_t lens[] = {7, 0, 6, 16};
    ms_buf p = {0}, b = {0};

    /* every method, and columns this reader must skip or keep, in a
       one-row section and in a many-row one */
    put_strings(&p, strs, lens, 4);
    put_snapshot(&p, 0);
    uint64_t one[] = {1}, oom[] = {3}, ticks[] = {400};
    seed_check(ms_buf_varint(&b, 1), "varint");
    seed_check(ms_buf_varint(&b, 6), "varint");
    put_col(&b, MS_PROC_PID, ms_enc_byte(MS_T_U64, MS_M_PLAIN, 0), one, 1);
    put_col(&b, MS_PROC_COMM, ms_enc_byte(MS_T_STR, MS_M_PLAIN, 0), one, 1);
    put_col(&b, MS_PROC_OOM_SCORE, ms_enc_byte(MS_T_I64, MS_M_PLAIN, 0), oom, 1);
    put_col(&b, MS_PROC_OOM_SCORE_ADJ, ms_enc_byte(MS_T_I64, MS_M_CONST, 0), oom, 1);
    put_col(&b, MS_PROC_START_TICKS, ms_enc_byte(MS_T_U64, MS_M_DELTA, 0), ticks, 1);
    put_col(&b, 200, 0x3d, ticks, 1); /* unknown column, undefined encoding: skipped */
    put_section(&p, MS_SEC_PROCESS, 0, &b);
    b.len = 0;
    /* mappings: start GAP and end REF (in pages), size SPAN of them, rss
       REF to size, perms CONST, path SEQ, vmflags DELTA, unknown columns */
    uint64_t gaps[] = {0x800, 2, 0}, lens_pg[] = {2, 2, 2}, zero3[] = {0, 0, 0};
    uint64_t rss[] = {0, 2, 4}, perms[] = {21}, path[] = {2, 0, 1}, vmf[] = {4, 1, 2};
    uint64_t svar[] = {1, 0, 3}, p_end[] = {MS_MAP_START}, p_span[] = {MS_MAP_END, MS_MAP_START};
    seed_check(ms_buf_varint(&b, 3), "varint");
    seed_check(ms_buf_varint(&b, 11), "varint");
    put_col_params(&b, MS_MAP_START, ms_enc_byte(MS_T_U64, MS_M_GAP, 1), 12, NULL, 0, gaps, 3);
    put_col_params(&b, MS_MAP_END, ms_enc_byte(MS_T_U64, MS_M_REF, 1), 12, p_end, 1, lens_pg, 3);
    put_col(&b, MS_MAP_PERMS, ms_enc_byte(MS_T_U64, MS_M_CONST, 0), perms, 1);
    put_col(&b, MS_MAP_PATH, ms_enc_byte(MS_T_STR, MS_M_SEQ, 0), path, 3);
    {
        /* SPAN: a, b, then the shift of the difference as one byte */
        ms_buf d = {0};
        seed_check(ms_buf_varint(&d, p_span[0]), "varint");
        seed_check(ms_buf_varint(&d, p_span[1]), "varint");
        unsigned char s10 = 10;
        seed_check(ms_buf_put(&d, &s10, 1), "put");
        for (int i = 0; i < 3; i++) seed_check(ms_buf_varint(&d, zero3[i]), "varint");
        unsigned char e = ms_enc_byte(MS_T_U64, MS_M_SPAN, 0);
        seed_check(ms_buf_varint(&b, MS_MAP_SIZE), "varint");
        seed_check(ms_buf_put(&b, &e, 1), "put");
        seed_check(ms_buf_varint(&b, d.len), "varint");
        seed_check(ms_buf_put(&b, d.p, d.len), "put");
        ms_buf_free(&d);
    }
    uint64_t p_rss[] = {MS_MAP_SIZE};
    put_col_params(&b, MS_MAP_RSS, ms_enc_byte(MS_T_U64, MS_M_REF, 1), 2, p_rss, 1, rss, 3);
    put_col(&b, MS_MAP_VMFLAGS, ms_enc_byte(MS_T_STR, MS_M_DELTA, 0), vmf, 3);
    put_col(&b, 100, ms_enc_byte(MS_T_U64, MS_M_PLAIN, 0), svar, 3); /* unknown columns, known encodings: kept */
    put_col_params(&b, 101, ms_enc_byte(MS_T_I64, MS_M_DELTA, 1), 3, NULL, 0, svar, 3);
    put_col(&b, 102, 0, svar, 3);           /* encoding 0 is undefined: skipped */
    put_col(&b, 103, ms_enc_byte(MS_T_STR, MS_M_CONST, 0), one, 1);
    put_section(&p, MS_SEC_MAPPINGS, 0, &b);
    seed_write("payload", "hand_encodings.bin", p.p, p.len);

    /* a known section flagged required; unknown sections with free-form bodies */
    p.len = b.len = 0;
    put_strings(&p, strs, lens, 1);
    put_snapshot(&p, MS_SECFLAG_REQUIRED);
    static const char opaque[] = "opaque \x01\x02\x03 body";
    seed_check(ms_buf_put(&b, opaque, sizeof opaque - 1), "put");
    put_section(&p, MS_SEC_MAX_KNOWN + 1, 0, &b);
    put_section(&p, 65535, 0, &b);
    b.len = 0;
    put_section(&p, 300, 0, &b);
    seed_write("payload", "hand_flags_unknown.bin", p.p, p.len);

    /* an unknown section marked required: MS_ERR_UNSUPPORTED */
    p.len = 0;
    put_strings(&p, strs, lens, 0);
    put_snapshot(&p, 0);
    put_section(&p, 5000, MS_SECFLAG_REQUIRED, &b);
    seed_write("payload", "hand_required_unknown.bin", p.p, p.len);

    /* a 300-byte string (two-byte length varint) and a zero-column section */
    p.len = b.len = 0;
    char long_s[300];
    memset(long_s, 'q', sizeof long_s);
    const char *ls[] = {long_s};
    size_t ll[] = {sizeof long_s};
    put_strings(&p, ls, ll, 1);
    put_snapshot(&p, 0);
    seed_check(ms_buf_varint(&b, 0), "varint");
    seed_check(ms_buf_varint(&b, 0), "varint");
    put_section(&p, MS_SEC_PY_GC, 0, &b);
    seed_write("payload", "hand_long_string.bin", p.p, p.len);

    ms_buf_free(&p);
    ms_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR (with OUTDIR/reader and OUTDIR/payload)\n");
        return 2;
    }
    seed_dir = argv[1];
    seed_reader_files();
    seed_hand_payloads();
    return 0;
}

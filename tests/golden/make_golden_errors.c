/*
 * make_golden_errors.c - derives the golden-error files from the golden
 * files: each one breaks one rule of the format in one place, and its
 * MANIFEST line says what a reader must report (tests/golden/README.md).
 *
 * Usage: make_golden_errors GOLDEN_DIR OUT_DIR, e.g.
 *   make_golden_errors tests/golden tests/golden/errors
 * (GOLDEN_DIR holds v1.0/ and v1.1/, whose files the broken ones copy).
 * Run by hand when error files are added; its output (the files and
 * OUT_DIR/MANIFEST) is committed and tests never run it. The expected
 * error, snapshot count and byte offset are worked out here from how each
 * file is built and from the format's rules, not by asking the reader, so
 * that golden_check compares the reader against the format.
 *
 * Offsets follow the reader's contract in msnap.h: a damaged file header
 * or record header is reported at the field that is wrong (its CRC field
 * for a CRC mismatch), a payload CRC mismatch at the payload's first byte,
 * a truncated record and anything wrong inside a payload at the start of
 * the record that holds it. A MANIFEST line may end with text that the
 * error message must contain (the errors of codec 2 have one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "golden_craft.h"
#include "msnap.h"

static const char *out_dir;
static FILE *manifest;

/* The sources: v1.0/minimal.msnap (one record), v1.0/series.msnap (five),
 * v1.0/forward_minor.msnap (longer headers) and v1.1/series.msnap (the
 * same five snapshots with codec 2). */
static unsigned char *mini, *series, *fwd, *series2;
static size_t mini_len, series_len, fwd_len, rec[8], nrec, series_end, series2_len, rec2[8], series2_end;

/* Writes a broken file and its MANIFEST line (with the text its message
 * must hold, if `message` is not NULL). */
static void emit_msg(const char *name, const void *bytes, size_t n, const char *error, size_t snapshots,
                     unsigned long long offset, const char *at, const char *why, const char *message)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    gc_write_file(path, bytes, n);
    fprintf(manifest, "# %s\n%s %s %zu %llu %s%s%s\n", why, name, error, snapshots, offset, at, message ? " " : "",
            message ? message : "");
}

static void emit(const char *name, const void *bytes, size_t n, const char *error, size_t snapshots,
                 unsigned long long offset, const char *at, const char *why)
{
    emit_msg(name, bytes, n, error, snapshots, offset, at, why, NULL);
}

/* A copy of `src` (n bytes, `extra` spare bytes after). */
static unsigned char *copy(const unsigned char *src, size_t n, size_t extra)
{
    unsigned char *p = malloc(n + extra + 1);
    if (!p) gc_die("copy", "out of memory");
    memcpy(p, src, n);
    return p;
}

static uint64_t comp_of(size_t k)
{
    return gc_get_le64(series + rec[k] + GC_RH_COMP);
}

static uint64_t raw_of(size_t k)
{
    return gc_get_le64(series + rec[k] + GC_RH_RAW);
}

static void truncations(void)
{
    emit("trunc_in_magic.msnap", mini, 5, "MS_ERR_TRUNCATED", 0, 5, "open",
         "5 bytes: the start of the magic, then nothing (reported at the end of the file)");
    emit("trunc_in_file_header.msnap", mini, 40, "MS_ERR_TRUNCATED", 0, 40, "open",
         "cut inside the writer id: the 64-byte file header is incomplete");
    emit("trunc_in_record_magic.msnap", series, rec[2] + 3, "MS_ERR_TRUNCATED", 2, rec[2], "next",
         "cut 3 bytes into the third record: two snapshots, then an incomplete record");
    emit("trunc_in_record_header.msnap", series, rec[2] + 20, "MS_ERR_TRUNCATED", 2, rec[2], "next",
         "cut 20 bytes into the third record's 40-byte header");
    emit("trunc_in_payload.msnap", series, rec[2] + GC_RECORD_HEADER_SIZE + comp_of(2) / 2,
         "MS_ERR_TRUNCATED", 2, rec[2], "next", "cut in the middle of the third record's zstd frame");
    emit("trunc_last_byte.msnap", series, series_end - 1, "MS_ERR_TRUNCATED", nrec - 1, rec[nrec - 1],
         "next", "the last byte of the file is missing");

    unsigned char *p = copy(series, series_len, 100);
    memset(p + series_len, 0, 100);
    emit("zero_tail.msnap", p, series_len + 100, "MS_ERR_TRUNCATED", nrec, series_end, "next",
         "100 zero bytes after the last record, as a crash can leave: a truncated tail");
    free(p);

    static const char junk[] = "junk after the last record";
    p = copy(series, series_len, sizeof junk);
    memcpy(p + series_len, junk, sizeof junk - 1);
    emit("garbage_tail.msnap", p, series_len + sizeof junk - 1, "MS_ERR_CORRUPT", nrec, series_end, "next",
         "bytes that are neither a record nor zeros after the last record: damage, not truncation");
    free(p);

    /* forward_minor.msnap: a 1.1 file whose record header has 16 extension bytes */
    size_t first = gc_get_le32(fwd + GC_FH_SIZE);
    emit("trunc_in_record_extension.msnap", fwd, first + GC_RECORD_HEADER_SIZE + 8, "MS_ERR_TRUNCATED", 0,
         first, "next", "a 1.1 record cut inside its record header's extension bytes");
}

static void bit_flips(void)
{
    unsigned char *p = copy(mini, mini_len, 0);
    p[GC_FH_WRITER + 3] ^= 0x01;
    emit("flip_file_header.msnap", p, mini_len, "MS_ERR_CHECKSUM", 0, GC_FH_CRC, "open",
         "one bit of the writer id flipped: the file header CRC (at byte 60) fails");
    free(p);

    p = copy(series, series_len, 0);
    p[rec[1] + GC_RH_RAW + 1] ^= 0x04;
    emit("flip_record_header.msnap", p, series_len, "MS_ERR_CHECKSUM", 1, rec[1] + GC_RH_CRC, "next",
         "one bit of the second record's raw size flipped: its header CRC fails");
    free(p);

    p = copy(series, series_len, 0);
    p[rec[1] + GC_RECORD_HEADER_SIZE + comp_of(1) / 2] ^= 0x10;
    emit("flip_payload.msnap", p, series_len, "MS_ERR_CHECKSUM", 1, rec[1] + GC_RECORD_HEADER_SIZE, "next",
         "one bit in the middle of the second record's payload flipped: the payload CRC fails");
    free(p);

    p = copy(series, series_len, 0);
    p[rec[1] + GC_RH_PCRC] ^= 0x01;
    emit("flip_payload_crc.msnap", p, series_len, "MS_ERR_CHECKSUM", 1, rec[1] + GC_RH_CRC, "next",
         "one bit of the second record's payload-CRC field flipped: the record header CRC, which covers it, fails");
    free(p);

    p = copy(series, series_len, 0);
    p[rec[1] + GC_RH_PCRC] ^= 0x01;
    gc_fix_record_crc(p + rec[1]);
    emit("flip_payload_crc_rehashed.msnap", p, series_len, "MS_ERR_CHECKSUM", 1,
         rec[1] + GC_RECORD_HEADER_SIZE, "next",
         "the payload-CRC field flipped and the header CRC recomputed: the payload CRC fails");
    free(p);
}

static void header_rules(void)
{
    unsigned char *p = copy(mini, mini_len, 0);
    p[1] = 'X';
    emit("bad_magic.msnap", p, mini_len, "MS_ERR_MAGIC", 0, 0, "open", "\"\\x89XSNAP\\r\\n\": not a .msnap file");
    free(p);

    p = copy(mini, mini_len, 0);
    p[GC_FH_MAJOR] = 2;
    gc_fix_file_crc(p);
    emit("newer_major.msnap", p, mini_len, "MS_ERR_VERSION", 0, GC_FH_MAJOR, "open",
         "format 2.0 with a valid header CRC: a newer major version is refused");
    free(p);

    p = copy(mini, mini_len, 0);
    p[GC_FH_FLAGS] = 0x01;
    gc_fix_file_crc(p);
    emit("reserved_file_flags.msnap", p, mini_len, "MS_ERR_CORRUPT", 0, GC_FH_FLAGS, "open",
         "a reserved file header flag set, CRC valid: reserved fields must be zero");
    free(p);

    p = copy(series, series_len, 0);
    p[rec[1] + 30] = 0x01;
    gc_fix_record_crc(p + rec[1]);
    emit("reserved_record_byte.msnap", p, series_len, "MS_ERR_CORRUPT", 1, rec[1] + 30, "next",
         "a reserved byte of the second record header set, CRC valid: reserved fields must be zero");
    free(p);

    p = copy(series, series_len, 0);
    gc_set_le64(p + rec[1] + GC_RH_RAW, MS_DEFAULT_MAX_RAW + 1);
    gc_fix_record_crc(p + rec[1]);
    emit("raw_over_cap.msnap", p, series_len, "MS_ERR_LIMIT", 1, rec[1] + GC_RH_RAW, "next",
         "the second record declares 256 MiB + 1 raw bytes (CRC valid): over the reader's default cap");
    free(p);

    size_t last = nrec - 1;
    uint64_t comp = comp_of(last) + 16; /* still within zstd's bound for the raw size */
    if (comp > ZSTD_compressBound((size_t)raw_of(last))) gc_die("comp_past_end", "would be an impossible size");
    p = copy(series, series_len, 0);
    gc_set_le64(p + rec[last] + GC_RH_COMP, comp);
    gc_fix_record_crc(p + rec[last]);
    emit("comp_past_end.msnap", p, series_len, "MS_ERR_TRUNCATED", last, rec[last], "next",
         "the last record declares 16 more compressed bytes than the file holds (CRC valid)");
    free(p);
}

/* The file header and first record of series.msnap, then one record
 * holding `payload`: the reader must return one snapshot first. */
static void emit_payload(const char *name, const gc_buf *payload, const char *error, const char *why)
{
    gc_buf f = {0};
    gc_put(&f, series, rec[1]);
    gc_record(&f, payload);
    emit(name, f.p, f.len, error, 1, rec[1], "next", why);
    gc_free(&f);
}

/* A valid payload's start: a string table of two strings. */
static void payload_start(gc_buf *p)
{
    static const char *const strs[] = {"memsnap-capture 0.1.0", "python3"};
    static const size_t lens[] = {21, 7};
    gc_strings(p, strs, lens, 2);
}

/* A valid snapshot section whose agent is string `agent`. */
static void snapshot_section(gc_buf *p, uint64_t agent)
{
    gc_buf b = {0};
    uint64_t seq = 1;
    gc_table(&b, 1, 2);
    gc_column_varints(&b, MS_SNAP_SEQ, GC_ENC(GC_U64, GC_PLAIN), &seq, 1);
    gc_column_varints(&b, MS_SNAP_AGENT, GC_ENC(GC_STR, GC_PLAIN), &agent, 1);
    gc_section(p, MS_SEC_SNAPSHOT, 0, &b);
    gc_free(&b);
}

static void payload_rules(void)
{
    gc_buf p = {0}, b = {0};

    payload_start(&p);
    snapshot_section(&p, 1);
    uint64_t pid = 4242;
    gc_table(&b, 1, 1);
    gc_column_varints(&b, MS_PROC_PID, GC_ENC(GC_U64, GC_PLAIN), &pid, 1);
    gc_varint(&p, MS_SEC_PROCESS);
    gc_varint(&p, 0);
    gc_varint(&p, b.len + 1); /* one byte more than the payload has */
    gc_put(&p, b.p, b.len);
    emit_payload("section_past_payload.msnap", &p, "MS_ERR_CORRUPT",
                 "the last section's length runs one byte past the payload (CRCs valid)");

    p.len = 0;
    payload_start(&p);
    snapshot_section(&p, 3); /* two strings: index 3 does not exist */
    emit_payload("string_index_past_table.msnap", &p, "MS_ERR_CORRUPT",
                 "a string column refers to string 3 of a 2-string table (CRCs valid)");

    p.len = 0;
    b.len = 0;
    payload_start(&p);
    snapshot_section(&p, 1);
    gc_put(&b, GC_LIT("a section from the future"));
    gc_section(&p, 999, GC_SEC_REQUIRED, &b);
    emit_payload("required_unknown_section.msnap", &p, "MS_ERR_UNSUPPORTED",
                 "section type 999, unknown to a 1.0 reader, is flagged required (CRCs valid)");

    p.len = 0;
    b.len = 0;
    payload_start(&p);
    gc_buf d = {0};
    gc_put(&d, GC_LIT("\x81\x00")); /* 1, in two bytes: not the minimal encoding */
    gc_table(&b, 1, 1);
    gc_column(&b, MS_SNAP_SEQ, GC_ENC(GC_U64, GC_PLAIN), &d);
    gc_section(&p, MS_SEC_SNAPSHOT, 0, &b);
    emit_payload("noncanonical_varint.msnap", &p, "MS_ERR_CORRUPT",
                 "the snapshot's seq is the varint 81 00 (= 1, not minimal): varints must be canonical");
    gc_free(&d);

    p.len = 0;
    payload_start(&p);
    snapshot_section(&p, 1);
    snapshot_section(&p, 2);
    emit_payload("duplicate_section.msnap", &p, "MS_ERR_CORRUPT",
                 "the snapshot section appears twice in one payload (CRCs valid)");

    p.len = 0;
    b.len = 0;
    payload_start(&p);
    uint64_t seq = 1;
    gc_table(&b, 1, 1);
    gc_column_varints(&b, MS_SNAP_SEQ, GC_ENC(GC_STR, GC_PLAIN), &seq, 1);
    gc_section(&p, MS_SEC_SNAPSHOT, 0, &b);
    emit_payload("known_column_wrong_encoding.msnap", &p, "MS_ERR_CORRUPT",
                 "the snapshot's seq (a U64 column) is encoded as a STR column (CRCs valid)");

    p.len = 0;
    b.len = 0;
    payload_start(&p);
    gc_table(&b, 1, 1);
    gc_column_varints(&b, MS_PROC_PID, GC_ENC(GC_U64, GC_PLAIN), &pid, 1);
    gc_section(&p, MS_SEC_PROCESS, 0, &b);
    emit_payload("no_snapshot_section.msnap", &p, "MS_ERR_CORRUPT",
                 "a payload without the mandatory snapshot section (CRCs valid)");

    /* the column encodings of SPEC.md 5.3: broken references and shifts */
    uint64_t two[] = {gc_zigzag(0x400), gc_zigzag(2)}, lens[] = {2, 2}, prm[] = {MS_MAP_START};
    p.len = 0;
    b.len = 0;
    payload_start(&p);
    snapshot_section(&p, 1);
    gc_table(&b, 2, 2);
    gc_column_params(&b, MS_MAP_START, GC_ENC(GC_U64, GC_GAP) | GC_SHIFTED, 12, NULL, 0, two, 2);
    gc_column_params(&b, MS_MAP_END, GC_ENC(GC_U64, GC_PLAIN) | GC_SHIFTED, 12, NULL, 0, lens, 2);
    gc_section(&p, MS_SEC_MAPPINGS, 0, &b);
    emit_payload("gap_without_ref.msnap", &p, "MS_ERR_CORRUPT",
                 "mappings.start is encoded GAP but the column after it, end, is not a REF to it (CRCs valid)");

    p.len = 0;
    b.len = 0;
    payload_start(&p);
    snapshot_section(&p, 1);
    gc_table(&b, 2, 2);
    uint64_t later[] = {MS_MAP_END};
    gc_column_params(&b, MS_MAP_START, GC_ENC(GC_U64, GC_REF), 0, later, 1, lens, 2);
    gc_column_params(&b, MS_MAP_END, GC_ENC(GC_U64, GC_REF), 0, prm, 1, lens, 2);
    gc_section(&p, MS_SEC_MAPPINGS, 0, &b);
    emit_payload("ref_to_later_column.msnap", &p, "MS_ERR_CORRUPT",
                 "mappings.start is encoded REF to end, a column that comes after it (CRCs valid)");

    p.len = 0;
    b.len = 0;
    payload_start(&p);
    uint64_t big = 2; /* 2 << 63 does not fit in 64 bits */
    gc_table(&b, 1, 1);
    gc_column_params(&b, MS_SNAP_SEQ, GC_ENC(GC_U64, GC_PLAIN) | GC_SHIFTED, 63, NULL, 0, &big, 1);
    gc_section(&p, MS_SEC_SNAPSHOT, 0, &b);
    emit_payload("shift_overflow.msnap", &p, "MS_ERR_CORRUPT",
                 "the snapshot's seq is 2 shifted left by 63: a bit would be lost (CRCs valid)");

    p.len = 0;
    b.len = 0;
    gc_varint(&b, 2);    /* two strings */
    gc_varint(&b, 21);   /* of 21 and 8 bytes, but only 28 bytes follow */
    gc_varint(&b, 8);
    gc_put(&b, GC_LIT("memsnap-capture 0.1.0python3"));
    gc_section(&p, 1, 0, &b);
    snapshot_section(&p, 1);
    emit_payload("string_lengths_past_table.msnap", &p, "MS_ERR_CORRUPT",
                 "the string lengths add up to one byte more than the string table holds (CRCs valid)");
    gc_free(&p);
    gc_free(&b);
}

/* The zstd frame itself: what the record's CRCs cannot vouch for. */
static void frame_rules(void)
{
    unsigned char *p = copy(series, series_len, 0);
    gc_set_le64(p + rec[1] + GC_RH_RAW, raw_of(1) + 1);
    gc_fix_record_crc(p + rec[1]);
    emit("frame_size_mismatch.msnap", p, series_len, "MS_ERR_CORRUPT", 1, rec[1] + GC_RECORD_HEADER_SIZE,
         "next", "the second record declares one raw byte more than its zstd frame (CRC valid)");
    free(p);

    /* Made for format 1.0 as "unknown_codec.msnap", when codec 2 was a later
     * version's codec (a 1.0 reader still refuses it: MS_ERR_UNSUPPORTED at
     * the codec byte). Format 1.1 defines codec 2, and this frame does not
     * name its dictionary. */
    p = copy(series, series_len, 0);
    p[rec[1] + GC_RH_CODEC] = 2;
    gc_fix_record_crc(p + rec[1]);
    emit_msg("codec2_frame_without_dict.msnap", p, series_len, "MS_ERR_CORRUPT", 1, rec[1] + GC_RECORD_HEADER_SIZE,
             "next",
             "the second record names codec 2 (CRC valid), but its zstd frame was made without dictionary #1 "
             "(this file was unknown_codec.msnap of format 1.0, when no codec 2 existed)",
             "names no dictionary, but codec 2 frames must name memsnap's dictionary #1 (id 52563)");
    free(p);

    p = copy(series, series_len, 0);
    p[rec[1] + GC_RH_CODEC] = 255;
    gc_fix_record_crc(p + rec[1]);
    emit_msg("unknown_codec_255.msnap", p, series_len, "MS_ERR_UNSUPPORTED", 1, rec[1] + GC_RH_CODEC, "next",
             "the second record names codec 255 (CRC valid), which no version assigns (SPEC.md 3.1)",
             "compression codec 255 is unknown to this reader (use a newer memsnap)");
    free(p);

    /* the frame's last 4 bytes are zstd's checksum of the content */
    size_t last = nrec - 1;
    p = copy(series, series_len, 0);
    p[series_end - 1] ^= 0x01;
    gc_fix_payload_crc(p + rec[last]);
    emit("zstd_checksum.msnap", p, series_len, "MS_ERR_ZSTD", last, rec[last] + GC_RECORD_HEADER_SIZE,
         "next", "one bit of the last frame's zstd content checksum flipped, record CRCs valid");
    free(p);
}

/* Offset of the Dictionary_ID field in the zstd frame at `f` (RFC 8878
 * 3.1.1.1: after the magic, the frame header descriptor and, unless the
 * frame is single-segment, the window descriptor), and its size. */
static size_t dict_id_field(const unsigned char *f, size_t *size)
{
    unsigned fhd = f[4];
    static const size_t sizes[4] = {0, 1, 2, 4};
    *size = sizes[fhd & 3];
    return 5 + ((fhd & 0x20) ? 0 : 1);
}

/* Codec 2 (zstd with dictionary #1): v1.1/series.msnap damaged. */
static void codec2_rules(void)
{
    unsigned char *p = copy(series2, series2_len, 0);
    uint64_t comp = gc_get_le64(series2 + rec2[1] + GC_RH_COMP);
    p[rec2[1] + GC_RECORD_HEADER_SIZE + comp / 2] ^= 0x10;
    emit_msg("flip_codec2_payload.msnap", p, series2_len, "MS_ERR_CHECKSUM", 1, rec2[1] + GC_RECORD_HEADER_SIZE,
             "next", "one bit in the middle of the second record's codec-2 payload flipped: the payload CRC fails",
             "payload checksum mismatch");
    free(p);

    p = copy(series2, series2_len, 0);
    p[rec2[1] + GC_RECORD_HEADER_SIZE + comp / 2] ^= 0x10;
    gc_fix_payload_crc(p + rec2[1]);
    emit_msg("flip_codec2_frame_rehashed.msnap", p, series2_len, "MS_ERR_ZSTD", 1, rec2[1] + GC_RECORD_HEADER_SIZE,
             "next",
             "the same bit flipped and the payload CRC recomputed: decompressing with dictionary #1 fails (damaged "
             "block, or zstd's content checksum)",
             "decompression failed");
    free(p);

    size_t idsize, at = dict_id_field(series2 + rec2[1] + GC_RECORD_HEADER_SIZE, &idsize);
    if (idsize != 2 || gc_get_le16(series2 + rec2[1] + GC_RECORD_HEADER_SIZE + at) != MS_DICT1_ID)
        gc_die("v1.1/series.msnap", "the second frame does not name dictionary #1 in 2 bytes");
    p = copy(series2, series2_len, 0);
    p[rec2[1] + GC_RECORD_HEADER_SIZE + at] ^= 0x01; /* 0xCD53 -> 0xCD52 */
    gc_fix_payload_crc(p + rec2[1]);
    emit_msg("codec2_wrong_dict_id.msnap", p, series2_len, "MS_ERR_CORRUPT", 1, rec2[1] + GC_RECORD_HEADER_SIZE,
             "next", "the second record's codec-2 frame names dictionary id 52562, not 52563 (CRCs valid)",
             "names dictionary id 52562, but codec 2 frames must name memsnap's dictionary #1 (id 52563)");
    free(p);

    p = copy(series2, series2_len, 0);
    p[rec2[1] + GC_RH_CODEC] = 1;
    gc_fix_record_crc(p + rec2[1]);
    emit_msg("codec1_frame_with_dict.msnap", p, series2_len, "MS_ERR_ZSTD", 1, rec2[1] + GC_RECORD_HEADER_SIZE,
             "next", "the second record names codec 1 (CRC valid), but its frame needs dictionary #1",
             "decompression failed");
    free(p);

    uint64_t comp2 = gc_get_le64(series2 + rec2[2] + GC_RH_COMP);
    emit_msg("trunc_in_codec2_payload.msnap", series2, rec2[2] + GC_RECORD_HEADER_SIZE + comp2 / 2,
             "MS_ERR_TRUNCATED", 2, rec2[2], "next", "cut in the middle of the third record's codec-2 frame",
             "snapshot #2 is incomplete");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_golden_errors GOLDEN_DIR OUT_DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/v1.0/minimal.msnap", argv[1]);
    mini = gc_read_file(path, &mini_len);
    snprintf(path, sizeof path, "%s/v1.0/series.msnap", argv[1]);
    series = gc_read_file(path, &series_len);
    nrec = gc_record_offsets(series, series_len, rec, 8, &series_end);
    if (nrec != 5) gc_die(path, "expected 5 records");
    snprintf(path, sizeof path, "%s/v1.0/forward_minor.msnap", argv[1]);
    fwd = gc_read_file(path, &fwd_len);
    snprintf(path, sizeof path, "%s/v1.1/series.msnap", argv[1]);
    series2 = gc_read_file(path, &series2_len);
    if (gc_record_offsets(series2, series2_len, rec2, 8, &series2_end) != 5) gc_die(path, "expected 5 records");

    out_dir = argv[2];
    snprintf(path, sizeof path, "%s/MANIFEST", out_dir);
    manifest = fopen(path, "w");
    if (!manifest) gc_die(path, "cannot create");
    fprintf(manifest,
            "# Golden-error files: FILE ERROR SNAPSHOTS OFFSET AT\n"
            "#   ERROR      the code as ms_errname() names it\n"
            "#   SNAPSHOTS  good snapshots ms_reader_next returns before the error\n"
            "#   OFFSET     the byte ms_reader_error_offset() (or the open message) reports\n"
            "#   AT         open: ms_reader_open fails; next: ms_reader_next fails\n"
            "#   [MESSAGE]  if given, text the error message must contain\n"
            "# Made by make_golden_errors from v1.0/ and v1.1/; never regenerated (README.md).\n");
    truncations();
    bit_flips();
    header_rules();
    payload_rules();
    frame_rules();
    codec2_rules();
    if (fclose(manifest) != 0) gc_die(path, "write failed");
    free(mini);
    free(series);
    free(fwd);
    free(series2);
    return 0;
}

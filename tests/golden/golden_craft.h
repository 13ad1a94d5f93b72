/*
 * golden_craft.h - building .msnap bytes by hand, for the golden-file
 * generators (make_golden.c, make_golden_errors.c).
 *
 * The writer cannot produce what these files must hold (unknown
 * encodings, a required flag, a newer version, a wrong length with a good
 * checksum), so they are assembled here from the layout tables in
 * format/SPEC.md. On purpose nothing here calls the library's internal
 * encoders: a bug there must not be copied into the files that test it.
 * Only ms_crc32c (public) is used, and checked against the CRC-32C check
 * value first.
 *
 * Every function aborts the program with a message on failure (these are
 * one-shot generators); buffers are malloc'd and freed with gc_free.
 */
#ifndef GOLDEN_CRAFT_H
#define GOLDEN_CRAFT_H

#include <stddef.h>
#include <stdint.h>

/* File header (SPEC.md 2): 64 bytes in 1.0; integers are little-endian. */
#define GC_FILE_HEADER_SIZE 64u
#define GC_FH_MAJOR 8u       /* u16 */
#define GC_FH_MINOR 10u      /* u16 */
#define GC_FH_SIZE 12u       /* u32: header size, bytes */
#define GC_FH_WRITER 16u     /* 40 bytes, NUL-terminated */
#define GC_FH_FLAGS 56u      /* u32: reserved, zero */
#define GC_FH_CRC 60u        /* u32: CRC-32C of bytes 0..59; extension bytes follow */

/* Record header (SPEC.md 3.1): 40 bytes in 1.0, then the zstd frame. */
#define GC_RECORD_HEADER_SIZE 40u
#define GC_RH_SIZE 4u        /* u32: header size, bytes */
#define GC_RH_COMP 8u        /* u64: compressed payload bytes */
#define GC_RH_RAW 16u        /* u64: decompressed payload bytes */
#define GC_RH_PCRC 24u       /* u32: CRC-32C of the compressed payload */
#define GC_RH_CODEC 28u      /* u8: 1 = zstd, 2 = zstd with dictionary #1 */
#define GC_RH_CRC 36u        /* u32: CRC-32C of bytes 0..35; extension bytes follow */

/* Section flags (SPEC.md 4.1) and column encodings (SPEC.md 5.3): the
 * encoding byte is type + 4 * method + 64 * SHIFTED. */
#define GC_SEC_REQUIRED 1u
enum { GC_U64 = 1, GC_I64 = 2, GC_STR = 3 };
enum { GC_PLAIN = 0, GC_DELTA = 1, GC_CONST = 2, GC_REF = 3, GC_GAP = 4, GC_SPAN = 5, GC_SEQ = 6 };
#define GC_ENC(type, method) ((unsigned)(type) + 4u * (unsigned)(method))
#define GC_SHIFTED 64u

/* A string literal's bytes and length, for gc_put (NULs inside count). */
#define GC_LIT(s) (s), (sizeof(s) - 1)

typedef struct {
    unsigned char *p;
    size_t len, cap;
} gc_buf;

void gc_free(gc_buf *b);
void gc_put(gc_buf *b, const void *src, size_t n);
void gc_u8(gc_buf *b, unsigned v);
void gc_le16(gc_buf *b, uint16_t v);
void gc_le32(gc_buf *b, uint32_t v);
void gc_le64(gc_buf *b, uint64_t v);
void gc_varint(gc_buf *b, uint64_t v);          /* canonical LEB128 */
uint64_t gc_zigzag(int64_t v);

void gc_set_le32(unsigned char *p, uint32_t v);
void gc_set_le64(unsigned char *p, uint64_t v);
uint16_t gc_get_le16(const unsigned char *p);
uint32_t gc_get_le32(const unsigned char *p);
uint64_t gc_get_le64(const unsigned char *p);

/* ------------------------------------------------------------ payloads */

/* Appends a section: its header (type, flags and the length of `body`, as
 * varints) and the body. */
void gc_section(gc_buf *payload, unsigned type, unsigned flags, const gc_buf *body);

/* Appends the string table section holding `n` strings (explicit lengths:
 * strings may hold NULs): the count, the lengths, then the bytes. */
void gc_strings(gc_buf *payload, const char *const *s, const size_t *len, size_t n);

/* Starts a table body: row count and column count. */
void gc_table(gc_buf *body, uint64_t nrows, uint64_t ncols);

/* Appends a column to a table body: id, encoding byte, then `data` with
 * its length in front. */
void gc_column(gc_buf *body, unsigned id, unsigned enc, const gc_buf *data);

/* Appends a column of `n` values, each written as one canonical varint
 * (the caller applies zigzag, differences and shifts as the method says). */
void gc_column_varints(gc_buf *body, unsigned id, unsigned enc, const uint64_t *v, size_t n);

/* Appends a column whose data is a shift byte (if enc has GC_SHIFTED),
 * `nparam` parameter varints, then `n` value varints. */
void gc_column_params(gc_buf *body, unsigned id, unsigned enc, unsigned shift, const uint64_t *param,
                      size_t nparam, const uint64_t *v, size_t n);

/* --------------------------------------------------------------- files */

/* Appends a file header of version major.minor naming `writer_id`, then
 * `extlen` extension bytes `ext` (a later minor's fields, SPEC.md 2; a
 * multiple of 4, none in 1.0), counted in header_size. */
void gc_file_header(gc_buf *f, unsigned major, unsigned minor, const char *writer_id,
                    const void *ext, size_t extlen);

/* Appends a record holding `payload`: record header with both CRCs and a
 * zstd frame (level 3, content size and content checksum set, as the
 * writer does). gc_record_ext puts `extlen` extension bytes `ext` after
 * the 40-byte header (a later minor's fields, SPEC.md 3.1). */
void gc_record(gc_buf *f, const gc_buf *payload);
void gc_record_ext(gc_buf *f, const gc_buf *payload, const void *ext, size_t extlen);

/* Recomputes the CRC of the file header at f[0..] / of the record header
 * at rec[0..] after a field was changed on purpose. */
void gc_fix_file_crc(unsigned char *f);
void gc_fix_record_crc(unsigned char *rec);

/* Recomputes the payload CRC, then the header CRC, of the record at rec[0..]
 * after its payload bytes were changed on purpose. */
void gc_fix_payload_crc(unsigned char *rec);

/* Offsets of the records of a well-formed file (at most `max`); returns
 * their count. *end gets the offset after the last record. */
size_t gc_record_offsets(const unsigned char *f, size_t n, size_t *offs, size_t max, size_t *end);

/* Whole-file I/O. gc_read_file returns a malloc'd buffer. */
unsigned char *gc_read_file(const char *path, size_t *len);
void gc_write_file(const char *path, const void *p, size_t n);

/* Prints "PROG: what: detail" and exits 1. */
void gc_die(const char *what, const char *detail) __attribute__((noreturn));

#endif /* GOLDEN_CRAFT_H */

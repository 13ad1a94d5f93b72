/*
 * msnap_internal.h - pieces shared by the .msnap writer and reader and by
 * the format's own tests and fuzz targets. Not part of the public API.
 */
#ifndef MSNAP_INTERNAL_H
#define MSNAP_INTERNAL_H

#include "msnap.h"

#include <stdarg.h>
#include <string.h>

/* Fixed sizes from SPEC.md. */
#define MS_FILE_MAGIC "\x89MSNAP\r\n"
#define MS_FILE_HEADER_SIZE 64u
#define MS_FILE_HEADER_MAX 4096u     /* a larger header_size is corrupt */
#define MS_WRITER_ID_SIZE 40u
#define MS_RECORD_MAGIC "MSRC"
#define MS_RECORD_HEADER_SIZE 40u
#define MS_RECORD_HEADER_MAX 4096u
#define MS_SECTION_HEADER_MAX 14u    /* type, flags and length varints: at most 3 + 1 + 10 bytes */
#define MS_SECFLAG_REQUIRED 1u

/* Column encodings (SPEC.md 5.3): one byte holding the logical type (bits
 * 0-1), the method (bits 2-5) and the SHIFTED flag (bit 6: the data starts
 * with a shift byte); bit 7 is never set in a defined encoding. */
enum {
    MS_M_PLAIN = 0, /* the value itself (I64: zigzag), shifted */
    MS_M_DELTA = 1, /* zigzag difference to the previous row's value */
    MS_M_CONST = 2, /* one value for every row */
    MS_M_REF = 3,   /* zigzag difference to an earlier column's value in the same row */
    MS_M_GAP = 4,   /* zigzag difference to the next column's value in the previous row */
    MS_M_SPAN = 5,  /* zigzag difference to (a - b) >> s of two earlier columns */
    MS_M_SEQ = 6,   /* strings: 0 null, 1 the next new string, else index + 1 */
    MS_M_MAX = 6
};
#define MS_ENC_TYPE_MASK 0x03u
#define MS_ENC_METHOD_BITS 2
#define MS_ENC_SHIFTED 0x40u
#define MS_ENC_RESERVED 0x80u

static inline unsigned char ms_enc_byte(ms_coltype type, unsigned method, int shifted)
{
    return (unsigned char)((unsigned)type | (method << MS_ENC_METHOD_BITS) | (shifted ? MS_ENC_SHIFTED : 0));
}

/* ---------------------------------------------------------- little endian */

static inline void ms_put_le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void ms_put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void ms_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t ms_get_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t ms_get_le32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static inline uint64_t ms_get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* ------------------------------------------------------------------ varint */

#define MS_VARINT_MAX 10

/* Writes v as LEB128 into p (room for MS_VARINT_MAX bytes); returns bytes. */
static inline size_t ms_varint_put(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static inline size_t ms_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Reads a canonical LEB128 value from [*p, end). Returns 0 and advances *p,
 * or -1 if the bytes run out, the value exceeds 64 bits or the encoding is
 * not minimal (a final 0x00 byte after the first). */
static inline int ms_varint_get(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    const unsigned char *q = *p;
    uint64_t r = 0;
    unsigned shift = 0;
    for (;;) {
        if (q >= end) return -1;
        unsigned char b = *q++;
        if (shift == 63 && b > 1) return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift != 0) return -1;
            break;
        }
        shift += 7;
        if (shift > 63) return -1;
    }
    *p = q;
    *v = r;
    return 0;
}

static inline uint64_t ms_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t ms_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---------------------------------------------------------------- buffers */

/* A growable byte buffer. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} ms_buf;

int ms_buf_reserve(ms_buf *b, size_t extra);
int ms_buf_put(ms_buf *b, const void *src, size_t n);
int ms_buf_varint(ms_buf *b, uint64_t v);
void ms_buf_free(ms_buf *b);

/* ---------------------------------------------------------------- schema */

/* Whether a known section type holds exactly one row (SPEC.md 6). */
int ms_schema_single_row(unsigned type);

/* Logical type a known column must have, or 0 if (type, col) is unknown. */
ms_coltype ms_schema_coltype(unsigned type, unsigned col);

/* ------------------------------------------------------------ encoding */

/* One column as the encoder sees it: a 64-bit integer per row (STR: the
 * string index in the snapshot's string table, 0 = null). */
typedef struct {
    const uint64_t *v; /* nrows values */
    unsigned id;       /* column id */
    ms_coltype type;
} ms_ecol;

/* The encoder's reusable scratch memory; zero-initialised, freed with
 * ms_encoder_free. */
typedef struct {
    void *cand;           /* per-column choices */
    size_t cap;           /* entries of cand */
    uint64_t *res;        /* the residuals of one candidate at the sampled rows */
    size_t rescap;        /* entries of res */
    ms_buf col;           /* one column's data */
} ms_encoder;

/* Appends the table body of SPEC.md 5.2 (nrows, ncols, column entries)
 * for `ncols` columns of `nrows` rows to `out`, choosing each column's
 * encoding (msnap_encode.c). Returns 0 or MS_ERR_NOMEM. */
int ms_encode_table(ms_encoder *e, const ms_ecol *cols, size_t ncols, size_t nrows, ms_buf *out);

/* Frees the encoder's memory; the struct may be reused after. NULL is a no-op. */
void ms_encoder_free(ms_encoder *e);

/* ------------------------------------------------------------ table access */

/* One built table, as the writer reads it. */
typedef struct {
    unsigned id;
    ms_coltype type;
    uint64_t *v;          /* nrows values; for STR: 0 null, else 1 + index into strs */
} ms_tcol;

struct ms_table {
    unsigned type;
    size_t nrows, rowcap;
    ms_tcol *cols;
    size_t ncols, colcap;
    size_t hint;          /* index of the column set last: rows usually set columns in order */
    /* strings owned by the table: offsets into sbuf */
    ms_buf sbuf;
    size_t *soff, *slen;
    size_t nstr, strcap;
};

/* ------------------------------------------------------------ dictionary */

/* The bytes of built-in dictionary #1 (MS_DICT1_SIZE of them), embedded at
 * build time from format/dict/msnap-dict-1.bin (format/CMakeLists.txt). */
extern const unsigned char ms_dict1_bytes[];

/* ------------------------------------------------------------ payload */

/* Parses a decompressed payload into a snapshot (the fuzz target's entry
 * point, and the reader's). On failure returns a negative code and writes
 * "payload byte N: what" into msg. The snapshot's record facts are set
 * by the caller. */
int ms_payload_parse(const unsigned char *p, size_t n, ms_snapshot **out, char *msg,
                     size_t msglen);

/* Byte offset of the next record the reader would read; after
 * MS_ERR_TRUNCATED, the start of the incomplete record. */
uint64_t ms_reader_tell(const ms_reader *r);

/* Sets the record facts of a parsed snapshot. */
void ms_snapshot_set_record(ms_snapshot *s, uint64_t offset, uint64_t compressed, uint64_t raw,
                            unsigned codec);

/* snprintf into a fixed buffer that never fails the caller. */
void ms_fmt(char *buf, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* MSNAP_INTERNAL_H */

/*
 * golden_craft.c - hand assembly of .msnap bytes for the golden-file
 * generators; see golden_craft.h for why it does not reuse the library.
 */
#include "golden_craft.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "msnap.h"

void gc_die(const char *what, const char *detail)
{
    fprintf(stderr, "golden: %s: %s\n", what, detail);
    exit(1);
}

void gc_free(gc_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void gc_put(gc_buf *b, const void *src, size_t n)
{
    if (!n) return;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) gc_die("gc_put", "out of memory");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

void gc_u8(gc_buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    gc_put(b, &c, 1);
}

static void gc_le(gc_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) gc_u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

void gc_le16(gc_buf *b, uint16_t v) { gc_le(b, v, 2); }
void gc_le32(gc_buf *b, uint32_t v) { gc_le(b, v, 4); }
void gc_le64(gc_buf *b, uint64_t v) { gc_le(b, v, 8); }

void gc_varint(gc_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        gc_u8(b, (unsigned)(v & 0x7f) | 0x80);
        v >>= 7;
    }
    gc_u8(b, (unsigned)v);
}

uint64_t gc_zigzag(int64_t v)
{
    return v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
}

void gc_set_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

void gc_set_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

uint16_t gc_get_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t gc_get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t gc_get_le64(const unsigned char *p)
{
    return (uint64_t)gc_get_le32(p) | (uint64_t)gc_get_le32(p + 4) << 32;
}

/* ms_crc32c, once proven to be CRC-32C by its published check value. */
static uint32_t gc_crc(const void *p, size_t n)
{
    static int checked;
    if (!checked) {
        if (ms_crc32c(0, "123456789", 9) != 0xe3069283u) gc_die("ms_crc32c", "is not CRC-32C");
        checked = 1;
    }
    return ms_crc32c(0, p, n);
}

/* ------------------------------------------------------------ payloads */

void gc_section(gc_buf *payload, unsigned type, unsigned flags, const gc_buf *body)
{
    gc_varint(payload, type);
    gc_varint(payload, flags);
    gc_varint(payload, body->len);
    gc_put(payload, body->p, body->len);
}

void gc_strings(gc_buf *payload, const char *const *s, const size_t *len, size_t n)
{
    gc_buf b = {0};
    gc_varint(&b, n);
    for (size_t i = 0; i < n; i++) gc_varint(&b, len[i]);
    for (size_t i = 0; i < n; i++) gc_put(&b, s[i], len[i]);
    gc_section(payload, 1, 0, &b);
    gc_free(&b);
}

void gc_table(gc_buf *body, uint64_t nrows, uint64_t ncols)
{
    gc_varint(body, nrows);
    gc_varint(body, ncols);
}

void gc_column(gc_buf *body, unsigned id, unsigned enc, const gc_buf *data)
{
    gc_varint(body, id);
    gc_u8(body, enc);
    gc_varint(body, data->len);
    gc_put(body, data->p, data->len);
}

void gc_column_varints(gc_buf *body, unsigned id, unsigned enc, const uint64_t *v, size_t n)
{
    gc_column_params(body, id, enc, 0, NULL, 0, v, n);
}

void gc_column_params(gc_buf *body, unsigned id, unsigned enc, unsigned shift, const uint64_t *param,
                      size_t nparam, const uint64_t *v, size_t n)
{
    gc_buf d = {0};
    if (enc & GC_SHIFTED) gc_u8(&d, shift);
    for (size_t i = 0; i < nparam; i++) gc_varint(&d, param[i]);
    for (size_t i = 0; i < n; i++) gc_varint(&d, v[i]);
    gc_column(body, id, enc, &d);
    gc_free(&d);
}

/* --------------------------------------------------------------- files */

void gc_file_header(gc_buf *f, unsigned major, unsigned minor, const char *writer_id,
                    const void *ext, size_t extlen)
{
    size_t at = f->len, n = strlen(writer_id);
    if (n > 39) gc_die("gc_file_header", "writer id over 39 bytes");
    if (extlen % 4) gc_die("gc_file_header", "extension not a multiple of 4 bytes");
    gc_put(f, "\x89MSNAP\r\n", 8);
    gc_le16(f, (uint16_t)major);
    gc_le16(f, (uint16_t)minor);
    gc_le32(f, (uint32_t)(GC_FILE_HEADER_SIZE + extlen));
    unsigned char id[40] = {0};
    memcpy(id, writer_id, n);
    gc_put(f, id, sizeof id);
    gc_le32(f, 0); /* flags */
    gc_le32(f, 0); /* CRC, below */
    gc_put(f, ext, extlen);
    gc_fix_file_crc(f->p + at);
}

void gc_record_ext(gc_buf *f, const gc_buf *payload, const void *ext, size_t extlen)
{
    if (extlen % 4) gc_die("gc_record_ext", "extension not a multiple of 4 bytes");
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t bound = ZSTD_compressBound(payload->len);
    unsigned char *z = malloc(bound);
    if (!c || !z) gc_die("gc_record", "out of memory");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1)))
        gc_die("gc_record", "zstd parameters refused");
    size_t zn = ZSTD_compress2(c, z, bound, payload->p, payload->len);
    if (ZSTD_isError(zn)) gc_die("gc_record", ZSTD_getErrorName(zn));
    size_t at = f->len;
    gc_put(f, "MSRC", 4);
    gc_le32(f, (uint32_t)(GC_RECORD_HEADER_SIZE + extlen));
    gc_le64(f, zn);
    gc_le64(f, payload->len);
    gc_le32(f, gc_crc(z, zn));
    gc_u8(f, 1); /* codec: zstd */
    for (int i = 29; i < 40; i++) gc_u8(f, 0); /* reserved, then the CRC */
    gc_fix_record_crc(f->p + at);
    gc_put(f, ext, extlen);
    gc_put(f, z, zn);
    free(z);
    ZSTD_freeCCtx(c);
}

void gc_record(gc_buf *f, const gc_buf *payload)
{
    gc_record_ext(f, payload, NULL, 0);
}

void gc_fix_file_crc(unsigned char *f)
{
    gc_set_le32(f + GC_FH_CRC, gc_crc(f, GC_FH_CRC));
}

void gc_fix_record_crc(unsigned char *rec)
{
    gc_set_le32(rec + GC_RH_CRC, gc_crc(rec, GC_RH_CRC));
}

void gc_fix_payload_crc(unsigned char *rec)
{
    uint32_t hsize = gc_get_le32(rec + GC_RH_SIZE);
    gc_set_le32(rec + GC_RH_PCRC, gc_crc(rec + hsize, (size_t)gc_get_le64(rec + GC_RH_COMP)));
    gc_fix_record_crc(rec);
}

size_t gc_record_offsets(const unsigned char *f, size_t n, size_t *offs, size_t max, size_t *end)
{
    size_t off = gc_get_le32(f + GC_FH_SIZE), k = 0;
    while (off + GC_RECORD_HEADER_SIZE <= n) {
        if (memcmp(f + off, "MSRC", 4) != 0) gc_die("gc_record_offsets", "no record magic");
        if (k == max) gc_die("gc_record_offsets", "too many records");
        offs[k++] = off;
        off += gc_get_le32(f + off + GC_RH_SIZE) + (size_t)gc_get_le64(f + off + GC_RH_COMP);
    }
    if (off != n) gc_die("gc_record_offsets", "the file does not end after its last record");
    *end = off;
    return k;
}

unsigned char *gc_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) gc_die(path, strerror(errno));
    gc_buf b = {0};
    unsigned char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) gc_put(&b, chunk, k);
    if (ferror(f)) gc_die(path, "read error");
    fclose(f);
    *len = b.len;
    return b.p ? b.p : calloc(1, 1);
}

void gc_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) gc_die(path, strerror(errno));
    if (n && fwrite(p, 1, n, f) != n) gc_die(path, "write failed");
    if (fclose(f) != 0) gc_die(path, strerror(errno));
}

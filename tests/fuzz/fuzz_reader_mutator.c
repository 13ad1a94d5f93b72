/*
 * fuzz_reader_mutator.c - a libFuzzer custom mutator for fuzz_reader that
 * mutates inside the compressed payloads.
 *
 * A byte flipped in a zstd frame almost never decompresses, so plain
 * mutation leaves the reader target stuck in the header and record
 * checks. Half of the time this mutator instead picks one well-formed
 * record, decompresses its payload, lets libFuzzer mutate the payload,
 * recompresses it and rewrites the record header (sizes and both CRCs),
 * so mutated sections reach ms_payload_parse through the whole reader.
 * A codec-2 record is decompressed and recompressed with dictionary #1
 * (ms_codec_dict), so its frame keeps naming the dictionary and the
 * mutation reaches the payload parser through the codec-2 path too.
 * The other half, and whenever the input has no usable record, it is
 * libFuzzer's own mutation. Linked only into the libFuzzer executable
 * (replay builds have no LLVMFuzzerMutate).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "msnap.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define MUT_MAX_RAW ((size_t)1 << 20) /* fuzz_reader's cap */
#define MUT_MAX_RECORDS 64

static uint32_t mut_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t mut_le64(const uint8_t *p)
{
    return (uint64_t)mut_le32(p) | (uint64_t)mut_le32(p + 4) << 32;
}

static void mut_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void mut_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Mutates the payload of one record in place; returns the new size, or 0
 * if the input has no record this can work on. */
static size_t mut_payload(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    if (size < 64) return 0;
    size_t off = mut_le32(data + 12), recs[MUT_MAX_RECORDS], n = 0;
    if (off < 64 || off > 4096) return 0;
    while (n < MUT_MAX_RECORDS && off + 40 <= size && memcmp(data + off, "MSRC", 4) == 0) {
        uint32_t hsize = mut_le32(data + off + 4);
        uint64_t comp = mut_le64(data + off + 8);
        if (hsize < 40 || hsize > 4096 || hsize > size - off || comp > size - off - hsize) break;
        recs[n++] = off;
        off += hsize + (size_t)comp;
    }
    if (!n) return 0;
    size_t at = recs[seed % n];
    uint32_t hsize = mut_le32(data + at + 4);
    size_t comp = (size_t)mut_le64(data + at + 8);
    uint8_t *frame = data + at + hsize;
    size_t dlen;
    const void *dict = ms_codec_dict(data[at + 28], &dlen); /* NULL for codec 1 (and unknown codecs) */
    unsigned long long raw = ZSTD_getFrameContentSize(frame, comp);
    if (raw == ZSTD_CONTENTSIZE_UNKNOWN || raw == ZSTD_CONTENTSIZE_ERROR || raw > MUT_MAX_RAW / 2) return 0;
    size_t cap = (size_t)raw * 2 + 64;
    uint8_t *p = malloc(cap);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    int opened = p && d;
    size_t got = opened ? ZSTD_decompress_usingDict(d, p, cap, frame, comp, dict, dlen) : 0;
    ZSTD_freeDCtx(d);
    if (!opened || ZSTD_isError(got)) {
        free(p);
        return 0;
    }
    size_t nraw = LLVMFuzzerMutate(p, got, cap);
    size_t bound = ZSTD_compressBound(nraw);
    uint8_t *z = malloc(bound);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    int made = z && c;
    size_t zn = made ? ZSTD_compress_usingDict(c, z, bound, p, nraw, dict, dlen, 1) : 0;
    ZSTD_freeCCtx(c);
    free(p);
    size_t tail = size - at - hsize - comp; /* bytes after the record */
    if (!made || ZSTD_isError(zn) || at + hsize + zn + tail > max_size) {
        free(z);
        return 0;
    }
    memmove(frame + zn, frame + comp, tail);
    memcpy(frame, z, zn);
    free(z);
    uint8_t *h = data + at;
    mut_put64(h + 8, zn);
    mut_put64(h + 16, nraw);
    mut_put32(h + 24, ms_crc32c(0, frame, zn));
    mut_put32(h + 36, ms_crc32c(0, h, 36)); /* SPEC.md 3.1: over bytes [0, 36) */
    return at + hsize + zn + tail;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    size_t n = (seed & 1) ? mut_payload(data, size, max_size, seed >> 1) : 0;
    return n ? n : LLVMFuzzerMutate(data, size, max_size);
}

/*
 * msnap_reader.c - reading .msnap files, treating every byte as hostile.
 *
 * Every length and count is checked against what remains before it is
 * used, every allocation is bounded by the decompressed payload size, and
 * that size is capped (MS_DEFAULT_MAX_RAW) before anything is allocated.
 * Corruption is reported through ms_corrupt(), which records the code, the
 * byte offset and the library source line (for bug reports).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pread, fdatasync, O_CLOEXEC */
#endif
#include "msnap_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* A decoded column: 16 bytes (SPEC.md 8.3 counts on it). */
typedef struct {
    uint16_t id;        /* column id, 1-65535 */
    uint8_t type;       /* ms_coltype */
    uint8_t method;     /* MS_M_*, as stored */
    union {
        uint64_t *v;    /* nrows values (STR: string index, 0 = null), malloc'd */
        uint64_t cval;  /* method CONST: the value of every row */
    } u;
} ms_rcol;

/* Value of row `row` of a decoded column. */
static inline uint64_t ms_rcol_at(const ms_rcol *c, size_t row)
{
    return c->method == MS_M_CONST ? c->u.cval : c->u.v[row];
}

struct ms_section {
    const ms_snapshot *snap;
    unsigned type, flags;
    uint64_t bytes; /* encoded body size */
    size_t nrows, ncols;
    ms_rcol *cols;
};

struct ms_snapshot {
    uint64_t offset, compressed, raw;
    unsigned codec;    /* MS_CODEC_* of the record */
    char *arena;       /* string bytes, each followed by a NUL */
    uint32_t *soff;    /* nstr + 1 offsets into arena (string i is [soff[i-1], soff[i]-1)) */
    size_t nstr;
    ms_section *secs;
    size_t nsecs;
};

struct ms_reader {
    int fd;              /* -1 for memory buffers */
    const unsigned char *mem;
    uint64_t size;
    char name[256];
    unsigned flags;
    uint64_t max_raw;
    unsigned major, minor;
    char writer_id[MS_WRITER_ID_SIZE + 1];
    uint64_t off;        /* next record */
    uint64_t index;      /* snapshots returned so far */
    int err;             /* sticky error, 0 if none */
    uint64_t err_off;
    char msg[640];
    ZSTD_DCtx *dctx;
    ZSTD_DDict *ddict;   /* dictionary #1, digested at the first codec-2 record */
    ms_buf cbuf;         /* compressed payload (file reads) */
};

/* ------------------------------------------------------------- reporting */

/* All corruption goes through here: the message says where, the source
 * line says which check fired. */
#define ms_corrupt(r, code, off, ...) ms_report((r), (code), (off), __LINE__, __VA_ARGS__)

static int ms_report(ms_reader *r, int code, uint64_t off, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static int ms_report(ms_reader *r, int code, uint64_t off, int line, const char *fmt, ...)
{
    char what[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    (void)line; /* kept for debuggers: break in ms_report and look at `line` */
    r->err = code;
    r->err_off = off;
    ms_fmt(r->msg, sizeof r->msg, "%s: byte %llu: %s", r->name, (unsigned long long)off, what);
    return code;
}

/* ------------------------------------------------------------- raw reads */

/* Reads exactly n bytes at off. Returns a pointer (into the memory buffer
 * or `into`), or NULL with errno set (0 if the file ends first). */
static const unsigned char *ms_read_at(ms_reader *r, uint64_t off, size_t n, unsigned char *into)
{
    if (off > r->size || n > r->size - off) {
        errno = 0;
        return NULL;
    }
    if (r->mem) return r->mem + off;
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(r->fd, into + got, n - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR) continue;
            return NULL;
        }
        if (k == 0) {
            errno = 0;
            return NULL;
        }
        got += (size_t)k;
    }
    return into;
}

/* ------------------------------------------------------------------ open */

static ms_reader *ms_reader_alloc(const char *name, unsigned flags)
{
    ms_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->fd = -1;
    r->flags = flags;
    r->max_raw = MS_DEFAULT_MAX_RAW;
    ms_fmt(r->name, sizeof r->name, "%s", name ? name : "(memory)");
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) {
        free(r);
        return NULL;
    }
    return r;
}

static int ms_read_file_header(ms_reader *r)
{
    unsigned char h[MS_FILE_HEADER_MAX];
    size_t have = r->size < 16 ? (size_t)r->size : 16;
    const unsigned char *p = ms_read_at(r, 0, have, h);
    if (!p) return ms_corrupt(r, MS_ERR_IO, 0, "read failed: %s", errno ? strerror(errno) : "file shrank");
    size_t m = have < 8 ? have : 8;
    if (r->size == 0) return ms_corrupt(r, MS_ERR_MAGIC, 0, "empty file, not a .msnap file");
    if (memcmp(p, MS_FILE_MAGIC, m) != 0)
        return ms_corrupt(r, MS_ERR_MAGIC, 0, "not a .msnap file (bad magic)");
    if (have < 16)
        return ms_corrupt(r, MS_ERR_TRUNCATED, r->size,
                          "file is %llu bytes, too short for the %u-byte file header",
                          (unsigned long long)r->size, MS_FILE_HEADER_SIZE);
    r->major = ms_get_le16(p + 8);
    r->minor = ms_get_le16(p + 10);
    uint32_t hsize = ms_get_le32(p + 12);
    /* checked before the CRC: a newer major may lay its header out differently */
    if (r->major != MS_FORMAT_MAJOR)
        return ms_corrupt(r, MS_ERR_VERSION, 8, "format version %u.%u; this reader reads %u.x only%s",
                          r->major, r->minor, MS_FORMAT_MAJOR,
                          r->major > MS_FORMAT_MAJOR ? " (use a newer memsnap)" : " (no such released version)");
    if (hsize < MS_FILE_HEADER_SIZE || hsize > MS_FILE_HEADER_MAX || (hsize & 3))
        return ms_corrupt(r, MS_ERR_CORRUPT, 12, "file header size %u is invalid", hsize);
    p = ms_read_at(r, 0, hsize, h);
    if (!p) {
        if (errno) return ms_corrupt(r, MS_ERR_IO, 0, "read failed: %s", strerror(errno));
        return ms_corrupt(r, MS_ERR_TRUNCATED, r->size,
                          "file is %llu bytes, too short for the %u-byte file header",
                          (unsigned long long)r->size, hsize);
    }
    uint32_t want = ms_get_le32(p + 60); /* over the v1 fields; extension bytes are skipped */
    uint32_t got = ms_crc32c(0, p, 60);
    if (!(r->flags & MS_READ_NO_CHECKSUM) && want != got)
        return ms_corrupt(r, MS_ERR_CHECKSUM, 60,
                          "file header checksum mismatch (stored %08x, computed %08x)", want, got);
    if (ms_get_le32(p + 56) != 0)
        return ms_corrupt(r, MS_ERR_CORRUPT, 56, "reserved file header flags are set (%08x)",
                          ms_get_le32(p + 56));
    if (!memchr(p + 16, 0, MS_WRITER_ID_SIZE))
        return ms_corrupt(r, MS_ERR_CORRUPT, 16, "writer id is not NUL-terminated");
    memcpy(r->writer_id, p + 16, MS_WRITER_ID_SIZE);
    r->writer_id[MS_WRITER_ID_SIZE] = 0;
    r->off = hsize;
    return 0;
}

static ms_reader *ms_reader_finish_open(ms_reader *r, int *err, char *errbuf, size_t errlen)
{
    int rc = ms_read_file_header(r);
    if (rc) {
        if (err) *err = rc;
        ms_fmt(errbuf, errlen, "%s", r->msg);
        ms_reader_close(r);
        return NULL;
    }
    if (err) *err = 0;
    return r;
}

ms_reader *ms_reader_open(const char *path, unsigned flags, int *err, char *errbuf, size_t errlen)
{
    if (!path) {
        if (err) *err = MS_ERR_USAGE;
        ms_fmt(errbuf, errlen, "ms_reader_open: no path");
        return NULL;
    }
    /* O_NONBLOCK: opening a FIFO must not hang; only regular files are read */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (err) *err = MS_ERR_IO;
        ms_fmt(errbuf, errlen, "%s: cannot open: %s", path, strerror(e));
        return NULL;
    }
    struct stat st;
    int sr = fstat(fd, &st), e = errno;
    if (sr != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        if (err) *err = MS_ERR_IO;
        ms_fmt(errbuf, errlen, "%s: %s", path, sr != 0 ? strerror(e) : S_ISDIR(st.st_mode) ? "is a directory"
                                                                                        : "not a regular file");
        return NULL;
    }
    ms_reader *r = ms_reader_alloc(path, flags);
    if (!r) {
        close(fd);
        if (err) *err = MS_ERR_NOMEM;
        ms_fmt(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    r->fd = fd;
    r->size = (uint64_t)st.st_size;
    return ms_reader_finish_open(r, err, errbuf, errlen);
}

ms_reader *ms_reader_open_mem(const void *buf, size_t len, const char *name, unsigned flags,
                              int *err, char *errbuf, size_t errlen)
{
    ms_reader *r = ms_reader_alloc(name, flags);
    if (!r) {
        if (err) *err = MS_ERR_NOMEM;
        ms_fmt(errbuf, errlen, "out of memory");
        return NULL;
    }
    static const unsigned char empty[1];
    r->mem = buf ? buf : empty;
    r->size = buf ? len : 0;
    return ms_reader_finish_open(r, err, errbuf, errlen);
}

void ms_reader_set_max_raw(ms_reader *r, uint64_t max_raw)
{
    /* string offsets are 32-bit and payloads of 2^31 bytes or more are refused */
    uint64_t top = ((uint64_t)1 << 31) - 1;
    if (r) r->max_raw = max_raw < top ? max_raw : top;
}

void ms_reader_version(const ms_reader *r, unsigned *major, unsigned *minor, const char **writer_id)
{
    if (major) *major = r ? r->major : 0;
    if (minor) *minor = r ? r->minor : 0;
    if (writer_id) *writer_id = r ? r->writer_id : "";
}

const char *ms_reader_error(const ms_reader *r)
{
    return r ? r->msg : "";
}

uint64_t ms_reader_error_offset(const ms_reader *r)
{
    return r ? r->err_off : 0;
}

uint64_t ms_reader_tell(const ms_reader *r)
{
    return r ? r->off : 0;
}

void ms_reader_close(ms_reader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    ZSTD_freeDCtx(r->dctx);
    ZSTD_freeDDict(r->ddict);
    ms_buf_free(&r->cbuf);
    free(r);
}

/* ----------------------------------------------------------------- records */

/* Re-reads the file size: a capture may still be appending to it. */
static void ms_refresh_size(ms_reader *r)
{
    struct stat st;
    if (r->fd >= 0 && fstat(r->fd, &st) == 0 && (uint64_t)st.st_size > r->size)
        r->size = (uint64_t)st.st_size;
}

/* Whether every byte from `off` to the end of the file is zero: what a
 * file system can leave after a crash that extended the file before its
 * data was written. Such a tail is reported as truncation, not damage. */
static int ms_tail_is_zero(ms_reader *r, uint64_t off)
{
    unsigned char buf[4096];
    while (off < r->size) {
        size_t n = r->size - off < sizeof buf ? (size_t)(r->size - off) : sizeof buf;
        const unsigned char *p = ms_read_at(r, off, n, buf);
        if (!p) return 0;
        for (size_t i = 0; i < n; i++)
            if (p[i]) return 0;
        off += n;
    }
    return 1;
}

int ms_reader_next(ms_reader *r, ms_snapshot **out)
{
    if (!r || !out) return MS_ERR_USAGE;
    *out = NULL;
    if (r->err) return r->err;
    uint64_t off = r->off;
    if (off >= r->size) ms_refresh_size(r);
    if (off == r->size) {
        r->err = MS_ERR_END;
        r->err_off = off;
        ms_fmt(r->msg, sizeof r->msg, "%s: end of file", r->name);
        return MS_ERR_END;
    }
    /* The first 40 bytes hold every v1 field and a CRC over them; a larger
     * header_size (a later minor) adds bytes that this reader skips. */
    unsigned char hb[MS_RECORD_HEADER_SIZE];
    if (r->size - off < MS_RECORD_HEADER_SIZE) ms_refresh_size(r);
    uint64_t avail = r->size - off;
    const unsigned char *h = ms_read_at(r, off, avail < MS_RECORD_HEADER_SIZE ? (size_t)avail : MS_RECORD_HEADER_SIZE, hb);
    if (!h) return ms_corrupt(r, MS_ERR_IO, off, "read failed: %s", errno ? strerror(errno) : "file shrank");
    size_t m = avail < 4 ? (size_t)avail : 4;
    if (memcmp(h, MS_RECORD_MAGIC, m) != 0) {
        if (ms_tail_is_zero(r, off))
            return ms_corrupt(r, MS_ERR_TRUNCATED, off,
                              "snapshot #%llu is incomplete: the last %llu bytes are zeros (a crash before the data reached the disk)",
                              (unsigned long long)r->index, (unsigned long long)avail);
        return ms_corrupt(r, MS_ERR_CORRUPT, off,
                          "snapshot #%llu: no record magic \"MSRC\" where a snapshot record must start",
                          (unsigned long long)r->index);
    }
    if (avail < MS_RECORD_HEADER_SIZE)
        return ms_corrupt(r, MS_ERR_TRUNCATED, off,
                          "snapshot #%llu is incomplete: %llu of its %u header bytes present",
                          (unsigned long long)r->index, (unsigned long long)avail, MS_RECORD_HEADER_SIZE);
    uint32_t hcrc = ms_get_le32(h + 36), hgot = ms_crc32c(0, h, 36);
    if (!(r->flags & MS_READ_NO_CHECKSUM) && hcrc != hgot)
        return ms_corrupt(r, MS_ERR_CHECKSUM, off + 36,
                          "snapshot #%llu: record header checksum mismatch (stored %08x, computed %08x)",
                          (unsigned long long)r->index, hcrc, hgot);
    uint32_t hsize = ms_get_le32(h + 4);
    if (hsize < MS_RECORD_HEADER_SIZE || hsize > MS_RECORD_HEADER_MAX || (hsize & 3))
        return ms_corrupt(r, MS_ERR_CORRUPT, off + 4, "snapshot #%llu: record header size %u is invalid",
                          (unsigned long long)r->index, hsize);
    uint64_t comp = ms_get_le64(h + 8), raw = ms_get_le64(h + 16);
    uint32_t pcrc = ms_get_le32(h + 24);
    unsigned codec = h[28];
    if (codec != MS_CODEC_ZSTD && codec != MS_CODEC_ZSTD_DICT1)
        return ms_corrupt(r, MS_ERR_UNSUPPORTED, off + 28,
                          "snapshot #%llu: compression codec %u is unknown to this reader (use a newer memsnap)",
                          (unsigned long long)r->index, h[28]);
    for (unsigned i = 29; i < 36; i++)
        if (h[i])
            return ms_corrupt(r, MS_ERR_CORRUPT, off + i,
                              "snapshot #%llu: reserved record header byte %u is not zero",
                              (unsigned long long)r->index, i);
    if (raw > r->max_raw)
        return ms_corrupt(r, MS_ERR_LIMIT, off + 16,
                          "snapshot #%llu declares %llu bytes of payload, over the reader's cap of %llu",
                          (unsigned long long)r->index, (unsigned long long)raw,
                          (unsigned long long)r->max_raw);
    if (raw == 0 || comp == 0 || comp > ZSTD_compressBound((size_t)raw))
        return ms_corrupt(r, MS_ERR_CORRUPT, off + 8,
                          "snapshot #%llu: impossible sizes (%llu compressed for %llu raw bytes)",
                          (unsigned long long)r->index, (unsigned long long)comp,
                          (unsigned long long)raw);
    uint64_t poff = off + hsize;
    if (poff > r->size || comp > r->size - poff) ms_refresh_size(r);
    if (poff > r->size || comp > r->size - poff)
        return ms_corrupt(r, MS_ERR_TRUNCATED, off,
                          "snapshot #%llu is incomplete: its payload needs %llu bytes, the file has %llu",
                          (unsigned long long)r->index, (unsigned long long)comp,
                          (unsigned long long)(poff > r->size ? 0 : r->size - poff));
    const unsigned char *cp;
    if (r->mem) {
        cp = r->mem + poff;
    } else {
        r->cbuf.len = 0;
        if (ms_buf_reserve(&r->cbuf, (size_t)comp))
            return ms_corrupt(r, MS_ERR_NOMEM, off, "out of memory reading %llu bytes",
                              (unsigned long long)comp);
        cp = ms_read_at(r, poff, (size_t)comp, r->cbuf.p);
        if (!cp) return ms_corrupt(r, MS_ERR_IO, poff, "read failed: %s", errno ? strerror(errno) : "file shrank");
    }
    uint32_t pgot = ms_crc32c(0, cp, (size_t)comp);
    if (!(r->flags & MS_READ_NO_CHECKSUM) && pgot != pcrc)
        return ms_corrupt(r, MS_ERR_CHECKSUM, poff,
                          "snapshot #%llu: payload checksum mismatch (stored %08x, computed %08x); the bytes %llu..%llu are damaged",
                          (unsigned long long)r->index, pcrc, pgot, (unsigned long long)poff,
                          (unsigned long long)(poff + comp - 1));
    unsigned long long fcs = ZSTD_getFrameContentSize(cp, (size_t)comp);
    if (fcs != raw)
        return ms_corrupt(r, MS_ERR_CORRUPT, poff,
                          "snapshot #%llu: zstd frame does not declare the record's %llu-byte size",
                          (unsigned long long)r->index, (unsigned long long)raw);
    size_t fsz = ZSTD_findFrameCompressedSize(cp, (size_t)comp);
    if (ZSTD_isError(fsz) || fsz != comp)
        return ms_corrupt(r, MS_ERR_CORRUPT, poff,
                          "snapshot #%llu: the zstd frame is not exactly %llu bytes long",
                          (unsigned long long)r->index, (unsigned long long)comp);
    if (codec == MS_CODEC_ZSTD_DICT1) {
        /* Only dictionary #1 belongs to codec 2 (a later one is a later
         * codec): a frame made without it, or with another, is not a
         * codec-2 record, whatever zstd would make of it. */
        unsigned did = ZSTD_getDictID_fromFrame(cp, (size_t)comp);
        if (did != MS_DICT1_ID) {
            char named[48] = "names no dictionary";
            if (did) ms_fmt(named, sizeof named, "names dictionary id %u", did);
            return ms_corrupt(r, MS_ERR_CORRUPT, poff,
                              "snapshot #%llu: the zstd frame %s, but codec 2 frames must name memsnap's dictionary #1 (id %u)",
                              (unsigned long long)r->index, named, MS_DICT1_ID);
        }
        if (!r->ddict && !(r->ddict = ZSTD_createDDict(ms_dict1_bytes, MS_DICT1_SIZE)))
            return ms_corrupt(r, MS_ERR_NOMEM, off, "out of memory loading the zstd dictionary of codec 2");
    }
    unsigned char *rawbuf = malloc((size_t)raw);
    if (!rawbuf)
        return ms_corrupt(r, MS_ERR_NOMEM, off, "out of memory for a %llu-byte payload",
                          (unsigned long long)raw);
    size_t dr = codec == MS_CODEC_ZSTD_DICT1
                    ? ZSTD_decompress_usingDDict(r->dctx, rawbuf, (size_t)raw, cp, (size_t)comp, r->ddict)
                    : ZSTD_decompressDCtx(r->dctx, rawbuf, (size_t)raw, cp, (size_t)comp);
    if (ZSTD_isError(dr) || dr != raw) {
        free(rawbuf);
        return ms_corrupt(r, MS_ERR_ZSTD, poff, "snapshot #%llu: decompression failed: %s",
                          (unsigned long long)r->index,
                          ZSTD_isError(dr) ? ZSTD_getErrorName(dr) : "short output");
    }
    char pmsg[400];
    ms_snapshot *s = NULL;
    int rc = ms_payload_parse(rawbuf, (size_t)raw, &s, pmsg, sizeof pmsg);
    free(rawbuf);
    if (rc)
        return ms_corrupt(r, rc, off, "snapshot #%llu: %s", (unsigned long long)r->index, pmsg);
    ms_snapshot_set_record(s, off, comp, raw, codec);
    r->off = poff + comp;
    r->index++;
    *out = s;
    return 0;
}

/* ----------------------------------------------------------------- payload */

typedef struct {
    const unsigned char *base, *p, *end;
    char *msg;
    size_t msglen;
} ms_pcur;

#define PFAIL(c, code, ...)                                                        \
    do {                                                                           \
        char what_[300];                                                           \
        ms_fmt(what_, sizeof what_, __VA_ARGS__);                                  \
        ms_fmt((c)->msg, (c)->msglen, "payload byte %llu: %s",                      \
               (unsigned long long)((c)->p - (c)->base), what_);                   \
        return (code);                                                             \
    } while (0)

void ms_snapshot_free(ms_snapshot *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nsecs; i++) {
        for (size_t j = 0; j < s->secs[i].ncols; j++)
            if (s->secs[i].cols[j].method != MS_M_CONST) free(s->secs[i].cols[j].u.v);
        free(s->secs[i].cols);
    }
    free(s->secs);
    free(s->arena);
    free(s->soff);
    free(s);
}

void ms_snapshot_set_record(ms_snapshot *s, uint64_t offset, uint64_t compressed, uint64_t raw,
                            unsigned codec)
{
    s->offset = offset;
    s->compressed = compressed;
    s->raw = raw;
    s->codec = codec;
}

static int ms_parse_strings(ms_pcur *c, const unsigned char *end, ms_snapshot *s)
{
    uint64_t n;
    if (ms_varint_get(&c->p, end, &n)) PFAIL(c, MS_ERR_CORRUPT, "string table: bad count varint");
    if (n > (uint64_t)(end - c->p))
        PFAIL(c, MS_ERR_CORRUPT, "string table: %llu strings cannot fit in %llu bytes",
              (unsigned long long)n, (unsigned long long)(end - c->p));
    size_t body = (size_t)(end - c->p);
    s->soff = malloc(((size_t)n + 1) * sizeof *s->soff);
    s->arena = malloc(body + 1);
    if (!s->soff || !s->arena) PFAIL(c, MS_ERR_NOMEM, "out of memory for the string table");
    /* the lengths first: offsets into the arena, where each string will be
     * followed by a NUL (room: each length varint took at least a byte) */
    uint64_t total = 0;
    s->soff[0] = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        if (ms_varint_get(&c->p, end, &len)) PFAIL(c, MS_ERR_CORRUPT, "string %llu: bad length varint", (unsigned long long)i + 1);
        if (len > (uint64_t)(end - c->p) || total + len > (uint64_t)(end - c->p))
            PFAIL(c, MS_ERR_CORRUPT, "string %llu: length %llu runs past the string table (%llu bytes left for the strings)",
                  (unsigned long long)i + 1, (unsigned long long)len,
                  (unsigned long long)((uint64_t)(end - c->p) - total));
        total += len;
        s->soff[i + 1] = (uint32_t)(total + i + 1);
    }
    if (total != (uint64_t)(end - c->p))
        PFAIL(c, MS_ERR_CORRUPT, "string table: %llu bytes of strings, but %llu bytes follow the lengths",
              (unsigned long long)total, (unsigned long long)(end - c->p));
    for (uint64_t i = 0; i < n; i++) {
        size_t at = s->soff[i], len = s->soff[i + 1] - at - 1;
        memcpy(s->arena + at, c->p, len);
        s->arena[at + len] = 0;
        c->p += len;
    }
    s->nstr = (size_t)n;
    return 0;
}

/* The decoded column of id `id` among the section's columns decoded so far
 * (ids increase, so a binary search), or NULL. */
static const ms_rcol *ms_decoded_col(const ms_section *sec, uint64_t id)
{
    size_t lo = 0, hi = sec->ncols;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sec->cols[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sec->ncols && sec->cols[lo].id == id ? &sec->cols[lo] : NULL;
}

/* The logical type of a defined encoding byte (SPEC.md 5.3), or 0 if the
 * byte is not a defined encoding. */
static ms_coltype ms_enc_type(unsigned enc)
{
    ms_coltype t = (ms_coltype)(enc & MS_ENC_TYPE_MASK);
    unsigned m = (enc >> MS_ENC_METHOD_BITS) & 15;
    int shifted = (enc & MS_ENC_SHIFTED) != 0;
    if (!t || (enc & MS_ENC_RESERVED) || m > MS_M_MAX) return (ms_coltype)0;
    if (t == MS_T_STR ? (m == MS_M_GAP || m == MS_M_SPAN || shifted) : m == MS_M_SEQ) return (ms_coltype)0;
    if (shifted && m == MS_M_CONST) return (ms_coltype)0;
    return t;
}

/* Reads the nrows stored numbers of a column's data into v, checking each
 * against the shift (SPEC.md 5.3: x < 2^(64-k)). */
static int ms_read_stored(ms_pcur *c, const unsigned char *dend, uint64_t *v, size_t nrows, unsigned k,
                          const char *sname, uint64_t id)
{
    for (size_t i = 0; i < nrows; i++) {
        if (ms_varint_get(&c->p, dend, &v[i]))
            PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: row %zu: bad varint", sname,
                  (unsigned long long)id, i);
        if (k && (v[i] >> (64 - k)))
            PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: row %zu: value does not fit after a shift of %u",
                  sname, (unsigned long long)id, i, k);
    }
    if (c->p != dend)
        PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: %llu bytes left over after %zu values", sname,
              (unsigned long long)id, (unsigned long long)(dend - c->p), nrows);
    return 0;
}

/* value + (unzigzag(x) << k), in 64-bit wrapping arithmetic */
static inline uint64_t ms_add_resid(uint64_t base, uint64_t x, unsigned k)
{
    return base + ((uint64_t)ms_unzigzag(x) << k);
}

static int ms_parse_table(ms_pcur *c, const unsigned char *end, ms_snapshot *s, ms_section *sec)
{
    uint64_t nrows, ncols;
    const char *sname = ms_section_name(sec->type);
    if (ms_varint_get(&c->p, end, &nrows) || ms_varint_get(&c->p, end, &ncols))
        PFAIL(c, MS_ERR_CORRUPT, "section %s: bad row or column count", sname);
    uint64_t left = (uint64_t)(end - c->p);
    if (ncols > left / 3 || nrows > left || (ncols == 0 && nrows != 0))
        PFAIL(c, MS_ERR_CORRUPT, "section %s: %llu rows of %llu columns cannot fit in %llu bytes",
              sname, (unsigned long long)nrows, (unsigned long long)ncols, (unsigned long long)left);
    size_t n = (size_t)nrows;
    sec->nrows = n;
    sec->cols = calloc(ncols ? (size_t)ncols : 1, sizeof *sec->cols);
    if (!sec->cols) PFAIL(c, MS_ERR_NOMEM, "out of memory");
    uint64_t prev_id = 0;
    ms_rcol *gap = NULL; /* a GAP column waiting for its REF partner, the next entry */
    unsigned gap_k = 0;
    for (uint64_t e = 0; e < ncols; e++) {
        uint64_t id, dlen;
        if (ms_varint_get(&c->p, end, &id) || id == 0 || id > 0xffff || id <= prev_id)
            PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: id missing, out of range or not increasing",
                  sname, (unsigned long long)e);
        prev_id = id;
        if (c->p >= end) PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: no encoding byte", sname, (unsigned long long)id);
        unsigned enc = *c->p++;
        if (ms_varint_get(&c->p, end, &dlen) || dlen > (uint64_t)(end - c->p))
            PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: data length runs past the section",
                  sname, (unsigned long long)id);
        const unsigned char *dend = c->p + dlen;
        ms_coltype want = ms_schema_coltype(sec->type, (unsigned)id);
        ms_coltype have = ms_enc_type(enc);
        unsigned m = (enc >> MS_ENC_METHOD_BITS) & 15;
        if (gap && !(have && m == MS_M_REF))
            PFAIL(c, MS_ERR_CORRUPT, "section %s: column %u is encoded GAP but column %llu after it is not its REF partner",
                  sname, gap->id, (unsigned long long)id);
        if (!have) {
            if (want)
                PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: unknown encoding 0x%02x", sname,
                      (unsigned long long)id, enc);
            c->p = dend; /* unknown column in an unknown encoding: skip (SPEC 5.3) */
            continue;
        }
        if (want && want != have)
            PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: encoding 0x%02x does not fit its type",
                  sname, (unsigned long long)id, enc);
        unsigned k = 0;
        if (enc & MS_ENC_SHIFTED) {
            if (c->p >= dend || *c->p == 0 || *c->p > 63)
                PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: missing or invalid shift byte", sname,
                      (unsigned long long)id);
            k = *c->p++;
        }
        const ms_rcol *a = NULL, *b = NULL;
        unsigned sh = 0;
        if (m == MS_M_REF || m == MS_M_SPAN) {
            uint64_t aid, bid;
            if (ms_varint_get(&c->p, dend, &aid) || !(a = ms_decoded_col(sec, aid)) || a->type != have ||
                (gap && a != gap))
                PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: its base is not an earlier decoded column of its type",
                      sname, (unsigned long long)id);
            if (m == MS_M_SPAN) {
                if (ms_varint_get(&c->p, dend, &bid) || !(b = ms_decoded_col(sec, bid)) || b->type != have ||
                    c->p >= dend || *c->p > 63)
                    PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: bad SPAN parameters", sname,
                          (unsigned long long)id);
                sh = *c->p++;
            }
        }
        ms_rcol *col = &sec->cols[sec->ncols];
        col->id = (uint16_t)id;
        col->type = (uint8_t)have;
        if (m == MS_M_CONST) {
            uint64_t x;
            if (ms_varint_get(&c->p, dend, &x) || c->p != dend)
                PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: CONST data is not one varint", sname,
                      (unsigned long long)id);
            if (have == MS_T_I64) x = (uint64_t)ms_unzigzag(x);
            if (have == MS_T_STR && x > s->nstr)
                PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: string %llu does not exist (%zu strings)",
                      sname, (unsigned long long)id, (unsigned long long)x, s->nstr);
            col->method = MS_M_CONST;
            col->u.cval = x;
            sec->ncols++;
            continue;
        }
        if (nrows > (uint64_t)(dend - c->p))
            PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: %llu bytes cannot hold %llu values",
                  sname, (unsigned long long)id, (unsigned long long)(dend - c->p), (unsigned long long)nrows);
        uint64_t *v = col->u.v = malloc(n ? n * sizeof *v : 1);
        if (!v) PFAIL(c, MS_ERR_NOMEM, "out of memory");
        col->method = (uint8_t)m;
        sec->ncols++;
        int rc = ms_read_stored(c, dend, v, n, k, sname, id);
        if (rc) return rc;
        uint64_t prev = 0, mx = 0;
        switch (m) {
        case MS_M_PLAIN:
            for (size_t i = 0; i < n; i++) v[i] = have == MS_T_I64 ? (uint64_t)ms_unzigzag(v[i]) << k : v[i] << k;
            break;
        case MS_M_DELTA:
            for (size_t i = 0; i < n; i++) v[i] = prev = ms_add_resid(prev, v[i], k);
            break;
        case MS_M_REF:
            if (a == gap && gap) {
                /* the interval pair: start[i] = end[i-1] + gap, end[i] = start[i] + length */
                for (size_t i = 0; i < n; i++) {
                    gap->u.v[i] = ms_add_resid(prev, gap->u.v[i], gap_k);
                    v[i] = prev = ms_add_resid(gap->u.v[i], v[i], k);
                }
                gap = NULL;
                break;
            }
            for (size_t i = 0; i < n; i++) v[i] = ms_add_resid(ms_rcol_at(a, i), v[i], k);
            break;
        case MS_M_GAP:
            gap = col; /* values once the next entry, its REF partner, is read */
            gap_k = k;
            break;
        case MS_M_SPAN:
            for (size_t i = 0; i < n; i++) v[i] = ms_add_resid((ms_rcol_at(a, i) - ms_rcol_at(b, i)) >> sh, v[i], k);
            break;
        case MS_M_SEQ:
            for (size_t i = 0; i < n; i++) {
                uint64_t x = v[i];
                if (x) {
                    x = x == 1 ? mx + 1 : x - 1;
                    if (x > mx) mx = x;
                }
                v[i] = x;
            }
            break;
        }
        if (have == MS_T_STR)
            for (size_t i = 0; i < n; i++)
                if (v[i] > s->nstr)
                    PFAIL(c, MS_ERR_CORRUPT, "section %s: column %llu: row %zu: string %llu does not exist (%zu strings)",
                          sname, (unsigned long long)id, i, (unsigned long long)v[i], s->nstr);
    }
    if (gap)
        PFAIL(c, MS_ERR_CORRUPT, "section %s: column %u is encoded GAP but no column follows it", sname, gap->id);
    if (c->p != end)
        PFAIL(c, MS_ERR_CORRUPT, "section %s: %llu bytes left over after the last column", sname,
              (unsigned long long)(end - c->p));
    return 0;
}

int ms_payload_parse(const unsigned char *p, size_t n, ms_snapshot **out, char *msg, size_t msglen)
{
    *out = NULL;
    if (n >= ((size_t)1 << 31)) { /* string offsets are 32-bit */
        ms_fmt(msg, msglen, "payload of %llu bytes is over 2 GiB", (unsigned long long)n);
        return MS_ERR_LIMIT;
    }
    ms_pcur cur = {p, p, p + n, msg, msglen}, *c = &cur;
    ms_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        ms_fmt(msg, msglen, "out of memory");
        return MS_ERR_NOMEM;
    }
    size_t cap = 0;
    unsigned char seen[8192] = {0};
    int rc = 0, first = 1, have_snapshot = 0;
    while (c->p < c->end) {
        /* section header: type, flags and length, three varints (SPEC 4.1) */
        const unsigned char *hstart = c->p;
        uint64_t type64, flags64, len;
        if (ms_varint_get(&c->p, c->end, &type64) || ms_varint_get(&c->p, c->end, &flags64) ||
            ms_varint_get(&c->p, c->end, &len)) {
            ms_fmt(msg, msglen, "payload byte %llu: %llu bytes where a section header must be are not three valid varints",
                   (unsigned long long)(hstart - p), (unsigned long long)(c->end - hstart));
            rc = MS_ERR_CORRUPT;
            goto fail;
        }
        unsigned type = type64 <= 0xffff ? (unsigned)type64 : 0;
        const char *name = ms_section_name(type);
        char tname[32];
        if (!name) {
            ms_fmt(tname, sizeof tname, "type %llu", (unsigned long long)type64);
            name = tname;
        }
        if (type == 0 || (flags64 & ~(uint64_t)MS_SECFLAG_REQUIRED)) {
            ms_fmt(msg, msglen, "payload byte %llu: section %s: invalid type or reserved flag bits set",
                   (unsigned long long)(hstart - p), name);
            rc = MS_ERR_CORRUPT;
            goto fail;
        }
        unsigned flags = (unsigned)flags64;
        if (first != (type == MS_SEC_STRINGS)) {
            ms_fmt(msg, msglen, "payload byte %llu: %s", (unsigned long long)(hstart - p),
                   first ? "the first section must be the string table" : "a second string table");
            rc = MS_ERR_CORRUPT;
            goto fail;
        }
        first = 0;
        if (len > (uint64_t)(c->end - c->p)) {
            ms_fmt(msg, msglen, "payload byte %llu: section %s: length %llu runs past the payload (%llu bytes left)",
                   (unsigned long long)(hstart - p), name, (unsigned long long)len,
                   (unsigned long long)(c->end - c->p));
            rc = MS_ERR_CORRUPT;
            goto fail;
        }
        const unsigned char *send = c->p + len;
        if (seen[type >> 3] & (1u << (type & 7))) {
            ms_fmt(msg, msglen, "payload byte %llu: section %s appears twice",
                   (unsigned long long)(hstart - p), name);
            rc = MS_ERR_CORRUPT;
            goto fail;
        }
        seen[type >> 3] |= (unsigned char)(1u << (type & 7));
        if (type == MS_SEC_STRINGS) {
            if ((rc = ms_parse_strings(c, send, s))) goto fail;
            continue;
        }
        if (type > MS_SEC_MAX_KNOWN && (flags & MS_SECFLAG_REQUIRED)) {
            ms_fmt(msg, msglen, "payload byte %llu: section type %u is marked required but unknown to this reader (use a newer memsnap)",
                   (unsigned long long)(hstart - p), type);
            rc = MS_ERR_UNSUPPORTED;
            goto fail;
        }
        if (s->nsecs == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ms_section *ns = realloc(s->secs, nc * sizeof *ns);
            if (!ns) {
                ms_fmt(msg, msglen, "out of memory");
                rc = MS_ERR_NOMEM;
                goto fail;
            }
            s->secs = ns;
            cap = nc;
        }
        ms_section *sec = &s->secs[s->nsecs++];
        memset(sec, 0, sizeof *sec);
        sec->type = type;
        sec->flags = flags;
        sec->bytes = len;
        if (type <= MS_SEC_MAX_KNOWN) {
            if ((rc = ms_parse_table(c, send, s, sec))) goto fail;
            if (type == MS_SEC_SNAPSHOT) have_snapshot = 1;
            if (ms_schema_single_row(type) && sec->nrows != 1) {
                ms_fmt(msg, msglen, "payload byte %llu: section %s must have exactly one row, not %zu",
                       (unsigned long long)(send - p), name, sec->nrows);
                rc = MS_ERR_CORRUPT;
                goto fail;
            }
        } else {
            c->p = send; /* unknown section: skipped (SPEC 4.2) */
        }
    }
    if (first) {
        ms_fmt(msg, msglen, "payload byte 0: empty payload (no string table)");
        rc = MS_ERR_CORRUPT;
        goto fail;
    }
    if (!have_snapshot) {
        ms_fmt(msg, msglen, "payload byte %llu: no snapshot section", (unsigned long long)n);
        rc = MS_ERR_CORRUPT;
        goto fail;
    }
    for (size_t i = 0; i < s->nsecs; i++) s->secs[i].snap = s;
    *out = s;
    return 0;
fail:
    ms_snapshot_free(s);
    return rc;
}

/* ------------------------------------------------------------- accessors */

void ms_snapshot_sizes(const ms_snapshot *s, uint64_t *offset, uint64_t *compressed, uint64_t *raw)
{
    if (offset) *offset = s ? s->offset : 0;
    if (compressed) *compressed = s ? s->compressed : 0;
    if (raw) *raw = s ? s->raw : 0;
}

unsigned ms_snapshot_codec(const ms_snapshot *s)
{
    return s ? s->codec : 0;
}

size_t ms_snapshot_nsections(const ms_snapshot *s)
{
    return s ? s->nsecs : 0;
}

const ms_section *ms_snapshot_section_at(const ms_snapshot *s, size_t i)
{
    return s && i < s->nsecs ? &s->secs[i] : NULL;
}

const ms_section *ms_snapshot_section(const ms_snapshot *s, unsigned type)
{
    if (!s) return NULL;
    for (size_t i = 0; i < s->nsecs; i++)
        if (s->secs[i].type == type) return &s->secs[i];
    return NULL;
}

unsigned ms_section_type_of(const ms_section *sec)
{
    return sec ? sec->type : 0;
}
uint64_t ms_section_bytes(const ms_section *sec)
{
    return sec ? sec->bytes : 0;
}
size_t ms_section_nrows(const ms_section *sec)
{
    return sec ? sec->nrows : 0;
}
size_t ms_section_ncols(const ms_section *sec)
{
    return sec ? sec->ncols : 0;
}

int ms_section_col_at(const ms_section *sec, size_t i, unsigned *col, ms_coltype *ctype)
{
    if (!sec || i >= sec->ncols) return MS_ERR_USAGE;
    if (col) *col = sec->cols[i].id;
    if (ctype) *ctype = sec->cols[i].type;
    return 0;
}

static const ms_rcol *ms_find_col(const ms_section *sec, unsigned col)
{
    if (!sec) return NULL;
    size_t lo = 0, hi = sec->ncols;
    while (lo < hi) { /* ids are strictly increasing (checked at parse) */
        size_t mid = (lo + hi) / 2;
        if (sec->cols[mid].id < col)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sec->ncols && sec->cols[lo].id == col ? &sec->cols[lo] : NULL;
}

int ms_section_has(const ms_section *sec, unsigned col)
{
    return ms_find_col(sec, col) != NULL;
}

int ms_get_u64(const ms_section *sec, unsigned col, size_t row, uint64_t *v)
{
    const ms_rcol *c = ms_find_col(sec, col);
    if (!c || c->type != MS_T_U64 || row >= sec->nrows) {
        *v = 0;
        return 0;
    }
    *v = ms_rcol_at(c, row);
    return 1;
}

int ms_get_i64(const ms_section *sec, unsigned col, size_t row, int64_t *v)
{
    const ms_rcol *c = ms_find_col(sec, col);
    if (!c || c->type != MS_T_I64 || row >= sec->nrows) {
        *v = 0;
        return 0;
    }
    *v = (int64_t)ms_rcol_at(c, row);
    return 1;
}

int ms_get_str(const ms_section *sec, unsigned col, size_t row, const char **s, size_t *len)
{
    const ms_rcol *c = ms_find_col(sec, col);
    *s = NULL;
    if (len) *len = 0;
    if (!c || c->type != MS_T_STR || row >= sec->nrows) return 0;
    uint64_t i = ms_rcol_at(c, row);
    if (i == 0) return 1;
    const ms_snapshot *sn = sec->snap;
    *s = sn->arena + sn->soff[i - 1];
    if (len) *len = sn->soff[i] - sn->soff[i - 1] - 1;
    return 1;
}

uint64_t ms_u64_or(const ms_section *sec, unsigned col, size_t row, uint64_t dflt)
{
    uint64_t v;
    return ms_get_u64(sec, col, row, &v) ? v : dflt;
}

int ms_kv_find(const ms_section *sec, const char *name, uint64_t *v)
{
    size_t n = strlen(name);
    for (size_t i = 0; sec && i < sec->nrows; i++) {
        const char *s;
        size_t len;
        if (ms_get_str(sec, MS_KV_NAME, i, &s, &len) && s && len == n && !memcmp(s, name, n))
            return ms_get_u64(sec, MS_KV_VALUE, i, v);
    }
    *v = 0;
    return 0;
}

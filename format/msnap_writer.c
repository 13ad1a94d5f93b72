/*
 * msnap_writer.c - appending snapshot records to a .msnap file.
 *
 * A snapshot is assembled in memory (string table + encoded sections),
 * compressed as one zstd frame (with built-in dictionary #1 unless codec 1
 * was asked for) and appended with its record header in one write. If that
 * write fails the file is cut back to where the record started, so a full
 * disk never damages the snapshots already written.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pread, fdatasync, O_CLOEXEC */
#endif
#include "msnap_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

/* String interning: open addressing over 1-based string indices. */
typedef struct {
    ms_buf bytes;       /* concatenated string bytes */
    size_t *off, *len;  /* per string (index i-1) */
    uint32_t *hash;
    size_t n, cap;
    uint32_t *slots;    /* 0 empty, else string index */
    size_t nslots;      /* power of two */
} ms_strdict;

struct ms_writer {
    int fd;
    int own_fd;
    int is_reg;           /* regular file: can be cut back on failure */
    int broken;           /* a failed write could not be undone: refuse more */
    uint64_t end;         /* byte offset where the next record goes */
    uint64_t count;       /* complete snapshots in the file */
    int zlevel;
    unsigned codec;       /* MS_CODEC_* of every record this writer writes */
    ZSTD_CCtx *cctx;
    ZSTD_CDict *cdict;    /* dictionary #1 digested once for zlevel (codec 2), else NULL */
    int open_snapshot;
    unsigned char seen[8192]; /* section types added to the open snapshot */
    ms_strdict dict;
    ms_buf body;          /* encoded sections other than the string table */
    ms_buf strsec;        /* encoded string table section */
    ms_buf sec;           /* scratch: one section's body */
    ms_encoder enc;       /* scratch of the column encoder */
    ms_ecol *ecols;       /* scratch: the columns of the table being added */
    size_t ecap;          /* entries of ecols */
    uint64_t **sidx;      /* scratch: string indices of each STR column, ecap entries */
    size_t *sidxcap;      /* rows each sidx[i] holds */
    ms_buf out;           /* compressed record */
    uint64_t last_raw, last_comp, last_off;
    char err[512];
    char notice[256];
};

/* ------------------------------------------------------------ string dict */

static uint32_t ms_hash_bytes(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void ms_strdict_reset(ms_strdict *d)
{
    d->bytes.len = 0;
    d->n = 0;
    if (d->slots) memset(d->slots, 0, d->nslots * sizeof *d->slots);
}

static void ms_strdict_free(ms_strdict *d)
{
    ms_buf_free(&d->bytes);
    free(d->off);
    free(d->len);
    free(d->hash);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static int ms_strdict_grow_slots(ms_strdict *d)
{
    size_t ns = d->nslots ? d->nslots * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s) return MS_ERR_NOMEM;
    for (size_t i = 0; i < d->n; i++) {
        size_t j = d->hash[i] & (ns - 1);
        while (s[j]) j = (j + 1) & (ns - 1);
        s[j] = (uint32_t)(i + 1);
    }
    free(d->slots);
    d->slots = s;
    d->nslots = ns;
    return 0;
}

/* Forgets the strings interned after the first `n` (whose bytes started
 * at `bytes`): a table that failed to encode leaves nothing behind. */
static void ms_strdict_truncate(ms_strdict *d, size_t n, size_t bytes)
{
    if (n == d->n) return;
    d->n = n;
    d->bytes.len = bytes;
    if (d->slots) { /* rebuild the hash slots of the strings kept */
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
        for (size_t i = 0; i < d->n; i++) {
            size_t j = d->hash[i] & (d->nslots - 1);
            while (d->slots[j]) j = (j + 1) & (d->nslots - 1);
            d->slots[j] = (uint32_t)(i + 1);
        }
    }
}

/* Index (1-based) of the string, adding it if new. */
static int ms_strdict_intern(ms_strdict *d, const unsigned char *p, size_t n, uint64_t *idx)
{
    int rc;
    if (d->n >= UINT32_MAX - 1) return MS_ERR_LIMIT;
    if ((d->n + 1) * 2 > d->nslots && (rc = ms_strdict_grow_slots(d))) return rc;
    uint32_t h = ms_hash_bytes(p, n);
    size_t j = h & (d->nslots - 1);
    while (d->slots[j]) {
        size_t i = d->slots[j] - 1;
        /* n == 0: no memcmp, whose pointers may then be NULL (empty strings only) */
        if (d->hash[i] == h && d->len[i] == n && (n == 0 || !memcmp(d->bytes.p + d->off[i], p, n))) {
            *idx = i + 1;
            return 0;
        }
        j = (j + 1) & (d->nslots - 1);
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        size_t *o = realloc(d->off, cap * sizeof *o);
        if (!o) return MS_ERR_NOMEM;
        d->off = o;
        size_t *l = realloc(d->len, cap * sizeof *l);
        if (!l) return MS_ERR_NOMEM;
        d->len = l;
        uint32_t *hh = realloc(d->hash, cap * sizeof *hh);
        if (!hh) return MS_ERR_NOMEM;
        d->hash = hh;
        d->cap = cap;
    }
    d->off[d->n] = d->bytes.len;
    d->len[d->n] = n;
    d->hash[d->n] = h;
    if ((rc = ms_buf_put(&d->bytes, p, n))) return rc;
    d->slots[j] = (uint32_t)(d->n + 1);
    *idx = ++d->n;
    return 0;
}

/* ------------------------------------------------------------------- I/O */

static int ms_errno_code(int e)
{
    return (e == ENOSPC || e == EDQUOT) ? MS_ERR_NOSPACE : MS_ERR_IO;
}

static int ms_write_all(int fd, const struct iovec *iov_in, int n)
{
    struct iovec iov[4];
    if (n > 4) return EINVAL;
    memcpy(iov, iov_in, (size_t)n * sizeof *iov);
    int i = 0;
    while (i < n) {
        ssize_t k = writev(fd, &iov[i], n - i);
        if (k < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (k == 0) return EIO;
        size_t left = (size_t)k;
        while (i < n && left >= iov[i].iov_len) left -= iov[i++].iov_len;
        if (i < n) {
            iov[i].iov_base = (char *)iov[i].iov_base + left;
            iov[i].iov_len -= left;
        }
    }
    return 0;
}

/* A new file's header: minor 1 when its records may use codec 2 (the
 * first minor that defines it), else 0, so that a file written for 1.0
 * readers says 1.0. */
static void ms_header_build(unsigned char h[MS_FILE_HEADER_SIZE], const char *writer_id, unsigned codec)
{
    memset(h, 0, MS_FILE_HEADER_SIZE);
    memcpy(h, MS_FILE_MAGIC, 8);
    ms_put_le16(h + 8, MS_FORMAT_MAJOR);
    ms_put_le16(h + 10, codec == MS_CODEC_ZSTD_DICT1 ? 1 : 0);
    ms_put_le32(h + 12, MS_FILE_HEADER_SIZE);
    size_t n = strlen(writer_id);
    if (n > MS_WRITER_ID_SIZE - 1) n = MS_WRITER_ID_SIZE - 1;
    memcpy(h + 16, writer_id, n);
    ms_put_le32(h + 60, ms_crc32c(0, h, 60));
}

static void ms_set_err(char *buf, size_t len, int *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static void ms_set_err(char *buf, size_t len, int *err, int code, const char *fmt, ...)
{
    if (err) *err = code;
    if (buf && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, len, fmt, ap);
        va_end(ap);
    }
}

/* Splits the `zlevel` argument of the open functions into a zstd level
 * and a codec (msnap.h); -1 if it is neither 0..22 nor that or'ed with
 * MS_ZLEVEL_NO_DICT. */
static int ms_zlevel_parse(int zlevel, int *level, unsigned *codec)
{
    *codec = (zlevel & MS_ZLEVEL_NO_DICT) ? MS_CODEC_ZSTD : MS_CODEC_ZSTD_DICT1;
    int l = zlevel & ~MS_ZLEVEL_NO_DICT;
    if (zlevel < 0 || l > ZSTD_maxCLevel()) return -1;
    *level = l ? l : 9;
    return 0;
}

static ms_writer *ms_writer_new(int fd, int own, int level, unsigned codec)
{
    ms_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->fd = fd;
    w->own_fd = own;
    w->zlevel = level;
    w->codec = codec;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) {
        free(w);
        return NULL;
    }
    struct stat st;
    w->is_reg = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    return w;
}

/* Validates an existing file for MS_APPEND and finds where to append:
 * after the last complete snapshot. A corrupt (not merely incomplete)
 * file is refused rather than appended to. */
static int ms_append_scan(ms_writer *w, const char *path, char *errbuf, size_t errlen)
{
    int rerr = 0;
    char msg[512];
    ms_reader *r = ms_reader_open(path, 0, &rerr, msg, sizeof msg);
    if (!r) {
        ms_fmt(errbuf, errlen, "cannot append to %s: %s", path, msg);
        return rerr;
    }
    int rc;
    ms_snapshot *s;
    while ((rc = ms_reader_next(r, &s)) == 0) {
        w->count++;
        ms_snapshot_free(s);
    }
    /* after the last complete record, or at the start of the incomplete one */
    uint64_t end = ms_reader_tell(r);
    if (rc == MS_ERR_TRUNCATED) {
        uint64_t cut = end;
        struct stat st;
        if (fstat(w->fd, &st) != 0 || ftruncate(w->fd, (off_t)cut) != 0) {
            ms_fmt(errbuf, errlen, "cannot append to %s: cutting the incomplete tail at byte %llu failed: %s",
                   path, (unsigned long long)cut, strerror(errno));
            ms_reader_close(r);
            return MS_ERR_IO;
        }
        ms_fmt(w->notice, sizeof w->notice,
               "%s: cut %llu bytes of an incomplete snapshot at byte %llu (left by an interrupted capture)",
               path, (unsigned long long)((uint64_t)st.st_size - cut), (unsigned long long)cut);
        end = cut;
        fdatasync(w->fd); /* the cut must be durable before new records follow it */
    } else if (rc != MS_ERR_END) {
        ms_fmt(errbuf, errlen, "cannot append to %s: %s; copy the good snapshots out or write a new file",
               path, ms_reader_error(r));
        ms_reader_close(r);
        return rc;
    }
    ms_reader_close(r);
    w->end = end;
    if (lseek(w->fd, (off_t)end, SEEK_SET) < 0) {
        ms_fmt(errbuf, errlen, "cannot append to %s: seek: %s", path, strerror(errno));
        return MS_ERR_IO;
    }
    return 0;
}

ms_writer *ms_writer_open(const char *path, ms_open_mode mode, const char *writer_id,
                          int zlevel, int *err, char *errbuf, size_t errlen)
{
    int level;
    unsigned codec;
    if (!path || (mode != MS_CREATE && mode != MS_TRUNCATE && mode != MS_APPEND)) {
        ms_set_err(errbuf, errlen, err, MS_ERR_USAGE, "ms_writer_open: bad arguments");
        return NULL;
    }
    if (ms_zlevel_parse(zlevel, &level, &codec)) {
        ms_set_err(errbuf, errlen, err, MS_ERR_USAGE,
                   "ms_writer_open: zstd level %d is not 0-%d (optionally with MS_ZLEVEL_NO_DICT)", zlevel,
                   ZSTD_maxCLevel());
        return NULL;
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    if (mode == MS_CREATE) flags |= O_EXCL; /* MS_TRUNCATE empties the file once it holds the lock */
    if (mode == MS_APPEND) flags = O_RDWR | O_CREAT | O_CLOEXEC;
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            ms_set_err(errbuf, errlen, err, MS_ERR_EXISTS,
                       "%s exists; choose another name or allow overwriting", path);
        else
            ms_set_err(errbuf, errlen, err, ms_errno_code(e), "cannot open %s for writing: %s",
                       path, strerror(e));
        return NULL;
    }
    ms_writer *w = ms_writer_new(fd, 1, level, codec);
    if (!w) {
        close(fd);
        ms_set_err(errbuf, errlen, err, MS_ERR_NOMEM, "out of memory opening %s", path);
        return NULL;
    }
    /* One writer per file: a second one would interleave records. The lock
     * is advisory and held until close. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        ms_set_err(errbuf, errlen, err, MS_ERR_IO,
                   "%s is being written by another process (it holds the file's lock); wait for it or write elsewhere", path);
        ms_writer_close(w);
        return NULL;
    }
    /* not O_TRUNC at open: that would empty a file another writer is filling */
    if (mode == MS_TRUNCATE && w->is_reg && ftruncate(fd, 0) != 0) {
        ms_set_err(errbuf, errlen, err, ms_errno_code(errno), "cannot empty %s: %s", path,
                   strerror(errno));
        ms_writer_close(w);
        return NULL;
    }
    struct stat st;
    if (mode == MS_APPEND && fstat(fd, &st) == 0 && st.st_size > 0) {
        int rc = ms_append_scan(w, path, errbuf, errlen);
        if (rc) {
            if (err) *err = rc;
            ms_writer_close(w);
            return NULL;
        }
        if (err) *err = 0;
        return w;
    }
    unsigned char h[MS_FILE_HEADER_SIZE];
    ms_header_build(h, writer_id ? writer_id : "libmsnap " MS_LIB_VERSION, w->codec);
    struct iovec iov = {h, sizeof h};
    int e = ms_write_all(fd, &iov, 1);
    if (e) {
        ms_set_err(errbuf, errlen, err, ms_errno_code(e), "cannot write the file header of %s: %s",
                   path, strerror(e));
        if (w->is_reg && ftruncate(fd, 0) == 0 && mode != MS_APPEND) unlink(path);
        ms_writer_close(w);
        return NULL;
    }
    w->end = MS_FILE_HEADER_SIZE;
    fdatasync(fd); /* the header must not vanish under a snapshot synced later */
    if (err) *err = 0;
    return w;
}

ms_writer *ms_writer_fdopen(int fd, const char *writer_id, int zlevel, int *err, char *errbuf,
                            size_t errlen)
{
    int level;
    unsigned codec;
    if (fd < 0) {
        ms_set_err(errbuf, errlen, err, MS_ERR_USAGE, "ms_writer_fdopen: bad descriptor");
        return NULL;
    }
    if (ms_zlevel_parse(zlevel, &level, &codec)) {
        ms_set_err(errbuf, errlen, err, MS_ERR_USAGE,
                   "ms_writer_fdopen: zstd level %d is not 0-%d (optionally with MS_ZLEVEL_NO_DICT)", zlevel,
                   ZSTD_maxCLevel());
        return NULL;
    }
    ms_writer *w = ms_writer_new(fd, 0, level, codec);
    if (!w) {
        ms_set_err(errbuf, errlen, err, MS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    off_t at = w->is_reg ? lseek(fd, 0, SEEK_CUR) : 0;
    struct stat st;
    long long size = w->is_reg ? (fstat(fd, &st) == 0 ? (long long)st.st_size : -1) : 0;
    if (at != 0 || size != 0) { /* writing at 0 would overwrite what the file holds */
        ms_set_err(errbuf, errlen, err, MS_ERR_USAGE,
                   "ms_writer_fdopen: the file must be empty and at offset 0 (it is at %lld, %lld bytes long)",
                   (long long)at, size);
        ms_writer_close(w);
        return NULL;
    }
    unsigned char h[MS_FILE_HEADER_SIZE];
    ms_header_build(h, writer_id ? writer_id : "libmsnap " MS_LIB_VERSION, w->codec);
    struct iovec iov = {h, sizeof h};
    int e = ms_write_all(fd, &iov, 1);
    if (e) {
        ms_set_err(errbuf, errlen, err, ms_errno_code(e), "cannot write the file header: %s",
                   strerror(e));
        ms_writer_close(w);
        return NULL;
    }
    w->end = MS_FILE_HEADER_SIZE;
    if (err) *err = 0;
    return w;
}

int ms_writer_begin(ms_writer *w)
{
    if (!w) return MS_ERR_USAGE;
    if (w->open_snapshot) {
        ms_fmt(w->err, sizeof w->err, "ms_writer_begin: a snapshot is already open");
        return MS_ERR_USAGE;
    }
    if (w->codec == MS_CODEC_ZSTD_DICT1 && !w->cdict) {
        /* Digested once per writer, at its first snapshot (not at open, so
         * a caller can do it while waiting for the data): each record then
         * only attaches it (a frame of a few KB would otherwise pay for
         * loading 32 KiB of dictionary). The frames name MS_DICT1_ID
         * (ZSTD_c_dictIDFlag is on by default), which readers check. */
        w->cdict = ZSTD_createCDict(ms_dict1_bytes, MS_DICT1_SIZE, w->zlevel);
        if (!w->cdict || ZSTD_isError(ZSTD_CCtx_refCDict(w->cctx, w->cdict))) {
            ZSTD_freeCDict(w->cdict);
            w->cdict = NULL;
            ms_fmt(w->err, sizeof w->err, "ms_writer_begin: out of memory digesting the zstd dictionary");
            return MS_ERR_NOMEM;
        }
    }
    w->open_snapshot = 1;
    memset(w->seen, 0, sizeof w->seen);
    ms_strdict_reset(&w->dict);
    w->body.len = 0;
    return 0;
}

/* Appends a section: its header (type, flags and body length as varints,
 * SPEC.md 4.1) and the body. */
static int ms_put_section(ms_buf *out, unsigned type, unsigned flags, const ms_buf *body)
{
    int rc;
    if ((rc = ms_buf_varint(out, type)) || (rc = ms_buf_varint(out, flags)) ||
        (rc = ms_buf_varint(out, body->len)) || (rc = ms_buf_put(out, body->p, body->len)))
        return rc;
    return 0;
}

/* Makes room for `ncols` columns of `nrows` string indices in the scratch
 * arrays. */
static int ms_writer_scratch(ms_writer *w, size_t ncols)
{
    if (ncols <= w->ecap) return 0;
    ms_ecol *e = realloc(w->ecols, ncols * sizeof *e);
    if (!e) return MS_ERR_NOMEM;
    w->ecols = e;
    uint64_t **si = realloc(w->sidx, ncols * sizeof *si);
    if (!si) return MS_ERR_NOMEM;
    w->sidx = si;
    size_t *sc = realloc(w->sidxcap, ncols * sizeof *sc);
    if (!sc) return MS_ERR_NOMEM;
    w->sidxcap = sc;
    for (size_t i = w->ecap; i < ncols; i++) {
        w->sidx[i] = NULL;
        w->sidxcap[i] = 0;
    }
    w->ecap = ncols;
    return 0;
}

/* Interns the strings of column i of `t` (in row order, so that new
 * strings get consecutive indices: SPEC.md 5.3 SEQ) into w->sidx[i]. */
static int ms_intern_column(ms_writer *w, const ms_table *t, size_t i, size_t nrows)
{
    int rc;
    const ms_tcol *c = &t->cols[i];
    if (nrows > w->sidxcap[i]) {
        if (nrows > SIZE_MAX / sizeof(uint64_t)) return MS_ERR_NOMEM;
        uint64_t *v = realloc(w->sidx[i], nrows * sizeof *v);
        if (!v) return MS_ERR_NOMEM;
        w->sidx[i] = v;
        w->sidxcap[i] = nrows;
    }
    uint64_t *idx = w->sidx[i];
    for (size_t r = 0; r < nrows; r++) {
        idx[r] = 0;
        if (!c->v[r]) continue;
        size_t k = c->v[r] - 1;
        /* a table holding only empty strings has no byte buffer (NULL) */
        const unsigned char *sp = t->slen[k] ? t->sbuf.p + t->soff[k] : NULL;
        if ((rc = ms_strdict_intern(&w->dict, sp, t->slen[k], &idx[r]))) return rc;
    }
    return 0;
}

int ms_writer_add(ms_writer *w, const ms_table *t)
{
    if (!w || !t) return MS_ERR_USAGE;
    if (!w->open_snapshot) {
        ms_fmt(w->err, sizeof w->err, "ms_writer_add: no snapshot is open (call ms_writer_begin)");
        return MS_ERR_USAGE;
    }
    if (w->seen[t->type >> 3] & (1u << (t->type & 7))) {
        ms_fmt(w->err, sizeof w->err, "ms_writer_add: section type %u added twice", t->type);
        return MS_ERR_USAGE;
    }
    size_t nrows = t->ncols ? t->nrows : 0; /* SPEC: no columns means no rows */
    if (ms_schema_single_row(t->type) && nrows != 1) {
        /* every reader would refuse the snapshot (SPEC.md 6) */
        ms_fmt(w->err, sizeof w->err,
               "ms_writer_add: section %s must have exactly one row with a column set, not %zu rows",
               ms_section_name(t->type), nrows);
        return MS_ERR_USAGE;
    }
    w->seen[t->type >> 3] |= (unsigned char)(1u << (t->type & 7));
    int rc;
    size_t start = w->body.len, nstr = w->dict.n, sbytes = w->dict.bytes.len;
    if ((rc = ms_writer_scratch(w, t->ncols))) goto fail;
    for (size_t i = 0; i < t->ncols; i++) {
        w->ecols[i].id = t->cols[i].id;
        w->ecols[i].type = t->cols[i].type;
        w->ecols[i].v = t->cols[i].v;
        if (t->cols[i].type == MS_T_STR) {
            if ((rc = ms_intern_column(w, t, i, nrows))) goto fail;
            w->ecols[i].v = w->sidx[i];
        }
    }
    w->sec.len = 0;
    if ((rc = ms_encode_table(&w->enc, w->ecols, t->ncols, nrows, &w->sec)) ||
        (rc = ms_put_section(&w->body, t->type, 0, &w->sec)))
        goto fail;
    return 0;
fail:
    w->body.len = start;
    ms_strdict_truncate(&w->dict, nstr, sbytes); /* the strings only this table used */
    w->seen[t->type >> 3] &= (unsigned char)~(1u << (t->type & 7)); /* the caller may retry */
    ms_fmt(w->err, sizeof w->err, "encoding section %u: %s", t->type, ms_strerror(rc));
    return rc;
}

/* The STRINGS section (SPEC.md 5.1): the count, every length, then the
 * bytes of every string back to back (the strings were interned in order,
 * so d->bytes already holds them so). */
static int ms_build_strings(ms_writer *w)
{
    ms_buf *b = &w->sec;
    ms_strdict *d = &w->dict;
    b->len = 0;
    w->strsec.len = 0;
    int rc;
    if ((rc = ms_buf_varint(b, d->n))) return rc;
    for (size_t i = 0; i < d->n; i++)
        if ((rc = ms_buf_varint(b, d->len[i]))) return rc;
    if ((rc = ms_buf_put(b, d->bytes.p, d->bytes.len))) return rc;
    return ms_put_section(&w->strsec, MS_SEC_STRINGS, 0, b);
}

/* Compresses strsec + body into w->out after room for the record header;
 * with the dictionary that w->cctx references since ms_writer_new, if any
 * (a session reset keeps it). */
static int ms_compress(ms_writer *w, uint64_t raw)
{
    ZSTD_CCtx *c = w->cctx;
    size_t zr;
    ZSTD_CCtx_reset(c, ZSTD_reset_session_only);
    if (ZSTD_isError(zr = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, w->zlevel)) ||
        ZSTD_isError(zr = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(zr = ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(zr = ZSTD_CCtx_setPledgedSrcSize(c, raw))) {
        ms_fmt(w->err, sizeof w->err, "zstd: %s", ZSTD_getErrorName(zr));
        return MS_ERR_ZSTD;
    }
    size_t bound = ZSTD_compressBound((size_t)raw);
    w->out.len = 0;
    if (ms_buf_reserve(&w->out, MS_RECORD_HEADER_SIZE + bound)) return MS_ERR_NOMEM;
    ZSTD_outBuffer ob = {w->out.p + MS_RECORD_HEADER_SIZE, bound, 0};
    ZSTD_inBuffer ib = {w->strsec.p, w->strsec.len, 0};
    while (ib.pos < ib.size) {
        zr = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue);
        if (ZSTD_isError(zr)) goto zfail;
    }
    ZSTD_inBuffer ib2 = {w->body.p, w->body.len, 0};
    do {
        zr = ZSTD_compressStream2(c, &ob, &ib2, ZSTD_e_end);
        if (ZSTD_isError(zr)) goto zfail;
    } while (zr != 0);
    w->out.len = MS_RECORD_HEADER_SIZE + ob.pos;
    return 0;
zfail:
    ms_fmt(w->err, sizeof w->err, "zstd: %s", ZSTD_getErrorName(zr));
    return MS_ERR_ZSTD;
}

int ms_writer_end(ms_writer *w, int durable)
{
    if (!w) return MS_ERR_USAGE;
    if (!w->open_snapshot) {
        ms_fmt(w->err, sizeof w->err, "ms_writer_end: no snapshot is open");
        return MS_ERR_USAGE;
    }
    if (w->broken) {
        /* appending after a partial record would turn a truncated tail into
         * damage in the middle of the file */
        ms_fmt(w->err, sizeof w->err, "an earlier write failed and could not be undone; close this writer");
        w->open_snapshot = 0;
        return MS_ERR_IO;
    }
    if (!(w->seen[MS_SEC_SNAPSHOT >> 3] & (1u << (MS_SEC_SNAPSHOT & 7)))) {
        ms_fmt(w->err, sizeof w->err, "ms_writer_end: a snapshot needs a MS_SEC_SNAPSHOT section");
        return MS_ERR_USAGE;
    }
    int rc;
    if ((rc = ms_build_strings(w))) {
        ms_fmt(w->err, sizeof w->err, "building the string table: %s", ms_strerror(rc));
        return rc;
    }
    uint64_t raw = (uint64_t)w->strsec.len + w->body.len;
    if (raw > MS_DEFAULT_MAX_RAW) {
        ms_fmt(w->err, sizeof w->err,
               "snapshot payload is %llu bytes, over the %llu-byte cap readers apply; write less per snapshot",
               (unsigned long long)raw, (unsigned long long)MS_DEFAULT_MAX_RAW);
        return MS_ERR_LIMIT;
    }
    if ((rc = ms_compress(w, raw))) return rc;
    uint64_t comp = w->out.len - MS_RECORD_HEADER_SIZE;
    unsigned char *h = w->out.p;
    memset(h, 0, MS_RECORD_HEADER_SIZE);
    memcpy(h, MS_RECORD_MAGIC, 4);
    ms_put_le32(h + 4, MS_RECORD_HEADER_SIZE);
    ms_put_le64(h + 8, comp);
    ms_put_le64(h + 16, raw);
    ms_put_le32(h + 24, ms_crc32c(0, h + MS_RECORD_HEADER_SIZE, (size_t)comp));
    h[28] = (unsigned char)w->codec;
    ms_put_le32(h + 36, ms_crc32c(0, h, 36));
    struct iovec iov = {w->out.p, w->out.len};
    int e = ms_write_all(w->fd, &iov, 1);
    if (!e && durable && fdatasync(w->fd) != 0 && errno != EINVAL && errno != EROFS) e = errno;
    if (e) {
        const char *cut = "";
        if (w->is_reg) {
            /* Cut the partial record so earlier snapshots stay readable. */
            if (ftruncate(w->fd, (off_t)w->end) == 0 && lseek(w->fd, (off_t)w->end, SEEK_SET) >= 0) {
                cut = "; the file was cut back to its last complete snapshot";
            } else {
                cut = "; cutting the partial snapshot off failed too (readers will report a truncated tail)";
                w->broken = 1;
            }
        } else {
            w->broken = 1; /* a pipe cannot be cut back */
        }
        ms_fmt(w->err, sizeof w->err, "writing a %llu-byte snapshot at byte %llu: %s%s",
               (unsigned long long)w->out.len, (unsigned long long)w->end, strerror(e), cut);
        w->open_snapshot = 0;
        return ms_errno_code(e);
    }
    w->last_raw = raw;
    w->last_comp = comp;
    w->last_off = w->end;
    w->end += w->out.len;
    w->count++;
    w->open_snapshot = 0;
    return 0;
}

void ms_writer_abort(ms_writer *w)
{
    if (w) w->open_snapshot = 0;
}

void ms_writer_last_sizes(const ms_writer *w, uint64_t *raw, uint64_t *compressed, uint64_t *offset)
{
    if (raw) *raw = w ? w->last_raw : 0;
    if (compressed) *compressed = w ? w->last_comp : 0;
    if (offset) *offset = w ? w->last_off : 0;
}

const char *ms_writer_error(const ms_writer *w)
{
    return w ? w->err : "";
}

const char *ms_writer_notice(const ms_writer *w)
{
    return w ? w->notice : "";
}

uint64_t ms_writer_count(const ms_writer *w)
{
    return w ? w->count : 0;
}

int ms_writer_close(ms_writer *w)
{
    if (!w) return 0;
    int rc = 0;
    if (w->own_fd && close(w->fd) != 0) rc = ms_errno_code(errno);
    ZSTD_freeCCtx(w->cctx);
    ZSTD_freeCDict(w->cdict);
    ms_strdict_free(&w->dict);
    ms_buf_free(&w->body);
    ms_buf_free(&w->strsec);
    ms_buf_free(&w->sec);
    ms_encoder_free(&w->enc);
    for (size_t i = 0; i < w->ecap; i++) free(w->sidx[i]);
    free(w->sidx);
    free(w->sidxcap);
    free(w->ecols);
    ms_buf_free(&w->out);
    free(w);
    return rc;
}

/*
 * smaps.h - incremental parser of /proc/PID/smaps text into the MAPPINGS
 * and MAPPING_EXTRA tables of a snapshot (SPEC.md 6.8, 6.9).
 *
 * Text is fed in arbitrary chunks as read(2) returns it; only complete
 * lines are consumed. The parser keeps nothing but its two tables and a
 * partial line, so memory grows with the number of mappings only.
 */
#ifndef MEMSNAP_SMAPS_H
#define MEMSNAP_SMAPS_H

#include <stddef.h>
#include <stdint.h>

#include "msnap.h"

typedef struct smaps_parser smaps_parser;

/* Called for each mapping name before it is stored (file paths and
 * bracketed names such as [heap] or [anon:NAME]; not for mappings without
 * a name); it may rewrite the name (redaction). It returns the bytes to
 * store, or NULL to store the original; *outlen receives the length.
 * `ctx` is the caller's. */
typedef const char *(*smaps_path_fn)(void *ctx, const char *path, size_t len, size_t *outlen);

/* New parser filling fresh tables. max_mappings caps the rows kept (0 for
 * no cap): mappings beyond it are counted but not stored. NULL on ENOMEM. */
smaps_parser *smaps_new(size_t max_mappings, smaps_path_fn fn, void *ctx);

/* Feeds `len` bytes of smaps text. Returns 0, or a negative ms_err
 * (MS_ERR_NOMEM; MS_ERR_CORRUPT for a line that cannot be smaps). */
int smaps_feed(smaps_parser *p, const char *buf, size_t len);

/* Ends the input (a last line without newline is parsed). Returns as
 * smaps_feed. */
int smaps_finish(smaps_parser *p);

/* The tables built so far; ownership stays with the parser unless taken
 * (smaps_take_* hand the table over and leave NULL behind). */
ms_table *smaps_take_mappings(smaps_parser *p);
ms_table *smaps_take_extra(smaps_parser *p);

/* Mappings seen (including those beyond the cap), and totals over all
 * stored mappings (KiB). */
size_t smaps_count(const smaps_parser *p);
size_t smaps_dropped(const smaps_parser *p);
uint64_t smaps_rss_kib(const smaps_parser *p);

/* The header lines of every mapping seen (also those beyond max_mappings)
 * whose name does not start with '[' (files, "memfd:...", SYSV shared
 * memory), each ending in '\n', exactly as the kernel printed them, never
 * rewritten by the path callback: the /proc/PID/maps text of the mappings
 * that pyfind looks at, so it need not read maps again. Valid until the
 * next smaps_feed or smaps_free; "" with *len 0 when there are none;
 * NULL with *len 0 when they passed 64 MiB (not kept: read maps instead). */
const char *smaps_named_maps(const smaps_parser *p, size_t *len);

/* Text of the last parse error (line number and what). */
const char *smaps_error(const smaps_parser *p);

void smaps_free(smaps_parser *p);

/* Parses the header line of one mapping ("start-end perms offset dev inode
 * [name]"), as smaps, maps and smaps_rollup print it. The name starts at
 * column max(header length, 72) + 1 (the kernel pads to a fixed width), so
 * names with leading spaces are kept exactly. Returns 0 or -1. */
typedef struct {
    uint64_t start, end, offset, inode;
    unsigned perms;            /* bits: 1 r, 2 w, 4 x, 8 s, 16 p */
    unsigned dev_major, dev_minor;
    const char *name;          /* points into the line; NULL if none */
    size_t name_len;           /* without the " (deleted)" suffix */
    int deleted;
} smaps_header;
int smaps_parse_header(const char *line, size_t len, smaps_header *h);

#endif

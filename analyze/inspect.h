/*
 * inspect.h - `memsnap info` and `memsnap dump`: looking into .msnap files
 * without a database.
 */
#ifndef MEMSNAP_INSPECT_H
#define MEMSNAP_INSPECT_H

#include <stdio.h>

#include "msnap.h"

/* Result of reading one file: 0 all snapshots read; 1 read up to a
 * truncated tail (a warning, not a failure); -1 failed. */
typedef enum { INSPECT_OK = 0, INSPECT_TRUNCATED = 1, INSPECT_FAILED = -1 } inspect_result;

/* Writes every snapshot of `r` (already open) as one JSON object per line
 * to `out`; `name` is the file name written into each object. Problems
 * are reported as one line on `err` prefixed with `prog`. */
inspect_result inspect_dump(ms_reader *r, const char *name, FILE *out, FILE *err, const char *prog);

/* Writes the human-readable summary of `r` to `out`. */
inspect_result inspect_info(ms_reader *r, const char *name, FILE *out, FILE *err, const char *prog);

#endif

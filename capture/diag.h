/*
 * diag.h - rows of a snapshot's MS_SEC_DIAGNOSTICS table (what was
 * complete, approximate or unavailable, and why), shared by the parts of
 * the capture that write them.
 */
#ifndef MEMSNAP_DIAG_H
#define MEMSNAP_DIAG_H

#include "msnap.h"

/* Values of MS_DG_STATUS (format/SPEC.md, diagnostics). */
enum { DG_COMPLETE = 0, DG_APPROXIMATE = 1, DG_UNAVAILABLE = 2, DG_BEST_EFFORT = 3, DG_INFO = 4 };

/* Adds one row (area, status, printf-style message cut at 767 bytes) to
 * the diagnostics table d. 0, or MS_ERR_NOMEM. */
int diag_row(ms_table *d, const char *area, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

/*
 * diag.c - rows of the diagnostics table (see diag.h).
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

int diag_row(ms_table *d, const char *area, int status, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ms_table_row(d) || ms_table_cstr(d, MS_DG_AREA, area) || ms_table_u64(d, MS_DG_STATUS, (uint64_t)status) ||
        ms_table_cstr(d, MS_DG_MESSAGE, msg))
        return MS_ERR_NOMEM;
    return 0;
}

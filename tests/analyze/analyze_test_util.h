/*
 * analyze_test_util.h - helpers shared by the cmocka tests of analyze/:
 * temporary directories, synthetic snapshots written with the format
 * library's writer (every section and every column of format v1.0, with
 * edge values), turning a few tables into a decoded snapshot, and small
 * SQL helpers.
 *
 * Every helper asserts with cmocka, so a failure inside one fails the
 * calling test. Strings returned are malloc'd; the caller frees them.
 */
#ifndef ANALYZE_TEST_UTIL_H
#define ANALYZE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "msnap.h"

/* Fails the test unless `rc` is MS_OK, naming the call. */
#define at_ok(call)                                                                                \
    do {                                                                                           \
        int at_rc_ = (call);                                                                       \
        if (at_rc_ != 0) fail_msg("%s: %s", #call, ms_strerror(at_rc_));                           \
    } while (0)

/* A fresh directory under $TMPDIR (or /tmp); malloc'd path. */
char *at_tmpdir(void);

/* Removes the files in `dir` (one level) and `dir`, and frees the string. */
void at_rmdir(char *dir);

/* malloc'd "dir/name". */
char *at_path(const char *dir, const char *name);

/* Reads a whole file; *len gets its size. */
unsigned char *at_read_file(const char *path, size_t *len);

/* ---------------------------------------------------- synthetic snapshots */

/* The 16-byte id of full snapshot `seq`. */
void at_full_id(unsigned seq, unsigned char id[16]);

/* Writes full snapshot `seq` to `w`: every section of format v1.0 with
 * every column, several rows where a section has rows, and edge values
 * (an address >= 2^63, "unlimited" cgroup limits, null strings, a
 * command line with NULs, a path that is not UTF-8, every diagnostics
 * status). Values depend on seq. */
void at_write_full(ms_writer *w, unsigned seq);

/* Writes `path` (replacing it) with full snapshots first_seq .. first_seq+n-1. */
void at_full_file(const char *path, unsigned first_seq, unsigned n);

/* Decodes the tables as one snapshot: writes them with the writer to a
 * temporary file and reads the snapshot back. Free with ms_snapshot_free. */
ms_snapshot *at_snapshot_of(ms_table *const *tables, size_t n);

/* --------------------------------------------------------------- SQL */

/* Value of a one-row, one-column integer query (fails the test on error
 * or no row). */
int64_t at_sql_int(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sum of count(*) over every table of the schema that loading fills. */
int64_t at_total_rows(sqlite3 *db);

#endif

/*
 * query.h - `memsnap sql`: running SQL text on a database and printing the
 * result for people (an aligned table) or scripts (CSV, JSON), with SQLite
 * errors shown under the part of the query they point at.
 */
#ifndef MEMSNAP_QUERY_H
#define MEMSNAP_QUERY_H

#include <sqlite3.h>
#include <stdio.h>

/* Output formats. */
typedef enum {
    QUERY_TABLE = 0, /* header, dashes, aligned columns; numbers right-aligned; NULL empty */
    QUERY_CSV,       /* RFC 4180: header row, CRLF, quoted when needed; NULL empty */
    QUERY_JSON       /* [ {column: value}, ... ]: numbers as numbers, NULL null, blobs hex */
} query_format;

/* Runs every statement of `sql` in order on `db`; the rows of the last
 * statement are written to `out` in `fmt` (earlier statements run for
 * their effect, e.g. CREATE TEMP VIEW; their rows are discarded). On an
 * SQLite error writes the message to `err`, prefixed with `prog`, and,
 * when SQLite says where in the text it is, the line of the query with a
 * caret under that place; later statements do not run.
 * Returns 0, or -1 after an error. */
int query_run(sqlite3 *db, const char *sql, query_format fmt, FILE *out, FILE *err, const char *prog);

/* Writes `len` bytes of `sql` around byte `offset` (the line it is on) and
 * a caret line under it, each indented by two spaces. Exposed for tests. */
void query_show_position(FILE *err, const char *sql, size_t len, size_t offset);

/* Writes a REAL the shortest way that reads back exactly (at most 17
 * significant digits) into buf; non-finite values give "inf"/"nan". */
void query_format_double(char *buf, size_t len, double v);

#endif

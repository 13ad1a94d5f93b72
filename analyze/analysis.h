/*
 * analysis.h - the analyses of memsnap (report, diff, frag, trend): each is a
 * few SQL queries on a memsnap database (the views of schema.c), rendered
 * as an aligned text report for people or one JSON object for scripts.
 * Nothing is computed outside SQLite except the wording of a verdict from
 * numbers a query returned, so `--show-sql` shows everything that was run.
 */
#ifndef MEMSNAP_ANALYSIS_H
#define MEMSNAP_ANALYSIS_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

/* How an analysis writes its result. */
typedef struct {
    sqlite3 *db;       /* the database (not owned) */
    FILE *out;         /* the report or the JSON object */
    FILE *err;         /* error lines; --show-sql text in JSON mode */
    const char *prog;  /* "memsnap report": prefix of error lines */
    int json;          /* 1: one JSON object on out */
    int show_sql;      /* 1: print each query before its result (stderr in JSON mode) */
    int nsections;     /* sections written so far (JSON commas) */
    int failed;        /* an SQLite error was reported */
} an_ctx;

/* Opens the inputs of an analysis: one SQLite database, or .msnap files
 * loaded into a new in-memory database (nothing written). An older memsnap
 * database is brought up to the current schema in place (new views), which
 * needs write access. `paths` has n entries. Returns the connection (the
 * caller closes it with sqlite3_close), or NULL after writing one line per
 * problem to err, prefixed with prog. *partial is set to 1 when a file
 * loaded only partly (corrupt or truncated tail: a warning was written). */
sqlite3 *an_open_inputs(char *const *paths, int n, unsigned read_flags, FILE *err, const char *prog,
                        int *partial);

/* 1 if `path` is a memsnap input (an SQLite database or a .msnap file),
 * 0 otherwise (missing, or something else). */
int an_is_input(const char *path);

/* The snapshot an analysis looks at when none is given: the last one
 * (latest wall_ns, then highest id) whose source_file is `file`, or of the
 * whole database when file is NULL. Returns the id, 0 when there is none,
 * -1 on an SQLite error. */
int64_t an_last_snapshot(sqlite3 *db, const char *file);

/* The first snapshot (earliest wall_ns) of the same process (hostname and
 * pid) as snapshot `id`. Returns its id (id itself when it is the first),
 * 0 when `id` does not exist, -1 on error. */
int64_t an_first_of_process(sqlite3 *db, int64_t id);

/* 1 if snapshot `id` exists, 0 if not, -1 on error. */
int an_snapshot_exists(sqlite3 *db, int64_t id);

/* The analyses. Each writes its report for the given snapshot(s) and
 * returns 0, or -1 after an SQLite error (reported on c->err). */
int an_report(an_ctx *c, int64_t snap, int top);
int an_diff(an_ctx *c, int64_t a, int64_t b, int top);
int an_frag(an_ctx *c, int64_t snap, int top);
int an_trend(an_ctx *c, int64_t last, int top);

/* Starts and ends the JSON object of an analysis (no-ops in text mode). */
void an_begin(an_ctx *c);
void an_end(an_ctx *c);

/* Formats a byte count for people: "512 B", "12.3 KiB", "1.5 GiB"; with
 * `sign`, positive values get a '+'. Returns buf. */
char *an_bytes(char *buf, size_t len, double v, int sign);

#endif

/*
 * load.h - loading .msnap snapshots into a memsnap SQLite database (the
 * schema of schema.h). Used by `memsnap load`, by `memsnap sql` on .msnap
 * files (an in-memory database) and by the load benchmark, so all three
 * measure and test one code path.
 *
 * Each file loads in one transaction: a file that turns out corrupt is
 * rolled back entirely; a truncated tail keeps the complete snapshots
 * before it. Snapshots already in the database (same snapshot id) are
 * skipped, which makes loading idempotent.
 */
#ifndef MEMSNAP_LOAD_H
#define MEMSNAP_LOAD_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

/* Default database file of `memsnap load` and how long it waits for a
 * lock held by another program. */
#define LOAD_DEFAULT_DB "memsnap.db"
#define LOAD_DEFAULT_BUSY_MS 5000

typedef struct loader loader;

/* Counters, added to by loader_load_file. */
typedef struct {
    uint64_t files;        /* files loaded (completely or up to a truncated tail) */
    uint64_t files_failed; /* files rejected (unreadable, corrupt) or not loaded (database error) */
    uint64_t snapshots;    /* snapshots added */
    uint64_t skipped;      /* snapshots already in the database */
    uint64_t rows;         /* rows added, all tables (snapshots rows included) */
} load_stats;

/* Called after each snapshot (and once per file at its end) with the
 * running totals; `file` is the path being loaded. */
typedef void (*load_progress_fn)(void *ctx, const char *file, const load_stats *st);

/* Outcome of loader_load_file. */
typedef enum {
    LOAD_OK = 0,          /* every snapshot of the file is in the database */
    LOAD_TRUNCATED = 1,   /* the complete snapshots before a truncated tail are (a warning) */
    LOAD_FILE_FAILED = -1,/* the file could not be read or is corrupt: nothing of it was loaded */
    LOAD_DB_FAILED = -2   /* the database failed (locked, read-only, full...): nothing of the
                             file was loaded, and further files would fail the same way */
} load_result;

/* Sets process-wide SQLite options that speed up loading (no memory
 * statistics). Call before any other SQLite use; later calls do nothing.
 * Optional: everything works without it. */
void loader_global_init(void);

/* Opens the database at `path` for loading, creating it (and the schema)
 * if needed. `busy_ms` is how long to wait for another program's lock.
 * On failure returns NULL with one line in err (size errlen): cannot
 * create, read-only, locked, not a memsnap database, newer schema. Close
 * with loader_close. */
loader *loader_open(const char *path, int busy_ms, char *err, size_t errlen);

/* Same on an open connection (an in-memory database, or one a test opened
 * with special flags). The loader does not take ownership: loader_close
 * leaves `db` open. Creates the schema if needed. */
loader *loader_attach(sqlite3 *db, char *err, size_t errlen);

/* The loader's connection. */
sqlite3 *loader_db(loader *L);

/* Calls `fn(ctx, ...)` as loading proceeds; NULL turns it off. */
void loader_set_progress(loader *L, load_progress_fn fn, void *ctx);

/* Loads every snapshot of the .msnap file `path` (reader flags
 * `read_flags`, MS_READ_*) in one transaction and adds to *st. Problems
 * are written as one line each to `err`, prefixed with `prog`:
 * "PROG: FILE: byte N: what [MS_ERR_...]: nothing from this file was
 * loaded", the truncation warning, or the database error. */
load_result loader_load_file(loader *L, const char *path, unsigned read_flags, load_stats *st, FILE *err,
                             const char *prog);

/* Builds the indexes when the loader deferred them (it does when the
 * database was empty: building them once at the end is faster than
 * maintaining them row by row). Call after the last file; loading more
 * files afterwards is fine (without the indexes). Returns 0, or -1 with
 * one line in err (the rows loaded stay; the next loader_open builds the
 * indexes). */
int loader_finish(loader *L, char *err, size_t errlen);

/* Runs loader_finish if needed, finalises the statements and closes the
 * database if loader_open opened it. Returns 0, or -1 if finishing or
 * closing failed. NULL is a no-op returning 0. */
int loader_close(loader *L);

#endif

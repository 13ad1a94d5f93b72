/*
 * schema.h - the SQLite schema of memsnap databases, as one table of data.
 *
 * Every table, column, view and index is described once, in schema.c: its
 * SQL (name, declared type, constraint), its documentation (unit, meaning)
 * and where the loader takes its value from (section and column of the
 * snapshot, and the conversion). CREATE statements, the INSERT statements
 * of the loader, `memsnap schema` and the reference part of SCHEMA.md are
 * all generated from it, so they cannot drift apart.
 *
 * The schema only grows (SCHEMA.md "Versioning"): later versions add
 * tables, columns, views and indexes, and never change what an existing one
 * means. A database records its version in meta('schema_version').
 */
#ifndef MEMSNAP_SCHEMA_H
#define MEMSNAP_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>

/* Version of the schema this memsnap creates. Bumped when something is
 * added; a database with a larger version is not written to. */
#define SCHEMA_VERSION 3

/* Where the loader takes a column's value from. `sec`/`col` name the
 * snapshot section and column (format/msnap.h ids); conversions are
 * described in SCHEMA.md and printed by `memsnap schema`. Never
 * renumbered: add new kinds at the end. */
typedef enum {
    SRC_ROWID = 1,    /* the table's own INTEGER PRIMARY KEY, chosen by SQLite */
    SRC_SNAPSHOT,     /* snapshots.id of the snapshot the row belongs to */
    SRC_ROW,          /* the row's index in its section, from 0 */
    SRC_MSNAP_ID,     /* snapshot id as 32 hex digits (see SCHEMA.md for a missing id) */
    SRC_FILE,         /* path of the .msnap file as given to memsnap */
    SRC_OFFSET,       /* byte offset of the snapshot's record in the file */
    SRC_COMPRESSED,   /* compressed payload bytes of the record */
    SRC_RAW,          /* decompressed payload bytes of the record */
    SRC_FORMAT,       /* format version of the file, "1.0" */
    SRC_WRITER,       /* writer id from the file header */
    SRC_U64,          /* unsigned cell as is (>= 2^63 wraps to negative, see SCHEMA.md) */
    SRC_I64,          /* signed cell as is */
    SRC_STR,          /* string cell as TEXT (bytes unchanged; null stays NULL) */
    SRC_KIB,          /* unsigned cell in KiB, times 1024 (bytes) */
    SRC_LIMIT,        /* unsigned bytes; 2^64-1 ("unlimited") becomes NULL */
    SRC_BIT,          /* bit `bit` of an unsigned cell: 0 or 1 */
    SRC_ISO_TIME,     /* ns since the epoch as ISO-8601 UTC text, ms precision */
    SRC_PERMS,        /* permission bits as the kernel prints them, "r-xp" */
    SRC_DEV,          /* device `col`:`col2` as the kernel prints it, "fe:01" (hex) */
    SRC_CMDLINE,      /* NUL-separated arguments joined by spaces */
    SRC_KV_BYTES,     /* value `col` times 1024 when unit `col2` is "kB", else NULL */
    SRC_ROLLUP,       /* rollup field `arg` (KiB) times 1024 */
    SRC_DIAG_STATUS,  /* diagnostics status number as a word */
    SRC_CATEGORY,     /* mapping category computed at load (category.h) */
    SRC_MODULE,       /* Python extension module of a mapping, when known */
    SRC_FIXED,        /* not from snapshots: filled by schema_create (meta, categories) */
    SRC_QUALIFIED     /* strings `col` "." `col2` (module.qualname); NULL unless both are set */
} schema_src;

/* row_sec of the tables that are not loaded from snapshots. */
#define SCHEMA_FIXED_SEC 0xFFFFu

/* One column of a table. */
typedef struct {
    const char *name;       /* column name */
    const char *type;       /* declared SQL type: "INTEGER" or "TEXT" */
    const char *constraint; /* SQL after the type ("NOT NULL"), or NULL */
    const char *unit;       /* unit of the value ("bytes", "ns"), "" when none */
    const char *doc;        /* what it means, for people */
    schema_src src;         /* how the loader fills it */
    unsigned sec;           /* source section (MS_SEC_*), 0 when not from a section */
    unsigned col;           /* source column id in `sec` */
    unsigned col2;          /* second source column (SRC_DEV, SRC_KV_BYTES, SRC_QUALIFIED) */
    unsigned bit;           /* bit number for SRC_BIT */
    const char *arg;        /* field name for SRC_ROLLUP */
} schema_column;

/* One table. Rows come from the rows of section `row_sec` of each
 * snapshot, or (row_sec 0) one row per snapshot (the snapshots table);
 * SCHEMA_FIXED_SEC: filled by schema_create, not by loading. */
typedef struct {
    const char *name;              /* table name */
    const char *doc;               /* what one row is */
    unsigned row_sec;              /* MS_SEC_* whose rows become rows; 0: one per snapshot */
    const schema_column *cols;     /* columns, in table order */
    size_t ncols;                  /* number of columns */
    const char *table_constraint;  /* e.g. "UNIQUE(msnap_id)", or NULL */
} schema_table;

/* One documented column of a view. */
typedef struct {
    const char *name; /* column name */
    const char *unit; /* unit, "" when none */
    const char *doc;  /* meaning */
} schema_view_column;

/* One view: CREATE VIEW name AS select. */
typedef struct {
    const char *name;                /* view name */
    const char *doc;                 /* the question it answers */
    const char *select;              /* the SELECT statement */
    const schema_view_column *cols;  /* its columns, in order */
    size_t ncols;
} schema_view;

/* One index: CREATE INDEX name ON table(columns). */
typedef struct {
    const char *name;    /* index name */
    const char *table;   /* table */
    const char *columns; /* column list, "snapshot_id, name" */
    const char *doc;     /* which queries it serves */
} schema_index;

/* The schema. The arrays are constant and live for the program's life. */
extern const schema_table schema_tables[];
extern const size_t schema_ntables;
extern const schema_view schema_views[];
extern const size_t schema_nviews;
extern const schema_index schema_indexes[];
extern const size_t schema_nindexes;

/* The table named `name`, or NULL. */
const schema_table *schema_table_find(const char *name);

/* Returns the CREATE TABLE statement of `t` (IF NOT EXISTS), malloc'd;
 * the caller frees it. NULL when out of memory. */
char *schema_create_table_sql(const schema_table *t);

/* Returns "INSERT INTO t VALUES(?1, ..., ?N)" for all columns of `t` in
 * order (so column i binds as parameter i + 1), malloc'd; the caller
 * frees it. NULL when out of memory. */
char *schema_insert_sql(const schema_table *t);

/* The same with `nrows` rows of parameters in one statement (row r, column
 * k is parameter r * ncols + k + 1); to be freed with free(). */
char *schema_insert_sql_rows(const schema_table *t, size_t nrows);

/* Creates every table, view and index that does not exist yet in `db`'s
 * main database, fills meta and categories, and checks the version of an
 * existing schema. Runs in the caller's transaction if one is open.
 * Returns 0; or -1 with a message in err (size errlen): SQLite failed, or
 * the database was made by a newer memsnap (schema_version larger than
 * SCHEMA_VERSION: refusing to write to it keeps its newer columns intact),
 * or it is not a memsnap database (it has tables but no meta). */
int schema_create(sqlite3 *db, char *err, size_t errlen);

/* Creates the indexes of schema_indexes that do not exist. Returns 0, or
 * -1 with a message in err. */
int schema_create_indexes(sqlite3 *db, char *err, size_t errlen);

/* Drops the indexes of schema_indexes (the loader does, before filling an
 * empty database, and creates them after). Returns 0, or -1. */
int schema_drop_indexes(sqlite3 *db, char *err, size_t errlen);

/* Reads meta('schema_version') of `db`: returns it, 0 when the database
 * has no meta table (empty or not a memsnap database), -1 on error. */
int schema_db_version(sqlite3 *db);

/* Writes every CREATE statement, in order, ending with ';' (what
 * schema_create runs, for the sqlite3 shell or other tools). */
void schema_print_sql(FILE *out);

/* Writes the schema reference as Markdown: tables with every column's
 * type, unit, source and meaning; views; indexes; the category rules.
 * SCHEMA.md holds exactly this text between its BEGIN/END markers. */
void schema_print_doc(FILE *out);

/* Text describing where a column's value comes from ("mappings.rss_kib x
 * 1024"), into buf (size len). */
void schema_source_text(const schema_column *c, char *buf, size_t len);

#endif

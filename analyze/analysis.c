/*
 * analysis.c - memsnap report, diff, frag and trend: SQL on a memsnap
 * database (views memory_parts, arena_usage, top_types, library_totals...)
 * and the rendering of its rows for a terminal or as one JSON object.
 *
 * Every figure shown comes from a query; C only lays rows out, draws the
 * sparkline of rows a query returned and words verdicts from numbers a
 * query returned. With --show-sql each query is printed before its result.
 */
#include "analysis.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "load.h"
#include "msnap.h"
#include "query.h"
#include "schema.h"

#define MAX_ROWS 2000 /* a section shows at most this many rows (queries LIMIT themselves) */

/* ------------------------------------------------------------- formatting */

char *an_bytes(char *buf, size_t len, double v, int sign)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double a = fabs(v);
    int u = 0;
    while (a >= 1024 && u < 5) {
        a /= 1024;
        u++;
    }
    const char *s = v < 0 ? "-" : (sign && v > 0 ? "+" : "");
    if (u == 0)
        snprintf(buf, len, "%s%.0f %s", s, a, unit[u]);
    else
        snprintf(buf, len, "%s%.1f %s", s, a, unit[u]);
    return buf;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* How a column is shown in text, by its name: byte figures in KiB/MiB,
 * changes with a sign, percentages with '%'. Names starting with '_' are
 * hidden (ordering keys); "_group" starts a titled block of rows. */
enum { COL_PLAIN, COL_BYTES, COL_PCT, COL_HIDDEN };

static int col_kind(const char *name, int *sign)
{
    *sign = ends_with(name, "delta") || ends_with(name, "growth") || strstr(name, "per_") != NULL;
    if (name[0] == '_') return COL_HIDDEN;
    if (ends_with(name, "pct")) return COL_PCT;
    static const char *bytes[] = {"rss", "pss", "uss", "private", "shared", "swap", "bytes", "current",
                                  "max", "high", "peak", "rss_delta", "bytes_delta", "bytes_per_min"};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++)
        if (ends_with(name, bytes[i])) return COL_BYTES;
    return COL_PLAIN;
}

/* Column headers for people: underscores become spaces. */
static void header_text(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s", name);
    for (char *p = buf; *p; p++)
        if (*p == '_') *p = ' ';
}

static char *cell(sqlite3_stmt *st, int i, int kind, int sign)
{
    int type = sqlite3_column_type(st, i);
    char buf[64];
    if (type == SQLITE_NULL) return strdup("");
    if (kind == COL_BYTES && (type == SQLITE_INTEGER || type == SQLITE_FLOAT))
        return strdup(an_bytes(buf, sizeof buf, sqlite3_column_double(st, i), sign));
    if (kind == COL_PCT && (type == SQLITE_INTEGER || type == SQLITE_FLOAT)) {
        snprintf(buf, sizeof buf, sign ? "%+.1f%%" : "%.1f%%", sqlite3_column_double(st, i));
        return strdup(buf);
    }
    if (type == SQLITE_INTEGER) {
        snprintf(buf, sizeof buf, sign ? "%+lld" : "%lld", (long long)sqlite3_column_int64(st, i));
        return strdup(buf);
    }
    if (type == SQLITE_FLOAT) {
        snprintf(buf, sizeof buf, sign ? "%+.2f" : "%.2f", sqlite3_column_double(st, i));
        return strdup(buf);
    }
    const char *t = (const char *)sqlite3_column_text(st, i);
    char *s = strdup(t ? t : "");
    if (s)
        for (char *p = s; *p; p++)
            if ((unsigned char)*p < 0x20) *p = '?'; /* a path with a newline stays on its line */
    return s;
}

static size_t width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) w += (*p & 0xc0) != 0x80;
    return w;
}

static int is_number_text(const char *s)
{
    if (*s == '-' || *s == '+') s++;
    return isdigit((unsigned char)*s) && strspn(s, "0123456789.") == strlen(s);
}

/* A column is left-aligned when it holds text that is not a number. */
static int is_left(char ***rows, int nrows, int col, int kind)
{
    if (kind != COL_PLAIN) return 0;
    for (int r = 0; r < nrows; r++)
        if (rows[r][col][0] && !is_number_text(rows[r][col])) return 1;
    return 0;
}

static void show_sql(an_ctx *c, const char *title, const char *sql, const int64_t *binds, int nbinds)
{
    if (!c->show_sql) return;
    FILE *f = c->json ? c->err : c->out;
    fprintf(f, "-- %s", title);
    for (int i = 0; i < nbinds; i++) fprintf(f, "%s?%d = %" PRId64, i ? ", " : " (", i + 1, binds[i]);
    fprintf(f, "%s\n%s;\n", nbinds ? ")" : "", sql);
}

static sqlite3_stmt *prepare(an_ctx *c, const char *title, const char *sql, const int64_t *binds, int nbinds)
{
    sqlite3_stmt *st = NULL;
    show_sql(c, title, sql, binds, nbinds);
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(c->err, "%s: %s: SQL error: %s\n", c->prog, title, sqlite3_errmsg(c->db));
        c->failed = 1;
        sqlite3_finalize(st);
        return NULL;
    }
    for (int i = 0; i < nbinds && i < sqlite3_bind_parameter_count(st); i++) sqlite3_bind_int64(st, i + 1, binds[i]);
    return st;
}

static void step_failed(an_ctx *c, const char *title)
{
    fprintf(c->err, "%s: %s: SQL error: %s\n", c->prog, title, sqlite3_errmsg(c->db));
    c->failed = 1;
}

static void json_value(FILE *out, sqlite3_stmt *st, int i)
{
    int type = sqlite3_column_type(st, i);
    if (type == SQLITE_INTEGER) {
        fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i));
    } else if (type == SQLITE_FLOAT) {
        char num[40];
        double v = sqlite3_column_double(st, i);
        query_format_double(num, sizeof num, v);
        fputs(isfinite(v) ? num : "null", out);
    } else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
        json_bytes(out, (const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
    } else {
        fputs("null", out);
    }
}

static void json_key(an_ctx *c, const char *key)
{
    fputs(c->nsections++ ? ",\n" : "\n", c->out);
    json_str(c->out, key);
    putc(':', c->out);
}

/* JSON: a row as an object, its keys the column names without a leading '_'. */
static void json_row(FILE *out, sqlite3_stmt *st)
{
    putc('{', out);
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i) putc(',', out);
        json_str(out, name[0] == '_' ? name + 1 : name);
        putc(':', out);
        json_value(out, st, i);
    }
    putc('}', out);
}

/* Frees a text table: nrows rows of ncols cells (rows may be NULL) and
 * its per-column arrays. */
static void free_grid(char ***rows, int nrows, int ncols, int *kind, int *sign, int *left, size_t *w)
{
    for (int r = 0; r < nrows; r++) {
        for (int i = 0; i < ncols; i++) free(rows[r][i]);
        free(rows[r]);
    }
    free(rows);
    free(kind);
    free(sign);
    free(left);
    free(w);
}

/* Runs `sql` (parameters ?1.. bound to binds) and writes its rows: in text
 * as an aligned table under `title` (nothing but `empty` when there is no
 * row; empty == NULL writes nothing at all); in JSON as "key": [rows], or
 * "key": {row} / null when `one` is set. Returns the number of rows, or -1
 * after an SQLite error. */
static int section(an_ctx *c, const char *key, const char *title, const char *sql, const int64_t *binds, int nbinds,
                   int one, const char *empty)
{
    sqlite3_stmt *st = prepare(c, title, sql, binds, nbinds);
    if (!st) return -1;
    int rc, nrows = 0;
    if (c->json) {
        json_key(c, key);
        if (!one) putc('[', c->out);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (one && nrows) continue;
            if (nrows++) putc(',', c->out);
            if (!one) fputs("\n ", c->out);
            json_row(c->out, st);
        }
        if (one && !nrows) fputs("null", c->out);
        if (!one) fputs(nrows ? "\n]" : "]", c->out);
    } else {
        int ncols = sqlite3_column_count(st);
        char ***rows = NULL;
        int *kind = calloc((size_t)ncols + 1, sizeof *kind), *sign = calloc((size_t)ncols + 1, sizeof *sign);
        int *left = calloc((size_t)ncols + 1, sizeof *left);
        size_t *w = calloc((size_t)ncols + 1, sizeof *w);
        int group = -1;
        if (!kind || !sign || !left || !w) {
            free_grid(NULL, 0, ncols, kind, sign, left, w);
            sqlite3_finalize(st);
            fprintf(c->err, "%s: out of memory\n", c->prog);
            c->failed = 1;
            return -1;
        }
        for (int i = 0; i < ncols; i++) {
            const char *name = sqlite3_column_name(st, i);
            kind[i] = col_kind(name, &sign[i]);
            if (!strcmp(name, "_group")) group = i;
            char h[128];
            header_text(h, sizeof h, name);
            w[i] = kind[i] == COL_HIDDEN ? 0 : width(h);
        }
        int oom = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && nrows < MAX_ROWS) {
            char ***nr = realloc(rows, (size_t)(nrows + 1) * sizeof *rows);
            if (nr) rows = nr;
            if (!nr || !(rows[nrows] = calloc((size_t)ncols, sizeof **rows))) {
                oom = 1;
                break;
            }
            nrows++; /* counted now, so that its cells are freed whatever happens */
            for (int i = 0; i < ncols && !oom; i++) {
                char *t = cell(st, i, kind[i], sign[i]);
                rows[nrows - 1][i] = t;
                if (!t) oom = 1;
                else if (kind[i] != COL_HIDDEN && width(t) > w[i]) w[i] = width(t);
            }
            if (oom) break;
        }
        if (rc == SQLITE_ROW) rc = SQLITE_DONE; /* more than MAX_ROWS: the rest is not shown */
        if (oom) {
            free_grid(rows, nrows, ncols, kind, sign, left, w);
            sqlite3_finalize(st);
            fprintf(c->err, "%s: %s: out of memory\n", c->prog, title);
            c->failed = 1;
            return -1;
        }
        for (int i = 0; i < ncols; i++) left[i] = is_left(rows, nrows, i, kind[i]);
        int lastcol = -1;
        for (int i = 0; i < ncols; i++)
            if (kind[i] != COL_HIDDEN) lastcol = i;
        if (nrows || empty) fprintf(c->out, "\n%s\n", title);
        if (!nrows && empty && *empty) fprintf(c->out, "  %s\n", empty);
        FILE *real = c->out, *line = NULL;
        char *lbuf = NULL;
        size_t llen = 0;
        if (nrows) line = open_memstream(&lbuf, &llen);
        if (one && nrows == 1 && line) { /* one row: a name and value per line */
            size_t kw = 0;
            for (int i = 0; i < ncols; i++)
                if (kind[i] != COL_HIDDEN && strlen(sqlite3_column_name(st, i)) > kw)
                    kw = strlen(sqlite3_column_name(st, i));
            for (int i = 0; i < ncols; i++) {
                if (kind[i] == COL_HIDDEN) continue;
                char h[128];
                header_text(h, sizeof h, sqlite3_column_name(st, i));
                fprintf(line, "  %-*s  %s\n", (int)kw, h, rows[0][i]);
            }
            nrows = -nrows; /* the table below is skipped */
        }
        if (line) c->out = line;
        if (nrows > 0) {
            fputs(" ", c->out);
            for (int i = 0; i < ncols; i++) {
                if (kind[i] == COL_HIDDEN) continue;
                char h[128];
                header_text(h, sizeof h, sqlite3_column_name(st, i));
                fputs(" ", c->out);
                if (left[i] && i == lastcol)
                    fputs(h, c->out);
                else if (left[i])
                    fprintf(c->out, "%-*s", (int)w[i], h);
                else
                    fprintf(c->out, "%*s", (int)w[i], h);
            }
            fputs("\n", c->out);
        }
        const char *last_group = NULL;
        for (int r = 0; r < nrows; r++) {
            if (group >= 0 && (!last_group || strcmp(last_group, rows[r][group]))) {
                fprintf(c->out, "  %s\n", rows[r][group]);
                last_group = rows[r][group];
            }
            fputs(" ", c->out);
            for (int i = 0; i < ncols; i++) {
                if (kind[i] == COL_HIDDEN) continue;
                size_t pad = w[i] - width(rows[r][i]);
                fputs(" ", c->out);
                if (left[i] && i == lastcol) fputs(rows[r][i], c->out);
                else if (left[i]) fprintf(c->out, "%s%*s", rows[r][i], (int)pad, "");
                else fprintf(c->out, "%*s%s", (int)pad, "", rows[r][i]);
            }
            fputs("\n", c->out);
        }
        if (line) {
            fclose(line);
            c->out = real;
            /* no trailing blanks: empty cells at a line's end */
            for (char *p = lbuf, *nl; p && *p; p = nl + 1) {
                nl = strchr(p, '\n');
                if (!nl) break;
                char *e = nl;
                while (e > p && e[-1] == ' ') e--;
                fprintf(c->out, "%.*s\n", (int)(e - p), p);
            }
            free(lbuf);
        }
        if (nrows < 0) nrows = -nrows;
        free_grid(rows, nrows, ncols, kind, sign, left, w);
    }
    if (rc != SQLITE_DONE) {
        step_failed(c, title);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return nrows;
}

/* Runs a query that returns one row of numbers into v[0..n-1] (NULL: NAN).
 * Returns 1 with a row, 0 without, -1 on error. */
static int numbers(an_ctx *c, const char *title, const char *sql, const int64_t *binds, int nbinds, double *v, int n)
{
    sqlite3_stmt *st = prepare(c, title, sql, binds, nbinds);
    if (!st) return -1;
    for (int i = 0; i < n; i++) v[i] = NAN;
    int rc = sqlite3_step(st), got = 0;
    if (rc == SQLITE_ROW) {
        got = 1;
        for (int i = 0; i < n && i < sqlite3_column_count(st); i++)
            if (sqlite3_column_type(st, i) != SQLITE_NULL) v[i] = sqlite3_column_double(st, i);
    } else if (rc != SQLITE_DONE) {
        step_failed(c, title);
        got = -1;
    }
    sqlite3_finalize(st);
    return got;
}

static void paragraph(an_ctx *c, const char *key, const char *title, const char *text)
{
    if (c->json) {
        json_key(c, key);
        json_str(c->out, text);
        return;
    }
    fprintf(c->out, "\n%s\n", title);
    /* wrap at 96 columns, indented by two */
    const char *p = text;
    while (*p) {
        size_t n = strlen(p);
        if (n > 94) {
            n = 94;
            while (n > 0 && p[n] != ' ') n--;
            if (n == 0) n = 94;
        }
        fprintf(c->out, "  %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ') p++;
    }
}

void an_begin(an_ctx *c)
{
    c->nsections = 0;
    if (c->json) fputs("{", c->out);
}

void an_end(an_ctx *c)
{
    if (c->json) fputs("\n}\n", c->out);
}

/* ----------------------------------------------------------------- inputs */

int an_is_input(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 16 && !memcmp(head, "SQLite format 3", 16)) return 1;
    int err;
    ms_reader *r = ms_reader_open(path, 0, &err, NULL, 0);
    if (r) {
        ms_reader_close(r);
        return 1;
    }
    return !(err == MS_ERR_MAGIC || err == MS_ERR_IO);
}

static int is_sqlite(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == 16 && !memcmp(head, "SQLite format 3", 16);
}

sqlite3 *an_open_inputs(char *const *paths, int n, unsigned read_flags, FILE *err, const char *prog, int *partial)
{
    sqlite3 *db = NULL;
    char msg[768];
    *partial = 0;
    loader_global_init();
    if (n == 1 && is_sqlite(paths[0])) {
        if (sqlite3_open_v2(paths[0], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            fprintf(err, "%s: %s: %s\n", prog, paths[0], db ? sqlite3_errmsg(db) : "cannot open");
            sqlite3_close(db);
            return NULL;
        }
        sqlite3_busy_timeout(db, LOAD_DEFAULT_BUSY_MS);
        int v = schema_db_version(db);
        if (v <= 0) {
            fprintf(err, "%s: %s: not a memsnap database (no meta table); create one with memsnap load\n", prog,
                    paths[0]);
            sqlite3_close(db);
            return NULL;
        }
        if (v < SCHEMA_VERSION && schema_create(db, msg, sizeof msg) < 0) {
            fprintf(err, "%s: %s: upgrading the database to schema version %d failed: %s (it needs write "
                         "access; or load the .msnap files again)\n", prog, paths[0], SCHEMA_VERSION, msg);
            sqlite3_close(db);
            return NULL;
        }
        return db;
    }
    for (int i = 0; i < n; i++)
        if (is_sqlite(paths[i])) {
            fprintf(err, "%s: %s: give one database, or .msnap files (not both)\n", prog, paths[i]);
            return NULL;
        }
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(err, "%s: cannot create the in-memory database\n", prog);
        sqlite3_close(db);
        return NULL;
    }
    loader *L = loader_attach(db, msg, sizeof msg);
    if (!L) {
        fprintf(err, "%s: %s\n", prog, msg);
        sqlite3_close(db);
        return NULL;
    }
    load_stats st = {0};
    int bad = 0;
    for (int i = 0; i < n; i++) {
        load_result r = loader_load_file(L, paths[i], read_flags, &st, err, prog);
        if (r == LOAD_TRUNCATED) *partial = 1;
        if (r < 0) bad = 1;
    }
    if (loader_finish(L, msg, sizeof msg) < 0) {
        fprintf(err, "%s: %s\n", prog, msg);
        bad = 1;
    }
    loader_close(L);
    if (bad) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int64_t one_id(sqlite3 *db, const char *sql, int64_t arg, const char *text)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (text) sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else sqlite3_bind_int64(st, 1, arg);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return id;
}

int64_t an_last_snapshot(sqlite3 *db, const char *file)
{
    if (file)
        return one_id(db, "SELECT id FROM snapshots WHERE source_file = ?1 ORDER BY wall_ns DESC, id DESC LIMIT 1", 0,
                      file);
    return one_id(db, "SELECT id FROM snapshots WHERE ?1 = 0 ORDER BY wall_ns DESC, id DESC LIMIT 1", 0, NULL);
}

int64_t an_first_of_process(sqlite3 *db, int64_t id)
{
    return one_id(db,
                  "SELECT f.id FROM snapshots s JOIN snapshots f ON f.hostname IS s.hostname AND f.pid = s.pid "
                  "AND f.boot_id IS s.boot_id WHERE s.id = ?1 ORDER BY f.wall_ns, f.id LIMIT 1",
                  id, NULL);
}

int an_snapshot_exists(sqlite3 *db, int64_t id)
{
    int64_t r = one_id(db, "SELECT count(*) FROM snapshots WHERE id = ?1", id, NULL);
    return r < 0 ? -1 : r > 0;
}

/* -------------------------------------------------------------- headline */

static const char *SQL_HEADLINE =
    "SELECT s.id AS snapshot, s.wall_time AS time, s.hostname AS host, s.pid, s.comm, s.python_version,\n"
    "       s.rss, s.pss,\n"
    "       (SELECT sum(value_bytes) FROM rollup r WHERE r.snapshot_id = s.id\n"
    "         AND r.name IN ('Private_Clean', 'Private_Dirty')) AS uss,\n"
    "       s.swap, s.best_effort, s.source_file AS file\n"
    "  FROM snapshots s WHERE s.id = ?1";

static int headline(an_ctx *c, const char *key, int64_t id)
{
    int64_t b[1] = {id};
    if (c->json) return section(c, key, "snapshot", SQL_HEADLINE, b, 1, 1, NULL);
    sqlite3_stmt *st = prepare(c, "snapshot", SQL_HEADLINE, b, 1);
    if (!st) return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        char r1[32], r2[32], r3[32], r4[32];
        const char *py = (const char *)sqlite3_column_text(st, 5);
        fprintf(c->out, "Snapshot %lld: pid %lld (%s) on %s at %s%s%s%s\n", (long long)sqlite3_column_int64(st, 0),
                (long long)sqlite3_column_int64(st, 3),
                sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "?",
                sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "?",
                sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "?", py ? ", CPython " : "",
                py ? py : "", sqlite3_column_int(st, 10) ? " (not paused: best-effort)" : "");
        fprintf(c->out, "  RSS %s   PSS %s   USS %s   swap %s\n", an_bytes(r1, sizeof r1, sqlite3_column_double(st, 6), 0),
                an_bytes(r2, sizeof r2, sqlite3_column_double(st, 7), 0),
                an_bytes(r3, sizeof r3, sqlite3_column_double(st, 8), 0),
                an_bytes(r4, sizeof r4, sqlite3_column_double(st, 9), 0));
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        step_failed(c, "snapshot");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ report */

#define GROUP_LABEL(g)                                                                                       \
    "CASE " g " WHEN 'python_heap' THEN 'Python heap: pymalloc arenas'\n"                                    \
    "  WHEN 'c_heap' THEN 'C heap and other anonymous memory'\n"                                             \
    "  WHEN 'interpreter' THEN 'Interpreter (executable, libpython)'\n"                                      \
    "  WHEN 'python_extension' THEN 'Extension modules'\n"                                                   \
    "  WHEN 'shared_library' THEN 'Other shared libraries'\n"                                                \
    "  WHEN 'file' THEN 'Other mapped files'\n"                                                              \
    "  WHEN 'stack' THEN 'Thread stacks'\n"                                                                  \
    "  WHEN 'shmem' THEN 'Shared memory'\n"                                                                  \
    "  WHEN 'kernel' THEN 'Kernel pages ([vdso], [vvar])'\n"                                                 \
    "  WHEN 'unexplained' THEN 'Unexplained (RSS minus the sum of the mappings)' ELSE " g " END"

/* Groups with their total first, then their parts (the largest ?2 of each
 * kind, the rest summed in one line), then the total. */
static const char *SQL_PARTS =
    "WITH p AS (SELECT * FROM memory_parts WHERE snapshot_id = ?1),\n"
    /* a group's PSS, USS... only when every part of it has them */
    "g AS (SELECT ord / 10 AS g, grp, sum(CASE WHEN counted THEN rss END) AS rss,\n"
    "             CASE WHEN sum(counted AND pss IS NULL) = 0 THEN sum(pss) END AS pss,\n"
    "             CASE WHEN sum(counted AND pss IS NULL) = 0 THEN sum(private) END AS private,\n"
    "             CASE WHEN sum(counted AND pss IS NULL) = 0 THEN sum(shared) END AS shared,\n"
    "             CASE WHEN sum(counted AND pss IS NULL) = 0 THEN sum(swap) END AS swap,\n"
    "             max(estimated * counted) AS est, count(*) AS n, min(ord) AS o\n"
    "        FROM p GROUP BY ord / 10, grp),\n"
    "r AS (SELECT *, row_number() OVER (PARTITION BY ord ORDER BY rss DESC, part) AS k,\n"
    "             count(*) OVER (PARTITION BY ord) AS kn FROM p)\n"
    "SELECT g AS _g, o AS _k, 0 AS _level, " GROUP_LABEL("grp") " AS part,\n"
    "       rss, pss, private AS uss, shared, swap,\n"
    "       CASE WHEN est THEN 'includes an estimate' END AS note\n"
    "  FROM g\n"
    "UNION ALL\n"
    "SELECT ord / 10, ord * 1000 + k, 2 - counted, '  ' || CASE WHEN counted THEN '' ELSE '  ' END || part,\n"
    "       rss, pss, private, shared, swap, CASE WHEN estimated THEN 'estimate' END\n"
    "  FROM r WHERE grp NOT IN ('file', 'stack', 'shmem', 'kernel', 'unexplained')\n"
    "   AND (k <= ?2 OR kn <= ?2 + 1)\n"
    "UNION ALL\n"
    "SELECT ord / 10, ord * 1000 + 999, 1, printf('  %d more', count(*)), sum(rss), sum(pss), sum(private),\n"
    "       sum(shared), sum(swap), NULL\n"
    "  FROM r WHERE k > ?2 AND kn > ?2 + 1 GROUP BY ord\n"
    "UNION ALL\n"
    "SELECT 99, 0, 0, 'Total (= RSS)', sum(CASE WHEN counted THEN rss END), NULL, NULL, NULL, NULL, NULL FROM p\n"
    "ORDER BY 1, 2";

static const char *SQL_OBJECTS =
    "SELECT count(*) AS types, sum(count) AS objects, sum(sizeof_bytes) AS getsizeof_bytes,\n"
    "       sum(allocated_bytes) AS allocated_bytes, sum(approximate) AS approximate_types\n"
    "  FROM py_types WHERE snapshot_id = ?1 HAVING count(*) > 0";

static const char *SQL_TOP_TYPES =
    "SELECT rank, coalesce(qualname, name) AS type, count, sizeof_bytes AS getsizeof_bytes,\n"
    "       allocated_bytes, percent AS share_pct, CASE WHEN approximate = 1 THEN 'approximate' END AS note\n"
    "  FROM top_types WHERE snapshot_id = ?1 AND rank <= ?2 ORDER BY rank, name";

static const char *SQL_CGROUP =
    "SELECT c.version, c.path AS cgroup, c.current, c.max, c.high, c.peak,\n"
    "       round(100.0 * c.current / c.max, 1) AS used_of_max_pct,\n"
    "       (SELECT value FROM cgroup_stats s WHERE s.snapshot_id = c.snapshot_id\n"
    "         AND s.file = 'memory.events' AND s.name = 'oom_kill') AS oom_kills\n"
    "  FROM cgroups c WHERE c.snapshot_id = ?1";

static const char *SQL_DIAG =
    "SELECT area, status_text AS status, message FROM diagnostics\n"
    " WHERE snapshot_id = ?1 AND status IN (1, 2, 3) ORDER BY rowid";

int an_report(an_ctx *c, int64_t snap, int top)
{
    int64_t b[2] = {snap, top};
    an_begin(c);
    if (headline(c, "snapshot", snap) < 0) goto out;
    if (section(c, "parts", "Where the RSS goes (the lines of each group add up to it; groups add up to RSS)",
                SQL_PARTS, b, 2, 0, "") < 0)
        goto out;
    if (section(c, "python_objects", "Live Python objects", SQL_OBJECTS, b, 1, 1,
                "no Python heap in this snapshot (not CPython, or --no-python)") < 0)
        goto out;
    if (section(c, "top_types", "Top types by allocated bytes", SQL_TOP_TYPES, b, 2, 0, NULL) < 0) goto out;
    if (section(c, "cgroup", "Container (memory cgroup)", SQL_CGROUP, b, 1, 1, "no memory cgroup figures") < 0)
        goto out;
    if (section(c, "diagnostics", "Diagnostics (what was approximate or missing)", SQL_DIAG, b, 1, 0, NULL) < 0)
        goto out;
    if (!c->json)
        fprintf(c->out, "\nEstimates: pymalloc's figures are exact (sys._debugmallocstats); arenas are taken as fully\n"
                        "resident; which bytes outside pymalloc belong to Python objects is estimated from the\n"
                        "objects' allocated bytes minus pymalloc's blocks in use (SCHEMA.md, memory_parts).\n");
out:
    an_end(c);
    return c->failed ? -1 : 0;
}

/* -------------------------------------------------------------------- diff */

static const char *SQL_DIFF_PARTS =
    /* the pymalloc and C heap groups part by part, the others (files) as one line per group */
    "WITH a AS (SELECT ord, grp, CASE WHEN ord / 10 IN (1, 2) THEN part END AS part, sum(rss) AS rss, counted\n"
    "             FROM memory_parts WHERE snapshot_id = ?1 GROUP BY 1, 2, 3, 5),\n"
    "b AS (SELECT ord, grp, CASE WHEN ord / 10 IN (1, 2) THEN part END AS part, sum(rss) AS rss, counted\n"
    "        FROM memory_parts WHERE snapshot_id = ?2 GROUP BY 1, 2, 3, 5),\n"
    "k AS (SELECT ord, grp, part, counted FROM a UNION SELECT ord, grp, part, counted FROM b),\n"
    "j AS (SELECT k.ord, k.grp, k.part, k.counted, a.rss AS a_rss, b.rss AS b_rss\n"
    "        FROM k LEFT JOIN a ON a.ord = k.ord AND a.part IS k.part\n"
    "               LEFT JOIN b ON b.ord = k.ord AND b.part IS k.part),\n"
    "g AS (SELECT ord / 10 AS g, grp, sum(CASE WHEN counted THEN a_rss END) AS a_rss,\n"
    "             sum(CASE WHEN counted THEN b_rss END) AS b_rss FROM j GROUP BY ord / 10, grp)\n"
    "SELECT g AS _g, 0 AS _k, " GROUP_LABEL("grp") " AS part, a_rss AS before_rss, b_rss AS after_rss,\n"
    "       coalesce(b_rss, 0) - coalesce(a_rss, 0) AS rss_delta FROM g\n"
    "UNION ALL\n"
    "SELECT ord / 10, ord, '  ' || CASE WHEN counted THEN '' ELSE '  ' END || part, a_rss, b_rss,\n"
    "       coalesce(b_rss, 0) - coalesce(a_rss, 0) FROM j WHERE part IS NOT NULL\n"
    "UNION ALL\n"
    "SELECT 99, 0, 'Total (= RSS change)', sum(CASE WHEN counted THEN a_rss END),\n"
    "       sum(CASE WHEN counted THEN b_rss END),\n"
    "       sum(CASE WHEN counted THEN coalesce(b_rss, 0) - coalesce(a_rss, 0) END) FROM j\n"
    "ORDER BY 1, 2";

static const char *SQL_DIFF_ARENAS =
    "SELECT a.arenas AS arenas_before, b.arenas AS arenas_after,\n"
    "       b.arenas_allocated - a.arenas_allocated AS arenas_created,\n"
    "       b.arenas_reclaimed - a.arenas_reclaimed AS arenas_returned_to_os,\n"
    "       b.arena_bytes - a.arena_bytes AS arena_bytes_delta,\n"
    "       b.allocated_bytes - a.allocated_bytes AS live_block_bytes_delta\n"
    "  FROM py_alloc_totals a, py_alloc_totals b WHERE a.snapshot_id = ?1 AND b.snapshot_id = ?2";

#define SQL_TYPE_DELTAS                                                                                        \
    "WITH a AS (SELECT name, coalesce(qualname, name) AS type, count,\n"                                       \
    "                  coalesce(nullif(allocated_bytes, 0), sizeof_bytes) AS bytes\n"                           \
    "             FROM py_types WHERE snapshot_id = ?1),\n"                                                      \
    "b AS (SELECT name, coalesce(qualname, name) AS type, count,\n"                                            \
    "             coalesce(nullif(allocated_bytes, 0), sizeof_bytes) AS bytes\n"                                \
    "        FROM py_types WHERE snapshot_id = ?2),\n"                                                         \
    "d AS (SELECT b.type, b.count - coalesce(a.count, 0) AS count_delta,\n"                                    \
    "             b.bytes - coalesce(a.bytes, 0) AS bytes_delta, b.count AS count_after, b.bytes AS after_bytes\n" \
    "        FROM b LEFT JOIN a ON a.type = b.type AND a.name = b.name\n"                                       \
    "      UNION ALL\n"                                                                                      \
    "      SELECT a.type, -a.count, -a.bytes, 0, 0 FROM a\n"                                                 \
    "       WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.type = a.type AND b.name = a.name))\n"

static const char *SQL_TYPES_GROWN = SQL_TYPE_DELTAS
    "SELECT type, count_delta, bytes_delta, count_after, after_bytes FROM d\n"
    " WHERE bytes_delta > 0 OR (bytes_delta = 0 AND count_delta > 0)\n"
    " ORDER BY bytes_delta DESC, count_delta DESC, type LIMIT ?3";

static const char *SQL_TYPES_SHRUNK = SQL_TYPE_DELTAS
    "SELECT type, count_delta, bytes_delta, count_after, after_bytes FROM d\n"
    " WHERE bytes_delta < 0 OR (bytes_delta = 0 AND count_delta < 0)\n"
    " ORDER BY bytes_delta, count_delta, type LIMIT ?3";

static const char *SQL_DIFF_LIBS =
    "WITH a AS (SELECT path, category, module, rss FROM library_totals WHERE snapshot_id = ?1),\n"
    "b AS (SELECT path, category, module, rss FROM library_totals WHERE snapshot_id = ?2)\n"
    "SELECT * FROM (\n"
    "  SELECT 'new' AS change, b.category, coalesce(b.module, '') AS module, b.path, NULL AS before_rss,\n"
    "         b.rss AS after_rss, b.rss AS rss_delta\n"
    "    FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.path = b.path)\n"
    "  UNION ALL\n"
    "  SELECT 'gone', a.category, coalesce(a.module, ''), a.path, a.rss, NULL, -a.rss\n"
    "    FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.path = a.path)\n"
    "  UNION ALL\n"
    "  SELECT CASE WHEN b.rss > a.rss THEN 'grew' ELSE 'shrank' END, b.category, coalesce(b.module, ''),\n"
    "         b.path, a.rss, b.rss, b.rss - a.rss\n"
    "    FROM a JOIN b ON a.path = b.path AND a.category = b.category WHERE a.rss <> b.rss)\n"
    " ORDER BY change = 'new' DESC, abs(rss_delta) DESC, path LIMIT ?3";

static const char *SQL_DIFF_MAPPINGS =
    "WITH a AS (SELECT start, \"end\" - start AS vsize, category, coalesce(path, '') AS path, rss\n"
    "             FROM mappings WHERE snapshot_id = ?1\n"
    "              AND category NOT IN ('interpreter', 'python_extension', 'shared_library')),\n"
    "b AS (SELECT start, \"end\" - start AS vsize, category, coalesce(path, '') AS path, rss\n"
    "        FROM mappings WHERE snapshot_id = ?2\n"
    "         AND category NOT IN ('interpreter', 'python_extension', 'shared_library'))\n"
    "SELECT * FROM (\n"
    "  SELECT 'new' AS change, printf('%#x', b.start) AS start, b.category, b.path, NULL AS before_rss,\n"
    "         b.rss AS after_rss, b.rss AS rss_delta\n"
    "    FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.start = b.start AND a.path = b.path)\n"
    "  UNION ALL\n"
    "  SELECT 'gone', printf('%#x', a.start), a.category, a.path, a.rss, NULL, -a.rss\n"
    "    FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.start = a.start AND b.path = a.path)\n"
    "  UNION ALL\n"
    "  SELECT CASE WHEN b.rss > a.rss THEN 'grew' ELSE 'shrank' END, printf('%#x', b.start), b.category,\n"
    "         b.path, a.rss, b.rss, b.rss - a.rss\n"
    "    FROM a JOIN b ON a.start = b.start AND a.path = b.path WHERE a.rss <> b.rss)\n"
    " WHERE abs(rss_delta) >= 65536 ORDER BY abs(rss_delta) DESC, start LIMIT ?3";

static const char *SQL_DIFF_MODULES =
    "SELECT b.name AS module, CASE WHEN b.extension THEN 'extension' ELSE 'python' END AS kind,\n"
    "       (SELECT sum(rss) FROM mappings m WHERE m.snapshot_id = ?2 AND m.path = b.file) AS rss,\n"
    "       b.file\n"
    "  FROM py_modules b\n"
    " WHERE b.snapshot_id = ?2\n"
    "   AND NOT EXISTS (SELECT 1 FROM py_modules a WHERE a.snapshot_id = ?1 AND a.name = b.name)\n"
    " ORDER BY b.extension DESC, rss DESC, b.name LIMIT ?3";

static const char *SQL_DIFF_MODULE_TOTALS =
    "SELECT count(*) AS modules_imported, sum(b.extension) AS extension_modules,\n"
    "       (SELECT count(*) FROM py_modules a WHERE a.snapshot_id = ?1\n"
    "         AND NOT EXISTS (SELECT 1 FROM py_modules c WHERE c.snapshot_id = ?2 AND c.name = a.name))\n"
    "         AS modules_removed,\n"
    "       (SELECT sum(rss) FROM library_totals l WHERE l.snapshot_id = ?2\n"
    "         AND NOT EXISTS (SELECT 1 FROM library_totals o WHERE o.snapshot_id = ?1 AND o.path = l.path))\n"
    "         AS new_libraries_rss\n"
    "  FROM py_modules b\n"
    " WHERE b.snapshot_id = ?2\n"
    "   AND NOT EXISTS (SELECT 1 FROM py_modules a WHERE a.snapshot_id = ?1 AND a.name = b.name)\n"
    "   AND EXISTS (SELECT 1 FROM py_modules WHERE snapshot_id = ?1)";

int an_diff(an_ctx *c, int64_t a, int64_t b, int top)
{
    int64_t v[3] = {a, b, top};
    double n[4];
    an_begin(c);
    if (c->json) {
        if (headline(c, "before", a) < 0 || headline(c, "after", b) < 0) goto out;
    } else {
        fputs("Before: ", c->out);
        if (headline(c, "before", a) < 0) goto out;
        fputs("After:  ", c->out);
        if (headline(c, "after", b) < 0) goto out;
    }
    if (numbers(c, "RSS change", "SELECT b.rss - a.rss, (b.wall_ns - a.wall_ns) / 1e9 FROM snapshots a, snapshots b\n"
                                 " WHERE a.id = ?1 AND b.id = ?2", v, 2, n, 2) < 0)
        goto out;
    if (!c->json) {
        char d[32];
        fprintf(c->out, "  RSS change %s in %.1f s\n", an_bytes(d, sizeof d, n[0], 1), n[1]);
    }
    if (section(c, "parts", "RSS change by part (the groups add up to the RSS change)", SQL_DIFF_PARTS, v, 2, 0,
                "") < 0)
        goto out;
    if (section(c, "arenas", "pymalloc arenas", SQL_DIFF_ARENAS, v, 2, 1, NULL) < 0) goto out;
    if (section(c, "types_grown", "Types that grew (by bytes)", SQL_TYPES_GROWN, v, 3, 0, NULL) < 0) goto out;
    if (section(c, "types_shrunk", "Types that shrank (by bytes)", SQL_TYPES_SHRUNK, v, 3, 0, NULL) < 0) goto out;
    if (section(c, "modules_summary", "Modules imported in between", SQL_DIFF_MODULE_TOTALS, v, 2, 1, NULL) < 0)
        goto out;
    if (section(c, "modules", "New modules (extension modules first, with the RSS of their file)", SQL_DIFF_MODULES,
                v, 3, 0, NULL) < 0)
        goto out;
    if (section(c, "libraries", "Libraries that appeared, vanished or changed RSS", SQL_DIFF_LIBS, v, 3, 0,
                "none") < 0)
        goto out;
    if (section(c, "mappings", "Other mappings that appeared, vanished or changed RSS (64 KiB or more)",
                SQL_DIFF_MAPPINGS, v, 3, 0, "none") < 0)
        goto out;
out:
    an_end(c);
    return c->failed ? -1 : 0;
}

/* -------------------------------------------------------------------- frag */

static const char *SQL_FRAG_TOTALS =
    "SELECT t.arenas, t.arena_bytes, t.allocated_bytes AS live_block_bytes,\n"
    "       round(100.0 * t.allocated_bytes / t.arena_bytes, 2) AS utilisation_pct,\n"
    "       t.available_bytes AS free_block_bytes, t.unused_pool_bytes AS empty_pool_bytes,\n"
    "       t.pool_header_bytes + t.quantization_bytes + t.alignment_bytes AS overhead_bytes,\n"
    "       (SELECT count(*) FROM arena_usage u WHERE u.snapshot_id = t.snapshot_id AND u.pinned) AS pinned_arenas,\n"
    "       (SELECT coalesce(sum(arena_bytes - live_bytes), 0) FROM arena_usage u\n"
    "         WHERE u.snapshot_id = t.snapshot_id AND u.pinned) AS pinned_free_bytes,\n"
    "       t.arenas_highwater, t.arenas_reclaimed\n"
    "  FROM py_alloc_totals t WHERE t.snapshot_id = ?1 AND t.arena_bytes > 0";

/* A stripped build: no arena list, only the pools found by their headers. */
static const char *SQL_FRAG_POOLS =
    "SELECT sum(z.pools) AS pools, sum(z.pools) * r.pool_size AS pool_bytes,\n"
    "       sum(z.blocks_used * z.block_size) AS live_block_bytes,\n"
    "       round(100.0 * sum(z.blocks_used * z.block_size) / (sum(z.pools) * r.pool_size), 2)\n"
    "         AS pool_utilisation_pct,\n"
    "       sum(z.blocks_free * z.block_size) AS free_block_bytes\n"
    "  FROM py_size_classes z JOIN py_runtime r USING (snapshot_id)\n"
    " WHERE z.snapshot_id = ?1 AND r.pool_size > 0 AND z.pools > 0\n"
    "   AND NOT EXISTS (SELECT 1 FROM py_alloc_totals t WHERE t.snapshot_id = ?1 AND t.arena_bytes > 0)\n"
    " GROUP BY r.pool_size";

static const char *SQL_FRAG_HIST =
    "WITH RECURSIVE d(decile) AS (SELECT 0 UNION ALL SELECT decile + 1 FROM d WHERE decile < 9)\n"
    "SELECT printf('%3d-%3d%%', 10 * d.decile, 10 * d.decile + 10) AS used, count(u.address) AS arenas,\n"
    "       coalesce(sum(u.arena_bytes), 0) AS arena_bytes, coalesce(sum(u.live_bytes), 0) AS live_bytes,\n"
    "       substr('##################################################', 1,\n"
    "              CAST(round(50.0 * count(u.address) / max(1, (SELECT count(*) FROM arena_usage\n"
    "                WHERE snapshot_id = ?1))) AS INTEGER)) AS histogram\n"
    "  FROM d LEFT JOIN arena_usage u ON u.snapshot_id = ?1 AND u.decile = d.decile\n"
    " WHERE EXISTS (SELECT 1 FROM arena_usage WHERE snapshot_id = ?1)\n"
    " GROUP BY d.decile ORDER BY d.decile";

static const char *SQL_FRAG_PINNED =
    "SELECT printf('%#x', address) AS arena, pools_used, pools_total, live_bytes, used_pct\n"
    "  FROM arena_usage WHERE snapshot_id = ?1 AND pinned ORDER BY live_bytes, address LIMIT ?2";

static const char *SQL_FRAG_CLASSES =
    "SELECT size_class, block_size AS block, pools, blocks_used, blocks_free,\n"
    "       blocks_used * block_size AS used_bytes, blocks_free * block_size AS free_bytes,\n"
    "       round(100.0 * blocks_used / max(1, blocks_used + blocks_free), 1) AS used_pct\n"
    "  FROM py_size_classes WHERE snapshot_id = ?1 AND pools > 0\n"
    " ORDER BY free_bytes DESC, size_class LIMIT ?2";

static const char *SQL_FRAG_CHEAP =
    "SELECT part, rss, CASE WHEN estimated THEN 'estimate' END AS note FROM memory_parts\n"
    " WHERE snapshot_id = ?1 AND grp = 'c_heap' ORDER BY ord";

int an_frag(an_ctx *c, int64_t snap, int top)
{
    int64_t v[2] = {snap, top};
    double t[11];
    an_begin(c);
    if (headline(c, "snapshot", snap) < 0) goto out;
    int got = numbers(c, "pymalloc totals", SQL_FRAG_TOTALS, v, 1, t, 11);
    if (got < 0) goto out;
    if (section(c, "pymalloc", "pymalloc", SQL_FRAG_TOTALS, v, 1, 1,
                "no pymalloc arena figures in this snapshot (the diagnostics say why: a stripped build, not "
                "CPython, --no-python, or another allocator)") < 0)
        goto out;
    double pl[5];
    int gotp = got > 0 ? 0 : numbers(c, "pymalloc pools", SQL_FRAG_POOLS, v, 1, pl, 5);
    if (gotp < 0) goto out;
    if (gotp > 0 && section(c, "pools", "pymalloc pools found by their headers (arenas unknown)", SQL_FRAG_POOLS, v, 1,
                            1, NULL) < 0)
        goto out;
    if (section(c, "histogram", "Arenas by utilisation (live bytes / arena size)", SQL_FRAG_HIST, v, 1, 0, NULL) < 0)
        goto out;
    if (section(c, "pinned", "Arenas pinned by a few live blocks (under 25% used), emptiest first", SQL_FRAG_PINNED,
                v, 2, 0, got > 0 ? "none" : NULL) < 0)
        goto out;
    if (section(c, "size_classes", "Waste per size class (free blocks in used pools), largest first",
                SQL_FRAG_CLASSES, v, 2, 0, NULL) < 0)
        goto out;
    if (section(c, "c_heap", "C heap: resident memory outside the arenas, against what is accounted for",
                SQL_FRAG_CHEAP, v, 1, 0, "none") < 0)
        goto out;
    char text[1200], a[32], b[32], d[32], e[32];
    if (got > 0) {
        double util = t[3], pinned = t[7], pinned_free = t[8], free_all = t[4] + t[5];
        /* little: under a fifth of the arenas free, or under 4 MiB in all */
        double spare = t[1] - t[2];
        const char *level = spare < 4194304.0 || util >= 80 ? "little" : util >= 50 ? "moderate" : "heavy";
        int n = snprintf(text, sizeof text,
                         "%s fragmentation: pymalloc holds %.0f arenas (%s) of which %.1f%% is live blocks (%s); "
                         "%s is free blocks and empty pools inside the arenas, reusable by Python but not by "
                         "anything else.",
                         level, t[0], an_bytes(a, sizeof a, t[1], 0), util, an_bytes(b, sizeof b, t[2], 0),
                         an_bytes(d, sizeof d, free_all, 0));
        if (pinned > 0 && n > 0 && (size_t)n < sizeof text)
            snprintf(text + n, sizeof text - (size_t)n,
                     " %.0f arena%s under 25%% used hold%s %s of RSS that cannot return to the OS while their "
                     "few live blocks stay.",
                     pinned, pinned == 1 ? "" : "s", pinned == 1 ? "s" : "", an_bytes(e, sizeof e, pinned_free, 0));
        else if (n > 0 && (size_t)n < sizeof text)
            snprintf(text + n, sizeof text - (size_t)n, " No arena is under 25%% used: empty arenas go back to the "
                                                        "OS as they empty.");
        paragraph(c, "verdict", "Verdict", text);
    } else if (gotp > 0) {
        snprintf(text, sizeof text,
                 "pymalloc's arenas are unknown in this snapshot (see the diagnostics), so arenas pinned by a few "
                 "blocks cannot be named. The %.0f pools in use (%s) hold %s of live blocks: %.1f%% used; %s of "
                 "free blocks in them is reusable by Python only.",
                 pl[0], an_bytes(a, sizeof a, pl[1], 0), an_bytes(b, sizeof b, pl[2], 0), pl[3],
                 an_bytes(d, sizeof d, pl[4], 0));
        paragraph(c, "verdict", "Verdict", text);
    }
out:
    an_end(c);
    return c->failed ? -1 : 0;
}

/* ------------------------------------------------------------------- trend */

/* The series: snapshots of the same process (host, pid, boot) up to ?1. */
#define SQL_SERIES                                                                                             \
    "WITH series AS (SELECT f.id, f.wall_ns, f.wall_time, f.rss FROM snapshots s\n"                            \
    "                  JOIN snapshots f ON f.hostname IS s.hostname AND f.pid = s.pid\n"                        \
    "                   AND f.boot_id IS s.boot_id AND f.wall_ns <= s.wall_ns\n"                                \
    "                 WHERE s.id = ?1)\n"

static const char *SQL_TREND_POINTS = SQL_SERIES
    "SELECT id AS snapshot, wall_time AS time, rss,\n"
    "       (SELECT sum(m.rss) FROM mappings m WHERE m.snapshot_id = id AND m.category = 'python_heap')\n"
    "         AS python_heap_rss,\n"
    "       (SELECT sum(m.rss) FROM mappings m WHERE m.snapshot_id = id AND m.category IN ('c_heap', 'anonymous'))\n"
    "         AS c_heap_and_anonymous_rss,\n"
    "       (SELECT sum(count) FROM py_types t WHERE t.snapshot_id = id) AS objects\n"
    "  FROM series ORDER BY wall_ns, id";

static const char *SQL_TREND_SUMMARY = SQL_SERIES
    "SELECT count(*) AS snapshots, (max(wall_ns) - min(wall_ns)) / 1e9 AS seconds,\n"
    "       (SELECT rss FROM series ORDER BY wall_ns, id LIMIT 1) AS first_rss,\n"
    "       (SELECT rss FROM series ORDER BY wall_ns DESC, id DESC LIMIT 1) AS last_rss,\n"
    "       min(rss) AS min_rss, max(rss) AS max_rss\n"
    "  FROM series";

/* ?1 the last snapshot, ?3 the first of its series */
static const char *SQL_TREND_GROUPS = SQL_SERIES
    ", m AS (SELECT max(1e-9, (max(wall_ns) - min(wall_ns)) / 60e9) AS minutes FROM series),\n"
    "a AS (SELECT grp, min(ord / 10) AS g, sum(rss) AS rss FROM memory_parts\n"
    "       WHERE snapshot_id = ?3 AND counted GROUP BY grp),\n"
    "b AS (SELECT grp, min(ord / 10) AS g, sum(rss) AS rss FROM memory_parts\n"
    "       WHERE snapshot_id = ?1 AND counted GROUP BY grp),\n"
    "k AS (SELECT grp, min(g) AS g FROM (SELECT grp, g FROM a UNION ALL SELECT grp, g FROM b) GROUP BY grp)\n"
    "SELECT " GROUP_LABEL("k.grp") " AS part, a.rss AS first_rss, b.rss AS last_rss,\n"
    "       coalesce(b.rss, 0) - coalesce(a.rss, 0) AS rss_delta,\n"
    "       (coalesce(b.rss, 0) - coalesce(a.rss, 0)) / m.minutes AS per_min_rss\n"
    "  FROM k JOIN m LEFT JOIN a ON a.grp = k.grp LEFT JOIN b ON b.grp = k.grp ORDER BY k.g";

/* Per type and interval: did count or bytes grow (between the snapshots
 * where the type has objects)? ?1 the last snapshot, ?3 the first. Suspects grow in most (at least two
 * thirds, and at least 2) of the intervals; classes defined in code come
 * first (builtin containers that grow with them are usually their
 * attributes), then by bytes per minute. */
#define SQL_TYPE_SERIES                                                                                        \
    SQL_SERIES                                                                                                 \
    ", n AS (SELECT count(*) - 1 AS intervals, max(1e-9, (max(wall_ns) - min(wall_ns)) / 60e9) AS minutes\n"   \
    "          FROM series),\n"                                                                                \
    "ends AS (SELECT name, coalesce(qualname, name) AS type, module,\n"                                      \
    "                sum(CASE WHEN snapshot_id = ?1 THEN count ELSE -count END) AS count_delta,\n"             \
    "                sum(CASE WHEN snapshot_id = ?1 THEN 1 ELSE -1 END\n"                                      \
    "                    * coalesce(nullif(allocated_bytes, 0), sizeof_bytes, 0)) AS bytes_delta\n"            \
    "           FROM py_types WHERE snapshot_id IN (?1, ?3) AND ?1 <> ?3 GROUP BY 1, 2, 3),\n"                 \
    /* the types worth following through every snapshot: the largest changes */                              \
    "cand AS (SELECT * FROM (SELECT *,\n"                                                                     \
    "           row_number() OVER (PARTITION BY module IS NULL OR module = 'builtins'\n"                        \
    "                              ORDER BY bytes_delta DESC) AS r1,\n"                                        \
    "           row_number() OVER (ORDER BY count_delta DESC) AS r2,\n"                                        \
    "           row_number() OVER (ORDER BY bytes_delta) AS r3 FROM ends\n"                                    \
    "          WHERE count_delta <> 0 OR bytes_delta <> 0)\n"                                                  \
    "         WHERE r1 <= 5 * ?2 OR r2 <= 5 * ?2 OR r3 <= 5 * ?2),\n"                                          \
    "rows AS (SELECT t.name, coalesce(t.qualname, t.name) AS type, s.id, s.wall_ns, t.count,\n"               \
    "                coalesce(nullif(t.allocated_bytes, 0), t.sizeof_bytes, 0) AS bytes\n"                       \
    "           FROM series s JOIN py_types t ON t.snapshot_id = s.id\n"                                        \
    "          WHERE t.name IN (SELECT name FROM cand)),\n"                                                      \
    "steps AS (SELECT *, count - lag(count) OVER w AS dc, bytes - lag(bytes) OVER w AS db\n"                   \
    "            FROM rows WINDOW w AS (PARTITION BY type, name ORDER BY wall_ns, id)),\n"                     \
    "per AS (SELECT c.type, c.module, c.count_delta, c.bytes_delta, sum(st.dc > 0) AS count_up,\n"           \
    "               sum(st.db > 0) AS bytes_up\n"                                                             \
    "          FROM cand c JOIN steps st ON st.name = c.name AND st.type = c.type\n"                           \
    "         GROUP BY c.type, c.name, c.module)\n"

static const char *SQL_TREND_TYPES = SQL_TYPE_SERIES
    "SELECT type, count_delta, bytes_delta, bytes_delta / n.minutes AS bytes_per_min,\n"
    "       count_up || '/' || n.intervals AS count_grew, bytes_up || '/' || n.intervals AS bytes_grew\n"
    "  FROM per, n WHERE bytes_delta <> 0 OR count_delta <> 0\n"
    " ORDER BY abs(bytes_delta) DESC, type LIMIT ?2";

static const char *SQL_TREND_SUSPECTS = SQL_TYPE_SERIES
    "SELECT row_number() OVER (ORDER BY module IS NULL OR module = 'builtins', bytes_delta DESC, type) AS rank,\n"
    "       type, CASE WHEN module IS NULL OR module = 'builtins' THEN 'builtin' ELSE 'class' END AS kind,\n"
    "       count_delta, bytes_delta, bytes_delta / n.minutes AS bytes_per_min,\n"
    "       count_up || '/' || n.intervals AS count_grew, bytes_up || '/' || n.intervals AS bytes_grew\n"
    "  FROM per, n\n"
    " WHERE n.intervals >= 2 AND (count_delta > 0 OR bytes_delta > 0)\n"
    "   AND 3 * max(count_up, bytes_up) >= 2 * n.intervals\n"
    " ORDER BY rank LIMIT ?2";

static void sparkline(an_ctx *c, int64_t last)
{
    static const char *bars[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
                                 "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char *sql = SQL_SERIES "SELECT rss FROM series ORDER BY wall_ns, id";
    int64_t v[1] = {last};
    sqlite3_stmt *st = prepare(c, "RSS series", sql, v, 1);
    if (!st) return;
    double *x = NULL, lo = INFINITY, hi = -INFINITY;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        double *nx = realloc(x, (n + 1) * sizeof *x);
        if (!nx) break;
        x = nx;
        x[n] = sqlite3_column_double(st, 0);
        if (x[n] < lo) lo = x[n];
        if (x[n] > hi) hi = x[n];
        n++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) step_failed(c, "RSS series");
    sqlite3_finalize(st);
    if (n) {
        /* at most 72 columns: each shows the largest RSS of its share of the series */
        size_t cols = n < 72 ? n : 72;
        char a[32], b[32];
        fprintf(c->out, "\nRSS over time (%zu snapshots, %s .. %s)\n  ", n, an_bytes(a, sizeof a, lo, 0),
                an_bytes(b, sizeof b, hi, 0));
        for (size_t k = 0; k < cols; k++) {
            double m = -INFINITY;
            for (size_t i = k * n / cols; i < (k + 1) * n / cols; i++) m = x[i] > m ? x[i] : m;
            int level = hi > lo ? (int)((m - lo) / (hi - lo) * 7.0 + 0.5) : 0;
            fputs(bars[level < 0 ? 0 : level > 7 ? 7 : level], c->out);
        }
        fputs("\n", c->out);
    }
    free(x);
}

int an_trend(an_ctx *c, int64_t last, int top)
{
    int64_t v[3] = {last, top, an_first_of_process(c->db, last)};
    double s[6];
    an_begin(c);
    if (headline(c, "last_snapshot", last) < 0) goto out;
    if (numbers(c, "series", SQL_TREND_SUMMARY, v, 1, s, 6) < 0) goto out;
    if (c->json) {
        if (section(c, "series", "series", SQL_TREND_SUMMARY, v, 1, 1, NULL) < 0) goto out;
        if (section(c, "points", "points", SQL_TREND_POINTS, v, 1, 0, NULL) < 0) goto out;
    } else {
        char a[32], b[32], d[32];
        fprintf(c->out, "Series: %.0f snapshots over %.1f s; RSS %s -> %s (%s)\n", s[0], s[1],
                an_bytes(a, sizeof a, s[2], 0), an_bytes(b, sizeof b, s[3], 0), an_bytes(d, sizeof d, s[3] - s[2], 1));
        sparkline(c, last);
        if (s[0] <= 12 && section(c, "points", "Snapshots", SQL_TREND_POINTS, v, 1, 0, NULL) < 0) goto out;
    }
    if (s[0] < 2 && !c->json) {
        fprintf(c->out, "\nOnly one snapshot of this process: capture a series (memsnap-capture -i SECONDS) to see "
                        "growth.\n");
        goto out;
    }
    if (section(c, "groups", "Growth per part (first to last snapshot)", SQL_TREND_GROUPS, v, 3, 0, NULL) < 0)
        goto out;
    if (section(c, "types", "Growth per type (first to last snapshot, by bytes)", SQL_TREND_TYPES, v, 3, 0, NULL) < 0)
        goto out;
    if (section(c, "leak_suspects",
                "Leak suspects: types that grew in most intervals (classes first, then by bytes per minute)",
                SQL_TREND_SUSPECTS, v, 3, 0, s[0] >= 3 ? "none" : "need at least 3 snapshots") < 0)
        goto out;
out:
    an_end(c);
    return c->failed ? -1 : 0;
}

/*
 * query.c - runs the SQL of `memsnap sql` and formats its result: an
 * aligned table for people, CSV and JSON for scripts.
 *
 * The table is aligned on the widths of its first TABLE_BUFFER_ROWS rows
 * (kept in memory); rows after those stream out with the same widths, so
 * a huge result does not have to fit in memory.
 */
#include "query.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

#define TABLE_BUFFER_ROWS 10000

/* --------------------------------------------------------------- values */

void query_format_double(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* keep a REAL recognisable as one: 2.0 prints "2.0", not "2" */
    if (!strpbrk(buf, ".eE") && strlen(buf) + 3 <= len) strcat(buf, ".0");
}

static const char hexdig[] = "0123456789abcdef";

/* A cell as text for the table and CSV formats: malloc'd, NUL-terminated.
 * NULL values give "" (and *is_null = 1). */
static char *cell_text(sqlite3_stmt *st, int i, int *is_number, int *is_null)
{
    int type = sqlite3_column_type(st, i);
    *is_number = type == SQLITE_INTEGER || type == SQLITE_FLOAT;
    *is_null = type == SQLITE_NULL;
    char num[40];
    if (type == SQLITE_INTEGER) {
        snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, i));
        return strdup(num);
    }
    if (type == SQLITE_FLOAT) {
        query_format_double(num, sizeof num, sqlite3_column_double(st, i));
        return strdup(num);
    }
    if (type == SQLITE_NULL) return strdup("");
    if (type == SQLITE_BLOB) {
        const unsigned char *b = sqlite3_column_blob(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        char *s = malloc(2 * n + 1);
        if (!s) return NULL;
        for (size_t k = 0; k < n; k++) {
            s[2 * k] = hexdig[b[k] >> 4];
            s[2 * k + 1] = hexdig[b[k] & 15];
        }
        s[2 * n] = '\0';
        return s;
    }
    const char *t = (const char *)sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, t, n);
    s[n] = '\0';
    return s;
}

/* Display width of UTF-8 text: code points, control characters shown
 * escaped (2 columns). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) == 0x80) continue;
        w += *p < 0x20 || *p == 0x7f ? 2 : 1;
    }
    return w;
}

static void put_text_escaped(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20 || *p == 0x7f)
            fputs("\\?", out);
        else
            putc(*p, out);
    }
}

static void pad(FILE *out, size_t n)
{
    while (n--) putc(' ', out);
}

/* ---------------------------------------------------------------- table */

typedef struct {
    char **cells;     /* nrows * ncols texts */
    unsigned char *num; /* nrows * ncols: 1 if right-aligned */
    size_t nrows, cap;
} row_buf;

/* One line of the table. Spaces are written only before text, so that no
 * line ends in spaces (an empty last cell leaves none). */
static void table_line(FILE *out, int ncols, const size_t *width, char **cells, const unsigned char *num)
{
    size_t pending = 0;
    for (int i = 0; i < ncols; i++) {
        size_t w = text_width(cells[i]), fill = width[i] > w ? width[i] - w : 0;
        if (num[i]) pending += fill;
        if (cells[i][0]) {
            pad(out, pending);
            pending = 0;
            put_text_escaped(out, cells[i]);
        }
        if (!num[i]) pending += fill;
        pending += 2;
    }
    putc('\n', out);
}

static int output_table(sqlite3_stmt *st, FILE *out, int *rc)
{
    int ncols = sqlite3_column_count(st);
    size_t *width = calloc((size_t)ncols, sizeof *width);
    char **hdr = calloc((size_t)ncols, sizeof *hdr);
    unsigned char *hnum = calloc((size_t)ncols, 1);
    row_buf b = {0};
    int ok = width && hdr && hnum;
    for (int i = 0; ok && i < ncols; i++) {
        const char *name = sqlite3_column_name(st, i);
        hdr[i] = strdup(name ? name : "");
        ok = hdr[i] != NULL;
        if (ok) width[i] = text_width(hdr[i]);
    }
    /* buffer the first rows */
    while (ok && b.nrows < TABLE_BUFFER_ROWS && (*rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (b.nrows == b.cap) {
            size_t cap = b.cap ? b.cap * 2 : 64;
            char **c = realloc(b.cells, cap * (size_t)ncols * sizeof *c);
            if (!c) {
                ok = 0;
                break;
            }
            b.cells = c;
            unsigned char *nm = realloc(b.num, cap * (size_t)ncols);
            if (!nm) {
                ok = 0;
                break;
            }
            b.num = nm;
            b.cap = cap;
        }
        for (int i = 0; i < ncols; i++) {
            int isnum, isnull;
            size_t k = b.nrows * (size_t)ncols + (size_t)i;
            b.cells[k] = cell_text(st, i, &isnum, &isnull);
            b.num[k] = (unsigned char)isnum;
            if (!b.cells[k]) {
                for (int j = i; j < ncols; j++) b.cells[b.nrows * (size_t)ncols + (size_t)j] = NULL;
                b.nrows++;
                ok = 0;
                break;
            }
            if (isnum) hnum[i] = 1;
            size_t w = text_width(b.cells[k]);
            if (w > width[i]) width[i] = w;
        }
        if (ok) b.nrows++;
    }
    if (ok) {
        table_line(out, ncols, width, hdr, hnum);
        for (int i = 0; i < ncols; i++) {
            for (size_t k = 0; k < width[i]; k++) putc('-', out);
            fputs(i + 1 < ncols ? "  " : "\n", out);
        }
        for (size_t r = 0; r < b.nrows; r++)
            table_line(out, ncols, width, b.cells + r * (size_t)ncols, b.num + r * (size_t)ncols);
    }
    /* stream the rest with the same widths */
    if (ok && *rc == SQLITE_ROW) {
        char **cells = calloc((size_t)ncols, sizeof *cells);
        unsigned char *num = calloc((size_t)ncols, 1);
        ok = cells && num;
        while (ok && (*rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < ncols; i++) {
                int isnum, isnull;
                free(cells[i]);
                cells[i] = cell_text(st, i, &isnum, &isnull);
                num[i] = (unsigned char)isnum;
                if (!cells[i]) ok = 0;
            }
            if (ok) table_line(out, ncols, width, cells, num);
        }
        for (int i = 0; cells && i < ncols; i++) free(cells[i]);
        free(cells);
        free(num);
    }
    for (size_t k = 0; k < b.nrows * (size_t)ncols; k++) free(b.cells[k]);
    free(b.cells);
    free(b.num);
    for (int i = 0; hdr && i < ncols; i++) free(hdr[i]);
    free(hdr);
    free(hnum);
    free(width);
    if (!ok) *rc = SQLITE_NOMEM;
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ CSV */

static void csv_field(FILE *out, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        fwrite(s, 1, n, out);
        return;
    }
    putc('"', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') putc('"', out);
        putc(s[i], out);
    }
    putc('"', out);
}

static int output_csv(sqlite3_stmt *st, FILE *out, int *rc)
{
    int ncols = sqlite3_column_count(st);
    for (int i = 0; i < ncols; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i) putc(',', out);
        csv_field(out, name ? name : "", name ? strlen(name) : 0);
    }
    fputs("\r\n", out);
    while ((*rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncols; i++) {
            if (i) putc(',', out);
            int type = sqlite3_column_type(st, i);
            if (type == SQLITE_TEXT) {
                const char *t = (const char *)sqlite3_column_text(st, i);
                csv_field(out, t, (size_t)sqlite3_column_bytes(st, i));
            } else if (type != SQLITE_NULL) {
                int isnum, isnull;
                char *s = cell_text(st, i, &isnum, &isnull);
                if (!s) {
                    *rc = SQLITE_NOMEM;
                    return -1;
                }
                fputs(s, out);
                free(s);
            }
        }
        fputs("\r\n", out);
    }
    return 0;
}

/* ----------------------------------------------------------------- JSON */

static int output_json(sqlite3_stmt *st, FILE *out, int *rc)
{
    int ncols = sqlite3_column_count(st);
    char **keys = calloc((size_t)ncols ? (size_t)ncols : 1, sizeof *keys);
    if (!keys) {
        *rc = SQLITE_NOMEM;
        return -1;
    }
    /* Duplicate names (SELECT a.x, b.x) would make keys collide: the
     * second becomes "x:2", the third "x:3". */
    for (int i = 0; i < ncols; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (!name) name = "";
        int dup = 1;
        for (int k = 0; k < i; k++)
            if (!strcmp(sqlite3_column_name(st, k) ? sqlite3_column_name(st, k) : "", name)) dup++;
        size_t n = strlen(name) + 16;
        keys[i] = malloc(n);
        if (!keys[i]) {
            *rc = SQLITE_NOMEM;
            break;
        }
        if (dup > 1)
            snprintf(keys[i], n, "%s:%d", name, dup);
        else
            snprintf(keys[i], n, "%s", name);
    }
    size_t nrows = 0;
    if (*rc != SQLITE_NOMEM) {
        putc('[', out);
        while ((*rc = sqlite3_step(st)) == SQLITE_ROW) {
            fputs(nrows++ ? ",\n{" : "\n{", out);
            for (int i = 0; i < ncols; i++) {
                if (i) putc(',', out);
                json_str(out, keys[i]);
                putc(':', out);
                int type = sqlite3_column_type(st, i);
                if (type == SQLITE_INTEGER) {
                    fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i));
                } else if (type == SQLITE_FLOAT) {
                    double v = sqlite3_column_double(st, i);
                    char num[40];
                    query_format_double(num, sizeof num, v);
                    fputs(isfinite(v) ? num : "null", out);
                } else if (type == SQLITE_TEXT) {
                    const char *t = (const char *)sqlite3_column_text(st, i);
                    json_bytes(out, t, (size_t)sqlite3_column_bytes(st, i));
                } else if (type == SQLITE_BLOB) {
                    json_hex(out, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
                } else {
                    fputs("null", out);
                }
            }
            putc('}', out);
        }
        fputs(nrows ? "\n]\n" : "]\n", out);
    }
    for (int i = 0; i < ncols; i++) free(keys[i]);
    free(keys);
    return *rc == SQLITE_NOMEM ? -1 : 0;
}

/* ---------------------------------------------------------------- errors */

void query_show_position(FILE *err, const char *sql, size_t len, size_t offset)
{
    if (offset > len) offset = len;
    size_t ls = offset, le = offset;
    while (ls > 0 && sql[ls - 1] != '\n') ls--;
    while (le < len && sql[le] != '\n') le++;
    /* a long line: show a window around the position */
    size_t from = ls, to = le;
    if (offset - from > 60) {
        from = offset - 50;
        while (from < offset && (sql[from] & 0xc0) == 0x80) from++;
    }
    if (to - offset > 60) {
        to = offset + 50;
        while (to > offset && (sql[to] & 0xc0) == 0x80) to--;
    }
    fputs("  ", err);
    if (from > ls) fputs("...", err);
    for (size_t i = from; i < to; i++) putc(sql[i] == '\r' ? ' ' : sql[i], err);
    if (to < le) fputs("...", err);
    fputs("\n  ", err);
    if (from > ls) fputs("   ", err);
    for (size_t i = from; i < offset; i++) {
        if ((sql[i] & 0xc0) == 0x80) continue;
        putc(sql[i] == '\t' ? '\t' : ' ', err);
    }
    fputs("^\n", err);
}

static void report_error(sqlite3 *db, const char *sql, size_t base, FILE *err, const char *prog)
{
    int off = -1;
#if SQLITE_VERSION_NUMBER >= 3038000
    off = sqlite3_error_offset(db);
#endif
    size_t len = strlen(sql);
    if (off < 0) {
        fprintf(err, "%s: %s\n", prog, sqlite3_errmsg(db));
        return;
    }
    size_t pos = base + (size_t)off;
    unsigned line = 1;
    int multiline = memchr(sql, '\n', len) != NULL;
    for (size_t i = 0; i < pos && i < len; i++) line += sql[i] == '\n';
    if (multiline)
        fprintf(err, "%s: line %u: %s\n", prog, line, sqlite3_errmsg(db));
    else
        fprintf(err, "%s: %s\n", prog, sqlite3_errmsg(db));
    query_show_position(err, sql, len, pos);
}

/* 1 if `s` holds nothing but spaces, ';' and comments. */
static int only_trivia(const char *s)
{
    for (;;) {
        while (*s && (isspace((unsigned char)*s) || *s == ';')) s++;
        if (s[0] == '-' && s[1] == '-') {
            s = strchr(s, '\n');
            if (!s) return 1;
            continue;
        }
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            if (!e) return 1;
            s = e + 2;
            continue;
        }
        return *s == '\0';
    }
}

int query_run(sqlite3 *db, const char *sql, query_format fmt, FILE *out, FILE *err, const char *prog)
{
    const char *p = sql;
    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, p, -1, &st, &tail);
        if (rc != SQLITE_OK) {
            report_error(db, sql, (size_t)(p - sql), err, prog);
            return -1;
        }
        if (!st) { /* only a comment or spaces left */
            p = tail && tail > p ? tail : p + strlen(p);
            continue;
        }
        int last = only_trivia(tail);
        if (last && sqlite3_column_count(st) > 0) {
            if (fmt == QUERY_CSV)
                output_csv(st, out, &rc);
            else if (fmt == QUERY_JSON)
                output_json(st, out, &rc);
            else
                output_table(st, out, &rc);
        } else {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            }
        }
        if (rc != SQLITE_DONE) {
            if (rc == SQLITE_NOMEM)
                fprintf(err, "%s: out of memory\n", prog);
            else
                report_error(db, sql, (size_t)(p - sql), err, prog);
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_finalize(st);
        p = tail;
        if (last) break;
    }
    return 0;
}

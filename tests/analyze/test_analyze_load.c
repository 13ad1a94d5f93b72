/*
 * test_analyze_load.c - the loader and the schema: synthetic snapshots
 * holding every section and column go into the database and come back
 * through SQL, every column checked against the snapshot's value (with its
 * conversion); reloading adds nothing; a corrupt or truncated file; a
 * read-only, locked or full database stays unchanged; the database holds
 * exactly the documented schema.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze_test_util.h"
#include "category.h"
#include "load.h"
#include "schema.h"

/* ------------------------------------------------------------ fixtures */

typedef struct {
    char *dir;
    char *db;    /* dir/test.db */
    char *good;  /* dir/good.msnap: full snapshots 0..2 */
    char *more;  /* dir/more.msnap: full snapshots 10..11 */
    char *errtext; /* what the last load wrote to its err stream */
    size_t errlen;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = at_tmpdir();
    f->db = at_path(f->dir, "test.db");
    f->good = at_path(f->dir, "good.msnap");
    f->more = at_path(f->dir, "more.msnap");
    at_full_file(f->good, 0, 3);
    at_full_file(f->more, 10, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->errtext);
    free(f->db);
    free(f->good);
    free(f->more);
    at_rmdir(f->dir);
    free(f);
    return 0;
}

/* Loads `file` with `L`, capturing the messages in f->errtext. */
static load_result load(fixture *f, loader *L, const char *file, load_stats *st)
{
    free(f->errtext);
    f->errtext = NULL;
    FILE *err = open_memstream(&f->errtext, &f->errlen);
    assert_non_null(err);
    load_result r = loader_load_file(L, file, 0, st, err, "test");
    fclose(err);
    return r;
}

static loader *open_loader(const char *db)
{
    char err[768];
    loader *L = loader_open(db, 1000, err, sizeof err);
    if (!L) fail_msg("loader_open: %s", err);
    return L;
}

/* Loads the files into f->db with a new loader, asserting success. */
static void load_ok(fixture *f, const char *const *files, size_t n, load_stats *st)
{
    loader *L = open_loader(f->db);
    for (size_t i = 0; i < n; i++) {
        load_result r = load(f, L, files[i], st);
        if (r != LOAD_OK) fail_msg("loading %s: %d: %s", files[i], r, f->errtext ? f->errtext : "");
    }
    char err[512];
    if (loader_finish(L, err, sizeof err) != 0) fail_msg("loader_finish: %s", err);
    assert_int_equal(loader_close(L), 0);
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

/* ------------------------------------------------- expected cell values */

typedef struct {
    int type;            /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_TEXT */
    int64_t i;
    char text[512];
    size_t n;
} cell;

static void cell_int(cell *c, int64_t v)
{
    c->type = SQLITE_INTEGER;
    c->i = v;
}

static void cell_text(cell *c, const void *p, size_t n)
{
    assert_true(n < sizeof c->text);
    c->type = SQLITE_TEXT;
    memcpy(c->text, p, n);
    c->n = n;
}

/* The categories of the full snapshot's mappings (see at_write_full), in
 * row order, and the module of the extension. Written out by hand: this
 * test must not compute them with the code it tests. */
static const char *const full_categories[] = {
    "interpreter", "interpreter", "c_heap", "python_heap", "python_extension",
    "shared_library", "file", "shmem", "stack", "kernel",
};

/* What column `c` of row `row` must hold, computed here from the snapshot
 * by this test's own reading of the documented conversions. */
static void expected(const schema_column *c, const ms_snapshot *s, size_t row, int64_t snap_id,
                     const char *file, cell *out)
{
    const ms_section *sec = c->sec && c->sec <= MS_SEC_MAX_KNOWN ? ms_snapshot_section(s, c->sec) : NULL;
    uint64_t u = 0, u2 = 0, off, comp, raw;
    int64_t v;
    const char *p;
    size_t n;
    char buf[512];
    out->type = SQLITE_NULL;
    ms_snapshot_sizes(s, &off, &comp, &raw);
    switch (c->src) {
    case SRC_ROWID: cell_int(out, snap_id); break;
    case SRC_SNAPSHOT: cell_int(out, snap_id); break;
    case SRC_ROW: cell_int(out, (int64_t)row); break;
    case SRC_MSNAP_ID:
        assert_true(ms_get_str(sec, MS_SNAP_ID, 0, &p, &n) && n == 16);
        for (size_t k = 0; k < n; k++) snprintf(buf + 2 * k, 3, "%02x", (unsigned char)p[k]);
        cell_text(out, buf, 32);
        break;
    case SRC_FILE: cell_text(out, file, strlen(file)); break;
    case SRC_OFFSET: cell_int(out, (int64_t)off); break;
    case SRC_COMPRESSED: cell_int(out, (int64_t)comp); break;
    case SRC_RAW: cell_int(out, (int64_t)raw); break;
    case SRC_FORMAT: cell_text(out, "1.1", 3); break; /* the writer's default: codec 2, format 1.1 */
    case SRC_WRITER: cell_text(out, "analyze-test 1.0", 16); break;
    case SRC_U64:
        if (ms_get_u64(sec, c->col, row, &u)) cell_int(out, (int64_t)u);
        break;
    case SRC_I64:
        if (ms_get_i64(sec, c->col, row, &v)) cell_int(out, v);
        break;
    case SRC_STR:
        if (ms_get_str(sec, c->col, row, &p, &n) && p) cell_text(out, p, n);
        break;
    case SRC_KIB:
        if (ms_get_u64(sec, c->col, row, &u)) cell_int(out, (int64_t)(u * 1024));
        break;
    case SRC_LIMIT:
        if (ms_get_u64(sec, c->col, row, &u) && u != UINT64_MAX) cell_int(out, (int64_t)u);
        break;
    case SRC_BIT:
        if (ms_get_u64(sec, c->col, row, &u)) cell_int(out, (int64_t)((u >> c->bit) & 1));
        break;
    case SRC_ISO_TIME:
        if (ms_get_u64(sec, c->col, row, &u)) {
            time_t t = (time_t)(u / 1000000000u);
            struct tm tm;
            gmtime_r(&t, &tm);
            n = (size_t)snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                 (int)(u / 1000000u % 1000u));
            cell_text(out, buf, n);
        }
        break;
    case SRC_PERMS:
        if (ms_get_u64(sec, c->col, row, &u)) {
            buf[0] = u & 1 ? 'r' : '-';
            buf[1] = u & 2 ? 'w' : '-';
            buf[2] = u & 4 ? 'x' : '-';
            buf[3] = u & 8 ? 's' : u & 16 ? 'p' : '-';
            cell_text(out, buf, 4);
        }
        break;
    case SRC_DEV:
        if (ms_get_u64(sec, c->col, row, &u) && ms_get_u64(sec, c->col2, row, &u2)) {
            n = (size_t)snprintf(buf, sizeof buf, "%02" PRIx64 ":%02" PRIx64, u, u2);
            cell_text(out, buf, n);
        }
        break;
    case SRC_CMDLINE:
        if (ms_get_str(sec, c->col, row, &p, &n) && p) {
            while (n && p[n - 1] == '\0') n--;
            for (size_t k = 0; k < n; k++) buf[k] = p[k] ? p[k] : ' ';
            cell_text(out, buf, n);
        }
        break;
    case SRC_KV_BYTES:
        if (ms_get_u64(sec, c->col, row, &u) && ms_get_str(sec, c->col2, row, &p, &n) && p && n == 2 &&
            !memcmp(p, "kB", 2))
            cell_int(out, (int64_t)(u * 1024));
        break;
    case SRC_ROLLUP:
        for (size_t k = 0; k < ms_section_nrows(sec); k++)
            if (ms_get_str(sec, MS_KV_NAME, k, &p, &n) && p && n == strlen(c->arg) && !memcmp(p, c->arg, n)) {
                ms_get_u64(sec, MS_KV_VALUE, k, &u);
                cell_int(out, (int64_t)(u * 1024));
                break;
            }
        break;
    case SRC_DIAG_STATUS: {
        static const char *const words[] = {"complete", "approximate", "unavailable", "best-effort", "info"};
        if (ms_get_u64(sec, c->col, row, &u)) cell_text(out, words[u], strlen(words[u]));
        break;
    }
    case SRC_CATEGORY:
        assert_true(row < sizeof full_categories / sizeof full_categories[0]);
        cell_text(out, full_categories[row], strlen(full_categories[row]));
        break;
    case SRC_MODULE:
        if (!strcmp(full_categories[row], "python_extension")) cell_text(out, "_json", 5);
        break;
    case SRC_QUALIFIED: {
        const char *q;
        size_t qn;
        if (ms_get_str(sec, c->col, row, &p, &n) && p && ms_get_str(sec, c->col2, row, &q, &qn) && q) {
            assert_true(n + 1 + qn < sizeof buf);
            memcpy(buf, p, n);
            buf[n] = '.';
            memcpy(buf + n + 1, q, qn);
            cell_text(out, buf, n + 1 + qn);
        }
        break;
    }
    case SRC_FIXED: fail_msg("fixed column %s in a loaded table", c->name);
    }
}

/* Checks every column of every row the database holds for snapshot
 * `s` (database id snap_id) against the snapshot. Returns cells checked. */
static size_t check_snapshot(sqlite3 *db, const ms_snapshot *s, int64_t snap_id, const char *file)
{
    size_t checked = 0;
    for (size_t ti = 0; ti < schema_ntables; ti++) {
        const schema_table *t = &schema_tables[ti];
        if (t->row_sec == SCHEMA_FIXED_SEC) continue;
        size_t want_rows = t->row_sec == 0 ? 1 : ms_section_nrows(ms_snapshot_section(s, t->row_sec));
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s = %" PRId64 " ORDER BY rowid", t->name,
                 t->row_sec == 0 ? "id" : "snapshot_id", snap_id);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        assert_int_equal((size_t)sqlite3_column_count(st), t->ncols);
        size_t row = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            assert_true(row < want_rows);
            for (size_t k = 0; k < t->ncols; k++) {
                const schema_column *c = &t->cols[k];
                cell want;
                expected(c, s, row, snap_id, file, &want);
                int got = sqlite3_column_type(st, (int)k);
                if (got != want.type)
                    fail_msg("%s.%s row %zu: type %d, want %d", t->name, c->name, row, got, want.type);
                if (got == SQLITE_INTEGER && sqlite3_column_int64(st, (int)k) != want.i)
                    fail_msg("%s.%s row %zu: %lld, want %lld", t->name, c->name, row,
                             (long long)sqlite3_column_int64(st, (int)k), (long long)want.i);
                if (got == SQLITE_TEXT) {
                    const void *p = sqlite3_column_text(st, (int)k);
                    size_t n = (size_t)sqlite3_column_bytes(st, (int)k);
                    if (n != want.n || memcmp(p, want.text, n))
                        fail_msg("%s.%s row %zu: '%.*s', want '%.*s'", t->name, c->name, row, (int)n,
                                 (const char *)p, (int)want.n, want.text);
                }
                checked++;
            }
            row++;
        }
        sqlite3_finalize(st);
        if (row != want_rows) fail_msg("%s: %zu rows for snapshot %" PRId64 ", want %zu", t->name, row, snap_id, want_rows);
    }
    return checked;
}

/* --------------------------------------------------------------- tests */

/* The synthetic snapshot really holds every section and column of the
 * format, and every one of them is the source of a database column. */
static void test_every_format_column_is_loaded(void **state)
{
    (void)state;
    char *dir = at_tmpdir(), *path = at_path(dir, "one.msnap");
    at_full_file(path, 0, 1);
    int err;
    ms_reader *r = ms_reader_open(path, 0, &err, NULL, 0);
    assert_non_null(r);
    ms_snapshot *s;
    at_ok(ms_reader_next(r, &s));
    for (unsigned type = MS_SEC_SNAPSHOT; type <= MS_SEC_MAX_KNOWN; type++) {
        const ms_section *sec = ms_snapshot_section(s, type);
        if (!sec) fail_msg("the full snapshot lacks section %s", ms_section_name(type));
        for (unsigned col = 1; col < 64; col++) {
            const char *name;
            if (ms_column_info(type, col, &name, NULL) != 0) continue;
            if (!ms_section_has(sec, col)) fail_msg("the full snapshot lacks %s.%s", ms_section_name(type), name);
            /* the same pid is recorded twice by the format: snapshots.pid is snapshot.pid */
            if (type == MS_SEC_PROCESS && col == MS_PROC_PID) continue;
            int found = 0;
            for (size_t ti = 0; ti < schema_ntables && !found; ti++)
                for (size_t k = 0; k < schema_tables[ti].ncols; k++) {
                    const schema_column *c = &schema_tables[ti].cols[k];
                    if (c->sec == type && (c->col == col ||
                                           ((c->src == SRC_DEV || c->src == SRC_QUALIFIED) && c->col2 == col) ||
                                           (c->src == SRC_ROLLUP))) {
                        found = 1;
                        break;
                    }
                }
            if (!found) fail_msg("%s.%s is loaded into no column", ms_section_name(type), name);
        }
    }
    ms_snapshot_free(s);
    ms_reader_close(r);
    free(path);
    at_rmdir(dir);
}

static void test_roundtrip_every_column(void **state)
{
    fixture *f = *state;
    const char *files[] = {f->good, f->more};
    load_stats st = {0};
    load_ok(f, files, 2, &st);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.snapshots, 5);
    assert_int_equal(st.skipped, 0);

    sqlite3 *db = open_db(f->db);
    assert_int_equal(at_total_rows(db), (int64_t)st.rows);
    size_t checked = 0;
    for (int k = 0; k < 2; k++) {
        int err;
        ms_reader *r = ms_reader_open(files[k], 0, &err, NULL, 0);
        assert_non_null(r);
        ms_snapshot *s;
        while (ms_reader_next(r, &s) == 0) {
            const char *id;
            size_t n;
            char hex[40];
            assert_true(ms_get_str(ms_snapshot_section(s, MS_SEC_SNAPSHOT), MS_SNAP_ID, 0, &id, &n));
            for (size_t i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", (unsigned char)id[i]);
            int64_t sid = at_sql_int(db, "SELECT id FROM snapshots WHERE msnap_id = '%s'", hex);
            checked += check_snapshot(db, s, sid, files[k]);
            ms_snapshot_free(s);
        }
        ms_reader_close(r);
    }
    print_message("checked %zu cells of %" PRIu64 " rows against the snapshots\n", checked, st.rows);
    assert_true(checked > 5 * 200);
    sqlite3_close(db);
}

/* A few values written out literally, so that a conversion wrong in the
 * same way here and in the loader still fails. */
static void test_literal_values(void **state)
{
    fixture *f = *state;
    const char *files[] = {f->good};
    load_stats st = {0};
    load_ok(f, files, 1, &st);
    sqlite3 *db = open_db(f->db);
    int64_t s0 = at_sql_int(db, "SELECT id FROM snapshots WHERE seq = 0");
    assert_int_equal(at_sql_int(db, "SELECT wall_time = '2026-01-01T00:00:00.123Z' FROM snapshots WHERE id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT cmdline = 'python3 -c import app; app.run()' FROM snapshots WHERE id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT mem_total FROM snapshots WHERE id = %lld", (long long)s0), 16384000LL * 1024);
    assert_int_equal(at_sql_int(db, "SELECT rss FROM snapshots WHERE id = %lld", (long long)s0), 40000LL * 1024);
    assert_int_equal(at_sql_int(db, "SELECT swap FROM snapshots WHERE id = %lld", (long long)s0), 43000LL * 1024);
    assert_int_equal(at_sql_int(db, "SELECT oom_score_adj FROM snapshots WHERE id = %lld", (long long)s0), -500);
    assert_int_equal(at_sql_int(db, "SELECT msnap_id = 'a0a7aeb5bcc3cad1d8dfe6edf4fb0209' FROM snapshots WHERE id = %lld", (long long)s0), 1);
    /* mapping 1: r-xp, device fe:02, Rss is column 13: 13*100 + 1*10 + 0 KiB */
    assert_int_equal(at_sql_int(db, "SELECT perms = 'r-xp' AND dev = 'fe:02' AND rss = 1310 * 1024 FROM mappings WHERE snapshot_id = %lld AND idx = 1", (long long)s0), 1);
    /* [vsyscall] starts above 2^63: stored wrapped, printed exactly in hex */
    assert_int_equal(at_sql_int(db, "SELECT start FROM mappings WHERE path = '[vsyscall]' AND snapshot_id = %lld", (long long)s0), -10485760);
    assert_int_equal(at_sql_int(db, "SELECT printf('%%x', start) = 'ffffffffff600000' AND end - start = 4096 FROM mappings WHERE path = '[vsyscall]' AND snapshot_id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT deleted FROM mappings WHERE path = CAST(x'2f646174612ffffe2d626c6f622e62696e' AS TEXT) AND snapshot_id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT max IS NULL AND swap_max IS NULL AND high = 1073741824 FROM cgroups WHERE snapshot_id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT value_bytes FROM process_status WHERE name = 'VmRSS' AND snapshot_id = %lld", (long long)s0), 51200LL * 1024);
    assert_int_equal(at_sql_int(db, "SELECT value_bytes IS NULL FROM process_status WHERE name = 'Threads' AND snapshot_id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT gc_tracked * 100 + approximate * 10 + count_incomplete FROM py_types WHERE name = 'MyRecord' AND snapshot_id = %lld", (long long)s0), 111);
    /* the format stores module and __qualname__ apart; qualname joins them, for heap types only */
    assert_int_equal(at_sql_int(db, "SELECT qualname = 'app.models.MyRecord' AND module = 'app.models' FROM py_types WHERE name = 'MyRecord' AND snapshot_id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM py_types WHERE name IN ('dict', 'str') AND qualname IS NULL AND module IS NULL AND snapshot_id = %lld", (long long)s0), 2);
    assert_int_equal(at_sql_int(db, "SELECT shared_libpython + 2 * pie + 4 * stripped + 8 * debug FROM py_runtime WHERE snapshot_id = %lld", (long long)s0), 7);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM diagnostics WHERE status_text = 'best-effort' AND snapshot_id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT module = '_json' FROM mappings WHERE category = 'python_extension' AND snapshot_id = %lld", (long long)s0), 1);
    /* the views */
    assert_int_equal(at_sql_int(db, "SELECT rss FROM category_totals WHERE category = 'kernel' AND snapshot_id = %lld", (long long)s0), 1390LL * 1024);
    assert_int_equal(at_sql_int(db, "SELECT name = 'MyRecord' AND qualname = 'app.models.MyRecord' AND module = 'app.models' FROM top_types WHERE rank = 1 AND snapshot_id = %lld", (long long)s0), 1);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM library_totals WHERE snapshot_id = %lld", (long long)s0), 3);
    assert_int_equal(at_sql_int(db, "SELECT warnings = 3 AND types = 3 AND python_heap_rss = 1330 * 1024 FROM snapshot_summary WHERE snapshot_id = %lld", (long long)s0), 1);
    sqlite3_close(db);
}

static void test_idempotent_reload(void **state)
{
    fixture *f = *state;
    const char *files[] = {f->good, f->more};
    load_stats st = {0};
    load_ok(f, files, 2, &st);
    sqlite3 *db = open_db(f->db);
    int64_t rows = at_total_rows(db);
    size_t len0;
    sqlite3_close(db);
    unsigned char *before = at_read_file(f->db, &len0);

    load_stats again = {0};
    const char *twice[] = {f->more, f->good, f->good};
    load_ok(f, twice, 3, &again);
    assert_int_equal(again.snapshots, 0);
    assert_int_equal(again.skipped, 8);
    assert_int_equal(again.rows, 0);
    db = open_db(f->db);
    assert_int_equal(at_total_rows(db), rows);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots"), 5);
    sqlite3_close(db);
    size_t len1;
    unsigned char *after = at_read_file(f->db, &len1);
    assert_int_equal(len0, len1);
    free(before);
    free(after);
}

/* A corrupt file among good ones: it is reported with its byte offset,
 * nothing of it stays, the others load. */
static void test_corrupt_among_good(void **state)
{
    fixture *f = *state;
    char *bad = at_path(f->dir, "bad.msnap");
    at_full_file(bad, 20, 3);
    size_t len;
    unsigned char *b = at_read_file(bad, &len);
    b[len - 100] ^= 0x5a; /* inside the third snapshot's payload: two good snapshots come first */
    FILE *out = fopen(bad, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(b, 1, len, out), len);
    fclose(out);
    free(b);

    loader *L = open_loader(f->db);
    load_stats st = {0};
    assert_int_equal(load(f, L, f->good, &st), LOAD_OK);
    assert_int_equal(load(f, L, bad, &st), LOAD_FILE_FAILED);
    assert_non_null(strstr(f->errtext, "bad.msnap: byte "));
    assert_non_null(strstr(f->errtext, "[MS_ERR_CHECKSUM]: nothing from this file was loaded"));
    assert_int_equal(load(f, L, f->more, &st), LOAD_OK);
    assert_int_equal(loader_close(L), 0);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.files_failed, 1);
    assert_int_equal(st.snapshots, 5);

    sqlite3 *db = open_db(f->db);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots"), 5);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots WHERE source_file LIKE '%%bad.msnap'"), 0);
    assert_int_equal(at_total_rows(db), (int64_t)st.rows);
    sqlite3_close(db);
    free(bad);
}

static void test_truncated_tail(void **state)
{
    fixture *f = *state;
    char *cut = at_path(f->dir, "cut.msnap");
    size_t len;
    unsigned char *b = at_read_file(f->good, &len);
    FILE *out = fopen(cut, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(b, 1, len - 9, out), len - 9);
    fclose(out);
    free(b);

    loader *L = open_loader(f->db);
    load_stats st = {0};
    assert_int_equal(load(f, L, cut, &st), LOAD_TRUNCATED);
    assert_non_null(strstr(f->errtext, "test: warning: "));
    assert_non_null(strstr(f->errtext, "(the 2 complete snapshots before it are loaded)"));
    assert_int_equal(loader_close(L), 0);
    assert_int_equal(st.snapshots, 2);
    sqlite3 *db = open_db(f->db);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots"), 2);
    sqlite3_close(db);
    free(cut);
}

/* Builds f->db with the good file, and returns its bytes. */
static unsigned char *make_db(fixture *f, size_t *len)
{
    const char *files[] = {f->good};
    load_stats st = {0};
    load_ok(f, files, 1, &st);
    return at_read_file(f->db, len);
}

static void assert_db_unchanged(fixture *f, const unsigned char *before, size_t len)
{
    size_t n;
    unsigned char *now = at_read_file(f->db, &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, before, len);
    free(now);
    char *journal = at_path(f->dir, "test.db-journal");
    assert_int_not_equal(access(journal, F_OK), 0);
    free(journal);
}

static void test_readonly_db(void **state)
{
    fixture *f = *state;
    size_t len;
    unsigned char *before = make_db(f, &len);

    /* a connection that may not write (what a read-only file or file
     * system gives): the loader refuses at once, with the reason */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char err[768];
    loader *L = loader_attach(db, err, sizeof err);
    assert_null(L);
    assert_non_null(strstr(err, "database is read-only"));
    sqlite3_close(db);

    /* file mode 0444: root ignores it, so this part needs another user */
    assert_int_equal(chmod(f->db, 0444), 0);
    if (geteuid() != 0) {
        L = loader_open(f->db, 100, err, sizeof err);
        assert_null(L);
        assert_non_null(strstr(err, "database is read-only"));
    } else {
        print_message("SKIP: chmod 0444 part: root ignores file modes (cli_analyze covers it as another user)\n");
    }
    assert_int_equal(chmod(f->db, 0644), 0);
    assert_db_unchanged(f, before, len);
    free(before);
}

static void test_locked_db(void **state)
{
    fixture *f = *state;
    size_t len;
    unsigned char *before = make_db(f, &len);
    sqlite3 *other = open_db(f->db);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    /* locked before the loader opens */
    char err[768];
    loader *L = loader_open(f->db, 100, err, sizeof err);
    assert_null(L);
    assert_non_null(strstr(err, "database is locked by another program (waited 0.1 s)"));
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);

    /* locked between opening and loading */
    L = loader_open(f->db, 100, err, sizeof err);
    assert_non_null(L);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    load_stats st = {0};
    assert_int_equal(load(f, L, f->more, &st), LOAD_DB_FAILED);
    assert_non_null(strstr(f->errtext, "database is locked"));
    assert_non_null(strstr(f->errtext, "nothing from"));
    assert_int_equal(loader_close(L), 0);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(st.snapshots, 0);
    assert_db_unchanged(f, before, len);
    free(before);
}

/* A full disk, imitated with max_page_count (SQLite then fails exactly as
 * on ENOSPC, with SQLITE_FULL): the file's transaction rolls back. */
static void test_full_db(void **state)
{
    fixture *f = *state;
    size_t len;
    unsigned char *before = make_db(f, &len);
    char *big = at_path(f->dir, "big.msnap");
    at_full_file(big, 100, 200);

    sqlite3 *db = open_db(f->db);
    int64_t pages = at_sql_int(db, "PRAGMA page_count");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages + 2);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    char err[768];
    loader *L = loader_attach(db, err, sizeof err);
    if (!L) fail_msg("loader_attach: %s", err);
    load_stats st = {0};
    assert_int_equal(load(f, L, big, &st), LOAD_DB_FAILED);
    assert_non_null(strstr(f->errtext, "disk full"));
    assert_non_null(strstr(f->errtext, "nothing from"));
    assert_int_equal(loader_close(L), 0);
    sqlite3_close(db);
    assert_int_equal(st.snapshots, 0);
    assert_int_equal(st.files_failed, 1);
    assert_db_unchanged(f, before, len);
    free(before);
    free(big);
}

/* A snapshot without an id still loads once (its content is its identity). */
static void test_missing_id(void **state)
{
    fixture *f = *state;
    char *path = at_path(f->dir, "noid.msnap");
    int err;
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, NULL, 0, &err, NULL, 0);
    assert_non_null(w);
    for (int i = 0; i < 2; i++) {
        at_ok(ms_writer_begin(w));
        ms_table *t = ms_table_new(MS_SEC_SNAPSHOT); /* required, but its id column is not */
        at_ok(ms_table_row(t));
        at_ok(ms_table_u64(t, MS_SNAP_PID, 77 + (unsigned)i));
        at_ok(ms_writer_add(w, t));
        ms_table_free(t);
        at_ok(ms_writer_end(w, 0));
    }
    assert_int_equal(ms_writer_close(w), 0);
    const char *files[] = {path, path};
    load_stats st = {0};
    load_ok(f, files, 2, &st);
    assert_int_equal(st.snapshots, 2);
    assert_int_equal(st.skipped, 2);
    sqlite3 *db = open_db(f->db);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots WHERE msnap_id LIKE 'content-%%' AND length(msnap_id) = 24 AND pid IN (77, 78) AND comm IS NULL"), 2);
    sqlite3_close(db);
    free(path);
}

/* The database holds exactly the schema table: columns, types, order; the
 * views have the documented columns; meta and categories are filled. */
static void test_schema_in_db(void **state)
{
    fixture *f = *state;
    const char *files[] = {f->good};
    load_stats st = {0};
    load_ok(f, files, 1, &st);
    sqlite3 *db = open_db(f->db);
    assert_int_equal(at_sql_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), SCHEMA_VERSION);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM categories"), CAT_COUNT);
    for (size_t ti = 0; ti < schema_ntables; ti++) {
        const schema_table *t = &schema_tables[ti];
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT name, type FROM pragma_table_info('%s') ORDER BY cid", t->name);
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
        size_t k = 0;
        while (sqlite3_step(q) == SQLITE_ROW) {
            assert_true(k < t->ncols);
            assert_string_equal((const char *)sqlite3_column_text(q, 0), t->cols[k].name);
            assert_string_equal((const char *)sqlite3_column_text(q, 1), t->cols[k].type);
            assert_non_null(t->cols[k].doc);
            assert_non_null(t->cols[k].unit);
            k++;
        }
        sqlite3_finalize(q);
        assert_int_equal(k, t->ncols);
    }
    for (size_t vi = 0; vi < schema_nviews; vi++) {
        const schema_view *v = &schema_views[vi];
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", v->name);
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        assert_int_equal((size_t)sqlite3_column_count(q), v->ncols);
        for (size_t k = 0; k < v->ncols; k++) assert_string_equal(sqlite3_column_name(q, (int)k), v->cols[k].name);
        sqlite3_finalize(q);
    }
    for (size_t xi = 0; xi < schema_nindexes; xi++)
        assert_int_equal(at_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '%s'",
                                    schema_indexes[xi].name),
                         1);
    /* every category has its *_rss column in snapshot_summary */
    for (int c = 0; c < CAT_COUNT; c++) {
        char col[64];
        snprintf(col, sizeof col, "%s_rss", category_name((category_id)c));
        int found = 0;
        for (size_t k = 0; k < schema_nviews; k++)
            if (!strcmp(schema_views[k].name, "snapshot_summary"))
                for (size_t j = 0; j < schema_views[k].ncols; j++) found |= !strcmp(schema_views[k].cols[j].name, col);
        if (!found) fail_msg("snapshot_summary lacks %s", col);
    }
    sqlite3_close(db);
}

/* A database from a newer memsnap is not written to; a foreign one neither. */
static void test_refuses_other_databases(void **state)
{
    fixture *f = *state;
    size_t len;
    unsigned char *before = make_db(f, &len);
    sqlite3 *db = open_db(f->db);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[768];
    loader *L = loader_open(f->db, 100, err, sizeof err);
    assert_null(L);
    assert_non_null(strstr(err, "schema version 99, newer than this memsnap's"));
    free(before);

    char *other = at_path(f->dir, "other.db");
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE accounts(id INTEGER)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    L = loader_open(other, 100, err, sizeof err);
    assert_null(L);
    assert_non_null(strstr(err, "not a memsnap database"));
    free(other);
}

/* A database of schema version 1 (py_types without module) is upgraded in
 * place by the next load: the column is added, older rows read NULL. */
static void test_upgrades_version_1(void **state)
{
    fixture *f = *state;
    const char *files[] = {f->good};
    load_stats st = {0};
    load_ok(f, files, 1, &st);
    sqlite3 *db = open_db(f->db);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP VIEW top_types; ALTER TABLE py_types DROP COLUMN module;"
                                  "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM pragma_table_info('py_types') WHERE name = 'module'"), 0);
    sqlite3_close(db);
    const char *more[] = {f->more};
    load_ok(f, more, 1, &st);
    db = open_db(f->db);
    assert_int_equal(at_sql_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), SCHEMA_VERSION);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM py_types WHERE name = 'MyRecord' AND module IS NULL"), 3);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM py_types WHERE name = 'MyRecord' AND module = 'app.models'"), 2);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM top_types WHERE module = 'app.models'"), 2);
    sqlite3_close(db);
}

/* Indexes: dropped while an empty database fills, built by loader_finish;
 * a database that lost one gets it back at the next open. */
static void test_indexes_built(void **state)
{
    fixture *f = *state;
    loader *L = open_loader(f->db);
    load_stats st = {0};
    assert_int_equal(load(f, L, f->good, &st), LOAD_OK);
    sqlite3 *db = open_db(f->db);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'mappings_by_snapshot'"), 0);
    char err[512];
    assert_int_equal(loader_finish(L, err, sizeof err), 0);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'mappings_by_snapshot'"), 1);
    assert_int_equal(loader_close(L), 0);
    assert_int_equal(sqlite3_exec(db, "DROP INDEX py_types_by_snapshot", NULL, NULL, NULL), SQLITE_OK);
    L = open_loader(f->db);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'py_types_by_snapshot'"), 1);
    assert_int_equal(loader_close(L), 0);
    sqlite3_close(db);
}

int main(void)
{
    loader_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_format_column_is_loaded),
        cmocka_unit_test_setup_teardown(test_roundtrip_every_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_among_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_in_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_other_databases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes_built, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrades_version_1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

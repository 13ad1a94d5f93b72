/*
 * test_analyze_analysis.c - the analyses (analysis.h) on synthetic
 * snapshots: byte formatting; memory_parts adding up to RSS in every
 * snapshot; arena_usage; report, diff, frag and trend writing one valid
 * JSON object (checked by SQLite's json_valid) with their sections, and a
 * text report; --show-sql text; snapshot selection helpers; a failing
 * query reported, not crashing.
 */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "analyze_test_util.h"

static char *dir;
static char *file;

static int setup(void **state)
{
    (void)state;
    dir = at_tmpdir();
    file = at_path(dir, "s.msnap");
    at_full_file(file, 0, 4);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(file);
    at_rmdir(dir);
    return 0;
}

static sqlite3 *open_sample(void)
{
    int partial = 0;
    char *paths[1] = {file};
    sqlite3 *db = an_open_inputs(paths, 1, 0, stderr, "test", &partial);
    assert_non_null(db);
    assert_int_equal(partial, 0);
    return db;
}

static void test_bytes(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(an_bytes(b, sizeof b, 0, 0), "0 B");
    assert_string_equal(an_bytes(b, sizeof b, 1023, 0), "1023 B");
    assert_string_equal(an_bytes(b, sizeof b, 1024, 0), "1.0 KiB");
    assert_string_equal(an_bytes(b, sizeof b, 1536 * 1024, 1), "+1.5 MiB");
    assert_string_equal(an_bytes(b, sizeof b, -3.0 * 1024 * 1024 * 1024, 1), "-3.0 GiB");
    assert_string_equal(an_bytes(b, sizeof b, 0, 1), "0 B");
}

static void test_parts_add_up(void **state)
{
    (void)state;
    sqlite3 *db = open_sample();
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots"), 4);
    /* every snapshot: the counted parts sum to its RSS exactly */
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots s WHERE s.rss IS NOT (SELECT sum(rss) FROM "
                                    "memory_parts p WHERE p.snapshot_id = s.id AND p.counted)"),
                     0);
    /* the mapping categories are all there once, whatever the figures */
    assert_int_equal(at_sql_int(db, "SELECT count(DISTINCT grp) FROM memory_parts WHERE snapshot_id = 1 AND grp IN "
                                    "('python_heap', 'c_heap', 'interpreter', 'unexplained')"),
                     4);
    /* the pymalloc group is py_alloc_totals' figures plus the balancing line */
    assert_int_equal(at_sql_int(db, "SELECT sum(rss) FROM memory_parts WHERE snapshot_id = 1 AND grp = "
                                    "'python_heap' AND counted"),
                     at_sql_int(db, "SELECT min(t.arena_bytes, (SELECT sum(rss) FROM mappings m WHERE "
                                    "m.snapshot_id = 1 AND m.category = 'python_heap')) FROM py_alloc_totals t "
                                    "WHERE t.snapshot_id = 1"));
    /* arena_usage: utilisation and the pinned flag follow live_bytes */
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM arena_usage WHERE pinned <> (live_bytes < arena_bytes / 4)"),
                     0);
    assert_true(at_sql_int(db, "SELECT count(*) FROM arena_usage WHERE decile < 0 OR decile > 9") == 0);
    sqlite3_close(db);
}

static void test_selection(void **state)
{
    (void)state;
    sqlite3 *db = open_sample();
    assert_int_equal(an_last_snapshot(db, NULL), 4);
    assert_int_equal(an_last_snapshot(db, file), 4);
    assert_int_equal(an_last_snapshot(db, "/no/such/file"), 0);
    assert_int_equal(an_first_of_process(db, 4), 1);
    assert_int_equal(an_first_of_process(db, 99), 0);
    assert_int_equal(an_snapshot_exists(db, 2), 1);
    assert_int_equal(an_snapshot_exists(db, 5), 0);
    sqlite3_close(db);
}

/* Runs one analysis into memory; returns its stdout (malloc'd). */
static char *run(sqlite3 *db, int which, int json, int show_sql, char **err_out, int *rc)
{
    char *out = NULL, *err = NULL;
    size_t n1, n2;
    an_ctx c = {0};
    c.db = db;
    c.out = open_memstream(&out, &n1);
    c.err = open_memstream(&err, &n2);
    c.prog = "test";
    c.json = json;
    c.show_sql = show_sql;
    switch (which) {
    case 0: *rc = an_report(&c, 4, 5); break;
    case 1: *rc = an_diff(&c, 1, 4, 5); break;
    case 2: *rc = an_frag(&c, 4, 5); break;
    default: *rc = an_trend(&c, 4, 5); break;
    }
    fclose(c.out);
    fclose(c.err);
    if (err_out) *err_out = err;
    else free(err);
    return out;
}

static int json_valid(sqlite3 *db, const char *text)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_valid(?1)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_json(void **state)
{
    (void)state;
    static const char *keys[4][3] = {{"\"parts\":", "\"top_types\":", "\"diagnostics\":"},
                                     {"\"types_grown\":", "\"modules\":", "\"libraries\":"},
                                     {"\"pymalloc\":", "\"histogram\":", "\"verdict\":"},
                                     {"\"points\":", "\"groups\":", "\"leak_suspects\":"}};
    sqlite3 *db = open_sample();
    for (int k = 0; k < 4; k++) {
        int rc;
        char *err;
        char *out = run(db, k, 1, 0, &err, &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(err, "");
        if (!json_valid(db, out)) fail_msg("analysis %d: not valid JSON:\n%s", k, out);
        for (int i = 0; i < 3; i++)
            if (!strstr(out, keys[k][i])) fail_msg("analysis %d lacks %s", k, keys[k][i]);
        free(out);
        free(err);
    }
    sqlite3_close(db);
}

static void test_text_and_sql(void **state)
{
    (void)state;
    sqlite3 *db = open_sample();
    int rc;
    char *err;
    char *out = run(db, 0, 0, 1, &err, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "Where the RSS goes"));
    assert_non_null(strstr(out, "Total (= RSS)"));
    assert_non_null(strstr(out, "FROM memory_parts WHERE snapshot_id = ?1"));
    assert_null(strstr(out, " \n")); /* no trailing blanks */
    free(out);
    free(err);
    /* JSON mode: the SQL goes to err, stdout stays JSON */
    out = run(db, 2, 1, 1, &err, &rc);
    assert_int_equal(rc, 0);
    assert_true(json_valid(db, out));
    assert_non_null(strstr(err, "FROM arena_usage"));
    free(out);
    free(err);
    sqlite3_close(db);
}

static void test_sql_error(void **state)
{
    (void)state;
    sqlite3 *db = open_sample();
    /* a database without the view: the error is reported, not a crash */
    assert_int_equal(sqlite3_exec(db, "DROP VIEW memory_parts", NULL, NULL, NULL), SQLITE_OK);
    int rc;
    char *err;
    char *out = run(db, 0, 0, 0, &err, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "no such table: memory_parts"));
    free(out);
    free(err);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),        cmocka_unit_test(test_parts_add_up), cmocka_unit_test(test_selection),
        cmocka_unit_test(test_json),         cmocka_unit_test(test_text_and_sql), cmocka_unit_test(test_sql_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

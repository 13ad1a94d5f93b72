/*
 * test_analyze_query.c - `memsnap sql` output and errors: the aligned
 * table, CSV (RFC 4180) and JSON formats byte for byte, several
 * statements, and SQLite errors with the caret under the right place.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_test_util.h"
#include "query.h"

typedef struct {
    char *out, *err;
    int rc;
} result;

static result run(const char *sql, query_format fmt)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    result r = {0};
    size_t n1, n2;
    FILE *out = open_memstream(&r.out, &n1), *err = open_memstream(&r.err, &n2);
    r.rc = query_run(db, sql, fmt, out, err, "memsnap sql");
    fclose(out);
    fclose(err);
    sqlite3_close(db);
    return r;
}

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

#define ROWS                                                                                    \
    "SELECT 1 AS n, 'alpha' AS name, NULL AS empty, 2.5 AS f UNION ALL "                       \
    "SELECT 12345, 'b', 'x', -1.0"

static void test_table(void **state)
{
    (void)state;
    result r = run(ROWS, QUERY_TABLE);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "    n  name   empty     f\n"
                               "-----  -----  -----  ----\n"
                               "    1  alpha          2.5\n"
                               "12345  b      x      -1.0\n");
    assert_string_equal(r.err, "");
    result_free(&r);

    /* control characters are shown escaped and counted in the width */
    r = run("SELECT 'a' || char(10) || 'b' AS t, 'é' AS u", QUERY_TABLE);
    assert_string_equal(r.out, "t     u\n----  -\na\\nb  é\n");
    result_free(&r);

    /* no rows: the header alone */
    r = run("SELECT 1 AS x WHERE 0", QUERY_TABLE);
    assert_string_equal(r.out, "x\n-\n");
    result_free(&r);
}

static void test_table_many_rows(void **state)
{
    (void)state;
    /* more rows than are buffered for the widths: the rest streams */
    result r = run("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20005) "
                   "SELECT i FROM c",
                   QUERY_TABLE);
    assert_int_equal(r.rc, 0);
    size_t lines = 0;
    for (const char *p = r.out; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 20007);
    assert_non_null(strstr(r.out, "\n20005\n")); /* wider than the first 10000 rows: just longer */
    result_free(&r);
}

static void test_csv(void **state)
{
    (void)state;
    result r = run(ROWS, QUERY_CSV);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "n,name,empty,f\r\n1,alpha,,2.5\r\n12345,b,x,-1.0\r\n");
    result_free(&r);
    r = run("SELECT 'a,b' AS \"x,y\", 'say \"hi\"' AS q, 'two' || char(13, 10) || 'lines' AS l, x'00ff' AS b, "
            "' pad ' AS p",
            QUERY_CSV);
    assert_string_equal(r.out, "\"x,y\",q,l,b,p\r\n\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",00ff, pad \r\n");
    result_free(&r);
}

static void test_json(void **state)
{
    (void)state;
    result r = run(ROWS, QUERY_JSON);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "[\n"
                               "{\"n\":1,\"name\":\"alpha\",\"empty\":null,\"f\":2.5},\n"
                               "{\"n\":12345,\"name\":\"b\",\"empty\":\"x\",\"f\":-1.0}\n"
                               "]\n");
    result_free(&r);
    r = run("SELECT x'00ff' AS b, CAST(x'2fff' AS TEXT) AS bad, 'q\"' || char(10) AS esc, 1 AS a, 2 AS a, "
            "0.1 AS tenth, 9223372036854775807 AS big, 1e999 AS inf",
            QUERY_JSON);
    assert_string_equal(r.out, "[\n{\"b\":\"00ff\",\"bad\":{\"hex\":\"2fff\"},\"esc\":\"q\\\"\\n\",\"a\":1,"
                               "\"a:2\":2,\"tenth\":0.1,\"big\":9223372036854775807,\"inf\":null}\n]\n");
    result_free(&r);
    r = run("SELECT 1 WHERE 0", QUERY_JSON);
    assert_string_equal(r.out, "[]\n");
    result_free(&r);
}

static void test_statements(void **state)
{
    (void)state;
    /* earlier statements run for their effect; the last one's rows print */
    result r = run("CREATE TEMP TABLE t(x); INSERT INTO t VALUES (1), (2);\n"
                   "SELECT 99 AS ignored;\n"
                   "SELECT sum(x) AS total FROM t; -- a comment\n /* and another */ ;",
                   QUERY_CSV);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "total\r\n3\r\n");
    result_free(&r);
    /* a last statement without rows prints nothing */
    r = run("CREATE TEMP TABLE u(y)", QUERY_TABLE);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "");
    result_free(&r);
}

static void test_errors(void **state)
{
    (void)state;
    result r = run("SELECT nope FROM sqlite_schema", QUERY_TABLE);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "memsnap sql: no such column: nope\n"
                               "  SELECT nope FROM sqlite_schema\n"
                               "         ^\n");
    result_free(&r);

    /* in the second statement, on its third line: the line is named */
    r = run("SELECT 1;\nSELECT name,\n       type,\n       bogus\n  FROM sqlite_schema", QUERY_TABLE);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "memsnap sql: line 4: no such column: bogus\n"
                               "         bogus\n"
                               "         ^\n");
    result_free(&r);

    /* a syntax error */
    r = run("SELECT * FORM sqlite_schema", QUERY_TABLE);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "memsnap sql: near \"FORM\": syntax error\n"
                               "  SELECT * FORM sqlite_schema\n"
                               "           ^\n");
    result_free(&r);

    /* an error while running has no position: the message alone */
    r = run("SELECT abs(-9223372036854775807 - 1)", QUERY_JSON);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "memsnap sql: integer overflow\n");
    result_free(&r);
}

static void test_position_long_line(void **state)
{
    (void)state;
    char sql[400];
    memset(sql, 'a', sizeof sql);
    sql[sizeof sql - 1] = '\0';
    char *buf = NULL;
    size_t n;
    FILE *f = open_memstream(&buf, &n);
    query_show_position(f, sql, strlen(sql), 200);
    fclose(f);
    /* a window: "...", 50 characters, the caret under the 51st */
    const char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_int_equal(nl - buf, 2 + 3 + 50 + 50 + 3);
    assert_string_equal(nl + 1 + 2 + 3 + 50, "^\n");
    free(buf);
}

static void test_double(void **state)
{
    (void)state;
    char b[40];
    query_format_double(b, sizeof b, 0.1);
    assert_string_equal(b, "0.1");
    query_format_double(b, sizeof b, 2.0);
    assert_string_equal(b, "2.0");
    query_format_double(b, sizeof b, 1.0 / 3.0);
    assert_string_equal(b, "0.3333333333333333");
    query_format_double(b, sizeof b, 1e300);
    assert_string_equal(b, "1e+300");
    query_format_double(b, sizeof b, -INFINITY);
    assert_string_equal(b, "-inf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),         cmocka_unit_test(test_table_many_rows),
        cmocka_unit_test(test_csv),           cmocka_unit_test(test_json),
        cmocka_unit_test(test_statements),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_position_long_line), cmocka_unit_test(test_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_analyze_hostile.c - the loader on hostile input: every golden file,
 * golden-error file and saved fuzz input of the reader is loaded (with and
 * without checksum verification) into one database. Whatever each file
 * holds, the load must end in a defined result, a failed file must leave
 * nothing behind (the rows in the database are exactly those of the files
 * that loaded), and the database must stay sound. Under ASan and UBSan
 * this also proves the category rules and the value extraction read
 * nothing out of bounds.
 *
 * usage: test_analyze_hostile DIR...   (every regular file in each DIR)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze_test_util.h"
#include "load.h"

static char **g_dirs;
static int g_ndirs;

static void test_hostile_files(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    char err[768];
    loader *L = loader_attach(db, err, sizeof err);
    if (!L) fail_msg("%s", err);
    FILE *sink = fopen("/dev/null", "w");
    assert_non_null(sink);
    size_t files = 0, loaded = 0, failed = 0;
    load_stats st = {0};
    for (int d = 0; d < g_ndirs; d++) {
        DIR *dir = opendir(g_dirs[d]);
        if (!dir) fail_msg("cannot open %s", g_dirs[d]);
        struct dirent *e;
        while ((e = readdir(dir))) {
            char *path = at_path(g_dirs[d], e->d_name);
            struct stat sb;
            if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
                free(path);
                continue;
            }
            for (unsigned flags = 0; flags <= MS_READ_NO_CHECKSUM; flags += MS_READ_NO_CHECKSUM) {
                load_stats before = st;
                load_result r = loader_load_file(L, path, flags, &st, sink, "hostile");
                files++;
                if (r == LOAD_OK || r == LOAD_TRUNCATED) {
                    loaded++;
                } else if (r == LOAD_FILE_FAILED) {
                    failed++;
                    /* nothing of a failed file stays */
                    assert_int_equal(st.rows, before.rows);
                    assert_int_equal(st.snapshots, before.snapshots);
                } else {
                    fail_msg("%s: database failure on hostile input", path);
                }
            }
            free(path);
        }
        closedir(dir);
    }
    fclose(sink);
    assert_int_equal(loader_finish(L, err, sizeof err), 0);
    assert_int_equal(at_total_rows(db), (int64_t)st.rows);
    assert_int_equal(at_sql_int(db, "SELECT count(*) FROM snapshots"), (int64_t)st.snapshots);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    assert_int_equal(loader_close(L), 0);
    sqlite3_close(db);
    print_message("%zu loads: %zu loaded, %zu rejected; %llu snapshots, %llu rows\n", files, loaded, failed,
                  (unsigned long long)st.snapshots, (unsigned long long)st.rows);
    assert_true(files >= 20 && loaded > 0 && failed > 0);
}

int main(int argc, char **argv)
{
    g_dirs = argv + 1;
    g_ndirs = argc - 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hostile_files)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_capture_python.c - memsnap-capture on a real CPython process: the
 * python3 found on PATH and, when present, /usr/bin/python3.11. Each one
 * allocates and touches 50 MiB in a bytearray and waits; the snapshot must
 * show at least that much resident in anonymous mappings, name python in
 * exe and cmdline, and `memsnap dump` of the file must be valid JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_test_util.h"

static const char script[] =
    "import signal, sys\n"
    "b = bytearray(50 << 20)\n"
    "for i in range(0, len(b), 4096):\n"
    "    b[i] = 1\n"
    "print(sys.version.split()[0], flush=True)\n"
    "print('READY', flush=True)\n"
    "signal.pause()\n";

static int anonymous(const char *path)
{
    return !path || !strcmp(path, "[heap]") || !strncmp(path, "[anon:", 6);
}

static void capture_python(const char *python)
{
    char *dir = ct_tmpdir(NULL);
    char *argv[] = {(char *)python, "-c", (char *)script, "msnap-py-arg", NULL};
    ct_target t;
    ct_target_start(&t, argv, 30);
    t.lines[strcspn(t.lines, "\n")] = 0;
    printf("%s: Python %s, PID %d\n", python, t.lines, (int)t.pid);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)t.pid);
    char *file = ct_path(dir, "py.msnap");
    char *cap[] = {MEMSNAP_CAPTURE_BIN, "-p", pid, "-o", file, "-q", NULL};
    ct_result r;
    ct_run(cap, 30, &r);
    if (r.status != 0) fail_msg("memsnap-capture on %s exited %d: %s", python, r.status, r.err);
    ct_result_free(&r);

    size_t n;
    int rc;
    ms_snapshot **s = ct_read_snapshots(file, &n, &rc);
    if (n != 1 || rc != MS_ERR_END) fail_msg("want one snapshot and a clean end, got %zu, %s", n, ms_errname(rc));
    const ms_section *m = ct_section(s[0], MS_SEC_MAPPINGS);
    uint64_t anon = 0, biggest = 0;
    for (size_t i = 0; i < ms_section_nrows(m); i++) {
        char *p = ct_str(m, MS_MAP_PATH, i);
        uint64_t rss = ms_u64_or(m, MS_MAP_RSS, i, 0);
        if (anonymous(p)) {
            anon += rss;
            if (rss > biggest) biggest = rss;
        }
        free(p);
    }
    printf("%s: %zu mappings, anonymous Rss %llu kB, largest anonymous mapping %llu kB\n", python,
           ms_section_nrows(m), (unsigned long long)anon, (unsigned long long)biggest);
    if (anon < 50u * 1024) fail_msg("%s: anonymous Rss %llu kB < 51200 kB allocated", python, (unsigned long long)anon);
    if (biggest < 50u * 1024)
        fail_msg("%s: no anonymous mapping holds the 50 MiB bytearray (largest %llu kB)", python,
                 (unsigned long long)biggest);

    const ms_section *p = ct_section(s[0], MS_SEC_PROCESS);
    char *exe = ct_str(p, MS_PROC_EXE, 0);
    const char *base = exe ? strrchr(exe, '/') : NULL;
    if (!base || !strstr(base, "python")) fail_msg("exe \"%s\" does not name python", exe ? exe : "(null)");
    const char *cl;
    size_t cll;
    if (!ms_get_str(p, MS_PROC_CMDLINE, 0, &cl, &cll) || !cl || !cll) fail_msg("no cmdline");
    if (!strstr(cl, "python")) fail_msg("argv[0] \"%s\" does not name python", cl);
    if (!memmem(cl, cll, "msnap-py-arg", 12)) fail_msg("cmdline lacks the script's argument");
    printf("%s: exe %s, argv[0] %s\n", python, exe, cl);
    free(exe);
    ct_free_snapshots(s, n);
    ct_target_stop(&t);

    /* memsnap dump: one JSON document per line, each valid */
    char *dump[] = {MEMSNAP_BIN, "dump", file, NULL};
    ct_run(dump, 30, &r);
    if (r.status != 0) fail_msg("memsnap dump exited %d: %s", r.status, r.err);
    char *json = ct_path(dir, "dump.jsonl");
    FILE *f = fopen(json, "w");
    if (!f || fwrite(r.out, 1, r.out_len, f) != r.out_len || fclose(f)) fail_msg("writing %s failed", json);
    size_t lines = 0;
    for (size_t i = 0; i < r.out_len; i++) lines += r.out[i] == '\n';
    if (lines != 1) fail_msg("memsnap dump wrote %zu lines for one snapshot", lines);
    ct_result_free(&r);
    char *check[] = {(char *)python, "-c",
                     "import json, sys\n"
                     "n = 0\n"
                     "for line in open(sys.argv[1], encoding='utf-8'):\n"
                     "    d = json.loads(line)\n"
                     "    assert d['sections']['mappings'], 'no mappings'\n"
                     "    n += 1\n"
                     "print(n, 'JSON lines valid')\n",
                     json, NULL};
    ct_run(check, 30, &r);
    if (r.status != 0) fail_msg("the dump of %s is not valid JSON: %s", python, r.err);
    printf("%s: memsnap dump: %s", python, r.out);
    ct_result_free(&r);
    free(json);
    free(file);
    free(dir);
}

static void test_python_on_path(void **state)
{
    (void)state;
    ct_result r;
    char *which[] = {"python3", "-c", "pass", NULL};
    int of, ef;
    double t0 = ct_now();
    pid_t pid = ct_start(which, &of, &ef);
    ct_finish(pid, of, ef, t0, 30, &r);
    int ok = r.status == 0;
    ct_result_free(&r);
    if (!ok) ct_skip("no python3 on PATH");
    capture_python("python3");
}

static void test_python311(void **state)
{
    (void)state;
    if (access("/usr/bin/python3.11", X_OK) != 0) ct_skip("/usr/bin/python3.11 is not installed");
    capture_python("/usr/bin/python3.11");
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_python_on_path, ct_teardown),
        cmocka_unit_test_teardown(test_python311, ct_teardown),
    };
    return cmocka_run_group_tests_name("capture_python", tests, NULL, NULL);
}

/*
 * test_analyze_category.c - the mapping category rules, one case per rule
 * (and the cases where a heuristic must not fire), on snapshots built with
 * the writer.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze_test_util.h"
#include "category.h"

#define R 1u
#define W 2u
#define X 4u
#define S 8u
#define P 16u
#define MiB ((uint64_t)1 << 20)

typedef struct {
    uint64_t start, end;
    unsigned perms;
    const char *path; /* NULL: anonymous */
    uint64_t inode;
    const char *want;        /* expected category */
    const char *want_module; /* expected module, or NULL */
} map_case;

typedef struct {
    const char *exe;         /* process.exe, or NULL */
    const char *py_binary;   /* py_runtime.binary, or NULL (no py_runtime) */
    const char *libpython;   /* py_runtime.libpython */
    const uint64_t *arenas;  /* py_arenas addresses */
    size_t narenas;
    const char *const *mods; /* py_modules: name, file, name, file... */
    size_t nmods;
} context;

static void run_cases(const context *cx, const map_case *cases, size_t n)
{
    ms_table *tables[8];
    size_t nt = 0;
    ms_table *t = ms_table_new(MS_SEC_SNAPSHOT);
    at_ok(ms_table_row(t));
    at_ok(ms_table_u64(t, MS_SNAP_PID, 1));
    tables[nt++] = t;
    t = ms_table_new(MS_SEC_MAPPINGS);
    for (size_t i = 0; i < n; i++) {
        at_ok(ms_table_row(t));
        at_ok(ms_table_u64(t, MS_MAP_START, cases[i].start));
        at_ok(ms_table_u64(t, MS_MAP_END, cases[i].end));
        at_ok(ms_table_u64(t, MS_MAP_PERMS, cases[i].perms));
        at_ok(ms_table_u64(t, MS_MAP_INODE, cases[i].inode));
        at_ok(ms_table_cstr(t, MS_MAP_PATH, cases[i].path));
    }
    tables[nt++] = t;
    if (cx->exe) {
        t = ms_table_new(MS_SEC_PROCESS);
        at_ok(ms_table_row(t));
        at_ok(ms_table_cstr(t, MS_PROC_EXE, cx->exe));
        tables[nt++] = t;
    }
    if (cx->py_binary) {
        t = ms_table_new(MS_SEC_PY_RUNTIME);
        at_ok(ms_table_row(t));
        at_ok(ms_table_cstr(t, MS_PY_BINARY, cx->py_binary));
        at_ok(ms_table_cstr(t, MS_PY_LIBPYTHON, cx->libpython));
        tables[nt++] = t;
    }
    if (cx->narenas) {
        t = ms_table_new(MS_SEC_PY_ARENAS);
        for (size_t i = 0; i < cx->narenas; i++) {
            at_ok(ms_table_row(t));
            at_ok(ms_table_u64(t, MS_AR_ADDRESS, cx->arenas[i]));
        }
        tables[nt++] = t;
    }
    if (cx->nmods) {
        t = ms_table_new(MS_SEC_PY_MODULES);
        for (size_t i = 0; i + 1 < cx->nmods; i += 2) {
            at_ok(ms_table_row(t));
            at_ok(ms_table_cstr(t, MS_MOD_NAME, cx->mods[i]));
            at_ok(ms_table_cstr(t, MS_MOD_FILE, cx->mods[i + 1]));
            at_ok(ms_table_u64(t, MS_MOD_FLAGS, cx->mods[i + 1] && strstr(cx->mods[i + 1], ".so") ? 1 : 0));
        }
        tables[nt++] = t;
    }
    ms_snapshot *s = at_snapshot_of(tables, nt);
    for (size_t i = 0; i < nt; i++) ms_table_free(tables[i]);

    category_result *out = calloc(n, sizeof *out);
    category_scratch sc = {0};
    assert_int_equal(category_classify(s, out, &sc), 0);
    for (size_t i = 0; i < n; i++) {
        const char *got = category_name(out[i].cat);
        if (strcmp(got, cases[i].want))
            fail_msg("mapping %zu (%s, %#llx): %s, want %s", i, cases[i].path ? cases[i].path : "anonymous",
                     (unsigned long long)cases[i].start, got, cases[i].want);
        if (cases[i].want_module) {
            if (!out[i].module || out[i].module_len != strlen(cases[i].want_module) ||
                memcmp(out[i].module, cases[i].want_module, out[i].module_len))
                fail_msg("mapping %zu (%s): module '%.*s', want %s", i, cases[i].path, (int)out[i].module_len,
                         out[i].module ? out[i].module : "", cases[i].want_module);
        } else {
            assert_null(out[i].module);
        }
    }
    category_scratch_free(&sc);
    free(out);
    ms_snapshot_free(s);
}

static void test_named(void **state)
{
    (void)state;
    const context cx = {0};
    const map_case cases[] = {
        {0x1000, 0x2000, R | X | P, "[vdso]", 0, "kernel", NULL},
        {0x2000, 0x4000, R | P, "[vvar]", 0, "kernel", NULL},
        {0x4000, 0x5000, R | P, "[vvar_vclock]", 0, "kernel", NULL},
        {0x10000, 0x20000, R | W | P, "[stack]", 0, "stack", NULL},
        {0x20000, 0x30000, R | W | P, "[stack:1234]", 0, "stack", NULL},
        {0x30000, 0x40000, R | W | P, "[anon: glibc: pthread stack: 77]", 0, "stack", NULL},
        {0x40000, 0x50000, R | W | P, "[heap]", 0, "c_heap", NULL},
        {0x50000, 0x60000, R | W | P, "[anon: glibc: malloc arena]", 0, "c_heap", NULL},
        {0x60000, 0x70000, R | W | S, "/dev/shm/queue", 99, "shmem", NULL},
        {0x70000, 0x80000, R | W | S, "/memfd:wayland-shm", 98, "shmem", NULL},
        {0x80000, 0x90000, R | W | S, "/SYSV0000162e", 97, "shmem", NULL},
        {0x90000, 0xa0000, R | W | S, NULL, 0, "shmem", NULL},
        {0xa0000, 0xb0000, R | W | S, "/dev/zero", 4, "shmem", NULL},
        {0xb0000, 0xc0000, R | W | P, "[anon_shmem:x]", 0, "shmem", NULL},
        {0xc0000, 0xd0000, R | W | P, "[anon:cpython:pymalloc]", 0, "python_heap", NULL},
        {0xd0000, 0xe0000, R | P, "/usr/lib/x86_64-linux-gnu/libc.so.6", 5, "shared_library", NULL},
        {0xe0000, 0xf0000, R | X | P, "/usr/lib64/ld-linux-x86-64.so.2", 6, "shared_library", NULL},
        {0xf0000, 0x100000, R | P, "/opt/app/lib/libfoo.so", 7, "shared_library", NULL},
        {0x100000, 0x110000, R | P, "/usr/lib/locale/locale-archive", 8, "file", NULL},
        {0x110000, 0x120000, R | P, "/srv/x.solution", 9, "file", NULL},
        {0x120000, 0x130000, R | P, "/usr/bin/bash", 10, "file", NULL},
        {0x130000, 0x140000, R | W | P, "[anon:v8 heap]", 0, "anonymous", NULL},
        {0xffffffffff600000u, 0xffffffffff601000u, X | P, "[vsyscall]", 0, "kernel", NULL},
    };
    run_cases(&cx, cases, sizeof cases / sizeof cases[0]);
}

static void test_python(void **state)
{
    (void)state;
    static const uint64_t arenas[] = {0x7f0000100000u, 0x7f0000200000u, 0x7f0000900000u};
    static const char *const mods[] = {
        "numpy.core._multiarray_umath",
        "/venv/lib/python3.11/site-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
        "json", "/usr/lib/python3.11/json/__init__.py",
        "sys", NULL,
    };
    const context cx = {"/usr/bin/python3.11", "/usr/bin/python3.11", "/usr/lib/libpython3.11.so.1.0",
                        arenas, 3, mods, 6};
    const map_case cases[] = {
        {0x400000, 0x401000, R | P, "/usr/bin/python3.11", 1, "interpreter", NULL},
        {0x401000, 0x600000, R | X | P, "/usr/bin/python3.11", 1, "interpreter", NULL},
        {0x600000, 0x700000, R | W | P, NULL, 0, "anonymous", NULL}, /* .bss: not recognised */
        {0x7f0000000000u, 0x7f0000400000u, R | W | P, NULL, 0, "python_heap", NULL}, /* two arenas */
        {0x7f0000400000u, 0x7f0000500000u, R | W | P, NULL, 0, "anonymous", NULL},   /* no arena */
        {0x7f0000900000u, 0x7f0000a00000u, R | W | P, NULL, 0, "python_heap", NULL},
        {0x7f1000000000u, 0x7f1000100000u, R | X | P, "/usr/lib/libpython3.11.so.1.0", 2, "interpreter", NULL},
        {0x7f2000000000u, 0x7f2000100000u, R | X | P,
         "/venv/lib/python3.11/site-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so", 3,
         "python_extension", "numpy.core._multiarray_umath"},
        {0x7f2000100000u, 0x7f2000200000u, R | W | P,
         "/venv/lib/python3.11/site-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so", 3,
         "python_extension", "numpy.core._multiarray_umath"},
        {0x7f3000000000u, 0x7f3000100000u, R | X | P,
         "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", 4, "python_extension", "_ssl"},
        {0x7f3000100000u, 0x7f3000200000u, R | X | P, "/venv/lib/python3.11/site-packages/cryptography/_rust.abi3.so",
         5, "python_extension", "_rust"},
        {0x7f4000000000u, 0x7f4000100000u, R | P, "/usr/lib/python3.11/json/__init__.py", 6, "file", NULL},
    };
    run_cases(&cx, cases, sizeof cases / sizeof cases[0]);
}

/* An embedded interpreter: the executable is not python; libpython is. */
static void test_embedded(void **state)
{
    (void)state;
    const context cx = {"/usr/bin/uwsgi", NULL, NULL, NULL, 0, NULL, 0};
    const map_case cases[] = {
        {0x400000, 0x500000, R | X | P, "/usr/bin/uwsgi", 1, "file", NULL},
        {0x7f1000000000u, 0x7f1000100000u, R | X | P, "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", 2,
         "interpreter", NULL},
    };
    run_cases(&cx, cases, sizeof cases / sizeof cases[0]);
}

/* The heuristics: glibc heaps (64 MiB regions) and thread stacks (a rw-p
 * mapping right above a small ---p guard), and where they must not fire. */
static void test_heuristics(void **state)
{
    (void)state;
    const context cx = {0};
    const uint64_t h1 = 0x7f5c00000000u, h2 = h1 + 64 * MiB, t = 0x7f7000000000u;
    const map_case cases[] = {
        /* a thread's heap: 132 KiB used, the rest of 64 MiB reserved */
        {h1, h1 + 0x21000, R | W | P, NULL, 0, "c_heap", NULL},
        {h1 + 0x21000, h1 + 64 * MiB, P, NULL, 0, "c_heap", NULL},
        /* a nearly full heap: a 4 KiB reserve, then another heap right after */
        {h2, h2 + 64 * MiB - 4096, R | W | P, NULL, 0, "c_heap", NULL},
        {h2 + 64 * MiB - 4096, h2 + 64 * MiB, P, NULL, 0, "c_heap", NULL},
        /* ...and a rw-p mapping right after that small ---p reserve is not a stack */
        {h2 + 64 * MiB, h2 + 64 * MiB + 0x10000, R | W | P, NULL, 0, "anonymous", NULL},
        /* a thread stack: a 4 KiB guard, then 8 MiB */
        {t, t + 4096, P, NULL, 0, "stack", NULL},
        {t + 4096, t + 4096 + 8 * MiB, R | W | P, NULL, 0, "stack", NULL},
        /* not a stack: the ---p below is too large to be a guard (2 MiB) */
        {t + 16 * MiB, t + 18 * MiB, P, NULL, 0, "anonymous", NULL},
        {t + 18 * MiB, t + 26 * MiB, R | W | P, NULL, 0, "anonymous", NULL},
        /* not a stack: a gap between guard and mapping */
        {t + 32 * MiB, t + 32 * MiB + 4096, P, NULL, 0, "anonymous", NULL},
        {t + 32 * MiB + 8192, t + 40 * MiB, R | W | P, NULL, 0, "anonymous", NULL},
        /* not a heap: 64 MiB aligned but the region is not 64 MiB */
        {0x7f8000000000u, 0x7f8000000000u + MiB, R | W | P, NULL, 0, "anonymous", NULL},
    };
    run_cases(&cx, cases, sizeof cases / sizeof cases[0]);
}

static void test_rule_table(void **state)
{
    (void)state;
    for (int i = 0; i < CAT_COUNT; i++) {
        assert_true(strlen(category_name((category_id)i)) > 0);
        assert_true(strlen(category_rule((category_id)i)) > 40);
        for (int k = 0; k < i; k++) assert_string_not_equal(category_name((category_id)i), category_name((category_id)k));
    }
    assert_true(category_is_heuristic(CAT_STACK));
    assert_true(category_is_heuristic(CAT_C_HEAP));
    assert_false(category_is_heuristic(CAT_KERNEL));
    assert_string_equal(category_name(CAT_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named),
        cmocka_unit_test(test_python),
        cmocka_unit_test(test_embedded),
        cmocka_unit_test(test_heuristics),
        cmocka_unit_test(test_rule_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

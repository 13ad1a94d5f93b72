/*
 * test_capture_pylayout_runtime.c - every installed CPython checks memsnap's
 * layout table entry for its version against itself: the test starts
 * pylayout_probe.py under each pyenv python3.8 .. 3.13 and Debian's
 * /usr/bin/python3.11 (static, stripped), handing it the entry (and, for
 * 3.8-3.11, the .symtab values of pymalloc's statics from the libpython
 * file); the probe reads its own objects with ctypes at id() + offset and
 * compares with id(), len(), sys.getsizeof, __basicsize__, __flags__,
 * gc.get_threshold(), gc.get_freeze_count(), sys._debugmallocstats() ...
 * Each probe prints one line per check; any FAIL line fails the test, and
 * fewer checks than expected too (a probe that checks nothing passes
 * nothing). A version that is not installed prints a SKIP line.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_test_util.h"
#include "py_layout.h"
#include "pylayout_test_util.h"

/* Each probe runs at least this many checks (3.8 runs the fewest). */
#define MIN_CHECKS 150

#define F(name) {#name, offsetof(py_layout, name)}
static const struct {
    const char *name;
    size_t offset; /* of a uint32_t member */
} members[] = {
    F(object_size), F(object_refcnt), F(object_type), F(varobject_size), F(varobject_ob_size),
    F(immortal_rule), F(type_size), F(type_tp_name), F(type_tp_basicsize), F(type_tp_itemsize),
    F(type_tp_flags), F(type_tp_weaklistoffset), F(type_tp_base), F(type_tp_dict), F(type_tp_dictoffset),
    F(heaptype_size), F(heaptype_ht_name), F(heaptype_ht_qualname), F(heaptype_ht_cached_keys),
    F(heaptype_ht_module), F(tpflags_managed_dict), F(tpflags_managed_weakref), F(tpflags_inline_values),
    F(tpflags_preheader), F(tpflags_heaptype), F(tpflags_have_gc), F(tpflags_long_subclass),
    F(tpflags_list_subclass), F(tpflags_tuple_subclass), F(tpflags_bytes_subclass),
    F(tpflags_unicode_subclass), F(tpflags_dict_subclass), F(tpflags_type_subclass), F(preheader_gc_size),
    F(preheader_managed_size), F(managed_dict_kind), F(managed_dict_before), F(managed_values_before),
    F(managed_weakref_before), F(runtime_size), F(runtime_finalizing), F(runtime_interpreters_head),
    F(runtime_interpreters_main), F(runtime_gc), F(interp_size), F(interp_next), F(interp_id),
    F(interp_modules), F(interp_sysdict), F(interp_builtins), F(interp_gc), F(gc_where), F(gc_state_size),
    F(gc_enabled), F(gc_generations), F(gc_num_generations), F(gc_generation0), F(gc_permanent),
    F(gc_collecting), F(gc_generation_size), F(gc_generation_head), F(gc_generation_threshold),
    F(gc_generation_count), F(gchead_size), F(gchead_next), F(gchead_prev), F(gchead_flag_bits),
    F(tuple_size), F(tuple_ob_item), F(list_size), F(list_ob_item), F(list_allocated), F(dict_size),
    F(dict_ma_used), F(dict_ma_keys), F(dict_ma_values), F(dictkeys_size), F(dictkeys_dk_refcnt),
    F(dictkeys_dk_size), F(dictkeys_dk_log2_size), F(dictkeys_dk_log2_index_bytes), F(dictkeys_dk_kind),
    F(dictkeys_dk_usable), F(dictkeys_dk_nentries), F(dictkeys_dk_indices), F(dict_entry_size),
    F(dict_unicode_entry_size), F(dictvalues_values), F(module_size), F(module_md_dict),
    F(module_md_name), F(set_size), F(set_fill), F(set_used), F(set_mask), F(set_table),
    F(set_smalltable), F(setentry_size), F(unicode_ascii_size), F(unicode_compact_size), F(unicode_size),
    F(unicode_length), F(unicode_state), F(unicode_state_kind_shift), F(unicode_state_compact_bit),
    F(unicode_state_ascii_bit), F(bytes_size), F(bytes_ob_sval), F(bytearray_size), F(bytearray_ob_alloc),
    F(bytearray_ob_bytes), F(bytearray_ob_start), F(long_size), F(long_lv_tag), F(long_non_size_bits),
    F(long_ob_digit), F(long_digit_size), F(long_shift), F(float_size), F(float_ob_fval), F(code_size),
    F(code_co_filename), F(code_co_name), F(code_co_qualname), F(arena_size), F(pool_size),
    F(pymalloc_alignment), F(pymalloc_small_request_threshold), F(pymalloc_size_classes),
    F(pool_header_size), F(pool_ref_count), F(pool_freeblock), F(pool_nextpool), F(pool_prevpool),
    F(pool_arenaindex), F(pool_szidx), F(pool_nextoffset), F(pool_maxnextoffset), F(arena_object_size),
    F(arena_address), F(arena_pool_address), F(arena_nfreepools), F(arena_ntotalpools),
    F(arena_freepools), F(arena_nextarena), F(arena_prevarena), F(obmalloc_where),
    F(obmalloc_usedpools_count), F(interp_obmalloc), F(obmalloc_size), F(obmalloc_usedpools),
    F(obmalloc_arenas), F(obmalloc_maxarenas), F(obmalloc_unused_arena_objects),
    F(obmalloc_usable_arenas), F(obmalloc_narenas_currently_allocated),
    F(obmalloc_ntimes_arena_allocated), F(obmalloc_narenas_highwater),
};
#undef F

static const char *const obmalloc_syms[] = {"_PyRuntime", "arenas", "maxarenas",
                                            "narenas_currently_allocated"};

/* Writes the probe's input: the entry, and the statics' symbols when `lib`
 * has a .symtab. Returns 1 when symbols were written. */
static int write_input(const char *path, const py_layout *L, const char *lib)
{
    FILE *f = fopen(path, "w");
    if (!f) fail_msg("cannot create %s", path);
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        uint32_t v;
        memcpy(&v, (const char *)L + members[i].offset, sizeof v);
        if (v == PY_LAYOUT_ABSENT)
            fprintf(f, "L %s ABSENT\n", members[i].name);
        else
            fprintf(f, "L %s %u\n", members[i].name, v);
    }
    fprintf(f, "L immortal_refcnt %llu\n", (unsigned long long)L->immortal_refcnt);
    int syms = 0;
    if (lib && L->obmalloc_where == PY_OBMALLOC_STATICS) {
        char err[512];
        pt_elf *e = pt_elf_open(lib, err, sizeof err);
        if (!e) fail_msg("%s", err);
        syms = 1;
        for (size_t i = 0; i < sizeof obmalloc_syms / sizeof obmalloc_syms[0]; i++) {
            uint64_t v;
            if (pt_elf_symbol(e, SHT_SYMTAB, obmalloc_syms[i], &v, NULL) != 0) {
                syms = 0;
                break;
            }
            fprintf(f, "SYM %s %llu\n", obmalloc_syms[i], (unsigned long long)v);
        }
        pt_elf_close(e);
        fprintf(f, "LIB %s\n", lib);
    }
    if (fclose(f) != 0) fail_msg("writing %s failed", path);
    return syms;
}

/* Runs the probe under `python` with entry L; fails the test on any FAIL. */
static void probe(const char *python, const py_layout *L, const char *lib)
{
    char *dir = ct_tmpdir(NULL);
    char *in = ct_path(dir, "layout.txt");
    int syms = write_input(in, L, lib);
    char *argv[] = {(char *)python, "-I", PYLAYOUT_PROBE, in, NULL};
    ct_result r;
    ct_run(argv, 60, &r);
    unsigned checks = 0, failed = 0;
    const char *last = strstr(r.out, "checks ");
    while (last && strstr(last + 1, "\nchecks ")) last = strstr(last + 1, "\nchecks ") + 1;
    if (!last || sscanf(last, "checks %u failed %u", &checks, &failed) != 2) {
        const char *tail = r.out_len > 600 ? r.out + r.out_len - 600 : r.out;
        printf("%s: probe stdout (end):\n%s\n%s: probe stderr:\n%s\n", python, tail, python, r.err);
        fail_msg("%s: the probe ended without its summary (exit %d)", python, r.status);
    }
    /* print the failures, then judge */
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "FAIL", 4) || !strncmp(line, "info", 4)) printf("%s: %s\n", python, line);
    printf("%s (table entry from %s): %u checks, %u failed\n", python, L->source, checks, failed);
    if (failed || r.status != 0) {
        if (r.err_len) printf("%s: probe stderr:\n%s\n", python, r.err);
        fail_msg("%s: %u of %u checks failed (exit %d)", python, failed, checks, r.status);
    }
    if (checks < MIN_CHECKS)
        fail_msg("%s: only %u checks ran (at least %u expected)", python, checks, MIN_CHECKS);
    if (L->obmalloc_where == PY_OBMALLOC_STATICS && !syms)
        printf("SKIP: %s: no .symtab in %s: pymalloc's statics (3.8-3.11) not checked\n", python,
               lib ? lib : python);
    ct_result_free(&r);
    free(in);
    free(dir);
}

static void test_pyenv(void **state)
{
    unsigned minor = (unsigned)(uintptr_t)*state;
    const py_layout *L = py_layout_find(minor);
    assert_non_null(L);
    char *root = pt_pyenv_root();
    char *dir = pt_pyenv_version(root, minor);
    if (!dir) {
        char where[512];
        snprintf(where, sizeof where, "%s", root ? root : "(no pyenv root found)");
        free(root);
        ct_skip("python3.%u is not installed under %s/versions: its table entry is not checked at run time",
                minor, where);
    }
    char py[64], so[64];
    snprintf(py, sizeof py, "bin/python3.%u", minor);
    snprintf(so, sizeof so, "lib/libpython3.%u.so.1.0", minor);
    char *python = ct_path(dir, py), *lib = ct_path(dir, so);
    probe(python, L, access(lib, R_OK) == 0 ? lib : NULL);
    free(python);
    free(lib);
    free(dir);
    free(root);
}

static void test_debian_python311(void **state)
{
    (void)state;
    const char *python = "/usr/bin/python3.11";
    if (access(python, X_OK) != 0) ct_skip("%s is not installed (Debian's python3.11)", python);
    probe(python, py_layout_find(11), python);
}

static int set_minor(void **state, unsigned minor)
{
    *state = (void *)(uintptr_t)minor;
    return 0;
}
#define MINOR_SETUP(m)                                                                                       \
    static int setup_##m(void **state)                                                                       \
    {                                                                                                        \
        return set_minor(state, m);                                                                          \
    }
MINOR_SETUP(8)
MINOR_SETUP(9)
MINOR_SETUP(10)
MINOR_SETUP(11)
MINOR_SETUP(12)
MINOR_SETUP(13)

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pyenv, setup_8, ct_teardown),
        cmocka_unit_test_setup_teardown(test_pyenv, setup_9, ct_teardown),
        cmocka_unit_test_setup_teardown(test_pyenv, setup_10, ct_teardown),
        cmocka_unit_test_setup_teardown(test_pyenv, setup_11, ct_teardown),
        cmocka_unit_test_setup_teardown(test_pyenv, setup_12, ct_teardown),
        cmocka_unit_test_setup_teardown(test_pyenv, setup_13, ct_teardown),
        cmocka_unit_test_teardown(test_debian_python311, ct_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * make_elf_seeds.c - writes the seed corpus of fuzz_elf: small synthetic
 * ELF files (tests/capture/elf_build.c) covering what the reader and
 * pyfind_identify handle: .dynsym and .symtab with STT_FILE groups, a
 * .bss, DT_SONAME, _PyRuntime with and without a .PyRuntime section,
 * _Py_DebugOffsets (3.13, free-threaded), Py_Version, Py_GetVersion code
 * for x86-64 PIE (LEA), x86-64 non-PIE (MOV) and aarch64 (ADRP+ADD),
 * stripped files, Python 2, a non-Python file.
 *
 * Usage: make_elf_seeds OUTDIR (must exist). Run by hand, never by ctest;
 * the output is committed under tests/fuzz/corpus/elf and grown by
 * fuzzing (libFuzzer -merge=1). Deterministic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_build.h"

static const char *seed_dir;

static void seed(elf_builder *b, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", seed_dir, name);
    eb_write(b, path);
    eb_free(b);
}

static void obmalloc_locals(elf_builder *b)
{
    eb_sym(b, 1, "obmalloc.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "arenas", EB_BSS, eb_addr(b, EB_BSS, 0), 8, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "usedpools", EB_DATA, eb_addr(b, EB_DATA, 0x20), 0x40, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "Objects/a.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "x", EB_DATA, eb_addr(b, EB_DATA, 0x60), 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "g", EB_DATA, eb_addr(b, EB_DATA, 0x68), 8, EB_GLOBAL, EB_OBJECT);
    eb_bss(b, 0x40);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_elf_seeds OUTDIR\n");
        return 2;
    }
    seed_dir = argv[1];
    elf_builder *b;

    b = eb_new(3, 62);
    eb_soname(b, "libpython3.9.so.1.0");
    eb_py_runtime(b, 0);
    eb_py_getversion(b, 1, "3.9.18");
    obmalloc_locals(b);
    seed(b, "x86_64_pie_libpython3.9");

    b = eb_new(2, 62);
    eb_py_runtime(b, 1);
    eb_py_getversion(b, 0, "3.10.4");
    eb_sym(b, 0, "Py_Is", EB_TEXT, eb_addr(b, EB_TEXT, 0xa0), 4, EB_GLOBAL, EB_FUNC);
    seed(b, "x86_64_static_python3.10");

    b = eb_new(3, 183);
    eb_soname(b, "libpython3.8.so.1.0");
    eb_py_runtime(b, 0);
    eb_py_getversion(b, 1, "3.8.0rc1+");
    obmalloc_locals(b);
    seed(b, "aarch64_libpython3.8");

    b = eb_new(3, 62);
    eb_soname(b, "libpython3.13t.so.1.0");
    eb_py_runtime(b, 1);
    eb_py_debug_offsets(b, 0x030d00f0, 1);
    eb_py_version(b, 0x030d00f0);
    seed(b, "x86_64_libpython3.13t");

    b = eb_new(3, 183);
    eb_soname(b, "libpython3.12d.so.1.0");
    eb_py_runtime(b, 1);
    eb_py_version(b, 0x030c04f0);
    eb_sym(b, 0, "_Py_NegativeRefcount", EB_TEXT, eb_addr(b, EB_TEXT, 0xe0), 4, EB_GLOBAL, EB_FUNC);
    eb_strip(b);
    seed(b, "aarch64_stripped_libpython3.12d");

    b = eb_new(2, 62);
    eb_sym(b, 0, "Py_Initialize", EB_TEXT, eb_addr(b, EB_TEXT, 0xf0), 4, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "PyString_FromString", EB_TEXT, eb_addr(b, EB_TEXT, 0xf4), 4, EB_GLOBAL, EB_FUNC);
    eb_py_getversion(b, 0, "2.7.18");
    seed(b, "x86_64_static_python2.7");

    b = eb_new(3, 62);
    eb_soname(b, "libc.so.6");
    eb_sym(b, 0, "malloc", EB_TEXT, eb_addr(b, EB_TEXT, 0x20), 16, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "undefined_ref", -1, 0, 0, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "weak_one", EB_DATA, eb_addr(b, EB_DATA, 0), 8, EB_WEAK, EB_OBJECT);
    obmalloc_locals(b);
    seed(b, "x86_64_not_python");
    printf("make_elf_seeds: 7 seeds written to %s\n", seed_dir);
    return 0;
}

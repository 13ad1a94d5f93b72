/*
 * fuzz_elf.c - libFuzzer target for capture/elf.c and pyfind_identify:
 * the input is an ELF file, opened with elf_open_mem; every lookup the
 * heap walker makes is then run on it (global and local symbols, sections,
 * data at the symbols' addresses, every segment's bytes, the soname, the
 * load bias), and pyfind_identify determines its version and flags.
 *
 * Beyond memory safety it checks what elfread.h and pyfind.h promise: a
 * refused file gives "NAME: byte N: ..." with N inside the input (errno
 * ENOEXEC), a read inside a segment the reader accepted never fails, a
 * soname fits its buffer, and pyfind_identify returns one of its codes
 * with a NUL-terminated version.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "elfread.h"
#include "fuzz_walk.h"
#include "pyfind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz-input"

static uint64_t fuzz_sum;

static void fuzz_touch(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) fuzz_sum = fuzz_sum * 31 + p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    elf_file *f = (elf_file *)&fuzz_sum;
    char msg[512];
    errno = 0;
    if (elf_open_mem(data, size, FUZZ_NAME, &f, msg, sizeof msg)) {
        if (f) fuzz_fail("elf_open_mem failed but left *out set");
        if (errno == ENOMEM) return 0;
        if (errno != ENOEXEC) fuzz_fail("elf_open_mem failed on memory input with an errno other than ENOEXEC/ENOMEM");
        unsigned long long off;
        if (sscanf(msg, FUZZ_NAME ": byte %llu: ", &off) != 1) fuzz_fail("an error message not of the form 'NAME: byte N: what'");
        if (off > size) fuzz_fail("an error offset beyond the end of the input");
        return 0;
    }
    if (!f) fuzz_fail("elf_open_mem succeeded without a handle");
    if (elf_type(f) != ET_EXEC && elf_type(f) != ET_DYN) fuzz_fail("accepted an ELF type other than EXEC/DYN");

    static const char *names[] = {"_PyRuntime", "Py_Version", "Py_GetVersion", "Py_Initialize", "PyString_FromString",
                                  "Py_Is", "PyFrame_GetCode", "Py_BytesMain", "_Py_NegativeRefcount", "x", "g", ""};
    unsigned char buf[256];
    char str[64];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint64_t v = 0, s = 0;
        if (elf_symbol(f, names[i], &v, &s)) continue;
        size_t n = s < sizeof buf ? (size_t)s : sizeof buf;
        if (!elf_read_vaddr(f, v, buf, n)) fuzz_touch(buf, n);
        if (!elf_read_string(f, v, str, sizeof str)) {
            if (!memchr(str, 0, sizeof str)) fuzz_fail("elf_read_string succeeded without a NUL");
            fuzz_touch((const unsigned char *)str, strlen(str));
        } else if (str[0]) {
            fuzz_fail("elf_read_string failed but left a string");
        }
    }
    static const char *locals[][2] = {{"obmalloc.c", "arenas"}, {"obmalloc.c", "usedpools"}, {"a.c", "x"}, {"c", "x"}};
    for (size_t i = 0; i < sizeof locals / sizeof locals[0]; i++) {
        uint64_t v, s;
        if (!elf_local_symbol(f, locals[i][0], locals[i][1], &v, &s) && !elf_read_vaddr(f, v, buf, 8)) fuzz_touch(buf, 8);
    }
    uint64_t a, s;
    if (!elf_section(f, ".PyRuntime", &a, &s) && !elf_read_vaddr(f, a, buf, 24)) fuzz_touch(buf, 24);
    const char *so = elf_soname(f);
    if (so && strlen(so) >= 4096) fuzz_fail("a soname longer than the reader's buffer");
    elf_segment seg;
    for (size_t i = 0; i < elf_load_count(f); i++) {
        if (elf_load_segment(f, i, &seg)) fuzz_fail("elf_load_segment refused an index below elf_load_count");
        if (seg.filesz > seg.memsz || seg.offset + seg.filesz > size) fuzz_fail("a segment the reader should have refused");
        size_t n = seg.memsz < sizeof buf ? (size_t)seg.memsz : sizeof buf;
        if (elf_read_vaddr(f, seg.vaddr, buf, n)) fuzz_fail("a read inside an accepted segment failed");
        fuzz_touch(buf, n);
    }
    if (!elf_load_segment(f, elf_load_count(f), &seg)) fuzz_fail("elf_load_segment accepted an index past the end");
    fuzz_sum += elf_load_bias(f, 0x7f0000000000ull) + elf_symbol_count(f) + (uint64_t)elf_has_symtab(f);

    py_runtime_info pi;
    memset(&pi, 0, sizeof pi);
    int rc = pyfind_identify(f, "libpython3.9.so.1.0", &pi, msg, sizeof msg);
    if (rc != PYFIND_OK && rc != PYFIND_NOT_PYTHON && rc != PYFIND_UNSUPPORTED) fuzz_fail("pyfind_identify: unknown code");
    if (!memchr(pi.version, 0, sizeof pi.version) || !memchr(pi.how, 0, sizeof pi.how)) fuzz_fail("unterminated string");
    if (rc == PYFIND_OK && (pi.hexversion >> 24 != 3 || pi.minor < 8)) fuzz_fail("OK for a version that is not 3.8+");
    if (rc != PYFIND_OK && !msg[0]) fuzz_fail("pyfind_identify failed without a message");
    if (pi.elf) fuzz_fail("pyfind_identify set the ELF handle");
    elf_close(f);
    return 0;
}

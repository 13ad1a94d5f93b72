/*
 * pylayout_test_util.h - helpers of the layout table tests: finding the
 * pyenv versions, and the smallest ELF64 reader the tests need: a
 * symbol's value from .dynsym or .symtab, a section's address, and bytes
 * of a file at a virtual address (through the PT_LOAD segments). Test
 * code only, independent of capture/'s own ELF reader; bounded on any
 * file (every offset and count is checked against the file's size).
 */
#ifndef PYLAYOUT_TEST_UTIL_H
#define PYLAYOUT_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The pyenv root, found without assuming PATH: `pyenv root`, then
 * $PYENV_ROOT, /root/.pyenv, /opt/pyenv (the first with a versions/
 * folder). malloc'd, or NULL when there is none. */
char *pt_pyenv_root(void);

/* The newest plain release 3.<minor>.<micro> under root/versions (no
 * free-threaded, debug or pre-release builds) that has bin/python3.<minor>:
 * its malloc'd folder, or NULL. `root` may be NULL (then NULL). */
char *pt_pyenv_version(const char *root, unsigned minor);

typedef struct pt_elf pt_elf;

/* Opens an ELF64 little-endian file. Returns NULL with a message in
 * err[errlen] (file, what failed) when it cannot. Free with pt_elf_close
 * (NULL accepted). */
pt_elf *pt_elf_open(const char *path, char *err, size_t errlen);
void pt_elf_close(pt_elf *e);

/* Value and size of the first defined symbol `name` in the section of
 * type `sht` (SHT_DYNSYM or SHT_SYMTAB). Returns 0, or -1 when there is
 * no such section or symbol. */
int pt_elf_symbol(pt_elf *e, unsigned sht, const char *name, uint64_t *value, uint64_t *size);

/* Address, file offset and size of section `name`; 0, or -1 when absent. */
int pt_elf_section(pt_elf *e, const char *name, uint64_t *addr, uint64_t *offset, uint64_t *size);

/* Copies `len` bytes of the file image at virtual address `vaddr`: they
 * must lie inside one PT_LOAD segment's file part. 0, or -1. */
int pt_elf_read_vaddr(pt_elf *e, uint64_t vaddr, void *buf, size_t len);

#endif

/*
 * elf_build.h - writes small synthetic ELF64 little-endian files for the
 * tests of capture/elf.c and capture/pyfind.c and for the fuzz seeds:
 * builds that no machine here has (aarch64, free-threaded, debug, Python
 * 2 static...) and files to corrupt field by field.
 *
 * The layout is fixed, so that callers know every address before the file
 * exists (file offset = address - base; base 0 for ET_DYN, 0x400000 for
 * ET_EXEC):
 *
 *   0x000 ELF header, program headers   PT_LOAD 1 (R X): file 0x000-0x700
 *   0x200 .text     (EB_TEXT,   256 bytes)
 *   0x300 .rodata   (EB_RODATA, 256 bytes)
 *   0x400 .dynsym   (16 symbols)
 *   0x580 .dynstr   (384 bytes)
 *   0x700 .data     (EB_DATA,   256 bytes)  PT_LOAD 2 (RW): file 0x700-0x940,
 *   0x800 custom    (EB_CUSTOM, 256 bytes, e.g. ".PyRuntime")  plus .bss
 *   0x900 .dynamic  (DT_SONAME, DT_STRTAB, DT_STRSZ, DT_NULL)   PT_DYNAMIC
 *   0x940 .bss      (EB_BSS, NOBITS, eb->bss bytes)
 *   0x940 .symtab, .strtab, .shstrtab, section headers (not loaded)
 *
 * Helpers abort the test program (with a message) when a region
 * overflows: they are test fixtures, not product code.
 */
#ifndef ELF_BUILD_H
#define ELF_BUILD_H

#include <stddef.h>
#include <stdint.h>

enum { EB_TEXT, EB_RODATA, EB_DATA, EB_CUSTOM, EB_BSS, EB_NREGIONS };

/* Symbol binding and type, as in st_info. */
enum { EB_LOCAL = 0, EB_GLOBAL = 1, EB_WEAK = 2 };
enum { EB_NOTYPE = 0, EB_OBJECT = 1, EB_FUNC = 2, EB_FILE = 4 };

typedef struct elf_builder elf_builder;

/* A builder for an ELF of type `type` (2 ET_EXEC, 3 ET_DYN) and machine
 * `machine` (62 x86-64, 183 aarch64). Never NULL (aborts on ENOMEM). */
elf_builder *eb_new(unsigned type, unsigned machine);
void eb_free(elf_builder *b);

/* Link-time address of byte `off` of a region. */
uint64_t eb_addr(const elf_builder *b, int region, uint64_t off);

/* Copies n bytes into a region at `off`; returns their address. */
uint64_t eb_put(elf_builder *b, int region, uint64_t off, const void *p, size_t n);

/* Names the custom section (default ".data.custom"); sets the .bss size. */
void eb_custom_name(elf_builder *b, const char *name);
void eb_bss(elf_builder *b, uint64_t bytes);

/* DT_SONAME (none by default). */
void eb_soname(elf_builder *b, const char *soname);

/* Adds a symbol to .dynsym (table 0) or .symtab (table 1), defined in
 * `region` at `value` (region -1: undefined, value ignored). .symtab
 * locals (and EB_FILE entries, which take no region) must come before its
 * globals. */
void eb_sym(elf_builder *b, int table, const char *name, int region, uint64_t value, uint64_t size, int bind,
            int type);

/* Leaves out .symtab and .strtab (a stripped file). */
void eb_strip(elf_builder *b);

/* The finished file (malloc'd; *len its size). The builder can go on
 * being used and finished again. */
unsigned char *eb_finish(elf_builder *b, size_t *len);

/* Writes eb_finish's bytes to path; aborts on failure. */
void eb_write(elf_builder *b, const char *path);

/* CPython pieces. eb_py_runtime: _PyRuntime (0x100 bytes at the start
 * of EB_CUSTOM, which is named ".PyRuntime" when `section`) and
 * Py_Initialize. eb_py_getversion: a Py_GetVersion whose code refers to a
 * format string and to the string `ver` in EB_RODATA (0x00 and 0x40) as
 * the builder's machine's compiler writes it: aarch64 ADRP+ADD, x86-64
 * RIP-relative LEA when `pie`, else absolute MOV immediates (any other
 * machine gets x86-64 code). eb_py_debug_offsets: the cookie, version and
 * free_threaded of _Py_DebugOffsets at the start of EB_CUSTOM.
 * eb_py_version: the Py_Version constant at EB_RODATA 0x80. */
void eb_py_runtime(elf_builder *b, int section);
void eb_py_getversion(elf_builder *b, int pie, const char *ver);
void eb_py_debug_offsets(elf_builder *b, unsigned hex, int free_threaded);
void eb_py_version(elf_builder *b, unsigned hex);

/* Field offsets of the built file, for tests that corrupt it. */
uint64_t eb_shdr_offset(const unsigned char *img, size_t len, const char *section); /* 0: none */

#endif

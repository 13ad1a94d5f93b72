/*
 * elfread.h - a bounded reader of ELF64 little-endian files (executables and
 * shared libraries; x86_64, aarch64 and any other machine), for finding
 * symbols and initialized data of the CPython runtime without running it.
 *
 * Every header, table, offset and string index read from the file is
 * checked against the file's size before use: a hostile or truncated file
 * gives an error message, never a crash, a hang or an allocation larger
 * than the file. The file is read with pread (no mmap, so a file truncated
 * under us gives an error rather than SIGBUS); the symbol tables are read
 * once at open and indexed by a hash of the name, so each lookup costs one
 * probe sequence whatever the table's size.
 *
 * Error messages have the form "PATH: byte N: what is wrong", N being the
 * file offset of the field found wrong, or "PATH: what failed: strerror"
 * for I/O errors.
 *
 * Named elfread.h, not elf.h: capture/ is on the include path of
 * everything that links mscapture, and an "elf.h" there would hide the
 * system's <elf.h> (which the layout tests use). The few constants callers
 * compare with are defined below when <elf.h> has not defined them.
 */
#ifndef MEMSNAP_CAPTURE_ELF_H
#define MEMSNAP_CAPTURE_ELF_H

#include <stddef.h>
#include <stdint.h>

typedef struct elf_file elf_file;

/* Values of e_type and e_machine (as in the ELF specification). */
#ifndef ET_EXEC
#define ET_EXEC 2      /* executable at fixed addresses */
#endif
#ifndef ET_DYN
#define ET_DYN 3       /* position-independent: shared library or PIE */
#endif
#ifndef EM_X86_64
#define EM_X86_64 62
#endif
#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

/* Most symbols (entries of .dynsym plus .symtab) elf_open indexes; more
 * are refused as implausible (libpython has ~20,000). The index costs 40
 * bytes per symbol, so this also caps its memory at 160 MiB. */
#define ELF_MAX_SYMBOLS (1u << 22)

/* Opens and validates the ELF file at `path`: the ELF header, every
 * program header, every section header and section bounds, and every
 * symbol of .dynsym and .symtab (name inside its string table). The
 * symbols are indexed once here. On success returns 0 and stores a handle
 * in *out (free with elf_close); the file descriptor stays open until
 * then (elf_read_vaddr reads through it). On failure returns -1, sets
 * *out to NULL, writes one line into msg (len bytes, may be 0) and sets
 * errno: ENOEXEC when the file is not an ELF file this reader accepts
 * ("PATH: byte N: what is wrong"), else the error of the failed
 * open/read/allocation ("PATH: open: Permission denied"). */
int elf_open(const char *path, elf_file **out, char *msg, size_t len);

/* As elf_open, on `size` bytes in memory named `name` in messages. The
 * bytes are not copied: they must stay valid and unchanged until
 * elf_close. */
int elf_open_mem(const void *data, size_t size, const char *name, elf_file **out, char *msg, size_t len);

/* Closes the file and frees everything of `f`. NULL is a no-op. */
void elf_close(elf_file *f);

/* Value and size of the defined global or weak symbol named exactly
 * `name`: .dynsym is searched first, then .symtab. Undefined symbols
 * (references to other objects) and local symbols are not found (see
 * elf_local_symbol). Values are link-time addresses: add the load bias for
 * the target's address. Either out pointer may be NULL. Returns 0 found,
 * -1 not found. */
int elf_symbol(const elf_file *f, const char *name, uint64_t *value, uint64_t *size);

/* A LOCAL symbol of .symtab defined in source file `file`, e.g.
 * ("obmalloc.c", "arenas"): static variables have common names, so they
 * are looked up in the group of locals that follows the STT_FILE symbol
 * naming `file` (equal to it, or ending in "/" followed by it). With
 * `file` NULL, any defined local of that name (for files whose .symtab has
 * no STT_FILE entries), which must then be unique. Returns 0 found, -1
 * when absent (always for a stripped file) or ambiguous (two definitions
 * with different values). */
int elf_local_symbol(const elf_file *f, const char *file, const char *name, uint64_t *value, uint64_t *size);

/* Address and size of the first section named `name` (e.g. ".PyRuntime").
 * Either out pointer may be NULL. Returns 0 found, -1 not. */
int elf_section(const elf_file *f, const char *name, uint64_t *addr, uint64_t *size);

/* Copies `len` bytes of initialized file data at link-time address
 * `vaddr`, from the one PT_LOAD segment holding all of [vaddr, vaddr+len):
 * bytes past the segment's p_filesz (its .bss part) read as 0. Returns 0,
 * or -1 if the range is not inside one segment or the read fails. */
int elf_read_vaddr(const elf_file *f, uint64_t vaddr, void *buf, size_t len);

/* Reads a NUL-terminated string at `vaddr` into buf (len bytes, len > 0),
 * stopping at the end of its segment. Returns 0 when a NUL was found
 * within len bytes (buf holds the string), -1 otherwise (buf holds "").*/
int elf_read_string(const elf_file *f, uint64_t vaddr, char *buf, size_t len);

/* 1 if the file has a .symtab (not stripped), else 0. */
int elf_has_symtab(const elf_file *f);

/* e_type: ET_EXEC (fixed addresses) or ET_DYN (PIE or shared library). */
int elf_type(const elf_file *f);

/* e_machine: EM_X86_64, EM_AARCH64... */
int elf_machine(const elf_file *f);

/* Load bias of the file when the mapping of its file offset 0 starts at
 * `map_start` in a process: that mapping holds the PT_LOAD segment of
 * lowest p_offset, so bias = map_start - (p_vaddr - p_offset). A symbol's
 * address in the process is its value plus the bias (0 for a non-PIE
 * executable mapped where it was linked). */
uint64_t elf_load_bias(const elf_file *f, uint64_t map_start);

/* DT_SONAME of the dynamic section ("libpython3.12.so.1.0"), or NULL when
 * there is none. The string belongs to `f`. */
const char *elf_soname(const elf_file *f);

/* The path or name `f` was opened with; belongs to `f`. */
const char *elf_path(const elf_file *f);

/* Size of the file in bytes. */
uint64_t elf_file_size(const elf_file *f);

/* Number of symbols indexed (named symbols of .dynsym and .symtab). */
size_t elf_symbol_count(const elf_file *f);

/* One PT_LOAD segment (all fields as in the program header). */
typedef struct {
    uint64_t vaddr;   /* p_vaddr, link-time address */
    uint64_t memsz;   /* p_memsz, bytes in memory */
    uint64_t offset;  /* p_offset, file offset */
    uint64_t filesz;  /* p_filesz, bytes from the file (<= memsz) */
    uint64_t align;   /* p_align */
    unsigned flags;   /* p_flags: PF_R 4, PF_W 2, PF_X 1 */
} elf_segment;

/* Number of PT_LOAD segments, and the i-th in program-header order.
 * elf_load_segment returns 0, or -1 when i is out of range. */
size_t elf_load_count(const elf_file *f);
int elf_load_segment(const elf_file *f, size_t i, elf_segment *out);

#endif

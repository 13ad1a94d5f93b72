/*
 * pyfind.h - finds the CPython runtime of a process from outside it,
 * without running anything and without reading the process's memory: from
 * /proc/PID/maps, /proc/PID/exe and the ELF files the process maps (read
 * through /proc/PID/root, so containers work, or /proc/PID/map_files for
 * deleted and replaced files).
 *
 * What it gives: which ELF image holds _PyRuntime (libpython, or the
 * executable for a static build), that image's load bias and _PyRuntime's
 * address in the target, the exact version (PY_VERSION_HEX) and the build
 * flags, each with the method used in `how`. The heap walker builds on it.
 *
 * Version, from the file only, first method that works:
 *   1. 3.13+: _Py_DebugOffsets at the start of _PyRuntime's initializer:
 *      cookie "xdebugpy", version, free_threaded;
 *   2. 3.11+: the Py_Version constant (read from the file's .rodata);
 *   3. any version: the PY_VERSION string ("3.9.18") that Py_GetVersion's
 *      machine code references (x86-64 RIP-relative LEA or absolute MOV,
 *      aarch64 ADRP+ADD); exact micro for 3.8-3.10 and for old Pythons;
 *   4. the minor only, from the soname ("libpython3.9.so.1.0"), the
 *      library's or executable's file name ("python3.9"), or else which
 *      version-marking API the file exports; PYF_VERSION_GUESSED is set.
 *
 * Several copies of the runtime image (libpython loaded twice, e.g. a
 * second copy by ctypes.CDLL): the files alone cannot tell which copy's
 * _PyRuntime the interpreter initialized. pyfind takes the copy mapped
 * first: the image nearest to the dynamic linker's own mapping (ld.so maps
 * libraries in load order going away from itself; with the default
 * top-down layout that is the highest address, while the first image in
 * maps order is the most recent dlopen). Measured here: a copy loaded with
 * ctypes.CDLL lands below the original. The others are listed in
 * alt_runtime so the walker can check them (e.g. which one has
 * interpreters) and switch; PYF_MULTIPLE is set.
 *
 * Nothing here keeps global state; functions are thread-safe on distinct
 * py_runtime_info structs.
 */
#ifndef MEMSNAP_CAPTURE_PYFIND_H
#define MEMSNAP_CAPTURE_PYFIND_H

#include <stddef.h>
#include <stdint.h>

#include "elfread.h"

/* py_runtime_info.flags. Bits 0-4 are MS_PY_FLAGS of the PY_RUNTIME
 * section (format/SPEC.md); never renumbered. */
enum {
    PYF_SHARED = 1,          /* runtime in a shared libpython (else in the executable) */
    PYF_DEBUG = 2,           /* debug build (Py_DEBUG / Py_REF_DEBUG, ABI flag 'd') */
    PYF_FREE_THREADED = 4,   /* free-threaded build (Py_GIL_DISABLED, ABI flag 't') */
    PYF_PIE = 8,             /* the executable is position-independent (ET_DYN) */
    PYF_STRIPPED = 16,       /* the runtime's ELF has no .symtab: no file-static symbols */
    PYF_VERSION_GUESSED = 32,/* only the minor version is known (micro 0) */
    PYF_MULTIPLE = 64        /* more than one copy of the runtime image is mapped: see alt_runtime */
};

#define PYFIND_MAX_ALT 4

typedef struct py_runtime_info {
    unsigned hexversion;      /* PY_VERSION_HEX; with PYF_VERSION_GUESSED 0x03XX00f0 (micro 0, final) */
    unsigned minor;           /* X of 3.X (or of 2.X) */
    char version[32];         /* "3.12.1", "3.13.0rc1", or "3.9" when the micro is unknown */
    unsigned flags;           /* PYF_* */
    char binary[4096];        /* the executable, as the target sees it (/proc/PID/exe target) */
    char libpython[4096];     /* libpython path as in maps (" (deleted)" removed); "" for a static build */
    char elf_path[4096];      /* path we opened (e.g. /proc/PID/root/usr/lib/..., /proc/PID/map_files/A-B) */
    uint64_t bias;            /* load bias of the ELF that holds _PyRuntime */
    uint64_t runtime;         /* address of _PyRuntime in the target */
    uint64_t runtime_size;    /* bytes of _PyRuntime (symbol size, or .PyRuntime section size) */
    uint64_t image_start;     /* first address of the runtime ELF's mapping chain in the target */
    uint64_t image_end;       /* end (exclusive) of that chain */
    elf_file *elf;            /* that ELF, open; owned (pyfind_free closes it) */
    unsigned n_alt;           /* other mapped copies of the same build (PYF_MULTIPLE) */
    uint64_t alt_runtime[PYFIND_MAX_ALT]; /* _PyRuntime in each of them, in maps order */
    char how[256];            /* how the image and version were determined, for diagnostics */
} py_runtime_info;

enum { PYFIND_OK = 0, PYFIND_NOT_PYTHON = 1, PYFIND_UNSUPPORTED = 2, PYFIND_ERROR = 3 };

/* Finds the CPython runtime of process `pid`. Reads proc_root/PID/maps
 * (proc_root normally "/proc"; tests pass a fake tree), finds the image
 * holding _PyRuntime (the executable if it defines _PyRuntime itself, i.e.
 * a static build; else a libpython*.so* mapping that defines it), opens it
 * through proc_root/PID/root/<path> (containers) or proc_root/PID/exe,
 * checks that the file's segments match the mappings (a replaced file is
 * then read through proc_root/PID/map_files/START-END), computes bias and
 * addresses, and determines the version and flags from the file.
 *
 * *out is always reset first and filled as far as known, whatever the
 * result; call pyfind_free on it in every case. Returns:
 *   PYFIND_OK           everything filled; out->elf is open.
 *   PYFIND_NOT_PYTHON   no CPython runtime in the process; msg is one
 *                       info line ("PID 12: /bin/ls: not a CPython process: ...").
 *   PYFIND_UNSUPPORTED  Python 2, 3.0-3.7, or a free-threaded build; msg
 *                       names the version and why; version/flags filled.
 *   PYFIND_ERROR        permission or I/O failure, process gone, deleted
 *                       or replaced file not readable, file not matching
 *                       its mapping; msg names the path, errno and the fix.
 * msg gets len bytes at most (one line, no newline). */
int pyfind(int pid, const char *proc_root, py_runtime_info *out, char *msg, size_t len);

/* pyfind with the maps text supplied by the caller instead of read from
 * proc_root/PID/maps: `maps` holds maps_len bytes of /proc/PID/maps lines
 * (the named mappings suffice: smaps_named_maps); NULL reads the file as
 * pyfind does. The text is copied; same results and errors as pyfind. */
int pyfind_maps(int pid, const char *proc_root, const char *maps, size_t maps_len, py_runtime_info *out, char *msg,
                size_t len);

/* Determines version and flags from an opened ELF file alone (no process):
 * `name` is the file's name as mapped (soname and file name give the
 * minor and ABI flags when nothing better does; may be NULL). Fills
 * hexversion, minor, version, flags (DEBUG, FREE_THREADED, STRIPPED,
 * VERSION_GUESSED) and how; nothing else of *out is touched. Returns
 * PYFIND_OK, PYFIND_UNSUPPORTED (Python 2 to 3.7, free-threaded: msg says
 * which) or PYFIND_NOT_PYTHON (the file has no CPython runtime or its
 * version cannot be told: msg says why). */
int pyfind_identify(const elf_file *elf, const char *name, py_runtime_info *out, char *msg, size_t len);

/* Target address of the global symbol `name` of the runtime's ELF (bias
 * applied); 0 if absent or pi has no ELF. */
uint64_t pyfind_symbol(const py_runtime_info *pi, const char *name);

/* Target address of the local symbol `name` of source file `file` (see
 * elf_local_symbol); 0 if absent (always for a stripped file). */
uint64_t pyfind_local_symbol(const py_runtime_info *pi, const char *file, const char *name);

/* Closes pi->elf and sets it to NULL. Safe on a zeroed struct and twice. */
void pyfind_free(py_runtime_info *pi);

#endif

/*
 * pyheap_internal.h - the heap walk of pyheap.c on an image that did not
 * come from pausing and copying a process: for the fuzz target
 * (tests/fuzz/fuzz_pyheap.c) and tests. Not part of the agent's API
 * (pyheap.h); pyheap_capture runs the same walk and writes the same rows.
 */
#ifndef MEMSNAP_PYHEAP_INTERNAL_H
#define MEMSNAP_PYHEAP_INTERNAL_H

#include <stdint.h>

#include "msnap.h"
#include "py_layout.h"
#include "pyfind.h"
#include "pyheap.h"
#include "pyimage.h"
#include "redact.h"

/* Where the walk finds the target addresses of the runtime ELF's symbols
 * (type objects, obmalloc.c's statics, allocator functions). pyheap_capture
 * answers from the ELF pyfind opened (pyfind_symbol, pyfind_local_symbol);
 * a test answers from its own table. Each returns 0 for a symbol it does
 * not know; neither may keep the name. */
typedef struct {
    uint64_t (*global)(void *ctx, const char *name);                   /* a global symbol */
    uint64_t (*local)(void *ctx, const char *file, const char *name);  /* a local symbol of source
                                                                          file `file`; file NULL:
                                                                          any unique local */
    void *ctx;                                                          /* passed to both */
} pyheap_syms;

/* What one walk reached (for tests and coverage reports). */
typedef struct {
    uint64_t interpreters;    /* on the interpreters list */
    uint64_t arenas;          /* pymalloc arena ranges (or pools found by their headers) */
    uint64_t pools;           /* used pools to scan */
    uint64_t types;           /* distinct valid types seen */
    uint64_t gc_objects;      /* objects on GC lists */
    uint64_t pool_objects;    /* untracked objects found by the pool scan */
    uint64_t ref_objects;     /* untracked objects reached by reference */
    uint64_t modules;         /* sys.modules entries written */
    int pymalloc;             /* 0 arenas read, 1 unavailable, 2 pools by their headers */
    int walked;               /* 1: the walk ran (no layout mismatch, an interpreter) */
    uint64_t bitmap_bytes;    /* bytes of the bitmap of objects counted (a bit per 8 bytes copied) */
    uint64_t module_bytes;    /* bytes of the strings of the sys.modules rows */
} pyheap_walk_stats;

/* Walks the CPython heap held by `im` as pyheap_capture walks a copy of a
 * process (one attempt, the last: a collection in progress does not stop
 * it), with layout `L`, the runtime described by `pi` (runtime address,
 * minor, flags and alternative runtimes with PYF_MULTIPLE, the version
 * strings and paths written to the PY_RUNTIME row) and symbol addresses
 * from `syms`. Adds the Python sections to the snapshot open in `wr`
 * (between ms_writer_begin and ms_writer_end) and rows to `dg`, fills
 * res->objects and res->copied_bytes, and sets `note` as pyheap_capture
 * does ("" when there is nothing to say). `redact` may be NULL; `st`,
 * when not NULL, receives what the walk reached. Nothing
 * is taken over: the caller frees im, pi, wr and dg. Every byte of the
 * image is untrusted. Returns 0, or an MS_ERR_* code when the writer or a
 * table failed (out of memory). */
int pyheap_walk_image(pyimage *im, const py_runtime_info *pi, const py_layout *L, const pyheap_syms *syms,
                      redactor *redact, ms_writer *wr, ms_table *dg, pyheap_result *res, char *note,
                      size_t note_len, pyheap_walk_stats *st);

#endif

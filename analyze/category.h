/*
 * category.h - which part of a process a memory mapping belongs to: the
 * Python object heap, the C heap, a stack, the interpreter, an extension
 * module, another library, a file, shared memory, other anonymous memory
 * or the kernel. Computed from one snapshot's mappings (and its Python
 * sections when present) by rules documented in category.c's table, which
 * `memsnap schema` and SCHEMA.md print. Some rules are heuristics; their
 * documentation says so.
 */
#ifndef MEMSNAP_CATEGORY_H
#define MEMSNAP_CATEGORY_H

#include <stddef.h>

#include "msnap.h"

/* Categories, in the order their rules are tried after the exact rules
 * (see category.c). Stored in the database by name, never by number. */
typedef enum {
    CAT_KERNEL = 0,
    CAT_STACK,
    CAT_C_HEAP,
    CAT_SHMEM,
    CAT_PYTHON_HEAP,
    CAT_INTERPRETER,
    CAT_PYTHON_EXTENSION,
    CAT_SHARED_LIBRARY,
    CAT_FILE,
    CAT_ANONYMOUS,
    CAT_COUNT
} category_id;

/* Name stored in mappings.category ("python_heap"); never NULL for a
 * valid id. */
const char *category_name(category_id c);

/* The rule that assigns category `c`, one paragraph for people (printed
 * by `memsnap schema`, stored in the categories table). */
const char *category_rule(category_id c);

/* 1 if the rule for `c` is (partly) a heuristic. */
int category_is_heuristic(category_id c);

/* Per-mapping result of category_classify. */
typedef struct {
    category_id cat;    /* the category */
    const char *module; /* extension module name (python_extension), or NULL */
    size_t module_len;  /* its length in bytes */
} category_result;

/* Reusable working memory of category_classify (sorted arena addresses,
 * module index); zero-initialise, free with category_scratch_free. */
typedef struct {
    void *p;    /* owned buffer */
    size_t cap; /* its size, bytes */
} category_scratch;

/* Classifies every row of `s`'s mappings section into out[0..nrows-1]
 * (`out` must have room for ms_section_nrows of that section). Module
 * names point into `s` and live as long as it does. Uses `sc` for
 * working memory. Returns 0, or -1 when out of memory. */
int category_classify(const ms_snapshot *s, category_result *out, category_scratch *sc);

/* Frees the scratch buffer; a zeroed or freed scratch is a no-op. */
void category_scratch_free(category_scratch *sc);

#endif

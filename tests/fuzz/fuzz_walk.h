/*
 * fuzz_walk.h - the one "touch every cell" walker shared by the fuzz
 * targets (fuzz_reader.c, fuzz_payload.c).
 *
 * A decoded snapshot is only proven safe once every value in it has been
 * read through the public accessors: a parser bug that leaves a bad index
 * or a short array behind shows up there, under ASan, and not before. The
 * walker also checks the accessors' documented promises (types, the NUL
 * after each string, sorted column ids) and aborts when one is broken, so
 * the fuzzer reports a broken promise as a crash.
 */
#ifndef FUZZ_WALK_H
#define FUZZ_WALK_H

#include <stdint.h>

#include "msnap.h"

/* Reads every section, column and cell of `s` (every byte of every
 * string) and returns a checksum of what it read, so the compiler cannot
 * drop the reads. Aborts with a message on stderr if an accessor breaks
 * its contract in msnap.h. `s` may be NULL (returns 0). */
uint64_t fuzz_walk_snapshot(const ms_snapshot *s);

/* Prints "fuzz: invariant broken: WHAT" to stderr and aborts. */
void fuzz_fail(const char *what) __attribute__((noreturn));

#endif /* FUZZ_WALK_H */

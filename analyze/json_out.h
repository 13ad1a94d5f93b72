/*
 * json_out.h - minimal JSON writing for memsnap's machine-readable output.
 */
#ifndef MEMSNAP_JSON_OUT_H
#define MEMSNAP_JSON_OUT_H

#include <stddef.h>
#include <stdio.h>

/* Writes bytes as a JSON value: a JSON string when they are valid UTF-8
 * (control characters escaped), otherwise {"hex":"..."} so that no byte is
 * lost. s == NULL writes null. */
void json_bytes(FILE *f, const char *s, size_t len);

/* Writes a NUL-terminated string the same way. */
void json_str(FILE *f, const char *s);

/* Writes len bytes as a JSON string of lowercase hex digits. */
void json_hex(FILE *f, const void *p, size_t len);

/* 1 if [s, s+len) is valid UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t len);

#endif

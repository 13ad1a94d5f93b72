/*
 * redact.h - replacing identifying strings with stable keyed hashes
 * (`memsnap-capture --redact`). The same key gives the same hash for the
 * same string, so snapshots of one case still diff; without the key the
 * hashes cannot be reversed or confirmed by guessing.
 */
#ifndef MEMSNAP_REDACT_H
#define MEMSNAP_REDACT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t k0, k1;  /* SipHash-2-4 key */
    char buf[4200];   /* last result (paths are at most PATH_MAX escaped) */
} redactor;

/* SipHash-2-4 of `len` bytes under key (k0, k1). */
uint64_t siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len);

/* Derives the key from a secret text (any length). */
void redact_init(redactor *r, const char *secret, size_t len);

/* Whether a path lies in a system directory and is kept as is: /usr/,
 * /lib*, /bin/, /sbin/, /etc/, /proc/, /sys/, /dev/ (but not /dev/shm/). */
int redact_path_is_system(const char *path, size_t len);

/* Redacted form of a path: system paths unchanged (returns NULL); others
 * become "/redacted/<16 hex digits><suffix>", keeping the basename's
 * suffix from its first '.' when short (".cpython-311-x86_64-linux-gnu.so")
 * so the analyzer can still tell libraries and extension modules apart
 * (a dot file's leading '.' starts no suffix: ".netrc" is hidden whole),
 * and " (deleted)"-style states are carried by the snapshot separately.
 * The result lives in r->buf until the next call. */
const char *redact_path(redactor *r, const char *path, size_t len, size_t *outlen);

/* "<redacted:16 hex digits>" for any other string; in r->buf. */
const char *redact_text(redactor *r, const char *s, size_t len, size_t *outlen);

#endif

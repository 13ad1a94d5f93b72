/*
 * redact.c - SipHash-2-4 (Aumasson & Bernstein, 2012) as a keyed hash for
 * redaction, and the rules for what is redacted.
 */
#include "redact.h"

#include <stdio.h>
#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                 \
    do {                                                                         \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                   \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                   \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                \
    } while (0)

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint64_t siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t k = 0; i + k < len; k++) b |= (uint64_t)p[i + k] << (8 * k);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

void redact_init(redactor *r, const char *secret, size_t len)
{
    /* Two fixed, distinct keys turn a secret of any length into 128 bits. */
    r->k0 = siphash24(0x6d656d736e617031ULL, 0x7265646163746b30ULL, secret, len);
    r->k1 = siphash24(0x6d656d736e617032ULL, 0x7265646163746b31ULL, secret, len);
}

int redact_path_is_system(const char *path, size_t len)
{
    static const char *const sys[] = {"/usr/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/",
                                      "/sbin/", "/etc/", "/proc/", "/sys/", "/dev/"};
    if (len >= 9 && !memcmp(path, "/dev/shm/", 9)) return 0; /* names chosen by applications */
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        size_t n = strlen(sys[i]);
        if (len >= n && !memcmp(path, sys[i], n)) return 1;
    }
    return 0;
}

const char *redact_path(redactor *r, const char *path, size_t len, size_t *outlen)
{
    if (redact_path_is_system(path, len)) return NULL;
    const char *base = path;
    for (size_t i = 0; i < len; i++)
        if (path[i] == '/') base = path + i + 1;
    size_t blen = (size_t)(path + len - base);
    /* a dot file's leading dot starts its name, not a suffix */
    const char *dot = blen > 1 ? memchr(base + 1, '.', blen - 1) : NULL;
    size_t slen = dot ? (size_t)(path + len - dot) : 0;
    if (slen > 48) slen = 0;
    int n = snprintf(r->buf, sizeof r->buf, "/redacted/%016llx%.*s",
                     (unsigned long long)siphash24(r->k0, r->k1, path, len), (int)slen,
                     slen ? dot : "");
    *outlen = (size_t)n;
    return r->buf;
}

const char *redact_text(redactor *r, const char *s, size_t len, size_t *outlen)
{
    int n = snprintf(r->buf, sizeof r->buf, "<redacted:%016llx>",
                     (unsigned long long)siphash24(r->k0, r->k1, s, len));
    *outlen = (size_t)n;
    return r->buf;
}

/*
 * test_capture_redact.c - cmocka tests of capture/redact.c: SipHash-2-4
 * against the published reference vectors, which paths count as system
 * paths, the shape of redacted paths and texts, and that hashes depend on
 * the key and on nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "capture_test_util.h"
#include "redact.h"

/* SipHash-2-4 with key 00 01 .. 0f over messages 00 01 .. (len-1):
 * vectors_sip64[0..15] of the reference implementation (vectors.h in
 * github.com/veorq/SipHash; the 15-byte one is the example in appendix A
 * of the paper). The hash is the little-endian reading of those bytes. */
static const unsigned char sip_vectors[16][8] = {
    {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72}, {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74},
    {0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d}, {0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85},
    {0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf}, {0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18},
    {0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb}, {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab},
    {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93}, {0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e},
    {0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a}, {0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4},
    {0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75}, {0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14},
    {0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7}, {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1},
};

static const uint64_t K0 = 0x0706050403020100ull, K1 = 0x0f0e0d0c0b0a0908ull;

static void test_siphash_vectors(void **state)
{
    (void)state;
    unsigned char msg[16];
    for (int i = 0; i < 16; i++) msg[i] = (unsigned char)i;
    for (size_t len = 0; len < 16; len++) {
        uint64_t want = 0;
        for (int b = 7; b >= 0; b--) want = (want << 8) | sip_vectors[len][b];
        ct_eq_u64(siphash24(K0, K1, msg, len), want, "SipHash-2-4 of %zu bytes", len);
    }
    /* the values quoted in the paper and commonly cited, spelled out */
    ct_eq_u64(siphash24(K0, K1, msg, 0), 0x726fdb47dd0e0e31ull, "len 0");
    ct_eq_u64(siphash24(K0, K1, msg, 1), 0x74f839c593dc67fdull, "len 1");
    ct_eq_u64(siphash24(K0, K1, msg, 7), 0xab0200f58b01d137ull, "len 7");
    ct_eq_u64(siphash24(K0, K1, msg, 8), 0x93f5f5799a932462ull, "len 8");
    ct_eq_u64(siphash24(K0, K1, msg, 15), 0xa129ca6149be45e5ull, "len 15");
}

static void test_system_paths(void **state)
{
    (void)state;
    static const char *const sys[] = {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/python3.11", "/lib/x.so",
                                      "/lib64/ld-linux-x86-64.so.2", "/lib32/a", "/libx32/a", "/bin/sh", "/sbin/init",
                                      "/etc/ld.so.cache", "/proc/1/maps", "/sys/fs/x", "/dev/zero"};
    static const char *const user[] = {"/tmp/x.so", "/home/alice/app.py", "/opt/app/bin/server", "/dev/shm/sem.x",
                                       "/usr", "/library/x", "/usrlocal/x", "/memfd:cache", "/var/lib/app/db",
                                       "relative/usr/lib", ""};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (!redact_path_is_system(sys[i], strlen(sys[i]))) fail_msg("%s should count as a system path", sys[i]);
    for (size_t i = 0; i < sizeof user / sizeof user[0]; i++)
        if (redact_path_is_system(user[i], strlen(user[i]))) fail_msg("\"%s\" should not count as a system path", user[i]);
    redactor r;
    redact_init(&r, "k", 1);
    size_t ol = 12345;
    if (redact_path(&r, sys[0], strlen(sys[0]), &ol) != NULL) fail_msg("a system path was redacted");
}

/* "/redacted/" + 16 lower-case hex digits + suffix; returns the hash. */
static uint64_t check_redacted_path(const char *got, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);
    if (len != 10 + 16 + sl || strlen(got) != len || strncmp(got, "/redacted/", 10) ||
        strspn(got + 10, "0123456789abcdef") < 16 || strcmp(got + 26, suffix))
        fail_msg("redacted path \"%s\" is not /redacted/<16 hex>%s", got, suffix);
    unsigned long long h;
    sscanf(got + 10, "%16llx", &h);
    return h;
}

static void test_path_shape(void **state)
{
    (void)state;
    redactor r;
    redact_init(&r, "secret", 6);
    static const struct {
        const char *path, *suffix;
    } cases[] = {
        {"/opt/app/lib/_speedups.cpython-311-x86_64-linux-gnu.so", ".cpython-311-x86_64-linux-gnu.so"},
        {"/home/alice/data.tar.gz", ".tar.gz"},
        {"/tmp/msnap/data64k.bin", ".bin"},
        {"/opt/app/bin/server", ""},
        {"/dev/shm/sem.mysem", ".mysem"},
        {"/memfd:jit-cache", ""},
        /* a suffix longer than 48 bytes would carry a name: dropped */
        {"/x/a.0123456789012345678901234567890123456789012345678", ""},
        /* dots in directory names are not suffixes */
        {"/home/alice.smith/notes", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t ol = 0;
        const char *p = cases[i].path;
        const char *o = redact_path(&r, p, strlen(p), &ol);
        if (!o) fail_msg("%s was not redacted", p);
        uint64_t h = check_redacted_path(o, ol, cases[i].suffix);
        /* the hash is SipHash-2-4 of the whole path under the derived key */
        ct_eq_u64(h, siphash24(r.k0, r.k1, p, strlen(p)), "hash in the redacted form of %s", p);
        if (strstr(o, "alice") || strstr(o, "speedups") || strstr(o, "server"))
            fail_msg("redacted \"%s\" still shows a name", o);
    }
    size_t ol;
    const char *t = redact_text(&r, "--password=hunter2", 18, &ol);
    if (ol != 27 || strlen(t) != 27 || strncmp(t, "<redacted:", 10) || strspn(t + 10, "0123456789abcdef") != 16 || strcmp(t + 26, ">"))
        fail_msg("redacted text \"%s\" is not <redacted:16 hex>", t);
}

/* A basename made only of a suffix (a dot file) must not survive
 * redaction whole: ".acme-customer-credentials" names the customer. */
static void test_dotfile_not_kept(void **state)
{
    (void)state;
    redactor r;
    redact_init(&r, "secret", 6);
    const char *p = "/home/alice/.acme-customer-credentials";
    size_t ol;
    const char *o = redact_path(&r, p, strlen(p), &ol);
    if (!o) fail_msg("%s was not redacted", p);
    if (strstr(o, "acme")) fail_msg("redacting %s kept the whole file name: %s", p, o);
    p = "/home/alice/.cache/thing.so";
    o = redact_path(&r, p, strlen(p), &ol);
    check_redacted_path(o, ol, ".so");
}

static void test_key_dependence(void **state)
{
    (void)state;
    redactor a, a2, b;
    redact_init(&a, "key one", 7);
    redact_init(&a2, "key one", 7);
    redact_init(&b, "key two", 7);
    if (a.k0 != a2.k0 || a.k1 != a2.k1) fail_msg("the same secret gave different keys");
    if (a.k0 == b.k0 && a.k1 == b.k1) fail_msg("different secrets gave the same key");
    const char *p = "/tmp/app/cache.db";
    char o1[128], o2[128], o3[128];
    size_t l;
    snprintf(o1, sizeof o1, "%s", redact_path(&a, p, strlen(p), &l));
    snprintf(o2, sizeof o2, "%s", redact_path(&a2, p, strlen(p), &l));
    snprintf(o3, sizeof o3, "%s", redact_path(&b, p, strlen(p), &l));
    if (strcmp(o1, o2)) fail_msg("same input and key, different output: %s vs %s", o1, o2);
    if (!strcmp(o1, o3)) fail_msg("different keys, same output: %s", o1);
    snprintf(o1, sizeof o1, "%s", redact_text(&a, "arg", 3, &l));
    snprintf(o2, sizeof o2, "%s", redact_text(&a2, "arg", 3, &l));
    snprintf(o3, sizeof o3, "%s", redact_text(&b, "arg", 3, &l));
    if (strcmp(o1, o2)) fail_msg("same text and key, different output: %s vs %s", o1, o2);
    if (!strcmp(o1, o3)) fail_msg("different keys, same text output: %s", o1);
    /* different inputs differ; an empty secret is a key like any other */
    snprintf(o2, sizeof o2, "%s", redact_text(&a, "arh", 3, &l));
    if (!strcmp(o1, o2)) fail_msg("different texts, same output: %s", o1);
    redactor e;
    redact_init(&e, "", 0);
    if (e.k0 == a.k0) fail_msg("the empty secret gave the key of \"key one\"");
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors), cmocka_unit_test(test_system_paths),
        cmocka_unit_test(test_path_shape),      cmocka_unit_test(test_dotfile_not_kept),
        cmocka_unit_test(test_key_dependence),
    };
    return cmocka_run_group_tests_name("capture_redact", tests, NULL, NULL);
}

/*
 * make_dict.c - builds memsnap's built-in zstd dictionary #1, the one that
 * codec 2 compresses every payload with (format/SPEC.md 3.5), from
 * synthetic snapshots.
 *
 *   make_dict OUTDIR                  writes OUTDIR/msnap-dict-1.bin
 *   make_dict OUTDIR FILE.msnap ...   also prints what each candidate
 *                                     dictionary makes of the records of
 *                                     FILE.msnap (sizes at levels 9 and 19)
 *
 * Run by hand, once: its output is committed as format/dict/msnap-dict-1.bin
 * and is from then on frozen (SPEC.md states its size and SHA-256, a test
 * checks them). It is kept to show how the dictionary was made; a later
 * dictionary is a new codec, never a new version of this one. Deterministic:
 * the same bytes on every run with the same writer (libmsformat's column
 * encoder) and the same zstd (1.5.4 made the committed file).
 *
 * The samples are snapshots as memsnap-capture writes them, made up from
 * generic knowledge of Linux x86_64 hosts, never captured: /proc/PID/status
 * field names, cgroup v1 and v2 memory.stat and memory.events keys, smaps
 * fields and VmFlags, the library and interpreter paths of Debian, Ubuntu,
 * RHEL, the python Docker images, pyenv, conda, uv and CI tool caches for
 * CPython 3.8 to 3.14, [heap]/[stack]/[vdso]/[vvar]/[anon:...] names,
 * CPython's built-in types and the types and modules of a small program's
 * standard library, pymalloc size classes and arenas, and the diagnostics
 * that memsnap-capture writes (capture/). Numbers, ids, host names and
 * hashes are drawn from a fixed-seed generator. Nothing of the machine
 * that runs this program goes in (a dictionary made from this machine's
 * processes would flatter benchmarks run on it and carry its details).
 *
 * How the dictionary is built, and why (the figures are in the report this
 * program prints and in SPEC.md 3.5): COVER (ZDICT_trainFromBuffer_cover)
 * picks the segments that recur across the samples as the dictionary's
 * content, then ZDICT_finalizeDictionary adds entropy tables fitted to the
 * samples and the dictionary id, MS_DICT1_ID. A raw-content dictionary (the
 * same content, no tables, no id) is measured beside it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZDICT_STATIC_LINKING_ONLY /* ZDICT_trainFromBuffer_cover */
#include <zdict.h>
#include <zstd.h>

#include "msnap.h"

#define DICT_ID 0xCD53u      /* MS_DICT1_ID: "MS" with the high bit, in zstd's private range 32768-65535 */
#define DICT_SIZE (32 * 1024) /* the committed size; the report also shows 16, 24, 48 and 64 KiB */
#ifndef NSAMPLES
#define NSAMPLES 640
#endif
#define SEED 0x6d736e6170646963ull /* "msnapdic" */

/* ------------------------------------------------------------------ basics */

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "make_dict: %s: %s\n", what, detail);
    exit(1);
}

static void ok(int rc, const char *what)
{
    if (rc) die(what, ms_strerror(rc));
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("malloc", "out of memory");
    return p;
}

static uint64_t rng_state = SEED;

static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n) /* 0 .. n-1 */
{
    return n ? rnd64() % n : 0;
}

static uint64_t range(uint64_t lo, uint64_t hi) /* lo .. hi */
{
    return lo + rnd(hi - lo + 1);
}

static int chance(unsigned pct)
{
    return rnd(100) < pct;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a) ((a)[rnd(NELEM(a))])

/* Strings of one sample: formatted into an arena that is reset per sample. */
static char pool_mem[1 << 20];
static size_t arena_used;

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    size_t room = sizeof pool_mem - arena_used;
    int n = vsnprintf(pool_mem + arena_used, room, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) die("fmt", "sample arena full");
    const char *str = pool_mem + arena_used;
    arena_used += (size_t)n + 1;
    return str;
}

static const char *hex(unsigned ndigits)
{
    char b[80];
    for (unsigned i = 0; i < ndigits && i < sizeof b - 1; i++) b[i] = "0123456789abcdef"[rnd(16)];
    b[ndigits < sizeof b ? ndigits : sizeof b - 1] = 0;
    return fmt("%s", b);
}

static const char *uuid(void)
{
    return fmt("%s-%s-%s-%s-%s", hex(8), hex(4), hex(4), hex(4), hex(12));
}

/* --------------------------------------------------------- table helpers */

static ms_table *tab(unsigned type)
{
    ms_table *t = ms_table_new(type);
    if (!t) die("ms_table_new", "out of memory");
    return t;
}
static void row(ms_table *t) { ok(ms_table_row(t), "ms_table_row"); }
static void u(ms_table *t, unsigned col, uint64_t v) { ok(ms_table_u64(t, col, v), "ms_table_u64"); }
static void i64(ms_table *t, unsigned col, int64_t v) { ok(ms_table_i64(t, col, v), "ms_table_i64"); }
static void s(ms_table *t, unsigned col, const char *v) { ok(ms_table_cstr(t, col, v), "ms_table_cstr"); }
static void sn(ms_table *t, unsigned col, const void *v, size_t n) { ok(ms_table_str(t, col, v, n), "ms_table_str"); }

static void add(ms_writer *w, ms_table *t)
{
    if (ms_writer_add(w, t)) die("ms_writer_add", ms_writer_error(w));
    ms_table_free(t);
}

/* ------------------------------------------------------------- the hosts */

typedef enum { D_DEBIAN, D_UBUNTU, D_RHEL, D_AMAZON, D_ALPINE } distro_kind;

typedef struct {
    distro_kind kind;
    const char *libdir;   /* where the C library and friends live */
    const char *ld;       /* the dynamic loader's path as mapped */
    const char *locale;   /* the locale file a process maps */
    const char *gconv;    /* gconv-modules.cache, NULL if none */
    const char *glibc;    /* "2.31": glibc < 2.34, whose files are libc-2.31.so..., with libpthread,
                             libdl, libutil and librt apart; NULL: 2.34 and later */
    const char *kernels[4];
    const char *kversions[2];
    unsigned sys_minor;   /* the distribution's python3 */
    unsigned sys_micro;
    const char *files;    /* "soname=file ...": the file a library's soname resolves to */
} distro;

static const distro distros[] = {
    {D_DEBIAN, "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
     "/usr/lib/locale/C.utf8/LC_CTYPE", "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", NULL,
     {"6.1.0-18-amd64", "6.1.0-28-cloud-amd64", "6.1.0-13-amd64", "6.1.0-26-amd64"},
     {"#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)"},
     11, 2,
     "libz.so.1=libz.so.1.2.13 liblzma.so.5=liblzma.so.5.4.1 libbz2.so.1.0=libbz2.so.1.0.4 libffi.so.8=libffi.so.8.1.2 "
     "libexpat.so.1=libexpat.so.1.8.10 libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 "
     "libreadline.so.8=libreadline.so.8.2 libncursesw.so.6=libncursesw.so.6.4 libtinfo.so.6=libtinfo.so.6.4 "
     "libmpdec.so.3=libmpdec.so.2.5.1 libstdc++.so.6=libstdc++.so.6.0.30 libpcre2-8.so.0=libpcre2-8.so.0.11.2 "
     "libcrypt.so.1=libcrypt.so.1.1.0 libzstd.so.1=libzstd.so.1.5.4 liblz4.so.1=liblz4.so.1.9.4 "
     "libsystemd.so.0=libsystemd.so.0.35.0 libcap.so.2=libcap.so.2.66 libgcrypt.so.20=libgcrypt.so.20.4.1"},
    {D_DEBIAN, "/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu/ld-2.31.so",
     "/usr/lib/locale/C.UTF-8/LC_CTYPE", "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", "2.31",
     {"5.10.0-28-amd64", "5.10.0-30-cloud-amd64", "5.10.0-26-amd64", "5.10.0-32-amd64"},
     {"#1 SMP Debian 5.10.209-2 (2024-01-31)", "#1 SMP Debian 5.10.218-1 (2024-06-01)"}, 9, 2,
     "libz.so.1=libz.so.1.2.11 liblzma.so.5=liblzma.so.5.2.5 libbz2.so.1.0=libbz2.so.1.0.4 libffi.so.8=libffi.so.7.1.0 "
     "libssl.so.3=libssl.so.1.1 libcrypto.so.3=libcrypto.so.1.1 libexpat.so.1=libexpat.so.1.6.12 "
     "libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 libreadline.so.8=libreadline.so.8.1 "
     "libncursesw.so.6=libncursesw.so.6.2 libtinfo.so.6=libtinfo.so.6.2 libmpdec.so.3=libmpdec.so.2.5.1 "
     "libstdc++.so.6=libstdc++.so.6.0.28 libpcre2-8.so.0=libpcre2-8.so.0.10.1 libcrypt.so.1=libcrypt.so.1.1.0"},
    {D_UBUNTU, "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
     "/usr/lib/locale/locale-archive", "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", NULL,
     {"5.15.0-91-generic", "5.15.0-1057-azure", "6.5.0-1014-aws", "5.15.0-119-generic"},
     {"#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023", "#129-Ubuntu SMP Fri Aug 2 19:25:20 UTC 2024"}, 10, 12,
     "libz.so.1=libz.so.1.2.11 liblzma.so.5=liblzma.so.5.2.5 libbz2.so.1.0=libbz2.so.1.0.4 libffi.so.8=libffi.so.8.1.0 "
     "libexpat.so.1=libexpat.so.1.8.7 libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 "
     "libreadline.so.8=libreadline.so.8.1 libncursesw.so.6=libncursesw.so.6.3 libtinfo.so.6=libtinfo.so.6.3 "
     "libmpdec.so.3=libmpdec.so.2.5.1 libstdc++.so.6=libstdc++.so.6.0.30 libpcre2-8.so.0=libpcre2-8.so.0.10.4 "
     "libcrypt.so.1=libcrypt.so.1.1.0 libzstd.so.1=libzstd.so.1.4.8 liblz4.so.1=liblz4.so.1.9.3 "
     "libsystemd.so.0=libsystemd.so.0.32.0 libcap.so.2=libcap.so.2.44 libgcrypt.so.20=libgcrypt.so.20.3.4"},
    {D_UBUNTU, "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
     "/usr/lib/locale/locale-archive", "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", NULL,
     {"6.8.0-45-generic", "6.8.0-1015-aws", "6.8.0-1017-gcp", "6.8.0-31-generic"},
     {"#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024", "#16-Ubuntu SMP Tue Sep 24 13:35:08 UTC 2024"},
     12, 3,
     "libz.so.1=libz.so.1.3 liblzma.so.5=liblzma.so.5.4.5 libbz2.so.1.0=libbz2.so.1.0.4 libffi.so.8=libffi.so.8.1.4 "
     "libexpat.so.1=libexpat.so.1.9.1 libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 "
     "libreadline.so.8=libreadline.so.8.2 libncursesw.so.6=libncursesw.so.6.4 libtinfo.so.6=libtinfo.so.6.4 "
     "libmpdec.so.3=libmpdec.so.2.5.1 libstdc++.so.6=libstdc++.so.6.0.33 libpcre2-8.so.0=libpcre2-8.so.0.11.2 "
     "libcrypt.so.1=libcrypt.so.1.1.0 libzstd.so.1=libzstd.so.1.5.5 liblz4.so.1=liblz4.so.1.9.4 "
     "libsystemd.so.0=libsystemd.so.0.38.0 libcap.so.2=libcap.so.2.66 libgcrypt.so.20=libgcrypt.so.20.4.3"},
    {D_UBUNTU, "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/ld-2.31.so", "/usr/lib/locale/locale-archive",
     "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", "2.31",
     {"5.4.0-169-generic", "5.4.0-1103-aws", "5.15.0-1051-azure", "5.4.0-182-generic"},
     {"#187-Ubuntu SMP Thu Nov 23 14:52:28 UTC 2023", "#58~20.04.1-Ubuntu SMP Tue Oct 3 15:40:17 UTC 2023"}, 8, 10,
     "libz.so.1=libz.so.1.2.11 liblzma.so.5=liblzma.so.5.2.4 libbz2.so.1.0=libbz2.so.1.0.4 libffi.so.8=libffi.so.7.1.0 "
     "libssl.so.3=libssl.so.1.1 libcrypto.so.3=libcrypto.so.1.1 libexpat.so.1=libexpat.so.1.6.11 "
     "libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 libreadline.so.8=libreadline.so.8.0 "
     "libncursesw.so.6=libncursesw.so.6.2 libtinfo.so.6=libtinfo.so.6.2 libmpdec.so.3=libmpdec.so.2.4.2 "
     "libstdc++.so.6=libstdc++.so.6.0.28 libpcre2-8.so.0=libpcre2-8.so.0.9.0 libcrypt.so.1=libcrypt.so.1.1.0"},
    {D_RHEL, "/usr/lib64", "/usr/lib64/ld-linux-x86-64.so.2", "/usr/lib/locale/locale-archive",
     "/usr/lib64/gconv/gconv-modules.cache", NULL,
     {"5.14.0-427.13.1.el9_4.x86_64", "5.14.0-362.8.1.el9_3.x86_64", "5.14.0-503.14.1.el9_5.x86_64",
      "5.14.0-284.30.1.el9_2.x86_64"},
     {"#1 SMP PREEMPT_DYNAMIC Wed Apr 10 10:29:16 EDT 2024", "#1 SMP PREEMPT_DYNAMIC Tue Nov 12 12:13:48 EST 2024"},
     9, 18,
     "libz.so.1=libz.so.1.2.11 liblzma.so.5=liblzma.so.5.2.5 libbz2.so.1.0=libbz2.so.1.0.8 libffi.so.8=libffi.so.8.1.0 "
     "libssl.so.3=libssl.so.3.0.7 libcrypto.so.3=libcrypto.so.3.0.7 libexpat.so.1=libexpat.so.1.6.11 "
     "libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 libreadline.so.8=libreadline.so.8.1 "
     "libncursesw.so.6=libncursesw.so.6.2 libtinfo.so.6=libtinfo.so.6.2 libmpdec.so.3=libmpdec.so.2.5.1 "
     "libstdc++.so.6=libstdc++.so.6.0.29 libpcre2-8.so.0=libpcre2-8.so.0.11.0 libcrypt.so.1=libcrypt.so.2.0.0 "
     "libzstd.so.1=libzstd.so.1.5.1 liblz4.so.1=liblz4.so.1.9.3 libcap.so.2=libcap.so.2.48"},
    {D_RHEL, "/usr/lib64", "/usr/lib64/ld-2.28.so", "/usr/lib/locale/locale-archive",
     "/usr/lib64/gconv/gconv-modules.cache", "2.28",
     {"4.18.0-513.24.1.el8_9.x86_64", "4.18.0-553.16.1.el8_10.x86_64", "4.18.0-477.27.1.el8_8.x86_64",
      "4.18.0-425.3.1.el8.x86_64"},
     {"#1 SMP Thu Apr 4 18:13:02 EDT 2024", "#1 SMP Thu Aug 8 07:11:46 EDT 2024"}, 8, 17,
     "libz.so.1=libz.so.1.2.11 liblzma.so.5=liblzma.so.5.2.4 libbz2.so.1.0=libbz2.so.1.0.6 libffi.so.8=libffi.so.6.0.2 "
     "libssl.so.3=libssl.so.1.1.1k libcrypto.so.3=libcrypto.so.1.1.1k libexpat.so.1=libexpat.so.1.6.7 "
     "libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 libreadline.so.8=libreadline.so.7.0 "
     "libncursesw.so.6=libncursesw.so.6.1 libtinfo.so.6=libtinfo.so.6.1 libmpdec.so.3=libmpdec.so.2.4.2 "
     "libstdc++.so.6=libstdc++.so.6.0.25 libpcre2-8.so.0=libpcre2-8.so.0.7.1 libcrypt.so.1=libcrypt.so.1.1.0"},
    {D_AMAZON, "/usr/lib64", "/usr/lib64/ld-linux-x86-64.so.2", "/usr/lib/locale/locale-archive",
     "/usr/lib64/gconv/gconv-modules.cache", NULL,
     {"6.1.109-118.189.amzn2023.x86_64", "6.1.72-96.166.amzn2023.x86_64", "6.1.115-126.197.amzn2023.x86_64",
      "6.1.102-111.182.amzn2023.x86_64"},
     {"#1 SMP PREEMPT_DYNAMIC Tue Sep 10 20:00:26 UTC 2024", "#1 SMP PREEMPT_DYNAMIC Wed Jan 10 22:34:04 UTC 2024"},
     9, 16,
     "libz.so.1=libz.so.1.2.11 liblzma.so.5=liblzma.so.5.2.5 libbz2.so.1.0=libbz2.so.1.0.8 libffi.so.8=libffi.so.8.1.0 "
     "libssl.so.3=libssl.so.3.0.8 libcrypto.so.3=libcrypto.so.3.0.8 libexpat.so.1=libexpat.so.1.8.10 "
     "libsqlite3.so.0=libsqlite3.so.0.8.6 libuuid.so.1=libuuid.so.1.3.0 libreadline.so.8=libreadline.so.8.1 "
     "libncursesw.so.6=libncursesw.so.6.2 libtinfo.so.6=libtinfo.so.6.2 libstdc++.so.6=libstdc++.so.6.0.29 "
     "libpcre2-8.so.0=libpcre2-8.so.0.11.0 libcrypt.so.1=libcrypt.so.2.0.0 libzstd.so.1=libzstd.so.1.5.5"},
    {D_ALPINE, "/usr/lib", "/lib/ld-musl-x86_64.so.1", NULL, NULL, NULL,
     {"6.6.32-linuxkit", "6.10.14-linuxkit", "6.6.16-linuxkit", "5.15.49-linuxkit"},
     {"#1 SMP Thu Jun 13 14:13:01 UTC 2024", "#1 SMP Fri Nov 29 17:22:03 UTC 2024"}, 12, 8,
     "libz.so.1=libz.so.1.3.1 liblzma.so.5=liblzma.so.5.6.2 libbz2.so.1.0=libbz2.so.1.0.8 libffi.so.8=libffi.so.8.1.4 "
     "libexpat.so.1=libexpat.so.1.9.2 libsqlite3.so.0=libsqlite3.so.0.8.6 libreadline.so.8=libreadline.so.8.2 "
     "libncursesw.so.6=libncursesw.so.6.4 libstdc++.so.6=libstdc++.so.6.0.33 libmpdec.so.3=libmpdec.so.4.0.0 "
     "libcrypt.so.1=libcrypt.so.1.1.0 libzstd.so.1=libzstd.so.1.5.6"},
};

/* Newest micro release per minor, 3.8 to 3.14, at the time of writing. */
static const unsigned max_micro[15] = {[8] = 20, [9] = 21, [10] = 16, [11] = 11, [12] = 8, [13] = 1, [14] = 0};

static const char *const users[] = {"ubuntu", "debian", "ec2-user", "admin", "app", "dev", "user",
                                    "runner", "jenkins", "vagrant", "deploy", "alice", "build", "ci"};

static const char *home(void)
{
    return chance(20) ? "/root" : fmt("/home/%s", PICK(users));
}

typedef enum { P_SYSTEM, P_DOCKER, P_PYENV, P_CONDA, P_UV, P_TOOLCACHE, P_LOCAL } py_kind;

typedef struct {
    int python;           /* 0: some other program */
    unsigned minor, micro;
    py_kind kind;
    const char *exe;      /* /proc/PID/exe */
    const char *libpython;/* NULL: linked into the executable */
    const char *stdlib;   /* .../lib/python3.X */
    const char *dynload;  /* where extension modules live */
    const char *site;     /* site-packages of the program */
    int pie, stripped;
    const char *comm;
} py_install;

static void python_install(const distro *d, py_install *p)
{
    p->python = 1;
    unsigned r = (unsigned)rnd(100);
    p->kind = r < 22 ? P_SYSTEM : r < 44 ? P_DOCKER : r < 70 ? P_PYENV : r < 78 ? P_CONDA : r < 86 ? P_UV
            : r < 92 ? P_TOOLCACHE : P_LOCAL;
    p->minor = (unsigned)range(8, 14);
    p->micro = (unsigned)range(0, max_micro[p->minor]);
    if (p->kind == P_SYSTEM) {
        p->minor = d->sys_minor;
        p->micro = d->sys_micro;
    }
    unsigned m = p->minor;
    const char *prefix;
    p->pie = 1;
    p->stripped = 0;
    switch (p->kind) {
    case P_SYSTEM:
        p->exe = fmt("/usr/bin/python3.%u", m);
        if (d->kind == D_RHEL || d->kind == D_AMAZON) {
            p->libpython = fmt("/usr/lib64/libpython3.%u.so.1.0", m);
            p->stdlib = fmt("/usr/lib64/python3.%u", m);
            p->site = fmt("/usr/lib/python3.%u/site-packages", m);
        } else if (d->kind == D_ALPINE) {
            p->libpython = fmt("/usr/lib/libpython3.%u.so.1.0", m);
            p->stdlib = fmt("/usr/lib/python3.%u", m);
            p->site = fmt("/usr/lib/python3.%u/site-packages", m);
        } else {
            p->libpython = NULL; /* Debian and Ubuntu link libpython into the executable */
            p->pie = d->kind == D_UBUNTU;
            p->stripped = 1;
            p->stdlib = fmt("/usr/lib/python3.%u", m);
            p->site = chance(50) ? "/usr/lib/python3/dist-packages" : fmt("/usr/local/lib/python3.%u/dist-packages", m);
        }
        p->stripped = 1;
        break;
    case P_DOCKER:
        p->exe = fmt("/usr/local/bin/python3.%u", m);
        p->libpython = fmt("/usr/local/lib/libpython3.%u.so.1.0", m);
        p->stdlib = fmt("/usr/local/lib/python3.%u", m);
        p->site = fmt("/usr/local/lib/python3.%u/site-packages", m);
        break;
    case P_PYENV: {
        static const char *const roots[] = {"/.pyenv", "/.pyenv", "/.pyenv", "/.local/share/pyenv"};
        const char *h = chance(12) ? "/opt" : home();
        prefix = !strcmp(h, "/opt") ? fmt("/opt/pyenv/versions/3.%u.%u", m, p->micro)
                                    : fmt("%s%s/versions/3.%u.%u", h, PICK(roots), m, p->micro);
        goto prefixed;
    }
    case P_CONDA: {
        static const char *const bases[] = {"/opt/conda", "/miniconda3", "/anaconda3", "/miniforge3", "/opt/miniconda3"};
        const char *b = PICK(bases);
        prefix = b[1] == 'o' ? b : fmt("%s%s", home(), b);
        if (chance(40)) prefix = fmt("%s/envs/%s", prefix, chance(50) ? "py3" : fmt("py3%u", m));
        p->libpython = NULL;
        goto prefixed_static;
    }
    case P_UV:
        prefix = fmt("%s/.local/share/uv/python/cpython-3.%u.%u-linux-x86_64-gnu", home(), m, p->micro);
        p->libpython = NULL;
        goto prefixed_static;
    case P_TOOLCACHE:
        prefix = fmt("/opt/hostedtoolcache/Python/3.%u.%u/x64", m, p->micro);
        goto prefixed;
    case P_LOCAL:
        prefix = chance(50) ? "/usr/local" : fmt("/opt/python/3.%u.%u", m, p->micro);
        goto prefixed;
    }
    return;
prefixed:
    p->libpython = chance(75) ? fmt("%s/lib/libpython3.%u.so.1.0", prefix, m) : NULL;
prefixed_static:
    p->exe = fmt("%s/bin/python3.%u", prefix, m);
    p->stdlib = fmt("%s/lib/python3.%u", prefix, m);
    p->site = fmt("%s/lib/python3.%u/site-packages", prefix, m);
    if (chance(30)) p->site = fmt("%s/%s/.venv/lib/python3.%u/site-packages", home(),
                                  chance(50) ? "app" : "project", m);
    if (!p->libpython) p->stripped = chance(30);
    return;
}

static void python_finish(py_install *p)
{
    p->dynload = fmt("%s/lib-dynload", p->stdlib);
    p->comm = chance(70) ? fmt("python3.%u", p->minor) : chance(50) ? "python3" : "python";
}

/* ---------------------------------------------------------- the mappings */

typedef struct {
    uint64_t start, end, offset, inode;
    unsigned perms, major, minor;
    const char *path;     /* NULL: anonymous */
    const char *vmflags;
    uint64_t rss, pss, shared_clean, shared_dirty, private_clean, private_dirty, anon_huge, swap;
    int deleted;
} mapping;

typedef struct {
    mapping m[400];
    size_t n;
    uint64_t next_top;    /* mmap area: the next object is placed below this */
    unsigned dev_major, dev_minor;
    int soft_dirty;       /* the kernel prints "sd" on dirty-tracked mappings */
    int pkeys, pss_dirty, ksm;
} maps;

enum { PR = 1, PW = 2, PX = 4, PS = 8, PP = 16 };

static const char *vmflags_of(const maps *M, unsigned perms, int file, int special)
{
    const char *sd = M->soft_dirty ? " sd" : "";
    switch (special) {
    case 1: return fmt("rd wr mr mw me gd ac%s", sd);        /* [stack] */
    case 2: return "rd mr pf io de dd";                      /* [vvar] */
    case 3: return "rd ex mr mw me de";                      /* [vdso] */
    case 4: return "ex";                                     /* [vsyscall] */
    case 5: return fmt("rd mr me ms%s", sd);                 /* shared read-only file */
    case 6: return fmt("mr mw me ac%s", sd);                 /* guard page, PROT_NONE */
    case 7: return fmt("rd wr mr mw me nr%s", sd);           /* MAP_NORESERVE arena */
    case 8: return fmt("rd wr mr mw me ac hg%s", sd);        /* madvise(MADV_HUGEPAGE) */
    default: break;
    }
    if (perms & PX) return fmt("rd ex mr mw me%s", file ? "" : " ac");
    if (perms & PW) return fmt("rd wr mr mw me ac%s", sd);
    if (!file) return fmt("rd mr mw me ac%s", sd);
    return chance(50) ? "rd mr mw me" : "rd mr mw me ac";   /* after relocation: ac */
}

static mapping *map_push(maps *M, uint64_t start, uint64_t kib, unsigned perms, const char *path, uint64_t off,
                         uint64_t inode)
{
    if (M->n >= NELEM(M->m)) return NULL;
    mapping *m = &M->m[M->n++];
    memset(m, 0, sizeof *m);
    m->start = start;
    m->end = start + (kib << 10);
    m->perms = perms;
    m->path = path;
    m->offset = off;
    m->inode = inode;
    if (path && path[0] == '/') {
        m->major = M->dev_major;
        m->minor = M->dev_minor;
    }
    return m;
}

/* Resident figures: a share of the mapping, clean or dirty, shared with
 * `sharers` other processes. */
static void resident(mapping *m, double frac, int dirty, unsigned sharers)
{
    uint64_t kib = (m->end - m->start) >> 10;
    uint64_t rss = (uint64_t)((double)kib * frac) & ~3ull;
    if (rss > kib) rss = kib;
    m->rss = rss;
    if (dirty) {
        m->private_dirty = rss;
        m->pss = rss;
    } else if (sharers > 1) {
        m->shared_clean = rss;
        m->pss = rss / sharers;
    } else {
        m->private_clean = rss;
        m->pss = rss;
    }
}

/* A shared library, placed below M->next_top: r--p, r-xp, r--p, r--p (relro),
 * rw-p, and sometimes an anonymous rw-p for its bss. */
static void map_library(maps *M, const char *path, uint64_t text_kib)
{
    uint64_t hdr = 4 * range(1, 40), text = text_kib & ~3ull, ro = 4 * range(1, 1 + text_kib / 12);
    uint64_t relro = 4 * range(1, 8), data = 4 * range(1, 4), bss = chance(35) ? 4 * range(1, 64) : 0;
    if (text < 4) text = 4;
    uint64_t total = hdr + text + ro + relro + data + bss;
    uint64_t base = M->next_top - (total << 10) - (chance(30) ? 4096 * range(1, 16) : 0);
    M->next_top = base;
    uint64_t inode = range(2000, 9000000);
    unsigned sharers = (unsigned)range(1, 12);
    mapping *m;
    uint64_t a = base, off = 0;
    if ((m = map_push(M, a, hdr, PR | PP, path, off, inode))) {
        resident(m, 0.5 + rnd(50) / 100.0, 0, sharers);
        m->vmflags = vmflags_of(M, m->perms, 1, 0);
    }
    a += hdr << 10, off += hdr << 10;
    if ((m = map_push(M, a, text, PR | PX | PP, path, off, inode))) {
        resident(m, rnd(90) / 100.0, 0, sharers);
        m->vmflags = vmflags_of(M, m->perms, 1, 0);
    }
    a += text << 10, off += text << 10;
    if ((m = map_push(M, a, ro, PR | PP, path, off, inode))) {
        resident(m, rnd(80) / 100.0, 0, sharers);
        m->vmflags = vmflags_of(M, m->perms, 1, 0);
    }
    a += ro << 10, off += ro << 10;
    if ((m = map_push(M, a, relro, PR | PP, path, off, inode))) {
        resident(m, 1.0, 1, 1);
        m->vmflags = fmt("rd mr mw me ac%s", M->soft_dirty ? " sd" : "");
    }
    a += relro << 10, off += relro << 10;
    if ((m = map_push(M, a, data, PR | PW | PP, path, off, inode))) {
        resident(m, 1.0, 1, 1);
        m->vmflags = vmflags_of(M, m->perms, 1, 0);
    }
    a += data << 10;
    if (bss && (m = map_push(M, a, bss, PR | PW | PP, NULL, 0, 0))) {
        resident(m, rnd(100) / 100.0, 1, 1);
        m->vmflags = vmflags_of(M, m->perms, 0, 0);
    }
}

static void map_anon(maps *M, uint64_t kib, const char *name, double frac, int special)
{
    uint64_t base = M->next_top - (kib << 10);
    M->next_top = base - (chance(50) ? 4096 * range(1, 64) : 0);
    mapping *m = map_push(M, base, kib, PR | PW | PP, name, 0, 0);
    if (!m) return;
    resident(m, frac, 1, 1);
    if (kib >= 2048 && chance(20)) m->anon_huge = (m->rss / 2048) * 2048;
    m->vmflags = vmflags_of(M, m->perms, 0, special);
}

static void map_file_ro(maps *M, const char *path, uint64_t kib, int shared)
{
    uint64_t base = M->next_top - (kib << 10);
    M->next_top = base;
    mapping *m = map_push(M, base, kib, PR | (shared ? PS : PP), path, 0, range(2000, 9000000));
    if (!m) return;
    resident(m, rnd(100) / 100.0, 0, (unsigned)range(1, 30));
    m->vmflags = shared ? vmflags_of(M, m->perms, 1, 5) : "rd mr mw me";
}

static int cmp_map(const void *a, const void *b)
{
    const mapping *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Extension modules commonly loaded, with the shared library each needs. */
static const struct {
    const char *mod, *so, *lib; /* lib: file name of a library it links, or NULL */
} extmods[] = {
    {"_ssl", "_ssl", "libssl.so.3"},        {"_hashlib", "_hashlib", "libcrypto.so.3"},
    {"_json", "_json", NULL},               {"_struct", "_struct", NULL},
    {"math", "math", NULL},                 {"_datetime", "_datetime", NULL},
    {"_decimal", "_decimal", "libmpdec.so.3"}, {"select", "select", NULL},
    {"_socket", "_socket", NULL},           {"array", "array", NULL},
    {"_random", "_random", NULL},           {"_bisect", "_bisect", NULL},
    {"_blake2", "_blake2", NULL},           {"binascii", "binascii", NULL},
    {"zlib", "zlib", "libz.so.1"},          {"_bz2", "_bz2", "libbz2.so.1.0"},
    {"_lzma", "_lzma", "liblzma.so.5"},     {"_ctypes", "_ctypes", "libffi.so.8"},
    {"_posixsubprocess", "_posixsubprocess", NULL}, {"fcntl", "fcntl", NULL},
    {"unicodedata", "unicodedata", NULL},   {"_csv", "_csv", NULL},
    {"_pickle", "_pickle", NULL},           {"_queue", "_queue", NULL},
    {"_asyncio", "_asyncio", NULL},         {"_uuid", "_uuid", "libuuid.so.1"},
    {"_opcode", "_opcode", NULL},           {"pyexpat", "pyexpat", "libexpat.so.1"},
    {"_contextvars", "_contextvars", NULL}, {"_heapq", "_heapq", NULL},
    {"_sqlite3", "_sqlite3", "libsqlite3.so.0"}, {"_multiprocessing", "_multiprocessing", NULL},
    {"_statistics", "_statistics", NULL},   {"termios", "termios", NULL},
    {"resource", "resource", NULL},         {"grp", "grp", NULL},
    {"mmap", "mmap", NULL},                 {"readline", "readline", "libreadline.so.8"},
    {"_zoneinfo", "_zoneinfo", NULL},       {"_sha2", "_sha2", NULL},
    {"_md5", "_md5", NULL},                 {"_elementtree", "_elementtree", NULL},
    {"_curses", "_curses", "libncursesw.so.6"}, {"_lsprof", "_lsprof", NULL},
    {"_typing", "_typing", NULL},           {"_sha512", "_sha512", NULL},
};

typedef struct {
    size_t ext[NELEM(extmods)]; /* indices into extmods of the loaded extension modules */
    size_t next;
} extset;

static const char *so_name(const py_install *p, const char *base)
{
    return fmt("%s/%s.cpython-3%u-x86_64-linux-gnu.so", p->dynload, base, p->minor);
}

static const char *const plain_programs[][3] = {
    /* comm, exe, arguments separated by '|' */
    {"bash", "/usr/bin/bash", "bash"},
    {"sleep", "/usr/bin/sleep", "sleep|3600"},
    {"nginx", "/usr/sbin/nginx", "nginx: worker process"},
    {"sshd", "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
    {"postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres: checkpointer "},
    {"redis-server", "/usr/bin/redis-server", "/usr/bin/redis-server 127.0.0.1:6379"},
    {"node", "/usr/bin/node", "node|server.js"},
    {"java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "java|-jar|app.jar"},
    {"cron", "/usr/sbin/cron", "/usr/sbin/cron|-f"},
    {"systemd", "/usr/lib/systemd/systemd", "/sbin/init"},
};

/* The path a process maps for a library's soname: the file the soname
 * resolves to in distribution d (libz.so.1.2.13, libc-2.31.so...). */
static const char *lib_path(const distro *d, const char *soname)
{
    static const char *const glibc[] = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "libutil.so.1",
                                        "librt.so.1"};
    if (d->glibc)
        for (size_t k = 0; k < NELEM(glibc); k++)
            if (!strcmp(soname, glibc[k]))
                return fmt("%s/%.*s-%s.so", d->libdir, (int)strcspn(soname, "."), soname, d->glibc);
    size_t n = strlen(soname);
    for (const char *f = d->files; (f = strstr(f, soname)); f += n)
        if ((f == d->files || f[-1] == ' ') && f[n] == '=') {
            f += n + 1;
            return fmt("%s/%.*s", d->libdir, (int)strcspn(f, " "), f);
        }
    return fmt("%s/%s", d->libdir, soname);
}

static void gen_maps(maps *M, const distro *d, const py_install *p, extset *X, int app, size_t plain)
{
    M->n = 0;
    M->dev_major = (unsigned)PICK(((const unsigned[]){8, 259, 253, 254, 0, 202}));
    M->dev_minor = M->dev_major == 0 ? (unsigned)range(20, 200) : (unsigned)range(0, 3);
    M->soft_dirty = d->kind != D_ALPINE && chance(60);
    M->next_top = 0x7f0000000000ull + (rnd(0xfffffff) << 12);
    uint64_t exe_base = 0x400000;
    int pie = p->python ? p->pie : 1;
    if (pie) exe_base = (0x55 + rnd(2)) * 0x10000000000ull + (rnd(0xffffff) << 12);
    const char *exe = p->python ? p->exe : plain_programs[plain][1];
    uint64_t exe_inode = range(2000, 9000000);
    int big_exe = p->python && !p->libpython; /* the interpreter is in the executable */
    uint64_t parts[5] = {big_exe ? 4 * range(200, 400) : 4 * range(1, 20), big_exe ? 4 * range(500, 900) : 4 * range(1, 200),
                         big_exe ? 4 * range(300, 600) : 4 * range(1, 80), 4 * range(1, 8), big_exe ? 4 * range(60, 120) : 4 * range(1, 8)};
    static const unsigned eperms[5] = {PR | PP, PR | PX | PP, PR | PP, PR | PP, PR | PW | PP};
    uint64_t a = exe_base, off = 0;
    for (int k = 0; k < 5; k++) {
        mapping *m = map_push(M, a, parts[k], eperms[k], exe, off, exe_inode);
        if (!m) break;
        resident(m, k >= 3 ? 1.0 : rnd(100) / 100.0, k >= 3, k >= 3 ? 1 : (unsigned)range(1, 4));
        m->vmflags = k == 3 ? fmt("rd mr mw me ac%s", M->soft_dirty ? " sd" : "") : vmflags_of(M, eperms[k], 1, 0);
        a += parts[k] << 10;
        off += parts[k] << 10;
    }
    if (big_exe) { /* bss */
        mapping *m = map_push(M, a, 4 * range(20, 80), PR | PW | PP, NULL, 0, 0);
        if (m) {
            resident(m, rnd(100) / 100.0, 1, 1);
            m->vmflags = vmflags_of(M, m->perms, 0, 0);
        }
    }
    /* [heap] a little after the executable */
    uint64_t heap_kib = p->python ? 4 * range(100, app ? 20000 : 1500) : 4 * range(33, 2000);
    mapping *h = map_push(M, a + (pie ? rnd(0x2000000) << 12 : 0) + 0x1000, heap_kib, PR | PW | PP, "[heap]", 0, 0);
    if (h) {
        resident(h, 0.6 + rnd(40) / 100.0, 1, 1);
        h->vmflags = vmflags_of(M, h->perms, 0, 0);
    }

    /* the mmap area, top down: the loader first, then what it loads */
    map_library(M, d->ld, 4 * range(30, 45));
    static const char *const old_libs[] = {"libpthread.so.0", "libdl.so.2", "libutil.so.1", "librt.so.1"};
    if (d->kind == D_ALPINE) {
        /* musl: the loader is the C library */
    } else {
        map_library(M, lib_path(d, "libc.so.6"), 4 * range(350, 420));
        if (d->glibc)
            for (size_t k = 0; k < NELEM(old_libs); k++)
                if (p->python || chance(40)) map_library(M, lib_path(d, old_libs[k]), 4 * range(2, 20));
    }
    if (p->python) {
        map_library(M, lib_path(d, "libm.so.6"), 4 * range(100, 130));
        if (d->kind != D_ALPINE && chance(50)) map_library(M, lib_path(d, "libz.so.1"), 4 * range(15, 25));
        if (p->minor <= 9 || chance(20)) map_library(M, lib_path(d, "libcrypt.so.1"), 4 * range(20, 40));
        if (p->libpython) map_library(M, p->libpython, 4 * range(650, 1100));
    } else {
        static const char *const libs[] = {"libpcre2-8.so.0", "libselinux.so.1", "libtinfo.so.6", "libcrypto.so.3",
                                           "libssl.so.3",     "libz.so.1",       "libgcc_s.so.1",  "libstdc++.so.6",
                                           "libm.so.6",       "libcap.so.2",     "libsystemd.so.0", "liblz4.so.1",
                                           "libzstd.so.1",    "libgcrypt.so.20", "libaudit.so.1",  "libpam.so.0"};
        size_t nl = range(1, 8);
        for (size_t k = 0; k < nl; k++) map_library(M, lib_path(d, PICK(libs)), 4 * range(20, 900));
    }
    if (d->locale) map_file_ro(M, d->locale, d->locale[strlen(d->locale) - 1] == 'E' ? 4 * range(80, 90) : 4 * range(700, 3000), 0);
    if (!p->python && d->locale && strstr(d->locale, "/LC_CTYPE")) {
        /* setlocale(LC_ALL, "") with a C.UTF-8 directory maps every category's file */
        static const char *const cat[] = {"LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY",
                                          "LC_MESSAGES/SYS_LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS",
                                          "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION"};
        size_t dl = strlen(d->locale) - strlen("LC_CTYPE");
        for (size_t k = 0; k < NELEM(cat); k++)
            map_file_ro(M, fmt("%.*s%s", (int)dl, d->locale, cat[k]), k == 2 ? 4 * range(300, 1600) : 4, 0);
    }
    if (d->gconv && chance(60)) map_file_ro(M, d->gconv, 4 * range(6, 7), 1);
    if (p->python) {
        /* extension modules and the libraries they link */
        for (size_t k = 0; k < X->next; k++) {
            const char *lib = extmods[X->ext[k]].lib;
            if (lib && chance(80)) map_library(M, lib_path(d, lib), 4 * range(30, 900));
            map_library(M, so_name(p, extmods[X->ext[k]].so), 4 * range(4, 60));
        }
        /* pymalloc arenas and other anonymous memory */
        size_t narenas = range(1, app ? 24 : 4);
        uint64_t arena_kib = p->minor >= 10 ? 1024 : 256;
        for (size_t k = 0; k < narenas; k++) {
            const char *name = NULL;
            if (p->minor >= 14 || (p->minor == 13 && chance(50))) name = "[anon:cpython:pymalloc]";
            map_anon(M, arena_kib * (chance(70) ? 1 : range(2, 8)), name, rnd(100) / 100.0, chance(10) ? 7 : 0);
        }
        if (chance(20)) map_anon(M, 4 * range(256, 4096), chance(40) ? "[anon:glibc: malloc arena]" : NULL, 0.3, 0);
        if (p->minor >= 13 && chance(15)) map_anon(M, 4 * range(64, 1024), "[anon:cpython:jit]", 0.5, 0);
    } else {
        size_t na = range(0, 6);
        for (size_t k = 0; k < na; k++) map_anon(M, 4 * range(2, 16384), chance(10) ? "[anon:glibc: malloc arena]" : NULL,
                                                  rnd(100) / 100.0, chance(10) ? 8 : 0);
    }
    size_t threads = app ? range(0, 6) : (size_t)chance(20);
    for (size_t k = 0; k < threads; k++) {
        map_anon(M, 8192, NULL, 0.02, 0);
        uint64_t base = M->next_top - 4096;
        mapping *g = map_push(M, base, 4, PP, NULL, 0, 0);
        if (g) g->vmflags = vmflags_of(M, 0, 0, 6);
        M->next_top = base;
    }
    if (chance(8)) {
        mapping *m = map_push(M, M->next_top - 0x100000, 1024, PR | PW | PS, fmt("/dev/shm/%s", hex(8)), 0,
                              range(2, 99999));
        if (m) {
            m->major = 0;
            m->minor = (unsigned)range(20, 30);
            resident(m, 0.5, 0, 2);
            m->vmflags = "rd wr sh mr mw me ms";
            m->deleted = chance(50);
        }
    }
    if (chance(8)) {
        mapping *m = map_push(M, M->next_top - 0x200000, 2048, PR | PW | PS, "/memfd:doublemapper", 0, range(2, 99999));
        if (m) {
            m->major = 0;
            m->minor = 1;
            m->deleted = 1;
            m->vmflags = "rd wr sh mr mw me ms";
        }
    }
    /* the stack, [vvar], [vdso], [vsyscall] */
    uint64_t stack = 0x7ffc00000000ull + (rnd(0x3ffffff) << 12);
    mapping *m = map_push(M, stack, 4 * range(33, 40), PR | PW | PP, "[stack]", 0, 0);
    if (m) {
        resident(m, 0.3, 1, 1);
        m->vmflags = vmflags_of(M, m->perms, 0, 1);
    }
    uint64_t vv = stack + 0x3000000 + (rnd(0xfff) << 12);
    int vclock = chance(30); /* 6.x kernels split [vvar] and [vvar_vclock] */
    if ((m = map_push(M, vv, 16, PR | PP, "[vvar]", 0, 0))) m->vmflags = vmflags_of(M, 0, 0, 2);
    if (vclock && (m = map_push(M, vv + 0x4000, 8, PR | PP, "[vvar_vclock]", 0, 0))) m->vmflags = vmflags_of(M, 0, 0, 2);
    if ((m = map_push(M, vv + (vclock ? 0x6000 : 0x4000), 8, PR | PX | PP, "[vdso]", 0, 0))) {
        resident(m, 1.0, 0, 100);
        m->vmflags = vmflags_of(M, 0, 0, 3);
    }
    if (d->kind != D_ALPINE && (m = map_push(M, 0xffffffffff600000ull, 4, PX | PP, "[vsyscall]", 0, 0)))
        m->vmflags = vmflags_of(M, 0, 0, 4);
    qsort(M->m, M->n, sizeof M->m[0], cmp_map);
}

static ms_table *mappings_table(const maps *M, const char *(*redact)(const char *))
{
    ms_table *t = tab(MS_SEC_MAPPINGS);
    for (size_t k = 0; k < M->n; k++) {
        const mapping *m = &M->m[k];
        row(t);
        u(t, MS_MAP_START, m->start);
        u(t, MS_MAP_END, m->end);
        u(t, MS_MAP_PERMS, m->perms);
        u(t, MS_MAP_OFFSET, m->offset);
        u(t, MS_MAP_DEV_MAJOR, m->major);
        u(t, MS_MAP_DEV_MINOR, m->minor);
        u(t, MS_MAP_INODE, m->inode);
        s(t, MS_MAP_PATH, m->path && redact ? redact(m->path) : m->path);
        u(t, MS_MAP_DELETED, (uint64_t)m->deleted);
        uint64_t kib = (m->end - m->start) >> 10;
        u(t, MS_MAP_SIZE, kib);
        u(t, MS_MAP_KERNEL_PAGE_SIZE, 4);
        u(t, MS_MAP_MMU_PAGE_SIZE, 4);
        u(t, MS_MAP_RSS, m->rss);
        u(t, MS_MAP_PSS, m->pss);
        if (M->pss_dirty) u(t, MS_MAP_PSS_DIRTY, m->private_dirty + m->shared_dirty);
        u(t, MS_MAP_SHARED_CLEAN, m->shared_clean);
        u(t, MS_MAP_SHARED_DIRTY, m->shared_dirty);
        u(t, MS_MAP_PRIVATE_CLEAN, m->private_clean);
        u(t, MS_MAP_PRIVATE_DIRTY, m->private_dirty);
        u(t, MS_MAP_REFERENCED, m->rss - (m->rss > 8 && chance(20) ? 4 : 0));
        u(t, MS_MAP_ANONYMOUS, m->path && m->path[0] == '/' ? (m->perms & PW ? m->private_dirty : 0) : m->private_dirty);
        if (M->ksm) u(t, MS_MAP_KSM, 0);
        u(t, MS_MAP_LAZYFREE, 0);
        u(t, MS_MAP_ANON_HUGE, m->anon_huge);
        u(t, MS_MAP_SHMEM_PMD, 0);
        u(t, MS_MAP_FILE_PMD, 0);
        u(t, MS_MAP_SHARED_HUGETLB, 0);
        u(t, MS_MAP_PRIVATE_HUGETLB, 0);
        u(t, MS_MAP_SWAP, m->swap);
        u(t, MS_MAP_SWAP_PSS, m->swap);
        u(t, MS_MAP_LOCKED, 0);
        u(t, MS_MAP_THP_ELIGIBLE, !m->path && kib >= 2048);
        if (M->pkeys) u(t, MS_MAP_PROTECTION_KEY, 0);
        s(t, MS_MAP_VMFLAGS, m->vmflags);
    }
    return t;
}

/* ----------------------------------------------------- the Python types */

typedef struct {
    const char *name;     /* tp_name */
    const char *module;   /* heap types: __module__; NULL: a static type */
    unsigned char lo, hi; /* minor versions that have it */
    unsigned char gc;     /* Py_TPFLAGS_HAVE_GC */
    unsigned short size;  /* a typical instance size, bytes */
    unsigned short count; /* a typical count in a bare interpreter; 0: only in programs that import more */
} ty_def;

static const ty_def type_defs[] = {
    {"dict", NULL, 8, 14, 1, 232, 600},
    {"str", NULL, 8, 14, 0, 72, 5400},
    {"type", NULL, 8, 14, 1, 950, 240},
    {"function", NULL, 8, 14, 1, 160, 560},
    {"wrapper_descriptor", NULL, 8, 14, 1, 72, 1040},
    {"method_descriptor", NULL, 8, 14, 1, 72, 650},
    {"builtin_function_or_method", NULL, 8, 14, 1, 72, 600},
    {"tuple", NULL, 8, 14, 1, 64, 2000},
    {"set", NULL, 8, 14, 1, 216, 40},
    {"ABCMeta", "abc", 8, 14, 1, 940, 32},
    {"weakref", NULL, 8, 11, 1, 80, 380},
    {"weakref.ReferenceType", NULL, 12, 14, 1, 80, 390},
    {"member_descriptor", NULL, 8, 14, 1, 64, 270},
    {"frozenset", NULL, 8, 14, 1, 216, 34},
    {"getset_descriptor", NULL, 8, 14, 1, 64, 220},
    {"int", NULL, 8, 14, 0, 28, 600},
    {"list", NULL, 8, 14, 1, 88, 65},
    {"bytes", NULL, 8, 14, 0, 96, 780},
    {"code", NULL, 8, 14, 0, 350, 570},
    {"module", NULL, 8, 14, 1, 72, 32},
    {"_abc._abc_data", NULL, 8, 11, 1, 64, 33},
    {"_abc._abc_data", "_abc", 12, 14, 1, 64, 33},
    {"classmethod", NULL, 8, 14, 1, 48, 44},
    {"classmethod_descriptor", NULL, 8, 14, 1, 72, 26},
    {"ModuleSpec", "_frozen_importlib", 8, 14, 1, 48, 30},
    {"cell", NULL, 8, 14, 1, 40, 23},
    {"_DeprecateByteStringMeta", "collections.abc", 12, 13, 1, 936, 1},
    {"staticmethod", NULL, 8, 14, 1, 48, 17},
    {"types.SimpleNamespace", NULL, 8, 14, 1, 40, 15},
    {"_io.TextIOWrapper", NULL, 8, 11, 1, 216, 3},
    {"_io.TextIOWrapper", "_io", 12, 14, 1, 216, 3},
    {"float", NULL, 8, 14, 0, 24, 8},
    {"property", NULL, 8, 14, 1, 80, 3},
    {"FileFinder", "_frozen_importlib_external", 8, 14, 1, 48, 4},
    {"_io.FileIO", NULL, 8, 11, 1, 64, 3},
    {"_io.FileIO", "_io", 12, 14, 1, 64, 3},
    {"sys.flags", NULL, 8, 14, 1, 184, 1},
    {"_io.BufferedReader", NULL, 8, 11, 1, 168, 1},
    {"_io.BufferedReader", "_io", 12, 14, 1, 168, 1},
    {"_io.BufferedWriter", NULL, 8, 11, 1, 168, 2},
    {"_io.BufferedWriter", "_io", 12, 14, 1, 168, 2},
    {"SourceFileLoader", "_frozen_importlib_external", 8, 14, 1, 48, 3},
    {"_Printer", "_sitebuiltins", 8, 14, 1, 48, 3},
    {"sys.float_info", NULL, 8, 14, 1, 128, 1},
    {"sys.hash_info", NULL, 8, 14, 1, 112, 1},
    {"CodecInfo", "codecs", 8, 14, 1, 88, 1},
    {"IncrementalEncoder", "encodings.utf_8", 8, 14, 1, 48, 2},
    {"Quitter", "_sitebuiltins", 8, 14, 1, 48, 2},
    {"_Environ", "os", 8, 14, 1, 48, 2},
    {"sys.int_info", NULL, 8, 14, 1, 72, 1},
    {"sys.version_info", NULL, 8, 14, 1, 80, 1},
    {"sys.thread_info", NULL, 8, 14, 1, 64, 1},
    {"IncrementalDecoder", "encodings.utf_8", 8, 14, 1, 48, 1},
    {"_Helper", "_sitebuiltins", 8, 14, 1, 48, 1},
    {"_WeakValueDictionary", "_frozen_importlib", 12, 14, 1, 48, 1},
    {"object", NULL, 8, 14, 0, 16, 5},
    {"NoneType", NULL, 8, 14, 0, 16, 1},
    {"NotImplementedType", NULL, 8, 14, 0, 16, 1},
    {"Token.MISSING", NULL, 8, 14, 0, 16, 1},
    {"bool", NULL, 8, 14, 0, 28, 2},
    {"ellipsis", NULL, 8, 14, 0, 16, 1},
    {"moduledef", NULL, 8, 14, 0, 104, 15},
    {"mappingproxy", NULL, 8, 14, 1, 40, 0},
    {"method", NULL, 8, 14, 1, 48, 0},
    {"method-wrapper", NULL, 8, 14, 1, 48, 0},
    {"frame", NULL, 8, 14, 1, 400, 0},
    {"generator", NULL, 8, 14, 1, 200, 0},
    {"coroutine", NULL, 8, 14, 1, 200, 0},
    {"async_generator", NULL, 8, 14, 1, 200, 0},
    {"bytearray", NULL, 8, 14, 0, 56, 0},
    {"complex", NULL, 8, 14, 0, 32, 0},
    {"range", NULL, 8, 14, 0, 48, 0},
    {"slice", NULL, 8, 14, 1, 56, 0},
    {"memoryview", NULL, 8, 14, 1, 184, 0},
    {"managedbuffer", NULL, 8, 14, 1, 64, 0},
    {"PyCapsule", NULL, 8, 14, 0, 56, 0},
    {"super", NULL, 8, 14, 1, 48, 0},
    {"traceback", NULL, 8, 14, 1, 64, 0},
    {"enumerate", NULL, 8, 14, 1, 56, 0},
    {"dict_keys", NULL, 8, 14, 1, 40, 0},
    {"dict_values", NULL, 8, 14, 1, 40, 0},
    {"dict_items", NULL, 8, 14, 1, 40, 0},
    {"list_iterator", NULL, 8, 14, 1, 48, 0},
    {"weakproxy", NULL, 8, 11, 1, 80, 0},
    {"weakref.ProxyType", NULL, 12, 14, 1, 80, 0},
    {"weakcallableproxy", NULL, 8, 11, 1, 80, 0},
    {"weakref.CallableProxyType", NULL, 12, 14, 1, 80, 0},
    {"types.GenericAlias", NULL, 9, 14, 1, 80, 0},
    {"types.UnionType", NULL, 10, 14, 1, 56, 0},
    {"time.struct_time", NULL, 8, 14, 1, 104, 0},
    {"os.stat_result", NULL, 8, 14, 1, 200, 0},
    {"posix.DirEntry", NULL, 8, 14, 1, 112, 0},
    {"collections.OrderedDict", NULL, 8, 14, 1, 264, 0},
    {"collections.deque", NULL, 8, 14, 1, 624, 0},
    {"collections.defaultdict", NULL, 8, 14, 1, 240, 0},
    {"functools.partial", NULL, 8, 14, 1, 80, 0},
    {"functools._lru_cache_wrapper", NULL, 8, 14, 1, 120, 0},
    {"re.Pattern", NULL, 8, 14, 1, 240, 0},
    {"re.Match", NULL, 8, 14, 1, 184, 0},
    {"_thread.lock", NULL, 8, 14, 0, 56, 0},
    {"_thread.RLock", NULL, 8, 14, 0, 64, 0},
    {"_thread._local", NULL, 8, 14, 1, 64, 0},
    {"_struct.Struct", NULL, 8, 14, 1, 80, 0},
    {"operator.itemgetter", NULL, 8, 14, 1, 56, 0},
    {"operator.attrgetter", NULL, 8, 14, 1, 56, 0},
    {"itertools.count", NULL, 8, 14, 1, 48, 0},
    {"itertools.chain", NULL, 8, 14, 1, 48, 0},
    {"_io.BytesIO", NULL, 8, 11, 1, 120, 0},
    {"_io.BytesIO", "_io", 12, 14, 1, 120, 0},
    {"_io.StringIO", NULL, 8, 11, 1, 120, 0},
    {"_io.StringIO", "_io", 12, 14, 1, 120, 0},
    {"_contextvars.ContextVar", NULL, 8, 14, 1, 64, 0},
    {"_json.Scanner", NULL, 8, 14, 1, 80, 0},
    {"decimal.Decimal", NULL, 8, 14, 0, 104, 0},
    {"datetime.datetime", NULL, 8, 14, 0, 48, 0},
    {"datetime.timedelta", NULL, 8, 14, 0, 40, 0},
    {"select.epoll", NULL, 8, 14, 0, 32, 0},
    {"_socket.socket", NULL, 8, 14, 0, 80, 0},
    {"KeyError", NULL, 8, 14, 1, 80, 0},
    {"StopIteration", NULL, 8, 14, 1, 80, 0},
    {"_ModuleLock", "_frozen_importlib", 8, 14, 1, 48, 0},
    {"_ModuleLockManager", "_frozen_importlib", 8, 14, 1, 48, 0},
    {"_DummyModuleLock", "_frozen_importlib", 8, 14, 1, 48, 0},
    {"BuiltinImporter", "_frozen_importlib", 8, 14, 1, 48, 0},
    {"FrozenImporter", "_frozen_importlib", 8, 14, 1, 48, 0},
    {"ExtensionFileLoader", "_frozen_importlib_external", 8, 14, 1, 48, 0},
    {"SourcelessFileLoader", "_frozen_importlib_external", 8, 14, 1, 48, 0},
    {"PathFinder", "_frozen_importlib_external", 8, 14, 1, 48, 0},
    {"_NamespacePath", "_frozen_importlib_external", 8, 14, 1, 48, 0},
    {"NamespaceLoader", "_frozen_importlib_external", 11, 14, 1, 48, 0},
    {"_wrap_close", "os", 8, 14, 1, 48, 0},
    {"WeakSet", "_weakrefset", 8, 14, 1, 48, 0},
    {"_IterationGuard", "_weakrefset", 8, 14, 1, 48, 0},
    {"KeyedRef", "weakref", 8, 14, 1, 80, 0},
    {"WeakValueDictionary", "weakref", 8, 14, 1, 48, 0},
    {"WeakKeyDictionary", "weakref", 8, 14, 1, 48, 0},
    {"finalize", "weakref", 8, 14, 1, 48, 0},
    {"EnumMeta", "enum", 8, 10, 1, 1064, 0},
    {"EnumType", "enum", 11, 14, 1, 1064, 0},
    {"RegexFlag", "re", 8, 14, 1, 80, 0},
    {"Signals", "signal", 8, 14, 1, 80, 0},
    {"Handlers", "signal", 8, 14, 1, 80, 0},
    {"Sigmasks", "signal", 8, 14, 1, 80, 0},
    {"AddressFamily", "socket", 8, 14, 1, 80, 0},
    {"SocketKind", "socket", 8, 14, 1, 80, 0},
    {"socket", "socket", 8, 14, 1, 232, 0},
    {"_GeneratorContextManager", "contextlib", 8, 14, 1, 48, 0},
    {"partialmethod", "functools", 8, 14, 1, 48, 0},
    {"cached_property", "functools", 8, 14, 1, 48, 0},
    {"_HashedSeq", "functools", 8, 14, 1, 64, 0},
    {"_SpecialForm", "typing", 8, 14, 1, 48, 0},
    {"_GenericAlias", "typing", 8, 14, 1, 48, 0},
    {"_SpecialGenericAlias", "typing", 9, 14, 1, 48, 0},
    {"_UnionGenericAlias", "typing", 9, 14, 1, 48, 0},
    {"_CallableGenericAlias", "typing", 9, 14, 1, 48, 0},
    {"_LiteralGenericAlias", "typing", 9, 14, 1, 48, 0},
    {"_ProtocolMeta", "typing", 8, 14, 1, 1064, 0},
    {"TypeVar", "typing", 8, 11, 1, 48, 0},
    {"typing.TypeVar", NULL, 12, 14, 1, 48, 0},
    {"ForwardRef", "typing", 8, 14, 1, 48, 0},
    {"Field", "dataclasses", 8, 14, 1, 48, 0},
    {"_DataclassParams", "dataclasses", 8, 14, 1, 48, 0},
    {"_MISSING_TYPE", "dataclasses", 8, 14, 1, 48, 0},
    {"_FIELD_BASE", "dataclasses", 8, 14, 1, 48, 0},
    {"Logger", "logging", 8, 14, 1, 48, 0},
    {"RootLogger", "logging", 8, 14, 1, 48, 0},
    {"Manager", "logging", 8, 14, 1, 48, 0},
    {"PlaceHolder", "logging", 8, 14, 1, 48, 0},
    {"StreamHandler", "logging", 8, 14, 1, 48, 0},
    {"Formatter", "logging", 8, 14, 1, 48, 0},
    {"PercentStyle", "logging", 8, 14, 1, 48, 0},
    {"LogRecord", "logging", 8, 14, 1, 48, 0},
    {"Thread", "threading", 8, 14, 1, 48, 0},
    {"_MainThread", "threading", 8, 14, 1, 48, 0},
    {"Event", "threading", 8, 14, 1, 48, 0},
    {"Condition", "threading", 8, 14, 1, 48, 0},
    {"Random", "random", 8, 14, 1, 2504, 0},
    {"SystemRandom", "random", 8, 14, 1, 2504, 0},
    {"JSONDecoder", "json.decoder", 8, 14, 1, 48, 0},
    {"JSONEncoder", "json.encoder", 8, 14, 1, 48, 0},
    {"UUID", "uuid", 8, 14, 0, 48, 0},
    {"PosixPath", "pathlib", 8, 14, 1, 96, 0},
    {"EpollSelector", "selectors", 8, 14, 1, 48, 0},
    {"SelectorKey", "selectors", 8, 14, 1, 72, 0},
    {"SSLContext", "ssl", 8, 14, 0, 48, 0},
    {"Options", "ssl", 8, 14, 1, 80, 0},
    {"Template", "string", 8, 14, 1, 48, 0},
    {"ZipFile", "zipfile", 8, 14, 1, 48, 0},
    {"Counter", "collections", 8, 14, 1, 240, 0},
    {"ChainMap", "collections", 8, 14, 1, 48, 0},
    {"OrderedDict", "collections", 8, 14, 1, 264, 0},
    {"ArgumentParser", "argparse", 8, 14, 1, 48, 0},
    {"Namespace", "argparse", 8, 14, 1, 48, 0},
    {"BaseEventLoop", "asyncio.base_events", 8, 14, 1, 48, 0},
    {"_UnixSelectorEventLoop", "asyncio.unix_events", 8, 14, 1, 48, 0},
    {"_NamedIntConstant", "sre_constants", 8, 10, 0, 56, 0},
    {"_NamedIntConstant", "re._constants", 11, 14, 0, 56, 0},
    {"functools._lru_list_elem", NULL, 8, 14, 1, 48, 0},
    {"_collections._tuplegetter", NULL, 8, 14, 0, 40, 0},
    {"abstractproperty", "abc", 8, 14, 1, 48, 0},
    {"_AnyMeta", "typing", 11, 14, 1, 1064, 0},
    {"_TypedDictMeta", "typing", 8, 14, 1, 1064, 0},
    {"NamedTupleMeta", "typing", 8, 14, 1, 1064, 0},
    {"_LiteralSpecialForm", "typing", 9, 14, 1, 48, 0},
    {"_CallableType", "typing", 9, 14, 1, 48, 0},
    {"_TupleType", "typing", 9, 14, 1, 48, 0},
    {"_DeprecatedType", "typing", 9, 12, 1, 1064, 0},
    {"FlagBoundary", "enum", 11, 14, 1, 80, 0},
    {"EnumCheck", "enum", 11, 14, 1, 80, 0},
    {"_auto_null", "enum", 11, 14, 1, 48, 0},
    {"Repr", "reprlib", 8, 14, 1, 48, 0},
    {"_PosixFlavour", "pathlib", 8, 11, 1, 48, 0},
    {"_WindowsFlavour", "pathlib", 8, 11, 1, 48, 0},
    {"DistutilsMetaFinder", "_distutils_hack", 8, 11, 1, 48, 0},
    {"stderrprinter", NULL, 8, 14, 1, 48, 0},
    {"IPv4Address", "ipaddress", 8, 14, 1, 48, 0},
    {"IPv6Address", "ipaddress", 8, 14, 1, 48, 0},
    {"IPv4Network", "ipaddress", 8, 14, 1, 48, 0},
    {"IPv6Network", "ipaddress", 8, 14, 1, 48, 0},
    {"_ast.Load", "_ast", 8, 8, 1, 48, 0},
    {"ast.Load", "ast", 9, 14, 1, 48, 0},
    {"ast.Store", "ast", 9, 14, 1, 48, 0},
    {"ast.Del", "ast", 9, 14, 1, 48, 0},
    {"ast.And", "ast", 9, 14, 1, 48, 0},
    {"ast.Or", "ast", 9, 14, 1, 48, 0},
    {"ast.Add", "ast", 9, 14, 1, 48, 0},
    {"ast.Sub", "ast", 9, 14, 1, 48, 0},
    {"ast.Mult", "ast", 9, 14, 1, 48, 0},
    {"ast.MatMult", "ast", 9, 14, 1, 48, 0},
    {"ast.Div", "ast", 9, 14, 1, 48, 0},
    {"ast.Mod", "ast", 9, 14, 1, 48, 0},
    {"ast.Pow", "ast", 9, 14, 1, 48, 0},
    {"ast.LShift", "ast", 9, 14, 1, 48, 0},
    {"ast.RShift", "ast", 9, 14, 1, 48, 0},
    {"ast.BitOr", "ast", 9, 14, 1, 48, 0},
    {"ast.BitXor", "ast", 9, 14, 1, 48, 0},
    {"ast.BitAnd", "ast", 9, 14, 1, 48, 0},
    {"ast.FloorDiv", "ast", 9, 14, 1, 48, 0},
    {"ast.Invert", "ast", 9, 14, 1, 48, 0},
    {"ast.Not", "ast", 9, 14, 1, 48, 0},
    {"ast.UAdd", "ast", 9, 14, 1, 48, 0},
    {"ast.USub", "ast", 9, 14, 1, 48, 0},
    {"ast.Eq", "ast", 9, 14, 1, 48, 0},
    {"ast.NotEq", "ast", 9, 14, 1, 48, 0},
    {"ast.Lt", "ast", 9, 14, 1, 48, 0},
    {"ast.LtE", "ast", 9, 14, 1, 48, 0},
    {"ast.Gt", "ast", 9, 14, 1, 48, 0},
    {"ast.GtE", "ast", 9, 14, 1, 48, 0},
    {"ast.Is", "ast", 9, 14, 1, 48, 0},
    {"ast.IsNot", "ast", 9, 14, 1, 48, 0},
    {"ast.In", "ast", 9, 14, 1, 48, 0},
    {"ast.NotIn", "ast", 9, 14, 1, 48, 0},
    {"Task", "_asyncio", 12, 14, 1, 200, 0},
    {"Future", "_asyncio", 12, 14, 1, 150, 0},
    {"Handle", "asyncio.events", 8, 14, 1, 64, 0},
    {"TimerHandle", "asyncio.events", 8, 14, 1, 72, 0},
};

typedef struct {
    const char *name, *qualname, *module;
    uint64_t count, sizeof_bytes, allocated, flags;
} ty_row;

static int cmp_ty(const void *a, const void *b)
{
    const ty_row *x = a, *y = b;
    if (x->allocated != y->allocated) return x->allocated > y->allocated ? -1 : 1;
    return strcmp(x->name, y->name);
}

static ms_table *types_table(unsigned minor, int app, uint64_t *gc_objects)
{
    static ty_row rows[NELEM(type_defs) + 64];
    size_t n = 0;
    double scale = app ? 1.0 + (double)rnd(400) / 10.0 : 0.9 + (double)rnd(30) / 100.0;
    *gc_objects = 0;
    for (size_t k = 0; k < NELEM(type_defs); k++) {
        const ty_def *t = &type_defs[k];
        if (minor < t->lo || minor > t->hi) continue;
        uint64_t c = t->count;
        if (!c) {
            if (!app || chance(55)) continue;
            c = range(1, 300);
        }
        c = (uint64_t)((double)c * scale * (0.8 + (double)rnd(40) / 100.0));
        if (!c) c = 1;
        ty_row *r = &rows[n++];
        r->name = t->name;
        r->module = t->module;
        r->qualname = NULL;
        if (t->module) {
            const char *dot = strrchr(t->name, '.');
            r->qualname = dot ? dot + 1 : t->name;
        }
        r->count = c;
        r->sizeof_bytes = c * t->size + (t->size > 200 ? rnd(c * 64) : 0);
        int singleton = t->count == 1 && !t->gc && t->size == 16;
        r->allocated = singleton || !strcmp(t->name, "moduledef") || !strcmp(t->name, "bool")
                           ? 0
                           : ((r->sizeof_bytes + (t->gc ? 16 * c : 0) + 15) & ~15ull) - (chance(40) ? rnd(r->sizeof_bytes / 2 + 1) : 0);
        r->flags = t->gc | (chance(12) ? 2u : 0u);
        if (t->gc) *gc_objects += c / 2;
    }
    /* classes of the program itself, named after what programs call things */
    if (app) {
        static const char *const mods[] = {"app.models", "app.views", "app.config", "service.handlers", "main",
                                           "worker.tasks", "lib.cache", "api.schemas", "core.utils", "__main__"};
        static const char *const cls[] = {"Config", "Handler", "Request", "Response", "Session", "Record", "Node",
                                          "Item", "Cache", "Client", "Worker", "Job", "Event", "State", "Point"};
        size_t nc = range(0, 20);
        for (size_t k = 0; k < nc && n < NELEM(rows); k++) {
            ty_row *r = &rows[n++];
            r->name = PICK(cls);
            r->qualname = chance(15) ? fmt("%s.%s", PICK(cls), r->name) : r->name;
            r->module = PICK(mods);
            r->count = range(1, 50000);
            r->sizeof_bytes = r->count * 48;
            r->allocated = r->count * 48;
            r->flags = 1;
        }
    }
    qsort(rows, n, sizeof rows[0], cmp_ty);
    ms_table *t = tab(MS_SEC_PY_TYPES);
    for (size_t k = 0; k < n; k++) {
        row(t);
        s(t, MS_TY_NAME, rows[k].name);
        s(t, MS_TY_QUALNAME, rows[k].qualname);
        u(t, MS_TY_COUNT, rows[k].count);
        u(t, MS_TY_SIZEOF, rows[k].sizeof_bytes);
        u(t, MS_TY_ALLOCATED, rows[k].allocated);
        u(t, MS_TY_FLAGS, rows[k].flags);
        s(t, MS_TY_MODULE, rows[k].module);
    }
    return t;
}

/* ---------------------------------------------------- the Python modules */

/* What `python -c '...'` has in sys.modules at start, by version (file:
 * 0 builtin/frozen without a file, 1 a source file of the standard library). */
typedef struct {
    const char *name;
    unsigned char lo, hi, file;
} mod_def;

static const mod_def base_mods[] = {
    {"sys", 8, 14, 0}, {"builtins", 8, 14, 0}, {"_frozen_importlib", 8, 14, 0}, {"_imp", 8, 14, 0},
    {"_warnings", 8, 10, 0}, {"_thread", 8, 14, 0}, {"_warnings", 11, 14, 0}, {"_weakref", 8, 14, 0},
    {"_frozen_importlib_external", 8, 10, 0}, {"_io", 8, 14, 0}, {"marshal", 8, 14, 0}, {"posix", 8, 14, 0},
    {"_frozen_importlib_external", 11, 14, 0}, {"time", 8, 14, 0}, {"zipimport", 8, 14, 0}, {"_codecs", 8, 14, 0},
    {"codecs", 8, 14, 1}, {"encodings.aliases", 8, 14, 1}, {"encodings", 8, 14, 1}, {"encodings.utf_8", 8, 14, 1},
    {"_signal", 8, 14, 0}, {"__main__", 8, 10, 0}, {"encodings.latin_1", 8, 10, 1}, {"_abc", 8, 14, 0},
    {"abc", 8, 14, 1}, {"io", 8, 14, 1}, {"__main__", 11, 14, 0}, {"_stat", 8, 14, 0}, {"stat", 8, 14, 1},
    {"_collections_abc", 8, 14, 1}, {"genericpath", 8, 14, 1}, {"posixpath", 8, 14, 1}, {"os.path", 8, 14, 1},
    {"os", 8, 14, 1}, {"_sitebuiltins", 8, 14, 1}, {"_locale", 8, 9, 0}, {"_bootlocale", 8, 9, 1},
    {"_distutils_hack", 8, 11, 2}, {"site", 8, 14, 1},
};

/* What importing one module of the standard library adds to sys.modules,
 * in order: "name" or "name@LO-HI" (only in 3.LO to 3.HI). A program
 * imports some of these groups; a module already there is not added again. */
static const char *const import_groups[] = {
    "importlib._bootstrap@11-14 importlib._bootstrap_external@11-14 warnings importlib importlib.machinery "
    "importlib._abc@10-14 importlib.util",
    "re enum types sre_compile@8-10 _sre@8-10 sre_parse@8-10 sre_constants@8-10 operator _operator functools "
    "collections keyword itertools heapq _heapq reprlib _collections _functools re._casefix@11-14 "
    "re._compiler@11-14 _sre@11-14 re._parser@11-14 re._constants@11-14 copyreg",
    "typing collections.abc contextlib _typing@11-14 typing.io@11-11 typing.re@11-11",
    "weakref _weakrefset",
    "json json.decoder json.scanner _json json.encoder",
    "logging traceback linecache tokenize token string _string threading _threading_local atexit",
    "datetime time math _datetime",
    "decimal numbers _decimal contextvars _contextvars",
    "socket _socket selectors select errno array",
    "ssl _ssl base64 struct _struct binascii",
    "hashlib _hashlib _blake2 _sha512@8-11 _sha2@12-14",
    "random bisect _bisect _random",
    "subprocess signal fcntl _posixsubprocess",
    "tempfile shutil fnmatch zlib bz2 _compression _bz2 lzma _lzma",
    "pathlib ntpath urllib ipaddress urllib.parse",
    "dataclasses inspect ast _ast dis opcode _opcode copy",
    "asyncio asyncio.base_events concurrent concurrent.futures concurrent.futures._base asyncio.constants "
    "asyncio.coroutines asyncio.format_helpers asyncio.base_futures asyncio.exceptions asyncio.base_tasks "
    "_asyncio asyncio.events asyncio.futures asyncio.protocols asyncio.sslproto asyncio.transports asyncio.log "
    "asyncio.staggered asyncio.locks asyncio.mixins@10-14 asyncio.tasks asyncio.timeouts@11-14 asyncio.runners "
    "asyncio.queues asyncio.streams asyncio.subprocess asyncio.threads asyncio.taskgroups@11-14 "
    "asyncio.trsock asyncio.unix_events asyncio.base_subprocess asyncio.selector_events",
    "http http.client email email.parser email.feedparser email.errors email._policybase email.header "
    "email.quoprimime email.base64mime email.charset email.encoders email.utils email._parseaddr calendar "
    "locale email.message email._encoded_words email.iterators",
    "importlib.resources importlib.resources.abc@11-14 importlib.resources._adapters@11-14 "
    "importlib.resources._common@11-14 importlib.resources._legacy@11-12 importlib.resources._itertools@11-14 "
    "importlib.resources.readers@11-14 importlib.readers@11-14 zipfile importlib.metadata",
    "uuid _uuid platform",
    "pickle _compat_pickle _pickle",
    "argparse gettext",
    "csv _csv",
    "sqlite3 sqlite3.dbapi2 _sqlite3",
    "ctypes _ctypes ctypes._endian",
    "xml xml.etree xml.etree.ElementTree xml.etree.ElementPath pyexpat.errors pyexpat.model pyexpat _elementtree",
    "multiprocessing multiprocessing.context multiprocessing.process multiprocessing.reduction _multiprocessing",
    "queue _queue",
    "zoneinfo zoneinfo._tzpath zoneinfo._common _zoneinfo",
    "statistics fractions _statistics",
    "unicodedata",
    "gc resource grp pwd termios mmap",
};

/* Whether `name@LO-HI` (len bytes) applies to minor version m; *nlen gets
 * the name's length. */
static int mod_applies(const char *tok, size_t len, unsigned m, size_t *nlen)
{
    const char *at = memchr(tok, '@', len);
    *nlen = at ? (size_t)(at - tok) : len;
    if (!at) return 1;
    unsigned lo = 0, hi = 0;
    if (sscanf(at + 1, "%u-%u", &lo, &hi) != 2) die("import_groups", "bad version range");
    return m >= lo && m <= hi;
}

static int ext_index(const char *mod)
{
    for (size_t k = 0; k < NELEM(extmods); k++)
        if (!strcmp(extmods[k].mod, mod)) return (int)k;
    return -1;
}

/* Builtin-only modules (never files): the interpreter has them inside. */
static int builtin_mod(const char *m)
{
    static const char *const b[] = {"_operator", "itertools", "_collections", "_functools", "_string", "errno",
                                    "_sre", "gc", "pwd", "atexit", "_tracemalloc", "_symtable", "_ast",
                                    "_locale", "faulthandler", "pyexpat.errors", "pyexpat.model", "typing.io",
                                    "typing.re"};
    for (size_t k = 0; k < NELEM(b); k++)
        if (!strcmp(b[k], m)) return 1;
    return 0;
}

static const char *mod_file(const py_install *p, const char *m)
{
    static const char *const pkgs[] = {"encodings", "json", "email", "urllib", "http", "asyncio", "concurrent",
                                       "concurrent.futures", "importlib", "ctypes", "xml", "xml.parsers",
                                       "xml.etree", "multiprocessing", "collections", "logging", "sqlite3",
                                       "zoneinfo"};
    char path[256];
    snprintf(path, sizeof path, "%s", strcmp(m, "os.path") ? m : "posixpath");
    for (char *c = path; *c; c++)
        if (*c == '.') *c = '/';
    /* re and importlib.resources became packages in 3.11, importlib.metadata in 3.10 */
    int pkg = (!strcmp(m, "re") && p->minor >= 11) || (!strcmp(m, "importlib.resources") && p->minor >= 11) ||
              (!strcmp(m, "importlib.metadata") && p->minor >= 10);
    for (size_t k = 0; k < NELEM(pkgs); k++) pkg |= !strcmp(m, pkgs[k]);
    return pkg ? fmt("%s/%s/__init__.py", p->stdlib, path) : fmt("%s/%s.py", p->stdlib, path);
}

static ms_table *modules_table(const py_install *p, int app, extset *X)
{
    ms_table *t = tab(MS_SEC_PY_MODULES);
    for (size_t k = 0; k < NELEM(base_mods); k++) {
        const mod_def *m = &base_mods[k];
        if (p->minor < m->lo || p->minor > m->hi) continue;
        if (m->file == 2) { /* setuptools' hook, only where a site-packages has it */
            if (!chance(25)) continue;
            row(t);
            s(t, MS_MOD_NAME, m->name);
            s(t, MS_MOD_FILE, fmt("%s/_distutils_hack/__init__.py", p->site));
            u(t, MS_MOD_FLAGS, 0);
            continue;
        }
        row(t);
        s(t, MS_MOD_NAME, m->name);
        /* 3.8-3.10 freeze only importlib; 3.11+ freeze more but set __file__ */
        s(t, MS_MOD_FILE, m->file ? mod_file(p, m->name) : NULL);
        u(t, MS_MOD_FLAGS, 0);
    }
    if (!app) return t;
    char seen[8192] = " ";
    for (size_t g = 0; g < NELEM(import_groups); g++) {
        if (!chance(g < 3 ? 80 : 40)) continue;
        for (const char *q = import_groups[g]; *q;) {
            size_t len = strcspn(q, " "), nl;
            const char *tok = q;
            q += len;
            while (*q == ' ') q++;
            if (!mod_applies(tok, len, p->minor, &nl)) continue;
            const char *m = fmt("%.*s", (int)nl, tok);
            const char *key = fmt(" %s ", m);
            if (strstr(seen, key) || strlen(seen) + nl + 2 >= sizeof seen) continue;
            strcat(seen, key + 1);
            row(t);
            s(t, MS_MOD_NAME, m);
            int e = ext_index(m);
            int built_in = builtin_mod(m) || (e >= 0 && p->kind == P_SYSTEM && !p->libpython && chance(50));
            if (built_in) {
                s(t, MS_MOD_FILE, NULL);
                u(t, MS_MOD_FLAGS, 0);
            } else if (e >= 0) {
                s(t, MS_MOD_FILE, so_name(p, extmods[e].so));
                u(t, MS_MOD_FLAGS, 1);
                if (X->next < NELEM(X->ext)) X->ext[X->next++] = (size_t)e;
            } else {
                s(t, MS_MOD_FILE, mod_file(p, m));
                u(t, MS_MOD_FLAGS, 0);
            }
        }
    }
    /* a few installed packages */
    static const char *const pkgs[] = {"requests", "urllib3", "certifi", "idna", "charset_normalizer", "six",
                                       "yaml", "attr", "packaging", "dateutil", "pytz", "click", "jinja2",
                                       "markupsafe", "setuptools", "pip", "wheel", "typing_extensions"};
    size_t np = chance(60) ? range(1, 8) : 0;
    for (size_t k = 0; k < np; k++) {
        const char *pk = PICK(pkgs);
        row(t);
        s(t, MS_MOD_NAME, pk);
        s(t, MS_MOD_FILE, fmt("%s/%s/__init__.py", p->site, pk));
        u(t, MS_MOD_FLAGS, 0);
    }
    return t;
}

/* --------------------------------------------------------- the snapshot */

static const char *status_names[] = {
    "FDSize", "NStgid", "NSpid", "NSpgid", "NSsid", "Kthread", "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM",
    "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap",
    "HugetlbPages", "CoreDumping", "THP_enabled", "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
    "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", "Cpus_allowed",
    "Mems_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"};

static const char *rollup_names[] = {"Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem",
                                     "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
                                     "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
                                     "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb",
                                     "Swap", "SwapPss", "Locked"};

static const char *v2_stat[] = {
    "anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock", "vmalloc",
    "shmem", "zswap", "zswapped", "file_mapped", "file_dirty", "file_writeback", "swapcached", "anon_thp",
    "file_thp", "shmem_thp", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
    "slab_reclaimable", "slab_unreclaimable", "slab", "workingset_refault_anon", "workingset_refault_file",
    "workingset_activate_anon", "workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
    "workingset_nodereclaim", "pgscan", "pgsteal", "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged",
    "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged", "pgfault", "pgmajfault", "pgrefill", "pgactivate",
    "pgdeactivate", "pglazyfree", "pglazyfreed", "zswpin", "zswpout", "zswpwb", "thp_fault_alloc",
    "thp_collapse_alloc", "thp_swpout", "thp_swpout_fallback"};
/* 5.x kernels print fewer keys: these are absent there */
static int v2_new_key(const char *k)
{
    static const char *const nk[] = {"kernel", "sec_pagetables", "vmalloc", "zswap", "zswapped", "pgscan_kswapd",
                                     "pgscan_direct", "pgscan_khugepaged", "pgsteal_kswapd", "pgsteal_direct",
                                     "pgsteal_khugepaged", "zswpin", "zswpout", "zswpwb", "thp_swpout",
                                     "thp_swpout_fallback"};
    for (size_t i = 0; i < NELEM(nk); i++)
        if (!strcmp(nk[i], k)) return 1;
    return 0;
}

static const char *v1_stat[] = {"cache", "rss", "rss_huge", "shmem", "mapped_file", "dirty", "writeback",
                                "workingset_refault_anon", "workingset_refault_file", "swap", "swapcached",
                                "pgpgin", "pgpgout", "pgfault", "pgmajfault", "inactive_anon", "active_anon",
                                "inactive_file", "active_file", "unevictable", "hierarchical_memory_limit",
                                "hierarchical_memsw_limit"};

static uint64_t bytes_val(void)
{
    return chance(25) ? 0 : rnd(4) == 0 ? range(1, 100000) : range(4096, 4000000000ull) & ~4095ull;
}

static void gen_cgroup(ms_writer *w, int redact)
{
    int v2 = chance(70);
    ms_table *cg = tab(MS_SEC_CGROUP), *cs = tab(MS_SEC_CGROUP_STAT);
    row(cg);
    u(cg, MS_CG_VERSION, v2 ? 2 : 1);
    const char *path;
    unsigned r = (unsigned)rnd(8);
    const char *pod = fmt("%s_%s_%s_%s_%s", hex(8), hex(4), hex(4), hex(4), hex(12));
    if (v2) {
        path = r == 0 ? "/"
             : r == 1 ? fmt("/system.slice/%s.service", chance(50) ? "app" : chance(50) ? "worker" : "gunicorn")
             : r == 2 ? fmt("/user.slice/user-%u.slice/session-%u.scope", chance(50) ? 1000 : 0, (unsigned)range(1, 500))
             : r == 3 ? fmt("/user.slice/user-1000.slice/user@1000.service/app.slice/app-%s.scope", hex(8))
             : r == 4 ? fmt("/system.slice/docker-%s.scope", hex(64))
             : r == 5 ? fmt("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope",
                            pod, hex(64))
             : r == 6 ? fmt("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/crio-%s.scope",
                            pod, hex(64))
                      : fmt("/system.slice/containerd.service/kubepods-burstable-pod%s.slice:cri-containerd:%s", pod, hex(64));
    } else {
        path = r < 3 ? fmt("/docker/%s", hex(64))
             : r < 5 ? fmt("/kubepods/burstable/pod%s-%s-%s-%s-%s/%s", hex(8), hex(4), hex(4), hex(4), hex(12), hex(64))
             : r < 6 ? "/user.slice"
             : r < 7 ? "/" : fmt("/system.slice/%s.service", chance(50) ? "app" : "cron");
    }
    if (redact && strcmp(path, "/")) path = fmt("<redacted:%s>", hex(16));
    s(cg, MS_CG_PATH, path);
    uint64_t cur = range(1 << 20, 8ull << 30);
    u(cg, MS_CG_CURRENT, cur);
    u(cg, MS_CG_MAX, chance(50) ? UINT64_MAX : (range(1, 64) << 28));
    if (v2) {
        u(cg, MS_CG_HIGH, UINT64_MAX);
        u(cg, MS_CG_SWAP_CURRENT, chance(80) ? 0 : bytes_val());
        u(cg, MS_CG_SWAP_MAX, chance(70) ? UINT64_MAX : 0);
    }
    u(cg, MS_CG_PEAK, cur + rnd(cur));
    if (v2) {
        int newk = chance(60);
        for (size_t k = 0; k < NELEM(v2_stat); k++) {
            if (!newk && v2_new_key(v2_stat[k])) continue;
            row(cs);
            s(cs, MS_CGS_FILE, "memory.stat");
            s(cs, MS_CGS_NAME, v2_stat[k]);
            u(cs, MS_CGS_VALUE, bytes_val());
        }
        static const char *const ev[] = {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"};
        static const char *const files[] = {"memory.events", "memory.events.local"};
        for (size_t f = 0; f < 2; f++)
            for (size_t k = 0; k < NELEM(ev) - (newk ? 0 : 1); k++) {
                row(cs);
                s(cs, MS_CGS_FILE, files[f]);
                s(cs, MS_CGS_NAME, ev[k]);
                u(cs, MS_CGS_VALUE, chance(85) ? 0 : range(1, 40));
            }
        static const char *const sw[] = {"high", "max", "fail"};
        for (size_t k = 0; k < NELEM(sw); k++) {
            row(cs);
            s(cs, MS_CGS_FILE, "memory.swap.events");
            s(cs, MS_CGS_NAME, sw[k]);
            u(cs, MS_CGS_VALUE, 0);
        }
    } else {
        for (int total = 0; total < 2; total++)
            for (size_t k = 0; k < NELEM(v1_stat); k++) {
                if (total && k >= NELEM(v1_stat) - 2) continue;
                row(cs);
                s(cs, MS_CGS_FILE, "memory.stat");
                s(cs, MS_CGS_NAME, total ? fmt("total_%s", v1_stat[k]) : v1_stat[k]);
                u(cs, MS_CGS_VALUE, k >= NELEM(v1_stat) - 2 ? 0x7ffffffffffff000ull : bytes_val());
            }
        static const char *const oc[] = {"oom_kill_disable", "under_oom", "oom_kill"};
        for (size_t k = 0; k < NELEM(oc); k++) {
            row(cs);
            s(cs, MS_CGS_FILE, "memory.oom_control");
            s(cs, MS_CGS_NAME, oc[k]);
            u(cs, MS_CGS_VALUE, 0);
        }
        static const char *const single[] = {"memory.failcnt", "memory.memsw.usage_in_bytes",
                                             "memory.memsw.limit_in_bytes"};
        for (size_t k = 0; k < NELEM(single); k++) {
            row(cs);
            s(cs, MS_CGS_FILE, single[k]);
            s(cs, MS_CGS_NAME, single[k]);
            u(cs, MS_CGS_VALUE, k == 2 ? 0x7ffffffffffff000ull : k ? cur : 0);
        }
    }
    add(w, cg);
    add(w, cs);
}

static const char *redact_path(const char *path)
{
    static const char *const sys[] = {"/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/etc/", "/dev/"};
    if (!strncmp(path, "/dev/shm/", 9)) goto hash;
    for (size_t k = 0; k < NELEM(sys); k++)
        if (!strncmp(path, sys[k], strlen(sys[k]))) return path;
    if (path[0] != '/') return path;
hash:;
    const char *base = strrchr(path, '/') + 1;
    const char *dot = strlen(base) > 1 ? strchr(base + 1, '.') : NULL;
    return fmt("/redacted/%s%s", hex(16), dot && strlen(dot) <= 48 ? dot : "");
}

/* /proc/PID/cmdline: argv0 (if not NULL), then the '|'-separated `args`,
 * each followed by a NUL; under redaction every argument after the first
 * is a keyed hash. Returns the length. */
static size_t cmdline(char *buf, size_t cap, const char *argv0, const char *args, int redact)
{
    size_t n = 0;
    int first = 1;
    if (argv0) {
        snprintf(buf, cap, "%s", argv0);
        n = strlen(buf) + 1;
        first = 0;
    }
    while (*args && n + 1 < cap) {
        size_t l = strcspn(args, "|");
        const char *a = args;
        if (redact && !first) {
            a = fmt("<redacted:%s>", hex(16));
            l = strlen(a);
        }
        if (n + l + 1 > cap) break;
        memcpy(buf + n, a, l);
        buf[n + l] = 0;
        n += l + 1;
        first = 0;
        args += strcspn(args, "|");
        if (*args) args++;
    }
    return n;
}

/* One snapshot, written as memsnap-capture writes its sections. */
static void gen_snapshot(ms_writer *w)
{
    arena_used = 0;
    const distro *d = &distros[rnd(NELEM(distros))];
    py_install p;
    memset(&p, 0, sizeof p);
    size_t plain = 0;
    int is_python = chance(82);
    if (is_python) {
        python_install(d, &p);
        python_finish(&p);
    } else {
        plain = rnd(NELEM(plain_programs));
    }
    int app = chance(55);
    int redact = chance(15);
    const char *(*red)(const char *) = redact ? redact_path : NULL;
    uint64_t pid = range(300, 4000000);
    const char *kernel = d->kernels[rnd(4)];
    int k6 = kernel[0] == '6';

    ok(ms_writer_begin(w), "ms_writer_begin");

    ms_table *t = tab(MS_SEC_HOST);
    row(t);
    static const char *const hosts[] = {"localhost", "web-01", "worker-3", "db-primary", "build", "devbox", "api-2",
                                        "node-7", "app-server", "ci-runner"};
    unsigned hk = (unsigned)rnd(4);
    const char *hostname = hk == 0 ? hex(12)
                         : hk == 1 ? fmt("ip-10-%u-%u-%u", (unsigned)rnd(256), (unsigned)rnd(256), (unsigned)rnd(256))
                         : hk == 2 ? fmt("%s-%s-%s", PICK(hosts), hex(10), hex(5)) : PICK(hosts);
    s(t, MS_HOST_NAME, redact ? fmt("<redacted:%s>", hex(16)) : hostname);
    s(t, MS_HOST_KERNEL, kernel);
    s(t, MS_HOST_KVERSION, d->kversions[rnd(2)]);
    s(t, MS_HOST_MACHINE, "x86_64");
    u(t, MS_HOST_PAGE_SIZE, 4096);
    uint64_t memtotal = range(1, 512) * 1024 * 1024 - range(0, 400000);
    u(t, MS_HOST_MEM_TOTAL, memtotal);
    u(t, MS_HOST_MEM_AVAILABLE, memtotal / 100 * range(5, 95));
    uint64_t swap = chance(60) ? 0 : range(1, 8) * 1048576;
    u(t, MS_HOST_SWAP_TOTAL, swap);
    u(t, MS_HOST_SWAP_FREE, swap ? swap - rnd(swap / 4) : 0);
    static const char *const thp[] = {"always", "madvise", "never"};
    s(t, MS_HOST_THP_ENABLED, PICK(thp));
    static const char *const defrag[] = {"madvise", "defer", "never", "always", "defer+madvise"};
    s(t, MS_HOST_THP_DEFRAG, PICK(defrag));
    i64(t, MS_HOST_OVERCOMMIT, chance(80) ? 0 : chance(50) ? 1 : 2);
    u(t, MS_HOST_NCPU, PICK(((const uint64_t[]){1, 2, 2, 4, 4, 8, 8, 16, 32, 64, 96})));
    add(w, t);

    /* process */
    t = tab(MS_SEC_PROCESS);
    row(t);
    u(t, MS_PROC_PID, pid);
    u(t, MS_PROC_PPID, chance(30) ? 1 : range(1, pid));
    uint64_t uid = chance(40) ? 0 : chance(50) ? 1000 : range(100, 65000);
    u(t, MS_PROC_UID, uid);
    u(t, MS_PROC_EUID, uid);
    const char *exe = is_python ? p.exe : plain_programs[plain][1];
    s(t, MS_PROC_COMM, is_python ? p.comm : plain_programs[plain][0]);
    s(t, MS_PROC_EXE, red ? red(exe) : exe);
    char cmd[1024];
    size_t cl;
    if (is_python) {
        static const char *const scripts[] = {"-c|import time; time.sleep(3600)", "-m|http.server|8000",
                                              "manage.py|runserver", "app.py", "-m|gunicorn|app:app",
                                              "-m|celery|-A|tasks|worker", "-m|uvicorn|main:app",
                                              "/usr/local/bin/gunicorn|-w|4|wsgi:application", "-u|worker.py",
                                              "-m|pytest|-x", "train.py|--epochs|10"};
        const char *argv0 = chance(50) ? p.exe : chance(50) ? p.comm : fmt("%s/app/.venv/bin/python", home());
        cl = cmdline(cmd, sizeof cmd, red && argv0[0] == '/' ? red(argv0) : argv0, PICK(scripts), redact);
    } else {
        cl = cmdline(cmd, sizeof cmd, NULL, plain_programs[plain][2], 0);
    }
    sn(t, MS_PROC_CMDLINE, cmd, cl);
    uint64_t threads = app ? range(1, 40) : 1;
    u(t, MS_PROC_THREADS, threads);
    i64(t, MS_PROC_OOM_SCORE, (int64_t)range(0, 1000));
    i64(t, MS_PROC_OOM_SCORE_ADJ, chance(80) ? 0 : chance(50) ? -998 : 1000);
    s(t, MS_PROC_STATE, chance(85) ? "S" : chance(50) ? "R" : "D");
    u(t, MS_PROC_START_TICKS, range(100, 900000000));
    add(w, t);

    /* maps first: status and rollup total them */
    static maps M;
    extset X = {.next = 0};
    M.pkeys = chance(40);
    M.pss_dirty = k6;
    M.ksm = k6 && chance(60);
    ms_table *mods = NULL, *types = NULL;
    uint64_t gc_objects = 0;
    if (is_python) {
        mods = modules_table(&p, app, &X);
        types = types_table(p.minor, app, &gc_objects);
    }
    gen_maps(&M, d, &p, &X, app, plain);
    uint64_t rss = 0, anon = 0, file = 0, size = 0, pss = 0, swapk = 0;
    for (size_t k = 0; k < M.n; k++) {
        rss += M.m[k].rss;
        pss += M.m[k].pss;
        size += (M.m[k].end - M.m[k].start) >> 10;
        if (M.m[k].private_dirty) anon += M.m[k].private_dirty;
        else file += M.m[k].rss;
    }

    t = tab(MS_SEC_PROC_STATUS);
    for (size_t k = 0; k < NELEM(status_names); k++) {
        const char *n = status_names[k];
        int kb = n[0] == 'V' || !strncmp(n, "Rss", 3) || !strcmp(n, "HugetlbPages");
        if (!strcmp(n, "Kthread") && !k6) continue;
        if (!strncmp(n, "Cap", 3) && strcmp(n, "CapInh") && strcmp(n, "CapAmb") && !uid) continue; /* hex with letters */
        if (!strncmp(n, "Sig", 3) && strcmp(n, "SigPnd") && chance(50)) continue;
        uint64_t v = 0;
        if (!strcmp(n, "VmRSS") || !strcmp(n, "VmHWM")) v = rss + (n[2] == 'H' ? rnd(rss / 4 + 1) : 0);
        else if (!strcmp(n, "VmSize") || !strcmp(n, "VmPeak")) v = size + (n[2] == 'P' ? rnd(size / 8 + 1) : 0);
        else if (!strcmp(n, "RssAnon")) v = anon;
        else if (!strcmp(n, "RssFile")) v = file;
        else if (!strcmp(n, "VmData")) v = anon + range(0, 100000);
        else if (!strcmp(n, "VmStk")) v = 132;
        else if (!strcmp(n, "VmExe")) v = 4 * range(1, 800);
        else if (!strcmp(n, "VmLib")) v = 4 * range(1000, 20000);
        else if (!strcmp(n, "VmPTE")) v = 4 * range(10, 200);
        else if (!strcmp(n, "FDSize")) v = PICK(((const uint64_t[]){64, 64, 128, 256, 1024}));
        else if (!strncmp(n, "NS", 2)) v = !strcmp(n, "NSpid") || !strcmp(n, "NStgid") ? pid : range(1, pid);
        else if (!strcmp(n, "Threads")) v = threads;
        else if (!strcmp(n, "THP_enabled")) v = 1;
        else if (!strcmp(n, "SigIgn")) v = PICK(((const uint64_t[]){1001000, 1000, 0, 4096}));
        else if (!strcmp(n, "SigCgt")) v = PICK(((const uint64_t[]){2, 180004002, 180014002, 0}));
        else if (!strcmp(n, "Seccomp")) v = chance(70) ? 0 : 2;
        else if (!strcmp(n, "Seccomp_filters")) v = chance(70) ? 0 : 1;
        else if (!strcmp(n, "Cpus_allowed")) v = PICK(((const uint64_t[]){1, 3, 3, 7}));
        else if (strstr(n, "ctxt_switches")) v = range(0, 100000);
        row(t);
        s(t, MS_KV_NAME, n);
        u(t, MS_KV_VALUE, v);
        s(t, MS_KV_UNIT, kb ? "kB" : NULL);
    }
    add(w, t);

    add(w, mappings_table(&M, red));

    t = tab(MS_SEC_ROLLUP);
    for (size_t k = 0; k < NELEM(rollup_names); k++) {
        const char *n = rollup_names[k];
        if ((!strcmp(n, "Pss_Dirty") && !k6) || (!strcmp(n, "KSM") && !M.ksm)) continue;
        uint64_t v = !strcmp(n, "Rss") || !strcmp(n, "Referenced") ? rss
                   : !strcmp(n, "Pss") ? pss
                   : !strcmp(n, "Pss_Anon") || !strcmp(n, "Anonymous") || !strcmp(n, "Private_Dirty") ||
                     !strcmp(n, "Pss_Dirty") ? anon
                   : !strcmp(n, "Pss_File") ? pss - anon
                   : !strcmp(n, "Shared_Clean") ? file / 2
                   : !strcmp(n, "Private_Clean") ? file - file / 2
                   : !strcmp(n, "Swap") || !strcmp(n, "SwapPss") ? swapk : 0;
        row(t);
        s(t, MS_KV_NAME, n);
        u(t, MS_KV_VALUE, v);
        s(t, MS_KV_UNIT, "kB");
    }
    add(w, t);

    ms_table *dg = tab(MS_SEC_DIAGNOSTICS);
    if (chance(92)) {
        gen_cgroup(w, redact);
    } else {
        row(dg);
        s(dg, MS_DG_AREA, "cgroup");
        u(dg, MS_DG_STATUS, 2);
        s(dg, MS_DG_MESSAGE, chance(50) ? "the cgroup v2 hierarchy is not mounted where this agent can see it"
                                        : fmt("no memory cgroup listed in /proc/%llu/cgroup", (unsigned long long)pid));
    }

    if (is_python) {
        int walked = chance(93);
        t = tab(MS_SEC_PY_RUNTIME);
        row(t);
        s(t, MS_PY_VERSION, fmt("3.%u.%u", p.minor, p.micro));
        u(t, MS_PY_HEXVERSION, 0x03000000u | p.minor << 16 | p.micro << 8 | 0xf0);
        u(t, MS_PY_FLAGS, (p.libpython ? 1u : 0u) | (p.pie ? 8u : 0u) | (p.stripped ? 16u : 0u));
        s(t, MS_PY_BINARY, red ? red(p.exe) : p.exe);
        s(t, MS_PY_LIBPYTHON, p.libpython && red ? red(p.libpython) : p.libpython);
        int allocator = walked ? (chance(95) ? 0 : 1) : 0;
        if (walked) s(t, MS_PY_ALLOCATOR, allocator ? "malloc" : "pymalloc");
        uint64_t arena = p.minor >= 10 ? 1048576 : 262144, pool = p.minor >= 10 ? 16384 : 4096;
        u(t, MS_PY_ARENA_SIZE, arena);
        u(t, MS_PY_POOL_SIZE, pool);
        add(w, t);
        size_t ntypes = ms_table_nrows(types);
        if (walked) {
            add(w, types);
            types = NULL;
            if (redact) { /* module files outside system directories are hashed */
                ms_table_free(mods);
                X.next = 0;
                mods = modules_table(&p, 0, &X);
            }
            add(w, mods);
            mods = NULL;
            int stripped_pm = p.stripped && !p.libpython;
            if (!allocator) {
                t = tab(MS_SEC_PY_SIZE_CLASSES);
                uint64_t blocks_per_pool_base = pool - 48;
                for (unsigned k = 0; k < 32; k++) {
                    uint64_t bs = 16 * (k + 1);
                    uint64_t pools = k < 12 ? range(0, app ? 400 : 14) : range(0, app ? 40 : 3);
                    if (!pools && chance(70)) continue;
                    uint64_t cap = pools * (blocks_per_pool_base / bs);
                    uint64_t used = cap ? cap - rnd(cap / 4 + 1) : 0;
                    row(t);
                    u(t, MS_SC_INDEX, k);
                    u(t, MS_SC_BLOCK_SIZE, bs);
                    u(t, MS_SC_POOLS, pools);
                    u(t, MS_SC_BLOCKS_USED, used);
                    u(t, MS_SC_BLOCKS_FREE, cap - used);
                }
                add(w, t);
                if (!stripped_pm) {
                    uint64_t na = range(1, app ? 40 : 4), pools_total = arena / pool - 1 + chance(10), live = 0;
                    t = tab(MS_SEC_PY_ARENAS);
                    uint64_t base = 0x7f0000000000ull + (rnd(0xfffffff) << 12);
                    for (uint64_t k = 0; k < na; k++) {
                        uint64_t used = range(0, pools_total);
                        row(t);
                        u(t, MS_AR_ADDRESS, base - k * arena - (chance(30) ? rnd(64) * arena : 0));
                        u(t, MS_AR_POOLS_USED, used);
                        u(t, MS_AR_POOLS_FREE, pools_total - used);
                        u(t, MS_AR_POOLS_TOTAL, pools_total);
                        uint64_t lb = used * pool / 100 * range(40, 99);
                        u(t, MS_AR_LIVE_BYTES, lb);
                        live += lb;
                    }
                    add(w, t);
                    t = tab(MS_SEC_PY_ALLOC_TOTALS);
                    row(t);
                    u(t, MS_AT_ARENAS, na);
                    u(t, MS_AT_ARENAS_ALLOCATED, na + rnd(na * 3 + 1));
                    u(t, MS_AT_ARENAS_RECLAIMED, rnd(na + 1));
                    u(t, MS_AT_ARENAS_HIGHWATER, na + rnd(4));
                    u(t, MS_AT_ALLOCATED_BYTES, live);
                    u(t, MS_AT_AVAILABLE_BYTES, live / 100 * range(5, 60));
                    u(t, MS_AT_UNUSED_POOL_BYTES, pool * range(0, 60 * na));
                    u(t, MS_AT_POOL_HEADER_BYTES, 48 * range(1, 63 * na));
                    u(t, MS_AT_QUANTIZATION_BYTES, range(0, 40000));
                    u(t, MS_AT_ALIGNMENT_BYTES, chance(50) ? 0 : pool * 2);
                    u(t, MS_AT_ARENA_BYTES, na * arena);
                    add(w, t);
                }
            }
            t = tab(MS_SEC_PY_GC);
            uint64_t th0 = p.minor >= 13 ? 2000 : 700;
            for (unsigned g = 0; g < 4; g++) {
                row(t);
                u(t, MS_GC_GENERATION, g);
                u(t, MS_GC_COUNT, g == 0 ? rnd(th0) : g == 3 ? 0 : rnd(10));
                u(t, MS_GC_THRESHOLD, g == 0 ? th0 : g == 3 ? 0 : (p.minor >= 13 && g == 2) ? 0 : 10);
                u(t, MS_GC_OBJECTS, g == 0 ? rnd(th0) : g == 3 ? 0 : gc_objects / (g == 1 ? 8 : 1));
                u(t, MS_GC_COLLECTING, 0);
            }
            add(w, t);

            const char *how = p.minor >= 13 ? "version from _Py_DebugOffsets in _PyRuntime's initializer"
                            : p.minor >= 11 ? "version from the Py_Version constant"
                                            : fmt("version from the PY_VERSION string \"3.%u.%u\" that Py_GetVersion's "
                                                  "x86-64 code refers to", p.minor, p.micro);
            uint64_t objs = 10000 + (app ? rnd(3000000) : rnd(8000));
            int np = chance(10);
            row(dg);
            s(dg, MS_DG_AREA, "python");
            u(dg, MS_DG_STATUS, np ? 3 : 0);
            s(dg, MS_DG_MESSAGE,
              fmt("CPython 3.%u.%u (%s): %llu objects of %zu types (%llu on GC lists, %llu untracked in pymalloc "
                  "pools, %llu untracked reached by reference); %s; %.1f MiB copied in %.1f ms, walk %.1f ms%s",
                  p.minor, p.micro, how, (unsigned long long)objs, ntypes,
                  (unsigned long long)(objs / 3), (unsigned long long)(objs / 4), (unsigned long long)(objs / 3),
                  np ? "read without pausing (--no-pause)" : "target paused", (double)rnd(2000) / 10.0,
                  (double)rnd(900) / 10.0, (double)rnd(3000) / 10.0, chance(5) ? " (after retries)" : ""));
            if (chance(70)) {
                row(dg);
                s(dg, MS_DG_AREA, "python.types");
                u(dg, MS_DG_STATUS, 1);
                s(dg, MS_DG_MESSAGE, fmt("%u types have approximate sizes (flag bit 1): their __sizeof__ or allocation "
                                         "is not reproduced exactly", (unsigned)range(1, 30)));
            }
            if (stripped_pm && !allocator) {
                row(dg);
                s(dg, MS_DG_AREA, "python.pymalloc");
                u(dg, MS_DG_STATUS, 1);
                s(dg, MS_DG_MESSAGE, fmt("no symbols for pymalloc's arenas (stripped build): size classes from %u pools "
                                         "found by their headers in anonymous memory; arenas and totals unavailable",
                                         (unsigned)range(10, 5000)));
            }
            if (allocator) {
                row(dg);
                s(dg, MS_DG_AREA, "python.pymalloc");
                u(dg, MS_DG_STATUS, 1);
                s(dg, MS_DG_MESSAGE, "objects are allocated by malloc (PYTHONMALLOC): no pymalloc pools to scan; "
                                     "untracked objects are found only by following references");
            }
            if (chance(4)) {
                row(dg);
                s(dg, MS_DG_AREA, "python.gc");
                u(dg, MS_DG_STATUS, 1);
                s(dg, MS_DG_MESSAGE, "a garbage collection was running in every attempt: objects it held on private "
                                     "lists are missing");
            }
            if (chance(4)) {
                row(dg);
                s(dg, MS_DG_AREA, "python.copy");
                u(dg, MS_DG_STATUS, 1);
                s(dg, MS_DG_MESSAGE, fmt("not copied: %.1f MiB over the memory cap (--max-memory), 0.0 MiB swapped out, "
                                         "0.0 MiB unreadable; objects there are missing", (double)rnd(5000) / 10.0));
            }
        } else {
            row(dg);
            s(dg, MS_DG_AREA, "python");
            u(dg, MS_DG_STATUS, 2);
            s(dg, MS_DG_MESSAGE,
              chance(50) ? fmt("cannot pause the target: PID %llu: ptrace(PTRACE_SEIZE): Operation not permitted "
                               "(kernel.yama.ptrace_scope is 1: run as root or as the target's parent)",
                               (unsigned long long)pid)
                         : fmt("CPython 3.%u.%u: heap not walked: free-threaded builds keep objects in mimalloc pages, "
                               "which memsnap does not walk yet", p.minor, p.micro));
        }
        ms_table_free(types);
        ms_table_free(mods);
    } else {
        row(dg);
        s(dg, MS_DG_AREA, "python");
        u(dg, MS_DG_STATUS, 4);
        s(dg, MS_DG_MESSAGE,
          redact ? fmt("PID %llu: not a CPython process (file names withheld under --redact)", (unsigned long long)pid)
                 : fmt("PID %llu: %s: not a CPython process (neither the executable nor a mapped libpython defines "
                       "_PyRuntime)", (unsigned long long)pid, exe));
    }
    if (chance(5)) {
        row(dg);
        s(dg, MS_DG_AREA, "mappings");
        u(dg, MS_DG_STATUS, 1);
        s(dg, MS_DG_MESSAGE, fmt("%zu of %zu mappings kept (--max-mappings %zu); the rollup still covers all of them",
                                 M.n, M.n + 1000, M.n));
    }
    if (redact && chance(60)) {
        row(dg);
        s(dg, MS_DG_AREA, "redaction");
        u(dg, MS_DG_STATUS, 4);
        s(dg, MS_DG_MESSAGE, "redacted with a random key: hashes match within this file only (give --redact-key to "
                             "match across files)");
    }
    row(dg);
    s(dg, MS_DG_AREA, "capture.timing");
    u(dg, MS_DG_STATUS, 4);
    s(dg, MS_DG_MESSAGE,
      fmt("host+process %.1f ms, smaps+rollup read and parse %.1f ms, mappings encode %.1f ms, rollup %.1f ms, "
          "cgroup %.1f ms, python %.1f ms (target paused %.2f ms)",
          (double)rnd(20) / 10.0, (double)rnd(400) / 10.0, (double)rnd(30) / 10.0, (double)rnd(5) / 10.0,
          (double)rnd(20) / 10.0, is_python ? (double)rnd(4000) / 10.0 : (double)rnd(3) / 10.0,
          is_python ? (double)rnd(90000) / 1000.0 : 0.0));
    add(w, dg);

    t = tab(MS_SEC_SNAPSHOT);
    row(t);
    unsigned char id[16];
    for (int k = 0; k < 16; k++) id[k] = (unsigned char)rnd(256);
    sn(t, MS_SNAP_ID, id, sizeof id);
    u(t, MS_SNAP_SEQ, chance(70) ? 0 : rnd(500));
    u(t, MS_SNAP_WALL_NS, 1700000000000000000ull + rnd(100000000000000000ull));
    u(t, MS_SNAP_MONO_NS, rnd(100000000000000000ull));
    u(t, MS_SNAP_DURATION_NS, range(1000000, 900000000));
    u(t, MS_SNAP_PAUSE_NS, is_python ? range(100000, 90000000) : 0);
    u(t, MS_SNAP_PID, pid);
    s(t, MS_SNAP_AGENT, "memsnap-capture 0.1.0");
    s(t, MS_SNAP_BOOT_ID, uuid());
    u(t, MS_SNAP_FLAGS, (redact ? 2u : 0u));
    add(w, t);

    if (ms_writer_end(w, 0)) die("ms_writer_end", ms_writer_error(w));
}

/* ----------------------------------------------------- samples and files */

typedef struct {
    unsigned char *data;  /* all payloads back to back */
    size_t *sizes;
    size_t n, total;
} samples;

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die(path, strerror(errno));
    size_t cap = 1 << 16, n = 0, k;
    unsigned char *p = xmalloc(cap);
    while ((k = fread(p + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            p = realloc(p, cap);
            if (!p) die(path, "out of memory");
        }
    }
    fclose(f);
    *len = n;
    return p;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* The decompressed payloads of every record of a .msnap file written with
 * codec 1 (plain zstd): what the dictionary is built from and tried on. */
static void payloads_of(const char *path, samples *S)
{
    size_t len;
    unsigned char *f = read_file(path, &len);
    if (len < 64) die(path, "not a .msnap file");
    size_t off = f[12] | (size_t)f[13] << 8;
    S->n = 0;
    S->total = 0;
    S->data = NULL;
    S->sizes = NULL;
    while (off + 40 <= len) {
        uint64_t comp = le64(f + off + 8), raw = le64(f + off + 16);
        size_t hs = f[off + 4] | (size_t)f[off + 5] << 8;
        if (f[off + 28] != MS_CODEC_ZSTD) die(path, "a record is not codec 1 (capture the files to try with --no-dict)");
        if (off + hs + comp > len || raw > (256u << 20)) die(path, "damaged record");
        S->data = realloc(S->data, S->total + raw);
        S->sizes = realloc(S->sizes, (S->n + 1) * sizeof *S->sizes);
        if (!S->data || !S->sizes) die(path, "out of memory");
        size_t got = ZSTD_decompress(S->data + S->total, (size_t)raw, f + off + hs, (size_t)comp);
        if (ZSTD_isError(got) || got != raw) die(path, "zstd frame does not decompress");
        S->sizes[S->n++] = raw;
        S->total += raw;
        off += hs + comp;
    }
    free(f);
}

/* ------------------------------------------------------ dictionary making */

typedef struct {
    const char *name;
    unsigned char *dict;
    size_t size;
} candidate;

/* Segments of the samples that recur most (COVER), as raw content: the
 * dictionary's bytes without zstd's header and entropy tables. */
static size_t cover_content(const samples *S, unsigned char *out, size_t cap)
{
    ZDICT_cover_params_t cp;
    memset(&cp, 0, sizeof cp);
    cp.k = 1024; /* segment size */
    cp.d = 8;    /* dmer size */
    cp.zParams.compressionLevel = 9;
    cp.zParams.dictID = DICT_ID;
    unsigned char *full = xmalloc(cap + 4096);
    size_t n = ZDICT_trainFromBuffer_cover(full, cap + 4096, S->data, S->sizes, (unsigned)S->n, cp);
    if (ZDICT_isError(n)) die("ZDICT_trainFromBuffer_cover", ZDICT_getErrorName(n));
    size_t hdr = ZDICT_getDictHeaderSize(full, n);
    if (ZDICT_isError(hdr)) die("ZDICT_getDictHeaderSize", ZDICT_getErrorName(hdr));
    size_t content = n - hdr;
    if (content > cap) { /* keep the end: zstd reaches the last bytes most cheaply */
        hdr += content - cap;
        content = cap;
    }
    memcpy(out, full + hdr, content);
    free(full);
    return content;
}

/* content + entropy tables fitted to the samples + the id: one buffer of
 * exactly `size` bytes (ZDICT trims the content's start to make room). */
static size_t finalize(const unsigned char *content, size_t clen, const samples *S, unsigned char *out, size_t size)
{
    ZDICT_params_t zp;
    memset(&zp, 0, sizeof zp);
    zp.compressionLevel = 9;
    zp.dictID = DICT_ID;
    size_t n = ZDICT_finalizeDictionary(out, size, content, clen, S->data, S->sizes, (unsigned)S->n, zp);
    if (ZDICT_isError(n)) die("ZDICT_finalizeDictionary", ZDICT_getErrorName(n));
    return n;
}

static size_t zsize(const unsigned char *src, size_t n, const candidate *c, int level)
{
    static ZSTD_CCtx *cc;
    if (!cc && !(cc = ZSTD_createCCtx())) die("ZSTD_createCCtx", "out of memory");
    size_t bound = ZSTD_compressBound(n);
    unsigned char *dst = xmalloc(bound);
    ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    if (c && c->dict) {
        size_t r = ZSTD_CCtx_loadDictionary(cc, c->dict, c->size);
        if (ZSTD_isError(r)) die("ZSTD_CCtx_loadDictionary", ZSTD_getErrorName(r));
    }
    size_t z = ZSTD_compress2(cc, dst, bound, src, n);
    if (ZSTD_isError(z)) die("ZSTD_compress2", ZSTD_getErrorName(z));
    free(dst);
    return z;
}

static void write_out(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) die(path, strerror(errno));
    if (fwrite(p, 1, n, f) != n || fclose(f) != 0) die(path, "write failed");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_dict OUTDIR [FILE.msnap ...]\n");
        return 2;
    }
    const char *out = argv[1];
    char path[4096];

    /* 1. the synthetic snapshots, written as plain zstd records */
    snprintf(path, sizeof path, "%s/samples.msnap", out);
    int err;
    char msg[512];
    ms_writer *w = ms_writer_open(path, MS_TRUNCATE, "memsnap-dict", 3 | MS_ZLEVEL_NO_DICT, &err, msg, sizeof msg);
    if (!w) die(path, msg);
    for (uint64_t k = 0; k < NSAMPLES; k++) gen_snapshot(w);
    if (ms_writer_close(w)) die(path, "close failed");
    samples S;
    payloads_of(path, &S);
    unlink(path);
    printf("make_dict: %zu synthetic snapshots, %zu payload bytes (%.0f per snapshot)\n", S.n, S.total,
           (double)S.total / (double)S.n);

    /* 2. candidates: raw content (COVER's pick of the samples) and the same
     * content finalized with entropy tables and an id, at several sizes */
    static const size_t sizes[] = {16 * 1024, 24 * 1024, DICT_SIZE, 48 * 1024, 64 * 1024};
    candidate cands[2 * NELEM(sizes) + 1];
    size_t nc = 0;
    cands[nc++] = (candidate){"none", NULL, 0};
    candidate chosen = {0};
    for (size_t k = 0; k < NELEM(sizes); k++) {
        unsigned char *content = xmalloc(sizes[k]);
        size_t clen = cover_content(&S, content, sizes[k]);
        unsigned char *fin = xmalloc(sizes[k]);
        size_t flen = finalize(content, clen, &S, fin, sizes[k]);
        char *n1 = xmalloc(32), *n2 = xmalloc(32);
        snprintf(n1, 32, "raw %zuK", sizes[k] / 1024);
        snprintf(n2, 32, "finalized %zuK", sizes[k] / 1024);
        cands[nc++] = (candidate){n1, content, clen};
        cands[nc++] = (candidate){n2, fin, flen};
        if (sizes[k] == DICT_SIZE) chosen = cands[nc - 1];
    }

    snprintf(path, sizeof path, "%s/msnap-dict-1.bin", out);
    write_out(path, chosen.dict, chosen.size);
    printf("make_dict: wrote %s: %zu bytes, dictionary id %u (0x%X), %s\n", path, chosen.size,
           ZSTD_getDictID_fromDict(chosen.dict, chosen.size), DICT_ID, chosen.name);

    /* 3. what each candidate makes of the given files (not of the samples,
     * which they were fitted to), file by file and in total */
    size_t tot9[NELEM(cands)] = {0}, tot19[NELEM(cands)] = {0}, traw = 0;
    for (int a = 2; a < argc; a++) {
        samples E;
        payloads_of(argv[a], &E);
        printf("\n%s: %zu records, %zu payload bytes\n", argv[a], E.n, E.total);
        printf("  %-16s %12s %12s\n", "dictionary", "level 9", "level 19");
        for (size_t c = 0; c < nc; c++) {
            size_t z9 = 0, z19 = 0, off = 0;
            for (size_t r = 0; r < E.n; r++) {
                z9 += zsize(E.data + off, E.sizes[r], &cands[c], 9);
                z19 += zsize(E.data + off, E.sizes[r], &cands[c], 19);
                off += E.sizes[r];
            }
            printf("  %-16s %12zu %12zu\n", cands[c].name, z9, z19);
            tot9[c] += z9;
            tot19[c] += z19;
        }
        traw += E.total;
        free(E.data);
        free(E.sizes);
    }
    if (argc > 3) {
        printf("\nall %d files: %zu payload bytes\n  %-16s %12s %12s %8s\n", argc - 2, traw, "dictionary", "level 9",
               "level 19", "vs none");
        for (size_t c = 0; c < nc; c++)
            printf("  %-16s %12zu %12zu %8.3f\n", cands[c].name, tot9[c], tot19[c], (double)tot9[c] / (double)tot9[0]);
    }
    return 0;
}

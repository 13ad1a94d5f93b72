/*
 * test_capture_elf.c - cmocka tests of capture/elf.c and of
 * pyfind_identify (version and flags from a file alone):
 *
 *   - on real files: every pyenv libpython3.8-3.13, Debian's stripped
 *     static /usr/bin/python3.11 and /bin/ls. _PyRuntime and the obmalloc.c
 *     statics are compared with what nm (or readelf) says when installed,
 *     else with the .PyRuntime section (3.10+); the version found must be
 *     the one the pyenv directory is named after;
 *   - open + index time of libpython3.12 (printed, and bounded);
 *   - on synthetic files (elf_build.c): symbol precedence and STT_FILE
 *     grouping, and version detection for builds this machine lacks
 *     (aarch64, free-threaded, debug, Python 2...);
 *   - hostile inputs: a real small ELF (map_target) cut at every 64-byte
 *     boundary, a synthetic one cut at every byte, and one corrupted field
 *     at a time, each refused with "NAME: byte N:" naming that field.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_test_util.h"
#include "elfread.h"
#include "elf_build.h"
#include "pyenv_util.h"
#include "pyfind.h"

/* ---------------------------------------------------------------- helpers */

/* nm's (or readelf's) value and size of `name`: dynamic table when
 * `dynamic`, else the full .symtab. Returns 1 found, 0 not found, -1 when
 * neither tool can be run. With several matches, returns the first. */
static int tool_symbol(const char *file, const char *name, int dynamic, uint64_t *value, uint64_t *size)
{
    char *nm[] = {"nm", dynamic ? "-D" : "-a", "-S", "--defined-only", (char *)file, NULL};
    ct_result r;
    ct_run(nm, 60, &r);
    int found = 0, ran = r.status == 0;
    for (char *l = r.out; ran && l && *l && !found;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = 0;
        unsigned long long v, s;
        char type, sym[256];
        if (sscanf(l, "%llx %llx %c %255s", &v, &s, &type, sym) == 4 && !strcmp(sym, name)) {
            *value = v;
            *size = s;
            found = 1;
        }
        l = nl ? nl + 1 : NULL;
    }
    ct_result_free(&r);
    if (ran) return found;
    /* no nm: readelf -sW lines "Num: Value Size Type Bind Vis Ndx Name" */
    char *re[] = {"readelf", "-sW", dynamic ? "--dyn-syms" : "--syms", (char *)file, NULL};
    ct_run(re, 60, &r);
    ran = r.status == 0;
    for (char *l = r.out; ran && l && *l && !found;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = 0;
        unsigned long long v, s;
        char t[32], b[32], vis[32], ndx[32], sym[256];
        if (sscanf(l, "%*s %llx %lli %31s %31s %31s %31s %255s", &v, &s, t, b, vis, ndx, sym) == 7 &&
            !strcmp(sym, name) && strcmp(ndx, "UND")) {
            *value = v;
            *size = s;
            found = 1;
        }
        l = nl ? nl + 1 : NULL;
    }
    ct_result_free(&r);
    return ran ? found : -1;
}

static elf_file *open_ok(const char *path)
{
    elf_file *f;
    char msg[512];
    if (elf_open(path, &f, msg, sizeof msg)) fail_msg("elf_open %s: %s", path, msg);
    return f;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    char *b = ct_read_file(path, len);
    if (!b) fail_msg("cannot read %s", path);
    return (unsigned char *)b;
}

/* Expects elf_open_mem to refuse img with "NAME: byte AT: ..." containing `what`. */
static void expect_bad(const unsigned char *img, size_t len, uint64_t at, const char *what, const char *label)
{
    elf_file *f;
    char msg[512], want[64];
    if (!elf_open_mem(img, len, "bad.elf", &f, msg, sizeof msg)) {
        elf_close(f);
        fail_msg("%s: the corrupted file was accepted", label);
    }
    if (f) fail_msg("%s: *out not NULL after a failure", label);
    snprintf(want, sizeof want, "bad.elf: byte %llu: ", (unsigned long long)at);
    if (strncmp(msg, want, strlen(want))) fail_msg("%s: message \"%s\" does not start with \"%s\"", label, msg, want);
    if (what && !strstr(msg, what)) fail_msg("%s: message \"%s\" does not say \"%s\"", label, msg, what);
    printf("  %-34s %s\n", label, msg);
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ------------------------------------------------------- real libpython */

static const unsigned minors[] = {8, 9, 10, 11, 12, 13};

static void check_libpython(unsigned minor)
{
    char *root = pt_pyenv_root();
    if (!root) ct_skip("no readable pyenv (tried `pyenv root`, $PYENV_ROOT, /root/.pyenv, /opt/pyenv)");
    char *dir = pt_pyenv_version(root, 3, minor, NULL);
    if (!dir) ct_skip("pyenv has no Python 3.%u under %s/versions", minor, root);
    char *lib = pt_pyenv_lib(dir, 3, minor);
    if (!lib) ct_skip("%s has no shared libpython3.%u (not built with --enable-shared)", dir, minor);
    unsigned want_hex = pt_hex_of_dirname(dir);
    printf("%s\n", lib);
    elf_file *f = open_ok(lib);
    ct_eq_u64(elf_type(f), ET_DYN, "%s: e_type", lib);
    ct_eq_u64(elf_has_symtab(f), 1, "%s: has .symtab", lib);
    char soname[64];
    snprintf(soname, sizeof soname, "libpython3.%u.so.1.0", minor);
    if (!elf_soname(f) || strcmp(elf_soname(f), soname))
        fail_msg("%s: soname %s, want %s", lib, elf_soname(f) ? elf_soname(f) : "(none)", soname);

    /* _PyRuntime against nm -D / readelf, else the .PyRuntime section */
    uint64_t v, s, tv, ts, sa, ss;
    if (elf_symbol(f, "_PyRuntime", &v, &s)) fail_msg("%s: _PyRuntime not found", lib);
    int t = tool_symbol(lib, "_PyRuntime", 1, &tv, &ts);
    if (t == 1) {
        ct_eq_u64(v, tv, "%s: _PyRuntime value vs nm -D", lib);
        ct_eq_u64(s, ts, "%s: _PyRuntime size vs nm -D", lib);
        printf("  _PyRuntime 0x%llx, %llu bytes: as nm -D says\n", (unsigned long long)v, (unsigned long long)s);
    } else if (t == 0) {
        fail_msg("%s: nm -D does not list _PyRuntime, elf_symbol found it at 0x%llx", lib, (unsigned long long)v);
    } else if (minor >= 10) {
        printf("  nm and readelf are not installed: comparing with the .PyRuntime section\n");
    } else {
        printf("SKIP: nm and readelf are not installed: _PyRuntime of 3.%u not cross-checked\n", minor);
    }
    if (minor >= 10) {
        if (elf_section(f, ".PyRuntime", &sa, &ss)) fail_msg("%s: no .PyRuntime section", lib);
        ct_eq_u64(v, sa, "%s: _PyRuntime vs .PyRuntime section address", lib);
        ct_eq_u64(s, ss, "%s: _PyRuntime size vs .PyRuntime section size", lib);
    } else if (!elf_section(f, ".PyRuntime", &sa, &ss)) {
        fail_msg("%s: 3.%u has a .PyRuntime section (expected from 3.10 on)", lib, minor);
    }

    /* file statics of obmalloc.c: 3.8-3.11 only */
    const char *statics[] = {"arenas", "usedpools", "maxarenas"};
    for (size_t i = 0; i < 3; i++) {
        uint64_t lv, ls;
        int got = elf_local_symbol(f, "obmalloc.c", statics[i], &lv, &ls);
        if (minor <= 11) {
            if (got) fail_msg("%s: local %s of obmalloc.c not found", lib, statics[i]);
            if (tool_symbol(lib, statics[i], 0, &tv, &ts) == 1) {
                ct_eq_u64(lv, tv, "%s: obmalloc.c %s vs nm", lib, statics[i]);
                ct_eq_u64(ls, ts, "%s: obmalloc.c %s size vs nm", lib, statics[i]);
            }
            if (!elf_symbol(f, statics[i], NULL, NULL)) fail_msg("%s: elf_symbol found the local %s", lib, statics[i]);
            if (!elf_local_symbol(f, "longobject.c", statics[i], NULL, NULL))
                fail_msg("%s: %s found in longobject.c", lib, statics[i]);
            printf("  obmalloc.c %s at 0x%llx, %llu bytes\n", statics[i], (unsigned long long)lv, (unsigned long long)ls);
        } else if (!got) {
            fail_msg("%s: 3.%u has a local %s in obmalloc.c (moved into the interpreter in 3.12)", lib, minor, statics[i]);
        }
    }
    if (minor <= 11) {
        /* arenas is a .bss pointer: beyond p_filesz, reads as zero */
        uint64_t a;
        unsigned char buf[8];
        memset(buf, 0xa5, sizeof buf);
        elf_local_symbol(f, "obmalloc.c", "arenas", &a, NULL);
        if (elf_read_vaddr(f, a, buf, 8)) fail_msg("%s: cannot read arenas' 8 bytes at 0x%llx", lib, (unsigned long long)a);
        ct_eq_u64(get64(buf), 0, "%s: arenas in .bss reads as zero", lib);
    }

    /* Py_Version in the file (3.11+) */
    uint64_t pv, pvs;
    if (minor >= 11) {
        unsigned char b[4];
        if (elf_symbol(f, "Py_Version", &pv, &pvs) || elf_read_vaddr(f, pv, b, 4))
            fail_msg("%s: Py_Version not readable", lib);
        unsigned got = (unsigned)b[0] | (unsigned)b[1] << 8 | (unsigned)b[2] << 16 | (unsigned)b[3] << 24;
        if (want_hex) ct_eq_u64(got, want_hex, "%s: Py_Version vs the directory name", lib);
    } else if (!elf_symbol(f, "Py_Version", &pv, &pvs)) {
        fail_msg("%s: 3.%u defines Py_Version (new in 3.11)", lib, minor);
    }

    /* addresses outside every segment, and ranges crossing a segment's end */
    unsigned char b[16];
    if (!elf_read_vaddr(f, 0xfffffff000000000ull, b, 1)) fail_msg("%s: read an unmapped address", lib);
    elf_segment last;
    if (elf_load_segment(f, elf_load_count(f) - 1, &last)) fail_msg("no segments");
    if (!elf_read_vaddr(f, last.vaddr + last.memsz - 4, b, 8)) fail_msg("%s: read across a segment's end", lib);
    if (elf_read_vaddr(f, last.vaddr + last.memsz - 8, b, 8)) fail_msg("%s: cannot read a segment's last 8 bytes", lib);
    ct_eq_u64(elf_load_bias(f, 0x7f1234500000ull), 0x7f1234500000ull, "%s: bias of a library linked at 0", lib);

    /* version and flags from the file alone */
    py_runtime_info pi;
    memset(&pi, 0, sizeof pi);
    char msg[512];
    int rc = pyfind_identify(f, lib, &pi, msg, sizeof msg);
    if (rc != PYFIND_OK) fail_msg("%s: pyfind_identify %d: %s", lib, rc, msg);
    const char *method = minor >= 13 ? "_Py_DebugOffsets" : minor >= 11 ? "Py_Version" : "Py_GetVersion";
    printf("  version %s (0x%08x), flags %u: %s\n", pi.version, pi.hexversion, pi.flags, pi.how);
    if (!strstr(pi.how, method)) fail_msg("%s: how \"%s\" does not name %s", lib, pi.how, method);
    if (want_hex) ct_eq_u64(pi.hexversion, want_hex, "%s: hexversion vs the directory name", lib);
    ct_eq_u64(pi.minor, minor, "%s: minor", lib);
    ct_eq_u64(pi.flags, 0, "%s: flags of a release, GIL, unstripped build (file alone)", lib);
    elf_close(f);
    free(lib);
    free(dir);
    free(root);
}

static void test_libpython(void **state)
{
    check_libpython(*(const unsigned *)*state);
}

static void test_debian_python311(void **state)
{
    (void)state;
    const char *p = "/usr/bin/python3.11";
    if (access(p, R_OK)) ct_skip("%s is not installed", p);
    elf_file *f = open_ok(p);
    ct_eq_u64(elf_type(f), ET_EXEC, "%s: e_type", p);
    ct_eq_u64(elf_has_symtab(f), 0, "%s is stripped", p);
    uint64_t v, s, tv, ts;
    if (elf_symbol(f, "_PyRuntime", &v, &s)) fail_msg("%s: _PyRuntime not in .dynsym", p);
    if (tool_symbol(p, "_PyRuntime", 1, &tv, &ts) == 1) {
        ct_eq_u64(v, tv, "_PyRuntime vs nm -D");
        ct_eq_u64(s, ts, "_PyRuntime size vs nm -D");
    }
    uint64_t sa;
    if (!elf_section(f, ".PyRuntime", &sa, NULL)) ct_eq_u64(v, sa, "_PyRuntime vs .PyRuntime");
    if (!elf_local_symbol(f, "obmalloc.c", "arenas", NULL, NULL)) fail_msg("found arenas in a stripped binary");
    if (!elf_local_symbol(f, "obmalloc.c", "usedpools", NULL, NULL)) fail_msg("found usedpools in a stripped binary");
    ct_eq_u64(elf_load_bias(f, 0x400000), 0, "bias of a non-PIE executable at its link address");
    if (elf_soname(f)) fail_msg("an executable with a soname: %s", elf_soname(f));
    py_runtime_info pi;
    memset(&pi, 0, sizeof pi);
    char msg[512];
    int rc = pyfind_identify(f, p, &pi, msg, sizeof msg);
    if (rc != PYFIND_OK) fail_msg("pyfind_identify %d: %s", rc, msg);
    printf("%s: version %s (0x%08x), flags %u: %s\n", p, pi.version, pi.hexversion, pi.flags, pi.how);
    ct_eq_u64(pi.hexversion >> 16, 0x030b, "major.minor");
    ct_eq_u64(pi.flags, PYF_STRIPPED, "flags");
    if (!strstr(pi.how, "Py_Version")) fail_msg("how: %s", pi.how);
    elf_close(f);
}

static void test_bin_ls(void **state)
{
    (void)state;
    elf_file *f = open_ok("/bin/ls");
    if (!elf_symbol(f, "_PyRuntime", NULL, NULL)) fail_msg("/bin/ls defines _PyRuntime");
    if (!elf_symbol(f, "malloc", NULL, NULL)) fail_msg("/bin/ls: the undefined malloc was found");
    py_runtime_info pi;
    memset(&pi, 0, sizeof pi);
    char msg[512];
    ct_eq_u64(pyfind_identify(f, "/bin/ls", &pi, msg, sizeof msg), PYFIND_NOT_PYTHON, "/bin/ls identifies as");
    if (!strstr(msg, "no CPython runtime")) fail_msg("message: %s", msg);
    elf_close(f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_open_time(void **state)
{
    (void)state;
    char *root = pt_pyenv_root();
    char *dir = root ? pt_pyenv_version(root, 3, 12, NULL) : NULL;
    char *lib = dir ? pt_pyenv_lib(dir, 3, 12) : NULL;
    if (!lib) ct_skip("no pyenv libpython3.12 to time");
    double t[9];
    size_t nsyms = 0;
    for (int i = 0; i < 9; i++) {
        double t0 = ct_now();
        elf_file *f = open_ok(lib);
        t[i] = ct_now() - t0;
        nsyms = elf_symbol_count(f);
        elf_close(f);
    }
    qsort(t, 9, sizeof t[0], cmp_double);
    elf_file *f = open_ok(lib);
    static const char *names[] = {"_PyRuntime", "Py_Version", "PyList_Type", "no_such_symbol", "PyDict_New"};
    double t0 = ct_now();
    unsigned found = 0;
    for (int i = 0; i < 100000; i++) found += !elf_symbol(f, names[i % 5], NULL, NULL);
    double lk = ct_now() - t0;
    elf_close(f);
    printf("%s (%zu symbols indexed): open+index median %.2f ms (min %.2f, max %.2f, 9 runs, file cached); "
           "100,000 lookups %.1f ms (%.0f ns each)\n",
           lib, nsyms, t[4] * 1e3, t[0] * 1e3, t[8] * 1e3, lk * 1e3, lk * 1e4);
    ct_eq_u64(found, 80000, "lookups that found their symbol");
    if (nsyms < 10000) fail_msg("only %zu symbols indexed in libpython3.12", nsyms);
    if (t[4] > 0.2) fail_msg("open+index took %.1f ms (median): more than 200 ms", t[4] * 1e3);
    free(lib);
    free(dir);
    free(root);
}

/* ----------------------------------------------------- synthetic files */

static void test_symbol_rules(void **state)
{
    (void)state;
    elf_builder *b = eb_new(ET_DYN, EM_X86_64);
    eb_soname(b, "libsynth.so.1");
    eb_sym(b, 0, "dup", EB_DATA, eb_addr(b, EB_DATA, 0x10), 8, EB_GLOBAL, EB_OBJECT);
    eb_sym(b, 0, "undef", -1, 0, 0, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "weak", EB_TEXT, eb_addr(b, EB_TEXT, 0), 4, EB_WEAK, EB_FUNC);
    eb_sym(b, 1, "a.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "x", EB_DATA, 0x1001, 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "Objects/b.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "x", EB_DATA, 0x1002, 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "d.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "z", EB_DATA, 0x1003, 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "same", EB_DATA, 0x1005, 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "d.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "z", EB_DATA, 0x1004, 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "same", EB_DATA, 0x1005, 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "", 0, 0, 0, EB_LOCAL, EB_FILE); /* ends the last group */
    eb_sym(b, 1, "nofile", EB_DATA, 0x1006, 4, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "x", EB_DATA, 0x1003, 8, EB_GLOBAL, EB_OBJECT);
    eb_sym(b, 1, "dup", EB_DATA, 0x2000, 8, EB_GLOBAL, EB_OBJECT);
    size_t n;
    unsigned char *img = eb_finish(b, &n);
    elf_file *f;
    char msg[512];
    if (elf_open_mem(img, n, "synth", &f, msg, sizeof msg)) fail_msg("synthetic file refused: %s", msg);
    uint64_t v, s;
    if (elf_local_symbol(f, "a.c", "x", &v, &s)) fail_msg("a.c x");
    ct_eq_u64(v, 0x1001, "a.c x");
    ct_eq_u64(s, 4, "a.c x size");
    if (elf_local_symbol(f, "b.c", "x", &v, NULL)) fail_msg("b.c x (STT_FILE Objects/b.c)");
    ct_eq_u64(v, 0x1002, "b.c x");
    if (elf_local_symbol(f, "Objects/b.c", "x", &v, NULL)) fail_msg("Objects/b.c x");
    ct_eq_u64(v, 0x1002, "Objects/b.c x");
    if (!elf_local_symbol(f, "bb.c", "x", &v, NULL)) fail_msg("bb.c matched Objects/b.c");
    if (!elf_local_symbol(f, "c", "x", &v, NULL)) fail_msg("\"c\" matched a.c or b.c");
    if (!elf_local_symbol(f, "d.c", "z", &v, NULL)) fail_msg("ambiguous z of two d.c found");
    if (elf_local_symbol(f, "d.c", "same", &v, NULL)) fail_msg("same of two d.c (equal values) not found");
    ct_eq_u64(v, 0x1005, "d.c same");
    if (!elf_local_symbol(f, "d.c", "nofile", &v, NULL)) fail_msg("a local after an empty STT_FILE joined d.c");
    if (elf_symbol(f, "x", &v, &s)) fail_msg("global x");
    ct_eq_u64(v, 0x1003, "elf_symbol takes the global x, not a local");
    ct_eq_u64(s, 8, "global x size");
    if (elf_symbol(f, "dup", &v, NULL)) fail_msg("dup");
    ct_eq_u64(v, eb_addr(b, EB_DATA, 0x10), ".dynsym before .symtab");
    if (!elf_symbol(f, "undef", NULL, NULL)) fail_msg("an undefined symbol was found");
    if (elf_symbol(f, "weak", &v, NULL)) fail_msg("weak symbol not found");
    if (!elf_symbol(f, "nofile", NULL, NULL)) fail_msg("a local found by elf_symbol");
    if (!elf_symbol(f, "", NULL, NULL)) fail_msg("the empty name found");
    if (strcmp(elf_soname(f) ? elf_soname(f) : "", "libsynth.so.1")) fail_msg("soname %s", elf_soname(f));
    ct_eq_u64(elf_has_symtab(f), 1, "has .symtab");
    ct_eq_u64(elf_load_count(f), 2, "PT_LOAD segments");
    elf_close(f);
    free(img);

    eb_strip(b);
    img = eb_finish(b, &n);
    if (elf_open_mem(img, n, "synth-stripped", &f, msg, sizeof msg)) fail_msg("stripped file refused: %s", msg);
    ct_eq_u64(elf_has_symtab(f), 0, "stripped: has .symtab");
    if (!elf_local_symbol(f, "a.c", "x", &v, NULL)) fail_msg("stripped: a local found");
    if (elf_symbol(f, "dup", &v, NULL)) fail_msg("stripped: .dynsym symbol lost");
    elf_close(f);
    free(img);
    eb_free(b);
}

/* Writes a synthetic runtime image; `setup` adds what the case needs. */
static int identify_synth(elf_builder *b, const char *name, py_runtime_info *pi, char *msg, size_t len)
{
    size_t n;
    unsigned char *img = eb_finish(b, &n);
    elf_file *f;
    if (elf_open_mem(img, n, name, &f, msg, len)) fail_msg("synthetic %s refused: %s", name, msg);
    memset(pi, 0, sizeof *pi);
    int rc = pyfind_identify(f, name, pi, msg, len);
    printf("  %-28s rc %d, %s (0x%08x), flags %u, how: %s%s%s\n", name, rc, pi->version, pi->hexversion, pi->flags,
           pi->how, *msg ? "; msg: " : "", msg);
    elf_close(f);
    free(img);
    eb_free(b);
    return rc;
}

static void test_identify_synthetic(void **state)
{
    (void)state;
    py_runtime_info pi;
    char msg[512];
    elf_builder *b;

    /* 3.13 free-threaded: the debug offsets say so; refused, flag set */
    b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 1);
    eb_py_debug_offsets(b, 0x030d01f0, 1);
    eb_soname(b, "libpython3.13t.so.1.0");
    ct_eq_u64(identify_synth(b, "libpython3.13t.so.1.0", &pi, msg, sizeof msg), PYFIND_UNSUPPORTED, "3.13t");
    ct_eq_u64(pi.hexversion, 0x030d01f0, "3.13t hexversion");
    ct_eq_u64(pi.flags, PYF_FREE_THREADED, "3.13t flags");
    if (!strstr(msg, "3.13.1") || !strstr(msg, "free-threaded")) fail_msg("3.13t message: %s", msg);

    /* 3.14 rc (no layout known here, but found and named) */
    b = eb_new(ET_DYN, EM_AARCH64);
    eb_py_runtime(b, 1);
    eb_py_debug_offsets(b, 0x030e00c2, 0);
    ct_eq_u64(identify_synth(b, "libpython3.14.so.1.0", &pi, msg, sizeof msg), PYFIND_OK, "3.14.0rc2");
    if (strcmp(pi.version, "3.14.0rc2")) fail_msg("version %s, want 3.14.0rc2", pi.version);

    /* debug build by its symbols, version by Py_Version */
    b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 1);
    eb_py_version(b, 0x030c04f0);
    eb_sym(b, 0, "_Py_NegativeRefcount", EB_TEXT, eb_addr(b, EB_TEXT, 0xe0), 4, EB_GLOBAL, EB_FUNC);
    eb_strip(b);
    ct_eq_u64(identify_synth(b, "libpython3.12d.so.1.0", &pi, msg, sizeof msg), PYFIND_OK, "3.12 debug");
    ct_eq_u64(pi.hexversion, 0x030c04f0, "3.12 debug hexversion");
    ct_eq_u64(pi.flags, PYF_DEBUG | PYF_STRIPPED, "3.12 debug flags");

    /* 3.9 on aarch64: PY_VERSION through ADRP+ADD */
    b = eb_new(ET_DYN, EM_AARCH64);
    eb_py_runtime(b, 0);
    eb_py_getversion(b, 1, "3.9.7");
    ct_eq_u64(identify_synth(b, "libpython3.9.so.1.0", &pi, msg, sizeof msg), PYFIND_OK, "aarch64 3.9");
    ct_eq_u64(pi.hexversion, 0x030907f0, "aarch64 3.9 hexversion");
    if (!strstr(pi.how, "aarch64")) fail_msg("how: %s", pi.how);

    /* 3.10 static non-PIE x86-64: absolute MOV immediates */
    b = eb_new(ET_EXEC, EM_X86_64);
    eb_py_runtime(b, 1);
    eb_py_getversion(b, 0, "3.10.4");
    ct_eq_u64(identify_synth(b, "/usr/bin/python3.10", &pi, msg, sizeof msg), PYFIND_OK, "static 3.10");
    ct_eq_u64(pi.hexversion, 0x030a04f0, "static 3.10 hexversion");

    /* 3.8 PIE x86-64, a pre-release with the '+' of a development build */
    b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 0);
    eb_py_getversion(b, 1, "3.8.0b3+");
    ct_eq_u64(identify_synth(b, "libpython3.8.so.1.0", &pi, msg, sizeof msg), PYFIND_OK, "3.8.0b3+");
    ct_eq_u64(pi.hexversion, 0x030800b3, "3.8.0b3+ hexversion");
    if (strcmp(pi.version, "3.8.0b3")) fail_msg("version %s", pi.version);

    /* unknown machine: no code reading; the minor from the soname */
    b = eb_new(ET_DYN, 243 /* RISC-V */);
    eb_py_runtime(b, 0);
    eb_py_getversion(b, 1, "3.9.1");
    eb_soname(b, "libpython3.9d.so.1.0");
    ct_eq_u64(identify_synth(b, "libpython3.9d.so.1.0", &pi, msg, sizeof msg), PYFIND_OK, "riscv 3.9d");
    ct_eq_u64(pi.hexversion, 0x030900f0, "guessed hexversion");
    ct_eq_u64(pi.flags, PYF_VERSION_GUESSED | PYF_DEBUG, "guessed flags");
    if (strcmp(pi.version, "3.9") || !strstr(pi.how, "soname")) fail_msg("version %s how %s", pi.version, pi.how);

    /* no name, no code: the minor from the exported API */
    b = eb_new(ET_EXEC, EM_X86_64);
    eb_py_runtime(b, 0);
    eb_sym(b, 0, "Py_Is", EB_TEXT, eb_addr(b, EB_TEXT, 0xa0), 4, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "PyFrame_GetCode", EB_TEXT, eb_addr(b, EB_TEXT, 0xa8), 4, EB_GLOBAL, EB_FUNC);
    ct_eq_u64(identify_synth(b, "/opt/app/bin/server", &pi, msg, sizeof msg), PYFIND_OK, "API 3.10");
    ct_eq_u64(pi.hexversion, 0x030a00f0, "API 3.10 hexversion");
    ct_eq_u64(pi.flags & PYF_VERSION_GUESSED, PYF_VERSION_GUESSED, "API 3.10 guessed");

    /* two different version strings: neither is trusted */
    b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 0);
    eb_py_getversion(b, 1, "3.9.1");
    eb_put(b, EB_RODATA, 0x00, "3.10.2", 7); /* where the format string was */
    ct_eq_u64(identify_synth(b, "libpython3.9.so.1.0", &pi, msg, sizeof msg), PYFIND_OK, "two versions");
    ct_eq_u64(pi.flags & PYF_VERSION_GUESSED, PYF_VERSION_GUESSED, "two versions: guessed");
    ct_eq_u64(pi.minor, 9, "two versions: minor from the name");

    /* Python 2 and 3.7: named and refused */
    b = eb_new(ET_EXEC, EM_X86_64);
    eb_sym(b, 0, "Py_Initialize", EB_TEXT, eb_addr(b, EB_TEXT, 0xf0), 4, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "PyString_FromString", EB_TEXT, eb_addr(b, EB_TEXT, 0xf4), 4, EB_GLOBAL, EB_FUNC);
    eb_py_getversion(b, 0, "2.7.18");
    ct_eq_u64(identify_synth(b, "/usr/bin/python2.7", &pi, msg, sizeof msg), PYFIND_UNSUPPORTED, "2.7");
    if (!strstr(msg, "Python 2.7.18 is not supported")) fail_msg("2.7 message: %s", msg);
    b = eb_new(ET_EXEC, EM_X86_64);
    eb_sym(b, 0, "Py_Initialize", EB_TEXT, eb_addr(b, EB_TEXT, 0xf0), 4, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "PyString_FromString", EB_TEXT, eb_addr(b, EB_TEXT, 0xf4), 4, EB_GLOBAL, EB_FUNC);
    ct_eq_u64(identify_synth(b, "/usr/bin/app", &pi, msg, sizeof msg), PYFIND_UNSUPPORTED, "2.x by API");
    ct_eq_u64(pi.hexversion >> 24, 2, "2.x by API: major");
    b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 0);
    ct_eq_u64(identify_synth(b, "libpython3.7m.so.1.0", &pi, msg, sizeof msg), PYFIND_UNSUPPORTED, "3.7m by name");
    if (!strstr(msg, "3.7 is not supported")) fail_msg("3.7 message: %s", msg);

    /* Py_GetVersion but no runtime, version >= 3.8: not a usable runtime */
    b = eb_new(ET_DYN, EM_X86_64);
    eb_sym(b, 0, "Py_Initialize", EB_TEXT, eb_addr(b, EB_TEXT, 0xf0), 4, EB_GLOBAL, EB_FUNC);
    eb_py_getversion(b, 1, "3.11.4");
    ct_eq_u64(identify_synth(b, "libweird.so", &pi, msg, sizeof msg), PYFIND_NOT_PYTHON, "no _PyRuntime");

    /* a bad cookie is not debug offsets; Py_Version with another major is not a version */
    b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 1);
    eb_put(b, EB_CUSTOM, 0, "xdebugpz\xf0\x01\x0d\x03\0\0\0\0", 16);
    eb_py_version(b, 0x040000f0);
    eb_sym(b, 0, "Py_Is", EB_TEXT, eb_addr(b, EB_TEXT, 0xa0), 4, EB_GLOBAL, EB_FUNC);
    ct_eq_u64(identify_synth(b, "libpython3.13.so.1.0", &pi, msg, sizeof msg), PYFIND_OK, "bad cookie");
    ct_eq_u64(pi.hexversion, 0x030d00f0, "bad cookie: minor from the name, guessed");
}

/* ---------------------------------------------------------- hostile input */

static void test_truncation(void **state)
{
    (void)state;
    size_t n;
    unsigned char *img = slurp(MAP_TARGET_BIN, &n);
    elf_file *f;
    char msg[512];
    if (elf_open_mem(img, n, "map_target", &f, msg, sizeof msg)) fail_msg("map_target refused: %s", msg);
    int has = elf_has_symtab(f);
    elf_close(f);
    size_t cuts = 0;
    for (size_t cut = 0; cut < n; cut += 64, cuts++) {
        unsigned char *c = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
        memcpy(c, img, cut);
        if (!elf_open_mem(c, cut, "cut", &f, msg, sizeof msg)) fail_msg("map_target cut to %zu bytes was accepted", cut);
        if (strncmp(msg, "cut: byte ", 10)) fail_msg("cut %zu: message without a byte offset: %s", cut, msg);
        unsigned long long at = strtoull(msg + 10, NULL, 10);
        if (at > n) fail_msg("cut %zu: offset %llu beyond the file", cut, at);
        free(c);
    }
    printf("map_target (%zu bytes, %s): all %zu cuts at 64-byte boundaries refused with a byte offset\n", n,
           has ? "with .symtab" : "stripped", cuts);
    free(img);

    /* a synthetic file cut at every byte */
    elf_builder *b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 1);
    eb_py_getversion(b, 1, "3.9.2");
    eb_soname(b, "libpython3.9.so.1.0");
    eb_sym(b, 1, "obmalloc.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "arenas", EB_BSS, eb_addr(b, EB_BSS, 0), 8, EB_LOCAL, EB_OBJECT);
    eb_bss(b, 64);
    img = eb_finish(b, &n);
    eb_free(b);
    for (size_t cut = 0; cut < n; cut++) {
        unsigned char *c = malloc(cut ? cut : 1);
        memcpy(c, img, cut);
        if (!elf_open_mem(c, cut, "cut", &f, msg, sizeof msg)) fail_msg("synthetic cut to %zu bytes accepted", cut);
        free(c);
    }
    if (elf_open_mem(img, n, "whole", &f, msg, sizeof msg)) fail_msg("whole synthetic file refused: %s", msg);
    uint64_t a;
    if (elf_local_symbol(f, "obmalloc.c", "arenas", &a, NULL)) fail_msg("synthetic arenas");
    unsigned char z[8] = {1};
    if (elf_read_vaddr(f, a, z, 8) || get64(z)) fail_msg("synthetic .bss read");
    elf_close(f);
    printf("synthetic file (%zu bytes): every cut refused\n", n);
    free(img);
}

static void test_bad_fields(void **state)
{
    (void)state;
    elf_builder *b = eb_new(ET_DYN, EM_X86_64);
    eb_py_runtime(b, 1);
    eb_soname(b, "libpython3.12.so.1.0");
    eb_sym(b, 1, "obmalloc.c", 0, 0, 0, EB_LOCAL, EB_FILE);
    eb_sym(b, 1, "arenas", EB_DATA, eb_addr(b, EB_DATA, 0), 8, EB_LOCAL, EB_OBJECT);
    eb_sym(b, 1, "g", EB_DATA, eb_addr(b, EB_DATA, 8), 8, EB_GLOBAL, EB_OBJECT);
    size_t n;
    unsigned char *good = eb_finish(b, &n);
    eb_free(b);
    elf_file *f;
    char msg[512];
    if (elf_open_mem(good, n, "good", &f, msg, sizeof msg)) fail_msg("the unmodified file was refused: %s", msg);
    elf_close(f);
    unsigned char *c = malloc(n);
    uint64_t shoff = get64(good + 40);
    uint64_t symtab = eb_shdr_offset(good, n, ".symtab"), dynsym = eb_shdr_offset(good, n, ".dynsym");
    if (!symtab || !dynsym) fail_msg("builder lost its symbol tables");
#define CASE(label, at, what, edit)     \
    do {                                \
        memcpy(c, good, n);             \
        edit;                           \
        expect_bad(c, n, at, what, label); \
    } while (0)
    CASE("magic", 0, "not an ELF file", c[1] = 'X');
    CASE("32-bit class", 4, "class 1", c[4] = 1);
    CASE("big-endian", 5, "little-endian", c[5] = 2);
    CASE("relocatable type", 16, "ELF type 1", put16(c + 16, 1));
    CASE("e_shoff near the end", 40, "past the end", put64(c + 40, n - 10));
    CASE("e_shoff huge", 40, "past the end", put64(c + 40, 1ull << 63));
    CASE("e_shnum too many", 60, "run past the end", put16(c + 60, 0xfff0));
    CASE("extended e_shnum 2^40", shoff + 32, "more than", (put16(c + 60, 0), put64(c + shoff + 32, 1ull << 40)));
    CASE("e_shentsize 32", 58, "e_shentsize", put16(c + 58, 32));
    CASE("e_shstrndx out of range", 62, "not below", put16(c + 62, 200));
    CASE("e_shstrndx names .text", shoff + 64 + 4, "not STRTAB", put16(c + 62, 1));
    CASE("section name offset", shoff + 2 * 64, "name offset", put32(c + shoff + 2 * 64, 0x7fffffff));
    CASE(".symtab sh_size huge", symtab + 24, "past the end", put64(c + symtab + 32, 1ull << 62));
    CASE(".symtab sh_size odd", symtab + 32, "multiple of 24", put64(c + symtab + 32, 25));
    CASE(".symtab sh_link 999", symtab + 40, "string table", put32(c + symtab + 40, 999));
    CASE(".symtab sh_link .text", symtab + 40, "string table", put32(c + symtab + 40, 1));
    CASE(".symtab sh_entsize 16", symtab + 56, "entry size", put64(c + symtab + 56, 16));
    CASE(".dynsym sh_info 1000", dynsym + 44, "sh_info", put32(c + dynsym + 44, 1000));
    CASE("st_name of .dynsym[1]", 0x400 + 24, "name offset", put32(c + 0x400 + 24, 0xffffffff));
    uint64_t symoff = get64(good + symtab + 24);
    CASE("st_name of .symtab[2]", symoff + 2 * 24, "name offset", put32(c + symoff + 2 * 24, 0x10000));
    CASE("e_phnum too many", 32, "run past the end", put16(c + 56, 0xfff0));
    CASE("e_phnum PN_XNUM, huge sh_info", shoff + 44, "more than", (put16(c + 56, 0xffff), put32(c + shoff + 44, 0xfffffff0)));
    CASE("e_phentsize 40", 54, "e_phentsize", put16(c + 54, 40));
    CASE("p_filesz huge", 64 + 56 + 8, "past the end", put64(c + 64 + 56 + 32, 1ull << 40));
    CASE("p_filesz > p_memsz", 64 + 56 + 32, "exceeds p_memsz", put64(c + 64 + 56 + 40, 0x10));
    CASE("p_vaddr + p_memsz overflow", 64 + 56 + 16, "overflows", (put64(c + 64 + 56 + 16, ~0ull - 8)));
    CASE("DT_SONAME past DT_STRSZ", 0x908, "DT_STRSZ", put64(c + 0x908, 0x10000));
    CASE("DT_STRTAB unmapped", 0x908, "not a string", put64(c + 0x918, 0x7000000));
#undef CASE

    /* a .symtab with more entries than the index takes, in a sparse file
     * big enough to hold them: refused before anything is allocated */
    {
        char *dir = ct_tmpdir(NULL);
        char *path = ct_path(dir, "many_symbols.elf");
        memcpy(c, good, n);
        uint64_t many = (uint64_t)ELF_MAX_SYMBOLS + 1, at = 1 << 20;
        put64(c + symtab + 24, at);
        put64(c + symtab + 32, many * 24);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, c, n) != (ssize_t)n || ftruncate(fd, (off_t)(at + many * 24)) || close(fd))
            fail_msg("cannot write the sparse %s", path);
        char want[128];
        snprintf(want, sizeof want, "%s: byte %llu: ", path, (unsigned long long)(symtab + 32));
        if (!elf_open(path, &f, msg, sizeof msg)) fail_msg("%llu symbols were indexed", (unsigned long long)many);
        if (strncmp(msg, want, strlen(want)) || !strstr(msg, "more than")) fail_msg("message: %s", msg);
        printf("  %-34s %s\n", "more symbols than ELF_MAX_SYMBOLS", msg);
        free(path);
        free(dir);
    }
    free(c);
    free(good);

    /* the same kind of damage in a real file: map_target */
    unsigned char *img = slurp(MAP_TARGET_BIN, &n);
    uint64_t st = eb_shdr_offset(img, n, ".symtab");
    if (!st) {
        printf("SKIP: %s has no .symtab: real-file .symtab corruptions not run\n", MAP_TARGET_BIN);
    } else {
        unsigned char *r = malloc(n);
        uint64_t so = get64(img + st + 24);
        memcpy(r, img, n);
        put32(r + so + 3 * 24, 0xfffffff0);
        expect_bad(r, n, so + 3 * 24, "name offset", "map_target st_name");
        memcpy(r, img, n);
        put32(r + st + 40, 0xffff);
        expect_bad(r, n, st + 40, "string table", "map_target sh_link");
        memcpy(r, img, n);
        put64(r + st + 32, get64(img + st + 32) + (1ull << 40) * 24);
        expect_bad(r, n, st + 24, "past the end", "map_target sh_size");
        free(r);
    }
    free(img);
}

static void test_open_errors(void **state)
{
    (void)state;
    elf_file *f = (elf_file *)1;
    char msg[512];
    errno = 0;
    if (!elf_open("/nonexistent/libpython3.12.so", &f, msg, sizeof msg)) fail_msg("opened a missing file");
    ct_eq_u64(errno, ENOENT, "errno of a missing file");
    if (f) fail_msg("*out not NULL");
    if (!strstr(msg, "/nonexistent/libpython3.12.so") || !strstr(msg, "No such file")) fail_msg("message: %s", msg);
    if (!elf_open("/", &f, msg, sizeof msg) || !strstr(msg, "not a regular file")) fail_msg("directory: %s", msg);
    errno = 0;
    if (!elf_open_mem("", 0, "empty", &f, msg, sizeof msg)) fail_msg("empty accepted");
    ct_eq_u64(errno, ENOEXEC, "errno of a malformed file");
    if (strcmp(msg, "empty: byte 0: 0 bytes: too short for an ELF header (64 bytes)")) fail_msg("empty: %s", msg);
    /* a message buffer of length 0 or 1 is respected */
    if (!elf_open_mem("x", 1, "tiny", &f, msg, 0)) fail_msg("accepted");
    msg[0] = 'q';
    if (!elf_open_mem("x", 1, "tiny", &f, msg, 1) || msg[0]) fail_msg("len 1 not NUL-terminated");
    elf_close(NULL);
    py_runtime_info pi;
    memset(&pi, 0, sizeof pi);
    pyfind_free(&pi);
    pyfind_free(&pi);
    ct_eq_u64(pyfind_symbol(&pi, "_PyRuntime"), 0, "pyfind_symbol without an ELF");
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_libpython, NULL, ct_teardown, (void *)&minors[0]),
        cmocka_unit_test_prestate_setup_teardown(test_libpython, NULL, ct_teardown, (void *)&minors[1]),
        cmocka_unit_test_prestate_setup_teardown(test_libpython, NULL, ct_teardown, (void *)&minors[2]),
        cmocka_unit_test_prestate_setup_teardown(test_libpython, NULL, ct_teardown, (void *)&minors[3]),
        cmocka_unit_test_prestate_setup_teardown(test_libpython, NULL, ct_teardown, (void *)&minors[4]),
        cmocka_unit_test_prestate_setup_teardown(test_libpython, NULL, ct_teardown, (void *)&minors[5]),
        cmocka_unit_test_teardown(test_debian_python311, ct_teardown),
        cmocka_unit_test_teardown(test_bin_ls, ct_teardown),
        cmocka_unit_test_teardown(test_open_time, ct_teardown),
        cmocka_unit_test_teardown(test_symbol_rules, ct_teardown),
        cmocka_unit_test_teardown(test_identify_synthetic, ct_teardown),
        cmocka_unit_test_teardown(test_truncation, ct_teardown),
        cmocka_unit_test_teardown(test_bad_fields, ct_teardown),
        cmocka_unit_test_teardown(test_open_errors, ct_teardown),
    };
    return cmocka_run_group_tests_name("capture_elf", tests, NULL, NULL);
}

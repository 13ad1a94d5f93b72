/*
 * test_capture_pyfind.c - pyfind on processes the test starts and on fake
 * /proc trees.
 *
 * Live: each installed Python (pyenv 3.8-3.13, Debian's /usr/bin/python3.11)
 * prints sys.hexversion and READY; pyfind must give that hexversion, the
 * flags the files say (shared or static, PIE, stripped: read here from the
 * ELF headers directly), _PyRuntime at nm's value plus the library's
 * mapping start, inside a mapping of the right file. pyenv 2.7, 3.6 and 3.7
 * must be UNSUPPORTED with their version named; map_target NOT_PYTHON.
 * Then the awkward cases: a deleted libpython (read through map_files as
 * root), a second copy of libpython loaded by ctypes, a deleted static
 * executable.
 *
 * Fake /proc trees (proc_root = a temporary directory holding PID/maps,
 * PID/exe and PID/root) with synthetic ELF files: static and shared
 * builds, deleted files without map_files, replaced files, several copies,
 * Python 2, non-ELF executables, malformed maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_test_util.h"
#include "elf_build.h"
#include "pyenv_util.h"
#include "pyfind.h"
#include "smaps.h"

static const char script[] =
    "import sys\n"
    "print(sys.hexversion)\n"
    "print('READY')\n"
    "sys.stdout.flush()\n"
    "import signal\n"
    "signal.pause()\n";

/* ---------------------------------------------------------------- helpers */

typedef struct {
    uint64_t start, end, offset;
    char path[4096];
} live_map;

/* The mapping of `pid` holding `addr` (1), or 0. */
static int map_holding(int pid, uint64_t addr, live_map *out)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/maps", pid);
    char *maps = ct_read_file(p, NULL);
    if (!maps) fail_msg("cannot read %s", p);
    int found = 0;
    for (char *l = maps; *l && !found;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = 0;
        unsigned long long s, e, o;
        int n = 0;
        if (sscanf(l, "%llx-%llx %*s %llx %*s %*s%n", &s, &e, &o, &n) == 3 && addr >= s && addr < e) {
            const char *q = l + n;
            while (*q == ' ') q++;
            out->start = s;
            out->end = e;
            out->offset = o;
            snprintf(out->path, sizeof out->path, "%s", q);
            found = 1;
        }
        l = nl ? nl + 1 : l + strlen(l);
    }
    free(maps);
    return found;
}

/* Start of the first mapping of `path` at file offset 0, or 0. */
static uint64_t map_start_of(int pid, const char *path)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/maps", pid);
    char *maps = ct_read_file(p, NULL);
    if (!maps) fail_msg("cannot read %s", p);
    uint64_t start = 0;
    for (char *l = maps; *l && !start;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = 0;
        unsigned long long s, e, o;
        int n = 0;
        if (sscanf(l, "%llx-%llx %*s %llx %*s %*s%n", &s, &e, &o, &n) == 3 && o == 0) {
            const char *q = l + n;
            while (*q == ' ') q++;
            if (!strcmp(q, path)) start = s;
        }
        l = nl ? nl + 1 : l + strlen(l);
    }
    free(maps);
    return start;
}

/* e_type of an ELF file, read here without elf.c. */
static unsigned file_e_type(const char *path)
{
    unsigned char h[18];
    int fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, h, sizeof h) != (ssize_t)sizeof h) fail_msg("cannot read %s's ELF header", path);
    close(fd);
    return (unsigned)(h[16] | h[17] << 8);
}

/* Whether the file has a .symtab, read here without elf.c. */
static int file_has_symtab(const char *path)
{
    size_t n;
    char *img = ct_read_file(path, &n);
    if (!img) fail_msg("cannot read %s", path);
    int has = eb_shdr_offset((unsigned char *)img, n, ".symtab") != 0;
    free(img);
    return has;
}

/* nm -D's value of a defined dynamic symbol, or -1 when nm cannot run. */
static int nm_dynamic(const char *file, const char *name, uint64_t *value)
{
    char *nm[] = {"nm", "-D", "--defined-only", (char *)file, NULL};
    ct_result r;
    ct_run(nm, 60, &r);
    int found = r.status == 0 ? 0 : -1;
    for (char *l = r.out; found == 0 && *l;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = 0;
        unsigned long long v;
        char t, sym[256];
        if (sscanf(l, "%llx %c %255s", &v, &t, sym) == 3 && !strcmp(sym, name)) {
            *value = v;
            found = 1;
        }
        l = nl ? nl + 1 : l + strlen(l);
    }
    ct_result_free(&r);
    return found;
}

static unsigned start_python(ct_target *t, const char *python)
{
    char *argv[] = {(char *)python, "-c", (char *)script, NULL};
    ct_target_start(t, argv, 30);
    unsigned long hex = strtoul(t->lines, NULL, 10);
    if (!hex) fail_msg("%s printed no hexversion: %s", python, t->lines);
    return (unsigned)hex;
}

static void print_info(const char *what, int rc, const py_runtime_info *pi, const char *msg)
{
    printf("%s: rc %d, %s (0x%08x), flags %u, runtime 0x%llx, bias 0x%llx\n  elf %s\n  how: %s\n%s%s%s", what, rc,
           pi->version, pi->hexversion, pi->flags, (unsigned long long)pi->runtime, (unsigned long long)pi->bias,
           pi->elf_path, pi->how, *msg ? "  msg: " : "", msg, *msg ? "\n" : "");
}

/* Checks a successful pyfind of a live target whose runtime is in `file`
 * (the library, or the executable for a static build). */
static void check_live(int pid, const py_runtime_info *pi, unsigned hex, const char *python, const char *file, int shared)
{
    ct_eq_u64(pi->hexversion, hex, "%s: hexversion", python);
    ct_eq_u64(pi->minor, (hex >> 16) & 255, "%s: minor", python);
    char *real = realpath(python, NULL);
    if (!real) fail_msg("realpath %s", python);
    if (strcmp(pi->binary, real)) fail_msg("binary %s, want %s", pi->binary, real);
    unsigned want = (shared ? PYF_SHARED : 0) | (file_e_type(real) == ET_DYN ? PYF_PIE : 0) |
                    (file_has_symtab(file) ? 0 : PYF_STRIPPED);
    ct_eq_u64(pi->flags, want, "%s: flags (1 shared, 8 PIE, 16 stripped)", python);
    char *rfile = realpath(file, NULL);
    if (shared && strcmp(pi->libpython, rfile)) fail_msg("libpython %s, want %s", pi->libpython, rfile);
    if (!shared && pi->libpython[0]) fail_msg("a static build with libpython %s", pi->libpython);
    live_map m;
    if (!map_holding(pid, pi->runtime, &m)) fail_msg("_PyRuntime 0x%llx is in no mapping", (unsigned long long)pi->runtime);
    /* _PyRuntime sits in .data/.PyRuntime (file-backed) or .bss (anonymous, right after) */
    uint64_t start = map_start_of(pid, rfile);
    if (!start) fail_msg("no mapping of %s at offset 0", rfile);
    if (strcmp(m.path, rfile) && m.path[0]) fail_msg("_PyRuntime is in a mapping of %s, not %s", m.path, rfile);
    if (pi->runtime < pi->image_start || pi->runtime >= pi->image_end || pi->image_start != start)
        fail_msg("runtime outside the image %llx-%llx (file mapped at %llx)", (unsigned long long)pi->image_start,
                 (unsigned long long)pi->image_end, (unsigned long long)start);
    uint64_t v;
    int t = nm_dynamic(rfile, "_PyRuntime", &v);
    if (t == 1) {
        uint64_t link_base = file_e_type(rfile) == ET_EXEC ? 0 : start; /* libraries and PIEs are linked at 0 */
        ct_eq_u64(pi->runtime, link_base + v, "%s: _PyRuntime vs nm -D value + mapping start", python);
    } else {
        printf("SKIP: nm is not installed: _PyRuntime's address of %s not cross-checked with nm -D\n", python);
    }
    ct_eq_u64(pyfind_symbol(pi, "_PyRuntime"), pi->runtime, "pyfind_symbol(_PyRuntime)");
    uint64_t arenas = pyfind_local_symbol(pi, "obmalloc.c", "arenas");
    int want_arenas = pi->minor <= 11 && !(pi->flags & PYF_STRIPPED);
    if (want_arenas != (arenas != 0)) fail_msg("obmalloc.c arenas: got 0x%llx, expected %s", (unsigned long long)arenas,
                                               want_arenas ? "an address" : "none");
    if (arenas && (arenas < pi->image_start || arenas >= pi->image_end)) fail_msg("arenas outside the image");
    free(real);
    free(rfile);
}

/* pyfind_maps given the named mappings of the target's smaps (what the
 * agent passes: smaps_named_maps) finds exactly what pyfind found reading
 * /proc/PID/maps itself. */
static void check_same_from_smaps(int pid, const py_runtime_info *want)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps", pid);
    FILE *f = fopen(path, "re");
    if (!f) fail_msg("%s: %s", path, strerror(errno));
    smaps_parser *sp = smaps_new(0, NULL, NULL);
    assert_non_null(sp);
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        if (smaps_feed(sp, buf, k)) fail_msg("%s: %s", path, smaps_error(sp));
    fclose(f);
    if (smaps_finish(sp)) fail_msg("%s: %s", path, smaps_error(sp));
    size_t n;
    const char *maps = smaps_named_maps(sp, &n);
    py_runtime_info pi;
    char msg[1024];
    int rc = pyfind_maps(pid, "/proc", maps, n, &pi, msg, sizeof msg);
    if (rc != PYFIND_OK) fail_msg("pyfind_maps from smaps: %d: %s", rc, msg);
    ct_eq_u64(pi.runtime, want->runtime, "pyfind_maps: _PyRuntime");
    ct_eq_u64(pi.bias, want->bias, "pyfind_maps: bias");
    ct_eq_u64(pi.hexversion, want->hexversion, "pyfind_maps: hexversion");
    ct_eq_u64(pi.flags, want->flags, "pyfind_maps: flags");
    ct_eq_u64(pi.image_start, want->image_start, "pyfind_maps: image start");
    ct_eq_u64(pi.image_end, want->image_end, "pyfind_maps: image end");
    if (strcmp(pi.libpython, want->libpython) || strcmp(pi.binary, want->binary))
        fail_msg("pyfind_maps: libpython \"%s\" binary \"%s\", pyfind: \"%s\" \"%s\"", pi.libpython, pi.binary,
                 want->libpython, want->binary);
    pyfind_free(&pi);
    smaps_free(sp);
}

/* ------------------------------------------------------------ live tests */

static const unsigned minors[] = {8, 9, 10, 11, 12, 13};

static void test_live_pyenv(void **state)
{
    unsigned minor = *(const unsigned *)*state;
    char *root = pt_pyenv_root();
    if (!root) ct_skip("no readable pyenv (tried `pyenv root`, $PYENV_ROOT, /root/.pyenv, /opt/pyenv)");
    char *dir = pt_pyenv_version(root, 3, minor, NULL);
    if (!dir) ct_skip("pyenv has no Python 3.%u under %s/versions", minor, root);
    char *python = pt_pyenv_python(dir, 3, minor), *lib = pt_pyenv_lib(dir, 3, minor);
    if (!python) ct_skip("%s has no bin/python3.%u", dir, minor);
    ct_target t;
    unsigned hex = start_python(&t, python);
    py_runtime_info pi;
    char msg[1024];
    int rc = pyfind(t.pid, "/proc", &pi, msg, sizeof msg);
    print_info(python, rc, &pi, msg);
    if (rc != PYFIND_OK) fail_msg("pyfind: %d: %s", rc, msg);
    char want_path[64];
    snprintf(want_path, sizeof want_path, "/proc/%d/", (int)t.pid);
    if (strncmp(pi.elf_path, want_path, strlen(want_path))) fail_msg("elf_path %s not under %s", pi.elf_path, want_path);
    check_live(t.pid, &pi, hex, python, lib ? lib : python, lib != NULL);
    check_same_from_smaps(t.pid, &pi);
    if (!(pi.flags & PYF_VERSION_GUESSED) && !strchr(pi.version, '.')) fail_msg("version %s", pi.version);
    pyfind_free(&pi);
    ct_target_stop(&t);
    free(python);
    free(lib);
    free(dir);
    free(root);
}

static void test_live_debian(void **state)
{
    (void)state;
    const char *python = "/usr/bin/python3.11";
    if (access(python, X_OK)) ct_skip("%s is not installed", python);
    ct_target t;
    unsigned hex = start_python(&t, python);
    py_runtime_info pi;
    char msg[1024];
    int rc = pyfind(t.pid, "/proc", &pi, msg, sizeof msg);
    print_info(python, rc, &pi, msg);
    if (rc != PYFIND_OK) fail_msg("pyfind: %d: %s", rc, msg);
    check_live(t.pid, &pi, hex, python, python, 0);
    check_same_from_smaps(t.pid, &pi);
    char want[64];
    snprintf(want, sizeof want, "/proc/%d/exe", (int)t.pid);
    if (strcmp(pi.elf_path, want)) fail_msg("elf_path %s, want %s", pi.elf_path, want);
    pyfind_free(&pi);
    ct_target_stop(&t);
}

typedef struct {
    unsigned major, minor;
} old_version;
static const old_version olds[] = {{2, 7}, {3, 6}, {3, 7}};

static void test_live_unsupported(void **state)
{
    const old_version *o = *state;
    char *root = pt_pyenv_root();
    if (!root) ct_skip("no readable pyenv (tried `pyenv root`, $PYENV_ROOT, /root/.pyenv, /opt/pyenv)");
    char *dir = pt_pyenv_version(root, o->major, o->minor, NULL);
    char *python = dir ? pt_pyenv_python(dir, o->major, o->minor) : NULL;
    if (!python) ct_skip("pyenv has no Python %u.%u", o->major, o->minor);
    ct_target t;
    unsigned hex = start_python(&t, python);
    py_runtime_info pi;
    char msg[1024], want[64];
    int rc = pyfind(t.pid, "/proc", &pi, msg, sizeof msg);
    print_info(python, rc, &pi, msg);
    ct_eq_u64(rc, PYFIND_UNSUPPORTED, "%s: pyfind result", python);
    ct_eq_u64(pi.hexversion, hex, "%s: hexversion of an unsupported Python", python);
    snprintf(want, sizeof want, "Python %u.%u.%u is not supported", hex >> 24, (hex >> 16) & 255, (hex >> 8) & 255);
    if (!strstr(msg, want)) fail_msg("message \"%s\" lacks \"%s\"", msg, want);
    pyfind_free(&pi);
    ct_target_stop(&t);
    free(python);
    free(dir);
    free(root);
}

static void test_live_not_python(void **state)
{
    (void)state;
    char *dir = ct_tmpdir(NULL);
    char *argv[] = {MAP_TARGET_BIN, dir, NULL};
    ct_target t;
    ct_target_start(&t, argv, 30);
    py_runtime_info pi;
    char msg[1024];
    int rc = pyfind(t.pid, "/proc", &pi, msg, sizeof msg);
    print_info("map_target", rc, &pi, msg);
    ct_eq_u64(rc, PYFIND_NOT_PYTHON, "map_target");
    if (!strstr(msg, "not a CPython process") || !strstr(msg, "map_target") || strchr(msg, '\n'))
        fail_msg("message: %s", msg);
    if (pi.elf) fail_msg("an ELF left open for a non-Python process");
    pyfind_free(&pi);
    int gone = t.pid;
    ct_target_stop(&t); /* killed and reaped: its /proc entry is gone */
    ct_eq_u64(pyfind(gone, "/proc", &pi, msg, sizeof msg), PYFIND_ERROR, "exited process");
    if (!strstr(msg, "exited")) fail_msg("message for an exited process: %s", msg);
    free(dir);
}

/* The newest pyenv 3.8+ that has a shared libpython: fills python/lib. */
static int newest_shared(char **python, char **lib)
{
    char *root = pt_pyenv_root();
    for (unsigned m = 13; root && m >= 8; m--) {
        char *dir = pt_pyenv_version(root, 3, m, NULL);
        *python = dir ? pt_pyenv_python(dir, 3, m) : NULL;
        *lib = dir ? pt_pyenv_lib(dir, 3, m) : NULL;
        free(dir);
        if (*python && *lib) {
            free(root);
            return 1;
        }
        free(*python);
        free(*lib);
    }
    free(root);
    return 0;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = ct_read_file(from, &n);
    if (!b) fail_msg("cannot read %s", from);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0 || write(fd, b, n) != (ssize_t)n || close(fd)) fail_msg("cannot write %s", to);
    free(b);
}

static void test_live_deleted_libpython(void **state)
{
    (void)state;
    char *python, *lib;
    if (!newest_shared(&python, &lib)) ct_skip("no pyenv Python 3.8+ with a shared libpython");
    char *dir = ct_tmpdir(NULL);
    char *copy = ct_path(dir, strrchr(lib, '/') + 1);
    copy_file(lib, copy);
    /* the pyenv executables use RUNPATH, which LD_LIBRARY_PATH overrides */
    setenv("LD_LIBRARY_PATH", dir, 1);
    ct_target t;
    unsigned hex = start_python(&t, python);
    unsetenv("LD_LIBRARY_PATH");
    if (!map_start_of(t.pid, copy)) ct_skip("%s did not load the copy in %s (RPATH instead of RUNPATH?)", python, dir);
    if (unlink(copy)) fail_msg("unlink %s", copy);
    py_runtime_info pi;
    char msg[1024];
    int rc = pyfind(t.pid, "/proc", &pi, msg, sizeof msg);
    print_info("deleted libpython", rc, &pi, msg);
    char mf[64];
    snprintf(mf, sizeof mf, "/proc/%d/map_files/", (int)t.pid);
    char probe[128];
    int can_map_files = 0;
    {
        uint64_t s = 0;
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/maps", (int)t.pid);
        char *maps = ct_read_file(p, NULL);
        char *at = maps ? strstr(maps, copy) : NULL;
        if (at) {
            char *l = at;
            while (l > maps && l[-1] != '\n') l--;
            unsigned long long a, b;
            if (sscanf(l, "%llx-%llx", &a, &b) == 2) {
                s = a;
                snprintf(probe, sizeof probe, "/proc/%d/map_files/%llx-%llx", (int)t.pid, a, b);
                int fd = open(probe, O_RDONLY);
                can_map_files = fd >= 0;
                if (fd >= 0) close(fd);
            }
            if (!strstr(l, "(deleted)")) fail_msg("maps does not mark %s deleted", copy);
        }
        free(maps);
        if (!s) fail_msg("the deleted copy is not in maps");
    }
    if (can_map_files) {
        if (rc != PYFIND_OK) fail_msg("pyfind on a deleted libpython with map_files readable: %d: %s", rc, msg);
        if (strncmp(pi.elf_path, mf, strlen(mf))) fail_msg("elf_path %s not under %s", pi.elf_path, mf);
        ct_eq_u64(pi.hexversion, hex, "hexversion through map_files");
        if (strcmp(pi.libpython, copy)) fail_msg("libpython %s, want %s", pi.libpython, copy);
        if (!strstr(pi.how, "map_files")) fail_msg("how does not say map_files: %s", pi.how);
    } else {
        printf("SKIP: map_files not readable (not root): checking the error instead of the success path\n");
        ct_eq_u64(rc, PYFIND_ERROR, "deleted libpython without map_files");
        if (!strstr(msg, "map_files") || !strstr(msg, "deleted")) fail_msg("message: %s", msg);
    }
    pyfind_free(&pi);
    ct_target_stop(&t);
    free(copy);
    free(dir);
    free(python);
    free(lib);
}

static void test_live_two_copies(void **state)
{
    (void)state;
    char *python, *lib;
    if (!newest_shared(&python, &lib)) ct_skip("no pyenv Python 3.8+ with a shared libpython");
    char *dir = ct_tmpdir(NULL);
    char *copy = ct_path(dir, strrchr(lib, '/') + 1);
    copy_file(lib, copy);
    char code[8192];
    snprintf(code, sizeof code,
             "import ctypes, sys\n"
             "ctypes.CDLL(%s%s%s)\n"
             "print(sys.hexversion)\nprint('READY')\nsys.stdout.flush()\n"
             "import signal\nsignal.pause()\n",
             "'", copy, "'");
    char *argv[] = {python, "-c", code, NULL};
    ct_target t;
    ct_target_start(&t, argv, 30);
    unsigned hex = (unsigned)strtoul(t.lines, NULL, 10);
    uint64_t orig = map_start_of(t.pid, lib), dup = map_start_of(t.pid, copy);
    if (!orig || !dup) fail_msg("expected both %s and %s mapped", lib, copy);
    printf("original at 0x%llx, ctypes copy at 0x%llx\n", (unsigned long long)orig, (unsigned long long)dup);
    py_runtime_info pi;
    char msg[1024];
    int rc = pyfind(t.pid, "/proc", &pi, msg, sizeof msg);
    print_info("two copies", rc, &pi, msg);
    if (rc != PYFIND_OK) fail_msg("pyfind: %d: %s", rc, msg);
    ct_eq_u64(pi.hexversion, hex, "hexversion");
    if (strcmp(pi.libpython, lib)) fail_msg("chose %s, not the interpreter's own %s", pi.libpython, lib);
    ct_eq_u64(pi.image_start, orig, "image start");
    ct_eq_u64(pi.flags & PYF_MULTIPLE, PYF_MULTIPLE, "PYF_MULTIPLE");
    ct_eq_u64(pi.n_alt, 1, "other copies");
    ct_eq_u64(pi.alt_runtime[0], dup + (pi.runtime - orig), "_PyRuntime of the copy");
    pyfind_free(&pi);
    ct_target_stop(&t);
    free(copy);
    free(dir);
    free(python);
    free(lib);
}

static void test_live_deleted_exe(void **state)
{
    (void)state;
    const char *python = "/usr/bin/python3.11";
    if (access(python, X_OK)) ct_skip("%s is not installed", python);
    char *dir = ct_tmpdir(NULL);
    char *copy = ct_path(dir, "python3.11");
    copy_file(python, copy);
    ct_target t;
    unsigned hex = start_python(&t, copy);
    if (unlink(copy)) fail_msg("unlink %s", copy);
    py_runtime_info pi;
    char msg[1024];
    int rc = pyfind(t.pid, "/proc", &pi, msg, sizeof msg);
    print_info("deleted executable", rc, &pi, msg);
    if (rc != PYFIND_OK) fail_msg("pyfind: %d: %s", rc, msg);
    ct_eq_u64(pi.hexversion, hex, "hexversion");
    char want[4200];
    snprintf(want, sizeof want, "%s (deleted)", copy);
    if (strcmp(pi.binary, want)) fail_msg("binary %s, want %s", pi.binary, want);
    ct_eq_u64(pi.flags, PYF_STRIPPED, "flags");
    pyfind_free(&pi);
    ct_target_stop(&t);
    free(copy);
    free(dir);
}

/* ------------------------------------------------------------ fake /proc */

enum { FAKE_PID = 4242 };

typedef struct {
    char *root;   /* the fake proc root */
    char *pdir;   /* root/4242 */
    char *files;  /* synthetic ELF files */
    char maps[16384];
    size_t len;
} fake_proc;

static void fake_init(fake_proc *fp)
{
    memset(fp, 0, sizeof *fp);
    char *base = ct_tmpdir(NULL);
    fp->root = ct_path(base, "proc");
    fp->files = ct_path(base, "files");
    if (mkdir(fp->root, 0755) || mkdir(fp->files, 0755)) fail_msg("mkdir under %s", base);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", FAKE_PID);
    fp->pdir = ct_path(fp->root, pid);
    if (mkdir(fp->pdir, 0755)) fail_msg("mkdir %s", fp->pdir);
    char *r = ct_path(fp->pdir, "root");
    if (symlink("/", r)) fail_msg("symlink %s", r);
    free(r);
    free(base);
}

static void fake_free(fake_proc *fp)
{
    free(fp->root);
    free(fp->pdir);
    free(fp->files);
}

static uint64_t inode_of(const char *path)
{
    struct stat st;
    if (stat(path, &st)) fail_msg("stat %s", path);
    return (uint64_t)st.st_ino;
}

/* One maps line as the kernel prints it: the name at column 73. */
static void fake_map(fake_proc *fp, uint64_t start, uint64_t end, const char *perms, uint64_t off, uint64_t inode,
                     const char *name, int deleted)
{
    char head[128];
    int n = snprintf(head, sizeof head, "%08llx-%08llx %s %08llx 00:00 %llu", (unsigned long long)start,
                     (unsigned long long)end, perms, (unsigned long long)off, (unsigned long long)inode);
    fp->len += (size_t)snprintf(fp->maps + fp->len, sizeof fp->maps - fp->len, "%s", head);
    if (name) {
        for (; n < 72; n++) fp->maps[fp->len++] = ' ';
        fp->len += (size_t)snprintf(fp->maps + fp->len, sizeof fp->maps - fp->len, " %s%s", name,
                                    deleted ? " (deleted)" : "");
    }
    fp->maps[fp->len++] = '\n';
    fp->maps[fp->len] = 0;
}

static void fake_write_maps(fake_proc *fp)
{
    char *p = ct_path(fp->pdir, "maps");
    FILE *f = fopen(p, "w");
    if (!f || fwrite(fp->maps, 1, fp->len, f) != fp->len || fclose(f)) fail_msg("cannot write %s", p);
    free(p);
}

static void fake_exe(fake_proc *fp, const char *target)
{
    char *p = ct_path(fp->pdir, "exe");
    unlink(p);
    if (symlink(target, p)) fail_msg("symlink %s", p);
    free(p);
}

/* A synthetic libpython 3.12.4 (Py_Version) or executable. */
static char *synth_file(fake_proc *fp, const char *name, unsigned type, int runtime, uint64_t bss)
{
    elf_builder *b = eb_new(type, EM_X86_64);
    if (runtime) {
        eb_py_runtime(b, 1);
        eb_py_version(b, 0x030c04f0);
    }
    eb_bss(b, bss);
    char *p = ct_path(fp->files, name);
    eb_write(b, p);
    eb_free(b);
    return p;
}

static int fake_pyfind(fake_proc *fp, py_runtime_info *pi, char *msg, size_t len, const char *what)
{
    int rc = pyfind(FAKE_PID, fp->root, pi, msg, len);
    print_info(what, rc, pi, msg);
    return rc;
}

static void test_fake_proc(void **state)
{
    (void)state;
    fake_proc fp;
    py_runtime_info pi;
    char msg[1024];
    fake_init(&fp);

    /* no maps: the process is gone */
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "no maps"), PYFIND_ERROR, "no maps");
    if (!strstr(msg, "/maps") || !strstr(msg, "exited")) fail_msg("message: %s", msg);
    pyfind_free(&pi);

    /* empty maps, no exe: a kernel thread */
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "kernel thread"), PYFIND_NOT_PYTHON, "kernel thread");
    if (!strstr(msg, "kernel thread")) fail_msg("message: %s", msg);

    /* a static 3.12 executable (non-PIE) */
    char *exe = synth_file(&fp, "python3.12", ET_EXEC, 1, 0);
    fake_exe(&fp, exe);
    fake_map(&fp, 0x400000, 0x401000, "r-xp", 0, inode_of(exe), exe, 0);
    fake_map(&fp, 0x401000, 0x402000, "rw-p", 0, 0, NULL, 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "static"), PYFIND_OK, "static");
    ct_eq_u64(pi.hexversion, 0x030c04f0, "static: hexversion");
    ct_eq_u64(pi.flags, 0, "static: flags (not shared, not PIE, has .symtab)");
    ct_eq_u64(pi.runtime, 0x400800, "static: _PyRuntime (no bias)");
    ct_eq_u64(pi.bias, 0, "static: bias");
    if (strcmp(pi.binary, exe) || pi.libpython[0]) fail_msg("static: binary %s libpython %s", pi.binary, pi.libpython);
    pyfind_free(&pi);

    /* ... even when some libpython is mapped too */
    char *lib = synth_file(&fp, "libpython3.12.so.1.0", ET_DYN, 1, 0x10000);
    fake_map(&fp, 0x7f0000000000, 0x7f0000001000, "r--p", 0, inode_of(lib), lib, 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "static + libpython"), PYFIND_OK, "static + libpython");
    ct_eq_u64(pi.flags & PYF_SHARED, 0, "the executable's own runtime wins");
    pyfind_free(&pi);

    /* a shared build: PIE app + libpython, two copies and ld.so */
    char *app = synth_file(&fp, "app", ET_DYN, 0, 0);
    char *copy = synth_file(&fp, "libpython3.12.so.1.0.copy", ET_DYN, 1, 0x10000);
    char *copy_name = ct_path(fp.files, "libpython3.12-copy.so.1.0");
    if (rename(copy, copy_name)) fail_msg("rename");
    fake_exe(&fp, app);
    fp.len = 0;
    fake_map(&fp, 0x555555554000, 0x555555555000, "r-xp", 0, inode_of(app), app, 0);
    fake_map(&fp, 0x7f0000000000, 0x7f0000001000, "r--p", 0, inode_of(copy_name), copy_name, 0);
    fake_map(&fp, 0x7f0000100000, 0x7f0000101000, "r--p", 0, inode_of(lib), lib, 0);
    fake_map(&fp, 0x7f0000101000, 0x7f0000111000, "rw-p", 0, 0, NULL, 0);
    fake_map(&fp, 0x7f0000200000, 0x7f0000201000, "r--p", 0, 77, "/lib64/ld-linux-x86-64.so.2", 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "two copies"), PYFIND_OK, "two copies");
    ct_eq_u64(pi.flags, PYF_SHARED | PYF_PIE | PYF_MULTIPLE, "two copies: flags");
    if (strcmp(pi.libpython, lib)) fail_msg("chose %s, not the one nearest ld.so", pi.libpython);
    ct_eq_u64(pi.runtime, 0x7f0000100800, "two copies: _PyRuntime");
    ct_eq_u64(pi.n_alt, 1, "two copies: alternatives");
    ct_eq_u64(pi.alt_runtime[0], 0x7f0000000800, "two copies: the other _PyRuntime");
    ct_eq_u64(pi.image_end, 0x7f0000111000, "image end (.bss included)");
    ct_eq_u64(pyfind_symbol(&pi, "Py_Version"), 0x7f0000100380, "pyfind_symbol(Py_Version)");
    ct_eq_u64(pyfind_symbol(&pi, "nothing"), 0, "pyfind_symbol of an absent name");
    pyfind_free(&pi);

    /* deleted libpython, no map_files in this fake tree */
    fp.len = 0;
    fake_map(&fp, 0x555555554000, 0x555555555000, "r-xp", 0, inode_of(app), app, 0);
    fake_map(&fp, 0x7f0000100000, 0x7f0000101000, "r--p", 0, inode_of(lib), lib, 1);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "deleted"), PYFIND_ERROR, "deleted without map_files");
    if (!strstr(msg, "deleted") || !strstr(msg, "map_files/7f0000100000-7f0000101000")) fail_msg("message: %s", msg);
    pyfind_free(&pi);

    /* an unreadable stub next to a readable runtime: found, noted */
    fp.len = 0;
    fake_map(&fp, 0x555555554000, 0x555555555000, "r-xp", 0, inode_of(app), app, 0);
    fake_map(&fp, 0x7f0000000000, 0x7f0000001000, "r--p", 0, 99, "/usr/lib/libpython3.so", 1);
    fake_map(&fp, 0x7f0000100000, 0x7f0000101000, "r--p", 0, inode_of(lib), lib, 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "unreadable stub"), PYFIND_OK, "unreadable stub");
    if (!strstr(pi.how, "unreadable") || pi.n_alt) fail_msg("how: %s, %u alternatives", pi.how, pi.n_alt);
    pyfind_free(&pi);

    /* another inode at the path, segments still where the mapping says: used, noted */
    fp.len = 0;
    fake_map(&fp, 0x555555554000, 0x555555555000, "r-xp", 0, inode_of(app), app, 0);
    fake_map(&fp, 0x7f0000100000, 0x7f0000101000, "r--p", 0, inode_of(lib) + 1, lib, 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "other inode"), PYFIND_OK, "other inode, layout matches");
    if (!strstr(pi.how, "inode differs")) fail_msg("how: %s", pi.how);
    pyfind_free(&pi);

    /* another inode and a mapping the file's segments cannot explain: refused */
    fake_map(&fp, 0x7f0000103000, 0x7f0000104000, "r--p", 0x3000, inode_of(lib) + 1, lib, 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "replaced"), PYFIND_ERROR, "replaced file");
    if (!strstr(msg, "does not match") || !strstr(msg, "0x3000")) fail_msg("message: %s", msg);
    pyfind_free(&pi);

    /* a libpython without _PyRuntime whose version cannot be told, and
     * an executable that is not ELF: not Python */
    elf_builder *sb = eb_new(ET_DYN, EM_X86_64); /* says 3.11.4 but has no runtime */
    eb_sym(sb, 0, "Py_Initialize", EB_TEXT, eb_addr(sb, EB_TEXT, 0xf0), 4, EB_GLOBAL, EB_FUNC);
    eb_py_getversion(sb, 1, "3.11.4");
    eb_strip(sb);
    char *stub = ct_path(fp.files, "libpython3.so");
    eb_write(sb, stub);
    eb_free(sb);
    char *script_exe = ct_path(fp.files, "script.sh");
    copy_file("/dev/null", script_exe);
    fake_exe(&fp, script_exe);
    fp.len = 0;
    fake_map(&fp, 0x7f0000100000, 0x7f0000101000, "r--p", 0, inode_of(stub), stub, 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "not ELF"), PYFIND_NOT_PYTHON, "a non-ELF executable");
    if (!strstr(msg, "not a CPython process")) fail_msg("message: %s", msg);
    fake_exe(&fp, app);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "stub only"), PYFIND_NOT_PYTHON, "libpython3.so only");
    if (!strstr(msg, "not a CPython process")) fail_msg("message: %s", msg);
    if (pi.version[0] || pi.hexversion || pi.how[0] || pi.flags != PYF_PIE)
        fail_msg("NOT_PYTHON left version \"%s\" 0x%x, flags %u, how \"%s\"", pi.version, pi.hexversion, pi.flags, pi.how);

    /* a static Python 2 */
    elf_builder *b = eb_new(ET_EXEC, EM_X86_64);
    eb_sym(b, 0, "Py_Initialize", EB_TEXT, eb_addr(b, EB_TEXT, 0xf0), 4, EB_GLOBAL, EB_FUNC);
    eb_sym(b, 0, "PyString_FromString", EB_TEXT, eb_addr(b, EB_TEXT, 0xf4), 4, EB_GLOBAL, EB_FUNC);
    char *py2 = ct_path(fp.files, "python2.7");
    eb_write(b, py2);
    eb_free(b);
    fake_exe(&fp, py2);
    fp.len = 0;
    fake_map(&fp, 0x400000, 0x401000, "r-xp", 0, inode_of(py2), py2, 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "python 2"), PYFIND_UNSUPPORTED, "static Python 2");
    if (!strstr(msg, "Python 2.7 is not supported")) fail_msg("message: %s", msg);
    pyfind_free(&pi);

    /* a malformed maps line */
    fake_map(&fp, 0x500000, 0x501000, "r-xq", 0, 1, "/x", 0);
    fake_write_maps(&fp);
    ct_eq_u64(fake_pyfind(&fp, &pi, msg, sizeof msg, "bad maps"), PYFIND_ERROR, "malformed maps");
    if (!strstr(msg, "line 2 is not a mapping")) fail_msg("message: %s", msg);

    ct_eq_u64(pyfind(0, fp.root, &pi, msg, sizeof msg), PYFIND_ERROR, "PID 0");
    ct_eq_u64(pyfind(-5, NULL, &pi, msg, sizeof msg), PYFIND_ERROR, "PID -5");
    free(exe);
    free(lib);
    free(app);
    free(copy);
    free(copy_name);
    free(stub);
    free(script_exe);
    free(py2);
    fake_free(&fp);
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_live_pyenv, NULL, ct_teardown, (void *)&minors[0]),
        cmocka_unit_test_prestate_setup_teardown(test_live_pyenv, NULL, ct_teardown, (void *)&minors[1]),
        cmocka_unit_test_prestate_setup_teardown(test_live_pyenv, NULL, ct_teardown, (void *)&minors[2]),
        cmocka_unit_test_prestate_setup_teardown(test_live_pyenv, NULL, ct_teardown, (void *)&minors[3]),
        cmocka_unit_test_prestate_setup_teardown(test_live_pyenv, NULL, ct_teardown, (void *)&minors[4]),
        cmocka_unit_test_prestate_setup_teardown(test_live_pyenv, NULL, ct_teardown, (void *)&minors[5]),
        cmocka_unit_test_teardown(test_live_debian, ct_teardown),
        cmocka_unit_test_prestate_setup_teardown(test_live_unsupported, NULL, ct_teardown, (void *)&olds[0]),
        cmocka_unit_test_prestate_setup_teardown(test_live_unsupported, NULL, ct_teardown, (void *)&olds[1]),
        cmocka_unit_test_prestate_setup_teardown(test_live_unsupported, NULL, ct_teardown, (void *)&olds[2]),
        cmocka_unit_test_teardown(test_live_not_python, ct_teardown),
        cmocka_unit_test_teardown(test_live_deleted_libpython, ct_teardown),
        cmocka_unit_test_teardown(test_live_two_copies, ct_teardown),
        cmocka_unit_test_teardown(test_live_deleted_exe, ct_teardown),
        cmocka_unit_test_teardown(test_fake_proc, ct_teardown),
    };
    return cmocka_run_group_tests_name("capture_pyfind", tests, NULL, NULL);
}

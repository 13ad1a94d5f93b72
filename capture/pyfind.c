/*
 * pyfind.c - finds a process's CPython runtime from /proc and the ELF
 * files it maps (see pyfind.h for the methods and their order).
 *
 * Flow of pyfind(): read maps; read the executable's link and open it;
 * if the executable defines _PyRuntime it is the runtime image (static
 * build); otherwise open every libpython*.so* image (a mapping at file
 * offset 0) and keep those that define _PyRuntime; choose one (nearest to
 * ld.so), check its mappings against its program headers, compute the
 * bias and addresses, then identify the version from the file. Files are
 * opened as the target sees them: proc_root/PID/exe, proc_root/PID/root +
 * the maps path, or proc_root/PID/map_files/START-END when the maps path
 * is deleted or names another file now.
 */
#include "pyfind.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smaps.h"

/* Largest maps file read (a process with ~1M mappings); more is refused. */
#define PF_MAX_MAPS_BYTES ((size_t)256 << 20)
/* libpython images opened at most per process. */
#define PF_MAX_IMAGES 16

/* ----------------------------------------------------------- helpers */

static void pf_msg(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pf_msg(char *msg, size_t len, const char *fmt, ...)
{
    if (!len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

/* Appends to out->how, "; " separated, silently truncating. */
static void how_add(py_runtime_info *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void how_add(py_runtime_info *out, const char *fmt, ...)
{
    size_t n = strlen(out->how);
    if (n && n + 2 < sizeof out->how) {
        memcpy(out->how + n, "; ", 3);
        n += 2;
    }
    if (n + 1 >= sizeof out->how) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->how + n, sizeof out->how - n, fmt, ap);
    va_end(ap);
}

/* snprintf into a path buffer; -1 when it does not fit. */
static int pf_path(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pf_path(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* What to do about an errno from /proc, for messages. */
static const char *pf_fix(int e)
{
    if (e == EACCES || e == EPERM)
        return "run memsnap-capture as the target's user or as root (ptrace access mode READ is needed)";
    if (e == ENOENT || e == ESRCH) return "the process has exited";
    return "check that /proc is mounted and readable";
}

/* ------------------------------------------------ version from a name */

typedef struct {
    int found;
    unsigned major, minor;
    int debug, free_threaded;
} pf_name_ver;

/* "libpython3.12d.so.1.0", "python3.13t", "libpython3.7m.so": major,
 * minor and ABI flags after the first "python" of the base name. */
static pf_name_ver ver_from_name(const char *path)
{
    pf_name_ver v = {0};
    if (!path) return v;
    const char *b = base_name(path), *p = strstr(b, "python");
    if (!p) return v;
    p += 6;
    if (*p < '2' || *p > '3' || p[1] != '.' || p[2] < '0' || p[2] > '9') return v;
    v.major = (unsigned)(*p - '0');
    p += 2;
    unsigned minor = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++) minor = minor * 10 + (unsigned)(*p - '0');
    if (*p >= '0' && *p <= '9') return v;
    for (; *p && *p != '.' && *p != '-'; p++) {
        if (*p == 'd') v.debug = 1;
        else if (*p == 't') v.free_threaded = 1;
        else if (*p != 'm' && *p != 'u') return v; /* not an ABI flag: not a version */
    }
    v.minor = minor;
    v.found = 1;
    return v;
}

/* "3.9.18", "3.13.0rc1", "3.12.0a7", "3.8.18+" -> PY_VERSION_HEX, or 0. */
static unsigned hex_from_string(const char *s)
{
    unsigned part[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits == 3) return 0;
            part[i] = part[i] * 10 + (unsigned)(*s - '0');
        }
        if (!digits) return 0;
        if (i < 2 && *s++ != '.') return 0;
    }
    unsigned level = 0xf, serial = 0;
    if (*s == 'a' || *s == 'b' || (s[0] == 'r' && s[1] == 'c')) {
        level = *s == 'a' ? 0xa : *s == 'b' ? 0xb : 0xc;
        s += level == 0xc ? 2 : 1;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits == 2) return 0;
            serial = serial * 10 + (unsigned)(*s - '0');
        }
        if (!digits || serial > 15) return 0;
    }
    if (*s == '+') s++;
    if (*s || part[0] < 2 || part[0] > 3 || part[1] > 255 || part[2] > 255) return 0;
    return part[0] << 24 | part[1] << 16 | part[2] << 8 | level << 4 | serial;
}

static void version_string(unsigned hex, int guessed, char *buf, size_t n)
{
    unsigned major = hex >> 24, minor = (hex >> 16) & 255, micro = (hex >> 8) & 255, level = (hex >> 4) & 15,
             serial = hex & 15;
    if (guessed) {
        snprintf(buf, n, "%u.%u", major, minor);
        return;
    }
    const char *lv = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";
    if (*lv)
        snprintf(buf, n, "%u.%u.%u%s%u", major, minor, micro, lv, serial);
    else
        snprintf(buf, n, "%u.%u.%u", major, minor, micro);
}

/* ------------------------------------------ PY_VERSION via machine code */

/* Addresses of data that the code at [addr, addr+n) refers to: x86-64
 * RIP-relative LEA/MOV and 32-bit absolute immediates (non-PIE), aarch64
 * ADRP+ADD pairs. A plain scan at every byte: false hits are harmless,
 * since each target must hold a version string to count. */
static size_t code_refs(int machine, uint64_t addr, const unsigned char *b, size_t n, uint64_t *out, size_t max)
{
    size_t k = 0;
    if (machine == EM_X86_64) {
        for (size_t i = 0; i + 7 <= n && k < max; i++) {
            /* REX.W + 8D (LEA) or 8B (MOV), ModRM mod=00 rm=101: [rip+disp32] */
            if ((b[i] & 0xf8) == 0x48 && (b[i + 1] == 0x8d || b[i + 1] == 0x8b) && (b[i + 2] & 0xc7) == 0x05) {
                int32_t d;
                uint32_t u = (uint32_t)b[i + 3] | (uint32_t)b[i + 4] << 8 | (uint32_t)b[i + 5] << 16 |
                             (uint32_t)b[i + 6] << 24;
                memcpy(&d, &u, sizeof d);
                out[k++] = addr + i + 7 + (uint64_t)(int64_t)d;
            }
        }
        for (size_t i = 0; i + 5 <= n && k < max; i++) {
            if (b[i] >= 0xb8 && b[i] <= 0xbf) /* MOV r32, imm32 */
                out[k++] = (uint64_t)b[i + 1] | (uint64_t)b[i + 2] << 8 | (uint64_t)b[i + 3] << 16 |
                           (uint64_t)b[i + 4] << 24;
        }
    } else if (machine == EM_AARCH64) {
        for (size_t i = 0; i + 4 <= n && k < max; i += 4) {
            uint32_t w = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8 | (uint32_t)b[i + 2] << 16 | (uint32_t)b[i + 3] << 24;
            if ((w & 0x9f000000u) != 0x90000000u) continue; /* ADRP */
            unsigned rd = w & 31;
            uint64_t imm = ((uint64_t)((w >> 5) & 0x7ffff) << 2 | ((w >> 29) & 3)) << 12;
            if (imm & ((uint64_t)1 << 32)) imm |= ~(((uint64_t)1 << 33) - 1); /* sign of the 33-bit offset */
            uint64_t page = ((addr + i) & ~(uint64_t)0xfff) + imm;
            for (size_t j = i + 4; j + 4 <= n && j <= i + 32; j += 4) {
                uint32_t a = (uint32_t)b[j] | (uint32_t)b[j + 1] << 8 | (uint32_t)b[j + 2] << 16 | (uint32_t)b[j + 3] << 24;
                /* ADD Xd, Xn, #imm12 (no shift) with Xn the ADRP's register */
                if ((a & 0xffc00000u) == 0x91000000u && ((a >> 5) & 31) == rd) {
                    if (k < max) out[k++] = page + ((a >> 10) & 0xfff);
                    break;
                }
            }
        }
    }
    return k;
}

/* The PY_VERSION string Py_GetVersion formats: 0 and the string in ver,
 * or -1 when the code could not be read or refers to no single version. */
static int version_from_code(const elf_file *e, char *ver, size_t vlen, const char **arch)
{
    uint64_t fn, size;
    int m = elf_machine(e);
    *arch = m == EM_X86_64 ? "x86-64" : m == EM_AARCH64 ? "aarch64" : NULL;
    if (!*arch || elf_symbol(e, "Py_GetVersion", &fn, &size)) return -1;
    unsigned char code[512];
    size_t n = size && size < sizeof code ? (size_t)size : sizeof code;
    while (elf_read_vaddr(e, fn, code, n)) { /* near a segment's end: read less */
        if (n <= 8) return -1;
        n /= 2;
    }
    uint64_t refs[128];
    size_t k = code_refs(m, fn, code, n, refs, 128);
    int found = 0;
    for (size_t i = 0; i < k; i++) {
        char s[40];
        if (elf_read_string(e, refs[i], s, sizeof s) || !hex_from_string(s)) continue;
        if (found && strcmp(s, ver)) return -1; /* two different versions: trust neither */
        snprintf(ver, vlen, "%s", s);
        found = 1;
    }
    return found ? 0 : -1;
}

/* ---------------------------------------------------------- identify */

static int has_runtime(const elf_file *e, uint64_t *addr, uint64_t *size)
{
    if (!elf_symbol(e, "_PyRuntime", addr, size)) return 1;
    return !elf_section(e, ".PyRuntime", addr, size); /* the symbol can be hidden; 3.10+ have the section */
}

static int has_sym(const elf_file *e, const char *name)
{
    return !elf_symbol(e, name, NULL, NULL);
}

int pyfind_identify(const elf_file *elf, const char *name, py_runtime_info *out, char *msg, size_t len)
{
    if (len) msg[0] = 0;
    const char *fname = name && *name ? name : elf_path(elf);
    uint64_t rt = 0, rtsize = 0;
    int runtime = has_runtime(elf, &rt, &rtsize);
    if (!runtime && !has_sym(elf, "Py_GetVersion") && !has_sym(elf, "Py_Initialize")) {
        pf_msg(msg, len, "%s: no CPython runtime (no _PyRuntime, Py_GetVersion or Py_Initialize symbol)", fname);
        return PYFIND_NOT_PYTHON;
    }
    if (!elf_has_symtab(elf)) out->flags |= PYF_STRIPPED;
    pf_name_ver by_soname = ver_from_name(elf_soname(elf)), by_name = ver_from_name(fname);
    unsigned hex = 0;
    int ft = -1; /* free-threaded: -1 unknown */
    char s[40];
    const char *arch;
    unsigned char dbg[24];
    uint64_t pv, pvsize;
    if (runtime && !elf_read_vaddr(elf, rt, dbg, sizeof dbg) && !memcmp(dbg, "xdebugpy", 8)) {
        uint64_t v = 0, f = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | dbg[8 + i];
            f = f << 8 | dbg[16 + i];
        }
        if (v >> 24 == 3 && v <= UINT32_MAX) {
            hex = (unsigned)v;
            ft = f != 0;
            how_add(out, "version from _Py_DebugOffsets in _PyRuntime's initializer");
        }
    }
    if (!hex && !elf_symbol(elf, "Py_Version", &pv, &pvsize) && pvsize >= 4) {
        unsigned char b[4];
        if (!elf_read_vaddr(elf, pv, b, 4)) {
            unsigned v = (unsigned)b[0] | (unsigned)b[1] << 8 | (unsigned)b[2] << 16 | (unsigned)b[3] << 24;
            if (v >> 24 == 3) {
                hex = v;
                how_add(out, "version from the Py_Version constant");
            }
        }
    }
    if (!hex && !version_from_code(elf, s, sizeof s, &arch)) {
        hex = hex_from_string(s);
        how_add(out, "version from the PY_VERSION string \"%s\" that Py_GetVersion's %s code refers to", s, arch);
    }
    if (!hex) {
        /* the minor only: the soname, the API the file exports, its name */
        unsigned major = 0, minor = 0;
        const char *src = NULL;
        if (by_soname.found) {
            major = by_soname.major;
            minor = by_soname.minor;
            src = "its soname";
        } else if (by_name.found) {
            major = by_name.major;
            minor = by_name.minor;
            src = "its file name";
        } else if (!has_sym(elf, "Py_Version") && (has_sym(elf, "Py_Is") || has_sym(elf, "PyFrame_GetCode") ||
                                                    has_sym(elf, "Py_BytesMain") || runtime)) {
            /* without Py_Version (3.11+) the newest of these tells the minor */
            major = 3;
            minor = has_sym(elf, "Py_Is") ? 10 : has_sym(elf, "PyFrame_GetCode") ? 9 : has_sym(elf, "Py_BytesMain") ? 8 : 7;
            src = "the API it exports (Py_Is 3.10, PyFrame_GetCode 3.9, Py_BytesMain 3.8, _PyRuntime 3.7)";
        } else if (has_sym(elf, "PyString_FromString")) {
            major = 2;
            minor = 7;
            src = "its Python 2 API (PyString_FromString; minor assumed 7)";
        }
        if (!src) {
            pf_msg(msg, len, "%s: a CPython runtime whose version cannot be told from the file "
                             "(no _Py_DebugOffsets, Py_Version, readable Py_GetVersion code, or version in its name)", fname);
            return PYFIND_NOT_PYTHON;
        }
        hex = major << 24 | minor << 16 | 0xf0;
        out->flags |= PYF_VERSION_GUESSED;
        how_add(out, "minor version from %s; micro unknown", src);
    }
    out->hexversion = hex;
    out->minor = (hex >> 16) & 255;
    version_string(hex, (out->flags & PYF_VERSION_GUESSED) != 0, out->version, sizeof out->version);
    unsigned major = hex >> 24;
    const pf_name_ver *nv = by_soname.found ? &by_soname : by_name.found ? &by_name : NULL;
    if (nv && (nv->major != major || nv->minor != out->minor))
        how_add(out, "note: the name says %u.%u", nv->major, nv->minor);

    if (has_sym(elf, "_Py_NegativeRefcount") || has_sym(elf, "_Py_RefTotal") || has_sym(elf, "_Py_GetGlobalRefTotal") ||
        (nv && nv->debug))
        out->flags |= PYF_DEBUG;
    if (ft == 1 || (ft < 0 && nv && nv->free_threaded)) out->flags |= PYF_FREE_THREADED;

    if (major == 2 || out->minor < 8) {
        pf_msg(msg, len, "%s: Python %s is not supported: memsnap reads CPython 3.8 and newer", fname, out->version);
        return PYFIND_UNSUPPORTED;
    }
    if (out->flags & PYF_FREE_THREADED) {
        pf_msg(msg, len, "%s: Python %s is a free-threaded build (Py_GIL_DISABLED): its objects have no GC list "
                         "headers and live in mimalloc pages, which memsnap does not read", fname, out->version);
        return PYFIND_UNSUPPORTED;
    }
    if (!runtime) {
        pf_msg(msg, len, "%s: Python %s without a _PyRuntime symbol or .PyRuntime section", fname, out->version);
        return PYFIND_NOT_PYTHON;
    }
    return PYFIND_OK;
}

/* --------------------------------------------------------------- maps */

typedef struct {
    uint64_t start, end, offset, inode;
    unsigned perms, dev_major, dev_minor;
    int deleted;
    const char *name; /* NUL-terminated inside the maps buffer; NULL: anonymous */
} pf_map;

typedef struct {
    char *buf;
    pf_map *m;
    size_t n;
} pf_maps;

static void maps_free(pf_maps *mp)
{
    free(mp->buf);
    free(mp->m);
    memset(mp, 0, sizeof *mp);
}

/* Parses maps text already in mp->buf (n bytes, NUL-terminated at n).
 * `path` names where it came from, for messages. 0, or -1 with msg. */
static int maps_parse(const char *path, pf_maps *mp, size_t n, int *err, char *msg, size_t len);

/* Takes a copy of maps text the caller read (smaps_named_maps), bounded
 * like a read of maps. 0, or -1 with msg. */
static int maps_from_text(const char *path, const char *text, size_t n, pf_maps *mp, int *err, char *msg, size_t len)
{
    memset(mp, 0, sizeof *mp);
    if (n >= PF_MAX_MAPS_BYTES) {
        *err = EFBIG;
        pf_msg(msg, len, "%s: larger than %zu MiB: too many mappings to read", path, PF_MAX_MAPS_BYTES >> 20);
        return -1;
    }
    if (!n) return 0;
    mp->buf = malloc(n + 1);
    if (!mp->buf) {
        *err = ENOMEM;
        pf_msg(msg, len, "%s: out of memory", path);
        return -1;
    }
    memcpy(mp->buf, text, n);
    mp->buf[n] = 0;
    return maps_parse(path, mp, n, err, msg, len);
}

/* Reads and parses proc_root/PID/maps. 0, or -1 with msg. */
static int maps_read(const char *path, pf_maps *mp, int *err, char *msg, size_t len)
{
    memset(mp, 0, sizeof *mp);
    FILE *fp = fopen(path, "re");
    if (!fp) {
        *err = errno;
        pf_msg(msg, len, "%s: %s: %s", path, strerror(errno), pf_fix(errno));
        return -1;
    }
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            if (cap >= PF_MAX_MAPS_BYTES) {
                fclose(fp);
                free(mp->buf);
                mp->buf = NULL;
                *err = EFBIG;
                pf_msg(msg, len, "%s: larger than %zu MiB: too many mappings to read", path, PF_MAX_MAPS_BYTES >> 20);
                return -1;
            }
            cap = cap ? cap * 2 : 262144;
            char *b = realloc(mp->buf, cap);
            if (!b) {
                fclose(fp);
                *err = ENOMEM;
                pf_msg(msg, len, "%s: out of memory", path);
                return -1;
            }
            mp->buf = b;
        }
        size_t k = fread(mp->buf + n, 1, cap - n - 1, fp);
        n += k;
        if (k == 0) break;
    }
    int rerr = ferror(fp) ? errno : 0;
    fclose(fp);
    if (rerr) {
        *err = rerr;
        pf_msg(msg, len, "%s: read: %s: %s", path, strerror(rerr), pf_fix(rerr));
        return -1;
    }
    if (!mp->buf) return 0;
    mp->buf[n] = 0;
    return maps_parse(path, mp, n, err, msg, len);
}

static int maps_parse(const char *path, pf_maps *mp, size_t n, int *err, char *msg, size_t len)
{
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += mp->buf[i] == '\n';
    mp->m = calloc(lines + 1, sizeof *mp->m);
    if (!mp->m) {
        *err = ENOMEM;
        pf_msg(msg, len, "%s: out of memory", path);
        return -1;
    }
    size_t lineno = 0;
    for (char *l = mp->buf; *l;) {
        char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) : strlen(l);
        lineno++;
        if (nl) *nl = 0;
        smaps_header h;
        if (smaps_parse_header(l, ll, &h)) {
            *err = EINVAL;
            pf_msg(msg, len, "%s: line %zu is not a mapping: \"%.80s\"", path, lineno, l);
            return -1;
        }
        pf_map *m = &mp->m[mp->n++];
        m->start = h.start;
        m->end = h.end;
        m->offset = h.offset;
        m->inode = h.inode;
        m->perms = h.perms;
        m->dev_major = h.dev_major;
        m->dev_minor = h.dev_minor;
        m->deleted = h.deleted;
        if (h.name) {
            ((char *)h.name)[h.name_len] = 0; /* cuts " (deleted)" (flag kept) or ends at the line's end */
            m->name = h.name;
        }
        if (!nl) break;
        l = nl + 1;
    }
    return 0;
}

static int same_file(const pf_map *a, const pf_map *b)
{
    return a->inode == b->inode && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor && a->name &&
           b->name && !strcmp(a->name, b->name);
}

static int is_libpython(const pf_map *m)
{
    if (!m->name || m->offset != 0 || !m->inode) return 0;
    const char *b = base_name(m->name);
    return !strncmp(b, "libpython", 9) && strstr(b, ".so");
}

static int is_ldso(const pf_map *m)
{
    if (!m->name || m->offset != 0) return 0;
    const char *b = base_name(m->name);
    return !strncmp(b, "ld-", 3) && strstr(b, ".so");
}

/* ------------------------------------------------------------ images */

typedef struct {
    const pf_map *map;   /* its mapping at file offset 0 */
    elf_file *elf;
    char opened[4096];   /* path opened */
    char note[160];      /* how it was opened, when not plainly */
    uint64_t rt, rtsize; /* _PyRuntime link-time address and size */
    int runtime;         /* defines _PyRuntime */
} pf_image;

static void image_close(pf_image *im)
{
    elf_close(im->elf);
    im->elf = NULL;
}

/* Opens the file of mapping m as the process sees it. Returns 0, or -1
 * with msg (PYFIND_ERROR material). */
static int image_open(int pid, const char *proc_root, const pf_map *m, pf_image *im, char *msg, size_t len)
{
    char mf[4096], emsg[512], emsg2[512];
    int have_mf = !pf_path(mf, sizeof mf, "%s/%d/map_files/%llx-%llx", proc_root, pid, (unsigned long long)m->start,
                           (unsigned long long)m->end);
    im->map = m;
    im->note[0] = 0;
    if (m->deleted || m->name[0] != '/') {
        if (have_mf && !elf_open(mf, &im->elf, emsg, sizeof emsg)) {
            snprintf(im->opened, sizeof im->opened, "%s", mf);
            snprintf(im->note, sizeof im->note, "%s deleted or replaced on disk: read through map_files", base_name(m->name));
            return 0;
        }
        int e = errno;
        pf_msg(msg, len, "PID %d: %s%s was deleted or replaced on disk after the process mapped it; reading the "
                         "mapped copy through %s failed (%s): %s", pid, m->name, m->deleted ? "" : " (not a path)",
               have_mf ? mf : "map_files", emsg,
               e == EPERM || e == EACCES ? "run memsnap-capture as root (map_files needs CAP_SYS_ADMIN), or restart the process"
                                         : "restart the process so that it maps the file on disk");
        return -1;
    }
    char rp[4096];
    if (pf_path(rp, sizeof rp, "%s/%d/root%s", proc_root, pid, m->name)) {
        pf_msg(msg, len, "PID %d: path too long: %s", pid, m->name);
        return -1;
    }
    struct stat st;
    int same = stat(rp, &st) == 0 && (uint64_t)st.st_ino == m->inode;
    if (same && !elf_open(rp, &im->elf, emsg, sizeof emsg)) {
        snprintf(im->opened, sizeof im->opened, "%s", rp);
        return 0;
    }
    if (!same) {
        /* another file at that path now (upgrade), or a file system whose
         * stat inode differs from the mapped one (overlayfs): the mapped
         * copy is the truth when we can read it */
        if (have_mf && !elf_open(mf, &im->elf, emsg2, sizeof emsg2)) {
            snprintf(im->opened, sizeof im->opened, "%s", mf);
            snprintf(im->note, sizeof im->note, "%s on disk is not the mapped file: read through map_files",
                     base_name(m->name));
            return 0;
        }
        if (!elf_open(rp, &im->elf, emsg, sizeof emsg)) {
            /* the caller checks that its segments match the mappings */
            snprintf(im->opened, sizeof im->opened, "%s", rp);
            snprintf(im->note, sizeof im->note, "%s: inode differs from the mapped one and map_files is not readable",
                     base_name(m->name));
            return 0;
        }
    }
    pf_msg(msg, len, "PID %d: cannot read %s: %s", pid, m->name, emsg);
    return -1;
}

/* Size of the runtime image in memory from its first address: the end of
 * its highest segment, page-rounded. */
static uint64_t image_span(const elf_file *e, uint64_t bias, uint64_t start)
{
    uint64_t end = start, page = (uint64_t)sysconf(_SC_PAGESIZE);
    elf_segment s;
    for (size_t i = 0; elf_load_segment(e, i, &s) == 0; i++) {
        uint64_t top = bias + s.vaddr + s.memsz;
        top = (top + page - 1) & ~(page - 1);
        if (top > end) end = top;
    }
    return end;
}

/* Checks that every accessible mapping of the image's file in
 * [start, end) sits where the file's program headers put it. Returns 0,
 * or -1 naming the first mapping that does not. */
static int image_matches(const pf_maps *mp, const pf_image *im, uint64_t bias, uint64_t end, char *why, size_t wl)
{
    for (size_t i = 0; i < mp->n; i++) {
        const pf_map *m = &mp->m[i];
        if (m->start < im->map->start || m->start >= end || !same_file(m, im->map) || !(m->perms & 7)) continue;
        int ok = 0;
        elf_segment s;
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        for (size_t k = 0; !ok && elf_load_segment(im->elf, k, &s) == 0; k++) {
            uint64_t page_off = s.offset & ~(page - 1); /* ld.so maps from here */
            if (m->offset < page_off || m->offset > s.offset + s.filesz) continue;
            if (m->start - bias == s.vaddr - s.offset + m->offset) ok = 1;
        }
        if (!ok) {
            pf_msg(why, wl, "mapping %llx-%llx at file offset 0x%llx is not where the file's segments put it",
                   (unsigned long long)m->start, (unsigned long long)m->end, (unsigned long long)m->offset);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- pyfind */

/* Forgets what a pyfind_identify that did not pan out left in *out. */
static void pf_clear_version(py_runtime_info *out, unsigned keep_flags)
{
    out->hexversion = 0;
    out->minor = 0;
    out->version[0] = 0;
    out->how[0] = 0;
    out->flags = keep_flags;
}

int pyfind(int pid, const char *proc_root, py_runtime_info *out, char *msg, size_t len)
{
    return pyfind_maps(pid, proc_root, NULL, 0, out, msg, len);
}

int pyfind_maps(int pid, const char *proc_root, const char *maps, size_t maps_len, py_runtime_info *out, char *msg,
                size_t len)
{
    memset(out, 0, sizeof *out);
    if (len) msg[0] = 0;
    if (!proc_root) proc_root = "/proc";
    if (pid <= 0) {
        pf_msg(msg, len, "PID %d: not a process ID", pid);
        return PYFIND_ERROR;
    }
    char path[4096];
    if (pf_path(path, sizeof path, "%s/%d/maps", proc_root, pid)) {
        pf_msg(msg, len, "proc root too long: %s", proc_root);
        return PYFIND_ERROR;
    }
    pf_maps mp;
    int err = 0;
    if (maps ? maps_from_text(path, maps, maps_len, &mp, &err, msg, len) : maps_read(path, &mp, &err, msg, len)) {
        maps_free(&mp);
        return PYFIND_ERROR;
    }
    pf_image *img = calloc(PF_MAX_IMAGES, sizeof *img);
    size_t nimg = 0;
    elf_file *exe = NULL;
    int rc = PYFIND_ERROR;
    char *open_err = NULL; /* why a libpython image could not be read */
    if (!img) {
        pf_msg(msg, len, "PID %d: out of memory", pid);
        goto done;
    }

    /* the executable, as the target sees it */
    char exe_path[4096];
    pf_path(exe_path, sizeof exe_path, "%s/%d/exe", proc_root, pid);
    ssize_t bl = readlink(exe_path, out->binary, sizeof out->binary - 1);
    if (bl < 0) {
        int e = errno;
        if (e == ENOENT && mp.n == 0) {
            pf_msg(msg, len, "PID %d: no user-space mappings (a kernel thread or a zombie): not a CPython process", pid);
            rc = PYFIND_NOT_PYTHON;
        } else {
            pf_msg(msg, len, "%s: %s: %s", exe_path, strerror(e), pf_fix(e));
        }
        goto done;
    }
    out->binary[bl] = 0;
    char emsg[768];
    if (elf_open(exe_path, &exe, emsg, sizeof emsg)) {
        int e = errno;
        if (e == ENOEXEC) { /* readable but not an ELF file we read */
            pf_msg(msg, len, "PID %d: %s: not a CPython process (%s)", pid, out->binary, emsg);
            rc = PYFIND_NOT_PYTHON;
        } else {
            pf_msg(msg, len, "%s: %s", emsg, pf_fix(e));
        }
        goto done;
    }
    struct stat est;
    if (stat(exe_path, &est) != 0) {
        int e = errno;
        pf_msg(msg, len, "%s: stat: %s: %s", exe_path, strerror(e), pf_fix(e));
        goto done;
    }
    char exe_name[4096];
    snprintf(exe_name, sizeof exe_name, "%s", out->binary);
    size_t xl = strlen(exe_name);
    if (xl > 10 && !strcmp(exe_name + xl - 10, " (deleted)")) exe_name[xl - 10] = 0;
    const pf_map *exe_map = NULL;
    for (size_t i = 0; i < mp.n && !exe_map; i++)
        if (mp.m[i].offset == 0 && mp.m[i].name && mp.m[i].inode == (uint64_t)est.st_ino && !strcmp(mp.m[i].name, exe_name))
            exe_map = &mp.m[i];
    if (elf_type(exe) == ET_DYN) out->flags |= PYF_PIE;

    pf_image *chosen = NULL;
    uint64_t rt, rtsize;
    if (has_runtime(exe, &rt, &rtsize)) {
        /* a static build: the executable's code uses its own _PyRuntime
         * even if some libpython is mapped too */
        if (!exe_map) {
            pf_msg(msg, len, "PID %d: %s defines _PyRuntime but no mapping of it at file offset 0 is in %s", pid,
                   out->binary, path);
            goto done;
        }
        chosen = &img[nimg++];
        memset(chosen, 0, sizeof *chosen);
        chosen->map = exe_map;
        chosen->elf = exe;
        exe = NULL;
        chosen->runtime = 1;
        chosen->rt = rt;
        chosen->rtsize = rtsize;
        snprintf(chosen->opened, sizeof chosen->opened, "%s", exe_path);
    } else {
        for (size_t i = 0; i < mp.n && nimg < PF_MAX_IMAGES; i++) {
            if (!is_libpython(&mp.m[i])) continue;
            pf_image *im = &img[nimg];
            memset(im, 0, sizeof *im);
            if (image_open(pid, proc_root, &mp.m[i], im, msg, len)) {
                /* it may be a stub like libpython3.so: fatal only if no
                 * readable image holds the runtime */
                if (!open_err) open_err = strdup(msg);
                continue;
            }
            nimg++;
            im->runtime = has_runtime(im->elf, &im->rt, &im->rtsize);
        }
        size_t nrt = 0;
        for (size_t i = 0; i < nimg; i++) nrt += img[i].runtime;
        if (nrt == 0 && open_err) {
            pf_msg(msg, len, "%s", open_err);
            goto done;
        }
        if (len) msg[0] = 0;
        if (nrt == 0) {
            /* a libpython without _PyRuntime: Python 2 or <= 3.6 (say
             * which), or the stable-ABI stub libpython3.so (not Python) */
            unsigned pie = out->flags & PYF_PIE;
            for (size_t i = 0; i < nimg; i++) {
                pf_clear_version(out, pie);
                int r = pyfind_identify(img[i].elf, img[i].map->name, out, msg, len);
                if (r == PYFIND_UNSUPPORTED) {
                    snprintf(out->libpython, sizeof out->libpython, "%s", img[i].map->name);
                    out->flags |= PYF_SHARED;
                    rc = r;
                    goto done;
                }
            }
            pf_clear_version(out, pie);
            int r = pyfind_identify(exe, exe_name, out, msg, len);
            if (r == PYFIND_UNSUPPORTED) {
                rc = r;
                goto done;
            }
            pf_clear_version(out, pie);
            pf_msg(msg, len, "PID %d: %s: not a CPython process (neither the executable nor a mapped libpython defines _PyRuntime)",
                   pid, out->binary);
            rc = PYFIND_NOT_PYTHON;
            goto done;
        }
        /* the copy mapped first: nearest to ld.so, else the highest */
        const pf_map *ld = NULL;
        for (size_t i = 0; i < mp.n && !ld; i++)
            if (is_ldso(&mp.m[i])) ld = &mp.m[i];
        uint64_t best = 0;
        for (size_t i = 0; i < nimg; i++) {
            if (!img[i].runtime) continue;
            uint64_t s = img[i].map->start;
            uint64_t d = ld ? (s > ld->start ? s - ld->start : ld->start - s) : UINT64_MAX - s;
            if (!chosen || d < best) {
                chosen = &img[i];
                best = d;
            }
        }
        out->flags |= PYF_SHARED;
        snprintf(out->libpython, sizeof out->libpython, "%s", chosen->map->name);
        if (nrt > 1) {
            out->flags |= PYF_MULTIPLE;
            for (size_t i = 0; i < nimg; i++) {
                pf_image *o = &img[i];
                if (!o->runtime || o == chosen) continue;
                if (o->rt == chosen->rt && o->rtsize == chosen->rtsize &&
                    elf_file_size(o->elf) == elf_file_size(chosen->elf) && out->n_alt < PYFIND_MAX_ALT)
                    out->alt_runtime[out->n_alt++] = elf_load_bias(o->elf, o->map->start) + o->rt;
            }
            how_add(out, "%zu copies of the runtime image mapped: took the one at 0x%llx (%s); the others' _PyRuntime in alt_runtime",
                    nrt, (unsigned long long)chosen->map->start, ld ? "nearest to ld.so" : "highest");
        }
    }

    /* where it is, and whether the file is what was mapped */
    out->bias = elf_load_bias(chosen->elf, chosen->map->start);
    out->image_start = chosen->map->start;
    out->image_end = image_span(chosen->elf, out->bias, chosen->map->start);
    out->runtime = out->bias + chosen->rt;
    out->runtime_size = chosen->rtsize;
    snprintf(out->elf_path, sizeof out->elf_path, "%s", chosen->opened);
    if (chosen->note[0]) how_add(out, "%s", chosen->note);
    if (open_err) how_add(out, "another libpython mapping was unreadable");
    char why[256];
    if (image_matches(&mp, chosen, out->bias, out->image_end, why, sizeof why)) {
        pf_msg(msg, len, "PID %d: %s does not match what the process mapped (%s): replaced on disk? run as root "
                         "so that /proc/%d/map_files can be read, or restart the process", pid, chosen->opened, why, pid);
        goto done;
    }
    if (out->runtime < out->image_start || out->runtime >= out->image_end) {
        pf_msg(msg, len, "PID %d: _PyRuntime at 0x%llx lies outside its image %llx-%llx in %s", pid,
               (unsigned long long)out->runtime, (unsigned long long)out->image_start,
               (unsigned long long)out->image_end, chosen->opened);
        goto done;
    }
    {
        /* the version goes first in `how` */
        char rest[sizeof out->how];
        snprintf(rest, sizeof rest, "%s", out->how);
        out->how[0] = 0;
        const char *name = out->flags & PYF_SHARED ? out->libpython : exe_name;
        rc = pyfind_identify(chosen->elf, name, out, msg, len);
        if (rest[0]) how_add(out, "%s", rest);
    }
    out->elf = chosen->elf;
    chosen->elf = NULL;
done:
    if ((rc == PYFIND_UNSUPPORTED || rc == PYFIND_NOT_PYTHON) && len && strncmp(msg, "PID ", 4)) {
        char m2[1024]; /* pyfind_identify's message names the file, not the process */
        snprintf(m2, sizeof m2, "%s", msg);
        pf_msg(msg, len, "PID %d: %s", pid, m2);
    }
    for (size_t i = 0; i < nimg; i++) image_close(&img[i]);
    free(img);
    free(open_err);
    elf_close(exe);
    maps_free(&mp);
    return rc;
}

uint64_t pyfind_symbol(const py_runtime_info *pi, const char *name)
{
    uint64_t v;
    if (!pi || !pi->elf || elf_symbol(pi->elf, name, &v, NULL)) return 0;
    return v + pi->bias;
}

uint64_t pyfind_local_symbol(const py_runtime_info *pi, const char *file, const char *name)
{
    uint64_t v;
    if (!pi || !pi->elf || elf_local_symbol(pi->elf, file, name, &v, NULL)) return 0;
    return v + pi->bias;
}

void pyfind_free(py_runtime_info *pi)
{
    if (!pi) return;
    elf_close(pi->elf);
    pi->elf = NULL;
}

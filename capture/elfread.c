/*
 * elfread.c - the bounded ELF64 little-endian reader of elfread.h.
 *
 * Layout facts come from the ELF specification (gABI) and are decoded
 * byte by byte, so the reader does not depend on the host's byte order or
 * on the system <elf.h>. open reads, in this order: the ELF header; the
 * section headers (extended numbering included) and the section-name
 * table; the program headers; .dynsym and .symtab with their string
 * tables; the dynamic segment for DT_SONAME. Each step checks every field
 * it uses against the file's size before trusting it; the first problem
 * found ends the open with "PATH: byte N: what". Symbol tables are kept in
 * one array indexed by an open-addressing hash table of their names.
 */
#include "elfread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ----------------------------------------------------- ELF constants */

enum {
    EHDR_SIZE = 64,          /* Elf64_Ehdr */
    PHDR_SIZE = 56,          /* Elf64_Phdr */
    SHDR_SIZE = 64,          /* Elf64_Shdr */
    SYM_SIZE = 24,           /* Elf64_Sym */
    DYN_SIZE = 16,           /* Elf64_Dyn */
    PT_LOAD_ = 1,
    PT_DYNAMIC_ = 2,
    SHT_NULL_ = 0,
    SHT_SYMTAB_ = 2,
    SHT_STRTAB_ = 3,
    SHT_NOBITS_ = 8,
    SHT_DYNSYM_ = 11,
    STB_LOCAL_ = 0,
    STB_GLOBAL_ = 1,
    STB_WEAK_ = 2,
    STB_GNU_UNIQUE_ = 10,
    STT_SECTION_ = 3,
    STT_FILE_ = 4,
    DT_NULL_ = 0,
    DT_STRTAB_ = 5,
    DT_STRSZ_ = 10,
    DT_SONAME_ = 14,
    SHN_XINDEX_ = 0xffff,
    PN_XNUM_ = 0xffff,
};

/* Limits beyond which a file is refused as implausible rather than read:
 * every allocation is also bounded by the file's size. */
#define ELF_MAX_SECTIONS (1u << 20)
#define ELF_MAX_SEGMENTS (1u << 16)
#define ELF_MAX_DYNAMIC (1u << 20) /* dynamic entries scanned for DT_SONAME */

/* ------------------------------------------------------------- types */

typedef struct {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t align, entsize;
} elf_shdr;

typedef struct {
    uint64_t value, size;
    uint32_t name;  /* offset in the string table of its symbol table */
    uint32_t group; /* .symtab locals: STT_FILE name offset + 1; else 0 */
    uint32_t hash;  /* of the name */
    uint16_t shndx;
    uint8_t info;   /* bind << 4 | type */
    uint8_t table;  /* 0 .dynsym, 1 .symtab */
} elf_sym;

struct elf_file {
    char *path;               /* as opened, for messages */
    int fd;                   /* -1 when reading memory */
    const unsigned char *mem; /* elf_open_mem's bytes */
    uint64_t size;            /* file size, bytes */
    unsigned type, machine;   /* e_type, e_machine */
    elf_shdr *sh;             /* section headers */
    size_t nsh;
    char *shstr;              /* section names, NUL appended */
    uint64_t shstr_size;
    elf_segment *load;        /* PT_LOAD segments, in header order */
    size_t nload;
    uint64_t dyn_off, dyn_size; /* PT_DYNAMIC file range (size 0: none) */
    char *str[2];             /* string tables of .dynsym, .symtab; NUL appended */
    uint64_t str_size[2];
    int has_symtab;
    elf_sym *syms;            /* defined, named symbols of both tables */
    size_t nsyms;
    uint32_t *slot;           /* hash index: syms index + 1, 0 empty */
    size_t mask;              /* slot count - 1 */
    char *soname;             /* DT_SONAME copy, or NULL */
};

/* State of one elf_open: where errors go. */
typedef struct {
    elf_file *f;
    char *msg;
    size_t len;
    int io_errno; /* errno of a failed read; 0: the file itself is at fault */
} elf_ctx;

/* ----------------------------------------------------------- helpers */

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* "PATH: byte OFF: what". Always returns -1. */
static int elf_bad(elf_ctx *c, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int elf_bad(elf_ctx *c, uint64_t off, const char *fmt, ...)
{
    if (!c->len) return -1;
    int n = snprintf(c->msg, c->len, "%s: byte %llu: ", c->f->path, (unsigned long long)off);
    if (n >= 0 && (size_t)n < c->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg + n, c->len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int elf_oom(elf_ctx *c, const char *what, uint64_t bytes)
{
    c->io_errno = ENOMEM;
    if (c->len)
        snprintf(c->msg, c->len, "%s: out of memory reading %s (%llu bytes)", c->f->path, what,
                 (unsigned long long)bytes);
    return -1;
}

/* Whether [off, off+n) lies inside the file. */
static int in_file(const elf_file *f, uint64_t off, uint64_t n)
{
    return n <= f->size && off <= f->size - n;
}

/* Reads n bytes at off; the range must be inside the file (checked).
 * Returns 0, or -1 with errno set (EIO for a short read: the file shrank). */
static int elf_pread(const elf_file *f, uint64_t off, void *buf, size_t n)
{
    if (!in_file(f, off, n)) {
        errno = EINVAL;
        return -1;
    }
    if (f->mem) {
        if (n) memcpy(buf, f->mem + off, n);
        return 0;
    }
    unsigned char *p = buf;
    while (n) {
        ssize_t k = pread(f->fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -1;
        if (k == 0) {
            errno = EIO;
            return -1;
        }
        p += k;
        off += (uint64_t)k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads n bytes at off (inside the file) for open; reports failures. */
static int ctx_read(elf_ctx *c, uint64_t off, void *buf, size_t n, const char *what)
{
    if (elf_pread(c->f, off, buf, n) == 0) return 0;
    c->io_errno = errno;
    if (c->len)
        snprintf(c->msg, c->len, "%s: reading %s (%zu bytes at byte %llu): %s", c->f->path, what, n,
                 (unsigned long long)off, strerror(errno));
    return -1;
}

/* malloc'd copy of n file bytes at off with a NUL appended. */
static char *ctx_read_str(elf_ctx *c, uint64_t off, uint64_t n, const char *what)
{
    if (n >= SIZE_MAX) {
        elf_oom(c, what, n);
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        elf_oom(c, what, n);
        return NULL;
    }
    if (ctx_read(c, off, s, (size_t)n, what)) {
        free(s);
        return NULL;
    }
    s[n] = 0;
    return s;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static const char *sec_name(const elf_file *f, const elf_shdr *s)
{
    return f->shstr && s->name < f->shstr_size ? f->shstr + s->name : "";
}

/* ------------------------------------------------------- the headers */

static int read_sections(elf_ctx *c, uint64_t shoff, unsigned shentsize, unsigned shnum, unsigned shstrndx)
{
    elf_file *f = c->f;
    if (shoff == 0) {
        if (shnum) return elf_bad(c, 60, "e_shnum is %u but e_shoff is 0", shnum);
        return 0;
    }
    if (shentsize != SHDR_SIZE) return elf_bad(c, 58, "e_shentsize is %u, not %d", shentsize, SHDR_SIZE);
    if (!in_file(f, shoff, SHDR_SIZE))
        return elf_bad(c, 40, "e_shoff %llu: the section headers start past the end of the file (%llu bytes)",
                       (unsigned long long)shoff, (unsigned long long)f->size);
    unsigned char b[SHDR_SIZE];
    if (ctx_read(c, shoff, b, sizeof b, "section header 0")) return -1;
    /* extended numbering: section 0 holds the real counts */
    uint64_t n = shnum ? shnum : le64(b + 32);
    uint64_t strx = shstrndx == SHN_XINDEX_ ? le32(b + 40) : shstrndx;
    if (n == 0) return 0;
    if (n > ELF_MAX_SECTIONS)
        return elf_bad(c, shnum ? 60 : shoff + 32, "%llu sections: more than the %u this reader accepts",
                       (unsigned long long)n, ELF_MAX_SECTIONS);
    if (n > (f->size - shoff) / SHDR_SIZE)
        return elf_bad(c, shnum ? 60 : shoff + 32,
                       "%llu section headers of 64 bytes at byte %llu run past the end of the file (%llu bytes)",
                       (unsigned long long)n, (unsigned long long)shoff, (unsigned long long)f->size);
    if (strx >= n)
        return elf_bad(c, shstrndx == SHN_XINDEX_ ? shoff + 40 : 62,
                       "section-name table index %llu is not below the section count %llu",
                       (unsigned long long)strx, (unsigned long long)n);
    f->sh = calloc((size_t)n, sizeof *f->sh);
    if (!f->sh) return elf_oom(c, "section headers", n * sizeof *f->sh);
    f->nsh = (size_t)n;
    unsigned char chunk[64 * SHDR_SIZE];
    for (size_t i = 0; i < f->nsh; i += 64) {
        size_t k = f->nsh - i < 64 ? f->nsh - i : 64;
        if (ctx_read(c, shoff + i * SHDR_SIZE, chunk, k * SHDR_SIZE, "section headers")) return -1;
        for (size_t j = 0; j < k; j++) {
            const unsigned char *p = chunk + j * SHDR_SIZE;
            elf_shdr *s = &f->sh[i + j];
            s->name = le32(p);
            s->type = le32(p + 4);
            s->flags = le64(p + 8);
            s->addr = le64(p + 16);
            s->offset = le64(p + 24);
            s->size = le64(p + 32);
            s->link = le32(p + 40);
            s->info = le32(p + 44);
            s->align = le64(p + 48);
            s->entsize = le64(p + 56);
        }
    }
    for (size_t i = 1; i < f->nsh; i++) {
        const elf_shdr *s = &f->sh[i];
        uint64_t at = shoff + i * SHDR_SIZE;
        if (s->type != SHT_NOBITS_ && s->type != SHT_NULL_ && !in_file(f, s->offset, s->size))
            return elf_bad(c, at + 24, "section %zu: %llu bytes at byte %llu run past the end of the file (%llu bytes)",
                           i, (unsigned long long)s->size, (unsigned long long)s->offset,
                           (unsigned long long)f->size);
    }
    const elf_shdr *ss = &f->sh[strx];
    if (strx != 0) {
        if (ss->type != SHT_STRTAB_)
            return elf_bad(c, shoff + strx * SHDR_SIZE + 4, "the section-name table (section %llu) has type %u, not STRTAB",
                           (unsigned long long)strx, ss->type);
        if (!(f->shstr = ctx_read_str(c, ss->offset, ss->size, "section names"))) return -1;
        f->shstr_size = ss->size;
        for (size_t i = 1; i < f->nsh; i++)
            if (f->sh[i].name >= f->shstr_size)
                return elf_bad(c, shoff + i * SHDR_SIZE, "section %zu: name offset %u is outside the section-name table (%llu bytes)",
                               i, f->sh[i].name, (unsigned long long)f->shstr_size);
    }
    return 0;
}

static int read_segments(elf_ctx *c, uint64_t phoff, unsigned phentsize, unsigned phnum, uint64_t shoff)
{
    elf_file *f = c->f;
    uint64_t n = phnum, count_at = 56;
    if (phnum == PN_XNUM_) {
        if (!f->nsh) return elf_bad(c, 56, "e_phnum is PN_XNUM but there is no section 0 to hold the count");
        n = f->sh[0].info; /* extended numbering */
        count_at = shoff + 44;
    }
    if (n == 0) return 0;
    if (phentsize != PHDR_SIZE) return elf_bad(c, 54, "e_phentsize is %u, not %d", phentsize, PHDR_SIZE);
    if (n > ELF_MAX_SEGMENTS)
        return elf_bad(c, count_at, "%llu program headers: more than the %u this reader accepts", (unsigned long long)n,
                       ELF_MAX_SEGMENTS);
    if (phoff > f->size || n > (f->size - phoff) / PHDR_SIZE)
        return elf_bad(c, 32, "%llu program headers at e_phoff %llu run past the end of the file (%llu bytes)",
                       (unsigned long long)n, (unsigned long long)phoff, (unsigned long long)f->size);
    unsigned char b[PHDR_SIZE];
    size_t nload = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (ctx_read(c, phoff + i * PHDR_SIZE, b, sizeof b, "program header")) return -1;
        if (le32(b) == PT_LOAD_) nload++;
    }
    if (nload && !(f->load = calloc(nload, sizeof *f->load))) return elf_oom(c, "segments", nload * sizeof *f->load);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = phoff + i * PHDR_SIZE;
        if (ctx_read(c, at, b, sizeof b, "program header")) return -1;
        uint32_t type = le32(b);
        if (type != PT_LOAD_ && type != PT_DYNAMIC_) continue;
        elf_segment s = {.flags = le32(b + 4), .offset = le64(b + 8), .vaddr = le64(b + 16),
                         .filesz = le64(b + 32), .memsz = le64(b + 40), .align = le64(b + 48)};
        if (!in_file(f, s.offset, s.filesz))
            return elf_bad(c, at + 8, "segment %llu: %llu file bytes at byte %llu run past the end of the file (%llu bytes)",
                           (unsigned long long)i, (unsigned long long)s.filesz, (unsigned long long)s.offset,
                           (unsigned long long)f->size);
        if (type == PT_DYNAMIC_) {
            if (!f->dyn_size) {
                f->dyn_off = s.offset;
                f->dyn_size = s.filesz;
            }
            continue;
        }
        if (s.filesz > s.memsz)
            return elf_bad(c, at + 32, "segment %llu: p_filesz %llu exceeds p_memsz %llu", (unsigned long long)i,
                           (unsigned long long)s.filesz, (unsigned long long)s.memsz);
        if (s.vaddr + s.memsz < s.vaddr)
            return elf_bad(c, at + 16, "segment %llu: p_vaddr 0x%llx + p_memsz %llu overflows", (unsigned long long)i,
                           (unsigned long long)s.vaddr, (unsigned long long)s.memsz);
        f->load[f->nload++] = s;
    }
    return 0;
}

/* ------------------------------------------------------------ symbols */

/* Counts the symbols of section `si` (a SYMTAB or DYNSYM) after checking
 * its header and reads its string table into f->str[table]. */
static int check_symtab(elf_ctx *c, size_t si, int table, uint64_t shoff, uint64_t *count)
{
    elf_file *f = c->f;
    const elf_shdr *s = &f->sh[si];
    uint64_t at = shoff + si * SHDR_SIZE;
    const char *what = table ? ".symtab" : ".dynsym";
    if (s->entsize != SYM_SIZE)
        return elf_bad(c, at + 56, "%s: entry size %llu, not %d", what, (unsigned long long)s->entsize, SYM_SIZE);
    if (s->size % SYM_SIZE)
        return elf_bad(c, at + 32, "%s: size %llu is not a multiple of %d", what, (unsigned long long)s->size, SYM_SIZE);
    if (s->link == 0 || s->link >= f->nsh || f->sh[s->link].type != SHT_STRTAB_)
        return elf_bad(c, at + 40, "%s: sh_link %u does not name a string table section", what, s->link);
    *count = s->size / SYM_SIZE;
    if (s->info > *count)
        return elf_bad(c, at + 44, "%s: sh_info %u (first global symbol) is past its %llu symbols", what, s->info,
                       (unsigned long long)*count);
    const elf_shdr *st = &f->sh[s->link];
    if (!(f->str[table] = ctx_read_str(c, st->offset, st->size, table ? ".strtab" : ".dynstr"))) return -1;
    f->str_size[table] = st->size;
    return 0;
}

static int read_symbols(elf_ctx *c, size_t si, int table)
{
    elf_file *f = c->f;
    const elf_shdr *s = &f->sh[si];
    const char *what = table ? ".symtab" : ".dynsym";
    uint64_t n = s->size / SYM_SIZE;
    uint32_t group = 0;
    unsigned char chunk[2730 * SYM_SIZE];
    for (uint64_t i = 0; i < n;) {
        size_t k = n - i < 2730 ? (size_t)(n - i) : 2730;
        if (ctx_read(c, s->offset + i * SYM_SIZE, chunk, k * SYM_SIZE, what)) return -1;
        for (size_t j = 0; j < k; j++, i++) {
            const unsigned char *p = chunk + j * SYM_SIZE;
            uint32_t name = le32(p);
            unsigned info = p[4], type = info & 15, bind = info >> 4;
            uint16_t shndx = le16(p + 6);
            if (i == 0) continue; /* the null symbol */
            if (name >= f->str_size[table])
                return elf_bad(c, s->offset + i * SYM_SIZE, "symbol %llu of %s: name offset %u is outside its string table (%llu bytes)",
                               (unsigned long long)i, what, name, (unsigned long long)f->str_size[table]);
            const char *nm = f->str[table] + name;
            if (type == STT_FILE_) {
                group = *nm ? name + 1 : 0;
                continue;
            }
            if (!*nm || type == STT_SECTION_ || shndx == 0) continue; /* unnamed or undefined */
            elf_sym *e = &f->syms[f->nsyms++];
            e->value = le64(p + 8);
            e->size = le64(p + 16);
            e->name = name;
            e->group = table && bind == STB_LOCAL_ && i < s->info ? group : 0;
            e->hash = name_hash(nm);
            e->shndx = shndx;
            e->info = (uint8_t)info;
            e->table = (uint8_t)table;
        }
    }
    return 0;
}

static const char *sym_name(const elf_file *f, const elf_sym *e)
{
    return f->str[e->table] + e->name;
}

static int index_symbols(elf_ctx *c, uint64_t shoff)
{
    elf_file *f = c->f;
    size_t tab[2] = {0, 0};
    int have[2] = {0, 0};
    uint64_t cnt[2] = {0, 0};
    for (size_t i = 1; i < f->nsh; i++) {
        int t = f->sh[i].type == SHT_DYNSYM_ ? 0 : f->sh[i].type == SHT_SYMTAB_ ? 1 : -1;
        if (t < 0 || have[t]) continue;
        have[t] = 1;
        tab[t] = i;
        if (check_symtab(c, i, t, shoff, &cnt[t])) return -1;
    }
    f->has_symtab = have[1];
    uint64_t total = cnt[0] + cnt[1];
    if (total > ELF_MAX_SYMBOLS)
        return elf_bad(c, shoff + (have[1] ? tab[1] : tab[0]) * SHDR_SIZE + 32,
                       "%llu symbols: more than the %u this reader indexes", (unsigned long long)total,
                       ELF_MAX_SYMBOLS);
    if (!total) return 0;
    f->syms = malloc((size_t)total * sizeof *f->syms);
    if (!f->syms) return elf_oom(c, "symbols", total * sizeof *f->syms);
    for (int t = 0; t < 2; t++)
        if (have[t] && read_symbols(c, tab[t], t)) return -1;
    size_t cap = 16;
    while (cap < 2 * f->nsyms) cap *= 2;
    f->slot = calloc(cap, sizeof *f->slot);
    if (!f->slot) return elf_oom(c, "the symbol index", (uint64_t)cap * sizeof *f->slot);
    f->mask = cap - 1;
    for (size_t i = 0; i < f->nsyms; i++) {
        size_t h = f->syms[i].hash & f->mask;
        while (f->slot[h]) h = (h + 1) & f->mask;
        f->slot[h] = (uint32_t)(i + 1);
    }
    return 0;
}

/* DT_SONAME through the dynamic segment, which needs no section headers. */
static int read_soname(elf_ctx *c)
{
    elf_file *f = c->f;
    uint64_t n = f->dyn_size / DYN_SIZE, strtab = 0, strsz = 0, soname = 0, soname_at = 0;
    int have_strtab = 0, have_soname = 0;
    if (n > ELF_MAX_DYNAMIC) n = ELF_MAX_DYNAMIC;
    unsigned char b[DYN_SIZE];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = f->dyn_off + i * DYN_SIZE;
        if (ctx_read(c, at, b, sizeof b, "dynamic segment")) return -1;
        uint64_t tag = le64(b), val = le64(b + 8);
        if (tag == DT_NULL_) break;
        if (tag == DT_STRTAB_) {
            strtab = val;
            have_strtab = 1;
        } else if (tag == DT_STRSZ_) {
            strsz = val;
        } else if (tag == DT_SONAME_) {
            soname = val;
            soname_at = at + 8;
            have_soname = 1;
        }
    }
    if (!have_soname) return 0;
    if (!have_strtab) return elf_bad(c, soname_at, "DT_SONAME without DT_STRTAB");
    if (soname >= strsz)
        return elf_bad(c, soname_at, "DT_SONAME offset %llu is outside the dynamic string table (DT_STRSZ %llu)",
                       (unsigned long long)soname, (unsigned long long)strsz);
    char buf[4096];
    uint64_t left = strsz - soname;
    if (strtab + soname < strtab ||
        elf_read_string(f, strtab + soname, buf, left < sizeof buf ? (size_t)left : sizeof buf))
        return elf_bad(c, soname_at, "DT_SONAME at address 0x%llx is not a string inside a loaded segment",
                       (unsigned long long)(strtab + soname));
    if (!(f->soname = strdup(buf))) return elf_oom(c, "DT_SONAME", strlen(buf));
    return 0;
}

/* --------------------------------------------------------------- open */

static int parse(elf_ctx *c)
{
    elf_file *f = c->f;
    unsigned char h[EHDR_SIZE];
    if (f->size < EHDR_SIZE)
        return elf_bad(c, 0, "%llu bytes: too short for an ELF header (64 bytes)", (unsigned long long)f->size);
    if (ctx_read(c, 0, h, sizeof h, "the ELF header")) return -1;
    if (memcmp(h, "\177ELF", 4)) return elf_bad(c, 0, "not an ELF file (no \\177ELF magic)");
    if (h[4] != 2) return elf_bad(c, 4, "ELF class %u: only 64-bit ELF files (class 2) are read", h[4]);
    if (h[5] != 1) return elf_bad(c, 5, "data encoding %u: only little-endian ELF files (1) are read", h[5]);
    if (h[6] != 1) return elf_bad(c, 6, "ELF version %u, not 1", h[6]);
    f->type = le16(h + 16);
    f->machine = le16(h + 18);
    if (f->type != ET_EXEC && f->type != ET_DYN)
        return elf_bad(c, 16, "ELF type %u: not an executable (2) or shared object (3)", f->type);
    uint64_t phoff = le64(h + 32), shoff = le64(h + 40);
    unsigned phentsize = le16(h + 54), phnum = le16(h + 56), shentsize = le16(h + 58), shnum = le16(h + 60),
             shstrndx = le16(h + 62);
    if (read_sections(c, shoff, shentsize, shnum, shstrndx)) return -1;
    if (read_segments(c, phoff, phentsize, phnum, shoff)) return -1;
    if (index_symbols(c, shoff)) return -1;
    return read_soname(c);
}

static int finish_open(elf_file *f, elf_file **out, char *msg, size_t len)
{
    elf_ctx c = {f, msg, len, 0};
    if (parse(&c)) {
        elf_close(f);
        errno = c.io_errno ? c.io_errno : ENOEXEC;
        return -1;
    }
    *out = f;
    return 0;
}

int elf_open(const char *path, elf_file **out, char *msg, size_t len)
{
    *out = NULL;
    if (len) msg[0] = 0;
    elf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        if (len) snprintf(msg, len, "%s: out of memory", path);
        return -1;
    }
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    const char *step = "open";
    if (f->fd >= 0) {
        step = "fstat";
        if (fstat(f->fd, &st) == 0) {
            if (!S_ISREG(st.st_mode)) {
                if (len) snprintf(msg, len, "%s: not a regular file", path);
                elf_close(f);
                return -1;
            }
            f->size = (uint64_t)st.st_size;
            return finish_open(f, out, msg, len);
        }
    }
    if (len) snprintf(msg, len, "%s: %s: %s", path, step, strerror(errno));
    int e = errno;
    elf_close(f);
    errno = e;
    return -1;
}

int elf_open_mem(const void *data, size_t size, const char *name, elf_file **out, char *msg, size_t len)
{
    *out = NULL;
    if (len) msg[0] = 0;
    elf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) {
        free(f);
        if (len) snprintf(msg, len, "%s: out of memory", name);
        return -1;
    }
    f->fd = -1;
    f->mem = data;
    f->size = size;
    if (!data) f->size = 0;
    return finish_open(f, out, msg, len);
}

void elf_close(elf_file *f)
{
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    free(f->sh);
    free(f->shstr);
    free(f->load);
    free(f->str[0]);
    free(f->str[1]);
    free(f->syms);
    free(f->slot);
    free(f->soname);
    free(f);
}

/* ------------------------------------------------------------ lookups */

int elf_symbol(const elf_file *f, const char *name, uint64_t *value, uint64_t *size)
{
    if (!f || !name || !f->slot) return -1;
    uint32_t h = name_hash(name);
    const elf_sym *best = NULL;
    for (size_t i = h & f->mask; f->slot[i]; i = (i + 1) & f->mask) {
        const elf_sym *e = &f->syms[f->slot[i] - 1];
        unsigned bind = e->info >> 4;
        if (e->hash != h || (bind != STB_GLOBAL_ && bind != STB_WEAK_ && bind != STB_GNU_UNIQUE_)) continue;
        if (strcmp(sym_name(f, e), name)) continue;
        if (!best || e->table < best->table || (e->table == best->table && e < best)) best = e;
    }
    if (!best) return -1;
    if (value) *value = best->value;
    if (size) *size = best->size;
    return 0;
}

/* Whether the STT_FILE name `fn` names source file `file`. */
static int file_matches(const char *fn, const char *file)
{
    size_t a = strlen(fn), b = strlen(file);
    if (a == b) return !strcmp(fn, file);
    return a > b && fn[a - b - 1] == '/' && !strcmp(fn + a - b, file);
}

int elf_local_symbol(const elf_file *f, const char *file, const char *name, uint64_t *value, uint64_t *size)
{
    if (!f || !name || !f->slot) return -1;
    uint32_t h = name_hash(name);
    const elf_sym *found = NULL;
    for (size_t i = h & f->mask; f->slot[i]; i = (i + 1) & f->mask) {
        const elf_sym *e = &f->syms[f->slot[i] - 1];
        if (e->hash != h || strcmp(sym_name(f, e), name)) continue;
        if (file) {
            if (!e->group || !file_matches(f->str[1] + (e->group - 1), file)) continue;
        } else if (e->table != 1 || (e->info >> 4) != 0 /* STB_LOCAL */ || !e->shndx) {
            continue;
        }
        if (found && (found->value != e->value || found->size != e->size)) return -1; /* ambiguous */
        if (!found || e < found) found = e;
    }
    if (!found) return -1;
    if (value) *value = found->value;
    if (size) *size = found->size;
    return 0;
}

int elf_section(const elf_file *f, const char *name, uint64_t *addr, uint64_t *size)
{
    if (!f || !name) return -1;
    for (size_t i = 1; i < f->nsh; i++)
        if (!strcmp(sec_name(f, &f->sh[i]), name)) {
            if (addr) *addr = f->sh[i].addr;
            if (size) *size = f->sh[i].size;
            return 0;
        }
    return -1;
}

int elf_read_vaddr(const elf_file *f, uint64_t vaddr, void *buf, size_t len)
{
    if (!f) return -1;
    for (size_t i = 0; i < f->nload; i++) {
        const elf_segment *s = &f->load[i];
        if (vaddr < s->vaddr) continue;
        uint64_t in = vaddr - s->vaddr;
        if (in > s->memsz || len > s->memsz - in) continue;
        size_t from_file = in >= s->filesz ? 0 : (s->filesz - in < len ? (size_t)(s->filesz - in) : len);
        if (from_file && elf_pread(f, s->offset + in, buf, from_file)) return -1;
        memset((unsigned char *)buf + from_file, 0, len - from_file);
        return 0;
    }
    return -1;
}

int elf_read_string(const elf_file *f, uint64_t vaddr, char *buf, size_t len)
{
    if (!len) return -1;
    buf[0] = 0;
    if (!f) return -1;
    for (size_t i = 0; i < f->nload; i++) {
        const elf_segment *s = &f->load[i];
        if (vaddr < s->vaddr || vaddr - s->vaddr >= s->memsz) continue;
        uint64_t avail = s->memsz - (vaddr - s->vaddr);
        size_t n = avail < len ? (size_t)avail : len;
        if (elf_read_vaddr(f, vaddr, buf, n)) break;
        if (memchr(buf, 0, n)) return 0;
        break;
    }
    buf[0] = 0;
    return -1;
}

int elf_has_symtab(const elf_file *f)
{
    return f && f->has_symtab;
}

int elf_type(const elf_file *f)
{
    return f ? (int)f->type : 0;
}

int elf_machine(const elf_file *f)
{
    return f ? (int)f->machine : 0;
}

uint64_t elf_load_bias(const elf_file *f, uint64_t map_start)
{
    const elf_segment *first = NULL;
    for (size_t i = 0; f && i < f->nload; i++)
        if (!first || f->load[i].offset < first->offset) first = &f->load[i];
    if (!first) return map_start;
    return map_start - (first->vaddr - first->offset);
}

const char *elf_soname(const elf_file *f)
{
    return f ? f->soname : NULL;
}

const char *elf_path(const elf_file *f)
{
    return f ? f->path : NULL;
}

uint64_t elf_file_size(const elf_file *f)
{
    return f ? f->size : 0;
}

size_t elf_symbol_count(const elf_file *f)
{
    return f ? f->nsyms : 0;
}

size_t elf_load_count(const elf_file *f)
{
    return f ? f->nload : 0;
}

int elf_load_segment(const elf_file *f, size_t i, elf_segment *out)
{
    if (!f || i >= f->nload) return -1;
    *out = f->load[i];
    return 0;
}

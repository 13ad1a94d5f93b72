/*
 * elf_build.c - synthetic ELF64 files with a fixed layout (elf_build.h).
 */
#include "elf_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EB_MAX_DYNSYM 15
#define EB_MAX_SYMTAB 256
#define EB_DYNSTR_CAP 0x180

typedef struct {
    char *name;
    int region;
    uint64_t value, size;
    unsigned char info;
} eb_symbol;

struct elf_builder {
    unsigned type, machine;
    uint64_t base;
    unsigned char region[4][0x100]; /* TEXT, RODATA, DATA, CUSTOM */
    char custom[64];
    char *soname;
    uint64_t bss;
    eb_symbol sym[2][EB_MAX_SYMTAB];
    size_t nsym[2];
    int stripped;
};

static const uint64_t eb_off[EB_NREGIONS] = {0x200, 0x300, 0x700, 0x800, 0x940};

static void eb_die(const char *what)
{
    fprintf(stderr, "elf_build: %s\n", what);
    abort();
}

elf_builder *eb_new(unsigned type, unsigned machine)
{
    elf_builder *b = calloc(1, sizeof *b);
    if (!b) eb_die("out of memory");
    b->type = type;
    b->machine = machine;
    b->base = type == 2 ? 0x400000 : 0;
    snprintf(b->custom, sizeof b->custom, ".data.custom");
    return b;
}

void eb_free(elf_builder *b)
{
    if (!b) return;
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < b->nsym[t]; i++) free(b->sym[t][i].name);
    free(b->soname);
    free(b);
}

uint64_t eb_addr(const elf_builder *b, int region, uint64_t off)
{
    return b->base + eb_off[region] + off;
}

uint64_t eb_put(elf_builder *b, int region, uint64_t off, const void *p, size_t n)
{
    if (region < 0 || region > EB_CUSTOM || off > 0x100 || n > 0x100 - off) eb_die("eb_put outside its region");
    memcpy(b->region[region] + off, p, n);
    return eb_addr(b, region, off);
}

void eb_custom_name(elf_builder *b, const char *name)
{
    snprintf(b->custom, sizeof b->custom, "%s", name);
}

void eb_bss(elf_builder *b, uint64_t bytes)
{
    b->bss = bytes;
}

void eb_soname(elf_builder *b, const char *soname)
{
    free(b->soname);
    b->soname = strdup(soname);
    if (!b->soname) eb_die("out of memory");
}

void eb_sym(elf_builder *b, int table, const char *name, int region, uint64_t value, uint64_t size, int bind, int type)
{
    size_t max = table ? EB_MAX_SYMTAB : EB_MAX_DYNSYM;
    if (b->nsym[table] >= max) eb_die("too many symbols");
    eb_symbol *s = &b->sym[table][b->nsym[table]++];
    s->name = strdup(name);
    if (!s->name) eb_die("out of memory");
    s->region = type == EB_FILE ? -2 : region;
    s->value = value;
    s->size = size;
    s->info = (unsigned char)(bind << 4 | type);
}

void eb_strip(elf_builder *b)
{
    b->stripped = 1;
}

/* ------------------------------------------------------------ writing */

static void w16(unsigned char *p, uint64_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void w32(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void w64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

typedef struct {
    char *p;
    size_t len, cap;
} eb_strs;

static uint32_t strs_add(eb_strs *s, const char *str)
{
    size_t n = strlen(str) + 1;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2 + 64;
        s->p = realloc(s->p, s->cap);
        if (!s->p) eb_die("out of memory");
    }
    memcpy(s->p + s->len, str, n);
    s->len += n;
    return (uint32_t)(s->len - n);
}

static uint16_t region_shndx(int region)
{
    static const uint16_t idx[EB_NREGIONS] = {1, 2, 5, 6, 8};
    return region < 0 ? 0 : idx[region];
}

static void put_sym(unsigned char *p, uint32_t name, const eb_symbol *s, uint64_t value)
{
    w32(p, name);
    p[4] = s->info;
    p[5] = 0;
    w16(p + 6, s->region == -2 ? 0xfff1 /* SHN_ABS */ : region_shndx(s->region));
    w64(p + 8, value);
    w64(p + 16, s->size);
}

static void put_shdr(unsigned char *p, uint32_t name, uint32_t type, uint64_t flags, uint64_t addr, uint64_t off,
                     uint64_t size, uint32_t link, uint32_t info, uint64_t align, uint64_t entsize)
{
    w32(p, name);
    w32(p + 4, type);
    w64(p + 8, flags);
    w64(p + 16, addr);
    w64(p + 24, off);
    w64(p + 32, size);
    w32(p + 40, link);
    w32(p + 44, info);
    w64(p + 48, align);
    w64(p + 56, entsize);
}

static void put_phdr(unsigned char *p, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t filesz,
                     uint64_t memsz, uint64_t align)
{
    w32(p, type);
    w32(p + 4, flags);
    w64(p + 8, off);
    w64(p + 16, vaddr);
    w64(p + 24, vaddr);
    w64(p + 32, filesz);
    w64(p + 40, memsz);
    w64(p + 48, align);
}

unsigned char *eb_finish(elf_builder *b, size_t *len)
{
    eb_strs dynstr = {0}, strtab = {0}, shstr = {0};
    strs_add(&dynstr, "");
    uint32_t soname = b->soname ? strs_add(&dynstr, b->soname) : 0;
    uint32_t dname[EB_MAX_DYNSYM];
    for (size_t i = 0; i < b->nsym[0]; i++) dname[i] = strs_add(&dynstr, b->sym[0][i].name);
    if (dynstr.len > EB_DYNSTR_CAP) eb_die(".dynstr overflows its region");
    strs_add(&strtab, "");
    uint32_t sname[EB_MAX_SYMTAB];
    size_t first_global = b->nsym[1] + 1;
    for (size_t i = 0; i < b->nsym[1]; i++) {
        sname[i] = strs_add(&strtab, b->sym[1][i].name);
        int local = b->sym[1][i].info >> 4 == EB_LOCAL;
        if (!local && first_global > b->nsym[1]) first_global = i + 1;
        if (local && first_global <= b->nsym[1]) eb_die(".symtab: a local symbol after a global one");
    }
    if (first_global > b->nsym[1]) first_global = b->nsym[1] + 1;

    enum { S_NULL, S_TEXT, S_RODATA, S_DYNSYM, S_DYNSTR, S_DATA, S_CUSTOM, S_DYNAMIC, S_BSS, S_SYMTAB, S_STRTAB };
    size_t nsec = b->stripped ? S_SYMTAB + 1 : S_STRTAB + 2; /* + .shstrtab */
    size_t shstrndx = nsec - 1;
    uint32_t nm[S_STRTAB + 2];
    strs_add(&shstr, "");
    const char *names[] = {"", ".text", ".rodata", ".dynsym", ".dynstr", ".data", b->custom, ".dynamic", ".bss",
                           ".symtab", ".strtab"};
    nm[0] = 0;
    for (size_t i = 1; i < shstrndx; i++) nm[i] = strs_add(&shstr, names[i]);
    nm[shstrndx] = strs_add(&shstr, ".shstrtab");

    size_t symtab_off = 0x940, symtab_size = b->stripped ? 0 : (b->nsym[1] + 1) * 24;
    size_t strtab_off = symtab_off + symtab_size, strtab_size = b->stripped ? 0 : strtab.len;
    size_t shstr_off = strtab_off + strtab_size;
    size_t shoff = (shstr_off + shstr.len + 7) & ~(size_t)7;
    size_t total = shoff + nsec * 64;
    unsigned char *img = calloc(1, total);
    if (!img) eb_die("out of memory");

    /* ELF header */
    memcpy(img, "\177ELF", 4);
    img[4] = 2; /* ELFCLASS64 */
    img[5] = 1; /* little-endian */
    img[6] = 1; /* EV_CURRENT */
    w16(img + 16, b->type);
    w16(img + 18, b->machine);
    w32(img + 20, 1);
    w64(img + 24, eb_addr(b, EB_TEXT, 0));
    w64(img + 32, 64);
    w64(img + 40, shoff);
    w16(img + 52, 64);
    w16(img + 54, 56);
    w16(img + 56, 3);
    w16(img + 58, 64);
    w16(img + 60, nsec);
    w16(img + 62, shstrndx);
    put_phdr(img + 64, 1, 5, 0, b->base, 0x700, 0x700, 0x1000);
    put_phdr(img + 64 + 56, 1, 6, 0x700, b->base + 0x700, 0x240, 0x240 + b->bss, 0x1000);
    put_phdr(img + 64 + 112, 2, 6, 0x900, b->base + 0x900, 0x40, 0x40, 8);

    /* regions, symbols, strings */
    memcpy(img + 0x200, b->region[EB_TEXT], 0x100);
    memcpy(img + 0x300, b->region[EB_RODATA], 0x100);
    memcpy(img + 0x700, b->region[EB_DATA], 0x100);
    memcpy(img + 0x800, b->region[EB_CUSTOM], 0x100);
    for (size_t i = 0; i < b->nsym[0]; i++) put_sym(img + 0x400 + (i + 1) * 24, dname[i], &b->sym[0][i], b->sym[0][i].value);
    memcpy(img + 0x580, dynstr.p, dynstr.len);
    unsigned char *d = img + 0x900;
    if (b->soname) {
        w64(d, 14);
        w64(d + 8, soname);
        d += 16;
    }
    w64(d, 5);
    w64(d + 8, b->base + 0x580);
    w64(d + 16, 10);
    w64(d + 24, dynstr.len);
    if (!b->stripped) {
        for (size_t i = 0; i < b->nsym[1]; i++)
            put_sym(img + symtab_off + (i + 1) * 24, sname[i], &b->sym[1][i], b->sym[1][i].value);
        memcpy(img + strtab_off, strtab.p, strtab.len);
    }
    memcpy(img + shstr_off, shstr.p, shstr.len);

    /* section headers */
    unsigned char *sh = img + shoff;
    put_shdr(sh + S_TEXT * 64, nm[S_TEXT], 1, 6, eb_addr(b, EB_TEXT, 0), 0x200, 0x100, 0, 0, 16, 0);
    put_shdr(sh + S_RODATA * 64, nm[S_RODATA], 1, 2, eb_addr(b, EB_RODATA, 0), 0x300, 0x100, 0, 0, 16, 0);
    put_shdr(sh + S_DYNSYM * 64, nm[S_DYNSYM], 11, 2, b->base + 0x400, 0x400, (b->nsym[0] + 1) * 24, S_DYNSTR, 1, 8, 24);
    put_shdr(sh + S_DYNSTR * 64, nm[S_DYNSTR], 3, 2, b->base + 0x580, 0x580, dynstr.len, 0, 0, 1, 0);
    put_shdr(sh + S_DATA * 64, nm[S_DATA], 1, 3, eb_addr(b, EB_DATA, 0), 0x700, 0x100, 0, 0, 32, 0);
    put_shdr(sh + S_CUSTOM * 64, nm[S_CUSTOM], 1, 3, eb_addr(b, EB_CUSTOM, 0), 0x800, 0x100, 0, 0, 32, 0);
    put_shdr(sh + S_DYNAMIC * 64, nm[S_DYNAMIC], 6, 3, b->base + 0x900, 0x900, 0x40, S_DYNSTR, 0, 8, 16);
    put_shdr(sh + S_BSS * 64, nm[S_BSS], 8, 3, eb_addr(b, EB_BSS, 0), 0x940, b->bss, 0, 0, 32, 0);
    if (!b->stripped) {
        put_shdr(sh + S_SYMTAB * 64, nm[S_SYMTAB], 2, 0, 0, symtab_off, symtab_size, S_STRTAB, (uint32_t)first_global, 8, 24);
        put_shdr(sh + S_STRTAB * 64, nm[S_STRTAB], 3, 0, 0, strtab_off, strtab_size, 0, 0, 1, 0);
    }
    put_shdr(sh + shstrndx * 64, nm[shstrndx], 3, 0, 0, shstr_off, shstr.len, 0, 0, 1, 0);
    free(dynstr.p);
    free(strtab.p);
    free(shstr.p);
    *len = total;
    return img;
}

void eb_write(elf_builder *b, const char *path)
{
    size_t n;
    unsigned char *img = eb_finish(b, &n);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(img, 1, n, f) != n || fclose(f) != 0) eb_die("cannot write the ELF file");
    free(img);
}

uint64_t eb_shdr_offset(const unsigned char *img, size_t len, const char *section)
{
    if (len < 64) return 0;
    uint64_t shoff = 0, stroff = 0;
    for (int i = 7; i >= 0; i--) shoff = shoff << 8 | img[40 + i];
    unsigned shnum = (unsigned)(img[60] | img[61] << 8), strx = (unsigned)(img[62] | img[63] << 8);
    if (shoff + (uint64_t)shnum * 64 > len || strx >= shnum) return 0;
    for (int i = 7; i >= 0; i--) stroff = stroff << 8 | img[shoff + strx * 64 + 24 + i];
    for (unsigned k = 0; k < shnum; k++) {
        const unsigned char *p = img + shoff + k * 64;
        uint32_t name = (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
        if (stroff + name < len && !strncmp((const char *)img + stroff + name, section, len - stroff - name))
            return shoff + k * 64;
    }
    return 0;
}

/* ------------------------------------------------------ CPython pieces */

void eb_py_runtime(elf_builder *b, int section)
{
    if (section) eb_custom_name(b, ".PyRuntime");
    eb_sym(b, 0, "_PyRuntime", EB_CUSTOM, eb_addr(b, EB_CUSTOM, 0), 0x100, EB_GLOBAL, EB_OBJECT);
    eb_sym(b, 0, "Py_Initialize", EB_TEXT, eb_addr(b, EB_TEXT, 0xf0), 4, EB_GLOBAL, EB_FUNC);
}

void eb_py_getversion(elf_builder *b, int pie, const char *ver)
{
    eb_put(b, EB_RODATA, 0x00, "%.80s (%.80s) %.80s", 20);
    uint64_t s = eb_put(b, EB_RODATA, 0x40, ver, strlen(ver) + 1);
    uint64_t fmt = eb_addr(b, EB_RODATA, 0);
    uint64_t fn = eb_addr(b, EB_TEXT, 0x10);
    uint64_t targets[2] = {fmt, s};
    unsigned char code[64];
    size_t n = 0;
    if (b->machine == 183) {
        /* adrp x2, fmt ; add x2, x2, :lo12:fmt ; adrp x3, ver ; add x3, x3, :lo12:ver ; ret */
        for (unsigned r = 2; r <= 3; r++) {
            uint64_t pc = fn + n, t = targets[r - 2];
            uint64_t pages = ((t & ~0xfffull) - (pc & ~0xfffull)) >> 12;
            uint32_t imm = (uint32_t)pages & 0x1fffff;
            w32(code + n, 0x90000000u | (imm & 3) << 29 | (imm >> 2) << 5 | r);
            n += 4;
            w32(code + n, 0x91000000u | (uint32_t)(t & 0xfff) << 10 | r << 5 | r);
            n += 4;
        }
        w32(code + n, 0xd65f03c0u);
        n += 4;
    } else if (pie) {
        /* lea fmt(%rip),%rdx ; lea ver(%rip),%rcx ; ret */
        static const unsigned char modrm[2] = {0x15, 0x0d};
        for (int i = 0; i < 2; i++) {
            uint64_t d = targets[i] - (fn + n + 7);
            code[n++] = 0x48;
            code[n++] = 0x8d;
            code[n++] = modrm[i];
            w32(code + n, d);
            n += 4;
        }
        code[n++] = 0xc3;
    } else {
        /* mov $fmt,%edx ; mov $ver,%ecx ; ret */
        code[n++] = 0xba;
        w32(code + n, fmt);
        n += 4;
        code[n++] = 0xb9;
        w32(code + n, s);
        n += 4;
        code[n++] = 0xc3;
    }
    eb_put(b, EB_TEXT, 0x10, code, n);
    eb_sym(b, 0, "Py_GetVersion", EB_TEXT, fn, n, EB_GLOBAL, EB_FUNC);
}

void eb_py_debug_offsets(elf_builder *b, unsigned hex, int free_threaded)
{
    unsigned char d[24] = "xdebugpy";
    w64(d + 8, hex);
    w64(d + 16, (uint64_t)free_threaded);
    eb_put(b, EB_CUSTOM, 0, d, sizeof d);
}

void eb_py_version(elf_builder *b, unsigned hex)
{
    unsigned char pv[8];
    w64(pv, hex);
    eb_sym(b, 0, "Py_Version", EB_RODATA, eb_put(b, EB_RODATA, 0x80, pv, 8), 8, EB_GLOBAL, EB_OBJECT);
}

/*
 * pylayout_test_util.c - pyenv discovery and the minimal ELF64 reader of
 * pylayout_test_util.h. The reader uses pread, never maps the file, and
 * refuses tables larger than 256 MiB.
 */
#include "pylayout_test_util.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PT_MAX_TABLE (256u << 20)

static int has_versions(const char *root)
{
    char p[4096];
    struct stat st;
    if (!root || !*root || snprintf(p, sizeof p, "%s/versions", root) >= (int)sizeof p) return 0;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *pt_pyenv_root(void)
{
    char line[4096] = "";
    FILE *f = popen("pyenv root 2>/dev/null", "r");
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        pclose(f);
        line[strcspn(line, "\n")] = 0;
        if (has_versions(line)) return strdup(line);
    }
    const char *cands[] = {getenv("PYENV_ROOT"), "/root/.pyenv", "/opt/pyenv"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (has_versions(cands[i])) return strdup(cands[i]);
    return NULL;
}

char *pt_pyenv_version(const char *root, unsigned minor)
{
    char dir[4096], prefix[32];
    if (!root || snprintf(dir, sizeof dir, "%s/versions", root) >= (int)sizeof dir) return NULL;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    int plen = snprintf(prefix, sizeof prefix, "3.%u.", minor);
    long best = -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strncmp(n, prefix, (size_t)plen) != 0 || !n[plen]) continue;
        char *end;
        errno = 0;
        long micro = strtol(n + plen, &end, 10);
        if (*end || errno || micro < 0 || n[plen] < '0' || n[plen] > '9') continue;
        char py[8192];
        struct stat st;
        if (snprintf(py, sizeof py, "%s/%s/bin/python3.%u", dir, n, minor) >= (int)sizeof py) continue;
        if (stat(py, &st) == 0 && micro > best) best = micro;
    }
    closedir(d);
    if (best < 0) return NULL;
    char *out = malloc(4200);
    if (out) snprintf(out, 4200, "%s/3.%u.%ld", dir, minor, best);
    return out;
}

struct pt_elf {
    int fd;
    uint64_t size; /* bytes: the file's size */
    Elf64_Ehdr eh;
    Elf64_Shdr *sh;     /* eh.e_shnum section headers */
    char *shstr;        /* section name table */
    uint64_t shstr_len; /* bytes */
};

static int read_at(const pt_elf *e, uint64_t off, void *buf, uint64_t len)
{
    if (off > e->size || len > e->size - off) return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(e->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/* A whole table of the file, malloc'd; NULL when out of range or too big. */
static void *read_table(const pt_elf *e, uint64_t off, uint64_t len)
{
    if (len > PT_MAX_TABLE) return NULL;
    void *p = malloc(len ? len : 1);
    if (p && read_at(e, off, p, len) != 0) {
        free(p);
        p = NULL;
    }
    return p;
}

pt_elf *pt_elf_open(const char *path, char *err, size_t errlen)
{
    pt_elf *e = calloc(1, sizeof *e);
    struct stat st;
    if (!e) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    e->fd = -1;
    e->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (e->fd < 0 || fstat(e->fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto bad;
    }
    e->size = (uint64_t)st.st_size;
    if (read_at(e, 0, &e->eh, sizeof e->eh) != 0 || memcmp(e->eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        e->eh.e_ident[EI_CLASS] != ELFCLASS64 || e->eh.e_ident[EI_DATA] != ELFDATA2LSB) {
        snprintf(err, errlen, "%s: not an ELF64 little-endian file", path);
        goto bad;
    }
    if (e->eh.e_shentsize != sizeof(Elf64_Shdr) || e->eh.e_shnum == 0 || e->eh.e_shstrndx >= e->eh.e_shnum) {
        snprintf(err, errlen, "%s: no usable section header table (shentsize %u, shnum %u)", path,
                 e->eh.e_shentsize, e->eh.e_shnum);
        goto bad;
    }
    e->sh = read_table(e, e->eh.e_shoff, (uint64_t)e->eh.e_shnum * sizeof(Elf64_Shdr));
    if (!e->sh) {
        snprintf(err, errlen, "%s: section headers at byte %llu lie outside the file", path,
                 (unsigned long long)e->eh.e_shoff);
        goto bad;
    }
    const Elf64_Shdr *ss = &e->sh[e->eh.e_shstrndx];
    e->shstr_len = ss->sh_size;
    e->shstr = read_table(e, ss->sh_offset, ss->sh_size);
    if (!e->shstr) {
        snprintf(err, errlen, "%s: section name table outside the file", path);
        goto bad;
    }
    return e;
bad:
    pt_elf_close(e);
    return NULL;
}

void pt_elf_close(pt_elf *e)
{
    if (!e) return;
    if (e->fd >= 0) close(e->fd);
    free(e->sh);
    free(e->shstr);
    free(e);
}

static const char *name_in(const char *tab, uint64_t len, uint64_t off)
{
    if (off >= len || !memchr(tab + off, 0, len - off)) return NULL;
    return tab + off;
}

int pt_elf_section(pt_elf *e, const char *name, uint64_t *addr, uint64_t *offset, uint64_t *size)
{
    for (unsigned i = 0; i < e->eh.e_shnum; i++) {
        const char *n = name_in(e->shstr, e->shstr_len, e->sh[i].sh_name);
        if (n && !strcmp(n, name)) {
            if (addr) *addr = e->sh[i].sh_addr;
            if (offset) *offset = e->sh[i].sh_offset;
            if (size) *size = e->sh[i].sh_size;
            return 0;
        }
    }
    return -1;
}

int pt_elf_symbol(pt_elf *e, unsigned sht, const char *name, uint64_t *value, uint64_t *size)
{
    for (unsigned i = 0; i < e->eh.e_shnum; i++) {
        const Elf64_Shdr *s = &e->sh[i];
        if (s->sh_type != sht || s->sh_entsize != sizeof(Elf64_Sym) || s->sh_link >= e->eh.e_shnum) continue;
        const Elf64_Shdr *strs = &e->sh[s->sh_link];
        Elf64_Sym *syms = read_table(e, s->sh_offset, s->sh_size);
        char *str = read_table(e, strs->sh_offset, strs->sh_size);
        int rc = -1;
        if (syms && str) {
            uint64_t n = s->sh_size / sizeof(Elf64_Sym);
            for (uint64_t k = 0; k < n; k++) {
                const char *sn = name_in(str, strs->sh_size, syms[k].st_name);
                if (sn && syms[k].st_shndx != SHN_UNDEF && !strcmp(sn, name)) {
                    if (value) *value = syms[k].st_value;
                    if (size) *size = syms[k].st_size;
                    rc = 0;
                    break;
                }
            }
        }
        free(syms);
        free(str);
        if (rc == 0) return 0;
    }
    return -1;
}

int pt_elf_read_vaddr(pt_elf *e, uint64_t vaddr, void *buf, size_t len)
{
    if (e->eh.e_phentsize != sizeof(Elf64_Phdr) || e->eh.e_phnum == 0) return -1;
    Elf64_Phdr *ph = read_table(e, e->eh.e_phoff, (uint64_t)e->eh.e_phnum * sizeof(Elf64_Phdr));
    int rc = -1;
    for (unsigned i = 0; ph && i < e->eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || vaddr < p->p_vaddr) continue;
        uint64_t rel = vaddr - p->p_vaddr;
        if (rel > p->p_filesz || len > p->p_filesz - rel) continue;
        rc = read_at(e, p->p_offset + rel, buf, len);
        break;
    }
    free(ph);
    return rc;
}

/*
 * pyimage.c - copies a process's resident writable memory for an offline
 * heap walk (see pyimage.h for the contract and the reasons).
 */

#include "pyimage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAPS_MAX (64u << 20)  /* a maps file larger than this is refused */
#define IOV_BATCH 1024        /* UIO_MAXIOV */
#define PAGEMAP_CHUNK 8192    /* pagemap entries read per pread */
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)

typedef struct {
    uint64_t start, end;      /* target addresses, [start, end) */
    unsigned char *data;      /* the copy of those bytes */
    int file;                 /* from a file-backed mapping (a data segment) */
    uint64_t pos;             /* bytes of the regions before this one (pyimage_index) */
} img_region;

typedef struct {
    uint64_t start, end;      /* a read-only mapping: answered live */
    const unsigned char *data;/* pyimage_from_regions: its bytes (NULL: live) */
} img_ro;

struct pyimage {
    int pid;
    img_region *reg;          /* sorted by start, disjoint */
    size_t nreg, capreg;
    img_ro *ro;               /* sorted by start */
    size_t nro, capro;
    unsigned char **bufs;     /* allocations beyond the pool, one per mapping */
    size_t nbufs, capbufs;
    unsigned char *pool;      /* prefaulted before the pause (mmap) */
    size_t pool_size, pool_used;
    char proc_root[128];
    uint64_t cap;
    uint64_t estimate;        /* resident bytes counted before the pause */
    size_t last;              /* index of the last region hit */
    uint64_t span;            /* bytes in all regions (pyimage_index's range) */
    pyimage_stats st;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

static char *slurp(const char *path, size_t *len, int *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    size_t cap = 1u << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            *err = ENOMEM;
            break;
        }
        if (n == cap) {
            if (cap >= MAPS_MAX) {
                *err = EFBIG;
                free(buf);
                buf = NULL;
                break;
            }
            cap *= 2;
            char *b = realloc(buf, cap + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                *err = ENOMEM;
                break;
            }
            buf = b;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            *err = errno;
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) {
            buf[n] = 0;
            *len = n;
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    return buf;
}

/* One pending run of pages to copy. */
typedef struct {
    uint64_t start, end;
    unsigned char *data;
    int file;
} run;

/* Copies the runs with process_vm_readv, splitting a run around a page
 * that cannot be read. Appends the readable parts to im->reg. */
static int copy_runs(pyimage *im, run *runs, size_t n, uint64_t page)
{
    struct iovec loc[IOV_BATCH], rem[IOV_BATCH];
    size_t p = 0;
    while (p < n) {
        size_t k = 0;
        for (size_t i = p; i < n && k < IOV_BATCH; i++, k++) {
            loc[k].iov_base = runs[i].data;
            loc[k].iov_len = runs[i].end - runs[i].start;
            rem[k].iov_base = (void *)(uintptr_t)runs[i].start;
            rem[k].iov_len = loc[k].iov_len;
        }
        ssize_t got = process_vm_readv(im->pid, loc, k, rem, k, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == ESRCH || errno == EPERM) return -errno;
            got = 0; /* EFAULT on the first iovec: handled as a short read */
        }
        size_t left = (size_t)got, i = p;
        for (; i < p + k; i++) {
            uint64_t want = runs[i].end - runs[i].start;
            if (left < want) break;
            left -= want;
            if (grow((void **)&im->reg, &im->capreg, im->nreg + 1, sizeof *im->reg)) return -ENOMEM;
            im->reg[im->nreg++] = (img_region){runs[i].start, runs[i].end, runs[i].data, runs[i].file, 0};
        }
        if (i == p + k) {
            p = i;
            continue;
        }
        /* runs[i] was read for `left` bytes; the page after them failed. */
        uint64_t ok = left - left % page;
        if (ok) {
            if (grow((void **)&im->reg, &im->capreg, im->nreg + 1, sizeof *im->reg)) return -ENOMEM;
            im->reg[im->nreg++] = (img_region){runs[i].start, runs[i].start + ok, runs[i].data, runs[i].file, 0};
        }
        uint64_t bad = runs[i].start + ok;
        im->st.unreadable_bytes += page;
        if (bad + page < runs[i].end) {
            runs[i].data += ok + page;
            runs[i].start = bad + page;
            p = i;
        } else {
            p = i + 1;
        }
    }
    return 0;
}

/* Resident runs of [s, e) from pagemap, copied into one new buffer. */
static int copy_mapping(pyimage *im, int pm, uint64_t s, uint64_t e, int file, uint64_t page, uint64_t cap,
                        int dry, char *msg, size_t len)
{
    static const size_t chunk = PAGEMAP_CHUNK;
    uint64_t *pm_buf = malloc(chunk * sizeof *pm_buf);
    run *runs = NULL;
    size_t nruns = 0, capruns = 0;
    uint64_t present = 0;
    int rc = 0;
    if (!pm_buf) return -ENOMEM;
    for (uint64_t a = s; a < e;) {
        uint64_t npages = (e - a) / page;
        if (npages > chunk) npages = chunk;
        ssize_t r = pread(pm, pm_buf, npages * 8, (off_t)(a / page * 8));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || r % 8) {
            snprintf(msg, len, "reading /proc/%d/pagemap at 0x%llx failed: %s", im->pid, (unsigned long long)a,
                     r < 0 ? strerror(errno) : "short read");
            rc = r < 0 ? -errno : -EIO;
            goto out;
        }
        npages = (uint64_t)r / 8;
        for (uint64_t i = 0; i < npages; i++, a += page) {
            if (pm_buf[i] & PM_SWAPPED) {
                if (!dry) im->st.swapped_bytes += page;
                continue;
            }
            if (!(pm_buf[i] & PM_PRESENT)) continue;
            if (nruns && runs[nruns - 1].end == a) {
                runs[nruns - 1].end += page;
            } else {
                if (grow((void **)&runs, &capruns, nruns + 1, sizeof *runs)) {
                    rc = -ENOMEM;
                    goto out;
                }
                runs[nruns++] = (run){a, a + page, NULL, file};
            }
            present += page;
        }
    }
    if (!present) goto out;
    if (dry) {
        if (im->estimate + present <= cap) im->estimate += present;
        goto out;
    }
    if (im->st.copied_bytes + present > cap) {
        im->st.skipped_bytes += present;
        goto out;
    }
    unsigned char *buf;
    if (im->pool && im->pool_size - im->pool_used >= present) {
        buf = im->pool + im->pool_used;
        im->pool_used += present;
    } else {
        buf = malloc(present);
        if (!buf) {
            im->st.skipped_bytes += present;
            goto out;
        }
        if (grow((void **)&im->bufs, &im->capbufs, im->nbufs + 1, sizeof *im->bufs)) {
            free(buf);
            rc = -ENOMEM;
            goto out;
        }
        im->bufs[im->nbufs++] = buf;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < nruns; i++) {
        runs[i].data = buf + off;
        off += runs[i].end - runs[i].start;
    }
    im->st.copied_bytes += present;
    rc = copy_runs(im, runs, nruns, page);
    if (rc) snprintf(msg, len, "process_vm_readv from PID %d failed: %s", im->pid, strerror(-rc));
out:
    free(pm_buf);
    free(runs);
    return rc;
}

/* Sets each region's pos once they are in address order. */
static void number_regions(pyimage *im)
{
    uint64_t pos = 0;
    for (size_t i = 0; i < im->nreg; i++) {
        im->reg[i].pos = pos;
        pos += im->reg[i].end - im->reg[i].start;
    }
    im->span = pos;
}

static int cmp_region(const void *a, const void *b)
{
    const img_region *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* One pass over the maps: dry (count resident bytes) or copying. */
static int scan(pyimage *im, int dry, char *msg, size_t len)
{
    char path[256];
    size_t n = 0;
    int err = 0;
    long pg = sysconf(_SC_PAGESIZE);
    uint64_t page = pg > 0 ? (uint64_t)pg : 4096;
    snprintf(path, sizeof path, "%s/%d/maps", im->proc_root, im->pid);
    char *maps = slurp(path, &n, &err);
    if (!maps) {
        snprintf(msg, len, "cannot read %s: %s", path, strerror(err));
        return -1;
    }
    snprintf(path, sizeof path, "%s/%d/pagemap", im->proc_root, im->pid);
    int pm = open(path, O_RDONLY | O_CLOEXEC);
    if (pm < 0) {
        snprintf(msg, len, "cannot open %s: %s%s", path, strerror(errno),
                 errno == EACCES || errno == EPERM ? " (run as the target's user or root)" : "");
        free(maps);
        return -1;
    }
    int rc = 0;
    for (char *line = maps, *next; *line; line = next) { /* split into lines once */
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        else next = line + strlen(line);
    }
    /* Data segments first (small, and they hold the runtime state: with a
     * tight cap they must not lose to the heap), then anonymous memory. */
    for (int pass = 0; pass < 2 && !rc; pass++) {
        for (char *line = maps; line < maps + n && !rc; line += strlen(line) + 1) {
            unsigned long long s, e;
            char perms[8];
            if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3 || e <= s || strlen(perms) < 4) continue;
            if (strstr(line, "[vsyscall]") || strstr(line, "[vvar")) continue;
            /* a path after the inode column: file-backed (a data segment) */
            const char *slash = strchr(line, '/');
            if (perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p') {
                if ((slash != NULL) != (pass == 0)) continue;
                if (!dry) im->st.mappings++;
                rc = copy_mapping(im, pm, s, e, slash != NULL, page, im->cap, dry, msg, len);
            } else if (pass == 0 && !dry && perms[0] == 'r' && perms[1] != 'w' && slash) {
                if (grow((void **)&im->ro, &im->capro, im->nro + 1, sizeof *im->ro)) rc = -ENOMEM;
                else im->ro[im->nro++] = (img_ro){s, e, NULL};
            }
        }
    }
    if (!dry && im->nreg) qsort(im->reg, im->nreg, sizeof *im->reg, cmp_region);
    if (!dry) number_regions(im);
    close(pm);
    free(maps);
    if (rc == -ENOMEM) snprintf(msg, len, "out of memory copying PID %d", im->pid);
    return rc ? -1 : 0;
}

pyimage *pyimage_new(int pid, const char *proc_root, uint64_t cap, char *msg, size_t len)
{
    pyimage *im = calloc(1, sizeof *im);
    if (!im) {
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    im->pid = pid;
    im->cap = cap;
    snprintf(im->proc_root, sizeof im->proc_root, "%s", proc_root);
    if (scan(im, 1, msg, len)) {
        free(im);
        return NULL;
    }
    /* The copy's memory is faulted in now, while the target runs: page
     * faults on fresh memory would otherwise cost as much as the copy
     * itself, inside the pause. Room for growth until the pause. */
    size_t want = (size_t)(im->estimate + im->estimate / 8 + (8u << 20));
    if (want > cap) want = (size_t)cap;
    void *p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        madvise(p, want, MADV_HUGEPAGE);
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
        if (madvise(p, want, MADV_POPULATE_WRITE) != 0)
            for (size_t o = 0; o < want; o += 4096) ((volatile unsigned char *)p)[o] = 0;
        im->pool = p;
        im->pool_size = want;
    }
    return im;
}

static int cmp_spec(const void *a, const void *b)
{
    const pyimage_region_spec *x = *(const pyimage_region_spec *const *)a, *y = *(const pyimage_region_spec *const *)b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

pyimage *pyimage_from_regions(const pyimage_region_spec *regs, size_t n, char *msg, size_t len)
{
    const pyimage_region_spec **ord = NULL;
    pyimage *im = calloc(1, sizeof *im);
    uint64_t total = 0;
    size_t nro = 0;
    if (!im || (n && !(ord = malloc(n * sizeof *ord)))) goto nomem;
    for (size_t i = 0; i < n; i++) {
        const pyimage_region_spec *r = &regs[i];
        if (!r->size || r->addr + r->size < r->addr || r->len > r->size || (r->len && !r->data) || r->kind < PYIMAGE_ANON ||
            r->kind > PYIMAGE_FILE_RO) {
            snprintf(msg, len, "region %zu (0x%llx, %llu bytes, kind %d): empty, wrapping past 2^64 or malformed", i,
                     (unsigned long long)r->addr, (unsigned long long)r->size, r->kind);
            goto fail;
        }
        if (r->size > SIZE_MAX - total) goto nomem;
        total += r->size;
        nro += r->kind == PYIMAGE_FILE_RO;
        ord[i] = r;
    }
    if (n) qsort(ord, n, sizeof *ord, cmp_spec);
    for (size_t i = 1; i < n; i++)
        if (ord[i]->addr < ord[i - 1]->addr + ord[i - 1]->size) {
            snprintf(msg, len, "regions at 0x%llx and 0x%llx overlap", (unsigned long long)ord[i - 1]->addr,
                     (unsigned long long)ord[i]->addr);
            goto fail;
        }
    unsigned char *buf = total ? calloc(1, (size_t)total) : NULL;
    if ((total && !buf) || grow((void **)&im->bufs, &im->capbufs, 1, sizeof *im->bufs)) {
        free(buf);
        goto nomem;
    }
    im->bufs[im->nbufs++] = buf;
    if ((n - nro && grow((void **)&im->reg, &im->capreg, n - nro, sizeof *im->reg)) ||
        (nro && grow((void **)&im->ro, &im->capro, nro, sizeof *im->ro)))
        goto nomem;
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const pyimage_region_spec *r = ord[i];
        if (r->len) memcpy(buf + off, r->data, r->len);
        if (r->kind == PYIMAGE_FILE_RO) {
            im->ro[im->nro++] = (img_ro){r->addr, r->addr + r->size, buf + off};
        } else {
            im->reg[im->nreg++] = (img_region){r->addr, r->addr + r->size, buf + off, r->kind == PYIMAGE_FILE, 0};
            im->st.mappings++;
            im->st.copied_bytes += r->size;
        }
        off += r->size;
    }
    im->st.regions = im->nreg;
    number_regions(im);
    free(ord);
    return im;
nomem:
    snprintf(msg, len, "out of memory building an image of %zu regions", n);
fail:
    free(ord);
    pyimage_free(im);
    return NULL;
}

int pyimage_copy(pyimage *im, char *msg, size_t len)
{
    uint64_t t0 = now_ns();
    int rc = scan(im, 0, msg, len);
    im->st.regions = im->nreg;
    im->st.copy_ns = now_ns() - t0;
    return rc;
}

void pyimage_free(pyimage *im)
{
    if (!im) return;
    for (size_t i = 0; i < im->nbufs; i++) free(im->bufs[i]);
    free(im->bufs);
    if (im->pool) munmap(im->pool, im->pool_size);
    free(im->reg);
    free(im->ro);
    free(im);
}

const void *pyimage_ptr(pyimage *im, uint64_t addr, size_t len)
{
    if (!im->nreg || addr + len < addr) return NULL;
    const img_region *r = &im->reg[im->last];
    if (addr < r->start || addr >= r->end) {
        size_t lo = 0, hi = im->nreg;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (im->reg[mid].end <= addr) lo = mid + 1;
            else hi = mid;
        }
        if (lo == im->nreg || addr < im->reg[lo].start) return NULL;
        im->last = lo;
        r = &im->reg[lo];
    }
    if (addr + len > r->end) return NULL;
    return r->data + (addr - r->start);
}

int64_t pyimage_index(pyimage *im, uint64_t addr)
{
    if (!pyimage_ptr(im, addr, 1)) return -1;
    const img_region *r = &im->reg[im->last];
    return (int64_t)(r->pos + (addr - r->start));
}

uint64_t pyimage_span(const pyimage *im)
{
    return im->span;
}

int pyimage_is_file(pyimage *im, uint64_t addr)
{
    if (!pyimage_ptr(im, addr, 1)) return 0;
    return im->reg[im->last].file;
}

int pyimage_has(pyimage *im, uint64_t addr, size_t len)
{
    return pyimage_ptr(im, addr, len) != NULL;
}

/* The read-only mapping holding [addr, addr+len), or NULL. */
static const img_ro *in_ro(const pyimage *im, uint64_t addr, size_t len)
{
    size_t lo = 0, hi = im->nro;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (im->ro[mid].end <= addr) lo = mid + 1;
        else hi = mid;
    }
    return lo < im->nro && addr >= im->ro[lo].start && addr + len <= im->ro[lo].end ? &im->ro[lo] : NULL;
}

int pyimage_read(pyimage *im, uint64_t addr, void *buf, size_t len)
{
    const void *p = pyimage_ptr(im, addr, len);
    if (p) {
        memcpy(buf, p, len);
        return 0;
    }
    const img_ro *ro;
    if (!len || addr + len < addr || !(ro = in_ro(im, addr, len))) return -1;
    im->st.live_reads++;
    if (ro->data) {
        memcpy(buf, ro->data + (addr - ro->start), len);
        return 0;
    }
    if (im->pid <= 0) return -1;
    struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
    return process_vm_readv(im->pid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -1;
}

long pyimage_cstr(pyimage *im, uint64_t addr, char *buf, size_t cap)
{
    if (cap < 2) return -1;
    /* Read up to the end of the page first so a short string near the end
     * of a mapping is still readable. */
    size_t got = 0;
    while (got < cap - 1) {
        uint64_t a = addr + got;
        size_t want = 4096 - (size_t)(a % 4096);
        if (want > cap - 1 - got) want = cap - 1 - got;
        if (pyimage_read(im, a, buf + got, want)) break;
        void *z = memchr(buf + got, 0, want);
        if (z) return (long)((char *)z - buf);
        got += want;
    }
    buf[0] = 0;
    return -1;
}

int pyimage_region(const pyimage *im, size_t i, uint64_t *start, uint64_t *end, int *file)
{
    if (i >= im->nreg) return -1;
    *start = im->reg[i].start;
    *end = im->reg[i].end;
    *file = im->reg[i].file;
    return 0;
}

const pyimage_stats *pyimage_stats_get(const pyimage *im)
{
    return &im->st;
}

/*
 * fuzz_pyheap.c - libFuzzer target for the CPython heap walk
 * (capture/pyheap.c) on memory from the input: a layout of the generated
 * table, a runtime address, symbol addresses and regions of memory
 * (fuzz_pyheap.h gives the format) become a pyimage_from_regions image,
 * which pyheap_walk_image walks into a snapshot of a writer on /dev/null
 * (discarded with ms_writer_abort: nothing is compressed or written).
 *
 * Beyond memory safety it checks what the walk promises: it fails only for
 * want of memory (never with a table the writer refuses: MS_ERR_USAGE),
 * the note is one NUL-terminated line, no more objects are counted than
 * there are bytes in the image, no more used pools than there are pool
 * headers in it (each pool once), no more types than type objects fit in
 * it, the walk's bitmap of counted objects within a 64th of it and the
 * sys.modules rows' strings within an eighth (+1 MiB). It aborts when the walk asks for a
 * symbol the format does not supply (update FPH_SYMBOLS then).
 *
 * With FUZZ_PYHEAP_STATS set in the environment, prints for every input
 * what the walk reached (replay_pyheap: which seeds reach which parts).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fuzz_pyheap.h"
#include "fuzz_walk.h"
#include "py_layout.h"
#include "pyheap_internal.h"
#include "pyimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fph_names[FPH_NSYMBOLS] = {FPH_SYMBOLS};

typedef struct {
    uint64_t addr[FPH_NSYMBOLS];
} fph_syms;

static uint64_t fph_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t fph_lookup(const fph_syms *s, const char *name, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        if (!strcmp(name, fph_names[i])) return s->addr[i];
    fprintf(stderr, "fuzz_pyheap: the walk asked for symbol \"%s\", which FPH_SYMBOLS lacks\n", name);
    fuzz_fail("a symbol the input format does not supply");
}

static uint64_t fph_global(void *ctx, const char *name)
{
    return fph_lookup(ctx, name, 0, FPH_NGLOBAL);
}

static uint64_t fph_local(void *ctx, const char *file, const char *name)
{
    if (file && strcmp(file, "obmalloc.c")) return 0;
    return fph_lookup(ctx, name, FPH_NGLOBAL, FPH_NSYMBOLS);
}

/* The regions of the input, bounded and without overlaps; returns how many. */
static size_t fph_regions(const uint8_t *p, size_t size, pyimage_region_spec *r)
{
    size_t n = 0;
    uint64_t total = 0;
    while (size >= FPH_REGION_HEADER && n < FPH_MAX_REGIONS) {
        uint64_t addr = fph_get(p, 8), rsize = fph_get(p + 8, 4), len = fph_get(p + 12, 4);
        int kind = p[16] % 3;
        p += FPH_REGION_HEADER;
        size -= FPH_REGION_HEADER;
        if (len > size) len = size;
        const uint8_t *d = p;
        p += len;
        size -= len;
        if (!rsize) rsize = len;
        if (rsize > FPH_MAX_REGION) rsize = FPH_MAX_REGION;
        if (len > rsize) len = rsize;
        if (!rsize || addr + rsize < addr || total + rsize > FPH_MAX_TOTAL) continue;
        int overlap = 0;
        for (size_t i = 0; i < n && !overlap; i++) overlap = addr < r[i].addr + r[i].size && r[i].addr < addr + rsize;
        if (overlap) continue;
        r[n++] = (pyimage_region_spec){addr, rsize, d, (size_t)len, kind};
        total += rsize;
    }
    return n;
}

static int fph_devnull = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FPH_HEADER + 8 * FPH_NSYMBOLS) return 0;
    if (fph_devnull < 0 && (fph_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) fuzz_fail("cannot open /dev/null");
    const py_layout *L = &py_layout_table[data[0] % py_layout_count];
    unsigned flags = data[1];
    py_runtime_info *pi = calloc(1, sizeof *pi);
    if (!pi) return 0;
    pi->minor = (L->version >> 16) & 0xff;
    pi->hexversion = L->source_version;
    snprintf(pi->version, sizeof pi->version, "%s", L->source);
    snprintf(pi->how, sizeof pi->how, "fuzz input");
    snprintf(pi->binary, sizeof pi->binary, "/home/fuzz/bin/python3.%u", pi->minor);
    if (flags & FPH_SHARED) {
        pi->flags |= PYF_SHARED;
        snprintf(pi->libpython, sizeof pi->libpython, "/home/fuzz/lib/libpython3.%u.so.1.0", pi->minor);
    }
    pi->runtime = fph_get(data + 8, 8);
    if (flags & FPH_MULTIPLE) {
        pi->flags |= PYF_MULTIPLE;
        pi->n_alt = 1;
        pi->alt_runtime[0] = fph_get(data + 16, 8);
    }
    fph_syms syms;
    for (unsigned i = 0; i < FPH_NSYMBOLS; i++) syms.addr[i] = fph_get(data + FPH_HEADER + 8 * i, 8);
    const pyheap_syms resolver = {fph_global, fph_local, &syms};

    pyimage_region_spec regs[FPH_MAX_REGIONS];
    size_t off = FPH_HEADER + 8 * FPH_NSYMBOLS;
    size_t n = fph_regions(data + off, size - off, regs);
    char msg[256];
    pyimage *im = pyimage_from_regions(regs, n, msg, sizeof msg);
    if (!im) fuzz_fail("pyimage_from_regions refused regions the harness made disjoint and bounded");

    redactor red;
    redact_init(&red, "fuzz", 4);
    ms_writer *wr = ms_writer_fdopen(fph_devnull, "fuzz_pyheap", 0, NULL, NULL, 0);
    ms_table *dg = ms_table_new(MS_SEC_DIAGNOSTICS);
    if (!wr || !dg || ms_writer_begin(wr)) fuzz_fail("cannot set up the writer");
    pyheap_result res;
    pyheap_walk_stats st;
    char note[512];
    memset(note, 'x', sizeof note);
    int rc = pyheap_walk_image(im, pi, L, &resolver, (flags & FPH_REDACT) ? &red : NULL, wr, dg, &res, note,
                               sizeof note, &st);
    if (rc != 0 && rc != MS_ERR_NOMEM) {
        fprintf(stderr, "fuzz_pyheap: %s\n", ms_writer_error(wr));
        fuzz_fail("the walk failed other than for want of memory");
    }
    if (!memchr(note, 0, sizeof note) || strchr(note, '\n')) fuzz_fail("the note is not one terminated line");
    const pyimage_stats *is = pyimage_stats_get(im);
    if (res.objects > is->copied_bytes) fuzz_fail("more objects counted than bytes in the image");
    /* used pools are distinct, pool-aligned, with a header in the image each */
    if (st.pools * L->pool_header_size > is->copied_bytes) fuzz_fail("more used pools than pool headers in the image");
    if (st.bitmap_bytes > is->copied_bytes / 64 + 16) fuzz_fail("the walk's bitmap is larger than a 64th of the image");
    if (st.types > is->copied_bytes / L->type_size + 1) fuzz_fail("more types than type objects fit in the image");
    if (st.module_bytes > is->copied_bytes / 8 + (1u << 20)) fuzz_fail("sys.modules rows hold more than an eighth of the image");
    if (!rc && ms_writer_add(wr, dg)) fuzz_fail("the diagnostics table is refused by the writer");
    if (getenv("FUZZ_PYHEAP_STATS"))
        printf("3.%u walked=%d interpreters=%llu pymalloc=%d arenas=%llu pools=%llu types=%llu gc=%llu pool=%llu "
               "refs=%llu modules=%llu objects=%llu bitmap=%llu%s%s\n",
               pi->minor, st.walked, (unsigned long long)st.interpreters, st.pymalloc, (unsigned long long)st.arenas,
               (unsigned long long)st.pools, (unsigned long long)st.types, (unsigned long long)st.gc_objects,
               (unsigned long long)st.pool_objects, (unsigned long long)st.ref_objects,
               (unsigned long long)st.modules, (unsigned long long)res.objects,
               (unsigned long long)st.bitmap_bytes, note[0] ? " note: " : "", note);
    ms_writer_abort(wr);
    ms_writer_close(wr);
    ms_table_free(dg);
    pyimage_free(im);
    free(pi);
    return 0;
}

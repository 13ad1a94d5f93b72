/*
 * smaps.c - /proc/PID/smaps text to MAPPINGS rows. Every field the kernel
 * prints is kept: known ones as columns, others by name in MAPPING_EXTRA.
 */
#include "smaps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Known smaps fields and their columns, in the order kernels print them
 * (the parser predicts the next field from the previous mapping's order,
 * so the table order only matters for the first mapping). */
static const struct {
    const char *name;
    unsigned len, col;
} smaps_fields[] = {
#define F(n, c) {n, sizeof n - 1, c}
    F("Size", MS_MAP_SIZE),
    F("KernelPageSize", MS_MAP_KERNEL_PAGE_SIZE),
    F("MMUPageSize", MS_MAP_MMU_PAGE_SIZE),
    F("Rss", MS_MAP_RSS),
    F("Pss", MS_MAP_PSS),
    F("Pss_Dirty", MS_MAP_PSS_DIRTY),
    F("Pss_Anon", MS_MAP_PSS_ANON),
    F("Pss_File", MS_MAP_PSS_FILE),
    F("Pss_Shmem", MS_MAP_PSS_SHMEM),
    F("Shared_Clean", MS_MAP_SHARED_CLEAN),
    F("Shared_Dirty", MS_MAP_SHARED_DIRTY),
    F("Private_Clean", MS_MAP_PRIVATE_CLEAN),
    F("Private_Dirty", MS_MAP_PRIVATE_DIRTY),
    F("Referenced", MS_MAP_REFERENCED),
    F("Anonymous", MS_MAP_ANONYMOUS),
    F("KSM", MS_MAP_KSM),
    F("LazyFree", MS_MAP_LAZYFREE),
    F("AnonHugePages", MS_MAP_ANON_HUGE),
    F("ShmemPmdMapped", MS_MAP_SHMEM_PMD),
    F("FilePmdMapped", MS_MAP_FILE_PMD),
    F("Shared_Hugetlb", MS_MAP_SHARED_HUGETLB),
    F("Private_Hugetlb", MS_MAP_PRIVATE_HUGETLB),
    F("Swap", MS_MAP_SWAP),
    F("SwapPss", MS_MAP_SWAP_PSS),
    F("Locked", MS_MAP_LOCKED),
    F("THPeligible", MS_MAP_THP_ELIGIBLE),
    F("ProtectionKey", MS_MAP_PROTECTION_KEY),
    F("VmFlags", MS_MAP_VMFLAGS),
#undef F
};
#define NFIELDS (sizeof smaps_fields / sizeof smaps_fields[0])
#define SMAPS_NAMED_MAX ((size_t)64 << 20) /* bytes of named mappings' header lines kept */
#define MAX_ORDER 64

/* Numeric columns the parser keeps in its own arrays and hands over to
 * the table (no copy) at take time: the 8 header values, then every numeric smaps field (the
 * smaps_fields entries but VmFlags), in table order. */
#define NHDR 8
#define NNUM (NHDR + NFIELDS - 1)
#define VMFLAGS_FIELD (NFIELDS - 1)
static const unsigned hdr_cols[NHDR] = {MS_MAP_START,     MS_MAP_END,       MS_MAP_PERMS,
                                        MS_MAP_OFFSET,    MS_MAP_DEV_MAJOR, MS_MAP_DEV_MINOR,
                                        MS_MAP_INODE,     MS_MAP_DELETED};

struct smaps_parser {
    ms_table *maps, *extra;  /* string columns and rows; numeric columns at take time */
    size_t max_rows, seen, dropped;
    int in_row;              /* current mapping is stored (not dropped) */
    uint64_t *num[NNUM];     /* per numeric column: one value per stored mapping */
    size_t nrows, cap;
    uint64_t present;        /* bit i: column i was set in some row */
    char *named;             /* header lines of named mappings (smaps_named_maps) */
    size_t nlen, ncap;
    int named_over;          /* they passed SMAPS_NAMED_MAX: not kept */
    char *part;              /* partial line carried between feeds */
    size_t plen, pcap;
    size_t lineno;
    int order[MAX_ORDER];    /* field index seen at position k of the last mapping */
    size_t pos;              /* position within the current mapping */
    smaps_path_fn fn;
    void *ctx;
    char err[200];
};

smaps_parser *smaps_new(size_t max_mappings, smaps_path_fn fn, void *ctx)
{
    smaps_parser *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->maps = ms_table_new(MS_SEC_MAPPINGS);
    p->extra = ms_table_new(MS_SEC_MAPPING_EXTRA);
    if (!p->maps || !p->extra) {
        smaps_free(p);
        return NULL;
    }
    p->max_rows = max_mappings;
    p->fn = fn;
    p->ctx = ctx;
    for (size_t i = 0; i < MAX_ORDER; i++) p->order[i] = -1;
    return p;
}

void smaps_free(smaps_parser *p)
{
    if (!p) return;
    for (size_t i = 0; i < NNUM; i++) free(p->num[i]);
    ms_table_free(p->maps);
    ms_table_free(p->extra);
    free(p->part);
    free(p->named);
    free(p);
}

ms_table *smaps_take_mappings(smaps_parser *p)
{
    ms_table *t = p->maps;
    if (!t) return NULL;
    for (size_t i = 0; i < NNUM; i++) {
        if (!(p->present & (1ull << i))) continue; /* a field no mapping had: no column */
        unsigned col = i < NHDR ? hdr_cols[i] : smaps_fields[i - NHDR].col;
        uint64_t *v = p->num[i];
        p->num[i] = NULL; /* the table's from here on, even if this fails */
        if (ms_table_u64_column_take(t, col, v, p->cap)) {
            snprintf(p->err, sizeof p->err, "out of memory handing over the mappings");
            return NULL;
        }
    }
    p->maps = NULL;
    return t;
}

ms_table *smaps_take_extra(smaps_parser *p)
{
    ms_table *t = p->extra;
    p->extra = NULL;
    return t;
}

size_t smaps_count(const smaps_parser *p) { return p->seen; }

const char *smaps_named_maps(const smaps_parser *p, size_t *len)
{
    *len = p->named_over ? 0 : p->nlen;
    return p->named_over ? NULL : p->named ? p->named : "";
}
size_t smaps_dropped(const smaps_parser *p) { return p->dropped; }

uint64_t smaps_rss_kib(const smaps_parser *p)
{
    size_t rss = NHDR + 3; /* smaps_fields[3] is Rss */
    uint64_t sum = 0;
    for (size_t i = 0; p->num[rss] && i < p->nrows; i++) sum += p->num[rss][i];
    return sum;
}
const char *smaps_error(const smaps_parser *p) { return p->err; }

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses hex digits up to `stop`; advances *s. */
static int parse_hex(const char **s, const char *end, char stop, uint64_t *v)
{
    const char *q = *s;
    uint64_t r = 0;
    int n = 0, d;
    while (q < end && (d = hexval((unsigned char)*q)) >= 0) {
        if (n++ >= 16) return -1;
        r = (r << 4) | (uint64_t)d;
        q++;
    }
    if (!n || q >= end || *q != stop) return -1;
    *s = q + 1;
    *v = r;
    return 0;
}

static inline int parse_dec(const char **s, const char *end, uint64_t *v)
{
    const char *q = *s;
    uint64_t r = 0;
    int n = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        unsigned d = (unsigned)(*q - '0');
        if (r > (UINT64_MAX - d) / 10) return -1;
        r = r * 10 + d;
        q++;
        n++;
    }
    if (!n) return -1;
    *s = q;
    *v = r;
    return 0;
}

int smaps_parse_header(const char *line, size_t len, smaps_header *h)
{
    const char *s = line, *end = line + len;
    uint64_t maj, min;
    memset(h, 0, sizeof *h);
    if (parse_hex(&s, end, '-', &h->start) || parse_hex(&s, end, ' ', &h->end)) return -1;
    if (end - s < 5 || s[4] != ' ') return -1;
    static const char pc[4] = {'r', 'w', 'x', 0};
    for (int i = 0; i < 3; i++) {
        if (s[i] == pc[i]) h->perms |= 1u << i;
        else if (s[i] != '-') return -1;
    }
    if (s[3] == 's') h->perms |= 8;
    else if (s[3] == 'p') h->perms |= 16;
    else return -1;
    s += 5;
    if (parse_hex(&s, end, ' ', &h->offset) || parse_hex(&s, end, ':', &maj) ||
        parse_hex(&s, end, ' ', &min) || parse_dec(&s, end, &h->inode))
        return -1;
    if (maj > 0xfffff || min > 0xfffff) return -1;
    h->dev_major = (unsigned)maj;
    h->dev_minor = (unsigned)min;
    /* The kernel prints "... inode " then pads with spaces to column 72 and
     * writes one more space before the name (fs/proc/task_mmu.c). */
    if (s >= end) return 0; /* no trailing space: no name */
    if (*s != ' ') return -1;
    size_t hlen = (size_t)(s - line) + 1;
    size_t at = (hlen > 72 ? hlen : 72) + 1;
    if (at >= len) {
        /* only padding (and at most the separator): no name */
        for (const char *q = s; q < end; q++)
            if (*q != ' ') return -1;
        return 0;
    }
    for (const char *q = s; q < line + at - 1; q++)
        if (*q != ' ') return -1;
    h->name = line + at;
    h->name_len = len - at;
    static const char del[] = " (deleted)";
    size_t dl = sizeof del - 1;
    if (h->name_len > dl && h->name[0] == '/' && !memcmp(h->name + h->name_len - dl, del, dl)) {
        h->deleted = 1;
        h->name_len -= dl;
    }
    return 0;
}

static int set_err(smaps_parser *p, const char *what, const char *line, size_t len)
{
    snprintf(p->err, sizeof p->err, "smaps line %zu: %s: \"%.*s\"", p->lineno, what,
             (int)(len > 80 ? 80 : len), line);
    return MS_ERR_CORRUPT;
}

/* Keeps the header line of a mapping named other than "[...]" (files,
 * memfd:, SYSV) as /proc/PID/maps would print it, for smaps_named_maps. */
static int keep_named(smaps_parser *p, const char *line, size_t len)
{
    if (p->named_over) return 0;
    if (p->nlen + len + 1 > SMAPS_NAMED_MAX) { /* bounded: pyfind reads maps itself then */
        p->named_over = 1;
        return 0;
    }
    if (p->nlen + len + 1 > p->ncap) {
        size_t cap = p->ncap ? p->ncap : 16384;
        while (cap < p->nlen + len + 1) cap *= 2;
        char *b = realloc(p->named, cap);
        if (!b) return MS_ERR_NOMEM;
        p->named = b;
        p->ncap = cap;
    }
    memcpy(p->named + p->nlen, line, len);
    p->nlen += len;
    p->named[p->nlen++] = '\n';
    return 0;
}

static int begin_mapping(smaps_parser *p, const char *line, size_t len)
{
    smaps_header h;
    if (smaps_parse_header(line, len, &h)) return set_err(p, "not a mapping header", line, len);
    p->seen++;
    int rc;
    if (h.name && h.name[0] != '[' && (rc = keep_named(p, line, len))) return rc;
    p->pos = 0;
    if (p->max_rows && ms_table_nrows(p->maps) >= p->max_rows) {
        p->dropped++;
        p->in_row = 0;
        return 0;
    }
    if ((rc = ms_table_row(p->maps))) return rc;
    if (p->nrows == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        for (size_t i = 0; i < NNUM; i++) {
            uint64_t *v = realloc(p->num[i], cap * sizeof *v);
            if (!v) return MS_ERR_NOMEM;
            p->num[i] = v;
        }
        p->cap = cap;
    }
    size_t r = p->nrows++;
    for (size_t i = NHDR; i < NNUM; i++) p->num[i][r] = 0;
    const uint64_t hv[NHDR] = {h.start, h.end, h.perms, h.offset, h.dev_major, h.dev_minor, h.inode,
                               (uint64_t)h.deleted};
    for (size_t i = 0; i < NHDR; i++) p->num[i][r] = hv[i];
    p->present |= (1ull << NHDR) - 1;
    p->in_row = 1;
    ms_table *t = p->maps;
    if (!h.name) return ms_table_null(t, MS_MAP_PATH);
    const char *name = h.name;
    size_t nlen = h.name_len;
    if (p->fn) { /* paths, and names chosen by the program ([anon:NAME]) */
        size_t ol;
        const char *o = p->fn(p->ctx, name, nlen, &ol);
        if (o) {
            name = o;
            nlen = ol;
        }
    }
    return ms_table_str(t, MS_MAP_PATH, name, nlen);
}

static int find_field(smaps_parser *p, const char *name, size_t nlen)
{
    if (p->pos < MAX_ORDER) {
        int k = p->order[p->pos];
        if (k >= 0 && smaps_fields[k].len == nlen && !memcmp(smaps_fields[k].name, name, nlen))
            return k;
    }
    for (size_t k = 0; k < NFIELDS; k++)
        if (smaps_fields[k].len == nlen && !memcmp(smaps_fields[k].name, name, nlen)) {
            if (p->pos < MAX_ORDER) p->order[p->pos] = (int)k;
            return (int)k;
        }
    return -1;
}

/* Stores an unknown field, or a known one whose value is not "N" / "N kB",
 * by name in MAPPING_EXTRA, so nothing the kernel prints is lost. */
static int extra_field(smaps_parser *p, const char *name, size_t nlen, const char *s, const char *end)
{
    uint64_t v = 0;
    const char *q = s;
    int numeric = parse_dec(&q, end, &v) == 0;
    const char *unit = NULL;
    size_t ulen = 0;
    if (numeric && q < end) {
        if (*q != ' ') numeric = 0;
        while (q < end && *q == ' ') q++;
        unit = q;
        ulen = (size_t)(end - q);
        for (size_t i = 0; i < ulen; i++)
            if (unit[i] == ' ') numeric = 0;
        if (!ulen) unit = NULL;
    }
    int rc;
    ms_table *x = p->extra;
    if ((rc = ms_table_row(x)) || (rc = ms_table_u64(x, MS_MX_MAPPING, p->nrows - 1)) ||
        (rc = ms_table_str(x, MS_MX_NAME, name, nlen)) || (rc = ms_table_u64(x, MS_MX_VALUE, numeric ? v : 0)))
        return rc;
    if (numeric) return unit ? ms_table_str(x, MS_MX_UNIT, unit, ulen) : ms_table_null(x, MS_MX_UNIT);
    return ms_table_str(x, MS_MX_TEXT, s, (size_t)(end - s));
}

static int field_line(smaps_parser *p, const char *line, size_t len)
{
    const char *end = line + len, *s;
    int k = -1;
    size_t nlen;
    /* fast path: the field the previous mapping had at this position */
    if (p->pos < MAX_ORDER && (k = p->order[p->pos]) >= 0) {
        nlen = smaps_fields[k].len;
        const char *fn = smaps_fields[k].name;
        size_t i = 0;
        if (len > nlen && line[nlen] == ':')
            while (i < nlen && line[i] == fn[i]) i++; /* names are short: no libc call */
        if (i != nlen) k = -1;
    }
    if (k < 0) {
        const char *colon = memchr(line, ':', len);
        if (!colon || colon == line || memchr(line, ' ', (size_t)(colon - line)))
            return set_err(p, "neither a mapping header nor a \"Name: value\" field", line, len);
        nlen = (size_t)(colon - line);
        k = find_field(p, line, nlen);
    }
    p->pos++;
    if (!p->in_row) return p->seen ? 0 : set_err(p, "field before any mapping", line, len);
    /* The kernel's layout for sizes (fs/proc/task_mmu.c): "Name:" padded to
     * 16 columns, the value right-aligned in 8, then " kB": 27 bytes. Read
     * the digits right to left; any other shape takes the general path. */
    if (k >= 0 && k != VMFLAGS_FIELD && len == 27 && nlen < 16 && line[24] == ' ' && line[25] == 'k' &&
        line[26] == 'B' && line[nlen + 1] == ' ') {
        const char *d = line + 23;
        uint64_t v = 0, mul = 1;
        while (d > line + nlen + 1 && *d >= '0' && *d <= '9') {
            v += (uint64_t)(*d - '0') * mul;
            mul *= 10;
            d--;
        }
        if (d < line + 23 && *d == ' ') { /* at least one digit, then padding */
            p->num[NHDR + k][p->nrows - 1] = v;
            p->present |= 1ull << (NHDR + k);
            return 0;
        }
    }
    s = line + nlen + 1;
    while (s < end && *s == ' ') s++;
    if (k == VMFLAGS_FIELD) {
        while (end > s && end[-1] == ' ') end--;
        return ms_table_str(p->maps, MS_MAP_VMFLAGS, s, (size_t)(end - s));
    }
    if (k >= 0) {
        /* known fields: "N kB" (sizes) or "N" (THPeligible, ProtectionKey) */
        uint64_t v = 0;
        const char *q = s;
        if (parse_dec(&q, end, &v) == 0 && (q == end || (end - q == 3 && !memcmp(q, " kB", 3)))) {
            p->num[NHDR + k][p->nrows - 1] = v;
            p->present |= 1ull << (NHDR + k);
            return 0;
        }
    }
    return extra_field(p, line, nlen, s, end);
}

/* A mapping header starts with a lowercase hex address and its '-' within
 * 17 bytes; anything else ("Rss:", "VmFlags:") is a field line. */
static int is_header(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && i < 17 && hexval((unsigned char)line[i]) >= 0 && !(line[i] >= 'A' && line[i] <= 'F')) i++;
    return i > 0 && i < len && line[i] == '-';
}

static int parse_line(smaps_parser *p, const char *line, size_t len)
{
    p->lineno++;
    if (len == 0) return 0;
    if (!(line[0] >= 'A' && line[0] <= 'Z') && is_header(line, len)) return begin_mapping(p, line, len);
    return field_line(p, line, len);
}

int smaps_feed(smaps_parser *p, const char *buf, size_t len)
{
    const char *s = buf, *end = buf + len;
    int rc;
    if (p->plen) { /* complete the carried partial line first */
        const char *nl = memchr(s, '\n', len);
        size_t take = nl ? (size_t)(nl - s) : len;
        if (p->plen + take + 1 > p->pcap) {
            size_t cap = (p->plen + take + 1) * 2;
            char *np = realloc(p->part, cap);
            if (!np) return MS_ERR_NOMEM;
            p->part = np;
            p->pcap = cap;
        }
        memcpy(p->part + p->plen, s, take);
        p->plen += take;
        if (!nl) return 0;
        rc = parse_line(p, p->part, p->plen);
        p->plen = 0;
        if (rc) return rc;
        s = nl + 1;
    }
    for (;;) {
        /* most lines are the 27-byte "Name:   value kB" form */
        const char *nl = end - s > 27 && s[27] == '\n' ? s + 27 : memchr(s, '\n', (size_t)(end - s));
        if (!nl) break;
        if ((rc = parse_line(p, s, (size_t)(nl - s)))) return rc;
        s = nl + 1;
    }
    if (s < end) {
        size_t rest = (size_t)(end - s);
        if (rest + 1 > p->pcap) {
            char *np = realloc(p->part, rest * 2 + 1);
            if (!np) return MS_ERR_NOMEM;
            p->part = np;
            p->pcap = rest * 2 + 1;
        }
        memcpy(p->part, s, rest);
        p->plen = rest;
    }
    return 0;
}

int smaps_finish(smaps_parser *p)
{
    if (!p->plen) return 0;
    size_t n = p->plen;
    p->plen = 0;
    return parse_line(p, p->part, n);
}

/*
 * msnap_common.c - what the writer and reader share: error names, CRC-32C,
 * growable buffers and the schema table (the one place that says which
 * sections and columns SPEC.md defines, with their names and types).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pread, fdatasync, O_CLOEXEC */
#endif
#include "msnap_internal.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define MS_HAVE_SSE42_DISPATCH 1
#endif

/* ------------------------------------------------------------------ errors */

static const struct {
    int code;
    const char *id, *text;
} ms_errors[] = {
    {MS_OK, "MS_OK", "no error"},
    {MS_ERR_IO, "MS_ERR_IO", "input/output error"},
    {MS_ERR_NOMEM, "MS_ERR_NOMEM", "out of memory"},
    {MS_ERR_MAGIC, "MS_ERR_MAGIC", "not a .msnap file"},
    {MS_ERR_VERSION, "MS_ERR_VERSION", "unsupported format version"},
    {MS_ERR_TRUNCATED, "MS_ERR_TRUNCATED", "file is truncated"},
    {MS_ERR_CHECKSUM, "MS_ERR_CHECKSUM", "checksum mismatch"},
    {MS_ERR_CORRUPT, "MS_ERR_CORRUPT", "corrupt data"},
    {MS_ERR_LIMIT, "MS_ERR_LIMIT", "declared size exceeds the limit"},
    {MS_ERR_ZSTD, "MS_ERR_ZSTD", "zstd error"},
    {MS_ERR_UNSUPPORTED, "MS_ERR_UNSUPPORTED", "unsupported required section"},
    {MS_ERR_USAGE, "MS_ERR_USAGE", "invalid use of the API"},
    {MS_ERR_EXISTS, "MS_ERR_EXISTS", "file exists"},
    {MS_ERR_NOSPACE, "MS_ERR_NOSPACE", "no space left on device"},
    {MS_ERR_END, "MS_ERR_END", "end of file"},
};

const char *ms_strerror(int code)
{
    for (size_t i = 0; i < sizeof ms_errors / sizeof ms_errors[0]; i++)
        if (ms_errors[i].code == code) return ms_errors[i].text;
    return "unknown error";
}

const char *ms_errname(int code)
{
    for (size_t i = 0; i < sizeof ms_errors / sizeof ms_errors[0]; i++)
        if (ms_errors[i].code == code) return ms_errors[i].id;
    return "MS_ERR_UNKNOWN";
}

void ms_fmt(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- CRC-32C */

/* Reflected CRC-32C, polynomial 0x82F63B78 (Castagnoli), as in iSCSI and
 * ext4; check value crc32c("123456789") = 0xE3069283. */
static const uint32_t ms_crc_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

static uint32_t ms_crc32c_sw(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len--) crc = ms_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#ifdef MS_HAVE_SSE42_DISPATCH
__attribute__((target("sse4.2"))) static uint32_t ms_crc32c_hw(uint32_t crc,
                                                               const unsigned char *p,
                                                               size_t len)
{
    uint64_t c = crc;
    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8); /* x86 is little-endian, the CRC's byte order */
        c = _mm_crc32_u64(c, w);
        p += 8;
        len -= 8;
    }
    while (len--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return (uint32_t)c;
}
#endif

uint32_t ms_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    crc = ~crc;
#ifdef MS_HAVE_SSE42_DISPATCH
    if (__builtin_cpu_supports("sse4.2"))
        crc = ms_crc32c_hw(crc, p, len);
    else
#endif
        crc = ms_crc32c_sw(crc, p, len);
    return ~crc;
}

/* ------------------------------------------------------------ dictionary */

const void *ms_codec_dict(unsigned codec, size_t *size)
{
    const void *d = codec == MS_CODEC_ZSTD_DICT1 ? ms_dict1_bytes : NULL;
    if (size) *size = d ? MS_DICT1_SIZE : 0;
    return d;
}

/* ---------------------------------------------------------------- buffers */

int ms_buf_reserve(ms_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra) return 0;
    if (extra > SIZE_MAX / 2 - b->len) return MS_ERR_NOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) return MS_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int ms_buf_put(ms_buf *b, const void *src, size_t n)
{
    if (!n) return 0;
    int rc = ms_buf_reserve(b, n);
    if (rc) return rc;
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

int ms_buf_varint(ms_buf *b, uint64_t v)
{
    int rc = ms_buf_reserve(b, MS_VARINT_MAX);
    if (rc) return rc;
    b->len += ms_varint_put(b->p + b->len, v);
    return 0;
}

void ms_buf_free(ms_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ----------------------------------------------------------------- schema */

typedef struct {
    unsigned id;
    const char *name;
    ms_coltype type;
} ms_colspec;

typedef struct {
    unsigned type;
    const char *name;
    const ms_colspec *cols;
    size_t ncols;
} ms_secspec;

#define U MS_T_U64
#define I MS_T_I64
#define S MS_T_STR

static const ms_colspec cols_snapshot[] = {
    {MS_SNAP_ID, "id", S},           {MS_SNAP_SEQ, "seq", U},
    {MS_SNAP_WALL_NS, "wall_ns", U}, {MS_SNAP_MONO_NS, "mono_ns", U},
    {MS_SNAP_DURATION_NS, "duration_ns", U}, {MS_SNAP_PAUSE_NS, "pause_ns", U},
    {MS_SNAP_PID, "pid", U},         {MS_SNAP_AGENT, "agent", S},
    {MS_SNAP_BOOT_ID, "boot_id", S}, {MS_SNAP_FLAGS, "flags", U},
};
static const ms_colspec cols_host[] = {
    {MS_HOST_NAME, "hostname", S},        {MS_HOST_KERNEL, "kernel_release", S},
    {MS_HOST_KVERSION, "kernel_version", S}, {MS_HOST_MACHINE, "machine", S},
    {MS_HOST_PAGE_SIZE, "page_size", U},  {MS_HOST_MEM_TOTAL, "mem_total_kib", U},
    {MS_HOST_MEM_AVAILABLE, "mem_available_kib", U},
    {MS_HOST_SWAP_TOTAL, "swap_total_kib", U}, {MS_HOST_SWAP_FREE, "swap_free_kib", U},
    {MS_HOST_THP_ENABLED, "thp_enabled", S}, {MS_HOST_THP_DEFRAG, "thp_defrag", S},
    {MS_HOST_OVERCOMMIT, "overcommit_memory", I}, {MS_HOST_NCPU, "ncpu", U},
};
static const ms_colspec cols_process[] = {
    {MS_PROC_PID, "pid", U},         {MS_PROC_PPID, "ppid", U},
    {MS_PROC_UID, "uid", U},         {MS_PROC_EUID, "euid", U},
    {MS_PROC_COMM, "comm", S},       {MS_PROC_EXE, "exe", S},
    {MS_PROC_CMDLINE, "cmdline", S}, {MS_PROC_THREADS, "threads", U},
    {MS_PROC_OOM_SCORE, "oom_score", I}, {MS_PROC_OOM_SCORE_ADJ, "oom_score_adj", I},
    {MS_PROC_STATE, "state", S},     {MS_PROC_START_TICKS, "start_ticks", U},
};
static const ms_colspec cols_kv[] = {
    {MS_KV_NAME, "name", S}, {MS_KV_VALUE, "value", U}, {MS_KV_UNIT, "unit", S},
};
static const ms_colspec cols_cgroup[] = {
    {MS_CG_VERSION, "version", U},   {MS_CG_PATH, "path", S},
    {MS_CG_CURRENT, "current", U},   {MS_CG_MAX, "max", U},
    {MS_CG_HIGH, "high", U},         {MS_CG_SWAP_CURRENT, "swap_current", U},
    {MS_CG_SWAP_MAX, "swap_max", U}, {MS_CG_PEAK, "peak", U},
};
static const ms_colspec cols_cgroup_stat[] = {
    {MS_CGS_FILE, "file", S}, {MS_CGS_NAME, "name", S}, {MS_CGS_VALUE, "value", U},
};
static const ms_colspec cols_mappings[] = {
    {MS_MAP_START, "start", U},          {MS_MAP_END, "end", U},
    {MS_MAP_PERMS, "perms", U},          {MS_MAP_OFFSET, "offset", U},
    {MS_MAP_DEV_MAJOR, "dev_major", U},  {MS_MAP_DEV_MINOR, "dev_minor", U},
    {MS_MAP_INODE, "inode", U},          {MS_MAP_PATH, "path", S},
    {MS_MAP_DELETED, "deleted", U},      {MS_MAP_SIZE, "size_kib", U},
    {MS_MAP_KERNEL_PAGE_SIZE, "kernel_page_size_kib", U},
    {MS_MAP_MMU_PAGE_SIZE, "mmu_page_size_kib", U},
    {MS_MAP_RSS, "rss_kib", U},          {MS_MAP_PSS, "pss_kib", U},
    {MS_MAP_PSS_DIRTY, "pss_dirty_kib", U}, {MS_MAP_PSS_ANON, "pss_anon_kib", U},
    {MS_MAP_PSS_FILE, "pss_file_kib", U}, {MS_MAP_PSS_SHMEM, "pss_shmem_kib", U},
    {MS_MAP_SHARED_CLEAN, "shared_clean_kib", U},
    {MS_MAP_SHARED_DIRTY, "shared_dirty_kib", U},
    {MS_MAP_PRIVATE_CLEAN, "private_clean_kib", U},
    {MS_MAP_PRIVATE_DIRTY, "private_dirty_kib", U},
    {MS_MAP_REFERENCED, "referenced_kib", U}, {MS_MAP_ANONYMOUS, "anonymous_kib", U},
    {MS_MAP_KSM, "ksm_kib", U},          {MS_MAP_LAZYFREE, "lazyfree_kib", U},
    {MS_MAP_ANON_HUGE, "anon_huge_pages_kib", U},
    {MS_MAP_SHMEM_PMD, "shmem_pmd_mapped_kib", U},
    {MS_MAP_FILE_PMD, "file_pmd_mapped_kib", U},
    {MS_MAP_SHARED_HUGETLB, "shared_hugetlb_kib", U},
    {MS_MAP_PRIVATE_HUGETLB, "private_hugetlb_kib", U},
    {MS_MAP_SWAP, "swap_kib", U},        {MS_MAP_SWAP_PSS, "swap_pss_kib", U},
    {MS_MAP_LOCKED, "locked_kib", U},    {MS_MAP_THP_ELIGIBLE, "thp_eligible", U},
    {MS_MAP_PROTECTION_KEY, "protection_key", U}, {MS_MAP_VMFLAGS, "vmflags", S},
};
static const ms_colspec cols_mapping_extra[] = {
    {MS_MX_MAPPING, "mapping", U}, {MS_MX_NAME, "name", S}, {MS_MX_VALUE, "value", U},
    {MS_MX_UNIT, "unit", S},       {MS_MX_TEXT, "text", S},
};
static const ms_colspec cols_py_runtime[] = {
    {MS_PY_VERSION, "version", S},     {MS_PY_HEXVERSION, "hexversion", U},
    {MS_PY_FLAGS, "flags", U},         {MS_PY_BINARY, "binary", S},
    {MS_PY_LIBPYTHON, "libpython", S}, {MS_PY_ALLOCATOR, "allocator", S},
    {MS_PY_ARENA_SIZE, "arena_size", U}, {MS_PY_POOL_SIZE, "pool_size", U},
};
static const ms_colspec cols_py_types[] = {
    {MS_TY_NAME, "name", S},     {MS_TY_QUALNAME, "qualname", S},
    {MS_TY_COUNT, "count", U},   {MS_TY_SIZEOF, "sizeof_bytes", U},
    {MS_TY_ALLOCATED, "allocated_bytes", U}, {MS_TY_FLAGS, "flags", U},
    {MS_TY_MODULE, "module", S},
};
static const ms_colspec cols_py_modules[] = {
    {MS_MOD_NAME, "name", S}, {MS_MOD_FILE, "file", S}, {MS_MOD_FLAGS, "flags", U},
};
static const ms_colspec cols_py_size_classes[] = {
    {MS_SC_INDEX, "index", U},           {MS_SC_BLOCK_SIZE, "block_size", U},
    {MS_SC_POOLS, "pools", U},           {MS_SC_BLOCKS_USED, "blocks_used", U},
    {MS_SC_BLOCKS_FREE, "blocks_free", U},
};
static const ms_colspec cols_py_arenas[] = {
    {MS_AR_ADDRESS, "address", U},       {MS_AR_POOLS_USED, "pools_used", U},
    {MS_AR_POOLS_FREE, "pools_free", U}, {MS_AR_POOLS_TOTAL, "pools_total", U},
    {MS_AR_LIVE_BYTES, "live_bytes", U},
};
static const ms_colspec cols_py_alloc_totals[] = {
    {MS_AT_ARENAS, "arenas", U},
    {MS_AT_ARENAS_ALLOCATED, "arenas_allocated", U},
    {MS_AT_ARENAS_RECLAIMED, "arenas_reclaimed", U},
    {MS_AT_ARENAS_HIGHWATER, "arenas_highwater", U},
    {MS_AT_ALLOCATED_BYTES, "allocated_bytes", U},
    {MS_AT_AVAILABLE_BYTES, "available_bytes", U},
    {MS_AT_UNUSED_POOL_BYTES, "unused_pool_bytes", U},
    {MS_AT_POOL_HEADER_BYTES, "pool_header_bytes", U},
    {MS_AT_QUANTIZATION_BYTES, "quantization_bytes", U},
    {MS_AT_ALIGNMENT_BYTES, "alignment_bytes", U},
    {MS_AT_ARENA_BYTES, "arena_bytes", U},
};
static const ms_colspec cols_py_gc[] = {
    {MS_GC_GENERATION, "generation", U}, {MS_GC_COUNT, "count", U},
    {MS_GC_THRESHOLD, "threshold", U},   {MS_GC_OBJECTS, "objects", U},
    {MS_GC_COLLECTING, "collecting", U},
};
static const ms_colspec cols_diagnostics[] = {
    {MS_DG_AREA, "area", S}, {MS_DG_STATUS, "status", U}, {MS_DG_MESSAGE, "message", S},
};

#undef U
#undef I
#undef S

#define SEC(t, n, c) {t, n, c, sizeof c / sizeof c[0]}
static const ms_secspec ms_sections[] = {
    {MS_SEC_STRINGS, "strings", NULL, 0},
    SEC(MS_SEC_SNAPSHOT, "snapshot", cols_snapshot),
    SEC(MS_SEC_HOST, "host", cols_host),
    SEC(MS_SEC_PROCESS, "process", cols_process),
    SEC(MS_SEC_PROC_STATUS, "proc_status", cols_kv),
    SEC(MS_SEC_CGROUP, "cgroup", cols_cgroup),
    SEC(MS_SEC_CGROUP_STAT, "cgroup_stat", cols_cgroup_stat),
    SEC(MS_SEC_MAPPINGS, "mappings", cols_mappings),
    SEC(MS_SEC_MAPPING_EXTRA, "mapping_extra", cols_mapping_extra),
    SEC(MS_SEC_ROLLUP, "rollup", cols_kv),
    SEC(MS_SEC_PY_RUNTIME, "py_runtime", cols_py_runtime),
    SEC(MS_SEC_PY_TYPES, "py_types", cols_py_types),
    SEC(MS_SEC_PY_MODULES, "py_modules", cols_py_modules),
    SEC(MS_SEC_PY_SIZE_CLASSES, "py_size_classes", cols_py_size_classes),
    SEC(MS_SEC_PY_ARENAS, "py_arenas", cols_py_arenas),
    SEC(MS_SEC_PY_ALLOC_TOTALS, "py_alloc_totals", cols_py_alloc_totals),
    SEC(MS_SEC_PY_GC, "py_gc", cols_py_gc),
    SEC(MS_SEC_DIAGNOSTICS, "diagnostics", cols_diagnostics),
};
#undef SEC

static const ms_secspec *ms_secspec_find(unsigned type)
{
    if (type >= 1 && type <= MS_SEC_MAX_KNOWN) return &ms_sections[type - 1];
    return NULL;
}

const char *ms_section_name(unsigned type)
{
    const ms_secspec *s = ms_secspec_find(type);
    return s ? s->name : NULL;
}

static const ms_colspec *ms_colspec_find(unsigned type, unsigned col)
{
    const ms_secspec *s = ms_secspec_find(type);
    if (!s) return NULL;
    for (size_t i = 0; i < s->ncols; i++)
        if (s->cols[i].id == col) return &s->cols[i];
    return NULL;
}

int ms_column_info(unsigned type, unsigned col, const char **name, ms_coltype *ctype)
{
    const ms_colspec *c = ms_colspec_find(type, col);
    if (!c) return MS_ERR_USAGE;
    if (name) *name = c->name;
    if (ctype) *ctype = c->type;
    return 0;
}

int ms_schema_single_row(unsigned type)
{
    return type == MS_SEC_SNAPSHOT || type == MS_SEC_HOST || type == MS_SEC_PROCESS ||
           type == MS_SEC_CGROUP || type == MS_SEC_PY_RUNTIME || type == MS_SEC_PY_ALLOC_TOTALS;
}

ms_coltype ms_schema_coltype(unsigned type, unsigned col)
{
    const ms_colspec *c = ms_colspec_find(type, col);
    return c ? c->type : (ms_coltype)0;
}

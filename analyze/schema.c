/*
 * schema.c - the memsnap database schema as data: every table and column
 * with its SQL type, unit, meaning and source in the snapshot; the views
 * and indexes; and the code that creates them and prints their reference.
 *
 * Rules for changing this file (SCHEMA.md "Versioning"): only add. A new
 * column goes at the end of its table, nullable (ALTER TABLE ADD COLUMN
 * brings older databases up to date), with SCHEMA_VERSION incremented;
 * a column's name, type, unit and meaning never change. A view may gain
 * columns at its end. Regenerate SCHEMA.md's reference block afterwards
 * (the analyze_schema_doc test checks it).
 */
#include "schema.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "category.h"
#include "msnap.h"

/* --------------------------------------------------------- column macros */

#define KEY_SNAPSHOT                                                                          \
    {"snapshot_id", "INTEGER", "NOT NULL REFERENCES snapshots(id)", "",                       \
     "the snapshot this row belongs to (snapshots.id)", SRC_SNAPSHOT, 0, 0, 0, 0, NULL}
#define COL(name, type, unit, doc, src, sec, col) {name, type, NULL, unit, doc, src, sec, col, 0, 0, NULL}
#define U(name, unit, doc, sec, col) COL(name, "INTEGER", unit, doc, SRC_U64, sec, col)
#define I(name, unit, doc, sec, col) COL(name, "INTEGER", unit, doc, SRC_I64, sec, col)
#define S(name, doc, sec, col) COL(name, "TEXT", "", doc, SRC_STR, sec, col)
#define KIB(name, doc, sec, col) COL(name, "INTEGER", "bytes", doc, SRC_KIB, sec, col)
#define BIT(name, doc, sec, col, b) {name, "INTEGER", NULL, "0/1", doc, SRC_BIT, sec, col, 0, b, NULL}
#define ROW(name, doc) COL(name, "INTEGER", "", doc, SRC_ROW, 0, 0)
#define FIXED(name, type, doc) COL(name, type, "", doc, SRC_FIXED, 0, 0)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- tables */

static const schema_column cols_meta[] = {
    {"key", "TEXT", "PRIMARY KEY", "", "setting: schema_version, created_by", SRC_FIXED, 0, 0, 0, 0, NULL},
    FIXED("value", "TEXT", "its value; schema_version is the integer version of the schema"),
};

static const schema_column cols_categories[] = {
    {"name", "TEXT", "PRIMARY KEY", "", "category name as stored in mappings.category", SRC_FIXED, 0, 0, 0, 0,
     NULL},
    FIXED("heuristic", "INTEGER", "1 if the rule is (partly) a heuristic"),
    FIXED("rule", "TEXT", "the rule that assigns it, for people"),
};

#define SN MS_SEC_SNAPSHOT
#define HO MS_SEC_HOST
#define PR MS_SEC_PROCESS
static const schema_column cols_snapshots[] = {
    {"id", "INTEGER", "PRIMARY KEY", "", "key of the snapshot in this database; other tables refer to it",
     SRC_ROWID, 0, 0, 0, 0, NULL},
    {"msnap_id", "TEXT", "NOT NULL", "",
     "the snapshot's 16-byte id as 32 hex digits: loading the same snapshot twice adds nothing",
     SRC_MSNAP_ID, SN, MS_SNAP_ID, 0, 0, NULL},
    COL("source_file", "TEXT", "", "the .msnap file it was loaded from, as given to memsnap", SRC_FILE, 0, 0),
    COL("source_offset", "INTEGER", "bytes", "byte offset of its record in that file", SRC_OFFSET, 0, 0),
    COL("compressed_bytes", "INTEGER", "bytes", "size of the record's compressed payload", SRC_COMPRESSED, 0,
        0),
    COL("raw_bytes", "INTEGER", "bytes", "size of the payload once decompressed", SRC_RAW, 0, 0),
    COL("format_version", "TEXT", "", "the file's .msnap format version, \"1.0\"", SRC_FORMAT, 0, 0),
    COL("writer", "TEXT", "", "program that wrote the file (file header)", SRC_WRITER, 0, 0),
    U("seq", "", "sequence number within its capture run, from 0", SN, MS_SNAP_SEQ),
    U("wall_ns", "ns", "capture start, ns since the Unix epoch (UTC)", SN, MS_SNAP_WALL_NS),
    COL("wall_time", "TEXT", "", "capture start as ISO-8601 UTC text, ms precision (2026-01-31T12:00:00.123Z)",
        SRC_ISO_TIME, SN, MS_SNAP_WALL_NS),
    U("mono_ns", "ns", "capture start on CLOCK_MONOTONIC (comparable within one boot_id)", SN,
      MS_SNAP_MONO_NS),
    U("duration_ns", "ns", "how long the capture took", SN, MS_SNAP_DURATION_NS),
    U("pause_ns", "ns", "how long the target was stopped (0: never)", SN, MS_SNAP_PAUSE_NS),
    U("pid", "", "target process id", SN, MS_SNAP_PID),
    S("agent", "capturing agent and version, \"memsnap-capture 0.1.0\"", SN, MS_SNAP_AGENT),
    S("boot_id", "kernel boot id (mono_ns compare only within one boot)", SN, MS_SNAP_BOOT_ID),
    U("flags", "", "snapshot flags as stored (bit 0 best-effort, bit 1 redacted)", SN, MS_SNAP_FLAGS),
    BIT("best_effort", "1 if the target was not paused: figures may be slightly inconsistent", SN,
        MS_SNAP_FLAGS, 0),
    BIT("redacted", "1 if identifying strings were replaced by keyed hashes (--redact)", SN, MS_SNAP_FLAGS, 1),
    S("hostname", "host name (a keyed hash when redacted)", HO, MS_HOST_NAME),
    S("kernel_release", "uname release, \"6.1.0-18-amd64\"", HO, MS_HOST_KERNEL),
    S("kernel_version", "uname version (build string)", HO, MS_HOST_KVERSION),
    S("machine", "uname machine, \"x86_64\"", HO, MS_HOST_MACHINE),
    U("page_size", "bytes", "page size", HO, MS_HOST_PAGE_SIZE),
    U("ncpu", "", "online CPUs", HO, MS_HOST_NCPU),
    KIB("mem_total", "host RAM (MemTotal)", HO, MS_HOST_MEM_TOTAL),
    KIB("mem_available", "host RAM available (MemAvailable)", HO, MS_HOST_MEM_AVAILABLE),
    KIB("swap_total", "host swap (SwapTotal)", HO, MS_HOST_SWAP_TOTAL),
    KIB("swap_free", "host swap free (SwapFree)", HO, MS_HOST_SWAP_FREE),
    S("thp_enabled", "transparent huge pages mode: always, madvise or never", HO, MS_HOST_THP_ENABLED),
    S("thp_defrag", "transparent huge pages defrag mode", HO, MS_HOST_THP_DEFRAG),
    I("overcommit_memory", "", "vm.overcommit_memory: 0 heuristic, 1 always, 2 never", HO, MS_HOST_OVERCOMMIT),
    U("ppid", "", "parent process id", PR, MS_PROC_PPID),
    U("uid", "", "real user id of the target", PR, MS_PROC_UID),
    U("euid", "", "effective user id of the target", PR, MS_PROC_EUID),
    S("comm", "command name (/proc/PID/comm)", PR, MS_PROC_COMM),
    S("exe", "executable path (/proc/PID/exe)", PR, MS_PROC_EXE),
    COL("cmdline", "TEXT", "", "command line, arguments separated by spaces (NUL bytes become spaces)",
        SRC_CMDLINE, PR, MS_PROC_CMDLINE),
    U("threads", "", "number of threads", PR, MS_PROC_THREADS),
    I("oom_score", "", "OOM killer score", PR, MS_PROC_OOM_SCORE),
    I("oom_score_adj", "", "OOM score adjustment", PR, MS_PROC_OOM_SCORE_ADJ),
    S("state", "process state letter, \"S\"", PR, MS_PROC_STATE),
    U("start_ticks", "clock ticks", "process start time after boot", PR, MS_PROC_START_TICKS),
    S("python_version", "CPython version, \"3.12.1\" (NULL: no Python data captured)", MS_SEC_PY_RUNTIME,
      MS_PY_VERSION),
    {"rss", "INTEGER", NULL, "bytes", "resident memory of the process (smaps_rollup Rss)", SRC_ROLLUP,
     MS_SEC_ROLLUP, 0, 0, 0, "Rss"},
    {"pss", "INTEGER", NULL, "bytes", "proportional set size (smaps_rollup Pss)", SRC_ROLLUP, MS_SEC_ROLLUP, 0,
     0, 0, "Pss"},
    {"swap", "INTEGER", NULL, "bytes", "swapped out (smaps_rollup Swap)", SRC_ROLLUP, MS_SEC_ROLLUP, 0, 0, 0,
     "Swap"},
};
#undef SN
#undef HO
#undef PR

#define MP MS_SEC_MAPPINGS
static const schema_column cols_mappings[] = {
    KEY_SNAPSHOT,
    ROW("idx", "position in the snapshot's mapping list (address order), from 0"),
    U("start", "address", "start address (addresses >= 2^63, only [vsyscall], are negative: see Values)", MP,
      MS_MAP_START),
    U("end", "address", "end address, exclusive; end - start is the size in bytes", MP, MS_MAP_END),
    COL("perms", "TEXT", "", "permissions as the kernel prints them: \"r-xp\" (s shared, p private)",
        SRC_PERMS, MP, MS_MAP_PERMS),
    U("offset", "bytes", "offset in the file", MP, MS_MAP_OFFSET),
    {"dev", "TEXT", NULL, "", "device of the file as the kernel prints it, major:minor in hex, \"fe:01\"",
     SRC_DEV, MP, MS_MAP_DEV_MAJOR, MS_MAP_DEV_MINOR, 0, NULL},
    U("inode", "", "inode of the file (0: none)", MP, MS_MAP_INODE),
    S("path", "file path or name ([heap], [stack], [anon:NAME]...), NULL for anonymous memory; \" (deleted)\" removed",
      MP, MS_MAP_PATH),
    U("deleted", "0/1", "1 if the file was deleted (the kernel showed \" (deleted)\")", MP, MS_MAP_DELETED),
    COL("category", "TEXT", "", "what the mapping is, computed at load (see Mapping categories)", SRC_CATEGORY,
        MP, 0),
    COL("module", "TEXT", "", "Python extension module name when category is python_extension and known",
        SRC_MODULE, MP, 0),
    KIB("size", "Size: virtual size", MP, MS_MAP_SIZE),
    KIB("kernel_page_size", "KernelPageSize", MP, MS_MAP_KERNEL_PAGE_SIZE),
    KIB("mmu_page_size", "MMUPageSize", MP, MS_MAP_MMU_PAGE_SIZE),
    KIB("rss", "Rss: resident in RAM", MP, MS_MAP_RSS),
    KIB("pss", "Pss: resident, shared pages divided among the processes that map them", MP, MS_MAP_PSS),
    KIB("pss_dirty", "Pss_Dirty", MP, MS_MAP_PSS_DIRTY),
    KIB("pss_anon", "Pss_Anon", MP, MS_MAP_PSS_ANON),
    KIB("pss_file", "Pss_File", MP, MS_MAP_PSS_FILE),
    KIB("pss_shmem", "Pss_Shmem", MP, MS_MAP_PSS_SHMEM),
    KIB("shared_clean", "Shared_Clean", MP, MS_MAP_SHARED_CLEAN),
    KIB("shared_dirty", "Shared_Dirty", MP, MS_MAP_SHARED_DIRTY),
    KIB("private_clean", "Private_Clean", MP, MS_MAP_PRIVATE_CLEAN),
    KIB("private_dirty", "Private_Dirty", MP, MS_MAP_PRIVATE_DIRTY),
    KIB("referenced", "Referenced: recently accessed", MP, MS_MAP_REFERENCED),
    KIB("anonymous", "Anonymous: not backed by a file", MP, MS_MAP_ANONYMOUS),
    KIB("ksm", "KSM: shared by kernel same-page merging", MP, MS_MAP_KSM),
    KIB("lazyfree", "LazyFree: freed with MADV_FREE, not yet reclaimed", MP, MS_MAP_LAZYFREE),
    KIB("anon_huge_pages", "AnonHugePages: backed by transparent huge pages", MP, MS_MAP_ANON_HUGE),
    KIB("shmem_pmd_mapped", "ShmemPmdMapped", MP, MS_MAP_SHMEM_PMD),
    KIB("file_pmd_mapped", "FilePmdMapped", MP, MS_MAP_FILE_PMD),
    KIB("shared_hugetlb", "Shared_Hugetlb", MP, MS_MAP_SHARED_HUGETLB),
    KIB("private_hugetlb", "Private_Hugetlb", MP, MS_MAP_PRIVATE_HUGETLB),
    KIB("swap", "Swap: swapped out", MP, MS_MAP_SWAP),
    KIB("swap_pss", "SwapPss: swapped out, shared pages divided", MP, MS_MAP_SWAP_PSS),
    KIB("locked", "Locked: locked in RAM", MP, MS_MAP_LOCKED),
    U("thp_eligible", "0/1", "THPeligible: 1 if transparent huge pages may back it", MP, MS_MAP_THP_ELIGIBLE),
    U("protection_key", "", "ProtectionKey (memory protection key)", MP, MS_MAP_PROTECTION_KEY),
    S("vmflags", "VmFlags as printed, \"rd wr mr mw me ac\"", MP, MS_MAP_VMFLAGS),
};
#undef MP

#define MX MS_SEC_MAPPING_EXTRA
static const schema_column cols_mapping_extra[] = {
    KEY_SNAPSHOT,
    U("mapping_idx", "", "the mapping (mappings.idx of the same snapshot)", MX, MS_MX_MAPPING),
    S("name", "smaps field name as printed", MX, MS_MX_NAME),
    U("value", "", "numeric value in `unit` (0 when not numeric)", MX, MS_MX_VALUE),
    S("unit", "unit as printed (\"kB\"), NULL when none", MX, MS_MX_UNIT),
    {"value_bytes", "INTEGER", NULL, "bytes", "value * 1024 when unit is kB, else NULL", SRC_KV_BYTES, MX,
     MS_MX_VALUE, MS_MX_UNIT, 0, NULL},
    S("text", "the value as printed, when not a plain number", MX, MS_MX_TEXT),
};
#undef MX

/* process_status and rollup share the name/value layout. */
#define KV_COLS(sec, what)                                                                        \
    KEY_SNAPSHOT, S("name", "field name as the kernel prints it, \"" what "\"", sec, MS_KV_NAME), \
        U("value", "", "value in `unit`, as printed", sec, MS_KV_VALUE),                          \
        S("unit", "unit as printed (\"kB\"), NULL when none", sec, MS_KV_UNIT),                   \
    {                                                                                             \
        "value_bytes", "INTEGER", NULL, "bytes", "value * 1024 when unit is kB, else NULL",       \
            SRC_KV_BYTES, sec, MS_KV_VALUE, MS_KV_UNIT, 0, NULL                                   \
    }
static const schema_column cols_process_status[] = {KV_COLS(MS_SEC_PROC_STATUS, "VmRSS")};
static const schema_column cols_rollup[] = {KV_COLS(MS_SEC_ROLLUP, "Pss_Anon")};

#define CG MS_SEC_CGROUP
#define LIMIT(name, doc, c) COL(name, "INTEGER", "bytes", doc, SRC_LIMIT, CG, c)
static const schema_column cols_cgroups[] = {
    KEY_SNAPSHOT,
    U("version", "", "cgroup version: 1 or 2", CG, MS_CG_VERSION),
    S("path", "cgroup path inside the hierarchy (a keyed hash when redacted)", CG, MS_CG_PATH),
    LIMIT("current", "memory in use (memory.current, memory.usage_in_bytes)", MS_CG_CURRENT),
    LIMIT("max", "hard limit (memory.max, limit_in_bytes); NULL: unlimited or not reported", MS_CG_MAX),
    LIMIT("high", "throttling limit (memory.high); NULL: unlimited or not reported", MS_CG_HIGH),
    LIMIT("swap_current", "swap in use (memory.swap.current)", MS_CG_SWAP_CURRENT),
    LIMIT("swap_max", "swap limit (memory.swap.max); NULL: unlimited or not reported", MS_CG_SWAP_MAX),
    LIMIT("peak", "highest usage seen (memory.peak, max_usage_in_bytes)", MS_CG_PEAK),
};
#undef LIMIT
#undef CG

static const schema_column cols_cgroup_stats[] = {
    KEY_SNAPSHOT,
    S("file", "source file, \"memory.stat\", \"memory.events\"", MS_SEC_CGROUP_STAT, MS_CGS_FILE),
    S("name", "key in that file, \"anon\", \"oom_kill\"", MS_SEC_CGROUP_STAT, MS_CGS_NAME),
    U("value", "as printed", "value as printed: bytes for sizes, a count for events", MS_SEC_CGROUP_STAT,
      MS_CGS_VALUE),
};

#define RT MS_SEC_PY_RUNTIME
static const schema_column cols_py_runtime[] = {
    KEY_SNAPSHOT,
    S("version", "CPython version, \"3.12.1\"", RT, MS_PY_VERSION),
    U("hexversion", "", "PY_VERSION_HEX (sys.hexversion)", RT, MS_PY_HEXVERSION),
    U("flags", "", "build flags as stored (bits below)", RT, MS_PY_FLAGS),
    BIT("shared_libpython", "1 if the interpreter is in a shared libpython", RT, MS_PY_FLAGS, 0),
    BIT("debug", "1 for a debug build", RT, MS_PY_FLAGS, 1),
    BIT("free_threaded", "1 for a free-threaded (no-GIL) build", RT, MS_PY_FLAGS, 2),
    BIT("pie", "1 if the executable is position-independent", RT, MS_PY_FLAGS, 3),
    BIT("stripped", "1 if the binary has no symbol table", RT, MS_PY_FLAGS, 4),
    S("binary", "path of the python executable", RT, MS_PY_BINARY),
    S("libpython", "path of libpython, NULL when linked statically", RT, MS_PY_LIBPYTHON),
    S("allocator", "object allocator: pymalloc, malloc, pymalloc_debug, mimalloc", RT, MS_PY_ALLOCATOR),
    U("arena_size", "bytes", "pymalloc arena size", RT, MS_PY_ARENA_SIZE),
    U("pool_size", "bytes", "pymalloc pool size", RT, MS_PY_POOL_SIZE),
};
#undef RT

#define TY MS_SEC_PY_TYPES
static const schema_column cols_py_types[] = {
    KEY_SNAPSHOT,
    S("name", "type name (tp_name), \"dict\"", TY, MS_TY_NAME),
    {"qualname", "TEXT", NULL, "", "module.qualname of heap types, NULL when unknown", SRC_QUALIFIED, TY,
     MS_TY_MODULE, MS_TY_QUALNAME, 0, NULL},
    U("count", "objects", "live objects of this type", TY, MS_TY_COUNT),
    U("sizeof_bytes", "bytes", "sum of sys.getsizeof over those objects", TY, MS_TY_SIZEOF),
    U("allocated_bytes", "bytes", "sum of the allocator block sizes they use (0: unknown)", TY, MS_TY_ALLOCATED),
    U("flags", "", "flags as stored (bits below)", TY, MS_TY_FLAGS),
    BIT("gc_tracked", "1 if the type's objects are tracked by the garbage collector", TY, MS_TY_FLAGS, 0),
    BIT("approximate", "1 if the sizes are approximate", TY, MS_TY_FLAGS, 1),
    BIT("count_incomplete", "1 if not every object could be counted", TY, MS_TY_FLAGS, 2),
    S("module", "__module__ of a heap type, \"app.models\"; NULL for static types and when unknown", TY,
      MS_TY_MODULE),
};
#undef TY

static const schema_column cols_py_modules[] = {
    KEY_SNAPSHOT,
    S("name", "key in sys.modules, \"json.decoder\"", MS_SEC_PY_MODULES, MS_MOD_NAME),
    S("file", "the module's __file__, NULL for builtin and namespace modules", MS_SEC_PY_MODULES, MS_MOD_FILE),
    U("flags", "", "flags as stored (bit 0 extension module)", MS_SEC_PY_MODULES, MS_MOD_FLAGS),
    BIT("extension", "1 for an extension module (a shared library)", MS_SEC_PY_MODULES, MS_MOD_FLAGS, 0),
};

#define SC MS_SEC_PY_SIZE_CLASSES
static const schema_column cols_py_size_classes[] = {
    KEY_SNAPSHOT,
    U("size_class", "", "pymalloc size class index", SC, MS_SC_INDEX),
    U("block_size", "bytes", "block size of the class", SC, MS_SC_BLOCK_SIZE),
    U("pools", "pools", "pools in use for this class", SC, MS_SC_POOLS),
    U("blocks_used", "blocks", "blocks handed out", SC, MS_SC_BLOCKS_USED),
    U("blocks_free", "blocks", "blocks available in those pools", SC, MS_SC_BLOCKS_FREE),
};
#undef SC

#define AR MS_SEC_PY_ARENAS
static const schema_column cols_py_arenas[] = {
    KEY_SNAPSHOT,
    U("address", "address", "arena base address", AR, MS_AR_ADDRESS),
    U("pools_used", "pools", "pools holding blocks", AR, MS_AR_POOLS_USED),
    U("pools_free", "pools", "empty pools", AR, MS_AR_POOLS_FREE),
    U("pools_total", "pools", "pools in the arena", AR, MS_AR_POOLS_TOTAL),
    U("live_bytes", "bytes", "bytes in blocks handed out", AR, MS_AR_LIVE_BYTES),
};
#undef AR

#define AT MS_SEC_PY_ALLOC_TOTALS
static const schema_column cols_py_alloc_totals[] = {
    KEY_SNAPSHOT,
    U("arenas", "arenas", "arenas currently allocated", AT, MS_AT_ARENAS),
    U("arenas_allocated", "arenas", "arenas ever allocated", AT, MS_AT_ARENAS_ALLOCATED),
    U("arenas_reclaimed", "arenas", "arenas returned to the OS", AT, MS_AT_ARENAS_RECLAIMED),
    U("arenas_highwater", "arenas", "most arenas at once", AT, MS_AT_ARENAS_HIGHWATER),
    U("allocated_bytes", "bytes", "bytes in allocated blocks", AT, MS_AT_ALLOCATED_BYTES),
    U("available_bytes", "bytes", "bytes in free blocks", AT, MS_AT_AVAILABLE_BYTES),
    U("unused_pool_bytes", "bytes", "bytes in unused pools", AT, MS_AT_UNUSED_POOL_BYTES),
    U("pool_header_bytes", "bytes", "bytes of pool headers", AT, MS_AT_POOL_HEADER_BYTES),
    U("quantization_bytes", "bytes", "bytes lost to rounding up to size classes", AT, MS_AT_QUANTIZATION_BYTES),
    U("alignment_bytes", "bytes", "bytes lost to arena alignment", AT, MS_AT_ALIGNMENT_BYTES),
    U("arena_bytes", "bytes", "arenas * arena size", AT, MS_AT_ARENA_BYTES),
};
#undef AT

#define GC MS_SEC_PY_GC
static const schema_column cols_py_gc[] = {
    KEY_SNAPSHOT,
    U("generation", "", "0, 1, 2; 3 = permanent generation", GC, MS_GC_GENERATION),
    U("count", "", "objects (generation 0) or collections (older), as CPython counts", GC, MS_GC_COUNT),
    U("threshold", "", "collection threshold", GC, MS_GC_THRESHOLD),
    U("objects", "objects", "objects found on the generation's list", GC, MS_GC_OBJECTS),
    U("collecting", "0/1", "1 if a collection was running", GC, MS_GC_COLLECTING),
};
#undef GC

static const schema_column cols_diagnostics[] = {
    KEY_SNAPSHOT,
    S("area", "what it is about, \"cgroup\", \"python.pymalloc\"", MS_SEC_DIAGNOSTICS, MS_DG_AREA),
    U("status", "", "0 complete, 1 approximate, 2 unavailable, 3 best-effort, 4 info", MS_SEC_DIAGNOSTICS,
      MS_DG_STATUS),
    COL("status_text", "TEXT", "", "status as a word: complete, approximate, unavailable, best-effort, info",
        SRC_DIAG_STATUS, MS_SEC_DIAGNOSTICS, MS_DG_STATUS),
    S("message", "one line for people", MS_SEC_DIAGNOSTICS, MS_DG_MESSAGE),
};

#define TABLE(name, doc, sec, cols, cons) {name, doc, sec, cols, COUNT(cols), cons}
const schema_table schema_tables[] = {
    TABLE("meta", "Facts about the database itself: one row per key.", SCHEMA_FIXED_SEC, cols_meta, NULL),
    TABLE("categories", "The mapping categories and their rules (the same text as below).", SCHEMA_FIXED_SEC,
          cols_categories, NULL),
    TABLE("snapshots",
          "One row per snapshot: when, which process on which host, the capture, and the process totals. "
          "Built from the snapshot, host, process, py_runtime and rollup sections.",
          0, cols_snapshots, "UNIQUE(msnap_id)"),
    TABLE("mappings", "One row per memory mapping (/proc/PID/smaps entry), every smaps figure in bytes.",
          MS_SEC_MAPPINGS, cols_mappings, NULL),
    TABLE("mapping_extra", "smaps fields the capture agent did not know, by name.", MS_SEC_MAPPING_EXTRA,
          cols_mapping_extra, NULL),
    TABLE("process_status", "The numeric lines of /proc/PID/status, by name.", MS_SEC_PROC_STATUS,
          cols_process_status, NULL),
    TABLE("rollup", "/proc/PID/smaps_rollup: the process's smaps totals, by name.", MS_SEC_ROLLUP,
          cols_rollup, NULL),
    TABLE("cgroups", "The process's memory cgroup: usage and limits.", MS_SEC_CGROUP, cols_cgroups, NULL),
    TABLE("cgroup_stats", "Counters of the cgroup's memory.stat and memory.events, by name.",
          MS_SEC_CGROUP_STAT, cols_cgroup_stats, NULL),
    TABLE("py_runtime", "The Python interpreter: version, build, allocator.", MS_SEC_PY_RUNTIME,
          cols_py_runtime, NULL),
    TABLE("py_types", "Object-type histogram: one row per type with live objects.", MS_SEC_PY_TYPES,
          cols_py_types, NULL),
    TABLE("py_modules", "Loaded modules (sys.modules).", MS_SEC_PY_MODULES, cols_py_modules, NULL),
    TABLE("py_size_classes", "pymalloc, per size class.", MS_SEC_PY_SIZE_CLASSES, cols_py_size_classes, NULL),
    TABLE("py_arenas", "pymalloc, per arena.", MS_SEC_PY_ARENAS, cols_py_arenas, NULL),
    TABLE("py_alloc_totals", "pymalloc totals (sys._debugmallocstats).", MS_SEC_PY_ALLOC_TOTALS,
          cols_py_alloc_totals, NULL),
    TABLE("py_gc", "Garbage collector generations.", MS_SEC_PY_GC, cols_py_gc, NULL),
    TABLE("diagnostics",
          "What the capture could not read, or read only approximately, and why (and timing notes).",
          MS_SEC_DIAGNOSTICS, cols_diagnostics, NULL),
};
const size_t schema_ntables = COUNT(schema_tables);

/* ----------------------------------------------------------------- views */

static const schema_view_column vcols_category_totals[] = {
    {"snapshot_id", "", "the snapshot"},
    {"category", "", "mapping category"},
    {"mappings", "", "number of mappings"},
    {"size", "bytes", "virtual size"},
    {"rss", "bytes", "resident"},
    {"pss", "bytes", "proportional share of resident"},
    {"private", "bytes", "private_clean + private_dirty"},
    {"shared", "bytes", "shared_clean + shared_dirty"},
    {"anonymous", "bytes", "anonymous pages"},
    {"swap", "bytes", "swapped out"},
};

static const schema_view_column vcols_library_totals[] = {
    {"snapshot_id", "", "the snapshot"},
    {"path", "", "library file"},
    {"category", "", "interpreter, python_extension or shared_library"},
    {"module", "", "extension module name, when known"},
    {"mappings", "", "number of mappings of the file"},
    {"size", "bytes", "virtual size"},
    {"rss", "bytes", "resident"},
    {"pss", "bytes", "proportional share of resident"},
    {"private", "bytes", "private_clean + private_dirty (relocations, data)"},
    {"swap", "bytes", "swapped out"},
};

static const schema_view_column vcols_top_types[] = {
    {"snapshot_id", "", "the snapshot"},
    {"rank", "", "1 = most bytes in that snapshot (ties share a rank)"},
    {"name", "", "type name"},
    {"qualname", "", "module.qualname, when known"},
    {"count", "objects", "live objects"},
    {"bytes", "bytes", "allocated_bytes when known, else sizeof_bytes"},
    {"percent", "%", "share of the snapshot's total type bytes"},
    {"allocated_bytes", "bytes", "allocator block sizes"},
    {"sizeof_bytes", "bytes", "sys.getsizeof sum"},
    {"approximate", "0/1", "1 if sizes are approximate"},
    {"module", "", "__module__ of a heap type, when known"},
};

static const schema_view_column vcols_snapshot_summary[] = {
    {"snapshot_id", "", "the snapshot"},
    {"wall_time", "", "capture start, ISO-8601 UTC"},
    {"hostname", "", "host"},
    {"pid", "", "process id"},
    {"comm", "", "command name"},
    {"python_version", "", "CPython version, when captured"},
    {"rss", "bytes", "process resident memory (smaps_rollup)"},
    {"pss", "bytes", "process proportional set size (smaps_rollup)"},
    {"swap", "bytes", "process swap (smaps_rollup)"},
    {"mappings", "", "number of mappings"},
    {"size", "bytes", "total virtual size"},
    {"python_heap_rss", "bytes", "resident in python_heap mappings (NULL: no mappings captured)"},
    {"c_heap_rss", "bytes", "resident in c_heap mappings"},
    {"stack_rss", "bytes", "resident in stack mappings"},
    {"interpreter_rss", "bytes", "resident in interpreter mappings"},
    {"python_extension_rss", "bytes", "resident in python_extension mappings"},
    {"shared_library_rss", "bytes", "resident in shared_library mappings"},
    {"file_rss", "bytes", "resident in file mappings"},
    {"shmem_rss", "bytes", "resident in shmem mappings"},
    {"anonymous_rss", "bytes", "resident in anonymous mappings"},
    {"kernel_rss", "bytes", "resident in kernel mappings"},
    {"types", "", "rows of py_types (0: no Python data)"},
    {"objects", "objects", "live Python objects counted"},
    {"type_bytes", "bytes", "their bytes (allocated_bytes when known, else sizeof_bytes)"},
    {"warnings", "", "diagnostics with status approximate, unavailable or best-effort"},
};

static const schema_view_column vcols_memory_parts[] = {
    {"snapshot_id", "", "the snapshot"},
    {"ord", "", "order of the part: ord / 10 numbers its group (1 python_heap ... 9 unexplained)"},
    {"grp", "", "group: python_heap, c_heap, interpreter, python_extension, shared_library, file, stack, "
                "shmem, kernel, unexplained"},
    {"part", "", "what the part is; the file (or extension module name) for library groups"},
    {"rss", "bytes", "resident bytes of the part (can be negative only for 'arena pages not resident')"},
    {"pss", "bytes", "proportional share, when the part is whole mappings (else NULL)"},
    {"private", "bytes", "private_clean + private_dirty (USS share), when whole mappings"},
    {"shared", "bytes", "shared_clean + shared_dirty, when whole mappings"},
    {"swap", "bytes", "swapped out, when whole mappings"},
    {"estimated", "0/1", "1 if the figure is an estimate (see SCHEMA.md, RSS accounting)"},
    {"counted", "0/1", "1 if the part is one of those that add up to RSS; 0 for an 'of which' detail"},
};

static const schema_view_column vcols_arena_usage[] = {
    {"snapshot_id", "", "the snapshot"},
    {"address", "address", "arena base address"},
    {"pools_used", "pools", "pools holding blocks"},
    {"pools_free", "pools", "empty pools"},
    {"pools_total", "pools", "pools in the arena"},
    {"live_bytes", "bytes", "bytes in blocks handed out"},
    {"arena_bytes", "bytes", "arena size (py_runtime.arena_size)"},
    {"used_pct", "%", "100 * live_bytes / arena_bytes"},
    {"decile", "", "utilisation bucket 0..9 (0: under 10% used, 9: 90% or more)"},
    {"pinned", "0/1", "1 if under 25% used: a few live blocks keep the whole arena from returning to the OS"},
};

#define CATSUM(c)                                                                                  \
    "(SELECT sum(CASE category WHEN '" c "' THEN rss ELSE 0 END) FROM mappings m\n"                  \
    "         WHERE m.snapshot_id = s.id) AS " c "_rss"
const schema_view schema_views[] = {
    {"category_totals", "Memory per mapping category per snapshot.",
     "SELECT snapshot_id, category, count(*) AS mappings, sum(size) AS size, sum(rss) AS rss,\n"
     "       sum(pss) AS pss, sum(private_clean) + sum(private_dirty) AS private,\n"
     "       sum(shared_clean) + sum(shared_dirty) AS shared, sum(anonymous) AS anonymous,\n"
     "       sum(swap) AS swap\n"
     "  FROM mappings GROUP BY snapshot_id, category",
     vcols_category_totals, COUNT(vcols_category_totals)},
    {"library_totals", "Memory per shared library (and interpreter, extension module) per snapshot.",
     "SELECT snapshot_id, path, category, module, count(*) AS mappings, sum(size) AS size,\n"
     "       sum(rss) AS rss, sum(pss) AS pss, sum(private_clean) + sum(private_dirty) AS private,\n"
     "       sum(swap) AS swap\n"
     "  FROM mappings\n"
     " WHERE category IN ('interpreter', 'python_extension', 'shared_library')\n"
     " GROUP BY snapshot_id, path, category, module",
     vcols_library_totals, COUNT(vcols_library_totals)},
    {"top_types", "Python object types ranked by bytes within each snapshot (filter on rank).",
     "SELECT snapshot_id, rank() OVER (PARTITION BY snapshot_id ORDER BY bytes DESC) AS rank,\n"
     "       name, qualname, count, bytes,\n"
     "       round(100.0 * bytes / sum(bytes) OVER (PARTITION BY snapshot_id), 2) AS percent,\n"
     "       allocated_bytes, sizeof_bytes, approximate, module\n"
     "  FROM (SELECT *, coalesce(nullif(allocated_bytes, 0), sizeof_bytes) AS bytes FROM py_types)",
     vcols_top_types, COUNT(vcols_top_types)},
    {"snapshot_summary", "One line per snapshot: process totals, resident memory per category, Python objects.",
     /* correlated subqueries, each an index search on snapshot_id: a
      * lookup of one snapshot costs one snapshot's rows, not the table */
     "SELECT s.id AS snapshot_id, s.wall_time, s.hostname, s.pid, s.comm, s.python_version,\n"
     "       s.rss, s.pss, s.swap,\n"
     "       (SELECT count(*) FROM mappings m WHERE m.snapshot_id = s.id) AS mappings,\n"
     "       (SELECT sum(size) FROM mappings m WHERE m.snapshot_id = s.id) AS size,\n"
     "       " CATSUM("python_heap") ",\n"
     "       " CATSUM("c_heap") ",\n"
     "       " CATSUM("stack") ",\n"
     "       " CATSUM("interpreter") ",\n"
     "       " CATSUM("python_extension") ",\n"
     "       " CATSUM("shared_library") ",\n"
     "       " CATSUM("file") ",\n"
     "       " CATSUM("shmem") ",\n"
     "       " CATSUM("anonymous") ",\n"
     "       " CATSUM("kernel") ",\n"
     "       (SELECT count(*) FROM py_types t WHERE t.snapshot_id = s.id) AS types,\n"
     "       (SELECT sum(count) FROM py_types t WHERE t.snapshot_id = s.id) AS objects,\n"
     "       (SELECT sum(coalesce(nullif(allocated_bytes, 0), sizeof_bytes)) FROM py_types t\n"
     "         WHERE t.snapshot_id = s.id) AS type_bytes,\n"
     "       (SELECT count(*) FROM diagnostics d WHERE d.snapshot_id = s.id AND d.status IN (1, 2, 3))\n"
     "         AS warnings\n"
     "  FROM snapshots s",
     vcols_snapshot_summary, COUNT(vcols_snapshot_summary)},
    {"memory_parts",
     "RSS accounting: the parts that add up to each snapshot's RSS (rows with counted = 1 sum to "
     "snapshots.rss exactly), with 'of which' estimates. memsnap report shows it.",
     "WITH raw AS NOT MATERIALIZED (\n"
     "  SELECT s.id AS snapshot_id, s.rss AS total_rss,\n"
     "         (SELECT coalesce(sum(rss), 0) FROM mappings m WHERE m.snapshot_id = s.id) AS mapped_rss,\n"
     "         (SELECT coalesce(sum(rss), 0) FROM mappings m WHERE m.snapshot_id = s.id\n"
     "           AND m.category = 'python_heap') AS heap_rss,\n"
     "         (SELECT coalesce(sum(rss), 0) FROM mappings m WHERE m.snapshot_id = s.id\n"
     "           AND m.category IN ('c_heap', 'anonymous')) AS other_anon_rss,\n"
     "         coalesce(a.arena_bytes, 0) AS arena_bytes,\n"
     "         a.allocated_bytes, a.available_bytes, a.unused_pool_bytes, a.pool_header_bytes,\n"
     "         a.quantization_bytes + a.alignment_bytes AS rounding_bytes,\n"
     "         coalesce(a.allocated_bytes, (SELECT sum(z.blocks_used * z.block_size) FROM py_size_classes z\n"
     "           WHERE z.snapshot_id = s.id)) AS block_bytes,\n"
     "         (SELECT sum(z.pools) * r.pool_size FROM py_size_classes z JOIN py_runtime r USING (snapshot_id)\n"
     "           WHERE z.snapshot_id = s.id) AS pool_bytes,\n"
     "         (SELECT sum(coalesce(nullif(t.allocated_bytes, 0), t.sizeof_bytes)) FROM py_types t\n"
     "           WHERE t.snapshot_id = s.id) AS object_bytes\n"
     "    FROM snapshots s LEFT JOIN py_alloc_totals a ON a.snapshot_id = s.id),\n"
     "tot AS NOT MATERIALIZED (\n"
     "  SELECT *, min(arena_bytes, heap_rss) AS arena_rss,\n"
     "         other_anon_rss + heap_rss - min(arena_bytes, heap_rss) AS cheap_rss\n"
     "    FROM raw),\n"
     "est AS NOT MATERIALIZED (\n"
     "  SELECT snapshot_id, object_bytes, arena_bytes, cheap_rss, pools_est,\n"
     "         min(max(object_bytes - coalesce(block_bytes, 0), 0), cheap_rss - pools_est) AS outside_est\n"
     "    FROM (SELECT *, CASE WHEN arena_bytes = 0 THEN min(coalesce(pool_bytes, 0), cheap_rss) ELSE 0 END\n"
     "                      AS pools_est FROM tot)),\n"
     "parts(snapshot_id, ord, grp, part, rss, pss, private, shared, swap, estimated, counted) AS (\n"
     "  SELECT snapshot_id, 11, 'python_heap', 'blocks in use (small objects and buffers)', allocated_bytes,\n"
     "         NULL, NULL, NULL, NULL, 0, 1 FROM tot WHERE arena_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 12, 'python_heap', 'free blocks in used pools', available_bytes,\n"
     "         NULL, NULL, NULL, NULL, 0, 1 FROM tot WHERE arena_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 13, 'python_heap', 'empty pools in live arenas', unused_pool_bytes,\n"
     "         NULL, NULL, NULL, NULL, 0, 1 FROM tot WHERE arena_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 14, 'python_heap', 'pool headers', pool_header_bytes,\n"
     "         NULL, NULL, NULL, NULL, 0, 1 FROM tot WHERE arena_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 15, 'python_heap', 'quantization and arena alignment', rounding_bytes,\n"
     "         NULL, NULL, NULL, NULL, 0, 1 FROM tot WHERE arena_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 17, 'python_heap', 'blocks in use: of which live Python objects (estimate)',\n"
     "         min(object_bytes, allocated_bytes), NULL, NULL, NULL, NULL, 1, 0 FROM tot WHERE arena_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 16, 'python_heap', 'arena pages not resident',\n"
     "         arena_rss - (allocated_bytes + available_bytes + unused_pool_bytes + pool_header_bytes\n"
     "                      + rounding_bytes), NULL, NULL, NULL, NULL, 1, 1\n"
     "    FROM tot WHERE arena_bytes > 0 AND arena_rss <> allocated_bytes + available_bytes + unused_pool_bytes\n"
     "                                                 + pool_header_bytes + rounding_bytes\n"
     "  UNION ALL SELECT snapshot_id, 21, 'c_heap', '[heap] and malloc arenas', sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'c_heap' GROUP BY snapshot_id\n"
     "  UNION ALL SELECT snapshot_id, 22, 'c_heap', 'anonymous memory in the arenas'' mappings', heap_rss - arena_rss,\n"
     "         NULL, NULL, NULL, NULL, arena_bytes > 0, 1 FROM tot WHERE heap_rss > arena_rss\n"
     "  UNION ALL SELECT snapshot_id, 23, 'c_heap', 'other anonymous memory (large malloc blocks, .bss)', sum(rss),\n"
     "         sum(pss), sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'anonymous' GROUP BY snapshot_id\n"
     "  UNION ALL SELECT snapshot_id, 24, 'c_heap', 'of which Python objects outside pymalloc (estimate)',\n"
     "         outside_est, NULL, NULL, NULL, NULL, 1, 0 FROM est WHERE object_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 25, 'c_heap', 'of which pymalloc pools (arenas unknown: from the size classes)',\n"
     "         pools_est, NULL, NULL, NULL, NULL, 1, 0 FROM est WHERE pools_est > 0\n"
     "  UNION ALL SELECT snapshot_id, 26, 'c_heap', 'of which other C memory (estimate)',\n"
     "         cheap_rss - pools_est - outside_est, NULL, NULL, NULL, NULL, 1, 0 FROM est WHERE object_bytes > 0\n"
     "  UNION ALL SELECT snapshot_id, 31, 'interpreter', coalesce(module, path), sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'interpreter' GROUP BY snapshot_id, path, module\n"
     "  UNION ALL SELECT snapshot_id, 41, 'python_extension', coalesce(module, path), sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'python_extension' GROUP BY snapshot_id, path, module\n"
     "  UNION ALL SELECT snapshot_id, 51, 'shared_library', coalesce(module, path), sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'shared_library' GROUP BY snapshot_id, path, module\n"
     "  UNION ALL SELECT snapshot_id, 61, 'file', 'other mapped files', sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'file' GROUP BY snapshot_id\n"
     "  UNION ALL SELECT snapshot_id, 71, 'stack', 'thread stacks', sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'stack' GROUP BY snapshot_id\n"
     "  UNION ALL SELECT snapshot_id, 81, 'shmem', 'shared memory', sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'shmem' GROUP BY snapshot_id\n"
     "  UNION ALL SELECT snapshot_id, 85, 'kernel', 'kernel pages ([vdso], [vvar])', sum(rss), sum(pss),\n"
     "         sum(private_clean + private_dirty), sum(shared_clean + shared_dirty), sum(swap), 0, 1\n"
     "    FROM mappings WHERE category = 'kernel' GROUP BY snapshot_id\n"
     "  UNION ALL SELECT snapshot_id, 91, 'unexplained', 'RSS minus the sum of the mappings', total_rss - mapped_rss,\n"
     "         NULL, NULL, NULL, NULL, 0, 1 FROM tot WHERE total_rss IS NOT NULL)\n"
     "SELECT * FROM parts",
     vcols_memory_parts, COUNT(vcols_memory_parts)},
    {"arena_usage", "pymalloc arenas with their utilisation (memsnap frag).",
     "SELECT a.snapshot_id, a.address, a.pools_used, a.pools_free, a.pools_total, a.live_bytes,\n"
     "       r.arena_size AS arena_bytes, round(100.0 * a.live_bytes / r.arena_size, 2) AS used_pct,\n"
     "       min(9, CAST(10 * a.live_bytes / r.arena_size AS INTEGER)) AS decile,\n"
     "       a.live_bytes < r.arena_size / 4 AS pinned\n"
     "  FROM py_arenas a JOIN py_runtime r USING (snapshot_id)\n"
     " WHERE r.arena_size > 0",
     vcols_arena_usage, COUNT(vcols_arena_usage)},
};
#undef CATSUM
const size_t schema_nviews = COUNT(schema_views);

/* --------------------------------------------------------------- indexes */

/* The child tables' indexes lead with snapshot_id, which only grows while
 * a file loads: entries added row by row land at the right edge of the
 * b-tree (into an empty database the loader builds them after the load
 * instead). The snapshots index is small: one entry per snapshot. */
const schema_index schema_indexes[] = {
    {"snapshots_by_process", "snapshots", "hostname, pid, wall_ns",
     "series of one process: WHERE hostname = ? AND pid = ? ORDER BY wall_ns"},
    {"mappings_by_snapshot", "mappings", "snapshot_id", "joins and filters on the snapshot"},
    {"mapping_extra_by_mapping", "mapping_extra", "snapshot_id, mapping_idx", "join to mappings"},
    {"process_status_by_snapshot", "process_status", "snapshot_id, name", "one field of one snapshot"},
    {"rollup_by_snapshot", "rollup", "snapshot_id, name", "one field of one snapshot"},
    {"cgroups_by_snapshot", "cgroups", "snapshot_id", "join on the snapshot"},
    {"cgroup_stats_by_snapshot", "cgroup_stats", "snapshot_id, name", "one counter of one snapshot"},
    {"py_runtime_by_snapshot", "py_runtime", "snapshot_id", "join on the snapshot"},
    {"py_types_by_snapshot", "py_types", "snapshot_id",
     "the types of one snapshot (comparing two snapshots joins a few hundred rows on name: SQLite "
     "indexes those on the fly; a (snapshot_id, name) index cost a tenth of the load time)"},
    {"py_modules_by_snapshot", "py_modules", "snapshot_id", "join on the snapshot"},
    {"py_size_classes_by_snapshot", "py_size_classes", "snapshot_id", "join on the snapshot"},
    {"py_arenas_by_snapshot", "py_arenas", "snapshot_id", "join on the snapshot"},
    {"py_alloc_totals_by_snapshot", "py_alloc_totals", "snapshot_id", "join on the snapshot"},
    {"py_gc_by_snapshot", "py_gc", "snapshot_id", "join on the snapshot"},
    {"diagnostics_by_snapshot", "diagnostics", "snapshot_id", "join on the snapshot"},
};
const size_t schema_nindexes = COUNT(schema_indexes);

/* ------------------------------------------------------------ statements */

typedef struct {
    char *p;
    size_t len, cap;
    int failed;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(strbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static char *sb_take(strbuf *b)
{
    if (b->failed) {
        free(b->p);
        return NULL;
    }
    return b->p;
}

const schema_table *schema_table_find(const char *name)
{
    for (size_t i = 0; i < schema_ntables; i++)
        if (!strcmp(schema_tables[i].name, name)) return &schema_tables[i];
    return NULL;
}

char *schema_create_table_sql(const schema_table *t)
{
    strbuf b = {0};
    sb_add(&b, "CREATE TABLE IF NOT EXISTS %s (\n", t->name);
    for (size_t i = 0; i < t->ncols; i++) {
        const schema_column *c = &t->cols[i];
        sb_add(&b, "  %s %s%s%s%s\n", c->name, c->type, c->constraint ? " " : "",
               c->constraint ? c->constraint : "", i + 1 < t->ncols || t->table_constraint ? "," : "");
    }
    if (t->table_constraint) sb_add(&b, "  %s\n", t->table_constraint);
    sb_add(&b, ")");
    return sb_take(&b);
}

char *schema_insert_sql(const schema_table *t)
{
    return schema_insert_sql_rows(t, 1);
}

char *schema_insert_sql_rows(const schema_table *t, size_t nrows)
{
    strbuf b = {0};
    sb_add(&b, "INSERT INTO %s VALUES", t->name);
    for (size_t r = 0; r < nrows; r++) {
        sb_add(&b, "%s(", r ? "," : "");
        for (size_t i = 0; i < t->ncols; i++) sb_add(&b, "%s?%zu", i ? "," : "", r * t->ncols + i + 1);
        sb_add(&b, ")");
    }
    return sb_take(&b);
}

static char *view_sql(const schema_view *v)
{
    strbuf b = {0};
    sb_add(&b, "CREATE VIEW IF NOT EXISTS %s AS\n%s", v->name, v->select);
    return sb_take(&b);
}

static char *index_sql(const schema_index *x)
{
    strbuf b = {0};
    sb_add(&b, "CREATE INDEX IF NOT EXISTS %s ON %s(%s)", x->name, x->table, x->columns);
    return sb_take(&b);
}

/* ---------------------------------------------------------------- create */

static int exec_fmt(sqlite3 *db, char *err, size_t errlen, const char *what, char *sql)
{
    if (!sql) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    free(sql);
    return rc == SQLITE_OK ? 0 : -1;
}

int schema_db_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return -1;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    int v = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    else if (rc != SQLITE_DONE)
        v = -1;
    sqlite3_finalize(st);
    return v;
}

/* Adds the columns of `t` that an older database lacks (the schema only
 * grows, so this is the whole upgrade). */
static int add_missing_columns(sqlite3 *db, const schema_table *t, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->ncols; i++) {
        sqlite3_stmt *st = NULL;
        int found = 0;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st, NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "reading the schema: %s", sqlite3_errmsg(db));
            return -1;
        }
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t->cols[i].name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (found) continue;
        strbuf b = {0};
        sb_add(&b, "ALTER TABLE %s ADD COLUMN %s %s", t->name, t->cols[i].name, t->cols[i].type);
        if (exec_fmt(db, err, errlen, "upgrading the schema", sb_take(&b)) < 0) return -1;
    }
    return 0;
}

int schema_create_indexes(sqlite3 *db, char *err, size_t errlen)
{
    for (size_t i = 0; i < schema_nindexes; i++)
        if (exec_fmt(db, err, errlen, "creating the indexes", index_sql(&schema_indexes[i])) < 0) return -1;
    return 0;
}

int schema_drop_indexes(sqlite3 *db, char *err, size_t errlen)
{
    for (size_t i = 0; i < schema_nindexes; i++) {
        strbuf b = {0};
        sb_add(&b, "DROP INDEX IF EXISTS %s", schema_indexes[i].name);
        if (exec_fmt(db, err, errlen, "dropping the indexes", sb_take(&b)) < 0) return -1;
    }
    return 0;
}

int schema_create(sqlite3 *db, char *err, size_t errlen)
{
    int version = schema_db_version(db);
    if (version < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "the database has schema version %d, newer than this memsnap's (%d): load with a newer "
                 "memsnap (querying it with `memsnap sql` works)",
                 version, SCHEMA_VERSION);
        return -1;
    }
    if (version == 0) {
        sqlite3_stmt *st = NULL;
        int other = 0;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            other = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (other) {
            snprintf(err, errlen, "not a memsnap database (it has tables but no meta table): use another file");
            return -1;
        }
    }
    if (version == SCHEMA_VERSION) return 0; /* up to date: nothing to create */

    for (size_t i = 0; i < schema_ntables; i++) {
        if (exec_fmt(db, err, errlen, "creating the tables", schema_create_table_sql(&schema_tables[i])) < 0)
            return -1;
        if (version > 0 && add_missing_columns(db, &schema_tables[i], err, errlen) < 0) return -1;
    }
    for (size_t i = 0; i < schema_nviews; i++) {
        if (version > 0) { /* views hold no data: recreate them with the current definition */
            strbuf b = {0};
            sb_add(&b, "DROP VIEW IF EXISTS %s", schema_views[i].name);
            if (exec_fmt(db, err, errlen, "upgrading the views", sb_take(&b)) < 0) return -1;
        }
        if (exec_fmt(db, err, errlen, "creating the views", view_sql(&schema_views[i])) < 0) return -1;
    }
    if (schema_create_indexes(db, err, errlen) < 0) return -1;

    strbuf b = {0};
    sb_add(&b,
           "INSERT OR REPLACE INTO meta VALUES('schema_version', '%d');"
           "INSERT OR IGNORE INTO meta VALUES('created_by', 'memsnap %s');"
           "DELETE FROM categories;",
           SCHEMA_VERSION, MS_LIB_VERSION);
    if (exec_fmt(db, err, errlen, "filling meta", sb_take(&b)) < 0) return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO categories VALUES(?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "filling categories: %s", sqlite3_errmsg(db));
        return -1;
    }
    for (int c = 0; c < CAT_COUNT; c++) {
        sqlite3_bind_text(st, 1, category_name((category_id)c), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, category_is_heuristic((category_id)c));
        sqlite3_bind_text(st, 3, category_rule((category_id)c), -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(err, errlen, "filling categories: %s", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* ----------------------------------------------------------------- print */

void schema_print_sql(FILE *out)
{
    char *s;
    fprintf(out, "-- memsnap database schema, version %d (memsnap schema --sql)\n", SCHEMA_VERSION);
    for (size_t i = 0; i < schema_ntables; i++)
        if ((s = schema_create_table_sql(&schema_tables[i]))) {
            fprintf(out, "%s;\n", s);
            free(s);
        }
    for (size_t i = 0; i < schema_nviews; i++)
        if ((s = view_sql(&schema_views[i]))) {
            fprintf(out, "%s;\n", s);
            free(s);
        }
    for (size_t i = 0; i < schema_nindexes; i++)
        if ((s = index_sql(&schema_indexes[i]))) {
            fprintf(out, "%s;\n", s);
            free(s);
        }
}

static const char *col_name(unsigned sec, unsigned col)
{
    const char *name = NULL;
    if (ms_column_info(sec, col, &name, NULL) != 0) return "?";
    return name;
}

void schema_source_text(const schema_column *c, char *buf, size_t len)
{
    const char *sec = c->sec ? ms_section_name(c->sec) : NULL;
    if (!sec) sec = "?";
    switch (c->src) {
    case SRC_ROWID: snprintf(buf, len, "assigned at load"); break;
    case SRC_SNAPSHOT: snprintf(buf, len, "snapshots.id"); break;
    case SRC_ROW: snprintf(buf, len, "row number in the section"); break;
    case SRC_MSNAP_ID: snprintf(buf, len, "%s.%s as hex", sec, col_name(c->sec, c->col)); break;
    case SRC_FILE: snprintf(buf, len, "file name"); break;
    case SRC_OFFSET: snprintf(buf, len, "record offset"); break;
    case SRC_COMPRESSED: snprintf(buf, len, "record header"); break;
    case SRC_RAW: snprintf(buf, len, "record header"); break;
    case SRC_FORMAT: snprintf(buf, len, "file header"); break;
    case SRC_WRITER: snprintf(buf, len, "file header"); break;
    case SRC_U64:
    case SRC_I64:
    case SRC_STR: snprintf(buf, len, "%s.%s", sec, col_name(c->sec, c->col)); break;
    case SRC_KIB: snprintf(buf, len, "%s.%s * 1024", sec, col_name(c->sec, c->col)); break;
    case SRC_LIMIT: snprintf(buf, len, "%s.%s (2^64-1: NULL)", sec, col_name(c->sec, c->col)); break;
    case SRC_BIT: snprintf(buf, len, "bit %u of %s.%s", c->bit, sec, col_name(c->sec, c->col)); break;
    case SRC_ISO_TIME: snprintf(buf, len, "%s.%s as text", sec, col_name(c->sec, c->col)); break;
    case SRC_PERMS: snprintf(buf, len, "%s.%s as text", sec, col_name(c->sec, c->col)); break;
    case SRC_DEV:
        snprintf(buf, len, "%s.%s:%s", sec, col_name(c->sec, c->col), col_name(c->sec, c->col2));
        break;
    case SRC_CMDLINE: snprintf(buf, len, "%s.%s, NUL to space", sec, col_name(c->sec, c->col)); break;
    case SRC_KV_BYTES: snprintf(buf, len, "%s.%s * 1024 if kB", sec, col_name(c->sec, c->col)); break;
    case SRC_ROLLUP: snprintf(buf, len, "rollup %s * 1024", c->arg ? c->arg : "?"); break;
    case SRC_DIAG_STATUS: snprintf(buf, len, "%s.%s as a word", sec, col_name(c->sec, c->col)); break;
    case SRC_CATEGORY:
    case SRC_MODULE: snprintf(buf, len, "computed at load"); break;
    case SRC_FIXED: snprintf(buf, len, "memsnap"); break;
    case SRC_QUALIFIED:
        snprintf(buf, len, "%s.%s + \".\" + %s", sec, col_name(c->sec, c->col), col_name(c->sec, c->col2));
        break;
    default: snprintf(buf, len, "?"); break;
    }
}

void schema_print_doc(FILE *out)
{
    char src[128];
    fprintf(out, "### Tables (schema version %d)\n", SCHEMA_VERSION);
    for (size_t i = 0; i < schema_ntables; i++) {
        const schema_table *t = &schema_tables[i];
        fprintf(out, "\n#### %s\n\n%s\n\n", t->name, t->doc);
        fprintf(out, "| column | type | unit | from | meaning |\n|---|---|---|---|---|\n");
        for (size_t k = 0; k < t->ncols; k++) {
            const schema_column *c = &t->cols[k];
            schema_source_text(c, src, sizeof src);
            fprintf(out, "| %s | %s | %s | %s | %s |\n", c->name, c->type, c->unit, src, c->doc);
        }
        if (t->table_constraint) fprintf(out, "\nConstraint: `%s`.\n", t->table_constraint);
    }
    fprintf(out, "\n### Views\n");
    for (size_t i = 0; i < schema_nviews; i++) {
        const schema_view *v = &schema_views[i];
        fprintf(out, "\n#### %s\n\n%s\n\n", v->name, v->doc);
        fprintf(out, "| column | unit | meaning |\n|---|---|---|\n");
        for (size_t k = 0; k < v->ncols; k++)
            fprintf(out, "| %s | %s | %s |\n", v->cols[k].name, v->cols[k].unit, v->cols[k].doc);
        fprintf(out, "\n```sql\n%s\n```\n", v->select);
    }
    fprintf(out, "\n### Indexes\n\n| index | on | serves |\n|---|---|---|\n");
    for (size_t i = 0; i < schema_nindexes; i++)
        fprintf(out, "| %s | %s(%s) | %s |\n", schema_indexes[i].name, schema_indexes[i].table,
                schema_indexes[i].columns, schema_indexes[i].doc);
    fprintf(out, "\n### Mapping categories\n\nThe exact rules are tried in this order and the first "
                 "that matches wins; the heuristic parts of stack and c_heap are tried after all exact "
                 "rules, on the mappings still unclaimed.\n\n"
                 "| category | heuristic | rule |\n|---|---|---|\n");
    for (int c = 0; c < CAT_COUNT; c++) /* the enum is in rule order */
        fprintf(out, "| %s | %s | %s |\n", category_name((category_id)c),
                category_is_heuristic((category_id)c) ? "partly" : "no", category_rule((category_id)c));
}

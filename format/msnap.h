/*
 * msnap.h - the one public interface to .msnap files (format/SPEC.md, v1.1).
 *
 * A .msnap file is a file header followed by an append-only stream of
 * snapshot records; each record holds one zstd-compressed, checksummed
 * payload (zstd, by default with memsnap's built-in dictionary) made of
 * self-describing sections. Every section is a table of
 * typed columns (see SPEC.md section 5): the capture agent builds tables row
 * by row with ms_table_*, the writer encodes them; the reader decodes them
 * back and gives typed access by section type and column id.
 *
 * Conventions: functions return 0 (MS_OK) or a negative ms_err code; the
 * reader and writer keep the last error's message and byte offset
 * (ms_reader_error / ms_writer_error). Every *_close / *_free accepts NULL.
 * Nothing here keeps global mutable state; handles are not thread-safe but
 * different handles may be used from different threads.
 *
 * Dependencies: libc and libzstd only.
 */
#ifndef MSNAP_H
#define MSNAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- versions */

#define MS_FORMAT_MAJOR 1 /* files with a larger major are refused */
#define MS_FORMAT_MINOR 1 /* files with a larger minor are read: unknown parts skipped */
#define MS_LIB_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

/* Error codes. Values are part of the API and of the CLI's documentation:
 * they are never renumbered; new codes are added at the end. */
typedef enum {
    MS_OK = 0,
    MS_ERR_IO = -1,          /* read/write/open failed; errno in the message */
    MS_ERR_NOMEM = -2,       /* allocation failed */
    MS_ERR_MAGIC = -3,       /* not a .msnap file (bad file magic) */
    MS_ERR_VERSION = -4,     /* major version newer than this reader */
    MS_ERR_TRUNCATED = -5,   /* file ends inside a header or payload */
    MS_ERR_CHECKSUM = -6,    /* a CRC-32C does not match */
    MS_ERR_CORRUPT = -7,     /* a structure is malformed (bad length, reserved bits set...) */
    MS_ERR_LIMIT = -8,       /* a declared size exceeds the reader's cap */
    MS_ERR_ZSTD = -9,        /* zstd failed to compress or decompress */
    MS_ERR_UNSUPPORTED = -10,/* a section marked required is unknown to this reader */
    MS_ERR_USAGE = -11,      /* the API was called wrongly (NULL, wrong state, bad column type) */
    MS_ERR_EXISTS = -12,     /* the output file exists and overwriting was not asked for */
    MS_ERR_NOSPACE = -13,    /* disk full (ENOSPC/EDQUOT) while writing */
    MS_ERR_END = -14,        /* no more snapshots (ms_reader_next); not a failure */
} ms_err;

/* Short, stable, lower-case name of an error code ("checksum mismatch").
 * Never returns NULL; unknown codes give "unknown error". */
const char *ms_strerror(int code);

/* Stable identifier of an error code ("MS_ERR_CHECKSUM"), for tests and
 * machine-readable output. Never returns NULL. */
const char *ms_errname(int code);

/* ------------------------------------------------------------------ codecs */

/* Record codecs (SPEC.md 3.1 and 3.5): how a record's payload is
 * compressed. Never renumbered; a new dictionary is a new codec. */
enum {
    MS_CODEC_ZSTD = 1,      /* one zstd frame, no dictionary: every 1.x reader reads it */
    MS_CODEC_ZSTD_DICT1 = 2 /* one zstd frame made with built-in dictionary #1: readers 1.1 and later */
};
#define MS_DICT1_ID 0xCD53u  /* the zstd Dictionary_ID of dictionary #1, named by every codec-2 frame */
#define MS_DICT1_SIZE 32768u /* bytes of dictionary #1 (format/dict/msnap-dict-1.bin) */

/* The built-in zstd dictionary that `codec` compresses with: returns a
 * pointer to its bytes (static, never freed) and stores their number in
 * *size (if not NULL); NULL and 0 for a codec without a dictionary
 * (MS_CODEC_ZSTD) or unknown to this library. For tools that build or
 * repair records by hand; the reader and writer use it themselves. */
const void *ms_codec_dict(unsigned codec, size_t *size);

/* ------------------------------------------------------- sections, columns */

/* Section types (SPEC.md section 6). Never renumbered. */
typedef enum {
    MS_SEC_STRINGS = 1,        /* the snapshot's string table; always first */
    MS_SEC_SNAPSHOT = 2,       /* snapshot header: id, times, pid, agent */
    MS_SEC_HOST = 3,           /* kernel, machine, page size, memory totals */
    MS_SEC_PROCESS = 4,        /* pid, ppid, uid, comm, exe, cmdline, counts */
    MS_SEC_PROC_STATUS = 5,    /* name/value: memory lines of /proc/PID/status */
    MS_SEC_CGROUP = 6,         /* cgroup version, path, current/max/high/swap */
    MS_SEC_CGROUP_STAT = 7,    /* file/name/value: memory.stat, memory.events... */
    MS_SEC_MAPPINGS = 8,       /* one row per mapping, every known smaps field */
    MS_SEC_MAPPING_EXTRA = 9,  /* smaps fields unknown to the writer, by name */
    MS_SEC_ROLLUP = 10,        /* name/value: /proc/PID/smaps_rollup */
    MS_SEC_PY_RUNTIME = 11,    /* CPython version, build flags, paths, allocator */
    MS_SEC_PY_TYPES = 12,      /* object-type histogram */
    MS_SEC_PY_MODULES = 13,    /* sys.modules: name and file */
    MS_SEC_PY_SIZE_CLASSES = 14,/* pymalloc per size class */
    MS_SEC_PY_ARENAS = 15,     /* pymalloc per arena */
    MS_SEC_PY_ALLOC_TOTALS = 16,/* pymalloc totals (sys._debugmallocstats) */
    MS_SEC_PY_GC = 17,         /* GC generations: count, threshold */
    MS_SEC_DIAGNOSTICS = 18,   /* what is complete, approximate, unavailable */
    MS_SEC_MAX_KNOWN = 18
} ms_section_type;

/* Logical column types. A column's type is fixed by SPEC.md for known
 * columns; the on-disk encoding (plain varint, delta...) is the writer's
 * choice and invisible here. */
typedef enum {
    MS_T_U64 = 1,  /* unsigned 64-bit */
    MS_T_I64 = 2,  /* signed 64-bit */
    MS_T_STR = 3   /* byte string (any bytes, may hold NULs), or null */
} ms_coltype;

/* Column ids. They are per section; ids in different sections are
 * unrelated. Every column is documented in SPEC.md section 6 with its unit.
 * Never renumbered; new columns get new ids. */
enum { /* MS_SEC_SNAPSHOT */
    MS_SNAP_ID = 1,           /* STR: 16 random bytes, unique per snapshot */
    MS_SNAP_SEQ = 2,          /* U64: sequence number within the capture run, from 0 */
    MS_SNAP_WALL_NS = 3,      /* U64: start, ns since the Unix epoch (CLOCK_REALTIME) */
    MS_SNAP_MONO_NS = 4,      /* U64: start, ns of CLOCK_MONOTONIC (comparable within one boot) */
    MS_SNAP_DURATION_NS = 5,  /* U64: capture duration, ns */
    MS_SNAP_PAUSE_NS = 6,     /* U64: time the target was stopped, ns (0: never) */
    MS_SNAP_PID = 7,          /* U64: target pid */
    MS_SNAP_AGENT = 8,        /* STR: agent name and version, "memsnap-capture 0.1.0" */
    MS_SNAP_BOOT_ID = 9,      /* STR: /proc/sys/kernel/random/boot_id */
    MS_SNAP_FLAGS = 10        /* U64: bit 0 Python heap read without pausing (best-effort), bit 1 redacted */
};
enum { /* MS_SEC_HOST */
    MS_HOST_NAME = 1,         /* STR: host name (keyed hash when redacted) */
    MS_HOST_KERNEL = 2,       /* STR: uname release */
    MS_HOST_KVERSION = 3,     /* STR: uname version */
    MS_HOST_MACHINE = 4,      /* STR: uname machine, "x86_64" */
    MS_HOST_PAGE_SIZE = 5,    /* U64: bytes */
    MS_HOST_MEM_TOTAL = 6,    /* U64: KiB, /proc/meminfo MemTotal */
    MS_HOST_MEM_AVAILABLE = 7,/* U64: KiB */
    MS_HOST_SWAP_TOTAL = 8,   /* U64: KiB */
    MS_HOST_SWAP_FREE = 9,    /* U64: KiB */
    MS_HOST_THP_ENABLED = 10, /* STR: selected mode of transparent_hugepage/enabled */
    MS_HOST_THP_DEFRAG = 11,  /* STR: selected mode of transparent_hugepage/defrag */
    MS_HOST_OVERCOMMIT = 12,  /* I64: vm.overcommit_memory */
    MS_HOST_NCPU = 13         /* U64: online CPUs */
};
enum { /* MS_SEC_PROCESS */
    MS_PROC_PID = 1,          /* U64 */
    MS_PROC_PPID = 2,         /* U64 */
    MS_PROC_UID = 3,          /* U64: real uid */
    MS_PROC_EUID = 4,         /* U64: effective uid */
    MS_PROC_COMM = 5,         /* STR */
    MS_PROC_EXE = 6,          /* STR: /proc/PID/exe target */
    MS_PROC_CMDLINE = 7,      /* STR: arguments, each terminated by a NUL byte */
    MS_PROC_THREADS = 8,      /* U64 */
    MS_PROC_OOM_SCORE = 9,    /* I64 */
    MS_PROC_OOM_SCORE_ADJ = 10,/* I64 */
    MS_PROC_STATE = 11,       /* STR: one letter, "S" */
    MS_PROC_START_TICKS = 12  /* U64: start time, clock ticks after boot */
};
enum { /* MS_SEC_PROC_STATUS, MS_SEC_ROLLUP: name/value lists */
    MS_KV_NAME = 1,           /* STR: field name as the kernel prints it, "VmRSS" */
    MS_KV_VALUE = 2,          /* U64: value, in the unit below */
    MS_KV_UNIT = 3            /* STR: unit as printed ("kB"), null when none */
};
enum { /* MS_SEC_CGROUP */
    MS_CG_VERSION = 1,        /* U64: 1 or 2 */
    MS_CG_PATH = 2,           /* STR: cgroup path inside the hierarchy */
    MS_CG_CURRENT = 3,        /* U64: bytes in use (memory.current / usage_in_bytes) */
    MS_CG_MAX = 4,            /* U64: bytes; UINT64_MAX = unlimited */
    MS_CG_HIGH = 5,           /* U64: bytes; UINT64_MAX = unlimited */
    MS_CG_SWAP_CURRENT = 6,   /* U64: bytes */
    MS_CG_SWAP_MAX = 7,       /* U64: bytes; UINT64_MAX = unlimited */
    MS_CG_PEAK = 8            /* U64: bytes (memory.peak / max_usage_in_bytes) */
};
enum { /* MS_SEC_CGROUP_STAT */
    MS_CGS_FILE = 1,          /* STR: source file, "memory.stat" */
    MS_CGS_NAME = 2,          /* STR: key, "anon" */
    MS_CGS_VALUE = 3          /* U64: value as printed (bytes for sizes) */
};
enum { /* MS_SEC_MAPPINGS: one row per /proc/PID/smaps entry */
    MS_MAP_START = 1,         /* U64: start address */
    MS_MAP_END = 2,           /* U64: end address (exclusive) */
    MS_MAP_PERMS = 3,         /* U64: bit 0 r, 1 w, 2 x, 3 s (shared), 4 p (private) */
    MS_MAP_OFFSET = 4,        /* U64: file offset, bytes */
    MS_MAP_DEV_MAJOR = 5,     /* U64 */
    MS_MAP_DEV_MINOR = 6,     /* U64 */
    MS_MAP_INODE = 7,         /* U64 */
    MS_MAP_PATH = 8,          /* STR: name exactly as the kernel shows it, null if none */
    MS_MAP_DELETED = 9,       /* U64: 1 when the kernel appended " (deleted)" (removed from PATH) */
    MS_MAP_SIZE = 10,         /* U64: KiB; this and the fields below are smaps fields */
    MS_MAP_KERNEL_PAGE_SIZE = 11, /* U64: KiB */
    MS_MAP_MMU_PAGE_SIZE = 12,/* U64: KiB */
    MS_MAP_RSS = 13,          /* U64: KiB */
    MS_MAP_PSS = 14,          /* U64: KiB */
    MS_MAP_PSS_DIRTY = 15,    /* U64: KiB */
    MS_MAP_PSS_ANON = 16,     /* U64: KiB */
    MS_MAP_PSS_FILE = 17,     /* U64: KiB */
    MS_MAP_PSS_SHMEM = 18,    /* U64: KiB */
    MS_MAP_SHARED_CLEAN = 19, /* U64: KiB */
    MS_MAP_SHARED_DIRTY = 20, /* U64: KiB */
    MS_MAP_PRIVATE_CLEAN = 21,/* U64: KiB */
    MS_MAP_PRIVATE_DIRTY = 22,/* U64: KiB */
    MS_MAP_REFERENCED = 23,   /* U64: KiB */
    MS_MAP_ANONYMOUS = 24,    /* U64: KiB */
    MS_MAP_KSM = 25,          /* U64: KiB */
    MS_MAP_LAZYFREE = 26,     /* U64: KiB */
    MS_MAP_ANON_HUGE = 27,    /* U64: KiB, AnonHugePages */
    MS_MAP_SHMEM_PMD = 28,    /* U64: KiB, ShmemPmdMapped */
    MS_MAP_FILE_PMD = 29,     /* U64: KiB, FilePmdMapped */
    MS_MAP_SHARED_HUGETLB = 30,/* U64: KiB */
    MS_MAP_PRIVATE_HUGETLB = 31,/* U64: KiB */
    MS_MAP_SWAP = 32,         /* U64: KiB */
    MS_MAP_SWAP_PSS = 33,     /* U64: KiB */
    MS_MAP_LOCKED = 34,       /* U64: KiB */
    MS_MAP_THP_ELIGIBLE = 35, /* U64: 0 or 1 */
    MS_MAP_PROTECTION_KEY = 36,/* U64 */
    MS_MAP_VMFLAGS = 37       /* STR: VmFlags line as printed, "rd wr mr mw me ac" */
};
enum { /* MS_SEC_MAPPING_EXTRA: smaps fields the writer does not know */
    MS_MX_MAPPING = 1,        /* U64: row index in MS_SEC_MAPPINGS */
    MS_MX_NAME = 2,           /* STR: field name */
    MS_MX_VALUE = 3,          /* U64: numeric value (0 when not numeric) */
    MS_MX_UNIT = 4,           /* STR: unit ("kB"), null when none */
    MS_MX_TEXT = 5            /* STR: the value as printed, when not a plain number */
};
enum { /* MS_SEC_PY_RUNTIME */
    MS_PY_VERSION = 1,        /* STR: "3.12.1" */
    MS_PY_HEXVERSION = 2,     /* U64: PY_VERSION_HEX */
    MS_PY_FLAGS = 3,          /* U64: bit 0 shared libpython, 1 debug, 2 free-threaded, 3 PIE, 4 stripped */
    MS_PY_BINARY = 4,         /* STR: path of the executable */
    MS_PY_LIBPYTHON = 5,      /* STR: path of libpython, null when static */
    MS_PY_ALLOCATOR = 6,      /* STR: "pymalloc", "malloc", "pymalloc_debug", "mimalloc" */
    MS_PY_ARENA_SIZE = 7,     /* U64: bytes */
    MS_PY_POOL_SIZE = 8       /* U64: bytes */
};
enum { /* MS_SEC_PY_TYPES: object-type histogram */
    MS_TY_NAME = 1,           /* STR: tp_name */
    MS_TY_QUALNAME = 2,       /* STR: __qualname__ ("Outer.Inner"), null when unknown */
    MS_TY_COUNT = 3,          /* U64: live objects */
    MS_TY_SIZEOF = 4,         /* U64: bytes, sum of sys.getsizeof */
    MS_TY_ALLOCATED = 5,      /* U64: bytes, sum of allocator block sizes actually used */
    MS_TY_FLAGS = 6,          /* U64: bit 0 GC-tracked, 1 sizes approximate, 2 count incomplete */
    MS_TY_MODULE = 7          /* STR: __module__ of a heap type, null for static types and when unknown */
};
enum { /* MS_SEC_PY_MODULES */
    MS_MOD_NAME = 1,          /* STR: key in sys.modules */
    MS_MOD_FILE = 2,          /* STR: __file__, null when none (builtin, namespace) */
    MS_MOD_FLAGS = 3          /* U64: bit 0 extension module (shared library) */
};
enum { /* MS_SEC_PY_SIZE_CLASSES */
    MS_SC_INDEX = 1,          /* U64: size class index */
    MS_SC_BLOCK_SIZE = 2,     /* U64: bytes */
    MS_SC_POOLS = 3,          /* U64: pools in use for this class */
    MS_SC_BLOCKS_USED = 4,    /* U64: blocks handed out */
    MS_SC_BLOCKS_FREE = 5     /* U64: blocks available in those pools */
};
enum { /* MS_SEC_PY_ARENAS */
    MS_AR_ADDRESS = 1,        /* U64: arena base address */
    MS_AR_POOLS_USED = 2,     /* U64 */
    MS_AR_POOLS_FREE = 3,     /* U64 */
    MS_AR_POOLS_TOTAL = 4,    /* U64 */
    MS_AR_LIVE_BYTES = 5      /* U64: bytes in blocks handed out */
};
enum { /* MS_SEC_PY_ALLOC_TOTALS: one row */
    MS_AT_ARENAS = 1,         /* U64: arenas currently allocated */
    MS_AT_ARENAS_ALLOCATED = 2,/* U64: arenas ever allocated */
    MS_AT_ARENAS_RECLAIMED = 3,/* U64: arenas returned to the OS */
    MS_AT_ARENAS_HIGHWATER = 4,/* U64 */
    MS_AT_ALLOCATED_BYTES = 5,/* U64: bytes in allocated blocks */
    MS_AT_AVAILABLE_BYTES = 6,/* U64: bytes in available blocks */
    MS_AT_UNUSED_POOL_BYTES = 7,/* U64 */
    MS_AT_POOL_HEADER_BYTES = 8,/* U64 */
    MS_AT_QUANTIZATION_BYTES = 9,/* U64 */
    MS_AT_ALIGNMENT_BYTES = 10,/* U64: arena alignment loss */
    MS_AT_ARENA_BYTES = 11    /* U64: arenas * arena size */
};
enum { /* MS_SEC_PY_GC */
    MS_GC_GENERATION = 1,     /* U64: 0, 1, 2; 3 = permanent */
    MS_GC_COUNT = 2,          /* U64: objects (gen 0) or collections (older) as CPython counts */
    MS_GC_THRESHOLD = 3,      /* U64 */
    MS_GC_OBJECTS = 4,        /* U64: objects found on the list */
    MS_GC_COLLECTING = 5      /* U64: 1 if a collection was running */
};
enum { /* MS_SEC_DIAGNOSTICS */
    MS_DG_AREA = 1,           /* STR: what it is about, "cgroup", "python.pymalloc" */
    MS_DG_STATUS = 2,         /* U64: 0 complete, 1 approximate, 2 unavailable, 3 best-effort, 4 info */
    MS_DG_MESSAGE = 3         /* STR: one line for people */
};

/* Schema introspection, driven by one table (format/msnap_common.c). */

/* Name of a section type ("mappings"), or NULL if unknown to this library. */
const char *ms_section_name(unsigned type);

/* Name and logical type of column `col` of section `type`; returns 0 and
 * fills *name and *ctype, or MS_ERR_USAGE if the column is unknown. */
int ms_column_info(unsigned type, unsigned col, const char **name, ms_coltype *ctype);

/* ------------------------------------------------------------ table builder */

/* A table is one section's content under construction: rows of typed
 * values, columns created on first use. Values not set in a row read as 0
 * (numbers) or null (strings). Building allocates; the table owns copies
 * of every string given to it. */
typedef struct ms_table ms_table;

/* New empty table for section `type` (1..65535, MS_SEC_STRINGS excluded).
 * Returns NULL on allocation failure. Free with ms_table_free. */
ms_table *ms_table_new(unsigned type);

/* Frees a table; NULL is a no-op. */
void ms_table_free(ms_table *t);

/* Starts a new row; the previous row (if any) is complete. Returns 0 or
 * MS_ERR_NOMEM. */
int ms_table_row(ms_table *t);

/* Set column `col` (1..65535) of the current row. The column's type is
 * fixed by its first use and, for columns known to SPEC.md, must match the
 * spec (MS_ERR_USAGE otherwise). ms_table_str copies `len` bytes (s may be
 * NULL only with len 0, storing an empty string); ms_table_null stores a
 * null string. Calling one of them without a current row is MS_ERR_USAGE. */
int ms_table_u64(ms_table *t, unsigned col, uint64_t v);
int ms_table_i64(ms_table *t, unsigned col, int64_t v);
int ms_table_str(ms_table *t, unsigned col, const void *s, size_t len);
int ms_table_cstr(ms_table *t, unsigned col, const char *s); /* NULL stores null */
int ms_table_null(ms_table *t, unsigned col);

/* Number of rows started so far. */
size_t ms_table_nrows(const ms_table *t);

/* Bulk filling, for producers that keep their own column arrays:
 * ms_table_add_rows appends n rows (values 0 / null; the last one becomes
 * the current row); ms_table_u64_column sets column `col` (U64, as for
 * ms_table_u64) of rows [first, first + n) from v. Both return 0,
 * MS_ERR_NOMEM, or MS_ERR_USAGE (rows out of range, wrong column type). */
int ms_table_add_rows(ms_table *t, size_t n);
int ms_table_u64_column(ms_table *t, unsigned col, size_t first, const uint64_t *v, size_t n);

/* Like ms_table_u64_column for all rows at once, without a copy: `v` holds
 * one value per row (ms_table_nrows), comes from malloc/realloc with room
 * for `cap` >= nrows values, and belongs to the table from this call on,
 * also when the call fails (then it is freed). Replaces the column's
 * values if it exists. Returns 0, MS_ERR_NOMEM, or MS_ERR_USAGE (no rows,
 * cap < nrows, column not U64). */
int ms_table_u64_column_take(ms_table *t, unsigned col, uint64_t *v, size_t cap);

/* ------------------------------------------------------------------- writer */

typedef struct ms_writer ms_writer;

/* How ms_writer_open treats an existing file. */
typedef enum {
    MS_CREATE = 0,    /* fail with MS_ERR_EXISTS if the path exists */
    MS_TRUNCATE = 1,  /* replace any existing file */
    MS_APPEND = 2     /* append to an existing .msnap (created if absent); an
                         incomplete tail left by a crash is cut off first */
} ms_open_mode;

/* Or'ed into the `zlevel` argument of ms_writer_open and ms_writer_fdopen:
 * write every record with MS_CODEC_ZSTD (plain zstd) instead of the default
 * MS_CODEC_ZSTD_DICT1, for readers older than format 1.1, and mark a new
 * file 1.0. Such records are about twice as large for small snapshots. */
#define MS_ZLEVEL_NO_DICT 0x100

/* Opens `path` for writing. `writer_id` names the program writing (stored
 * in the file header; longer than 39 bytes it is cut), e.g. "memsnap-capture
 * 0.1.0"; NULL stores "libmsnap " MS_LIB_VERSION. `zlevel` is the zstd level,
 * 1-22 (0: this library's default, 9), optionally or'ed with
 * MS_ZLEVEL_NO_DICT; any other value is MS_ERR_USAGE. Records are written
 * with MS_CODEC_ZSTD_DICT1, and a new file's header says 1.1 (1.0 with
 * MS_ZLEVEL_NO_DICT); the compression dictionary is loaded once here.
 * On failure returns NULL and, if `err` is not NULL, stores the error code
 * in *err and a message into errbuf (if not NULL, size errlen).
 * With MS_APPEND the existing file's header must be valid and of a major
 * version this library writes; its complete snapshots are kept. */
ms_writer *ms_writer_open(const char *path, ms_open_mode mode, const char *writer_id,
                          int zlevel, int *err, char *errbuf, size_t errlen);

/* Like ms_writer_open but on an open file descriptor: a pipe, or an empty
 * regular file at offset 0 (MS_ERR_USAGE otherwise). The writer writes the
 * file header at once and does not close `fd` (the caller does, after
 * ms_writer_close). It takes no lock on `fd`. `zlevel` as for
 * ms_writer_open. */
ms_writer *ms_writer_fdopen(int fd, const char *writer_id, int zlevel,
                            int *err, char *errbuf, size_t errlen);

/* Starts a snapshot. Only one snapshot is open at a time. The first
 * begin of a codec-2 writer digests the dictionary (about 0.4 ms at level
 * 9; MS_ERR_NOMEM if that fails), so a caller waiting for data can call
 * it meanwhile. */
int ms_writer_begin(ms_writer *w);

/* Adds a table as one section of the open snapshot. The writer takes
 * nothing from `t`: the caller still owns and frees it (it may be freed
 * right after this returns). A section type may appear once per snapshot.
 * A table with zero rows is written (an empty table is information),
 * except for the one-row sections of SPEC.md 6 (snapshot, host, process,
 * cgroup, py_runtime, py_alloc_totals): those need exactly one row with at
 * least one column set, else MS_ERR_USAGE (readers refuse any other count). */
int ms_writer_add(ms_writer *w, const ms_table *t);

/* Encodes, compresses and appends the open snapshot, then fsyncs the
 * file (when `durable` is nonzero) so that a crash later cannot lose it.
 * On a write failure (e.g. disk full) the file is cut back to where the
 * snapshot started, so earlier snapshots stay valid, and MS_ERR_NOSPACE or
 * MS_ERR_IO is returned. Stats of the last snapshot written are available
 * through ms_writer_last_sizes. */
int ms_writer_end(ms_writer *w, int durable);

/* Discards the open snapshot, if any, without writing it. */
void ms_writer_abort(ms_writer *w);

/* Sizes of the last snapshot written: raw payload and compressed bytes,
 * and its byte offset in the file. Any pointer may be NULL. */
void ms_writer_last_sizes(const ms_writer *w, uint64_t *raw, uint64_t *compressed,
                          uint64_t *offset);

/* Message of the last error on `w` (never NULL, "" if none). */
const char *ms_writer_error(const ms_writer *w);

/* What MS_APPEND had to repair when opening, e.g. "cut 1234 bytes of an
 * incomplete snapshot at byte 5678"; "" if nothing. Never NULL. */
const char *ms_writer_notice(const ms_writer *w);

/* Number of complete snapshots in the file (found on MS_APPEND plus those
 * written since). */
uint64_t ms_writer_count(const ms_writer *w);

/* Closes the writer (and the file it opened). An open snapshot is
 * discarded. Returns 0 or the first error from closing the file. NULL is a
 * no-op returning 0. */
int ms_writer_close(ms_writer *w);

/* ------------------------------------------------------------------- reader */

typedef struct ms_reader ms_reader;
typedef struct ms_snapshot ms_snapshot;
typedef struct ms_section ms_section;

/* Reader options (bit flags for ms_reader_open). */
enum {
    MS_READ_NO_CHECKSUM = 1 /* skip CRC checks: salvage damaged files and fuzzing.
                               Structure is still fully validated. */
};

/* Default cap on one snapshot's decompressed payload (bytes). A record
 * declaring more is MS_ERR_LIMIT; see SPEC.md section 8. */
#define MS_DEFAULT_MAX_RAW ((uint64_t)256 << 20)

/* Opens a .msnap file for reading and validates its file header. On
 * failure returns NULL; *err/errbuf as for ms_writer_open, the message
 * naming the file and the byte offset. `flags` is a set of MS_READ_*. */
ms_reader *ms_reader_open(const char *path, unsigned flags, int *err,
                          char *errbuf, size_t errlen);

/* Same, on a memory buffer (not copied: it must outlive the reader).
 * `name` is used in messages. */
ms_reader *ms_reader_open_mem(const void *buf, size_t len, const char *name,
                              unsigned flags, int *err, char *errbuf, size_t errlen);

/* Lowers or raises the per-snapshot decompressed-size cap. */
void ms_reader_set_max_raw(ms_reader *r, uint64_t max_raw);

/* File-level facts from the header. Any pointer may be NULL. */
void ms_reader_version(const ms_reader *r, unsigned *major, unsigned *minor,
                       const char **writer_id);

/* Reads the next snapshot. On success returns 0 and stores in *out a
 * snapshot that the caller frees with ms_snapshot_free. At a clean end of
 * file returns MS_ERR_END. A file cut inside a record returns
 * MS_ERR_TRUNCATED (every earlier snapshot was returned; callers usually
 * warn and stop); so does a zero-filled tail where a record should start
 * (left by a crash). Other errors are returned with the byte offset in the
 * message (ms_reader_error) and ms_reader_error_offset; after any error
 * further calls return the same error. */
int ms_reader_next(ms_reader *r, ms_snapshot **out);

/* Message of the last error: "FILE: byte OFFSET: what is wrong" (never NULL). */
const char *ms_reader_error(const ms_reader *r);

/* Byte offset in the file that the last error is about (0 if none). */
uint64_t ms_reader_error_offset(const ms_reader *r);

/* Closes the reader; NULL is a no-op. Snapshots already returned stay valid. */
void ms_reader_close(ms_reader *r);

/* Frees a snapshot; NULL is a no-op. */
void ms_snapshot_free(ms_snapshot *s);

/* Record facts: byte offset of the record in the file, the compressed and
 * raw payload sizes. Any pointer may be NULL. */
void ms_snapshot_sizes(const ms_snapshot *s, uint64_t *offset, uint64_t *compressed,
                       uint64_t *raw);

/* The record's codec (MS_CODEC_*); 0 for NULL. */
unsigned ms_snapshot_codec(const ms_snapshot *s);

/* Number of sections (the string table not counted) and the i-th one, in
 * file order, unknown types included. */
size_t ms_snapshot_nsections(const ms_snapshot *s);
const ms_section *ms_snapshot_section_at(const ms_snapshot *s, size_t i);

/* The section of a given type, or NULL if the snapshot has none. */
const ms_section *ms_snapshot_section(const ms_snapshot *s, unsigned type);

/* Section facts: type, encoded body size (bytes), rows, columns. */
unsigned ms_section_type_of(const ms_section *sec);
uint64_t ms_section_bytes(const ms_section *sec);
size_t ms_section_nrows(const ms_section *sec);
size_t ms_section_ncols(const ms_section *sec);

/* The i-th column of a section (file order): its id and logical type. */
int ms_section_col_at(const ms_section *sec, size_t i, unsigned *col, ms_coltype *ctype);

/* Whether the section has column `col` (1) or not (0). */
int ms_section_has(const ms_section *sec, unsigned col);

/* Typed cell access. Each returns 1 and stores the value if the section
 * has column `col` of that logical type and row < nrows; otherwise returns
 * 0 and stores 0 / NULL. A null string returns 1 with *s = NULL, *len = 0.
 * Strings point into the snapshot and live as long as it does; they are
 * not NUL-terminated in general (use len), though the library does store
 * a NUL after each one for convenience. */
int ms_get_u64(const ms_section *sec, unsigned col, size_t row, uint64_t *v);
int ms_get_i64(const ms_section *sec, unsigned col, size_t row, int64_t *v);
int ms_get_str(const ms_section *sec, unsigned col, size_t row, const char **s, size_t *len);

/* Convenience: value of column `col` at `row`, or `dflt` if absent. */
uint64_t ms_u64_or(const ms_section *sec, unsigned col, size_t row, uint64_t dflt);

/* Convenience for name/value sections (PROC_STATUS, ROLLUP): the value of
 * the first row whose MS_KV_NAME equals `name`; returns 1 if found. */
int ms_kv_find(const ms_section *sec, const char *name, uint64_t *v);

/* ------------------------------------------------------------- checksum */

/* CRC-32C (Castagnoli) of `len` bytes, continuing from `crc` (start with 0).
 * Exposed for tools that repair or build files by hand. */
uint32_t ms_crc32c(uint32_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MSNAP_H */

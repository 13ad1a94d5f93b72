/*
 * fuzz_pyheap.h - the input format of fuzz_pyheap (the CPython heap walk
 * on memory from the input), shared by the target and its seed maker
 * (make_pyheap_seeds.c). All numbers little-endian.
 *
 *   offset  size  meaning
 *   0       1     layout: index into py_layout_table (modulo its count)
 *   1       1     flags: FPH_* below
 *   2       6     reserved (ignored)
 *   8       8     _PyRuntime's address
 *   16      8     an alternative runtime (used with FPH_MULTIPLE)
 *   24      8*N   symbol addresses, in the order of FPH_SYMBOLS (0: absent)
 *   then regions to the end of the input, each:
 *           8     address
 *           4     size in bytes (0: the data length); capped, see below
 *           4     bytes of data that follow (cut to what remains)
 *           1     kind: PYIMAGE_ANON, _FILE or _FILE_RO (modulo 3)
 *           len   data; the rest of the region reads as zero
 *
 * The target keeps at most FPH_MAX_REGIONS regions of at most
 * FPH_MAX_REGION bytes, FPH_MAX_TOTAL bytes in all, and drops a region
 * that overlaps one before it.
 */
#ifndef FUZZ_PYHEAP_H
#define FUZZ_PYHEAP_H

#define FPH_HEADER 24u
#define FPH_REGION_HEADER 17u
#define FPH_MAX_REGIONS 64u
#define FPH_MAX_REGION (1u << 20)
#define FPH_MAX_TOTAL (2u << 20)

enum {
    FPH_MULTIPLE = 1, /* PYF_MULTIPLE: the alternative runtime is a candidate */
    FPH_REDACT = 2,   /* walk with a redactor (file paths hashed) */
    FPH_SHARED = 4    /* PYF_SHARED: the runtime is in a libpython */
};

/* Symbols the walk may ask for; the first FPH_NGLOBAL are global, the
 * others local symbols of obmalloc.c. */
#define FPH_NGLOBAL 5u
#define FPH_SYMBOLS                                                                                            \
    "PySet_Type", "PyFrozenSet_Type", "PyFloat_Type", "PyBaseObject_Type", "PyModule_Type", "arenas",           \
        "maxarenas", "narenas_currently_allocated", "ntimes_arena_allocated", "narenas_highwater",              \
        "_PyObject_Malloc", "_PyMem_RawMalloc", "_PyMem_DebugMalloc", "_PyObject", "_PyMem_DebugRawMalloc"
#define FPH_NSYMBOLS 15u

#endif /* FUZZ_PYHEAP_H */

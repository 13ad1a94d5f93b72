/*
 * pyimage.h - a private copy of a process's writable memory, for walking a
 * CPython heap without touching the process again.
 *
 * pyimage_copy() reads /proc/PID/maps, asks /proc/PID/pagemap which pages
 * of each private writable mapping are resident, and copies those pages
 * with process_vm_readv in batches (up to 1024 iovecs per call). Pages
 * that are not resident are not read: reading them would fault them into
 * the target (anonymous: a zero page; swapped: a swap-in), and the
 * target's memory must not change because memsnap looked at it. Pages
 * swapped out are counted and reported instead.
 *
 * After the copy, reads of addresses in the copy are memcpy's; reads of
 * read-only file-backed memory (string literals such as static types'
 * tp_name) go to the live process, since that memory cannot change. Any
 * other address reads as "not available" - which is also how the walker
 * rejects wild pointers.
 *
 * The copy is bounded by `cap` bytes; beyond it, mappings are skipped and
 * counted (pyimage_stats), so the walk knows it saw only part of the heap.
 * Not thread-safe; one image per walk.
 */
#ifndef MEMSNAP_PYIMAGE_H
#define MEMSNAP_PYIMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pyimage pyimage;

typedef struct {
    uint64_t mappings;        /* private writable mappings considered */
    uint64_t copied_bytes;    /* bytes copied (resident pages) */
    uint64_t swapped_bytes;   /* bytes of those mappings swapped out: not read */
    uint64_t skipped_bytes;   /* resident bytes not copied because of the cap */
    uint64_t unreadable_bytes;/* resident bytes process_vm_readv could not read */
    uint64_t regions;         /* contiguous copied runs */
    uint64_t copy_ns;         /* time spent in pagemap + process_vm_readv */
    uint64_t live_reads;      /* reads answered from the live process */
} pyimage_stats;

/* Prepares a copy of `pid` (under proc_root, normally "/proc"): counts the
 * resident pages of its private writable mappings and faults in memory
 * for them (at most `cap` bytes), so the copy itself is fast. Returns the
 * image, or NULL with `msg` naming what failed (the file, the errno and,
 * for permissions, the fix). Free with pyimage_free. */
pyimage *pyimage_new(int pid, const char *proc_root, uint64_t cap, char *msg, size_t len);

/* Copies the resident pages of every private writable mapping, up to the
 * cap (the target should be paused). Call once. 0, or -1 with msg. */
int pyimage_copy(pyimage *im, char *msg, size_t len);

/* Kinds of pyimage_region_spec. */
enum {
    PYIMAGE_ANON = 0,    /* anonymous writable memory (the heap) */
    PYIMAGE_FILE = 1,    /* a file-backed writable mapping (a data segment) */
    PYIMAGE_FILE_RO = 2  /* read-only file-backed memory: what pyimage_new reads live */
};

/* One region of an image built from memory instead of a process. */
typedef struct {
    uint64_t addr;            /* target address of its first byte */
    uint64_t size;            /* bytes it spans (> 0) */
    const void *data;         /* its first `len` bytes; the rest read as zero */
    size_t len;               /* bytes at data (<= size) */
    int kind;                 /* PYIMAGE_* */
} pyimage_region_spec;

/* An image of no process: the `n` regions given (in any order; they must
 * not overlap), their bytes copied. ANON and FILE regions answer
 * pyimage_ptr/has/region like copied mappings; FILE_RO regions answer only
 * pyimage_read/cstr, as read-only memory read live would. Nothing ever
 * reads a process. For tests and fuzzing the walk (tests/fuzz/
 * fuzz_pyheap.c). Returns the image (free with pyimage_free), or NULL
 * with `msg` naming the region that is malformed (empty, wrapping past
 * 2^64, len > size) or overlaps another, or saying memory ran out. */
pyimage *pyimage_from_regions(const pyimage_region_spec *regs, size_t n, char *msg, size_t len);

/* Frees the image and its copy; NULL is a no-op. */
void pyimage_free(pyimage *im);

/* Pointer to `len` bytes at target address `addr` inside the copy, or NULL
 * when any of them is not in one copied run. Valid until pyimage_free. */
const void *pyimage_ptr(pyimage *im, uint64_t addr, size_t len);

/* Copies `len` bytes at `addr` into buf: from the copy, else (read-only
 * file-backed mappings only) from the live process. 0, or -1 when the
 * bytes are not available. */
int pyimage_read(pyimage *im, uint64_t addr, void *buf, size_t len);

/* Reads a NUL-terminated string of at most cap-1 bytes at addr into buf
 * (always terminated). Returns its length, or -1 when unreadable or when
 * no NUL comes within cap-1 bytes. */
long pyimage_cstr(pyimage *im, uint64_t addr, char *buf, size_t cap);

/* Whether [addr, addr+len) is in the copy. */
int pyimage_has(pyimage *im, uint64_t addr, size_t len);

/* Position of the byte at addr among the bytes of the copy (the regions
 * in address order, back to back): 0 .. pyimage_span()-1, or -1 when addr
 * is not in the copy. For bitmaps over the copy. */
int64_t pyimage_index(pyimage *im, uint64_t addr);

/* Bytes in all copied runs (the range of pyimage_index). */
uint64_t pyimage_span(const pyimage *im);

/* Whether addr is in the copy of a file-backed mapping (a data segment:
 * statically allocated objects), as opposed to anonymous memory. */
int pyimage_is_file(pyimage *im, uint64_t addr);

/* Copied runs in address order: the i-th one's [*start, *end) and whether
 * it is file-backed. Returns -1 when i is past the last. */
int pyimage_region(const pyimage *im, size_t i, uint64_t *start, uint64_t *end, int *file);

const pyimage_stats *pyimage_stats_get(const pyimage *im);

#endif

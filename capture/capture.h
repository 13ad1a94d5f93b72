/*
 * capture.h - taking one snapshot of a process from /proc and /sys without
 * touching it: mappings with smaps figures, smaps_rollup, status memory
 * lines, identity, cgroup memory, host facts, diagnostics; and, when the
 * target is CPython, its heap (pyheap.h: the only part that pauses it).
 */
#ifndef MEMSNAP_CAPTURE_H
#define MEMSNAP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "msnap.h"
#include "pyheap.h"
#include "redact.h"

#define CAPTURE_AGENT "memsnap-capture " MS_LIB_VERSION

typedef struct {
    int pid;
    size_t max_mappings;   /* rows kept per snapshot; more are counted, noted */
    redactor *redact;      /* NULL: nothing redacted */
    int redact_random_key; /* the key was made up for this run (noted in diagnostics) */
    const char *proc_root; /* "/proc" normally; tests may point elsewhere */
    int python;            /* walk a CPython heap when the target is one */
    pyheap_opts py;        /* how (pause, memory cap, retries) */
    /* state carried across a series */
    uint64_t seq;          /* next snapshot's sequence number */
    uint64_t start_ticks;  /* the target's start time: detects PID reuse */
} capture_target;

typedef enum {
    CAPTURE_OK = 0,
    CAPTURE_GONE = 1,   /* the target exited (or its PID was reused); nothing written */
    CAPTURE_FAILED = 2  /* an error; nothing written for this snapshot */
} capture_status;

typedef struct {
    uint64_t rss_kib;      /* target RSS from the mappings */
    size_t mappings;
    uint64_t raw, compressed;
    int write_err;         /* ms_err of a failed write (MS_ERR_NOSPACE...), else 0 */
    char msg[768];         /* why, when not CAPTURE_OK */
    char py_note[768];     /* one line about the Python part, or "" */
    pyheap_result py;      /* Python part: pause, objects, copy */
} capture_result;

/* Checks that the target can be captured: it exists, is not a zombie or a
 * kernel thread, and its smaps are readable by us. Returns CAPTURE_OK or
 * fills `msg` with one line naming the cause and the fix. Records the
 * target's start time for PID-reuse checks. */
capture_status capture_check(capture_target *t, char *msg, size_t len);

/* Takes one snapshot and appends it to `w`. On CAPTURE_GONE/FAILED the
 * snapshot is discarded (the file keeps every earlier one). */
capture_status capture_one(capture_target *t, ms_writer *w, capture_result *res);

#endif

/*
 * pyheap.h - the CPython part of a snapshot, read from outside the process:
 * runtime identity, object-type histogram, sys.modules, pymalloc size
 * classes / arenas / totals and GC generations.
 *
 * How (details in pyheap.c): pyfind locates the runtime from ELF files
 * only; the target is paused with ptrace (every thread), its resident
 * writable memory copied (pyimage), and resumed; the walk then runs on the
 * copy. The walk never writes to the target. With `no_pause` the copy is
 * taken from the running process, validated, retried, and the result is
 * marked best-effort.
 */
#ifndef MEMSNAP_PYHEAP_H
#define MEMSNAP_PYHEAP_H

#include <stddef.h>
#include <stdint.h>

#include "msnap.h"
#include "redact.h"

typedef struct {
    int no_pause;               /* read the running target (best-effort) */
    uint64_t max_copy;          /* bytes of target memory the agent may copy */
    unsigned pause_timeout_ms;  /* give up stopping the threads after this */
    unsigned retries;           /* attempts when the heap looks inconsistent */
    redactor *redact;           /* non-NULL: file paths outside system directories are hashed */
    const char *maps;           /* non-NULL: /proc/PID/maps text of the named mappings, just read */
    size_t maps_len;            /* (smaps_named_maps), so pyfind need not read maps again */
} pyheap_opts;

typedef struct {
    int python;                 /* 1 when a CPython runtime was found */
    uint64_t pause_ns;          /* how long the target was stopped (0: not) */
    uint64_t objects;           /* objects in the histogram */
    uint64_t walk_ns;           /* walk time on the copy */
    uint64_t copied_bytes;      /* target memory copied */
} pyheap_result;

/* Adds the Python sections of PID to the snapshot being written to `w`
 * (between ms_writer_begin and ms_writer_end), and one or more rows to
 * `diag` (a MS_SEC_DIAGNOSTICS table) saying what was complete,
 * approximate or unavailable and why. A process that is not CPython adds
 * only an "info" diagnostic. Failures of the Python part are never
 * errors of the snapshot: the mappings are still written. `note` receives
 * one line for the user when something about Python is worth saying
 * ("not a Python process", "Python part unavailable: ...") or "".
 * Must run on the thread that may later be interrupted by the caller's
 * signal handler calling pt_resume_from_signal. Returns 0, or an MS_ERR_*
 * code when the writer failed (out of memory, write error). */
int pyheap_capture(int pid, const char *proc_root, const pyheap_opts *o, ms_writer *w, ms_table *diag,
                   pyheap_result *res, char *note, size_t note_len);

#endif

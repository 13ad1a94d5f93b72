/*
 * encode_reference.h - the reference column encoder (encode_reference.c),
 * which the library's ms_encode_table must match byte for byte.
 */
#ifndef ENCODE_REFERENCE_H
#define ENCODE_REFERENCE_H

#include "msnap_internal.h"

/* Scratch of the reference encoder; zero-initialised, freed with
 * ref_encoder_free. */
typedef struct {
    void *cand;    /* per-column choices */
    size_t cap;    /* entries of cand */
    uint64_t *seq; /* one value per row */
    size_t seqcap; /* entries of seq */
    ms_buf col;    /* one column's data */
} ref_encoder;

/* As ms_encode_table: appends the table body of SPEC.md 5.2 for `ncols`
 * columns of `nrows` rows to `out`. Returns 0 or MS_ERR_NOMEM. */
int ref_encode_table(ref_encoder *e, const ms_ecol *cols, size_t ncols, size_t nrows, ms_buf *out);

/* Frees the encoder's memory; NULL is a no-op. */
void ref_encoder_free(ref_encoder *e);

#endif

/*
 * fuzz_payload.c - libFuzzer target for the payload parser alone: the
 * input is a decompressed snapshot payload (string table and sections,
 * SPEC.md section 4), given to ms_payload_parse as the reader would after
 * zstd. This reaches the table decoder directly, without a mutation having
 * to survive zstd and the CRCs first. Every cell of a parsed snapshot is
 * touched (fuzz_walk.c); a failure must give an error code and a
 * "payload byte N: " message with N inside the payload.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_walk.h"
#include "msnap_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_snapshot *s = (ms_snapshot *)1;
    char msg[400] = "";
    int rc = ms_payload_parse(data, size, &s, msg, sizeof msg);
    if (rc != 0) {
        if (s) fuzz_fail("ms_payload_parse failed but returned a snapshot");
        if (rc > 0 || strcmp(ms_errname(rc), "MS_ERR_UNKNOWN") == 0) fuzz_fail("an error code outside ms_err");
        unsigned long long at;
        if (rc != MS_ERR_NOMEM && (sscanf(msg, "payload byte %llu: ", &at) != 1 || at > size))
            fuzz_fail("a payload error without 'payload byte N' inside the payload");
        return 0;
    }
    if (!s) fuzz_fail("ms_payload_parse succeeded without a snapshot");
    volatile uint64_t sink = fuzz_walk_snapshot(s);
    (void)sink;
    ms_snapshot_free(s);
    return 0;
}

/*
 * fuzz_reader.c - libFuzzer target for the whole reader: the input is a
 * .msnap file, opened with ms_reader_open_mem, every snapshot read and
 * every cell touched (fuzz_walk.c).
 *
 * Checksum mode is chosen by the input's size parity: an even size is read
 * with every CRC checked (what users get), an odd size with
 * MS_READ_NO_CHECKSUM so that mutations get past the CRCs into the record
 * and zstd layers. No byte of the input is spent on the choice, so a valid
 * file stays a valid file in both modes: appending one byte to a valid
 * even-sized file reads all its snapshots without CRCs before the stray
 * byte is refused. In the libFuzzer build, fuzz_reader_mutator.c also
 * mutates inside the zstd payloads and fixes the CRCs, so mutated sections
 * reach the payload parser through the whole reader (fuzz_payload.c
 * fuzzes that parser directly).
 *
 * Beyond memory safety, the target checks what msnap.h promises about
 * errors: a code from the enum, a message naming the input and a byte
 * offset inside the file, and errors that stay (sticky) once returned.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_walk.h"
#include "msnap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz-input"

/* An error code must be one of the enum's (ms_errname knows it). */
static void fuzz_check_code(int rc)
{
    if (rc >= 0 || strcmp(ms_errname(rc), "MS_ERR_UNKNOWN") == 0) fuzz_fail("an error code outside ms_err");
}

/* "FUZZ_NAME: byte N: ..." with N the offset reported and within the file. */
static void fuzz_check_message(const char *msg, uint64_t off, size_t size)
{
    char want[64];
    snprintf(want, sizeof want, FUZZ_NAME ": byte %llu: ", (unsigned long long)off);
    if (strncmp(msg, want, strlen(want)) != 0) fuzz_fail("an error message not of the form 'NAME: byte OFFSET: what'");
    if (off > size) fuzz_fail("an error offset beyond the end of the input");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags = (size & 1) ? MS_READ_NO_CHECKSUM : 0;
    int err = 1;
    char msg[512];
    ms_reader *r = ms_reader_open_mem(data, size, FUZZ_NAME, flags, &err, msg, sizeof msg);
    if (!r) {
        fuzz_check_code(err);
        unsigned long long off = 0;
        if (err != MS_ERR_NOMEM) {
            if (sscanf(msg, FUZZ_NAME ": byte %llu: ", &off) != 1) fuzz_fail("an open error without 'byte N'");
            fuzz_check_message(msg, off, size);
        }
        return 0;
    }
    if (err != 0) fuzz_fail("ms_reader_open_mem succeeded but set *err");
    ms_reader_set_max_raw(r, (uint64_t)1 << 20);
    unsigned major, minor;
    const char *writer_id;
    ms_reader_version(r, &major, &minor, &writer_id);
    if (major != MS_FORMAT_MAJOR || strlen(writer_id) >= 40) fuzz_fail("bad version facts after a good open");

    uint64_t sum = 0, count = 0, prev_end = 0;
    ms_snapshot *s;
    int rc;
    while ((rc = ms_reader_next(r, &s)) == 0) {
        if (!s) fuzz_fail("ms_reader_next returned 0 without a snapshot");
        uint64_t off, comp, raw;
        ms_snapshot_sizes(s, &off, &comp, &raw);
        if (off < prev_end || comp == 0 || raw == 0 || raw > ((uint64_t)1 << 20) || off + comp > size)
            fuzz_fail("record facts out of order, empty, over the cap or past the input");
        prev_end = off + comp;
        sum += fuzz_walk_snapshot(s);
        ms_snapshot_free(s);
        count++;
    }
    if (s) fuzz_fail("ms_reader_next failed but returned a snapshot");
    fuzz_check_code(rc);
    uint64_t off = ms_reader_error_offset(r);
    if (rc == MS_ERR_END) {
        if (off != size) fuzz_fail("MS_ERR_END before the end of the input");
    } else if (rc != MS_ERR_NOMEM) { /* MS_ERR_END is no failure: its message has no offset */
        fuzz_check_message(ms_reader_error(r), off, size);
    }
    if (ms_reader_next(r, &s) != rc || s) fuzz_fail("an error did not stick");
    ms_reader_close(r);
    /* keep the reads alive without printing anything */
    volatile uint64_t sink = sum + count;
    (void)sink;
    return 0;
}

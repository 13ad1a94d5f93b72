/*
 * fuzz_dump.c - libFuzzer target for `memsnap dump` and `memsnap info`:
 * the input is a .msnap file; both commands' code (analyze/inspect.c,
 * analyze/json_out.c) run on it through the reader, writing to /dev/null.
 * Checksum mode follows the input's size parity, as in fuzz_reader.c, so
 * that mutated content reaches the JSON writer. The reader's own checks
 * are fuzz_reader's job; this target is about what the commands do with
 * whatever the reader accepts (strings of any bytes, unknown sections and
 * columns, extreme numbers).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "inspect.h"
#include "msnap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) abort();
    unsigned flags = (size & 1) ? MS_READ_NO_CHECKSUM : 0;
    for (int cmd = 0; cmd < 2; cmd++) {
        ms_reader *r = ms_reader_open_mem(data, size, "fuzz-input", flags, NULL, NULL, 0);
        if (!r) return 0;
        ms_reader_set_max_raw(r, 1u << 20);
        if (cmd == 0)
            inspect_dump(r, "fuzz-input", sink, sink, "memsnap dump");
        else
            inspect_info(r, "fuzz-input", sink, sink, "memsnap info");
        ms_reader_close(r);
    }
    return 0;
}

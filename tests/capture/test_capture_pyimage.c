/*
 * test_capture_pyimage.c - cmocka tests of pyimage_from_regions (capture/
 * pyimage.h), the image the heap walk's fuzz target and tests build from
 * memory: regions in any order come out sorted, bytes past a region's data
 * read as zero, read-only regions answer only pyimage_read/cstr, reads
 * never cross a region's end, positions (pyimage_index) run back to back,
 * and malformed or overlapping regions are refused with a message naming
 * them.
 */
#include <stdio.h>
#include <string.h>

#include "capture_test_util.h"
#include "pyimage.h"

static void test_regions_sorted_and_read(void **state)
{
    (void)state;
    static const unsigned char heap[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const char name[] = "tp_name";
    const pyimage_region_spec r[] = {
        {0x7000, 16, heap, sizeof heap, PYIMAGE_ANON}, /* 7 zero bytes after the data */
        {0x1000, 8, "datadata", 8, PYIMAGE_FILE},
        {0x9000, 4096, name, sizeof name, PYIMAGE_FILE_RO},
    };
    char msg[256] = "";
    pyimage *im = pyimage_from_regions(r, 3, msg, sizeof msg);
    if (!im) fail_msg("pyimage_from_regions refused valid regions: %s", msg);
    uint64_t s, e;
    int file;
    if (pyimage_region(im, 0, &s, &e, &file) || s != 0x1000 || e != 0x1008 || file != 1)
        fail_msg("region 0 is not the file-backed one at 0x1000");
    if (pyimage_region(im, 1, &s, &e, &file) || s != 0x7000 || e != 0x7010 || file != 0)
        fail_msg("region 1 is not the anonymous one at 0x7000");
    if (!pyimage_region(im, 2, &s, &e, &file)) fail_msg("a read-only region is listed as copied");
    ct_eq_u64(pyimage_stats_get(im)->copied_bytes, 24, "copied bytes (read-only regions excluded)");
    ct_eq_u64(pyimage_span(im), 24, "span");

    const unsigned char *p = pyimage_ptr(im, 0x7008, 8);
    if (!p || p[0] != 9 || p[1] != 0 || p[7] != 0) fail_msg("bytes past the data do not read as zero");
    if (pyimage_ptr(im, 0x7008, 9)) fail_msg("a read past the region's end succeeded");
    if (pyimage_ptr(im, 0x1004, 8)) fail_msg("a read across the gap between regions succeeded");
    if (pyimage_ptr(im, UINT64_MAX - 2, 8)) fail_msg("a read wrapping past 2^64 succeeded");
    if (!pyimage_is_file(im, 0x1000) || pyimage_is_file(im, 0x7000)) fail_msg("pyimage_is_file is wrong");
    ct_eq_u64((uint64_t)pyimage_index(im, 0x1000), 0, "index of the first byte");
    ct_eq_u64((uint64_t)pyimage_index(im, 0x7003), 11, "index in the second region");
    if (pyimage_index(im, 0x7010) != -1 || pyimage_index(im, 0x9000) != -1)
        fail_msg("an address outside the copy has an index");

    /* read-only: pyimage_read and pyimage_cstr answer, pyimage_ptr does not */
    if (pyimage_has(im, 0x9000, 1)) fail_msg("read-only memory is in the copy");
    char buf[64];
    if (pyimage_read(im, 0x9000, buf, sizeof name) || strcmp(buf, name)) fail_msg("read-only bytes not read");
    if (pyimage_cstr(im, 0x9002, buf, sizeof buf) != 5 || strcmp(buf, "_name"))
        fail_msg("pyimage_cstr in read-only memory gave \"%s\"", buf);
    if (!pyimage_read(im, 0x9000 + 4090, buf, 8)) fail_msg("a read past a read-only region's end succeeded");
    pyimage_free(im);
}

static void test_refused(void **state)
{
    (void)state;
    static const unsigned char d[16] = {0};
    char msg[256];
    const pyimage_region_spec overlap[] = {{0x2000, 16, d, 16, PYIMAGE_ANON}, {0x1ff8, 16, d, 16, PYIMAGE_FILE}};
    msg[0] = 0;
    if (pyimage_from_regions(overlap, 2, msg, sizeof msg)) fail_msg("overlapping regions accepted");
    if (!ct_contains(msg, "0x1ff8") || !ct_contains(msg, "0x2000") || !ct_contains(msg, "overlap"))
        fail_msg("the message does not name both regions: %s", msg);
    const pyimage_region_spec bad[][1] = {
        {{0x1000, 0, d, 0, PYIMAGE_ANON}},                   /* empty */
        {{UINT64_MAX - 7, 16, d, 16, PYIMAGE_ANON}},         /* wraps past 2^64 */
        {{0x1000, 8, d, 16, PYIMAGE_ANON}},                  /* more data than size */
        {{0x1000, 16, NULL, 16, PYIMAGE_ANON}},              /* no data */
        {{0x1000, 16, d, 16, 7}},                            /* unknown kind */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = 0;
        if (pyimage_from_regions(bad[i], 1, msg, sizeof msg)) fail_msg("malformed region %zu accepted", i);
        if (!ct_contains(msg, "region 0")) fail_msg("case %zu: the message does not name the region: %s", i, msg);
    }
    /* no regions at all: an empty image, every read fails */
    pyimage *im = pyimage_from_regions(NULL, 0, msg, sizeof msg);
    if (!im) fail_msg("an empty image was refused: %s", msg);
    if (pyimage_has(im, 0, 1) || pyimage_span(im) != 0) fail_msg("an empty image holds something");
    pyimage_free(im);
    pyimage_free(NULL);
}

int main(void)
{
    ct_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regions_sorted_and_read),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests_name("capture_pyimage", tests, NULL, NULL);
}

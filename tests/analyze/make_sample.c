/*
 * make_sample.c - writes synthetic .msnap files with every section of the
 * format (the Python ones included, which the agent does not capture
 * yet), for the CLI tests and the README's worked queries.
 *
 * usage: analyze_make_sample OUT.msnap [N [FIRST_SEQ]]   (default 2 snapshots from 0)
 */
#include <stdio.h>
#include <stdlib.h>

#include "analyze_test_util.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: analyze_make_sample OUT.msnap [N [FIRST_SEQ]]\n");
        return 2;
    }
    unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 2;
    unsigned first = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
    at_full_file(argv[1], first, n); /* exits with a message on failure */
    return 0;
}

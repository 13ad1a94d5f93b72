/*
 * memsnap_main.c - the `memsnap` command: a table of subcommands drives
 * dispatch, argument checks and help.
 *
 * Exit status: 0 success (a truncated tail is a warning, not a failure),
 * 1 a runtime failure (unreadable or corrupt file, write error), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"
#include "msnap.h"

#define EXIT_USAGE 2

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    const char *summary;
    const char *help; /* shown by `memsnap CMD --help` after the usage line */
} command;

static int cmd_info(int argc, char **argv);
static int cmd_dump(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const command commands[] = {
    {"info", cmd_info, "[--no-verify] FILE...", "summarise each file and snapshot",
     "For each file: format version and writer; for each snapshot: time, pid, command,\n"
     "capture duration and pause, compressed and raw size, sections with row counts,\n"
     "and the capture's warnings (parts approximate or unavailable).\n"
     "  --no-verify   do not check checksums (salvage a damaged file; structure is\n"
     "                still fully checked)\n"},
    {"dump", cmd_dump, "[--no-verify] FILE...", "write the whole content as JSON, one line per snapshot",
     "Writes one JSON object per snapshot and line (JSON Lines, for jq and scripts):\n"
     "  {\"file\", \"format\", \"writer\", \"snapshot\", \"offset\", \"compressed_bytes\",\n"
     "   \"raw_bytes\", \"sections\": {NAME: [ {COLUMN: value, ...}, ... ]},\n"
     "   \"unknown_sections\": [{\"type\", \"bytes\"}]}\n"
     "Section and column names are those of format/SPEC.md section 6; columns unknown\n"
     "to this version appear as \"col_ID\". Strings that are not valid UTF-8 (paths\n"
     "can be any bytes) are written as {\"hex\": \"...\"}; null strings as null.\n"
     "Numbers are exact unsigned/signed 64-bit decimals (beware: jq rounds beyond 2^53).\n"
     "  --no-verify   do not check checksums\n"},
    {"help", cmd_help, "[COMMAND]", "show help for memsnap or a command", ""},
    {"version", cmd_version, "", "print the version", ""},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const command *command_find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

static void usage_all(FILE *f)
{
    fprintf(f, "usage: memsnap COMMAND [ARGS]\n\n"
               "memsnap reads .msnap memory snapshots written by memsnap-capture.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'memsnap COMMAND --help' shows a command's options.\n"
               "exit status: 0 ok (a truncated last snapshot only warns), 1 failure, 2 usage error\n");
}

static void usage_cmd(FILE *f, const command *c)
{
    fprintf(f, "usage: memsnap %s %s\n%s%s", c->name, c->args, c->help[0] ? "\n" : "", c->help);
}

static int usage_error(const command *c, const char *what, const char *arg)
{
    fprintf(stderr, "memsnap %s: %s%s%s\n", c->name, what, arg ? " " : "", arg ? arg : "");
    usage_cmd(stderr, c);
    return EXIT_USAGE;
}

/* Shared by commands that read files: parses [--no-verify] [--help] FILE...
 * Returns -1 to go on, or an exit status. */
static int parse_file_args(const command *c, int argc, char **argv, unsigned *flags, int *first)
{
    int i = 1;
    *flags = 0;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage_cmd(stdout, c);
            return 0;
        }
        if (!strcmp(argv[i], "--no-verify"))
            *flags |= MS_READ_NO_CHECKSUM;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error(c, "unknown option", argv[i]);
        else
            break;
    }
    if (i >= argc) return usage_error(c, "no FILE given", NULL);
    *first = i;
    return -1;
}

typedef inspect_result (*file_fn)(ms_reader *, const char *, FILE *, FILE *, const char *);

static int run_on_files(const command *c, int argc, char **argv, file_fn fn)
{
    unsigned flags = 0;
    int first = 0, rc = parse_file_args(c, argc, argv, &flags, &first);
    if (rc >= 0) return rc;
    char prog[32];
    snprintf(prog, sizeof prog, "memsnap %s", c->name);
    int failed = 0;
    for (int i = first; i < argc; i++) {
        int err;
        char msg[640];
        ms_reader *r = ms_reader_open(argv[i], flags, &err, msg, sizeof msg);
        if (!r) {
            fprintf(stderr, "%s: %s [%s]\n", prog, msg, ms_errname(err));
            failed = 1;
            continue;
        }
        if (fn(r, argv[i], stdout, stderr, prog) == INSPECT_FAILED) failed = 1;
        ms_reader_close(r);
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int cmd_info(int argc, char **argv)
{
    return run_on_files(command_find("info"), argc, argv, inspect_info);
}

static int cmd_dump(int argc, char **argv)
{
    return run_on_files(command_find("dump"), argc, argv, inspect_dump);
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        usage_all(stdout);
        return 0;
    }
    const command *c = command_find(argv[1]);
    if (!c) {
        fprintf(stderr, "memsnap help: unknown command '%s'\n", argv[1]);
        usage_all(stderr);
        return EXIT_USAGE;
    }
    usage_cmd(stdout, c);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("memsnap %s (.msnap format %d.%d)\n", MS_LIB_VERSION, MS_FORMAT_MAJOR, MS_FORMAT_MINOR);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_all(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) name = "help";
    if (!strcmp(name, "--version")) name = "version";
    const command *c = command_find(name);
    if (!c) {
        fprintf(stderr, "memsnap: unknown command '%s'\n", argv[1]);
        usage_all(stderr);
        return EXIT_USAGE;
    }
    int rc = c->fn(argc - 1, argv + 1);
    /* A full disk or closed pipe must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("memsnap: writing output failed");
        return EXIT_FAILURE;
    }
    return rc;
}

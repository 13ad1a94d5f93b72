/*
 * memsnap_main.c - the `memsnap` command: a table of subcommands drives
 * dispatch, argument checks and help.
 *
 * Exit status: 0 success (a truncated tail is a warning, not a failure),
 * 1 a runtime failure (unreadable or corrupt file, write error), 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "inspect.h"
#include "load.h"
#include "msnap.h"
#include "query.h"
#include "schema.h"

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
static int cmd_load(int argc, char **argv);
static int cmd_sql(int argc, char **argv);
static int cmd_schema(int argc, char **argv);
static int cmd_report(int argc, char **argv);
static int cmd_diff(int argc, char **argv);
static int cmd_frag(int argc, char **argv);
static int cmd_trend(int argc, char **argv);
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
    {"load", cmd_load, "[-d DB] [--wait SEC] [--no-verify] [-q] FILE...",
     "load snapshots into an SQLite database",
     "Loads every snapshot of every FILE into the database DB (default: " LOAD_DEFAULT_DB " in the\n"
     "current directory; created with its schema when missing). Each file loads in one\n"
     "transaction: a corrupt file is reported and leaves nothing behind, the other files\n"
     "still load, and the exit status is 1. A truncated last snapshot only warns.\n"
     "Loading a snapshot that is already in the database adds nothing (snapshot ids).\n"
     "The database is an ordinary SQLite file: `memsnap sql`, the sqlite3 shell or any\n"
     "SQLite tool reads it. `memsnap schema` documents its tables.\n"
     "  -d, --db DB    database file (default " LOAD_DEFAULT_DB ")\n"
     "  --wait SEC     how long to wait for a lock held by another program (default 5)\n"
     "  --no-verify    do not check checksums (salvage a damaged file)\n"
     "  -q, --quiet    no summary line (errors and warnings are still shown)\n"
     "A progress line is shown on a terminal.\n"},
    {"sql", cmd_sql, "[--csv | --json] [--no-verify] DB_OR_FILES... [QUERY]",
     "run SQL on a database or directly on .msnap files",
     "Runs QUERY on the database DB, or on .msnap FILES loaded into a temporary\n"
     "in-memory database (nothing is written). Several statements separated by ';'\n"
     "run in order; the rows of the last one are printed. Without QUERY, the query is\n"
     "read from standard input when it is not a terminal. For an interactive session,\n"
     "open the database in the sqlite3 shell: sqlite3 -box memsnap.db\n"
     "  (default)  aligned table: header, numbers right-aligned, NULL as empty\n"
     "  --csv      CSV (RFC 4180, CRLF line ends, header row; NULL as empty)\n"
     "  --json     JSON array of objects: numbers as numbers, NULL as null, blobs as\n"
     "             hex strings, text that is not UTF-8 as {\"hex\": ...}\n"
     "SQLite errors show the message and the query line with a caret under the place\n"
     "it points at. `memsnap schema` lists the tables and views.\n"},
    {"report", cmd_report, "[--snapshot ID] [--json] [--show-sql] [--top N] FILE_OR_DB...",
     "where a process's memory goes: RSS broken into parts that add up",
     "RSS, PSS, USS and swap of one snapshot (default: the last one) broken into parts\n"
     "that add up to RSS: the pymalloc arenas (blocks in use, free blocks, empty pools,\n"
     "headers, rounding), the C heap and other anonymous memory (with an estimate of the\n"
     "Python objects allocated outside pymalloc), the interpreter, each extension\n"
     "module and shared library (private and shared), mapped files, stacks, shared\n"
     "memory, and an 'unexplained' line. Then the live Python objects and top types,\n"
     "the container's limits, and the capture's diagnostics when something was\n"
     "approximate or missing.\n"
     "  --snapshot ID  the snapshot (snapshots.id; `memsnap sql DB \"SELECT * FROM snapshot_summary\"`)\n"
     "  --json         one JSON object instead of the text report\n"
     "  --show-sql     print each SQL query before its result (on stderr with --json)\n"
     "  --top N        rows per list (default 10)\n"
     "  --no-verify    do not check .msnap checksums\n"
     "FILE_OR_DB is a memsnap database or one or more .msnap files (loaded into a\n"
     "temporary in-memory database). Everything is computed by SQL on the views of\n"
     "`memsnap schema` (memory_parts, arena_usage, top_types, library_totals).\n"},
    {"diff", cmd_diff, "[--json] [--show-sql] [--top N] A B | FILE_OR_DB [ID_A ID_B]",
     "what changed between two snapshots",
     "Compares snapshot A with snapshot B: the RSS change by the parts of `memsnap\n"
     "report`, pymalloc arenas created and returned to the OS, types that grew and\n"
     "shrank (by bytes), modules imported in between with the RSS of their files,\n"
     "libraries and other mappings that appeared, vanished or changed.\n"
     "  A B            two .msnap files: the last snapshot of each\n"
     "  FILE_OR_DB ID_A ID_B   two snapshots (snapshots.id) of one database or file\n"
     "  FILE_OR_DB     alone: the first and the last snapshot of its last process\n"
     "  --json         one JSON object instead of the text report\n"
     "  --show-sql     print each SQL query before its result (on stderr with --json)\n"
     "  --top N        rows per list (default 10)\n"
     "  --no-verify    do not check .msnap checksums\n"
     "FILE_OR_DB is a memsnap database or one or more .msnap files (loaded into a\n"
     "temporary in-memory database). Everything is computed by SQL on the views of\n"
     "`memsnap schema` (memory_parts, arena_usage, top_types, library_totals).\n"},
    {"frag", cmd_frag, "[--snapshot ID] [--json] [--show-sql] [--top N] FILE_OR_DB...",
     "pymalloc and C heap fragmentation, with a verdict",
     "pymalloc: arenas, bytes in arenas against bytes in live blocks (utilisation), a\n"
     "histogram of arena utilisation, the arenas pinned by a few live blocks (under\n"
     "25% used), the waste per size class; the C heap's resident memory against what\n"
     "is accounted for; and a verdict with the numbers.\n"
     "  --snapshot ID  the snapshot (default: the last one)\n"
     "  --json         one JSON object instead of the text report\n"
     "  --show-sql     print each SQL query before its result (on stderr with --json)\n"
     "  --top N        rows per list (default 10)\n"
     "  --no-verify    do not check .msnap checksums\n"
     "FILE_OR_DB is a memsnap database or one or more .msnap files (loaded into a\n"
     "temporary in-memory database). Everything is computed by SQL on the views of\n"
     "`memsnap schema` (memory_parts, arena_usage, top_types, library_totals).\n"},
    {"trend", cmd_trend, "[--snapshot ID] [--json] [--show-sql] [--top N] FILE_OR_DB...",
     "growth over a series: RSS sparkline, growth per part and type, leak suspects",
     "For the series of snapshots of one process (the process of the last snapshot,\n"
     "or of --snapshot ID, up to it): RSS over time (a sparkline), growth per part and\n"
     "per type from the first to the last snapshot, and leak suspects: types whose\n"
     "count or bytes grew in at least two thirds of the intervals, classes defined in\n"
     "code first, then by bytes per minute.\n"
     "  --snapshot ID  the last snapshot of the series (default: the last one)\n"
     "  --json         one JSON object instead of the text report\n"
     "  --show-sql     print each SQL query before its result (on stderr with --json)\n"
     "  --top N        rows per list (default 10)\n"
     "  --no-verify    do not check .msnap checksums\n"
     "FILE_OR_DB is a memsnap database or one or more .msnap files (loaded into a\n"
     "temporary in-memory database). Everything is computed by SQL on the views of\n"
     "`memsnap schema` (memory_parts, arena_usage, top_types, library_totals).\n"},
    {"schema", cmd_schema, "[--sql]", "print the database schema: every table, column, unit",
     "Prints the reference of the database schema (Markdown): every table and column\n"
     "with type, unit, source and meaning; the views, indexes and mapping categories.\n"
     "  --sql   print the CREATE statements instead\n"},
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

/* ---------------------------------------------------------------- load */

typedef struct {
    int tty;             /* progress shown at all */
    size_t file_no, nfiles;
    double last;         /* when the line was last drawn, s */
    int drawn;           /* a line is on the screen */
} load_progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress_clear(load_progress *p)
{
    if (p->drawn) fputs("\r\033[K", stderr);
    p->drawn = 0;
}

static void progress_draw(void *ctx, const char *file, const load_stats *st)
{
    load_progress *p = ctx;
    double t = now_s();
    if (!p->tty || t - p->last < 0.1) return;
    p->last = t;
    const char *base = strrchr(file, '/');
    fprintf(stderr, "\r\033[Kloading %zu/%zu %.40s: %" PRIu64 " snapshots added (%" PRIu64 " rows), %" PRIu64
                    " already present", p->file_no, p->nfiles, base ? base + 1 : file, st->snapshots, st->rows,
            st->skipped);
    p->drawn = 1;
}

/* Messages of the loader while a progress line may be on the terminal:
 * the line is cleared first, so that a message does not continue it. */
static ssize_t progress_message(void *ctx, const char *buf, size_t n)
{
    progress_clear(ctx);
    return (ssize_t)fwrite(buf, 1, n, stderr);
}

static int cmd_load(int argc, char **argv)
{
    const command *c = command_find("load");
    const char *db = LOAD_DEFAULT_DB;
    unsigned flags = 0;
    int quiet = 0, busy_ms = LOAD_DEFAULT_BUSY_MS, i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_cmd(stdout, c);
            return 0;
        }
        if (!strcmp(a, "-d") || !strcmp(a, "--db")) {
            if (++i >= argc) return usage_error(c, "option needs a value:", a);
            db = argv[i];
        } else if (!strcmp(a, "--wait")) {
            char *end;
            if (++i >= argc) return usage_error(c, "option needs a value:", a);
            errno = 0;
            double sec = strtod(argv[i], &end);
            if (errno || end == argv[i] || *end || !(sec >= 0 && sec <= 86400))
                return usage_error(c, "--wait needs seconds (0 to 86400), not", argv[i]);
            busy_ms = (int)(sec * 1000);
        } else if (!strcmp(a, "--no-verify")) {
            flags |= MS_READ_NO_CHECKSUM;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            return usage_error(c, "unknown option", a);
        } else {
            break;
        }
    }
    if (i >= argc) return usage_error(c, "no FILE given", NULL);

    loader_global_init();
    char err[768];
    loader *L = loader_open(db, busy_ms, err, sizeof err);
    if (!L) {
        fprintf(stderr, "memsnap load: %s\n", err);
        return EXIT_FAILURE;
    }
    load_progress prog = {isatty(2), 0, (size_t)(argc - i), 0, 0};
    loader_set_progress(L, progress_draw, &prog);
    FILE *msgs = stderr;
    if (prog.tty) {
        cookie_io_functions_t io = {NULL, progress_message, NULL, NULL};
        FILE *f = fopencookie(&prog, "w", io);
        if (f) {
            setvbuf(f, NULL, _IONBF, 0);
            msgs = f;
        }
    }
    load_stats st = {0};
    int failed = 0;
    for (int k = i; k < argc; k++) {
        prog.file_no = (size_t)(k - i + 1);
        load_result r = loader_load_file(L, argv[k], flags, &st, msgs, "memsnap load");
        if (r == LOAD_FILE_FAILED) failed = 1;
        if (r == LOAD_DB_FAILED) {
            failed = 1;
            progress_clear(&prog);
            if (k + 1 < argc)
                fprintf(stderr, "memsnap load: %d more file%s not loaded\n", argc - k - 1,
                        argc - k - 1 == 1 ? "" : "s");
            st.files_failed += (uint64_t)(argc - k - 1);
            break;
        }
    }
    progress_clear(&prog);
    if (msgs != stderr) fclose(msgs);
    if (loader_finish(L, err, sizeof err) < 0) {
        fprintf(stderr, "memsnap load: %s (while building the indexes: the snapshots are loaded, the next "
                        "load builds them)\n", err);
        failed = 1;
    }
    if (loader_close(L) < 0) {
        fprintf(stderr, "memsnap load: %s: closing the database failed\n", db);
        failed = 1;
    }
    if (!quiet)
        printf("%s: %" PRIu64 " file%s loaded, %" PRIu64 " failed: %" PRIu64 " snapshot%s added (%" PRIu64
               " rows), %" PRIu64 " already present\n",
               db, st.files, st.files == 1 ? "" : "s", st.files_failed, st.snapshots,
               st.snapshots == 1 ? "" : "s", st.rows, st.skipped);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ----------------------------------------------------------------- sql */

enum { INPUT_MISSING = -1, INPUT_OTHER = 0, INPUT_SQLITE = 1, INPUT_MSNAP = 2 };

/* What a path holds, by its first bytes: an SQLite database or a .msnap
 * file (ms_reader_open accepts its header). */
static int input_kind(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return INPUT_MISSING;
    char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 16 && !memcmp(head, "SQLite format 3", 16)) return INPUT_SQLITE;
    int err;
    ms_reader *r = ms_reader_open(path, 0, &err, NULL, 0);
    if (r) {
        ms_reader_close(r);
        return INPUT_MSNAP;
    }
    return err == MS_ERR_MAGIC || err == MS_ERR_IO ? INPUT_OTHER : INPUT_MSNAP;
}

/* Reads all of standard input (the query) into a malloc'd string. */
static char *read_stdin(void)
{
    size_t len = 0, cap = 4096;
    char *s = malloc(cap);
    while (s) {
        size_t n = fread(s + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) break;
        if (cap - len < 2) {
            char *p = cap < ((size_t)64 << 20) ? realloc(s, cap * 2) : NULL;
            if (!p) {
                free(s);
                return NULL;
            }
            s = p;
            cap *= 2;
        }
    }
    if (s) s[len] = '\0';
    return s;
}

static int cmd_sql(int argc, char **argv)
{
    const command *c = command_find("sql");
    query_format fmt = QUERY_TABLE;
    unsigned flags = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_cmd(stdout, c);
            return 0;
        }
        if (!strcmp(a, "--csv"))
            fmt = QUERY_CSV;
        else if (!strcmp(a, "--json"))
            fmt = QUERY_JSON;
        else if (!strcmp(a, "--table"))
            fmt = QUERY_TABLE;
        else if (!strcmp(a, "--no-verify"))
            flags |= MS_READ_NO_CHECKSUM;
        else if (a[0] == '-' && a[1])
            return usage_error(c, "unknown option", a);
        else
            break;
    }
    if (i >= argc) return usage_error(c, "no DB or FILE given", NULL);
    /* The last argument is the query unless it is a database or .msnap file. */
    int nin = argc - i;
    const char *query = NULL;
    if (nin > 1 || input_kind(argv[argc - 1]) <= INPUT_OTHER) {
        int last = input_kind(argv[argc - 1]);
        if (nin == 1 || last <= INPUT_OTHER) {
            query = argv[argc - 1];
            nin--;
        }
    }
    if (nin == 0) return usage_error(c, "no DB or FILE given (only a query)", NULL);
    int ndb = 0;
    for (int k = i; k < i + nin; k++) {
        int kind = input_kind(argv[k]);
        if (kind == INPUT_MISSING) {
            fprintf(stderr, "memsnap sql: %s: cannot open: %s\n", argv[k], strerror(errno));
            return EXIT_FAILURE;
        }
        if (kind == INPUT_OTHER) {
            fprintf(stderr, "memsnap sql: %s: neither an SQLite database nor a .msnap file\n", argv[k]);
            return EXIT_FAILURE;
        }
        ndb += kind == INPUT_SQLITE;
    }
    if (ndb && nin > 1) return usage_error(c, "give one database, or .msnap files (not both)", NULL);

    char *owned = NULL;
    if (!query) {
        if (isatty(0)) {
            fprintf(stderr,
                    "memsnap sql: no QUERY given. memsnap has no prompt of its own; for an interactive\n"
                    "session open the database in the sqlite3 shell:\n"
                    "  %s%s\n"
                    "or give a query: memsnap sql %s \"SELECT * FROM snapshot_summary\"\n",
                    ndb ? "sqlite3 -box " : "memsnap load -d case.db FILE... && sqlite3 -box case.db",
                    ndb ? argv[i] : "", ndb ? argv[i] : "FILE...");
            return EXIT_USAGE;
        }
        query = owned = read_stdin();
        if (!owned) {
            fprintf(stderr, "memsnap sql: reading the query from standard input failed\n");
            return EXIT_FAILURE;
        }
        if (!owned[strspn(owned, " \t\r\n;")]) {
            free(owned);
            return usage_error(c, "no QUERY given (standard input was empty)", NULL);
        }
    }

    loader_global_init();
    sqlite3 *db = NULL;
    int failed = 0;
    if (ndb) {
        if (sqlite3_open_v2(argv[i], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            fprintf(stderr, "memsnap sql: %s: %s\n", argv[i], db ? sqlite3_errmsg(db) : "cannot open");
            sqlite3_close(db);
            free(owned);
            return EXIT_FAILURE;
        }
        sqlite3_busy_timeout(db, LOAD_DEFAULT_BUSY_MS);
    } else {
        char err[768];
        if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            fprintf(stderr, "memsnap sql: cannot create the in-memory database\n");
            sqlite3_close(db);
            free(owned);
            return EXIT_FAILURE;
        }
        loader *L = loader_attach(db, err, sizeof err);
        if (!L) {
            fprintf(stderr, "memsnap sql: %s\n", err);
            sqlite3_close(db);
            free(owned);
            return EXIT_FAILURE;
        }
        load_stats st = {0};
        for (int k = i; k < i + nin; k++)
            if (loader_load_file(L, argv[k], flags, &st, stderr, "memsnap sql") < 0) failed = 1;
        if (loader_finish(L, err, sizeof err) < 0) {
            fprintf(stderr, "memsnap sql: %s\n", err);
            failed = 1;
        }
        loader_close(L);
    }
    if (query_run(db, query, fmt, stdout, stderr, "memsnap sql") < 0) failed = 1;
    sqlite3_close(db);
    free(owned);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ------------------------------------------------------------ analyses */

/* Options shared by report, diff, frag and trend. */
typedef struct {
    int json, show_sql, top;
    int64_t snapshot;     /* --snapshot, 0: not given */
    unsigned flags;       /* MS_READ_* */
    char **in;            /* inputs (files or a database) */
    int nin;
    int64_t ids[2];       /* diff: snapshot ids given after the input */
    int nids;
} an_args;

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0) return -1;
    *id = v;
    return 0;
}

/* Returns -1 to go on, or an exit status. */
static int parse_an_args(const command *c, int argc, char **argv, an_args *a, int allow_snapshot, int allow_ids)
{
    memset(a, 0, sizeof *a);
    a->top = 10;
    a->in = calloc((size_t)argc + 1, sizeof *a->in);
    if (!a->in) {
        fprintf(stderr, "memsnap %s: out of memory\n", c->name);
        return EXIT_FAILURE;
    }
    int opts = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (opts && !strcmp(s, "--")) {
            opts = 0;
        } else if (opts && (!strcmp(s, "--help") || !strcmp(s, "-h"))) {
            usage_cmd(stdout, c);
            return 0;
        } else if (opts && !strcmp(s, "--json")) {
            a->json = 1;
        } else if (opts && !strcmp(s, "--show-sql")) {
            a->show_sql = 1;
        } else if (opts && !strcmp(s, "--no-verify")) {
            a->flags |= MS_READ_NO_CHECKSUM;
        } else if (opts && (!strcmp(s, "--top") || !strcmp(s, "-n"))) {
            int64_t n;
            if (++i >= argc) return usage_error(c, "option needs a value:", s);
            if (parse_id(argv[i], &n) < 0 || n > 100000) return usage_error(c, "--top needs a count (1 to 100000), not", argv[i]);
            a->top = (int)n;
        } else if (opts && allow_snapshot && (!strcmp(s, "--snapshot") || !strcmp(s, "-s"))) {
            if (++i >= argc) return usage_error(c, "option needs a value:", s);
            if (parse_id(argv[i], &a->snapshot) < 0) return usage_error(c, "--snapshot needs a snapshot id, not", argv[i]);
        } else if (opts && s[0] == '-' && s[1]) {
            return usage_error(c, "unknown option", s);
        } else {
            int64_t id;
            /* a number that is not a file is a snapshot id */
            if (allow_ids && a->nin > 0 && parse_id(s, &id) == 0 && access(s, F_OK) != 0) {
                if (a->nids >= 2) return usage_error(c, "more than two snapshot ids:", s);
                a->ids[a->nids++] = id;
            } else {
                if (a->nids) return usage_error(c, "snapshot ids go after the input, not before", s);
                a->in[a->nin++] = argv[i];
            }
        }
    }
    if (a->nin == 0) return usage_error(c, "no FILE_OR_DB given", NULL);
    for (int i = 0; i < a->nin; i++)
        if (!an_is_input(a->in[i])) {
            if (access(a->in[i], F_OK) != 0)
                fprintf(stderr, "memsnap %s: %s: cannot open: %s\n", c->name, a->in[i], strerror(errno));
            else
                fprintf(stderr, "memsnap %s: %s: neither an SQLite database nor a .msnap file\n", c->name, a->in[i]);
            return EXIT_FAILURE;
        }
    return -1;
}

/* Opens the inputs and checks --snapshot; returns the database or NULL
 * (*rc set to the exit status). */
static sqlite3 *an_start(const command *c, an_args *a, an_ctx *ctx, char *prog, size_t proglen, int *rc)
{
    snprintf(prog, proglen, "memsnap %s", c->name);
    int partial = 0;
    sqlite3 *db = an_open_inputs(a->in, a->nin, a->flags, stderr, prog, &partial);
    *rc = EXIT_FAILURE;
    if (!db) return NULL;
    memset(ctx, 0, sizeof *ctx);
    ctx->db = db;
    ctx->out = stdout;
    ctx->err = stderr;
    ctx->prog = prog;
    ctx->json = a->json;
    ctx->show_sql = a->show_sql;
    if (a->snapshot) {
        int e = an_snapshot_exists(db, a->snapshot);
        if (e <= 0) {
            fprintf(stderr, "%s: %s: no snapshot %" PRId64 " (see memsnap sql %s \"SELECT snapshot_id, wall_time, pid "
                            "FROM snapshot_summary\")\n", prog, a->in[0], a->snapshot, a->in[0]);
            sqlite3_close(db);
            return NULL;
        }
    } else {
        a->snapshot = an_last_snapshot(db, NULL);
        if (a->snapshot <= 0) {
            fprintf(stderr, "%s: %s: no snapshot in %s\n", prog, a->in[0], a->nin > 1 ? "these files" : "it");
            sqlite3_close(db);
            return NULL;
        }
    }
    *rc = EXIT_SUCCESS;
    return db;
}

typedef int (*an_fn)(an_ctx *c, int64_t snap, int top);

static int run_analysis(const char *name, int argc, char **argv, an_fn fn)
{
    const command *c = command_find(name);
    an_args a;
    int rc = parse_an_args(c, argc, argv, &a, 1, 0);
    if (rc >= 0) {
        free(a.in);
        return rc;
    }
    char prog[32];
    an_ctx ctx;
    sqlite3 *db = an_start(c, &a, &ctx, prog, sizeof prog, &rc);
    if (db) {
        if (fn(&ctx, a.snapshot, a.top) < 0) rc = EXIT_FAILURE;
        sqlite3_close(db);
    }
    free(a.in);
    return rc;
}

static int cmd_report(int argc, char **argv) { return run_analysis("report", argc, argv, an_report); }
static int cmd_frag(int argc, char **argv) { return run_analysis("frag", argc, argv, an_frag); }
static int cmd_trend(int argc, char **argv) { return run_analysis("trend", argc, argv, an_trend); }

static int cmd_diff(int argc, char **argv)
{
    const command *c = command_find("diff");
    an_args a;
    int rc = parse_an_args(c, argc, argv, &a, 0, 1);
    if (rc >= 0) {
        free(a.in);
        return rc;
    }
    if (a.nids == 1) {
        free(a.in);
        return usage_error(c, "give two snapshot ids (ID_A ID_B), or none", NULL);
    }
    if (a.nids == 2 && a.nin != 1) {
        free(a.in);
        return usage_error(c, "snapshot ids need one FILE_OR_DB", NULL);
    }
    if (a.nids == 0 && a.nin > 2) {
        free(a.in);
        return usage_error(c, "give two files A B, or one FILE_OR_DB", NULL);
    }
    char prog[32];
    an_ctx ctx;
    sqlite3 *db = an_start(c, &a, &ctx, prog, sizeof prog, &rc);
    if (!db) {
        free(a.in);
        return rc;
    }
    int64_t ida = 0, idb = 0;
    if (a.nids == 2) {
        for (int k = 0; k < 2; k++)
            if (an_snapshot_exists(db, a.ids[k]) <= 0) {
                fprintf(stderr, "%s: %s: no snapshot %" PRId64 "\n", prog, a.in[0], a.ids[k]);
                rc = EXIT_FAILURE;
            }
        ida = a.ids[0];
        idb = a.ids[1];
    } else if (a.nin == 2) {
        ida = an_last_snapshot(db, a.in[0]);
        idb = an_last_snapshot(db, a.in[1]);
        if (ida <= 0 || idb <= 0) {
            fprintf(stderr, "%s: %s: no snapshot in it that is not also in the other file\n", prog,
                    ida <= 0 ? a.in[0] : a.in[1]);
            rc = EXIT_FAILURE;
        }
    } else {
        idb = a.snapshot;
        ida = an_first_of_process(db, idb);
        if (ida == idb) {
            fprintf(stderr, "%s: %s: only one snapshot of the last snapshot's process: give two files, or two "
                            "snapshot ids (ID_A ID_B)\n", prog, a.in[0]);
            rc = EXIT_FAILURE;
        }
    }
    if (rc == EXIT_SUCCESS && an_diff(&ctx, ida, idb, a.top) < 0) rc = EXIT_FAILURE;
    sqlite3_close(db);
    free(a.in);
    return rc;
}

/* -------------------------------------------------------------- schema */

static int cmd_schema(int argc, char **argv)
{
    const command *c = command_find("schema");
    int sql = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage_cmd(stdout, c);
            return 0;
        }
        if (!strcmp(argv[i], "--sql"))
            sql = 1;
        else if (argv[i][0] == '-')
            return usage_error(c, "unknown option", argv[i]);
        else
            return usage_error(c, "unexpected argument", argv[i]);
    }
    if (sql)
        schema_print_sql(stdout);
    else
        schema_print_doc(stdout);
    return 0;
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

/*
 * golden_check.c - checks the committed golden files against this reader.
 *
 *   golden_check decode DIR [--write]
 *       Every DIR/NAME.msnap is decoded completely and rendered to a
 *       canonical text (every snapshot, section, column and cell; strings
 *       quoted with every byte outside printable ASCII as \xNN), which
 *       must equal DIR/NAME.txt byte for byte. The file is read twice,
 *       through ms_reader_open and ms_reader_open_mem, and both renderings
 *       must agree. --write (re)creates the .txt files instead: only for
 *       a new golden file, never in a test.
 *       A record of a codec other than 1 (zstd) says so in its snapshot
 *       line ("codec 2"), so that renderings of 1.0 files stay as they were.
 *   golden_check errors DIR
 *       Every line "FILE ERROR SNAPSHOTS OFFSET AT [MESSAGE]" of
 *       DIR/MANIFEST: FILE must fail with ERROR (ms_errname) at AT ("open"
 *       or "next") after exactly SNAPSHOTS good snapshots, at byte OFFSET
 *       (ms_reader_error_offset; for "open" the offset in the message),
 *       with a message naming the file and containing "byte " (and
 *       MESSAGE, the rest of the line, when given), through both the file
 *       and the memory reader, and the error must stick. Every file of DIR
 *       must be listed, and every listed file exist.
 *
 * One line per failure on stdout ("FAIL ..."), a summary line, exit 1 if
 * anything failed, 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_craft.h"
#include "msnap.h"

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures++;
}

static void out(gc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(gc_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) gc_die("render", "line too long");
    gc_put(b, line, (size_t)n);
}

/* Sorted names in `dir` ending in `suffix`; *n gets the count. */
static char **list_dir(const char *dir, const char *suffix, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) gc_die(dir, strerror(errno));
    char **names = NULL;
    size_t cap = 0, sl = strlen(suffix);
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < sl || strcmp(e->d_name + len - sl, suffix) != 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, cap * sizeof *names);
            if (!names) gc_die(dir, "out of memory");
        }
        if (!(names[(*n)++] = strdup(e->d_name))) gc_die(dir, "out of memory");
    }
    closedir(d);
    for (size_t i = 1; i < *n; i++) /* insertion sort: a handful of names */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (!p) gc_die("join", "out of memory");
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* ------------------------------------------------------------- render */

static void render_str(gc_buf *b, const char *s, size_t len)
{
    if (!s) {
        out(b, "null");
        return;
    }
    gc_u8(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            gc_u8(b, c);
        else
            out(b, "\\x%02x", c);
    }
    gc_u8(b, '"');
}

static const char *type_name(ms_coltype t)
{
    return t == MS_T_U64 ? "u64" : t == MS_T_I64 ? "i64" : t == MS_T_STR ? "str" : "?";
}

static void render_section(gc_buf *b, const ms_section *sec)
{
    unsigned type = ms_section_type_of(sec);
    const char *sname = ms_section_name(type);
    size_t nrows = ms_section_nrows(sec), ncols = ms_section_ncols(sec);
    out(b, "  section %u %s: %llu bytes, %zu rows, %zu columns\n", type, sname ? sname : "(unknown)",
        (unsigned long long)ms_section_bytes(sec), nrows, ncols);
    for (size_t c = 0; c < ncols; c++) {
        unsigned col;
        ms_coltype ct;
        const char *cname = NULL;
        ms_section_col_at(sec, c, &col, &ct);
        ms_column_info(type, col, &cname, NULL);
        out(b, "    column %u %s: %s\n", col, cname ? cname : "(unknown)", type_name(ct));
    }
    for (size_t r = 0; r < nrows; r++) {
        out(b, "    row %zu\n", r);
        for (size_t c = 0; c < ncols; c++) {
            unsigned col;
            ms_coltype ct;
            const char *cname = NULL;
            ms_section_col_at(sec, c, &col, &ct);
            if (ms_column_info(type, col, &cname, NULL) != 0) cname = NULL;
            if (cname)
                out(b, "      %s = ", cname);
            else
                out(b, "      #%u = ", col);
            uint64_t u;
            int64_t i;
            const char *s;
            size_t len;
            if (ct == MS_T_U64 && ms_get_u64(sec, col, r, &u))
                out(b, "%llu", (unsigned long long)u);
            else if (ct == MS_T_I64 && ms_get_i64(sec, col, r, &i))
                out(b, "%lld", (long long)i);
            else if (ct == MS_T_STR && ms_get_str(sec, col, r, &s, &len))
                render_str(b, s, len);
            else
                out(b, "(no value)");
            gc_u8(b, '\n');
        }
    }
}

/* Renders everything `r` yields, up to and including how it ends. */
static void render_reader(gc_buf *b, ms_reader *r)
{
    unsigned major, minor;
    const char *wid;
    ms_reader_version(r, &major, &minor, &wid);
    out(b, "memsnap golden rendering 1\n");
    out(b, "version %u.%u, writer ", major, minor);
    render_str(b, wid, strlen(wid));
    gc_u8(b, '\n');
    ms_snapshot *s;
    int rc;
    for (unsigned n = 0; (rc = ms_reader_next(r, &s)) == 0; n++) {
        uint64_t off, comp, raw;
        ms_snapshot_sizes(s, &off, &comp, &raw);
        char codec[16] = "";
        if (ms_snapshot_codec(s) != MS_CODEC_ZSTD) snprintf(codec, sizeof codec, "codec %u, ", ms_snapshot_codec(s));
        out(b, "snapshot %u: offset %llu, %s%llu compressed bytes, %llu raw bytes, %zu sections\n", n,
            (unsigned long long)off, codec, (unsigned long long)comp, (unsigned long long)raw,
            ms_snapshot_nsections(s));
        for (size_t k = 0; k < ms_snapshot_nsections(s); k++) render_section(b, ms_snapshot_section_at(s, k));
        ms_snapshot_free(s);
    }
    out(b, "end: %s at byte %llu\n", ms_errname(rc), (unsigned long long)ms_reader_error_offset(r));
}

/* Renders the file at `path` through the file reader (path_mode) or the
 * memory reader. Returns 0, or -1 after reporting a failure. */
static int render_file(const char *path, int path_mode, gc_buf *b)
{
    int err;
    char msg[640];
    size_t n = 0;
    unsigned char *mem = NULL;
    ms_reader *r;
    if (path_mode) {
        r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    } else {
        mem = gc_read_file(path, &n);
        r = ms_reader_open_mem(mem, n, path, 0, &err, msg, sizeof msg);
    }
    if (!r) {
        fail("%s: cannot open: %s: %s", path, ms_errname(err), msg);
        free(mem);
        return -1;
    }
    render_reader(b, r);
    ms_reader_close(r);
    free(mem);
    return 0;
}

/* Reports the first line where `got` and `want` differ. */
static void report_diff(const char *name, const char *txt, const gc_buf *got, const unsigned char *want,
                        size_t wlen)
{
    size_t i = 0, line = 1, start = 0;
    while (i < got->len && i < wlen && got->p[i] == want[i]) {
        if (want[i] == '\n') {
            line++;
            start = i + 1;
        }
        i++;
    }
    size_t ge = start, we = start;
    while (ge < got->len && got->p[ge] != '\n') ge++;
    while (we < wlen && want[we] != '\n') we++;
    fail("%s: rendering differs from %s at line %zu:\n  got:  %.*s\n  want: %.*s", name, txt, line,
         (int)(ge - start), got->len > start ? (const char *)got->p + start : "", (int)(we - start),
         wlen > start ? (const char *)want + start : "");
}

static int cmd_decode(const char *dir, int write)
{
    size_t n, ntxt;
    char **names = list_dir(dir, ".msnap", &n);
    char **txts = list_dir(dir, ".txt", &ntxt);
    if (n == 0) fail("%s: no .msnap files", dir);
    for (size_t i = 0; i < n; i++) {
        char *path = join(dir, names[i]);
        size_t base = strlen(names[i]) - strlen(".msnap");
        char txtname[512];
        snprintf(txtname, sizeof txtname, "%.*s.txt", (int)base, names[i]);
        char *txt = join(dir, txtname);
        gc_buf got = {0}, got_mem = {0};
        if (render_file(path, 1, &got) == 0 && render_file(path, 0, &got_mem) == 0) {
            if (got.len != got_mem.len || memcmp(got.p, got_mem.p, got.len) != 0)
                report_diff(names[i], "the memory reader's rendering", &got, got_mem.p, got_mem.len);
            if (write) {
                gc_write_file(txt, got.p, got.len);
                printf("wrote %s\n", txt);
            } else {
                FILE *f = fopen(txt, "rb");
                if (!f) {
                    fail("%s: no expected rendering %s (%s)", names[i], txt, strerror(errno));
                } else {
                    fclose(f);
                    size_t wlen;
                    unsigned char *want = gc_read_file(txt, &wlen);
                    if (wlen != got.len || memcmp(want, got.p, wlen) != 0)
                        report_diff(names[i], txtname, &got, want, wlen);
                    else
                        printf("ok %s\n", names[i]);
                    free(want);
                }
            }
        }
        gc_free(&got);
        gc_free(&got_mem);
        free(path);
        free(txt);
    }
    for (size_t i = 0; i < ntxt && !write; i++) { /* an expectation without its file tests nothing */
        char msnap[512];
        snprintf(msnap, sizeof msnap, "%.*s.msnap", (int)(strlen(txts[i]) - 4), txts[i]);
        int found = 0;
        for (size_t k = 0; k < n; k++) found |= strcmp(names[k], msnap) == 0;
        if (!found) fail("%s: %s has no %s", dir, txts[i], msnap);
    }
    printf("golden_decode: %zu files, %d failures\n", n, failures);
    free_list(names, n);
    free_list(txts, ntxt);
    return failures ? 1 : 0;
}

/* --------------------------------------------------------------- errors */

typedef struct {
    char file[256], error[64], at[8];
    unsigned long long snapshots, offset;
    char message[512];  /* "" or text the error message must contain */
} manifest_line;

/* Checks one MANIFEST line through one reader kind. */
static void check_error(const char *dir, const manifest_line *m, int path_mode)
{
    const char *kind = path_mode ? "file reader" : "memory reader";
    char *path = join(dir, m->file);
    int err = 0;
    char msg[640] = "";
    size_t n = 0;
    unsigned char *mem = NULL;
    ms_reader *r;
    if (path_mode) {
        r = ms_reader_open(path, 0, &err, msg, sizeof msg);
    } else {
        mem = gc_read_file(path, &n);
        r = ms_reader_open_mem(mem, n, path, 0, &err, msg, sizeof msg);
    }
    unsigned long long count = 0, off = 0;
    const char *where = "open";
    if (r) {
        ms_snapshot *s;
        where = "next";
        while ((err = ms_reader_next(r, &s)) == 0) {
            count++;
            ms_snapshot_free(s);
        }
        snprintf(msg, sizeof msg, "%s", ms_reader_error(r));
        off = ms_reader_error_offset(r);
        if (ms_reader_next(r, &s) != err || s) fail("%s (%s): the error did not stick", m->file, kind);
    } else {
        const char *b = strstr(msg, "byte ");
        off = b ? strtoull(b + 5, NULL, 10) : ~0ull;
    }
    if (strcmp(ms_errname(err), m->error) != 0)
        fail("%s (%s): got %s, want %s: %s", m->file, kind, ms_errname(err), m->error, msg);
    if (strcmp(where, m->at) != 0)
        fail("%s (%s): failed at %s, want at %s: %s", m->file, kind, where, m->at, msg);
    if (count != m->snapshots)
        fail("%s (%s): %llu snapshots before the error, want %llu", m->file, kind, count, m->snapshots);
    if (off != m->offset)
        fail("%s (%s): error at byte %llu, want byte %llu: %s", m->file, kind, off, m->offset, msg);
    if (!strstr(msg, path) || !strstr(msg, "byte "))
        fail("%s (%s): the message does not name the file and a byte: %s", m->file, kind, msg);
    if (m->message[0] && !strstr(msg, m->message))
        fail("%s (%s): the message lacks \"%s\": %s", m->file, kind, m->message, msg);
    ms_reader_close(r);
    free(mem);
    free(path);
}

static int cmd_errors(const char *dir)
{
    char *mpath = join(dir, "MANIFEST");
    FILE *f = fopen(mpath, "r");
    if (!f) gc_die(mpath, strerror(errno));
    size_t nfiles;
    char **files = list_dir(dir, ".msnap", &nfiles);
    char *listed = calloc(nfiles + 1, 1);
    if (!listed) gc_die(mpath, "out of memory");
    char line[1024];
    unsigned lineno = 0, checked = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == 0) continue;
        manifest_line m;
        int used = 0;
        if (sscanf(p, "%255s %63s %llu %llu %7s%n", m.file, m.error, &m.snapshots, &m.offset, m.at, &used) != 5 ||
            (strcmp(m.at, "open") != 0 && strcmp(m.at, "next") != 0)) {
            fail("%s:%u: not \"FILE ERROR SNAPSHOTS OFFSET open|next [MESSAGE]\": %s", mpath, lineno, p);
            continue;
        }
        const char *rest = p + used + strspn(p + used, " \t");
        snprintf(m.message, sizeof m.message, "%.*s", (int)strcspn(rest, "\n"), rest);
        size_t k = 0;
        while (k < nfiles && strcmp(files[k], m.file) != 0) k++;
        if (k == nfiles) {
            fail("%s:%u: %s does not exist", mpath, lineno, m.file);
            continue;
        }
        if (listed[k]++) fail("%s:%u: %s is listed twice", mpath, lineno, m.file);
        size_t before = (size_t)failures;
        check_error(dir, &m, 1);
        check_error(dir, &m, 0);
        if ((size_t)failures == before) printf("ok %s %s\n", m.file, m.error);
        checked++;
    }
    fclose(f);
    for (size_t k = 0; k < nfiles; k++)
        if (!listed[k]) fail("%s: %s is not in the MANIFEST", dir, files[k]);
    printf("golden_errors: %u files, %d failures\n", checked, failures);
    free(listed);
    free_list(files, nfiles);
    free(mpath);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 3 && strcmp(argv[1], "errors") == 0)
        rc = cmd_errors(argv[2]);
    else if ((argc == 3 || (argc == 4 && strcmp(argv[3], "--write") == 0)) && strcmp(argv[1], "decode") == 0)
        rc = cmd_decode(argv[2], argc == 4);
    else {
        fprintf(stderr, "usage: golden_check decode DIR [--write]\n       golden_check errors DIR\n");
        return 2;
    }
    if (fflush(stdout) != 0) return 1;
    return rc;
}

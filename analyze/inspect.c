/*
 * inspect.c - `memsnap info` (a readable summary per file and snapshot)
 * and `memsnap dump` (the whole content as JSON lines), both straight from
 * the format library: no database involved.
 */
#include "inspect.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "json_out.h"

/* Reports how reading ended. MS_ERR_END is the normal end; a truncated
 * tail is a warning (the snapshots before it were all delivered). */
static inspect_result inspect_end(ms_reader *r, int rc, uint64_t nsnap, FILE *err, const char *prog)
{
    if (rc == MS_ERR_END) return INSPECT_OK;
    if (rc == MS_ERR_TRUNCATED) {
        fprintf(err, "%s: warning: %s (the %" PRIu64 " complete snapshot%s before it %s intact)\n",
                prog, ms_reader_error(r), nsnap, nsnap == 1 ? "" : "s", nsnap == 1 ? "is" : "are");
        return INSPECT_TRUNCATED;
    }
    fprintf(err, "%s: %s [%s]\n", prog, ms_reader_error(r), ms_errname(rc));
    return INSPECT_FAILED;
}

/* ------------------------------------------------------------------ dump */

static void dump_section(FILE *out, const ms_section *sec)
{
    unsigned type = ms_section_type_of(sec);
    size_t nrows = ms_section_nrows(sec), ncols = ms_section_ncols(sec);
    putc('[', out);
    for (size_t row = 0; row < nrows; row++) {
        if (row) putc(',', out);
        putc('{', out);
        for (size_t k = 0; k < ncols; k++) {
            unsigned col;
            ms_coltype ct;
            const char *name;
            ms_section_col_at(sec, k, &col, &ct);
            if (k) putc(',', out);
            if (ms_column_info(type, col, &name, NULL) == 0)
                fprintf(out, "\"%s\":", name);
            else
                fprintf(out, "\"col_%u\":", col);
            if (ct == MS_T_U64) {
                uint64_t v;
                ms_get_u64(sec, col, row, &v);
                fprintf(out, "%" PRIu64, v);
            } else if (ct == MS_T_I64) {
                int64_t v;
                ms_get_i64(sec, col, row, &v);
                fprintf(out, "%" PRId64, v);
            } else {
                const char *s;
                size_t len;
                ms_get_str(sec, col, row, &s, &len);
                if (type == MS_SEC_SNAPSHOT && col == MS_SNAP_ID && s)
                    json_hex(out, s, len); /* random bytes: hex is the useful form */
                else
                    json_bytes(out, s, len);
            }
        }
        putc('}', out);
    }
    putc(']', out);
}

static void dump_snapshot(FILE *out, const char *name, unsigned major, unsigned minor,
                          const char *writer, uint64_t index, const ms_snapshot *s)
{
    uint64_t off, comp, raw;
    ms_snapshot_sizes(s, &off, &comp, &raw);
    fputs("{\"file\":", out);
    json_str(out, name);
    fprintf(out, ",\"format\":\"%u.%u\",\"writer\":", major, minor);
    json_str(out, writer);
    fprintf(out, ",\"snapshot\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"compressed_bytes\":%" PRIu64
                 ",\"raw_bytes\":%" PRIu64 ",\"sections\":{",
            index, off, comp, raw);
    size_t n = ms_snapshot_nsections(s);
    int first = 1, unknown = 0;
    for (size_t i = 0; i < n; i++) {
        const ms_section *sec = ms_snapshot_section_at(s, i);
        const char *sname = ms_section_name(ms_section_type_of(sec));
        if (!sname) {
            unknown++;
            continue;
        }
        if (!first) putc(',', out);
        first = 0;
        fprintf(out, "\"%s\":", sname);
        dump_section(out, sec);
    }
    fputs("},\"unknown_sections\":[", out);
    for (size_t i = 0, k = 0; i < n && unknown; i++) {
        const ms_section *sec = ms_snapshot_section_at(s, i);
        if (ms_section_name(ms_section_type_of(sec))) continue;
        fprintf(out, "%s{\"type\":%u,\"bytes\":%" PRIu64 "}", k++ ? "," : "",
                ms_section_type_of(sec), ms_section_bytes(sec));
    }
    fputs("]}\n", out);
}

inspect_result inspect_dump(ms_reader *r, const char *name, FILE *out, FILE *err, const char *prog)
{
    unsigned major, minor;
    const char *writer;
    ms_reader_version(r, &major, &minor, &writer);
    ms_snapshot *s;
    int rc;
    uint64_t n = 0;
    while ((rc = ms_reader_next(r, &s)) == 0) {
        dump_snapshot(out, name, major, minor, writer, n++, s);
        ms_snapshot_free(s);
    }
    return inspect_end(r, rc, n, err, prog);
}

/* ------------------------------------------------------------------ info */

static void fmt_time(char *buf, size_t len, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (ns == 0 || !gmtime_r(&t, &tm)) {
        snprintf(buf, len, "(no time)");
        return;
    }
    size_t k = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + k, len - k, ".%03u UTC", (unsigned)(ns / 1000000u % 1000u));
}

static void fmt_bytes(char *buf, size_t len, uint64_t b)
{
    if (b < 10240)
        snprintf(buf, len, "%" PRIu64 " B", b);
    else if (b < 10u << 20)
        snprintf(buf, len, "%.1f KiB", b / 1024.0);
    else if (b < (uint64_t)10 << 30)
        snprintf(buf, len, "%.1f MiB", b / 1048576.0);
    else
        snprintf(buf, len, "%.1f GiB", b / 1073741824.0);
}

static const char *const diag_status[] = {"complete", "approximate", "unavailable", "best-effort",
                                          "info"};

static void info_snapshot(FILE *out, uint64_t index, const ms_snapshot *s)
{
    const ms_section *snap = ms_snapshot_section(s, MS_SEC_SNAPSHOT);
    const ms_section *proc = ms_snapshot_section(s, MS_SEC_PROCESS);
    char when[64], cb[32], rb[32];
    fmt_time(when, sizeof when, ms_u64_or(snap, MS_SNAP_WALL_NS, 0, 0));
    fprintf(out, "  #%" PRIu64 "  %s  pid %" PRIu64, index, when, ms_u64_or(snap, MS_SNAP_PID, 0, 0));
    const char *comm;
    size_t clen;
    if (ms_get_str(proc, MS_PROC_COMM, 0, &comm, &clen) && comm) {
        fputs(" (", out);
        for (size_t i = 0; i < clen; i++) /* comm is the target's choice: keep it printable */
            putc(comm[i] >= 0x20 && comm[i] < 0x7f ? comm[i] : '?', out);
        putc(')', out);
    }
    uint64_t dur = ms_u64_or(snap, MS_SNAP_DURATION_NS, 0, 0);
    uint64_t pause = ms_u64_or(snap, MS_SNAP_PAUSE_NS, 0, 0);
    fprintf(out, "  capture %.1f ms, target paused %.1f ms", dur / 1e6, pause / 1e6);
    if (ms_u64_or(snap, MS_SNAP_FLAGS, 0, 0) & 1) fputs(", best-effort", out);
    putc('\n', out);

    uint64_t off, comp, raw;
    ms_snapshot_sizes(s, &off, &comp, &raw);
    fmt_bytes(cb, sizeof cb, comp);
    fmt_bytes(rb, sizeof rb, raw);
    fprintf(out, "      byte %" PRIu64 ": %s compressed, %s raw (%.1fx)\n", off, cb, rb,
            comp ? (double)raw / (double)comp : 0.0);

    fputs("      sections:", out);
    size_t n = ms_snapshot_nsections(s);
    for (size_t i = 0; i < n; i++) {
        const ms_section *sec = ms_snapshot_section_at(s, i);
        unsigned type = ms_section_type_of(sec);
        const char *name = ms_section_name(type);
        if (name)
            fprintf(out, " %s(%zu)", name, ms_section_nrows(sec));
        else
            fprintf(out, " unknown-%u(%" PRIu64 " B, skipped)", type, ms_section_bytes(sec));
    }
    putc('\n', out);

    const ms_section *dg = ms_snapshot_section(s, MS_SEC_DIAGNOSTICS);
    for (size_t i = 0; i < ms_section_nrows(dg); i++) {
        uint64_t st = ms_u64_or(dg, MS_DG_STATUS, i, 0);
        if (st == 0 || st == 4) continue; /* complete / informational: in `dump` */
        const char *area, *msg;
        size_t alen, mlen;
        ms_get_str(dg, MS_DG_AREA, i, &area, &alen);
        ms_get_str(dg, MS_DG_MESSAGE, i, &msg, &mlen);
        fprintf(out, "      warning: %.*s: %s: %.*s\n", (int)alen,
                area ? area : "", st < 5 ? diag_status[st] : "status?", (int)mlen, msg ? msg : "");
    }
}

inspect_result inspect_info(ms_reader *r, const char *name, FILE *out, FILE *err, const char *prog)
{
    unsigned major, minor;
    const char *writer;
    ms_reader_version(r, &major, &minor, &writer);
    fprintf(out, "%s: .msnap format %u.%u, written by \"%s\"\n", name, major, minor, writer);
    if (minor > MS_FORMAT_MINOR)
        fprintf(out, "  note: written by a newer minor version (%u.%u); parts unknown to this memsnap (%u.%u) are skipped\n",
                major, minor, MS_FORMAT_MAJOR, MS_FORMAT_MINOR);
    ms_snapshot *s;
    int rc;
    uint64_t n = 0, comp_total = 0, raw_total = 0;
    while ((rc = ms_reader_next(r, &s)) == 0) {
        uint64_t comp, raw;
        ms_snapshot_sizes(s, NULL, &comp, &raw);
        comp_total += comp;
        raw_total += raw;
        info_snapshot(out, n++, s);
        ms_snapshot_free(s);
    }
    char cb[32], rb[32];
    fmt_bytes(cb, sizeof cb, comp_total);
    fmt_bytes(rb, sizeof rb, raw_total);
    fprintf(out, "  %" PRIu64 " snapshot%s, %s compressed, %s raw\n", n, n == 1 ? "" : "s", cb, rb);
    return inspect_end(r, rc, n, err, prog);
}

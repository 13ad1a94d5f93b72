/*
 * py_layout.c - lookup in the generated CPython layout table
 * (py_layout_table.c) and its cross-check against a target's own
 * _Py_DebugOffsets (3.13+), so that a walker refuses a build whose layout
 * differs from the table instead of misreading its heap.
 */
#include "py_layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const py_layout *py_layout_find(unsigned minor)
{
    uint32_t want = 0x03000000u | (uint32_t)(minor & 0xffu) << 16;
    if (minor > 0xff) return NULL;
    for (unsigned i = 0; i < py_layout_count; i++)
        if (py_layout_table[i].version == want) return &py_layout_table[i];
    return NULL;
}

static int fail(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The u64 at `off`, or 0 with *ok cleared when it does not fit in len. */
static uint64_t u64_at(const unsigned char *p, size_t len, uint32_t off, int *ok)
{
    uint64_t v;
    if (len < 8 || off > len - 8) {
        *ok = 0;
        return 0;
    }
    memcpy(&v, p + off, sizeof v); /* the target is this machine: same byte order */
    return v;
}

/* The cookie as printable text for a message ("xdebugpy", or "\x00..."). */
static void cookie_text(const unsigned char *c, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < 8 && n + 5 < outlen; i++) {
        if (c[i] >= 0x20 && c[i] < 0x7f && c[i] != '\\' && c[i] != '"')
            out[n++] = (char)c[i];
        else
            n += (size_t)snprintf(out + n, outlen - n, "\\x%02x", c[i]);
        out[n] = 0;
    }
}

int py_layout_check_debug_offsets(const py_layout *L, const void *dbg, size_t len, char *msg, size_t msglen)
{
    static const char fix[] =
        "the target's CPython build does not match memsnap's layout table (a different micro "
        "release or a patched build): the Python heap cannot be read safely";
    const unsigned char *p = dbg;
    int ok = 1;

    if (!L) return fail(msg, msglen, "no layout table entry given (NULL)");
    unsigned minor = (L->version >> 16) & 0xff;
    if (L->debug_offsets_size == PY_LAYOUT_ABSENT || L->n_debug_checks == 0)
        return fail(msg, msglen, "CPython 3.%u has no _Py_DebugOffsets (3.13+ only): nothing to check",
                    minor);
    if (!p) return fail(msg, msglen, "no _Py_DebugOffsets bytes given (NULL)");
    if (L->n_debug_checks > PY_LAYOUT_MAX_DEBUG_CHECKS)
        return fail(msg, msglen, "layout table for 3.%u is corrupt: %u debug checks (at most %u)", minor,
                    L->n_debug_checks, PY_LAYOUT_MAX_DEBUG_CHECKS);

    if (L->debug_cookie > len || len - L->debug_cookie < 8)
        return fail(msg, msglen,
                    "_Py_DebugOffsets: %zu bytes are too few for the cookie at byte %u (read %u bytes "
                    "from _PyRuntime)",
                    len, L->debug_cookie, L->debug_offsets_size);
    if (memcmp(p + L->debug_cookie, "xdebugpy", 8) != 0) {
        char text[8 * 4 + 1];
        cookie_text(p + L->debug_cookie, text, sizeof text);
        return fail(msg, msglen,
                    "_Py_DebugOffsets.cookie (byte %u): expected \"xdebugpy\", found \"%s\": these bytes "
                    "are not a CPython 3.13+ _PyRuntime",
                    L->debug_cookie, text);
    }

    uint64_t version = u64_at(p, len, L->debug_version, &ok);
    if (!ok)
        return fail(msg, msglen, "_Py_DebugOffsets: %zu bytes are too few for version at byte %u", len,
                    L->debug_version);
    if ((version >> 16) != (L->version >> 16))
        return fail(msg, msglen,
                    "_Py_DebugOffsets.version (byte %u): expected 3.%u (0x%08x), found 0x%016llx "
                    "(%llu.%llu): wrong table entry for this target",
                    L->debug_version, minor, (unsigned)L->version, (unsigned long long)version,
                    (unsigned long long)(version >> 24 & 0xff), (unsigned long long)(version >> 16 & 0xff));

    uint64_t ft = u64_at(p, len, L->debug_free_threaded, &ok);
    if (!ok)
        return fail(msg, msglen, "_Py_DebugOffsets: %zu bytes are too few for free_threaded at byte %u", len,
                    L->debug_free_threaded);
    if (ft != 0)
        return fail(msg, msglen,
                    "_Py_DebugOffsets.free_threaded (byte %u): expected 0, found %llu: free-threaded "
                    "builds (3.%ut) are not supported",
                    L->debug_free_threaded, (unsigned long long)ft, minor);

    for (uint32_t i = 0; i < L->n_debug_checks; i++) {
        const py_layout_debug_check *c = &L->debug_checks[i];
        if (c->field_offset > sizeof *L - sizeof(uint32_t) || c->field_offset % sizeof(uint32_t))
            return fail(msg, msglen, "layout table for 3.%u is corrupt: check %s names no member", minor,
                        c->name ? c->name : "?");
        uint32_t want;
        memcpy(&want, (const char *)L + c->field_offset, sizeof want);
        uint64_t got = u64_at(p, len, c->dbg_offset, &ok);
        if (!ok)
            return fail(msg, msglen,
                        "_Py_DebugOffsets.%s (byte %u): only %zu bytes of _Py_DebugOffsets were given, "
                        "%u needed",
                        c->name, c->dbg_offset, len, c->dbg_offset + 8);
        if (want == PY_LAYOUT_ABSENT)
            return fail(msg, msglen, "layout table for 3.%u is corrupt: %s, checked against %s, is absent",
                        minor, c->field, c->name);
        if (got != want)
            return fail(msg, msglen,
                        "_Py_DebugOffsets.%s (byte %u): the 3.%u table (%s, from %s) has %u, the target "
                        "(%llu.%llu.%llu) has %llu; %s",
                        c->name, c->dbg_offset, minor, c->field, L->source, (unsigned)want,
                        (unsigned long long)(version >> 24 & 0xff),
                        (unsigned long long)(version >> 16 & 0xff), (unsigned long long)(version >> 8 & 0xff),
                        (unsigned long long)got, fix);
    }
    if (msg && msglen) msg[0] = 0;
    return 0;
}

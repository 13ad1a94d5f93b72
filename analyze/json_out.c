/*
 * json_out.c - JSON string output that never loses a byte: valid UTF-8 is
 * written as a JSON string, anything else as {"hex": "..."}.
 */
#include "json_out.h"

#include <string.h>

int utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned min;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            min = 0x80;
            c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            min = 0x800;
            c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return 0;
        }
        if (len - i <= n) return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
        i += n + 1;
    }
    return 1;
}

void json_hex(FILE *f, const void *p, size_t len)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *b = p;
    putc('"', f);
    for (size_t i = 0; i < len; i++) {
        putc(hx[b[i] >> 4], f);
        putc(hx[b[i] & 15], f);
    }
    putc('"', f);
}

void json_bytes(FILE *f, const char *s, size_t len)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    if (!utf8_valid(s, len)) {
        fputs("{\"hex\":", f);
        json_hex(f, s, len);
        putc('}', f);
        return;
    }
    putc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                putc(c, f);
        }
    }
    putc('"', f);
}

void json_str(FILE *f, const char *s)
{
    json_bytes(f, s, s ? strlen(s) : 0);
}

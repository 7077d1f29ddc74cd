/* Untrusted text made safe to print (see common/text.h for the escapes). */
#include "common/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ELLIPSIS "..."
#define TAIL (sizeof ELLIPSIS) /* "..." and the NUL, kept free until the end */

_Static_assert(TAIL == 4u, "MS_TEXT_ESCAPE_SIZE counts 4 bytes for the tail");
_Static_assert(MS_TEXT_ESCAPE_CHAR_MAX == sizeof "\\u{202E}" - 1u, "the longest escape");

/* Length of the valid UTF-8 sequence at p (RFC 3629) and its code point, or 0. */
static size_t utf8_decode(const uint8_t *p, size_t avail, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t v = c & (c >= 0xF0 ? 0x07u : c >= 0xE0 ? 0x0Fu : 0x1Fu);
    if (c < 0xC2 || c > 0xF4 || n > avail) {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            return 0;
        }
        v = v << 6 | (p[k] & 0x3Fu);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (n == 4 && (v < 0x10000 || v > 0x10FFFF))) {
        return 0;
    }
    *cp = v;
    return n;
}

/* C1 controls, and formatting characters that are invisible or reorder text (bidi). */
static bool hidden_cp(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

/* "<pre>" then x as `digits` uppercase hex digits, then "<post>", into e; returns its length. */
static size_t put_hex(char e[static MS_TEXT_ESCAPE_CHAR_MAX], const char *pre, uint32_t x,
                      unsigned digits, const char *post)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(pre);
    memcpy(e, pre, n);
    for (unsigned k = digits; k-- > 0;) {
        e[n++] = hex[(x >> (4 * k)) & 0xFu];
    }
    memcpy(e + n, post, strlen(post));
    return n + strlen(post);
}

/* The character at p[0..avail) as it is printed, into e; *used: its bytes in p. */
static size_t one_char(const uint8_t *p, size_t avail, char e[static MS_TEXT_ESCAPE_CHAR_MAX],
                       size_t *used)
{
    uint8_t c = p[0];
    uint32_t cp = 0;
    *used = 1;
    if (c == '\\') {
        memcpy(e, "\\\\", 2);
        return 2;
    }
    if (c >= 0x20 && c < 0x7F) {
        e[0] = (char)c;
        return 1;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
        memcpy(e, c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t", 2);
        return 2;
    }
    size_t k = c >= 0x80 ? utf8_decode(p, avail, &cp) : 0;
    if (k == 0) {
        return put_hex(e, "\\x", c, 2, "");
    }
    *used = k;
    if (hidden_cp(cp)) {
        return put_hex(e, "\\u{", cp, 4, "}");
    }
    memcpy(e, p, k);
    return k;
}

size_t ms_text_escape(const char *s, size_t len, size_t max_chars, char *out, size_t cap)
{
    const uint8_t *p = (const uint8_t *)s;
    char e[MS_TEXT_ESCAPE_CHAR_MAX];
    size_t i = 0, o = 0;
    if (cap == 0) {
        return 0;
    }
    if (cap < TAIL || p == NULL) {
        out[0] = '\0';
        return 0;
    }
    for (size_t chars = 0; i < len && chars < max_chars; chars++) {
        size_t used;
        size_t n = one_char(p + i, len - i, e, &used);
        if (n > cap - TAIL - o) {
            break;
        }
        memcpy(out + o, e, n);
        o += n;
        i += used;
    }
    if (i < len) {
        memcpy(out + o, ELLIPSIS, sizeof ELLIPSIS - 1u);
        o += sizeof ELLIPSIS - 1u;
    }
    out[o] = '\0';
    return i;
}

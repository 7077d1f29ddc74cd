/* Untrusted text made safe to print (see common/text.h for the escapes). */
#include "common/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

/*
 * The character at p[0..avail) as it is printed, into e; *used: its bytes in p. With
 * `layout` (a terminal), '\\', LF and TAB are kept as they are.
 */
static size_t one_char(const uint8_t *p, size_t avail, bool layout,
                       char e[static MS_TEXT_ESCAPE_CHAR_MAX], size_t *used)
{
    uint8_t c = p[0];
    uint32_t cp = 0;
    *used = 1;
    if (layout && (c == '\\' || c == '\n' || c == '\t')) {
        e[0] = (char)c;
        return 1;
    }
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
        size_t n = one_char(p + i, len - i, false, e, &used);
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

bool ms_text_utf8_valid(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] < 0x80 ? 1 : utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/* --- the terminal filter ------------------------------------------------------------------ */

void ms_text_sink_file(void *file, const char *p, size_t n)
{
    fwrite(p, 1, n, (FILE *)file);
}

/* Output gathered in a small block, so the sink is not called per character. */
typedef struct tty_out {
    ms_text_tty *t;
    size_t n;
    char b[512];
} tty_out;

static void out_drain(tty_out *o)
{
    if (o->n > 0) {
        o->t->sink(o->t->ctx, o->b, o->n);
        o->n = 0;
    }
}

static void out_put(tty_out *o, const char *e, size_t n)
{
    if (n > sizeof o->b - o->n) {
        out_drain(o);
    }
    memcpy(o->b + o->n, e, n);
    o->n += n;
}

/*
 * Whether p[0..avail) is the start of a valid UTF-8 sequence that needs more bytes than
 * avail: the bytes so far could still be completed (RFC 3629's second-byte ranges included).
 * Only then does the filter hold bytes back, so a byte that can never be part of a valid
 * sequence is shown at once.
 */
static bool cut_sequence(const uint8_t *p, size_t avail)
{
    uint8_t c = p[0];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c < 0xC2 || c > 0xF4 || avail >= need) {
        return false;
    }
    for (size_t k = 1; k < avail; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            return false;
        }
    }
    if (avail >= 2) {
        uint8_t d = p[1];
        if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) || (c == 0xF0 && d < 0x90) ||
            (c == 0xF4 && d > 0x8F)) {
            return false; /* overlong, surrogate or above U+10FFFF whatever follows */
        }
    }
    return true;
}

/* One character of p[0..avail) to o; how many bytes of p it took. */
static size_t tty_char(tty_out *o, const uint8_t *p, size_t avail)
{
    char e[MS_TEXT_ESCAPE_CHAR_MAX];
    size_t used;
    size_t n = one_char(p, avail, true, e, &used);
    out_put(o, e, n);
    return used;
}

void ms_text_tty_init(ms_text_tty *t, ms_text_sink_fn sink, void *ctx)
{
    memset(t, 0, sizeof *t);
    t->sink = sink;
    t->ctx = ctx;
}

/* The held bytes, completed from p[0..len): shown or held again; bytes of p taken. */
static size_t tty_resume(ms_text_tty *t, tty_out *o, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (t->nheld > 0 && i < len) {
        uint8_t w[4];
        size_t k = t->nheld, take = len - i < 4 - k ? len - i : 4 - k;
        memcpy(w, t->held, k);
        memcpy(w + k, p + i, take);
        if (cut_sequence(w, k + take)) { /* still cut: then this piece is all in w */
            memcpy(t->held, w, k + take);
            t->nheld = k + take;
            return len;
        }
        size_t used = tty_char(o, w, k + take);
        if (used >= k) {
            i += used - k;
            t->nheld = 0;
        } else {
            memmove(t->held, t->held + used, k - used);
            t->nheld = k - used;
        }
    }
    return i;
}

void ms_text_tty_write(ms_text_tty *t, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    tty_out o = {.t = t, .n = 0};
    size_t i = len > 0 ? tty_resume(t, &o, p, len) : 0;
    while (i < len) {
        if (cut_sequence(p + i, len - i)) {
            memcpy(t->held, p + i, len - i); /* < 4 bytes: cut_sequence says so */
            t->nheld = len - i;
            break;
        }
        i += tty_char(&o, p + i, len - i);
    }
    out_drain(&o);
}

void ms_text_tty_flush(ms_text_tty *t)
{
    tty_out o = {.t = t, .n = 0};
    size_t i = 0;
    while (i < t->nheld) {
        i += tty_char(&o, t->held + i, t->nheld - i); /* cut: one "\xNN" per byte */
    }
    t->nheld = 0;
    memset(t->held, 0, sizeof t->held);
    out_drain(&o);
}

bool ms_text_read_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s == '\0') {
        return false;
    }
    uint64_t n = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        uint64_t digit = (uint64_t)(*p - '0');
        if (digit > max || n > (max - digit) / 10) {
            return false;
        }
        n = n * 10 + digit;
    }
    *out = n;
    return true;
}

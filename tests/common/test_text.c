/* Tests for ms_text_escape and the terminal filter: what is kept, what is escaped, caps, splits;
   and ms_text_read_u64, the one decimal reader. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/text.h"
#include "tests/test.h"

#define L(s) (s), (sizeof(s) - 1u)

/* Escape with room to spare and compare; also checks the bytes consumed. */
static bool esc_is(const char *s, size_t len, const char *want)
{
    char out[MS_TEXT_ESCAPE_SIZE(64)];
    size_t used = ms_text_escape(s, len, 64, out, sizeof out);
    if (strcmp(out, want) != 0 || used != len) {
        fprintf(stderr, "  got \"%s\" (%zu of %zu bytes), want \"%s\"\n", out, used, len, want);
        return false;
    }
    return true;
}

/* Code point of the UTF-8 sequence at p (trusted: the output of an encoder), and its length. */
static size_t decode(const uint8_t *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : 2;
    uint32_t v = p[0] & (0x7Fu >> n);
    for (size_t k = 1; k < n; k++) {
        v = v << 6 | (p[k] & 0x3Fu);
    }
    *cp = v;
    return n;
}

/* Encode cp (any value up to U+10FFFF, surrogates included) the way UTF-8 would. */
static size_t encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Must never reach a terminal raw: controls, and characters that hide or reorder text. */
static bool unsafe_cp(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

/*
 * The output's promises, checked independently of the escaper: valid UTF-8 (strict), no
 * unsafe character, and every '\' starts one of the escapes.
 */
static bool output_safe(const char *o)
{
    const uint8_t *p = (const uint8_t *)o;
    size_t i = 0, len = strlen(o);
    while (i < len) {
        uint8_t c = p[i];
        if (c == '\\') {
            uint8_t e = p[i + 1];
            if (e != '\\' && e != 'n' && e != 'r' && e != 't' && e != 'x' && e != 'u') {
                return false;
            }
            i += 2;
            continue;
        }
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if ((c >= 0x80 && c < 0xC2) || c > 0xF4 || i + n > len) {
            return false;
        }
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        uint32_t cp;
        decode(p + i, &cp);
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || unsafe_cp(cp)) {
            return false;
        }
        i += n;
    }
    return true;
}

static void test_kept(void)
{
    CHECK(esc_is(L(""), ""));
    CHECK(esc_is(L("plain text, 100% ASCII ~{}"), "plain text, 100% ASCII ~{}"));
    CHECK(esc_is(L("a\\b"), "a\\\\b")); /* '\' always starts an escape */
    /* accented Latin, Greek, CJK, an emoji (4 bytes), a no-break space: kept as they are */
    CHECK(esc_is(L("caf\xc3\xa9 na\xc3\xafve \xce\xb1\xce\xb2"),
                 "caf\xc3\xa9 na\xc3\xafve \xce\xb1\xce\xb2"));
    CHECK(esc_is(L("\xe5\xa3\xb2\xe4\xb8\x8a\xe9\xab\x98"),
                 "\xe5\xa3\xb2\xe4\xb8\x8a\xe9\xab\x98"));
    CHECK(esc_is(L("\xf0\x9f\x94\x92 ok"), "\xf0\x9f\x94\x92 ok"));
    CHECK(esc_is(L("\xc2\xa0"), "\xc2\xa0"));
    /* the neighbours of the escaped ranges stay */
    CHECK(esc_is(L("\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xb0"),
                 "\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xb0"));
}

static void test_hidden_escaped(void)
{
    /* bidi override: "evil \u202E txt.exe" would show reversed */
    CHECK(esc_is(L("evil \xe2\x80\xae txt.exe"), "evil \\u{202E} txt.exe"));
    CHECK(esc_is(L("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad"),
                 "\\u{202A}\\u{202B}\\u{202C}\\u{202D}"));
    CHECK(esc_is(L("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u{2066}x\\u{2069}")); /* isolates */
    CHECK(esc_is(L("\xd8\x9c"), "\\u{061C}"));                               /* Arabic mark */
    CHECK(esc_is(L("\xe2\x80\x8e\xe2\x80\x8f"), "\\u{200E}\\u{200F}"));     /* LRM, RLM */
    /* zero-width space, non-joiner, joiner, word joiner, BOM */
    CHECK(esc_is(L("a\xe2\x80\x8b" "b\xe2\x80\x8c" "c\xe2\x80\x8d" "d\xe2\x81\xa0" "e\xef\xbb\xbf"),
                 "a\\u{200B}b\\u{200C}c\\u{200D}d\\u{2060}e\\u{FEFF}"));
    /* C1 controls, encoded as UTF-8 (CSI is U+009B) */
    CHECK(esc_is(L("\xc2\x80\xc2\x9b" "31m\xc2\x9f"), "\\u{0080}\\u{009B}31m\\u{009F}"));
}

static void test_controls_escaped(void)
{
    CHECK(esc_is(L("a\nb\rc\td"), "a\\nb\\rc\\td"));
    CHECK(esc_is(L("\x1b[31mRED\x1b[0m"), "\\x1B[31mRED\\x1B[0m"));
    CHECK(esc_is(L("nul\0after"), "nul\\x00after")); /* a NUL does not end the text */
    CHECK(esc_is(L("\x01\x07\x08\x0b\x0c\x1f\x7f"), "\\x01\\x07\\x08\\x0B\\x0C\\x1F\\x7F"));
}

static void test_invalid_utf8_escaped(void)
{
    CHECK(esc_is(L("\x80"), "\\x80"));                           /* lone continuation */
    CHECK(esc_is(L("\x9b" "2J"), "\\x9B2J"));                     /* raw C1 byte */
    CHECK(esc_is(L("\xc0\xaf\xc1\xbf"), "\\xC0\\xAF\\xC1\\xBF")); /* overlong */
    CHECK(esc_is(L("\xe0\x80\xaf"), "\\xE0\\x80\\xAF"));         /* overlong, 3 bytes */
    CHECK(esc_is(L("\xf0\x80\x80\xaf"), "\\xF0\\x80\\x80\\xAF")); /* overlong, 4 bytes */
    CHECK(esc_is(L("\xed\xa0\x80"), "\\xED\\xA0\\x80"));         /* a surrogate */
    CHECK(esc_is(L("\xf4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80")); /* above U+10FFFF */
    CHECK(esc_is(L("\xf5\xfe\xff"), "\\xF5\\xFE\\xFF"));
    /* a cut sequence: each byte escaped, the next character read as usual */
    CHECK(esc_is(L("\xe2\x80" "A"), "\\xE2\\x80A"));
    CHECK(esc_is(L("x\xe2\x80"), "x\\xE2\\x80"));
    CHECK(esc_is(L("\xc3" "\xc3\xa9"), "\\xC3\xc3\xa9"));
}

/* Every code point, encoded, is either kept byte for byte or escaped as \u{XXXX}/\xNN. */
static void test_every_code_point(void)
{
    char in[4], out[MS_TEXT_ESCAPE_SIZE(1)], want[16];
    int bad = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        size_t n = encode(cp, in);
        size_t used = ms_text_escape(in, n, 1, out, sizeof out);
        bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        if (!output_safe(out)) {
            bad++;
        } else if (surrogate) {
            bad += used != 1 || strncmp(out, "\\xED", 4) != 0; /* one byte, then "..." */
        } else if (cp == '\\' || cp == '\n' || cp == '\r' || cp == '\t') {
            bad += used != 1 || strlen(out) != 2;
        } else if (unsafe_cp(cp)) {
            if (cp < 0x80) {
                snprintf(want, sizeof want, "\\x%02X", (unsigned)cp);
            } else {
                snprintf(want, sizeof want, "\\u{%04X}", (unsigned)cp);
            }
            bad += used != n || strcmp(out, want) != 0;
        } else {
            bad += used != n || strlen(out) != n || memcmp(out, in, n) != 0;
        }
    }
    CHECK(bad == 0);
}

/* Every one- and two-byte input: the output keeps its promises. */
static void test_every_short_input(void)
{
    char in[2], out[MS_TEXT_ESCAPE_SIZE(2)];
    int bad = 0;
    for (unsigned a = 0; a < 256; a++) {
        in[0] = (char)a;
        bad += ms_text_escape(in, 1, 2, out, sizeof out) != 1 || !output_safe(out);
        for (unsigned b = 0; b < 256; b++) {
            in[1] = (char)b;
            bad += ms_text_escape(in, 2, 2, out, sizeof out) != 2 || !output_safe(out);
        }
    }
    CHECK(bad == 0);
}

static void test_max_chars(void)
{
    char out[MS_TEXT_ESCAPE_SIZE(8)];
    CHECK(ms_text_escape(L("abcdef"), 3, out, sizeof out) == 3 && strcmp(out, "abc...") == 0);
    CHECK(ms_text_escape(L("abc"), 3, out, sizeof out) == 3 && strcmp(out, "abc") == 0);
    CHECK(ms_text_escape(L("abc"), 0, out, sizeof out) == 0 && strcmp(out, "...") == 0);
    CHECK(ms_text_escape(NULL, 0, 3, out, sizeof out) == 0 && strcmp(out, "") == 0);
    /* a character is one whatever its bytes: 2 CJK characters, 1 escape, 1 byte escaped */
    CHECK(ms_text_escape(L("\xe5\xa3\xb2\xe4\xb8\x8a\xe2\x80\xae\xff!"), 4, out, sizeof out) == 10);
    CHECK(strcmp(out, "\xe5\xa3\xb2\xe4\xb8\x8a\\u{202E}\\xFF...") == 0);
}

/* MS_TEXT_ESCAPE_SIZE(n) holds n characters of the worst kind; a smaller cap cuts whole ones. */
static void test_cap(void)
{
    enum { N = 50 };
    char worst[3 * (N + 1)], out[MS_TEXT_ESCAPE_SIZE(N)];
    for (size_t i = 0; i < sizeof worst; i += 3) {
        memcpy(worst + i, "\xe2\x80\xae", 3);
    }
    CHECK(ms_text_escape(worst, 3 * N, N, out, sizeof out) == 3 * N);
    CHECK(strlen(out) == N * MS_TEXT_ESCAPE_CHAR_MAX);
    CHECK(ms_text_escape(worst, sizeof worst, N, out, sizeof out) == 3 * N);
    CHECK(strlen(out) == N * MS_TEXT_ESCAPE_CHAR_MAX + 3);
    CHECK(strcmp(out + strlen(out) - 3, "...") == 0);
    CHECK(strlen(out) + 1 == sizeof out); /* exactly the room it asks for */

    /* Every cap from 0 up: never a byte past cap, whole characters, "..." when cut. */
    static const char mixed[] = "a\xe2\x80\xae\xc3\xa9\x1b\xf0\x9f\x94\x92z";
    char small[64];
    for (size_t cap = 0; cap < sizeof small; cap++) {
        memset(small, 'Z', sizeof small);
        size_t used = ms_text_escape(mixed, sizeof mixed - 1, 100, small, cap);
        bool untouched = true;
        for (size_t k = cap; k < sizeof small; k++) {
            untouched = untouched && small[k] == 'Z';
        }
        CHECK(untouched);
        if (cap == 0) {
            CHECK(used == 0 && small[0] == 'Z');
            continue;
        }
        size_t n = strlen(small);
        CHECK(n < cap && output_safe(small));
        CHECK(used == 0 || used == 1 || used == 4 || used == 6 || used == 7 || used == 11 ||
              used == 12);
        if (used < sizeof mixed - 1) {
            CHECK(cap < 4 ? n == 0 : n >= 3 && strcmp(small + n - 3, "...") == 0);
        } else {
            CHECK(strcmp(small, "a\\u{202E}\xc3\xa9\\x1B\xf0\x9f\x94\x92z") == 0);
        }
    }
    CHECK(ms_text_escape(L("abcdefghij"), 100, out, 8) == 4 && strcmp(out, "abcd...") == 0);
    CHECK(ms_text_escape(L("ab\xe2\x80\xae"), 100, out, 8) == 2 && strcmp(out, "ab...") == 0);
    CHECK(ms_text_escape(L("abc"), 100, out, 3) == 0 && strcmp(out, "") == 0);
}

static void test_utf8_valid(void)
{
    CHECK(ms_text_utf8_valid(NULL, 0));
    CHECK(ms_text_utf8_valid(L("plain, caf\xc3\xa9, \xe5\xa3\xb2, \xf0\x9f\x94\x92, \x1b")));
    CHECK(ms_text_utf8_valid(L("a\0b"))); /* NUL is UTF-8: the caller checks it apart */
    CHECK(!ms_text_utf8_valid(L("\xff")));
    CHECK(!ms_text_utf8_valid(L("ok \x80")));
    CHECK(!ms_text_utf8_valid(L("\xc0\xaf")));         /* overlong */
    CHECK(!ms_text_utf8_valid(L("\xed\xa0\x80")));     /* surrogate */
    CHECK(!ms_text_utf8_valid(L("\xf4\x90\x80\x80"))); /* above U+10FFFF */
    CHECK(!ms_text_utf8_valid(L("cut \xe2\x80")));
    /* agrees with the escaper: valid exactly when nothing is shown as \xNN but controls */
    char in[2], out[MS_TEXT_ESCAPE_SIZE(2)];
    int bad = 0;
    for (unsigned a = 0x80; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            in[0] = (char)a;
            in[1] = (char)b;
            ms_text_escape(in, 2, 2, out, sizeof out);
            bad += ms_text_utf8_valid(in, 2) != (strstr(out, "\\x") == NULL);
        }
    }
    CHECK(bad == 0);
}

/* --- the terminal filter (ms_text_tty) ----------------------------------------------------- */

/* What a filter wrote: a sink that collects (and counts its calls). */
typedef struct collect {
    char b[4096];
    size_t n, calls;
    bool over;
} collect;

static void collect_sink(void *ctx, const char *p, size_t n)
{
    collect *c = ctx;
    c->calls++;
    if (n == 0 || n > sizeof c->b - 1 - c->n) {
        c->over = true; /* an empty call, or more than a test expects: both fail the test */
        return;
    }
    memcpy(c->b + c->n, p, n);
    c->n += n;
    c->b[c->n] = '\0';
}

/* s[0..len) cut at the offsets cuts[0..ncut) (ascending), then flushed, into *c. */
static void tty_pieces(const char *s, size_t len, const size_t *cuts, size_t ncut, collect *c)
{
    ms_text_tty t;
    size_t at = 0;
    memset(c, 0, sizeof *c);
    ms_text_tty_init(&t, collect_sink, c);
    for (size_t k = 0; k <= ncut; k++) {
        size_t end = k < ncut ? cuts[k] : len;
        ms_text_tty_write(&t, s + at, end - at);
        at = end;
    }
    ms_text_tty_flush(&t);
}

/* The filter's output for s in one piece is `want`. */
static bool tty_is(const char *s, size_t len, const char *want)
{
    collect c;
    tty_pieces(s, len, NULL, 0, &c);
    if (c.over || strcmp(c.b, want) != 0) {
        fprintf(stderr, "  got \"%s\"%s, want \"%s\"\n", c.b, c.over ? " (sink misused)" : "",
                want);
        return false;
    }
    return true;
}

/* The terminal output's promise: valid UTF-8 (strict), no unsafe character but LF and TAB. */
static bool tty_safe(const char *o, size_t len)
{
    const uint8_t *p = (const uint8_t *)o;
    for (size_t i = 0; i < len;) {
        uint8_t c = p[i];
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if ((c >= 0x80 && c < 0xC2) || c > 0xF4 || i + n > len) {
            return false;
        }
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        uint32_t cp;
        decode(p + i, &cp);
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (unsafe_cp(cp) && cp != '\n' && cp != '\t')) {
            return false;
        }
        i += n;
    }
    return true;
}

/* Every one and every two cuts of s give the output of s whole; so does byte by byte. */
static bool tty_split_same(const char *s, size_t len)
{
    collect whole, part;
    size_t cuts[64];
    bool same = true;
    tty_pieces(s, len, NULL, 0, &whole);
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            cuts[0] = a;
            cuts[1] = b;
            tty_pieces(s, len, cuts, 2, &part);
            if (part.over || part.n != whole.n || memcmp(part.b, whole.b, whole.n) != 0) {
                fprintf(stderr, "  cut at %zu and %zu: \"%s\", whole: \"%s\"\n", a, b, part.b,
                        whole.b);
                same = false;
            }
        }
    }
    if (len <= sizeof cuts / sizeof cuts[0]) {
        for (size_t k = 0; k < len; k++) {
            cuts[k] = k;
        }
        tty_pieces(s, len, cuts, len, &part);
        same = same && !part.over && part.n == whole.n && memcmp(part.b, whole.b, whole.n) == 0;
    }
    return same && !whole.over && tty_safe(whole.b, whole.n);
}

static void test_tty_kept(void)
{
    CHECK(tty_is(L(""), ""));
    /* the layout a reply needs: newlines, tabs, backslashes (code keeps its escapes) */
    CHECK(tty_is(L("line 1\n\tline 2 \\n C:\\dir\n"), "line 1\n\tline 2 \\n C:\\dir\n"));
    CHECK(tty_is(L("caf\xc3\xa9 \xe5\xa3\xb2\xe4\xb8\x8a \xf0\x9f\x94\x92 \xc2\xa0"),
                 "caf\xc3\xa9 \xe5\xa3\xb2\xe4\xb8\x8a \xf0\x9f\x94\x92 \xc2\xa0"));
}

static void test_tty_escaped(void)
{
    /* ESC sequences: colour, clear screen, window title (OSC ... BEL), a cursor move */
    CHECK(tty_is(L("\x1b[31mred\x1b[0m"), "\\x1B[31mred\\x1B[0m"));
    CHECK(tty_is(L("\x1b[2J\x1b]0;owned\x07\x1b[1;1H"), "\\x1B[2J\\x1B]0;owned\\x07\\x1B[1;1H"));
    CHECK(tty_is(L("a\rb\x08\x7f\0z"), "a\\rb\\x08\\x7F\\x00z")); /* CR overwrites: escaped */
    /* C1 controls written as UTF-8: U+009B is a CSI on some terminals, U+009D an OSC */
    CHECK(tty_is(L("\xc2\x9b" "2J\xc2\x9d" "0;x\xc2\x9c"), "\\u{009B}2J\\u{009D}0;x\\u{009C}"));
    /* bidi overrides and isolates, invisible characters */
    CHECK(tty_is(L("evil \xe2\x80\xae" "fdp.exe"), "evil \\u{202E}fdp.exe"));
    CHECK(tty_is(L("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad"),
                 "\\u{202A}\\u{202B}\\u{202C}\\u{202D}"));
    CHECK(tty_is(L("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8x\xe2\x81\xa9"),
                 "\\u{2066}\\u{2067}\\u{2068}x\\u{2069}"));
    CHECK(tty_is(L("a\xe2\x80\x8b" "b\xef\xbb\xbf"), "a\\u{200B}b\\u{FEFF}"));
    /* invalid UTF-8: raw C1 byte, lone continuation, overlong, surrogate, over U+10FFFF */
    CHECK(tty_is(L("\x9b" "2J\x80\xff"), "\\x9B2J\\x80\\xFF"));
    CHECK(tty_is(L("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80"),
                 "\\xC0\\xAF\\xED\\xA0\\x80\\xF4\\x90\\x80\\x80"));
    CHECK(tty_is(L("\xe2\x80" "A"), "\\xE2\\x80" "A")); /* a sequence cut by a letter */
    CHECK(tty_is(L("x\xf0\x9f\x94"), "x\\xF0\\x9F\\x94")); /* cut by the end: flushed */
}

/* A piece that ends inside a sequence: held, completed by the next piece, or shown escaped. */
static void test_tty_pieces(void)
{
    ms_text_tty t;
    collect c;
    memset(&c, 0, sizeof c);
    ms_text_tty_init(&t, collect_sink, &c);
    ms_text_tty_write(&t, L("ok \xe2\x80"));
    CHECK(strcmp(c.b, "ok ") == 0 && t.nheld == 2); /* held: it could still be valid */
    ms_text_tty_write(&t, L("\xae!"));
    CHECK(strcmp(c.b, "ok \\u{202E}!") == 0 && t.nheld == 0);
    ms_text_tty_write(&t, L("\xf0"));
    ms_text_tty_write(&t, L("\x9f"));
    ms_text_tty_write(&t, L("\x94"));
    CHECK(t.nheld == 3);
    ms_text_tty_write(&t, L("\x92"));
    CHECK(strcmp(c.b, "ok \\u{202E}!\xf0\x9f\x94\x92") == 0 && t.nheld == 0);
    /* a byte that can never start a valid sequence here is shown at once, not held */
    ms_text_tty_write(&t, L("\xe0\x80"));
    CHECK(t.nheld == 0 && strcmp(c.b, "ok \\u{202E}!\xf0\x9f\x94\x92\\xE0\\x80") == 0);
    /* a held start that the next piece does not continue: escaped, the rest read as usual */
    ms_text_tty_write(&t, L("\xe2"));
    ms_text_tty_write(&t, L("\xe2\x80\xaaz"));
    CHECK(strcmp(c.b, "ok \\u{202E}!\xf0\x9f\x94\x92\\xE0\\x80\\xE2\\u{202A}z") == 0);
    size_t calls = c.calls;
    ms_text_tty_write(&t, NULL, 0);
    ms_text_tty_flush(&t);
    CHECK(c.calls == calls && !c.over); /* nothing to write: the sink is not called */
    ms_text_tty_write(&t, L("\xc3"));
    ms_text_tty_flush(&t);
    CHECK(t.nheld == 0 && strcmp(c.b + c.n - 4, "\\xC3") == 0);
    ms_text_tty_write(&t, L("\xa9"));
    CHECK(strcmp(c.b + c.n - 4, "\\xA9") == 0); /* the flush ended that stream */
    CHECK(!c.over);
}

/* Split anywhere == whole, on texts mixing every kind of character. */
static void test_tty_split(void)
{
    static const char *const texts[] = {
        "caf\xc3\xa9 \xe5\xa3\xb2\xe4\xb8\x8a \xf0\x9f\x94\x92\n\tok",
        "\x1b[31m\xc2\x9b" "31m\xe2\x80\xae\xe2\x81\xa6x\xe2\x81\xa9\r\n",
        "\xe2\x80\xe2\x80\xae\xf0\x9f\xf0\x9f\x94\x92\xc3\xc3\xa9\xed\xa0\x80\xed\x9f\xbf",
        "\xe0\xa0\x80\xe0\x9f\xbf\xf0\x90\x80\x80\xf0\x8f\xbf\xbf\xf4\x8f\xbf\xbf\xf4\x90\x80\x80",
        "\x80\xbf\xc0\xc1\xc2\xf5\xff\xfe\xef\xbb\xbf\\x\xf0\x9f\x94",
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        CHECK(tty_split_same(texts[k], strlen(texts[k])));
    }
}

/*
 * Every code point, encoded and fed byte by byte: shown as ms_text_escape shows it, but for
 * the layout the terminal keeps ('\', LF, TAB). Every two-byte input, whole and cut: the same,
 * and safe.
 */
static void test_tty_every_input(void)
{
    char in[4], esc[MS_TEXT_ESCAPE_SIZE(4)];
    size_t cuts[3] = {1, 2, 3};
    collect c, w;
    int bad = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        size_t n = encode(cp, in);
        tty_pieces(in, n, cuts, n - 1, &c);
        if (cp == '\\' || cp == '\n' || cp == '\t') {
            bad += c.n != 1 || c.b[0] != (char)cp;
            continue;
        }
        ms_text_escape(in, n, 4, esc, sizeof esc);
        bad += c.over || strcmp(c.b, esc) != 0 || !tty_safe(c.b, c.n);
    }
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            in[0] = (char)a;
            in[1] = (char)b;
            tty_pieces(in, 2, NULL, 0, &w);
            tty_pieces(in, 2, cuts, 1, &c);
            bad += c.over || w.over || c.n != w.n || memcmp(c.b, w.b, w.n) != 0 ||
                   !tty_safe(w.b, w.n);
        }
    }
    CHECK(bad == 0);
}

/* A long piece: no limit on its size, the output in blocks, all of it written. */
static void test_tty_long(void)
{
    char in[1000];
    collect c;
    for (size_t i = 0; i < sizeof in; i += 4) {
        memcpy(in + i, i % 8 ? "\x1b" "abc" : "\xe2\x80\xae" "d", 4);
    }
    tty_pieces(in, sizeof in, NULL, 0, &c);
    CHECK(!c.over && c.calls >= 2 && c.n == 125 * strlen("\\x1Babc") + 125 * strlen("\\u{202E}d"));
    CHECK(tty_safe(c.b, c.n));
}

/* Whole decimal numbers: digits only, up to max; a refusal leaves *out as it was. */
static void test_read_u64(void)
{
    uint64_t v = 7;
    CHECK(ms_text_read_u64("0", 0, &v) && v == 0);
    CHECK(ms_text_read_u64("80", 65535, &v) && v == 80);
    CHECK(ms_text_read_u64("65535", 65535, &v) && v == 65535); /* exactly the max */
    CHECK(ms_text_read_u64("0080", 65535, &v) && v == 80);     /* leading zeros */
    CHECK(ms_text_read_u64("00000000000000000000000000000000", 0, &v) && v == 0);
    CHECK(ms_text_read_u64("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
    CHECK(ms_text_read_u64("018446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
    static const char *const bad[] = {
        "", " 80", "80 ", "\t80", "80\n", "+80", "-80", "-0", "+0", "0x50", "8 0", "80a",
        "a80", "1e3", "8.0", "-18446744073709551535", /* strtoul wraps this to 81 */
        "65536", "99999", "18446744073709551616", "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        CHECK(!ms_text_read_u64(bad[i], 65535, &v));
        CHECK(v == 7);
    }
    v = 7; /* past UINT64_MAX under the widest max: refused, nothing wraps */
    CHECK(!ms_text_read_u64("18446744073709551616", UINT64_MAX, &v) && v == 7);
    CHECK(!ms_text_read_u64("-1", UINT64_MAX, &v) && v == 7);
    CHECK(!ms_text_read_u64("1", 0, &v) && v == 7); /* one over the max */
    CHECK(!ms_text_read_u64("10", 9, &v) && v == 7);
    CHECK(!ms_text_read_u64(NULL, 10, &v) && v == 7);
}

int main(void)
{
    RUN(test_kept);
    RUN(test_hidden_escaped);
    RUN(test_controls_escaped);
    RUN(test_invalid_utf8_escaped);
    RUN(test_every_code_point);
    RUN(test_every_short_input);
    RUN(test_max_chars);
    RUN(test_cap);
    RUN(test_utf8_valid);
    RUN(test_tty_kept);
    RUN(test_tty_escaped);
    RUN(test_tty_pieces);
    RUN(test_tty_split);
    RUN(test_tty_every_input);
    RUN(test_tty_long);
    RUN(test_read_u64);
    return TEST_SUMMARY();
}

/* Tests for ms_text_escape: what is kept, what is escaped, and that the output is capped. */
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
    return TEST_SUMMARY();
}

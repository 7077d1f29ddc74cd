/* Tests for the chunking menu: exact spans per method, UTF-8 cuts, caps, coverage properties. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "protocols/chunk.h"
#include "tests/test.h"

#define L(s) s, sizeof(s) - 1

struct want {
    size_t off;
    size_t len;
    uint32_t page;
};

static ms_chunk_params params(ms_chunk_method m, size_t size, size_t overlap)
{
    ms_chunk_params p = {.method = m, .size = size, .overlap = overlap};
    return p;
}

/* Split and compare with the expected spans; reports the first difference. */
static void expect(const char *text, size_t len, ms_chunk_params p, const struct want *w, size_t n)
{
    ms_chunk_list l;
    ms_err e = ms_chunk_split(text, len, &p, &l);
    bool ok = e == MS_OK && l.count == n;
    for (size_t i = 0; ok && i < n; i++) {
        ok = l.items[i].off == w[i].off && l.items[i].len == w[i].len &&
             l.items[i].page == w[i].page;
        if (!ok) {
            TEST_FAIL_("chunk %zu: got (%zu,%zu,p%u), want (%zu,%zu,p%u)", i, l.items[i].off,
                       l.items[i].len, l.items[i].page, w[i].off, w[i].len, w[i].page);
        }
    }
    if (ok) {
        test_pass_count_++;
    } else if (e != MS_OK || l.count != n) {
        TEST_FAIL_("method %s size %zu: %s, %zu chunks (want %zu)", ms_chunk_method_names[p.method],
                   p.size, ms_err_name(e), l.count, n);
    }
    ms_chunk_list_free(&l);
}

#define EXPECT(text, p, ...)                                                                       \
    do {                                                                                           \
        static const struct want w_[] = {__VA_ARGS__};                                             \
        expect(text, strlen(text), p, w_, sizeof w_ / sizeof w_[0]);                               \
    } while (0)

static void test_fixed(void)
{
    const char *az = "abcdefghijklmnopqrstuvwxyz0123456789"; /* 36 bytes */
    EXPECT(az, params(MS_CHUNK_FIXED, 16, 0), {0, 16, 0}, {16, 16, 0}, {32, 4, 0});
    EXPECT(az, params(MS_CHUNK_FIXED, 16, 4), {0, 16, 0}, {12, 16, 0}, {24, 12, 0});
    EXPECT(az, params(MS_CHUNK_FIXED, 16, 8), {0, 16, 0}, {8, 16, 0}, {16, 16, 0}, {24, 12, 0});
    EXPECT(az, params(MS_CHUNK_FIXED, 36, 0), {0, 36, 0});
    EXPECT(az, params(MS_CHUNK_FIXED, 18, 0), {0, 18, 0}, {18, 18, 0});
    EXPECT("x", params(MS_CHUNK_FIXED, 16, 8), {0, 1, 0});
}

/* A cut never splits a UTF-8 sequence; an overlap start moves past continuation bytes. */
static void test_fixed_utf8(void)
{
    /* 15 'a', then e-acute (2 bytes) straddling offset 16. */
    EXPECT("aaaaaaaaaaaaaaa\xc3\xa9"
           "bbbbbbbbbbbbbbb",
           params(MS_CHUNK_FIXED, 16, 0), {0, 15, 0}, {15, 16, 0}, {31, 1, 0});
    /* 14 'a', then a 4-byte emoji at 14..17: the cut at 16 moves back to 14. */
    EXPECT("aaaaaaaaaaaaaa\xf0\x9f\x98\x80"
           "cccccccccccccc",
           params(MS_CHUNK_FIXED, 16, 0), {0, 14, 0}, {14, 16, 0}, {30, 2, 0});
    /* 7 'a', a euro sign at 7..9, 20 'b': overlap start 8 moves forward to 10. */
    EXPECT("aaaaaaa\xe2\x82\xac"
           "bbbbbbbbbbbbbbbbbbbb",
           params(MS_CHUNK_FIXED, 16, 8), {0, 16, 0}, {10, 16, 0}, {18, 12, 0});
    /* Overlap 1 would start on the euro sign's last byte: no overlap at all then. */
    EXPECT("aaaaaaaaaaaaa\xe2\x82\xac"
           "bbbbbbbbbb",
           params(MS_CHUNK_FIXED, 16, 1), {0, 16, 0}, {16, 10, 0});
    /* A valid emoji then a stray continuation byte (found by fuzz_chunk): 9 'a', the emoji at
     * 9..12, a stray 0x82 at 13, 17 'b'. The overlap start 10 is inside the emoji: it moves
     * to 13, not back to 10 as if four continuation bytes in a row were not UTF-8. */
    EXPECT("aaaaaaaaa\xf0\x9f\x98\x80\x82"
           "bbbbbbbbbbbbbbbbb",
           params(MS_CHUNK_FIXED, 16, 6), {0, 16, 0}, {13, 16, 0}, {23, 8, 0});
    /* Invalid UTF-8 (continuation bytes only) is cut where asked. */
    EXPECT("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
           params(MS_CHUNK_FIXED, 16, 0), {0, 16, 0}, {16, 2, 0});
    /* Paragraphs and pages cut oversize units the same way. */
    EXPECT("aaaaaaaaaaaaaaa\xc3\xa9"
           "b",
           params(MS_CHUNK_PARAGRAPHS, 16, 0), {0, 15, 0}, {15, 3, 0});
    EXPECT("aaaaaaaaaaaaaaa\xc3\xa9"
           "b\fz",
           params(MS_CHUNK_PAGES, 16, 0), {0, 15, 1}, {15, 4, 1}, {19, 1, 2});
}

static void test_paragraphs(void)
{
    const char *t = "P1 line1\nP1 line2\n\nP2\n\n\nP3\n";
    EXPECT(t, params(MS_CHUNK_PARAGRAPHS, 16, 0), {0, 16, 0}, {16, 3, 0}, {19, 8, 0});
    EXPECT(t, params(MS_CHUNK_PARAGRAPHS, 19, 0), {0, 19, 0}, {19, 8, 0});
    EXPECT(t, params(MS_CHUNK_PARAGRAPHS, 24, 0), {0, 24, 0}, {24, 3, 0});
    EXPECT(t, params(MS_CHUNK_PARAGRAPHS, 64, 0), {0, 27, 0});
    /* Leading blank lines go with the first paragraph; blank means spaces, tabs, CR too. */
    EXPECT("\n\naaaaaaaaaa\n \t\r\nbbbbbbbbbb", params(MS_CHUNK_PARAGRAPHS, 20, 0), {0, 17, 0},
           {17, 10, 0});
    EXPECT("\n\naaaaaaaaaa\n\nbbbbbbbbbb", params(MS_CHUNK_PARAGRAPHS, 16, 0), {0, 14, 0},
           {14, 10, 0});
    /* A single newline does not separate paragraphs. */
    EXPECT("aaaaaaaaaa\nbbbbbbbbbb", params(MS_CHUNK_PARAGRAPHS, 16, 0), {0, 16, 0}, {16, 5, 0});
    EXPECT("aaaaaaaaaa\r\n\r\nbbbbbbbbbb", params(MS_CHUNK_PARAGRAPHS, 16, 0), {0, 14, 0},
           {14, 10, 0});
    EXPECT("\n\n\n", params(MS_CHUNK_PARAGRAPHS, 16, 0), {0, 3, 0});
}

static void test_pages(void)
{
    EXPECT("page one\fpage two\fpage three", params(MS_CHUNK_PAGES, 64, 0), {0, 9, 1}, {9, 9, 2},
           {18, 10, 3});
    EXPECT("--- Page 1 ---\nintro\n--- Page 2 ---\nbody\n", params(MS_CHUNK_PAGES, 64, 0),
           {0, 21, 1}, {21, 20, 2});
    EXPECT("text a\nPage 1 of 2\ntext b\nPage 2 of 2\n", params(MS_CHUNK_PAGES, 64, 0), {0, 19, 1},
           {19, 19, 2});
    /* Case, spaces, CRLF, longer dashes. */
    EXPECT("a\n  ----  PAGE 12  -----  \r\nb", params(MS_CHUNK_PAGES, 64, 0), {0, 2, 1},
           {2, 27, 2});
    EXPECT("a\n  page 3   OF 9 \r\nb", params(MS_CHUNK_PAGES, 64, 0), {0, 20, 1}, {20, 1, 2});
    /* Near misses are text. */
    EXPECT("a\nPage 3 of\n-- Page 2 --\n--- Page ---\nPages 3 of 4\nPage 1234567890 of 2\n"
           "--- Page 2 --- x\nPage 2 of 3 x\nb",
           params(MS_CHUNK_PAGES, 1024, 0), {0, 104, 1});
    /* A footer on the last line without '\n' ends the text. */
    EXPECT("x\nPage 1 of 1", params(MS_CHUNK_PAGES, 64, 0), {0, 13, 1});
    /* Whitespace-only pages are kept, so ordinals follow the breaks; form feeds mid-line. */
    EXPECT("a\f\fb", params(MS_CHUNK_PAGES, 16, 0), {0, 2, 1}, {2, 1, 2}, {3, 1, 3});
    EXPECT("\fa", params(MS_CHUNK_PAGES, 16, 0), {0, 1, 1}, {1, 1, 2});
    /* Form feed before a header: one break, not an empty page. */
    EXPECT("a\f--- Page 2 ---\nb", params(MS_CHUNK_PAGES, 64, 0), {0, 2, 1}, {2, 16, 2});
    /* An oversize page is cut, every piece keeps its ordinal. */
    EXPECT("0123456789012345678901234567890123456789\fend", params(MS_CHUNK_PAGES, 16, 0),
           {0, 16, 1}, {16, 16, 1}, {32, 9, 1}, {41, 3, 2});
}

/* Offset of the first occurrence of marker in text (the test's own texts always have it). */
static size_t at(const char *text, const char *marker)
{
    const char *p = strstr(text, marker);
    return p != NULL ? (size_t)(p - text) : SIZE_MAX;
}

/* Reference greedy merge of ASCII units (boundaries b[0..n), b[0] = 0) up to size. */
static size_t merge_ref(const size_t *b, size_t n, size_t len, size_t size, struct want *out)
{
    size_t k = 0, cs = 0, ce = 0;
    for (size_t u = 0; u < n; u++) {
        size_t us = b[u], ue = u + 1 < n ? b[u + 1] : len;
        if (ue - cs <= size) {
            ce = ue;
            continue;
        }
        if (ce > cs) {
            out[k++] = (struct want){cs, ce - cs, 0};
        }
        cs = us;
        ce = ue;
        if (ue - us > size) {
            for (size_t s = us; s < ue; s += size) {
                out[k++] = (struct want){s, ue - s < size ? ue - s : size, 0};
            }
            cs = ue;
        }
    }
    if (ce > cs) {
        out[k++] = (struct want){cs, ce - cs, 0};
    }
    return k;
}

/* Units start at the markers; check the merge at several sizes. */
static void expect_units(const char *text, const char *const *markers, size_t n)
{
    size_t b[16] = {0};
    for (size_t i = 0; i < n; i++) {
        b[i + 1] = at(text, markers[i]);
        CHECK(b[i + 1] != SIZE_MAX && b[i + 1] > b[i]);
    }
    static const size_t sizes[] = {16, 40, 64, 100, 150, 4096};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct want w[512];
        size_t k = merge_ref(b, n + 1, strlen(text), sizes[s], w);
        expect(text, strlen(text), params(MS_CHUNK_CODE, sizes[s], 0), w, k);
    }
}

static const char c_src[] = "#include <stdio.h>\n"
                            "#define OPEN {\n"
                            "\n"
                            "/* Adds two numbers.\n"
                            " * int fake(void) { */\n"
                            "static int add(int a, int b)\n"
                            "{\n"
                            "    return a + b; // }\n"
                            "}\n"
                            "\n"
                            "static int\n"
                            "split_decl(int x,\n"
                            "int y)\n"
                            "{\n"
                            "    const char *s = \"}{\\\"\";\n"
                            "    char c = '{';\n"
                            "    return x + y + (s[0] == c);\n"
                            "}\n"
                            "struct point {\n"
                            "    int x;\n"
                            "};\n"
                            "// main entry\n"
                            "// second line\n"
                            "int main(void)\n"
                            "{\n"
                            "    if (1) {\n"
                            "label:\n"
                            "        return add(1, 2);\n"
                            "    }\n"
                            "}\n"
                            "else_is_an_identifier;\n";

static const char py_src[] = "import os\n"
                             "\n"
                             "@decorator\n"
                             "@other(arg)\n"
                             "def f(x):\n"
                             "    \"\"\"Docstring\n"
                             "def not_a_def():\n"
                             "    \"\"\"\n"
                             "    return {'a': (1,\n"
                             "2)}\n"
                             "\n"
                             "# comment about g\n"
                             "class G:\n"
                             "    def method(self):\n"
                             "        return \"#not a comment {\"  # a comment {\n"
                             "\n"
                             "if __name__ == '__main__':\n"
                             "    f(1)\n"
                             "else:\n"
                             "    pass\n"
                             "async def h():\n"
                             "    pass\n";

static void test_code(void)
{
    static const char *const c_units[] = {"/* Adds", "static int\nsplit", "struct point", "// main",
                                          "else_is"};
    expect_units(c_src, c_units, sizeof c_units / sizeof c_units[0]);
    static const char *const py_units[] = {"@decorator", "# comment about g", "async def"};
    expect_units(py_src, py_units, sizeof py_units / sizeof py_units[0]);
    /* Go without semicolons: a ')' ends the import block. */
    static const char go_src[] = "package main\n\nimport (\n\t\"fmt\"\n)\n\nfunc main() {\n"
                                 "\tfmt.Println(\"hi\")\n}\n\nfunc other() {\n}\n";
    static const char *const go_units[] = {"func main", "func other"};
    expect_units(go_src, go_units, sizeof go_units / sizeof go_units[0]);
    /* An unclosed block comment or bracket never loses text: one unit to the end. */
    EXPECT("int a;\n/* open\nint b;\n", params(MS_CHUNK_CODE, 64, 0), {0, 22, 0});
    EXPECT("int f(\nint g;\nint h;\n", params(MS_CHUNK_CODE, 16, 0), {0, 16, 0}, {16, 5, 0});
}

static void test_empty(void)
{
    for (int m = 0; m < MS_CHUNK_METHOD_COUNT; m++) {
        ms_chunk_list l = {(ms_chunk *)1, 7};
        ms_chunk_params p = params((ms_chunk_method)m, 16, 0);
        CHECK_OK(ms_chunk_split(NULL, 0, &p, &l));
        CHECK(l.count == 0 && l.items == NULL);
        ms_chunk_list_free(&l);
    }
    ms_chunk_list_free(NULL);
}

static ms_err split_err(const char *text, size_t len, ms_chunk_params p)
{
    ms_chunk_list l;
    ms_err e = ms_chunk_split(text, len, &p, &l);
    if (e != MS_OK) {
        CHECK(l.count == 0 && l.items == NULL);
    }
    ms_chunk_list_free(&l);
    return e;
}

static void test_params(void)
{
    ms_chunk_params p = params(MS_CHUNK_FIXED, MS_MIN_CHUNK_SIZE, 0);
    CHECK_OK(ms_chunk_params_check(&p));
    p.size = MS_MIN_CHUNK_SIZE - 1;
    CHECK_ERR(ms_chunk_params_check(&p), MS_ERR_ARG);
    p.size = MS_MAX_CHUNK_SIZE;
    CHECK_OK(ms_chunk_params_check(&p));
    p.size = MS_MAX_CHUNK_SIZE + 1;
    CHECK_ERR(ms_chunk_params_check(&p), MS_ERR_CAP_EXCEEDED);
    p.size = (size_t)1 << 30; /* a plan asking for 1 GB chunks */
    CHECK_ERR(ms_chunk_params_check(&p), MS_ERR_CAP_EXCEEDED);
    p.size = 100;
    p.overlap = 50;
    CHECK_OK(ms_chunk_params_check(&p));
    p.overlap = 51;
    CHECK_ERR(ms_chunk_params_check(&p), MS_ERR_ARG);
    p.size = 101;
    p.overlap = 50;
    CHECK_OK(ms_chunk_params_check(&p));
    for (int m = 1; m < MS_CHUNK_METHOD_COUNT; m++) {
        p = params((ms_chunk_method)m, 100, 1);
        CHECK_ERR(ms_chunk_params_check(&p), MS_ERR_ARG);
        p.overlap = 0;
        CHECK_OK(ms_chunk_params_check(&p));
    }
    p = params((ms_chunk_method)MS_CHUNK_METHOD_COUNT, 100, 0);
    CHECK_ERR(ms_chunk_params_check(&p), MS_ERR_ARG);
    p = params((ms_chunk_method)-1, 100, 0);
    CHECK_ERR(ms_chunk_params_check(&p), MS_ERR_ARG);
    CHECK_ERR(ms_chunk_params_check(NULL), MS_ERR_ARG);
    p = params(MS_CHUNK_FIXED, 100, 0);
    CHECK_ERR(ms_chunk_split(NULL, 1, &p, &(ms_chunk_list){0}), MS_ERR_ARG);
    CHECK_ERR(ms_chunk_split("x", 1, &p, NULL), MS_ERR_ARG);
    CHECK_ERR(ms_chunk_split("x", 1, NULL, &(ms_chunk_list){0}), MS_ERR_ARG);
    CHECK(strcmp(ms_chunk_method_names[MS_CHUNK_PARAGRAPHS], "paragraphs") == 0);
    CHECK(strcmp(ms_chunk_method_names[MS_CHUNK_CODE], "code") == 0);
}

/* The chunk-count and text caps, each at its limit and one over: an error, never fewer chunks. */
static void test_caps(void)
{
    size_t n = (size_t)MS_MAX_CHUNKS * MS_MIN_CHUNK_SIZE;
    char *t = malloc(MS_MAX_CHUNK_TEXT + 1);
    CHECK(t != NULL);
    if (t == NULL) {
        return;
    }
    memset(t, 'x', MS_MAX_CHUNK_TEXT + 1);
    ms_chunk_list l;
    ms_chunk_params p = params(MS_CHUNK_FIXED, MS_MIN_CHUNK_SIZE, 0);
    CHECK_OK(ms_chunk_split(t, n, &p, &l));
    CHECK(l.count == MS_MAX_CHUNKS);
    ms_chunk_list_free(&l);
    CHECK_ERR(split_err(t, n + 1, p), MS_ERR_CAP_EXCEEDED);
    /* The same through the other methods' oversize cutting. */
    for (int m = 1; m < MS_CHUNK_METHOD_COUNT; m++) {
        p.method = (ms_chunk_method)m;
        CHECK_OK(ms_chunk_split(t, n, &p, &l));
        CHECK(l.count == MS_MAX_CHUNKS);
        ms_chunk_list_free(&l);
        CHECK_ERR(split_err(t, n + 1, p), MS_ERR_CAP_EXCEEDED);
    }
    /* Pages: one page per form feed, MS_MAX_CHUNKS of them, then one more. */
    memset(t, '\f', MS_MAX_CHUNKS + 1);
    p = params(MS_CHUNK_PAGES, MS_MIN_CHUNK_SIZE, 0);
    CHECK_OK(ms_chunk_split(t, MS_MAX_CHUNKS, &p, &l));
    CHECK(l.count == MS_MAX_CHUNKS && l.items[MS_MAX_CHUNKS - 1].page == MS_MAX_CHUNKS);
    ms_chunk_list_free(&l);
    CHECK_ERR(split_err(t, MS_MAX_CHUNKS + 1, p), MS_ERR_CAP_EXCEEDED);
    memset(t, 'x', MS_MAX_CHUNKS + 1);
    /* Text cap. */
    p = params(MS_CHUNK_FIXED, MS_MAX_CHUNK_SIZE, 0);
    CHECK_OK(ms_chunk_split(t, MS_MAX_CHUNK_TEXT, &p, &l));
    CHECK(l.count == MS_MAX_CHUNK_TEXT / MS_MAX_CHUNK_SIZE);
    ms_chunk_list_free(&l);
    CHECK_ERR(split_err(t, MS_MAX_CHUNK_TEXT + 1, p), MS_ERR_CAP_EXCEEDED);
    free(t);
}

/* ---- Properties over generated texts --------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static const char *const pieces[] = {
    "word ",
    "The ",
    "analyst ",
    "\n",
    "\n\n",
    "\r\n",
    "  \t",
    "\f",
    "--- Page 3 ---\n",
    "Page 1 of 2\n",
    "{",
    "}",
    "(",
    ")",
    "\"",
    "'",
    "/*",
    "*/",
    "//",
    "#",
    "\\",
    "def f():\n",
    "int x;\n",
    "class A:\n",
    "@d\n",
    "\"\"\"",
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xf0\x9f\x98\x80",
    "x",
    ";",
    "}\n",
};

static size_t gen(char *buf, size_t cap)
{
    size_t n = 0, want = rnd((uint32_t)cap);
    while (n < want) {
        const char *p = pieces[rnd(sizeof pieces / sizeof pieces[0])];
        size_t k = strlen(p);
        if (n + k > cap) {
            break;
        }
        memcpy(buf + n, p, k);
        n += k;
    }
    return n;
}

static bool boundary_ok(const char *t, size_t len, size_t at_)
{
    return at_ == 0 || at_ >= len || ((uint8_t)t[at_] & 0xC0) != 0x80;
}

/* Spans in order, non-empty, within size, on UTF-8 boundaries; exact cover or bounded overlap. */
static bool spans_ok(const char *t, size_t len, const ms_chunk_params *p, const ms_chunk_list *l)
{
    size_t prev_end = 0, prev_off = 0;
    for (size_t i = 0; i < l->count; i++) {
        const ms_chunk *c = &l->items[i];
        size_t end = c->off + c->len;
        if (c->len == 0 || c->len > p->size || end > len || !boundary_ok(t, len, c->off) ||
            !boundary_ok(t, len, end)) {
            return false;
        }
        bool first = i == 0;
        if (p->method == MS_CHUNK_FIXED) {
            if ((first && c->off != 0) ||
                (!first && (c->off <= prev_off || end <= prev_end || c->off > prev_end ||
                            prev_end - c->off > p->overlap))) {
                return false;
            }
        } else if (c->off != prev_end || (p->method == MS_CHUNK_PAGES) != (c->page != 0) ||
                   (!first && p->method == MS_CHUNK_PAGES && c->page < l->items[i - 1].page)) {
            return false;
        }
        prev_off = c->off;
        prev_end = end;
    }
    return prev_end == len;
}

static void test_properties(void)
{
    static char buf[4096];
    for (int round = 0; round < 600; round++) {
        size_t len = gen(buf, sizeof buf);
        ms_chunk_params p = params((ms_chunk_method)(round % MS_CHUNK_METHOD_COUNT),
                                   MS_MIN_CHUNK_SIZE + rnd(200), 0);
        p.overlap = p.method == MS_CHUNK_FIXED ? rnd((uint32_t)(p.size / 2 + 1)) : 0;
        ms_chunk_list a, b;
        ms_err e1 = ms_chunk_split(buf, len, &p, &a);
        ms_err e2 = ms_chunk_split(buf, len, &p, &b);
        bool same = e1 == MS_OK && e2 == MS_OK && a.count == b.count;
        for (size_t i = 0; same && i < a.count; i++) { /* fields: padding is not compared */
            same = a.items[i].off == b.items[i].off && a.items[i].len == b.items[i].len &&
                   a.items[i].page == b.items[i].page;
        }
        if (same && spans_ok(buf, len, &p, &a)) {
            test_pass_count_++;
        } else {
            TEST_FAIL_("round %d: method %s size %zu overlap %zu len %zu", round,
                       ms_chunk_method_names[p.method], p.size, p.overlap, len);
        }
        ms_chunk_list_free(&a);
        ms_chunk_list_free(&b);
    }
}

int main(void)
{
    RUN(test_fixed);
    RUN(test_fixed_utf8);
    RUN(test_paragraphs);
    RUN(test_pages);
    RUN(test_code);
    RUN(test_empty);
    RUN(test_params);
    RUN(test_caps);
    RUN(test_properties);
    return TEST_SUMMARY();
}

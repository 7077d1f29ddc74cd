/* Tests for JSON extraction from model output: a table of messy replies, previews, caps. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/limits.h"
#include "protocols/extract.h"
#include "tests/test.h"

struct xcase {
    const char *name;
    const char *in;
    size_t in_len;
    ms_extract_status st;
    ms_err err;
    const char *json; /* FOUND: the exact bytes expected */
    bool fenced;
};

/* Literal with its length, so NUL bytes inside count. */
#define L(s) s, sizeof(s) - 1
#define FOUND(name, in, json)                                                                      \
    {                                                                                              \
        name, L(in), MS_EXTRACT_FOUND, MS_OK, json, false                                          \
    }
#define FOUND_F(name, in, json)                                                                    \
    {                                                                                              \
        name, L(in), MS_EXTRACT_FOUND, MS_OK, json, true                                           \
    }
#define FAILS(name, in, st, err)                                                                   \
    {                                                                                              \
        name, L(in), st, err, NULL, false                                                          \
    }
#define FAILS_F(name, in, st, err)                                                                 \
    {                                                                                              \
        name, L(in), st, err, NULL, true                                                           \
    }

static const struct xcase cases[] = {
    FOUND("bare object", "{\"a\":1}", "{\"a\":1}"),
    FOUND_F("json fence", "```json\n{\"answer\": \"42\"}\n```", "{\"answer\": \"42\"}"),
    FOUND_F("fence without language", "```\n{\"a\": 1}\n```\n", "{\"a\": 1}"),
    FOUND_F("JSON fence upper case, four backticks", "````JSON\n{\"a\": 1}\n````", "{\"a\": 1}"),
    FOUND("prose around", "Sure! Here is the result:\n{\"a\": 1}\nLet me know if you need more.",
          "{\"a\": 1}"),
    FOUND("think block first",
          "<think>\nThe user wants {\"draft\": 1}, hmm.\n</think>\n{\"decision\": \"final\"}",
          "{\"decision\": \"final\"}"),
    FOUND("think tags in any case", "<THINK>x {\"no\": 1}</Think>{\"a\":1}", "{\"a\":1}"),
    FOUND("several think blocks", "<think>a</think>Noted.<think>{\"no\": 1}</think> {\"yes\": 1}",
          "{\"yes\": 1}"),
    FOUND("orphan closing tag", "Reasoning about {\"x\": 0} first...\n</think>\n\n{\"a\": 3}",
          "{\"a\": 3}"),
    FOUND_F("think then fence",
            "<think>\nLet me check the logs.\n</think>\n\n```json\n{\"answer\": \"10.0.0.7\", "
            "\"citation\": \"line 3\"}\n```",
            "{\"answer\": \"10.0.0.7\", \"citation\": \"line 3\"}"),
    FOUND("braces and quotes inside strings",
          "{\"a\": {\"b\": \"}{][\"}, \"c\": \"\\\"}\", \"d\": [\"{\"]}",
          "{\"a\": {\"b\": \"}{][\"}, \"c\": \"\\\"}\", \"d\": [\"{\"]}"),
    FOUND("first of two objects", "{\"a\":1} and also {\"b\":2}", "{\"a\":1}"),
    FOUND("placeholder before the object", "Format: {answer: x}. Result: {\"answer\": \"x\"}",
          "{\"answer\": \"x\"}"),
    FOUND("unclosed prose brace before the object", "Use the {placeholder syntax. Here: {\"a\": 1}",
          "{\"a\": 1}"),
    FOUND("smart quotes in prose",
          "The \xe2\x80\x9c"
          "answer\xe2\x80\x9d is:\n{\"a\": \"it\xe2\x80\x99s\"}",
          "{\"a\": \"it\xe2\x80\x99s\"}"),
    FOUND("invalid UTF-8 and NUL in prose", "\xff\xfe garbage \0 then {\"a\": 1} \x80",
          "{\"a\": 1}"),
    FOUND_F("fence wins over an earlier object", "Example: {\"a\": 0}\n```json\n{\"a\": 1}\n```",
            "{\"a\": 1}"),
    FOUND_F("first fence without an object is skipped",
            "```bash\nls -l\n```\nThen:\n```json\n{\"a\": 1}\n```", "{\"a\": 1}"),
    FOUND_F("inline fence", "```json{\"a\":1}```", "{\"a\":1}"),
    FOUND("backticks inside a JSON string", "{\"code\": \"```python\\nprint(1)\\n```\"}",
          "{\"code\": \"```python\\nprint(1)\\n```\"}"),
    FOUND("think tag inside a JSON string", "{\"a\": \"<think>x\"}", "{\"a\": \"<think>x\"}"),
    FOUND("unclosed think after the object", "{\"a\": 1}\n<think>more", "{\"a\": 1}"),
    FOUND("array then object", "[1, 2] {\"a\": [1, 2]}", "{\"a\": [1, 2]}"),
    FOUND("empty object", "{}", "{}"),
    FOUND("CRLF and tabs", "\r\n\t{\r\n\t\"a\":\t1\r\n}\r\n", "{\r\n\t\"a\":\t1\r\n}"),

    FAILS("top-level array", "[{\"a\": 1}]", MS_EXTRACT_NOT_OBJECT, MS_ERR_JSON_TYPE),
    FAILS_F("array in a fence", "```json\n[1, 2]\n```", MS_EXTRACT_NOT_OBJECT, MS_ERR_JSON_TYPE),
    FAILS_F("truncated in a fence", "```json\n{\"answer\": \"The incident began at",
            MS_EXTRACT_TRUNCATED, MS_ERR_TRUNCATED),
    FAILS("truncated", "{\"a\": [1, 2", MS_EXTRACT_TRUNCATED, MS_ERR_TRUNCATED),
    FAILS("truncated with a nested object", "{\"a\": {\"b\": 1}, \"c\": \"cut",
          MS_EXTRACT_TRUNCATED, MS_ERR_TRUNCATED),
    FAILS_F("object cut by its closing fence", "```json\n{\"a\": 1\n```\nDone.",
            MS_EXTRACT_TRUNCATED, MS_ERR_TRUNCATED),
    FAILS("trailing comma", "{\"a\": 1,}", MS_EXTRACT_INVALID, MS_ERR_JSON_PARSE),
    FAILS_F("comment in the object", "```json\n{\n  // the answer\n  \"a\": 1\n}\n```",
            MS_EXTRACT_INVALID, MS_ERR_JSON_PARSE),
    FAILS("single quotes", "{'a': 1}", MS_EXTRACT_INVALID, MS_ERR_JSON_PARSE),
    FAILS("smart quotes as delimiters",
          "{\xe2\x80\x9c"
          "a\xe2\x80\x9d: 1}",
          MS_EXTRACT_INVALID, MS_ERR_JSON_PARSE),
    FAILS("NaN", "{\"a\": NaN}", MS_EXTRACT_INVALID, MS_ERR_JSON_PARSE),
    FAILS("duplicate keys", "{\"a\": 1, \"a\": 2}", MS_EXTRACT_INVALID, MS_ERR_JSON_PARSE),
    FAILS("raw newline in a string", "{\"a\": \"line 1\nline 2\"}", MS_EXTRACT_INVALID,
          MS_ERR_JSON_PARSE),
    FAILS("invalid UTF-8 in the object", "{\"a\": \"\xff\"}", MS_EXTRACT_INVALID,
          MS_ERR_JSON_PARSE),
    FAILS_F("invalid fenced object is not repaired by later prose",
            "```json\n{\"a\": 1,}\n```\nOr: {\"a\": 2}", MS_EXTRACT_INVALID, MS_ERR_JSON_PARSE),
    FAILS("empty string", "", MS_EXTRACT_EMPTY, MS_ERR_JSON_PARSE),
    FAILS("only whitespace", " \n\t\r\n ", MS_EXTRACT_EMPTY, MS_ERR_JSON_PARSE),
    FAILS("unclosed think at the start", "<think>\nreasoning {\"a\": 1} and more", MS_EXTRACT_EMPTY,
          MS_ERR_JSON_PARSE),
    FAILS("only a closed think block", "<think>{\"a\": 1}</think>\n", MS_EXTRACT_EMPTY,
          MS_ERR_JSON_PARSE),
    FAILS("no JSON at all", "I could not find the answer in the document.", MS_EXTRACT_NO_OBJECT,
          MS_ERR_JSON_PARSE),
    FAILS("empty fence", "```json\n```", MS_EXTRACT_NO_OBJECT, MS_ERR_JSON_PARSE),
    /* Known limit (extract.h): the orphan rule is textual, so "</think>" in an answer
     * without reasoning hides what comes before it. Loud, never a wrong object. */
    FAILS("closing tag in a string without reasoning", "{\"a\": \"</think>\"}",
          MS_EXTRACT_NO_OBJECT, MS_ERR_JSON_PARSE),
};

static void check_case(const struct xcase *c)
{
    ms_buf out;
    ms_extract_info info;
    ms_buf_init(&out, MS_MAX_EXTRACT_TEXT);
    ms_err e = ms_extract_json(c->in, c->in_len, &out, &info);
    bool ok = e == c->err && info.status == c->st;
    if (c->st == MS_EXTRACT_FOUND) {
        size_t n = strlen(c->json);
        ok = ok && out.len == n && memcmp(out.p, c->json, n) == 0 && info.length == n &&
             info.offset + n <= c->in_len && memcmp(c->in + info.offset, c->json, n) == 0 &&
             info.preview[0] == '\0';
    } else {
        ok = ok && out.len == 0 && (c->st == MS_EXTRACT_EMPTY || info.preview[0] != '\0');
    }
    ok = ok && info.fenced == c->fenced;
    if (ok) {
        test_pass_count_++;
    } else {
        TEST_FAIL_("case \"%s\": got %s/%s fenced=%d len=%zu, want %s/%s fenced=%d", c->name,
                   ms_extract_status_name(info.status), ms_err_name(e), info.fenced, out.len,
                   ms_extract_status_name(c->st), ms_err_name(c->err), c->fenced);
    }
    ms_buf_free(&out);
}

static void test_table(void)
{
    CHECK(sizeof cases / sizeof cases[0] >= 30);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_case(&cases[i]);
    }
}

static ms_err run(const char *in, size_t n, ms_buf *out, ms_extract_info *info)
{
    ms_buf_init(out, MS_MAX_EXTRACT_TEXT);
    return ms_extract_json(in, n, out, info);
}

static void test_think_info(void)
{
    ms_buf out;
    ms_extract_info info;
    CHECK_OK(run(L("<think>a</think><think>b</think>{\"a\":1}"), &out, &info));
    CHECK(info.think.blocks == 2 && !info.think.unclosed && !info.think.orphan_close);
    ms_buf_free(&out);
    CHECK_ERR(run(L("<think>still thinking {\"a\":"), &out, &info), MS_ERR_JSON_PARSE);
    CHECK(info.status == MS_EXTRACT_EMPTY && info.think.unclosed);
    CHECK(strncmp(info.preview, "<think>still", 12) == 0);
    ms_buf_free(&out);
    CHECK_OK(run(L("x</think>{\"a\":1}"), &out, &info));
    CHECK(info.think.orphan_close && info.offset == 9);
    ms_buf_free(&out);
}

static void test_big_prose(void)
{
    size_t n = 1u << 20;
    char *big = malloc(n + 32);
    CHECK(big != NULL);
    if (big == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        big[i] = "The quick brown fox, said the analyst. \n"[i % 40];
    }
    ms_buf out;
    ms_extract_info info;
    CHECK_ERR(run(big, n, &out, &info), MS_ERR_JSON_PARSE);
    CHECK(info.status == MS_EXTRACT_NO_OBJECT);
    ms_buf_free(&out);
    memcpy(big + n, "{\"a\": 1}", 8);
    CHECK_OK(run(big, n + 8, &out, &info));
    CHECK(info.offset == n && out.len == 8);
    ms_buf_free(&out);
    free(big);
}

/* 100k '{' (and the cap's worth): one pass plus a bounded number of rescans. */
static void test_many_braces(void)
{
    size_t n = MS_MAX_EXTRACT_TEXT;
    char *b = malloc(n);
    CHECK(b != NULL);
    if (b == NULL) {
        return;
    }
    memset(b, '{', n);
    ms_buf out;
    ms_extract_info info;
    CHECK_ERR(run(b, 100000, &out, &info), MS_ERR_TRUNCATED);
    CHECK(info.status == MS_EXTRACT_TRUNCATED && info.offset == 0);
    CHECK(info.candidates == 1 + MS_MAX_EXTRACT_RESCANS);
    ms_buf_free(&out);
    CHECK_ERR(run(b, n, &out, &info), MS_ERR_TRUNCATED);
    ms_buf_free(&out);
    for (size_t i = 0; i + 1 < n; i += 2) {
        b[i + 1] = '}'; /* "{}{}{}...": many candidates, the first is the answer */
    }
    CHECK_OK(run(b, n, &out, &info));
    CHECK(out.len == 2 && info.offset == 0 && info.candidates == n / 2);
    ms_buf_free(&out);
    for (size_t i = 0; i + 1 < n; i += 2) {
        b[i] = '[';
        b[i + 1] = ']'; /* "[][][]...": arrays only */
    }
    CHECK_ERR(run(b, n, &out, &info), MS_ERR_JSON_TYPE);
    CHECK(info.candidates == n / 2);
    ms_buf_free(&out);
    free(b);
}

static void test_depth(void)
{
    char deep[2 * (MS_MAX_JSON_DEPTH + 8) + 16];
    size_t d = MS_MAX_JSON_DEPTH + 1, n = 0;
    for (size_t i = 0; i < d; i++) {
        memcpy(deep + n, i == 0 ? "{\"a\":" : "[", i == 0 ? 5 : 1);
        n += i == 0 ? 5 : 1;
    }
    for (size_t i = 1; i < d; i++) {
        deep[n++] = ']';
    }
    deep[n++] = '}';
    ms_buf out;
    ms_extract_info info;
    CHECK_ERR(run(deep, n, &out, &info), MS_ERR_JSON_DEPTH);
    CHECK(info.status == MS_EXTRACT_INVALID && info.json_err == MS_ERR_JSON_DEPTH);
    ms_buf_free(&out);
}

static void test_caps_and_args(void)
{
    ms_buf out;
    ms_extract_info info;
    char *big = calloc(MS_MAX_EXTRACT_TEXT + 1, 1);
    CHECK(big != NULL);
    if (big != NULL) {
        memcpy(big, "{\"a\":1}", 7);
        CHECK_OK(run(big, MS_MAX_EXTRACT_TEXT, &out, &info));
        ms_buf_free(&out);
        CHECK_ERR(run(big, MS_MAX_EXTRACT_TEXT + 1, &out, &info), MS_ERR_CAP_EXCEEDED);
        CHECK(info.status == MS_EXTRACT_TOO_LARGE && out.len == 0);
        ms_buf_free(&out);
        free(big);
    }
    /* The object itself over the caller's cap: an error, never a cut object. */
    ms_buf_init(&out, 4);
    CHECK_ERR(ms_extract_json(L("{\"a\":1}"), &out, &info), MS_ERR_CAP_EXCEEDED);
    CHECK(info.status == MS_EXTRACT_TOO_LARGE && out.len == 0 && info.span_preview[0] == '{');
    ms_buf_free(&out);
    ms_buf_init(&out, 64);
    CHECK_ERR(ms_extract_json(NULL, 1, &out, &info), MS_ERR_ARG);
    CHECK_ERR(ms_extract_json("x", 1, NULL, &info), MS_ERR_ARG);
    CHECK_ERR(ms_extract_json("x", 1, &out, NULL), MS_ERR_ARG);
    CHECK_ERR(ms_extract_json(NULL, 0, &out, &info), MS_ERR_JSON_PARSE);
    CHECK(info.status == MS_EXTRACT_EMPTY);
    /* The output buffer is cleared on entry. */
    CHECK_OK(ms_buf_append(&out, "old", 3));
    CHECK_ERR(ms_extract_json(L("nothing"), &out, &info), MS_ERR_JSON_PARSE);
    CHECK(out.len == 0);
    ms_buf_free(&out);
}

/* The candidate cap: objects past MS_MAX_EXTRACT_CANDIDATES invalid ones are not tried. */
static void test_candidate_cap(void)
{
    char text[MS_MAX_EXTRACT_CANDIDATES * 4 + 16];
    size_t n = 0;
    for (size_t i = 0; i < MS_MAX_EXTRACT_CANDIDATES - 1; i++) {
        memcpy(text + n, "{x} ", 4);
        n += 4;
    }
    memcpy(text + n, "{\"a\":1}", 7);
    ms_buf out;
    ms_extract_info info;
    CHECK_OK(run(text, n + 7, &out, &info)); /* the 64th candidate: still tried */
    ms_buf_free(&out);
    memmove(text + n + 4, text + n, 7);
    memcpy(text + n, "{x} ", 4);
    CHECK_ERR(run(text, n + 11, &out, &info), MS_ERR_JSON_PARSE); /* the 65th: not */
    CHECK(info.status == MS_EXTRACT_INVALID && info.offset == 0);
    CHECK(info.candidates == MS_MAX_EXTRACT_CANDIDATES + 1);
    ms_buf_free(&out);
}

static void test_preview(void)
{
    ms_buf out;
    ms_extract_info info;
    CHECK_ERR(run(L("  \x01\\ \xc3\xa9 \xe2\x80\xae \xff\t{'a'}\n"), &out, &info),
              MS_ERR_JSON_PARSE);
    CHECK(strcmp(info.preview, "\\x01\\\\ \xc3\xa9 \\u{202E} \\xFF\\t{'a'}\\n") == 0);
    CHECK(strcmp(info.span_preview, "{'a'}") == 0);
    ms_buf_free(&out);
    char longer[300];
    memset(longer, 'x', sizeof longer);
    CHECK_ERR(run(longer, sizeof longer, &out, &info), MS_ERR_JSON_PARSE);
    CHECK(strlen(info.preview) == MS_EXTRACT_PREVIEW_CHARS + 3);
    CHECK(strcmp(info.preview + MS_EXTRACT_PREVIEW_CHARS, "...") == 0);
    ms_buf_free(&out);
    /* Worst case fits: every character escaped to 8 bytes. */
    char bidi[3 * (MS_EXTRACT_PREVIEW_CHARS + 5)];
    for (size_t i = 0; i < sizeof bidi; i += 3) {
        memcpy(bidi + i, "\xe2\x80\xae", 3);
    }
    CHECK_ERR(run(bidi, sizeof bidi, &out, &info), MS_ERR_JSON_PARSE);
    CHECK(strlen(info.preview) == MS_EXTRACT_PREVIEW_CHARS * 8 + 3);
    ms_buf_free(&out);
}

static void test_describe(void)
{
    ms_buf out;
    ms_extract_info info;
    char msg[MS_EXTRACT_DESCRIBE_MAX];
    CHECK_ERR(run(L("Here you go: {\"a\": 1,}"), &out, &info), MS_ERR_JSON_PARSE);
    ms_extract_describe(&info, msg, sizeof msg);
    CHECK(strstr(msg, "not valid JSON") != NULL);
    CHECK(strstr(msg, "at offset 13: \"{\\\"a\\\": 1,}\"") == NULL); /* quotes are not escaped */
    CHECK(strstr(msg, "at offset 13: \"{\"a\": 1,}\"") != NULL);
    CHECK(strstr(msg, "the output begins: \"Here you go") != NULL);
    ms_buf_free(&out);
    CHECK_ERR(run(L("<think>hmm"), &out, &info), MS_ERR_JSON_PARSE);
    ms_extract_describe(&info, msg, sizeof msg);
    CHECK(strstr(msg, "never closed") != NULL);
    ms_buf_free(&out);
    CHECK_ERR(run(L("{\"a\": \"cut"), &out, &info), MS_ERR_TRUNCATED);
    ms_extract_describe(&info, msg, 10);
    CHECK(strlen(msg) == 9);
    ms_extract_describe(&info, msg, 0);
    ms_buf_free(&out);
    CHECK(strcmp(ms_extract_status_name(MS_EXTRACT_TRUNCATED), "truncated") == 0);
    CHECK(strcmp(ms_extract_status_name((ms_extract_status)99), "unknown") == 0);
}

static ms_err strip(const char *in, size_t n, ms_buf *out, ms_think_info *t)
{
    ms_buf_init(out, 1u << 20);
    return ms_extract_strip_think(in, n, out, t);
}

static bool strip_is(const char *in, size_t n, const char *want)
{
    ms_buf out;
    ms_think_info t;
    bool ok = strip(in, n, &out, &t) == MS_OK && out.len == strlen(want) &&
              (out.len == 0 || memcmp(out.p, want, out.len) == 0);
    ms_buf_free(&out);
    return ok;
}

static void test_strip_think(void)
{
    CHECK(strip_is(L("<think>\nplan\n</think>\n\nThe answer is 42.\n"), "The answer is 42."));
    CHECK(strip_is(L("plan</think>  Answer"), "Answer"));
    CHECK(strip_is(L("A <think>x</think>B<think>y</think> C"), "A B C"));
    CHECK(strip_is(L("Answer <think>cut off"), "Answer"));
    CHECK(strip_is(L("<think>only"), ""));
    CHECK(strip_is(L("  plain  "), "plain"));
    CHECK(strip_is(L(""), ""));
    ms_buf out;
    ms_think_info t;
    CHECK_OK(strip(L("x</think>y<think>z</think>w<think>v"), &out, &t));
    CHECK(out.len == 2 && memcmp(out.p, "yw", 2) == 0);
    CHECK(t.orphan_close && t.unclosed && t.blocks == 1);
    ms_buf_free(&out);
    ms_buf_init(&out, 2);
    CHECK_ERR(ms_extract_strip_think(L("abc"), &out, &t), MS_ERR_CAP_EXCEEDED);
    CHECK(out.len == 0);
    CHECK_ERR(ms_extract_strip_think(NULL, 1, &out, &t), MS_ERR_ARG);
    CHECK_ERR(ms_extract_strip_think("a", 1, NULL, &t), MS_ERR_ARG);
    CHECK_OK(ms_extract_strip_think("a", 1, &out, NULL));
    CHECK_ERR(ms_extract_strip_think("a", MS_MAX_EXTRACT_TEXT + 1, &out, NULL),
              MS_ERR_CAP_EXCEEDED);
    ms_buf_free(&out);
}

/* Every prefix of a fenced reply: never a wrong object, never a crash. */
static void test_every_prefix(void)
{
    static const char reply[] = "<think>x</think>Ok:\n```json\n{\"a\": {\"b\": [1, \"}\"]}}\n```\n";
    const char *obj = "{\"a\": {\"b\": [1, \"}\"]}}";
    size_t obj_end = (size_t)(strstr(reply, obj) - reply) + strlen(obj);
    for (size_t n = 0; n <= sizeof reply - 1; n++) {
        ms_buf out;
        ms_extract_info info;
        ms_err e = run(reply, n, &out, &info);
        if (n >= obj_end) {
            CHECK(e == MS_OK && out.len == strlen(obj) && memcmp(out.p, obj, out.len) == 0);
        } else {
            CHECK(e != MS_OK && out.len == 0);
        }
        ms_buf_free(&out);
    }
}

int main(void)
{
    RUN(test_table);
    RUN(test_think_info);
    RUN(test_big_prose);
    RUN(test_many_braces);
    RUN(test_depth);
    RUN(test_caps_and_args);
    RUN(test_candidate_cap);
    RUN(test_preview);
    RUN(test_describe);
    RUN(test_strip_think);
    RUN(test_every_prefix);
    return TEST_SUMMARY();
}

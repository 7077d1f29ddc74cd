/* Tests for the NDJSON splitter: every split point, CRLF, blank lines, last line, caps. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/llm/ndjson.h"
#include "tests/test.h"

/* What a run produced: the lines joined by '|', how many, and the final error. */
struct run {
    char log[4096];
    size_t log_len;
    int lines;
    ms_err err;
    int fail_at; /* the callback fails on this line number (1-based), 0: never */
};

static ms_err collect(void *ctx, const char *line, size_t len)
{
    struct run *r = ctx;
    char big[32];
    r->lines++;
    if (len > 512) { /* log only the size of big lines */
        int k = snprintf(big, sizeof big, "#%zu", len);
        line = big;
        len = (size_t)k;
    }
    if (len == 0 || line[len] != '\0' || r->log_len + len + 1 >= sizeof r->log) {
        return MS_ERR_INTERNAL;
    }
    if (r->fail_at == r->lines) {
        return MS_ERR_STATE;
    }
    memcpy(r->log + r->log_len, line, len);
    r->log_len += len;
    r->log[r->log_len++] = '|';
    r->log[r->log_len] = '\0';
    return MS_OK;
}

static void run_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts, size_t max_line,
                     struct run *r)
{
    ms_ndjson *j = NULL;
    int fail_at = r->fail_at;
    memset(r, 0, sizeof *r);
    r->fail_at = fail_at;
    if (ms_ndjson_new(max_line, collect, r, &j) != MS_OK) {
        r->err = MS_ERR_INTERNAL;
        return;
    }
    size_t at = 0;
    for (size_t i = 0; i <= ncuts && r->err == MS_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        r->err = ms_ndjson_feed(j, (const uint8_t *)in + at, end - at);
        at = end;
    }
    if (r->err == MS_OK) {
        r->err = ms_ndjson_finish(j);
    }
    ms_ndjson_free(j);
}

static void run_cap(const char *in, size_t n, size_t max_line, struct run *r)
{
    run_cuts(in, n, NULL, 0, max_line, r);
}

static void run_whole(const char *in, struct run *r)
{
    run_cap(in, strlen(in), MS_MAX_NDJSON_LINE, r);
}

static bool same(const struct run *a, const struct run *b)
{
    return a->err == b->err && a->lines == b->lines && a->log_len == b->log_len &&
           memcmp(a->log, b->log, a->log_len) == 0;
}

static void check_every_split(const char *in)
{
    size_t n = strlen(in);
    struct run whole = {0}, part = {0};
    size_t cuts[1024];
    int bad = 0;
    run_whole(in, &whole);
    for (size_t i = 0; i <= n; i++) {
        cuts[0] = i;
        run_cuts(in, n, cuts, 1, MS_MAX_NDJSON_LINE, &part);
        bad += !same(&whole, &part);
        for (size_t k = i; k <= n && n <= 200; k++) {
            cuts[1] = k;
            run_cuts(in, n, cuts, 2, MS_MAX_NDJSON_LINE, &part);
            bad += !same(&whole, &part);
        }
    }
    for (size_t i = 0; i < n && i < 1024; i++) {
        cuts[i] = i + 1;
    }
    if (n <= 1024) {
        run_cuts(in, n, cuts, n, MS_MAX_NDJSON_LINE, &part);
        bad += !same(&whole, &part);
    }
    CHECK(bad == 0);
}

static const char ollama[] =
    "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n"
    "{\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\n"
    "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true}\n";

static void test_ollama_stream(void)
{
    struct run r = {0};
    run_whole(ollama, &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 3);
    static const char first[] =
        "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}|";
    CHECK(strncmp(r.log, first, sizeof first - 1) == 0);
    check_every_split(ollama);
}

static void test_line_ends(void)
{
    struct run r = {0};
    run_whole("{\"a\":1}\r\n{\"b\":2}\r\n", &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 2 && strcmp(r.log, "{\"a\":1}|{\"b\":2}|") == 0);
    check_every_split("{\"a\":1}\r\n{\"b\":2}\r\n");
    /* blank and whitespace-only lines are skipped */
    run_whole("\n\r\n \t \n{\"a\":1}\n\n\n", &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 1 && strcmp(r.log, "{\"a\":1}|") == 0);
    check_every_split("\n\r\n \t \n{\"a\":1}\n\n\n");
    /* only one CR before the LF is dropped; a CR elsewhere is content */
    run_whole("a\r\r\nb\rc\n", &r);
    CHECK(r.lines == 2 && strcmp(r.log, "a\r|b\rc|") == 0);
    /* the last line without its '\n' is passed on at finish */
    run_whole("{\"a\":1}\n{\"b\":2}", &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 2 && strcmp(r.log, "{\"a\":1}|{\"b\":2}|") == 0);
    check_every_split("{\"a\":1}\n{\"b\":2}");
    run_whole("{\"a\":1}\n  \r", &r);
    CHECK(r.lines == 1);
    run_whole("", &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 0);
}

/* The splitter does not judge JSON: malformed lines go to the caller, whole. */
static void test_malformed_passes_through(void)
{
    struct run r = {0};
    run_whole("not json\n{\"cut\":\n", &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 2 && strcmp(r.log, "not json|{\"cut\":|") == 0);
    static const char nul[] = "a\0b\n";
    run_cap(nul, sizeof nul - 1, 100, &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 1 && r.log_len == 4 && memcmp(r.log, "a\0b|", 4) == 0);
}

static void test_caps(void)
{
    struct run r = {0};
    run_cap("12345\n", 6, 5, &r);
    CHECK_OK(r.err);
    run_cap("123456\n", 7, 5, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    run_cap("123456", 6, 5, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    /* the CR of a CRLF counts while the line is being collected */
    run_cap("1234\r\n", 6, 5, &r);
    CHECK_OK(r.err);
    run_cap("12345\r\n", 7, 5, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    /* per line: many maximal lines are fine */
    run_cap("12345\n12345\n12345\n", 18, 5, &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 3);
    /* the real cap */
    size_t n = MS_MAX_NDJSON_LINE;
    char *big = malloc(n + 2);
    memset(big, 'x', n + 1);
    big[n + 1] = '\0';
    run_whole(big, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    big[n] = '\n';
    run_whole(big, &r);
    CHECK_OK(r.err);
    CHECK(r.lines == 1 && strcmp(r.log, "#2097152|") == 0);
    free(big);
}

static void test_callback_error_is_sticky(void)
{
    struct run r = {.fail_at = 2};
    run_cap(ollama, strlen(ollama), MS_MAX_NDJSON_LINE, &r);
    CHECK_ERR(r.err, MS_ERR_STATE);
    CHECK(r.lines == 2);
    ms_ndjson *j = NULL;
    struct run r2 = {.fail_at = 1};
    CHECK_OK(ms_ndjson_new(100, collect, &r2, &j));
    CHECK_ERR(ms_ndjson_feed(j, (const uint8_t *)"a\nb\n", 4), MS_ERR_STATE);
    CHECK_ERR(ms_ndjson_feed(j, (const uint8_t *)"c\n", 2), MS_ERR_STATE);
    CHECK_ERR(ms_ndjson_finish(j), MS_ERR_STATE);
    CHECK(r2.lines == 1);
    ms_ndjson_free(j);
    /* an error from the last, unterminated line surfaces at finish */
    struct run r3 = {.fail_at = 1};
    run_cap("tail", 4, 100, &r3);
    CHECK_ERR(r3.err, MS_ERR_STATE);
}

static void test_args(void)
{
    ms_ndjson *j = (ms_ndjson *)1;
    struct run r = {0};
    CHECK_ERR(ms_ndjson_new(0, collect, &r, &j), MS_ERR_ARG);
    CHECK(j == NULL);
    CHECK_ERR(ms_ndjson_new(10, NULL, &r, &j), MS_ERR_ARG);
    CHECK_OK(ms_ndjson_new(10, collect, &r, &j));
    CHECK_ERR(ms_ndjson_feed(j, NULL, 1), MS_ERR_ARG);
    CHECK_OK(ms_ndjson_feed(j, NULL, 0));
    CHECK_OK(ms_ndjson_finish(j));
    CHECK_OK(ms_ndjson_finish(j));
    ms_ndjson_free(j);
    ms_ndjson_free(NULL);
}

int main(void)
{
    RUN(test_ollama_stream);
    RUN(test_line_ends);
    RUN(test_malformed_passes_through);
    RUN(test_caps);
    RUN(test_callback_error_is_sticky);
    RUN(test_args);
    return TEST_SUMMARY();
}

/* Tests for the SSE parser: every split point, line ends, comments, [DONE], caps, malformed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/llm/sse.h"
#include "tests/test.h"

#define MAX_EVENTS 32

/* What a run produced: the events (as "data" strings joined by '|'), error and done flag. */
struct run {
    char log[4096];
    size_t log_len;
    int events;
    ms_err err;
    bool done;
    int fail_at; /* the callback fails on this event number (1-based), 0: never */
};

static ms_err collect(void *ctx, const char *data, size_t len)
{
    struct run *r = ctx;
    char big[32];
    r->events++;
    if (len > 512) { /* log only the size of big events */
        int k = snprintf(big, sizeof big, "#%zu", len);
        data = big;
        len = (size_t)k;
    }
    if (data[len] != '\0' || r->log_len + len + 1 >= sizeof r->log) {
        return MS_ERR_INTERNAL;
    }
    if (r->fail_at == r->events) {
        return MS_ERR_STATE;
    }
    memcpy(r->log + r->log_len, data, len);
    r->log_len += len;
    r->log[r->log_len++] = '|';
    r->log[r->log_len] = '\0';
    return MS_OK;
}

/* Feed `in` split at the sorted cut points, then finish. */
static void run_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts, size_t max_line,
                     size_t max_event, struct run *r)
{
    ms_sse *s = NULL;
    int fail_at = r->fail_at;
    memset(r, 0, sizeof *r);
    r->fail_at = fail_at;
    if (ms_sse_new(max_line, max_event, collect, r, &s) != MS_OK) {
        r->err = MS_ERR_INTERNAL;
        return;
    }
    size_t at = 0;
    r->err = MS_OK;
    for (size_t i = 0; i <= ncuts && r->err == MS_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        r->err = ms_sse_feed(s, (const uint8_t *)in + at, end - at);
        at = end;
    }
    if (r->err == MS_OK) {
        r->err = ms_sse_finish(s);
    }
    r->done = ms_sse_done(s);
    ms_sse_free(s);
}

static void run_caps(const char *in, size_t n, size_t max_line, size_t max_event, struct run *r)
{
    run_cuts(in, n, NULL, 0, max_line, max_event, r);
}

static void run_whole(const char *in, struct run *r)
{
    run_caps(in, strlen(in), MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, r);
}

static bool same(const struct run *a, const struct run *b)
{
    return a->err == b->err && a->done == b->done && a->events == b->events &&
           a->log_len == b->log_len && memcmp(a->log, b->log, a->log_len) == 0;
}

/* Every way of cutting `in` into two and three pieces, and byte by byte, agrees with whole. */
static void check_every_split(const char *in)
{
    size_t n = strlen(in);
    struct run whole = {0}, part = {0};
    size_t cuts[1024];
    int bad = 0;
    run_whole(in, &whole);
    for (size_t i = 0; i <= n; i++) {
        cuts[0] = i;
        run_cuts(in, n, cuts, 1, MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, &part);
        bad += !same(&whole, &part);
        for (size_t j = i; j <= n && n <= 160; j++) {
            cuts[1] = j;
            run_cuts(in, n, cuts, 2, MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, &part);
            bad += !same(&whole, &part);
        }
    }
    for (size_t i = 0; i < n && i < 1024; i++) {
        cuts[i] = i + 1;
    }
    if (n <= 1024) {
        run_cuts(in, n, cuts, n, MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, &part);
        bad += !same(&whole, &part);
    }
    CHECK(bad == 0);
}

static const char openai_lf[] =
    ": keep-alive\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n"
    "\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n"
    "\n"
    "data: [DONE]\n"
    "\n";

static void test_openai_stream(void)
{
    struct run r = {0};
    run_whole(openai_lf, &r);
    CHECK_OK(r.err);
    CHECK(r.done);
    CHECK(r.events == 2);
    CHECK(strcmp(r.log, "{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}|"
                        "{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}|") == 0);
    check_every_split(openai_lf);
}

static void test_crlf_and_cr(void)
{
    static const char crlf[] = "data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\ndata: [DONE]\r\n\r\n";
    static const char cr[] = "data: a\r\rdata: b\rdata: c\r\rdata: [DONE]\r\r";
    static const char mixed[] = "data: a\r\n\ndata: b\rdata: c\n\r\ndata: [DONE]\n\r";
    struct run r = {0};
    const char *all[] = {crlf, cr, mixed};
    for (size_t i = 0; i < 3; i++) {
        run_whole(all[i], &r);
        CHECK_OK(r.err);
        CHECK(r.done && r.events == 2 && strcmp(r.log, "a|b\nc|") == 0);
        check_every_split(all[i]);
    }
    /* "\r\r\n" is two line ends (CR, then CRLF): an empty line between */
    run_whole("data: x\r\r\n", &r);
    CHECK_OK(r.err);
    CHECK(r.events == 1 && strcmp(r.log, "x|") == 0);
}

static void test_fields(void)
{
    struct run r = {0};
    /* no space after the colon, two spaces (one kept), empty value, no colon at all */
    run_whole("data:x\n\ndata:  y\n\ndata:\n\ndata\n\n", &r);
    CHECK_OK(r.err);
    CHECK(r.events == 4 && strcmp(r.log, "x| y|||") == 0);
    /* other fields are ignored, an event with no data is not dispatched */
    run_whole("event: message\nid: 7\nretry: 10\n\nevent: x\ndata: d\nid: 8\n\n", &r);
    CHECK_OK(r.err);
    CHECK(r.events == 1 && strcmp(r.log, "d|") == 0);
    /* field names are case-sensitive; "data " is another name */
    run_whole("Data: no\ndata : no\n\n", &r);
    CHECK_OK(r.err);
    CHECK(r.events == 0);
    /* comments, blank lines */
    run_whole(":\n: x\n\n\n\ndata: y\n:comment inside\ndata: z\n\n", &r);
    CHECK_OK(r.err);
    CHECK(r.events == 1 && strcmp(r.log, "y\nz|") == 0);
    check_every_split("data: y\n:comment inside\ndata: z\n\n: trailing\n");
    /* a BOM is skipped only at the very start */
    run_whole("\xEF\xBB\xBF" "data: a\n\n", &r);
    CHECK_OK(r.err);
    CHECK(r.events == 1 && strcmp(r.log, "a|") == 0);
    check_every_split("\xEF\xBB\xBF" "data: a\n\n");
    run_whole("\n\xEF\xBB\xBF" "data: a\n\n", &r);
    CHECK(r.events == 0);
    /* data: [DONE] with other text around it is an ordinary event */
    run_whole("data: [DONE] \n\ndata: [DONE]\ndata: x\n\n", &r);
    CHECK_OK(r.err);
    CHECK(!r.done && r.events == 2 && strcmp(r.log, "[DONE] |[DONE]\nx|") == 0);
}

static void test_done(void)
{
    struct run r = {0};
    run_whole("data: a\n\ndata: [DONE]\n\n: bye\n\nevent: end\n\n", &r);
    CHECK_OK(r.err);
    CHECK(r.done && r.events == 1);
    run_whole("data: a\n\ndata: [DONE]\n\ndata: b\n\n", &r);
    CHECK_ERR(r.err, MS_ERR_TRAILING);
    CHECK(r.done && r.events == 1);
    check_every_split("data: a\n\ndata: [DONE]\n\ndata: b\n\n");
    /* without [DONE] the stream is fine for the parser, but not done */
    run_whole("data: a\n\n", &r);
    CHECK_OK(r.err);
    CHECK(!r.done);
}

static void test_truncated(void)
{
    struct run r = {0};
    run_whole("data: a\n\ndata: b", &r);
    CHECK_ERR(r.err, MS_ERR_TRUNCATED);
    CHECK(r.events == 1);
    run_whole("data: a\n\ndata: b\n", &r);
    CHECK_ERR(r.err, MS_ERR_TRUNCATED);
    run_whole("data: [DONE]\n", &r);
    CHECK_ERR(r.err, MS_ERR_TRUNCATED);
    CHECK(!r.done);
    run_whole("data: a\n\n: partial comment", &r);
    CHECK_ERR(r.err, MS_ERR_TRUNCATED);
    run_whole("", &r);
    CHECK_OK(r.err);
    CHECK(r.events == 0 && !r.done);
    /* every strict prefix of a complete stream either ends cleanly or is truncated */
    size_t n = strlen(openai_lf);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        run_caps(openai_lf, i, MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, &r);
        bad += r.done || (r.err != MS_OK && r.err != MS_ERR_TRUNCATED);
    }
    CHECK(bad == 0);
}

static void test_caps(void)
{
    struct run r = {0};
    /* line cap counts the bytes without the line end: "data: 12345" is 11 */
    run_caps("data: 12345\n\n", 13, 11, 100, &r);
    CHECK_OK(r.err);
    run_caps("data: 12345\n\n", 13, 10, 100, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    run_caps("data: 12345\r\n\r\n", 15, 11, 100, &r);
    CHECK_OK(r.err);
    run_caps(": a long comment\n", 17, 10, 100, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    /* event cap counts the data, with the '\n' between lines */
    run_caps("data: 123\ndata: 45\n\n", 20, 100, 6, &r);
    CHECK_OK(r.err);
    CHECK(strcmp(r.log, "123\n45|") == 0);
    run_caps("data: 123\ndata: 456\n\n", 21, 100, 6, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    /* the cap is per event: many events of the maximum size are fine */
    run_caps("data: 123456\n\ndata: 123456\n\n", 28, 100, 6, &r);
    CHECK_OK(r.err);
    CHECK(r.events == 2);
    /* the real caps: one byte over fails whatever the chunking */
    size_t n = MS_MAX_SSE_LINE + 1;
    char *big = malloc(n + 3);
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', n - 6);
    big[n] = '\n';
    big[n + 1] = '\n';
    big[n + 2] = '\0';
    run_whole(big, &r);
    CHECK_ERR(r.err, MS_ERR_CAP_EXCEEDED);
    big[n - 1] = '\n';
    big[n] = '\n';
    big[n + 1] = '\0';
    run_whole(big, &r);
    CHECK_OK(r.err);
    CHECK(r.events == 1 && r.err == MS_OK);
    free(big);
}

static void test_callback_error_is_sticky(void)
{
    struct run r = {.fail_at = 2};
    run_caps(openai_lf, strlen(openai_lf), MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, &r);
    CHECK_ERR(r.err, MS_ERR_STATE);
    CHECK(r.events == 2 && !r.done);
    ms_sse *s = NULL;
    struct run r2 = {.fail_at = 1};
    CHECK_OK(ms_sse_new(100, 100, collect, &r2, &s));
    CHECK_ERR(ms_sse_feed(s, (const uint8_t *)"data: a\n\n", 9), MS_ERR_STATE);
    CHECK_ERR(ms_sse_feed(s, (const uint8_t *)"data: b\n\n", 9), MS_ERR_STATE);
    CHECK_ERR(ms_sse_finish(s), MS_ERR_STATE);
    CHECK(r2.events == 1);
    ms_sse_free(s);
}

static void test_args(void)
{
    ms_sse *s = (ms_sse *)1;
    struct run r = {0};
    CHECK_ERR(ms_sse_new(0, 10, collect, &r, &s), MS_ERR_ARG);
    CHECK(s == NULL);
    CHECK_ERR(ms_sse_new(10, 0, collect, &r, &s), MS_ERR_ARG);
    CHECK_ERR(ms_sse_new(10, 10, NULL, &r, &s), MS_ERR_ARG);
    CHECK_OK(ms_sse_new(10, 10, collect, &r, &s));
    CHECK_ERR(ms_sse_feed(s, NULL, 1), MS_ERR_ARG);
    CHECK_OK(ms_sse_feed(s, NULL, 0));
    CHECK_OK(ms_sse_finish(s));
    ms_sse_free(s);
    ms_sse_free(NULL);
}

/* Events carry NUL and arbitrary bytes through unchanged. */
static void test_binary(void)
{
    static const char in[] = "data: a\0b\xff\n\n";
    struct run r = {0};
    run_caps(in, sizeof in - 1, 100, 100, &r);
    CHECK_OK(r.err);
    CHECK(r.events == 1 && r.log_len == 5 && memcmp(r.log, "a\0b\xff|", 5) == 0);
}

/* "error:" lines (llama.cpp's server on a failed 200 stream): to on_error when set, else ignored. */
static char g_err_seen[128];
static ms_err on_err(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    snprintf(g_err_seen, sizeof g_err_seen, "%.*s", (int)len, data);
    return data[len] == '\0' ? MS_ERR_BACKEND_STATUS : MS_ERR_INTERNAL;
}

static void test_error_field(void)
{
    static const char in[] = "data: {\"a\":1}\n\nerror: {\"code\":500,\"message\":\"boom\"}\n\n";
    struct run r;
    ms_sse *s = NULL;
    memset(&r, 0, sizeof r);
    CHECK_OK(ms_sse_new(256, 256, collect, &r, &s));
    ms_sse_set_error_fn(s, on_err);
    CHECK_ERR(ms_sse_feed(s, (const uint8_t *)in, sizeof in - 1), MS_ERR_BACKEND_STATUS);
    CHECK(r.events == 1 && strcmp(g_err_seen, "{\"code\":500,\"message\":\"boom\"}") == 0);
    CHECK_ERR(ms_sse_finish(s), MS_ERR_BACKEND_STATUS); /* sticky */
    ms_sse_free(s);
    /* "error:" without a space, CRLF, and after a BOM: the same value */
    static const char in2[] = "\xEF\xBB\xBF" "error:{\"message\":\"x\"}\r\n";
    g_err_seen[0] = '\0';
    CHECK_OK(ms_sse_new(256, 256, collect, &r, &s));
    ms_sse_set_error_fn(s, on_err);
    CHECK_ERR(ms_sse_feed(s, (const uint8_t *)in2, sizeof in2 - 1), MS_ERR_BACKEND_STATUS);
    CHECK(strcmp(g_err_seen, "{\"message\":\"x\"}") == 0);
    ms_sse_free(s);
    /* without on_error the field is ignored, as before */
    size_t none = 0;
    run_cuts(in, sizeof in - 1, &none, 0, 256, 256, &r);
    CHECK(r.err == MS_OK && r.events == 1 && strcmp(r.log, "{\"a\":1}|") == 0);
}

int main(void)
{
    RUN(test_openai_stream);
    RUN(test_crlf_and_cr);
    RUN(test_fields);
    RUN(test_done);
    RUN(test_truncated);
    RUN(test_caps);
    RUN(test_callback_error_is_sticky);
    RUN(test_args);
    RUN(test_binary);
    RUN(test_error_field);
    return TEST_SUMMARY();
}

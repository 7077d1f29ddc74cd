/*
 * The supervisor's bridge against replies as real engines document them
 * (tests/common/llm/engine_examples.h names the sources), plain and streamed: a reply cut
 * at the token limit is relayed with finish_reason "length" (the client shows it as
 * INCOMPLETE), never relabelled "stop"; reasoning text is not relayed as content; an error
 * after the stream began and a busy engine are sealed errors saying so.
 */
#include <stdio.h>
#include <string.h>

#include "common/http.h"
#include "common/json.h"
#include "secure/supervisor/bridge.h"
#include "tests/common/llm/engine_examples.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

static const fx_route routes[] = {
    {.path = "/oa/v1/chat/completions", .body = OPENAI_PLAIN_LENGTH},
    {.path = "/oas/v1/chat/completions", .body = OPENAI_STREAM_LENGTH, .chunk = 31},
    {.path = "/vl/v1/chat/completions", .body = VLLM_PLAIN_REASONING_CUT},
    {.path = "/vls/v1/chat/completions", .body = VLLM_STREAM_REASONING, .chunk = 17},
    {.path = "/lc/v1/chat/completions", .body = LLAMACPP_STREAM_QUIRKS, .chunk = 9},
    {.path = "/lcerr/v1/chat/completions", .body = LLAMACPP_STREAM_ERROR_LINE},
    {.path = "/rl/v1/chat/completions", .body = OPENAI_PLAIN_LENGTH, .fail_first = 1,
     .fail_status = 429, .retry_after = "1", .fail_body = RATE_LIMIT_BODY},
    {.path = "/rlong/v1/chat/completions", .status = 429, .retry_after = "3600",
     .body = RATE_LIMIT_BODY},
};

static fx_server *srv;
static const char REQ[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"Who logged in?\"}]}";

struct pieces {
    char s[256];
};

static ms_err on_piece(void *ctx, const char *p, size_t n)
{
    struct pieces *t = ctx;
    size_t have = strlen(t->s);
    if (have + n >= sizeof t->s) {
        return MS_ERR_CAP_EXCEEDED;
    }
    memcpy(t->s + have, p, n);
    t->s[have + n] = '\0';
    return MS_OK;
}

/* One turn through a bridge on prefix; the reply JSON into out (NUL-terminated). */
static void turn(const char *prefix, int retries, int stream, struct pieces *t, char *out,
                 size_t cap)
{
    char url[128];
    ms_bridge *b = NULL;
    ms_buf reply;
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s/v1", (unsigned)fx_port(srv), prefix);
    ms_bridge_cfg c = {.base_url = url, .model = "m", .timeout_ms = 10000,
                       .connect_timeout_ms = 2000, .max_retries = retries};
    ms_buf_init(&reply, 64 * 1024);
    out[0] = '\0';
    CHECK_OK(ms_bridge_new(&b, &c));
    if (b != NULL) {
        CHECK_OK(ms_bridge_turn(b, (const uint8_t *)REQ, sizeof REQ - 1, stream,
                                stream ? on_piece : NULL, t, &reply));
        snprintf(out, cap, "%.*s", (int)reply.len, (const char *)reply.p);
    }
    ms_bridge_free(b);
    ms_buf_free(&reply);
}

static int has(const char *s, const char *needle)
{
    if (strstr(s, needle) == NULL) {
        fprintf(stderr, "  missing %s in %s\n", needle, s);
        return 0;
    }
    return 1;
}

static void test_length_relayed(void)
{
    char out[4096];
    struct pieces t = {{0}};
    turn("/oa", 0, 0, NULL, out, sizeof out);
    CHECK(has(out, "\"ok\":true,\"content\":\"The incident began\",\"finish_reason\":\"length\""));
    turn("/oas", 0, 1, &t, out, sizeof out);
    CHECK(has(out, "\"ok\":true,\"finish_reason\":\"length\""));
    CHECK(strcmp(t.s, "The incident began") == 0);
    memset(&t, 0, sizeof t);
    turn("/lc", 0, 1, &t, out, sizeof out); /* CRLF, comments, data:, timings */
    CHECK(has(out, "\"finish_reason\":\"length\"") && has(out, "\"prompt_tokens\":12"));
    CHECK(strcmp(t.s, "Host web") == 0);
}

static void test_reasoning_not_content(void)
{
    char out[4096];
    struct pieces t = {{0}};
    turn("/vl", 0, 0, NULL, out, sizeof out);
    CHECK(has(out, "\"content\":\"\",\"finish_reason\":\"length\""));
    CHECK(strstr(out, "logs, so") == NULL);
    turn("/vls", 0, 1, &t, out, sizeof out);
    CHECK(strcmp(t.s, "m.vale at 04:10") == 0 && has(out, "\"finish_reason\":\"stop\""));
}

static void test_errors(void)
{
    char out[4096];
    struct pieces t = {{0}};
    turn("/lcerr", 2, 1, &t, out, sizeof out);
    CHECK(has(out, "\"ok\":false") && has(out, "context shift is disabled"));
    CHECK(strcmp(t.s, "Ho") == 0 && fx_hits(srv, "/lcerr/v1/chat/completions") == 1);
    turn("/rl", 2, 0, NULL, out, sizeof out); /* 429 + Retry-After 1: waited, retried */
    CHECK(has(out, "\"ok\":true") && fx_hits(srv, "/rl/v1/chat/completions") == 2);
    turn("/rlong", 2, 0, NULL, out, sizeof out); /* over the wait cap: said, not retried */
    CHECK(has(out, "\"ok\":false") && has(out, "HTTP 429: Rate limit reached for requests"));
    CHECK(has(out, "busy and asked to be retried after 3600 s"));
    CHECK(fx_hits(srv, "/rlong/v1/chat/completions") == 1);
}

int main(void)
{
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    srv = fx_start(routes, sizeof routes / sizeof routes[0]);
    if (srv == NULL) {
        return 1;
    }
    RUN(test_length_relayed);
    RUN(test_reasoning_not_content);
    RUN(test_errors);
    fx_stop(srv);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

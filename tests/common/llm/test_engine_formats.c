/*
 * The worker's engine clients against replies as real engines document them
 * (engine_examples.h says where each comes from): a reply cut at the token limit is
 * truncated, plain and streamed, in both wire formats; reasoning text (reasoning_content,
 * Ollama's thinking) is never the answer; llama.cpp's timings, usage-only chunks, keep-alive
 * comments, CRLF, "data:" without a space are read; an error after the stream began is an
 * error; 429 and 503 with Retry-After are retried before any text, and otherwise say so.
 */
#include <stdio.h>
#include <string.h>

#include "common/limits.h"
#include "common/llm/ollama.h"
#include "common/llm/openai.h"
#include "tests/common/llm/engine_examples.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

static const fx_route routes[] = {
    {.path = "/oa/v1/chat/completions", .body = OPENAI_PLAIN_LENGTH},
    {.path = "/oas/v1/chat/completions", .body = OPENAI_STREAM_LENGTH, .chunk = 37,
     .content_type = "text/event-stream"},
    {.path = "/vl/v1/chat/completions", .body = VLLM_PLAIN_REASONING_CUT},
    {.path = "/vls/v1/chat/completions", .body = VLLM_STREAM_REASONING, .chunk = 23},
    {.path = "/lc/v1/chat/completions", .body = LLAMACPP_STREAM_QUIRKS, .chunk = 11},
    {.path = "/lcerr/v1/chat/completions", .body = LLAMACPP_STREAM_ERROR_LINE, .chunk = 13},
    {.path = "/ol/api/chat", .body = OLLAMA_PLAIN_THINKING_CUT},
    {.path = "/ols/api/chat", .body = OLLAMA_STREAM_THINKING_LENGTH, .chunk = 29},
    {.path = "/olerr/api/chat", .body = OLLAMA_STREAM_ERROR},
    /* busy engines */
    {.path = "/rl/v1/chat/completions", .body = OPENAI_STREAM_LENGTH, .fail_first = 1,
     .fail_status = 429, .retry_after = "1", .fail_body = RATE_LIMIT_BODY},
    {.path = "/u503/api/chat", .body = OLLAMA_PLAIN_THINKING_CUT, .fail_first = 1,
     .fail_status = 503, .retry_after = "1", .fail_body = "{\"error\":\"server busy\"}"},
    {.path = "/rlong/v1/chat/completions", .body = OPENAI_PLAIN_LENGTH, .fail_first = 5,
     .fail_status = 429, .retry_after = "30", .fail_body = RATE_LIMIT_BODY},
    {.path = "/rlways/v1/chat/completions", .status = 429, .retry_after = "1",
     .body = RATE_LIMIT_BODY},
};

static fx_server *srv;
static ms_http_client *http;
static char base[128];

static const ms_chat_msg msgs[] = {{.role = "user", .content = "Who logged in?", .content_len = 14}};

static ms_openai_cfg oa(const char *prefix)
{
    snprintf(base, sizeof base, "http://127.0.0.1:%u%s/v1", (unsigned)fx_port(srv), prefix);
    return (ms_openai_cfg){.base_url = base, .model = "m", .backoff_base_ms = 10};
}

static ms_ollama_cfg ol(const char *prefix)
{
    snprintf(base, sizeof base, "http://127.0.0.1:%u%s", (unsigned)fx_port(srv), prefix);
    return (ms_ollama_cfg){.base_url = base, .model = "m", .backoff_base_ms = 10};
}

struct text {
    char s[256];
    unsigned calls;
};

static ms_err on_delta(void *ctx, const char *p, size_t n)
{
    struct text *t = ctx;
    size_t have = strlen(t->s);
    if (have + n >= sizeof t->s) {
        return MS_ERR_CAP_EXCEEDED;
    }
    memcpy(t->s + have, p, n);
    t->s[have + n] = '\0';
    t->calls++;
    return MS_OK;
}

static int is(const ms_chat_result *r, const char *want)
{
    return r->content.len == strlen(want) && memcmp(r->content.p, want, r->content.len) == 0;
}

static void test_openai_length(void)
{
    ms_chat_result r;
    struct text t = {0};
    ms_chat_result_init(&r);
    ms_openai_cfg c = oa("/oa");
    CHECK_OK(ms_openai_chat(http, &c, msgs, 1, NULL, &r));
    CHECK(is(&r, "The incident began") && r.truncated);
    CHECK(strcmp(r.finish_reason, "length") == 0);
    CHECK(r.prompt_tokens == 21 && r.completion_tokens == 4);
    c = oa("/oas"); /* usage-only last chunk, "usage": null before it */
    CHECK_OK(ms_openai_chat_stream(http, &c, msgs, 1, NULL, on_delta, &t, &r));
    CHECK(is(&r, "The incident began") && strcmp(t.s, "The incident began") == 0);
    CHECK(r.truncated && r.prompt_tokens == 21 && r.completion_tokens == 4);
    ms_chat_result_free(&r);
}

static void test_vllm_reasoning(void)
{
    ms_chat_result r;
    struct text t = {0};
    ms_chat_result_init(&r);
    ms_openai_cfg c = oa("/vl");
    CHECK_OK(ms_openai_chat(http, &c, msgs, 1, NULL, &r));
    CHECK(r.content.len == 0 && r.truncated); /* the reasoning is not the answer */
    CHECK(r.prompt_tokens == 30 && r.completion_tokens == 8);
    c = oa("/vls");
    CHECK_OK(ms_openai_chat_stream(http, &c, msgs, 1, NULL, on_delta, &t, &r));
    CHECK(is(&r, "m.vale at 04:10") && strcmp(t.s, "m.vale at 04:10") == 0 && t.calls == 1);
    CHECK(!r.truncated && strcmp(r.finish_reason, "stop") == 0);
    ms_chat_result_free(&r);
}

static void test_llamacpp(void)
{
    ms_chat_result r;
    struct text t = {0};
    ms_chat_result_init(&r);
    ms_openai_cfg c = oa("/lc"); /* CRLF, comments, data: without a space, timings */
    CHECK_OK(ms_openai_chat_stream(http, &c, msgs, 1, NULL, on_delta, &t, &r));
    CHECK(is(&r, "Host web") && r.truncated);
    CHECK(r.prompt_tokens == 12 && r.completion_tokens == 2);
    /* "error: {...}" after text on a 200 stream: an error with the engine's message, no
       answer, and not retried (text was already delivered) */
    memset(&t, 0, sizeof t);
    c = oa("/lcerr");
    c.max_retries = 2;
    CHECK_ERR(ms_openai_chat_stream(http, &c, msgs, 1, NULL, on_delta, &t, &r),
              MS_ERR_BACKEND_STATUS);
    CHECK(strcmp(r.error_text, "context shift is disabled") == 0);
    CHECK(r.content.len == 0 && strcmp(t.s, "Ho") == 0 && r.attempts == 1);
    ms_chat_result_free(&r);
}

static void test_ollama(void)
{
    ms_chat_result r;
    struct text t = {0};
    ms_chat_result_init(&r);
    ms_ollama_cfg c = ol("/ol");
    CHECK_OK(ms_ollama_chat(http, &c, msgs, 1, NULL, &r));
    CHECK(r.content.len == 0 && r.truncated); /* thinking is not the answer */
    CHECK(r.prompt_tokens == 40 && r.completion_tokens == 8);
    c = ol("/ols");
    CHECK_OK(ms_ollama_chat_stream(http, &c, msgs, 1, NULL, on_delta, &t, &r));
    CHECK(is(&r, "m.vale logged") && strcmp(t.s, "m.vale logged") == 0 && r.truncated);
    CHECK(strcmp(r.finish_reason, "length") == 0 && r.completion_tokens == 3);
    memset(&t, 0, sizeof t);
    c = ol("/olerr");
    CHECK_ERR(ms_ollama_chat_stream(http, &c, msgs, 1, NULL, on_delta, &t, &r),
              MS_ERR_BACKEND_STATUS);
    CHECK(strstr(r.error_text, "unexpected EOF") != NULL && r.content.len == 0);
    ms_chat_result_free(&r);
}

/* 429 / 503 with Retry-After: waited out and retried before any text; otherwise a clear error. */
static void test_busy(void)
{
    ms_chat_result r;
    struct text t = {0};
    ms_chat_result_init(&r);
    ms_openai_cfg c = oa("/rl");
    c.max_retries = 2;
    CHECK_OK(ms_openai_chat_stream(http, &c, msgs, 1, NULL, on_delta, &t, &r));
    CHECK(r.attempts == 2 && strcmp(t.s, "The incident began") == 0); /* the text once */
    CHECK(r.retry_after_s == 0 && r.truncated);
    ms_ollama_cfg o = ol("/u503");
    o.max_retries = 1;
    CHECK_OK(ms_ollama_chat(http, &o, msgs, 1, NULL, &r));
    CHECK(r.attempts == 2 && r.http_status == 200);
    CHECK(fx_hits(srv, "/u503/api/chat") == 2);
    /* Retry-After over the wait cap: no retry, the engine's message and its Retry-After */
    c = oa("/rlong");
    c.max_retries = 3;
    c.max_retry_wait_ms = 2000;
    CHECK_ERR(ms_openai_chat(http, &c, msgs, 1, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 1 && r.http_status == 429 && r.retry_after_s == 30);
    CHECK(strcmp(r.error_text, "Rate limit reached for requests") == 0);
    /* always busy: the budget (1 + max_retries attempts) is spent, then the error */
    c = oa("/rlways");
    c.max_retries = 1;
    CHECK_ERR(ms_openai_chat(http, &c, msgs, 1, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 2 && r.http_status == 429 && r.retry_after_s == 1 && r.content.len == 0);
    CHECK(fx_hits(srv, "/rlways/v1/chat/completions") == 2);
    ms_chat_result_free(&r);
}

int main(void)
{
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    srv = fx_start(routes, sizeof routes / sizeof routes[0]);
    ms_http_opts ho = {.connect_timeout_ms = 2000, .total_timeout_ms = 10000,
                       .max_response = MS_MAX_LLM_STREAM};
    if (srv == NULL || ms_http_client_new(&ho, &http) != MS_OK) {
        fprintf(stderr, "cannot start the fixture\n");
        return 1;
    }
    RUN(test_openai_length);
    RUN(test_vllm_reasoning);
    RUN(test_llamacpp);
    RUN(test_ollama);
    RUN(test_busy);
    ms_http_client_free(http);
    fx_stop(srv);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

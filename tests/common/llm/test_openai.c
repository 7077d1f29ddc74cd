/* Tests for the OpenAI-compatible client against an in-process server: replies, streams, errors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/llm/engine.h"
#include "common/llm/openai.h"
#include "common/turn_reply.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define PLAIN                                                                                      \
    "{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"         \
    "{\"role\":\"assistant\",\"content\":\"Hello there\"},"                                        \
    "\"finish_reason\":\"stop\"}],"                                                                \
    "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}"

#define CHUNK(text) "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" text "\"}}]}\n\n"
#define FINISH                                                                                     \
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
#define USAGE "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}\n\n"
#define DONE "data: [DONE]\n\n"

static const char stream_ok[] =
    ": ping\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n" CHUNK(
        "Hel") CHUNK("lo, ") CHUNK("world") FINISH USAGE DONE;
static const char stream_crlf[] =
    "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"delta\":{\"content\":null},\"finish_reason\":\"length\"}]}\r\n\r\n"
    "data: [DONE]\r\n\r\n";
static const char stream_no_done[] = CHUNK("Hel") CHUNK("lo") FINISH USAGE;
static const char stream_no_finish[] = CHUNK("Hel") CHUNK("lo") USAGE DONE;
static const char stream_error[] =
    CHUNK("Hel") "data: {\"error\":{\"message\":\"engine overloaded\",\"code\":500}}\n\n";
static const char stream_after_done[] = CHUNK("a") FINISH DONE CHUNK("b");
static const char stream_bad_json[] = CHUNK("a") "data: {\"choices\":[\n\n" FINISH DONE;

static char big_reply[2000];

static const fx_route routes[] = {
    {.path = "/v1/chat/completions", .body = PLAIN},
    {.path = "/s/v1/chat/completions", .body = stream_ok, .content_type = "text/event-stream",
     .chunk = 7, .chunk_delay_ms = 1},
    {.path = "/crlf/v1/chat/completions", .body = stream_crlf, .chunk = 5},
    {.path = "/flaky/v1/chat/completions", .body = PLAIN, .fail_first = 2,
     .fail_body = "{\"error\":{\"message\":\"warming up\"}}"},
    {.path = "/down/v1/chat/completions", .status = 503,
     .body = "{\"object\":\"error\",\"message\":\"no capacity\",\"code\":503}"},
    {.path = "/bad/v1/chat/completions", .status = 400,
     .body = "{\"error\":{\"message\":\"bad \\u0001request\\n\",\"type\":\"invalid\"}}"},
    {.path = "/pydantic/v1/chat/completions", .status = 422,
     .body = "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"x\",\"input\":\"THE PRIVATE CONTEXT\"}]}"},
    {.path = "/busy/v1/chat/completions", .body = PLAIN, .fail_first = 1, .fail_status = 429,
     .retry_after = "1", .fail_body = "{}"},
    {.path = "/busylong/v1/chat/completions", .body = PLAIN, .fail_first = 1,
     .fail_status = 429, .retry_after = "5", .fail_body = "{}"},
    {.path = "/stall/v1/chat/completions", .body = PLAIN, .delay_ms = 3000},
    {.path = "/cut/v1/chat/completions", .body = CHUNK("Hel") CHUNK("lo"), .chunk = 40,
     .cut = true},
    {.path = "/nodone/v1/chat/completions", .body = stream_no_done, .chunk = 50},
    {.path = "/nofinish/v1/chat/completions", .body = stream_no_finish},
    {.path = "/streamerr/v1/chat/completions", .body = stream_error},
    {.path = "/afterdone/v1/chat/completions", .body = stream_after_done},
    {.path = "/badjson/v1/chat/completions", .body = stream_bad_json},
    {.path = "/big/v1/chat/completions", .body = big_reply},
    {.path = "/garbage/v1/chat/completions", .body = "<html>hello</html>"},
    {.path = "/nochoices/v1/chat/completions", .body = "{\"usage\":{}}"},
    {.path = "/emptychoices/v1/chat/completions", .body = "{\"choices\":[]}"},
    {.path = "/nullcontent/v1/chat/completions",
     .body = "{\"choices\":[{\"message\":{\"content\":null},\"finish_reason\":\"length\"}]}"},
    {.path = "/longfinish/v1/chat/completions",
     .body = "{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":"
             "\"0123456789012345678901234567890123456789\"}]}"},
    {.path = "/err200/v1/chat/completions", .body = "{\"error\":{\"message\":\"quota\"}}"},
    {.path = "/stream500/v1/chat/completions", .body = stream_ok, .chunk = 20, .fail_first = 1},
};

static fx_server *srv;
static ms_http_client *http;
static char base[128];

static const ms_chat_msg msgs[] = {
    {.role = "system", .content = "Be brief.", .content_len = 9},
    {.role = "user", .content = "Say hello", .content_len = 9},
};

static ms_openai_cfg cfg_for(const char *prefix)
{
    snprintf(base, sizeof base, "http://127.0.0.1:%u%s/v1", (unsigned)fx_port(srv), prefix);
    ms_openai_cfg c = {.base_url = base, .model = "primus-70b", .api_key = NULL,
                       .max_retries = 0, .backoff_base_ms = 10};
    return c;
}

static int content_is(const ms_chat_result *r, const char *want)
{
    size_t n = strlen(want);
    return r->content.len == n && (n == 0 || memcmp(r->content.p, want, n) == 0);
}

struct deltas {
    char text[4096];
    size_t len;
    int calls;
    int fail_at;
};

static ms_err on_delta(void *ctx, const char *text, size_t len)
{
    struct deltas *d = ctx;
    d->calls++;
    if (len == 0 || d->len + len >= sizeof d->text) {
        return MS_ERR_INTERNAL;
    }
    memcpy(d->text + d->len, text, len);
    d->len += len;
    d->text[d->len] = '\0';
    return d->fail_at == d->calls ? MS_ERR_STATE : MS_OK;
}

static void test_plain(void)
{
    ms_openai_cfg cfg = cfg_for("");
    cfg.api_key = "sk-test";
    ms_chat_opts o;
    ms_chat_opts_init(&o);
    o.max_tokens = 64;
    o.temperature = 0.25;
    ms_chat_result r;
    ms_chat_result_init(&r);
    CHECK_OK(ms_openai_chat(http, &cfg, msgs, 2, &o, &r));
    CHECK(content_is(&r, "Hello there"));
    CHECK(strcmp(r.finish_reason, "stop") == 0 && !r.truncated);
    CHECK(r.prompt_tokens == 12 && r.completion_tokens == 3);
    CHECK(r.http_status == 200 && r.attempts == 1 && r.seconds > 0 && r.error_text[0] == 0);
    /* what the engine received */
    char body[2048], auth[64];
    fx_last_body(srv, "/v1/chat/completions", body, sizeof body);
    fx_last_auth(srv, "/v1/chat/completions", auth, sizeof auth);
    CHECK(strcmp(auth, "Bearer sk-test") == 0);
    CHECK(strcmp(body, "{\"model\":\"primus-70b\",\"messages\":[{\"role\":\"system\",\"content\":"
                       "\"Be brief.\"},{\"role\":\"user\",\"content\":\"Say hello\"}],"
                       "\"stream\":false,\"max_tokens\":64,\"temperature\":0.25}") == 0);
    /* unset options are left out; a trailing '/' in base_url is fine */
    cfg.api_key = NULL;
    snprintf(base, sizeof base, "http://127.0.0.1:%u/v1/", (unsigned)fx_port(srv));
    CHECK_OK(ms_openai_chat(http, &cfg, msgs + 1, 1, NULL, &r));
    fx_last_body(srv, "/v1/chat/completions", body, sizeof body);
    fx_last_auth(srv, "/v1/chat/completions", auth, sizeof auth);
    CHECK(auth[0] == '\0');
    CHECK(strcmp(body, "{\"model\":\"primus-70b\",\"messages\":[{\"role\":\"user\",\"content\":"
                       "\"Say hello\"}],\"stream\":false}") == 0);
    ms_chat_result_free(&r);
}

static void test_json_format(void)
{
    ms_openai_cfg cfg = cfg_for("");
    ms_chat_opts o;
    ms_chat_result r;
    char body[2048];
    ms_chat_opts_init(&o);
    ms_chat_result_init(&r);
    o.json_format = "json";
    CHECK_OK(ms_openai_chat(http, &cfg, msgs + 1, 1, &o, &r));
    fx_last_body(srv, "/v1/chat/completions", body, sizeof body);
    CHECK(strstr(body, ",\"response_format\":{\"type\":\"json_object\"}}") != NULL);
    o.json_format = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
                    "\"required\":[\"a\"]}";
    CHECK_OK(ms_openai_chat(http, &cfg, msgs + 1, 1, &o, &r));
    fx_last_body(srv, "/v1/chat/completions", body, sizeof body);
    CHECK(strstr(body, "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":"
                       "\"reply\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{"
                       "\"type\":\"integer\"}},\"required\":[\"a\"]}}}") != NULL);
    unsigned hits = fx_hits(srv, "/v1/chat/completions");
    o.json_format = "[1,2]";
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs + 1, 1, &o, &r), MS_ERR_ARG);
    o.json_format = "{\"a\":";
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs + 1, 1, &o, &r), MS_ERR_ARG);
    CHECK(fx_hits(srv, "/v1/chat/completions") == hits);
    ms_chat_result_free(&r);
}

static void test_stream(void)
{
    ms_openai_cfg cfg = cfg_for("/s");
    ms_chat_result r;
    struct deltas d = {0};
    char body[2048];
    ms_chat_result_init(&r);
    CHECK_OK(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r));
    CHECK(content_is(&r, "Hello, world") && strcmp(d.text, "Hello, world") == 0);
    CHECK(d.calls == 3);
    CHECK(strcmp(r.finish_reason, "stop") == 0 && !r.truncated);
    CHECK(r.prompt_tokens == 9 && r.completion_tokens == 4 && r.attempts == 1);
    fx_last_body(srv, "/s/v1/chat/completions", body, sizeof body);
    CHECK(strstr(body, "\"stream\":true,\"stream_options\":{\"include_usage\":true}") != NULL);
    /* CRLF line ends, a null content piece, no usage */
    memset(&d, 0, sizeof d);
    cfg = cfg_for("/crlf");
    CHECK_OK(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r));
    CHECK(content_is(&r, "a") && d.calls == 1 && strcmp(r.finish_reason, "length") == 0);
    CHECK(r.truncated); /* cut at the token limit: a fragment, said so in the result */
    CHECK(r.prompt_tokens == 0 && r.completion_tokens == 0);
    CHECK_ERR(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, NULL, NULL, &r), MS_ERR_ARG);
    ms_chat_result_free(&r);
}

/* Streams that end early or break the format fail, even after text was delivered. */
static void test_stream_cut(void)
{
    static const struct {
        const char *prefix;
        const char *seen;
        ms_err want;
    } cases[] = {
        {"/cut", "Hello", MS_ERR_BACKEND_FORMAT},
        {"/nodone", "Hello", MS_ERR_BACKEND_FORMAT},
        {"/nofinish", "Hello", MS_ERR_BACKEND_FORMAT},
        {"/afterdone", "a", MS_ERR_BACKEND_FORMAT},
        {"/badjson", "a", MS_ERR_BACKEND_FORMAT},
        {"/streamerr", "Hel", MS_ERR_BACKEND_STATUS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_openai_cfg cfg = cfg_for(cases[i].prefix);
        ms_chat_result r;
        struct deltas d = {0};
        char path[64];
        cfg.max_retries = 3; /* never used: text was delivered */
        ms_chat_result_init(&r);
        CHECK_ERR(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r),
                  cases[i].want);
        CHECK(strcmp(d.text, cases[i].seen) == 0);
        CHECK(r.attempts == 1 && r.content.len == 0);
        snprintf(path, sizeof path, "%s/v1/chat/completions", cases[i].prefix);
        CHECK(fx_hits(srv, path) == 1);
        ms_chat_result_free(&r);
    }
    ms_openai_cfg cfg = cfg_for("/streamerr");
    ms_chat_result r;
    struct deltas d = {0};
    ms_chat_result_init(&r);
    CHECK_ERR(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r),
              MS_ERR_BACKEND_STATUS);
    CHECK(strcmp(r.error_text, "engine overloaded") == 0 && r.http_status == 200);
    ms_chat_result_free(&r);
}

static void test_stream_delta_error(void)
{
    ms_openai_cfg cfg = cfg_for("/s");
    ms_chat_result r;
    struct deltas d = {.fail_at = 2};
    cfg.max_retries = 2;
    ms_chat_result_init(&r);
    CHECK_ERR(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r), MS_ERR_STATE);
    CHECK(d.calls == 2 && r.attempts == 1);
    ms_chat_result_free(&r);
}

static void test_retries(void)
{
    ms_openai_cfg cfg = cfg_for("/flaky");
    ms_chat_result r;
    ms_chat_result_init(&r);
    cfg.max_retries = 3;
    CHECK_OK(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r));
    CHECK(r.attempts == 3 && fx_hits(srv, "/flaky/v1/chat/completions") == 3);
    CHECK(content_is(&r, "Hello there") && r.http_status == 200 && r.error_text[0] == 0);
    /* always 503: gives up after 1 + max_retries with the status and the engine's message */
    cfg = cfg_for("/down");
    cfg.max_retries = 2;
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 3 && fx_hits(srv, "/down/v1/chat/completions") == 3);
    CHECK(r.http_status == 503 && strcmp(r.error_text, "no capacity") == 0);
    CHECK(r.content.len == 0);
    /* 4xx other than 429 is not retried; the message is sanitised */
    cfg = cfg_for("/bad");
    cfg.max_retries = 2;
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 1 && r.http_status == 400 && strcmp(r.error_text, "bad ?request?") == 0);
    /* an error body without a message field: no text, never the raw body */
    cfg = cfg_for("/pydantic");
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.http_status == 422 && r.error_text[0] == '\0');
    /* a streamed call is retried when the failure came before any text */
    cfg = cfg_for("/stream500");
    cfg.max_retries = 1;
    struct deltas d = {0};
    CHECK_OK(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r));
    CHECK(r.attempts == 2 && strcmp(d.text, "Hello, world") == 0);
    ms_chat_result_free(&r);
}

static void test_retry_after(void)
{
    ms_openai_cfg cfg = cfg_for("/busy");
    ms_chat_result r;
    ms_chat_result_init(&r);
    cfg.max_retries = 2;
    double t0 = now_s();
    CHECK_OK(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r));
    double dt = now_s() - t0;
    CHECK(r.attempts == 2 && dt >= 0.95 && dt < 5.0);
    CHECK(r.seconds >= 0.95);
    /* a Retry-After over the cap ends the retries at once */
    cfg = cfg_for("/busylong");
    cfg.max_retries = 2;
    cfg.max_retry_wait_ms = 500;
    t0 = now_s();
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 1 && r.http_status == 429 && now_s() - t0 < 0.5);
    ms_chat_result_free(&r);
}

static void test_unavailable_and_timeout(void)
{
    ms_chat_result r;
    ms_chat_result_init(&r);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/v1", (unsigned)fx_closed_port());
    ms_openai_cfg cfg = {.base_url = u, .model = "m", .max_retries = 2, .backoff_base_ms = 5};
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_UNAVAILABLE);
    CHECK(r.attempts == 3 && r.http_status == 0);
    struct deltas d = {0};
    CHECK_ERR(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r),
              MS_ERR_BACKEND_UNAVAILABLE);
    CHECK(r.attempts == 3 && d.calls == 0);
    /* a stalled engine: timeout, never retried */
    ms_http_opts o = {.connect_timeout_ms = 1000, .total_timeout_ms = 300};
    ms_http_client *quick = NULL;
    CHECK_OK(ms_http_client_new(&o, &quick));
    cfg = cfg_for("/stall");
    cfg.max_retries = 2;
    double t0 = now_s();
    CHECK_ERR(ms_openai_chat(quick, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_TIMEOUT);
    CHECK(r.attempts == 1 && now_s() - t0 < 2.0);
    CHECK_ERR(ms_openai_chat_stream(quick, &cfg, msgs, 2, NULL, on_delta, &d, &r),
              MS_ERR_BACKEND_TIMEOUT);
    ms_http_client_free(quick);
    ms_chat_result_free(&r);
}

static void test_insecure_url(void)
{
    ms_chat_result r;
    ms_chat_result_init(&r);
    ms_openai_cfg cfg = {.base_url = "http://192.0.2.1:8000/v1", .model = "m", .max_retries = 3};
    double t0 = now_s();
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_HTTP_INSECURE);
    struct deltas d = {0};
    CHECK_ERR(ms_openai_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r),
              MS_ERR_HTTP_INSECURE);
    CHECK(now_s() - t0 < 1.0 && r.attempts == 1 && r.http_status == 0);
    cfg.base_url = "ftp://127.0.0.1/v1";
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_HTTP_URL);
    cfg.base_url = NULL;
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_ARG);
    ms_chat_result_free(&r);
}

static void test_format_errors(void)
{
    static const char *const bad[] = {"/garbage", "/nochoices", "/emptychoices", "/longfinish"};
    ms_chat_result r;
    ms_chat_result_init(&r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms_openai_cfg cfg = cfg_for(bad[i]);
        cfg.max_retries = 2;
        CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_FORMAT);
        CHECK(r.attempts == 1 && r.content.len == 0);
    }
    ms_openai_cfg cfg = cfg_for("/nullcontent");
    CHECK_OK(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r));
    CHECK(r.content.len == 0 && strcmp(r.finish_reason, "length") == 0 && r.truncated);
    cfg = cfg_for("/err200");
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(strcmp(r.error_text, "quota") == 0);
    /* over the client's response cap */
    ms_http_opts o = {.max_response = 1000};
    ms_http_client *small = NULL;
    CHECK_OK(ms_http_client_new(&o, &small));
    cfg = cfg_for("/big");
    CHECK_ERR(ms_openai_chat(small, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_FORMAT);
    cfg = cfg_for("");
    CHECK_OK(ms_openai_chat(small, &cfg, msgs, 2, NULL, &r));
    ms_http_client_free(small);
    ms_chat_result_free(&r);
}

static void test_args(void)
{
    ms_openai_cfg cfg = cfg_for("");
    ms_chat_result r;
    ms_chat_opts o;
    ms_chat_result_init(&r);
    unsigned hits = fx_hits(srv, "/v1/chat/completions");
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 0, NULL, &r), MS_ERR_ARG);
    CHECK_ERR(ms_openai_chat(http, &cfg, NULL, 1, NULL, &r), MS_ERR_ARG);
    CHECK_ERR(ms_openai_chat(NULL, &cfg, msgs, 1, NULL, &r), MS_ERR_ARG);
    CHECK_ERR(ms_openai_chat(http, NULL, msgs, 1, NULL, &r), MS_ERR_ARG);
    ms_chat_msg m = {.role = "user", .content = "bad \xff utf8", .content_len = 10};
    CHECK_ERR(ms_openai_chat(http, &cfg, &m, 1, NULL, &r), MS_ERR_ARG);
    m = (ms_chat_msg){.role = "user", .content = "nul\0inside", .content_len = 10};
    CHECK_ERR(ms_openai_chat(http, &cfg, &m, 1, NULL, &r), MS_ERR_ARG);
    m = (ms_chat_msg){.role = NULL, .content = "x", .content_len = 1};
    CHECK_ERR(ms_openai_chat(http, &cfg, &m, 1, NULL, &r), MS_ERR_ARG);
    m = (ms_chat_msg){.role = "user", .content = NULL, .content_len = 1};
    CHECK_ERR(ms_openai_chat(http, &cfg, &m, 1, NULL, &r), MS_ERR_ARG);
    ms_chat_opts_init(&o);
    o.max_tokens = -1;
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 1, &o, &r), MS_ERR_ARG);
    cfg.model = "";
    CHECK_ERR(ms_openai_chat(http, &cfg, msgs, 1, NULL, &r), MS_ERR_ARG);
    CHECK(fx_hits(srv, "/v1/chat/completions") == hits);
    /* an empty message is allowed */
    cfg.model = "m";
    m = (ms_chat_msg){.role = "user", .content = NULL, .content_len = 0};
    CHECK_OK(ms_openai_chat(http, &cfg, &m, 1, NULL, &r));
    ms_chat_result_free(&r);
}

/* The one test of "cut at the token limit": exactly "length", nothing near it. */
static void test_finish_cut(void)
{
    CHECK(ms_finish_reason_cut("length", 6));
    CHECK(ms_finish_reason_cut("lengthy", 6)); /* len bytes only */
    CHECK(!ms_finish_reason_cut("lengthy", 7));
    CHECK(!ms_finish_reason_cut("stop", 4));
    CHECK(!ms_finish_reason_cut("Length", 6));
    CHECK(!ms_finish_reason_cut("", 0));
    CHECK(!ms_finish_reason_cut(NULL, 6));
    CHECK(!ms_finish_reason_cut("content_filter", 14));
}

/* A reply whose content (300 bytes, escapes in it) the keeping parse keeps escaped. */
static void long_reply(ms_buf *body, const char *content)
{
    ms_buf_init(body, MS_MAX_LLM_RESPONSE);
    CHECK_OK(ms_buf_append_str(body, "{\"id\":\"c1\",\"choices\":[{\"message\":{\"role\":"
                                     "\"assistant\",\"content\":\""));
    CHECK_OK(ms_buf_append_str(body, content));
    CHECK_OK(ms_buf_append_str(body, "\"},\"finish_reason\":\"stop\"}],\"usage\":"
                                     "{\"prompt_tokens\":7,\"completion_tokens\":9}}"));
}

/* ms_openai_take_body: the body's buffer becomes the content's only when the content was kept
   and the result has no buffer of its own; every field as ms_openai_parse_body gives it. */
static void test_take_body(void)
{
    char content[301];
    for (size_t i = 0; i < 300; i++) {
        content[i] = "ab\\n c"[i % 6];
    }
    content[300] = '\0';
    ms_buf body, copy;
    ms_chat_result a, b;
    long_reply(&body, content);
    long_reply(&copy, content);
    ms_chat_result_init(&a);
    ms_chat_result_init(&b);
    a.keep_escaped = b.keep_escaped = true;
    CHECK_OK(ms_openai_parse_body(&copy, &a));
    const uint8_t *was = body.p;
    CHECK_OK(ms_openai_take_body(&body, &b));
    CHECK(body.p == NULL && body.len == 0 && b.content.p == was); /* taken, not copied */
    CHECK(a.content_escaped && b.content_escaped && a.content.len == 300 && b.content.len == 300);
    CHECK(memcmp(a.content.p, content, 300) == 0 && memcmp(b.content.p, content, 300) == 0);
    CHECK(strcmp(b.finish_reason, "stop") == 0 && b.prompt_tokens == 7 && b.completion_tokens == 9);
    ms_buf_free(&body);
    /* a result that holds a buffer already: a copy, the body left as it was */
    long_reply(&body, content);
    ms_llm_clear_parsed(&b);
    CHECK_OK(ms_openai_take_body(&body, &b));
    CHECK(body.p != NULL && body.len == copy.len && memcmp(body.p, copy.p, copy.len) == 0);
    CHECK(b.content.len == 300 && memcmp(b.content.p, content, 300) == 0);
    ms_buf_free(&body);
    ms_chat_result_free(&b);
    /* a short content is text, and keep_escaped off never takes */
    ms_chat_result_init(&b);
    b.keep_escaped = true;
    long_reply(&body, "Hello there");
    CHECK_OK(ms_openai_take_body(&body, &b));
    CHECK(body.p != NULL && !b.content_escaped && b.content.len == 11);
    ms_buf_free(&body);
    ms_chat_result_free(&b);
    ms_chat_result_init(&b);
    long_reply(&body, content);
    CHECK_OK(ms_openai_take_body(&body, &b));
    CHECK(body.p != NULL && !b.content_escaped && b.content.len == 250); /* decoded: \\n is one byte */
    ms_buf_free(&body);
    ms_chat_result_free(&b);
    ms_chat_result_free(&a);
    ms_buf_free(&copy);
}

int main(void)
{
    snprintf(big_reply, sizeof big_reply,
             "{\"choices\":[{\"message\":{\"content\":\"%01200d\"},\"finish_reason\":\"stop\"}]}",
             0);
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    srv = fx_start(routes, sizeof routes / sizeof routes[0]);
    ms_http_opts o = {.connect_timeout_ms = 2000, .total_timeout_ms = 10000,
                      .max_response = MS_MAX_LLM_STREAM};
    if (srv == NULL || ms_http_client_new(&o, &http) != MS_OK) {
        return 1;
    }
    RUN(test_take_body);
    RUN(test_finish_cut);
    RUN(test_plain);
    RUN(test_json_format);
    RUN(test_stream);
    RUN(test_stream_cut);
    RUN(test_stream_delta_error);
    RUN(test_retries);
    RUN(test_retry_after);
    RUN(test_unavailable_and_timeout);
    RUN(test_insecure_url);
    RUN(test_format_errors);
    RUN(test_args);
    ms_http_client_free(http);
    fx_stop(srv);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

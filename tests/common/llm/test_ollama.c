/* Tests for the Ollama client against an in-process server: replies, NDJSON streams, errors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/llm/ollama.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define PLAIN                                                                                      \
    "{\"model\":\"llama3.2:3b\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":"             \
    "{\"role\":\"assistant\",\"content\":\"Hello there\"},\"done\":true,\"done_reason\":\"stop\"," \
    "\"total_duration\":123,\"prompt_eval_count\":26,\"eval_count\":5}"

#define LINE(text)                                                                                 \
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"" text "\"},"              \
    "\"done\":false}\n"
#define LAST                                                                                       \
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"        \
    "\"done_reason\":\"length\",\"prompt_eval_count\":7,\"eval_count\":3}\n"

static const char stream_ok[] = LINE("Hel") LINE("lo, ") LINE("world") LAST;
static const char stream_crlf[] =
    "{\"message\":{\"content\":\"a\"},\"done\":false}\r\n\r\n"
    "{\"message\":{\"content\":\"b\"},\"done\":true}";
static const char stream_no_done[] = LINE("Hel") LINE("lo");
static const char stream_after_done[] = LINE("a") LAST LINE("b");
static const char stream_error[] = LINE("Hel") "{\"error\":\"model crashed\"}\n";
static const char stream_bad[] = LINE("a") "{\"message\":\n" LAST;

static const fx_route routes[] = {
    {.path = "/api/chat", .body = PLAIN},
    {.path = "/s/api/chat", .body = stream_ok, .content_type = "application/x-ndjson",
     .chunk = 9, .chunk_delay_ms = 1},
    {.path = "/crlf/api/chat", .body = stream_crlf, .chunk = 4},
    {.path = "/flaky/api/chat", .body = PLAIN, .fail_first = 2,
     .fail_body = "{\"error\":\"loading model\"}"},
    {.path = "/missing/api/chat", .status = 404,
     .body = "{\"error\":\"model \\\"x\\\" not found, try pulling it first\"}"},
    {.path = "/busy/api/chat", .body = PLAIN, .fail_first = 1, .fail_status = 503,
     .retry_after = "1", .fail_body = "{\"error\":\"busy\"}"},
    {.path = "/stall/api/chat", .body = PLAIN, .delay_ms = 3000},
    {.path = "/cut/api/chat", .body = LINE("Hel") LINE("lo"), .chunk = 30, .cut = true},
    {.path = "/nodone/api/chat", .body = stream_no_done},
    {.path = "/afterdone/api/chat", .body = stream_after_done},
    {.path = "/streamerr/api/chat", .body = stream_error},
    {.path = "/bad/api/chat", .body = stream_bad},
    {.path = "/notdone/api/chat", .body = "{\"message\":{\"content\":\"x\"},\"done\":false}"},
    {.path = "/nomessage/api/chat", .body = "{\"done\":true}"},
    {.path = "/garbage/api/chat", .body = "not json"},
    {.path = "/minimal/api/chat", .body = "{\"message\":{\"content\":\"x\"},\"done\":true}"},
};

static fx_server *srv;
static ms_http_client *http;
static char base[128];

static const ms_chat_msg msgs[] = {
    {.role = "system", .content = "Be brief.", .content_len = 9},
    {.role = "user", .content = "Say hello", .content_len = 9},
};

static ms_ollama_cfg cfg_for(const char *prefix)
{
    snprintf(base, sizeof base, "http://127.0.0.1:%u%s", (unsigned)fx_port(srv), prefix);
    ms_ollama_cfg c = {.base_url = base, .model = "llama3.2:3b", .backoff_base_ms = 10};
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
    ms_ollama_cfg cfg = cfg_for("");
    ms_chat_opts o;
    ms_chat_result r;
    char body[2048];
    ms_chat_opts_init(&o);
    ms_chat_result_init(&r);
    cfg.num_ctx = 8192;
    o.max_tokens = 100;
    o.temperature = 0;
    CHECK_OK(ms_ollama_chat(http, &cfg, msgs, 2, &o, &r));
    CHECK(content_is(&r, "Hello there") && strcmp(r.finish_reason, "stop") == 0 && !r.truncated);
    CHECK(r.prompt_tokens == 26 && r.completion_tokens == 5 && r.attempts == 1);
    fx_last_body(srv, "/api/chat", body, sizeof body);
    CHECK(strcmp(body, "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"system\",\"content\":"
                       "\"Be brief.\"},{\"role\":\"user\",\"content\":\"Say hello\"}],"
                       "\"stream\":false,\"options\":{\"num_ctx\":8192,\"num_predict\":100,"
                       "\"temperature\":0}}") == 0);
    /* "stream": false is sent even with no options at all */
    cfg.num_ctx = 0;
    CHECK_OK(ms_ollama_chat(http, &cfg, msgs + 1, 1, NULL, &r));
    fx_last_body(srv, "/api/chat", body, sizeof body);
    CHECK(strcmp(body, "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":"
                       "\"Say hello\"}],\"stream\":false,\"options\":{}}") == 0);
    /* format */
    o.max_tokens = 0;
    o.temperature = -1;
    o.json_format = "json";
    CHECK_OK(ms_ollama_chat(http, &cfg, msgs + 1, 1, &o, &r));
    fx_last_body(srv, "/api/chat", body, sizeof body);
    CHECK(strstr(body, "\"options\":{},\"format\":\"json\"}") != NULL);
    o.json_format = "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}}}";
    CHECK_OK(ms_ollama_chat(http, &cfg, msgs + 1, 1, &o, &r));
    fx_last_body(srv, "/api/chat", body, sizeof body);
    CHECK(strstr(body, "\"format\":{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":"
                       "\"boolean\"}}}}") != NULL);
    /* done_reason and counts are optional */
    cfg = cfg_for("/minimal");
    CHECK_OK(ms_ollama_chat(http, &cfg, msgs, 2, NULL, &r));
    CHECK(content_is(&r, "x") && r.finish_reason[0] == '\0' && r.prompt_tokens == 0);
    ms_chat_result_free(&r);
}

static void test_stream(void)
{
    ms_ollama_cfg cfg = cfg_for("/s");
    ms_chat_result r;
    struct deltas d = {0};
    char body[2048];
    ms_chat_result_init(&r);
    cfg.api_key = "proxy-key";
    CHECK_OK(ms_ollama_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r));
    CHECK(content_is(&r, "Hello, world") && strcmp(d.text, "Hello, world") == 0 && d.calls == 3);
    CHECK(strcmp(r.finish_reason, "length") == 0 && r.truncated); /* done_reason "length" */
    CHECK(r.prompt_tokens == 7 && r.completion_tokens == 3);
    fx_last_body(srv, "/s/api/chat", body, sizeof body);
    CHECK(strstr(body, "\"stream\":true") != NULL);
    fx_last_auth(srv, "/s/api/chat", body, sizeof body);
    CHECK(strcmp(body, "Bearer proxy-key") == 0);
    /* CRLF, a blank line, a last line without '\n' */
    memset(&d, 0, sizeof d);
    cfg = cfg_for("/crlf");
    CHECK_OK(ms_ollama_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r));
    CHECK(content_is(&r, "ab") && d.calls == 2);
    ms_chat_result_free(&r);
}

static void test_stream_cut(void)
{
    static const struct {
        const char *prefix;
        const char *seen;
        ms_err want;
    } cases[] = {
        {"/cut", "Hello", MS_ERR_BACKEND_FORMAT},
        {"/nodone", "Hello", MS_ERR_BACKEND_FORMAT},
        {"/afterdone", "a", MS_ERR_BACKEND_FORMAT},
        {"/bad", "a", MS_ERR_BACKEND_FORMAT},
        {"/streamerr", "Hel", MS_ERR_BACKEND_STATUS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_ollama_cfg cfg = cfg_for(cases[i].prefix);
        ms_chat_result r;
        struct deltas d = {0};
        char path[64];
        cfg.max_retries = 3;
        ms_chat_result_init(&r);
        CHECK_ERR(ms_ollama_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r),
                  cases[i].want);
        CHECK(strcmp(d.text, cases[i].seen) == 0);
        CHECK(r.attempts == 1 && r.content.len == 0);
        snprintf(path, sizeof path, "%s/api/chat", cases[i].prefix);
        CHECK(fx_hits(srv, path) == 1);
        if (cases[i].want == MS_ERR_BACKEND_STATUS) {
            CHECK(strcmp(r.error_text, "model crashed") == 0);
        }
        ms_chat_result_free(&r);
    }
    /* on_delta's own error ends the call */
    ms_ollama_cfg cfg = cfg_for("/s");
    ms_chat_result r;
    struct deltas d = {.fail_at = 1};
    ms_chat_result_init(&r);
    cfg.max_retries = 2;
    CHECK_ERR(ms_ollama_chat_stream(http, &cfg, msgs, 2, NULL, on_delta, &d, &r), MS_ERR_STATE);
    CHECK(d.calls == 1 && r.attempts == 1);
    ms_chat_result_free(&r);
}

static void test_errors(void)
{
    ms_chat_result r;
    ms_chat_result_init(&r);
    ms_ollama_cfg cfg = cfg_for("/flaky");
    cfg.max_retries = 2;
    CHECK_OK(ms_ollama_chat(http, &cfg, msgs, 2, NULL, &r));
    CHECK(r.attempts == 3 && fx_hits(srv, "/flaky/api/chat") == 3);
    cfg = cfg_for("/missing");
    cfg.max_retries = 2;
    CHECK_ERR(ms_ollama_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 1 && r.http_status == 404);
    CHECK(strcmp(r.error_text, "model \"x\" not found, try pulling it first") == 0);
    cfg = cfg_for("/busy");
    cfg.max_retries = 1;
    double t0 = now_s();
    CHECK_OK(ms_ollama_chat(http, &cfg, msgs, 2, NULL, &r));
    CHECK(r.attempts == 2 && now_s() - t0 >= 0.95);
    static const char *const bad[] = {"/notdone", "/nomessage", "/garbage"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg = cfg_for(bad[i]);
        CHECK_ERR(ms_ollama_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_FORMAT);
        CHECK(r.content.len == 0);
    }
    /* connection refused, stalled engine, plain http to a remote host */
    char u[64];
    snprintf(u, sizeof u, "http://localhost:%u", (unsigned)fx_closed_port());
    cfg = (ms_ollama_cfg){.base_url = u, .model = "m", .max_retries = 1, .backoff_base_ms = 5};
    CHECK_ERR(ms_ollama_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_BACKEND_UNAVAILABLE);
    CHECK(r.attempts == 2);
    ms_http_opts o = {.total_timeout_ms = 300};
    ms_http_client *quick = NULL;
    CHECK_OK(ms_http_client_new(&o, &quick));
    cfg = cfg_for("/stall");
    cfg.max_retries = 2;
    struct deltas d = {0};
    t0 = now_s();
    CHECK_ERR(ms_ollama_chat_stream(quick, &cfg, msgs, 2, NULL, on_delta, &d, &r),
              MS_ERR_BACKEND_TIMEOUT);
    CHECK(r.attempts == 1 && now_s() - t0 < 2.0);
    ms_http_client_free(quick);
    cfg = (ms_ollama_cfg){.base_url = "http://192.0.2.1:11434", .model = "m", .max_retries = 2};
    t0 = now_s();
    CHECK_ERR(ms_ollama_chat(http, &cfg, msgs, 2, NULL, &r), MS_ERR_HTTP_INSECURE);
    CHECK(now_s() - t0 < 1.0 && r.attempts == 1);
    ms_chat_result_free(&r);
}

int main(void)
{
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    srv = fx_start(routes, sizeof routes / sizeof routes[0]);
    ms_http_opts o = {.connect_timeout_ms = 2000, .total_timeout_ms = 10000,
                      .max_response = MS_MAX_LLM_STREAM};
    if (srv == NULL || ms_http_client_new(&o, &http) != MS_OK) {
        return 1;
    }
    RUN(test_plain);
    RUN(test_stream);
    RUN(test_stream_cut);
    RUN(test_errors);
    ms_http_client_free(http);
    fx_stop(srv);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

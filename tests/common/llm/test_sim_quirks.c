/*
 * Engine quirks both ways: llm-sim sends them (script rules' "quirks", "finish_reason",
 * "retry_after": tools/llm-sim/README.md) and the engine clients read them: CRLF, keep-alive
 * comments, "data:" without a space, llama.cpp timings, reasoning_content / Ollama thinking,
 * a null content piece, a reply cut at the token limit, an error after a 200 stream began
 * (an error document, or llama.cpp's "error:" line), 429 / 503 with Retry-After.
 *
 * Usage: test_sim_quirks LLM-SIM
 */
#include <stdio.h>
#include <string.h>

#include "common/llm/ollama.h"
#include "common/llm/openai.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define SIM_ERROR "llm-sim: simulated failure mid-stream" /* LLMSIM_STREAM_ERROR */

static const char SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"q-all\", \"reply\": \"alpha beta gamma\", \"finish_reason\": \"length\",\n"
    "  \"quirks\": [\"crlf\", \"comments\", \"no_space\", \"timings\", \"reasoning\",\n"
    "              \"null_content\"]},\n"
    " {\"contains\": \"q-error-object\", \"reply\": \"alpha beta\", \"quirks\": [\"error_object\"]},\n"
    " {\"contains\": \"q-error-line\", \"reply\": \"alpha beta\", \"quirks\": [\"error_line\"]},\n"
    " {\"contains\": \"q-busy-long\", \"status\": 503, \"retry_after\": 120, \"reply\": \"overloaded\"},\n"
    " {\"contains\": \"q-busy\", \"status\": 429, \"retry_after\": 1, \"reply\": \"slow down\"}\n"
    "], \"default\": \"plain\"}\n";

static e2e_world W;
static e2e_server S;
static ms_http_client *http;
static char base[96];

struct text {
    char s[256];
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
    return MS_OK;
}

static ms_chat_msg msg(const char *text)
{
    return (ms_chat_msg){.role = "user", .content = text, .content_len = strlen(text)};
}

static ms_openai_cfg oa(void)
{
    snprintf(base, sizeof base, "http://127.0.0.1:%u/v1", S.port);
    return (ms_openai_cfg){.base_url = base, .model = "m", .backoff_base_ms = 10};
}

static ms_ollama_cfg ol(void)
{
    snprintf(base, sizeof base, "http://127.0.0.1:%u", S.port);
    return (ms_ollama_cfg){.base_url = base, .model = "m", .backoff_base_ms = 10};
}

static int is(const ms_chat_result *r, const char *want)
{
    return r->content.len == strlen(want) && memcmp(r->content.p, want, r->content.len) == 0;
}

/* Every framing quirk at once, cut at the limit: the text only, truncated, in both formats. */
static void test_quirks_read(void)
{
    ms_chat_result r;
    struct text t = {{0}};
    ms_chat_msg m = msg("q-all");
    ms_openai_cfg c = oa();
    ms_chat_result_init(&r);
    CHECK_OK(ms_openai_chat_stream(http, &c, &m, 1, NULL, on_delta, &t, &r));
    CHECK(is(&r, "alpha beta gamma") && strcmp(t.s, "alpha beta gamma") == 0);
    CHECK(r.truncated && r.completion_tokens == 3 && r.prompt_tokens == 3); /* q - all */
    CHECK_OK(ms_openai_chat(http, &c, &m, 1, NULL, &r));
    CHECK(is(&r, "alpha beta gamma") && r.truncated);
    ms_ollama_cfg o = ol();
    memset(&t, 0, sizeof t);
    CHECK_OK(ms_ollama_chat_stream(http, &o, &m, 1, NULL, on_delta, &t, &r));
    CHECK(is(&r, "alpha beta gamma") && strcmp(t.s, "alpha beta gamma") == 0 && r.truncated);
    CHECK_OK(ms_ollama_chat(http, &o, &m, 1, NULL, &r));
    CHECK(is(&r, "alpha beta gamma") && r.truncated);
    m = msg("hello"); /* no quirk, no limit: whole */
    CHECK_OK(ms_ollama_chat(http, &o, &m, 1, NULL, &r));
    CHECK(is(&r, "plain") && !r.truncated);
    ms_chat_result_free(&r);
}

/* An error after the 200 stream began: an error with the engine's message, never an answer. */
static void test_errors_mid_stream(void)
{
    ms_chat_result r;
    struct text t = {{0}};
    ms_chat_result_init(&r);
    static const char *const kinds[] = {"q-error-object", "q-error-line"};
    for (size_t k = 0; k < 2; k++) {
        ms_chat_msg m = msg(kinds[k]);
        ms_openai_cfg c = oa();
        c.max_retries = 2;
        memset(&t, 0, sizeof t);
        CHECK_ERR(ms_openai_chat_stream(http, &c, &m, 1, NULL, on_delta, &t, &r),
                  MS_ERR_BACKEND_STATUS);
        CHECK(strcmp(r.error_text, SIM_ERROR) == 0 && r.content.len == 0);
        CHECK(strcmp(t.s, "alpha beta") == 0 && r.attempts == 1);
    }
    ms_chat_msg m = msg("q-error-object");
    ms_ollama_cfg o = ol();
    CHECK_ERR(ms_ollama_chat_stream(http, &o, &m, 1, NULL, on_delta, &t, &r),
              MS_ERR_BACKEND_STATUS);
    CHECK(strcmp(r.error_text, SIM_ERROR) == 0 && r.content.len == 0);
    ms_chat_result_free(&r);
}

/* 429 / 503 with Retry-After: retried within the budget, then a clear error. */
static void test_busy(void)
{
    ms_chat_result r;
    ms_chat_result_init(&r);
    ms_chat_msg m = msg("q-busy");
    ms_openai_cfg c = oa();
    c.max_retries = 1;
    CHECK_ERR(ms_openai_chat(http, &c, &m, 1, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 2 && r.http_status == 429 && r.retry_after_s == 1);
    CHECK(strcmp(r.error_text, "slow down") == 0);
    m = msg("q-busy-long");
    ms_ollama_cfg o = ol();
    o.max_retries = 3;
    o.max_retry_wait_ms = 2000;
    CHECK_ERR(ms_ollama_chat(http, &o, &m, 1, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.attempts == 1 && r.http_status == 503 && r.retry_after_s == 120);
    CHECK(strcmp(r.error_text, "overloaded") == 0);
    ms_chat_result_free(&r);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_sim_quirks", E2E_SIM, argc, argv);
    if (rc != 0 || e2e_world_script(&W, SCRIPT) != 0 ||
        e2e_world_sim(&W, &S, &(e2e_sim_cfg){.record = 1}) != 0) {
        fprintf(stderr, "test_sim_quirks: set-up failed\n");
        return e2e_world_close(&W, rc ? rc : 1);
    }
    ms_http_opts ho = {.connect_timeout_ms = 2000, .total_timeout_ms = 10000};
    if (ms_http_client_new(&ho, &http) != MS_OK) {
        return e2e_world_close(&W, 1);
    }
    RUN(test_quirks_read);
    RUN(test_errors_mid_stream);
    RUN(test_busy);
    ms_http_client_free(http);
    CHECK(e2e_server_stop(&S, E2E_STOP_GRACE_MS) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

/*
 * The supervisor's bridge against replies as real engines document them
 * (tests/common/llm/engine_examples.h names the sources), plain and streamed: a reply cut
 * at the token limit is relayed with finish_reason "length" (the client shows it as
 * INCOMPLETE), never relabelled "stop"; reasoning text is not relayed as content; an error
 * after the stream began and a busy engine are sealed errors saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/json.h"
#include "common/limits.h"
#include "secure/supervisor/bridge.h"
#include "tests/common/llm/engine_examples.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

/* Engine bodies made in main (long contents, kept as the engine escaped them). */
enum { TRICKY, LONE, BADUTF8, NUL, WIDE, HUGE, ERRLONG, TIGHT, N_MADE };
static char *made[N_MADE];

static fx_route routes[] = {
    {.path = "/k0/v1/chat/completions", .body = NULL},
    {.path = "/k1/v1/chat/completions", .body = NULL},
    {.path = "/k2/v1/chat/completions", .body = NULL},
    {.path = "/k3/v1/chat/completions", .body = NULL},
    {.path = "/k4/v1/chat/completions", .body = NULL},
    {.path = "/k5/v1/chat/completions", .body = NULL},
    {.path = "/k6/v1/chat/completions", .body = NULL},
    {.path = "/k7/v1/chat/completions", .body = NULL},
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

/* The engine's reply with `content` (a JSON string body, as the engine writes it). */
static char *engine_body(const char *content, size_t reps)
{
    static const char head[] = "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":"
                               "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"";
    static const char tail[] = "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
                               "\"completion_tokens\":5}}";
    size_t n = strlen(content), at = sizeof head - 1;
    char *b = malloc(sizeof head + n * reps + sizeof tail);
    if (b) {
        memcpy(b, head, at);
        for (size_t i = 0; i < reps; i++, at += n) {
            memcpy(b + at, content, n);
        }
        memcpy(b + at, tail, sizeof tail);
    }
    return b;
}

/* One turn on /k<i>: the reply JSON parsed (NULL if the turn failed or it is not JSON). */
/* One turn on /k<i> after `room` bytes the caller put in the reply (the supervisor's record
   header room): they are kept; the reply JSON after them parsed (NULL if the turn failed). */
static ms_json_doc *turn_doc_after(int i, size_t room)
{
    char url[128];
    ms_bridge *b = NULL;
    ms_buf reply;
    ms_json_doc *doc = NULL;
    uint8_t *r0;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/k%d/v1", (unsigned)fx_port(srv), i);
    ms_bridge_cfg c = {.base_url = url, .model = "m", .timeout_ms = 10000,
                       .connect_timeout_ms = 2000};
    ms_buf_init(&reply, 2 * MS_MAX_RECORD_PLAINTEXT);
    CHECK_OK(ms_buf_extend(&reply, room, &r0));
    memset(r0, 0xA5, room);
    CHECK_OK(ms_bridge_new(&b, &c));
    if (b != NULL) {
        CHECK_OK(ms_bridge_turn(b, (const uint8_t *)REQ, sizeof REQ - 1, 0, NULL, NULL, &reply));
        CHECK(reply.len - room <= MS_MAX_RECORD_PLAINTEXT);
        for (size_t k = 0; k < room; k++) {
            CHECK(reply.p[k] == 0xA5);
        }
        /* valid JSON */
        CHECK_OK(ms_json_parse((const char *)reply.p + room, reply.len - room, &doc));
    }
    ms_bridge_free(b);
    ms_buf_free(&reply);
    return doc;
}

static ms_json_doc *turn_doc(int i)
{
    return turn_doc_after(i, 0);
}

/* The reply's content is exactly what the engine's string decodes to (its own parse). */
static void check_content_is_engines_after(int i, size_t room)
{
    ms_json_doc *eng = NULL, *doc = turn_doc_after(i, room);
    ms_json_val v, x;
    const char *want, *got;
    size_t wn, gn;
    bool ok = false;
    CHECK_OK(ms_json_parse(made[i], strlen(made[i]), &eng));
    CHECK_OK(ms_json_get_arr(ms_json_root(eng), "choices", 1, &v, &wn));
    CHECK_OK(ms_json_arr_at(v, 0, &v));
    CHECK_OK(ms_json_get_obj(v, "message", &v));
    CHECK_OK(ms_json_get_str(v, "content", MS_MAX_LLM_REPLY, &want, &wn));
    x = ms_json_root(doc);
    CHECK_OK(ms_json_get_bool(x, "ok", &ok));
    CHECK(ok);
    CHECK_OK(ms_json_get_str(x, "content", MS_MAX_LLM_REPLY, &got, &gn));
    CHECK(gn == wn && got != NULL && want != NULL && memcmp(got, want, gn) == 0);
    CHECK_OK(ms_json_get_str(x, "finish_reason", 8, &got, &gn));
    CHECK(strcmp(got, "stop") == 0);
    ms_json_free(doc);
    ms_json_free(eng);
}

static void check_content_is_engines(int i)
{
    check_content_is_engines_after(i, 0);
}

/* A reply the engine's parse refuses: a backend_error, as with a short string. */
static void check_refused(int i)
{
    ms_json_doc *doc = turn_doc(i);
    ms_json_val err;
    const char *code;
    size_t n;
    bool ok = true;
    CHECK_OK(ms_json_get_bool(ms_json_root(doc), "ok", &ok));
    CHECK(!ok);
    CHECK_OK(ms_json_get_obj(ms_json_root(doc), "error", &err));
    CHECK_OK(ms_json_get_str(err, "code", 32, &code, &n));
    CHECK(code != NULL && strcmp(code, "backend_error") == 0);
    ms_json_free(doc);
}

/*
 * Long contents go into the reply as the engine escaped them (no decode, no re-encode):
 * the client decodes exactly the engine's text, for every kind of escape; what the engine's
 * parse refuses is refused as before; and the record cap judges the text, not the escapes.
 */
static void test_long_content_carried(void)
{
    check_content_is_engines(TRICKY);
    check_refused(LONE);
    check_refused(BADUTF8);
    check_refused(NUL);
    check_content_is_engines(WIDE); /* 1.2 MB escaped, 400 KB of text: fits, re-encoded */
    check_content_is_engines(HUGE); /* over the content cap escaped, 700 KB of text */
    /* written where the engine's body lay (its buffer has room), behind the caller's bytes;
       and an engine body with no room around its content: copied, the same reply */
    check_content_is_engines_after(TRICKY, 40);
    check_content_is_engines_after(WIDE, 40);
    check_content_is_engines_after(TIGHT, 40);
    check_content_is_engines(TIGHT);
    /* a long error message (a string the kept parse leaves escaped) still reaches the reply */
    ms_json_doc *doc = turn_doc(ERRLONG);
    ms_json_val err;
    const char *msg;
    size_t n;
    CHECK_OK(ms_json_get_obj(ms_json_root(doc), "error", &err));
    CHECK_OK(ms_json_get_str(err, "message", 1024, &msg, &n));
    CHECK(msg != NULL && has(msg, "(model \"big\" not found: words words"));
    ms_json_free(doc);
}

int main(void)
{
    made[TRICKY] = engine_body("ab\\n\\\"\\\\\\/\\b\\f\\r\\t\\u00e9\\uD83D\\uDE00\xc3\xa9z"
                               "\\u2028\\u001f<\\u003c/\\ud800\\udc00", 40);
    made[LONE] = engine_body("plain words \\ud83d ", 40);
    made[BADUTF8] = engine_body("plain words \xc3\x28", 40);
    made[NUL] = engine_body("plain words \\u0000", 40);
    made[WIDE] = engine_body("\\u00e9", 200000);
    made[HUGE] = engine_body("\\u0041", 700000);
    made[TIGHT] = malloc(1024); /* 35 + 600 + 32 bytes: no room for the reply around it */
    if (made[TIGHT]) {
        int at = snprintf(made[TIGHT], 64, "{\"choices\":[{\"message\":{\"content\":\"");
        for (int i = 0; i < 100; i++) {
            at += snprintf(made[TIGHT] + at, 16, "ab\\n c");
        }
        snprintf(made[TIGHT] + at, 64, "\"},\"finish_reason\":\"stop\"}]}");
    }
    made[ERRLONG] = malloc(512);
    if (made[ERRLONG]) {
        int at = snprintf(made[ERRLONG], 512,
                          "{\"error\":{\"message\":\"model \\\"big\\\" not found:");
        for (int i = 0; i < 60; i++) {
            at += snprintf(made[ERRLONG] + at, 512 - (size_t)at, " words");
        }
        snprintf(made[ERRLONG] + at, 512 - (size_t)at, "\"}}");
    }
    for (int i = 0; i < N_MADE; i++) {
        if (made[i] == NULL) {
            return 1;
        }
        routes[i].body = made[i];
    }
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
    RUN(test_long_content_carried);
    fx_stop(srv);
    for (int i = 0; i < N_MADE; i++) {
        free(made[i]);
    }
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

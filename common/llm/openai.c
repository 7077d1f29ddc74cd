/* OpenAI-compatible /chat/completions: request building, plain and SSE-streamed replies. */
#include "common/llm/openai.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "common/check.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/llm/engine.h"
#include "common/llm/sse.h"

#define ENGINE "openai"

/* One call: what every attempt sends. */
struct call {
    ms_http_client *http;
    const ms_openai_cfg *cfg;
    const char *url;
    const ms_buf *body;
    ms_chat_delta_fn on_delta;
    void *ctx;
};

/* --- request --------------------------------------------------------------------------------- */

static ms_err add_format(ms_json_wval root, const char *format)
{
    ms_json_wval rf, js;
    TRY(ms_json_add_obj(root, "response_format", &rf));
    if (strcmp(format, "json") == 0) {
        return ms_json_add_cstr(rf, "type", "json_object");
    }
    TRY(ms_json_add_cstr(rf, "type", "json_schema"));
    TRY(ms_json_add_obj(rf, "json_schema", &js));
    TRY(ms_json_add_cstr(js, "name", "reply"));
    return ms_llm_add_schema(js, "schema", format);
}

static ms_err add_fields(ms_json_wval root, const ms_openai_cfg *cfg, const ms_chat_msg *msgs,
                         size_t n, const ms_chat_opts *o, bool stream)
{
    ms_json_wval so;
    TRY(ms_json_add_cstr(root, "model", cfg->model));
    TRY(ms_llm_add_messages(root, msgs, n));
    TRY(ms_json_add_bool(root, "stream", stream));
    if (stream) {
        TRY(ms_json_add_obj(root, "stream_options", &so));
        TRY(ms_json_add_bool(so, "include_usage", true));
    }
    if (o == NULL) {
        return MS_OK;
    }
    ENSURE(o->max_tokens >= 0 && !isnan(o->temperature) && !isinf(o->temperature), MS_ERR_ARG);
    if (o->max_tokens > 0) {
        TRY(ms_json_add_i64(root, "max_tokens", o->max_tokens));
    }
    if (o->temperature >= 0) {
        TRY(ms_json_add_double(root, "temperature", o->temperature));
    }
    if (o->json_format != NULL) {
        TRY(add_format(root, o->json_format));
    }
    return MS_OK;
}

ms_err ms_openai_build_body(const ms_openai_cfg *cfg, const ms_chat_msg *msgs, size_t n,
                            const ms_chat_opts *o, bool stream, ms_buf *out)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err e = add_fields(root, cfg, msgs, n, o, stream);
    if (e == MS_OK) {
        e = ms_json_builder_print(b, out);
    }
    ms_json_builder_free(b);
    return e;
}

/* --- replies --------------------------------------------------------------------------------- */

static ms_err read_usage(ms_json_val root, ms_chat_result *r)
{
    ms_json_val u;
    ms_err e = ms_json_get(root, "usage", &u);
    if (e == MS_ERR_JSON_MISSING || (e == MS_OK && ms_json_type_of(u) == MS_JSON_NULL)) {
        return MS_OK;
    }
    TRY(e);
    TRY(ms_json_as_obj(u, &u));
    TRY(ms_json_get_u64_opt(u, "prompt_tokens", UINT64_MAX, 0, &r->prompt_tokens));
    return ms_json_get_u64_opt(u, "completion_tokens", UINT64_MAX, 0, &r->completion_tokens);
}

static ms_err finish_reason(ms_json_val choice, ms_chat_result *r, bool *seen)
{
    const char *s;
    size_t n;
    TRY(ms_llm_str_or_null(choice, "finish_reason", MS_CHAT_FINISH_REASON_LEN, &s, &n));
    if (s != NULL) {
        *seen = true;
        return ms_llm_set_finish(r, s, n);
    }
    return MS_OK;
}

static ms_err parse_plain_doc(ms_json_val root, ms_chat_result *r)
{
    ms_json_val choices, c0, msg;
    size_t n;
    const char *s;
    bool seen = false;
    TRY(ms_llm_engine_error(root, r));
    TRY(ms_json_get_arr(root, "choices", MS_MAX_JSON_ARRAY, &choices, &n));
    ENSURE(n > 0, MS_ERR_BACKEND_FORMAT);
    TRY(ms_json_arr_at(choices, 0, &c0));
    TRY(ms_json_get_obj(c0, "message", &msg));
    /* null content: e.g. a reasoning model stopped by max_tokens before answering */
    TRY(ms_llm_str_or_null(msg, "content", MS_MAX_LLM_REPLY, &s, &n));
    TRY(ms_llm_take_text(r, s, n, NULL, NULL, NULL, NULL));
    TRY(finish_reason(c0, r, &seen));
    return read_usage(root, r);
}

ms_err ms_openai_parse_body(const ms_buf *body, ms_chat_result *r)
{
    ms_json_doc *doc = NULL;
    ms_err e = ms_json_parse((const char *)body->p, body->len, &doc);
    if (e == MS_OK) {
        e = parse_plain_doc(ms_json_root(doc), r);
    }
    ms_json_free(doc);
    return ms_llm_format_err(e);
}

static ms_err plain_attempt(void *ctx, ms_chat_result *r, bool *retryable)
{
    const struct call *c = ctx;
    long status = 0;
    ms_buf resp;
    ms_buf_init(&resp, MS_MAX_LLM_RESPONSE);
    ms_err e = ms_http_post_json(c->http, c->url, c->cfg->api_key, (const char *)c->body->p,
                                 c->body->len, &status, &resp);
    e = ms_llm_outcome(e, status, &resp, r, retryable);
    if (e == MS_OK) {
        e = ms_openai_parse_body(&resp, r);
    }
    ms_buf_free(&resp);
    return e;
}

/* --- streamed replies ------------------------------------------------------------------------ */

struct stream {
    const struct call *c;
    ms_chat_result *r;
    ms_sse *sse;
    bool delivered; /* on_delta has seen text: no retry from here on */
    bool finished;  /* a finish_reason arrived */
    ms_err user_err;
};

static ms_err chunk_doc(struct stream *st, ms_json_val root)
{
    ms_json_val choices, c0, delta;
    size_t n;
    const char *s;
    TRY(ms_llm_engine_error(root, st->r));
    TRY(ms_json_get_arr_opt(root, "choices", MS_MAX_JSON_ARRAY, &choices, &n));
    if (n > 0) {
        TRY(ms_json_arr_at(choices, 0, &c0));
        TRY(ms_json_get_obj_opt(c0, "delta", &delta));
        TRY(ms_llm_str_or_null(delta, "content", MS_MAX_LLM_REPLY, &s, &n));
        TRY(ms_llm_take_text(st->r, s, n, st->c->on_delta, st->c->ctx, &st->delivered,
                             &st->user_err));
        TRY(finish_reason(c0, st->r, &st->finished));
    }
    return read_usage(root, st->r);
}

static ms_err on_event(void *ctx, const char *data, size_t len)
{
    struct stream *st = ctx;
    ms_json_doc *doc = NULL;
    ms_err e = ms_json_parse(data, len, &doc);
    if (e == MS_OK) {
        e = chunk_doc(st, ms_json_root(doc));
    }
    ms_json_free(doc);
    return e;
}

static ms_err on_chunk(void *ctx, const uint8_t *p, size_t n)
{
    struct stream *st = ctx;
    ms_err e = ms_sse_feed(st->sse, p, n);
    return e == st->user_err ? e : ms_llm_format_err(e);
}

static ms_err stream_attempt(void *ctx, ms_chat_result *r, bool *retryable)
{
    const struct call *c = ctx;
    struct stream st = {.c = c, .r = r, .user_err = MS_OK};
    long status = 0;
    ms_buf err_body;
    ms_buf_init(&err_body, MS_MAX_HTTP_ERROR_BODY);
    *retryable = false;
    ms_err e = ms_sse_new(MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, on_event, &st, &st.sse);
    if (e == MS_OK) {
        e = ms_http_post_stream(c->http, c->url, c->cfg->api_key, (const char *)c->body->p,
                                c->body->len, &status, on_chunk, &st, &err_body);
        /* on_delta's own error is the caller's: return it unmapped */
        e = st.user_err != MS_OK ? st.user_err
                                 : ms_llm_outcome(e, status, &err_body, r, retryable);
        r->http_status = status;
    }
    if (e == MS_OK) {
        e = ms_llm_format_err(ms_sse_finish(st.sse));
    }
    if (e == MS_OK && !(ms_sse_done(st.sse) && st.finished)) {
        e = MS_ERR_BACKEND_FORMAT; /* cut short: never pass it off as a short answer */
    }
    *retryable = *retryable && !st.delivered;
    ms_sse_free(st.sse);
    ms_buf_free(&err_body);
    return e;
}

/* --- entry points ---------------------------------------------------------------------------- */

static ms_err chat(ms_http_client *http, const ms_openai_cfg *cfg, const ms_chat_msg *msgs,
                   size_t n, const ms_chat_opts *opts, ms_chat_delta_fn on_delta, void *ctx,
                   bool stream, ms_chat_result *r)
{
    ms_err err = MS_OK;
    ms_buf url, body;
    ms_buf_init(&url, MS_MAX_HTTP_URL);
    ms_buf_init(&body, MS_MAX_LLM_REQUEST);
    ms_llm_reset_result(r);
    ENSURE_OUT(http != NULL && cfg != NULL && cfg->model != NULL && cfg->model[0] != '\0',
               MS_ERR_ARG);
    ENSURE_OUT(!stream || on_delta != NULL, MS_ERR_ARG);
    TRY_OUT(ms_llm_url(cfg->base_url, MS_OPENAI_CHAT_PATH, &url));
    TRY_OUT(ms_openai_build_body(cfg, msgs, n, opts, stream, &body));
    struct call c = {.http = http, .cfg = cfg, .url = (const char *)url.p, .body = &body,
                     .on_delta = on_delta, .ctx = ctx};
    ms_llm_retry rt = {cfg->max_retries, cfg->backoff_base_ms, cfg->max_retry_wait_ms};
    err = ms_llm_run(ENGINE, http, &rt, stream ? stream_attempt : plain_attempt, &c, r);
out:
    ms_buf_free(&url);
    ms_buf_free(&body); /* wipes: the request holds the conversation */
    return err;
}

ms_err ms_openai_chat(ms_http_client *http, const ms_openai_cfg *cfg, const ms_chat_msg *msgs,
                      size_t n, const ms_chat_opts *opts, ms_chat_result *r)
{
    return chat(http, cfg, msgs, n, opts, NULL, NULL, false, r);
}

ms_err ms_openai_chat_stream(ms_http_client *http, const ms_openai_cfg *cfg,
                             const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                             ms_chat_delta_fn on_delta, void *ctx, ms_chat_result *r)
{
    return chat(http, cfg, msgs, n, opts, on_delta, ctx, true, r);
}

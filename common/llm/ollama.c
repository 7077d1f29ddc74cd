/* Ollama /api/chat: request building, plain and NDJSON-streamed replies. */
#include "common/llm/ollama.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "common/check.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/llm/engine.h"
#include "common/llm/ndjson.h"

#define ENGINE "ollama"

/* One call: what every attempt sends. */
struct call {
    ms_http_client *http;
    const ms_ollama_cfg *cfg;
    const char *url;
    const ms_buf *body;
    ms_chat_delta_fn on_delta;
    void *ctx;
};

/* --- request --------------------------------------------------------------------------------- */

static ms_err add_options(ms_json_wval root, const ms_ollama_cfg *cfg, const ms_chat_opts *o)
{
    ms_json_wval opt;
    TRY(ms_json_add_obj(root, "options", &opt));
    if (cfg->num_ctx > 0) {
        TRY(ms_json_add_u64(opt, "num_ctx", cfg->num_ctx));
    }
    if (o == NULL) {
        return MS_OK;
    }
    ENSURE(o->max_tokens >= 0 && !isnan(o->temperature) && !isinf(o->temperature), MS_ERR_ARG);
    if (o->max_tokens > 0) {
        TRY(ms_json_add_i64(opt, "num_predict", o->max_tokens));
    }
    if (o->temperature >= 0) {
        TRY(ms_json_add_double(opt, "temperature", o->temperature));
    }
    return MS_OK;
}

static ms_err add_fields(ms_json_wval root, const ms_ollama_cfg *cfg, const ms_chat_msg *msgs,
                         size_t n, const ms_chat_opts *o, bool stream)
{
    TRY(ms_json_add_cstr(root, "model", cfg->model));
    TRY(ms_llm_add_messages_ollama(root, msgs, n));
    /* Explicit either way: Ollama streams when the field is absent. */
    TRY(ms_json_add_bool(root, "stream", stream));
    TRY(add_options(root, cfg, o));
    if (o == NULL || o->json_format == NULL) {
        return MS_OK;
    }
    if (strcmp(o->json_format, "json") == 0) {
        return ms_json_add_cstr(root, "format", "json");
    }
    return ms_llm_add_schema(root, "format", o->json_format);
}

ms_err ms_ollama_build_body(const ms_ollama_cfg *cfg, const ms_chat_msg *msgs, size_t n,
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

/* The fields of the "done": true object. */
static ms_err read_final(ms_json_val root, ms_chat_result *r)
{
    const char *s;
    size_t n;
    TRY(ms_llm_str_or_null(root, "done_reason", MS_CHAT_FINISH_REASON_LEN, &s, &n));
    if (s != NULL) {
        TRY(ms_llm_set_finish(r, s, n));
    }
    TRY(ms_json_get_u64_opt(root, "prompt_eval_count", UINT64_MAX, 0, &r->prompt_tokens));
    return ms_json_get_u64_opt(root, "eval_count", UINT64_MAX, 0, &r->completion_tokens);
}

static ms_err parse_plain_doc(ms_json_val root, ms_chat_result *r)
{
    ms_json_val msg;
    const char *s;
    size_t n;
    bool done = false;
    TRY(ms_llm_engine_error(root, r));
    TRY(ms_json_get_obj(root, "message", &msg));
    TRY(ms_llm_str_or_null(msg, "content", MS_MAX_LLM_REPLY, &s, &n));
    TRY(ms_llm_take_text(r, s, n, NULL, NULL, NULL, NULL));
    TRY(ms_json_get_bool(root, "done", &done));
    ENSURE(done, MS_ERR_BACKEND_FORMAT);
    return read_final(root, r);
}

ms_err ms_ollama_parse_body(const ms_buf *body, ms_chat_result *r)
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
        e = ms_ollama_parse_body(&resp, r);
    }
    ms_buf_free(&resp);
    return e;
}

/* --- streamed replies ------------------------------------------------------------------------ */

struct stream {
    const struct call *c;
    ms_chat_result *r;
    ms_ndjson *nd;
    bool delivered; /* on_delta has seen text: no retry from here on */
    bool finished;  /* the "done": true line arrived */
    ms_err user_err;
};

static ms_err line_doc(struct stream *st, ms_json_val root)
{
    ms_json_val msg;
    const char *s;
    size_t n;
    bool done = false;
    ENSURE(!st->finished, MS_ERR_BACKEND_FORMAT); /* nothing may follow the final line */
    TRY(ms_llm_engine_error(root, st->r));
    TRY(ms_json_get_obj_opt(root, "message", &msg));
    TRY(ms_llm_str_or_null(msg, "content", MS_MAX_LLM_REPLY, &s, &n));
    TRY(ms_llm_take_text(st->r, s, n, st->c->on_delta, st->c->ctx, &st->delivered,
                         &st->user_err));
    TRY(ms_json_get_bool_opt(root, "done", false, &done));
    if (done) {
        st->finished = true;
        return read_final(root, st->r);
    }
    return MS_OK;
}

static ms_err on_line(void *ctx, const char *line, size_t len)
{
    struct stream *st = ctx;
    ms_json_doc *doc = NULL;
    ms_err e = ms_json_parse(line, len, &doc);
    if (e == MS_OK) {
        e = line_doc(st, ms_json_root(doc));
    }
    ms_json_free(doc);
    return e;
}

static ms_err on_chunk(void *ctx, const uint8_t *p, size_t n)
{
    struct stream *st = ctx;
    ms_err e = ms_ndjson_feed(st->nd, p, n);
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
    ms_err e = ms_ndjson_new(MS_MAX_NDJSON_LINE, on_line, &st, &st.nd);
    if (e == MS_OK) {
        e = ms_http_post_stream(c->http, c->url, c->cfg->api_key, (const char *)c->body->p,
                                c->body->len, &status, on_chunk, &st, &err_body);
        /* on_delta's own error is the caller's: return it unmapped */
        e = st.user_err != MS_OK ? st.user_err
                                 : ms_llm_outcome(e, status, &err_body, r, retryable);
        r->http_status = status;
    }
    if (e == MS_OK) {
        ms_err f = ms_ndjson_finish(st.nd);
        e = f == st.user_err ? f : ms_llm_format_err(f);
    }
    if (e == MS_OK && !st.finished) {
        e = MS_ERR_BACKEND_FORMAT; /* cut short: never pass it off as a short answer */
    }
    *retryable = *retryable && !st.delivered;
    ms_ndjson_free(st.nd);
    ms_buf_free(&err_body);
    return e;
}

/* --- entry points ---------------------------------------------------------------------------- */

static ms_err chat(ms_http_client *http, const ms_ollama_cfg *cfg, const ms_chat_msg *msgs,
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
    TRY_OUT(ms_llm_url(cfg->base_url, MS_OLLAMA_CHAT_PATH, &url));
    TRY_OUT(ms_ollama_build_body(cfg, msgs, n, opts, stream, &body));
    struct call c = {.http = http, .cfg = cfg, .url = (const char *)url.p, .body = &body,
                     .on_delta = on_delta, .ctx = ctx};
    ms_llm_retry rt = {cfg->max_retries, cfg->backoff_base_ms, cfg->max_retry_wait_ms};
    err = ms_llm_run(ENGINE, http, &rt, stream ? stream_attempt : plain_attempt, &c, r);
out:
    ms_buf_free(&url);
    ms_buf_free(&body); /* wipes: the request holds the conversation */
    return err;
}

ms_err ms_ollama_chat(ms_http_client *http, const ms_ollama_cfg *cfg, const ms_chat_msg *msgs,
                      size_t n, const ms_chat_opts *opts, ms_chat_result *r)
{
    return chat(http, cfg, msgs, n, opts, NULL, NULL, false, r);
}

ms_err ms_ollama_chat_stream(ms_http_client *http, const ms_ollama_cfg *cfg,
                             const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                             ms_chat_delta_fn on_delta, void *ctx, ms_chat_result *r)
{
    return chat(http, cfg, msgs, n, opts, on_delta, ctx, true, r);
}

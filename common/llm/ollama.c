/* Ollama /api/chat as a wire format (engine.h): request body, plain and NDJSON replies. */
#include "common/llm/ollama.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "common/check.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/llm/engine.h"

/* --- request --------------------------------------------------------------------------------- */

static ms_err add_options(ms_json_wval root, const ms_llm_wire *w, const ms_chat_opts *o)
{
    ms_json_wval opt;
    TRY(ms_json_add_obj(root, "options", &opt));
    if (w->num_ctx > 0) {
        TRY(ms_json_add_u64(opt, "num_ctx", w->num_ctx));
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

static ms_err add_fields(ms_json_wval root, const ms_llm_wire *w, const ms_chat_msg *msgs,
                         size_t n, const ms_chat_opts *o, bool stream)
{
    TRY(ms_json_add_cstr(root, "model", w->model));
    TRY(ms_llm_add_messages_ollama(root, msgs, n));
    /* Explicit either way: Ollama streams when the field is absent. */
    TRY(ms_json_add_bool(root, "stream", stream));
    TRY(add_options(root, w, o));
    if (o == NULL || o->json_format == NULL) {
        return MS_OK;
    }
    if (strcmp(o->json_format, "json") == 0) {
        return ms_json_add_cstr(root, "format", "json");
    }
    return ms_llm_add_schema(root, "format", o->json_format);
}

static ms_err build_body(const ms_llm_wire *w, const ms_chat_msg *msgs, size_t n,
                         const ms_chat_opts *o, bool stream, ms_buf *out)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err e = add_fields(root, w, msgs, n, o, stream);
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

/* --- streamed replies ------------------------------------------------------------------------ */

/* One NDJSON line: {"message":{"content":..},"done":false}, the last one "done": true. */
static ms_err stream_doc(ms_llm_stream *st, ms_json_val root)
{
    ms_json_val msg;
    const char *s;
    size_t n;
    bool done = false;
    ENSURE(!st->finished, MS_ERR_BACKEND_FORMAT); /* nothing may follow the final line */
    TRY(ms_llm_engine_error(root, st->r));
    TRY(ms_json_get_obj_opt(root, "message", &msg));
    TRY(ms_llm_str_or_null(msg, "content", MS_MAX_LLM_REPLY, &s, &n));
    TRY(ms_llm_stream_text(st, s, n));
    TRY(ms_json_get_bool_opt(root, "done", false, &done));
    if (done) {
        st->finished = true;
        return read_final(root, st->r);
    }
    return MS_OK;
}

/* --- the format and the entry points --------------------------------------------------------- */

const ms_llm_format ms_llm_format_ollama = {
    .name = "ollama",
    .chat_path = "/api/chat",
    .ping_path = "/api/tags",
    .framing = MS_LLM_NDJSON,
    .build_body = build_body,
    .parse_body = ms_ollama_parse_body,
    .stream_doc = stream_doc,
};

/* cfg NULL stays NULL: ms_llm_call refuses it. */
static const ms_llm_wire *wire(const ms_ollama_cfg *cfg, ms_llm_wire *w)
{
    if (cfg == NULL) {
        return NULL;
    }
    *w = (ms_llm_wire){.fmt = &ms_llm_format_ollama, .base_url = cfg->base_url,
                       .model = cfg->model, .api_key = cfg->api_key, .num_ctx = cfg->num_ctx,
                       .rt = {cfg->max_retries, cfg->backoff_base_ms, cfg->max_retry_wait_ms}};
    return w;
}

ms_err ms_ollama_chat(ms_http_client *http, const ms_ollama_cfg *cfg, const ms_chat_msg *msgs,
                      size_t n, const ms_chat_opts *opts, ms_chat_result *r)
{
    ms_llm_wire w;
    return ms_llm_call(http, wire(cfg, &w), msgs, n, opts, false, NULL, NULL, r);
}

ms_err ms_ollama_chat_stream(ms_http_client *http, const ms_ollama_cfg *cfg,
                             const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                             ms_chat_delta_fn on_delta, void *ctx, ms_chat_result *r)
{
    ms_llm_wire w;
    return ms_llm_call(http, wire(cfg, &w), msgs, n, opts, true, on_delta, ctx, r);
}

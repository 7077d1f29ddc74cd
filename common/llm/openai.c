/* OpenAI /chat/completions as a wire format (engine.h): request body, plain and SSE replies. */
#include "common/llm/openai.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "common/check.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/llm/engine.h"

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

static ms_err add_fields(ms_json_wval root, const ms_llm_wire *w, const ms_chat_msg *msgs,
                         size_t n, const ms_chat_opts *o, bool stream)
{
    ms_json_wval so;
    TRY(ms_json_add_cstr(root, "model", w->model));
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

/* A kept content found by the parse: taken once the whole document has been read. */
typedef struct kept_span {
    const char *p;
    size_t len;
} kept_span;

/*
 * A kept (escaped) content (ms_json_parse_keep): as it is when it fits the content's cap
 * (noted in *kept, taken by take_span after the parse), else decoded (the cap then judges
 * the text, as for a decoded string).
 */
static ms_err take_kept(ms_chat_result *r, const ms_json_text *t, kept_span *kept)
{
    if (t->len <= r->content.max) {
        *kept = (kept_span){t->p, t->len};
        r->content_escaped = true;
        return MS_OK;
    }
    return ms_json_unescape(t->p, t->len, &r->content); /* over the cap: BACKEND_FORMAT */
}

/* null content: e.g. a reasoning model stopped by max_tokens before answering */
static ms_err take_content(ms_json_val msg, ms_chat_result *r, kept_span *kept)
{
    ms_json_val v;
    ms_json_text t;
    const char *s;
    size_t n;
    ms_err e = ms_json_get(msg, "content", &v);
    if (e == MS_OK && ms_json_type_of(v) == MS_JSON_STRING && ms_json_as_text(v, &t) == MS_OK &&
        t.escaped) {
        return take_kept(r, &t, kept);
    }
    TRY(ms_llm_str_or_null(msg, "content", MS_MAX_LLM_REPLY, &s, &n));
    return ms_llm_take_text(r, s, n, NULL, NULL, NULL, NULL);
}

static ms_err parse_plain_doc(ms_json_val root, ms_chat_result *r, kept_span *kept)
{
    ms_json_val choices, c0, msg;
    size_t n;
    bool seen = false;
    TRY(ms_llm_engine_error(root, r));
    TRY(ms_json_get_arr(root, "choices", MS_MAX_JSON_ARRAY, &choices, &n));
    ENSURE(n > 0, MS_ERR_BACKEND_FORMAT);
    TRY(ms_json_arr_at(choices, 0, &c0));
    TRY(ms_json_get_obj(c0, "message", &msg));
    TRY(take_content(msg, r, kept));
    TRY(finish_reason(c0, r, &seen));
    return read_usage(root, r);
}

/*
 * The kept content into r->content. With `take` (the body it lies in, the caller's to give)
 * and no buffer in r->content yet: the body's buffer becomes the content's, the content moved
 * to its start and every byte after it wiped (the rest of the engine's reply), so the body
 * is neither copied nor wiped a second time; take is left empty. Else a copy.
 */
static ms_err take_span(ms_chat_result *r, const kept_span *kept, ms_buf *take)
{
    const uint8_t *at = (const uint8_t *)kept->p;
    if (take == NULL || r->content.p != NULL || take->p == NULL || at < take->p ||
        kept->len > take->len - (size_t)(at - take->p)) {
        return ms_buf_append(&r->content, kept->p, kept->len);
    }
    memmove(take->p, at, kept->len);
    ms_wipe(take->p + kept->len, take->len - kept->len);
    r->content.p = take->p;
    r->content.len = kept->len;
    r->content.cap = take->cap;
    take->p = NULL;
    take->len = 0;
    take->cap = 0;
    return MS_OK;
}

/* take: NULL, or the body itself when the caller gives it up (ms_openai_take_body). */
static ms_err parse_body(const ms_buf *body, bool keep, ms_buf *take, ms_chat_result *r)
{
    ms_json_doc *doc = NULL;
    kept_span kept = {NULL, 0};
    /* kept strings point into body, which outlives doc */
    ms_err e = keep ? ms_json_parse_keep((const char *)body->p, body->len, &doc)
                    : ms_json_parse((const char *)body->p, body->len, &doc);
    if (e == MS_OK) {
        e = parse_plain_doc(ms_json_root(doc), r, &kept);
    }
    if (e == MS_OK && kept.p != NULL) { /* the whole document read: nothing else points into body */
        ms_json_free(doc);
        doc = NULL;
        e = take_span(r, &kept, take);
    }
    ms_json_free(doc);
    return e;
}

/*
 * keep_escaped: the content is the only string read as a kept one (ms_json_as_text); any
 * other long string (an engine's long error message) refuses its getter, so a failed parse
 * is done again decoding: the result is then the decoding parse's in every field.
 */
static ms_err parse_either(ms_buf *take, const ms_buf *body, ms_chat_result *r)
{
    ms_err e = parse_body(body, r->keep_escaped, take, r);
    if (e != MS_OK && r->keep_escaped) {
        ms_llm_clear_parsed(r);
        e = parse_body(body, false, NULL, r);
    }
    return ms_llm_format_err(e);
}

ms_err ms_openai_parse_body(const ms_buf *body, ms_chat_result *r)
{
    return parse_either(NULL, body, r);
}

ms_err ms_openai_take_body(ms_buf *body, ms_chat_result *r)
{
    return parse_either(body, body, r);
}

/* --- streamed replies ------------------------------------------------------------------------ */

/* Whether the usage member is absent or null (a document without usage). */
static bool no_usage(ms_json_val root)
{
    ms_json_val u;
    ms_err e = ms_json_get(root, "usage", &u);
    return e == MS_ERR_JSON_MISSING || (e == MS_OK && ms_json_type_of(u) == MS_JSON_NULL);
}

/*
 * One SSE event: {"choices":[{"delta":{"content":..},"finish_reason":..}],"usage":..}. An
 * event with a content string and nothing else to take (no finish reason, no usage) names
 * that string in st->text (engine.h).
 */
static ms_err stream_doc(ms_llm_stream *st, ms_json_val root)
{
    ms_json_val choices, c0, delta;
    size_t n;
    const char *s;
    bool fin = false;
    TRY(ms_llm_engine_error(root, st->r));
    TRY(ms_json_get_arr_opt(root, "choices", MS_MAX_JSON_ARRAY, &choices, &n));
    if (n > 0) {
        TRY(ms_json_arr_at(choices, 0, &c0));
        TRY(ms_json_get_obj_opt(c0, "delta", &delta));
        TRY(ms_llm_str_or_null(delta, "content", MS_MAX_LLM_REPLY, &s, &n));
        TRY(ms_llm_stream_text(st, s, n));
        TRY(finish_reason(c0, st->r, &fin));
        st->finished = st->finished || fin;
        if (s != NULL && !fin && no_usage(root)) {
            TRY(ms_json_get(delta, "content", &st->text));
        }
    }
    return read_usage(root, st->r);
}

/* --- the format and the entry points --------------------------------------------------------- */

const ms_llm_format ms_llm_format_openai = {
    .name = "openai",
    .chat_path = "/chat/completions",
    .ping_path = "/models",
    .framing = MS_LLM_SSE,
    .build_body = build_body,
    .parse_body = ms_openai_parse_body,
    .take_body = ms_openai_take_body,
    .stream_doc = stream_doc,
};

/* cfg NULL stays NULL: ms_llm_call refuses it. */
static const ms_llm_wire *wire(const ms_openai_cfg *cfg, ms_llm_wire *w)
{
    if (cfg == NULL) {
        return NULL;
    }
    *w = (ms_llm_wire){.fmt = &ms_llm_format_openai, .base_url = cfg->base_url,
                       .model = cfg->model, .api_key = cfg->api_key,
                       .rt = {cfg->max_retries, cfg->backoff_base_ms, cfg->max_retry_wait_ms}};
    return w;
}

ms_err ms_openai_chat(ms_http_client *http, const ms_openai_cfg *cfg, const ms_chat_msg *msgs,
                      size_t n, const ms_chat_opts *opts, ms_chat_result *r)
{
    ms_llm_wire w;
    return ms_llm_call(http, wire(cfg, &w), msgs, n, opts, false, NULL, NULL, r);
}

ms_err ms_openai_chat_stream(ms_http_client *http, const ms_openai_cfg *cfg,
                             const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                             ms_chat_delta_fn on_delta, void *ctx, ms_chat_result *r)
{
    ms_llm_wire w;
    return ms_llm_call(http, wire(cfg, &w), msgs, n, opts, true, on_delta, ctx, r);
}

/* OpenAI-compatible wire format: chat completions (JSON and SSE chunks), /v1/models, errors. */
#include <stdint.h>
#include <string.h>

#include "common/check.h"
#include "tools/llm-sim/formats.h"

#define SSE_PREFIX "data: "
#define SSE_SUFFIX "\n\n"

/* An event's framing under the turn's quirks: "data:" with or without its space, LF or CRLF. */
static const char *sse_prefix(const llmsim_turn *t)
{
    return t->quirks & LLMSIM_Q_NO_SPACE ? "data:" : SSE_PREFIX;
}

static const char *sse_suffix(const llmsim_turn *t)
{
    return t->quirks & LLMSIM_Q_CRLF ? "\r\n\r\n" : SSE_SUFFIX;
}

/* Quirk "comments": a keep-alive comment before each event, as proxies and servers send. */
static ms_err keep_alive(const llmsim_turn *t, ms_buf *out)
{
    if (!(t->quirks & LLMSIM_Q_COMMENTS)) {
        return MS_OK;
    }
    TRY(ms_buf_append_str(out, ": keep-alive"));
    return ms_buf_append_str(out, sse_suffix(t));
}

/* Quirk "timings": llama.cpp's server adds its own timing object to the last chunk. */
static ms_err add_timings(ms_json_wval root, const llmsim_turn *t)
{
    ms_json_wval tm;
    if (!(t->quirks & LLMSIM_Q_TIMINGS)) {
        return MS_OK;
    }
    TRY(ms_json_add_obj(root, "timings", &tm));
    TRY(ms_json_add_u64(tm, "prompt_n", t->prompt_tokens));
    TRY(ms_json_add_double(tm, "prompt_ms", 1.5));
    TRY(ms_json_add_u64(tm, "predicted_n", t->completion_tokens));
    TRY(ms_json_add_double(tm, "predicted_ms", 2.5));
    return ms_json_add_double(tm, "predicted_per_second", 400.0);
}

static const char *const finish_reasons[] = {"stop", "length", "stop"};

/* {"id","object","created","model" */
static ms_err add_head(ms_json_wval root, const llmsim_turn *t, const char *object)
{
    TRY(ms_json_add_cstr(root, "id", t->id));
    TRY(ms_json_add_cstr(root, "object", object));
    TRY(ms_json_add_i64(root, "created", t->created));
    return ms_json_add_cstr(root, "model", t->model);
}

static ms_err add_usage(ms_json_wval root, const llmsim_turn *t)
{
    ms_json_wval u;
    TRY(ms_json_add_obj(root, "usage", &u));
    TRY(ms_json_add_u64(u, "prompt_tokens", t->prompt_tokens));
    TRY(ms_json_add_u64(u, "completion_tokens", t->completion_tokens));
    return ms_json_add_u64(u, "total_tokens", t->prompt_tokens + t->completion_tokens);
}

static ms_err build_reply(ms_json_wval root, const llmsim_turn *t, const char *text, size_t len)
{
    ms_json_wval choices, c, msg;
    TRY(add_head(root, t, "chat.completion"));
    TRY(ms_json_add_arr(root, "choices", &choices));
    TRY(ms_json_add_obj(choices, NULL, &c));
    TRY(ms_json_add_i64(c, "index", 0));
    TRY(ms_json_add_obj(c, "message", &msg));
    TRY(ms_json_add_cstr(msg, "role", "assistant"));
    if (t->quirks & LLMSIM_Q_REASONING) { /* vLLM's reasoning parser */
        TRY(ms_json_add_cstr(msg, "reasoning_content", LLMSIM_REASONING_TEXT));
    }
    TRY(ms_json_add_str(msg, "content", text, len));
    TRY(ms_json_add_null(c, "logprobs"));
    TRY(ms_json_add_cstr(c, "finish_reason", finish_reasons[t->finish]));
    TRY(add_usage(root, t));
    return add_timings(root, t);
}

static ms_err openai_reply(const llmsim_turn *t, const char *text, size_t len, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build_reply(root, t, text, len);
    }
    return llmsim_emit(b, e, "", "", out);
}

typedef enum chunk_kind {
    CHUNK_ROLE,  /* first: delta {"role":"assistant","content":""} */
    CHUNK_THINK, /* quirk "reasoning": delta {"reasoning_content": ...} */
    CHUNK_PIECE, /* delta {"content":piece} */
    CHUNK_LAST,  /* delta {} and the finish reason */
} chunk_kind;

/*
 * A chat.completion.chunk. With include_usage every chunk but the usage one carries
 * "usage": null, as OpenAI documents for stream_options.include_usage.
 */
static ms_err build_chunk(ms_json_wval root, const llmsim_turn *t, chunk_kind kind,
                          const char *piece, size_t len)
{
    ms_json_wval choices, c, delta;
    TRY(add_head(root, t, "chat.completion.chunk"));
    TRY(ms_json_add_arr(root, "choices", &choices));
    TRY(ms_json_add_obj(choices, NULL, &c));
    TRY(ms_json_add_i64(c, "index", 0));
    TRY(ms_json_add_obj(c, "delta", &delta));
    if (kind == CHUNK_ROLE) {
        TRY(ms_json_add_cstr(delta, "role", "assistant"));
    }
    if (kind == CHUNK_THINK) {
        TRY(ms_json_add_cstr(delta, "reasoning_content", LLMSIM_REASONING_TEXT));
    } else if (kind != CHUNK_LAST) {
        TRY(ms_json_add_str(delta, "content", piece, len));
    } else if (t->quirks & LLMSIM_Q_NULL_CONTENT) {
        TRY(ms_json_add_null(delta, "content"));
    }
    TRY(ms_json_add_null(c, "logprobs"));
    if (kind == CHUNK_LAST) {
        TRY(ms_json_add_cstr(c, "finish_reason", finish_reasons[t->finish]));
    } else {
        TRY(ms_json_add_null(c, "finish_reason"));
    }
    TRY(kind == CHUNK_LAST ? add_timings(root, t) : MS_OK);
    return t->include_usage ? ms_json_add_null(root, "usage") : MS_OK;
}

static ms_err chunk(const llmsim_turn *t, chunk_kind kind, const char *piece, size_t len,
                    ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build_chunk(root, t, kind, piece, len);
    }
    if (e == MS_OK) {
        e = keep_alive(t, out);
    }
    return llmsim_emit(b, e, sse_prefix(t), sse_suffix(t), out);
}

static ms_err openai_open(const llmsim_turn *t, ms_buf *out)
{
    TRY(chunk(t, CHUNK_ROLE, "", 0, out));
    return t->quirks & LLMSIM_Q_REASONING ? chunk(t, CHUNK_THINK, "", 0, out) : MS_OK;
}

static ms_err openai_piece(const llmsim_turn *t, const char *piece, size_t len, ms_buf *out)
{
    return chunk(t, CHUNK_PIECE, piece, len, out);
}

static ms_err build_usage_chunk(ms_json_wval root, const llmsim_turn *t)
{
    ms_json_wval choices;
    TRY(add_head(root, t, "chat.completion.chunk"));
    TRY(ms_json_add_arr(root, "choices", &choices));
    return add_usage(root, t);
}

static ms_err usage_chunk(const llmsim_turn *t, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build_usage_chunk(root, t);
    }
    return llmsim_emit(b, e, sse_prefix(t), sse_suffix(t), out);
}

/* Quirks "error_object" (vLLM, OpenAI: an error document) and "error_line" (llama.cpp: an
   SSE "error:" line) end a 200 stream instead of its last chunk, without [DONE]. */
static ms_err stream_error(const llmsim_turn *t, ms_buf *out)
{
    if (t->quirks & LLMSIM_Q_ERROR_LINE) {
        TRY(ms_buf_append_str(out, "error: {\"code\":500,\"message\":\"" LLMSIM_STREAM_ERROR
                                   "\",\"type\":\"server_error\"}"));
    } else {
        TRY(ms_buf_append_str(out, sse_prefix(t)));
        TRY(ms_buf_append_str(out, "{\"error\":{\"message\":\"" LLMSIM_STREAM_ERROR
                                   "\",\"type\":\"server_error\",\"param\":null,"
                                   "\"code\":null}}"));
    }
    return ms_buf_append_str(out, sse_suffix(t));
}

/* Last chunk, the usage chunk when asked for, then the [DONE] sentinel; all or nothing. */
static ms_err openai_close(const llmsim_turn *t, ms_buf *out)
{
    size_t before = out->len;
    if (t->quirks & (LLMSIM_Q_ERROR_OBJECT | LLMSIM_Q_ERROR_LINE)) {
        ms_err se = stream_error(t, out);
        if (se != MS_OK && out->len > before) {
            (void)!ms_buf_shrink(out, out->len - before);
        }
        return se;
    }
    ms_err e = chunk(t, CHUNK_LAST, "", 0, out);
    if (e == MS_OK && t->include_usage) {
        e = usage_chunk(t, out);
    }
    if (e == MS_OK) {
        e = ms_buf_append_str(out, sse_prefix(t));
    }
    if (e == MS_OK) {
        e = ms_buf_append_str(out, "[DONE]");
    }
    if (e == MS_OK) {
        e = ms_buf_append_str(out, sse_suffix(t));
    }
    if (e != MS_OK && out->len > before) {
        (void)!ms_buf_shrink(out, out->len - before);
    }
    return e;
}

/* OpenAI answers client errors (bad body, unknown URL) as invalid_request_error. */
static const char *error_type(unsigned status)
{
    return status >= 500 ? "server_error" : "invalid_request_error";
}

static ms_err build_error(ms_json_wval root, unsigned status, const char *msg)
{
    ms_json_wval e;
    TRY(ms_json_add_obj(root, "error", &e));
    TRY(ms_json_add_cstr(e, "message", msg));
    TRY(ms_json_add_cstr(e, "type", error_type(status)));
    TRY(ms_json_add_null(e, "param"));
    return ms_json_add_null(e, "code");
}

static ms_err openai_error(unsigned status, const char *msg, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build_error(root, status, msg);
    }
    return llmsim_emit(b, e, "", "", out);
}

const llmsim_format llmsim_openai = {
    .json_type = "application/json",
    .stream_type = "text/event-stream; charset=utf-8",
    .reply = openai_reply,
    .stream_open = openai_open,
    .stream_piece = openai_piece,
    .stream_close = openai_close,
    .error = openai_error,
};

static ms_err build_models(ms_json_wval root, const char *const *names, size_t n, int64_t created)
{
    ms_json_wval data, m;
    TRY(ms_json_add_cstr(root, "object", "list"));
    TRY(ms_json_add_arr(root, "data", &data));
    for (size_t i = 0; i < n; i++) {
        TRY(ms_json_add_obj(data, NULL, &m));
        TRY(ms_json_add_cstr(m, "id", names[i]));
        TRY(ms_json_add_cstr(m, "object", "model"));
        TRY(ms_json_add_i64(m, "created", created));
        TRY(ms_json_add_cstr(m, "owned_by", "llm-sim"));
    }
    return MS_OK;
}

ms_err llmsim_openai_models(const char *const *names, size_t n, int64_t created, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build_models(root, names, n, created);
    }
    return llmsim_emit(b, e, "", "", out);
}

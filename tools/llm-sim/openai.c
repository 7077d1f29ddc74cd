/* OpenAI-compatible wire format: chat completions (JSON and SSE chunks), /v1/models, errors. */
#include <stdint.h>
#include <string.h>

#include "common/check.h"
#include "tools/llm-sim/formats.h"

#define SSE_PREFIX "data: "
#define SSE_SUFFIX "\n\n"

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
    TRY(ms_json_add_str(msg, "content", text, len));
    TRY(ms_json_add_null(c, "logprobs"));
    TRY(ms_json_add_cstr(c, "finish_reason", finish_reasons[t->finish]));
    return add_usage(root, t);
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
    if (kind != CHUNK_LAST) {
        TRY(ms_json_add_str(delta, "content", piece, len));
    }
    TRY(ms_json_add_null(c, "logprobs"));
    if (kind == CHUNK_LAST) {
        TRY(ms_json_add_cstr(c, "finish_reason", finish_reasons[t->finish]));
    } else {
        TRY(ms_json_add_null(c, "finish_reason"));
    }
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
    return llmsim_emit(b, e, SSE_PREFIX, SSE_SUFFIX, out);
}

static ms_err openai_open(const llmsim_turn *t, ms_buf *out)
{
    return chunk(t, CHUNK_ROLE, "", 0, out);
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
    return llmsim_emit(b, e, SSE_PREFIX, SSE_SUFFIX, out);
}

/* Last chunk, the usage chunk when asked for, then the [DONE] sentinel; all or nothing. */
static ms_err openai_close(const llmsim_turn *t, ms_buf *out)
{
    size_t before = out->len;
    ms_err e = chunk(t, CHUNK_LAST, "", 0, out);
    if (e == MS_OK && t->include_usage) {
        e = usage_chunk(t, out);
    }
    if (e == MS_OK) {
        e = ms_buf_append_str(out, SSE_PREFIX "[DONE]" SSE_SUFFIX);
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

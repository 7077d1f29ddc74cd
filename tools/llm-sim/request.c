/* Chat request bodies into llmsim_request: bounded, typed, and told apart field by field. */
#include "tools/llm-sim/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "tools/llm-sim/llmsim.h"
#include "tools/llm-sim/tokens.h"

/* Room for the NUL after each joined content, on top of the text itself. */
#define ARENA_MAX (LLMSIM_MAX_BODY + LLMSIM_MAX_MESSAGES)
#define FIELD_LEN 64u

static ms_err fail(char *why, size_t cap, ms_err e, const char *field)
{
    if (cap > 0) {
        snprintf(why, cap, "%s: %s", field, ms_err_str(e));
    }
    return e;
}

/* The value of key; absent when the key is missing or JSON null (clients send null for unset). */
static ms_err get_nullable(ms_json_val obj, const char *key, ms_json_val *out)
{
    ms_json_val v;
    out->node_ = NULL;
    ms_err e = ms_json_get(obj, key, &v);
    if (e == MS_ERR_JSON_MISSING) {
        return MS_OK;
    }
    TRY(e);
    if (ms_json_type_of(v) != MS_JSON_NULL) {
        *out = v;
    }
    return MS_OK;
}

static bool present(ms_json_val v)
{
    return v.node_ != NULL;
}

/* OpenAI content parts: the "text" of each {"type":"text"} part, joined with "\n". */
static ms_err join_parts(ms_json_val parts, ms_buf *arena, llmsim_msg *m)
{
    ms_json_iter it = ms_json_iter_init(parts);
    ms_json_val part;
    size_t start = arena->len;
    bool first = true;
    m->in_arena_ = true;
    m->arena_off_ = start;
    while (ms_json_iter_next(&it, &part, NULL)) {
        const char *type, *text;
        size_t type_len, text_len;
        ms_json_val obj;
        TRY(ms_json_as_obj(part, &obj));
        TRY(ms_json_get_str(obj, "type", LLMSIM_MAX_ROLE, &type, &type_len));
        if (strcmp(type, "text") != 0) {
            continue;
        }
        TRY(ms_json_get_str(obj, "text", LLMSIM_MAX_CONTENT, &text, &text_len));
        if (!first) {
            TRY(ms_buf_append_u8(arena, '\n'));
        }
        TRY(ms_buf_append(arena, text, text_len));
        ENSURE(arena->len - start <= LLMSIM_MAX_CONTENT, MS_ERR_JSON_TOO_LONG);
        first = false;
    }
    m->content_len = arena->len - start;
    return ms_buf_append_u8(arena, '\0');
}

static ms_err decode_content(llmsim_api api, ms_json_val msg, ms_buf *arena, llmsim_msg *m)
{
    ms_json_val v;
    size_t n;
    m->content = "";
    m->content_len = 0;
    TRY(get_nullable(msg, "content", &v));
    if (!present(v)) {
        return MS_OK;
    }
    if (api == LLMSIM_API_OPENAI && ms_json_type_of(v) == MS_JSON_ARRAY) {
        ms_json_val parts;
        TRY(ms_json_as_arr(v, LLMSIM_MAX_PARTS, &parts, &n));
        return join_parts(parts, arena, m);
    }
    return ms_json_as_str(v, LLMSIM_MAX_CONTENT, &m->content, &m->content_len);
}

static ms_err decode_message(llmsim_api api, ms_json_val elem, ms_buf *arena, llmsim_msg *m,
                             const char **field)
{
    ms_json_val obj;
    size_t role_len;
    *field = "";
    TRY(ms_json_as_obj(elem, &obj));
    *field = ".role";
    TRY(ms_json_get_str(obj, "role", LLMSIM_MAX_ROLE, &m->role, &role_len));
    ENSURE(role_len > 0, MS_ERR_JSON_MISSING);
    *field = ".content";
    return decode_content(api, obj, arena, m);
}

static ms_err decode_messages(llmsim_api api, ms_json_val root, llmsim_request *r, char *why,
                              size_t why_cap)
{
    ms_json_val v, arr = {.node_ = NULL};
    size_t n = 0, i = 0;
    ms_err e = get_nullable(root, "messages", &v);
    if (e == MS_OK && present(v)) {
        e = ms_json_as_arr(v, LLMSIM_MAX_MESSAGES, &arr, &n);
    } else if (e == MS_OK && api == LLMSIM_API_OPENAI) {
        e = MS_ERR_JSON_MISSING;
    }
    if (e != MS_OK) {
        return fail(why, why_cap, e, "messages");
    }
    r->msgs = calloc(n > 0 ? n : 1, sizeof *r->msgs);
    ENSURE(r->msgs != NULL, MS_ERR_NOMEM);
    ms_json_iter it = ms_json_iter_init(arr);
    ms_json_val elem;
    while (i < n && ms_json_iter_next(&it, &elem, NULL)) {
        const char *field;
        e = decode_message(api, elem, &r->arena_, &r->msgs[i], &field);
        if (e != MS_OK) {
            char name[FIELD_LEN];
            snprintf(name, sizeof name, "messages[%zu]%s", i, field);
            return fail(why, why_cap, e, name);
        }
        i++;
    }
    r->n_msgs = n;
    /* The arena may have moved while it grew: point into it only now. */
    for (i = 0; i < n; i++) {
        if (r->msgs[i].in_arena_) {
            r->msgs[i].content = (const char *)r->arena_.p + r->msgs[i].arena_off_;
        }
    }
    return MS_OK;
}

static ms_err decode_openai_limits(ms_json_val root, llmsim_request *r, const char **field)
{
    /* max_completion_tokens is the current name and wins over the older max_tokens. */
    static const char *const keys[] = {"max_completion_tokens", "max_tokens"};
    ms_json_val v;
    for (size_t k = 0; k < 2; k++) {
        int64_t t;
        *field = keys[k];
        TRY(get_nullable(root, keys[k], &v));
        if (present(v)) {
            TRY(ms_json_as_i64(v, 1, INT32_MAX, &t));
            r->max_tokens = r->max_tokens == 0 ? (uint64_t)t : r->max_tokens;
        }
    }
    *field = "temperature";
    TRY(get_nullable(root, "temperature", &v));
    if (present(v)) {
        double t;
        TRY(ms_json_as_double(v, 0.0, 2.0, &t));
    }
    *field = "stream_options";
    TRY(get_nullable(root, "stream_options", &v));
    if (present(v)) {
        ms_json_val opts, inc;
        TRY(ms_json_as_obj(v, &opts));
        *field = "stream_options.include_usage";
        TRY(get_nullable(opts, "include_usage", &inc));
        if (present(inc)) {
            TRY(ms_json_as_bool(inc, &r->include_usage));
        }
    }
    return MS_OK;
}

static ms_err decode_ollama_options(ms_json_val root, llmsim_request *r, const char **field)
{
    ms_json_val v, opts, np;
    *field = "options";
    TRY(get_nullable(root, "options", &v));
    if (!present(v)) {
        return MS_OK;
    }
    TRY(ms_json_as_obj(v, &opts));
    *field = "options.num_predict";
    TRY(get_nullable(opts, "num_predict", &np));
    if (present(np)) {
        double d;
        TRY(ms_json_as_double(np, -1e15, 1e15, &d));
        r->max_tokens = d >= 1.0 ? (uint64_t)d : 0;
    }
    return MS_OK;
}

static ms_err decode_root(llmsim_api api, ms_json_val root, llmsim_request *r, char *why,
                          size_t why_cap)
{
    ms_json_val v;
    const char *field = "model";
    ms_err e = get_nullable(root, "model", &v);
    if (e == MS_OK && present(v)) {
        e = ms_json_as_str(v, LLMSIM_MAX_MODEL, &r->model, &r->model_len);
    }
    if (e == MS_OK && r->model_len == 0) {
        r->model = NULL;
    }
    if (e == MS_OK) {
        field = "stream";
        r->stream = api == LLMSIM_API_OLLAMA;
        e = get_nullable(root, "stream", &v);
    }
    if (e == MS_OK && present(v)) {
        e = ms_json_as_bool(v, &r->stream);
    }
    if (e == MS_OK) {
        e = api == LLMSIM_API_OPENAI ? decode_openai_limits(root, r, &field)
                                     : decode_ollama_options(root, r, &field);
    }
    if (e != MS_OK) {
        return fail(why, why_cap, e, field);
    }
    return decode_messages(api, root, r, why, why_cap);
}

ms_err llmsim_request_decode(llmsim_api api, const char *p, size_t len, llmsim_request *out,
                             char *why, size_t why_cap)
{
    memset(out, 0, sizeof *out);
    ms_buf_init(&out->arena_, ARENA_MAX);
    if (why_cap > 0) {
        why[0] = '\0';
    }
    if (len == 0) {
        return fail(why, why_cap, MS_ERR_JSON_PARSE, "missing request body");
    }
    if (len > LLMSIM_MAX_BODY) {
        return fail(why, why_cap, MS_ERR_CAP_EXCEEDED, "body");
    }
    ms_err e = ms_json_parse(p, len, &out->doc_);
    if (e != MS_OK) {
        return fail(why, why_cap, e, "body");
    }
    ms_json_val root = ms_json_root(out->doc_);
    if (ms_json_type_of(root) != MS_JSON_OBJECT) {
        e = fail(why, why_cap, MS_ERR_JSON_TYPE, "body (must be a JSON object)");
    } else {
        e = decode_root(api, root, out, why, why_cap);
    }
    if (e != MS_OK) {
        llmsim_request_free(out);
    }
    return e;
}

void llmsim_request_free(llmsim_request *r)
{
    if (r == NULL) {
        return;
    }
    free(r->msgs);
    ms_buf_free(&r->arena_);
    ms_json_free(r->doc_);
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->arena_, ARENA_MAX);
}

uint64_t llmsim_request_prompt_tokens(const llmsim_request *r)
{
    uint64_t total = 0;
    for (size_t i = 0; i < r->n_msgs; i++) {
        total += llmsim_tokens_count(r->msgs[i].content, r->msgs[i].content_len);
    }
    return total;
}

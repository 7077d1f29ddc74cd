/* POST /v1/chat/completions bodies: the OpenAI request read with the typed reader, checked,
   and built again as the §12.3 request the channel carries. */
#include <string.h>

#include "common/check.h"
#include "common/json.h"
#include "gateway/chat_req.h"
#include "secure/client/payload.h"

/* Fields that are read and ignored (they change nothing the supervisor could honour). */
static const char *const IGNORED[] = {"top_p", "presence_penalty", "frequency_penalty", "seed",
                                      "user", "store", "metadata", "service_tier",
                                      "parallel_tool_calls"};

static bool is_null(ms_json_val v)
{
    return ms_json_type_of(v) == MS_JSON_NULL;
}

static bool ignored(const char *key)
{
    for (size_t i = 0; i < sizeof IGNORED / sizeof IGNORED[0]; i++) {
        if (strcmp(key, IGNORED[i]) == 0) {
            return true;
        }
    }
    return false;
}

typedef struct parse {
    ms_chat_msg msgs[MS_MAX_CHAT_MESSAGES];
    ms_chat_image images[MS_MAX_REQUEST_IMAGES];
    size_t n_msgs, n_images;
} parse;

/* One content part: the text (at most one), or an image (user messages only). */
static ms_err read_part(parse *p, ms_json_val part, bool user, ms_chat_msg *m, bool *have_text)
{
    static const char *const TYPES[] = {"text", "image_url"};
    size_t type;
    ms_json_val v, iu;
    const char *key;
    TRY(ms_json_get_enum(part, "type", TYPES, 2, &type));
    ms_json_iter it = ms_json_iter_init(part);
    while (ms_json_iter_next(&it, &v, &key)) { /* no field the channel would not carry */
        ENSURE(strcmp(key, "type") == 0 || strcmp(key, TYPES[type]) == 0, MS_ERR_GW_REQUEST);
    }
    if (type == 0) {
        ENSURE(!*have_text, MS_ERR_GW_REQUEST); /* §12.3: one text part per message */
        *have_text = true;
        return ms_json_get_str(part, "text", MS_GW_MAX_CHAT_BODY, &m->content,
                               &m->content_len);
    }
    ENSURE(user && p->n_images < MS_MAX_REQUEST_IMAGES, MS_ERR_GW_REQUEST);
    TRY(ms_json_get_obj(part, "image_url", &iu));
    const char *url;
    size_t url_len;
    it = ms_json_iter_init(iu);
    while (ms_json_iter_next(&it, &v, &key)) { /* "detail" is a hint for OpenAI's own models */
        ENSURE(strcmp(key, "url") == 0 || strcmp(key, "detail") == 0, MS_ERR_GW_REQUEST);
    }
    TRY(ms_json_get_str(iu, "url", MS_MAX_RECORD_PLAINTEXT, &url, &url_len));
    TRY(ms_chat_image_from_url(url, url_len, &p->images[p->n_images]));
    if (m->n_images == 0) {
        m->images = &p->images[p->n_images];
    }
    m->n_images++;
    p->n_images++;
    return MS_OK;
}

static ms_err read_message(parse *p, ms_json_val mv)
{
    static const char *const ROLES[] = {"system", "developer", "user", "assistant"};
    size_t role, n_parts;
    ms_json_val content, parts, v;
    const char *key;
    ms_chat_msg *m = &p->msgs[p->n_msgs];
    memset(m, 0, sizeof *m);
    TRY(ms_json_as_obj(mv, &mv)); /* before its keys are read: an array's elements have none */
    ms_json_iter it = ms_json_iter_init(mv);
    while (ms_json_iter_next(&it, &v, &key)) {
        ENSURE(strcmp(key, "role") == 0 || strcmp(key, "content") == 0 || strcmp(key, "name") == 0,
               MS_ERR_GW_REQUEST);
    }
    TRY(ms_json_get_enum(mv, "role", ROLES, 4, &role));
    m->role = role == 1 ? "system" : ROLES[role];
    TRY(ms_json_get(mv, "content", &content));
    if (ms_json_type_of(content) == MS_JSON_STRING) {
        TRY(ms_json_as_str(content, MS_GW_MAX_CHAT_BODY, &m->content, &m->content_len));
    } else {
        bool have_text = false;
        TRY(ms_json_as_arr(content, MS_MAX_MSG_PARTS, &parts, &n_parts));
        ENSURE(n_parts >= 1, MS_ERR_GW_REQUEST);
        it = ms_json_iter_init(parts);
        while (ms_json_iter_next(&it, &v, NULL)) {
            TRY(read_part(p, v, role == 2, m, &have_text));
        }
        if (!have_text) {
            m->content = "";
        }
    }
    p->n_msgs++;
    return MS_OK;
}

static ms_err read_stop(ms_gw_chat_req *r, ms_json_val v)
{
    ms_json_val e;
    const char *s;
    size_t n, count = 1;
    if (ms_json_type_of(v) == MS_JSON_ARRAY) {
        TRY(ms_json_as_arr(v, MS_GW_MAX_STOP, &v, &count));
    }
    for (size_t i = 0; i < count; i++) {
        if (ms_json_type_of(v) == MS_JSON_ARRAY) {
            TRY(ms_json_arr_at(v, i, &e));
        } else {
            e = v;
        }
        TRY(ms_json_as_str(e, MS_GW_MAX_STOP_LEN, &s, &n));
        ENSURE(n > 0, MS_ERR_GW_REQUEST);
        memcpy(r->stop[r->n_stop], s, n);
        r->stop[r->n_stop][n] = 0;
        r->stop_len[r->n_stop++] = n;
    }
    return MS_OK;
}

/* One top-level member. *param names it for the error. */
static ms_err read_member(ms_gw_chat_req *r, parse *p, ms_json_val root, const char *key,
                          ms_json_val v)
{
    const char *s;
    size_t n;
    int64_t i64;
    bool b;
    if (strcmp(key, "messages") == 0) {
        ms_json_val arr, mv;
        TRY(ms_json_as_arr(v, MS_MAX_CHAT_MESSAGES, &arr, &n));
        ENSURE(n >= 1, MS_ERR_GW_REQUEST);
        ms_json_iter it = ms_json_iter_init(arr);
        while (ms_json_iter_next(&it, &mv, NULL)) {
            TRY(read_message(p, mv));
        }
        return MS_OK;
    }
    if (ignored(key) || is_null(v)) {
        return MS_OK;
    }
    if (strcmp(key, "model") == 0) {
        TRY(ms_json_as_str(v, sizeof r->model - 1, &s, &n));
        memcpy(r->model, s, n + 1);
        return MS_OK;
    }
    if (strcmp(key, "stream") == 0) {
        return ms_json_as_bool(v, &r->stream);
    }
    if (strcmp(key, "stream_options") == 0) {
        ms_json_val o = v, x;
        const char *k;
        ms_json_iter it = ms_json_iter_init(o);
        TRY(ms_json_as_obj(v, &o));
        while (ms_json_iter_next(&it, &x, &k)) {
            ENSURE(strcmp(k, "include_usage") == 0, MS_ERR_GW_REQUEST);
        }
        return ms_json_get_bool_opt(o, "include_usage", false, &r->include_usage);
    }
    if (strcmp(key, "max_tokens") == 0 || strcmp(key, "max_completion_tokens") == 0) {
        TRY(ms_json_as_i64(v, 1, 1000000, &i64));
        r->max_tokens = (long)i64;
        return MS_OK;
    }
    if (strcmp(key, "temperature") == 0) {
        return ms_json_as_double(v, 0.0, 2.0, &r->temperature);
    }
    if (strcmp(key, "stop") == 0) {
        return read_stop(r, v);
    }
    if (strcmp(key, "n") == 0) {
        return ms_json_as_i64(v, 1, 1, &i64); /* one choice: the supervisor gives one reply */
    }
    if (strcmp(key, "logprobs") == 0) {
        TRY(ms_json_as_bool(v, &b));
        ENSURE(!b, MS_ERR_GW_REQUEST);
        return MS_OK;
    }
    if (strcmp(key, "response_format") == 0) {
        static const char *const TEXT[] = {"text"};
        size_t t;
        (void)root;
        return ms_json_get_enum(v, "type", TEXT, 1, &t);
    }
    return MS_ERR_GW_REQUEST; /* tools, functions, anything this gateway cannot honour */
}

/* Static names for the fields an error may point at. */
static const char *param_name(const char *key)
{
    static const char *const KNOWN[] = {"messages", "model", "stream", "stream_options",
                                        "max_tokens", "max_completion_tokens", "temperature",
                                        "stop", "n", "logprobs", "response_format", "tools",
                                        "tool_choice", "functions", "function_call"};
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++) {
        if (strcmp(key, KNOWN[i]) == 0) {
            return KNOWN[i];
        }
    }
    return "(an unknown field)";
}

ms_err ms_gw_chat_req_parse(const char *body, size_t len, ms_gw_chat_req *out,
                            const char **param)
{
    ms_err err = MS_OK;
    ms_json_doc *doc = NULL;
    ms_json_val root, v;
    const char *key;
    /* ~11 KiB on the caller's stack (a connection thread's, 8 MiB): not a heap block a
       request; not zeroed, each entry is set where it is taken; it holds pointers into the
       document, not its bytes */
    parse pa, *p = &pa;
    memset(out, 0, sizeof *out);
    ms_buf_init(&out->channel, MS_MAX_RECORD_PLAINTEXT);
    out->temperature = -1.0;
    *param = NULL;
    p->n_msgs = p->n_images = 0;
    TRY_OUT(ms_json_parse(body, len, &doc));
    root = ms_json_root(doc);
    ENSURE_OUT(ms_json_type_of(root) == MS_JSON_OBJECT, MS_ERR_JSON_TYPE);
    ms_json_iter it = ms_json_iter_init(root);
    while (ms_json_iter_next(&it, &v, &key)) {
        *param = param_name(key);
        TRY_OUT(read_member(out, p, root, key, v));
    }
    *param = "messages";
    ENSURE_OUT(p->n_msgs >= 1, MS_ERR_JSON_MISSING);
    TRY_OUT(ms_client_request_build_msgs(p->msgs, p->n_msgs, out->max_tokens, out->temperature,
                                         &out->channel));
    *param = NULL;
out:
    ms_json_free(doc);
    return err;
}

void ms_gw_chat_req_free(ms_gw_chat_req *r)
{
    ms_buf_free(&r->channel);
    ms_wipe(r->stop, sizeof r->stop);
}

bool ms_gw_chat_find_stop(const ms_gw_chat_req *r, const char *text, size_t len, size_t *at)
{
    if (r->n_stop == 0) {
        return false;
    }
    for (size_t k = 0; k < len; k++) { /* the earliest position where any of them starts */
        for (size_t i = 0; i < r->n_stop; i++) {
            if (r->stop_len[i] <= len - k && memcmp(text + k, r->stop[i], r->stop_len[i]) == 0) {
                *at = k;
                return true;
            }
        }
    }
    return false;
}

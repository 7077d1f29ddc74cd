/* Model bridge: checks a decrypted §12.3 request, asks the engine, builds the sealed reply. */
#include "secure/supervisor/bridge.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/http.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/llm/chat.h"
#include "common/log.h"
#include "common/llm/pool.h"
#include "secure/suite.h"

#define POOL_MAX 32u
#define MAX_TURN_MESSAGES 256u

struct ms_bridge {
    ms_llm_engine eng; /* OpenAI-compatible; its strings are the copies below */
    int retries;
    char *base_url;
    char *model;
    char *api_key;
    pthread_mutex_t lock;
    ms_llm_conn *pool[POOL_MAX];
    size_t npool;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

ms_err ms_bridge_new(ms_bridge **out, const ms_bridge_cfg *cfg)
{
    *out = NULL;
    ENSURE(cfg->base_url && cfg->model && cfg->timeout_ms > 0, MS_ERR_ARG);
    TRY(ms_http_global_init()); /* once, before any turn's thread needs libcurl */
    ms_bridge *b = calloc(1, sizeof *b);
    ENSURE(b != NULL, MS_ERR_NOMEM);
    b->base_url = dup_str(cfg->base_url);
    b->model = dup_str(cfg->model);
    b->api_key = cfg->api_key ? dup_str(cfg->api_key) : NULL;
    if (!b->base_url || !b->model || (cfg->api_key && !b->api_key) ||
        pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b->base_url);
        free(b->model);
        free(b->api_key);
        free(b);
        return MS_ERR_NOMEM;
    }
    b->eng = (ms_llm_engine){.kind = MS_LLM_OPENAI, .base_url = b->base_url, .model = b->model,
                             .api_key = b->api_key, .backoff_base_ms = 200,
                             .max_retry_wait_ms = 5000, .timeout_ms = cfg->timeout_ms,
                             .connect_timeout_ms = cfg->connect_timeout_ms};
    b->retries = cfg->max_retries > 0 ? cfg->max_retries : 0;
    *out = b;
    return MS_OK;
}

void ms_bridge_free(ms_bridge *b)
{
    if (!b) {
        return;
    }
    for (size_t i = 0; i < b->npool; i++) {
        ms_llm_conn_free(b->pool[i]);
    }
    if (b->api_key) {
        ms_wipe(b->api_key, strlen(b->api_key));
        free(b->api_key);
    }
    free(b->base_url);
    free(b->model);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

size_t ms_bridge_prune(ms_bridge *b)
{
    ms_llm_conn *dead[POOL_MAX];
    size_t n = 0, kept = 0;
    if (b == NULL) {
        return 0;
    }
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->npool; i++) {
        if (ms_llm_conn_closed(b->pool[i])) {
            dead[n++] = b->pool[i];
        } else {
            b->pool[kept++] = b->pool[i];
        }
    }
    b->npool = kept;
    pthread_mutex_unlock(&b->lock);
    for (size_t i = 0; i < n; i++) {
        ms_llm_conn_free(dead[i]);
    }
    if (n > 0) {
        ms_log(MS_LOG_DEBUG, "bridge", "dropped %zu engine connection(s) the engine had closed",
               n);
    }
    return n;
}

/*
 * Engine connections are not thread-safe: each turn borrows one (kept alive, reused). No
 * liveness poll here: libcurl polls an idle connection before it reuses it and connects
 * anew when the engine has closed it (the poll here was a second one, one system call of
 * about 16 a turn); connections the engine closed while pooled are dropped by
 * ms_bridge_prune.
 */
static ms_err borrow(ms_bridge *b, ms_llm_conn **out)
{
    *out = NULL;
    pthread_mutex_lock(&b->lock);
    ms_llm_conn *c = b->npool > 0 ? b->pool[--b->npool] : NULL;
    pthread_mutex_unlock(&b->lock);
    if (c == NULL) {
        return ms_llm_conn_new(&b->eng, b->retries, out);
    }
    *out = c;
    return MS_OK;
}

static void give_back(ms_bridge *b, ms_llm_conn *c, int healthy)
{
    pthread_mutex_lock(&b->lock);
    if (healthy && b->npool < POOL_MAX) {
        b->pool[b->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    ms_llm_conn_free(c);
}

/* A decoded §12.3 request; its strings borrow from `doc`. */
typedef struct turn_req {
    ms_json_doc *doc;
    ms_chat_msg msgs[MAX_TURN_MESSAGES];
    size_t n;
    ms_chat_image imgs[MS_MAX_REQUEST_IMAGES]; /* every message's images, in order */
    size_t nimgs;
    ms_chat_opts opts;
} turn_req;

static const char *const ROLES[] = {"system", "user", "assistant"};
static const char *const PART_TYPES[] = {"text", "image_url"};

/* Every member of obj is `a` or `b`: what §12.3 does not list never reaches the engine. */
static ms_err only_keys(ms_json_val obj, const char *a, const char *b)
{
    ms_json_val x;
    const char *key;
    ms_json_iter it = ms_json_iter_init(obj);
    while (ms_json_iter_next(&it, &x, &key)) {
        ENSURE(strcmp(key, a) == 0 || (b && strcmp(key, b) == 0), MS_ERR_PAYLOAD);
    }
    return MS_OK;
}

/* {"url": "data:image/...;base64,..."}: typed, capped, and the bytes are the type named. */
static ms_err decode_image(ms_json_val part, turn_req *t, ms_chat_msg *m)
{
    ms_json_val iu;
    const char *url;
    size_t len;
    ENSURE(strcmp(m->role, "user") == 0 && t->nimgs < MS_MAX_REQUEST_IMAGES, MS_ERR_PAYLOAD);
    TRY(ms_json_get_obj(part, "image_url", &iu));
    TRY(only_keys(iu, "url", NULL));
    TRY(ms_json_get_str(iu, "url", MS_MAX_RECORD_PLAINTEXT, &url, &len));
    TRY(ms_chat_image_from_url(url, len, &t->imgs[t->nimgs]));
    t->nimgs++;
    m->n_images++;
    return MS_OK;
}

/* Content parts (§12.3): at most one text part, images in user messages only. */
static ms_err decode_parts(ms_json_val arr, turn_req *t, ms_chat_msg *m)
{
    ms_json_val parts, part;
    size_t n, idx;
    bool have_text = false;
    TRY(ms_json_as_arr(arr, MS_MAX_MSG_PARTS, &parts, &n));
    ENSURE(n >= 1, MS_ERR_PAYLOAD);
    m->content = "";
    m->images = &t->imgs[t->nimgs];
    ms_json_iter it = ms_json_iter_init(parts);
    while (ms_json_iter_next(&it, &part, NULL)) {
        TRY(ms_json_as_obj(part, &part));
        TRY(ms_json_get_enum(part, "type", PART_TYPES, 2, &idx));
        TRY(only_keys(part, "type", idx == 0 ? "text" : "image_url"));
        if (idx == 1) {
            TRY(decode_image(part, t, m));
            continue;
        }
        ENSURE(!have_text, MS_ERR_PAYLOAD);
        have_text = true;
        TRY(ms_json_get_str(part, "text", MS_MAX_RECORD_PLAINTEXT, &m->content, &m->content_len));
    }
    if (m->n_images == 0) {
        m->images = NULL;
    }
    return MS_OK;
}

static ms_err decode_msg(ms_json_val v, turn_req *t, ms_chat_msg *m)
{
    ms_json_val obj, content;
    size_t idx;
    TRY(ms_json_as_obj(v, &obj));
    TRY(only_keys(obj, "role", "content"));
    TRY(ms_json_get_enum(obj, "role", ROLES, 3, &idx));
    m->role = ROLES[idx];
    TRY(ms_json_get(obj, "content", &content));
    if (ms_json_type_of(content) == MS_JSON_ARRAY) {
        return decode_parts(content, t, m);
    }
    return ms_json_as_str(content, MS_MAX_RECORD_PLAINTEXT, &m->content, &m->content_len);
}

static ms_err decode_fields(turn_req *t)
{
    ms_json_val root = ms_json_root(t->doc), x, arr;
    const char *key;
    size_t n;
    int64_t max_tokens;
    TRY(ms_json_as_obj(root, &root));
    ms_json_iter it = ms_json_iter_init(root);
    while (ms_json_iter_next(&it, &x, &key)) {
        ENSURE(strcmp(key, "messages") == 0 || strcmp(key, "max_tokens") == 0 ||
                   strcmp(key, "temperature") == 0,
               MS_ERR_PAYLOAD); /* only what the spec lists reaches the engine */
    }
    TRY(ms_json_get_arr(root, "messages", MAX_TURN_MESSAGES, &arr, &n));
    ENSURE(n >= 1, MS_ERR_PAYLOAD);
    for (size_t i = 0; i < n; i++) {
        TRY(ms_json_arr_at(arr, i, &x));
        TRY(decode_msg(x, t, &t->msgs[i]));
    }
    t->n = n;
    ms_chat_opts_init(&t->opts);
    TRY(ms_json_get_i64_opt(root, "max_tokens", 1, 1000000, 0, &max_tokens));
    t->opts.max_tokens = (int)max_tokens;
    return ms_json_get_double_opt(root, "temperature", 0.0, 2.0, -1.0, &t->opts.temperature);
}

static ms_err decode_request(const uint8_t *req, size_t len, turn_req *t)
{
    memset(t, 0, sizeof *t);
    ENSURE(ms_json_parse((const char *)req, len, &t->doc) == MS_OK, MS_ERR_PAYLOAD);
    return decode_fields(t) == MS_OK ? MS_OK : MS_ERR_PAYLOAD;
}

ms_err ms_bridge_check_request(const uint8_t *req, size_t len)
{
    turn_req *t = malloc(sizeof *t);
    ENSURE(t != NULL, MS_ERR_NOMEM);
    ms_err e = decode_request(req, len, t);
    ms_json_free(t->doc);
    free(t);
    return e;
}

static const char *error_code(ms_err e)
{
    switch (e) {
    case MS_ERR_PAYLOAD: return "bad_request";
    case MS_ERR_BACKEND_UNAVAILABLE: return "backend_unavailable";
    case MS_ERR_BACKEND_TIMEOUT: return "backend_timeout";
    case MS_ERR_CAP_EXCEEDED: return "reply_too_large";
    default: return "backend_error";
    }
}

/* {"ok":false,"error":{"code":...,"message":...}}: what went wrong, never the request. */
static ms_err build_error(ms_err e, const ms_chat_result *res, ms_buf *out)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s", ms_err_str(e));
    if (res && res->http_status >= 400 && n > 0 && (size_t)n < sizeof msg) {
        n += snprintf(msg + n, sizeof msg - (size_t)n, " (HTTP %ld%s%s)", res->http_status,
                      res->error_text[0] ? ": " : "", res->error_text);
    } else if (res && res->error_text[0] && n > 0 && (size_t)n < sizeof msg) {
        /* an error object after a 200 stream began: the engine's own message */
        n += snprintf(msg + n, sizeof msg - (size_t)n, " (%s)", res->error_text);
    }
    if (res && res->retry_after_s > 0 && n > 0 && (size_t)n < sizeof msg) {
        snprintf(msg + n, sizeof msg - (size_t)n,
                 "; the engine is busy and asked to be retried after %ld s", res->retry_after_s);
    }
    ms_json_builder *b;
    ms_json_wval root, err;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err r = ms_json_add_bool(root, "ok", false);
    r = r ? r : ms_json_add_obj(root, "error", &err);
    r = r ? r : ms_json_add_cstr(err, "code", error_code(e));
    r = r ? r : ms_json_add_cstr(err, "message", msg);
    r = r ? r : ms_json_builder_print(b, out);
    ms_json_builder_free(b);
    return r;
}

/* The reply's content: text, or the engine's string body as it escaped it (chat.h). */
typedef struct content_view {
    const char *p;
    size_t len;
    bool escaped;
    bool in_place; /* escaped, and already where the reply's JSON puts it (build_in_place) */
} content_view;

/* The content's JSON string: an escaped body (checked by the engine reply's parse) between
 * quotes as it is, else the text escaped here. */
static ms_err content_size(const content_view *c, size_t *size)
{
    if (c->escaped) {
        *size = c->len + 2;
        return MS_OK;
    }
    return ms_json_str_size(c->p, c->len, size);
}

static ms_err put_content(ms_buf *out, const content_view *c, size_t size)
{
    if (!c->escaped) {
        return ms_json_put_str(out, c->p, c->len, size);
    }
    uint8_t *at = NULL;
    ms_err e = ms_buf_append(out, "\"", 1);
    if (e == MS_OK && c->in_place) {
        e = ms_buf_extend(out, c->len, &at);
        ENSURE(e != MS_OK || at == (const uint8_t *)c->p, MS_ERR_INTERNAL);
    } else {
        e = e ? e : ms_buf_append(out, c->p, c->len);
    }
    return e ? e : ms_buf_append(out, "\"", 1);
}

/*
 * {"ok":true,"content":...,"finish_reason":...,"usage":{...}} written straight into reply:
 * its exact size first, one reservation (with MS_TAG_LEN spare: the caller seals in place),
 * then one pass from the engine's text (or its escaped string, carried as it is) to the
 * reply. At most MS_MAX_RECORD_PLAINTEXT bytes.
 */
static const char OK_HEAD[] = "{\"ok\":true", OK_CK[] = ",\"content\":",
                  OK_FK[] = ",\"finish_reason\":";

/* The ok reply's size (at most MS_MAX_RECORD_PLAINTEXT) and its usage member. */
static ms_err ok_size(const ms_chat_result *res, const content_view *c, char usage[static 96],
                      size_t *u, size_t *finish, size_t *content, size_t *total)
{
    *content = 0;
    TRY(ms_json_str_size(res->finish_reason, strlen(res->finish_reason), finish));
    if (c) {
        TRY(content_size(c, content));
    }
    int n = snprintf(usage, 96, ",\"usage\":{\"prompt_tokens\":%llu,\"completion_tokens\":%llu}}",
                     (unsigned long long)res->prompt_tokens,
                     (unsigned long long)res->completion_tokens);
    ENSURE(n > 0 && n < 96, MS_ERR_INTERNAL);
    *u = (size_t)n;
    *total = sizeof OK_HEAD - 1 + (c ? sizeof OK_CK - 1 + *content : 0) + sizeof OK_FK - 1 +
             *finish + *u;
    ENSURE(*total <= MS_MAX_RECORD_PLAINTEXT, MS_ERR_CAP_EXCEEDED);
    return MS_OK;
}

static ms_err build_ok(const ms_chat_result *res, const content_view *c, ms_buf *out)
{
    char usage[96];
    size_t content, finish, u, total;
    TRY(ok_size(res, c, usage, &u, &finish, &content, &total));
    TRY(ms_buf_reserve(out, total + MS_TAG_LEN));
    size_t mark = out->len;
    ms_err e = ms_buf_append(out, OK_HEAD, sizeof OK_HEAD - 1);
    if (e == MS_OK && c && (e = ms_buf_append(out, OK_CK, sizeof OK_CK - 1)) == MS_OK) {
        e = put_content(out, c, content);
    }
    e = e ? e : ms_buf_append(out, OK_FK, sizeof OK_FK - 1);
    e = e ? e : ms_json_put_str(out, res->finish_reason, strlen(res->finish_reason), finish);
    e = e ? e : ms_buf_append(out, usage, u);
    if (e != MS_OK) {
        ms_err s2 = ms_buf_shrink(out, out->len - mark);
        (void)s2;
    }
    return e;
}

/*
 * The ok reply. An escaped content that would not fit where its decoded text, escaped the
 * way the builder does, might (an engine that writes every non-ASCII character as \uXXXX):
 * decoded and written as text, so the cap judges the same reply as before.
 */
/*
 * An escaped content whose buffer (the engine's body, ms_openai_take_body) has room for what
 * `reply` holds already (the caller's record header room), the reply's JSON around the
 * content and the tag: the content is moved behind that room and the JSON's head, the reply
 * written around it, and that buffer becomes `reply` (*done). The content then has one
 * plaintext copy, the one the caller's seal overwrites, and needs no wipe of its own; res's
 * content is left empty. Otherwise nothing changes and build_ok copies it.
 */
static ms_err build_in_place(ms_chat_result *res, ms_buf *reply, bool *done)
{
    ms_buf *cb = &res->content;
    char usage[96];
    size_t content, finish, u, total, mark = reply->len;
    *done = false;
    content_view c = {(const char *)cb->p, cb->len, true, false};
    if (!res->content_escaped || cb->p == NULL ||
        ok_size(res, &c, usage, &u, &finish, &content, &total) != MS_OK ||
        total + MS_TAG_LEN > reply->max - mark || cb->cap < mark + total + MS_TAG_LEN) {
        return MS_OK;
    }
    size_t lead = mark + sizeof OK_HEAD - 1 + sizeof OK_CK - 1 + 1; /* the opening quote */
    ms_buf out = {.p = cb->p, .len = mark, .cap = cb->cap, .max = reply->max};
    memmove(cb->p + lead, cb->p, cb->len);
    if (mark > 0) {
        memcpy(out.p, reply->p, mark);
    }
    c.p = (const char *)cb->p + lead;
    c.in_place = true;
    ms_err e = build_ok(res, &c, &out);
    *cb = (ms_buf){.max = cb->max}; /* its buffer is out's now */
    if (e != MS_OK) {
        ms_buf_free(&out); /* wipes the moved content */
        return e;
    }
    ms_buf_free(reply);
    *reply = out;
    *done = true;
    return MS_OK;
}

static ms_err build_reply(ms_chat_result *res, int stream, ms_buf *out)
{
    bool done = false;
    if (!stream) {
        TRY(build_in_place(res, out, &done));
        if (done) {
            return MS_OK;
        }
    }
    content_view c = {(const char *)res->content.p, res->content.len, res->content_escaped, false};
    ms_err e = build_ok(res, stream ? NULL : &c, out);
    if (e != MS_ERR_CAP_EXCEEDED || stream || !c.escaped) {
        return e;
    }
    ms_buf text;
    ms_buf_init(&text, MS_MAX_LLM_REPLY);
    e = ms_json_unescape(c.p, c.len, &text);
    c = (content_view){(const char *)text.p, text.len, false, false};
    e = e ? e : build_ok(res, &c, out);
    ms_buf_free(&text);
    return e;
}

/* After the engine call ended with e: the reply (or error reply) into `reply`, as
   ms_bridge_turn returns it; res is freed (wiped). */
static ms_err end_turn(ms_err e, ms_chat_result *res, int stream, ms_buf *reply)
{
    if (e == MS_ERR_IO || e == MS_ERR_NOMEM) { /* the reader went away, or we are out of memory */
        ms_chat_result_free(res);
        return e;
    }
    size_t mark = reply->len;
    e = e == MS_OK ? build_reply(res, stream, reply) : build_error(e, res, reply);
    if (e == MS_ERR_CAP_EXCEEDED) {
        /* A whole reply must fit in one record: a longer one is reported, not cut. */
        ms_err s2 = ms_buf_shrink(reply, reply->len - mark);
        (void)s2;
        e = build_error(MS_ERR_CAP_EXCEEDED, NULL, reply);
    }
    ms_chat_result_free(res);
    return e;
}

/* The request decoded into a fresh turn_req (*t; NULL when out of memory); MS_ERR_PAYLOAD
   with the bad_request reply appended when it breaks §12.3. */
static ms_err open_request(const uint8_t *req, size_t len, ms_buf *reply, turn_req **t)
{
    *t = malloc(sizeof **t);
    ENSURE(*t != NULL, MS_ERR_NOMEM);
    if (decode_request(req, len, *t) == MS_OK) {
        return MS_OK;
    }
    ms_err be = build_error(MS_ERR_PAYLOAD, NULL, reply);
    ms_json_free((*t)->doc);
    free(*t);
    *t = NULL;
    return be != MS_OK ? be : MS_ERR_PAYLOAD;
}

/* The request's text is wiped with the document: it was the user's turn. */
static void drop_request(turn_req *t)
{
    ms_json_free(t->doc);
    ms_wipe(t, sizeof *t);
    free(t);
}

ms_err ms_bridge_turn(ms_bridge *b, const uint8_t *req, size_t len, int stream,
                      ms_bridge_piece_fn on_piece, void *ctx, ms_buf *reply)
{
    if (stream) { /* the one streamed path: the stepped call, stepped to its end */
        ms_bridge_stream *bs;
        bool done = false;
        ms_err e = MS_OK;
        TRY(ms_bridge_stream_open(b, req, len, on_piece, ctx, reply, &bs));
        while (!done) {
            e = ms_bridge_stream_step(bs, 1000, &done, reply);
        }
        ms_bridge_stream_close(bs);
        return e;
    }
    ms_chat_result res;
    ms_llm_conn *conn = NULL;
    turn_req *t;
    TRY(open_request(req, len, reply, &t));
    ms_chat_result_init(&res);
    res.keep_escaped = true; /* a long content goes into our reply as the engine escaped it */
    ms_err e = borrow(b, &conn);
    if (e == MS_OK) {
        e = ms_llm_conn_chat(conn, t->msgs, t->n, &t->opts, &res);
        give_back(b, conn, e == MS_OK);
    }
    drop_request(t);
    return end_turn(e, &res, 0, reply);
}

struct ms_bridge_stream {
    ms_bridge *b;
    ms_llm_conn *conn; /* borrowed from the pool while the engine call is open */
    ms_llm_pump *pump;
    ms_chat_result res;
    ms_err early;      /* the turn ended at open (a bad request, no connection): its result */
    bool done;
};

ms_err ms_bridge_stream_open(ms_bridge *b, const uint8_t *req, size_t len,
                             ms_bridge_piece_fn on_piece, void *ctx, ms_buf *reply,
                             ms_bridge_stream **out)
{
    turn_req *t;
    *out = NULL;
    ms_bridge_stream *bs = calloc(1, sizeof *bs);
    ENSURE(bs != NULL, MS_ERR_NOMEM);
    bs->b = b;
    ms_chat_result_init(&bs->res);
    bs->res.keep_escaped = true;
    ms_err e = open_request(req, len, reply, &t);
    if (e == MS_ERR_NOMEM || (e != MS_OK && e != MS_ERR_PAYLOAD)) {
        ms_bridge_stream_close(bs);
        return e;
    }
    if (e == MS_ERR_PAYLOAD) { /* the bad_request reply is in `reply` already */
        ms_chat_result_free(&bs->res);
        bs->early = e;
        bs->done = true;
        *out = bs;
        return MS_OK;
    }
    e = borrow(b, &bs->conn);
    if (e == MS_OK) {
        e = ms_llm_conn_pump_open(bs->conn, t->msgs, t->n, &t->opts, on_piece, ctx, &bs->res,
                                  &bs->pump);
        if (e != MS_OK) {
            give_back(b, bs->conn, 0);
            bs->conn = NULL;
        }
    }
    drop_request(t); /* the engine's request is built: the decoded turn is no longer needed */
    if (e != MS_OK) {
        bs->early = end_turn(e, &bs->res, 1, reply);
        bs->done = true;
        if (bs->early == MS_ERR_NOMEM) {
            ms_bridge_stream_close(bs);
            return MS_ERR_NOMEM;
        }
    }
    *out = bs;
    return MS_OK;
}

ms_err ms_bridge_stream_step(ms_bridge_stream *bs, int timeout_ms, bool *done, ms_buf *reply)
{
    bool ended = false;
    *done = bs->done;
    if (bs->done) {
        return bs->early;
    }
    ms_err e = ms_llm_pump_step(bs->pump, timeout_ms, &ended);
    if (!ended) {
        return e;
    }
    ms_llm_pump_close(bs->pump);
    bs->pump = NULL;
    give_back(bs->b, bs->conn, e == MS_OK);
    bs->conn = NULL;
    bs->done = true;
    *done = true;
    bs->early = end_turn(e, &bs->res, 1, reply);
    return bs->early;
}

void ms_bridge_stream_close(ms_bridge_stream *bs)
{
    if (bs == NULL) {
        return;
    }
    if (bs->pump != NULL) {
        /* The reader went away mid-answer: the transfer is aborted, its connection closed;
           the easy handle is dropped rather than pooled (a rare path, kept simple). */
        ms_llm_pump_close(bs->pump);
        give_back(bs->b, bs->conn, 0);
        ms_chat_result_free(&bs->res);
    }
    free(bs);
}

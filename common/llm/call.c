/* The request shell of every engine chat: body, attempts with retries, plain or streamed reply. */
#include "common/llm/engine.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/llm/ndjson.h"
#include "common/llm/pool.h"
#include "common/llm/sse.h"

/* One call: what every attempt sends. */
struct call {
    ms_http_client *http;
    const ms_llm_wire *w;
    const char *url;
    const ms_buf *body;
    ms_chat_delta_fn on_delta;
    void *ctx;
};

static ms_err plain_attempt(void *ctx, ms_chat_result *r, bool *retryable)
{
    const struct call *c = ctx;
    long status = 0;
    ms_buf resp;
    ms_buf_init(&resp, MS_MAX_LLM_RESPONSE);
    ms_err e = ms_http_post_json(c->http, c->url, c->w->api_key, (const char *)c->body->p,
                                 c->body->len, &status, &resp);
    e = ms_llm_outcome(e, status, &resp, r, retryable);
    if (e == MS_OK) { /* the engine's reply may become the content's buffer (take_body) */
        e = c->w->fmt->take_body ? c->w->fmt->take_body(&resp, r) : c->w->fmt->parse_body(&resp, r);
    }
    ms_buf_free(&resp);
    return e;
}

/* --- streamed replies ------------------------------------------------------------------------ */

/*
 * The last document whose only effect was a piece of text (the format set st.text): an
 * engine sends one such event a token, each the same bytes but for the text. A document
 * that is the template's bytes before the text string (opening quote included), then a
 * string body that decodes (ms_json_unescape: every escape, UTF-8, no control byte, no
 * bare quote), then the template's bytes after it, is the template with one string value
 * replaced by another: the full parse would accept it and the format would take exactly
 * that text from it, so it is taken without a parse. Anything else is parsed whole.
 */
struct tmpl {
    ms_buf ev;        /* the template document (model output: wiped) */
    size_t pre, post; /* bytes before and after the text string's body */
    bool set;
    unsigned misses;  /* templates learnt since the last hit: past TMPL_TRIES, no more */
};

#define TMPL_TRIES 8u /* an engine whose events differ elsewhere (a clock) stops learning */

/* A stream attempt: the format's view (st) and the framing decoder in use. */
struct stream {
    ms_llm_stream st;
    const ms_llm_format *fmt;
    ms_sse *sse;
    ms_ndjson *nd;
    bool fast;   /* the template's short path (off: every document parsed, for tests) */
    struct tmpl tmpl;
    ms_buf text; /* the short path's decoded text */
    size_t hits; /* documents the short path took */
};

ms_err ms_llm_stream_text(ms_llm_stream *st, const char *s, size_t n)
{
    return ms_llm_take_text(st->r, s, n, st->on_delta, st->ctx, &st->delivered, &st->user_err);
}

/* Whether the document is the template but for its text, decoded into s->text then. */
static bool tmpl_match(struct stream *s, const char *data, size_t len)
{
    const struct tmpl *t = &s->tmpl;
    const char *ev = (const char *)t->ev.p;
    if (!t->set || len > MS_MAX_JSON_TEXT || len < t->pre + t->post ||
        !ms_public_equal(data, ev, t->pre) ||
        !ms_public_equal(data + len - t->post, ev + t->ev.len - t->post, t->post)) {
        return false;
    }
    ms_buf_clear(&s->text);
    return ms_json_unescape(data + t->pre, len - t->pre - t->post, &s->text) == MS_OK;
}

/* A parsed document that set st.text becomes the template (a failure only leaves none). */
static void tmpl_learn(struct stream *s, const ms_json_doc *doc, const char *data, size_t len)
{
    struct tmpl *t = &s->tmpl;
    size_t at, n;
    t->set = false;
    ms_buf_clear(&t->ev);
    if (t->misses >= TMPL_TRIES || ms_json_str_span(doc, s->st.text, data, len, &at, &n) != MS_OK ||
        ms_buf_append(&t->ev, data, len) != MS_OK) {
        return;
    }
    t->pre = at;
    t->post = len - at - n;
    t->set = true;
    t->misses++;
}

/* One SSE event's data or one NDJSON line: a JSON document for the format. */
static ms_err on_doc(void *ctx, const char *data, size_t len)
{
    struct stream *s = ctx;
    ms_json_doc *doc = NULL;
    if (s->fast && tmpl_match(s, data, len)) {
        s->hits++;
        s->tmpl.misses = 0;
        return ms_llm_stream_text(&s->st, (const char *)s->text.p, s->text.len);
    }
    s->st.text = (ms_json_val){0};
    ms_err e = ms_json_parse(data, len, &doc);
    if (e == MS_OK) {
        e = s->fmt->stream_doc(&s->st, ms_json_root(doc));
    }
    if (e == MS_OK && s->fast && ms_json_type_of(s->st.text) == MS_JSON_STRING) {
        tmpl_learn(s, doc, data, len);
    }
    ms_json_free(doc);
    return e;
}

/* An SSE "error:" line on a 200 stream (llama.cpp server): the engine's message, an error. */
static ms_err on_error_line(void *ctx, const char *data, size_t len)
{
    struct stream *s = ctx;
    ms_llm_error_text((const uint8_t *)data, len, s->st.r->error_text,
                      sizeof s->st.r->error_text);
    return MS_ERR_BACKEND_STATUS;
}

static ms_err framer_new(struct stream *s)
{
    if (s->fmt->framing == MS_LLM_SSE) {
        TRY(ms_sse_new(MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT, on_doc, s, &s->sse));
        ms_sse_set_error_fn(s->sse, on_error_line);
        return MS_OK;
    }
    return ms_ndjson_new(MS_MAX_NDJSON_LINE, on_doc, s, &s->nd);
}

static ms_err framer_feed(struct stream *s, const uint8_t *p, size_t n)
{
    return s->sse != NULL ? ms_sse_feed(s->sse, p, n) : ms_ndjson_feed(s->nd, p, n);
}

static ms_err framer_finish(struct stream *s)
{
    return s->sse != NULL ? ms_sse_finish(s->sse) : ms_ndjson_finish(s->nd);
}

/* The whole reply arrived: the format's last piece, and SSE's terminator after it. */
static bool framer_complete(const struct stream *s)
{
    return s->st.finished && (s->sse == NULL || ms_sse_done(s->sse));
}

static void stream_init(struct stream *s, const ms_llm_format *fmt, ms_chat_result *r,
                        ms_chat_delta_fn on_delta, void *ctx, bool fast)
{
    *s = (struct stream){.st = {.r = r, .on_delta = on_delta, .ctx = ctx, .user_err = MS_OK},
                         .fmt = fmt, .fast = fast};
    ms_buf_init(&s->tmpl.ev, MS_MAX_JSON_TEXT);
    ms_buf_init(&s->text, MS_MAX_LLM_REPLY);
}

static void framer_free(struct stream *s)
{
    ms_sse_free(s->sse);
    ms_ndjson_free(s->nd);
    ms_buf_free(&s->tmpl.ev); /* wipes: model output */
    ms_buf_free(&s->text);
}

/* on_delta's own error is the caller's: returned unmapped; every other one is the engine's. */
static ms_err stream_err(const struct stream *s, ms_err e)
{
    return e == s->st.user_err ? e : ms_llm_format_err(e);
}

static ms_err on_chunk(void *ctx, const uint8_t *p, size_t n)
{
    struct stream *s = ctx;
    return stream_err(s, framer_feed(s, p, n));
}

/* How a stream attempt's transfer ended (e, status) as the call's error: the reader's own
   error first, then the status, the framing's end, and a stream cut short. */
static ms_err stream_outcome(struct stream *s, ms_err e, long status, const ms_buf *err_body,
                             ms_chat_result *r, bool *retryable)
{
    e = s->st.user_err != MS_OK ? s->st.user_err
                                : ms_llm_outcome(e, status, err_body, r, retryable);
    r->http_status = status;
    if (e == MS_OK) {
        e = stream_err(s, framer_finish(s));
    }
    if (e == MS_OK && !framer_complete(s)) {
        e = MS_ERR_BACKEND_FORMAT; /* cut short: never pass it off as a short answer */
    }
    *retryable = *retryable && !s->st.delivered;
    return e;
}

static ms_err stream_attempt(void *ctx, ms_chat_result *r, bool *retryable)
{
    const struct call *c = ctx;
    struct stream s;
    long status = 0;
    ms_buf err_body;
    ms_buf_init(&err_body, MS_MAX_HTTP_ERROR_BODY);
    *retryable = false;
    stream_init(&s, c->w->fmt, r, c->on_delta, c->ctx, true);
    ms_err e = framer_new(&s);
    if (e == MS_OK) {
        e = ms_http_post_stream(c->http, c->url, c->w->api_key, (const char *)c->body->p,
                                c->body->len, &status, on_chunk, &s, &err_body);
        e = stream_outcome(&s, e, status, &err_body, r, retryable);
    }
    framer_free(&s);
    ms_buf_free(&err_body);
    return e;
}

ms_err ms_llm_stream_body(const ms_llm_format *fmt, const uint8_t *body, size_t len,
                          size_t chunk, bool fast, ms_chat_delta_fn on_delta, void *ctx,
                          ms_chat_result *r, size_t *fast_hits)
{
    struct stream s;
    *fast_hits = 0;
    ENSURE(fmt != NULL && r != NULL && on_delta != NULL && (body != NULL || len == 0),
           MS_ERR_ARG);
    ms_llm_reset_result(r);
    stream_init(&s, fmt, r, on_delta, ctx, fast);
    ms_err e = framer_new(&s);
    for (size_t off = 0, step; e == MS_OK && off < len; off += step) {
        step = chunk > 0 && chunk < len - off ? chunk : len - off;
        e = on_chunk(&s, body + off, step);
    }
    if (e == MS_OK) {
        e = stream_err(&s, framer_finish(&s));
    }
    if (e == MS_OK && !framer_complete(&s)) {
        e = MS_ERR_BACKEND_FORMAT;
    }
    *fast_hits = s.hits;
    framer_free(&s);
    return e;
}

/* --- the call -------------------------------------------------------------------------------- */

ms_err ms_llm_call(ms_http_client *http, const ms_llm_wire *w, const ms_chat_msg *msgs,
                   size_t n, const ms_chat_opts *opts, bool stream, ms_chat_delta_fn on_delta,
                   void *ctx, ms_chat_result *r)
{
    ms_err err = MS_OK;
    ms_buf url, body;
    ENSURE(r != NULL, MS_ERR_ARG);
    ms_buf_init(&url, MS_MAX_HTTP_URL);
    ms_buf_init(&body, MS_MAX_LLM_REQUEST);
    ms_llm_reset_result(r);
    ENSURE_OUT(http != NULL && w != NULL && w->fmt != NULL && w->model != NULL &&
                   w->model[0] != '\0',
               MS_ERR_ARG);
    ENSURE_OUT(!stream || on_delta != NULL, MS_ERR_ARG);
    TRY_OUT(ms_llm_url(w->base_url, w->fmt->chat_path, &url));
    TRY_OUT(w->fmt->build_body(w, msgs, n, opts, stream, &body));
    struct call c = {.http = http, .w = w, .url = (const char *)url.p, .body = &body,
                     .on_delta = on_delta, .ctx = ctx};
    err = ms_llm_run(w->fmt->name, http, &w->rt, stream ? stream_attempt : plain_attempt, &c, r);
out:
    ms_buf_free(&url);
    ms_buf_free(&body); /* wipes: the request holds the conversation */
    return err;
}

/* --- the call, stepped ----------------------------------------------------------------------- */

struct ms_llm_pump {
    ms_http_client *http;
    const ms_llm_wire *w;
    ms_chat_result *r;
    ms_chat_delta_fn on_delta;
    void *ctx;
    ms_buf url, body; /* the request: wiped at close */
    ms_buf err_body;
    struct stream s;
    bool live;        /* an attempt's transfer and framer are open */
    bool done;
    ms_err result;
    unsigned retries;
    double t0;
};

/* A new attempt: its framer, its transfer. An error here ends the attempt as fn's would. */
static ms_err pump_attempt(ms_llm_pump *p)
{
    ms_llm_attempt_begin(p->r);
    ms_buf_clear(&p->err_body);
    stream_init(&p->s, p->w->fmt, p->r, p->on_delta, p->ctx, true);
    ms_err e = framer_new(&p->s);
    if (e == MS_OK) {
        e = ms_http_stream_begin(p->http, (const char *)p->url.p, p->w->api_key,
                                 (const char *)p->body.p, p->body.len, on_chunk, &p->s,
                                 &p->err_body);
    }
    if (e != MS_OK) {
        framer_free(&p->s);
        return e;
    }
    p->live = true;
    return MS_OK;
}

/* The attempt ended with e: the call ends, or the next attempt begins after its backoff. */
static void pump_after(ms_llm_pump *p, ms_err e, bool retryable)
{
    while (ms_llm_retry_next(p->w->fmt->name, p->http, &p->w->rt, p->retries, e, retryable,
                             p->r)) {
        p->retries++;
        e = pump_attempt(p);
        if (e == MS_OK) {
            return;
        }
        retryable = false; /* a request that cannot be sent is not retried (as ms_llm_run) */
    }
    ms_llm_run_end(p->http, e, p->t0, p->r);
    p->done = true;
    p->result = e;
}

ms_err ms_llm_pump_open(ms_http_client *http, const ms_llm_wire *w, const ms_chat_msg *msgs,
                        size_t n, const ms_chat_opts *opts, ms_chat_delta_fn on_delta, void *ctx,
                        ms_chat_result *r, ms_llm_pump **out)
{
    ms_err err = MS_OK;
    *out = NULL;
    ENSURE(r != NULL, MS_ERR_ARG);
    ms_llm_reset_result(r);
    ENSURE(http != NULL && w != NULL && w->fmt != NULL && w->model != NULL &&
               w->model[0] != '\0' && on_delta != NULL,
           MS_ERR_ARG);
    ms_llm_pump *p = calloc(1, sizeof *p);
    ENSURE(p != NULL, MS_ERR_NOMEM);
    *p = (ms_llm_pump){.http = http, .w = w, .r = r, .on_delta = on_delta, .ctx = ctx,
                       .t0 = ms_clock_s()};
    ms_buf_init(&p->url, MS_MAX_HTTP_URL);
    ms_buf_init(&p->body, MS_MAX_LLM_REQUEST);
    ms_buf_init(&p->err_body, MS_MAX_HTTP_ERROR_BODY);
    TRY_OUT(ms_llm_url(w->base_url, w->fmt->chat_path, &p->url));
    TRY_OUT(w->fmt->build_body(w, msgs, n, opts, true, &p->body));
    err = pump_attempt(p);
    if (err != MS_OK) {
        pump_after(p, err, false);
        err = p->result;
    }
out:
    if (err != MS_OK) {
        ms_llm_pump_close(p);
        return err;
    }
    *out = p;
    return MS_OK;
}

ms_err ms_llm_pump_step(ms_llm_pump *p, int timeout_ms, bool *done)
{
    bool ended = false, retryable = false;
    long status = 0;
    *done = p->done;
    if (p->done) {
        return p->result;
    }
    ms_err e = ms_http_stream_step(p->http, timeout_ms, &ended);
    if (e == MS_OK && !ended) {
        return MS_OK;
    }
    ms_err h = ms_http_stream_end(p->http, &status);
    p->live = false;
    e = e != MS_OK ? e : stream_outcome(&p->s, h, status, &p->err_body, p->r, &retryable);
    framer_free(&p->s);
    pump_after(p, e, retryable);
    *done = p->done;
    return p->done ? p->result : MS_OK;
}

void ms_llm_pump_close(ms_llm_pump *p)
{
    if (p == NULL) {
        return;
    }
    if (p->live) {
        long status;
        ms_err e = ms_http_stream_end(p->http, &status); /* aborted: the connection is closed */
        (void)e;
        framer_free(&p->s);
    }
    ms_buf_free(&p->url);
    ms_buf_free(&p->body); /* wipes: the request holds the conversation */
    ms_buf_free(&p->err_body);
    ms_wipe(p, sizeof *p);
    free(p);
}

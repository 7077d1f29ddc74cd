/*
 * POST /v1/chat/completions: one turn over an attested session of the pool, answered as
 * OpenAI answers: a chat.completion object, or (stream) chat.completion.chunk events ending
 * in "data: [DONE]". A reply the model cut at its token limit keeps finish_reason "length"
 * (what OpenAI says then). A stream cut inside the channel (no authenticated FINAL, or a
 * FINAL {"ok": false}) ends with an error event and no [DONE]: never a short answer that
 * looks complete. A stop sequence ends the text where it starts (finish_reason "stop"); the
 * rest of the turn is read and dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/log.h"
#include "common/random.h"
#include "common/turn_reply.h"
#include "gateway/chat_req.h"
#include "gateway/internal.h"
#include "secure/client/payload.h"

/* What the reply says of itself: id, created, model. */
typedef struct head {
    char id[48];
    uint64_t created;
    const char *model;
} head;

/*
 * A reply's id: 12 random bytes in hex. The bytes come from a store of the thread's, filled
 * by one getrandom for 32 ids (an id is not a secret, only unique and unguessable enough):
 * not a system call a turn.
 */
#define ID_BYTES 12u
#define ID_STORE (32u * ID_BYTES)

static ms_err id_bytes(uint8_t out[ID_BYTES])
{
    static _Thread_local uint8_t store[ID_STORE];
    static _Thread_local size_t used = ID_STORE;
    if (used == ID_STORE) {
        TRY(ms_random_bytes(store, sizeof store));
        used = 0;
    }
    memcpy(out, store + used, ID_BYTES);
    memset(store + used, 0, ID_BYTES); /* each id once */
    used += ID_BYTES;
    return MS_OK;
}

static void make_head(head *h, const ms_gw_chat_req *q, const ms_gw *gw)
{
    uint8_t raw[ID_BYTES];
    size_t n;
    memcpy(h->id, "chatcmpl-", 9);
    if (id_bytes(raw) != MS_OK ||
        ms_hex_encode(raw, sizeof raw, h->id + 9, sizeof h->id - 9, &n) != MS_OK) {
        snprintf(h->id + 9, sizeof h->id - 9, "%llx", (unsigned long long)time(NULL));
    }
    h->created = (uint64_t)time(NULL);
    h->model = q->model[0] ? q->model : gw->model;
}

static ms_err add_usage(ms_json_wval o, uint64_t prompt, uint64_t completion)
{
    ms_json_wval u;
    TRY(ms_json_add_obj(o, "usage", &u));
    TRY(ms_json_add_u64(u, "prompt_tokens", prompt));
    TRY(ms_json_add_u64(u, "completion_tokens", completion));
    return ms_json_add_u64(u, "total_tokens", prompt + completion);
}

static ms_err add_head(ms_json_wval root, const head *h, const char *object)
{
    TRY(ms_json_add_cstr(root, "id", h->id));
    TRY(ms_json_add_cstr(root, "object", object));
    TRY(ms_json_add_u64(root, "created", h->created));
    TRY(ms_json_add_cstr(root, "model", h->model));
    return ms_json_add_null(root, "system_fingerprint");
}

static const char *finish_of(const ms_turn_reply *t)
{
    return t->truncated ? "length" : t->finish_reason[0] ? t->finish_reason : "stop";
}

/*
 * Hot paths write their JSON straight into a buffer (no tree): a whole reply, a chunk of
 * text. The fields and their order are those the builder gives the rare chunks.
 */
static ms_err put_str(ms_buf *out, const char *s, size_t len)
{
    size_t size;
    TRY(ms_json_str_size(s, len, &size));
    TRY(ms_buf_reserve(out, size));
    return ms_json_put_str(out, s, len, size);
}

/* {"id":..,"object":..,"created":..,"model":..,"system_fingerprint":null,"choices":[{"index":0, */
static ms_err put_head(ms_buf *out, const head *h, const char *object)
{
    TRY(ms_buf_append_str(out, "{\"id\":"));
    TRY(put_str(out, h->id, strlen(h->id)));
    TRY(ms_buf_append_str(out, ",\"object\":\""));
    TRY(ms_buf_append_str(out, object));
    TRY(ms_buf_append_str(out, "\",\"created\":"));
    TRY(ms_buf_append_dec(out, h->created));
    TRY(ms_buf_append_str(out, ",\"model\":"));
    TRY(put_str(out, h->model, strlen(h->model)));
    return ms_buf_append_str(out, ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,");
}

/* --- whole replies ------------------------------------------------------------------------- */

static ms_err completion(ms_buf *out, const head *h, const ms_gw_chat_req *q,
                         const ms_turn_reply *t)
{
    size_t len = t->content.len, at;
    const char *text = (const char *)t->content.p;
    const char *finish = finish_of(t);
    if (ms_gw_chat_find_stop(q, text ? text : "", len, &at)) {
        len = at;
        finish = "stop";
    }
    /* one allocation for the whole reply (the text, the model's name, the JSON around them;
       escapes may take one growth more), when that fits the cap: the appends judge the rest */
    size_t want = len + strlen(h->model) + 512;
    if (want <= out->max - out->len) {
        TRY(ms_buf_reserve(out, want));
    }
    TRY(put_head(out, h, "chat.completion"));
    TRY(ms_buf_append_str(out, "\"message\":{\"role\":\"assistant\",\"content\":"));
    TRY(put_str(out, text ? text : "", len));
    TRY(ms_buf_append_str(out, ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":"));
    TRY(put_str(out, finish, strlen(finish)));
    TRY(ms_buf_append_str(out, "}],\"usage\":{\"prompt_tokens\":"));
    TRY(ms_buf_append_dec(out, t->prompt_tokens));
    TRY(ms_buf_append_str(out, ",\"completion_tokens\":"));
    TRY(ms_buf_append_dec(out, t->completion_tokens));
    TRY(ms_buf_append_str(out, ",\"total_tokens\":"));
    TRY(ms_buf_append_dec(out, t->prompt_tokens + t->completion_tokens));
    return ms_buf_append_str(out, "}}");
}

static void say_turn_error(ms_gw_resp *resp, ms_err e, const ms_client_turn_info *ti)
{
    int status, retry;
    const char *type, *code, *msg;
    ms_gw_turn_error(e, ti, &status, &type, &code, &msg, &retry);
    ms_gw_error(resp, status, type, NULL, code, msg);
    resp->retry_after = retry;
}

static void whole(const ms_gw_req *req, ms_gw_resp *resp, const ms_gw_chat_req *q)
{
    ms_client *c;
    unsigned slot;
    ms_client_turn_info ti;
    ms_turn_reply t;
    memset(&ti, 0, sizeof ti);
    ms_turn_reply_init(&t, MS_MAX_RECORD_PLAINTEXT);
    ms_err e = ms_gw_pool_get(req->gw->pool, &c, &slot);
    if (e == MS_OK) {
        e = ms_client_turn_reply(c, q->channel.p, q->channel.len, &t, &ti);
        ms_gw_pool_put(req->gw->pool, slot, e == MS_OK && ti.handshakes == 0);
    }
    if (e != MS_OK) {
        say_turn_error(resp, e, &ti);
        ms_turn_reply_free(&t);
        return;
    }
    head h;
    make_head(&h, q, req->gw);
    ms_buf_clear(&resp->body);
    e = completion(&resp->body, &h, q, &t);
    if (e == MS_OK) {
        resp->status = 200;
        resp->content_type = "application/json";
    } else if (e == MS_ERR_ARG) { /* ms_json_str_size: the text is not UTF-8 */
        ms_buf_clear(&resp->body);
        ms_gw_error(resp, 502, "api_error", NULL, "bad_reply",
                    "the supervisor's reply is not UTF-8 text");
    } else {
        ms_buf_clear(&resp->body);
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "out of memory");
    }
    ms_turn_reply_free(&t);
}

/* --- streamed replies ---------------------------------------------------------------------- */

typedef struct streamer {
    ms_gw *gw;
    ms_gw_chat_req q;
    head h;
    ms_gw_stream *s;
    ms_buf hold;      /* text not yet sent: a possible stop's start, a cut UTF-8 character */
    ms_buf line;      /* one event being built */
    bool began, stopped;
    size_t keep;      /* bytes held back for a stop sequence that may straddle pieces */
} streamer;

static void streamer_free(void *ctx)
{
    streamer *st = ctx;
    ms_gw_chat_req_free(&st->q);
    ms_buf_free(&st->hold);
    ms_buf_free(&st->line);
    free(st);
}

/* "data: JSON\n\n" from a builder. */
static ms_err send_event(streamer *st, const ms_json_builder *b)
{
    ms_buf_clear(&st->line);
    TRY(ms_buf_append_str(&st->line, "data: "));
    TRY(ms_json_builder_print(b, &st->line));
    TRY(ms_buf_append_str(&st->line, "\n\n"));
    return ms_gw_stream_write(st->s, st->line.p, st->line.len);
}

/* A chunk of text: delta {content} (written straight, the hot path of a stream). */
static ms_err send_text(streamer *st, const char *text, size_t len)
{
    ms_buf_clear(&st->line);
    TRY(ms_buf_append_str(&st->line, "data: "));
    TRY(put_head(&st->line, &st->h, "chat.completion.chunk"));
    TRY(ms_buf_append_str(&st->line, "\"delta\":{\"content\":"));
    TRY(put_str(&st->line, text, len));
    TRY(ms_buf_append_str(&st->line, "},\"logprobs\":null,\"finish_reason\":null}]"));
    TRY(ms_buf_append_str(&st->line, st->q.include_usage ? ",\"usage\":null}\n\n" : "}\n\n"));
    return ms_gw_stream_write(st->s, st->line.p, st->line.len);
}

/* A chunk: delta {role?, content?} or {} with a finish_reason; "usage": null when asked. */
static ms_err send_chunk(streamer *st, bool role, const char *text, size_t len,
                         const char *finish)
{
    if (!role && text && !finish) {
        return send_text(st, text, len);
    }
    ms_json_builder *b;
    ms_json_wval root, choices, c, delta;
    ms_err err = MS_OK;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    TRY_OUT(add_head(root, &st->h, "chat.completion.chunk"));
    TRY_OUT(ms_json_add_arr(root, "choices", &choices));
    TRY_OUT(ms_json_add_obj(choices, NULL, &c));
    TRY_OUT(ms_json_add_u64(c, "index", 0));
    TRY_OUT(ms_json_add_obj(c, "delta", &delta));
    if (role) {
        TRY_OUT(ms_json_add_cstr(delta, "role", "assistant"));
    }
    if (text) {
        TRY_OUT(ms_json_add_str(delta, "content", text, len));
    }
    TRY_OUT(ms_json_add_null(c, "logprobs"));
    TRY_OUT(finish ? ms_json_add_cstr(c, "finish_reason", finish)
                   : ms_json_add_null(c, "finish_reason"));
    if (st->q.include_usage) {
        TRY_OUT(ms_json_add_null(root, "usage"));
    }
    TRY_OUT(send_event(st, b));
out:
    ms_json_builder_free(b);
    return err;
}

static ms_err send_usage(streamer *st, uint64_t prompt, uint64_t completion_tokens)
{
    ms_json_builder *b;
    ms_json_wval root, choices;
    ms_err err = MS_OK;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    TRY_OUT(add_head(root, &st->h, "chat.completion.chunk"));
    TRY_OUT(ms_json_add_arr(root, "choices", &choices));
    TRY_OUT(add_usage(root, prompt, completion_tokens));
    TRY_OUT(send_event(st, b));
out:
    ms_json_builder_free(b);
    return err;
}

/* The error event that ends a stream which cannot finish: no [DONE] follows. */
static void send_error(streamer *st, const char *code, const char *message)
{
    ms_gw_resp r;
    ms_gw_resp_init(&r);
    ms_gw_error(&r, 502, "api_error", NULL, code, message);
    ms_buf_clear(&st->line);
    if (ms_buf_append_str(&st->line, "data: ") == MS_OK &&
        ms_buf_append(&st->line, r.body.len ? r.body.p : r.static_body,
                      r.body.len ? r.body.len : r.static_len) == MS_OK &&
        ms_buf_append_str(&st->line, "\n\n") == MS_OK) {
        ms_err e = ms_gw_stream_write(st->s, st->line.p, st->line.len);
        (void)e; /* the client may be gone: nothing more to do */
    }
    ms_gw_resp_free(&r);
}

/* How many of the first n bytes end on a whole UTF-8 character. */
static size_t utf8_whole(const uint8_t *p, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        uint8_t c = p[n - back];
        if (c < 0x80) {
            return n;
        }
        if (c >= 0xc0) { /* a lead byte: its character needs this many bytes */
            size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            return need > back ? n - back : n;
        }
    }
    return n;
}

/* Send what is held, but what may still become a stop sequence or completes a character. */
static ms_err flush_hold(streamer *st, bool all)
{
    size_t at, n = st->hold.len;
    if (ms_gw_chat_find_stop(&st->q, (const char *)st->hold.p, st->hold.len, &at)) {
        n = at;
        st->stopped = true;
    } else if (!all) {
        n = n > st->keep ? n - st->keep : 0;
        n = utf8_whole(st->hold.p, n);
    }
    if (!st->began) {
        TRY(send_chunk(st, true, "", 0, NULL));
        st->began = true;
    }
    if (n > 0) {
        TRY(send_chunk(st, false, (const char *)st->hold.p, n, NULL));
    }
    if (st->stopped) {
        ms_buf_clear(&st->hold);
    } else {
        memmove(st->hold.p, st->hold.p + n, st->hold.len - n);
        TRY(ms_buf_shrink(&st->hold, n));
    }
    return MS_OK;
}

static ms_err on_piece(void *ctx, const char *p, size_t n)
{
    streamer *st = ctx;
    if (st->stopped) {
        return MS_OK; /* after a stop sequence: read to the end, dropped */
    }
    TRY(ms_buf_append(&st->hold, p, n));
    return flush_hold(st, false);
}

static void stream_run(ms_gw_stream *s, void *ctx)
{
    streamer *st = ctx;
    ms_client *c;
    unsigned slot;
    ms_client_turn_info ti;
    ms_buf final;
    ms_client_reply rep;
    memset(&ti, 0, sizeof ti);
    memset(&rep, 0, sizeof rep);
    ms_buf_init(&final, MS_MAX_RECORD_PLAINTEXT);
    st->s = s;
    ms_err e = ms_gw_pool_get(st->gw->pool, &c, &slot);
    if (e == MS_OK) {
        e = ms_client_turn_stream(c, st->q.channel.p, st->q.channel.len, on_piece, st, &final, &ti);
        ms_gw_pool_put(st->gw->pool, slot, e == MS_OK && ti.handshakes == 0);
    }
    if (e == MS_OK) {
        e = ms_client_reply_parse(final.p, final.len, 1, &rep);
    }
    if (e == MS_OK && !st->stopped) {
        e = flush_hold(st, true);
    }
    if (e == MS_OK) {
        const char *finish = st->stopped ? "stop"
                             : rep.truncated ? "length"
                             : rep.finish_reason && *rep.finish_reason ? rep.finish_reason
                                                                       : "stop";
        e = send_chunk(st, false, NULL, 0, finish);
        if (e == MS_OK && st->q.include_usage) {
            e = send_usage(st, rep.prompt_tokens, rep.completion_tokens);
        }
        if (e == MS_OK) {
            e = ms_gw_stream_write(s, "data: [DONE]\n\n", 14);
        }
    } else if (!st->began) { /* nothing sent yet: an HTTP error, as for a whole reply */
        int status, retry;
        const char *type, *code, *msg;
        ms_gw_turn_error(e, &ti, &status, &type, &code, &msg, &retry);
        if (!ms_gw_stream_fail(s, status, type, NULL, code, msg, retry)) {
            send_error(st, code, msg);
        }
    } else if (e != MS_ERR_IO) { /* the client is still there: say why it ends here */
        int status, retry;
        const char *type, *code, *msg;
        ms_gw_turn_error(e, &ti, &status, &type, &code, &msg, &retry);
        if (e == MS_ERR_STREAM_TRUNCATED) {
            code = "stream_cut";
            msg = "the reply was cut inside the attested channel: the text sent so far is "
                  "INCOMPLETE";
        }
        send_error(st, code, msg);
    }
    if (e != MS_OK && e != MS_ERR_IO) {
        ms_log(MS_LOG_INFO, "serve", "a streamed reply ended with an error: %s", ms_err_str(e));
    }
    ms_client_reply_free(&rep);
    ms_buf_free(&final);
}

static void streamed(const ms_gw_req *req, ms_gw_resp *resp, ms_gw_chat_req *q)
{
    streamer *st = calloc(1, sizeof *st);
    if (!st) {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "out of memory");
        return;
    }
    st->gw = req->gw;
    st->q = *q; /* the request's buffers are the streamer's now */
    memset(q, 0, sizeof *q);
    ms_buf_init(&q->channel, MS_MAX_RECORD_PLAINTEXT);
    make_head(&st->h, &st->q, req->gw);
    ms_buf_init(&st->hold, MS_MAX_STREAM_BYTES);
    ms_buf_init(&st->line, MS_MAX_STREAM_BYTES);
    for (size_t i = 0; i < st->q.n_stop; i++) {
        if (st->q.stop_len[i] - 1 > st->keep) {
            st->keep = st->q.stop_len[i] - 1;
        }
    }
    if (ms_gw_stream_start(req, resp, "text/event-stream; charset=utf-8", stream_run, st,
                           streamer_free) != MS_OK) {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "cannot start the stream");
    }
}

void ms_gw_h_chat(const ms_gw_req *req, ms_gw_resp *resp)
{
    ms_gw_chat_req q;
    const char *param;
    ms_err e = ms_gw_chat_req_parse((const char *)req->body, req->body_len, &q, &param);
    if (e == MS_ERR_CAP_EXCEEDED) {
        ms_gw_error(resp, 413, "invalid_request_error", param, "request_too_large",
                    "the request does not fit in one record of the attested channel (1 MiB)");
    } else if (e != MS_OK && !param) {
        ms_gw_error(resp, 400, "invalid_request_error", NULL, "invalid_json",
                    "the body is not one JSON object (RFC 8259)");
    } else if (e != MS_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "'%s': %s", param,
                 e == MS_ERR_GW_REQUEST ? "not supported here, or not in a form this gateway "
                                          "takes (docs/serve.md)"
                                        : ms_err_str(e));
        ms_gw_error(resp, 400, "invalid_request_error", param, "invalid_request", msg);
    } else if (q.stream) {
        streamed(req, resp, &q);
    } else {
        whole(req, resp, &q);
    }
    ms_gw_chat_req_free(&q);
}

/* The client's session coordinator: handshake and checks, turns, one re-handshake on 404, close. */
#include "secure/client/client_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/codec.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/turn_reply.h"
#include "secure/attest/policy.h"
#include "secure/client/link.h"
#include "secure/client/payload.h"
#include "secure/client/reply.h"
#include "secure/handshake.h"
#include "secure/hs_msg.h"
#include "secure/record.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 300000L
/* A streamed body: the stream's text cap (§10) plus room for its records' overhead. */
#define MAX_STREAM_BODY ((size_t)MS_MAX_STREAM_BYTES + (size_t)MS_MAX_STREAM_BYTES / 4u)

/* --- the session's life -------------------------------------------------------------------- */

void ms_client_drop_session(ms_client *c)
{
    ms_channel_free(c->chan);
    c->chan = NULL;
    ms_buf_free(&c->cf);
    ms_wipe(&c->res, sizeof c->res);
    c->tls = MS_CLIENT_TLS_NONE;
    c->next_msg_id = 0;
    memset(c->sid_hex, 0, sizeof c->sid_hex);
    memset(c->ev_digest, 0, sizeof c->ev_digest);
    ms_buf_clear(&c->ev);
    memset(&c->ev_view, 0, sizeof c->ev_view);
    ms_err e = ms_link_pin(c->link, NULL);
    (void)e; /* removing a pin cannot fail */
}

ms_err ms_client_new(ms_client **out, const ms_client_cfg *cfg)
{
    *out = NULL;
    ENSURE(cfg != NULL && cfg->connect_timeout_ms >= 0 && cfg->timeout_ms >= 0, MS_ERR_ARG);
    ENSURE(cfg->pinned_dev_pk != NULL || cfg->policy != NULL, MS_ERR_CONFIG);
    ms_link_cfg lc = {.url = cfg->url,
                      .cacert = cfg->cacert,
                      .allow_http = cfg->allow_http,
                      .connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                                    : DEFAULT_CONNECT_TIMEOUT_MS,
                      .timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS};
    ms_client *c = calloc(1, sizeof *c);
    ENSURE(c != NULL, MS_ERR_NOMEM);
    ms_buf_init(&c->cf, MS_CLIENT_FINISH_MAX_LEN);
    ms_buf_init(&c->ev, MS_MAX_EVIDENCE);
    ms_buf_init(&c->fast_ev, MS_MAX_EVIDENCE);
    c->verify = cfg->verify;
    c->verify_ctx = cfg->verify_ctx;
    if (cfg->client_id_sk) {
        c->has_id = 1;
        memcpy(c->id_sk, cfg->client_id_sk, MS_SIGN_SK_LEN);
    }
    ms_err err = ms_link_new(&c->link, &lc);
    if (err != MS_OK) {
        ms_wipe(c->id_sk, sizeof c->id_sk);
        free(c);
        return err;
    }
    ms_attest_policy_init(&c->own);
    c->policy = cfg->policy;
    if (!c->policy) {
        err = ms_attest_policy_allow_dev_key(&c->own, cfg->pinned_dev_pk);
        c->policy = &c->own;
    }
    c->strict = cfg->strict != 0 || c->policy->require_strict;
    if (err != MS_OK) {
        ms_client_free(c);
        return err;
    }
    c->allow_tls_proxy = cfg->allow_tls_proxy != 0;
    *out = c;
    return MS_OK;
}

void ms_client_free(ms_client *c)
{
    if (!c) {
        return;
    }
    ms_client_drop_session(c);
    ms_buf_free(&c->ev);
    ms_buf_free(&c->fast_ev);
    ms_link_free(c->link);
    ms_attest_policy_free(&c->own);
    ms_wipe(c, sizeof *c);
    free(c);
}

/* --- HTTP helpers -------------------------------------------------------------------------- */

/* §12.2 */
ms_err ms_client_status_err(long status, long want)
{
    if (status == want) {
        return MS_OK;
    }
    switch (status) {
    case 400: return MS_ERR_PEER_REJECTED;
    case 404: return MS_ERR_SESSION_UNKNOWN;
    case 413: return MS_ERR_CAP_EXCEEDED;
    case 503: return MS_ERR_SERVER_BUSY;
    default: return MS_ERR_HTTP_STATUS;
    }
}

/* Every request goes through here, so the last status is known (ms_client_last_http). */
ms_err ms_client_post(ms_client *c, const char *path, const ms_buf *body, int fresh, size_t max,
                   ms_link_sink_fn sink, void *ctx, ms_link_resp *lr)
{
    ms_err err = ms_link_post(c->link, path, body->p, body->len, fresh, max, sink, ctx, lr);
    c->last_status = lr->status;
    c->last_retry_after = lr->retry_after_s;
    return err;
}

static ms_err session_path(const ms_client *c, const char *what, char *out, size_t cap)
{
    int n = snprintf(out, cap, "/v1/session/%s/%s", c->sid_hex, what);
    return n > 0 && (size_t)n < cap ? MS_OK : MS_ERR_INTERNAL;
}

/* --- turns --------------------------------------------------------------------------------- */

/* One turn's request and what it expects back. */
typedef struct turn {
    const uint8_t *req;
    size_t len;
    int stream;
    ms_client_piece_fn on_piece;
    void *ctx;
    ms_buf *out;
    ms_client_turn_info *info;
    ms_turn_reply *reply; /* ms_client_turn_reply: the decoded reply goes here */
} turn;

static ms_err stream_sink(void *ctx, const uint8_t *p, size_t n)
{
    return ms_reply_stream_feed(ctx, p, n);
}

/*
 * The ClientFinish rode in front of this request: a 200 proves it was accepted. After
 * anything else we cannot know whether the supervisor kept the session, so it is dropped
 * and the next turn makes a new one.
 */
static void after_finish(ms_client *c, int carried_cf, long status)
{
    if (!carried_cf) {
        return;
    }
    if (status == 200) {
        ms_buf_free(&c->cf);
    } else {
        ms_client_drop_session(c);
    }
}

static ms_err post_request(ms_client *c, const turn *t, uint32_t msg_id, const ms_buf *body)
{
    char path[96];
    ms_buf resp;
    ms_link_resp lr;
    ms_buf_init(&resp, MS_MAX_HTTP_BODY);
    ms_err err = session_path(c, "request", path, sizeof path);
    if (err == MS_OK) {
        err = ms_client_post(c, path, body, 0, resp.max, ms_link_collect, &resp, &lr);
        t->info->http_status = lr.status;
        t->info->retry_after_s = lr.retry_after_s;
        after_finish(c, body->p[0] == MS_HS_CLIENT_FINISH, lr.status);
    }
    if (err == MS_OK) {
        err = ms_client_status_err(lr.status, 200);
    }
    if (err == MS_OK) {
        double t0 = ms_clock_s();
        err = ms_reply_open_single(c->chan, resp.p, resp.len, MS_REC_MSG, msg_id, t->out);
        t->info->open_s += ms_clock_s() - t0;
    }
    ms_buf_free_public(&resp); /* the sealed reply as it came: the plaintext is in t->out */
    return err;
}

static ms_err post_stream(ms_client *c, const turn *t, uint32_t msg_id, const ms_buf *body)
{
    char path[96];
    ms_reply_stream rs;
    ms_link_resp lr;
    const uint8_t *final;
    size_t final_len;
    TRY(session_path(c, "stream", path, sizeof path));
    ms_reply_stream_init(&rs, c->chan, msg_id, t->on_piece, t->ctx);
    ms_err err = ms_client_post(c, path, body, 0, MAX_STREAM_BODY, stream_sink, &rs, &lr);
    t->info->http_status = lr.status;
    t->info->retry_after_s = lr.retry_after_s;
    t->info->streamed_bytes = rs.text_len;
    after_finish(c, body->p[0] == MS_HS_CLIENT_FINISH, lr.status);
    if (lr.status == 200 && rs.failed == MS_OK && err != MS_OK) {
        t->info->transport = err; /* the body was cut by the network, not by the reader */
        err = MS_OK;
    }
    if (err == MS_OK) {
        err = ms_client_status_err(lr.status, 200);
    }
    if (err == MS_OK) {
        err = ms_reply_stream_end(&rs, &final, &final_len);
    }
    if (err == MS_OK) {
        err = ms_buf_append(t->out, final, final_len);
    }
    ms_reply_stream_free(&rs);
    return err;
}

/* §12.1: [ClientFinish] then one MSG record with the next request number. */
static ms_err turn_once(ms_client *c, const turn *t)
{
    ms_buf body;
    ms_buf_init(&body, MS_MAX_HTTP_BODY);
    uint32_t msg_id = c->next_msg_id;
    ms_err err = ms_buf_append(&body, c->cf.p, c->cf.len);
    if (err == MS_OK) {
        double t0 = ms_clock_s();
        err = ms_channel_seal_buf(c->chan, MS_REC_MSG, msg_id, 0, t->req, t->len, &body);
        t->info->seal_s += ms_clock_s() - t0;
    }
    if (err == MS_OK) {
        c->next_msg_id++;
        err = t->stream ? post_stream(c, t, msg_id, &body) : post_request(c, t, msg_id, &body);
    }
    ms_buf_free(&body); /* wipes the sealed request (and the ClientFinish) */
    return err;
}

/* The decoded reply into t->reply (ms_client_turn_reply): content, finish reason, usage, and
   for {"ok": false} the code and message judge_reply put in t->info. */
static ms_err take_reply(const turn *t, const ms_client_reply *r)
{
    ms_turn_reply *out = t->reply;
    if (!r->ok) {
        memcpy(out->error_code, t->info->error_code, sizeof out->error_code);
        memcpy(out->error_message, t->info->error_message, sizeof out->error_message);
        return MS_OK;
    }
    snprintf(out->finish_reason, sizeof out->finish_reason, "%s",
             r->finish_reason ? r->finish_reason : "");
    out->truncated = r->truncated;
    out->prompt_tokens = r->prompt_tokens;
    out->completion_tokens = r->completion_tokens;
    if (r->content_escaped) { /* decoded once, straight into the caller's buffer */
        return ms_json_unescape(r->content, r->content_len, &out->content);
    }
    return ms_buf_append(&out->content, r->content, r->content_len);
}

/* §12.3: judge the reply JSON appended at out[before..] (parsed here, once); drop it when it
   is not a reply. */
static ms_err judge_reply(const turn *t, size_t before)
{
    ms_client_reply r;
    ENSURE(t->out->len > before, MS_ERR_PAYLOAD);
    /* A long content is checked, not decoded: only take_reply needs its text. */
    ms_err err =
        ms_client_reply_parse_kept(t->out->p + before, t->out->len - before, t->stream, &r);
    if (err == MS_OK && !r.ok) {
        t->info->remote_failed = 1;
        snprintf(t->info->error_code, sizeof t->info->error_code, "%s", r.error_code);
        ms_client_sanitize(r.error_message, strlen(r.error_message), t->info->error_message,
                           sizeof t->info->error_message);
        err = MS_ERR_BACKEND_REMOTE;
    }
    if (t->reply && (err == MS_OK || err == MS_ERR_BACKEND_REMOTE)) {
        ms_err e = take_reply(t, &r);
        err = e != MS_OK ? e : err;
    }
    ms_client_reply_free(&r);
    if (err != MS_OK && err != MS_ERR_BACKEND_REMOTE) {
        ms_err e = ms_buf_shrink(t->out, t->out->len - before);
        (void)e; /* the buffer grew by this much */
    }
    return err;
}

/* §12.2: on a 404, one new handshake and the same request again under the new session. */
static ms_err run_turn(ms_client *c, turn *t)
{
    ms_err err;
    size_t before = t->out->len;
    char prefix[9];
    for (int attempt = 0;; attempt++) {
        if (!c->chan) {
            TRY(ms_client_handshake(c));
            t->info->handshakes++;
        }
        memcpy(prefix, c->sid_hex, 8); /* turn_once may drop the session */
        prefix[8] = '\0';
        err = turn_once(c, t);
        if (err != MS_ERR_SESSION_UNKNOWN) {
            break;
        }
        ms_client_drop_session(c);
        if (attempt > 0) {
            break;
        }
        ms_log(MS_LOG_WARN, "client",
               "supervisor no longer knows session %s (restarted or expired): new handshake",
               prefix);
    }
    return err == MS_OK ? judge_reply(t, before) : err;
}

ms_err ms_client_turn(ms_client *c, const uint8_t *req, size_t len, ms_buf *reply_json,
                      ms_client_turn_info *info)
{
    ms_client_turn_info local;
    turn t = {.req = req, .len = len, .out = reply_json, .info = info ? info : &local};
    memset(t.info, 0, sizeof *t.info);
    ENSURE(c != NULL && req != NULL && len > 0 && reply_json != NULL, MS_ERR_ARG);
    return run_turn(c, &t);
}

static unsigned rehandshakes(const ms_client *c)
{
    return c->handshakes > 0 ? c->handshakes - 1 : 0;
}

ms_err ms_client_turn_reply(ms_client *c, const uint8_t *req, size_t len, ms_turn_reply *out,
                            ms_client_turn_info *info)
{
    ms_client_turn_info local;
    ms_buf json;
    turn t = {.req = req, .len = len, .out = &json, .info = info ? info : &local, .reply = out};
    memset(t.info, 0, sizeof *t.info);
    ENSURE(c != NULL && req != NULL && len > 0 && out != NULL, MS_ERR_ARG);
    ms_turn_reply_clear(out);
    ms_buf_init(&json, MS_MAX_RECORD_PLAINTEXT);
    unsigned before = rehandshakes(c);
    double t0 = ms_clock_s();
    ms_err err = run_turn(c, &t);
    double total = ms_clock_s() - t0;
    ms_buf_free(&json); /* wipes the reply's JSON: its content is in out now */
    out->seal_s = t.info->seal_s;
    out->open_s = t.info->open_s;
    /* What is left of the turn: HTTP both ways, the supervisor and its engine. */
    out->transport_s = total > out->seal_s + out->open_s ? total - out->seal_s - out->open_s : 0.0;
    out->rehandshakes = rehandshakes(c) - before;
    if (err != MS_OK && err != MS_ERR_BACKEND_REMOTE) {
        ms_buf_clear(&out->content);
    }
    return err;
}

ms_err ms_client_turn_stream(ms_client *c, const uint8_t *req, size_t len,
                             ms_client_piece_fn on_piece, void *ctx, ms_buf *final_json,
                             ms_client_turn_info *info)
{
    ms_client_turn_info local;
    turn t = {.req = req,
              .len = len,
              .stream = 1,
              .on_piece = on_piece,
              .ctx = ctx,
              .out = final_json,
              .info = info ? info : &local};
    memset(t.info, 0, sizeof *t.info);
    ENSURE(c != NULL && req != NULL && len > 0 && final_json != NULL, MS_ERR_ARG);
    return run_turn(c, &t);
}

/* --- close and accessors ------------------------------------------------------------------- */

static ms_err close_session(ms_client *c)
{
    char path[96];
    ms_buf body, resp, pt;
    ms_link_resp lr;
    ms_buf_init(&body, MS_CLIENT_FINISH_MAX_LEN + MS_REC_OVERHEAD);
    ms_buf_init(&resp, MS_MAX_HTTP_BODY);
    ms_buf_init(&pt, MS_MAX_RECORD_PLAINTEXT);
    ms_err err = ms_buf_append(&body, c->cf.p, c->cf.len);
    if (err == MS_OK) {
        err = ms_channel_seal_buf(c->chan, MS_REC_CLOSE, 0, 0, NULL, 0, &body);
    }
    if (err == MS_OK) {
        err = session_path(c, "close", path, sizeof path);
    }
    if (err == MS_OK) {
        err = ms_client_post(c, path, &body, 0, resp.max, ms_link_collect, &resp, &lr);
    }
    if (err == MS_OK && lr.status != 404) {
        err = ms_client_status_err(lr.status, 200);
    }
    if (err == MS_OK && lr.status == 200) {
        err = ms_reply_open_single(c->chan, resp.p, resp.len, MS_REC_CLOSE, 0, &pt);
    }
    ms_buf_free(&body);
    ms_buf_free(&resp);
    ms_buf_free(&pt);
    return err;
}

ms_err ms_client_close(ms_client *c)
{
    ENSURE(c != NULL, MS_ERR_ARG);
    if (!c->chan) {
        return MS_OK;
    }
    ms_err err = close_session(c);
    ms_client_drop_session(c);
    return err;
}

void ms_client_peer_info(const ms_client *c, ms_client_peer *out)
{
    memset(out, 0, sizeof *out);
    if (!c) {
        return;
    }
    out->handshakes = c->handshakes;
    out->rehandshakes = c->handshakes > 0 ? c->handshakes - 1 : 0;
    if (c->policy->have_dev_pk) {
        ms_devkey_fingerprint(c->policy->dev_pk, out->dev_key_fp);
    }
    if (!c->chan) {
        return;
    }
    out->connected = 1;
    memcpy(out->session_id, c->res.session_id, MS_SESSION_ID_LEN);
    memcpy(out->session_hex, c->sid_hex, sizeof out->session_hex);
    out->evidence_type = c->res.evidence_type;
    out->evidence_mode = c->res.evidence_mode;
    out->evidence_held = c->res.evidence_held;
    out->evidence_not_after = c->res.evidence_not_after;
    memcpy(out->static_pk, c->res.static_pk, MS_X25519_LEN);
    out->tls = c->tls;
    memcpy(out->tls_spki_hash, c->res.tls_spki_hash, MS_SPKI_HASH_LEN);
    memcpy(out->transcript_hash, c->res.transcript_hash, sizeof out->transcript_hash);
    memcpy(out->evidence_sha256, c->ev_digest, sizeof out->evidence_sha256);
}

ms_err ms_client_evidence(const ms_client *c, ms_evidence_view *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(c != NULL && c->chan != NULL && c->ev_view.data != NULL, MS_ERR_STATE);
    *out = c->ev_view;
    return MS_OK;
}

void ms_client_last_http(const ms_client *c, long *status, long *retry_after_s)
{
    *status = c ? c->last_status : 0;
    *retry_after_s = c ? c->last_retry_after : 0;
}

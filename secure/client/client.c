/* The client's session coordinator: handshake and checks, turns, one re-handshake on 404, close. */
#include "secure/client/client.h"

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

struct ms_client {
    ms_link *link;
    ms_attest_policy own;            /* built from pinned_dev_pk when no policy is given */
    const ms_attest_policy *policy;  /* what evidence is accepted and checked against */
    int strict;
    int allow_tls_proxy;
    unsigned handshakes;
    long last_status; /* of the last HTTP answer, 0 if none */
    long last_retry_after;
    /* The current session; chan == NULL when there is none. */
    struct ms_channel *chan;
    ms_hs_client_result res;
    ms_client_tls tls;
    ms_buf cf;            /* the ClientFinish until a 200 shows it was delivered (§12.1) */
    uint32_t next_msg_id; /* §12.1: requests are numbered 1, 2, 3, ... per session */
    char sid_hex[2 * MS_SESSION_ID_LEN + 1];
    uint8_t ev_digest[crypto_hash_sha256_BYTES]; /* of the evidence the verifier accepted */
    /*
     * FAST evidence is the same for every session under one static key (§6): the last one
     * this client's verifier accepted is remembered (a digest over everything the verifier
     * reads) until its evidence_not_after, so later handshakes under that key skip the
     * repeat check. Kept across sessions; never used for STRICT evidence.
     */
    uint8_t fast_key[crypto_generichash_BYTES];
    uint64_t fast_not_after; /* 0: nothing remembered */
    ms_evidence_verify_fn verify;                /* NULL: the policy's */
    void *verify_ctx;
    /* A copy of the accepted evidence and its view (ms_client_evidence). */
    ms_buf ev;
    ms_evidence_view ev_view;
    uint8_t ev_static_pk[MS_X25519_LEN], ev_binding[MS_BINDING_LEN];
    uint8_t ev_tls[MS_SPKI_HASH_LEN], ev_sid[MS_SESSION_ID_LEN], ev_th[MS_KEY_LEN];
};

/* --- the session's life -------------------------------------------------------------------- */

static void drop_session(ms_client *c)
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
    c->verify = cfg->verify;
    c->verify_ctx = cfg->verify_ctx;
    ms_err err = ms_link_new(&c->link, &lc);
    if (err != MS_OK) {
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
    drop_session(c);
    ms_buf_free(&c->ev);
    ms_link_free(c->link);
    ms_attest_policy_free(&c->own);
    ms_wipe(c, sizeof *c);
    free(c);
}

/* --- HTTP helpers -------------------------------------------------------------------------- */

static ms_err collect(void *ctx, const uint8_t *p, size_t n)
{
    ms_err e = ms_buf_append(ctx, p, n);
    return e == MS_ERR_CAP_EXCEEDED ? MS_ERR_HTTP_BODY : e;
}

/* §12.2 */
static ms_err status_err(long status, long want)
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
static ms_err post(ms_client *c, const char *path, const ms_buf *body, int fresh, size_t max,
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

/* --- handshake ----------------------------------------------------------------------------- */

/* Keep what was accepted, for ms_client_evidence: the view's pointers into the client. */
static ms_err keep_evidence(ms_client *c, const ms_evidence_view *ev)
{
    ms_buf_clear(&c->ev);
    TRY(ms_buf_append(&c->ev, ev->data, ev->len));
    memcpy(c->ev_static_pk, ev->static_pk, sizeof c->ev_static_pk);
    memcpy(c->ev_binding, ev->binding, sizeof c->ev_binding);
    memcpy(c->ev_tls, ev->tls_spki_hash, sizeof c->ev_tls);
    memcpy(c->ev_sid, ev->session_id, sizeof c->ev_sid);
    memcpy(c->ev_th, ev->transcript_hash, sizeof c->ev_th);
    c->ev_view = *ev;
    c->ev_view.data = c->ev.p;
    c->ev_view.static_pk = c->ev_static_pk;
    c->ev_view.binding = c->ev_binding;
    c->ev_view.tls_spki_hash = c->ev_tls;
    c->ev_view.session_id = c->ev_sid;
    c->ev_view.transcript_hash = c->ev_th;
    return MS_OK;
}

/* §7.3 check 9 under this client's attestation policy (secure/attest/policy.c). */
/*
 * What the FAST cache is keyed by: every input of a FAST verification but the clock
 * (type, mode, validity, the key vouched for, its binding, the TLS key hash, the evidence).
 */
static void fast_cache_key(const ms_evidence_view *ev, uint8_t out[crypto_generichash_BYTES])
{
    static const char label[] = "minions-secure/1 client fast evidence cache";
    crypto_generichash_state st;
    uint8_t hdr[2 + 1 + 8];
    hdr[0] = (uint8_t)(ev->type >> 8);
    hdr[1] = (uint8_t)ev->type;
    hdr[2] = ev->mode;
    for (int i = 0; i < 8; i++) {
        hdr[3 + i] = (uint8_t)(ev->not_after >> (56 - 8 * i));
    }
    crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label);
    crypto_generichash_update(&st, hdr, sizeof hdr);
    crypto_generichash_update(&st, ev->static_pk, MS_X25519_LEN);
    crypto_generichash_update(&st, ev->binding, MS_BINDING_LEN);
    crypto_generichash_update(&st, ev->tls_spki_hash, MS_SPKI_HASH_LEN);
    crypto_generichash_update(&st, ev->data, ev->len);
    crypto_generichash_final(&st, out, crypto_generichash_BYTES);
}

/* The policy's verifier, or a FAST evidence this client already accepted and still valid. */
static ms_err check_evidence(ms_client *c, const ms_evidence_view *ev)
{
    uint8_t key[crypto_generichash_BYTES];
    if (c->verify) {
        return c->verify(c->verify_ctx, ev); /* a caller's own verifier: never cached */
    }
    if (ev->mode != MS_MODE_FAST) {
        return ms_attest_policy_verify((void *)c->policy, ev);
    }
    fast_cache_key(ev, key);
    if (c->fast_not_after != 0 && ev->now < c->fast_not_after &&
        ev->not_after == c->fast_not_after && ms_ct_equal(key, c->fast_key, sizeof key)) {
        return MS_OK;
    }
    ms_err err = ms_attest_policy_verify((void *)c->policy, ev);
    if (err == MS_OK) {
        memcpy(c->fast_key, key, sizeof key);
        c->fast_not_after = ev->not_after;
    }
    return err;
}

static ms_err verify_evidence(void *ctx, const ms_evidence_view *ev)
{
    ms_client *c = ctx;
    ms_err err = check_evidence(c, ev);
    if (err == MS_OK) {
        crypto_hash_sha256(c->ev_digest, ev->data, ev->len);
        err = keep_evidence(c, ev);
    }
    return err;
}

/* §7.3, last paragraph: the TLS key of the handshake's connection is the one it names. */
static ms_err bind_tls(ms_client *c, const uint8_t hash[static MS_SPKI_HASH_LEN],
                       ms_client_tls *tls)
{
    static const uint8_t zero[MS_SPKI_HASH_LEN];
    uint8_t seen[MS_SPKI_HASH_LEN];
    char want_fp[MS_LOG_FP_LEN], seen_fp[MS_LOG_FP_LEN];
    *tls = MS_CLIENT_TLS_NONE;
    if (!ms_link_is_tls(c->link)) {
        return MS_OK; /* plain http, allowed on loopback only (checked in ms_client_new) */
    }
    if (ms_ct_equal(hash, zero, MS_SPKI_HASH_LEN)) {
        if (!c->allow_tls_proxy) {
            ms_log(MS_LOG_INFO, "client",
                   "the supervisor binds no TLS key (TLS ends in front "
                   "of it) and TLS proxies are not allowed");
            return MS_ERR_HTTP_PIN;
        }
        *tls = MS_CLIENT_TLS_PROXY;
        return MS_OK;
    }
    TRY(ms_link_peer_spki(c->link, seen));
    if (!ms_ct_equal(seen, hash, MS_SPKI_HASH_LEN)) {
        ms_log_fingerprint(hash, MS_SPKI_HASH_LEN, want_fp);
        ms_log_fingerprint(seen, MS_SPKI_HASH_LEN, seen_fp);
        ms_log(MS_LOG_INFO, "client", "TLS key %s of this connection is not the handshake's %s",
               seen_fp, want_fp);
        return MS_ERR_HTTP_PIN;
    }
    TRY(ms_link_pin(c->link, hash));
    *tls = MS_CLIENT_TLS_PINNED;
    return MS_OK;
}

static ms_err handshake(ms_client *c)
{
    ms_err err = MS_OK;
    struct ms_hs_client *hs = NULL;
    struct ms_channel *chan = NULL;
    ms_hs_client_result res;
    ms_client_tls tls;
    ms_link_resp lr;
    ms_buf ch, sh;
    size_t n;
    ms_hs_client_cfg hc = {.evidence_types = c->policy->accept,
                           .n_evidence_types = c->policy->n_accept,
                           .strict = c->strict,
                           .verify = verify_evidence,
                           .verify_ctx = c};
    drop_session(c);
    memset(&res, 0, sizeof res);
    ms_buf_init(&ch, MS_CLIENT_HELLO_MAX_LEN);
    ms_buf_init(&sh, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    TRY_OUT(ms_hs_client_new(&hs, &hc, &ch));
    /* §12.1 handshake, on the kept-alive connection; bind_tls checks that connection's key. */
    TRY_OUT(post(c, "/v1/handshake", &ch, 1, sh.max, collect, &sh, &lr));
    TRY_OUT(status_err(lr.status, 200));
    /* §7.3 checks 1-9 (the evidence through verify_evidence); on failure nothing is sent. */
    TRY_OUT(ms_hs_client_finish(hs, sh.p, sh.len, (uint64_t)time(NULL), &c->cf, &chan, &res));
    TRY_OUT(bind_tls(c, res.tls_spki_hash, &tls));
    TRY_OUT(ms_hex_encode(res.session_id, MS_SESSION_ID_LEN, c->sid_hex, sizeof c->sid_hex, &n));
    c->chan = chan;
    chan = NULL;
    c->res = res;
    c->tls = tls;
    c->next_msg_id = 1;
    c->handshakes++;
out:
    ms_hs_client_free(hs);
    ms_channel_free(chan);
    ms_wipe(&res, sizeof res);
    ms_buf_free(&ch);
    ms_buf_free(&sh);
    if (err != MS_OK) {
        drop_session(c);
    }
    return err;
}

ms_err ms_client_connect(ms_client *c)
{
    ENSURE(c != NULL, MS_ERR_ARG);
    return handshake(c);
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
        drop_session(c);
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
        err = post(c, path, body, 0, resp.max, collect, &resp, &lr);
        t->info->http_status = lr.status;
        t->info->retry_after_s = lr.retry_after_s;
        after_finish(c, body->p[0] == MS_HS_CLIENT_FINISH, lr.status);
    }
    if (err == MS_OK) {
        err = status_err(lr.status, 200);
    }
    if (err == MS_OK) {
        double t0 = ms_clock_s();
        err = ms_reply_open_single(c->chan, resp.p, resp.len, MS_REC_MSG, msg_id, t->out);
        t->info->open_s += ms_clock_s() - t0;
    }
    ms_buf_free(&resp);
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
    ms_err err = post(c, path, body, 0, MAX_STREAM_BODY, stream_sink, &rs, &lr);
    t->info->http_status = lr.status;
    t->info->retry_after_s = lr.retry_after_s;
    t->info->streamed_bytes = rs.text_len;
    after_finish(c, body->p[0] == MS_HS_CLIENT_FINISH, lr.status);
    if (lr.status == 200 && rs.failed == MS_OK && err != MS_OK) {
        t->info->transport = err; /* the body was cut by the network, not by the reader */
        err = MS_OK;
    }
    if (err == MS_OK) {
        err = status_err(lr.status, 200);
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
    out->prompt_tokens = r->prompt_tokens;
    out->completion_tokens = r->completion_tokens;
    return ms_buf_append(&out->content, r->content, r->content_len);
}

/* §12.3: judge the reply JSON appended at out[before..] (parsed here, once); drop it when it
   is not a reply. */
static ms_err judge_reply(const turn *t, size_t before)
{
    ms_client_reply r;
    ENSURE(t->out->len > before, MS_ERR_PAYLOAD);
    ms_err err = ms_client_reply_parse(t->out->p + before, t->out->len - before, t->stream, &r);
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
            TRY(handshake(c));
            t->info->handshakes++;
        }
        memcpy(prefix, c->sid_hex, 8); /* turn_once may drop the session */
        prefix[8] = '\0';
        err = turn_once(c, t);
        if (err != MS_ERR_SESSION_UNKNOWN) {
            break;
        }
        drop_session(c);
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
        err = post(c, path, &body, 0, resp.max, collect, &resp, &lr);
    }
    if (err == MS_OK && lr.status != 404) {
        err = status_err(lr.status, 200);
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
    drop_session(c);
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

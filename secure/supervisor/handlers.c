/* Supervisor endpoints: handshake, finish, request, close; streams in stream.c. */
#include "secure/supervisor/handlers.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/codec.h"
#include "common/log.h"
#include "secure/attest/policy.h"
#include "secure/hs_msg.h"
#include "secure/supervisor/internal.h"

uint64_t ms_now_s(void)
{
    return (uint64_t)time(NULL);
}

void ms_sup_reply_init(ms_sup_reply *r)
{
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->body, MS_MAX_HTTP_BODY);
    r->status = 500;
    r->content_type = "text/plain";
}

void ms_sup_reply_free(ms_sup_reply *r)
{
    ms_buf_free(&r->body);
}

void ms_sup_fail(ms_sup_reply *r, int status, ms_err cause)
{
    static const struct {
        int status;
        const char *text;
    } bodies[] = {{400, "rejected\n"}, {404, "unknown session\n"}, {503, "busy\n"}};
    ms_buf_clear(&r->body);
    r->status = status;
    r->cause = cause;
    r->content_type = "text/plain";
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        if (bodies[i].status == status) {
            ms_err e = ms_buf_append_str(&r->body, bodies[i].text);
            (void)e; /* a short constant always fits */
        }
    }
}

static void set_prefix(ms_sup_reply *r, const uint8_t sid[static MS_SESSION_ID_LEN])
{
    size_t n;
    if (ms_hex_encode(sid, 4, r->sid_prefix, sizeof r->sid_prefix, &n) != MS_OK) {
        r->sid_prefix[0] = 0;
    }
}

enum ms_sup_route ms_sup_route_of(const char *path, uint8_t sid[static MS_SESSION_ID_LEN])
{
    static const struct {
        const char *suffix;
        enum ms_sup_route route;
    } tails[] = {{"/finish", MS_ROUTE_FINISH},
                 {"/request", MS_ROUTE_REQUEST},
                 {"/stream", MS_ROUTE_STREAM},
                 {"/close", MS_ROUTE_CLOSE}};
    const char prefix[] = "/v1/session/";
    size_t n;
    memset(sid, 0, MS_SESSION_ID_LEN);
    if (strcmp(path, "/v1/health") == 0) {
        return MS_ROUTE_HEALTH;
    }
    if (strcmp(path, "/v1/handshake") == 0) {
        return MS_ROUTE_HANDSHAKE;
    }
    if (strncmp(path, prefix, sizeof prefix - 1) != 0) {
        return MS_ROUTE_NONE;
    }
    const char *hex = path + sizeof prefix - 1;
    for (size_t i = 0; i < 2 * MS_SESSION_ID_LEN && hex[i]; i++) {
        if (hex[i] >= 'A' && hex[i] <= 'F') { /* 12: lowercase only, one spelling per session */
            return MS_ROUTE_NONE;
        }
    }
    if (strnlen(hex, 2 * MS_SESSION_ID_LEN + 1) < 2 * MS_SESSION_ID_LEN ||
        ms_hex_decode(hex, 2 * MS_SESSION_ID_LEN, sid, MS_SESSION_ID_LEN, &n) != MS_OK) {
        memset(sid, 0, MS_SESSION_ID_LEN);
        return MS_ROUTE_NONE;
    }
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        if (strcmp(hex + 2 * MS_SESSION_ID_LEN, tails[i].suffix) == 0) {
            return tails[i].route;
        }
    }
    memset(sid, 0, MS_SESSION_ID_LEN);
    return MS_ROUTE_NONE;
}

size_t ms_sup_body_cap(enum ms_sup_route route)
{
    switch (route) {
    case MS_ROUTE_HANDSHAKE:
    case MS_ROUTE_FINISH:
    case MS_ROUTE_HEALTH:
    case MS_ROUTE_NONE:
        return MS_SUP_SMALL_BODY;
    default:
        return MS_MAX_HTTP_BODY;
    }
}

static void handle_health(const ms_sup *sup, ms_sup_reply *r)
{
    const char *name = ms_evidence_type_name(sup->id->src.type);
    char json[160];
    snprintf(json, sizeof json, "{\"status\":\"ok\",\"protocol\":1,\"evidence\":[\"%s\"],\"mode\":\"%s\"}",
             name, sup->development ? "development" : "attested");
    ms_buf_clear(&r->body);
    ms_err e = ms_buf_append_str(&r->body, json);
    r->status = e == MS_OK ? 200 : 500;
    r->content_type = "application/json";
}

/* The evidence provider with fresh evidence rate-limited (§12.2): each costs the TPM a quote. */
typedef struct limited_provider {
    ms_identity_snapshot *snap;
    ms_rate *rate;
    unsigned retry_after_s;
    ms_session_meta meta; /* what the session got, for the audit log */
} limited_provider;

static ms_err provide_limited(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    limited_provider *lp = ctx;
    if (req->strict && lp->rate && !ms_rate_take(lp->rate, ms_clock_ms(), &lp->retry_after_s)) {
        return MS_ERR_STRICT_RATE;
    }
    TRY(ms_identity_provide(lp->snap, req, rep));
    if (rep->mode == MS_MODE_FAST) { /* the snapshot's evidence: its digest is made once */
        memcpy(lp->meta.evidence_sha256, lp->snap->evidence_sha256, sizeof lp->meta.evidence_sha256);
    } else {
        crypto_hash_sha256(lp->meta.evidence_sha256, rep->evidence.p, rep->evidence.len);
    }
    lp->meta.mode = rep->mode;
    return MS_OK;
}

/*
 * The cryptography, then the table; `base` (the per-address slot, the allow-list) goes into
 * the session's meta. 1 when the session is in the table (it then owns base's slot).
 */
static int handshake_core(ms_sup *sup, const ms_session_meta *base, const uint8_t *held,
                          const uint8_t *body, size_t len, ms_sup_reply *r)
{
    ms_identity_snapshot snap;
    limited_provider lp = {.snap = &snap, .rate = sup->strict_rate, .meta = *base};
    struct ms_hs_pending *p = NULL;
    uint64_t now = ms_clock_ms();
    ms_err e = ms_identity_take(sup->id, ms_now_s(), &snap);
    if (e != MS_OK) {
        ms_identity_snapshot_wipe(&snap);
        ms_sup_fail(r, 503, e);
        r->retry_after = 5;
        return 0;
    }
    ms_hs_server_cfg cfg = {.static_sk = snap.static_sk, .static_pk = snap.static_pk,
                            .tls_spki_hash = sup->tls_spki, .provide = provide_limited,
                            .provide_ctx = &lp, .held_sha256 = held};
    ms_buf_clear(&r->body);
    e = ms_hs_server_respond(&cfg, body, len, &r->body, &p);
    ms_identity_snapshot_wipe(&snap);
    if (e == MS_ERR_STRICT_RATE) {
        ms_sup_fail(r, 503, e);
        r->retry_after = (int)lp.retry_after_s;
        return 0;
    }
    if (e != MS_OK) {
        ms_sup_fail(r, 400, e);
        return 0;
    }
    set_prefix(r, ms_hs_pending_session_id(p));
    lp.meta.started_s = ms_now_s();
    e = ms_sessions_add(sup->sessions, p, &lp.meta, now); /* takes p, and the slot */
    if (e != MS_OK) {
        ms_sup_fail(r, e == MS_ERR_SERVER_BUSY ? 503 : 500, e);
        r->retry_after = e == MS_ERR_SERVER_BUSY ? 1 : 0;
        return 1; /* the slot went with the session that was never added */
    }
    r->status = 200;
    r->content_type = "application/octet-stream";
    return 1;
}

/* Log (fingerprint only) and audit a client the allow-list turned away. */
static void say_refused(ms_sup *sup, const uint8_t *pk, ms_err why, const char *stage)
{
    char fp[MS_FINGERPRINT_LEN];
    if (pk) {
        ms_devkey_fingerprint(pk, fp);
    }
    ms_log(MS_LOG_WARN, "supervisor", "client refused at %s: %s (client key %s)", stage,
           ms_err_name(why), pk ? fp : "none");
    ms_sup_audit_client_refused(sup->audit, pk, why, stage);
}

/*
 * The allow-list's check of a ClientHello, before any cryptography: the key it names must
 * be listed. The ClientFinish's signature later proves the client holds that key.
 */
static ms_err hello_allowed(ms_sup *sup, const uint8_t *body, size_t len)
{
    ms_client_hello ch;
    if (!sup->allow || ms_client_hello_decode(body, len, &ch) != MS_OK) {
        return MS_OK; /* not decodable: ms_hs_server_respond says why */
    }
    ms_err why = !ch.has_client_id                          ? MS_ERR_CLIENT_NO_ID
                 : !ms_allow_has(sup->allow, ch.client_id_pk) ? MS_ERR_CLIENT_NOT_ALLOWED
                                                              : MS_OK;
    if (why != MS_OK) {
        say_refused(sup, ch.has_client_id ? ch.client_id_pk : NULL, why, "handshake");
    }
    return why;
}

/*
 * §12.1 handshake: room first (cheap), then the address's limits, then the allow-list,
 * then the cryptography and the table (handshake_core).
 */
static void handle_handshake(ms_sup *sup, const ms_peer_key *peer, const uint8_t *held,
                             const uint8_t *body, size_t len, ms_sup_reply *r)
{
    ms_session_meta base = {.allow = sup->allow};
    unsigned retry = 0;
    if (!ms_sessions_has_room(sup->sessions, ms_clock_ms())) {
        ms_sup_fail(r, 503, MS_ERR_SERVER_BUSY);
        r->retry_after = 1;
        return;
    }
    if (peer && sup->peers && ms_peers_applies(sup->peers, peer)) {
        ms_err e = ms_peers_admit(sup->peers, peer, ms_clock_ms(), &retry);
        if (e != MS_OK) {
            ms_sup_fail(r, 503, e);
            r->retry_after = (int)retry;
            return;
        }
        base.peers = sup->peers;
        base.peer = *peer;
    }
    ms_err e = hello_allowed(sup, body, len);
    if (e != MS_OK) {
        ms_sup_fail(r, 400, e); /* the same "rejected" as any other failure (§11) */
    }
    if ((e != MS_OK || !handshake_core(sup, &base, held, body, len, r)) && base.peers) {
        ms_peers_done(base.peers, &base.peer);
    }
}

/*
 * The allow-list again once the ClientFinish verified: it may have been reloaded since the
 * ClientHello. A refusal drops the channel; the spent pending session is then evicted.
 */
static ms_err finish_allowed(ms_session *s)
{
    if (!s->meta.allow || ms_allow_has(s->meta.allow, s->client_id_pk)) {
        return MS_OK;
    }
    char fp[MS_FINGERPRINT_LEN];
    ms_devkey_fingerprint(s->client_id_pk, fp);
    ms_log(MS_LOG_WARN, "supervisor", "client refused at finish: %s (client key %s)",
           ms_err_name(MS_ERR_CLIENT_NOT_ALLOWED), fp);
    ms_channel_free(s->chan);
    s->chan = NULL;
    return MS_ERR_CLIENT_NOT_ALLOWED;
}

/* §12.1: a leading ClientFinish (50 or 114 bytes, by its sig_len) finishes a pending session. */
static ms_err finish_if_present(ms_session *s, const uint8_t *body, size_t len, size_t *used)
{
    ms_hs_server_result res;
    *used = 0;
    if (len == 0 || body[0] != MS_HS_CLIENT_FINISH) {
        ENSURE(s->state == MS_SESSION_OPEN, MS_ERR_STATE);
        return MS_OK;
    }
    ENSURE(s->state == MS_SESSION_PENDING, MS_ERR_STATE); /* a finish replayed or sent twice */
    size_t cf_len = len > 49 && body[49] == MS_SIG_LEN ? MS_CLIENT_FINISH_MAX_LEN : 50;
    cf_len = cf_len < len ? cf_len : len;
    TRY(ms_hs_server_finish(s->pending, body, cf_len, &s->chan, &res));
    s->has_client_id = res.has_client_id;
    memcpy(s->client_id_pk, res.client_id_pk, sizeof s->client_id_pk);
    TRY(finish_allowed(s));
    if (s->meta.peers) { /* no longer pending: its address's slot is free again */
        ms_peers_done(s->meta.peers, &s->meta.peer);
        s->meta.peers = NULL;
    }
    ms_hs_pending_free(s->pending);
    s->pending = NULL;
    s->state = MS_SESSION_OPEN;
    *used = cf_len;
    return MS_OK;
}

/*
 * Open the body's single record of type `want` (session lock held). Every check that can be
 * made on the header is made before opening, so a refused body changes nothing.
 */
ms_err ms_sup_open_body(ms_session *s, const uint8_t *body, size_t len, uint8_t want,
                        ms_record_info *info, ms_buf *pt)
{
    ms_record_header h;
    size_t used;
    TRY(finish_if_present(s, body, len, &used));
    body += used;
    len -= used;
    TRY(ms_record_header_decode(body, len, MS_DIR_C2S, &h));
    ENSURE(h.type == want, MS_ERR_PAYLOAD);
    ENSURE(want != MS_REC_MSG || h.msg_id != 0, MS_ERR_PAYLOAD);
    ENSURE(len - MS_REC_HEADER_LEN == h.ct_len, len - MS_REC_HEADER_LEN < h.ct_len
                                                    ? MS_ERR_TRUNCATED
                                                    : MS_ERR_TRAILING);
    TRY(ms_channel_open_buf(s->chan, body, len, info, pt));
    s->records_in++;
    s->bytes_in += info->pt_len;
    return MS_OK;
}

/* Look the session up and run fn under its lock; 404 for unknown ones. */
ms_session *ms_sup_session(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN], ms_sup_reply *r)
{
    set_prefix(r, sid);
    ms_session *s = ms_sessions_acquire(sup->sessions, sid, ms_clock_ms());
    if (!s) {
        ms_sup_fail(r, 404, MS_ERR_SESSION_UNKNOWN);
    }
    return s;
}

/*
 * A body refused on an established session leaves it as it was; so does a ClientFinish that
 * failed before its client_confirm verified (§7.4: a third party's). One that failed after
 * (its signature, the allow-list) ends the pending session.
 */
void ms_sup_reject(ms_sup *sup, ms_session *s, ms_sup_reply *r, ms_err e)
{
    if (s->state == MS_SESSION_PENDING && ms_hs_pending_spent(s->pending)) {
        ms_sessions_remove(sup->sessions, s, MS_SESSION_END_EVICTED);
    }
    ms_sup_fail(r, 400, e);
}

static void handle_finish(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN],
                          const uint8_t *body, size_t len, ms_sup_reply *r)
{
    size_t used;
    ms_session *s = ms_sup_session(sup, sid, r);
    if (!s) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    ms_err e = len > 0 && body[0] == MS_HS_CLIENT_FINISH ? finish_if_present(s, body, len, &used)
                                                         : MS_ERR_STATE;
    if (e == MS_OK && used != len) {
        e = MS_ERR_TRAILING;
    }
    if (e == MS_OK) {
        r->status = 204;
        ms_buf_clear(&r->body);
    } else {
        ms_sup_reject(sup, s, r, e);
    }
    pthread_mutex_unlock(&s->lock);
    ms_sessions_release(sup->sessions, s);
}

/*
 * The reply's JSON, written after room for the record header, sealed where it lies: the
 * ciphertext overwrites the plaintext (so it needs no wipe), and the buffer becomes the
 * HTTP body without a copy. A failed seal leaves the plaintext to the wipe of reply.
 */
static ms_err seal_in_place(ms_session *s, uint32_t msg_id, ms_buf *reply)
{
    size_t n = 0;
    TRY(ms_buf_reserve(reply, MS_TAG_LEN)); /* the bridge left this room: no growth */
    TRY(ms_channel_seal(s->chan, MS_REC_MSG, msg_id, 0, reply->p + MS_REC_HEADER_LEN,
                        reply->len - MS_REC_HEADER_LEN, reply->p, reply->cap, &n));
    reply->len = n;
    return MS_OK;
}

/* §12.1 request: open, ask the engine without holding the lock, seal the reply. */
static void handle_request(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN],
                           const uint8_t *body, size_t len, ms_sup_reply *r)
{
    ms_record_info info;
    ms_buf pt, reply;
    uint8_t *hdr;
    ms_session *s = ms_sup_session(sup, sid, r);
    if (!s) {
        return;
    }
    ms_buf_init(&pt, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&reply, ms_record_size(MS_MAX_RECORD_PLAINTEXT));
    pthread_mutex_lock(&s->lock);
    ms_err e = ms_sup_open_body(s, body, len, MS_REC_MSG, &info, &pt);
    if (e != MS_OK) {
        ms_sup_reject(sup, s, r, e);
    }
    s->requests += e == MS_OK;
    pthread_mutex_unlock(&s->lock);
    if (e == MS_OK && (e = ms_buf_extend(&reply, MS_REC_HEADER_LEN, &hdr)) != MS_OK) {
        ms_sup_fail(r, 500, e);
    } else if (e == MS_OK) {
        e = ms_bridge_turn(sup->bridge, pt.p, pt.len, 0, NULL, NULL, &reply);
        ms_buf_free(&pt); /* the request's plaintext: wiped as soon as the engine has it */
        r->cause = e; /* a bad payload still gets a sealed bad_request reply */
        size_t pt_len = reply.len - MS_REC_HEADER_LEN;
        pthread_mutex_lock(&s->lock);
        e = seal_in_place(s, info.msg_id, &reply);
        s->records_out += e == MS_OK;
        s->bytes_out += e == MS_OK ? pt_len : 0;
        pthread_mutex_unlock(&s->lock);
        if (e == MS_OK) {
            ms_buf_free(&r->body);
            r->body = reply; /* ciphertext only, handed over */
            ms_buf_init(&reply, 0);
        }
        r->status = e == MS_OK ? 200 : 500;
        r->content_type = "application/octet-stream";
    }
    ms_buf_free(&pt);
    ms_buf_free(&reply);
    ms_sessions_release(sup->sessions, s);
}

static void handle_close(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN],
                         const uint8_t *body, size_t len, ms_sup_reply *r)
{
    ms_record_info info;
    ms_buf pt;
    ms_session *s = ms_sup_session(sup, sid, r);
    if (!s) {
        return;
    }
    ms_buf_init(&pt, MS_MAX_RECORD_PLAINTEXT);
    pthread_mutex_lock(&s->lock);
    ms_err e = ms_sup_open_body(s, body, len, MS_REC_CLOSE, &info, &pt);
    if (e == MS_OK) {
        ms_buf_clear(&r->body);
        e = ms_channel_seal_buf(s->chan, MS_REC_CLOSE, 0, 0, NULL, 0, &r->body);
        s->records_out += e == MS_OK;
        r->status = e == MS_OK ? 200 : 500;
        r->content_type = "application/octet-stream";
        ms_sessions_remove(sup->sessions, s, MS_SESSION_END_CLOSED);
    } else {
        ms_sup_reject(sup, s, r, e);
    }
    pthread_mutex_unlock(&s->lock);
    ms_buf_free(&pt);
    ms_sessions_release(sup->sessions, s);
}

void ms_sup_handle(ms_sup *sup, enum ms_sup_route route, const uint8_t sid[static MS_SESSION_ID_LEN],
                   const uint8_t *body, size_t len, ms_sup_reply *r)
{
    ms_sup_handle_from(sup, NULL, route, sid, body, len, r);
}

void ms_sup_handle_from(ms_sup *sup, const ms_peer_key *peer, enum ms_sup_route route,
                        const uint8_t sid[static MS_SESSION_ID_LEN], const uint8_t *body,
                        size_t len, ms_sup_reply *r)
{
    ms_sup_handle_held(sup, peer, route, sid, NULL, body, len, r);
}

int ms_sup_held_hint(const char *value, uint8_t out[static MS_HELD_DIGEST_LEN])
{
    char again[2 * MS_HELD_DIGEST_LEN + 1];
    size_t n;
    /* 64 hex digits, lowercase only: decoded, then spelt again the one way it may be. */
    int ok = value != NULL && strnlen(value, sizeof again) == 2 * MS_HELD_DIGEST_LEN &&
             ms_hex_decode(value, 2 * MS_HELD_DIGEST_LEN, out, MS_HELD_DIGEST_LEN, &n) == MS_OK &&
             ms_hex_encode(out, MS_HELD_DIGEST_LEN, again, sizeof again, &n) == MS_OK &&
             ms_ct_equal(again, value, 2 * MS_HELD_DIGEST_LEN);
    if (!ok) {
        memset(out, 0, MS_HELD_DIGEST_LEN);
    }
    return ok;
}

void ms_sup_handle_held(ms_sup *sup, const ms_peer_key *peer, enum ms_sup_route route,
                        const uint8_t sid[static MS_SESSION_ID_LEN], const char *held_hint,
                        const uint8_t *body, size_t len, ms_sup_reply *r)
{
    uint8_t held[MS_HELD_DIGEST_LEN];
    switch (route) {
    case MS_ROUTE_HEALTH:
        handle_health(sup, r);
        break;
    case MS_ROUTE_HANDSHAKE:
        handle_handshake(sup, peer, ms_sup_held_hint(held_hint, held) ? held : NULL, body, len, r);
        break;
    case MS_ROUTE_FINISH:
        handle_finish(sup, sid, body, len, r);
        break;
    case MS_ROUTE_REQUEST:
        handle_request(sup, sid, body, len, r);
        break;
    case MS_ROUTE_CLOSE:
        handle_close(sup, sid, body, len, r);
        break;
    default:
        ms_sup_fail(r, 404, MS_ERR_ARG);
        break;
    }
    if (r->status >= 400 && r->cause != MS_OK) {
        ms_log(MS_LOG_INFO, "supervisor", "session %s: %d %s", r->sid_prefix[0] ? r->sid_prefix : "-",
               r->status, ms_err_name(r->cause));
    }
}

/* The client's handshake: evidence checked against the policy (or the remembered FAST
 * evidence), the TLS key bound, a new session (docs/protocol.md §7, §12.1). */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/codec.h"
#include "common/limits.h"
#include "common/log.h"
#include "secure/client/client_internal.h"
#include "secure/hs_msg.h"
#include "secure/record.h"

/* --- handshake ----------------------------------------------------------------------------- */

/*
 * Keep what was accepted, for ms_client_evidence: the view's pointers into the client.
 * `held`: the same bytes already kept by the client (the remembered FAST evidence), or
 * NULL (then they are copied).
 */
static ms_err keep_evidence(ms_client *c, const ms_evidence_view *ev, const uint8_t *held)
{
    ms_buf_clear(&c->ev);
    if (held == NULL) {
        TRY(ms_buf_append(&c->ev, ev->data, ev->len));
    }
    memcpy(c->ev_static_pk, ev->static_pk, sizeof c->ev_static_pk);
    memcpy(c->ev_binding, ev->binding, sizeof c->ev_binding);
    memcpy(c->ev_tls, ev->tls_spki_hash, sizeof c->ev_tls);
    memcpy(c->ev_sid, ev->session_id, sizeof c->ev_sid);
    memcpy(c->ev_th, ev->transcript_hash, sizeof c->ev_th);
    c->ev_view = *ev;
    c->ev_view.data = held != NULL ? held : c->ev.p;
    c->ev_view.static_pk = c->ev_static_pk;
    c->ev_view.binding = c->ev_binding;
    c->ev_view.tls_spki_hash = c->ev_tls;
    c->ev_view.session_id = c->ev_sid;
    c->ev_view.transcript_hash = c->ev_th;
    return MS_OK;
}

/* §7.3 check 9 under this client's attestation policy (secure/attest/policy.c). */
/*
 * What the FAST cache is keyed by: every input of a FAST verification but the clock and
 * the evidence bytes (type, mode, validity, the key vouched for, its binding, the TLS key
 * hash, the evidence's length); the bytes are compared with the remembered ones.
 */
static void fast_cache_key(const ms_evidence_view *ev, uint8_t out[crypto_generichash_BYTES])
{
    static const char label[] = "minions-secure/1 client fast evidence cache";
    crypto_generichash_state st;
    uint8_t hdr[2 + 1 + 8 + 8];
    hdr[0] = (uint8_t)(ev->type >> 8);
    hdr[1] = (uint8_t)ev->type;
    hdr[2] = ev->mode;
    for (int i = 0; i < 8; i++) {
        hdr[3 + i] = (uint8_t)(ev->not_after >> (56 - 8 * i));
        hdr[11 + i] = (uint8_t)((uint64_t)ev->len >> (56 - 8 * i));
    }
    crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label);
    crypto_generichash_update(&st, hdr, sizeof hdr);
    crypto_generichash_update(&st, ev->static_pk, MS_X25519_LEN);
    crypto_generichash_update(&st, ev->binding, MS_BINDING_LEN);
    crypto_generichash_update(&st, ev->tls_spki_hash, MS_SPKI_HASH_LEN);
    crypto_generichash_final(&st, out, crypto_generichash_BYTES);
}

/* The FAST evidence remembered, still valid, with the same inputs and the same bytes. */
static int fast_hit(const ms_client *c, const ms_evidence_view *ev,
                    const uint8_t key[crypto_generichash_BYTES])
{
    return c->fast_not_after != 0 && ev->now < c->fast_not_after &&
           ev->not_after == c->fast_not_after && ms_ct_equal(key, c->fast_key, sizeof c->fast_key) &&
           c->fast_ev.len == ev->len && (ev->len == 0 || ms_public_equal(c->fast_ev.p, ev->data, ev->len));
}

/* Remember accepted FAST evidence; if it cannot be kept, nothing is remembered. */
static void fast_remember(ms_client *c, const ms_evidence_view *ev,
                          const uint8_t key[crypto_generichash_BYTES],
                          const uint8_t digest[static crypto_hash_sha256_BYTES])
{
    c->fast_not_after = 0;
    ms_buf_clear(&c->fast_ev);
    if (ms_buf_append(&c->fast_ev, ev->data, ev->len) == MS_OK) {
        memcpy(c->fast_key, key, sizeof c->fast_key);
        memcpy(c->fast_digest, digest, sizeof c->fast_digest);
        c->fast_not_after = ev->not_after;
    }
}

/*
 * The policy's verifier, or a FAST evidence this client already accepted and still valid.
 * digest: the evidence's SHA-256 (for a remembered FAST evidence, the remembered one);
 * *held: the client's own copy of the accepted bytes when it remembers them, else NULL.
 */
static ms_err check_evidence(ms_client *c, const ms_evidence_view *ev,
                             uint8_t digest[static crypto_hash_sha256_BYTES], const uint8_t **held)
{
    uint8_t key[crypto_generichash_BYTES];
    ms_err err;
    *held = NULL;
    if (c->verify) {
        err = c->verify(c->verify_ctx, ev); /* a caller's own verifier: never cached */
    } else if (ev->held) {
        /* Named by its digest (§6): only the exact remembered acceptance will do; its
           bytes passed the full check, a reference never gets one of its own. */
        fast_cache_key(ev, key);
        ENSURE(fast_hit(c, ev, key), MS_ERR_HS_HELD_EVIDENCE);
        memcpy(digest, c->fast_digest, crypto_hash_sha256_BYTES);
        *held = c->fast_ev.p;
        return MS_OK;
    } else if (ev->mode != MS_MODE_FAST) {
        err = ms_attest_policy_verify((void *)c->policy, ev);
    } else {
        fast_cache_key(ev, key);
        if (fast_hit(c, ev, key)) {
            memcpy(digest, c->fast_digest, crypto_hash_sha256_BYTES);
            *held = c->fast_ev.p;
            return MS_OK;
        }
        err = ms_attest_policy_verify((void *)c->policy, ev);
        if (err == MS_OK) {
            crypto_hash_sha256(digest, ev->data, ev->len);
            fast_remember(c, ev, key, digest);
            *held = c->fast_not_after != 0 ? c->fast_ev.p : NULL;
        }
        return err;
    }
    if (err == MS_OK) {
        crypto_hash_sha256(digest, ev->data, ev->len);
    }
    return err;
}

static ms_err verify_evidence(void *ctx, const ms_evidence_view *ev)
{
    ms_client *c = ctx;
    const uint8_t *held;
    ms_err err = check_evidence(c, ev, c->ev_digest, &held);
    if (err == MS_OK) {
        err = keep_evidence(c, ev, held);
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
            return MS_ERR_HTTP_PIN_NONE;
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

/*
 * §6, §12.1: offer the remembered FAST evidence, still valid, to the handshake; a
 * supervisor that still has it then sends its digest instead of the bytes. Not with a
 * caller's own verifier (nothing is remembered) or STRICT.
 */
static void offer_held(const ms_client *c, ms_hs_client_cfg *hc, uint64_t now)
{
    if (c->verify == NULL && !c->strict && c->fast_not_after != 0 && now < c->fast_not_after) {
        hc->held = c->fast_ev.p;
        hc->held_len = c->fast_ev.len;
        hc->held_sha256 = c->fast_digest;
    }
}

/* Its SHA-256 in the handshake POST's Minions-Evidence-Held header (this request only). */
static ms_err held_header(ms_client *c)
{
    char line[sizeof MS_HELD_HEADER ": " + 2 * crypto_hash_sha256_BYTES];
    size_t n, pre = sizeof MS_HELD_HEADER ": " - 1;
    memcpy(line, MS_HELD_HEADER ": ", pre);
    TRY(ms_hex_encode(c->fast_digest, sizeof c->fast_digest, line + pre, sizeof line - pre, &n));
    return ms_link_next_header(c->link, line);
}

ms_err ms_client_handshake(ms_client *c)
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
                           .verify_ctx = c,
                           .client_id_sk = c->has_id ? c->id_sk : NULL};
    ms_client_drop_session(c);
    memset(&res, 0, sizeof res);
    ms_buf_init(&ch, MS_CLIENT_HELLO_MAX_LEN);
    ms_buf_init(&sh, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    offer_held(c, &hc, (uint64_t)time(NULL));
    TRY_OUT(ms_hs_client_new(&hs, &hc, &ch));
    if (hc.held_sha256 != NULL) {
        TRY_OUT(held_header(c));
    }
    /* §12.1 handshake, on the kept-alive connection; bind_tls checks that connection's key. */
    TRY_OUT(ms_client_post(c, "/v1/handshake", &ch, 1, sh.max, ms_link_collect, &sh, &lr));
    TRY_OUT(ms_client_status_err(lr.status, 200));
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
        ms_client_drop_session(c);
    }
    return err;
}

ms_err ms_client_connect(ms_client *c)
{
    ENSURE(c != NULL, MS_ERR_ARG);
    return ms_client_handshake(c);
}

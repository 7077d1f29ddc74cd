/* Test fixture for the channel: an evidence provider and verifier, and handshaken pairs. */
#ifndef MS_TESTS_CRYPTO_FIXTURE_H
#define MS_TESTS_CRYPTO_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "secure/handshake.h"
#include "secure/hs_msg.h"
#include "secure/record.h"
#include "tests/test.h"

#define FX_FAR_FUTURE 4102444800ull /* 2100-01-01 */
#define FX_NOW 1800000000ull

/*
 * The test "evidence" is the binding B itself: the provider returns B, the verifier checks
 * that what it received equals the B it computed, and that the static key is the pinned
 * one. That proves both sides compute the same binding, without any real attestation.
 */
typedef struct fx_server {
    uint8_t static_sk[MS_X25519_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    uint16_t type;        /* the one evidence type this server can make */
    int can_strict;
    uint64_t not_after;
    int calls;
    ms_hs_server_cfg cfg;
} fx_server;

typedef struct fx_client {
    uint8_t pinned_static_pk[MS_X25519_LEN];
    uint16_t types[MS_MAX_HS_LIST];
    uint8_t n_types;
    int strict;
    int calls;
    int reject_all;
    uint8_t last_binding[MS_BINDING_LEN];
    ms_hs_client_cfg cfg;
} fx_client;

static inline ms_err fx_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    fx_server *s = ctx;
    uint8_t b[MS_BINDING_LEN];
    int offered = 0;
    s->calls++;
    for (uint8_t i = 0; i < req->n_client_types; i++) {
        offered |= req->client_types[i] == s->type;
    }
    if (!offered) {
        return MS_ERR_HS_EVIDENCE_TYPE;
    }
    if (req->strict && !s->can_strict) {
        return MS_ERR_HS_MODE;
    }
    ms_binding_in in = {.evidence_type = s->type,
                        .mode = req->strict ? MS_MODE_STRICT : MS_MODE_FAST,
                        .not_after = s->not_after};
    memcpy(in.static_pk, req->static_pk, MS_X25519_LEN);
    memcpy(in.challenge, req->challenge, MS_CHALLENGE_LEN);
    memcpy(in.client_eph_pk, req->client_eph_pk, MS_X25519_LEN);
    memcpy(in.server_eph_pk, req->server_eph_pk, MS_X25519_LEN);
    ms_err e = ms_kdf_binding(b, &in);
    if (e != MS_OK) {
        return e;
    }
    rep->type = in.evidence_type;
    rep->mode = in.mode;
    rep->not_after = in.not_after;
    return ms_buf_append(&rep->evidence, b, sizeof b);
}

static inline ms_err fx_verify(void *ctx, const ms_evidence_view *ev)
{
    fx_client *c = ctx;
    c->calls++;
    memcpy(c->last_binding, ev->binding, MS_BINDING_LEN);
    if (c->reject_all) {
        return MS_ERR_ATTEST_REJECTED;
    }
    if (!ms_ct_equal(ev->static_pk, c->pinned_static_pk, MS_X25519_LEN)) {
        return MS_ERR_ATTEST_REJECTED;
    }
    if (ev->len != MS_BINDING_LEN || !ms_ct_equal(ev->data, ev->binding, MS_BINDING_LEN)) {
        return MS_ERR_ATTEST_REJECTED;
    }
    return MS_OK;
}

static inline void fx_server_init(fx_server *s, uint8_t seed)
{
    memset(s, 0, sizeof *s);
    memset(s->static_sk, seed, sizeof s->static_sk);
    crypto_scalarmult_base(s->static_pk, s->static_sk);
    s->type = MS_EVIDENCE_DEV_KEY;
    s->can_strict = 1;
    s->not_after = FX_FAR_FUTURE;
    s->cfg.static_sk = s->static_sk;
    s->cfg.static_pk = s->static_pk;
    s->cfg.provide = fx_provide;
    s->cfg.provide_ctx = s;
}

static inline void fx_client_init(fx_client *c, const fx_server *pinned)
{
    memset(c, 0, sizeof *c);
    memcpy(c->pinned_static_pk, pinned->static_pk, MS_X25519_LEN);
    c->types[0] = MS_EVIDENCE_DEV_KEY;
    c->n_types = 1;
    c->cfg.evidence_types = c->types;
    c->cfg.n_evidence_types = 1;
    c->cfg.verify = fx_verify;
    c->cfg.verify_ctx = c;
}

/* A full handshake; returns MS_OK and both channels, or the first error. */
static inline ms_err fx_pair(fx_client *c, fx_server *s, struct ms_channel **cc, struct ms_channel **sc)
{
    ms_err err;
    ms_buf ch, sh, cf;
    struct ms_hs_client *hc = NULL;
    struct ms_hs_pending *p = NULL;
    ms_hs_client_result cres;
    ms_hs_server_result sres;
    *cc = *sc = NULL;
    ms_buf_init(&ch, 4096);
    ms_buf_init(&sh, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    ms_buf_init(&cf, 4096);
    c->cfg.strict = c->strict;
    c->cfg.n_evidence_types = c->n_types;
    err = ms_hs_client_new(&hc, &c->cfg, &ch);
    if (err == MS_OK) {
        err = ms_hs_server_respond(&s->cfg, ch.p, ch.len, &sh, &p);
    }
    if (err == MS_OK) {
        err = ms_hs_client_finish(hc, sh.p, sh.len, FX_NOW, &cf, cc, &cres);
    }
    if (err == MS_OK) {
        err = ms_hs_server_finish(p, cf.p, cf.len, sc, &sres);
    }
    if (err != MS_OK) {
        ms_channel_free(*cc);
        ms_channel_free(*sc);
        *cc = *sc = NULL;
    }
    ms_hs_client_free(hc);
    ms_hs_pending_free(p);
    ms_buf_free(&ch);
    ms_buf_free(&sh);
    ms_buf_free(&cf);
    return err;
}

/* A channel pair from fixed keys, for record tests that do not need a handshake. */
static inline void fx_keyed_pair(struct ms_channel **cc, struct ms_channel **sc, uint8_t seed)
{
    uint8_t sid[MS_SESSION_ID_LEN], k1[MS_KEY_LEN], k2[MS_KEY_LEN];
    memset(sid, seed, sizeof sid);
    memset(k1, seed ^ 0x11, sizeof k1);
    memset(k2, seed ^ 0x22, sizeof k2);
    if (ms_channel_new(cc, MS_ROLE_CLIENT, sid, k1, k2) != MS_OK ||
        ms_channel_new(sc, MS_ROLE_SERVER, sid, k1, k2) != MS_OK) {
        abort();
    }
}

#endif

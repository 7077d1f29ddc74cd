/* libFuzzer harness: both handshake state machines fed arbitrary peer messages, deterministically. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/handshake.h"
#include "secure/hs_msg.h"
#include "secure/kdf.h"
#include "secure/record.h"
#include "secure/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any Unix time before the seeds' not_after; the evidence is checked against it. */
#define FUZZ_NOW 1700000000ull
#define FUZZ_NOT_AFTER 4102444800ull

/* Fixed secrets (all fixed, so every run is reproducible); the seeds are built from them. */
static const uint8_t client_eph_sk[MS_X25519_LEN] = {
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
static const uint8_t client_challenge[MS_CHALLENGE_LEN] = {
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf};
static const uint8_t server_eph_sk[MS_X25519_LEN] = {
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22};
static const uint8_t server_static_sk[MS_X25519_LEN] = {
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33};
static const uint8_t server_session_id[MS_SESSION_ID_LEN] = {
    0x5e, 0x55, 0x10, 0x4e, 0x5e, 0x55, 0x10, 0x4e, 0x5e, 0x55, 0x10, 0x4e, 0x5e, 0x55, 0x10, 0x4e};
static const uint16_t client_types[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_TPM2_QUOTE,
                                        MS_EVIDENCE_SEV_SNP};

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static ms_err verify_accept(void *ctx, const ms_evidence_view *ev)
{
    (void)ctx;
    require(ev->binding != NULL && ev->static_pk != NULL && (ev->len == 0 || ev->data != NULL));
    return MS_OK;
}

/*
 * A supervisor that makes dev-key evidence in FAST mode only and "tpm2-quote" evidence (the
 * binding itself, standing in for a quote) in either mode: enough to reach every negotiation
 * outcome of §4.
 */
static ms_err provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    (void)ctx;
    for (uint8_t i = 0; i < req->n_client_types; i++) {
        uint16_t t = req->client_types[i];
        if (t == MS_EVIDENCE_DEV_KEY && !req->strict) {
            rep->type = t;
            rep->mode = MS_MODE_FAST;
            rep->not_after = FUZZ_NOT_AFTER;
            return MS_OK;
        }
        if (t == MS_EVIDENCE_TPM2_QUOTE) {
            uint8_t b[MS_BINDING_LEN];
            ms_binding_in in = {.evidence_type = t,
                                .mode = req->strict ? MS_MODE_STRICT : MS_MODE_FAST,
                                .not_after = FUZZ_NOT_AFTER};
            memcpy(in.static_pk, req->static_pk, MS_X25519_LEN);
            memcpy(in.challenge, req->challenge, MS_CHALLENGE_LEN);
            memcpy(in.client_eph_pk, req->client_eph_pk, MS_X25519_LEN);
            memcpy(in.server_eph_pk, req->server_eph_pk, MS_X25519_LEN);
            require(ms_kdf_binding(b, &in) == MS_OK);
            rep->type = t;
            rep->mode = in.mode;
            rep->not_after = FUZZ_NOT_AFTER;
            return ms_buf_append(&rep->evidence, b, sizeof b);
        }
    }
    return req->strict ? MS_ERR_HS_MODE : MS_ERR_HS_EVIDENCE_TYPE;
}

/* FAST evidence the client holds (§6): a FAST_HELD ServerHello may name its SHA-256. */
static const uint8_t held[] = "fuzz held evidence";
static uint8_t held_sha256[MS_HELD_DIGEST_LEN];

/* The input as a ServerHello to a fixed client: the fuzzer cannot forge server_confirm. */
static void client_side(const uint8_t *data, size_t size)
{
    static const ms_hs_det det = {.eph_sk = client_eph_sk, .challenge = client_challenge};
    ms_hs_client_cfg cfg = {.evidence_types = client_types,
                            .n_evidence_types = sizeof client_types / sizeof client_types[0],
                            .verify = verify_accept, .held = held, .held_len = sizeof held - 1,
                            .held_sha256 = held_sha256};
    struct ms_hs_client *hs = NULL;
    struct ms_channel *chan = NULL;
    ms_hs_client_result res;
    ms_buf ch, cf;
    ms_buf_init(&ch, MS_CLIENT_HELLO_MAX_LEN);
    ms_buf_init(&cf, MS_CLIENT_FINISH_MAX_LEN);
    require(ms_hs_client_new_det(&hs, &cfg, &det, &ch) == MS_OK);
    ms_err e = ms_hs_client_finish(hs, data, size, FUZZ_NOW, &cf, &chan, &res);
    require(e != MS_OK && chan == NULL && cf.len == 0);
    require(ms_hs_client_finish(hs, data, size, FUZZ_NOW, &cf, &chan, &res) == MS_ERR_STATE);
    ms_hs_client_free(hs);
    ms_buf_free(&ch);
    ms_buf_free(&cf);
}

/* The input as a ClientHello to a fixed supervisor; a forged ClientFinish must then fail, twice. */
static void server_side(const uint8_t *data, size_t size, const uint8_t static_pk[static 32])
{
    static const ms_hs_det det = {.eph_sk = server_eph_sk, .session_id = server_session_id};
    ms_hs_server_cfg cfg = {.static_sk = server_static_sk, .static_pk = static_pk,
                            .provide = provide};
    struct ms_hs_pending *p = NULL;
    struct ms_channel *chan = NULL;
    ms_hs_server_result res;
    ms_server_hello sh;
    ms_buf shb;
    /* Right session id, zero confirm, no signature: passes every check but the MAC. */
    uint8_t cf[1 + MS_SESSION_ID_LEN + MS_KEY_LEN + 1] = {MS_HS_CLIENT_FINISH};
    memcpy(cf + 1, server_session_id, MS_SESSION_ID_LEN);
    ms_buf_init(&shb, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);

    ms_err e = ms_hs_server_respond_det(&cfg, &det, data, size, &shb, &p);
    if (e != MS_OK) {
        require(p == NULL && shb.len == 0);
    } else {
        require(p != NULL && ms_server_hello_decode(shb.p, shb.len, &sh) == MS_OK);
        require(memcmp(ms_hs_pending_session_id(p), server_session_id, MS_SESSION_ID_LEN) == 0);
        e = ms_hs_server_finish(p, cf, sizeof cf, &chan, &res);
        require(e != MS_OK && chan == NULL);
        /* A failed ClientFinish does not spend the pending session (protocol.md §7.4): the
           same forgery is refused the same way again, and still nothing is made. */
        require(ms_hs_server_finish(p, cf, sizeof cf, &chan, &res) == e && chan == NULL);
    }
    ms_hs_pending_free(p);
    ms_buf_free(&shb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t static_pk[MS_X25519_LEN];
    static int ready;
    if (!ready) {
        require(sodium_init() >= 0);
        crypto_scalarmult_base(static_pk, server_static_sk); /* once, as at start-up */
        crypto_hash_sha256(held_sha256, held, sizeof held - 1);
        ready = 1;
    }
    client_side(data, size);
    server_side(data, size, static_pk);
    return 0;
}

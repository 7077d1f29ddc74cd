/* Private to secure/client/client*.c: the client object and the helpers its files share. */
#ifndef MS_SECURE_CLIENT_CLIENT_INTERNAL_H
#define MS_SECURE_CLIENT_CLIENT_INTERNAL_H

#include <sodium.h>

#include "common/buf.h"
#include "secure/attest/policy.h"
#include "secure/client/client.h"
#include "secure/client/link.h"
#include "secure/handshake.h"

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
     * this client's verifier accepted is remembered (a digest over every other input the
     * verifier reads, and the evidence bytes themselves) until its evidence_not_after, so
     * later handshakes under that key skip the repeat check, and the evidence is neither
     * hashed nor verified again (composite evidence is kilobytes). Kept across sessions;
     * never used for STRICT evidence.
     */
    uint8_t fast_key[crypto_generichash_BYTES];
    uint64_t fast_not_after; /* 0: nothing remembered */
    ms_buf fast_ev;          /* the remembered evidence's bytes */
    uint8_t fast_digest[crypto_hash_sha256_BYTES]; /* and their SHA-256 (ev_digest) */
    ms_evidence_verify_fn verify;                /* NULL: the policy's */
    void *verify_ctx;
    /* A copy of the accepted evidence and its view (ms_client_evidence). */
    ms_buf ev;
    ms_evidence_view ev_view;
    uint8_t ev_static_pk[MS_X25519_LEN], ev_binding[MS_BINDING_LEN];
    uint8_t ev_tls[MS_SPKI_HASH_LEN], ev_sid[MS_SESSION_ID_LEN], ev_th[MS_KEY_LEN];
    /* The identity key of ms_client_cfg.client_id_sk (wiped by ms_client_free). */
    int has_id;
    uint8_t id_sk[MS_SIGN_SK_LEN];
};

/* Forget the current session (keys wiped, pin removed); the client stays usable. */
void ms_client_drop_session(ms_client *c);
/* §12.2: an HTTP status other than `want` as an error. */
MS_MUST_CHECK ms_err ms_client_status_err(long status, long want);
/* Every request goes through here, so the last status is known (ms_client_last_http). */
MS_MUST_CHECK ms_err ms_client_post(ms_client *c, const char *path, const ms_buf *body, int fresh,
                                    size_t max, ms_link_sink_fn sink, void *ctx,
                                    ms_link_resp *lr);
/* A new session (client_hs.c): §12.1 handshake, evidence checked, TLS key bound. */
MS_MUST_CHECK ms_err ms_client_handshake(ms_client *c);

#endif

/* The handshake of protocol.md §3-§7: client and supervisor state machines, sans I/O. */
#ifndef MS_SECURE_HANDSHAKE_H
#define MS_SECURE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/kdf.h"
#include "secure/record.h"
#include "secure/suite.h"

/*
 * Everything a client-side evidence verifier needs (§7.3 check 9). All pointers borrow
 * from the handshake and are valid only during the callback.
 */
typedef struct ms_evidence_view {
    uint16_t type;
    uint8_t mode;
    const uint8_t *data;
    size_t len;
    uint64_t not_after;
    uint64_t now;
    const uint8_t *static_pk;       /* MS_X25519_LEN: the key the evidence must vouch for */
    const uint8_t *binding;         /* MS_BINDING_LEN: B of §6 for this mode */
    const uint8_t *tls_spki_hash;   /* MS_SPKI_HASH_LEN; all zero when none is bound */
    const uint8_t *session_id;      /* MS_SESSION_ID_LEN */
    const uint8_t *transcript_hash; /* MS_KEY_LEN */
    /* 1: the ServerHello referred to the client's held evidence by its SHA-256
       (MS_MODE_FAST_HELD, §6); `data` is then the client's own copy and `mode` FAST. */
    uint8_t held;
} ms_evidence_view;

/* Return MS_OK to accept; any other code rejects and is returned by the handshake. */
typedef ms_err (*ms_evidence_verify_fn)(void *ctx, const ms_evidence_view *ev);

typedef struct ms_hs_client_cfg {
    const uint16_t *evidence_types; /* accepted types in order of preference, 1..MS_MAX_HS_LIST */
    uint8_t n_evidence_types;
    int strict;                     /* ask for fresh evidence over this session's challenge */
    const uint8_t *client_id_sk;    /* Ed25519 secret key (MS_SIGN_SK_LEN) or NULL; copied */
    ms_evidence_verify_fn verify;   /* required */
    void *verify_ctx;
    /*
     * FAST evidence this client accepted before and holds, or NULL: its SHA-256 is what the
     * client's Minions-Evidence-Held header names (§6, §12.1), and a ServerHello of mode
     * FAST_HELD may then refer to it by that digest. `held` is borrowed until
     * ms_hs_client_finish returns; the digest is copied. The verifier still decides.
     */
    const uint8_t *held;
    size_t held_len;
    const uint8_t *held_sha256; /* MS_HELD_DIGEST_LEN; NULL: nothing held */
} ms_hs_client_cfg;

/* What a finished handshake tells the client about its peer. */
typedef struct ms_hs_client_result {
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint8_t transcript_hash[MS_KEY_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    uint8_t tls_spki_hash[MS_SPKI_HASH_LEN];
    uint16_t evidence_type;
    uint8_t evidence_mode;
    uint64_t evidence_not_after;
    uint8_t evidence_held; /* 1: FAST evidence referred to by its SHA-256 (evidence_mode FAST) */
} ms_hs_client_result;

struct ms_hs_client;

/*
 * Start a handshake: fresh ephemeral key and challenge; appends the ClientHello to `ch_out`.
 * The object holds the ephemeral secret until ms_hs_client_finish or _free, which wipe it.
 */
MS_MUST_CHECK ms_err ms_hs_client_new(struct ms_hs_client **out, const ms_hs_client_cfg *cfg,
                                      ms_buf *ch_out);

/*
 * Process the ServerHello (§7.3, every check, in order). On success appends the
 * ClientFinish to `cf_out`, returns the established channel in *chan_out (caller frees) and
 * fills *res. On failure *chan_out is NULL and nothing is appended. Either way the object
 * is spent: a second call returns MS_ERR_STATE. `now` is Unix time in seconds.
 */
MS_MUST_CHECK ms_err ms_hs_client_finish(struct ms_hs_client *hs, const uint8_t *sh, size_t sh_len,
                                         uint64_t now, ms_buf *cf_out,
                                         struct ms_channel **chan_out, ms_hs_client_result *res);
void ms_hs_client_free(struct ms_hs_client *hs);

/* What the supervisor's evidence provider is asked for. Pointers valid during the call. */
typedef struct ms_evidence_request {
    const uint16_t *client_types; /* the client's accepted types, in its order */
    uint8_t n_client_types;
    int strict;                   /* the client asked for STRICT evidence */
    const uint8_t *static_pk;
    const uint8_t *challenge;
    const uint8_t *client_eph_pk;
    const uint8_t *server_eph_pk;
} ms_evidence_request;

/*
 * The provider's answer. `evidence` is initialised by the caller with cap MS_MAX_EVIDENCE.
 * Instead of appending to it, a provider may name bytes it keeps unchanged until the
 * respond call returns (`shared`, `shared_len` <= MS_MAX_EVIDENCE): FAST evidence, made
 * once per static key, then goes into the ServerHello without a copy of its own.
 */
typedef struct ms_evidence_reply {
    uint16_t type;
    uint8_t mode;
    uint64_t not_after;
    ms_buf evidence;
    const uint8_t *shared; /* NULL: `evidence` holds the bytes */
    size_t shared_len;
    /* The SHA-256 of the FAST bytes this reply names (MS_HELD_DIGEST_LEN), made once per
       evidence by the provider, or NULL: a client that holds them gets only this (§6). */
    const uint8_t *shared_sha256;
} ms_evidence_reply;

/*
 * Choose an evidence type the client accepts (the first of the client's list the provider
 * can make), compute the binding with ms_kdf_binding and produce the evidence. Return
 * MS_ERR_HS_EVIDENCE_TYPE when no type fits, MS_ERR_HS_MODE when STRICT was asked and
 * cannot be given.
 */
typedef ms_err (*ms_evidence_provide_fn)(void *ctx, const ms_evidence_request *req,
                                         ms_evidence_reply *reply);

typedef struct ms_hs_server_cfg {
    const uint8_t *static_sk;     /* X25519 static secret key (MS_X25519_LEN); borrowed */
    const uint8_t *static_pk;     /* its public key, computed once by the caller; borrowed */
    const uint8_t *tls_spki_hash; /* MS_SPKI_HASH_LEN, or NULL for "none bound" */
    ms_evidence_provide_fn provide;
    void *provide_ctx;
    /* The client's Minions-Evidence-Held hint (§12.1): MS_HELD_DIGEST_LEN bytes, or NULL.
       When the provider's FAST reply has exactly this SHA-256, the ServerHello carries the
       digest (mode FAST_HELD) instead of the bytes. Unauthenticated: it only picks that. */
    const uint8_t *held_sha256;
} ms_hs_server_cfg;

typedef struct ms_hs_server_result {
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint8_t has_client_id;
    uint8_t client_id_pk[MS_SIGN_PK_LEN];
} ms_hs_server_result;

/* A supervisor-side session between ServerHello and a verified ClientFinish (~250 bytes). */
struct ms_hs_pending;

/*
 * Answer a ClientHello (§4 checks, §5, §6, §7): appends the ServerHello to `sh_out` and
 * returns the pending session. The ephemeral secret is wiped before this returns.
 * Thread-safe for distinct outputs when the provider is (cfg is only read).
 */
MS_MUST_CHECK ms_err ms_hs_server_respond(const ms_hs_server_cfg *cfg, const uint8_t *ch,
                                          size_t ch_len, ms_buf *sh_out,
                                          struct ms_hs_pending **out);
const uint8_t *ms_hs_pending_session_id(const struct ms_hs_pending *p);

/*
 * Verify the ClientFinish (§7.4). On success returns the channel (caller frees) and the
 * pending session is spent (MS_ERR_STATE on reuse); free it with _free. A ClientFinish that
 * fails any check leaves the pending session as it was: a third party who learnt the session
 * id (or even saw the client's own ClientFinish) cannot spend it; only the real client can
 * compute client_confirm and the signature. Unfinished, it expires.
 */
MS_MUST_CHECK ms_err ms_hs_server_finish(struct ms_hs_pending *p, const uint8_t *cf, size_t cf_len,
                                         struct ms_channel **chan_out, ms_hs_server_result *res);
void ms_hs_pending_free(struct ms_hs_pending *p);
/* 1 once a ClientFinish verified (the channel was made, or failed to be for want of memory). */
int ms_hs_pending_spent(const struct ms_hs_pending *p);
/* The ClientHello's client identity key into pk (zero when none); 1 when there was one. */
int ms_hs_pending_client_id(const struct ms_hs_pending *p, uint8_t pk[static MS_SIGN_PK_LEN]);

/* Fixed secrets in place of fresh randomness: for known-answer tests only. */
typedef struct ms_hs_det {
    const uint8_t *eph_sk;     /* MS_X25519_LEN */
    const uint8_t *challenge;  /* client only: MS_CHALLENGE_LEN */
    const uint8_t *session_id; /* server only: MS_SESSION_ID_LEN */
    /* Client only, may be NULL: offer these lists instead of {VERSION_1} and {SUITE_1}. */
    const uint8_t *versions;
    uint8_t n_versions;
    const uint16_t *suites;
    uint8_t n_suites;
} ms_hs_det;

MS_MUST_CHECK ms_err ms_hs_client_new_det(struct ms_hs_client **out, const ms_hs_client_cfg *cfg,
                                          const ms_hs_det *det, ms_buf *ch_out);
MS_MUST_CHECK ms_err ms_hs_server_respond_det(const ms_hs_server_cfg *cfg, const ms_hs_det *det,
                                              const uint8_t *ch, size_t ch_len, ms_buf *sh_out,
                                              struct ms_hs_pending **out);

#endif

/* The client side of a minions-secure session over HTTP(S) (protocol.md §3-§12). */
#ifndef MS_SECURE_CLIENT_CLIENT_H
#define MS_SECURE_CLIENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/turn_reply.h"
#include "secure/attest/devkey.h"
#include "secure/handshake.h"
#include "secure/suite.h"

/*
 * One client talks to one supervisor and holds at most one session at a time. NOT
 * thread-safe: use one client per thread. The program should ignore SIGPIPE (libcurl runs
 * with CURLOPT_NOSIGNAL and a TLS write to a closed peer may raise it).
 *
 * What a client checks before it sends anything inside a record (§7.3):
 *  - the ServerHello, every check of §7.3. The evidence (check 9) goes to the attestation
 *    policy's verifier (cfg.policy, ms_attest_policy_verify: the evidence types it accepts,
 *    each against its pins: dev key, TPM AK and PCRs, SEV-SNP root and measurement); with
 *    no policy, one that accepts only dev-key evidence (§12.5) signed by pinned_dev_pk. A
 *    custom cfg.verify replaces that verifier entirely (see its comment). FAST evidence
 *    is the same for every session under one static key (§6), so the client remembers the
 *    last FAST evidence its policy accepted (a digest of the evidence, its binding, static
 *    key, TLS key hash, type and validity) until its evidence_not_after and does not verify
 *    the identical evidence again; anything different is verified in full. STRICT evidence
 *    and custom verifiers are never cached;
 *  - over https: the supervisor's TLS key, read from the certificate of the very connection
 *    that carried the handshake, equals the tls_spki_sha256 of the authenticated ServerHello
 *    (constant-time). An all-zero hash (TLS ends in front of the supervisor) is refused with
 *    MS_ERR_HTTP_PIN_NONE unless allow_tls_proxy. Every later connection is pinned to that key
 *    (CURLOPT_PINNEDPUBLICKEY), so a new connection to another key fails with
 *    MS_ERR_HTTP_PIN. Over plain http (loopback only, allow_http) there is no TLS key to pin.
 * Every handshake (ms_client_connect, or the one a 404 causes) runs on a fresh connection
 * without the old pin and binds the key its own authenticated ServerHello names: a
 * supervisor may change its TLS key between sessions, never within one. libcurl does not
 * reuse the unpinned handshake connection for pinned requests, so the first turn of a
 * session opens a second connection, checked against the pin (one connection is kept).
 * The ClientFinish travels in front of the first record (§12.1), so a session costs one
 * round trip before the first turn.
 *
 * Logging: one WARN line on a re-handshake, an INFO line naming the TLS key fingerprints
 * when the TLS binding fails, DEBUG lines on transport failures. Never the request, the
 * reply, keys or other plaintext.
 */
typedef struct ms_client ms_client;

typedef struct ms_client_cfg {
    const char *url;              /* https://host:port[/prefix], or http://127.0.0.1:port */
    const char *cacert;           /* PEM CA bundle for https; NULL: the system store */
    int allow_http;               /* http:// allowed, to a loopback host only */
    int allow_tls_proxy;          /* accept an all-zero tls_spki_sha256 over https */
    const uint8_t *pinned_dev_pk; /* MS_SIGN_PK_LEN: the dev key (--trusted_attestation_pem) */
    const struct ms_attest_policy *policy; /* borrowed, outlives the client; or NULL: accept
                                              dev-key evidence by pinned_dev_pk only */
    int strict;                   /* ask for STRICT evidence (fresh, over this session) */
    long connect_timeout_ms;      /* 0: 10 s */
    long timeout_ms;              /* each HTTP request, streams included; 0: 300 s */
    /* NULL: the policy's verifier (ms_attest_policy_verify), always, for anything that
       sends. Set, it replaces that verifier entirely (the policy then only lists the types
       offered): for `minions-secure attest --any-evidence`, which shows evidence without
       trusting it and must therefore never send a record over such a session. */
    ms_evidence_verify_fn verify;
    void *verify_ctx;
    /* The client's identity (Ed25519 secret key, MS_SIGN_SK_LEN; copied, wiped by _free) or
       NULL: named in each ClientHello and signing the transcript (§7.2), for supervisors
       that admit only listed clients (--allowed-clients; minions-secure --identity). */
    const uint8_t *client_id_sk;
} ms_client_cfg;

/*
 * Copies what it needs from cfg. Checks the URL before any connection: MS_ERR_HTTP_URL,
 * MS_ERR_HTTP_INSECURE (http:// without allow_http, or to a host that is not loopback).
 * MS_ERR_CONFIG with neither a policy nor pinned_dev_pk.
 */
MS_MUST_CHECK ms_err ms_client_new(ms_client **out, const ms_client_cfg *cfg);
/* Wipes every key and the pending ClientFinish; does not contact the supervisor. */
void ms_client_free(ms_client *c);

/*
 * Make a new session (a handshake; any previous session is dropped locally).
 * Errors: transport (MS_ERR_HTTP_CONNECT, _TLS, _TIMEOUT, _PIN, _BODY, MS_ERR_IO), status
 * (400 MS_ERR_PEER_REJECTED, 413 MS_ERR_CAP_EXCEEDED, 503 MS_ERR_SERVER_BUSY, others
 * MS_ERR_HTTP_STATUS), or a failed §7.3 check (MS_ERR_HS_*, MS_ERR_ATTEST_*).
 */
MS_MUST_CHECK ms_err ms_client_connect(ms_client *c);

/* What happened during one turn, for messages and tests. Zeroed on entry. */
typedef struct ms_client_turn_info {
    long http_status;        /* of the last HTTP answer, 0 if none */
    long retry_after_s;      /* Retry-After of a 503 */
    unsigned handshakes;     /* handshakes this turn made (a 404 makes one) */
    int remote_failed;       /* a sealed {"ok": false} reply: the session is still usable */
    char error_code[MS_TURN_REPLY_ERROR_CODE_LEN];       /* its error.code, e.g.
                                                            "backend_timeout" */
    char error_message[MS_TURN_REPLY_ERROR_MESSAGE_LEN]; /* its error.message, printable
                                                            ASCII only */
    size_t streamed_bytes;   /* text handed to on_piece */
    ms_err transport;        /* the HTTP layer's own error when a stream was cut */
    double seal_s;           /* time spent sealing the request (all attempts) */
    double open_s;           /* time spent opening the reply (whole replies; 0 for streams,
                                whose records are opened as they arrive) */
} ms_client_turn_info;

/*
 * One turn: `req` is a §12.3 request (ms_client_request_build); it is sealed in a MSG record
 * with msg_id = the session's next request number (1, 2, ...) and POSTed to /request. The
 * reply must be a single MSG record with that msg_id (MS_ERR_REPLY_MISMATCH otherwise); its
 * JSON is appended to reply_json (nothing is appended on any error but
 * MS_ERR_BACKEND_REMOTE). With no session, connects first. On 404 (the supervisor restarted
 * or the session expired) it makes one new handshake, says so in the log, and sends the
 * request again under the new session; a second 404 is MS_ERR_SESSION_UNKNOWN.
 * A reply {"ok": false, ...} gives MS_ERR_BACKEND_REMOTE, with the code and message in
 * *info; the session stays usable. info may be NULL.
 */
MS_MUST_CHECK ms_err ms_client_turn(ms_client *c, const uint8_t *req, size_t len,
                                    ms_buf *reply_json, ms_client_turn_info *info);

/*
 * ms_client_turn with the reply decoded once, into *out (common/turn_reply.h), for callers
 * that want the answer rather than its JSON (the protocols' supervisor link). out is
 * cleared on entry; its content's cap must hold the reply's text (else MS_ERR_CAP_EXCEEDED).
 * MS_OK: content, finish_reason and usage. MS_ERR_BACKEND_REMOTE: no content; error_code and
 * error_message as in *info. Either way, and on any other error too: seal_s and open_s (as in
 * *info), transport_s (the rest of the turn's wall time: HTTP both ways, the supervisor and
 * its engine) and rehandshakes (the new sessions the turn needed: a 404's). The reply's JSON
 * is wiped before this returns. info may be NULL. Errors as ms_client_turn.
 */
MS_MUST_CHECK ms_err ms_client_turn_reply(ms_client *c, const uint8_t *req, size_t len,
                                          ms_turn_reply *out, ms_client_turn_info *info);

/* Text of the answer as it arrives; return anything but MS_OK to stop the turn. */
typedef ms_err (*ms_client_piece_fn)(void *ctx, const char *text, size_t len);

/*
 * A streamed turn (POST /stream): each STREAM_DATA piece goes to on_piece as soon as its
 * record is authenticated; the answer is complete only when this returns MS_OK, after the
 * authenticated FINAL said {"ok": true}. Its JSON (without content) is appended to
 * final_json. A body that ends without the FINAL is MS_ERR_STREAM_TRUNCATED (the HTTP
 * layer's cause, if any, in info->transport); a FINAL {"ok": false} is
 * MS_ERR_BACKEND_REMOTE as above. Either way the pieces already delivered are NOT an
 * answer. Re-handshake on 404 as for ms_client_turn (a 404 comes before any piece).
 */
MS_MUST_CHECK ms_err ms_client_turn_stream(ms_client *c, const uint8_t *req, size_t len,
                                           ms_client_piece_fn on_piece, void *ctx,
                                           ms_buf *final_json, ms_client_turn_info *info);

/*
 * Close the session: a sealed CLOSE to /close, and the supervisor's CLOSE checked. The
 * session is dropped locally whatever the outcome; a supervisor that no longer knows it
 * (404) counts as closed. MS_OK when there was no session.
 */
MS_MUST_CHECK ms_err ms_client_close(ms_client *c);

/* How the TLS key was handled in the current session. */
typedef enum ms_client_tls {
    MS_CLIENT_TLS_NONE = 0,   /* plain http on loopback: no TLS */
    MS_CLIENT_TLS_PINNED = 1, /* the connection's key matched the handshake's; pinned */
    MS_CLIENT_TLS_PROXY = 2,  /* all-zero hash accepted (allow_tls_proxy): TLS not bound */
} ms_client_tls;

/* What was verified about the supervisor in the current session. */
typedef struct ms_client_peer {
    int connected; /* 0: no session; the rest is zero */
    uint8_t session_id[MS_SESSION_ID_LEN];
    char session_hex[2 * MS_SESSION_ID_LEN + 1];
    uint16_t evidence_type;              /* MS_EVIDENCE_DEV_KEY */
    uint8_t evidence_mode;               /* MS_MODE_FAST or MS_MODE_STRICT */
    uint64_t evidence_not_after;         /* Unix seconds, UTC */
    char dev_key_fp[MS_FINGERPRINT_LEN]; /* "sha256:..." of the pinned dev key, or "" */
    uint8_t static_pk[MS_X25519_LEN];
    ms_client_tls tls;
    uint8_t tls_spki_hash[MS_SPKI_HASH_LEN]; /* the handshake's tls_spki_sha256 */
    uint8_t transcript_hash[MS_KEY_LEN];     /* §5: what both sides' keys are bound to */
    uint8_t evidence_sha256[32];             /* SHA-256 of the evidence bytes accepted */
    int evidence_held; /* 1: the supervisor named evidence this client held by that digest */
    unsigned handshakes;                     /* over the client's life */
    unsigned rehandshakes;                   /* handshakes after the first */
} ms_client_peer;

void ms_client_peer_info(const ms_client *c, ms_client_peer *out);

/*
 * The evidence the current session's handshake accepted, with everything its verifier was
 * given (type, mode, not_after, the time it was checked as `now`, static_pk, binding B,
 * tls_spki_hash, session_id, transcript_hash). Pointers borrow from the client: valid until
 * its next handshake, ms_client_close or ms_client_free. MS_ERR_STATE (and *out zeroed)
 * when there is no session.
 */
MS_MUST_CHECK ms_err ms_client_evidence(const ms_client *c, ms_evidence_view *out);

/* Status and Retry-After (seconds) of the last HTTP answer, handshakes included; 0 if none. */
void ms_client_last_http(const ms_client *c, long *status, long *retry_after_s);

#endif

/* A raw client of the channel for attack tests and benches: libcurl for HTTPS, secure/ for bytes. */
#ifndef MS_TESTS_E2E_RAWCLIENT_H
#define MS_TESTS_E2E_RAWCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/hs_msg.h"
#include "secure/record.h"
#include "secure/suite.h"

/*
 * Unlike secure/client (which only ever sends well-formed bodies), this lets a test send
 * any bytes to any path with any method, and build the bodies itself: handshake messages
 * from secure/handshake.h, records from secure/record.h. It checks the ServerHello with
 * the dev-key verifier (protocol.md §7.3, §12.5) but does not bind the TLS key to the
 * transcript: the attack tests are about the supervisor, not the client. Not thread-safe:
 * one object per thread. Call e2e_http_global_init once, before any thread starts.
 */

/* curl_global_init; 0 on success. */
int e2e_http_global_init(void);

/* One libcurl easy handle: consecutive calls reuse one kept-alive connection. */
typedef struct e2e_http e2e_http;

/* base: "https://127.0.0.1:PORT"; cacert: the PEM CA file. 0 on success. */
int e2e_http_new(e2e_http **out, const char *base, const char *cacert);
void e2e_http_free(e2e_http *h);

/*
 * method "GET", "POST" or any other verb, to base + path, with body (NULL: none) as
 * application/octet-stream. Returns the HTTP status, or 0 when no status arrived (transport
 * failure). resp (may be NULL) is cleared first and receives the answer's body.
 */
long e2e_http_call(e2e_http *h, const char *method, const char *path, const void *body,
                   size_t len, ms_buf *resp);

/* One session made by hand. */
typedef struct e2e_raw {
    struct ms_channel *chan; /* NULL until the handshake succeeded */
    uint8_t sid[MS_SESSION_ID_LEN];
    char sid_hex[2 * MS_SESSION_ID_LEN + 1];
    uint8_t cf[MS_CLIENT_FINISH_MAX_LEN]; /* the ClientFinish */
    size_t cf_len;
    uint32_t next_msg_id; /* 1, 2, 3, ... (§12.1) */
} e2e_raw;

/*
 * POST a fresh ClientHello to /v1/handshake and check the ServerHello (every §7.3 check,
 * dev-key evidence by `pinned_pk`). *status: the HTTP status (0: none). MS_ERR_HTTP_STATUS
 * for a status other than 200. On failure s is left empty.
 */
MS_MUST_CHECK ms_err e2e_raw_handshake(e2e_http *h, const uint8_t pinned_pk[static MS_SIGN_PK_LEN],
                                       e2e_raw *s, long *status);
/* POST the ClientFinish alone to /finish; MS_OK on 204 (MS_ERR_HTTP_STATUS otherwise). */
MS_MUST_CHECK ms_err e2e_raw_finish(e2e_http *h, e2e_raw *s, long *status);

/*
 * Append to body [the ClientFinish, when with_cf] and one MSG record carrying the §12.3
 * request for `prompt`, sealed with the next msg_id (returned in *msg_id).
 */
MS_MUST_CHECK ms_err e2e_raw_seal_request(e2e_raw *s, const char *prompt, int with_cf,
                                         ms_buf *body, uint32_t *msg_id);

/*
 * Open a /request answer: exactly one MSG record with msg_id, its reply JSON {"ok": true}.
 * The reply's content is appended to content. MS_ERR_REPLY_MISMATCH for another record
 * type, msg_id or extra bytes; MS_ERR_PAYLOAD for a reply that is not ok.
 */
MS_MUST_CHECK ms_err e2e_raw_open_reply(e2e_raw *s, const uint8_t *resp, size_t len,
                                        uint32_t msg_id, ms_buf *content);

/* Path "/v1/session/<sid>/<what>" into out[96]. */
void e2e_raw_path(const e2e_raw *s, const char *what, char out[static 96]);

void e2e_raw_free(e2e_raw *s);

/*
 * A raw TLS byte stream to the server (libcurl CONNECT_ONLY; the certificate is verified):
 * for requests no HTTP client would send, such as a Content-Length it never honours.
 */
typedef struct e2e_tls e2e_tls;

int e2e_tls_open(e2e_tls **out, const char *base, const char *cacert);
/* Send all of p; 0 on success, -1 when the peer closed or the send failed or timed out. */
int e2e_tls_send(e2e_tls *t, const void *p, size_t n, int timeout_ms);
/*
 * Read until the peer closes the connection (EOF or reset: returns 1) or timeout_ms passes
 * (returns 0: still open). What arrived is appended to out (may be NULL), within its cap.
 */
int e2e_tls_read_until_close(e2e_tls *t, ms_buf *out, int timeout_ms);
void e2e_tls_close(e2e_tls *t);

#endif

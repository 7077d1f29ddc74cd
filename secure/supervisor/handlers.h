/* The supervisor's endpoints (protocol.md §12), independent of the HTTP server library. */
#ifndef MS_SECURE_SUPERVISOR_HANDLERS_H
#define MS_SECURE_SUPERVISOR_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "secure/supervisor/allow.h"
#include "secure/supervisor/audit.h"
#include "secure/supervisor/bridge.h"
#include "secure/supervisor/identity.h"
#include "secure/supervisor/peers.h"
#include "secure/supervisor/ratelimit.h"
#include "secure/supervisor/sessions.h"

/* Per-endpoint body caps (§12.2). */
#define MS_SUP_SMALL_BODY 4096u

typedef struct ms_sup {
    ms_session_table *sessions;
    ms_identity *id;
    ms_bridge *bridge;
    uint8_t tls_spki[MS_SPKI_HASH_LEN]; /* zero when no TLS key is bound */
    int development;                    /* dev-key evidence */
    ms_rate *strict_rate;               /* fresh (STRICT) evidence; NULL: no limit */
    /* Client authorization and handshake limits (docs/supervisor.md); NULL: none. */
    ms_allow *allow;                    /* --allowed-clients: only these identity keys */
    ms_peers *peers;                    /* per-address handshake rate and pending count */
    ms_sup_audit *audit;                /* where refused clients are recorded */
} ms_sup;

/* What an endpoint answers. `body` is capped at MS_MAX_HTTP_BODY. */
typedef struct ms_sup_reply {
    int status;
    const char *content_type;
    int retry_after;            /* seconds, for 503; 0 = none */
    ms_buf body;
    char sid_prefix[9];         /* first 4 bytes of the session id in hex, for the access log */
    ms_err cause;               /* the local reason of a 4xx/5xx, for the log only */
} ms_sup_reply;

void ms_sup_reply_init(ms_sup_reply *r);
void ms_sup_reply_free(ms_sup_reply *r);

enum ms_sup_route {
    MS_ROUTE_NONE = 0,
    MS_ROUTE_HEALTH,
    MS_ROUTE_HANDSHAKE,
    MS_ROUTE_FINISH,
    MS_ROUTE_REQUEST,
    MS_ROUTE_STREAM,
    MS_ROUTE_CLOSE,
};

/* Map a path to a route and, for session routes, the session id. */
enum ms_sup_route ms_sup_route_of(const char *path, uint8_t sid[static MS_SESSION_ID_LEN]);
/* The body cap of a route (§12.2). */
size_t ms_sup_body_cap(enum ms_sup_route route);

/* Every non-streamed endpoint. */
void ms_sup_handle(ms_sup *sup, enum ms_sup_route route, const uint8_t sid[static MS_SESSION_ID_LEN],
                   const uint8_t *body, size_t len, ms_sup_reply *r);
/* The same from a client address (NULL: none known, as over a unix socket): its handshakes
   count against sup->peers' limits. */
void ms_sup_handle_from(ms_sup *sup, const ms_peer_key *peer, enum ms_sup_route route,
                        const uint8_t sid[static MS_SESSION_ID_LEN], const uint8_t *body,
                        size_t len, ms_sup_reply *r);

/*
 * The same with the request's Minions-Evidence-Held header value (NULL: none; §12.1): a
 * handshake whose FAST evidence has that SHA-256 answers with the digest (§6). A value
 * that is not 64 lowercase hex digits is ignored, as an unknown digest is.
 */
void ms_sup_handle_held(ms_sup *sup, const ms_peer_key *peer, enum ms_sup_route route,
                        const uint8_t sid[static MS_SESSION_ID_LEN], const char *held_hint,
                        const uint8_t *body, size_t len, ms_sup_reply *r);
/* 1 and the digest in out when `value` is 64 lowercase hex digits; else 0, out zeroed. */
int ms_sup_held_hint(const char *value, uint8_t out[static MS_HELD_DIGEST_LEN]);

/*
 * The streamed endpoint: on success r->status is 200 and *out a stream whose bytes
 * (sealed records) are read with ms_sup_stream_read until it returns 0; on failure *out is
 * NULL and r holds the error reply. The engine call is started here and driven by the
 * reads (the connection's thread: no thread of its own); read and free on one thread.
 */
typedef struct ms_sup_stream ms_sup_stream;
void ms_sup_stream_start(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN],
                         const uint8_t *body, size_t len, ms_sup_reply *r, ms_sup_stream **out);
/* Blocks (stepping the engine call) until bytes are ready; how many were copied, 0 at the
   end (after the FINAL, or early when the stream broke: no FINAL). */
size_t ms_sup_stream_read(ms_sup_stream *st, uint8_t *buf, size_t max);
/* Aborts the engine call if still running (client gone; its engine connection is dropped)
   and frees everything. */
void ms_sup_stream_free(ms_sup_stream *st);

uint64_t ms_now_s(void);  /* wall clock, Unix seconds */

#endif

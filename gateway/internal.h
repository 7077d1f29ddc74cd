/* Inside the gateway: requests, replies, streams, the route table, auth, the session pool. */
#ifndef MS_GATEWAY_INTERNAL_H
#define MS_GATEWAY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/limits.h"
#include "gateway/gateway.h"

/* --- requests and replies (server.c) ------------------------------------------------------ */

typedef struct ms_gw_stream ms_gw_stream;

/* One request as a handler sees it. Borrowed for the handler's call. */
typedef struct ms_gw_req {
    ms_gw *gw;
    const char *method;   /* "GET", "POST", ... */
    const char *path;     /* without the query */
    const uint8_t *body;  /* NUL-terminated (not counted), within the route's cap */
    size_t body_len;
    bool by_cookie;       /* authenticated by the web session cookie (else by token or none) */
    void *conn_;          /* private: the connection */
} ms_gw_req;

/* A header's value, or NULL (case-insensitive name). */
const char *ms_gw_req_header(const ms_gw_req *r, const char *name);
/* A query argument's value (already %-decoded), or NULL. */
const char *ms_gw_req_query(const ms_gw_req *r, const char *name);

/* What a handler answers: a whole body, or a stream (ms_gw_stream_start). */
typedef struct ms_gw_resp {
    int status;                 /* 0 until set */
    const char *content_type;   /* static text */
    ms_buf body;                /* cap MS_MAX_JSON_TEXT */
    const uint8_t *static_body; /* or a body that lives for the program (embedded files) */
    size_t static_len;
    const char *allow;          /* a 405's Allow header */
    char location[64];          /* a redirect's Location */
    char set_cookie[192];       /* a Set-Cookie header */
    int retry_after;            /* seconds, 0: none */
    bool cacheable;             /* embedded files: may be cached; else no-store */
    ms_gw_stream *stream;       /* set by ms_gw_stream_start */
} ms_gw_resp;

void ms_gw_resp_init(ms_gw_resp *r);
void ms_gw_resp_free(ms_gw_resp *r);

/*
 * An OpenAI-style error: {"error": {"message", "type", "param", "code"}} with `status`.
 * type: "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
 * "rate_limit_error", "api_error". param and code may be NULL (JSON null). The message is ours,
 * never the request's bytes.
 */
void ms_gw_error(ms_gw_resp *r, int status, const char *type, const char *param,
                 const char *code, const char *message);
/* A JSON body printed from a builder (status 200 unless set); a 500 error when it fails. */
void ms_gw_json(ms_gw_resp *r, const ms_json_builder *b);

/*
 * A streamed reply: `run` is called on a thread of its own with the stream and ctx, and
 * writes the body with ms_gw_stream_write; ctx_free(ctx) runs when it returns. The HTTP
 * status is decided by the producer: its first write sends 200 with content_type; a
 * ms_gw_stream_fail before any write sends that error instead (as ms_gw_error). After the
 * first write, errors are the producer's to write into the body. MS_ERR_NOMEM or
 * MS_ERR_INTERNAL when the thread cannot start (ctx_free has then run).
 */
typedef void (*ms_gw_stream_fn)(ms_gw_stream *s, void *ctx);
MS_MUST_CHECK ms_err ms_gw_stream_start(const ms_gw_req *req, ms_gw_resp *r,
                                        const char *content_type,
                                        ms_gw_stream_fn run, void *ctx, void (*ctx_free)(void *));
/* Queue bytes for the client (waits while MS_GW_STREAM_QUEUE bytes are queued). MS_ERR_IO
   when the client went away: the producer should stop. */
MS_MUST_CHECK ms_err ms_gw_stream_write(ms_gw_stream *s, const void *p, size_t n);
/* Before any write: answer with this error instead of a stream (else ignored: false). */
bool ms_gw_stream_fail(ms_gw_stream *s, int status, const char *type, const char *param,
                       const char *code, const char *message, int retry_after);

/* --- routes (routes.c) -------------------------------------------------------------------- */

typedef enum ms_gw_auth_kind {
    MS_GW_AUTH_NONE = 0, /* anyone who passes the Host and Origin checks (static files, login) */
    MS_GW_AUTH_API = 1,  /* the bearer token, or the web session cookie from the same origin */
} ms_gw_auth_kind;

typedef void (*ms_gw_handler_fn)(const ms_gw_req *req, ms_gw_resp *resp);

typedef struct ms_gw_route {
    const char *method;  /* "GET" or "POST" */
    const char *path;    /* exact, or a prefix ending in '/' followed by '*' ("/ *") */
    ms_gw_auth_kind auth;
    size_t body_cap;     /* bytes; 0: no body allowed */
    ms_gw_handler_fn fn;
} ms_gw_route;

/*
 * The route for (method, path): NULL and *path_known false when no route has that path (404);
 * NULL and *path_known true when the path exists under another method (405, *allow names it).
 */
const ms_gw_route *ms_gw_route_find(const char *method, const char *path, bool *path_known,
                                    const char **allow);

/* The handlers. */
void ms_gw_h_models(const ms_gw_req *req, ms_gw_resp *resp);       /* openai.c */
void ms_gw_h_chat(const ms_gw_req *req, ms_gw_resp *resp);         /* chat.c */
void ms_gw_h_attestation(const ms_gw_req *req, ms_gw_resp *resp);  /* attestation.c */
void ms_gw_h_login(const ms_gw_req *req, ms_gw_resp *resp);        /* auth.c */
void ms_gw_h_static(const ms_gw_req *req, ms_gw_resp *resp);       /* static.c */
void ms_gw_h_minions_run(const ms_gw_req *req, ms_gw_resp *resp);  /* minions.c */
void ms_gw_h_minions_doc(const ms_gw_req *req, ms_gw_resp *resp);  /* minions.c */

/* --- access control (auth.c) -------------------------------------------------------------- */

/* A key up to this long (the longest a key file may hold) is compared padded to it (no hash
   per request; see auth.c). */
#define MS_GW_KEY_PAD MS_GW_MAX_KEY_LEN

typedef struct ms_gw_auth {
    pthread_mutex_t mu;
    uint8_t key_hash[32];            /* SHA-256 of the API key: compared in constant time */
    uint8_t key_pad[MS_GW_KEY_PAD];  /* the key itself, zero-padded, when it fits (key_len) */
    size_t key_len;                  /* 0: the key is longer than the pad (hash compared) */
    uint8_t code_hash[32];           /* of the one-time login code */
    bool code_live;                  /* not used yet */
    uint8_t cookies[MS_GW_MAX_COOKIES][32]; /* SHA-256 of each web session's cookie */
    unsigned n_cookies, next_cookie;
    char hosts[3][80];               /* Host header values that name us */
    unsigned n_hosts;
    bool any_host;                   /* a unix socket: no browser reaches it by name */
} ms_gw_auth;

MS_MUST_CHECK ms_err ms_gw_auth_init(ms_gw_auth *a, const char *api_key, const char *login_code,
                                     const char *listen, uint16_t port, bool is_unix);
void ms_gw_auth_free(ms_gw_auth *a);

/*
 * The header checks ms_gw_auth_check makes, each on a header's value (NULL: the request has
 * none): no connection, no server, so tests/fuzz/fuzz_gw_auth.c drives them directly.
 *   host_ok     Host names us: one of hosts[] (ASCII case folded), any Host on a unix socket
 *   origin_ok   origin (not NULL) is "http://" and a Host we answer to; on a unix socket, the
 *               request's own Host
 *   bearer_ok   "Bearer " (any case) then spaces then exactly the key, in constant time
 *   find_cookie our cookie's value (*p, *n) in a Cookie header: the first pair, after a ';'
 *               or the start and any spaces, named exactly ms_session; up to the next ';'
 *   cookie_ok   that value is one of the web sessions' cookies
 */
bool ms_gw_auth_host_ok(const ms_gw_auth *a, const char *host);
bool ms_gw_auth_origin_ok(const ms_gw_auth *a, const char *origin, const char *host);
bool ms_gw_auth_bearer_ok(const ms_gw_auth *a, const char *hdr);
bool ms_gw_auth_find_cookie(const char *hdr, const char **p, size_t *n);
bool ms_gw_auth_cookie_ok(ms_gw_auth *a, const char *hdr);

/*
 * Every request's checks, before its route's handler: Host (always), Origin (when present it
 * must be ours), then the route's auth kind. 0 to go on (*by_cookie says how it was
 * authenticated), else resp holds the error.
 */
int ms_gw_auth_check(ms_gw_auth *a, const ms_gw_req *req, const ms_gw_route *route,
                     bool *by_cookie, ms_gw_resp *resp);

/* --- the session pool (pool.c) ------------------------------------------------------------ */

typedef struct ms_gw_pool ms_gw_pool;

MS_MUST_CHECK ms_err ms_gw_pool_new(const ms_client_cfg *cfg, unsigned n, ms_client *first,
                                    ms_gw_pool **out);
/* Close (a sealed CLOSE) and free one client; NULL is allowed. */
void ms_gw_pool_drop(ms_client *c);
/* Closes every session (a sealed CLOSE each), frees. No request may be in flight. */
void ms_gw_pool_free(ms_gw_pool *p);

/*
 * A session for one turn: waits up to MS_GW_POOL_WAIT_S for a free one
 * (MS_ERR_GW_POOL_BUSY), connects it (a handshake with every check) when it has no session
 * or its evidence is past its not_after. Errors of ms_client_connect. Give it back with
 * ms_gw_pool_put, always: same_session true only when the turn succeeded and made no
 * handshake (ms_client_turn_info.handshakes 0); the next get then checks only the expiry it
 * read before (else it reads the session's facts again).
 */
MS_MUST_CHECK ms_err ms_gw_pool_get(ms_gw_pool *p, ms_client **c, unsigned *slot);
void ms_gw_pool_put(ms_gw_pool *p, unsigned slot, bool same_session);
/* The newest verified session's facts (what /v1/attestation shows); handshakes summed. */
void ms_gw_pool_peer(ms_gw_pool *p, ms_client_peer *out, unsigned *handshakes,
                     unsigned *size, unsigned *busy);

/* --- the running gateway ------------------------------------------------------------------ */

struct ms_gw {
    struct ms_gw_server *srv; /* server.c */
    ms_gw_auth auth;
    ms_gw_pool *pool;
    ms_json_doc *verified;    /* cfg.verified_json, parsed once */
    char model[128];
    char supervisor_url[MS_MAX_HTTP_URL];
    bool quiet;
    uint64_t created;         /* Unix seconds: /v1/models' "created" */
    pthread_mutex_t mu;       /* producers: streamed replies whose thread still runs */
    pthread_cond_t cv;
    unsigned producers;
    atomic_int ready;         /* auth is set up: requests are served */
    ms_gw_runner runner;      /* POST /v1/minions/runs (minions.c) */
};

/* server.c's part of ms_gw_start and ms_gw_stop: bind and serve; stop serving. */
MS_MUST_CHECK ms_err ms_gw_server_start(ms_gw *gw, const char *listen, int allow_remote,
                                        uint16_t *port, int *is_unix);
void ms_gw_server_stop(ms_gw *gw);

/* Map a turn's failure to an OpenAI error (status, type, code, message); ti may be NULL. */
void ms_gw_turn_error(ms_err e, const ms_client_turn_info *ti, int *status, const char **type,
                      const char **code, const char **message, int *retry_after);

#endif

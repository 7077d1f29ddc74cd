/* minions-secure serve's gateway: a local OpenAI-compatible HTTP API over attested sessions. */
#ifndef MS_GATEWAY_GATEWAY_H
#define MS_GATEWAY_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#include "common/err.h"
#include "secure/client/client.h"

/*
 * The gateway (docs/serve.md) listens on a loopback address or a unix socket and turns each
 * API request into turns over attested sessions with one supervisor (secure/client): a pool
 * of cfg->sessions clients, each verified with every check of its policy, re-handshaking
 * (with every check) when its session expires. Access control: a bearer token on the API,
 * or a web session cookie given once through /login?code=...; the Host header must name the
 * listen address (DNS rebinding) and a foreign Origin is refused (CSRF). Routes are in
 * gateway/routes.c (one table). Threads: libmicrohttpd's thread per connection, plus one
 * thread per streamed reply.
 */
typedef struct ms_gw ms_gw;

/*
 * POST /v1/minions/runs (gateway/minions.c): the program's Minions runner. The gateway knows
 * neither the protocols nor the worker: minions-secure hands it this callback (its run_api).
 * fn runs one request (body, len) and writes the result JSON into out (cap MS_MAX_JSON_TEXT)
 * with *status the HTTP status; when ev is not NULL and the request asks "stream": true, it
 * calls ev for each event (name, one JSON object) on the calling thread, the result last,
 * and sets *streamed. fn NULL: the route answers 404. May be called on several threads.
 */
typedef void (*ms_gw_run_event_fn)(void *ev_ctx, const char *event, const char *data,
                                   size_t len);
typedef struct ms_gw_runner {
    void (*fn)(void *ctx, const char *body, size_t len, ms_gw_run_event_fn ev, void *ev_ctx,
               ms_buf *out, int *status, bool *streamed);
    /* POST /v1/minions/documents: one upload ({"name", "data"}) read in memory, its text as
       {"name", "kind", "pages", "text"} (the web UI's PDF attachments). NULL: 404. */
    void (*extract)(void *ctx, const char *body, size_t len, ms_buf *out, int *status);
    void *ctx;
} ms_gw_runner;

typedef struct ms_gw_cfg {
    const char *listen;         /* "127.0.0.1:8181", "[::1]:8181" or "unix:/path" */
    int allow_remote;           /* a non-loopback address (otherwise MS_ERR_GW_LISTEN_REMOTE) */
    const char *api_key;        /* the bearer token (NUL-terminated; copied, wiped on stop) */
    const char *login_code;     /* the one-time code of /login (copied, wiped); NULL: none */
    const ms_client_cfg *client; /* how to make the pool's sessions; borrowed for the life of
                                    the gateway (its policy and key too) */
    ms_client *first;           /* a client already connected and verified, taken over (the
                                   pool's first session); NULL: none */
    unsigned sessions;          /* pool size, 1..MS_GW_MAX_SESSIONS */
    const char *model;          /* the model id /v1/models lists (copied) */
    const char *supervisor_url; /* said by /v1/attestation (copied) */
    const char *verified_json;  /* JSON object: what was verified at start (minions-secure
                                   attest's form), shown by /v1/attestation; may be NULL */
    size_t verified_len;
    int quiet;                  /* no access log lines on stderr */
    ms_gw_runner runner;        /* POST /v1/minions/runs; zero: not served */
} ms_gw_cfg;

/*
 * Start serving. *port: the TCP port bound (useful with port 0), 0 for a unix socket.
 * Errors: MS_ERR_CONFIG (bad listen address or options), MS_ERR_GW_LISTEN_REMOTE,
 * MS_ERR_JSON_* (verified_json), MS_ERR_IO (cannot bind), MS_ERR_NOMEM. `first` is the
 * gateway's from the call on, even when it fails (then it is closed and freed).
 */
MS_MUST_CHECK ms_err ms_gw_start(const ms_gw_cfg *cfg, ms_gw **out, uint16_t *port);
/* Stop listening, wait for requests in flight, close every session (sealed CLOSE), wipe. */
void ms_gw_stop(ms_gw *gw);

/*
 * The API key file (--api-key-file): read the token of an existing file, which must be a
 * regular file of ours with no group/other permission, holding one token (32 to
 * MS_GW_MAX_KEY_LEN printable ASCII characters, a final newline allowed); or, when the file
 * does not exist, create it 0600 with a new random token (its folder too, 0700, when
 * missing). *created says which. out must hold MS_GW_MAX_KEY_LEN + 1 bytes.
 * MS_ERR_GW_KEY_FILE, MS_ERR_FILE_*, MS_ERR_IO, MS_ERR_RANDOM.
 */
#define MS_GW_MAX_KEY_LEN 256u
MS_MUST_CHECK ms_err ms_gw_key_file(const char *path, char out[static MS_GW_MAX_KEY_LEN + 1],
                                    int *created);

/* A fresh random token ("ms-" and 64 hex digits: 256 bits): API keys, login codes. */
#define MS_GW_TOKEN_LEN 67u
MS_MUST_CHECK ms_err ms_gw_new_token(char out[static MS_GW_TOKEN_LEN + 1]);

#endif

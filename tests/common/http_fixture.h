/* Test-only HTTP responder on 127.0.0.1 (libmicrohttpd, in-process): canned answers per path. */
#ifndef MS_TESTS_HTTP_FIXTURE_H
#define MS_TESTS_HTTP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One path's behaviour. Zero fields take defaults. Routes are borrowed: keep the array alive
 * until fx_stop. A request to a path with no route gets 404.
 *   status         default 200
 *   content_type   default "application/json"
 *   body           NULL: empty; body_len 0 means strlen(body)
 *   retry_after    a Retry-After header value, or NULL
 *   location       a Location header value, or NULL
 *   fail_first     the first N requests get fail_status (default 500) and fail_body instead
 *                  (with retry_after too, when set)
 *   delay_ms       wait before answering at all
 *   chunk          > 0: send the body with chunked encoding, this many bytes per piece
 *   chunk_delay_ms wait before each piece after the first
 *   cut            after the body, drop the connection without ending the response (forces
 *                  chunked encoding)
 */
typedef struct fx_route {
    const char *path;
    unsigned status;
    const char *content_type;
    const char *body;
    size_t body_len;
    const char *retry_after;
    const char *location;
    unsigned fail_first;
    unsigned fail_status;
    const char *fail_body;
    unsigned delay_ms;
    size_t chunk;
    unsigned chunk_delay_ms;
    bool cut;
} fx_route;

typedef struct fx_server fx_server;

/* Plain HTTP on 127.0.0.1, a free port. NULL on failure (printed to stderr). */
fx_server *fx_start(const fx_route *routes, size_t n);
/* HTTPS with a PEM certificate and key read from files. NULL on failure or no TLS support. */
fx_server *fx_start_tls(const fx_route *routes, size_t n, const char *cert_file,
                        const char *key_file);
/* Wakes every waiting handler, stops the server and frees it. NULL is allowed. */
void fx_stop(fx_server *s);

unsigned short fx_port(const fx_server *s);
/* Requests completed so far on a path, and TCP connections accepted in all. */
unsigned fx_hits(fx_server *s, const char *path);
unsigned fx_connections(fx_server *s);
/*
 * The last request's body and Authorization header on a path, NUL-terminated, into out
 * (cut to out_size - 1). "" when none.
 */
void fx_last_body(fx_server *s, const char *path, char *out, size_t out_size);
void fx_last_auth(fx_server *s, const char *path, char *out, size_t out_size);

/* A loopback TCP port with nothing listening on it (bound, then closed). 0 on failure. */
unsigned short fx_closed_port(void);

#endif

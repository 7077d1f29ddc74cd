/* A small HTTP client over libcurl for talking to model engines (the only common/ door to curl). */
#ifndef MS_COMMON_HTTP_H
#define MS_COMMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * Process set-up. ms_http_global_init runs curl_global_init once (pthread_once), so any
 * thread may call it any number of times; ms_http_client_new calls it too. It fails with
 * MS_ERR_INTERNAL if libcurl cannot start. ms_http_global_cleanup releases libcurl's
 * globals: call it at most once, at exit, after every client is freed and while no other
 * thread uses curl.
 */
MS_MUST_CHECK ms_err ms_http_global_init(void);
void ms_http_global_cleanup(void);

/* Defaults of ms_http_opts, for callers that resolve options themselves. */
#define MS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define MS_HTTP_DEFAULT_USER_AGENT "minions-secure"

/*
 * Options. Zero-initialise, then set what you need: a zero field means its default.
 *   connect_timeout_ms  TCP + TLS connection set-up (default 10000)
 *   total_timeout_ms    whole request, connect to last byte (default 0: no limit; model
 *                       replies can take minutes, so callers size this per use)
 *   stall_timeout_ms    abort when no byte was sent or received for this long (default 0:
 *                       off); checked by libcurl's progress callback, so at least ~1 s
 *                       granularity when the connection is idle
 *   max_response        cap on the bytes of one response body (default MS_MAX_HTTP_BODY);
 *                       the non-streaming calls also stop at the cap of their ms_buf
 *   ca_file             PEM bundle of trusted CAs for https (default: the system store).
 *                       Peer and host name verification are always on; TLS >= 1.2.
 *   allow_plain_http    false (default): http:// only to a loopback host (127.0.0.0/8, ::1,
 *                       "localhost"); true: http:// to any host. https:// is always allowed.
 *   user_agent          default "minions-secure"
 * Strings are copied by ms_http_client_new.
 */
typedef struct ms_http_opts {
    long connect_timeout_ms;
    long total_timeout_ms;
    long stall_timeout_ms;
    size_t max_response;
    const char *ca_file;
    bool allow_plain_http;
    const char *user_agent;
    bool allow_plain_http_link_local; /* http:// also to a link-local host (169.254.0.0/16,
                                         fe80::/10): a cloud's instance metadata service,
                                         e.g. Azure's TDX quote service (docs/attest-azure.md §5) */
} ms_http_opts;

/*
 * One client keeps one libcurl easy handle in a multi handle of its own (whose connection
 * cache holds the kept-alive connection), so consecutive requests to the same server, whole
 * or stepped (ms_http_stream_begin), reuse the connection. NOT thread-safe: use one client
 * per thread (or a pool). Redirects are never followed (a 3xx is returned as a status),
 * only http and https are spoken, proxies from the environment (http_proxy, ...) are
 * ignored, no cookies, no .netrc.
 */
typedef struct ms_http_client ms_http_client;

/* opts may be NULL (all defaults). Negative timeouts are MS_ERR_ARG. */
MS_MUST_CHECK ms_err ms_http_client_new(const ms_http_opts *opts, ms_http_client **out);
/* NULL is allowed. */
void ms_http_client_free(ms_http_client *c);

/*
 * Between requests: whether the server closed the kept-alive connection (or sent anything,
 * which an idle HTTP/1.1 server never should). Such a connection would be found dead at the
 * next request anyway; until then it holds a half-closed (CLOSE-WAIT) socket, so a pool
 * should drop it. false when there is no connection or c is NULL. Never blocks; never call
 * it during a request on the same client.
 */
bool ms_http_client_idle_closed(ms_http_client *c);

/*
 * Requests. url is checked before any network activity:
 *   MS_ERR_HTTP_URL       not an absolute http(s) URL, longer than MS_MAX_HTTP_URL, or it
 *                         carries user:password
 *   MS_ERR_HTTP_INSECURE  http:// to a non-loopback host without allow_plain_http
 * bearer_token (NULL: no Authorization header) must be 1..MS_MAX_HTTP_TOKEN printable
 * ASCII characters, else MS_ERR_ARG. It is never logged or put in an error, and the header
 * memory this module builds from it is wiped after each request (libcurl's own internal
 * send buffer is outside our reach).
 *
 * Transfer errors:
 *   MS_ERR_HTTP_CONNECT   refused, unreachable or unresolvable
 *   MS_ERR_HTTP_TIMEOUT   connect, total or stall timeout
 *   MS_ERR_HTTP_TLS       handshake or certificate verification failed
 *   MS_ERR_HTTP_BODY      the body is over its cap
 *   MS_ERR_IO             any other failure, e.g. the connection closed mid-response
 * Whatever the error, *status holds the HTTP status if one was received, else 0, and a
 * collecting call's resp may hold part of the body.
 * A non-2xx status is not an error here: it is returned in *status with MS_OK.
 */

/* POST body (application/json) and collect the response body into resp (appended). */
MS_MUST_CHECK ms_err ms_http_post_json(ms_http_client *c, const char *url,
                                       const char *bearer_token, const char *body, size_t len,
                                       long *status, ms_buf *resp);

/* GET and collect the response body into resp (appended). */
MS_MUST_CHECK ms_err ms_http_get(ms_http_client *c, const char *url, const char *bearer_token,
                                 long *status, ms_buf *resp);

/*
 * Called with raw body bytes as they arrive (n > 0; valid only during the call). Return
 * MS_OK to go on; any other value aborts the transfer and is what the request returns.
 */
typedef ms_err (*ms_http_chunk_fn)(void *ctx, const uint8_t *p, size_t n);

/*
 * POST body (application/json) and pass a 2xx response's body to fn as it arrives; total
 * bytes are capped by opts.max_response. The body of a non-2xx response does not go to fn:
 * it is collected into err_body (may be NULL: discarded), whose cap should be small
 * (MS_MAX_HTTP_ERROR_BODY); over it is MS_ERR_HTTP_BODY with *status set.
 */
MS_MUST_CHECK ms_err ms_http_post_stream(ms_http_client *c, const char *url,
                                         const char *bearer_token, const char *body, size_t len,
                                         long *status, ms_http_chunk_fn fn, void *ctx,
                                         ms_buf *err_body);

/*
 * The same streamed POST, driven by the caller one step at a time (a server thread that
 * returns between pieces: secure/supervisor/stream.c): begin, then step until *done, then
 * end, always (it also aborts a transfer not done; its connection is closed, never reused
 * half-read). fn is called from inside ms_http_stream_step. body must outlive the transfer.
 * ms_http_stream_step waits up to timeout_ms for the transfer to have something to do
 * (libcurl's timers, e.g. the timeouts of opts, cut it short), then moves it on as far as
 * it goes without blocking. ms_http_stream_end: the outcome as ms_http_post_stream's
 * (MS_ERR_IO for an aborted one). One stepped stream at a time a client; no other request
 * on it meanwhile (MS_ERR_ARG).
 */
MS_MUST_CHECK ms_err ms_http_stream_begin(ms_http_client *c, const char *url,
                                          const char *bearer_token, const char *body, size_t len,
                                          ms_http_chunk_fn fn, void *ctx, ms_buf *err_body);
MS_MUST_CHECK ms_err ms_http_stream_step(ms_http_client *c, int timeout_ms, bool *done);
MS_MUST_CHECK ms_err ms_http_stream_end(ms_http_client *c, long *status);

/*
 * Retry-After of the last response, in seconds (delta-seconds or an HTTP date); 0 when it
 * had none (libcurl cannot tell that apart from "Retry-After: 0").
 */
long ms_http_retry_after_s(const ms_http_client *c);

/*
 * Many POSTs to one URL at once, driven from the calling thread over one libcurl multi
 * handle: `slots` (>= 1) transfers in flight at most, as many connections, all kept for
 * reuse. The URL policy, headers, TLS, caps, timeouts and errors are those of
 * ms_http_post_json. NOT thread-safe. The loop: start requests while a slot is idle,
 * perform, take each finished one with ms_http_multi_next, wait when none finished.
 */
typedef struct ms_http_multi ms_http_multi;

/* A finished request. resp is the slot's body buffer (cap: opts.max_response): the caller
 * may read and clear it; it stays valid until the next ms_http_multi_start or _free, which
 * wipe it. err and status as ms_http_post_json; retry_after_s as ms_http_retry_after_s. */
typedef struct ms_http_done {
    size_t tag;
    ms_err err;
    long status;
    long retry_after_s;
    ms_buf *resp;
} ms_http_done;

/* opts may be NULL (defaults). URL and token are checked here (errors as the requests);
 * slots 0 or a negative timeout is MS_ERR_ARG. */
MS_MUST_CHECK ms_err ms_http_multi_new(const ms_http_opts *opts, const char *url,
                                       const char *bearer_token, unsigned slots,
                                       ms_http_multi **out);
/* Aborts what is in flight; wipes every buffer. NULL is allowed. */
void ms_http_multi_free(ms_http_multi *m);
/* How many slots are idle. */
unsigned ms_http_multi_idle(const ms_http_multi *m);
/* Start a POST of body[0..len) (not copied: it must outlive the request) on an idle slot;
 * tag comes back in ms_http_done. MS_ERR_STATE when no slot is idle. */
MS_MUST_CHECK ms_err ms_http_multi_start(ms_http_multi *m, size_t tag, const char *body,
                                         size_t len);
/* Move every transfer on as far as it goes without blocking. */
MS_MUST_CHECK ms_err ms_http_multi_perform(ms_http_multi *m);
/* One finished request into *d (*got true), or *got false when none finished. */
MS_MUST_CHECK ms_err ms_http_multi_next(ms_http_multi *m, ms_http_done *d, bool *got);
/* Sleep until a transfer has something to do, or timeout_ms. */
MS_MUST_CHECK ms_err ms_http_multi_wait(ms_http_multi *m, int timeout_ms);

/*
 * The loopback check of the URL policy, in one place for every link (engines, supervisor).
 * ms_http_host_is_loopback: host as libcurl's URL API returns it (IPv6 in brackets) is
 * 127.0.0.0/8 in dotted-quad form, [::1], [::ffff:127.x.y.z], or "localhost" in any case
 * (libcurl resolves that name to loopback itself, never via DNS). Anything else is not:
 * "localhost.", "127.0.0.1.evil", "::1" without brackets, "0x7f000001", NULL.
 * ms_http_url_is_loopback: url parses with libcurl's URL API (which normalises numeric
 * IPv4 forms such as 0x7f000001 or 127.1 to dotted quads), its scheme is http or https,
 * and its host passes the check above. Says nothing about userinfo: ms_http_* refuse it.
 */
bool ms_http_host_is_loopback(const char *host);
bool ms_http_url_is_loopback(const char *url);
/* host (as libcurl's URL API returns it) is a link-local address: IPv4 169.254.0.0/16 or
   IPv6 fe80::/10, numeric only (a name is never link-local here). */
bool ms_http_host_is_link_local(const char *host);

#endif

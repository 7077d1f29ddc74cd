/* The client's HTTP(S) link to one supervisor (libcurl): URL policy, TLS settings, key pin. */
#ifndef MS_SECURE_CLIENT_LINK_H
#define MS_SECURE_CLIENT_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/suite.h"

/*
 * Internal to secure/client (client.c uses the link; run_opts.c only the URL test below).
 * One libcurl easy handle, so consecutive requests (handshakes included) reuse one
 * kept-alive connection; at most one connection is cached (CURLOPT_MAXCONNECTS 1). Every
 * new TLS connection's leaf key is hashed inside its TLS handshake (secure/attest/tlspin.c)
 * and, once a pin is set, must match it, or the TLS handshake fails before any request byte
 * is sent. Not thread-safe.
 *
 * Every request: peer and host verification on, TLS >= 1.2, CA file from the config (NULL:
 * the system store), http/https only, no redirects, no proxy from the environment, no
 * signals, no TLS session resumption (a resumed session carries no certificate to check).
 */
typedef struct ms_link ms_link;

typedef struct ms_link_cfg {
    const char *url;         /* base URL: http(s)://host[:port][/prefix], no query or user */
    const char *cacert;      /* PEM CA bundle, or NULL for the system store */
    int allow_http;          /* http:// allowed, and only to a loopback host */
    long connect_timeout_ms; /* > 0 */
    long timeout_ms;         /* whole request, > 0 */
} ms_link_cfg;

/*
 * Check the URL before any connection (MS_ERR_HTTP_URL: not an absolute http(s) URL, has a
 * user, query or fragment, too long; MS_ERR_HTTP_INSECURE: http:// without allow_http, or
 * to a host that is not a loopback address or "localhost"), then make the handle.
 */
MS_MUST_CHECK ms_err ms_link_new(ms_link **out, const ms_link_cfg *cfg);
void ms_link_free(ms_link *l);
/* 1 for https://, 0 for plain http:// (loopback only). */
int ms_link_is_tls(const ms_link *l);

/*
 * 1 when libcurl's own parser finds an http(s) URL whose host is a loopback address
 * (127.0.0.0/8, [::1], [::ffff:127.x.y.z]) or "localhost"; 0 otherwise, unparsable URLs
 * included. For other URL users in secure/client (run's worker URL): a string test would
 * take "https://127.0.0.1.example.net/" or "https://example.net?@127.0.0.1/" for loopback.
 */
int ms_link_url_is_loopback(const char *url);

/*
 * Response bytes of a 2xx status, in order, as they arrive (n > 0). Return MS_OK to go on;
 * any other value aborts the transfer and is what ms_link_post returns.
 */
typedef ms_err (*ms_link_sink_fn)(void *ctx, const uint8_t *p, size_t n);

/*
 * The sink that appends to the ms_buf ctx (over its cap: MS_ERR_HTTP_BODY). The link knows
 * it: a 2xx response's declared Content-Length (within `max` and the buffer's cap) is
 * reserved before its first bytes, so a large reply lands in one allocation of its size (no
 * growth by doubling, each growth a copy and a wipe).
 */
MS_MUST_CHECK ms_err ms_link_collect(void *ctx, const uint8_t *p, size_t n);

typedef struct ms_link_resp {
    long status;        /* 0 when no status line arrived */
    long retry_after_s; /* Retry-After of the answer, 0 when none */
    ms_err transport;   /* the transfer's own result (also returned) */
} ms_link_resp;

/*
 * POST body (application/octet-stream) to base URL + path (a constant path of ours).
 * 2xx bytes go to sink; a non-2xx body is read and dropped. More than `max` bytes of body
 * in total aborts with MS_ERR_HTTP_BODY. `fresh` (a handshake): drop the pin first, so a
 * supervisor that came back with a new TLS key can be bound again by the new transcript; the
 * connection may still be reused. Transfer errors: MS_ERR_HTTP_CONNECT, _TIMEOUT, _TLS (certificate
 * did not verify), _PIN (a new connection presented another key than the pinned one),
 * _BODY, MS_ERR_IO (anything else, e.g. the connection dropped mid-body), or the sink's
 * error. A non-2xx status is not an error here: see resp->status.
 */
MS_MUST_CHECK ms_err ms_link_post(ms_link *l, const char *path, const uint8_t *body, size_t len,
                                  int fresh, size_t max, ms_link_sink_fn sink, void *ctx,
                                  ms_link_resp *resp);

/*
 * One more request header, "Name: value" (at most MS_LINK_HEADER_MAX - 1 characters, no
 * CR or LF), for the next ms_link_post only (MS_ERR_ARG otherwise): the handshake's
 * Minions-Evidence-Held (docs/protocol.md §12.1).
 */
#define MS_LINK_HEADER_MAX 128u
MS_MUST_CHECK ms_err ms_link_next_header(ms_link *l, const char *line);

/*
 * The SPKI hash of the leaf certificate of the connection the last request used (recorded
 * when that connection's TLS handshake verified it). MS_ERR_HTTP_PIN when there is none
 * (plain http).
 */
MS_MUST_CHECK ms_err ms_link_peer_spki(const ms_link *l, uint8_t out[static MS_SPKI_HASH_LEN]);

/*
 * Pin every later connection to the key whose SPKI has this SHA-256 (CURLOPT_PINNEDPUBLICKEY
 * "sha256//..."); NULL removes the pin.
 */
MS_MUST_CHECK ms_err ms_link_pin(ms_link *l, const uint8_t *spki_hash);

#endif

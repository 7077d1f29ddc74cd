/* A fault-injecting HTTP(S) reverse proxy for end-to-end tests, running inside the test. */
#ifndef MS_TESTS_E2E_PROXY_H
#define MS_TESTS_E2E_PROXY_H

#include <stddef.h>

/*
 * It stands where a TLS-terminating load balancer or an interceptor would: it listens on
 * 127.0.0.1 (HTTPS with the given certificate, or plain HTTP), forwards every POST body to
 * the upstream base URL with the same path, and answers with the upstream's status and
 * body, unless a fault says otherwise. Bodies are forwarded whole (a streamed answer
 * arrives at the client in one piece). One request at a time (one polling thread).
 */
typedef struct e2e_proxy e2e_proxy;

typedef struct e2e_proxy_cfg {
    const char *cert_path;   /* PEM certificate chain served to clients; NULL: plain HTTP */
    const char *key_path;    /* its key */
    const char *upstream;    /* http(s)://127.0.0.1:PORT */
    const char *upstream_ca; /* CA file for an https upstream, else NULL */
} e2e_proxy_cfg;

/* What to do to the next requests whose path ends with `suffix` ("" matches every path). */
typedef struct e2e_fault {
    const char *suffix; /* e.g. "/handshake", "/request", "/stream"; copied */
    int status;         /* > 0: answer this status with an empty body, no forwarding */
    int retry_after;    /* with status: a Retry-After header (seconds) when > 0 */
    int cut;            /* forward, then answer only the first cut_to bytes of the body */
    size_t cut_to;
    size_t oversize; /* > 0: answer 200 with this many junk bytes, no forwarding */
    int replay;      /* forward, but answer the previous body seen on this path suffix */
    int count;       /* how many requests it applies to (0 means 1) */
} e2e_fault;

/* Start; *port is where it listens. 0 on success, -1 (printed) on failure. */
int e2e_proxy_start(const e2e_proxy_cfg *cfg, e2e_proxy **out, unsigned *port);
void e2e_proxy_stop(e2e_proxy *px);
/* Replace the current fault (NULL clears it). */
void e2e_proxy_fault(e2e_proxy *px, const e2e_fault *f);
/* Requests seen so far whose path ends with suffix. */
unsigned e2e_proxy_seen(e2e_proxy *px, const char *suffix);

#endif

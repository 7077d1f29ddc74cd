/* The supervisor's HTTP(S) server: libmicrohttpd around the endpoints of handlers.h. */
#ifndef MS_SECURE_SUPERVISOR_SERVER_H
#define MS_SECURE_SUPERVISOR_SERVER_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/err.h"
#include "secure/supervisor/handlers.h"

typedef struct ms_sup_server_cfg {
    const char *listen;        /* "127.0.0.1:8443", "[::1]:8443" or "unix:/path/to.sock" */
    const char *tls_cert_path; /* PEM; with tls_key_path: serve HTTPS */
    const char *tls_key_path;
    int plain_http;            /* explicit opt-in to plain HTTP; loopback or unix socket only */
    unsigned max_connections;
    unsigned per_ip_connections;
    unsigned connection_timeout_s; /* an idle or silent connection is closed after this */
    FILE *access_log;          /* one line per request; NULL for none */
} ms_sup_server_cfg;

typedef struct ms_sup_server ms_sup_server;

/*
 * Start serving `sup` (borrowed; must outlive the server). *port is the TCP port bound
 * (useful with port 0), or 0 for a unix socket. Errors: MS_ERR_CONFIG for a bad listen
 * address, missing TLS files, or plain HTTP on a non-loopback address; MS_ERR_IO when the
 * address cannot be bound.
 */
MS_MUST_CHECK ms_err ms_sup_server_start(ms_sup *sup, const ms_sup_server_cfg *cfg,
                                         ms_sup_server **out, uint16_t *port);
void ms_sup_server_stop(ms_sup_server *srv);

/* Parse a listen address (exposed for tests). *is_loopback is set for 127/8, ::1, unix. */
MS_MUST_CHECK ms_err ms_sup_parse_listen(const char *listen, struct sockaddr_storage *ss,
                                         unsigned *ss_len, int *is_unix, int *is_loopback);

#endif

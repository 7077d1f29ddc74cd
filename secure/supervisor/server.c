/* libmicrohttpd glue: routing, capped bodies, 413s, streamed replies, access log. */
#include "secure/supervisor/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/listen.h"
#include "common/limits.h"
#include "common/log.h"
#include "secure/attest/devkey.h"

/*
 * libmicrohttpd's buffer for a streamed reply (allocated zeroed per stream): one full
 * STREAM_DATA record and its overhead, the most one reader step usually seals. Was 64 KiB:
 * 48 KiB more zeroed and held per streamed turn for nothing.
 */
#define STREAM_BLOCK (MS_STREAM_COALESCE_MAX + 64u)

struct ms_sup_server {
    struct MHD_Daemon *d;
    ms_sup *sup;
    FILE *access_log; /* written with one write(2) a line, no lock (on_completed) */
    int unix_fd;
    char unix_path[108];
    ms_buf cert, key;
};

/* One HTTP request's state, from its headers to its completion. */
typedef struct req_ctx {
    enum ms_sup_route route;
    uint8_t sid[MS_SESSION_ID_LEN];
    const char *method;
    ms_buf body;
    uint64_t t0;
    int status;
    char sid_prefix[9];
    size_t in_len;
    size_t out_len; /* for streams: counted as the reader hands bytes over */
    int streamed;
    const char *allow; /* the method a 405 names in its Allow header */
    int over_cap;      /* a chunked body passed its cap: the rest is dropped, then 413 */
    size_t dropped;    /* bytes dropped since (MS_MAX_HTTP_DISCARD at most) */
} req_ctx;

/* A streamed reply's reader state: the stream, and where the access log counts bytes. */
typedef struct stream_cls {
    ms_sup_stream *st;
    req_ctx *rq;
} stream_cls;

static const char *route_name(enum ms_sup_route r)
{
    static const char *const names[] = {[MS_ROUTE_NONE] = "none",
                                        [MS_ROUTE_HEALTH] = "health",
                                        [MS_ROUTE_HANDSHAKE] = "handshake",
                                        [MS_ROUTE_FINISH] = "finish",
                                        [MS_ROUTE_REQUEST] = "request",
                                        [MS_ROUTE_STREAM] = "stream",
                                        [MS_ROUTE_CLOSE] = "close"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "none";
}

static enum MHD_Result queue_simple(struct MHD_Connection *c, req_ctx *rq, int status,
                                    const char *text, int retry_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(text ? strlen(text) : 0, (void *)(text ? text : ""),
                                        MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    if (rq->allow) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->allow);
    }
    if (retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    rq->status = status;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_cls *sc = cls;
    (void)pos;
    size_t n = ms_sup_stream_read(sc->st, (uint8_t *)buf, max);
    sc->rq->out_len += n;
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
    stream_cls *sc = cls;
    ms_sup_stream_free(sc->st);
    free(sc);
}

/* A reply body handed to libmicrohttpd: nothing secret is left in it (see queue_reply). */
static void free_body(void *p)
{
    free(p);
}

static enum MHD_Result queue_reply(struct MHD_Connection *c, req_ctx *rq, ms_sup_reply *r,
                                   ms_sup_stream *st)
{
    struct MHD_Response *resp = NULL;
    stream_cls *sc = NULL;
    if (st) {
        sc = malloc(sizeof *sc);
        if (sc) {
            *sc = (stream_cls){.st = st, .rq = rq};
            resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_reader,
                                                     sc, stream_free);
        }
    } else if (r->body.p == NULL) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        /* No copy: the body (ciphertext, or a public handshake or error text) is handed
           over, and freed with free_body once sent. */
        resp = MHD_create_response_from_buffer_with_free_callback(r->body.len, r->body.p,
                                                                   free_body);
        if (resp) {
            rq->out_len = r->body.len;
            ms_buf_init(&r->body, 0);
        }
    }
    if (!resp) {
        ms_sup_stream_free(st);
        free(sc);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    rq->status = r->status;
    rq->out_len = st ? 0 : rq->out_len;
    rq->streamed = st != NULL;
    memcpy(rq->sid_prefix, r->sid_prefix, sizeof rq->sid_prefix);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* First call: route, method and the declared length, answered at once when wrong. */
static enum MHD_Result on_headers(struct MHD_Connection *c, const char *url, const char *method,
                                  void **con_cls)
{
    req_ctx *rq = calloc(1, sizeof *rq);
    if (!rq) {
        return MHD_NO;
    }
    *con_cls = rq;
    rq->t0 = ms_clock_ms();
    rq->method = strcmp(method, "GET") == 0 ? "GET" : strcmp(method, "POST") == 0 ? "POST" : "OTHER";
    rq->route = ms_sup_route_of(url, rq->sid);
    size_t cap = ms_sup_body_cap(rq->route);
    ms_buf_init(&rq->body, cap);
    if (rq->route == MS_ROUTE_NONE) {
        return queue_simple(c, rq, 404, "not found\n", 0);
    }
    const char *want = rq->route == MS_ROUTE_HEALTH ? "GET" : "POST";
    if (strcmp(method, want) != 0) {
        rq->allow = want;
        return queue_simple(c, rq, 405, NULL, 0);
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t declared;
    if (ms_listen_content_length(cl, cap, &declared) != MS_OK) {
        return queue_simple(c, rq, 413, NULL, 0); /* before a byte of the body is read */
    }
    if (cl != NULL) {
        /* The whole declared body at once: no growth by doubling, no copies to wipe. A
           failure here is retried (and reported) by the appends. */
        ms_err e = ms_buf_reserve(&rq->body, declared);
        (void)e;
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    ms_sup_server *srv = cls;
    req_ctx *rq = *con_cls;
    (void)version;
    if (!rq) {
        return on_headers(c, url, method, con_cls);
    }
    if (rq->status != 0) { /* already answered (404/405/413): discard whatever comes */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        /*
         * A chunked body past its cap: libmicrohttpd takes no answer while it hands over
         * body bytes, so the rest is read and dropped and the 413 goes out when the body
         * ends (§12.2); a body that goes on for MS_MAX_HTTP_DISCARD bytes more loses its
         * connection instead.
         */
        if (!rq->over_cap && ms_buf_append(&rq->body, upload_data, *upload_data_size) != MS_OK) {
            rq->over_cap = 1;
            ms_buf_free(&rq->body);
        }
        if (rq->over_cap) {
            rq->dropped += *upload_data_size;
            if (rq->dropped > MS_MAX_HTTP_DISCARD) {
                rq->status = 413;
                return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->over_cap) {
        return queue_simple(c, rq, 413, NULL, 0);
    }
    ms_sup_reply r;
    ms_sup_stream *st = NULL;
    ms_sup_reply_init(&r);
    rq->in_len = rq->body.len;
    if (rq->route == MS_ROUTE_STREAM) {
        ms_sup_stream_start(srv->sup, rq->sid, rq->body.p, rq->body.len, &r, &st);
    } else {
        ms_peer_key peer;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        int known = ci && ms_peer_key_of(ci->client_addr, &peer);
        const char *held = rq->route == MS_ROUTE_HANDSHAKE
                               ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, MS_HELD_HEADER)
                               : NULL; /* §12.1: the client's held FAST evidence, a hint */
        ms_sup_handle_held(srv->sup, known ? &peer : NULL, rq->route, rq->sid, held, rq->body.p,
                           rq->body.len, &r);
    }
    enum MHD_Result ret = queue_reply(c, rq, &r, st);
    ms_sup_reply_free(&r);
    ms_buf_free(&rq->body); /* done with it: wipe the sealed request now */
    return ret;
}

/*
 * One access-log line with one write(2), no lock: every connection thread ends its requests
 * here, and a lock held across the write made them queue behind each other (and behind a
 * preempted holder). A line of this size is written whole: a pipe takes up to PIPE_BUF bytes
 * at once, a file opened for appending each write at its end.
 */
static void access_line(FILE *f, const req_ctx *rq, enum MHD_RequestTerminationCode toe)
{
    /* The second's timestamp, formatted once a second per connection thread (gmtime_r and
       strftime were half of the line's work). */
    static _Thread_local time_t ts_at = (time_t)-1;
    static _Thread_local char ts[32];
    char line[256];
    time_t now = time(NULL);
    if (now != ts_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        if (strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
            ts[0] = '\0';
        }
        ts_at = now;
    }
    int n = snprintf(line, sizeof line, "%s %s %s %d sid=%s in=%zu out=%s%zu ms=%llu%s\n", ts,
                     rq->method, route_name(rq->route), rq->status,
                     rq->sid_prefix[0] ? rq->sid_prefix : "-", rq->in_len,
                     rq->streamed ? "stream:" : "", rq->out_len,
                     (unsigned long long)(ms_clock_ms() - rq->t0),
                     toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    if (n <= 0) {
        return;
    }
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    line[len - 1] = '\n';
    int fd = fileno(f);
    for (size_t off = 0; fd >= 0 && off < len;) {
        ssize_t w = write(fd, line + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break; /* the log is best effort: a request never fails for it */
        }
        off += (size_t)w;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ms_sup_server *srv = cls;
    req_ctx *rq = *con_cls;
    (void)c;
    if (!rq) {
        return;
    }
    if (srv->access_log) {
        access_line(srv->access_log, rq, toe);
    }
    ms_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

/* The parsing lives in common/listen.c, shared with minions-secure serve. */
ms_err ms_sup_parse_listen(const char *listen, struct sockaddr_storage *ss, unsigned *ss_len,
                           int *is_unix, int *is_loopback)
{
    return ms_listen_parse(listen, ss, ss_len, is_unix, is_loopback);
}

static ms_err load_tls(ms_sup_server *srv, const ms_sup_server_cfg *cfg)
{
    ms_buf_init(&srv->cert, MS_MAX_KEY_FILE * 4);
    ms_buf_init(&srv->key, MS_MAX_KEY_FILE);
    if (!cfg->tls_cert_path && !cfg->tls_key_path) {
        return MS_OK;
    }
    ENSURE(cfg->tls_cert_path && cfg->tls_key_path, MS_ERR_CONFIG);
    TRY(ms_file_read(cfg->tls_cert_path, MS_MAX_KEY_FILE * 4, &srv->cert));
    TRY(ms_file_read(cfg->tls_key_path, MS_MAX_KEY_FILE, &srv->key));
    TRY(ms_buf_terminate(&srv->cert));
    TRY(ms_buf_terminate(&srv->key));
    /* Before libmicrohttpd sees them: its own message for this is a GnuTLS warning. */
    TRY(ms_tls_key_matches_pem(srv->cert.p, srv->cert.len, srv->key.p, srv->key.len));
    return ms_tls_spki_sha256_pem(srv->cert.p, srv->cert.len, srv->sup->tls_spki);
}

/* After libmicrohttpd could not listen: is it because another program holds the port? */
static int port_in_use(const struct sockaddr_storage *ss, unsigned len)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as libmicrohttpd does */
    int busy = bind(fd, (const struct sockaddr *)ss, len) != 0 && errno == EADDRINUSE;
    close(fd);
    return busy;
}

static struct MHD_Daemon *start_daemon(ms_sup_server *srv, const ms_sup_server_cfg *cfg,
                                       const struct sockaddr_storage *ss, int tls)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0) |
                     (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)ms_log_http_server, NULL}, /* first: MHD asks for it */
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->connection_timeout_s, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
        {srv->unix_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
         srv->unix_fd >= 0 ? (intptr_t)srv->unix_fd : 0,
         srv->unix_fd >= 0 ? NULL : (void *)ss},
        {srv->unix_fd >= 0 ? MHD_OPTION_END : MHD_OPTION_PER_IP_CONNECTION_LIMIT,
         (intptr_t)cfg->per_ip_connections, NULL},
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->key.p},
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->cert.p},
        {MHD_OPTION_END, 0, NULL},
    };
    /* Compact the list: an MHD_OPTION_END entry would stop MHD reading the rest. */
    struct MHD_OptionItem list[sizeof opts / sizeof opts[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (opts[i].option != MHD_OPTION_END) {
            list[n++] = opts[i];
        }
    }
    list[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    /* The port is also given here only so that libmicrohttpd's own messages name it (it
       binds the address of MHD_OPTION_SOCK_ADDR). */
    uint16_t port = ss->ss_family == AF_INET    ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                    : ss->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
                                                : 0;
    return MHD_start_daemon(flags, srv->unix_fd >= 0 ? 0 : port, NULL, NULL, on_request, srv,
                            MHD_OPTION_ARRAY, list, MHD_OPTION_END);
}

ms_err ms_sup_server_start(ms_sup *sup, const ms_sup_server_cfg *cfg, ms_sup_server **out,
                           uint16_t *port)
{
    ms_err err = MS_OK;
    struct sockaddr_storage ss;
    unsigned ss_len;
    int is_unix, loopback;
    *out = NULL;
    *port = 0;
    TRY(ms_sup_parse_listen(cfg->listen, &ss, &ss_len, &is_unix, &loopback));
    int tls = cfg->tls_cert_path != NULL || cfg->tls_key_path != NULL;
    /* §12 / threat model: plaintext HTTP only where no network can see it, and only asked. */
    ENSURE(tls || (cfg->plain_http && loopback), MS_ERR_CONFIG);
    ENSURE(!(tls && cfg->plain_http), MS_ERR_CONFIG);
    ms_sup_server *srv = calloc(1, sizeof *srv);
    ENSURE(srv != NULL, MS_ERR_NOMEM);
    srv->sup = sup;
    srv->access_log = cfg->access_log;
    srv->unix_fd = -1;
    TRY_OUT(load_tls(srv, cfg));
    if (is_unix) {
        srv->unix_fd = ms_listen_unix_socket(&ss, ss_len);
        ENSURE_OUT(srv->unix_fd >= 0, MS_ERR_IO);
        memcpy(srv->unix_path, ((struct sockaddr_un *)&ss)->sun_path, sizeof srv->unix_path);
    }
    srv->d = start_daemon(srv, cfg, &ss, tls);
    ENSURE_OUT(srv->d != NULL || is_unix || !port_in_use(&ss, ss_len), MS_ERR_LISTEN_IN_USE);
    ENSURE_OUT(srv->d != NULL, MS_ERR_IO);
    if (!is_unix) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
        *port = info ? info->port : 0;
    }
    *out = srv;
    srv = NULL;
out:
    ms_sup_server_stop(srv);
    return err;
}

void ms_sup_server_stop(ms_sup_server *srv)
{
    if (!srv) {
        return;
    }
    if (srv->d) {
        MHD_stop_daemon(srv->d);
    }
    if (srv->unix_fd >= 0) {
        close(srv->unix_fd);
        unlink(srv->unix_path);
    }
    ms_buf_free(&srv->cert);
    ms_buf_free(&srv->key);
    free(srv);
}

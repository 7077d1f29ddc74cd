/* libmicrohttpd glue: routes, checks before the body, capped bodies, replies and streams. */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/listen.h"
#include "common/log.h"
#include "gateway/internal.h"

struct ms_gw_server {
    struct MHD_Daemon *d;
    int unix_fd;
    char unix_path[108];
};

/* One HTTP request, from its headers to its completion. */
typedef struct req_ctx {
    const ms_gw_route *route;
    bool by_cookie;
    int answered;  /* a reply was queued (an early error, or the handler's) */
    int status;
    ms_buf body;
    uint64_t t0;
    char method[8];
    char path[96]; /* for the access line only (cut) */
} req_ctx;

/* --- streams ------------------------------------------------------------------------------- */

struct ms_gw_stream {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ms_buf q;         /* queued bytes, q.p[qoff..q.len) not yet handed to the client */
    size_t qoff;
    int head;         /* 0: undecided; 1: streaming; 2: failed (fail holds the reply) */
    ms_gw_resp fail;
    int done;         /* the producer returned */
    int gone;         /* the client's side is closed */
    int refs;         /* the producer and the reply */
    ms_gw_stream_fn run;
    void *ctx;
    void (*ctx_free)(void *);
    ms_gw *gw;
};

static void producer_done(ms_gw *gw)
{
    pthread_mutex_lock(&gw->mu);
    gw->producers--;
    pthread_cond_broadcast(&gw->cv);
    pthread_mutex_unlock(&gw->mu);
}

static void stream_unref(ms_gw_stream *s)
{
    pthread_mutex_lock(&s->mu);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (!last) {
        return;
    }
    ms_buf_free(&s->q);
    ms_gw_resp_free(&s->fail);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void *stream_thread(void *arg)
{
    ms_gw_stream *s = arg;
    s->run(s, s->ctx);
    if (s->ctx_free) {
        s->ctx_free(s->ctx);
    }
    pthread_mutex_lock(&s->mu);
    s->done = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    ms_gw *gw = s->gw;
    stream_unref(s);
    producer_done(gw);
    return NULL;
}

ms_err ms_gw_stream_start(const ms_gw_req *req, ms_gw_resp *r, const char *content_type,
                          ms_gw_stream_fn run, void *ctx, void (*ctx_free)(void *))
{
    ms_gw_stream *s = calloc(1, sizeof *s);
    if (!s) {
        if (ctx_free) {
            ctx_free(ctx);
        }
        return MS_ERR_NOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    ms_buf_init(&s->q, MS_GW_STREAM_QUEUE);
    ms_gw_resp_init(&s->fail);
    s->refs = 2;
    s->run = run;
    s->ctx = ctx;
    s->ctx_free = ctx_free;
    s->gw = req->gw;
    pthread_mutex_lock(&s->gw->mu);
    s->gw->producers++;
    pthread_mutex_unlock(&s->gw->mu);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &at, stream_thread, s);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        if (ctx_free) {
            ctx_free(ctx);
        }
        s->refs = 1;
        stream_unref(s);
        producer_done(req->gw);
        return MS_ERR_INTERNAL;
    }
    r->status = 200;
    r->content_type = content_type;
    r->stream = s;
    return MS_OK;
}

ms_err ms_gw_stream_write(ms_gw_stream *s, const void *p, size_t n)
{
    ms_err err = MS_OK;
    pthread_mutex_lock(&s->mu);
    if (s->head == 0) {
        s->head = 1;
        pthread_cond_broadcast(&s->cv);
    }
    while (!s->gone && s->q.len - s->qoff + n > MS_GW_STREAM_QUEUE) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    ENSURE_OUT(!s->gone, MS_ERR_IO);
    if (s->qoff > 0) { /* compact: what the client took is dropped */
        memmove(s->q.p, s->q.p + s->qoff, s->q.len - s->qoff);
        s->q.len -= s->qoff;
        s->qoff = 0;
    }
    TRY_OUT(ms_buf_append(&s->q, p, n));
    pthread_cond_broadcast(&s->cv);
out:
    pthread_mutex_unlock(&s->mu);
    return err;
}

bool ms_gw_stream_fail(ms_gw_stream *s, int status, const char *type, const char *param,
                       const char *code, const char *message, int retry_after)
{
    bool taken = false;
    pthread_mutex_lock(&s->mu);
    if (s->head == 0) {
        ms_gw_error(&s->fail, status, type, param, code, message);
        s->fail.retry_after = retry_after;
        s->head = 2;
        taken = true;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return taken;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    ms_gw_stream *s = cls;
    (void)pos;
    pthread_mutex_lock(&s->mu);
    while (s->qoff == s->q.len && !s->done && !s->gone) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    size_t n = s->q.len - s->qoff;
    n = n < max ? n : max;
    if (n > 0) {
        memcpy(buf, s->q.p + s->qoff, n);
        s->qoff += n;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_closed(void *cls)
{
    ms_gw_stream *s = cls;
    pthread_mutex_lock(&s->mu);
    s->gone = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    stream_unref(s);
}

/* --- requests ------------------------------------------------------------------------------ */

const char *ms_gw_req_header(const ms_gw_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn_, MHD_HEADER_KIND, name);
}

const char *ms_gw_req_query(const ms_gw_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn_, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * Every reply: Content-Type, Cache-Control, nosniff. Framing and referrer rules only for what
 * a browser shows as a document (the web UI's files): an API answer (JSON, an event stream)
 * has no links, loads nothing, and framed shows only text; each header line costs the two
 * ends about 3 k instructions a request (docs/serve.md).
 */
static void add_headers(struct MHD_Response *resp, const ms_gw_resp *r)
{
    const char *ct = r->content_type ? r->content_type : "application/json";
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->cacheable ? "no-cache" : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (strncmp(ct, "application/json", 16) != 0 && strncmp(ct, "text/event-stream", 17) != 0) {
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    if (strncmp(ct, "text/html", 9) == 0) {
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data: blob:; "
                                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                                "form-action 'self'");
    }
    if (r->stream) {
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    }
    if (r->allow) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    }
    if (r->location[0]) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    }
    if (r->set_cookie[0]) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    }
    if (r->retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
}

/* The stream's status is the producer's: wait for its first write or its failure. */
static ms_gw_stream *stream_head(ms_gw_resp *r, ms_gw_resp **shown)
{
    ms_gw_stream *s = r->stream;
    *shown = r;
    pthread_mutex_lock(&s->mu);
    while (s->head == 0 && !s->done) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    int failed = s->head == 2 || (s->head == 0 && s->done);
    pthread_mutex_unlock(&s->mu);
    if (!failed) {
        return s;
    }
    if (s->fail.status == 0) {
        ms_gw_error(&s->fail, 500, "api_error", NULL, "internal", "the reply ended before it began");
    }
    *shown = &s->fail;
    return NULL;
}

static void body_free(void *cls)
{
    ms_buf *b = cls;
    ms_buf_free(b); /* wiped, as the reply's own buffer would have been */
    free(b);
}

/* A reply of the body's bytes, which it takes (no copy): b is left empty. */
static struct MHD_Response *body_response(ms_buf *b)
{
    ms_buf *own = malloc(sizeof *own);
    if (!own) {
        return NULL;
    }
    *own = *b;
    ms_buf_init(b, own->max);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback_cls(own->len, own->p, body_free, own);
    if (!resp) {
        body_free(own);
    }
    return resp;
}

static enum MHD_Result queue(struct MHD_Connection *c, req_ctx *rq, ms_gw_resp *r)
{
    struct MHD_Response *resp;
    ms_gw_resp *shown = r;
    ms_gw_stream *s = r->stream ? stream_head(r, &shown) : NULL;
    if (s) {
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, s,
                                                 stream_closed);
        r->stream = NULL; /* the reply holds the reference now */
        if (!resp) {
            stream_closed(s);
        }
    } else if (shown->static_body) {
        resp = MHD_create_response_from_buffer(shown->static_len, (void *)shown->static_body,
                                               MHD_RESPMEM_PERSISTENT);
    } else if (shown->body.len > 0) {
        resp = body_response(&shown->body);
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        return MHD_NO;
    }
    add_headers(resp, shown);
    rq->status = shown->status ? shown->status : 200;
    rq->answered = 1;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rq->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, req_ctx *rq, ms_gw_resp *r)
{
    enum MHD_Result ret = queue(c, rq, r);
    ms_gw_resp_free(r);
    return ret;
}

/* src into dst, cut to its size (for the access line: a request's every call, no printf). */
static void copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* First call: route, checks (Host, Origin, auth) and the declared length, before any body. */
static enum MHD_Result on_headers(ms_gw *gw, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    req_ctx *rq = calloc(1, sizeof *rq);
    if (!rq) {
        return MHD_NO;
    }
    *con_cls = rq;
    rq->t0 = ms_clock_ms();
    copy_cut(rq->method, sizeof rq->method, method);
    copy_cut(rq->path, sizeof rq->path, url);
    ms_gw_resp r;
    ms_gw_resp_init(&r);
    bool known;
    const char *allow = NULL;
    rq->route = ms_gw_route_find(method, url, &known, &allow);
    ms_gw_req req = {.gw = gw, .method = method, .path = url, .conn_ = c};
    if (!atomic_load(&gw->ready)) {
        ms_gw_error(&r, 503, "api_error", NULL, "starting", "serve is starting: retry");
        return queue_error(c, rq, &r);
    }
    /* Host and Origin first, for every path: a rebound name or a foreign page learns nothing. */
    if (ms_gw_auth_check(&gw->auth, &req, rq->route, &rq->by_cookie, &r) != 0) {
        return queue_error(c, rq, &r);
    }
    if (!rq->route) {
        if (known) {
            r.allow = allow;
            ms_gw_error(&r, 405, "invalid_request_error", NULL, "method_not_allowed",
                        "this path does not take that method (see the Allow header)");
        } else {
            ms_gw_error(&r, 404, "not_found_error", NULL, "unknown_url", "no such path");
        }
        return queue_error(c, rq, &r);
    }
    ms_buf_init(&rq->body, rq->route->body_cap + 1);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t declared;
    if (ms_listen_content_length(cl, rq->route->body_cap, &declared) != MS_OK) {
        ms_gw_error(&r, 413, "invalid_request_error", NULL, "request_too_large",
                    "the request body is larger than this endpoint takes");
        return queue_error(c, rq, &r); /* before a byte of the body is read */
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    ms_gw *gw = cls;
    req_ctx *rq = *con_cls;
    (void)version;
    if (!rq) {
        return on_headers(gw, c, url, method, con_cls);
    }
    if (rq->answered) { /* an early error: discard whatever comes */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (rq->body.len + *upload_data_size > rq->route->body_cap ||
            ms_buf_append(&rq->body, upload_data, *upload_data_size) != MS_OK) {
            ms_gw_resp r;
            ms_gw_resp_init(&r);
            ms_gw_error(&r, 413, "invalid_request_error", NULL, "request_too_large",
                        "the request body is larger than this endpoint takes");
            *upload_data_size = 0;
            return queue_error(c, rq, &r); /* a chunked body past its cap */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    ms_gw_resp r;
    ms_gw_resp_init(&r);
    if (ms_buf_terminate(&rq->body) != MS_OK) {
        ms_gw_error(&r, 500, "api_error", NULL, "internal", "out of memory");
        return queue_error(c, rq, &r);
    }
    ms_gw_req req = {.gw = gw, .method = method, .path = url, .body = rq->body.p,
                     .body_len = rq->body.len, .by_cookie = rq->by_cookie, .conn_ = c};
    if (req.body == NULL) {
        req.body = (const uint8_t *)"";
    }
    rq->route->fn(&req, &r);
    if (r.status == 0 && !r.stream) {
        ms_gw_error(&r, 500, "api_error", NULL, "internal", "the handler gave no reply");
    }
    enum MHD_Result ret = queue(c, rq, &r);
    ms_gw_resp_free(&r);
    ms_buf_free(&rq->body); /* done with it: wipe the request now */
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ms_gw *gw = cls;
    req_ctx *rq = *con_cls;
    (void)c;
    if (!rq) {
        return;
    }
    if (!gw->quiet) { /* the path only: never the query (a login code), a header or a body */
        ms_log(MS_LOG_INFO, "serve", "%s %s %d ms=%llu%s", rq->method, rq->path, rq->status,
               (unsigned long long)(ms_clock_ms() - rq->t0),
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    }
    ms_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

static struct MHD_Daemon *start_daemon(ms_gw *gw, const struct sockaddr_storage *ss, int unix_fd)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem list[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)ms_log_http_server, NULL}, /* first: MHD asks for it */
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)MS_GW_MAX_CONNECTIONS, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)600, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)MS_GW_CONN_MEMORY, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, gw},
        {unix_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
         unix_fd >= 0 ? (intptr_t)unix_fd : 0, unix_fd >= 0 ? NULL : (void *)ss},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, gw, MHD_OPTION_ARRAY, list,
                            MHD_OPTION_END);
}

ms_err ms_gw_server_start(ms_gw *gw, const char *listen, int allow_remote, uint16_t *port,
                          int *is_unix)
{
    ms_err err = MS_OK;
    struct sockaddr_storage ss;
    unsigned ss_len;
    int loopback;
    *port = 0;
    TRY(ms_listen_parse(listen, &ss, &ss_len, is_unix, &loopback));
    ENSURE(loopback || allow_remote, MS_ERR_GW_LISTEN_REMOTE);
    struct ms_gw_server *srv = calloc(1, sizeof *srv);
    ENSURE(srv != NULL, MS_ERR_NOMEM);
    srv->unix_fd = -1;
    if (*is_unix) {
        srv->unix_fd = ms_listen_unix_socket(&ss, ss_len);
        ENSURE_OUT(srv->unix_fd >= 0, MS_ERR_IO);
        memcpy(srv->unix_path, ((struct sockaddr_un *)&ss)->sun_path, sizeof srv->unix_path);
    }
    gw->srv = srv;
    srv->d = start_daemon(gw, &ss, srv->unix_fd);
    ENSURE_OUT(srv->d != NULL, MS_ERR_IO);
    if (!*is_unix) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
        *port = info ? info->port : 0;
    }
    srv = NULL;
out:
    if (srv) {
        gw->srv = NULL;
        if (srv->unix_fd >= 0) {
            close(srv->unix_fd);
            unlink(srv->unix_path);
        }
        free(srv);
    }
    return err;
}

void ms_gw_server_stop(ms_gw *gw)
{
    struct ms_gw_server *srv = gw->srv;
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
    free(srv);
    gw->srv = NULL;
}

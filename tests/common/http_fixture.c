/* Test-only HTTP responder: libmicrohttpd, thread per connection, canned answers per path. */
#include "tests/common/http_fixture.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define FX_MAX_ROUTES 32
#define FX_MAX_UPLOAD (16u * 1024u * 1024u)

struct route_state {
    unsigned hits;
    char *body;
    char *auth;
};

struct fx_server {
    struct MHD_Daemon *d;
    const fx_route *routes;
    size_t n;
    struct route_state st[FX_MAX_ROUTES];
    pthread_mutex_t lock;
    atomic_bool stopping;
    atomic_uint connections;
    char *cert;
    char *key;
    unsigned short port;
};

/* One request's uploaded body. */
struct req {
    char *body;
    size_t len;
};

/* A chunked answer in progress. */
struct feed {
    fx_server *s;
    const char *body;
    size_t len;
    size_t off;
    size_t chunk;
    unsigned delay_ms;
    bool cut;
};

/* Sleep up to ms, in short naps, returning early once the server is stopping. */
static void nap(fx_server *s, unsigned ms)
{
    for (unsigned t = 0; t < ms && !atomic_load(&s->stopping); t += 10) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static char *dup_n(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        if (n > 0) {
            memcpy(d, p, n);
        }
        d[n] = '\0';
    }
    return d;
}

static ssize_t read_feed(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct feed *f = cls;
    (void)pos;
    if (f->off >= f->len) {
        return f->cut ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (f->off > 0) {
        nap(f->s, f->delay_ms);
    }
    if (atomic_load(&f->s->stopping)) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = f->len - f->off;
    n = n < f->chunk ? n : f->chunk;
    n = n < max ? n : max;
    memcpy(buf, f->body + f->off, n);
    f->off += n;
    return (ssize_t)n;
}

static int find_route(const fx_server *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->routes[i].path, path) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Count the hit and keep the request's body and Authorization header. */
static unsigned record(fx_server *s, int i, struct MHD_Connection *conn, const struct req *rq)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&s->lock);
    struct route_state *st = &s->st[i];
    unsigned hit = ++st->hits;
    free(st->body);
    free(st->auth);
    st->body = dup_n(rq->body ? rq->body : "", rq->len);
    st->auth = dup_n(auth ? auth : "", auth ? strlen(auth) : 0);
    pthread_mutex_unlock(&s->lock);
    return hit;
}

static struct MHD_Response *make_response(fx_server *s, const fx_route *r, const char *body,
                                          size_t len, bool stream)
{
    if (!stream) {
        return MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    }
    struct feed *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return NULL;
    }
    *f = (struct feed){.s = s, .body = body, .len = len, .chunk = r->chunk ? r->chunk : len + 1,
                       .delay_ms = r->chunk_delay_ms, .cut = r->cut};
    return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_feed, f, free);
}

static enum MHD_Result answer(fx_server *s, struct MHD_Connection *conn, const char *url,
                              const struct req *rq)
{
    int i = find_route(s, url);
    if (i < 0) {
        struct MHD_Response *nf = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, nf);
        MHD_destroy_response(nf);
        return ret;
    }
    const fx_route *r = &s->routes[i];
    unsigned hit = record(s, i, conn, rq);
    nap(s, r->delay_ms);
    bool fail = hit <= r->fail_first;
    unsigned status = fail ? (r->fail_status ? r->fail_status : 500)
                           : (r->status ? r->status : 200);
    const char *body = fail ? r->fail_body : r->body;
    size_t len = body == NULL ? 0 : (!fail && r->body_len ? r->body_len : strlen(body));
    struct MHD_Response *resp =
        make_response(s, r, body ? body : "", len, !fail && (r->chunk > 0 || r->cut));
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    if (r->retry_after != NULL) {
        MHD_add_response_header(resp, "Retry-After", r->retry_after);
    }
    if (r->location != NULL) {
        MHD_add_response_header(resp, "Location", r->location);
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    fx_server *s = cls;
    struct req *rq = *con_cls;
    (void)method;
    (void)version;
    if (rq == NULL) {
        rq = calloc(1, sizeof *rq);
        *con_cls = rq;
        return rq ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        if (rq->len + *upload_size > FX_MAX_UPLOAD) {
            return MHD_NO;
        }
        char *nb = realloc(rq->body, rq->len + *upload_size);
        if (nb == NULL) {
            return MHD_NO;
        }
        memcpy(nb + rq->len, upload, *upload_size);
        rq->body = nb;
        rq->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    return answer(s, conn, url, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    fx_server *s = cls;
    (void)conn;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->connections, 1);
    }
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    if (f == NULL) {
        return NULL;
    }
    buf = malloc(65536);
    if (buf != NULL) {
        len = fread(buf, 1, 65535, f);
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static fx_server *start(const fx_route *routes, size_t n, const char *cert_file,
                        const char *key_file)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (n > FX_MAX_ROUTES) {
        return NULL;
    }
    fx_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->routes = routes;
    s->n = n;
    pthread_mutex_init(&s->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (cert_file != NULL) {
        s->cert = read_file(cert_file);
        s->key = read_file(key_file);
        if (s->cert == NULL || s->key == NULL ||
            MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            fx_stop(s);
            return NULL;
        }
        s->d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, s,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_HTTPS_MEM_CERT,
                                s->cert, MHD_OPTION_END);
    } else {
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                                (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                                s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                MHD_OPTION_END);
    }
    const union MHD_DaemonInfo *info =
        s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL || info->port == 0) {
        fprintf(stderr, "http_fixture: cannot start the server\n");
        fx_stop(s);
        return NULL;
    }
    s->port = info->port;
    return s;
}

fx_server *fx_start(const fx_route *routes, size_t n)
{
    return start(routes, n, NULL, NULL);
}

fx_server *fx_start_tls(const fx_route *routes, size_t n, const char *cert_file,
                        const char *key_file)
{
    return start(routes, n, cert_file, key_file);
}

void fx_stop(fx_server *s)
{
    if (s == NULL) {
        return;
    }
    atomic_store(&s->stopping, true);
    if (s->d != NULL) {
        MHD_stop_daemon(s->d);
    }
    for (size_t i = 0; i < FX_MAX_ROUTES; i++) {
        free(s->st[i].body);
        free(s->st[i].auth);
    }
    free(s->cert);
    free(s->key);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

unsigned short fx_port(const fx_server *s)
{
    return s->port;
}

unsigned fx_hits(fx_server *s, const char *path)
{
    int i = find_route(s, path);
    unsigned h = 0;
    if (i >= 0) {
        pthread_mutex_lock(&s->lock);
        h = s->st[i].hits;
        pthread_mutex_unlock(&s->lock);
    }
    return h;
}

unsigned fx_connections(fx_server *s)
{
    return atomic_load(&s->connections);
}

static void copy_out(fx_server *s, const char *path, bool auth, char *out, size_t out_size)
{
    int i = find_route(s, path);
    out[0] = '\0';
    if (i < 0) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    const char *v = auth ? s->st[i].auth : s->st[i].body;
    if (v != NULL) {
        snprintf(out, out_size, "%s", v);
    }
    pthread_mutex_unlock(&s->lock);
}

void fx_last_body(fx_server *s, const char *path, char *out, size_t out_size)
{
    copy_out(s, path, false, out, out_size);
}

void fx_last_auth(fx_server *s, const char *path, char *out, size_t out_size)
{
    copy_out(s, path, true, out, out_size);
}

unsigned short fx_closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof sa;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    unsigned short port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

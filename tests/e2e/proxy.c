/* A fault-injecting reverse proxy (libmicrohttpd in, common/http out) for end-to-end tests. */
#include "tests/e2e/proxy.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/http.h"
#include "common/limits.h"
#include "tests/e2e/proc.h"

#define N_ROUTES 4
static const char *const ROUTES[N_ROUTES] = {"/handshake", "/request", "/stream", "/close"};

struct e2e_proxy {
    struct MHD_Daemon *d;
    e2e_proxy_cfg cfg;
    ms_buf cert, key;
    pthread_mutex_t mu;
    e2e_fault fault;
    char suffix[32];
    int fault_left;
    ms_buf last[N_ROUTES]; /* the last 2xx upstream body of each route */
    unsigned seen[N_ROUTES + 1];
};

typedef struct req {
    ms_buf body;
} req;

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int route_of(const char *url)
{
    for (int i = 0; i < N_ROUTES; i++) {
        if (ends_with(url, ROUTES[i])) {
            return i;
        }
    }
    return N_ROUTES;
}

static enum MHD_Result answer(struct MHD_Connection *c, int status, const uint8_t *p, size_t n,
                              int retry_after)
{
    void *copy = malloc(n ? n : 1);
    if (!copy) {
        return MHD_NO;
    }
    if (n) {
        memcpy(copy, p, n);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(n, copy, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(copy);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    if (retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", v);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The fault for this request, if any (consumed). */
static int take_fault(e2e_proxy *px, const char *url, e2e_fault *f)
{
    int hit = 0;
    pthread_mutex_lock(&px->mu);
    if (px->fault_left > 0 && ends_with(url, px->suffix)) {
        *f = px->fault;
        px->fault_left--;
        hit = 1;
    }
    pthread_mutex_unlock(&px->mu);
    return hit;
}

static enum MHD_Result forward(e2e_proxy *px, struct MHD_Connection *c, const char *url,
                               const req *rq, const e2e_fault *f, int faulty)
{
    char full[MS_MAX_HTTP_URL];
    ms_http_client *h = NULL;
    ms_http_opts o = {.ca_file = px->cfg.upstream_ca,
                      .total_timeout_ms = 30000,
                      .max_response = 2 * MS_MAX_HTTP_BODY};
    ms_buf resp;
    long status = 0;
    int route = route_of(url);
    ms_buf_init(&resp, 2 * MS_MAX_HTTP_BODY);
    snprintf(full, sizeof full, "%s%s", px->cfg.upstream, url);
    ms_err e = ms_http_client_new(&o, &h);
    if (e == MS_OK) {
        e = ms_http_post_json(h, full, NULL, rq->body.p ? (const char *)rq->body.p : "",
                              rq->body.len, &status, &resp);
    }
    ms_http_client_free(h);
    enum MHD_Result ret;
    if (e != MS_OK) {
        ret = answer(c, 502, NULL, 0, 0);
    } else if (faulty && f->replay && route < N_ROUTES) {
        pthread_mutex_lock(&px->mu);
        ret = answer(c, (int)status, px->last[route].p, px->last[route].len, 0);
        pthread_mutex_unlock(&px->mu);
    } else {
        size_t n = faulty && f->cut && f->cut_to < resp.len ? f->cut_to : resp.len;
        ret = answer(c, (int)status, resp.p, n, 0);
    }
    if (e == MS_OK && status / 100 == 2 && route < N_ROUTES) {
        pthread_mutex_lock(&px->mu);
        ms_buf_clear(&px->last[route]);
        ms_err e2 = ms_buf_append(&px->last[route], resp.p, resp.len);
        (void)e2;
        pthread_mutex_unlock(&px->mu);
    }
    ms_buf_free(&resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    e2e_proxy *px = cls;
    req *rq = *con_cls;
    e2e_fault f;
    (void)method;
    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq) {
            return MHD_NO;
        }
        ms_buf_init(&rq->body, 2 * MS_MAX_HTTP_BODY);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        ms_err e = ms_buf_append(&rq->body, upload_data, *upload_size);
        *upload_size = 0;
        return e == MS_OK ? MHD_YES : MHD_NO;
    }
    pthread_mutex_lock(&px->mu);
    px->seen[route_of(url)]++;
    pthread_mutex_unlock(&px->mu);
    int faulty = take_fault(px, url, &f);
    if (faulty && f.status > 0) {
        return answer(c, f.status, NULL, 0, f.retry_after);
    }
    if (faulty && f.oversize > 0) {
        uint8_t *junk = calloc(1, f.oversize);
        enum MHD_Result r = junk ? answer(c, 200, junk, f.oversize, 0) : MHD_NO;
        free(junk);
        return r;
    }
    return forward(px, c, url, rq, &f, faulty);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    req *rq = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (rq) {
        ms_buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static int load_tls(e2e_proxy *px)
{
    if (!px->cfg.cert_path) {
        return 0;
    }
    return e2e_file_read(px->cfg.cert_path, &px->cert) == 0 &&
                   e2e_file_read(px->cfg.key_path, &px->key) == 0
               ? 0
               : -1;
}

int e2e_proxy_start(const e2e_proxy_cfg *cfg, e2e_proxy **out, unsigned *port)
{
    *out = NULL;
    *port = 0;
    e2e_proxy *px = calloc(1, sizeof *px);
    if (!px) {
        return -1;
    }
    px->cfg = *cfg;
    pthread_mutex_init(&px->mu, NULL);
    ms_buf_init(&px->cert, 64 * 1024);
    ms_buf_init(&px->key, 64 * 1024);
    for (int i = 0; i < N_ROUTES; i++) {
        ms_buf_init(&px->last[i], 2 * MS_MAX_HTTP_BODY);
    }
    if (ms_http_global_init() != MS_OK || load_tls(px) != 0) {
        fprintf(stderr, "e2e proxy: cannot read its certificate or start libcurl\n");
        e2e_proxy_stop(px);
        return -1;
    }
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (cfg->cert_path ? MHD_USE_TLS : 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    px->d =
        cfg->cert_path
            ? MHD_start_daemon(flags, 0, NULL, NULL, on_request, px, MHD_OPTION_SOCK_ADDR, &a,
                               MHD_OPTION_NOTIFY_COMPLETED, on_done, px, MHD_OPTION_HTTPS_MEM_KEY,
                               (const char *)px->key.p, MHD_OPTION_HTTPS_MEM_CERT,
                               (const char *)px->cert.p, MHD_OPTION_END)
            : MHD_start_daemon(flags, 0, NULL, NULL, on_request, px, MHD_OPTION_SOCK_ADDR, &a,
                               MHD_OPTION_NOTIFY_COMPLETED, on_done, px, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        px->d ? MHD_get_daemon_info(px->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        fprintf(stderr, "e2e proxy: cannot listen\n");
        e2e_proxy_stop(px);
        return -1;
    }
    *port = info->port;
    *out = px;
    return 0;
}

void e2e_proxy_stop(e2e_proxy *px)
{
    if (!px) {
        return;
    }
    if (px->d) {
        MHD_stop_daemon(px->d);
    }
    ms_buf_free(&px->cert);
    ms_buf_free(&px->key);
    for (int i = 0; i < N_ROUTES; i++) {
        ms_buf_free(&px->last[i]);
    }
    pthread_mutex_destroy(&px->mu);
    free(px);
}

void e2e_proxy_fault(e2e_proxy *px, const e2e_fault *f)
{
    pthread_mutex_lock(&px->mu);
    memset(&px->fault, 0, sizeof px->fault);
    px->fault_left = 0;
    px->suffix[0] = '\0';
    if (f) {
        px->fault = *f;
        px->fault.suffix = NULL;
        snprintf(px->suffix, sizeof px->suffix, "%s", f->suffix ? f->suffix : "");
        px->fault_left = f->count > 0 ? f->count : 1;
    }
    pthread_mutex_unlock(&px->mu);
}

unsigned e2e_proxy_seen(e2e_proxy *px, const char *suffix)
{
    unsigned n = 0;
    pthread_mutex_lock(&px->mu);
    for (int i = 0; i <= N_ROUTES; i++) {
        if (i < N_ROUTES ? ends_with(ROUTES[i], suffix) : suffix[0] == '\0') {
            n += px->seen[i];
        }
    }
    pthread_mutex_unlock(&px->mu);
    return n;
}

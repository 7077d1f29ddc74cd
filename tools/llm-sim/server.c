/* llm-sim's HTTP server: daemon lifecycle, capped body collection, routing, simple endpoints. */
#include "tools/llm-sim/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/check.h"
#include "tools/llm-sim/http.h"
#include "tools/llm-sim/pace.h"

#define SMALL_ANSWER (64u * 1024u + LLMSIM_MAX_MODELS * 1024u)

/* One request's state, from its headers to its answer. */
typedef struct req {
    ms_buf body;       /* capped at LLMSIM_MAX_BODY; emptied once over the cap */
    uint64_t received; /* every body byte read, kept or dropped */
    bool too_large;
    bool answered;     /* an answer went out before the body was read */
} req;

typedef enum MHD_Result (*handler_fn)(struct llmsim_server *s, struct MHD_Connection *c,
                                      const req *r);

typedef struct route {
    const char *path;
    const char *method; /* "GET" routes also answer HEAD */
    handler_fn fn;
} route;

enum MHD_Result llmsim_http_send(struct MHD_Connection *c, unsigned status, const char *type,
                                 const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (ok == MHD_YES) {
        ok = MHD_queue_response(c, status, resp);
    }
    MHD_destroy_response(resp);
    return ok;
}

/* The same with a Retry-After header (retry_after_s > 0). */
static enum MHD_Result send_retry_after(struct MHD_Connection *c, unsigned status,
                                        const char *type, const ms_buf *body,
                                        uint32_t retry_after_s)
{
    char ra[16];
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(body->len, (void *)body->p, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    snprintf(ra, sizeof ra, "%u", (unsigned)retry_after_s);
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (ok == MHD_YES) {
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (ok == MHD_YES) {
        ok = MHD_queue_response(c, status, resp);
    }
    MHD_destroy_response(resp);
    return ok;
}

enum MHD_Result llmsim_http_error(struct MHD_Connection *c, const llmsim_format *f,
                                  unsigned status, const char *msg)
{
    return llmsim_http_error_after(c, f, status, msg, 0);
}

enum MHD_Result llmsim_http_error_after(struct MHD_Connection *c, const llmsim_format *f,
                                        unsigned status, const char *msg, uint32_t retry_after_s)
{
    ms_buf out;
    ms_buf_init(&out, LLMSIM_MAX_ANSWER);
    enum MHD_Result ok;
    if (f->error(status, msg, &out) == MS_OK) {
        ok = retry_after_s > 0 ? send_retry_after(c, status, f->json_type, &out, retry_after_s)
                               : llmsim_http_send(c, status, f->json_type, out.p, out.len);
    } else {
        static const char fallback[] = "llm-sim: cannot format the error answer\n";
        ok = llmsim_http_send(c, 500, "text/plain; charset=utf-8", fallback,
                              sizeof fallback - 1);
    }
    ms_buf_free(&out);
    return ok;
}

/* Answer a JSON document produced by build (bounded, small). */
static enum MHD_Result send_built(struct MHD_Connection *c, ms_err built, const ms_buf *out)
{
    if (built != MS_OK) {
        return llmsim_http_error(c, &llmsim_ollama, 500, ms_err_str(built));
    }
    return llmsim_http_send(c, 200, llmsim_ollama.json_type, out->p, out->len);
}

static enum MHD_Result h_root(struct llmsim_server *s, struct MHD_Connection *c, const req *r)
{
    static const char text[] = "Ollama is running";
    (void)s;
    (void)r;
    return llmsim_http_send(c, 200, "text/plain; charset=utf-8", text, sizeof text - 1);
}

static enum MHD_Result h_health(struct llmsim_server *s, struct MHD_Connection *c, const req *r)
{
    (void)s;
    (void)r;
    return llmsim_http_send(c, 200, "application/json", "", 0);
}

static enum MHD_Result h_version(struct llmsim_server *s, struct MHD_Connection *c, const req *r)
{
    ms_buf out;
    (void)s;
    (void)r;
    ms_buf_init(&out, SMALL_ANSWER);
    enum MHD_Result ok = send_built(c, llmsim_ollama_version(&out), &out);
    ms_buf_free(&out);
    return ok;
}

static enum MHD_Result h_tags(struct llmsim_server *s, struct MHD_Connection *c, const req *r)
{
    ms_buf out;
    (void)r;
    ms_buf_init(&out, SMALL_ANSWER);
    ms_err e = llmsim_ollama_tags(s->models, s->n_models, s->started, &out);
    enum MHD_Result ok = send_built(c, e, &out);
    ms_buf_free(&out);
    return ok;
}

static enum MHD_Result h_models(struct llmsim_server *s, struct MHD_Connection *c, const req *r)
{
    ms_buf out;
    (void)r;
    ms_buf_init(&out, SMALL_ANSWER);
    ms_err e = llmsim_openai_models(s->models, s->n_models, s->started, &out);
    enum MHD_Result ok = e == MS_OK
                             ? llmsim_http_send(c, 200, llmsim_openai.json_type, out.p, out.len)
                             : llmsim_http_error(c, &llmsim_openai, 500, ms_err_str(e));
    ms_buf_free(&out);
    return ok;
}

static enum MHD_Result h_ollama_chat(struct llmsim_server *s, struct MHD_Connection *c,
                                     const req *r)
{
    return llmsim_chat(s, c, LLMSIM_API_OLLAMA, r->body.p, r->body.len);
}

static enum MHD_Result h_openai_chat(struct llmsim_server *s, struct MHD_Connection *c,
                                     const req *r)
{
    return llmsim_chat(s, c, LLMSIM_API_OPENAI, r->body.p, r->body.len);
}

static const route routes[] = {
    {"/", "GET", h_root},
    {"/api/version", "GET", h_version},
    {"/api/tags", "GET", h_tags},
    {"/api/chat", "POST", h_ollama_chat},
    {"/v1/models", "GET", h_models},
    {"/v1/chat/completions", "POST", h_openai_chat},
    {"/health", "GET", h_health},
};

/* Errors under /v1 look like OpenAI's, all others like Ollama's. */
static const llmsim_format *family(const char *url)
{
    return strncmp(url, "/v1/", 4) == 0 || strcmp(url, "/v1") == 0 ? &llmsim_openai
                                                                     : &llmsim_ollama;
}

static bool method_fits(const route *rt, const char *method)
{
    return strcmp(rt->method, method) == 0 ||
           (strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, const char *url, const route *rt)
{
    struct MHD_Response *resp;
    ms_buf out;
    ms_buf_init(&out, SMALL_ANSWER);
    enum MHD_Result ok = MHD_NO;
    if (family(url)->error(405, "method not allowed", &out) == MS_OK) {
        resp = MHD_create_response_from_buffer(out.len, out.p, MHD_RESPMEM_MUST_COPY);
        if (resp != NULL) {
            ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                         family(url)->json_type);
            if (ok == MHD_YES) {
                ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rt->method);
            }
            if (ok == MHD_YES) {
                ok = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
            }
            MHD_destroy_response(resp);
        }
    }
    ms_buf_free(&out);
    return ok;
}

static enum MHD_Result dispatch(struct llmsim_server *s, struct MHD_Connection *c,
                                const char *url, const char *method, const req *r)
{
    const llmsim_format *f = family(url);
    if (r->too_large) {
        return llmsim_http_error(c, f, MHD_HTTP_CONTENT_TOO_LARGE,
                                 "request body is larger than llm-sim's limit of " LLMSIM_MAX_BODY_TEXT);
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].path, url) != 0) {
            continue;
        }
        if (!method_fits(&routes[i], method)) {
            return not_allowed(c, url, &routes[i]);
        }
        return routes[i].fn(s, c, r);
    }
    return llmsim_http_error(c, f, MHD_HTTP_NOT_FOUND, "404 page not found");
}

/* The declared Content-Length, or 0 when absent or unreadable (chunked bodies). */
static uint64_t declared_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    if (v == NULL || v[0] < '0' || v[0] > '9') {
        return 0;
    }
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    return errno == 0 && *end == '\0' ? (uint64_t)n : UINT64_MAX;
}

static enum MHD_Result begin(struct llmsim_server *s, struct MHD_Connection *c, const char *url,
                             const char *method, void **con_cls)
{
    req *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return MHD_NO;
    }
    ms_buf_init(&r->body, LLMSIM_MAX_BODY);
    *con_cls = r;
    uint64_t declared = declared_length(c);
    if (declared > LLMSIM_MAX_DRAIN) {
        /* Too big to read and drop: answer now; MHD closes the connection after it. */
        r->too_large = true;
        r->answered = true;
        llmsim_reqlog_write(s->log, method, url, NULL, 0, declared, true);
        return dispatch(s, c, url, method, r);
    }
    return MHD_YES;
}

/* Keep body bytes up to the cap; past it, read and drop (so the client reads our 413). */
static enum MHD_Result collect(req *r, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    r->received += n;
    if (r->answered) {
        return MHD_YES;
    }
    if (!r->too_large) {
        ms_err e = ms_buf_append(&r->body, data, n);
        if (e == MS_ERR_CAP_EXCEEDED) {
            r->too_large = true;
            ms_buf_free(&r->body);
        } else if (e != MS_OK) {
            return MHD_NO;
        }
    }
    return r->received > LLMSIM_MAX_DRAIN ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct llmsim_server *s = cls;
    req *r = *con_cls;
    (void)version;
    if (r == NULL) {
        return begin(s, c, url, method, con_cls);
    }
    if (*upload_size > 0) {
        return collect(r, upload_data, upload_size);
    }
    if (r->answered) {
        return MHD_YES;
    }
    r->answered = true;
    llmsim_reqlog_write(s->log, method, url, r->body.p, r->body.len, r->received, r->too_large);
    return dispatch(s, c, url, method, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req *r = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (r != NULL) {
        ms_buf_free(&r->body);
        free(r);
        *con_cls = NULL;
    }
}

static ms_err collect_models(struct llmsim_server *s)
{
    size_t n_extra;
    const char *const *extra = llmsim_script_models(s->script, &n_extra);
    s->models = calloc(n_extra + 1, sizeof *s->models);
    ENSURE(s->models != NULL, MS_ERR_NOMEM);
    s->models[s->n_models++] = s->cfg->model;
    for (size_t i = 0; i < n_extra; i++) {
        bool seen = false;
        for (size_t k = 0; k < s->n_models && !seen; k++) {
            seen = strcmp(s->models[k], extra[i]) == 0;
        }
        if (!seen) {
            s->models[s->n_models++] = extra[i];
        }
    }
    return MS_OK;
}

ms_err llmsim_server_start(const llmsim_config *cfg, const llmsim_script *script,
                           llmsim_reqlog *log, int fd, llmsim_server **out)
{
    *out = NULL;
    struct llmsim_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        return MS_ERR_NOMEM;
    }
    s->cfg = cfg;
    s->script = script;
    s->log = log;
    s->started = llmsim_unix_now();
    atomic_init(&s->stopping, false);
    ms_err e = collect_models(s);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG |
                     (cfg->listen.family == AF_INET6 ? MHD_USE_IPv6 : 0);
    if (e == MS_OK) {
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
            MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
        e = s->daemon != NULL ? MS_OK : MS_ERR_IO;
    }
    if (e != MS_OK) {
        close(fd);
        free(s->models);
        free(s);
        return e;
    }
    *out = s;
    return MS_OK;
}

void llmsim_server_stop(llmsim_server *s)
{
    if (s == NULL) {
        return;
    }
    atomic_store(&s->stopping, true);
    MHD_stop_daemon(s->daemon);
    free(s->models);
    free(s);
}

/* serve's Minions API: a run from the reference's request, its documents kept in memory (run_api.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "apps/minions-secure/run_api.h"

#define WHY(...) (snprintf(why, why_cap, __VA_ARGS__), MS_CLI_USAGE)

/* poppler is not thread-safe, and a run's documents are read at once: one request at a time. */
static pthread_mutex_t g_docs = PTHREAD_MUTEX_INITIALIZER;

static const char *const API_KEYS[] = {"stream", "uploads", NULL};
static const char *const UPLOAD_KEYS[] = {"name", "data", "text", NULL};

void ms_run_api_reply_init(ms_run_api_reply *out)
{
    memset(out, 0, sizeof *out);
    ms_buf_init(&out->body, MS_MAX_JSON_TEXT);
}

void ms_run_api_reply_free(ms_run_api_reply *out)
{
    ms_buf_free(&out->body);
}

/* --- context paths under the roots ---------------------------------------------------------- */

/* 1 when `p` (a real path) is `root` (a real path) or below it. */
static int inside(const char *p, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') {
        return 1;
    }
    return strncmp(p, root, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

ms_err ms_run_api_resolve(const ms_run_api_cfg *cfg, const char *path, char out[static PATH_MAX])
{
    char joined[PATH_MAX], root[PATH_MAX];
    out[0] = '\0';
    ENSURE(cfg && path && path[0], MS_ERR_ARG);
    ENSURE(cfg->n_roots > 0, MS_ERR_SERVE_NO_CONTEXT_ROOT);
    if (path[0] != '/') {
        int k = snprintf(joined, sizeof joined, "%s/%s", cfg->roots[0], path);
        ENSURE(k > 0 && (size_t)k < sizeof joined, MS_ERR_SERVE_CONTEXT_ROOT);
        path = joined;
    }
    /* every link on the way resolved: what is checked is where the path really leads */
    if (realpath(path, out) == NULL) {
        out[0] = '\0'; /* realpath may leave a partial path there */
        return MS_ERR_SERVE_CONTEXT_ROOT;
    }
    for (size_t i = 0; i < cfg->n_roots; i++) {
        if (realpath(cfg->roots[i], root) != NULL && inside(out, root)) {
            return MS_OK;
        }
    }
    out[0] = '\0';
    return MS_ERR_SERVE_CONTEXT_ROOT;
}

/* --- the request's own fields --------------------------------------------------------------- */

/* remote_client's connection fields: absent, or the operator's own value. */
static int operator_fields(const ms_run_api_cfg *cfg, ms_json_val root, char *why,
                           size_t why_cap)
{
    const ms_cli_conn *c = cfg->conn;
    const struct {
        const char *key, *ours;
    } f[] = {{"supervisor_url", c ? c->url : NULL},
             {"trusted_attestation_pem", c ? c->pin_file : NULL},
             {"attestation_policy", c ? c->policy_file : NULL},
             {"cacert", c ? c->cacert : NULL}};
    ms_json_val rc, p, v;
    const char *s;
    size_t n;
    if (ms_json_get_obj(root, "remote_client", &rc) == MS_OK) {
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            if (ms_json_get(rc, f[i].key, &v) != MS_OK) {
                continue;
            }
            if (ms_json_as_str(v, PATH_MAX, &s, &n) != MS_OK || !f[i].ours ||
                strcmp(s, f[i].ours) != 0) {
                return WHY("remote_client.%s: %s", f[i].key, ms_err_str(MS_ERR_SERVE_RUN_FIELD));
            }
        }
        if (ms_json_get(rc, "allow_http", &v) == MS_OK) {
            bool b = false;
            if (ms_json_as_bool(v, &b) != MS_OK || (b && !(c && c->allow_http))) {
                return WHY("remote_client.allow_http: %s", ms_err_str(MS_ERR_SERVE_RUN_FIELD));
            }
        }
    }
    if (ms_json_get_obj(root, "protocol", &p) == MS_OK && ms_json_get(p, "log_dir", &v) == MS_OK) {
        return WHY("protocol.log_dir: %s", ms_err_str(MS_ERR_SERVE_RUN_FIELD));
    }
    return MS_CLI_OK;
}

/* A document's name as the user gave it: text, no path, no control characters. */
static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > MS_SERVE_MAX_UPLOAD_NAME || !ms_context_text_ok((const uint8_t *)s, n) ||
        strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\') {
            return 0;
        }
    }
    return 1;
}

/* One upload: {"name", "data": base64} or {"name", "text"}; decoded in memory only. */
static int upload(ms_context *ctx, ms_json_val u, size_t i, char *why, size_t why_cap)
{
    const char *name, *data = NULL, *text = NULL;
    size_t nn, dn = 0, tn = 0;
    char docwhy[512], label[MS_SERVE_MAX_UPLOAD_NAME + 16];
    ms_json_iter it = ms_json_iter_init(u);
    ms_json_val v;
    const char *key;
    ms_err e;
    if (ms_json_type_of(u) != MS_JSON_OBJECT) {
        return WHY("uploads[%zu]: %s", i, ms_err_str(MS_ERR_SERVE_UPLOAD));
    }
    while (ms_json_iter_next(&it, &v, &key)) {
        for (const char *const *k = UPLOAD_KEYS;; k++) {
            if (!*k) {
                return WHY("uploads[%zu]: a field other than name, data, text", i);
            }
            if (strcmp(*k, key) == 0) {
                break;
            }
        }
    }
    if (ms_json_get_str(u, "name", MS_SERVE_MAX_UPLOAD_NAME, &name, &nn) != MS_OK ||
        !name_ok(name, nn) ||
        ms_json_get_str_opt(u, "data", MS_MAX_JSON_TEXT, NULL, &data, &dn) != MS_OK ||
        ms_json_get_str_opt(u, "text", MS_MAX_JSON_TEXT, NULL, &text, &tn) != MS_OK ||
        (data == NULL) == (text == NULL)) {
        return WHY("uploads[%zu]: %s", i, ms_err_str(MS_ERR_SERVE_UPLOAD));
    }
    snprintf(label, sizeof label, "upload:%s", name);
    ms_doc_kind kind = ms_doc_kind_of_name(name);
    if (text) {
        if (kind == MS_DOC_PDF) {
            return WHY("uploads[%zu]: a PDF is sent as base64 \"data\", not \"text\"", i);
        }
        e = ms_context_add_text(ctx, label, kind, text, tn, docwhy, sizeof docwhy);
    } else {
        ms_buf raw;
        ms_buf_init(&raw, kind == MS_DOC_PDF ? MS_MAX_CONTEXT_FILE : MS_MAX_JSON_TEXT);
        e = ms_base64_decode_buf(data, dn, &raw);
        if (e != MS_OK) {
            ms_buf_free(&raw);
            return WHY("uploads[%zu].data: %s", i, ms_err_str(MS_ERR_SERVE_UPLOAD));
        }
        e = kind == MS_DOC_PDF
                ? ms_context_add_pdf(ctx, label, raw.p, raw.len, docwhy, sizeof docwhy)
                : ms_context_add_text(ctx, label, kind, (const char *)raw.p, raw.len, docwhy,
                                      sizeof docwhy);
        ms_buf_free(&raw); /* wiped */
    }
    return e == MS_OK ? MS_CLI_OK : WHY("uploads[%zu]: %s (%s)", i, docwhy, ms_err_str(e));
}

static int uploads(ms_context *ctx, ms_json_val root, char *why, size_t why_cap)
{
    ms_json_val arr, u;
    size_t n;
    if (ms_json_get_arr_opt(root, "uploads", MS_SERVE_MAX_UPLOADS, &arr, &n) != MS_OK) {
        return WHY("uploads: must be an array of at most %u documents", MS_SERVE_MAX_UPLOADS);
    }
    for (size_t i = 0; i < n; i++) {
        int code = MS_CLI_OK;
        if (ms_json_arr_at(arr, i, &u) != MS_OK || (code = upload(ctx, u, i, why, why_cap))) {
            return code ? code : WHY("uploads[%zu]: %s", i, ms_err_str(MS_ERR_SERVE_UPLOAD));
        }
    }
    return MS_CLI_OK;
}

/* The documents: call_params.context texts, context_paths (under the roots), uploads. */
static int documents(const ms_run_api_cfg *cfg, ms_run *r, ms_json_val root, char *why,
                     size_t why_cap)
{
    char real[PATH_MAX], docwhy[512], name[32];
    ms_err e;
    int code;
    for (size_t i = 0; i < r->o.n_stdin_texts; i++) {
        snprintf(name, sizeof name, "context[%zu]", i);
        e = ms_context_add_text(&r->ctx, name, MS_DOC_TEXT, r->o.stdin_texts[i],
                                r->o.stdin_text_lens[i], docwhy, sizeof docwhy);
        if (e != MS_OK) {
            return WHY("call_params.%s (%s)", docwhy, ms_err_str(e));
        }
    }
    for (size_t i = 0; i < r->o.n_contexts; i++) {
        if ((e = ms_run_api_resolve(cfg, r->o.contexts[i], real)) != MS_OK) {
            return WHY("call_params.context_paths[%zu]: %s", i, ms_err_str(e));
        }
        if ((e = ms_context_add(&r->ctx, real, docwhy, sizeof docwhy)) != MS_OK) {
            return WHY("call_params.context_paths[%zu]: %s (%s)", i, docwhy, ms_err_str(e));
        }
    }
    if ((code = uploads(&r->ctx, root, why, why_cap))) {
        return code;
    }
    /* all read: the run itself only joins them */
    r->o.n_stdin_texts = 0;
    r->o.n_contexts = 0;
    return MS_CLI_OK;
}

/* Before parsing: the operator's connection and log (flags win over the request). */
static void operator_opts(const ms_run_api_cfg *cfg, ms_run_opts *o)
{
    if (cfg->conn) {
        const ms_cli_conn *c = cfg->conn;
        o->conn.url = c->url;
        o->conn.pin_file = c->pin_file;
        o->conn.policy_file = c->policy_file;
        o->conn.cacert = c->cacert;
        o->conn.allow_http = c->allow_http;
        o->conn.allow_tls_proxy = c->allow_tls_proxy;
        o->conn.strict = c->strict;
        o->conn.timeout_s = c->timeout_s;
        o->conn.identity_file = c->identity_file;
    }
    o->logo = cfg->logo;
    o->logo.no_signal_guard = 1;
    o->stdin_json = 1;
}

int ms_run_api_parse(const ms_run_api_cfg *cfg, const char *body, size_t len, ms_run *r,
                     bool *stream, char *why, size_t why_cap)
{
    int code;
    *stream = false;
    why[0] = '\0';
    operator_opts(cfg, &r->o);
    if ((code = ms_run_stdin_parse(&r->o, body, len, API_KEYS, why, why_cap))) {
        return code;
    }
    ms_json_val root = ms_json_root(r->o.stdin_doc);
    if (ms_json_get_bool_opt(root, "stream", false, stream) != MS_OK) {
        return WHY("stream: must be true or false");
    }
    if ((code = operator_fields(cfg, root, why, why_cap))) {
        return code;
    }
    r->o.kind_arg = r->o.kind_arg ? r->o.kind_arg : cfg->worker_kind;
    r->o.url_arg = r->o.url_arg ? r->o.url_arg : cfg->worker_url;
    if (!r->o.model_arg && cfg->worker_model) {
        r->o.model_arg = cfg->worker_model;
        r->o.model_from = "from serve's options";
    }
    pthread_mutex_lock(&g_docs);
    code = documents(cfg, r, root, why, why_cap);
    pthread_mutex_unlock(&g_docs);
    return code;
}

/* --- the run and its events ----------------------------------------------------------------- */

typedef struct events {
    ms_run_api_event_fn fn;
    void *ctx;
} events;

static void emit(const events *ev, const char *name, const ms_json_builder *b)
{
    ms_buf out;
    ms_buf_init(&out, MS_MAX_JSON_TEXT);
    if (ms_json_builder_print(b, &out) == MS_OK) {
        ev->fn(ev->ctx, name, (const char *)out.p, out.len);
    }
    ms_buf_free(&out);
}

static void on_progress(void *ctx, const ms_progress *p)
{
    ms_json_builder *b;
    ms_json_wval o;
    if (ms_json_builder_new(MS_JSON_OBJECT, &b, &o) != MS_OK) {
        return;
    }
    if (ms_json_add_u64(o, "round", p->round) == MS_OK &&
        ms_json_add_u64(o, "max_rounds", p->max_rounds) == MS_OK &&
        ms_json_add_u64(o, "jobs_done", p->jobs_done) == MS_OK &&
        ms_json_add_u64(o, "jobs_total", p->jobs_total) == MS_OK &&
        (p->phase ? ms_json_add_cstr(o, "phase", p->phase) : ms_json_add_null(o, "phase")) ==
            MS_OK) {
        emit(ctx, "progress", b);
    }
    ms_json_builder_free(b);
}

static void say_documents(const events *ev, const ms_run *r)
{
    ms_json_builder *b;
    ms_json_wval o, arr, d;
    char sum[256];
    if (ms_json_builder_new(MS_JSON_OBJECT, &b, &o) != MS_OK) {
        return;
    }
    ms_context_summary(&r->ctx, sum, sizeof sum);
    ms_err e = ms_json_add_cstr(o, "summary", sum);
    e = e ? e : ms_json_add_arr(o, "documents", &arr);
    for (size_t i = 0; e == MS_OK && i < r->ctx.n; i++) {
        e = ms_json_add_obj(arr, NULL, &d);
        e = e ? e : ms_json_add_cstr(d, "name", r->ctx.docs[i].name);
        e = e ? e : ms_json_add_cstr(d, "kind", ms_doc_kind_name(r->ctx.docs[i].kind));
        e = e ? e : ms_json_add_u64(d, "bytes", r->ctx.docs[i].len);
        e = e ? e : ms_json_add_u64(d, "pages", r->ctx.docs[i].pages);
    }
    if (e == MS_OK) {
        emit(ev, "documents", b);
    }
    ms_json_builder_free(b);
}

static int status_of(int code)
{
    switch (code) {
    case MS_CLI_OK:
    case MS_CLI_NO_ANSWER: return 200;
    case MS_CLI_USAGE: return 400;
    case MS_CLI_LOCAL: return 503;
    default: return 502;
    }
}

int ms_run_api_run(const ms_run_api_cfg *cfg, const char *body, size_t len,
                   ms_run_api_event_fn ev, void *ev_ctx, ms_run_api_reply *out)
{
    ms_run *r = malloc(sizeof *r);
    events evs = {.fn = ev, .ctx = ev_ctx};
    char why[1024];
    bool stream = false;
    if (!r) {
        out->code = MS_CLI_TURN;
        out->http_status = 500;
        return out->code;
    }
    ms_run_init(r);
    r->json_out = &out->body;
    r->verify_log = true;
    int code = ms_run_api_parse(cfg, body, len, r, &stream, why, sizeof why);
    out->streamed = stream && ev;
    if (code != MS_CLI_OK) {
        fprintf(stderr, "%s: POST /v1/minions/runs: %s\n", MS_RUN_PROG, why);
        code = ms_run_refuse(r, code, why);
    } else {
        if (out->streamed) {
            r->progress = on_progress;
            r->progress_ctx = &evs;
            say_documents(&evs, r);
        }
        code = ms_run_exec(r);
    }
    if (out->streamed) {
        ev(ev_ctx, "result", (const char *)out->body.p, out->body.len);
    }
    ms_run_free(r);
    free(r);
    out->code = code;
    out->http_status = status_of(code);
    return code;
}

/* --- one document's text (the web UI's PDF attachments) ------------------------------------- */

static ms_err doc_reply(const ms_context *ctx, const char *err, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root, e;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err r;
    if (err) {
        r = ms_json_add_obj(root, "error", &e);
        r = r ? r : ms_json_add_cstr(e, "message", err);
        r = r ? r : ms_json_add_cstr(e, "type", "invalid_request_error");
        r = r ? r : ms_json_add_null(e, "param");
        r = r ? r : ms_json_add_cstr(e, "code", "invalid_document");
    } else {
        const ms_doc *d = &ctx->docs[0];
        r = ms_json_add_cstr(root, "name", d->name + 7); /* without "upload:" */
        r = r ? r : ms_json_add_cstr(root, "kind", ms_doc_kind_name(d->kind));
        r = r ? r : ms_json_add_u64(root, "pages", d->pages);
        r = r ? r : ms_json_add_str(root, "text", d->text, d->len);
    }
    r = r ? r : ms_json_builder_print(b, out);
    ms_json_builder_free(b);
    return r;
}

int ms_run_api_extract(const char *body, size_t len, ms_buf *out)
{
    ms_json_doc *doc = NULL;
    ms_context ctx;
    char why[1024];
    int status = 400;
    ms_context_init(&ctx);
    if (ms_json_parse(body, len, &doc) != MS_OK) {
        snprintf(why, sizeof why, "the body is not one JSON object {\"name\", \"data\"}");
    } else {
        pthread_mutex_lock(&g_docs);
        int code = upload(&ctx, ms_json_root(doc), 0, why, sizeof why);
        pthread_mutex_unlock(&g_docs);
        status = code == MS_CLI_OK && ctx.n == 1 ? 200 : 400;
    }
    if (doc_reply(&ctx, status == 200 ? NULL : why, out) != MS_OK) {
        status = 500;
    }
    ms_json_free(doc);
    ms_context_free(&ctx); /* wiped */
    return status;
}

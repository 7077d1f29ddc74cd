/* HTTP requests over one reused libcurl easy handle: URL policy, caps, timeouts, error mapping. */
#include "common/http.h"
#include "common/http_internal.h"
#include "common/http_loop.h"

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"

#define MAX_HEADER_LINE (MS_MAX_HTTP_TOKEN + 64u)

struct ms_http_client {
    CURL *curl;
    bool clean;     /* curl holds no option: new, or reset at the end of the last request */
    char *url;      /* the last URL that passed the policy, and its handle: a kept-alive */
    CURLU *url_ok;  /* connection asks the same URL every time (checked once, not a request) */
    ms_http_opts o; /* defaults applied; strings point at the copies below */
    char *ca_file;
    char *user_agent;
    long retry_after_s;
    /* Every request runs in this loop (common/http_loop.h), whose connection cache keeps the
       connection between requests (a whole request and a stepped one reuse the same). */
    ms_http_loop *loop;
    curl_socket_t sock; /* the kept-alive connection's socket after the last request, or BAD */
    /* The stepped stream in flight (ms_http_stream_begin .. _end): what libcurl points at. */
    bool stepping;
    bool step_done;
    CURLcode step_rc;
    ms_http_xfer sx;
    struct curl_slist *step_hdr;
    CURLU *step_u;
    char step_errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

ms_err ms_http_global_init(void)
{
    ENSURE(pthread_once(&global_once, global_init_once) == 0, MS_ERR_INTERNAL);
    ENSURE(global_rc == CURLE_OK, MS_ERR_INTERNAL);
    return MS_OK;
}

void ms_http_global_cleanup(void)
{
    curl_global_cleanup();
}

static char *dup_opt(const char *s, bool *ok)
{
    if (s == NULL) {
        return NULL;
    }
    char *d = strdup(s);
    *ok = *ok && d != NULL;
    return d;
}

ms_err ms_http_client_new(const ms_http_opts *opts, ms_http_client **out)
{
    static const ms_http_opts none;
    const ms_http_opts *o = opts ? opts : &none;
    *out = NULL;
    ENSURE(o->connect_timeout_ms >= 0 && o->total_timeout_ms >= 0 && o->stall_timeout_ms >= 0,
           MS_ERR_ARG);
    TRY(ms_http_global_init());
    ms_http_client *c = calloc(1, sizeof *c);
    ENSURE(c != NULL, MS_ERR_NOMEM);
    bool ok = true;
    c->o = *o;
    c->ca_file = dup_opt(o->ca_file, &ok);
    c->user_agent = dup_opt(o->user_agent ? o->user_agent : MS_HTTP_DEFAULT_USER_AGENT, &ok);
    c->o.ca_file = c->ca_file;
    c->o.user_agent = c->user_agent;
    if (c->o.connect_timeout_ms == 0) {
        c->o.connect_timeout_ms = MS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    if (c->o.max_response == 0) {
        c->o.max_response = MS_MAX_HTTP_BODY;
    }
    c->curl = ok ? curl_easy_init() : NULL;
    c->sock = CURL_SOCKET_BAD;
    c->clean = true;
    if (c->curl == NULL || ms_http_loop_new(0, &c->loop) != MS_OK) {
        ms_http_client_free(c);
        return ok ? MS_ERR_INTERNAL : MS_ERR_NOMEM;
    }
    *out = c;
    return MS_OK;
}

bool ms_http_client_idle_closed(ms_http_client *c)
{
    /* The socket as the last request left it in the multi handle's cache: out of the multi
       handle, libcurl no longer finds the easy handle's connection (CURLINFO_ACTIVESOCKET),
       and nothing closes it between requests. */
    if (c == NULL || c->curl == NULL || c->stepping || c->sock == CURL_SOCKET_BAD) {
        return false;
    }
    /* An idle connection has nothing to read: EOF, a reset or stray bytes all end it. */
    struct pollfd p = {.fd = c->sock, .events = POLLIN};
    return poll(&p, 1, 0) != 0;
}

void ms_http_client_free(ms_http_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->stepping) {
        long status;
        ms_err e = ms_http_stream_end(c, &status); /* aborts it */
        (void)e;
    }
    if (c->curl) {
        curl_easy_cleanup(c->curl);
    }
    ms_http_loop_free(c->loop); /* closes the kept-alive connection */
    curl_url_cleanup(c->url_ok);
    free(c->url);
    free(c->ca_file);
    free(c->user_agent);
    ms_wipe(c, sizeof *c);
    free(c);
}

long ms_http_retry_after_s(const ms_http_client *c)
{
    return c->retry_after_s;
}

/* --- headers --------------------------------------------------------------------------------- */

static bool token_ok(const char *t)
{
    size_t n = strnlen(t, MS_MAX_HTTP_TOKEN + 1);
    if (n == 0 || n > MS_MAX_HTTP_TOKEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] <= 0x20 || t[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* Wipe every header string (one may hold the token) before libcurl frees them. */
void ms_http_headers_free(struct curl_slist *h)
{
    for (struct curl_slist *i = h; i != NULL; i = i->next) {
        ms_wipe(i->data, strlen(i->data));
    }
    curl_slist_free_all(h);
}

static ms_err add_header(struct curl_slist **h, ms_buf *line, const char *a, const char *b)
{
    ms_buf_clear(line);
    TRY(ms_buf_append_str(line, a));
    if (b != NULL) {
        TRY(ms_buf_append_str(line, b));
    }
    TRY(ms_buf_terminate(line));
    struct curl_slist *n = curl_slist_append(*h, (const char *)line->p);
    ms_buf_clear(line);
    ENSURE(n != NULL, MS_ERR_NOMEM);
    *h = n;
    return MS_OK;
}

ms_err ms_http_headers_new(const char *token, bool json_body, struct curl_slist **out)
{
    ms_err err = MS_OK;
    struct curl_slist *h = NULL;
    ms_buf line;
    ms_buf_init(&line, MAX_HEADER_LINE);
    *out = NULL;
    ENSURE(token == NULL || token_ok(token), MS_ERR_ARG);
    if (token != NULL) {
        TRY_OUT(add_header(&h, &line, "Authorization: Bearer ", token));
    }
    if (json_body) {
        TRY_OUT(add_header(&h, &line, "Content-Type: application/json", NULL));
        /* No "Expect: 100-continue" round trip for large bodies. */
        TRY_OUT(add_header(&h, &line, "Expect:", NULL));
    }
out:
    ms_buf_free(&line);
    if (err != MS_OK) {
        ms_http_headers_free(h);
        return err;
    }
    *out = h;
    return MS_OK;
}

/* --- callbacks ------------------------------------------------------------------------------- */

static bool status_2xx(long s)
{
    return s >= 200 && s <= 299;
}

static ms_err take_bytes(ms_http_xfer *x, const uint8_t *p, size_t n)
{
    ENSURE(n <= x->max_response - x->total, MS_ERR_HTTP_BODY);
    x->total += n;
    if (x->resp != NULL) {
        curl_off_t cl = -1;
        /* A declared length is reserved at the first bytes: one allocation, no growth by
           doubling (each growth a copy and a wipe). Larger than the cap: the append says so. */
        if (x->total == n && curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
                                 CURLE_OK &&
            cl > 0 && (uint64_t)cl <= x->resp->max - x->resp->len) {
            ms_err r = ms_buf_reserve(x->resp, (size_t)cl);
            (void)r; /* out of memory: the append reports it */
        }
        ms_err e = ms_buf_append(x->resp, p, n);
        return e == MS_ERR_CAP_EXCEEDED ? MS_ERR_HTTP_BODY : e;
    }
    long st = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &st);
    if (status_2xx(st)) {
        return x->fn(x->ctx, p, n);
    }
    if (x->err_body == NULL) {
        return MS_OK;
    }
    ms_err e = ms_buf_append(x->err_body, p, n);
    return e == MS_ERR_CAP_EXCEEDED ? MS_ERR_HTTP_BODY : e;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    ms_http_xfer *x = userdata;
    size_t n = size * nmemb;
    if (n == 0) {
        return 0;
    }
    x->cb_err = take_bytes(x, (const uint8_t *)ptr, n);
    return x->cb_err == MS_OK ? n : CURL_WRITEFUNC_ERROR;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    ms_http_xfer *x = userdata;
    int64_t t = (int64_t)ms_clock_ms();
    (void)dltotal;
    (void)ultotal;
    if (dlnow != x->last_dl || ulnow != x->last_ul) {
        x->last_dl = dlnow;
        x->last_ul = ulnow;
        x->last_activity_ms = t;
        return 0;
    }
    if (t - x->last_activity_ms > x->stall_timeout_ms) {
        x->stalled = true;
        return 1;
    }
    return 0;
}

/* --- the transfer ---------------------------------------------------------------------------- */

static ms_err opt_ok(CURLcode rc)
{
    return rc == CURLE_OK ? MS_OK : MS_ERR_INTERNAL;
}

/* What every request sets, after a reset so that nothing leaks from the previous one. */
static ms_err set_common(CURL *k, const ms_http_opts *o, ms_http_xfer *x, CURLU *u,
                         struct curl_slist *h, char *errbuf)
{
    if (!x->handle_reset) {
        curl_easy_reset(k); /* keeps the connection cache */
    }
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_CURLU, u)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https")));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_PROXY, "")));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_ERRORBUFFER, errbuf)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, o->total_timeout_ms)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_USERAGENT, o->user_agent)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2)));
    if (o->ca_file != NULL) {
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_CAINFO, o->ca_file)));
    }
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_response)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_write)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_WRITEDATA, x)));
    if (h != NULL) {
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_HTTPHEADER, h)));
    }
    if (o->stall_timeout_ms > 0) {
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L)));
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, on_progress)));
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_XFERINFODATA, x)));
    }
    return MS_OK;
}

/* body NULL: GET. The body is not copied: libcurl reads it from the caller's memory. */
static ms_err set_method(CURL *k, const char *body, size_t len)
{
    if (body == NULL) {
        return opt_ok(curl_easy_setopt(k, CURLOPT_HTTPGET, 1L));
    }
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_POST, 1L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len)));
    return opt_ok(curl_easy_setopt(k, CURLOPT_POSTFIELDS, body));
}

ms_err ms_http_easy_setup(CURL *k, const ms_http_opts *o, ms_http_xfer *x, CURLU *u,
                          struct curl_slist *h, char errbuf[static CURL_ERROR_SIZE],
                          const char *body, size_t len)
{
    x->curl = k;
    x->max_response = o->max_response;
    x->stall_timeout_ms = o->stall_timeout_ms;
    x->total = 0;
    x->cb_err = MS_OK;
    x->stalled = false;
    x->last_dl = x->last_ul = 0;
    errbuf[0] = '\0';
    TRY(set_common(k, o, x, u, h, errbuf));
    TRY(set_method(k, body, len));
    x->last_activity_ms = (int64_t)ms_clock_ms();
    return MS_OK;
}

static ms_err map_curl(CURLcode rc, const ms_http_xfer *x)
{
    if (x->cb_err != MS_OK) {
        return x->cb_err;
    }
    if (x->stalled) {
        return MS_ERR_HTTP_TIMEOUT;
    }
    switch (rc) {
    case CURLE_OK:
        return MS_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return MS_ERR_HTTP_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return MS_ERR_HTTP_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return MS_ERR_HTTP_TLS;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return MS_ERR_HTTP_URL;
    case CURLE_FILESIZE_EXCEEDED:
        return MS_ERR_HTTP_BODY;
    case CURLE_OUT_OF_MEMORY:
        return MS_ERR_NOMEM;
    default:
        return MS_ERR_IO;
    }
}

ms_err ms_http_easy_finish(CURL *k, CURLcode rc, const ms_http_xfer *x, const char *errbuf,
                           long *status, long *retry_after_s)
{
    curl_off_t retry_after = 0;
    *status = 0;
    *retry_after_s = 0;
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, status);
    if (curl_easy_getinfo(k, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
        retry_after > 0) {
        *retry_after_s = retry_after > 86400 ? 86400L : (long)retry_after;
    }
    /* The error buffer and every option pointing at the caller's memory end here. */
    curl_easy_reset(k);
    ms_err e = map_curl(rc, x);
    if (e != MS_OK) {
        /* libcurl's text names hosts and causes, never headers or bodies. */
        ms_log(MS_LOG_DEBUG, "http", "request failed: %s: %s (%s)", ms_err_name(e),
               curl_easy_strerror(rc), errbuf);
    }
    return e;
}

static ms_err perform(ms_http_client *c, ms_http_xfer *x, CURLU *u, struct curl_slist *h,
                      const char *body, size_t len, long *status)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc = CURLE_OK;
    x->handle_reset = c->clean;
    c->clean = false; /* until ms_http_easy_finish resets it */
    c->sock = CURL_SOCKET_BAD;
    TRY(ms_http_easy_setup(c->curl, &c->o, x, u, h, errbuf, body, len));
    /* The kept-alive connection's socket is noted while libcurl can still find it. */
    ms_err e = ms_http_loop_perform(c->loop, c->curl, &rc, &c->sock);
    /* and every option pointing at the caller's memory ends in the finish, failed or not */
    ms_err f = ms_http_easy_finish(c->curl, e == MS_OK ? rc : CURLE_ABORTED_BY_CALLBACK, x,
                                   errbuf, status, &c->retry_after_s);
    c->clean = true;
    return e != MS_OK ? e : f;
}

/* url's checked handle: the last one when url is the same string (same client, same policy),
   else a new check, kept for the next request. Owned by c. */
static ms_err url_checked(ms_http_client *c, const char *url, CURLU **u)
{
    if (c->url_ok != NULL && url != NULL && strcmp(c->url, url) == 0) {
        *u = c->url_ok;
        return MS_OK;
    }
    curl_url_cleanup(c->url_ok);
    free(c->url);
    c->url_ok = NULL;
    c->url = NULL;
    TRY(ms_http_url_check_plain(url, c->o.allow_plain_http, c->o.allow_plain_http_link_local, u));
    c->url = strdup(url);
    if (c->url != NULL) {
        c->url_ok = *u;
    }
    return MS_OK;
}

static ms_err request(ms_http_client *c, const char *url, const char *token, const char *body,
                      size_t len, long *status, ms_http_xfer *x)
{
    ms_err err = MS_OK;
    CURLU *u = NULL;
    struct curl_slist *h = NULL;
    *status = 0;
    c->retry_after_s = 0;
    ENSURE(!c->stepping, MS_ERR_ARG); /* one transfer at a time */
    TRY_OUT(url_checked(c, url, &u));
    TRY_OUT(ms_http_headers_new(token, body != NULL, &h));
    err = perform(c, x, u, h, body, len, status);
out:
    ms_http_headers_free(h);
    if (u != c->url_ok) {
        curl_url_cleanup(u); /* not kept (out of memory for its copy) */
    }
    return err;
}

ms_err ms_http_post_json(ms_http_client *c, const char *url, const char *bearer_token,
                         const char *body, size_t len, long *status, ms_buf *resp)
{
    ms_http_xfer x = {.resp = resp};
    *status = 0;
    ENSURE(c != NULL && body != NULL && resp != NULL, MS_ERR_ARG);
    return request(c, url, bearer_token, body, len, status, &x);
}

ms_err ms_http_get(ms_http_client *c, const char *url, const char *bearer_token, long *status,
                   ms_buf *resp)
{
    ms_http_xfer x = {.resp = resp};
    *status = 0;
    ENSURE(c != NULL && resp != NULL, MS_ERR_ARG);
    return request(c, url, bearer_token, NULL, 0, status, &x);
}

ms_err ms_http_post_stream(ms_http_client *c, const char *url, const char *bearer_token,
                           const char *body, size_t len, long *status, ms_http_chunk_fn fn,
                           void *ctx, ms_buf *err_body)
{
    ms_http_xfer x = {.fn = fn, .ctx = ctx, .err_body = err_body};
    *status = 0;
    ENSURE(c != NULL && body != NULL && fn != NULL, MS_ERR_ARG);
    return request(c, url, bearer_token, body, len, status, &x);
}

/* --- a stepped stream ------------------------------------------------------------------------ */

/* The stepped stream's own headers and checked URL, freed (the client's kept URL stays). */
static void step_release(ms_http_client *c)
{
    ms_http_headers_free(c->step_hdr);
    c->step_hdr = NULL;
    if (c->step_u != c->url_ok) {
        curl_url_cleanup(c->step_u);
    }
    c->step_u = NULL;
}

ms_err ms_http_stream_begin(ms_http_client *c, const char *url, const char *bearer_token,
                            const char *body, size_t len, ms_http_chunk_fn fn, void *ctx,
                            ms_buf *err_body)
{
    ms_err err = MS_OK;
    ENSURE(c != NULL && body != NULL && fn != NULL && !c->stepping, MS_ERR_ARG);
    c->retry_after_s = 0;
    c->sock = CURL_SOCKET_BAD;
    c->sx = (ms_http_xfer){.fn = fn, .ctx = ctx, .err_body = err_body};
    c->step_u = NULL;
    c->step_hdr = NULL;
    TRY_OUT(url_checked(c, url, &c->step_u));
    TRY_OUT(ms_http_headers_new(bearer_token, true, &c->step_hdr));
    c->sx.handle_reset = c->clean;
    c->clean = false;
    TRY_OUT(ms_http_easy_setup(c->curl, &c->o, &c->sx, c->step_u, c->step_hdr, c->step_errbuf,
                               body, len));
    TRY_OUT(ms_http_loop_add(c->loop, c->curl));
    c->stepping = true;
    c->step_done = false;
    c->step_rc = CURLE_OK;
out:
    if (err != MS_OK) {
        if (!c->clean) {
            curl_easy_reset(c->curl);
            c->clean = true;
        }
        step_release(c);
    }
    return err;
}

ms_err ms_http_stream_step(ms_http_client *c, int timeout_ms, bool *done)
{
    *done = false;
    ENSURE(c != NULL && c->stepping && timeout_ms >= 0, MS_ERR_ARG);
    if (!c->step_done) {
        TRY(ms_http_loop_step(c->loop, timeout_ms, &c->step_done, &c->step_rc));
    }
    *done = c->step_done;
    return MS_OK;
}

ms_err ms_http_stream_end(ms_http_client *c, long *status)
{
    *status = 0;
    ENSURE(c != NULL && c->stepping, MS_ERR_ARG);
    /* Not done: removed mid-transfer, libcurl closes the connection (never reused half-read). */
    CURLcode rc = c->step_done ? c->step_rc : CURLE_ABORTED_BY_CALLBACK;
    ms_http_loop_remove(c->loop, c->curl, &c->sock); /* ended or not: the socket, then out */
    ms_err e = ms_http_easy_finish(c->curl, rc, &c->sx, c->step_errbuf, status,
                                   &c->retry_after_s);
    c->clean = true;
    c->stepping = false;
    step_release(c);
    return c->step_done ? e : MS_ERR_IO;
}

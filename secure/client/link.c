/* The client's HTTP(S) link to one supervisor: libcurl with TLS verification and a key pin. */
#include "secure/client/link.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/http.h"
#include "common/http_loop.h"
#include "common/limits.h"
#include "common/log.h"
#include "secure/attest/devkey.h"
#include "secure/attest/tlspin.h"

#define MAX_PATH_LEN 128u /* our own endpoint paths: "/v1/session/<32 hex>/request" */

struct ms_link {
    CURL *curl;
    ms_http_loop *loop; /* runs each request; its connection cache keeps the connection */
    CURLU *base;  /* the checked base URL; each request copies it */
    char *prefix; /* its path without the trailing '/', may be "" */
    char *cacert;
    struct curl_slist *headers;
    int tls;
    long connect_timeout_ms, timeout_ms;
    ms_tls_pin tlspin; /* checked inside every TLS handshake (secure/attest/tlspin.c) */
    char next_header[MS_LINK_HEADER_MAX]; /* for the next request only; "" when none */
};

/* One transfer: where 2xx bytes go and why a callback stopped it. */
struct xfer {
    CURL *curl;
    ms_link_sink_fn sink;
    void *ctx;
    size_t max, total;
    ms_err err;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static ms_err opt_ok(CURLcode rc)
{
    return rc == CURLE_OK ? MS_OK : MS_ERR_INTERNAL;
}

/* --- URL policy ---------------------------------------------------------------------------- */

static int has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, 0);
    curl_free(v);
    return rc == CURLUE_OK;
}

static int printable_url(const char *url, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (url[i] <= 0x20 || url[i] >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Parse once with libcurl's own parser: what we check is what it will connect to. */
static ms_err check_url(ms_link *l, const ms_link_cfg *cfg)
{
    ms_err err = MS_OK;
    char *scheme = NULL, *host = NULL, *path = NULL;
    const char *url = cfg->url;
    ENSURE(url != NULL, MS_ERR_HTTP_URL);
    size_t n = strnlen(url, MS_MAX_HTTP_URL + 1);
    ENSURE(n > 0 && n + MAX_PATH_LEN <= MS_MAX_HTTP_URL && printable_url(url, n), MS_ERR_HTTP_URL);
    l->base = curl_url();
    ENSURE(l->base != NULL, MS_ERR_NOMEM);
    ENSURE_OUT(curl_url_set(l->base, CURLUPART_URL, url, 0) == CURLUE_OK, MS_ERR_HTTP_URL);
    ENSURE_OUT(curl_url_get(l->base, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK, MS_ERR_HTTP_URL);
    ENSURE_OUT(curl_url_get(l->base, CURLUPART_HOST, &host, 0) == CURLUE_OK, MS_ERR_HTTP_URL);
    ENSURE_OUT(!has_part(l->base, CURLUPART_USER) && !has_part(l->base, CURLUPART_PASSWORD) &&
                   !has_part(l->base, CURLUPART_OPTIONS) && !has_part(l->base, CURLUPART_QUERY) &&
                   !has_part(l->base, CURLUPART_FRAGMENT),
               MS_ERR_HTTP_URL);
    l->tls = strcmp(scheme, "https") == 0;
    ENSURE_OUT(l->tls || strcmp(scheme, "http") == 0, MS_ERR_HTTP_URL);
    /* Plain HTTP only where no network can see it, and only when asked for (§12). */
    ENSURE_OUT(l->tls || (cfg->allow_http && ms_http_host_is_loopback(host)),
               MS_ERR_HTTP_INSECURE);
    ENSURE_OUT(curl_url_get(l->base, CURLUPART_PATH, &path, 0) == CURLUE_OK, MS_ERR_HTTP_URL);
    size_t pl = strlen(path);
    while (pl > 0 && path[pl - 1] == '/') {
        pl--;
    }
    l->prefix = malloc(pl + 1);
    ENSURE_OUT(l->prefix != NULL, MS_ERR_NOMEM);
    memcpy(l->prefix, path, pl);
    l->prefix[pl] = '\0';
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(path);
    return err;
}

/* --- the handle ---------------------------------------------------------------------------- */

ms_err ms_link_new(ms_link **out, const ms_link_cfg *cfg)
{
    ms_err err = MS_OK;
    *out = NULL;
    ENSURE(cfg != NULL && cfg->connect_timeout_ms > 0 && cfg->timeout_ms > 0, MS_ERR_ARG);
    ENSURE(pthread_once(&global_once, global_init_once) == 0 && global_rc == CURLE_OK,
           MS_ERR_INTERNAL);
    ms_link *l = calloc(1, sizeof *l);
    ENSURE(l != NULL, MS_ERR_NOMEM);
    l->connect_timeout_ms = cfg->connect_timeout_ms;
    l->timeout_ms = cfg->timeout_ms;
    TRY_OUT(check_url(l, cfg));
    if (cfg->cacert) {
        l->cacert = strdup(cfg->cacert);
        ENSURE_OUT(l->cacert != NULL, MS_ERR_NOMEM);
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL; /* no 100-continue wait */
    if (!h2) {
        curl_slist_free_all(h);
    }
    l->headers = h2;
    ENSURE_OUT(l->headers != NULL, MS_ERR_NOMEM);
    l->curl = curl_easy_init();
    ENSURE_OUT(l->curl != NULL, MS_ERR_INTERNAL);
    TRY_OUT(ms_http_loop_new(1, &l->loop)); /* one cached connection, as MAXCONNECTS says */
    *out = l;
    l = NULL;
out:
    ms_link_free(l);
    return err;
}

void ms_link_free(ms_link *l)
{
    if (!l) {
        return;
    }
    if (l->curl) {
        curl_easy_cleanup(l->curl);
    }
    ms_http_loop_free(l->loop);
    curl_url_cleanup(l->base);
    curl_slist_free_all(l->headers);
    free(l->prefix);
    free(l->cacert);
    ms_wipe(l, sizeof *l);
    free(l);
}

int ms_link_url_is_loopback(const char *url)
{
    return ms_http_url_is_loopback(url);
}

int ms_link_is_tls(const ms_link *l)
{
    return l->tls;
}

ms_err ms_link_pin(ms_link *l, const uint8_t *spki_hash)
{
    l->tlspin.have_expected = spki_hash != NULL;
    if (spki_hash) {
        memcpy(l->tlspin.expected, spki_hash, MS_SPKI_HASH_LEN);
    }
    return MS_OK;
}

ms_err ms_link_peer_spki(const ms_link *l, uint8_t out[static MS_SPKI_HASH_LEN])
{
    memset(out, 0, MS_SPKI_HASH_LEN);
    ENSURE(l->tlspin.have_seen, MS_ERR_HTTP_PIN);
    memcpy(out, l->tlspin.seen, MS_SPKI_HASH_LEN);
    return MS_OK;
}

/* libcurl hands us each new connection's OpenSSL context before its TLS handshake. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *clientp)
{
    (void)curl;
    return ms_tls_pin_install(ssl_ctx, clientp) == MS_OK ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

/* --- one request --------------------------------------------------------------------------- */

ms_err ms_link_collect(void *ctx, const uint8_t *p, size_t n)
{
    ms_err e = ms_buf_append(ctx, p, n);
    return e == MS_ERR_CAP_EXCEEDED ? MS_ERR_HTTP_BODY : e;
}

/* The first 2xx bytes for ms_link_collect: reserve what the response declares, once. */
static void reserve_declared(struct xfer *x)
{
    ms_buf *b = x->ctx;
    curl_off_t cl = -1;
    if (curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
        cl > 0 && (uint64_t)cl <= x->max && (uint64_t)cl <= b->max - b->len) {
        ms_err e = ms_buf_reserve(b, (size_t)cl);
        (void)e; /* out of memory: the append reports it */
    }
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    long status = 0;
    if (n > x->max - x->total) {
        x->err = MS_ERR_HTTP_BODY;
        return 0;
    }
    x->total += n;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        return n; /* "rejected", "unknown session", ...: the status says it all */
    }
    if (x->total == n && x->sink == ms_link_collect) {
        reserve_declared(x);
    }
    x->err = x->sink(x->ctx, (const uint8_t *)p, n);
    return x->err == MS_OK ? n : 0;
}

static ms_err set_options(ms_link *l, struct xfer *x, CURLU *u, const uint8_t *body, size_t len,
                          char *errbuf, struct curl_slist *headers)
{
    CURL *k = l->curl;
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_CURLU, u)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https")));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_PROXY, "")));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_MAXCONNECTS, 1L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_ERRORBUFFER, errbuf)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_USERAGENT, "minions-secure/0.1")));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, l->connect_timeout_ms)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, l->timeout_ms)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSL_SESSIONID_CACHE, 0L)));
    if (l->cacert) {
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_CAINFO, l->cacert)));
    }
    if (l->tls) {
        /* The same function and data for every request, so kept-alive connections are reused;
           a new connection is checked against the pin inside its own TLS handshake. */
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx)));
        TRY(opt_ok(curl_easy_setopt(k, CURLOPT_SSL_CTX_DATA, &l->tlspin)));
    }
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_write)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_WRITEDATA, x)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_HTTPHEADER, headers)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_POST, 1L)));
    TRY(opt_ok(curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len)));
    return opt_ok(curl_easy_setopt(k, CURLOPT_POSTFIELDS, body));
}

static ms_err map_curl(const ms_link *l, CURLcode rc, const struct xfer *x)
{
    if (x->err != MS_OK) {
        return x->err;
    }
    if (rc != CURLE_OK && l->tlspin.mismatch) {
        return MS_ERR_HTTP_PIN;
    }
    switch (rc) {
    case CURLE_OK: return MS_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT: return MS_ERR_HTTP_CONNECT;
    case CURLE_OPERATION_TIMEDOUT: return MS_ERR_HTTP_TIMEOUT;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return MS_ERR_HTTP_PIN;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED: return MS_ERR_HTTP_TLS;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return MS_ERR_HTTP_URL;
    case CURLE_FILESIZE_EXCEEDED: return MS_ERR_HTTP_BODY;
    case CURLE_OUT_OF_MEMORY: return MS_ERR_NOMEM;
    default: return MS_ERR_IO;
    }
}

/*
 * libcurl reports a server that does not speak TLS, and a TLS server given plain HTTP, only
 * as a failed TLS handshake or an empty reply; its error text says which (OpenSSL's "wrong
 * version number" when text came back, SSL_ERROR_SYSCALL or "unexpected eof" when the
 * server closed).
 */
static ms_err refine_err(const ms_link *l, ms_err e, CURLcode rc, const char *errbuf)
{
    if (e == MS_ERR_HTTP_TLS && rc == CURLE_SSL_CONNECT_ERROR &&
        (strstr(errbuf, "wrong version number") || strstr(errbuf, "SSL_ERROR_SYSCALL") ||
         strstr(errbuf, "unexpected eof"))) {
        return MS_ERR_HTTP_NOT_TLS;
    }
    if (!l->tls && rc == CURLE_GOT_NOTHING) {
        return MS_ERR_HTTP_NO_REPLY;
    }
    return e;
}

ms_err ms_link_next_header(ms_link *l, const char *line)
{
    size_t n = strnlen(line, MS_LINK_HEADER_MAX);
    ENSURE(n > 0 && n < MS_LINK_HEADER_MAX && strcspn(line, "\r\n") == n, MS_ERR_ARG);
    memcpy(l->next_header, line, n + 1);
    return MS_OK;
}

ms_err ms_link_post(ms_link *l, const char *path, const uint8_t *body, size_t len, int fresh,
                    size_t max, ms_link_sink_fn sink, void *ctx, ms_link_resp *resp)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    char full[MS_MAX_HTTP_URL];
    struct xfer x = {.curl = l->curl, .sink = sink, .ctx = ctx, .max = max, .err = MS_OK};
    curl_off_t retry_after = 0;
    /* This request's own header goes in front of the link's list, for this request only. */
    char extra[MS_LINK_HEADER_MAX];
    memcpy(extra, l->next_header, sizeof extra);
    l->next_header[0] = '\0';
    struct curl_slist one = {.data = extra, .next = l->headers};
    memset(resp, 0, sizeof *resp);
    ENSURE(path != NULL && body != NULL && sink != NULL && max > 0, MS_ERR_ARG);
    int n = snprintf(full, sizeof full, "%s%s", l->prefix, path);
    ENSURE(n > 0 && (size_t)n < sizeof full, MS_ERR_HTTP_URL);
    CURLU *u = curl_url_dup(l->base);
    ENSURE(u != NULL, MS_ERR_NOMEM);
    ms_err err = curl_url_set(u, CURLUPART_PATH, full, 0) == CURLUE_OK ? MS_OK : MS_ERR_HTTP_URL;
    if (err == MS_OK) {
        err = set_options(l, &x, u, body, len, errbuf, extra[0] ? &one : l->headers);
    }
    if (err == MS_OK) {
        l->tlspin.mismatch = 0;
        if (fresh) {
            /* A new handshake may bind a new TLS key (a restarted supervisor): drop the pin;
               the handshake's transcript names the key that will be pinned next. */
            l->tlspin.have_expected = 0;
        }
        CURLcode rc = CURLE_OK;
        ms_err pe = ms_http_loop_perform(l->loop, l->curl, &rc, NULL);
        if (pe != MS_OK && rc == CURLE_OK) {
            rc = CURLE_ABORTED_BY_CALLBACK; /* the loop's own failure: nothing was completed */
        }
        curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (curl_easy_getinfo(l->curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
            retry_after > 0) {
            resp->retry_after_s = retry_after > 86400 ? 86400L : (long)retry_after;
        }
        err = pe != MS_OK ? pe : refine_err(l, map_curl(l, rc, &x), rc, errbuf);
        if (err != MS_OK) {
            /* libcurl's text names hosts and causes, never bodies. */
            ms_log(MS_LOG_DEBUG, "client", "POST %s failed: %s: %s (%s)", path, ms_err_name(err),
                   curl_easy_strerror(rc), errbuf);
        }
    }
    /* Drop every option that points at this frame's memory; the connection cache stays. */
    curl_easy_reset(l->curl);
    curl_url_cleanup(u);
    resp->transport = err;
    return err;
}

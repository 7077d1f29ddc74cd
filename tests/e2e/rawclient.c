/* A raw client of the channel for attack tests and benches: libcurl for HTTPS, secure/ for bytes. */
#include "tests/e2e/rawclient.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/client/payload.h"
#include "secure/handshake.h"

/* --- HTTP(S) over one kept-alive connection ------------------------------------------------- */

struct e2e_http {
    CURL *k;
    struct curl_slist *headers;
    char base[128];
    char cacert[4096];
};

int e2e_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int e2e_http_new(e2e_http **out, const char *base, const char *cacert)
{
    *out = NULL;
    e2e_http *h = calloc(1, sizeof *h);
    if (!h) {
        return -1;
    }
    snprintf(h->base, sizeof h->base, "%s", base);
    snprintf(h->cacert, sizeof h->cacert, "%s", cacert);
    h->k = curl_easy_init();
    /* No "Expect: 100-continue": bodies go out at once, as a hostile client would send them. */
    struct curl_slist *a = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    h->headers = a ? curl_slist_append(a, "Expect:") : NULL;
    if (!h->k || !h->headers) {
        curl_slist_free_all(h->headers ? h->headers : a);
        e2e_http_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

void e2e_http_free(e2e_http *h)
{
    if (!h) {
        return;
    }
    if (h->k) {
        curl_easy_cleanup(h->k);
    }
    curl_slist_free_all(h->headers);
    free(h);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    ms_buf *b = ctx;
    size_t n = size * nmemb;
    return b == NULL || ms_buf_append(b, p, n) == MS_OK ? n : 0;
}

long e2e_http_call(e2e_http *h, const char *method, const char *path, const void *body,
                   size_t len, ms_buf *resp)
{
    char url[256];
    long status = 0;
    CURL *k = h->k;
    snprintf(url, sizeof url, "%s%s", h->base, path);
    if (resp) {
        ms_buf_clear(resp);
    }
    curl_easy_reset(k); /* keeps the connection cache: the connection stays alive */
    int is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0;
    CURLcode rc = curl_easy_setopt(k, CURLOPT_URL, url);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_PROXY, "");
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_CAINFO, h->cacert);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 30000L);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_HTTPHEADER, h->headers);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
    rc = rc ? rc : curl_easy_setopt(k, CURLOPT_WRITEDATA, resp);
    if (is_get && !body) {
        rc = rc ? rc : curl_easy_setopt(k, CURLOPT_HTTPGET, 1L);
    } else if (body || is_post) {
        rc = rc ? rc : curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        rc = rc ? rc : curl_easy_setopt(k, CURLOPT_POSTFIELDS, body ? body : (const void *)"");
    }
    if (!is_get && !is_post) {
        rc = rc ? rc : curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
    }
    rc = rc ? rc : curl_easy_perform(k);
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK && status == 0) {
        fprintf(stderr, "  (e2e_http %s %s: %s)\n", method, path, curl_easy_strerror(rc));
    }
    return status;
}

/* --- a session by hand ---------------------------------------------------------------------- */

static ms_err verify_dev_key(void *ctx, const ms_evidence_view *ev)
{
    if (ev->type != MS_EVIDENCE_DEV_KEY) {
        return MS_ERR_ATTEST_POLICY;
    }
    return ms_devkey_verify(ctx, ev->data, ev->len, ev->binding);
}

ms_err e2e_raw_handshake(e2e_http *h, const uint8_t pinned_pk[static MS_SIGN_PK_LEN], e2e_raw *s,
                         long *status)
{
    static const uint16_t types[] = {MS_EVIDENCE_DEV_KEY};
    struct ms_hs_client *hs = NULL;
    ms_hs_client_result res;
    ms_buf ch, sh, cf;
    size_t n;
    ms_hs_client_cfg cfg = {.evidence_types = types,
                            .n_evidence_types = 1,
                            .verify = verify_dev_key,
                            .verify_ctx = (void *)pinned_pk};
    memset(s, 0, sizeof *s);
    *status = 0;
    ms_buf_init(&ch, MS_CLIENT_HELLO_MAX_LEN);
    ms_buf_init(&sh, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    ms_buf_init(&cf, MS_CLIENT_FINISH_MAX_LEN);
    ms_err e = ms_hs_client_new(&hs, &cfg, &ch);
    if (e == MS_OK) {
        *status = e2e_http_call(h, "POST", "/v1/handshake", ch.p, ch.len, &sh);
        e = *status == 200 ? MS_OK : MS_ERR_HTTP_STATUS;
    }
    if (e == MS_OK) {
        e = ms_hs_client_finish(hs, sh.p, sh.len, (uint64_t)time(NULL), &cf, &s->chan, &res);
    }
    if (e == MS_OK) {
        memcpy(s->sid, res.session_id, MS_SESSION_ID_LEN);
        memcpy(s->cf, cf.p, cf.len);
        s->cf_len = cf.len;
        s->next_msg_id = 1;
        e = ms_hex_encode(s->sid, MS_SESSION_ID_LEN, s->sid_hex, sizeof s->sid_hex, &n);
    }
    ms_hs_client_free(hs);
    ms_buf_free(&ch);
    ms_buf_free(&sh);
    ms_buf_free(&cf);
    if (e != MS_OK) {
        e2e_raw_free(s);
    }
    return e;
}

void e2e_raw_path(const e2e_raw *s, const char *what, char out[static 96])
{
    snprintf(out, 96, "/v1/session/%s/%s", s->sid_hex, what);
}

ms_err e2e_raw_finish(e2e_http *h, e2e_raw *s, long *status)
{
    char path[96];
    e2e_raw_path(s, "finish", path);
    *status = e2e_http_call(h, "POST", path, s->cf, s->cf_len, NULL);
    return *status == 204 ? MS_OK : MS_ERR_HTTP_STATUS;
}

ms_err e2e_raw_seal_request(e2e_raw *s, const char *prompt, int with_cf, ms_buf *body,
                            uint32_t *msg_id)
{
    ms_buf req;
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    *msg_id = s->next_msg_id;
    ms_err e = ms_client_request_build(NULL, prompt, 0, -1.0, &req);
    if (e == MS_OK && with_cf) {
        e = ms_buf_append(body, s->cf, s->cf_len);
    }
    if (e == MS_OK) {
        e = ms_channel_seal_buf(s->chan, MS_REC_MSG, *msg_id, 0, req.p, req.len, body);
    }
    if (e == MS_OK) {
        s->next_msg_id++;
    }
    ms_buf_free(&req);
    return e;
}

ms_err e2e_raw_open_reply(e2e_raw *s, const uint8_t *resp, size_t len, uint32_t msg_id,
                          ms_buf *content)
{
    ms_record_info info;
    ms_client_reply r;
    ms_buf pt;
    ms_buf_init(&pt, MS_MAX_RECORD_PLAINTEXT);
    ms_err e = ms_channel_open_buf(s->chan, resp, len, &info, &pt);
    if (e == MS_OK && (info.type != MS_REC_MSG || info.msg_id != msg_id || info.rec_len != len)) {
        e = MS_ERR_REPLY_MISMATCH;
    }
    if (e == MS_OK) {
        e = ms_client_reply_parse(pt.p, pt.len, 0, &r);
    }
    if (e == MS_OK) {
        e = r.ok && r.content ? ms_buf_append(content, r.content, r.content_len) : MS_ERR_PAYLOAD;
        ms_client_reply_free(&r);
    }
    ms_buf_free(&pt);
    return e;
}

void e2e_raw_free(e2e_raw *s)
{
    ms_channel_free(s->chan);
    ms_wipe(s, sizeof *s);
}

/* --- raw TLS bytes -------------------------------------------------------------------------- */

struct e2e_tls {
    CURL *k;
    curl_socket_t fd;
};

int e2e_tls_open(e2e_tls **out, const char *base, const char *cacert)
{
    *out = NULL;
    e2e_tls *t = calloc(1, sizeof *t);
    if (!t || !(t->k = curl_easy_init())) {
        free(t);
        return -1;
    }
    CURLcode rc = curl_easy_setopt(t->k, CURLOPT_URL, base);
    rc = rc ? rc : curl_easy_setopt(t->k, CURLOPT_CONNECT_ONLY, 1L);
    rc = rc ? rc : curl_easy_setopt(t->k, CURLOPT_NOSIGNAL, 1L);
    rc = rc ? rc : curl_easy_setopt(t->k, CURLOPT_PROXY, "");
    rc = rc ? rc : curl_easy_setopt(t->k, CURLOPT_CAINFO, cacert);
    rc = rc ? rc : curl_easy_setopt(t->k, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    rc = rc ? rc : curl_easy_perform(t->k);
    rc = rc ? rc : curl_easy_getinfo(t->k, CURLINFO_ACTIVESOCKET, &t->fd);
    if (rc != CURLE_OK) {
        fprintf(stderr, "  (e2e_tls_open %s: %s)\n", base, curl_easy_strerror(rc));
        e2e_tls_close(t);
        return -1;
    }
    *out = t;
    return 0;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for `events` or the deadline passes; 1 ready, 0 timeout. */
static int wait_fd(curl_socket_t fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd pf = {.fd = fd, .events = events};
        int r = poll(&pf, 1, (int)left);
        if (r > 0) {
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            return 1; /* let the next call report the error */
        }
    }
}

int e2e_tls_send(e2e_tls *t, const void *p, size_t n, int timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    const char *c = p;
    while (n > 0) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(t->k, c, n, &sent);
        if (rc == CURLE_AGAIN) {
            if (!wait_fd(t->fd, POLLOUT, deadline)) {
                return -1;
            }
            continue;
        }
        if (rc != CURLE_OK) {
            return -1;
        }
        c += sent;
        n -= sent;
    }
    return 0;
}

int e2e_tls_read_until_close(e2e_tls *t, ms_buf *out, int timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    char buf[4096];
    for (;;) {
        size_t got = 0;
        CURLcode rc = curl_easy_recv(t->k, buf, sizeof buf, &got);
        if (rc == CURLE_AGAIN) {
            if (!wait_fd(t->fd, POLLIN, deadline)) {
                return 0;
            }
            continue;
        }
        if (rc != CURLE_OK || got == 0) {
            return 1; /* closed: EOF, close_notify or reset */
        }
        if (out && ms_buf_append(out, buf, got) != MS_OK) {
            return 0;
        }
    }
}

void e2e_tls_close(e2e_tls *t)
{
    if (!t) {
        return;
    }
    if (t->k) {
        curl_easy_cleanup(t->k);
    }
    free(t);
}

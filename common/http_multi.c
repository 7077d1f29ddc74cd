/* Many POSTs to one URL at once: the libcurl multi handle behind ms_http_multi (common/http.h). */
#include "common/http.h"
#include "common/http_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"

/* One transfer in flight: an easy handle reused request after request. */
struct slot {
    CURL *easy;
    bool busy;
    size_t tag;
    ms_buf resp; /* the reply of the request; wiped at the slot's next start and at free */
    ms_http_xfer x;
    char errbuf[CURL_ERROR_SIZE];
};

struct ms_http_multi {
    ms_http_opts o;         /* defaults applied; ca_file and user_agent are the copies below */
    char *ca_file;
    char *user_agent;
    CURLM *multi;
    CURLU *url;             /* checked once; libcurl copies it per transfer */
    struct curl_slist *hdr; /* shared by every transfer; one line holds the token */
    struct slot *s;
    unsigned n_slots;
    unsigned running;
};

static ms_err copy_opts(ms_http_multi *m, const ms_http_opts *o)
{
    m->o = *o;
    m->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
    m->user_agent = strdup(o->user_agent ? o->user_agent : MS_HTTP_DEFAULT_USER_AGENT);
    ENSURE((o->ca_file == NULL || m->ca_file != NULL) && m->user_agent != NULL, MS_ERR_NOMEM);
    m->o.ca_file = m->ca_file;
    m->o.user_agent = m->user_agent;
    if (m->o.connect_timeout_ms == 0) {
        m->o.connect_timeout_ms = MS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    if (m->o.max_response == 0) {
        m->o.max_response = MS_MAX_HTTP_BODY;
    }
    return MS_OK;
}

static ms_err setup(ms_http_multi *m, const ms_http_opts *o, const char *url, const char *token)
{
    TRY(copy_opts(m, o));
    m->s = calloc(m->n_slots, sizeof *m->s);
    ENSURE(m->s != NULL, MS_ERR_NOMEM);
    for (unsigned k = 0; k < m->n_slots; k++) {
        ms_buf_init(&m->s[k].resp, m->o.max_response);
        m->s[k].easy = curl_easy_init();
        ENSURE(m->s[k].easy != NULL, MS_ERR_NOMEM);
    }
    TRY(ms_http_url_check(url, m->o.allow_plain_http, &m->url));
    TRY(ms_http_headers_new(token, true, &m->hdr));
    m->multi = curl_multi_init();
    ENSURE(m->multi != NULL, MS_ERR_NOMEM);
    /* Never more connections than transfers in flight, and keep them all for reuse. */
    long p = (long)m->n_slots;
    ENSURE(curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, p) == CURLM_OK &&
               curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, p) == CURLM_OK &&
               curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, p) == CURLM_OK,
           MS_ERR_INTERNAL);
    return MS_OK;
}

ms_err ms_http_multi_new(const ms_http_opts *opts, const char *url, const char *bearer_token,
                         unsigned slots, ms_http_multi **out)
{
    static const ms_http_opts none;
    const ms_http_opts *o = opts ? opts : &none;
    *out = NULL;
    ENSURE(slots > 0 && o->connect_timeout_ms >= 0 && o->total_timeout_ms >= 0 &&
               o->stall_timeout_ms >= 0,
           MS_ERR_ARG);
    TRY(ms_http_global_init());
    ms_http_multi *m = calloc(1, sizeof *m);
    ENSURE(m != NULL, MS_ERR_NOMEM);
    m->n_slots = slots;
    ms_err e = setup(m, o, url, bearer_token);
    if (e != MS_OK) {
        ms_http_multi_free(m);
        return e;
    }
    *out = m;
    return MS_OK;
}

void ms_http_multi_free(ms_http_multi *m)
{
    if (m == NULL) {
        return;
    }
    for (unsigned k = 0; m->s != NULL && k < m->n_slots; k++) {
        if (m->s[k].busy) {
            curl_multi_remove_handle(m->multi, m->s[k].easy);
        }
        if (m->s[k].easy != NULL) {
            curl_easy_cleanup(m->s[k].easy);
        }
        ms_buf_free(&m->s[k].resp);
    }
    if (m->multi != NULL) {
        curl_multi_cleanup(m->multi);
    }
    ms_http_headers_free(m->hdr);
    curl_url_cleanup(m->url);
    free(m->s);
    free(m->ca_file);
    free(m->user_agent);
    ms_wipe(m, sizeof *m);
    free(m);
}

unsigned ms_http_multi_idle(const ms_http_multi *m)
{
    return m->n_slots - m->running;
}

ms_err ms_http_multi_start(ms_http_multi *m, size_t tag, const char *body, size_t len)
{
    struct slot *s = NULL;
    ENSURE(body != NULL, MS_ERR_ARG);
    for (unsigned k = 0; k < m->n_slots && s == NULL; k++) {
        s = m->s[k].busy ? NULL : &m->s[k];
    }
    ENSURE(s != NULL, MS_ERR_STATE);
    ms_buf_clear(&s->resp);
    s->x = (ms_http_xfer){.resp = &s->resp};
    TRY(ms_http_easy_setup(s->easy, &m->o, &s->x, m->url, m->hdr, s->errbuf, body, len));
    ENSURE(curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (void *)s) == CURLE_OK, MS_ERR_INTERNAL);
    ENSURE(curl_multi_add_handle(m->multi, s->easy) == CURLM_OK, MS_ERR_INTERNAL);
    s->busy = true;
    s->tag = tag;
    m->running++;
    return MS_OK;
}

ms_err ms_http_multi_perform(ms_http_multi *m)
{
    int still = 0;
    ENSURE(curl_multi_perform(m->multi, &still) == CURLM_OK, MS_ERR_INTERNAL);
    return MS_OK;
}

ms_err ms_http_multi_next(ms_http_multi *m, ms_http_done *d, bool *got)
{
    CURLMsg *msg;
    int left = 0;
    *got = false;
    memset(d, 0, sizeof *d);
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURLcode rc = msg->data.result; /* msg dies with curl_multi_remove_handle */
        char *priv = NULL;
        ENSURE(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) == CURLE_OK &&
                   priv != NULL,
               MS_ERR_INTERNAL);
        struct slot *s = (struct slot *)(void *)priv;
        ENSURE(curl_multi_remove_handle(m->multi, s->easy) == CURLM_OK, MS_ERR_INTERNAL);
        s->busy = false;
        m->running--;
        d->tag = s->tag;
        d->resp = &s->resp;
        d->err = ms_http_easy_finish(s->easy, rc, &s->x, s->errbuf, &d->status,
                                     &d->retry_after_s);
        *got = true;
        return MS_OK;
    }
    return MS_OK;
}

ms_err ms_http_multi_wait(ms_http_multi *m, int timeout_ms)
{
    ENSURE(curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL) == CURLM_OK, MS_ERR_INTERNAL);
    return MS_OK;
}

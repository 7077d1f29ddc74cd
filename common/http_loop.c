/* curl_easy_perform's loop on libcurl's socket interface: one poll a wait, of libcurl's sockets. */
#include "common/http_loop.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"

/* One transfer at a time: its connection, a second address's while connecting (happy
   eyeballs), the threaded resolver's pair. */
#define MAX_WATCH 8u

struct ms_http_loop {
    CURLM *multi;
    CURL *easy; /* the transfer in the loop, or NULL */
    /* The sockets libcurl asked to be watched (CURLMOPT_SOCKETFUNCTION) and for what. */
    struct pollfd watch[MAX_WATCH];
    size_t nwatch;
    bool watch_full; /* libcurl asked for more than MAX_WATCH sockets: the transfer fails */
};

/* CURLMOPT_SOCKETFUNCTION: libcurl's wishes for socket s, kept for the step's poll. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    ms_http_loop *l = userp;
    (void)easy;
    (void)socketp;
    size_t i = 0;
    while (i < l->nwatch && l->watch[i].fd != s) {
        i++;
    }
    if (what == CURL_POLL_REMOVE) {
        if (i < l->nwatch) {
            l->watch[i] = l->watch[--l->nwatch];
        }
        return 0;
    }
    if (i == l->nwatch) {
        if (l->nwatch == MAX_WATCH) {
            l->watch_full = true;
            return -1;
        }
        l->nwatch++;
    }
    l->watch[i] = (struct pollfd){
        .fd = s,
        .events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
                          ((what & CURL_POLL_OUT) ? POLLOUT : 0))};
    return 0;
}

ms_err ms_http_loop_new(long max_connects, ms_http_loop **out)
{
    *out = NULL;
    ENSURE(max_connects >= 0, MS_ERR_ARG);
    ms_http_loop *l = calloc(1, sizeof *l);
    ENSURE(l != NULL, MS_ERR_NOMEM);
    l->multi = curl_multi_init();
    if (l->multi == NULL ||
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
        (max_connects > 0 &&
         curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, max_connects) != CURLM_OK)) {
        ms_http_loop_free(l);
        return MS_ERR_INTERNAL;
    }
    *out = l;
    return MS_OK;
}

void ms_http_loop_free(ms_http_loop *l)
{
    if (l == NULL) {
        return;
    }
    if (l->multi) {
        curl_multi_cleanup(l->multi); /* closes the kept-alive connections */
    }
    free(l);
}

ms_err ms_http_loop_add(ms_http_loop *l, CURL *k)
{
    ENSURE(l->easy == NULL, MS_ERR_ARG);
    ENSURE(curl_multi_add_handle(l->multi, k) == CURLM_OK, MS_ERR_INTERNAL);
    l->easy = k;
    l->watch_full = false;
    return MS_OK;
}

ms_err ms_http_loop_step(ms_http_loop *l, int timeout_ms, bool *done, CURLcode *rc)
{
    int still = 0, left = 0;
    long due = -1;
    CURLMsg *msg;
    *done = false;
    ENSURE(l->easy != NULL && timeout_ms >= 0, MS_ERR_ARG);
    ENSURE(curl_multi_timeout(l->multi, &due) == CURLM_OK, MS_ERR_INTERNAL);
    int wait = due >= 0 && due < timeout_ms ? (int)due : timeout_ms;
    int n = 0;
    if (due != 0 && (wait > 0 || l->nwatch > 0)) { /* a due timer runs now, without a poll */
        struct pollfd p[MAX_WATCH];
        size_t np = l->nwatch;
        memcpy(p, l->watch, np * sizeof p[0]); /* the callback may change the table below */
        n = poll(p, (nfds_t)np, wait);
        for (size_t i = 0; n > 0 && i < np; i++) {
            int ev = ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) ? CURL_CSELECT_IN : 0) |
                     ((p[i].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                     ((p[i].revents & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
            if (ev != 0) {
                ENSURE(curl_multi_socket_action(l->multi, p[i].fd, ev, &still) == CURLM_OK,
                       MS_ERR_INTERNAL);
            }
        }
        ENSURE(curl_multi_timeout(l->multi, &due) == CURLM_OK, MS_ERR_INTERNAL);
    }
    if (n <= 0 || due == 0) { /* nothing ready, a signal, or a timer due: libcurl's timers */
        ENSURE(curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &still) == CURLM_OK,
               MS_ERR_INTERNAL);
    }
    ENSURE(!l->watch_full, MS_ERR_INTERNAL);
    while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == l->easy) {
            *rc = msg->data.result;
            *done = true;
        }
    }
    return MS_OK;
}

void ms_http_loop_remove(ms_http_loop *l, CURL *k, curl_socket_t *sock)
{
    if (sock != NULL) {
        /* while libcurl can still find the connection from k */
        *sock = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(k, CURLINFO_ACTIVESOCKET, sock) != CURLE_OK) {
            *sock = CURL_SOCKET_BAD;
        }
    }
    curl_multi_remove_handle(l->multi, k);
    if (l->easy == k) {
        l->easy = NULL;
    }
}

ms_err ms_http_loop_perform(ms_http_loop *l, CURL *k, CURLcode *rc, curl_socket_t *sock)
{
    bool done = false;
    *rc = CURLE_OK;
    TRY(ms_http_loop_add(l, k));
    ms_err e = MS_OK;
    while (e == MS_OK && !done) {
        e = ms_http_loop_step(l, 1000, &done, rc); /* libcurl's timers cut the wait short */
    }
    ms_http_loop_remove(l, k, sock);
    return e;
}

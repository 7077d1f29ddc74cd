/* Inside common/: the libcurl easy-handle set-up that http.c and http_multi.c share. */
#ifndef MS_COMMON_HTTP_INTERNAL_H
#define MS_COMMON_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/http.h"

/*
 * Not for other callers: the public door is common/http.h. These pieces exist so that a
 * second driver of libcurl (the multi handle of common/http_multi.c) applies exactly the
 * same URL policy, TLS settings, header hygiene, caps and error mapping as ms_http_*.
 */

/*
 * One request in flight: where the body goes and why a callback stopped it. The caller sets
 * resp (collect into it), or fn/ctx (+ err_body) for streaming; ms_http_easy_setup sets the
 * rest. Lives as long as the transfer (libcurl holds a pointer to it).
 */
typedef struct ms_http_xfer {
    CURL *curl;
    size_t max_response;
    long stall_timeout_ms;
    ms_buf *resp;        /* collecting calls */
    ms_http_chunk_fn fn; /* streaming calls */
    void *ctx;
    ms_buf *err_body;
    bool handle_reset; /* the caller knows the handle holds no option (fresh or reset) */
    size_t total;
    ms_err cb_err;
    bool stalled;
    int64_t last_activity_ms;
    curl_off_t last_dl, last_ul;
} ms_http_xfer;

/*
 * Parse and check url (the policy of common/http.h: absolute http(s), at most
 * MS_MAX_HTTP_URL printable characters, no user:password, http:// only to loopback unless
 * allow_plain_http). The same handle goes to libcurl (CURLOPT_CURLU), so what was checked is
 * what it connects to; libcurl copies it per transfer, so one handle may serve many easy
 * handles. MS_ERR_HTTP_URL, MS_ERR_HTTP_INSECURE, MS_ERR_NOMEM. Free with curl_url_cleanup.
 */
MS_MUST_CHECK ms_err ms_http_url_check(const char *url, bool allow_plain_http, CURLU **out);
/* The same check, plain http:// also allowed to a link-local host when link_local is set
   (ms_http_opts.allow_plain_http_link_local). ms_http_url_check is this with it unset. */
MS_MUST_CHECK ms_err ms_http_url_check_plain(const char *url, bool allow_plain_http,
                                             bool link_local, CURLU **out);

/*
 * Request headers: "Authorization: Bearer <token>" when token is not NULL (1..MS_MAX_HTTP_TOKEN
 * printable ASCII, else MS_ERR_ARG), and the JSON content type when json_body. The list is
 * read-only for libcurl and may be shared by concurrent transfers. Free it with
 * ms_http_headers_free, which wipes every line (one holds the token). NULL is allowed there.
 */
MS_MUST_CHECK ms_err ms_http_headers_new(const char *token, bool json_body,
                                         struct curl_slist **out);
void ms_http_headers_free(struct curl_slist *h);

/*
 * Reset k (unless x->handle_reset says it holds no option already) and set every option of
 * a request: URL handle u, headers h (may be NULL), the
 * protocol, redirect, proxy and TLS policy, o's timeouts, CA file, user agent and response
 * cap, the write (and stall) callbacks on x, errbuf, and the method: GET when body is NULL,
 * else POST of body[0..len) (not copied: it must outlive the transfer). o must hold resolved
 * values (no zero defaults left).
 */
MS_MUST_CHECK ms_err ms_http_easy_setup(CURL *k, const ms_http_opts *o, ms_http_xfer *x,
                                        CURLU *u, struct curl_slist *h,
                                        char errbuf[static CURL_ERROR_SIZE], const char *body,
                                        size_t len);

/*
 * After the transfer on k ended with rc (and k is out of any multi handle): the HTTP status
 * (0 if none) into *status, Retry-After in seconds (0 if none, capped at a day) into
 * *retry_after_s, reset k so no option points at the caller's memory any more, and map the
 * outcome to the errors listed in common/http.h (a non-2xx status is MS_OK here). A failure
 * is logged at debug level with libcurl's text, which names hosts and causes, never headers
 * or bodies.
 */
MS_MUST_CHECK ms_err ms_http_easy_finish(CURL *k, CURLcode rc, const ms_http_xfer *x,
                                         const char *errbuf, long *status,
                                         long *retry_after_s);

#endif

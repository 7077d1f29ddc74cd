/* Azure's TD quote service (docs/attest-azure.md §5): request, capped response reader, client. */
#include "secure/attest/az_tdquote.h"

#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/http.h"
#include "common/json.h"
#include "common/limits.h"

#define B64URL_QUOTE_MAX ((MS_TDX_MAX_QUOTE + 2u) / 3u * 4u)

struct ms_az_tdquote {
    ms_http_client *http;
    char *url;
};

ms_err ms_az_tdquote_request(const uint8_t td_report[static MS_AZ_TD_REPORT_LEN], ms_buf *out)
{
    static const char head[] = "{\"report\":\"", tail[] = "\"}";
    size_t start = out->len;
    ms_err err = ms_buf_append(out, head, sizeof head - 1);
    if (err == MS_OK) {
        err = ms_base64url_encode_buf(td_report, MS_AZ_TD_REPORT_LEN, out);
    }
    if (err == MS_OK) {
        err = ms_buf_append(out, tail, sizeof tail - 1);
    }
    if (err != MS_OK && ms_buf_shrink(out, out->len - start) != MS_OK) {
        err = MS_ERR_INTERNAL; /* cannot happen: start <= len */
    }
    return err;
}

/* The quote string: base64url, with at most two '=' tolerated on a whole group. */
static ms_err quote_of(const char *s, size_t n, ms_buf *quote)
{
    size_t pad = 0;
    while (n % 4 == 0 && pad < 2 && n > pad && s[n - 1 - pad] == '=') {
        pad++;
    }
    ENSURE(n - pad >= 2, MS_ERR_AZ_TDQUOTE_RESPONSE);
    size_t start = quote->len;
    ENSURE(ms_base64url_decode_buf(s, n - pad, quote) == MS_OK, MS_ERR_AZ_TDQUOTE_RESPONSE);
    if (quote->len - start > MS_TDX_MAX_QUOTE) {
        TRY(ms_buf_shrink(quote, quote->len - start));
        return MS_ERR_AZ_TDQUOTE_RESPONSE;
    }
    return MS_OK;
}

ms_err ms_az_tdquote_response_parse(const uint8_t *p, size_t len, ms_buf *quote)
{
    ms_err err = MS_OK;
    ms_json_doc *doc = NULL;
    ms_json_val root;
    const char *s = NULL;
    size_t n = 0;
    ENSURE(p != NULL && len >= 1 && len <= MS_AZ_MAX_TDQUOTE_RESPONSE, MS_ERR_AZ_TDQUOTE_RESPONSE);
    ENSURE_OUT(ms_json_parse((const char *)p, len, &doc) == MS_OK, MS_ERR_AZ_TDQUOTE_RESPONSE);
    ENSURE_OUT(ms_json_as_obj(ms_json_root(doc), &root) == MS_OK, MS_ERR_AZ_TDQUOTE_RESPONSE);
    ENSURE_OUT(ms_json_get_str(root, "quote", B64URL_QUOTE_MAX + 2, &s, &n) == MS_OK,
               MS_ERR_AZ_TDQUOTE_RESPONSE);
    err = quote_of(s, n, quote);
out:
    ms_json_free(doc);
    return err;
}

ms_err ms_az_tdquote_new(const char *url, ms_az_tdquote **out)
{
    *out = NULL;
    ENSURE(url != NULL && strnlen(url, MS_MAX_HTTP_URL + 1) <= MS_MAX_HTTP_URL, MS_ERR_ARG);
    ms_http_opts o = {.connect_timeout_ms = MS_AZ_TDQUOTE_CONNECT_MS,
                      .total_timeout_ms = MS_AZ_TDQUOTE_TOTAL_MS,
                      .max_response = MS_AZ_MAX_TDQUOTE_RESPONSE,
                      .allow_plain_http_link_local = true};
    ms_az_tdquote *q = calloc(1, sizeof *q);
    ENSURE(q != NULL, MS_ERR_NOMEM);
    q->url = strdup(url);
    ms_err err = q->url != NULL ? ms_http_client_new(&o, &q->http) : MS_ERR_NOMEM;
    if (err != MS_OK) {
        ms_az_tdquote_free(q);
        return err;
    }
    *out = q;
    return MS_OK;
}

void ms_az_tdquote_free(ms_az_tdquote *q)
{
    if (q == NULL) {
        return;
    }
    ms_http_client_free(q->http);
    free(q->url);
    free(q);
}

ms_err ms_az_tdquote_get(ms_az_tdquote *q, const uint8_t td_report[static MS_AZ_TD_REPORT_LEN],
                         ms_buf *quote)
{
    ms_err err = MS_OK;
    ms_buf req, resp;
    long status = 0;
    ms_buf_init(&req, 2u * MS_AZ_TD_REPORT_LEN);
    ms_buf_init(&resp, MS_AZ_MAX_TDQUOTE_RESPONSE);
    TRY_OUT(ms_az_tdquote_request(td_report, &req));
    TRY_OUT(ms_http_post_json(q->http, q->url, NULL, (const char *)req.p, req.len, &status,
                              &resp));
    ENSURE_OUT(status == 200, MS_ERR_AZ_TDQUOTE_STATUS);
    err = ms_az_tdquote_response_parse(resp.p, resp.len, quote);
out:
    ms_buf_free(&req);
    ms_buf_free(&resp);
    return err;
}

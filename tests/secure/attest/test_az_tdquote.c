/* Azure's TD quote service client (secure/attest/az_tdquote.c): request, response reader, HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/http.h"
#include "secure/attest/az_tdquote.h"
#include "tests/fixture/http_fixture.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

static ms_err parse_text(const char *text, ms_buf *q)
{
    return ms_az_tdquote_response_parse((const uint8_t *)text, strlen(text), q);
}

/* {"quote":"<b64url of p>"<extra>} */
static void response_of(const uint8_t *p, size_t n, const char *extra, ms_buf *out)
{
    ms_buf_clear(out);
    CHECK_OK(ms_buf_append_str(out, "{\"quote\":\""));
    CHECK_OK(ms_base64url_encode_buf(p, n, out));
    CHECK_OK(ms_buf_append_str(out, "\""));
    CHECK_OK(ms_buf_append_str(out, extra));
    CHECK_OK(ms_buf_append_str(out, "}"));
}

static void test_request(void)
{
    uint8_t td[MS_AZ_TD_REPORT_LEN];
    ms_buf req, dec;
    for (size_t i = 0; i < sizeof td; i++) {
        td[i] = (uint8_t)(i * 7 + 0xfb); /* '+' and '/' in base64, '-' and '_' in base64url */
    }
    ms_buf_init(&req, 4096);
    ms_buf_init(&dec, 4096);
    CHECK_OK(ms_az_tdquote_request(td, &req));
    CHECK(req.len == 11 + 1366 + 2); /* {"report":" + 1024 bytes unpadded + "} */
    CHECK(memcmp(req.p, "{\"report\":\"", 11) == 0 && memcmp(req.p + req.len - 2, "\"}", 2) == 0);
    CHECK(memchr(req.p, '+', req.len) == NULL && memchr(req.p, '/', req.len) == NULL &&
          memchr(req.p, '=', req.len) == NULL);
    CHECK_OK(ms_base64url_decode_buf((const char *)req.p + 11, req.len - 13, &dec));
    CHECK(dec.len == sizeof td && memcmp(dec.p, td, sizeof td) == 0);
    ms_buf_free(&req);
    ms_buf_free(&dec);
}

static void test_parse(void)
{
    tdx_fx_chain c;
    tdx_fx_pck_opts po;
    tdx_fx_quote_opts qo;
    tdx_fx_layout l;
    ms_buf quote, text, q;
    tdx_fx_pck_opts_default(&po);
    tdx_fx_quote_opts_default(&qo);
    CHECK(tdx_fx_chain_make(&c, &po));
    CHECK(tdx_fx_quote_make(&quote, &c, &qo, &l));
    ms_buf_init(&text, MS_AZ_MAX_TDQUOTE_RESPONSE + 16);
    ms_buf_init(&q, MS_TDX_MAX_QUOTE);
    /* a whole quote round-trips; other members are ignored */
    response_of(quote.p, quote.len, ",\"other\":[1,{\"x\":null}]", &text);
    CHECK_OK(ms_az_tdquote_response_parse(text.p, text.len, &q));
    CHECK(q.len == quote.len && memcmp(q.p, quote.p, q.len) == 0);
    /* padding tolerated on a whole group: 1 and 2 '=' */
    ms_buf_clear(&q);
    CHECK_OK(parse_text("{\"quote\":\"AAE=\"}", &q));
    CHECK(q.len == 2 && q.p[0] == 0 && q.p[1] == 1);
    ms_buf_clear(&q);
    CHECK_OK(parse_text("{\"quote\":\"AA==\"}", &q));
    CHECK(q.len == 1);
    ms_buf_clear(&q);
    CHECK_OK(parse_text("{\"quote\":\"-_8\"}", &q));
    CHECK(q.len == 2 && q.p[0] == 0xfb && q.p[1] == 0xff);
    /* refused, each MS_ERR_AZ_TDQUOTE_RESPONSE, nothing appended */
    static const char *const bad[] = {
        "",                                   /* empty */
        "not json",                           /* not JSON */
        "[\"AAEC\"]",                         /* not an object */
        "{}",                                 /* no quote */
        "{\"Quote\":\"AAEC\"}",               /* names are case-sensitive */
        "{\"quote\":1234}",                   /* not a string */
        "{\"quote\":null}",
        "{\"quote\":\"\"}",                   /* empty */
        "{\"quote\":\"A\"}",                  /* 1 mod 4 */
        "{\"quote\":\"AAEC+/\"}",             /* base64's alphabet */
        "{\"quote\":\"AA=E\"}",               /* '=' inside */
        "{\"quote\":\"AA\\u003dE\"}",         /* the same, escaped */
        "{\"quote\":\"AA===\"}",              /* three '=' */
        "{\"quote\":\"AAF\"}",                /* non-zero unused bits */
        "{\"quote\":\"AA EC\"}",              /* whitespace */
        "{\"quote\":\"AAEC\",\"quote\":\"AAEC\"}", /* duplicate key */
        "{\"quote\":\"AAEC\"} x",             /* trailing bytes */
        "{\"quote\":\"AAEC\"",                /* cut */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms_buf_clear(&q);
        ms_err e = parse_text(bad[i], &q);
        CHECK(e == MS_ERR_AZ_TDQUOTE_RESPONSE && q.len == 0);
        if (e != MS_ERR_AZ_TDQUOTE_RESPONSE) {
            fprintf(stderr, "  accepted or wrong error for %s: %s\n", bad[i], ms_err_str(e));
        }
    }
    CHECK_ERR(ms_az_tdquote_response_parse(NULL, 0, &q), MS_ERR_AZ_TDQUOTE_RESPONSE);
    /* a quote over MS_TDX_MAX_QUOTE bytes, and a response over its cap */
    uint8_t *big = calloc(1, MS_TDX_MAX_QUOTE + 1);
    CHECK(big != NULL);
    response_of(big, MS_TDX_MAX_QUOTE, "", &text);
    ms_buf_clear(&q);
    CHECK_OK(ms_az_tdquote_response_parse(text.p, text.len, &q));
    response_of(big, MS_TDX_MAX_QUOTE + 1, "", &text);
    ms_buf_clear(&q);
    CHECK_ERR(ms_az_tdquote_response_parse(text.p, text.len, &q), MS_ERR_AZ_TDQUOTE_RESPONSE);
    CHECK(q.len == 0);
    /* the same into a buffer that could hold it: the reader's own cap refuses, not the buffer's,
       and takes back what it decoded */
    ms_buf wide;
    ms_buf_init(&wide, 2u * MS_TDX_MAX_QUOTE);
    CHECK_OK(ms_buf_append_str(&wide, "kept"));
    CHECK_ERR(ms_az_tdquote_response_parse(text.p, text.len, &wide), MS_ERR_AZ_TDQUOTE_RESPONSE);
    CHECK(wide.len == 4 && memcmp(wide.p, "kept", 4) == 0);
    ms_buf_free(&wide);
    response_of(big, 3, "", &text);
    while (text.len < MS_AZ_MAX_TDQUOTE_RESPONSE) {
        CHECK_OK(ms_buf_append_str(&text, " "));
    }
    ms_buf_clear(&q);
    CHECK_OK(ms_az_tdquote_response_parse(text.p, text.len, &q)); /* exactly the cap */
    CHECK_OK(ms_buf_append_str(&text, " "));
    CHECK_ERR(ms_az_tdquote_response_parse(text.p, text.len, &q), MS_ERR_AZ_TDQUOTE_RESPONSE);
    /* every truncation of a good response is refused */
    response_of(quote.p, 40, "", &text);
    for (size_t n = 0; n < text.len; n++) {
        ms_buf_clear(&q);
        if (ms_az_tdquote_response_parse(text.p, n, &q) != MS_ERR_AZ_TDQUOTE_RESPONSE) {
            CHECK(!"a truncated response was accepted");
        }
    }
    free(big);
    ms_buf_free(&text);
    ms_buf_free(&q);
    ms_buf_free(&quote);
    tdx_fx_chain_free(&c);
}

/* The client against the fixture's HTTP server: answers, statuses, garbage, down. */
static void test_get(void)
{
    static const char good[] = "{\"quote\":\"AAECAw\"}";
    char *big = malloc(MS_AZ_MAX_TDQUOTE_RESPONSE + 2);
    CHECK(big != NULL);
    memset(big, ' ', MS_AZ_MAX_TDQUOTE_RESPONSE + 1);
    big[MS_AZ_MAX_TDQUOTE_RESPONSE + 1] = '\0';
    const fx_route routes[] = {
        {.path = "/acc/tdquote", .body = good},
        {.path = "/e500/acc/tdquote", .status = 500, .body = good},
        {.path = "/html/acc/tdquote", .content_type = "text/html", .body = "<html>no</html>"},
        {.path = "/big/acc/tdquote", .body = big},
    };
    uint8_t td[MS_AZ_TD_REPORT_LEN] = {0x81};
    char url[128], body[4096];
    ms_buf q, want;
    ms_az_tdquote *c = NULL;
    fx_server *s = fx_start(routes, sizeof routes / sizeof routes[0]);
    CHECK(s != NULL);
    if (s == NULL) {
        free(big);
        return;
    }
    ms_buf_init(&q, MS_TDX_MAX_QUOTE);
    ms_buf_init(&want, 4096);
    static const struct {
        const char *prefix;
        ms_err want;
    } cases[] = {
        {"", MS_OK},
        {"/e500", MS_ERR_AZ_TDQUOTE_STATUS},
        {"/html", MS_ERR_AZ_TDQUOTE_RESPONSE},
        {"/big", MS_ERR_HTTP_BODY},
        {"/none", MS_ERR_AZ_TDQUOTE_STATUS}, /* 404 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%u%s/acc/tdquote", fx_port(s), cases[i].prefix);
        CHECK_OK(ms_az_tdquote_new(url, &c));
        ms_buf_clear(&q);
        CHECK_ERR(ms_az_tdquote_get(c, td, &q), cases[i].want);
        CHECK(cases[i].want != MS_OK || (q.len == 4 && q.p[3] == 3));
        CHECK(cases[i].want == MS_OK || q.len == 0);
        ms_az_tdquote_free(c);
    }
    /* the request the service saw: {"report": base64url(TD report)} */
    fx_last_body(s, "/acc/tdquote", body, sizeof body);
    CHECK_OK(ms_az_tdquote_request(td, &want));
    CHECK(strlen(body) == want.len && memcmp(body, want.p, want.len) == 0);
    /* down: nothing listens */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/acc/tdquote", fx_closed_port());
    CHECK_OK(ms_az_tdquote_new(url, &c));
    CHECK_ERR(ms_az_tdquote_get(c, td, &q), MS_ERR_HTTP_CONNECT);
    ms_az_tdquote_free(c);
    /* the URL policy: plain http to a routable host is refused before any traffic */
    CHECK_OK(ms_az_tdquote_new("http://10.1.2.3/acc/tdquote", &c));
    CHECK_ERR(ms_az_tdquote_get(c, td, &q), MS_ERR_HTTP_INSECURE);
    ms_az_tdquote_free(c);
    CHECK_OK(ms_az_tdquote_new("ftp://127.0.0.1/acc/tdquote", &c));
    CHECK_ERR(ms_az_tdquote_get(c, td, &q), MS_ERR_HTTP_URL);
    ms_az_tdquote_free(c);
    CHECK_ERR(ms_az_tdquote_new(NULL, &c), MS_ERR_ARG);
    fx_stop(s);
    ms_buf_free(&q);
    ms_buf_free(&want);
    free(big);
}

int main(void)
{
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    RUN(test_request);
    RUN(test_parse);
    RUN(test_get);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

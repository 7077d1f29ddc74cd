/* Tests for the one loopback check (common/http_url.c) that engines and the client link share. */
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "common/http.h"
#include "common/http_internal.h"
#include "tests/test.h"

struct want {
    const char *s;
    bool loopback;
};

static void test_host(void)
{
    static const struct want cases[] = {
        {"127.0.0.1", true},
        {"127.255.255.254", true},
        {"localhost", true},
        {"LOCALHOST", true},
        {"LocalHost", true},
        {"[::1]", true},
        {"[0:0:0:0:0:0:0:1]", true},
        {"[::ffff:127.0.0.1]", true},
        {"[::ffff:7f00:1]", true},
        {"[0000:0000:0000:0000:0000:0000:0000:0001]", true},
        {"[::FFFF:127.0.0.1]", true},
        {"[::FFFF:7F00:1]", true},
        /* negative: only what libcurl's parser hands over in canonical form */
        {"127.0.0.1.evil", false},
        {"128.0.0.1", false},
        {"126.255.255.255", false},
        {"localhost.", false},
        {"localhost.evil", false},
        {"evil.localhost", false},
        {"::1", false}, /* IPv6 only in brackets, as libcurl returns it */
        {"[::2]", false},
        {"[::]", false},
        {"[::ffff:10.0.0.1]", false},
        {"[::127.0.0.1]", false}, /* IPv4-compatible, not mapped */
        {"0x7f000001", false},    /* numeric forms: libcurl's URL API normalises them first */
        {"2130706433", false},
        {"127.1", false},
        {"0177.0.0.1", false},
        {"[::1]x", false},
        {"[]", false},
        {"[", false},
        {"", false},
        {"127.0.0.1 ", false},
        /* ports, userinfo, trailing dots and broken brackets are never part of a host */
        {"127.0.0.1:80", false},
        {"[::1]:80", false},
        {"127.0.0.1.", false},
        {"[::1].", false},
        {"evil@127.0.0.1", false},
        {"[evil@::1]", false},
        {"[::1", false},
        {"::1]", false},
        {"[[::1]]", false},
        {"[127.0.0.1]", false},
        {"[::1%lo]", false},
        {"[0000:0000:0000:0000:0000:0000:0000:0000:0001]", false}, /* longer than any IPv6 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (ms_http_host_is_loopback(cases[i].s) != cases[i].loopback) {
            CHECK(!"host check");
            fprintf(stderr, "  host \"%s\"\n", cases[i].s);
        } else {
            CHECK(1);
        }
    }
    CHECK(!ms_http_host_is_loopback(NULL));
}

static void test_url(void)
{
    static const struct want cases[] = {
        {"http://127.0.0.1/", true},
        {"http://127.0.0.1:8000/v1", true},
        {"https://localhost/", true},
        {"http://LOCALHOST:1/", true},
        {"HTTP://127.0.0.1/", true},
        {"http://[::1]:8000/", true},
        {"http://[::ffff:127.0.0.1]/", true},
        {"http://[::FFFF:127.0.0.1]:1/", true},
        {"http://[0:0:0:0:0:0:0:1]/", true},
        /* libcurl connects to these as 127.0.0.1, so they are loopback */
        {"http://0x7f000001/", true},
        {"http://2130706433/", true},
        {"http://127.1/", true},
        {"http://0177.0.0.1/", true},
        {"http://%31%32%37.0.0.1/", true},
        /* the host is loopback; userinfo is refused by the URL policies, not by this check */
        {"http://evil@127.0.0.1/", true},
        /* negative */
        {"http://localhost./", false},
        {"http://127.0.0.1./", false},
        {"http://127.0.0.1.:80/", false},
        {"http://127.0.0.1.evil/", false},
        {"http://127.0.0.1.example.net/", false},
        {"http://127.0.0.1@evil/", false},
        {"http://127.0.0.1:80@evil/", false},
        {"http://127.0.0.1\\@evil/", false},
        {"http://evil.example?@127.0.0.1/", false},
        {"http://evil.example#@127.0.0.1/", false},
        {"http://127.0.0.1%2eevil/", false},
        {"http://localhost%00.evil/", false},
        {"http://[::2]/", false},
        {"http://10.0.0.1/", false},
        {"ftp://127.0.0.1/", false},
        {"file:///etc/passwd", false},
        {"127.0.0.1", false},
        {"//127.0.0.1/", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (ms_http_url_is_loopback(cases[i].s) != cases[i].loopback) {
            CHECK(!"url check");
            fprintf(stderr, "  url \"%s\"\n", cases[i].s);
        } else {
            CHECK(1);
        }
    }
    CHECK(!ms_http_url_is_loopback(NULL));
}

/* The link-local allowance (Azure's TDX quote service at 169.254.169.254). */
static void test_link_local(void)
{
    static const struct want hosts[] = {
        {"169.254.169.254", true},
        {"169.254.0.0", true},
        {"169.254.255.255", true},
        {"[fe80::1]", true},
        {"[febf::1]", true},
        {"[FE80::1]", true},
        {"[FEBF:0:0:0:0:0:0:1]", true},
        {"[fe80:0000:0000:0000:0000:0000:0000:abcd]", true},
        {"169.253.255.255", false},
        {"169.255.0.1", false},
        {"10.0.0.1", false},
        {"127.0.0.1", false},
        {"[fec0::1]", false},
        {"[::ffff:169.254.169.254]", false},
        {"fe80::1", false},
        {"metadata.azure.internal", false},
        {"[fc00::1]", false},
        {"[::169.254.169.254]", false},
        {"[169.254.169.254]", false},
        {"169.254.169.254:80", false},
        {"[fe80::1]:80", false},
        {"169.254.169.254.", false},
        {"[fe80::1].", false},
        {"u@169.254.169.254", false},
        {"[fe80::1%eth0]", false},
        {"[fe80::1", false},
        {"fe80::1]", false},
        {"localhost", false},
        {"[0000:0000:0000:0000:0000:0000:0000:0000:fe80]", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        if (ms_http_host_is_link_local(hosts[i].s) != hosts[i].loopback) {
            CHECK(!"link-local check");
            fprintf(stderr, "  host \"%s\"\n", hosts[i].s);
        } else {
            CHECK(1);
        }
    }
    CHECK(!ms_http_host_is_link_local(NULL));
    static const struct {
        const char *url;
        bool link_local;
        ms_err want;
    } urls[] = {
        {"http://169.254.169.254/acc/tdquote", true, MS_OK},
        {"http://169.254.169.254/acc/tdquote", false, MS_ERR_HTTP_INSECURE},
        {"http://[fe80::1]/acc/tdquote", true, MS_OK},
        {"http://[FE80::1]:8080/acc/tdquote", true, MS_OK},
        {"HTTP://169.254.169.254:80/acc/tdquote", true, MS_OK},
        {"http://[fe80::1]/acc/tdquote", false, MS_ERR_HTTP_INSECURE},
        {"http://169.254.169.254./acc/tdquote", true, MS_ERR_HTTP_INSECURE},
        {"http://[fec0::1]/acc/tdquote", true, MS_ERR_HTTP_INSECURE},
        {"http://[::ffff:169.254.169.254]/", true, MS_ERR_HTTP_INSECURE},
        {"http://u@169.254.169.254/", true, MS_ERR_HTTP_URL},
        {"http://[fe80::1]@evil/", true, MS_ERR_HTTP_URL},
        {"http://169.254.169.254@evil/", true, MS_ERR_HTTP_URL},
        {"https://169.254.169.254/acc/tdquote", false, MS_OK},
        {"http://10.0.0.1/acc/tdquote", true, MS_ERR_HTTP_INSECURE},
        {"http://169.254.169.254.evil/acc/tdquote", true, MS_ERR_HTTP_INSECURE},
        {"http://127.0.0.1:9/acc/tdquote", false, MS_OK},
        {"https://example.net/acc/tdquote", false, MS_OK},
        {"http://u:p@169.254.169.254/", true, MS_ERR_HTTP_URL},
        {"ftp://169.254.169.254/", true, MS_ERR_HTTP_URL},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        CURLU *u = NULL;
        ms_err e = ms_http_url_check_plain(urls[i].url, false, urls[i].link_local, &u);
        curl_url_cleanup(u);
        if (e != urls[i].want) {
            CHECK(!"url check with link-local");
            fprintf(stderr, "  url \"%s\": %s\n", urls[i].url, ms_err_str(e));
        } else {
            CHECK(1);
        }
    }
}

int main(void)
{
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    RUN(test_host);
    RUN(test_url);
    RUN(test_link_local);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

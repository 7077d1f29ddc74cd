/* Tests for the one loopback check (common/http_url.c) that engines and the client link share. */
#include <stdbool.h>
#include <stddef.h>

#include "common/http.h"
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

int main(void)
{
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    RUN(test_host);
    RUN(test_url);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

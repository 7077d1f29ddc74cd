/* Tests for common/listen.c's Content-Length check, the one both servers run before a body,
   and its --listen address reader. */
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "common/listen.h"
#include "tests/test.h"

static void test_content_length_absent(void)
{
    size_t n = 99;
    CHECK_OK(ms_listen_content_length(NULL, 10, &n));
    CHECK(n == 0);
    CHECK_OK(ms_listen_content_length(NULL, 0, &n));
    CHECK(n == 0);
}

static void test_content_length_within_cap(void)
{
    size_t n = 99;
    CHECK_OK(ms_listen_content_length("0", 10, &n));
    CHECK(n == 0);
    CHECK_OK(ms_listen_content_length("9", 10, &n));
    CHECK(n == 9);
    CHECK_OK(ms_listen_content_length("10", 10, &n)); /* exactly the cap */
    CHECK(n == 10);
    CHECK_OK(ms_listen_content_length("0", 0, &n));
    CHECK(n == 0);
    CHECK_OK(ms_listen_content_length("0010", 10, &n)); /* leading zeros: still 1*DIGIT */
    CHECK(n == 10);
    CHECK_OK(ms_listen_content_length("000000000000000000000000000000", 0, &n));
    CHECK(n == 0);
}

static void test_content_length_refused(void)
{
    static const char *bad[] = {
        "11",                      /* one over the cap */
        "",                        /* no digits */
        "abc",                     /* not a number */
        "10x",                     /* trailing bytes */
        "1 ",                      /* trailing space */
        "99999999999999999999999", /* past unsigned long long */
        "-1",                      /* a sign */
        "-0",                      /* a sign, even on zero */
        "+5",                      /* a sign */
        " 5",                      /* leading space */
        "\t5",                     /* leading tab */
        "-18446744073709551606",   /* strtoull wraps this to 10: must not be taken as 10 */
        "0011",                    /* over the cap behind leading zeros */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 99;
        CHECK_ERR(ms_listen_content_length(bad[i], 10, &n), MS_ERR_CAP_EXCEEDED);
        CHECK(n == 0);
    }
    size_t n = 99;
    char big[32];
    snprintf(big, sizeof big, "%zu", (size_t)SIZE_MAX);
    CHECK_ERR(ms_listen_content_length(big, SIZE_MAX - 1, &n), MS_ERR_CAP_EXCEEDED);
    CHECK_OK(ms_listen_content_length(big, SIZE_MAX, &n));
    CHECK(n == SIZE_MAX);
    n = 99; /* the widest cap takes no sign, nor a number past SIZE_MAX */
    CHECK_ERR(ms_listen_content_length("-1", SIZE_MAX, &n), MS_ERR_CAP_EXCEEDED);
    CHECK(n == 0);
    n = 99;
    CHECK_ERR(ms_listen_content_length("99999999999999999999999", SIZE_MAX, &n),
              MS_ERR_CAP_EXCEEDED);
    CHECK(n == 0);
}

/* "HOST:PORT": the port is a whole decimal number up to 65535, nothing else. */
static void test_listen_port(void)
{
    struct sockaddr_storage ss;
    unsigned len;
    int is_unix, loop;
    CHECK_OK(ms_listen_parse("127.0.0.1:8443", &ss, &len, &is_unix, &loop));
    CHECK(len == sizeof(struct sockaddr_in) && !is_unix && loop);
    CHECK(ntohs(((struct sockaddr_in *)&ss)->sin_port) == 8443);
    CHECK_OK(ms_listen_parse("[::1]:0", &ss, &len, &is_unix, &loop));
    CHECK(len == sizeof(struct sockaddr_in6) && loop);
    CHECK_OK(ms_listen_parse("10.0.0.1:65535", &ss, &len, &is_unix, &loop));
    CHECK(ntohs(((struct sockaddr_in *)&ss)->sin_port) == 65535 && !loop);
    CHECK_OK(ms_listen_parse("127.0.0.1:008080", &ss, &len, &is_unix, &loop)); /* zeros */
    CHECK(ntohs(((struct sockaddr_in *)&ss)->sin_port) == 8080);
    static const char *const bad[] = {
        "127.0.0.1:+80", "127.0.0.1:-1", "127.0.0.1: 80", "127.0.0.1:80 ", "127.0.0.1:",
        "127.0.0.1:65536", "127.0.0.1:0x50", "[::1]:+443",
        "127.0.0.1:-18446744073709551535", /* strtoul wrapped this to 81 */
        "127.0.0.1:18446744073709551697",  /* past 2^64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ERR(ms_listen_parse(bad[i], &ss, &len, &is_unix, &loop), MS_ERR_CONFIG);
        CHECK(len == 0);
    }
}

int main(void)
{
    RUN(test_content_length_absent);
    RUN(test_content_length_within_cap);
    RUN(test_content_length_refused);
    RUN(test_listen_port);
    return TEST_SUMMARY();
}

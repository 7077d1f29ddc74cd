/* Tests for common/http against an in-process server: URL policy, caps, timeouts, TLS, tokens. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/http.h"
#include "common/http_loop.h"
#include "common/limits.h"
#include "common/log.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char url_buf[512];

static const char *url_of(const fx_server *s, const char *scheme, const char *host,
                          const char *path)
{
    snprintf(url_buf, sizeof url_buf, "%s://%s:%u%s", scheme, host, (unsigned)fx_port(s), path);
    return url_buf;
}

static const char *loop_url(const fx_server *s, const char *path)
{
    return url_of(s, "http", "127.0.0.1", path);
}

static ms_http_client *client(long total_ms, long stall_ms, size_t max_response)
{
    ms_http_opts o = {.connect_timeout_ms = 2000, .total_timeout_ms = total_ms,
                      .stall_timeout_ms = stall_ms, .max_response = max_response};
    ms_http_client *c = NULL;
    CHECK_OK(ms_http_client_new(&o, &c));
    return c;
}

static char big_body[5001];

static const fx_route routes[] = {
    {.path = "/ok", .body = "{\"ok\":true}"},
    {.path = "/teapot", .status = 418, .body = "{\"error\":\"short and stout\"}"},
    {.path = "/big", .body = big_body},
    {.path = "/big-chunked", .body = big_body, .chunk = 700},
    {.path = "/slow", .body = "{}", .delay_ms = 3000},
    {.path = "/stall", .body = "0123456789", .chunk = 5, .chunk_delay_ms = 4000},
    {.path = "/stream", .body = "0123456789abcdefghij", .chunk = 3, .chunk_delay_ms = 20},
    {.path = "/cut", .body = "partial", .chunk = 3, .cut = true},
    {.path = "/busy", .status = 429, .retry_after = "7", .body = "{}"},
    {.path = "/redirect", .status = 302, .location = "/ok", .body = ""},
    {.path = "/auth", .body = "{}"},
};

static fx_server *srv;

static void test_url_policy(void)
{
    ms_http_opts o = {.connect_timeout_ms = 20000, .total_timeout_ms = 20000};
    ms_http_client *c = NULL;
    ms_buf b;
    long st = 99;
    ms_buf_init(&b, 1000);
    CHECK_OK(ms_http_client_new(&o, &c));
    /*
     * http:// to a non-loopback host: refused before any network activity (TEST-NET-1). A
     * connection attempt would end in CONNECT or, after 20 s, TIMEOUT.
     */
    double t0 = now_s();
    CHECK_ERR(ms_http_get(c, "http://192.0.2.1:9/x", NULL, &st, &b), MS_ERR_HTTP_INSECURE);
    CHECK_ERR(ms_http_post_json(c, "http://192.0.2.1/", NULL, "{}", 2, &st, &b),
              MS_ERR_HTTP_INSECURE);
    CHECK(now_s() - t0 < 1.0);
    CHECK(st == 0 && b.len == 0);
    CHECK_ERR(ms_http_get(c, "http://10.0.0.1/", NULL, &st, &b), MS_ERR_HTTP_INSECURE);
    CHECK_ERR(ms_http_get(c, "http://example.com/", NULL, &st, &b), MS_ERR_HTTP_INSECURE);
    CHECK_ERR(ms_http_get(c, "http://127.0.0.1.example.com/", NULL, &st, &b),
              MS_ERR_HTTP_INSECURE);
    CHECK_ERR(ms_http_get(c, "http://[::ffff:10.0.0.1]/", NULL, &st, &b), MS_ERR_HTTP_INSECURE);
    CHECK_ERR(ms_http_get(c, "http://0.0.0.0/", NULL, &st, &b), MS_ERR_HTTP_INSECURE);
    /* malformed or other schemes */
    const char *bad[] = {"", "127.0.0.1/x", "ftp://127.0.0.1/", "file:///etc/passwd",
                         "gopher://127.0.0.1/", "http://", "http://127.0.0.1/a b",
                         "http://user:pw@127.0.0.1/", "http://user@127.0.0.1/",
                         "http://127.0.0.1/\r\nX: y", "dict://127.0.0.1/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ERR(ms_http_get(c, bad[i], NULL, &st, &b), MS_ERR_HTTP_URL);
    }
    CHECK_ERR(ms_http_get(c, NULL, NULL, &st, &b), MS_ERR_HTTP_URL);
    char *longu = malloc(MS_MAX_HTTP_URL + 2);
    memcpy(longu, "http://127.0.0.1/", 17);
    memset(longu + 17, 'a', MS_MAX_HTTP_URL + 1 - 17);
    longu[MS_MAX_HTTP_URL + 1] = '\0';
    CHECK_ERR(ms_http_get(c, longu, NULL, &st, &b), MS_ERR_HTTP_URL);
    free(longu);
    /* loopback spellings pass the policy: a closed port then refuses the connection */
    unsigned short closed = fx_closed_port();
    const char *hosts[] = {"127.0.0.1", "127.1.2.3", "localhost", "LocalHost", "[::1]"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char u[128];
        snprintf(u, sizeof u, "http://%s:%u/", hosts[i], (unsigned)closed);
        CHECK_ERR(ms_http_get(c, u, NULL, &st, &b), MS_ERR_HTTP_CONNECT);
    }
    ms_buf_free(&b);
    ms_http_client_free(c);
}

static void test_allow_plain_http(void)
{
    ms_http_opts o = {.connect_timeout_ms = 2000, .allow_plain_http = true};
    ms_http_client *c = NULL;
    ms_buf b;
    long st;
    char u[64];
    ms_buf_init(&b, 1000);
    CHECK_OK(ms_http_client_new(&o, &c));
    /* 0.0.0.0 is not loopback by name; on Linux it reaches this host, where nothing listens */
    snprintf(u, sizeof u, "http://0.0.0.0:%u/", (unsigned)fx_closed_port());
    CHECK_ERR(ms_http_get(c, u, NULL, &st, &b), MS_ERR_HTTP_CONNECT);
    ms_buf_free(&b);
    ms_http_client_free(c);
}

static void test_get_post(void)
{
    ms_http_client *c = client(5000, 0, 0);
    ms_buf b;
    long st = 0;
    ms_buf_init(&b, 1000);
    CHECK_OK(ms_http_get(c, loop_url(srv, "/ok"), NULL, &st, &b));
    CHECK(st == 200 && b.len == 11 && memcmp(b.p, "{\"ok\":true}", 11) == 0);
    ms_buf_clear(&b);
    CHECK_OK(ms_http_post_json(c, loop_url(srv, "/ok"), NULL, "{\"q\":1}", 7, &st, &b));
    CHECK(st == 200 && b.len == 11);
    char seen[64];
    fx_last_body(srv, "/ok", seen, sizeof seen);
    CHECK(strcmp(seen, "{\"q\":1}") == 0);
    /* a non-2xx status is not an error at this layer */
    ms_buf_clear(&b);
    CHECK_OK(ms_http_get(c, loop_url(srv, "/teapot"), NULL, &st, &b));
    CHECK(st == 418 && b.len > 0);
    /* no route: 404 */
    ms_buf_clear(&b);
    CHECK_OK(ms_http_get(c, loop_url(srv, "/nothing"), NULL, &st, &b));
    CHECK(st == 404);
    /* redirects are returned, never followed */
    unsigned before = fx_hits(srv, "/ok");
    CHECK_OK(ms_http_get(c, loop_url(srv, "/redirect"), NULL, &st, &b));
    CHECK(st == 302 && fx_hits(srv, "/ok") == before);
    /* localhost works like 127.0.0.1 */
    ms_buf_clear(&b);
    CHECK_OK(ms_http_get(c, url_of(srv, "http", "localhost", "/ok"), NULL, &st, &b));
    CHECK(st == 200);
    CHECK_ERR(ms_http_post_json(c, loop_url(srv, "/ok"), NULL, NULL, 0, &st, &b), MS_ERR_ARG);
    ms_buf_free(&b);
    ms_http_client_free(c);
}

static void test_keep_alive(void)
{
    fx_server *s = fx_start(routes, sizeof routes / sizeof routes[0]);
    ms_http_client *c = client(5000, 0, 0);
    ms_buf b;
    long st;
    ms_buf_init(&b, 1000);
    for (int i = 0; i < 4; i++) {
        ms_buf_clear(&b);
        CHECK_OK(i % 2 ? ms_http_get(c, loop_url(s, "/ok"), NULL, &st, &b)
                       : ms_http_post_json(c, loop_url(s, "/ok"), "t", "{}", 2, &st, &b));
        CHECK(st == 200);
    }
    CHECK(fx_hits(s, "/ok") == 4);
    CHECK(fx_connections(s) == 1);
    /* The client keeps the last URL's check: another URL is checked anew, refused or not,
       and the kept one is not reused for it. */
    CHECK_ERR(ms_http_get(c, "http://example.com/ok", NULL, &st, &b), MS_ERR_HTTP_INSECURE);
    CHECK(fx_hits(s, "/ok") == 4);
    ms_buf_clear(&b);
    CHECK_OK(ms_http_get(c, loop_url(s, "/teapot"), NULL, &st, &b));
    CHECK(st == 418);
    ms_buf_clear(&b);
    CHECK_OK(ms_http_get(c, loop_url(s, "/ok"), NULL, &st, &b));
    CHECK(st == 200 && fx_hits(s, "/ok") == 5 && fx_connections(s) == 1);
    ms_buf_free(&b);
    ms_http_client_free(c);
    fx_stop(s);
}

static void test_caps(void)
{
    ms_buf b;
    long st;
    ms_buf_init(&b, 100000);
    /* the client's max_response, with and without a Content-Length */
    ms_http_client *c = client(5000, 0, 4999);
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/big"), NULL, &st, &b), MS_ERR_HTTP_BODY);
    CHECK(st == 200);
    ms_buf_clear(&b);
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/big-chunked"), NULL, &st, &b), MS_ERR_HTTP_BODY);
    ms_http_client_free(c);
    c = client(5000, 0, 5000);
    ms_buf_clear(&b);
    CHECK_OK(ms_http_get(c, loop_url(srv, "/big"), NULL, &st, &b));
    CHECK(b.len == 5000);
    ms_buf_clear(&b);
    CHECK_OK(ms_http_get(c, loop_url(srv, "/big-chunked"), NULL, &st, &b));
    CHECK(b.len == 5000);
    ms_http_client_free(c);
    ms_buf_free(&b);
    /* the caller's buffer cap */
    c = client(5000, 0, 0);
    ms_buf_init(&b, 4000);
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/big-chunked"), NULL, &st, &b), MS_ERR_HTTP_BODY);
    ms_buf_free(&b);
    ms_http_client_free(c);
}

static void test_timeouts(void)
{
    ms_buf b;
    long st;
    ms_buf_init(&b, 1000);
    ms_http_client *c = client(300, 0, 0);
    double t0 = now_s();
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/slow"), NULL, &st, &b), MS_ERR_HTTP_TIMEOUT);
    CHECK(now_s() - t0 < 2.0);
    CHECK(st == 0);
    ms_http_client_free(c);
    /* stall: some bytes, then nothing for longer than the stall timeout */
    c = client(0, 300, 0);
    t0 = now_s();
    ms_buf_clear(&b);
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/stall"), NULL, &st, &b), MS_ERR_HTTP_TIMEOUT);
    CHECK(now_s() - t0 < 3.0);
    ms_http_client_free(c);
    /* connection refused */
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/", (unsigned)fx_closed_port());
    c = client(300, 0, 0);
    CHECK_ERR(ms_http_get(c, u, NULL, &st, &b), MS_ERR_HTTP_CONNECT);
    CHECK(st == 0);
    ms_http_client_free(c);
    ms_buf_free(&b);
}

struct sink {
    char got[256];
    size_t len;
    int calls;
    int fail_after;
};

static ms_err on_chunk(void *ctx, const uint8_t *p, size_t n)
{
    struct sink *k = ctx;
    k->calls++;
    if (k->len + n >= sizeof k->got) {
        return MS_ERR_INTERNAL;
    }
    memcpy(k->got + k->len, p, n);
    k->len += n;
    return k->fail_after && k->calls >= k->fail_after ? MS_ERR_STATE : MS_OK;
}

static void test_stream(void)
{
    ms_http_client *c = client(5000, 0, 0);
    struct sink k = {0};
    ms_buf eb;
    long st;
    ms_buf_init(&eb, MS_MAX_HTTP_ERROR_BODY);
    CHECK_OK(ms_http_post_stream(c, loop_url(srv, "/stream"), NULL, "{}", 2, &st, on_chunk, &k,
                                 &eb));
    CHECK(st == 200 && k.len == 20 && memcmp(k.got, "0123456789abcdefghij", 20) == 0);
    CHECK(k.calls >= 2 && eb.len == 0);
    /* the callback's error aborts the transfer and is returned as is */
    memset(&k, 0, sizeof k);
    k.fail_after = 1;
    CHECK_ERR(ms_http_post_stream(c, loop_url(srv, "/stream"), NULL, "{}", 2, &st, on_chunk, &k,
                                  &eb),
              MS_ERR_STATE);
    CHECK(k.calls == 1);
    /* a non-2xx body goes to err_body, not to the callback */
    memset(&k, 0, sizeof k);
    CHECK_OK(ms_http_post_stream(c, loop_url(srv, "/teapot"), NULL, "{}", 2, &st, on_chunk, &k,
                                 &eb));
    CHECK(st == 418 && k.calls == 0 && eb.len == strlen("{\"error\":\"short and stout\"}"));
    ms_buf_free(&eb);
    ms_buf_init(&eb, 10);
    CHECK_ERR(ms_http_post_stream(c, loop_url(srv, "/teapot"), NULL, "{}", 2, &st, on_chunk, &k,
                                  &eb),
              MS_ERR_HTTP_BODY);
    CHECK(st == 418);
    CHECK_OK(ms_http_post_stream(c, loop_url(srv, "/teapot"), NULL, "{}", 2, &st, on_chunk, &k,
                                 NULL));
    /* a response cut before its end */
    memset(&k, 0, sizeof k);
    CHECK_ERR(ms_http_post_stream(c, loop_url(srv, "/cut"), NULL, "{}", 2, &st, on_chunk, &k,
                                  NULL),
              MS_ERR_IO);
    CHECK(st == 200 && k.len == 7);
    CHECK_ERR(ms_http_post_stream(c, loop_url(srv, "/stream"), NULL, "{}", 2, &st, NULL, &k,
                                  NULL),
              MS_ERR_ARG);
    ms_buf_free(&eb);
    ms_http_client_free(c);
}

/* Step a begun stream to its end: the steps taken. */
static unsigned step_to_end(ms_http_client *c)
{
    bool done = false;
    unsigned steps = 0;
    while (!done && steps < 100000) {
        CHECK_OK(ms_http_stream_step(c, 1000, &done));
        steps++;
    }
    CHECK(done);
    return steps;
}

/*
 * The stepped stream (ms_http_stream_begin/step/end): the same bytes, errors and kept-alive
 * connection as ms_http_post_stream, a piece a step when they come apart; one ended before
 * its end is aborted (MS_ERR_IO) and its connection is not reused half-read; the timeouts
 * hold while stepping.
 */
static void test_stream_stepped(void)
{
    fx_server *s = fx_start(routes, sizeof routes / sizeof routes[0]);
    ms_http_client *c = client(5000, 0, 0);
    struct sink k = {0};
    ms_buf eb, b;
    long st;
    bool done = false;
    ms_buf_init(&eb, MS_MAX_HTTP_ERROR_BODY);
    ms_buf_init(&b, 1000);
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/stream"), NULL, "{}", 2, on_chunk, &k, &eb));
    /* one transfer at a time */
    CHECK_ERR(ms_http_post_json(c, loop_url(s, "/ok"), NULL, "{}", 2, &st, &b), MS_ERR_ARG);
    CHECK_ERR(ms_http_stream_begin(c, loop_url(s, "/ok"), NULL, "{}", 2, on_chunk, &k, &eb),
              MS_ERR_ARG);
    CHECK(step_to_end(c) >= 2 && k.calls >= 2);
    CHECK_OK(ms_http_stream_end(c, &st));
    CHECK(st == 200 && k.len == 20 && memcmp(k.got, "0123456789abcdefghij", 20) == 0);
    /* steps that never wait still move it on (a due timer runs without a poll, a ready socket
       is read without one more), to the same bytes on the same connection */
    memset(&k, 0, sizeof k);
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/stream"), NULL, "{}", 2, on_chunk, &k, &eb));
    double t0 = now_s();
    while (!done && now_s() - t0 < 10.0) {
        CHECK_OK(ms_http_stream_step(c, 0, &done));
    }
    CHECK(done);
    CHECK_OK(ms_http_stream_end(c, &st));
    CHECK(st == 200 && k.len == 20 && memcmp(k.got, "0123456789abcdefghij", 20) == 0);
    CHECK(fx_connections(s) == 1);
    done = false;
    /* the connection is kept: a whole request and another stepped one reuse it */
    CHECK_OK(ms_http_post_json(c, loop_url(s, "/ok"), NULL, "{}", 2, &st, &b));
    CHECK(st == 200 && !ms_http_client_idle_closed(c));
    memset(&k, 0, sizeof k);
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/teapot"), NULL, "{}", 2, on_chunk, &k, &eb));
    step_to_end(c);
    CHECK_OK(ms_http_stream_end(c, &st));
    CHECK(st == 418 && k.calls == 0 && eb.len > 0);
    CHECK(fx_connections(s) == 1);
    /* the callback's error ends it, returned as is */
    memset(&k, 0, sizeof k);
    k.fail_after = 1;
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/stream"), NULL, "{}", 2, on_chunk, &k, &eb));
    step_to_end(c);
    CHECK_ERR(ms_http_stream_end(c, &st), MS_ERR_STATE);
    /* cut before its end */
    memset(&k, 0, sizeof k);
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/cut"), NULL, "{}", 2, on_chunk, &k, NULL));
    step_to_end(c);
    CHECK_ERR(ms_http_stream_end(c, &st), MS_ERR_IO);
    CHECK(k.len == 7);
    /* ended mid-answer (the reader went away): aborted, and the next request connects anew */
    memset(&k, 0, sizeof k);
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/stall"), NULL, "{}", 2, on_chunk, &k, NULL));
    while (k.len == 0) {
        CHECK_OK(ms_http_stream_step(c, 1000, &done));
        CHECK(!done);
    }
    unsigned conns = fx_connections(s);
    CHECK_ERR(ms_http_stream_end(c, &st), MS_ERR_IO);
    ms_buf_clear(&b);
    CHECK_OK(ms_http_post_json(c, loop_url(s, "/ok"), NULL, "{}", 2, &st, &b));
    CHECK(st == 200 && fx_connections(s) == conns + 1);
    ms_http_client_free(c);
    /* the total time-out holds while stepping; a client freed mid-stream aborts it */
    c = client(1000, 0, 0);
    memset(&k, 0, sizeof k);
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/stall"), NULL, "{}", 2, on_chunk, &k, NULL));
    step_to_end(c);
    CHECK_ERR(ms_http_stream_end(c, &st), MS_ERR_HTTP_TIMEOUT);
    CHECK_OK(ms_http_stream_begin(c, loop_url(s, "/stall"), NULL, "{}", 2, on_chunk, &k, NULL));
    CHECK_OK(ms_http_stream_step(c, 0, &done));
    ms_http_client_free(c);
    ms_buf_free(&eb);
    ms_buf_free(&b);
    fx_stop(s);
}

static size_t sink_none(char *p, size_t size, size_t nmemb, void *userdata)
{
    (void)p;
    *(size_t *)userdata += size * nmemb;
    return size * nmemb;
}

/*
 * The loop itself (common/http_loop.h), as the client's link drives it: an easy handle set up
 * by its caller runs to its end, twice on one kept-alive connection; one transfer at a time;
 * a refused connection is the easy handle's error; the server's time-out is libcurl's timer.
 */
static void test_loop(void)
{
    fx_server *s = fx_start(routes, sizeof routes / sizeof routes[0]);
    ms_http_loop *l = NULL;
    CURL *k = curl_easy_init();
    CURLcode rc = CURLE_OK;
    size_t got = 0;
    long st = 0;
    CHECK(k != NULL);
    CHECK_ERR(ms_http_loop_new(-1, &l), MS_ERR_ARG);
    CHECK_OK(ms_http_loop_new(1, &l));
    curl_easy_setopt(k, CURLOPT_URL, loop_url(s, "/big"));
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, sink_none);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, &got);
    for (int i = 0; i < 2; i++) {
        curl_socket_t sk = CURL_SOCKET_BAD;
        CHECK_OK(ms_http_loop_perform(l, k, &rc, &sk));
        curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &st);
        CHECK(rc == CURLE_OK && st == 200 && got == (size_t)(i + 1) * (sizeof big_body - 1));
        CHECK(sk != CURL_SOCKET_BAD); /* the kept-alive connection's, noted before the removal */
    }
    CHECK(fx_connections(s) == 1);
    CHECK_OK(ms_http_loop_add(l, k));
    CHECK_ERR(ms_http_loop_add(l, k), MS_ERR_ARG);
    ms_http_loop_remove(l, k, NULL); /* not ended: libcurl closes the connection */
    curl_easy_setopt(k, CURLOPT_URL, loop_url(s, "/slow"));
    curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 300L);
    double t0 = now_s();
    CHECK_OK(ms_http_loop_perform(l, k, &rc, NULL));
    CHECK(rc == CURLE_OPERATION_TIMEDOUT && now_s() - t0 < 2.0);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/", (unsigned)fx_closed_port());
    curl_easy_setopt(k, CURLOPT_URL, u);
    CHECK_OK(ms_http_loop_perform(l, k, &rc, NULL));
    CHECK(rc == CURLE_COULDNT_CONNECT);
    curl_easy_cleanup(k);
    ms_http_loop_free(l);
    fx_stop(s);
}

static void test_retry_after(void)
{
    ms_http_client *c = client(5000, 0, 0);
    ms_buf b;
    long st;
    ms_buf_init(&b, 1000);
    CHECK_OK(ms_http_get(c, loop_url(srv, "/busy"), NULL, &st, &b));
    CHECK(st == 429 && ms_http_retry_after_s(c) == 7);
    CHECK_OK(ms_http_get(c, loop_url(srv, "/ok"), NULL, &st, &b));
    CHECK(ms_http_retry_after_s(c) == 0);
    ms_buf_free(&b);
    ms_http_client_free(c);
}

static struct {
    int lines;
    int leaked;
} logcap;

static void log_sink(void *ctx, ms_log_level lvl, const char *line, size_t len)
{
    (void)ctx;
    (void)lvl;
    (void)len;
    logcap.lines++;
    logcap.leaked |= strstr(line, "s3cr3t-t0ken") != NULL;
}

static void test_token(void)
{
    ms_http_client *c = client(2000, 0, 0);
    ms_buf b;
    long st;
    char auth[128];
    ms_buf_init(&b, 1000);
    CHECK_OK(ms_http_post_json(c, loop_url(srv, "/auth"), "s3cr3t-t0ken", "{}", 2, &st, &b));
    fx_last_auth(srv, "/auth", auth, sizeof auth);
    CHECK(strcmp(auth, "Bearer s3cr3t-t0ken") == 0);
    CHECK_OK(ms_http_post_json(c, loop_url(srv, "/auth"), NULL, "{}", 2, &st, &b));
    fx_last_auth(srv, "/auth", auth, sizeof auth);
    CHECK(auth[0] == '\0');
    /* header injection and empty tokens are refused */
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/auth"), "a\r\nX-Evil: 1", &st, &b), MS_ERR_ARG);
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/auth"), "a b", &st, &b), MS_ERR_ARG);
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/auth"), "", &st, &b), MS_ERR_ARG);
    char *longt = malloc(MS_MAX_HTTP_TOKEN + 2);
    memset(longt, 'k', MS_MAX_HTTP_TOKEN + 1);
    longt[MS_MAX_HTTP_TOKEN + 1] = '\0';
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/auth"), longt, &st, &b), MS_ERR_ARG);
    longt[MS_MAX_HTTP_TOKEN] = '\0';
    CHECK_OK(ms_http_get(c, loop_url(srv, "/auth"), longt, &st, &b));
    free(longt);
    /* failing requests log at DEBUG, never with the token */
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/", (unsigned)fx_closed_port());
    ms_log_set_level(MS_LOG_DEBUG);
    ms_log_set_sink(log_sink, NULL);
    CHECK_ERR(ms_http_get(c, u, "s3cr3t-t0ken", &st, &b), MS_ERR_HTTP_CONNECT);
    CHECK_ERR(ms_http_get(c, loop_url(srv, "/slow"), "s3cr3t-t0ken", &st, &b),
              MS_ERR_HTTP_TIMEOUT);
    ms_log_set_sink(NULL, NULL);
    ms_log_set_level(MS_LOG_INFO);
    CHECK(logcap.lines >= 2 && !logcap.leaked);
    ms_buf_free(&b);
    ms_http_client_free(c);
}

static void test_tls(void)
{
    static const fx_route tls_routes[] = {{.path = "/ok", .body = "{}"}};
    fx_server *s = fx_start_tls(tls_routes, 1, MS_SOURCE_DIR "/certs/dev/server.pem",
                                MS_SOURCE_DIR "/certs/dev/server.key");
    if (s == NULL) {
        fprintf(stderr, "  (skipped: libmicrohttpd without TLS or no dev certificates)\n");
        return;
    }
    ms_buf b;
    long st;
    ms_buf_init(&b, 1000);
    ms_http_opts o = {.total_timeout_ms = 5000, .ca_file = MS_SOURCE_DIR "/certs/dev/ca.pem"};
    ms_http_client *c = NULL;
    CHECK_OK(ms_http_client_new(&o, &c));
    CHECK_OK(ms_http_get(c, url_of(s, "https", "localhost", "/ok"), NULL, &st, &b));
    CHECK(st == 200);
    CHECK_OK(ms_http_get(c, url_of(s, "https", "127.0.0.1", "/ok"), NULL, &st, &b));
    CHECK(st == 200);
    /* plain http to a TLS server, https to a plain server */
    CHECK_ERR(ms_http_get(c, url_of(srv, "https", "127.0.0.1", "/ok"), NULL, &st, &b),
              MS_ERR_HTTP_TLS);
    ms_http_client_free(c);
    /* a CA that did not sign the server's certificate */
    o.ca_file = MS_SOURCE_DIR "/certs/dev/other/ca.pem";
    CHECK_OK(ms_http_client_new(&o, &c));
    CHECK_ERR(ms_http_get(c, url_of(s, "https", "localhost", "/ok"), NULL, &st, &b),
              MS_ERR_HTTP_TLS);
    ms_http_client_free(c);
    /* a missing CA file */
    o.ca_file = "/nonexistent/ca.pem";
    CHECK_OK(ms_http_client_new(&o, &c));
    CHECK_ERR(ms_http_get(c, url_of(s, "https", "localhost", "/ok"), NULL, &st, &b),
              MS_ERR_HTTP_TLS);
    ms_http_client_free(c);
    ms_buf_free(&b);
    fx_stop(s);
}

static void test_args(void)
{
    ms_http_client *c = (ms_http_client *)1;
    ms_http_opts o = {.connect_timeout_ms = -1};
    CHECK_ERR(ms_http_client_new(&o, &c), MS_ERR_ARG);
    CHECK(c == NULL);
    CHECK_OK(ms_http_client_new(NULL, &c));
    ms_http_client_free(c);
    ms_http_client_free(NULL);
    CHECK_OK(ms_http_global_init());
}

int main(void)
{
    memset(big_body, 'x', sizeof big_body - 1);
    if (ms_http_global_init() != MS_OK) {
        return 1;
    }
    srv = fx_start(routes, sizeof routes / sizeof routes[0]);
    if (srv == NULL) {
        return 1;
    }
    RUN(test_url_policy);
    RUN(test_allow_plain_http);
    RUN(test_get_post);
    RUN(test_keep_alive);
    RUN(test_caps);
    RUN(test_timeouts);
    RUN(test_stream);
    RUN(test_stream_stepped);
    RUN(test_loop);
    RUN(test_retry_after);
    RUN(test_token);
    RUN(test_tls);
    RUN(test_args);
    fx_stop(srv);
    ms_http_global_cleanup();
    return TEST_SUMMARY();
}

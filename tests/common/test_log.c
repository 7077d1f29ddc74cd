/* Tests for logging: redaction, cuts, the restricted formatter, fingerprints, levels, sinks. */
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <wchar.h>

#include "common/limits.h"
#include "common/log.h"
#include "tests/test.h"

/* The last line a capture sink saw, and how many it saw. */
struct capture {
    char line[MS_MAX_LOG_LINE + 1];
    size_t len;
    int count;
    ms_log_level lvl;
    int bad; /* a line that broke the sink contract */
};

static struct capture cap;

static void capture_sink(void *ctx, ms_log_level lvl, const char *line, size_t len)
{
    struct capture *c = ctx;
    c->bad |= len > MS_MAX_LOG_LINE || strlen(line) != len;
    for (size_t i = 0; i < len; i++) {
        c->bad |= line[i] < 0x20 || line[i] > 0x7e;
    }
    memcpy(c->line, line, len < MS_MAX_LOG_LINE ? len : MS_MAX_LOG_LINE);
    c->line[len < MS_MAX_LOG_LINE ? len : MS_MAX_LOG_LINE] = '\0';
    c->len = len;
    c->lvl = lvl;
    c->count++;
}

static void capture_start(void)
{
    memset(&cap, 0, sizeof cap);
    ms_log_set_level(MS_LOG_DEBUG);
    ms_log_set_sink(capture_sink, &cap);
}

static int line_is(const char *want)
{
    if (strcmp(cap.line, want) != 0) {
        fprintf(stderr, "  got:  [%s]\n  want: [%s]\n", cap.line, want);
        return 0;
    }
    return !cap.bad;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_basic_format(void)
{
    capture_start();
    ms_log(MS_LOG_INFO, "comp", "hello %s %d %i %u %x %c %%", "w", -5, 6, 7u, 255u, 'z');
    CHECK(line_is("INFO comp: hello w -5 6 7 ff z %"));
    CHECK(cap.count == 1 && cap.lvl == MS_LOG_INFO);
    ms_log(MS_LOG_WARN, "c", "no args");
    CHECK(line_is("WARN c: no args"));
    ms_log(MS_LOG_ERROR, "c", "%s", "");
    CHECK(line_is("ERROR c: "));
    ms_log(MS_LOG_DEBUG, "c", "%d%d", 1, 2);
    CHECK(line_is("DEBUG c: 12"));
}

static void test_length_modifiers(void)
{
    char want[256];
    capture_start();
    ms_log(MS_LOG_INFO, "c", "%d %d", INT_MIN, INT_MAX);
    snprintf(want, sizeof want, "INFO c: %d %d", INT_MIN, INT_MAX);
    CHECK(line_is(want));
    ms_log(MS_LOG_INFO, "c", "%ld %li %lu %lx", LONG_MIN, LONG_MAX, ULONG_MAX, ULONG_MAX);
    snprintf(want, sizeof want, "INFO c: %ld %li %lu %lx", LONG_MIN, LONG_MAX, ULONG_MAX,
             ULONG_MAX);
    CHECK(line_is(want));
    ms_log(MS_LOG_INFO, "c", "%lld %llu %llx", LLONG_MIN, ULLONG_MAX, 0x1234abcdULL);
    snprintf(want, sizeof want, "INFO c: %lld %llu %llx", LLONG_MIN, ULLONG_MAX, 0x1234abcdULL);
    CHECK(line_is(want));
    ms_log(MS_LOG_INFO, "c", "%zu %zx %zd %zd", SIZE_MAX, (size_t)0, (ssize_t)-1,
           (ssize_t)12);
    snprintf(want, sizeof want, "INFO c: %zu 0 -1 12", SIZE_MAX);
    CHECK(line_is(want));
    ms_log(MS_LOG_INFO, "c", "%u %x %d", 0u, 0u, 0);
    CHECK(line_is("INFO c: 0 0 0"));
}

static void test_binary_strings_redacted(void)
{
    uint8_t key[33];
    randombytes_buf(key, 32);
    key[0] = 0x80; /* at least one byte outside printable ASCII */
    for (size_t i = 1; i < 32; i++) {
        key[i] = key[i] == 0 ? 1 : key[i];
    }
    key[32] = 0;
    capture_start();
    ms_log(MS_LOG_INFO, "c", "key=%s!", (const char *)key);
    CHECK(line_is("INFO c: key=<redacted: 32 bytes non-text>!"));
    ms_log(MS_LOG_INFO, "c", "%s", "tab\there");
    CHECK(line_is("INFO c: <redacted: 8 bytes non-text>"));
    ms_log(MS_LOG_INFO, "c", "%s", "caf\xC3\xA9");
    CHECK(line_is("INFO c: <redacted: 5 bytes non-text>"));
    ms_log(MS_LOG_INFO, "c", "%s|%s", "line\nbreak", "ok");
    CHECK(line_is("INFO c: <redacted: 10 bytes non-text>|ok"));
    ms_log(MS_LOG_INFO, "c", "%s", "\x7f");
    CHECK(line_is("INFO c: <redacted: 1 bytes non-text>"));
    /* The whole argument is checked, not only the part that would be printed. */
    char *tail = repeat('a', 400);
    tail[399] = '\x01';
    ms_log(MS_LOG_INFO, "c", "%s", tail);
    CHECK(line_is("INFO c: <redacted: 400 bytes non-text>"));
    free(tail);
    /* Printable edges pass. */
    ms_log(MS_LOG_INFO, "c", "%s", " ~");
    CHECK(line_is("INFO c:  ~"));
    /* volatile: hide the NULL from the compiler, which would reject it at build time. */
    const char *volatile none = NULL;
    ms_log(MS_LOG_INFO, "c", "%s", none);
    CHECK(line_is("INFO c: (null)"));
    ms_log(MS_LOG_INFO, NULL, "x");
    CHECK(line_is("INFO (null): x"));
    ms_log(MS_LOG_INFO, "bad\x01" "comp", "x");
    CHECK(line_is("INFO <redacted: 8 bytes non-text>: x"));
}

static void test_long_strings_cut(void)
{
    char want[MS_MAX_LOG_LINE + 1];
    capture_start();
    char *at = repeat('a', MS_MAX_LOG_STRING_ARG);
    char *over = repeat('b', MS_MAX_LOG_STRING_ARG + 1);
    char *far = repeat('c', 5000);
    ms_log(MS_LOG_INFO, "c", "%s", at);
    snprintf(want, sizeof want, "INFO c: %s", at);
    CHECK(line_is(want));
    ms_log(MS_LOG_INFO, "c", "%s", over);
    over[MS_MAX_LOG_STRING_ARG] = '\0';
    snprintf(want, sizeof want, "INFO c: %s...(%u bytes)", over, MS_MAX_LOG_STRING_ARG + 1);
    CHECK(line_is(want));
    ms_log(MS_LOG_INFO, "c", "[%s]", far);
    far[MS_MAX_LOG_STRING_ARG] = '\0';
    snprintf(want, sizeof want, "INFO c: [%s...(5000 bytes)]", far);
    CHECK(line_is(want));
    free(at);
    free(over);
    free(far);
}

static void test_line_cap(void)
{
    capture_start();
    /* "INFO c: " is 8 bytes; 3 * 256 + 248 more fill the line exactly. */
    char *a = repeat('a', MS_MAX_LOG_STRING_ARG);
    char *b = repeat('b', MS_MAX_LOG_LINE - 8 - 3 * MS_MAX_LOG_STRING_ARG);
    ms_log(MS_LOG_INFO, "c", "%s%s%s%s", a, a, a, b);
    CHECK(cap.len == MS_MAX_LOG_LINE);
    CHECK(cap.line[MS_MAX_LOG_LINE - 1] == 'b');
    CHECK(strstr(cap.line, "(cut)") == NULL);
    ms_log(MS_LOG_INFO, "c", "%s%s%s%s!", a, a, a, b);
    CHECK(cap.len == MS_MAX_LOG_LINE && !cap.bad);
    CHECK(strcmp(cap.line + MS_MAX_LOG_LINE - 8, "...(cut)") == 0);
    CHECK(strncmp(cap.line, "INFO c: aaaa", 12) == 0);
    ms_log(MS_LOG_INFO, "c", "%s%s%s%s%s%s%s%s%d", a, a, a, a, a, a, a, a, 12345);
    CHECK(cap.len == MS_MAX_LOG_LINE && !cap.bad);
    CHECK(strcmp(cap.line + MS_MAX_LOG_LINE - 8, "...(cut)") == 0);
    free(a);
    free(b);
}

/* Conversions printf knows but this formatter refuses; each ends the line. */
static void test_unsupported_conversions(void)
{
    int n = 0;
    capture_start();
    ms_log(MS_LOG_INFO, "c", "x %p y %d", (void *)&n, 1);
    CHECK(line_is("INFO c: x <bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%5db", 1);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%.3sb", "abcdef");
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%.*sb", 2, "abcdef");
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%fb", 1.0);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%hdb", (short)1);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%jdb", (intmax_t)1);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%-db", 1);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%+db", 1);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%Xb", 1u);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%ob", 1u);
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%lsb", (const wchar_t *)L"w");
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%lcb", (wint_t)'w');
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "%d then %e", 7, 1.0);
    CHECK(line_is("INFO c: 7 then <bad-format>"));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
    ms_log(MS_LOG_INFO, "c", "trailing %");
    CHECK(line_is("INFO c: trailing <bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%zsb", "s");
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%l%b");
    CHECK(line_is("INFO c: a<bad-format>"));
    ms_log(MS_LOG_INFO, "c", "a%lllub", 1ull);
    CHECK(line_is("INFO c: a<bad-format>"));
#pragma GCC diagnostic pop
    ms_log(MS_LOG_INFO, "c", NULL);
    CHECK(line_is("INFO c: <bad-format>"));
}

static void test_control_chars_in_format(void)
{
    capture_start();
    ms_log(MS_LOG_INFO, "c", "a\nb\tc\x1b[31m");
    CHECK(line_is("INFO c: a?b?c?[31m"));
    ms_log(MS_LOG_INFO, "c", "%c%c%c", 7, 'k', 0x80);
    CHECK(line_is("INFO c: ?k?"));
}

static void test_fingerprint(void)
{
    char fp[MS_LOG_FP_LEN], fp2[MS_LOG_FP_LEN];
    uint8_t key[32], h[16];
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)i;
    }
    ms_log_fingerprint(key, sizeof key, fp);
    CHECK(strlen(fp) == MS_LOG_FP_LEN - 1 && strncmp(fp, "fp:", 3) == 0);
    int hex = 1;
    for (size_t i = 3; i < MS_LOG_FP_LEN - 1; i++) {
        hex &= (fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'a' && fp[i] <= 'f');
    }
    CHECK(hex);
    ms_log_fingerprint(key, sizeof key, fp2);
    CHECK(strcmp(fp, fp2) == 0);
    /* It is the first 8 bytes of BLAKE2b-128 of the input. */
    CHECK(crypto_generichash(h, sizeof h, key, sizeof key, NULL, 0) == 0);
    char want[MS_LOG_FP_LEN];
    snprintf(want, sizeof want, "fp:%02x%02x%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3],
             h[4], h[5], h[6], h[7]);
    CHECK(strcmp(fp, want) == 0);
    /* Known answer, so a change of construction cannot pass unnoticed. */
    ms_log_fingerprint(NULL, 0, fp);
    CHECK(strcmp(fp, "fp:cae66941d9efbd40") == 0);
    key[31] ^= 1;
    ms_log_fingerprint(key, sizeof key, fp2);
    CHECK(strcmp(fp2, want) != 0);
    /* And it logs as plain text. */
    capture_start();
    ms_log(MS_LOG_INFO, "c", "key %s", fp2);
    CHECK(strncmp(cap.line, "INFO c: key fp:", 15) == 0 && cap.len == 8 + 4 + 19);
}

static void test_levels(void)
{
    capture_start();
    ms_log_set_level(MS_LOG_INFO);
    CHECK(ms_log_get_level() == MS_LOG_INFO);
    ms_log(MS_LOG_DEBUG, "c", "hidden");
    CHECK(cap.count == 0);
    CHECK(!ms_log_enabled(MS_LOG_DEBUG) && ms_log_enabled(MS_LOG_INFO));
    ms_log(MS_LOG_INFO, "c", "shown");
    CHECK(cap.count == 1);
    ms_log_set_level(MS_LOG_ERROR);
    ms_log(MS_LOG_WARN, "c", "hidden");
    ms_log(MS_LOG_INFO, "c", "hidden");
    CHECK(cap.count == 1);
    ms_log(MS_LOG_ERROR, "c", "err");
    CHECK(cap.count == 2 && line_is("ERROR c: err"));
    /* Out-of-range levels: set is ignored, a message is logged as ERROR. */
    ms_log_set_level((ms_log_level)42);
    CHECK(ms_log_get_level() == MS_LOG_ERROR);
    ms_log((ms_log_level)42, "c", "odd");
    CHECK(cap.count == 3 && line_is("ERROR c: odd") && cap.lvl == MS_LOG_ERROR);
    ms_log_set_level(MS_LOG_DEBUG);
    ms_log(MS_LOG_DEBUG, "c", "dbg");
    CHECK(cap.count == 4 && line_is("DEBUG c: dbg"));
    ms_log_set_level(MS_LOG_INFO);
}

static void test_default_sink_is_stderr(void)
{
    char got[128] = {0};
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    if (tmp == NULL) {
        return;
    }
    fflush(stderr);
    int saved = dup(2);
    CHECK(saved >= 0 && dup2(fileno(tmp), 2) == 2);
    ms_log_set_level(MS_LOG_INFO);
    ms_log_set_sink(NULL, NULL);
    ms_log(MS_LOG_WARN, "net", "peer %s gone (%d)", "p1", 3);
    fflush(stderr);
    CHECK(dup2(saved, 2) == 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(got, 1, sizeof got - 1, tmp);
    fclose(tmp);
    CHECK(n == strlen("WARN net: peer p1 gone (3)\n"));
    CHECK(strcmp(got, "WARN net: peer p1 gone (3)\n") == 0);
}

static void test_sink_swap(void)
{
    struct capture other;
    memset(&other, 0, sizeof other);
    capture_start();
    ms_log(MS_LOG_INFO, "c", "one");
    ms_log_set_sink(capture_sink, &other);
    ms_log(MS_LOG_INFO, "c", "two");
    CHECK(cap.count == 1 && other.count == 1);
    CHECK(strcmp(other.line, "INFO c: two") == 0);
}

struct counter {
    int lines;
    int bad;
};

static void count_sink(void *ctx, ms_log_level lvl, const char *line, size_t len)
{
    struct counter *c = ctx;
    (void)lvl;
    /* Runs under the log lock, so plain increments are safe. */
    c->lines++;
    c->bad |= len != strlen(line) || strncmp(line, "INFO t: thread ", 15) != 0;
}

static void *log_thread(void *arg)
{
    for (int i = 0; i < 500; i++) {
        ms_log(MS_LOG_INFO, "t", "thread %d line %d %s", *(int *)arg, i, "payload");
        if (i % 100 == 0) {
            ms_log_set_level(MS_LOG_INFO);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    struct counter c = {0, 0};
    pthread_t th[4];
    int ids[4] = {0, 1, 2, 3};
    ms_log_set_level(MS_LOG_INFO);
    ms_log_set_sink(count_sink, &c);
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&th[i], NULL, log_thread, &ids[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK(c.lines == 2000 && c.bad == 0);
    ms_log_set_sink(NULL, NULL);
}

/* Library messages: long hex runs (session ids in URLs) cut to the access log's prefix. */
static void test_mask_hex_runs(void)
{
    char a[] = "Failed to send the chunked response body for the request for "
               "'/v1/session/00112233445566778899aabbccddeeff/stream'";
    ms_log_mask_hex_runs(a);
    CHECK(strcmp(a, "Failed to send the chunked response body for the request for "
                    "'/v1/session/00112233.../stream'") == 0);
    char b[] = "short 0123456789abcde ids stay; DEADBEEFdeadbeef0 goes; end";
    ms_log_mask_hex_runs(b); /* 15 digits kept, 17 (mixed case) cut */
    CHECK(strcmp(b, "short 0123456789abcde ids stay; DEADBEEF... goes; end") == 0);
    char c[] = "0123456789abcdef0123456789abcdef";
    ms_log_mask_hex_runs(c); /* the whole string, exactly 16+ digits, at both ends */
    CHECK(strcmp(c, "01234567...") == 0);
    char d[] = "a1b2c3d4e5f60718x9";
    ms_log_mask_hex_runs(d);
    CHECK(strcmp(d, "a1b2c3d4...x9") == 0);
    char e[] = "";
    ms_log_mask_hex_runs(e);
    CHECK(e[0] == '\0');
    ms_log_mask_hex_runs(NULL);
}

static void http_server_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void http_server_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ms_log_http_server(NULL, fmt, ap);
    va_end(ap);
}

/* libmicrohttpd's messages, as both servers log them: WARN "http", one line, ids masked. */
static void test_http_server_log(void)
{
    capture_start();
    http_server_log("Error processing request for '%s' (%d)\nmore",
                    "/v1/session/00112233445566778899aabbccddeeff/request", 7);
    CHECK(cap.count == 1 && cap.lvl == MS_LOG_WARN);
    CHECK(line_is("WARN http: Error processing request for '/v1/session/00112233.../request' (7)"));
    char *big = repeat('z', 2000);
    http_server_log("%s", big);
    CHECK(cap.count == 2 && strstr(cap.line, "...(511 bytes)") != NULL); /* cut to 511 */
    free(big);
    ms_log_set_sink(NULL, NULL);
}

int main(void)
{
    RUN(test_basic_format);
    RUN(test_length_modifiers);
    RUN(test_binary_strings_redacted);
    RUN(test_long_strings_cut);
    RUN(test_line_cap);
    RUN(test_unsupported_conversions);
    RUN(test_control_chars_in_format);
    RUN(test_fingerprint);
    RUN(test_mask_hex_runs);
    RUN(test_http_server_log);
    RUN(test_levels);
    RUN(test_default_sink_is_stderr);
    RUN(test_sink_swap);
    RUN(test_threads);
    ms_log_set_sink(NULL, NULL);
    return TEST_SUMMARY();
}

/*
 * End-to-end tests of minions-secure serve: llm-sim, a real minions-supervisor (dev key,
 * HTTPS) and serve in front of it, spoken to as a local HTTP client would (raw HTTP/1.0 over
 * TCP, so every header is the test's own); with "node", by the unmodified `openai` npm
 * package (tests/node/test_serve_openai.mjs); with "expiry", serve across the expiry of the
 * supervisor's FAST evidence (a supervisor of a test build with MS_TEST_EVIDENCE_S).
 *
 * Usage: test_serve_e2e SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR [c|node|expiry]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/limits.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

static const char SCRIPT[] =
    "{\"rules\": [\n"
    "  {\"contains\": \"alpha\", \"reply\": \"Answer alpha. END more text\"},\n"
    "  {\"contains\": \"cut me\", \"reply\": \"one two three four five six seven eight\","
    " \"stream_fail_after\": 3},\n"
    "  {\"contains\": \"slow one\", \"reply\": \"slow reply\", \"delay_ms\": 1500},\n"
    "  {\"contains\": \"too long\", \"reply\": \"a fragment\", \"finish_reason\": \"length\"},\n"
    "  {\"contains\": \"unicode\", \"reply\": \"caf\\u00e9 \\u65e5\\u672c \\ud83d\\ude00 ok\"}\n"
    "], \"default\": \"I do not know.\"}\n";

static e2e_world W;
static e2e_stack ST;
static e2e_server SRV;
static char KEY[300], AUTH[340], HOST[64];

/* --- a raw HTTP client ------------------------------------------------------------------------ */

typedef struct reply {
    int status;
    ms_buf all; /* head and body, NUL-terminated */
    const char *body;
} reply;

/* Send one request; `headers` are extra header lines ("Name: v\r\n..."), Host is HOST
   unless they give one. The connection, or -1. */
static int http_send(const char *method, const char *path, const char *headers,
                     const char *body)
{
    char head[2048];
    int fd = e2e_tcp_connect(SRV.port);
    if (fd < 0) {
        return -1;
    }
    size_t blen = body ? strlen(body) : 0;
    int has_host = headers && strstr(headers, "Host:") != NULL;
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.0\r\n%s%s%s%sContent-Length: %zu\r\n\r\n",
                     method, path, has_host ? "" : "Host: ", has_host ? "" : HOST,
                     has_host ? "" : "\r\n", headers ? headers : "", blen);
    if (write(fd, head, (size_t)n) != n || (blen && write(fd, body, blen) != (ssize_t)blen)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The whole answer on fd (closed here). Returns the status (0 when there was none). */
static int http_read(int fd, reply *r)
{
    char buf[8192];
    ssize_t got;
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->all, 16u << 20);
    if (fd < 0) {
        return 0;
    }
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        if (ms_buf_append(&r->all, buf, (size_t)got) != MS_OK) {
            break;
        }
    }
    close(fd);
    if (ms_buf_terminate(&r->all) != MS_OK || r->all.len < 12) {
        return 0;
    }
    r->status = (int)strtol((const char *)r->all.p + 9, NULL, 10);
    const char *sep = strstr((const char *)r->all.p, "\r\n\r\n");
    r->body = sep ? sep + 4 : "";
    return r->status;
}

static int http(reply *r, const char *method, const char *path, const char *headers,
                const char *body)
{
    return http_read(http_send(method, path, headers, body), r);
}

static void reply_free(reply *r)
{
    ms_buf_free(&r->all);
}

static int has(const reply *r, const char *s)
{
    return r->all.p && strstr((const char *)r->all.p, s) != NULL;
}

/* The request with the API key. */
static int api(reply *r, const char *method, const char *path, const char *body)
{
    return http(r, method, path, AUTH, body);
}

/* --- the checks -------------------------------------------------------------------------------- */

static void start_checks(void)
{
    test_current_ = "start";
    char key_path[PATH_MAX];
    struct stat st;
    ms_buf text;
    ms_buf_init(&text, 4096);
    e2e_path(key_path, "%s/serve.key", W.dir);
    CHECK(stat(key_path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(e2e_file_read(key_path, &text) == 0 && text.len > 32);
    if (text.len > 32 && text.len < 290) {
        snprintf(KEY, sizeof KEY, "%.*s", (int)text.len - 1, (const char *)text.p);
    }
    snprintf(AUTH, sizeof AUTH, "Authorization: Bearer %s\r\n", KEY);
    snprintf(HOST, sizeof HOST, "127.0.0.1:%u", SRV.port);
    /* it said what it verified, and never the key */
    CHECK(e2e_file_contains(SRV.out, "verified: dev-key evidence"));
    CHECK(e2e_file_contains(SRV.out, "DEVELOPMENT MODE"));
    CHECK(e2e_file_contains(SRV.out, "/login?code=ms-"));
    CHECK(!e2e_file_contains(SRV.out, KEY));
    ms_buf_free(&text);
}

static void access_checks(void)
{
    reply r;
    test_current_ = "access";
    CHECK(http(&r, "GET", "/v1/models", NULL, NULL) == 401);
    CHECK(has(&r, "\"code\":\"missing_api_key\"") && has(&r, "\"type\":\"invalid_request_error\""));
    reply_free(&r);
    CHECK(http(&r, "GET", "/v1/models", "Authorization: Bearer ms-wrong-token-of-some-length-0000\r\n",
               NULL) == 401);
    CHECK(has(&r, "\"code\":\"invalid_api_key\""));
    reply_free(&r);
    CHECK(api(&r, "GET", "/v1/models", NULL) == 200);
    CHECK(has(&r, "\"object\":\"list\"") && has(&r, "\"id\":\"minions-secure\""));
    reply_free(&r);
    /* DNS rebinding: a name that resolves to us is still not our name */
    char hdr[512];
    snprintf(hdr, sizeof hdr, "Host: attacker.example:%u\r\n%s", SRV.port, AUTH);
    CHECK(http(&r, "GET", "/v1/models", hdr, NULL) == 403);
    CHECK(has(&r, "\"code\":\"host_not_allowed\""));
    reply_free(&r);
    CHECK(http(&r, "GET", "/", "Host: attacker.example\r\n", NULL) == 403);
    reply_free(&r);
    snprintf(hdr, sizeof hdr, "Host: localhost:%u\r\n%s", SRV.port, AUTH);
    CHECK(http(&r, "GET", "/v1/models", hdr, NULL) == 200);
    reply_free(&r);
    /* a page of another origin, even one holding the key */
    snprintf(hdr, sizeof hdr, "Origin: http://attacker.example\r\n%s", AUTH);
    CHECK(http(&r, "POST", "/v1/chat/completions", hdr,
               "{\"messages\":[{\"role\":\"user\",\"content\":\"alpha\"}]}") == 403);
    CHECK(has(&r, "\"code\":\"origin_not_allowed\""));
    reply_free(&r);
    CHECK(http(&r, "GET", "/v1/models", "Origin: null\r\n", NULL) == 403);
    reply_free(&r);
    /* routes and methods */
    CHECK(api(&r, "GET", "/v1/nothing", NULL) == 404);
    CHECK(has(&r, "\"type\":\"not_found_error\""));
    reply_free(&r);
    CHECK(api(&r, "GET", "/v1/chat/completions", NULL) == 405);
    CHECK(has(&r, "Allow: POST"));
    reply_free(&r);
}

static void body_checks(void)
{
    reply r;
    char hdr[512];
    test_current_ = "bodies";
    /* declared too large: refused before a byte is read */
    snprintf(hdr, sizeof hdr, "%sContent-Length: %u\r\n", AUTH, MS_GW_MAX_CHAT_BODY + 1);
    int fd = e2e_tcp_connect(SRV.port);
    CHECK(fd >= 0);
    if (fd >= 0) {
        char req[1024], buf[4096];
        int n = snprintf(req, sizeof req,
                         "POST /v1/chat/completions HTTP/1.0\r\nHost: %s\r\n%s"
                         "Content-Length: %u\r\n\r\n{",
                         HOST, AUTH, MS_GW_MAX_CHAT_BODY + 1);
        CHECK(write(fd, req, (size_t)n) == n);
        ssize_t got = read(fd, buf, sizeof buf - 1);
        buf[got > 0 ? got : 0] = 0;
        CHECK(strncmp(buf, "HTTP/1.0 413", 12) == 0 || strncmp(buf, "HTTP/1.1 413", 12) == 0);
        CHECK(strstr(buf, "request_too_large") != NULL);
        close(fd);
    }
    /* a body that fits the HTTP cap but not one record of the channel */
    size_t big = MS_MAX_RECORD_PLAINTEXT + 1000;
    char *body = malloc(big + 100);
    CHECK(body != NULL);
    if (body) {
        int k = snprintf(body, 100, "{\"messages\":[{\"role\":\"user\",\"content\":\"");
        memset(body + k, 'x', big);
        memcpy(body + k + big, "\"}]}", 5);
        CHECK(api(&r, "POST", "/v1/chat/completions", body) == 413);
        CHECK(has(&r, "\"code\":\"request_too_large\""));
        reply_free(&r);
        free(body);
    }
    CHECK(api(&r, "POST", "/v1/chat/completions", "{\"messages\": [") == 400);
    CHECK(has(&r, "\"code\":\"invalid_json\""));
    reply_free(&r);
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[]}") == 400);
    CHECK(has(&r, "\"param\":\"tools\""));
    reply_free(&r);
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}") == 400);
    CHECK(has(&r, "\"param\":\"temperature\""));
    reply_free(&r);
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
              "\"image_url\":{\"url\":\"https://example.com/a.png\"}}]}]}") == 400);
    CHECK(has(&r, "\"param\":\"messages\""));
    reply_free(&r);
}

static void chat_checks(void)
{
    reply r;
    test_current_ = "chat";
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"model\":\"m1\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
              "{\"role\":\"user\",\"content\":\"alpha\"}],\"max_tokens\":50,"
              "\"temperature\":0.5}") == 200);
    CHECK(has(&r, "\"object\":\"chat.completion\"") && has(&r, "\"model\":\"m1\""));
    CHECK(has(&r, "\"content\":\"Answer alpha. END more text\""));
    CHECK(has(&r, "\"finish_reason\":\"stop\"") && has(&r, "\"total_tokens\":"));
    reply_free(&r);
    CHECK(e2e_file_contains(ST.sim.log, "\"max_tokens\":50"));
    /* stop: the text ends where the sequence starts */
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"alpha\"}],\"stop\":\" END\"}") == 200);
    CHECK(has(&r, "\"content\":\"Answer alpha.\"") && has(&r, "\"finish_reason\":\"stop\""));
    reply_free(&r);
    /* the model's token limit: passed through as OpenAI says it */
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"too long\"}]}") == 200);
    CHECK(has(&r, "\"finish_reason\":\"length\""));
    reply_free(&r);
    /* an image part goes through the channel to the engine */
    char b64[256], body[1024];
    size_t n;
    CHECK(ms_base64_encode(e2e_png_1x1, e2e_png_1x1_len, b64, sizeof b64, &n) == MS_OK);
    snprintf(body, sizeof body,
             "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
             "\"what is this\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
             "\"data:image/png;base64,%s\",\"detail\":\"low\"}}]}]}",
             b64);
    CHECK(api(&r, "POST", "/v1/chat/completions", body) == 200);
    reply_free(&r);
    CHECK(e2e_file_contains(ST.sim.log, b64));
}

static void stream_checks(void)
{
    reply r;
    test_current_ = "stream";
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":"
              "[{\"role\":\"user\",\"content\":\"unicode\"}]}") == 200);
    CHECK(has(&r, "Content-Type: text/event-stream"));
    CHECK(has(&r, "\"object\":\"chat.completion.chunk\""));
    CHECK(has(&r, "\"delta\":{\"role\":\"assistant\",\"content\":\"\"}"));
    CHECK(has(&r, "\"finish_reason\":\"stop\""));
    CHECK(has(&r, "\"choices\":[],\"usage\":{\"prompt_tokens\":"));
    CHECK(has(&r, "data: [DONE]\n\n"));
    reply_free(&r);
    /* a stop sequence inside the stream */
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"stream\":true,\"stop\":[\"END\"],\"messages\":[{\"role\":\"user\","
              "\"content\":\"alpha\"}]}") == 200);
    CHECK(!has(&r, "END") && !has(&r, "more") && has(&r, "data: [DONE]"));
    reply_free(&r);
    /* cut inside the channel: an error event, never [DONE] */
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"cut me\"}]}") == 200);
    CHECK(has(&r, "data: {\"error\":"));
    CHECK(!has(&r, "[DONE]"));
    CHECK(!has(&r, "\"finish_reason\":\"stop\""));
    reply_free(&r);
}

/* Two slow turns at once: each holds a session of the pool (2) at the same time. */
static void concurrency_checks(void)
{
    reply r, a, b;
    const char *slow = "{\"messages\":[{\"role\":\"user\",\"content\":\"slow one\"}]}";
    test_current_ = "concurrent";
    int fa = http_send("POST", "/v1/chat/completions", AUTH, slow);
    int fb = http_send("POST", "/v1/chat/completions", AUTH, slow);
    CHECK(fa >= 0 && fb >= 0);
    int both = 0;
    for (int i = 0; i < 100 && !both; i++) { /* until both are in flight (bounded) */
        if (api(&r, "GET", "/v1/attestation", NULL) == 200 && has(&r, "\"busy\":2")) {
            both = 1;
        }
        reply_free(&r);
        e2e_sleep_ms(20);
    }
    CHECK(both);
    CHECK(http_read(fa, &a) == 200 && has(&a, "slow reply"));
    CHECK(http_read(fb, &b) == 200 && has(&b, "slow reply"));
    reply_free(&a);
    reply_free(&b);
}

/* The one-time login, the cookie, and what a request with the cookie must also show. */
static void login_checks(void)
{
    reply r;
    char hdr[512], code[80] = "", cookie[128] = "";
    ms_buf out;
    test_current_ = "login";
    ms_buf_init(&out, 1u << 20);
    CHECK(e2e_file_read(SRV.out, &out) == 0 && ms_buf_terminate(&out) == MS_OK);
    const char *at = out.p ? strstr((const char *)out.p, "/login?code=") : NULL;
    CHECK(at != NULL);
    if (at) {
        snprintf(code, sizeof code, "%.67s", at + 12);
    }
    ms_buf_free(&out);
    CHECK(http(&r, "GET", "/login?code=ms-0000", NULL, NULL) == 403);
    reply_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/login?code=%s", code);
    CHECK(http(&r, "GET", path, NULL, NULL) == 303);
    CHECK(has(&r, "HttpOnly") && has(&r, "SameSite=Strict") && has(&r, "Location: /"));
    const char *c = strstr((const char *)r.all.p, "ms_session=");
    if (c) {
        snprintf(cookie, sizeof cookie, "%.75s", c);
    }
    reply_free(&r);
    CHECK(http(&r, "GET", path, NULL, NULL) == 403); /* once */
    reply_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\nSec-Fetch-Site: same-origin\r\n", cookie);
    CHECK(http(&r, "GET", "/v1/attestation", hdr, NULL) == 200);
    CHECK(has(&r, "\"dev_mode\":true") && has(&r, "\"evidence_type\":\"dev-key\""));
    CHECK(has(&r, "\"checks\":[") && has(&r, "\"valid_until\":"));
    reply_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\nSec-Fetch-Site: cross-site\r\n", cookie);
    CHECK(http(&r, "GET", "/v1/attestation", hdr, NULL) == 403);
    CHECK(has(&r, "\"code\":\"cross_site_request\""));
    reply_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie); /* neither header: not our page */
    CHECK(http(&r, "GET", "/v1/attestation", hdr, NULL) == 403);
    reply_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: %s\r\nOrigin: http://%s\r\n", cookie, HOST);
    CHECK(http(&r, "POST", "/v1/chat/completions", hdr,
               "{\"messages\":[{\"role\":\"user\",\"content\":\"alpha\"}]}") == 200);
    /* an API answer: never cached, never sniffed; framing and referrer rules are a
       document's */
    CHECK(has(&r, "Cache-Control: no-store\r\n") && has(&r, "X-Content-Type-Options: nosniff"));
    CHECK(!has(&r, "X-Frame-Options") && !has(&r, "Referrer-Policy"));
    reply_free(&r);
    /* the web UI's files, from the program itself */
    CHECK(http(&r, "GET", "/", NULL, NULL) == 200);
    CHECK(has(&r, "Content-Type: text/html") && has(&r, "<!doctype html>"));
    CHECK(has(&r, "Content-Security-Policy:") && has(&r, "X-Frame-Options: DENY\r\n"));
    CHECK(has(&r, "Referrer-Policy: no-referrer\r\n") && has(&r, "X-Content-Type-Options: nosniff"));
    CHECK(has(&r, "Cache-Control: no-cache\r\n"));
    reply_free(&r);
}

/* One answer on a kept-alive connection: read up to its Content-Length, the connection left
   open. The status (0 when there was none). */
static int read_one(int fd, reply *r)
{
    char buf[4096];
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->all, 1u << 20);
    for (;;) {
        const char *all = r->all.len ? (const char *)r->all.p : "";
        const char *sep = r->all.len ? strstr(all, "\r\n\r\n") : NULL;
        const char *cl = sep ? strstr(all, "\r\nContent-Length: ") : NULL;
        if (sep && cl && cl < sep &&
            r->all.len >= (size_t)(sep + 4 - all) + strtoul(cl + 18, NULL, 10)) {
            break;
        }
        ssize_t got = read(fd, buf, sizeof buf);
        if (got <= 0 || ms_buf_append(&r->all, buf, (size_t)got) != MS_OK ||
            ms_buf_terminate(&r->all) != MS_OK) {
            return 0;
        }
    }
    r->status = (int)strtol((const char *)r->all.p + 9, NULL, 10);
    return r->status;
}

/* What an API client does: several requests over one HTTP/1.1 connection, each answered. */
static void keepalive_checks(void)
{
    static const char BODY[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"alpha\"}]}";
    char req[1024];
    reply r;
    test_current_ = "keep-alive";
    int n = snprintf(req, sizeof req,
                     "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\n%s"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     HOST, AUTH, sizeof BODY - 1, BODY);
    int fd = e2e_tcp_connect(SRV.port);
    CHECK(fd >= 0);
    for (int i = 0; fd >= 0 && i < 3; i++) {
        CHECK(write(fd, req, (size_t)n) == n);
        CHECK(read_one(fd, &r) == 200);
        CHECK(has(&r, "\"content\":\"Answer alpha. END more text\""));
        CHECK(!has(&r, "Connection: close"));
        reply_free(&r);
    }
    if (fd >= 0) {
        close(fd);
    }
}

/* The supervisor restarts: every session of the pool is unknown to it (404), and each is
   made again, with every check, on its next turn. */
static void restart_checks(void)
{
    reply r;
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"alpha\"}]}";
    test_current_ = "restart";
    unsigned port = ST.sup.port;
    CHECK(e2e_server_stop(&ST.sup, E2E_STOP_GRACE_MS) == 0);
    CHECK(api(&r, "POST", "/v1/chat/completions", body) == 503); /* down: worth a retry */
    CHECK(has(&r, "\"code\":\"MS_ERR_HTTP_CONNECT\""));
    reply_free(&r);
    CHECK(e2e_world_sup(&W, &ST.sup,
                        &(e2e_sup_cfg){.listen_port = port, .backend_port = ST.sim.port}) == 0);
    for (int i = 0; i < 3; i++) { /* more turns than sessions: each session made again */
        CHECK(api(&r, "POST", "/v1/chat/completions", body) == 200);
        CHECK(has(&r, "Answer alpha."));
        reply_free(&r);
    }
    CHECK(api(&r, "GET", "/v1/attestation", NULL) == 200 && has(&r, "\"verified\":true"));
    reply_free(&r);
}

/* The supervisor's access log so far: how many handshakes it answered, and the session id
   prefix of its last turn (request or stream) in last_sid ("" when none). */
static long sup_log(char last_sid[static 9])
{
    ms_buf text;
    long handshakes = 0;
    last_sid[0] = '\0';
    ms_buf_init(&text, 16u << 20);
    if (e2e_file_read(ST.sup.out, &text) == 0 && text.p != NULL) {
        for (char *line = (char *)text.p; line != NULL && *line != '\0';) {
            char *next = strchr(line, '\n');
            if (next != NULL) {
                *next++ = '\0';
            }
            const char *sid = strstr(line, " sid=");
            if (sid != NULL) { /* an access line: its UTC second first, on every line */
                CHECK(strlen(line) > 21 && line[4] == '-' && line[10] == 'T' &&
                      line[19] == 'Z' && line[20] == ' ');
            }
            handshakes += strstr(line, " POST handshake 200 ") != NULL;
            if (sid != NULL && (strstr(line, " POST request 200 ") != NULL ||
                                strstr(line, " POST stream 200 ") != NULL)) {
                snprintf(last_sid, 9, "%.8s", sid + 5);
            }
            line = next;
        }
    }
    ms_buf_free(&text);
    return handshakes;
}

/* The not_after of the evidence serve last verified (GET /v1/attestation), 0 when none. */
static unsigned long long attested_not_after(void)
{
    reply r;
    unsigned long long v = 0;
    if (api(&r, "GET", "/v1/attestation", NULL) == 200) {
        const char *p = strstr(r.body, "\"not_after\":");
        v = p ? strtoull(p + 12, NULL, 10) : 0;
    }
    reply_free(&r);
    return v;
}

/* One turn through serve that must succeed. */
static void turn_ok(void)
{
    reply r;
    CHECK(api(&r, "POST", "/v1/chat/completions",
              "{\"messages\":[{\"role\":\"user\",\"content\":\"alpha\"}]}") == 200);
    CHECK(has(&r, "Answer alpha."));
    reply_free(&r);
}

/*
 * Issue 14: the supervisor's FAST evidence expires under serve (MS_TEST_EVIDENCE_S=2 in a
 * test build: a new static key every 2 s, its evidence void 2 s later). The first turn after
 * the expiry makes a new session with a new handshake, every check again; nothing is sent on
 * the session whose evidence expired.
 */
static void expiry_checks(void)
{
    char sid_a[9], sid_b[9];
    test_current_ = "evidence-expiry";
    CHECK(e2e_file_contains(ST.sup.out, "TEST BUILD: evidence renewed every 2 s"));
    turn_ok();
    unsigned long long not_after = attested_not_after();
    CHECK(not_after > 0 && not_after <= (unsigned long long)time(NULL) + 4);
    for (int i = 0; i < 200 && (unsigned long long)time(NULL) <= not_after; i++) {
        e2e_sleep_ms(50); /* until that evidence has expired: at most ~4 s */
    }
    CHECK((unsigned long long)time(NULL) > not_after);
    long before = sup_log(sid_a);
    CHECK(before >= 1 && sid_a[0] != '\0');
    turn_ok();
    long after = 0;
    for (int i = 0; i < 100 && ((after = sup_log(sid_b)) == before || strcmp(sid_a, sid_b) == 0);
         i++) {
        e2e_sleep_ms(50); /* each access line is written as its request completes: the
                             handshake's can be there before the turn's */
    }
    CHECK(after == before + 1); /* one new handshake, for this turn */
    CHECK(sid_b[0] != '\0' && strcmp(sid_a, sid_b) != 0); /* on the new session */
    CHECK(attested_not_after() > not_after);
}

/* Start-up refusals: a non-loopback address, a port with a sign, a supervisor that fails
   verification. */
static void refusal_checks(void)
{
    e2e_out o;
    char other[PATH_MAX], keyf[PATH_MAX];
    test_current_ = "refusals";
    e2e_path(keyf, "%s/serve.key", W.dir);
    e2e_world_runl(&W, NULL, &o, "serve", "--supervisor_url", ST.url, "--cacert", W.ca,
                   "--trusted_attestation_pem", W.devpub, "--api-key-file", keyf, "--listen",
                   "0.0.0.0:0", NULL);
    CHECK(o.code == 2 && e2e_buf_has(&o.err, "--allow-remote"));
    e2e_out_free(&o);
    /* a port is digits only: strtoul wrapped "-18446744073709551535" to 81 */
    e2e_world_runl(&W, NULL, &o, "serve", "--supervisor_url", ST.url, "--cacert", W.ca,
                   "--trusted_attestation_pem", W.devpub, "--api-key-file", keyf, "--listen",
                   "127.0.0.1:-18446744073709551535", NULL);
    CHECK(o.code == 2 && e2e_buf_has(&o.err, "--listen 127.0.0.1:-18446744073709551535: "
                                             "invalid configuration"));
    e2e_out_free(&o);
    char otherpub[PATH_MAX];
    e2e_path(other, "%s/other.pem", W.dir);
    e2e_path(otherpub, "%s/other.pem.pub", W.dir);
    CHECK(e2e_devkey_make(other, otherpub, NULL) == 0); /* a key the supervisor does not hold */
    e2e_world_runl(&W, NULL, &o, "serve", "--supervisor_url", ST.url, "--cacert", W.ca,
                   "--trusted_attestation_pem", otherpub, "--api-key-file", keyf, "--listen",
                   "127.0.0.1:0", NULL);
    CHECK(o.code == 4);
    e2e_out_free(&o);
}

static void node_checks(void)
{
    char url[96];
    test_current_ = "openai-npm";
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1", SRV.port);
    setenv("MS_SERVE_URL", url, 1);
    setenv("MS_SERVE_KEY", KEY, 1);
    e2e_out o;
    CHECK(e2e_world_node(&W, "openai", "test_serve_openai.mjs", 0, &o) == 0);
    CHECK(e2e_buf_has(&o.out, "openai-npm: all checks passed"));
    e2e_out_free(&o);
    unsetenv("MS_SERVE_KEY");
}

int main(int argc, char **argv)
{
    const char *mode = argc == 6 ? argv[5] : "c";
    int rc = e2e_world_open(&W, "serve_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC,
                            argc == 6 ? 5 : argc, argv);
    if (rc != 0) {
        return rc;
    }
    test_current_ = "setup";
    CHECK(e2e_world_home(&W) == 0);
    CHECK(e2e_world_devkey(&W, "dev.pem") == 0);
    CHECK(e2e_world_script(&W, SCRIPT) == 0);
    if (strcmp(mode, "expiry") == 0) {
        setenv("MS_TEST_EVIDENCE_S", "2", 1); /* the supervisor's, in test builds */
    }
    CHECK(e2e_world_stack(&W, &ST, &(e2e_sim_cfg){.record = 1}, NULL) == 0);
    unsetenv("MS_TEST_EVIDENCE_S");
    CHECK(e2e_world_serve(&W, &ST, &SRV, &(e2e_serve_cfg){.extra = {"--sessions", "2"}}) == 0);
    if (test_fail_count_ > 0) {
        return e2e_world_close(&W, TEST_SUMMARY());
    }
    start_checks();
    if (strcmp(mode, "node") == 0) {
        node_checks();
    } else if (strcmp(mode, "expiry") == 0) {
        expiry_checks();
    } else {
        access_checks();
        body_checks();
        chat_checks();
        keepalive_checks();
        stream_checks();
        concurrency_checks();
        login_checks();
        restart_checks();
        refusal_checks();
    }
    CHECK(e2e_server_stop(&SRV, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_stack_stop(&ST) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

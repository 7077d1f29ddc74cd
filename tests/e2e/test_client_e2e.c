/*
 * End-to-end tests of the client: real minions-supervisor, llm-sim and minions-secure
 * processes on 127.0.0.1, plus an in-process proxy for TLS termination and faults.
 *
 * Usage: test_e2e_client SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"
#include "secure/attest/devkey.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "secure/hs_msg.h"
#include "tests/fixture/proxy.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define CLI_TIMEOUT_MS 30000
#define REPLY_HELLO "Hello from the simulator."
/* A long reply (over 256 bytes: carried escaped, decoded once by the client), as the script
   writes it and as it decodes. */
#define LONG_JSON8(x) x x x x x x x x
#define LONG_ESC "L\\\"q\\\"\\n caf\\u00e9 \xc3\xa9 \\ud83d\\ude00 tab\\t end. "
#define LONG_TEXT "L\"q\"\n caf\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80 tab\t end. "

static const char SCRIPT[] =
    "{\"rules\": [\n"
    "  {\"contains\": \"hello\", \"reply\": \"" REPLY_HELLO "\"},\n"
    "  {\"contains\": \"long escaped\", \"reply\": \"" LONG_JSON8(LONG_ESC) "\"},\n"
    "  {\"contains\": \"cut me\", \"reply\": \"one two three four five six seven eight\","
    " \"stream_fail_after\": 3},\n"
    "  {\"contains\": \"slow please\", \"reply\": \"late reply\", \"delay_ms\": 3000},\n"
    "  {\"contains\": \"think forever\", \"reply\": \"Well. <think>still reasoning about\","
    " \"finish_reason\": \"length\"}\n"
    "], \"default\": \"I do not know.\"}\n";

/* Programs, certs/dev, the dev key, the script and the temp dir; then what only this file uses. */
static e2e_world W;
static struct env {
    char other_ca[PATH_MAX], other_cert[PATH_MAX], other_key[PATH_MAX];
    char bundle[PATH_MAX]; /* ca.pem and other/ca.pem together */
    char otherpub[PATH_MAX], otherkey[PATH_MAX];
    uint8_t server_spki[MS_SPKI_HASH_LEN];
} E;

/* Every llm-sim here keeps a request log (stack.sim.log); minions-secure runs get 30 s. */
static const e2e_sim_cfg SIM = {.record = 1};
static const e2e_cmd CLI = {.timeout_ms = CLI_TIMEOUT_MS, .out_cap = 1u << 20};

/* --- log capture: the client's WARN lines (re-handshakes) ---------------------------------- */

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_log[8192];

static void log_sink(void *ctx, ms_log_level lvl, const char *line, size_t len)
{
    (void)ctx;
    (void)lvl;
    fprintf(stderr, "%s\n", line);
    pthread_mutex_lock(&g_log_mu);
    size_t have = strlen(g_log);
    if (have + len + 2 < sizeof g_log) {
        memcpy(g_log + have, line, len);
        g_log[have + len] = '\n';
        g_log[have + len + 1] = '\0';
    }
    pthread_mutex_unlock(&g_log_mu);
}

static void log_clear(void)
{
    pthread_mutex_lock(&g_log_mu);
    g_log[0] = '\0';
    pthread_mutex_unlock(&g_log_mu);
}

static int log_has(const char *s)
{
    pthread_mutex_lock(&g_log_mu);
    int r = strstr(g_log, s) != NULL;
    pthread_mutex_unlock(&g_log_mu);
    return r;
}

/* --- library-level helpers ------------------------------------------------------------------ */

static ms_client *client_new(const char *url, const char *cacert, int allow_http, int proxy)
{
    ms_client *c = NULL;
    ms_client_cfg cfg = {.url = url,
                         .cacert = cacert,
                         .allow_http = allow_http,
                         .allow_tls_proxy = proxy,
                         .pinned_dev_pk = W.pk,
                         .connect_timeout_ms = 5000,
                         .timeout_ms = 20000};
    CHECK_OK(ms_client_new(&c, &cfg));
    return c;
}

/* One turn with `prompt`; the reply's content goes to `content` (when the turn succeeded). */
static ms_err turn(ms_client *c, const char *prompt, ms_buf *content, ms_client_turn_info *ti)
{
    ms_buf req, reply;
    ms_client_reply r;
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&reply, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_clear(content);
    ms_err e = ms_client_request_build(NULL, prompt, 0, -1.0, &req);
    if (e == MS_OK) {
        e = ms_client_turn(c, req.p, req.len, &reply, ti);
    }
    if (e == MS_OK && ms_client_reply_parse(reply.p, reply.len, 0, &r) == MS_OK) {
        CHECK_OK(ms_buf_append(content, r.content, r.content_len));
        ms_client_reply_free(&r);
    }
    ms_buf_free(&req);
    ms_buf_free(&reply);
    return e;
}

/* The same turn through ms_client_turn_reply: the reply decoded once, into *out. */
static ms_err typed_turn(ms_client *c, const char *prompt, ms_turn_reply *out)
{
    ms_buf req;
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    ms_err e = ms_client_request_build(NULL, prompt, 0, -1.0, &req);
    if (e == MS_OK) {
        e = ms_client_turn_reply(c, req.p, req.len, out, NULL);
    }
    ms_buf_free(&req);
    return e;
}

static ms_err collect_piece(void *ctx, const char *t, size_t n)
{
    return ms_buf_append(ctx, t, n);
}

static ms_err turn_stream(ms_client *c, const char *prompt, ms_buf *text, ms_client_turn_info *ti)
{
    ms_buf req, final;
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&final, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_clear(text);
    ms_err e = ms_client_request_build(NULL, prompt, 0, -1.0, &req);
    if (e == MS_OK) {
        e = ms_client_turn_stream(c, req.p, req.len, collect_piece, text, &final, ti);
    }
    ms_buf_free(&req);
    ms_buf_free(&final);
    return e;
}

static void session_of(ms_client *c, char out[static 2 * MS_SESSION_ID_LEN + 1])
{
    ms_client_peer p;
    ms_client_peer_info(c, &p);
    memcpy(out, p.session_hex, 2 * MS_SESSION_ID_LEN + 1);
}

/* --- the tests ------------------------------------------------------------------------------ */

/* HTTPS with the dev CA: verified peer, plain and streamed turns, msg ids, close. */
static void test_happy_library(void)
{
    e2e_stack stack;
    ms_buf text;
    ms_client_turn_info ti;
    ms_client_peer peer;
    char url[64], sid1[33], sid2[33];
    ms_buf_init(&text, 1u << 20);
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_OK(ms_client_connect(c));
    ms_client_peer_info(c, &peer);
    CHECK(peer.connected && peer.evidence_type == MS_EVIDENCE_DEV_KEY);
    CHECK(peer.evidence_mode == MS_MODE_FAST && peer.evidence_not_after > (uint64_t)time(NULL));
    CHECK(peer.tls == MS_CLIENT_TLS_PINNED);
    CHECK_MEM(peer.tls_spki_hash, E.server_spki, MS_SPKI_HASH_LEN);
    CHECK(peer.handshakes == 1 && peer.rehandshakes == 0);

    CHECK_OK(turn(c, "hello marker-h1", &text, &ti));
    CHECK(e2e_buf_is(&text, REPLY_HELLO));
    CHECK(ti.handshakes == 0 && ti.http_status == 200);
    session_of(c, sid1);
    CHECK_OK(turn_stream(c, "hello marker-h2", &text, &ti));
    CHECK(e2e_buf_is(&text, REPLY_HELLO));
    CHECK(ti.streamed_bytes == strlen(REPLY_HELLO));
    CHECK_OK(turn(c, "something else marker-h3", &text, &ti));
    CHECK(e2e_buf_is(&text, "I do not know."));
    session_of(c, sid2);
    CHECK(strcmp(sid1, sid2) == 0); /* three turns, one session */
    /* A long reply with escapes, kept escaped on its way: both turns give the engine's text. */
    ms_turn_reply tr;
    ms_turn_reply_init(&tr, 4096);
    CHECK_OK(typed_turn(c, "a long escaped one", &tr));
    CHECK(e2e_buf_is(&tr.content, LONG_JSON8(LONG_TEXT)));
    ms_turn_reply_free(&tr);
    CHECK_OK(turn(c, "a long escaped one", &text, &ti));
    CHECK(e2e_buf_is(&text, LONG_JSON8(LONG_TEXT)));
    CHECK(e2e_file_contains(stack.sim.log, "marker-h1") && e2e_file_contains(stack.sim.log, "marker-h2") &&
          e2e_file_contains(stack.sim.log, "marker-h3"));

    CHECK_OK(ms_client_close(c));
    ms_client_peer_info(c, &peer);
    CHECK(!peer.connected);
    CHECK_OK(ms_client_close(c));                 /* nothing to close */
    CHECK_OK(turn(c, "hello again", &text, &ti)); /* a new session on demand */
    CHECK(ti.handshakes == 1);
    session_of(c, sid2);
    CHECK(strcmp(sid1, sid2) != 0);
    ms_client_free(c);

    /* STRICT evidence, asked and given. */
    ms_client_cfg cfg = {.url = url, .cacert = W.ca, .pinned_dev_pk = W.pk, .strict = 1};
    CHECK_OK(ms_client_new(&c, &cfg));
    CHECK_OK(turn(c, "hello strict", &text, &ti));
    ms_client_peer_info(c, &peer);
    CHECK(peer.evidence_mode == MS_MODE_STRICT);
    ms_client_free(c);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/* minions-secure end to end: streamed, whole, JSON; what it says on stderr. */
static void test_cli(void)
{
    e2e_stack stack;
    e2e_out r;
    char url[64];
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello cli-marker-1", NULL);
    CHECK(r.code == 0);
    CHECK(e2e_buf_is(&r.out, REPLY_HELLO "\n"));
    CHECK(e2e_buf_has(&r.err, "verified: dev-key evidence (FAST, valid until "));
    CHECK(e2e_buf_has(&r.err, "TLS key pinned (sha256:"));
    CHECK(e2e_buf_has(&r.err, "DEVELOPMENT MODE: dev-key evidence proves the supervisor holds the "
                          "pinned key, not what host runs it"));
    CHECK(e2e_file_contains(stack.sim.log, "cli-marker-1"));
    e2e_out_free(&r);

    e2e_world_runl(&W, &CLI, &r, "--supervisor-url", url, "--trusted-attestation-pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello cli-marker-2", "--system-prompt", "be brief", "--max-tokens", "50",
            "--temperature", "0.5", "--no-stream", NULL);
    CHECK(r.code == 0);
    CHECK(e2e_buf_is(&r.out, REPLY_HELLO "\n"));
    CHECK(e2e_file_contains(stack.sim.log, "be brief"));
    e2e_out_free(&r);

    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello cli-marker-3", "--json", NULL);
    CHECK(r.code == 0);
    CHECK(e2e_buf_has(&r.out, "\"ok\":true,\"content\":\"" REPLY_HELLO "\""));
    CHECK(e2e_buf_has(&r.out, "\"evidence\":{\"type\":\"dev-key\",\"mode\":\"FAST\""));
    CHECK(e2e_buf_has(&r.out, "\"tls\":\"pinned\""));
    e2e_out_free(&r);

    /* Usage errors are exit 2 and name the problem. */
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--prompt", "x", NULL);
    CHECK(r.code == 2 && e2e_buf_has(&r.err, "--trusted_attestation_pem"));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.ca, "--prompt", "x", NULL);
    CHECK(r.code == 2 && e2e_buf_has(&r.err, "--trusted_attestation_pem"));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--prompt", "x",
            "--temperature", "3", NULL);
    CHECK(r.code == 2);
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--help", NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, "Exit status") && e2e_buf_has(&r.out, "--allow-tls-proxy"));
    e2e_out_free(&r);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
}

/* A supervisor with another dev key than the pinned one: exit 4, and nothing reaches the engine. */
static void test_wrong_pin(void)
{
    e2e_stack stack;
    e2e_out r;
    char url[64];
    uint8_t other[MS_SIGN_PK_LEN];
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", E.otherpub, "--cacert", W.ca,
            "--prompt", "hello wrong-pin-marker", NULL);
    CHECK(r.code == 4);
    CHECK(e2e_buf_has(&r.err, "failed verification") && e2e_buf_has(&r.err, "MS_ERR_ATTEST_KEY"));
    CHECK(r.out.len == 0);
    e2e_out_free(&r);

    CHECK_OK(ms_devkey_read_public(E.otherpub, other));
    ms_client_cfg cfg = {.url = url, .cacert = W.ca, .pinned_dev_pk = other};
    ms_client *c = NULL;
    ms_buf text;
    ms_buf_init(&text, 4096);
    CHECK_OK(ms_client_new(&c, &cfg));
    CHECK_ERR(ms_client_connect(c), MS_ERR_ATTEST_KEY);
    CHECK_ERR(turn(c, "hello wrong-pin-marker-2", &text, NULL), MS_ERR_ATTEST_KEY);
    ms_client_free(c);
    ms_buf_free(&text);
    CHECK(!e2e_file_contains(stack.sim.log, "wrong-pin-marker"));
out:
    CHECK(e2e_stack_stop(&stack) == 0);
}

/* A certificate from another CA: TLS fails (exit 3) before any handshake; the wrong scheme. */
static void test_wrong_cert(void)
{
    e2e_stack stack;
    e2e_out r;
    char url[64];
    if (e2e_world_stack(&W, &stack, &SIM, &(e2e_sup_cfg){.cert = E.other_cert, .key = E.other_key}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello wrong-cert-marker", NULL);
    CHECK(r.code == 3 && e2e_buf_has(&r.err, "--cacert"));
    e2e_out_free(&r);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_ERR(ms_client_connect(c), MS_ERR_HTTP_TLS);
    ms_client_free(c);
    CHECK(!e2e_file_contains(stack.sim.log, "wrong-cert-marker"));

    /* The wrong scheme for the port (issue 13's new user): https:// to a plain-HTTP server
       (llm-sim) says it does not speak TLS, not that a certificate failed; http:// to the
       supervisor's HTTPS port says to use https://, not "input/output error". Exit 3. */
    e2e_url(url, "https", stack.sim.port);
    c = client_new(url, W.ca, 0, 0);
    CHECK_ERR(ms_client_connect(c), MS_ERR_HTTP_NOT_TLS);
    ms_client_free(c);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub,
                   "--cacert", W.ca, "--prompt", "hello", NULL);
    CHECK(r.code == 3 && e2e_buf_has(&r.err, url) &&
          e2e_buf_has(&r.err, "does not speak TLS (is it plain HTTP? llm-sim?)") &&
          !e2e_buf_has(&r.err, "certificate"));
    e2e_out_free(&r);
    e2e_url(url, "http", stack.sup.port);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--allow-http",
                   "--trusted_attestation_pem", W.devpub, "--prompt", "hello", NULL);
    CHECK(r.code == 3 && e2e_buf_has(&r.err, "use https://") &&
          !e2e_buf_has(&r.err, "input/output error"));
    e2e_out_free(&r);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
}

/* http:// only with --allow-http, and only to loopback; refused before connecting (exit 2). */
static void test_http_policy(void)
{
    e2e_stack stack;
    e2e_out r;
    char url[64];
    ms_client *c = NULL;
    ms_client_cfg cfg = {.pinned_dev_pk = W.pk};
    if (e2e_world_stack(&W, &stack, &SIM, &(e2e_sup_cfg){.plain = 1}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "http", stack.sup.port);
    cfg.url = url;
    CHECK_ERR(ms_client_new(&c, &cfg), MS_ERR_HTTP_INSECURE);
    cfg.allow_http = 1;
    static const char *const remote[] = {"http://10.1.2.3:8443", "http://example.com:8443",
                                         "http://[2001:db8::1]:8443",
                                         "http://127.0.0.1.example.com/"};
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
        cfg.url = remote[i];
        CHECK_ERR(ms_client_new(&c, &cfg), MS_ERR_HTTP_INSECURE);
    }
    static const char *const bad[] = {"ftp://127.0.0.1/", "https://user:pw@127.0.0.1/",
                                      "https://127.0.0.1/?q=1", "127.0.0.1:8443", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.url = bad[i];
        CHECK_ERR(ms_client_new(&c, &cfg), MS_ERR_HTTP_URL);
    }
    cfg.url = url;
    cfg.pinned_dev_pk = NULL;
    CHECK_ERR(ms_client_new(&c, &cfg), MS_ERR_CONFIG);

    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--prompt",
            "hello http-marker-1", NULL);
    CHECK(r.code == 2 && e2e_buf_has(&r.err, "--allow-http"));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", "http://10.1.2.3:9/", "--allow-http",
            "--trusted_attestation_pem", W.devpub, "--prompt", "hello http-marker-2", NULL);
    CHECK(r.code == 2 && e2e_buf_has(&r.err, "loopback"));
    e2e_out_free(&r);
    CHECK(!e2e_file_contains(stack.sim.log, "http-marker-"));

    /* Allowed: loopback, asked for. The supervisor binds no TLS key; there is none to pin. */
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--allow-http", "--trusted_attestation_pem", W.devpub,
            "--prompt", "hello http-marker-3", NULL);
    CHECK(r.code == 0 && e2e_buf_is(&r.out, REPLY_HELLO "\n"));
    CHECK(e2e_buf_has(&r.err, "plain HTTP on loopback (no TLS)"));
    e2e_out_free(&r);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
}

/* The supervisor restarts (same dev key, same port): one re-handshake, then success. */
static void test_restart(void)
{
    e2e_stack stack;
    ms_buf text;
    ms_client_turn_info ti;
    ms_client_peer peer;
    char url[64], sid1[33], sid2[33], prefix[9];
    ms_buf_init(&text, 4096);
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_OK(turn(c, "hello before restart", &text, &ti));
    session_of(c, sid1);
    unsigned port = stack.sup.port;
    CHECK(e2e_server_stop(&stack.sup, E2E_STOP_GRACE_MS) == 0);
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = stack.sim.port, .listen_port = port}) != 0) {
        CHECK(!"restart");
        ms_client_free(c);
        goto out;
    }
    log_clear();
    CHECK_OK(turn(c, "hello after restart", &text, &ti));
    CHECK(e2e_buf_is(&text, REPLY_HELLO));
    CHECK(ti.handshakes == 1);
    session_of(c, sid2);
    CHECK(strcmp(sid1, sid2) != 0);
    memcpy(prefix, sid1, 8);
    prefix[8] = '\0';
    char want[160];
    snprintf(want, sizeof want,
             "supervisor no longer knows session %s (restarted or expired): "
             "new handshake",
             prefix);
    CHECK(log_has(want));
    ms_client_peer_info(c, &peer);
    CHECK(peer.rehandshakes == 1 && peer.tls == MS_CLIENT_TLS_PINNED);
    /* Streams too: restart again, a streamed turn re-handshakes once. */
    CHECK(e2e_server_stop(&stack.sup, E2E_STOP_GRACE_MS) == 0);
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = stack.sim.port, .listen_port = port}) == 0) {
        CHECK_OK(turn_stream(c, "hello after second restart", &text, &ti));
        CHECK(e2e_buf_is(&text, REPLY_HELLO) && ti.handshakes == 1);
    }
    /* A typed turn counts the re-handshake it needed (a third restart). */
    CHECK(e2e_server_stop(&stack.sup, E2E_STOP_GRACE_MS) == 0);
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = stack.sim.port, .listen_port = port}) == 0) {
        ms_turn_reply tr;
        ms_turn_reply_init(&tr, 4096);
        CHECK_OK(typed_turn(c, "hello after third restart", &tr));
        CHECK(e2e_buf_is(&tr.content, REPLY_HELLO) && tr.rehandshakes == 1);
        CHECK_OK(typed_turn(c, "hello again, same session", &tr));
        CHECK(e2e_buf_is(&tr.content, REPLY_HELLO) && tr.rehandshakes == 0);
        ms_turn_reply_free(&tr);
    }
    ms_client_free(c);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/* The `out=` byte counts of the answered handshakes in a supervisor's access log, in order. */
static size_t handshake_outs(const char *log, size_t *out, size_t max)
{
    ms_buf b;
    size_t n = 0;
    ms_buf_init(&b, 1u << 20);
    if (e2e_file_read(log, &b) != 0 || ms_buf_append_u8(&b, 0) != MS_OK) {
        ms_buf_free(&b);
        return 0;
    }
    for (char *line = (char *)b.p; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        const char *o = strstr(line, " handshake 200 ") ? strstr(line, " out=") : NULL;
        if (o && n < max && sscanf(o, " out=%zu", &out[n]) == 1) {
            n++;
        }
        line = nl ? nl + 1 : NULL;
    }
    ms_buf_free(&b);
    return n;
}

/*
 * The client's FAST evidence cache: the identical evidence under the same static key is
 * recognised, anything else is verified in full. A supervisor restarted with another dev
 * key must fail verification on a client that has a cached acceptance; restarted with the
 * pinned key (a new static key, new evidence) it is verified and accepted again.
 */
static void test_fast_cache(void)
{
    e2e_stack stack;
    ms_buf text;
    char url[64];
    ms_buf_init(&text, 4096);
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    ms_client_peer peer;
    CHECK_OK(ms_client_connect(c));
    ms_client_peer_info(c, &peer);
    CHECK(peer.evidence_held == 0);
    CHECK_OK(ms_client_connect(c)); /* the same FAST evidence: held, named by its digest */
    ms_client_peer_info(c, &peer);
    CHECK(peer.evidence_held == 1 && peer.evidence_mode == MS_MODE_FAST);
    CHECK_OK(turn(c, "hello", &text, NULL));
    CHECK(e2e_buf_is(&text, REPLY_HELLO));
    /* §6: the supervisor sent the 97 bytes once, then their 32-byte SHA-256. */
    size_t outs[4];
    CHECK(handshake_outs(stack.sup.out, outs, 4) == 2);
    CHECK(outs[0] == MS_SERVER_HELLO_FIXED_LEN + 97 &&
          outs[1] == MS_SERVER_HELLO_FIXED_LEN + MS_HELD_DIGEST_LEN);
    unsigned port = stack.sup.port;
    CHECK(e2e_server_stop(&stack.sup, E2E_STOP_GRACE_MS) == 0);
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = stack.sim.port, .listen_port = port, .devkey = E.otherkey}) !=
        0) {
        CHECK(!"restart with the other key");
        ms_client_free(c);
        goto out;
    }
    CHECK_ERR(ms_client_connect(c), MS_ERR_ATTEST_KEY);
    CHECK_ERR(ms_client_connect(c), MS_ERR_ATTEST_KEY);
    CHECK(e2e_server_stop(&stack.sup, E2E_STOP_GRACE_MS) == 0);
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = stack.sim.port, .listen_port = port}) != 0) {
        CHECK(!"restart with the pinned key");
        ms_client_free(c);
        goto out;
    }
    CHECK_OK(ms_client_connect(c));
    CHECK_OK(turn(c, "hello", &text, NULL));
    CHECK(e2e_buf_is(&text, REPLY_HELLO));
    ms_client_free(c);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/* An idle session expires (--session-ttl 1): one re-handshake, then success. */
static void test_expired(void)
{
    e2e_stack stack;
    ms_buf text;
    ms_client_turn_info ti;
    char url[64];
    ms_buf_init(&text, 4096);
    if (e2e_world_stack(&W, &stack, &SIM, &(e2e_sup_cfg){.extra = {"--session-ttl", "1"}}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_OK(turn(c, "hello ttl", &text, &ti));
    CHECK(ti.handshakes == 1);
    e2e_sleep_ms(2100);
    log_clear();
    CHECK_OK(turn(c, "hello ttl again", &text, &ti));
    CHECK(e2e_buf_is(&text, REPLY_HELLO));
    CHECK(ti.handshakes == 1);
    CHECK(log_has("no longer knows session"));
    ms_client_free(c);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/* The engine is down: backend_unavailable (exit 5); once it is up, the same session works. */
static void test_engine_down(void)
{
    e2e_stack stack = {0};
    e2e_out r;
    ms_buf text;
    ms_client_turn_info ti;
    ms_turn_reply tr;
    char url[64], sid1[33], sid2[33];
    ms_buf_init(&text, 4096);
    ms_turn_reply_init(&tr, 4096);
    if (e2e_world_sim(&W, &stack.sim, &SIM) != 0) {
        CHECK(!"start");
        goto out;
    }
    unsigned engine_port = stack.sim.port;
    CHECK(e2e_server_stop(&stack.sim, E2E_STOP_GRACE_MS) == 0); /* now nothing listens there */
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = engine_port}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_ERR(turn(c, "hello engine down", &text, &ti), MS_ERR_BACKEND_REMOTE);
    CHECK(ti.remote_failed && strcmp(ti.error_code, "backend_unavailable") == 0);
    CHECK(ti.error_message[0] != '\0');
    /* Typed: the same failure, its code and message in the reply, no content. */
    CHECK_ERR(typed_turn(c, "hello engine down, typed", &tr), MS_ERR_BACKEND_REMOTE);
    CHECK(tr.content.len == 0 && strcmp(tr.error_code, "backend_unavailable") == 0);
    CHECK(strcmp(tr.error_message, ti.error_message) == 0 && tr.seal_s > 0.0);
    CHECK_ERR(turn_stream(c, "hello engine down, streamed", &text, &ti), MS_ERR_BACKEND_REMOTE);
    CHECK(strcmp(ti.error_code, "backend_unavailable") == 0 && ti.streamed_bytes == 0);
    session_of(c, sid1);

    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello", NULL);
    CHECK(r.code == 5 && e2e_buf_has(&r.err, "backend_unavailable") && r.out.len == 0);
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello", "--json", NULL);
    CHECK(r.code == 5 &&
          e2e_buf_has(&r.out, "\"ok\":false,\"error\":{\"code\":\"backend_unavailable\""));
    e2e_out_free(&r);

    if (e2e_world_sim(&W, &stack.sim, &(e2e_sim_cfg){.record = 1, .listen_port = engine_port}) != 0) {
        CHECK(!"engine restart");
        ms_client_free(c);
        goto out;
    }
    CHECK_OK(turn(c, "hello engine up", &text, &ti));
    CHECK(e2e_buf_is(&text, REPLY_HELLO) && ti.handshakes == 0);
    CHECK_OK(typed_turn(c, "hello engine up, typed", &tr));
    CHECK(e2e_buf_is(&tr.content, REPLY_HELLO) && tr.error_code[0] == '\0' &&
          tr.error_message[0] == '\0' && tr.rehandshakes == 0);
    CHECK(tr.seal_s > 0.0 && tr.open_s > 0.0 && tr.transport_s > 0.0);
    session_of(c, sid2);
    CHECK(strcmp(sid1, sid2) == 0);
    ms_client_free(c);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
    ms_turn_reply_free(&tr);
}

/* The engine is slower than --backend-timeout: backend_timeout, and the session survives. */
static void test_engine_slow(void)
{
    e2e_stack stack;
    ms_buf text;
    ms_client_turn_info ti;
    char url[64], sid1[33], sid2[33];
    ms_buf_init(&text, 4096);
    if (e2e_world_stack(&W, &stack, &SIM, &(e2e_sup_cfg){.extra = {"--backend-timeout", "1"}}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_ERR(turn(c, "slow please", &text, &ti), MS_ERR_BACKEND_REMOTE);
    CHECK(strcmp(ti.error_code, "backend_timeout") == 0);
    session_of(c, sid1);
    CHECK_OK(turn(c, "hello after a timeout", &text, &ti));
    CHECK(e2e_buf_is(&text, REPLY_HELLO) && ti.handshakes == 0);
    session_of(c, sid2);
    CHECK(strcmp(sid1, sid2) == 0);
    ms_client_free(c);
    CHECK(e2e_stack_stop(&stack) == 0);

    /* The same with the engine's global latency (llm-sim --latency-ms), streamed. */
    if (e2e_world_stack(&W, &stack, &(e2e_sim_cfg){.record = 1, .extra = {"--latency-ms", "3000"}},
                        &(e2e_sup_cfg){.extra = {"--backend-timeout", "1"}}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    c = client_new(url, W.ca, 0, 0);
    CHECK_ERR(turn_stream(c, "hello latency", &text, &ti), MS_ERR_BACKEND_REMOTE);
    CHECK(strcmp(ti.error_code, "backend_timeout") == 0 && text.len == 0);
    ms_client_free(c);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/* The engine cuts a streamed reply: the supervisor's FINAL says ok:false; never a whole answer. */
static void test_stream_cut(void)
{
    e2e_stack stack;
    e2e_out r;
    ms_buf text;
    ms_client_turn_info ti;
    char url[64];
    ms_buf_init(&text, 4096);
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_ERR(turn_stream(c, "please cut me", &text, &ti), MS_ERR_BACKEND_REMOTE);
    CHECK(ti.remote_failed && ti.streamed_bytes > 0 && text.len == ti.streamed_bytes);
    CHECK(text.len < strlen("one two three four five six seven eight"));
    fprintf(stderr, "  a cut engine stream: FINAL code %s (%s)\n", ti.error_code,
            ti.error_message);
    CHECK(strcmp(ti.error_code, "backend_error") == 0); /* §12.3: a broken engine stream */
    CHECK(strstr(ti.error_message, ms_err_str(MS_ERR_BACKEND_FORMAT)) != NULL);
    CHECK_OK(turn(c, "hello after the cut", &text, &ti)); /* the session goes on */
    ms_client_free(c);

    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "please cut me", NULL);
    CHECK(r.code == 6);
    CHECK(e2e_buf_has(&r.out, "one two"));
    CHECK(e2e_buf_has(&r.err, "INCOMPLETE"));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "please cut me", "--json", NULL);
    CHECK(r.code == 6 && e2e_buf_has(&r.out, "\"ok\":false") && !e2e_buf_has(&r.out, "\"content\""));
    e2e_out_free(&r);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/*
 * The supervisor's engine stops at its token limit (finish_reason "length"): the typed reply
 * says truncated; ask shows the text with INCOMPLETE and exits 9, streamed or not; --json
 * says ok:false; an unclosed <think> is never printed as the answer (--no-stream leaves it
 * out). Never exit 0.
 */
static void test_limit(void)
{
    e2e_stack stack;
    e2e_out r;
    ms_turn_reply tr;
    char url[64];
    ms_turn_reply_init(&tr, MS_MAX_RECORD_PLAINTEXT);
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_OK(typed_turn(c, "please think forever", &tr));
    CHECK(tr.truncated && strcmp(tr.finish_reason, "length") == 0);
    CHECK_OK(typed_turn(c, "hello", &tr));
    CHECK(!tr.truncated && strcmp(tr.finish_reason, "stop") == 0);
    ms_client_free(c);

    /* streamed (the default): shown as it came, then said INCOMPLETE and unfinished reasoning */
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub,
                   "--cacert", W.ca, "--prompt", "please think forever", NULL);
    CHECK(r.code == 9);
    CHECK(e2e_buf_has(&r.out, "Well. <think>still reasoning about"));
    CHECK(e2e_buf_has(&r.err, "token limit") && e2e_buf_has(&r.err, "INCOMPLETE"));
    CHECK(e2e_buf_has(&r.err, "the text shown is unfinished reasoning; the model gave no answer"));
    e2e_out_free(&r);
    /* whole: the reasoning the limit cut is not printed; what came before it is */
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub,
                   "--cacert", W.ca, "--prompt", "please think forever", "--no-stream", NULL);
    CHECK(r.code == 9);
    CHECK(e2e_buf_is(&r.out, "Well.\n") && !e2e_buf_has(&r.out, "<think>"));
    CHECK(e2e_buf_has(&r.err, "INCOMPLETE") && e2e_buf_has(&r.err, "its reasoning is not shown"));
    e2e_out_free(&r);
    /* a request's own --max-tokens: the engine cuts the plain answer */
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub,
                   "--cacert", W.ca, "--prompt", "hello", "--max-tokens", "2", "--no-stream", NULL);
    CHECK(r.code == 9 && e2e_buf_is(&r.out, "Hello from\n"));
    CHECK(e2e_buf_has(&r.err, "INCOMPLETE") && e2e_buf_has(&r.err, "--max-tokens"));
    CHECK(!e2e_buf_has(&r.err, "reasoning"));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub,
                   "--cacert", W.ca, "--prompt", "hello", "--max-tokens", "2", NULL);
    CHECK(r.code == 9 && e2e_buf_is(&r.out, "Hello from\n") && e2e_buf_has(&r.err, "INCOMPLETE"));
    e2e_out_free(&r);
    /* --json, streamed and not: ok false, the fragment only as partial_content */
    for (int whole = 0; whole <= 1; whole++) {
        e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem",
                       W.devpub, "--cacert", W.ca, "--prompt", "please think forever", "--json",
                       whole ? "--no-stream" : NULL, NULL);
        CHECK(r.code == 9);
        CHECK(e2e_buf_has(&r.out, "\"ok\":false") && e2e_buf_has(&r.out, "\"code\":\"truncated\""));
        CHECK(e2e_buf_has(&r.out, "\"exit_code\":9"));
        CHECK(e2e_buf_has(&r.out, "\"partial_content\":\"Well. <think>still reasoning about\""));
        CHECK(e2e_buf_has(&r.out, "\"finish_reason\":\"length\""));
        CHECK(!e2e_buf_has(&r.out, "\"content\""));
        e2e_out_free(&r);
    }
out:
    ms_turn_reply_free(&tr);
    CHECK(e2e_stack_stop(&stack) == 0);
}

/*
 * TLS that does not end at the supervisor. (a) A TLS-terminating proxy in front of a
 * plain-HTTP supervisor (which binds no TLS key): refused (MS_ERR_HTTP_PIN_NONE) unless
 * --allow-tls-proxy.
 * (b) An interceptor with a certificate the client trusts, in front of an HTTPS
 * supervisor: refused (MS_ERR_HTTP_PIN), even with --allow-tls-proxy. (c) The supervisor
 * comes back with another TLS key: the pinned session refuses the new connection.
 */
static void test_tls_binding(void)
{
    e2e_stack stack;
    e2e_proxy *px = NULL;
    unsigned pport;
    e2e_out r;
    ms_buf text;
    ms_client_turn_info ti;
    ms_client_peer peer;
    char url[64], up[64];
    ms_buf_init(&text, 4096);
    if (e2e_world_stack(&W, &stack, &SIM, &(e2e_sup_cfg){.plain = 1}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(up, "http", stack.sup.port);
    if (e2e_proxy_start(&(e2e_proxy_cfg){.cert_path = W.cert, .key_path = W.key, .upstream = up},
                        &px, &pport) != 0) {
        CHECK(!"proxy");
        goto out;
    }
    e2e_url(url, "https", pport);
    ms_client *c = client_new(url, W.ca, 0, 0);
    CHECK_ERR(turn(c, "hello tls-marker-1", &text, &ti), MS_ERR_HTTP_PIN_NONE);
    ms_client_free(c);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello tls-marker-2", NULL);
    CHECK(r.code == 3 && e2e_buf_has(&r.err, "--allow-tls-proxy"));
    e2e_out_free(&r);
    CHECK(!e2e_file_contains(stack.sim.log, "tls-marker-"));
    c = client_new(url, W.ca, 0, 1);
    CHECK_OK(turn(c, "hello tls-marker-3", &text, &ti));
    ms_client_peer_info(c, &peer);
    CHECK(peer.tls == MS_CLIENT_TLS_PROXY);
    ms_client_free(c);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--allow-tls-proxy", "--prompt", "hello tls-marker-4", NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.err, "TLS key NOT bound"));
    e2e_out_free(&r);
    e2e_proxy_stop(px);
    px = NULL;
    CHECK(e2e_server_stop(&stack.sup, E2E_STOP_GRACE_MS) == 0);

    /* (b) */
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = stack.sim.port}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(up, "https", stack.sup.port);
    if (e2e_proxy_start(&(e2e_proxy_cfg){.cert_path = E.other_cert,
                                         .key_path = E.other_key,
                                         .upstream = up,
                                         .upstream_ca = W.ca},
                        &px, &pport) != 0) {
        CHECK(!"proxy");
        goto out;
    }
    e2e_url(url, "https", pport);
    c = client_new(url, E.bundle, 0, 1);
    CHECK_ERR(ms_client_connect(c), MS_ERR_HTTP_PIN);
    CHECK_ERR(turn(c, "hello intercepted-marker", &text, &ti), MS_ERR_HTTP_PIN);
    ms_client_free(c);
    CHECK(e2e_proxy_seen(px, "/handshake") == 2 && e2e_proxy_seen(px, "/request") == 0);
    CHECK(!e2e_file_contains(stack.sim.log, "intercepted-marker"));
    e2e_proxy_stop(px);
    px = NULL;

    /* (c) */
    e2e_url(url, "https", stack.sup.port);
    c = client_new(url, E.bundle, 0, 0);
    CHECK_OK(turn(c, "hello before the key change", &text, &ti));
    unsigned port = stack.sup.port;
    CHECK(e2e_server_stop(&stack.sup, E2E_STOP_GRACE_MS) == 0);
    if (e2e_world_sup(&W, &stack.sup, &(e2e_sup_cfg){.backend_port = stack.sim.port, .listen_port = port, .cert = E.other_cert, .key = E.other_key}) ==
        0) {
        CHECK_ERR(turn(c, "hello pinned-marker", &text, &ti), MS_ERR_HTTP_PIN);
        CHECK(!e2e_file_contains(stack.sim.log, "pinned-marker"));
        CHECK_OK(ms_client_connect(c)); /* a new, verified handshake binds the new key */
        CHECK_OK(turn(c, "hello with the new key", &text, &ti));
    }
    ms_client_free(c);
out:
    e2e_proxy_stop(px);
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/* Statuses and damaged answers, injected by a proxy between client and supervisor. */
static void test_faults(void)
{
    e2e_stack stack;
    e2e_proxy *px = NULL;
    unsigned pport;
    ms_buf text;
    ms_client_turn_info ti;
    char url[64], up[64], sid1[33], sid2[33];
    long st, ra;
    ms_buf_init(&text, 4096);
    if (e2e_world_stack(&W, &stack, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(up, "https", stack.sup.port);
    if (e2e_proxy_start(&(e2e_proxy_cfg){.upstream = up, .upstream_ca = W.ca}, &px, &pport) != 0) {
        CHECK(!"proxy");
        goto out;
    }
    e2e_url(url, "http", pport);
    ms_client *c = client_new(url, NULL, 1, 0);

    /* §12.2 statuses of a handshake. */
    static const struct {
        int status;
        ms_err want;
    } hs[] = {{503, MS_ERR_SERVER_BUSY},
              {400, MS_ERR_PEER_REJECTED},
              {413, MS_ERR_CAP_EXCEEDED},
              {500, MS_ERR_HTTP_STATUS},
              {404, MS_ERR_SESSION_UNKNOWN}};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        e2e_proxy_fault(
            px, &(e2e_fault){.suffix = "/handshake", .status = hs[i].status, .retry_after = 7});
        CHECK_ERR(ms_client_connect(c), hs[i].want);
    }
    ms_client_last_http(c, &st, &ra);
    CHECK(st == 404);
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/handshake", .status = 503, .retry_after = 7});
    CHECK_ERR(ms_client_connect(c), MS_ERR_SERVER_BUSY);
    ms_client_last_http(c, &st, &ra);
    CHECK(st == 503 && ra == 7);
    /* A ServerHello cut short: the handshake fails, nothing is sent. */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/handshake", .cut = 1, .cut_to = 100});
    CHECK_ERR(ms_client_connect(c), MS_ERR_TRUNCATED);
    CHECK(e2e_proxy_seen(px, "/request") == 0);

    CHECK_OK(turn(c, "hello faults", &text, &ti));
    session_of(c, sid1);
    /* A rejected record leaves the session as it was (§12.2). */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .status = 400});
    CHECK_ERR(turn(c, "hello 400", &text, &ti), MS_ERR_PEER_REJECTED);
    CHECK(ti.http_status == 400);
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .status = 413});
    CHECK_ERR(turn(c, "hello 413", &text, &ti), MS_ERR_CAP_EXCEEDED);
    /* An old reply played again: refused by the replay window. */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .replay = 1});
    CHECK_ERR(turn(c, "hello replayed", &text, &ti), MS_ERR_REC_REPLAY);
    /* A reply cut short, an oversized one. */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .cut = 1, .cut_to = 60});
    CHECK_ERR(turn(c, "hello cut", &text, &ti), MS_ERR_TRUNCATED);
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .oversize = MS_MAX_HTTP_BODY + 1});
    CHECK_ERR(turn(c, "hello big", &text, &ti), MS_ERR_HTTP_BODY);
    /* A streamed body that ends without its FINAL: part of the text, then an error. */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/stream", .cut = 1, .cut_to = 100});
    CHECK_ERR(turn_stream(c, "hello stream cut", &text, &ti), MS_ERR_STREAM_TRUNCATED);
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/stream", .cut = 1, .cut_to = 0});
    CHECK_ERR(turn_stream(c, "hello stream empty", &text, &ti), MS_ERR_STREAM_TRUNCATED);
    CHECK(text.len == 0);
    /* Another request's stream (records the client never saw, so the window lets them in). */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/stream", .replay = 1});
    CHECK_ERR(turn_stream(c, "hello stream replay", &text, &ti), MS_ERR_STREAM_MSG_ID);
    /* Through all of that, the session stayed. */
    CHECK_OK(turn(c, "hello still here", &text, &ti));
    CHECK(e2e_buf_is(&text, REPLY_HELLO) && ti.handshakes == 0);
    session_of(c, sid2);
    CHECK(strcmp(sid1, sid2) == 0);

    /* 404: one re-handshake; a second 404 is an error. */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .status = 404});
    CHECK_OK(turn(c, "hello one 404", &text, &ti));
    CHECK(ti.handshakes == 1);
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .status = 404, .count = 2});
    CHECK_ERR(turn(c, "hello two 404", &text, &ti), MS_ERR_SESSION_UNKNOWN);
    CHECK(ti.handshakes == 1);
    /* The first request of a session carries the ClientFinish: a 400 there drops the session. */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/request", .status = 400});
    CHECK_ERR(turn(c, "hello 400 with finish", &text, &ti), MS_ERR_PEER_REJECTED);
    CHECK_OK(turn(c, "hello new session", &text, &ti));
    CHECK(ti.handshakes == 1);
    /* Close: a supervisor that already forgot the session counts as closed. */
    e2e_proxy_fault(px, &(e2e_fault){.suffix = "/close", .status = 404});
    CHECK_OK(ms_client_close(c));
    ms_client_free(c);
out:
    e2e_proxy_stop(px);
    CHECK(e2e_stack_stop(&stack) == 0);
    ms_buf_free(&text);
}

/* A full session table: 503 with Retry-After, for the library and the CLI (exit 3). */
static void test_busy(void)
{
    e2e_stack stack;
    e2e_out r;
    char url[64];
    long st, ra;
    if (e2e_world_stack(&W, &stack, &SIM, &(e2e_sup_cfg){.extra = {"--max-sessions", "1"}}) != 0) {
        CHECK(!"start");
        goto out;
    }
    e2e_url(url, "https", stack.sup.port);
    ms_client *a = client_new(url, W.ca, 0, 0);
    ms_client *b = client_new(url, W.ca, 0, 0);
    CHECK_OK(ms_client_connect(a));
    CHECK_ERR(ms_client_connect(b), MS_ERR_SERVER_BUSY);
    ms_client_last_http(b, &st, &ra);
    CHECK(st == 503 && ra >= 1);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", url, "--trusted_attestation_pem", W.devpub, "--cacert", W.ca,
            "--prompt", "hello busy", NULL);
    CHECK(r.code == 3 && e2e_buf_has(&r.err, "busy") && e2e_buf_has(&r.err, "retry after 1 s"));
    e2e_out_free(&r);
    CHECK_OK(ms_client_close(a)); /* frees the slot */
    CHECK_OK(ms_client_connect(b));
    ms_client_free(a);
    ms_client_free(b);
out:
    CHECK(e2e_stack_stop(&stack) == 0);
}

/* --- set-up --------------------------------------------------------------------------------- */

static int write_bundle(void)
{
    ms_buf a, b;
    ms_buf_init(&a, 64 * 1024);
    ms_buf_init(&b, 64 * 1024);
    int rc = e2e_file_read(W.ca, &a) == 0 && e2e_file_read(E.other_ca, &b) == 0 &&
                     ms_buf_append(&a, b.p, b.len) == MS_OK && ms_buf_terminate(&a) == MS_OK
                 ? e2e_file_write(E.bundle, (const char *)a.p)
                 : -1;
    ms_buf_free(&a);
    ms_buf_free(&b);
    return rc;
}

static int setup(void)
{
    e2e_path(E.other_ca, "%s/certs/dev/other/ca.pem", W.src);
    e2e_path(E.other_cert, "%s/certs/dev/other/server.pem", W.src);
    e2e_path(E.other_key, "%s/certs/dev/other/server.key", W.src);
    e2e_world_path(&W, E.bundle, "bundle.pem");
    e2e_world_path(&W, E.otherkey, "other-dev.pem");
    e2e_world_path(&W, E.otherpub, "other-dev.pem.pub");
    if (e2e_world_devkey(&W, "dev.pem") != 0 ||
        e2e_devkey_make(E.otherkey, E.otherpub, NULL) != 0 || write_bundle() != 0 ||
        e2e_world_script(&W, SCRIPT) != 0 ||
        ms_tls_spki_sha256_file(W.cert, E.server_spki) != MS_OK) {
        fprintf(stderr, "test_e2e_client: set-up failed in %s\n", W.dir);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_e2e_client", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc,
                            argv);
    if (rc != 0 || setup() != 0) {
        return e2e_world_close(&W, rc ? rc : 1);
    }
    ms_log_set_sink(log_sink, NULL);
    RUN(test_happy_library);
    RUN(test_cli);
    RUN(test_wrong_pin);
    RUN(test_wrong_cert);
    RUN(test_http_policy);
    RUN(test_restart);
    RUN(test_fast_cache);
    RUN(test_expired);
    RUN(test_engine_down);
    RUN(test_engine_slow);
    RUN(test_stream_cut);
    RUN(test_limit);
    RUN(test_tls_binding);
    RUN(test_faults);
    RUN(test_busy);
    ms_log_set_sink(NULL, NULL);
    return e2e_world_close(&W, TEST_SUMMARY());
}

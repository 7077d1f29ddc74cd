/* Who may use the supervisor, end to end: keygen, --identity, --allowed-clients and SIGHUP,
   a third party's bad ClientFinish, and the per-address handshake limits. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "secure/attest/devkey.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/rawclient.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define REPLY "allowed-reply"

static e2e_world W;
static struct {
    char alice[PATH_MAX], alice_pub[PATH_MAX], bob[PATH_MAX], bob_pub[PATH_MAX];
    char allowed[PATH_MAX], audit[PATH_MAX];
    ms_devkey a, b;
} E;

static const e2e_sim_cfg SIM = {.record = 1};
static const e2e_cmd CLI = {.timeout_ms = 60000, .out_cap = 1u << 20};

/* Lines in llm-sim's request log: the requests that reached the engine. */
static size_t engine_requests(const e2e_stack *st)
{
    ms_buf b;
    size_t n = 0;
    ms_buf_init(&b, 1u << 22);
    if (e2e_file_read(st->sim.log, &b) == 0) {
        for (size_t i = 0; i < b.len; i++) {
            n += b.p[i] == '\n';
        }
    }
    ms_buf_free(&b);
    return n;
}

static ms_client *client_as(const char *url, const ms_devkey *id)
{
    ms_client *c = NULL;
    ms_client_cfg cfg = {.url = url, .cacert = W.ca, .pinned_dev_pk = W.pk,
                         .connect_timeout_ms = 5000, .timeout_ms = 30000,
                         .client_id_sk = id ? id->sk : NULL};
    CHECK_OK(ms_client_new(&c, &cfg));
    return c;
}

static ms_err turn(ms_client *c, const char *prompt, ms_client_turn_info *ti)
{
    ms_buf req, reply;
    ms_buf_init(&req, 4096);
    ms_buf_init(&reply, 1u << 16);
    ms_err e = ms_client_request_build(NULL, prompt, 0, -1.0, &req);
    if (e == MS_OK) {
        e = ms_client_turn(c, req.p, req.len, &reply, ti);
    }
    if (e == MS_OK && !e2e_buf_has(&reply, REPLY)) {
        e = MS_ERR_INTERNAL;
    }
    ms_buf_free(&req);
    ms_buf_free(&reply);
    return e;
}

/* Wait (bounded) until the supervisor's output holds `s`. */
static int sup_said(const e2e_stack *st, const char *s)
{
    for (int i = 0; i < 100; i++) {
        if (e2e_file_contains(st->sup.out, s)) {
            return 1;
        }
        e2e_sleep_ms(100);
    }
    return 0;
}

static void test_keygen(void)
{
    e2e_out r;
    struct stat st;
    e2e_world_runl(&W, &CLI, &r, "keygen", "--comment", "alice laptop", E.alice, NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, "ms-ed25519 ") && e2e_buf_has(&r.out, " alice laptop\n"));
    e2e_out_free(&r);
    CHECK(stat(E.alice, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(e2e_file_contains(E.alice_pub, "ms-ed25519 "));
    e2e_world_runl(&W, &CLI, &r, "keygen", E.alice, NULL); /* never overwrites */
    CHECK(r.code == 2 && e2e_buf_has(&r.err, "exists already"));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "keygen", "--comment", "bob", E.bob, NULL);
    CHECK(r.code == 0);
    e2e_out_free(&r);
    CHECK_OK(ms_devkey_load(E.alice, &E.a));
    CHECK_OK(ms_devkey_load(E.bob, &E.b));
}

/*
 * Only Alice is listed: Bob and a client without identity are refused with nothing reaching
 * the engine; Bob's line added and SIGHUP: Bob is served, Alice's session from before goes
 * on; a broken file on SIGHUP keeps the list in force.
 */
static void test_allow_list(void)
{
    e2e_stack st;
    ms_buf text, pub;
    ms_client_turn_info ti;
    char fp[MS_FINGERPRINT_LEN], b64[64], arg[PATH_MAX + 32];
    size_t n;
    ms_buf_init(&text, 1u << 16);
    ms_buf_init(&pub, 4096);
    CHECK(e2e_file_read(E.alice_pub, &pub) == 0 && ms_buf_terminate(&pub) == MS_OK);
    CHECK_OK(ms_buf_append_str(&text, "# who may use this supervisor\n\n"));
    CHECK_OK(ms_buf_append(&text, pub.p, pub.len));
    CHECK(ms_buf_terminate(&text) == MS_OK && e2e_file_write(E.allowed, (const char *)text.p) == 0);
    snprintf(arg, sizeof arg, "%s", E.allowed);
    if (e2e_world_stack(&W, &st, &SIM,
                        &(e2e_sup_cfg){.extra = {"--allowed-clients", arg, "--audit-log", E.audit}}) != 0) {
        CHECK(!"start");
        goto out;
    }
    CHECK(e2e_file_contains(st.sup.out, "allowed clients: 1 key(s)"));
    ms_client *alice = client_as(st.url, &E.a);
    CHECK_OK(turn(alice, "alice before", NULL));
    CHECK(engine_requests(&st) == 1);

    ms_client *bob = client_as(st.url, &E.b);
    CHECK_ERR(turn(bob, "bob refused", NULL), MS_ERR_PEER_REJECTED);
    ms_client *anon = client_as(st.url, NULL);
    CHECK_ERR(turn(anon, "anonymous refused", NULL), MS_ERR_PEER_REJECTED);
    CHECK(engine_requests(&st) == 1); /* nothing of theirs reached the engine */
    ms_devkey_fingerprint(E.b.pk, fp);
    CHECK(sup_said(&st, fp) && e2e_file_contains(st.sup.out, "MS_ERR_CLIENT_NOT_ALLOWED"));
    CHECK(e2e_file_contains(st.sup.out, "MS_ERR_CLIENT_NO_ID"));
    CHECK_OK(ms_base64_encode(E.b.pk, sizeof E.b.pk, b64, sizeof b64, &n));
    CHECK(!e2e_file_contains(st.sup.out, b64)); /* the fingerprint, never the key */

    /* Bob's line added, SIGHUP. */
    ms_buf_clear(&pub);
    CHECK(e2e_file_read(E.bob_pub, &pub) == 0);
    CHECK_OK(ms_buf_append(&text, pub.p, pub.len));
    CHECK(ms_buf_terminate(&text) == MS_OK && e2e_file_write(E.allowed, (const char *)text.p) == 0);
    CHECK(kill(st.sup.p.pid, SIGHUP) == 0);
    CHECK(sup_said(&st, "allowed clients: 2 key(s)"));
    CHECK_OK(turn(bob, "bob after the reload", NULL));
    CHECK_OK(turn(alice, "alice after the reload", &ti));
    CHECK(ti.handshakes == 0); /* the session from before the reload, not a new one */
    CHECK(engine_requests(&st) == 3);

    /* A broken file: refused with its line, the list in force stays. */
    CHECK(e2e_file_write(E.allowed, "# broken\nssh-rsa AAAA someone\n") == 0);
    CHECK(kill(st.sup.p.pid, SIGHUP) == 0);
    CHECK(sup_said(&st, ":2: an identity key line does not start with the key type"));
    CHECK(sup_said(&st, "the allow-list in force is unchanged"));
    ms_client *bob2 = client_as(st.url, &E.b);
    CHECK_OK(turn(bob2, "bob with a new session", &ti));
    CHECK(ti.handshakes == 1);
    CHECK_OK(ms_client_close(alice));
    ms_client_free(alice);
    ms_client_free(bob);
    ms_client_free(bob2);
    ms_client_free(anon);

    /* The CLI: --identity. */
    e2e_out r;
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", st.url, "--trusted_attestation_pem",
                   W.devpub, "--cacert", W.ca, "--identity", E.alice, "--prompt", "cli alice", NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, REPLY));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", st.url, "--trusted_attestation_pem",
                   W.devpub, "--cacert", W.ca, "--identity", E.alice_pub, "--prompt", "x", NULL);
    CHECK(r.code == 2 && e2e_buf_has(&r.err, "--identity")); /* the .pub is not the key */
    e2e_out_free(&r);
    CHECK(engine_requests(&st) == 5);
    CHECK(e2e_stack_stop(&st) == 0);
    /* The audit log names the refused clients by fingerprint, and each load of the list. */
    CHECK(e2e_file_contains(E.audit, "\"client_refused\""));
    CHECK(e2e_file_contains(E.audit, fp));
    CHECK(!e2e_file_contains(E.audit, b64));
    CHECK(e2e_file_contains(E.audit, "\"reload_failed\":\"MS_ERR_IDKEY_TYPE\""));
out:
    e2e_stack_stop(&st);
    ms_buf_free(&text);
    ms_buf_free(&pub);
}

/* A third party who knows a pending session's id sends bad ClientFinishes: the real one
   still opens the session. */
static void test_third_party_finish(void)
{
    e2e_stack st;
    e2e_http *h = NULL, *evil = NULL;
    e2e_raw s;
    long status = 0;
    char path[96];
    ms_buf body, resp, content;
    uint32_t id;
    ms_buf_init(&body, 1u << 16);
    ms_buf_init(&resp, 1u << 16);
    ms_buf_init(&content, 1u << 16);
    if (e2e_world_stack(&W, &st, &SIM, NULL) != 0) {
        CHECK(!"start");
        goto out;
    }
    CHECK(e2e_http_new(&h, st.url, W.ca) == 0 && e2e_http_new(&evil, st.url, W.ca) == 0);
    CHECK_OK(e2e_raw_handshake_id(h, W.pk, E.a.sk, &s, &status));
    uint8_t bad[MS_CLIENT_FINISH_MAX_LEN];
    e2e_raw_path(&s, "finish", path);
    for (size_t off = 0; off < s.cf_len; off += 7) { /* id, confirmation, signature */
        memcpy(bad, s.cf, s.cf_len);
        bad[off] ^= 0x20;
        CHECK(e2e_http_call(evil, "POST", path, bad, s.cf_len, NULL) == 400);
    }
    CHECK(e2e_http_call(evil, "POST", path, s.cf, 50, NULL) == 400); /* signature stripped */
    /* With a record behind it, at /request. */
    memcpy(bad, s.cf, s.cf_len);
    bad[20] ^= 1;
    CHECK_OK(ms_buf_append(&body, bad, s.cf_len));
    CHECK_OK(ms_buf_append_str(&body, "\x01garbage"));
    e2e_raw_path(&s, "request", path);
    CHECK(e2e_http_call(evil, "POST", path, body.p, body.len, NULL) == 400);
    /* The client's own finish and first turn, unharmed. */
    ms_buf_clear(&body);
    CHECK_OK(e2e_raw_seal_request(&s, "hello after the third party", 1, &body, &id));
    CHECK(e2e_http_call(h, "POST", path, body.p, body.len, &resp) == 200);
    CHECK_OK(e2e_raw_open_reply(&s, resp.p, resp.len, id, &content));
    CHECK(e2e_buf_has(&content, REPLY));
    e2e_raw_free(&s);
out:
    e2e_http_free(h);
    e2e_http_free(evil);
    CHECK(e2e_stack_stop(&st) == 0);
    ms_buf_free(&body);
    ms_buf_free(&resp);
    ms_buf_free(&content);
}

/* Per-address limits (loopback included for the test): the excess is refused, then served. */
static void test_address_limits(void)
{
    e2e_stack st;
    e2e_http *h = NULL;
    e2e_raw s[3], t;
    long status = 0;
    if (e2e_world_stack(&W, &st, &SIM,
                        &(e2e_sup_cfg){.extra = {"--limit-loopback", "--handshake-rate", "1",
                                                 "--handshake-burst", "3",
                                                 "--pending-per-address", "2"}}) != 0) {
        CHECK(!"start");
        goto out;
    }
    CHECK(e2e_http_new(&h, st.url, W.ca) == 0);
    CHECK_OK(e2e_raw_handshake(h, W.pk, &s[0], &status));
    CHECK_OK(e2e_raw_handshake(h, W.pk, &s[1], &status));
    /* A third pending one from this address: busy. */
    CHECK_ERR(e2e_raw_handshake(h, W.pk, &t, &status), MS_ERR_HTTP_STATUS);
    CHECK(status == 503);
    /* A finished handshake frees its slot. */
    CHECK_OK(e2e_raw_finish(h, &s[0], &status));
    CHECK_OK(e2e_raw_handshake(h, W.pk, &s[2], &status));
    CHECK_OK(e2e_raw_finish(h, &s[1], &status));
    CHECK_OK(e2e_raw_finish(h, &s[2], &status));
    /* The rate: 1 a second after a burst of 3 (spent above): some of 20 quick ones are refused. */
    int refused = 0, served = 0;
    for (int i = 0; i < 20; i++) {
        if (e2e_raw_handshake(h, W.pk, &t, &status) == MS_OK) {
            served++;
            CHECK_OK(e2e_raw_finish(h, &t, &status));
            e2e_raw_free(&t);
        } else {
            refused += status == 503;
        }
    }
    CHECK(refused > 0 && served < 20);
    CHECK(e2e_file_contains(st.sup.out, "503"));
    /* And recovers: a token comes back within a second or two. */
    int ok = 0;
    for (int i = 0; i < 50 && !ok; i++) {
        ok = e2e_raw_handshake(h, W.pk, &t, &status) == MS_OK;
        if (!ok) {
            e2e_sleep_ms(200);
        }
    }
    CHECK(ok);
    if (ok) {
        e2e_raw_free(&t);
    }
    for (int i = 0; i < 3; i++) {
        e2e_raw_free(&s[i]);
    }
out:
    e2e_http_free(h);
    CHECK(e2e_stack_stop(&st) == 0);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_allow_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc,
                            argv);
    if (rc == 0) {
        e2e_world_path(&W, E.alice, "alice.key");
        e2e_world_path(&W, E.alice_pub, "alice.key.pub");
        e2e_world_path(&W, E.bob, "bob.key");
        e2e_world_path(&W, E.bob_pub, "bob.key.pub");
        e2e_world_path(&W, E.allowed, "allowed_clients");
        e2e_world_path(&W, E.audit, "sup-audit.ndjson");
        rc = e2e_world_devkey(&W, "dev.pem") != 0 || e2e_world_home(&W) != 0 ||
             e2e_world_script(&W, "{\"rules\": [], \"default\": \"" REPLY "\"}") != 0 ||
             e2e_http_global_init() != 0;
    }
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    RUN(test_keygen);
    RUN(test_allow_list);
    RUN(test_third_party_finish);
    RUN(test_address_limits);
    ms_devkey_wipe(&E.a);
    ms_devkey_wipe(&E.b);
    return e2e_world_close(&W, TEST_SUMMARY());
}

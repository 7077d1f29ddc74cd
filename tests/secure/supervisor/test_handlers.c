/* Supervisor endpoint tests without HTTP: §12 statuses, finish piggyback, refusals that change nothing. */
#include <stdlib.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/codec.h"
#include "common/cursor.h"
#include "secure/hs_msg.h"
#include "secure/supervisor/handlers.h"
#include "tests/test.h"

typedef struct world {
    char dir[128];
    ms_devkey dev;
    ms_evidence_source src;
    ms_identity id;
    ms_sup sup;
    int strict; /* client_connect asks for STRICT evidence */
} world;

/* A supervisor whose engine URL points at a port nothing listens on. */
static void world_init(world *w, size_t max_sessions, uint64_t ttl_ms)
{
    int created;
    char p[256];
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/ms-test-handlers-XXXXXX");
    if (!mkdtemp(w->dir)) {
        abort();
    }
    snprintf(p, sizeof p, "%s/dev.pem", w->dir);
    ms_bridge_cfg bc = {.base_url = "http://127.0.0.1:9/v1", .model = "m", .timeout_ms = 2000,
                        .connect_timeout_ms = 500};
    if (ms_devkey_load_or_create(p, &w->dev, &created) != MS_OK) {
        abort();
    }
    ms_evidence_source_devkey(&w->src, &w->dev);
    if (ms_identity_init(&w->id, &w->src, 300, ms_now_s()) != MS_OK ||
        ms_sessions_new(&w->sup.sessions, max_sessions, ttl_ms) != MS_OK ||
        ms_bridge_new(&w->sup.bridge, &bc) != MS_OK) {
        abort();
    }
    w->sup.id = &w->id;
    w->sup.development = 1;
}

static void world_free(world *w)
{
    char cmd[300];
    ms_bridge_free(w->sup.bridge);
    ms_sessions_free(w->sup.sessions);
    ms_identity_destroy(&w->id);
    ms_devkey_wipe(&w->dev);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", w->dir);
    }
}

static ms_err verify_dev(void *ctx, const ms_evidence_view *ev)
{
    const uint8_t *pk = ctx;
    return ms_devkey_verify(pk, ev->data, ev->len, ev->binding);
}

/* A client of `w`: a handshake through the endpoint, keeping the ClientFinish. */
typedef struct client {
    struct ms_channel *chan;
    uint8_t sid[MS_SESSION_ID_LEN];
    ms_buf cf;
    uint32_t next_id;
} client;

static ms_err client_connect(world *w, client *c)
{
    struct ms_hs_client *hs;
    ms_buf ch;
    ms_hs_client_result res;
    ms_sup_reply r;
    uint16_t types[] = {MS_EVIDENCE_DEV_KEY};
    ms_hs_client_cfg cfg = {.evidence_types = types, .n_evidence_types = 1, .verify = verify_dev,
                            .verify_ctx = w->dev.pk, .strict = w->strict};
    memset(c, 0, sizeof *c);
    ms_buf_init(&c->cf, 256);
    ms_buf_init(&ch, 256);
    ms_sup_reply_init(&r);
    c->next_id = 1;
    ms_err e = ms_hs_client_new(&hs, &cfg, &ch);
    if (e == MS_OK) {
        ms_sup_handle(&w->sup, MS_ROUTE_HANDSHAKE, c->sid, ch.p, ch.len, &r);
        e = r.status == 200 ? ms_hs_client_finish(hs, r.body.p, r.body.len, ms_now_s(), &c->cf,
                                                  &c->chan, &res)
                            : (r.status == 503 ? MS_ERR_SERVER_BUSY : MS_ERR_PEER_REJECTED);
        ms_hs_client_free(hs);
    }
    if (e == MS_OK) {
        memcpy(c->sid, res.session_id, sizeof c->sid);
    }
    ms_buf_free(&ch);
    ms_sup_reply_free(&r);
    return e;
}

static void client_free(client *c)
{
    ms_channel_free(c->chan);
    ms_buf_free(&c->cf);
}

/* [ClientFinish if still unsent] + one MSG record carrying `json`. */
static void make_body(client *c, const char *json, ms_buf *body)
{
    ms_buf_clear(body);
    if (c->cf.len) {
        if (ms_buf_append(body, c->cf.p, c->cf.len) != MS_OK) {
            abort();
        }
        ms_buf_clear(&c->cf);
    }
    if (ms_channel_seal_buf(c->chan, MS_REC_MSG, c->next_id++, 0, (const uint8_t *)json,
                            strlen(json), body) != MS_OK) {
        abort();
    }
}

static int call(world *w, client *c, enum ms_sup_route route, const ms_buf *body, ms_buf *pt)
{
    ms_sup_reply r;
    ms_record_info info;
    ms_sup_reply_init(&r);
    ms_sup_handle(&w->sup, route, c->sid, body->p, body->len, &r);
    int status = r.status;
    if (status == 200 && pt) {
        ms_buf_clear(pt);
        if (ms_channel_open_buf(c->chan, r.body.p, r.body.len, &info, pt) != MS_OK ||
            info.rec_len != r.body.len) {
            status = -1; /* the reply did not open: a failure of its own */
        }
    }
    ms_sup_reply_free(&r);
    return status;
}

static const char REQ[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

static void test_routes(void)
{
    uint8_t sid[MS_SESSION_ID_LEN];
    CHECK(ms_sup_route_of("/v1/health", sid) == MS_ROUTE_HEALTH);
    CHECK(ms_sup_route_of("/v1/handshake", sid) == MS_ROUTE_HANDSHAKE);
    CHECK(ms_sup_route_of("/v1/session/00112233445566778899aabbccddeeff/request", sid) ==
          MS_ROUTE_REQUEST);
    CHECK(sid[0] == 0x00 && sid[15] == 0xff);
    CHECK(ms_sup_route_of("/v1/session/00112233445566778899aabbccddeeff/stream", sid) == MS_ROUTE_STREAM);
    const char *bad[] = {"/", "/v1/handshake/", "/v1/session/", "/v1/session/0011/request",
                         "/v1/session/00112233445566778899aabbccddeefg/request",
                         "/v1/session/00112233445566778899aabbccddeeff",
                         "/v1/session/00112233445566778899aabbccddeeff/request/x",
                         "/v1/session/00112233445566778899aabbccddeeff00/request",
                         /* the prefix itself, at the same length: */
                         "/v2/session/00112233445566778899aabbccddeeff/request",
                         "/v1/sessions00112233445566778899aabbccddeeff/request",
                         "x/v1/session00112233445566778899aabbccddeeff/request",
                         "/v1/session/00112233445566778899AABBCCDDEEFF/request", /* 12: lowercase */
                         "/v1/session/00112233445566778899aabbccddeeFf/close",
                         "/v1/session/00112233445566778899Aabbccddeeff/request"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(ms_sup_route_of(bad[i], sid) == MS_ROUTE_NONE);
    }
}

/* The ClientFinish rides in front of the first record; the reply opens; the engine is down. */
static void test_first_turn_and_engine_down(void)
{
    world w;
    client c;
    ms_buf body, pt;
    world_init(&w, 16, 60000);
    ms_buf_init(&body, 1 << 20);
    ms_buf_init(&pt, 1 << 20);
    CHECK_OK(client_connect(&w, &c));
    make_body(&c, REQ, &body);
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &body, &pt) == 200);
    CHECK(pt.len > 0 && ms_buf_terminate(&pt) == MS_OK &&
          strstr((const char *)pt.p, "\"ok\":false") && strstr((const char *)pt.p, "backend_unavailable"));
    /* The session survived the engine failure. */
    make_body(&c, REQ, &body);
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &body, &pt) == 200);
    /* A malformed payload is a sealed bad_request, and the session goes on. */
    make_body(&c, "{\"messages\":[],\"extra\":1}", &body);
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &body, &pt) == 200);
    CHECK(ms_buf_terminate(&pt) == MS_OK && strstr((const char *)pt.p, "bad_request"));
    client_free(&c);
    ms_buf_free(&body);
    ms_buf_free(&pt);
    world_free(&w);
}

/* Refused bodies change nothing: the same record still opens afterwards, exactly once. */
static void test_refusals_change_nothing(void)
{
    world w;
    client c;
    ms_buf body, bad, pt;
    world_init(&w, 16, 60000);
    ms_buf_init(&body, 1 << 20);
    ms_buf_init(&bad, 1 << 20);
    ms_buf_init(&pt, 1 << 20);
    CHECK_OK(client_connect(&w, &c));
    ms_buf cf_copy;
    ms_buf_init(&cf_copy, 256);
    CHECK_OK(ms_buf_append(&cf_copy, c.cf.p, c.cf.len));
    CHECK(call(&w, &c, MS_ROUTE_FINISH, &c.cf, NULL) == 204);
    ms_buf_clear(&c.cf);
    make_body(&c, REQ, &body);
    /* one byte flipped */
    CHECK_OK(ms_buf_append(&bad, body.p, body.len));
    bad.p[bad.len - 1] ^= 1;
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &bad, NULL) == 400);
    /* a trailing byte: refused before opening */
    ms_buf_clear(&bad);
    CHECK_OK(ms_buf_append(&bad, body.p, body.len));
    CHECK_OK(ms_buf_append_u8(&bad, 0));
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &bad, NULL) == 400);
    /* the right record on the wrong endpoint */
    CHECK(call(&w, &c, MS_ROUTE_CLOSE, &body, NULL) == 400);
    /* the ClientFinish replayed, alone and in front of the record */
    CHECK(call(&w, &c, MS_ROUTE_FINISH, &cf_copy, NULL) == 400);
    ms_buf_clear(&bad);
    CHECK_OK(ms_buf_append(&bad, cf_copy.p, cf_copy.len));
    CHECK_OK(ms_buf_append(&bad, body.p, body.len));
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &bad, NULL) == 400);
    ms_buf_free(&cf_copy);
    /* ... and now the genuine record: accepted once, then a replay */
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &body, &pt) == 200);
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &body, NULL) == 400);
    client_free(&c);
    ms_buf_free(&body);
    ms_buf_free(&bad);
    ms_buf_free(&pt);
    world_free(&w);
}

static void test_other_session_and_unknown(void)
{
    world w;
    client a, b;
    ms_buf body;
    world_init(&w, 16, 60000);
    ms_buf_init(&body, 1 << 20);
    CHECK_OK(client_connect(&w, &a));
    CHECK_OK(client_connect(&w, &b));
    CHECK(call(&w, &a, MS_ROUTE_FINISH, &a.cf, NULL) == 204);
    ms_buf_clear(&a.cf);
    CHECK(call(&w, &b, MS_ROUTE_FINISH, &b.cf, NULL) == 204);
    ms_buf_clear(&b.cf);
    /* a's record sent to b's session URL */
    make_body(&a, REQ, &body);
    CHECK(call(&w, &b, MS_ROUTE_REQUEST, &body, NULL) == 400);
    CHECK(call(&w, &a, MS_ROUTE_REQUEST, &body, NULL) == 200);
    /* close, then the session is unknown */
    ms_buf_clear(&body);
    CHECK_OK(ms_channel_seal_buf(a.chan, MS_REC_CLOSE, 0, 0, NULL, 0, &body));
    ms_buf pt;
    ms_buf_init(&pt, 1024);
    CHECK(call(&w, &a, MS_ROUTE_CLOSE, &body, &pt) == 200);
    CHECK_ERR(ms_channel_seal_buf(a.chan, MS_REC_MSG, 9, 0, NULL, 0, &body), MS_ERR_CHANNEL_CLOSED);
    make_body(&b, REQ, &body); /* any body: an unknown session is decided first */
    CHECK(call(&w, &a, MS_ROUTE_REQUEST, &body, NULL) == 404);
    CHECK(call(&w, &b, MS_ROUTE_REQUEST, &body, NULL) == 200);
    CHECK(ms_sessions_count(w.sup.sessions) == 1);
    ms_buf_free(&pt);
    client_free(&a);
    client_free(&b);
    ms_buf_free(&body);
    world_free(&w);
}

/*
 * A pending session: records before the finish are refused; a bad finish (anyone who knows
 * the session id can send one) changes nothing, and the client's own finish still opens it.
 */
static void test_pending_rules(void)
{
    world w;
    client c;
    ms_buf body, cf;
    world_init(&w, 16, 60000);
    ms_buf_init(&body, 1 << 20);
    ms_buf_init(&cf, 256);
    CHECK_OK(client_connect(&w, &c));
    CHECK_OK(ms_buf_append(&cf, c.cf.p, c.cf.len));
    ms_buf_clear(&c.cf);
    make_body(&c, REQ, &body); /* no finish in front */
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &body, NULL) == 400);
    cf.p[20] ^= 1; /* the confirmation */
    CHECK(call(&w, &c, MS_ROUTE_FINISH, &cf, NULL) == 400);
    cf.p[20] ^= 1;
    cf.p[5] ^= 1; /* the session id inside: not this session's */
    CHECK(call(&w, &c, MS_ROUTE_FINISH, &cf, NULL) == 400);
    cf.p[5] ^= 1;
    CHECK(call(&w, &c, MS_ROUTE_FINISH, &cf, NULL) == 204);
    CHECK(call(&w, &c, MS_ROUTE_FINISH, &cf, NULL) == 400); /* a second finish */
    make_body(&c, REQ, &body);
    CHECK(call(&w, &c, MS_ROUTE_REQUEST, &body, NULL) == 200);
    client_free(&c);
    ms_buf_free(&body);
    ms_buf_free(&cf);
    world_free(&w);
}

static void test_full_and_expiry(void)
{
    world w;
    client c[3];
    world_init(&w, 2, 1000);
    CHECK_OK(client_connect(&w, &c[0]));
    CHECK_OK(client_connect(&w, &c[1]));
    CHECK_ERR(client_connect(&w, &c[2]), MS_ERR_SERVER_BUSY);
    client_free(&c[2]);
    ms_sup_reply r;
    ms_sup_reply_init(&r);
    uint8_t sid[MS_SESSION_ID_LEN] = {0};
    ms_sup_handle(&w.sup, MS_ROUTE_HANDSHAKE, sid, (const uint8_t *)"x", 1, &r);
    CHECK(r.status == 503 && r.retry_after > 0); /* busy is reported before parsing */
    ms_sup_reply_free(&r);
    sleep(2); /* idle past the 1 s TTL */
    CHECK_OK(client_connect(&w, &c[2]));
    ms_buf body;
    ms_buf_init(&body, 1 << 20);
    make_body(&c[0], REQ, &body);
    CHECK(call(&w, &c[0], MS_ROUTE_REQUEST, &body, NULL) == 404);
    for (int i = 0; i < 3; i++) {
        client_free(&c[i]);
    }
    ms_buf_free(&body);
    world_free(&w);
}

static void test_request_payload_rules(void)
{
    const char *good[] = {REQ,
                          "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\","
                          "\"content\":\"u\"}],\"max_tokens\":5,\"temperature\":0.5}"};
    const char *bad[] = {"", "[]", "{}", "{\"messages\":[]}",
                         "{\"messages\":[{\"role\":\"root\",\"content\":\"x\"}]}",
                         "{\"messages\":[{\"role\":\"user\"}]}",
                         "{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"name\":\"n\"}]}",
                         "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"other\"}",
                         "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}",
                         "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}",
                         "{\"messages\":[{\"role\":\"user\",\"content\":1}]}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_OK(ms_bridge_check_request((const uint8_t *)good[i], strlen(good[i])));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ERR(ms_bridge_check_request((const uint8_t *)bad[i], strlen(bad[i])), MS_ERR_PAYLOAD);
    }
}

/* --strict-rate: fresh evidence past the bucket is a 503 (MS_ERR_STRICT_RATE); FAST
   handshakes are not limited. The bucket starts an hour ahead, so it never refills here. */
static void test_strict_rate(void)
{
    world w;
    client a, b, c;
    ms_rate rate;
    world_init(&w, 8, 60000);
    CHECK_OK(ms_rate_init(&rate, 1, 1, ms_clock_ms() + 3600u * 1000u));
    w.sup.strict_rate = &rate;
    w.strict = 1;
    CHECK_OK(client_connect(&w, &a));
    CHECK_ERR(client_connect(&w, &b), MS_ERR_SERVER_BUSY);
    w.strict = 0;
    CHECK_OK(client_connect(&w, &c));
    client_free(&a);
    client_free(&b);
    client_free(&c);
    ms_rate_destroy(&rate);
    world_free(&w);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_routes);
    RUN(test_first_turn_and_engine_down);
    RUN(test_refusals_change_nothing);
    RUN(test_other_session_and_unknown);
    RUN(test_pending_rules);
    RUN(test_full_and_expiry);
    RUN(test_request_payload_rules);
    RUN(test_strict_rate);
    return TEST_SUMMARY();
}

/* Supervisor endpoint tests without HTTP: §12 statuses, finish piggyback, refusals that change nothing. */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/codec.h"
#include "common/cursor.h"
#include "common/limits.h"
#include "secure/client/reply.h"
#include "secure/hs_msg.h"
#include "secure/supervisor/handlers.h"
#include "secure/supervisor/sessions.h"
#include "tests/fixture/http_fixture.h"
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

/* The periodic sweep finds sessions in any bucket (it visits only the buckets that hold one). */
static void test_sweep_finds_every_session(void)
{
    world w;
    client c[6];
    world_init(&w, 300, 1000); /* 512 buckets: the 6 ids land in buckets across the words */
    for (int i = 0; i < 6; i++) {
        CHECK_OK(client_connect(&w, &c[i]));
    }
    ms_sessions_sweep(w.sup.sessions, ms_clock_ms());
    CHECK(ms_sessions_count(w.sup.sessions) == 6); /* none idle yet */
    sleep(2);                                      /* idle past the 1 s TTL */
    ms_sessions_sweep(w.sup.sessions, ms_clock_ms());
    CHECK(ms_sessions_count(w.sup.sessions) == 0);
    client_free(&c[0]);
    CHECK_OK(client_connect(&w, &c[0])); /* the table takes sessions again */
    ms_sessions_sweep(w.sup.sessions, ms_clock_ms());
    CHECK(ms_sessions_count(w.sup.sessions) == 1);
    for (int i = 0; i < 6; i++) {
        client_free(&c[i]);
    }
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

/* --- streamed replies: pieces that wait are joined into one record ---------------------------- */

#define SSE_EV(json) "data: " json "\n\n"
#define SSE_PIECE(text) SSE_EV("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" text "\"}}]}")
#define LONG_HEAD "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x"
#define SSE_ROLE SSE_EV("{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}")
#define SSE_END                                                                                    \
    SSE_EV("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}")               \
    "data: [DONE]\n\n"

/* What the client's stream reader handed over, record by record. */
typedef struct got {
    ms_buf text;
    unsigned records, not_utf8, too_long;
} got;

static ms_err on_record(void *ctx, const char *p, size_t n)
{
    got *g = ctx;
    g->records++;
    g->too_long += n > MS_STREAM_COALESCE_MAX;
    g->not_utf8 += n > 0 && ((uint8_t)p[0] & 0xc0) == 0x80;          /* starts inside one */
    g->not_utf8 += n > 0 && ((uint8_t)p[n - 1] & 0xc0) == 0xc0;      /* ends on a lead byte */
    return ms_buf_append(&g->text, p, n);
}

/* A world whose engine is the fixture at prefix. */
static void world_engine(world *w, const fx_server *srv, const char *prefix)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s/v1", (unsigned)fx_port(srv), prefix);
    ms_bridge_cfg bc = {.base_url = url, .model = "m", .timeout_ms = 60000,
                        .connect_timeout_ms = 2000};
    ms_bridge_free(w->sup.bridge);
    w->sup.bridge = NULL;
    if (ms_bridge_new(&w->sup.bridge, &bc) != MS_OK) {
        abort();
    }
}

/* Records the supervisor sealed on c's session so far. */
static uint64_t sealed(world *w, const client *c)
{
    ms_session *s = ms_sessions_acquire(w->sup.sessions, c->sid, ms_clock_ms());
    uint64_t n = 0;
    if (s) {
        pthread_mutex_lock(&s->lock);
        n = s->records_out;
        pthread_mutex_unlock(&s->lock);
        ms_sessions_release(w->sup.sessions, s);
    }
    return n;
}

/* Start a streamed turn on c: the stream, or NULL. */
static ms_sup_stream *stream_turn(world *w, client *c)
{
    ms_buf body;
    ms_sup_reply r;
    ms_sup_stream *st = NULL;
    ms_buf_init(&body, 4096);
    ms_sup_reply_init(&r);
    make_body(c, REQ, &body);
    ms_sup_stream_start(&w->sup, c->sid, body.p, body.len, &r, &st);
    CHECK(r.status == 200 && st != NULL);
    ms_sup_reply_free(&r);
    ms_buf_free(&body);
    return st;
}

/* Feed what one read returns into the reader: the bytes read (0 at the end). */
static size_t read_once(ms_sup_stream *st, ms_reply_stream *rs)
{
    static uint8_t buf[256 * 1024];
    size_t n = ms_sup_stream_read(st, buf, sizeof buf);
    CHECK_OK(ms_reply_stream_feed(rs, buf, n));
    return n;
}

static void read_to_end(ms_sup_stream *st, ms_reply_stream *rs)
{
    const uint8_t *final;
    size_t len;
    while (read_once(st, rs) > 0) {
    }
    CHECK_OK(ms_reply_stream_end(rs, &final, &len));
    CHECK(len > 0 && memmem(final, len, "\"ok\":true", 9) != NULL);
}

/* A streamed turn: a supervisor whose engine (the fixture) answers with sse, chunk bytes at
   a time chunk_delay_ms apart (0: all at once), a client on it, the turn started and the
   client's stream reader ready (what it hands over lands in g). */
typedef struct stream_fx {
    fx_route route;
    fx_server *srv;
    world w;
    client c;
    got g;
    ms_reply_stream rs;
    ms_sup_stream *st;
} stream_fx;

static void stream_fx_start(stream_fx *f, const ms_buf *sse, size_t chunk,
                            unsigned chunk_delay_ms)
{
    memset(f, 0, sizeof *f);
    f->route = (fx_route){.path = "/s/v1/chat/completions", .content_type = "text/event-stream",
                          .body = (const char *)sse->p, .body_len = sse->len, .chunk = chunk,
                          .chunk_delay_ms = chunk_delay_ms};
    f->srv = fx_start(&f->route, 1);
    CHECK(f->srv != NULL);
    ms_buf_init(&f->g.text, 1u << 20);
    world_init(&f->w, 4, 60000);
    world_engine(&f->w, f->srv, "/s");
    CHECK_OK(client_connect(&f->w, &f->c));
    f->st = stream_turn(&f->w, &f->c);
    ms_reply_stream_init(&f->rs, f->c.chan, f->c.next_id - 1, on_record, &f->g);
}

static void stream_fx_stop(stream_fx *f)
{
    ms_reply_stream_free(&f->rs);
    ms_sup_stream_free(f->st);
    client_free(&f->c);
    world_free(&f->w);
    fx_stop(f->srv);
    ms_buf_free(&f->g.text);
}

/*
 * The engine sends 300 pieces, then one of 20001 bytes ("x" and 10000 two-byte
 * characters), all before anyone reads: the 300 go out as one record, the long one is cut
 * under MS_STREAM_COALESCE_MAX on a character's boundary, and the text is unchanged.
 */
static void test_stream_joins_waiting_pieces(void)
{
    enum { N_SHORT = 300, N_WIDE = 10000 };
    ms_buf sse, want;
    ms_buf_init(&sse, 1u << 20);
    ms_buf_init(&want, 1u << 20);
    CHECK_OK(ms_buf_append_str(&sse, SSE_ROLE));
    for (unsigned i = 0; i < N_SHORT; i++) {
        char ev[128], word[16];
        snprintf(word, sizeof word, "w%03u ", i);
        snprintf(ev, sizeof ev, SSE_PIECE("%s"), word);
        CHECK_OK(ms_buf_append_str(&sse, ev));
        CHECK_OK(ms_buf_append_str(&want, word));
    }
    CHECK_OK(ms_buf_append_str(&sse, LONG_HEAD));
    CHECK_OK(ms_buf_append_str(&want, "x"));
    for (unsigned i = 0; i < N_WIDE; i++) {
        CHECK_OK(ms_buf_append_str(&sse, "\xc3\xa9"));
        CHECK_OK(ms_buf_append_str(&want, "\xc3\xa9"));
    }
    CHECK_OK(ms_buf_append_str(&sse, "\"}}]}\n\n" SSE_END));
    stream_fx f;
    stream_fx_start(&f, &sse, 0, 0);
    /* the engine sends the whole body at once: the reader's steps read it together, and it
       goes out as the 300, the long piece's 2 parts, then the FINAL */
    read_to_end(f.st, &f.rs);
    CHECK(f.g.records == 3 && sealed(&f.w, &f.c) == 4);
    CHECK(f.g.not_utf8 == 0 && f.g.too_long == 0);
    CHECK(f.g.text.len == want.len && memcmp(f.g.text.p, want.p, want.len) == 0);
    stream_fx_stop(&f);
    ms_buf_free(&sse);
    ms_buf_free(&want);
}

/* An engine's stream whose first 512 bytes are the role, "Hello" and a comment that pads them
   to 512; then " world" and the end (a fixture that holds the rest back splits it there). */
static void sse_hello_then_world(ms_buf *sse)
{
    char first[513];
    const char head[] = SSE_ROLE SSE_PIECE("Hello") ": ";
    memset(first, 'p', sizeof first - 1);
    memcpy(first, head, sizeof head - 1);
    memcpy(first + 510, "\n\n", 2);
    first[512] = '\0';
    ms_buf_init(sse, 4096);
    CHECK_OK(ms_buf_append_str(sse, first));
    CHECK_OK(ms_buf_append_str(sse, SSE_PIECE(" world") SSE_END));
}

/*
 * A reader that waits gets the first piece while the engine still holds the rest (it sends
 * them 4 s later): nothing is held back waiting for more.
 */
static void test_stream_first_piece_at_once(void)
{
    ms_buf sse;
    sse_hello_then_world(&sse);
    stream_fx f;
    stream_fx_start(&f, &sse, 512, 4000);
    while (f.g.records == 0 && read_once(f.st, &f.rs) > 0) {
    }
    CHECK(f.g.records == 1 && f.g.text.len == 5 && memcmp(f.g.text.p, "Hello", 5) == 0);
    CHECK(sealed(&f.w, &f.c) == 1); /* no FINAL yet: the engine still holds " world" */
    read_to_end(f.st, &f.rs);
    CHECK(f.g.text.len == 11 && memcmp(f.g.text.p, "Hello world", 11) == 0);
    stream_fx_stop(&f);
    ms_buf_free(&sse);
}

/*
 * 50 pieces (most of them on the engine reader's short path, common/llm/call.c) waiting
 * when the engine's stream ends with `tail`: they go out as one record, text and order
 * intact, then the FINAL, which must hold `want` (the finish reason of a cut at the token
 * limit, or the error of a stream cut short: never a complete-looking answer).
 */
static void joined_then(const char *tail, const char *want_final)
{
    ms_buf sse, want;
    const uint8_t *final;
    size_t len;
    ms_buf_init(&sse, 1u << 20);
    ms_buf_init(&want, 1u << 20);
    CHECK_OK(ms_buf_append_str(&sse, SSE_ROLE));
    for (unsigned i = 0; i < 50; i++) {
        char ev[128], word[16];
        snprintf(word, sizeof word, "t%02u\\n", i); /* an escape in every piece */
        snprintf(ev, sizeof ev, SSE_PIECE("%s"), word);
        CHECK_OK(ms_buf_append_str(&sse, ev));
        snprintf(word, sizeof word, "t%02u\n", i);
        CHECK_OK(ms_buf_append_str(&want, word));
    }
    CHECK_OK(ms_buf_append_str(&sse, tail));
    stream_fx f;
    stream_fx_start(&f, &sse, 0, 0);
    while (read_once(f.st, &f.rs) > 0) {
    }
    CHECK(f.g.records == 1 && sealed(&f.w, &f.c) == 2);
    CHECK(f.g.text.len == want.len && memcmp(f.g.text.p, want.p, want.len) == 0);
    CHECK_OK(ms_reply_stream_end(&f.rs, &final, &len));
    CHECK(len > 0 && memmem(final, len, want_final, strlen(want_final)) != NULL);
    if (len == 0 || memmem(final, len, want_final, strlen(want_final)) == NULL) {
        fprintf(stderr, "  FINAL %.*s\n", (int)len, final ? (const char *)final : "");
    }
    stream_fx_stop(&f);
    ms_buf_free(&sse);
    ms_buf_free(&want);
}

static void test_stream_joined_keeps_finish_and_cuts(void)
{
    joined_then(SSE_EV("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}")
                    "data: [DONE]\n\n",
                "\"finish_reason\":\"length\"");
    joined_then(SSE_END, "\"finish_reason\":\"stop\"");
    joined_then("", "\"ok\":false");                        /* cut: no finish, no [DONE] */
    joined_then("data: {\"choices\":[", "\"ok\":false"); /* cut inside an event */
    /* the engine's error after pieces (an error object, llama.cpp's error line): an error
       FINAL with its message, never a short answer */
    joined_then(SSE_EV("{\"error\":{\"message\":\"boom\"}}"), "boom");
    joined_then("error: {\"message\":\"out of memory\"}\n\n", "out of memory");
}

/*
 * The engine's connection breaks after the first piece (a chunked body cut without its
 * last chunk): the piece went out, and the FINAL is an error, not a short answer.
 */
static void test_stream_engine_cut(void)
{
    const uint8_t *final;
    size_t len;
    ms_buf sse;
    ms_buf_init(&sse, 4096);
    CHECK_OK(ms_buf_append_str(&sse, SSE_ROLE SSE_PIECE("Hello")));
    stream_fx f;
    memset(&f, 0, sizeof f);
    f.route = (fx_route){.path = "/s/v1/chat/completions", .content_type = "text/event-stream",
                         .body = (const char *)sse.p, .body_len = sse.len, .chunk = 64,
                         .cut = true};
    f.srv = fx_start(&f.route, 1);
    CHECK(f.srv != NULL);
    ms_buf_init(&f.g.text, 1u << 20);
    world_init(&f.w, 4, 60000);
    world_engine(&f.w, f.srv, "/s");
    CHECK_OK(client_connect(&f.w, &f.c));
    f.st = stream_turn(&f.w, &f.c);
    ms_reply_stream_init(&f.rs, f.c.chan, f.c.next_id - 1, on_record, &f.g);
    while (read_once(f.st, &f.rs) > 0) {
    }
    CHECK(f.g.text.len == 5 && memcmp(f.g.text.p, "Hello", 5) == 0);
    CHECK_OK(ms_reply_stream_end(&f.rs, &final, &len));
    CHECK(len > 0 && memmem(final, len, "\"ok\":false", 10) != NULL);
    if (len == 0 || memmem(final, len, "\"ok\":false", 10) == NULL) {
        fprintf(stderr, "  FINAL %.*s\n", (int)len, final ? (const char *)final : "");
    }
    stream_fx_stop(&f);
    ms_buf_free(&sse);
}

/*
 * The client goes away mid-answer (libmicrohttpd frees the stream while the engine still
 * holds the rest for 4 s): the free returns, the engine call is aborted and its connection
 * not pooled, and the next streamed turn on the session runs on a new connection.
 */
static void test_stream_cancel_mid_answer(void)
{
    ms_buf sse;
    sse_hello_then_world(&sse);
    stream_fx f;
    stream_fx_start(&f, &sse, 512, 4000);
    while (f.g.records == 0 && read_once(f.st, &f.rs) > 0) {
    }
    CHECK(f.g.records == 1 && sealed(&f.w, &f.c) == 1);
    ms_sup_stream_free(f.st); /* the client went away */
    CHECK(sealed(&f.w, &f.c) == 1);
    CHECK(fx_connections(f.srv) == 1);
    /* the next turn: a new engine connection, and a whole answer */
    ms_reply_stream_free(&f.rs);
    ms_buf_clear(&f.g.text);
    f.g.records = 0;
    f.st = stream_turn(&f.w, &f.c);
    ms_reply_stream_init(&f.rs, f.c.chan, f.c.next_id - 1, on_record, &f.g);
    read_to_end(f.st, &f.rs);
    CHECK(f.g.text.len == 11 && memcmp(f.g.text.p, "Hello world", 11) == 0);
    CHECK(fx_connections(f.srv) == 2);
    stream_fx_stop(&f);
    ms_buf_free(&sse);
}


/* §12.1 Minions-Evidence-Held: 64 lowercase hex digits, nothing else. */
static void test_held_hint_parse(void)
{
    uint8_t d[MS_HELD_DIGEST_LEN];
    const char *ok = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    CHECK(ms_sup_held_hint(ok, d) == 1 && d[0] == 0x00 && d[5] == 0x55 && d[31] == 0xff);
    const char *bad[] = {NULL, "", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
                         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
                         "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
                         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
                         "00112233445566778899aabbccddeeff00112233445566778899aabbccddee f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(d, 0x77, sizeof d);
        CHECK(ms_sup_held_hint(bad[i], d) == 0);
        CHECK(d[0] == 0 && d[31] == 0);
    }
}

/* One handshake with `hint` (NULL: none); the ServerHello's evidence mode and length. */
static void held_handshake(world *w, const char *hint, const uint8_t *held, size_t held_len,
                           const uint8_t *held_sha, uint8_t *mode, size_t *sh_len, ms_buf *ev)
{
    struct ms_hs_client *hs;
    struct ms_channel *chan = NULL;
    ms_buf ch, cf;
    ms_hs_client_result res;
    ms_sup_reply r;
    ms_server_hello sh;
    uint8_t sid[MS_SESSION_ID_LEN] = {0};
    uint16_t types[] = {MS_EVIDENCE_DEV_KEY};
    ms_hs_client_cfg cfg = {.evidence_types = types, .n_evidence_types = 1, .verify = verify_dev,
                            .verify_ctx = w->dev.pk, .held = held, .held_len = held_len,
                            .held_sha256 = held_sha};
    ms_buf_init(&ch, 256);
    ms_buf_init(&cf, 256);
    ms_sup_reply_init(&r);
    CHECK_OK(ms_hs_client_new(&hs, &cfg, &ch));
    ms_sup_handle_held(&w->sup, NULL, MS_ROUTE_HANDSHAKE, sid, hint, ch.p, ch.len, &r);
    CHECK(r.status == 200);
    CHECK_OK(ms_server_hello_decode(r.body.p, r.body.len, &sh));
    *mode = sh.evidence_mode;
    *sh_len = r.body.len;
    if (ev) {
        ms_buf_clear(ev);
        CHECK_OK(ms_buf_append(ev, sh.evidence, sh.evidence_len));
    }
    CHECK_OK(ms_hs_client_finish(hs, r.body.p, r.body.len, ms_now_s(), &cf, &chan, &res));
    CHECK(res.evidence_held == (sh.evidence_mode == MS_MODE_FAST_HELD));
    ms_hs_client_free(hs);
    ms_channel_free(chan);
    ms_buf_free(&ch);
    ms_buf_free(&cf);
    ms_sup_reply_free(&r);
}

/*
 * §6 held evidence at the supervisor: a client without the header (an old one) gets the
 * bytes; with its SHA-256 the digest; a digest it does not hold (forged, stale) or a
 * malformed header the bytes again.
 */
static void test_held_evidence(void)
{
    world w;
    ms_buf ev;
    uint8_t mode, sha[MS_HELD_DIGEST_LEN];
    char hex[2 * MS_HELD_DIGEST_LEN + 1];
    size_t n, len;
    world_init(&w, 16, 60000);
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    held_handshake(&w, NULL, NULL, 0, NULL, &mode, &len, &ev);
    CHECK(mode == MS_MODE_FAST && len == MS_SERVER_HELLO_FIXED_LEN + ev.len && ev.len == 97);
    crypto_hash_sha256(sha, ev.p, ev.len);
    CHECK_MEM(sha, w.id.evidence_sha256, sizeof sha);
    CHECK_OK(ms_hex_encode(sha, sizeof sha, hex, sizeof hex, &n));
    held_handshake(&w, hex, ev.p, ev.len, sha, &mode, &len, NULL);
    CHECK(mode == MS_MODE_FAST_HELD && len == MS_SERVER_HELLO_FIXED_LEN + MS_HELD_DIGEST_LEN);
    hex[7] = hex[7] == '0' ? '1' : '0'; /* a digest of nothing it holds */
    held_handshake(&w, hex, ev.p, ev.len, sha, &mode, &len, NULL);
    CHECK(mode == MS_MODE_FAST && len == MS_SERVER_HELLO_FIXED_LEN + ev.len);
    CHECK_OK(ms_hex_encode(sha, sizeof sha, hex, sizeof hex, &n));
    hex[0] = (char)(hex[0] >= 'a' ? hex[0] - 'a' + 'A' : 'x'); /* not lowercase hex */
    held_handshake(&w, hex, ev.p, ev.len, sha, &mode, &len, NULL);
    CHECK(mode == MS_MODE_FAST && len == MS_SERVER_HELLO_FIXED_LEN + ev.len);
    /* Each was answered and is pending. */
    CHECK(ms_sessions_count(w.sup.sessions) == 4);
    ms_buf_free(&ev);
    world_free(&w);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_routes);
    RUN(test_held_hint_parse);
    RUN(test_held_evidence);
    RUN(test_first_turn_and_engine_down);
    RUN(test_refusals_change_nothing);
    RUN(test_other_session_and_unknown);
    RUN(test_pending_rules);
    RUN(test_full_and_expiry);
    RUN(test_sweep_finds_every_session);
    RUN(test_request_payload_rules);
    RUN(test_strict_rate);
    RUN(test_stream_joins_waiting_pieces);
    RUN(test_stream_first_piece_at_once);
    RUN(test_stream_joined_keeps_finish_and_cuts);
    RUN(test_stream_engine_cut);
    RUN(test_stream_cancel_mid_answer);
    return TEST_SUMMARY();
}

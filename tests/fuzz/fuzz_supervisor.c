/* Fuzz the supervisor's endpoints with arbitrary paths and bodies, against a live session. */
#include <stdlib.h>
#include <string.h>

#include "secure/supervisor/handlers.h"

static ms_sup sup;
static ms_identity id;
static ms_devkey dev;
static ms_evidence_source src;
static uint8_t sid[MS_SESSION_ID_LEN];

static ms_err accept_all(void *ctx, const ms_evidence_view *ev)
{
    (void)ctx;
    (void)ev;
    return MS_OK;
}

static void new_session(void);

/* One supervisor (once per process) and a session to aim the bodies at. */
static void setup(void)
{
    uint8_t seed[MS_SIGN_SEED_LEN] = {7};
    if (sodium_init() < 0) {
        abort();
    }
    crypto_sign_seed_keypair(dev.pk, dev.sk, seed);
    /* Port 9 (discard): nothing answers, so no turn can reach a real engine. */
    ms_bridge_cfg bc = {.base_url = "http://127.0.0.1:9/v1", .model = "m", .timeout_ms = 200,
                        .connect_timeout_ms = 100};
    ms_evidence_source_devkey(&src, &dev);
    if (ms_identity_init(&id, &src, 300, ms_now_s()) != MS_OK ||
        ms_sessions_new(&sup.sessions, 64, 3600u * 1000u) != MS_OK ||
        ms_bridge_new(&sup.bridge, &bc) != MS_OK) {
        abort();
    }
    sup.id = &id;
    new_session();
}

static void new_session(void)
{
    uint16_t types[] = {MS_EVIDENCE_DEV_KEY};
    ms_hs_client_cfg cfg = {.evidence_types = types, .n_evidence_types = 1, .verify = accept_all};
    struct ms_hs_client *hs;
    ms_buf ch, cf;
    ms_sup_reply r;
    ms_hs_client_result res;
    struct ms_channel *chan;
    ms_buf_init(&ch, 256);
    ms_buf_init(&cf, 256);
    ms_sup_reply_init(&r);
    if (ms_hs_client_new(&hs, &cfg, &ch) != MS_OK) {
        abort();
    }
    ms_sup_handle(&sup, MS_ROUTE_HANDSHAKE, sid, ch.p, ch.len, &r);
    if (r.status != 200 || ms_hs_client_finish(hs, r.body.p, r.body.len, ms_now_s(), &cf, &chan,
                                               &res) != MS_OK) {
        abort();
    }
    memcpy(sid, res.session_id, sizeof sid);
    ms_channel_free(chan);
    ms_hs_client_free(hs);
    ms_buf_free(&ch);
    ms_buf_free(&cf);
    ms_sup_reply_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 1) {
        return 0;
    }
    /* First byte: which endpoint; the rest: a path (route parser) or a body. */
    enum ms_sup_route routes[] = {MS_ROUTE_HANDSHAKE, MS_ROUTE_FINISH, MS_ROUTE_REQUEST,
                                  MS_ROUTE_CLOSE};
    uint8_t which = data[0] % 5;
    if (which == 4) {
        char path[256];
        uint8_t got[MS_SESSION_ID_LEN];
        size_t n = size - 1 < sizeof path - 1 ? size - 1 : sizeof path - 1;
        memcpy(path, data + 1, n);
        path[n] = 0;
        (void)ms_sup_route_of(path, got);
        return 0;
    }
    ms_sup_reply r;
    ms_sup_reply_init(&r);
    ms_sup_handle(&sup, routes[which], sid, data + 1, size - 1, &r);
    if (r.status == 200 && routes[which] != MS_ROUTE_HANDSHAKE) {
        abort(); /* a forged body must never be accepted on the session */
    }
    ms_sup_reply_free(&r);
    /* Bound the table: sessions made by fuzzed handshakes would otherwise fill it. */
    if (ms_sessions_count(sup.sessions) > 32) {
        ms_sessions_free(sup.sessions);
        if (ms_sessions_new(&sup.sessions, 64, 3600u * 1000u) != MS_OK) {
            abort();
        }
        new_session();
    }
    return 0;
}

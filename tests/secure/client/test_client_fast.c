/*
 * The client's FAST evidence cache (secure/client/client_hs.c) against a supervisor that
 * lies: an in-process handshake responder (tests/fixture/http_fixture.c, an answer
 * function) holding the static key, whose FAST evidence can change under the same key,
 * not_after and length. A cache hit needs the very bytes it accepted: one changed byte is
 * verified in full and refused; the accepted bytes are what ms_client_evidence shows.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/client/client.h"
#include "secure/handshake.h"
#include "secure/hs_msg.h"
#include "secure/kdf.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

/* The lying supervisor: one static key, one FAST evidence, and what it does to it. */
typedef struct liar {
    uint8_t static_sk[MS_X25519_LEN], static_pk[MS_X25519_LEN];
    uint64_t not_after;
    ms_buf evidence; /* dev-key evidence over the FAST binding of static_pk and not_after */
    size_t flip;     /* > 0: byte flip - 1 of the evidence is sent flipped */
    int shared;      /* answer with the provider's `shared` bytes (no copy) and their digest */
    uint8_t sha[crypto_hash_sha256_BYTES]; /* of evidence */
    int force_held;  /* refer to its evidence by digest whatever the client said */
    uint8_t tls[MS_SPKI_HASH_LEN];         /* the tls_spki_sha256 it sends */
    unsigned answered, hinted, by_ref;     /* ServerHellos; with the header; by digest */
    size_t last_len;                       /* of the last ServerHello */
} liar;

static ms_err liar_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    liar *l = ctx;
    (void)req;
    rep->type = MS_EVIDENCE_DEV_KEY;
    rep->mode = MS_MODE_FAST;
    rep->not_after = l->not_after;
    if (l->shared && l->flip == 0) {
        rep->shared = l->evidence.p;
        rep->shared_len = l->evidence.len;
        rep->shared_sha256 = l->sha;
        return MS_OK;
    }
    ms_err e = ms_buf_append(&rep->evidence, l->evidence.p, l->evidence.len);
    if (e == MS_OK && l->flip > 0) {
        rep->evidence.p[l->flip - 1] ^= 0x01;
    }
    return e;
}

/* POST /v1/handshake: a ServerHello for the ClientHello (the pending session is dropped);
   a ClientHello the handshake refuses gets a 400 with an empty body. */
static int liar_respond(void *ctx, const char *req, size_t len, unsigned *status, char **body,
                        size_t *body_len)
{
    liar *l = ctx;
    struct ms_hs_pending *p = NULL;
    ms_buf sh;
    uint8_t hint[crypto_hash_sha256_BYTES];
    size_t n;
    const char *h = fx_request_header(MS_HELD_HEADER);
    int hinted = h != NULL && strlen(h) == 2 * sizeof hint &&
                 ms_hex_decode(h, 2 * sizeof hint, hint, sizeof hint, &n) == MS_OK;
    ms_hs_server_cfg cfg = {.static_sk = l->static_sk, .static_pk = l->static_pk,
                            .tls_spki_hash = l->tls, .provide = liar_provide, .provide_ctx = l,
                            .held_sha256 = l->force_held ? l->sha : hinted ? hint : NULL};
    ms_buf_init(&sh, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    l->hinted += hinted;
    *status = 400;
    if (ms_hs_server_respond(&cfg, (const uint8_t *)req, len, &sh, &p) == MS_OK &&
        (*body = malloc(sh.len)) != NULL) {
        memcpy(*body, sh.p, sh.len);
        *body_len = sh.len;
        *status = 200;
        l->answered++;
        l->by_ref += sh.p[118] == MS_MODE_FAST_HELD; /* §5: the evidence_mode byte */
        l->last_len = sh.len;
    }
    ms_hs_pending_free(p);
    ms_buf_free(&sh);
    return 0;
}

static void liar_init(liar *l, const ms_devkey *k)
{
    uint8_t b[MS_BINDING_LEN];
    memset(l, 0, sizeof *l);
    crypto_box_keypair(l->static_pk, l->static_sk);
    l->not_after = (uint64_t)time(NULL) + 3600;
    ms_binding_in in = {.evidence_type = MS_EVIDENCE_DEV_KEY, .mode = MS_MODE_FAST,
                        .not_after = l->not_after};
    memcpy(in.static_pk, l->static_pk, MS_X25519_LEN);
    ms_buf_init(&l->evidence, MS_MAX_EVIDENCE);
    CHECK_OK(ms_kdf_binding(b, &in));
    CHECK_OK(ms_devkey_evidence(k, b, &l->evidence));
    crypto_hash_sha256(l->sha, l->evidence.p, l->evidence.len);
}

/* A new dev key, the liar with evidence from it on a test HTTP server (its one route in
   *route, kept by the caller), its URL in url; NULL when the server did not start. */
static fx_server *liar_serve(liar *l, ms_devkey *k, fx_route *route, char *url, size_t cap)
{
    crypto_sign_keypair(k->pk, k->sk);
    liar_init(l, k);
    *route = (fx_route){.path = "/v1/handshake", .respond = liar_respond, .respond_ctx = l,
                        .content_type = "application/octet-stream"};
    fx_server *s = fx_start(route, 1);
    CHECK(s != NULL);
    if (s != NULL) {
        snprintf(url, cap, "http://127.0.0.1:%u", (unsigned)fx_port(s));
    }
    return s;
}

/* The evidence the client's session shows is the one accepted, byte for byte. */
static void check_shown(const ms_client *c, const liar *l)
{
    ms_evidence_view ev;
    ms_client_peer peer;
    uint8_t digest[crypto_hash_sha256_BYTES];
    CHECK_OK(ms_client_evidence(c, &ev));
    CHECK(ev.type == MS_EVIDENCE_DEV_KEY && ev.mode == MS_MODE_FAST);
    CHECK(ev.len == l->evidence.len && memcmp(ev.data, l->evidence.p, ev.len) == 0);
    CHECK(memcmp(ev.static_pk, l->static_pk, MS_X25519_LEN) == 0);
    ms_client_peer_info(c, &peer);
    crypto_hash_sha256(digest, l->evidence.p, l->evidence.len);
    CHECK(memcmp(peer.evidence_sha256, digest, sizeof digest) == 0);
}

static void test_fast_cache_bytes(void)
{
    ms_devkey k;
    liar l;
    char url[64];
    ms_client *c = NULL;
    fx_route route;
    fx_server *s = liar_serve(&l, &k, &route, url, sizeof url);
    if (s == NULL) {
        goto out;
    }
    ms_client_cfg cc = {.url = url, .allow_http = 1, .pinned_dev_pk = k.pk};
    CHECK_OK(ms_client_new(&c, &cc));
    if (c == NULL) {
        goto out;
    }
    CHECK_OK(ms_client_connect(c)); /* verified in full, remembered */
    check_shown(c, &l);
    CHECK_OK(ms_client_connect(c)); /* the same bytes: recognised */
    check_shown(c, &l);
    /* One byte changed anywhere (format, key, signature), all else the same: refused. */
    size_t at[] = {1, 2, l.evidence.len / 2, l.evidence.len};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        l.flip = at[i];
        ms_err e = ms_client_connect(c);
        CHECK(e != MS_OK);
        ms_evidence_view ev;
        CHECK_ERR(ms_client_evidence(c, &ev), MS_ERR_STATE); /* no session */
    }
    /* The true bytes again, also sent without a copy of the supervisor's (`shared`). */
    l.flip = 0;
    l.shared = 1;
    CHECK_OK(ms_client_connect(c));
    check_shown(c, &l);
    CHECK_OK(ms_client_connect(c));
    check_shown(c, &l);
    CHECK(l.answered == 8);
    ms_client_peer peer;
    ms_client_peer_info(c, &peer);
    CHECK(peer.handshakes == 4);
out:
    ms_client_free(c);
    fx_stop(s);
    ms_buf_free(&l.evidence);
    ms_wipe(&l, sizeof l);
    ms_devkey_wipe(&k);
}


/* A handshake the client must refuse: an error, and no session (nothing was sent). */
static void check_refused(ms_client *c, ms_err want)
{
    ms_evidence_view ev;
    CHECK_ERR(ms_client_connect(c), want);
    CHECK_ERR(ms_client_evidence(c, &ev), MS_ERR_STATE);
}

/*
 * §6 held evidence: the second handshake names the remembered evidence in its header and
 * gets its 32-byte digest (a smaller ServerHello); a reference is taken only for the exact
 * remembered acceptance: not unasked, not another digest, not under another static key,
 * evidence_not_after or TLS key.
 */
static void test_held_reference(void)
{
    ms_devkey k;
    liar l;
    char url[64];
    ms_client *c = NULL, *fresh = NULL;
    ms_client_peer peer;
    fx_route route;
    fx_server *s = liar_serve(&l, &k, &route, url, sizeof url);
    l.shared = 1;
    if (s == NULL) {
        goto out;
    }
    ms_client_cfg cc = {.url = url, .allow_http = 1, .pinned_dev_pk = k.pk};
    CHECK_OK(ms_client_new(&c, &cc));
    CHECK_OK(ms_client_new(&fresh, &cc));
    if (c == NULL || fresh == NULL) {
        goto out;
    }
    CHECK_OK(ms_client_connect(c)); /* nothing held yet: no header, the bytes */
    CHECK(l.hinted == 0 && l.by_ref == 0);
    CHECK(l.last_len == MS_SERVER_HELLO_FIXED_LEN + l.evidence.len);
    ms_client_peer_info(c, &peer);
    CHECK(peer.evidence_held == 0);
    CHECK_OK(ms_client_connect(c)); /* held: the header, and the digest back */
    CHECK(l.hinted == 1 && l.by_ref == 1);
    CHECK(l.last_len == MS_SERVER_HELLO_FIXED_LEN + MS_HELD_DIGEST_LEN);
    check_shown(c, &l);
    ms_client_peer_info(c, &peer);
    CHECK(peer.evidence_held == 1 && peer.evidence_mode == MS_MODE_FAST);

    /* A reference to a client that sent no header (it holds nothing). */
    l.force_held = 1;
    check_refused(fresh, MS_ERR_HS_HELD_EVIDENCE);
    CHECK(l.hinted == 1);
    /* Another digest than the one held. */
    l.sha[5] ^= 0x01;
    check_refused(c, MS_ERR_HS_HELD_EVIDENCE);
    l.sha[5] ^= 0x01;
    /* The right digest, but another static key, evidence_not_after or TLS key. */
    uint8_t sk[MS_X25519_LEN], pk[MS_X25519_LEN];
    memcpy(sk, l.static_sk, sizeof sk);
    memcpy(pk, l.static_pk, sizeof pk);
    crypto_box_keypair(l.static_pk, l.static_sk);
    check_refused(c, MS_ERR_HS_HELD_EVIDENCE);
    memcpy(l.static_sk, sk, sizeof sk);
    memcpy(l.static_pk, pk, sizeof pk);
    l.not_after++;
    check_refused(c, MS_ERR_HS_HELD_EVIDENCE);
    l.not_after--;
    l.tls[0] = 0x01;
    check_refused(c, MS_ERR_HS_HELD_EVIDENCE);
    l.tls[0] = 0;
    /* All as remembered again: taken. */
    CHECK_OK(ms_client_connect(c));
    check_shown(c, &l);
    /* A supervisor that no longer has it (a forged or stale header): the bytes, checked. */
    l.force_held = 0;
    l.shared = 0;
    CHECK_OK(ms_client_connect(c));
    CHECK(l.last_len == MS_SERVER_HELLO_FIXED_LEN + l.evidence.len);
    ms_client_peer_info(c, &peer);
    CHECK(peer.evidence_held == 0);
    check_shown(c, &l);
    CHECK(l.by_ref == 7 && l.answered == 9);
out:
    ms_client_free(c);
    ms_client_free(fresh);
    fx_stop(s);
    ms_buf_free(&l.evidence);
    ms_wipe(&l, sizeof l);
    ms_devkey_wipe(&k);
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    RUN(test_fast_cache_bytes);
    RUN(test_held_reference);
    return TEST_SUMMARY();
}

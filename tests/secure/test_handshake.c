/* Handshake tests: round trips, negotiation, and a negative test for every check of §4-§7. */
#include "common/cursor.h"
#include "tests/secure/fixture.h"

static const uint8_t C_EPH[MS_X25519_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t C_CHAL[MS_CHALLENGE_LEN] = {0xc1, 0xc2, 0xc3};
static const uint8_t S_EPH[MS_X25519_LEN] = {0x51, 0x52, 0x53};
static const uint8_t S_SID[MS_SESSION_ID_LEN] = {0xaa, 0xbb, 0xcc};

/* A deterministic handshake transcript: the same CH and SH every time for one config. */
typedef struct det_run {
    fx_server s;
    fx_client c;
    ms_buf ch, sh, cf;
} det_run;

static void det_init(det_run *r)
{
    fx_server_init(&r->s, 7);
    fx_client_init(&r->c, &r->s);
    ms_buf_init(&r->ch, 4096);
    ms_buf_init(&r->sh, 1 << 20);
    ms_buf_init(&r->cf, 4096);
}

static void det_free(det_run *r)
{
    ms_buf_free(&r->ch);
    ms_buf_free(&r->sh);
    ms_buf_free(&r->cf);
}

static ms_err det_client(det_run *r, struct ms_hs_client **hc, ms_buf *ch_out)
{
    ms_hs_det d = {.eph_sk = C_EPH, .challenge = C_CHAL};
    r->c.cfg.strict = r->c.strict;
    r->c.cfg.n_evidence_types = r->c.n_types;
    return ms_hs_client_new_det(hc, &r->c.cfg, &d, ch_out);
}

/* CH, SH (and pending) for the run's config. */
static ms_err det_hello(det_run *r, struct ms_hs_pending **p)
{
    struct ms_hs_client *hc = NULL;
    ms_hs_det sd = {.eph_sk = S_EPH, .session_id = S_SID};
    ms_err e = det_client(r, &hc, &r->ch);
    ms_hs_client_free(hc);
    if (e != MS_OK) {
        return e;
    }
    return ms_hs_server_respond_det(&r->s.cfg, &sd, r->ch.p, r->ch.len, &r->sh, p);
}

/* A fresh client (same CH) processing the given ServerHello bytes. */
static ms_err det_finish(det_run *r, const uint8_t *sh, size_t sh_len, uint64_t now,
                         struct ms_channel **cc)
{
    struct ms_hs_client *hc = NULL;
    ms_buf ch;
    ms_hs_client_result res;
    ms_buf_init(&ch, 4096);
    ms_buf_clear(&r->cf);
    ms_err e = det_client(r, &hc, &ch);
    if (e == MS_OK) {
        e = ms_hs_client_finish(hc, sh, sh_len, now, &r->cf, cc, &res);
    }
    ms_hs_client_free(hc);
    ms_buf_free(&ch);
    return e;
}

/* A det_run with its CH and SH made (the pending session dropped). */
static void det_hello_only(det_run *r)
{
    struct ms_hs_pending *p = NULL;
    det_init(r);
    CHECK_OK(det_hello(r, &p));
    ms_hs_pending_free(p);
}

static void test_round_trip(void)
{
    fx_server s;
    fx_client c;
    struct ms_channel *cc, *sc;
    fx_server_init(&s, 1);
    fx_client_init(&c, &s);
    CHECK_OK(fx_pair(&c, &s, &cc, &sc));
    CHECK(c.calls == 1 && s.calls == 1);
    CHECK_MEM(ms_channel_session_id(cc), ms_channel_session_id(sc), MS_SESSION_ID_LEN);

    uint8_t rec[256], pt[64];
    size_t n;
    ms_record_info info;
    CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 9, 0, (const uint8_t *)"hello", 5, rec, sizeof rec, &n));
    CHECK_OK(ms_channel_open(sc, rec, n, &info, pt, sizeof pt));
    CHECK(info.pt_len == 5 && memcmp(pt, "hello", 5) == 0 && info.msg_id == 9);
    CHECK_OK(ms_channel_seal(sc, MS_REC_MSG, 9, 0, (const uint8_t *)"world", 5, rec, sizeof rec, &n));
    CHECK_OK(ms_channel_open(cc, rec, n, &info, pt, sizeof pt));
    CHECK(info.pt_len == 5 && memcmp(pt, "world", 5) == 0);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* Two handshakes with the same parties give unrelated sessions (fresh ephemerals). */
static void test_sessions_differ(void)
{
    fx_server s;
    fx_client c;
    struct ms_channel *c1, *s1, *c2, *s2;
    fx_server_init(&s, 1);
    fx_client_init(&c, &s);
    CHECK_OK(fx_pair(&c, &s, &c1, &s1));
    uint8_t b1[MS_BINDING_LEN];
    memcpy(b1, c.last_binding, sizeof b1);
    CHECK_OK(fx_pair(&c, &s, &c2, &s2));
    CHECK(memcmp(ms_channel_session_id(c1), ms_channel_session_id(c2), MS_SESSION_ID_LEN) != 0);
    /* FAST evidence: same binding across sessions (one evidence per static key). */
    CHECK_MEM(b1, c.last_binding, MS_BINDING_LEN);

    uint8_t rec[128], pt[16];
    size_t n;
    ms_record_info info;
    CHECK_OK(ms_channel_seal(c1, MS_REC_MSG, 0, 0, (const uint8_t *)"x", 1, rec, sizeof rec, &n));
    CHECK_ERR(ms_channel_open(s2, rec, n, &info, pt, sizeof pt), MS_ERR_REC_SESSION);
    CHECK_OK(ms_channel_open(s1, rec, n, &info, pt, sizeof pt));
    ms_channel_free(c1);
    ms_channel_free(s1);
    ms_channel_free(c2);
    ms_channel_free(s2);
}

static void test_strict_binding_per_session(void)
{
    fx_server s;
    fx_client c;
    struct ms_channel *cc, *sc;
    uint8_t b1[MS_BINDING_LEN];
    fx_server_init(&s, 1);
    fx_client_init(&c, &s);
    c.strict = 1;
    CHECK_OK(fx_pair(&c, &s, &cc, &sc));
    memcpy(b1, c.last_binding, sizeof b1);
    ms_channel_free(cc);
    ms_channel_free(sc);
    CHECK_OK(fx_pair(&c, &s, &cc, &sc));
    CHECK(memcmp(b1, c.last_binding, MS_BINDING_LEN) != 0);
    ms_channel_free(cc);
    ms_channel_free(sc);
    /* A server that cannot make STRICT evidence refuses instead of answering FAST. */
    s.can_strict = 0;
    CHECK_ERR(fx_pair(&c, &s, &cc, &sc), MS_ERR_HS_MODE);
}

static void test_negotiation_failures(void)
{
    fx_server s;
    fx_client c;
    struct ms_channel *cc, *sc;
    fx_server_init(&s, 1);
    fx_client_init(&c, &s);
    s.type = MS_EVIDENCE_TPM2_QUOTE; /* the client only accepts dev-key */
    CHECK_ERR(fx_pair(&c, &s, &cc, &sc), MS_ERR_HS_EVIDENCE_TYPE);
    c.types[1] = MS_EVIDENCE_TPM2_QUOTE;
    c.n_types = 2;
    CHECK_OK(fx_pair(&c, &s, &cc, &sc));
    ms_channel_free(cc);
    ms_channel_free(sc);

    /* The verifier's verdict is final and its error is the handshake's. */
    c.reject_all = 1;
    CHECK_ERR(fx_pair(&c, &s, &cc, &sc), MS_ERR_ATTEST_REJECTED);
    CHECK(cc == NULL && sc == NULL);
    c.reject_all = 0;

    /* §2.3 reserved evidence types are never offered. */
    c.types[0] = 0xFFFF;
    CHECK_ERR(fx_pair(&c, &s, &cc, &sc), MS_ERR_ARG);
    c.types[0] = 0x0000;
    CHECK_ERR(fx_pair(&c, &s, &cc, &sc), MS_ERR_ARG);
    c.types[0] = MS_EVIDENCE_DEV_KEY;

    /* Another static key than the pinned one: the verifier refuses it. */
    fx_server other;
    fx_server_init(&other, 2);
    CHECK_ERR(fx_pair(&c, &other, &cc, &sc), MS_ERR_ATTEST_REJECTED);
}

/* Server-side §4 checks on hand-made ClientHellos. */
static void test_server_offer_checks(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    det_init(&r);
    CHECK_OK(det_hello(&r, &p));
    ms_hs_pending_free(p);
    ms_client_hello ch;
    CHECK_OK(ms_client_hello_decode(r.ch.p, r.ch.len, &ch));

    struct {
        int what;
        ms_err want;
    } cases[] = {{0, MS_ERR_HS_VERSION}, {1, MS_ERR_HS_SUITE}, {2, MS_ERR_HS_WEAK_KEY}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_client_hello m = ch;
        ms_buf b, sh;
        ms_buf_init(&b, 4096);
        ms_buf_init(&sh, 4096);
        if (cases[i].what == 0) {
            m.versions[0] = 2;
        } else if (cases[i].what == 1) {
            m.suites[0] = 2;
        } else {
            memset(m.eph_pk, 0, sizeof m.eph_pk); /* a low-order point */
        }
        CHECK_OK(ms_client_hello_encode(&m, &b));
        CHECK_ERR(ms_hs_server_respond(&r.s.cfg, b.p, b.len, &sh, &p), cases[i].want);
        CHECK(p == NULL && sh.len == 0);
        ms_buf_free(&b);
        ms_buf_free(&sh);
    }
    det_free(&r);
}

/* A provider that answers wrongly (fx_provide's answer, then type or mode replaced). */
static int wrong_type = -1, wrong_mode = -1;

static ms_err wrong_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    ms_err e = fx_provide(ctx, req, rep);
    if (wrong_type >= 0) {
        rep->type = (uint16_t)wrong_type;
    }
    if (wrong_mode >= 0) {
        rep->mode = (uint8_t)wrong_mode;
    }
    return e;
}

/* The provider is trusted code, but a wrong answer never reaches the wire: a type the client
   did not offer, a mode that does not exist, FAST evidence when STRICT was asked. */
static void test_server_provider_checked(void)
{
    static const struct {
        int type, mode, strict;
        ms_err want;
    } cases[] = {
        {MS_EVIDENCE_TPM2_QUOTE, -1, 0, MS_ERR_HS_EVIDENCE_TYPE},
        {-1, 7, 0, MS_ERR_HS_MODE},
        {-1, 2, 0, MS_ERR_HS_MODE},
        {-1, MS_MODE_FAST, 1, MS_ERR_HS_MODE},
        {-1, -1, 1, MS_OK},
        {-1, MS_MODE_STRICT, 0, MS_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        det_run r;
        struct ms_hs_pending *p = NULL;
        det_init(&r);
        r.s.cfg.provide = wrong_provide;
        r.c.strict = cases[i].strict;
        wrong_type = cases[i].type;
        wrong_mode = cases[i].mode;
        CHECK_ERR(det_hello(&r, &p), cases[i].want);
        CHECK((p == NULL && r.sh.len == 0) == (cases[i].want != MS_OK));
        ms_hs_pending_free(p);
        det_free(&r);
    }
    wrong_type = wrong_mode = -1;
}

/* The ServerHello is deterministic for fixed inputs, and matches its decoder. */
static void test_det_hello_layout(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    ms_server_hello sh;
    det_init(&r);
    CHECK_OK(det_hello(&r, &p));
    CHECK(r.sh.len == MS_SERVER_HELLO_FIXED_LEN + MS_BINDING_LEN);
    CHECK_OK(ms_server_hello_decode(r.sh.p, r.sh.len, &sh));
    CHECK_MEM(sh.session_id, S_SID, MS_SESSION_ID_LEN);
    CHECK_MEM(sh.static_pk, r.s.static_pk, MS_X25519_LEN);
    CHECK(sh.core_len == r.sh.len - MS_KEY_LEN);
    struct ms_channel *cc = NULL;
    CHECK_OK(det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc));
    ms_channel_free(cc);
    ms_hs_pending_free(p);
    det_free(&r);
}

/* The error a flipped ServerHello byte must give, by offset (§5 layout, §7.3 order). */
static int sh_flip_ok(size_t off, int mask, ms_err e)
{
    if (e == MS_OK) {
        return 0;
    }
    if (off == 0) {
        return e == MS_ERR_HS_MSG_TYPE;
    }
    if (off == 1) {
        return e == MS_ERR_HS_VERSION;
    }
    if (off < 4) {
        return e == MS_ERR_HS_SUITE;
    }
    if (off >= 116 && off < 118) {
        return e == MS_ERR_HS_EVIDENCE_TYPE;
    }
    if (off == 118) { /* FAST^0x01 is STRICT: a valid mode, but another transcript */
        return e == (mask == 0x01 ? MS_ERR_HS_SERVER_CONFIRM : MS_ERR_HS_MODE);
    }
    if (off >= 127 && off < 131) {
        return e == MS_ERR_TRUNCATED || e == MS_ERR_TRAILING || e == MS_ERR_CAP_EXCEEDED;
    }
    if (off >= 119 && off < 127) { /* not_after: earlier than now, or a changed transcript */
        return e == MS_ERR_ATTEST_EXPIRED || e == MS_ERR_HS_SERVER_CONFIRM;
    }
    if (off >= 20 && off < 116) { /* keys: a weak point, or keys the server does not have */
        return e == MS_ERR_HS_SERVER_CONFIRM || e == MS_ERR_HS_WEAK_KEY;
    }
    return e == MS_ERR_HS_SERVER_CONFIRM; /* session id, evidence, confirm */
}

static void test_server_hello_every_byte_flipped(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    det_init(&r);
    CHECK_OK(det_hello(&r, &p));
    ms_hs_pending_free(p);
    uint8_t *m = malloc(r.sh.len);
    int bad = 0;
    for (size_t off = 0; off < r.sh.len; off++) {
        for (int mask = 1; mask <= 0x80; mask <<= 7) { /* 0x01 and 0x80 */
            struct ms_channel *cc = NULL;
            memcpy(m, r.sh.p, r.sh.len);
            m[off] ^= (uint8_t)mask;
            ms_err e = det_finish(&r, m, r.sh.len, FX_NOW, &cc);
            if (!sh_flip_ok(off, mask, e) || cc != NULL || r.cf.len != 0) {
                bad++;
                fprintf(stderr, "  SH flip at %zu mask %02x: %s\n", off, mask, ms_err_name(e));
            }
            ms_channel_free(cc);
        }
    }
    CHECK(bad == 0);
    free(m);
    det_free(&r);
}

static void test_server_hello_truncated_everywhere(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    det_init(&r);
    CHECK_OK(det_hello(&r, &p));
    ms_hs_pending_free(p);
    int bad = 0;
    for (size_t len = 0; len < r.sh.len; len++) {
        struct ms_channel *cc = NULL;
        ms_err e = det_finish(&r, r.sh.p, len, FX_NOW, &cc);
        bad += e != MS_ERR_TRUNCATED || cc != NULL;
    }
    CHECK(bad == 0);
    /* One byte too many. */
    uint8_t *m = malloc(r.sh.len + 1);
    memcpy(m, r.sh.p, r.sh.len);
    m[r.sh.len] = 0;
    struct ms_channel *cc = NULL;
    CHECK_ERR(det_finish(&r, m, r.sh.len + 1, FX_NOW, &cc), MS_ERR_TRAILING);
    free(m);
    det_free(&r);
}

/*
 * evidence_not_after, FAST and STRICT alike (§6: for STRICT evidence, made for one
 * handshake, it still means the end of the static key's validity): valid through it, then
 * MS_ERR_ATTEST_EXPIRED; a later value written into the ServerHello (offset 119, §5) fails,
 * as the transcript covers it.
 */
static void test_evidence_expired(void)
{
    for (int strict = 0; strict < 2; strict++) {
        det_run r;
        struct ms_hs_pending *p = NULL;
        struct ms_channel *cc = NULL;
        ms_server_hello sh;
        det_init(&r);
        r.c.strict = strict;
        r.s.not_after = FX_NOW;
        CHECK_OK(det_hello(&r, &p));
        CHECK_OK(ms_server_hello_decode(r.sh.p, r.sh.len, &sh));
        CHECK(sh.evidence_mode == (strict ? MS_MODE_STRICT : MS_MODE_FAST) &&
              sh.not_after == FX_NOW);
        CHECK_OK(det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc)); /* valid through not_after */
        ms_channel_free(cc);
        cc = NULL;
        CHECK_ERR(det_finish(&r, r.sh.p, r.sh.len, FX_NOW + 1, &cc), MS_ERR_ATTEST_EXPIRED);
        CHECK(cc == NULL);
        ms_store_u64be(r.sh.p + 119, FX_NOW + 3600);
        CHECK_ERR(det_finish(&r, r.sh.p, r.sh.len, FX_NOW + 1, &cc), MS_ERR_HS_SERVER_CONFIRM);
        CHECK(cc == NULL);
        ms_hs_pending_free(p);
        det_free(&r);
    }
}

/* A server that holds a different static secret than the key it announces. */
static void test_static_key_not_held(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    struct ms_channel *cc = NULL;
    det_init(&r);
    fx_server thief;
    fx_server_init(&thief, 9);
    r.s.cfg.static_sk = thief.static_sk; /* announces r.s.static_pk, pinned by the client */
    CHECK_OK(det_hello(&r, &p));
    CHECK_ERR(det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc), MS_ERR_HS_SERVER_CONFIRM);
    CHECK(r.c.calls == 0); /* the verifier never saw evidence from an unconfirmed peer */
    ms_hs_pending_free(p);
    det_free(&r);
}

/* §7.3 check 5: an on-path attacker strips STRICT from the ClientHello. */
static void test_strict_stripped(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    struct ms_channel *cc = NULL;
    det_init(&r);
    r.c.strict = 1;
    CHECK_OK(det_hello(&r, &p));
    ms_hs_pending_free(p);
    ms_client_hello ch;
    CHECK_OK(ms_client_hello_decode(r.ch.p, r.ch.len, &ch));
    ch.flags = 0;
    ms_buf b, sh;
    ms_buf_init(&b, 4096);
    ms_buf_init(&sh, 1 << 20);
    CHECK_OK(ms_client_hello_encode(&ch, &b));
    ms_hs_det sd = {.eph_sk = S_EPH, .session_id = S_SID};
    CHECK_OK(ms_hs_server_respond_det(&r.s.cfg, &sd, b.p, b.len, &sh, &p));
    CHECK_ERR(det_finish(&r, sh.p, sh.len, FX_NOW, &cc), MS_ERR_HS_MODE);
    ms_hs_pending_free(p);

    /* Reordering the evidence list (a downgrade of preference) breaks the transcript. */
    r.c.strict = 0;
    r.c.types[1] = MS_EVIDENCE_SEV_SNP;
    r.c.n_types = 2;
    ms_buf_clear(&r.ch);
    CHECK_OK(det_hello(&r, &p));
    ms_hs_pending_free(p);
    CHECK_OK(ms_client_hello_decode(r.ch.p, r.ch.len, &ch));
    ch.evidence_types[0] = MS_EVIDENCE_SEV_SNP;
    ch.evidence_types[1] = MS_EVIDENCE_DEV_KEY;
    ms_buf_clear(&b);
    ms_buf_clear(&sh);
    CHECK_OK(ms_client_hello_encode(&ch, &b));
    CHECK_OK(ms_hs_server_respond_det(&r.s.cfg, &sd, b.p, b.len, &sh, &p));
    CHECK_ERR(det_finish(&r, sh.p, sh.len, FX_NOW, &cc), MS_ERR_HS_SERVER_CONFIRM);
    ms_hs_pending_free(p);
    ms_buf_free(&b);
    ms_buf_free(&sh);
    det_free(&r);
}

/* §7.4: the ClientFinish checks, a wrong confirmation, reuse of a pending session. */
static void test_client_finish_checks(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    struct ms_channel *cc = NULL, *sc = NULL;
    ms_hs_server_result res;
    det_init(&r);
    CHECK_OK(det_hello(&r, &p));
    ms_hs_pending_free(p);
    p = NULL;
    CHECK_OK(det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc));
    ms_channel_free(cc);
    size_t n = r.cf.len;
    uint8_t good[MS_CLIENT_FINISH_MAX_LEN], m[MS_CLIENT_FINISH_MAX_LEN + 1];
    memcpy(good, r.cf.p, n);

    /* Every byte flipped, every truncation: each against a fresh pending session. */
    int bad = 0;
    for (size_t off = 0; off < n; off++) {
        memcpy(m, good, n);
        m[off] ^= 0x01;
        ms_buf_clear(&r.sh);
        ms_buf_clear(&r.ch);
        CHECK_OK(det_hello(&r, &p));
        ms_err e = ms_hs_server_finish(p, m, n, &sc, &res);
        ms_err want = off == 0 ? MS_ERR_HS_MSG_TYPE
                      : off < 17 ? MS_ERR_HS_SESSION_ID
                      : off < 49 ? MS_ERR_HS_CLIENT_CONFIRM
                                 : MS_ERR_HS_CLIENT_ID;
        bad += e != want || sc != NULL;
        ms_hs_pending_free(p);
        p = NULL;
    }
    for (size_t len = 0; len < n; len++) {
        ms_buf_clear(&r.sh);
        ms_buf_clear(&r.ch);
        CHECK_OK(det_hello(&r, &p));
        bad += ms_hs_server_finish(p, good, len, &sc, &res) != MS_ERR_TRUNCATED;
        ms_hs_pending_free(p);
        p = NULL;
    }
    CHECK(bad == 0);

    memcpy(m, good, n);
    m[n] = 0;
    ms_buf_clear(&r.sh);
    ms_buf_clear(&r.ch);
    CHECK_OK(det_hello(&r, &p));
    CHECK_ERR(ms_hs_server_finish(p, m, n + 1, &sc, &res), MS_ERR_TRAILING);
    /* §7.4: a ClientFinish that fails before its client_confirm verifies (anyone who knows
       the session id can send one) spends nothing: the right one still finishes. */
    for (size_t off = 0; off < n; off++) {
        memcpy(m, good, n);
        m[off] ^= 0x01;
        bad += ms_hs_server_finish(p, m, n, &sc, &res) == MS_OK || ms_hs_pending_spent(p);
    }
    CHECK(bad == 0);
    CHECK_OK(ms_hs_server_finish(p, good, n, &sc, &res));
    CHECK(!res.has_client_id && ms_hs_pending_spent(p));
    ms_channel_free(sc);
    /* Spent once it verified: the same ClientFinish again is refused. */
    CHECK_ERR(ms_hs_server_finish(p, good, n, &sc, &res), MS_ERR_STATE);
    ms_hs_pending_free(p);
    det_free(&r);
}

static void test_client_identity(void)
{
    fx_server s;
    fx_client c;
    uint8_t pk[MS_SIGN_PK_LEN], sk[MS_SIGN_SK_LEN];
    crypto_sign_keypair(pk, sk);
    fx_server_init(&s, 3);
    fx_client_init(&c, &s);
    c.cfg.client_id_sk = sk;

    ms_buf ch, sh, cf;
    ms_buf_init(&ch, 4096);
    ms_buf_init(&sh, 1 << 20);
    ms_buf_init(&cf, 4096);
    struct ms_hs_client *hc;
    struct ms_hs_pending *p;
    struct ms_channel *cc = NULL, *sc = NULL;
    ms_hs_client_result cres;
    ms_hs_server_result sres;
    CHECK_OK(ms_hs_client_new(&hc, &c.cfg, &ch));
    CHECK_OK(ms_hs_server_respond(&s.cfg, ch.p, ch.len, &sh, &p));
    CHECK_OK(ms_hs_client_finish(hc, sh.p, sh.len, FX_NOW, &cf, &cc, &cres));
    CHECK(cf.len == MS_CLIENT_FINISH_MAX_LEN);
    /* A client that reuses a spent handshake gets an error, not a second channel. */
    struct ms_channel *again = NULL;
    CHECK_ERR(ms_hs_client_finish(hc, sh.p, sh.len, FX_NOW, &cf, &again, &cres), MS_ERR_STATE);

    /* Signature stripped (sig_len 0, length fixed up) -> HS_CLIENT_ID. */
    uint8_t m[MS_CLIENT_FINISH_MAX_LEN];
    memcpy(m, cf.p, 49);
    m[49] = 0;
    CHECK_ERR(ms_hs_server_finish(p, m, 50, &sc, &sres), MS_ERR_HS_CLIENT_ID);
    CHECK(!ms_hs_pending_spent(p));
    ms_hs_pending_free(p);
    ms_hs_client_free(hc);
    ms_channel_free(cc);

    /* Flipped signature byte -> HS_CLIENT_SIGNATURE (the confirmation still matches). */
    ms_buf_clear(&ch);
    ms_buf_clear(&sh);
    ms_buf_clear(&cf);
    CHECK_OK(ms_hs_client_new(&hc, &c.cfg, &ch));
    CHECK_OK(ms_hs_server_respond(&s.cfg, ch.p, ch.len, &sh, &p));
    CHECK_OK(ms_hs_client_finish(hc, sh.p, sh.len, FX_NOW, &cf, &cc, &cres));
    memcpy(m, cf.p, cf.len);
    m[cf.len - 1] ^= 0x40;
    CHECK_ERR(ms_hs_server_finish(p, m, cf.len, &sc, &sres), MS_ERR_HS_CLIENT_SIGNATURE);
    /* Not spent: the client's own finish (whose confirmation anyone who saw it can reuse
       with a broken signature) still verifies. */
    CHECK(!ms_hs_pending_spent(p));
    CHECK_OK(ms_hs_server_finish(p, cf.p, cf.len, &sc, &sres));
    ms_channel_free(sc);
    sc = NULL;
    ms_hs_pending_free(p);
    ms_hs_client_free(hc);
    ms_channel_free(cc);

    /* And the honest run names the client. */
    ms_buf_clear(&ch);
    ms_buf_clear(&sh);
    ms_buf_clear(&cf);
    CHECK_OK(ms_hs_client_new(&hc, &c.cfg, &ch));
    CHECK_OK(ms_hs_server_respond(&s.cfg, ch.p, ch.len, &sh, &p));
    CHECK_OK(ms_hs_client_finish(hc, sh.p, sh.len, FX_NOW, &cf, &cc, &cres));
    CHECK_OK(ms_hs_server_finish(p, cf.p, cf.len, &sc, &sres));
    CHECK(sres.has_client_id && memcmp(sres.client_id_pk, pk, sizeof pk) == 0);
    ms_hs_pending_free(p);
    ms_hs_client_free(hc);
    ms_channel_free(cc);
    ms_channel_free(sc);
    ms_buf_free(&ch);
    ms_buf_free(&sh);
    ms_buf_free(&cf);
}

/* ClientHello decoding: every truncation, every count and flag rule, trailing bytes. */
/* A ServerHello whose evidence is present in full but longer than MS_MAX_EVIDENCE is
   MS_ERR_CAP_EXCEEDED; exactly MS_MAX_EVIDENCE decodes. */
static void test_server_hello_evidence_cap(void)
{
    enum { LEN_AT = 127 }; /* evidence_len (§5 layout): the evidence follows, then confirm */
    static uint8_t m[LEN_AT + 4 + MS_MAX_EVIDENCE + 1 + MS_KEY_LEN];
    det_run r;
    ms_server_hello sh;
    det_hello_only(&r);
    CHECK(ms_load_u32be(r.sh.p + LEN_AT) == MS_BINDING_LEN);
    memcpy(m, r.sh.p, LEN_AT);
    for (uint32_t ev = MS_MAX_EVIDENCE; ev <= MS_MAX_EVIDENCE + 1; ev++) {
        ms_store_u32be(m + LEN_AT, ev);
        memset(m + LEN_AT + 4, 0x5a, ev + MS_KEY_LEN);
        ms_err want = ev > MS_MAX_EVIDENCE ? MS_ERR_CAP_EXCEEDED : MS_OK;
        CHECK_ERR(ms_server_hello_decode(m, LEN_AT + 4 + ev + MS_KEY_LEN, &sh), want);
        CHECK(sh.evidence_len == (want == MS_OK ? ev : 0));
    }
    det_free(&r);
}

static void test_client_hello_decode(void)
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    ms_client_hello ch;
    det_init(&r);
    CHECK_OK(det_hello(&r, &p));
    ms_hs_pending_free(p);
    int bad = 0;
    for (size_t len = 0; len < r.ch.len; len++) {
        bad += ms_client_hello_decode(r.ch.p, len, &ch) != MS_ERR_TRUNCATED;
    }
    CHECK(bad == 0);
    uint8_t m[MS_CLIENT_HELLO_MAX_LEN + 1];
    size_t n = r.ch.len;
    memcpy(m, r.ch.p, n);
    m[n] = 0;
    CHECK_ERR(ms_client_hello_decode(m, n + 1, &ch), MS_ERR_TRAILING);
    m[0] = 0x02;
    CHECK_ERR(ms_client_hello_decode(m, n, &ch), MS_ERR_HS_MSG_TYPE);
    m[0] = 0x01;
    m[1] = 0; /* n_versions */
    CHECK_ERR(ms_client_hello_decode(m, n, &ch), MS_ERR_HS_COUNT);
    m[1] = MS_MAX_HS_LIST + 1;
    CHECK_ERR(ms_client_hello_decode(m, n, &ch), MS_ERR_HS_COUNT);
    memcpy(m, r.ch.p, n);
    m[n - 2] = 0x02; /* flags: a reserved bit */
    CHECK_ERR(ms_client_hello_decode(m, n, &ch), MS_ERR_HS_FLAGS);
    memcpy(m, r.ch.p, n);
    m[n - 1] = 5; /* client_id_len */
    CHECK_ERR(ms_client_hello_decode(m, n, &ch), MS_ERR_HS_CLIENT_ID);
    det_free(&r);
}


/* ---- held FAST evidence (§6, mode FAST_HELD) --------------------------------------------- */

/*
 * A provider whose FAST evidence is shared bytes with their digest (as the supervisor's
 * identity gives them): fx_provide's bytes, moved to g_held_ev, and their SHA-256 in
 * g_held_sha unless g_held_no_sha. A STRICT answer names a digest too when g_held_strict_sha
 * (a provider mistake the handshake must not follow).
 */
static uint8_t g_held_ev[MS_BINDING_LEN], g_held_sha[MS_HELD_DIGEST_LEN];
static int g_held_no_sha, g_held_strict_sha;

static ms_err held_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    ms_err e = fx_provide(ctx, req, rep);
    if (e != MS_OK || (rep->mode == MS_MODE_STRICT && !g_held_strict_sha)) {
        return e;
    }
    memcpy(g_held_ev, rep->evidence.p, sizeof g_held_ev);
    crypto_hash_sha256(g_held_sha, g_held_ev, sizeof g_held_ev);
    ms_buf_clear(&rep->evidence);
    rep->shared = g_held_ev;
    rep->shared_len = sizeof g_held_ev;
    rep->shared_sha256 = g_held_no_sha ? NULL : g_held_sha;
    return MS_OK;
}

/* What the verifier was shown last: the held flag and the bytes. */
static int g_seen_held = -1;
static uint8_t g_seen_mode = 0xff;
static const uint8_t *g_seen_data;

static ms_err held_verify(void *ctx, const ms_evidence_view *ev)
{
    g_seen_held = ev->held;
    g_seen_mode = ev->mode;
    g_seen_data = ev->data;
    return fx_verify(ctx, ev);
}

/* A det_run whose server gives shared FAST bytes with their digest, and whose client holds
   `held` (MS_BINDING_LEN bytes: the FAST evidence, B) under `digest`, or nothing (NULL). */
static void held_run(det_run *r, const uint8_t *held, const uint8_t *digest,
                     const uint8_t *server_hint)
{
    det_init(r);
    r->s.cfg.provide = held_provide;
    r->s.cfg.held_sha256 = server_hint;
    r->c.cfg.verify = held_verify;
    r->c.cfg.held = held;
    r->c.cfg.held_len = held ? MS_BINDING_LEN : 0;
    r->c.cfg.held_sha256 = digest;
    g_held_no_sha = g_held_strict_sha = 0;
    g_seen_held = -1;
    g_seen_mode = 0xff;
    g_seen_data = NULL;
}

/* The held FAST evidence (B of the fixture's static key) and its digest. */
static void held_bytes(uint8_t ev[static MS_BINDING_LEN], uint8_t sha[static MS_HELD_DIGEST_LEN])
{
    det_run r;
    struct ms_hs_pending *p = NULL;
    held_run(&r, NULL, NULL, NULL);
    CHECK_OK(det_hello(&r, &p));
    memcpy(ev, g_held_ev, MS_BINDING_LEN);
    memcpy(sha, g_held_sha, MS_HELD_DIGEST_LEN);
    ms_hs_pending_free(p);
    det_free(&r);
}

/* The held evidence and its digest, and another digest (one bit changed). */
static void held_and_other(uint8_t ev[static MS_BINDING_LEN], uint8_t sha[static MS_HELD_DIGEST_LEN],
                           uint8_t other[static MS_HELD_DIGEST_LEN])
{
    held_bytes(ev, sha);
    memcpy(other, sha, MS_HELD_DIGEST_LEN);
    other[MS_HELD_DIGEST_LEN - 1] ^= 0x01;
}

/* A client that holds the evidence gets its digest, sees its own bytes, and the session works. */
static void test_held_round_trip(void)
{
    uint8_t ev[MS_BINDING_LEN], sha[MS_HELD_DIGEST_LEN];
    det_run r;
    struct ms_hs_pending *p = NULL;
    struct ms_hs_client *hc = NULL;
    struct ms_channel *cc = NULL, *sc = NULL;
    ms_hs_client_result res;
    ms_hs_server_result sres;
    ms_server_hello sh;
    ms_buf ch;
    held_bytes(ev, sha);
    held_run(&r, ev, sha, sha);
    ms_buf_init(&ch, 4096);
    CHECK_OK(det_client(&r, &hc, &ch));
    ms_hs_det sd = {.eph_sk = S_EPH, .session_id = S_SID};
    CHECK_OK(ms_hs_server_respond_det(&r.s.cfg, &sd, ch.p, ch.len, &r.sh, &p));
    CHECK(r.sh.len == MS_SERVER_HELLO_FIXED_LEN + MS_HELD_DIGEST_LEN);
    CHECK_OK(ms_server_hello_decode(r.sh.p, r.sh.len, &sh));
    CHECK(sh.evidence_mode == MS_MODE_FAST_HELD && sh.evidence_len == MS_HELD_DIGEST_LEN);
    CHECK_MEM(sh.evidence, sha, MS_HELD_DIGEST_LEN);
    CHECK_OK(ms_hs_client_finish(hc, r.sh.p, r.sh.len, FX_NOW, &r.cf, &cc, &res));
    CHECK(g_seen_held == 1 && g_seen_mode == MS_MODE_FAST && g_seen_data == ev);
    CHECK(res.evidence_held == 1 && res.evidence_mode == MS_MODE_FAST);
    CHECK(r.c.calls == 1);
    if (p) {
        CHECK_OK(ms_hs_server_finish(p, r.cf.p, r.cf.len, &sc, &sres));
    }
    uint8_t rec[128], pt[16];
    size_t n;
    ms_record_info info;
    CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 1, 0, (const uint8_t *)"held", 4, rec, sizeof rec, &n));
    CHECK_OK(ms_channel_open(sc, rec, n, &info, pt, sizeof pt));
    CHECK(info.pt_len == 4 && memcmp(pt, "held", 4) == 0);
    ms_channel_free(cc);
    ms_channel_free(sc);
    ms_hs_client_free(hc);
    ms_hs_pending_free(p);
    ms_buf_free(&ch);
    det_free(&r);
}

/* The full bytes (mode FAST) whenever the reference would not be exactly right. */
static void test_held_server_sends_bytes(void)
{
    uint8_t ev[MS_BINDING_LEN], sha[MS_HELD_DIGEST_LEN], other[MS_HELD_DIGEST_LEN];
    held_and_other(ev, sha, other);
    static const struct {
        int hint, no_sha, strict, strict_sha;
    } cases[] = {
        {0, 0, 0, 0}, /* an old client: no hint */
        {1, 0, 0, 0}, /* a hint the supervisor does not hold (forged, or old) */
        {2, 1, 0, 0}, /* a provider that gives no digest */
        {2, 0, 1, 1}, /* STRICT, even with a digest the hint matches */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        det_run r;
        struct ms_hs_pending *p = NULL;
        struct ms_channel *cc = NULL;
        ms_server_hello sh;
        /* hint 2: the server's own digest, filled by the provider before it is compared */
        held_run(&r, NULL, NULL, cases[i].hint == 0 ? NULL : cases[i].hint == 1 ? other : g_held_sha);
        g_held_no_sha = cases[i].no_sha;
        g_held_strict_sha = cases[i].strict_sha;
        r.c.strict = cases[i].strict;
        CHECK_OK(det_hello(&r, &p));
        CHECK(r.sh.len == MS_SERVER_HELLO_FIXED_LEN + MS_BINDING_LEN);
        CHECK_OK(ms_server_hello_decode(r.sh.p, r.sh.len, &sh));
        CHECK(sh.evidence_mode == (cases[i].strict ? MS_MODE_STRICT : MS_MODE_FAST));
        CHECK_OK(det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc));
        CHECK(g_seen_held == 0);
        ms_channel_free(cc);
        ms_hs_pending_free(p);
        det_free(&r);
    }
}

/* A reference the client cannot take: refused before any cryptography, nothing sent. */
static void test_held_client_refuses(void)
{
    uint8_t ev[MS_BINDING_LEN], sha[MS_HELD_DIGEST_LEN], other[MS_HELD_DIGEST_LEN];
    held_and_other(ev, sha, other);
    static const struct {
        int client, strict;
        ms_err want;
    } cases[] = {
        {0, 0, MS_ERR_HS_HELD_EVIDENCE}, /* the client sent no hint */
        {1, 0, MS_ERR_HS_HELD_EVIDENCE}, /* it holds other evidence */
        {0, 1, MS_ERR_HS_MODE},          /* it asked for STRICT */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        det_run r;
        struct ms_hs_pending *p = NULL;
        struct ms_channel *cc = NULL;
        held_run(&r, NULL, NULL, sha);
        CHECK_OK(det_hello(&r, &p)); /* answered by reference: the server's hint matched */
        CHECK(r.sh.len == MS_SERVER_HELLO_FIXED_LEN + MS_HELD_DIGEST_LEN);
        if (cases[i].client) {
            r.c.cfg.held = ev;
            r.c.cfg.held_len = sizeof ev;
            r.c.cfg.held_sha256 = other;
        }
        r.c.strict = cases[i].strict;
        CHECK_ERR(det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc), cases[i].want);
        CHECK(cc == NULL && r.cf.len == 0 && r.c.calls == 0 && g_seen_held == -1);
        ms_hs_pending_free(p);
        det_free(&r);
    }
    /* Any bit of the digest changed: refused at check 5a, whatever else the bytes say. */
    det_run r;
    struct ms_hs_pending *p = NULL;
    held_run(&r, ev, sha, sha);
    CHECK_OK(det_hello(&r, &p));
    int bad = 0;
    for (size_t off = MS_SERVER_HELLO_FIXED_LEN - MS_KEY_LEN;
         off < MS_SERVER_HELLO_FIXED_LEN - MS_KEY_LEN + MS_HELD_DIGEST_LEN; off++) {
        struct ms_channel *cc = NULL;
        r.sh.p[off] ^= 0x01;
        bad += det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc) != MS_ERR_HS_HELD_EVIDENCE || cc;
        r.sh.p[off] ^= 0x01;
        ms_channel_free(cc);
    }
    CHECK(bad == 0);
    struct ms_channel *cc = NULL;
    CHECK_OK(det_finish(&r, r.sh.p, r.sh.len, FX_NOW, &cc));
    ms_channel_free(cc);
    /* A STRICT client cannot hold evidence (nothing would refer to it). */
    r.c.strict = 1;
    struct ms_hs_client *hc = NULL;
    ms_buf ch;
    ms_buf_init(&ch, 4096);
    CHECK_ERR(det_client(&r, &hc, &ch), MS_ERR_ARG);
    CHECK(hc == NULL && ch.len == 0);
    r.c.strict = 0;
    r.c.cfg.held = NULL; /* bytes missing for a non-empty length */
    CHECK_ERR(det_client(&r, &hc, &ch), MS_ERR_ARG);
    r.c.cfg.held_len = 0; /* held empty evidence: allowed */
    CHECK_OK(det_client(&r, &hc, &ch));
    ms_hs_client_free(hc);
    ms_buf_free(&ch);
    ms_hs_pending_free(p);
    det_free(&r);
}

/* §5 decoding of the mode byte: 0x02 only with a 32-byte evidence, 0x03 and up refused. */
static void test_held_decode(void)
{
    enum { MODE_AT = 118, LEN_AT = 127 };
    uint8_t m[MS_SERVER_HELLO_FIXED_LEN + MS_BINDING_LEN];
    det_run r;
    ms_server_hello sh;
    det_hello_only(&r);
    memcpy(m, r.sh.p, r.sh.len);
    static const struct {
        uint8_t mode;
        uint32_t len;
        ms_err want;
    } cases[] = {
        {MS_MODE_FAST_HELD, MS_HELD_DIGEST_LEN, MS_OK},
        {MS_MODE_FAST_HELD, MS_HELD_DIGEST_LEN - 1, MS_ERR_HS_HELD_LEN},
        {MS_MODE_FAST_HELD, MS_HELD_DIGEST_LEN + 1, MS_ERR_HS_HELD_LEN},
        {MS_MODE_FAST_HELD, 0, MS_ERR_HS_HELD_LEN},
        {MS_MODE_FAST_HELD, MS_BINDING_LEN, MS_ERR_HS_HELD_LEN},
        {MS_MODE_FAST_HELD, MS_MAX_EVIDENCE + 1, MS_ERR_CAP_EXCEEDED},
        {0x03, MS_HELD_DIGEST_LEN, MS_ERR_HS_MODE},
        {0xff, MS_HELD_DIGEST_LEN, MS_ERR_HS_MODE},
        {MS_MODE_FAST, MS_HELD_DIGEST_LEN, MS_OK},
        {MS_MODE_STRICT, 0, MS_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len > MS_BINDING_LEN ? MS_BINDING_LEN : cases[i].len;
        m[MODE_AT] = cases[i].mode;
        ms_store_u32be(m + LEN_AT, cases[i].len);
        CHECK_ERR(ms_server_hello_decode(m, MS_SERVER_HELLO_FIXED_LEN + len, &sh), cases[i].want);
        CHECK(sh.evidence_mode == (cases[i].want == MS_OK ? cases[i].mode : 0));
        /* The encoder refuses what the decoder refuses. */
        ms_server_hello e = {.evidence_mode = cases[i].mode, .evidence = m,
                             .evidence_len = cases[i].len};
        ms_buf b;
        ms_buf_init(&b, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE + 1);
        CHECK_ERR(ms_server_hello_encode_core(&e, &b),
                  cases[i].want == MS_OK ? MS_OK : MS_ERR_ARG);
        ms_buf_free(&b);
    }
    det_free(&r);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_round_trip);
    RUN(test_sessions_differ);
    RUN(test_strict_binding_per_session);
    RUN(test_negotiation_failures);
    RUN(test_server_offer_checks);
    RUN(test_server_provider_checked);
    RUN(test_det_hello_layout);
    RUN(test_server_hello_every_byte_flipped);
    RUN(test_server_hello_truncated_everywhere);
    RUN(test_evidence_expired);
    RUN(test_static_key_not_held);
    RUN(test_strict_stripped);
    RUN(test_client_finish_checks);
    RUN(test_client_identity);
    RUN(test_client_hello_decode);
    RUN(test_server_hello_evidence_cap);
    RUN(test_held_decode);
    RUN(test_held_round_trip);
    RUN(test_held_server_sends_bytes);
    RUN(test_held_client_refuses);
    return TEST_SUMMARY();
}

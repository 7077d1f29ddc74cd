/* Client and supervisor handshake state machines (protocol.md §3-§7). */
#include "secure/handshake.h"

#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "secure/hs_msg.h"

enum { HS_STARTED = 1, HS_SPENT = 2 };

struct ms_hs_client {
    int state;
    ms_client_hello ch;
    uint8_t eph_sk[MS_X25519_LEN];
    uint8_t has_id;
    uint8_t id_sk[MS_SIGN_SK_LEN];
    ms_buf ch_bytes; /* the ClientHello exactly as sent, for the transcript */
    ms_evidence_verify_fn verify;
    void *verify_ctx;
    /* FAST evidence the client holds (cfg.held): borrowed bytes, their digest copied. */
    uint8_t has_held;
    uint8_t held_sha256[MS_HELD_DIGEST_LEN];
    const uint8_t *held;
    size_t held_len;
};

struct ms_hs_pending {
    int state;
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint8_t th[MS_KEY_LEN];
    uint8_t server_confirm[MS_KEY_LEN];
    uint8_t cfin[MS_KEY_LEN];
    uint8_t c2s[MS_KEY_LEN];
    uint8_t s2c[MS_KEY_LEN];
    uint8_t has_client_id;
    uint8_t client_id_pk[MS_SIGN_PK_LEN];
};

/* Ed25519 over L_CLIENT_SIG || TH (§7.2, §7.4). */
static void sign_th(uint8_t sig[static MS_SIG_LEN], const uint8_t th[static MS_KEY_LEN],
                    const uint8_t sk[static MS_SIGN_SK_LEN])
{
    uint8_t msg[sizeof(MS_L_CLIENT_SIG) - 1 + MS_KEY_LEN];
    memcpy(msg, MS_L_CLIENT_SIG, sizeof(MS_L_CLIENT_SIG) - 1);
    memcpy(msg + sizeof(MS_L_CLIENT_SIG) - 1, th, MS_KEY_LEN);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
}

static int verify_th(const uint8_t sig[static MS_SIG_LEN], const uint8_t th[static MS_KEY_LEN],
                     const uint8_t pk[static MS_SIGN_PK_LEN])
{
    uint8_t msg[sizeof(MS_L_CLIENT_SIG) - 1 + MS_KEY_LEN];
    memcpy(msg, MS_L_CLIENT_SIG, sizeof(MS_L_CLIENT_SIG) - 1);
    memcpy(msg + sizeof(MS_L_CLIENT_SIG) - 1, th, MS_KEY_LEN);
    return crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0;
}

/* §7.2: ee then es (the order fixes which weak key is reported), both wiped by the caller. */
static ms_err both_dh(uint8_t ee[static MS_X25519_LEN], uint8_t es[static MS_X25519_LEN],
                      const uint8_t *ee_sk, const uint8_t *ee_pk, const uint8_t *es_sk,
                      const uint8_t *es_pk)
{
    TRY(ms_kdf_dh(ee, ee_sk, ee_pk));
    return ms_kdf_dh(es, es_sk, es_pk);
}

/* §2.3: 0x0000 and 0xFFFF are never offered or chosen. */
static int reserved_type(uint16_t t)
{
    return t == 0x0000u || t == 0xFFFFu;
}

/* ---- client ---------------------------------------------------------------------------- */

static ms_err client_fill_hello(struct ms_hs_client *hs, const ms_hs_client_cfg *cfg,
                                const ms_hs_det *det)
{
    ms_client_hello *ch = &hs->ch;
    ENSURE(cfg->n_evidence_types >= 1 && cfg->n_evidence_types <= MS_MAX_HS_LIST, MS_ERR_ARG);
    ENSURE(cfg->evidence_types != NULL && cfg->verify != NULL, MS_ERR_ARG);
    for (uint8_t i = 0; i < cfg->n_evidence_types; i++) {
        ENSURE(!reserved_type(cfg->evidence_types[i]), MS_ERR_ARG); /* §2.3 */
    }
    ch->n_versions = 1;
    ch->versions[0] = MS_VERSION_1;
    ch->n_suites = 1;
    ch->suites[0] = MS_SUITE_1;
    if (det && det->versions) {
        ENSURE(det->n_versions >= 1 && det->n_versions <= MS_MAX_HS_LIST, MS_ERR_ARG);
        ch->n_versions = det->n_versions;
        memcpy(ch->versions, det->versions, det->n_versions);
    }
    if (det && det->suites) {
        ENSURE(det->n_suites >= 1 && det->n_suites <= MS_MAX_HS_LIST, MS_ERR_ARG);
        ch->n_suites = det->n_suites;
        memcpy(ch->suites, det->suites, det->n_suites * sizeof ch->suites[0]);
    }
    ch->n_evidence = cfg->n_evidence_types;
    memcpy(ch->evidence_types, cfg->evidence_types, cfg->n_evidence_types * sizeof(uint16_t));
    ch->flags = cfg->strict ? MS_CH_FLAG_STRICT : 0;
    if (cfg->client_id_sk) {
        hs->has_id = 1;
        ch->has_client_id = 1;
        memcpy(hs->id_sk, cfg->client_id_sk, MS_SIGN_SK_LEN);
        crypto_sign_ed25519_sk_to_pk(ch->client_id_pk, hs->id_sk);
    }
    hs->verify = cfg->verify;
    hs->verify_ctx = cfg->verify_ctx;
    if (cfg->held_sha256 != NULL) {
        ENSURE(!cfg->strict && (cfg->held != NULL || cfg->held_len == 0), MS_ERR_ARG);
        hs->has_held = 1;
        memcpy(hs->held_sha256, cfg->held_sha256, MS_HELD_DIGEST_LEN);
        hs->held = cfg->held;
        hs->held_len = cfg->held_len;
    }
    return MS_OK;
}

static ms_err client_start(struct ms_hs_client **out, const ms_hs_client_cfg *cfg,
                           const ms_hs_det *det, ms_buf *ch_out)
{
    ms_err err = MS_OK;
    *out = NULL;
    struct ms_hs_client *hs = calloc(1, sizeof *hs);
    ENSURE(hs != NULL, MS_ERR_NOMEM);
    ms_buf_init(&hs->ch_bytes, MS_CLIENT_HELLO_MAX_LEN);
    TRY_OUT(client_fill_hello(hs, cfg, det));
    if (det) {
        memcpy(hs->eph_sk, det->eph_sk, MS_X25519_LEN);
        memcpy(hs->ch.challenge, det->challenge, MS_CHALLENGE_LEN);
    } else {
        randombytes_buf(hs->eph_sk, MS_X25519_LEN);
        randombytes_buf(hs->ch.challenge, MS_CHALLENGE_LEN);
    }
    crypto_scalarmult_base(hs->ch.eph_pk, hs->eph_sk);
    TRY_OUT(ms_client_hello_encode(&hs->ch, &hs->ch_bytes));
    TRY_OUT(ms_buf_append(ch_out, hs->ch_bytes.p, hs->ch_bytes.len));
    hs->state = HS_STARTED;
    *out = hs;
    hs = NULL;
out:
    ms_hs_client_free(hs);
    return err;
}

ms_err ms_hs_client_new(struct ms_hs_client **out, const ms_hs_client_cfg *cfg, ms_buf *ch_out)
{
    TRY(sodium_init() >= 0 ? MS_OK : MS_ERR_CRYPTO_INIT);
    return client_start(out, cfg, NULL, ch_out);
}

ms_err ms_hs_client_new_det(struct ms_hs_client **out, const ms_hs_client_cfg *cfg,
                            const ms_hs_det *det, ms_buf *ch_out)
{
    *out = NULL;
    ENSURE(det && det->eph_sk && det->challenge, MS_ERR_ARG);
    TRY(sodium_init() >= 0 ? MS_OK : MS_ERR_CRYPTO_INIT);
    return client_start(out, cfg, det, ch_out);
}

void ms_hs_client_free(struct ms_hs_client *hs)
{
    if (hs) {
        ms_buf_free(&hs->ch_bytes);
        ms_wipe(hs, sizeof *hs);
        free(hs);
    }
}

static int has_u8(const uint8_t *list, uint8_t n, uint8_t v)
{
    for (uint8_t i = 0; i < n; i++) {
        if (list[i] == v) {
            return 1;
        }
    }
    return 0;
}

static int has_u16(const uint16_t *list, uint8_t n, uint16_t v)
{
    for (uint8_t i = 0; i < n; i++) {
        if (list[i] == v) {
            return 1;
        }
    }
    return 0;
}

/* §7.3 checks 2-6: what the client can check before any cryptography. */
static ms_err client_check_offer(const struct ms_hs_client *hs, const ms_server_hello *sh,
                                 uint64_t now)
{
    const ms_client_hello *ch = &hs->ch;
    ENSURE(has_u8(ch->versions, ch->n_versions, sh->version) && sh->version == MS_VERSION_1,
           MS_ERR_HS_VERSION);
    ENSURE(has_u16(ch->suites, ch->n_suites, sh->suite) && sh->suite == MS_SUITE_1,
           MS_ERR_HS_SUITE);
    ENSURE(has_u16(ch->evidence_types, ch->n_evidence, sh->evidence_type),
           MS_ERR_HS_EVIDENCE_TYPE);
    ENSURE(!(ch->flags & MS_CH_FLAG_STRICT) || sh->evidence_mode == MS_MODE_STRICT,
           MS_ERR_HS_MODE);
    /* 5a: a reference only to what this client said it holds (the digest is public). */
    ENSURE(sh->evidence_mode != MS_MODE_FAST_HELD ||
               (hs->has_held && ms_ct_equal(sh->evidence, hs->held_sha256, MS_HELD_DIGEST_LEN)),
           MS_ERR_HS_HELD_EVIDENCE);
    ENSURE(now <= sh->not_after, MS_ERR_ATTEST_EXPIRED);
    return MS_OK;
}

static ms_err client_verify_evidence(const struct ms_hs_client *hs, const ms_server_hello *sh,
                                     const uint8_t th[static MS_KEY_LEN], uint64_t now)
{
    uint8_t binding[MS_BINDING_LEN];
    /* FAST_HELD is FAST evidence named by its digest: the FAST binding, the held bytes. */
    uint8_t held = sh->evidence_mode == MS_MODE_FAST_HELD;
    uint8_t mode = held ? MS_MODE_FAST : sh->evidence_mode;
    ms_binding_in bin = {.evidence_type = sh->evidence_type, .mode = mode,
                         .not_after = sh->not_after};
    memcpy(bin.static_pk, sh->static_pk, MS_X25519_LEN);
    memcpy(bin.challenge, hs->ch.challenge, MS_CHALLENGE_LEN);
    memcpy(bin.client_eph_pk, hs->ch.eph_pk, MS_X25519_LEN);
    memcpy(bin.server_eph_pk, sh->eph_pk, MS_X25519_LEN);
    TRY(ms_kdf_binding(binding, &bin));
    ms_evidence_view ev = {
        .type = sh->evidence_type, .mode = mode, .data = held ? hs->held : sh->evidence,
        .len = held ? hs->held_len : sh->evidence_len, .not_after = sh->not_after, .now = now,
        .static_pk = sh->static_pk, .binding = binding, .tls_spki_hash = sh->tls_spki_hash,
        .session_id = sh->session_id, .transcript_hash = th, .held = held,
    };
    return hs->verify(hs->verify_ctx, &ev);
}

static ms_err client_make_finish(const struct ms_hs_client *hs, const ms_server_hello *sh,
                                 const ms_hs_keys *keys, const uint8_t th[static MS_KEY_LEN],
                                 ms_buf *cf_out)
{
    ms_client_finish cf = {0};
    memcpy(cf.session_id, sh->session_id, MS_SESSION_ID_LEN);
    ms_kdf_mac2(cf.confirm, keys->cfin, th, MS_KEY_LEN, sh->confirm, MS_KEY_LEN);
    if (hs->has_id) {
        cf.has_sig = 1;
        sign_th(cf.sig, th, hs->id_sk);
    }
    return ms_client_finish_encode(&cf, cf_out);
}

ms_err ms_hs_client_finish(struct ms_hs_client *hs, const uint8_t *sh_bytes, size_t sh_len,
                           uint64_t now, ms_buf *cf_out, struct ms_channel **chan_out,
                           ms_hs_client_result *res)
{
    ms_err err = MS_OK;
    ms_server_hello sh;
    ms_hs_keys keys = {0};
    uint8_t th[MS_KEY_LEN], expect[MS_KEY_LEN], ee[MS_X25519_LEN], es[MS_X25519_LEN];
    size_t cf_mark = cf_out->len;
    *chan_out = NULL;
    memset(res, 0, sizeof *res);
    ENSURE(hs->state == HS_STARTED, MS_ERR_STATE);
    hs->state = HS_SPENT;

    TRY_OUT(ms_server_hello_decode(sh_bytes, sh_len, &sh)); /* check 1 */
    TRY_OUT(client_check_offer(hs, &sh, now));               /* checks 2-6 */
    ms_kdf_transcript(th, hs->ch_bytes.p, hs->ch_bytes.len, sh_bytes, sh.core_len);
    err = both_dh(ee, es, hs->eph_sk, sh.eph_pk, hs->eph_sk, sh.static_pk); /* check 7 */
    ms_wipe(hs->eph_sk, sizeof hs->eph_sk);
    TRY_OUT(err);
    ms_kdf_schedule(&keys, th, ee, es, NULL);
    ms_kdf_mac2(expect, keys.sfin, th, MS_KEY_LEN, NULL, 0);
    ENSURE_OUT(ms_ct_equal(expect, sh.confirm, MS_KEY_LEN), MS_ERR_HS_SERVER_CONFIRM); /* 8 */
    TRY_OUT(client_verify_evidence(hs, &sh, th, now));       /* check 9 */

    TRY_OUT(client_make_finish(hs, &sh, &keys, th, cf_out));
    TRY_OUT(ms_channel_new(chan_out, MS_ROLE_CLIENT, sh.session_id, keys.c2s, keys.s2c));
    memcpy(res->session_id, sh.session_id, MS_SESSION_ID_LEN);
    memcpy(res->transcript_hash, th, MS_KEY_LEN);
    memcpy(res->static_pk, sh.static_pk, MS_X25519_LEN);
    memcpy(res->tls_spki_hash, sh.tls_spki_hash, MS_SPKI_HASH_LEN);
    res->evidence_type = sh.evidence_type;
    res->evidence_held = sh.evidence_mode == MS_MODE_FAST_HELD;
    res->evidence_mode = res->evidence_held ? MS_MODE_FAST : sh.evidence_mode;
    res->evidence_not_after = sh.not_after;
out:
    if (err != MS_OK && cf_out->len > cf_mark) {
        ms_err e2 = ms_buf_shrink(cf_out, cf_out->len - cf_mark);
        (void)e2; /* cannot fail: only removes what this call appended */
    }
    ms_kdf_keys_wipe(&keys);
    ms_wipe(expect, sizeof expect);
    ms_wipe(ee, sizeof ee);
    ms_wipe(es, sizeof es);
    ms_wipe(hs->eph_sk, sizeof hs->eph_sk);
    ms_wipe(hs->id_sk, sizeof hs->id_sk);
    hs->held = NULL; /* borrowed only until now */
    return err;
}

/* ---- supervisor ------------------------------------------------------------------------ */

/* §4 negotiation checks that do not depend on evidence. */
static ms_err server_check_offer(const ms_client_hello *ch)
{
    ENSURE(has_u8(ch->versions, ch->n_versions, MS_VERSION_1), MS_ERR_HS_VERSION);
    ENSURE(has_u16(ch->suites, ch->n_suites, MS_SUITE_1), MS_ERR_HS_SUITE);
    return MS_OK;
}

static ms_err server_get_evidence(const ms_hs_server_cfg *cfg, const ms_client_hello *ch,
                                  const ms_server_hello *sh, ms_evidence_reply *rep)
{
    ms_evidence_request req = {
        .client_types = ch->evidence_types, .n_client_types = ch->n_evidence,
        .strict = (ch->flags & MS_CH_FLAG_STRICT) != 0, .static_pk = sh->static_pk,
        .challenge = ch->challenge, .client_eph_pk = ch->eph_pk, .server_eph_pk = sh->eph_pk,
    };
    TRY(cfg->provide(cfg->provide_ctx, &req, rep));
    /* The provider is trusted code, but a wrong answer must not reach the wire. */
    ENSURE(has_u16(ch->evidence_types, ch->n_evidence, rep->type) && !reserved_type(rep->type),
           MS_ERR_HS_EVIDENCE_TYPE);
    ENSURE(rep->mode == MS_MODE_FAST || rep->mode == MS_MODE_STRICT, MS_ERR_HS_MODE);
    ENSURE(!req.strict || rep->mode == MS_MODE_STRICT, MS_ERR_HS_MODE);
    return MS_OK;
}

/*
 * The evidence field of the ServerHello: the bytes, or (§6, FAST_HELD) their SHA-256 when the
 * client's hint names exactly the FAST evidence the provider answered with.
 */
static void server_place_evidence(const ms_hs_server_cfg *cfg, const ms_evidence_reply *rep,
                                  ms_server_hello *sh)
{
    sh->evidence_mode = rep->mode;
    sh->evidence = rep->shared != NULL ? rep->shared : rep->evidence.p;
    sh->evidence_len = (uint32_t)(rep->shared != NULL ? rep->shared_len : rep->evidence.len);
    if (rep->mode == MS_MODE_FAST && rep->shared_sha256 != NULL && cfg->held_sha256 != NULL &&
        ms_ct_equal(rep->shared_sha256, cfg->held_sha256, MS_HELD_DIGEST_LEN)) {
        sh->evidence_mode = MS_MODE_FAST_HELD;
        sh->evidence = rep->shared_sha256;
        sh->evidence_len = MS_HELD_DIGEST_LEN;
    }
}

/* Derive the keys over SH_core and finish the ServerHello with server_confirm (§5, §7). */
static ms_err server_confirm_keys(struct ms_hs_pending *p, const ms_hs_server_cfg *cfg,
                                  const uint8_t *ch_bytes, size_t ch_len, const ms_client_hello *ch,
                                  const uint8_t eph_sk[static MS_X25519_LEN], ms_buf *sh_out,
                                  size_t mark)
{
    ms_err err = MS_OK;
    ms_hs_keys keys = {0};
    uint8_t ee[MS_X25519_LEN], es[MS_X25519_LEN];
    ms_kdf_transcript(p->th, ch_bytes, ch_len, sh_out->p + mark, sh_out->len - mark);
    TRY_OUT(both_dh(ee, es, eph_sk, ch->eph_pk, cfg->static_sk, ch->eph_pk));
    ms_kdf_schedule(&keys, p->th, ee, es, NULL);
    ms_kdf_mac2(p->server_confirm, keys.sfin, p->th, MS_KEY_LEN, NULL, 0);
    memcpy(p->cfin, keys.cfin, MS_KEY_LEN);
    memcpy(p->c2s, keys.c2s, MS_KEY_LEN);
    memcpy(p->s2c, keys.s2c, MS_KEY_LEN);
    TRY_OUT(ms_buf_append(sh_out, p->server_confirm, MS_KEY_LEN));
out:
    ms_kdf_keys_wipe(&keys);
    ms_wipe(ee, sizeof ee);
    ms_wipe(es, sizeof es);
    return err;
}

static ms_err server_respond(const ms_hs_server_cfg *cfg, const ms_hs_det *det,
                             const uint8_t *ch_in, size_t ch_len, ms_buf *sh_out,
                             struct ms_hs_pending **out)
{
    ms_err err = MS_OK;
    ms_client_hello ch;
    ms_server_hello sh = {.version = MS_VERSION_1, .suite = MS_SUITE_1};
    ms_evidence_reply rep = {0};
    uint8_t eph_sk[MS_X25519_LEN];
    struct ms_hs_pending *p = NULL;
    size_t mark = sh_out->len;
    *out = NULL;
    ms_buf_init(&rep.evidence, MS_MAX_EVIDENCE);
    ENSURE(cfg && cfg->static_sk && cfg->static_pk && cfg->provide, MS_ERR_ARG);

    TRY_OUT(ms_client_hello_decode(ch_in, ch_len, &ch)); /* §4 decoding */
    TRY_OUT(server_check_offer(&ch));                    /* §4 negotiation */
    p = calloc(1, sizeof *p);
    ENSURE_OUT(p != NULL, MS_ERR_NOMEM);
    if (det) {
        memcpy(eph_sk, det->eph_sk, MS_X25519_LEN);
        memcpy(sh.session_id, det->session_id, MS_SESSION_ID_LEN);
    } else {
        randombytes_buf(eph_sk, MS_X25519_LEN);
        randombytes_buf(sh.session_id, MS_SESSION_ID_LEN);
    }
    crypto_scalarmult_base(sh.eph_pk, eph_sk);
    memcpy(sh.static_pk, cfg->static_pk, MS_X25519_LEN);
    if (cfg->tls_spki_hash) {
        memcpy(sh.tls_spki_hash, cfg->tls_spki_hash, MS_SPKI_HASH_LEN);
    }
    TRY_OUT(server_get_evidence(cfg, &ch, &sh, &rep)); /* §4 evidence checks, §6 */
    sh.evidence_type = rep.type;
    sh.not_after = rep.not_after;
    ENSURE_OUT(rep.shared == NULL || rep.shared_len <= MS_MAX_EVIDENCE, MS_ERR_ARG);
    server_place_evidence(cfg, &rep, &sh);
    /* The whole ServerHello at once (SH_core, then server_confirm): no growth, no copy. */
    TRY_OUT(ms_buf_reserve(sh_out, MS_SERVER_HELLO_FIXED_LEN + (size_t)sh.evidence_len));
    TRY_OUT(ms_server_hello_encode_core(&sh, sh_out));
    TRY_OUT(server_confirm_keys(p, cfg, ch_in, ch_len, &ch, eph_sk, sh_out, mark));

    memcpy(p->session_id, sh.session_id, MS_SESSION_ID_LEN);
    p->has_client_id = ch.has_client_id;
    memcpy(p->client_id_pk, ch.client_id_pk, MS_SIGN_PK_LEN);
    p->state = HS_STARTED;
    *out = p;
    p = NULL;
out:
    ms_wipe(eph_sk, sizeof eph_sk);
    ms_buf_free(&rep.evidence);
    ms_hs_pending_free(p);
    if (err != MS_OK && sh_out->len > mark) {
        ms_err e2 = ms_buf_shrink(sh_out, sh_out->len - mark);
        (void)e2; /* cannot fail: only removes what this call appended */
    }
    return err;
}

ms_err ms_hs_server_respond(const ms_hs_server_cfg *cfg, const uint8_t *ch, size_t ch_len,
                            ms_buf *sh_out, struct ms_hs_pending **out)
{
    *out = NULL;
    TRY(sodium_init() >= 0 ? MS_OK : MS_ERR_CRYPTO_INIT);
    return server_respond(cfg, NULL, ch, ch_len, sh_out, out);
}

ms_err ms_hs_server_respond_det(const ms_hs_server_cfg *cfg, const ms_hs_det *det,
                                const uint8_t *ch, size_t ch_len, ms_buf *sh_out,
                                struct ms_hs_pending **out)
{
    *out = NULL;
    ENSURE(det && det->eph_sk && det->session_id, MS_ERR_ARG);
    TRY(sodium_init() >= 0 ? MS_OK : MS_ERR_CRYPTO_INIT);
    return server_respond(cfg, det, ch, ch_len, sh_out, out);
}

const uint8_t *ms_hs_pending_session_id(const struct ms_hs_pending *p)
{
    return p->session_id;
}

/*
 * §7.4 checks after decoding, up to the client_confirm: what only the holder of the client's
 * ephemeral secret can pass. A failure here, or of the signature, leaves the pending session
 * as it was (§7.4).
 */
static ms_err server_check_confirm(const struct ms_hs_pending *p, const ms_client_finish *cf)
{
    uint8_t expect[MS_KEY_LEN];
    ENSURE(ms_ct_equal(cf->session_id, p->session_id, MS_SESSION_ID_LEN), MS_ERR_HS_SESSION_ID);
    ENSURE(cf->has_sig == p->has_client_id, MS_ERR_HS_CLIENT_ID);
    ms_kdf_mac2(expect, p->cfin, p->th, MS_KEY_LEN, p->server_confirm, MS_KEY_LEN);
    int ok = ms_ct_equal(expect, cf->confirm, MS_KEY_LEN);
    ms_wipe(expect, sizeof expect);
    ENSURE(ok, MS_ERR_HS_CLIENT_CONFIRM);
    return MS_OK;
}

ms_err ms_hs_server_finish(struct ms_hs_pending *p, const uint8_t *cf_bytes, size_t cf_len,
                           struct ms_channel **chan_out, ms_hs_server_result *res)
{
    ms_err err = MS_OK;
    ms_client_finish cf;
    *chan_out = NULL;
    memset(res, 0, sizeof *res);
    ENSURE(p->state == HS_STARTED, MS_ERR_STATE);
    TRY(ms_client_finish_decode(cf_bytes, cf_len, &cf));
    TRY(server_check_confirm(p, &cf));
    /* Not spent by a bad signature either: whoever saw the client's own ClientFinish (a
       proxy) could pair its client_confirm with a broken signature. */
    ENSURE(!cf.has_sig || verify_th(cf.sig, p->th, p->client_id_pk), MS_ERR_HS_CLIENT_SIGNATURE);
    p->state = HS_SPENT;
    TRY_OUT(ms_channel_new(chan_out, MS_ROLE_SERVER, p->session_id, p->c2s, p->s2c));
    memcpy(res->session_id, p->session_id, MS_SESSION_ID_LEN);
    res->has_client_id = p->has_client_id;
    memcpy(res->client_id_pk, p->client_id_pk, MS_SIGN_PK_LEN);
out:
    /* Spent: nothing secret needs to outlive this call. */
    ms_wipe(p->cfin, sizeof p->cfin);
    ms_wipe(p->c2s, sizeof p->c2s);
    ms_wipe(p->s2c, sizeof p->s2c);
    return err;
}

int ms_hs_pending_spent(const struct ms_hs_pending *p)
{
    return p->state != HS_STARTED;
}

int ms_hs_pending_client_id(const struct ms_hs_pending *p, uint8_t pk[static MS_SIGN_PK_LEN])
{
    memcpy(pk, p->client_id_pk, MS_SIGN_PK_LEN);
    return p->has_client_id;
}

void ms_hs_pending_free(struct ms_hs_pending *p)
{
    if (p) {
        ms_wipe(p, sizeof *p);
        free(p);
    }
}

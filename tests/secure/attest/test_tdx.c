/* TDX quote tests: Intel's real vectors, then made-up quotes for every quote and TD check. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "secure/attest/tdx.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

static tdx_fx_intel intel;
static int have_intel;

/* ---- helpers ----------------------------------------------------------------------------- */

/* The real vectors' policy: Intel's root and CRLs at a 2023 time, nothing pinned. */
static ms_tdx_policy intel_policy(void)
{
    ms_tdx_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = intel.root.p;
    p.root_len = intel.root.len;
    p.pck_crl = intel.pck_crl.p;
    p.pck_crl_len = intel.pck_crl.len;
    p.collateral.root_crl = intel.root_crl.p;
    p.collateral.root_crl_len = intel.root_crl.len;
    p.at = TDX_FX_INTEL_AT;
    return p;
}

/* A made-up world: chain, CRLs (none revoked), the default quote. */
typedef struct world {
    tdx_fx_chain chain;
    ms_buf pck_crl, root_crl;
    tdx_fx_quote_opts qo;
    ms_buf quote;
    tdx_fx_layout layout;
} world;

static int world_make(world *w, const tdx_fx_quote_opts *qo)
{
    tdx_fx_pck_opts po;
    tdx_fx_pck_opts_default(&po);
    memset(w, 0, sizeof *w);
    if (qo != NULL) {
        w->qo = *qo;
    } else {
        tdx_fx_quote_opts_default(&w->qo);
    }
    int ok = tdx_fx_chain_make(&w->chain, &po) &&
             tdx_fx_crl(&w->pck_crl, w->chain.ca_x, w->chain.ca_key, 0) &&
             tdx_fx_crl(&w->root_crl, w->chain.root_x, w->chain.root_key, 0) &&
             tdx_fx_quote_make(&w->quote, &w->chain, &w->qo, &w->layout);
    CHECK(ok);
    return ok;
}

static void world_free(world *w)
{
    tdx_fx_chain_free(&w->chain);
    ms_buf_free(&w->pck_crl);
    ms_buf_free(&w->root_crl);
    ms_buf_free(&w->quote);
}

/* The made-up world's policy: its root and CRLs, its MRTD and RTMRs pinned. */
static ms_tdx_policy world_policy(const world *w)
{
    ms_tdx_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = w->chain.root.p;
    p.root_len = w->chain.root.len;
    p.pck_crl = w->pck_crl.p;
    p.pck_crl_len = w->pck_crl.len;
    p.collateral.root_crl = w->root_crl.p;
    p.collateral.root_crl_len = w->root_crl.len;
    p.have_mrtd = 1;
    memcpy(p.mrtd, w->qo.mrtd, sizeof p.mrtd);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        p.have_rtmr[i] = 1;
        memcpy(p.rtmr[i], w->qo.rtmr[i], MS_TDX_MEAS_LEN);
    }
    return p;
}

/* The offline form over a raw quote with the world's binding; the first failure. */
static ms_err checks_raw(const ms_tdx_policy *p, const uint8_t *q, size_t n, const uint8_t *binding,
                         ms_tdx_checks *ch)
{
    return ms_tdx_verify_checks(p, q, n, 0, binding, 1, ch);
}

/* Every check that ran passed, and these ran. */
static void expect_passed(const ms_tdx_checks *ch, const ms_tdx_check *want, size_t n)
{
    for (size_t i = 0; i < MS_TDX_CHECK_COUNT; i++) {
        if (ch->ran[i] && ch->result[i] != MS_OK) {
            TEST_FAIL_("check %s: %s", ms_tdx_check_name((ms_tdx_check)i),
                       ms_err_name(ch->result[i]));
        }
    }
    for (size_t i = 0; i < n; i++) {
        CHECK(ch->ran[want[i]]);
    }
}

static const ms_tdx_check QUOTE_SIDE[] = {
    MS_TDX_CHECK_FORMAT,       MS_TDX_CHECK_PCK_CHAIN,  MS_TDX_CHECK_CRL,
    MS_TDX_CHECK_QE_SIGNATURE, MS_TDX_CHECK_QE_BINDING, MS_TDX_CHECK_SIGNATURE,
    MS_TDX_CHECK_DEBUG,
};
static const ms_tdx_check QUOTE_SIDE_NO_CRL[] = {
    MS_TDX_CHECK_FORMAT,       MS_TDX_CHECK_PCK_CHAIN, MS_TDX_CHECK_QE_SIGNATURE,
    MS_TDX_CHECK_QE_BINDING,   MS_TDX_CHECK_SIGNATURE, MS_TDX_CHECK_DEBUG,
};
#define NO_CRL QUOTE_SIDE_NO_CRL, sizeof QUOTE_SIDE_NO_CRL / sizeof QUOTE_SIDE_NO_CRL[0]

/* ---- real vectors ----------------------------------------------------------------------- */

static void test_intel_decode(void)
{
    ms_tdx_quote q;
    size_t qlen, pad;
    /* The SPR file carries 39 bytes of text after its quote: strict decoding refuses them. */
    CHECK(intel.spr.len == TDX_FX_SPR_QUOTE_LEN + 39);
    CHECK_ERR(ms_tdx_quote_decode(intel.spr.p, intel.spr.len, &q), MS_ERR_TDX_FORMAT);
    CHECK_ERR(ms_tdx_quote_unpad(intel.spr.p, intel.spr.len, &qlen, &pad), MS_ERR_TDX_FORMAT);
    CHECK_OK(ms_tdx_quote_decode(intel.spr.p, TDX_FX_SPR_QUOTE_LEN, &q));
    CHECK(q.version == 4 && q.tee_type == 0x81 && q.body_type == MS_TDX_BODY_TD10);
    CHECK(q.signed_len == MS_TDX_HEADER_LEN + MS_TDX_TD10_LEN && q.qe_auth_len == 32);
    CHECK(ms_tdx_quote_sniff(intel.spr.p, intel.spr.len));

    /* cos-113: zero padding to 8000 is refused strictly, trimmed by unpad. */
    CHECK(intel.cos.len == 8000);
    CHECK_ERR(ms_tdx_quote_decode(intel.cos.p, intel.cos.len, &q), MS_ERR_TDX_FORMAT);
    CHECK_OK(ms_tdx_quote_unpad(intel.cos.p, intel.cos.len, &qlen, &pad));
    CHECK(qlen == TDX_FX_SPR_QUOTE_LEN && pad == 8000 - TDX_FX_SPR_QUOTE_LEN);
    CHECK_OK(ms_tdx_quote_decode(intel.cos.p, qlen, &q));
    CHECK(intel.nonce.len == MS_TDX_REPORT_DATA_LEN);
    CHECK_MEM(q.td.report_data, intel.nonce.p, MS_TDX_REPORT_DATA_LEN);

    /* The v5 sample: TD 1.5 body, its PEM chain ends with a NUL. */
    CHECK_OK(ms_tdx_quote_decode(intel.v5.p, intel.v5.len, &q));
    CHECK(q.version == 5 && q.body_type == MS_TDX_BODY_TD15);
    CHECK(q.signed_len == MS_TDX_HEADER_LEN + 6 + MS_TDX_TD15_LEN);
    CHECK_OK(ms_tdx_quote_unpad(intel.v5.p, intel.v5.len, &qlen, &pad));
    CHECK(qlen == intel.v5.len && pad == 0);
}

static void test_intel_verify(void)
{
    ms_tdx_policy p = intel_policy();
    ms_tdx_checks ch;
    /* SPR: every quote-side check; no binding (a foreign quote: REPORT_DATA is skipped). */
    CHECK_OK(checks_raw(&p, intel.spr.p, TDX_FX_SPR_QUOTE_LEN, NULL, &ch));
    expect_passed(&ch, QUOTE_SIDE, sizeof QUOTE_SIDE / sizeof QUOTE_SIDE[0]);
    CHECK(!ch.ran[MS_TDX_CHECK_REPORT_DATA] && !ch.ran[MS_TDX_CHECK_COLLATERAL]);

    /* cos-113, trimmed: its PCK leaf was issued on 2024-07-02, after the 2023 CRLs here
       expired. At 2023 the chain is not yet valid; at 2026 chain, QE report and signatures
       verify (no CRL of that time is in the vectors), and its REPORTDATA is the nonce. */
    CHECK_ERR(checks_raw(&p, intel.cos.p, TDX_FX_SPR_QUOTE_LEN, intel.nonce.p, &ch),
              MS_ERR_TDX_PCK_CHAIN);
    ms_tdx_policy p26 = p;
    p26.at = TDX_FX_V5_AT;
    p26.pck_crl = p26.collateral.root_crl = NULL;
    p26.pck_crl_len = p26.collateral.root_crl_len = 0;
    CHECK_OK(checks_raw(&p26, intel.cos.p, TDX_FX_SPR_QUOTE_LEN, intel.nonce.p, &ch));
    expect_passed(&ch, NO_CRL);
    CHECK(ch.ran[MS_TDX_CHECK_PCK_CHAIN] && !ch.ran[MS_TDX_CHECK_CRL]);
    CHECK(ch.ran[MS_TDX_CHECK_REPORT_DATA] && ch.result[MS_TDX_CHECK_REPORT_DATA] == MS_OK);
    uint8_t other[64];
    memcpy(other, intel.nonce.p, sizeof other);
    other[63] ^= 1;
    CHECK_ERR(checks_raw(&p26, intel.cos.p, TDX_FX_SPR_QUOTE_LEN, other, &ch),
              MS_ERR_TDX_REPORT_DATA);

    /* v5 sample: its PCK leaf was issued on 2026-01-27, after the 2023 CRLs here expired. At
       2023 its chain is not yet valid; at 2026 chain and signatures verify, and the stale
       CRLs fail (without them the CRL check does not run). */
    CHECK_ERR(checks_raw(&p, intel.v5.p, intel.v5.len, NULL, &ch), MS_ERR_TDX_PCK_CHAIN);
    CHECK(ch.result[MS_TDX_CHECK_SIGNATURE] == MS_OK && ch.result[MS_TDX_CHECK_QE_SIGNATURE] == MS_OK);
    p.at = TDX_FX_V5_AT;
    CHECK_ERR(checks_raw(&p, intel.v5.p, intel.v5.len, NULL, &ch), MS_ERR_TDX_CRL);
    CHECK(ch.result[MS_TDX_CHECK_PCK_CHAIN] == MS_OK);
    p.pck_crl = p.collateral.root_crl = NULL;
    p.pck_crl_len = p.collateral.root_crl_len = 0;
    CHECK_OK(checks_raw(&p, intel.v5.p, intel.v5.len, NULL, &ch));
    expect_passed(&ch, NO_CRL);
    CHECK(ch.ran[MS_TDX_CHECK_PCK_CHAIN] && !ch.ran[MS_TDX_CHECK_CRL]);
    p = intel_policy();

    /* The wrong time: in 2026 the 2023 PCK CRL is out of date. */
    p.at = 1780000000u;
    CHECK_ERR(checks_raw(&p, intel.spr.p, TDX_FX_SPR_QUOTE_LEN, NULL, &ch), MS_ERR_TDX_CRL);
    CHECK(ch.result[MS_TDX_CHECK_PCK_CHAIN] == MS_OK && ch.result[MS_TDX_CHECK_SIGNATURE] == MS_OK);
    /* Before the PCK leaf was issued (2022-09-20): the chain itself fails. */
    p.at = 1640995200u; /* 2022-01-01 */
    CHECK_ERR(checks_raw(&p, intel.spr.p, TDX_FX_SPR_QUOTE_LEN, NULL, &ch), MS_ERR_TDX_PCK_CHAIN);

    /* A self-made "Intel" root: the chain does not verify to it. */
    world w;
    if (world_make(&w, NULL)) {
        ms_tdx_policy q = intel_policy();
        q.root_der = w.chain.root.p;
        q.root_len = w.chain.root.len;
        CHECK_ERR(checks_raw(&q, intel.spr.p, TDX_FX_SPR_QUOTE_LEN, NULL, &ch), MS_ERR_TDX_PCK_CHAIN);
    }
    world_free(&w);

    /* One byte changed in the signed header + body, or in the QE report: FAIL. */
    uint8_t *copy = malloc(TDX_FX_SPR_QUOTE_LEN);
    memcpy(copy, intel.spr.p, TDX_FX_SPR_QUOTE_LEN);
    copy[MS_TDX_HEADER_LEN + 136] ^= 1; /* MRTD */
    p = intel_policy();
    CHECK_ERR(checks_raw(&p, copy, TDX_FX_SPR_QUOTE_LEN, NULL, &ch), MS_ERR_TDX_SIGNATURE);
    copy[MS_TDX_HEADER_LEN + 136] ^= 1;
    copy[MS_TDX_HEADER_LEN + MS_TDX_TD10_LEN + 4 + 128 + 6 + 100] ^= 1; /* QE report */
    CHECK_ERR(checks_raw(&p, copy, TDX_FX_SPR_QUOTE_LEN, NULL, &ch), MS_ERR_TDX_QE_SIGNATURE);
    free(copy);
}

/* ---- made-up quotes: positive ------------------------------------------------------------ */

static void test_made_quote_ok(void)
{
    static const uint16_t forms[][2] = {{4, 2}, {5, 2}, {5, 3}};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        tdx_fx_quote_opts qo;
        tdx_fx_quote_opts_default(&qo);
        qo.version = forms[f][0];
        qo.body_type = forms[f][1];
        memset(qo.report_data, 0xb1, sizeof qo.report_data);
        world w;
        if (!world_make(&w, &qo)) {
            world_free(&w);
            continue;
        }
        ms_tdx_quote q;
        CHECK_OK(ms_tdx_quote_decode(w.quote.p, w.quote.len, &q));
        CHECK(q.version == qo.version && q.body_type == qo.body_type);
        CHECK_MEM(q.td.mrtd, qo.mrtd, MS_TDX_MEAS_LEN);
        CHECK_MEM(q.td.rtmr[3], qo.rtmr[3], MS_TDX_MEAS_LEN);
        ms_tdx_policy p = world_policy(&w);
        ms_tdx_checks ch;
        CHECK_OK(checks_raw(&p, w.quote.p, w.quote.len, qo.report_data, &ch));
        expect_passed(&ch, QUOTE_SIDE, sizeof QUOTE_SIDE / sizeof QUOTE_SIDE[0]);
        CHECK(ch.ran[MS_TDX_CHECK_MRTD] && ch.ran[MS_TDX_CHECK_RTMR] &&
              ch.ran[MS_TDX_CHECK_REPORT_DATA] && !ch.ran[MS_TDX_CHECK_MRCONFIGID]);

        /* The client's verifier over a bundle without collateral: the TCB cannot be judged. */
        ms_tdx_bundle b = {.quote = w.quote.p, .quote_len = w.quote.len};
        ms_buf ev;
        ms_buf_init(&ev, MS_MAX_EVIDENCE);
        CHECK_OK(ms_tdx_bundle_encode(&b, &ev));
        CHECK_ERR(ms_tdx_verify(&p, ev.p, ev.len, qo.report_data), MS_ERR_TDX_NO_COLLATERAL);
        /* ... and the client needs CRLs: none given fails CRL before anything else. */
        p.pck_crl = NULL;
        p.pck_crl_len = 0;
        CHECK_ERR(ms_tdx_verify(&p, ev.p, ev.len, qo.report_data), MS_ERR_TDX_CRL);
        ms_buf_free(&ev);
        world_free(&w);
    }
}

/* A v5 body type other than TD 1.0 (2) or TD 1.5 (3), here laid out and signed as TD 1.0. */
static void test_v5_body_types(void)
{
    tdx_fx_pck_opts po;
    tdx_fx_pck_opts_default(&po);
    tdx_fx_chain c;
    CHECK(tdx_fx_chain_make(&c, &po));
    static const uint16_t types[] = {0, 1, 4, 0x0102};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        tdx_fx_quote_opts qo;
        tdx_fx_quote_opts_default(&qo);
        qo.version = MS_TDX_VERSION_5;
        qo.body_type = types[i];
        ms_buf quote;
        tdx_fx_layout l;
        CHECK(tdx_fx_quote_make(&quote, &c, &qo, &l));
        ms_tdx_quote q;
        CHECK_ERR(ms_tdx_quote_decode(quote.p, quote.len, &q), MS_ERR_TDX_FORMAT);
        ms_buf_free(&quote);
    }
    tdx_fx_chain_free(&c);
}

/* The PCK chain in the quote: PEM certificates and white space, nothing else after them. */
static void test_pem_chain_tail(void)
{
    static const char *tails[] = {"\n \t\r\n", "junk\n", "-----BEGIN CERTIFICATE-----\n"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        world w;
        if (!world_make(&w, NULL)) {
            world_free(&w);
            continue;
        }
        CHECK_OK(ms_buf_append(&w.chain.pem, tails[i], strlen(tails[i])));
        ms_buf_free(&w.quote);
        CHECK(tdx_fx_quote_make(&w.quote, &w.chain, &w.qo, &w.layout));
        ms_tdx_policy p = world_policy(&w);
        ms_tdx_checks ch;
        CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, w.qo.report_data, &ch),
                  i == 0 ? MS_OK : MS_ERR_TDX_FORMAT);
        world_free(&w);
    }
}

/* ---- made-up quotes: every byte of every signed region ------------------------------------ */

/* Header bytes whose change the decoder refuses (version, key type, TEE type). */
static int header_checked(size_t i)
{
    return i < 8;
}

static void test_flip_every_byte(void)
{
    static const uint16_t forms[][2] = {{4, 2}, {5, 3}};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        tdx_fx_quote_opts qo;
        tdx_fx_quote_opts_default(&qo);
        qo.version = forms[f][0];
        qo.body_type = forms[f][1];
        world w;
        if (!world_make(&w, &qo)) {
            world_free(&w);
            continue;
        }
        /* Without CRLs (the CRL check does not run): half the chain work per flip. */
        ms_tdx_policy p = world_policy(&w);
        p.pck_crl = p.collateral.root_crl = NULL;
        p.pck_crl_len = p.collateral.root_crl_len = 0;
        const tdx_fx_layout *l = &w.layout;
        uint8_t *q = w.quote.p;
        ms_tdx_checks ch;
        int wrong = 0;
        /* Quick mode: the bytes at each region's edges and every 61st (each flip verifies
           the PCK chain again); full mode: every byte. */
        const size_t edges[] = {0, 8, 48, 54, l->signed_len, l->sig_off, l->sig_off + 64,
                                l->sig_off + 128, l->qe_off,
                                l->qe_off + MS_TDX_QE_REPORT_LEN + 64, l->auth_off,
                                l->auth_off + l->auth_len, l->chain_off - 6, l->chain_off};
        for (size_t i = 0; i < l->chain_off; i++) {
            if (!test_sampled(i, edges, sizeof edges / sizeof edges[0], 61)) {
                continue;
            }
            ms_err want;
            if (i < l->signed_len) {
                /* v5's body type and size (48..54) are layout: FORMAT. */
                int layout = header_checked(i) || (qo.version == 5 && i >= 48 && i < 54);
                want = layout ? MS_ERR_TDX_FORMAT : MS_ERR_TDX_SIGNATURE;
            } else if (i < l->sig_off) {
                want = MS_ERR_TDX_FORMAT; /* signature data length */
            } else if (i < l->sig_off + 64) {
                want = MS_ERR_TDX_SIGNATURE;
            } else if (i < l->sig_off + 128) {
                want = MS_ERR_TDX_QE_REPORT_DATA; /* the attestation key is bound by the QE */
            } else if (i < l->qe_off) {
                want = MS_ERR_TDX_FORMAT; /* type 6 and its size */
            } else if (i < l->qe_off + MS_TDX_QE_REPORT_LEN + 64) {
                want = MS_ERR_TDX_QE_SIGNATURE;
            } else if (i < l->auth_off) {
                want = MS_ERR_TDX_FORMAT; /* auth data length */
            } else if (i < l->auth_off + l->auth_len) {
                want = MS_ERR_TDX_QE_REPORT_DATA;
            } else if (i == l->chain_off - 6) {
                /* type 5 -> 4 (the PCK leaf alone): valid, but no chain is given here */
                want = MS_ERR_TDX_NO_PCK_CHAIN;
            } else {
                want = MS_ERR_TDX_FORMAT; /* type 5 and its size */
            }
            q[i] ^= 0x01;
            ms_err got = checks_raw(&p, q, w.quote.len, w.qo.report_data, &ch);
            q[i] ^= 0x01;
            if (got != want) {
                if (wrong++ < 5) {
                    TEST_FAIL_("v%u byte %zu: got %s, want %s", qo.version, i, ms_err_name(got),
                               ms_err_name(want));
                }
            }
        }
        CHECK(wrong == 0);
        /* The PEM chain: any change fails (layout, a broken certificate or the chain).
           Full mode: every 7th byte; quick mode: about 24 of those, the first and last included. */
        size_t chain_bytes = (l->len - l->chain_off + 6) / 7;
        for (size_t k = 0; k < chain_bytes; k = test_sample_next(k, 0, chain_bytes, 24)) {
            size_t i = l->chain_off + k * 7;
            q[i] ^= 0x20;
            ms_err got = checks_raw(&p, q, w.quote.len, w.qo.report_data, &ch);
            q[i] ^= 0x20;
            if (got == MS_OK) {
                TEST_FAIL_("chain byte %zu changed and still verifies", i);
            }
        }
        CHECK_OK(checks_raw(&p, q, w.quote.len, w.qo.report_data, &ch));
        world_free(&w);
    }
}

static void test_truncate_every_offset(void)
{
    world w;
    if (world_make(&w, NULL)) {
        ms_tdx_quote q;
        int wrong = 0;
        /* Quick mode: every 7th length, the last included; full mode: every length. */
        size_t len = w.quote.len;
        for (size_t n = 0; n < len; n = test_sample_next(n, 0, len, len / 7)) {
            wrong += ms_tdx_quote_decode(w.quote.p, n, &q) != MS_ERR_TDX_FORMAT;
        }
        CHECK(wrong == 0);
        /* One byte more, zero or not: trailing. */
        CHECK_OK(ms_buf_append_u8(&w.quote, 0));
        CHECK_ERR(ms_tdx_quote_decode(w.quote.p, w.quote.len, &q), MS_ERR_TDX_FORMAT);
        size_t qlen, pad;
        CHECK_OK(ms_tdx_quote_unpad(w.quote.p, w.quote.len, &qlen, &pad));
        CHECK(qlen == w.quote.len - 1 && pad == 1);
        w.quote.p[w.quote.len - 1] = 7;
        CHECK_ERR(ms_tdx_quote_unpad(w.quote.p, w.quote.len, &qlen, &pad), MS_ERR_TDX_FORMAT);
        CHECK_ERR(ms_tdx_quote_decode(NULL, 0, &q), MS_ERR_TDX_FORMAT);
    }
    world_free(&w);
}

/*
 * The decoder's caps at their edges, on the made-up quote relaid (tdx_fx_quote_relayout:
 * decoding only, nothing signed again): the inner certification data is 1 ..
 * MS_TDX_MAX_PCK_CHAIN bytes of type 1 .. 5, the QE authentication data at most
 * MS_TDX_MAX_QE_AUTH bytes.
 */
static void test_quote_caps(void)
{
    static uint8_t data[MS_TDX_MAX_PCK_CHAIN + 1], auth[MS_TDX_MAX_QE_AUTH + 1];
    world w;
    if (!world_make(&w, NULL)) {
        world_free(&w);
        return;
    }
    ms_tdx_quote q;
    ms_buf r;
    ms_buf_init(&r, MS_TDX_MAX_QUOTE);
    memset(data, '\n', sizeof data);
    memset(auth, 0xa5, sizeof auth);
    static const struct {
        uint16_t type;
        size_t n, auth;
        ms_err want;
    } cases[] = {
        {1, 1, 32, MS_OK},                            /* the first type, one byte */
        {5, 0, 32, MS_ERR_TDX_FORMAT},                /* empty */
        {5, MS_TDX_MAX_PCK_CHAIN, 32, MS_OK},
        {5, MS_TDX_MAX_PCK_CHAIN + 1, 32, MS_ERR_TDX_FORMAT},
        {4, 100, MS_TDX_MAX_QE_AUTH, MS_OK},
        {4, 100, MS_TDX_MAX_QE_AUTH + 1, MS_ERR_TDX_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(tdx_fx_quote_relayout(&w.quote, &w.layout, auth, cases[i].auth, cases[i].type, data,
                                    cases[i].n, &r));
        ms_err got = ms_tdx_quote_decode(r.p, r.len, &q);
        if (got != cases[i].want) {
            TEST_FAIL_("case %zu: got %s", i, ms_err_name(got));
        }
        CHECK(got != MS_OK || (q.cert_data_len == cases[i].n && q.qe_auth_len == cases[i].auth));
    }
    /* No quote at all, with a length. */
    CHECK_ERR(ms_tdx_quote_decode(NULL, MS_TDX_MIN_QUOTE, &q), MS_ERR_TDX_FORMAT);
    ms_buf_free(&r);
    world_free(&w);
}

static void put_u32le(uint8_t *p, size_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/*
 * ms_tdx_quote_unpad reads only the length fields: version 4 or 5, a v5 body of at most
 * MS_TDX_TD15_LEN, signature data of at most MS_TDX_MAX_QUOTE, all within
 * MS_TDX_MAX_OUTBLOB; what cannot be read is refused, never taken for padding.
 */
static void test_unpad_edges(void)
{
    static uint8_t buf[MS_TDX_MAX_OUTBLOB + 1];
    size_t qlen, pad;
    tdx_fx_quote_opts qo;
    tdx_fx_quote_opts_default(&qo);
    qo.version = MS_TDX_VERSION_5;
    qo.body_type = MS_TDX_BODY_TD15;
    world w;
    if (!world_make(&w, &qo)) {
        world_free(&w);
        return;
    }
    size_t n = w.quote.len;
    CHECK(n < sizeof buf);
    /* Zero padding up to the outblob cap, not one byte more. */
    memset(buf, 0, sizeof buf);
    memcpy(buf, w.quote.p, n);
    CHECK_OK(ms_tdx_quote_unpad(buf, MS_TDX_MAX_OUTBLOB, &qlen, &pad));
    CHECK(qlen == n && pad == MS_TDX_MAX_OUTBLOB - n);
    CHECK_ERR(ms_tdx_quote_unpad(buf, MS_TDX_MAX_OUTBLOB + 1, &qlen, &pad), MS_ERR_TDX_FORMAT);
    CHECK(qlen == 0 && pad == 0);
    /* Version 6 with the layout of a v4 quote after it (the SPR quote's bytes). */
    memset(buf, 0, sizeof buf);
    memcpy(buf, intel.spr.p, TDX_FX_SPR_QUOTE_LEN);
    CHECK_OK(ms_tdx_quote_unpad(buf, TDX_FX_SPR_QUOTE_LEN + 8, &qlen, &pad));
    CHECK(qlen == TDX_FX_SPR_QUOTE_LEN && pad == 8);
    buf[0] = 6;
    CHECK_ERR(ms_tdx_quote_unpad(buf, TDX_FX_SPR_QUOTE_LEN + 8, &qlen, &pad), MS_ERR_TDX_FORMAT);
    /* A v5 body one byte longer than TD 1.5's. */
    memset(buf, 0, sizeof buf);
    memcpy(buf, w.quote.p, w.layout.signed_len);
    put_u32le(buf + MS_TDX_HEADER_LEN + 2, MS_TDX_TD15_LEN + 1);
    memcpy(buf + w.layout.signed_len + 1, w.quote.p + w.layout.signed_len, n - w.layout.signed_len);
    CHECK_ERR(ms_tdx_quote_unpad(buf, n + 1, &qlen, &pad), MS_ERR_TDX_FORMAT);
    /* Signature data of MS_TDX_MAX_QUOTE bytes is read; one byte more is refused. */
    size_t sig_at = MS_TDX_HEADER_LEN + MS_TDX_TD10_LEN;
    memset(buf, 0, sizeof buf);
    memcpy(buf, intel.spr.p, sig_at);
    put_u32le(buf + sig_at, MS_TDX_MAX_QUOTE);
    CHECK_OK(ms_tdx_quote_unpad(buf, sig_at + 4 + MS_TDX_MAX_QUOTE + 1, &qlen, &pad));
    CHECK(qlen == sig_at + 4 + MS_TDX_MAX_QUOTE && pad == 1);
    put_u32le(buf + sig_at, MS_TDX_MAX_QUOTE + 1);
    CHECK_ERR(ms_tdx_quote_unpad(buf, sig_at + 4 + MS_TDX_MAX_QUOTE + 1, &qlen, &pad),
              MS_ERR_TDX_FORMAT);
    /* Zeros are no quote, whatever follows them. */
    memset(buf, 0, sizeof buf);
    CHECK_ERR(ms_tdx_quote_unpad(buf, 1000, &qlen, &pad), MS_ERR_TDX_FORMAT);
    CHECK_ERR(ms_tdx_quote_unpad(buf, 3, &qlen, &pad), MS_ERR_TDX_FORMAT);
    CHECK_ERR(ms_tdx_quote_unpad(NULL, 1000, &qlen, &pad), MS_ERR_TDX_FORMAT);
    world_free(&w);
}

/* ---- made-up quotes: the chain and the CRLs ----------------------------------------------- */

static void test_chain_and_crls(void)
{
    world w, other;
    int ok = world_make(&w, NULL) && world_make(&other, NULL);
    if (!ok) {
        return;
    }
    ms_tdx_checks ch;
    ms_tdx_policy p = world_policy(&w);
    const uint8_t *rd = w.qo.report_data;

    /* Another "Intel" root pinned. */
    p.root_der = other.chain.root.p;
    p.root_len = other.chain.root.len;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_PCK_CHAIN);
    /* A root that is not a certificate, or not a CA (the PCK leaf). */
    uint8_t junk[3] = {0x30, 0x01, 0x00};
    p.root_der = junk;
    p.root_len = sizeof junk;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_PCK_CHAIN);
    p.root_der = w.chain.pck.p;
    p.root_len = w.chain.pck.len;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_PCK_CHAIN);

    /* The PCK leaf revoked by the PCK CRL; the PCK CA revoked by the root CRL. */
    ms_buf crl;
    p = world_policy(&w);
    CHECK(tdx_fx_crl(&crl, w.chain.ca_x, w.chain.ca_key, 3));
    p.pck_crl = crl.p;
    p.pck_crl_len = crl.len;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_PCK_REVOKED);
    CHECK(ch.result[MS_TDX_CHECK_SIGNATURE] == MS_OK); /* the offline form goes on */
    ms_buf_free(&crl);
    p = world_policy(&w);
    CHECK(tdx_fx_crl(&crl, w.chain.root_x, w.chain.root_key, 2));
    p.collateral.root_crl = crl.p;
    p.collateral.root_crl_len = crl.len;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_PCK_REVOKED);
    ms_buf_free(&crl);
    /* A CRL signed by someone else, or swapped, or garbage. */
    p = world_policy(&w);
    CHECK(tdx_fx_crl(&crl, w.chain.ca_x, other.chain.ca_key, 0));
    p.pck_crl = crl.p;
    p.pck_crl_len = crl.len;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_CRL);
    ms_buf_free(&crl);
    p = world_policy(&w);
    p.pck_crl = w.root_crl.p;
    p.pck_crl_len = w.root_crl.len;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_CRL);
    p.pck_crl = junk;
    p.pck_crl_len = sizeof junk;
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch), MS_ERR_TDX_CRL);
    /* The offline form without any CRL skips the check. */
    p.pck_crl = NULL;
    p.pck_crl_len = 0;
    p.collateral.root_crl = NULL;
    p.collateral.root_crl_len = 0;
    CHECK_OK(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch));
    CHECK(!ch.ran[MS_TDX_CHECK_CRL] && ch.ran[MS_TDX_CHECK_PCK_CHAIN]);
    /* ... and without a root skips the chain too, still checking the signatures. */
    p.root_der = NULL;
    p.root_len = 0;
    CHECK_OK(checks_raw(&p, w.quote.p, w.quote.len, rd, &ch));
    CHECK(!ch.ran[MS_TDX_CHECK_PCK_CHAIN] && ch.ran[MS_TDX_CHECK_SIGNATURE]);
    world_free(&w);
    world_free(&other);
}

/*
 * A PCK leaf whose key is not P-256 signs no QE report, even with a signature that fits
 * (secp256k1: 32-byte r and s, made by the leaf's own key).
 */
static void test_pck_key_not_p256(void)
{
    tdx_fx_pck_opts po;
    tdx_fx_quote_opts qo;
    tdx_fx_chain c;
    tdx_fx_layout l;
    ms_buf q;
    tdx_fx_pck_opts_default(&po);
    tdx_fx_quote_opts_default(&qo);
    po.pck_curve = "secp256k1";
    ms_buf_init(&q, MS_TDX_MAX_QUOTE);
    if (tdx_fx_chain_make(&c, &po) && tdx_fx_quote_make(&q, &c, &qo, &l)) {
        ms_tdx_policy p;
        ms_tdx_checks ch;
        memset(&p, 0, sizeof p);
        p.root_der = c.root.p;
        p.root_len = c.root.len;
        CHECK_ERR(checks_raw(&p, q.p, q.len, NULL, &ch), MS_ERR_TDX_QE_SIGNATURE);
        CHECK(ch.result[MS_TDX_CHECK_PCK_CHAIN] == MS_OK &&
              ch.result[MS_TDX_CHECK_QE_SIGNATURE] == MS_ERR_TDX_QE_SIGNATURE &&
              ch.result[MS_TDX_CHECK_SIGNATURE] == MS_OK);
    } else {
        CHECK(!"secp256k1 chain or quote");
    }
    ms_buf_free(&q);
    tdx_fx_chain_free(&c);
}

/* The client's verifier needs a pinned root: none, or an empty one, fails the chain. */
static void test_client_needs_root(void)
{
    world w;
    if (!world_make(&w, NULL)) {
        return;
    }
    ms_tdx_policy p = world_policy(&w);
    ms_tdx_bundle b = {.quote = w.quote.p, .quote_len = w.quote.len};
    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_tdx_bundle_encode(&b, &ev));
    p.root_der = NULL;
    p.root_len = 0;
    CHECK_ERR(ms_tdx_verify(&p, ev.p, ev.len, w.qo.report_data), MS_ERR_TDX_PCK_CHAIN);
    p.root_der = w.chain.root.p;
    CHECK_ERR(ms_tdx_verify(&p, ev.p, ev.len, w.qo.report_data), MS_ERR_TDX_PCK_CHAIN);
    ms_buf_free(&ev);
    world_free(&w);
}

/*
 * A CRL is at most MS_TDX_MAX_CRL bytes, PEM with whitespace after it included: the PCK
 * CRL as PEM padded with newlines to the cap passes, one byte more is refused.
 */
static void test_crl_cap(void)
{
    static uint8_t big[MS_TDX_MAX_CRL + 1];
    world w;
    if (!world_make(&w, NULL)) {
        return;
    }
    const unsigned char *q = w.pck_crl.p;
    X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)w.pck_crl.len);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long n = crl != NULL && bio != NULL && PEM_write_bio_X509_CRL(bio, crl) == 1
                 ? BIO_get_mem_data(bio, &pem)
                 : 0;
    CHECK(n > 0 && (size_t)n < sizeof big);
    if (n > 0 && (size_t)n < sizeof big) {
        ms_tdx_checks ch;
        ms_tdx_policy p = world_policy(&w);
        memset(big, '\n', sizeof big);
        memcpy(big, pem, (size_t)n);
        p.pck_crl = big;
        p.pck_crl_len = MS_TDX_MAX_CRL;
        CHECK_OK(checks_raw(&p, w.quote.p, w.quote.len, w.qo.report_data, &ch));
        CHECK(ch.ran[MS_TDX_CHECK_CRL] && ch.result[MS_TDX_CHECK_CRL] == MS_OK);
        p.pck_crl_len = sizeof big;
        CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, w.qo.report_data, &ch), MS_ERR_TDX_CRL);
        CHECK(ch.result[MS_TDX_CHECK_CRL] == MS_ERR_TDX_CRL);
    }
    BIO_free(bio);
    X509_CRL_free(crl);
    world_free(&w);
}

/* ---- made-up quotes: the TD's fields ------------------------------------------------------- */

static void test_td_fields(void)
{
    world w;
    tdx_fx_quote_opts qo;
    tdx_fx_quote_opts_default(&qo);
    memset(qo.mrconfigid, 0xc0, sizeof qo.mrconfigid);
    memset(qo.mrowner, 0x0e, sizeof qo.mrowner);
    memset(qo.report_data, 0x42, sizeof qo.report_data);
    if (!world_make(&w, &qo)) {
        world_free(&w);
        return;
    }
    ms_tdx_checks ch;
    ms_tdx_policy p = world_policy(&w);
    p.have_mrconfigid = p.have_mrowner = 1;
    memcpy(p.mrconfigid, qo.mrconfigid, MS_TDX_MEAS_LEN);
    memcpy(p.mrowner, qo.mrowner, MS_TDX_MEAS_LEN);
    CHECK_OK(checks_raw(&p, w.quote.p, w.quote.len, qo.report_data, &ch));
    CHECK(ch.ran[MS_TDX_CHECK_MRCONFIGID] && ch.ran[MS_TDX_CHECK_MROWNER]);

    struct {
        int field; /* 0 mrtd, 1..4 rtmr0..3, 5 mrconfigid, 6 mrowner */
        ms_err want;
        ms_tdx_check check;
    } cases[] = {
        {0, MS_ERR_TDX_MRTD, MS_TDX_CHECK_MRTD},       {1, MS_ERR_TDX_RTMR, MS_TDX_CHECK_RTMR},
        {3, MS_ERR_TDX_RTMR, MS_TDX_CHECK_RTMR},       {4, MS_ERR_TDX_RTMR, MS_TDX_CHECK_RTMR},
        {5, MS_ERR_TDX_MRCONFIGID, MS_TDX_CHECK_MRCONFIGID},
        {6, MS_ERR_TDX_MROWNER, MS_TDX_CHECK_MROWNER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_tdx_policy q = p;
        uint8_t *field = cases[i].field == 0   ? q.mrtd
                         : cases[i].field <= 4 ? q.rtmr[cases[i].field - 1]
                         : cases[i].field == 5 ? q.mrconfigid
                                               : q.mrowner;
        field[47] ^= 0x80;
        CHECK_ERR(checks_raw(&q, w.quote.p, w.quote.len, qo.report_data, &ch), cases[i].want);
        CHECK(ch.result[cases[i].check] == cases[i].want);
    }
    /* An RTMR left unpinned is not compared. */
    ms_tdx_policy q = p;
    q.rtmr[2][0] ^= 1;
    q.have_rtmr[2] = 0;
    CHECK_OK(checks_raw(&q, w.quote.p, w.quote.len, qo.report_data, &ch));
    /* Not pinned values skip their checks in the offline form without `expect`. */
    CHECK_OK(ms_tdx_verify_checks(&p, w.quote.p, w.quote.len, 0, NULL, 0, &ch));
    CHECK(!ch.ran[MS_TDX_CHECK_MRTD] && !ch.ran[MS_TDX_CHECK_REPORT_DATA] &&
          ch.ran[MS_TDX_CHECK_DEBUG]);
    /* A quote whose report data is not B. */
    uint8_t b[64];
    memset(b, 0x43, sizeof b);
    CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, b, &ch), MS_ERR_TDX_REPORT_DATA);
    world_free(&w);

    /* A debug TD. */
    qo.td_attributes = MS_TDX_TD_ATTR_DEBUG;
    if (world_make(&w, &qo)) {
        p = world_policy(&w);
        CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, qo.report_data, &ch), MS_ERR_TDX_DEBUG);
    }
    world_free(&w);
    /* A QE report that does not bind the attestation key. */
    qo.td_attributes = 0;
    qo.bad_qe_binding = 1;
    if (world_make(&w, &qo)) {
        p = world_policy(&w);
        CHECK_ERR(checks_raw(&p, w.quote.p, w.quote.len, qo.report_data, &ch),
                  MS_ERR_TDX_QE_REPORT_DATA);
    }
    world_free(&w);
}

/* ---- the bundle ------------------------------------------------------------------------- */

static void test_bundle(void)
{
    static const uint8_t quote[] = {1, 2, 3}, tcb[] = "{}", qe[] = "{ }", chain[] = "pem",
                         crl1[] = {0x30}, crl2[] = {0x31, 0x32};
    ms_tdx_bundle b = {.quote = quote, .quote_len = sizeof quote, .pck_crl = crl1,
                       .pck_crl_len = sizeof crl1};
    b.collateral.tcb_info = tcb;
    b.collateral.tcb_info_len = sizeof tcb;
    b.collateral.qe_identity = qe;
    b.collateral.qe_identity_len = sizeof qe;
    b.collateral.signing_chain_pem = chain;
    b.collateral.signing_chain_len = sizeof chain;
    b.collateral.root_crl = crl2;
    b.collateral.root_crl_len = sizeof crl2;
    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_tdx_bundle_encode(&b, &ev));
    CHECK(ev.len == 1 + 6 * 4 + 3 + 3 + 4 + 4 + 1 + 2);
    ms_tdx_bundle d;
    CHECK_OK(ms_tdx_bundle_decode(ev.p, ev.len, &d));
    CHECK(d.quote_len == 3 && d.quote == ev.p + 5 && d.collateral.root_crl_len == 2);
    CHECK_MEM(d.collateral.qe_identity, qe, sizeof qe);
    CHECK(d.pck_crl_len == 1 && d.pck_crl[0] == 0x30);
    int wrong = 0;
    for (size_t n = 0; n < ev.len; n++) {
        wrong += ms_tdx_bundle_decode(ev.p, n, &d) != MS_ERR_TDX_FORMAT;
    }
    CHECK(wrong == 0);
    CHECK_OK(ms_buf_append_u8(&ev, 0));
    CHECK_ERR(ms_tdx_bundle_decode(ev.p, ev.len, &d), MS_ERR_TDX_FORMAT);
    ev.p[0] = 2;
    CHECK_ERR(ms_tdx_bundle_decode(ev.p, ev.len - 1, &d), MS_ERR_TDX_FORMAT);
    ms_buf_free(&ev);
    /* Only the quote, and the caps. */
    ms_tdx_bundle only = {.quote = quote, .quote_len = sizeof quote};
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_tdx_bundle_encode(&only, &ev));
    CHECK_OK(ms_tdx_bundle_decode(ev.p, ev.len, &d));
    CHECK(d.collateral.tcb_info == NULL && d.pck_crl == NULL);
    ev.p[4] = 0; /* quote length 0 */
    CHECK_ERR(ms_tdx_bundle_decode(ev.p, 1 + 24, &d), MS_ERR_TDX_FORMAT);
    ms_buf_free(&ev);
    only.quote_len = MS_TDX_MAX_QUOTE + 1;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_ERR(ms_tdx_bundle_encode(&only, &ev), MS_ERR_ARG);
    uint8_t big[1 + 4] = {1, 0, 0, 0x40, 0x01}; /* quote length 16385 */
    CHECK_ERR(ms_tdx_bundle_decode(big, sizeof big, &d), MS_ERR_TDX_FORMAT);
    ms_buf_free(&ev);
}

/* A bundle as the wire has it (format 0x01, six u32be lengths, filler bytes): no caps. */
static void raw_bundle(ms_buf *b, const size_t n[MS_TDX_BUNDLE_PARTS])
{
    ms_buf_clear(b);
    CHECK_OK(ms_buf_append_u8(b, MS_TDX_BUNDLE_FORMAT));
    for (size_t i = 0; i < MS_TDX_BUNDLE_PARTS; i++) {
        uint8_t *at;
        CHECK_OK(ms_buf_append_u32be(b, (uint32_t)n[i]));
        CHECK_OK(ms_buf_extend(b, n[i], &at));
        memset(at, 'a' + (int)i, n[i]);
    }
}

/* Each part up to its cap, one byte more refused; the whole up to MS_MAX_EVIDENCE. */
static void test_bundle_caps(void)
{
    static const size_t cap[MS_TDX_BUNDLE_PARTS] = {
        MS_TDX_MAX_QUOTE,     MS_TDX_MAX_COLLATERAL_JSON, MS_TDX_MAX_COLLATERAL_JSON,
        MS_TDX_MAX_PCK_CHAIN, MS_TDX_MAX_CRL,             MS_TDX_MAX_CRL,
    };
    ms_buf b;
    ms_tdx_bundle d;
    ms_buf_init(&b, 2 * MS_MAX_EVIDENCE);
    for (size_t i = 0; i < MS_TDX_BUNDLE_PARTS; i++) {
        size_t n[MS_TDX_BUNDLE_PARTS] = {1, 0, 0, 0, 0, 0};
        n[i] = cap[i];
        raw_bundle(&b, n);
        CHECK_OK(ms_tdx_bundle_decode(b.p, b.len, &d));
        n[i] = cap[i] + 1;
        raw_bundle(&b, n);
        CHECK_ERR(ms_tdx_bundle_decode(b.p, b.len, &d), MS_ERR_TDX_FORMAT);
    }
    /* Every part within its cap, the whole at MS_MAX_EVIDENCE and one byte over. */
    size_t n[MS_TDX_BUNDLE_PARTS] = {1, MS_TDX_MAX_COLLATERAL_JSON, 0, 0, 0, 0};
    n[2] = MS_MAX_EVIDENCE - (1 + 4 * MS_TDX_BUNDLE_PARTS) - n[0] - n[1];
    raw_bundle(&b, n);
    CHECK(b.len == MS_MAX_EVIDENCE);
    CHECK_OK(ms_tdx_bundle_decode(b.p, b.len, &d));
    CHECK(d.collateral.qe_identity_len == n[2]);
    n[2]++;
    raw_bundle(&b, n);
    CHECK_ERR(ms_tdx_bundle_decode(b.p, b.len, &d), MS_ERR_TDX_FORMAT);
    CHECK_ERR(ms_tdx_bundle_decode(NULL, 100, &d), MS_ERR_TDX_FORMAT);
    ms_buf_free(&b);
}

static void test_names(void)
{
    for (int i = 0; i < MS_TDX_CHECK_COUNT; i++) {
        CHECK(strcmp(ms_tdx_check_name((ms_tdx_check)i), "unknown") != 0);
    }
    CHECK(strcmp(ms_tdx_check_name(MS_TDX_CHECK_COUNT), "unknown") == 0);
}

int main(void)
{
    have_intel = tdx_fx_intel_load(&intel);
    CHECK(have_intel);
    if (have_intel) {
        RUN(test_intel_decode);
        RUN(test_intel_verify);
    }
    RUN(test_made_quote_ok);
    RUN(test_v5_body_types);
    RUN(test_pem_chain_tail);
    RUN(test_flip_every_byte);
    RUN(test_truncate_every_offset);
    RUN(test_quote_caps);
    if (have_intel) {
        RUN(test_unpad_edges);
    }
    RUN(test_chain_and_crls);
    RUN(test_crl_cap);
    RUN(test_client_needs_root);
    RUN(test_pck_key_not_p256);
    RUN(test_td_fields);
    RUN(test_bundle);
    RUN(test_bundle_caps);
    RUN(test_names);
    tdx_fx_intel_free(&intel);
    return TEST_SUMMARY();
}

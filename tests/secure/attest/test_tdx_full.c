/* TDX full-path tests: collateral, TCB status and QE identity through tdx_collateral.h. */
#include <stdlib.h>
#include <string.h>

#include "secure/attest/tdx.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

/* Every status but Revoked: what a lenient policy accepts. */
#define ACCEPT_ALL                                                                               \
    (MS_TDX_ACCEPT(MS_TDX_TCB_UP_TO_DATE) | MS_TDX_ACCEPT(MS_TDX_TCB_SW_HARDENING_NEEDED) |     \
     MS_TDX_ACCEPT(MS_TDX_TCB_CONFIGURATION_NEEDED) |                                           \
     MS_TDX_ACCEPT(MS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED) |                          \
     MS_TDX_ACCEPT(MS_TDX_TCB_OUT_OF_DATE) |                                                     \
     MS_TDX_ACCEPT(MS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED))

static void in_of(const ms_buf *b, const uint8_t **p, size_t *n)
{
    *p = b->p;
    *n = b->len;
}

/* ---- Intel's real collateral with the SPR quote (2023) ---------------------------------- */

static void test_intel_collateral(void)
{
    tdx_fx_intel a;
    if (!tdx_fx_intel_load(&a)) {
        CHECK(0);
        tdx_fx_intel_free(&a);
        return;
    }
    ms_tdx_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = a.root.p;
    p.root_len = a.root.len;
    p.pck_crl = a.pck_crl.p;
    p.pck_crl_len = a.pck_crl.len;
    in_of(&a.root_crl, &p.collateral.root_crl, &p.collateral.root_crl_len);
    in_of(&a.tcb_info, &p.collateral.tcb_info, &p.collateral.tcb_info_len);
    in_of(&a.qe_identity, &p.collateral.qe_identity, &p.collateral.qe_identity_len);
    in_of(&a.signing_chain, &p.collateral.signing_chain_pem, &p.collateral.signing_chain_len);
    p.at = TDX_FX_INTEL_AT;
    p.accept_tcb = ACCEPT_ALL;
    ms_tdx_checks ch;
    /* Intel's real documents verify, but this platform is on none of their TCB levels: its
       PCK certificate's SGX components (3,3,2,2,2,1,0,2,...) are below every level of the
       2023 TCB info (each needs component 1 >= 5). So the verdict is TCB_LEVEL, found by
       the collateral code, after every signature, chain and CRL passed. */
    CHECK_ERR(ms_tdx_verify_checks(&p, a.spr.p, TDX_FX_SPR_QUOTE_LEN, 0, NULL,
                                   MS_TDX_EXPECT_REQUIRED, &ch),
              MS_ERR_TDX_TCB_LEVEL);
    CHECK(ch.ran[MS_TDX_CHECK_COLLATERAL] && ch.result[MS_TDX_CHECK_COLLATERAL] == MS_OK);
    CHECK(ch.ran[MS_TDX_CHECK_TCB] && ch.result[MS_TDX_CHECK_TCB] == MS_ERR_TDX_TCB_LEVEL);
    CHECK(ch.ran[MS_TDX_CHECK_QE_IDENTITY] && ch.result[MS_TDX_CHECK_QE_IDENTITY] == MS_OK);
    /* The same documents in 2026: out of date. */
    p.at = 1780000000u;
    CHECK(ms_tdx_verify_checks(&p, a.spr.p, TDX_FX_SPR_QUOTE_LEN, 0, NULL,
                               MS_TDX_EXPECT_REQUIRED, &ch) != MS_OK);
    CHECK(ch.result[MS_TDX_CHECK_COLLATERAL] != MS_OK);
    tdx_fx_intel_free(&a);
}

/* ---- made-up: the whole client path ---------------------------------------------------- */

typedef struct full {
    tdx_fx_pck_opts po;
    tdx_fx_chain chain;
    tdx_fx_quote_opts qo;
    ms_buf quote, pck_crl, root_crl, ev;
    tdx_fx_layout layout;
    tdx_fx_collateral col;
} full;

static int full_make(full *f, const tdx_fx_collateral_opts *co)
{
    memset(f, 0, sizeof *f);
    tdx_fx_pck_opts_default(&f->po);
    tdx_fx_quote_opts_default(&f->qo);
    /* TEE_TCB_SVN as a TDX 1.0 module reports it: byte 1 (module version) zero. */
    static const uint8_t svn[16] = {3, 0, 5};
    memcpy(f->qo.tee_tcb_svn, svn, sizeof svn);
    memset(f->qo.report_data, 0x5b, sizeof f->qo.report_data);
    int ok = tdx_fx_chain_make(&f->chain, &f->po) &&
             tdx_fx_crl(&f->pck_crl, f->chain.ca_x, f->chain.ca_key, 0) &&
             tdx_fx_crl(&f->root_crl, f->chain.root_x, f->chain.root_key, 0) &&
             tdx_fx_quote_make(&f->quote, &f->chain, &f->qo, &f->layout) &&
             tdx_fx_collateral_make(&f->col, &f->chain, &f->po, &f->qo, co);
    ms_tdx_bundle b = {.quote = f->quote.p, .quote_len = f->quote.len, .pck_crl = f->pck_crl.p,
                       .pck_crl_len = f->pck_crl.len};
    in_of(&f->col.tcb_info, &b.collateral.tcb_info, &b.collateral.tcb_info_len);
    in_of(&f->col.qe_identity, &b.collateral.qe_identity, &b.collateral.qe_identity_len);
    in_of(&f->col.signing_chain, &b.collateral.signing_chain_pem, &b.collateral.signing_chain_len);
    in_of(&f->root_crl, &b.collateral.root_crl, &b.collateral.root_crl_len);
    ms_buf_init(&f->ev, MS_MAX_EVIDENCE);
    ok = ok && ms_tdx_bundle_encode(&b, &f->ev) == MS_OK;
    CHECK(ok);
    return ok;
}

static void full_free(full *f)
{
    tdx_fx_chain_free(&f->chain);
    tdx_fx_collateral_free(&f->col);
    ms_buf_free(&f->quote);
    ms_buf_free(&f->pck_crl);
    ms_buf_free(&f->root_crl);
    ms_buf_free(&f->ev);
}

static ms_tdx_policy full_policy(const full *f)
{
    ms_tdx_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = f->chain.root.p;
    p.root_len = f->chain.root.len;
    p.have_mrtd = 1;
    memcpy(p.mrtd, f->qo.mrtd, sizeof p.mrtd);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        p.have_rtmr[i] = 1;
        memcpy(p.rtmr[i], f->qo.rtmr[i], MS_TDX_MEAS_LEN);
    }
    return p;
}

static void test_client_accepts(void)
{
    tdx_fx_collateral_opts co;
    tdx_fx_collateral_opts_default(&co);
    full f;
    if (full_make(&f, &co)) {
        ms_tdx_policy p = full_policy(&f);
        CHECK_OK(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data));
        ms_tdx_checks ch;
        CHECK_OK(ms_tdx_verify_checks(&p, f.ev.p, f.ev.len, 1, f.qo.report_data,
                                      MS_TDX_EXPECT_PINS | MS_TDX_EXPECT_REQUIRED, &ch));
        CHECK(ch.have_tcb && ch.tcb_status == MS_TDX_TCB_UP_TO_DATE &&
              ch.qe_status == MS_TDX_TCB_UP_TO_DATE && ch.n_advisories == 0);
        for (int i = 0; i < MS_TDX_CHECK_COUNT; i++) {
            int pinned = i != MS_TDX_CHECK_MRCONFIGID && i != MS_TDX_CHECK_MROWNER;
            CHECK(ch.ran[i] == pinned); /* the policy pins neither MRCONFIGID nor MROWNER */
        }
        /* One pinned value changed: refused. */
        p.rtmr[1][0] ^= 1;
        CHECK_ERR(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data), MS_ERR_TDX_RTMR);
        p = full_policy(&f);
        uint8_t other[MS_BINDING_LEN];
        memset(other, 0x5c, sizeof other);
        CHECK_ERR(ms_tdx_verify(&p, f.ev.p, f.ev.len, other), MS_ERR_TDX_REPORT_DATA);
        /* The TCB info's signature by another key: the collateral check fails. */
        tdx_fx_collateral bad;
        CHECK(tdx_fx_collateral_make(&bad, &f.chain, &f.po, &f.qo, &co));
        p.collateral.tcb_info = bad.tcb_info.p; /* signed by bad's signer, chain is f's */
        p.collateral.tcb_info_len = bad.tcb_info.len;
        p.collateral.qe_identity = f.col.qe_identity.p;
        p.collateral.qe_identity_len = f.col.qe_identity.len;
        p.collateral.signing_chain_pem = f.col.signing_chain.p;
        p.collateral.signing_chain_len = f.col.signing_chain.len;
        CHECK(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data) != MS_OK);
        tdx_fx_collateral_free(&bad);
    }
    full_free(&f);
}

static void test_tcb_status(void)
{
    tdx_fx_collateral_opts co;
    tdx_fx_collateral_opts_default(&co);
    co.tcb_status = "OutOfDate";
    full f;
    if (full_make(&f, &co)) {
        ms_tdx_policy p = full_policy(&f);
        CHECK_ERR(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data), MS_ERR_TDX_TCB_STATUS);
        ms_tdx_checks ch;
        CHECK_ERR(ms_tdx_verify_checks(&p, f.ev.p, f.ev.len, 1, f.qo.report_data,
                                       MS_TDX_EXPECT_PINS | MS_TDX_EXPECT_REQUIRED, &ch),
                  MS_ERR_TDX_TCB_STATUS);
        CHECK(ch.tcb_status == MS_TDX_TCB_OUT_OF_DATE && ch.n_advisories == 2);
        CHECK(strcmp(ch.advisories[0], "INTEL-SA-00960") == 0);
        p.accept_tcb = MS_TDX_ACCEPT(MS_TDX_TCB_UP_TO_DATE) | MS_TDX_ACCEPT(MS_TDX_TCB_OUT_OF_DATE);
        CHECK_OK(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data));
    }
    full_free(&f);
    tdx_fx_collateral_opts_default(&co);
    co.qe_status = "OutOfDate";
    if (full_make(&f, &co)) {
        ms_tdx_policy p = full_policy(&f);
        CHECK_ERR(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data), MS_ERR_TDX_QE_STATUS);
    }
    full_free(&f);
}

static void test_stale_collateral(void)
{
    tdx_fx_collateral_opts co;
    tdx_fx_collateral_opts_default(&co);
    co.issue_offset_s = -40L * 86400;
    co.next_offset_s = -86400; /* a day past its next update */
    full f;
    if (full_make(&f, &co)) {
        ms_tdx_policy p = full_policy(&f);
        CHECK(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data) != MS_OK);
        p.grace_s = 2u * 86400u;
        CHECK_OK(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data));
    }
    full_free(&f);
    tdx_fx_collateral_opts_default(&co);
    co.bad_signature = 1;
    if (full_make(&f, &co)) {
        ms_tdx_policy p = full_policy(&f);
        CHECK(ms_tdx_verify(&p, f.ev.p, f.ev.len, f.qo.report_data) != MS_OK);
    }
    full_free(&f);
}

int main(void)
{
    RUN(test_intel_collateral);
    RUN(test_client_accepts);
    RUN(test_tcb_status);
    RUN(test_stale_collateral);
    return TEST_SUMMARY();
}

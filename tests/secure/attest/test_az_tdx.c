/* az-tdx-vtpm verifier: a test-made world that verifies, td-match, DCAP refusals, flips, truncation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "common/buf.h"
#include "common/codec.h"
#include "secure/attest/az.h"
#include "secure/attest/policy.h"
#include "tests/secure/attest/az_fixture.h"
#include "tests/test.h"

static ms_err verify(const az_fx_tdx_world *w)
{
    return ms_az_tdx_verify(&w->az.policy, w->az.ev.p, w->az.ev.len, w->az.binding);
}

static void test_world_verifies(void)
{
    az_fx_tdx_world w;
    CHECK(az_fx_tdx_world_make(&w));
    CHECK_OK(verify(&w));
    const char *seed = getenv("MS_AZ_TDX_SEED_OUT"); /* a fuzz_az_bundle seed */
    if (seed != NULL) {
        FILE *f = fopen(seed, "wb");
        CHECK(f != NULL && fwrite(w.az.ev.p, 1, w.az.ev.len, f) == w.az.ev.len);
        CHECK(f != NULL && fclose(f) == 0);
    }
    ms_az_checks *ch = calloc(1, sizeof *ch);
    CHECK(ch != NULL);
    CHECK_OK(ms_az_verify_checks(&w.az.policy, w.az.ev.p, w.az.ev.len, NULL, 0, NULL, 0,
                                 w.az.binding, 1, ch));
    for (int i = 0; i < MS_AZ_CHECK_COUNT; i++) {
        CHECK(i == MS_AZ_CHECK_SNP ? !ch->ran[i] : ch->ran[i] && ch->result[i] == MS_OK);
    }
    CHECK(ch->have_td && ch->tdx.have_quote && !ch->tdx.ran[MS_TDX_CHECK_REPORT_DATA]);
    CHECK(ch->tdx.ran[MS_TDX_CHECK_MRTD] && ch->tdx.ran[MS_TDX_CHECK_RTMR]);
    CHECK(strcmp(ms_az_check_name(MS_AZ_CHECK_TD_MATCH), "td-match") == 0);
    free(ch);
    /* Policy errors are the caller's. */
    CHECK_ERR(ms_az_tdx_verify(NULL, w.az.ev.p, w.az.ev.len, w.az.binding), MS_ERR_ARG);
    ms_az_policy p = w.az.policy;
    p.tdx.root_der = NULL;
    CHECK_ERR(ms_az_tdx_verify(&p, w.az.ev.p, w.az.ev.len, w.az.binding), MS_ERR_ARG);
    p = w.az.policy;
    p.tdx.have_mrtd = 0;
    CHECK_ERR(ms_az_tdx_verify(&p, w.az.ev.p, w.az.ev.len, w.az.binding), MS_ERR_ARG);
    p = w.az.policy;
    p.pcrs.pcr_mask = 0;
    CHECK_ERR(ms_az_tdx_verify(&p, w.az.ev.p, w.az.ev.len, w.az.binding), MS_ERR_ARG);
    /* Each evidence type takes its own format only. */
    CHECK_ERR(ms_az_snp_verify(&w.az.policy, w.az.ev.p, w.az.ev.len, w.az.binding),
              MS_ERR_AZ_BUNDLE);
    CHECK(az_fx_world_bundle(&w.az)); /* an SNP bundle around the TDX HCL report */
    CHECK_ERR(verify(&w), MS_ERR_AZ_BUNDLE);
    az_fx_tdx_world_free(&w);
}

/* A quote of another TD: the DCAP checks pass (RTMR3 unpinned), td-match refuses. */
static void test_td_match(void)
{
    az_fx_tdx_world w;
    tdx_fx_layout layout;
    CHECK(az_fx_tdx_world_make(&w));
    w.az.policy.tdx.have_rtmr[3] = 0;
    CHECK_OK(verify(&w));
    w.tdx.qo.rtmr[3][5] ^= 0x20;
    ms_buf_free(&w.quote); /* tdx_fx_quote_make inits it */
    CHECK(tdx_fx_quote_make(&w.quote, &w.tdx.chain, &w.tdx.qo, &layout));
    CHECK(az_fx_tdx_world_bundle(&w, 0)); /* the HCL report keeps the first TD's report */
    CHECK_ERR(verify(&w), MS_ERR_AZ_TD_MISMATCH);
    ms_az_checks *ch = calloc(1, sizeof *ch);
    CHECK(ch != NULL);
    CHECK_ERR(ms_az_verify_checks(&w.az.policy, w.az.ev.p, w.az.ev.len, NULL, 0, NULL, 0,
                                  w.az.binding, 1, ch),
              MS_ERR_AZ_TD_MISMATCH);
    CHECK(ch->result[MS_AZ_CHECK_TDX] == MS_OK && ch->result[MS_AZ_CHECK_VAR_DATA_HASH] == MS_OK);
    free(ch);
    /* Pinned, the changed RTMR is the DCAP verifier's refusal first. */
    w.az.policy.tdx.have_rtmr[3] = 1;
    CHECK_ERR(verify(&w), MS_ERR_TDX_RTMR);
    /* A quote over other report data (another variable data) of the same TD. */
    w.tdx.qo.rtmr[3][5] ^= 0x20;
    w.tdx.qo.report_data[40] = 1;
    ms_buf_free(&w.quote); /* tdx_fx_quote_make inits it */
    CHECK(tdx_fx_quote_make(&w.quote, &w.tdx.chain, &w.tdx.qo, &layout));
    CHECK(az_fx_tdx_world_bundle(&w, 0));
    CHECK_ERR(verify(&w), MS_ERR_AZ_TD_MISMATCH);
    /* Both re-made from that quote: the TD report's REPORTDATA is not the variable data's. */
    CHECK(az_fx_tdx_world_bundle(&w, 1));
    CHECK_ERR(verify(&w), MS_ERR_AZ_VAR_DATA_HASH);
    az_fx_tdx_world_free(&w);
}

/* The DCAP verifier's refusals surface with their own codes; the vTPM ones as for SNP. */
static void test_refusals(void)
{
    az_fx_tdx_world w;
    tdx_fx_layout layout;
    CHECK(az_fx_tdx_world_make(&w));
    ms_az_policy p = w.az.policy;
    p.tdx.mrtd[0] ^= 1;
    CHECK_ERR(ms_az_tdx_verify(&p, w.az.ev.p, w.az.ev.len, w.az.binding), MS_ERR_TDX_MRTD);
    p = w.az.policy;
    p.tdx.root_der = w.az.chain.ark.p; /* another root altogether */
    p.tdx.root_len = w.az.chain.ark.len;
    CHECK_ERR(ms_az_tdx_verify(&p, w.az.ev.p, w.az.ev.len, w.az.binding), MS_ERR_TDX_PCK_CHAIN);
    p = w.az.policy;
    p.pcrs.pcr_values[7][0] ^= 1;
    CHECK_ERR(ms_az_tdx_verify(&p, w.az.ev.p, w.az.ev.len, w.az.binding), MS_ERR_TPM_PCR_VALUE);
    p = w.az.policy;
    p.tdx.at = 1000; /* 1970: nothing is valid yet */
    CHECK(ms_az_tdx_verify(&p, w.az.ev.p, w.az.ev.len, w.az.binding) != MS_OK);
    uint8_t other[MS_BINDING_LEN];
    memcpy(other, w.az.binding, sizeof other);
    other[63] ^= 1;
    CHECK_ERR(ms_az_tdx_verify(&w.az.policy, w.az.ev.p, w.az.ev.len, other), MS_ERR_AZ_USER_DATA);
    /* A debug TD, its HCL report made from the same quote. */
    w.tdx.qo.td_attributes = MS_TDX_TD_ATTR_DEBUG;
    ms_buf_free(&w.quote); /* tdx_fx_quote_make inits it */
    CHECK(tdx_fx_quote_make(&w.quote, &w.tdx.chain, &w.tdx.qo, &layout));
    CHECK(az_fx_tdx_world_bundle(&w, 1));
    CHECK_ERR(verify(&w), MS_ERR_TDX_DEBUG);
    /* A tdx part without collateral: the client requires it. */
    w.tdx.qo.td_attributes = 0;
    ms_buf_free(&w.quote); /* tdx_fx_quote_make inits it */
    CHECK(tdx_fx_quote_make(&w.quote, &w.tdx.chain, &w.tdx.qo, &layout));
    CHECK(az_fx_tdx_world_bundle(&w, 1));
    CHECK_OK(verify(&w));
    ms_tdx_bundle tb = {.quote = w.quote.p, .quote_len = w.quote.len};
    ms_buf_clear(&w.tdx_ev);
    CHECK_OK(ms_tdx_bundle_encode(&tb, &w.tdx_ev));
    ms_az_tdx_bundle b;
    CHECK_OK(ms_az_tdx_bundle_decode(w.az.ev.p, w.az.ev.len, &b));
    b.tdx = w.tdx_ev.p;
    b.tdx_len = w.tdx_ev.len;
    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_az_tdx_bundle_encode(&b, &ev));
    CHECK_ERR(ms_az_tdx_verify(&w.az.policy, ev.p, ev.len, w.az.binding), MS_ERR_TDX_CRL);
    ms_buf_free(&ev);
    az_fx_tdx_world_free(&w);
}

/* Flip every byte of [from, to) of the bundle; each must fail with one of `want`. */
static ms_err verify_ctx(const void *w)
{
    return verify((const az_fx_tdx_world *)w);
}

/* Each verification here runs the whole DCAP path: the large regions take every 5th byte
   (the field compares are byte-wise; test_tdx flips every byte of a quote alone). */
static size_t stride = 1;

/* Full mode: every byte, or every stride-th; quick mode: 4 of those bytes of each range,
   its first and last included (each flip runs the whole DCAP path again). */
static int flip_range(az_fx_tdx_world *w, size_t from, size_t to, const ms_err *want, size_t n)
{
    return az_fx_flip_range(w->az.ev.p, from, to, stride, 4, verify_ctx, w, want, n);
}

#define FLIP(w, from, to, ...)                                                                     \
    flip_range(w, from, to, (const ms_err[]){__VA_ARGS__},                                         \
               sizeof((const ms_err[]){__VA_ARGS__}) / sizeof(ms_err))

/* Every byte of the TD report the quote vouches for, and of the quote's signed part. */
static void test_flip(void)
{
    az_fx_tdx_world w;
    CHECK(az_fx_tdx_world_make(&w));
    ms_az_tdx_bundle b;
    CHECK_OK(ms_az_tdx_bundle_decode(w.az.ev.p, w.az.ev.len, &b));
    size_t hw = (size_t)(b.vtpm.hcl - w.az.ev.p) + MS_AZ_HCL_HEADER_LEN;
    size_t var = hw + MS_AZ_HCL_HW_LEN + MS_AZ_HCL_REQ_HEADER_LEN;
    ms_tdx_bundle tb;
    CHECK_OK(ms_tdx_bundle_decode(b.tdx, b.tdx_len, &tb));
    size_t q = (size_t)(tb.quote - w.az.ev.p);
    ms_tdx_quote dq;
    CHECK_OK(ms_tdx_quote_decode(tb.quote, tb.quote_len, &dq));
    int bad = 0;
    bad += FLIP(&w, 0, 1, MS_ERR_AZ_BUNDLE);
    /* TD report type, subtype, (version 0 or 1: byte 2 not flipped), reserved */
    bad += FLIP(&w, hw, hw + 2, MS_ERR_AZ_FORMAT);
    bad += FLIP(&w, hw + 3, hw + 16, MS_ERR_AZ_FORMAT);
    stride = 5;
    bad += FLIP(&w, hw + 128, hw + 192, MS_ERR_AZ_TD_MISMATCH); /* REPORTDATA */
    bad += FLIP(&w, hw + 264, hw + 384, MS_ERR_AZ_TD_MISMATCH); /* TEE_TCB_SVN..ATTRIBUTES */
    bad += FLIP(&w, hw + 512, hw + 912, MS_ERR_AZ_TD_MISMATCH); /* TDINFO up to RTMR3 */
    bad += FLIP(&w, hw + MS_AZ_TD_REPORT_LEN, hw + MS_AZ_HCL_HW_LEN, MS_ERR_AZ_FORMAT);
    bad += FLIP(&w, var, var + w.az.var.len, MS_ERR_AZ_VAR_DATA_HASH);
    size_t sig = q + dq.signed_len + 4; /* after the signature data's u32 length */
    bad += FLIP(&w, q, sig, MS_ERR_TDX_FORMAT, MS_ERR_TDX_SIGNATURE);
    /* the signature, then the attestation key (also what the QE report data hashes) */
    bad += FLIP(&w, sig, sig + 128, MS_ERR_TDX_SIGNATURE, MS_ERR_TDX_QE_REPORT_DATA);
    stride = 1;
    CHECK(bad == 0);
    CHECK_OK(verify(&w));
    az_fx_tdx_world_free(&w);
}

static void test_truncation(void)
{
    az_fx_tdx_world w;
    CHECK(az_fx_tdx_world_make(&w));
    int bad = 0;
    /* Quick mode: every 7th length, the last included; full mode: every length. */
    for (size_t n = 0; n < w.az.ev.len; n = test_sample_next(n, 0, w.az.ev.len, w.az.ev.len / 7)) {
        bad += ms_az_tdx_verify(&w.az.policy, w.az.ev.p, n, w.az.binding) != MS_ERR_AZ_BUNDLE;
    }
    CHECK(bad == 0);
    ms_az_tdx_bundle b;
    CHECK_ERR(ms_az_tdx_bundle_decode(w.az.ev.p, w.az.ev.len - 1, &b), MS_ERR_AZ_BUNDLE);
    CHECK(b.tdx == NULL && b.vtpm.hcl == NULL);
    CHECK_OK(ms_buf_append_u8(&w.az.ev, 0));
    CHECK_ERR(verify(&w), MS_ERR_AZ_BUNDLE);
    /* Decode and encode agree; the caps hold on both sides. */
    ms_buf again;
    ms_buf_init(&again, MS_MAX_EVIDENCE);
    CHECK_OK(ms_az_tdx_bundle_decode(w.az.ev.p, w.az.ev.len - 1, &b));
    CHECK_OK(ms_az_tdx_bundle_encode(&b, &again));
    CHECK(again.len == w.az.ev.len - 1 && memcmp(again.p, w.az.ev.p, again.len) == 0);
    b.tdx_len = 0;
    CHECK_ERR(ms_az_tdx_bundle_encode(&b, &again), MS_ERR_ARG);
    b.tdx_len = MS_AZ_MAX_TDX_PART + 1;
    CHECK_ERR(ms_az_tdx_bundle_encode(&b, &again), MS_ERR_ARG);
    /* An empty tdx part (length 0) is refused by the decoder. */
    ms_buf_clear(&again);
    CHECK_OK(ms_buf_append(&again, w.az.ev.p, (size_t)(b.tdx - w.az.ev.p) - 4));
    CHECK_OK(ms_buf_append_u32be(&again, 0));
    CHECK_ERR(ms_az_tdx_bundle_decode(again.p, again.len, &b), MS_ERR_AZ_BUNDLE);
    ms_buf_free(&again);
    az_fx_tdx_world_free(&w);
}

/* The policy file's sections reach this verifier: tdx pins + az_tdx_vtpm PCRs. */
static void test_policy_section(void)
{
    az_fx_tdx_world w;
    char dir[] = "/tmp/ms-test-aztdx-XXXXXX", json[4096], path[256];
    char mrtd[MS_HEX_BUF_LEN(48)], r[4][MS_HEX_BUF_LEN(48)];
    char v0[MS_HEX_BUF_LEN(32)], v7[MS_HEX_BUF_LEN(32)];
    size_t n;
    CHECK(az_fx_tdx_world_make(&w));
    CHECK(mkdtemp(dir) != NULL);
    CHECK(tdx_fx_chain_write(&w.tdx.chain, dir));
    CHECK_OK(ms_hex_encode(w.tdx.qo.mrtd, 48, mrtd, sizeof mrtd, &n));
    for (int i = 0; i < 4; i++) {
        CHECK_OK(ms_hex_encode(w.tdx.qo.rtmr[i], 48, r[i], sizeof r[i], &n));
    }
    CHECK_OK(ms_hex_encode(w.az.values[0], 32, v0, sizeof v0, &n));
    CHECK_OK(ms_hex_encode(w.az.values[1], 32, v7, sizeof v7, &n));
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"az-tdx-vtpm\"],\"tdx\":{\"root_pem\":\"root.pem\","
             "\"mrtd\":\"%s\",\"rtmrs\":{\"0\":\"%s\",\"1\":\"%s\",\"2\":\"%s\",\"3\":\"%s\"}},"
             "\"az_tdx_vtpm\":{\"pcrs\":{\"0\":\"%s\",\"7\":\"%s\"}}}",
             mrtd, r[0], r[1], r[2], r[3], v0, v7);
    ms_attest_policy p;
    ms_attest_policy_init(&p);
    CHECK_OK(ms_attest_policy_parse(&p, (const uint8_t *)json, strlen(json), dir));
    CHECK(p.have_az_tdx && p.az_tdx.pcrs.pcr_mask == 0x81u && p.az_tdx.tdx.have_mrtd);
    CHECK(strcmp(ms_evidence_type_name(MS_EVIDENCE_AZ_TDX_VTPM), "az-tdx-vtpm") == 0);
    ms_evidence_view v = {.type = MS_EVIDENCE_AZ_TDX_VTPM, .mode = MS_MODE_FAST,
                          .data = w.az.ev.p, .len = w.az.ev.len, .not_after = 2000, .now = 1000,
                          .binding = w.az.binding};
    CHECK_OK(ms_attest_policy_verify(&p, &v));
    p.az_tdx.tdx.rtmr[2][0] ^= 1; /* one pinned value changed: refused */
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_TDX_RTMR);
    v.type = MS_EVIDENCE_AZ_SNP_VTPM;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_POLICY);
    ms_attest_policy_free(&p);
    static const char *const files[] = {"root.pem", "pck.key", "ak.key", "pck_chain.pem"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    CHECK(rmdir(dir) == 0);
    az_fx_tdx_world_free(&w);
}

int main(void)
{
    RUN(test_world_verifies);
    RUN(test_td_match);
    RUN(test_refusals);
    RUN(test_flip);
    RUN(test_truncation);
    RUN(test_policy_section);
    az_fx_keys_free();
    snp_fx_keys_free();
    return TEST_SUMMARY();
}

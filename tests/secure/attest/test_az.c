/* az-snp-vtpm verifier: a test-made world that verifies, every signed byte flipped, and the real vectors. */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cursor.h"
#include "common/digest.h"
#include "secure/attest/az.h"
#include "secure/attest/devkey.h"
#include "secure/attest/policy.h"
#include "common/codec.h"
#include <unistd.h>
#include "tests/secure/attest/az_fixture.h"
#include "tests/test.h"

#define DIR MS_TESTDATA_DIR "/azure-cvm/"

static ms_err verify(const az_fx_world *w)
{
    return ms_az_snp_verify(&w->policy, w->ev.p, w->ev.len, w->binding);
}

static void test_world_verifies(void)
{
    az_fx_world w;
    CHECK(az_fx_world_make(&w));
    CHECK_OK(verify(&w));
    const char *seed = getenv("MS_AZ_SEED_OUT"); /* the fuzz_az_bundle seed */
    if (seed != NULL) {
        FILE *f = fopen(seed, "wb");
        CHECK(f != NULL && fwrite(w.ev.p, 1, w.ev.len, f) == w.ev.len);
        CHECK(f != NULL && fclose(f) == 0);
    }
    ms_az_checks ch;
    CHECK_OK(ms_az_verify_checks(&w.policy, w.ev.p, w.ev.len, NULL, 0, NULL, 0, w.binding, 1, &ch));
    int all = !ch.ran[MS_AZ_CHECK_TDX] && !ch.ran[MS_AZ_CHECK_TD_MATCH];
    for (int i = 0; i < MS_AZ_CHECK_COUNT; i++) {
        all &= i == MS_AZ_CHECK_TDX || i == MS_AZ_CHECK_TD_MATCH || (ch.ran[i] && ch.result[i] == MS_OK);
    }
    CHECK(all && ch.have_var && ch.var.has_ek && ch.have_quote && ch.quoted.pcr_mask == 0x81u);
    CHECK(!ch.snp.ran[MS_SNP_CHECK_REPORT_DATA] && ch.snp.ran[MS_SNP_CHECK_MEASUREMENT]);
    /* Policy errors are the caller's. */
    CHECK_ERR(ms_az_snp_verify(NULL, w.ev.p, w.ev.len, w.binding), MS_ERR_ARG);
    ms_az_policy p = w.policy;
    p.snp.ark_der = NULL;
    CHECK_ERR(ms_az_snp_verify(&p, w.ev.p, w.ev.len, w.binding), MS_ERR_ARG);
    p = w.policy;
    p.pcrs.pcr_mask = 0;
    CHECK_ERR(ms_az_snp_verify(&p, w.ev.p, w.ev.len, w.binding), MS_ERR_ARG);
    az_fx_world_free(&w);
}

/* The binding: user-data and extraData of another session, no user-data, and the pins. */
static void test_binding_and_pins(void)
{
    az_fx_world w;
    CHECK(az_fx_world_make(&w));
    uint8_t other[MS_BINDING_LEN];
    memcpy(other, w.binding, sizeof other);
    other[63] ^= 1; /* user-data covers all 64 bytes; extraData only the first 32 */
    CHECK_ERR(ms_az_snp_verify(&w.policy, w.ev.p, w.ev.len, other), MS_ERR_AZ_USER_DATA);
    other[63] ^= 1;
    other[0] ^= 1;
    CHECK_ERR(ms_az_snp_verify(&w.policy, w.ev.p, w.ev.len, other), MS_ERR_AZ_USER_DATA);
    /* A quote over another session's B, HCL report over this one. */
    ms_buf_clear(&w.quoted);
    ms_buf_clear(&w.sig);
    CHECK(az_fx_quote(&w.quoted, &w.sig, az_fx_ak_key(0), other, 0x81u, &w.values[0][0], 2, 0));
    CHECK(az_fx_world_bundle(&w));
    CHECK_ERR(verify(&w), MS_ERR_TPM_NONCE);
    /* RSASSA-PSS by the same AK is accepted. */
    ms_buf_clear(&w.quoted);
    ms_buf_clear(&w.sig);
    CHECK(az_fx_quote(&w.quoted, &w.sig, az_fx_ak_key(0), w.binding, 0x81u, &w.values[0][0], 2, 1));
    CHECK(az_fx_world_bundle(&w));
    CHECK_OK(verify(&w));
    /* Pins. */
    ms_az_policy keep = w.policy;
    w.policy.pcrs.pcr_values[7][5] ^= 1;
    CHECK_ERR(verify(&w), MS_ERR_TPM_PCR_VALUE);
    w.policy = keep;
    w.policy.pcrs.pcr_mask = 0x83u;
    CHECK_ERR(verify(&w), MS_ERR_TPM_PCR_SELECT);
    w.policy = keep;
    w.policy.snp.measurement[0] ^= 1;
    CHECK_ERR(verify(&w), MS_ERR_SNP_MEASUREMENT);
    w.policy = keep;
    w.policy.snp.min_tcb.snp = 9;
    CHECK_ERR(verify(&w), MS_ERR_SNP_TCB_MIN);
    w.policy = keep;
    /* No user-data in the variable data (a paravisor that never got B). */
    ms_buf_clear(&w.var);
    ms_buf_clear(&w.hcl);
    CHECK(az_fx_var_data(&w.var, az_fx_ak_key(0), NULL, NULL, NULL));
    CHECK(az_fx_snp_hcl(&w.hcl, w.chain.vcek_key, NULL, w.var.p, w.var.len));
    CHECK(az_fx_world_bundle(&w));
    CHECK_ERR(verify(&w), MS_ERR_AZ_USER_DATA);
    az_fx_world_free(&w);
}

/* A quote by an AK other than HCLAkPub; two HCLAkPub keys; a TDX report type; a wrong root. */
static void test_keys_and_types(void)
{
    az_fx_world w;
    CHECK(az_fx_world_make(&w));
    ms_buf_clear(&w.quoted);
    ms_buf_clear(&w.sig);
    CHECK(az_fx_quote(&w.quoted, &w.sig, az_fx_ak_key(1), w.binding, 0x81u, &w.values[0][0], 2, 0));
    CHECK(az_fx_world_bundle(&w));
    CHECK_ERR(verify(&w), MS_ERR_AZ_QUOTE_SIGNATURE);
    ms_buf_clear(&w.quoted);
    ms_buf_clear(&w.sig);
    CHECK(az_fx_quote(&w.quoted, &w.sig, az_fx_ak_key(0), w.binding, 0x81u, &w.values[0][0], 2, 0));

    ms_buf_clear(&w.var);
    ms_buf_clear(&w.hcl);
    CHECK(az_fx_var_data(&w.var, az_fx_ak_key(0), NULL, w.binding, az_fx_ak_key(1)));
    CHECK(az_fx_snp_hcl(&w.hcl, w.chain.vcek_key, NULL, w.var.p, w.var.len));
    CHECK(az_fx_world_bundle(&w));
    CHECK_ERR(verify(&w), MS_ERR_AZ_AKPUB);

    /* Report type TDX over an SNP report: refused before anything else is believed. */
    ms_buf_clear(&w.var);
    ms_buf_clear(&w.hcl);
    CHECK(az_fx_var_data(&w.var, az_fx_ak_key(0), NULL, w.binding, NULL));
    CHECK(az_fx_snp_hcl(&w.hcl, w.chain.vcek_key, NULL, w.var.p, w.var.len));
    CHECK(az_fx_world_bundle(&w));
    CHECK_OK(verify(&w));
    w.ev.p[3 + MS_AZ_HCL_HEADER_LEN + MS_AZ_HCL_HW_LEN + 8] = MS_AZ_REPORT_TDX;
    CHECK_ERR(verify(&w), MS_ERR_AZ_REPORT_TYPE);
    w.ev.p[3 + MS_AZ_HCL_HEADER_LEN + MS_AZ_HCL_HW_LEN + 8] = MS_AZ_REPORT_SNP;

    /* The report signed by a VCEK of another chain: the pinned ARK did not issue it. */
    snp_fx_chain other;
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    CHECK(snp_fx_chain_make(&other, snp_fx_rsa_key(2), snp_fx_rsa_key(1), snp_fx_p384_key(1), &vo, 48, 0));
    w.policy.snp.ark_der = other.ark.p;
    w.policy.snp.ark_len = other.ark.len;
    CHECK_ERR(verify(&w), MS_ERR_SNP_ARK);
    snp_fx_chain_free(&other);
    az_fx_world_free(&w);
}

/* Flip every byte of [from, to) of the bundle; each must fail with one of `want`. */
static size_t stride = 1;

static ms_err verify_ctx(const void *w)
{
    return verify((const az_fx_world *)w);
}

/* Full mode: every byte, or every stride-th; quick mode: about 8 of those bytes of each
   range, its first and last included (each flip verifies the whole bundle, chain included,
   again). */
static int flip_range(az_fx_world *w, size_t from, size_t to, const ms_err *want, size_t n)
{
    return az_fx_flip_range(w->ev.p, from, to, stride, 8, verify_ctx, w, want, n);
}

#define FLIP(w, from, to, ...)                                                                     \
    flip_range(w, from, to, (const ms_err[]){__VA_ARGS__},                                         \
               sizeof((const ms_err[]){__VA_ARGS__}) / sizeof(ms_err))

static void test_flip_every_byte(void)
{
    az_fx_world w;
    CHECK(az_fx_world_make(&w));
    ms_az_bundle b;
    CHECK_OK(ms_az_bundle_decode(w.ev.p, w.ev.len, &b));
    size_t hcl = (size_t)(b.hcl - w.ev.p), q = (size_t)(b.quoted - w.ev.p);
    size_t s = (size_t)(b.sig - w.ev.p), v = (size_t)(b.values - w.ev.p);
    size_t vc = (size_t)(b.vcek - w.ev.p), ask = (size_t)(b.ask - w.ev.p);
    size_t hw = hcl + MS_AZ_HCL_HEADER_LEN, req = hw + MS_AZ_HCL_HW_LEN;
    size_t var = req + MS_AZ_HCL_REQ_HEADER_LEN, fill = var + w.var.len;
    int bad = 0;
    bad += FLIP(&w, 0, hcl, MS_ERR_AZ_BUNDLE);
    bad += FLIP(&w, hcl, hw, MS_ERR_AZ_FORMAT);
    bad += FLIP(&w, hw, req, MS_ERR_SNP_FORMAT, MS_ERR_SNP_SIGNATURE);
    bad += FLIP(&w, req, var, MS_ERR_AZ_FORMAT);
    bad += FLIP(&w, var, fill, MS_ERR_AZ_VAR_DATA_HASH);
    bad += FLIP(&w, fill, hcl + b.hcl_len, MS_ERR_AZ_FORMAT);
    bad += FLIP(&w, q - 2, q, MS_ERR_AZ_BUNDLE);
    bad += FLIP(&w, q, s - 2, MS_ERR_TPM_FORMAT, MS_ERR_AZ_QUOTE_SIGNATURE);
    bad += FLIP(&w, s, v - 2, MS_ERR_TPM_FORMAT, MS_ERR_AZ_QUOTE_SIGNATURE);
    bad += FLIP(&w, v, vc - 2, MS_ERR_TPM_PCR_DIGEST);
    /* The certificates are the SEV-SNP verifier's (test_snp flips each of their bytes): a
       sample here, to show they reach it through this bundle. */
    stride = 7;
    bad += FLIP(&w, vc, ask - 2, MS_ERR_SNP_FORMAT, MS_ERR_SNP_CHAIN);
    bad += FLIP(&w, ask, w.ev.len, MS_ERR_SNP_FORMAT, MS_ERR_SNP_ARK);
    stride = 1;
    CHECK(bad == 0);
    CHECK_OK(verify(&w));
    az_fx_world_free(&w);
}

static void test_truncation(void)
{
    az_fx_world w;
    CHECK(az_fx_world_make(&w));
    int bad = 0;
    for (size_t n = 0; n < w.ev.len; n++) {
        bad += ms_az_snp_verify(&w.policy, w.ev.p, n, w.binding) != MS_ERR_AZ_BUNDLE;
    }
    CHECK(bad == 0);
    CHECK_OK(ms_buf_append_u8(&w.ev, 0));
    CHECK_ERR(verify(&w), MS_ERR_AZ_BUNDLE);
    /* Decode and encode agree. */
    ms_az_bundle b;
    ms_buf again;
    ms_buf_init(&again, MS_AZ_MAX_BUNDLE);
    CHECK_OK(ms_az_bundle_decode(w.ev.p, w.ev.len - 1, &b));
    CHECK_OK(ms_az_bundle_encode(&b, &again));
    CHECK(again.len == w.ev.len - 1 && memcmp(again.p, w.ev.p, again.len) == 0);
    b.ask = NULL;
    CHECK_ERR(ms_az_bundle_encode(&b, &again), MS_ERR_ARG);
    ms_buf_free(&again);
    az_fx_world_free(&w);
}

/*
 * Without pins any selection is taken, but not an empty one: a quote over no PCRs, signed
 * by the AK, fails PCR_SELECT alone.
 */
static void test_empty_selection(void)
{
    az_fx_world w;
    CHECK(az_fx_world_make(&w));
    ms_buf_clear(&w.quoted);
    ms_buf_clear(&w.sig);
    CHECK(az_fx_quote(&w.quoted, &w.sig, az_fx_ak_key(0), w.binding, 0, NULL, 0, 0));
    CHECK(az_fx_world_bundle(&w));
    ms_az_checks ch;
    CHECK_ERR(ms_az_verify_checks(&w.policy, w.ev.p, w.ev.len, NULL, 0, NULL, 0, w.binding, 0,
                                  &ch),
              MS_ERR_TPM_PCR_SELECT);
    CHECK(ch.result[MS_AZ_CHECK_QUOTE_SIGNATURE] == MS_OK && ch.result[MS_AZ_CHECK_NONCE] == MS_OK &&
          ch.result[MS_AZ_CHECK_PCR_SELECT] == MS_ERR_TPM_PCR_SELECT);
    az_fx_world_free(&w);
}

/* The format byte, then n u16-prefixed parts of these lengths (bytes 0x5a). */
static void caps_parts(ms_buf *out, uint8_t format, const size_t *len, size_t n)
{
    static uint8_t fill[(MS_AZ_MAX_HCL > MS_SNP_MAX_CERT ? MS_AZ_MAX_HCL : MS_SNP_MAX_CERT) + 1];
    memset(fill, 0x5a, sizeof fill);
    ms_buf_clear(out);
    CHECK_OK(ms_buf_append_u8(out, format));
    for (size_t i = 0; i < n; i++) {
        CHECK_OK(ms_buf_append_u16be(out, (uint16_t)len[i]));
        CHECK_OK(ms_buf_append(out, fill, len[i]));
    }
}

/* A bundle of parts of these lengths (bytes 0x5a), the format byte first. */
static void caps_bundle(ms_buf *out, uint8_t format, const size_t len[6])
{
    caps_parts(out, format, len, 6);
}

/* The bundle's caps, each at its bound: hcl, quoted, sig, values, vcek, ask. */
static void test_bundle_caps(void)
{
    static const size_t lo[6] = {1, 1, 1, 0, 1, 0};
    static const size_t hi[6] = {MS_AZ_MAX_HCL, MS_AZ_MAX_QUOTED, MS_AZ_MAX_SIG,
                                 MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN, MS_SNP_MAX_CERT,
                                 MS_SNP_MAX_CERT};
    ms_buf ev;
    ms_az_bundle b;
    size_t len[6];
    ms_buf_init(&ev, MS_AZ_MAX_BUNDLE + 2);
    caps_bundle(&ev, MS_AZ_BUNDLE_FORMAT, lo);
    CHECK_OK(ms_az_bundle_decode(ev.p, ev.len, &b));
    CHECK(b.hcl_len == 1 && b.values_len == 0 && b.ask == NULL);
    caps_bundle(&ev, MS_AZ_BUNDLE_FORMAT, hi);
    CHECK(ev.len == MS_AZ_MAX_BUNDLE);
    CHECK_OK(ms_az_bundle_decode(ev.p, ev.len, &b));
    CHECK(b.hcl_len == MS_AZ_MAX_HCL && b.ask_len == MS_SNP_MAX_CERT);
    CHECK_OK(ms_buf_append_u8(&ev, 0));
    CHECK_ERR(ms_az_bundle_decode(ev.p, ev.len, &b), MS_ERR_AZ_BUNDLE);
    caps_bundle(&ev, MS_AZ_BUNDLE_FORMAT + 1, lo);
    CHECK_ERR(ms_az_bundle_decode(ev.p, ev.len, &b), MS_ERR_AZ_BUNDLE);
    for (size_t i = 0; i < 6; i++) {
        memcpy(len, lo, sizeof len);
        len[i] = hi[i] + 1;
        caps_bundle(&ev, MS_AZ_BUNDLE_FORMAT, len);
        CHECK_ERR(ms_az_bundle_decode(ev.p, ev.len, &b), MS_ERR_AZ_BUNDLE);
        if (lo[i] > 0) {
            len[i] = lo[i] - 1;
            caps_bundle(&ev, MS_AZ_BUNDLE_FORMAT, len);
            CHECK_ERR(ms_az_bundle_decode(ev.p, ev.len, &b), MS_ERR_AZ_BUNDLE);
        }
    }
    /* PCR values come in whole digests. */
    memcpy(len, lo, sizeof len);
    len[3] = MS_TPM2_DIGEST_LEN - 1;
    caps_bundle(&ev, MS_AZ_BUNDLE_FORMAT, len);
    CHECK_ERR(ms_az_bundle_decode(ev.p, ev.len, &b), MS_ERR_AZ_BUNDLE);
    len[3] = MS_TPM2_DIGEST_LEN;
    caps_bundle(&ev, MS_AZ_BUNDLE_FORMAT, len);
    CHECK_OK(ms_az_bundle_decode(ev.p, ev.len, &b));
    ms_buf_free(&ev);
}

/* An az-tdx-vtpm bundle: the vTPM parts of these lengths, then a tdx part of tdx_len. */
static void caps_tdx_bundle(ms_buf *out, const size_t len[4], size_t tdx_len)
{
    uint8_t *dst;
    caps_parts(out, MS_AZ_TDX_BUNDLE_FORMAT, len, 4);
    CHECK_OK(ms_buf_append_u32be(out, (uint32_t)tdx_len));
    CHECK_OK(ms_buf_extend(out, tdx_len, &dst));
    memset(dst, 0x5a, tdx_len);
}

/* The az-tdx-vtpm bundle's own caps: a tdx part of 1..MS_AZ_MAX_TDX_PART bytes, the whole at
   most MS_MAX_EVIDENCE (every part at its cap is exactly that). */
static void test_tdx_bundle_caps(void)
{
    static const size_t lo[4] = {1, 1, 1, 0};
    static const size_t hi[4] = {MS_AZ_MAX_HCL, MS_AZ_MAX_QUOTED, MS_AZ_MAX_SIG,
                                 MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN};
    ms_buf ev;
    ms_az_tdx_bundle b;
    ms_buf_init(&ev, MS_MAX_EVIDENCE + 1);
    caps_tdx_bundle(&ev, lo, 1);
    CHECK_OK(ms_az_tdx_bundle_decode(ev.p, ev.len, &b));
    CHECK(b.tdx_len == 1 && b.vtpm.values_len == 0);
    caps_tdx_bundle(&ev, hi, MS_AZ_MAX_TDX_PART);
    CHECK(ev.len == MS_MAX_EVIDENCE);
    CHECK_OK(ms_az_tdx_bundle_decode(ev.p, ev.len, &b));
    CHECK(b.tdx_len == MS_AZ_MAX_TDX_PART && b.vtpm.hcl_len == MS_AZ_MAX_HCL);
    caps_tdx_bundle(&ev, lo, MS_AZ_MAX_TDX_PART + 1);
    CHECK_ERR(ms_az_tdx_bundle_decode(ev.p, ev.len, &b), MS_ERR_AZ_BUNDLE);
    CHECK_ERR(ms_az_tdx_bundle_decode(NULL, 16, &b), MS_ERR_AZ_BUNDLE);
    CHECK_ERR(ms_az_bundle_decode(NULL, 16, &b.vtpm), MS_ERR_AZ_BUNDLE);
    ms_buf_free(&ev);
}

/* The policy file's sections reach this verifier: sev_snp pins + az_snp_vtpm PCRs. */
static void test_policy_section(void)
{
    az_fx_world w;
    char dir[] = "/tmp/ms-test-az-XXXXXX", path[256], json[2048];
    char meas[MS_HEX_BUF_LEN(48)], v0[MS_HEX_BUF_LEN(32)], v7[MS_HEX_BUF_LEN(32)];
    size_t n;
    CHECK(az_fx_world_make(&w));
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/ark.pem", dir);
    const unsigned char *der = w.chain.ark.p;
    X509 *ark = d2i_X509(NULL, &der, (long)w.chain.ark.len);
    FILE *f = fopen(path, "w");
    CHECK(ark != NULL && f != NULL && PEM_write_X509(f, ark) == 1);
    CHECK(f != NULL && fclose(f) == 0);
    X509_free(ark);
    CHECK_OK(ms_hex_encode(w.policy.snp.measurement, 48, meas, sizeof meas, &n));
    CHECK_OK(ms_hex_encode(w.values[0], 32, v0, sizeof v0, &n));
    CHECK_OK(ms_hex_encode(w.values[1], 32, v7, sizeof v7, &n));
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"az-snp-vtpm\"],\"sev_snp\":{\"ark_pem\":\"ark.pem\","
             "\"measurement\":\"%s\",\"min_tcb\":{\"bootloader\":3,\"tee\":0,\"snp\":8,"
             "\"microcode\":115}},\"az_snp_vtpm\":{\"pcrs\":{\"0\":\"%s\",\"7\":\"%s\"}}}",
             meas, v0, v7);
    ms_attest_policy p;
    ms_attest_policy_init(&p);
    /* Without sev_snp.min_tcb the refusal names the missing field (issue 13). */
    char no_tcb[1024];
    snprintf(no_tcb, sizeof no_tcb,
             "{\"version\":1,\"accept\":[\"az-snp-vtpm\"],\"sev_snp\":{\"ark_pem\":\"ark.pem\","
             "\"measurement\":\"%s\"},\"az_snp_vtpm\":{\"pcrs\":{\"0\":\"%s\"}}}",
             meas, v0);
    CHECK(ms_attest_policy_parse(&p, (const uint8_t *)no_tcb, strlen(no_tcb), dir) != MS_OK);
    CHECK(strstr(p.why, "sev_snp.min_tcb: a required field is missing") != NULL);
    ms_attest_policy_free(&p);
    ms_attest_policy_init(&p);
    CHECK_OK(ms_attest_policy_parse(&p, (const uint8_t *)json, strlen(json), dir));
    CHECK(p.have_az_snp && p.az_snp.pcrs.pcr_mask == 0x81u);
    CHECK(strcmp(ms_evidence_type_name(MS_EVIDENCE_AZ_SNP_VTPM), "az-snp-vtpm") == 0);
    ms_evidence_view v = {.type = MS_EVIDENCE_AZ_SNP_VTPM, .mode = MS_MODE_FAST, .data = w.ev.p,
                          .len = w.ev.len, .not_after = 2000, .now = 1000, .binding = w.binding};
    CHECK_OK(ms_attest_policy_verify(&p, &v));
    w.binding[40] ^= 1;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_AZ_USER_DATA);
    w.binding[40] ^= 1;
    p.az_snp.pcrs.pcr_values[0][0] ^= 1; /* one pinned value changed: refused */
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_TPM_PCR_VALUE);
    v.type = MS_EVIDENCE_AZ_TDX_VTPM;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_POLICY);
    ms_attest_policy_free(&p);
    unlink(path);
    rmdir(dir);
    az_fx_world_free(&w);
}

/* ---- the real vectors --------------------------------------------------------------------- */

static ms_buf load(const char *name)
{
    ms_buf b;
    char path[512];
    snprintf(path, sizeof path, "%s%s", DIR, name);
    ms_buf_init(&b, 65536);
    CHECK_OK(ms_file_read(path, 65536, &b));
    return b;
}

/* certs.pem: VCEK, ASK, ARK as DER. */
static int load_chain(ms_buf der[3])
{
    ms_buf pem = load("certs.pem");
    BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
    int n = 0;
    X509 *x;
    while (bio != NULL && n < 3 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        unsigned char *p = NULL;
        int len = i2d_X509(x, &p);
        ms_buf_init(&der[n], MS_SNP_MAX_CERT);
        if (len > 0 && ms_buf_append(&der[n], p, (size_t)len) == MS_OK) {
            n++;
        }
        OPENSSL_free(p);
        X509_free(x);
    }
    BIO_free(bio);
    ms_buf_free(&pem);
    return n == 3;
}

/* The NOTICE: the chain verifies, the HCL report's signature does not (another chip). */
static void test_real_snp_hcl(void)
{
    ms_buf hcl = load("hcl-report-snp.bin"), der[3];
    CHECK(load_chain(der));
    ms_az_policy p;
    memset(&p, 0, sizeof p);
    p.snp.ark_der = der[2].p;
    p.snp.ark_len = der[2].len;
    ms_az_checks ch;
    ms_err e = ms_az_verify_checks(&p, hcl.p, hcl.len, der[0].p, der[0].len, der[1].p, der[1].len,
                                   NULL, 0, &ch);
    CHECK_ERR(e, MS_ERR_SNP_SIGNATURE);
    CHECK(ch.have_hcl && ch.ran[MS_AZ_CHECK_SNP] && ch.result[MS_AZ_CHECK_SNP] == MS_ERR_SNP_SIGNATURE);
    CHECK(ch.snp.ran[MS_SNP_CHECK_ARK] && ch.snp.result[MS_SNP_CHECK_ARK] == MS_OK);
    CHECK(ch.snp.ran[MS_SNP_CHECK_CHAIN] && ch.snp.result[MS_SNP_CHECK_CHAIN] == MS_OK);
    CHECK(ch.snp.result[MS_SNP_CHECK_SIGNATURE] == MS_ERR_SNP_SIGNATURE);
    CHECK(ch.snp.result[MS_SNP_CHECK_CHIP_ID] == MS_ERR_SNP_CHIP_ID);
    CHECK(ch.result[MS_AZ_CHECK_VAR_DATA_HASH] == MS_OK && ch.result[MS_AZ_CHECK_VAR_DATA] == MS_OK);
    /* The binding: no session asked for this report, so user-data and nonce are skipped. */
    CHECK(!ch.ran[MS_AZ_CHECK_USER_DATA] && !ch.ran[MS_AZ_CHECK_QUOTE_FORMAT]);
    /* Without certificates the SNP checks are skipped, not passed. */
    CHECK_OK(ms_az_verify_checks(&p, hcl.p, hcl.len, NULL, 0, NULL, 0, NULL, 0, &ch));
    CHECK(!ch.ran[MS_AZ_CHECK_SNP] && ch.ran[MS_AZ_CHECK_VAR_DATA_HASH]);
    /* The TDX HCL report: decoded, hash checked; no TDX quote of that TD exists in the
       vectors, so the quote's checks and td-match are skipped, never passed (test_az_tdx
       has the joined, test-made case). */
    ms_buf tdx = load("hcl-report-tdx.bin");
    CHECK_OK(ms_az_verify_checks(&p, tdx.p, tdx.len, NULL, 0, NULL, 0, NULL, 0, &ch));
    CHECK(ch.have_td && ch.result[MS_AZ_CHECK_VAR_DATA_HASH] == MS_OK && ch.var.has_user_data);
    CHECK(ch.ran[MS_AZ_CHECK_REPORT_TYPE] && !ch.ran[MS_AZ_CHECK_TDX] &&
          !ch.ran[MS_AZ_CHECK_TD_MATCH] && !ch.ran[MS_AZ_CHECK_SNP]);
    /* In an SNP bundle it is the wrong type. */
    ms_az_bundle sb = {.hcl = tdx.p, .hcl_len = tdx.len, .quoted = (const uint8_t *)"q",
                       .quoted_len = 1, .sig = (const uint8_t *)"s", .sig_len = 1,
                       .vcek = der[0].p, .vcek_len = der[0].len};
    ms_buf sbe;
    ms_buf_init(&sbe, MS_AZ_MAX_BUNDLE);
    CHECK_OK(ms_az_bundle_encode(&sb, &sbe));
    CHECK_ERR(ms_az_verify_checks(&p, sbe.p, sbe.len, NULL, 0, NULL, 0, NULL, 0, &ch),
              MS_ERR_AZ_REPORT_TYPE);
    ms_buf_free(&sbe);
    ms_buf_free(&tdx);
    for (int i = 0; i < 3; i++) {
        ms_buf_free(&der[i]);
    }
    ms_buf_free(&hcl);
}

/* quote.bin: bincode {signature: Vec<u8>, message: Vec<u8>, pcrs: Vec<[u8;32]>} (u64le lengths). */
typedef struct real_quote {
    const uint8_t *sig, *msg, *pcrs;
    size_t sig_len, msg_len, n_pcrs;
} real_quote;

static int bincode_vec(ms_cursor *c, size_t elem, const uint8_t **p, size_t *n)
{
    uint64_t len;
    return ms_cursor_read_u64le(c, &len) == MS_OK && len <= 4096 &&
           ms_cursor_borrow(c, p, (size_t)len * elem) == MS_OK && (*n = (size_t)len, 1);
}

static int parse_quote_bin(const ms_buf *b, real_quote *q)
{
    ms_cursor c = ms_cursor_init(b->p, b->len);
    return bincode_vec(&c, 1, &q->sig, &q->sig_len) && bincode_vec(&c, 1, &q->msg, &q->msg_len) &&
           bincode_vec(&c, 32, &q->pcrs, &q->n_pcrs) && ms_cursor_expect_end(&c) == MS_OK;
}

/* The real quote under akpub.pem, through the product's verifier: akpub becomes HCLAkPub. */
static void test_real_quote(void)
{
    ms_buf qb = load("quote.bin"), pem = load("akpub.pem"), var, hcl, quoted, sig, ev;
    real_quote q;
    CHECK(parse_quote_bin(&qb, &q));
    CHECK(q.sig_len == 256 && q.msg_len == 122 && q.n_pcrs == 24);
    BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
    EVP_PKEY *ak = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    CHECK(ak != NULL);
    ms_buf_init(&var, MS_AZ_MAX_VAR_DATA);
    ms_buf_init(&hcl, MS_AZ_MAX_HCL);
    ms_buf_init(&quoted, 4096);
    ms_buf_init(&sig, 4096);
    ms_buf_init(&ev, MS_AZ_MAX_BUNDLE);
    CHECK(az_fx_var_data(&var, ak, NULL, NULL, NULL));
    /* A frame around the real SNP report with this variable data: its hash will not match. */
    ms_buf real = load("hcl-report-snp.bin");
    CHECK(az_fx_hcl_frame(&hcl, real.p + MS_AZ_HCL_HEADER_LEN, MS_AZ_REPORT_SNP, var.p, var.len, 2048));
    CHECK_OK(ms_buf_append_u16be(&quoted, (uint16_t)q.msg_len));
    CHECK_OK(ms_buf_append(&quoted, q.msg, q.msg_len));
    uint8_t sh[6] = {0x00, 0x14, 0x00, 0x0b, 0x01, 0x00}; /* RSASSA, SHA-256, 256 bytes */
    CHECK_OK(ms_buf_append(&sig, sh, sizeof sh));
    CHECK_OK(ms_buf_append(&sig, q.sig, q.sig_len));
    uint8_t vcek = 0x30;
    ms_az_bundle b = {.hcl = hcl.p, .hcl_len = hcl.len, .quoted = quoted.p, .quoted_len = quoted.len,
                      .sig = sig.p, .sig_len = sig.len, .values = q.pcrs,
                      .values_len = q.n_pcrs * 32, .vcek = &vcek, .vcek_len = 1};
    CHECK_OK(ms_az_bundle_encode(&b, &ev));
    ms_az_policy p;
    memset(&p, 0, sizeof p);
    ms_az_checks ch;
    CHECK_ERR(ms_az_verify_checks(&p, ev.p, ev.len, NULL, 0, NULL, 0, NULL, 0, &ch),
              MS_ERR_SNP_FORMAT);
    CHECK(ch.result[MS_AZ_CHECK_VAR_DATA_HASH] == MS_ERR_AZ_VAR_DATA_HASH);
    CHECK(ch.ran[MS_AZ_CHECK_QUOTE_SIGNATURE] && ch.result[MS_AZ_CHECK_QUOTE_SIGNATURE] == MS_OK);
    CHECK(ch.result[MS_AZ_CHECK_QUOTE_MAGIC] == MS_OK && ch.result[MS_AZ_CHECK_QUOTE_TYPE] == MS_OK);
    CHECK(ch.result[MS_AZ_CHECK_PCR_SELECT] == MS_OK && ch.result[MS_AZ_CHECK_PCR_DIGEST] == MS_OK);
    CHECK(ch.quoted.pcr_mask == 0xffffffu);
    /* "challenge" is not a 32-byte B: the nonce check fails against any session. */
    uint8_t binding[MS_BINDING_LEN] = {0};
    CHECK_ERR(ms_az_verify_checks(&p, ev.p, ev.len, NULL, 0, NULL, 0, binding, 0, &ch),
              MS_ERR_SNP_FORMAT);
    CHECK(ch.result[MS_AZ_CHECK_NONCE] == MS_ERR_TPM_NONCE);
    /* One flipped bit of the message or signature: the real signature fails. Quick mode:
       every 7th byte, the last included; full mode: every byte. */
    int bad = 0;
    size_t signed_len = q.msg_len + q.sig_len;
    for (size_t i = 0; i < signed_len; i = test_sample_next(i, 0, signed_len, signed_len / 7)) {
        uint8_t *at = i < q.msg_len ? ev.p + 1 + 2 + hcl.len + 2 + 2 + i
                                    : ev.p + 1 + 2 + hcl.len + 2 + quoted.len + 2 + 6 + (i - q.msg_len);
        *at ^= 0x01;
        bad += ms_az_verify_checks(&p, ev.p, ev.len, NULL, 0, NULL, 0, NULL, 0, &ch) == MS_OK;
        bad += ch.result[MS_AZ_CHECK_QUOTE_FORMAT] == MS_OK &&
               ch.result[MS_AZ_CHECK_QUOTE_SIGNATURE] != MS_ERR_AZ_QUOTE_SIGNATURE;
        *at ^= 0x01;
    }
    CHECK(bad == 0);
    EVP_PKEY_free(ak);
    ms_buf_free(&real);
    ms_buf_free(&ev);
    ms_buf_free(&sig);
    ms_buf_free(&quoted);
    ms_buf_free(&hcl);
    ms_buf_free(&var);
    ms_buf_free(&pem);
    ms_buf_free(&qb);
}

int main(void)
{
    RUN(test_world_verifies);
    RUN(test_binding_and_pins);
    RUN(test_keys_and_types);
    RUN(test_truncation);
    RUN(test_bundle_caps);
    RUN(test_tdx_bundle_caps);
    RUN(test_empty_selection);
    RUN(test_policy_section);
    RUN(test_flip_every_byte);
    RUN(test_real_snp_hcl);
    RUN(test_real_quote);
    az_fx_keys_free();
    snp_fx_keys_free();
    return TEST_SUMMARY();
}

/* az-snp-vtpm and az-tdx-vtpm verifiers: the checks of docs/attest-azure.md §4, in order, one error each. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "secure/attest/az.h"
#include "secure/attest/tpm2_bundle.h"

#define ALL_PCRS ((1u << MS_TPM2_NUM_PCRS) - 1u)

/* --- the quote's signature by HCLAkPub ---------------------------------------------------- */

static EVP_PKEY *rsa_key(const ms_az_var_data *v)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = BN_bin2bn(v->ak_n, (int)v->ak_n_len, NULL);
    BIGNUM *e = BN_new();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (bld != NULL && n != NULL && e != NULL && ctx != NULL && BN_set_word(e, v->ak_e) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1) {
        params = OSSL_PARAM_BLD_to_param(bld);
    }
    if (params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

/*
 * The TPM's signature scheme decides the padding: RSASSA is PKCS#1 v1.5, RSAPSS is PSS
 * (salt as long as the hash, the TPM's choice; OpenSSL's auto length accepts it). SHA-256
 * only, and the signature is as long as the modulus.
 */
static ms_err quote_sig_verify(const ms_az_var_data *v, const TPMT_SIGNATURE *sig,
                               const uint8_t *msg, size_t len)
{
    const TPMS_SIGNATURE_RSA *r = &sig->signature.rsassa; /* rsapss has the same layout */
    int pss = sig->sigAlg == TPM2_ALG_RSAPSS;
    ENSURE(sig->sigAlg == TPM2_ALG_RSASSA || pss, MS_ERR_AZ_QUOTE_SIGNATURE);
    ENSURE(r->hash == TPM2_ALG_SHA256 && r->sig.size == v->ak_n_len, MS_ERR_AZ_QUOTE_SIGNATURE);
    EVP_PKEY *pkey = rsa_key(v);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = pkey != NULL && m != NULL &&
             EVP_DigestVerifyInit(m, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
             (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1)) &&
             EVP_DigestVerify(m, r->sig.buffer, r->sig.size, msg, len) == 1;
    EVP_MD_CTX_free(m);
    EVP_PKEY_free(pkey);
    if (!ok) {
        ERR_clear_error(); /* leave no stale error for the next OpenSSL user (TLS) */
    }
    return ok ? MS_OK : MS_ERR_AZ_QUOTE_SIGNATURE;
}

/* --- the checks --------------------------------------------------------------------------- */

typedef struct az_parts {
    uint32_t report_type; /* what the evidence type needs; 0: the HCL report's own */
    const uint8_t *tdx;   /* az-tdx-vtpm: a tdx bundle (NULL: none, TDX and TD_MATCH skipped) */
    size_t tdx_len;
    const uint8_t *hcl;
    size_t hcl_len;
    const uint8_t *quoted, *sig, *values; /* quoted NULL: no quote */
    size_t quoted_len, sig_len, values_len;
    const uint8_t *vcek, *ask;
    size_t vcek_len, ask_len;
} az_parts;

static void record(ms_az_checks *out, ms_az_check id, ms_err e)
{
    out->ran[id] = 1;
    out->result[id] = e;
}

/* SNP: the SEV-SNP verifier on the hardware report, as an SNP bundle with the VCEK / ASK. */
static ms_err check_snp(const ms_az_policy *policy, const az_parts *p, int expect,
                        ms_az_checks *out)
{
    ms_buf sb;
    ms_buf_init(&sb, MS_SNP_MAX_BUNDLE);
    ms_err e = ms_snp_bundle_encode(out->hcl.hw, p->vcek, p->vcek_len, p->ask, p->ask_len, &sb);
    if (e == MS_OK) {
        e = ms_snp_verify_checks(&policy->snp, sb.p, sb.len, NULL, expect, &out->snp);
    } else {
        e = MS_ERR_SNP_FORMAT; /* a certificate over its cap */
    }
    ms_buf_free(&sb);
    return e;
}

static ms_err check_user_data(const ms_az_var_data *v, const uint8_t *binding)
{
    ENSURE(v->has_user_data && ms_ct_equal(v->user_data, binding, MS_AZ_USER_DATA_LEN),
           MS_ERR_AZ_USER_DATA);
    return MS_OK;
}

/* TD_MATCH: every field of the quote's TD body is the HCL report's TD report's. */
static ms_err check_td_match(const ms_az_td_report *r, const ms_tdx_td_report *q)
{
    uint8_t seam_attr[8];
    for (size_t i = 0; i < sizeof seam_attr; i++) {
        seam_attr[i] = (uint8_t)(r->seam_attributes >> (8 * i)); /* little-endian, as quoted */
    }
    int same = ms_ct_equal(r->tee_tcb_svn, q->tee_tcb_svn, sizeof q->tee_tcb_svn) &&
               ms_ct_equal(r->mrseam, q->mrseam, sizeof q->mrseam) &&
               ms_ct_equal(r->mrsignerseam, q->mrsignerseam, sizeof q->mrsignerseam) &&
               ms_ct_equal(seam_attr, q->seam_attributes, sizeof seam_attr) &&
               r->td_attributes == q->td_attributes && r->xfam == q->xfam &&
               ms_ct_equal(r->mrtd, q->mrtd, sizeof q->mrtd) &&
               ms_ct_equal(r->mrconfigid, q->mrconfigid, sizeof q->mrconfigid) &&
               ms_ct_equal(r->mrowner, q->mrowner, sizeof q->mrowner) &&
               ms_ct_equal(r->mrownerconfig, q->mrownerconfig, sizeof q->mrownerconfig) &&
               ms_ct_equal(r->rtmr, q->rtmr, sizeof q->rtmr) &&
               ms_ct_equal(r->report_data, q->report_data, sizeof q->report_data);
    return same ? MS_OK : MS_ERR_AZ_TD_MISMATCH;
}

ms_err ms_az_td_match(const ms_az_td_report *r, const ms_tdx_td_report *q)
{
    return check_td_match(r, q);
}

/* The TDX checks the strict verifier needs to have run: all but the unpinned TD fields and
   REPORT_DATA (Azure's REPORTDATA is TD_MATCH's and VAR_DATA_HASH's). */
static ms_err tdx_all_ran(const ms_tdx_checks *t)
{
    for (int i = MS_TDX_CHECK_FORMAT; i <= MS_TDX_CHECK_MRTD; i++) {
        ENSURE(t->ran[i], MS_ERR_ATTEST_REJECTED);
    }
    return MS_OK;
}

/* TDX: the DCAP verifier on the quote (no binding), then the quote's body against the TD. */
static void run_tdx(const ms_az_policy *policy, const az_parts *p, int expect, int strict,
                    ms_az_checks *out)
{
    int tdx_expect = expect ? MS_TDX_EXPECT_PINS | MS_TDX_EXPECT_REQUIRED : 0;
    ms_err e = ms_tdx_verify_checks(&policy->tdx, p->tdx, p->tdx_len, 1, NULL, tdx_expect,
                                    &out->tdx);
    record(out, MS_AZ_CHECK_TDX, e == MS_OK && strict ? tdx_all_ran(&out->tdx) : e);
    if (out->tdx.have_quote && out->have_td) {
        record(out, MS_AZ_CHECK_TD_MATCH, check_td_match(&out->td, &out->tdx.quote.td));
    }
}

/* REPORT_TYPE: the type the evidence needs; a TD report must also decode. */
static ms_err check_report_type(const az_parts *p, ms_az_checks *out)
{
    uint32_t want = p->report_type != 0 ? p->report_type : out->hcl.report_type;
    ENSURE(out->hcl.report_type == want, MS_ERR_AZ_REPORT_TYPE);
    if (want == MS_AZ_REPORT_TDX) {
        TRY(ms_az_td_report_decode(out->hcl.hw, &out->td));
        out->have_td = 1;
    }
    return MS_OK;
}

/* The hardware report and the variable data it binds. */
static void run_hcl(const ms_az_policy *policy, const az_parts *p, const uint8_t *binding,
                    int expect, int strict, ms_az_checks *out)
{
    record(out, MS_AZ_CHECK_REPORT_TYPE, check_report_type(p, out));
    if (out->hcl.report_type == MS_AZ_REPORT_TDX && !out->have_td) {
        /* shown by the offline tool even when another type was needed */
        out->have_td = ms_az_td_report_decode(out->hcl.hw, &out->td) == MS_OK;
    }
    int snp = out->result[MS_AZ_CHECK_REPORT_TYPE] == MS_OK &&
              out->hcl.report_type == MS_AZ_REPORT_SNP;
    if (snp && p->vcek != NULL) {
        record(out, MS_AZ_CHECK_SNP, check_snp(policy, p, expect, out));
    } else if (out->have_td && p->tdx != NULL) {
        run_tdx(policy, p, expect, strict, out);
    }
    record(out, MS_AZ_CHECK_VAR_DATA_HASH, ms_az_hcl_check_var_data_hash(&out->hcl));
    ms_err e = ms_az_var_data_parse(out->hcl.var_data, out->hcl.var_data_len, &out->var);
    record(out, MS_AZ_CHECK_VAR_DATA, e);
    out->have_var = e == MS_OK;
    if (out->have_var && binding != NULL) {
        record(out, MS_AZ_CHECK_USER_DATA, check_user_data(&out->var, binding));
    }
}

/* PCR_SELECT: the policy's selection, or without pins any canonical, non-empty selection. */
static ms_err check_select(uint32_t mask, const ms_az_policy *policy, int expect)
{
    if (expect) {
        ENSURE(mask == policy->pcrs.pcr_mask, MS_ERR_TPM_PCR_SELECT);
    }
    ENSURE(mask != 0 && (mask & ~ALL_PCRS) == 0, MS_ERR_TPM_PCR_SELECT);
    return MS_OK;
}

static void describe(const ms_tpm2_bundle *b, uint32_t mask, ms_tpm2_policy *q)
{
    q->pcr_mask = mask & ALL_PCRS;
    if (b->n_pcr != ms_tpm2_popcount(q->pcr_mask)) {
        return; /* values do not line up with the selection: show none */
    }
    size_t k = 0;
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (q->pcr_mask & (1u << i)) {
            memcpy(q->pcr_values[i], b->pcr_values + k++ * MS_TPM2_DIGEST_LEN, MS_TPM2_DIGEST_LEN);
        }
    }
}

/* The vTPM quote: signed by HCLAkPub, over B[0..32), over the policy's PCRs. */
static void run_quote(const ms_az_policy *policy, const az_parts *p, const uint8_t *binding,
                      int expect, ms_az_checks *out)
{
    ms_tpm2_bundle b; /* ~4 KiB of TPM structures, nothing secret */
    ms_err e = ms_tpm2_quote_parts_parse(p->quoted, p->quoted_len, p->sig, p->sig_len, p->values,
                                         p->values_len, &b);
    record(out, MS_AZ_CHECK_QUOTE_FORMAT, e);
    if (e != MS_OK) {
        return;
    }
    const TPMS_ATTEST *a = &b.attest;
    uint32_t mask = ms_tpm2_selection_mask(&a->attested.quote.pcrSelect);
    out->have_quote = 1;
    describe(&b, mask, &out->quoted);
    if (out->have_var) {
        record(out, MS_AZ_CHECK_QUOTE_SIGNATURE,
               quote_sig_verify(&out->var, &b.sig, b.attest_bytes, b.attest_len));
    }
    record(out, MS_AZ_CHECK_QUOTE_MAGIC, a->magic == TPM2_GENERATED_VALUE ? MS_OK : MS_ERR_TPM_MAGIC);
    record(out, MS_AZ_CHECK_QUOTE_TYPE, a->type == TPM2_ST_ATTEST_QUOTE ? MS_OK : MS_ERR_TPM_TYPE);
    if (binding != NULL) {
        record(out, MS_AZ_CHECK_NONCE, ms_tpm2_check_nonce(a, binding));
    }
    record(out, MS_AZ_CHECK_PCR_SELECT, check_select(mask, policy, expect));
    record(out, MS_AZ_CHECK_PCR_DIGEST, ms_tpm2_check_digest(&b, mask & ALL_PCRS));
    if (expect && out->result[MS_AZ_CHECK_PCR_SELECT] == MS_OK &&
        b.n_pcr == ms_tpm2_popcount(policy->pcrs.pcr_mask)) {
        record(out, MS_AZ_CHECK_PCR_VALUE, ms_tpm2_check_values(&b, &policy->pcrs));
    }
}

static ms_err first_failure(const ms_az_checks *out)
{
    for (int i = 0; i < MS_AZ_CHECK_COUNT; i++) {
        if (out->ran[i] && out->result[i] != MS_OK) {
            return out->result[i];
        }
    }
    return MS_OK;
}

static ms_err run(const ms_az_policy *policy, const az_parts *p, const uint8_t *binding,
                  int expect, int strict, ms_az_checks *out)
{
    ms_err e = ms_az_hcl_decode(p->hcl, p->hcl_len, &out->hcl);
    record(out, MS_AZ_CHECK_HCL_FORMAT, e);
    if (e != MS_OK) {
        return e;
    }
    out->have_hcl = 1;
    run_hcl(policy, p, binding, expect, strict, out);
    if (p->quoted != NULL) {
        run_quote(policy, p, binding, expect, out);
    }
    return first_failure(out);
}

static int policy_pcrs_valid(const ms_tpm2_policy *p)
{
    return p->pcr_mask != 0 && (p->pcr_mask & ~ALL_PCRS) == 0;
}

/* A bundle of either format: the first byte says which (0x01 SNP, 0x02 TDX). */
static ms_err from_bundle(const uint8_t *ev, size_t len, az_parts *p, ms_az_checks *out)
{
    ms_az_tdx_bundle t;
    ms_az_bundle *b = &t.vtpm;
    int tdx = len > 0 && ev != NULL && ev[0] == MS_AZ_TDX_BUNDLE_FORMAT;
    ms_err e = tdx ? ms_az_tdx_bundle_decode(ev, len, &t) : ms_az_bundle_decode(ev, len, b);
    if (!tdx) {
        t.tdx = NULL;
        t.tdx_len = 0;
    }
    record(out, MS_AZ_CHECK_BUNDLE, e);
    *p = (az_parts){.report_type = tdx ? MS_AZ_REPORT_TDX : MS_AZ_REPORT_SNP, .tdx = t.tdx,
                    .tdx_len = t.tdx_len, .hcl = b->hcl, .hcl_len = b->hcl_len,
                    .quoted = b->quoted, .quoted_len = b->quoted_len, .sig = b->sig,
                    .sig_len = b->sig_len, .values = b->values, .values_len = b->values_len,
                    .vcek = b->vcek, .vcek_len = b->vcek_len, .ask = b->ask,
                    .ask_len = b->ask_len};
    return e;
}

/* The strict verifiers: a bundle of `format`, every check but `skip` run and passed. */
static ms_err verify_strict(const ms_az_policy *policy, const uint8_t *ev, size_t len,
                            const uint8_t *binding, uint8_t format, ms_az_check skip[2])
{
    ENSURE(len > 0 && ev != NULL && ev[0] == format, MS_ERR_AZ_BUNDLE);
    ms_az_checks *out = calloc(1, sizeof *out);
    ENSURE(out != NULL, MS_ERR_NOMEM);
    az_parts p;
    ms_err e = from_bundle(ev, len, &p, out);
    if (e == MS_OK) {
        e = run(policy, &p, binding, 1, 1, out);
    }
    /* Every check must have run: a skipped one is never a pass. */
    for (int i = 0; e == MS_OK && i < MS_AZ_CHECK_COUNT; i++) {
        e = out->ran[i] || i == (int)skip[0] || i == (int)skip[1] ? MS_OK
                                                                   : MS_ERR_ATTEST_REJECTED;
    }
    ms_wipe(out, sizeof *out);
    free(out);
    return e;
}

ms_err ms_az_snp_verify(const ms_az_policy *policy, const uint8_t *ev, size_t len,
                        const uint8_t binding[static MS_BINDING_LEN])
{
    ENSURE(policy != NULL && binding != NULL && policy->snp.ark_der != NULL &&
               policy_pcrs_valid(&policy->pcrs),
           MS_ERR_ARG);
    ms_az_check skip[2] = {MS_AZ_CHECK_TDX, MS_AZ_CHECK_TD_MATCH};
    return verify_strict(policy, ev, len, binding, MS_AZ_BUNDLE_FORMAT, skip);
}

ms_err ms_az_tdx_verify(const ms_az_policy *policy, const uint8_t *ev, size_t len,
                        const uint8_t binding[static MS_BINDING_LEN])
{
    ENSURE(policy != NULL && binding != NULL && policy->tdx.root_der != NULL &&
               policy->tdx.have_mrtd && policy_pcrs_valid(&policy->pcrs),
           MS_ERR_ARG);
    ms_az_check skip[2] = {MS_AZ_CHECK_SNP, MS_AZ_CHECK_SNP};
    return verify_strict(policy, ev, len, binding, MS_AZ_TDX_BUNDLE_FORMAT, skip);
}

ms_err ms_az_verify_checks(const ms_az_policy *policy, const uint8_t *ev, size_t len,
                           const uint8_t *vcek, size_t vcek_len, const uint8_t *ask,
                           size_t ask_len, const uint8_t *binding, int expect, ms_az_checks *out)
{
    ENSURE(out != NULL && policy != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(!expect || policy_pcrs_valid(&policy->pcrs), MS_ERR_ARG);
    az_parts p = {.hcl = ev, .hcl_len = len, .vcek = vcek, .vcek_len = vcek_len,
                  .ask = ask, .ask_len = ask_len};
    if (!ms_az_hcl_is(ev, len)) {
        TRY(from_bundle(ev, len, &p, out));
    }
    return run(policy, &p, binding, expect, 0, out);
}

const char *ms_az_check_name(ms_az_check c)
{
    static const char *const names[MS_AZ_CHECK_COUNT] = {
        [MS_AZ_CHECK_BUNDLE] = "bundle",
        [MS_AZ_CHECK_HCL_FORMAT] = "hcl-format",
        [MS_AZ_CHECK_REPORT_TYPE] = "report-type",
        [MS_AZ_CHECK_SNP] = "sev-snp",
        [MS_AZ_CHECK_TDX] = "tdx",
        [MS_AZ_CHECK_TD_MATCH] = "td-match",
        [MS_AZ_CHECK_VAR_DATA_HASH] = "var-data-hash",
        [MS_AZ_CHECK_VAR_DATA] = "var-data",
        [MS_AZ_CHECK_USER_DATA] = "user-data",
        [MS_AZ_CHECK_QUOTE_FORMAT] = "quote-format",
        [MS_AZ_CHECK_QUOTE_SIGNATURE] = "quote-signature",
        [MS_AZ_CHECK_QUOTE_MAGIC] = "quote-magic",
        [MS_AZ_CHECK_QUOTE_TYPE] = "quote-type",
        [MS_AZ_CHECK_NONCE] = "nonce",
        [MS_AZ_CHECK_PCR_SELECT] = "pcr-select",
        [MS_AZ_CHECK_PCR_DIGEST] = "pcr-digest",
        [MS_AZ_CHECK_PCR_VALUE] = "pcr-values",
    };
    return (unsigned)c < MS_AZ_CHECK_COUNT ? names[c] : "unknown";
}

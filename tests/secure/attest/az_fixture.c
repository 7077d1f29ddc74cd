/* Azure fixture: HCL reports and vTPM quotes made at test time (see az_fixture.h). */
#include "tests/secure/attest/az_fixture.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "common/codec.h"
#include "common/digest.h"
#include "common/json.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_esys.h"
#include "tests/quick.h"

static EVP_PKEY *keys[2];

EVP_PKEY *az_fx_ak_key(int which)
{
    if (keys[which] == NULL) {
        keys[which] = snp_fx_rsa_gen(2048); /* in quick mode by the openssl program */
    }
    return keys[which];
}

void az_fx_keys_free(void)
{
    for (int i = 0; i < 2; i++) {
        EVP_PKEY_free(keys[i]);
        keys[i] = NULL;
    }
}

int az_fx_b64url_n(EVP_PKEY *rsa, ms_buf *out)
{
    BIGNUM *n = NULL;
    uint8_t bin[512];
    ms_buf b64;
    int ok = EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n) == 1;
    int len = ok ? BN_bn2bin(n, bin) : 0;
    BN_free(n);
    ms_buf_init(&b64, 2048);
    ok = ok && len > 0 && ms_base64_encode_buf(bin, (size_t)len, &b64) == MS_OK;
    for (size_t i = 0; ok && i < b64.len; i++) {
        char c = (char)b64.p[i];
        if (c == '=') {
            break;
        }
        c = c == '+' ? '-' : c == '/' ? '_' : c;
        ok = ms_buf_append_u8(out, (uint8_t)c) == MS_OK;
    }
    ms_buf_free(&b64);
    return ok;
}

static int put(ms_buf *out, const char *s)
{
    return ms_buf_append(out, s, strlen(s)) == MS_OK;
}

static int jwk(ms_buf *out, const char *kid, EVP_PKEY *key)
{
    return put(out, "{\"kid\":\"") && put(out, kid) &&
           put(out, "\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"") &&
           az_fx_b64url_n(key, out) && put(out, "\"}");
}

int az_fx_var_data(ms_buf *out, EVP_PKEY *ak, EVP_PKEY *ek, const uint8_t *user_data,
                   EVP_PKEY *second_ak)
{
    char hex[MS_HEX_BUF_LEN(MS_AZ_USER_DATA_LEN)];
    size_t n;
    int ok = put(out, "{\"keys\":[") && jwk(out, "HCLAkPub", ak);
    ok = ok && (ek == NULL || (put(out, ",") && jwk(out, "HCLEkPub", ek)));
    ok = ok && (second_ak == NULL || (put(out, ",") && jwk(out, "HCLAkPub", second_ak)));
    ok = ok && put(out, "],\"vm-configuration\":{\"console-enabled\":true,\"secure-boot\":true,"
                        "\"tpm-enabled\":true,\"vmUniqueId\":\"00000000-TEST\"}");
    if (ok && user_data != NULL) {
        ok = ms_hex_encode(user_data, MS_AZ_USER_DATA_LEN, hex, sizeof hex, &n) == MS_OK &&
             put(out, ",\"user-data\":\"") && put(out, hex) && put(out, "\"");
    }
    return ok && put(out, "}");
}

static int put_u32le(ms_buf *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return ms_buf_append(out, b, 4) == MS_OK;
}

int az_fx_hcl_frame(ms_buf *out, const uint8_t hw[static MS_AZ_HCL_HW_LEN], uint32_t report_type,
                    const uint8_t *var, size_t var_len, size_t nv_size)
{
    static const uint8_t zero[12];
    uint32_t data_size = MS_AZ_HCL_REQ_HEADER_LEN + (uint32_t)var_len;
    size_t start = out->len;
    int ok = put_u32le(out, MS_AZ_HCL_MAGIC) && put_u32le(out, 1) &&
             put_u32le(out, MS_AZ_HCL_HEADER_LEN + MS_AZ_HCL_HW_LEN + data_size) &&
             put_u32le(out, MS_AZ_HCL_REQUEST_AK_CERT) && put_u32le(out, 0) &&
             ms_buf_append(out, zero, sizeof zero) == MS_OK &&
             ms_buf_append(out, hw, MS_AZ_HCL_HW_LEN) == MS_OK && put_u32le(out, data_size) &&
             put_u32le(out, MS_AZ_HCL_REQ_VERSION) && put_u32le(out, report_type) &&
             put_u32le(out, MS_AZ_HASH_SHA256) && put_u32le(out, (uint32_t)var_len) &&
             ms_buf_append(out, var, var_len) == MS_OK;
    while (ok && out->len - start < nv_size) {
        ok = ms_buf_append_u8(out, 0) == MS_OK;
    }
    return ok;
}

int az_fx_snp_hcl(ms_buf *out, EVP_PKEY *vcek_key, const snp_fx_report_opts *o,
                  const uint8_t *var, size_t var_len)
{
    snp_fx_report_opts ro;
    uint8_t report[MS_SNP_REPORT_LEN];
    if (o != NULL) {
        ro = *o;
    } else {
        snp_fx_report_opts_default(&ro);
    }
    memset(ro.report_data, 0, sizeof ro.report_data);
    ms_sha256(var, var_len, ro.report_data);
    return snp_fx_report_make(report, &ro, vcek_key) &&
           az_fx_hcl_frame(out, report, MS_AZ_REPORT_SNP, var, var_len, 2048);
}

static int rsa_sign(EVP_PKEY *key, int pss, const uint8_t *msg, size_t len, uint8_t *sig,
                    size_t *sig_len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = m != NULL && EVP_DigestSignInit(m, &pctx, EVP_sha256(), NULL, key) == 1 &&
             (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1)) &&
             EVP_DigestSign(m, sig, sig_len, msg, len) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

int az_fx_quote(ms_buf *quoted, ms_buf *sig, EVP_PKEY *ak, const uint8_t nonce[32],
                uint32_t mask, const uint8_t *values, size_t n, int pss)
{
    TPMS_ATTEST a;
    TPMT_SIGNATURE s;
    uint8_t q[sizeof(TPMS_ATTEST)], sb[sizeof(TPMT_SIGNATURE)];
    size_t qn = 0, sn = 0, slen = sizeof s.signature.rsassa.sig.buffer;
    memset(&a, 0, sizeof a);
    memset(&s, 0, sizeof s);
    a.magic = TPM2_GENERATED_VALUE;
    a.type = TPM2_ST_ATTEST_QUOTE;
    a.qualifiedSigner.size = MS_TPM2_NAME_LEN;
    memset(a.qualifiedSigner.name, 0x0b, MS_TPM2_NAME_LEN);
    a.extraData.size = 32;
    memcpy(a.extraData.buffer, nonce, 32);
    a.clockInfo.clock = 123456;
    a.clockInfo.safe = 1;
    a.firmwareVersion = 0x2020;
    ms_tpm2_selection_of(mask, &a.attested.quote.pcrSelect);
    a.attested.quote.pcrDigest.size = 32;
    ms_sha256(values, n * 32, a.attested.quote.pcrDigest.buffer);
    if (Tss2_MU_TPMS_ATTEST_Marshal(&a, q, sizeof q, &qn) != TSS2_RC_SUCCESS) {
        return 0;
    }
    s.sigAlg = pss ? TPM2_ALG_RSAPSS : TPM2_ALG_RSASSA;
    s.signature.rsassa.hash = TPM2_ALG_SHA256;
    if (!rsa_sign(ak, pss, q, qn, s.signature.rsassa.sig.buffer, &slen)) {
        return 0;
    }
    s.signature.rsassa.sig.size = (UINT16)slen;
    return Tss2_MU_TPMT_SIGNATURE_Marshal(&s, sb, sizeof sb, &sn) == TSS2_RC_SUCCESS &&
           ms_buf_append_u16be(quoted, (uint16_t)qn) == MS_OK &&
           ms_buf_append(quoted, q, qn) == MS_OK && ms_buf_append(sig, sb, sn) == MS_OK;
}

EVP_PKEY *az_fx_rsa_from_tpm(const TPMT_PUBLIC *pub)
{
    EVP_PKEY *k = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL), *e = BN_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (bld && n && e && ctx && BN_set_word(e, 65537) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        k = NULL;
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return k;
}

/* The AK already persisted at MS_AZ_AK_HANDLE, or a new one made and persisted there. */
static int ak_public(tpm2_conn *c, TPMT_PUBLIC *pub)
{
    ESYS_TR h = ESYS_TR_NONE, persistent = ESYS_TR_NONE;
    TPM2B_PUBLIC *have = NULL, tmpl;
    if (Esys_TR_FromTPMPublic(c->esys, MS_AZ_AK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              &h) == TSS2_RC_SUCCESS) {
        int ok = Esys_ReadPublic(c->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &have, NULL,
                                 NULL) == TSS2_RC_SUCCESS;
        if (ok) {
            *pub = have->publicArea;
        }
        Esys_Free(have);
        (void)Esys_TR_Close(c->esys, &h);
        return ok;
    }
    tpm2_template_rsa_ak(&tmpl);
    h = tpm2_primary(c, ESYS_TR_RH_OWNER, &tmpl, pub);
    if (h == ESYS_TR_NONE) {
        return 0;
    }
    TSS2_RC rc = Esys_EvictControl(c->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, MS_AZ_AK_HANDLE, &persistent);
    tpm2_flush(c, h);
    if (rc == TSS2_RC_SUCCESS) {
        (void)Esys_TR_Close(c->esys, &persistent);
    }
    return rc == TSS2_RC_SUCCESS;
}

int az_fx_provision(tpm2_conn *c, EVP_PKEY **ak)
{
    static const uint8_t zero[2048];
    TPMT_PUBLIC pub;
    ESYS_TR nv = ESYS_TR_NONE;
    *ak = NULL;
    if (!ak_public(c, &pub) || pub.type != TPM2_ALG_RSA) {
        return 0;
    }
    if (Esys_TR_FromTPMPublic(c->esys, MS_AZ_NV_HCL_REPORT, ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, &nv) == TSS2_RC_SUCCESS) {
        (void)Esys_TR_Close(c->esys, &nv);
    } else if (ms_tpm2_esys_nv_write(c->esys, MS_AZ_NV_HCL_REPORT, zero, sizeof zero, 1) != MS_OK) {
        return 0;
    }
    *ak = az_fx_rsa_from_tpm(&pub);
    return *ak != NULL;
}

int az_fx_world_bundle(az_fx_world *w)
{
    ms_az_bundle b = {.hcl = w->hcl.p, .hcl_len = w->hcl.len, .quoted = w->quoted.p,
                      .quoted_len = w->quoted.len, .sig = w->sig.p, .sig_len = w->sig.len,
                      .values = &w->values[0][0], .values_len = sizeof w->values,
                      .vcek = w->chain.vcek.p, .vcek_len = w->chain.vcek.len,
                      .ask = w->chain.ask.p, .ask_len = w->chain.ask.len};
    ms_buf_clear(&w->ev);
    return ms_az_bundle_encode(&b, &w->ev) == MS_OK;
}

int az_fx_world_make(az_fx_world *w)
{
    snp_fx_vcek_opts vo;
    snp_fx_report_opts ro;
    memset(w, 0, sizeof *w);
    ms_buf_init(&w->var, MS_AZ_MAX_VAR_DATA);
    ms_buf_init(&w->hcl, MS_AZ_MAX_HCL);
    ms_buf_init(&w->quoted, 4096);
    ms_buf_init(&w->sig, 4096);
    ms_buf_init(&w->ev, MS_AZ_MAX_BUNDLE);
    snp_fx_vcek_opts_default(&vo);
    snp_fx_report_opts_default(&ro);
    for (size_t i = 0; i < MS_BINDING_LEN; i++) {
        w->binding[i] = (uint8_t)(0xb0 ^ i);
    }
    memset(w->values[0], 0x00, 32);
    memset(w->values[1], 0x77, 32);
    int ok = snp_fx_chain_make(&w->chain, snp_fx_rsa_key(0), snp_fx_rsa_key(1),
                               snp_fx_p384_key(0), &vo, 48, 0) &&
             az_fx_var_data(&w->var, az_fx_ak_key(0), az_fx_ak_key(1), w->binding, NULL) &&
             az_fx_snp_hcl(&w->hcl, w->chain.vcek_key, &ro, w->var.p, w->var.len) &&
             az_fx_quote(&w->quoted, &w->sig, az_fx_ak_key(0), w->binding, 0x81u,
                         &w->values[0][0], 2, 0) &&
             az_fx_world_bundle(w);
    w->policy.snp.ark_der = w->chain.ark.p;
    w->policy.snp.ark_len = w->chain.ark.len;
    memcpy(w->policy.snp.measurement, ro.measurement, MS_SNP_MEASUREMENT_LEN);
    w->policy.snp.min_tcb = (ms_snp_tcb){.bootloader = 3, .snp = 8, .microcode = 115};
    w->policy.pcrs.pcr_mask = 0x81u;
    memcpy(w->policy.pcrs.pcr_values[0], w->values[0], 32);
    memcpy(w->policy.pcrs.pcr_values[7], w->values[1], 32);
    return ok;
}

void az_fx_world_free(az_fx_world *w)
{
    snp_fx_chain_free(&w->chain);
    ms_buf_free(&w->var);
    ms_buf_free(&w->hcl);
    ms_buf_free(&w->quoted);
    ms_buf_free(&w->sig);
    ms_buf_free(&w->ev);
}

static int err_in(ms_err e, const ms_err *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (e == set[i]) {
            return 1;
        }
    }
    return 0;
}

int az_fx_flip_range(uint8_t *ev, size_t from, size_t to, size_t stride, size_t samples,
                     az_fx_verify_fn verify, const void *ctx, const ms_err *want, size_t n)
{
    int bad = 0;
    size_t count = from < to ? (to - from + stride - 1) / stride : 0;
    for (size_t k = 0; k < count; k = test_sample_next(k, 0, count, samples)) {
        size_t i = from + k * stride;
        ev[i] ^= 0x01;
        ms_err e = verify(ctx);
        if (!err_in(e, want, n)) {
            fprintf(stderr, "byte %zu (range %zu..%zu): %s\n", i, from, to, ms_err_name(e));
            bad++;
        }
        ev[i] ^= 0x01;
    }
    return bad;
}

/* --- az-tdx-vtpm ------------------------------------------------------------------------- */

static uint8_t *put_bytes(uint8_t *p, const void *v, size_t n)
{
    memcpy(p, v, n);
    return p + n;
}

static uint8_t *put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        *p++ = (uint8_t)(v >> (8 * i));
    }
    return p;
}

void az_fx_td_report(uint8_t hw[static MS_AZ_HCL_HW_LEN], const ms_tdx_td_report *td)
{
    memset(hw, 0, MS_AZ_HCL_HW_LEN);
    /* REPORTMACSTRUCT (256): type 0x81, subtype 0, version 0, 13 reserved, CPUSVN,
       TEE_TCB_INFO_HASH, TEE_INFO_HASH, REPORTDATA, 32 reserved, MAC */
    hw[0] = 0x81;
    memset(hw + 16, 0x0c, 16);
    memset(hw + 32, 0x1e, 96);
    memcpy(hw + 128, td->report_data, 64);
    memset(hw + 224, 0x4d, 32);
    /* TEE_TCB_INFO (239 + 17 reserved): VALID, TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, ATTRIBUTES */
    uint8_t *p = hw + 256;
    memset(p, 0xff, 8);
    p = put_bytes(p + 8, td->tee_tcb_svn, 16);
    p = put_bytes(p, td->mrseam, MS_TDX_MEAS_LEN);
    p = put_bytes(p, td->mrsignerseam, MS_TDX_MEAS_LEN);
    (void)put_bytes(p, td->seam_attributes, 8);
    /* TDINFO (512) */
    p = put_u64le(hw + 512, td->td_attributes);
    p = put_u64le(p, td->xfam);
    p = put_bytes(p, td->mrtd, MS_TDX_MEAS_LEN);
    p = put_bytes(p, td->mrconfigid, MS_TDX_MEAS_LEN);
    p = put_bytes(p, td->mrowner, MS_TDX_MEAS_LEN);
    p = put_bytes(p, td->mrownerconfig, MS_TDX_MEAS_LEN);
    (void)put_bytes(p, td->rtmr, sizeof td->rtmr);
}

int az_fx_tdx_world_bundle(az_fx_tdx_world *w, int hcl_too)
{
    ms_tdx_quote q;
    uint8_t hw[MS_AZ_HCL_HW_LEN];
    if (hcl_too) {
        if (ms_tdx_quote_decode(w->quote.p, w->quote.len, &q) != MS_OK) {
            return 0;
        }
        az_fx_td_report(hw, &q.td);
        ms_buf_clear(&w->az.hcl);
        if (!az_fx_hcl_frame(&w->az.hcl, hw, MS_AZ_REPORT_TDX, w->az.var.p, w->az.var.len,
                             2048)) {
            return 0;
        }
    }
    ms_buf_clear(&w->tdx_ev);
    ms_buf_clear(&w->az.ev);
    ms_az_tdx_bundle b = {.vtpm = {.hcl = w->az.hcl.p, .hcl_len = w->az.hcl.len,
                                   .quoted = w->az.quoted.p, .quoted_len = w->az.quoted.len,
                                   .sig = w->az.sig.p, .sig_len = w->az.sig.len,
                                   .values = &w->az.values[0][0],
                                   .values_len = sizeof w->az.values}};
    if (!tdx_fx_platform_bundle(&w->tdx, w->quote.p, w->quote.len, &w->tdx_ev)) {
        return 0;
    }
    b.tdx = w->tdx_ev.p;
    b.tdx_len = w->tdx_ev.len;
    return ms_az_tdx_bundle_encode(&b, &w->az.ev) == MS_OK;
}

int az_fx_tdx_world_make(az_fx_tdx_world *w)
{
    tdx_fx_layout layout;
    memset(w, 0, sizeof *w);
    ms_buf_init(&w->tdx_ev, MS_MAX_EVIDENCE);
    if (!az_fx_world_make(&w->az) || !tdx_fx_platform_init(&w->tdx)) {
        return 0;
    }
    ms_sha256(w->az.var.p, w->az.var.len, w->tdx.qo.report_data); /* the rest stays zero */
    ms_tdx_policy *p = &w->az.policy.tdx;
    p->root_der = w->tdx.chain.root.p;
    p->root_len = w->tdx.chain.root.len;
    p->have_mrtd = 1;
    memcpy(p->mrtd, w->tdx.qo.mrtd, sizeof p->mrtd);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        p->have_rtmr[i] = 1;
        memcpy(p->rtmr[i], w->tdx.qo.rtmr[i], MS_TDX_MEAS_LEN);
    }
    return tdx_fx_quote_make(&w->quote, &w->tdx.chain, &w->tdx.qo, &layout) &&
           az_fx_tdx_world_bundle(w, 1);
}

void az_fx_tdx_world_free(az_fx_tdx_world *w)
{
    az_fx_world_free(&w->az);
    tdx_fx_platform_free(&w->tdx);
    ms_buf_free(&w->quote);
    ms_buf_free(&w->tdx_ev);
}

/* A quote of a TD whose fields are qo's (plat's chain signs it), decoded. */
static int tdx_quote_of(const tdx_fx_platform *plat, const tdx_fx_quote_opts *qo, ms_buf *quote,
                        ms_tdx_quote *q)
{
    tdx_fx_layout layout;
    return tdx_fx_quote_make(quote, &plat->chain, qo, &layout) &&
           ms_tdx_quote_decode(quote->p, quote->len, q) == MS_OK;
}

int az_fx_tdx_hcl(ms_buf *out, const tdx_fx_platform *plat, const uint8_t *var, size_t var_len)
{
    tdx_fx_quote_opts qo = plat->qo;
    uint8_t hw[MS_AZ_HCL_HW_LEN];
    ms_buf quote;
    ms_tdx_quote q;
    memset(qo.report_data, 0, sizeof qo.report_data);
    ms_sha256(var, var_len, qo.report_data);
    int ok = tdx_quote_of(plat, &qo, &quote, &q); /* the TD body as a quote lays it out */
    if (ok) {
        az_fx_td_report(hw, &q.td);
    }
    ms_buf_free(&quote);
    return ok && az_fx_hcl_frame(out, hw, MS_AZ_REPORT_TDX, var, var_len, 2048);
}

/* The TD report of a quote service request {"report": base64url(1024 bytes)}. */
static int td_of_request(const char *req, size_t len, ms_az_td_report *td)
{
    ms_json_doc *doc = NULL;
    ms_json_val root;
    const char *s = NULL;
    size_t n = 0;
    uint8_t hw[MS_AZ_HCL_HW_LEN] = {0};
    ms_buf raw;
    ms_buf_init(&raw, MS_AZ_TD_REPORT_LEN);
    int ok = ms_json_parse(req, len, &doc) == MS_OK &&
             ms_json_as_obj(ms_json_root(doc), &root) == MS_OK &&
             ms_json_get_str(root, "report", 4096, &s, &n) == MS_OK &&
             ms_base64url_decode_buf(s, n, &raw) == MS_OK && raw.len == MS_AZ_TD_REPORT_LEN;
    if (ok) {
        memcpy(hw, raw.p, MS_AZ_TD_REPORT_LEN);
        ok = ms_az_td_report_decode(hw, td) == MS_OK;
    }
    ms_json_free(doc);
    ms_buf_free(&raw);
    return ok;
}

int az_fx_tdquote_answer(const tdx_fx_platform *plat, const char *req, size_t len, int other_td,
                         ms_buf *out)
{
    ms_az_td_report td;
    tdx_fx_quote_opts qo = plat->qo;
    ms_tdx_quote q;
    ms_buf quote;
    if (!td_of_request(req, len, &td)) {
        return 0;
    }
    qo.td_attributes = td.td_attributes;
    memcpy(qo.tee_tcb_svn, td.tee_tcb_svn, sizeof qo.tee_tcb_svn);
    memcpy(qo.mrtd, td.mrtd, sizeof qo.mrtd);
    memcpy(qo.rtmr, td.rtmr, sizeof qo.rtmr);
    memcpy(qo.mrconfigid, td.mrconfigid, sizeof qo.mrconfigid);
    memcpy(qo.mrowner, td.mrowner, sizeof qo.mrowner);
    memcpy(qo.report_data, td.report_data, sizeof qo.report_data);
    qo.mrtd[0] ^= (uint8_t)(other_td != 0);
    size_t start = out->len;
    int ok = tdx_quote_of(plat, &qo, &quote, &q) &&
             ms_buf_append_str(out, "{\"quote\":\"") == MS_OK &&
             ms_base64url_encode_buf(quote.p, quote.len, out) == MS_OK &&
             ms_buf_append_str(out, "\"}") == MS_OK;
    ms_buf_free(&quote);
    if (!ok && ms_buf_shrink(out, out->len - start) != MS_OK) {
        ok = 0;
    }
    return ok;
}

/* az-snp-vtpm and az-tdx-vtpm producer (docs/attest-azure.md §5): NV write of B, NV read of the HCL report, quote; TDX: the TD quote. */
#include "secure/attest/az_produce.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "common/check.h"
#include "common/log.h"
#include "secure/attest/az_tdquote.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_esys.h"

struct ms_az_producer {
    pthread_mutex_t lock; /* held around every use of esys */
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR ak;
    uint32_t mask;
    TPML_PCR_SELECTION sel;
    ms_buf vcek, ask;
    ms_az_tdquote *tdq;         /* az-tdx-vtpm: Azure's TD quote service; NULL: az-snp-vtpm */
    ms_tdx_producer_cfg tdx;    /* az-tdx-vtpm: the collateral served with each quote */
    void (*after_write)(void *ctx);
    void *after_ctx;
};

/* The paravisor's AK: a persistent key, never flushed by us. */
static ms_err open_ak(struct ms_az_producer *p)
{
    TPM2B_PUBLIC *pub = NULL;
    TSS2_RC rc = Esys_TR_FromTPMPublic(p->esys, MS_AZ_AK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, &p->ak);
    if (rc != TSS2_RC_SUCCESS) {
        p->ak = ESYS_TR_NONE;
        return ms_tpm2_tss_fail("Esys_TR_FromTPMPublic (AK 0x81000003)", rc);
    }
    rc = Esys_ReadPublic(p->esys, p->ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
    int rsa = rc == TSS2_RC_SUCCESS && pub->publicArea.type == TPM2_ALG_RSA &&
              (pub->publicArea.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT);
    Esys_Free(pub);
    if (!rsa) {
        ms_log(MS_LOG_ERROR, "az", "the key at 0x81000003 is not an RSA signing key");
        return MS_ERR_TPM_DEVICE;
    }
    return MS_OK;
}

ms_err ms_az_producer_new(struct ms_az_producer **out, const ms_az_producer_cfg *cfg)
{
    *out = NULL;
    ENSURE(cfg != NULL && cfg->pcr_mask != 0 && (cfg->pcr_mask >> MS_TPM2_NUM_PCRS) == 0,
           MS_ERR_ARG);
    ENSURE(cfg->tdx ? cfg->vcek == NULL && cfg->ask == NULL
                    : cfg->vcek != NULL && cfg->vcek_len >= 1 && cfg->vcek_len <= MS_SNP_MAX_CERT &&
                          cfg->ask_len <= MS_SNP_MAX_CERT &&
                          (cfg->ask == NULL) == (cfg->ask_len == 0),
           MS_ERR_ARG);
    struct ms_az_producer *p = calloc(1, sizeof *p);
    ENSURE(p != NULL, MS_ERR_NOMEM);
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return MS_ERR_NOMEM;
    }
    p->ak = ESYS_TR_NONE;
    p->mask = cfg->pcr_mask;
    ms_tpm2_selection_of(cfg->pcr_mask, &p->sel);
    ms_buf_init(&p->vcek, MS_SNP_MAX_CERT);
    ms_buf_init(&p->ask, MS_SNP_MAX_CERT);
    p->tdx = (ms_tdx_producer_cfg){.collateral = cfg->collateral, .grace_s = cfg->grace_s};
    ms_err err = cfg->tdx ? ms_az_tdquote_new(cfg->tdquote_url ? cfg->tdquote_url
                                                               : MS_AZ_TDQUOTE_URL,
                                              &p->tdq)
                          : ms_buf_append(&p->vcek, cfg->vcek, cfg->vcek_len);
    if (err == MS_OK && cfg->ask != NULL) {
        err = ms_buf_append(&p->ask, cfg->ask, cfg->ask_len);
    }
    if (err == MS_OK) {
        err = ms_tpm2_esys_open(cfg->tcti, &p->tcti, &p->esys);
    }
    if (err == MS_OK) {
        err = open_ak(p);
    }
    if (err != MS_OK) {
        ms_az_producer_free(p);
        return err;
    }
    *out = p;
    return MS_OK;
}

void ms_az_producer_free(struct ms_az_producer *p)
{
    if (p == NULL) {
        return;
    }
    if (p->ak != ESYS_TR_NONE) {
        (void)Esys_TR_Close(p->esys, &p->ak); /* our handle only: the key stays persistent */
    }
    ms_tpm2_esys_close(&p->tcti, &p->esys);
    ms_az_tdquote_free(p->tdq);
    ms_buf_free(&p->vcek);
    ms_buf_free(&p->ask);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void ms_az_producer_set_after_write(struct ms_az_producer *p, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&p->lock);
    p->after_write = fn;
    p->after_ctx = ctx;
    pthread_mutex_unlock(&p->lock);
}

/* Steps 1 and 2: B in, the report it caused out; the report must carry B. */
static ms_err hcl_for(struct ms_az_producer *p, const uint8_t *binding, ms_buf *hcl)
{
    ms_az_hcl h;
    ms_az_var_data *v = calloc(1, sizeof *v);
    ENSURE(v != NULL, MS_ERR_NOMEM);
    ms_err err = ms_tpm2_esys_nv_write(p->esys, MS_AZ_NV_USER_DATA, binding, MS_BINDING_LEN, 1);
    if (err == MS_OK && p->after_write != NULL) {
        p->after_write(p->after_ctx);
    }
    if (err == MS_OK) {
        err = ms_tpm2_esys_nv_read(p->esys, MS_AZ_NV_HCL_REPORT, MS_AZ_MAX_HCL, hcl);
    }
    if (err == MS_OK) {
        err = ms_az_hcl_decode(hcl->p, hcl->len, &h);
    }
    if (err == MS_OK) {
        err = ms_az_var_data_parse(h.var_data, h.var_data_len, v);
    }
    if (err == MS_OK && !(v->has_user_data && ms_ct_equal(v->user_data, binding, MS_BINDING_LEN))) {
        ms_log(MS_LOG_ERROR, "az", "the HCL report does not carry the user data just written "
                                   "to 0x01400002 (is this an Azure confidential VM?)");
        err = MS_ERR_AZ_USER_DATA;
    }
    free(v);
    return err;
}

/* Step 3, once: *stale when a PCR changed between the quote and the read. */
static ms_err quote_once(struct ms_az_producer *p, const uint8_t *binding, ms_buf *q, ms_buf *s,
                         uint8_t *values, size_t *n, int *stale)
{
    ms_err err = MS_OK;
    TPM2B_DATA nonce = {.size = MS_TPM2_NONCE_LEN};
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own */
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *sig = NULL;
    uint8_t qb[sizeof(TPM2B_ATTEST)], sb[sizeof(TPMT_SIGNATURE)];
    size_t qn = 0, sn = 0;
    int same = 0;
    memcpy(nonce.buffer, binding, MS_TPM2_NONCE_LEN);
    TSS2_RC rc = Esys_Quote(p->esys, p->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce,
                            &scheme, &p->sel, &quoted, &sig);
    ENSURE_OUT(rc == TSS2_RC_SUCCESS, ms_tpm2_tss_fail("Esys_Quote (AK 0x81000003)", rc));
    TRY_OUT(ms_tpm2_esys_read_pcrs(p->esys, p->mask, values, n));
    TRY_OUT(ms_tpm2_values_quoted(quoted, values, *n, &same));
    *stale = !same;
    if (same) {
        ENSURE_OUT(Tss2_MU_TPM2B_ATTEST_Marshal(quoted, qb, sizeof qb, &qn) == TSS2_RC_SUCCESS &&
                       Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sb, sizeof sb, &sn) == TSS2_RC_SUCCESS,
                   MS_ERR_INTERNAL);
        TRY_OUT(ms_buf_append(q, qb, qn));
        TRY_OUT(ms_buf_append(s, sb, sn));
    }
out:
    Esys_Free(quoted);
    Esys_Free(sig);
    return err;
}

/* az-tdx-vtpm: the HCL report's TD report quoted by Azure's service, with the collateral. */
static ms_err tdx_part(struct ms_az_producer *p, const ms_buf *hcl, ms_buf *out)
{
    ms_err err = MS_OK;
    ms_az_hcl h;
    ms_buf quote;
    size_t qlen = 0, pad = 0;
    ms_az_td_report *td = calloc(1, sizeof *td);
    ms_tdx_quote *q = calloc(1, sizeof *q);
    ms_buf_init(&quote, MS_TDX_MAX_QUOTE);
    ENSURE_OUT(td != NULL && q != NULL, MS_ERR_NOMEM);
    TRY_OUT(ms_az_hcl_decode(hcl->p, hcl->len, &h));
    ENSURE_OUT(h.report_type == MS_AZ_REPORT_TDX, MS_ERR_AZ_REPORT_TYPE);
    TRY_OUT(ms_az_td_report_decode(h.hw, td));
    TRY_OUT(ms_az_tdquote_get(p->tdq, h.hw, &quote));
    TRY_OUT(ms_tdx_quote_unpad(quote.p, quote.len, &qlen, &pad));
    TRY_OUT(ms_tdx_quote_decode(quote.p, qlen, q));
    if (ms_az_td_match(td, &q->td) != MS_OK) {
        ms_log(MS_LOG_ERROR, "az", "the quote service's quote is not of the HCL report's TD "
                                   "report");
        err = MS_ERR_AZ_TD_MISMATCH;
        goto out;
    }
    err = ms_tdx_evidence_from_blob(&p->tdx, quote.p, quote.len, td->report_data, out);
out:
    ms_buf_free(&quote);
    free(td);
    free(q);
    return err;
}

static ms_err make(struct ms_az_producer *p, const uint8_t *binding, ms_buf *hcl, ms_buf *q,
                   ms_buf *s, ms_buf *out)
{
    uint8_t values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n = 0;
    int stale = 1;
    ms_buf tdx;
    TRY(hcl_for(p, binding, hcl));
    for (unsigned i = 0; i < MS_TPM2_QUOTE_TRIES && stale; i++) {
        TRY(quote_once(p, binding, q, s, values, &n, &stale));
    }
    if (stale) {
        ms_log(MS_LOG_WARN, "az", "PCRs changed during each of %u quotes", MS_TPM2_QUOTE_TRIES);
        return MS_ERR_ATTEST_UNAVAILABLE;
    }
    if (p->tdq != NULL) {
        ms_buf_init(&tdx, MS_AZ_MAX_TDX_PART);
        ms_err err = tdx_part(p, hcl, &tdx);
        if (err == MS_OK) {
            ms_az_tdx_bundle t = {.vtpm = {.hcl = hcl->p, .hcl_len = hcl->len, .quoted = q->p,
                                           .quoted_len = q->len, .sig = s->p, .sig_len = s->len,
                                           .values = values,
                                           .values_len = n * MS_TPM2_DIGEST_LEN},
                                  .tdx = tdx.p, .tdx_len = tdx.len};
            err = ms_az_tdx_bundle_encode(&t, out);
        }
        ms_buf_free(&tdx);
        return err;
    }
    ms_az_bundle b = {.hcl = hcl->p, .hcl_len = hcl->len, .quoted = q->p, .quoted_len = q->len,
                      .sig = s->p, .sig_len = s->len, .values = values,
                      .values_len = n * MS_TPM2_DIGEST_LEN, .vcek = p->vcek.p,
                      .vcek_len = p->vcek.len, .ask = p->ask.len ? p->ask.p : NULL,
                      .ask_len = p->ask.len};
    return ms_az_bundle_encode(&b, out);
}

ms_err ms_az_producer_evidence(struct ms_az_producer *p, const uint8_t binding[static MS_BINDING_LEN],
                               ms_buf *out)
{
    ms_buf hcl, q, s;
    ms_buf_init(&hcl, MS_AZ_MAX_HCL);
    ms_buf_init(&q, MS_AZ_MAX_QUOTED);
    ms_buf_init(&s, MS_AZ_MAX_SIG);
    size_t start = out->len;
    pthread_mutex_lock(&p->lock);
    ms_err err = make(p, binding, &hcl, &q, &s, out);
    pthread_mutex_unlock(&p->lock);
    if (err != MS_OK && out->len > start && ms_buf_shrink(out, out->len - start) != MS_OK) {
        err = MS_ERR_INTERNAL; /* cannot happen: start <= len */
    }
    ms_buf_free(&hcl);
    ms_buf_free(&q);
    ms_buf_free(&s);
    return err;
}

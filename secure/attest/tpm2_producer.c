/* TPM quote producer (docs/attest-tpm2.md §4): one AK, quotes whose PCR values are the quoted ones. */
#include "secure/attest/tpm2_producer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "common/check.h"
#include "common/log.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_ek.h"
#include "secure/attest/tpm2_esys.h"

struct ms_tpm2_producer {
    pthread_mutex_t lock; /* held around every use of esys */
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR ak;
    TPMT_PUBLIC ak_public;
    uint8_t ak_name[MS_TPM2_NAME_LEN];
    uint32_t mask;
    TPML_PCR_SELECTION sel;
    uint8_t *ak_cert; /* DER or NULL, owned */
    size_t ak_cert_len;
    void (*between)(void *ctx); /* tests only: see ms_tpm2_producer_set_between */
    void *between_ctx;
};

/* The name we compute from the public area must be the one the TPM reported. */
static ms_err set_name(struct ms_tpm2_producer *p)
{
    uint8_t pub[sizeof(TPMT_PUBLIC)];
    size_t n;
    TPM2B_NAME *tpm_name = NULL;
    TRY(ms_tpm2_public_marshal(&p->ak_public, pub, &n));
    ms_tpm2_name_of(pub, n, p->ak_name);
    TSS2_RC rc = Esys_TR_GetName(p->esys, p->ak, &tpm_name);
    int same = rc == TSS2_RC_SUCCESS && tpm_name->size == MS_TPM2_NAME_LEN &&
               ms_ct_equal(tpm_name->name, p->ak_name, MS_TPM2_NAME_LEN);
    Esys_Free(tpm_name);
    return same ? MS_OK : ms_tpm2_tss_fail("AK name check (Esys_TR_GetName)", rc);
}

static ms_err create_ak(struct ms_tpm2_producer *p, uint8_t hierarchy)
{
    TPM2B_SENSITIVE_CREATE sensitive = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION creation_pcrs = {0};
    TPM2B_PUBLIC tmpl, *out_pub = NULL;
    ms_tpm2_ak_template(&tmpl);
    ESYS_TR h = hierarchy == MS_TPM2_HIERARCHY_OWNER ? ESYS_TR_RH_OWNER : ESYS_TR_RH_ENDORSEMENT;
    TSS2_RC rc = Esys_CreatePrimary(p->esys, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                    &sensitive, &tmpl, &outside, &creation_pcrs, &p->ak, &out_pub,
                                    NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        p->ak = ESYS_TR_NONE;
        return ms_tpm2_tss_fail("Esys_CreatePrimary (AK)", rc);
    }
    p->ak_public = out_pub->publicArea;
    Esys_Free(out_pub);
    ENSURE(ms_tpm2_ak_check(&p->ak_public) == MS_OK, MS_ERR_TPM_DEVICE);
    return set_name(p);
}

/* A configured AK certificate must be one of this AK (its chain is the client's to check). */
static ms_err set_cert(struct ms_tpm2_producer *p, const uint8_t *cert, size_t len)
{
    if (cert == NULL) {
        return MS_OK;
    }
    ENSURE(len > 0 && len <= MS_TPM2_MAX_AK_CERT, MS_ERR_TPM_AK_CERT);
    ENSURE(ms_tpm2_ak_cert_key_is(cert, len, &p->ak_public), MS_ERR_TPM_AK_CERT);
    p->ak_cert = malloc(len);
    ENSURE(p->ak_cert != NULL, MS_ERR_NOMEM);
    memcpy(p->ak_cert, cert, len);
    p->ak_cert_len = len;
    return MS_OK;
}

ms_err ms_tpm2_producer_new(struct ms_tpm2_producer **out, const ms_tpm2_producer_cfg *cfg)
{
    *out = NULL;
    ENSURE(cfg != NULL && cfg->pcr_mask != 0 && (cfg->pcr_mask >> MS_TPM2_NUM_PCRS) == 0 &&
               cfg->hierarchy <= MS_TPM2_HIERARCHY_OWNER,
           MS_ERR_ARG);
    struct ms_tpm2_producer *p = calloc(1, sizeof *p);
    ENSURE(p != NULL, MS_ERR_NOMEM);
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return MS_ERR_NOMEM;
    }
    p->ak = ESYS_TR_NONE;
    p->mask = cfg->pcr_mask;
    ms_tpm2_selection_of(cfg->pcr_mask, &p->sel);
    ms_err err = ms_tpm2_esys_open(cfg->tcti, &p->tcti, &p->esys);
    if (err == MS_OK) {
        err = create_ak(p, cfg->hierarchy);
    }
    if (err == MS_OK) {
        err = set_cert(p, cfg->ak_cert, cfg->ak_cert_len);
    }
    if (err != MS_OK) {
        ms_tpm2_producer_free(p);
        return err;
    }
    *out = p;
    return MS_OK;
}

void ms_tpm2_producer_free(struct ms_tpm2_producer *p)
{
    if (p == NULL) {
        return;
    }
    if (p->ak != ESYS_TR_NONE) {
        TSS2_RC rc = Esys_FlushContext(p->esys, p->ak);
        if (rc != TSS2_RC_SUCCESS) {
            (void)ms_tpm2_tss_fail("Esys_FlushContext (AK)", rc);
        }
    }
    ms_tpm2_esys_close(&p->tcti, &p->esys);
    pthread_mutex_destroy(&p->lock);
    free(p->ak_cert);
    free(p);
}

void ms_tpm2_producer_ak_name(const struct ms_tpm2_producer *p, uint8_t name[static MS_TPM2_NAME_LEN])
{
    memcpy(name, p->ak_name, MS_TPM2_NAME_LEN); /* set once in _new: no lock needed */
}

/* *same = the values hash to the quote's pcrDigest, i.e. they are the quoted ones. */
static ms_err values_quoted(const TPM2B_ATTEST *quoted, const uint8_t *values, size_t n, int *same)
{
    TPMS_ATTEST a;
    size_t off = 0;
    uint8_t h[MS_TPM2_DIGEST_LEN];
    *same = 0;
    TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(quoted->attestationData, quoted->size, &off, &a);
    ENSURE(rc == TSS2_RC_SUCCESS && off == quoted->size && a.type == TPM2_ST_ATTEST_QUOTE,
           ms_tpm2_tss_fail("unmarshalling the TPM's quote", rc));
    TRY(ms_tpm2_sha256(values, n * MS_TPM2_DIGEST_LEN, h));
    const TPM2B_DIGEST *d = &a.attested.quote.pcrDigest;
    *same = d->size == MS_TPM2_DIGEST_LEN && ms_ct_equal(d->buffer, h, MS_TPM2_DIGEST_LEN);
    return MS_OK;
}

/* One TPM2_Quote, then the values; *stale when a PCR changed in between (nothing appended). */
static ms_err quote_once(struct ms_tpm2_producer *p, const uint8_t *binding, ms_buf *out,
                         int *stale)
{
    ms_err err = MS_OK;
    TPM2B_DATA nonce = {.size = MS_TPM2_NONCE_LEN};
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own: ECDSA-SHA256 */
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *sig = NULL;
    uint8_t values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n = 0;
    int same = 0;
    memcpy(nonce.buffer, binding, MS_TPM2_NONCE_LEN);
    TSS2_RC rc = Esys_Quote(p->esys, p->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce,
                            &scheme, &p->sel, &quoted, &sig);
    ENSURE_OUT(rc == TSS2_RC_SUCCESS, ms_tpm2_tss_fail("Esys_Quote", rc));
    if (p->between != NULL) {
        p->between(p->between_ctx);
    }
    TRY_OUT(ms_tpm2_esys_read_pcrs(p->esys, p->mask, values, &n));
    TRY_OUT(values_quoted(quoted, values, n, &same));
    *stale = !same;
    if (!same) {
        ms_log(MS_LOG_DEBUG, "tpm2", "a PCR changed between TPM2_Quote and TPM2_PCR_Read: quoting again");
    } else {
        size_t start = out->len;
        TRY_OUT(ms_tpm2_bundle_write(quoted, sig, &p->ak_public, values, n, out));
        if (p->ak_cert != NULL && (err = ms_tpm2_bundle_add_cert(out, start, p->ak_cert,
                                                                 p->ak_cert_len)) != MS_OK &&
            ms_buf_shrink(out, out->len - start) != MS_OK) {
            err = MS_ERR_INTERNAL; /* cannot happen: start <= len; on error `out` is unchanged */
        }
    }
out:
    Esys_Free(quoted);
    Esys_Free(sig);
    return err;
}

ms_err ms_tpm2_producer_quote(struct ms_tpm2_producer *p, const uint8_t binding[static MS_BINDING_LEN],
                              ms_buf *out)
{
    ms_err err = MS_ERR_ATTEST_UNAVAILABLE;
    int stale = 1;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < MS_TPM2_QUOTE_TRIES && stale; i++) {
        err = quote_once(p, binding, out, &stale);
        if (err != MS_OK) {
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (err == MS_OK && stale) {
        ms_log(MS_LOG_WARN, "tpm2", "PCRs changed during each of %u quotes", MS_TPM2_QUOTE_TRIES);
        err = MS_ERR_ATTEST_UNAVAILABLE;
    }
    return err;
}

void ms_tpm2_producer_set_between(struct ms_tpm2_producer *p, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&p->lock);
    p->between = fn;
    p->between_ctx = ctx;
    pthread_mutex_unlock(&p->lock);
}

ms_err ms_tpm2_producer_policy(struct ms_tpm2_producer *p, ms_tpm2_policy *out)
{
    static const uint8_t zero[MS_BINDING_LEN];
    ms_buf b;
    memset(out, 0, sizeof *out);
    ms_buf_init(&b, MS_TPM2_MAX_BUNDLE);
    ms_err err = ms_tpm2_producer_quote(p, zero, &b);
    if (err == MS_OK) {
        err = ms_tpm2_bundle_policy(b.p, b.len, out);
    }
    ms_buf_free(&b);
    return err;
}

ms_err ms_tpm2_values_quoted(const TPM2B_ATTEST *quoted, const uint8_t *values, size_t n, int *same)
{
    return values_quoted(quoted, values, n, same);
}

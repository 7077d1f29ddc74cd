/* ESAPI pieces of the producer: connection, AK template, PCR reads. */
#include "secure/attest/tpm2_esys.h"

#include <string.h>
#include <tss2/tss2_tctildr.h>

#include "common/check.h"
#include "common/log.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_producer.h"

ms_err ms_tpm2_tss_fail(const char *what, TSS2_RC rc)
{
    ms_log(MS_LOG_ERROR, "tpm2", "%s failed: TSS2_RC 0x%x", what, (unsigned)rc);
    return MS_ERR_TPM_DEVICE;
}

void ms_tpm2_ak_template(TPM2B_PUBLIC *out)
{
    static const char unique[] = MS_TPM2_AK_UNIQUE;
    memset(out, 0, sizeof *out);
    TPMT_PUBLIC *t = &out->publicArea;
    t->type = TPM2_ALG_ECC;
    t->nameAlg = TPM2_ALG_SHA256;
    t->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    TPMS_ECC_PARMS *e = &t->parameters.eccDetail;
    e->symmetric.algorithm = TPM2_ALG_NULL;
    e->scheme.scheme = TPM2_ALG_ECDSA;
    e->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    e->curveID = TPM2_ECC_NIST_P256;
    e->kdf.scheme = TPM2_ALG_NULL;
    _Static_assert(sizeof unique - 1 <= sizeof t->unique.ecc.x.buffer, "unique fits");
    t->unique.ecc.x.size = sizeof unique - 1;
    memcpy(t->unique.ecc.x.buffer, unique, sizeof unique - 1);
}

ms_err ms_tpm2_esys_open(const char *tcti_conf, TSS2_TCTI_CONTEXT **tcti, ESYS_CONTEXT **esys)
{
    *tcti = NULL;
    *esys = NULL;
    const char *conf = tcti_conf != NULL ? tcti_conf : MS_TPM2_DEFAULT_TCTI;
    TSS2_RC rc = Tss2_TctiLdr_Initialize(conf, tcti);
    if (rc != TSS2_RC_SUCCESS) {
        *tcti = NULL;
        return ms_tpm2_tss_fail("Tss2_TctiLdr_Initialize", rc);
    }
    rc = Esys_Initialize(esys, *tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        *esys = NULL;
        Tss2_TctiLdr_Finalize(tcti);
        return ms_tpm2_tss_fail("Esys_Initialize", rc);
    }
    return MS_OK;
}

void ms_tpm2_esys_close(TSS2_TCTI_CONTEXT **tcti, ESYS_CONTEXT **esys)
{
    if (*esys != NULL) {
        Esys_Finalize(esys);
    }
    if (*tcti != NULL) {
        Tss2_TctiLdr_Finalize(tcti);
    }
    *esys = NULL;
    *tcti = NULL;
}

/* Store what one TPM2_PCR_Read returned; `got` must be a non-empty part of `left`. */
static ms_err take(const TPML_PCR_SELECTION *sel, const TPML_DIGEST *dig, uint32_t *left,
                   uint8_t by_pcr[MS_TPM2_NUM_PCRS][MS_TPM2_DIGEST_LEN])
{
    uint32_t got = ms_tpm2_selection_mask(sel);
    ENSURE(got != 0 && (got & ~*left) == 0 && dig->count == ms_tpm2_popcount(got),
           MS_ERR_TPM_DEVICE);
    uint32_t k = 0;
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (got & (1u << i)) {
            ENSURE(dig->digests[k].size == MS_TPM2_DIGEST_LEN, MS_ERR_TPM_DEVICE);
            memcpy(by_pcr[i], dig->digests[k++].buffer, MS_TPM2_DIGEST_LEN);
        }
    }
    *left &= ~got;
    return MS_OK;
}

static ms_err read_some(ESYS_CONTEXT *esys, uint32_t *left,
                        uint8_t by_pcr[MS_TPM2_NUM_PCRS][MS_TPM2_DIGEST_LEN])
{
    TPML_PCR_SELECTION want, *sel = NULL;
    TPML_DIGEST *dig = NULL;
    UINT32 counter;
    ms_tpm2_selection_of(*left, &want);
    TSS2_RC rc = Esys_PCR_Read(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &counter,
                               &sel, &dig);
    ms_err err = MS_OK;
    if (rc != TSS2_RC_SUCCESS) {
        err = ms_tpm2_tss_fail("Esys_PCR_Read", rc);
    } else if ((err = take(sel, dig, left, by_pcr)) != MS_OK) {
        ms_log(MS_LOG_ERROR, "tpm2", "TPM2_PCR_Read returned other PCRs than asked for "
                                     "(is the SHA-256 bank allocated?)");
    }
    Esys_Free(sel);
    Esys_Free(dig);
    return err;
}

ms_err ms_tpm2_esys_read_pcrs(ESYS_CONTEXT *esys, uint32_t mask,
                              uint8_t values[static MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN],
                              size_t *n)
{
    uint8_t by_pcr[MS_TPM2_NUM_PCRS][MS_TPM2_DIGEST_LEN];
    *n = 0;
    ENSURE(mask != 0 && (mask >> MS_TPM2_NUM_PCRS) == 0, MS_ERR_ARG);
    for (uint32_t left = mask; left != 0;) {
        TRY(read_some(esys, &left, by_pcr));
    }
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (mask & (1u << i)) {
            memcpy(values + *n * MS_TPM2_DIGEST_LEN, by_pcr[i], MS_TPM2_DIGEST_LEN);
            ++*n;
        }
    }
    return MS_OK;
}

ms_err ms_tpm2_esys_primary(ESYS_CONTEXT *esys, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl,
                            ESYS_TR *h, TPMT_PUBLIC *pub)
{
    TPM2B_SENSITIVE_CREATE sensitive = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION none = {0};
    TPM2B_PUBLIC *out = NULL;
    *h = ESYS_TR_NONE;
    TSS2_RC rc = Esys_CreatePrimary(esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                    &sensitive, tmpl, &outside, &none, h, &out, NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        *h = ESYS_TR_NONE;
        return ms_tpm2_tss_fail("Esys_CreatePrimary", rc);
    }
    *pub = out->publicArea;
    Esys_Free(out);
    return MS_OK;
}

#define NV_CHUNK 512u /* every TPM's TPM2_PT_NV_BUFFER_MAX is at least this */

static ms_err nv_chunks(ESYS_CONTEXT *esys, ESYS_TR nv, ESYS_TR auth, uint16_t size, ms_buf *out)
{
    for (uint16_t off = 0; off < size;) {
        uint16_t n = (unsigned)(size - off) < NV_CHUNK ? (uint16_t)(size - off) : (uint16_t)NV_CHUNK;
        TPM2B_MAX_NV_BUFFER *d = NULL;
        TSS2_RC rc = Esys_NV_Read(esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
                                  off, &d);
        ms_err e = rc != TSS2_RC_SUCCESS ? MS_ERR_TPM_DEVICE
                   : d->size != n        ? MS_ERR_TPM_DEVICE
                                         : ms_buf_append(out, d->buffer, n);
        Esys_Free(d);
        TRY(e);
        off = (uint16_t)(off + n);
    }
    return MS_OK;
}


/* --- NV indices (Azure's paravisor interface, az_produce.c) -------------------------------- */

static ms_err nv_define(ESYS_CONTEXT *esys, uint32_t index, size_t n, ESYS_TR *nv)
{
    TPM2B_AUTH auth = {0};
    TPM2B_NV_PUBLIC pub = {0};
    pub.nvPublic.nvIndex = index;
    pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
    pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE |
                              TPMA_NV_AUTHREAD;
    pub.nvPublic.dataSize = (UINT16)n;
    TSS2_RC rc = Esys_NV_DefineSpace(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &auth, &pub, nv);
    return rc == TSS2_RC_SUCCESS ? MS_OK : ms_tpm2_tss_fail("Esys_NV_DefineSpace", rc);
}

ms_err ms_tpm2_esys_nv_write(ESYS_CONTEXT *esys, uint32_t index, const uint8_t *p, size_t n,
                             int define)
{
    ESYS_TR nv = ESYS_TR_NONE;
    ENSURE(n >= 1 && n <= UINT16_MAX, MS_ERR_ARG);
    TSS2_RC rc = Esys_TR_FromTPMPublic(esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS) {
        ENSURE(define, ms_tpm2_tss_fail("Esys_TR_FromTPMPublic (NV index)", rc));
        TRY(nv_define(esys, index, n, &nv));
    }
    ms_err err = MS_OK;
    for (size_t off = 0; off < n && err == MS_OK; off += NV_CHUNK) {
        TPM2B_MAX_NV_BUFFER d = {.size = (UINT16)(n - off < NV_CHUNK ? n - off : NV_CHUNK)};
        memcpy(d.buffer, p + off, d.size);
        rc = Esys_NV_Write(esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, &d, (UINT16)off);
        err = rc == TSS2_RC_SUCCESS ? MS_OK : ms_tpm2_tss_fail("Esys_NV_Write", rc);
    }
    (void)Esys_TR_Close(esys, &nv);
    return err;
}

ms_err ms_tpm2_esys_nv_read(ESYS_CONTEXT *esys, uint32_t index, size_t cap, ms_buf *out)
{
    ESYS_TR nv = ESYS_TR_NONE;
    TPM2B_NV_PUBLIC *pub = NULL;
    TSS2_RC rc = Esys_TR_FromTPMPublic(esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS) {
        return ms_tpm2_tss_fail("Esys_TR_FromTPMPublic (NV index)", rc);
    }
    ms_err err = MS_OK;
    rc = Esys_NV_ReadPublic(esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        err = ms_tpm2_tss_fail("Esys_NV_ReadPublic", rc);
    } else if (pub->nvPublic.dataSize > cap) {
        err = MS_ERR_CAP_EXCEEDED;
    } else {
        uint16_t size = pub->nvPublic.dataSize;
        ESYS_TR auth = (pub->nvPublic.attributes & TPMA_NV_AUTHREAD) ? nv : ESYS_TR_RH_OWNER;
        size_t start = out->len;
        err = nv_chunks(esys, nv, auth, size, out);
        if (err != MS_OK && ms_buf_shrink(out, out->len - start) == MS_OK) {
            ms_log(MS_LOG_ERROR, "tpm2", "TPM2_NV_Read of index 0x%08x failed", (unsigned)index);
        }
    }
    Esys_Free(pub);
    (void)Esys_TR_Close(esys, &nv);
    return err;
}

/* A policy session satisfying the EK's PolicySecret(TPM_RH_ENDORSEMENT). */
static ms_err ek_session(ESYS_CONTEXT *esys, ESYS_TR *s)
{
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
    TSS2_RC rc = Esys_StartAuthSession(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, s);
    if (rc != TSS2_RC_SUCCESS) {
        *s = ESYS_TR_NONE;
        return ms_tpm2_tss_fail("Esys_StartAuthSession", rc);
    }
    rc = Esys_PolicySecret(esys, ESYS_TR_RH_ENDORSEMENT, *s, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        (void)Esys_FlushContext(esys, *s);
        *s = ESYS_TR_NONE;
        return ms_tpm2_tss_fail("Esys_PolicySecret (endorsement)", rc);
    }
    return MS_OK;
}

ms_err ms_tpm2_esys_activate(ESYS_CONTEXT *esys, ESYS_TR ak, ESYS_TR ek, const TPM2B_ID_OBJECT *blob,
                             const TPM2B_ENCRYPTED_SECRET *secret, uint8_t cred[static 32],
                             size_t *n)
{
    ESYS_TR s;
    TPM2B_DIGEST *out = NULL;
    *n = 0;
    TRY(ek_session(esys, &s));
    TSS2_RC rc = Esys_ActivateCredential(esys, ak, ek, ESYS_TR_PASSWORD, s, ESYS_TR_NONE, blob,
                                         secret, &out);
    (void)Esys_FlushContext(esys, s); /* already gone when the command ended the session */
    ms_err err = MS_OK;
    if (rc != TSS2_RC_SUCCESS) {
        /* The TPM itself answered (layer 0): it refused this blob and seed, e.g.
         * TPM_RC_INTEGRITY for another name, a decryption error for another EK (libtpms
         * reports some as TPM_RC_FAILURE); the keys and the session were fine, since they
         * were made and accepted just before. Any other layer is the stack's or the link's. */
        ms_log(MS_LOG_ERROR, "tpm2", "TPM2_ActivateCredential failed: TSS2_RC 0x%x", (unsigned)rc);
        err = (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER ? MS_ERR_TPM_ACTIVATION
                                                             : MS_ERR_TPM_DEVICE;
    } else if (out->size == 0 || out->size > 32) {
        err = MS_ERR_TPM_ACTIVATION;
    } else {
        memcpy(cred, out->buffer, out->size);
        *n = out->size;
    }
    if (out != NULL) {
        ms_wipe(out, sizeof *out);
    }
    Esys_Free(out);
    return err;
}

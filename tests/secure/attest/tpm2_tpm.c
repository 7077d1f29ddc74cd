/* Test helper: ESAPI commands for attacks and PCR changes (see tpm2_tpm.h). */
#include "tests/secure/attest/tpm2_tpm.h"

#include <string.h>
#include <tss2/tss2_mu.h>

#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_esys.h"

#define SIGN_ATTRS                                                                                 \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |           \
     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT)

int tpm2_conn_open(tpm2_conn *c, const char *tcti)
{
    return ms_tpm2_esys_open(tcti, &c->tcti, &c->esys) == MS_OK ? 0 : -1;
}

void tpm2_conn_close(tpm2_conn *c)
{
    ms_tpm2_esys_close(&c->tcti, &c->esys);
}

void tpm2_template_rsa_ak(TPM2B_PUBLIC *out)
{
    memset(out, 0, sizeof *out);
    TPMT_PUBLIC *t = &out->publicArea;
    t->type = TPM2_ALG_RSA;
    t->nameAlg = TPM2_ALG_SHA256;
    t->objectAttributes = SIGN_ATTRS | TPMA_OBJECT_RESTRICTED;
    t->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    t->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    t->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    t->parameters.rsaDetail.keyBits = 2048;
}

void tpm2_template_unrestricted(TPM2B_PUBLIC *out)
{
    static const char unique[] = "tests: unrestricted signing key";
    ms_tpm2_ak_template(out); /* the AK's template ... */
    out->publicArea.objectAttributes = SIGN_ATTRS; /* ... without `restricted` */
    out->publicArea.unique.ecc.x.size = sizeof unique - 1;
    memcpy(out->publicArea.unique.ecc.x.buffer, unique, sizeof unique - 1);
}

ESYS_TR tpm2_primary(tpm2_conn *c, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl, TPMT_PUBLIC *pub)
{
    TPM2B_SENSITIVE_CREATE sensitive = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION none = {0};
    TPM2B_PUBLIC *out = NULL;
    ESYS_TR h = ESYS_TR_NONE;
    if (Esys_CreatePrimary(c->esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &sensitive, tmpl, &outside, &none, &h, &out, NULL, NULL,
                           NULL) != TSS2_RC_SUCCESS) {
        return ESYS_TR_NONE;
    }
    *pub = out->publicArea;
    Esys_Free(out);
    return h;
}

void tpm2_flush(tpm2_conn *c, ESYS_TR h)
{
    if (h != ESYS_TR_NONE) {
        (void)Esys_FlushContext(c->esys, h);
    }
}

static int bundle_of(tpm2_conn *c, const TPM2B_ATTEST *a, const TPMT_SIGNATURE *s,
                     const TPMT_PUBLIC *pub, uint32_t mask, ms_buf *out)
{
    uint8_t values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n;
    if (ms_tpm2_esys_read_pcrs(c->esys, mask, values, &n) != MS_OK) {
        return -1;
    }
    return ms_tpm2_bundle_write(a, s, pub, values, n, out) == MS_OK ? 0 : -1;
}

int tpm2_quote_bundle(tpm2_conn *c, ESYS_TR key, const TPMT_PUBLIC *pub, uint32_t mask,
                      const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    TPM2B_DATA nonce = {.size = MS_TPM2_NONCE_LEN};
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPML_PCR_SELECTION sel;
    TPM2B_ATTEST *a = NULL;
    TPMT_SIGNATURE *s = NULL;
    memcpy(nonce.buffer, binding, MS_TPM2_NONCE_LEN);
    ms_tpm2_selection_of(mask, &sel);
    int r = Esys_Quote(c->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce,
                       &scheme, &sel, &a, &s) == TSS2_RC_SUCCESS
                ? bundle_of(c, a, s, pub, mask, out)
                : -1;
    Esys_Free(a);
    Esys_Free(s);
    return r;
}

int tpm2_certify_bundle(tpm2_conn *c, ESYS_TR key, const TPMT_PUBLIC *pub, uint32_t mask,
                        const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    TPM2B_DATA nonce = {.size = MS_TPM2_NONCE_LEN};
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPM2B_ATTEST *a = NULL;
    TPMT_SIGNATURE *s = NULL;
    memcpy(nonce.buffer, binding, MS_TPM2_NONCE_LEN);
    int r = Esys_Certify(c->esys, key, key, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         &nonce, &scheme, &a, &s) == TSS2_RC_SUCCESS
                ? bundle_of(c, a, s, pub, mask, out)
                : -1;
    Esys_Free(a);
    Esys_Free(s);
    return r;
}

/* What TPM2_Quote would have signed, but marshalled by us. */
static int forge_attest(tpm2_conn *c, ESYS_TR key, uint32_t mask, const uint8_t *binding,
                        TPM2B_ATTEST *out)
{
    TPMS_ATTEST a;
    TPM2B_NAME *name = NULL;
    uint8_t values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n, off = 0;
    memset(&a, 0, sizeof a);
    a.magic = TPM2_GENERATED_VALUE;
    a.type = TPM2_ST_ATTEST_QUOTE;
    if (Esys_TR_GetName(c->esys, key, &name) != TSS2_RC_SUCCESS) {
        return -1;
    }
    a.qualifiedSigner = *name;
    Esys_Free(name);
    a.extraData.size = MS_TPM2_NONCE_LEN;
    memcpy(a.extraData.buffer, binding, MS_TPM2_NONCE_LEN);
    a.clockInfo.clock = 123456;
    a.clockInfo.safe = TPM2_YES;
    ms_tpm2_selection_of(mask, &a.attested.quote.pcrSelect);
    a.attested.quote.pcrDigest.size = MS_TPM2_DIGEST_LEN;
    if (ms_tpm2_esys_read_pcrs(c->esys, mask, values, &n) != MS_OK ||
        ms_tpm2_sha256(values, n * MS_TPM2_DIGEST_LEN, a.attested.quote.pcrDigest.buffer) != MS_OK ||
        Tss2_MU_TPMS_ATTEST_Marshal(&a, out->attestationData, sizeof out->attestationData,
                                    &off) != TSS2_RC_SUCCESS) {
        return -1;
    }
    out->size = (UINT16)off;
    return 0;
}

int tpm2_forged_bundle(tpm2_conn *c, ESYS_TR key, const TPMT_PUBLIC *pub, uint32_t mask,
                       const uint8_t binding[static MS_BINDING_LEN], ms_buf *out, TSS2_RC *rc)
{
    TPM2B_ATTEST a;
    TPM2B_DIGEST digest = {.size = MS_TPM2_DIGEST_LEN};
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_ECDSA};
    TPMT_TK_HASHCHECK ticket = {.tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL};
    TPMT_SIGNATURE *s = NULL;
    scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    *rc = TSS2_RC_SUCCESS;
    if (forge_attest(c, key, mask, binding, &a) != 0 ||
        ms_tpm2_sha256(a.attestationData, a.size, digest.buffer) != MS_OK) {
        return -1;
    }
    *rc = Esys_Sign(c->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &digest, &scheme,
                    &ticket, &s);
    int r = *rc == TSS2_RC_SUCCESS ? bundle_of(c, &a, s, pub, mask, out) : -1;
    Esys_Free(s);
    return r;
}

int tpm2_pcr_extend(tpm2_conn *c, unsigned pcr, uint8_t fill)
{
    TPML_DIGEST_VALUES d = {.count = 1};
    d.digests[0].hashAlg = TPM2_ALG_SHA256;
    memset(d.digests[0].digest.sha256, fill, MS_TPM2_DIGEST_LEN);
    return Esys_PCR_Extend(c->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, &d) == TSS2_RC_SUCCESS
               ? 0
               : -1;
}

int tpm2_pcr_reset(tpm2_conn *c, unsigned pcr)
{
    return Esys_PCR_Reset(c->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE) == TSS2_RC_SUCCESS
               ? 0
               : -1;
}

int tpm2_transient_count(tpm2_conn *c)
{
    TPMI_YES_NO more;
    TPMS_CAPABILITY_DATA *cap = NULL;
    /* 0x80000000 is TPM2_TRANSIENT_FIRST, whose tss2 macro shifts an int into its sign bit. */
    if (Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                           0x80000000u, TPM2_MAX_CAP_HANDLES, &more,
                           &cap) != TSS2_RC_SUCCESS) {
        return -1;
    }
    int n = (int)cap->data.handles.count;
    Esys_Free(cap);
    return n;
}

int tpm2_name(tpm2_conn *c, ESYS_TR h, uint8_t name[static 34])
{
    TPM2B_NAME *n = NULL;
    int ok = Esys_TR_GetName(c->esys, h, &n) == TSS2_RC_SUCCESS && n->size == 34;
    if (ok) {
        memcpy(name, n->name, 34);
    }
    Esys_Free(n);
    return ok ? 0 : -1;
}

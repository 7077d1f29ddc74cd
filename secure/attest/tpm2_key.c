/* The attestation key: what makes it an AK (check 8), and its signature with OpenSSL (check 10). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string.h>

#include "common/check.h"
#include "secure/attest/ecdsa.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_ek.h"

#define P256_COORD 32u
#define RSA_DEFAULT_EXPONENT 65537u

/*
 * restricted: the TPM signs only digests it computed itself, or digests of data that does
 * not start with TPM_GENERATED_VALUE, so a signature over data starting with it came from
 * TPM2_Quote/Certify/...; fixedTPM, fixedParent: the key never left this TPM;
 * sensitiveDataOrigin: the TPM made the private key, nobody imported it.
 */
static const TPMA_OBJECT AK_REQUIRED = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED |
                                       TPMA_OBJECT_SIGN_ENCRYPT;

static ms_err check_ecc(const TPMS_ECC_PARMS *p, const TPMS_ECC_POINT *q)
{
    ENSURE(p->symmetric.algorithm == TPM2_ALG_NULL && p->kdf.scheme == TPM2_ALG_NULL,
           MS_ERR_TPM_AK_ATTRS);
    ENSURE(p->scheme.scheme == TPM2_ALG_ECDSA &&
               p->scheme.details.ecdsa.hashAlg == TPM2_ALG_SHA256,
           MS_ERR_TPM_AK_ATTRS);
    ENSURE(p->curveID == TPM2_ECC_NIST_P256, MS_ERR_TPM_AK_ATTRS);
    ENSURE(q->x.size >= 1 && q->x.size <= P256_COORD && q->y.size >= 1 &&
               q->y.size <= P256_COORD,
           MS_ERR_TPM_AK_ATTRS);
    return MS_OK;
}

static ms_err check_rsa(const TPMS_RSA_PARMS *p, const TPM2B_PUBLIC_KEY_RSA *n)
{
    ENSURE(p->symmetric.algorithm == TPM2_ALG_NULL, MS_ERR_TPM_AK_ATTRS);
    ENSURE(p->scheme.scheme == TPM2_ALG_RSASSA &&
               p->scheme.details.rsassa.hashAlg == TPM2_ALG_SHA256,
           MS_ERR_TPM_AK_ATTRS);
    ENSURE(p->keyBits == 2048 || p->keyBits == 3072 || p->keyBits == 4096, MS_ERR_TPM_AK_ATTRS);
    ENSURE(p->exponent == 0 || p->exponent == RSA_DEFAULT_EXPONENT, MS_ERR_TPM_AK_ATTRS);
    ENSURE(n->size == p->keyBits / 8, MS_ERR_TPM_AK_ATTRS);
    return MS_OK;
}

ms_err ms_tpm2_ak_check(const TPMT_PUBLIC *ak)
{
    ENSURE(ak->nameAlg == TPM2_ALG_SHA256, MS_ERR_TPM_AK_ATTRS);
    ENSURE((ak->objectAttributes & AK_REQUIRED) == AK_REQUIRED &&
               (ak->objectAttributes & TPMA_OBJECT_DECRYPT) == 0,
           MS_ERR_TPM_AK_ATTRS);
    switch (ak->type) {
    case TPM2_ALG_ECC:
        return check_ecc(&ak->parameters.eccDetail, &ak->unique.ecc);
    case TPM2_ALG_RSA:
        return check_rsa(&ak->parameters.rsaDetail, &ak->unique.rsa);
    default:
        return MS_ERR_TPM_AK_ATTRS;
    }
}

/* A public key from OSSL_PARAMs; NULL when OpenSSL refuses it (e.g. a point off the curve). */
static EVP_PKEY *key_from(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    if (pkey != NULL) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (ctx == NULL || EVP_PKEY_public_check_quick(ctx) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        EVP_PKEY_CTX_free(ctx);
    }
    return pkey;
}

static EVP_PKEY *ecc_key(const TPMS_ECC_POINT *q)
{
    static char group[] = "prime256v1";
    uint8_t point[1 + 2 * P256_COORD] = {0x04}; /* uncompressed, coordinates left-padded */
    memcpy(point + 1 + (P256_COORD - q->x.size), q->x.buffer, q->x.size);
    memcpy(point + 1 + P256_COORD + (P256_COORD - q->y.size), q->y.buffer, q->y.size);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_construct_end(),
    };
    return key_from("EC", params);
}

static EVP_PKEY *rsa_key(const TPMS_RSA_PARMS *p, const TPM2B_PUBLIC_KEY_RSA *n)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn_n = BN_bin2bn(n->buffer, n->size, NULL);
    BIGNUM *bn_e = BN_new();
    if (bld != NULL && bn_n != NULL && bn_e != NULL &&
        BN_set_word(bn_e, p->exponent ? p->exponent : RSA_DEFAULT_EXPONENT) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
        params = OSSL_PARAM_BLD_to_param(bld);
    }
    if (params != NULL) {
        pkey = key_from("RSA", params);
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

EVP_PKEY *ms_tpm2_pkey_of(const TPMT_PUBLIC *pub)
{
    if (pub->type == TPM2_ALG_ECC && pub->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256 &&
        pub->unique.ecc.x.size <= P256_COORD && pub->unique.ecc.y.size <= P256_COORD) {
        return ecc_key(&pub->unique.ecc);
    }
    if (pub->type == TPM2_ALG_RSA && pub->unique.rsa.size > 0) {
        return rsa_key(&pub->parameters.rsaDetail, &pub->unique.rsa);
    }
    return NULL;
}

static int digest_verify(EVP_PKEY *pkey, const uint8_t *sig, size_t sig_len, const uint8_t *msg,
                         size_t len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m != NULL && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pkey) == 1 &&
             EVP_DigestVerify(m, sig, sig_len, msg, len) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

static int verify_ecdsa(const TPMT_PUBLIC *ak, const TPMT_SIGNATURE *sig, const uint8_t *msg,
                        size_t len)
{
    const TPMS_SIGNATURE_ECC *e = &sig->signature.ecdsa;
    if (sig->sigAlg != TPM2_ALG_ECDSA || e->hash != TPM2_ALG_SHA256 ||
        e->signatureR.size > P256_COORD || e->signatureS.size > P256_COORD) {
        return 0;
    }
    EVP_PKEY *pkey = ecc_key(&ak->unique.ecc);
    int ok = pkey != NULL &&
             ms_ecdsa_verify(pkey, EVP_sha256(), e->signatureR.buffer, e->signatureR.size,
                             e->signatureS.buffer, e->signatureS.size, 0, msg, len,
                             MS_ERR_TPM_SIGNATURE) == MS_OK;
    EVP_PKEY_free(pkey);
    return ok;
}

static int verify_rsassa(const TPMT_PUBLIC *ak, const TPMT_SIGNATURE *sig, const uint8_t *msg,
                         size_t len)
{
    const TPMS_SIGNATURE_RSA *r = &sig->signature.rsassa;
    if (sig->sigAlg != TPM2_ALG_RSASSA || r->hash != TPM2_ALG_SHA256 ||
        r->sig.size != ak->unique.rsa.size) {
        return 0;
    }
    EVP_PKEY *pkey = rsa_key(&ak->parameters.rsaDetail, &ak->unique.rsa);
    int ok = pkey != NULL && digest_verify(pkey, r->sig.buffer, r->sig.size, msg, len);
    EVP_PKEY_free(pkey);
    return ok;
}

ms_err ms_tpm2_sig_verify(const TPMT_PUBLIC *ak, const TPMT_SIGNATURE *sig, const uint8_t *msg,
                          size_t len)
{
    int ok = 0;
    if (ms_tpm2_ak_check(ak) == MS_OK) {
        ok = ak->type == TPM2_ALG_ECC ? verify_ecdsa(ak, sig, msg, len)
                                      : verify_rsassa(ak, sig, msg, len);
    }
    if (!ok) {
        ERR_clear_error(); /* leave no stale error for the next OpenSSL user (TLS) */
    }
    return ok ? MS_OK : MS_ERR_TPM_SIGNATURE;
}

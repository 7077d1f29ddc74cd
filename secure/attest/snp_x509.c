/* SEV-SNP certificates with OpenSSL: strict DER, AMD's RSASSA-PSS parameters, VCEK extensions. */
#include "secure/attest/snp_x509.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/check.h"

#define SNP_PSS_SALT_LEN 48 /* the SHA-384 digest length, as AMD signs */

/* VCEK extension OIDs (AMD "VCEK Certificate and KDS Interface Specification"). */
#define OID_SPL(n) "1.3.6.1.4.1.3704.1.3." #n
#define OID_HWID "1.3.6.1.4.1.3704.1.4"

ms_err ms_snp_x509_parse(const uint8_t *der, size_t len, ms_err bad, X509 **out)
{
    *out = NULL;
    ENSURE(der != NULL && len > 0 && len <= MS_SNP_MAX_CERT, bad);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    ENSURE(x != NULL, bad);
    if (p != der + len) {
        X509_free(x);
        return bad;
    }
    *out = x;
    return MS_OK;
}

/* An AlgorithmIdentifier that names `nid` with absent or NULL parameters. */
static int alg_is(const X509_ALGOR *alg, int nid)
{
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    if (alg == NULL) {
        return 0;
    }
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    return OBJ_obj2nid(obj) == nid && (ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL);
}

/* MGF1 whose parameter is SHA-384. */
static int mgf1_sha384(const X509_ALGOR *mgf)
{
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    if (mgf == NULL) {
        return 0;
    }
    X509_ALGOR_get0(&obj, &ptype, &pval, mgf);
    if (OBJ_obj2nid(obj) != NID_mgf1 || ptype != V_ASN1_SEQUENCE) {
        return 0;
    }
    X509_ALGOR *hash = ASN1_item_unpack(pval, ASN1_ITEM_rptr(X509_ALGOR));
    int ok = alg_is(hash, NID_sha384);
    X509_ALGOR_free(hash);
    return ok;
}

static int int_is(const ASN1_INTEGER *v, int64_t want)
{
    int64_t got;
    return v != NULL && ASN1_INTEGER_get_int64(&got, v) == 1 && got == want;
}

/* The certificate's signature algorithm is AMD's: PSS, SHA-384, MGF1-SHA-384, salt 48. */
static int sig_alg_is_amd_pss(const X509 *x)
{
    const X509_ALGOR *alg;
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    X509_get0_signature(NULL, &alg, x);
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE) {
        return 0;
    }
    RSA_PSS_PARAMS *pss = ASN1_item_unpack(pval, ASN1_ITEM_rptr(RSA_PSS_PARAMS));
    int ok = pss != NULL && alg_is(pss->hashAlgorithm, NID_sha384) &&
             mgf1_sha384(pss->maskGenAlgorithm) && int_is(pss->saltLength, SNP_PSS_SALT_LEN) &&
             (pss->trailerField == NULL || int_is(pss->trailerField, 1));
    RSA_PSS_PARAMS_free(pss);
    return ok;
}

int ms_snp_x509_issued_pss(X509 *issuer, X509 *subject)
{
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        return 0;
    }
    /* Names, key identifiers and the issuer's keyCertSign usage; then the PSS signature. */
    return X509_check_issued(issuer, subject) == X509_V_OK && sig_alg_is_amd_pss(subject) &&
           X509_verify(subject, key) == 1;
}

int ms_snp_x509_is_ca(X509 *cert)
{
    return X509_check_ca(cert) == 1;
}

/*
 * The value of the one extension `oid` in `x`: *value NULL when absent. Present twice is
 * `dup_err`, as a certificate that states two values states none.
 */
static ms_err ext_value(X509 *x, const char *oid, ms_err dup_err, const ASN1_OCTET_STRING **value)
{
    *value = NULL;
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ENSURE(obj != NULL, MS_ERR_NOMEM);
    int i = X509_get_ext_by_OBJ(x, obj, -1);
    int again = i >= 0 ? X509_get_ext_by_OBJ(x, obj, i) : -1;
    ASN1_OBJECT_free(obj);
    ENSURE(again < 0, dup_err);
    if (i >= 0) {
        *value = X509_EXTENSION_get_data(X509_get_ext(x, i));
    }
    return MS_OK;
}

/* An SPL extension: the octet string holds exactly one DER INTEGER in 0..255. */
static ms_err spl_value(const ASN1_OCTET_STRING *os, uint8_t *out)
{
    const unsigned char *p = ASN1_STRING_get0_data(os);
    long n = ASN1_STRING_length(os);
    const unsigned char *start = p;
    ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, n);
    int64_t v = -1;
    int ok = ai != NULL && p == start + n && ASN1_INTEGER_get_int64(&v, ai) == 1 && v >= 0 &&
             v <= 255;
    ASN1_INTEGER_free(ai);
    *out = ok ? (uint8_t)v : 0;
    return ok ? MS_OK : MS_ERR_SNP_TCB_MISMATCH;
}

ms_err ms_snp_x509_tcb_equal(X509 *vcek, uint64_t tcb_raw)
{
    /* (extension, TCB_VERSION byte, required) for the Milan / Genoa layout. */
    static const struct {
        const char *oid;
        unsigned byte;
        int required;
    } spl[] = {
        {OID_SPL(1), 0, 1}, {OID_SPL(2), 1, 1}, {OID_SPL(3), 6, 1}, {OID_SPL(8), 7, 1},
        {OID_SPL(4), 2, 0}, {OID_SPL(5), 3, 0}, {OID_SPL(6), 4, 0}, {OID_SPL(7), 5, 0},
    };
    for (size_t i = 0; i < sizeof spl / sizeof spl[0]; i++) {
        const ASN1_OCTET_STRING *os;
        uint8_t v;
        TRY(ext_value(vcek, spl[i].oid, MS_ERR_SNP_TCB_MISMATCH, &os));
        if (os == NULL) {
            ENSURE(!spl[i].required, MS_ERR_SNP_TCB_MISMATCH);
            continue;
        }
        TRY(spl_value(os, &v));
        ENSURE(v == (uint8_t)(tcb_raw >> (8 * spl[i].byte)), MS_ERR_SNP_TCB_MISMATCH);
    }
    return MS_OK;
}

ms_err ms_snp_x509_hwid_equal(X509 *vcek, const uint8_t chip_id[static MS_SNP_CHIP_ID_LEN])
{
    const ASN1_OCTET_STRING *os;
    TRY(ext_value(vcek, OID_HWID, MS_ERR_SNP_CHIP_ID, &os));
    ENSURE(os != NULL && ASN1_STRING_length(os) == (int)MS_SNP_CHIP_ID_LEN, MS_ERR_SNP_CHIP_ID);
    ENSURE(ms_ct_equal(ASN1_STRING_get0_data(os), chip_id, MS_SNP_CHIP_ID_LEN), MS_ERR_SNP_CHIP_ID);
    return MS_OK;
}

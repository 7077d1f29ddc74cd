/* SEV-SNP certificates with OpenSSL: strict DER, AMD's RSASSA-PSS parameters, VCEK extensions. */
#include "secure/attest/snp_x509.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/check.h"

#define SNP_PSS_SALT_LEN 48 /* the SHA-384 digest length, as AMD signs */

/* VCEK extension OIDs (AMD "VCEK Certificate and KDS Interface Specification"). */
#define OID_SPL_BASE "1.3.6.1.4.1.3704.1.3."
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

/* A signature algorithm that is AMD's: PSS, SHA-384, MGF1-SHA-384, salt 48. */
static int alg_is_amd_pss(const X509_ALGOR *alg)
{
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
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

static int sig_alg_is_amd_pss(const X509 *x)
{
    const X509_ALGOR *alg;
    X509_get0_signature(NULL, &alg, x);
    return alg_is_amd_pss(alg);
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

/* (extension arc, TCB_VERSION byte or -1 for "reserved: zero", required) per layout. */
typedef struct spl_map {
    int arc;
    int byte;
    int required;
} spl_map;

static const spl_map SPL_MILAN[] = {
    {1, 0, 1}, {2, 1, 1}, {3, 6, 1}, {8, 7, 1}, {4, 2, 0}, {5, 3, 0}, {6, 4, 0}, {7, 5, 0},
};
static const spl_map SPL_TURIN[] = {
    {9, 0, 1},  {1, 1, 1},  {2, 2, 1},  {3, 3, 1}, {8, 7, 1},
    {4, -1, 0}, {5, -1, 0}, {6, -1, 0}, {7, -1, 0},
};

static ms_err spl_ext(X509 *x, int arc, const ASN1_OCTET_STRING **os)
{
    char oid[40];
    snprintf(oid, sizeof oid, OID_SPL_BASE "%d", arc);
    return ext_value(x, oid, MS_ERR_SNP_TCB_MISMATCH, os);
}

ms_err ms_snp_x509_tcb_read(X509 *vcek, ms_snp_tcb_layout layout, uint64_t *raw)
{
    const spl_map *map = layout == MS_SNP_TCB_TURIN ? SPL_TURIN : SPL_MILAN;
    size_t n = layout == MS_SNP_TCB_TURIN ? sizeof SPL_TURIN / sizeof SPL_TURIN[0]
                                          : sizeof SPL_MILAN / sizeof SPL_MILAN[0];
    const ASN1_OCTET_STRING *os;
    uint64_t v64 = 0;
    *raw = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t v;
        TRY(spl_ext(vcek, map[i].arc, &os));
        if (os == NULL) {
            ENSURE(!map[i].required, MS_ERR_SNP_TCB_MISMATCH);
            continue;
        }
        TRY(spl_value(os, &v));
        ENSURE(map[i].byte >= 0 || v == 0, MS_ERR_SNP_TCB_MISMATCH);
        if (map[i].byte >= 0) {
            v64 |= (uint64_t)v << (8 * map[i].byte);
        }
    }
    if (layout != MS_SNP_TCB_TURIN) { /* an fmcSPL names a Turin TCB: not this layout */
        TRY(spl_ext(vcek, 9, &os));
        ENSURE(os == NULL, MS_ERR_SNP_TCB_MISMATCH);
    }
    *raw = v64;
    return MS_OK;
}

ms_err ms_snp_x509_tcb_equal(X509 *vcek, uint64_t tcb_raw, ms_snp_tcb_layout layout)
{
    uint64_t got;
    TRY(ms_snp_x509_tcb_read(vcek, layout, &got));
    ENSURE(got == tcb_raw, MS_ERR_SNP_TCB_MISMATCH);
    return MS_OK;
}

#define SNP_TURIN_HWID_LEN 8u

ms_err ms_snp_x509_hwid_equal(X509 *vcek, const uint8_t chip_id[static MS_SNP_CHIP_ID_LEN],
                              ms_snp_tcb_layout layout)
{
    const ASN1_OCTET_STRING *os;
    size_t want = layout == MS_SNP_TCB_TURIN ? SNP_TURIN_HWID_LEN : MS_SNP_CHIP_ID_LEN;
    uint8_t rest = 0;
    TRY(ext_value(vcek, OID_HWID, MS_ERR_SNP_CHIP_ID, &os));
    ENSURE(os != NULL && ASN1_STRING_length(os) == (int)want, MS_ERR_SNP_CHIP_ID);
    ENSURE(ms_ct_equal(ASN1_STRING_get0_data(os), chip_id, want), MS_ERR_SNP_CHIP_ID);
    for (size_t i = want; i < MS_SNP_CHIP_ID_LEN; i++) {
        rest |= chip_id[i];
    }
    ENSURE(rest == 0, MS_ERR_SNP_CHIP_ID);
    return MS_OK;
}

int ms_snp_x509_valid_at(X509 *cert, uint64_t at)
{
    if (at > (uint64_t)INT64_MAX) {
        return 0;
    }
    time_t t = (time_t)at;
    /* X509_cmp_time: -1 when the certificate's time is <= t, 1 when later, 0 on error. */
    return X509_cmp_time(X509_get0_notBefore(cert), &t) == -1 &&
           X509_cmp_time(X509_get0_notAfter(cert), &t) == 1;
}

int ms_snp_x509_cn_is(X509 *cert, const char *cn)
{
    X509_NAME *name = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
        return 0;
    }
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    size_t n = strlen(cn);
    return ASN1_STRING_length(s) == (int)n && ms_ct_equal(ASN1_STRING_get0_data(s), cn, n);
}

ms_err ms_snp_x509_crl_parse(X509 *ark, const uint8_t *der, size_t len, X509_CRL **out)
{
    *out = NULL;
    ENSURE(der != NULL && len > 0 && len <= MS_SNP_MAX_CRL, MS_ERR_SNP_CRL);
    const unsigned char *p = der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
    ENSURE(crl != NULL, MS_ERR_SNP_CRL);
    const X509_ALGOR *alg;
    X509_CRL_get0_signature(crl, NULL, &alg);
    EVP_PKEY *key = X509_get0_pubkey(ark);
    int ok = p == der + len &&
             X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ark)) == 0 &&
             alg_is_amd_pss(alg) && key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
             X509_CRL_verify(crl, key) == 1;
    if (!ok) {
        X509_CRL_free(crl);
        return MS_ERR_SNP_CRL;
    }
    *out = crl;
    return MS_OK;
}

int ms_snp_x509_crl_lists(X509_CRL *crl, X509 *cert)
{
    X509_REVOKED *rev = NULL;
    return X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert)) == 1;
}

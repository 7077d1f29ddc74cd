/* Attestation test fixtures: test-made X.509 certificates (see fx_x509.h). */
#include "tests/secure/attest/fx_x509.h"

#include <openssl/x509v3.h>

X509 *fx_x509_new(EVP_PKEY *key, const char *org, const char *cn, long serial,
                  time_t not_before, time_t not_after)
{
    X509 *x = X509_new();
    if (x == NULL) {
        return NULL;
    }
    X509_NAME *n = X509_get_subject_name(x);
    int ok = X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
             X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1,
                                        0) &&
             X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0) &&
             ASN1_TIME_set(X509_getm_notBefore(x), not_before) != NULL &&
             ASN1_TIME_set(X509_getm_notAfter(x), not_after) != NULL && X509_set_pubkey(x, key);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int fx_x509_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

int fx_x509_ca_exts(X509 *x, X509 *issuer)
{
    int ok = fx_x509_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE") &&
             fx_x509_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             fx_x509_ext(x, issuer, NID_subject_key_identifier, "hash");
    return ok &&
           (issuer == x || fx_x509_ext(x, issuer, NID_authority_key_identifier, "keyid:always"));
}

int fx_x509_der(X509 *x, size_t cap, ms_buf *der)
{
    unsigned char *p = NULL;
    int n = x != NULL ? i2d_X509(x, &p) : -1;
    ms_buf_init(der, cap);
    int ok = n > 0 && ms_buf_append(der, p, (size_t)n) == MS_OK;
    OPENSSL_free(p);
    return ok;
}

/* ECDSA signatures as evidence carries them: r and s to DER, then OpenSSL's verification. */
#include "secure/attest/ecdsa.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <string.h>

#include "common/check.h"

int ms_ecdsa_key_on(EVP_PKEY *key, const char *group)
{
    char name[32];
    size_t n = 0;
    return key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_group_name(key, name, sizeof name, &n) == 1 && strcmp(name, group) == 0;
}

/* r and s as a DER ECDSA-Sig-Value in *der (OPENSSL_malloc'd); its length, or -1. */
static int sig_der(const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len, int le,
                   unsigned char **der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = le ? BN_lebin2bn(r, (int)r_len, NULL) : BN_bin2bn(r, (int)r_len, NULL);
    BIGNUM *bs = le ? BN_lebin2bn(s, (int)s_len, NULL) : BN_bin2bn(s, (int)s_len, NULL);
    int n = -1;
    if (sig != NULL && br != NULL && bs != NULL && ECDSA_SIG_set0(sig, br, bs) == 1) {
        br = bs = NULL; /* owned by sig now */
        n = i2d_ECDSA_SIG(sig, der);
    }
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(sig);
    return n;
}

ms_err ms_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r, size_t r_len,
                       const uint8_t *s, size_t s_len, int le, const uint8_t *msg, size_t len,
                       ms_err bad)
{
    unsigned char *der = NULL;
    int der_len = sig_der(r, r_len, s, s_len, le, &der);
    if (der_len <= 0) {
        OPENSSL_free(der);
        return MS_ERR_NOMEM;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx != NULL ? EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) : -1;
    if (rc == 1) {
        rc = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len);
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ENSURE(ctx != NULL, MS_ERR_NOMEM);
    ENSURE(rc == 1, bad);
    return MS_OK;
}

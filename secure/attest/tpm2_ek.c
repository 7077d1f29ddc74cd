/* TPM key provenance (docs/attest-tpm2.md §7): EK certificate, software MakeCredential, AK certificates. */
#include "secure/attest/tpm2_ek.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/cursor.h"
#include "common/limits.h"
#include "secure/attest/tpm2_bundle.h"

#define EK_BITS 2048u
#define EK_SYM_BYTES 16u /* AES-128 */
#define EK_ATTRS                                                                                   \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |           \
     TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

/* PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256 (TCG EK Credential Profile, B.3.3). */
static const uint8_t EK_POLICY[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

void ms_tpm2_ek_template(TPM2B_PUBLIC *out)
{
    memset(out, 0, sizeof *out);
    TPMT_PUBLIC *t = &out->publicArea;
    t->type = TPM2_ALG_RSA;
    t->nameAlg = TPM2_ALG_SHA256;
    t->objectAttributes = EK_ATTRS;
    t->authPolicy.size = sizeof EK_POLICY;
    memcpy(t->authPolicy.buffer, EK_POLICY, sizeof EK_POLICY);
    TPMS_RSA_PARMS *r = &t->parameters.rsaDetail;
    r->symmetric.algorithm = TPM2_ALG_AES;
    r->symmetric.keyBits.aes = 8 * EK_SYM_BYTES;
    r->symmetric.mode.aes = TPM2_ALG_CFB;
    r->scheme.scheme = TPM2_ALG_NULL;
    r->keyBits = EK_BITS;
    t->unique.rsa.size = EK_BITS / 8;
}

ms_err ms_tpm2_ek_check(const TPMT_PUBLIC *ek)
{
    const TPMS_RSA_PARMS *r = &ek->parameters.rsaDetail;
    ENSURE(ek->type == TPM2_ALG_RSA && ek->nameAlg == TPM2_ALG_SHA256, MS_ERR_TPM_EK_CERT);
    ENSURE((ek->objectAttributes & EK_ATTRS) == EK_ATTRS &&
               (ek->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) == 0,
           MS_ERR_TPM_EK_CERT);
    ENSURE(r->symmetric.algorithm == TPM2_ALG_AES && r->symmetric.keyBits.aes == 8 * EK_SYM_BYTES &&
               r->symmetric.mode.aes == TPM2_ALG_CFB,
           MS_ERR_TPM_EK_CERT);
    ENSURE(r->scheme.scheme == TPM2_ALG_NULL && r->keyBits == EK_BITS &&
               (r->exponent == 0 || r->exponent == 65537) && ek->unique.rsa.size == EK_BITS / 8,
           MS_ERR_TPM_EK_CERT);
    return MS_OK;
}

/* --- X.509 ---------------------------------------------------------------------------------- */

/* One DER certificate; after it only `zero_pad` trailing zero bytes are allowed. NULL if not. */
static X509 *parse_der(const uint8_t *der, size_t len, size_t cap, int zero_pad)
{
    if (der == NULL || len == 0 || len > cap) {
        return NULL;
    }
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    for (const uint8_t *q = p; x != NULL && q < der + len; q++) {
        if (!zero_pad || *q != 0) {
            X509_free(x);
            x = NULL;
        }
    }
    return x;
}

/* A store trusting every certificate of a PEM text; NULL when it holds none (or on error). */
static X509_STORE *store_of(const uint8_t *pem, size_t len)
{
    if (pem == NULL || len == 0 || len > MS_TPM2_MAX_CA_FILE) {
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_STORE *st = X509_STORE_new();
    X509 *x;
    int n = 0;
    while (bio != NULL && st != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        n += X509_STORE_add_cert(st, x) == 1;
        X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error(); /* the read that ends the loop leaves "no start line" */
    if (n == 0) {
        X509_STORE_free(st);
        return NULL;
    }
    return st;
}

ms_err ms_tpm2_ca_pem_check(const uint8_t *pem, size_t len)
{
    X509_STORE *st = store_of(pem, len);
    X509_STORE_free(st);
    return st != NULL ? MS_OK : MS_ERR_CONFIG;
}

/* 1 when `x` chains to a certificate of `st`, every one valid at `now`. */
static int chains(X509_STORE *st, X509 *x, int64_t now)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = ctx != NULL && X509_STORE_CTX_init(ctx, st, x, NULL) == 1;
    if (ok) {
        X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
        ok = X509_verify_cert(ctx) == 1;
    }
    X509_STORE_CTX_free(ctx);
    return ok;
}

/* 1 when the certificate's public key is `pub`'s (same algorithm, same key). */
static int key_is(X509 *x, const TPMT_PUBLIC *pub)
{
    EVP_PKEY *k = ms_tpm2_pkey_of(pub);
    EVP_PKEY *c = X509_get0_pubkey(x);
    int ok = k != NULL && c != NULL && EVP_PKEY_eq(k, c) == 1;
    EVP_PKEY_free(k);
    return ok;
}

ms_err ms_tpm2_ek_cert_verify(const uint8_t *der, size_t len, const uint8_t *roots_pem,
                              size_t roots_len, const TPMT_PUBLIC *ek, int64_t now)
{
    X509_STORE *st = store_of(roots_pem, roots_len);
    ENSURE(st != NULL, MS_ERR_CONFIG);
    X509 *x = parse_der(der, len, MS_TPM2_MAX_EK_CERT, 1);
    ms_err err = MS_ERR_TPM_EK_CERT;
    if (x != NULL && ms_tpm2_ek_check(ek) == MS_OK && key_is(x, ek)) {
        err = chains(st, x, now) ? MS_OK : MS_ERR_TPM_EK_CHAIN;
    }
    X509_free(x);
    X509_STORE_free(st);
    ERR_clear_error();
    return err;
}

ms_err ms_tpm2_ak_cert_verify(const uint8_t *der, size_t len, const uint8_t *ca_pem,
                              size_t ca_len, const TPMT_PUBLIC *ak, int64_t now)
{
    X509_STORE *st = store_of(ca_pem, ca_len);
    X509 *x = parse_der(der, len, MS_TPM2_MAX_AK_CERT, 0);
    int ok = st != NULL && x != NULL && chains(st, x, now) && key_is(x, ak);
    X509_free(x);
    X509_STORE_free(st);
    ERR_clear_error();
    return ok ? MS_OK : MS_ERR_TPM_AK_CERT;
}

int ms_tpm2_ak_cert_key_is(const uint8_t *der, size_t len, const TPMT_PUBLIC *ak)
{
    X509 *x = parse_der(der, len, MS_TPM2_MAX_AK_CERT, 0);
    int ok = x != NULL && key_is(x, ak);
    X509_free(x);
    ERR_clear_error();
    return ok;
}

/* --- MakeCredential (TPM 2.0 Part 1, §24; KDFa of §11.4.10.2) ----------------------------- */

/* KDFa with HMAC-SHA256: out = first n bytes of HMAC(key, i || label\0 || u || bits), i = 1.. */
static int kdfa(const uint8_t *key, size_t key_len, const char *label, const uint8_t *u,
                size_t u_len, uint8_t *out, size_t n)
{
    uint8_t in[4 + 16 + MS_TPM2_NAME_LEN + 4], h[EVP_MAX_MD_SIZE];
    size_t label_len = strlen(label) + 1; /* the terminating zero is part of the label */
    unsigned h_len = 0;
    int ok = label_len <= 16 && u_len <= MS_TPM2_NAME_LEN;
    for (uint32_t i = 1, done = 0; ok && done < n; i++) {
        size_t m = 0;
        ms_store_u32be(in, i);
        memcpy(in + 4, label, label_len);
        if (u_len > 0) {
            memcpy(in + 4 + label_len, u, u_len);
        }
        m = 4 + label_len + u_len;
        ms_store_u32be(in + m, (uint32_t)(8 * n));
        ok = HMAC(EVP_sha256(), key, (int)key_len, in, m + 4, h, &h_len) != NULL &&
             h_len == MS_TPM2_DIGEST_LEN;
        size_t take = n - done < h_len ? n - done : h_len;
        if (ok) {
            memcpy(out + done, h, take);
            done += (uint32_t)take;
        }
    }
    ms_wipe(h, sizeof h);
    return ok;
}

/* The seed encrypted to the EK: RSA-OAEP, SHA-256 and MGF1-SHA-256, label "IDENTITY\0". */
static int seal_seed(const TPMT_PUBLIC *ek, const uint8_t *seed, size_t n,
                     TPM2B_ENCRYPTED_SECRET *out)
{
    static const char label[] = "IDENTITY";
    EVP_PKEY *k = ms_tpm2_pkey_of(ek);
    EVP_PKEY_CTX *ctx = k != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL) : NULL;
    unsigned char *l = OPENSSL_memdup(label, sizeof label);
    size_t len = sizeof out->secret;
    int ok = ctx != NULL && l != NULL && EVP_PKEY_encrypt_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, sizeof label) == 1;
    if (ok) {
        l = NULL; /* owned by ctx */
        ok = EVP_PKEY_encrypt(ctx, out->secret, &len, seed, n) == 1 && len == EK_BITS / 8;
    }
    out->size = ok ? (UINT16)len : 0;
    OPENSSL_free(l);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok;
}

static int aes_cfb(const uint8_t key[static EK_SYM_BYTES], const uint8_t *in, size_t n, uint8_t *out)
{
    static const uint8_t iv[16]; /* zero: the key is used once */
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    int ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_128_cfb128(), NULL, key, iv) == 1 &&
             EVP_EncryptUpdate(c, out, &len, in, (int)n) == 1 &&
             EVP_EncryptFinal_ex(c, out + len, &fin) == 1 && (size_t)(len + fin) == n;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* credentialBlob = TPM2B_DIGEST(outerHMAC) || encIdentity, encIdentity = CFB(TPM2B_DIGEST(cred)). */
static int wrap(const uint8_t *seed, const uint8_t *name, const uint8_t *cred, size_t cred_len,
                TPM2B_ID_OBJECT *blob)
{
    uint8_t sym[EK_SYM_BYTES], hkey[MS_TPM2_DIGEST_LEN], plain[2 + MS_TPM2_CRED_LEN];
    uint8_t *hmac = blob->credential + 2, *enc = blob->credential + 2 + MS_TPM2_DIGEST_LEN;
    uint8_t mac_in[2 + MS_TPM2_CRED_LEN + MS_TPM2_NAME_LEN];
    size_t enc_len = 2 + cred_len;
    unsigned mac_len = 0;
    ms_store_u16be(plain, (uint16_t)cred_len);
    memcpy(plain + 2, cred, cred_len);
    int ok = kdfa(seed, MS_TPM2_DIGEST_LEN, "STORAGE", name, MS_TPM2_NAME_LEN, sym, sizeof sym) &&
             kdfa(seed, MS_TPM2_DIGEST_LEN, "INTEGRITY", NULL, 0, hkey, sizeof hkey) &&
             aes_cfb(sym, plain, enc_len, enc);
    if (ok) {
        memcpy(mac_in, enc, enc_len);
        memcpy(mac_in + enc_len, name, MS_TPM2_NAME_LEN);
        ok = HMAC(EVP_sha256(), hkey, sizeof hkey, mac_in, enc_len + MS_TPM2_NAME_LEN, hmac,
                  &mac_len) != NULL &&
             mac_len == MS_TPM2_DIGEST_LEN;
    }
    ms_store_u16be(blob->credential, MS_TPM2_DIGEST_LEN);
    blob->size = (UINT16)(2 + MS_TPM2_DIGEST_LEN + enc_len);
    ms_wipe(sym, sizeof sym);
    ms_wipe(hkey, sizeof hkey);
    ms_wipe(plain, sizeof plain);
    ms_wipe(mac_in, sizeof mac_in);
    return ok;
}

ms_err ms_tpm2_make_credential(const TPMT_PUBLIC *ek, const uint8_t ak_name[static MS_TPM2_NAME_LEN],
                               const uint8_t *cred, size_t cred_len, TPM2B_ID_OBJECT *blob,
                               TPM2B_ENCRYPTED_SECRET *secret)
{
    uint8_t seed[MS_TPM2_DIGEST_LEN]; /* the size of the EK's nameAlg digest */
    memset(blob, 0, sizeof *blob);
    memset(secret, 0, sizeof *secret);
    ENSURE(cred != NULL && cred_len >= 1 && cred_len <= MS_TPM2_CRED_LEN, MS_ERR_ARG);
    ENSURE(ms_load_u16be(ak_name) == TPM2_ALG_SHA256, MS_ERR_ARG);
    TRY(ms_tpm2_ek_check(ek));
    ms_err err = MS_ERR_INTERNAL;
    if (RAND_bytes(seed, sizeof seed) == 1 && seal_seed(ek, seed, sizeof seed, secret) &&
        wrap(seed, ak_name, cred, cred_len, blob)) {
        err = MS_OK;
    }
    ms_wipe(seed, sizeof seed);
    if (err != MS_OK) {
        memset(blob, 0, sizeof *blob);
        memset(secret, 0, sizeof *secret);
        ERR_clear_error();
    }
    return err;
}

/* --- issuing AK certificates ------------------------------------------------------------- */

static EVP_PKEY *read_key(const uint8_t *pem, size_t len)
{
    BIO *bio = len <= MS_MAX_KEY_FILE ? BIO_new_mem_buf(pem, (int)len) : NULL;
    EVP_PKEY *k = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return k;
}

static X509 *read_cert(const uint8_t *pem, size_t len)
{
    BIO *bio = len <= MS_TPM2_MAX_CA_FILE ? BIO_new_mem_buf(pem, (int)len) : NULL;
    X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

static int add_ext(X509 *x, X509 *ca, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

/* Subject: CN and, for a person comparing with tpm2_readpublic, the name's digest in hex. */
static int set_subject(X509 *x, const TPMT_PUBLIC *ak)
{
    uint8_t pub[sizeof(TPMT_PUBLIC)], name[MS_TPM2_NAME_LEN];
    char hex[2 * MS_TPM2_DIGEST_LEN + 1];
    size_t n = 0;
    if (ms_tpm2_public_marshal(ak, pub, &n) != MS_OK) {
        return 0;
    }
    ms_tpm2_name_of(pub, n, name);
    size_t hex_len = 0;
    if (ms_hex_encode(name + 2, MS_TPM2_DIGEST_LEN, hex, sizeof hex, &hex_len) != MS_OK) {
        return 0;
    }
    X509_NAME *s = X509_get_subject_name(x);
    return X509_NAME_add_entry_by_txt(s, "CN", MBSTRING_ASC,
                                      (const unsigned char *)"minions-secure tpm2 ak", -1, -1,
                                      0) == 1 &&
           X509_NAME_add_entry_by_txt(s, "serialNumber", MBSTRING_ASC, (const unsigned char *)hex,
                                      -1, -1, 0) == 1;
}

static int fill(X509 *x, X509 *ca, EVP_PKEY *ak_key, const TPMT_PUBLIC *ak, int64_t nb, int64_t na)
{
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    int ok = RAND_bytes(serial, sizeof serial) == 1;
    serial[0] &= 0x7f; /* positive */
    serial[0] |= 0x40; /* and 16 bytes long */
    ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) != NULL &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok && X509_set_version(x, X509_VERSION_3) == 1 &&
           X509_set_issuer_name(x, X509_get_subject_name(ca)) == 1 && set_subject(x, ak) &&
           X509_time_adj_ex(X509_getm_notBefore(x), 0, (long)0, &(time_t){(time_t)nb}) != NULL &&
           X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)0, &(time_t){(time_t)na}) != NULL &&
           X509_set_pubkey(x, ak_key) == 1 &&
           add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(x, ca, NID_key_usage, "critical,digitalSignature") &&
           add_ext(x, ca, NID_subject_key_identifier, "hash") &&
           add_ext(x, ca, NID_authority_key_identifier, "keyid:always");
}

ms_err ms_tpm2_ak_cert_issue(const TPMT_PUBLIC *ak, const uint8_t *ca_key_pem, size_t ca_key_len,
                             const uint8_t *ca_cert_pem, size_t ca_cert_len, int64_t not_before,
                             int64_t not_after, ms_buf *out)
{
    ms_err err;
    EVP_PKEY *ca_key = NULL, *ak_key = NULL;
    X509 *ca = NULL, *x = NULL;
    unsigned char *der = NULL;
    TRY(ms_tpm2_ak_check(ak));
    ENSURE(not_before < not_after, MS_ERR_ARG);
    ca_key = read_key(ca_key_pem, ca_key_len);
    ca = read_cert(ca_cert_pem, ca_cert_len);
    ENSURE_OUT(ca_key != NULL && ca != NULL && X509_check_private_key(ca, ca_key) == 1,
               MS_ERR_CONFIG);
    ak_key = ms_tpm2_pkey_of(ak);
    ENSURE_OUT(ak_key != NULL, MS_ERR_TPM_AK_ATTRS);
    x = X509_new();
    /* Ed25519 signs the message itself: no separate digest. */
    const EVP_MD *md = EVP_PKEY_is_a(ca_key, "ED25519") ? NULL : EVP_sha256();
    ENSURE_OUT(x != NULL && fill(x, ca, ak_key, ak, not_before, not_after) &&
                   X509_sign(x, ca_key, md) > 0,
               MS_ERR_INTERNAL);
    int n = i2d_X509(x, &der);
    ENSURE_OUT(n > 0 && (size_t)n <= MS_TPM2_MAX_AK_CERT, MS_ERR_INTERNAL);
    TRY_OUT(ms_buf_append(out, der, (size_t)n));
out:
    OPENSSL_free(der);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(ak_key);
    EVP_PKEY_free(ca_key);
    ERR_clear_error();
    return err;
}

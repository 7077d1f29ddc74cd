/* TDX collateral test fixture: loads Intel's files; makes a P-256 chain, CRLs, signed documents. */
#include "tests/secure/attest/tdx_coll_fixture.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "secure/attest/devkey.h"
#include "tests/secure/attest/fx_x509.h"
#include "tests/secure/attest/snp_fixture.h"

#ifndef MS_TESTDATA_DIR
#error "MS_TESTDATA_DIR must name ../shared/testdata (set by tests/secure/attest/CMakeLists.txt)"
#endif

#define FX_MAX_FILE (256u * 1024u)
#define T_2000 946684800L
#define T_2020 1577836800L
#define T_2040 2208988800L
#define T_2049_END 2524607999L

int tdx_fx_file(const char *name, ms_buf *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tdx/%s", MS_TESTDATA_DIR, name);
    ms_buf_init(out, FX_MAX_FILE);
    if (ms_file_read(path, FX_MAX_FILE, out) != MS_OK) {
        fprintf(stderr, "tdx fixture: cannot read %s\n", path);
        return 0;
    }
    return 1;
}

int tdx_fx_first_cert_der(const uint8_t *p, size_t len, ms_buf *der)
{
    static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
    ms_buf_init(der, FX_MAX_FILE);
    for (size_t i = 0; i + sizeof BEGIN - 1 <= len; i++) {
        if (memcmp(p + i, BEGIN, sizeof BEGIN - 1) == 0) {
            BIO *bio = BIO_new_mem_buf(p + i, (int)(len - i));
            X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
            BIO_free(bio);
            int ok = fx_x509_der(x, FX_MAX_FILE, der);
            X509_free(x);
            return ok;
        }
    }
    return 0;
}

int tdx_fx_pem_file_der(const char *name, ms_buf *der)
{
    ms_buf pem;
    int ok = tdx_fx_file(name, &pem) && tdx_fx_first_cert_der(pem.p, pem.len, der);
    ms_buf_free(&pem);
    return ok;
}

/* ---- a made-up chain ------------------------------------------------------------------------ */

static X509 *cert_new(EVP_PKEY *key, const char *cn, long serial)
{
    return fx_x509_new(key, "Test Intel Corporation", cn, serial, T_2000, T_2049_END);
}

/* The chain, the root with `pad` zero bytes in an extension 1.2.3.4 when pad > 0, the
   signer's key on `curve`. */
static int pki_make(tdx_fx_pki *p, size_t pad, const char *curve)
{
    uint8_t *zeros = pad > 0 ? calloc(1, pad) : NULL;
    memset(p, 0, sizeof *p);
    ms_buf_init(&p->root_der, FX_MAX_FILE);
    ms_buf_init(&p->signer_pem, FX_MAX_FILE);
    p->root_key = EVP_EC_gen("P-256");
    p->signer_key = EVP_EC_gen(curve);
    p->signer_serial = 0x5151;
    X509 *root = p->root_key != NULL ? cert_new(p->root_key, "Test SGX Root CA", 1) : NULL;
    X509 *signer = p->signer_key != NULL ? cert_new(p->signer_key, "Test SGX TCB Signing",
                                                    p->signer_serial)
                                         : NULL;
    int ok = root != NULL && signer != NULL && X509_set_issuer_name(root, X509_get_subject_name(root)) &&
             fx_x509_ca_exts(root, root) &&
             (pad == 0 || (zeros != NULL && snp_fx_add_raw_ext(root, "1.2.3.4", zeros, pad))) &&
             X509_sign(root, p->root_key, EVP_sha256()) > 0 &&
             X509_set_issuer_name(signer, X509_get_subject_name(root)) &&
             fx_x509_ext(signer, root, NID_basic_constraints, "critical,CA:FALSE") &&
             fx_x509_ext(signer, root, NID_key_usage, "critical,digitalSignature,nonRepudiation") &&
             fx_x509_ext(signer, root, NID_subject_key_identifier, "hash") &&
             fx_x509_ext(signer, root, NID_authority_key_identifier, "keyid:always") &&
             X509_sign(signer, p->root_key, EVP_sha256()) > 0;
    ms_buf_free(&p->root_der);
    ok = ok && fx_x509_der(root, FX_MAX_FILE, &p->root_der);
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem = NULL;
    long n = 0;
    if (ok && bio != NULL && PEM_write_bio_X509(bio, signer)) {
        n = BIO_get_mem_data(bio, &mem);
    }
    ok = ok && n > 0 && ms_buf_append(&p->signer_pem, mem, (size_t)n) == MS_OK;
    BIO_free(bio);
    X509_free(root);
    X509_free(signer);
    free(zeros);
    return ok;
}

int tdx_fx_pki_make(tdx_fx_pki *p)
{
    return pki_make(p, 0, "P-256");
}

int tdx_fx_pki_make_signer_curve(tdx_fx_pki *p, const char *curve)
{
    return pki_make(p, 0, curve);
}

int tdx_fx_pki_make_root_of_size(tdx_fx_pki *p, size_t root_len)
{
    size_t pad = 1;
    for (int attempt = 0; attempt < 64; attempt++) {
        if (!pki_make(p, pad, "P-256")) {
            tdx_fx_pki_free(p);
            return 0;
        }
        if (p->root_der.len == root_len) {
            return 1;
        }
        /* ECDSA signatures differ in length by a byte or two: move the padding and retry. */
        long next = (long)pad + ((long)root_len - (long)p->root_der.len);
        pad = next >= 1 ? (size_t)next : 1u;
        tdx_fx_pki_free(p);
    }
    return 0;
}

void tdx_fx_pki_free(tdx_fx_pki *p)
{
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->signer_key);
    ms_buf_free(&p->root_der);
    ms_buf_free(&p->signer_pem);
    memset(p, 0, sizeof *p);
}

int tdx_fx_pki_crl(const tdx_fx_pki *p, EVP_PKEY *key, long serial, int pem, ms_buf *out)
{
    return tdx_fx_crl_at(p, key, serial, pem, T_2020, T_2040, out);
}

int tdx_fx_crl_at(const tdx_fx_pki *p, EVP_PKEY *key, long serial, int pem, long last_t,
                  long next_t, ms_buf *out)
{
    const unsigned char *rp = p->root_der.p;
    X509 *root = d2i_X509(NULL, &rp, (long)p->root_der.len);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = ASN1_TIME_set(NULL, last_t);
    ASN1_TIME *next = ASN1_TIME_set(NULL, next_t);
    ms_buf_init(out, FX_MAX_FILE);
    int ok = root != NULL && crl != NULL && last != NULL && next != NULL &&
             X509_CRL_set_version(crl, 1) &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(root)) &&
             X509_CRL_set1_lastUpdate(crl, last) && X509_CRL_set1_nextUpdate(crl, next);
    if (ok && serial != 0) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *s = ASN1_INTEGER_new();
        ok = r != NULL && s != NULL && ASN1_INTEGER_set(s, serial) &&
             X509_REVOKED_set_serialNumber(r, s) && X509_REVOKED_set_revocationDate(r, last) &&
             X509_CRL_add0_revoked(crl, r);
        if (!ok) {
            X509_REVOKED_free(r);
        }
        ASN1_INTEGER_free(s);
    }
    ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0;
    if (ok && pem) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *mem = NULL;
        long n = bio != NULL && PEM_write_bio_X509_CRL(bio, crl) ? BIO_get_mem_data(bio, &mem) : 0;
        ok = n > 0 && ms_buf_append(out, mem, (size_t)n) == MS_OK;
        BIO_free(bio);
    } else if (ok) {
        unsigned char *der = NULL;
        int n = i2d_X509_CRL(crl, &der);
        ok = n > 0 && ms_buf_append(out, der, (size_t)n) == MS_OK;
        OPENSSL_free(der);
    }
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    X509_free(root);
    return ok;
}

/* ---- signed documents ----------------------------------------------------------------------- */

static int sign_raw(EVP_PKEY *key, const char *body, uint8_t rs[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t n = sizeof der;
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &n, (const unsigned char *)body, strlen(body)) == 1;
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &p, (long)n) : NULL;
    ok = sig != NULL && BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

int tdx_fx_sign_doc(EVP_PKEY *key, const char *member, const char *body, ms_buf *out)
{
    uint8_t rs[64];
    char hex[MS_HEX_BUF_LEN(64)];
    size_t hex_len;
    ms_buf_init(out, FX_MAX_FILE);
    return sign_raw(key, body, rs) &&
           ms_hex_encode(rs, sizeof rs, hex, sizeof hex, &hex_len) == MS_OK &&
           ms_buf_append_str(out, "{\"") == MS_OK && ms_buf_append_str(out, member) == MS_OK &&
           ms_buf_append_str(out, "\":") == MS_OK && ms_buf_append_str(out, body) == MS_OK &&
           ms_buf_append_str(out, ",\"signature\":\"") == MS_OK &&
           ms_buf_append(out, hex, hex_len) == MS_OK && ms_buf_append_str(out, "\"}") == MS_OK;
}

/* The extension `times` times, then `pad` zero bytes in an extension 1.2.3.4 when pad > 0. */
static int cert_exts(const char *oid, const uint8_t *val, size_t len, int times, size_t pad,
                     ms_buf *der)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key != NULL ? cert_new(key, "Test SGX PCK Certificate", 7) : NULL;
    uint8_t *zeros = pad > 0 ? calloc(1, pad) : NULL;
    int ok = x != NULL && X509_set_issuer_name(x, X509_get_subject_name(x)) &&
             (pad == 0 || zeros != NULL);
    for (int i = 0; i < times && ok; i++) {
        ok = snp_fx_add_raw_ext(x, oid, val, len);
    }
    ok = ok && (pad == 0 || snp_fx_add_raw_ext(x, "1.2.3.4", zeros, pad));
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0 && fx_x509_der(x, FX_MAX_FILE, der);
    free(zeros);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

int tdx_fx_cert_with_ext(const char *oid, const uint8_t *val, size_t len, int times, ms_buf *der)
{
    return cert_exts(oid, val, len, times, 0, der);
}

int tdx_fx_cert_of_size(const char *oid, const uint8_t *val, size_t len, size_t total,
                        ms_buf *der)
{
    size_t pad = 1;
    for (int attempt = 0; attempt < 64; attempt++) {
        if (!cert_exts(oid, val, len, 1, pad, der)) {
            return 0;
        }
        if (der->len == total) {
            return 1;
        }
        /* ECDSA signatures differ in length by a byte or two: move the padding and retry. */
        long next = (long)pad + ((long)total - (long)der->len);
        pad = next >= 1 ? (size_t)next : 1u;
        ms_buf_free(der);
    }
    return 0;
}

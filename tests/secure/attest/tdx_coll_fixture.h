/* TDX collateral test fixture: Intel's real files; a made-up "Intel" root, signer, CRL, documents. */
#ifndef MS_TESTS_ATTEST_TDX_COLL_FIXTURE_H
#define MS_TESTS_ATTEST_TDX_COLL_FIXTURE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* A file of ../shared/testdata/tdx (see its NOTICE); 1 on success, else prints and 0. */
int tdx_fx_file(const char *name, ms_buf *out);

/* The first "-----BEGIN CERTIFICATE-----" block found in any bytes, as DER. 1 on success. */
int tdx_fx_first_cert_der(const uint8_t *p, size_t len, ms_buf *der);

/* A PEM certificate file's first certificate as DER. */
int tdx_fx_pem_file_der(const char *name, ms_buf *der);

/*
 * A made-up P-256 "Intel SGX Root CA" and "TCB Signing" certificate, both valid from
 * 2000-01-01 to 2049-12-31. Keys are made per call (P-256 generation is cheap).
 */
typedef struct tdx_fx_pki {
    EVP_PKEY *root_key, *signer_key;
    ms_buf root_der;   /* DER */
    ms_buf signer_pem; /* the signing certificate, PEM */
    long signer_serial;
} tdx_fx_pki;

int tdx_fx_pki_make(tdx_fx_pki *p);
/* The same with a root certificate of exactly `root_len` bytes of DER (a padding extension). */
int tdx_fx_pki_make_root_of_size(tdx_fx_pki *p, size_t root_len);
/* The same with the signer's key on another curve ("secp256k1": 32-byte r and s too). */
int tdx_fx_pki_make_signer_curve(tdx_fx_pki *p, const char *curve);
void tdx_fx_pki_free(tdx_fx_pki *p);

/* A CRL by `key` under the root's name (2020-01-01 .. 2040-01-01), revoking `serial` unless it
   is 0; PEM when `pem`. */
int tdx_fx_pki_crl(const tdx_fx_pki *p, EVP_PKEY *key, long serial, int pem, ms_buf *out);
/* The same with its lastUpdate and nextUpdate (Unix seconds). */
int tdx_fx_crl_at(const tdx_fx_pki *p, EVP_PKEY *key, long serial, int pem, long last_t,
                  long next_t, ms_buf *out);

/* {"<key>":<body>,"signature":"<hex r||s>"} with an ECDSA P-256 / SHA-256 signature by `key`
   over the body's bytes. */
int tdx_fx_sign_doc(EVP_PKEY *key, const char *member, const char *body, ms_buf *out);

/* A self-signed P-256 certificate carrying the raw extension value under `oid` `times` times
   (0: none), as DER. */
int tdx_fx_cert_with_ext(const char *oid, const uint8_t *val, size_t len, int times, ms_buf *der);
/* The same with the extension once and a padding extension, exactly `total` bytes of DER. */
int tdx_fx_cert_of_size(const char *oid, const uint8_t *val, size_t len, size_t total,
                        ms_buf *der);

#endif

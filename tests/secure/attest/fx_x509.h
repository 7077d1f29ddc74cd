/* Attestation test fixtures: test-made X.509 certificates (name, validity, extensions, DER). */
#ifndef MS_TESTS_ATTEST_FX_X509_H
#define MS_TESTS_ATTEST_FX_X509_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#include "common/buf.h"

/*
 * An unsigned v3 certificate for `key`: serial, subject O=org, CN=cn, valid from not_before
 * to not_after; issuer, extensions and signature are the caller's. NULL on failure.
 */
X509 *fx_x509_new(EVP_PKEY *key, const char *org, const char *cn, long serial,
                  time_t not_before, time_t not_after);
/* The extension `nid` from its OpenSSL configuration text, issued by issuer. 1 on success. */
int fx_x509_ext(X509 *x, X509 *issuer, int nid, const char *value);
/*
 * A CA's extensions as the vendors make them: basicConstraints CA:TRUE and keyUsage
 * keyCertSign, cRLSign (both critical), the subject key identifier and, unless self-issued
 * (issuer == x), the authority key identifier. 1 on success.
 */
int fx_x509_ca_exts(X509 *x, X509 *issuer);
/* x's DER into der (initialised here with cap `cap`); x may be NULL (then 0). 1 on success. */
int fx_x509_der(X509 *x, size_t cap, ms_buf *der);

#endif

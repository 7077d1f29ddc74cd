/* Attestation test fixtures: writing what a test made (bytes, certificates, keys) into files for a process. */
#ifndef MS_TESTS_ATTEST_FX_FILE_H
#define MS_TESTS_ATTEST_FX_FILE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* <dir>/<name> (created or replaced, mode 0600) holding p[0..n). 1 on success. */
int fx_write_file(const char *dir, const char *name, const void *p, size_t n);
/* A DER certificate as one PEM block. 1 on success. */
int fx_write_cert_pem(const char *dir, const char *name, const uint8_t *der, size_t len);
/* A private key as PEM (PKCS#8, unencrypted: test keys only). 1 on success. */
int fx_write_key_pem(const char *dir, const char *name, EVP_PKEY *key);

#endif

/* ECDSA signatures as evidence carries them (r and s of fixed width), checked with OpenSSL. */
#ifndef MS_SECURE_ATTEST_ECDSA_H
#define MS_SECURE_ATTEST_ECDSA_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * 1 when key is an EC key on the curve named `group` (OpenSSL's short name, e.g.
 * SN_X9_62_prime256v1, SN_secp384r1); 0 otherwise, key NULL included.
 */
int ms_ecdsa_key_on(EVP_PKEY *key, const char *group);

/*
 * Whether r and s (r_len and s_len bytes, big-endian; little-endian when `le`, as SEV-SNP
 * reports carry them) are key's ECDSA signature of msg[0..len) with digest md (the curve is
 * the caller's check): MS_OK; `bad` when they are not (or the key cannot verify);
 * MS_ERR_NOMEM when OpenSSL cannot build the signature or the digest context.
 */
MS_MUST_CHECK ms_err ms_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r,
                                     size_t r_len, const uint8_t *s, size_t s_len, int le,
                                     const uint8_t *msg, size_t len, ms_err bad);

#endif

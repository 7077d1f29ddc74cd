/*
 * The records' AEAD (protocol.md §8.2): ChaCha20-Poly1305 as RFC 8439 §2.8 defines it (12-byte
 * nonce, 16-byte tag). Two implementations of the one construction, the same bytes either way:
 * libsodium's for short messages, OpenSSL's from MS_AEAD_LARGE bytes on, where its vectorised
 * ChaCha20 and Poly1305 run about 2.4 times as fast on this machine (64 KiB to 1 MiB;
 * docs/performance.md). Below that OpenSSL's set-up costs more than it saves.
 */
#ifndef MS_SECURE_AEAD_H
#define MS_SECURE_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/suite.h"

/* Messages of at least this many bytes take OpenSSL's implementation (when it has one). */
#define MS_AEAD_LARGE 4096u

/* Which implementation: MS_AEAD_AUTO by size (the records); the others for tests and benches. */
typedef enum ms_aead_impl { MS_AEAD_AUTO, MS_AEAD_SODIUM, MS_AEAD_OPENSSL } ms_aead_impl;

/*
 * 1 when OpenSSL's implementation is there to take long messages (its providers have
 * ChaCha20-Poly1305, ChaCha20 and Poly1305), 0 when every message goes to libsodium (e.g. an
 * OpenSSL configured with its FIPS or base provider only). For tests and start-up logs.
 */
int ms_aead_has_openssl(void);

/*
 * ct[0..len) and tag from pt[0..len) (ct may be pt: in place). Never fails: when OpenSSL cannot (no
 * ChaCha20 in its providers, no memory) libsodium seals.
 */
void ms_aead_seal(ms_aead_impl impl, uint8_t *ct, uint8_t tag[static MS_TAG_LEN], const uint8_t *pt,
                  size_t len, const uint8_t *ad, size_t ad_len,
                  const uint8_t nonce[static MS_NONCE_LEN], const uint8_t key[static MS_KEY_LEN]);

/*
 * The tag is verified before a byte of plaintext is written, by either implementation (OpenSSL's:
 * Poly1305 over the ciphertext first, then ChaCha20): when it does not match, MS_ERR_REC_AUTH and
 * pt[0..len) zeroed (libsodium's rule, kept by both). pt may be ct.
 */
MS_MUST_CHECK ms_err ms_aead_open(ms_aead_impl impl, uint8_t *pt, const uint8_t *ct, size_t len,
                                  const uint8_t tag[static MS_TAG_LEN], const uint8_t *ad,
                                  size_t ad_len, const uint8_t nonce[static MS_NONCE_LEN],
                                  const uint8_t key[static MS_KEY_LEN]);

#endif

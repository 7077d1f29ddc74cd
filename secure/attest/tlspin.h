/* TLS key pinning inside the TLS handshake (OpenSSL verify callback), for libcurl's OpenSSL. */
#ifndef MS_SECURE_ATTEST_TLSPIN_H
#define MS_SECURE_ATTEST_TLSPIN_H

#include <stdint.h>

#include "common/err.h"
#include "secure/suite.h"

/*
 * State of one client's pin. Every TLS connection's leaf certificate is hashed
 * (SHA-256 of its SubjectPublicKeyInfo) into `seen` while the handshake runs; when
 * `have_expected` is set, a different key fails that TLS handshake (before any request
 * byte is sent) and sets `mismatch`. Not thread-safe: one per connection handle.
 */
typedef struct ms_tls_pin {
    uint8_t expected[MS_SPKI_HASH_LEN];
    int have_expected;
    uint8_t seen[MS_SPKI_HASH_LEN];
    int have_seen;
    int mismatch;
} ms_tls_pin;

/*
 * Install the check on an OpenSSL SSL_CTX (the `void *ssl_ctx` that libcurl's
 * CURLOPT_SSL_CTX_FUNCTION hands over). The chain verification configured by the caller
 * still runs; the pin is an extra condition on the leaf. `pin` must outlive the context.
 */
MS_MUST_CHECK ms_err ms_tls_pin_install(void *ssl_ctx, ms_tls_pin *pin);

#endif

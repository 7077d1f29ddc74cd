/* SHA-256 through libsodium (common/digest.h). */
#include "common/digest.h"

#include <sodium.h>

_Static_assert(MS_SHA256_LEN == crypto_hash_sha256_BYTES, "SHA-256 length");

void ms_sha256(const void *p, size_t n, uint8_t out[static MS_SHA256_LEN])
{
    static const uint8_t empty[1];
    crypto_hash_sha256(out, n ? (const uint8_t *)p : empty, (unsigned long long)n);
}

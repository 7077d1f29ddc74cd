/* SHA-256 of bytes, for programs and layers that must not include a crypto library. */
#ifndef MS_COMMON_DIGEST_H
#define MS_COMMON_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define MS_SHA256_LEN 32u

/* out = SHA-256(p[0..n)); p may be NULL when n is 0. Cannot fail. */
void ms_sha256(const void *p, size_t n, uint8_t out[static MS_SHA256_LEN]);

#endif

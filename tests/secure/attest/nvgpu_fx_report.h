/* Test-made SPDM 1.1 measurement reports, signed with a test key (OpenSSL only: the fake NVML links it too). */
#ifndef MS_TESTS_ATTEST_NVGPU_FX_REPORT_H
#define MS_TESTS_ATTEST_NVGPU_FX_REPORT_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/*
 * request(nonce) || response(n_blocks blocks, index i+1 holding 48 bytes of fill+i+1, a
 * responder nonce, opaque data: driver "550.54", VBIOS, project and, when feature_flag >= 0,
 * a FEATURE_FLAG field), signed with `key` (ECDSA P-384 / SHA-384, r || s). Returns the
 * length written to out, 0 on failure (cap too small, signing failed).
 */
size_t nv_fx_report_build(uint8_t *out, size_t cap, const uint8_t nonce[32], size_t n_blocks,
                          uint8_t fill, int feature_flag, EVP_PKEY *key);

/*
 * A report of any shape, for the decoder's edges: `n_blocks` (0..255) blocks, index i+1
 * holding `value_len` bytes of fill+i+1, slot id `slot`, and `opaque` as the opaque data
 * (NULL: the default fields above, with `feature_flag`). Signed with `key`; key NULL
 * leaves the signature zero. Returns the length written to out, 0 on failure.
 */
typedef struct nv_fx_spdm {
    const uint8_t *nonce; /* 32 bytes */
    size_t n_blocks;
    uint16_t value_len;
    uint8_t fill, slot;
    int feature_flag;
    const uint8_t *opaque;
    size_t opaque_len;
} nv_fx_spdm;

size_t nv_fx_report_make(uint8_t *out, size_t cap, const nv_fx_spdm *s, EVP_PKEY *key);

/* One opaque data field (type u16, size u16, value) into out; its length, 0 when no room. */
size_t nv_fx_opaque_field(uint8_t *out, size_t cap, uint16_t type, const void *value,
                          uint16_t len);

/* Sign report[0, len - 96) again into its last 96 bytes. Returns 1 on success. */
int nv_fx_report_sign(uint8_t *report, size_t len, EVP_PKEY *key);

#endif

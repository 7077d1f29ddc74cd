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

/* Sign report[0, len - 96) again into its last 96 bytes. Returns 1 on success. */
int nv_fx_report_sign(uint8_t *report, size_t len, EVP_PKEY *key);

#endif

/* Internal to secure/attest and its tests: the quote bundle codec and the AK checks, in TPM types. */
#ifndef MS_SECURE_ATTEST_TPM2_BUNDLE_H
#define MS_SECURE_ATTEST_TPM2_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/tpm2.h"

/*
 * A parsed bundle. The structures are copies; the byte pointers borrow from the input
 * and are valid as long as it is. `attest_bytes` are the signed TPMS_ATTEST bytes (the
 * contents of TPM2B_ATTEST), `ak_bytes` the marshalled TPMT_PUBLIC the name is over,
 * `pcr_values` n_pcr contiguous SHA-256 values.
 */
typedef struct ms_tpm2_bundle {
    TPMS_ATTEST attest;
    const uint8_t *attest_bytes;
    size_t attest_len;
    TPMT_SIGNATURE sig;
    TPMT_PUBLIC ak;
    const uint8_t *ak_bytes;
    size_t ak_len;
    const uint8_t *pcr_values;
    size_t n_pcr;
    const uint8_t *ak_cert; /* format 0x02: the AK certificate (DER, not parsed here); else NULL */
    size_t ak_cert_len;
} ms_tpm2_bundle;

/* Check 1 of docs/attest-tpm2.md §3: MS_OK or MS_ERR_TPM_FORMAT (then *out is zeroed). */
MS_MUST_CHECK ms_err ms_tpm2_bundle_parse(const uint8_t *ev, size_t len, ms_tpm2_bundle *out);

/*
 * Append a bundle made of already-marshalled parts: `quoted` is a marshalled TPM2B_ATTEST
 * (u16 size || TPMS_ATTEST), `sig` a TPMT_SIGNATURE, `ak` a TPMT_PUBLIC, `values` n
 * SHA-256 PCR values. Nothing is checked but the sizes (MS_ERR_CAP_EXCEEDED; `out` is then
 * unchanged): tests use it to build malformed bundles.
 */
MS_MUST_CHECK ms_err ms_tpm2_bundle_write_raw(const uint8_t *quoted, size_t quoted_len,
                                              const uint8_t *sig, size_t sig_len,
                                              const uint8_t *ak, size_t ak_len,
                                              const uint8_t *values, size_t n, ms_buf *out);

/*
 * Turn the format-0x01 bundle that starts at out->p[start] (the last thing in `out`) into
 * format 0x02 by appending u16 c || cert. MS_ERR_ARG when there is no such bundle,
 * MS_ERR_CAP_EXCEEDED when it would pass MS_TPM2_MAX_BUNDLE (then `out` is unchanged).
 */
MS_MUST_CHECK ms_err ms_tpm2_bundle_add_cert(ms_buf *out, size_t start, const uint8_t *cert,
                                             size_t cert_len);

/* The same from TPM structures, marshalled with tss2-mu (MS_ERR_INTERNAL if that fails). */
MS_MUST_CHECK ms_err ms_tpm2_bundle_write(const TPM2B_ATTEST *quoted, const TPMT_SIGNATURE *sig,
                                          const TPMT_PUBLIC *ak, const uint8_t *values, size_t n,
                                          ms_buf *out);

/* Marshal a TPMT_PUBLIC into out[0..*len) (cap sizeof(TPMT_PUBLIC)); MS_ERR_INTERNAL on failure. */
MS_MUST_CHECK ms_err ms_tpm2_public_marshal(const TPMT_PUBLIC *pub, uint8_t out[static sizeof(TPMT_PUBLIC)],
                                            size_t *len);

/* 0x000B || SHA-256(bytes): the name of an object whose nameAlg is SHA-256. */
void ms_tpm2_name_of(const uint8_t *tpmt_public, size_t len, uint8_t name[static MS_TPM2_NAME_LEN]);

/* The canonical form of a quote's selection: one SHA-256 entry, 3 bytes. 0 when not. */
uint32_t ms_tpm2_selection_mask(const TPML_PCR_SELECTION *sel);
/* The canonical selection of a mask (bits 0..23). */
void ms_tpm2_selection_of(uint32_t mask, TPML_PCR_SELECTION *sel);
/* Number of bits set. */
unsigned ms_tpm2_popcount(uint32_t mask);

/* Check 8: MS_OK or MS_ERR_TPM_AK_ATTRS (tpm2_key.c). */
MS_MUST_CHECK ms_err ms_tpm2_ak_check(const TPMT_PUBLIC *ak);

/*
 * Check 10 (OpenSSL): `sig` over `msg` verifies under `ak`, which passed ms_tpm2_ak_check;
 * the signature's scheme and hash must be the key's. MS_OK or MS_ERR_TPM_SIGNATURE.
 */
MS_MUST_CHECK ms_err ms_tpm2_sig_verify(const TPMT_PUBLIC *ak, const TPMT_SIGNATURE *sig,
                                        const uint8_t *msg, size_t len);

/* SHA-256 with OpenSSL; MS_ERR_INTERNAL only if OpenSSL fails. */
MS_MUST_CHECK ms_err ms_tpm2_sha256(const uint8_t *p, size_t n, uint8_t out[static MS_TPM2_DIGEST_LEN]);

/*
 * For evidence whose AK is not a TPMT_PUBLIC in the bundle (Azure: the HCL report's
 * HCLAkPub, az_verify.c): the quote parts alone, each unmarshalled exactly as in a bundle.
 * `quoted` is a TPM2B_ATTEST, `sig` a TPMT_SIGNATURE, `values` n * 32 bytes (n <= 24).
 * Fills everything but ak / ak_bytes. MS_OK or MS_ERR_TPM_FORMAT (then *out is zeroed).
 */
MS_MUST_CHECK ms_err ms_tpm2_quote_parts_parse(const uint8_t *quoted, size_t quoted_len,
                                               const uint8_t *sig, size_t sig_len,
                                               const uint8_t *values, size_t values_len,
                                               ms_tpm2_bundle *out);

/* Checks 4, 6 and 7 of ms_tpm2_verify on their own (tpm2_verify.c), same errors. */
MS_MUST_CHECK ms_err ms_tpm2_check_nonce(const TPMS_ATTEST *a,
                                         const uint8_t binding[static MS_BINDING_LEN]);
MS_MUST_CHECK ms_err ms_tpm2_check_digest(const ms_tpm2_bundle *b, uint32_t mask);
MS_MUST_CHECK ms_err ms_tpm2_check_values(const ms_tpm2_bundle *b, const ms_tpm2_policy *p);

#endif

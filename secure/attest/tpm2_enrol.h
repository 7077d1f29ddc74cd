/* TPM key provenance, the enrolment of a supervisor's AK (docs/attest-tpm2.md §7): the
 * supervisor host's steps (its TPM) and the operator's (EK chain, credential, AK certificate). */
#ifndef MS_SECURE_ATTEST_TPM2_ENROL_H
#define MS_SECURE_ATTEST_TPM2_ENROL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/tpm2.h"

#define MS_TPM2_ENROL_FORMAT 0x01u   /* first byte of a request and of a challenge */
#define MS_TPM2_ENROL_CRED_LEN 32u   /* the credential: also the whole response */
/* MS_TPM2_MAX_ENROL (bytes of a request or challenge) is in common/limits.h. */

/*
 * Supervisor host, step 1: the request, appended to `out`: u8 0x01 || u16 e || EK
 * certificate (NV index 0x01c00002, as stored) || u16 k || EK TPMT_PUBLIC (the TCG EK
 * template L-1 made again as a primary key) || u16 a || AK TPMT_PUBLIC (the producer's AK
 * in `hierarchy`, MS_TPM2_HIERARCHY_*). `tcti` as ms_tpm2_producer_cfg. Leaves nothing
 * loaded. MS_ERR_TPM_DEVICE (no EK certificate, TPM failure), MS_ERR_CAP_EXCEEDED.
 */
MS_MUST_CHECK ms_err ms_tpm2_enrol_request(const char *tcti, uint8_t hierarchy, ms_buf *out);

/*
 * Supervisor host, step 2: TPM2_ActivateCredential of a challenge (u8 0x01 || u16 b ||
 * credentialBlob || u16 s || encrypted seed) with this TPM's EK and AK; the recovered
 * credential (the response, 32 bytes) appended to `out`. MS_ERR_TPM_FORMAT (malformed
 * challenge), MS_ERR_TPM_ACTIVATION (the TPM refused it: made for another EK or AK),
 * MS_ERR_TPM_DEVICE. Leaves nothing loaded.
 */
MS_MUST_CHECK ms_err ms_tpm2_enrol_activate(const char *tcti, uint8_t hierarchy,
                                            const uint8_t *challenge, size_t len, ms_buf *out);

/*
 * Operator: check a request (untrusted): it decodes exactly (MS_ERR_TPM_FORMAT), the EK
 * certificate chains to `roots_pem` at `now` and holds the EK (ms_tpm2_ek_cert_verify's
 * errors), the AK is an attestation key (MS_ERR_TPM_AK_ATTRS). Its AK name into `ak_name`
 * (zeroed on error). Reentrant.
 */
MS_MUST_CHECK ms_err ms_tpm2_enrol_check(const uint8_t *req, size_t len, const uint8_t *roots_pem,
                                         size_t roots_len, int64_t now,
                                         uint8_t ak_name[static MS_TPM2_NAME_LEN]);

/*
 * The credential an enrolment expects back: HMAC-SHA256 keyed with SHA-256 of the AK CA's
 * private key file, over "minions-secure tpm2 enrol" || SHA-256(request). Only the holder of that
 * key can compute it, so the operator keeps no state between the two steps.
 */
MS_MUST_CHECK ms_err ms_tpm2_enrol_credential(const uint8_t *ca_key_pem, size_t ca_key_len,
                                              const uint8_t *req, size_t len,
                                              uint8_t cred[static MS_TPM2_ENROL_CRED_LEN]);

/* Operator, after ms_tpm2_enrol_check: the challenge for `cred`, appended to `out`. */
MS_MUST_CHECK ms_err ms_tpm2_enrol_challenge(const uint8_t *req, size_t len,
                                             const uint8_t cred[static MS_TPM2_ENROL_CRED_LEN],
                                             ms_buf *out);

/*
 * Operator, last step: the response must be `cred`, exactly (constant time; else
 * MS_ERR_TPM_ACTIVATION); then the AK certificate (ms_tpm2_ak_cert_issue, valid from
 * now - 1 h to not_after) is appended to `out`. The request is checked again as by
 * ms_tpm2_enrol_check.
 */
MS_MUST_CHECK ms_err ms_tpm2_enrol_issue(const uint8_t *req, size_t len, const uint8_t *roots_pem,
                                         size_t roots_len, int64_t now,
                                         const uint8_t cred[static MS_TPM2_ENROL_CRED_LEN],
                                         const uint8_t *response, size_t response_len,
                                         const uint8_t *ca_key_pem, size_t ca_key_len,
                                         const uint8_t *ca_cert_pem, size_t ca_cert_len,
                                         int64_t not_after, ms_buf *out);

#endif

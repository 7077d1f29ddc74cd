/* Internal to secure/attest and its tests: TPM key provenance (EK certificate, credential
 * activation, AK certificates; docs/attest-tpm2.md §7), in TPM and OpenSSL types. */
#ifndef MS_SECURE_ATTEST_TPM2_EK_H
#define MS_SECURE_ATTEST_TPM2_EK_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/tpm2.h"

/* NV indices of EK certificates (TCG EK Credential Profile 2.0, §2.2.1.4, low range). */
#define MS_TPM2_EK_NV_RSA2048 0x01c00002u
#define MS_TPM2_EK_NV_ECC_P256 0x01c0000au
#define MS_TPM2_CRED_LEN 32u /* the credential that activation must give back */

/*
 * The TCG default EK template L-1: RSA 2048, nameAlg SHA-256, fixedTPM | fixedParent |
 * sensitiveDataOrigin | adminWithPolicy | restricted | decrypt, authPolicy =
 * PolicySecret(TPM_RH_ENDORSEMENT), AES-128-CFB, unique = 256 zero bytes. As a primary
 * key in the endorsement hierarchy it is the key the EK certificate certifies.
 */
void ms_tpm2_ek_template(TPM2B_PUBLIC *out);

/* The public area is an EK we can make credentials for: the template's type, nameAlg,
 * attributes and parameters, a 256-byte modulus. MS_OK or MS_ERR_TPM_EK_CERT. */
MS_MUST_CHECK ms_err ms_tpm2_ek_check(const TPMT_PUBLIC *ek);

/*
 * The EK certificate `der` (untrusted, read from the TPM's NV: trailing zero bytes, the
 * padding some TPMs leave, are allowed; anything else after the DER is not) against
 * `roots_pem` (the pinned roots and intermediates, PEM, every certificate in it is
 * trusted) at time `now` (seconds since the epoch), and the EK public area `ek`:
 *   MS_ERR_TPM_EK_CERT   not one DER certificate, the EK is not ms_tpm2_ek_check's, or
 *                        the certificate's key is not the EK's
 *   MS_ERR_TPM_EK_CHAIN  no chain to a certificate of roots_pem, or one is not valid at now
 * MS_ERR_CONFIG when roots_pem holds no certificate. Reentrant.
 */
MS_MUST_CHECK ms_err ms_tpm2_ek_cert_verify(const uint8_t *der, size_t len,
                                            const uint8_t *roots_pem, size_t roots_len,
                                            const TPMT_PUBLIC *ek, int64_t now);

/*
 * TPM2_MakeCredential in software (TPM 2.0 Part 1, §24 "Credential Protection"): `cred`
 * (1..32 bytes) protected so that only a TPM holding `ek` (ms_tpm2_ek_check) and an object
 * named `ak_name` can recover it with TPM2_ActivateCredential. A fresh random seed each
 * call. MS_ERR_ARG (bad sizes), MS_ERR_TPM_EK_CERT (not an EK we support), MS_ERR_INTERNAL
 * (OpenSSL). Outputs are zeroed on error.
 */
MS_MUST_CHECK ms_err ms_tpm2_make_credential(const TPMT_PUBLIC *ek,
                                             const uint8_t ak_name[static MS_TPM2_NAME_LEN],
                                             const uint8_t *cred, size_t cred_len,
                                             TPM2B_ID_OBJECT *blob, TPM2B_ENCRYPTED_SECRET *secret);

/*
 * Issue an AK certificate (X.509 v3, DER appended to `out`): subject CN "minions-secure
 * tpm2 ak" and serialNumber = hex of the AK name's digest, the AK's public key, CA:FALSE,
 * keyUsage digitalSignature, valid [not_before, not_after], signed by `ca_key_pem` (EC,
 * RSA or Ed25519; SHA-256) whose certificate is `ca_cert_pem`. The caller has verified
 * that the AK is one (ms_tpm2_ak_check) and that the EK activated it. MS_ERR_CONFIG
 * (unreadable CA key or certificate, or they do not match), MS_ERR_TPM_AK_ATTRS,
 * MS_ERR_INTERNAL.
 */
MS_MUST_CHECK ms_err ms_tpm2_ak_cert_issue(const TPMT_PUBLIC *ak, const uint8_t *ca_key_pem,
                                           size_t ca_key_len, const uint8_t *ca_cert_pem,
                                           size_t ca_cert_len, int64_t not_before,
                                           int64_t not_after, ms_buf *out);

/*
 * The AK certificate `der` (untrusted: one DER certificate, no trailing bytes) chains to a
 * certificate of `ca_pem` (all trusted) at time `now`, and its public key is `ak`'s.
 * MS_OK or MS_ERR_TPM_AK_CERT. Reentrant.
 */
MS_MUST_CHECK ms_err ms_tpm2_ak_cert_verify(const uint8_t *der, size_t len, const uint8_t *ca_pem,
                                            size_t ca_len, const TPMT_PUBLIC *ak, int64_t now);

/* 1 when `der` is one DER certificate (no trailing bytes) whose key is `ak`'s; no chain. */
int ms_tpm2_ak_cert_key_is(const uint8_t *der, size_t len, const TPMT_PUBLIC *ak);

/* The OpenSSL public key of an ECC P-256 or RSA public area (tpm2_key.c); NULL if invalid. */
EVP_PKEY *ms_tpm2_pkey_of(const TPMT_PUBLIC *pub);

#endif

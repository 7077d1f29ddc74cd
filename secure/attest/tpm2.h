/* TPM 2.0 quote evidence (docs/attest-tpm2.md): the verifier a client runs, and AK names. */
#ifndef MS_SECURE_ATTEST_TPM2_H
#define MS_SECURE_ATTEST_TPM2_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/suite.h"

#define MS_TPM2_FORMAT 0x01u        /* first byte of a bundle (docs/attest-tpm2.md §2) */
#define MS_TPM2_FORMAT_AK_CERT 0x02u /* ... of a bundle that ends with an AK certificate */
#define MS_TPM2_DIGEST_LEN 32u      /* SHA-256: PCR values, PCR digest, name digest */
#define MS_TPM2_NAME_LEN 34u        /* u16 nameAlg (0x000B, SHA-256) || SHA-256(TPMT_PUBLIC) */
#define MS_TPM2_NONCE_LEN 32u       /* extraData = binding[0..32) (protocol.md §6) */
#define MS_TPM2_NUM_PCRS 24u        /* PCRs 0..23 of the SHA-256 bank */
/* MS_TPM2_MAX_BUNDLE, the cap of a whole bundle, is in common/limits.h. */

_Static_assert(MS_TPM2_NONCE_LEN <= MS_BINDING_LEN, "extraData is a prefix of B");
_Static_assert(MS_TPM2_MAX_BUNDLE <= MS_MAX_EVIDENCE, "a bundle fits in a ServerHello");

/*
 * What a client requires of a quote. Plain data: copy it, share it between threads.
 * `pcr_mask` selects PCRs of the SHA-256 bank (bit i = PCR i, i < 24, at least one bit);
 * the quote must select exactly these. `pcr_values[i]` is the expected value of PCR i,
 * read only for the selected i. The AK is pinned by exactly one of: `ak_name` (when
 * `ak_ca_pem` is NULL), or `ak_ca_pem` (PEM certificates, borrowed: they must outlive the
 * policy): the bundle must then carry an AK certificate that chains to one of them and
 * holds the AK's key (docs/attest-tpm2.md §7), and `ak_name` is not used.
 */
typedef struct ms_tpm2_policy {
    uint8_t ak_name[MS_TPM2_NAME_LEN];
    uint32_t pcr_mask;
    uint8_t pcr_values[MS_TPM2_NUM_PCRS][MS_TPM2_DIGEST_LEN];
    const uint8_t *ak_ca_pem;
    size_t ak_ca_pem_len;
} ms_tpm2_policy;

/*
 * Verify a quote bundle `ev` (untrusted, `len` bytes) against `policy` and the binding B
 * of protocol.md §6 (only its first 32 bytes are in the quote). Checks, in this order,
 * each with its own error (docs/attest-tpm2.md §3):
 *   MS_ERR_TPM_FORMAT      envelope and each TPM structure unmarshal exactly, no trailing bytes
 *   MS_ERR_TPM_MAGIC       TPMS_ATTEST.magic is TPM_GENERATED_VALUE
 *   MS_ERR_TPM_TYPE        TPMS_ATTEST.type is TPM_ST_ATTEST_QUOTE
 *   MS_ERR_TPM_NONCE       extraData is binding[0..32)
 *   MS_ERR_TPM_PCR_SELECT  the quote selects exactly policy->pcr_mask, SHA-256 bank only
 *   MS_ERR_TPM_PCR_DIGEST  one value per selected PCR, and SHA-256 of them is pcrDigest
 *   MS_ERR_TPM_PCR_VALUE   each value is the policy's
 *   MS_ERR_TPM_AK_ATTRS    AK is restricted, fixedTPM, fixedParent, sensitiveDataOrigin,
 *                          sign, not decrypt; ECC P-256 + ECDSA-SHA256 or RSA + RSASSA-SHA256
 *   MS_ERR_TPM_AK_NAME     AK name equals policy->ak_name (when the policy pins a name)
 *   MS_ERR_TPM_AK_CERT     (when the policy pins ak_ca_pem) the bundle's AK certificate
 *                          chains to it, is valid now, and holds the AK's public key
 *   MS_ERR_TPM_SIGNATURE   the signature over the TPMS_ATTEST bytes verifies under the AK
 * MS_ERR_ARG for an invalid policy (no PCR selected, or a bit above 23). Reentrant: no
 * state, safe from any number of threads. tss2-mu may print its own error line to stderr
 * on malformed input (silence with TSS2_LOG=marshal+none).
 */
MS_MUST_CHECK ms_err ms_tpm2_verify(const ms_tpm2_policy *policy, const uint8_t *ev, size_t len,
                                    const uint8_t binding[static MS_BINDING_LEN]);
/* The same, judging the AK certificate's validity at `now` (seconds since the epoch)
 * instead of the current time. */
MS_MUST_CHECK ms_err ms_tpm2_verify_at(const ms_tpm2_policy *policy, const uint8_t *ev,
                                       size_t len, const uint8_t binding[static MS_BINDING_LEN],
                                       int64_t now);

/*
 * Name of a key from its marshalled TPMT_PUBLIC (untrusted): 0x000B || SHA-256(bytes),
 * the form `tpm2_readpublic` prints. MS_ERR_TPM_FORMAT unless the bytes unmarshal exactly;
 * MS_ERR_TPM_AK_ATTRS when nameAlg is not SHA-256. On error `name` is zeroed.
 */
MS_MUST_CHECK ms_err ms_tpm2_ak_name(const uint8_t *tpmt_public, size_t len,
                                     uint8_t name[static MS_TPM2_NAME_LEN]);

/*
 * Enrolment: the policy a bundle would satisfy (its AK name, PCR selection and values),
 * after the checks that do not need a policy: FORMAT, MAGIC, TYPE, PCR_SELECT (one
 * SHA-256 selection of 3 bytes, not empty), PCR_DIGEST, AK_ATTRS, SIGNATURE. This trusts
 * whoever produced the bundle: use it on the supervisor's host, or show the result to a
 * person who compares the AK name with the TPM's. On error `out` is zeroed.
 */
MS_MUST_CHECK ms_err ms_tpm2_bundle_policy(const uint8_t *ev, size_t len, ms_tpm2_policy *out);

/* PEM text (a policy's tpm2.ak_ca_pem) holds at least one certificate OpenSSL reads:
 * MS_OK, else MS_ERR_CONFIG. */
MS_MUST_CHECK ms_err ms_tpm2_ca_pem_check(const uint8_t *pem, size_t len);

/* The checks of docs/attest-tpm2.md §3, in their order. */
typedef enum ms_tpm2_check {
    MS_TPM2_CHECK_FORMAT,     /* MS_ERR_TPM_FORMAT */
    MS_TPM2_CHECK_MAGIC,      /* MS_ERR_TPM_MAGIC */
    MS_TPM2_CHECK_TYPE,       /* MS_ERR_TPM_TYPE */
    MS_TPM2_CHECK_NONCE,      /* MS_ERR_TPM_NONCE */
    MS_TPM2_CHECK_PCR_SELECT, /* MS_ERR_TPM_PCR_SELECT */
    MS_TPM2_CHECK_PCR_DIGEST, /* MS_ERR_TPM_PCR_DIGEST */
    MS_TPM2_CHECK_PCR_VALUE,  /* MS_ERR_TPM_PCR_VALUE */
    MS_TPM2_CHECK_AK_ATTRS,   /* MS_ERR_TPM_AK_ATTRS */
    MS_TPM2_CHECK_AK_NAME,    /* MS_ERR_TPM_AK_NAME */
    MS_TPM2_CHECK_AK_CERT,    /* MS_ERR_TPM_AK_CERT */
    MS_TPM2_CHECK_SIGNATURE,  /* MS_ERR_TPM_SIGNATURE */
    MS_TPM2_CHECK_COUNT
} ms_tpm2_check;

/* "format", "magic", ...: short names for printing. Never NULL. */
const char *ms_tpm2_check_name(ms_tpm2_check c);

/* Check-by-check outcome, for a tool that prints each one. */
typedef struct ms_tpm2_checks {
    uint8_t ran[MS_TPM2_CHECK_COUNT]; /* 0: skipped (its input is missing, or an earlier
                                         check it depends on failed) */
    ms_err result[MS_TPM2_CHECK_COUNT];
    int have_quote;                   /* FORMAT passed: `quoted` says what the bundle shows */
    ms_tpm2_policy quoted;            /* AK name; selection (0 unless canonical) and values
                                         (only when one per selected PCR); unauthenticated
                                         unless SIGNATURE passed */
} ms_tpm2_checks;

/*
 * For the offline tool (minions-secure attest): the checks of ms_tpm2_verify, each recorded
 * in `out`. After FORMAT every check whose inputs are there runs, even after a failure, so
 * that each can be printed. `binding` NULL skips NONCE. `policy` NULL (nothing pinned)
 * skips PCR_VALUE, AK_NAME and AK_CERT (a policy runs AK_NAME or AK_CERT, the one it
 * pins), and PCR_SELECT then only requires one canonical, non-empty
 * SHA-256 selection (as ms_tpm2_bundle_policy). PCR_VALUE runs only when PCR_SELECT passed
 * and there is one value per selected PCR. Returns the first failure in check order,
 * MS_OK when every check that ran passed: only a caller that checks which ran may treat
 * MS_OK as "verified". MS_ERR_ARG for an invalid policy or a NULL out. Reentrant.
 */
MS_MUST_CHECK ms_err ms_tpm2_verify_checks(const ms_tpm2_policy *policy, const uint8_t *ev,
                                           size_t len, const uint8_t *binding,
                                           ms_tpm2_checks *out);

#endif

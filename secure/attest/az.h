/* Azure SEV-SNP CVM evidence (az-snp-vtpm): the bundle and the client's verifier (docs/attest-azure.md). */
#ifndef MS_SECURE_ATTEST_AZ_H
#define MS_SECURE_ATTEST_AZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/az_hcl.h"
#include "secure/attest/snp.h"
#include "secure/attest/tdx.h"
#include "secure/attest/tpm2.h"
#include "secure/suite.h"

/*
 * Bundle (docs/attest-azure.md §3), every length a big-endian u16, no trailing bytes:
 *   u8 format 0x01
 *   hcl     the HCL report as read from NV 0x01400001 (1..MS_AZ_MAX_HCL bytes)
 *   quoted  TPM2B_ATTEST: u16 size || TPMS_ATTEST, as in a tpm2-quote bundle
 *   sig     TPMT_SIGNATURE
 *   values  n * 32 bytes, the quoted PCR values in ascending PCR order (n <= 24)
 *   vcek    DER (1..MS_SNP_MAX_CERT)
 *   ask     DER (0..MS_SNP_MAX_CERT; 0: the policy's)
 * The AK is not in the bundle: it is the HCLAkPub of the HCL report's variable data.
 */
#define MS_AZ_BUNDLE_FORMAT 0x01u
#define MS_AZ_MAX_QUOTED 1024u /* TPM2B_ATTEST of a quote: ~130 bytes */
#define MS_AZ_MAX_SIG 1024u    /* TPMT_SIGNATURE: 6 + RSA-4096 */
#define MS_AZ_MAX_BUNDLE                                                                     \
    (1u + 2u + MS_AZ_MAX_HCL + 2u + MS_AZ_MAX_QUOTED + 2u + MS_AZ_MAX_SIG + 2u +             \
     MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN + 2u + MS_SNP_MAX_CERT + 2u + MS_SNP_MAX_CERT)
_Static_assert(MS_AZ_MAX_BUNDLE <= MS_MAX_EVIDENCE, "a bundle fits in a ServerHello");

/* A decoded bundle: every pointer borrows from the input. */
typedef struct ms_az_bundle {
    const uint8_t *hcl;
    size_t hcl_len;
    const uint8_t *quoted;
    size_t quoted_len;
    const uint8_t *sig;
    size_t sig_len;
    const uint8_t *values;
    size_t values_len;
    const uint8_t *vcek;
    size_t vcek_len;
    const uint8_t *ask; /* NULL when absent */
    size_t ask_len;
} ms_az_bundle;

/* The layout only. MS_ERR_AZ_BUNDLE on any problem; *out zeroed on entry and on failure. */
MS_MUST_CHECK ms_err ms_az_bundle_decode(const uint8_t *ev, size_t len, ms_az_bundle *out);
/* Append a bundle; `ask` may be NULL. MS_ERR_ARG for a length out of its cap. */
MS_MUST_CHECK ms_err ms_az_bundle_encode(const ms_az_bundle *parts, ms_buf *out);

/*
 * az-tdx-vtpm bundle (docs/attest-azure.md §3), no trailing bytes:
 *   u8 format 0x02
 *   hcl, quoted, sig, values   as in format 0x01 (u16be lengths, the same caps)
 *   tdx     u32be length + a tdx evidence bundle (secure/attest/tdx.h, format 0x01): the
 *           TDX quote of the HCL report's TD report, and the collateral the supervisor
 *           serves (1..MS_AZ_MAX_TDX_PART bytes; its own decoder reads it)
 * The vTPM parts are read and written by the same code as format 0x01's.
 */
#define MS_AZ_TDX_BUNDLE_FORMAT 0x02u
#define MS_AZ_VTPM_PARTS_MAX                                                                 \
    (2u + MS_AZ_MAX_HCL + 2u + MS_AZ_MAX_QUOTED + 2u + MS_AZ_MAX_SIG + 2u +                  \
     MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN)
#define MS_AZ_MAX_TDX_PART (MS_MAX_EVIDENCE - 1u - MS_AZ_VTPM_PARTS_MAX - 4u)

/* A decoded az-tdx-vtpm bundle: vtpm's vcek / ask are NULL; pointers borrow the input. */
typedef struct ms_az_tdx_bundle {
    ms_az_bundle vtpm; /* hcl, quoted, sig, values */
    const uint8_t *tdx;
    size_t tdx_len;
} ms_az_tdx_bundle;

/* The layout only. MS_ERR_AZ_BUNDLE on any problem; *out zeroed on entry and on failure. */
MS_MUST_CHECK ms_err ms_az_tdx_bundle_decode(const uint8_t *ev, size_t len,
                                             ms_az_tdx_bundle *out);
/* Append a bundle (vtpm.vcek / ask ignored). MS_ERR_ARG for a length out of its cap. */
MS_MUST_CHECK ms_err ms_az_tdx_bundle_encode(const ms_az_tdx_bundle *parts, ms_buf *out);

/*
 * What a client pins: the sev_snp section (ARK required, ASK optional, measurement,
 * min_tcb) and the az_snp_vtpm section's PCRs (pcrs.pcr_mask / pcr_values; ak_name is not
 * used: the AK comes from the hardware-signed HCL report). Borrowed DER as in ms_snp_policy.
 */
typedef struct ms_az_policy {
    ms_snp_policy snp;
    ms_tpm2_policy pcrs;
    ms_tdx_policy tdx; /* az-tdx-vtpm: the tdx section (root, MRTD, RTMRs, collateral) */
} ms_az_policy;

/* The checks in the order they are made (docs/attest-azure.md §4). */
typedef enum ms_az_check {
    MS_AZ_CHECK_BUNDLE,          /* MS_ERR_AZ_BUNDLE */
    MS_AZ_CHECK_HCL_FORMAT,      /* MS_ERR_AZ_FORMAT */
    MS_AZ_CHECK_REPORT_TYPE,     /* MS_ERR_AZ_REPORT_TYPE: an SNP report, or a TD report */
    MS_AZ_CHECK_SNP,             /* MS_ERR_SNP_*: the SEV-SNP verifier's checks (details in snp) */
    MS_AZ_CHECK_TDX,             /* MS_ERR_TDX_*: the DCAP checks of the TDX quote (details in tdx) */
    MS_AZ_CHECK_TD_MATCH,        /* MS_ERR_AZ_TD_MISMATCH: the quote is of the HCL's TD report */
    MS_AZ_CHECK_VAR_DATA_HASH,   /* MS_ERR_AZ_VAR_DATA_HASH */
    MS_AZ_CHECK_VAR_DATA,        /* MS_ERR_AZ_VAR_DATA / MS_ERR_AZ_AKPUB */
    MS_AZ_CHECK_USER_DATA,       /* MS_ERR_AZ_USER_DATA: user-data == B */
    MS_AZ_CHECK_QUOTE_FORMAT,    /* MS_ERR_TPM_FORMAT */
    MS_AZ_CHECK_QUOTE_SIGNATURE, /* MS_ERR_AZ_QUOTE_SIGNATURE: by HCLAkPub */
    MS_AZ_CHECK_QUOTE_MAGIC,     /* MS_ERR_TPM_MAGIC */
    MS_AZ_CHECK_QUOTE_TYPE,      /* MS_ERR_TPM_TYPE */
    MS_AZ_CHECK_NONCE,           /* MS_ERR_TPM_NONCE: extraData == B[0..32) */
    MS_AZ_CHECK_PCR_SELECT,      /* MS_ERR_TPM_PCR_SELECT */
    MS_AZ_CHECK_PCR_DIGEST,      /* MS_ERR_TPM_PCR_DIGEST */
    MS_AZ_CHECK_PCR_VALUE,       /* MS_ERR_TPM_PCR_VALUE */
    MS_AZ_CHECK_COUNT
} ms_az_check;

/* "bundle", "hcl-format", ...: short names for printing. Never NULL. */
const char *ms_az_check_name(ms_az_check c);

/*
 * The client's verifier for MS_EVIDENCE_AZ_SNP_VTPM. Checks in the order of ms_az_check
 * and returns the first failure's code, MS_OK when all pass. The SEV-SNP checks are the
 * SEV-SNP verifier's own (ms_snp_verify_checks with the policy's pins and no binding:
 * the report's report_data is the variable data's hash, checked next, and B reaches the
 * report through the variable data's user-data). MS_ERR_ARG for a NULL policy, a policy
 * without an ARK or PCRs, or a NULL binding. Reentrant.
 */
MS_MUST_CHECK ms_err ms_az_snp_verify(const ms_az_policy *policy, const uint8_t *ev, size_t len,
                                      const uint8_t binding[static MS_BINDING_LEN]);

/*
 * The client's verifier for MS_EVIDENCE_AZ_TDX_VTPM (docs/attest-azure.md §4): a format
 * 0x02 bundle; the checks of ms_az_check in order except SNP, the first failure's code.
 * TDX is the DCAP verifier's checks of the quote with the policy's tdx pins, the CRLs and
 * the collateral required (its REPORTDATA check is not run: on Azure REPORTDATA is the
 * variable data's hash, which TD_MATCH and VAR_DATA_HASH check); TD_MATCH compares the
 * quote's TD body with the HCL report's TD report field by field (MS_ERR_AZ_TD_MISMATCH).
 * MS_ERR_ARG for a NULL policy or binding, a policy without a TDX root, MRTD or PCRs.
 * Reentrant.
 */
MS_MUST_CHECK ms_err ms_az_tdx_verify(const ms_az_policy *policy, const uint8_t *ev, size_t len,
                                      const uint8_t binding[static MS_BINDING_LEN]);

/* TD_MATCH (docs/attest-azure.md §4, 4b): every field of a quote's TD body is the TD
   report's. MS_OK or MS_ERR_AZ_TD_MISMATCH. The client's check, and the producer's before it
   serves a quote from Azure's quote service. */
MS_MUST_CHECK ms_err ms_az_td_match(const ms_az_td_report *r, const ms_tdx_td_report *q);

/* Check-by-check outcome, for a tool that prints each one. */
typedef struct ms_az_checks {
    uint8_t ran[MS_AZ_CHECK_COUNT]; /* 0: skipped (input missing, or an earlier check it needs failed) */
    ms_err result[MS_AZ_CHECK_COUNT];
    int have_hcl;                   /* HCL_FORMAT passed: `hcl` is filled (borrows the input) */
    ms_az_hcl hcl;
    ms_snp_checks snp;              /* when the SNP check ran */
    ms_tdx_checks tdx;              /* when the TDX check ran (tdx.have_quote: quote decoded) */
    int have_td;                    /* a TDX HCL report whose TD report decoded */
    ms_az_td_report td;
    int have_var;                   /* VAR_DATA passed */
    ms_az_var_data var;
    int have_quote;                 /* QUOTE_FORMAT passed: `quoted` shows the selection/values */
    ms_tpm2_policy quoted;
} ms_az_checks;

/*
 * The offline tool's form (minions-secure attest --verify). `ev` is either a bundle or a
 * bare HCL report ("HCLA"...: then vcek/ask come from the caller, may be NULL, and the
 * quote checks are skipped). After the format checks every check whose inputs are there
 * runs, even after a failure. `policy` may have ark_der NULL (ARK and CHAIN skipped, as in
 * ms_snp_verify_checks); `expect` adds the measurement / TCB / PCR pins; `binding` NULL
 * skips USER_DATA and NONCE. The report type expected is the bundle's (format 0x01: SNP,
 * 0x02: TDX) or, for a bare HCL report, its own. For TDX the TD report is decoded
 * (have_td; REPORT_TYPE fails with MS_ERR_AZ_FORMAT when it does not) and, with a bundle,
 * the TDX quote is checked by ms_tdx_verify_checks (policy->tdx; no binding: REPORTDATA is
 * TD_MATCH's, `expect` as MS_TDX_EXPECT_PINS | MS_TDX_EXPECT_REQUIRED) and then matched
 * against the TD report (TD_MATCH); a bare TDX HCL report skips both. Returns the first
 * failure in order, MS_OK when every check that ran passed: only a caller that checks
 * which ran may treat MS_OK as verified.
 */
MS_MUST_CHECK ms_err ms_az_verify_checks(const ms_az_policy *policy, const uint8_t *ev,
                                         size_t len, const uint8_t *vcek, size_t vcek_len,
                                         const uint8_t *ask, size_t ask_len,
                                         const uint8_t *binding, int expect, ms_az_checks *out);

#endif

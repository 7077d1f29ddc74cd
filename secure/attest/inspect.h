/* Every check of one piece of evidence, each with its outcome, for people (minions-secure attest). */
#ifndef MS_SECURE_ATTEST_INSPECT_H
#define MS_SECURE_ATTEST_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/attest/composite.h"
#include "secure/attest/nvgpu.h"
#include "secure/attest/policy.h"
#include "secure/attest/snp.h"
#include "secure/attest/tdx.h"
#include "secure/attest/tpm2.h"
#include "secure/suite.h"

/*
 * The handshake's verifier (ms_attest_policy_verify) stops at the first failure and says
 * nothing else: right for a session, useless for an operator who wants to know what a
 * supervisor proves or why saved evidence fails. ms_attest_inspect runs the same checks
 * with the same per-type verifiers (ms_tpm2_verify_checks, ms_snp_verify_checks,
 * ms_devkey_verify) and records each one: PASS, FAIL with its own error, or SKIPPED with
 * the reason. It never decides trust on its own: a caller accepts evidence only when the
 * result is MS_OK AND a policy was given (without one, nothing is pinned and the pins'
 * checks are SKIPPED).
 */

typedef enum ms_check_status {
    MS_CHECK_SKIPPED = 0,
    MS_CHECK_PASS = 1,
    MS_CHECK_FAIL = 2,
} ms_check_status;

#define MS_INSPECT_MAX_CHECKS 48u
/* nvidia-gpu: the policy's 4, then per GPU its 8, then the count and distinct devices. */
#define MS_INSPECT_MAX_NV_CHECKS (4u + MS_NVGPU_MAX_GPUS * MS_NVGPU_CHECK_COUNT + 2u)
/* composite: the policy's 4, format, items, combination, the CPU item's own checks (those of
   its type, under MS_INSPECT_MAX_CHECKS with the policy's 4), per GPU its 8, distinct. */
#define MS_INSPECT_MAX_GPUS \
    (MS_COMPOSITE_MAX_ITEMS - 1u > MS_NVGPU_MAX_GPUS ? MS_COMPOSITE_MAX_ITEMS - 1u : MS_NVGPU_MAX_GPUS)
#define MS_INSPECT_MAX_COMPOSITE_CHECKS \
    (MS_INSPECT_MAX_CHECKS + 3u + (MS_COMPOSITE_MAX_ITEMS - 1u) * MS_NVGPU_CHECK_COUNT + 1u)
#define MS_INSPECT_CHECKS_CAP \
    (MS_INSPECT_MAX_COMPOSITE_CHECKS > MS_INSPECT_MAX_NV_CHECKS ? MS_INSPECT_MAX_COMPOSITE_CHECKS \
                                                              : MS_INSPECT_MAX_NV_CHECKS)
_Static_assert(MS_INSPECT_MAX_NV_CHECKS >= MS_INSPECT_MAX_CHECKS, "the cap covers every type");

/* What one GPU of nvidia-gpu evidence shows (once its format check passed). */
typedef struct ms_inspect_gpu {
    char device_id[64];
    char driver_version[MS_NVGPU_TEXT_MAX], vbios_version[MS_NVGPU_TEXT_MAX];
    char project[MS_NVGPU_TEXT_MAX], project_sku[MS_NVGPU_TEXT_MAX];
    char chip_sku[MS_NVGPU_TEXT_MAX];
    char cc_source[16];
    int have_feature_flag;
    uint32_t feature_flag;
    uint8_t host_flags;
    size_t n_blocks, n_unknown;
} ms_inspect_gpu;

typedef struct ms_inspect_check {
    const char *name;      /* "accepted", "signature", "ak-name", ...: static */
    ms_check_status status;
    ms_err err;            /* FAIL: the check's own code; MS_OK otherwise */
    const char *detail;    /* static: what a PASS established, or why it was SKIPPED */
} ms_inspect_check;

/* What to inspect. Pointers are borrowed for the call. */
typedef struct ms_inspect_in {
    uint16_t type;               /* MS_EVIDENCE_* */
    const uint8_t *data;         /* the evidence bytes (untrusted) */
    size_t len;
    /* Session facts, when known (a handshake, or a file saved after one). */
    int have_session;
    uint8_t mode;                /* MS_MODE_FAST / MS_MODE_STRICT */
    uint64_t not_after;
    uint64_t at;                 /* validity is judged at this time: the handshake's, or now */
    const uint8_t *static_pk;    /* MS_X25519_LEN */
    /* The binding B (MS_BINDING_LEN), or NULL: the binding checks are SKIPPED with
       `binding_why`. `binding_live`: B was computed by this process's own handshake. */
    const uint8_t *binding;
    int binding_live;
    const char *binding_why;
    /* What is trusted: the policy (NULL: nothing pinned, --any-evidence). */
    const ms_attest_policy *policy;
    /* Without a policy only: SEV-SNP roots to check the chain against (not pinned, only
       shown), or NULL: ARK and CHAIN are SKIPPED. */
    const ms_snp_policy *snp_roots;
    /* Without a policy only: TDX root, CRLs and collateral to check against (not pinned,
       only shown), or NULL: PCK-CHAIN, CRL and the collateral checks are SKIPPED. With a
       policy, its tdx section is used with `at` (when not 0) as the time. */
    const ms_tdx_policy *tdx_roots;
    /* A TDX PCK chain given offline (--tdx-collateral DIR's pck_chain.pem, PEM), or NULL:
       used, with a policy or without, for a quote that does not carry its own (type 5). */
    const uint8_t *tdx_pck_chain;
    size_t tdx_pck_chain_len;
    /* az-snp-vtpm given as a bare HCL report (no quote): its VCEK and ASK (DER), or NULL:
       the SEV-SNP checks are then SKIPPED. A bundle carries its own. */
    const uint8_t *az_vcek, *az_ask;
    size_t az_vcek_len, az_ask_len;
    /* Without a policy only: an NVIDIA root to check GPU chains against (not pinned, only
       shown), or NULL: CHAIN is SKIPPED. DER. */
    const uint8_t *nv_root_der;
    size_t nv_root_len;
} ms_inspect_in;

/* The outcome. Plain data (no pointers but static strings). */
typedef struct ms_inspect {
    uint16_t type;
    size_t n;
    ms_inspect_check checks[MS_INSPECT_CHECKS_CAP];
    /* What the evidence shows once its format check passed (unauthenticated unless its
       signature check passed): */
    int have_tpm2;
    ms_tpm2_policy tpm2;         /* AK name, the quote's selection and values */
    int have_snp;
    ms_snp_report snp;
    int have_dev_pk;
    uint8_t dev_pk[MS_SIGN_PK_LEN];
    int have_tdx;
    uint16_t tdx_version, tdx_body_type;
    ms_tdx_td_report tdx;        /* the TD's fields */
    int have_tdx_tcb;            /* the TCB check reached a level */
    ms_tdx_tcb_status tdx_tcb_status, tdx_qe_status;
    uint8_t tdx_n_advisories;
    char tdx_advisories[MS_TDX_MAX_ADVISORIES][MS_TDX_MAX_ADVISORY_ID];
    /* az-snp-vtpm: the hardware report is in have_snp/snp, the quote's PCRs in tpm2 (its
       ak_name is zero: the AK is az_var's HCLAkPub). A TDX HCL report shows its TD report. */
    int have_az_var;
    ms_az_var_data az_var;
    int have_az_td;
    ms_az_td_report az_td;
    /* nvidia-gpu: each GPU that decoded, and the measurements every such GPU agrees on
       (what a policy can pin for all of them). */
    size_t nv_n;
    ms_inspect_gpu nv[MS_INSPECT_MAX_GPUS];
    size_t nv_n_meas;
    ms_nvgpu_meas nv_meas[MS_NVGPU_MAX_BLOCKS];
    /* composite (docs/protocol.md §2.4), once its items check passed: the CPU TEE item's type
       (its facts are in the fields above, its checks named "cpu <check>") and how many GPU
       items follow (their facts in nv, their checks "gpu<i> <check>"). */
    int have_composite;
    uint16_t comp_cpu_type;
    size_t comp_gpus;
} ms_inspect;

/*
 * Run every check (docs/attestation.md, "minions-secure attest") into `out`:
 *   policy level: accepted (type in the policy's list), strict (STRICT when required),
 *   validity (`at` <= not_after, and within max_validity_seconds), binding (FAST: B
 *   recomputed from type, mode, static_pk and not_after; STRICT: B also covers the
 *   session's challenge and ephemeral keys, which nobody keeps, so SKIPPED unless live);
 *   then the type's own checks (docs/attest-tpm2.md §3, docs/attest-sev-snp.md §4, dev-key:
 *   format, key, signature).
 * Returns the first failure's code in that order, MS_OK when nothing failed, MS_ERR_ARG
 * for NULL in/out or data. Reentrant.
 */
MS_MUST_CHECK ms_err ms_attest_inspect(const ms_inspect_in *in, ms_inspect *out);

/* "PASS" / "FAIL" / "SKIPPED". */
const char *ms_check_status_name(ms_check_status s);

#endif

/* The client's attestation policy: which evidence it accepts, and what each type must show. */
#ifndef MS_SECURE_ATTEST_POLICY_H
#define MS_SECURE_ATTEST_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/az.h"
#include "secure/attest/nvgpu.h"
#include "secure/attest/composite.h"
#include "secure/attest/snp.h"
#include "secure/attest/tdx_produce.h"
#include "secure/attest/tpm2.h"
#include "secure/handshake.h"

/* MS_MAX_POLICY_FILE (bytes of a policy file) is in common/limits.h. */

/*
 * A parsed policy (docs/attestation.md gives the JSON). dev-key evidence is refused unless
 * the policy lists it AND pins its key: it proves identity, not a trusted host. Owns its
 * certificate buffers; free with ms_attest_policy_free. Read-only after loading, so one
 * policy may serve several handshakes at once.
 */
typedef struct ms_attest_policy {
    uint16_t accept[MS_MAX_HS_LIST]; /* evidence types, in order of preference */
    uint8_t n_accept;
    int require_strict;
    uint64_t max_validity_s; /* refuse evidence valid further ahead than this; 0 = no limit */
    int have_dev_pk;
    uint8_t dev_pk[MS_SIGN_PK_LEN];
    int have_tpm2;
    ms_tpm2_policy tpm2;
    ms_buf tpm2_ak_ca;       /* PEM of tpm2.ak_ca_pem, owned; tpm2 points into it */
    int have_snp;
    ms_snp_policy snp;
    ms_buf snp_ark, snp_ask; /* DER, owned; snp points into them */
    ms_buf snp_asvk, snp_crl; /* DER, owned (sev_snp.asvk_pem, crl_pem / crl_der) */
    int have_tdx;
    ms_tdx_policy tdx;
    ms_buf tdx_root;         /* DER, owned; tdx points into it and into tdx_files */
    ms_tdx_files tdx_files;  /* tdx.collateral_dir, owned */
    int have_nvgpu;           /* section "nvidia_gpu" (docs/attest-nvidia.md) */
    ms_nvgpu_policy nvgpu;    /* points into nv_root and nv_meas */
    ms_buf nv_root;           /* DER, owned */
    ms_nvgpu_meas nv_meas[MS_NVGPU_MAX_BLOCKS];
    int have_composite;      /* section "composite": the acceptable combinations */
    ms_composite_rule composite[MS_COMPOSITE_MAX_RULES];
    size_t n_composite;
    char why[192];           /* after a failed parse: which field and what is wrong */
    int have_az_snp;         /* az_snp_vtpm section: its PCRs; the SNP pins are sev_snp's */
    ms_az_policy az_snp;     /* az_snp.snp is a copy of snp (same borrowed DER) */
    int have_az_tdx;         /* az_tdx_vtpm section: its PCRs; the TDX pins are tdx's */
    ms_az_policy az_tdx;     /* az_tdx.tdx is a copy of tdx (same borrowed DER, collateral) */
} ms_attest_policy;

void ms_attest_policy_init(ms_attest_policy *p);
void ms_attest_policy_free(ms_attest_policy *p);

/*
 * Parse policy JSON (untrusted text, at most MS_MAX_POLICY_FILE bytes). Files it names
 * (the dev public key, the SEV-SNP ARK/ASK) are read relative to `base_dir`. Every field
 * is typed and checked; unknown fields are errors, so a typo cannot silently weaken the
 * policy. Errors: MS_ERR_JSON_* for the text, MS_ERR_CONFIG for inconsistent content
 * (e.g. tpm2-quote accepted without a "tpm2" section), file errors for named files.
 */
MS_MUST_CHECK ms_err ms_attest_policy_parse(ms_attest_policy *p, const uint8_t *json, size_t len,
                                            const char *base_dir);
MS_MUST_CHECK ms_err ms_attest_policy_load(ms_attest_policy *p, const char *path);

/* Accept dev-key evidence by this key (what --trusted_attestation_pem asks for). */
MS_MUST_CHECK ms_err ms_attest_policy_allow_dev_key(ms_attest_policy *p,
                                                    const uint8_t pk[static MS_SIGN_PK_LEN]);

/*
 * The handshake's evidence verifier (ms_evidence_verify_fn; ctx is the policy): the type is
 * accepted, the mode is STRICT when required, the validity is not too long, then the
 * type's own verifier with the policy's pins. Its error is the handshake's.
 */
ms_err ms_attest_policy_verify(void *ctx, const ms_evidence_view *ev);

/*
 * Composite evidence (docs/protocol.md §2.4) under the policy's "composite" section: the
 * container, its shape against the combinations, the CPU TEE item with its type's section,
 * each GPU item with the nvidia_gpu section, all over ev->binding; then no GPU twice.
 * *failed_item: 0 for the container or the CPU item, i >= 1 for the GPU item that failed.
 * The type, mode and validity checks are ms_attest_policy_verify's.
 */
MS_MUST_CHECK ms_err ms_attest_policy_verify_composite(const ms_attest_policy *p,
                                                       const ms_evidence_view *ev,
                                                       size_t *failed_item);

/* The evidence type's name in policies and messages ("dev-key", "tpm2-quote", "sev-snp",
   "tdx", "az-snp-vtpm", "nvidia-gpu", "composite", "az-tdx-vtpm"); "unknown" for others. */
const char *ms_evidence_type_name(uint16_t type);

#endif

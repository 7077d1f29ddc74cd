/* az-snp-vtpm and az-tdx-vtpm evidence, supervisor side: user data into the vTPM, the HCL report out, a quote (docs/attest-azure.md §5). */
#ifndef MS_SECURE_ATTEST_AZ_PRODUCE_H
#define MS_SECURE_ATTEST_AZ_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/az.h"
#include "secure/attest/tdx_produce.h"

typedef struct ms_az_producer_cfg {
    const char *tcti;     /* tctildr string; NULL: MS_TPM2_DEFAULT_TCTI (/dev/tpmrm0) */
    uint32_t pcr_mask;    /* SHA-256 bank PCRs to quote, at least one */
    const uint8_t *vcek;  /* DER, required: Azure serves it (docs/attest-azure.md §7) */
    size_t vcek_len;
    const uint8_t *ask;   /* DER or NULL */
    size_t ask_len;
    /* az-tdx-vtpm (docs/attest-azure.md §5): the HCL report holds a TD report, quoted by
       Azure's TD quote service; vcek / ask are then unused (NULL) */
    int tdx;
    const char *tdquote_url;        /* NULL: MS_AZ_TDQUOTE_URL */
    const ms_tdx_files *collateral; /* borrowed, must outlive the producer; NULL: none */
    uint64_t grace_s;               /* collateral served up to this long past nextUpdate */
} ms_az_producer_cfg;

/*
 * One vTPM connection (ms_tpm2_esys_open) and the persistent AK at MS_AZ_AK_HANDLE, which
 * the paravisor provisions; copies of the certificates. Errors: MS_ERR_ARG,
 * MS_ERR_TPM_DEVICE (no TPM, or no key at 0x81000003), MS_ERR_NOMEM.
 * Thread-safety: _evidence may be called from any number of threads (a mutex serialises
 * the TPM commands, and the NV write / NV read pair must not interleave); _free must not race.
 */
struct ms_az_producer;
MS_MUST_CHECK ms_err ms_az_producer_new(struct ms_az_producer **out, const ms_az_producer_cfg *cfg);
void ms_az_producer_free(struct ms_az_producer *p);

/*
 * Append a bundle over B (docs/attest-azure.md §3, §5): format 0x01, or 0x02 with cfg->tdx:
 *   1. NV_Write of B (64 bytes) to MS_AZ_NV_USER_DATA, defining the index when absent;
 *   2. NV_Read of MS_AZ_NV_HCL_REPORT (its size from NV_ReadPublic): on Azure the
 *      paravisor makes a fresh hardware report whose variable data's user-data is hex(B);
 *   3. TPM2_Quote by the AK over extraData = B[0..32) and the configured PCRs, then their
 *      values, quoting again (up to MS_TPM2_QUOTE_TRIES) when a PCR changed in between.
 * The HCL report is checked to be one (ms_az_hcl_decode) and to carry user-data == B, so a
 * host whose paravisor did not take B fails here (MS_ERR_AZ_USER_DATA), not at the client.
 * With cfg->tdx, after step 2: the report must hold a TD report (MS_ERR_AZ_REPORT_TYPE,
 * MS_ERR_AZ_FORMAT); Azure's TD quote service is asked for a quote of it
 * (ms_az_tdquote_get: MS_ERR_HTTP_*, MS_ERR_AZ_TDQUOTE_*); the quote must decode
 * (MS_ERR_TDX_FORMAT) and its TD body be that TD report (MS_ERR_AZ_TD_MISMATCH); then the
 * tdx part is the quote with the collateral (ms_tdx_evidence_from_blob: stale collateral is
 * MS_ERR_TDX_STALE_*).
 * On error `out` is unchanged.
 */
MS_MUST_CHECK ms_err ms_az_producer_evidence(struct ms_az_producer *p,
                                             const uint8_t binding[static MS_BINDING_LEN],
                                             ms_buf *out);

/*
 * Tests only: fn(ctx) runs between the NV write of B and the NV read of the report, under
 * the producer's lock (it must not use the producer). A swtpm has no paravisor: the test's
 * hook plays it, making the report for the B just written (tests/secure/attest/test_az_produce.c).
 */
void ms_az_producer_set_after_write(struct ms_az_producer *p, void (*fn)(void *ctx), void *ctx);

#endif

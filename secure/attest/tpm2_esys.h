/* Internal to secure/attest and its tests: ESAPI pieces the producer is made of. */
#ifndef MS_SECURE_ATTEST_TPM2_ESYS_H
#define MS_SECURE_ATTEST_TPM2_ESYS_H

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/tpm2.h"

/* The unique field of the AK template: makes our primary key ours, not another tool's. */
#define MS_TPM2_AK_UNIQUE "minions-secure/1 tpm2 ak"

/*
 * The AK template: ECC P-256, ECDSA-SHA256, nameAlg SHA-256, restricted | sign | fixedTPM |
 * fixedParent | sensitiveDataOrigin | userWithAuth, empty authPolicy. As a primary key it
 * is a function of the hierarchy's seed and this template: the same TPM gives the same AK.
 */
void ms_tpm2_ak_template(TPM2B_PUBLIC *out);

/* TCTI by configuration string (NULL: MS_TPM2_DEFAULT_TCTI), then ESAPI. MS_ERR_TPM_DEVICE. */
MS_MUST_CHECK ms_err ms_tpm2_esys_open(const char *tcti_conf, TSS2_TCTI_CONTEXT **tcti,
                                       ESYS_CONTEXT **esys);
/* Finalize both (either may be NULL); sets them to NULL. Flush handles first. */
void ms_tpm2_esys_close(TSS2_TCTI_CONTEXT **tcti, ESYS_CONTEXT **esys);

/*
 * Read the SHA-256 bank's PCRs in `mask` (TPM2_PCR_Read returns at most 8 per call, so
 * this loops) into values[0..n) in ascending PCR order, n = popcount(mask).
 * MS_ERR_TPM_DEVICE when the TPM fails or returns something else than asked (e.g. the
 * bank is not allocated). Values read in different calls may come from different PCR
 * states: callers compare their digest with a quote's.
 */
MS_MUST_CHECK ms_err ms_tpm2_esys_read_pcrs(ESYS_CONTEXT *esys, uint32_t mask,
                                            uint8_t values[static MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN],
                                            size_t *n);

/*
 * Tests only: `fn(ctx)` runs inside ms_tpm2_producer_quote between TPM2_Quote and
 * TPM2_PCR_Read, under the producer's lock (it must not use the producer), so a test can
 * change a PCR exactly there. NULL removes it.
 */
struct ms_tpm2_producer;
void ms_tpm2_producer_set_between(struct ms_tpm2_producer *p, void (*fn)(void *ctx), void *ctx);

/*
 * TPM2_CreatePrimary of `tmpl` in `hierarchy` (ESYS_TR_RH_*, empty authorization): the
 * handle in *h (flush it) and the public area in *pub. MS_ERR_TPM_DEVICE.
 */
MS_MUST_CHECK ms_err ms_tpm2_esys_primary(ESYS_CONTEXT *esys, ESYS_TR hierarchy,
                                          const TPM2B_PUBLIC *tmpl, ESYS_TR *h, TPMT_PUBLIC *pub);

/*
 * The contents of NV index `index` (e.g. MS_TPM2_EK_NV_RSA2048), read in chunks with the
 * index's own (empty) authorization, else the owner's; appended to `out` (at most `cap`
 * bytes: MS_ERR_CAP_EXCEEDED). MS_ERR_TPM_DEVICE when there is no such index.
 */
MS_MUST_CHECK ms_err ms_tpm2_esys_nv_read(ESYS_CONTEXT *esys, uint32_t index, size_t cap,
                                          ms_buf *out);

/*
 * TPM2_ActivateCredential: `ak` (loaded, empty authorization) and `ek` (loaded, the EK
 * template's policy: PolicySecret(TPM_RH_ENDORSEMENT) in a policy session made here).
 * The recovered credential into cred[0..*n), *n <= 32. MS_ERR_TPM_ACTIVATION when the TPM
 * refuses the blob (made for another EK or another name, or altered); MS_ERR_TPM_DEVICE
 * for other failures (the TSS2_RC goes to the log either way).
 */
MS_MUST_CHECK ms_err ms_tpm2_esys_activate(ESYS_CONTEXT *esys, ESYS_TR ak, ESYS_TR ek,
                                           const TPM2B_ID_OBJECT *blob,
                                           const TPM2B_ENCRYPTED_SECRET *secret,
                                           uint8_t cred[static 32], size_t *n);

/* Log "what failed: rc" (a TSS2_RC, hexadecimal) and return MS_ERR_TPM_DEVICE. */
ms_err ms_tpm2_tss_fail(const char *what, TSS2_RC rc);

/*
 * NV indices (az_produce.c), with the owner hierarchy's (empty) authorization, in chunks the
 * TPM accepts. _nv_write defines the index first (owner read/write, auth read/write, `n`
 * bytes) when it does not exist and `define` is set. _nv_read reads the whole index (its
 * size from TPM2_NV_ReadPublic, at most `max`, else MS_ERR_CAP_EXCEEDED) and appends it.
 * MS_ERR_TPM_DEVICE when the TPM refuses.
 */
MS_MUST_CHECK ms_err ms_tpm2_esys_nv_write(ESYS_CONTEXT *esys, uint32_t index, const uint8_t *p,
                                           size_t n, int define);
MS_MUST_CHECK ms_err ms_tpm2_esys_nv_read(ESYS_CONTEXT *esys, uint32_t index, size_t max,
                                          ms_buf *out);

/*
 * *same = the values (n SHA-256 PCR values) hash to the quote's pcrDigest, i.e. they are
 * the quoted ones (tpm2_producer.c). MS_ERR_TPM_DEVICE if the TPM's quote does not unmarshal.
 */
MS_MUST_CHECK ms_err ms_tpm2_values_quoted(const TPM2B_ATTEST *quoted, const uint8_t *values,
                                           size_t n, int *same);

#endif

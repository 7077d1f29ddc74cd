/* Test helper: ESAPI commands the tests need beyond the producer (other keys, forgeries, PCRs). */
#ifndef MS_TESTS_ATTEST_TPM2_TPM_H
#define MS_TESTS_ATTEST_TPM2_TPM_H

#include <stdint.h>
#include <tss2/tss2_esys.h>

#include "common/buf.h"
#include "secure/suite.h"

/* A test's own connection to the TPM. Not thread-safe: one per thread. */
typedef struct tpm2_conn {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
} tpm2_conn;

int tpm2_conn_open(tpm2_conn *c, const char *tcti); /* 0 on success */
void tpm2_conn_close(tpm2_conn *c);

/* Templates besides the producer's AK: an RSA-2048 AK (RSASSA-SHA256), and an ECC P-256
 * ECDSA-SHA256 signing key with every AK attribute but `restricted`. */
void tpm2_template_rsa_ak(TPM2B_PUBLIC *out);
void tpm2_template_unrestricted(TPM2B_PUBLIC *out);

/* A primary key in `hierarchy` (ESYS_TR_RH_*); its public area in *pub. ESYS_TR_NONE on failure. */
ESYS_TR tpm2_primary(tpm2_conn *c, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl, TPMT_PUBLIC *pub);
void tpm2_flush(tpm2_conn *c, ESYS_TR h);

/* Bundles made with other commands than the producer's; each 0 on success. */
/* TPM2_Quote with `key`, then the values (no retry: nothing else extends PCRs meanwhile). */
int tpm2_quote_bundle(tpm2_conn *c, ESYS_TR key, const TPMT_PUBLIC *pub, uint32_t mask,
                      const uint8_t binding[static MS_BINDING_LEN], ms_buf *out);
/* TPM2_Certify of `key` by itself, with qualifyingData = binding[0..32): a genuine TPM
 * attestation, but a TPMS_CERTIFY_INFO. */
int tpm2_certify_bundle(tpm2_conn *c, ESYS_TR key, const TPMT_PUBLIC *pub, uint32_t mask,
                        const uint8_t binding[static MS_BINDING_LEN], ms_buf *out);
/*
 * A TPMS_ATTEST marshalled here (magic, quote type, extraData = binding[0..32), the PCR
 * selection and the digest of the current values), signed with TPM2_Sign by `key` over its
 * SHA-256 with a NULL ticket. *rc is the TPM2_Sign result: success for an unrestricted
 * key, an error for a restricted one (it refuses digests of data starting with the magic).
 */
int tpm2_forged_bundle(tpm2_conn *c, ESYS_TR key, const TPMT_PUBLIC *pub, uint32_t mask,
                       const uint8_t binding[static MS_BINDING_LEN], ms_buf *out, TSS2_RC *rc);

int tpm2_pcr_extend(tpm2_conn *c, unsigned pcr, uint8_t fill);
int tpm2_pcr_reset(tpm2_conn *c, unsigned pcr);
/* Transient objects loaded in the TPM now (all connections), or -1. */
int tpm2_transient_count(tpm2_conn *c);
/* The TPM's (ESAPI's) name of a loaded object into name[0..34); 0 on success. */
int tpm2_name(tpm2_conn *c, ESYS_TR h, uint8_t name[static 34]);

#endif

/* TPM 2.0 quote evidence, supervisor side: an AK in the TPM, quotes over the binding (ESAPI). */
#ifndef MS_SECURE_ATTEST_TPM2_PRODUCER_H
#define MS_SECURE_ATTEST_TPM2_PRODUCER_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/tpm2.h"
#include "secure/suite.h"

#define MS_TPM2_DEFAULT_TCTI "device:/dev/tpmrm0" /* the kernel's resource manager */
#define MS_TPM2_HIERARCHY_ENDORSEMENT 0u           /* AK survives TPM2_Clear (default) */
#define MS_TPM2_HIERARCHY_OWNER 1u                 /* AK changes with TPM2_Clear */
/* MS_TPM2_QUOTE_TRIES is in common/limits.h with the other caps. */

typedef struct ms_tpm2_producer_cfg {
    const char *tcti;  /* tctildr string, e.g. "swtpm:host=127.0.0.1,port=2321"; NULL: default */
    uint32_t pcr_mask; /* SHA-256 bank, bit i = PCR i, i < 24, at least one */
    uint8_t hierarchy; /* MS_TPM2_HIERARCHY_*; its authorization must be empty */
    const uint8_t *ak_cert; /* optional: the AK's certificate (DER, copied), sent in every
                               bundle (format 0x02, docs/attest-tpm2.md §7); NULL: none */
    size_t ak_cert_len;
} ms_tpm2_producer_cfg;

/*
 * One TPM connection and one AK. ms_tpm2_producer_new creates the AK as a primary key
 * from a fixed template (secure/attest/tpm2_esys.h) and keeps it loaded: the producer
 * holds one transient object on the TPM until _free flushes it (swtpm without a resource
 * manager has three slots for everyone). Creating an ECC primary costs ~1 ms on swtpm
 * and up to ~100s of ms on a hardware TPM.
 *
 * Thread-safety: _quote, _policy and _ak_name may be called from any number of threads at
 * once: a mutex inside serialises the TPM commands (a TPM runs one command at a time
 * anyway). _free must not race with anything.
 *
 * Errors: MS_ERR_ARG (configuration), MS_ERR_TPM_AK_CERT (cfg->ak_cert is not one DER
 * certificate of this AK's public key), MS_ERR_TPM_DEVICE (TCTI, ESAPI or TPM failure; the
 * TSS2_RC goes to the log), MS_ERR_NOMEM. If the TPM is reset (reboot, swtpm restart)
 * the AK handle is gone: make a new producer.
 */
struct ms_tpm2_producer;

MS_MUST_CHECK ms_err ms_tpm2_producer_new(struct ms_tpm2_producer **out,
                                          const ms_tpm2_producer_cfg *cfg);
/* Flushes the AK and closes the connection. NULL is fine. */
void ms_tpm2_producer_free(struct ms_tpm2_producer *p);

/*
 * Append a bundle (docs/attest-tpm2.md §2) to `out`: TPM2_Quote with extraData =
 * binding[0..32) over the configured PCRs, then their values (TPM2_PCR_Read), checked to
 * be exactly the quoted ones (SHA-256 of them equals the quote's pcrDigest); if a PCR
 * changed in between, quote again, up to MS_TPM2_QUOTE_TRIES times, then
 * MS_ERR_ATTEST_UNAVAILABLE. On error `out` is unchanged.
 */
MS_MUST_CHECK ms_err ms_tpm2_producer_quote(struct ms_tpm2_producer *p,
                                            const uint8_t binding[static MS_BINDING_LEN],
                                            ms_buf *out);

/* The AK's name (0x000B || SHA-256 of its TPMT_PUBLIC), what a policy pins. */
void ms_tpm2_producer_ak_name(const struct ms_tpm2_producer *p, uint8_t name[static MS_TPM2_NAME_LEN]);

/*
 * Enrolment: a policy that accepts this TPM's quotes while the PCRs keep their current
 * values (AK name, the configured selection, the values a fresh quote reports). The
 * quote is checked like a client would, but for the binding and the policy.
 */
MS_MUST_CHECK ms_err ms_tpm2_producer_policy(struct ms_tpm2_producer *p, ms_tpm2_policy *out);

#endif

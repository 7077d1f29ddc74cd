/* The supervisor's evidence producer from its configuration: dev key, TPM 2.0 or SEV-SNP. */
#ifndef MS_SECURE_ATTEST_PRODUCER_H
#define MS_SECURE_ATTEST_PRODUCER_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp.h"
#include "secure/attest/tdx.h"
#include "secure/attest/tpm2.h"
#include "secure/suite.h"

/* The evidence types a supervisor can make (minions-supervisor --evidence). */
typedef enum ms_producer_kind {
    MS_PRODUCER_DEV_KEY = 0, /* "dev-key": protocol.md §12.5, development only */
    MS_PRODUCER_TPM2,        /* "tpm2": docs/attest-tpm2.md */
    MS_PRODUCER_SEV_SNP,     /* "sev-snp": docs/attest-sev-snp.md */
    MS_PRODUCER_TDX,         /* "tdx": docs/attest-tdx.md */
    MS_PRODUCER_AZ_SNP_VTPM, /* "az-snp-vtpm": docs/attest-azure.md (Azure SEV-SNP CVMs) */
    MS_PRODUCER_NVIDIA_GPU,  /* "nvidia-gpu": docs/attest-nvidia.md */
    MS_PRODUCER_AZ_TDX_VTPM, /* "az-tdx-vtpm": docs/attest-azure.md (Azure TDX CVMs) */
} ms_producer_kind;

/* "dev-key", "tpm2", "sev-snp", "tdx", "az-snp-vtpm", "nvidia-gpu" or "az-tdx-vtpm" (exactly).
   MS_ERR_CONFIG otherwise; *out is then DEV_KEY. */
MS_MUST_CHECK ms_err ms_producer_kind_parse(const char *name, ms_producer_kind *out);

/* --evidence's value: a kind, or "KIND+nvidia-gpu" (KIND a CPU TEE's: composite evidence,
   *with_gpus set). MS_ERR_CONFIG otherwise. */
MS_MUST_CHECK ms_err ms_producer_evidence_parse(const char *name, ms_producer_kind *kind,
                                                int *with_gpus);

/*
 * A PCR list as an operator writes it, "0,1,2,7": decimal PCR numbers 0..23 (SHA-256 bank)
 * separated by commas, in any order, repeats allowed, one trailing comma tolerated. Each
 * number is read as strtoul reads it (leading blanks and '+' pass, a '-' does not), at most
 * 7 characters. Sets bit i of *mask for PCR i. MS_ERR_CONFIG for an empty list, an empty
 * item, a number over 23 or anything else; *mask is 0 on entry and on failure. Untrusted
 * text is fine: it is read within its NUL.
 */
MS_MUST_CHECK ms_err ms_pcr_list_parse(const char *text, uint32_t *mask);

typedef struct ms_producer_cfg {
    ms_producer_kind kind;
    const char *dev_key;    /* DEV_KEY: the PEM key file, created (0600) when missing; its
                               public half is written to dev_key + ".pub" */
    const char *tpm_tcti;   /* TPM2: tctildr string; NULL: MS_TPM2_DEFAULT_TCTI */
    uint32_t tpm_pcrs;      /* TPM2: the PCRs to quote (ms_pcr_list_parse), at least one */
    const char *tpm_ak_cert; /* TPM2: the AK's certificate (PEM or DER), sent with each quote
                                (docs/attest-tpm2.md §7); NULL: none */
    const char *snp_certs;  /* SEV_SNP, AZ_SNP_VTPM (required there; the vTPM's TCTI and PCRs
                               are tpm_tcti / tpm_pcrs): directory with the VCEK and maybe the ASK
                               (ms_snp_certs_dir_load); NULL: the host's certificate table */
    const char *snp_tsm;    /* SEV_SNP: configfs-tsm report root; NULL: MS_SNP_TSM_ROOT */
    const char *snp_device; /* SEV_SNP: guest device; NULL: MS_SNP_GUEST_DEVICE */
    const char *tdx_tsm;    /* TDX: configfs-tsm report root; NULL: MS_TDX_TSM_ROOT */
    const char *tdx_collateral; /* TDX: collateral folder served with each quote
                                   (ms_tdx_files_load); NULL: quotes only */
    uint64_t tdx_collateral_grace_s; /* TDX: serve it up to this long past its nextUpdate
                                        (ms_tdx_files_fresh, at start and per evidence) */
    const char *az_tdquote_url; /* AZ_TDX_VTPM (which also uses tpm_tcti, tpm_pcrs,
                                   tdx_collateral and its grace): Azure's TD quote service;
                                   NULL: MS_AZ_TDQUOTE_URL (IMDS) */
    const char *nv_gpus;    /* NVIDIA_GPU: "all" or an index list (ms_nvgpu_gpus_parse); NULL: all */
    const char *nv_lib;     /* NVIDIA_GPU: NVML library; NULL: MS_NVGPU_NVML_DEFAULT */
    int with_gpus;          /* composite (docs/protocol.md §2.4): `kind`'s evidence and one
                               item per GPU (nv_gpus, nv_lib), all over the same binding */
} ms_producer_cfg;

/* Which step of ms_producer_open failed, so that the program can say what to fix. */
typedef enum ms_producer_step {
    MS_PRODUCER_STEP_NONE = 0,
    MS_PRODUCER_STEP_DEV_KEY,       /* loading or creating the dev key */
    MS_PRODUCER_STEP_DEV_KEY_PUB,   /* writing dev_key.pub (or its path is too long) */
    MS_PRODUCER_STEP_TPM,           /* opening the TPM or making the attestation key */
    MS_PRODUCER_STEP_TPM_AK_CERT,   /* reading tpm_ak_cert */
    MS_PRODUCER_STEP_SNP_CERTS,     /* reading snp_certs */
    MS_PRODUCER_STEP_SNP_INTERFACE, /* neither the configfs-tsm root nor the device exists */
    MS_PRODUCER_STEP_SNP_REPORT,    /* the probe report could not be made */
    MS_PRODUCER_STEP_TDX_COLLATERAL, /* reading tdx_collateral */
    MS_PRODUCER_STEP_TDX_QUOTE,     /* the configfs-tsm root is missing or the probe quote failed */
    MS_PRODUCER_STEP_AZ_REPORT,     /* az-snp-vtpm, az-tdx-vtpm: the probe evidence could not be made */
    MS_PRODUCER_STEP_NVML,          /* NVML: not loaded, failed, or the GPUs are not there */
    MS_PRODUCER_STEP_NV_REPORT,     /* NVIDIA_GPU: the probe evidence could not be made */
} ms_producer_step;

/* What clients pin, for the program to tell its operator. Fields of other kinds are zero. */
typedef struct ms_producer_pins {
    /* DEV_KEY */
    int dev_created; /* the key was made by this open */
    char dev_fingerprint[MS_FINGERPRINT_LEN];
    /* TPM2 */
    uint8_t tpm_ak_name[MS_TPM2_NAME_LEN];
    /* SEV_SNP, from the probe report; snp_known is 0 when it could not be decoded */
    int snp_known;
    uint8_t snp_measurement[MS_SNP_MEASUREMENT_LEN];
    ms_snp_tcb snp_reported_tcb;
    int snp_has_ask; /* the bundles carry the ASK (else clients' policies must hold it) */
    /* TDX, from the probe quote; tdx_known is 0 when it could not be decoded */
    int tdx_known;
    uint8_t tdx_mrtd[MS_TDX_MEAS_LEN];
    uint8_t tdx_rtmr[MS_TDX_RTMRS][MS_TDX_MEAS_LEN];
    int tdx_debug;          /* TD_ATTRIBUTES.DEBUG is set: clients will refuse */
    int tdx_has_collateral; /* the bundles carry TCB info and QE identity */
    /* NVIDIA_GPU: the GPUs attested; nv_why says what failed at the NVML step */
    size_t nv_count;
    char nv_why[256];
} ms_producer_pins;

/*
 * Open the producer `cfg` names. SEV-SNP also makes one report now (over an all-zero
 * binding, so it binds nothing), so that a machine without SEV-SNP fails at start-up rather
 * than at the first handshake. `cfg` strings are borrowed during the call only.
 *
 * On success *out owns every key, connection and certificate; *pins says what clients pin.
 * On failure *out is NULL, *step says which step failed and the error is that step's
 * (MS_ERR_SNP_DEVICE for SNP_INTERFACE). *pins and *step are set on entry. Prints nothing.
 */
struct ms_producer;
MS_MUST_CHECK ms_err ms_producer_open(struct ms_producer **out, const ms_producer_cfg *cfg,
                                      ms_producer_pins *pins, ms_producer_step *step);
/* Wipes the dev key, flushes the TPM key, frees certificates. NULL is fine. */
void ms_producer_free(struct ms_producer *p);

/* The wire evidence type (MS_EVIDENCE_DEV_KEY, _TPM2_QUOTE, _SEV_SNP or _TDX). */
uint16_t ms_producer_type(const struct ms_producer *p);

/*
 * Append evidence over `binding` to `out` (each kind's producer: ms_devkey_evidence,
 * ms_tpm2_producer_quote, ms_snp_evidence). `ctx` is a struct ms_producer *, so this is
 * an evidence source's make function. Thread-safe: any number of calls at once. Errors are
 * the producer's.
 */
MS_MUST_CHECK ms_err ms_producer_make(void *ctx, const uint8_t binding[static MS_BINDING_LEN],
                                      ms_buf *out);

#endif

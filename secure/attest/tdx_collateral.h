/* Intel DCAP collateral for TDX quotes: PCK certificate extensions, TCB info, QE identity. */
#ifndef MS_SECURE_ATTEST_TDX_COLLATERAL_H
#define MS_SECURE_ATTEST_TDX_COLLATERAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h" /* MS_TDX_MAX_CRL */

/*
 * The interface between the quote verifier (tdx_verify.c) and the collateral code
 * (tdx_collateral.c): the quote side hands over the PCK leaf, the TD's TEE_TCB_SVN and the
 * QE report's fields; this side says which TCB level of Intel's signed TCB info they meet,
 * and whether the QE is the one Intel's QE identity names. docs/attest-tdx.md has the
 * formats and the order of the checks.
 */

#define MS_TDX_MAX_COLLATERAL_JSON (128u * 1024u) /* bytes of one TCB info / QE identity text */
#define MS_TDX_MAX_TCB_LEVELS 64u
#define MS_TDX_MAX_ADVISORIES 32u
#define MS_TDX_MAX_ADVISORY_ID 32u /* "INTEL-SA-00837" and the like, with its NUL */
/* Added with the implementation (tdx_collateral.c): */
#define MS_TDX_MAX_PCK_CERT 8192u         /* bytes of one DER PCK certificate */
#define MS_TDX_MAX_SIGNING_CHAIN 16384u   /* bytes of the TCB signing chain's PEM text */
#define MS_TDX_MAX_MODULE_IDENTITIES 8u   /* tdxModuleIdentities entries (TDX 1.5) */
#define MS_TDX_MAX_MODULE_LEVELS 8u       /* tcbLevels of one module identity */

/* Intel's TCB statuses (the PCS API's tcbStatus values). */
typedef enum ms_tdx_tcb_status {
    MS_TDX_TCB_NONE = 0, /* no level matched */
    MS_TDX_TCB_UP_TO_DATE,
    MS_TDX_TCB_SW_HARDENING_NEEDED,
    MS_TDX_TCB_CONFIGURATION_NEEDED,
    MS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    MS_TDX_TCB_OUT_OF_DATE,
    MS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    MS_TDX_TCB_REVOKED,
} ms_tdx_tcb_status;

/* "UpToDate", "SWHardeningNeeded", ... as Intel spells them; "None" for MS_TDX_TCB_NONE. */
const char *ms_tdx_tcb_status_name(ms_tdx_tcb_status s);
/* The inverse; MS_ERR_JSON_ENUM for a name Intel does not define. */
MS_MUST_CHECK ms_err ms_tdx_tcb_status_parse(const char *name, ms_tdx_tcb_status *out);

/* The SGX extensions (OID 1.2.840.113741.1.13.1) of a PCK certificate. */
typedef struct ms_tdx_pck_ext {
    uint8_t ppid[16];
    uint8_t cpusvn[16];
    uint8_t sgx_comp[16]; /* SGX TCB components 1..16 (the TCB sequence's first 16 items) */
    uint16_t pcesvn;
    uint8_t pceid[2];
    uint8_t fmspc[6];
    /* Added: SGX Type (.5): 0 Standard, 1 Scalable, 2 ScalableWithIntegrity. */
    uint8_t sgx_type;
} ms_tdx_pck_ext;

/* Decode the extensions of a PCK leaf certificate (DER). MS_ERR_TDX_PCK_EXT on any problem
   (missing, duplicated or malformed items); *out zeroed on entry and on failure. */
MS_MUST_CHECK ms_err ms_tdx_pck_ext_decode(const uint8_t *der, size_t len, ms_tdx_pck_ext *out);
/* Added: the same on the extension's value alone (its DER SEQUENCE), for fuzzing. */
MS_MUST_CHECK ms_err ms_tdx_pck_ext_value_decode(const uint8_t *p, size_t len,
                                                 ms_tdx_pck_ext *out);

/* Offline collateral, as Intel's PCS serves it. Borrowed for the call. */
typedef struct ms_tdx_collateral_in {
    const uint8_t *tcb_info;    /* {"tcbInfo":{...},"signature":"hex"} (TDX, version 3) */
    size_t tcb_info_len;
    const uint8_t *qe_identity; /* {"enclaveIdentity":{...},"signature":"hex"} (TD_QE) */
    size_t qe_identity_len;
    const uint8_t *signing_chain_pem; /* Intel SGX TCB Signing cert (then the root, optional) */
    size_t signing_chain_len;
    const uint8_t *root_crl;    /* the Intel SGX Root CA's CRL (DER or PEM), or NULL */
    size_t root_crl_len;
} ms_tdx_collateral_in;

typedef struct ms_tdx_tcb_level {
    uint8_t sgx[16];
    uint16_t pcesvn;
    uint8_t tdx[16];
    ms_tdx_tcb_status status;
    uint64_t tcb_date; /* Unix seconds */
    uint8_t n_advisories;
    char advisories[MS_TDX_MAX_ADVISORIES][MS_TDX_MAX_ADVISORY_ID];
} ms_tdx_tcb_level;

typedef struct ms_tdx_qe_level {
    uint16_t isvsvn;
    ms_tdx_tcb_status status;
    uint64_t tcb_date; /* added: Unix seconds */
} ms_tdx_qe_level;

/* Added: a level of a TDX module identity (TCB info's tdxModuleIdentities, TDX 1.5). */
typedef struct ms_tdx_module_level {
    uint8_t isvsvn; /* compared with TEE_TCB_SVN[0], the module's minor SVN */
    ms_tdx_tcb_status status;
    uint64_t tcb_date; /* Unix seconds */
    uint8_t n_advisories;
    char advisories[MS_TDX_MAX_ADVISORIES][MS_TDX_MAX_ADVISORY_ID];
} ms_tdx_module_level;

/* Added: one entry of tdxModuleIdentities; its id "TDX_%02X" names a module major version. */
typedef struct ms_tdx_module_identity {
    uint8_t version; /* "TDX_01" -> 1: selected by TEE_TCB_SVN[1] */
    uint8_t mrsigner[48];
    uint8_t attributes[8], attributes_mask[8];
    size_t n_levels;
    ms_tdx_module_level levels[MS_TDX_MAX_MODULE_LEVELS]; /* in the document's order */
} ms_tdx_module_identity;

/* Verified, parsed collateral. Plain data: copy or drop freely. */
typedef struct ms_tdx_collateral {
    /* TCB info */
    uint64_t tcb_issue_date, tcb_next_update; /* Unix seconds */
    uint32_t tcb_eval_number;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    uint8_t module_mrsigner[48];
    uint8_t module_attributes[8], module_attributes_mask[8];
    size_t n_levels;
    ms_tdx_tcb_level levels[MS_TDX_MAX_TCB_LEVELS]; /* in the document's order */
    /* QE identity */
    uint64_t qe_issue_date, qe_next_update;
    uint32_t qe_miscselect, qe_miscselect_mask;
    uint8_t qe_attributes[16], qe_attributes_mask[16];
    uint8_t qe_mrsigner[32];
    uint16_t qe_isvprodid;
    size_t n_qe_levels;
    ms_tdx_qe_level qe_levels[MS_TDX_MAX_TCB_LEVELS];
    /* Added: */
    uint32_t qe_eval_number;                 /* QE identity's tcbEvaluationDataNumber */
    size_t n_module_ids;                     /* 0 when TCB info has no tdxModuleIdentities */
    ms_tdx_module_identity module_ids[MS_TDX_MAX_MODULE_IDENTITIES];
} ms_tdx_collateral;

/*
 * Parse both documents with the typed JSON reader (caps, unknown ids refused), verify each
 * signature (ECDSA P-256 over the exact bytes of the "tcbInfo" / "enclaveIdentity" value) by
 * the TCB signing certificate, that certificate's chain to `root_der` (the pinned Intel SGX
 * Root CA), not revoked by the root CRL when given, and the validity of each certificate and
 * document at `at`: issueDate <= at <= nextUpdate + grace_s. Errors: MS_ERR_TDX_COLLATERAL_*
 * (one per check). *out is zeroed on entry and on failure.
 */
MS_MUST_CHECK ms_err ms_tdx_collateral_verify(const ms_tdx_collateral_in *in,
                                              const uint8_t *root_der, size_t root_len,
                                              uint64_t at, uint64_t grace_s,
                                              ms_tdx_collateral *out);

/*
 * Added: the parsers that ms_tdx_collateral_verify runs after the signatures, on their own
 * for fuzzing and display. UNAUTHENTICATED: nothing here is checked against a key or a time.
 * Each takes the whole response ({"tcbInfo":{...},"signature":"hex"}, resp.
 * {"enclaveIdentity":...}); *out is zeroed on entry and on failure, then only the fields of
 * that document are set. MS_ERR_TDX_COLLATERAL_FORMAT on any problem (MS_ERR_NOMEM aside).
 * Unknown members are refused at the top level and ignored inside the signed bodies (Intel
 * adds fields over time; the version field is checked, and the signature covers them all).
 */
MS_MUST_CHECK ms_err ms_tdx_tcb_info_parse(const uint8_t *doc, size_t len, ms_tdx_collateral *out);
MS_MUST_CHECK ms_err ms_tdx_qe_identity_parse(const uint8_t *doc, size_t len,
                                              ms_tdx_collateral *out);

/*
 * Added: Intel's date form, strict RFC 3339 in UTC: exactly "YYYY-MM-DDThh:mm:ssZ" (no
 * fraction, no offset, no lowercase, real calendar dates, no leap second), years 1970..9999.
 * *out is Unix seconds; MS_ERR_TDX_COLLATERAL_FORMAT otherwise (and *out is 0).
 */
MS_MUST_CHECK ms_err ms_tdx_time_parse(const char *s, size_t len, uint64_t *out);

/* What the quote verifier knows about the TD's platform. */
typedef struct ms_tdx_tcb_in {
    const ms_tdx_pck_ext *pck;
    uint8_t tee_tcb_svn[16];   /* from the TD report body */
    uint8_t mrsignerseam[48];  /* from the TD report body */
    uint8_t seam_attributes[8];
} ms_tdx_tcb_in;

typedef struct ms_tdx_tcb_result {
    const ms_tdx_tcb_level *level; /* points into the collateral; NULL when none matched */
    ms_tdx_tcb_status status;
    /* Added: for TDX 1.5 (TEE_TCB_SVN[1] > 0 with tdxModuleIdentities) the module's own
       level; `status` then combines both as Intel does (see below). NULL for TDX 1.0. */
    const ms_tdx_module_level *module_level;
    ms_tdx_tcb_status platform_status; /* the chosen tcbLevel's own status */
} ms_tdx_tcb_result;

/*
 * Intel's TCB level choice for TDX: the collateral's FMSPC and PCEID equal the PCK's
 * (MS_ERR_TDX_FMSPC); the TDX module's MRSIGNER and masked attributes match
 * (MS_ERR_TDX_MODULE); then the first level (in document order) whose SGX components and
 * PCESVN are <= the PCK's and whose TDX components are <= TEE_TCB_SVN (MS_ERR_TDX_TCB_LEVEL
 * when none). The status is reported, not judged: the policy decides what it accepts.
 * TDX 1.5 (added): when TEE_TCB_SVN[1] (the module's major version) is not 0 and TCB info has
 * tdxModuleIdentities, the identity "TDX_%02X" of that version must exist and match
 * (MS_ERR_TDX_MODULE) instead of tdxModule, the TDX components are compared from index 2
 * (0 and 1 are the module's own SVNs), and the identity's first level with isvsvn <=
 * TEE_TCB_SVN[0] is the module's level (MS_ERR_TDX_TCB_LEVEL when none). Its status
 * overrides the platform's when worse: Revoked gives Revoked; OutOfDate gives OutOfDate, or
 * OutOfDateConfigurationNeeded when the platform level needs configuration.
 */
MS_MUST_CHECK ms_err ms_tdx_tcb_evaluate(const ms_tdx_collateral *c, const ms_tdx_tcb_in *in,
                                         ms_tdx_tcb_result *out);

/* The QE report's fields that QE identity speaks of. */
typedef struct ms_tdx_qe_fields {
    uint32_t miscselect;
    uint8_t attributes[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    uint16_t isvsvn;
} ms_tdx_qe_fields;

/* MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES equal (MS_ERR_TDX_QE_IDENTITY); the
   first level with isvsvn <= the QE's gives *status (MS_ERR_TDX_TCB_LEVEL when none). */
MS_MUST_CHECK ms_err ms_tdx_qe_identity_match(const ms_tdx_collateral *c,
                                              const ms_tdx_qe_fields *qe,
                                              ms_tdx_tcb_status *status);

#endif

/* Intel TDX evidence: DCAP quote decoding, the evidence bundle and the verifier (docs/attest-tdx.md). */
#ifndef MS_SECURE_ATTEST_TDX_H
#define MS_SECURE_ATTEST_TDX_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "secure/attest/tdx_collateral.h"
#include "secure/suite.h"

/* Sizes of Intel's quote format (little-endian integers throughout; docs/attest-tdx.md §2). */
#define MS_TDX_HEADER_LEN 48u
#define MS_TDX_TD10_LEN 584u         /* TD report body, TDX 1.0 */
#define MS_TDX_TD15_LEN 648u         /* TDX 1.5: adds TEE_TCB_SVN2 (16) and MRSERVICETD (48) */
#define MS_TDX_QE_REPORT_LEN 384u    /* an SGX report body */
#define MS_TDX_ECDSA_SIG_LEN 64u     /* r || s, big-endian P-256 scalars */
#define MS_TDX_ECDSA_KEY_LEN 64u     /* x || y, big-endian P-256 coordinates */
#define MS_TDX_MEAS_LEN 48u          /* SHA-384 registers: MRTD, RTMRs, MRCONFIGID, ... */
#define MS_TDX_REPORT_DATA_LEN 64u
#define MS_TDX_RTMRS 4u
#define MS_TDX_MIN_QUOTE (MS_TDX_HEADER_LEN + MS_TDX_TD10_LEN + 4u)

#define MS_TDX_VERSION_4 4u
#define MS_TDX_VERSION_5 5u
#define MS_TDX_AK_ECDSA_P256 2u
#define MS_TDX_TEE_TYPE 0x81u
#define MS_TDX_BODY_TD10 2u          /* v5 body types */
#define MS_TDX_BODY_TD15 3u
/* Certification data types 1..3: the PPID (clear, RSA-2048 or RSA-3072 encrypted) with
   CPUSVN, PCESVN and PCE ID; 4: the PCK leaf. With these the PCK chain is given. */
#define MS_TDX_CERT_PPID_CLEAR 1u
#define MS_TDX_CERT_PCK_LEAF 4u      /* certification data: the PCK leaf alone (chain given) */
#define MS_TDX_CERT_PCK_CHAIN 5u     /* certification data: PEM PCK leaf, intermediate, root */
#define MS_TDX_CERT_QE_REPORT 6u     /* QE report certification data, wrapping a type 5 */
#define MS_TDX_TD_ATTR_DEBUG 1ull    /* TD_ATTRIBUTES bit 0 */

_Static_assert(MS_TDX_REPORT_DATA_LEN == MS_BINDING_LEN, "REPORTDATA carries all of B");
_Static_assert(MS_TDX_MAX_QUOTE <= MS_TDX_MAX_OUTBLOB, "a quote fits the outblob cap");

/* The TD's report body (TDX module ABI). td15 fields are zero for a TD 1.0 body. */
typedef struct ms_tdx_td_report {
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[MS_TDX_MEAS_LEN];
    uint8_t mrsignerseam[MS_TDX_MEAS_LEN];
    uint8_t seam_attributes[8];
    uint64_t td_attributes;
    uint64_t xfam;
    uint8_t mrtd[MS_TDX_MEAS_LEN];
    uint8_t mrconfigid[MS_TDX_MEAS_LEN];
    uint8_t mrowner[MS_TDX_MEAS_LEN];
    uint8_t mrownerconfig[MS_TDX_MEAS_LEN];
    uint8_t rtmr[MS_TDX_RTMRS][MS_TDX_MEAS_LEN];
    uint8_t report_data[MS_TDX_REPORT_DATA_LEN];
    uint8_t tee_tcb_svn2[16]; /* TD 1.5 */
    uint8_t mrservicetd[MS_TDX_MEAS_LEN];
} ms_tdx_td_report;

/* The quoting enclave's report (an SGX REPORT body), the fields the checks use. */
typedef struct ms_tdx_qe_report {
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t attributes[16];
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    uint16_t isvsvn;
    uint8_t report_data[64];
} ms_tdx_qe_report;

/* A decoded quote. Pointers borrow from the quote bytes. */
typedef struct ms_tdx_quote {
    uint16_t version;
    uint16_t ak_type;
    uint32_t tee_type;
    uint16_t qe_svn, pce_svn; /* header bytes 8..11: reserved in v4 / v5, shown, not checked */
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    uint16_t body_type;       /* MS_TDX_BODY_TD10 or _TD15 (a v4 quote is TD10) */
    ms_tdx_td_report td;
    size_t signed_len;        /* bytes [0, signed_len) are signed by the attestation key */
    uint8_t signature[MS_TDX_ECDSA_SIG_LEN];
    uint8_t attest_key[MS_TDX_ECDSA_KEY_LEN];
    const uint8_t *qe_report_raw; /* MS_TDX_QE_REPORT_LEN bytes: what the PCK key signed */
    ms_tdx_qe_report qe;
    uint8_t qe_signature[MS_TDX_ECDSA_SIG_LEN];
    const uint8_t *qe_auth;   /* QE authentication data */
    size_t qe_auth_len;
    const uint8_t *pck_chain; /* PEM text: leaf, intermediate CA, root (NULs may follow);
                                 NULL unless the certification data is type 5 */
    size_t pck_chain_len;
    uint16_t cert_type;       /* the inner certification data's type, 1..5 */
    const uint8_t *cert_data; /* its bytes (type 5: the same as pck_chain) */
    size_t cert_data_len;
    size_t len;               /* bytes of the quote */
} ms_tdx_quote;

/*
 * Decode exactly one quote of `len` bytes (strict: docs/attest-tdx.md §2): version 4 or 5,
 * attestation key type 2, TEE type 0x81; a v5 body type 2 or 3 with its exact size; the
 * signature data length equals the bytes that follow; certification data type 6 whose
 * size is exactly the QE report, its signature, the u16-prefixed QE authentication data and
 * an inner certification data of exactly the rest: type 5 (the PCK chain), or 1..4 (PPID
 * forms, the PCK leaf: the verifier then takes the chain given with the collateral); caps from common/limits.h; no trailing byte, not even
 * a zero (see ms_tdx_quote_unpad). MS_ERR_TDX_FORMAT on any problem; *out zeroed on entry
 * and on failure. Thread-safe.
 */
MS_MUST_CHECK ms_err ms_tdx_quote_decode(const uint8_t *p, size_t len, ms_tdx_quote *out);

/*
 * configfs-tsm's outblob may return the quote zero-padded to its buffer size (the Google
 * Cloud vector is 4935 bytes of quote in 8000). The quote's own length fields give its end;
 * *qlen is that end and *pad the count of bytes after it, which must all be zero
 * (MS_ERR_TDX_FORMAT otherwise, or when the length fields cannot be read). The producer
 * trims with it; the offline tool accepts padding with a notice; the client's verifier never
 * calls it (a bundle's quote is exact).
 */
MS_MUST_CHECK ms_err ms_tdx_quote_unpad(const uint8_t *p, size_t len, size_t *qlen, size_t *pad);

/* 1 when `p` starts like a TDX quote: version 4 or 5, key type 2, TEE type 0x81. */
int ms_tdx_quote_sniff(const uint8_t *p, size_t len);

/* ---- the evidence bundle (docs/attest-tdx.md §3) ---------------------------------------- */

#define MS_TDX_BUNDLE_FORMAT 0x01u
#define MS_TDX_BUNDLE_PARTS 6u

/* A decoded bundle: every pointer borrows from the bundle; absent parts are NULL / 0. */
typedef struct ms_tdx_bundle {
    const uint8_t *quote;
    size_t quote_len;
    ms_tdx_collateral_in collateral; /* tcb_info, qe_identity, signing chain, root CRL */
    const uint8_t *pck_crl;
    size_t pck_crl_len;
} ms_tdx_bundle;

/*
 * Layout: format 0x01, then six parts each as u32be length + bytes, in this order: quote
 * (required, <= MS_TDX_MAX_QUOTE), TCB info, QE identity (<= MS_TDX_MAX_COLLATERAL_JSON),
 * TCB signing chain PEM (<= MS_TDX_MAX_PCK_CHAIN), PCK CRL, root CRL (<= MS_TDX_MAX_CRL);
 * length 0 = absent; no trailing bytes. MS_ERR_TDX_FORMAT otherwise.
 */
MS_MUST_CHECK ms_err ms_tdx_bundle_decode(const uint8_t *ev, size_t len, ms_tdx_bundle *out);
/* Append a bundle to `out`; MS_ERR_ARG for a missing quote or a part over its cap. */
MS_MUST_CHECK ms_err ms_tdx_bundle_encode(const ms_tdx_bundle *b, ms_buf *out);

/* ---- the verifier --------------------------------------------------------------------- */

/* Bit of ms_tdx_policy.accept_tcb for each status. */
#define MS_TDX_ACCEPT(status) (1u << (unsigned)(status))

/*
 * What the client pins and requires. Byte strings are borrowed for each call. The root is
 * always the policy's; the PCK chain's own root is only used as an intermediate would be.
 */
typedef struct ms_tdx_policy {
    const uint8_t *root_der;  /* required: the Intel SGX Root CA */
    size_t root_len;
    const uint8_t *pck_crl;   /* DER or PEM; used when the bundle has none */
    size_t pck_crl_len;
    const uint8_t *pck_chain_pem; /* PEM PCK leaf, CA, root: used when the quote's
                                     certification data is not type 5 (pck_chain.pem) */
    size_t pck_chain_len;
    ms_tdx_collateral_in collateral; /* policy-supplied collateral; parts left NULL come
                                        from the bundle */
    uint64_t at;              /* verification time, Unix seconds; 0 = now */
    uint64_t grace_s;         /* collateral accepted this long after its nextUpdate */
    uint32_t accept_tcb;      /* MS_TDX_ACCEPT bits; 0 = UpToDate only */
    int have_mrtd, have_mrconfigid, have_mrowner;
    int have_rtmr[MS_TDX_RTMRS];
    uint8_t mrtd[MS_TDX_MEAS_LEN];
    uint8_t rtmr[MS_TDX_RTMRS][MS_TDX_MEAS_LEN];
    uint8_t mrconfigid[MS_TDX_MEAS_LEN];
    uint8_t mrowner[MS_TDX_MEAS_LEN];
} ms_tdx_policy;

/* The checks in the order they are made (docs/attest-tdx.md §4). */
typedef enum ms_tdx_check {
    MS_TDX_CHECK_FORMAT,       /* MS_ERR_TDX_FORMAT */
    MS_TDX_CHECK_PCK_CHAIN,    /* MS_ERR_TDX_PCK_CHAIN */
    MS_TDX_CHECK_CRL,          /* MS_ERR_TDX_CRL, MS_ERR_TDX_PCK_REVOKED */
    MS_TDX_CHECK_QE_SIGNATURE, /* MS_ERR_TDX_QE_SIGNATURE */
    MS_TDX_CHECK_QE_BINDING,   /* MS_ERR_TDX_QE_REPORT_DATA */
    MS_TDX_CHECK_SIGNATURE,    /* MS_ERR_TDX_SIGNATURE */
    MS_TDX_CHECK_COLLATERAL,   /* ms_tdx_pck_ext_decode, ms_tdx_collateral_verify errors */
    MS_TDX_CHECK_TCB,          /* ms_tdx_tcb_evaluate errors, MS_ERR_TDX_TCB_STATUS */
    MS_TDX_CHECK_QE_IDENTITY,  /* ms_tdx_qe_identity_match errors, MS_ERR_TDX_QE_STATUS */
    MS_TDX_CHECK_DEBUG,        /* MS_ERR_TDX_DEBUG */
    MS_TDX_CHECK_MRTD,         /* MS_ERR_TDX_MRTD */
    MS_TDX_CHECK_RTMR,         /* MS_ERR_TDX_RTMR */
    MS_TDX_CHECK_MRCONFIGID,   /* MS_ERR_TDX_MRCONFIGID */
    MS_TDX_CHECK_MROWNER,      /* MS_ERR_TDX_MROWNER */
    MS_TDX_CHECK_REPORT_DATA,  /* MS_ERR_TDX_REPORT_DATA */
    MS_TDX_CHECK_COUNT
} ms_tdx_check;

/*
 * Intel's spelling of a TCB status ("UpToDate", ...; "None" for MS_TDX_TCB_NONE), as
 * ms_tdx_tcb_status_name gives it, for policies and printing in every build (a build
 * without the collateral code has its own copy of the names). Never NULL.
 */
const char *ms_tdx_status_name(ms_tdx_tcb_status s);

/* "format", "pck-chain", ...: short names for printing. Never NULL. */
const char *ms_tdx_check_name(ms_tdx_check c);

/* Check-by-check outcome, for a tool that prints each one. */
typedef struct ms_tdx_checks {
    uint8_t ran[MS_TDX_CHECK_COUNT]; /* 0: skipped (not asked for, or its input is missing) */
    ms_err result[MS_TDX_CHECK_COUNT];
    int have_quote;                  /* FORMAT passed: `quote` is filled (pointers borrow
                                        from the evidence) */
    ms_tdx_quote quote;
    int have_tcb;                    /* the TCB check reached a level */
    ms_tdx_tcb_status tcb_status, qe_status;
    uint8_t n_advisories;
    char advisories[MS_TDX_MAX_ADVISORIES][MS_TDX_MAX_ADVISORY_ID];
} ms_tdx_checks;

/*
 * The client's verifier over a bundle (MS_EVIDENCE_TDX): every check in order, stopping at
 * the first failure, whose code it returns; MS_OK when all pass. MS_ERR_ARG for NULL
 * policy or binding; MS_ERR_NOMEM / MS_ERR_INTERNAL when OpenSSL fails on its own.
 */
MS_MUST_CHECK ms_err ms_tdx_verify(const ms_tdx_policy *policy, const uint8_t *ev, size_t len,
                                   const uint8_t binding[static MS_BINDING_LEN]);

/* ms_tdx_verify_checks' `expect` bits. */
#define MS_TDX_EXPECT_PINS 1     /* the TD fields the policy pins */
#define MS_TDX_EXPECT_REQUIRED 2 /* CRLs and collateral as the client requires them: absent
                                    is a FAIL (MS_ERR_TDX_CRL, MS_ERR_TDX_NO_COLLATERAL) */

/*
 * The offline tool's form, over a bundle (`is_bundle`) or a raw quote. After FORMAT every
 * check runs even when an earlier one failed. Skipped: CRL when no CRL is given, the
 * collateral checks when no collateral is given (unless MS_TDX_EXPECT_REQUIRED),
 * REPORT_DATA when `binding` is NULL, the TD field checks the policy does not pin (and all
 * of them without MS_TDX_EXPECT_PINS). PCK_CHAIN, CRL and COLLATERAL are skipped when the
 * policy has no root. Returns the first failure in order, MS_OK when every check that ran
 * passed: only a caller that checks which ran may treat MS_OK as "verified".
 */
MS_MUST_CHECK ms_err ms_tdx_verify_checks(const ms_tdx_policy *policy, const uint8_t *ev,
                                          size_t len, int is_bundle, const uint8_t *binding,
                                          int expect, ms_tdx_checks *out);

#endif

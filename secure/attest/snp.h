/* AMD SEV-SNP evidence: report decoding, the bundle and its verifier (docs/attest-sev-snp.md). */
#ifndef MS_SECURE_ATTEST_SNP_H
#define MS_SECURE_ATTEST_SNP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/suite.h"

/* Sizes of the ATTESTATION_REPORT (SEV-SNP firmware ABI, little-endian throughout). */
#define MS_SNP_REPORT_LEN 1184u        /* 0x4A0: the whole report */
#define MS_SNP_SIGNED_LEN 0x2A0u       /* bytes [0, 0x2A0) are covered by the signature */
#define MS_SNP_REPORT_DATA_LEN 64u
#define MS_SNP_MEASUREMENT_LEN 48u
#define MS_SNP_CHIP_ID_LEN 64u
#define MS_SNP_SIG_COMPONENT_LEN 72u   /* r and s: little-endian, zero-padded to 72 bytes */
#define MS_SNP_REPORT_HEX_LEN (2u * MS_SNP_REPORT_LEN)

#define MS_SNP_SIG_ALGO_ECDSA_P384_SHA384 1u
#define MS_SNP_POLICY_RSVD_MBO (1ull << 17) /* reserved, must be one */
#define MS_SNP_POLICY_DEBUG (1ull << 19)
#define MS_SNP_KEY_INFO_SIGNING_KEY(k) (((k) >> 2) & 7u) /* 0 = VCEK, 1 = VLEK, 7 = none */

/* Bundle (docs/attest-sev-snp.md §3). Caps are per certificate; lengths are u16 on the wire. */
#define MS_SNP_BUNDLE_FORMAT 0x01u
/* MS_SNP_MAX_CERT (bytes of one certificate) is in common/limits.h. */
#define MS_SNP_MAX_BUNDLE (1u + MS_SNP_REPORT_LEN + 2u + MS_SNP_MAX_CERT + 2u + MS_SNP_MAX_CERT)
_Static_assert(MS_SNP_MAX_CERT <= 0xFFFFu, "certificate lengths are u16");
_Static_assert(MS_SNP_MAX_BUNDLE <= MS_MAX_EVIDENCE, "a bundle fits in a ServerHello");
_Static_assert(MS_SNP_REPORT_DATA_LEN == MS_BINDING_LEN, "report_data carries all of B");

/*
 * TCB_VERSION in the Milan / Genoa layout: byte 0 boot loader, 1 TEE, 2..5 reserved (zero),
 * 6 SNP firmware, 7 microcode. `raw` is the little-endian u64 as stored in the report.
 * (Turin and later use another layout; they are not supported here.)
 */
typedef struct ms_snp_tcb {
    uint64_t raw;
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
} ms_snp_tcb;

/* Every field of a decoded report. Fields a report version does not have are zero. */
typedef struct ms_snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;
    uint32_t signature_algo;
    ms_snp_tcb current_tcb;
    uint64_t platform_info;
    uint32_t key_info; /* bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY */
    uint8_t report_data[MS_SNP_REPORT_DATA_LEN];
    uint8_t measurement[MS_SNP_MEASUREMENT_LEN];
    uint8_t host_data[32];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    ms_snp_tcb reported_tcb;
    uint8_t cpuid_fam_id; /* version >= 3 */
    uint8_t cpuid_mod_id;
    uint8_t cpuid_step;
    uint8_t chip_id[MS_SNP_CHIP_ID_LEN];
    ms_snp_tcb committed_tcb;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    ms_snp_tcb launch_tcb;
    uint64_t launch_mit_vector; /* version >= 5 */
    uint64_t current_mit_vector;
    uint8_t sig_r[MS_SNP_SIG_COMPONENT_LEN]; /* little-endian, as in the report */
    uint8_t sig_s[MS_SNP_SIG_COMPONENT_LEN];
} ms_snp_report;

/*
 * Decode exactly MS_SNP_REPORT_LEN bytes. Checks (all MS_ERR_SNP_FORMAT): the length;
 * version 2..5; signature_algo 1; policy bit 17 (reserved, must be one); every reserved
 * field and bit of the version's layout is zero, including TCB bytes 2..5, the padding of
 * r and s above 48 bytes and the reserved tail of the signature. *out is zeroed on entry
 * and on failure. Thread-safe (no state).
 */
MS_MUST_CHECK ms_err ms_snp_report_decode(const uint8_t *p, size_t len, ms_snp_report *out);

/*
 * The hex text form (as in the test vector): exactly MS_SNP_REPORT_HEX_LEN hex digits, either
 * case, optionally followed by ASCII whitespace. Anything else is MS_ERR_SNP_FORMAT.
 * Writes the raw bytes; decode them with ms_snp_report_decode.
 */
MS_MUST_CHECK ms_err ms_snp_report_from_hex(const char *text, size_t len,
                                            uint8_t raw[static MS_SNP_REPORT_LEN]);

/* A decoded bundle: every pointer borrows from the bundle bytes. */
typedef struct ms_snp_bundle {
    const uint8_t *report; /* MS_SNP_REPORT_LEN raw bytes */
    const uint8_t *vcek;   /* DER */
    size_t vcek_len;
    const uint8_t *ask;    /* DER, or NULL when omitted */
    size_t ask_len;
} ms_snp_bundle;

/*
 * The bundle's layout only (format byte, lengths and caps, no trailing bytes); the
 * certificates' DER and the report's fields are checked by the verifier.
 * MS_ERR_SNP_FORMAT on any problem; *out zeroed on entry and on failure.
 */
MS_MUST_CHECK ms_err ms_snp_bundle_decode(const uint8_t *ev, size_t len, ms_snp_bundle *out);

/* Append a bundle to `out`. `ask` may be NULL (ask_len 0). MS_ERR_ARG on bad lengths. */
MS_MUST_CHECK ms_err ms_snp_bundle_encode(const uint8_t report[static MS_SNP_REPORT_LEN],
                                          const uint8_t *vcek, size_t vcek_len,
                                          const uint8_t *ask, size_t ask_len, ms_buf *out);

/*
 * What the client pins and requires. The certificates are borrowed DER and must stay valid
 * during each call. The ARK is always the policy's: a bundle never supplies it.
 */
typedef struct ms_snp_policy {
    const uint8_t *ark_der; /* required: AMD's root for the product (Milan, Genoa) */
    size_t ark_len;
    const uint8_t *ask_der; /* optional: used when a bundle omits its ASK */
    size_t ask_len;
    uint8_t measurement[MS_SNP_MEASUREMENT_LEN];
    ms_snp_tcb min_tcb;     /* per component minimum of reported_tcb (raw is ignored) */
} ms_snp_policy;

/* The checks in the order they are made (docs/attest-sev-snp.md §4). */
typedef enum ms_snp_check {
    MS_SNP_CHECK_FORMAT,       /* MS_ERR_SNP_FORMAT */
    MS_SNP_CHECK_ARK,          /* MS_ERR_SNP_ARK */
    MS_SNP_CHECK_CHAIN,        /* MS_ERR_SNP_CHAIN */
    MS_SNP_CHECK_SIGNATURE,    /* MS_ERR_SNP_SIGNATURE */
    MS_SNP_CHECK_TCB_MATCH,    /* MS_ERR_SNP_TCB_MISMATCH */
    MS_SNP_CHECK_CHIP_ID,      /* MS_ERR_SNP_CHIP_ID */
    MS_SNP_CHECK_REPORT_DATA,  /* MS_ERR_SNP_REPORT_DATA */
    MS_SNP_CHECK_MEASUREMENT,  /* MS_ERR_SNP_MEASUREMENT */
    MS_SNP_CHECK_DEBUG,        /* MS_ERR_SNP_DEBUG */
    MS_SNP_CHECK_TCB_MIN,      /* MS_ERR_SNP_TCB_MIN */
    MS_SNP_CHECK_COUNT
} ms_snp_check;

/* "format", "ark", ...: short names for printing. Never NULL. */
const char *ms_snp_check_name(ms_snp_check c);

/* Check-by-check outcome, for a tool that prints each one. */
typedef struct ms_snp_checks {
    uint8_t ran[MS_SNP_CHECK_COUNT]; /* 0: skipped (not asked for, or its input is missing) */
    ms_err result[MS_SNP_CHECK_COUNT];
    int have_report;                 /* the FORMAT check passed: `report` is filled */
    ms_snp_report report;
} ms_snp_checks;

/*
 * The client's verifier. Checks in the documented order and returns the first failure's
 * code (MS_ERR_SNP_*), MS_OK when all pass. MS_ERR_ARG for NULL policy or binding,
 * MS_ERR_NOMEM / MS_ERR_INTERNAL when OpenSSL fails for its own reasons. Reentrant.
 */
MS_MUST_CHECK ms_err ms_snp_verify(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                                   const uint8_t binding[static MS_BINDING_LEN]);

/*
 * For the offline tool: the checks that do not depend on a session or the client's
 * expectations (FORMAT, ARK, CHAIN, SIGNATURE, TCB_MATCH, CHIP_ID, DEBUG), using only the
 * policy's ARK and ASK. After FORMAT every check runs even when an earlier one failed,
 * so that each can be printed; REPORT_DATA, MEASUREMENT and TCB_MIN are skipped. Returns
 * the first failure in check order, MS_OK when all that ran passed.
 */
MS_MUST_CHECK ms_err ms_snp_verify_report(const ms_snp_policy *policy, const uint8_t *ev,
                                          size_t len, ms_snp_checks *out);

/*
 * The offline tool's full form (minions-secure attest): as ms_snp_verify_report, plus
 * REPORT_DATA when `binding` is not NULL, plus MEASUREMENT and TCB_MIN when `expect`
 * (the policy's measurement and min_tcb are meant). A policy without an ARK (ark_der NULL:
 * nothing pinned) skips ARK and CHAIN instead of failing them; the signature, TCB and chip
 * id checks then use the bundle's VCEK, whoever issued it. Returns the first failure in
 * order, MS_OK when every check that ran passed: only a caller that checks which ran may
 * treat MS_OK as "verified".
 */
MS_MUST_CHECK ms_err ms_snp_verify_checks(const ms_snp_policy *policy, const uint8_t *ev,
                                          size_t len, const uint8_t *binding, int expect,
                                          ms_snp_checks *out);

/* PEM text (one certificate) to DER, for loading a policy's ARK / ASK files. */
MS_MUST_CHECK ms_err ms_snp_cert_pem_to_der(const uint8_t *pem, size_t len, ms_buf *der);

/*
 * One certificate from a file, PEM ("-----BEGIN CERTIFICATE-----") or DER (exactly one
 * certificate filling the file), appended to `der` as DER (snp_certfile.c). Errors: file
 * errors (MS_ERR_FILE_OPEN, MS_ERR_CAP_EXCEEDED), MS_ERR_FILE_FORMAT for anything else.
 */
MS_MUST_CHECK ms_err ms_snp_cert_file_der(const char *path, ms_buf *der);

#endif

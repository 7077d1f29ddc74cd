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
/* Guest policy (firmware ABI, "Guest Policy Structure"): bits 7:0 ABI minor, 15:8 ABI major. */
#define MS_SNP_POLICY_ABI_MINOR(p) ((uint8_t)((p) & 0xFFu))
#define MS_SNP_POLICY_ABI_MAJOR(p) ((uint8_t)(((p) >> 8) & 0xFFu))
#define MS_SNP_POLICY_SMT (1ull << 16)               /* SMT may be enabled on the host */
#define MS_SNP_POLICY_RSVD_MBO (1ull << 17)          /* reserved, must be one */
#define MS_SNP_POLICY_MIGRATE_MA (1ull << 18)        /* a migration agent may be bound */
#define MS_SNP_POLICY_DEBUG (1ull << 19)
#define MS_SNP_POLICY_SINGLE_SOCKET (1ull << 20)     /* the guest may run on one socket only */
#define MS_SNP_POLICY_CXL_ALLOW (1ull << 21)         /* CXL memory may back the guest */
#define MS_SNP_POLICY_MEM_AES_256_XTS (1ull << 22)   /* AES-256-XTS memory encryption required */
#define MS_SNP_POLICY_RAPL_DIS (1ull << 23)          /* RAPL must be disabled */
#define MS_SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24) /* ciphertext hiding for DRAM required */
#define MS_SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25) /* SNP_PAGE_SWAP_* disabled for the guest */
/* PLATFORM_INFO (firmware ABI, ATTESTATION_REPORT): what the platform had enabled. */
#define MS_SNP_PLATFORM_SMT_EN (1ull << 0)
#define MS_SNP_PLATFORM_TSME_EN (1ull << 1)
#define MS_SNP_PLATFORM_ECC_EN (1ull << 2)
#define MS_SNP_PLATFORM_RAPL_DIS (1ull << 3)
#define MS_SNP_PLATFORM_CIPHERTEXT_HIDING_EN (1ull << 4)
#define MS_SNP_PLATFORM_ALIAS_CHECK_COMPLETE (1ull << 5)
#define MS_SNP_KEY_INFO_SIGNING_KEY(k) (((k) >> 2) & 7u) /* 0 = VCEK, 1 = VLEK, 7 = none */
#define MS_SNP_SIGNING_KEY_VCEK 0u
#define MS_SNP_SIGNING_KEY_VLEK 1u
/* CPUID family of the chip (report version >= 3): 19h Milan / Genoa, 1Ah Turin. */
#define MS_SNP_FAMILY_MILAN_GENOA 0x19u
#define MS_SNP_FAMILY_TURIN 0x1Au

/* Bundle (docs/attest-sev-snp.md §3). Caps are per certificate; lengths are u16 on the wire. */
#define MS_SNP_BUNDLE_FORMAT 0x01u
/* MS_SNP_MAX_CERT (bytes of one certificate) is in common/limits.h. */
#define MS_SNP_MAX_BUNDLE (1u + MS_SNP_REPORT_LEN + 2u + MS_SNP_MAX_CERT + 2u + MS_SNP_MAX_CERT)
_Static_assert(MS_SNP_MAX_CERT <= 0xFFFFu, "certificate lengths are u16");
_Static_assert(MS_SNP_MAX_BUNDLE <= MS_MAX_EVIDENCE, "a bundle fits in a ServerHello");
_Static_assert(MS_SNP_REPORT_DATA_LEN == MS_BINDING_LEN, "report_data carries all of B");

/*
 * TCB_VERSION. Two layouts, chosen by the report's CPUID family (version >= 3; version 2
 * reports predate Turin and use the first):
 *   Milan / Genoa: byte 0 boot loader, 1 TEE, 2..5 reserved (zero), 6 SNP, 7 microcode;
 *   Turin (1Ah):   byte 0 FMC, 1 boot loader, 2 TEE, 3 SNP, 4..6 reserved (zero), 7 microcode.
 * `raw` is the little-endian u64 as stored in the report; `fmc` is 0 in the first layout.
 */
typedef enum ms_snp_tcb_layout {
    MS_SNP_TCB_MILAN = 0,
    MS_SNP_TCB_TURIN = 1,
} ms_snp_tcb_layout;

typedef struct ms_snp_tcb {
    uint64_t raw;
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
    uint8_t fmc;
} ms_snp_tcb;

/* The components of `raw` in `layout`; MS_ERR_SNP_FORMAT when a reserved byte is not zero. */
MS_MUST_CHECK ms_err ms_snp_tcb_split(uint64_t raw, ms_snp_tcb_layout layout, ms_snp_tcb *out);

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
    ms_snp_tcb_layout tcb_layout; /* from cpuid_fam_id: how every TCB above and below reads */
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
 * version 2..5; signature_algo 1; policy bit 17 (reserved, must be one); from version 3 the
 * CPUID family is 19h or 1Ah (it selects the TCB layout); every reserved field and bit of
 * the version's layout is zero, including the TCB layout's reserved bytes, the padding of
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
 * during each call. The ARK is always the policy's: a bundle never supplies it. Every field
 * after min_tcb is zero by default, and zero is the strict default or "not pinned"
 * (docs/attest-sev-snp.md §4 gives each check).
 */
typedef struct ms_snp_policy {
    const uint8_t *ark_der; /* required: AMD's root for the product (Milan, Genoa, Turin) */
    size_t ark_len;
    const uint8_t *ask_der; /* optional: used when a VCEK-signed bundle omits its ASK */
    size_t ask_len;
    uint8_t measurement[MS_SNP_MEASUREMENT_LEN];
    ms_snp_tcb min_tcb;     /* per component minimum of reported_tcb (raw is ignored) */
    const uint8_t *asvk_der; /* optional: used when a VLEK-signed bundle omits its ASVK */
    size_t asvk_len;
    const uint8_t *crl_der;  /* optional: AMD's CRL for the ARK's intermediates (DER) */
    size_t crl_len;
    uint32_t vmpl;                /* the VMPL the report must come from (0 by default) */
    int allow_migrate_ma;         /* else guest policy MIGRATE_MA must be clear */
    int allow_migration_agent;    /* else REPORT_ID_MA must be all 0xFF (no agent bound) */
    int forbid_smt;               /* guest policy SMT must be clear (policy "allow_smt": false) */
    int require_single_socket;    /* guest policy SINGLE_SOCKET must be set */
    int have_min_abi;             /* the guest policy's ABI major.minor >= min_abi_* */
    uint8_t min_abi_major, min_abi_minor;
    uint64_t policy_set, policy_clear;     /* guest policy bits that must be set / clear */
    uint64_t platform_set, platform_clear; /* PLATFORM_INFO bits that must be set / clear */
    int have_host_data, have_family_id, have_image_id, have_id_key, have_author_key;
    uint8_t host_data[32];
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
} ms_snp_policy;

/* The checks in the order they are made (docs/attest-sev-snp.md §4). */
typedef enum ms_snp_check {
    MS_SNP_CHECK_FORMAT,       /* MS_ERR_SNP_FORMAT */
    MS_SNP_CHECK_ARK,          /* MS_ERR_SNP_ARK */
    MS_SNP_CHECK_CHAIN,        /* MS_ERR_SNP_CHAIN */
    MS_SNP_CHECK_CERT_TIME,    /* MS_ERR_SNP_CERT_TIME */
    MS_SNP_CHECK_CRL,          /* MS_ERR_SNP_CRL */
    MS_SNP_CHECK_REVOKED,      /* MS_ERR_SNP_REVOKED */
    MS_SNP_CHECK_SIGNING_KEY,  /* MS_ERR_SNP_SIGNING_KEY */
    MS_SNP_CHECK_SIGNATURE,    /* MS_ERR_SNP_SIGNATURE */
    MS_SNP_CHECK_TCB_MATCH,    /* MS_ERR_SNP_TCB_MISMATCH */
    MS_SNP_CHECK_CHIP_ID,      /* MS_ERR_SNP_CHIP_ID */
    MS_SNP_CHECK_REPORT_DATA,  /* MS_ERR_SNP_REPORT_DATA */
    MS_SNP_CHECK_MEASUREMENT,  /* MS_ERR_SNP_MEASUREMENT */
    MS_SNP_CHECK_DEBUG,        /* MS_ERR_SNP_DEBUG */
    MS_SNP_CHECK_TCB_MIN,      /* MS_ERR_SNP_TCB_MIN */
    MS_SNP_CHECK_VMPL,         /* MS_ERR_SNP_VMPL */
    MS_SNP_CHECK_MIGRATE_MA,   /* MS_ERR_SNP_MIGRATE_MA */
    MS_SNP_CHECK_MIGRATION_AGENT, /* MS_ERR_SNP_MIGRATION_AGENT */
    MS_SNP_CHECK_SMT,          /* MS_ERR_SNP_SMT */
    MS_SNP_CHECK_SINGLE_SOCKET, /* MS_ERR_SNP_SINGLE_SOCKET */
    MS_SNP_CHECK_ABI_MIN,      /* MS_ERR_SNP_ABI_MIN */
    MS_SNP_CHECK_POLICY_BITS,  /* MS_ERR_SNP_POLICY_BITS */
    MS_SNP_CHECK_PLATFORM_INFO, /* MS_ERR_SNP_PLATFORM_INFO */
    MS_SNP_CHECK_HOST_DATA,    /* MS_ERR_SNP_HOST_DATA */
    MS_SNP_CHECK_FAMILY_ID,    /* MS_ERR_SNP_FAMILY_ID */
    MS_SNP_CHECK_IMAGE_ID,     /* MS_ERR_SNP_IMAGE_ID */
    MS_SNP_CHECK_ID_KEY,       /* MS_ERR_SNP_ID_KEY */
    MS_SNP_CHECK_AUTHOR_KEY,   /* MS_ERR_SNP_AUTHOR_KEY */
    MS_SNP_CHECK_COUNT
} ms_snp_check;

/* "format", "ark", ...: short names for printing. Never NULL. */
const char *ms_snp_check_name(ms_snp_check c);

/* Check-by-check outcome, for a tool that prints each one. */
typedef struct ms_snp_checks {
    uint8_t ran[MS_SNP_CHECK_COUNT]; /* 0: skipped (not asked for, or its input is missing) */
    uint8_t skip[MS_SNP_CHECK_COUNT]; /* when not ran: an ms_snp_skip */
    ms_err result[MS_SNP_CHECK_COUNT];
    int have_report;                 /* the FORMAT check passed: `report` is filled */
    ms_snp_report report;
} ms_snp_checks;

/*
 * The client's verifier. Checks in the documented order and returns the first failure's
 * code (MS_ERR_SNP_*), MS_OK when all pass. Certificates must be valid at `at` (Unix
 * seconds; the handshake's time). MS_ERR_ARG for NULL policy or binding, MS_ERR_NOMEM /
 * MS_ERR_INTERNAL when OpenSSL fails for its own reasons. Reentrant.
 */
MS_MUST_CHECK ms_err ms_snp_verify_at(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                                      const uint8_t binding[static MS_BINDING_LEN], uint64_t at);

/* ms_snp_verify_at at the current time. */
MS_MUST_CHECK ms_err ms_snp_verify(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                                   const uint8_t binding[static MS_BINDING_LEN]);

/*
 * For the offline tool: the checks that do not depend on a session or the client's
 * expectations (FORMAT, ARK, CHAIN, CERT_TIME at the current time, CRL and REVOKED when the
 * policy has a CRL, SIGNING_KEY, SIGNATURE, TCB_MATCH, CHIP_ID, DEBUG, and the defaults of
 * VMPL, MIGRATE_MA and MIGRATION_AGENT), using only the policy's roots. After FORMAT every
 * check runs even when an earlier one failed, so that each can be printed; REPORT_DATA,
 * MEASUREMENT, TCB_MIN and the pins are skipped. Returns the first failure in check order,
 * MS_OK when all that ran passed.
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

/*
 * As ms_snp_verify_checks, judging certificate validity at `at` (ms_snp_verify_checks uses
 * the current time). With `expect`, the policy's pins (SMT, SINGLE_SOCKET, ABI_MIN,
 * POLICY_BITS, PLATFORM_INFO, HOST_DATA .. AUTHOR_KEY) run when the policy sets them and are
 * skipped otherwise; CHIP_ID is skipped for a VLEK-signed report (a VLEK names no chip).
 */
MS_MUST_CHECK ms_err ms_snp_verify_checks_at(const ms_snp_policy *policy, const uint8_t *ev,
                                             size_t len, const uint8_t *binding, int expect,
                                             uint64_t at, ms_snp_checks *out);

/* Why a check did not run (ms_snp_checks.skip), for printing. */
typedef enum ms_snp_skip {
    MS_SNP_SKIP_NONE = 0,     /* it ran */
    MS_SNP_SKIP_NOT_ASKED,    /* the binding or the expectations were not given */
    MS_SNP_SKIP_NO_ARK,       /* no ARK: the chain checks cannot run */
    MS_SNP_SKIP_NO_CRL,       /* the policy has no CRL */
    MS_SNP_SKIP_NOT_PINNED,   /* the policy does not pin this */
    MS_SNP_SKIP_VLEK,         /* CHIP_ID: a VLEK is not tied to a chip */
} ms_snp_skip;

/* PEM text (one certificate) to DER, for loading a policy's ARK / ASK files. */
MS_MUST_CHECK ms_err ms_snp_cert_pem_to_der(const uint8_t *pem, size_t len, ms_buf *der);

/*
 * One certificate from a file, PEM ("-----BEGIN CERTIFICATE-----") or DER (exactly one
 * certificate filling the file), appended to `der` as DER (snp_certfile.c). Errors: file
 * errors (MS_ERR_FILE_OPEN, MS_ERR_CAP_EXCEEDED), MS_ERR_FILE_FORMAT for anything else.
 */
MS_MUST_CHECK ms_err ms_snp_cert_file_der(const char *path, ms_buf *der);

/*
 * One CRL from a file, PEM ("-----BEGIN X509 CRL-----") or DER (exactly one CRL filling the
 * file), appended to `der` as DER (at most MS_SNP_MAX_CRL bytes). Its issuer and signature
 * are checked by the verifier against the pinned ARK. Errors as ms_snp_cert_file_der.
 */
MS_MUST_CHECK ms_err ms_snp_crl_file_der(const char *path, ms_buf *der);

#endif

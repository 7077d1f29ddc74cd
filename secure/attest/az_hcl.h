/* Azure confidential VMs: the HCL report of vTPM NV 0x01400001 and its variable data (docs/attest-azure.md). */
#ifndef MS_SECURE_ATTEST_AZ_HCL_H
#define MS_SECURE_ATTEST_AZ_HCL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"
#include "secure/attest/snp.h"
#include "secure/suite.h"

/* Where Azure's paravisor (HCL) and vTPM keep things. */
#define MS_AZ_NV_HCL_REPORT 0x01400001u /* the HCL report, read by the guest */
#define MS_AZ_NV_USER_DATA 0x01400002u  /* 64 bytes the guest writes; the paravisor puts
                                           them into the next report's variable data */
#define MS_AZ_AK_HANDLE 0x81000003u     /* the persistent vTPM attestation key (HCLAkPub) */

/* The frame, all integers little-endian u32 (docs/attest-azure.md §2). */
#define MS_AZ_HCL_MAGIC 0x414C4348u     /* "HCLA" read as a little-endian u32 */
#define MS_AZ_HCL_HEADER_LEN 32u        /* magic, version, report_size, request_type, status, 3 reserved */
#define MS_AZ_HCL_HW_LEN 1184u          /* hardware report area: an SNP report, or a TD report + zeros */
#define MS_AZ_HCL_REQ_HEADER_LEN 20u    /* data_size, version, report_type, hash_type, var_data_size */
#define MS_AZ_HCL_FIXED_LEN (MS_AZ_HCL_HEADER_LEN + MS_AZ_HCL_HW_LEN + MS_AZ_HCL_REQ_HEADER_LEN)
#define MS_AZ_HCL_REQUEST_AK_CERT 2u    /* the only request type the vTPM's NV report has */
#define MS_AZ_HCL_REQ_VERSION 1u
#define MS_AZ_REPORT_SNP 2u
#define MS_AZ_REPORT_TDX 4u
#define MS_AZ_HASH_SHA256 1u
#define MS_AZ_HASH_SHA384 2u
#define MS_AZ_HASH_SHA512 3u
#define MS_AZ_TD_REPORT_LEN 1024u       /* TDREPORT_STRUCT */
#define MS_AZ_USER_DATA_LEN 64u         /* = MS_BINDING_LEN: the binding B, as hex in the JSON */
#define MS_AZ_RSA_MAX_N 512u            /* RSA-4096 */
#define MS_AZ_RSA_E 65537u

_Static_assert(MS_AZ_HCL_HW_LEN == MS_SNP_REPORT_LEN, "the area is an SNP report's size");
_Static_assert(MS_AZ_USER_DATA_LEN == MS_BINDING_LEN, "user data carries all of B");
_Static_assert(MS_AZ_HCL_FIXED_LEN + MS_AZ_MAX_VAR_DATA <= MS_AZ_MAX_HCL, "caps agree");

/*
 * A decoded frame; the pointers borrow from the input. Accepted, and nothing else:
 *   header:  magic "HCLA"; version 1 or 2 (SNP CVMs show 1, TDX CVMs 2); request type 2;
 *            status 0; the 12 reserved bytes zero;
 *            report_size == 32 + 1184 + data_size, and report_size <= len
 *   hw area: 1184 bytes (the hardware report; its own decoder checks it)
 *   request: data_size == 20 + var_data_size; version 1; report type SNP (2) or TDX (4);
 *            hash type SHA-256/384/512 (1/2/3); 1 <= var_data_size <= MS_AZ_MAX_VAR_DATA
 *   tail:    bytes [report_size, len) are all zero: the NV index is larger than the report
 *            and the paravisor zero-fills it; any other byte there is refused.
 * len <= MS_AZ_MAX_HCL. Everything else is MS_ERR_AZ_FORMAT; *out is zeroed on entry and
 * on failure. None of these bytes is signed: only the variable data is bound (through
 * report_data), and the hardware report by its own signature.
 */
typedef struct ms_az_hcl {
    uint32_t version;
    uint32_t report_size;
    uint32_t report_type; /* MS_AZ_REPORT_SNP or MS_AZ_REPORT_TDX */
    uint32_t hash_type;   /* MS_AZ_HASH_* */
    size_t hash_len;      /* 32, 48 or 64 */
    const uint8_t *hw;    /* MS_AZ_HCL_HW_LEN bytes */
    const uint8_t *var_data;
    size_t var_data_len;
} ms_az_hcl;

MS_MUST_CHECK ms_err ms_az_hcl_decode(const uint8_t *p, size_t len, ms_az_hcl *out);

/* "HCLA" at the start: for tools that recognise a file by its bytes. */
int ms_az_hcl_is(const uint8_t *p, size_t len);

/*
 * report_data of the hardware report (SNP: offset 0x50; TDX: REPORTDATA of the TD report)
 * starts with hash_type's digest of the variable data, and the rest of its 64 bytes is
 * zero. MS_OK or MS_ERR_AZ_VAR_DATA_HASH; MS_ERR_INTERNAL if OpenSSL fails.
 */
MS_MUST_CHECK ms_err ms_az_hcl_check_var_data_hash(const ms_az_hcl *h);

/*
 * The variable data: a JSON object (common/json), read by this rule:
 *   "keys"      required array of 1..MS_AZ_MAX_JWK_KEYS objects, each with a string "kid";
 *               exactly one has kid "HCLAkPub" (else MS_ERR_AZ_AKPUB), and it must be
 *               kty "RSA" with "n" (base64url, no padding, 256/384/512 bytes, top byte
 *               non-zero) and "e" (base64url, = 65537) (else MS_ERR_AZ_AKPUB); other keys
 *               (HCLEkPub, ...) are counted, not read further.
 *   "user-data" optional string of exactly 128 hex digits (64 bytes).
 *   other members ("vm-configuration", ...) are ignored: they are the paravisor's, may
 *               grow, and nothing here relies on them.
 * Text that is not one JSON object, a "keys" of the wrong shape, a key without kid, or a
 * bad user-data is MS_ERR_AZ_VAR_DATA. *out is zeroed on entry and on failure.
 */
typedef struct ms_az_var_data {
    uint8_t ak_n[MS_AZ_RSA_MAX_N]; /* big-endian modulus */
    size_t ak_n_len;
    uint32_t ak_e;
    unsigned n_keys;     /* entries of "keys", HCLAkPub included */
    int has_ek;          /* a key with kid "HCLEkPub" is there (recorded, never used) */
    int has_user_data;
    uint8_t user_data[MS_AZ_USER_DATA_LEN];
} ms_az_var_data;

MS_MUST_CHECK ms_err ms_az_var_data_parse(const uint8_t *p, size_t len, ms_az_var_data *out);

/*
 * The TD report (TDREPORT_STRUCT) in the first 1024 bytes of a TDX HCL report's hardware
 * area. Checked: REPORTTYPE type 0x81 (TDX), subtype 0, version 0 or 1; the report's
 * reserved bytes zero; bytes [1024, 1184) of the area zero. MS_ERR_AZ_FORMAT otherwise.
 * The MAC is only readable by the TDX module of that machine: a TD report proves nothing
 * by itself until a TDX quote of it is checked (not done here yet, see the docs).
 */
typedef struct ms_az_td_report {
    uint8_t type, subtype, version;
    uint8_t cpusvn[16];
    uint8_t tee_tcb_info_hash[48];
    uint8_t tee_info_hash[48];
    uint8_t report_data[64];
    uint8_t mac[32];
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[48];
    uint8_t mrsignerseam[48];
    uint64_t seam_attributes;
    uint64_t td_attributes;
    uint64_t xfam;
    uint8_t mrtd[48];
    uint8_t mrconfigid[48];
    uint8_t mrowner[48];
    uint8_t mrownerconfig[48];
    uint8_t rtmr[4][48];
    uint8_t servtd_hash[48];
} ms_az_td_report;

#define MS_AZ_TD_ATTR_DEBUG 1ull /* TDINFO.ATTRIBUTES bit 0 */

MS_MUST_CHECK ms_err ms_az_td_report_decode(const uint8_t hw[static MS_AZ_HCL_HW_LEN],
                                            ms_az_td_report *out);

#endif

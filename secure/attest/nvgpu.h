/* NVIDIA GPU evidence: SPDM 1.1 measurement reports, the per-GPU item and its verifier (docs/attest-nvidia.md). */
#ifndef MS_SECURE_ATTEST_NVGPU_H
#define MS_SECURE_ATTEST_NVGPU_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "secure/suite.h"

/* SPDM 1.1 (DMTF DSP0274) as NVIDIA's GPUs answer GET_MEASUREMENTS; little-endian fields. */
#define MS_NVGPU_SPDM_VERSION 0x11u
#define MS_NVGPU_SPDM_GET_MEASUREMENTS 0xE0u
#define MS_NVGPU_SPDM_MEASUREMENTS 0x60u
#define MS_NVGPU_REQ_SIG_REQUESTED 0x01u /* request param1 bit 0 */
#define MS_NVGPU_REQ_ALL_MEASUREMENTS 0xFFu
#define MS_NVGPU_NONCE_LEN 32u
#define MS_NVGPU_REQ_LEN (4u + MS_NVGPU_NONCE_LEN + 1u) /* header, nonce, slot id */
#define MS_NVGPU_SIG_LEN 96u                             /* ECDSA P-384: r || s, big-endian */
#define MS_NVGPU_MEAS_SPEC_DMTF 0x01u
_Static_assert(MS_NVGPU_NONCE_LEN <= MS_BINDING_LEN, "the nonce is a prefix of B");

/* NVIDIA's opaque data field types (nvtrust local GPU verifier); others are kept as unknown. */
enum {
    MS_NVGPU_OPAQUE_DRIVER_VERSION = 3,
    MS_NVGPU_OPAQUE_GPU_INFO = 4,
    MS_NVGPU_OPAQUE_VBIOS_VERSION = 6,
    MS_NVGPU_OPAQUE_NVDEC0_STATUS = 11,
    MS_NVGPU_OPAQUE_MSRSCNT = 12,
    MS_NVGPU_OPAQUE_CPRINFO = 13,
    MS_NVGPU_OPAQUE_BOARD_ID = 14,
    MS_NVGPU_OPAQUE_CHIP_SKU = 15,
    MS_NVGPU_OPAQUE_CHIP_SKU_MOD = 16,
    MS_NVGPU_OPAQUE_PROJECT = 17,
    MS_NVGPU_OPAQUE_PROJECT_SKU = 18,
    MS_NVGPU_OPAQUE_PROJECT_SKU_MOD = 19,
    MS_NVGPU_OPAQUE_FEATURE_FLAG = 36, /* 0 SPT, 1 MPT, 2 PPCIE: the CC mode the GPU runs */
};
#define MS_NVGPU_FEATURE_MAX_CC 2u /* feature flags 0..2 are CC modes */

/* One measurement block (DMTF form). `value` borrows from the report. */
typedef struct ms_nvgpu_block {
    uint8_t index;
    uint8_t value_type; /* DMTFSpecMeasurementValueType: bit 7 raw bit stream, 6:0 kind */
    uint16_t value_len;
    const uint8_t *value;
} ms_nvgpu_block;

/* One opaque data field. `value` borrows from the report. */
typedef struct ms_nvgpu_field {
    uint16_t type;
    uint16_t len;
    const uint8_t *value;
} ms_nvgpu_field;

#define MS_NVGPU_TEXT_MAX 32u /* display strings, NUL-terminated */

/* A decoded report (request || response). Pointers borrow from the input. */
typedef struct ms_nvgpu_report {
    size_t len;        /* the whole report */
    size_t signed_len; /* bytes covered by the signature: all but the last 96 */
    uint8_t req_param1, req_param2, req_slot;
    const uint8_t *req_nonce;  /* 32 bytes: the requester's (our) nonce */
    uint8_t rsp_param1, rsp_param2;
    size_t n_blocks;
    ms_nvgpu_block blocks[MS_NVGPU_MAX_BLOCKS];
    const uint8_t *rsp_nonce;  /* 32 bytes: the responder's nonce */
    size_t n_fields;
    ms_nvgpu_field fields[MS_NVGPU_MAX_OPAQUE_FIELDS];
    size_t n_unknown;          /* fields of a type not listed above */
    const uint8_t *sig;        /* 96 bytes */
    /* For display, "" when the field is absent. */
    char driver_version[MS_NVGPU_TEXT_MAX];
    char vbios_version[MS_NVGPU_TEXT_MAX];
    char project[MS_NVGPU_TEXT_MAX], project_sku[MS_NVGPU_TEXT_MAX];
    char chip_sku[MS_NVGPU_TEXT_MAX];
    int have_feature_flag;
    uint32_t feature_flag;
} ms_nvgpu_report;

/*
 * Decode request || response strictly (docs/attest-nvidia.md §2): request version 0x11,
 * code 0xE0, param1 0x01, param2 0xFF, slot id 0..7; response version 0x11, code 0x60,
 * 1..255 blocks filling the u24 record length exactly, every block DMTF with a consistent
 * size, indices 1..254 and distinct, values at most MS_NVGPU_MAX_MEAS_VALUE; opaque data
 * at most MS_NVGPU_MAX_OPAQUE bytes of whole fields, no type twice; then exactly 96 bytes
 * of signature. MS_ERR_NVGPU_FORMAT otherwise; *out zeroed on entry and on failure.
 */
MS_MUST_CHECK ms_err ms_nvgpu_report_decode(const uint8_t *p, size_t len, ms_nvgpu_report *out);

/* The measurement with `index`, or NULL. */
const ms_nvgpu_block *ms_nvgpu_report_block(const ms_nvgpu_report *r, uint8_t index);

/*
 * Hex text (as in the test vector): an even number of hex digits, either case, at most
 * 2 * MS_NVGPU_MAX_REPORT, optionally followed by whitespace. Appends the bytes to `raw`.
 */
MS_MUST_CHECK ms_err ms_nvgpu_report_from_hex(const char *text, size_t len, ms_buf *raw);

/* ---- the per-GPU item and the nvidia-gpu evidence (docs/attest-nvidia.md §3) ---------- */

#define MS_NVGPU_ITEM_FORMAT 0x01u
#define MS_NVGPU_HOST_CC_ON 0x01u      /* NVML: ccFeature enabled (host-reported, unsigned) */
#define MS_NVGPU_HOST_DEVTOOLS 0x02u   /* NVML: devToolsMode on (host-reported, unsigned) */
#define MS_NVGPU_MAX_ITEM (1u + 1u + 2u + MS_NVGPU_MAX_REPORT + 1u + \
                           MS_NVGPU_MAX_CHAIN * (2u + MS_NVGPU_MAX_CERT))
_Static_assert(MS_NVGPU_MAX_REPORT <= 0xFFFFu && MS_NVGPU_MAX_CERT <= 0xFFFFu, "u16 lengths");
_Static_assert(1u + MS_NVGPU_MAX_GPUS * (4u + MS_NVGPU_MAX_ITEM) <= MS_MAX_EVIDENCE,
               "a full nvidia-gpu evidence fits in a ServerHello");

/* A decoded item: pointers borrow from the item bytes. */
typedef struct ms_nvgpu_item {
    uint8_t host_flags;
    const uint8_t *report;
    size_t report_len;
    size_t n_certs;                          /* leaf first */
    const uint8_t *cert[MS_NVGPU_MAX_CHAIN];
    size_t cert_len[MS_NVGPU_MAX_CHAIN];
} ms_nvgpu_item;

/* Layout only (format, flags, lengths, caps, no trailing bytes): MS_ERR_NVGPU_FORMAT. */
MS_MUST_CHECK ms_err ms_nvgpu_item_decode(const uint8_t *p, size_t len, ms_nvgpu_item *out);
/* Append an item. MS_ERR_ARG on lengths out of range. */
MS_MUST_CHECK ms_err ms_nvgpu_item_encode(const ms_nvgpu_item *item, ms_buf *out);

/* The evidence: u8 count (1..MS_NVGPU_MAX_GPUS), then per GPU u32 length and the item. */
typedef struct ms_nvgpu_evidence {
    size_t n;
    const uint8_t *item[MS_NVGPU_MAX_GPUS];
    size_t item_len[MS_NVGPU_MAX_GPUS];
} ms_nvgpu_evidence;

MS_MUST_CHECK ms_err ms_nvgpu_evidence_decode(const uint8_t *p, size_t len,
                                              ms_nvgpu_evidence *out);
/* Start an evidence with `count` GPUs; then append each with ms_nvgpu_evidence_add. */
MS_MUST_CHECK ms_err ms_nvgpu_evidence_begin(size_t count, ms_buf *out);
MS_MUST_CHECK ms_err ms_nvgpu_evidence_add(const uint8_t *item, size_t len, ms_buf *out);

/* ---- the verifier (nvgpu_verify.c) --------------------------------------------------- */

typedef struct ms_nvgpu_meas {
    uint8_t index;
    uint8_t len;
    uint8_t value[MS_NVGPU_MAX_MEAS_VALUE];
} ms_nvgpu_meas;

/* What the client pins. Borrowed: must stay valid during each call. */
typedef struct ms_nvgpu_policy {
    const uint8_t *root_der; /* NVIDIA Device Identity CA (or a test root); required */
    size_t root_len;
    const ms_nvgpu_meas *meas; /* exact values; an index absent from the report fails */
    size_t n_meas;
    size_t count;              /* GPUs in an nvidia-gpu evidence; 0: any number >= 1 */
    int require_cc;
    int allow_debug;
} ms_nvgpu_policy;

/* The checks in order (docs/attest-nvidia.md §4). */
typedef enum ms_nvgpu_check {
    MS_NVGPU_CHECK_FORMAT,      /* MS_ERR_NVGPU_FORMAT */
    MS_NVGPU_CHECK_NONCE,       /* MS_ERR_NVGPU_NONCE */
    MS_NVGPU_CHECK_CHAIN,       /* MS_ERR_NVGPU_CHAIN */
    MS_NVGPU_CHECK_IDENTITY,    /* MS_ERR_NVGPU_IDENTITY */
    MS_NVGPU_CHECK_SIGNATURE,   /* MS_ERR_NVGPU_SIGNATURE */
    MS_NVGPU_CHECK_MEASUREMENT, /* MS_ERR_NVGPU_MEASUREMENT */
    MS_NVGPU_CHECK_CC,          /* MS_ERR_NVGPU_CC_OFF */
    MS_NVGPU_CHECK_DEBUG,       /* MS_ERR_NVGPU_DEBUG */
    MS_NVGPU_CHECK_COUNT
} ms_nvgpu_check;

const char *ms_nvgpu_check_name(ms_nvgpu_check c);

/* Check by check, for a tool that prints each one. */
typedef struct ms_nvgpu_checks {
    uint8_t ran[MS_NVGPU_CHECK_COUNT];   /* 0: skipped */
    ms_err result[MS_NVGPU_CHECK_COUNT];
    const char *skip_reason[MS_NVGPU_CHECK_COUNT]; /* static text when skipped, or NULL */
    int have_report;
    ms_nvgpu_report report;              /* borrows from the item */
    char device_id[64];                  /* the device certificate's serialNumber, or "" */
    char cc_source[16];                  /* "report" (signed) or "host" (NVML, unsigned) */
} ms_nvgpu_checks;

/*
 * Verify one GPU item as the client does in a handshake: every check, first failure
 * returned (MS_ERR_NVGPU_*), MS_OK when all pass. `nonce` is B[0..32); `at` is the time
 * (Unix seconds) at which the chain must be valid. `out` may be NULL. After FORMAT every
 * check runs, so that each can be printed. MS_ERR_ARG for a NULL policy or nonce, or a
 * policy without a root. Reentrant.
 */
MS_MUST_CHECK ms_err ms_nvgpu_verify(const ms_nvgpu_policy *policy, const uint8_t *item,
                                     size_t len, const uint8_t nonce[static MS_NVGPU_NONCE_LEN],
                                     uint64_t at, ms_nvgpu_checks *out);

/*
 * The offline tool's form: as ms_nvgpu_verify, but `nonce` may be NULL (NONCE skipped:
 * the report was not made for a session of ours), `policy->root_der` may be NULL (CHAIN
 * skipped; the leaf is taken as given) and the measurements are compared only when
 * `expect` is set. Only a caller that looks at which checks ran may read MS_OK as verified.
 */
MS_MUST_CHECK ms_err ms_nvgpu_verify_checks(const ms_nvgpu_policy *policy, const uint8_t *item,
                                            size_t len, const uint8_t *nonce, uint64_t at,
                                            int expect, ms_nvgpu_checks *out);

/*
 * The nvidia-gpu evidence in a handshake: the count against the policy's, each item with
 * ms_nvgpu_verify under nonce = binding[0..32), and no device twice (MS_ERR_NVGPU_DUPLICATE).
 */
MS_MUST_CHECK ms_err ms_nvgpu_verify_evidence(const ms_nvgpu_policy *policy, const uint8_t *ev,
                                              size_t len,
                                              const uint8_t binding[static MS_BINDING_LEN],
                                              uint64_t at);

/*
 * PEM text holding one or more certificates (NVML's attestation chain, the vector's file)
 * to an item's certificate list: each DER appended to `ders`, its offset and length noted.
 * MS_ERR_NVGPU_FORMAT when there are none, too many, or one is too long.
 */
MS_MUST_CHECK ms_err ms_nvgpu_pem_chain(const uint8_t *pem, size_t len, ms_buf *ders,
                                        size_t off[static MS_NVGPU_MAX_CHAIN],
                                        size_t lens[static MS_NVGPU_MAX_CHAIN], size_t *n);

#endif

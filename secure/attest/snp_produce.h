/* SEV-SNP producer: a report from the kernel (configfs-tsm, /dev/sev-guest) made into a bundle. */
#ifndef MS_SECURE_ATTEST_SNP_PRODUCE_H
#define MS_SECURE_ATTEST_SNP_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/snp.h"

#define MS_SNP_TSM_ROOT "/sys/kernel/config/tsm/report"
#define MS_SNP_GUEST_DEVICE "/dev/sev-guest"
#define MS_SNP_TSM_PROVIDER "sev_guest"

/*
 * Caps on what the kernel hands back (configfs-tsm caps its blobs at 32 KiB) live in
 * common/limits.h: MS_SNP_MAX_OUTBLOB, MS_SNP_MAX_CERT_TABLE, MS_SNP_MAX_CERT_ENTRIES,
 * MS_SNP_MAX_ATTR_TEXT.
 */

/*
 * The certificate table of the GHCB specification (MSG_REPORT_REQ "cert_table"), as
 * configfs-tsm's auxblob and SNP_GET_EXT_REPORT return it: entries of
 * { GUID (16 bytes, RFC 4122 byte order), u32le offset, u32le length } ended by an
 * all-zero entry, offsets from the start of the table. Pointers borrow from the table;
 * NULL / 0 when the table has no such entry.
 */
typedef struct ms_snp_certs {
    const uint8_t *vcek;
    size_t vcek_len;
    const uint8_t *ask;
    size_t ask_len;
    const uint8_t *ark;
    size_t ark_len;
    int has_vlek; /* the host offers a VLEK (not supported by the verifier) */
} ms_snp_certs;

/*
 * Parse an untrusted certificate table. An empty table (len 0) has no entries. Errors:
 * MS_ERR_CAP_EXCEEDED (over MS_SNP_MAX_CERT_TABLE), MS_ERR_SNP_FORMAT (no terminator within
 * MS_SNP_MAX_CERT_ENTRIES entries, a non-zero terminator, an entry that is empty, over
 * MS_SNP_MAX_CERT, outside the table or inside its header, or a VCEK / ASK / ARK / VLEK
 * GUID twice). Unknown GUIDs are skipped. *out zeroed on entry and on failure.
 */
MS_MUST_CHECK ms_err ms_snp_cert_table_parse(const uint8_t *p, size_t len, ms_snp_certs *out);

/* What the kernel returned for one request. Init before use, free after (wipes). */
typedef struct ms_snp_raw {
    uint8_t report[MS_SNP_REPORT_LEN];
    ms_buf certs; /* the certificate table; may be empty */
} ms_snp_raw;

void ms_snp_raw_init(ms_snp_raw *raw);
void ms_snp_raw_free(ms_snp_raw *raw);

/*
 * configfs-tsm for any provider (sev_guest, tdx_guest), on an existing report entry: check
 * the entry's `provider` is `provider`, read `generation`, write `inblob`, read `outblob`
 * (at most out_max bytes) and, when `auxblob` is not NULL, `auxblob` (absent: empty), read
 * `generation` again. Errors: MS_ERR_SNP_DEVICE (an attribute cannot be read or written,
 * another provider, generation did not advance by exactly our one write), MS_ERR_CAP_EXCEEDED.
 * The blobs are cleared on entry and on failure. (Callers for other providers map
 * MS_ERR_SNP_DEVICE to their own device error.)
 */
MS_MUST_CHECK ms_err ms_tsm_entry_exchange(const char *entry_dir, const char *provider,
                                           const uint8_t *inblob, size_t in_len, size_t out_max,
                                           ms_buf *outblob, ms_buf *auxblob);
/* The same on a new uniquely named entry under `root` (mkdir, exchange, rmdir always). */
MS_MUST_CHECK ms_err ms_tsm_exchange(const char *root, const char *provider,
                                     const uint8_t *inblob, size_t in_len, size_t out_max,
                                     ms_buf *outblob, ms_buf *auxblob);

/*
 * configfs-tsm, on an existing report entry directory: check `provider` is sev_guest,
 * read `generation`, write the 64 bytes of `binding` to `inblob`, read `outblob` and
 * `auxblob` (absent: no certificates), read `generation` again. Errors: MS_ERR_SNP_DEVICE
 * (an attribute cannot be read or written, another provider, generation did not advance by
 * exactly our one write (a concurrent writer), or the report is not over `binding`),
 * MS_ERR_SNP_FORMAT (outblob is not one report), MS_ERR_CAP_EXCEEDED.
 */
MS_MUST_CHECK ms_err ms_snp_tsm_entry_report(const char *entry_dir,
                                             const uint8_t binding[static MS_BINDING_LEN],
                                             ms_snp_raw *out);

/*
 * configfs-tsm in full: mkdir a new uniquely named entry under `root` (the configfs path,
 * or a test's directory), ms_snp_tsm_entry_report on it, rmdir it (always). Errors as
 * above; MS_ERR_SNP_DEVICE when the entry cannot be made. Safe to call from several
 * threads: each call has its own entry.
 */
MS_MUST_CHECK ms_err ms_snp_tsm_report(const char *root,
                                       const uint8_t binding[static MS_BINDING_LEN],
                                       ms_snp_raw *out);

/*
 * The fallback: SNP_GET_EXT_REPORT on `device` (/dev/sev-guest) at VMPL 0 with a 16 KiB
 * certificate buffer. MS_ERR_SNP_DEVICE when the device or the firmware refuses,
 * MS_ERR_SNP_FORMAT when the answer is not one report, MS_ERR_SNP_DEVICE when the report is
 * not over `binding`.
 */
MS_MUST_CHECK ms_err ms_snp_guest_report(const char *device,
                                         const uint8_t binding[static MS_BINDING_LEN],
                                         ms_snp_raw *out);

typedef struct ms_snp_producer_cfg {
    const char *tsm_root;     /* NULL: MS_SNP_TSM_ROOT */
    const char *guest_device; /* NULL: MS_SNP_GUEST_DEVICE */
    /* Certificates the operator supplies (e.g. fetched from AMD's KDS); when set they are
       used instead of the host's. DER, borrowed. */
    const uint8_t *vcek_der;
    size_t vcek_len;
    const uint8_t *ask_der;
    size_t ask_len;
    int omit_ask;             /* leave the ASK out: the client's policy holds it */
} ms_snp_producer_cfg;

/*
 * A bundle from what the kernel returned: the report, the VCEK (the operator's, else the
 * table's) and the ASK (likewise, unless omit_ask). The ARK is never included. Errors:
 * MS_ERR_SNP_FORMAT (the report or the table), MS_ERR_ATTEST_UNAVAILABLE (no VCEK, or no
 * ASK while one is wanted), buffer errors. `out` is appended to.
 */
MS_MUST_CHECK ms_err ms_snp_evidence_from_raw(const ms_snp_producer_cfg *cfg, const ms_snp_raw *raw,
                                              ms_buf *out);

/*
 * The operator's certificates for the producer (minions-supervisor --snp-certs DIR):
 * DIR/vcek.der or DIR/vcek.pem (required) and DIR/ask.der or DIR/ask.pem (optional; then
 * *have_ask is 0), each one certificate, appended to `vcek` / `ask` as DER. Any ARK there
 * is ignored: the client pins its own. Errors of ms_snp_cert_file_der.
 */
MS_MUST_CHECK ms_err ms_snp_certs_dir_load(const char *dir, ms_buf *vcek, ms_buf *ask,
                                           int *have_ask);

/*
 * The supervisor's producer: configfs-tsm when `tsm_root` exists, else /dev/sev-guest; then
 * ms_snp_evidence_from_raw. `cfg` may be NULL for all defaults.
 */
MS_MUST_CHECK ms_err ms_snp_evidence(const ms_snp_producer_cfg *cfg,
                                     const uint8_t binding[static MS_BINDING_LEN], ms_buf *out);

#endif

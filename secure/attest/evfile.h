/* Evidence files of minions-secure attest: what --save writes, and every form --verify reads. */
#ifndef MS_SECURE_CLIENT_EVFILE_H
#define MS_SECURE_CLIENT_EVFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "secure/handshake.h"
#include "secure/suite.h"

#define MS_EVFILE_FORMAT "minions-secure-evidence"
#define MS_EVFILE_VERSION 1

/*
 * The forms --verify accepts, told apart by their bytes:
 *   SAVED           JSON written by `attest --save` (docs/attestation.md gives its fields)
 *   SNP_REPORT      AMD's raw ATTESTATION_REPORT: exactly 1184 bytes
 *   SNP_REPORT_HEX  the same as 2368 hex digits, optionally followed by whitespace
 *   SNP_BUNDLE      an SEV-SNP bundle as a supervisor sends it (docs/attest-sev-snp.md §3)
 *   TDX_QUOTE       an Intel TDX quote (version 4 or 5, key type 2, TEE type 0x81), as
 *                   configfs-tsm returns it (zero padding after it is the verifier's concern)
 *   TDX_BUNDLE      a TDX bundle as a supervisor sends it (docs/attest-tdx.md §3)
 *   AZ_HCL          an Azure HCL report ("HCLA"...) as read from vTPM NV 0x01400001
 *                   (docs/attest-azure.md §2): az-snp-vtpm without its quote
 *   AZ_BUNDLE       an az-snp-vtpm bundle as a supervisor sends it (docs/attest-azure.md §3)
 *   NVGPU_REPORT_HEX  an NVIDIA SPDM GET_MEASUREMENTS request || MEASUREMENTS response in
 *                   hex, as NVML returns it (docs/attest-nvidia.md §2): "11e0..." text
 *   NVGPU_EVIDENCE  nvidia-gpu evidence as a supervisor sends it (docs/attest-nvidia.md §3)
 *   TPM2_BUNDLE     anything else that starts with byte 0x01 and fits MS_TPM2_MAX_BUNDLE: a
 *                   TPM quote bundle as a supervisor sends it (docs/attest-tpm2.md §2); its
 *                   format check is the verifier's
 */
typedef enum ms_evfile_form {
    MS_EVFILE_SAVED,
    MS_EVFILE_SNP_REPORT,
    MS_EVFILE_SNP_REPORT_HEX,
    MS_EVFILE_SNP_BUNDLE,
    MS_EVFILE_TPM2_BUNDLE,
    MS_EVFILE_TDX_QUOTE,
    MS_EVFILE_TDX_BUNDLE,
    MS_EVFILE_AZ_HCL,
    MS_EVFILE_AZ_BUNDLE,
    MS_EVFILE_NVGPU_REPORT_HEX,
    MS_EVFILE_NVGPU_EVIDENCE,
} ms_evfile_form;

/* A parsed file. Owns `evidence`; init, then free (wipes). */
typedef struct ms_evfile {
    ms_evfile_form form;
    uint16_t type;     /* MS_EVIDENCE_* */
    ms_buf evidence;   /* the evidence bytes; for SNP_REPORT(_HEX) the 1184 report bytes */
    /* SAVED only (zero otherwise): the session the evidence was received in. */
    int have_session;
    uint8_t mode;
    uint64_t not_after, captured_at;
    uint8_t static_pk[MS_X25519_LEN];
    uint8_t binding[MS_BINDING_LEN];
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint8_t transcript_hash[MS_KEY_LEN];
    uint8_t tls_spki_hash[MS_SPKI_HASH_LEN];
    char url[MS_MAX_HTTP_URL + 1];
    int any_evidence;  /* it was captured with --any-evidence (nothing was pinned) */
    char why[160];     /* after a failed parse of SAVED: which field and what is wrong */
} ms_evfile;

void ms_evfile_init(ms_evfile *f);
void ms_evfile_free(ms_evfile *f);

/*
 * Parse a file's bytes (untrusted; at most MS_MAX_EVIDENCE_FILE). SAVED is read with the
 * typed JSON reader: every field required, typed and of its exact length, unknown fields
 * refused (MS_ERR_JSON_* or MS_ERR_FILE_FORMAT, with `why`). MS_ERR_FILE_FORMAT when the
 * bytes are none of the forms, MS_ERR_CAP_EXCEEDED over the cap.
 */
MS_MUST_CHECK ms_err ms_evfile_parse(const uint8_t *p, size_t len, ms_evfile *out);

/*
 * The SAVED JSON (one line, no newline) for evidence accepted in a session: `ev` as
 * ms_client_evidence gives it, the supervisor's URL, and whether nothing was pinned.
 * Appended to `out` (cap at least MS_MAX_EVIDENCE_FILE).
 */
MS_MUST_CHECK ms_err ms_evfile_json(const ms_evidence_view *ev, const char *url, int any_evidence,
                                    ms_buf *out);

/*
 * Write `len` bytes to a new file: mode 0600, O_EXCL (an existing file or a symbolic link is
 * MS_ERR_FILE_OPEN, never replaced), fsync'd; a failed write removes the file.
 */
MS_MUST_CHECK ms_err ms_evfile_write(const char *path, const uint8_t *p, size_t len);

#endif

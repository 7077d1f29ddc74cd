/* TDX producer: a quote from configfs-tsm (tdx_guest), with the operator's collateral, as a bundle. */
#ifndef MS_SECURE_ATTEST_TDX_PRODUCE_H
#define MS_SECURE_ATTEST_TDX_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/tdx.h"

#define MS_TDX_TSM_ROOT "/sys/kernel/config/tsm/report"
#define MS_TDX_TSM_PROVIDER "tdx_guest"

/*
 * A collateral folder (minions-supervisor --tdx-collateral DIR, the policy's
 * tdx.collateral_dir, minions-secure attest --tdx-collateral DIR), as Intel's PCS serves
 * each part: tcb_info.json, qe_identity.json, tcb_signing_chain.pem, pck_crl (.der or
 * .pem) and root_crl (.der or .pem). A missing file is an absent part. Owns its buffers.
 */
typedef struct ms_tdx_files {
    ms_buf tcb_info, qe_identity, signing_chain, pck_crl, root_crl;
    ms_buf pck_chain; /* pck_chain.pem: the PCK chain for quotes that do not carry it (the
                         client's policy and --verify; the supervisor does not serve it) */
} ms_tdx_files;

void ms_tdx_files_init(ms_tdx_files *f);
void ms_tdx_files_free(ms_tdx_files *f);
/* Read DIR's files (caps of the bundle's parts). File errors other than "absent" are
   returned (MS_ERR_CAP_EXCEEDED, MS_ERR_FILE_OPEN ...); *f is then emptied. */
MS_MUST_CHECK ms_err ms_tdx_files_load(ms_tdx_files *f, const char *dir);
/* The loaded parts as the verifier and the bundle take them (NULL / 0 when absent). */
void ms_tdx_files_view(const ms_tdx_files *f, ms_tdx_collateral_in *c, const uint8_t **pck_crl,
                       size_t *pck_crl_len);

/*
 * The supervisor refuses to serve stale collateral: each of TCB info, QE identity, PCK CRL
 * and root CRL that is present must be at most `grace_s` seconds past its nextUpdate at
 * `at` (Unix seconds). MS_ERR_TDX_STALE_TCB_INFO, _QE_IDENTITY, _PCK_CRL, _ROOT_CRL name the
 * stale part; a part whose date cannot be read is MS_ERR_TDX_COLLATERAL_FORMAT (documents)
 * or MS_ERR_TDX_CRL (CRLs). Signatures are the client's to check, not this.
 */
#define MS_TDX_MAX_GRACE_S (90ul * 86400ul) /* the longest grace: 90 days, as tdx.collateral_grace_seconds */
MS_MUST_CHECK ms_err ms_tdx_files_fresh(const ms_tdx_files *f, uint64_t at, uint64_t grace_s);

typedef struct ms_tdx_producer_cfg {
    const char *tsm_root;          /* NULL: MS_TDX_TSM_ROOT */
    const ms_tdx_files *collateral; /* borrowed; NULL or empty: the bundle carries the quote only */
    uint64_t grace_s;              /* collateral served up to this long past its nextUpdate */
    uint64_t at;                   /* the time collateral is judged at; 0: now */
} ms_tdx_producer_cfg;

/*
 * A bundle from configfs-tsm's outblob: the quote trimmed of the zero padding configfs-tsm
 * may add (ms_tdx_quote_unpad), decoded strictly, its REPORTDATA equal to `binding`, then
 * the collateral, refused when stale (ms_tdx_files_fresh). Errors: MS_ERR_TDX_FORMAT (not
 * one quote, non-zero trailing bytes), MS_ERR_TDX_DEVICE (the quote is not over `binding`),
 * MS_ERR_TDX_STALE_*, buffer errors. Appends to `out`.
 */
MS_MUST_CHECK ms_err ms_tdx_evidence_from_blob(const ms_tdx_producer_cfg *cfg, const uint8_t *blob,
                                               size_t len,
                                               const uint8_t binding[static MS_BINDING_LEN],
                                               ms_buf *out);

/*
 * configfs-tsm on an existing entry (provider tdx_guest, inblob = binding, outblob = the
 * quote) then ms_tdx_evidence_from_blob. Device errors are MS_ERR_TDX_DEVICE.
 */
MS_MUST_CHECK ms_err ms_tdx_tsm_entry_evidence(const ms_tdx_producer_cfg *cfg, const char *entry,
                                               const uint8_t binding[static MS_BINDING_LEN],
                                               ms_buf *out);

/* The supervisor's producer: a new entry under cfg->tsm_root each time, as above. */
MS_MUST_CHECK ms_err ms_tdx_evidence(const ms_tdx_producer_cfg *cfg,
                                     const uint8_t binding[static MS_BINDING_LEN], ms_buf *out);

#endif

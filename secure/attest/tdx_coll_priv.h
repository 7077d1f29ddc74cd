/* Internal to secure/attest/tdx_coll*.c: what the collateral parser and verifier share. */
#ifndef MS_SECURE_ATTEST_TDX_COLL_PRIV_H
#define MS_SECURE_ATTEST_TDX_COLL_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/attest/tdx_collateral.h"

#define MS_TDX_COLL_SIG_LEN 64u /* ECDSA P-256 r || s */

/*
 * A response's outer object: exactly the members `body_key` (an object) and "signature"
 * (128 hex digits). text[*body_start .. + *body_len) is the body as written: the bytes the
 * signature covers. MS_ERR_TDX_COLLATERAL_FORMAT otherwise (MS_ERR_NOMEM aside).
 */
MS_MUST_CHECK ms_err ms_tdx_coll_split(const uint8_t *doc, size_t len, const char *body_key,
                                       size_t *body_start, size_t *body_len,
                                       uint8_t sig[static MS_TDX_COLL_SIG_LEN]);

/* The bodies alone (the signed bytes), into their part of *out (the rest is not touched). */
MS_MUST_CHECK ms_err ms_tdx_coll_tcb_body(const uint8_t *body, size_t len, ms_tdx_collateral *out);
MS_MUST_CHECK ms_err ms_tdx_coll_qe_body(const uint8_t *body, size_t len, ms_tdx_collateral *out);

#endif

/* Azure's TD quote service (IMDS acc/tdquote): a TDX quote of a TD report, for az-tdx-vtpm (docs/attest-azure.md §5). */
#ifndef MS_SECURE_ATTEST_AZ_TDQUOTE_H
#define MS_SECURE_ATTEST_AZ_TDQUOTE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/az_hcl.h"

/* The link-local instance metadata service of an Azure VM (plain http, reached only from
   the VM itself). minions-supervisor --az-tdquote-url overrides it (tests). */
#define MS_AZ_TDQUOTE_URL "http://169.254.169.254/acc/tdquote"
#define MS_AZ_TDQUOTE_CONNECT_MS 5000L
#define MS_AZ_TDQUOTE_TOTAL_MS 30000L

/*
 * The request body: {"report":"<the 1024-byte TD report, base64url without padding>"}.
 * Appends to `out`.
 */
MS_MUST_CHECK ms_err ms_az_tdquote_request(const uint8_t td_report[static MS_AZ_TD_REPORT_LEN],
                                           ms_buf *out);

/*
 * The response body (untrusted: the quote it carries is checked by the client, and by the
 * producer against the TD report it asked for): at most MS_AZ_MAX_TDQUOTE_RESPONSE bytes,
 * one JSON object read with the typed reader (strict RFC 8259, duplicate keys refused,
 * depth and length caps) whose member "quote" is a string of base64url (no padding; up
 * to two '=' of padding are tolerated on a length that is a multiple of 4) decoding to
 * 1..MS_TDX_MAX_QUOTE bytes. Other members are ignored (the service's, may grow; nothing
 * relies on them). Anything else is MS_ERR_AZ_TDQUOTE_RESPONSE. Appends the quote's bytes
 * to `quote` (nothing on error).
 */
MS_MUST_CHECK ms_err ms_az_tdquote_response_parse(const uint8_t *p, size_t len, ms_buf *quote);

/*
 * One client of the service at `url` (copied; checked at each request by common/http's
 * URL policy with plain http allowed to loopback and link-local hosts only). NOT
 * thread-safe: the az producer calls it under its lock.
 */
typedef struct ms_az_tdquote ms_az_tdquote;
MS_MUST_CHECK ms_err ms_az_tdquote_new(const char *url, ms_az_tdquote **out);
void ms_az_tdquote_free(ms_az_tdquote *q);

/*
 * POST the request for `td_report` and parse the answer into `quote` (appended).
 * Errors: MS_ERR_HTTP_* (URL, insecure, connect, timeout, body over its cap, ...),
 * MS_ERR_AZ_TDQUOTE_STATUS (not 200), MS_ERR_AZ_TDQUOTE_RESPONSE.
 */
MS_MUST_CHECK ms_err ms_az_tdquote_get(ms_az_tdquote *q,
                                       const uint8_t td_report[static MS_AZ_TD_REPORT_LEN],
                                       ms_buf *quote);

#endif

/* Azure fixture: test-made HCL reports (over a test SNP chain) and vTPM quotes by a test RSA AK. */
#ifndef MS_TESTS_ATTEST_AZ_FIXTURE_H
#define MS_TESTS_ATTEST_AZ_FIXTURE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "secure/attest/az.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/secure/attest/tpm2_tpm.h"

/* RSA-2048 keys made once per process: which 0 is "the" AK, 1 a foreign one. */
EVP_PKEY *az_fx_ak_key(int which);
void az_fx_keys_free(void);

/* n of an RSA key as base64url without padding (what a JWK holds). Returns 1 on success. */
int az_fx_b64url_n(EVP_PKEY *rsa, ms_buf *out);

/*
 * Variable data JSON like the paravisor's: {"keys":[HCLAkPub of `ak`, HCLEkPub of `ek`
 * (if not NULL)], "vm-configuration":{...}, "user-data": hex(user_data) (if not NULL)}.
 * `second_ak` adds another key with kid HCLAkPub.
 */
int az_fx_var_data(ms_buf *out, EVP_PKEY *ak, EVP_PKEY *ek, const uint8_t *user_data,
                   EVP_PKEY *second_ak);

/* Frame: header, the 1184-byte area, request header, var data, zero fill up to nv_size. */
int az_fx_hcl_frame(ms_buf *out, const uint8_t hw[static MS_AZ_HCL_HW_LEN], uint32_t report_type,
                    const uint8_t *var, size_t var_len, size_t nv_size);

/*
 * A whole SNP HCL report as the paravisor makes it: report options `o` (default if NULL)
 * with report_data = SHA-256(var), signed by vcek_key, framed in a 2048-byte NV area.
 */
int az_fx_snp_hcl(ms_buf *out, EVP_PKEY *vcek_key, const snp_fx_report_opts *o,
                  const uint8_t *var, size_t var_len);

/*
 * A quote by `ak` (RSASSA, or RSAPSS when pss): TPMS_ATTEST over nonce[0..32) and the
 * PCRs of `mask` whose values are values[0..n) (PCR digest = SHA-256 of them). Appends the
 * TPM2B_ATTEST to `quoted` and the TPMT_SIGNATURE to `sig`. Returns 1 on success.
 */
int az_fx_quote(ms_buf *quoted, ms_buf *sig, EVP_PKEY *ak, const uint8_t nonce[32],
                uint32_t mask, const uint8_t *values, size_t n, int pss);

/* The RSA public key of a TPM public area (n from the TPM, e = 65537); NULL on failure. */
EVP_PKEY *az_fx_rsa_from_tpm(const TPMT_PUBLIC *pub);

/*
 * Provision a TPM as Azure's paravisor provisions the vTPM: an RSA AK (tpm2_template_rsa_ak)
 * of the owner hierarchy persisted at MS_AZ_AK_HANDLE (kept when one is there already),
 * and NV MS_AZ_NV_HCL_REPORT as 2048 zero bytes (defined when absent). *ak: the AK's
 * public key (free it). Returns 1 on success.
 */
int az_fx_provision(tpm2_conn *c, EVP_PKEY **ak);

/* A test world: chain, AK, PCR 0/7 values, binding, and a bundle that verifies under policy. */
typedef struct az_fx_world {
    snp_fx_chain chain;
    uint8_t binding[MS_BINDING_LEN];
    uint8_t values[2][32]; /* PCR 0 and PCR 7 */
    ms_az_policy policy;
    ms_buf var, hcl, quoted, sig, ev;
} az_fx_world;

int az_fx_world_make(az_fx_world *w);
/* Re-make w->ev from w->hcl, w->quoted, w->sig, the PCR values and the chain. */
int az_fx_world_bundle(az_fx_world *w);
void az_fx_world_free(az_fx_world *w);

/*
 * Flip bit 0 of every `stride`-th byte of ev[from, to) in turn (in quick mode about `samples`
 * of them, the first and last included: test_sample_next) and run verify(ctx) with it
 * flipped; each result must be one of want[0..n) (the others are printed with their
 * offset). Returns how many were not. ev is as it was on return.
 */
typedef ms_err (*az_fx_verify_fn)(const void *ctx);
int az_fx_flip_range(uint8_t *ev, size_t from, size_t to, size_t stride, size_t samples,
                     az_fx_verify_fn verify, const void *ctx, const ms_err *want, size_t n);

/*
 * The hardware area of a TDX HCL report: a TD report (TDREPORT_STRUCT, type 0x81) whose
 * TEE_TCB_INFO and TDINFO fields and REPORTDATA are `td`'s, MAC 0x4d.., then zeros.
 */
void az_fx_td_report(uint8_t hw[static MS_AZ_HCL_HW_LEN], const ms_tdx_td_report *td);

/*
 * An az-tdx-vtpm world: az's AK, PCRs, binding and variable data; az.hcl a TDX HCL report
 * whose TD report is the TD body of `quote` (a quote under tdx's chain with REPORTDATA =
 * SHA-256(variable data) || zeros), az.ev the format 0x02 bundle with tdx's collateral,
 * and az.policy.tdx pinning tdx's root, MRTD and RTMR0..3.
 */
typedef struct az_fx_tdx_world {
    az_fx_world az;
    tdx_fx_platform tdx;
    ms_buf quote, tdx_ev;
} az_fx_tdx_world;

int az_fx_tdx_world_make(az_fx_tdx_world *w);

/*
 * A TDX HCL report as Azure's paravisor makes it: the TD of `plat` (its qo) with
 * REPORTDATA = SHA-256(var) || zeros, laid out as a quote's TD body lays it out (so a quote
 * of it matches: MRSEAM, XFAM ... as tdx_fx_quote_make writes them), in a 2048-byte NV area.
 */
int az_fx_tdx_hcl(ms_buf *out, const tdx_fx_platform *plat, const uint8_t *var, size_t var_len);

/*
 * Azure's TD quote service stood in: for the request body {"report": base64url(TD report)},
 * appends {"quote": base64url(a quote of that TD report's fields, by plat's chain)} to out;
 * other_td changes the MRTD quoted (a quote of another TD). 1 on success, 0 when the request
 * is not one TD report (nothing appended).
 */
int az_fx_tdquote_answer(const tdx_fx_platform *plat, const char *req, size_t len, int other_td,
                         ms_buf *out);
/* Re-make az.hcl from `quote`'s TD body and az.var (when hcl_too), then az.ev. */
int az_fx_tdx_world_bundle(az_fx_tdx_world *w, int hcl_too);
void az_fx_tdx_world_free(az_fx_tdx_world *w);

#endif

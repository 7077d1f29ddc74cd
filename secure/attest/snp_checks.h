/* Internal to secure/attest/snp*: the verifier's shared state and its certificate-side checks. */
#ifndef MS_SECURE_ATTEST_SNP_CHECKS_H
#define MS_SECURE_ATTEST_SNP_CHECKS_H

#include <openssl/x509.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/attest/snp.h"

/*
 * Everything the checks share. Certificates are owned here; `ask` borrows one of
 * `bundle_ask` / `policy_ask` and is the ASK for a VCEK-signed report, the ASVK for a
 * VLEK-signed one; `vcek` is the bundle's leaf, a VCEK or a VLEK.
 */
typedef struct snp_ctx {
    const ms_snp_policy *policy;
    const uint8_t *binding;
    uint64_t at;
    ms_snp_bundle bundle;
    ms_snp_report report;
    X509 *vcek;
    X509 *bundle_ask;
    X509 *ark;
    X509 *policy_ask;
    X509 *ask;
    X509_CRL *crl;
} snp_ctx;

void snp_ctx_free(snp_ctx *c);

/* 1 when the report says a VLEK signed it (KEY_INFO SIGNING_KEY 1). */
int snp_is_vlek(const snp_ctx *c);

/* The certificate side of docs/attest-sev-snp.md §4, in its order (snp_chain.c). */
MS_MUST_CHECK ms_err snp_check_format(snp_ctx *c, const uint8_t *ev, size_t len);
MS_MUST_CHECK ms_err snp_check_ark(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_chain(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_cert_time(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_crl(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_revoked(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_signing_key(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_signature(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_tcb_match(snp_ctx *c);
MS_MUST_CHECK ms_err snp_check_chip_id(snp_ctx *c);

#endif

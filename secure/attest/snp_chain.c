/* SEV-SNP verifier, certificate side: AMD's chain, validity, CRL, signing key, signature, VCEK. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#include "common/check.h"
#include "secure/attest/ecdsa.h"
#include "secure/attest/snp_checks.h"
#include "secure/attest/snp_x509.h"

#define SNP_SIG_SCALAR_LEN 48u /* P-384 */

void snp_ctx_free(snp_ctx *c)
{
    X509_free(c->vcek);
    X509_free(c->bundle_ask);
    X509_free(c->ark);
    X509_free(c->policy_ask);
    X509_CRL_free(c->crl);
    ERR_clear_error(); /* failed parses and verifications leave entries behind */
}

int snp_is_vlek(const snp_ctx *c)
{
    return MS_SNP_KEY_INFO_SIGNING_KEY(c->report.key_info) == MS_SNP_SIGNING_KEY_VLEK;
}

/* §4 check 1: the bundle's layout, the report's fields, each certificate's DER. */
ms_err snp_check_format(snp_ctx *c, const uint8_t *ev, size_t len)
{
    TRY(ms_snp_bundle_decode(ev, len, &c->bundle));
    TRY(ms_snp_report_decode(c->bundle.report, MS_SNP_REPORT_LEN, &c->report));
    TRY(ms_snp_x509_parse(c->bundle.vcek, c->bundle.vcek_len, MS_ERR_SNP_FORMAT, &c->vcek));
    if (c->bundle.ask != NULL) {
        TRY(ms_snp_x509_parse(c->bundle.ask, c->bundle.ask_len, MS_ERR_SNP_FORMAT, &c->bundle_ask));
    }
    return MS_OK;
}

/*
 * §4 check 2: the pinned ARK is a self-signed PSS root and CA, and the intermediate (the
 * bundle's, else the policy's ASK, or ASVK for a VLEK-signed report) was issued by it. An
 * intermediate from any other root fails here.
 */
ms_err snp_check_ark(snp_ctx *c)
{
    const ms_snp_policy *p = c->policy;
    const uint8_t *mid = snp_is_vlek(c) ? p->asvk_der : p->ask_der;
    size_t mid_len = snp_is_vlek(c) ? p->asvk_len : p->ask_len;
    if (c->bundle_ask != NULL) {
        c->ask = c->bundle_ask;
    } else if (mid != NULL && mid_len > 0) {
        /* An unreadable policy ASK is no ASK: the chain check then fails. */
        if (ms_snp_x509_parse(mid, mid_len, MS_ERR_SNP_CHAIN, &c->policy_ask) == MS_OK) {
            c->ask = c->policy_ask;
        }
    }
    TRY(ms_snp_x509_parse(p->ark_der, p->ark_len, MS_ERR_SNP_ARK, &c->ark));
    ENSURE(ms_snp_x509_issued_pss(c->ark, c->ark) && ms_snp_x509_is_ca(c->ark), MS_ERR_SNP_ARK);
    ENSURE(c->ask == NULL || ms_snp_x509_issued_pss(c->ark, c->ask), MS_ERR_SNP_ARK);
    return MS_OK;
}

/* §4 check 3: there is an intermediate, it is a CA, and it issued the leaf. */
ms_err snp_check_chain(snp_ctx *c)
{
    ENSURE(c->ask != NULL && ms_snp_x509_is_ca(c->ask), MS_ERR_SNP_CHAIN);
    ENSURE(ms_snp_x509_issued_pss(c->ask, c->vcek), MS_ERR_SNP_CHAIN);
    return MS_OK;
}

/* §4 check 4: every certificate in use is valid at the time judged. */
ms_err snp_check_cert_time(snp_ctx *c)
{
    X509 *certs[] = {c->ark, c->ask, c->vcek};
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) {
        ENSURE(certs[i] == NULL || ms_snp_x509_valid_at(certs[i], c->at), MS_ERR_SNP_CERT_TIME);
    }
    return MS_OK;
}

/* §4 checks 5 and 6: the policy's CRL is the ARK's, and it does not list the intermediate. */
ms_err snp_check_crl(snp_ctx *c)
{
    ENSURE(c->ark != NULL, MS_ERR_SNP_CRL);
    return ms_snp_x509_crl_parse(c->ark, c->policy->crl_der, c->policy->crl_len, &c->crl);
}

ms_err snp_check_revoked(snp_ctx *c)
{
    /* Without a CRL that verified, or without an intermediate, nothing shows it is not revoked. */
    ENSURE(c->crl != NULL && c->ask != NULL, MS_ERR_SNP_REVOKED);
    ENSURE(!ms_snp_x509_crl_lists(c->crl, c->ask), MS_ERR_SNP_REVOKED);
    return MS_OK;
}

/* §4 check 7: the report names a VCEK or a VLEK, and the leaf is that kind of certificate. */
ms_err snp_check_signing_key(snp_ctx *c)
{
    unsigned k = MS_SNP_KEY_INFO_SIGNING_KEY(c->report.key_info);
    ENSURE(k == MS_SNP_SIGNING_KEY_VCEK || k == MS_SNP_SIGNING_KEY_VLEK, MS_ERR_SNP_SIGNING_KEY);
    ENSURE(ms_snp_x509_cn_is(c->vcek, k == MS_SNP_SIGNING_KEY_VLEK ? "SEV-VLEK" : "SEV-VCEK"),
           MS_ERR_SNP_SIGNING_KEY);
    return MS_OK;
}

/* §4 check 8: ECDSA P-384 with SHA-384 over [0, 0x2A0) by the leaf's key. */
ms_err snp_check_signature(snp_ctx *c)
{
    EVP_PKEY *key = X509_get0_pubkey(c->vcek);
    ENSURE(ms_ecdsa_key_on(key, SN_secp384r1), MS_ERR_SNP_SIGNATURE);
    /* r and s little-endian, 72 bytes each */
    return ms_ecdsa_verify(key, EVP_sha384(), c->report.sig_r, SNP_SIG_SCALAR_LEN,
                           c->report.sig_s, SNP_SIG_SCALAR_LEN, 1, c->bundle.report,
                           MS_SNP_SIGNED_LEN, MS_ERR_SNP_SIGNATURE);
}

/* §4 checks 9 and 10: the leaf was issued for this TCB (in the chip's layout) and this chip. */
ms_err snp_check_tcb_match(snp_ctx *c)
{
    return ms_snp_x509_tcb_equal(c->vcek, c->report.reported_tcb.raw, c->report.tcb_layout);
}

ms_err snp_check_chip_id(snp_ctx *c)
{
    return ms_snp_x509_hwid_equal(c->vcek, c->report.chip_id, c->report.tcb_layout);
}

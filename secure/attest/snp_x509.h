/* Internal to secure/attest/snp*: SEV-SNP's X.509 side (AMD's PSS chain, VCEK extensions). */
#ifndef MS_SECURE_ATTEST_SNP_X509_H
#define MS_SECURE_ATTEST_SNP_X509_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/attest/snp.h"

/*
 * One DER certificate of at most MS_SNP_MAX_CERT bytes with no trailing bytes. On any
 * problem *out is NULL and the result is `bad` (the caller's code for "this input").
 */
MS_MUST_CHECK ms_err ms_snp_x509_parse(const uint8_t *der, size_t len, ms_err bad, X509 **out);

/*
 * 1 when `subject` was issued by `issuer` the way AMD issues its chain: the names (and key
 * identifiers, and the issuer's key usage) agree, the signature algorithm is RSASSA-PSS
 * with SHA-384, MGF1-SHA-384, a 48-byte salt and trailer 1, the issuer's key is RSA, and
 * the signature verifies. 0 otherwise. Use issuer == subject for a self-signed root.
 */
int ms_snp_x509_issued_pss(X509 *issuer, X509 *subject);

/* 1 when the certificate is a CA by its basicConstraints (X509_check_ca() == 1). */
int ms_snp_x509_is_ca(X509 *cert);

/*
 * The VCEK's TCB extensions (1.3.6.1.4.1.3704.1.3.x, each a DER INTEGER 0..255) against a
 * TCB_VERSION: blSPL (.1) = byte 0, teeSPL (.2) = byte 1, snpSPL (.3) = byte 6 and
 * ucodeSPL (.8) = byte 7 must each be present once and equal; the reserved spl_4..spl_7
 * (.4 .. .7) = bytes 2..5 must equal when present. MS_ERR_SNP_TCB_MISMATCH otherwise,
 * MS_ERR_NOMEM if OpenSSL cannot allocate.
 */
MS_MUST_CHECK ms_err ms_snp_x509_tcb_equal(X509 *vcek, uint64_t tcb_raw);

/* The hwID extension (1.3.6.1.4.1.3704.1.4): present once, 64 bytes, equal to chip_id. */
MS_MUST_CHECK ms_err ms_snp_x509_hwid_equal(X509 *vcek,
                                            const uint8_t chip_id[static MS_SNP_CHIP_ID_LEN]);

#endif

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
 * The VCEK's (or VLEK's) TCB extensions (1.3.6.1.4.1.3704.1.3.x, each a DER INTEGER 0..255)
 * read as a TCB_VERSION in `layout`:
 *   Milan / Genoa: blSPL (.1) byte 0, teeSPL (.2) byte 1, snpSPL (.3) byte 6, ucodeSPL (.8)
 *     byte 7, each present once; the reserved spl_4..spl_7 (.4 .. .7) bytes 2..5 when
 *     present (absent: zero); fmcSPL (.9) must be absent.
 *   Turin: fmcSPL (.9) byte 0, blSPL byte 1, teeSPL byte 2, snpSPL byte 3, ucodeSPL byte 7,
 *     each present once; spl_4..spl_7 are reserved and must be zero when present.
 * MS_ERR_SNP_TCB_MISMATCH when an extension is missing, repeated, not such an integer or
 * not allowed; MS_ERR_NOMEM if OpenSSL cannot allocate. *raw is 0 on failure.
 */
MS_MUST_CHECK ms_err ms_snp_x509_tcb_read(X509 *vcek, ms_snp_tcb_layout layout, uint64_t *raw);

/* ms_snp_x509_tcb_read equals tcb_raw; MS_ERR_SNP_TCB_MISMATCH otherwise. */
MS_MUST_CHECK ms_err ms_snp_x509_tcb_equal(X509 *vcek, uint64_t tcb_raw, ms_snp_tcb_layout layout);

/*
 * The hwID extension (1.3.6.1.4.1.3704.1.4), present once, names this chip: 64 bytes equal
 * to chip_id, or on Turin (whose KDS keys VCEKs by the first 8 bytes) 8 bytes equal to
 * chip_id[0..8) with the rest of chip_id zero. MS_ERR_SNP_CHIP_ID otherwise.
 */
MS_MUST_CHECK ms_err ms_snp_x509_hwid_equal(X509 *vcek,
                                            const uint8_t chip_id[static MS_SNP_CHIP_ID_LEN],
                                            ms_snp_tcb_layout layout);

/* 1 when notBefore <= at < notAfter (Unix seconds); 0 otherwise or when unreadable. */
int ms_snp_x509_valid_at(X509 *cert, uint64_t at);

/* 1 when the subject's commonName is exactly `cn` (once); 0 otherwise. */
int ms_snp_x509_cn_is(X509 *cert, const char *cn);

/*
 * One DER CRL (no trailing bytes) issued by `ark` the way AMD signs: the issuer name is the
 * ARK's subject, RSASSA-PSS with AMD's parameters, and the signature verifies under the
 * ARK's key. *out is the CRL (free with X509_CRL_free) or NULL; MS_ERR_SNP_CRL otherwise.
 */
MS_MUST_CHECK ms_err ms_snp_x509_crl_parse(X509 *ark, const uint8_t *der, size_t len,
                                           X509_CRL **out);

/* 1 when `crl` lists the serial number of `cert` (whose issuer is the CRL's). */
int ms_snp_x509_crl_lists(X509_CRL *crl, X509 *cert);

#endif

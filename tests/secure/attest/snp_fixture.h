/* SEV-SNP test fixture: AMD's real vectors from shared/testdata; a made-up chain and reports. */
#ifndef MS_TESTS_ATTEST_SNP_FIXTURE_H
#define MS_TESTS_ATTEST_SNP_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "secure/attest/snp.h"

/* ---- the real vectors (../shared/testdata/sev-snp, see its NOTICE files) --------------- */

typedef struct snp_fx_amd {
    uint8_t report[MS_SNP_REPORT_LEN]; /* milan/report_milan.hex */
    ms_buf vcek;                       /* milan/vcek_milan.der */
    ms_buf ask, ark;                   /* milan/{ask,ark}.pem as DER */
    ms_buf genoa_ask, genoa_ark;       /* genoa/{ask,ark}.pem as DER */
} snp_fx_amd;

/* Load every file; returns 0 and prints what is missing when the data is not there. */
int snp_fx_amd_load(snp_fx_amd *a);
void snp_fx_amd_free(snp_fx_amd *a);

/* ---- a made-up chain: RSA-PSS "ARK" and "ASK", a P-384 "VCEK" with AMD's extensions --- */

/* TCB_VERSION bytes 0..7 as the VCEK's spl extensions state them (index = TCB byte). */
typedef struct snp_fx_vcek_opts {
    uint8_t tcb[8];
    int omit_spl;      /* TCB byte index whose extension is left out, or -1 */
    int dup_spl;       /* TCB byte index whose extension appears twice, or -1 */
    uint8_t hwid[MS_SNP_CHIP_ID_LEN];
    size_t hwid_len;   /* 0: no hwID extension */
    int turin;         /* spl extensions in Turin's layout (fmcSPL = byte 0, ...) */
    int vlek;          /* "SEV-VLEK" under an ASVK "SEV-VLEK-Test" instead of a VCEK under an ASK */
} snp_fx_vcek_opts;

typedef struct snp_fx_chain {
    EVP_PKEY *ark_key, *ask_key, *vcek_key; /* the chain holds one reference to each */
    ms_buf ark, ask, vcek;                  /* DER */
} snp_fx_chain;

/* Key pairs made once per process and shared (RSA generation is slow under valgrind). */
/* which: 0, 1, 2 -> three different RSA keys (1024-bit: test only); 0, 1 -> two P-384 keys. */
EVP_PKEY *snp_fx_rsa_key(int which);
EVP_PKEY *snp_fx_p384_key(int which);
void snp_fx_keys_free(void);
/*
 * A new RSA key of `bits` bits (NULL on failure). In quick mode (tests/quick.h) it is made
 * by the openssl program, a child that valgrind does not trace (RSA-2048 generation takes
 * 10-100 s under valgrind); else, and if that fails, in this process.
 */
EVP_PKEY *snp_fx_rsa_gen(unsigned bits);

/* Default VCEK options: TCB bl 3, tee 0, snp 8, ucode 115, hwID = chip_id pattern 0x11.. */
void snp_fx_vcek_opts_default(snp_fx_vcek_opts *o);

/* A non-critical extension `oid` holding `val` as its raw value, added to x. Returns 1 on success. */
int snp_fx_add_raw_ext(X509 *x, const char *oid, const uint8_t *val, size_t len);

/*
 * A CRL issued in the name of c's ARK and signed by `key` (RSA-PSS, SHA-384, salt 48), listing
 * serial `revoked` (the fixture's ASK has serial 2), or none when revoked < 0. DER into `out`
 * (initialised here). Returns 1 on success.
 */
int snp_fx_crl_make(ms_buf *out, const snp_fx_chain *c, EVP_PKEY *key, long revoked);
/* The same signed by c's ARK, none listed, exactly `total` bytes (a padding extension). */
int snp_fx_crl_of_size(ms_buf *out, const snp_fx_chain *c, size_t total);

/*
 * Another certificate for the fixture's ARK (same subject and key, so it still names and
 * signs the ASK): issued by `issuer_key` (the same key: self-signed; another: issued by an
 * "ARK-Other"), a CA as AMD's roots are or, with ca == 0, basicConstraints CA:FALSE. DER into
 * `out` (initialised here). Returns 1 on success.
 */
int snp_fx_ark_variant(ms_buf *out, EVP_PKEY *ark_key, EVP_PKEY *issuer_key, int ca);

/*
 * Another certificate for c's ASK (same subject, key and serial, issued and signed by c's
 * ARK as AMD signs) with basicConstraints CA:FALSE and no keyUsage: it still names and signs
 * c's VCEK. DER into `out` (initialised here). Returns 1 on success.
 */
int snp_fx_ask_not_ca(ms_buf *out, const snp_fx_chain *c);

/*
 * Certificates for ark_key -> ask_key -> vcek_key. `pss_salt` is the salt length of the
 * ASK's and VCEK's signatures (48 as AMD; other values make a non-AMD chain); `pkcs1`
 * signs the VCEK with PKCS#1 v1.5 instead. Returns 1 on success.
 */
int snp_fx_chain_make(snp_fx_chain *c, EVP_PKEY *ark_key, EVP_PKEY *ask_key, EVP_PKEY *vcek_key,
                      const snp_fx_vcek_opts *o, int pss_salt, int pkcs1);
void snp_fx_chain_free(snp_fx_chain *c);

/*
 * A self-signed CA with `key` (e.g. snp_fx_p384_key), CN `cn`, valid for a year from now,
 * as PEM: its private key and its certificate (both ms_buf initialised here). The TPM
 * AK-certificate tests use it as an operator's "AK CA". Returns 1 on success.
 */
int snp_fx_ca_pem(EVP_PKEY *key, const char *cn, ms_buf *key_pem, ms_buf *cert_pem);

/* ---- made-up reports ------------------------------------------------------------------ */

typedef struct snp_fx_report_opts {
    uint32_t version;
    uint64_t policy;
    uint32_t key_info;
    uint8_t report_data[MS_SNP_REPORT_DATA_LEN];
    uint8_t measurement[MS_SNP_MEASUREMENT_LEN];
    uint8_t tcb[8];                   /* reported, current, committed and launch TCB */
    uint8_t chip_id[MS_SNP_CHIP_ID_LEN];
    uint8_t family;                   /* CPUID family for version >= 3; 0: 19h (Milan) */
    uint32_t vmpl;                    /* the VMPL that asked for the report (0 by default) */
} snp_fx_report_opts;

/* Version 2, policy 0x30000, the default VCEK's TCB and chip id, measurement 0x5a 0x5a ... */
void snp_fx_report_opts_default(snp_fx_report_opts *o);
/* Lay out a report and sign it with `key` (ECDSA P-384, SHA-384). Returns 1 on success. */
int snp_fx_report_make(uint8_t out[static MS_SNP_REPORT_LEN], const snp_fx_report_opts *o,
                       EVP_PKEY *key);
/* Sign [0, 0x2A0) again after editing a report. */
int snp_fx_report_sign(uint8_t report[static MS_SNP_REPORT_LEN], EVP_PKEY *key);

/* ---- the chain in files, for another process (a supervisor's fake configfs-tsm) -------- */

/*
 * Into `dir`: ark.pem and ask.pem (what a policy pins), vcek.der, vcek.key (the VCEK's
 * private key, PEM: what signs reports) and certs.bin (a certificate table with the VCEK
 * and the ASK, as a host's auxblob holds it). Returns 1 on success.
 */
int snp_fx_chain_write(const snp_fx_chain *c, const char *dir);

/* ---- certificate tables (GHCB cert_table) ---------------------------------------------- */

/* The GHCB GUIDs, written out here independently of the library's copy. */
extern const uint8_t SNP_FX_GUID_VCEK[16], SNP_FX_GUID_ASK[16], SNP_FX_GUID_ARK[16],
    SNP_FX_GUID_VLEK[16];

typedef struct snp_fx_table_entry {
    const uint8_t *guid;
    const uint8_t *p;
    size_t len;
} snp_fx_table_entry;

/* Header (entries, then the zero terminator), then each entry's bytes in order. */
int snp_fx_cert_table(ms_buf *out, const snp_fx_table_entry *e, size_t n);

#endif

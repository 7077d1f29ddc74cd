/* TDX test fixture: Intel's real vectors from shared/testdata; a made-up DCAP chain and quotes. */
#ifndef MS_TESTS_ATTEST_TDX_FIXTURE_H
#define MS_TESTS_ATTEST_TDX_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "secure/attest/tdx.h"

/* ---- the real vectors (../shared/testdata/tdx, see its NOTICE) ----------------------- */

typedef struct tdx_fx_intel {
    ms_buf spr;      /* tdx_prod_quote_SPR_E4.dat, as the file is (39 text bytes follow) */
    ms_buf cos;      /* cos-113-tdx-quote.dat (zero-padded to 8000) */
    ms_buf nonce;    /* nonce.dat: the cos-113 quote's requested report data */
    ms_buf v5;       /* quote_v5_sample.dat */
    ms_buf root;     /* trusted_root.pem as DER */
    ms_buf pck_crl;  /* pckcrl (DER) */
    ms_buf root_crl; /* rootcrl.der */
    ms_buf tcb_info, tcb_info_v5, qe_identity, signing_chain; /* collateral */
} tdx_fx_intel;

#define TDX_FX_SPR_QUOTE_LEN 4935u /* the SPR and cos-113 quotes' own length */
#define TDX_FX_INTEL_AT 1687219200u /* 2023-06-20T00:00:00Z: every CRL and document valid */
#define TDX_FX_V5_AT 1780272000u    /* 2026-06-01: the v5 sample's PCK leaf is valid */

int tdx_fx_intel_load(tdx_fx_intel *a);
void tdx_fx_intel_free(tdx_fx_intel *a);

/* ---- a made-up chain: P-256 "Intel" root, PCK CA, PCK leaf with the SGX extensions ---- */

typedef struct tdx_fx_pck_opts {
    uint8_t sgx_comp[16];
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pceid[2];
    uint8_t fmspc[6];
    uint8_t config[4];  /* arcs n of the configuration item's (.7.n, FALSE) entries */
    size_t config_n;    /* 0: no configuration item (.7) */
    const char *pck_curve; /* the PCK leaf's key: NULL is P-256 (Intel's) */
} tdx_fx_pck_opts;

void tdx_fx_pck_opts_default(tdx_fx_pck_opts *o);
/* The SGX extension's value (DER) as a PCK certificate made from `o` carries it. */
int tdx_fx_sgx_ext_der(ms_buf *out, const tdx_fx_pck_opts *o);

typedef struct tdx_fx_chain {
    EVP_PKEY *root_key, *ca_key, *pck_key, *ak; /* owned */
    X509 *root_x, *ca_x, *pck_x;                /* owned */
    ms_buf root, ca, pck;                       /* DER */
    ms_buf pem;                                 /* PEM: PCK leaf, PCK CA, root */
} tdx_fx_chain;

/* A fresh chain (keys made per call; serials: root 1, CA 2, PCK 3); 1 on success. */
int tdx_fx_chain_make(tdx_fx_chain *c, const tdx_fx_pck_opts *o);
void tdx_fx_chain_free(tdx_fx_chain *c);

/* A CRL by `issuer` (with its key) revoking `revoked_serial` (0: none), valid now +-1 day. */
int tdx_fx_crl(ms_buf *out, X509 *issuer, EVP_PKEY *key, long revoked_serial);

/* ---- made-up quotes --------------------------------------------------------------------- */

typedef struct tdx_fx_quote_opts {
    uint16_t version;   /* 4 or 5 */
    uint16_t body_type; /* v5: 2 or 3 */
    uint64_t td_attributes;
    uint8_t tee_tcb_svn[16];
    uint8_t mrtd[MS_TDX_MEAS_LEN];
    uint8_t rtmr[MS_TDX_RTMRS][MS_TDX_MEAS_LEN];
    uint8_t mrconfigid[MS_TDX_MEAS_LEN];
    uint8_t mrowner[MS_TDX_MEAS_LEN];
    uint8_t report_data[MS_TDX_REPORT_DATA_LEN];
    int bad_qe_binding; /* QE report data not over the attestation key */
} tdx_fx_quote_opts;

/* Version 4, attributes 0, MRTD 0x3d.., RTMRi 0xa0+i.., report data 0. */
void tdx_fx_quote_opts_default(tdx_fx_quote_opts *o);

/* Where things are in a made-up quote, for the flip tests. */
typedef struct tdx_fx_layout {
    size_t signed_len;  /* [0, signed_len): header and body */
    size_t sig_off;     /* quote signature (64), then the attestation key (64) */
    size_t qe_off;      /* QE report (384), then its signature (64) */
    size_t auth_off;    /* QE auth data (after its u16 length) */
    size_t auth_len;
    size_t chain_off;   /* the PEM chain (after type and size) */
    size_t len;
} tdx_fx_layout;

/* Lay out a quote over the chain's PCK key and attestation key. 1 on success. */
int tdx_fx_quote_make(ms_buf *out, const tdx_fx_chain *c, const tdx_fx_quote_opts *o,
                      tdx_fx_layout *layout);

/*
 * The quote `q` (laid out as `l` says) with its QE authentication data (NULL: its own) and
 * its inner certification data (`type`, `n` bytes) replaced; only the length fields before
 * them change, nothing is signed again: for decoding tests, and for a type 1..4 quote whose
 * own auth data is kept (the QE report still binds it). `out` is cleared first. 1 on success.
 */
int tdx_fx_quote_relayout(const ms_buf *q, const tdx_fx_layout *l, const uint8_t *auth,
                          size_t auth_len, uint16_t type, const uint8_t *data, size_t n,
                          ms_buf *out);

/* ---- made-up collateral: TCB info and QE identity signed by a "TCB signing" key -------- */

typedef struct tdx_fx_collateral_opts {
    const char *tcb_status;   /* the one TCB level's status ("UpToDate", "OutOfDate", ...) */
    const char *qe_status;    /* the one QE level's status */
    long issue_offset_s;      /* issueDate = now + this (negative: in the past) */
    long next_offset_s;       /* nextUpdate = now + this */
    int bad_signature;        /* flip a bit of the TCB info's signature */
} tdx_fx_collateral_opts;

/* UpToDate for both, issued an hour ago, next update in 30 days. */
void tdx_fx_collateral_opts_default(tdx_fx_collateral_opts *o);

typedef struct tdx_fx_collateral {
    EVP_PKEY *signer_key; /* owned */
    ms_buf tcb_info, qe_identity; /* {"tcbInfo":{...},"signature":"hex"}, {"enclaveIdentity":...} */
    ms_buf signing_chain; /* PEM: the TCB signing certificate (issued by the chain's root), root */
} tdx_fx_collateral;

/*
 * Collateral that the chain's PCK (its SGX extensions as `po` states them) and a quote made
 * with `qo` meet: one TCB level with the PCK's SGX components and PCE SVN and TDX components
 * equal to qo->tee_tcb_svn; QE identity of the fixture's QE (MRSIGNER 0x5a.., ISVPRODID 2,
 * ISVSVN 8). 1 on success.
 */
int tdx_fx_collateral_make(tdx_fx_collateral *out, const tdx_fx_chain *c,
                           const tdx_fx_pck_opts *po, const tdx_fx_quote_opts *qo,
                           const tdx_fx_collateral_opts *o);
void tdx_fx_collateral_free(tdx_fx_collateral *out);

/* ---- the chain and collateral in files, for other processes (fake configfs-tsm, supervisor) */

/*
 * Into `dir`: root.pem (the "Intel" root a policy pins), pck.key and ak.key (PEM: what signs
 * the QE report and the quote) and pck_chain.pem (the PCK chain a quote embeds). 1 on success.
 */
int tdx_fx_chain_write(const tdx_fx_chain *c, const char *dir);
/*
 * A collateral folder as minions-supervisor --tdx-collateral reads it: tcb_info.json,
 * qe_identity.json, tcb_signing_chain.pem, and pck_crl.der / root_crl.der when given
 * (non-NULL). 1 on success.
 */
int tdx_fx_collateral_write(const tdx_fx_collateral *col, const ms_buf *pck_crl,
                            const ms_buf *root_crl, const char *dir);

/* ---- a TD platform in files, for a supervisor over tests/tools/fake-tsm (tdx_platform.c) -- */

typedef struct tdx_fx_platform {
    tdx_fx_pck_opts po;
    tdx_fx_quote_opts qo; /* the quotes' TD fields (defaults, TEE_TCB_SVN 3,0,5) */
    tdx_fx_chain chain;
    tdx_fx_collateral col;
    ms_buf pck_crl, root_crl;
    char config[4096]; /* <dir>/tsm.json: fake-tsm --config */
    char coll[4096];   /* <dir>/tdx-collateral: minions-supervisor --tdx-collateral */
} tdx_fx_platform;

/*
 * A fresh chain, its CRLs and collateral that quotes with p->qo meet (UpToDate), written into
 * `dir`: tdx_fx_chain_write's files, the collateral folder and fake-tsm's configuration
 * (the keys, the chain, MRTD, RTMR0..3, TEE_TCB_SVN). 1 on success.
 */
int tdx_fx_platform_make(tdx_fx_platform *p, const char *dir);
/* The same platform in memory only (no files; config and coll empty). 1 on success. */
int tdx_fx_platform_init(tdx_fx_platform *p);
/* A tdx evidence bundle: `quote` with the platform's collateral and both CRLs. 1 on success. */
int tdx_fx_platform_bundle(const tdx_fx_platform *p, const uint8_t *quote, size_t quote_len,
                           ms_buf *out);

enum { TDX_FX_SPOIL_NONE, TDX_FX_SPOIL_MRTD, TDX_FX_SPOIL_RTMR2 };
/* A client policy at `path` (in the platform's dir) pinning root.pem, MRTD and RTMR0..3,
   one of them changed on request (TDX_FX_SPOIL_*). 1 on success. */
int tdx_fx_platform_policy(const tdx_fx_platform *p, const char *path, int spoil);
void tdx_fx_platform_free(tdx_fx_platform *p);

#endif

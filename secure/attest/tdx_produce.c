/* TDX producer: configfs-tsm (shared with SEV-SNP), the quote trimmed and checked, the collateral. */
#include "secure/attest/tdx_produce.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <time.h>

#include "common/check.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp_produce.h"

/* The folder's files in the order of ms_tdx_files, with their caps; CRLs in two spellings. */
static const struct {
    const char *name, *alt;
    size_t cap;
} FILES[] = {
    {"tcb_info.json", NULL, MS_TDX_MAX_COLLATERAL_JSON},
    {"qe_identity.json", NULL, MS_TDX_MAX_COLLATERAL_JSON},
    {"tcb_signing_chain.pem", NULL, MS_TDX_MAX_PCK_CHAIN},
    {"pck_crl.der", "pck_crl.pem", MS_TDX_MAX_CRL},
    {"root_crl.der", "root_crl.pem", MS_TDX_MAX_CRL},
    {"pck_chain.pem", NULL, MS_TDX_MAX_PCK_CHAIN},
};

static ms_buf *file_buf(ms_tdx_files *f, size_t i)
{
    ms_buf *all[] = {&f->tcb_info, &f->qe_identity, &f->signing_chain, &f->pck_crl, &f->root_crl,
                     &f->pck_chain};
    return all[i];
}

void ms_tdx_files_init(ms_tdx_files *f)
{
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        ms_buf_init(file_buf(f, i), FILES[i].cap);
    }
}

void ms_tdx_files_free(ms_tdx_files *f)
{
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        ms_buf_free(file_buf(f, i));
    }
}

/* One file if it exists: absent is fine, anything else wrong is an error. */
static ms_err load_one(const char *dir, const char *name, size_t cap, ms_buf *out, int *found)
{
    char path[PATH_MAX];
    struct stat st;
    *found = 0;
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    ENSURE(n > 0 && (size_t)n < sizeof path, MS_ERR_ARG);
    if (stat(path, &st) != 0 && errno == ENOENT) {
        return MS_OK;
    }
    *found = 1;
    return ms_file_read(path, cap, out);
}

ms_err ms_tdx_files_load(ms_tdx_files *f, const char *dir)
{
    ENSURE(dir != NULL, MS_ERR_ARG);
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        ms_buf *b = file_buf(f, i);
        int found;
        ms_buf_clear(b);
        ms_err e = load_one(dir, FILES[i].name, FILES[i].cap, b, &found);
        if (e == MS_OK && !found && FILES[i].alt != NULL) {
            e = load_one(dir, FILES[i].alt, FILES[i].cap, b, &found);
        }
        if (e != MS_OK) {
            for (size_t j = 0; j < sizeof FILES / sizeof FILES[0]; j++) {
                ms_buf_clear(file_buf(f, j));
            }
            return e;
        }
    }
    return MS_OK;
}

static void part(const ms_buf *b, const uint8_t **p, size_t *n)
{
    *p = b->len > 0 ? b->p : NULL;
    *n = b->len;
}

void ms_tdx_files_view(const ms_tdx_files *f, ms_tdx_collateral_in *c, const uint8_t **pck_crl,
                       size_t *pck_crl_len)
{
    memset(c, 0, sizeof *c);
    part(&f->tcb_info, &c->tcb_info, &c->tcb_info_len);
    part(&f->qe_identity, &c->qe_identity, &c->qe_identity_len);
    part(&f->signing_chain, &c->signing_chain_pem, &c->signing_chain_len);
    part(&f->root_crl, &c->root_crl, &c->root_crl_len);
    part(&f->pck_crl, pck_crl, pck_crl_len);
}

/* 1 when `t` plus the grace is before `at`. */
static int past(uint64_t t, uint64_t at, uint64_t grace_s)
{
    return t < at && at - t > grace_s;
}

/* A CRL (DER or PEM) is past its nextUpdate (+ grace) at `at`; one without a nextUpdate is. */
static ms_err crl_fresh(const ms_buf *b, uint64_t at, uint64_t grace_s, ms_err stale)
{
    const unsigned char *q = b->p;
    X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)b->len);
    if (crl != NULL && q != b->p + b->len) {
        X509_CRL_free(crl);
        crl = NULL;
    }
    if (crl == NULL) {
        BIO *bio = BIO_new_mem_buf(b->p, (int)b->len);
        ENSURE(bio != NULL, MS_ERR_NOMEM);
        crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    ERR_clear_error();
    ENSURE(crl != NULL, MS_ERR_TDX_CRL);
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    /* stale: nextUpdate < at - grace (nothing is stale before the grace has run) */
    int ok = next != NULL &&
             (at <= grace_s || ASN1_TIME_cmp_time_t(next, (time_t)(at - grace_s)) >= 0);
    X509_CRL_free(crl);
    return ok ? MS_OK : stale;
}

ms_err ms_tdx_files_fresh(const ms_tdx_files *f, uint64_t at, uint64_t grace_s)
{
    ENSURE(f != NULL, MS_ERR_ARG);
    ms_err err = MS_OK;
    ms_tdx_collateral *c = calloc(1, sizeof *c); /* large: the TCB levels */
    ENSURE(c != NULL, MS_ERR_NOMEM);
    if (f->tcb_info.len > 0) {
        TRY_OUT(ms_tdx_tcb_info_parse(f->tcb_info.p, f->tcb_info.len, c));
        ENSURE_OUT(!past(c->tcb_next_update, at, grace_s), MS_ERR_TDX_STALE_TCB_INFO);
    }
    if (f->qe_identity.len > 0) {
        TRY_OUT(ms_tdx_qe_identity_parse(f->qe_identity.p, f->qe_identity.len, c));
        ENSURE_OUT(!past(c->qe_next_update, at, grace_s), MS_ERR_TDX_STALE_QE_IDENTITY);
    }
    if (f->pck_crl.len > 0) {
        TRY_OUT(crl_fresh(&f->pck_crl, at, grace_s, MS_ERR_TDX_STALE_PCK_CRL));
    }
    if (f->root_crl.len > 0) {
        TRY_OUT(crl_fresh(&f->root_crl, at, grace_s, MS_ERR_TDX_STALE_ROOT_CRL));
    }
out:
    free(c);
    return err;
}

ms_err ms_tdx_evidence_from_blob(const ms_tdx_producer_cfg *cfg, const uint8_t *blob, size_t len,
                                 const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    size_t qlen, pad;
    ms_tdx_quote q;
    ENSURE(cfg != NULL, MS_ERR_ARG);
    TRY(ms_tdx_quote_unpad(blob, len, &qlen, &pad));
    TRY(ms_tdx_quote_decode(blob, qlen, &q));
    ENSURE(ms_ct_equal(q.td.report_data, binding, MS_BINDING_LEN), MS_ERR_TDX_DEVICE);
    if (cfg->collateral != NULL) { /* stale collateral is not served (docs/attest-tdx.md §6) */
        TRY(ms_tdx_files_fresh(cfg->collateral, cfg->at ? cfg->at : (uint64_t)time(NULL),
                               cfg->grace_s));
    }
    ms_tdx_bundle b;
    memset(&b, 0, sizeof b);
    b.quote = blob;
    b.quote_len = qlen;
    if (cfg->collateral != NULL) {
        ms_tdx_files_view(cfg->collateral, &b.collateral, &b.pck_crl, &b.pck_crl_len);
    }
    return ms_tdx_bundle_encode(&b, out);
}

static ms_err device_err(ms_err e)
{
    return e == MS_ERR_SNP_DEVICE ? MS_ERR_TDX_DEVICE : e;
}

ms_err ms_tdx_tsm_entry_evidence(const ms_tdx_producer_cfg *cfg, const char *entry,
                                 const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    ms_buf blob;
    ms_buf_init(&blob, MS_TDX_MAX_OUTBLOB);
    ms_err err = device_err(ms_tsm_entry_exchange(entry, MS_TDX_TSM_PROVIDER, binding,
                                                  MS_BINDING_LEN, MS_TDX_MAX_OUTBLOB, &blob, NULL));
    if (err == MS_OK) {
        err = ms_tdx_evidence_from_blob(cfg, blob.p, blob.len, binding, out);
    }
    ms_buf_free(&blob);
    return err;
}

ms_err ms_tdx_evidence(const ms_tdx_producer_cfg *cfg, const uint8_t binding[static MS_BINDING_LEN],
                       ms_buf *out)
{
    static const ms_tdx_producer_cfg defaults = {0};
    cfg = cfg ? cfg : &defaults;
    const char *root = cfg->tsm_root ? cfg->tsm_root : MS_TDX_TSM_ROOT;
    ms_buf blob;
    ms_buf_init(&blob, MS_TDX_MAX_OUTBLOB);
    ms_err err = device_err(ms_tsm_exchange(root, MS_TDX_TSM_PROVIDER, binding, MS_BINDING_LEN,
                                            MS_TDX_MAX_OUTBLOB, &blob, NULL));
    if (err == MS_OK) {
        err = ms_tdx_evidence_from_blob(cfg, blob.p, blob.len, binding, out);
    }
    ms_buf_free(&blob);
    return err;
}

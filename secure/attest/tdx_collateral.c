/* Intel DCAP collateral for TDX: signatures, chain and dates; TCB level and QE identity choice. */
#include "secure/attest/tdx_collateral.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/check.h"
#include "secure/attest/ecdsa.h"
#include "secure/attest/tdx_coll_priv.h"

#define MAX_CHAIN_CERTS 2u                 /* the TCB signing certificate, then the root */
#define MAX_AT 253402300799u               /* 9999-12-31T23:59:59Z */
#define PEM_BEGIN "-----BEGIN"
#define P256_SCALAR 32u

/* One signed document: where its body is, and its signature. */
typedef struct signed_doc {
    const uint8_t *text;
    size_t start, len;
    uint8_t sig[MS_TDX_COLL_SIG_LEN];
} signed_doc;

typedef struct coll_ctx {
    X509 *root;
    X509 *signer;
    X509 *extra; /* the chain's second certificate, if any */
    X509_CRL *crl;
    signed_doc tcb, qe;
} coll_ctx;

static void ctx_free(coll_ctx *c)
{
    X509_free(c->root);
    X509_free(c->signer);
    X509_free(c->extra);
    X509_CRL_free(c->crl);
    ERR_clear_error(); /* failed parses and verifications leave entries behind */
}

/* ---- check 1: the outer documents (the bodies are read only once authenticated) --------- */

static ms_err check_format(coll_ctx *c, const ms_tdx_collateral_in *in)
{
    c->tcb.text = in->tcb_info;
    c->qe.text = in->qe_identity;
    TRY(ms_tdx_coll_split(in->tcb_info, in->tcb_info_len, "tcbInfo", &c->tcb.start, &c->tcb.len,
                          c->tcb.sig));
    TRY(ms_tdx_coll_split(in->qe_identity, in->qe_identity_len, "enclaveIdentity", &c->qe.start,
                          &c->qe.len, c->qe.sig));
    return MS_OK;
}

/* ---- check 2: the signing certificate chains to the pinned root at `at` ------------------- */

static int is_space(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
}

static size_t count_of(const uint8_t *p, size_t len, const char *what)
{
    size_t n = 0;
    size_t w = strlen(what);
    for (size_t i = 0; i + w <= len; i++) {
        n += strncmp((const char *)p + i, what, w) == 0;
    }
    return n;
}

/*
 * The PEM text is n certificates and nothing else: it starts with a BEGIN line, has as many
 * BEGIN lines as certificates read, and only whitespace after the last END line. OpenSSL's
 * reader skips text between blocks; a cut or stray block must not pass for a shorter chain.
 */
static int pem_shape_ok(const uint8_t *p, size_t len, size_t n)
{
    static const char END[] = "-----END CERTIFICATE-----";
    size_t i = 0;
    while (i < len && is_space(p[i])) {
        i++;
    }
    if (len - i < strlen(PEM_BEGIN) || strncmp((const char *)p + i, PEM_BEGIN, strlen(PEM_BEGIN)) != 0 ||
        count_of(p, len, PEM_BEGIN) != n || count_of(p, len, END) != n) {
        return 0;
    }
    size_t last = len - (sizeof END - 1);
    while (strncmp((const char *)p + last, END, sizeof END - 1) != 0) {
        last--; /* found: count_of saw n >= 1 of them */
    }
    for (i = last + sizeof END - 1; i < len; i++) {
        if (!is_space(p[i])) {
            return 0;
        }
    }
    return 1;
}

static ms_err read_chain(coll_ctx *c, const ms_tdx_collateral_in *in)
{
    ENSURE(in->signing_chain_pem != NULL && in->signing_chain_len > 0 &&
               in->signing_chain_len <= MS_TDX_MAX_SIGNING_CHAIN,
           MS_ERR_TDX_COLLATERAL_CHAIN);
    BIO *bio = BIO_new_mem_buf(in->signing_chain_pem, (int)in->signing_chain_len);
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    X509 *certs[MAX_CHAIN_CERTS + 1] = {NULL};
    size_t n = 0;
    while (n <= MAX_CHAIN_CERTS && (certs[n] = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        n++;
    }
    BIO_free(bio);
    c->signer = certs[0];
    c->extra = certs[1];
    X509_free(certs[2]);
    ENSURE(n >= 1 && n <= MAX_CHAIN_CERTS, MS_ERR_TDX_COLLATERAL_CHAIN);
    ENSURE(pem_shape_ok(in->signing_chain_pem, in->signing_chain_len, n),
           MS_ERR_TDX_COLLATERAL_CHAIN);
    /* A second certificate can only be the pinned root: anything else is a different chain. */
    ENSURE(c->extra == NULL || X509_cmp(c->extra, c->root) == 0, MS_ERR_TDX_COLLATERAL_CHAIN);
    return MS_OK;
}

static ms_err chain_error(int e)
{
    if (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID) {
        return MS_ERR_TDX_COLLATERAL_EXPIRED;
    }
    return MS_ERR_TDX_COLLATERAL_CHAIN;
}

static ms_err check_chain(coll_ctx *c, const ms_tdx_collateral_in *in, const uint8_t *root_der,
                          size_t root_len, uint64_t at)
{
    ENSURE(root_der != NULL && root_len > 0 && root_len <= MS_TDX_MAX_PCK_CERT,
           MS_ERR_TDX_COLLATERAL_CHAIN);
    const unsigned char *p = root_der;
    c->root = d2i_X509(NULL, &p, (long)root_len);
    ENSURE(c->root != NULL && p == root_der + root_len, MS_ERR_TDX_COLLATERAL_CHAIN);
    TRY(read_chain(c, in));
    ENSURE(ms_ecdsa_key_on(X509_get0_pubkey(c->signer), SN_X9_62_prime256v1), MS_ERR_TDX_COLLATERAL_CHAIN);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    ms_err err = MS_ERR_NOMEM;
    if (store != NULL && sctx != NULL && X509_STORE_add_cert(store, c->root) == 1 &&
        X509_STORE_CTX_init(sctx, store, c->signer, NULL) == 1) {
        X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(sctx);
        X509_VERIFY_PARAM_set_time(vp, (time_t)at);
        /* The root's own signature too: a pinned certificate is still checked for what it is. */
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE);
        err = X509_verify_cert(sctx) == 1 ? MS_OK : chain_error(X509_STORE_CTX_get_error(sctx));
    }
    X509_STORE_CTX_free(sctx);
    X509_STORE_free(store);
    return err;
}

/* ---- check 3: the root CA's CRL, when given ----------------------------------------------- */

static ms_err read_crl(coll_ctx *c, const uint8_t *crl, size_t len)
{
    ENSURE(len > 0 && len <= MS_TDX_MAX_CRL, MS_ERR_TDX_COLLATERAL_REVOKED);
    if (len >= strlen(PEM_BEGIN) && strncmp((const char *)crl, PEM_BEGIN, strlen(PEM_BEGIN)) == 0) {
        BIO *bio = BIO_new_mem_buf(crl, (int)len);
        ENSURE(bio != NULL, MS_ERR_NOMEM);
        c->crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
        ENSURE(c->crl != NULL, MS_ERR_TDX_COLLATERAL_REVOKED);
        return MS_OK;
    }
    const unsigned char *p = crl;
    c->crl = d2i_X509_CRL(NULL, &p, (long)len);
    ENSURE(c->crl != NULL && p == crl + len, MS_ERR_TDX_COLLATERAL_REVOKED);
    return MS_OK;
}

/* t <= when, resp. t >= when (ASN1_TIME_cmp_time_t's -2, an unreadable time, is neither). */
static int not_after(const ASN1_TIME *t, uint64_t when)
{
    int r = ASN1_TIME_cmp_time_t(t, (time_t)when);
    return r == -1 || r == 0;
}

static int not_before(const ASN1_TIME *t, uint64_t when)
{
    int r = ASN1_TIME_cmp_time_t(t, (time_t)when);
    return r == 1 || r == 0;
}

static ms_err check_crl(coll_ctx *c, const ms_tdx_collateral_in *in, uint64_t at, uint64_t grace)
{
    X509_REVOKED *rev = NULL;
    if (in->root_crl == NULL) {
        return MS_OK;
    }
    TRY(read_crl(c, in->root_crl, in->root_crl_len));
    /* The root's list, signed by the root: otherwise it says nothing about revocation. */
    ENSURE(X509_NAME_cmp(X509_CRL_get_issuer(c->crl), X509_get_subject_name(c->root)) == 0 &&
               X509_CRL_verify(c->crl, X509_get0_pubkey(c->root)) == 1,
           MS_ERR_TDX_COLLATERAL_REVOKED);
    const ASN1_TIME *last = X509_CRL_get0_lastUpdate(c->crl);
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(c->crl);
    /* lastUpdate <= at <= nextUpdate + grace, as for the documents; a nextUpdate before
       1970 is never met (at - grace stops at 0). */
    ENSURE(last != NULL && next != NULL && not_after(last, at) &&
               not_before(next, at > grace ? at - grace : 0),
           MS_ERR_TDX_COLLATERAL_EXPIRED);
    ENSURE(X509_CRL_get0_by_cert(c->crl, &rev, c->signer) != 1, MS_ERR_TDX_COLLATERAL_REVOKED);
    return MS_OK;
}

/* ---- check 4: each signature over its body as written --------------------------------------- */

static ms_err check_signature(const signed_doc *d, EVP_PKEY *key)
{
    return ms_ecdsa_verify(key, EVP_sha256(), d->sig, P256_SCALAR, d->sig + P256_SCALAR,
                           P256_SCALAR, 0, d->text + d->start, d->len,
                           MS_ERR_TDX_COLLATERAL_SIGNATURE);
}

/* ---- check 6: each document's dates ------------------------------------------------------- */

static ms_err check_dates(uint64_t issue, uint64_t next, uint64_t at, uint64_t grace)
{
    uint64_t until = next > UINT64_MAX - grace ? UINT64_MAX : next + grace;
    ENSURE(issue <= at && at <= until, MS_ERR_TDX_COLLATERAL_EXPIRED);
    return MS_OK;
}

ms_err ms_tdx_collateral_verify(const ms_tdx_collateral_in *in, const uint8_t *root_der,
                                size_t root_len, uint64_t at, uint64_t grace_s,
                                ms_tdx_collateral *out)
{
    coll_ctx c;
    ms_err err;
    memset(&c, 0, sizeof c);
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(in != NULL && at <= MAX_AT && grace_s <= MAX_AT, MS_ERR_ARG);
    TRY_OUT(check_format(&c, in));
    TRY_OUT(check_chain(&c, in, root_der, root_len, at));
    TRY_OUT(check_crl(&c, in, at, grace_s));
    TRY_OUT(check_signature(&c.tcb, X509_get0_pubkey(c.signer)));
    TRY_OUT(check_signature(&c.qe, X509_get0_pubkey(c.signer)));
    /* check 5: the bodies, now authenticated */
    TRY_OUT(ms_tdx_coll_tcb_body(c.tcb.text + c.tcb.start, c.tcb.len, out));
    TRY_OUT(ms_tdx_coll_qe_body(c.qe.text + c.qe.start, c.qe.len, out));
    TRY_OUT(check_dates(out->tcb_issue_date, out->tcb_next_update, at, grace_s));
    TRY_OUT(check_dates(out->qe_issue_date, out->qe_next_update, at, grace_s));
out:
    ctx_free(&c);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

/* ---- TCB level ---------------------------------------------------------------------------- */

static int masked_equal(const uint8_t *value, const uint8_t *mask, const uint8_t *want, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++) {
        diff |= (uint8_t)((value[i] & mask[i]) ^ want[i]);
    }
    return diff == 0;
}

static int svns_at_least(const uint8_t *have, const uint8_t *need, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++) {
        if (have[i] < need[i]) {
            return 0;
        }
    }
    return 1;
}

/* TDX 1.5: the module identity of TEE_TCB_SVN[1], its match, and its first level met. */
static ms_err module_15(const ms_tdx_collateral *c, const ms_tdx_tcb_in *in,
                        const ms_tdx_module_level **out)
{
    const ms_tdx_module_identity *m = NULL;
    *out = NULL;
    for (size_t i = 0; i < c->n_module_ids && i < MS_TDX_MAX_MODULE_IDENTITIES; i++) {
        if (c->module_ids[i].version == in->tee_tcb_svn[1]) {
            m = &c->module_ids[i];
        }
    }
    ENSURE(m != NULL, MS_ERR_TDX_MODULE);
    ENSURE(ms_ct_equal(m->mrsigner, in->mrsignerseam, sizeof m->mrsigner), MS_ERR_TDX_MODULE);
    ENSURE(masked_equal(in->seam_attributes, m->attributes_mask, m->attributes, 8),
           MS_ERR_TDX_MODULE);
    for (size_t i = 0; i < m->n_levels && i < MS_TDX_MAX_MODULE_LEVELS; i++) {
        if (m->levels[i].isvsvn <= in->tee_tcb_svn[0]) {
            *out = &m->levels[i];
            return MS_OK;
        }
    }
    return MS_ERR_TDX_TCB_LEVEL;
}

/* The platform's status, made worse by the module's as Intel combines them. */
static ms_tdx_tcb_status combine(ms_tdx_tcb_status platform, ms_tdx_tcb_status module)
{
    if (module == MS_TDX_TCB_REVOKED) {
        return MS_TDX_TCB_REVOKED;
    }
    if (module != MS_TDX_TCB_OUT_OF_DATE) {
        return platform;
    }
    switch (platform) {
    case MS_TDX_TCB_UP_TO_DATE:
    case MS_TDX_TCB_SW_HARDENING_NEEDED:
        return MS_TDX_TCB_OUT_OF_DATE;
    case MS_TDX_TCB_CONFIGURATION_NEEDED:
    case MS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
        return MS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    default:
        return platform;
    }
}

ms_err ms_tdx_tcb_evaluate(const ms_tdx_collateral *c, const ms_tdx_tcb_in *in,
                           ms_tdx_tcb_result *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(c != NULL && in != NULL && in->pck != NULL, MS_ERR_ARG);
    const ms_tdx_pck_ext *pck = in->pck;
    ENSURE(ms_ct_equal(c->fmspc, pck->fmspc, sizeof c->fmspc) &&
               ms_ct_equal(c->pceid, pck->pceid, sizeof c->pceid),
           MS_ERR_TDX_FMSPC);
    bool tdx15 = in->tee_tcb_svn[1] > 0;
    const ms_tdx_module_level *mod = NULL;
    if (tdx15 && c->n_module_ids > 0) {
        TRY(module_15(c, in, &mod));
    } else {
        ENSURE(ms_ct_equal(c->module_mrsigner, in->mrsignerseam, sizeof c->module_mrsigner) &&
                   masked_equal(in->seam_attributes, c->module_attributes_mask,
                                c->module_attributes, 8),
               MS_ERR_TDX_MODULE);
    }
    /* TDX 1.5: TEE_TCB_SVN[0..1] are the module's SVNs, judged by its identity above. */
    size_t tdx_from = tdx15 ? 2 : 0;
    for (size_t i = 0; i < c->n_levels && i < MS_TDX_MAX_TCB_LEVELS; i++) {
        const ms_tdx_tcb_level *l = &c->levels[i];
        if (svns_at_least(pck->sgx_comp, l->sgx, 0, 16) && pck->pcesvn >= l->pcesvn &&
            svns_at_least(in->tee_tcb_svn, l->tdx, tdx_from, 16)) {
            out->level = l;
            out->platform_status = l->status;
            out->module_level = mod;
            out->status = mod != NULL ? combine(l->status, mod->status) : l->status;
            return MS_OK;
        }
    }
    return MS_ERR_TDX_TCB_LEVEL;
}

/* ---- QE identity -------------------------------------------------------------------------- */

ms_err ms_tdx_qe_identity_match(const ms_tdx_collateral *c, const ms_tdx_qe_fields *qe,
                                ms_tdx_tcb_status *status)
{
    ENSURE(status != NULL, MS_ERR_ARG);
    *status = MS_TDX_TCB_NONE;
    ENSURE(c != NULL && qe != NULL, MS_ERR_ARG);
    ENSURE(ms_ct_equal(c->qe_mrsigner, qe->mrsigner, sizeof c->qe_mrsigner), MS_ERR_TDX_QE_IDENTITY);
    ENSURE(qe->isvprodid == c->qe_isvprodid, MS_ERR_TDX_QE_IDENTITY);
    ENSURE((qe->miscselect & c->qe_miscselect_mask) == c->qe_miscselect, MS_ERR_TDX_QE_IDENTITY);
    ENSURE(masked_equal(qe->attributes, c->qe_attributes_mask, c->qe_attributes, 16),
           MS_ERR_TDX_QE_IDENTITY);
    for (size_t i = 0; i < c->n_qe_levels && i < MS_TDX_MAX_TCB_LEVELS; i++) {
        if (c->qe_levels[i].isvsvn <= qe->isvsvn) {
            *status = c->qe_levels[i].status;
            return MS_OK;
        }
    }
    return MS_ERR_TDX_TCB_LEVEL;
}

/* TDX verifier: the checks of docs/attest-tdx.md §4, in order, each with its own code. */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "secure/attest/ecdsa.h"
#include "secure/attest/tdx_internal.h"

#define TDX_CHAIN_MAX 3 /* PCK leaf, PCK Platform / Processor CA, root */

/* Everything the checks share; OpenSSL objects are owned here. */
typedef struct tdx_ctx {
    const ms_tdx_policy *policy;
    const uint8_t *binding;
    int expect;
    ms_tdx_bundle bundle;
    ms_tdx_quote quote;
    ms_tdx_collateral_in collateral; /* the policy's parts, else the bundle's */
    const uint8_t *pck_crl;
    size_t pck_crl_len;
    X509 *chain[TDX_CHAIN_MAX];      /* as in the quote: leaf first */
    size_t n_chain;
    uint8_t *leaf_der;
    int leaf_der_len;
    X509 *root;
    STACK_OF(X509_CRL) *crls;
    uint64_t at;
} tdx_ctx;

static void ctx_free(tdx_ctx *c)
{
    for (size_t i = 0; i < c->n_chain; i++) {
        X509_free(c->chain[i]);
    }
    OPENSSL_free(c->leaf_der);
    X509_free(c->root);
    sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
    ERR_clear_error(); /* failed parses and verifications leave entries behind */
}

/*
 * The PEM chain, 1..3 certificates, then nothing but whitespace or NULs: the quote's own
 * (certification data type 5), else the one given with the collateral (policy).
 */
static ms_err parse_chain(tdx_ctx *c)
{
    const uint8_t *pem = c->quote.pck_chain;
    size_t pem_len = c->quote.pck_chain_len;
    if (pem == NULL) {
        pem = c->policy->pck_chain_pem;
        pem_len = c->policy->pck_chain_len;
        ENSURE(pem != NULL && pem_len > 0, MS_ERR_TDX_NO_PCK_CHAIN);
        ENSURE(pem_len <= MS_TDX_MAX_PCK_CHAIN, MS_ERR_TDX_FORMAT);
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    X509 *x;
    while (c->n_chain < TDX_CHAIN_MAX && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        c->chain[c->n_chain++] = x;
    }
    char *rest = NULL;
    long n = BIO_get_mem_data(bio, &rest);
    int tail_ok = 1;
    for (long i = 0; i < n; i++) {
        char ch = rest[i];
        tail_ok &= ch == '\0' || ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t';
    }
    BIO_free(bio);
    ENSURE(c->n_chain >= 1 && tail_ok, MS_ERR_TDX_FORMAT);
    c->leaf_der_len = i2d_X509(c->chain[0], &c->leaf_der);
    ENSURE(c->leaf_der_len > 0, MS_ERR_NOMEM);
    return MS_OK;
}

/* Check 1: the bundle (or raw quote), the quote's layout, the PEM chain in it. */
static ms_err check_format(tdx_ctx *c, const uint8_t *ev, size_t len, int is_bundle)
{
    if (is_bundle) {
        TRY(ms_tdx_bundle_decode(ev, len, &c->bundle));
    } else {
        c->bundle.quote = ev;
        c->bundle.quote_len = len;
    }
    TRY(ms_tdx_quote_decode(c->bundle.quote, c->bundle.quote_len, &c->quote));
    return parse_chain(c);
}

/* Policy parts first, then the bundle's; only whole documents are taken from either. */
static void pick_collateral(tdx_ctx *c)
{
    const ms_tdx_collateral_in *p = &c->policy->collateral, *b = &c->bundle.collateral;
    int pol = p->tcb_info != NULL && p->qe_identity != NULL;
    c->collateral = pol ? *p : *b;
    if (c->collateral.root_crl == NULL) {
        c->collateral.root_crl = pol ? b->root_crl : p->root_crl;
        c->collateral.root_crl_len = pol ? b->root_crl_len : p->root_crl_len;
    }
    int pol_crl = c->policy->pck_crl != NULL && c->policy->pck_crl_len > 0;
    c->pck_crl = pol_crl ? c->policy->pck_crl : c->bundle.pck_crl;
    c->pck_crl_len = pol_crl ? c->policy->pck_crl_len : c->bundle.pck_crl_len;
}

/* A CRL in DER or PEM, at most MS_TDX_MAX_CRL bytes. */
static ms_err add_crl(tdx_ctx *c, const uint8_t *p, size_t len)
{
    ENSURE(len > 0 && len <= MS_TDX_MAX_CRL, MS_ERR_TDX_CRL);
    const unsigned char *q = p;
    X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)len);
    if (crl != NULL && q != p + len) {
        X509_CRL_free(crl);
        crl = NULL;
    }
    if (crl == NULL) {
        BIO *bio = BIO_new_mem_buf(p, (int)len);
        ENSURE(bio != NULL, MS_ERR_NOMEM);
        crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    ENSURE(crl != NULL, MS_ERR_TDX_CRL);
    if (c->crls == NULL) {
        c->crls = sk_X509_CRL_new_null();
    }
    if (c->crls == NULL || sk_X509_CRL_push(c->crls, crl) <= 0) {
        X509_CRL_free(crl);
        return MS_ERR_NOMEM;
    }
    return MS_OK;
}

/* Verify leaf -> intermediates -> the pinned root at `at`; with CRLs when `crls`. */
static ms_err verify_chain(tdx_ctx *c, int with_crls, int *x509_err)
{
    *x509_err = X509_V_OK;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    ms_err err = MS_ERR_NOMEM;
    if (store == NULL || ctx == NULL || untrusted == NULL || X509_STORE_add_cert(store, c->root) != 1) {
        goto out;
    }
    for (size_t i = 1; i < c->n_chain; i++) {
        if (sk_X509_push(untrusted, c->chain[i]) <= 0) {
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, store, c->chain[0], untrusted) != 1) {
        goto out;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)c->at);
    if (with_crls) {
        X509_STORE_CTX_set0_crls(ctx, c->crls);
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    int ok = X509_verify_cert(ctx);
    *x509_err = X509_STORE_CTX_get_error(ctx);
    err = ok == 1 ? MS_OK : MS_ERR_TDX_PCK_CHAIN;
out:
    sk_X509_free(untrusted); /* the certificates stay owned by the context */
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return err;
}

/* Check 2: the pinned root is a self-signed CA, and the PCK leaf chains to it at `at`. */
static ms_err check_pck_chain(tdx_ctx *c)
{
    const ms_tdx_policy *p = c->policy;
    ENSURE(p->root_der != NULL && p->root_len > 0, MS_ERR_TDX_PCK_CHAIN);
    const unsigned char *q = p->root_der;
    c->root = d2i_X509(NULL, &q, (long)p->root_len);
    ENSURE(c->root != NULL && q == p->root_der + p->root_len, MS_ERR_TDX_PCK_CHAIN);
    ENSURE(X509_check_ca(c->root) == 1 && X509_check_issued(c->root, c->root) == X509_V_OK,
           MS_ERR_TDX_PCK_CHAIN);
    /* The quote's chain ends with its root: it must be the pinned one, byte for byte. */
    unsigned char *last = NULL;
    int n = c->n_chain == TDX_CHAIN_MAX ? i2d_X509(c->chain[TDX_CHAIN_MAX - 1], &last) : -1;
    int same = n > 0 && (size_t)n == p->root_len && ms_ct_equal(last, p->root_der, p->root_len);
    OPENSSL_free(last);
    ENSURE(same, MS_ERR_TDX_PCK_CHAIN);
    int x509_err;
    return verify_chain(c, 0, &x509_err);
}

/* Check 3: the chain again with the PCK CRL and the root CRL, every level checked. */
static ms_err check_crl(tdx_ctx *c)
{
    ENSURE(c->root != NULL, MS_ERR_TDX_PCK_CHAIN);
    ENSURE(c->pck_crl != NULL && c->collateral.root_crl != NULL, MS_ERR_TDX_CRL);
    TRY(add_crl(c, c->pck_crl, c->pck_crl_len));
    TRY(add_crl(c, c->collateral.root_crl, c->collateral.root_crl_len));
    int x509_err;
    ms_err err = verify_chain(c, 1, &x509_err);
    if (err == MS_ERR_NOMEM || err == MS_OK) {
        return err;
    }
    return x509_err == X509_V_ERR_CERT_REVOKED ? MS_ERR_TDX_PCK_REVOKED : MS_ERR_TDX_CRL;
}

/* ECDSA P-256 with SHA-256 over msg; `bad` when it does not verify. */
static ms_err ecdsa_verify(EVP_PKEY *key, const uint8_t rs[static MS_TDX_ECDSA_SIG_LEN],
                           const uint8_t *msg, size_t len, ms_err bad)
{
    ENSURE(ms_ecdsa_key_on(key, SN_X9_62_prime256v1), bad);
    /* r || s, big-endian, 32 bytes each */
    return ms_ecdsa_verify(key, EVP_sha256(), rs, 32, rs + 32, 32, 0, msg, len, bad);
}

/* Check 4: the PCK leaf's key signed the QE report. */
static ms_err check_qe_signature(tdx_ctx *c)
{
    return ecdsa_verify(X509_get0_pubkey(c->chain[0]), c->quote.qe_signature,
                        c->quote.qe_report_raw, MS_TDX_QE_REPORT_LEN, MS_ERR_TDX_QE_SIGNATURE);
}

/* Check 5: QE report data = SHA-256(attestation key || QE auth data) || 32 zero bytes. */
static ms_err check_qe_binding(tdx_ctx *c)
{
    uint8_t want[64] = {0};
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, c->quote.attest_key, sizeof c->quote.attest_key) == 1 &&
             EVP_DigestUpdate(md, c->quote.qe_auth, c->quote.qe_auth_len) == 1 &&
             EVP_DigestFinal_ex(md, want, &n) == 1 && n == 32;
    EVP_MD_CTX_free(md);
    ENSURE(ok, MS_ERR_NOMEM);
    ENSURE(ms_ct_equal(want, c->quote.qe.report_data, sizeof want), MS_ERR_TDX_QE_REPORT_DATA);
    return MS_OK;
}

/* The attestation key (x || y) as a P-256 public key. */
static ms_err ak_key(const uint8_t xy[static MS_TDX_ECDSA_KEY_LEN], EVP_PKEY **out)
{
    *out = NULL;
    uint8_t point[1 + MS_TDX_ECDSA_KEY_LEN];
    point[0] = 0x04;
    memcpy(point + 1, xy, MS_TDX_ECDSA_KEY_LEN);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    int ok = bld != NULL && pc != NULL &&
             OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1,
                                             0) == 1 &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                              sizeof point) == 1 &&
             (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(pc) == 1 &&
             EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(pc);
    return ok ? MS_OK : MS_ERR_TDX_SIGNATURE; /* a point off the curve signs nothing */
}

/* Check 6: the attestation key signed header and body. */
static ms_err check_signature(tdx_ctx *c)
{
    EVP_PKEY *key;
    TRY(ak_key(c->quote.attest_key, &key));
    ms_err err = ecdsa_verify(key, c->quote.signature, c->bundle.quote, c->quote.signed_len,
                              MS_ERR_TDX_SIGNATURE);
    EVP_PKEY_free(key);
    return err;
}

/* Checks 10 to 15: the TD's own fields. */
static ms_err check_debug(tdx_ctx *c)
{
    ENSURE((c->quote.td.td_attributes & MS_TDX_TD_ATTR_DEBUG) == 0, MS_ERR_TDX_DEBUG);
    return MS_OK;
}

static ms_err check_mrtd(tdx_ctx *c)
{
    ENSURE(ms_ct_equal(c->quote.td.mrtd, c->policy->mrtd, MS_TDX_MEAS_LEN), MS_ERR_TDX_MRTD);
    return MS_OK;
}

static ms_err check_rtmr(tdx_ctx *c)
{
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        ENSURE(!c->policy->have_rtmr[i] ||
                   ms_ct_equal(c->quote.td.rtmr[i], c->policy->rtmr[i], MS_TDX_MEAS_LEN),
               MS_ERR_TDX_RTMR);
    }
    return MS_OK;
}

static ms_err check_mrconfigid(tdx_ctx *c)
{
    ENSURE(ms_ct_equal(c->quote.td.mrconfigid, c->policy->mrconfigid, MS_TDX_MEAS_LEN),
           MS_ERR_TDX_MRCONFIGID);
    return MS_OK;
}

static ms_err check_mrowner(tdx_ctx *c)
{
    ENSURE(ms_ct_equal(c->quote.td.mrowner, c->policy->mrowner, MS_TDX_MEAS_LEN),
           MS_ERR_TDX_MROWNER);
    return MS_OK;
}

static ms_err check_report_data(tdx_ctx *c)
{
    ENSURE(ms_ct_equal(c->quote.td.report_data, c->binding, MS_TDX_REPORT_DATA_LEN),
           MS_ERR_TDX_REPORT_DATA);
    return MS_OK;
}

typedef ms_err (*check_fn)(tdx_ctx *c);

/* After FORMAT, in order; the collateral checks (7 to 9) run between them as one step. */
static const struct {
    ms_tdx_check id;
    check_fn fn;
} QUOTE_CHECKS[] = {
    {MS_TDX_CHECK_PCK_CHAIN, check_pck_chain},       {MS_TDX_CHECK_CRL, check_crl},
    {MS_TDX_CHECK_QE_SIGNATURE, check_qe_signature}, {MS_TDX_CHECK_QE_BINDING, check_qe_binding},
    {MS_TDX_CHECK_SIGNATURE, check_signature},
}, TD_CHECKS[] = {
    {MS_TDX_CHECK_DEBUG, check_debug},           {MS_TDX_CHECK_MRTD, check_mrtd},
    {MS_TDX_CHECK_RTMR, check_rtmr},             {MS_TDX_CHECK_MRCONFIGID, check_mrconfigid},
    {MS_TDX_CHECK_MROWNER, check_mrowner},       {MS_TDX_CHECK_REPORT_DATA, check_report_data},
};

/*
 * How a run goes. The client's verifier: everything required, stop at the first failure.
 * The offline form (`report`): keep going after a failure once FORMAT passed, and skip what
 * has no input.
 */
typedef struct run_opts {
    int report;
} run_opts;

static int wanted(const tdx_ctx *c, const run_opts *o, ms_tdx_check id)
{
    const ms_tdx_policy *p = c->policy;
    int any_rtmr = p->have_rtmr[0] | p->have_rtmr[1] | p->have_rtmr[2] | p->have_rtmr[3];
    int collateral = c->collateral.tcb_info != NULL && c->collateral.qe_identity != NULL;
    int required = (c->expect & MS_TDX_EXPECT_REQUIRED) != 0, pins = c->expect & MS_TDX_EXPECT_PINS;
    int crls = c->pck_crl != NULL || c->collateral.root_crl != NULL;
    switch (id) {
    case MS_TDX_CHECK_PCK_CHAIN: return !o->report || p->root_der != NULL;
    case MS_TDX_CHECK_CRL: return !o->report || (p->root_der != NULL && (required || crls));
    case MS_TDX_CHECK_COLLATERAL:
        return !o->report || (p->root_der != NULL && (required || collateral));
    case MS_TDX_CHECK_MRTD: return pins && p->have_mrtd;
    case MS_TDX_CHECK_RTMR: return pins && any_rtmr;
    case MS_TDX_CHECK_MRCONFIGID: return pins && p->have_mrconfigid;
    case MS_TDX_CHECK_MROWNER: return pins && p->have_mrowner;
    case MS_TDX_CHECK_REPORT_DATA: return c->binding != NULL;
    default: return 1;
    }
}

static int is_internal(ms_err e)
{
    return e == MS_ERR_NOMEM || e == MS_ERR_INTERNAL;
}

typedef struct run_state {
    ms_err first;
    int stop;
} run_state;

static void record(ms_tdx_checks *out, run_state *s, const run_opts *o, ms_tdx_check id, ms_err e)
{
    out->ran[id] = 1;
    out->result[id] = e;
    if (s->first == MS_OK || is_internal(e)) {
        s->first = e;
    }
    s->stop = is_internal(e) || (!o->report && e != MS_OK);
}

/* Checks 7 to 9 through the collateral step. */
static void run_collateral(tdx_ctx *c, const run_opts *o, run_state *s, ms_tdx_checks *out)
{
    if (!wanted(c, o, MS_TDX_CHECK_COLLATERAL)) {
        return;
    }
    if (c->collateral.tcb_info == NULL || c->collateral.qe_identity == NULL) {
        record(out, s, o, MS_TDX_CHECK_COLLATERAL, MS_ERR_TDX_NO_COLLATERAL);
        return;
    }
    const ms_tdx_policy *p = c->policy;
    ms_tdx_tcb_run r;
    memset(&r, 0, sizeof r);
    r.leaf_der = c->leaf_der;
    r.leaf_len = (size_t)c->leaf_der_len;
    r.quote = &c->quote;
    r.collateral = &c->collateral;
    r.root_der = p->root_der;
    r.root_len = p->root_len;
    r.at = c->at;
    r.grace_s = p->grace_s;
    r.accept = p->accept_tcb != 0 ? p->accept_tcb : MS_TDX_ACCEPT(MS_TDX_TCB_UP_TO_DATE);
    ms_tdx_tcb_steps(&r);
    record(out, s, o, MS_TDX_CHECK_COLLATERAL, r.collateral_err);
    if (r.ran_tcb && !s->stop) {
        record(out, s, o, MS_TDX_CHECK_TCB, r.tcb_err);
    }
    if (r.ran_qe && !s->stop) {
        record(out, s, o, MS_TDX_CHECK_QE_IDENTITY, r.qe_err);
    }
    out->have_tcb = r.have_tcb;
    out->tcb_status = r.tcb_status;
    out->qe_status = r.qe_status;
    out->n_advisories = r.n_advisories;
    memcpy(out->advisories, r.advisories, sizeof out->advisories);
}

static void run_table(tdx_ctx *c, const run_opts *o, run_state *s, ms_tdx_checks *out,
                      int td)
{
    size_t n = td ? sizeof TD_CHECKS / sizeof TD_CHECKS[0]
                  : sizeof QUOTE_CHECKS / sizeof QUOTE_CHECKS[0];
    for (size_t i = 0; i < n && !s->stop; i++) {
        ms_tdx_check id = td ? TD_CHECKS[i].id : QUOTE_CHECKS[i].id;
        if (wanted(c, o, id)) {
            record(out, s, o, id, (td ? TD_CHECKS[i].fn : QUOTE_CHECKS[i].fn)(c));
        }
    }
}

static ms_err run(const ms_tdx_policy *policy, const uint8_t *ev, size_t len, int is_bundle,
                  const uint8_t *binding, int expect, const run_opts *o, ms_tdx_checks *out)
{
    tdx_ctx c;
    memset(&c, 0, sizeof c);
    c.policy = policy;
    c.binding = binding;
    c.expect = expect;
    c.at = policy->at != 0 ? policy->at : (uint64_t)time(NULL);
    run_state s = {.first = MS_OK};
    record(out, &s, o, MS_TDX_CHECK_FORMAT, check_format(&c, ev, len, is_bundle));
    if (s.first == MS_OK) {
        out->have_quote = 1;
        out->quote = c.quote;
        pick_collateral(&c);
        s.stop = 0;
        run_table(&c, o, &s, out, 0);
        if (!s.stop) {
            run_collateral(&c, o, &s, out);
        }
        if (!s.stop) {
            run_table(&c, o, &s, out, 1);
        }
    }
    ctx_free(&c);
    return s.first;
}

ms_err ms_tdx_verify(const ms_tdx_policy *policy, const uint8_t *ev, size_t len,
                     const uint8_t binding[static MS_BINDING_LEN])
{
    ENSURE(policy != NULL && binding != NULL, MS_ERR_ARG);
    ms_tdx_checks checks;
    memset(&checks, 0, sizeof checks);
    run_opts o = {.report = 0};
    return run(policy, ev, len, 1, binding, MS_TDX_EXPECT_PINS | MS_TDX_EXPECT_REQUIRED, &o,
               &checks);
}

ms_err ms_tdx_verify_checks(const ms_tdx_policy *policy, const uint8_t *ev, size_t len,
                            int is_bundle, const uint8_t *binding, int expect, ms_tdx_checks *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(policy != NULL, MS_ERR_ARG);
    run_opts o = {.report = 1};
    return run(policy, ev, len, is_bundle, binding, expect, &o, out);
}

const char *ms_tdx_check_name(ms_tdx_check c)
{
    static const char *const names[MS_TDX_CHECK_COUNT] = {
        [MS_TDX_CHECK_FORMAT] = "format",
        [MS_TDX_CHECK_PCK_CHAIN] = "pck-chain",
        [MS_TDX_CHECK_CRL] = "crl",
        [MS_TDX_CHECK_QE_SIGNATURE] = "qe-signature",
        [MS_TDX_CHECK_QE_BINDING] = "qe-report-data",
        [MS_TDX_CHECK_SIGNATURE] = "quote-signature",
        [MS_TDX_CHECK_COLLATERAL] = "collateral",
        [MS_TDX_CHECK_TCB] = "tcb-status",
        [MS_TDX_CHECK_QE_IDENTITY] = "qe-identity",
        [MS_TDX_CHECK_DEBUG] = "debug",
        [MS_TDX_CHECK_MRTD] = "mrtd",
        [MS_TDX_CHECK_RTMR] = "rtmr",
        [MS_TDX_CHECK_MRCONFIGID] = "mrconfigid",
        [MS_TDX_CHECK_MROWNER] = "mrowner",
        [MS_TDX_CHECK_REPORT_DATA] = "report-data",
    };
    return (unsigned)c < MS_TDX_CHECK_COUNT ? names[c] : "unknown";
}

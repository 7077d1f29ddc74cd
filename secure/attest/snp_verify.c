/* SEV-SNP verifier: the checks of docs/attest-sev-snp.md §4, in order, each with its own code. */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "common/check.h"
#include "secure/attest/snp.h"
#include "secure/attest/snp_x509.h"

#define SNP_SIG_SCALAR_LEN 48u /* P-384 */

/* Everything the checks share. Certificates are owned here; `ask` borrows one of the two. */
typedef struct snp_ctx {
    const ms_snp_policy *policy;
    const uint8_t *binding;
    ms_snp_bundle bundle;
    ms_snp_report report;
    X509 *vcek;
    X509 *bundle_ask;
    X509 *ark;
    X509 *policy_ask;
    X509 *ask;
} snp_ctx;

static void ctx_free(snp_ctx *c)
{
    X509_free(c->vcek);
    X509_free(c->bundle_ask);
    X509_free(c->ark);
    X509_free(c->policy_ask);
    ERR_clear_error(); /* failed parses and verifications leave entries behind */
}

/* §4 check 1: the bundle's layout, the report's fields, each certificate's DER. */
static ms_err check_format(snp_ctx *c, const uint8_t *ev, size_t len)
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
 * §4 check 2: the pinned ARK is a self-signed PSS root and CA, and the ASK (the bundle's, else
 * the policy's) was issued by it. An ASK from any other root fails here.
 */
static ms_err check_ark(snp_ctx *c)
{
    const ms_snp_policy *p = c->policy;
    if (c->bundle_ask != NULL) {
        c->ask = c->bundle_ask;
    } else if (p->ask_der != NULL && p->ask_len > 0) {
        /* An unreadable policy ASK is no ASK: the chain check then fails. */
        if (ms_snp_x509_parse(p->ask_der, p->ask_len, MS_ERR_SNP_CHAIN, &c->policy_ask) == MS_OK) {
            c->ask = c->policy_ask;
        }
    }
    TRY(ms_snp_x509_parse(p->ark_der, p->ark_len, MS_ERR_SNP_ARK, &c->ark));
    ENSURE(ms_snp_x509_issued_pss(c->ark, c->ark) && ms_snp_x509_is_ca(c->ark), MS_ERR_SNP_ARK);
    ENSURE(c->ask == NULL || ms_snp_x509_issued_pss(c->ark, c->ask), MS_ERR_SNP_ARK);
    return MS_OK;
}

/* §4 check 3: there is an ASK, it is a CA, and it issued the VCEK. */
static ms_err check_chain(snp_ctx *c)
{
    ENSURE(c->ask != NULL && ms_snp_x509_is_ca(c->ask), MS_ERR_SNP_CHAIN);
    ENSURE(ms_snp_x509_issued_pss(c->ask, c->vcek), MS_ERR_SNP_CHAIN);
    return MS_OK;
}

static int is_p384(EVP_PKEY *key)
{
    char group[32];
    size_t n = 0;
    return key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_group_name(key, group, sizeof group, &n) == 1 &&
           strcmp(group, SN_secp384r1) == 0;
}

/* The report's r and s (little-endian, 72 bytes each) as a DER ECDSA-Sig-Value. */
static ms_err sig_to_der(const ms_snp_report *r, unsigned char **der, int *der_len)
{
    *der = NULL;
    *der_len = 0;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_lebin2bn(r->sig_r, SNP_SIG_SCALAR_LEN, NULL);
    BIGNUM *bs = BN_lebin2bn(r->sig_s, SNP_SIG_SCALAR_LEN, NULL);
    if (sig == NULL || br == NULL || bs == NULL || ECDSA_SIG_set0(sig, br, bs) != 1) {
        ECDSA_SIG_free(sig);
        BN_free(br);
        BN_free(bs);
        return MS_ERR_NOMEM;
    }
    *der_len = i2d_ECDSA_SIG(sig, der);
    ECDSA_SIG_free(sig);
    ENSURE(*der_len > 0, MS_ERR_NOMEM);
    return MS_OK;
}

/* §4 check 4: signed by a VCEK (not a VLEK), ECDSA P-384 with SHA-384 over [0, 0x2A0). */
static ms_err check_signature(snp_ctx *c)
{
    EVP_PKEY *key = X509_get0_pubkey(c->vcek);
    ENSURE(MS_SNP_KEY_INFO_SIGNING_KEY(c->report.key_info) == 0, MS_ERR_SNP_SIGNATURE);
    ENSURE(is_p384(key), MS_ERR_SNP_SIGNATURE);
    unsigned char *der;
    int der_len;
    TRY(sig_to_der(&c->report, &der, &der_len));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = md != NULL ? EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) : -1;
    if (rc == 1) {
        rc = EVP_DigestVerify(md, der, (size_t)der_len, c->bundle.report, MS_SNP_SIGNED_LEN);
    }
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ENSURE(md != NULL, MS_ERR_NOMEM);
    ENSURE(rc == 1, MS_ERR_SNP_SIGNATURE);
    return MS_OK;
}

/* §4 checks 5 and 6: the VCEK was issued for this TCB and this chip. */
static ms_err check_tcb_match(snp_ctx *c)
{
    return ms_snp_x509_tcb_equal(c->vcek, c->report.reported_tcb.raw);
}

static ms_err check_chip_id(snp_ctx *c)
{
    return ms_snp_x509_hwid_equal(c->vcek, c->report.chip_id);
}

/* §4 checks 7 to 10: this session, this guest image, no debugging, a recent enough TCB. */
static ms_err check_report_data(snp_ctx *c)
{
    ENSURE(ms_ct_equal(c->report.report_data, c->binding, MS_SNP_REPORT_DATA_LEN),
           MS_ERR_SNP_REPORT_DATA);
    return MS_OK;
}

static ms_err check_measurement(snp_ctx *c)
{
    ENSURE(ms_ct_equal(c->report.measurement, c->policy->measurement, MS_SNP_MEASUREMENT_LEN),
           MS_ERR_SNP_MEASUREMENT);
    return MS_OK;
}

static ms_err check_debug(snp_ctx *c)
{
    ENSURE((c->report.policy & MS_SNP_POLICY_DEBUG) == 0, MS_ERR_SNP_DEBUG);
    return MS_OK;
}

static ms_err check_tcb_min(snp_ctx *c)
{
    const ms_snp_tcb *t = &c->report.reported_tcb, *min = &c->policy->min_tcb;
    ENSURE(t->bootloader >= min->bootloader && t->tee >= min->tee && t->snp >= min->snp &&
               t->microcode >= min->microcode,
           MS_ERR_SNP_TCB_MIN);
    return MS_OK;
}

typedef ms_err (*check_fn)(snp_ctx *c);

/* After FORMAT, in order. */
static const struct {
    ms_snp_check id;
    check_fn fn;
} CHECKS[] = {
    {MS_SNP_CHECK_ARK, check_ark},
    {MS_SNP_CHECK_CHAIN, check_chain},
    {MS_SNP_CHECK_SIGNATURE, check_signature},
    {MS_SNP_CHECK_TCB_MATCH, check_tcb_match},
    {MS_SNP_CHECK_CHIP_ID, check_chip_id},
    {MS_SNP_CHECK_REPORT_DATA, check_report_data},
    {MS_SNP_CHECK_MEASUREMENT, check_measurement},
    {MS_SNP_CHECK_DEBUG, check_debug},
    {MS_SNP_CHECK_TCB_MIN, check_tcb_min},
};

/*
 * How a run goes. The client's verifier: binding set, expect, stop at the first failure.
 * The offline forms (`report`): keep going after a failure once FORMAT passed.
 */
typedef struct run_opts {
    const uint8_t *binding; /* NULL: REPORT_DATA is skipped */
    int expect;             /* run MEASUREMENT and TCB_MIN (the policy's expectations) */
    int report;
    int roots_optional;     /* report only: no ARK in the policy skips ARK and CHAIN */
} run_opts;

static int wanted(const run_opts *o, const ms_snp_policy *p, ms_snp_check id)
{
    switch (id) {
    case MS_SNP_CHECK_REPORT_DATA: return o->binding != NULL;
    case MS_SNP_CHECK_MEASUREMENT:
    case MS_SNP_CHECK_TCB_MIN: return o->expect;
    case MS_SNP_CHECK_ARK:
    case MS_SNP_CHECK_CHAIN: return !(o->report && o->roots_optional && p->ark_der == NULL);
    default: return 1;
    }
}

static int is_internal(ms_err e)
{
    return e == MS_ERR_NOMEM || e == MS_ERR_INTERNAL;
}

static void record(ms_snp_checks *out, ms_snp_check id, ms_err e)
{
    out->ran[id] = 1;
    out->result[id] = e;
}

/*
 * Run the checks into `out` and return the first failure. The client's form stops at the
 * first failure; the offline forms (o->report) run, once FORMAT has passed, every wanted
 * check so that each can be shown.
 */
static ms_err run(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                  const run_opts *o, ms_snp_checks *out)
{
    snp_ctx c;
    memset(&c, 0, sizeof c);
    c.policy = policy;
    c.binding = o->binding;
    ms_err first = check_format(&c, ev, len);
    record(out, MS_SNP_CHECK_FORMAT, first);
    if (first == MS_OK) {
        out->have_report = 1;
        out->report = c.report;
    }
    for (size_t i = 0; first == MS_OK || (o->report && out->have_report); i++) {
        if (i == sizeof CHECKS / sizeof CHECKS[0]) {
            break;
        }
        if (!wanted(o, policy, CHECKS[i].id)) {
            continue;
        }
        ms_err e = CHECKS[i].fn(&c);
        record(out, CHECKS[i].id, e);
        if (first == MS_OK || is_internal(e)) {
            first = e;
        }
        if (is_internal(e)) {
            break;
        }
    }
    ctx_free(&c);
    return first;
}

ms_err ms_snp_verify(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                     const uint8_t binding[static MS_BINDING_LEN])
{
    ENSURE(policy != NULL && binding != NULL, MS_ERR_ARG);
    ms_snp_checks checks;
    memset(&checks, 0, sizeof checks);
    run_opts o = {.binding = binding, .expect = 1};
    return run(policy, ev, len, &o, &checks);
}

ms_err ms_snp_verify_report(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                            ms_snp_checks *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(policy != NULL, MS_ERR_ARG);
    run_opts o = {.report = 1};
    return run(policy, ev, len, &o, out);
}

ms_err ms_snp_verify_checks(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                            const uint8_t *binding, int expect, ms_snp_checks *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(policy != NULL, MS_ERR_ARG);
    run_opts o = {.binding = binding, .expect = expect != 0, .report = 1, .roots_optional = 1};
    return run(policy, ev, len, &o, out);
}

const char *ms_snp_check_name(ms_snp_check c)
{
    static const char *const names[MS_SNP_CHECK_COUNT] = {
        [MS_SNP_CHECK_FORMAT] = "format",           [MS_SNP_CHECK_ARK] = "ark",
        [MS_SNP_CHECK_CHAIN] = "chain",             [MS_SNP_CHECK_SIGNATURE] = "signature",
        [MS_SNP_CHECK_TCB_MATCH] = "tcb-match",     [MS_SNP_CHECK_CHIP_ID] = "chip-id",
        [MS_SNP_CHECK_REPORT_DATA] = "report-data", [MS_SNP_CHECK_MEASUREMENT] = "measurement",
        [MS_SNP_CHECK_DEBUG] = "debug",             [MS_SNP_CHECK_TCB_MIN] = "tcb-min",
    };
    return (unsigned)c < MS_SNP_CHECK_COUNT ? names[c] : "unknown";
}

ms_err ms_snp_cert_pem_to_der(const uint8_t *pem, size_t len, ms_buf *der)
{
    ENSURE(pem != NULL && len > 0, MS_ERR_FILE_FORMAT);
    ENSURE(len <= 4u * MS_SNP_MAX_CERT, MS_ERR_CAP_EXCEEDED);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    unsigned char *p = NULL;
    int n = cert != NULL ? i2d_X509(cert, &p) : -1;
    X509_free(cert);
    ERR_clear_error();
    ms_err err = n > 0 ? MS_OK : MS_ERR_FILE_FORMAT;
    if (err == MS_OK) {
        err = (size_t)n <= MS_SNP_MAX_CERT ? ms_buf_append(der, p, (size_t)n) : MS_ERR_CAP_EXCEEDED;
    }
    OPENSSL_free(p);
    return err;
}

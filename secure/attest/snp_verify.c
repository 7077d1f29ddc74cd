/* SEV-SNP verifier: the checks of docs/attest-sev-snp.md §4, in order, each with its own code. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "secure/attest/snp.h"
#include "secure/attest/snp_checks.h"

/* §4 checks 11 to 14: this session, this guest image, no debugging, a recent enough TCB. */
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
               t->microcode >= min->microcode && t->fmc >= min->fmc,
           MS_ERR_SNP_TCB_MIN);
    return MS_OK;
}

/*
 * §4 checks 15 to 17, strict by default: the report comes from the VMPL the policy names (a
 * paravisor or SVSM above the guest asks at VMPL 1+), and no migration agent may be bound
 * to the guest (it could read its memory) unless the policy allows it.
 */
static ms_err check_vmpl(snp_ctx *c)
{
    ENSURE(c->report.vmpl == c->policy->vmpl, MS_ERR_SNP_VMPL);
    return MS_OK;
}

static ms_err check_migrate_ma(snp_ctx *c)
{
    ENSURE(c->policy->allow_migrate_ma || (c->report.policy & MS_SNP_POLICY_MIGRATE_MA) == 0,
           MS_ERR_SNP_MIGRATE_MA);
    return MS_OK;
}

static ms_err check_migration_agent(snp_ctx *c)
{
    uint8_t all = 0xFF;
    for (size_t i = 0; i < sizeof c->report.report_id_ma; i++) {
        all &= c->report.report_id_ma[i];
    }
    ENSURE(c->policy->allow_migration_agent || all == 0xFF, MS_ERR_SNP_MIGRATION_AGENT);
    return MS_OK;
}

/* §4 checks 18 to 22: the guest policy's and platform's bits the policy pins. */
static ms_err check_smt(snp_ctx *c)
{
    ENSURE(!c->policy->forbid_smt || (c->report.policy & MS_SNP_POLICY_SMT) == 0, MS_ERR_SNP_SMT);
    return MS_OK;
}

static ms_err check_single_socket(snp_ctx *c)
{
    ENSURE(!c->policy->require_single_socket || (c->report.policy & MS_SNP_POLICY_SINGLE_SOCKET),
           MS_ERR_SNP_SINGLE_SOCKET);
    return MS_OK;
}

static ms_err check_abi_min(snp_ctx *c)
{
    unsigned have = (unsigned)MS_SNP_POLICY_ABI_MAJOR(c->report.policy) << 8 |
                    MS_SNP_POLICY_ABI_MINOR(c->report.policy);
    unsigned want = (unsigned)c->policy->min_abi_major << 8 | c->policy->min_abi_minor;
    ENSURE(have >= want, MS_ERR_SNP_ABI_MIN);
    return MS_OK;
}

static int bits_hold(uint64_t v, uint64_t set, uint64_t clear)
{
    return (v & set) == set && (v & clear) == 0;
}

static ms_err check_policy_bits(snp_ctx *c)
{
    ENSURE(bits_hold(c->report.policy, c->policy->policy_set, c->policy->policy_clear),
           MS_ERR_SNP_POLICY_BITS);
    return MS_OK;
}

static ms_err check_platform_info(snp_ctx *c)
{
    ENSURE(bits_hold(c->report.platform_info, c->policy->platform_set, c->policy->platform_clear),
           MS_ERR_SNP_PLATFORM_INFO);
    return MS_OK;
}

/* §4 checks 23 to 27: what the launch was given (HOST_DATA, the ID block, its keys). */
static ms_err check_host_data(snp_ctx *c)
{
    ENSURE(ms_ct_equal(c->report.host_data, c->policy->host_data, 32), MS_ERR_SNP_HOST_DATA);
    return MS_OK;
}

static ms_err check_family_id(snp_ctx *c)
{
    ENSURE(ms_ct_equal(c->report.family_id, c->policy->family_id, 16), MS_ERR_SNP_FAMILY_ID);
    return MS_OK;
}

static ms_err check_image_id(snp_ctx *c)
{
    ENSURE(ms_ct_equal(c->report.image_id, c->policy->image_id, 16), MS_ERR_SNP_IMAGE_ID);
    return MS_OK;
}

static ms_err check_id_key(snp_ctx *c)
{
    ENSURE(ms_ct_equal(c->report.id_key_digest, c->policy->id_key_digest, 48), MS_ERR_SNP_ID_KEY);
    return MS_OK;
}

static ms_err check_author_key(snp_ctx *c)
{
    ENSURE(ms_ct_equal(c->report.author_key_digest, c->policy->author_key_digest, 48),
           MS_ERR_SNP_AUTHOR_KEY);
    return MS_OK;
}

typedef ms_err (*check_fn)(snp_ctx *c);

/* After FORMAT, in order. */
static const struct {
    ms_snp_check id;
    check_fn fn;
} CHECKS[] = {
    {MS_SNP_CHECK_ARK, snp_check_ark},
    {MS_SNP_CHECK_CHAIN, snp_check_chain},
    {MS_SNP_CHECK_CERT_TIME, snp_check_cert_time},
    {MS_SNP_CHECK_CRL, snp_check_crl},
    {MS_SNP_CHECK_REVOKED, snp_check_revoked},
    {MS_SNP_CHECK_SIGNING_KEY, snp_check_signing_key},
    {MS_SNP_CHECK_SIGNATURE, snp_check_signature},
    {MS_SNP_CHECK_TCB_MATCH, snp_check_tcb_match},
    {MS_SNP_CHECK_CHIP_ID, snp_check_chip_id},
    {MS_SNP_CHECK_REPORT_DATA, check_report_data},
    {MS_SNP_CHECK_MEASUREMENT, check_measurement},
    {MS_SNP_CHECK_DEBUG, check_debug},
    {MS_SNP_CHECK_TCB_MIN, check_tcb_min},
    {MS_SNP_CHECK_VMPL, check_vmpl},
    {MS_SNP_CHECK_MIGRATE_MA, check_migrate_ma},
    {MS_SNP_CHECK_MIGRATION_AGENT, check_migration_agent},
    {MS_SNP_CHECK_SMT, check_smt},
    {MS_SNP_CHECK_SINGLE_SOCKET, check_single_socket},
    {MS_SNP_CHECK_ABI_MIN, check_abi_min},
    {MS_SNP_CHECK_POLICY_BITS, check_policy_bits},
    {MS_SNP_CHECK_PLATFORM_INFO, check_platform_info},
    {MS_SNP_CHECK_HOST_DATA, check_host_data},
    {MS_SNP_CHECK_FAMILY_ID, check_family_id},
    {MS_SNP_CHECK_IMAGE_ID, check_image_id},
    {MS_SNP_CHECK_ID_KEY, check_id_key},
    {MS_SNP_CHECK_AUTHOR_KEY, check_author_key},
};
_Static_assert(sizeof CHECKS / sizeof CHECKS[0] == MS_SNP_CHECK_COUNT - 1,
               "every check after FORMAT");

/*
 * How a run goes. The client's verifier: binding set, expect, stop at the first failure.
 * The offline forms (`report`): keep going after a failure once FORMAT passed.
 */
typedef struct run_opts {
    const uint8_t *binding; /* NULL: REPORT_DATA is skipped */
    int expect;             /* run MEASUREMENT, TCB_MIN and the pins (the policy's expectations) */
    int report;
    int roots_optional;     /* report only: no ARK in the policy skips ARK, CHAIN, CRL, REVOKED */
    uint64_t at;            /* certificates must be valid at this time */
} run_opts;

/* A pin runs only when the policy expresses it. */
static int pinned(const ms_snp_policy *p, ms_snp_check id)
{
    switch (id) {
    case MS_SNP_CHECK_SMT: return p->forbid_smt;
    case MS_SNP_CHECK_SINGLE_SOCKET: return p->require_single_socket;
    case MS_SNP_CHECK_ABI_MIN: return p->have_min_abi;
    case MS_SNP_CHECK_POLICY_BITS: return (p->policy_set | p->policy_clear) != 0;
    case MS_SNP_CHECK_PLATFORM_INFO: return (p->platform_set | p->platform_clear) != 0;
    case MS_SNP_CHECK_HOST_DATA: return p->have_host_data;
    case MS_SNP_CHECK_FAMILY_ID: return p->have_family_id;
    case MS_SNP_CHECK_IMAGE_ID: return p->have_image_id;
    case MS_SNP_CHECK_ID_KEY: return p->have_id_key;
    case MS_SNP_CHECK_AUTHOR_KEY: return p->have_author_key;
    default: return 1;
    }
}

/* MS_SNP_SKIP_NONE when the check runs, else why not. */
static ms_snp_skip skip_of(const run_opts *o, const snp_ctx *c, ms_snp_check id)
{
    const ms_snp_policy *p = c->policy;
    int no_ark = o->report && o->roots_optional && p->ark_der == NULL;
    switch (id) {
    case MS_SNP_CHECK_REPORT_DATA:
        return o->binding != NULL ? MS_SNP_SKIP_NONE : MS_SNP_SKIP_NOT_ASKED;
    case MS_SNP_CHECK_MEASUREMENT:
    case MS_SNP_CHECK_TCB_MIN: return o->expect ? MS_SNP_SKIP_NONE : MS_SNP_SKIP_NOT_ASKED;
    case MS_SNP_CHECK_ARK:
    case MS_SNP_CHECK_CHAIN: return no_ark ? MS_SNP_SKIP_NO_ARK : MS_SNP_SKIP_NONE;
    case MS_SNP_CHECK_CRL:
    case MS_SNP_CHECK_REVOKED:
        return no_ark              ? MS_SNP_SKIP_NO_ARK
               : p->crl_der == NULL ? MS_SNP_SKIP_NO_CRL
                                    : MS_SNP_SKIP_NONE;
    case MS_SNP_CHECK_CHIP_ID: return snp_is_vlek(c) ? MS_SNP_SKIP_VLEK : MS_SNP_SKIP_NONE;
    default:
        if (!pinned(p, id)) {
            return MS_SNP_SKIP_NOT_PINNED;
        }
        return id >= MS_SNP_CHECK_SMT && !o->expect ? MS_SNP_SKIP_NOT_ASKED : MS_SNP_SKIP_NONE;
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
    c.at = o->at;
    ms_err first = snp_check_format(&c, ev, len);
    record(out, MS_SNP_CHECK_FORMAT, first);
    if (first == MS_OK) {
        out->have_report = 1;
        out->report = c.report;
    }
    for (size_t i = 0; first == MS_OK || (o->report && out->have_report); i++) {
        if (i == sizeof CHECKS / sizeof CHECKS[0]) {
            break;
        }
        ms_snp_skip why = skip_of(o, &c, CHECKS[i].id);
        if (why != MS_SNP_SKIP_NONE) {
            out->skip[CHECKS[i].id] = (uint8_t)why;
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
    snp_ctx_free(&c);
    return first;
}

static uint64_t now(void)
{
    time_t t = time(NULL);
    return t > 0 ? (uint64_t)t : 0;
}

ms_err ms_snp_verify_at(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                        const uint8_t binding[static MS_BINDING_LEN], uint64_t at)
{
    ENSURE(policy != NULL && binding != NULL, MS_ERR_ARG);
    ms_snp_checks checks;
    memset(&checks, 0, sizeof checks);
    run_opts o = {.binding = binding, .expect = 1, .at = at};
    return run(policy, ev, len, &o, &checks);
}

ms_err ms_snp_verify(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                     const uint8_t binding[static MS_BINDING_LEN])
{
    return ms_snp_verify_at(policy, ev, len, binding, now());
}

ms_err ms_snp_verify_report(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                            ms_snp_checks *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(policy != NULL, MS_ERR_ARG);
    run_opts o = {.report = 1, .at = now()};
    return run(policy, ev, len, &o, out);
}

ms_err ms_snp_verify_checks_at(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                               const uint8_t *binding, int expect, uint64_t at,
                               ms_snp_checks *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(policy != NULL, MS_ERR_ARG);
    run_opts o = {.binding = binding, .expect = expect != 0, .report = 1, .roots_optional = 1,
                  .at = at};
    return run(policy, ev, len, &o, out);
}

ms_err ms_snp_verify_checks(const ms_snp_policy *policy, const uint8_t *ev, size_t len,
                            const uint8_t *binding, int expect, ms_snp_checks *out)
{
    return ms_snp_verify_checks_at(policy, ev, len, binding, expect, now(), out);
}

const char *ms_snp_check_name(ms_snp_check c)
{
    static const char *const names[MS_SNP_CHECK_COUNT] = {
        [MS_SNP_CHECK_FORMAT] = "format",           [MS_SNP_CHECK_ARK] = "ark",
        [MS_SNP_CHECK_CHAIN] = "chain",             [MS_SNP_CHECK_CERT_TIME] = "cert-time",
        [MS_SNP_CHECK_CRL] = "crl",                 [MS_SNP_CHECK_REVOKED] = "revoked",
        [MS_SNP_CHECK_SIGNING_KEY] = "signing-key", [MS_SNP_CHECK_SIGNATURE] = "signature",
        [MS_SNP_CHECK_TCB_MATCH] = "tcb-match",     [MS_SNP_CHECK_CHIP_ID] = "chip-id",
        [MS_SNP_CHECK_REPORT_DATA] = "report-data", [MS_SNP_CHECK_MEASUREMENT] = "measurement",
        [MS_SNP_CHECK_DEBUG] = "debug",             [MS_SNP_CHECK_TCB_MIN] = "tcb-min",
        [MS_SNP_CHECK_VMPL] = "vmpl",               [MS_SNP_CHECK_MIGRATE_MA] = "migrate-ma",
        [MS_SNP_CHECK_MIGRATION_AGENT] = "report-id-ma",
        [MS_SNP_CHECK_SMT] = "smt",                 [MS_SNP_CHECK_SINGLE_SOCKET] = "single-socket",
        [MS_SNP_CHECK_ABI_MIN] = "abi-min",         [MS_SNP_CHECK_POLICY_BITS] = "policy-bits",
        [MS_SNP_CHECK_PLATFORM_INFO] = "platform-info",
        [MS_SNP_CHECK_HOST_DATA] = "host-data",     [MS_SNP_CHECK_FAMILY_ID] = "family-id",
        [MS_SNP_CHECK_IMAGE_ID] = "image-id",       [MS_SNP_CHECK_ID_KEY] = "id-key",
        [MS_SNP_CHECK_AUTHOR_KEY] = "author-key",
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

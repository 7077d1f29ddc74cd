/* NVIDIA GPU evidence verifier: nonce, chain to the pinned root, device identity, SPDM signature, policy. */
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "secure/attest/ecdsa.h"
#include "secure/attest/nvgpu.h"

static const char *const CHECK_NAMES[MS_NVGPU_CHECK_COUNT] = {
    "format", "nonce", "chain", "identity", "signature", "measurements", "cc-mode", "debug",
};

const char *ms_nvgpu_check_name(ms_nvgpu_check c)
{
    return (unsigned)c < MS_NVGPU_CHECK_COUNT ? CHECK_NAMES[c] : "?";
}

/* The certificates of one item, parsed. */
typedef struct certs {
    X509 *x[MS_NVGPU_MAX_CHAIN];
    size_t n;
} certs;

static void certs_free(certs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        X509_free(c->x[i]);
    }
    c->n = 0;
}

static X509 *parse_der(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static ms_err parse_certs(const ms_nvgpu_item *it, certs *c)
{
    for (size_t i = 0; i < it->n_certs; i++) {
        c->x[i] = parse_der(it->cert[i], it->cert_len[i]);
        ENSURE(c->x[i] != NULL, MS_ERR_NVGPU_FORMAT);
        c->n++;
    }
    return MS_OK;
}

/* ---- CHAIN: leaf -> intermediates -> the pinned root, valid at `at` ----------------------- */

static int same_der(X509 *x, const uint8_t *der, size_t len)
{
    unsigned char *buf = NULL;
    int n = i2d_X509(x, &buf);
    int same = n > 0 && (size_t)n == len && CRYPTO_memcmp(buf, der, len) == 0;
    OPENSSL_free(buf);
    return same;
}

static ms_err check_chain(const ms_nvgpu_policy *pol, certs *c, uint64_t at)
{
    ms_err err = MS_ERR_NVGPU_CHAIN;
    X509 *root = parse_der(pol->root_der, pol->root_len);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (store == NULL || ctx == NULL || untrusted == NULL) {
        err = MS_ERR_NOMEM;
        goto out;
    }
    ENSURE_OUT(root != NULL && X509_STORE_add_cert(store, root) == 1, MS_ERR_NVGPU_CHAIN);
    for (size_t i = 1; i < c->n; i++) {
        /* The chain may end with the root itself; the pinned copy is the one trusted. */
        if (i == c->n - 1 && same_der(c->x[i], pol->root_der, pol->root_len)) {
            break;
        }
        ENSURE_OUT(sk_X509_push(untrusted, c->x[i]) > 0, MS_ERR_NOMEM);
    }
    ENSURE_OUT(X509_STORE_CTX_init(ctx, store, c->x[0], untrusted) == 1, MS_ERR_NOMEM);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)at);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set_depth(vp, (int)MS_NVGPU_MAX_CHAIN);
    err = X509_verify_cert(ctx) == 1 ? MS_OK : MS_ERR_NVGPU_CHAIN;
out:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(root);
    return err;
}

/* ---- IDENTITY: NVIDIA's naming of device certificates ------------------------------------- */

/* The name's serialNumber attribute, present exactly once, as text; 0 when not so. */
static int name_serial(const X509_NAME *name, char *out, size_t cap)
{
    int at = X509_NAME_get_index_by_NID(name, NID_serialNumber, -1);
    if (at < 0 || X509_NAME_get_index_by_NID(name, NID_serialNumber, at) >= 0) {
        return 0;
    }
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
    int n = ASN1_STRING_length(s);
    if (n <= 0 || (size_t)n >= cap) {
        return 0;
    }
    memcpy(out, ASN1_STRING_get0_data(s), (size_t)n);
    out[n] = '\0';
    return strlen(out) == (size_t)n;
}

/* 1 when the subject's serialNumber is the certificate's serial number in upper-case hex. */
static int serial_named(X509 *x, char *out, size_t cap)
{
    char hex[64];
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *h = bn != NULL ? BN_bn2hex(bn) : NULL;
    int ok = h != NULL && name_serial(X509_get_subject_name(x), out, cap) &&
             strlen(h) < sizeof hex;
    if (ok) {
        snprintf(hex, sizeof hex, "%s", h);
        ok = strcmp(hex, out) == 0;
    }
    OPENSSL_free(h);
    BN_free(bn);
    return ok;
}

/*
 * The leaf (attestation key) is issued by the device certificate: both follow NVIDIA's
 * scheme of naming a certificate by its serial number, and the leaf's issuer names the
 * device by the device certificate's serialNumber. The device id is that serialNumber.
 */
static ms_err check_identity(certs *c, char *device_id, size_t cap)
{
    char leaf_id[64], issuer_id[64], dev[64];
    device_id[0] = '\0';
    ENSURE(c->n >= 2, MS_ERR_NVGPU_IDENTITY);
    ENSURE(serial_named(c->x[0], leaf_id, sizeof leaf_id), MS_ERR_NVGPU_IDENTITY);
    ENSURE(serial_named(c->x[1], dev, sizeof dev), MS_ERR_NVGPU_IDENTITY);
    ENSURE(name_serial(X509_get_issuer_name(c->x[0]), issuer_id, sizeof issuer_id),
           MS_ERR_NVGPU_IDENTITY);
    ENSURE(strcmp(issuer_id, dev) == 0, MS_ERR_NVGPU_IDENTITY);
    ENSURE(X509_NAME_cmp(X509_get_issuer_name(c->x[0]), X509_get_subject_name(c->x[1])) == 0,
           MS_ERR_NVGPU_IDENTITY);
    snprintf(device_id, cap, "%s", dev);
    return MS_OK;
}

/* ---- SIGNATURE: ECDSA P-384 / SHA-384 over request || response-without-signature -------- */

static ms_err check_signature(X509 *leaf, const uint8_t *report, const ms_nvgpu_report *r)
{
    EVP_PKEY *key = X509_get0_pubkey(leaf);
    ENSURE(ms_ecdsa_key_on(key, SN_secp384r1), MS_ERR_NVGPU_SIGNATURE);
    /* r || s, big-endian, 48 bytes each */
    return ms_ecdsa_verify(key, EVP_sha384(), r->sig, MS_NVGPU_SIG_LEN / 2,
                           r->sig + MS_NVGPU_SIG_LEN / 2, MS_NVGPU_SIG_LEN / 2, 0, report,
                           r->signed_len, MS_ERR_NVGPU_SIGNATURE);
}

/* ---- the policy's expectations ----------------------------------------------------------- */

static ms_err check_measurements(const ms_nvgpu_policy *pol, const ms_nvgpu_report *r)
{
    for (size_t i = 0; i < pol->n_meas; i++) {
        const ms_nvgpu_meas *m = &pol->meas[i];
        const ms_nvgpu_block *b = ms_nvgpu_report_block(r, m->index);
        ENSURE(b != NULL && b->value_len == m->len, MS_ERR_NVGPU_MEASUREMENT);
        ENSURE(CRYPTO_memcmp(b->value, m->value, m->len) == 0, MS_ERR_NVGPU_MEASUREMENT);
    }
    return MS_OK;
}

/* CC mode: the signed feature flag when the report has one, else what NVML told the host. */
static ms_err check_cc(const ms_nvgpu_item *it, const ms_nvgpu_report *r, ms_nvgpu_checks *out)
{
    if (r->have_feature_flag) {
        snprintf(out->cc_source, sizeof out->cc_source, "report");
        return r->feature_flag <= MS_NVGPU_FEATURE_MAX_CC ? MS_OK : MS_ERR_NVGPU_CC_OFF;
    }
    snprintf(out->cc_source, sizeof out->cc_source, "host");
    return (it->host_flags & MS_NVGPU_HOST_CC_ON) ? MS_OK : MS_ERR_NVGPU_CC_OFF;
}

/* ---- the sequence ---------------------------------------------------------------------- */

static void record(ms_nvgpu_checks *out, ms_nvgpu_check c, ms_err e, ms_err *first)
{
    out->ran[c] = 1;
    out->result[c] = e;
    if (e != MS_OK && *first == MS_OK) {
        *first = e;
    }
}

static void skip(ms_nvgpu_checks *out, ms_nvgpu_check c, const char *why)
{
    out->ran[c] = 0;
    out->skip_reason[c] = why;
}

static ms_err run_checks(const ms_nvgpu_policy *pol, const uint8_t *p, size_t len,
                         const uint8_t *nonce, uint64_t at, int expect, ms_nvgpu_checks *out)
{
    ms_nvgpu_item it;
    certs c = {.n = 0};
    ms_err first = MS_OK;
    ms_err e = ms_nvgpu_item_decode(p, len, &it);
    if (e == MS_OK) {
        e = ms_nvgpu_report_decode(it.report, it.report_len, &out->report);
    }
    if (e == MS_OK) {
        e = parse_certs(&it, &c);
    }
    record(out, MS_NVGPU_CHECK_FORMAT, e == MS_OK ? MS_OK : MS_ERR_NVGPU_FORMAT, &first);
    if (e != MS_OK) {
        certs_free(&c);
        return e == MS_ERR_NOMEM ? e : MS_ERR_NVGPU_FORMAT;
    }
    out->have_report = 1;
    const ms_nvgpu_report *r = &out->report;
    if (nonce != NULL) {
        e = CRYPTO_memcmp(r->req_nonce, nonce, MS_NVGPU_NONCE_LEN) == 0 ? MS_OK
                                                                         : MS_ERR_NVGPU_NONCE;
        record(out, MS_NVGPU_CHECK_NONCE, e, &first);
    } else {
        skip(out, MS_NVGPU_CHECK_NONCE, "no session binding: the report was not made for us");
    }
    if (pol->root_der != NULL) {
        record(out, MS_NVGPU_CHECK_CHAIN, check_chain(pol, &c, at), &first);
    } else {
        skip(out, MS_NVGPU_CHECK_CHAIN, "no pinned root");
    }
    record(out, MS_NVGPU_CHECK_IDENTITY,
           check_identity(&c, out->device_id, sizeof out->device_id), &first);
    record(out, MS_NVGPU_CHECK_SIGNATURE, check_signature(c.x[0], it.report, r), &first);
    if (expect) {
        record(out, MS_NVGPU_CHECK_MEASUREMENT, check_measurements(pol, r), &first);
    } else {
        skip(out, MS_NVGPU_CHECK_MEASUREMENT, "no policy measurements asked for");
    }
    if (pol->require_cc) {
        record(out, MS_NVGPU_CHECK_CC, check_cc(&it, r, out), &first);
    } else {
        skip(out, MS_NVGPU_CHECK_CC, "the policy does not require CC mode");
    }
    if (!pol->allow_debug) {
        e = (it.host_flags & MS_NVGPU_HOST_DEVTOOLS) ? MS_ERR_NVGPU_DEBUG : MS_OK;
        record(out, MS_NVGPU_CHECK_DEBUG, e, &first);
    } else {
        skip(out, MS_NVGPU_CHECK_DEBUG, "the policy allows debugging");
    }
    certs_free(&c);
    /* An allocation failure inside a check is not the evidence's fault. */
    for (size_t i = 0; i < MS_NVGPU_CHECK_COUNT; i++) {
        if (out->ran[i] && (out->result[i] == MS_ERR_NOMEM || out->result[i] == MS_ERR_INTERNAL)) {
            return out->result[i];
        }
    }
    return first;
}

ms_err ms_nvgpu_verify_checks(const ms_nvgpu_policy *policy, const uint8_t *item, size_t len,
                              const uint8_t *nonce, uint64_t at, int expect,
                              ms_nvgpu_checks *out)
{
    ms_nvgpu_checks local;
    ms_nvgpu_checks *o = out != NULL ? out : &local;
    memset(o, 0, sizeof *o);
    ENSURE(policy != NULL, MS_ERR_ARG);
    return run_checks(policy, item, len, nonce, at, expect, o);
}

ms_err ms_nvgpu_verify(const ms_nvgpu_policy *policy, const uint8_t *item, size_t len,
                       const uint8_t nonce[static MS_NVGPU_NONCE_LEN], uint64_t at,
                       ms_nvgpu_checks *out)
{
    if (out != NULL) {
        memset(out, 0, sizeof *out);
    }
    ENSURE(policy != NULL && nonce != NULL && policy->root_der != NULL, MS_ERR_ARG);
    return ms_nvgpu_verify_checks(policy, item, len, nonce, at, 1, out);
}

ms_err ms_nvgpu_verify_evidence(const ms_nvgpu_policy *policy, const uint8_t *ev, size_t len,
                                const uint8_t binding[static MS_BINDING_LEN], uint64_t at)
{
    ms_nvgpu_evidence e;
    ENSURE(policy != NULL && binding != NULL, MS_ERR_ARG);
    TRY(ms_nvgpu_evidence_decode(ev, len, &e));
    ENSURE(policy->count == 0 || e.n == policy->count, MS_ERR_NVGPU_COUNT);
    char ids[MS_NVGPU_MAX_GPUS][64];
    _Static_assert(sizeof ids[0] == sizeof ((ms_nvgpu_checks *)0)->device_id, "device ids");
    static _Thread_local ms_nvgpu_checks chk; /* large; one per thread keeps the stack small */
    for (size_t i = 0; i < e.n; i++) {
        TRY(ms_nvgpu_verify(policy, e.item[i], e.item_len[i], binding, at, &chk));
        memcpy(ids[i], chk.device_id, sizeof ids[i]);
        for (size_t j = 0; j < i; j++) {
            ENSURE(strcmp(ids[i], ids[j]) != 0, MS_ERR_NVGPU_DUPLICATE);
        }
    }
    return MS_OK;
}

/* ---- PEM chain to DER list --------------------------------------------------------------- */

ms_err ms_nvgpu_pem_chain(const uint8_t *pem, size_t len, ms_buf *ders,
                          size_t off[static MS_NVGPU_MAX_CHAIN],
                          size_t lens[static MS_NVGPU_MAX_CHAIN], size_t *n)
{
    ms_err err = MS_OK;
    *n = 0;
    ENSURE(pem != NULL && len > 0 && len <= (size_t)MS_NVGPU_MAX_CHAIN * 2 * MS_NVGPU_MAX_CERT,
           MS_ERR_NVGPU_FORMAT);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        unsigned char *der = NULL;
        int dl = i2d_X509(x, &der);
        X509_free(x);
        if (dl <= 0 || (size_t)dl > MS_NVGPU_MAX_CERT || *n >= MS_NVGPU_MAX_CHAIN) {
            OPENSSL_free(der);
            err = MS_ERR_NVGPU_FORMAT;
            break;
        }
        off[*n] = ders->len;
        lens[*n] = (size_t)dl;
        err = ms_buf_append(ders, der, (size_t)dl);
        OPENSSL_free(der);
        if (err != MS_OK) {
            break;
        }
        (*n)++;
    }
    ERR_clear_error();
    BIO_free(bio);
    TRY(err);
    ENSURE(*n >= 1, MS_ERR_NVGPU_FORMAT);
    return MS_OK;
}

/* TPM quote verifier: the ten checks of docs/attest-tpm2.md §3, in order, one error each. */
#include <string.h>
#include <time.h>
#include <tss2/tss2_mu.h>

#include "common/buf.h"
#include "common/check.h"
#include "secure/attest/tpm2.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_ek.h"

#define ALL_PCRS ((1u << MS_TPM2_NUM_PCRS) - 1u)

static int policy_valid(const ms_tpm2_policy *p)
{
    return p != NULL && p->pcr_mask != 0 && (p->pcr_mask & ~ALL_PCRS) == 0 &&
           (p->ak_ca_pem == NULL || p->ak_ca_pem_len > 0);
}

/* Checks 2 and 3: made by a TPM (the magic a restricted key refuses to sign), and a quote. */
static ms_err check_header(const TPMS_ATTEST *a)
{
    ENSURE(a->magic == TPM2_GENERATED_VALUE, MS_ERR_TPM_MAGIC);
    ENSURE(a->type == TPM2_ST_ATTEST_QUOTE, MS_ERR_TPM_TYPE);
    return MS_OK;
}

/* Check 4: the quote is over this session's binding (protocol.md §6: its first 32 bytes). */
static ms_err check_nonce(const TPMS_ATTEST *a, const uint8_t binding[static MS_BINDING_LEN])
{
    ENSURE(a->extraData.size == MS_TPM2_NONCE_LEN &&
               ms_ct_equal(a->extraData.buffer, binding, MS_TPM2_NONCE_LEN),
           MS_ERR_TPM_NONCE);
    return MS_OK;
}

/* Check 6: one value per selected PCR, and they hash to the digest the TPM signed. */
static ms_err check_digest(const ms_tpm2_bundle *b, uint32_t mask)
{
    const TPM2B_DIGEST *d = &b->attest.attested.quote.pcrDigest;
    uint8_t h[MS_TPM2_DIGEST_LEN];
    ENSURE(b->n_pcr == ms_tpm2_popcount(mask) && d->size == MS_TPM2_DIGEST_LEN,
           MS_ERR_TPM_PCR_DIGEST);
    TRY(ms_tpm2_sha256(b->pcr_values, b->n_pcr * MS_TPM2_DIGEST_LEN, h));
    ENSURE(ms_ct_equal(h, d->buffer, MS_TPM2_DIGEST_LEN), MS_ERR_TPM_PCR_DIGEST);
    return MS_OK;
}

/* Check 7: values come in ascending PCR order, the order TPM2_Quote hashes them in. */
static ms_err check_values(const ms_tpm2_bundle *b, const ms_tpm2_policy *p)
{
    size_t k = 0;
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (p->pcr_mask & (1u << i)) {
            const uint8_t *v = b->pcr_values + k++ * MS_TPM2_DIGEST_LEN;
            ENSURE(ms_ct_equal(v, p->pcr_values[i], MS_TPM2_DIGEST_LEN), MS_ERR_TPM_PCR_VALUE);
        }
    }
    return MS_OK;
}

/* Check 9 with a name pinned. */
static ms_err check_name(const ms_tpm2_bundle *b, const uint8_t *pinned_name)
{
    uint8_t name[MS_TPM2_NAME_LEN];
    ms_tpm2_name_of(b->ak_bytes, b->ak_len, name);
    ENSURE(ms_ct_equal(name, pinned_name, MS_TPM2_NAME_LEN), MS_ERR_TPM_AK_NAME);
    return MS_OK;
}

/* Check 9 with a CA pinned (§7): the bundle's AK certificate chains to it and holds the AK. */
static ms_err check_cert(const ms_tpm2_bundle *b, const ms_tpm2_policy *p, int64_t now)
{
    ENSURE(b->ak_cert != NULL, MS_ERR_TPM_AK_CERT);
    return ms_tpm2_ak_cert_verify(b->ak_cert, b->ak_cert_len, p->ak_ca_pem, p->ak_ca_pem_len,
                                  &b->ak, now);
}

/* Checks 8 to 10: the key is an AK, it is the pinned one, and it signed these bytes. */
static ms_err check_ak(const ms_tpm2_bundle *b, const ms_tpm2_policy *p, int64_t now)
{
    TRY(ms_tpm2_ak_check(&b->ak));
    if (p != NULL && p->ak_ca_pem != NULL) {
        TRY(check_cert(b, p, now));
    } else if (p != NULL) {
        TRY(check_name(b, p->ak_name));
    }
    return ms_tpm2_sig_verify(&b->ak, &b->sig, b->attest_bytes, b->attest_len);
}

static ms_err verify(const ms_tpm2_policy *policy, const uint8_t *ev, size_t len,
                     const uint8_t binding[static MS_BINDING_LEN], int64_t now, ms_tpm2_bundle *b)
{
    TRY(ms_tpm2_bundle_parse(ev, len, b));
    TRY(check_header(&b->attest));
    TRY(check_nonce(&b->attest, binding));
    ENSURE(ms_tpm2_selection_mask(&b->attest.attested.quote.pcrSelect) == policy->pcr_mask,
           MS_ERR_TPM_PCR_SELECT);
    TRY(check_digest(b, policy->pcr_mask));
    TRY(check_values(b, policy));
    return check_ak(b, policy, now);
}

ms_err ms_tpm2_verify_at(const ms_tpm2_policy *policy, const uint8_t *ev, size_t len,
                         const uint8_t binding[static MS_BINDING_LEN], int64_t now)
{
    ENSURE(policy_valid(policy), MS_ERR_ARG);
    ms_tpm2_bundle b; /* ~4 KiB of TPM structures: on the stack, nothing secret in them */
    return verify(policy, ev, len, binding, now, &b);
}

ms_err ms_tpm2_verify(const ms_tpm2_policy *policy, const uint8_t *ev, size_t len,
                      const uint8_t binding[static MS_BINDING_LEN])
{
    return ms_tpm2_verify_at(policy, ev, len, binding, (int64_t)time(NULL));
}

static ms_err enrol(const uint8_t *ev, size_t len, ms_tpm2_bundle *b, ms_tpm2_policy *out)
{
    TRY(ms_tpm2_bundle_parse(ev, len, b));
    TRY(check_header(&b->attest));
    uint32_t mask = ms_tpm2_selection_mask(&b->attest.attested.quote.pcrSelect);
    ENSURE(mask != 0 && (mask & ~ALL_PCRS) == 0, MS_ERR_TPM_PCR_SELECT);
    TRY(check_digest(b, mask));
    TRY(check_ak(b, NULL, 0));
    ms_tpm2_name_of(b->ak_bytes, b->ak_len, out->ak_name);
    out->pcr_mask = mask;
    size_t k = 0;
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (mask & (1u << i)) {
            memcpy(out->pcr_values[i], b->pcr_values + k++ * MS_TPM2_DIGEST_LEN, MS_TPM2_DIGEST_LEN);
        }
    }
    return MS_OK;
}

ms_err ms_tpm2_bundle_policy(const uint8_t *ev, size_t len, ms_tpm2_policy *out)
{
    memset(out, 0, sizeof *out);
    ms_tpm2_bundle b;
    ms_err err = enrol(ev, len, &b, out);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

/* --- the offline form: every check recorded ------------------------------------------------ */

static void record(ms_tpm2_checks *out, ms_tpm2_check id, ms_err e)
{
    out->ran[id] = 1;
    out->result[id] = e;
}

/* PCR_SELECT: the policy's selection, or without one any canonical, non-empty selection. */
static ms_err check_select(const ms_tpm2_bundle *b, const ms_tpm2_policy *policy)
{
    uint32_t mask = ms_tpm2_selection_mask(&b->attest.attested.quote.pcrSelect);
    if (policy != NULL) {
        ENSURE(mask == policy->pcr_mask, MS_ERR_TPM_PCR_SELECT);
    }
    ENSURE(mask != 0 && (mask & ~ALL_PCRS) == 0, MS_ERR_TPM_PCR_SELECT);
    return MS_OK;
}

/* What the bundle shows, whether or not it is authentic: the caller says which checks passed. */
static void describe(const ms_tpm2_bundle *b, ms_tpm2_policy *q)
{
    uint32_t mask = ms_tpm2_selection_mask(&b->attest.attested.quote.pcrSelect) & ALL_PCRS;
    ms_tpm2_name_of(b->ak_bytes, b->ak_len, q->ak_name);
    q->pcr_mask = mask;
    if (b->n_pcr != ms_tpm2_popcount(mask)) {
        return; /* values do not line up with the selection: show none */
    }
    size_t k = 0;
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (mask & (1u << i)) {
            memcpy(q->pcr_values[i], b->pcr_values + k++ * MS_TPM2_DIGEST_LEN, MS_TPM2_DIGEST_LEN);
        }
    }
}

static void run_checks(const ms_tpm2_policy *policy, const ms_tpm2_bundle *b,
                       const uint8_t *binding, ms_tpm2_checks *out)
{
    const TPMS_ATTEST *a = &b->attest;
    uint32_t mask = ms_tpm2_selection_mask(&a->attested.quote.pcrSelect);
    record(out, MS_TPM2_CHECK_MAGIC, a->magic == TPM2_GENERATED_VALUE ? MS_OK : MS_ERR_TPM_MAGIC);
    record(out, MS_TPM2_CHECK_TYPE, a->type == TPM2_ST_ATTEST_QUOTE ? MS_OK : MS_ERR_TPM_TYPE);
    if (binding != NULL) {
        record(out, MS_TPM2_CHECK_NONCE, check_nonce(a, binding));
    }
    record(out, MS_TPM2_CHECK_PCR_SELECT, check_select(b, policy));
    record(out, MS_TPM2_CHECK_PCR_DIGEST, check_digest(b, mask));
    /* check_values reads one value per bit of the policy's mask: only when they are there. */
    if (policy != NULL && out->result[MS_TPM2_CHECK_PCR_SELECT] == MS_OK &&
        b->n_pcr == ms_tpm2_popcount(policy->pcr_mask)) {
        record(out, MS_TPM2_CHECK_PCR_VALUE, check_values(b, policy));
    }
    record(out, MS_TPM2_CHECK_AK_ATTRS, ms_tpm2_ak_check(&b->ak));
    if (policy != NULL && policy->ak_ca_pem != NULL) {
        record(out, MS_TPM2_CHECK_AK_CERT, check_cert(b, policy, (int64_t)time(NULL)));
    } else if (policy != NULL) {
        record(out, MS_TPM2_CHECK_AK_NAME, check_name(b, policy->ak_name));
    }
    record(out, MS_TPM2_CHECK_SIGNATURE,
           ms_tpm2_sig_verify(&b->ak, &b->sig, b->attest_bytes, b->attest_len));
}

ms_err ms_tpm2_verify_checks(const ms_tpm2_policy *policy, const uint8_t *ev, size_t len,
                             const uint8_t *binding, ms_tpm2_checks *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(policy == NULL || policy_valid(policy), MS_ERR_ARG);
    ms_tpm2_bundle b;
    ms_err first = ms_tpm2_bundle_parse(ev, len, &b);
    record(out, MS_TPM2_CHECK_FORMAT, first);
    if (first != MS_OK) {
        return first;
    }
    out->have_quote = 1;
    describe(&b, &out->quoted);
    run_checks(policy, &b, binding, out);
    for (int i = 0; i < MS_TPM2_CHECK_COUNT; i++) {
        if (out->ran[i] && out->result[i] != MS_OK) {
            return out->result[i];
        }
    }
    return MS_OK;
}

const char *ms_tpm2_check_name(ms_tpm2_check c)
{
    static const char *const names[MS_TPM2_CHECK_COUNT] = {
        [MS_TPM2_CHECK_FORMAT] = "format",         [MS_TPM2_CHECK_MAGIC] = "magic",
        [MS_TPM2_CHECK_TYPE] = "attest-type",      [MS_TPM2_CHECK_NONCE] = "nonce",
        [MS_TPM2_CHECK_PCR_SELECT] = "pcr-select", [MS_TPM2_CHECK_PCR_DIGEST] = "pcr-digest",
        [MS_TPM2_CHECK_PCR_VALUE] = "pcr-values",  [MS_TPM2_CHECK_AK_ATTRS] = "ak-attributes",
        [MS_TPM2_CHECK_AK_NAME] = "ak-name",       [MS_TPM2_CHECK_AK_CERT] = "ak-certificate",
        [MS_TPM2_CHECK_SIGNATURE] = "signature",
    };
    return (unsigned)c < MS_TPM2_CHECK_COUNT ? names[c] : "unknown";
}

ms_err ms_tpm2_ak_name(const uint8_t *tpmt_public, size_t len, uint8_t name[static MS_TPM2_NAME_LEN])
{
    memset(name, 0, MS_TPM2_NAME_LEN);
    TPMT_PUBLIC pub;
    size_t off = 0;
    ENSURE(tpmt_public != NULL && len <= MS_TPM2_MAX_BUNDLE, MS_ERR_TPM_FORMAT);
    ENSURE(Tss2_MU_TPMT_PUBLIC_Unmarshal(tpmt_public, len, &off, &pub) == TSS2_RC_SUCCESS &&
               off == len,
           MS_ERR_TPM_FORMAT);
    ENSURE(pub.nameAlg == TPM2_ALG_SHA256, MS_ERR_TPM_AK_ATTRS);
    ms_tpm2_name_of(tpmt_public, len, name);
    return MS_OK;
}

/* The checks above for evidence that brings its AK another way (tpm2_bundle.h). */
ms_err ms_tpm2_check_nonce(const TPMS_ATTEST *a, const uint8_t binding[static MS_BINDING_LEN])
{
    return check_nonce(a, binding);
}

ms_err ms_tpm2_check_digest(const ms_tpm2_bundle *b, uint32_t mask)
{
    return check_digest(b, mask);
}

ms_err ms_tpm2_check_values(const ms_tpm2_bundle *b, const ms_tpm2_policy *p)
{
    return check_values(b, p);
}

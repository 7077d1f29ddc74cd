/* TPM key provenance on swtpm with swtpm_localca's EK certificates: EK chain, credential
 * activation, AK certificates, and quotes verified against a pinned AK CA. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tss2/tss2_mu.h>

#include "common/buf.h"
#include "common/file.h"
#include "secure/attest/inspect.h"
#include "secure/attest/policy.h"
#include "secure/attest/tpm2.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_ek.h"
#include "secure/attest/tpm2_enrol.h"
#include "secure/attest/tpm2_esys.h"
#include "secure/attest/tpm2_producer.h"
#include "tests/fixture/swtpm.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/secure/attest/tpm2_fixture.h"
#include "tests/secure/attest/tpm2_tpm.h"
#include "tests/test.h"

#define MASK 0x3u /* PCRs 0 and 1 */

static e2e_swtpm S;
static ms_buf ROOTS, ROOT_ONLY, ISSUER_ONLY; /* swtpm_localca's PEM files */
static ms_buf REQ;                          /* the supervisor's enrolment request */
static ms_buf CA_KEY, CA_CERT, CA2_KEY, CA2_CERT; /* two operators' AK CAs */
static int64_t NOW;
static const uint8_t BINDING[MS_BINDING_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

static int load(const char *path, ms_buf *out)
{
    ms_buf_init(out, MS_TPM2_MAX_CA_FILE);
    return e2e_file_read(path, out);
}

/* The request's parts, found without the library's parser. */
typedef struct parts {
    size_t off[3], len[3];
} parts;

static int split(const ms_buf *r, parts *p)
{
    size_t o = 1;
    for (int i = 0; i < 3; i++) {
        if (o + 2 > r->len) {
            return -1;
        }
        p->len[i] = (size_t)r->p[o] << 8 | r->p[o + 1];
        p->off[i] = o + 2;
        o += 2 + p->len[i];
    }
    return o == r->len ? 0 : -1;
}

static int unmarshal(const uint8_t *p, size_t n, TPMT_PUBLIC *out)
{
    size_t off = 0;
    return Tss2_MU_TPMT_PUBLIC_Unmarshal(p, n, &off, out) == TSS2_RC_SUCCESS && off == n ? 0 : -1;
}

/* A copy of REQ with part i replaced. */
static void request_with(int i, const uint8_t *p, size_t n, ms_buf *out)
{
    parts pt;
    ms_buf_init(out, MS_TPM2_MAX_ENROL);
    CHECK(split(&REQ, &pt) == 0);
    CHECK_OK(ms_buf_append_u8(out, MS_TPM2_ENROL_FORMAT));
    for (int k = 0; k < 3; k++) {
        const uint8_t *src = k == i ? p : REQ.p + pt.off[k];
        size_t len = k == i ? n : pt.len[k];
        CHECK_OK(ms_buf_append_u16be(out, (uint16_t)len));
        CHECK_OK(ms_buf_append(out, src, len));
    }
}

/* --- the EK certificate ------------------------------------------------------------------ */

static void test_ek_chain(void)
{
    uint8_t name[MS_TPM2_NAME_LEN], prod_name[MS_TPM2_NAME_LEN];
    CHECK_OK(ms_tpm2_enrol_check(REQ.p, REQ.len, ROOTS.p, ROOTS.len, NOW, name));
    /* the AK of the request is the producer's */
    struct ms_tpm2_producer *p = NULL;
    ms_tpm2_producer_cfg cfg = {.tcti = S.tcti, .pcr_mask = MASK};
    CHECK_OK(ms_tpm2_producer_new(&p, &cfg));
    ms_tpm2_producer_ak_name(p, prod_name);
    ms_tpm2_producer_free(p);
    CHECK_MEM(name, prod_name, MS_TPM2_NAME_LEN);
    /* the root alone lacks the issuer; the issuer alone is not a root; time before notBefore */
    CHECK_ERR(ms_tpm2_enrol_check(REQ.p, REQ.len, ROOT_ONLY.p, ROOT_ONLY.len, NOW, name),
              MS_ERR_TPM_EK_CHAIN);
    CHECK(name[0] == 0 && name[2] == 0);
    CHECK_ERR(ms_tpm2_enrol_check(REQ.p, REQ.len, ISSUER_ONLY.p, ISSUER_ONLY.len, NOW, name),
              MS_ERR_TPM_EK_CHAIN);
    CHECK_ERR(ms_tpm2_enrol_check(REQ.p, REQ.len, ROOTS.p, ROOTS.len, NOW - 86400 * 2, name),
              MS_ERR_TPM_EK_CHAIN);
    /* another root (an operator's CA made here) */
    CHECK_ERR(ms_tpm2_enrol_check(REQ.p, REQ.len, CA_CERT.p, CA_CERT.len, NOW, name),
              MS_ERR_TPM_EK_CHAIN);
    CHECK_ERR(ms_tpm2_enrol_check(REQ.p, REQ.len, (const uint8_t *)"no pem", 6, NOW, name),
              MS_ERR_CONFIG);
}

static void test_ek_cert_not_this_ek(void)
{
    parts pt;
    ms_buf r;
    uint8_t name[MS_TPM2_NAME_LEN];
    TPM2B_PUBLIC tmpl;
    TPMT_PUBLIC other;
    tpm2_conn c;
    CHECK(split(&REQ, &pt) == 0);
    /* another EK of the same TPM (the template with another unique): not the certified one */
    CHECK(tpm2_conn_open(&c, S.tcti) == 0);
    ms_tpm2_ek_template(&tmpl);
    tmpl.publicArea.unique.rsa.buffer[0] = 1;
    ESYS_TR h = tpm2_primary(&c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &other);
    CHECK(h != ESYS_TR_NONE);
    tpm2_flush(&c, h);
    tpm2_conn_close(&c);
    uint8_t m[sizeof(TPMT_PUBLIC)];
    size_t mn;
    CHECK_OK(ms_tpm2_public_marshal(&other, m, &mn));
    request_with(1, m, mn, &r);
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_EK_CERT);
    ms_buf_free(&r);
    /* the AK's public area in the EK's place: not an EK at all */
    request_with(1, REQ.p + pt.off[2], pt.len[2], &r);
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_EK_CERT);
    ms_buf_free(&r);
    /* the EK certificate damaged: a byte of its signature, its length, trailing data */
    uint8_t cert[MS_TPM2_MAX_EK_CERT + 1];
    memcpy(cert, REQ.p + pt.off[0], pt.len[0]);
    cert[pt.len[0] - 5] ^= 1;
    request_with(0, cert, pt.len[0], &r);
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_EK_CHAIN);
    ms_buf_free(&r);
    cert[pt.len[0] - 5] ^= 1;
    request_with(0, cert, pt.len[0] - 1, &r);
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_EK_CERT);
    ms_buf_free(&r);
    cert[pt.len[0]] = 0; /* zero padding, as TPMs leave in NV, is allowed */
    request_with(0, cert, pt.len[0] + 1, &r);
    CHECK_OK(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name));
    ms_buf_free(&r);
    cert[pt.len[0]] = 7;
    request_with(0, cert, pt.len[0] + 1, &r);
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_EK_CERT);
    ms_buf_free(&r);
    /* an unrestricted key in the AK's place */
    TPMT_PUBLIC ak;
    CHECK(unmarshal(REQ.p + pt.off[2], pt.len[2], &ak) == 0);
    ak.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
    CHECK_OK(ms_tpm2_public_marshal(&ak, m, &mn));
    request_with(2, m, mn, &r);
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_AK_ATTRS);
    ms_buf_free(&r);
}

static void test_request_format(void)
{
    uint8_t name[MS_TPM2_NAME_LEN];
    ms_buf r;
    ms_buf_init(&r, MS_TPM2_MAX_ENROL + 1);
    for (size_t n = 0; n < REQ.len; n++) { /* every truncation */
        CHECK_ERR(ms_tpm2_enrol_check(REQ.p, n, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_FORMAT);
    }
    CHECK_OK(ms_buf_append(&r, REQ.p, REQ.len));
    CHECK_OK(ms_buf_append_u8(&r, 0));
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len, ROOTS.p, ROOTS.len, NOW, name), MS_ERR_TPM_FORMAT);
    r.p[0] = 2;
    CHECK_ERR(ms_tpm2_enrol_check(r.p, r.len - 1, ROOTS.p, ROOTS.len, NOW, name),
              MS_ERR_TPM_FORMAT);
    ms_buf_free(&r);
}

/* --- credential activation --------------------------------------------------------------- */

static ms_err activate(const ms_buf *ch, ms_buf *resp)
{
    ms_buf_init(resp, 64);
    return ms_tpm2_enrol_activate(S.tcti, MS_TPM2_HIERARCHY_ENDORSEMENT, ch->p, ch->len, resp);
}

static void test_activation(void)
{
    uint8_t cred[MS_TPM2_ENROL_CRED_LEN], cred2[MS_TPM2_ENROL_CRED_LEN];
    ms_buf ch, resp, cert;
    ms_buf_init(&ch, MS_TPM2_MAX_ENROL);
    ms_buf_init(&cert, MS_TPM2_MAX_AK_CERT);
    CHECK_OK(ms_tpm2_enrol_credential(CA_KEY.p, CA_KEY.len, REQ.p, REQ.len, cred));
    CHECK_OK(ms_tpm2_enrol_credential(CA_KEY.p, CA_KEY.len, REQ.p, REQ.len, cred2));
    CHECK_MEM(cred, cred2, sizeof cred); /* no state between the two steps */
    CHECK_OK(ms_tpm2_enrol_credential(CA2_KEY.p, CA2_KEY.len, REQ.p, REQ.len, cred2));
    CHECK(memcmp(cred, cred2, sizeof cred) != 0);
    CHECK_OK(ms_tpm2_enrol_challenge(REQ.p, REQ.len, cred, &ch));
    CHECK(ch.len == 1 + 2 + 2 + 32 + 2 + 32 + 2 + 256);
    CHECK_OK(activate(&ch, &resp));
    CHECK(resp.len == MS_TPM2_ENROL_CRED_LEN);
    CHECK_MEM(resp.p, cred, sizeof cred);
    /* the operator issues the AK certificate only for the right response */
    CHECK_OK(ms_tpm2_enrol_issue(REQ.p, REQ.len, ROOTS.p, ROOTS.len, NOW, cred, resp.p, resp.len,
                                 CA_KEY.p, CA_KEY.len, CA_CERT.p, CA_CERT.len, NOW + 86400,
                                 &cert));
    CHECK(cert.len > 300);
    resp.p[3] ^= 1;
    CHECK_ERR(ms_tpm2_enrol_issue(REQ.p, REQ.len, ROOTS.p, ROOTS.len, NOW, cred, resp.p, resp.len,
                                  CA_KEY.p, CA_KEY.len, CA_CERT.p, CA_CERT.len, NOW + 86400,
                                  &cert),
              MS_ERR_TPM_ACTIVATION);
    CHECK_ERR(ms_tpm2_enrol_issue(REQ.p, REQ.len, ROOTS.p, ROOTS.len, NOW, cred, resp.p, 31,
                                  CA_KEY.p, CA_KEY.len, CA_CERT.p, CA_CERT.len, NOW + 86400,
                                  &cert),
              MS_ERR_TPM_ACTIVATION);
    /* a tampered challenge: the HMAC, the encrypted credential, the encrypted seed */
    size_t at[] = {6, 5 + 34 + 1, ch.len - 9};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        ms_buf bad;
        ch.p[at[i]] ^= 0x10;
        CHECK_ERR(activate(&ch, &bad), MS_ERR_TPM_ACTIVATION);
        CHECK(bad.len == 0);
        ch.p[at[i]] ^= 0x10;
        ms_buf_free(&bad);
    }
    ms_buf_free(&ch);
    ms_buf_free(&resp);
    ms_buf_free(&cert);
}

/* A credential made for another AK name, or for another EK, is refused by this TPM. */
static void test_activation_other_ak_or_ek(void)
{
    parts pt;
    TPMT_PUBLIC ek, other_ek;
    TPM2B_PUBLIC tmpl;
    TPM2B_ID_OBJECT blob;
    TPM2B_ENCRYPTED_SECRET secret;
    uint8_t cred[MS_TPM2_ENROL_CRED_LEN] = {9, 9, 9}, name[MS_TPM2_NAME_LEN];
    tpm2_conn c;
    CHECK(split(&REQ, &pt) == 0);
    CHECK(unmarshal(REQ.p + pt.off[1], pt.len[1], &ek) == 0);
    ms_tpm2_name_of(REQ.p + pt.off[2], pt.len[2], name);
    /* another name: the RSA AK of the tests */
    CHECK(tpm2_conn_open(&c, S.tcti) == 0);
    TPMT_PUBLIC rsa_ak;
    tpm2_template_rsa_ak(&tmpl);
    ESYS_TR h = tpm2_primary(&c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &rsa_ak);
    CHECK(h != ESYS_TR_NONE);
    tpm2_flush(&c, h);
    ms_tpm2_ek_template(&tmpl);
    tmpl.publicArea.unique.rsa.buffer[0] = 1;
    h = tpm2_primary(&c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &other_ek);
    CHECK(h != ESYS_TR_NONE);
    tpm2_flush(&c, h);
    tpm2_conn_close(&c);
    uint8_t m[sizeof(TPMT_PUBLIC)], other_name[MS_TPM2_NAME_LEN];
    size_t mn;
    CHECK_OK(ms_tpm2_public_marshal(&rsa_ak, m, &mn));
    ms_tpm2_name_of(m, mn, other_name);

    struct {
        const TPMT_PUBLIC *ek;
        const uint8_t *name;
    } cases[] = {{&ek, other_name}, {&other_ek, name}, {&ek, name}};
    for (size_t i = 0; i < 3; i++) {
        ms_buf ch, resp;
        ms_buf_init(&ch, MS_TPM2_MAX_ENROL);
        CHECK_OK(ms_tpm2_make_credential(cases[i].ek, cases[i].name, cred, sizeof cred, &blob,
                                         &secret));
        CHECK_OK(ms_buf_append_u8(&ch, MS_TPM2_ENROL_FORMAT));
        CHECK_OK(ms_buf_append_u16be(&ch, blob.size));
        CHECK_OK(ms_buf_append(&ch, blob.credential, blob.size));
        CHECK_OK(ms_buf_append_u16be(&ch, secret.size));
        CHECK_OK(ms_buf_append(&ch, secret.secret, secret.size));
        if (i < 2) {
            CHECK_ERR(activate(&ch, &resp), MS_ERR_TPM_ACTIVATION);
        } else { /* the control: the right EK and name */
            CHECK_OK(activate(&ch, &resp));
            CHECK_MEM(resp.p, cred, sizeof cred);
        }
        ms_buf_free(&ch);
        ms_buf_free(&resp);
    }
}

static void test_make_credential_args(void)
{
    parts pt;
    TPMT_PUBLIC ek, ak;
    TPM2B_ID_OBJECT blob;
    TPM2B_ENCRYPTED_SECRET secret;
    uint8_t cred[33] = {1}, name[MS_TPM2_NAME_LEN];
    CHECK(split(&REQ, &pt) == 0);
    CHECK(unmarshal(REQ.p + pt.off[1], pt.len[1], &ek) == 0);
    CHECK(unmarshal(REQ.p + pt.off[2], pt.len[2], &ak) == 0);
    ms_tpm2_name_of(REQ.p + pt.off[2], pt.len[2], name);
    CHECK_ERR(ms_tpm2_make_credential(&ek, name, cred, 0, &blob, &secret), MS_ERR_ARG);
    CHECK_ERR(ms_tpm2_make_credential(&ek, name, cred, 33, &blob, &secret), MS_ERR_ARG);
    CHECK(blob.size == 0 && secret.size == 0);
    CHECK_ERR(ms_tpm2_make_credential(&ek, name, NULL, 32, &blob, &secret), MS_ERR_ARG);
    name[1] = 0x04; /* SHA-1 names are not ours */
    CHECK_ERR(ms_tpm2_make_credential(&ek, name, cred, 32, &blob, &secret), MS_ERR_ARG);
    name[1] = 0x0B;
    CHECK_ERR(ms_tpm2_make_credential(&ak, name, cred, 32, &blob, &secret), MS_ERR_TPM_EK_CERT);
    TPMT_PUBLIC e = ek;
    e.nameAlg = TPM2_ALG_SHA1; /* an RSA EK template but for its name algorithm */
    CHECK_ERR(ms_tpm2_make_credential(&e, name, cred, 32, &blob, &secret), MS_ERR_TPM_EK_CERT);
    e = ek;
    e.parameters.rsaDetail.symmetric.keyBits.aes = 256;
    CHECK_ERR(ms_tpm2_make_credential(&e, name, cred, 32, &blob, &secret), MS_ERR_TPM_EK_CERT);
    e = ek;
    e.objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT;
    CHECK_ERR(ms_tpm2_make_credential(&e, name, cred, 32, &blob, &secret), MS_ERR_TPM_EK_CERT);
    e = ek;
    e.unique.rsa.size = 255;
    CHECK_ERR(ms_tpm2_make_credential(&e, name, cred, 32, &blob, &secret), MS_ERR_TPM_EK_CERT);
    /* a short credential is fine; two calls differ (fresh seed) */
    TPM2B_ID_OBJECT b2;
    TPM2B_ENCRYPTED_SECRET s2;
    CHECK_OK(ms_tpm2_make_credential(&ek, name, cred, 1, &blob, &secret));
    CHECK_OK(ms_tpm2_make_credential(&ek, name, cred, 1, &b2, &s2));
    CHECK(blob.size == 2 + 32 + 2 + 1 && secret.size == 256);
    CHECK(memcmp(secret.secret, s2.secret, 256) != 0);
}

/* --- AK certificates ---------------------------------------------------------------------- */

static void issue(const TPMT_PUBLIC *ak, const ms_buf *key, const ms_buf *ca, int64_t nb,
                  int64_t na, ms_buf *out)
{
    ms_buf_init(out, MS_TPM2_MAX_AK_CERT);
    CHECK_OK(ms_tpm2_ak_cert_issue(ak, key->p, key->len, ca->p, ca->len, nb, na, out));
}

static void test_ak_cert(void)
{
    parts pt;
    TPMT_PUBLIC ak, rsa_ak;
    TPM2B_PUBLIC tmpl;
    tpm2_conn c;
    ms_buf cert, other, old;
    CHECK(split(&REQ, &pt) == 0);
    CHECK(unmarshal(REQ.p + pt.off[2], pt.len[2], &ak) == 0);
    CHECK(tpm2_conn_open(&c, S.tcti) == 0);
    tpm2_template_rsa_ak(&tmpl);
    ESYS_TR h = tpm2_primary(&c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &rsa_ak);
    CHECK(h != ESYS_TR_NONE);
    tpm2_flush(&c, h);
    tpm2_conn_close(&c);
    issue(&ak, &CA_KEY, &CA_CERT, NOW - 60, NOW + 3600, &cert);
    issue(&rsa_ak, &CA2_KEY, &CA2_CERT, NOW - 60, NOW + 3600, &other);
    issue(&ak, &CA_KEY, &CA_CERT, NOW - 7200, NOW - 3600, &old);
    CHECK_OK(ms_tpm2_ak_cert_verify(cert.p, cert.len, CA_CERT.p, CA_CERT.len, &ak, NOW));
    CHECK_OK(ms_tpm2_ak_cert_verify(other.p, other.len, CA2_CERT.p, CA2_CERT.len, &rsa_ak, NOW));
    CHECK(ms_tpm2_ak_cert_key_is(cert.p, cert.len, &ak) && !ms_tpm2_ak_cert_key_is(cert.p, cert.len, &rsa_ak));
    /* another CA, another key, expired, not yet valid, damaged, trailing byte, no CA */
    CHECK_ERR(ms_tpm2_ak_cert_verify(cert.p, cert.len, CA2_CERT.p, CA2_CERT.len, &ak, NOW),
              MS_ERR_TPM_AK_CERT);
    CHECK_ERR(ms_tpm2_ak_cert_verify(cert.p, cert.len, CA_CERT.p, CA_CERT.len, &rsa_ak, NOW),
              MS_ERR_TPM_AK_CERT);
    CHECK_ERR(ms_tpm2_ak_cert_verify(other.p, other.len, CA_CERT.p, CA_CERT.len, &rsa_ak, NOW),
              MS_ERR_TPM_AK_CERT);
    CHECK_ERR(ms_tpm2_ak_cert_verify(old.p, old.len, CA_CERT.p, CA_CERT.len, &ak, NOW),
              MS_ERR_TPM_AK_CERT);
    CHECK_ERR(ms_tpm2_ak_cert_verify(cert.p, cert.len, CA_CERT.p, CA_CERT.len, &ak, NOW - 600),
              MS_ERR_TPM_AK_CERT);
    cert.p[cert.len - 3] ^= 1;
    CHECK_ERR(ms_tpm2_ak_cert_verify(cert.p, cert.len, CA_CERT.p, CA_CERT.len, &ak, NOW),
              MS_ERR_TPM_AK_CERT);
    cert.p[cert.len - 3] ^= 1;
    CHECK_OK(ms_buf_append_u8(&cert, 0));
    CHECK_ERR(ms_tpm2_ak_cert_verify(cert.p, cert.len, CA_CERT.p, CA_CERT.len, &ak, NOW),
              MS_ERR_TPM_AK_CERT);
    CHECK_ERR(ms_tpm2_ak_cert_verify(cert.p, cert.len - 1, NULL, 0, &ak, NOW), MS_ERR_TPM_AK_CERT);
    /* issuing: a key that is not the CA certificate's, an unrestricted key, dates reversed */
    ms_buf x;
    ms_buf_init(&x, MS_TPM2_MAX_AK_CERT);
    CHECK_ERR(ms_tpm2_ak_cert_issue(&ak, CA2_KEY.p, CA2_KEY.len, CA_CERT.p, CA_CERT.len, NOW,
                                    NOW + 1, &x),
              MS_ERR_CONFIG);
    TPMT_PUBLIC u = ak;
    u.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
    CHECK_ERR(ms_tpm2_ak_cert_issue(&u, CA_KEY.p, CA_KEY.len, CA_CERT.p, CA_CERT.len, NOW,
                                    NOW + 1, &x),
              MS_ERR_TPM_AK_ATTRS);
    CHECK_ERR(ms_tpm2_ak_cert_issue(&ak, CA_KEY.p, CA_KEY.len, CA_CERT.p, CA_CERT.len, NOW, NOW,
                                    &x),
              MS_ERR_ARG);
    /* an AK of the right shape whose point is not on P-256: no public key to certify */
    u = ak;
    u.unique.ecc.y.buffer[u.unique.ecc.y.size - 1] ^= 1;
    CHECK_ERR(ms_tpm2_ak_cert_issue(&u, CA_KEY.p, CA_KEY.len, CA_CERT.p, CA_CERT.len, NOW,
                                    NOW + 1, &x),
              MS_ERR_TPM_AK_ATTRS);
    CHECK(x.len == 0);
    ms_buf_free(&x);
    ms_buf_free(&cert);
    ms_buf_free(&other);
    ms_buf_free(&old);
}

/* --- quotes under a policy that pins the AK CA ------------------------------------------- */

/* A producer of the enrolled AK serving `cert`, and a policy pinning `ca` and its PCRs. */
static int quote_with(const ms_buf *cert, ms_tpm2_policy *pol, ms_buf *ev)
{
    struct ms_tpm2_producer *p = NULL;
    ms_tpm2_producer_cfg cfg = {.tcti = S.tcti, .pcr_mask = MASK};
    if (cert != NULL) {
        cfg.ak_cert = cert->p;
        cfg.ak_cert_len = cert->len;
    }
    ms_buf_init(ev, MS_TPM2_MAX_BUNDLE);
    int ok = ms_tpm2_producer_new(&p, &cfg) == MS_OK && ms_tpm2_producer_policy(p, pol) == MS_OK &&
             ms_tpm2_producer_quote(p, BINDING, ev) == MS_OK;
    ms_tpm2_producer_free(p);
    return ok ? 0 : -1;
}

static void test_quote_pinned_ca(void)
{
    parts pt;
    TPMT_PUBLIC ak, rsa_ak;
    TPM2B_PUBLIC tmpl;
    tpm2_conn c;
    ms_tpm2_policy pol;
    ms_buf cert, ev, plain, ev2, other_cert, wrong_cert;
    CHECK(split(&REQ, &pt) == 0);
    CHECK(unmarshal(REQ.p + pt.off[2], pt.len[2], &ak) == 0);
    issue(&ak, &CA_KEY, &CA_CERT, NOW - 60, NOW + 3600, &cert);
    CHECK(quote_with(&cert, &pol, &ev) == 0);
    CHECK(ev.p[0] == MS_TPM2_FORMAT_AK_CERT);
    CHECK(quote_with(NULL, &pol, &plain) == 0);
    CHECK(plain.p[0] == MS_TPM2_FORMAT && ev.len == plain.len + 2 + cert.len);
    /* pinned by name, both formats verify (the certificate is then not looked at) */
    CHECK_OK(ms_tpm2_verify(&pol, ev.p, ev.len, BINDING));
    CHECK_OK(ms_tpm2_verify(&pol, plain.p, plain.len, BINDING));
    /* pinned by CA: the name is not used; the certificate must be there and chain */
    memset(pol.ak_name, 0, sizeof pol.ak_name);
    pol.ak_ca_pem = CA_CERT.p;
    pol.ak_ca_pem_len = CA_CERT.len;
    CHECK_OK(ms_tpm2_verify_at(&pol, ev.p, ev.len, BINDING, NOW));
    CHECK_OK(ms_tpm2_verify(&pol, ev.p, ev.len, BINDING));
    CHECK_ERR(ms_tpm2_verify_at(&pol, ev.p, ev.len, BINDING, NOW + 7200), MS_ERR_TPM_AK_CERT);
    CHECK_ERR(ms_tpm2_verify_at(&pol, plain.p, plain.len, BINDING, NOW), MS_ERR_TPM_AK_CERT);
    /* earlier checks still come first */
    uint8_t b2[MS_BINDING_LEN] = {0};
    CHECK_ERR(ms_tpm2_verify_at(&pol, ev.p, ev.len, b2, NOW), MS_ERR_TPM_NONCE);
    pol.ak_ca_pem_len = 0;
    CHECK_ERR(ms_tpm2_verify_at(&pol, ev.p, ev.len, BINDING, NOW), MS_ERR_ARG);
    pol.ak_ca_pem_len = CA_CERT.len;

    /* another AK (the RSA AK) with a certificate by another CA: refused */
    CHECK(tpm2_conn_open(&c, S.tcti) == 0);
    tpm2_template_rsa_ak(&tmpl);
    ESYS_TR h = tpm2_primary(&c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &rsa_ak);
    CHECK(h != ESYS_TR_NONE);
    ms_buf_init(&ev2, MS_TPM2_MAX_BUNDLE);
    CHECK(tpm2_quote_bundle(&c, h, &rsa_ak, MASK, BINDING, &ev2) == 0);
    tpm2_flush(&c, h);
    tpm2_conn_close(&c);
    issue(&rsa_ak, &CA2_KEY, &CA2_CERT, NOW - 60, NOW + 3600, &other_cert);
    CHECK_OK(ms_tpm2_bundle_add_cert(&ev2, 0, other_cert.p, other_cert.len));
    CHECK_ERR(ms_tpm2_verify_at(&pol, ev2.p, ev2.len, BINDING, NOW), MS_ERR_TPM_AK_CERT);
    /* ... which the other CA accepts (the control) */
    ms_tpm2_policy pol2 = pol;
    pol2.ak_ca_pem = CA2_CERT.p;
    pol2.ak_ca_pem_len = CA2_CERT.len;
    CHECK_OK(ms_tpm2_verify_at(&pol2, ev2.p, ev2.len, BINDING, NOW));
    /* the other AK carrying the enrolled AK's genuine certificate: not its key */
    ms_buf_init(&wrong_cert, MS_TPM2_MAX_BUNDLE);
    CHECK_OK(ms_buf_append(&wrong_cert, ev2.p, ev2.len - 2 - other_cert.len));
    wrong_cert.p[0] = MS_TPM2_FORMAT;
    CHECK_OK(ms_tpm2_bundle_add_cert(&wrong_cert, 0, cert.p, cert.len));
    CHECK_ERR(ms_tpm2_verify_at(&pol, wrong_cert.p, wrong_cert.len, BINDING, NOW),
              MS_ERR_TPM_AK_CERT);
    /* a producer refuses a certificate of another key at start */
    struct ms_tpm2_producer *p = NULL;
    ms_tpm2_producer_cfg cfg = {.tcti = S.tcti, .pcr_mask = MASK, .ak_cert = other_cert.p,
                                .ak_cert_len = other_cert.len};
    CHECK_ERR(ms_tpm2_producer_new(&p, &cfg), MS_ERR_TPM_AK_CERT);
    CHECK(p == NULL);
    /* checks by name for the offline tool */
    ms_tpm2_checks ck;
    CHECK_OK(ms_tpm2_verify_checks(&pol, ev.p, ev.len, BINDING, &ck));
    CHECK(ck.ran[MS_TPM2_CHECK_AK_CERT] && !ck.ran[MS_TPM2_CHECK_AK_NAME]);
    CHECK_ERR(ms_tpm2_verify_checks(&pol, ev2.p, ev2.len, BINDING, &ck), MS_ERR_TPM_AK_CERT);
    CHECK(ck.result[MS_TPM2_CHECK_SIGNATURE] == MS_OK);
    CHECK(strcmp(ms_tpm2_check_name(MS_TPM2_CHECK_AK_CERT), "ak-certificate") == 0);
    ms_buf_free(&cert);
    ms_buf_free(&ev);
    ms_buf_free(&plain);
    ms_buf_free(&ev2);
    ms_buf_free(&other_cert);
    ms_buf_free(&wrong_cert);
}

/* The whole client path: a policy file pinning the AK CA, the handshake's verifier, inspect. */
static void test_policy_file(void)
{
    char path[PATH_MAX], json[512];
    parts pt;
    TPMT_PUBLIC ak;
    ms_tpm2_policy enrolled;
    ms_buf cert, ev;
    ms_attest_policy pol;
    CHECK(split(&REQ, &pt) == 0);
    CHECK(unmarshal(REQ.p + pt.off[2], pt.len[2], &ak) == 0);
    issue(&ak, &CA_KEY, &CA_CERT, NOW - 60, NOW + 3600, &cert);
    CHECK(quote_with(&cert, &enrolled, &ev) == 0);
    e2e_path(path, "%s/akca.pem", S.dir);
    CHECK(ms_buf_terminate(&CA_CERT) == MS_OK && e2e_file_write(path, (char *)CA_CERT.p) == 0);
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_ca_pem\":"
             "\"akca.pem\",\"pcrs\":{\"0\":\"%s\",\"1\":\"%s\"}}}",
             "0000000000000000000000000000000000000000000000000000000000000000",
             "0000000000000000000000000000000000000000000000000000000000000000");
    e2e_path(path, "%s/policy.json", S.dir);
    CHECK(e2e_file_write(path, json) == 0);
    ms_attest_policy_init(&pol);
    CHECK_OK(ms_attest_policy_load(&pol, path));
    ms_evidence_view v = {.type = MS_EVIDENCE_TPM2_QUOTE, .mode = MS_MODE_STRICT, .data = ev.p,
                          .len = ev.len, .not_after = (uint64_t)NOW + 60, .now = (uint64_t)NOW,
                          .binding = BINDING};
    CHECK_OK(ms_attest_policy_verify(&pol, &v));
    v.now = (uint64_t)NOW + 7200; /* the AK certificate has expired by then */
    v.not_after = v.now + 60;
    CHECK_ERR(ms_attest_policy_verify(&pol, &v), MS_ERR_TPM_AK_CERT);
    ms_inspect_in in = {.type = MS_EVIDENCE_TPM2_QUOTE, .data = ev.p, .len = ev.len,
                        .binding = BINDING, .policy = &pol};
    ms_inspect out;
    CHECK_OK(ms_attest_inspect(&in, &out));
    ms_attest_policy_free(&pol);
    ms_buf_free(&cert);
    ms_buf_free(&ev);
}

/* Figures for docs/attest-tpm2.md §7 (printed, never asserted). */
static void test_timings(void)
{
    parts pt;
    TPMT_PUBLIC ak;
    ms_tpm2_policy pol;
    ms_buf cert, ev, ch, resp, req;
    uint8_t cred[MS_TPM2_ENROL_CRED_LEN] = {7};
    CHECK(split(&REQ, &pt) == 0);
    CHECK(unmarshal(REQ.p + pt.off[2], pt.len[2], &ak) == 0);
    issue(&ak, &CA_KEY, &CA_CERT, NOW - 60, NOW + 3600, &cert);
    CHECK(quote_with(&cert, &pol, &ev) == 0);
    ms_buf_init(&req, MS_TPM2_MAX_ENROL);
    ms_buf_init(&ch, MS_TPM2_MAX_ENROL);
    double t0 = tpm2_now_ms();
    CHECK_OK(ms_tpm2_enrol_request(S.tcti, MS_TPM2_HIERARCHY_ENDORSEMENT, &req));
    double t1 = tpm2_now_ms();
    CHECK_OK(ms_tpm2_enrol_challenge(REQ.p, REQ.len, cred, &ch));
    double t2 = tpm2_now_ms();
    CHECK_OK(activate(&ch, &resp));
    double t3 = tpm2_now_ms();
    enum { N = 50 };
    for (int i = 0; i < N; i++) {
        CHECK_OK(ms_tpm2_verify_at(&pol, ev.p, ev.len, BINDING, NOW));
    }
    double t4 = tpm2_now_ms();
    pol.ak_ca_pem = CA_CERT.p;
    pol.ak_ca_pem_len = CA_CERT.len;
    for (int i = 0; i < N; i++) {
        CHECK_OK(ms_tpm2_verify_at(&pol, ev.p, ev.len, BINDING, NOW));
    }
    double t5 = tpm2_now_ms();
    fprintf(stderr, "  request %.1f ms, challenge %.2f ms, activation %.1f ms; verify by name "
                    "%.3f ms, by AK CA %.3f ms\n",
            t1 - t0, t2 - t1, t3 - t2, (t4 - t3) / N, (t5 - t4) / N);
    CHECK(req.len == REQ.len);
    ms_buf_free(&req);
    ms_buf_free(&ch);
    ms_buf_free(&resp);
    ms_buf_free(&cert);
    ms_buf_free(&ev);
}

/* The bundle format 0x02: the certificate part is length-checked like the others. */
static void test_bundle_cert_format(void)
{
    ms_tpm2_policy pol;
    ms_buf ev, cert;
    parts pt;
    TPMT_PUBLIC ak;
    ms_tpm2_bundle b;
    CHECK(split(&REQ, &pt) == 0);
    CHECK(unmarshal(REQ.p + pt.off[2], pt.len[2], &ak) == 0);
    issue(&ak, &CA_KEY, &CA_CERT, NOW - 60, NOW + 3600, &cert);
    CHECK(quote_with(&cert, &pol, &ev) == 0);
    CHECK_OK(ms_tpm2_bundle_parse(ev.p, ev.len, &b));
    CHECK(b.ak_cert_len == cert.len && memcmp(b.ak_cert, cert.p, cert.len) == 0);
    for (size_t n = 0; n < ev.len; n++) {
        CHECK_ERR(ms_tpm2_bundle_parse(ev.p, n, &b), MS_ERR_TPM_FORMAT);
    }
    CHECK_OK(ms_buf_append_u8(&ev, 0));
    CHECK_ERR(ms_tpm2_bundle_parse(ev.p, ev.len, &b), MS_ERR_TPM_FORMAT);
    /* an empty certificate part */
    size_t base = ev.len - 1 - 2 - cert.len;
    ev.p[base] = 0;
    ev.p[base + 1] = 0;
    CHECK_ERR(ms_tpm2_bundle_parse(ev.p, base + 2, &b), MS_ERR_TPM_FORMAT);
    /* format 0x03 */
    ev.p[0] = 3;
    CHECK_ERR(ms_tpm2_bundle_parse(ev.p, ev.len - 1, &b), MS_ERR_TPM_FORMAT);
    /* add_cert: only onto a format-0x01 bundle, and within the caps */
    CHECK_ERR(ms_tpm2_bundle_add_cert(&ev, 0, cert.p, cert.len), MS_ERR_ARG);
    ev.p[0] = MS_TPM2_FORMAT;
    CHECK_ERR(ms_tpm2_bundle_add_cert(&ev, 0, cert.p, MS_TPM2_MAX_AK_CERT + 1), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_tpm2_bundle_add_cert(&ev, 0, cert.p, 0), MS_ERR_CAP_EXCEEDED);
    ms_buf_free(&ev);
    ms_buf_free(&cert);
}

/* Seeds for tests/fuzz/fuzz_tpm2_enrol: a request and a challenge; prints the roots to paste. */
static int write_corpus(const char *dir)
{
    char p[PATH_MAX];
    uint8_t cred[MS_TPM2_ENROL_CRED_LEN] = {0x5a};
    ms_buf ch;
    ms_buf_init(&ch, MS_TPM2_MAX_ENROL);
    e2e_path(p, "%s/request.bin", dir);
    int ok = ms_buf_terminate(&REQ) == MS_OK &&
             ms_file_write_new(p, REQ.p, REQ.len, 0644) == MS_OK &&
             ms_tpm2_enrol_challenge(REQ.p, REQ.len, cred, &ch) == MS_OK;
    e2e_path(p, "%s/challenge.bin", dir);
    ok = ok && ms_file_write_new(p, ch.p, ch.len, 0644) == MS_OK && ms_buf_terminate(&ROOTS) == MS_OK;
    if (ok) {
        printf("roots for fuzz_tpm2_enrol.c:\n%s", (const char *)ROOTS.p);
    }
    ms_buf_free(&ch);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    setenv("TSS2_LOG", "all+none", 0);
    if (e2e_swtpm_start_ek(&S) != 0) {
        fprintf(stderr, "swtpm with EK certificates did not start\n");
        return 1;
    }
    CHECK(load(S.ek_roots, &ROOTS) == 0 && load(S.ek_root, &ROOT_ONLY) == 0 &&
          load(S.ek_issuer, &ISSUER_ONLY) == 0);
    CHECK(snp_fx_ca_pem(snp_fx_p384_key(0), "Test AK CA", &CA_KEY, &CA_CERT));
    CHECK(snp_fx_ca_pem(snp_fx_p384_key(1), "Other AK CA", &CA2_KEY, &CA2_CERT));
    ms_buf_init(&REQ, MS_TPM2_MAX_ENROL);
    CHECK_OK(ms_tpm2_enrol_request(S.tcti, MS_TPM2_HIERARCHY_ENDORSEMENT, &REQ));
    NOW = (int64_t)time(NULL) + 2; /* after every certificate made above began its validity */
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
        int r = write_corpus(argv[2]);
        e2e_swtpm_stop(&S);
        return r;
    }
    RUN(test_ek_chain);
    RUN(test_ek_cert_not_this_ek);
    RUN(test_request_format);
    RUN(test_activation);
    RUN(test_activation_other_ak_or_ek);
    RUN(test_make_credential_args);
    RUN(test_ak_cert);
    RUN(test_quote_pinned_ca);
    RUN(test_bundle_cert_format);
    RUN(test_policy_file);
    RUN(test_timings);
    /* nothing left loaded by the enrolment steps */
    tpm2_conn c;
    CHECK(tpm2_conn_open(&c, S.tcti) == 0);
    CHECK(tpm2_transient_count(&c) == 0);
    tpm2_conn_close(&c);
    e2e_swtpm_stop(&S);
    ms_buf_free(&ROOTS);
    ms_buf_free(&ROOT_ONLY);
    ms_buf_free(&ISSUER_ONLY);
    ms_buf_free(&REQ);
    ms_buf_free(&CA_KEY);
    ms_buf_free(&CA_CERT);
    ms_buf_free(&CA2_KEY);
    ms_buf_free(&CA2_CERT);
    snp_fx_keys_free();
    return TEST_SUMMARY();
}

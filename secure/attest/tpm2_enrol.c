/* AK enrolment by credential activation (docs/attest-tpm2.md §7): request, challenge, response. */
#include "secure/attest/tpm2_enrol.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "common/check.h"
#include "common/cursor.h"
#include "common/limits.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_ek.h"
#include "secure/attest/tpm2_esys.h"
#include "secure/attest/tpm2_producer.h"

#define AK_CERT_BACKDATE 3600 /* seconds: tolerate a verifier's clock running a little late */

/* A decoded request; the pointers borrow from the input. */
typedef struct request {
    const uint8_t *ek_cert;
    size_t ek_cert_len;
    TPMT_PUBLIC ek, ak;
    const uint8_t *ak_bytes;
    size_t ak_len;
} request;

static ms_err read_part(ms_cursor *c, const uint8_t **p, size_t *n)
{
    uint16_t len;
    TRY(ms_cursor_read_u16be(c, &len));
    *n = len;
    return ms_cursor_borrow(c, p, len);
}

static ms_err unmarshal_public(const uint8_t *p, size_t n, TPMT_PUBLIC *out)
{
    size_t off = 0;
    ENSURE(Tss2_MU_TPMT_PUBLIC_Unmarshal(p, n, &off, out) == TSS2_RC_SUCCESS && off == n,
           MS_ERR_TPM_FORMAT);
    return MS_OK;
}

static ms_err parse_request(const uint8_t *req, size_t len, request *r)
{
    const uint8_t *ek;
    size_t ek_len;
    uint8_t format;
    memset(r, 0, sizeof *r);
    ENSURE(req != NULL && len <= MS_TPM2_MAX_ENROL, MS_ERR_TPM_FORMAT);
    ms_cursor c = ms_cursor_init(req, len);
    if (ms_cursor_read_u8(&c, &format) != MS_OK || format != MS_TPM2_ENROL_FORMAT ||
        read_part(&c, &r->ek_cert, &r->ek_cert_len) != MS_OK ||
        read_part(&c, &ek, &ek_len) != MS_OK ||
        read_part(&c, &r->ak_bytes, &r->ak_len) != MS_OK || ms_cursor_expect_end(&c) != MS_OK ||
        r->ek_cert_len == 0 || r->ek_cert_len > MS_TPM2_MAX_EK_CERT) {
        return MS_ERR_TPM_FORMAT;
    }
    TRY(unmarshal_public(ek, ek_len, &r->ek));
    return unmarshal_public(r->ak_bytes, r->ak_len, &r->ak);
}

static ms_err parse_challenge(const uint8_t *ch, size_t len, TPM2B_ID_OBJECT *blob,
                              TPM2B_ENCRYPTED_SECRET *secret)
{
    const uint8_t *b, *s;
    size_t b_len, s_len;
    uint8_t format;
    ENSURE(ch != NULL && len <= MS_TPM2_MAX_ENROL, MS_ERR_TPM_FORMAT);
    ms_cursor c = ms_cursor_init(ch, len);
    if (ms_cursor_read_u8(&c, &format) != MS_OK || format != MS_TPM2_ENROL_FORMAT ||
        read_part(&c, &b, &b_len) != MS_OK || read_part(&c, &s, &s_len) != MS_OK ||
        ms_cursor_expect_end(&c) != MS_OK || b_len == 0 || b_len > sizeof blob->credential ||
        s_len == 0 || s_len > sizeof secret->secret) {
        return MS_ERR_TPM_FORMAT;
    }
    blob->size = (UINT16)b_len;
    memcpy(blob->credential, b, b_len);
    secret->size = (UINT16)s_len;
    memcpy(secret->secret, s, s_len);
    return MS_OK;
}

static ms_err append_part(ms_buf *out, const uint8_t *p, size_t n)
{
    ENSURE(n <= UINT16_MAX, MS_ERR_CAP_EXCEEDED);
    TRY(ms_buf_append_u16be(out, (uint16_t)n));
    return ms_buf_append(out, p, n);
}

/* --- the supervisor host ------------------------------------------------------------------ */

typedef struct keys {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR ek, ak;
    TPMT_PUBLIC ek_pub, ak_pub;
} keys;

static void keys_close(keys *k)
{
    if (k->ak != ESYS_TR_NONE) {
        (void)Esys_FlushContext(k->esys, k->ak);
    }
    if (k->ek != ESYS_TR_NONE) {
        (void)Esys_FlushContext(k->esys, k->ek);
    }
    k->ak = k->ek = ESYS_TR_NONE;
    ms_tpm2_esys_close(&k->tcti, &k->esys);
}

/* Open the TPM and make the EK and the producer's AK again (both primary keys). */
static ms_err keys_open(keys *k, const char *tcti, uint8_t hierarchy)
{
    TPM2B_PUBLIC ek_tmpl, ak_tmpl;
    memset(k, 0, sizeof *k);
    k->ek = k->ak = ESYS_TR_NONE;
    ENSURE(hierarchy <= MS_TPM2_HIERARCHY_OWNER, MS_ERR_ARG);
    ms_tpm2_ek_template(&ek_tmpl);
    ms_tpm2_ak_template(&ak_tmpl);
    ESYS_TR h = hierarchy == MS_TPM2_HIERARCHY_OWNER ? ESYS_TR_RH_OWNER : ESYS_TR_RH_ENDORSEMENT;
    ms_err err = ms_tpm2_esys_open(tcti, &k->tcti, &k->esys);
    if (err == MS_OK) {
        err = ms_tpm2_esys_primary(k->esys, ESYS_TR_RH_ENDORSEMENT, &ek_tmpl, &k->ek, &k->ek_pub);
    }
    if (err == MS_OK) {
        err = ms_tpm2_esys_primary(k->esys, h, &ak_tmpl, &k->ak, &k->ak_pub);
    }
    if (err != MS_OK) {
        keys_close(k);
    }
    return err;
}

static ms_err write_request(keys *k, ms_buf *out)
{
    uint8_t ek[sizeof(TPMT_PUBLIC)], ak[sizeof(TPMT_PUBLIC)];
    size_t ek_len, ak_len;
    ms_buf cert;
    ms_buf_init(&cert, MS_TPM2_MAX_EK_CERT);
    ms_err err = ms_tpm2_esys_nv_read(k->esys, MS_TPM2_EK_NV_RSA2048, MS_TPM2_MAX_EK_CERT, &cert);
    if (err == MS_OK) {
        err = ms_tpm2_public_marshal(&k->ek_pub, ek, &ek_len);
    }
    if (err == MS_OK) {
        err = ms_tpm2_public_marshal(&k->ak_pub, ak, &ak_len);
    }
    if (err == MS_OK) {
        err = ms_buf_append_u8(out, MS_TPM2_ENROL_FORMAT);
    }
    if (err == MS_OK) {
        err = append_part(out, cert.p, cert.len);
    }
    if (err == MS_OK) {
        err = append_part(out, ek, ek_len);
    }
    if (err == MS_OK) {
        err = append_part(out, ak, ak_len);
    }
    ms_buf_free(&cert);
    return err;
}

ms_err ms_tpm2_enrol_request(const char *tcti, uint8_t hierarchy, ms_buf *out)
{
    keys k;
    TRY(keys_open(&k, tcti, hierarchy));
    size_t start = out->len;
    ms_err err = write_request(&k, out);
    if (err != MS_OK && out->len > start && ms_buf_shrink(out, out->len - start) != MS_OK) {
        err = MS_ERR_INTERNAL;
    }
    keys_close(&k);
    return err;
}

ms_err ms_tpm2_enrol_activate(const char *tcti, uint8_t hierarchy, const uint8_t *challenge,
                              size_t len, ms_buf *out)
{
    TPM2B_ID_OBJECT blob;
    TPM2B_ENCRYPTED_SECRET secret;
    uint8_t cred[32];
    size_t n = 0;
    keys k;
    TRY(parse_challenge(challenge, len, &blob, &secret));
    TRY(keys_open(&k, tcti, hierarchy));
    ms_err err = ms_tpm2_esys_activate(k.esys, k.ak, k.ek, &blob, &secret, cred, &n);
    keys_close(&k);
    if (err == MS_OK) {
        err = n == MS_TPM2_ENROL_CRED_LEN ? ms_buf_append(out, cred, n) : MS_ERR_TPM_ACTIVATION;
    }
    ms_wipe(cred, sizeof cred);
    return err;
}

/* --- the operator ------------------------------------------------------------------------- */

static ms_err check(const uint8_t *req, size_t len, const uint8_t *roots_pem, size_t roots_len,
                    int64_t now, request *r)
{
    TRY(parse_request(req, len, r));
    TRY(ms_tpm2_ek_cert_verify(r->ek_cert, r->ek_cert_len, roots_pem, roots_len, &r->ek, now));
    return ms_tpm2_ak_check(&r->ak);
}

ms_err ms_tpm2_enrol_check(const uint8_t *req, size_t len, const uint8_t *roots_pem,
                           size_t roots_len, int64_t now, uint8_t ak_name[static MS_TPM2_NAME_LEN])
{
    request r;
    memset(ak_name, 0, MS_TPM2_NAME_LEN);
    TRY(check(req, len, roots_pem, roots_len, now, &r));
    ms_tpm2_name_of(r.ak_bytes, r.ak_len, ak_name);
    return MS_OK;
}

ms_err ms_tpm2_enrol_credential(const uint8_t *ca_key_pem, size_t ca_key_len, const uint8_t *req,
                                size_t len, uint8_t cred[static MS_TPM2_ENROL_CRED_LEN])
{
    static const char label[] = "minions-secure tpm2 enrol";
    uint8_t key[MS_TPM2_DIGEST_LEN], msg[sizeof label - 1 + MS_TPM2_DIGEST_LEN];
    unsigned n = 0;
    memset(cred, 0, MS_TPM2_ENROL_CRED_LEN);
    ENSURE(ca_key_pem != NULL && ca_key_len > 0 && req != NULL && len <= MS_TPM2_MAX_ENROL,
           MS_ERR_ARG);
    memcpy(msg, label, sizeof label - 1);
    TRY(ms_tpm2_sha256(req, len, msg + sizeof label - 1));
    TRY(ms_tpm2_sha256(ca_key_pem, ca_key_len, key));
    int ok = HMAC(EVP_sha256(), key, sizeof key, msg, sizeof msg, cred, &n) != NULL &&
             n == MS_TPM2_ENROL_CRED_LEN;
    ms_wipe(key, sizeof key);
    if (!ok) {
        ms_wipe(cred, MS_TPM2_ENROL_CRED_LEN);
    }
    return ok ? MS_OK : MS_ERR_INTERNAL;
}

ms_err ms_tpm2_enrol_challenge(const uint8_t *req, size_t len,
                               const uint8_t cred[static MS_TPM2_ENROL_CRED_LEN], ms_buf *out)
{
    request r;
    uint8_t name[MS_TPM2_NAME_LEN];
    TPM2B_ID_OBJECT blob;
    TPM2B_ENCRYPTED_SECRET secret;
    TRY(parse_request(req, len, &r));
    ms_tpm2_name_of(r.ak_bytes, r.ak_len, name);
    TRY(ms_tpm2_make_credential(&r.ek, name, cred, MS_TPM2_ENROL_CRED_LEN, &blob, &secret));
    size_t start = out->len;
    ms_err err = ms_buf_append_u8(out, MS_TPM2_ENROL_FORMAT);
    if (err == MS_OK) {
        err = append_part(out, blob.credential, blob.size);
    }
    if (err == MS_OK) {
        err = append_part(out, secret.secret, secret.size);
    }
    if (err != MS_OK && out->len > start && ms_buf_shrink(out, out->len - start) != MS_OK) {
        err = MS_ERR_INTERNAL;
    }
    return err;
}

ms_err ms_tpm2_enrol_issue(const uint8_t *req, size_t len, const uint8_t *roots_pem,
                           size_t roots_len, int64_t now,
                           const uint8_t cred[static MS_TPM2_ENROL_CRED_LEN],
                           const uint8_t *response, size_t response_len, const uint8_t *ca_key_pem,
                           size_t ca_key_len, const uint8_t *ca_cert_pem, size_t ca_cert_len,
                           int64_t not_after, ms_buf *out)
{
    request r;
    TRY(check(req, len, roots_pem, roots_len, now, &r));
    ENSURE(response != NULL && response_len == MS_TPM2_ENROL_CRED_LEN &&
               ms_ct_equal(response, cred, MS_TPM2_ENROL_CRED_LEN),
           MS_ERR_TPM_ACTIVATION);
    return ms_tpm2_ak_cert_issue(&r.ak, ca_key_pem, ca_key_len, ca_cert_pem, ca_cert_len,
                                 now - AK_CERT_BACKDATE, not_after, out);
}

/* Quote bundle codec (docs/attest-tpm2.md §2): the envelope by cursor, TPM structures by tss2-mu. */
#include "secure/attest/tpm2_bundle.h"

#include <openssl/evp.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "common/check.h"
#include "common/cursor.h"

_Static_assert(MS_TPM2_DIGEST_LEN == TPM2_SHA256_DIGEST_SIZE, "SHA-256 size");
_Static_assert(MS_TPM2_NUM_PCRS == 8 * 3, "3 select bytes cover the PCRs");
_Static_assert(MS_TPM2_NAME_LEN == 2 + TPM2_SHA256_DIGEST_SIZE, "name size");

#define SELECT_BYTES 3u

/* One u16-length-prefixed part of the envelope, borrowed. */
static ms_err read_part(ms_cursor *c, const uint8_t **p, size_t *n)
{
    uint16_t len;
    TRY(ms_cursor_read_u16be(c, &len));
    *n = len;
    return ms_cursor_borrow(c, p, len);
}

/* quoted = u16 size || TPMS_ATTEST, the size covering exactly the rest of the part. */
static ms_err parse_quoted(const uint8_t *p, size_t n, ms_tpm2_bundle *b)
{
    ms_cursor c = ms_cursor_init(p, n);
    uint16_t size;
    TRY(ms_cursor_read_u16be(&c, &size));
    TRY(ms_cursor_borrow(&c, &b->attest_bytes, size));
    TRY(ms_cursor_expect_end(&c));
    b->attest_len = size;
    size_t off = 0;
    TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(b->attest_bytes, size, &off, &b->attest);
    ENSURE(rc == TSS2_RC_SUCCESS && off == size, MS_ERR_TPM_FORMAT);
    return MS_OK;
}

static ms_err parse_sig(const uint8_t *p, size_t n, TPMT_SIGNATURE *sig)
{
    size_t off = 0;
    TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(p, n, &off, sig);
    ENSURE(rc == TSS2_RC_SUCCESS && off == n, MS_ERR_TPM_FORMAT);
    return MS_OK;
}

static ms_err parse_public(const uint8_t *p, size_t n, TPMT_PUBLIC *pub)
{
    size_t off = 0;
    TSS2_RC rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(p, n, &off, pub);
    ENSURE(rc == TSS2_RC_SUCCESS && off == n, MS_ERR_TPM_FORMAT);
    return MS_OK;
}

static ms_err parse(const uint8_t *ev, size_t len, ms_tpm2_bundle *b)
{
    ENSURE(ev != NULL && len <= MS_TPM2_MAX_BUNDLE, MS_ERR_TPM_FORMAT);
    ms_cursor c = ms_cursor_init(ev, len);
    uint8_t format;
    const uint8_t *quoted, *sig;
    size_t quoted_len, sig_len, values_len;
    TRY(ms_cursor_read_u8(&c, &format));
    ENSURE(format == MS_TPM2_FORMAT || format == MS_TPM2_FORMAT_AK_CERT, MS_ERR_TPM_FORMAT);
    TRY(read_part(&c, &quoted, &quoted_len));
    TRY(read_part(&c, &sig, &sig_len));
    TRY(read_part(&c, &b->ak_bytes, &b->ak_len));
    TRY(read_part(&c, &b->pcr_values, &values_len));
    if (format == MS_TPM2_FORMAT_AK_CERT) {
        TRY(read_part(&c, &b->ak_cert, &b->ak_cert_len));
        ENSURE(b->ak_cert_len > 0 && b->ak_cert_len <= MS_TPM2_MAX_AK_CERT, MS_ERR_TPM_FORMAT);
    }
    TRY(ms_cursor_expect_end(&c));
    ENSURE(values_len % MS_TPM2_DIGEST_LEN == 0 &&
               values_len / MS_TPM2_DIGEST_LEN <= MS_TPM2_NUM_PCRS,
           MS_ERR_TPM_FORMAT);
    b->n_pcr = values_len / MS_TPM2_DIGEST_LEN;
    TRY(parse_quoted(quoted, quoted_len, b));
    TRY(parse_sig(sig, sig_len, &b->sig));
    return parse_public(b->ak_bytes, b->ak_len, &b->ak);
}

ms_err ms_tpm2_bundle_parse(const uint8_t *ev, size_t len, ms_tpm2_bundle *out)
{
    memset(out, 0, sizeof *out);
    if (parse(ev, len, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_TPM_FORMAT; /* a short cursor read is a format error like any other */
    }
    return MS_OK;
}

static ms_err append_part(ms_buf *out, const uint8_t *p, size_t n)
{
    ENSURE(n <= UINT16_MAX, MS_ERR_CAP_EXCEEDED);
    TRY(ms_buf_append_u16be(out, (uint16_t)n));
    return n ? ms_buf_append(out, p, n) : MS_OK;
}

static ms_err append_all(ms_buf *out, const uint8_t *quoted, size_t quoted_len,
                         const uint8_t *sig, size_t sig_len, const uint8_t *ak, size_t ak_len,
                         const uint8_t *values, size_t values_len)
{
    TRY(ms_buf_append_u8(out, MS_TPM2_FORMAT));
    TRY(append_part(out, quoted, quoted_len));
    TRY(append_part(out, sig, sig_len));
    TRY(append_part(out, ak, ak_len));
    return append_part(out, values, values_len);
}

ms_err ms_tpm2_bundle_write_raw(const uint8_t *quoted, size_t quoted_len, const uint8_t *sig,
                                size_t sig_len, const uint8_t *ak, size_t ak_len,
                                const uint8_t *values, size_t n, ms_buf *out)
{
    ENSURE(n <= MS_TPM2_NUM_PCRS && quoted_len <= MS_TPM2_MAX_BUNDLE &&
               sig_len <= MS_TPM2_MAX_BUNDLE && ak_len <= MS_TPM2_MAX_BUNDLE,
           MS_ERR_CAP_EXCEEDED);
    size_t total = 9 + quoted_len + sig_len + ak_len + n * MS_TPM2_DIGEST_LEN;
    ENSURE(total <= MS_TPM2_MAX_BUNDLE, MS_ERR_CAP_EXCEEDED);
    size_t start = out->len;
    ms_err err = append_all(out, quoted, quoted_len, sig, sig_len, ak, ak_len, values,
                            n * MS_TPM2_DIGEST_LEN);
    if (err != MS_OK && ms_buf_shrink(out, out->len - start) != MS_OK) {
        err = MS_ERR_INTERNAL; /* cannot happen: start <= len */
    }
    return err;
}

ms_err ms_tpm2_bundle_add_cert(ms_buf *out, size_t start, const uint8_t *cert, size_t cert_len)
{
    ENSURE(start < out->len && out->p[start] == MS_TPM2_FORMAT, MS_ERR_ARG);
    ENSURE(cert != NULL && cert_len > 0 && cert_len <= MS_TPM2_MAX_AK_CERT &&
               out->len - start + 2 + cert_len <= MS_TPM2_MAX_BUNDLE,
           MS_ERR_CAP_EXCEEDED);
    TRY(ms_buf_reserve(out, 2 + cert_len)); /* then the appends cannot fail half-way */
    TRY(append_part(out, cert, cert_len));
    out->p[start] = MS_TPM2_FORMAT_AK_CERT;
    return MS_OK;
}

ms_err ms_tpm2_public_marshal(const TPMT_PUBLIC *pub, uint8_t out[static sizeof(TPMT_PUBLIC)],
                              size_t *len)
{
    *len = 0;
    ENSURE(Tss2_MU_TPMT_PUBLIC_Marshal(pub, out, sizeof(TPMT_PUBLIC), len) == TSS2_RC_SUCCESS,
           MS_ERR_INTERNAL);
    return MS_OK;
}

ms_err ms_tpm2_bundle_write(const TPM2B_ATTEST *quoted, const TPMT_SIGNATURE *sig,
                            const TPMT_PUBLIC *ak, const uint8_t *values, size_t n, ms_buf *out)
{
    uint8_t q[sizeof *quoted], s[sizeof *sig], a[sizeof *ak];
    size_t qn = 0, sn = 0, an = 0;
    ENSURE(Tss2_MU_TPM2B_ATTEST_Marshal(quoted, q, sizeof q, &qn) == TSS2_RC_SUCCESS &&
               Tss2_MU_TPMT_SIGNATURE_Marshal(sig, s, sizeof s, &sn) == TSS2_RC_SUCCESS,
           MS_ERR_INTERNAL);
    TRY(ms_tpm2_public_marshal(ak, a, &an));
    return ms_tpm2_bundle_write_raw(q, qn, s, sn, a, an, values, n, out);
}

ms_err ms_tpm2_sha256(const uint8_t *p, size_t n, uint8_t out[static MS_TPM2_DIGEST_LEN])
{
    unsigned int len = 0;
    int ok = EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == MS_TPM2_DIGEST_LEN;
    if (!ok) {
        memset(out, 0, MS_TPM2_DIGEST_LEN);
    }
    return ok ? MS_OK : MS_ERR_INTERNAL;
}

void ms_tpm2_name_of(const uint8_t *tpmt_public, size_t len, uint8_t name[static MS_TPM2_NAME_LEN])
{
    ms_store_u16be(name, TPM2_ALG_SHA256);
    if (ms_tpm2_sha256(tpmt_public, len, name + 2) != MS_OK) {
        memset(name, 0, MS_TPM2_NAME_LEN); /* matches no pinned name */
    }
}

uint32_t ms_tpm2_selection_mask(const TPML_PCR_SELECTION *sel)
{
    if (sel->count != 1 || sel->pcrSelections[0].hash != TPM2_ALG_SHA256 ||
        sel->pcrSelections[0].sizeofSelect != SELECT_BYTES) {
        return 0;
    }
    const BYTE *b = sel->pcrSelections[0].pcrSelect;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
}

void ms_tpm2_selection_of(uint32_t mask, TPML_PCR_SELECTION *sel)
{
    memset(sel, 0, sizeof *sel);
    sel->count = 1;
    sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel->pcrSelections[0].sizeofSelect = SELECT_BYTES;
    for (unsigned i = 0; i < SELECT_BYTES; i++) {
        sel->pcrSelections[0].pcrSelect[i] = (BYTE)(mask >> (8 * i));
    }
}

unsigned ms_tpm2_popcount(uint32_t mask)
{
    unsigned n = 0;
    for (; mask; mask &= mask - 1) {
        n++;
    }
    return n;
}

ms_err ms_tpm2_quote_parts_parse(const uint8_t *quoted, size_t quoted_len, const uint8_t *sig,
                                 size_t sig_len, const uint8_t *values, size_t values_len,
                                 ms_tpm2_bundle *out)
{
    memset(out, 0, sizeof *out);
    int ok = quoted != NULL && sig != NULL && (values != NULL || values_len == 0) &&
             values_len % MS_TPM2_DIGEST_LEN == 0 &&
             values_len / MS_TPM2_DIGEST_LEN <= MS_TPM2_NUM_PCRS &&
             parse_quoted(quoted, quoted_len, out) == MS_OK &&
             parse_sig(sig, sig_len, &out->sig) == MS_OK;
    if (!ok) {
        memset(out, 0, sizeof *out);
        return MS_ERR_TPM_FORMAT;
    }
    out->pcr_values = values;
    out->n_pcr = values_len / MS_TPM2_DIGEST_LEN;
    return MS_OK;
}

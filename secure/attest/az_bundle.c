/* az-snp-vtpm and az-tdx-vtpm bundle codecs (docs/attest-azure.md §3): u16-length-prefixed parts, caps, no trailing bytes. */
#include <string.h>

#include "common/check.h"
#include "common/cursor.h"
#include "secure/attest/az.h"

/* One u16-length-prefixed part of at least `min` and at most `max` bytes, borrowed. */
static ms_err read_part(ms_cursor *c, size_t min, size_t max, const uint8_t **p, size_t *n)
{
    uint16_t len;
    TRY(ms_cursor_read_u16be(c, &len));
    ENSURE(len >= min && len <= max, MS_ERR_AZ_BUNDLE);
    *n = len;
    return ms_cursor_borrow(c, p, len);
}

/* The format byte, then the vTPM parts both formats share: hcl, quoted, sig, values. */
static ms_err read_vtpm(ms_cursor *c, uint8_t want_format, ms_az_bundle *b)
{
    uint8_t format;
    TRY(ms_cursor_read_u8(c, &format));
    ENSURE(format == want_format, MS_ERR_AZ_BUNDLE);
    TRY(read_part(c, 1, MS_AZ_MAX_HCL, &b->hcl, &b->hcl_len));
    TRY(read_part(c, 1, MS_AZ_MAX_QUOTED, &b->quoted, &b->quoted_len));
    TRY(read_part(c, 1, MS_AZ_MAX_SIG, &b->sig, &b->sig_len));
    TRY(read_part(c, 0, MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN, &b->values, &b->values_len));
    ENSURE(b->values_len % MS_TPM2_DIGEST_LEN == 0, MS_ERR_AZ_BUNDLE);
    return MS_OK;
}

static ms_err decode(const uint8_t *ev, size_t len, ms_az_bundle *b)
{
    ENSURE(ev != NULL && len <= MS_AZ_MAX_BUNDLE, MS_ERR_AZ_BUNDLE);
    ms_cursor c = ms_cursor_init(ev, len);
    TRY(read_vtpm(&c, MS_AZ_BUNDLE_FORMAT, b));
    TRY(read_part(&c, 1, MS_SNP_MAX_CERT, &b->vcek, &b->vcek_len));
    TRY(read_part(&c, 0, MS_SNP_MAX_CERT, &b->ask, &b->ask_len));
    if (b->ask_len == 0) {
        b->ask = NULL;
    }
    return ms_cursor_expect_end(&c);
}

ms_err ms_az_bundle_decode(const uint8_t *ev, size_t len, ms_az_bundle *out)
{
    memset(out, 0, sizeof *out);
    if (decode(ev, len, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_AZ_BUNDLE; /* a short read is a bundle error like any other */
    }
    return MS_OK;
}

static ms_err append_part(ms_buf *out, const uint8_t *p, size_t n)
{
    TRY(ms_buf_append_u16be(out, (uint16_t)n));
    return n ? ms_buf_append(out, p, n) : MS_OK;
}

/* The vTPM parts' caps, as read_vtpm reads them. */
static ms_err vtpm_valid(const ms_az_bundle *b)
{
    ENSURE(b != NULL && b->hcl_len >= 1 && b->hcl_len <= MS_AZ_MAX_HCL, MS_ERR_ARG);
    ENSURE(b->quoted_len >= 1 && b->quoted_len <= MS_AZ_MAX_QUOTED, MS_ERR_ARG);
    ENSURE(b->sig_len >= 1 && b->sig_len <= MS_AZ_MAX_SIG, MS_ERR_ARG);
    ENSURE(b->values_len <= MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN &&
               b->values_len % MS_TPM2_DIGEST_LEN == 0,
           MS_ERR_ARG);
    return MS_OK;
}

static ms_err append_vtpm(ms_buf *out, uint8_t format, const ms_az_bundle *b)
{
    TRY(ms_buf_append_u8(out, format));
    TRY(append_part(out, b->hcl, b->hcl_len));
    TRY(append_part(out, b->quoted, b->quoted_len));
    TRY(append_part(out, b->sig, b->sig_len));
    return append_part(out, b->values, b->values_len);
}

ms_err ms_az_bundle_encode(const ms_az_bundle *b, ms_buf *out)
{
    TRY(vtpm_valid(b));
    ENSURE(b->vcek_len >= 1 && b->vcek_len <= MS_SNP_MAX_CERT, MS_ERR_ARG);
    ENSURE((b->ask == NULL) == (b->ask_len == 0) && b->ask_len <= MS_SNP_MAX_CERT, MS_ERR_ARG);
    size_t total = 13u + b->hcl_len + b->quoted_len + b->sig_len + b->values_len + b->vcek_len +
                   b->ask_len;
    /* Reserve the whole bundle first: the appends below then cannot fail half way. */
    TRY(ms_buf_reserve(out, total));
    TRY(append_vtpm(out, MS_AZ_BUNDLE_FORMAT, b));
    TRY(append_part(out, b->vcek, b->vcek_len));
    return append_part(out, b->ask, b->ask_len);
}

/* --- az-tdx-vtpm (format 0x02) ------------------------------------------------------------ */

static ms_err decode_tdx(const uint8_t *ev, size_t len, ms_az_tdx_bundle *b)
{
    ENSURE(ev != NULL && len <= MS_MAX_EVIDENCE, MS_ERR_AZ_BUNDLE);
    ms_cursor c = ms_cursor_init(ev, len);
    TRY(read_vtpm(&c, MS_AZ_TDX_BUNDLE_FORMAT, &b->vtpm));
    uint32_t n;
    TRY(ms_cursor_read_u32be(&c, &n));
    ENSURE(n >= 1 && n <= MS_AZ_MAX_TDX_PART, MS_ERR_AZ_BUNDLE);
    b->tdx_len = n;
    TRY(ms_cursor_borrow(&c, &b->tdx, n));
    return ms_cursor_expect_end(&c);
}

ms_err ms_az_tdx_bundle_decode(const uint8_t *ev, size_t len, ms_az_tdx_bundle *out)
{
    memset(out, 0, sizeof *out);
    if (decode_tdx(ev, len, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_AZ_BUNDLE;
    }
    return MS_OK;
}

ms_err ms_az_tdx_bundle_encode(const ms_az_tdx_bundle *b, ms_buf *out)
{
    ENSURE(b != NULL, MS_ERR_ARG);
    TRY(vtpm_valid(&b->vtpm));
    ENSURE(b->tdx != NULL && b->tdx_len >= 1 && b->tdx_len <= MS_AZ_MAX_TDX_PART, MS_ERR_ARG);
    const ms_az_bundle *v = &b->vtpm;
    size_t total = 13u + v->hcl_len + v->quoted_len + v->sig_len + v->values_len + b->tdx_len;
    TRY(ms_buf_reserve(out, total)); /* then the appends cannot fail half way */
    TRY(append_vtpm(out, MS_AZ_TDX_BUNDLE_FORMAT, v));
    TRY(ms_buf_append_u32be(out, (uint32_t)b->tdx_len));
    return ms_buf_append(out, b->tdx, b->tdx_len);
}

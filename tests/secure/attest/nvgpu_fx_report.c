/* Test-made SPDM 1.1 measurement reports (see nvgpu_fx_report.h); written from DSP0274's layout. */
#include "tests/secure/attest/nvgpu_fx_report.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <string.h>

#define FX_SIG_LEN 96u
#define FX_VALUE_LEN 48u

typedef struct wr {
    uint8_t *p;
    size_t cap, off;
    int ok;
} wr;

static void put(wr *w, const void *src, size_t n)
{
    if (!w->ok || w->cap - w->off < n) {
        w->ok = 0;
        return;
    }
    memcpy(w->p + w->off, src, n);
    w->off += n;
}

static void put_fill(wr *w, uint8_t byte, size_t n)
{
    if (!w->ok || w->cap - w->off < n) {
        w->ok = 0;
        return;
    }
    memset(w->p + w->off, byte, n);
    w->off += n;
}

static void put_u8(wr *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put_le(wr *w, uint32_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put_u8(w, (uint8_t)(v >> (8 * i)));
    }
}

static void field(wr *w, uint16_t type, const void *v, uint16_t len)
{
    put_le(w, type, 2);
    put_le(w, len, 2);
    put(w, v, len);
}

int nv_fx_report_sign(uint8_t *report, size_t len, EVP_PKEY *key)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t dlen = sizeof der;
    int ok = md != NULL && len > FX_SIG_LEN &&
             EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &dlen, report, len - FX_SIG_LEN) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) {
        return 0;
    }
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    const BIGNUM *r, *s;
    if (sig == NULL) {
        return 0;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, report + len - FX_SIG_LEN, 48) == 48 &&
         BN_bn2binpad(s, report + len - FX_SIG_LEN / 2, 48) == 48;
    ECDSA_SIG_free(sig);
    return ok;
}

size_t nv_fx_opaque_field(uint8_t *out, size_t cap, uint16_t type, const void *value,
                          uint16_t len)
{
    wr w = {out, cap, 0, 1};
    field(&w, type, value, len);
    return w.ok ? w.off : 0;
}

/* The default opaque data: driver, VBIOS, project, SKU, the feature flag, an unknown type. */
static size_t default_opaque(uint8_t *out, size_t cap, int feature_flag)
{
    static const uint8_t vbios[8] = {0x00, 0x5E, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00};
    wr o = {out, cap, 0, 1};
    field(&o, 3, "550.54", 7);
    field(&o, 6, vbios, sizeof vbios);
    field(&o, 17, "1010", 5);
    field(&o, 18, "0200", 5);
    if (feature_flag >= 0) {
        uint8_t f = (uint8_t)feature_flag;
        field(&o, 36, &f, 1);
    }
    field(&o, 0x7777, "x", 1); /* a type this project does not know: recorded, not fatal */
    return o.ok ? o.off : 0;
}

size_t nv_fx_report_make(uint8_t *out, size_t cap, const nv_fx_spdm *s, EVP_PKEY *key)
{
    uint8_t rsp_nonce[32], opaque[256];
    const uint8_t *od = s->opaque;
    size_t olen = s->opaque_len;
    wr w = {out, cap, 0, 1};
    if (s->n_blocks > 255 || (size_t)s->value_len + 3 > 0xFFFF) {
        return 0;
    }
    if (od == NULL) {
        od = opaque;
        olen = default_opaque(opaque, sizeof opaque, s->feature_flag);
        if (olen == 0) {
            return 0;
        }
    }
    put_u8(&w, 0x11); /* GET_MEASUREMENTS, signature requested, all measurements */
    put_u8(&w, 0xE0);
    put_u8(&w, 0x01);
    put_u8(&w, 0xFF);
    put(&w, s->nonce, 32);
    put_u8(&w, s->slot);
    put_u8(&w, 0x11); /* MEASUREMENTS */
    put_u8(&w, 0x60);
    put_u8(&w, 0);
    put_u8(&w, 0);
    put_u8(&w, (uint8_t)s->n_blocks);
    put_le(&w, (uint32_t)(s->n_blocks * (4u + 3u + s->value_len)), 3);
    for (size_t i = 0; i < s->n_blocks; i++) {
        put_u8(&w, (uint8_t)(i + 1));
        put_u8(&w, 0x01);
        put_le(&w, 3u + s->value_len, 2);
        put_u8(&w, 0x01);
        put_le(&w, s->value_len, 2);
        put_fill(&w, (uint8_t)(s->fill + i + 1), s->value_len);
    }
    memset(rsp_nonce, 0xC3, sizeof rsp_nonce);
    put(&w, rsp_nonce, sizeof rsp_nonce);
    put_le(&w, (uint32_t)olen, 2);
    put(&w, od, olen);
    uint8_t zero[FX_SIG_LEN] = {0};
    put(&w, zero, sizeof zero);
    if (!w.ok || (key != NULL && !nv_fx_report_sign(out, w.off, key))) {
        return 0;
    }
    return w.off;
}

size_t nv_fx_report_build(uint8_t *out, size_t cap, const uint8_t nonce[32], size_t n_blocks,
                          uint8_t fill, int feature_flag, EVP_PKEY *key)
{
    nv_fx_spdm s = {.nonce = nonce, .n_blocks = n_blocks, .value_len = FX_VALUE_LEN,
                    .fill = fill, .feature_flag = feature_flag};
    if (n_blocks == 0 || n_blocks > 254 || key == NULL) {
        return 0;
    }
    return nv_fx_report_make(out, cap, &s, key);
}

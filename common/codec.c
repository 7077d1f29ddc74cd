/* Hex and base64 encoders and strict decoders, without data-dependent branches or lookups. */
#include "common/codec.h"

#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"

/* All ones when lo <= c <= hi, else zero (c, lo and hi below 256). */
static uint32_t ct_range(uint32_t c, uint32_t lo, uint32_t hi)
{
    uint32_t wrapped = ((c - lo) | (hi - c)) >> 8;
    return ((wrapped | (0u - wrapped)) >> 31) - 1u;
}

/* 1 when v is not zero, without a branch. */
static uint32_t ct_nonzero(uint32_t v)
{
    return (v | (0u - v)) >> 31;
}

static char hex_char(uint32_t nibble)
{
    /* '0' + n, plus the distance from '9'+1 to 'a' when n > 9. */
    return (char)(nibble + '0' + (((9u - nibble) >> 8) & 39u));
}

static uint32_t hex_val(uint8_t ch, uint32_t *bad)
{
    uint32_t c = ch;
    uint32_t dg = ct_range(c, '0', '9');
    uint32_t lo = ct_range(c, 'a', 'f');
    uint32_t up = ct_range(c, 'A', 'F');
    *bad |= ~(dg | lo | up) & 1u;
    return ((dg & (c - '0')) | (lo & (c - 'a' + 10u)) | (up & (c - 'A' + 10u))) & 15u;
}

static char b64_char(uint32_t x)
{
    uint32_t c = x + 'A';
    c += ((25u - x) >> 8) & 6u;  /* 26..51 -> 'a'..'z' */
    c -= ((51u - x) >> 8) & 75u; /* 52..61 -> '0'..'9' */
    c -= ((61u - x) >> 8) & 15u; /* 62 -> '+' */
    c += ((62u - x) >> 8) & 3u;  /* 63 -> '/' */
    return (char)c;
}

static uint32_t b64_val(uint8_t ch, uint32_t *bad)
{
    uint32_t c = ch;
    uint32_t up = ct_range(c, 'A', 'Z');
    uint32_t lo = ct_range(c, 'a', 'z');
    uint32_t dg = ct_range(c, '0', '9');
    uint32_t pl = ct_range(c, '+', '+');
    uint32_t sl = ct_range(c, '/', '/');
    *bad |= ~(up | lo | dg | pl | sl) & 1u;
    return ((up & (c - 65u)) | (lo & (c - 71u)) | (dg & (c + 4u)) | (pl & 62u) | (sl & 63u)) &
           63u;
}

/* Undo a _buf append after an error, keeping the first error. */
static ms_err buf_undo(ms_buf *b, size_t n, ms_err err)
{
    ms_err e = ms_buf_shrink(b, n);
    return e != MS_OK ? e : err;
}

/* ---- hex ------------------------------------------------------------------------------- */

static void hex_enc(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_char(in[i] >> 4);
        out[2 * i + 1] = hex_char(in[i] & 15u);
    }
}

/* Decode 2n characters into n bytes; on a bad character, wipe out and fail. */
static ms_err hex_dec(const char *in, size_t n, uint8_t *out)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t hi = hex_val((uint8_t)in[2 * i], &bad);
        uint32_t lo = hex_val((uint8_t)in[2 * i + 1], &bad);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (bad) {
        ms_wipe(out, n);
        return MS_ERR_HEX;
    }
    return MS_OK;
}

static ms_err hex_shape(const char *in, size_t in_len)
{
    ENSURE(in != NULL || in_len == 0, MS_ERR_ARG);
    ENSURE(in_len <= MS_MAX_CODEC_TEXT, MS_ERR_CAP_EXCEEDED);
    ENSURE(in_len % 2 == 0, MS_ERR_HEX);
    return MS_OK;
}

ms_err ms_hex_encode(const uint8_t *in, size_t in_len, char *out, size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    ENSURE(in != NULL || in_len == 0, MS_ERR_ARG);
    ENSURE(in_len <= MS_MAX_CODEC_TEXT / 2, MS_ERR_CAP_EXCEEDED);
    ENSURE(out != NULL && out_cap > 2 * in_len, MS_ERR_OUT_SPACE);
    hex_enc(in, in_len, out);
    out[2 * in_len] = '\0';
    *out_len = 2 * in_len;
    return MS_OK;
}

ms_err ms_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    TRY(hex_shape(in, in_len));
    ENSURE(in_len / 2 <= out_cap && (out != NULL || in_len == 0), MS_ERR_OUT_SPACE);
    TRY(hex_dec(in, in_len / 2, out));
    *out_len = in_len / 2;
    return MS_OK;
}

ms_err ms_hex_encode_buf(const uint8_t *in, size_t in_len, ms_buf *out)
{
    uint8_t *dst;
    ENSURE(in != NULL || in_len == 0, MS_ERR_ARG);
    ENSURE(in_len <= MS_MAX_CODEC_TEXT / 2, MS_ERR_CAP_EXCEEDED);
    TRY(ms_buf_extend(out, 2 * in_len, &dst));
    hex_enc(in, in_len, (char *)dst);
    return MS_OK;
}

ms_err ms_hex_decode_buf(const char *in, size_t in_len, ms_buf *out)
{
    uint8_t *dst;
    TRY(hex_shape(in, in_len));
    TRY(ms_buf_extend(out, in_len / 2, &dst));
    ms_err err = hex_dec(in, in_len / 2, dst);
    return err == MS_OK ? MS_OK : buf_undo(out, in_len / 2, err);
}

/* ---- base64 ---------------------------------------------------------------------------- */

static size_t b64_enc_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

static void b64_enc(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;
    size_t o = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_char(w >> 18);
        out[o++] = b64_char((w >> 12) & 63u);
        out[o++] = b64_char((w >> 6) & 63u);
        out[o++] = b64_char(w & 63u);
    }
    if (i < n) {
        uint32_t two = n - i == 2;
        uint32_t w = (uint32_t)in[i] << 16 | (two ? (uint32_t)in[i + 1] << 8 : 0u);
        out[o++] = b64_char(w >> 18);
        out[o++] = b64_char((w >> 12) & 63u);
        out[o++] = two ? b64_char((w >> 6) & 63u) : '=';
        out[o++] = '=';
    }
}

/* Check length and padding (public shape, not data); give the decoded length. */
static ms_err b64_shape(const char *in, size_t in_len, size_t *pad, size_t *dec_len)
{
    *pad = 0;
    *dec_len = 0;
    ENSURE(in != NULL || in_len == 0, MS_ERR_ARG);
    ENSURE(in_len <= MS_MAX_CODEC_TEXT, MS_ERR_CAP_EXCEEDED);
    ENSURE(in_len % 4 == 0, MS_ERR_BASE64);
    if (in_len > 0 && in[in_len - 1] == '=') {
        *pad = in[in_len - 2] == '=' ? 2 : 1;
    }
    *dec_len = in_len / 4 * 3 - *pad;
    return MS_OK;
}

/* Decode a shaped text into exactly dec_len bytes; '=' before the padding is a bad char. */
static ms_err b64_dec(const char *in, size_t in_len, size_t pad, uint8_t *out, size_t dec_len)
{
    uint32_t bad = 0;
    size_t o = 0;
    for (size_t i = 0; i < in_len; i += 4) {
        size_t keep = i + 4 == in_len ? 4 - pad : 4;
        uint32_t w = 0;
        for (size_t k = 0; k < 4; k++) {
            w = w << 6 | (k < keep ? b64_val((uint8_t)in[i + k], &bad) : 0u);
        }
        out[o++] = (uint8_t)(w >> 16);
        if (keep > 2) {
            out[o++] = (uint8_t)(w >> 8);
        }
        if (keep > 3) {
            out[o++] = (uint8_t)w;
        }
        /* RFC 4648 3.5: the bits left over before the padding must be zero. */
        bad |= ct_nonzero((w >> (6 * (4 - keep))) & ((1u << (2 * (4 - keep))) - 1u));
    }
    if (bad) {
        ms_wipe(out, dec_len);
        return MS_ERR_BASE64;
    }
    return MS_OK;
}

ms_err ms_base64_encode(const uint8_t *in, size_t in_len, char *out, size_t out_cap,
                        size_t *out_len)
{
    *out_len = 0;
    ENSURE(in != NULL || in_len == 0, MS_ERR_ARG);
    ENSURE(in_len <= MS_MAX_CODEC_TEXT / 4 * 3, MS_ERR_CAP_EXCEEDED);
    size_t n = b64_enc_len(in_len);
    ENSURE(out != NULL && out_cap > n, MS_ERR_OUT_SPACE);
    b64_enc(in, in_len, out);
    out[n] = '\0';
    *out_len = n;
    return MS_OK;
}

ms_err ms_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    size_t pad;
    size_t n;
    *out_len = 0;
    TRY(b64_shape(in, in_len, &pad, &n));
    ENSURE(n <= out_cap && (out != NULL || n == 0), MS_ERR_OUT_SPACE);
    TRY(b64_dec(in, in_len, pad, out, n));
    *out_len = n;
    return MS_OK;
}

ms_err ms_base64_encode_buf(const uint8_t *in, size_t in_len, ms_buf *out)
{
    uint8_t *dst;
    ENSURE(in != NULL || in_len == 0, MS_ERR_ARG);
    ENSURE(in_len <= MS_MAX_CODEC_TEXT / 4 * 3, MS_ERR_CAP_EXCEEDED);
    TRY(ms_buf_extend(out, b64_enc_len(in_len), &dst));
    b64_enc(in, in_len, (char *)dst);
    return MS_OK;
}

ms_err ms_base64_decode_buf(const char *in, size_t in_len, ms_buf *out)
{
    size_t pad;
    size_t n;
    uint8_t *dst;
    TRY(b64_shape(in, in_len, &pad, &n));
    TRY(ms_buf_extend(out, n, &dst));
    ms_err err = b64_dec(in, in_len, pad, dst, n);
    return err == MS_OK ? MS_OK : buf_undo(out, n, err);
}

/* ---- base64url (no padding): re-spelt as base64 and back ------------------------------- */

ms_err ms_base64url_encode_buf(const uint8_t *in, size_t in_len, ms_buf *out)
{
    size_t start = out->len;
    TRY(ms_base64_encode_buf(in, in_len, out));
    size_t n = out->len;
    while (n > start && out->p[n - 1] == '=') {
        n--;
    }
    for (size_t i = start; i < n; i++) {
        out->p[i] = out->p[i] == '+' ? '-' : out->p[i] == '/' ? '_' : out->p[i];
    }
    return ms_buf_shrink(out, out->len - n);
}

ms_err ms_base64url_decode_buf(const char *in, size_t in_len, ms_buf *out)
{
    ENSURE(in != NULL || in_len == 0, MS_ERR_ARG);
    ENSURE(in_len <= MS_MAX_CODEC_TEXT - 3, MS_ERR_CAP_EXCEEDED);
    ENSURE(in_len % 4 != 1, MS_ERR_BASE64);
    char *t = malloc(in_len + 3);
    ENSURE(t != NULL, MS_ERR_NOMEM);
    size_t n = 0;
    ms_err err = MS_OK;
    for (; n < in_len; n++) {
        char ch = in[n];
        if (ch == '+' || ch == '/' || ch == '=') {
            err = MS_ERR_BASE64;
            break;
        }
        t[n] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    while (err == MS_OK && n % 4 != 0) {
        t[n++] = '=';
    }
    if (err == MS_OK) {
        err = ms_base64_decode_buf(t, n, out);
    }
    ms_wipe(t, in_len + 3);
    free(t);
    return err;
}

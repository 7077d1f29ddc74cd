/* libFuzzer harness for common/codec: strict decoders must round-trip what they accept. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* n bytes equal; an empty ms_buf's p may be NULL. */
static bool same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

/* The _buf form must give the same verdict and bytes as the fixed form. */
static void same_as_buf(ms_err fixed_err, const uint8_t *fixed, size_t fixed_len, ms_err buf_err,
                        const ms_buf *b)
{
    if (fixed_err != buf_err) {
        abort();
    }
    if (fixed_err == MS_OK && (b->len != fixed_len || memcmp(b->p, fixed, fixed_len) != 0)) {
        abort();
    }
    if (fixed_err != MS_OK && b->len != 0) {
        abort();
    }
}

/* Decode, then encode and decode again: hex text comes back lowercased, bytes unchanged. */
static void hex_case(const char *text, size_t size, uint8_t *out, uint8_t *out2, char *enc)
{
    size_t n, n2, elen;
    ms_buf b;
    ms_buf_init(&b, MS_MAX_CODEC_TEXT);
    ms_err e = ms_hex_decode(text, size, out, size / 2, &n);
    same_as_buf(e, out, n, ms_hex_decode_buf(text, size, &b), &b);
    ms_buf_free(&b);
    if (e != MS_OK) {
        return;
    }
    if (ms_hex_encode(out, n, enc, MS_HEX_BUF_LEN(n), &elen) != MS_OK || elen != size) {
        abort();
    }
    for (size_t i = 0; i < size; i++) {
        if (enc[i] != lower(text[i])) {
            abort();
        }
    }
    if (ms_hex_decode(enc, elen, out2, n, &n2) != MS_OK || n2 != n || memcmp(out, out2, n) != 0) {
        abort();
    }
}

/* Strict base64 is canonical: what decodes must re-encode to exactly the same text. */
static void base64_case(const char *text, size_t size, uint8_t *out, uint8_t *out2, char *enc)
{
    size_t n, n2, elen;
    ms_buf b;
    ms_buf_init(&b, MS_MAX_CODEC_TEXT);
    ms_err e = ms_base64_decode(text, size, out, size, &n);
    same_as_buf(e, out, n, ms_base64_decode_buf(text, size, &b), &b);
    ms_buf_free(&b);
    if (e != MS_OK) {
        return;
    }
    if (ms_base64_encode(out, n, enc, MS_BASE64_BUF_LEN(n), &elen) != MS_OK || elen != size ||
        memcmp(enc, text, size) != 0) {
        abort();
    }
    if (ms_base64_decode(enc, elen, out2, n, &n2) != MS_OK || n2 != n ||
        memcmp(out, out2, n) != 0) {
        abort();
    }
}

/*
 * Base64url against base64: text with none of '+', '/', '=' decodes as base64url exactly when
 * its translation ('-' to '+', '_' to '/', padded with '=' to a multiple of four) decodes as
 * base64, to the same bytes; text with any of them never does. What decodes re-encodes to
 * the same text (no padding, unused bits zero: canonical).
 */
static void base64url_case(const char *text, size_t size, uint8_t *out, char *enc)
{
    ms_buf b, b2;
    ms_buf_init(&b, MS_MAX_CODEC_TEXT);
    ms_buf_init(&b2, MS_MAX_CODEC_TEXT);
    ms_err e = ms_base64url_decode_buf(text, size, &b);
    bool std_char = false;
    size_t padded = size;
    for (size_t i = 0; i < size; i++) {
        std_char |= text[i] == '+' || text[i] == '/' || text[i] == '=';
        enc[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
    }
    while (size % 4 != 1 && padded % 4 != 0) {
        enc[padded++] = '=';
    }
    size_t n = 0;
    ms_err want = std_char || size % 4 == 1 ? MS_ERR_BASE64
                                            : ms_base64_decode(enc, padded, out, size, &n);
    if ((e == MS_OK) != (want == MS_OK) || (e != MS_OK && b.len != 0) ||
        (e == MS_OK && (b.len != n || !same_bytes(b.p, out, n)))) {
        abort();
    }
    if (e == MS_OK && (ms_base64url_encode_buf(b.p, b.len, &b2) != MS_OK || b2.len != size ||
                       !same_bytes(b2.p, text, size))) {
        abort();
    }
    ms_buf_free(&b);
    ms_buf_free(&b2);
}

/* Any bytes encode, and decode back to themselves. */
static void encode_case(const uint8_t *data, size_t size, uint8_t *out, char *enc)
{
    size_t elen, n;
    if (ms_hex_encode(data, size, enc, MS_HEX_BUF_LEN(size), &elen) != MS_OK ||
        ms_hex_decode(enc, elen, out, size, &n) != MS_OK || n != size ||
        memcmp(out, data, size) != 0) {
        abort();
    }
    if (ms_base64_encode(data, size, enc, MS_BASE64_BUF_LEN(size), &elen) != MS_OK ||
        ms_base64_decode(enc, elen, out, size, &n) != MS_OK || n != size ||
        memcmp(out, data, size) != 0) {
        abort();
    }
    ms_buf u, back;
    ms_buf_init(&u, MS_MAX_CODEC_TEXT);
    ms_buf_init(&back, MS_MAX_CODEC_TEXT);
    if (ms_base64url_encode_buf(data, size, &u) != MS_OK ||
        ms_base64url_decode_buf((const char *)u.p, u.len, &back) != MS_OK || back.len != size ||
        !same_bytes(back.p, data, size)) {
        abort();
    }
    ms_buf_free(&u);
    ms_buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 20) {
        return 0;
    }
    uint8_t *out = malloc(size + 1);
    uint8_t *out2 = malloc(size + 1);
    char *enc = malloc(MS_HEX_BUF_LEN(size) + 4);
    if (out == NULL || out2 == NULL || enc == NULL) {
        abort();
    }
    hex_case((const char *)data, size, out, out2, enc);
    base64_case((const char *)data, size, out, out2, enc);
    base64url_case((const char *)data, size, out, enc);
    encode_case(data, size, out, enc);
    free(out);
    free(out2);
    free(enc);
    return 0;
}

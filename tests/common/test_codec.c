/* Tests for the hex and base64 codecs: RFC 4648 vectors, round trips, every bad input, caps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/limits.h"
#include "tests/test.h"

struct vec {
    const char *raw;
    const char *b64;
    const char *hex;
};

/* RFC 4648 section 10 (base16 there is uppercase; we encode lowercase). */
static const struct vec rfc[] = {
    {"", "", ""},
    {"f", "Zg==", "66"},
    {"fo", "Zm8=", "666f"},
    {"foo", "Zm9v", "666f6f"},
    {"foob", "Zm9vYg==", "666f6f62"},
    {"fooba", "Zm9vYmE=", "666f6f6261"},
    {"foobar", "Zm9vYmFy", "666f6f626172"},
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_index(int c)
{
    const char *p = c != 0 ? strchr(b64_alphabet, c) : NULL;
    return p != NULL ? (int)(p - b64_alphabet) : -1;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static void test_rfc4648_base64(void)
{
    for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        const struct vec *v = &rfc[i];
        size_t rl = strlen(v->raw), bl = strlen(v->b64), n;
        char txt[16];
        uint8_t raw[16];
        CHECK_OK(ms_base64_encode((const uint8_t *)v->raw, rl, txt, sizeof txt, &n));
        CHECK(n == bl && strcmp(txt, v->b64) == 0);
        CHECK_OK(ms_base64_decode(v->b64, bl, raw, sizeof raw, &n));
        CHECK(n == rl);
        CHECK_MEM(raw, v->raw, rl);
        ms_buf b;
        ms_buf_init(&b, 64);
        CHECK_OK(ms_base64_encode_buf((const uint8_t *)v->raw, rl, &b));
        CHECK(b.len == bl);
        CHECK_MEM(b.p, v->b64, bl);
        ms_buf_clear(&b);
        CHECK_OK(ms_base64_decode_buf(v->b64, bl, &b));
        CHECK(b.len == rl);
        CHECK_MEM(b.p, v->raw, rl);
        ms_buf_free(&b);
    }
}

static void test_rfc4648_hex(void)
{
    for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        const struct vec *v = &rfc[i];
        size_t rl = strlen(v->raw), hl = strlen(v->hex), n;
        char txt[16], upper[16];
        uint8_t raw[16];
        CHECK_OK(ms_hex_encode((const uint8_t *)v->raw, rl, txt, sizeof txt, &n));
        CHECK(n == hl && strcmp(txt, v->hex) == 0);
        for (size_t k = 0; k <= hl; k++) {
            upper[k] = (char)(v->hex[k] >= 'a' ? v->hex[k] - 32 : v->hex[k]);
        }
        CHECK_OK(ms_hex_decode(upper, hl, raw, sizeof raw, &n));
        CHECK(n == rl);
        CHECK_MEM(raw, v->raw, rl);
        ms_buf b;
        ms_buf_init(&b, 64);
        CHECK_OK(ms_hex_encode_buf((const uint8_t *)v->raw, rl, &b));
        CHECK(b.len == hl);
        CHECK_MEM(b.p, v->hex, hl);
        ms_buf_clear(&b);
        CHECK_OK(ms_hex_decode_buf(v->hex, hl, &b));
        CHECK(b.len == rl);
        CHECK_MEM(b.p, v->raw, rl);
        ms_buf_free(&b);
    }
}

static void test_round_trips(void)
{
    uint8_t in[256], back[256];
    char txt[MS_HEX_BUF_LEN(256)];
    size_t n, m;
    for (size_t i = 0; i < sizeof in; i++) {
        in[i] = (uint8_t)(255 - i);
    }
    int ok = 1;
    for (size_t len = 0; len <= sizeof in; len++) {
        ok &= ms_hex_encode(in, len, txt, sizeof txt, &n) == MS_OK && n == 2 * len;
        ok &= ms_hex_decode(txt, n, back, sizeof back, &m) == MS_OK && m == len;
        ok &= memcmp(in, back, len) == 0;
        ok &= ms_base64_encode(in, len, txt, sizeof txt, &n) == MS_OK;
        ok &= n == MS_BASE64_BUF_LEN(len) - 1 && txt[n] == '\0';
        ok &= ms_base64_decode(txt, n, back, sizeof back, &m) == MS_OK && m == len;
        ok &= memcmp(in, back, len) == 0;
    }
    CHECK(ok);
    /* Every byte value, and every base64 symbol, in both directions. */
    CHECK_OK(ms_base64_decode(b64_alphabet, 64, back, sizeof back, &m));
    CHECK(m == 48);
    CHECK_OK(ms_base64_encode(back, m, txt, sizeof txt, &n));
    CHECK(n == 64 && strcmp(txt, b64_alphabet) == 0);
    CHECK_OK(ms_hex_encode(in, 8, txt, sizeof txt, &n));
    CHECK(strcmp(txt, "fffefdfcfbfaf9f8") == 0);
}

/* Every byte value in every position of a hex pair: accepted exactly when a hex digit. */
static void test_hex_every_char(void)
{
    int ok = 1;
    for (int pos = 0; pos < 2; pos++) {
        for (int c = 0; c < 256; c++) {
            char txt[2] = {'7', '7'};
            uint8_t out = 0xAA;
            size_t n;
            txt[pos] = (char)c;
            ms_err e = ms_hex_decode(txt, 2, &out, 1, &n);
            int d = hex_digit(c);
            if (d < 0) {
                ok &= e == MS_ERR_HEX && n == 0 && out == 0;
            } else {
                ok &= e == MS_OK && n == 1 && out == (pos == 0 ? d << 4 | 7 : 0x70 | d);
            }
        }
    }
    CHECK(ok);
}

static void test_hex_bad_input(void)
{
    uint8_t out[8];
    size_t n = 99;
    CHECK_ERR(ms_hex_decode("abc", 3, out, sizeof out, &n), MS_ERR_HEX);
    CHECK(n == 0);
    CHECK_ERR(ms_hex_decode("a", 1, out, sizeof out, &n), MS_ERR_HEX);
    CHECK_ERR(ms_hex_decode("0x00", 4, out, sizeof out, &n), MS_ERR_HEX);
    CHECK_ERR(ms_hex_decode("00 11", 5, out, sizeof out, &n), MS_ERR_HEX);
    CHECK_ERR(ms_hex_decode("00\n1", 4, out, sizeof out, &n), MS_ERR_HEX);
    CHECK_ERR(ms_hex_decode("0\0", 2, out, sizeof out, &n), MS_ERR_HEX);
    /* A bad character at the end wipes what was decoded before it. */
    memset(out, 0xAA, sizeof out);
    CHECK_ERR(ms_hex_decode("0123456789abcdeg", 16, out, sizeof out, &n), MS_ERR_HEX);
    CHECK_MEM(out, "\0\0\0\0\0\0\0\0", 8);
    CHECK(n == 0);
    CHECK_ERR(ms_hex_decode(NULL, 2, out, sizeof out, &n), MS_ERR_ARG);
    CHECK_OK(ms_hex_decode(NULL, 0, NULL, 0, &n));
    CHECK(n == 0);
}

static void test_base64_every_char(void)
{
    int ok = 1;
    for (int c = 0; c < 256; c++) {
        char txt[4] = {(char)c, 'A', 'A', 'A'};
        uint8_t out[3] = {0xAA, 0xAA, 0xAA};
        size_t n;
        ms_err e = ms_base64_decode(txt, 4, out, sizeof out, &n);
        int v = b64_index(c);
        if (v < 0) {
            ok &= e == MS_ERR_BASE64 && n == 0 && memcmp(out, "\0\0\0", 3) == 0;
        } else {
            ok &= e == MS_OK && n == 3 && out[0] == v << 2 && out[1] == 0 && out[2] == 0;
        }
    }
    CHECK(ok);
}

/* RFC 4648 3.5: the bits before the padding must be zero, for both padding lengths. */
static void test_base64_trailing_bits(void)
{
    int ok = 1;
    for (int v = 0; v < 64; v++) {
        char two[4] = {'Z', b64_alphabet[v], '=', '='};
        char one[4] = {'Z', 'm', b64_alphabet[v], '='};
        uint8_t out[3];
        size_t n;
        ms_err e = ms_base64_decode(two, 4, out, sizeof out, &n);
        ok &= (v & 15) == 0 ? e == MS_OK && n == 1 : e == MS_ERR_BASE64 && n == 0;
        e = ms_base64_decode(one, 4, out, sizeof out, &n);
        ok &= (v & 3) == 0 ? e == MS_OK && n == 2 : e == MS_ERR_BASE64 && n == 0;
    }
    CHECK(ok);
    uint8_t out[8];
    size_t n;
    CHECK_ERR(ms_base64_decode("Zh==", 4, out, sizeof out, &n), MS_ERR_BASE64);
    CHECK_ERR(ms_base64_decode("Zm9=", 4, out, sizeof out, &n), MS_ERR_BASE64);
    CHECK_OK(ms_base64_decode("Zm8=", 4, out, sizeof out, &n));
}

static void test_base64_bad_shape(void)
{
    static const char *const bad[] = {
        "Zg",       "Zg=",      "Zm9vY",    "Z===",     "====",     "=Zm9",     "Zm=v",
        "Zg=a",     "Zg==Zg==", "Zm9v\n",   "Zm9 ",     " Zm9",     "Zm9v====", "Zm9-",
        "Zm9_",     "Zm9vYg=",  "Zm9vY===", "Zg==\0\0", "Zm9vYmFy=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t n = 99;
        size_t len = strlen(bad[i]);
        if (strcmp(bad[i], "Zg==\0\0") == 0) {
            len = 6;
        }
        memset(out, 0xAA, sizeof out);
        CHECK_ERR(ms_base64_decode(bad[i], len, out, sizeof out, &n), MS_ERR_BASE64);
        CHECK(n == 0);
        CHECK(out[0] == 0xAA || out[0] == 0);
    }
    /* A bad character after good quanta wipes what was decoded. */
    uint8_t out[6];
    size_t n;
    memset(out, 0xAA, sizeof out);
    CHECK_ERR(ms_base64_decode("Zm9vYm*y", 8, out, sizeof out, &n), MS_ERR_BASE64);
    CHECK_MEM(out, "\0\0\0\0\0\0", 6);
    CHECK_ERR(ms_base64_decode(NULL, 4, out, sizeof out, &n), MS_ERR_ARG);
    CHECK_OK(ms_base64_decode(NULL, 0, NULL, 0, &n));
}

static void test_out_space(void)
{
    char txt[16];
    uint8_t out[8];
    size_t n;
    memset(txt, 'Q', sizeof txt);
    /* Room for the text but not its NUL. */
    CHECK_ERR(ms_hex_encode((const uint8_t *)"foo", 3, txt, 6, &n), MS_ERR_OUT_SPACE);
    CHECK(txt[0] == 'Q' && n == 0);
    CHECK_OK(ms_hex_encode((const uint8_t *)"foo", 3, txt, 7, &n));
    CHECK_ERR(ms_base64_encode((const uint8_t *)"foo", 3, txt, 4, &n), MS_ERR_OUT_SPACE);
    CHECK_OK(ms_base64_encode((const uint8_t *)"foo", 3, txt, 5, &n));
    CHECK_ERR(ms_hex_encode((const uint8_t *)"", 0, NULL, 0, &n), MS_ERR_OUT_SPACE);
    CHECK_OK(ms_hex_encode((const uint8_t *)"", 0, txt, 1, &n));
    CHECK(txt[0] == '\0');
    memset(out, 0xAA, sizeof out);
    CHECK_ERR(ms_hex_decode("666f6f", 6, out, 2, &n), MS_ERR_OUT_SPACE);
    CHECK(out[0] == 0xAA && n == 0);
    CHECK_OK(ms_hex_decode("666f6f", 6, out, 3, &n));
    CHECK_ERR(ms_base64_decode("Zm9vYg==", 8, out, 3, &n), MS_ERR_OUT_SPACE);
    CHECK_OK(ms_base64_decode("Zm9vYg==", 8, out, 4, &n));
    CHECK(n == 4);
}

static void test_buf_forms_errors_leave_buffer(void)
{
    ms_buf b;
    ms_buf_init(&b, 8);
    CHECK_OK(ms_buf_append_str(&b, "xyz"));
    CHECK_ERR(ms_hex_decode_buf("00zz", 4, &b), MS_ERR_HEX);
    CHECK_ERR(ms_base64_decode_buf("Zm9*", 4, &b), MS_ERR_BASE64);
    CHECK_ERR(ms_base64_decode_buf("Zm9", 3, &b), MS_ERR_BASE64);
    CHECK(b.len == 3);
    CHECK_MEM(b.p, "xyz", 3);
    /* The bytes the failed decode used are wiped, not left behind the length. */
    CHECK_MEM(b.p + 3, "\0\0\0", 3);
    /* The buffer's own cap: 3 + 6 > 8, then 3 + 5 fits exactly. */
    CHECK_ERR(ms_hex_encode_buf((const uint8_t *)"abc", 3, &b), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_base64_encode_buf((const uint8_t *)"abcd", 4, &b), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_hex_decode_buf("00112233445566", 12, &b), MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 3);
    CHECK_OK(ms_hex_decode_buf("6162636465", 10, &b));
    CHECK(b.len == 8);
    CHECK_MEM(b.p, "xyzabcde", 8);
    ms_buf_free(&b);
}

/*
 * The codec text cap. A length just over it must be refused before anything is read; at
 * exactly the cap the shape is accepted and the (deliberately small) output is what fails.
 * calloc keeps the big buffers cheap: their pages are never touched.
 */
static void test_codec_text_cap(void)
{
    size_t max = MS_MAX_CODEC_TEXT;
    char *big = calloc(max + 4, 1);
    uint8_t out[4];
    char txt[4];
    size_t n;
    CHECK(big != NULL);
    if (big == NULL) {
        return;
    }
    ms_buf b;
    ms_buf_init(&b, SIZE_MAX);
    CHECK_ERR(ms_hex_decode(big, max + 2, out, sizeof out, &n), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_hex_decode(big, max, out, sizeof out, &n), MS_ERR_OUT_SPACE);
    CHECK_ERR(ms_hex_decode_buf(big, max + 2, &b), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_base64_decode(big, max + 4, out, sizeof out, &n), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_base64_decode(big, max, out, sizeof out, &n), MS_ERR_OUT_SPACE);
    CHECK_ERR(ms_base64_decode_buf(big, max + 4, &b), MS_ERR_CAP_EXCEEDED);
    const uint8_t *raw = (const uint8_t *)big;
    CHECK_ERR(ms_hex_encode(raw, max / 2 + 1, txt, sizeof txt, &n), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_hex_encode(raw, max / 2, txt, sizeof txt, &n), MS_ERR_OUT_SPACE);
    CHECK_ERR(ms_hex_encode_buf(raw, max / 2 + 1, &b), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_base64_encode(raw, max / 4 * 3 + 1, txt, sizeof txt, &n), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_base64_encode(raw, max / 4 * 3, txt, sizeof txt, &n), MS_ERR_OUT_SPACE);
    CHECK_ERR(ms_base64_encode_buf(raw, max / 4 * 3 + 1, &b), MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 0);
    ms_buf_free(&b);
    free(big);
}

/* Base64url without padding: RFC 4648 §10's vectors re-spelt, the URL-safe characters, refusals. */
static void test_base64url(void)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
             {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    ms_buf b;
    ms_buf_init(&b, 64);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ms_buf_clear(&b);
        CHECK_OK(ms_base64url_encode_buf((const uint8_t *)v[i].in, strlen(v[i].in), &b));
        CHECK(b.len == strlen(v[i].out) && memcmp(b.p, v[i].out, b.len) == 0);
        ms_buf_clear(&b);
        CHECK_OK(ms_base64url_decode_buf(v[i].out, strlen(v[i].out), &b));
        CHECK(b.len == strlen(v[i].in) && memcmp(b.p, v[i].in, b.len) == 0);
    }
    static const char *const bad[] = {"Zg==", "Zm8=", "+_8", "-/8", "Z", "Zm9vY", "Zh", "Zm9", "Z g",
                                      "Zm9v\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms_buf_clear(&b);
        CHECK_ERR(ms_base64url_decode_buf(bad[i], strlen(bad[i]), &b), MS_ERR_BASE64);
        CHECK(b.len == 0);
    }
    ms_buf_free(&b);
}

int main(void)
{
    RUN(test_rfc4648_base64);
    RUN(test_rfc4648_hex);
    RUN(test_round_trips);
    RUN(test_hex_every_char);
    RUN(test_hex_bad_input);
    RUN(test_base64_every_char);
    RUN(test_base64_trailing_bits);
    RUN(test_base64_bad_shape);
    RUN(test_out_space);
    RUN(test_buf_forms_errors_leave_buffer);
    RUN(test_codec_text_cap);
    RUN(test_base64url);
    return TEST_SUMMARY();
}

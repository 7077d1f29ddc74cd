/*
 * The records' AEAD (secure/aead.c): both implementations give RFC 8439's bytes, the same bytes as
 * each other at every length around and past MS_AEAD_LARGE, in place or not, and refuse every
 * changed byte without writing a byte of plaintext (the output zeroed).
 */
#include "secure/aead.h"
#include "tests/test.h"

#define MAXLEN ((1u << 20) + 3u)

static uint8_t pt[MAXLEN], ct_s[MAXLEN], ct_o[MAXLEN], out[MAXLEN];

/* RFC 8439 §2.8.2: the AEAD example (key 80..9f, its nonce, AAD and plaintext). */
static void test_rfc8439_example(void)
{
    static const char m[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                            "only one tip for the future, sunscreen would be it.";
    static const uint8_t ad[12] = {0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1,
                                   0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
    static const uint8_t nonce[12] = {0x07, 0,    0,    0,    0x40, 0x41,
                                      0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
    static const uint8_t ct_head[16] = {0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb,
                                        0x7b, 0x86, 0xaf, 0xbc, 0x53, 0xef, 0x7e, 0xc2};
    static const uint8_t want_tag[16] = {0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a,
                                         0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91};
    uint8_t key[32], tag[16];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(0x80 + i);
    }
    ms_aead_impl impls[] = {MS_AEAD_SODIUM, MS_AEAD_OPENSSL};
    for (int i = 0; i < 2; i++) {
        memset(ct_s, 0, 200);
        ms_aead_seal(impls[i], ct_s, tag, (const uint8_t *)m, sizeof m - 1, ad, sizeof ad, nonce,
                     key);
        CHECK(memcmp(ct_s, ct_head, sizeof ct_head) == 0 && memcmp(tag, want_tag, 16) == 0);
        CHECK_OK(ms_aead_open(impls[i], out, ct_s, sizeof m - 1, tag, ad, sizeof ad, nonce, key));
        CHECK(memcmp(out, m, sizeof m - 1) == 0);
    }
}

/* Sealed by one, opened by the other, at lengths that split blocks every way. */
static void test_implementations_agree(void)
{
    size_t lens[] = {0,
                     1,
                     15,
                     16,
                     17,
                     63,
                     64,
                     65,
                     1000,
                     MS_AEAD_LARGE - 1,
                     MS_AEAD_LARGE,
                     MS_AEAD_LARGE + 1,
                     65536 + 3,
                     1u << 20,
                     MAXLEN};
    size_t ad_lens[] = {0, 13, MS_REC_HEADER_LEN};
    uint8_t key[32], nonce[12], ad[MS_REC_HEADER_LEN], tag_s[16], tag_o[16], tag_a[16];
    randombytes_buf(key, sizeof key);
    randombytes_buf(nonce, sizeof nonce);
    randombytes_buf(ad, sizeof ad);
    randombytes_buf(pt, sizeof pt);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (size_t j = 0; j < sizeof ad_lens / sizeof ad_lens[0]; j++) {
            size_t n = lens[i], a = ad_lens[j];
            ms_aead_seal(MS_AEAD_SODIUM, ct_s, tag_s, pt, n, ad, a, nonce, key);
            ms_aead_seal(MS_AEAD_OPENSSL, ct_o, tag_o, pt, n, ad, a, nonce, key);
            CHECK(memcmp(ct_s, ct_o, n) == 0 && memcmp(tag_s, tag_o, 16) == 0);
            ms_aead_impl impls[] = {MS_AEAD_SODIUM, MS_AEAD_OPENSSL, MS_AEAD_AUTO};
            for (size_t k = 0; k < 3; k++) {
                memset(out, 0xa5, n);
                CHECK_OK(ms_aead_open(impls[k], out, ct_s, n, tag_s, ad, a, nonce, key));
                CHECK(memcmp(out, pt, n) == 0);
            }
            /* in place: the sealed bytes where the plaintext was, and back */
            memcpy(out, pt, n);
            ms_aead_seal(MS_AEAD_AUTO, out, tag_a, out, n, ad, a, nonce, key);
            CHECK(memcmp(out, ct_s, n) == 0 && memcmp(tag_a, tag_s, 16) == 0);
            CHECK_OK(ms_aead_open(MS_AEAD_OPENSSL, out, out, n, tag_a, ad, a, nonce, key));
            CHECK(memcmp(out, pt, n) == 0);
        }
    }
}

/* A changed byte anywhere (ciphertext, tag, additional data, nonce): refused, the output zeroed. */
static void test_changes_refused_before_writing(void)
{
    size_t n = 2 * MS_AEAD_LARGE + 5;
    uint8_t key[32], nonce[12], ad[MS_REC_HEADER_LEN], tag[16];
    randombytes_buf(key, sizeof key);
    randombytes_buf(nonce, sizeof nonce);
    randombytes_buf(ad, sizeof ad);
    randombytes_buf(pt, n);
    ms_aead_seal(MS_AEAD_OPENSSL, ct_o, tag, pt, n, ad, sizeof ad, nonce, key);
    size_t where[] = {0, 1, 63, 64, n / 2, n - 1};
    ms_aead_impl impls[] = {MS_AEAD_SODIUM, MS_AEAD_OPENSSL};
    int bad = 0;
    for (size_t k = 0; k < 2; k++) {
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            ct_o[where[w]] ^= 0x40;
            memset(out, 0xa5, n);
            bad += ms_aead_open(impls[k], out, ct_o, n, tag, ad, sizeof ad, nonce, key) !=
                   MS_ERR_REC_AUTH;
            ct_o[where[w]] ^= 0x40;
            for (size_t i = 0; i < n; i++) {
                bad += out[i] != 0;
            }
        }
        for (int b = 0; b < 16; b++) {
            tag[b] ^= 1;
            bad += ms_aead_open(impls[k], out, ct_o, n, tag, ad, sizeof ad, nonce, key) !=
                   MS_ERR_REC_AUTH;
            tag[b] ^= 1;
        }
        ad[7] ^= 2;
        bad +=
            ms_aead_open(impls[k], out, ct_o, n, tag, ad, sizeof ad, nonce, key) != MS_ERR_REC_AUTH;
        bad += ms_aead_open(impls[k], out, ct_o, n, tag, ad, sizeof ad - 1, nonce, key) !=
               MS_ERR_REC_AUTH;
        ad[7] ^= 2;
        nonce[11] ^= 1;
        bad +=
            ms_aead_open(impls[k], out, ct_o, n, tag, ad, sizeof ad, nonce, key) != MS_ERR_REC_AUTH;
        nonce[11] ^= 1;
        /* in place, refused: zeroed too */
        memcpy(out, ct_o, n);
        out[3] ^= 1;
        bad +=
            ms_aead_open(impls[k], out, out, n, tag, ad, sizeof ad, nonce, key) != MS_ERR_REC_AUTH;
        for (size_t i = 0; i < n; i++) {
            bad += out[i] != 0;
        }
    }
    CHECK(bad == 0);
    memset(out, 0, n);
    CHECK_OK(ms_aead_open(MS_AEAD_AUTO, out, ct_o, n, tag, ad, sizeof ad, nonce, key));
    CHECK(memcmp(out, pt, n) == 0);
}

/*
 * Which implementation takes long messages here, as the run expects it (ctest runs this
 * program twice: as the machine has it, and with OPENSSL_CONF naming a configuration of
 * OpenSSL's base provider only, where ChaCha20 cannot be fetched and every message goes to
 * libsodium: the tests above then check that fallback).
 */
static void test_which_implementation(void)
{
    const char *want = getenv("MS_TEST_AEAD_OPENSSL");
    CHECK(want != NULL);
    CHECK(want != NULL && ms_aead_has_openssl() == (strcmp(want, "1") == 0));
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_which_implementation);
    RUN(test_rfc8439_example);
    RUN(test_implementations_agree);
    RUN(test_changes_refused_before_writing);
    return TEST_SUMMARY();
}

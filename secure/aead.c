/* ChaCha20-Poly1305 for records: libsodium for short messages, OpenSSL for long ones. */
#include "secure/aead.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"

/* Fetched once and shared by every thread (an EVP_CIPHER / EVP_MAC is read-only once made). */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *g_aead;   /* "ChaCha20-Poly1305": the seal, in one pass */
static EVP_CIPHER *g_stream; /* "ChaCha20": the open's keystream, after the tag checked */
static EVP_MAC *g_poly;      /* "POLY1305": the open's tag check */

static void fetch(void)
{
    g_aead = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    g_stream = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL);
    g_poly = EVP_MAC_fetch(NULL, "POLY1305", NULL);
}

/* OpenSSL for this message? Only with every piece it needs, and lengths an int holds. */
static int use_openssl(ms_aead_impl impl, size_t len)
{
    if (impl == MS_AEAD_SODIUM || (impl == MS_AEAD_AUTO && len < MS_AEAD_LARGE) || len > INT_MAX ||
        pthread_once(&fetch_once, fetch) != 0) {
        return 0;
    }
    return g_aead != NULL && g_stream != NULL && g_poly != NULL;
}

int ms_aead_has_openssl(void)
{
    return use_openssl(MS_AEAD_OPENSSL, 0);
}

/*
 * 1: sealed; 0: OpenSSL failed before the ciphertext (its Update writes the whole message in one
 * call or, refusing its arguments, nothing); -1: it failed after the ciphertext was written.
 */
static int ossl_seal(uint8_t *ct, uint8_t tag[static MS_TAG_LEN], const uint8_t *pt, size_t len,
                     const uint8_t *ad, size_t ad_len, const uint8_t nonce[static MS_NONCE_LEN],
                     const uint8_t key[static MS_KEY_LEN])
{
    int n = 0, fin = 0, rc = 1;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    if (x == NULL || EVP_EncryptInit_ex2(x, g_aead, key, nonce, NULL) != 1 ||
        (ad_len > 0 && EVP_EncryptUpdate(x, NULL, &n, ad, (int)ad_len) != 1) ||
        (len > 0 && (EVP_EncryptUpdate(x, ct, &n, pt, (int)len) != 1 || (size_t)n != len))) {
        rc = 0;
    } else if (EVP_EncryptFinal_ex(x, ct + len, &fin) != 1 || fin != 0 ||
               EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, MS_TAG_LEN, tag) != 1) {
        rc = -1;
    }
    EVP_CIPHER_CTX_free(x); /* the provider clears its key state */
    return rc;
}

void ms_aead_seal(ms_aead_impl impl, uint8_t *ct, uint8_t tag[static MS_TAG_LEN], const uint8_t *pt,
                  size_t len, const uint8_t *ad, size_t ad_len,
                  const uint8_t nonce[static MS_NONCE_LEN], const uint8_t key[static MS_KEY_LEN])
{
    int rc = use_openssl(impl, len) ? ossl_seal(ct, tag, pt, len, ad, ad_len, nonce, key) : 0;
    if (rc == 1) {
        return;
    }
    if (rc < 0 && ct == pt) {
        /* Sealed in place but no tag: ChaCha20 from block 1 again gives the plaintext back. */
        crypto_stream_chacha20_ietf_xor_ic(ct, ct, len, nonce, 1, key);
    }
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, tag, NULL, pt, len, ad, ad_len, NULL,
                                                       nonce, key);
}

/*
 * RFC 8439 §2.8 taken apart: the Poly1305 key is ChaCha20 block 0; the tag covers the additional
 * data, the ciphertext, each zero-padded to 16 bytes, and their 64-bit little-endian lengths.
 * OpenSSL's ChaCha20 takes a 16-byte IV: the 32-bit block counter (little-endian), then the nonce.
 */
static int ossl_tag(uint8_t mac[static MS_TAG_LEN], EVP_CIPHER_CTX *x, const uint8_t *ct,
                    size_t len, const uint8_t *ad, size_t ad_len, const uint8_t iv[16],
                    const uint8_t key[static MS_KEY_LEN])
{
    static const uint8_t zeros[64];
    uint8_t block0[64], lens[16];
    int n = 0;
    size_t maclen = 0;
    for (unsigned i = 0; i < 8; i++) {
        lens[i] = (uint8_t)((uint64_t)ad_len >> (8 * i));
        lens[8 + i] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    EVP_MAC_CTX *m = EVP_MAC_CTX_new(g_poly);
    int ok = m != NULL && EVP_EncryptInit_ex2(x, g_stream, key, iv, NULL) == 1 &&
             EVP_EncryptUpdate(x, block0, &n, zeros, sizeof block0) == 1 && n == 64 &&
             EVP_MAC_init(m, block0, 32, NULL) == 1 && EVP_MAC_update(m, ad, ad_len) == 1 &&
             EVP_MAC_update(m, zeros, (16 - ad_len % 16) % 16) == 1 &&
             EVP_MAC_update(m, ct, len) == 1 &&
             EVP_MAC_update(m, zeros, (16 - len % 16) % 16) == 1 &&
             EVP_MAC_update(m, lens, sizeof lens) == 1 &&
             EVP_MAC_final(m, mac, &maclen, MS_TAG_LEN) == 1 && maclen == MS_TAG_LEN;
    EVP_MAC_CTX_free(m);
    ms_wipe(block0, sizeof block0);
    return ok;
}

/* 1: opened; 0: not authentic; -1: OpenSSL failed, pt untouched; -2: failed, pt wiped. */
static int ossl_open(uint8_t *pt, const uint8_t *ct, size_t len,
                     const uint8_t tag[static MS_TAG_LEN], const uint8_t *ad, size_t ad_len,
                     const uint8_t nonce[static MS_NONCE_LEN], const uint8_t key[static MS_KEY_LEN])
{
    uint8_t iv[16] = {0}, mac[MS_TAG_LEN];
    int n = 0, rc = -1;
    memcpy(iv + 4, nonce, MS_NONCE_LEN);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    if (x != NULL && ossl_tag(mac, x, ct, len, ad, ad_len, iv, key)) {
        rc = crypto_verify_16(mac, tag) == 0;
    }
    if (rc == 1 && len > 0) {
        iv[0] = 1; /* the ciphertext starts at block 1 */
        if (EVP_EncryptInit_ex2(x, g_stream, key, iv, NULL) != 1) {
            rc = -1;
        } else if (EVP_EncryptUpdate(x, pt, &n, ct, (int)len) != 1 || (size_t)n != len) {
            rc = -2; /* not seen: a set-up cipher does not fail */
            ms_wipe(pt, len);
        }
    }
    EVP_CIPHER_CTX_free(x);
    ms_wipe(mac, sizeof mac);
    return rc;
}

ms_err ms_aead_open(ms_aead_impl impl, uint8_t *pt, const uint8_t *ct, size_t len,
                    const uint8_t tag[static MS_TAG_LEN], const uint8_t *ad, size_t ad_len,
                    const uint8_t nonce[static MS_NONCE_LEN], const uint8_t key[static MS_KEY_LEN])
{
    int rc = use_openssl(impl, len) ? ossl_open(pt, ct, len, tag, ad, ad_len, nonce, key) : -1;
    if (rc == 0) {
        memset(pt, 0, len); /* as libsodium leaves a refused message's output */
    }
    if (rc >= 0) {
        return rc == 1 ? MS_OK : MS_ERR_REC_AUTH;
    }
    ENSURE(rc == -1 || pt != ct, MS_ERR_INTERNAL); /* in place, the ciphertext is gone */
    /* libsodium verifies the tag before it writes any plaintext. */
    ENSURE(crypto_aead_chacha20poly1305_ietf_decrypt_detached(pt, NULL, ct, len, tag, ad, ad_len,
                                                              nonce, key) == 0,
           MS_ERR_REC_AUTH);
    return MS_OK;
}

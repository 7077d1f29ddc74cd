/* Development-key evidence: key files (OpenSSL PEM), evidence, verifier, TLS key hashes. */
#include "secure/attest/devkey.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/limits.h"

_Static_assert(MS_DEVKEY_EVIDENCE_LEN == 1 + MS_SIGN_PK_LEN + MS_SIG_LEN, "evidence layout");

void ms_devkey_wipe(ms_devkey *k)
{
    ms_wipe(k, sizeof *k);
}

/* Read all of fd into out (at most `max` bytes). */
static ms_err read_fd(int fd, size_t max, ms_buf *out)
{
    ms_err err = MS_OK;
    uint8_t chunk[4096];
    size_t start = out->len;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ENSURE_OUT(n >= 0, MS_ERR_IO);
        if (n == 0) {
            break;
        }
        ENSURE_OUT(out->len - start + (size_t)n <= max, MS_ERR_CAP_EXCEEDED);
        TRY_OUT(ms_buf_append(out, chunk, (size_t)n));
    }
out:
    ms_wipe(chunk, sizeof chunk);
    return err;
}

ms_err ms_file_read(const char *path, size_t max, ms_buf *out)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ENSURE(fd >= 0, MS_ERR_FILE_OPEN);
    ms_err err = read_fd(fd, max, out);
    close(fd);
    return err;
}

/* Owner-only and owned by us: anything else means someone else may hold the key. */
static ms_err check_private_file(int fd)
{
    struct stat st;
    ENSURE(fstat(fd, &st) == 0, MS_ERR_IO);
    ENSURE(S_ISREG(st.st_mode), MS_ERR_FILE_FORMAT);
    ENSURE((st.st_mode & 077) == 0 && st.st_uid == geteuid(), MS_ERR_FILE_PERMS);
    return MS_OK;
}

static ms_err pkey_to_devkey(EVP_PKEY *pkey, ms_devkey *out)
{
    uint8_t seed[MS_SIGN_SEED_LEN];
    size_t len = sizeof seed;
    ENSURE(EVP_PKEY_id(pkey) == EVP_PKEY_ED25519, MS_ERR_FILE_FORMAT);
    ENSURE(EVP_PKEY_get_raw_private_key(pkey, seed, &len) == 1 && len == sizeof seed,
           MS_ERR_FILE_FORMAT);
    crypto_sign_seed_keypair(out->pk, out->sk, seed);
    ms_wipe(seed, sizeof seed);
    return MS_OK;
}

static ms_err load_private(const char *path, ms_devkey *out)
{
    ms_err err = MS_OK;
    ms_buf text;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    ms_buf_init(&text, MS_MAX_KEY_FILE);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ENSURE(fd >= 0, MS_ERR_FILE_OPEN);
    TRY_OUT(check_private_file(fd)); /* the same descriptor we then read: no swap between */
    TRY_OUT(read_fd(fd, MS_MAX_KEY_FILE, &text));
    bio = BIO_new_mem_buf(text.p, (int)text.len);
    ENSURE_OUT(bio != NULL, MS_ERR_NOMEM);
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    ENSURE_OUT(pkey != NULL, MS_ERR_FILE_FORMAT);
    TRY_OUT(pkey_to_devkey(pkey, out));
out:
    if (fd >= 0) {
        close(fd);
    }
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    ms_buf_free(&text);
    return err;
}

/* PEM-encode with OpenSSL into memory; `priv` selects PKCS#8 private or SPKI public. */
static ms_err pem_of(EVP_PKEY *pkey, int priv, ms_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    int ok = priv ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                  : PEM_write_bio_PUBKEY(bio, pkey);
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(bio, &data) : 0;
    ms_err err = ok && n > 0 ? ms_buf_append(out, data, (size_t)n) : MS_ERR_INTERNAL;
    if (data && n > 0) {
        ms_wipe(data, (size_t)n);
    }
    BIO_free(bio);
    return err;
}

static ms_err create_private(const char *path, ms_devkey *out)
{
    ms_err err = MS_OK;
    uint8_t seed[MS_SIGN_SEED_LEN];
    ms_buf pem;
    ms_buf_init(&pem, MS_MAX_KEY_FILE);
    randombytes_buf(seed, sizeof seed);
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
    ENSURE_OUT(pkey != NULL, MS_ERR_INTERNAL);
    TRY_OUT(pem_of(pkey, 1, &pem));
    TRY_OUT(ms_file_write_new(path, pem.p, pem.len, 0600));
    crypto_sign_seed_keypair(out->pk, out->sk, seed);
out:
    EVP_PKEY_free(pkey);
    ms_wipe(seed, sizeof seed);
    ms_buf_free(&pem);
    return err;
}

/* sodium ready, then load or create; *out wiped on any error. */
static ms_err key_step(ms_err (*step)(const char *, ms_devkey *), const char *path, ms_devkey *out)
{
    memset(out, 0, sizeof *out);
    TRY(sodium_init() >= 0 ? MS_OK : MS_ERR_CRYPTO_INIT);
    ms_err err = step(path, out);
    if (err != MS_OK) {
        ms_devkey_wipe(out);
    }
    return err;
}

ms_err ms_devkey_load_or_create(const char *path, ms_devkey *out, int *created)
{
    struct stat st;
    *created = 0;
    if (lstat(path, &st) != 0 && errno == ENOENT) {
        ms_err err = key_step(create_private, path, out);
        *created = err == MS_OK;
        return err;
    }
    return key_step(load_private, path, out);
}

ms_err ms_devkey_load(const char *path, ms_devkey *out)
{
    return key_step(load_private, path, out);
}

ms_err ms_devkey_create(const char *path, ms_devkey *out)
{
    return key_step(create_private, path, out);
}

ms_err ms_devkey_write_public(const char *path, const uint8_t pk[static MS_SIGN_PK_LEN])
{
    ms_buf pem;
    ms_buf_init(&pem, MS_MAX_KEY_FILE);
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, MS_SIGN_PK_LEN);
    ENSURE(pkey != NULL, MS_ERR_INTERNAL);
    ms_err err = pem_of(pkey, 0, &pem);
    EVP_PKEY_free(pkey);
    if (err == MS_OK) {
        /* A public key may be replaced: write a temporary file, then rename over. */
        char tmp[4096];
        int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
        err = n > 0 && (size_t)n < sizeof tmp ? MS_OK : MS_ERR_ARG;
        if (err == MS_OK) {
            unlink(tmp);
            err = ms_file_write_new(tmp, pem.p, pem.len, 0644);
        }
        if (err == MS_OK && rename(tmp, path) != 0) {
            unlink(tmp);
            err = MS_ERR_IO;
        }
    }
    ms_buf_free(&pem);
    return err;
}

ms_err ms_devkey_parse_public(const uint8_t *pem, size_t len, uint8_t pk[static MS_SIGN_PK_LEN])
{
    memset(pk, 0, MS_SIGN_PK_LEN);
    ENSURE(len > 0 && len <= MS_MAX_KEY_FILE, len ? MS_ERR_CAP_EXCEEDED : MS_ERR_FILE_FORMAT);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ENSURE(pkey != NULL, MS_ERR_FILE_FORMAT);
    size_t n = MS_SIGN_PK_LEN;
    int ok = EVP_PKEY_id(pkey) == EVP_PKEY_ED25519 &&
             EVP_PKEY_get_raw_public_key(pkey, pk, &n) == 1 && n == MS_SIGN_PK_LEN;
    EVP_PKEY_free(pkey);
    if (!ok) {
        memset(pk, 0, MS_SIGN_PK_LEN);
    }
    return ok ? MS_OK : MS_ERR_FILE_FORMAT;
}

ms_err ms_devkey_read_public(const char *path, uint8_t pk[static MS_SIGN_PK_LEN])
{
    ms_buf text;
    ms_buf_init(&text, MS_MAX_KEY_FILE);
    memset(pk, 0, MS_SIGN_PK_LEN);
    ms_err err = ms_file_read(path, MS_MAX_KEY_FILE, &text);
    if (err == MS_OK) {
        err = ms_devkey_parse_public(text.p, text.len, pk);
    }
    ms_buf_free(&text);
    return err;
}

/* DER SubjectPublicKeyInfo of an Ed25519 key: a fixed 12-byte prefix, then the key. */
static const uint8_t ED25519_SPKI_PREFIX[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

void ms_devkey_fingerprint(const uint8_t pk[static MS_SIGN_PK_LEN], char out[static MS_FINGERPRINT_LEN])
{
    uint8_t der[sizeof ED25519_SPKI_PREFIX + MS_SIGN_PK_LEN], h[32];
    size_t n;
    memcpy(der, ED25519_SPKI_PREFIX, sizeof ED25519_SPKI_PREFIX);
    memcpy(der + sizeof ED25519_SPKI_PREFIX, pk, MS_SIGN_PK_LEN);
    crypto_hash_sha256(h, der, sizeof der);
    memcpy(out, "sha256:", 7);
    if (ms_hex_encode(h, sizeof h, out + 7, MS_FINGERPRINT_LEN - 7, &n) != MS_OK) {
        out[0] = 0;
    }
}

ms_err ms_devkey_evidence(const ms_devkey *k, const uint8_t binding[static MS_BINDING_LEN],
                          ms_buf *out)
{
    uint8_t ev[MS_DEVKEY_EVIDENCE_LEN];
    ev[0] = MS_DEVKEY_FORMAT;
    memcpy(ev + 1, k->pk, MS_SIGN_PK_LEN);
    crypto_sign_detached(ev + 1 + MS_SIGN_PK_LEN, NULL, binding, MS_BINDING_LEN, k->sk);
    return ms_buf_append(out, ev, sizeof ev);
}

ms_err ms_devkey_verify(const uint8_t pinned_pk[static MS_SIGN_PK_LEN], const uint8_t *ev,
                        size_t len, const uint8_t binding[static MS_BINDING_LEN])
{
    ENSURE(ev != NULL && len == MS_DEVKEY_EVIDENCE_LEN && ev[0] == MS_DEVKEY_FORMAT,
           MS_ERR_ATTEST_FORMAT);
    ENSURE(ms_ct_equal(ev + 1, pinned_pk, MS_SIGN_PK_LEN), MS_ERR_ATTEST_KEY);
    ENSURE(crypto_sign_verify_detached(ev + 1 + MS_SIGN_PK_LEN, binding, MS_BINDING_LEN,
                                       pinned_pk) == 0,
           MS_ERR_ATTEST_SIGNATURE);
    return MS_OK;
}

ms_err ms_tls_spki_sha256_pem(const uint8_t *pem, size_t len, uint8_t out[static MS_SPKI_HASH_LEN])
{
    memset(out, 0, MS_SPKI_HASH_LEN);
    ENSURE(len > 0 && len <= MS_MAX_KEY_FILE * 4, MS_ERR_FILE_FORMAT);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ENSURE(cert != NULL, MS_ERR_FILE_FORMAT);
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    X509_free(cert);
    ENSURE(n > 0 && der != NULL, MS_ERR_FILE_FORMAT);
    SHA256(der, (size_t)n, out);
    OPENSSL_free(der);
    return MS_OK;
}

ms_err ms_tls_key_matches_pem(const uint8_t *cert, size_t cert_len, const uint8_t *key,
                              size_t key_len)
{
    ms_err err = MS_OK;
    X509 *x = NULL;
    EVP_PKEY *pk = NULL;
    ENSURE(cert_len > 0 && cert_len <= MS_MAX_KEY_FILE * 4 && key_len > 0 &&
               key_len <= MS_MAX_KEY_FILE,
           MS_ERR_FILE_FORMAT);
    BIO *bio = BIO_new_mem_buf(cert, (int)cert_len);
    ENSURE(bio != NULL, MS_ERR_NOMEM);
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ENSURE_OUT(x != NULL, MS_ERR_FILE_FORMAT);
    bio = BIO_new_mem_buf(key, (int)key_len);
    ENSURE_OUT(bio != NULL, MS_ERR_NOMEM);
    pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ENSURE_OUT(pk != NULL, MS_ERR_FILE_FORMAT);
    ENSURE_OUT(X509_check_private_key(x, pk) == 1, MS_ERR_TLS_KEY_MISMATCH);
out:
    EVP_PKEY_free(pk);
    X509_free(x);
    return err;
}

ms_err ms_tls_spki_sha256_file(const char *cert_pem_path, uint8_t out[static MS_SPKI_HASH_LEN])
{
    ms_buf text;
    ms_buf_init(&text, MS_MAX_KEY_FILE * 4);
    memset(out, 0, MS_SPKI_HASH_LEN);
    ms_err err = ms_file_read(cert_pem_path, MS_MAX_KEY_FILE * 4, &text);
    if (err == MS_OK) {
        err = ms_tls_spki_sha256_pem(text.p, text.len, out);
    }
    ms_buf_free(&text);
    return err;
}

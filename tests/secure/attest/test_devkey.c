/* Dev-key evidence tests: key files and their permissions, evidence checks, TLS key hashes. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "secure/attest/devkey.h"
#include "tests/test.h"

static char dir[256];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void test_create_then_load(void)
{
    char p[512];
    ms_devkey a, b;
    int created;
    struct stat st;
    path_in(p, sizeof p, "dev.pem");
    CHECK_OK(ms_devkey_load_or_create(p, &a, &created));
    CHECK(created == 1);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_OK(ms_devkey_load_or_create(p, &b, &created));
    CHECK(created == 0 && memcmp(a.pk, b.pk, sizeof a.pk) == 0 && memcmp(a.sk, b.sk, sizeof a.sk) == 0);

    /* The public file round-trips and names the same key. */
    char pub[512];
    uint8_t pk[MS_SIGN_PK_LEN];
    path_in(pub, sizeof pub, "dev.pem.pub");
    CHECK_OK(ms_devkey_write_public(pub, a.pk));
    CHECK_OK(ms_devkey_read_public(pub, pk));
    CHECK(memcmp(pk, a.pk, sizeof pk) == 0);
    CHECK_OK(ms_devkey_write_public(pub, a.pk)); /* replacing it is fine */
    /* A private key file is not a public key file. */
    CHECK_ERR(ms_devkey_read_public(p, pk), MS_ERR_FILE_FORMAT);
    ms_devkey_wipe(&a);
    ms_devkey_wipe(&b);
}

static void test_refuses_open_permissions_and_links(void)
{
    char p[512], link[512];
    ms_devkey k;
    int created;
    path_in(p, sizeof p, "dev.pem");
    CHECK(chmod(p, 0644) == 0);
    CHECK_ERR(ms_devkey_load_or_create(p, &k, &created), MS_ERR_FILE_PERMS);
    CHECK(chmod(p, 0640) == 0);
    CHECK_ERR(ms_devkey_load_or_create(p, &k, &created), MS_ERR_FILE_PERMS);
    CHECK(chmod(p, 0600) == 0);
    CHECK_OK(ms_devkey_load_or_create(p, &k, &created));
    /* A symlink is never followed, to an existing key or to where a key would be created. */
    path_in(link, sizeof link, "link.pem");
    CHECK(symlink(p, link) == 0);
    CHECK_ERR(ms_devkey_load_or_create(link, &k, &created), MS_ERR_FILE_OPEN);
    char dangling[512], target[512];
    path_in(dangling, sizeof dangling, "dangling.pem");
    path_in(target, sizeof target, "would-be-created.pem");
    CHECK(symlink(target, dangling) == 0);
    CHECK(ms_devkey_load_or_create(dangling, &k, &created) != MS_OK);
    CHECK(access(target, F_OK) != 0);
    /* Garbage in a 0600 file is a format error, not a crash or a new key. */
    char junk[512];
    path_in(junk, sizeof junk, "junk.pem");
    int fd = open(junk, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, "-----BEGIN PRIVATE KEY-----\nAAAA\n", 33) == 33);
    close(fd);
    CHECK_ERR(ms_devkey_load_or_create(junk, &k, &created), MS_ERR_FILE_FORMAT);
    ms_devkey_wipe(&k);
}

/* A key file owned by someone else is not ours, whatever its mode (needs root to chown). */
static void test_refuses_other_owner(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_devkey: owner check not exercised: chown needs root\n");
        return;
    }
    char p[512];
    ms_devkey k;
    int created;
    path_in(p, sizeof p, "owned.pem");
    CHECK_OK(ms_devkey_load_or_create(p, &k, &created));
    CHECK(created == 1);
    CHECK(chown(p, 65534, 65534) == 0);
    CHECK(chmod(p, 0600) == 0);
    CHECK_ERR(ms_devkey_load_or_create(p, &k, &created), MS_ERR_FILE_PERMS);
    CHECK(chown(p, 0, 0) == 0);
    CHECK_OK(ms_devkey_load_or_create(p, &k, &created));
    CHECK(created == 0);
    ms_devkey_wipe(&k);
}

static void test_evidence_checks(void)
{
    char p[512];
    ms_devkey k, other;
    int created;
    uint8_t b[MS_BINDING_LEN], b2[MS_BINDING_LEN];
    ms_buf ev;
    path_in(p, sizeof p, "dev.pem");
    CHECK_OK(ms_devkey_load_or_create(p, &k, &created));
    path_in(p, sizeof p, "other.pem");
    CHECK_OK(ms_devkey_load_or_create(p, &other, &created));
    memset(b, 0x42, sizeof b);
    memcpy(b2, b, sizeof b);
    b2[63] ^= 1;
    ms_buf_init(&ev, 256);
    CHECK_OK(ms_devkey_evidence(&k, b, &ev));
    CHECK(ev.len == MS_DEVKEY_EVIDENCE_LEN);
    CHECK_OK(ms_devkey_verify(k.pk, ev.p, ev.len, b));
    CHECK_ERR(ms_devkey_verify(k.pk, ev.p, ev.len, b2), MS_ERR_ATTEST_SIGNATURE);
    CHECK_ERR(ms_devkey_verify(other.pk, ev.p, ev.len, b), MS_ERR_ATTEST_KEY);
    CHECK_ERR(ms_devkey_verify(k.pk, ev.p, ev.len - 1, b), MS_ERR_ATTEST_FORMAT);
    CHECK_ERR(ms_devkey_verify(k.pk, NULL, 0, b), MS_ERR_ATTEST_FORMAT);
    /* Every byte flipped fails, each in its own way. */
    int bad = 0;
    for (size_t i = 0; i < ev.len; i++) {
        ev.p[i] ^= 0x01;
        ms_err e = ms_devkey_verify(k.pk, ev.p, ev.len, b);
        ms_err want = i == 0 ? MS_ERR_ATTEST_FORMAT : i < 33 ? MS_ERR_ATTEST_KEY : MS_ERR_ATTEST_SIGNATURE;
        bad += e != want;
        ev.p[i] ^= 0x01;
    }
    CHECK(bad == 0);
    /* Another key's evidence, presented with the other key's own pk in it. */
    ms_buf_clear(&ev);
    CHECK_OK(ms_devkey_evidence(&other, b, &ev));
    CHECK_ERR(ms_devkey_verify(k.pk, ev.p, ev.len, b), MS_ERR_ATTEST_KEY);
    ms_buf_free(&ev);
    ms_devkey_wipe(&k);
    ms_devkey_wipe(&other);
}

static void test_public_pem_negatives(void)
{
    uint8_t pk[MS_SIGN_PK_LEN];
    const char *cases[] = {
        "",
        "not a pem",
        "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(pk, 0x55, sizeof pk);
        CHECK(ms_devkey_parse_public((const uint8_t *)cases[i], strlen(cases[i]), pk) != MS_OK);
        uint8_t zero[MS_SIGN_PK_LEN] = {0};
        CHECK(memcmp(pk, zero, sizeof pk) == 0);
    }
    /* A real X25519 public key is well-formed PEM, but not an Ed25519 key. */
    char x25519[512] = {0};
    FILE *f = popen("openssl genpkey -algorithm X25519 2>/dev/null | openssl pkey -pubout", "r");
    size_t got = f ? fread(x25519, 1, sizeof x25519 - 1, f) : 0;
    if (f) {
        pclose(f);
    }
    CHECK(got > 40 && strstr(x25519, "BEGIN PUBLIC KEY") != NULL);
    CHECK_ERR(ms_devkey_parse_public((const uint8_t *)x25519, got, pk), MS_ERR_FILE_FORMAT);
    static uint8_t huge[MS_MAX_KEY_FILE + 1];
    CHECK_ERR(ms_devkey_parse_public(huge, sizeof huge, pk), MS_ERR_CAP_EXCEEDED);
    /* At the cap exactly, the bytes are read (and are not a key). */
    CHECK_ERR(ms_devkey_parse_public(huge, MS_MAX_KEY_FILE, pk), MS_ERR_FILE_FORMAT);
    CHECK_ERR(ms_devkey_parse_public(huge, 0, pk), MS_ERR_FILE_FORMAT);
}

/* Our SPKI hash of the dev certificate equals what the openssl tool computes. */
static void test_tls_spki_hash(void)
{
    char cmd[1024], want_hex[80] = {0}, got_hex[80];
    uint8_t h[MS_SPKI_HASH_LEN];
    size_t n;
    snprintf(cmd, sizeof cmd,
             "openssl x509 -in %s/certs/dev/server.pem -pubkey -noout | openssl pkey -pubin "
             "-outform der | openssl dgst -sha256 -r",
             MS_SOURCE_DIR);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL && fgets(want_hex, sizeof want_hex, f) != NULL);
    if (f) {
        pclose(f);
    }
    want_hex[64] = 0;
    snprintf(cmd, sizeof cmd, "%s/certs/dev/server.pem", MS_SOURCE_DIR);
    CHECK_OK(ms_tls_spki_sha256_file(cmd, h));
    CHECK_OK(ms_hex_encode(h, sizeof h, got_hex, sizeof got_hex, &n));
    CHECK(strcmp(got_hex, want_hex) == 0);
    CHECK_ERR(ms_tls_spki_sha256_pem((const uint8_t *)"junk", 4, h), MS_ERR_FILE_FORMAT);
}

/* ms_file_read: a file of exactly `max` bytes is read, one byte more is MS_ERR_CAP_EXCEEDED
   (also across read()'s 4096-byte chunks). */
static void test_file_read_cap(void)
{
    char p[512];
    static uint8_t data[3 * 4096 + 1];
    ms_buf b;
    memset(data, 'k', sizeof data);
    path_in(p, sizeof p, "sized.bin");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, data, sizeof data) == (ssize_t)sizeof data);
    close(fd);
    ms_buf_init(&b, sizeof data);
    CHECK_OK(ms_file_read(p, sizeof data, &b));
    CHECK(b.len == sizeof data);
    ms_buf_clear(&b);
    CHECK_ERR(ms_file_read(p, sizeof data - 1, &b), MS_ERR_CAP_EXCEEDED);
    ms_buf_free(&b);
}

/* A dev key path that is a directory (mode 0700, ours) is a format error, not an I/O one;
   a 0600 PEM private key of another type (X25519, P-256) is not an Ed25519 dev key. */
static void test_key_file_kinds(void)
{
    char p[512], cmd[1200];
    ms_devkey k;
    int created;
    path_in(p, sizeof p, "a-directory.pem");
    CHECK(mkdir(p, 0700) == 0);
    CHECK_ERR(ms_devkey_load_or_create(p, &k, &created), MS_ERR_FILE_FORMAT);
    static const char *const algs[] = {"X25519", "EC -pkeyopt ec_paramgen_curve:P-256"};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        path_in(p, sizeof p, i == 0 ? "x25519.pem" : "p256.pem");
        snprintf(cmd, sizeof cmd, "openssl genpkey -algorithm %s -out '%s' 2>/dev/null", algs[i], p);
        CHECK(system(cmd) == 0 && chmod(p, 0600) == 0);
        CHECK_ERR(ms_devkey_load_or_create(p, &k, &created), MS_ERR_FILE_FORMAT);
    }
    /* the control: an Ed25519 key made the same way loads */
    path_in(p, sizeof p, "ed25519.pem");
    snprintf(cmd, sizeof cmd, "openssl genpkey -algorithm ED25519 -out '%s' 2>/dev/null", p);
    CHECK(system(cmd) == 0 && chmod(p, 0600) == 0);
    CHECK_OK(ms_devkey_load_or_create(p, &k, &created));
    CHECK(created == 0);
    ms_devkey_wipe(&k);
}

/* certs/dev's file, whole, into b (cap `cap`, room left for padding). */
static void dev_file(const char *name, ms_buf *b, size_t cap)
{
    char p[512];
    snprintf(p, sizeof p, "%s/certs/dev/%s", MS_SOURCE_DIR, name);
    ms_buf_init(b, cap);
    CHECK_OK(ms_file_read(p, MS_MAX_KEY_FILE, b));
}

/* Pad b with newlines (after the PEM block: its parser ignores them) to exactly n bytes. */
static void pad_to(ms_buf *b, size_t n)
{
    while (b->len < n && ms_buf_append_u8(b, '\n') == MS_OK) {
    }
    CHECK(b->len == n);
}

/* The TLS certificate and key checks: their caps (exactly the cap passes), a certificate or
   key that does not parse, and a key that is not the certificate's. */
static void test_tls_pem_checks(void)
{
    const size_t cert_cap = MS_MAX_KEY_FILE * 4;
    ms_buf cert, key, other;
    uint8_t h[MS_SPKI_HASH_LEN], want[MS_SPKI_HASH_LEN];
    dev_file("server.pem", &cert, cert_cap + 1);
    dev_file("server.key", &key, MS_MAX_KEY_FILE + 1);
    dev_file("ca.key", &other, MS_MAX_KEY_FILE);
    CHECK_OK(ms_tls_spki_sha256_pem(cert.p, cert.len, want));
    CHECK_OK(ms_tls_key_matches_pem(cert.p, cert.len, key.p, key.len));
    CHECK_ERR(ms_tls_key_matches_pem(cert.p, cert.len, other.p, other.len),
              MS_ERR_TLS_KEY_MISMATCH);
    CHECK_ERR(ms_tls_key_matches_pem((const uint8_t *)"junk", 4, key.p, key.len),
              MS_ERR_FILE_FORMAT);
    CHECK_ERR(ms_tls_key_matches_pem(cert.p, cert.len, (const uint8_t *)"junk", 4),
              MS_ERR_FILE_FORMAT);
    /* the caps */
    pad_to(&cert, cert_cap);
    pad_to(&key, MS_MAX_KEY_FILE);
    CHECK_OK(ms_tls_spki_sha256_pem(cert.p, cert.len, h));
    CHECK(memcmp(h, want, sizeof h) == 0);
    CHECK_OK(ms_tls_key_matches_pem(cert.p, cert.len, key.p, key.len));
    pad_to(&cert, cert_cap + 1);
    CHECK_ERR(ms_tls_spki_sha256_pem(cert.p, cert.len, h), MS_ERR_FILE_FORMAT);
    CHECK_ERR(ms_tls_key_matches_pem(cert.p, cert.len, key.p, key.len), MS_ERR_FILE_FORMAT);
    CHECK_OK(ms_buf_shrink(&cert, 1));
    pad_to(&key, MS_MAX_KEY_FILE + 1);
    CHECK_ERR(ms_tls_key_matches_pem(cert.p, cert.len, key.p, key.len), MS_ERR_FILE_FORMAT);
    ms_buf_free(&cert);
    ms_buf_free(&key);
    ms_buf_free(&other);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/ms-test-devkey-XXXXXX");
    if (!mkdtemp(dir)) {
        return 1;
    }
    RUN(test_create_then_load);
    RUN(test_refuses_open_permissions_and_links);
    RUN(test_refuses_other_owner);
    RUN(test_evidence_checks);
    RUN(test_public_pem_negatives);
    RUN(test_tls_spki_hash);
    RUN(test_file_read_cap);
    RUN(test_key_file_kinds);
    RUN(test_tls_pem_checks);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return TEST_SUMMARY();
}

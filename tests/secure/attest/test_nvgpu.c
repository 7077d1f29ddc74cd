/* NVIDIA GPU evidence tests: the real H100 vector, then a made-up chain for every policy check. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secure/attest/nvgpu.h"
#include "tests/secure/attest/nvgpu_fixture.h"
#include "tests/test.h"

static nv_fx_real real;
static ms_nvgpu_checks chk; /* large: static */

static const uint8_t NONCE[32] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static ms_nvgpu_policy real_policy(void)
{
    ms_nvgpu_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = real.ders.p + real.off[real.n - 1];
    p.root_len = real.len[real.n - 1];
    return p;
}

static void real_item(ms_buf *item, const uint8_t *report, size_t len)
{
    CHECK(nv_fx_item(item, report, len, 0, &real.ders, real.off, real.len, real.n));
}

/* ---- the real vector --------------------------------------------------------------------- */

static void test_real_decode(void)
{
    static ms_nvgpu_report r;
    CHECK_OK(ms_nvgpu_report_decode(real.report.p, real.report.len, &r));
    CHECK(real.report.len == 4049);
    CHECK(r.n_blocks == 64);
    CHECK(r.blocks[0].index == 1 && r.blocks[63].index == 64);
    CHECK(r.blocks[0].value_len == 48);
    CHECK(r.signed_len == real.report.len - MS_NVGPU_SIG_LEN);
    CHECK(r.req_nonce == real.report.p + 4);
    CHECK(r.n_fields == 12 && r.n_unknown == 0);
    CHECK(strcmp(r.driver_version, "545.00") == 0);
    CHECK(strcmp(r.vbios_version, "96.00.5E.00.01") == 0);
    CHECK(strcmp(r.project, "1010") == 0 && strcmp(r.project_sku, "0200") == 0);
    CHECK(strcmp(r.chip_sku, "882") == 0);
    CHECK(!r.have_feature_flag);
    CHECK(ms_nvgpu_report_block(&r, 64) != NULL && ms_nvgpu_report_block(&r, 65) == NULL);
    CHECK(real.n == 5);
}

static void test_real_verifies_offline(void)
{
    ms_buf item;
    ms_nvgpu_policy p = real_policy();
    real_item(&item, real.report.p, real.report.len);
    CHECK_OK(ms_nvgpu_verify_checks(&p, item.p, item.len, NULL, NV_FX_REAL_AT, 0, &chk));
    CHECK(chk.ran[MS_NVGPU_CHECK_FORMAT] && chk.ran[MS_NVGPU_CHECK_CHAIN]);
    CHECK(chk.ran[MS_NVGPU_CHECK_IDENTITY] && chk.ran[MS_NVGPU_CHECK_SIGNATURE]);
    CHECK(!chk.ran[MS_NVGPU_CHECK_NONCE] && chk.skip_reason[MS_NVGPU_CHECK_NONCE] != NULL);
    CHECK(strcmp(chk.device_id, "41FFEEB20009E0BE49") == 0);
    /* Pinning its own measurements passes. */
    static ms_nvgpu_meas m[64];
    for (size_t i = 0; i < chk.report.n_blocks; i++) {
        m[i].index = chk.report.blocks[i].index;
        m[i].len = (uint8_t)chk.report.blocks[i].value_len;
        memcpy(m[i].value, chk.report.blocks[i].value, m[i].len);
    }
    p.meas = m;
    p.n_meas = chk.report.n_blocks;
    CHECK_OK(ms_nvgpu_verify_checks(&p, item.p, item.len, NULL, NV_FX_REAL_AT, 1, &chk));
    m[7].value[3] ^= 1;
    CHECK_ERR(ms_nvgpu_verify_checks(&p, item.p, item.len, NULL, NV_FX_REAL_AT, 1, &chk),
              MS_ERR_NVGPU_MEASUREMENT);
    /* In a live handshake the nonce is ours, and the vector's is not. */
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, NV_FX_REAL_AT, &chk),
              MS_ERR_NVGPU_NONCE);
    /* Before the chain's validity. */
    p.n_meas = 0;
    CHECK_ERR(ms_nvgpu_verify_checks(&p, item.p, item.len, NULL, 1500000000u, 0, &chk),
              MS_ERR_NVGPU_CHAIN);
    ms_buf_free(&item);
}

static void test_real_chain_without_root(void)
{
    ms_buf item;
    ms_nvgpu_policy p = real_policy();
    CHECK(nv_fx_item(&item, real.report.p, real.report.len, 0, &real.ders, real.off, real.len,
                     real.n - 1));
    CHECK_OK(ms_nvgpu_verify_checks(&p, item.p, item.len, NULL, NV_FX_REAL_AT, 0, &chk));
    ms_buf_free(&item);
    /* Only the leaf: no intermediates, no device certificate. */
    CHECK(nv_fx_item(&item, real.report.p, real.report.len, 0, &real.ders, real.off, real.len, 1));
    CHECK_ERR(ms_nvgpu_verify_checks(&p, item.p, item.len, NULL, NV_FX_REAL_AT, 0, &chk),
              MS_ERR_NVGPU_CHAIN);
    CHECK(chk.result[MS_NVGPU_CHECK_IDENTITY] == MS_ERR_NVGPU_IDENTITY);
    ms_buf_free(&item);
}

/* The chain is not what is flipped: it is left out (root NULL) to keep the loop fast. */
static void test_real_flip_every_signed_byte(void)
{
    ms_nvgpu_policy p = real_policy();
    p.root_der = NULL;
    uint8_t *copy = malloc(real.report.len);
    ms_buf item;
    int bad = 0;
    CHECK(copy != NULL);
    /* Quick mode: about 64 bytes spread over the report, its last included (each flip
       verifies the P-384 signature again); full mode: every byte. */
    for (size_t i = 0; copy != NULL && i < real.report.len;
         i = test_sample_next(i, 0, real.report.len, 64)) {
        memcpy(copy, real.report.p, real.report.len);
        copy[i] ^= 0x01;
        real_item(&item, copy, real.report.len);
        ms_err e = ms_nvgpu_verify_checks(&p, item.p, item.len, NULL, NV_FX_REAL_AT, 0, &chk);
        if (e != MS_ERR_NVGPU_FORMAT && e != MS_ERR_NVGPU_SIGNATURE) {
            bad++;
        }
        ms_buf_free(&item);
    }
    CHECK(bad == 0);
    free(copy);
}

static void test_real_truncated(void)
{
    ms_nvgpu_policy p = real_policy();
    ms_buf item;
    real_item(&item, real.report.p, real.report.len);
    int bad = 0;
    /* Quick mode: every 7th length, the last included; full mode: every length. */
    for (size_t n = 0; n < item.len; n = test_sample_next(n, 0, item.len, item.len / 7)) {
        if (ms_nvgpu_verify_checks(&p, item.p, n, NULL, NV_FX_REAL_AT, 0, &chk) !=
            MS_ERR_NVGPU_FORMAT) {
            bad++;
        }
    }
    CHECK(bad == 0);
    static ms_nvgpu_report r;
    for (size_t n = 0; n < real.report.len; n++) {
        if (ms_nvgpu_report_decode(real.report.p, n, &r) != MS_ERR_NVGPU_FORMAT) {
            bad++;
        }
    }
    CHECK(bad == 0);
    ms_buf_free(&item);
}

/* Decoder rules, each on an edited copy of the real report. */
static void test_decode_rules(void)
{
    static ms_nvgpu_report r;
    size_t n = real.report.len;
    uint8_t *c = malloc(n + 1);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
#define EDIT(off, val)                                                                             \
    do {                                                                                           \
        memcpy(c, real.report.p, n);                                                               \
        c[(off)] = (val);                                                                          \
        CHECK_ERR(ms_nvgpu_report_decode(c, n, &r), MS_ERR_NVGPU_FORMAT);                          \
    } while (0)
    EDIT(0, 0x12);      /* request version */
    EDIT(1, 0xE1);      /* request code */
    EDIT(2, 0x00);      /* no signature requested */
    EDIT(3, 0x01);      /* one measurement, not all */
    EDIT(36, 8);        /* slot id */
    EDIT(37, 0x10);     /* response version */
    EDIT(38, 0x61);     /* response code */
    EDIT(41, 63);       /* block count */
    EDIT(45 + 55, 1);   /* block 2's index = 1: a duplicate */
    EDIT(45 + 1, 0x02); /* measurement spec not DMTF */
    EDIT(45 + 2, 52);   /* block size inconsistent */
    EDIT(45 + 5, 47);   /* DMTF value size inconsistent */
    EDIT(45, 0);        /* index 0 */
#undef EDIT
    memcpy(c, real.report.p, n);
    c[n] = 0;
    CHECK_ERR(ms_nvgpu_report_decode(c, n + 1, &r), MS_ERR_NVGPU_FORMAT); /* trailing byte */
    /* An opaque field type twice: the second field (board id, type 14) renamed to type 6. */
    memcpy(c, real.report.p, n);
    size_t opaque = 37 + 8 + 3520 + 32 + 2;
    CHECK(c[opaque] == 6 && c[opaque + 4 + 8] == 14);
    c[opaque + 4 + 8] = 6;
    CHECK_ERR(ms_nvgpu_report_decode(c, n, &r), MS_ERR_NVGPU_FORMAT);
    free(c);
}

static void test_hex(void)
{
    ms_buf raw;
    ms_buf_init(&raw, MS_NVGPU_MAX_REPORT);
    CHECK_ERR(ms_nvgpu_report_from_hex("11e", 3, &raw), MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_report_from_hex("zz", 2, &raw), MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_report_from_hex("", 0, &raw), MS_ERR_NVGPU_FORMAT);
    CHECK_OK(ms_nvgpu_report_from_hex("11E0\n", 5, &raw));
    CHECK(raw.len == 2 && raw.p[0] == 0x11 && raw.p[1] == 0xE0);
    ms_buf_free(&raw);
}

/* ---- a made-up chain --------------------------------------------------------------------- */

static nv_fx_chain fx;
static ms_nvgpu_meas fx_meas[2];

static ms_nvgpu_policy fx_policy(void)
{
    ms_nvgpu_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = fx.der.p + fx.off[2];
    p.root_len = fx.len[2];
    fx_meas[0].index = 1;
    fx_meas[0].len = 48;
    memset(fx_meas[0].value, 0x11, 48); /* fill 0x10, index 1 */
    fx_meas[1].index = 4;
    fx_meas[1].len = 48;
    memset(fx_meas[1].value, 0x14, 48);
    p.meas = fx_meas;
    p.n_meas = 2;
    p.require_cc = 1;
    return p;
}

static uint64_t now(void)
{
    return (uint64_t)time(NULL);
}

static void test_made_good(void)
{
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 8, 0x10, 0, 0));
    CHECK_OK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk));
    CHECK(chk.report.n_unknown == 1);
    CHECK(strcmp(chk.cc_source, "report") == 0);
    for (int c = 0; c < MS_NVGPU_CHECK_COUNT; c++) {
        CHECK(chk.ran[c] && chk.result[c] == MS_OK);
    }
    uint8_t other[32];
    memcpy(other, NONCE, sizeof other);
    other[31] ^= 0x80;
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, other, now(), &chk), MS_ERR_NVGPU_NONCE);
    ms_buf_free(&item);
}

static void test_made_other_root(void)
{
    nv_fx_chain other;
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_chain_make(&other, 0x5A17, 0x5A17));
    CHECK(nv_fx_made_item(&item, &other, NONCE, 8, 0x10, 0, 0));
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk), MS_ERR_NVGPU_CHAIN);
    CHECK(chk.result[MS_NVGPU_CHECK_SIGNATURE] == MS_OK); /* only the root differs */
    ms_buf_free(&item);
    nv_fx_chain_free(&other);
}

/*
 * ms_nvgpu_pem_chain: one certificate is a chain; the text is at most MS_NVGPU_MAX_CHAIN *
 * 2 * MS_NVGPU_MAX_CERT bytes, whitespace after the PEM included; no certificate, or no
 * input, is MS_ERR_NVGPU_FORMAT.
 */
static void test_pem_chain_bounds(void)
{
    static uint8_t big[(size_t)MS_NVGPU_MAX_CHAIN * 2 * MS_NVGPU_MAX_CERT + 1];
    const unsigned char *q = fx.der.p + fx.off[0];
    X509 *x = d2i_X509(NULL, &q, (long)fx.len[0]);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long n = x != NULL && bio != NULL && PEM_write_bio_X509(bio, x) == 1
                 ? BIO_get_mem_data(bio, &pem)
                 : 0;
    ms_buf ders;
    size_t off[MS_NVGPU_MAX_CHAIN], len[MS_NVGPU_MAX_CHAIN], k = 0;
    ms_buf_init(&ders, (size_t)MS_NVGPU_MAX_CHAIN * MS_NVGPU_MAX_CERT);
    CHECK(n > 0 && (size_t)n < sizeof big);
    if (n > 0 && (size_t)n < sizeof big) {
        memset(big, '\n', sizeof big);
        memcpy(big, pem, (size_t)n);
        CHECK_OK(ms_nvgpu_pem_chain(big, sizeof big - 1, &ders, off, len, &k));
        CHECK(k == 1 && len[0] == fx.len[0]);
        ms_buf_clear(&ders);
        CHECK_ERR(ms_nvgpu_pem_chain(big, sizeof big, &ders, off, len, &k), MS_ERR_NVGPU_FORMAT);
    }
    CHECK_ERR(ms_nvgpu_pem_chain((const uint8_t *)"\n\n", 2, &ders, off, len, &k),
              MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_pem_chain(NULL, 0, &ders, off, len, &k), MS_ERR_NVGPU_FORMAT);
    ms_buf_free(&ders);
    BIO_free(bio);
    X509_free(x);
}

/*
 * A device certificate whose subject names another serial number than its own, the leaf
 * issued under that very name: the naming rule refuses it (MS_ERR_NVGPU_IDENTITY).
 */
static void test_made_device_misnamed(void)
{
    nv_fx_chain c;
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_chain_make_dev_named(&c, fx.root_key, 0x5A19, 0x5A1A));
    CHECK(nv_fx_made_item(&item, &c, NONCE, 8, 0x10, 0, 0));
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk), MS_ERR_NVGPU_IDENTITY);
    CHECK(chk.result[MS_NVGPU_CHECK_CHAIN] == MS_OK &&
          chk.result[MS_NVGPU_CHECK_SIGNATURE] == MS_OK);
    ms_buf_free(&item);
    nv_fx_chain_free(&c);
    /* The control: named by its own serial number, the same chain verifies. */
    CHECK(nv_fx_chain_make_dev_named(&c, fx.root_key, 0x5A19, 0x5A19));
    CHECK(nv_fx_made_item(&item, &c, NONCE, 8, 0x10, 0, 0));
    CHECK_OK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk));
    ms_buf_free(&item);
    nv_fx_chain_free(&c);
}

/*
 * A leaf whose issuer names the device's serialNumber, but not the device's name (another
 * CN): the names must match whole (X509_NAME_cmp), not only their serialNumber.
 */
static void test_made_issuer_other_name(void)
{
    nv_fx_chain c;
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_chain_make_issuer_cn(&c, fx.root_key, 0x6B2C, "GH100 A01 GSP OTHER"));
    CHECK(nv_fx_made_item(&item, &c, NONCE, 8, 0x10, 0, 0));
    CHECK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk) != MS_OK);
    CHECK(chk.ran[MS_NVGPU_CHECK_IDENTITY] &&
          chk.result[MS_NVGPU_CHECK_IDENTITY] == MS_ERR_NVGPU_IDENTITY);
    CHECK(chk.result[MS_NVGPU_CHECK_SIGNATURE] == MS_OK);
    ms_buf_free(&item);
    nv_fx_chain_free(&c);
    /* The control: the same re-signing under the device's own CN verifies. */
    CHECK(nv_fx_chain_make_issuer_cn(&c, fx.root_key, 0x6B2C, "GH100 A01 GSP BROM"));
    CHECK(nv_fx_made_item(&item, &c, NONCE, 8, 0x10, 0, 0));
    CHECK_OK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk));
    ms_buf_free(&item);
    nv_fx_chain_free(&c);
}

/* Verify an item of a made report under chain c with fx's policy (chk holds the checks),
   then free c; `made` is what made c returned (0: MS_ERR_INTERNAL, c left alone). */
static ms_err verify_under(nv_fx_chain *c, int made)
{
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    ms_err e = MS_ERR_INTERNAL;
    if (made && nv_fx_made_item(&item, c, NONCE, 8, 0x10, 0, 0)) {
        e = ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk);
        ms_buf_free(&item);
    }
    if (made) {
        nv_fx_chain_free(c);
    }
    return e;
}

/*
 * The leaf's issuer naming the device's serialNumber in lower case: the same name to
 * X509_NAME_cmp (and so to the chain), not NVIDIA's naming of the device (upper-case hex).
 */
static void test_made_issuer_serial_case(void)
{
    nv_fx_chain c;
    CHECK_ERR(verify_under(&c, nv_fx_chain_make_issuer_serial(&c, fx.root_key, 0x6B2C, "6b2c")),
              MS_ERR_NVGPU_IDENTITY);
    CHECK(chk.result[MS_NVGPU_CHECK_CHAIN] == MS_OK &&
          chk.result[MS_NVGPU_CHECK_SIGNATURE] == MS_OK);
    /* The control: the same re-signing with the device's own text verifies. */
    CHECK_OK(verify_under(&c, nv_fx_chain_make_issuer_serial(&c, fx.root_key, 0x6B2C, "6B2C")));
}

/* An item of a made report (signed by fx's leaf) with these certificates. */
static int made_item_certs(ms_buf *item, const ms_buf *ders, const size_t *off,
                           const size_t *len, size_t n)
{
    uint8_t report[MS_NVGPU_MAX_REPORT];
    size_t r = nv_fx_report_build(report, sizeof report, NONCE, 8, 0x10, 0, fx.leaf_key);
    return r > 0 && nv_fx_item(item, report, r, 0, ders, off, len, n);
}

/* Leaf and device certificate without the root: the pinned root completes the chain. */
static void test_made_chain_without_root(void)
{
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(made_item_certs(&item, &fx.der, fx.off, fx.len, 2));
    CHECK_OK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk));
    CHECK(chk.ran[MS_NVGPU_CHECK_IDENTITY] && chk.result[MS_NVGPU_CHECK_IDENTITY] == MS_OK);
    ms_buf_free(&item);
}

/* A certificate of the item that is not DER of a certificate (here the root's place). */
static void test_made_cert_not_der(void)
{
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    ms_buf ders, item;
    size_t off[3] = {0, fx.len[0], fx.len[0] + fx.len[1]};
    size_t len[3] = {fx.len[0], fx.len[1], sizeof junk};
    ms_nvgpu_policy p = fx_policy();
    ms_buf_init(&ders, 3u * MS_NVGPU_MAX_CERT);
    CHECK_OK(ms_buf_append(&ders, fx.der.p + fx.off[0], fx.len[0]));
    CHECK_OK(ms_buf_append(&ders, fx.der.p + fx.off[1], fx.len[1]));
    CHECK_OK(ms_buf_append(&ders, junk, sizeof junk));
    CHECK(made_item_certs(&item, &ders, off, len, 3));
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk), MS_ERR_NVGPU_FORMAT);
    CHECK(chk.result[MS_NVGPU_CHECK_FORMAT] == MS_ERR_NVGPU_FORMAT);
    ms_buf_free(&item);
    ms_buf_free(&ders);
}

/*
 * A leaf whose key is not P-384 signs nothing, even a signature that verifies under it
 * (P-256, r and s zero-padded to 48 bytes); the chain itself is fine.
 */
static void test_made_leaf_not_p384(void)
{
    nv_fx_chain c;
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_chain_make_leaf_curve(&c, fx.root_key, 0x5A18, "P-256"));
    CHECK(nv_fx_made_item(&item, &c, NONCE, 8, 0x10, 0, 0));
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk), MS_ERR_NVGPU_SIGNATURE);
    CHECK(chk.result[MS_NVGPU_CHECK_CHAIN] == MS_OK &&
          chk.result[MS_NVGPU_CHECK_SIGNATURE] == MS_ERR_NVGPU_SIGNATURE);
    ms_buf_free(&item);
    nv_fx_chain_free(&c);
}

/* The leaf of device B presented with device A's certificate. */
static void test_made_leaf_of_other_device(void)
{
    nv_fx_chain b;
    ms_buf item, mixed;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_chain_make_under(&b, fx.root_key, 0xB0B0, 0xB0B0));
    CHECK(nv_fx_made_item(&item, &b, NONCE, 8, 0x10, 0, 0));
    ms_buf_init(&mixed, 4u * MS_NVGPU_MAX_CERT);
    size_t off[3], len[3];
    off[0] = 0;
    len[0] = b.len[0];
    CHECK_OK(ms_buf_append(&mixed, b.der.p + b.off[0], b.len[0]));
    off[1] = mixed.len;
    len[1] = fx.len[1];
    CHECK_OK(ms_buf_append(&mixed, fx.der.p + fx.off[1], fx.len[1]));
    off[2] = mixed.len;
    len[2] = fx.len[2];
    CHECK_OK(ms_buf_append(&mixed, fx.der.p + fx.off[2], fx.len[2]));
    ms_nvgpu_item it;
    CHECK_OK(ms_nvgpu_item_decode(item.p, item.len, &it));
    ms_buf bad;
    CHECK(nv_fx_item(&bad, it.report, it.report_len, 0, &mixed, off, len, 3));
    CHECK_ERR(ms_nvgpu_verify(&p, bad.p, bad.len, NONCE, now(), &chk), MS_ERR_NVGPU_CHAIN);
    CHECK(chk.result[MS_NVGPU_CHECK_IDENTITY] == MS_ERR_NVGPU_IDENTITY);
    /* A leaf whose issuer names another device than the certificate that signed it. */
    nv_fx_chain c;
    ms_buf it2;
    CHECK(nv_fx_chain_make_under(&c, fx.root_key, 0xC0C0, 0xC0C1));
    CHECK(nv_fx_made_item(&it2, &c, NONCE, 8, 0x10, 0, 0));
    CHECK(ms_nvgpu_verify(&p, it2.p, it2.len, NONCE, now(), &chk) != MS_OK);
    CHECK(chk.result[MS_NVGPU_CHECK_IDENTITY] == MS_ERR_NVGPU_IDENTITY);
    ms_buf_free(&it2);
    nv_fx_chain_free(&c);
    /* A leaf not named by its own serial number: another serial, or none. */
    static const long leaf_names[] = {0xD0D0 + 0x1001, 0};
    for (size_t i = 0; i < 2; i++) {
        CHECK(nv_fx_chain_make_leaf_named(&c, fx.root_key, 0xD0D0, 0xD0D0, leaf_names[i]));
        CHECK(nv_fx_made_item(&it2, &c, NONCE, 8, 0x10, 0, 0));
        CHECK(ms_nvgpu_verify(&p, it2.p, it2.len, NONCE, now(), &chk) != MS_OK);
        CHECK(chk.result[MS_NVGPU_CHECK_IDENTITY] == MS_ERR_NVGPU_IDENTITY);
        ms_buf_free(&it2);
        nv_fx_chain_free(&c);
    }
    ms_buf_free(&bad);
    ms_buf_free(&mixed);
    ms_buf_free(&item);
    nv_fx_chain_free(&b);
}

static void test_made_measurements(void)
{
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 8, 0x20, 0, 0)); /* other values */
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk),
              MS_ERR_NVGPU_MEASUREMENT);
    ms_buf_free(&item);
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 3, 0x10, 0, 0)); /* index 4 missing */
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk),
              MS_ERR_NVGPU_MEASUREMENT);
    ms_buf_free(&item);
}

static void test_made_cc_and_debug(void)
{
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 8, 0x10, 7, MS_NVGPU_HOST_CC_ON));
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk), MS_ERR_NVGPU_CC_OFF);
    ms_buf_free(&item);
    /* No signed flag: the host's NVML state decides, and says so. */
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 8, 0x10, -1, 0));
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk), MS_ERR_NVGPU_CC_OFF);
    ms_buf_free(&item);
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 8, 0x10, -1, MS_NVGPU_HOST_CC_ON));
    CHECK_OK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk));
    CHECK(strcmp(chk.cc_source, "host") == 0);
    p.require_cc = 0;
    ms_buf_free(&item);
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 8, 0x10, 7, 0));
    CHECK_OK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk));
    CHECK(!chk.ran[MS_NVGPU_CHECK_CC]);
    ms_buf_free(&item);
    /* Dev-tools (debug) mode. */
    p.require_cc = 1;
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 8, 0x10, 0,
                          MS_NVGPU_HOST_CC_ON | MS_NVGPU_HOST_DEVTOOLS));
    CHECK_ERR(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk), MS_ERR_NVGPU_DEBUG);
    p.allow_debug = 1;
    CHECK_OK(ms_nvgpu_verify(&p, item.p, item.len, NONCE, now(), &chk));
    ms_buf_free(&item);
}

static void test_made_flip_every_byte(void)
{
    ms_buf item;
    ms_nvgpu_policy p = fx_policy();
    p.n_meas = 0;
    CHECK(nv_fx_made_item(&item, &fx, NONCE, 2, 0x10, 0, 0));
    ms_nvgpu_item it;
    CHECK_OK(ms_nvgpu_item_decode(item.p, item.len, &it));
    size_t start = (size_t)(it.report - item.p);
    int bad = 0;
    p.root_der = NULL; /* the chain is not what is flipped: skipped to keep the loop fast */
    /* Quick mode: about 64 bytes of the report, its last included; full mode: every byte. */
    for (size_t i = start; i < start + it.report_len;
         i = test_sample_next(i, start, start + it.report_len, 64)) {
        item.p[i] ^= 0x04;
        ms_err e = ms_nvgpu_verify_checks(&p, item.p, item.len, NONCE, now(), 1, &chk);
        if (e == MS_OK) {
            bad++;
        }
        item.p[i] ^= 0x04;
    }
    CHECK(bad == 0);
    CHECK_OK(ms_nvgpu_verify_checks(&p, item.p, item.len, NONCE, now(), 1, &chk));
    ms_buf_free(&item);
}

static void test_evidence(void)
{
    nv_fx_chain b;
    ms_buf i1, i2, ev;
    ms_nvgpu_policy p = fx_policy();
    uint8_t binding[MS_BINDING_LEN];
    memset(binding, 0x33, sizeof binding);
    memcpy(binding, NONCE, sizeof NONCE);
    CHECK(nv_fx_chain_make_under(&b, fx.root_key, 0xB1, 0xB1));
    CHECK(nv_fx_made_item(&i1, &fx, NONCE, 8, 0x10, 0, 0));
    CHECK(nv_fx_made_item(&i2, &b, NONCE, 8, 0x10, 0, 0));
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_nvgpu_evidence_begin(2, &ev));
    CHECK_OK(ms_nvgpu_evidence_add(i1.p, i1.len, &ev));
    CHECK_OK(ms_nvgpu_evidence_add(i2.p, i2.len, &ev));
    CHECK_OK(ms_nvgpu_verify_evidence(&p, ev.p, ev.len, binding, now()));
    p.count = 2;
    CHECK_OK(ms_nvgpu_verify_evidence(&p, ev.p, ev.len, binding, now()));
    p.count = 3;
    CHECK_ERR(ms_nvgpu_verify_evidence(&p, ev.p, ev.len, binding, now()), MS_ERR_NVGPU_COUNT);
    p.count = 2;
    binding[0] ^= 1;
    CHECK_ERR(ms_nvgpu_verify_evidence(&p, ev.p, ev.len, binding, now()), MS_ERR_NVGPU_NONCE);
    binding[0] ^= 1;
    /* Quick mode: about 64 cuts, the last (one byte short) included; full mode: every cut. */
    for (size_t n = 0; n < ev.len; n = test_sample_next(n, 0, ev.len, 64)) {
        CHECK(ms_nvgpu_verify_evidence(&p, ev.p, n, binding, now()) != MS_OK);
    }
    ms_buf_clear(&ev);
    CHECK_OK(ms_nvgpu_evidence_begin(2, &ev));
    CHECK_OK(ms_nvgpu_evidence_add(i1.p, i1.len, &ev));
    CHECK_OK(ms_nvgpu_evidence_add(i1.p, i1.len, &ev));
    CHECK_ERR(ms_nvgpu_verify_evidence(&p, ev.p, ev.len, binding, now()),
              MS_ERR_NVGPU_DUPLICATE);
    CHECK_ERR(ms_nvgpu_evidence_begin(0, &ev), MS_ERR_ARG);
    CHECK_ERR(ms_nvgpu_evidence_begin(MS_NVGPU_MAX_GPUS + 1, &ev), MS_ERR_ARG);
    /* The most GPUs one evidence may hold, each its own device; one more is malformed. */
    nv_fx_chain many[MS_NVGPU_MAX_GPUS];
    ms_buf item[MS_NVGPU_MAX_GPUS];
    ms_buf_clear(&ev);
    CHECK_OK(ms_nvgpu_evidence_begin(MS_NVGPU_MAX_GPUS, &ev));
    for (size_t i = 0; i < MS_NVGPU_MAX_GPUS; i++) {
        CHECK(nv_fx_chain_make_under(&many[i], fx.root_key, (uint8_t)(0xC0 + i), (uint8_t)(0xC0 + i)));
        CHECK(nv_fx_made_item(&item[i], &many[i], NONCE, 8, 0x10, 0, 0));
        CHECK_OK(ms_nvgpu_evidence_add(item[i].p, item[i].len, &ev));
    }
    p.count = MS_NVGPU_MAX_GPUS;
    CHECK_OK(ms_nvgpu_verify_evidence(&p, ev.p, ev.len, binding, now()));
    ev.p[0] = MS_NVGPU_MAX_GPUS + 1; /* the count byte, and a ninth item after the eighth */
    CHECK_OK(ms_buf_append_u32be(&ev, (uint32_t)i1.len));
    CHECK_OK(ms_buf_append(&ev, i1.p, i1.len));
    CHECK_ERR(ms_nvgpu_verify_evidence(&p, ev.p, ev.len, binding, now()), MS_ERR_NVGPU_FORMAT);
    for (size_t i = 0; i < MS_NVGPU_MAX_GPUS; i++) {
        ms_buf_free(&item[i]);
        nv_fx_chain_free(&many[i]);
    }
    ms_buf_free(&ev);
    ms_buf_free(&i1);
    ms_buf_free(&i2);
    nv_fx_chain_free(&b);
}

static void test_item_layout(void)
{
    ms_nvgpu_item it;
    static const uint8_t bad_format[] = {0x02, 0, 0, 1, 0x11, 1, 0, 1, 0x30};
    static const uint8_t bad_flags[] = {0x01, 0x04, 0, 1, 0x11, 1, 0, 1, 0x30};
    static const uint8_t no_certs[] = {0x01, 0, 0, 1, 0x11, 0};
    static const uint8_t good[] = {0x01, 0x03, 0, 1, 0x11, 1, 0, 1, 0x30};
    CHECK_ERR(ms_nvgpu_item_decode(bad_format, sizeof bad_format, &it), MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_item_decode(bad_flags, sizeof bad_flags, &it), MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_item_decode(no_certs, sizeof no_certs, &it), MS_ERR_NVGPU_FORMAT);
    CHECK_OK(ms_nvgpu_item_decode(good, sizeof good, &it));
    CHECK(it.n_certs == 1 && it.cert_len[0] == 1 && it.report_len == 1);
    ms_nvgpu_policy p;
    memset(&p, 0, sizeof p);
    CHECK_ERR(ms_nvgpu_verify(&p, good, sizeof good, NONCE, 0, &chk), MS_ERR_ARG);
}

int main(void)
{
    if (!nv_fx_real_load(&real)) {
        fprintf(stderr, "test_nvgpu: ../shared/testdata/nvidia-h100 is required\n");
        nv_fx_real_free(&real);
        return 1;
    }
    if (!nv_fx_chain_make(&fx, 0xA0A0, 0xA0A0)) {
        fprintf(stderr, "test_nvgpu: cannot make the test chain\n");
        return 1;
    }
    RUN(test_real_decode);
    RUN(test_real_verifies_offline);
    RUN(test_real_chain_without_root);
    RUN(test_real_flip_every_signed_byte);
    RUN(test_real_truncated);
    RUN(test_decode_rules);
    RUN(test_hex);
    RUN(test_made_good);
    RUN(test_made_other_root);
    RUN(test_made_leaf_not_p384);
    RUN(test_made_chain_without_root);
    RUN(test_made_cert_not_der);
    RUN(test_made_device_misnamed);
    RUN(test_made_issuer_other_name);
    RUN(test_made_issuer_serial_case);
    RUN(test_pem_chain_bounds);
    RUN(test_made_leaf_of_other_device);
    RUN(test_made_measurements);
    RUN(test_made_cc_and_debug);
    RUN(test_made_flip_every_byte);
    RUN(test_evidence);
    RUN(test_item_layout);
    nv_fx_chain_free(&fx);
    nv_fx_real_free(&real);
    return TEST_SUMMARY();
}

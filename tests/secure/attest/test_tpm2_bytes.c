/* TPM quote bundles byte by byte: every flip, truncation and extra byte gets its check's error. */
#include <stdlib.h>

#include "common/codec.h"
#include "common/cursor.h"
#include "secure/attest/tpm2.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_esys.h"
#include "tests/secure/attest/tpm2_fixture.h"
#include "tests/test.h"

#define MASK (0xFFu | 1u << 16 | 1u << 23)
#define N_VALUES 10u

static tpm2_fixture F;
static ms_buf g_ev; /* one genuine bundle over F.b1 */
static tpm2_parts g_s;

static ms_err verify_bytes(const uint8_t *p, size_t n)
{
    return ms_tpm2_verify(&F.pol, p, n, F.b1);
}

/* Sets of acceptable errors, as bit masks over a few codes. */
enum {
    E_FORMAT = 1 << 0,
    E_MAGIC = 1 << 1,
    E_TYPE = 1 << 2,
    E_NONCE = 1 << 3,
    E_SELECT = 1 << 4,
    E_DIGEST = 1 << 5,
    E_VALUE = 1 << 6,
    E_ATTRS = 1 << 7,
    E_NAME = 1 << 8,
    E_SIG = 1 << 9,
};

static unsigned bit_of(ms_err e)
{
    static const ms_err codes[] = {MS_ERR_TPM_FORMAT,     MS_ERR_TPM_MAGIC,      MS_ERR_TPM_TYPE,
                                   MS_ERR_TPM_NONCE,      MS_ERR_TPM_PCR_SELECT, MS_ERR_TPM_PCR_DIGEST,
                                   MS_ERR_TPM_PCR_VALUE,  MS_ERR_TPM_AK_ATTRS,   MS_ERR_TPM_AK_NAME,
                                   MS_ERR_TPM_SIGNATURE};
    for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (codes[i] == e) {
            return 1u << i;
        }
    }
    return 0; /* MS_OK or anything unexpected */
}

/*
 * The quoted part (TPM2B_ATTEST of a quote), field by field, and the one error a flip in
 * each field must give. A size field or the type, flipped, leaves bytes that no longer
 * unmarshal exactly. Fields that only the signature covers (qualifiedSigner, clockInfo,
 * firmwareVersion) fail at the signature.
 */
static unsigned attest_oracle(const uint8_t *q, size_t i)
{
    size_t signer = ms_load_u16be(q + 2 + 6);
    const struct {
        size_t len;
        unsigned want;
    } f[] = {
        {2, E_FORMAT},  /* TPM2B_ATTEST.size */
        {4, E_MAGIC},   /* magic */
        {2, E_FORMAT},  /* type */
        {2, E_FORMAT},  /* qualifiedSigner.size */
        {signer, E_SIG},
        {2, E_FORMAT},  /* extraData.size */
        {32, E_NONCE},
        {17, E_SIG},    /* clockInfo */
        {8, E_SIG},     /* firmwareVersion */
        {4, E_FORMAT},  /* TPML_PCR_SELECTION.count */
        {2, E_SELECT},  /* hash */
        {1, E_FORMAT},  /* sizeofSelect */
        {3, E_SELECT},  /* pcrSelect */
        {2, E_FORMAT},  /* pcrDigest.size */
        {32, E_DIGEST}, /* pcrDigest */
    };
    for (size_t k = 0, at = 0; k < sizeof f / sizeof f[0]; at += f[k++].len) {
        if (i < at + f[k].len) {
            return f[k].want;
        }
    }
    return 0;
}

/* TPMT_SIGNATURE (ECDSA): sigAlg and hash may turn into another known value (ECDAA, SHA-1). */
static unsigned sig_oracle(const uint8_t *sig, size_t i)
{
    size_t s_size_at = 6 + ms_load_u16be(sig + 4);
    if (i < 4) {
        return E_FORMAT | E_SIG;
    }
    if (i < 6 || i == s_size_at || i == s_size_at + 1) {
        return E_FORMAT; /* signatureR.size, signatureS.size */
    }
    return E_SIG;
}

/*
 * TPMT_PUBLIC of our ECC AK: type, nameAlg, attributes, empty authPolicy, parameters (12
 * bytes), then unique = x, y. The point is covered by the name only.
 */
static unsigned ak_oracle(const uint8_t *ak, size_t i)
{
    const size_t x_at = 20, y_at = x_at + 2 + ms_load_u16be(ak + x_at);
    if ((i >= x_at + 2 && i < y_at) || i >= y_at + 2) {
        return E_NAME;
    }
    if (i == x_at || i == x_at + 1 || i == y_at || i == y_at + 1) {
        return E_FORMAT | E_ATTRS; /* a coordinate's size: misparses, or over 32 bytes */
    }
    return E_FORMAT | E_ATTRS | E_NAME; /* attribute bits we do not check change the name */
}

static unsigned bundle_oracle(size_t i)
{
    for (int k = 0; k < 4; k++) {
        if (i == g_s.off[k] - 2 || i == g_s.off[k] - 1) {
            return E_FORMAT; /* a part's length */
        }
        if (i >= g_s.off[k] && i < g_s.off[k] + g_s.len[k]) {
            size_t j = i - g_s.off[k];
            switch (k) {
            case 0:
                return attest_oracle(g_ev.p + g_s.off[0], j);
            case 1:
                return sig_oracle(g_ev.p + g_s.off[1], j);
            case 2:
                return ak_oracle(g_ev.p + g_s.off[2], j);
            default:
                return E_DIGEST;
            }
        }
    }
    return E_FORMAT; /* the format byte */
}

static void flip_range(size_t from, size_t to, int strict)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    uint8_t *p = malloc(g_ev.len);
    CHECK(p != NULL);
    for (size_t i = from; p != NULL && i < to; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(p, g_ev.p, g_ev.len);
            p[i] ^= masks[m];
            ms_err got = verify_bytes(p, g_ev.len);
            unsigned want = bundle_oracle(i);
            if ((bit_of(got) & want) == 0 || (strict && bit_of(got) != want)) {
                TEST_FAIL_("byte %zu ^ 0x%02x: got %s (allowed set 0x%x)", i, masks[m],
                           ms_err_name(got), want);
            } else {
                test_pass_count_++;
            }
        }
    }
    free(p);
}

static void test_flip_attest(void)
{
    flip_range(g_s.off[0] - 2, g_s.off[0] + g_s.len[0], 1);
}

static void test_flip_signature(void)
{
    /* r and s alone: each flip, one error */
    flip_range(g_s.off[1] + 6, g_s.off[1] + g_s.len[1], 1);
    flip_range(g_s.off[1] - 2, g_s.off[1] + g_s.len[1], 0);
}

static void test_flip_every_byte(void)
{
    flip_range(0, g_ev.len, 0);
}

static void test_truncation(void)
{
    for (size_t n = 0; n < g_ev.len; n++) {
        ms_err got = verify_bytes(g_ev.p, n);
        if (got != MS_ERR_TPM_FORMAT) {
            TEST_FAIL_("prefix of %zu bytes: got %s", n, ms_err_name(got));
        } else {
            test_pass_count_++;
        }
    }
    CHECK_ERR(verify_bytes(NULL, 0), MS_ERR_TPM_FORMAT);
}

/* Each part one byte longer than its contents: "consumed exactly" fails for each. */
static void test_trailing_bytes(void)
{
    uint8_t *big = calloc(1, MS_TPM2_MAX_BUNDLE + 2);
    CHECK(big != NULL && g_ev.len < MS_TPM2_MAX_BUNDLE);
    if (big == NULL) {
        return;
    }
    memcpy(big, g_ev.p, g_ev.len);
    CHECK_OK(verify_bytes(big, g_ev.len));
    CHECK_ERR(verify_bytes(big, g_ev.len + 1), MS_ERR_TPM_FORMAT);
    CHECK_ERR(verify_bytes(big, MS_TPM2_MAX_BUNDLE + 1), MS_ERR_TPM_FORMAT);
    for (int k = 0; k < 4; k++) {
        uint8_t copy[4][MS_TPM2_MAX_BUNDLE];
        const uint8_t *part[4];
        size_t len[4];
        ms_buf bad;
        for (int j = 0; j < 4; j++) {
            memcpy(copy[j], g_ev.p + g_s.off[j], g_s.len[j]);
            copy[j][g_s.len[j]] = 0;
            part[j] = copy[j];
            len[j] = g_s.len[j] + (j == k);
        }
        CHECK(tpm2_rebuild(part, len, &bad) == 0);
        CHECK_ERR(verify_bytes(bad.p, bad.len), MS_ERR_TPM_FORMAT);
        if (k == 0) { /* TPM2B_ATTEST's own size grows too: TPMS_ATTEST has a trailing byte */
            ms_store_u16be(copy[0], (uint16_t)(ms_load_u16be(copy[0]) + 1));
            ms_buf_free(&bad);
            CHECK(tpm2_rebuild(part, len, &bad) == 0);
            CHECK_ERR(verify_bytes(bad.p, bad.len), MS_ERR_TPM_FORMAT);
        }
        ms_buf_free(&bad);
    }
    big[0] = 0x02;
    CHECK_ERR(verify_bytes(big, g_ev.len), MS_ERR_TPM_FORMAT);
    free(big);
}

/* One value too few or too many for the selection, or not a whole number of values. */
static void test_value_count(void)
{
    uint8_t values[(MS_TPM2_NUM_PCRS + 1) * MS_TPM2_DIGEST_LEN] = {0};
    const uint8_t *part[4] = {g_ev.p + g_s.off[0], g_ev.p + g_s.off[1], g_ev.p + g_s.off[2], values};
    memcpy(values, g_ev.p + g_s.off[3], g_s.len[3]);
    memcpy(values + g_s.len[3], values, MS_TPM2_DIGEST_LEN);
    const size_t lens[] = {g_s.len[3] - MS_TPM2_DIGEST_LEN, g_s.len[3] + MS_TPM2_DIGEST_LEN, 0,
                           g_s.len[3] - 1, g_s.len[3] + 1, sizeof values};
    const ms_err want[] = {MS_ERR_TPM_PCR_DIGEST, MS_ERR_TPM_PCR_DIGEST, MS_ERR_TPM_PCR_DIGEST,
                           MS_ERR_TPM_FORMAT, MS_ERR_TPM_FORMAT, MS_ERR_TPM_FORMAT};
    CHECK(g_s.len[3] == N_VALUES * MS_TPM2_DIGEST_LEN);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len[4] = {g_s.len[0], g_s.len[1], g_s.len[2], lens[i]};
        ms_buf bad;
        CHECK(tpm2_rebuild(part, len, &bad) == 0);
        CHECK_ERR(verify_bytes(bad.p, bad.len), want[i]);
        ms_buf_free(&bad);
    }
    /*
     * One value too many, and the quoted digest rewritten to their hash: the count alone
     * refuses them. The offline form judges each check on its own (the signature fails too).
     */
    uint8_t attest[MS_TPM2_MAX_BUNDLE];
    CHECK(g_s.len[0] <= sizeof attest && g_s.len[0] > MS_TPM2_DIGEST_LEN);
    memcpy(attest, g_ev.p + g_s.off[0], g_s.len[0]);
    CHECK_OK(ms_tpm2_sha256(values, g_s.len[3] + MS_TPM2_DIGEST_LEN,
                            attest + g_s.len[0] - MS_TPM2_DIGEST_LEN));
    const uint8_t *forged[4] = {attest, part[1], part[2], values};
    size_t len[4] = {g_s.len[0], g_s.len[1], g_s.len[2], g_s.len[3] + MS_TPM2_DIGEST_LEN};
    ms_buf bad;
    ms_tpm2_checks ch;
    CHECK(tpm2_rebuild(forged, len, &bad) == 0);
    CHECK_ERR(ms_tpm2_verify_checks(&F.pol, bad.p, bad.len, F.b1, &ch), MS_ERR_TPM_PCR_DIGEST);
    CHECK(ch.result[MS_TPM2_CHECK_PCR_SELECT] == MS_OK &&
          ch.result[MS_TPM2_CHECK_PCR_DIGEST] == MS_ERR_TPM_PCR_DIGEST &&
          ch.result[MS_TPM2_CHECK_SIGNATURE] == MS_ERR_TPM_SIGNATURE);
    ms_buf_free(&bad);
}

/*
 * PCR_SELECT on its own: a selection of another bank (not one canonical SHA-256 selection) is
 * refused by enrolment and by the offline form with or without a policy; a genuine quote
 * against a policy that selects other PCRs fails the offline form's PCR_SELECT.
 */
static void test_selection(void)
{
    uint8_t attest[MS_TPM2_MAX_BUNDLE];
    size_t n = g_s.len[0];
    CHECK(n <= sizeof attest && n > 40);
    memcpy(attest, g_ev.p + g_s.off[0], n);
    /* ... hash (2), sizeofSelect (1), pcrSelect (3), pcrDigest.size (2), pcrDigest (32) */
    CHECK(ms_load_u16be(attest + n - 40) == TPM2_ALG_SHA256);
    ms_store_u16be(attest + n - 40, TPM2_ALG_SHA1);
    const uint8_t *part[4] = {attest, g_ev.p + g_s.off[1], g_ev.p + g_s.off[2], g_ev.p + g_s.off[3]};
    ms_buf bad;
    ms_tpm2_policy p;
    ms_tpm2_checks ch;
    CHECK(tpm2_rebuild(part, g_s.len, &bad) == 0);
    CHECK_ERR(ms_tpm2_bundle_policy(bad.p, bad.len, &p), MS_ERR_TPM_PCR_SELECT);
    CHECK_ERR(ms_tpm2_verify_checks(NULL, bad.p, bad.len, F.b1, &ch), MS_ERR_TPM_PCR_SELECT);
    CHECK(ch.result[MS_TPM2_CHECK_PCR_SELECT] == MS_ERR_TPM_PCR_SELECT);
    ms_buf_free(&bad);
    p = F.pol;
    p.pcr_mask &= ~1u; /* PCR 0 not selected */
    CHECK_ERR(ms_tpm2_verify_checks(&p, g_ev.p, g_ev.len, F.b1, &ch), MS_ERR_TPM_PCR_SELECT);
    CHECK(ch.result[MS_TPM2_CHECK_PCR_SELECT] == MS_ERR_TPM_PCR_SELECT &&
          ch.result[MS_TPM2_CHECK_PCR_DIGEST] == MS_OK &&
          ch.result[MS_TPM2_CHECK_SIGNATURE] == MS_OK);
    CHECK_OK(ms_tpm2_verify_checks(&F.pol, g_ev.p, g_ev.len, F.b1, &ch)); /* the control */
}

/* --- seeds for tests/fuzz/corpus/fuzz_tpm2 (binding 0x42 x 64, fresh swtpm) -------------- */

static int write_file(const char *dir, const char *name, const ms_buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(b->p, 1, b->len, f) == b->len;
    ok &= f != NULL && fclose(f) == 0;
    return ok ? 0 : -1;
}

static int seed_other(const char *dir, const char *name, const TPM2B_PUBLIC *tmpl, ESYS_TR hier,
                      int kind, const uint8_t *b)
{
    TPMT_PUBLIC pub;
    TSS2_RC rc;
    ms_buf ev;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    ESYS_TR h = tpm2_primary(&F.c, hier, tmpl, &pub);
    int r = h == ESYS_TR_NONE ? -1
            : kind == 0       ? tpm2_quote_bundle(&F.c, h, &pub, MASK, b, &ev)
            : kind == 1       ? tpm2_certify_bundle(&F.c, h, &pub, MASK, b, &ev)
                              : tpm2_forged_bundle(&F.c, h, &pub, MASK, b, &ev, &rc);
    r = r == 0 ? write_file(dir, name, &ev) : -1;
    tpm2_flush(&F.c, h);
    ms_buf_free(&ev);
    return r;
}

static int write_corpus(const char *dir)
{
    uint8_t b[MS_BINDING_LEN], name[MS_TPM2_NAME_LEN];
    char hex[2 * MS_TPM2_NAME_LEN + 1];
    size_t n;
    TPM2B_PUBLIC ak, rsa, unrestricted;
    ms_buf ev;
    memset(b, 0x42, sizeof b);
    ms_tpm2_ak_template(&ak);
    tpm2_template_rsa_ak(&rsa);
    tpm2_template_unrestricted(&unrestricted);
    int r = tpm2_fixture_quote(&F, b, &ev) == 0 ? write_file(dir, "quote.bin", &ev) : -1;
    ms_buf_free(&ev);
    r |= seed_other(dir, "certify.bin", &ak, ESYS_TR_RH_ENDORSEMENT, 1, b);
    r |= seed_other(dir, "rsa.bin", &rsa, ESYS_TR_RH_ENDORSEMENT, 0, b);
    r |= seed_other(dir, "unrestricted.bin", &unrestricted, ESYS_TR_RH_OWNER, 2, b);
    ms_tpm2_producer_ak_name(F.prod, name);
    r |= ms_hex_encode(name, sizeof name, hex, sizeof hex, &n) != MS_OK;
    printf("AK name (for tests/fuzz/fuzz_tpm2.c): %s\n", hex);
    return r ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (tpm2_fixture_setup(&F, MASK) != 0) {
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
        int r = write_corpus(argv[2]);
        tpm2_fixture_teardown(&F);
        return r;
    }
    int ok = tpm2_fixture_quote(&F, F.b1, &g_ev) == 0 && tpm2_split(g_ev.p, g_ev.len, &g_s) == 0;
    CHECK(ok);
    if (ok) {
        CHECK_OK(verify_bytes(g_ev.p, g_ev.len));
        RUN(test_flip_attest);
        RUN(test_flip_signature);
        RUN(test_flip_every_byte);
        RUN(test_truncation);
        RUN(test_trailing_bytes);
        RUN(test_value_count);
        RUN(test_selection);
    }
    ms_buf_free(&g_ev);
    tpm2_fixture_teardown(&F);
    return TEST_SUMMARY();
}

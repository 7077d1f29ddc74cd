/* TPM quote bundles byte by byte: every flip, truncation and extra byte gets its check's error. */
#include <stdlib.h>
#include <tss2/tss2_mu.h>

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

/* --- the codec's caps at their edges (no TPM needed for these bytes) --------------------- */

/*
 * Parts of the largest shapes the bundle parser admits (it checks only that each TPM
 * structure unmarshals exactly): an NV-certify TPMS_ATTEST with full names and extra data
 * whose contents are `nv` bytes, an RSA-4096 signature, an RSA-4096 public area with a full
 * policy; then 24 values and an AK certificate part of MS_TPM2_MAX_AK_CERT bytes.
 */
static int big_bundle(size_t nv, ms_buf *out)
{
    static uint8_t q[2 + sizeof(TPMS_ATTEST)], s[sizeof(TPMT_SIGNATURE)], a[sizeof(TPMT_PUBLIC)],
        values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN], cert[MS_TPM2_MAX_AK_CERT];
    TPMS_ATTEST at;
    TPMT_SIGNATURE sig;
    TPMT_PUBLIC pub;
    size_t qn = 2, sn = 0, an = 0;
    memset(&at, 0, sizeof at);
    at.magic = TPM2_GENERATED_VALUE;
    at.type = TPM2_ST_ATTEST_NV;
    at.qualifiedSigner.size = sizeof at.qualifiedSigner.name;
    at.extraData.size = sizeof at.extraData.buffer;
    at.attested.nv.indexName.size = sizeof at.attested.nv.indexName.name;
    at.attested.nv.nvContents.size = (UINT16)nv;
    memset(&sig, 0, sizeof sig);
    sig.sigAlg = TPM2_ALG_RSASSA;
    sig.signature.rsassa.hash = TPM2_ALG_SHA256;
    sig.signature.rsassa.sig.size = TPM2_MAX_RSA_KEY_BYTES;
    memset(&pub, 0, sizeof pub);
    pub.type = TPM2_ALG_RSA;
    pub.nameAlg = TPM2_ALG_SHA256;
    pub.authPolicy.size = sizeof pub.authPolicy.buffer;
    pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    pub.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    pub.parameters.rsaDetail.keyBits = 4096;
    pub.unique.rsa.size = TPM2_MAX_RSA_KEY_BYTES;
    if (nv > sizeof at.attested.nv.nvContents.buffer ||
        Tss2_MU_TPMS_ATTEST_Marshal(&at, q, sizeof q, &qn) != TSS2_RC_SUCCESS ||
        Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, s, sizeof s, &sn) != TSS2_RC_SUCCESS ||
        Tss2_MU_TPMT_PUBLIC_Marshal(&pub, a, sizeof a, &an) != TSS2_RC_SUCCESS) {
        return -1;
    }
    ms_store_u16be(q, (uint16_t)(qn - 2));
    const uint8_t *part[4] = {q, s, a, values};
    const size_t len[4] = {qn, sn, an, sizeof values};
    if (tpm2_rebuild(part, len, out) != 0 || ms_buf_append_u16be(out, sizeof cert) != MS_OK ||
        ms_buf_append(out, cert, sizeof cert) != MS_OK) {
        ms_buf_free(out);
        return -1;
    }
    out->p[0] = MS_TPM2_FORMAT_AK_CERT;
    return 0;
}

/* A whole bundle of exactly MS_TPM2_MAX_BUNDLE bytes parses (24 values, a certificate of
   MS_TPM2_MAX_AK_CERT bytes); one byte more is refused, whatever it holds. */
static void test_bundle_cap(void)
{
    ms_buf ev;
    ms_tpm2_bundle b;
    CHECK(big_bundle(0, &ev) == 0 && ev.len < MS_TPM2_MAX_BUNDLE);
    size_t nv = MS_TPM2_MAX_BUNDLE - ev.len;
    ms_buf_free(&ev);
    CHECK(big_bundle(nv, &ev) == 0 && ev.len == MS_TPM2_MAX_BUNDLE);
    CHECK_OK(ms_tpm2_bundle_parse(ev.p, ev.len, &b));
    CHECK(b.n_pcr == MS_TPM2_NUM_PCRS && b.ak_cert_len == MS_TPM2_MAX_AK_CERT &&
          b.attest.type == TPM2_ST_ATTEST_NV && b.attest.attested.nv.nvContents.size == nv);
    ms_buf_free(&ev);
    CHECK(big_bundle(nv + 1, &ev) == 0 && ev.len == MS_TPM2_MAX_BUNDLE + 1);
    CHECK_ERR(ms_tpm2_bundle_parse(ev.p, ev.len, &b), MS_ERR_TPM_FORMAT);
    CHECK(b.n_pcr == 0 && b.ak_bytes == NULL);
    ms_buf_free(&ev);
}

/* The AK certificate part (format 0x02): 1 to MS_TPM2_MAX_AK_CERT bytes; the parser leaves
   its DER to the verifier. */
static void test_cert_part(void)
{
    static uint8_t cert[MS_TPM2_MAX_AK_CERT + 1];
    ms_tpm2_bundle b;
    const size_t lens[] = {0, 1, MS_TPM2_MAX_AK_CERT, MS_TPM2_MAX_AK_CERT + 1};
    memset(cert, 0x30, sizeof cert);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        ms_buf ev;
        ms_buf_init(&ev, 2 * MS_TPM2_MAX_BUNDLE);
        CHECK_OK(ms_buf_append(&ev, g_ev.p, g_ev.len));
        CHECK_OK(ms_buf_append_u16be(&ev, (uint16_t)lens[i]));
        CHECK_OK(ms_buf_append(&ev, cert, lens[i]));
        ev.p[0] = MS_TPM2_FORMAT_AK_CERT;
        CHECK(ev.len <= MS_TPM2_MAX_BUNDLE);
        int good = lens[i] >= 1 && lens[i] <= MS_TPM2_MAX_AK_CERT;
        CHECK_ERR(ms_tpm2_bundle_parse(ev.p, ev.len, &b), good ? MS_OK : MS_ERR_TPM_FORMAT);
        CHECK(b.ak_cert_len == (good ? lens[i] : 0));
        ms_buf_free(&ev);
    }
}

/* 24 values (every PCR) is the most a bundle or a quote's parts may carry. */
static void test_values_cap(void)
{
    uint8_t values[(MS_TPM2_NUM_PCRS + 1) * MS_TPM2_DIGEST_LEN] = {0};
    const uint8_t *part[4] = {g_ev.p + g_s.off[0], g_ev.p + g_s.off[1], g_ev.p + g_s.off[2], values};
    ms_tpm2_bundle b;
    for (size_t n = MS_TPM2_NUM_PCRS; n <= MS_TPM2_NUM_PCRS + 1; n++) {
        size_t len[4] = {g_s.len[0], g_s.len[1], g_s.len[2], n * MS_TPM2_DIGEST_LEN};
        ms_buf ev;
        CHECK(tpm2_rebuild(part, len, &ev) == 0);
        ms_err want = n == MS_TPM2_NUM_PCRS ? MS_OK : MS_ERR_TPM_FORMAT;
        CHECK_ERR(ms_tpm2_bundle_parse(ev.p, ev.len, &b), want);
        CHECK(b.n_pcr == (want == MS_OK ? n : 0));
        CHECK_ERR(ms_tpm2_quote_parts_parse(part[0], len[0], part[1], len[1], values, len[3], &b),
                  want);
        CHECK(b.n_pcr == (want == MS_OK ? n : 0));
        ms_buf_free(&ev);
    }
}

/* The quote's parts as a paravisor hands them over (az_verify.c): each one checked. */
static void test_quote_parts(void)
{
    const uint8_t *q = g_ev.p + g_s.off[0], *s = g_ev.p + g_s.off[1], *v = g_ev.p + g_s.off[3];
    size_t qn = g_s.len[0], sn = g_s.len[1], vn = g_s.len[3];
    uint8_t longer[MS_TPM2_MAX_BUNDLE];
    ms_tpm2_bundle b;
    CHECK_OK(ms_tpm2_quote_parts_parse(q, qn, s, sn, v, vn, &b));
    CHECK(b.n_pcr == N_VALUES && b.pcr_values == v && b.attest_len == qn - 2);
    CHECK_ERR(ms_tpm2_quote_parts_parse(NULL, qn, s, sn, v, vn, &b), MS_ERR_TPM_FORMAT);
    CHECK(b.attest_len == 0 && b.pcr_values == NULL);
    CHECK_ERR(ms_tpm2_quote_parts_parse(q, qn, NULL, sn, v, vn, &b), MS_ERR_TPM_FORMAT);
    CHECK_ERR(ms_tpm2_quote_parts_parse(q, qn, s, sn, NULL, vn, &b), MS_ERR_TPM_FORMAT);
    CHECK_OK(ms_tpm2_quote_parts_parse(q, qn, s, sn, NULL, 0, &b));
    CHECK_ERR(ms_tpm2_quote_parts_parse(q, qn, s, sn, v, vn - 1, &b), MS_ERR_TPM_FORMAT);
    CHECK_ERR(ms_tpm2_quote_parts_parse(q, qn - 1, s, sn, v, vn, &b), MS_ERR_TPM_FORMAT);
    memcpy(longer, s, sn);
    longer[sn] = 0;
    CHECK_ERR(ms_tpm2_quote_parts_parse(q, qn, longer, sn + 1, v, vn, &b), MS_ERR_TPM_FORMAT);
}

/*
 * The writer's caps: at most 24 values, and a whole bundle of at most MS_TPM2_MAX_BUNDLE
 * bytes (the writer does not look inside the parts); add_cert within both caps. A refused
 * write leaves `out` as it was.
 */
static void test_writer_caps(void)
{
    static uint8_t part[MS_TPM2_MAX_BUNDLE], values[(MS_TPM2_NUM_PCRS + 1) * MS_TPM2_DIGEST_LEN],
        cert[MS_TPM2_MAX_AK_CERT + 1];
    ms_buf out;
    ms_buf_init(&out, 2 * MS_TPM2_MAX_BUNDLE);
    CHECK_OK(ms_tpm2_bundle_write_raw(part, 1, part, 1, part, 1, values, MS_TPM2_NUM_PCRS, &out));
    CHECK(out.len == 9 + 3 + MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN);
    ms_buf_clear(&out);
    CHECK_ERR(ms_tpm2_bundle_write_raw(part, 1, part, 1, part, 1, values, MS_TPM2_NUM_PCRS + 1,
                                       &out),
              MS_ERR_CAP_EXCEEDED);
    CHECK(out.len == 0);
    /* a bundle of exactly the cap (9 bytes of format and lengths), then one byte over */
    size_t q = MS_TPM2_MAX_BUNDLE - 9 - 2;
    CHECK_OK(ms_tpm2_bundle_write_raw(part, q, part, 1, part, 1, values, 0, &out));
    CHECK(out.len == MS_TPM2_MAX_BUNDLE);
    ms_buf_clear(&out);
    CHECK_ERR(ms_tpm2_bundle_write_raw(part, q + 1, part, 1, part, 1, values, 0, &out),
              MS_ERR_CAP_EXCEEDED);
    CHECK(out.len == 0);
    /* add_cert: 1 byte; MS_TPM2_MAX_AK_CERT bytes making exactly MS_TPM2_MAX_BUNDLE; over */
    size_t base = MS_TPM2_MAX_BUNDLE - 2 - MS_TPM2_MAX_AK_CERT; /* the bundle before it */
    for (size_t extra = 0; extra <= 1; extra++) {
        ms_buf_clear(&out);
        CHECK_OK(ms_buf_append_u8(&out, 0xEE)); /* add_cert works on the bundle at `start` */
        CHECK_OK(ms_tpm2_bundle_write_raw(part, base - 11 + extra, part, 1, part, 1, values, 0,
                                          &out));
        CHECK(out.len == 1 + base + extra);
        ms_err want = extra ? MS_ERR_CAP_EXCEEDED : MS_OK;
        CHECK_ERR(ms_tpm2_bundle_add_cert(&out, 1, cert, MS_TPM2_MAX_AK_CERT), want);
        CHECK(out.len == 1 + base + extra + (extra ? 0 : 2 + MS_TPM2_MAX_AK_CERT));
        CHECK(out.p[1] == (extra ? MS_TPM2_FORMAT : MS_TPM2_FORMAT_AK_CERT));
    }
    ms_buf_clear(&out);
    CHECK_OK(ms_tpm2_bundle_write_raw(part, 1, part, 1, part, 1, values, 0, &out));
    CHECK_ERR(ms_tpm2_bundle_add_cert(&out, 0, cert, MS_TPM2_MAX_AK_CERT + 1),
              MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_tpm2_bundle_add_cert(&out, 0, cert, 0), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_tpm2_bundle_add_cert(&out, 0, NULL, 1), MS_ERR_CAP_EXCEEDED);
    CHECK(out.len == 12 && out.p[0] == MS_TPM2_FORMAT);
    CHECK_OK(ms_tpm2_bundle_add_cert(&out, 0, cert, 1));
    CHECK(out.len == 15 && out.p[0] == MS_TPM2_FORMAT_AK_CERT);
    ms_buf_free(&out);
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
        RUN(test_cert_part);
        RUN(test_values_cap);
        RUN(test_quote_parts);
    }
    RUN(test_bundle_cap);
    RUN(test_writer_caps);
    ms_buf_free(&g_ev);
    tpm2_fixture_teardown(&F);
    return TEST_SUMMARY();
}

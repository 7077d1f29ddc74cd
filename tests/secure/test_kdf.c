/* Key-schedule properties: low-order points, binding coverage, label separation, ratchet. */
#include "secure/kdf.h"
#include "tests/secure/fixture.h"

/* The low-order points of Curve25519 in canonical and non-canonical encodings. */
static const uint8_t low_order[][32] = {
    {0},
    {1},
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
     0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
     0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static void test_low_order_refused(void)
{
    uint8_t sk[32], out[32];
    memset(sk, 0x42, sizeof sk);
    for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
        memset(out, 0xff, sizeof out);
        CHECK_ERR(ms_kdf_dh(out, sk, low_order[i]), MS_ERR_HS_WEAK_KEY);
        uint8_t zero[32] = {0};
        CHECK(memcmp(out, zero, sizeof out) == 0);
    }
    uint8_t pk[32];
    crypto_scalarmult_base(pk, sk);
    CHECK_OK(ms_kdf_dh(out, sk, pk));
}

/* Every binding input changes B; the strict inputs matter only in STRICT mode. */
static void test_binding_covers_inputs(void)
{
    ms_binding_in base = {.evidence_type = 2, .mode = MS_MODE_STRICT, .not_after = 1000};
    memset(base.static_pk, 1, 32);
    memset(base.challenge, 2, 32);
    memset(base.client_eph_pk, 3, 32);
    memset(base.server_eph_pk, 4, 32);
    uint8_t b0[MS_BINDING_LEN], b1[MS_BINDING_LEN];
    CHECK_OK(ms_kdf_binding(b0, &base));
    for (int field = 0; field < 7; field++) {
        ms_binding_in m = base;
        switch (field) {
        case 0: m.evidence_type ^= 1; break;
        case 1: m.mode = MS_MODE_FAST; break;
        case 2: m.static_pk[31] ^= 1; break;
        case 3: m.not_after++; break;
        case 4: m.challenge[0] ^= 1; break;
        case 5: m.client_eph_pk[0] ^= 1; break;
        default: m.server_eph_pk[0] ^= 1; break;
        }
        CHECK_OK(ms_kdf_binding(b1, &m));
        CHECK(memcmp(b0, b1, sizeof b0) != 0);
    }
    base.mode = MS_MODE_FAST;
    CHECK_OK(ms_kdf_binding(b0, &base));
    ms_binding_in m = base;
    m.challenge[0] ^= 1;
    m.client_eph_pk[0] ^= 1;
    CHECK_OK(ms_kdf_binding(b1, &m));
    CHECK(memcmp(b0, b1, sizeof b0) == 0);
    m.mode = 2;
    CHECK_ERR(ms_kdf_binding(b1, &m), MS_ERR_HS_MODE);
}

/* Each derived key depends on ee, es and TH, and the four differ from each other. */
static void test_schedule(void)
{
    uint8_t th[32], ee[32], es[32], prk[32], prk2[32];
    ms_hs_keys a, b;
    memset(th, 1, 32);
    memset(ee, 2, 32);
    memset(es, 3, 32);
    ms_kdf_schedule(&a, th, ee, es, prk);
    CHECK(memcmp(a.c2s, a.s2c, 32) != 0 && memcmp(a.sfin, a.cfin, 32) != 0 &&
          memcmp(a.c2s, a.sfin, 32) != 0);
    for (int i = 0; i < 3; i++) {
        uint8_t *v = i == 0 ? th : i == 1 ? ee : es;
        v[5] ^= 1;
        ms_kdf_schedule(&b, th, ee, es, prk2);
        CHECK(memcmp(prk, prk2, 32) != 0 && memcmp(a.c2s, b.c2s, 32) != 0);
        v[5] ^= 1;
    }
    /* ee and es are not interchangeable. */
    ms_kdf_schedule(&b, th, es, ee, prk2);
    CHECK(memcmp(prk, prk2, 32) != 0);
    ms_kdf_keys_wipe(&a);
    uint8_t zero[sizeof a] = {0};
    CHECK(memcmp(&a, zero, sizeof a) == 0);
}

static void test_ratchet_one_way(void)
{
    uint8_t k[32], k0[32];
    memset(k, 7, 32);
    memcpy(k0, k, 32);
    ms_kdf_ratchet(k);
    CHECK(memcmp(k, k0, 32) != 0);
    uint8_t k1[32];
    memcpy(k1, k, 32);
    ms_kdf_ratchet(k);
    CHECK(memcmp(k, k1, 32) != 0 && memcmp(k, k0, 32) != 0);
}

static void test_labels_distinct(void)
{
    const char *labels[] = {MS_L_TRANSCRIPT, MS_L_CLIENT_SIG, MS_L_EXTRACT,   MS_L_C2S_KEY,
                            MS_L_S2C_KEY,    MS_L_SERVER_FIN, MS_L_CLIENT_FIN, MS_L_RATCHET,
                            MS_L_BINDING};
    size_t n = sizeof labels / sizeof labels[0];
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            size_t li = strlen(labels[i]);
            bad += i != j && strncmp(labels[i], labels[j], li) == 0; /* no label prefixes another */
        }
    }
    CHECK(bad == 0);
}

/* The transcript frames both messages by length: moving a byte across the boundary changes TH. */
static void test_transcript_framing(void)
{
    const uint8_t ab[] = "ab", c[] = "c", a[] = "a", bc[] = "bc";
    uint8_t t1[32], t2[32];
    ms_kdf_transcript(t1, ab, 2, c, 1);
    ms_kdf_transcript(t2, a, 1, bc, 2);
    CHECK(memcmp(t1, t2, 32) != 0);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_low_order_refused);
    RUN(test_binding_covers_inputs);
    RUN(test_schedule);
    RUN(test_ratchet_one_way);
    RUN(test_labels_distinct);
    RUN(test_transcript_framing);
    return TEST_SUMMARY();
}

/* SEV-SNP verifier tests: AMD's real Milan vector, then a made-up chain for every policy check. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secure/attest/devkey.h"
#include "secure/attest/snp.h"
#include "secure/attest/snp_x509.h"
#include "secure/kdf.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/secure/attest/tdx_coll_fixture.h"
#include "tests/test.h"

static snp_fx_amd amd;

/* ---- helpers ----------------------------------------------------------------------------- */

static void bundle(ms_buf *out, const uint8_t *report, const ms_buf *vcek, const ms_buf *ask)
{
    ms_buf_init(out, MS_SNP_MAX_BUNDLE);
    CHECK_OK(ms_snp_bundle_encode(report, vcek->p, vcek->len, ask ? ask->p : NULL,
                                  ask ? ask->len : 0, out));
}

static ms_snp_policy amd_policy(const ms_buf *ark, const ms_buf *ask)
{
    ms_snp_policy p;
    memset(&p, 0, sizeof p);
    p.ark_der = ark->p;
    p.ark_len = ark->len;
    if (ask != NULL) {
        p.ask_der = ask->p;
        p.ask_len = ask->len;
    }
    return p;
}

/* The Milan report accepted in full: its own report_data as the binding, its measurement. */
static ms_snp_policy milan_full_policy(uint8_t binding[MS_BINDING_LEN])
{
    ms_snp_report r;
    ms_snp_policy p = amd_policy(&amd.ark, NULL);
    CHECK_OK(ms_snp_report_decode(amd.report, sizeof amd.report, &r));
    memcpy(binding, r.report_data, MS_BINDING_LEN);
    memcpy(p.measurement, r.measurement, sizeof p.measurement);
    p.min_tcb = r.reported_tcb;
    return p;
}

static uint8_t hex_nibble(char c)
{
    return (uint8_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(hex_nibble(s[2 * i]) << 4 | hex_nibble(s[2 * i + 1]));
    }
}

/* ---- the real Milan vector -------------------------------------------------------------- */

static void test_milan_decode(void)
{
    ms_snp_report r;
    uint8_t meas[48], chip[64];
    unhex("7a1e5c266c0108dbc9bb94fa926951320940915d0aafb424"
          "64bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
          meas, sizeof meas);
    unhex("d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc"
          "15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6",
          chip, sizeof chip);
    CHECK_OK(ms_snp_report_decode(amd.report, sizeof amd.report, &r));
    CHECK(r.version == 2 && r.guest_svn == 0 && r.policy == 0x30000 && r.vmpl == 0);
    CHECK(r.signature_algo == 1 && r.platform_info == 1 && r.key_info == 0);
    CHECK(r.reported_tcb.bootloader == 3 && r.reported_tcb.tee == 0 && r.reported_tcb.snp == 8 &&
          r.reported_tcb.microcode == 0x73);
    CHECK(r.reported_tcb.raw == 0x7308000000000003ull);
    CHECK(r.current_tcb.raw == r.reported_tcb.raw && r.committed_tcb.raw == r.reported_tcb.raw &&
          r.launch_tcb.raw == r.reported_tcb.raw);
    CHECK(r.current_major == 1 && r.current_minor == 52 && r.current_build == 4);
    CHECK_MEM(r.measurement, meas, sizeof meas);
    CHECK_MEM(r.chip_id, chip, sizeof chip);
    CHECK(r.sig_r[0] == 0x61 && r.sig_r[47] == 0x72 && r.sig_s[0] == 0x20 && r.sig_s[47] == 0x49);
    /* Exact size only. */
    CHECK_ERR(ms_snp_report_decode(amd.report, sizeof amd.report - 1, &r), MS_ERR_SNP_FORMAT);
    CHECK(r.version == 0); /* zeroed on failure */
    CHECK_ERR(ms_snp_report_decode(NULL, 0, &r), MS_ERR_SNP_FORMAT);
}

static void test_milan_truncated_report(void)
{
    ms_snp_report r;
    for (size_t n = 0; n < MS_SNP_REPORT_LEN; n++) {
        CHECK_ERR(ms_snp_report_decode(amd.report, n, &r), MS_ERR_SNP_FORMAT);
    }
    uint8_t longer[MS_SNP_REPORT_LEN + 1] = {0};
    memcpy(longer, amd.report, MS_SNP_REPORT_LEN);
    CHECK_ERR(ms_snp_report_decode(longer, sizeof longer, &r), MS_ERR_SNP_FORMAT);
}

static void test_report_hex(void)
{
    char text[MS_SNP_REPORT_HEX_LEN + 3];
    uint8_t raw[MS_SNP_REPORT_LEN];
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < MS_SNP_REPORT_LEN; i++) {
        text[2 * i] = digits[amd.report[i] >> 4];
        text[2 * i + 1] = digits[amd.report[i] & 15];
    }
    memcpy(text + MS_SNP_REPORT_HEX_LEN, "\r\n", 2);
    CHECK_OK(ms_snp_report_from_hex(text, MS_SNP_REPORT_HEX_LEN, raw));
    CHECK_MEM(raw, amd.report, sizeof raw);
    CHECK_OK(ms_snp_report_from_hex(text, MS_SNP_REPORT_HEX_LEN + 2, raw));
    CHECK_MEM(raw, amd.report, sizeof raw);
    CHECK_ERR(ms_snp_report_from_hex(text, MS_SNP_REPORT_HEX_LEN - 1, raw), MS_ERR_SNP_FORMAT);
    CHECK_ERR(ms_snp_report_from_hex(text, MS_SNP_REPORT_HEX_LEN - 2, raw), MS_ERR_SNP_FORMAT);
    text[MS_SNP_REPORT_HEX_LEN + 2] = 'A';
    CHECK_ERR(ms_snp_report_from_hex(text, MS_SNP_REPORT_HEX_LEN + 3, raw), MS_ERR_SNP_FORMAT);
    text[10] = 'g';
    CHECK_ERR(ms_snp_report_from_hex(text, MS_SNP_REPORT_HEX_LEN, raw), MS_ERR_SNP_FORMAT);
    CHECK_ERR(ms_snp_report_from_hex(NULL, 0, raw), MS_ERR_SNP_FORMAT);
    CHECK_ERR(ms_snp_report_from_hex(NULL, MS_SNP_REPORT_HEX_LEN, raw), MS_ERR_SNP_FORMAT);
}

/* NOTICE: ARK -> ASK -> VCEK verifies, the signature verifies, TCB and hwID match. */
static void test_milan_hardware_checks(void)
{
    ms_buf ev;
    ms_snp_checks ch;
    ms_snp_policy p = amd_policy(&amd.ark, NULL);
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    CHECK_OK(ms_snp_verify_report(&p, ev.p, ev.len, &ch));
    static const ms_snp_check ran[] = {MS_SNP_CHECK_FORMAT,    MS_SNP_CHECK_ARK,
                                       MS_SNP_CHECK_CHAIN,     MS_SNP_CHECK_SIGNATURE,
                                       MS_SNP_CHECK_TCB_MATCH, MS_SNP_CHECK_CHIP_ID,
                                       MS_SNP_CHECK_DEBUG};
    for (size_t i = 0; i < sizeof ran / sizeof ran[0]; i++) {
        CHECK(ch.ran[ran[i]] == 1 && ch.result[ran[i]] == MS_OK);
    }
    CHECK(!ch.ran[MS_SNP_CHECK_REPORT_DATA] && !ch.ran[MS_SNP_CHECK_MEASUREMENT] &&
          !ch.ran[MS_SNP_CHECK_TCB_MIN]);
    CHECK(ch.have_report && ch.report.reported_tcb.microcode == 0x73);
    ms_buf_free(&ev);
}

static void test_milan_full_verify(void)
{
    uint8_t b[MS_BINDING_LEN];
    ms_buf ev, ev_noask;
    ms_snp_policy p = milan_full_policy(b);
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    bundle(&ev_noask, amd.report, &amd.vcek, NULL);
    CHECK_OK(ms_snp_verify(&p, ev.p, ev.len, b));
    /* The ASK may come from the policy instead; without either the chain cannot be built. */
    CHECK_ERR(ms_snp_verify(&p, ev_noask.p, ev_noask.len, b), MS_ERR_SNP_CHAIN);
    p.ask_der = amd.ask.p;
    p.ask_len = amd.ask.len;
    CHECK_OK(ms_snp_verify(&p, ev_noask.p, ev_noask.len, b));
    /* The Milan report's policy checks, one at a time. */
    b[5] ^= 1;
    CHECK_ERR(ms_snp_verify(&p, ev.p, ev.len, b), MS_ERR_SNP_REPORT_DATA);
    b[5] ^= 1;
    p.measurement[47] ^= 1;
    CHECK_ERR(ms_snp_verify(&p, ev.p, ev.len, b), MS_ERR_SNP_MEASUREMENT);
    p.measurement[47] ^= 1;
    p.min_tcb.microcode = 0x74;
    CHECK_ERR(ms_snp_verify(&p, ev.p, ev.len, b), MS_ERR_SNP_TCB_MIN);
    CHECK_ERR(ms_snp_verify(NULL, ev.p, ev.len, b), MS_ERR_ARG);
    ms_buf_free(&ev);
    ms_buf_free(&ev_noask);
}

/* Every byte of the report matters: signed bytes through the signature, the rest by format. */
static void test_milan_flip_every_byte(void)
{
    ms_buf ev;
    ms_snp_checks ch;
    ms_snp_policy p = amd_policy(&amd.ark, NULL);
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    uint8_t *rep = ev.p + 1;
    int sig_failures = 0, flipped = 0;
    /* Quick mode: about 40 bytes spread over the report, its last included (each flip
       verifies AMD's RSA-4096 chain again, ~0.3 s under valgrind); full mode: every byte. */
    for (size_t i = 0; i < MS_SNP_REPORT_LEN; i = test_sample_next(i, 0, MS_SNP_REPORT_LEN, 40)) {
        flipped++;
        rep[i] ^= 0x01;
        ms_err e = ms_snp_verify_report(&p, ev.p, ev.len, &ch);
        if (e == MS_OK) {
            TEST_FAIL_("flipping report byte 0x%zx still verifies", i);
        } else if (ch.result[MS_SNP_CHECK_FORMAT] == MS_OK) {
            /* A well-formed change must break the signature. */
            if (ch.result[MS_SNP_CHECK_SIGNATURE] != MS_ERR_SNP_SIGNATURE) {
                TEST_FAIL_("byte 0x%zx: signature check gave %s", i,
                           ms_err_name(ch.result[MS_SNP_CHECK_SIGNATURE]));
            }
            sig_failures++;
        }
        rep[i] ^= 0x01;
    }
    /* most signed bytes are fields: more than 400 of the report's 1184 */
    CHECK(sig_failures > flipped * 400 / (int)MS_SNP_REPORT_LEN);
    CHECK_OK(ms_snp_verify_report(&p, ev.p, ev.len, &ch));
    ms_buf_free(&ev);
}

/* genoa/NOTICE: a Milan report or VCEK must not verify under the Genoa roots. */
static void test_milan_under_genoa(void)
{
    ms_buf ev, ev_noask;
    ms_snp_checks ch;
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    bundle(&ev_noask, amd.report, &amd.vcek, NULL);
    ms_snp_policy g = amd_policy(&amd.genoa_ark, &amd.genoa_ask);
    /* The Milan ASK was not issued by the Genoa ARK. */
    CHECK_ERR(ms_snp_verify_report(&g, ev.p, ev.len, &ch), MS_ERR_SNP_ARK);
    CHECK(ch.result[MS_SNP_CHECK_SIGNATURE] == MS_OK); /* the report itself is fine */
    /* With the Genoa ASK from the policy, the Milan VCEK was not issued by it. */
    CHECK_ERR(ms_snp_verify_report(&g, ev_noask.p, ev_noask.len, &ch), MS_ERR_SNP_CHAIN);
    CHECK(ch.result[MS_SNP_CHECK_ARK] == MS_OK);
    /* A pinned "ARK" that is not a self-signed root. */
    ms_snp_policy wrong = amd_policy(&amd.ask, NULL);
    CHECK_ERR(ms_snp_verify_report(&wrong, ev.p, ev.len, &ch), MS_ERR_SNP_ARK);
    /* A pinned ARK that does not parse, or is absent. */
    ms_snp_policy junk = amd_policy(&amd.ark, NULL);
    junk.ark_len--;
    CHECK_ERR(ms_snp_verify_report(&junk, ev.p, ev.len, &ch), MS_ERR_SNP_ARK);
    junk.ark_der = NULL;
    CHECK_ERR(ms_snp_verify_report(&junk, ev.p, ev.len, &ch), MS_ERR_SNP_ARK);
    ms_buf_free(&ev);
    ms_buf_free(&ev_noask);
}

/* Truncate the bundle at every offset; truncate each certificate inside a consistent bundle. */
static void test_milan_truncations(void)
{
    ms_buf ev, cut;
    uint8_t b[MS_BINDING_LEN];
    ms_snp_policy p = milan_full_policy(b);
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    for (size_t n = 0; n < ev.len; n++) {
        CHECK_ERR(ms_snp_verify(&p, ev.p, n, b), MS_ERR_SNP_FORMAT);
    }
    /* Quick mode: about 48 cuts of each certificate, the 1-byte and the 1-byte-short cuts
       included (each cut parses the DER again); full mode: every cut. */
    for (size_t n = 1; n < amd.vcek.len; n = test_sample_next(n, 1, amd.vcek.len, 48)) {
        ms_buf v = amd.vcek;
        v.len = n;
        bundle(&cut, amd.report, &v, &amd.ask);
        if (ms_snp_verify(&p, cut.p, cut.len, b) != MS_ERR_SNP_FORMAT) {
            TEST_FAIL_("VCEK cut to %zu bytes is not a format error", n);
        }
        ms_buf_free(&cut);
    }
    for (size_t n = 1; n < amd.ask.len; n = test_sample_next(n, 1, amd.ask.len, 48)) {
        ms_buf a = amd.ask;
        a.len = n;
        bundle(&cut, amd.report, &amd.vcek, &a);
        if (ms_snp_verify(&p, cut.p, cut.len, b) != MS_ERR_SNP_FORMAT) {
            TEST_FAIL_("ASK cut to %zu bytes is not a format error", n);
        }
        ms_buf_free(&cut);
    }
    CHECK_OK(ms_snp_verify(&p, ev.p, ev.len, b));
    ms_buf_free(&ev);
}

/* The bundle's own fields: format byte, lengths, caps, trailing bytes. */
static void test_bundle_layout(void)
{
    ms_buf ev, big;
    ms_snp_bundle sb;
    uint8_t b[MS_BINDING_LEN];
    ms_snp_policy p = milan_full_policy(b);
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    CHECK_OK(ms_snp_bundle_decode(ev.p, ev.len, &sb));
    CHECK(sb.report == ev.p + 1 && sb.vcek_len == amd.vcek.len && sb.ask_len == amd.ask.len);
    CHECK(ev.len == 1 + MS_SNP_REPORT_LEN + 2 + amd.vcek.len + 2 + amd.ask.len);
    ev.p[0] = 0x02;
    CHECK_ERR(ms_snp_verify(&p, ev.p, ev.len, b), MS_ERR_SNP_FORMAT);
    ev.p[0] = MS_SNP_BUNDLE_FORMAT;
    /* A trailing byte after the bundle. */
    CHECK_OK(ms_buf_append_u8(&ev, 0));
    CHECK_ERR(ms_snp_verify(&p, ev.p, ev.len, b), MS_ERR_SNP_FORMAT);
    CHECK_ERR(ms_snp_bundle_decode(ev.p, ev.len, &sb), MS_ERR_SNP_FORMAT);
    CHECK(sb.report == NULL);
    ms_buf_free(&ev);
    /* A byte of junk after a certificate's DER, inside its length. */
    ms_buf v;
    ms_buf_init(&v, MS_SNP_MAX_CERT);
    CHECK_OK(ms_buf_append(&v, amd.vcek.p, amd.vcek.len));
    CHECK_OK(ms_buf_append_u8(&v, 0));
    bundle(&ev, amd.report, &v, &amd.ask);
    CHECK_ERR(ms_snp_verify(&p, ev.p, ev.len, b), MS_ERR_SNP_FORMAT);
    ms_buf_free(&ev);
    /* vcek_len 0, and lengths over the cap. */
    uint8_t raw[1 + MS_SNP_REPORT_LEN + 4] = {MS_SNP_BUNDLE_FORMAT};
    CHECK_ERR(ms_snp_bundle_decode(raw, sizeof raw, &sb), MS_ERR_SNP_FORMAT);
    ms_buf_init(&big, MS_SNP_MAX_BUNDLE + 16);
    CHECK_OK(ms_buf_append(&big, raw, 1 + MS_SNP_REPORT_LEN));
    CHECK_OK(ms_buf_append_u16be(&big, MS_SNP_MAX_CERT + 1));
    uint8_t *fill;
    CHECK_OK(ms_buf_extend(&big, MS_SNP_MAX_CERT + 1, &fill));
    memset(fill, 0x30, MS_SNP_MAX_CERT + 1);
    CHECK_OK(ms_buf_append_u16be(&big, 0));
    CHECK_ERR(ms_snp_bundle_decode(big.p, big.len, &sb), MS_ERR_SNP_FORMAT);
    /* The encoder refuses what the decoder would. */
    CHECK_ERR(ms_snp_bundle_encode(amd.report, fill, MS_SNP_MAX_CERT + 1, NULL, 0, &ev),
              MS_ERR_ARG);
    CHECK_ERR(ms_snp_bundle_encode(amd.report, amd.vcek.p, 0, NULL, 0, &ev), MS_ERR_ARG);
    CHECK_ERR(ms_snp_bundle_encode(amd.report, amd.vcek.p, amd.vcek.len, amd.ask.p, 0, &ev),
              MS_ERR_ARG);
    CHECK(ev.len == 0);
    ms_buf_free(&big);
    ms_buf_free(&v);
}

/* The bundle decoder's caps at their edges: a VCEK of 1 byte; both certificates of exactly
   MS_SNP_MAX_CERT bytes (a bundle of exactly MS_SNP_MAX_BUNDLE); an ASK one byte over. */
static void test_bundle_caps(void)
{
    ms_buf ev;
    ms_snp_bundle sb;
    uint8_t *cert = malloc(MS_SNP_MAX_CERT + 1);
    CHECK(cert != NULL);
    if (cert == NULL) {
        return;
    }
    memset(cert, 0x30, MS_SNP_MAX_CERT + 1);
    ms_buf_init(&ev, MS_SNP_MAX_BUNDLE + 1);
    CHECK_OK(ms_snp_bundle_encode(amd.report, cert, 1, NULL, 0, &ev));
    CHECK_OK(ms_snp_bundle_decode(ev.p, ev.len, &sb));
    CHECK(sb.vcek_len == 1 && sb.ask_len == 0);
    ms_buf_clear(&ev);
    CHECK_OK(ms_snp_bundle_encode(amd.report, cert, MS_SNP_MAX_CERT, cert, MS_SNP_MAX_CERT, &ev));
    CHECK(ev.len == MS_SNP_MAX_BUNDLE);
    CHECK_OK(ms_snp_bundle_decode(ev.p, ev.len, &sb));
    CHECK(sb.vcek_len == MS_SNP_MAX_CERT && sb.ask_len == MS_SNP_MAX_CERT);
    /* the ASK's length one over its cap (the bundle itself is under MS_SNP_MAX_BUNDLE) */
    ms_buf_clear(&ev);
    CHECK_OK(ms_snp_bundle_encode(amd.report, cert, 1, NULL, 0, &ev));
    CHECK_OK(ms_buf_shrink(&ev, 2)); /* drop ask_len 0 */
    CHECK_OK(ms_buf_append_u16be(&ev, MS_SNP_MAX_CERT + 1));
    CHECK_OK(ms_buf_append(&ev, cert, MS_SNP_MAX_CERT + 1));
    CHECK(ev.len < MS_SNP_MAX_BUNDLE);
    CHECK_ERR(ms_snp_bundle_decode(ev.p, ev.len, &sb), MS_ERR_SNP_FORMAT);
    CHECK(sb.report == NULL && sb.ask_len == 0);
    ms_buf_free(&ev);
    free(cert);
}

/* The report's format rules, on a copy of the Milan report (decoding only). */
static void test_report_format_rules(void)
{
    ms_snp_report r;
    uint8_t rep[MS_SNP_REPORT_LEN];
    static const struct {
        size_t off;
        uint8_t val;
    } bad[] = {
        {0x000, 1},    {0x000, 6},    {0x001, 2},    /* version 1, 6, 0x202 */
        {0x00A, 0x01}, /* policy: bit 17 (must be one) cleared */
        {0x034, 2},    /* signature_algo */
        {0x03A, 1},    /* current TCB reserved byte */
        {0x048, 0x20}, /* key_info reserved bit 5 */
        {0x04C, 1},    {0x188, 1}, {0x19F, 1}, /* reserved */
        {0x182, 1},    /* reported TCB reserved byte */
        {0x1EB, 1},    {0x1EF, 1}, {0x1F8, 1}, {0x29F, 1},
        {0x2A0 + 48, 1}, {0x2E8 + 71, 1}, /* r / s padding */
        {0x330, 1},    {0x49F, 1},  /* signature reserved */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(rep, amd.report, sizeof rep);
        rep[bad[i].off] = bad[i].off == 0x00A ? (uint8_t)(rep[0x00A] & ~0x02) : bad[i].val;
        if (ms_snp_report_decode(rep, sizeof rep, &r) != MS_ERR_SNP_FORMAT) {
            TEST_FAIL_("byte 0x%zx = 0x%02x decodes", bad[i].off, bad[i].val);
        }
    }
    /* Version 3 carries CPUID at 0x188; version 5 the mitigation vectors at 0x1F8. */
    memcpy(rep, amd.report, sizeof rep);
    rep[0] = 3;
    rep[0x188] = 0x19;
    rep[0x18A] = 1;
    CHECK_OK(ms_snp_report_decode(rep, sizeof rep, &r));
    CHECK(r.version == 3 && r.cpuid_fam_id == 0x19 && r.cpuid_step == 1);
    rep[0x188] = 0x17; /* a family whose TCB layout we do not know, Milan's TCBs otherwise fine */
    CHECK_ERR(ms_snp_report_decode(rep, sizeof rep, &r), MS_ERR_SNP_FORMAT);
    rep[0x188] = 0x19;
    rep[0x1F8] = 1;
    CHECK_ERR(ms_snp_report_decode(rep, sizeof rep, &r), MS_ERR_SNP_FORMAT);
    rep[0] = 5;
    rep[0x207] = 0x80;
    CHECK_OK(ms_snp_report_decode(rep, sizeof rep, &r));
    CHECK(r.launch_mit_vector == 1 && r.current_mit_vector == 0x8000000000000000ull);
    rep[0x208] = 1;
    CHECK_ERR(ms_snp_report_decode(rep, sizeof rep, &r), MS_ERR_SNP_FORMAT);
    /* Version 3 on Turin (family 1Ah): its TCB layout, where bytes 4..6 are reserved. */
    memcpy(rep, amd.report, sizeof rep);
    rep[0] = 3;
    rep[0x188] = 0x1A;
    CHECK_ERR(ms_snp_report_decode(rep, sizeof rep, &r), MS_ERR_SNP_FORMAT); /* byte 6 (SNP) = 8 */
    for (size_t t = 0; t < 4; t++) {
        static const size_t tcb_off[4] = {0x038, 0x180, 0x1E0, 0x1F0};
        rep[tcb_off[t] + 6] = 0;
        rep[tcb_off[t] + 3] = 8;
    }
    CHECK_OK(ms_snp_report_decode(rep, sizeof rep, &r));
    CHECK(r.tcb_layout == MS_SNP_TCB_TURIN && r.reported_tcb.fmc == 3 &&
          r.reported_tcb.bootloader == 0 && r.reported_tcb.snp == 8 &&
          r.reported_tcb.microcode == 0x73);
    rep[0x180 + 4] = 1;
    CHECK_ERR(ms_snp_report_decode(rep, sizeof rep, &r), MS_ERR_SNP_FORMAT);
    rep[0x180 + 4] = 0;
    rep[0x188] = 0x17; /* a family whose TCB layout we do not know */
    CHECK_ERR(ms_snp_report_decode(rep, sizeof rep, &r), MS_ERR_SNP_FORMAT);
    /* Debug policy and the VLEK signing key decode: the verifier refuses them later. */
    memcpy(rep, amd.report, sizeof rep);
    rep[0x00A] |= 0x08;
    rep[0x048] = 1 << 2;
    CHECK_OK(ms_snp_report_decode(rep, sizeof rep, &r));
    CHECK((r.policy & MS_SNP_POLICY_DEBUG) && MS_SNP_KEY_INFO_SIGNING_KEY(r.key_info) == 1);
}

/* ---- a made-up chain: every policy check and every chain fault ------------------------- */

typedef struct synth {
    snp_fx_chain chain;
    snp_fx_report_opts ro;
    uint8_t report[MS_SNP_REPORT_LEN];
    ms_buf ev;
    ms_snp_policy policy;
    uint8_t binding[MS_BINDING_LEN];
} synth;

/* A session binding of §6 for a given static key byte, as the client computes it. */
static void session_binding(uint8_t out[MS_BINDING_LEN], uint8_t key_byte)
{
    ms_binding_in in;
    memset(&in, 0, sizeof in);
    in.evidence_type = MS_EVIDENCE_SEV_SNP;
    in.mode = MS_MODE_FAST;
    memset(in.static_pk, key_byte, sizeof in.static_pk);
    in.not_after = 1700000000;
    CHECK_OK(ms_kdf_binding(out, &in));
}

/* Chain from RSA keys (ark, ask), VCEK key 0, default options; a good report over B. */
static void synth_make(synth *s, int ark, int ask, const snp_fx_vcek_opts *vo)
{
    snp_fx_vcek_opts def;
    memset(s, 0, sizeof *s);
    snp_fx_vcek_opts_default(&def);
    CHECK(snp_fx_chain_make(&s->chain, snp_fx_rsa_key(ark), snp_fx_rsa_key(ask),
                            snp_fx_p384_key(0), vo ? vo : &def, 48, 0));
    snp_fx_report_opts_default(&s->ro);
    session_binding(s->binding, 0xa1);
    memcpy(s->ro.report_data, s->binding, MS_BINDING_LEN);
    CHECK(snp_fx_report_make(s->report, &s->ro, s->chain.vcek_key));
    bundle(&s->ev, s->report, &s->chain.vcek, &s->chain.ask);
    s->policy = amd_policy(&s->chain.ark, NULL);
    memcpy(s->policy.measurement, s->ro.measurement, MS_SNP_MEASUREMENT_LEN);
    s->policy.min_tcb.bootloader = 3;
    s->policy.min_tcb.snp = 8;
    s->policy.min_tcb.microcode = 115;
}

/* Re-make the report from s->ro (signed by `key`) and the bundle around it. */
static void synth_remake(synth *s, EVP_PKEY *key)
{
    CHECK(snp_fx_report_make(s->report, &s->ro, key));
    ms_buf_free(&s->ev);
    bundle(&s->ev, s->report, &s->chain.vcek, &s->chain.ask);
}

static void synth_free(synth *s)
{
    snp_fx_chain_free(&s->chain);
    ms_buf_free(&s->ev);
}

static ms_err synth_verify(const synth *s)
{
    return ms_snp_verify(&s->policy, s->ev.p, s->ev.len, s->binding);
}

static void test_synth_good(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    CHECK_OK(synth_verify(&s));
    /* Versions 3 and 5 of the layout too. */
    s.ro.version = 3;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_OK(synth_verify(&s));
    s.ro.version = 5;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_OK(synth_verify(&s));
    /* A TCB above the minimum in every component. */
    s.ro.version = 2;
    synth_remake(&s, s.chain.vcek_key);
    s.policy.min_tcb.bootloader = 2;
    s.policy.min_tcb.microcode = 0;
    CHECK_OK(synth_verify(&s));
    synth_free(&s);
}

static void test_synth_debug(void)
{
    synth s;
    ms_snp_checks ch;
    synth_make(&s, 0, 1, NULL);
    s.ro.policy |= MS_SNP_POLICY_DEBUG;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_DEBUG);
    /* The offline form reports it too. */
    CHECK_ERR(ms_snp_verify_report(&s.policy, s.ev.p, s.ev.len, &ch), MS_ERR_SNP_DEBUG);
    CHECK(ch.result[MS_SNP_CHECK_SIGNATURE] == MS_OK && ch.ran[MS_SNP_CHECK_DEBUG]);
    synth_free(&s);
}

static void test_synth_measurement(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    for (size_t i = 0; i < MS_SNP_MEASUREMENT_LEN; i += 47) {
        s.policy.measurement[i] ^= 0x80;
        CHECK_ERR(synth_verify(&s), MS_ERR_SNP_MEASUREMENT);
        s.policy.measurement[i] ^= 0x80;
    }
    CHECK_OK(synth_verify(&s));
    synth_free(&s);
}

/* Evidence over another session's binding is refused, whichever session that was. */
static void test_synth_report_data(void)
{
    synth s;
    uint8_t other[MS_BINDING_LEN];
    synth_make(&s, 0, 1, NULL);
    session_binding(other, 0xa2);
    CHECK_ERR(ms_snp_verify(&s.policy, s.ev.p, s.ev.len, other), MS_ERR_SNP_REPORT_DATA);
    /* Quick mode: 8 of the 64 bytes, the first and the last included (each verifies the
       whole chain again); full mode: every byte. */
    for (size_t i = 0; i < MS_BINDING_LEN; i = test_sample_next(i, 0, MS_BINDING_LEN, 8)) {
        s.binding[i] ^= 1;
        if (synth_verify(&s) != MS_ERR_SNP_REPORT_DATA) {
            TEST_FAIL_("binding byte %zu changed still matches", i);
        }
        s.binding[i] ^= 1;
    }
    synth_free(&s);
}

static void test_synth_tcb_min(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    uint8_t *comp[4] = {&s.policy.min_tcb.bootloader, &s.policy.min_tcb.tee,
                        &s.policy.min_tcb.snp, &s.policy.min_tcb.microcode};
    static const uint8_t have[4] = {3, 0, 8, 115};
    for (size_t i = 0; i < 4; i++) {
        uint8_t keep = *comp[i];
        *comp[i] = (uint8_t)(have[i] + 1);
        CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MIN);
        *comp[i] = keep;
    }
    CHECK_OK(synth_verify(&s));
    synth_free(&s);
}

/* The VCEK states another TCB than the report (each component), or none, or two. */
static void test_synth_tcb_mismatch(void)
{
    static const int bytes[] = {0, 1, 6, 7, 2, 5};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        synth s;
        snp_fx_vcek_opts vo;
        snp_fx_vcek_opts_default(&vo);
        vo.tcb[bytes[i]] ^= 1;
        synth_make(&s, 0, 1, &vo);
        CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MISMATCH);
        synth_free(&s);
    }
    static const int omit[] = {0, 1, 6, 7};
    for (size_t i = 0; i < sizeof omit / sizeof omit[0]; i++) {
        synth s;
        snp_fx_vcek_opts vo;
        snp_fx_vcek_opts_default(&vo);
        vo.omit_spl = omit[i];
        synth_make(&s, 0, 1, &vo);
        CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MISMATCH);
        synth_free(&s);
    }
    synth s;
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    vo.omit_spl = 3; /* a reserved spl may be absent */
    synth_make(&s, 0, 1, &vo);
    CHECK_OK(synth_verify(&s));
    synth_free(&s);
    vo.omit_spl = -1;
    vo.dup_spl = 7;
    synth_make(&s, 0, 1, &vo);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MISMATCH);
    synth_free(&s);
}

static void test_synth_chip_id(void)
{
    synth s;
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    vo.hwid[63] ^= 1;
    synth_make(&s, 0, 1, &vo);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CHIP_ID);
    synth_free(&s);
    snp_fx_vcek_opts_default(&vo);
    vo.hwid_len = 0;
    synth_make(&s, 0, 1, &vo);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CHIP_ID);
    synth_free(&s);
    snp_fx_vcek_opts_default(&vo);
    vo.hwid_len = 32; /* a shorter id (as a masked or other-generation chip would state) */
    synth_make(&s, 0, 1, &vo);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CHIP_ID);
    synth_free(&s);
    /* MASK_CHIP_ID: the report's chip_id is zero. */
    synth_make(&s, 0, 1, NULL);
    memset(s.ro.chip_id, 0, sizeof s.ro.chip_id);
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CHIP_ID);
    synth_free(&s);
}

/* A whole chain under another root; pieces of two chains; non-AMD signature parameters. */
static void test_synth_chain_faults(void)
{
    synth s, other;
    synth_make(&s, 0, 1, NULL);
    synth_make(&other, 2, 1, NULL); /* same ASK and VCEK keys, another ARK */
    /* Chain under another ARK, with the ASK in the bundle or in the policy. */
    s.policy.ark_der = other.chain.ark.p;
    s.policy.ark_len = other.chain.ark.len;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_ARK);
    ms_buf noask;
    bundle(&noask, s.report, &s.chain.vcek, NULL);
    s.policy.ask_der = s.chain.ask.p;
    s.policy.ask_len = s.chain.ask.len;
    CHECK_ERR(ms_snp_verify(&s.policy, noask.p, noask.len, s.binding), MS_ERR_SNP_ARK);
    s.policy.ark_der = s.chain.ark.p;
    s.policy.ark_len = s.chain.ark.len;
    CHECK_OK(ms_snp_verify(&s.policy, noask.p, noask.len, s.binding));
    /* Our ARK, the other chain's ASK (not issued by our ARK). */
    ms_buf mixed;
    bundle(&mixed, s.report, &s.chain.vcek, &other.chain.ask);
    CHECK_ERR(ms_snp_verify(&s.policy, mixed.p, mixed.len, s.binding), MS_ERR_SNP_ARK);
    ms_buf_free(&mixed);
    /* A VCEK issued by another ASK key under the right ARK. */
    synth third;
    synth_make(&third, 0, 2, NULL);
    bundle(&mixed, s.report, &third.chain.vcek, &s.chain.ask);
    CHECK_ERR(ms_snp_verify(&s.policy, mixed.p, mixed.len, s.binding), MS_ERR_SNP_CHAIN);
    ms_buf_free(&mixed);
    /* The VCEK presented as the ASK: not a CA. */
    bundle(&mixed, s.report, &s.chain.vcek, &s.chain.vcek);
    CHECK_ERR(ms_snp_verify(&s.policy, mixed.p, mixed.len, s.binding), MS_ERR_SNP_ARK);
    ms_buf_free(&mixed);
    ms_buf_free(&noask);
    synth_free(&third);
    synth_free(&other);
    synth_free(&s);
}

/* The pinned root must be a self-signed CA, even when it did sign the ASK. */
static void test_synth_ark_must_be_self_signed_ca(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    ms_buf ark;
    /* The same subject and key re-issued as a self-signed CA: accepted (the control). */
    CHECK(snp_fx_ark_variant(&ark, s.chain.ark_key, s.chain.ark_key, 1));
    s.policy.ark_der = ark.p;
    s.policy.ark_len = ark.len;
    CHECK_OK(synth_verify(&s));
    ms_buf_free(&ark);
    /* Self-signed, but not a CA. */
    CHECK(snp_fx_ark_variant(&ark, s.chain.ark_key, s.chain.ark_key, 0));
    s.policy.ark_der = ark.p;
    s.policy.ark_len = ark.len;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_ARK);
    ms_buf_free(&ark);
    /* A CA, but issued by another root: not a root itself. */
    CHECK(snp_fx_ark_variant(&ark, s.chain.ark_key, snp_fx_rsa_key(2), 1));
    s.policy.ark_der = ark.p;
    s.policy.ark_len = ark.len;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_ARK);
    ms_buf_free(&ark);
    synth_free(&s);
}

/* The intermediate must be a CA, even when the ARK issued it and it signed the VCEK. */
static void test_synth_ask_must_be_ca(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    ms_buf ask, ev;
    CHECK(snp_fx_ask_not_ca(&ask, &s.chain));
    bundle(&ev, s.report, &s.chain.vcek, &ask);
    CHECK_ERR(ms_snp_verify(&s.policy, ev.p, ev.len, s.binding), MS_ERR_SNP_CHAIN);
    ms_buf_free(&ev);
    /* The same as the policy's ASK, with none in the bundle. */
    bundle(&ev, s.report, &s.chain.vcek, NULL);
    s.policy.ask_der = ask.p;
    s.policy.ask_len = ask.len;
    CHECK_ERR(ms_snp_verify(&s.policy, ev.p, ev.len, s.binding), MS_ERR_SNP_CHAIN);
    s.policy.ask_der = s.chain.ask.p; /* the control: the CA ASK from the policy */
    s.policy.ask_len = s.chain.ask.len;
    CHECK_OK(ms_snp_verify(&s.policy, ev.p, ev.len, s.binding));
    ms_buf_free(&ev);
    ms_buf_free(&ask);
    synth_free(&s);
}

/* A VCEK holding another kind of key than ECDSA P-384 signs nothing, even a valid signature. */
static void test_synth_vcek_not_p384(void)
{
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    CHECK(p256 != NULL);
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    synth s;
    synth_make(&s, 0, 1, NULL);
    snp_fx_chain c;
    CHECK(snp_fx_chain_make(&c, snp_fx_rsa_key(0), snp_fx_rsa_key(1), p256, &vo, 48, 0));
    CHECK(snp_fx_report_make(s.report, &s.ro, p256));
    ms_buf ev;
    bundle(&ev, s.report, &c.vcek, &c.ask);
    CHECK_ERR(ms_snp_verify(&s.policy, ev.p, ev.len, s.binding), MS_ERR_SNP_SIGNATURE);
    ms_buf_free(&ev);
    snp_fx_chain_free(&c);
    EVP_PKEY_free(p256);
    synth_free(&s);
}

static void test_synth_signature_params(void)
{
    synth s;
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    synth_make(&s, 0, 1, NULL);
    /* ASK and VCEK signed with PSS but salt 32: not AMD's parameters, although valid PSS. */
    snp_fx_chain c32;
    CHECK(snp_fx_chain_make(&c32, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo,
                            32, 0));
    ms_buf ev;
    bundle(&ev, s.report, &c32.vcek, &c32.ask);
    CHECK_ERR(ms_snp_verify(&s.policy, ev.p, ev.len, s.binding), MS_ERR_SNP_ARK);
    ms_buf_free(&ev);
    bundle(&ev, s.report, &c32.vcek, &s.chain.ask);
    CHECK_ERR(ms_snp_verify(&s.policy, ev.p, ev.len, s.binding), MS_ERR_SNP_CHAIN);
    ms_buf_free(&ev);
    snp_fx_chain_free(&c32);
    /* The VCEK signed with PKCS#1 v1.5. */
    snp_fx_chain pk;
    CHECK(snp_fx_chain_make(&pk, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo,
                            48, 1));
    bundle(&ev, s.report, &pk.vcek, &pk.ask);
    CHECK_ERR(ms_snp_verify(&s.policy, ev.p, ev.len, s.binding), MS_ERR_SNP_CHAIN);
    ms_buf_free(&ev);
    snp_fx_chain_free(&pk);
    synth_free(&s);
}

static void test_synth_report_signature(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    /* Signed by another P-384 key than the VCEK's. */
    synth_remake(&s, snp_fx_p384_key(1));
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SIGNATURE);
    /* A report that says it is signed by a VLEK (or by no key), with a VCEK sent. */
    s.ro.key_info = 1u << 2;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SIGNING_KEY);
    s.ro.key_info = 7u << 2;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SIGNING_KEY);
    /* r zero. */
    s.ro.key_info = 0;
    synth_remake(&s, s.chain.vcek_key);
    memset(s.ev.p + 1 + 0x2A0, 0, 48);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SIGNATURE);
    synth_free(&s);
}

/* The first failure in check order decides the code (docs/attest-sev-snp.md §4). */
static void test_synth_check_order(void)
{
    synth s;
    uint8_t other[MS_BINDING_LEN];
    synth_make(&s, 0, 1, NULL);
    session_binding(other, 0xa3);
    s.ro.policy |= MS_SNP_POLICY_DEBUG;
    s.policy.min_tcb.snp = 9;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_DEBUG);
    s.policy.measurement[0] ^= 1;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_MEASUREMENT);
    CHECK_ERR(ms_snp_verify(&s.policy, s.ev.p, s.ev.len, other), MS_ERR_SNP_REPORT_DATA);
    s.ro.chip_id[0] ^= 1;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CHIP_ID);
    s.ro.tcb[7]--;
    s.ro.tcb[0]++;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MISMATCH);
    synth_remake(&s, snp_fx_p384_key(1));
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SIGNATURE);
    /* The offline form runs every check after FORMAT and shows each. */
    ms_snp_checks ch;
    CHECK_ERR(ms_snp_verify_report(&s.policy, s.ev.p, s.ev.len, &ch), MS_ERR_SNP_SIGNATURE);
    CHECK(ch.result[MS_SNP_CHECK_TCB_MATCH] == MS_ERR_SNP_TCB_MISMATCH &&
          ch.result[MS_SNP_CHECK_CHIP_ID] == MS_ERR_SNP_CHIP_ID &&
          ch.result[MS_SNP_CHECK_DEBUG] == MS_ERR_SNP_DEBUG &&
          ch.result[MS_SNP_CHECK_CHAIN] == MS_OK);
    synth_free(&s);
}

/* ---- the fields added by issue 19: each check fails on its own ------------------------- */

static void put_le64(uint8_t *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Edit the report, sign it again with the chain's leaf key, and rebuild the bundle. */
static void synth_patch(synth *s, size_t off, const void *bytes, size_t n)
{
    memcpy(s->report + off, bytes, n);
    CHECK(snp_fx_report_sign(s->report, s->chain.vcek_key));
    ms_buf_free(&s->ev);
    bundle(&s->ev, s->report, &s->chain.vcek, &s->chain.ask);
}

static void synth_patch_u64(synth *s, size_t off, uint64_t v)
{
    uint8_t b[8];
    put_le64(b, v);
    synth_patch(s, off, b, sizeof b);
}

/*
 * Done-when of issue 19: the real Milan report, re-signed by a test VCEK made for its TCB and
 * chip id, verifies; with VMPL 1 or with MIGRATE_MA set it fails with that check's own code.
 */
static void test_milan_resigned_vmpl_migrate_ma(void)
{
    ms_snp_report r;
    snp_fx_vcek_opts vo;
    snp_fx_chain c;
    ms_buf ev;
    uint8_t rep[MS_SNP_REPORT_LEN], b[MS_BINDING_LEN];
    CHECK_OK(ms_snp_report_decode(amd.report, sizeof amd.report, &r));
    snp_fx_vcek_opts_default(&vo);
    put_le64(vo.tcb, r.reported_tcb.raw);
    memcpy(vo.hwid, r.chip_id, sizeof vo.hwid);
    CHECK(snp_fx_chain_make(&c, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo,
                            48, 0));
    ms_snp_policy p = milan_full_policy(b);
    p.ark_der = c.ark.p;
    p.ark_len = c.ark.len;
    uint8_t vmpl1[4] = {1, 0, 0, 0};
    for (int variant = 0; variant < 3; variant++) {
        memcpy(rep, amd.report, sizeof rep);
        if (variant == 1) {
            memcpy(rep + 0x030, vmpl1, sizeof vmpl1);
        } else if (variant == 2) {
            rep[0x00A] |= (uint8_t)(MS_SNP_POLICY_MIGRATE_MA >> 16);
        }
        CHECK(snp_fx_report_sign(rep, c.vcek_key));
        bundle(&ev, rep, &c.vcek, &c.ask);
        static const ms_err want[3] = {MS_OK, MS_ERR_SNP_VMPL, MS_ERR_SNP_MIGRATE_MA};
        CHECK_ERR(ms_snp_verify(&p, ev.p, ev.len, b), want[variant]);
        /* Each is accepted only when the policy says so. */
        p.vmpl = variant == 1 ? 1 : 0;
        p.allow_migrate_ma = variant == 2;
        CHECK_OK(ms_snp_verify(&p, ev.p, ev.len, b));
        p.vmpl = 0;
        p.allow_migrate_ma = 0;
        ms_buf_free(&ev);
    }
    /* The untouched Milan vector still verifies under AMD's roots with the new checks. */
    ms_snp_policy amdp = milan_full_policy(b);
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    CHECK_OK(ms_snp_verify_at(&amdp, ev.p, ev.len, b, 1800000000u));
    ms_buf_free(&ev);
    snp_fx_chain_free(&c);
}

static void test_synth_vmpl_and_agent(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    uint8_t v2[4] = {2, 0, 0, 0};
    synth_patch(&s, 0x030, v2, sizeof v2);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_VMPL);
    s.policy.vmpl = 2;
    CHECK_OK(synth_verify(&s));
    s.policy.vmpl = 3;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_VMPL);
    s.policy.vmpl = 2;
    /* REPORT_ID_MA other than all 0xFF: a migration agent is bound. */
    for (size_t i = 0; i < 32; i += 31) {
        uint8_t ma[32];
        memset(ma, 0xff, sizeof ma);
        ma[i] = 0xfe;
        synth_patch(&s, 0x160, ma, sizeof ma);
        CHECK_ERR(synth_verify(&s), MS_ERR_SNP_MIGRATION_AGENT);
    }
    s.policy.allow_migration_agent = 1;
    CHECK_OK(synth_verify(&s));
    synth_free(&s);
}

static void test_synth_guest_policy(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    /* SMT: the default guest policy 0x30000 allows it; a policy may forbid it. */
    s.policy.forbid_smt = 1;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SMT);
    synth_patch_u64(&s, 0x008, MS_SNP_POLICY_RSVD_MBO);
    CHECK_OK(synth_verify(&s));
    /* SINGLE_SOCKET required. */
    s.policy.require_single_socket = 1;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SINGLE_SOCKET);
    synth_patch_u64(&s, 0x008, MS_SNP_POLICY_RSVD_MBO | MS_SNP_POLICY_SINGLE_SOCKET);
    CHECK_OK(synth_verify(&s));
    /* ABI minimum: major.minor compared as a pair. */
    s.policy.have_min_abi = 1;
    s.policy.min_abi_major = 1;
    s.policy.min_abi_minor = 51;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_ABI_MIN);
    static const struct {
        uint8_t major, minor;
        ms_err want;
    } abi[] = {{1, 50, MS_ERR_SNP_ABI_MIN}, {1, 51, MS_OK}, {1, 52, MS_OK}, {2, 0, MS_OK},
               {0, 255, MS_ERR_SNP_ABI_MIN}};
    for (size_t i = 0; i < sizeof abi / sizeof abi[0]; i++) {
        synth_patch_u64(&s, 0x008, MS_SNP_POLICY_RSVD_MBO | MS_SNP_POLICY_SINGLE_SOCKET |
                                       (uint64_t)abi[i].major << 8 | abi[i].minor);
        CHECK_ERR(synth_verify(&s), abi[i].want);
    }
    /* The other bits, each pinned set and then clear. */
    static const uint64_t bits[] = {MS_SNP_POLICY_CXL_ALLOW, MS_SNP_POLICY_MEM_AES_256_XTS,
                                    MS_SNP_POLICY_RAPL_DIS, MS_SNP_POLICY_CIPHERTEXT_HIDING,
                                    MS_SNP_POLICY_PAGE_SWAP_DISABLE};
    uint64_t base = MS_SNP_POLICY_RSVD_MBO | MS_SNP_POLICY_SINGLE_SOCKET | 0x0200;
    synth_patch_u64(&s, 0x008, base);
    CHECK_OK(synth_verify(&s));
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        s.policy.policy_set = bits[i];
        CHECK_ERR(synth_verify(&s), MS_ERR_SNP_POLICY_BITS);
        synth_patch_u64(&s, 0x008, base | bits[i]);
        CHECK_OK(synth_verify(&s));
        s.policy.policy_set = 0;
        s.policy.policy_clear = bits[i];
        CHECK_ERR(synth_verify(&s), MS_ERR_SNP_POLICY_BITS);
        synth_patch_u64(&s, 0x008, base);
        CHECK_OK(synth_verify(&s));
        s.policy.policy_clear = 0;
    }
    synth_free(&s);
}

static void test_synth_platform_info(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL); /* PLATFORM_INFO = SMT_EN */
    s.policy.platform_clear = MS_SNP_PLATFORM_SMT_EN;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_PLATFORM_INFO);
    s.policy.platform_clear = 0;
    s.policy.platform_set = MS_SNP_PLATFORM_TSME_EN;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_PLATFORM_INFO);
    synth_patch_u64(&s, 0x040, MS_SNP_PLATFORM_TSME_EN);
    CHECK_OK(synth_verify(&s));
    s.policy.platform_clear = MS_SNP_PLATFORM_SMT_EN | MS_SNP_PLATFORM_CIPHERTEXT_HIDING_EN;
    CHECK_OK(synth_verify(&s));
    synth_patch_u64(&s, 0x040, MS_SNP_PLATFORM_TSME_EN | MS_SNP_PLATFORM_CIPHERTEXT_HIDING_EN);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_PLATFORM_INFO);
    synth_free(&s);
}

/* HOST_DATA, FAMILY_ID, IMAGE_ID, ID key and author key digests: each pin on its own. */
static void test_synth_pins(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    uint8_t host[32], idk[48], auk[48];
    memset(host, 0xa5, sizeof host);
    memset(idk, 0x1d, sizeof idk);
    memset(auk, 0xa7, sizeof auk);
    synth_patch(&s, 0x0C0, host, sizeof host);
    synth_patch(&s, 0x0E0, idk, sizeof idk);
    synth_patch(&s, 0x110, auk, sizeof auk);
    ms_snp_policy *p = &s.policy;
    struct {
        int *have;
        uint8_t *pin;
        size_t n;
        size_t off;
        ms_err err;
    } pins[] = {
        {&p->have_host_data, p->host_data, 32, 0x0C0, MS_ERR_SNP_HOST_DATA},
        {&p->have_family_id, p->family_id, 16, 0x010, MS_ERR_SNP_FAMILY_ID},
        {&p->have_image_id, p->image_id, 16, 0x020, MS_ERR_SNP_IMAGE_ID},
        {&p->have_id_key, p->id_key_digest, 48, 0x0E0, MS_ERR_SNP_ID_KEY},
        {&p->have_author_key, p->author_key_digest, 48, 0x110, MS_ERR_SNP_AUTHOR_KEY},
    };
    for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
        *pins[i].have = 1;
        CHECK_ERR(synth_verify(&s), pins[i].err); /* pinned to zero: the report differs */
        memcpy(pins[i].pin, s.report + pins[i].off, pins[i].n);
        CHECK_OK(synth_verify(&s));
        pins[i].pin[pins[i].n - 1] ^= 1;
        CHECK_ERR(synth_verify(&s), pins[i].err);
        pins[i].pin[pins[i].n - 1] ^= 1;
        CHECK_OK(synth_verify(&s));
    }
    synth_free(&s);
}

static void test_synth_cert_time(void)
{
    synth s;
    ms_snp_checks ch;
    synth_make(&s, 0, 1, NULL); /* certificates valid from now for 365 days */
    uint64_t now = (uint64_t)time(NULL);
    CHECK_OK(ms_snp_verify_at(&s.policy, s.ev.p, s.ev.len, s.binding, now + 60));
    CHECK_ERR(ms_snp_verify_at(&s.policy, s.ev.p, s.ev.len, s.binding, now - 2 * 86400),
              MS_ERR_SNP_CERT_TIME);
    CHECK_ERR(ms_snp_verify_at(&s.policy, s.ev.p, s.ev.len, s.binding, now + 400 * 86400),
              MS_ERR_SNP_CERT_TIME);
    CHECK_ERR(ms_snp_verify_at(&s.policy, s.ev.p, s.ev.len, s.binding, UINT64_MAX),
              MS_ERR_SNP_CERT_TIME);
    /* The offline form at a time: only that check fails. */
    CHECK_ERR(ms_snp_verify_checks_at(&s.policy, s.ev.p, s.ev.len, s.binding, 1,
                                      now + 400 * 86400, &ch),
              MS_ERR_SNP_CERT_TIME);
    CHECK(ch.result[MS_SNP_CHECK_CHAIN] == MS_OK && ch.result[MS_SNP_CHECK_SIGNATURE] == MS_OK &&
          ch.result[MS_SNP_CHECK_MEASUREMENT] == MS_OK);
    /* The real Milan VCEK: 2023-04-03 .. 2030-04-03. */
    uint8_t b[MS_BINDING_LEN];
    ms_snp_policy mp = milan_full_policy(b);
    ms_buf ev;
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    CHECK_OK(ms_snp_verify_at(&mp, ev.p, ev.len, b, 1700000000u));
    CHECK_ERR(ms_snp_verify_at(&mp, ev.p, ev.len, b, 1600000000u), MS_ERR_SNP_CERT_TIME);
    CHECK_ERR(ms_snp_verify_at(&mp, ev.p, ev.len, b, 1950000000u), MS_ERR_SNP_CERT_TIME);
    ms_buf_free(&ev);
    synth_free(&s);
}

/* The size caps of snp_x509 at their edges: a certificate of exactly MS_SNP_MAX_CERT bytes
   and an ARK-signed CRL of exactly MS_SNP_MAX_CRL parse; one byte more is refused. */
static void test_x509_caps(void)
{
    static const uint8_t val[4] = {0x04, 0x02, 0x00, 0x01};
    ms_buf der;
    X509 *x = NULL;
    for (size_t total = MS_SNP_MAX_CERT; total <= MS_SNP_MAX_CERT + 1u; total++) {
        CHECK(tdx_fx_cert_of_size("1.3.6.1.4.1.3704.1.4", val, sizeof val, total, &der));
        ms_err want = total == MS_SNP_MAX_CERT ? MS_OK : MS_ERR_SNP_FORMAT;
        CHECK_ERR(ms_snp_x509_parse(der.p, der.len, MS_ERR_SNP_FORMAT, &x), want);
        CHECK((x != NULL) == (want == MS_OK));
        X509_free(x);
        ms_buf_free(&der);
    }
    synth s;
    synth_make(&s, 0, 1, NULL);
    X509 *ark = NULL;
    X509_CRL *crl = NULL;
    CHECK_OK(ms_snp_x509_parse(s.chain.ark.p, s.chain.ark.len, MS_ERR_SNP_ARK, &ark));
    for (size_t total = MS_SNP_MAX_CRL; total <= MS_SNP_MAX_CRL + 1u; total++) {
        CHECK(snp_fx_crl_of_size(&der, &s.chain, total));
        ms_err want = total == MS_SNP_MAX_CRL ? MS_OK : MS_ERR_SNP_CRL;
        CHECK_ERR(ms_snp_x509_crl_parse(ark, der.p, der.len, &crl), want);
        CHECK((crl != NULL) == (want == MS_OK));
        X509_CRL_free(crl);
        s.policy.crl_der = der.p;
        s.policy.crl_len = der.len;
        CHECK_ERR(synth_verify(&s), want);
        ms_buf_free(&der);
    }
    s.policy.crl_der = NULL;
    s.policy.crl_len = 0;
    X509_free(ark);
    synth_free(&s);
}

static void test_synth_crl(void)
{
    synth s;
    ms_buf crl;
    ms_snp_checks ch;
    synth_make(&s, 0, 1, NULL);
    /* The ARK's CRL listing nothing, then the VCEK's serial (not the ARK's to revoke). */
    for (long serial = -1; serial <= 3; serial += 4) {
        CHECK(snp_fx_crl_make(&crl, &s.chain, s.chain.ark_key, serial));
        s.policy.crl_der = crl.p;
        s.policy.crl_len = crl.len;
        CHECK_OK(synth_verify(&s));
        ms_buf_free(&crl);
    }
    /* It revokes the ASK. */
    CHECK(snp_fx_crl_make(&crl, &s.chain, s.chain.ark_key, 2));
    s.policy.crl_der = crl.p;
    s.policy.crl_len = crl.len;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_REVOKED);
    ms_buf_free(&crl);
    /* A CRL in the ARK's name signed by another key; a CRL cut short; junk after it. */
    CHECK(snp_fx_crl_make(&crl, &s.chain, snp_fx_rsa_key(2), -1));
    s.policy.crl_der = crl.p;
    s.policy.crl_len = crl.len;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CRL);
    CHECK_ERR(ms_snp_verify_report(&s.policy, s.ev.p, s.ev.len, &ch), MS_ERR_SNP_CRL);
    CHECK(ch.result[MS_SNP_CHECK_REVOKED] == MS_ERR_SNP_REVOKED); /* nothing shows it is not */
    ms_buf_free(&crl);
    CHECK(snp_fx_crl_make(&crl, &s.chain, s.chain.ark_key, -1));
    s.policy.crl_der = crl.p;
    s.policy.crl_len = crl.len - 1;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CRL);
    CHECK_OK(ms_buf_append_u8(&crl, 0));
    s.policy.crl_der = crl.p; /* the append may have moved the bytes */
    s.policy.crl_len = crl.len;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CRL);
    ms_buf_free(&crl);
    /* An unreadable ARK: the offline form still runs the CRL checks, which then fail. */
    CHECK(snp_fx_crl_make(&crl, &s.chain, s.chain.ark_key, -1));
    s.policy.crl_der = crl.p;
    s.policy.crl_len = crl.len;
    s.policy.ark_len = s.chain.ark.len - 1;
    CHECK_ERR(ms_snp_verify_report(&s.policy, s.ev.p, s.ev.len, &ch), MS_ERR_SNP_ARK);
    CHECK(ch.ran[MS_SNP_CHECK_CRL] && ch.result[MS_SNP_CHECK_CRL] == MS_ERR_SNP_CRL &&
          ch.result[MS_SNP_CHECK_REVOKED] == MS_ERR_SNP_REVOKED);
    s.policy.ark_len = s.chain.ark.len;
    ms_buf_free(&crl);
    /* Without a CRL both checks are skipped, and say why. */
    s.policy.crl_der = NULL;
    s.policy.crl_len = 0;
    CHECK_OK(ms_snp_verify_report(&s.policy, s.ev.p, s.ev.len, &ch));
    CHECK(!ch.ran[MS_SNP_CHECK_CRL] && ch.skip[MS_SNP_CHECK_CRL] == MS_SNP_SKIP_NO_CRL);
    synth_free(&s);
}

/* ARK -> ASVK -> VLEK, the signing key selector 1; no chip id. */
static void test_synth_vlek(void)
{
    synth s;
    ms_snp_checks ch;
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    vo.vlek = 1;
    vo.hwid_len = 0;
    synth_make(&s, 0, 1, &vo);
    /* A VLEK sent, the report says VCEK. */
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SIGNING_KEY);
    s.ro.key_info = MS_SNP_SIGNING_KEY_VLEK << 2;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_OK(synth_verify(&s));
    CHECK_OK(ms_snp_verify_checks(&s.policy, s.ev.p, s.ev.len, s.binding, 1, &ch));
    CHECK(!ch.ran[MS_SNP_CHECK_CHIP_ID] && ch.skip[MS_SNP_CHECK_CHIP_ID] == MS_SNP_SKIP_VLEK);
    CHECK(ch.result[MS_SNP_CHECK_TCB_MATCH] == MS_OK && ch.ran[MS_SNP_CHECK_TCB_MATCH]);
    /* Its TCB extensions are checked as a VCEK's. */
    snp_fx_vcek_opts bad = vo;
    bad.tcb[7] ^= 1;
    synth t;
    synth_make(&t, 0, 1, &bad);
    t.ro.key_info = MS_SNP_SIGNING_KEY_VLEK << 2;
    synth_remake(&t, t.chain.vcek_key);
    CHECK_ERR(synth_verify(&t), MS_ERR_SNP_TCB_MISMATCH);
    synth_free(&t);
    /* The ASVK from the policy when the bundle omits it; never the policy's ASK. */
    ms_buf noask;
    bundle(&noask, s.report, &s.chain.vcek, NULL);
    s.policy.ask_der = s.chain.ask.p;
    s.policy.ask_len = s.chain.ask.len;
    CHECK_ERR(ms_snp_verify(&s.policy, noask.p, noask.len, s.binding), MS_ERR_SNP_CHAIN);
    s.policy.ask_der = NULL;
    s.policy.ask_len = 0;
    s.policy.asvk_der = s.chain.ask.p;
    s.policy.asvk_len = s.chain.ask.len;
    CHECK_OK(ms_snp_verify(&s.policy, noask.p, noask.len, s.binding));
    ms_buf_free(&noask);
    /* A VCEK-signed report with the VLEK's chain: refused whichever the bundle carries. */
    synth v;
    synth_make(&v, 0, 1, NULL);
    v.ro.key_info = MS_SNP_SIGNING_KEY_VLEK << 2;
    synth_remake(&v, v.chain.vcek_key);
    CHECK_ERR(synth_verify(&v), MS_ERR_SNP_SIGNING_KEY);
    synth_free(&v);
    synth_free(&s);
}

/* ../shared/testdata/sev-snp/turin: AMD's Turin roots and a real Turin VCEK. */
static void test_turin_real_chain(void)
{
    ms_buf ark_pem, ask_pem, vcek, ark, ask;
    char path[1024];
    X509 *xa = NULL, *xs = NULL, *xv = NULL;
    ms_buf_init(&ark_pem, 4u * MS_SNP_MAX_CERT);
    ms_buf_init(&ask_pem, 4u * MS_SNP_MAX_CERT);
    ms_buf_init(&vcek, MS_SNP_MAX_CERT);
    ms_buf_init(&ark, MS_SNP_MAX_CERT);
    ms_buf_init(&ask, MS_SNP_MAX_CERT);
    snprintf(path, sizeof path, "%s/sev-snp/turin/ark.pem", MS_TESTDATA_DIR);
    CHECK_OK(ms_snp_cert_file_der(path, &ark));
    snprintf(path, sizeof path, "%s/sev-snp/turin/ask.pem", MS_TESTDATA_DIR);
    CHECK_OK(ms_snp_cert_file_der(path, &ask));
    snprintf(path, sizeof path, "%s/sev-snp/turin/vcek_turin.der", MS_TESTDATA_DIR);
    CHECK_OK(ms_snp_cert_file_der(path, &vcek));
    CHECK_OK(ms_snp_x509_parse(ark.p, ark.len, MS_ERR_SNP_ARK, &xa));
    CHECK_OK(ms_snp_x509_parse(ask.p, ask.len, MS_ERR_SNP_CHAIN, &xs));
    CHECK_OK(ms_snp_x509_parse(vcek.p, vcek.len, MS_ERR_SNP_FORMAT, &xv));
    if (xa && xs && xv) {
        /* The chain verifies as AMD issues it. */
        CHECK(ms_snp_x509_issued_pss(xa, xa) && ms_snp_x509_is_ca(xa));
        CHECK(ms_snp_x509_issued_pss(xa, xs) && ms_snp_x509_is_ca(xs));
        CHECK(ms_snp_x509_issued_pss(xs, xv) && !ms_snp_x509_is_ca(xv));
        CHECK(!ms_snp_x509_issued_pss(xs, xs));
        CHECK(ms_snp_x509_cn_is(xv, "SEV-VCEK") && !ms_snp_x509_cn_is(xv, "SEV-VLEK"));
        /* 2024-11-06 .. 2031-11-06. */
        CHECK(ms_snp_x509_valid_at(xv, 1800000000u) && !ms_snp_x509_valid_at(xv, 1700000000u));
        /* Its TCB in Turin's layout: fmcSPL 0, bl 0, tee 0, snp 0, ucode 9 at byte 7. */
        uint64_t raw = 1;
        CHECK_OK(ms_snp_x509_tcb_read(xv, MS_SNP_TCB_TURIN, &raw));
        CHECK(raw == 0x0900000000000000ull);
        ms_snp_tcb t;
        CHECK_OK(ms_snp_tcb_split(raw, MS_SNP_TCB_TURIN, &t));
        CHECK(t.microcode == 9 && t.fmc == 0 && t.snp == 0);
        CHECK_OK(ms_snp_x509_tcb_equal(xv, raw, MS_SNP_TCB_TURIN));
        CHECK_ERR(ms_snp_x509_tcb_equal(xv, raw | 1, MS_SNP_TCB_TURIN), MS_ERR_SNP_TCB_MISMATCH);
        /* An fmcSPL is not a Milan / Genoa TCB. */
        CHECK_ERR(ms_snp_x509_tcb_read(xv, MS_SNP_TCB_MILAN, &raw), MS_ERR_SNP_TCB_MISMATCH);
        CHECK(raw == 0);
        /* Turin's hwID is 8 bytes: the chip id's first 8, the rest of it zero. */
        uint8_t chip[MS_SNP_CHIP_ID_LEN] = {0x1E, 0x55, 0x0A, 0x8E, 0xE5, 0xCF, 0x9F, 0x4D};
        CHECK_OK(ms_snp_x509_hwid_equal(xv, chip, MS_SNP_TCB_TURIN));
        CHECK_ERR(ms_snp_x509_hwid_equal(xv, chip, MS_SNP_TCB_MILAN), MS_ERR_SNP_CHIP_ID);
        chip[63] = 1;
        CHECK_ERR(ms_snp_x509_hwid_equal(xv, chip, MS_SNP_TCB_TURIN), MS_ERR_SNP_CHIP_ID);
    }
    /* The Milan VCEK has no fmcSPL and reads in the Milan layout. */
    X509 *xm = NULL;
    uint64_t mraw = 0;
    CHECK_OK(ms_snp_x509_parse(amd.vcek.p, amd.vcek.len, MS_ERR_SNP_FORMAT, &xm));
    CHECK_OK(ms_snp_x509_tcb_read(xm, MS_SNP_TCB_MILAN, &mraw));
    CHECK(mraw == 0x7308000000000003ull);
    X509_free(xm);
    X509_free(xa);
    X509_free(xs);
    X509_free(xv);
    ms_buf_free(&ark_pem);
    ms_buf_free(&ask_pem);
    ms_buf_free(&vcek);
    ms_buf_free(&ark);
    ms_buf_free(&ask);
}

/* A test-made Turin report (version 3, family 1Ah) with a Turin-style VCEK. */
/* A version-3 Turin report of TCB `tcb` (chip id 8 bytes long) under a chain made with vo. */
static void turin_make(synth *s, const snp_fx_vcek_opts *vo, const uint8_t tcb[8])
{
    synth_make(s, 0, 1, vo);
    s->ro.version = 3;
    s->ro.family = MS_SNP_FAMILY_TURIN;
    memcpy(s->ro.tcb, tcb, 8);
    memset(s->ro.chip_id + 8, 0, sizeof s->ro.chip_id - 8);
    synth_remake(s, s->chain.vcek_key);
}

static void test_synth_turin(void)
{
    static const uint8_t tcb[8] = {2, 3, 1, 22, 0, 0, 0, 0x44}; /* fmc, bl, tee, snp, .., ucode */
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    vo.turin = 1;
    memcpy(vo.tcb, tcb, sizeof tcb);
    vo.hwid_len = 8;
    synth s;
    turin_make(&s, &vo, tcb);
    s.policy.min_tcb = (ms_snp_tcb){.fmc = 2, .bootloader = 3, .tee = 1, .snp = 22, .microcode = 0x44};
    CHECK_OK(synth_verify(&s));
    ms_snp_report r;
    CHECK_OK(ms_snp_report_decode(s.report, sizeof s.report, &r));
    CHECK(r.tcb_layout == MS_SNP_TCB_TURIN && r.reported_tcb.fmc == 2 && r.reported_tcb.snp == 22);
    /* The minimum's components in Turin's layout, fmc included. */
    s.policy.min_tcb.fmc = 3;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MIN);
    s.policy.min_tcb.fmc = 2;
    s.policy.min_tcb.snp = 23;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MIN);
    s.policy.min_tcb.snp = 22;
    /* The rest of the chip id must be zero on Turin. */
    s.ro.chip_id[40] = 1;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_CHIP_ID);
    s.ro.chip_id[40] = 0;
    synth_free(&s);
    /* A reserved spl of Turin's layout (arc 5) that is not zero: the VCEK states another TCB. */
    vo.tcb[4] = 1;
    turin_make(&s, &vo, tcb);
    s.policy.min_tcb = (ms_snp_tcb){0};
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MISMATCH);
    synth_free(&s);
    vo.tcb[4] = 0;
    /* The same TCB stated by a VCEK in the Milan layout is another TCB. */
    vo.turin = 0;
    turin_make(&s, &vo, tcb);
    s.policy.min_tcb = (ms_snp_tcb){0};
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MISMATCH);
    synth_free(&s);
}

/* The added checks keep the documented order: each failure shows only once those before pass. */
static void test_synth_added_order(void)
{
    synth s;
    synth_make(&s, 0, 1, NULL);
    uint8_t v1[4] = {1, 0, 0, 0}, ma[32];
    memset(ma, 0, sizeof ma);
    synth_patch(&s, 0x030, v1, sizeof v1);
    synth_patch(&s, 0x160, ma, sizeof ma);
    synth_patch_u64(&s, 0x008, MS_SNP_POLICY_RSVD_MBO | MS_SNP_POLICY_SMT | MS_SNP_POLICY_MIGRATE_MA);
    s.policy.forbid_smt = 1;
    s.policy.require_single_socket = 1;
    s.policy.have_min_abi = 1;
    s.policy.min_abi_major = 1;
    s.policy.policy_set = MS_SNP_POLICY_RAPL_DIS;
    s.policy.platform_set = MS_SNP_PLATFORM_ECC_EN;
    s.policy.have_host_data = 1;
    s.policy.host_data[0] = 1;
    s.policy.have_family_id = 1;
    s.policy.have_image_id = 1;
    s.policy.have_id_key = 1;
    s.policy.id_key_digest[0] = 1;
    s.policy.have_author_key = 1;
    s.policy.author_key_digest[0] = 1;
    /* Fix each in turn: the next one in order is what fails. */
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_VMPL);
    s.policy.vmpl = 1;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_MIGRATE_MA);
    s.policy.allow_migrate_ma = 1;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_MIGRATION_AGENT);
    s.policy.allow_migration_agent = 1;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SMT);
    s.policy.forbid_smt = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SINGLE_SOCKET);
    s.policy.require_single_socket = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_ABI_MIN);
    s.policy.have_min_abi = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_POLICY_BITS);
    s.policy.policy_set = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_PLATFORM_INFO);
    s.policy.platform_set = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_HOST_DATA);
    s.policy.have_host_data = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_FAMILY_ID);
    s.policy.have_family_id = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_IMAGE_ID);
    s.policy.have_image_id = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_ID_KEY);
    s.policy.have_id_key = 0;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_AUTHOR_KEY);
    s.policy.have_author_key = 0;
    CHECK_OK(synth_verify(&s));
    /* The older checks come first: a TCB minimum above the report's, then debugging. */
    s.policy.vmpl = 0;
    s.policy.min_tcb.snp = 9;
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_TCB_MIN);
    /* And the certificate side before them all: a VLEK claim, then an expired chain. */
    s.ro.key_info = MS_SNP_SIGNING_KEY_VLEK << 2;
    s.ro.policy |= MS_SNP_POLICY_DEBUG;
    synth_remake(&s, s.chain.vcek_key);
    CHECK_ERR(synth_verify(&s), MS_ERR_SNP_SIGNING_KEY);
    CHECK_ERR(ms_snp_verify_at(&s.policy, s.ev.p, s.ev.len, s.binding, 1000000000u),
              MS_ERR_SNP_CERT_TIME);
    ms_snp_checks ch;
    CHECK_ERR(ms_snp_verify_report(&s.policy, s.ev.p, s.ev.len, &ch), MS_ERR_SNP_SIGNING_KEY);
    CHECK(ch.result[MS_SNP_CHECK_DEBUG] == MS_ERR_SNP_DEBUG && ch.ran[MS_SNP_CHECK_VMPL] &&
          !ch.ran[MS_SNP_CHECK_SMT] && ch.skip[MS_SNP_CHECK_SMT] == MS_SNP_SKIP_NOT_PINNED);
    synth_free(&s);
}

/* The fuzz seed was written by a separate encoder (Python, from the doc): same bytes. */
static void test_seed_matches_encoder(void)
{
    ms_buf seed, ev;
    ms_buf_init(&seed, MS_SNP_MAX_BUNDLE);
    const char *path = MS_SOURCE_DIR "/tests/fuzz/corpus/fuzz_snp/milan_bundle";
    CHECK_OK(ms_file_read(path, MS_SNP_MAX_BUNDLE, &seed));
    bundle(&ev, amd.report, &amd.vcek, &amd.ask);
    CHECK(seed.len == ev.len && memcmp(seed.p, ev.p, ev.len) == 0);
    ms_buf_free(&seed);
    ms_buf_free(&ev);
}

static void test_check_names(void)
{
    CHECK(strcmp(ms_snp_check_name(MS_SNP_CHECK_FORMAT), "format") == 0);
    CHECK(strcmp(ms_snp_check_name(MS_SNP_CHECK_TCB_MIN), "tcb-min") == 0);
    CHECK(strcmp(ms_snp_check_name(MS_SNP_CHECK_VMPL), "vmpl") == 0);
    CHECK(strcmp(ms_snp_check_name(MS_SNP_CHECK_AUTHOR_KEY), "author-key") == 0);
    for (int c = 0; c < MS_SNP_CHECK_COUNT; c++) {
        for (int d = 0; d < c; d++) {
            CHECK(strcmp(ms_snp_check_name((ms_snp_check)c), ms_snp_check_name((ms_snp_check)d)) != 0);
        }
    }
    CHECK(strcmp(ms_snp_check_name(MS_SNP_CHECK_COUNT), "unknown") == 0);
    for (int c = 0; c < MS_SNP_CHECK_COUNT; c++) {
        CHECK(strcmp(ms_snp_check_name((ms_snp_check)c), "unknown") != 0);
    }
    ms_buf der;
    ms_buf_init(&der, MS_SNP_MAX_CERT);
    CHECK_ERR(ms_snp_cert_pem_to_der((const uint8_t *)"junk", 4, &der), MS_ERR_FILE_FORMAT);
    CHECK(der.len == 0);
    ms_buf_free(&der);
}

/*
 * A PEM certificate file is at most 4 * MS_SNP_MAX_CERT bytes, whitespace after the PEM
 * included; no input at all is a format error, not an allocation failure.
 */
static void test_pem_to_der_caps(void)
{
    static uint8_t big[4u * MS_SNP_MAX_CERT + 1];
    const unsigned char *q = amd.ark.p;
    X509 *x = d2i_X509(NULL, &q, (long)amd.ark.len);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long n = x != NULL && bio != NULL && PEM_write_bio_X509(bio, x) == 1
                 ? BIO_get_mem_data(bio, &pem)
                 : 0;
    ms_buf der;
    ms_buf_init(&der, MS_SNP_MAX_CERT);
    CHECK(n > 0 && (size_t)n < sizeof big);
    if (n > 0 && (size_t)n < sizeof big) {
        memset(big, '\n', sizeof big);
        memcpy(big, pem, (size_t)n);
        CHECK_OK(ms_snp_cert_pem_to_der(big, sizeof big - 1, &der));
        CHECK(der.len == amd.ark.len && memcmp(der.p, amd.ark.p, der.len) == 0);
        ms_buf_clear(&der);
        CHECK_ERR(ms_snp_cert_pem_to_der(big, sizeof big, &der), MS_ERR_CAP_EXCEEDED);
        CHECK(der.len == 0);
    }
    CHECK_ERR(ms_snp_cert_pem_to_der(NULL, 0, &der), MS_ERR_FILE_FORMAT);
    CHECK_ERR(ms_snp_cert_pem_to_der(big, 0, &der), MS_ERR_FILE_FORMAT);
    ms_buf_free(&der);
    BIO_free(bio);
    X509_free(x);
}

int main(void)
{
    if (!snp_fx_amd_load(&amd)) {
        fprintf(stderr, "test_snp: the SEV-SNP vectors of ../shared/testdata are required\n");
        snp_fx_amd_free(&amd);
        return 1;
    }
    RUN(test_milan_decode);
    RUN(test_milan_truncated_report);
    RUN(test_report_hex);
    RUN(test_milan_hardware_checks);
    RUN(test_milan_full_verify);
    RUN(test_milan_flip_every_byte);
    RUN(test_milan_under_genoa);
    RUN(test_milan_truncations);
    RUN(test_bundle_layout);
    RUN(test_bundle_caps);
    RUN(test_report_format_rules);
    RUN(test_synth_good);
    RUN(test_synth_debug);
    RUN(test_synth_measurement);
    RUN(test_synth_report_data);
    RUN(test_synth_tcb_min);
    RUN(test_synth_tcb_mismatch);
    RUN(test_synth_chip_id);
    RUN(test_synth_chain_faults);
    RUN(test_synth_signature_params);
    RUN(test_synth_ark_must_be_self_signed_ca);
    RUN(test_synth_ask_must_be_ca);
    RUN(test_synth_vcek_not_p384);
    RUN(test_synth_report_signature);
    RUN(test_synth_check_order);
    RUN(test_milan_resigned_vmpl_migrate_ma);
    RUN(test_synth_vmpl_and_agent);
    RUN(test_synth_guest_policy);
    RUN(test_synth_platform_info);
    RUN(test_synth_pins);
    RUN(test_synth_cert_time);
    RUN(test_synth_crl);
    RUN(test_x509_caps);
    RUN(test_synth_vlek);
    RUN(test_turin_real_chain);
    RUN(test_synth_turin);
    RUN(test_synth_added_order);
    RUN(test_seed_matches_encoder);
    RUN(test_check_names);
    RUN(test_pem_to_der_caps);
    snp_fx_keys_free();
    snp_fx_amd_free(&amd);
    return TEST_SUMMARY();
}

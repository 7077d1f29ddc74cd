/* SEV-SNP verifier tests: AMD's real Milan vector, then a made-up chain for every policy check. */
#include <stdlib.h>
#include <string.h>

#include "secure/attest/devkey.h"
#include "secure/attest/snp.h"
#include "secure/kdf.h"
#include "tests/secure/attest/snp_fixture.h"
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
    int sig_failures = 0;
    for (size_t i = 0; i < MS_SNP_REPORT_LEN; i++) {
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
    CHECK(sig_failures > 400); /* most signed bytes are fields, not reserved */
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
    for (size_t n = 1; n < amd.vcek.len; n++) {
        ms_buf v = amd.vcek;
        v.len = n;
        bundle(&cut, amd.report, &v, &amd.ask);
        if (ms_snp_verify(&p, cut.p, cut.len, b) != MS_ERR_SNP_FORMAT) {
            TEST_FAIL_("VCEK cut to %zu bytes is not a format error", n);
        }
        ms_buf_free(&cut);
    }
    for (size_t n = 1; n < amd.ask.len; n++) {
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
    rep[0x1F8] = 1;
    CHECK_ERR(ms_snp_report_decode(rep, sizeof rep, &r), MS_ERR_SNP_FORMAT);
    rep[0] = 5;
    rep[0x207] = 0x80;
    CHECK_OK(ms_snp_report_decode(rep, sizeof rep, &r));
    CHECK(r.launch_mit_vector == 1 && r.current_mit_vector == 0x8000000000000000ull);
    rep[0x208] = 1;
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
    for (size_t i = 0; i < MS_BINDING_LEN; i++) {
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
    RUN(test_synth_report_signature);
    RUN(test_synth_check_order);
    RUN(test_seed_matches_encoder);
    RUN(test_check_names);
    snp_fx_keys_free();
    snp_fx_amd_free(&amd);
    return TEST_SUMMARY();
}

/* Attestation policy tests: the JSON format, its refusals, and the verifier's dispatch. */
#include <stdlib.h>
#include <unistd.h>

#include "secure/attest/devkey.h"
#include "secure/attest/policy.h"
#include "secure/kdf.h"
#include "tests/test.h"

static char dir[128];
static ms_devkey dev;

static ms_err parse(ms_attest_policy *p, const char *json)
{
    ms_attest_policy_free(p);
    ms_attest_policy_init(p);
    return ms_attest_policy_parse(p, (const uint8_t *)json, strlen(json), dir);
}

static const char AK[] = "000b0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
static const char V32[] = "00000000000000000000000000000000000000000000000000000000000000aa";

static void test_good_policies(void)
{
    ms_attest_policy p;
    char json[1024];
    ms_attest_policy_init(&p);
    CHECK_OK(parse(&p, "{\"version\":1,\"accept\":[\"dev-key\"],"
                       "\"dev_key\":{\"public_key_pem\":\"dev.pem.pub\"}}"));
    CHECK(p.n_accept == 1 && p.accept[0] == MS_EVIDENCE_DEV_KEY && p.have_dev_pk &&
          memcmp(p.dev_pk, dev.pk, 32) == 0);
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"require_strict\":true,"
             "\"max_validity_seconds\":600,\"tpm2\":{\"ak_name\":\"%s\",\"pcrs\":{\"0\":\"%s\","
             "\"7\":\"%s\"}}}",
             AK, V32, V32);
    CHECK_OK(parse(&p, json));
    CHECK(p.have_tpm2 && p.tpm2.pcr_mask == 0x81u && p.tpm2.pcr_values[7][31] == 0xaa &&
          p.tpm2.ak_name[0] == 0x00 && p.tpm2.ak_name[1] == 0x0b && p.require_strict &&
          p.max_validity_s == 600);
    ms_attest_policy_free(&p);
}

/* Each refusal names the field, so a person can fix the file. */
static void test_refusals(void)
{
    ms_attest_policy p;
    struct {
        const char *json;
        const char *why_has;
    } cases[] = {
        {"[]", "JSON object"},
        {"{\"version\":2,\"accept\":[\"dev-key\"]}", "version"},
        {"{\"version\":1,\"accept\":[]}", "accept"},
        {"{\"version\":1,\"accept\":[\"magic\"]}", "accept[0]"},
        {"{\"version\":1,\"accept\":[\"dev-key\",\"dev-key\"]}", "twice"},
        {"{\"version\":1,\"accept\":[\"dev-key\"]}", "no dev_key section"},
        {"{\"version\":1,\"accept\":[\"tpm2-quote\"]}", "no tpm2 section"},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"allow_everything\":true}", "unknown field"},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"dev_key\":{\"public_key_pem\":\"nope.pub\"}}",
         "dev_key.public_key_pem"},
        {"{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_name\":\"00\",\"pcrs\":{}}}",
         "tpm2.ak_name"},
        /* az-snp-vtpm (docs/attest-azure.md §6) */
        {"{\"version\":1,\"accept\":[\"az-tdx-vtpm\"]}", "not supported yet"},
        {"{\"version\":1,\"accept\":[\"az-snp-vtpm\"]}", "no sev_snp section"},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"az_snp_vtpm\":{\"pcrs\":{\"0\":\"00\"}}}",
         "az_snp_vtpm.pcrs.0"},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"az_snp_vtpm\":{\"pcrs\":{}}}",
         "az_snp_vtpm.pcrs: name at least one"},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"az_snp_vtpm\":{\"pcrs\":{\"x\":\"00\"}}}",
         "az_snp_vtpm.pcrs: \"x\""},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"az_snp_vtpm\":{\"ak_name\":\"00\"}}",
         "az_snp_vtpm: unknown field \"ak_name\""},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"az_snp_vtpm\":{}}", "az_snp_vtpm.pcrs"},
    };
    ms_attest_policy_init(&p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_err e = parse(&p, cases[i].json);
        CHECK(e != MS_OK);
        if (!strstr(p.why, cases[i].why_has)) {
            fprintf(stderr, "  case %zu: why = \"%s\"\n", i, p.why);
            CHECK(0);
        }
    }
    char json[512];
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_name\":\"%s\","
             "\"pcrs\":{\"24\":\"%s\"}}}",
             AK, V32);
    CHECK(parse(&p, json) != MS_OK && strstr(p.why, "PCR number"));
    CHECK(parse(&p, "{not json") != MS_OK);
    ms_attest_policy_free(&p);
}

/* The verifier: type accepted, strict required, validity bounded, then the type's checks. */
static void test_verify_dispatch(void)
{
    ms_attest_policy p;
    uint8_t b[MS_BINDING_LEN];
    ms_buf ev;
    memset(b, 0x33, sizeof b);
    ms_buf_init(&ev, 256);
    CHECK_OK(ms_devkey_evidence(&dev, b, &ev));
    ms_attest_policy_init(&p);
    ms_evidence_view v = {.type = MS_EVIDENCE_DEV_KEY, .mode = MS_MODE_FAST, .data = ev.p,
                          .len = ev.len, .not_after = 2000, .now = 1000, .binding = b};
    /* dev-key is refused until the policy allows it with a pin */
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_POLICY);
    CHECK_OK(ms_attest_policy_allow_dev_key(&p, dev.pk));
    CHECK_OK(ms_attest_policy_verify(&p, &v));
    p.require_strict = 1;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_POLICY);
    v.mode = MS_MODE_STRICT;
    CHECK_OK(ms_attest_policy_verify(&p, &v));
    p.max_validity_s = 999;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_POLICY);
    p.max_validity_s = 1000;
    CHECK_OK(ms_attest_policy_verify(&p, &v));
    /* the type's own verifier still runs: another binding fails */
    b[0] ^= 1;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_SIGNATURE);
    b[0] ^= 1;
    /* a type the policy does not list */
    v.type = MS_EVIDENCE_TPM2_QUOTE;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_POLICY);
    ms_buf_free(&ev);
    ms_attest_policy_free(&p);
}

int main(void)
{
    int created;
    char path[256];
    if (sodium_init() < 0) {
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/ms-test-policy-XXXXXX");
    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(path, sizeof path, "%s/dev.pem", dir);
    if (ms_devkey_load_or_create(path, &dev, &created) != MS_OK) {
        return 1;
    }
    snprintf(path, sizeof path, "%s/dev.pem.pub", dir);
    if (ms_devkey_write_public(path, dev.pk) != MS_OK) {
        return 1;
    }
    RUN(test_good_policies);
    RUN(test_refusals);
    RUN(test_verify_dispatch);
    ms_devkey_wipe(&dev);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
    return TEST_SUMMARY();
}

/* Attestation policy tests: the JSON format, its refusals, and the verifier's dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
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
        {"{\"version\":1,\"accept\":[\"az-tdx-vtpm\"]}", "no tdx section"},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"az_tdx_vtpm\":{\"pcrs\":{},\"x\":1}}",
         "unknown field"},
        {"{\"version\":1,\"accept\":[\"dev-key\"],\"az_tdx_vtpm\":{\"pcrs\":{}}}",
         "az_tdx_vtpm.pcrs: name at least one"},
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
    /* One PCR, one name: "5" only (strtol took " 5", "+5" and "05", a second entry for 5). */
    static const char *const other_names[] = {" 5", "+5", "05", "5 ", "-0", ""};
    for (size_t i = 0; i < sizeof other_names / sizeof other_names[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_name\":\"%s\","
                 "\"pcrs\":{\"5\":\"%s\",\"%s\":\"%s\"}}}",
                 AK, V32, other_names[i], V32);
        CHECK(parse(&p, json) != MS_OK && strstr(p.why, "is not a PCR number"));
        snprintf(json, sizeof json,
                 "{\"version\":1,\"accept\":[\"dev-key\"],\"az_snp_vtpm\":{\"pcrs\":{\"%s\":\"%s\"}}}",
                 other_names[i], V32);
        CHECK(parse(&p, json) != MS_OK && strstr(p.why, "is not a PCR number"));
    }
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_name\":\"%s\","
             "\"pcrs\":{\"0\":\"%s\",\"23\":\"%s\"}}}",
             AK, V32, V32);
    CHECK_OK(parse(&p, json)); /* "0" and "23": the ends of the range */
    /* A required object left out is named (issue 13: was "a required JSON field is missing"). */
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_name\":\"%s\"}}", AK);
    CHECK(parse(&p, json) != MS_OK && strstr(p.why, "tpm2.pcrs: a required field is missing"));
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_name\":\"%s\","
             "\"pcrs\":[]}}", AK);
    CHECK(parse(&p, json) != MS_OK && strstr(p.why, "tpm2.pcrs: want an object"));
    CHECK(parse(&p, "{not json") != MS_OK);
    ms_attest_policy_free(&p);
}

/* A CA certificate for tpm2.ak_ca_pem (any will do: the policy only reads it). */
static const char AK_CA[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgDCCASegAwIBAgIUFbLf+XKzbu3XexGNKvv5KeSGqCUwCgYIKoZIzj0EAwIw\n"
    "FTETMBEGA1UEAwwKZnV6eiBBSyBDQTAgFw0yNjEyMDYwMzE3MjNaGA8yMTI2MTEx\n"
    "MjAzMTcyM1owFTETMBEGA1UEAwwKZnV6eiBBSyBDQTBZMBMGByqGSM49AgEGCCqG\n"
    "SM49AwEHA0IABPcRPMYKMO1vdCMXr+8iIOWjHSW09c6yPPLX5mz5kQopixC/Thfd\n"
    "GY8MJ/d4Ti292t8zzmQeqlLiMTZmVH+jJCyjUzBRMB0GA1UdDgQWBBSnEbO2zxCD\n"
    "UN9h5s4UIUSx7vFCwDAfBgNVHSMEGDAWgBSnEbO2zxCDUN9h5s4UIUSx7vFCwDAP\n"
    "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIBEzCNrCRmC5c8EOPmox\n"
    "5J3S40klQ13b7sQKMa2G1ffhAiAsnJ1cMBHhE6LrPNCuseyTsMeLWHipCpkXJA5P\n"
    "S/gHvQ==\n"
    "-----END CERTIFICATE-----\n";

/* tpm2: exactly one of ak_name and ak_ca_pem; the CA file must hold a certificate. */
static void test_tpm2_ak_ca(void)
{
    ms_attest_policy p;
    char json[512], path[256];
    snprintf(path, sizeof path, "%s/akca.pem", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && fputs(AK_CA, f) >= 0 && fclose(f) == 0);
    ms_attest_policy_init(&p);
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_ca_pem\":\"akca.pem\","
             "\"pcrs\":{\"0\":\"%s\"}}}", V32);
    CHECK_OK(parse(&p, json));
    CHECK(p.have_tpm2 && p.tpm2.ak_ca_pem != NULL && p.tpm2.ak_ca_pem_len == strlen(AK_CA) &&
          memcmp(p.tpm2.ak_ca_pem, AK_CA, strlen(AK_CA)) == 0 && p.tpm2.pcr_mask == 1);
    static const struct {
        const char *tpm2;
        const char *why_has;
    } cases[] = {
        {"{\"ak_name\":\"%s\",\"ak_ca_pem\":\"akca.pem\",\"pcrs\":{\"0\":\"%s\"}}", "both given"},
        {"{\"pcrs\":{\"0\":\"%s\"}}", "neither given"},
        {"{\"ak_ca_pem\":\"dev.pem.pub\",\"pcrs\":{\"0\":\"%s\"}}", "tpm2.ak_ca_pem"},
        {"{\"ak_ca_pem\":\"none.pem\",\"pcrs\":{\"0\":\"%s\"}}", "tpm2.ak_ca_pem"},
        {"{\"ak_ca_pem\":\"\",\"pcrs\":{\"0\":\"%s\"}}", "tpm2.ak_ca_pem"},
        {"{\"ak_ca_pem\":7,\"pcrs\":{\"0\":\"%s\"}}", "tpm2.ak_ca_pem"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tpm2[256];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        if (i == 0) {
            snprintf(tpm2, sizeof tpm2, cases[i].tpm2, AK, V32);
        } else {
            snprintf(tpm2, sizeof tpm2, cases[i].tpm2, V32);
        }
#pragma GCC diagnostic pop
        snprintf(json, sizeof json, "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":%s}",
                 tpm2);
        CHECK(parse(&p, json) != MS_OK);
        if (!strstr(p.why, cases[i].why_has)) {
            fprintf(stderr, "  case %zu: why = \"%s\"\n", i, p.why);
            CHECK(0);
        }
    }
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
    /* allowing dev-key in a policy whose accept list is full (and lacks it) */
    ms_attest_policy full;
    ms_attest_policy_init(&full);
    for (uint8_t i = 0; i < MS_MAX_HS_LIST; i++) {
        full.accept[i] = (uint16_t)(0x0100u + i);
    }
    full.n_accept = MS_MAX_HS_LIST;
    CHECK_ERR(ms_attest_policy_allow_dev_key(&full, dev.pk), MS_ERR_CONFIG);
    CHECK(full.n_accept == MS_MAX_HS_LIST && full.accept[MS_MAX_HS_LIST - 1] == 0x0107u);
    full.n_accept = MS_MAX_HS_LIST - 1;
    CHECK_OK(ms_attest_policy_allow_dev_key(&full, dev.pk));
    CHECK(full.n_accept == MS_MAX_HS_LIST && full.accept[MS_MAX_HS_LIST - 1] == MS_EVIDENCE_DEV_KEY);
    ms_attest_policy_free(&full);
    ms_buf_free(&ev);
    ms_attest_policy_free(&p);
}

/* ---- the "tdx" section ---- */

#define TDX_ROOT MS_TESTDATA_DIR "/tdx/trusted_root.pem"
static const char M48A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char M48B[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static void test_tdx_section(void)
{
    ms_attest_policy p;
    char json[2048], cdir[256], path[300];
    ms_attest_policy_init(&p);
    /* A collateral folder holding a PCK CRL only. */
    snprintf(cdir, sizeof cdir, "%s/tdx-collateral", dir);
    CHECK(mkdir(cdir, 0700) == 0);
    snprintf(path, sizeof path, "%s/pck_crl.der", cdir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite("crl", 1, 3, f) == 3 && fclose(f) == 0);
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tdx\",\"dev-key\"],\"dev_key\":{\"public_key_pem\":"
             "\"dev.pem.pub\"},\"tdx\":{\"root_pem\":\"%s\",\"mrtd\":\"%s\",\"rtmrs\":{\"0\":"
             "\"%s\",\"3\":\"%s\"},\"mrowner\":\"%s\",\"accept_tcb_status\":[\"UpToDate\","
             "\"SWHardeningNeeded\"],\"collateral_dir\":\"tdx-collateral\","
             "\"collateral_grace_seconds\":3600}}",
             TDX_ROOT, M48A, M48B, M48A, M48B);
    CHECK_OK(parse(&p, json));
    CHECK(p.have_tdx && p.accept[0] == MS_EVIDENCE_TDX && p.tdx.root_der != NULL);
    CHECK(p.tdx.have_mrtd && p.tdx.mrtd[0] == 0xaa && p.tdx.have_rtmr[0] && !p.tdx.have_rtmr[1] &&
          p.tdx.have_rtmr[3] && p.tdx.rtmr[0][47] == 0xbb && p.tdx.have_mrowner &&
          !p.tdx.have_mrconfigid);
    CHECK(p.tdx.accept_tcb == (MS_TDX_ACCEPT(MS_TDX_TCB_UP_TO_DATE) |
                               MS_TDX_ACCEPT(MS_TDX_TCB_SW_HARDENING_NEEDED)));
    CHECK(p.tdx.grace_s == 3600 && p.tdx.pck_crl_len == 3 && p.tdx.collateral.tcb_info == NULL);
    /* Defaults: UpToDate only, no grace, no collateral. */
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"%s\",\"mrtd\":\"%s\"}}",
             TDX_ROOT, M48A);
    CHECK_OK(parse(&p, json));
    CHECK(p.tdx.accept_tcb == MS_TDX_ACCEPT(MS_TDX_TCB_UP_TO_DATE) && p.tdx.grace_s == 0 &&
          p.tdx.pck_crl == NULL);
    /* The client's dispatch reaches the TDX verifier. */
    uint8_t b[MS_BINDING_LEN] = {0};
    uint8_t junk[8] = {1};
    ms_evidence_view v = {.type = MS_EVIDENCE_TDX, .mode = MS_MODE_FAST, .data = junk,
                          .len = sizeof junk, .not_after = 2000, .now = 1000, .binding = b};
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_TDX_FORMAT);

    /* Refusals name the field. */
    struct {
        const char *tdx; /* the section's members after root_pem and a good mrtd */
        const char *why_has;
    } cases[] = {
        {"\"mrtdd\":1", "unknown field \"mrtdd\""},
        {"\"rtmrs\":{\"4\":\"00\"}", "tdx.rtmrs"},
        {"\"rtmrs\":[]", "tdx.rtmrs"},
        {"\"mrconfigid\":\"00\"", "tdx.mrconfigid"},
        {"\"accept_tcb_status\":[\"Revoked\"]", "tdx.accept_tcb_status[0]"},
        {"\"accept_tcb_status\":[\"UpToDate\",\"Fine\"]", "tdx.accept_tcb_status[1]"},
        {"\"accept_tcb_status\":[]", "tdx.accept_tcb_status"},
        {"\"collateral_grace_seconds\":99999999", "collateral_grace_seconds"},
        {"\"collateral_dir\":7", "tdx.collateral_dir"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"%s\",\"mrtd\":"
                 "\"%s\",%s}}",
                 TDX_ROOT, M48A, cases[i].tdx);
        CHECK(parse(&p, json) != MS_OK);
        if (!strstr(p.why, cases[i].why_has)) {
            fprintf(stderr, "  tdx case %zu: why = \"%s\"\n", i, p.why);
            CHECK(0);
        }
    }
    /* mrtd missing, or of the wrong length. */
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"%s\"}}", TDX_ROOT);
    CHECK(parse(&p, json) != MS_OK && strstr(p.why, "tdx.mrtd"));
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"%s\",\"mrtd\":"
             "\"aa%s\"}}", TDX_ROOT, M48A);
    CHECK(parse(&p, json) != MS_OK && strstr(p.why, "tdx.mrtd"));
    CHECK(parse(&p, "{\"version\":1,\"accept\":[\"tdx\"]}") != MS_OK &&
          strstr(p.why, "no tdx section"));
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"nope.pem\","
             "\"mrtd\":\"%s\"}}", M48A);
    CHECK(parse(&p, json) != MS_OK && strstr(p.why, "tdx.root_pem"));
    CHECK(strcmp(ms_evidence_type_name(MS_EVIDENCE_TDX), "tdx") == 0);
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
    RUN(test_tpm2_ak_ca);
    RUN(test_tdx_section);
    ms_devkey_wipe(&dev);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
    return TEST_SUMMARY();
}

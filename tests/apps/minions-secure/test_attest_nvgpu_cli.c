/*
 * minions-secure attest on NVIDIA GPU evidence, offline: the real H100 report (hex) with its
 * chain and --at under a policy pinning NVIDIA's root, check by check; one flipped byte, a
 * time before the chain's validity, a missing chain; --any-evidence with --gpu-root printing
 * a ready nvidia_gpu policy section; the JSON form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define H100 MS_TESTDATA_DIR "/nvidia-h100"
#define AT "1704067200"

static e2e_world W;
static char root[PATH_MAX], policy[PATH_MAX], flipped[PATH_MAX];
static e2e_out R;

static int cli(const char *const *args)
{
    e2e_out_free(&R);
    return e2e_world_run(&W, &(e2e_cmd){.timeout_ms = 60000}, args, &R);
}

static int has(const ms_buf *b, const char *needle)
{
    return e2e_buf_shows(b, needle);
}

/* The last certificate of the vector's chain (NVIDIA's root) alone, a policy, a flipped copy. */
static int setup(void)
{
    ms_buf pem, hex;
    ms_buf_init(&pem, 1 << 16);
    ms_buf_init(&hex, 1 << 16);
    int ok = e2e_file_read(H100 "/gpu_ak_cert_chain.pem", &pem) == 0 &&
             e2e_file_read(H100 "/attestation_report.hex", &hex) == 0;
    const char *last = NULL;
    for (const char *p = (const char *)pem.p; ok && (p = strstr(p, "-----BEGIN")) != NULL; p++) {
        last = p;
    }
    e2e_world_path(&W, root, "root.pem");
    e2e_world_path(&W, policy, "policy.json");
    e2e_world_path(&W, flipped, "flipped.hex");
    ok = ok && last != NULL && e2e_file_write(root, last) == 0;
    /* Measurement index 1 of the vector: bytes 52..100 of the report, as hex. */
    char json[1024], m1[97];
    ok = ok && hex.len > 2 * 100;
    if (ok) {
        memcpy(m1, (const char *)hex.p + 2 * 52, 96);
        m1[96] = 0;
        snprintf(json, sizeof json,
                 "{\"version\":1,\"accept\":[\"nvidia-gpu\"],\"nvidia_gpu\":{\"root_pem\":"
                 "\"root.pem\",\"measurements\":{\"1\":\"%s\"},\"require_cc\":false}}",
                 m1);
        ok = e2e_file_write(policy, json) == 0;
    }
    if (ok) { /* one nibble inside the measurement record */
        char *t = (char *)hex.p;
        t[2 * 300] = t[2 * 300] == '0' ? '1' : '0';
        ok = e2e_file_write(flipped, t) == 0;
    }
    ms_buf_free(&pem);
    ms_buf_free(&hex);
    return ok ? 0 : -1;
}

static void test_real_report_under_policy(void)
{
    const char *a[] = {"attest", "--verify", H100 "/attestation_report.hex", "--gpu-chain",
                       H100 "/gpu_ak_cert_chain.pem", "--at", AT, "--attestation-policy",
                       policy, NULL};
    CHECK(cli(a) == 0);
    CHECK(has(&R.out, "device 41FFEEB20009E0BE49, 64 measurements"));
    CHECK(has(&R.out, "driver 545.00, VBIOS 96.00.5E.00.01"));
    CHECK(has(&R.out, "PASS     gpu0 chain"));
    CHECK(has(&R.out, "PASS     gpu0 identity"));
    CHECK(has(&R.out, "PASS     gpu0 signature"));
    CHECK(has(&R.out, "PASS     gpu0 measurements"));
    CHECK(has(&R.out, "SKIPPED  gpu0 nonce"));
    CHECK(has(&R.out, "result: PASS, but"));
}

static void test_failures(void)
{
    const char *a[] = {"attest", "--verify", flipped, "--gpu-chain",
                       H100 "/gpu_ak_cert_chain.pem", "--at", AT, "--attestation-policy",
                       policy, NULL};
    CHECK(cli(a) == 4);
    CHECK(has(&R.out, "FAIL     gpu0 signature"));
    CHECK(has(&R.out, "MS_ERR_NVGPU_SIGNATURE"));
    const char *b[] = {"attest", "--verify", H100 "/attestation_report.hex", "--gpu-chain",
                       H100 "/gpu_ak_cert_chain.pem", "--at", "1500000000",
                       "--attestation-policy", policy, NULL};
    CHECK(cli(b) == 4);
    CHECK(has(&R.out, "FAIL     gpu0 chain"));
    const char *c[] = {"attest", "--verify", H100 "/attestation_report.hex",
                       "--attestation-policy", policy, NULL};
    CHECK(cli(c) == 2);
    CHECK(has(&R.err, "--gpu-chain FILE"));
    const char *d[] = {"attest", "--verify", H100 "/attestation_report.hex", "--gpu-chain",
                       H100 "/gpu_ak_cert_chain.pem", "--gpu-root", root,
                       "--attestation-policy", policy, NULL};
    CHECK(cli(d) == 2);
    CHECK(has(&R.err, "--gpu-root is for --any-evidence"));
}

static void test_any_evidence_policy(void)
{
    const char *a[] = {"attest", "--verify", H100 "/attestation_report.hex", "--gpu-chain",
                       H100 "/gpu_ak_cert_chain.pem", "--at", AT, "--any-evidence",
                       "--gpu-root", root, NULL};
    CHECK(cli(a) == 0);
    CHECK(has(&R.out, "NOT pinned"));
    CHECK(has(&R.out, "\"nvidia_gpu\": {"));
    CHECK(has(&R.out, "\"64\": \""));
    CHECK(has(&R.out, "\"require_cc\": true"));
    const char *j[] = {"attest", "--verify", H100 "/attestation_report.hex", "--gpu-chain",
                       H100 "/gpu_ak_cert_chain.pem", "--at", AT, "--attestation-policy",
                       policy, "--json", NULL};
    CHECK(cli(j) == 0);
    CHECK(has(&R.out, "\"ok\":true"));
    CHECK(has(&R.out, "\"device_id\":\"41FFEEB20009E0BE49\""));
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_attest_nvgpu_cli", E2E_CLI, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    if (setup() != 0) {
        fprintf(stderr, "test_attest_nvgpu_cli: set-up failed\n");
        CHECK(0);
    } else {
        RUN(test_real_report_under_policy);
        RUN(test_failures);
        RUN(test_any_evidence_policy);
    }
    e2e_out_free(&R);
    return e2e_world_close(&W, TEST_SUMMARY());
}

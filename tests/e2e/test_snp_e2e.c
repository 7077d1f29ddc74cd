/*
 * End to end with SEV-SNP evidence from a (fake) configfs-tsm: `minions-secure attest
 * measure` computes the launch digest of the shared OVMF footer and writes a policy; a
 * supervisor with --evidence sev-snp --snp-tsm <mount> (tests/tools/fake-tsm: reports signed
 * by a test VCEK with exactly that measurement) admits a client under that policy and a turn
 * completes, FAST and STRICT; reports whose measurement is off by one bit are refused with
 * nothing sent to the engine, and the error names the measurement. Without FUSE the test is
 * skipped (ctest's skip code) with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "secure/attest/snp.h"
#include "tests/fixture/faketsm.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_TSM
#error "MS_FAKE_TSM must name tests/tools/fake-tsm (tests/e2e/CMakeLists.txt)"
#endif

#define OVMF MS_TESTDATA_DIR "/sev-snp/measurement/ovmf_AmdSev_suffix.bin"
#define PROMPT "hello from an SNP-attested session"

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX], policy[PATH_MAX], config[PATH_MAX];
    char digest[2 * MS_SNP_MEASUREMENT_LEN + 1]; /* what attest measure printed */
    snp_fx_chain chain;
    e2e_faketsm tsm;
    e2e_stack st;
} E;

/* The fake TSM's configuration: the test VCEK, its certificate table, the measurement. */
static int write_config(int flip)
{
    char hex[sizeof E.digest];
    memcpy(hex, E.digest, sizeof hex);
    if (flip) { /* the last bit of the last byte */
        hex[sizeof hex - 2] ^= 1;
    }
    FILE *f = fopen(E.config, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "{\"key\":\"vcek.key\",\"aux\":\"certs.bin\",\"snp\":{\"measurement\":\"%s\"}}\n",
            hex);
    return fclose(f) == 0 ? 0 : -1;
}

/* The guest of test_attest_measure_cli: AmdSev firmware, direct boot, 4 EPYC-v4 vCPUs. */
static int measure(void)
{
    e2e_out r;
    const char *a[] = {"attest", "measure", "--ovmf", OVMF, "--vcpus", "4", "--vcpu-type",
                       "EPYC-v4", "--guest-features", "0x21", "--kernel", "/dev/null",
                       "--initrd", "/dev/null", "--policy-out", E.policy, "--ark", "ark.pem",
                       "--ask", "ask.pem", "--min-tcb", "3,0,8,115", NULL};
    int rc = e2e_world_run(&W, &(e2e_cmd){.timeout_ms = 60000}, a, &r);
    int ok = rc == 0 && r.out.len == sizeof E.digest && r.out.p[sizeof E.digest - 1] == '\n';
    if (ok) {
        memcpy(E.digest, r.out.p, sizeof E.digest - 1);
        E.digest[sizeof E.digest - 1] = '\0';
    } else {
        fprintf(stderr, "attest measure exited %d: %s\n", rc, r.err.p ? (char *)r.err.p : "");
    }
    e2e_out_free(&r);
    return ok ? 0 : -1;
}

static ms_err turn(const char *url, int strict, ms_buf *reply, uint16_t *type)
{
    ms_buf_clear(reply);
    return e2e_policy_turn(&W, url, E.policy, strict, PROMPT, reply, type);
}

static void test_measured_policy_admits(void)
{
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    CHECK_OK(turn(E.st.url, 0, &reply, &type));
    CHECK(type == MS_EVIDENCE_SEV_SNP);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "snp reply"));
    /* STRICT: a fresh report per handshake, through a new configfs-tsm entry each time. */
    CHECK_OK(turn(E.st.url, 1, &reply, &type));
    CHECK_OK(turn(E.st.url, 1, &reply, &type));
    CHECK(e2e_file_lines(E.log) == 3);
    /* The producer removed every entry it made. */
    CHECK(e2e_dir_count(E.tsm.mnt) == 0);
    ms_buf_free(&reply);
}

static void test_one_bit_off_refused(void)
{
    ms_buf reply;
    uint16_t type = 0;
    e2e_server other;
    memset(&other, 0, sizeof other);
    ms_buf_init(&reply, 1 << 16);
    long before = e2e_file_lines(E.log);
    CHECK(write_config(1) == 0);
    /* STRICT on the running supervisor: its next report has the changed measurement. */
    CHECK_ERR(turn(E.st.url, 1, &reply, &type), MS_ERR_SNP_MEASUREMENT);
    /* FAST: a supervisor started now signs its static key with the changed measurement. */
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .backend_port = E.st.sim.port,
                       .extra = {"--evidence", "sev-snp", "--snp-tsm", E.tsm.mnt, NULL}};
    if (e2e_world_sup(&W, &other, &cfg) != 0) {
        CHECK(!"second supervisor");
    } else {
        char url[64];
        e2e_url(url, "https", other.port);
        CHECK_ERR(turn(url, 0, &reply, &type), MS_ERR_SNP_MEASUREMENT);
    }
    CHECK(e2e_file_lines(E.log) == before); /* nothing reached the engine */
    CHECK(strstr(ms_err_str(MS_ERR_SNP_MEASUREMENT), "measurement") != NULL);
    CHECK(e2e_server_stop(&other, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_dir_count(E.tsm.mnt) == 0);
    CHECK(write_config(0) == 0);
    ms_buf_free(&reply);
}

/* 0 ready; 1 FUSE unavailable (why says so); -1 failure. */
static int setup(char why[static 256])
{
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    e2e_world_path(&W, E.policy, "policy.json");
    e2e_world_path(&W, E.config, "tsm.json");
    if (!snp_fx_chain_make(&E.chain, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0),
                           &vo, 48, 0) ||
        !snp_fx_chain_write(&E.chain, W.dir) || measure() != 0 || write_config(0) != 0) {
        return -1;
    }
    int rc = e2e_faketsm_start(&E.tsm, MS_FAKE_TSM, W.dir, "tsm", "sev_guest", E.config, why);
    if (rc != 0) {
        return rc;
    }
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"SNP-attested\",\"reply\":\"snp reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .extra = {"--evidence", "sev-snp", "--snp-tsm", E.tsm.mnt, NULL}};
    return e2e_world_stack(&W, &E.st, &(e2e_sim_cfg){.log = E.log}, &cfg);
}

int main(int argc, char **argv)
{
    char why[256];
    int rc = e2e_world_open(&W, "test_snp_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc,
                            argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    rc = setup(why);
    if (rc == 1) {
        printf("SKIPPED: %s\n", why);
        e2e_faketsm_stop(&E.tsm);
        snp_fx_chain_free(&E.chain);
        return e2e_world_close(&W, E2E_SKIP_CODE);
    }
    if (rc != 0) {
        fprintf(stderr, "test_snp_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_measured_policy_admits);
        RUN(test_one_bit_off_refused);
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    CHECK(e2e_faketsm_stop(&E.tsm) == 0);
    snp_fx_chain_free(&E.chain);
    snp_fx_keys_free();
    return e2e_world_close(&W, TEST_SUMMARY());
}

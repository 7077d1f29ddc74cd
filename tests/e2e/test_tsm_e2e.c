/*
 * End to end with SEV-SNP and TDX evidence from a (fake) configfs-tsm: supervisors whose own
 * producers make an entry per report under tests/tools/fake-tsm (FUSE), which signs with the
 * attestation test fixtures' keys.
 * SEV-SNP (issue 19): `minions-secure attest measure` computes the launch digest of the
 * shared OVMF footer and writes a policy; a supervisor with --evidence sev-snp --snp-tsm
 * whose reports carry exactly that measurement admits a client under that policy and a
 * turn completes, FAST and STRICT; reports one bit off are refused with nothing sent to the
 * engine, the error naming the measurement.
 * TDX (issue 11): a supervisor with --evidence tdx --tdx-tsm --tdx-collateral serving quotes
 * under a test-made "Intel" root; a client pinning that root, MRTD and RTMR0..3 completes a
 * turn, FAST and STRICT; MRTD or an RTMR changed, it refuses with nothing sent.
 * Without FUSE the test is skipped (ctest's skip code) with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "secure/attest/snp.h"
#include "tests/fixture/faketsm.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_TSM
#error "MS_FAKE_TSM must name tests/tools/fake-tsm (tests/e2e/CMakeLists.txt)"
#endif

#define OVMF MS_TESTDATA_DIR "/sev-snp/measurement/ovmf_AmdSev_suffix.bin"
#define SNP_PROMPT "hello from an SNP-attested session"
#define TDX_PROMPT "hello from a TDX-attested session"

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX]; /* log: llm-sim's, one line per engine request */
    e2e_server sim;
    struct {
        char policy[PATH_MAX], config[PATH_MAX];
        char digest[2 * MS_SNP_MEASUREMENT_LEN + 1]; /* what attest measure printed */
        snp_fx_chain chain;
        e2e_faketsm tsm;
        e2e_server sup;
        char url[64];
    } snp;
    struct {
        char dir[PATH_MAX];
        tdx_fx_platform td;
        e2e_faketsm tsm;
        e2e_server sup;
        char url[64];
    } tdx;
} E;

static ms_err turn(const char *url, const char *policy, int strict, const char *prompt,
                   uint16_t *type)
{
    ms_buf reply;
    ms_buf_init(&reply, 1 << 16);
    ms_err e = e2e_client_turn(url, W.ca, policy, strict, prompt, &reply, type);
    if (e == MS_OK) { /* the engine's answer came back through the channel */
        CHECK(ms_buf_terminate(&reply) == MS_OK &&
              strstr((const char *)reply.p, "attested reply") != NULL);
    }
    ms_buf_free(&reply);
    return e;
}

/* A supervisor on the shared engine with `evidence` from the fake TSM at `mnt`. */
static int sup_start(e2e_server *s, char url[static 64], const char *evidence, const char *opt,
                     const char *mnt, const char *more, const char *more_val)
{
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .backend_port = E.sim.port,
                       .extra = {"--evidence", evidence, opt, mnt, more, more_val, NULL}};
    if (e2e_world_sup(&W, s, &cfg) != 0) {
        return -1;
    }
    e2e_url(url, "https", s->port);
    return 0;
}

/* ---- SEV-SNP: a measured policy --------------------------------------------------------- */

/* The fake TSM's configuration: the test VCEK, its certificate table, the measurement (its
   last bit flipped on request). */
static int snp_config(int flip)
{
    static const char HEX[] = "0123456789abcdef";
    char hex[sizeof E.snp.digest];
    memcpy(hex, E.snp.digest, sizeof hex);
    const char *last = strchr(HEX, hex[sizeof hex - 2]);
    if (last == NULL) {
        return -1;
    }
    hex[sizeof hex - 2] = HEX[(last - HEX) ^ (flip ? 1 : 0)];
    FILE *f = fopen(E.snp.config, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "{\"key\":\"vcek.key\",\"aux\":\"certs.bin\",\"snp\":{\"measurement\":\"%s\"}}\n",
            hex);
    return fclose(f) == 0 ? 0 : -1;
}

/* The guest of test_attest_measure_cli: AmdSev firmware, direct boot, 4 EPYC-v4 vCPUs. */
static int snp_measure(void)
{
    e2e_out r;
    const char *a[] = {"attest", "measure", "--ovmf", OVMF, "--vcpus", "4", "--vcpu-type",
                       "EPYC-v4", "--guest-features", "0x21", "--kernel", "/dev/null",
                       "--initrd", "/dev/null", "--policy-out", E.snp.policy, "--ark", "ark.pem",
                       "--ask", "ask.pem", "--min-tcb", "3,0,8,115", NULL};
    size_t n = sizeof E.snp.digest;
    int rc = e2e_world_run(&W, &(e2e_cmd){.timeout_ms = 60000}, a, &r);
    int ok = rc == 0 && r.out.len == n && r.out.p[n - 1] == '\n';
    if (ok) {
        memcpy(E.snp.digest, r.out.p, n - 1);
        E.snp.digest[n - 1] = '\0';
    } else {
        fprintf(stderr, "attest measure exited %d: %s\n", rc, r.err.p ? (char *)r.err.p : "");
    }
    e2e_out_free(&r);
    return ok ? 0 : -1;
}

static void test_snp_measured_policy_admits(void)
{
    uint16_t type = 0;
    long before = e2e_file_lines(E.log);
    CHECK_OK(turn(E.snp.url, E.snp.policy, 0, SNP_PROMPT, &type));
    CHECK(type == MS_EVIDENCE_SEV_SNP);
    /* STRICT: a fresh report per handshake, through a new configfs-tsm entry each time. */
    CHECK_OK(turn(E.snp.url, E.snp.policy, 1, SNP_PROMPT, &type));
    CHECK_OK(turn(E.snp.url, E.snp.policy, 1, SNP_PROMPT, &type));
    CHECK(e2e_file_lines(E.log) == before + 3);
    CHECK(e2e_dir_count(E.snp.tsm.mnt) == 0); /* the producer removed every entry it made */
}

static void test_snp_one_bit_off_refused(void)
{
    uint16_t type = 0;
    e2e_server other;
    char url[64];
    memset(&other, 0, sizeof other);
    long before = e2e_file_lines(E.log);
    CHECK(snp_config(1) == 0);
    /* STRICT on the running supervisor: its next report has the changed measurement. */
    CHECK_ERR(turn(E.snp.url, E.snp.policy, 1, SNP_PROMPT, &type), MS_ERR_SNP_MEASUREMENT);
    /* FAST: a supervisor started now signs its static key with the changed measurement. */
    if (sup_start(&other, url, "sev-snp", "--snp-tsm", E.snp.tsm.mnt, NULL, NULL) != 0) {
        CHECK(!"second supervisor");
    } else {
        CHECK_ERR(turn(url, E.snp.policy, 0, SNP_PROMPT, &type), MS_ERR_SNP_MEASUREMENT);
    }
    CHECK(e2e_file_lines(E.log) == before); /* nothing reached the engine */
    CHECK(strstr(ms_err_str(MS_ERR_SNP_MEASUREMENT), "measurement") != NULL);
    CHECK(e2e_server_stop(&other, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_dir_count(E.snp.tsm.mnt) == 0);
    CHECK(snp_config(0) == 0);
}

/* ---- TDX: root, MRTD and RTMRs pinned ---------------------------------------------------- */

static void test_tdx_pinned_policy_admits(void)
{
    char pol[PATH_MAX];
    uint16_t type = 0;
    long before = e2e_file_lines(E.log);
    e2e_path(pol, "%s/good.json", E.tdx.dir);
    CHECK(tdx_fx_platform_policy(&E.tdx.td, pol, TDX_FX_SPOIL_NONE));
    CHECK_OK(turn(E.tdx.url, pol, 0, TDX_PROMPT, &type));
    CHECK(type == MS_EVIDENCE_TDX);
    /* STRICT: a fresh quote per handshake, through a new configfs-tsm entry each time. */
    CHECK_OK(turn(E.tdx.url, pol, 1, TDX_PROMPT, &type));
    CHECK(e2e_file_lines(E.log) == before + 2);
    CHECK(e2e_dir_count(E.tdx.tsm.mnt) == 0);
}

static void test_tdx_changed_pin_refused(void)
{
    char pol[PATH_MAX];
    uint16_t type = 0;
    long before = e2e_file_lines(E.log);
    e2e_path(pol, "%s/mrtd.json", E.tdx.dir);
    CHECK(tdx_fx_platform_policy(&E.tdx.td, pol, TDX_FX_SPOIL_MRTD));
    CHECK_ERR(turn(E.tdx.url, pol, 0, TDX_PROMPT, &type), MS_ERR_TDX_MRTD);
    CHECK_ERR(turn(E.tdx.url, pol, 1, TDX_PROMPT, &type), MS_ERR_TDX_MRTD);
    e2e_path(pol, "%s/rtmr.json", E.tdx.dir);
    CHECK(tdx_fx_platform_policy(&E.tdx.td, pol, TDX_FX_SPOIL_RTMR2));
    CHECK_ERR(turn(E.tdx.url, pol, 0, TDX_PROMPT, &type), MS_ERR_TDX_RTMR);
    CHECK(e2e_file_lines(E.log) == before); /* nothing reached the engine */
    CHECK(e2e_dir_count(E.tdx.tsm.mnt) == 0);
}

/* ---- set-up -------------------------------------------------------------------------------- */

/* The test chains and their files (SEV-SNP in the world's folder, TDX in tdx/). */
static int make_files(void)
{
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    e2e_world_path(&W, E.snp.policy, "policy.json");
    e2e_world_path(&W, E.snp.config, "tsm.json");
    e2e_world_path(&W, E.tdx.dir, "tdx");
    return snp_fx_chain_make(&E.snp.chain, snp_fx_rsa_key(0), snp_fx_rsa_key(1),
                             snp_fx_p384_key(0), &vo, 48, 0) &&
                   snp_fx_chain_write(&E.snp.chain, W.dir) && snp_measure() == 0 &&
                   snp_config(0) == 0 && mkdir(E.tdx.dir, 0700) == 0 &&
                   tdx_fx_platform_make(&E.tdx.td, E.tdx.dir)
               ? 0
               : -1;
}

/* 0 ready; 1 FUSE unavailable (why says so); -1 failure. */
static int setup(char why[static 256])
{
    if (make_files() != 0) {
        return -1;
    }
    int rc = e2e_faketsm_start(&E.snp.tsm, MS_FAKE_TSM, W.dir, "tsm-snp", "sev_guest",
                               E.snp.config, why);
    if (rc == 0) {
        rc = e2e_faketsm_start(&E.tdx.tsm, MS_FAKE_TSM, W.dir, "tsm-tdx", "tdx_guest",
                               E.tdx.td.config, why);
    }
    if (rc != 0) {
        return rc;
    }
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"-attested\",\"reply\":\"attested reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0 ||
        e2e_world_sim(&W, &E.sim, &(e2e_sim_cfg){.log = E.log}) != 0) {
        return -1;
    }
    return sup_start(&E.snp.sup, E.snp.url, "sev-snp", "--snp-tsm", E.snp.tsm.mnt, NULL, NULL) ==
                       0 &&
                   sup_start(&E.tdx.sup, E.tdx.url, "tdx", "--tdx-tsm", E.tdx.tsm.mnt,
                             "--tdx-collateral", E.tdx.td.coll) == 0
               ? 0
               : -1;
}

/* Servers by PID (clean exits: no sanitizer report), then the fakes and their mounts. */
static int teardown(void)
{
    int unclean = e2e_stop_all(&E.snp.sup, &E.tdx.sup, &E.sim, NULL);
    unclean += e2e_faketsm_stop(&E.snp.tsm) != 0;
    unclean += e2e_faketsm_stop(&E.tdx.tsm) != 0;
    snp_fx_chain_free(&E.snp.chain);
    snp_fx_keys_free();
    tdx_fx_platform_free(&E.tdx.td);
    return unclean;
}

int main(int argc, char **argv)
{
    char why[256];
    int rc = e2e_world_open(&W, "test_tsm_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc,
                            argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    rc = setup(why);
    if (rc == 1) {
        printf("SKIPPED: %s\n", why);
        teardown();
        return e2e_world_close(&W, E2E_SKIP_CODE);
    }
    if (rc != 0) {
        fprintf(stderr, "test_tsm_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_snp_measured_policy_admits);
        RUN(test_snp_one_bit_off_refused);
        RUN(test_tdx_pinned_policy_admits);
        RUN(test_tdx_changed_pin_refused);
    }
    CHECK(teardown() == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

/*
 * End to end with Intel TDX evidence from a (fake) configfs-tsm: a supervisor with --evidence
 * tdx --tdx-tsm <mount> --tdx-collateral DIR, where tests/tools/fake-tsm serves quotes made
 * by the TDX fixture (a test-made "Intel" root, PCK CA, PCK leaf, attestation key) and DIR
 * holds collateral signed under that root with CRLs; a client whose policy pins the root,
 * MRTD and RTMR0..3 completes a turn, FAST and STRICT; one pinned value changed (MRTD, an
 * RTMR) makes it refuse with nothing sent to the engine. Without FUSE the test is skipped
 * (ctest's skip code) with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secure/attest/tdx.h"
#include "tests/fixture/faketsm.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_TSM
#error "MS_FAKE_TSM must name tests/tools/fake-tsm (tests/e2e/CMakeLists.txt)"
#endif

#define PROMPT "hello from a TDX-attested session"

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX];
    tdx_fx_platform td;
    e2e_faketsm tsm;
    e2e_stack st;
} E;

static ms_err turn(const char *policy, int strict, ms_buf *reply, uint16_t *type)
{
    ms_buf_clear(reply);
    return e2e_policy_turn(&W, E.st.url, policy, strict, PROMPT, reply, type);
}

static void test_pinned_policy_admits(void)
{
    char pol[PATH_MAX];
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    e2e_world_path(&W, pol, "good.json");
    CHECK(tdx_fx_platform_policy(&E.td, pol, TDX_FX_SPOIL_NONE));
    CHECK_OK(turn(pol, 0, &reply, &type));
    CHECK(type == MS_EVIDENCE_TDX);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "tdx reply"));
    /* STRICT: a fresh quote per handshake, through a new configfs-tsm entry each time. */
    CHECK_OK(turn(pol, 1, &reply, &type));
    CHECK(e2e_file_lines(E.log) == 2);
    CHECK(e2e_dir_count(E.tsm.mnt) == 0); /* the producer removed every entry it made */
    ms_buf_free(&reply);
}

static void test_changed_pin_refused(void)
{
    char pol[PATH_MAX];
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    long before = e2e_file_lines(E.log);
    e2e_world_path(&W, pol, "mrtd.json");
    CHECK(tdx_fx_platform_policy(&E.td, pol, TDX_FX_SPOIL_MRTD));
    CHECK_ERR(turn(pol, 0, &reply, &type), MS_ERR_TDX_MRTD);
    CHECK_ERR(turn(pol, 1, &reply, &type), MS_ERR_TDX_MRTD);
    e2e_world_path(&W, pol, "rtmr.json");
    CHECK(tdx_fx_platform_policy(&E.td, pol, TDX_FX_SPOIL_RTMR2));
    CHECK_ERR(turn(pol, 0, &reply, &type), MS_ERR_TDX_RTMR);
    CHECK(e2e_file_lines(E.log) == before); /* nothing reached the engine */
    CHECK(e2e_dir_count(E.tsm.mnt) == 0);
    ms_buf_free(&reply);
}

/* 0 ready; 1 FUSE unavailable (why says so); -1 failure. */
static int setup(char why[static 256])
{
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    if (!tdx_fx_platform_make(&E.td, W.dir)) {
        return -1;
    }
    int rc = e2e_faketsm_start(&E.tsm, MS_FAKE_TSM, W.dir, "tsm", "tdx_guest", E.td.config, why);
    if (rc != 0) {
        return rc;
    }
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"TDX-attested\",\"reply\":\"tdx reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .extra = {"--evidence", "tdx", "--tdx-tsm", E.tsm.mnt, "--tdx-collateral",
                                 E.td.coll, NULL}};
    return e2e_world_stack(&W, &E.st, &(e2e_sim_cfg){.log = E.log}, &cfg);
}

int main(int argc, char **argv)
{
    char why[256];
    int rc = e2e_world_open(&W, "test_tdx_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc,
                            argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    rc = setup(why);
    if (rc == 1) {
        printf("SKIPPED: %s\n", why);
        e2e_faketsm_stop(&E.tsm);
        tdx_fx_platform_free(&E.td);
        return e2e_world_close(&W, E2E_SKIP_CODE);
    }
    if (rc != 0) {
        fprintf(stderr, "test_tdx_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_pinned_policy_admits);
        RUN(test_changed_pin_refused);
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    CHECK(e2e_faketsm_stop(&E.tsm) == 0);
    tdx_fx_platform_free(&E.td);
    return e2e_world_close(&W, TEST_SUMMARY());
}

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
#include <sys/stat.h>

#include "common/codec.h"
#include "secure/attest/tdx.h"
#include "tests/fixture/faketsm.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_TSM
#error "MS_FAKE_TSM must name tests/tools/fake-tsm (tests/e2e/CMakeLists.txt)"
#endif

#define PROMPT "hello from a TDX-attested session"
#define HEX_MEAS (2 * MS_TDX_MEAS_LEN + 1)

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX], config[PATH_MAX], coll[PATH_MAX];
    tdx_fx_pck_opts po;
    tdx_fx_quote_opts qo;
    tdx_fx_chain chain;
    tdx_fx_collateral col;
    ms_buf pck_crl, root_crl;
    e2e_faketsm tsm;
    e2e_stack st;
} E;

enum { SPOIL_NONE, SPOIL_MRTD, SPOIL_RTMR2 };

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    size_t len;
    if (ms_hex_encode(p, n, out, 2 * n + 1, &len) != MS_OK) {
        out[0] = '\0';
    }
}

/* The fake TSM's configuration: the fixture's keys and chain, and the quote's TD fields. */
static int write_config(void)
{
    char mrtd[HEX_MEAS], rtmr[MS_TDX_RTMRS][HEX_MEAS], svn[33];
    hex_of(E.qo.mrtd, MS_TDX_MEAS_LEN, mrtd);
    hex_of(E.qo.tee_tcb_svn, sizeof E.qo.tee_tcb_svn, svn);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        hex_of(E.qo.rtmr[i], MS_TDX_MEAS_LEN, rtmr[i]);
    }
    FILE *f = fopen(E.config, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "{\"key\":\"pck.key\",\"ak\":\"ak.key\",\"chain\":\"pck_chain.pem\","
               "\"tdx\":{\"mrtd\":\"%s\",\"tee_tcb_svn\":\"%s\",\"rtmrs\":[\"%s\",\"%s\",\"%s\","
               "\"%s\"]}}\n",
            mrtd, svn, rtmr[0], rtmr[1], rtmr[2], rtmr[3]);
    return fclose(f) == 0 ? 0 : -1;
}

/* A client policy pinning the test root, MRTD and RTMR0..3, one of them changed on request. */
static int write_policy(const char *path, int spoil)
{
    uint8_t mrtd[MS_TDX_MEAS_LEN], rtmr[MS_TDX_RTMRS][MS_TDX_MEAS_LEN];
    char hm[HEX_MEAS], hr[MS_TDX_RTMRS][HEX_MEAS];
    memcpy(mrtd, E.qo.mrtd, sizeof mrtd);
    memcpy(rtmr, E.qo.rtmr, sizeof rtmr);
    mrtd[0] ^= (uint8_t)(spoil == SPOIL_MRTD);
    rtmr[2][MS_TDX_MEAS_LEN - 1] ^= (uint8_t)(spoil == SPOIL_RTMR2);
    hex_of(mrtd, sizeof mrtd, hm);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        hex_of(rtmr[i], MS_TDX_MEAS_LEN, hr[i]);
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"root.pem\","
               "\"mrtd\":\"%s\",\"rtmrs\":{\"0\":\"%s\",\"1\":\"%s\",\"2\":\"%s\",\"3\":\"%s\"}}}\n",
            hm, hr[0], hr[1], hr[2], hr[3]);
    return fclose(f) == 0 ? 0 : -1;
}

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
    CHECK(write_policy(pol, SPOIL_NONE) == 0);
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
    CHECK(write_policy(pol, SPOIL_MRTD) == 0);
    CHECK_ERR(turn(pol, 0, &reply, &type), MS_ERR_TDX_MRTD);
    CHECK_ERR(turn(pol, 1, &reply, &type), MS_ERR_TDX_MRTD);
    e2e_world_path(&W, pol, "rtmr.json");
    CHECK(write_policy(pol, SPOIL_RTMR2) == 0);
    CHECK_ERR(turn(pol, 0, &reply, &type), MS_ERR_TDX_RTMR);
    CHECK(e2e_file_lines(E.log) == before); /* nothing reached the engine */
    CHECK(e2e_dir_count(E.tsm.mnt) == 0);
    ms_buf_free(&reply);
}

/* The fixture's DCAP chain, CRLs and collateral (as test_tdx_full makes them), in files. */
static int make_chain(void)
{
    /* TEE_TCB_SVN as a TDX 1.0 module reports it: byte 1 (module version) zero. */
    static const uint8_t svn[16] = {3, 0, 5};
    tdx_fx_collateral_opts co;
    tdx_fx_pck_opts_default(&E.po);
    tdx_fx_quote_opts_default(&E.qo);
    tdx_fx_collateral_opts_default(&co);
    memcpy(E.qo.tee_tcb_svn, svn, sizeof svn);
    return tdx_fx_chain_make(&E.chain, &E.po) &&
                   tdx_fx_crl(&E.pck_crl, E.chain.ca_x, E.chain.ca_key, 0) &&
                   tdx_fx_crl(&E.root_crl, E.chain.root_x, E.chain.root_key, 0) &&
                   tdx_fx_collateral_make(&E.col, &E.chain, &E.po, &E.qo, &co) &&
                   tdx_fx_chain_write(&E.chain, W.dir) && mkdir(E.coll, 0700) == 0 &&
                   tdx_fx_collateral_write(&E.col, &E.pck_crl, &E.root_crl, E.coll)
               ? 0
               : -1;
}

/* 0 ready; 1 FUSE unavailable (why says so); -1 failure. */
static int setup(char why[static 256])
{
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    e2e_world_path(&W, E.config, "tsm.json");
    e2e_world_path(&W, E.coll, "tdx-collateral");
    if (make_chain() != 0 || write_config() != 0) {
        return -1;
    }
    int rc = e2e_faketsm_start(&E.tsm, MS_FAKE_TSM, W.dir, "tsm", "tdx_guest", E.config, why);
    if (rc != 0) {
        return rc;
    }
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"TDX-attested\",\"reply\":\"tdx reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .extra = {"--evidence", "tdx", "--tdx-tsm", E.tsm.mnt, "--tdx-collateral",
                                 E.coll, NULL}};
    return e2e_world_stack(&W, &E.st, &(e2e_sim_cfg){.log = E.log}, &cfg);
}

static void teardown(void)
{
    tdx_fx_chain_free(&E.chain);
    tdx_fx_collateral_free(&E.col);
    ms_buf_free(&E.pck_crl);
    ms_buf_free(&E.root_crl);
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
        teardown();
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
    teardown();
    return e2e_world_close(&W, TEST_SUMMARY());
}

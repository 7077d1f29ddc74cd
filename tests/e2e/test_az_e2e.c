/*
 * End to end with Azure SEV-SNP CVM evidence: a supervisor process with --evidence
 * az-snp-vtpm on a swtpm provisioned like an Azure vTPM, behind tests/tools/hcl-paravisor
 * (the paravisor stood in: a TPM command proxy that answers each write of user data to NV
 * 0x01400002 with a fresh HCL report in 0x01400001, signed by a test-made SEV-SNP chain).
 * The supervisor runs unchanged, as on Azure. A client whose policy pins the test ARK, the
 * measurement, the minimum TCB and the vTPM's PCRs completes a turn (FAST and STRICT);
 * changing one pinned value (a PCR, the measurement) makes it refuse with nothing sent to
 * the engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secure/suite.h"
#include "tests/fixture/swtpm.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/tpm2_tpm.h"
#include "tests/test.h"

#ifndef MS_HCL_PARAVISOR
#error "MS_HCL_PARAVISOR must name tests/tools/hcl-paravisor (tests/e2e/CMakeLists.txt)"
#endif

#define PCRS 0x81u /* 0 and 7: firmware and Secure Boot state */

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX];
    e2e_swtpm tpm;
    e2e_hcl_paravisor hcl;
    e2e_az_pins pins;
    e2e_stack st;
} E;

static ms_err run_client(const char *name, int strict, int spoil_pcr, int spoil_measurement,
                         ms_buf *reply, uint16_t *type)
{
    char pol[PATH_MAX];
    e2e_az_pins p = E.pins;
    p.strict = strict;
    p.spoil_pcr = spoil_pcr;
    p.spoil_measurement = spoil_measurement;
    e2e_world_path(&W, pol, "%s.json", name);
    if (e2e_az_policy_write(&E.hcl, &p, pol) != 0) {
        return MS_ERR_INTERNAL;
    }
    return e2e_client_turn(E.st.url, W.ca, pol, strict, "hello from an Azure CVM session",
                           reply, type);
}

static void test_az_sessions(void)
{
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    CHECK_OK(run_client("good", 0, 0, 0, &reply, &type));
    CHECK(type == MS_EVIDENCE_AZ_SNP_VTPM);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "azure reply"));
    /* STRICT: a fresh HCL report and quote over this session's challenge. */
    ms_buf_clear(&reply);
    CHECK_OK(run_client("strict", 1, 0, 0, &reply, &type));
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "azure reply"));

    /* One pinned value changed: refused at the handshake, nothing reaches the engine. */
    long before = e2e_file_lines(E.log);
    CHECK(before == 2);
    ms_buf_clear(&reply);
    CHECK_ERR(run_client("pcr", 0, 1, 0, &reply, &type), MS_ERR_TPM_PCR_VALUE);
    CHECK_ERR(run_client("measurement", 0, 0, 1, &reply, &type), MS_ERR_SNP_MEASUREMENT);
    CHECK_ERR(run_client("strict-pcr", 1, 1, 0, &reply, &type), MS_ERR_TPM_PCR_VALUE);
    CHECK(reply.len == 0);
    CHECK(e2e_file_lines(E.log) == before);
    /* The unchanged policy still works: the refusals were the pins, not the supervisor. */
    CHECK_OK(run_client("again", 0, 0, 0, &reply, &type));
    ms_buf_free(&reply);
}

/* A measured boot of our own: PCR 7 extended once (through the stand-in), so pins are not zeros. */
static int measure_boot(void)
{
    tpm2_conn c;
    if (tpm2_conn_open(&c, E.hcl.tcti) != 0) {
        return -1;
    }
    int r = tpm2_pcr_extend(&c, 7, 0x42);
    tpm2_conn_close(&c);
    return r;
}

static int setup(void)
{
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    E.pins.mask = PCRS;
    if (e2e_swtpm_start(&E.tpm) != 0 ||
        e2e_hcl_paravisor_start(&E.hcl, MS_HCL_PARAVISOR, &E.tpm, W.dir) != 0 ||
        measure_boot() != 0 || e2e_hcl_paravisor_pcrs(&E.hcl, &E.pins) != 0) {
        return -1;
    }
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"Azure CVM\",\"reply\":\"azure reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .extra = {"--evidence", "az-snp-vtpm", "--tpm-tcti", E.hcl.tcti,
                                 "--tpm-pcrs", "0,7", "--snp-certs", E.hcl.certs, NULL}};
    return e2e_world_stack(&W, &E.st, &(e2e_sim_cfg){.log = E.log}, &cfg);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_az_e2e", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    setenv("TSS2_LOG", "all+none", 1);
    if (setup() != 0) {
        fprintf(stderr, "test_az_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_az_sessions);
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    CHECK(e2e_hcl_paravisor_stop(&E.hcl) == 0);
    e2e_swtpm_stop(&E.tpm);
    return e2e_world_close(&W, TEST_SUMMARY());
}

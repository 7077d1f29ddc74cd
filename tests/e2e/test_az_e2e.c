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
#include "tests/test.h"

#ifndef MS_HCL_PARAVISOR
#error "MS_HCL_PARAVISOR must name tests/tools/hcl-paravisor (tests/e2e/CMakeLists.txt)"
#endif

#define PCRS 0x81u /* 0 and 7: firmware and Secure Boot state */

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX];
    e2e_az az;
    e2e_stack st;
} E;

#define PROMPT "hello from an Azure CVM session"

/* A turn under a policy pinning E.az, as changed by p (strict, spoil_*). */
static ms_err turn(const char *name, e2e_az_pins p, ms_buf *reply, uint16_t *type)
{
    return e2e_az_turn(&E.az, &W, E.st.url, name, &p, PROMPT, reply, type);
}

static void test_az_sessions(void)
{
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    CHECK_OK(turn("good", (e2e_az_pins){0}, &reply, &type));
    CHECK(type == MS_EVIDENCE_AZ_SNP_VTPM);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "azure reply"));
    /* STRICT: a fresh HCL report and quote over this session's challenge. */
    ms_buf_clear(&reply);
    CHECK_OK(turn("strict", (e2e_az_pins){.strict = 1}, &reply, &type));
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "azure reply"));

    /* One pinned value changed: refused at the handshake, nothing reaches the engine. */
    long before = e2e_file_lines(E.log);
    CHECK(before == 2);
    ms_buf_clear(&reply);
    CHECK_ERR(turn("pcr", (e2e_az_pins){.spoil_pcr = 1}, &reply, &type), MS_ERR_TPM_PCR_VALUE);
    CHECK_ERR(turn("measurement", (e2e_az_pins){.spoil_measurement = 1}, &reply, &type),
              MS_ERR_SNP_MEASUREMENT);
    CHECK_ERR(turn("strict-pcr", (e2e_az_pins){.strict = 1, .spoil_pcr = 1}, &reply, &type),
              MS_ERR_TPM_PCR_VALUE);
    CHECK(reply.len == 0);
    CHECK(e2e_file_lines(E.log) == before);
    /* The unchanged policy still works: the refusals were the pins, not the supervisor. */
    CHECK_OK(turn("again", (e2e_az_pins){0}, &reply, &type));
    ms_buf_free(&reply);
}

static int setup(void)
{
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    if (e2e_az_start(&E.az, MS_HCL_PARAVISOR, 0, PCRS, W.dir) != 0 ||
        e2e_world_script(&W, "{\"rules\":[{\"contains\":\"Azure CVM\",\"reply\":\"azure reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    return e2e_az_stack(&E.az, &W, &E.st, &(e2e_sim_cfg){.log = E.log}, E.devkey);
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
    CHECK(e2e_az_stop(&E.az) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

/* End to end with TPM evidence: supervisor --evidence tpm2 on swtpm, client policy pins AK and PCRs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "secure/attest/policy.h"
#include "secure/attest/tpm2_producer.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/swtpm.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define PCRS 0xffu /* 0-7, what the supervisor is told to quote */

static e2e_world W; /* programs, certs/dev, the script, the temp dir */
static struct {
    char devkey[PATH_MAX], log[PATH_MAX];
    e2e_swtpm tpm;
    e2e_stack st;
    ms_tpm2_policy enrolled;
} E;

/* A policy file from the enrolled values, with one PCR or the AK name spoiled on request. */
static int write_policy(const char *path, int spoil_pcr, int spoil_ak, int strict)
{
    char hex[2 * MS_TPM2_NAME_LEN + 1];
    size_t n;
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    uint8_t name[MS_TPM2_NAME_LEN];
    memcpy(name, E.enrolled.ak_name, sizeof name);
    name[sizeof name - 1] ^= (uint8_t)spoil_ak;
    if (ms_hex_encode(name, sizeof name, hex, sizeof hex, &n) != MS_OK) {
        fclose(f);
        return -1;
    }
    fprintf(f, "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"require_strict\":%s,"
               "\"tpm2\":{\"ak_name\":\"%s\",\"pcrs\":{",
            strict ? "true" : "false", hex);
    for (unsigned i = 0; i < 8; i++) {
        uint8_t v[MS_TPM2_DIGEST_LEN];
        char vh[2 * MS_TPM2_DIGEST_LEN + 1];
        memcpy(v, E.enrolled.pcr_values[i], sizeof v);
        v[0] ^= (uint8_t)(spoil_pcr && i == 7);
        if (ms_hex_encode(v, sizeof v, vh, sizeof vh, &n) != MS_OK) {
            fclose(f);
            return -1;
        }
        fprintf(f, "%s\"%u\":\"%s\"", i ? "," : "", i, vh);
    }
    fprintf(f, "}}}\n");
    return fclose(f) == 0 ? 0 : -1;
}

static long log_lines(void)
{
    return e2e_file_lines(E.log);
}

/* One client under the policy at `path`: connect, and a turn if the connection held. */
static ms_err run_client(const char *path, int strict, ms_buf *reply, uint16_t *ev_type)
{
    return e2e_policy_turn(&W, E.st.url, path, strict, "hello from a TPM-attested session",
                           reply, ev_type);
}

static void test_tpm_sessions(void)
{
    char pol[PATH_MAX];
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    e2e_path(pol, "%s/good.json", W.dir);
    CHECK(write_policy(pol, 0, 0, 0) == 0);
    CHECK_OK(run_client(pol, 0, &reply, &type));
    CHECK(type == MS_EVIDENCE_TPM2_QUOTE);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "quoted reply"));
    /* STRICT: a fresh quote over this session's challenge. */
    ms_buf_clear(&reply);
    e2e_path(pol, "%s/strict.json", W.dir);
    CHECK(write_policy(pol, 0, 0, 1) == 0);
    CHECK_OK(run_client(pol, 1, &reply, &type));

    /* A PCR that is not what the policy enrolled, and another AK: refused, nothing sent. */
    long before = log_lines();
    ms_buf_clear(&reply);
    e2e_path(pol, "%s/pcr.json", W.dir);
    CHECK(write_policy(pol, 1, 0, 0) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_TPM_PCR_VALUE);
    e2e_path(pol, "%s/ak.json", W.dir);
    CHECK(write_policy(pol, 0, 1, 0) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_TPM_AK_NAME);
    CHECK(log_lines() == before);
    ms_buf_free(&reply);
}

static int setup(void)
{
    if (e2e_swtpm_start(&E.tpm) != 0 || e2e_swtpm_enrol(&E.tpm, PCRS, &E.enrolled) != 0) {
        return -1;
    }
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"TPM-attested\",\"reply\":\"quoted reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .extra = {"--evidence", "tpm2", "--tpm-tcti", E.tpm.tcti, "--tpm-pcrs",
                                 "0,1,2,3,4,5,6,7", NULL}};
    return e2e_world_stack(&W, &E.st, &(e2e_sim_cfg){.log = E.log}, &cfg);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_tpm_e2e", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    setenv("TSS2_LOG", "all+none", 1);
    if (setup() != 0) {
        fprintf(stderr, "test_tpm_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_tpm_sessions);
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    e2e_swtpm_stop(&E.tpm);
    return e2e_world_close(&W, TEST_SUMMARY());
}

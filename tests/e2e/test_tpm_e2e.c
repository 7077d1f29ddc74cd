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
#include "tests/fixture/proc.h"
#include "tests/fixture/stack.h"
#include "tests/test.h"

#define PCRS 0xffu /* 0-7, what the supervisor is told to quote */

static struct {
    const char *sup_bin, *sim_bin, *src;
    char dir[PATH_MAX], ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], devkey[PATH_MAX];
    char script[PATH_MAX], log[PATH_MAX], url[128];
    tpm2_swtpm tpm;
    e2e_server sim, sup;
    ms_tpm2_policy enrolled;
} E;

/* Enrolment before the supervisor opens the TPM (swtpm serves one connection at a time). */
static int enrol(void)
{
    struct ms_tpm2_producer *p;
    ms_tpm2_producer_cfg cfg = {.tcti = E.tpm.tcti, .pcr_mask = PCRS,
                                .hierarchy = MS_TPM2_HIERARCHY_ENDORSEMENT};
    if (ms_tpm2_producer_new(&p, &cfg) != MS_OK) {
        return -1;
    }
    ms_err e = ms_tpm2_producer_policy(p, &E.enrolled);
    ms_tpm2_producer_free(p);
    return e == MS_OK ? 0 : -1;
}

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
    FILE *f = fopen(E.log, "r");
    long n = 0;
    int ch;
    if (!f) {
        return 0;
    }
    while ((ch = fgetc(f)) != EOF) {
        n += ch == '\n';
    }
    fclose(f);
    return n;
}

/* One client under the policy at `path`: connect, and a turn if the connection held. */
static ms_err run_client(const char *path, int strict, ms_buf *reply, uint16_t *ev_type)
{
    ms_attest_policy pol;
    ms_client *c = NULL;
    ms_buf req;
    ms_client_turn_info info;
    ms_client_peer peer;
    ms_attest_policy_init(&pol);
    ms_buf_init(&req, 4096);
    ms_err e = ms_attest_policy_load(&pol, path);
    if (e != MS_OK) {
        fprintf(stderr, "  policy: %s\n", pol.why);
    }
    ms_client_cfg cfg = {.url = E.url, .cacert = E.ca, .policy = &pol, .strict = strict};
    if (e == MS_OK) {
        e = ms_client_new(&c, &cfg);
    }
    if (e == MS_OK) {
        e = ms_client_connect(c);
    }
    if (e == MS_OK) {
        ms_client_peer_info(c, &peer);
        *ev_type = peer.evidence_type;
        e = ms_client_request_build(NULL, "hello from a TPM-attested session", 0, -1.0, &req);
    }
    if (e == MS_OK) {
        e = ms_client_turn(c, req.p, req.len, reply, &info);
    }
    ms_client_free(c);
    ms_attest_policy_free(&pol);
    ms_buf_free(&req);
    return e;
}

static void test_tpm_sessions(void)
{
    char pol[PATH_MAX];
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    e2e_path(pol, "%s/good.json", E.dir);
    CHECK(write_policy(pol, 0, 0, 0) == 0);
    CHECK_OK(run_client(pol, 0, &reply, &type));
    CHECK(type == MS_EVIDENCE_TPM2_QUOTE);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "quoted reply"));
    /* STRICT: a fresh quote over this session's challenge. */
    ms_buf_clear(&reply);
    e2e_path(pol, "%s/strict.json", E.dir);
    CHECK(write_policy(pol, 0, 0, 1) == 0);
    CHECK_OK(run_client(pol, 1, &reply, &type));

    /* A PCR that is not what the policy enrolled, and another AK: refused, nothing sent. */
    long before = log_lines();
    ms_buf_clear(&reply);
    e2e_path(pol, "%s/pcr.json", E.dir);
    CHECK(write_policy(pol, 1, 0, 0) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_TPM_PCR_VALUE);
    e2e_path(pol, "%s/ak.json", E.dir);
    CHECK(write_policy(pol, 0, 1, 0) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_TPM_AK_NAME);
    CHECK(log_lines() == before);
    ms_buf_free(&reply);
}

static int setup(void)
{
    if (e2e_tmpdir_new("ms-e2e-tpm", E.dir) != 0 || tpm2_swtpm_start(&E.tpm) != 0 || enrol() != 0) {
        return -1;
    }
    e2e_path(E.ca, "%s/certs/dev/ca.pem", E.src);
    e2e_path(E.cert, "%s/certs/dev/server.pem", E.src);
    e2e_path(E.key, "%s/certs/dev/server.key", E.src);
    e2e_path(E.devkey, "%s/unused-dev.pem", E.dir);
    e2e_path(E.script, "%s/script.json", E.dir);
    e2e_path(E.log, "%s/engine.log", E.dir);
    FILE *f = fopen(E.script, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "{\"rules\":[{\"contains\":\"TPM-attested\",\"reply\":\"quoted reply\"}],"
               "\"default\":\"no rule\"}\n");
    fclose(f);
    if (e2e_sim_start(&E.sim, E.sim_bin, E.dir, E.script, E.log) != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.bin = E.sup_bin, .dir = E.dir, .cert = E.cert, .key = E.key,
                       .devkey = E.devkey, .backend_port = E.sim.port,
                       .extra = {"--evidence", "tpm2", "--tpm-tcti", E.tpm.tcti, "--tpm-pcrs",
                                 "0,1,2,3,4,5,6,7", NULL}};
    if (e2e_sup_start(&E.sup, &cfg) != 0) {
        return -1;
    }
    snprintf(E.url, sizeof E.url, "https://127.0.0.1:%u", E.sup.port);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SUPERVISOR LLM-SIM SOURCE-DIR\n", argv[0]);
        return 2;
    }
    E.sup_bin = argv[1];
    E.sim_bin = argv[2];
    E.src = argv[3];
    setenv("TSS2_LOG", "all+none", 1);
    if (sodium_init() < 0 || setup() != 0) {
        fprintf(stderr, "test_tpm_e2e: set-up failed (see %s)\n", E.dir);
        CHECK(0);
    } else {
        RUN(test_tpm_sessions);
    }
    CHECK(e2e_server_stop(&E.sup, 3000) == 0); /* a clean exit: no sanitizer report */
    CHECK(e2e_server_stop(&E.sim, 3000) == 0);
    tpm2_swtpm_stop(&E.tpm);
    if (E.dir[0] && !getenv("MS_E2E_KEEP")) {
        e2e_tmpdir_remove(E.dir);
    }
    return TEST_SUMMARY();
}

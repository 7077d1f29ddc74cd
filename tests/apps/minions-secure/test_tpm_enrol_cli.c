/*
 * TPM AK enrolment with the real programs (docs/attest-tpm2.md §7), on a swtpm whose EK
 * certificate swtpm_localca made: minions-supervisor --tpm-enrol-request / --tpm-activate,
 * minions-secure attest enroll-tpm, then a supervisor serving --tpm-ak-cert to a client whose
 * policy pins the AK CA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/fixture/swtpm.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/test.h"

#define ZERO32 "0000000000000000000000000000000000000000000000000000000000000000"

static e2e_world W;
static struct {
    e2e_swtpm tpm;
    e2e_server sim, sup;
    char url[64];
    char req[PATH_MAX], ch[PATH_MAX], resp[PATH_MAX], akcert[PATH_MAX];
    char ca_key[PATH_MAX], ca_cert[PATH_MAX], other_cert[PATH_MAX];
    ms_buf out, err;
} E;

static int run(const char *bin, const char *const *args)
{
    e2e_out r;
    int code = e2e_world_run(&W, &(e2e_cmd){.bin = bin}, args, &r);
    ms_buf_free(&E.out);
    ms_buf_free(&E.err);
    E.out = r.out;
    E.err = r.err;
    return code;
}

static int has(const ms_buf *b, const char *needle)
{
    return e2e_buf_shows(b, needle);
}

static int write_buf(const char *path, ms_buf *b)
{
    return ms_buf_terminate(b) == MS_OK ? e2e_file_write(path, (const char *)b->p) : -1;
}

/* Steps 1-4: request, challenge, activation, certificate; each refusal on the way. */
static void test_enrol(void)
{
    const char *req[] = {"--tpm-tcti", E.tpm.tcti, "--tpm-enrol-request", E.req, NULL};
    CHECK(run(W.sup_bin, req) == 0);
    CHECK(has(&E.err, "give it to the operator"));
    /* the EK chain: the root alone lacks the issuing CA */
    const char *bad_roots[] = {"attest", "enroll-tpm", "--request", E.req, "--ek-roots",
                               E.tpm.ek_root, "--ak-ca-key", E.ca_key, "--ak-ca-cert",
                               E.ca_cert, "--challenge-out", E.ch, NULL};
    CHECK(run(NULL, bad_roots) == 4);
    CHECK(has(&E.err, "does not chain to the pinned root"));
    const char *chal[] = {"attest", "enroll-tpm", "--request", E.req, "--ek-roots",
                          E.tpm.ek_roots, "--ak-ca-key", E.ca_key, "--ak-ca-cert", E.ca_cert,
                          "--challenge-out", E.ch, NULL};
    CHECK(run(NULL, chal) == 0);
    CHECK(has(&E.out, "attestation key name 000b"));
    const char *act[] = {"--tpm-tcti", E.tpm.tcti, "--tpm-activate", E.ch, "--tpm-activate-out",
                         E.resp, NULL};
    CHECK(run(W.sup_bin, act) == 0);
    /* a response that is not the credential: no certificate */
    char wrong[PATH_MAX], unused[PATH_MAX];
    e2e_world_path(&W, wrong, "wrong.resp");
    e2e_world_path(&W, unused, "unused.der");
    CHECK(e2e_file_write(wrong, "0123456789abcdef0123456789abcdef") == 0);
    const char *bad[] = {"attest", "enroll-tpm", "--request", E.req, "--ek-roots",
                         E.tpm.ek_roots, "--ak-ca-key", E.ca_key, "--ak-ca-cert", E.ca_cert,
                         "--response", wrong, "--cert-out", unused, NULL};
    CHECK(run(NULL, bad) == 4);
    CHECK(has(&E.err, "not activated by the endorsement key"));
    const char *issue[] = {"attest", "enroll-tpm", "--request", E.req, "--ek-roots",
                           E.tpm.ek_roots, "--ak-ca-key", E.ca_key, "--ak-ca-cert", E.ca_cert,
                           "--response", E.resp, "--cert-out", E.akcert, "--days", "30", NULL};
    CHECK(run(NULL, issue) == 0);
    CHECK(has(&E.out, "AK certificate written"));
    /* usage: both modes at once, or neither */
    const char *both[] = {"attest", "enroll-tpm", "--request", E.req, "--ek-roots",
                          E.tpm.ek_roots, "--ak-ca-key", E.ca_key, "--ak-ca-cert", E.ca_cert,
                          "--response", E.resp, "--cert-out", unused, "--challenge-out", unused,
                          NULL};
    CHECK(run(NULL, both) == 2);
    const char *help[] = {"attest", "enroll-tpm", "--help", NULL};
    CHECK(run(NULL, help) == 0 && has(&E.out, "--tpm-activate-out RESP"));
    const char *sup_usage[] = {"--tpm-activate", E.ch, NULL};
    CHECK(run(W.sup_bin, sup_usage) == 2);
}

static int policy(const char *path, const char *ca)
{
    char json[PATH_MAX + 1024];
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"tpm2\":{\"ak_ca_pem\":\"%s\","
             "\"pcrs\":{\"0\":\"" ZERO32 "\",\"1\":\"" ZERO32 "\"}}}\n",
             ca);
    return e2e_file_write(path, json);
}

/* Step 5: the supervisor serves the certificate; a policy pinning the CA admits it. */
static void test_serve_and_pin(void)
{
    char good[PATH_MAX], other[PATH_MAX], devkey[PATH_MAX];
    e2e_world_path(&W, devkey, "unused-dev.pem"); /* the supervisor's --dev-key default */
    e2e_sup_cfg cfg = {.devkey = devkey, .backend_port = E.sim.port,
                       .extra = {"--evidence", "tpm2", "--tpm-tcti", E.tpm.tcti, "--tpm-pcrs",
                                 "0,1", "--tpm-ak-cert", E.akcert, NULL}};
    CHECK(e2e_world_sup(&W, &E.sup, &cfg) == 0);
    e2e_url(E.url, "https", E.sup.port);
    e2e_world_path(&W, good, "good.json");
    e2e_world_path(&W, other, "other.json");
    CHECK(policy(good, E.ca_cert) == 0 && policy(other, E.other_cert) == 0);
    const char *a[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca,
                       "--attestation-policy", good, NULL};
    CHECK(run(NULL, a) == 0);
    CHECK(has(&E.out, "PASS     ak-certificate"));
    CHECK(has(&E.out, "SKIPPED  ak-name"));
    const char *b[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca,
                       "--attestation-policy", other, NULL};
    CHECK(run(NULL, b) == 4);
    const char *ask[] = {"ask", "--supervisor_url", E.url, "--cacert", W.ca,
                         "--attestation-policy", good, "--prompt", "hello", NULL};
    CHECK(run(NULL, ask) == 0);
    CHECK(has(&E.err, "verified: tpm2-quote evidence"));
}

static int setup(void)
{
    ms_buf key, cert, key2, cert2;
    e2e_world_path(&W, E.req, "enrol.req");
    e2e_world_path(&W, E.ch, "enrol.ch");
    e2e_world_path(&W, E.resp, "enrol.resp");
    e2e_world_path(&W, E.akcert, "ak.der");
    e2e_world_path(&W, E.ca_key, "akca.key");
    e2e_world_path(&W, E.ca_cert, "akca.pem");
    e2e_world_path(&W, E.other_cert, "other-ca.pem");
    int ok = snp_fx_ca_pem(snp_fx_p384_key(0), "AK CA", &key, &cert) &&
             snp_fx_ca_pem(snp_fx_p384_key(1), "Other CA", &key2, &cert2) &&
             write_buf(E.ca_key, &key) == 0 && write_buf(E.ca_cert, &cert) == 0 &&
             write_buf(E.other_cert, &cert2) == 0;
    ms_buf_free(&key);
    ms_buf_free(&cert);
    ms_buf_free(&key2);
    ms_buf_free(&cert2);
    snp_fx_keys_free();
    return ok && e2e_swtpm_start_ek(&E.tpm) == 0 &&
                   e2e_world_sim(&W, &E.sim, &(e2e_sim_cfg){0}) == 0
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_tpm_enrol_cli", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC,
                            argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    setenv("TSS2_LOG", "all+none", 1);
    ms_buf_init(&E.out, 1 << 20);
    ms_buf_init(&E.err, 1 << 20);
    if (e2e_world_script(&W, "{\"rules\":[],\"default\":\"a reply\"}\n") != 0 || setup() != 0) {
        fprintf(stderr, "test_tpm_enrol_cli: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_enrol);
        RUN(test_serve_and_pin);
    }
    CHECK(e2e_stop_all(&E.sup, &E.sim, NULL) == 0);
    e2e_swtpm_stop(&E.tpm);
    ms_buf_free(&E.out);
    ms_buf_free(&E.err);
    return e2e_world_close(&W, TEST_SUMMARY());
}

/*
 * End to end with NVIDIA GPU evidence: a supervisor with --evidence nvidia-gpu on the fake
 * NVML (two GPUs whose reports the fake signs over each handshake's nonce with test-made
 * keys), a client whose policy pins the test root and the measurements completes a turn;
 * a changed pinned measurement, or another GPU count, makes it refuse with nothing sent.
 * minions-secure attest discovers the evidence (--any-evidence --gpu-root) and prints a
 * nvidia_gpu policy section; under the policy it shows each GPU's checks.
 * Composite (docs/protocol.md §2.4): a supervisor with --evidence dev-key+nvidia-gpu serves
 * a client whose policy requires dev-key AND two GPUs; the same client refuses, with nothing
 * sent, a supervisor that serves one GPU, and a GPU item signed for another session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secure/attest/policy.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/nvgpu_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_NVML
#error "MS_FAKE_NVML must name the fake libnvidia-ml (tests/e2e/CMakeLists.txt)"
#endif

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX], nvml[PATH_MAX], root[PATH_MAX];
    nv_fx_chain gpu[2];
    e2e_stack st;
} E;

/* index 1 and 3 of the fake's reports (fill 16: value bytes 16 + index), one spoiled on request. */
static int write_policy(const char *path, int spoil, int count)
{
    char v1[97], v3[97];
    for (int i = 0; i < 48; i++) {
        snprintf(v1 + 2 * i, 3, "%02x", 17);
        snprintf(v3 + 2 * i, 3, "%02x", 19);
    }
    if (spoil) {
        v3[95] = '0';
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "{\"version\":1,\"accept\":[\"nvidia-gpu\"],\"nvidia_gpu\":{\"root_pem\":\"%s\","
               "\"count\":%d,\"measurements\":{\"1\":\"%s\",\"3\":\"%s\"},"
               "\"require_cc\":true,\"allow_debug\":false}}\n",
            E.root, count, v1, v3);
    return fclose(f) == 0 ? 0 : -1;
}

static long log_lines(void)
{
    return e2e_file_lines(E.log);
}

/* One client under the policy at `path`: connect, and a turn if the connection held. */
static ms_err run_client(const char *path, int strict, ms_buf *reply, uint16_t *ev_type)
{
    return e2e_client_turn(E.st.url, W.ca, path, strict,
                           "hello from a GPU-attested session", reply,
                           ev_type);
}

static void test_gpu_sessions(void)
{
    char pol[PATH_MAX];
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    e2e_path(pol, "%s/good.json", W.dir);
    CHECK(write_policy(pol, 0, 2) == 0);
    CHECK_OK(run_client(pol, 0, &reply, &type));
    CHECK(type == MS_EVIDENCE_NVIDIA_GPU);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "gpu reply"));
    /* STRICT: fresh GPU reports over this session's challenge. */
    ms_buf_clear(&reply);
    CHECK_OK(run_client(pol, 1, &reply, &type));

    long before = log_lines();
    ms_buf_clear(&reply);
    e2e_path(pol, "%s/meas.json", W.dir);
    CHECK(write_policy(pol, 1, 2) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_NVGPU_MEASUREMENT);
    e2e_path(pol, "%s/count.json", W.dir);
    CHECK(write_policy(pol, 0, 3) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_NVGPU_COUNT);
    CHECK(log_lines() == before); /* nothing reached the engine */
    ms_buf_free(&reply);
}

/* A composite policy: dev-key (the world's key) and `gpus` GPUs under the test root. */
static int write_composite_policy(const char *path, int gpus)
{
    char v1[97], v3[97];
    for (int i = 0; i < 48; i++) {
        snprintf(v1 + 2 * i, 3, "%02x", 17);
        snprintf(v3 + 2 * i, 3, "%02x", 19);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "{\"version\":1,\"accept\":[\"composite\"],"
               "\"dev_key\":{\"public_key_pem\":\"%s\"},"
               "\"nvidia_gpu\":{\"root_pem\":\"%s\",\"measurements\":{\"1\":\"%s\",\"3\":\"%s\"}},"
               "\"composite\":{\"require\":[{\"cpu\":\"dev-key\",\"gpus\":%d}]}}\n",
            W.devpub, E.root, v1, v3, gpus);
    return fclose(f) == 0 ? 0 : -1;
}

/* A supervisor with composite evidence over the shared engine; `gpus`: --gpus. */
static int composite_sup(e2e_server *s, const char *gpus)
{
    e2e_sup_cfg cfg = {.devkey = W.devkey,
                       .backend_port = E.st.sim.port,
                       .extra = {"--evidence", "dev-key+nvidia-gpu", "--gpus", gpus, "--nvml-lib",
                                 MS_FAKE_NVML, NULL}};
    return e2e_world_sup(&W, s, &cfg);
}

static void test_composite_sessions(void)
{
    char pol[PATH_MAX], stale[PATH_MAX];
    ms_buf reply;
    uint16_t type = 0;
    e2e_server two, one;
    memset(&two, 0, sizeof two);
    memset(&one, 0, sizeof one);
    ms_buf_init(&reply, 1 << 16);
    e2e_path(pol, "%s/composite.json", W.dir);
    CHECK(write_composite_policy(pol, 2) == 0);
    e2e_stack saved = E.st;
    if (composite_sup(&two, "all") != 0) {
        CHECK(!"composite supervisor");
        goto out;
    }
    snprintf(E.st.url, sizeof E.st.url, "https://127.0.0.1:%u", two.port);
    CHECK_OK(run_client(pol, 0, &reply, &type));
    CHECK(type == MS_EVIDENCE_COMPOSITE);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "gpu reply"));
    ms_buf_clear(&reply);
    CHECK_OK(run_client(pol, 1, &reply, &type)); /* STRICT: every item over this challenge */

    long before = log_lines();
    /* GPU 1 signs over another session's nonce: its own check fails, nothing is sent. */
    e2e_path(stale, "%s/gpu1.stale", E.nvml);
    CHECK(e2e_file_write(stale, "1") == 0);
    CHECK_ERR(run_client(pol, 1, &reply, &type), MS_ERR_NVGPU_NONCE);
    CHECK(unlink(stale) == 0);
    /* A policy that wants three GPUs, or one: this supervisor has two. */
    e2e_path(pol, "%s/composite3.json", W.dir);
    CHECK(write_composite_policy(pol, 3) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_COMPOSITE_MISSING);
    e2e_path(pol, "%s/composite1.json", W.dir);
    CHECK(write_composite_policy(pol, 1) == 0);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_COMPOSITE_COUNT);
    /* A supervisor that serves one GPU's item only, to the two-GPU policy. */
    if (composite_sup(&one, "0") != 0) {
        CHECK(!"one-GPU supervisor");
        goto out;
    }
    snprintf(E.st.url, sizeof E.st.url, "https://127.0.0.1:%u", one.port);
    e2e_path(pol, "%s/composite.json", W.dir);
    CHECK_ERR(run_client(pol, 0, &reply, &type), MS_ERR_COMPOSITE_MISSING);
    CHECK(log_lines() == before); /* nothing reached the engine */
out:
    E.st = saved;
    CHECK(e2e_server_stop(&two, 5000) == 0);
    CHECK(e2e_server_stop(&one, 5000) == 0);
    ms_buf_free(&reply);
}

static int has(const ms_buf *b, const char *needle)
{
    return e2e_buf_shows(b, needle);
}

static void test_attest_discovery(void)
{
    e2e_out r;
    char pol[PATH_MAX];
    const char *a[] = {"attest", "--supervisor_url", E.st.url, "--cacert", W.ca,
                       "--any-evidence", "--gpu-root", E.root, NULL};
    CHECK(e2e_world_run(&W, &(e2e_cmd){.timeout_ms = 60000}, a, &r) == 0);
    CHECK(has(&r.out, "gpu1           device 2222"));
    CHECK(has(&r.out, "PASS     gpu1 nonce"));
    CHECK(has(&r.out, "\"nvidia_gpu\": {"));
    CHECK(has(&r.out, "\"count\": 2"));
    CHECK(has(&r.out, "\"8\": \"181818"));
    e2e_out_free(&r);
    e2e_path(pol, "%s/good.json", W.dir);
    const char *b[] = {"attest", "--supervisor_url", E.st.url, "--cacert", W.ca,
                       "--attestation-policy", pol, NULL};
    CHECK(e2e_world_run(&W, &(e2e_cmd){.timeout_ms = 60000}, b, &r) == 0);
    CHECK(has(&r.out, "PASS     gpu0 measurements"));
    CHECK(has(&r.out, "PASS     gpus"));
    e2e_out_free(&r);
}

static int setup(void)
{
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    if (e2e_world_devkey(&W, "composite-dev.pem") != 0) {
        return -1;
    }
    e2e_world_path(&W, E.log, "engine.log");
    e2e_world_path(&W, E.nvml, "nvml");
    e2e_world_path(&W, E.root, "nvidia-root.pem");
    if (!nv_fx_fake_gpus(E.gpu, E.nvml, E.root)) {
        return -1;
    }
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"GPU-attested\",\"reply\":\"gpu reply\"}],"
                             "\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .extra = {"--evidence", "nvidia-gpu", "--gpus", "all", "--nvml-lib",
                                 MS_FAKE_NVML, NULL}};
    return e2e_world_stack(&W, &E.st, &(e2e_sim_cfg){.log = E.log}, &cfg);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_nvgpu_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC,
                            argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    if (setup() != 0) {
        fprintf(stderr, "test_nvgpu_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_gpu_sessions);
        RUN(test_composite_sessions);
        RUN(test_attest_discovery);
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    nv_fx_chain_free(&E.gpu[0]);
    nv_fx_chain_free(&E.gpu[1]);
    return e2e_world_close(&W, TEST_SUMMARY());
}

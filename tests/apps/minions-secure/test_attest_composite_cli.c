/*
 * minions-secure attest with composite evidence (docs/protocol.md §2.4), the real programs: a
 * supervisor with --evidence tpm2+nvidia-gpu on swtpm and the fake NVML (two test-made
 * GPUs). Live discovery shows the CPU TEE item's checks ("cpu ...") and each GPU's
 * ("gpu<i> ..."), and prints a policy pinning the TPM's AK and PCRs, the GPUs' measurements
 * and the combination together; that policy, saved as printed, admits the supervisor for a
 * turn. --verify of the saved evidence passes under it; one byte changed in the second GPU's
 * signed report FAILs that GPU's signature (the first GPU and the TPM item still PASS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/file.h"
#include "secure/attest/composite.h"
#include "secure/attest/evfile.h"
#include "secure/attest/policy.h"
#include "tests/fixture/swtpm.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/nvgpu_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_NVML
#error "MS_FAKE_NVML must name the fake libnvidia-ml (tests/apps/minions-secure/CMakeLists.txt)"
#endif

#define PCRS 0xffu
#define RUN_MS 120000

static e2e_world W;
static struct {
    char devkey[PATH_MAX], nvml[PATH_MAX], root[PATH_MAX], url[64];
    char policy[PATH_MAX], saved[PATH_MAX];
    e2e_swtpm tpm;
    ms_tpm2_policy enrolled;
    nv_fx_chain gpu[2];
    e2e_stack st;
    ms_buf out, err;
} E;

static int cli(const char *const *args)
{
    e2e_out r;
    int code = e2e_world_run(&W, &(e2e_cmd){.timeout_ms = RUN_MS}, args, &r);
    ms_buf_free(&E.out);
    ms_buf_free(&E.err);
    E.out = r.out; /* E owns them now */
    E.err = r.err;
    return code;
}

static int has(const ms_buf *b, const char *needle)
{
    return e2e_buf_shows(b, needle);
}

/* Discovery, the printed policy saved as is, then a turn under it. */
static void test_discover_round_trip(void)
{
    ms_attest_policy *p = malloc(sizeof *p); /* large: the measurement table */
    const char *a[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca, "--any-evidence",
                       "--gpu-root", E.root, "--save", E.saved, NULL};
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    CHECK(cli(a) == 0);
    CHECK(has(&E.out, "evidence       composite, FAST"));
    CHECK(has(&E.out, "items          tpm2-quote (checks \"cpu ...\") + 2 GPUs"));
    CHECK(has(&E.out, "PASS     format"));
    CHECK(has(&E.out, "PASS     items"));
    CHECK(has(&E.out, "SKIPPED  combination    nothing pinned"));
    CHECK(has(&E.out, "PASS     cpu signature"));
    CHECK(has(&E.out, "PASS     cpu nonce"));
    CHECK(has(&E.out, "SKIPPED  cpu ak-name    nothing pinned"));
    CHECK(has(&E.out, "PASS     gpu0 nonce"));
    CHECK(has(&E.out, "PASS     gpu1 signature"));
    CHECK(has(&E.out, "PASS     gpu1 chain"));
    CHECK(has(&E.out, "PASS     distinct"));
    CHECK(has(&E.out, "gpu1           device 2222"));
    CHECK(has(&E.out, "result: NOT TRUSTED"));
    const char *start = strstr((const char *)E.out.p, "\n{\n");
    CHECK(start != NULL);
    if (start == NULL) {
        free(p);
        return;
    }
    CHECK(e2e_file_write(E.policy, start + 1) == 0);
    ms_attest_policy_init(p);
    CHECK_OK(ms_attest_policy_load(p, E.policy));
    CHECK(p->n_accept == 1 && p->accept[0] == MS_EVIDENCE_COMPOSITE);
    CHECK(p->have_composite && p->n_composite == 1 &&
          p->composite[0].cpu == MS_EVIDENCE_TPM2_QUOTE && p->composite[0].gpus == 2);
    CHECK(p->have_tpm2 && p->tpm2.pcr_mask == PCRS);
    CHECK_MEM(p->tpm2.ak_name, E.enrolled.ak_name, MS_TPM2_NAME_LEN);
    CHECK_MEM(p->tpm2.pcr_values, E.enrolled.pcr_values, sizeof p->tpm2.pcr_values[0] * 8);
    CHECK(p->have_nvgpu && p->nvgpu.n_meas == 8 && p->nvgpu.require_cc && !p->nvgpu.allow_debug);
    ms_attest_policy_free(p);
    free(p);
    const char *ask[] = {"ask", "--supervisor_url", E.url, "--cacert", W.ca,
                         "--attestation-policy", E.policy, "--prompt", "hello composite-attested",
                         NULL};
    CHECK(cli(ask) == 0);
    CHECK(has(&E.out, "composite reply"));
    CHECK(has(&E.err, "verified: composite evidence"));
}

/* Live under the printed policy: every item's checks pass, the combination too. */
static void test_live_policy(void)
{
    const char *a[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca,
                       "--attestation-policy", E.policy, NULL};
    CHECK(cli(a) == 0);
    CHECK(has(&E.out, "PASS     accepted"));
    CHECK(has(&E.out, "PASS     combination    a combination of the policy's composite.require"));
    CHECK(has(&E.out, "PASS     cpu ak-name"));
    CHECK(has(&E.out, "PASS     cpu pcr-values"));
    CHECK(has(&E.out, "PASS     gpu0 measurements"));
    CHECK(has(&E.out, "PASS     gpu1 measurements"));
    CHECK(has(&E.out, "result: PASS"));
}

/* The saved file, offline: PASS; with one byte of GPU 1's signed report changed: FAIL there. */
static void test_verify_saved(void)
{
    ms_evfile f;
    ms_composite c;
    ms_buf text, was, now;
    char flipped[PATH_MAX];
    const char *v[] = {"attest", "--verify", E.saved, "--attestation-policy", E.policy, NULL};
    CHECK(cli(v) == 0);
    CHECK(has(&E.out, "PASS     binding        recomputed"));
    CHECK(has(&E.out, "PASS     cpu signature"));
    CHECK(has(&E.out, "PASS     gpu1 signature"));
    CHECK(has(&E.out, "result: PASS"));

    ms_evfile_init(&f);
    ms_buf_init(&text, MS_MAX_EVIDENCE_FILE);
    ms_buf_init(&was, 2 * MS_MAX_EVIDENCE + 1);
    ms_buf_init(&now, 2 * MS_MAX_EVIDENCE + 1);
    CHECK_OK(ms_file_read(E.saved, MS_MAX_EVIDENCE_FILE, &text));
    CHECK_OK(ms_evfile_parse(text.p, text.len, &f));
    CHECK(f.type == MS_EVIDENCE_COMPOSITE);
    CHECK_OK(ms_composite_decode(f.evidence.p, f.evidence.len, &c));
    CHECK(c.n == 3 && c.items[2].type == MS_EVIDENCE_NVIDIA_GPU && c.items[2].len > 64);
    if (c.n != 3 || c.items[2].len <= 64) {
        goto out;
    }
    CHECK_OK(ms_hex_encode_buf(f.evidence.p, f.evidence.len, &was));
    CHECK_OK(ms_buf_terminate(&was));
    /* Item: format, host flags, u16 report length, then the 37-byte SPDM request and the
       response's 8-byte header; then the first measurement block: 7 bytes of headers and
       its value (signed), whose third byte is changed. */
    size_t at = (size_t)(c.items[2].data - f.evidence.p) + 4 + 37 + 8 + 9;
    f.evidence.p[at] ^= 0x01;
    CHECK_OK(ms_hex_encode_buf(f.evidence.p, f.evidence.len, &now));
    CHECK(now.len == was.len);
    CHECK_OK(ms_buf_terminate(&text));
    char *hexpos = strstr((char *)text.p, (const char *)was.p);
    CHECK(hexpos != NULL);
    if (hexpos == NULL) {
        goto out;
    }
    memcpy(hexpos, now.p, now.len);
    e2e_path(flipped, "%s/flipped.json", W.dir);
    CHECK(e2e_file_write(flipped, (const char *)text.p) == 0);
    const char *b[] = {"attest", "--verify", flipped, "--attestation-policy", E.policy, NULL};
    CHECK(cli(b) == 4);
    CHECK(has(&E.out, "PASS     cpu signature"));
    CHECK(has(&E.out, "PASS     gpu0 signature"));
    CHECK(has(&E.out, "FAIL     gpu1 signature"));
    CHECK(has(&E.out, "MS_ERR_NVGPU_SIGNATURE"));
    CHECK(has(&E.out, "result: FAIL at \"gpu1 signature\""));
out:
    ms_evfile_free(&f);
    ms_buf_free(&text);
    ms_buf_free(&was);
    ms_buf_free(&now);
}

static int setup(void)
{
    if (e2e_swtpm_start(&E.tpm) != 0 || e2e_swtpm_enrol(&E.tpm, PCRS, &E.enrolled) != 0) {
        return -1;
    }
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.nvml, "nvml");
    e2e_world_path(&W, E.root, "nvidia-root.pem");
    e2e_world_path(&W, E.policy, "discovered.json");
    e2e_world_path(&W, E.saved, "evidence.json");
    if (!nv_fx_fake_gpus(E.gpu, E.nvml, E.root) ||
        e2e_world_script(&W, "{\"rules\":[{\"contains\":\"composite-attested\",\"reply\":"
                             "\"composite reply\"}],\"default\":\"no rule\"}\n") != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = E.devkey,
                       .extra = {"--evidence", "tpm2+nvidia-gpu", "--tpm-tcti", E.tpm.tcti,
                                 "--tpm-pcrs", "0,1,2,3,4,5,6,7", "--gpus", "all", "--nvml-lib",
                                 MS_FAKE_NVML, NULL}};
    if (e2e_world_stack(&W, &E.st, NULL, &cfg) != 0) {
        return -1;
    }
    snprintf(E.url, sizeof E.url, "%s", E.st.url);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_attest_composite_cli",
                            E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    setenv("TSS2_LOG", "all+none", 1);
    ms_buf_init(&E.out, 1 << 22);
    ms_buf_init(&E.err, 1 << 22);
    if (setup() != 0) {
        fprintf(stderr, "test_attest_composite_cli: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_discover_round_trip);
        RUN(test_live_policy);
        RUN(test_verify_saved);
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    e2e_swtpm_stop(&E.tpm);
    nv_fx_chain_free(&E.gpu[0]);
    nv_fx_chain_free(&E.gpu[1]);
    ms_buf_free(&E.out);
    ms_buf_free(&E.err);
    return e2e_world_close(&W, TEST_SUMMARY());
}

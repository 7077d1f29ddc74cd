/* bench-e2e's composite part: FAST handshakes with TPM + 2 fake-NVML GPUs evidence, against dev-key. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_e2e.h"
#include "secure/attest/policy.h"
#include "secure/client/client.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/stack.h"
#include "tests/secure/attest/nvgpu_fixture.h"

#ifndef MS_FAKE_NVML
#error "MS_FAKE_NVML must name the fake libnvidia-ml (bench/CMakeLists.txt)"
#endif

#define GPUS 2
/* The fake NVML's made reports: 8 measurement blocks, index i holding 48 bytes of 16 + i. */
#define FAKE_BLOCKS 8
#define FAKE_FILL 16

static struct {
    nv_fx_chain gpu[GPUS];
    char nvml[PATH_MAX], root[PATH_MAX], policy[PATH_MAX];
    e2e_server sup;
} C;

/* composite requiring tpm2-quote and 2 GPUs; the TPM's AK and PCRs, every GPU measurement. */
static int write_policy(void)
{
    FILE *f = fopen(C.policy, "w");
    int ok = f != NULL && fprintf(f, "{\"version\":1,\"accept\":[\"composite\"],") > 0 &&
             bench_tpm_section(f) == 0 &&
             fprintf(f, ",\"nvidia_gpu\":{\"root_pem\":\"%s\",\"measurements\":{", C.root) > 0;
    for (int i = 1; ok && i <= FAKE_BLOCKS; i++) {
        ok = fprintf(f, "%s\"%d\":\"", i > 1 ? "," : "", i) > 0;
        for (int j = 0; ok && j < 48; j++) {
            ok = fprintf(f, "%02x", FAKE_FILL + i) > 0;
        }
        ok = ok && fputc('"', f) != EOF;
    }
    ok = ok && fprintf(f, "},\"require_cc\":true,\"allow_debug\":false},"
                          "\"composite\":{\"require\":[{\"cpu\":\"tpm2-quote\",\"gpus\":%d}]}}\n",
                       GPUS) > 0;
    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

int bench_comp_start(const char *dir)
{
    e2e_path(C.nvml, "%s/nvml", dir);
    e2e_path(C.root, "%s/nvidia-root.pem", dir);
    e2e_path(C.policy, "%s/composite.json", dir);
    if (!nv_fx_fake_gpus(C.gpu, C.nvml, C.root) || write_policy() != 0) {
        fprintf(stderr, "bench-e2e: the composite set-up (GPU chains, policy) failed\n");
        return -1;
    }
    return 0;
}

void bench_comp_stop(void)
{
    e2e_server_stop(&C.sup, 5000);
    for (int i = 0; i < GPUS; i++) {
        nv_fx_chain_free(&C.gpu[i]);
    }
}

/*
 * Per round: dev-key and composite FAST back to back, ABBA. Every handshake is verified by
 * the client: the dev key pinned, or the composite under the policy (the FAST cache
 * recognising evidence it verified in full once, as for every type).
 */
int bench_comp_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res)
{
    ms_client *dev = NULL, *comp = NULL;
    ms_attest_policy *pol = malloc(sizeof *pol); /* large: the measurement table */
    const char *const ev[] = {"--evidence", "tpm2+nvidia-gpu", "--tpm-tcti", bench_tpm_tcti(),
                              "--tpm-pcrs", BENCH_TPM_PCR_LIST, "--gpus", "all",
                              "--nvml-lib", MS_FAKE_NVML, NULL};
    char url[64];
    int rc = -1;
    ms_client_cfg dc = {.url = env->dev_url, .cacert = env->ca, .pinned_dev_pk = env->dev_pk};
    if (pol == NULL) {
        return -1;
    }
    ms_attest_policy_init(pol);
    if (bench_sup_start(o, env, &C.sup, ev, url) != 0 || ms_client_new(&dev, &dc) != MS_OK ||
        bench_policy_client(&comp, pol, env->ca, url, C.policy, 0, MS_EVIDENCE_COMPOSITE,
                            "composite") != 0 ||
        bench_hs_round(dev, 0.1, &res->hs_comp_dev[0]) != 0 ||
        bench_hs_round(comp, 0.1, &res->hs_comp_fast[0]) != 0) {
        fprintf(stderr, "bench-e2e: composite handshake set-up failed (supervisor log %s)\n",
                C.sup.out);
        goto out;
    }
    for (unsigned r = 0; r < o->hs_rounds; r++) {
        if (bench_hs_abba(dev, comp, r, o->tpm_secs, &res->hs_comp_dev[r],
                          &res->hs_comp_fast[r]) != 0) {
            goto out;
        }
    }
    res->comp_done = 1;
    rc = 0;
out:
    ms_client_free(dev);
    ms_client_free(comp);
    ms_attest_policy_free(pol);
    free(pol);
    if (e2e_server_stop(&C.sup, 5000) != 0 && rc == 0) {
        fprintf(stderr, "bench-e2e: the composite supervisor did not exit cleanly (log %s)\n",
                C.sup.out);
        rc = -1;
    }
    return rc;
}

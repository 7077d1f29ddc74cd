/* bench-e2e's TDX part: FAST handshakes with --evidence tdx on the fake configfs-tsm, against dev-key. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench_e2e.h"
#include "secure/attest/policy.h"
#include "secure/client/client.h"
#include "tests/fixture/faketsm.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/stack.h"
#include "tests/secure/attest/tdx_fixture.h"

#ifndef MS_FAKE_TSM
#error "MS_FAKE_TSM must name tests/tools/fake-tsm (bench/CMakeLists.txt)"
#endif

static struct {
    tdx_fx_platform td; /* chain, collateral, fake-tsm's configuration in <dir> */
    e2e_faketsm tsm;
    char policy[PATH_MAX];
    char skipped[256]; /* why nothing is measured, when so */
    e2e_server sup;
    int made;
} X;

int bench_tdx_start(const char *dir)
{
    e2e_path(X.policy, "%s/tdx-fast.json", dir);
    X.made = tdx_fx_platform_make(&X.td, dir);
    if (!X.made || !tdx_fx_platform_policy(&X.td, X.policy, TDX_FX_SPOIL_NONE)) {
        fprintf(stderr, "bench-e2e: the test-made TD platform could not be written in %s\n", dir);
        return -1;
    }
    int rc = e2e_faketsm_start(&X.tsm, MS_FAKE_TSM, dir, "tsm", "tdx_guest", X.td.config,
                               X.skipped);
    if (rc == 1) {
        fprintf(stderr, "bench-e2e: TDX not measured: %s\n", X.skipped);
    }
    return rc;
}

void bench_tdx_stop(void)
{
    e2e_server_stop(&X.sup, 5000);
    (void)e2e_faketsm_stop(&X.tsm);
    if (X.made) {
        tdx_fx_platform_free(&X.td);
        X.made = 0;
    }
}

const char *bench_tdx_skipped(void)
{
    return X.skipped[0] ? X.skipped : NULL;
}

/*
 * Per round: dev-key and TDX FAST back to back, ABBA. Every handshake is verified by the
 * client: the dev key pinned, or the TDX policy (the test root, MRTD, RTMR0..3, collateral,
 * CRLs, the binding): in full once per static key, then recognised by the FAST cache.
 */
int bench_tdx_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res)
{
    ms_client *dev = NULL, *fast = NULL;
    ms_attest_policy pf;
    const char *const ev[] = {"--evidence", "tdx", "--tdx-tsm", X.tsm.mnt, "--tdx-collateral",
                              X.td.coll, NULL};
    char url[64];
    int rc = -1;
    ms_client_cfg dc = {.url = env->dev_url, .cacert = env->ca, .pinned_dev_pk = env->dev_pk};
    if (X.tsm.proc.pid <= 0) {
        return 0; /* not measurable here (bench_tdx_skipped) */
    }
    ms_attest_policy_init(&pf);
    if (bench_sup_start(o, env, &X.sup, ev, url) != 0 || ms_client_new(&dev, &dc) != MS_OK ||
        bench_policy_client(&fast, &pf, env->ca, url, X.policy, 0, MS_EVIDENCE_TDX, "TDX") != 0 ||
        bench_hs_round(dev, 0.1, &res->hs_tdx_dev[0]) != 0 ||
        bench_hs_round(fast, 0.1, &res->hs_tdx_fast[0]) != 0) {
        fprintf(stderr, "bench-e2e: TDX handshake set-up failed (supervisor log %s)\n", X.sup.out);
        goto out;
    }
    for (unsigned r = 0; r < o->hs_rounds; r++) {
        if (bench_hs_abba(dev, fast, r, o->tpm_secs, &res->hs_tdx_dev[r], &res->hs_tdx_fast[r]) !=
            0) {
            goto out;
        }
    }
    res->tdx_done = 1;
    rc = 0;
out:
    ms_client_free(dev);
    ms_client_free(fast);
    ms_attest_policy_free(&pf);
    if (e2e_server_stop(&X.sup, 5000) != 0 && rc == 0) {
        fprintf(stderr, "bench-e2e: the TDX supervisor did not exit cleanly (log %s)\n", X.sup.out);
        rc = -1;
    }
    return rc;
}

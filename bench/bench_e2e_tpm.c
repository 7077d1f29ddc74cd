/*
 * bench-e2e's TPM part: handshakes with --evidence tpm2 on swtpm, FAST against dev-key, and
 * STRICT; then the same with --evidence az-snp-vtpm on that swtpm behind the hcl-paravisor
 * stand-in (tests/tools/hcl-paravisor: the Azure paravisor's report regeneration), and with
 * --evidence az-tdx-vtpm behind hcl-paravisor --tdx (TD reports, its TD quote service).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench_e2e.h"
#include "common/codec.h"
#include "secure/attest/policy.h"
#include "secure/attest/tpm2_producer.h"
#include "secure/client/client.h"
#include "tests/fixture/swtpm.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/stack.h"

#define PCR_MASK 0xffu              /* PCRs 0-7, as a deployment would quote */
#define PCR_LIST BENCH_TPM_PCR_LIST
/*
 * The bench measures what a quote costs, not the supervisor's limit on fresh evidence
 * (--strict-rate, a few per second by default): the limit is lifted far above what a
 * swtpm can reach.
 */
#define STRICT_RATE_UNLIMITED "1000000"
#define STRICT_UNLIMITED "--strict-rate", STRICT_RATE_UNLIMITED, "--strict-burst", STRICT_RATE_UNLIMITED

static struct {
    e2e_swtpm tpm;
    ms_tpm2_policy enrolled;
    char fast[PATH_MAX], strict[PATH_MAX]; /* policy files */
    e2e_server sup;
    e2e_hcl_paravisor hcl;                       /* az-snp-vtpm: in front of tpm */
    char az_fast[PATH_MAX], az_strict[PATH_MAX]; /* its policy files */
    char aztdx_skipped[256];                     /* why az-tdx-vtpm was not measured */
} T;

/* The policy's "tpm2" section: the enrolled AK name and PCR values. */
int bench_tpm_section(FILE *f)
{
    char hex[2 * (MS_TPM2_NAME_LEN > MS_TPM2_DIGEST_LEN ? MS_TPM2_NAME_LEN : MS_TPM2_DIGEST_LEN) + 1];
    size_t n;
    int ok = ms_hex_encode(T.enrolled.ak_name, MS_TPM2_NAME_LEN, hex, sizeof hex, &n) == MS_OK &&
             fprintf(f, "\"tpm2\":{\"ak_name\":\"%s\",\"pcrs\":{", hex) > 0;
    for (unsigned i = 0, first = 1; ok && i < MS_TPM2_NUM_PCRS; i++) {
        if (PCR_MASK & (1u << i)) {
            ok = ms_hex_encode(T.enrolled.pcr_values[i], MS_TPM2_DIGEST_LEN, hex, sizeof hex,
                               &n) == MS_OK &&
                 fprintf(f, "%s\"%u\":\"%s\"", first ? "" : ",", i, hex) > 0;
            first = 0;
        }
    }
    return ok && fprintf(f, "}}") > 0 ? 0 : -1;
}

const char *bench_tpm_tcti(void)
{
    return T.tpm.tcti;
}

/* A client policy from the enrolled AK name and PCR values, FAST or STRICT. */
static int write_policy(const char *path, int strict)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && fprintf(f, "{\"version\":1,\"accept\":[\"tpm2-quote\"],"
                                     "\"require_strict\":%s,",
                                  strict ? "true" : "false") > 0;
    ok = ok && bench_tpm_section(f) == 0 && fprintf(f, "}\n") > 0;
    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* Enrolment, before the supervisor opens the TPM (swtpm serves one connection at a time). */
int bench_tpm_start(const char *dir)
{
    setenv("TSS2_LOG", "all+none", 1); /* the TSS logs failed probes; the supervisor inherits it */
    e2e_path(T.fast, "%s/tpm-fast.json", dir);
    e2e_path(T.strict, "%s/tpm-strict.json", dir);
    if (e2e_swtpm_start(&T.tpm) != 0 || e2e_swtpm_enrol(&T.tpm, PCR_MASK, &T.enrolled) != 0 || write_policy(T.fast, 0) != 0 ||
        write_policy(T.strict, 1) != 0) {
        fprintf(stderr, "bench-e2e: swtpm start or enrolment failed\n");
        return -1;
    }
    return 0;
}

void bench_tpm_stop(void)
{
    e2e_server_stop(&T.sup, 5000);
    e2e_hcl_paravisor_stop(&T.hcl);
    e2e_swtpm_stop(&T.tpm);
}

int bench_policy_client(ms_client **c, ms_attest_policy *pol, const char *ca, const char *url,
                        const char *path, int strict, unsigned type, const char *what)
{
    ms_client_peer peer;
    ms_client_cfg cfg = {.url = url, .cacert = ca, .policy = pol, .strict = strict};
    ms_err e = ms_attest_policy_load(pol, path);
    if (e == MS_OK) {
        e = ms_client_new(c, &cfg);
    }
    if (e == MS_OK) {
        e = ms_client_connect(*c);
    }
    if (e != MS_OK) {
        fprintf(stderr, "bench-e2e: %s %s client: %s %s\n", what, strict ? "STRICT" : "FAST",
                ms_err_name(e), pol->why);
        return -1;
    }
    ms_client_peer_info(*c, &peer);
    if (peer.evidence_type != type ||
        peer.evidence_mode != (strict ? MS_MODE_STRICT : MS_MODE_FAST)) {
        fprintf(stderr, "bench-e2e: %s %s client got evidence type %u mode %u\n", what,
                strict ? "STRICT" : "FAST", peer.evidence_type, peer.evidence_mode);
        return -1;
    }
    return 0;
}

int bench_sup_start(const bench_opts *o, const bench_tpm_env *env, e2e_server *s,
                    const char *const *args, char url[static 64])
{
    e2e_sup_cfg cfg = {.bin = o->sup_bin, .dir = env->dir, .cert = env->cert, .key = env->key,
                       .devkey = env->devkey, .backend_port = env->backend_port,
                       .extra = {"--max-sessions", "200000"}};
    for (int i = 0, k = 2; args[i] != NULL && k < E2E_MAX_EXTRA_ARGS; i++, k++) {
        cfg.extra[k] = args[i];
    }
    if (e2e_sup_start(s, &cfg) != 0) {
        return -1;
    }
    snprintf(url, 64, "https://127.0.0.1:%u", s->port);
    return 0;
}

/*
 * Per round: dev-key and FAST back to back, in ABBA order so neither side always runs
 * first, then STRICT, against the supervisor at url (the dev-key one at env->dev_url).
 * Every handshake is verified by the client: the dev key pinned, or the policy files'
 * evidence of `type` in full. Stops the supervisor.
 */
static int measure(const bench_opts *o, const bench_tpm_env *env, const char *url,
                   const char *fast_path, const char *strict_path, uint16_t type, const char *what,
                   double *hs_dev, double *hs_fast, double *hs_strict)
{
    ms_client *dev = NULL, *fast = NULL, *strict = NULL;
    ms_attest_policy pf, ps;
    int rc = -1;
    ms_client_cfg dc = {.url = env->dev_url, .cacert = env->ca, .pinned_dev_pk = env->dev_pk};
    int with_strict = !bench_hs_profiling(); /* a profile is of FAST handshakes */
    ms_attest_policy_init(&pf);
    ms_attest_policy_init(&ps);
    if (ms_client_new(&dev, &dc) != MS_OK ||
        bench_policy_client(&fast, &pf, env->ca, url, fast_path, 0, type, what) != 0 ||
        (with_strict &&
         bench_policy_client(&strict, &ps, env->ca, url, strict_path, 1, type, what) != 0) ||
        bench_hs_round(dev, 0.1, &hs_dev[0]) != 0 || bench_hs_round(fast, 0.1, &hs_fast[0]) != 0 ||
        (with_strict && bench_hs_round(strict, 0.1, &hs_strict[0]) != 0)) {
        fprintf(stderr, "bench-e2e: %s handshake set-up failed (supervisor log %s)\n", what,
                T.sup.out);
        goto out;
    }
    for (unsigned r = 0; r < o->hs_rounds; r++) {
        if (bench_hs_abba(dev, fast, r, o->tpm_secs, &hs_dev[r], &hs_fast[r]) != 0 ||
            (with_strict && bench_hs_round(strict, o->tpm_secs, &hs_strict[r]) != 0)) {
            goto out;
        }
    }
    rc = 0;
out:
    ms_client_free(dev);
    ms_client_free(fast);
    ms_client_free(strict);
    ms_attest_policy_free(&pf);
    ms_attest_policy_free(&ps);
    if (e2e_server_stop(&T.sup, 5000) != 0 && rc == 0) {
        fprintf(stderr, "bench-e2e: the %s supervisor did not exit cleanly (log %s)\n", what,
                T.sup.out);
        rc = -1;
    }
    return rc;
}

int bench_tpm_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res)
{
    const char *const ev[] = {STRICT_UNLIMITED, "--evidence", "tpm2", "--tpm-tcti", T.tpm.tcti, "--tpm-pcrs",
                              PCR_LIST, NULL};
    char url[64];
    if (bench_sup_start(o, env, &T.sup, ev, url) != 0 ||
        measure(o, env, url, T.fast, T.strict, MS_EVIDENCE_TPM2_QUOTE, "TPM", res->hs_dev,
                res->hs_tpm_fast, res->hs_tpm_strict) != 0) {
        return -1;
    }
    res->tpm_done = 1;
    return 0;
}

/*
 * az-snp-vtpm: the stand-in paravisor in front of the same swtpm (free again: the tpm2
 * supervisor has stopped), policies pinning its test ARK, measurement, TCB and PCRs 0-7.
 */
int bench_az_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res)
{
    char dir[PATH_MAX], url[64];
    e2e_az_pins pins = {.mask = PCR_MASK};
    e2e_path(dir, "%s/az", env->dir);
    e2e_path(T.az_fast, "%s/az-fast.json", env->dir);
    e2e_path(T.az_strict, "%s/az-strict.json", env->dir);
    if (mkdir(dir, 0700) != 0 || e2e_hcl_paravisor_start(&T.hcl, o->hcl_bin, &T.tpm, dir) != 0 ||
        e2e_hcl_paravisor_pcrs(&T.hcl, &pins) != 0 ||
        e2e_az_policy_write(&T.hcl, &pins, T.az_fast) != 0) {
        fprintf(stderr, "bench-e2e: the hcl-paravisor stand-in (%s) did not start\n", o->hcl_bin);
        return -1;
    }
    pins.strict = 1;
    const char *const ev[] = {STRICT_UNLIMITED, "--evidence", "az-snp-vtpm", "--tpm-tcti", T.hcl.tcti,
                              "--tpm-pcrs", PCR_LIST, "--snp-certs", T.hcl.certs, NULL};
    if (e2e_az_policy_write(&T.hcl, &pins, T.az_strict) != 0 ||
        bench_sup_start(o, env, &T.sup, ev, url) != 0 ||
        measure(o, env, url, T.az_fast, T.az_strict, MS_EVIDENCE_AZ_SNP_VTPM, "az-snp-vtpm",
                res->hs_az_dev,
                res->hs_az_fast, res->hs_az_strict) != 0) {
        return -1;
    }
    res->az_done = 1;
    return e2e_hcl_paravisor_stop(&T.hcl) == 0 ? 0 : -1;
}

const char *bench_aztdx_skipped(void)
{
    return T.aztdx_skipped[0] ? T.aztdx_skipped : NULL;
}

/*
 * az-tdx-vtpm: hcl-paravisor --tdx in front of the same swtpm (free again), its stand-in TD
 * quote service, a supervisor serving the test platform's collateral; policies pinning the
 * test "Intel" root, MRTD, RTMR0..3 and PCRs 0-7.
 */
int bench_aztdx_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res)
{
    char dir[PATH_MAX], url[64];
    e2e_az_pins pins = {.mask = PCR_MASK};
    e2e_path(dir, "%s/az-tdx", env->dir);
    e2e_path(T.az_fast, "%s/aztdx-fast.json", env->dir);
    e2e_path(T.az_strict, "%s/aztdx-strict.json", env->dir);
    if (access(o->hcl_bin, X_OK) != 0) {
        snprintf(T.aztdx_skipped, sizeof T.aztdx_skipped, "the hcl-paravisor stand-in is not "
                                                          "built");
        fprintf(stderr, "bench-e2e: az-tdx-vtpm not measured: %s\n", T.aztdx_skipped);
        return 0;
    }
    if (mkdir(dir, 0700) != 0 || e2e_hcl_paravisor_start_tdx(&T.hcl, o->hcl_bin, &T.tpm, dir) != 0 ||
        e2e_hcl_paravisor_pcrs(&T.hcl, &pins) != 0 ||
        e2e_az_policy_write(&T.hcl, &pins, T.az_fast) != 0) {
        snprintf(T.aztdx_skipped, sizeof T.aztdx_skipped, "hcl-paravisor --tdx did not start");
        fprintf(stderr, "bench-e2e: az-tdx-vtpm not measured: %s (log %s/hcl-paravisor.log)\n",
                T.aztdx_skipped, dir);
        e2e_hcl_paravisor_stop(&T.hcl);
        return 0;
    }
    pins.strict = 1;
    const char *const ev[] = {STRICT_UNLIMITED, "--evidence", "az-tdx-vtpm", "--tpm-tcti", T.hcl.tcti,
                              "--tpm-pcrs", PCR_LIST, "--tdx-collateral", T.hcl.collateral,
                              "--az-tdquote-url", T.hcl.tdquote_url, NULL};
    if (e2e_az_policy_write(&T.hcl, &pins, T.az_strict) != 0 ||
        bench_sup_start(o, env, &T.sup, ev, url) != 0 ||
        measure(o, env, url, T.az_fast, T.az_strict, MS_EVIDENCE_AZ_TDX_VTPM, "az-tdx-vtpm",
                res->hs_aztdx_dev, res->hs_aztdx_fast, res->hs_aztdx_strict) != 0) {
        return -1;
    }
    res->aztdx_done = 1;
    return e2e_hcl_paravisor_stop(&T.hcl) == 0 ? 0 : -1;
}

/*
 * End to end with Azure CVM evidence, one file for both kinds (ctest test_az_e2e: snp,
 * test_az_tdx_e2e: tdx). A supervisor process runs unchanged, as on Azure, on a swtpm
 * provisioned like an Azure vTPM behind tests/tools/hcl-paravisor (the paravisor stood in: a
 * TPM command proxy that answers each write of user data to NV 0x01400002 with a fresh HCL
 * report in 0x01400001), tests/fixture/swtpm.h's e2e_az.
 *   snp: --evidence az-snp-vtpm; the HCL report holds an SEV-SNP report signed by a
 *        test-made SEV-SNP chain. The client pins the test ARK, the measurement, the minimum
 *        TCB and the vTPM's PCRs.
 *   tdx: --evidence az-tdx-vtpm (hcl-paravisor --tdx): the HCL report holds a TD report of a
 *        test TD platform (REPORTDATA = SHA-256(variable data)), and Azure's TD quote
 *        service is stood in by the same program (a TDX quote of the TD report it is given,
 *        signed by the test PCK chain); the supervisor serves the platform's collateral
 *        (--tdx-collateral). The client pins the test "Intel" root, MRTD, RTMR0..3 and the
 *        vTPM's PCRs. First, the quote service down, answering garbage or quoting another
 *        TD: the supervisor refuses to start, naming the cause.
 * Both: the client completes a turn (FAST and STRICT); a changed pin (a PCR, the measurement
 * or MRTD, FAST and STRICT) is refused with nothing sent to the engine.
 *
 * Usage: test_az_e2e SUPERVISOR LLM-SIM SOURCE-DIR snp|tdx
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "secure/suite.h"
#include "tests/fixture/http_fixture.h"
#include "tests/fixture/swtpm.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#ifndef MS_HCL_PARAVISOR
#error "MS_HCL_PARAVISOR must name tests/tools/hcl-paravisor (tests/e2e/CMakeLists.txt)"
#endif

#define PCRS 0x81u   /* 0 and 7: firmware and Secure Boot state */
#define EXIT_START 3 /* minions-supervisor: start-up failed (apps/minions-supervisor/opts.h) */

/* What differs between the two kinds. */
typedef struct kind {
    const char *name;
    int tdx;
    uint16_t type;
    const char *prompt, *reply;
    ms_err measurement; /* the refusal of a changed measurement (SNP) or MRTD (TDX) */
} kind;

static const kind KINDS[] = {
    {"snp", 0, MS_EVIDENCE_AZ_SNP_VTPM, "hello from an Azure CVM session", "azure reply",
     MS_ERR_SNP_MEASUREMENT},
    {"tdx", 1, MS_EVIDENCE_AZ_TDX_VTPM, "hello from an Azure TDX session", "tdx reply",
     MS_ERR_TDX_MRTD},
};

static e2e_world W;
static struct {
    const kind *k;
    char devkey[PATH_MAX], log[PATH_MAX];
    e2e_az az;
    e2e_stack st;
} E;

/* A turn under a policy pinning E.az, as changed by p (strict, spoil_*). */
static ms_err turn(const char *name, e2e_az_pins p, ms_buf *reply, uint16_t *type)
{
    return e2e_az_turn(&E.az, &W, E.st.url, name, &p, E.k->prompt, reply, type);
}

static void test_sessions(void)
{
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    CHECK_OK(turn("good", (e2e_az_pins){0}, &reply, &type));
    CHECK(type == E.k->type);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, E.k->reply));
    /* STRICT: a fresh HCL report (and TD quote) and vTPM quote over this session's
       challenge. */
    ms_buf_clear(&reply);
    CHECK_OK(turn("strict", (e2e_az_pins){.strict = 1}, &reply, &type));
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, E.k->reply));

    /* One pinned value changed: refused at the handshake, nothing reaches the engine. */
    long before = e2e_file_lines(E.log);
    CHECK(before == 2);
    ms_buf_clear(&reply);
    CHECK_ERR(turn("pcr", (e2e_az_pins){.spoil_pcr = 1}, &reply, &type), MS_ERR_TPM_PCR_VALUE);
    CHECK_ERR(turn("measurement", (e2e_az_pins){.spoil_measurement = 1}, &reply, &type),
              E.k->measurement);
    CHECK_ERR(turn("strict-pcr", (e2e_az_pins){.strict = 1, .spoil_pcr = 1}, &reply, &type),
              MS_ERR_TPM_PCR_VALUE);
    CHECK_ERR(turn("strict-measurement", (e2e_az_pins){.strict = 1, .spoil_measurement = 1},
                   &reply, &type),
              E.k->measurement);
    CHECK(reply.len == 0);
    CHECK(e2e_file_lines(E.log) == before);
    /* The unchanged policy still works: the refusals were the pins, not the supervisor. */
    CHECK_OK(turn("again", (e2e_az_pins){0}, &reply, &type));
    ms_buf_free(&reply);
}

/* TDX: a supervisor with the quote service at `url` must refuse to start, naming `cause`. */
static void refuses(const char *url, const char *cause)
{
    e2e_out r;
    e2e_cmd cmd = {.bin = W.sup_bin, .timeout_ms = 60000};
    int code = e2e_world_runl(&W, &cmd, &r, "--listen", "127.0.0.1:0", "--plain-http",
                              "--backend-url", "http://127.0.0.1:9/v1", "--backend-model", "m",
                              "--dev-key", E.devkey, "--evidence", "az-tdx-vtpm", "--tpm-tcti",
                              E.az.hcl.tcti, "--tpm-pcrs", E.az.pcr_list, "--tdx-collateral",
                              E.az.hcl.collateral, "--az-tdquote-url", url, NULL);
    CHECK(code == EXIT_START);
    CHECK(strstr((const char *)r.err.p, "--evidence az-tdx-vtpm: no evidence") != NULL);
    CHECK(strstr((const char *)r.err.p, cause) != NULL);
    if (code != EXIT_START || strstr((const char *)r.err.p, cause) == NULL) {
        fprintf(stderr, "  %s: exit %d, stderr:\n%s\n", url, code, (const char *)r.err.p);
    }
    e2e_out_free(&r);
}

/* Before the stack opens the vTPM (swtpm serves one connection at a time). */
static void test_quote_service_refusals(void)
{
    char url[160];
    const char *base = strstr(E.az.hcl.tdquote_url, "/acc/tdquote");
    CHECK(base != NULL);
    if (base == NULL) {
        return;
    }
    int host = (int)(base - E.az.hcl.tdquote_url);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/acc/tdquote", fx_closed_port());
    refuses(url, ms_err_str(MS_ERR_HTTP_CONNECT));
    snprintf(url, sizeof url, "%.*s/garbage/acc/tdquote", host, E.az.hcl.tdquote_url);
    refuses(url, ms_err_str(MS_ERR_AZ_TDQUOTE_RESPONSE));
    snprintf(url, sizeof url, "%.*s/other-td/acc/tdquote", host, E.az.hcl.tdquote_url);
    refuses(url, ms_err_str(MS_ERR_AZ_TD_MISMATCH));
    snprintf(url, sizeof url, "%.*s/missing/acc/tdquote", host, E.az.hcl.tdquote_url);
    refuses(url, ms_err_str(MS_ERR_AZ_TDQUOTE_STATUS));
    /* plain http to a routable address: the URL policy refuses before any traffic */
    refuses("http://192.0.2.1/acc/tdquote", ms_err_str(MS_ERR_HTTP_INSECURE));
}

static int setup(void)
{
    char script[256];
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    snprintf(script, sizeof script,
             "{\"rules\":[{\"contains\":\"%s\",\"reply\":\"%s\"}],\"default\":\"no rule\"}\n",
             E.k->prompt, E.k->reply);
    if (e2e_az_start(&E.az, MS_HCL_PARAVISOR, E.k->tdx, PCRS, W.dir) != 0 ||
        e2e_world_script(&W, script) != 0) {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc == 5 ? argv[4] : "";
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        E.k = strcmp(mode, KINDS[i].name) == 0 ? &KINDS[i] : E.k;
    }
    if (E.k == NULL) {
        fprintf(stderr, "usage: test_az_e2e SUPERVISOR LLM-SIM SOURCE-DIR snp|tdx\n");
        return 2;
    }
    int rc = e2e_world_open(&W, E.k->tdx ? "test_az_tdx_e2e" : "test_az_e2e",
                            E2E_SUP | E2E_SIM | E2E_SRC, argc - 1, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    setenv("TSS2_LOG", "all+none", 1);
    if (setup() != 0) {
        fprintf(stderr, "test_az_e2e %s: set-up failed (see %s)\n", E.k->name, W.dir);
        CHECK(0);
    } else {
        if (E.k->tdx) {
            RUN(test_quote_service_refusals);
        }
        if (e2e_az_stack(&E.az, &W, &E.st, &(e2e_sim_cfg){.log = E.log}, E.devkey) != 0) {
            fprintf(stderr, "test_az_e2e %s: the stack did not start (see %s)\n", E.k->name,
                    W.dir);
            CHECK(0);
        } else {
            RUN(test_sessions);
        }
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    CHECK(e2e_az_stop(&E.az) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

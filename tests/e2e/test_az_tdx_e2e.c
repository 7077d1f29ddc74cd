/*
 * End to end with Azure TDX CVM evidence (az-tdx-vtpm): a supervisor process with
 * --evidence az-tdx-vtpm on a swtpm provisioned like an Azure vTPM, behind
 * tests/tools/hcl-paravisor --tdx (the paravisor stood in: each write of user data to NV
 * 0x01400002 is answered with an HCL report holding a TD report of a test TD platform,
 * REPORTDATA = SHA-256(variable data)), and Azure's TD quote service stood in by the same
 * program (a TDX quote of the TD report it is given, signed by the test PCK chain). The
 * supervisor serves the platform's collateral (--tdx-collateral). A client whose policy pins
 * the test "Intel" root, MRTD, RTMR0..3 and the vTPM's PCRs completes a turn (FAST and
 * STRICT); a changed pin (MRTD, a PCR) is refused with nothing sent to the engine. The
 * quote service down, answering garbage or quoting another TD: the supervisor refuses to
 * start, naming the cause.
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

#define PCRS 0x81u   /* 0 and 7 */
#define EXIT_START 3 /* minions-supervisor: start-up failed (apps/minions-supervisor/opts.h) */

static e2e_world W;
static struct {
    char devkey[PATH_MAX], log[PATH_MAX];
    e2e_az az;
    e2e_stack st;
} E;

#define PROMPT "hello from an Azure TDX session"

/* A turn under a policy pinning E.az, as changed by p (strict, spoil_*). */
static ms_err turn(const char *name, e2e_az_pins p, ms_buf *reply, uint16_t *type)
{
    return e2e_az_turn(&E.az, &W, E.st.url, name, &p, PROMPT, reply, type);
}

static void test_sessions(void)
{
    ms_buf reply;
    uint16_t type = 0;
    ms_buf_init(&reply, 1 << 16);
    CHECK_OK(turn("good", (e2e_az_pins){0}, &reply, &type));
    CHECK(type == MS_EVIDENCE_AZ_TDX_VTPM);
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "tdx reply"));
    /* STRICT: a fresh HCL report, TD quote and vTPM quote over this session's challenge. */
    ms_buf_clear(&reply);
    CHECK_OK(turn("strict", (e2e_az_pins){.strict = 1}, &reply, &type));
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, "tdx reply"));

    /* One pinned value changed: refused at the handshake, nothing reaches the engine. */
    long before = e2e_file_lines(E.log);
    CHECK(before == 2);
    ms_buf_clear(&reply);
    CHECK_ERR(turn("mrtd", (e2e_az_pins){.spoil_measurement = 1}, &reply, &type), MS_ERR_TDX_MRTD);
    CHECK_ERR(turn("pcr", (e2e_az_pins){.spoil_pcr = 1}, &reply, &type), MS_ERR_TPM_PCR_VALUE);
    CHECK_ERR(turn("strict-mrtd", (e2e_az_pins){.strict = 1, .spoil_measurement = 1}, &reply,
                   &type),
              MS_ERR_TDX_MRTD);
    CHECK(reply.len == 0);
    CHECK(e2e_file_lines(E.log) == before);
    CHECK_OK(turn("again", (e2e_az_pins){0}, &reply, &type));
    ms_buf_free(&reply);
}

/* A supervisor with the quote service at `url`: it must refuse to start, naming `cause`. */
static void refuses(const char *url, const char *cause)
{
    e2e_out r;
    e2e_cmd cmd = {.bin = W.sup_bin, .timeout_ms = 60000};
    int code = e2e_world_runl(&W, &cmd, &r, "--listen", "127.0.0.1:0", "--plain-http",
                              "--backend-url", "http://127.0.0.1:9/v1", "--backend-model", "m",
                              "--dev-key", E.devkey, "--evidence", "az-tdx-vtpm", "--tpm-tcti",
                              E.az.hcl.tcti, "--tpm-pcrs", "0,7", "--tdx-collateral",
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
    e2e_world_path(&W, E.devkey, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    if (e2e_az_start(&E.az, MS_HCL_PARAVISOR, 1, PCRS, W.dir) != 0) {
        return -1;
    }
    return e2e_world_script(&W, "{\"rules\":[{\"contains\":\"Azure TDX\",\"reply\":\"tdx "
                                "reply\"}],\"default\":\"no rule\"}\n");
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_az_tdx_e2e", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    setenv("TSS2_LOG", "all+none", 1);
    if (setup() != 0) {
        fprintf(stderr, "test_az_tdx_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_quote_service_refusals);
        if (e2e_az_stack(&E.az, &W, &E.st, &(e2e_sim_cfg){.log = E.log}, E.devkey) !=
            0) {
            fprintf(stderr, "test_az_tdx_e2e: the stack did not start (see %s)\n", W.dir);
            CHECK(0);
        } else {
            RUN(test_sessions);
        }
    }
    CHECK(e2e_stack_stop(&E.st) == 0); /* clean exits: no sanitizer report */
    CHECK(e2e_az_stop(&E.az) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

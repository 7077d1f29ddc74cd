/*
 * az-snp-vtpm producer against swtpm provisioned like an Azure vTPM: an RSA AK persisted at
 * 0x81000003 and an HCL report in NV 0x01400001. A swtpm has no paravisor, so the test plays
 * it: the producer's hook (between its NV write of B and its NV read of the report) reads
 * 0x01400002 and writes a fresh report whose variable data holds HCLAkPub = that AK and
 * user-data = what was read, signed by a test VCEK chain. The binding is then proved end to
 * end: the client's verifier accepts the bundle only for the B the producer was asked for.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "secure/attest/az.h"
#include "secure/attest/az_produce.h"
#include "secure/attest/producer.h"
#include <unistd.h>
#include "secure/attest/tpm2_esys.h"
#include "tests/fixture/http_fixture.h"
#include "tests/fixture/swtpm.h"
#include "tests/secure/attest/az_fixture.h"
#include "tests/secure/attest/tpm2_tpm.h"
#include "tests/test.h"

#define MASK 0x81u /* PCRs 0 and 7 */

static struct {
    e2e_swtpm sw;
    tpm2_conn c;               /* the test's (the "paravisor's") connection */
    EVP_PKEY *ak;              /* the persisted AK's public key */
    snp_fx_chain chain;
    int paravisor_on;          /* the hook regenerates the report */
    tdx_fx_platform *tdx;      /* the hook writes TDX HCL reports of this platform */
    int reports;               /* reports made by the hook */
    ms_az_policy policy;
} T;

/* Azure's paravisor, for one request: the report for the user data now in 0x01400002. */
static void paravisor(void *ctx)
{
    (void)ctx;
    if (!T.paravisor_on) {
        return;
    }
    ms_buf ud, var, hcl;
    ms_buf_init(&ud, 1024);
    ms_buf_init(&var, MS_AZ_MAX_VAR_DATA);
    ms_buf_init(&hcl, MS_AZ_MAX_HCL);
    int ok = ms_tpm2_esys_nv_read(T.c.esys, MS_AZ_NV_USER_DATA, 1024, &ud) == MS_OK &&
             ud.len == MS_AZ_USER_DATA_LEN &&
             az_fx_var_data(&var, T.ak, NULL, ud.p, NULL) &&
             (T.tdx != NULL ? az_fx_tdx_hcl(&hcl, T.tdx, var.p, var.len)
                            : az_fx_snp_hcl(&hcl, T.chain.vcek_key, NULL, var.p, var.len)) &&
             ms_tpm2_esys_nv_write(T.c.esys, MS_AZ_NV_HCL_REPORT, hcl.p, hcl.len, 0) == MS_OK;
    CHECK(ok);
    T.reports += ok;
    ms_buf_free(&ud);
    ms_buf_free(&var);
    ms_buf_free(&hcl);
}

/* The AK at 0x81000003 and an empty 2048-byte report index, as Azure provisions them. */
static int provision(void)
{
    return az_fx_provision(&T.c, &T.ak) ? 0 : -1;
}

static int setup(void)
{
    snp_fx_vcek_opts vo;
    snp_fx_report_opts ro;
    uint8_t values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n = 0;
    setenv("TSS2_LOG", "all+none", 0);
    snp_fx_vcek_opts_default(&vo);
    snp_fx_report_opts_default(&ro);
    if (e2e_swtpm_start(&T.sw) != 0 || tpm2_conn_open(&T.c, T.sw.tcti) != 0 ||
        !snp_fx_chain_make(&T.chain, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo,
                           48, 0) ||
        ms_tpm2_esys_read_pcrs(T.c.esys, MASK, values, &n) != MS_OK || n != 2) {
        return -1;
    }
    T.policy.snp.ark_der = T.chain.ark.p;
    T.policy.snp.ark_len = T.chain.ark.len;
    memcpy(T.policy.snp.measurement, ro.measurement, MS_SNP_MEASUREMENT_LEN);
    T.policy.snp.min_tcb = (ms_snp_tcb){.bootloader = 3, .snp = 8, .microcode = 115};
    T.policy.pcrs.pcr_mask = MASK;
    memcpy(T.policy.pcrs.pcr_values[0], values, 32);
    memcpy(T.policy.pcrs.pcr_values[7], values + 32, 32);
    return 0;
}

static ms_err open_producer(struct ms_az_producer **p)
{
    ms_az_producer_cfg cfg = {.tcti = T.sw.tcti, .pcr_mask = MASK, .vcek = T.chain.vcek.p,
                              .vcek_len = T.chain.vcek.len, .ask = T.chain.ask.p,
                              .ask_len = T.chain.ask.len};
    ms_err e = ms_az_producer_new(p, &cfg);
    if (e == MS_OK) {
        ms_az_producer_set_after_write(*p, paravisor, NULL);
    }
    return e;
}

static void binding_fill(uint8_t b[MS_BINDING_LEN], uint8_t seed)
{
    for (size_t i = 0; i < MS_BINDING_LEN; i++) {
        b[i] = (uint8_t)(seed * 31u + i);
    }
}

/* Before provisioning there is no AK: the producer refuses to start. */
static void test_no_ak(void)
{
    struct ms_az_producer *p = NULL;
    CHECK_ERR(open_producer(&p), MS_ERR_TPM_DEVICE);
    CHECK(p == NULL);
    ms_az_producer_cfg bad = {.tcti = T.sw.tcti, .pcr_mask = 0, .vcek = T.chain.vcek.p,
                              .vcek_len = T.chain.vcek.len};
    CHECK_ERR(ms_az_producer_new(&p, &bad), MS_ERR_ARG);
}

static void test_produce_verify(void)
{
    struct ms_az_producer *p = NULL;
    uint8_t b1[MS_BINDING_LEN], b2[MS_BINDING_LEN];
    ms_buf ev1, ev2;
    binding_fill(b1, 1);
    binding_fill(b2, 2);
    ms_buf_init(&ev1, MS_AZ_MAX_BUNDLE);
    ms_buf_init(&ev2, MS_AZ_MAX_BUNDLE);
    CHECK_OK(open_producer(&p));
    T.paravisor_on = 1;
    CHECK_OK(ms_az_producer_evidence(p, b1, &ev1));
    CHECK_OK(ms_az_snp_verify(&T.policy, ev1.p, ev1.len, b1));
    /* Another session's B: the report and the quote were made for b1. */
    CHECK_ERR(ms_az_snp_verify(&T.policy, ev1.p, ev1.len, b2), MS_ERR_AZ_USER_DATA);
    /* A second request makes a second report, for its own B. */
    CHECK_OK(ms_az_producer_evidence(p, b2, &ev2));
    CHECK_OK(ms_az_snp_verify(&T.policy, ev2.p, ev2.len, b2));
    CHECK(T.reports == 2);
    /* A host whose paravisor does not take B (the report still carries b2): refused at once. */
    T.paravisor_on = 0;
    size_t before = ev1.len;
    CHECK_ERR(ms_az_producer_evidence(p, b1, &ev1), MS_ERR_AZ_USER_DATA);
    CHECK(ev1.len == before);
    T.paravisor_on = 1;
    /* A PCR the client pins changes: the next evidence is refused by the client. */
    CHECK(tpm2_pcr_extend(&T.c, 7, 0x42) == 0);
    ms_buf_clear(&ev1);
    CHECK_OK(ms_az_producer_evidence(p, b1, &ev1));
    CHECK_ERR(ms_az_snp_verify(&T.policy, ev1.p, ev1.len, b1), MS_ERR_TPM_PCR_VALUE);
    ms_az_producer_free(p);
    ms_buf_free(&ev1);
    ms_buf_free(&ev2);
}

static int write_file(const char *path, const ms_buf *b)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(b->p, 1, b->len, f) == b->len;
    return f && fclose(f) == 0 && ok;
}

/*
 * minions-supervisor --evidence az-snp-vtpm: ms_producer_open with the certificates folder
 * makes one evidence over an all-zero B at start (a host without a paravisor fails there),
 * and says what clients pin. Here the paravisor (the hook cannot reach inside ms_producer)
 * is stood in by a report made in advance for that all-zero B.
 */
static void test_producer_kind(void)
{
    char dir[] = "/tmp/ms-test-azp-XXXXXX", vcek[64], ask[64];
    static const uint8_t zero[MS_BINDING_LEN];
    struct ms_producer *p = NULL;
    ms_producer_pins pins;
    ms_producer_step step;
    ms_producer_kind kind;
    ms_buf ev;
    CHECK_OK(ms_producer_kind_parse("az-snp-vtpm", &kind));
    CHECK(kind == MS_PRODUCER_AZ_SNP_VTPM);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(vcek, sizeof vcek, "%s/vcek.der", dir);
    snprintf(ask, sizeof ask, "%s/ask.der", dir);
    CHECK(write_file(vcek, &T.chain.vcek) && write_file(ask, &T.chain.ask));
    ms_producer_cfg cfg = {.kind = kind, .tpm_tcti = T.sw.tcti, .tpm_pcrs = MASK, .snp_certs = NULL};
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_CONFIG);
    CHECK(step == MS_PRODUCER_STEP_SNP_CERTS);
    cfg.snp_certs = dir;
    /* The report in NV is for the last B written (not zero): the probe fails, and says so. */
    T.paravisor_on = 0;
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_AZ_USER_DATA);
    CHECK(step == MS_PRODUCER_STEP_AZ_REPORT && p == NULL);
    /* The paravisor's answer for B = 0 in place: the supervisor starts. */
    T.paravisor_on = 1;
    CHECK_OK(ms_tpm2_esys_nv_write(T.c.esys, MS_AZ_NV_USER_DATA, zero, sizeof zero, 0));
    paravisor(NULL);
    CHECK_OK(ms_producer_open(&p, &cfg, &pins, &step));
    CHECK(p != NULL && pins.snp_known && pins.snp_has_ask && pins.snp_reported_tcb.snp == 8);
    CHECK(memcmp(pins.snp_measurement, T.policy.snp.measurement, MS_SNP_MEASUREMENT_LEN) == 0);
    CHECK(p != NULL && ms_producer_type(p) == MS_EVIDENCE_AZ_SNP_VTPM);
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK(p != NULL && ms_producer_make(p, zero, &ev) == MS_OK);
    ms_az_policy now = T.policy; /* PCR 7 was extended by test_produce_verify */
    uint8_t values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n = 0;
    CHECK_OK(ms_tpm2_esys_read_pcrs(T.c.esys, MASK, values, &n));
    memcpy(now.pcrs.pcr_values[7], values + 32, 32);
    CHECK_OK(ms_az_snp_verify(&now, ev.p, ev.len, zero));
    ms_buf_free(&ev);
    ms_producer_free(p);
    unlink(vcek);
    unlink(ask);
    rmdir(dir);
}

/* Azure's TD quote service in-process: ctx says whether it quotes another TD. */
static int quote_service(void *ctx, const char *req, size_t len, unsigned *status, char **body,
                         size_t *body_len)
{
    ms_buf out;
    ms_buf_init(&out, MS_AZ_MAX_TDQUOTE_RESPONSE);
    int ok = T.tdx != NULL && az_fx_tdquote_answer(T.tdx, req, len, ctx != NULL, &out);
    *status = ok ? 200 : 400;
    *body = ok ? malloc(out.len) : NULL;
    if (*body != NULL) {
        memcpy(*body, out.p, out.len);
        *body_len = out.len;
    }
    ms_buf_free(&out);
    return 0;
}

/*
 * az-tdx-vtpm: the same vTPM, the hook writing TDX HCL reports of a test TD platform, the
 * quote service in-process; the bundle verifies (ms_az_tdx_verify) for its B only; a quote
 * of another TD, an SNP report, a service that is down or answers garbage: refused.
 */
static void test_tdx_produce(void)
{
    static const fx_route routes[] = {
        {.path = "/acc/tdquote", .respond = quote_service},
        {.path = "/other/acc/tdquote", .respond = quote_service, .respond_ctx = (void *)1},
        {.path = "/garbage/acc/tdquote", .body = "{\"quote\":7}"},
    };
    char dir[] = "/tmp/ms-test-aztdx-XXXXXX", url[128];
    uint8_t b1[MS_BINDING_LEN], b2[MS_BINDING_LEN];
    tdx_fx_platform plat;
    ms_tdx_files files;
    struct ms_az_producer *p = NULL;
    ms_buf ev;
    binding_fill(b1, 3);
    binding_fill(b2, 4);
    ms_tdx_files_init(&files);
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK(mkdtemp(dir) != NULL);
    CHECK(tdx_fx_platform_make(&plat, dir));
    CHECK_OK(ms_tdx_files_load(&files, plat.coll));
    fx_server *s = fx_start(routes, sizeof routes / sizeof routes[0]);
    CHECK(s != NULL);
    if (s == NULL) {
        return;
    }
    ms_az_policy pol = T.policy;
    uint8_t values[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n = 0;
    CHECK_OK(ms_tpm2_esys_read_pcrs(T.c.esys, MASK, values, &n));
    memcpy(pol.pcrs.pcr_values[0], values, 32);
    memcpy(pol.pcrs.pcr_values[7], values + 32, 32);
    pol.tdx.root_der = plat.chain.root.p;
    pol.tdx.root_len = plat.chain.root.len;
    pol.tdx.have_mrtd = 1;
    memcpy(pol.tdx.mrtd, plat.qo.mrtd, sizeof pol.tdx.mrtd);
    ms_az_producer_cfg cfg = {.tcti = T.sw.tcti, .pcr_mask = MASK, .tdx = 1, .tdquote_url = url,
                              .collateral = &files};
    /* a vcek with tdx: refused */
    ms_az_producer_cfg bad = cfg;
    bad.vcek = T.chain.vcek.p;
    bad.vcek_len = T.chain.vcek.len;
    CHECK_ERR(ms_az_producer_new(&p, &bad), MS_ERR_ARG);
    const struct {
        const char *path;
        int tdx_report;
        ms_err want;
    } cases[] = {
        {"/acc/tdquote", 1, MS_OK},
        {"/other/acc/tdquote", 1, MS_ERR_AZ_TD_MISMATCH},
        {"/garbage/acc/tdquote", 1, MS_ERR_AZ_TDQUOTE_RESPONSE},
        {"/none/acc/tdquote", 1, MS_ERR_AZ_TDQUOTE_STATUS},
        {"/acc/tdquote", 0, MS_ERR_AZ_REPORT_TYPE}, /* the paravisor made an SNP report */
    };
    T.paravisor_on = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%u%s", fx_port(s), cases[i].path);
        T.tdx = cases[i].tdx_report ? &plat : NULL;
        CHECK_OK(ms_az_producer_new(&p, &cfg));
        if (p == NULL) {
            continue;
        }
        ms_az_producer_set_after_write(p, paravisor, NULL);
        ms_buf_clear(&ev);
        CHECK_ERR(ms_az_producer_evidence(p, b1, &ev), cases[i].want);
        CHECK(cases[i].want == MS_OK || ev.len == 0);
        if (cases[i].want == MS_OK) {
            CHECK(ev.len > 0 && ev.p[0] == MS_AZ_TDX_BUNDLE_FORMAT);
            CHECK_OK(ms_az_tdx_verify(&pol, ev.p, ev.len, b1));
            CHECK_ERR(ms_az_tdx_verify(&pol, ev.p, ev.len, b2), MS_ERR_AZ_USER_DATA);
            ms_az_policy other = pol;
            other.tdx.mrtd[0] ^= 1;
            CHECK_ERR(ms_az_tdx_verify(&other, ev.p, ev.len, b1), MS_ERR_TDX_MRTD);
            CHECK_ERR(ms_az_snp_verify(&pol, ev.p, ev.len, b1), MS_ERR_AZ_BUNDLE);
        }
        ms_az_producer_free(p);
        p = NULL;
    }
    T.tdx = NULL;
    fx_stop(s);
    /* down: nothing listens */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/acc/tdquote", fx_closed_port());
    T.tdx = &plat;
    CHECK_OK(ms_az_producer_new(&p, &cfg));
    if (p != NULL) {
        ms_az_producer_set_after_write(p, paravisor, NULL);
        CHECK_ERR(ms_az_producer_evidence(p, b1, &ev), MS_ERR_HTTP_CONNECT);
        ms_az_producer_free(p);
    }
    T.tdx = NULL;
    ms_tdx_files_free(&files);
    tdx_fx_platform_free(&plat);
    ms_buf_free(&ev);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    if (setup() != 0) {
        fprintf(stderr, "test_az_produce: set-up failed (swtpm in PATH?)\n");
        CHECK(0);
    } else {
        RUN(test_no_ak);
        CHECK(provision() == 0);
        RUN(test_produce_verify);
        RUN(test_producer_kind);
        RUN(test_tdx_produce);
    }
    EVP_PKEY_free(T.ak);
    snp_fx_chain_free(&T.chain);
    tpm2_conn_close(&T.c);
    e2e_swtpm_stop(&T.sw);
    az_fx_keys_free();
    snp_fx_keys_free();
    return TEST_SUMMARY();
}

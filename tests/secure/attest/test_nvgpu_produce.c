/* NVIDIA GPU producer tests: NVML by dlopen, against the fake NVML (real-vector and signing modes). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secure/attest/nvgpu_produce.h"
#include "tests/fixture/proc.h"
#include "tests/secure/attest/nvgpu_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_NVML
#error "MS_FAKE_NVML must name the fake libnvidia-ml (tests/secure/attest/CMakeLists.txt)"
#endif

static char dir[PATH_MAX];
static ms_nvgpu_checks chk;

static void put(const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(e2e_file_write(path, text) == 0);
}

static void put_bytes(const char *name, const uint8_t *p, size_t n)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(p, 1, n, f) == n);
    if (f != NULL) {
        fclose(f);
    }
}

static void test_gpus_parse(void)
{
    ms_nvgpu_gpus g;
    CHECK_OK(ms_nvgpu_gpus_parse("all", &g));
    CHECK(g.all);
    CHECK_OK(ms_nvgpu_gpus_parse("0,2,7", &g));
    CHECK(!g.all && g.n == 3 && g.idx[2] == 7);
    const char *bad[] = {"", "ALL", "0,", ",0", "1,1", "64", "a", "0,1,2,3,4,5,6,7,8", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ERR(ms_nvgpu_gpus_parse(bad[i], &g), MS_ERR_CONFIG);
    }
}

static void test_missing_library(void)
{
    struct ms_nvgpu_producer *p;
    ms_nvgpu_gpus g;
    char why[256];
    CHECK_OK(ms_nvgpu_gpus_parse("all", &g));
    CHECK_ERR(ms_nvgpu_producer_open(&p, "/nonexistent/libnvidia-ml.so.1", &g, why, sizeof why),
              MS_ERR_NVGPU_NVML);
    CHECK(p == NULL && strstr(why, "/nonexistent/libnvidia-ml.so.1") != NULL);
    /* A library without NVML's functions. */
    CHECK_ERR(ms_nvgpu_producer_open(&p, "libc.so.6", &g, why, sizeof why), MS_ERR_NVGPU_NVML);
    CHECK(strstr(why, "libc.so.6") != NULL);
}

static void test_real_vector_mode(void)
{
    nv_fx_real real;
    struct ms_nvgpu_producer *p = NULL;
    ms_nvgpu_gpus g;
    char why[256], hex[2 * MS_NVGPU_MAX_REPORT + 1];
    uint8_t binding[MS_BINDING_LEN];
    ms_buf ev;
    CHECK(nv_fx_real_load(&real));
    for (size_t i = 0; i < real.report.len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", real.report.p[i]);
    }
    put("gpu0.hex", hex);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/nvidia-h100/gpu_ak_cert_chain.pem", MS_TESTDATA_DIR);
    ms_buf pem;
    ms_buf_init(&pem, 64 * 1024);
    CHECK(e2e_file_read(path, &pem) == 0);
    put_bytes("gpu0.pem", pem.p, pem.len);
    ms_buf_free(&pem);
    put("count", "1");
    CHECK_OK(ms_nvgpu_gpus_parse("all", &g));
    CHECK_OK(ms_nvgpu_producer_open(&p, MS_FAKE_NVML, &g, why, sizeof why));
    CHECK(ms_nvgpu_producer_count(p) == 1);
    memset(binding, 7, sizeof binding);
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_nvgpu_producer_make(p, binding, &ev));
    ms_nvgpu_evidence e;
    CHECK_OK(ms_nvgpu_evidence_decode(ev.p, ev.len, &e));
    CHECK(e.n == 1);
    ms_nvgpu_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.root_der = real.ders.p + real.off[real.n - 1];
    pol.root_len = real.len[real.n - 1];
    pol.require_cc = 1;
    CHECK_OK(ms_nvgpu_verify_checks(&pol, e.item[0], e.item_len[0], NULL, NV_FX_REAL_AT, 0, &chk));
    CHECK(strcmp(chk.cc_source, "host") == 0);
    /* Live, the vector's nonce is not this binding. */
    CHECK_ERR(ms_nvgpu_verify_evidence(&pol, ev.p, ev.len, binding, NV_FX_REAL_AT),
              MS_ERR_NVGPU_NONCE);
    ms_buf_free(&ev);
    ms_nvgpu_producer_free(p);
    nv_fx_real_free(&real);
    put("gpu0.hex", ""); /* an empty file: the next tests sign instead (see below) */
}

static void test_signing_mode(void)
{
    nv_fx_chain a, b;
    struct ms_nvgpu_producer *p = NULL;
    ms_nvgpu_gpus g;
    char why[256], path[PATH_MAX + 64];
    uint8_t binding[MS_BINDING_LEN];
    ms_buf ev;
    char hexp[PATH_MAX + 64];
    snprintf(hexp, sizeof hexp, "%s/gpu0.hex", dir);
    remove(hexp);
    CHECK(nv_fx_chain_make(&a, 0xA1, 0xA1));
    CHECK(nv_fx_chain_make_under(&b, a.root_key, 0xB2, 0xB2));
    const nv_fx_chain *ch[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/gpu%d.key", dir, i);
        CHECK(nv_fx_write_key(ch[i]->leaf_key, path));
        snprintf(path, sizeof path, "%s/gpu%d.pem", dir, i);
        CHECK(nv_fx_write_chain_pem(ch[i], path));
    }
    put("count", "2");
    put("cc", "1");
    CHECK_OK(ms_nvgpu_gpus_parse("0,1", &g));
    CHECK_OK(ms_nvgpu_producer_open(&p, MS_FAKE_NVML, &g, why, sizeof why));
    for (size_t i = 0; i < sizeof binding; i++) {
        binding[i] = (uint8_t)(i * 3 + 1);
    }
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_nvgpu_producer_make(p, binding, &ev));
    ms_nvgpu_policy pol;
    ms_nvgpu_meas m = {.index = 2, .len = 48};
    memset(m.value, 16 + 2, 48);
    memset(&pol, 0, sizeof pol);
    pol.root_der = a.der.p + a.off[2];
    pol.root_len = a.len[2];
    pol.meas = &m;
    pol.n_meas = 1;
    pol.count = 2;
    pol.require_cc = 1;
    uint64_t now = (uint64_t)time(NULL);
    CHECK_OK(ms_nvgpu_verify_evidence(&pol, ev.p, ev.len, binding, now));
    binding[5] ^= 1; /* another session */
    CHECK_ERR(ms_nvgpu_verify_evidence(&pol, ev.p, ev.len, binding, now), MS_ERR_NVGPU_NONCE);
    binding[5] ^= 1;
    /* Dev-tools mode on: the made reports carry no debug field; the host state says so. */
    put("devtools", "1");
    ms_buf_clear(&ev);
    CHECK_OK(ms_nvgpu_producer_make(p, binding, &ev));
    CHECK_ERR(ms_nvgpu_verify_evidence(&pol, ev.p, ev.len, binding, now), MS_ERR_NVGPU_DEBUG);
    put("devtools", "0");
    /* Other measurements. */
    put("fill", "32");
    ms_buf_clear(&ev);
    CHECK_OK(ms_nvgpu_producer_make(p, binding, &ev));
    CHECK_ERR(ms_nvgpu_verify_evidence(&pol, ev.p, ev.len, binding, now),
              MS_ERR_NVGPU_MEASUREMENT);
    put("fill", "16");
    ms_nvgpu_producer_free(p);
    /* An index NVML does not have. */
    CHECK_OK(ms_nvgpu_gpus_parse("0,5", &g));
    CHECK_ERR(ms_nvgpu_producer_open(&p, MS_FAKE_NVML, &g, why, sizeof why), MS_ERR_CONFIG);
    ms_buf_free(&ev);
    nv_fx_chain_free(&a);
    nv_fx_chain_free(&b);
}

int main(void)
{
    if (e2e_tmpdir_new("nvml", dir) != 0 || setenv("MS_FAKE_NVML_DIR", dir, 1) != 0) {
        fprintf(stderr, "test_nvgpu_produce: no temporary directory\n");
        return 1;
    }
    RUN(test_gpus_parse);
    RUN(test_missing_library);
    RUN(test_real_vector_mode);
    RUN(test_signing_mode);
    e2e_tmpdir_remove(dir);
    return TEST_SUMMARY();
}

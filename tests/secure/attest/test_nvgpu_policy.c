/* The policy's nvidia_gpu section: its fields, its refusals (each naming the field), and dispatch. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secure/attest/policy.h"
#include "tests/fixture/proc.h"
#include "tests/secure/attest/nvgpu_fixture.h"
#include "tests/test.h"

static char dir[PATH_MAX];
static nv_fx_chain fx;
static char m1[2 * 48 + 1]; /* index 1 of a report made with fill 0x10 */

static ms_err parse(ms_attest_policy *p, const char *json)
{
    ms_attest_policy_free(p);
    ms_attest_policy_init(p);
    return ms_attest_policy_parse(p, (const uint8_t *)json, strlen(json), dir);
}

static void test_good(void)
{
    static ms_attest_policy p;
    char json[1024];
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"nvidia-gpu\"],\"nvidia_gpu\":{\"root_pem\":\"root.pem\","
             "\"count\":1,\"measurements\":{\"1\":\"%s\",\"254\":\"00ff\"},\"allow_debug\":true}}",
             m1);
    ms_attest_policy_init(&p);
    CHECK_OK(parse(&p, json));
    CHECK(p.have_nvgpu && p.nvgpu.count == 1 && p.nvgpu.n_meas == 2);
    CHECK(p.nvgpu.require_cc == 1 && p.nvgpu.allow_debug == 1); /* require_cc defaults on */
    CHECK(p.nvgpu.meas[1].index == 254 && p.nvgpu.meas[1].len == 2 &&
          p.nvgpu.meas[1].value[1] == 0xff);
    CHECK(p.nvgpu.root_len == fx.len[2] && memcmp(p.nvgpu.root_der, fx.der.p + fx.off[2],
                                                   fx.len[2]) == 0);
    ms_attest_policy_free(&p);
}

/* The template with "@M" replaced by the index-1 measurement. */
static void subst(char *out, size_t cap, const char *tmpl)
{
    size_t n = 0;
    for (const char *t = tmpl; *t != '\0' && n + 1 < cap; t++) {
        if (t[0] == '@' && t[1] == 'M') {
            n += (size_t)snprintf(out + n, cap - n, "%s", m1);
            t++;
        } else {
            out[n++] = *t;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
}

static void test_refusals(void)
{
    static ms_attest_policy p;
    char json[1024];
    struct {
        const char *section;
        const char *why_has;
    } cases[] = {
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"1\":\"@M\"},\"colour\":1",
         "nvidia_gpu: unknown field"},
        {"\"root_pem\":\"nope.pem\",\"measurements\":{\"1\":\"@M\"}", "nvidia_gpu.root_pem"},
        {"\"measurements\":{\"1\":\"@M\"}", "nvidia_gpu.root_pem"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"0\":\"@M\"}", "nvidia_gpu.measurements"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"255\":\"@M\"}",
         "nvidia_gpu.measurements"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"01\":\"@M\"}", "nvidia_gpu.measurements"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"1\":\"@Mx\"}",
         "nvidia_gpu.measurements.1"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{}", "pin at least one"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"1\":\"@M\"},\"count\":9",
         "nvidia_gpu.count"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"1\":\"@M\"},\"require_cc\":\"yes\"",
         "nvidia_gpu.require_cc"},
        {"\"root_pem\":\"root.pem\",\"measurements\":{\"1\":\"@M\"},\"allow_debug\":1",
         "nvidia_gpu.allow_debug"},
    };
    ms_attest_policy_init(&p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char section[512];
        subst(section, sizeof section, cases[i].section);
        snprintf(json, sizeof json,
                 "{\"version\":1,\"accept\":[\"nvidia-gpu\"],\"nvidia_gpu\":{%s}}", section);
        CHECK(parse(&p, json) != MS_OK);
        if (!strstr(p.why, cases[i].why_has)) {
            fprintf(stderr, "  case %zu: why = \"%s\"\n", i, p.why);
            CHECK(0);
        }
    }
    CHECK(parse(&p, "{\"version\":1,\"accept\":[\"nvidia-gpu\"]}") != MS_OK &&
          strstr(p.why, "no nvidia_gpu section"));
    ms_attest_policy_free(&p);
}

static void test_dispatch(void)
{
    static ms_attest_policy p;
    char json[1024];
    uint8_t b[MS_BINDING_LEN];
    ms_buf item, ev;
    memset(b, 0x5c, sizeof b);
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"nvidia-gpu\"],\"nvidia_gpu\":{\"root_pem\":\"root.pem\","
             "\"count\":1,\"measurements\":{\"1\":\"%s\"}}}",
             m1);
    ms_attest_policy_init(&p);
    CHECK_OK(parse(&p, json));
    CHECK(nv_fx_made_item(&item, &fx, b, 4, 0x10, 0, MS_NVGPU_HOST_CC_ON));
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_nvgpu_evidence_begin(1, &ev));
    CHECK_OK(ms_nvgpu_evidence_add(item.p, item.len, &ev));
    uint64_t now = (uint64_t)time(NULL);
    ms_evidence_view v = {.type = MS_EVIDENCE_NVIDIA_GPU, .mode = MS_MODE_FAST, .data = ev.p,
                          .len = ev.len, .not_after = now + 60, .now = now, .binding = b};
    CHECK_OK(ms_attest_policy_verify(&p, &v));
    b[1] ^= 1;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_NVGPU_NONCE);
    b[1] ^= 1;
    p.nv_meas[0].value[0] ^= 1;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_NVGPU_MEASUREMENT);
    p.nv_meas[0].value[0] ^= 1;
    v.type = MS_EVIDENCE_SEV_SNP;
    CHECK_ERR(ms_attest_policy_verify(&p, &v), MS_ERR_ATTEST_POLICY);
    CHECK(strcmp(ms_evidence_type_name(MS_EVIDENCE_NVIDIA_GPU), "nvidia-gpu") == 0);
    ms_buf_free(&ev);
    ms_buf_free(&item);
    ms_attest_policy_free(&p);
}

int main(void)
{
    char path[PATH_MAX + 16];
    if (e2e_tmpdir_new("nvpolicy", dir) != 0 || !nv_fx_chain_make(&fx, 0xD1, 0xD1)) {
        return 1;
    }
    snprintf(path, sizeof path, "%s/root.pem", dir);
    if (!nv_fx_write_root_pem(&fx, path)) {
        return 1;
    }
    for (size_t i = 0; i < 48; i++) {
        snprintf(m1 + 2 * i, 3, "11");
    }
    RUN(test_good);
    RUN(test_refusals);
    RUN(test_dispatch);
    nv_fx_chain_free(&fx);
    e2e_tmpdir_remove(dir);
    return TEST_SUMMARY();
}

/*
 * Composite evidence under a policy (docs/protocol.md §2.4): a dev-key item and two GPU
 * items made at test time (test-made NVIDIA chains), all over one binding B, verify; each
 * way of getting it wrong fails with its own error: items reordered, missing, repeated, of
 * an unknown or nested type, a GPU item or the CPU item made for another session, a
 * combination the policy does not name. Then the policy's "composite" section and its
 * refusals.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "secure/attest/composite.h"
#include "secure/attest/devkey.h"
#include "secure/attest/policy.h"
#include "tests/secure/attest/nvgpu_fixture.h"
#include "tests/test.h"

static struct {
    ms_devkey dev;
    nv_fx_chain gpu[2];
    uint8_t b[MS_BINDING_LEN], other[MS_BINDING_LEN];
    ms_buf dev_item, dev_other, gpu_item[2], gpu_other;
    ms_attest_policy pol;
} F;

static int fixture(void)
{
    if (crypto_sign_keypair(F.dev.pk, F.dev.sk) != 0 || !nv_fx_chain_make(&F.gpu[0], 0x1111, 0x1111) ||
        !nv_fx_chain_make_under(&F.gpu[1], F.gpu[0].root_key, 0x2222, 0x2222)) {
        return 0;
    }
    randombytes_buf(F.b, sizeof F.b);
    randombytes_buf(F.other, sizeof F.other);
    ms_buf_init(&F.dev_item, 256);
    ms_buf_init(&F.dev_other, 256);
    ms_buf_init(&F.gpu_other, MS_MAX_EVIDENCE);
    int ok = ms_devkey_evidence(&F.dev, F.b, &F.dev_item) == MS_OK &&
             ms_devkey_evidence(&F.dev, F.other, &F.dev_other) == MS_OK &&
             nv_fx_made_item(&F.gpu_other, &F.gpu[1], F.other, 8, 16, 1, 0);
    for (int i = 0; i < 2; i++) {
        ms_buf_init(&F.gpu_item[i], MS_MAX_EVIDENCE);
        ok &= nv_fx_made_item(&F.gpu_item[i], &F.gpu[i], F.b, 8, 16, 1, 0);
    }
    /* The policy, as a loaded one would hold it: dev-key pinned, the test NVIDIA root,
       composite = dev-key and two GPUs. */
    ms_attest_policy_init(&F.pol);
    F.pol.accept[0] = MS_EVIDENCE_COMPOSITE;
    F.pol.n_accept = 1;
    F.pol.have_dev_pk = 1;
    memcpy(F.pol.dev_pk, F.dev.pk, sizeof F.pol.dev_pk);
    F.pol.have_nvgpu = 1;
    F.pol.nvgpu.root_der = F.gpu[0].der.p + F.gpu[0].off[2];
    F.pol.nvgpu.root_len = F.gpu[0].len[2];
    F.pol.have_composite = 1;
    F.pol.composite[0] = (ms_composite_rule){MS_EVIDENCE_DEV_KEY, 2};
    F.pol.n_composite = 1;
    return ok;
}

/* Verify a composite of the given items (type, buffer) under F.pol and binding F.b. */
static ms_err verify(const uint16_t *types, const ms_buf *const *items, size_t n, size_t *failed)
{
    ms_composite_item it[MS_COMPOSITE_MAX_ITEMS];
    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    for (size_t i = 0; i < n; i++) {
        it[i] = (ms_composite_item){types[i], items[i]->p, items[i]->len};
    }
    ms_err e = ms_composite_encode(it, n, &ev);
    uint64_t now = (uint64_t)time(NULL);
    ms_evidence_view v = {.type = MS_EVIDENCE_COMPOSITE, .mode = MS_MODE_FAST, .data = ev.p,
                          .len = ev.len, .not_after = now + 600, .now = now, .binding = F.b};
    size_t item = 99;
    if (e == MS_OK) {
        e = ms_attest_policy_verify(&F.pol, &v);
        ms_err again = ms_attest_policy_verify_composite(&F.pol, &v, &item);
        /* the same verdict, except where ms_attest_policy_verify refuses the type itself */
        if (again != e && F.pol.accept[0] == MS_EVIDENCE_COMPOSITE) {
            TEST_FAIL_("verify %s, verify_composite %s", ms_err_name(e), ms_err_name(again));
        }
    }
    if (failed) {
        *failed = item;
    }
    ms_buf_free(&ev);
    return e;
}

static void test_verifies(void)
{
    const uint16_t t[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_NVIDIA_GPU, MS_EVIDENCE_NVIDIA_GPU};
    const ms_buf *it[] = {&F.dev_item, &F.gpu_item[0], &F.gpu_item[1]};
    size_t failed;
    CHECK_OK(verify(t, it, 3, &failed));
    CHECK(failed == 0);
}

static void test_shape_refusals(void)
{
    const uint16_t D = MS_EVIDENCE_DEV_KEY, G = MS_EVIDENCE_NVIDIA_GPU;
    /* reordered */
    CHECK_ERR(verify((const uint16_t[]){G, D, G},
                     (const ms_buf *const[]){&F.gpu_item[0], &F.dev_item, &F.gpu_item[1]}, 3, NULL),
              MS_ERR_COMPOSITE_ORDER);
    /* one GPU missing; one too many */
    CHECK_ERR(verify((const uint16_t[]){D, G}, (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0]},
                     2, NULL),
              MS_ERR_COMPOSITE_MISSING);
    CHECK_ERR(verify((const uint16_t[]){D, G, G, G},
                     (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[1],
                                             &F.gpu_item[1]},
                     4, NULL),
              MS_ERR_COMPOSITE_COUNT);
    /* the CPU item twice */
    CHECK_ERR(verify((const uint16_t[]){D, D, G},
                     (const ms_buf *const[]){&F.dev_item, &F.dev_item, &F.gpu_item[0]}, 3, NULL),
              MS_ERR_COMPOSITE_DUPLICATE);
    /* an unknown type inside; a composite inside */
    CHECK_ERR(verify((const uint16_t[]){D, G, 0x7777},
                     (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[1]}, 3, NULL),
              MS_ERR_COMPOSITE_TYPE);
    CHECK_ERR(verify((const uint16_t[]){MS_EVIDENCE_COMPOSITE, G, G},
                     (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[1]}, 3, NULL),
              MS_ERR_COMPOSITE_TYPE);
    /* a CPU type the policy's combinations do not name */
    CHECK_ERR(verify((const uint16_t[]){MS_EVIDENCE_TPM2_QUOTE, G, G},
                     (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[1]}, 3, NULL),
              MS_ERR_COMPOSITE_TYPE);
}

static void test_item_refusals(void)
{
    const uint16_t t[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_NVIDIA_GPU, MS_EVIDENCE_NVIDIA_GPU};
    size_t failed;
    /* the same GPU twice: each verifies, the device repeats */
    CHECK_ERR(verify(t, (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[0]}, 3,
                     &failed),
              MS_ERR_COMPOSITE_DUPLICATE);
    CHECK(failed == 2);
    /* GPU 2's item made for another session (another B): its nonce check */
    CHECK_ERR(verify(t, (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_other}, 3,
                     &failed),
              MS_ERR_NVGPU_NONCE);
    CHECK(failed == 2);
    /* the CPU item made for another session: dev-key's signature over B */
    CHECK(verify(t, (const ms_buf *const[]){&F.dev_other, &F.gpu_item[0], &F.gpu_item[1]}, 3,
                 &failed) != MS_OK);
    CHECK(failed == 0);
    /* a GPU item cut short: its own format check */
    ms_buf cut;
    ms_buf_init(&cut, MS_MAX_EVIDENCE);
    CHECK_OK(ms_buf_append(&cut, F.gpu_item[1].p, F.gpu_item[1].len - 1));
    CHECK_ERR(verify(t, (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &cut}, 3, &failed),
              MS_ERR_NVGPU_FORMAT);
    ms_buf_free(&cut);
    /* composite not in the accept list, or no composite section */
    F.pol.accept[0] = MS_EVIDENCE_DEV_KEY;
    CHECK_ERR(verify(t, (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[1]}, 3,
                     NULL),
              MS_ERR_ATTEST_POLICY);
    F.pol.accept[0] = MS_EVIDENCE_COMPOSITE;
    F.pol.have_composite = 0;
    CHECK_ERR(verify(t, (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[1]}, 3,
                     NULL),
              MS_ERR_ATTEST_POLICY);
    F.pol.have_composite = 1;
    /* a composite section whose GPUs the policy has no nvidia_gpu section to judge by */
    F.pol.have_nvgpu = 0;
    CHECK_ERR(verify(t, (const ms_buf *const[]){&F.dev_item, &F.gpu_item[0], &F.gpu_item[1]}, 3,
                     &failed),
              MS_ERR_ATTEST_POLICY);
    CHECK(failed == 1);
    F.pol.have_nvgpu = 1;
}

static ms_err parse(ms_attest_policy *p, const char *json)
{
    ms_attest_policy_free(p);
    ms_attest_policy_init(p);
    return ms_attest_policy_parse(p, (const uint8_t *)json, strlen(json), ".");
}

#define DEV "\"dev_key\":{\"public_key_pem\":\"@PEM@\"}"

/* The policy text with @PEM@ replaced by the key file's path. */
static void fill(char *out, size_t cap, const char *tmpl, const char *pem)
{
    const char *at = strstr(tmpl, "@PEM@");
    if (at == NULL) {
        snprintf(out, cap, "%s", tmpl);
        return;
    }
    snprintf(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, pem, at + 5);
}

static void test_policy_section(void)
{
    static const char *const bad[] = {
        /* no composite section for an accepted composite */
        "{\"version\":1,\"accept\":[\"composite\"]," DEV "}",
        /* unknown field, empty list, unknown rule field, a GPU type as the CPU, too many GPUs */
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[{\"cpu\":\"dev-key\",\"gpus\":0}],\"x\":1}}",
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[]}}",
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[{\"cpu\":\"dev-key\",\"gpus\":0,\"y\":1}]}}",
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[{\"cpu\":\"nvidia-gpu\",\"gpus\":0}]}}",
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[{\"cpu\":\"dev-key\",\"gpus\":17}]}}",
        /* the same combination twice */
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[{\"cpu\":\"dev-key\",\"gpus\":0},{\"cpu\":\"dev-key\",\"gpus\":0}]}}",
        /* a CPU type without its section; GPUs without an nvidia_gpu section */
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[{\"cpu\":\"tpm2-quote\",\"gpus\":0}]}}",
        "{\"version\":1,\"accept\":[\"composite\"]," DEV ",\"composite\":{\"require\":[{\"cpu\":\"dev-key\",\"gpus\":2}]}}",
    };
    char pem[] = "/tmp/ms-test-composite-XXXXXX";
    int fd = mkstemp(pem);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd);
    }
    unlink(pem); /* ms_devkey_write_public makes the file itself */
    CHECK_OK(ms_devkey_write_public(pem, F.dev.pk));
    ms_attest_policy p;
    ms_attest_policy_init(&p);
    char json[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fill(json, sizeof json, bad[i], pem);
        if (parse(&p, json) == MS_OK) {
            TEST_FAIL_("bad[%zu] accepted", i);
        }
        if (strstr(p.why, "composite") == NULL && strstr(p.why, "accept") == NULL) {
            TEST_FAIL_("bad[%zu]: the message names no field: %s", i, p.why);
        }
    }
    fill(json, sizeof json,
         "{\"version\":1,\"accept\":[\"composite\",\"dev-key\"]," DEV
         ",\"composite\":{\"require\":[{\"cpu\":\"dev-key\",\"gpus\":0}]}}",
         pem);
    CHECK_OK(parse(&p, json));
    CHECK(p.have_composite && p.n_composite == 1 && p.composite[0].cpu == MS_EVIDENCE_DEV_KEY &&
          p.composite[0].gpus == 0);
    CHECK(strcmp(ms_evidence_type_name(MS_EVIDENCE_COMPOSITE), "composite") == 0);
    ms_attest_policy_free(&p);
    unlink(pem);
}

int main(void)
{
    if (sodium_init() < 0 || !fixture()) {
        fprintf(stderr, "test_composite_verify: fixture failed\n");
        return 1;
    }
    RUN(test_verifies);
    RUN(test_shape_refusals);
    RUN(test_item_refusals);
    RUN(test_policy_section);
    ms_attest_policy_free(&F.pol);
    ms_devkey_wipe(&F.dev);
    for (int i = 0; i < 2; i++) {
        ms_buf_free(&F.gpu_item[i]);
        nv_fx_chain_free(&F.gpu[i]);
    }
    ms_buf_free(&F.dev_item);
    ms_buf_free(&F.dev_other);
    ms_buf_free(&F.gpu_other);
    return TEST_SUMMARY();
}

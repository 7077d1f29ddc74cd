/* ms_attest_inspect: every check recorded, for dev-key, AMD's Milan report and TPM quotes on swtpm. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "secure/attest/composite.h"
#include "secure/attest/devkey.h"
#include "secure/attest/inspect.h"
#include "secure/kdf.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/secure/attest/tpm2_fixture.h"
#include "tests/test.h"

/* The outcome of the check called `name`, or -1 when it is not in the list. */
static int status_of(const ms_inspect *in, const char *name)
{
    for (size_t i = 0; i < in->n; i++) {
        if (strcmp(in->checks[i].name, name) == 0) {
            return (int)in->checks[i].status;
        }
    }
    return -1;
}

static ms_err err_of(const ms_inspect *in, const char *name)
{
    for (size_t i = 0; i < in->n; i++) {
        if (strcmp(in->checks[i].name, name) == 0) {
            return in->checks[i].err;
        }
    }
    return MS_ERR_INTERNAL;
}

#define CHECK_PASS(in, name) CHECK(status_of(in, name) == MS_CHECK_PASS)
#define CHECK_SKIP(in, name) CHECK(status_of(in, name) == MS_CHECK_SKIPPED)
#define CHECK_FAIL(in, name, e)                                                                    \
    do {                                                                                           \
        CHECK(status_of(in, name) == MS_CHECK_FAIL);                                               \
        CHECK_ERR(err_of(in, name), e);                                                            \
    } while (0)

/* --- dev-key: a FAST session's evidence, as saved -------------------------------------------- */

static struct {
    ms_devkey key;
    uint8_t static_pk[MS_X25519_LEN], b[MS_BINDING_LEN];
    uint8_t ev[MS_DEVKEY_EVIDENCE_LEN];
    ms_attest_policy pol;
} D;

static void dev_setup(void)
{
    ms_buf ev;
    crypto_sign_keypair(D.key.pk, D.key.sk);
    randombytes_buf(D.static_pk, sizeof D.static_pk);
    ms_binding_in bi = {.evidence_type = MS_EVIDENCE_DEV_KEY, .mode = MS_MODE_FAST,
                        .not_after = 2000};
    memcpy(bi.static_pk, D.static_pk, MS_X25519_LEN);
    CHECK_OK(ms_kdf_binding(D.b, &bi));
    ms_buf_init(&ev, 128);
    CHECK_OK(ms_devkey_evidence(&D.key, D.b, &ev));
    CHECK(ev.len == sizeof D.ev);
    memcpy(D.ev, ev.p, sizeof D.ev);
    ms_buf_free(&ev);
    ms_attest_policy_init(&D.pol);
    CHECK_OK(ms_attest_policy_allow_dev_key(&D.pol, D.key.pk));
}

static ms_inspect_in dev_in(void)
{
    return (ms_inspect_in){.type = MS_EVIDENCE_DEV_KEY, .data = D.ev, .len = sizeof D.ev,
                           .have_session = 1, .mode = MS_MODE_FAST, .not_after = 2000,
                           .at = 1000, .static_pk = D.static_pk, .binding = D.b,
                           .policy = &D.pol};
}

static void test_devkey_pass(void)
{
    ms_inspect out;
    ms_inspect_in in = dev_in();
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_PASS(&out, "accepted");
    CHECK_SKIP(&out, "strict");
    CHECK_PASS(&out, "validity");
    CHECK_PASS(&out, "binding");
    CHECK_PASS(&out, "format");
    CHECK_PASS(&out, "key");
    CHECK_PASS(&out, "signature");
    CHECK(out.have_dev_pk && memcmp(out.dev_pk, D.key.pk, MS_SIGN_PK_LEN) == 0);
    /* Nothing pinned: the key is SKIPPED, the signature under the evidence's key still runs. */
    in.policy = NULL;
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_SKIP(&out, "accepted");
    CHECK_SKIP(&out, "key");
    CHECK_PASS(&out, "signature");
}

static void test_devkey_negatives(void)
{
    ms_inspect out;
    ms_inspect_in in = dev_in();
    uint8_t ev[sizeof D.ev], other[MS_X25519_LEN], b[MS_BINDING_LEN];
    ms_attest_policy p2;
    /* Another pinned key. */
    ms_attest_policy_init(&p2);
    other[0] = 1;
    memset(other + 1, 7, sizeof other - 1);
    CHECK_OK(ms_attest_policy_allow_dev_key(&p2, other));
    in.policy = &p2;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_KEY);
    CHECK_FAIL(&out, "key", MS_ERR_ATTEST_KEY);
    CHECK_PASS(&out, "signature");
    ms_attest_policy_free(&p2);
    /* A flipped signature byte, a short evidence. */
    in = dev_in();
    memcpy(ev, D.ev, sizeof ev);
    ev[sizeof ev - 1] ^= 1;
    in.data = ev;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_SIGNATURE);
    CHECK_FAIL(&out, "signature", MS_ERR_ATTEST_SIGNATURE);
    in.len = sizeof ev - 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_FORMAT);
    CHECK_FAIL(&out, "format", MS_ERR_ATTEST_FORMAT);
    CHECK_SKIP(&out, "signature");
    /* Session facts that do not give the saved B: another static key, another expiry. */
    in = dev_in();
    memcpy(other, D.static_pk, sizeof other);
    other[0] ^= 1;
    in.static_pk = other;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_BINDING);
    CHECK_FAIL(&out, "binding", MS_ERR_ATTEST_BINDING);
    in = dev_in();
    in.not_after = 2001;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_BINDING);
    /* A B that is not the one signed. */
    in = dev_in();
    memcpy(b, D.b, sizeof b);
    b[5] ^= 1;
    in.binding = b;
    in.have_session = 0; /* as a raw file with --report-data: not recomputed */
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_SIGNATURE);
    CHECK_SKIP(&out, "binding");
    CHECK_SKIP(&out, "validity");
}

static void test_policy_level(void)
{
    ms_inspect out;
    ms_inspect_in in = dev_in();
    /* Expired when received; valid for longer than the policy allows. */
    in.at = 2001;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_EXPIRED);
    CHECK_FAIL(&out, "validity", MS_ERR_ATTEST_EXPIRED);
    in = dev_in();
    D.pol.max_validity_s = 999;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_POLICY);
    CHECK_FAIL(&out, "validity", MS_ERR_ATTEST_POLICY);
    D.pol.max_validity_s = 1000;
    CHECK_OK(ms_attest_inspect(&in, &out));
    D.pol.max_validity_s = 0;
    /* STRICT required, FAST given; a STRICT B cannot be recomputed (SKIPPED, not FAIL). */
    D.pol.require_strict = 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ATTEST_POLICY);
    CHECK_FAIL(&out, "strict", MS_ERR_ATTEST_POLICY);
    in.mode = MS_MODE_STRICT;
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_PASS(&out, "strict");
    CHECK_SKIP(&out, "binding");
    D.pol.require_strict = 0;
    /* A type the policy does not accept. */
    in = dev_in();
    in.type = MS_EVIDENCE_TPM2_QUOTE;
    CHECK(ms_attest_inspect(&in, &out) != MS_OK);
    CHECK_FAIL(&out, "accepted", MS_ERR_ATTEST_POLICY);
    CHECK_FAIL(&out, "format", MS_ERR_TPM_FORMAT);
    in.type = 0x7777;
    CHECK(ms_attest_inspect(&in, &out) != MS_OK);
    CHECK_FAIL(&out, "format", MS_ERR_ATTEST_FORMAT);
    /* No binding at all: the signature is SKIPPED with the caller's reason. */
    in = dev_in();
    in.binding = NULL;
    in.binding_why = "no session here";
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_SKIP(&out, "signature");
    CHECK_SKIP(&out, "binding");
    CHECK(strcmp(out.checks[3].detail, "no session here") == 0);
    CHECK_ERR(ms_attest_inspect(NULL, &out), MS_ERR_ARG);
    in.data = NULL;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_ARG);
}

/* --- SEV-SNP: AMD's real Milan report (../shared/testdata/sev-snp/milan, see its NOTICE) ---- */

static void test_snp_milan(void)
{
    snp_fx_amd a;
    ms_buf ev;
    ms_snp_report r;
    ms_inspect out;
    ms_attest_policy pol;
    uint8_t b[MS_BINDING_LEN] = {0};
    if (!snp_fx_amd_load(&a)) {
        CHECK(0);
        return;
    }
    ms_buf_init(&ev, MS_SNP_MAX_BUNDLE);
    CHECK_OK(ms_snp_bundle_encode(a.report, a.vcek.p, a.vcek.len, a.ask.p, a.ask.len, &ev));
    CHECK_OK(ms_snp_report_decode(a.report, sizeof a.report, &r));
    ms_attest_policy_init(&pol);
    pol.accept[0] = MS_EVIDENCE_SEV_SNP;
    pol.n_accept = 1;
    pol.have_snp = 1;
    pol.snp = (ms_snp_policy){.ark_der = a.ark.p, .ark_len = a.ark.len};
    memcpy(pol.snp.measurement, r.measurement, sizeof r.measurement);
    /* 2027-01-15: inside the Milan VCEK's validity (2023-04-03 .. 2030-04-03). */
    ms_inspect_in in = {.type = MS_EVIDENCE_SEV_SNP, .data = ev.p, .len = ev.len,
                        .binding_why = "raw report", .policy = &pol, .at = 1800000000u};
    CHECK_OK(ms_attest_inspect(&in, &out));
    static const char *const pass[] = {
        "accepted", "format", "ark", "chain", "cert-time", "signing-key", "signature",
        "tcb-match", "chip-id", "measurement", "debug", "tcb-min", "vmpl", "migrate-ma",
        "report-id-ma"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
        CHECK_PASS(&out, pass[i]);
    }
    static const char *const skip[] = {"report-data", "binding", "crl", "revoked", "smt",
                                       "single-socket", "abi-min", "policy-bits", "platform-info",
                                       "host-data", "family-id", "image-id", "id-key",
                                       "author-key"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++) {
        CHECK_SKIP(&out, skip[i]);
    }
    /* The new checks fail on their own: a pin the report does not meet, a time after expiry. */
    pol.snp.vmpl = 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_VMPL);
    CHECK_FAIL(&out, "vmpl", MS_ERR_SNP_VMPL);
    pol.snp.vmpl = 0;
    pol.snp.forbid_smt = 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_SMT);
    CHECK_FAIL(&out, "smt", MS_ERR_SNP_SMT);
    pol.snp.forbid_smt = 0;
    pol.snp.have_host_data = 1;
    pol.snp.host_data[0] = 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_HOST_DATA);
    CHECK_FAIL(&out, "host-data", MS_ERR_SNP_HOST_DATA);
    pol.snp.have_host_data = 0;
    in.at = 1950000000u; /* 2031-10: after the VCEK's notAfter */
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_CERT_TIME);
    CHECK_FAIL(&out, "cert-time", MS_ERR_SNP_CERT_TIME);
    CHECK_PASS(&out, "signature");
    in.at = 1800000000u;
    CHECK(out.have_snp && memcmp(out.snp.measurement, r.measurement, sizeof r.measurement) == 0);
    /* Another measurement: that check fails on its own, the chain and signature still pass. */
    pol.snp.measurement[0] ^= 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_MEASUREMENT);
    CHECK_FAIL(&out, "measurement", MS_ERR_SNP_MEASUREMENT);
    CHECK_PASS(&out, "chain");
    CHECK_PASS(&out, "signature");
    pol.snp.measurement[0] ^= 1;
    /* A binding it is not over; a TCB minimum above it. */
    in.binding = b;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_REPORT_DATA);
    CHECK_FAIL(&out, "report-data", MS_ERR_SNP_REPORT_DATA);
    in.binding = NULL;
    pol.snp.min_tcb.snp = 255;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_TCB_MIN);
    pol.snp.min_tcb.snp = 0;
    /* The Genoa root pinned: ARK fails, the rest is still shown. */
    pol.snp.ark_der = a.genoa_ark.p;
    pol.snp.ark_len = a.genoa_ark.len;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_ARK);
    CHECK_FAIL(&out, "ark", MS_ERR_SNP_ARK);
    CHECK_PASS(&out, "signature");
    /* Nothing pinned and no roots: ARK and CHAIN SKIPPED, the VCEK's signature checked. */
    in.policy = NULL;
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_SKIP(&out, "ark");
    CHECK_SKIP(&out, "chain");
    CHECK_SKIP(&out, "measurement");
    CHECK_PASS(&out, "signature");
    /* Roots given without a policy: checked (and shown as not pinned). */
    ms_snp_policy roots = {.ark_der = a.ark.p, .ark_len = a.ark.len};
    in.snp_roots = &roots;
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_PASS(&out, "ark");
    CHECK_PASS(&out, "chain");
    roots.ark_der = a.genoa_ark.p;
    roots.ark_len = a.genoa_ark.len;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_ARK);
    /* One flipped signed byte. */
    ev.p[1 + 0x90] ^= 1;
    in.snp_roots = NULL;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_SNP_SIGNATURE);
    CHECK_FAIL(&out, "signature", MS_ERR_SNP_SIGNATURE);
    ms_attest_policy_free(&pol);
    ms_buf_free(&ev);
    snp_fx_amd_free(&a);
}

/* --- TPM 2.0 quotes from swtpm ------------------------------------------------------------- */

static tpm2_fixture F;
#define MASK 0x83u /* PCRs 0, 1 and 7 */

static ms_attest_policy tpm_policy(void)
{
    ms_attest_policy p;
    ms_attest_policy_init(&p);
    p.accept[0] = MS_EVIDENCE_TPM2_QUOTE;
    p.n_accept = 1;
    p.have_tpm2 = 1;
    p.tpm2 = F.pol;
    return p;
}

static void test_tpm2(void)
{
    ms_buf ev;
    ms_inspect out;
    ms_attest_policy pol = tpm_policy();
    CHECK(tpm2_fixture_quote(&F, F.b1, &ev) == 0);
    ms_inspect_in in = {.type = MS_EVIDENCE_TPM2_QUOTE, .data = ev.p, .len = ev.len,
                        .binding = F.b1, .policy = &pol};
    CHECK_OK(ms_attest_inspect(&in, &out));
    static const char *const pass[] = {"format", "magic", "attest-type", "nonce", "pcr-select",
                                       "pcr-digest", "pcr-values", "ak-attributes", "ak-name",
                                       "signature"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
        CHECK_PASS(&out, pass[i]);
    }
    CHECK_SKIP(&out, "ak-certificate"); /* a name is pinned, not an AK CA */
    CHECK(out.have_tpm2 && out.tpm2.pcr_mask == MASK);
    CHECK_MEM(out.tpm2.ak_name, F.pol.ak_name, MS_TPM2_NAME_LEN);
    CHECK_MEM(out.tpm2.pcr_values[7], F.pol.pcr_values[7], MS_TPM2_DIGEST_LEN);
    /* Another session's binding; no binding. */
    in.binding = F.b2;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_TPM_NONCE);
    CHECK_FAIL(&out, "nonce", MS_ERR_TPM_NONCE);
    CHECK_PASS(&out, "signature");
    in.binding = NULL;
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_SKIP(&out, "nonce");
    /* Another AK pinned; one PCR value; a smaller selection. */
    pol.tpm2.ak_name[5] ^= 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_TPM_AK_NAME);
    CHECK_FAIL(&out, "ak-name", MS_ERR_TPM_AK_NAME);
    pol.tpm2 = F.pol;
    pol.tpm2.pcr_values[1][0] ^= 1;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_TPM_PCR_VALUE);
    pol.tpm2 = F.pol;
    pol.tpm2.pcr_mask = 0x3u;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_TPM_PCR_SELECT);
    CHECK_SKIP(&out, "pcr-values");
    CHECK_PASS(&out, "pcr-digest");
    pol.tpm2 = F.pol;
    /* Every byte flipped fails some check under the full policy and the session's binding. */
    in.binding = F.b1;
    for (size_t i = 0; i < ev.len; i++) {
        ev.p[i] ^= 0x40;
        ms_err e = ms_attest_inspect(&in, &out);
        CHECK(e != MS_OK);
        ev.p[i] ^= 0x40;
    }
    /* Nothing pinned: values and name SKIPPED. Bytes that only change the AK's name (e.g.
       userWithAuth) then pass: that is what pinning the name is for. */
    in.policy = NULL;
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_SKIP(&out, "ak-name");
    CHECK_SKIP(&out, "pcr-values");
    ms_attest_policy_free(&pol);
    ms_buf_free(&ev);
}

/* A quote-shaped blob signed by an unrestricted key of the same TPM. */
static void test_tpm2_unrestricted(void)
{
    TPM2B_PUBLIC tmpl;
    TPMT_PUBLIC pub;
    TSS2_RC rc;
    ms_buf ev;
    ms_inspect out;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    tpm2_template_unrestricted(&tmpl);
    ESYS_TR k = tpm2_primary(&F.c, ESYS_TR_RH_OWNER, &tmpl, &pub);
    CHECK(k != ESYS_TR_NONE);
    CHECK(tpm2_forged_bundle(&F.c, k, &pub, MASK, F.b1, &ev, &rc) == 0 && rc == TSS2_RC_SUCCESS);
    tpm2_flush(&F.c, k);
    ms_inspect_in in = {.type = MS_EVIDENCE_TPM2_QUOTE, .data = ev.p, .len = ev.len,
                        .binding = F.b1};
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_TPM_AK_ATTRS);
    CHECK_FAIL(&out, "ak-attributes", MS_ERR_TPM_AK_ATTRS);
    CHECK_FAIL(&out, "signature", MS_ERR_TPM_SIGNATURE);
    CHECK_PASS(&out, "nonce");
    ms_buf_free(&ev);
}

/* --- Intel TDX: a made-up quote with CRLs, without and with a policy ------------------------ */

static void test_tdx(void)
{
    tdx_fx_pck_opts po;
    tdx_fx_chain c;
    tdx_fx_quote_opts qo;
    tdx_fx_layout l;
    ms_buf q, pck_crl, root_crl, ev;
    tdx_fx_pck_opts_default(&po);
    tdx_fx_quote_opts_default(&qo);
    memset(qo.report_data, 0x71, sizeof qo.report_data);
    int ok = tdx_fx_chain_make(&c, &po) && tdx_fx_quote_make(&q, &c, &qo, &l) &&
             tdx_fx_crl(&pck_crl, c.ca_x, c.ca_key, 0) &&
             tdx_fx_crl(&root_crl, c.root_x, c.root_key, 0);
    CHECK(ok);
    ms_tdx_bundle b = {.quote = q.p, .quote_len = q.len, .pck_crl = pck_crl.p,
                       .pck_crl_len = pck_crl.len};
    b.collateral.root_crl = root_crl.p;
    b.collateral.root_crl_len = root_crl.len;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_tdx_bundle_encode(&b, &ev));
    ms_tdx_policy roots;
    memset(&roots, 0, sizeof roots);
    roots.root_der = c.root.p;
    roots.root_len = c.root.len;
    ms_inspect out;
    ms_inspect_in in = {.type = MS_EVIDENCE_TDX, .data = ev.p, .len = ev.len,
                        .binding = qo.report_data, .tdx_roots = &roots};
    /* No policy: nothing pinned; the chain, CRLs and signatures are checked. */
    CHECK_OK(ms_attest_inspect(&in, &out));
    CHECK_PASS(&out, "format");
    CHECK_PASS(&out, "pck-chain");
    CHECK_PASS(&out, "crl");
    CHECK_PASS(&out, "quote-signature");
    CHECK_PASS(&out, "report-data");
    CHECK_SKIP(&out, "collateral");
    CHECK_SKIP(&out, "mrtd");
    CHECK(out.have_tdx && out.tdx.mrtd[0] == 0x3d && out.tdx_version == 4);
    /* A policy pinning MRTD: the client's requirements apply, the missing collateral FAILs. */
    ms_attest_policy pol;
    ms_attest_policy_init(&pol);
    pol.have_tdx = 1;
    pol.tdx = roots;
    pol.tdx.have_mrtd = 1;
    memcpy(pol.tdx.mrtd, qo.mrtd, sizeof pol.tdx.mrtd);
    pol.accept[0] = MS_EVIDENCE_TDX;
    pol.n_accept = 1;
    in.policy = &pol;
    in.tdx_roots = NULL;
    CHECK(ms_attest_inspect(&in, &out) != MS_OK);
    CHECK_PASS(&out, "mrtd");
    CHECK(status_of(&out, "collateral") == MS_CHECK_FAIL);
    pol.tdx.mrtd[0] ^= 1;
    CHECK(ms_attest_inspect(&in, &out) != MS_OK);
    CHECK_FAIL(&out, "mrtd", MS_ERR_TDX_MRTD);
    /* Garbage: the format check fails and says so. */
    uint8_t junk[4] = {1, 2, 3, 4};
    in.data = junk;
    in.len = sizeof junk;
    CHECK_ERR(ms_attest_inspect(&in, &out), MS_ERR_TDX_FORMAT);
    CHECK_FAIL(&out, "format", MS_ERR_TDX_FORMAT);
    pol.have_tdx = 0;
    ms_attest_policy_free(&pol);
    ms_buf_free(&ev);
    ms_buf_free(&q);
    ms_buf_free(&pck_crl);
    ms_buf_free(&root_crl);
    tdx_fx_chain_free(&c);
}

/* --- composite: the container's checks, the CPU item's under "cpu " ------------------------ */

static ms_err composite_of(const ms_composite_item *items, size_t n, ms_buf *out)
{
    ms_buf_clear(out);
    return ms_composite_encode(items, n, out);
}

static void test_composite(void)
{
    static const uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ms_inspect *out = malloc(sizeof *out); /* large */
    ms_buf ev;
    uint8_t bad[MS_DEVKEY_EVIDENCE_LEN];
    CHECK(out != NULL);
    if (out == NULL) {
        return;
    }
    ms_buf_init(&ev, 4096);
    ms_composite_item dev = {MS_EVIDENCE_DEV_KEY, D.ev, sizeof D.ev};
    CHECK_OK(composite_of(&dev, 1, &ev));
    ms_inspect_in in = {.type = MS_EVIDENCE_COMPOSITE, .data = ev.p, .len = ev.len,
                        .have_session = 1, .mode = MS_MODE_FAST, .not_after = 2000, .at = 1000,
                        .static_pk = D.static_pk, .binding = D.b, .binding_live = 1};
    /* Nothing pinned: the container and the item's own checks, the combination SKIPPED. */
    CHECK_OK(ms_attest_inspect(&in, out));
    CHECK_PASS(out, "format");
    CHECK_PASS(out, "items");
    CHECK_SKIP(out, "combination");
    CHECK_PASS(out, "cpu format");
    CHECK_SKIP(out, "cpu key");
    CHECK_PASS(out, "cpu signature");
    CHECK_PASS(out, "distinct");
    CHECK(out->have_composite && out->comp_cpu_type == MS_EVIDENCE_DEV_KEY && out->comp_gpus == 0);
    /* Under a policy: its combinations decide. */
    ms_attest_policy *p = calloc(1, sizeof *p);
    CHECK(p != NULL);
    if (p == NULL) {
        goto out;
    }
    *p = D.pol;
    p->accept[p->n_accept++] = MS_EVIDENCE_COMPOSITE;
    p->have_composite = 1;
    p->composite[0] = (ms_composite_rule){MS_EVIDENCE_DEV_KEY, 0};
    p->n_composite = 1;
    in.policy = p;
    CHECK_OK(ms_attest_inspect(&in, out));
    CHECK_PASS(out, "combination");
    CHECK_PASS(out, "cpu key");
    p->composite[0].gpus = 1;
    CHECK_ERR(ms_attest_inspect(&in, out), MS_ERR_COMPOSITE_MISSING);
    CHECK_FAIL(out, "combination", MS_ERR_COMPOSITE_MISSING);
    p->composite[0] = (ms_composite_rule){MS_EVIDENCE_TPM2_QUOTE, 0};
    CHECK_ERR(ms_attest_inspect(&in, out), MS_ERR_COMPOSITE_TYPE);
    p->have_composite = 0;
    CHECK_ERR(ms_attest_inspect(&in, out), MS_ERR_ATTEST_POLICY);
    CHECK_FAIL(out, "combination", MS_ERR_ATTEST_POLICY);
    in.policy = NULL;
    /* The CPU item's signature spoiled: its own check FAILs under the prefix. */
    memcpy(bad, D.ev, sizeof bad);
    bad[sizeof bad - 1] ^= 0x01;
    ms_composite_item spoiled = {MS_EVIDENCE_DEV_KEY, bad, sizeof bad};
    CHECK_OK(composite_of(&spoiled, 1, &ev));
    in.data = ev.p;
    in.len = ev.len;
    CHECK(ms_attest_inspect(&in, out) != MS_OK);
    CHECK(status_of(out, "cpu signature") == MS_CHECK_FAIL);
    CHECK_PASS(out, "items");
    /* A GPU item first; two CPU items; bytes that are no container. */
    ms_composite_item two[2] = {{MS_EVIDENCE_NVIDIA_GPU, junk, sizeof junk}, dev};
    CHECK_OK(composite_of(two, 2, &ev));
    in.data = ev.p;
    in.len = ev.len;
    CHECK_ERR(ms_attest_inspect(&in, out), MS_ERR_COMPOSITE_ORDER);
    CHECK_FAIL(out, "items", MS_ERR_COMPOSITE_ORDER);
    CHECK(status_of(out, "cpu format") == -1 && !out->have_composite);
    two[0] = dev;
    CHECK_OK(composite_of(two, 2, &ev));
    in.data = ev.p;
    in.len = ev.len;
    CHECK_ERR(ms_attest_inspect(&in, out), MS_ERR_COMPOSITE_DUPLICATE);
    in.data = junk;
    in.len = sizeof junk;
    CHECK_ERR(ms_attest_inspect(&in, out), MS_ERR_COMPOSITE_FORMAT);
    CHECK_FAIL(out, "format", MS_ERR_COMPOSITE_FORMAT);
    free(p);
out:
    ms_buf_free(&ev);
    free(out);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    dev_setup();
    RUN(test_devkey_pass);
    RUN(test_devkey_negatives);
    RUN(test_policy_level);
    RUN(test_composite);
    RUN(test_snp_milan);
    RUN(test_tdx);
    if (tpm2_fixture_setup(&F, MASK) != 0) {
        fprintf(stderr, "test_inspect: swtpm set-up failed\n");
        CHECK(0);
    } else {
        RUN(test_tpm2);
        RUN(test_tpm2_unrestricted);
        tpm2_fixture_teardown(&F);
    }
    ms_attest_policy_free(&D.pol);
    ms_devkey_wipe(&D.key);
    snp_fx_keys_free();
    return TEST_SUMMARY();
}

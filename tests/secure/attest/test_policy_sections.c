/*
 * A policy verifies only the evidence types it has a section for: a type in the accept
 * list without its section (a policy built by hand; the parser refuses such a file) is
 * refused with MS_ERR_ATTEST_POLICY before any verifier sees the bytes. With the section
 * present the same bytes reach the verifier, which refuses them with its own error.
 * Also: the accept list's cap when the dev key is allowed, the policy text's cap.
 */
#include <string.h>

#include "common/limits.h"
#include "secure/attest/policy.h"
#include "secure/suite.h"
#include "tests/test.h"

static const uint8_t JUNK[64] = {1, 2, 3, 4};
static const uint8_t BINDING[MS_BINDING_LEN];

static ms_err verify_type(ms_attest_policy *p, uint16_t type)
{
    p->accept[0] = type;
    p->n_accept = 1;
    ms_evidence_view ev = {.type = type, .data = JUNK, .len = sizeof JUNK, .not_after = 2000,
                           .now = 1000, .binding = BINDING};
    return ms_attest_policy_verify(p, &ev);
}

/* The have_ flag of the section for `type`. */
static int *section_of(ms_attest_policy *p, uint16_t type)
{
    switch (type) {
    case MS_EVIDENCE_DEV_KEY: return &p->have_dev_pk;
    case MS_EVIDENCE_TPM2_QUOTE: return &p->have_tpm2;
    case MS_EVIDENCE_SEV_SNP: return &p->have_snp;
    case MS_EVIDENCE_TDX: return &p->have_tdx;
    case MS_EVIDENCE_NVIDIA_GPU: return &p->have_nvgpu;
    default: return &p->have_composite;
    }
}

static void test_type_needs_its_section(void)
{
    static const uint16_t types[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_TPM2_QUOTE,
                                     MS_EVIDENCE_SEV_SNP, MS_EVIDENCE_TDX,
                                     MS_EVIDENCE_NVIDIA_GPU, MS_EVIDENCE_COMPOSITE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        ms_attest_policy p;
        ms_attest_policy_init(&p);
        CHECK_ERR(verify_type(&p, types[i]), MS_ERR_ATTEST_POLICY);
        *section_of(&p, types[i]) = 1; /* the section, empty: the verifier refuses */
        ms_err e = verify_type(&p, types[i]);
        if (e == MS_ERR_ATTEST_POLICY || e == MS_OK) {
            TEST_FAIL_("type 0x%04x with its section: %s", types[i], ms_err_name(e));
        }
        ms_attest_policy_free(&p);
    }
    /* az-snp-vtpm needs both its own section and the SEV-SNP one; az-tdx-vtpm its own and
       the TDX one. */
    for (int tdx = 0; tdx <= 1; tdx++) {
        uint16_t type = tdx ? MS_EVIDENCE_AZ_TDX_VTPM : MS_EVIDENCE_AZ_SNP_VTPM;
        ms_attest_policy p;
        ms_attest_policy_init(&p);
        int *own = tdx ? &p.have_az_tdx : &p.have_az_snp, *cpu = tdx ? &p.have_tdx : &p.have_snp;
        *own = 1;
        CHECK_ERR(verify_type(&p, type), MS_ERR_ATTEST_POLICY);
        *own = 0;
        *cpu = 1;
        CHECK_ERR(verify_type(&p, type), MS_ERR_ATTEST_POLICY);
        *own = 1;
        ms_err e = verify_type(&p, type);
        if (e == MS_ERR_ATTEST_POLICY || e == MS_OK) {
            TEST_FAIL_("type 0x%04x with its sections: %s", type, ms_err_name(e));
        }
        ms_attest_policy_free(&p);
    }
}

/* A full accept list cannot take the dev key too. */
static void test_allow_dev_key_cap(void)
{
    static const uint8_t pk[MS_SIGN_PK_LEN] = {7};
    ms_attest_policy p;
    ms_attest_policy_init(&p);
    for (size_t i = 0; i < MS_MAX_HS_LIST; i++) {
        p.accept[i] = MS_EVIDENCE_TPM2_QUOTE;
    }
    p.n_accept = MS_MAX_HS_LIST;
    CHECK_ERR(ms_attest_policy_allow_dev_key(&p, pk), MS_ERR_CONFIG);
    CHECK(p.n_accept == MS_MAX_HS_LIST);
    p.n_accept = MS_MAX_HS_LIST - 1;
    CHECK_OK(ms_attest_policy_allow_dev_key(&p, pk));
    CHECK(p.n_accept == MS_MAX_HS_LIST && p.accept[MS_MAX_HS_LIST - 1] == MS_EVIDENCE_DEV_KEY);
    ms_attest_policy_free(&p);
}

/* A policy text is at most MS_MAX_POLICY_FILE bytes, whitespace included. */
static void test_parse_cap(void)
{
    static char text[MS_MAX_POLICY_FILE + 1];
    static const char doc[] = "{\"version\":2,\"accept\":[\"dev-key\"]}";
    ms_attest_policy p;
    memset(text, ' ', sizeof text);
    memcpy(text, doc, sizeof doc - 1);
    ms_attest_policy_init(&p);
    ms_err e = ms_attest_policy_parse(&p, (const uint8_t *)text, MS_MAX_POLICY_FILE, ".");
    CHECK(e != MS_OK && e != MS_ERR_CAP_EXCEEDED); /* the version is what fails */
    ms_attest_policy_free(&p);
    ms_attest_policy_init(&p);
    CHECK_ERR(ms_attest_policy_parse(&p, (const uint8_t *)text, sizeof text, "."),
              MS_ERR_CAP_EXCEEDED);
    ms_attest_policy_free(&p);
}

int main(void)
{
    RUN(test_type_needs_its_section);
    RUN(test_allow_dev_key_cap);
    RUN(test_parse_cap);
    return TEST_SUMMARY();
}

/* The sev_snp section of the attestation policy: every field added for issue 19, and refusals. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secure/attest/policy.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/test.h"

static char dir[128];
static char milan[1024]; /* ../shared/testdata/sev-snp/milan */

static ms_err parse(ms_attest_policy *p, const char *json)
{
    ms_attest_policy_free(p);
    ms_attest_policy_init(p);
    return ms_attest_policy_parse(p, (const uint8_t *)json, strlen(json), dir);
}

static const char M48[] = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
                          "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/* A sev_snp section: the required fields, then `extra` (",..." or ""). */
static void snp_json(char *out, size_t n, const char *extra)
{
    snprintf(out, n,
             "{\"version\":1,\"accept\":[\"sev-snp\"],\"sev_snp\":{\"ark_pem\":\"%s/ark.pem\","
             "\"measurement\":\"%s\",\"min_tcb\":{\"bootloader\":1,\"tee\":0,\"snp\":8,"
             "\"microcode\":100}%s}}",
             milan, M48, extra);
}

/* A CRL file for a test chain, DER and PEM. */
static void write_crls(void)
{
    snp_fx_chain c;
    snp_fx_vcek_opts vo;
    ms_buf der;
    char path[256];
    snp_fx_vcek_opts_default(&vo);
    CHECK(snp_fx_chain_make(&c, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo, 48,
                            0));
    CHECK(snp_fx_crl_make(&der, &c, c.ark_key, 2));
    snprintf(path, sizeof path, "%s/crl.der", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(der.p, 1, der.len, f) == der.len);
    if (f) {
        fclose(f);
    }
    const unsigned char *p = der.p;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
    snprintf(path, sizeof path, "%s/crl.pem", dir);
    f = fopen(path, "w");
    CHECK(crl != NULL && f != NULL && PEM_write_X509_CRL(f, crl) == 1);
    if (f) {
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/junk.crl", dir);
    f = fopen(path, "w");
    CHECK(f != NULL && fputs("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", f) >= 0);
    if (f) {
        fclose(f);
    }
    X509_CRL_free(crl);
    ms_buf_free(&der);
    snp_fx_chain_free(&c);
}

static void test_defaults(void)
{
    ms_attest_policy p;
    char json[4096];
    ms_attest_policy_init(&p);
    snp_json(json, sizeof json, "");
    CHECK_OK(parse(&p, json));
    const ms_snp_policy *s = &p.snp;
    /* Strict by default: VMPL 0, no migration agent; SMT allowed; nothing else pinned. */
    CHECK(p.have_snp && s->vmpl == 0 && !s->allow_migrate_ma && !s->allow_migration_agent);
    CHECK(!s->forbid_smt && !s->require_single_socket && !s->have_min_abi);
    CHECK(s->policy_set == 0 && s->policy_clear == 0 && s->platform_set == 0 &&
          s->platform_clear == 0);
    CHECK(!s->have_host_data && !s->have_family_id && !s->have_image_id && !s->have_id_key &&
          !s->have_author_key);
    CHECK(s->crl_der == NULL && s->asvk_der == NULL && s->min_tcb.fmc == 0);
    ms_attest_policy_free(&p);
}

static void test_every_field(void)
{
    ms_attest_policy p;
    char json[8192], extra[3072];
    ms_attest_policy_init(&p);
    snprintf(extra, sizeof extra,
             ",\"asvk_pem\":\"%s/ask.pem\",\"crl_der\":\"crl.der\",\"vmpl\":2,"
             "\"allow_migrate_ma\":true,\"allow_migration_agent\":true,\"allow_smt\":false,"
             "\"require_single_socket\":true,\"min_abi_major\":1,\"min_abi_minor\":55,"
             "\"guest_policy\":{\"cxl_allow\":false,\"mem_aes_256_xts\":true,\"rapl_dis\":true,"
             "\"ciphertext_hiding\":false,\"page_swap_disable\":true,\"debug\":false},"
             "\"platform_info\":{\"smt_en\":false,\"tsme_en\":true,\"ecc_en\":true,"
             "\"rapl_dis\":false,\"ciphertext_hiding_en\":true,\"alias_check_complete\":true},"
             "\"host_data\":\"%064x\",\"family_id\":\"%032x\",\"image_id\":\"%032x\","
             "\"id_key_digest\":\"%096x\",\"author_key_digest\":\"%096x\"",
             milan, 0xa1u, 0xf1u, 0x1du, 0x1du, 0xa7u);
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"sev-snp\"],\"sev_snp\":{\"ark_pem\":\"%s/ark.pem\","
             "\"measurement\":\"%s\",\"min_tcb\":{\"bootloader\":1,\"tee\":0,\"snp\":8,"
             "\"microcode\":100,\"fmc\":4}%s}}",
             milan, M48, extra);
    CHECK_OK(parse(&p, json));
    const ms_snp_policy *s = &p.snp;
    CHECK(s->min_tcb.fmc == 4 && s->min_tcb.microcode == 100);
    CHECK(s->asvk_der != NULL && s->asvk_len > 0 && s->crl_der != NULL && s->crl_len > 0);
    CHECK(s->vmpl == 2 && s->allow_migrate_ma && s->allow_migration_agent && s->forbid_smt &&
          s->require_single_socket);
    CHECK(s->have_min_abi && s->min_abi_major == 1 && s->min_abi_minor == 55);
    CHECK(s->policy_set == (MS_SNP_POLICY_MEM_AES_256_XTS | MS_SNP_POLICY_RAPL_DIS |
                            MS_SNP_POLICY_PAGE_SWAP_DISABLE));
    CHECK(s->policy_clear == (MS_SNP_POLICY_CXL_ALLOW | MS_SNP_POLICY_CIPHERTEXT_HIDING |
                              MS_SNP_POLICY_DEBUG));
    CHECK(s->platform_set == (MS_SNP_PLATFORM_TSME_EN | MS_SNP_PLATFORM_ECC_EN |
                              MS_SNP_PLATFORM_CIPHERTEXT_HIDING_EN |
                              MS_SNP_PLATFORM_ALIAS_CHECK_COMPLETE));
    CHECK(s->platform_clear == (MS_SNP_PLATFORM_SMT_EN | MS_SNP_PLATFORM_RAPL_DIS));
    CHECK(s->have_host_data && s->host_data[31] == 0xa1 && s->host_data[0] == 0);
    CHECK(s->have_family_id && s->family_id[15] == 0xf1);
    CHECK(s->have_image_id && s->image_id[15] == 0x1d);
    CHECK(s->have_id_key && s->id_key_digest[47] == 0x1d);
    CHECK(s->have_author_key && s->author_key_digest[47] == 0xa7);
    /* The CRL as PEM reads into the same DER. */
    ms_buf keep;
    ms_buf_init(&keep, MS_SNP_MAX_CRL);
    CHECK_OK(ms_buf_append(&keep, s->crl_der, s->crl_len));
    snp_json(json, sizeof json, ",\"crl_pem\":\"crl.pem\",\"allow_smt\":true");
    CHECK_OK(parse(&p, json));
    CHECK(p.snp.crl_len == keep.len && memcmp(p.snp.crl_der, keep.p, keep.len) == 0);
    CHECK(!p.snp.forbid_smt);
    ms_buf_free(&keep);
    ms_attest_policy_free(&p);
}

static void test_refusals(void)
{
    ms_attest_policy p;
    char json[4096];
    static const struct {
        const char *extra;
        const char *why_has;
    } cases[] = {
        {",\"vmpl\":4", "vmpl"},
        {",\"vmpl\":\"0\"", "vmpl"},
        {",\"allow_smt\":1", "allow_smt"},
        {",\"guest_policy\":{\"smtt\":true}", "unknown bit"},
        {",\"guest_policy\":{\"smt\":1}", "guest_policy.smt"},
        {",\"platform_info\":{\"debug\":true}", "unknown bit"},
        {",\"min_abi_major\":256", "min_abi"},
        {",\"host_data\":\"00\"", "host_data"},
        {",\"family_id\":\"zz000000000000000000000000000000\"", "family_id"},
        {",\"crl_der\":\"crl.der\",\"crl_pem\":\"crl.pem\"", "not both"},
        {",\"crl_pem\":\"junk.crl\"", "crl_pem"},
        {",\"crl_der\":\"absent.crl\"", "crl_der"},
        {",\"asvk_pem\":\"crl.pem\"", "asvk_pem"},
        {",\"vlek\":true", "unknown field"},
    };
    ms_attest_policy_init(&p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snp_json(json, sizeof json, cases[i].extra);
        if (parse(&p, json) == MS_OK || strstr(p.why, cases[i].why_has) == NULL) {
            TEST_FAIL_("%s: accepted or the reason (\"%s\") does not name %s", cases[i].extra,
                       p.why, cases[i].why_has);
        }
    }
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"sev-snp\"],\"sev_snp\":{\"ark_pem\":\"%s/ark.pem\","
             "\"measurement\":\"%s\",\"min_tcb\":{\"bootloader\":1,\"tee\":0,\"snp\":8,"
             "\"microcode\":100,\"fmc\":256}}}",
             milan, M48);
    CHECK_ERR(parse(&p, json), MS_ERR_CONFIG);
    CHECK(strstr(p.why, "min_tcb.fmc") != NULL);
    ms_attest_policy_free(&p);
}

int main(void)
{
    snprintf(milan, sizeof milan, "%s/sev-snp/milan", MS_TESTDATA_DIR);
    snprintf(dir, sizeof dir, "/tmp/ms-test-policy-snp-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    write_crls();
    RUN(test_defaults);
    RUN(test_every_field);
    RUN(test_refusals);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "test_policy_snp: could not remove %s\n", dir);
    }
    snp_fx_keys_free();
    return TEST_SUMMARY();
}

/* The supervisor's evidence producer: PCR lists, type names, opening each kind and its failures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "secure/attest/producer.h"
#include "tests/test.h"

static char dir[256];

static void test_pcr_list(void)
{
    uint32_t m = 0xdeadu;
    CHECK_OK(ms_pcr_list_parse("0,1,2,3,4,5,6,7", &m));
    CHECK(m == 0xffu);
    CHECK_OK(ms_pcr_list_parse("23", &m));
    CHECK(m == 1u << 23);
    CHECK_OK(ms_pcr_list_parse("7,0,7", &m)); /* any order, repeats */
    CHECK(m == 0x81u);
    CHECK_OK(ms_pcr_list_parse("1,", &m)); /* one trailing comma, as before */
    CHECK(m == 0x2u);
    CHECK_OK(ms_pcr_list_parse("0000005", &m)); /* 7 characters at most */
    CHECK(m == 0x20u);

    /* Negative cases: each leaves *mask 0. */
    static const char *const bad[] = {
        "",   ",",   ",1",  "1,,2", "24",  "-1",  "1-7", "0x1", "a",  "1 ",
        "1;2", "00000005", "4294967297", "99999999999999999999", "1,24", "3,-0", " ",
        "+3", " 3", "3,+4", /* digits only (ms_text_read_u64); strtoul took a sign or a space */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = 0xdeadu;
        CHECK_ERR(ms_pcr_list_parse(bad[i], &m), MS_ERR_CONFIG);
        CHECK(m == 0);
    }
    m = 0xdeadu;
    CHECK_ERR(ms_pcr_list_parse(NULL, &m), MS_ERR_CONFIG);
    CHECK(m == 0);
}

static void test_kind_names(void)
{
    ms_producer_kind k;
    CHECK_OK(ms_producer_kind_parse("dev-key", &k));
    CHECK(k == MS_PRODUCER_DEV_KEY);
    CHECK_OK(ms_producer_kind_parse("tpm2", &k));
    CHECK(k == MS_PRODUCER_TPM2);
    CHECK_OK(ms_producer_kind_parse("sev-snp", &k));
    CHECK(k == MS_PRODUCER_SEV_SNP);
    static const char *const bad[] = {"", "TPM2", "tpm2 ", "sev_snp", "dev", "dev-key2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ERR(ms_producer_kind_parse(bad[i], &k), MS_ERR_CONFIG);
    }
    CHECK_ERR(ms_producer_kind_parse(NULL, &k), MS_ERR_CONFIG);
}

/* Dev key: created then loaded, the .pub written, evidence that verifies. */
static void test_dev_key(void)
{
    char key[512], pub[600];
    struct ms_producer *p = NULL;
    ms_producer_pins pins;
    ms_producer_step step;
    uint8_t b[MS_BINDING_LEN], pk[MS_SIGN_PK_LEN];
    char fp[MS_FINGERPRINT_LEN];
    snprintf(key, sizeof key, "%s/dev.pem", dir);
    snprintf(pub, sizeof pub, "%s.pub", key);
    ms_producer_cfg cfg = {.kind = MS_PRODUCER_DEV_KEY, .dev_key = key};
    CHECK_OK(ms_producer_open(&p, &cfg, &pins, &step));
    CHECK(p != NULL && step == MS_PRODUCER_STEP_NONE && pins.dev_created == 1);
    CHECK(ms_producer_type(p) == MS_EVIDENCE_DEV_KEY);
    CHECK_OK(ms_devkey_read_public(pub, pk));
    ms_devkey_fingerprint(pk, fp);
    CHECK(strcmp(fp, pins.dev_fingerprint) == 0);
    randombytes_buf(b, sizeof b);
    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(ms_producer_make(p, b, &ev));
    CHECK_OK(ms_devkey_verify(pk, ev.p, ev.len, b));
    b[0] ^= 1;
    CHECK_ERR(ms_devkey_verify(pk, ev.p, ev.len, b), MS_ERR_ATTEST_SIGNATURE);
    ms_buf_free(&ev);
    ms_producer_free(p);

    CHECK_OK(ms_producer_open(&p, &cfg, &pins, &step));
    CHECK(pins.dev_created == 0 && strcmp(fp, pins.dev_fingerprint) == 0);
    ms_producer_free(p);
    ms_producer_free(NULL);
}

static void test_dev_key_failures(void)
{
    char key[512];
    struct ms_producer *p = (struct ms_producer *)&p;
    ms_producer_pins pins;
    ms_producer_step step;

    /* The key cannot be made: no such directory. */
    snprintf(key, sizeof key, "%s/missing/dev.pem", dir);
    ms_producer_cfg cfg = {.kind = MS_PRODUCER_DEV_KEY, .dev_key = key};
    CHECK(ms_producer_open(&p, &cfg, &pins, &step) != MS_OK);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_DEV_KEY);

    /* A key others may read is refused. */
    snprintf(key, sizeof key, "%s/open.pem", dir);
    cfg.dev_key = key;
    CHECK_OK(ms_producer_open(&p, &cfg, &pins, &step));
    ms_producer_free(p);
    CHECK(chmod(key, 0644) == 0);
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_FILE_PERMS);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_DEV_KEY);

    /* The public file cannot be written: a directory stands in its place. */
    snprintf(key, sizeof key, "%s/pubdir.pem", dir);
    char pub[600];
    snprintf(pub, sizeof pub, "%s.pub", key);
    CHECK(mkdir(pub, 0700) == 0);
    cfg.dev_key = key;
    CHECK(ms_producer_open(&p, &cfg, &pins, &step) != MS_OK);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_DEV_KEY_PUB);

    /* No dev key path at all, or no config. */
    cfg.dev_key = NULL;
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_ARG);
    CHECK_ERR(ms_producer_open(&p, NULL, &pins, &step), MS_ERR_ARG);
    cfg = (ms_producer_cfg){.kind = (ms_producer_kind)7, .dev_key = key};
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_ARG);
    CHECK(p == NULL);
}

/* SEV-SNP without the hardware: each step fails on its own and says so. */
static void test_snp_failures(void)
{
    char none[512], root[512];
    struct ms_producer *p = NULL;
    ms_producer_pins pins;
    ms_producer_step step;
    snprintf(none, sizeof none, "%s/no-such", dir);
    ms_producer_cfg cfg = {.kind = MS_PRODUCER_SEV_SNP, .snp_tsm = none, .snp_device = none};
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_SNP_DEVICE);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_SNP_INTERFACE);

    /* --snp-certs first: a directory without a VCEK. */
    cfg.snp_certs = dir;
    CHECK(ms_producer_open(&p, &cfg, &pins, &step) != MS_OK);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_SNP_CERTS);

    /* A configfs-tsm root that is an ordinary directory: no provider, no report. */
    snprintf(root, sizeof root, "%s/tsm", dir);
    CHECK(mkdir(root, 0700) == 0);
    cfg = (ms_producer_cfg){.kind = MS_PRODUCER_SEV_SNP, .snp_tsm = root, .snp_device = none};
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_SNP_DEVICE);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_SNP_REPORT && pins.snp_known == 0);
}

/* A TPM that cannot be reached fails at the TPM step. */
static void test_tpm_failure(void)
{
    struct ms_producer *p = NULL;
    ms_producer_pins pins;
    ms_producer_step step;
    ms_producer_cfg cfg = {.kind = MS_PRODUCER_TPM2, .tpm_tcti = "swtpm:host=127.0.0.1,port=1",
                           .tpm_pcrs = 0xffu};
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_TPM_DEVICE);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_TPM);
    cfg.tpm_pcrs = 0; /* no PCR at all */
    CHECK(ms_producer_open(&p, &cfg, &pins, &step) != MS_OK);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_TPM);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/ms-test-producer-XXXXXX");
    if (!mkdtemp(dir)) {
        return 1;
    }
    RUN(test_pcr_list);
    RUN(test_kind_names);
    RUN(test_dev_key);
    RUN(test_dev_key_failures);
    RUN(test_snp_failures);
    RUN(test_tpm_failure);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return TEST_SUMMARY();
}

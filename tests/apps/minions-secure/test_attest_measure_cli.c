/*
 * minions-secure attest measure, the real program: the public OVMF footers give the expected
 * digests; a policy it writes admits a (test-made) SEV-SNP report with that measurement,
 * signed by a test chain, and refuses one off by one bit (attest --verify offline); --policy
 * updates a policy in place; usage errors.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/test.h"

#define MEAS MS_TESTDATA_DIR "/sev-snp/measurement"
#define AMDSEV MEAS "/ovmf_AmdSev_suffix.bin"
#define OVMFX64 MEAS "/ovmf_OvmfX64_suffix.bin"
/* cases.json: test_snp_with_multiple_vcpus_default, test_snp_ec2_snp_only */
#define LD_4VCPU "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942"
#define LD_EC2 "7d3756157c805bf6adf617064c8552e8c1688fa1c8756f11cbf56ba5d25c9270fb69c0505c1cbe1c5c66c0e34c6ed3be"

static e2e_world W;
static e2e_out R;

static int cli(const char *const *args)
{
    e2e_out_free(&R);
    return e2e_world_run(&W, &(e2e_cmd){.timeout_ms = 60000}, args, &R);
}

static int has(const ms_buf *b, const char *needle)
{
    return e2e_buf_shows(b, needle);
}

static int write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(p, 1, n, f) == n;
    return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

static int write_pem(const char *path, const ms_buf *der)
{
    const unsigned char *p = der->p;
    X509 *x = d2i_X509(NULL, &p, (long)der->len);
    FILE *f = fopen(path, "w");
    int ok = x && f && PEM_write_X509(f, x) == 1;
    X509_free(x);
    return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

/* --- the vectors' digests ------------------------------------------------------------------- */

static void test_vectors(void)
{
    const char *a[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "4", "--vcpu-type",
                       "EPYC-v4", "--guest-features", "0x21", "--kernel", "/dev/null",
                       "--initrd", "/dev/null", NULL};
    CHECK(cli(a) == 0);
    CHECK(strcmp((const char *)R.out.p, LD_4VCPU "\n") == 0);
    const char *b[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "1", "--vcpu-type",
                       "EPYC-v4", "--vmm-type", "ec2", "--kernel", "/dev/null", "--initrd",
                       "/dev/null", NULL};
    CHECK(cli(b) == 0);
    CHECK(strcmp((const char *)R.out.p, LD_EC2 "\n") == 0);
    /* the case that must be refused: a kernel with a firmware without kernel hashes */
    const char *c[] = {"attest", "measure", "--ovmf", OVMFX64, "--vcpus", "1", "--vcpu-type",
                       "EPYC-v4", "--kernel", "/dev/null", "--initrd", "/dev/null", NULL};
    CHECK(cli(c) == 2);
    CHECK(R.out.len == 0);
    CHECK(has(&R.err, "no SEV kernel-hashes section"));
}

/* --- a policy it writes, against test-made reports ------------------------------------------ */

static snp_fx_chain CHAIN;
static char POL[PATH_MAX], REPORT[PATH_MAX], VCEK[PATH_MAX];

/* A report with `hex`'s measurement (one bit flipped if flip), signed by the test VCEK. */
static int make_report(const char *hex, int flip)
{
    snp_fx_report_opts o;
    uint8_t report[MS_SNP_REPORT_LEN];
    size_t n = 0;
    snp_fx_report_opts_default(&o);
    if (ms_hex_decode(hex, 2 * MS_SNP_MEASUREMENT_LEN, o.measurement, sizeof o.measurement, &n) !=
            MS_OK ||
        n != MS_SNP_MEASUREMENT_LEN) {
        return -1;
    }
    o.measurement[MS_SNP_MEASUREMENT_LEN - 1] ^= (uint8_t)(flip ? 1 : 0);
    if (!snp_fx_report_make(report, &o, CHAIN.vcek_key)) {
        return -1;
    }
    return write_bytes(REPORT, report, sizeof report);
}

static int verify(void)
{
    const char *v[] = {"attest", "--verify", REPORT, "--vcek", VCEK, "--attestation-policy", POL,
                       NULL};
    return cli(v);
}

static void test_policy_admits(void)
{
    char ark[PATH_MAX], ask[PATH_MAX], digest[2 * MS_SNP_MEASUREMENT_LEN + 1];
    snp_fx_vcek_opts vo;
    struct stat st;
    snp_fx_vcek_opts_default(&vo);
    CHECK(snp_fx_chain_make(&CHAIN, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo,
                            48, 0));
    e2e_world_path(&W, ark, "ark.pem");
    e2e_world_path(&W, ask, "ask.pem");
    e2e_world_path(&W, VCEK, "vcek.der");
    e2e_world_path(&W, POL, "policy.json");
    e2e_world_path(&W, REPORT, "report.bin");
    CHECK(write_pem(ark, &CHAIN.ark) == 0 && write_pem(ask, &CHAIN.ask) == 0);
    CHECK(write_bytes(VCEK, CHAIN.vcek.p, CHAIN.vcek.len) == 0);

    /* The guest: AmdSev firmware, direct boot with a kernel command line, 4 vCPUs. */
    const char *m[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "4", "--vcpu-type",
                       "EPYC-v4", "--guest-features", "0x21", "--kernel", "/dev/null",
                       "--initrd", "/dev/null", "--policy-out", POL, "--ark", "ark.pem",
                       "--ask", "ask.pem", "--min-tcb", "3,0,8,115", NULL};
    CHECK(cli(m) == 0);
    CHECK(strcmp((const char *)R.out.p, LD_4VCPU "\n") == 0);
    CHECK(has(&R.err, "sev_snp.measurement written"));
    CHECK(stat(POL, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* never overwrites */
    CHECK(cli(m) == 2);
    CHECK(has(&R.err, "never overwritten"));

    memcpy(digest, LD_4VCPU, sizeof digest);
    CHECK(make_report(digest, 0) == 0);
    CHECK(verify() == 0);
    CHECK(has(&R.out, "PASS     measurement"));
    CHECK(has(&R.out, "result: PASS"));
    /* off by one bit: refused, by the measurement check alone */
    CHECK(make_report(digest, 1) == 0);
    CHECK(verify() == 4);
    CHECK(has(&R.out, "FAIL     measurement"));
    CHECK(has(&R.out, "PASS     signature"));

    /* --policy: pin another launch (1 vCPU) in the same file; the 4-vCPU report is refused,
       then pinning the 4-vCPU launch again admits it. */
    CHECK(make_report(digest, 0) == 0);
    const char *u1[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "1", "--vcpu-type",
                        "EPYC-v4", "--guest-features", "0x21", "--kernel", "/dev/null",
                        "--initrd", "/dev/null", "--policy", POL, NULL};
    CHECK(cli(u1) == 0);
    CHECK(has(&R.err, "sev_snp.measurement updated"));
    CHECK(verify() == 4);
    CHECK(has(&R.out, "FAIL     measurement"));
    const char *u4[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "4", "--vcpu-type",
                        "EPYC-v4", "--guest-features", "0x21", "--kernel", "/dev/null",
                        "--initrd", "/dev/null", "--policy", POL, NULL};
    CHECK(cli(u4) == 0);
    CHECK(verify() == 0);
    CHECK(has(&R.out, "PASS     measurement"));
    /* the rest of the policy is kept: the ASK it names is still used (no --ask given) */
    CHECK(has(&R.out, "PASS     chain"));
    snp_fx_chain_free(&CHAIN);
}

/* --- usage ---------------------------------------------------------------------------------- */

static void test_usage(void)
{
    char other[PATH_MAX];
    e2e_world_path(&W, other, "other.json");
    const char *a[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpu-type", "EPYC-v4", NULL};
    CHECK(cli(a) == 2);
    CHECK(has(&R.err, "--vcpus and --vcpu-type are required"));
    const char *b[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "0", "--vcpu-type",
                       "EPYC-v4", NULL};
    CHECK(cli(b) == 2);
    const char *c[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "1", "--vcpu-type",
                       "Skylake", NULL};
    CHECK(cli(c) == 2);
    CHECK(has(&R.err, "--vcpu-type Skylake: unknown"));
    const char *d[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "1", "--vcpu-type",
                       "EPYC-v4", "--append", "quiet", NULL};
    CHECK(cli(d) == 2);
    CHECK(has(&R.err, "only with --kernel"));
    const char *e[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "1", "--vcpu-type",
                       "EPYC-v4", "--policy-out", other, NULL};
    CHECK(cli(e) == 2);
    CHECK(has(&R.err, "needs --ark"));
    const char *e2[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "1", "--vcpu-type",
                        "EPYC-v4", "--policy-out", other, "--ark", "ark.pem", "--min-tcb",
                        "3,0,8", NULL};
    CHECK(cli(e2) == 2);
    CHECK(has(&R.err, "for --min-tcb: 3,0,8"));
    CHECK(access(other, F_OK) != 0); /* nothing written */
    const char *f[] = {"attest", "measure", "--ovmf", "/nonexistent/ovmf.fd", "--vcpus", "1",
                       "--vcpu-type", "EPYC-v4", NULL};
    CHECK(cli(f) == 2);
    CHECK(has(&R.err, "--ovmf /nonexistent/ovmf.fd"));
    const char *g[] = {"attest", "measure", "--ovmf", AMDSEV, "--vcpus", "1", "--vcpu-type",
                       "EPYC-v4", "--supervisor_url", "https://127.0.0.1:1", NULL};
    CHECK(cli(g) == 2);
    CHECK(has(&R.err, "measure connects to nothing"));
    const char *h[] = {"attest", "measure", "--ovmf", MEAS "/cases.json", "--vcpus", "1",
                       "--vcpu-type", "EPYC-v4", NULL};
    CHECK(cli(h) == 2);
    CHECK(has(&R.err, "OVMF image is malformed"));
    /* --help: every line within 80 columns */
    const char *i[] = {"attest", "measure", "--help", NULL};
    CHECK(cli(i) == 0);
    CHECK(has(&R.out, "--policy-out FILE"));
    const char *line = (const char *)R.out.p;
    int narrow = 1;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        narrow &= len <= 80;
        line = nl ? nl + 1 : NULL;
    }
    CHECK(narrow);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_attest_measure_cli", E2E_CLI, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    RUN(test_vectors);
    RUN(test_policy_admits);
    RUN(test_usage);
    e2e_out_free(&R);
    snp_fx_keys_free();
    return e2e_world_close(&W, TEST_SUMMARY());
}

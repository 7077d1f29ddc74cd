/*
 * fake-tsm itself: configfs-tsm's behaviour as the producers rely on it (mkdir makes an
 * entry with its attributes, generation counts inblob writes, outblob is a report over the
 * last inblob, auxblob the configured table, rmdir removes the entry), the producers'
 * exchange (ms_tsm_exchange) against it, the inblob cap, and clean refusals of bad options
 * and configuration files. Skipped (ctest's skip code) with the reason where FUSE is
 * unavailable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "secure/attest/snp.h"
#include "secure/attest/snp_produce.h"
#include "secure/attest/tdx.h"
#include "tests/fixture/faketsm.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/world.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

#ifndef MS_FAKE_TSM
#error "MS_FAKE_TSM must name the fake-tsm program (tests/tools/fake-tsm/CMakeLists.txt)"
#endif

static char DIR_[PATH_MAX];
static snp_fx_chain CHAIN;
static e2e_faketsm T; /* sev_guest, serving snp.json */

static int put(const char *name, const char *text)
{
    char path[PATH_MAX];
    e2e_path(path, "%s/%s", DIR_, name);
    return e2e_file_write(path, text);
}

/* fake-tsm run to completion with these arguments; its exit code, stderr in err. */
static int run(const char *provider, const char *config, const char *mnt, ms_buf *err)
{
    char cfg[PATH_MAX];
    e2e_path(cfg, "%s/%s", DIR_, config);
    char *argv[] = {MS_FAKE_TSM, "-f", "--provider", (char *)provider, "--config", cfg,
                    (char *)mnt, NULL};
    ms_buf_clear(err);
    int rc = e2e_run(argv, 20000, DIR_, NULL, err);
    return ms_buf_terminate(err) == MS_OK ? rc : -1;
}

/* Bad options and configuration files: exit 2, one line naming what is wrong. */
static void test_refusals(void)
{
    ms_buf err;
    char mnt[PATH_MAX];
    ms_buf_init(&err, 65536);
    e2e_path(mnt, "%s/unused", DIR_);
    CHECK(run("sgx_guest", "snp.json", mnt, &err) == 2 && e2e_buf_has(&err, "--provider"));
    CHECK(run("sev_guest", "absent.json", mnt, &err) == 2 && e2e_buf_has(&err, "absent.json"));
    CHECK(put("bad1.json", "{\"key\":\"vcek.key\",\"colour\":1}") == 0);
    CHECK(run("sev_guest", "bad1.json", mnt, &err) == 2 && e2e_buf_has(&err, "unknown field \"colour\""));
    CHECK(put("bad2.json", "{\"key\":\"vcek.key\",\"snp\":{\"measurement\":\"abcd\"}}") == 0);
    CHECK(run("sev_guest", "bad2.json", mnt, &err) == 2 &&
          e2e_buf_has(&err, "snp.measurement: not 96 hex digits"));
    CHECK(put("bad3.json", "{\"key\":\"vcek.key\",\"snp\":{\"vmpl\":4}}") == 0);
    CHECK(run("sev_guest", "bad3.json", mnt, &err) == 2 && e2e_buf_has(&err, "snp.vmpl"));
    CHECK(put("bad4.json", "{\"key\":\"ark.pem\"}") == 0);
    CHECK(run("sev_guest", "bad4.json", mnt, &err) == 2 && e2e_buf_has(&err, "not a PEM private key"));
    CHECK(put("bad5.json", "{\"key\":\"vcek.key\",\"tdx\":{}}") == 0);
    CHECK(run("sev_guest", "bad5.json", mnt, &err) == 2 && e2e_buf_has(&err, "sev_guest"));
    CHECK(run("tdx_guest", "snp.json", mnt, &err) == 2 && e2e_buf_has(&err, "tdx_guest"));
    CHECK(put("bad6.json", "{\"key\":\"vcek.key\"") == 0);
    CHECK(run("sev_guest", "bad6.json", mnt, &err) == 2);
    /* a configuration over the cap */
    char *big = malloc(70000);
    if (big != NULL) {
        memset(big, ' ', 69999);
        big[0] = '{';
        big[69997] = '}';
        big[69998] = '\n';
        big[69999] = 0;
        CHECK(put("big.json", big) == 0);
        CHECK(run("sev_guest", "big.json", mnt, &err) == 2);
        free(big);
    }
    ms_buf_free(&err);
}

static int read_text(const char *entry, const char *attr, char *out, size_t cap)
{
    char path[PATH_MAX];
    e2e_path(path, "%s/%s", entry, attr);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, out, cap - 1) : -1;
    if (fd >= 0) {
        close(fd);
    }
    out[n > 0 ? n : 0] = '\0';
    return n >= 0 ? 0 : -1;
}

/* One write of inblob; the write's and close's results (errno on failure). */
static int write_in(const char *entry, const void *p, size_t n)
{
    char path[PATH_MAX];
    e2e_path(path, "%s/inblob", entry);
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        return errno;
    }
    ssize_t w = write(fd, p, n);
    int e = w == (ssize_t)n ? 0 : errno;
    return close(fd) == 0 ? e : errno;
}

static void test_entries(void)
{
    const e2e_faketsm *t = &T;
    char entry[PATH_MAX], text[64];
    uint8_t rd[64], report[MS_SNP_REPORT_LEN + 16];
    e2e_path(entry, "%s/one", t->mnt);
    CHECK(mkdir(entry, 0700) == 0);
    CHECK(mkdir(entry, 0700) != 0 && errno == EEXIST);
    CHECK(e2e_dir_count(t->mnt) == 1);
    CHECK(e2e_dir_count(entry) == 5);
    CHECK(read_text(entry, "provider", text, sizeof text) == 0 && strcmp(text, "sev_guest\n") == 0);
    CHECK(read_text(entry, "generation", text, sizeof text) == 0 && strcmp(text, "0\n") == 0);
    memset(rd, 0x42, sizeof rd);
    CHECK(write_in(entry, rd, sizeof rd) == 0);
    CHECK(read_text(entry, "generation", text, sizeof text) == 0 && strcmp(text, "1\n") == 0);
    /* over the kernel's 64 bytes: refused, nothing committed */
    uint8_t big[65] = {0};
    CHECK(write_in(entry, big, sizeof big) == EFBIG);
    CHECK(read_text(entry, "generation", text, sizeof text) == 0 && strcmp(text, "1\n") == 0);
    /* outblob: a report over the last inblob, signed by the test VCEK */
    char path[PATH_MAX];
    e2e_path(path, "%s/outblob", entry);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, report, sizeof report) : -1;
    CHECK(fd >= 0 && n == MS_SNP_REPORT_LEN);
    if (fd >= 0) {
        close(fd);
    }
    ms_snp_report r;
    CHECK(n == MS_SNP_REPORT_LEN && ms_snp_report_decode(report, MS_SNP_REPORT_LEN, &r) == MS_OK &&
          memcmp(r.report_data, rd, sizeof rd) == 0 && r.vmpl == 2);
    /* attributes are what they are: inblob is not read, outblob not written */
    CHECK(open(path, O_WRONLY) < 0 && errno == EACCES);
    CHECK(rmdir(entry) == 0);
    CHECK(e2e_dir_count(t->mnt) == 0);
    CHECK(rmdir(entry) != 0 && errno == ENOENT);
    /* entries only directly under the root */
    e2e_path(entry, "%s/a/b", t->mnt);
    CHECK(mkdir(entry, 0700) != 0);
}

/* The producers' own exchange against it: mkdir, provider, generation, inblob, outblob,
   auxblob (the configured table), generation + 1, rmdir. */
static void test_producer_exchange(void)
{
    const e2e_faketsm *t = &T;
    uint8_t b[64];
    ms_buf out, aux;
    memset(b, 0x17, sizeof b);
    ms_buf_init(&out, MS_SNP_MAX_OUTBLOB);
    ms_buf_init(&aux, MS_SNP_MAX_CERT_TABLE);
    CHECK_OK(ms_tsm_exchange(t->mnt, "sev_guest", b, sizeof b, MS_SNP_MAX_OUTBLOB, &out, &aux));
    CHECK(out.len == MS_SNP_REPORT_LEN && memcmp(out.p + 0x50, b, sizeof b) == 0);
    ms_snp_certs certs;
    CHECK(ms_snp_cert_table_parse(aux.p, aux.len, &certs) == MS_OK && certs.vcek_len > 0 &&
          certs.vcek_len == CHAIN.vcek.len && memcmp(certs.vcek, CHAIN.vcek.p, certs.vcek_len) == 0);
    CHECK_ERR(ms_tsm_exchange(t->mnt, "tdx_guest", b, sizeof b, MS_SNP_MAX_OUTBLOB, &out, &aux),
              MS_ERR_SNP_DEVICE);
    CHECK(e2e_dir_count(t->mnt) == 0); /* every entry removed */
    /* the configuration is read per report: a broken one fails that report only */
    CHECK(put("snp.json", "{\"key\":\"vcek.key\",\"snp\":{\"vmpl\":9}}") == 0);
    CHECK_ERR(ms_tsm_exchange(t->mnt, "sev_guest", b, sizeof b, MS_SNP_MAX_OUTBLOB, &out, &aux),
              MS_ERR_SNP_DEVICE);
    CHECK(e2e_file_contains(t->log, "snp.vmpl"));
    CHECK(put("snp.json", "{\"key\":\"vcek.key\",\"aux\":\"certs.bin\",\"snp\":{\"vmpl\":2}}") == 0);
    CHECK_OK(ms_tsm_exchange(t->mnt, "sev_guest", b, sizeof b, MS_SNP_MAX_OUTBLOB, &out, &aux));
    ms_buf_free(&out);
    ms_buf_free(&aux);
}

/* A TDX quote over inblob, from the TDX test platform's files. */
static void test_tdx(void)
{
    tdx_fx_platform td;
    e2e_faketsm t;
    char why[256];
    uint8_t b[64];
    ms_buf out;
    ms_tdx_quote q;
    memset(b, 0x29, sizeof b);
    ms_buf_init(&out, MS_TDX_MAX_OUTBLOB);
    CHECK(tdx_fx_platform_make(&td, DIR_));
    CHECK(e2e_faketsm_start(&t, MS_FAKE_TSM, DIR_, "tdx", "tdx_guest", td.config, why) == 0);
    CHECK_OK(ms_tsm_exchange(t.mnt, "tdx_guest", b, sizeof b, MS_TDX_MAX_OUTBLOB, &out, NULL));
    CHECK(ms_tdx_quote_decode(out.p, out.len, &q) == MS_OK &&
          memcmp(q.td.report_data, b, sizeof b) == 0 &&
          memcmp(q.td.mrtd, td.qo.mrtd, sizeof td.qo.mrtd) == 0);
    CHECK(e2e_faketsm_stop(&t) == 0);
    tdx_fx_platform_free(&td);
    ms_buf_free(&out);
}

int main(void)
{
    char why[256], config[PATH_MAX];
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    if (e2e_tmpdir_new("ms-test_fake_tsm", DIR_) != 0 ||
        !snp_fx_chain_make(&CHAIN, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo,
                           48, 0) ||
        !snp_fx_chain_write(&CHAIN, DIR_) ||
        put("snp.json", "{\"key\":\"vcek.key\",\"aux\":\"certs.bin\",\"snp\":{\"vmpl\":2}}") != 0) {
        fprintf(stderr, "test_fake_tsm: set-up failed\n");
        return 1;
    }
    e2e_path(config, "%s/snp.json", DIR_);
    int rc = e2e_faketsm_start(&T, MS_FAKE_TSM, DIR_, "tsm", "sev_guest", config, why);
    if (rc == 1) {
        printf("SKIPPED: %s\n", why);
    } else {
        CHECK(rc == 0);
        RUN(test_refusals);
        if (rc == 0) {
            RUN(test_entries);
            RUN(test_producer_exchange);
            RUN(test_tdx);
        }
    }
    CHECK(e2e_faketsm_stop(&T) == 0);
    snp_fx_chain_free(&CHAIN);
    snp_fx_keys_free();
    e2e_tmpdir_remove(DIR_);
    return rc == 1 ? E2E_SKIP_CODE : TEST_SUMMARY();
}

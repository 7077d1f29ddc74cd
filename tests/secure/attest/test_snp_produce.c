/* SEV-SNP producer tests: the certificate table, bundle assembly, configfs-tsm on a fake tree. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure/attest/devkey.h"
#include "secure/attest/snp_produce.h"
#include "tests/secure/attest/snp_fake_tsm.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/test.h"

static snp_fx_amd amd;
static char dir[256];

static void table_of(ms_buf *out, const snp_fx_table_entry *e, size_t n)
{
    ms_buf_init(out, 2 * MS_SNP_MAX_CERT_TABLE);
    CHECK(snp_fx_cert_table(out, e, n));
}

/* ---- certificate table ------------------------------------------------------------------ */

static void test_cert_table_good(void)
{
    static const uint8_t other[16] = {0x92, 0xf8, 0x1b, 0xc3}; /* e.g. a CRL entry */
    ms_buf t;
    ms_snp_certs c;
    snp_fx_table_entry e[] = {
        {SNP_FX_GUID_ARK, amd.ark.p, amd.ark.len},
        {other, (const uint8_t *)"crl", 3},
        {SNP_FX_GUID_VCEK, amd.vcek.p, amd.vcek.len},
        {SNP_FX_GUID_ASK, amd.ask.p, amd.ask.len},
    };
    table_of(&t, e, 4);
    CHECK_OK(ms_snp_cert_table_parse(t.p, t.len, &c));
    CHECK(c.vcek_len == amd.vcek.len && memcmp(c.vcek, amd.vcek.p, amd.vcek.len) == 0);
    CHECK(c.ask_len == amd.ask.len && memcmp(c.ask, amd.ask.p, amd.ask.len) == 0);
    CHECK(c.ark_len == amd.ark.len && memcmp(c.ark, amd.ark.p, amd.ark.len) == 0);
    CHECK(!c.has_vlek);
    /* /dev/sev-guest hands back the whole page-sized buffer: zeros after the table. */
    uint8_t *pad;
    CHECK_OK(ms_buf_extend(&t, 4096, &pad));
    memset(pad, 0, 4096);
    CHECK_OK(ms_snp_cert_table_parse(t.p, t.len, &c));
    CHECK(c.vcek_len == amd.vcek.len);
    ms_buf_free(&t);
    /* Empty: no certificates, no error. A lone terminator likewise. */
    CHECK_OK(ms_snp_cert_table_parse(NULL, 0, &c));
    CHECK(c.vcek == NULL && c.ask == NULL);
    table_of(&t, NULL, 0);
    CHECK_OK(ms_snp_cert_table_parse(t.p, t.len, &c));
    CHECK(c.vcek == NULL);
    ms_buf_free(&t);
    /* A VLEK is noted. */
    snp_fx_table_entry v[] = {{SNP_FX_GUID_VLEK, amd.vcek.p, amd.vcek.len}};
    table_of(&t, v, 1);
    CHECK_OK(ms_snp_cert_table_parse(t.p, t.len, &c));
    CHECK(c.has_vlek && c.vcek == NULL);
    ms_buf_free(&t);
}

/* The fuzz seed's table (written by a separate encoder, from the doc) parses to AMD's certs. */
static void test_cert_table_seed(void)
{
    ms_buf t;
    ms_snp_certs c;
    ms_buf_init(&t, MS_SNP_MAX_CERT_TABLE);
    CHECK_OK(ms_file_read(MS_SOURCE_DIR "/tests/fuzz/corpus/fuzz_snp/milan_certtable",
                          MS_SNP_MAX_CERT_TABLE, &t));
    CHECK_OK(ms_snp_cert_table_parse(t.p, t.len, &c));
    CHECK(c.vcek_len == amd.vcek.len && memcmp(c.vcek, amd.vcek.p, amd.vcek.len) == 0);
    CHECK(c.ask_len == amd.ask.len && memcmp(c.ask, amd.ask.p, amd.ask.len) == 0);
    CHECK(c.ark_len == amd.ark.len && memcmp(c.ark, amd.ark.p, amd.ark.len) == 0);
    ms_buf_free(&t);
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void test_cert_table_bad(void)
{
    ms_buf t;
    ms_snp_certs c;
    snp_fx_table_entry e[] = {
        {SNP_FX_GUID_VCEK, amd.vcek.p, amd.vcek.len},
        {SNP_FX_GUID_ASK, amd.ask.p, amd.ask.len},
    };
    table_of(&t, e, 2);
    /* Truncated at every offset: the header loses its terminator or an entry its bytes. */
    for (size_t n = 1; n < t.len; n++) {
        if (ms_snp_cert_table_parse(t.p, n, &c) != MS_ERR_SNP_FORMAT) {
            TEST_FAIL_("table cut to %zu bytes parses", n);
        }
    }
    CHECK(c.vcek == NULL); /* zeroed on failure */
    /* Entry bytes outside the table, inside the header, empty; a terminator with data. */
    static const struct {
        size_t at;
        uint32_t v;
    } edits[] = {
        {16, 0},                  /* VCEK offset 0: inside the header */
        {16, 24 * 3 - 1},         /* one byte into the terminator */
        {20, 0},                  /* empty VCEK */
        {20, 0xFFFFFFFFu},        /* length far past the end */
        {40, 0xFFFFFFF0u},        /* ASK offset far past the end (no overflow) */
        {24 * 2 + 16, 1},         /* terminator's offset non-zero */
        {20, MS_SNP_MAX_CERT + 1} /* over the per-certificate cap */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        uint8_t keep[4];
        memcpy(keep, t.p + edits[i].at, 4);
        put_u32le(t.p + edits[i].at, edits[i].v);
        if (ms_snp_cert_table_parse(t.p, t.len, &c) != MS_ERR_SNP_FORMAT) {
            TEST_FAIL_("edit %zu parses", i);
        }
        memcpy(t.p + edits[i].at, keep, 4);
    }
    CHECK_OK(ms_snp_cert_table_parse(t.p, t.len, &c));
    ms_buf_free(&t);
    /* The same GUID twice. */
    snp_fx_table_entry dup[] = {
        {SNP_FX_GUID_VCEK, amd.vcek.p, amd.vcek.len},
        {SNP_FX_GUID_VCEK, amd.vcek.p, amd.vcek.len},
    };
    table_of(&t, dup, 2);
    CHECK_ERR(ms_snp_cert_table_parse(t.p, t.len, &c), MS_ERR_SNP_FORMAT);
    ms_buf_free(&t);
    /* Too many entries before the terminator. */
    snp_fx_table_entry many[MS_SNP_MAX_CERT_ENTRIES + 1];
    static const uint8_t g[16] = {1};
    for (size_t i = 0; i < MS_SNP_MAX_CERT_ENTRIES + 1; i++) {
        many[i] = (snp_fx_table_entry){g, (const uint8_t *)"x", 1};
    }
    table_of(&t, many, MS_SNP_MAX_CERT_ENTRIES);
    CHECK_OK(ms_snp_cert_table_parse(t.p, t.len, &c));
    ms_buf_free(&t);
    table_of(&t, many, MS_SNP_MAX_CERT_ENTRIES + 1);
    CHECK_ERR(ms_snp_cert_table_parse(t.p, t.len, &c), MS_ERR_SNP_FORMAT);
    ms_buf_free(&t);
    /* Over the table cap. */
    uint8_t *big = calloc(1, MS_SNP_MAX_CERT_TABLE + 1);
    CHECK_ERR(ms_snp_cert_table_parse(big, MS_SNP_MAX_CERT_TABLE + 1, &c), MS_ERR_CAP_EXCEEDED);
    free(big);
}

/* ---- bundle assembly -------------------------------------------------------------------- */

static void raw_of_milan(ms_snp_raw *raw, int with_vcek, int with_ask)
{
    snp_fx_table_entry e[3];
    size_t n = 0;
    ms_snp_raw_init(raw);
    memcpy(raw->report, amd.report, sizeof raw->report);
    e[n++] = (snp_fx_table_entry){SNP_FX_GUID_ARK, amd.ark.p, amd.ark.len};
    if (with_vcek) {
        e[n++] = (snp_fx_table_entry){SNP_FX_GUID_VCEK, amd.vcek.p, amd.vcek.len};
    }
    if (with_ask) {
        e[n++] = (snp_fx_table_entry){SNP_FX_GUID_ASK, amd.ask.p, amd.ask.len};
    }
    CHECK(snp_fx_cert_table(&raw->certs, e, n));
}

static void test_evidence_from_raw(void)
{
    ms_snp_raw raw;
    ms_snp_producer_cfg cfg;
    ms_snp_bundle b;
    ms_snp_checks ch;
    ms_buf ev;
    ms_snp_policy p;
    memset(&p, 0, sizeof p);
    p.ark_der = amd.ark.p;
    p.ark_len = amd.ark.len;
    memset(&cfg, 0, sizeof cfg);
    ms_buf_init(&ev, MS_SNP_MAX_BUNDLE);
    raw_of_milan(&raw, 1, 1);
    CHECK_OK(ms_snp_evidence_from_raw(&cfg, &raw, &ev));
    CHECK_OK(ms_snp_bundle_decode(ev.p, ev.len, &b));
    CHECK(b.vcek_len == amd.vcek.len && b.ask_len == amd.ask.len);
    CHECK_OK(ms_snp_verify_report(&p, ev.p, ev.len, &ch)); /* never the table's ARK */
    /* omit_ask: the client's policy holds it. */
    ms_buf_clear(&ev);
    cfg.omit_ask = 1;
    CHECK_OK(ms_snp_evidence_from_raw(&cfg, &raw, &ev));
    CHECK_OK(ms_snp_bundle_decode(ev.p, ev.len, &b));
    CHECK(b.ask == NULL);
    ms_snp_raw_free(&raw);
    /* No VCEK from the host: the operator's, or nothing to offer. */
    raw_of_milan(&raw, 0, 0);
    ms_buf_clear(&ev);
    cfg.omit_ask = 0;
    CHECK_ERR(ms_snp_evidence_from_raw(&cfg, &raw, &ev), MS_ERR_ATTEST_UNAVAILABLE);
    cfg.vcek_der = amd.vcek.p;
    cfg.vcek_len = amd.vcek.len;
    CHECK_ERR(ms_snp_evidence_from_raw(&cfg, &raw, &ev), MS_ERR_ATTEST_UNAVAILABLE); /* no ASK */
    cfg.ask_der = amd.ask.p;
    cfg.ask_len = amd.ask.len;
    CHECK_OK(ms_snp_evidence_from_raw(&cfg, &raw, &ev));
    CHECK_OK(ms_snp_verify_report(&p, ev.p, ev.len, &ch));
    /* A malformed table or report is refused before anything is sent. */
    raw.certs.p[16] ^= 0xff;
    ms_buf_clear(&ev);
    CHECK_ERR(ms_snp_evidence_from_raw(&cfg, &raw, &ev), MS_ERR_SNP_FORMAT);
    raw.certs.p[16] ^= 0xff;
    raw.report[0] = 9;
    CHECK_ERR(ms_snp_evidence_from_raw(&cfg, &raw, &ev), MS_ERR_SNP_FORMAT);
    CHECK(ev.len == 0);
    ms_snp_raw_free(&raw);
    ms_buf_free(&ev);
}

/* ---- configfs-tsm against a fake entry -------------------------------------------------- */

static const uint8_t BINDING[MS_BINDING_LEN] = {0xb1, 0xb2, 0xb3, [63] = 0xbf};

/* A made-up chain whose VCEK signs what the fake "kernel" returns. */
static void fake_with_chain(snp_fake_tsm *f, snp_fx_chain *chain, ms_buf *aux)
{
    snp_fx_vcek_opts vo;
    snp_fx_vcek_opts_default(&vo);
    CHECK(snp_fx_chain_make(chain, snp_fx_rsa_key(0), snp_fx_rsa_key(1), snp_fx_p384_key(0), &vo,
                            48, 0));
    snp_fx_table_entry e[] = {
        {SNP_FX_GUID_VCEK, chain->vcek.p, chain->vcek.len},
        {SNP_FX_GUID_ASK, chain->ask.p, chain->ask.len},
        {SNP_FX_GUID_ARK, chain->ark.p, chain->ark.len},
    };
    table_of(aux, e, 3);
    CHECK(snp_fake_tsm_setup(f, dir, "sev_guest", aux->p, aux->len));
    f->sign_key = chain->vcek_key;
    snp_fx_report_opts_default(&f->ro);
}

/* Producer to verifier: the report the fake makes over our inblob verifies as this session's. */
static void test_tsm_entry_end_to_end(void)
{
    snp_fake_tsm f;
    snp_fx_chain chain;
    ms_buf aux, ev;
    ms_snp_raw raw;
    ms_snp_producer_cfg cfg;
    fake_with_chain(&f, &chain, &aux);
    CHECK(snp_fake_tsm_start(&f));
    ms_snp_raw_init(&raw);
    CHECK_OK(ms_snp_tsm_entry_report(f.dir, BINDING, &raw));
    CHECK(snp_fake_tsm_join(&f));
    CHECK(f.inblob_len == MS_BINDING_LEN && memcmp(f.inblob, BINDING, MS_BINDING_LEN) == 0);
    CHECK(raw.certs.len == aux.len && memcmp(raw.certs.p, aux.p, aux.len) == 0);
    memset(&cfg, 0, sizeof cfg);
    ms_buf_init(&ev, MS_SNP_MAX_BUNDLE);
    CHECK_OK(ms_snp_evidence_from_raw(&cfg, &raw, &ev));
    ms_snp_policy p;
    memset(&p, 0, sizeof p);
    p.ark_der = chain.ark.p;
    p.ark_len = chain.ark.len;
    memcpy(p.measurement, f.ro.measurement, sizeof p.measurement);
    CHECK_OK(ms_snp_verify(&p, ev.p, ev.len, BINDING));
    ms_buf_free(&ev);
    ms_snp_raw_free(&raw);
    snp_fake_tsm_teardown(&f);
    snp_fx_chain_free(&chain);
    ms_buf_free(&aux);
}

static void test_tsm_entry_no_auxblob(void)
{
    snp_fake_tsm f;
    ms_snp_raw raw;
    CHECK(snp_fake_tsm_setup(&f, dir, "sev_guest", NULL, 0));
    f.sign_key = snp_fx_p384_key(0);
    snp_fx_report_opts_default(&f.ro);
    CHECK(snp_fake_tsm_start(&f));
    ms_snp_raw_init(&raw);
    CHECK_OK(ms_snp_tsm_entry_report(f.dir, BINDING, &raw));
    CHECK(raw.certs.len == 0 && memcmp(raw.report + 0x50, BINDING, MS_BINDING_LEN) == 0);
    ms_snp_raw_free(&raw);
    snp_fake_tsm_teardown(&f);
}

/* Another writer between our inblob and our read: generation moved by two. */
static void test_tsm_concurrent_writer(void)
{
    snp_fake_tsm f;
    ms_snp_raw raw;
    CHECK(snp_fake_tsm_setup(&f, dir, "sev_guest", NULL, 0));
    f.sign_key = snp_fx_p384_key(0);
    snp_fx_report_opts_default(&f.ro);
    f.gen_step = 2;
    CHECK(snp_fake_tsm_start(&f));
    ms_snp_raw_init(&raw);
    CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), MS_ERR_SNP_DEVICE);
    snp_fake_tsm_join(&f);
    /* And one that made generation go nowhere at all. */
    snp_fake_tsm_teardown(&f);
    CHECK(snp_fake_tsm_setup(&f, dir, "sev_guest", NULL, 0));
    f.sign_key = snp_fx_p384_key(0);
    snp_fx_report_opts_default(&f.ro);
    f.gen_step = 0;
    CHECK(snp_fake_tsm_start(&f));
    CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), MS_ERR_SNP_DEVICE);
    ms_snp_raw_free(&raw);
    snp_fake_tsm_teardown(&f);
}

/* outblob that is not one report, or a report over another binding. */
static void test_tsm_bad_outblob(void)
{
    static uint8_t junk[MS_SNP_MAX_OUTBLOB + 1];
    const struct {
        const uint8_t *p;
        size_t len;
        ms_err want;
    } cases[] = {
        {amd.report, MS_SNP_REPORT_LEN - 1, MS_ERR_SNP_FORMAT},
        {junk, MS_SNP_REPORT_LEN + 1, MS_ERR_SNP_FORMAT},
        {junk, 0, MS_ERR_SNP_FORMAT},
        {junk, sizeof junk, MS_ERR_CAP_EXCEEDED},
        {amd.report, MS_SNP_REPORT_LEN, MS_ERR_SNP_DEVICE}, /* its report_data is not ours */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snp_fake_tsm f;
        ms_snp_raw raw;
        CHECK(snp_fake_tsm_setup(&f, dir, "sev_guest", NULL, 0));
        f.canned = cases[i].p;
        f.canned_len = cases[i].len;
        CHECK(snp_fake_tsm_start(&f));
        ms_snp_raw_init(&raw);
        CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), cases[i].want);
        ms_snp_raw_free(&raw);
        snp_fake_tsm_teardown(&f);
    }
}

/* Refusals before inblob is written (no thread: nothing would read it). */
static void test_tsm_refusals(void)
{
    snp_fake_tsm f;
    ms_snp_raw raw;
    ms_snp_raw_init(&raw);
    CHECK(snp_fake_tsm_setup(&f, dir, "tdx_guest", NULL, 0));
    CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), MS_ERR_SNP_DEVICE);
    CHECK(snp_fake_tsm_write(&f, "provider", "sev_guest\0x\n", 12));
    CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), MS_ERR_SNP_DEVICE);
    CHECK(snp_fake_tsm_write(&f, "provider", "sev_guest", 9)); /* no newline is fine */
    static const char *const bad_gen[] = {"",    "\n",  "x1\n",
                                          "-1\n", "1 \n", "99999999999999999999\n"};
    for (size_t i = 0; i < sizeof bad_gen / sizeof bad_gen[0]; i++) {
        CHECK(snp_fake_tsm_write(&f, "generation", bad_gen[i], strlen(bad_gen[i])));
        CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), MS_ERR_SNP_DEVICE);
    }
    char long_text[MS_SNP_MAX_ATTR_TEXT + 1];
    memset(long_text, '1', sizeof long_text);
    CHECK(snp_fake_tsm_write(&f, "generation", long_text, sizeof long_text));
    CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), MS_ERR_CAP_EXCEEDED);
    snp_fake_tsm_teardown(&f);
    /* An entry with no attributes at all. */
    CHECK(snp_fake_tsm_setup(&f, dir, NULL, NULL, 0));
    CHECK_ERR(ms_snp_tsm_entry_report(f.dir, BINDING, &raw), MS_ERR_SNP_DEVICE);
    snp_fake_tsm_teardown(&f);
    ms_snp_raw_free(&raw);
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    if (d == NULL) {
        return 0;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n == 0;
}

/* The whole configfs flow: mkdir a fresh entry, and always rmdir it. */
static void test_tsm_root(void)
{
    char root[512];
    ms_snp_raw raw;
    ms_snp_raw_init(&raw);
    snprintf(root, sizeof root, "%s/tsm-root", dir);
    CHECK_ERR(ms_snp_tsm_report(root, BINDING, &raw), MS_ERR_SNP_DEVICE); /* no such root */
    CHECK(mkdir(root, 0700) == 0);
    /* A plain directory makes an entry without attributes: refused, and cleaned up. */
    CHECK_ERR(ms_snp_tsm_report(root, BINDING, &raw), MS_ERR_SNP_DEVICE);
    CHECK(dir_is_empty(root));
    char longroot[5000];
    memset(longroot, 'a', sizeof longroot - 1);
    longroot[sizeof longroot - 1] = 0;
    CHECK_ERR(ms_snp_tsm_report(longroot, BINDING, &raw), MS_ERR_ARG);
    CHECK(rmdir(root) == 0);
    ms_snp_raw_free(&raw);
}

/* /dev/sev-guest: absent here, or a device that does not know the ioctl. */
static void test_guest_device(void)
{
    ms_snp_raw raw;
    ms_buf ev;
    ms_snp_raw_init(&raw);
    CHECK_ERR(ms_snp_guest_report("/nonexistent/sev-guest", BINDING, &raw), MS_ERR_SNP_DEVICE);
    CHECK_ERR(ms_snp_guest_report("/dev/null", BINDING, &raw), MS_ERR_SNP_DEVICE);
    ms_snp_raw_free(&raw);
    /* The whole producer with neither interface. */
    ms_snp_producer_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tsm_root = "/nonexistent/tsm/report";
    cfg.guest_device = "/nonexistent/sev-guest";
    ms_buf_init(&ev, MS_SNP_MAX_BUNDLE);
    CHECK_ERR(ms_snp_evidence(&cfg, BINDING, &ev), MS_ERR_SNP_DEVICE);
    CHECK(ev.len == 0);
    ms_buf_free(&ev);
}

int main(void)
{
    if (!snp_fx_amd_load(&amd)) {
        fprintf(stderr, "test_snp_produce: needs the SEV-SNP vectors of ../shared/testdata\n");
        snp_fx_amd_free(&amd);
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/ms-test-snp-XXXXXX");
    if (!mkdtemp(dir)) {
        return 1;
    }
    RUN(test_cert_table_good);
    RUN(test_cert_table_seed);
    RUN(test_cert_table_bad);
    RUN(test_evidence_from_raw);
    RUN(test_tsm_entry_end_to_end);
    RUN(test_tsm_entry_no_auxblob);
    RUN(test_tsm_concurrent_writer);
    RUN(test_tsm_bad_outblob);
    RUN(test_tsm_refusals);
    RUN(test_tsm_root);
    RUN(test_guest_device);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    snp_fx_keys_free();
    snp_fx_amd_free(&amd);
    return TEST_SUMMARY();
}

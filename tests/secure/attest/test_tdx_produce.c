/* TDX producer tests: a fake configfs-tsm (tdx_guest) returning made-up quotes, the collateral folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "secure/attest/devkey.h"
#include "secure/attest/producer.h"
#include "secure/attest/tdx_produce.h"
#include "tests/secure/attest/snp_fake_tsm.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

static char dir[256];
static const uint8_t BINDING[MS_BINDING_LEN] = {0xb1, 0xb2, 0xb3, [63] = 0xbf};

/* What the fake kernel answers: a quote over the inblob, zero-padded like configfs-tsm. */
typedef struct maker {
    tdx_fx_chain chain;
    size_t pad;        /* zero bytes after the quote */
    uint8_t tail;      /* a non-zero byte after the quote instead, when set */
    int ignore_inblob; /* report data stays zero */
} maker;

static int make_quote(void *ctx, const uint8_t *in, size_t len, ms_buf *out)
{
    maker *m = ctx;
    tdx_fx_quote_opts qo;
    tdx_fx_layout l;
    ms_buf q;
    tdx_fx_quote_opts_default(&qo);
    if (!m->ignore_inblob) {
        memcpy(qo.report_data, in, len < sizeof qo.report_data ? len : sizeof qo.report_data);
    }
    int ok = tdx_fx_quote_make(&q, &m->chain, &qo, &l) && ms_buf_append(out, q.p, q.len) == MS_OK;
    for (size_t i = 0; ok && i < m->pad; i++) {
        ok = ms_buf_append_u8(out, 0) == MS_OK;
    }
    if (ok && m->tail) {
        ok = ms_buf_append_u8(out, m->tail) == MS_OK;
    }
    ms_buf_free(&q);
    return ok;
}

static int write_file(const char *d, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", d, name);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(p, 1, n, f) == n;
    return f != NULL && fclose(f) == 0 && ok;
}

/* One request through the fake entry. */
static ms_err request(maker *m, const char *provider, const ms_tdx_producer_cfg *cfg, ms_buf *ev)
{
    snp_fake_tsm f;
    CHECK(snp_fake_tsm_setup(&f, dir, provider, NULL, 0));
    f.make = make_quote;
    f.make_ctx = m;
    if (strcmp(provider, "tdx_guest") != 0) {
        f.timeout_ms = 300; /* the producer never writes inblob: do not wait long */
    }
    CHECK(snp_fake_tsm_start(&f));
    ms_err e = ms_tdx_tsm_entry_evidence(cfg, f.dir, BINDING, ev);
    snp_fake_tsm_join(&f);
    if (strcmp(provider, "tdx_guest") == 0) {
        CHECK(f.inblob_len == MS_BINDING_LEN && memcmp(f.inblob, BINDING, MS_BINDING_LEN) == 0);
    }
    snp_fake_tsm_teardown(&f);
    return e;
}

static void test_end_to_end(void)
{
    maker m = {.pad = 8000};
    tdx_fx_pck_opts po;
    tdx_fx_pck_opts_default(&po);
    CHECK(tdx_fx_chain_make(&m.chain, &po));
    ms_buf pck_crl, root_crl;
    CHECK(tdx_fx_crl(&pck_crl, m.chain.ca_x, m.chain.ca_key, 0));
    CHECK(tdx_fx_crl(&root_crl, m.chain.root_x, m.chain.root_key, 0));

    /* A collateral folder with the CRLs (the JSON documents are absent). */
    char cdir[300];
    snprintf(cdir, sizeof cdir, "%s/collateral", dir);
    CHECK(mkdir(cdir, 0700) == 0);
    CHECK(write_file(cdir, "pck_crl.der", pck_crl.p, pck_crl.len));
    CHECK(write_file(cdir, "root_crl.der", root_crl.p, root_crl.len));
    ms_tdx_files files;
    ms_tdx_files_init(&files);
    CHECK_OK(ms_tdx_files_load(&files, cdir));
    CHECK(files.pck_crl.len == pck_crl.len && files.tcb_info.len == 0);
    ms_tdx_producer_cfg cfg = {.collateral = &files};

    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK_OK(request(&m, "tdx_guest", &cfg, &ev));
    ms_tdx_bundle b;
    CHECK_OK(ms_tdx_bundle_decode(ev.p, ev.len, &b));
    ms_tdx_quote q;
    CHECK_OK(ms_tdx_quote_decode(b.quote, b.quote_len, &q)); /* trimmed to the quote */
    CHECK(b.pck_crl_len == pck_crl.len && b.collateral.root_crl_len == root_crl.len);
    CHECK(b.collateral.tcb_info == NULL);
    ms_tdx_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = m.chain.root.p;
    p.root_len = m.chain.root.len;
    ms_tdx_checks ch;
    CHECK_OK(ms_tdx_verify_checks(&p, ev.p, ev.len, 1, BINDING, 1, &ch));
    CHECK(ch.ran[MS_TDX_CHECK_CRL] && ch.ran[MS_TDX_CHECK_REPORT_DATA]);
    /* The client's verifier gets as far as the missing collateral. */
    CHECK_ERR(ms_tdx_verify(&p, ev.p, ev.len, BINDING), MS_ERR_TDX_NO_COLLATERAL);

    /* Another provider; a quote not over the inblob; a non-zero byte after the quote. */
    ms_buf_clear(&ev);
    CHECK_ERR(request(&m, "sev_guest", &cfg, &ev), MS_ERR_TDX_DEVICE);
    m.ignore_inblob = 1;
    CHECK_ERR(request(&m, "tdx_guest", &cfg, &ev), MS_ERR_TDX_DEVICE);
    m.ignore_inblob = 0;
    m.tail = 0x0a;
    CHECK_ERR(request(&m, "tdx_guest", &cfg, &ev), MS_ERR_TDX_FORMAT);
    CHECK(ev.len == 0);
    /* Over the outblob cap. */
    m.tail = 0;
    m.pad = MS_TDX_MAX_OUTBLOB;
    CHECK_ERR(request(&m, "tdx_guest", &cfg, &ev), MS_ERR_CAP_EXCEEDED);

    ms_buf_free(&ev);
    ms_tdx_files_free(&files);
    ms_buf_free(&pck_crl);
    ms_buf_free(&root_crl);
    tdx_fx_chain_free(&m.chain);
}

static void test_files(void)
{
    char cdir[300];
    snprintf(cdir, sizeof cdir, "%s/files", dir);
    CHECK(mkdir(cdir, 0700) == 0);
    ms_tdx_files f;
    ms_tdx_files_init(&f);
    CHECK_OK(ms_tdx_files_load(&f, cdir)); /* empty folder: every part absent */
    ms_tdx_collateral_in c;
    const uint8_t *crl;
    size_t crl_len;
    ms_tdx_files_view(&f, &c, &crl, &crl_len);
    CHECK(c.tcb_info == NULL && c.qe_identity == NULL && crl == NULL && crl_len == 0);
    CHECK(write_file(cdir, "tcb_info.json", "{\"tcbInfo\":{}}", 14));
    CHECK(write_file(cdir, "qe_identity.json", "{}", 2));
    CHECK(write_file(cdir, "tcb_signing_chain.pem", "pem", 3));
    CHECK(write_file(cdir, "root_crl.pem", "crl", 3));
    CHECK_OK(ms_tdx_files_load(&f, cdir));
    ms_tdx_files_view(&f, &c, &crl, &crl_len);
    CHECK(c.tcb_info_len == 14 && c.qe_identity_len == 2 && c.signing_chain_len == 3);
    CHECK(c.root_crl_len == 3 && crl == NULL);
    /* A part over its cap. */
    size_t big = MS_TDX_MAX_CRL + 1;
    uint8_t *junk = calloc(1, big);
    CHECK(junk != NULL && write_file(cdir, "pck_crl.der", junk, big));
    free(junk);
    CHECK_ERR(ms_tdx_files_load(&f, cdir), MS_ERR_CAP_EXCEEDED);
    CHECK(f.tcb_info.len == 0);
    ms_tdx_files_free(&f);
}

static void test_producer_open(void)
{
    ms_producer_kind k;
    CHECK_OK(ms_producer_kind_parse("tdx", &k));
    CHECK(k == MS_PRODUCER_TDX);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no-such-tsm", dir);
    ms_producer_cfg cfg = {.kind = MS_PRODUCER_TDX, .tdx_tsm = missing};
    struct ms_producer *p;
    ms_producer_pins pins;
    ms_producer_step step;
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_TDX_DEVICE);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_TDX_QUOTE);
    cfg.tdx_collateral = missing; /* a folder that does not exist: every part absent */
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_TDX_DEVICE);
    CHECK(step == MS_PRODUCER_STEP_TDX_QUOTE);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ms-test-tdx-XXXXXX");
    if (!mkdtemp(dir)) {
        return 1;
    }
    RUN(test_end_to_end);
    RUN(test_files);
    RUN(test_producer_open);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return TEST_SUMMARY();
}

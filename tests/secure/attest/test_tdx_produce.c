/* TDX producer tests: a fake configfs-tsm (tdx_guest) returning made-up quotes, the collateral folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "secure/attest/devkey.h"
#include "secure/attest/producer.h"
#include "secure/attest/tdx_produce.h"
#include "secure/attest/tdx_collateral.h"
#include "tests/secure/attest/snp_fake_tsm.h"
#include "tests/secure/attest/tdx_coll_fixture.h"
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

/* Intel's 2023 collateral in a files struct: only the parts asked for. */
static void intel_files(const tdx_fx_intel *a, ms_tdx_files *f, int tcb, int qe, int pck, int root)
{
    ms_tdx_files_free(f);
    ms_tdx_files_init(f);
    CHECK(!tcb || ms_buf_append(&f->tcb_info, a->tcb_info.p, a->tcb_info.len) == MS_OK);
    CHECK(!qe || ms_buf_append(&f->qe_identity, a->qe_identity.p, a->qe_identity.len) == MS_OK);
    CHECK(!pck || ms_buf_append(&f->pck_crl, a->pck_crl.p, a->pck_crl.len) == MS_OK);
    CHECK(!root || ms_buf_append(&f->root_crl, a->root_crl.p, a->root_crl.len) == MS_OK);
}

static uint64_t utc(const char *s)
{
    uint64_t t = 0;
    CHECK_OK(ms_tdx_time_parse(s, strlen(s), &t));
    return t;
}

/*
 * Stale collateral is not served: Intel's 2023 documents and CRLs (TCB info next update
 * 2023-07-18T08:42:58Z, QE identity 2023-07-08T07:24:59Z, PCK CRL 2023-07-08T07:27:52Z,
 * root CRL 2024-04-02T10:22:51Z) judged before and after, each stale part with its own
 * error, the grace period up to the second, unreadable dates.
 */
static void test_stale_collateral(void)
{
    tdx_fx_intel a;
    ms_tdx_files f;
    ms_tdx_files_init(&f);
    CHECK(tdx_fx_intel_load(&a));
    uint64_t tcb_next = utc("2023-07-18T08:42:58Z"), qe_next = utc("2023-07-08T07:24:59Z");
    uint64_t pck_next = utc("2023-07-08T07:27:52Z"), root_next = utc("2024-04-02T10:22:51Z");
    intel_files(&a, &f, 1, 1, 1, 1);
    CHECK_OK(ms_tdx_files_fresh(&f, TDX_FX_INTEL_AT, 0));
    CHECK_OK(ms_tdx_files_fresh(&f, qe_next, 0)); /* at nextUpdate: still current */
    CHECK_ERR(ms_tdx_files_fresh(&f, qe_next + 1, 0), MS_ERR_TDX_STALE_QE_IDENTITY);
    CHECK_ERR(ms_tdx_files_fresh(&f, tcb_next + 1, 0), MS_ERR_TDX_STALE_TCB_INFO);
    /* A grace: up to nextUpdate + grace, not a second more. */
    uint64_t g = 30u * 86400u;
    CHECK_OK(ms_tdx_files_fresh(&f, tcb_next + 1, g));
    CHECK_OK(ms_tdx_files_fresh(&f, qe_next + g, g));
    CHECK_ERR(ms_tdx_files_fresh(&f, qe_next + g + 1, g), MS_ERR_TDX_STALE_QE_IDENTITY);
    /* Each part on its own names itself. */
    intel_files(&a, &f, 0, 0, 1, 0);
    CHECK_OK(ms_tdx_files_fresh(&f, pck_next - 1, 0));
    CHECK_ERR(ms_tdx_files_fresh(&f, pck_next + 60, 0), MS_ERR_TDX_STALE_PCK_CRL);
    CHECK_OK(ms_tdx_files_fresh(&f, pck_next + 60, 60));
    intel_files(&a, &f, 0, 0, 0, 1);
    CHECK_OK(ms_tdx_files_fresh(&f, root_next, 0));
    CHECK_ERR(ms_tdx_files_fresh(&f, root_next + 1, 0), MS_ERR_TDX_STALE_ROOT_CRL);
    intel_files(&a, &f, 1, 0, 0, 0);
    CHECK_ERR(ms_tdx_files_fresh(&f, tcb_next + 1, 0), MS_ERR_TDX_STALE_TCB_INFO);
    /* Nothing present: nothing stale. */
    intel_files(&a, &f, 0, 0, 0, 0);
    CHECK_OK(ms_tdx_files_fresh(&f, UINT32_MAX, 0));
    /* Dates that cannot be read. */
    CHECK(ms_buf_append(&f.tcb_info, "{\"tcbInfo\":{}}", 14) == MS_OK);
    CHECK_ERR(ms_tdx_files_fresh(&f, TDX_FX_INTEL_AT, 0), MS_ERR_TDX_COLLATERAL_FORMAT);
    intel_files(&a, &f, 0, 0, 0, 0);
    CHECK(ms_buf_append(&f.root_crl, "not a CRL", 9) == MS_OK);
    CHECK_ERR(ms_tdx_files_fresh(&f, TDX_FX_INTEL_AT, 0), MS_ERR_TDX_CRL);

    /* Evidence: refused when stale, served within the grace. */
    tdx_fx_chain ch;
    tdx_fx_pck_opts po;
    tdx_fx_quote_opts qo;
    tdx_fx_layout lay;
    ms_buf quote, ev;
    tdx_fx_pck_opts_default(&po);
    tdx_fx_quote_opts_default(&qo);
    memcpy(qo.report_data, BINDING, sizeof qo.report_data);
    ms_buf_init(&quote, MS_TDX_MAX_QUOTE);
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    CHECK(tdx_fx_chain_make(&ch, &po) && tdx_fx_quote_make(&quote, &ch, &qo, &lay));
    intel_files(&a, &f, 1, 1, 1, 1);
    ms_tdx_producer_cfg cfg = {.collateral = &f, .at = tcb_next + 1};
    CHECK_ERR(ms_tdx_evidence_from_blob(&cfg, quote.p, quote.len, BINDING, &ev),
              MS_ERR_TDX_STALE_TCB_INFO);
    CHECK(ev.len == 0);
    cfg.grace_s = g;
    CHECK_OK(ms_tdx_evidence_from_blob(&cfg, quote.p, quote.len, BINDING, &ev));
    ms_tdx_bundle b;
    CHECK_OK(ms_tdx_bundle_decode(ev.p, ev.len, &b));
    CHECK(b.collateral.tcb_info_len == a.tcb_info.len && b.pck_crl_len == a.pck_crl.len);
    ms_buf_free(&quote);
    ms_buf_free(&ev);
    tdx_fx_chain_free(&ch);
    ms_tdx_files_free(&f);
    tdx_fx_intel_free(&a);
}

/* At start: a collateral folder whose PCK CRL expired an hour ago stops the supervisor at
   the collateral step, naming the CRL; a two-hour grace lets it go on (to the device). */
static void test_open_stale(void)
{
    tdx_fx_pki pki;
    ms_buf crl;
    char cdir[300], tsm[300];
    struct ms_producer *p = NULL;
    ms_producer_pins pins;
    ms_producer_step step;
    long now = (long)time(NULL);
    ms_buf_init(&crl, MS_TDX_MAX_CRL);
    CHECK(tdx_fx_pki_make(&pki));
    CHECK(tdx_fx_crl_at(&pki, pki.root_key, 0, 0, now - 86400, now - 3600, &crl));
    snprintf(cdir, sizeof cdir, "%s/stale", dir);
    snprintf(tsm, sizeof tsm, "%s/no-such-tsm", dir);
    CHECK(mkdir(cdir, 0700) == 0);
    CHECK(write_file(cdir, "pck_crl.der", crl.p, crl.len));
    ms_producer_cfg cfg = {.kind = MS_PRODUCER_TDX, .tdx_tsm = tsm, .tdx_collateral = cdir};
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_TDX_STALE_PCK_CRL);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_TDX_COLLATERAL);
    cfg.tdx_collateral_grace_s = 7200;
    CHECK_ERR(ms_producer_open(&p, &cfg, &pins, &step), MS_ERR_TDX_DEVICE);
    CHECK(p == NULL && step == MS_PRODUCER_STEP_TDX_QUOTE);
    ms_buf_free(&crl);
    tdx_fx_pki_free(&pki);
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
    RUN(test_stale_collateral);
    RUN(test_open_stale);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return TEST_SUMMARY();
}

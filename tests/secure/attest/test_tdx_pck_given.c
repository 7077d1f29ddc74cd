/*
 * TDX quotes whose certification data is not the PCK chain (type 5) but a PPID form (types
 * 1..3) or the PCK leaf alone (type 4): the PCK chain is then given with the collateral
 * (pck_chain.pem: the policy's tdx.collateral_dir, minions-secure attest --tdx-collateral).
 * Without one the quote is refused (MS_ERR_TDX_NO_PCK_CHAIN); with the right one every
 * quote check passes; with another platform's the chain or the QE signature fails; a
 * quote's own type 5 chain is used whatever is given.
 */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "secure/attest/policy.h"
#include "secure/attest/tdx_produce.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

static char dir[256];

static tdx_fx_chain A, B; /* two platforms under two roots */
static ms_buf QUOTE, Q;
static tdx_fx_layout L;

static ms_err checks(const ms_buf *q, const uint8_t *given, size_t given_len, ms_tdx_checks *c)
{
    ms_tdx_policy p;
    memset(&p, 0, sizeof p);
    p.root_der = A.root.p;
    p.root_len = A.root.len;
    p.pck_chain_pem = given;
    p.pck_chain_len = given_len;
    return ms_tdx_verify_checks(&p, q->p, q->len, 0, NULL, 0, c);
}

static void test_decode_types(void)
{
    ms_tdx_quote dq;
    uint8_t ppid[384 + 16 + 2 + 2];
    memset(ppid, 0x5c, sizeof ppid);
    for (uint16_t t = 1; t <= 4; t++) {
        CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, t, ppid, sizeof ppid, &Q));
        CHECK_OK(ms_tdx_quote_decode(Q.p, Q.len, &dq));
        CHECK(dq.cert_type == t && dq.pck_chain == NULL && dq.cert_data_len == sizeof ppid);
    }
    CHECK_OK(ms_tdx_quote_decode(QUOTE.p, QUOTE.len, &dq));
    CHECK(dq.cert_type == 5 && dq.pck_chain != NULL && dq.pck_chain == dq.cert_data);
    /* Unknown inner types, an empty one. */
    static const uint16_t bad[] = {0, 6, 7, 0xffff};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, bad[i], ppid, sizeof ppid, &Q));
        CHECK_ERR(ms_tdx_quote_decode(Q.p, Q.len, &dq), MS_ERR_TDX_FORMAT);
    }
    CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, 3, ppid, 0, &Q));
    CHECK_ERR(ms_tdx_quote_decode(Q.p, Q.len, &dq), MS_ERR_TDX_FORMAT);
}

/* The first certificate of a PEM chain, as PEM. */
static size_t first_pem_len(const ms_buf *pem)
{
    static const char end[] = "-----END CERTIFICATE-----\n";
    for (size_t i = 0; i + sizeof end - 1 <= pem->len; i++) {
        if (memcmp(pem->p + i, end, sizeof end - 1) == 0) {
            return i + sizeof end - 1;
        }
    }
    return 0;
}

/*
 * One certificate is a chain as far as its format goes; the chain check then wants the
 * leaf, the PCK CA and the pinned root.
 */
static void test_given_leaf_only(void)
{
    ms_tdx_checks *c = calloc(1, sizeof *c);
    uint8_t ppid[404];
    size_t n = first_pem_len(&A.pem);
    memset(ppid, 0x5c, sizeof ppid);
    CHECK(c != NULL && n > 0 && n < A.pem.len);
    if (c == NULL || n == 0) {
        free(c);
        return;
    }
    CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, 3, ppid, sizeof ppid, &Q));
    CHECK_ERR(checks(&Q, A.pem.p, n, c), MS_ERR_TDX_PCK_CHAIN);
    CHECK(c->result[MS_TDX_CHECK_FORMAT] == MS_OK &&
          c->result[MS_TDX_CHECK_PCK_CHAIN] == MS_ERR_TDX_PCK_CHAIN);
    free(c);
}

/*
 * A's root re-signed without basicConstraints: keyUsage keyCertSign alone makes OpenSSL
 * take it as a CA, the verifier does not. With basicConstraints kept (the control) the
 * quote, its chain ending with the re-signed root, passes.
 */
static int resigned_root(int keep_bc, ms_buf *der, ms_buf *pem)
{
    X509 *r = X509_dup(A.root_x);
    int ok = r != NULL;
    if (ok && !keep_bc) {
        int i = X509_get_ext_by_NID(r, NID_basic_constraints, -1);
        X509_EXTENSION *e = i >= 0 ? X509_delete_ext(r, i) : NULL;
        ok = e != NULL;
        X509_EXTENSION_free(e);
    }
    ok = ok && X509_sign(r, A.root_key, EVP_sha256()) > 0;
    unsigned char *d = NULL;
    int n = ok ? i2d_X509(r, &d) : -1;
    ms_buf_clear(der);
    ms_buf_clear(pem);
    ok = n > 0 && ms_buf_append(der, d, (size_t)n) == MS_OK;
    OPENSSL_free(d);
    BIO *bio = BIO_new(BIO_s_mem());
    ok = ok && bio != NULL && PEM_write_bio_X509(bio, A.pck_x) == 1 &&
         PEM_write_bio_X509(bio, A.ca_x) == 1 && PEM_write_bio_X509(bio, r) == 1;
    char *p = NULL;
    long m = ok ? BIO_get_mem_data(bio, &p) : 0;
    ok = ok && m > 0 && ms_buf_append(pem, p, (size_t)m) == MS_OK;
    BIO_free(bio);
    X509_free(r);
    return ok;
}

static void test_pinned_root_must_be_ca(void)
{
    ms_tdx_checks *c = calloc(1, sizeof *c);
    ms_buf der, pem;
    ms_buf_init(&der, 16384);
    ms_buf_init(&pem, 16384);
    CHECK(c != NULL);
    for (int keep_bc = 1; c != NULL && keep_bc >= 0; keep_bc--) {
        CHECK(resigned_root(keep_bc, &der, &pem));
        CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, 5, pem.p, pem.len, &Q));
        ms_tdx_policy p;
        memset(&p, 0, sizeof p);
        p.root_der = der.p;
        p.root_len = der.len;
        ms_err e = ms_tdx_verify_checks(&p, Q.p, Q.len, 0, NULL, 0, c);
        if (keep_bc) {
            CHECK_OK(e);
        } else {
            CHECK_ERR(e, MS_ERR_TDX_PCK_CHAIN);
        }
        CHECK(c->ran[MS_TDX_CHECK_PCK_CHAIN] && c->result[MS_TDX_CHECK_QE_SIGNATURE] == MS_OK);
    }
    ms_buf_free(&der);
    ms_buf_free(&pem);
    free(c);
}

/* A given chain is at most MS_TDX_MAX_PCK_CHAIN bytes: whitespace after the PEM counts. */
static void test_given_chain_cap(void)
{
    static uint8_t big[MS_TDX_MAX_PCK_CHAIN + 1];
    ms_tdx_checks *c = calloc(1, sizeof *c);
    uint8_t ppid[404];
    memset(ppid, 0x5c, sizeof ppid);
    CHECK(c != NULL && A.pem.len < MS_TDX_MAX_PCK_CHAIN);
    if (c == NULL || A.pem.len >= MS_TDX_MAX_PCK_CHAIN) {
        free(c);
        return;
    }
    memset(big, '\n', sizeof big);
    memcpy(big, A.pem.p, A.pem.len);
    CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, 3, ppid, sizeof ppid, &Q));
    CHECK_OK(checks(&Q, big, MS_TDX_MAX_PCK_CHAIN, c)); /* exactly the cap */
    CHECK_ERR(checks(&Q, big, sizeof big, c), MS_ERR_TDX_FORMAT);
    CHECK(c->ran[MS_TDX_CHECK_FORMAT] && c->result[MS_TDX_CHECK_FORMAT] == MS_ERR_TDX_FORMAT);
    free(c);
}

static void test_given_chain(void)
{
    ms_tdx_checks *c = calloc(1, sizeof *c);
    uint8_t ppid[404];
    memset(ppid, 0x5c, sizeof ppid);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    /* Type 3 (encrypted PPID): no chain given -> refused; given -> every quote check. */
    CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, 3, ppid, sizeof ppid, &Q));
    CHECK_ERR(checks(&Q, NULL, 0, c), MS_ERR_TDX_NO_PCK_CHAIN);
    CHECK(c->ran[MS_TDX_CHECK_FORMAT] && c->result[MS_TDX_CHECK_FORMAT] == MS_ERR_TDX_NO_PCK_CHAIN);
    CHECK_OK(checks(&Q, A.pem.p, A.pem.len, c));
    CHECK(c->ran[MS_TDX_CHECK_PCK_CHAIN] && c->ran[MS_TDX_CHECK_QE_SIGNATURE] &&
          c->ran[MS_TDX_CHECK_SIGNATURE]);
    /* Another platform's chain (another root): the chain fails, so does the QE signature. */
    CHECK_ERR(checks(&Q, B.pem.p, B.pem.len, c), MS_ERR_TDX_PCK_CHAIN);
    CHECK(c->result[MS_TDX_CHECK_QE_SIGNATURE] == MS_ERR_TDX_QE_SIGNATURE);
    /* Not PEM. */
    CHECK_ERR(checks(&Q, (const uint8_t *)"junk", 4, c), MS_ERR_TDX_FORMAT);
    /* Type 4 (the PCK leaf only) with the chain given. */
    CHECK(tdx_fx_quote_relayout(&QUOTE, &L, NULL, 0, 4, A.pem.p, A.pem.len, &Q));
    CHECK_OK(checks(&Q, A.pem.p, A.pem.len, c));
    /* A type 5 quote: its own chain, whatever is given. */
    CHECK_OK(checks(&QUOTE, B.pem.p, B.pem.len, c));
    CHECK(c->result[MS_TDX_CHECK_PCK_CHAIN] == MS_OK);
    free(c);
}

/* pck_chain.pem in a collateral folder: loaded, and a policy's collateral_dir carries it. */
static void test_policy_folder(void)
{
    char cdir[300], path[400], json[1024];
    snprintf(cdir, sizeof cdir, "%s/collateral", dir);
    CHECK(mkdir(cdir, 0700) == 0);
    snprintf(path, sizeof path, "%s/pck_chain.pem", cdir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(A.pem.p, 1, A.pem.len, f) == A.pem.len && fclose(f) == 0);
    ms_tdx_files files;
    ms_tdx_files_init(&files);
    CHECK_OK(ms_tdx_files_load(&files, cdir));
    CHECK(files.pck_chain.len == A.pem.len && files.tcb_info.len == 0);
    ms_tdx_files_free(&files);
    /* The root as PEM for the policy. */
    snprintf(path, sizeof path, "%s/root.pem", dir);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        const unsigned char *q = A.root.p;
        X509 *x = d2i_X509(NULL, &q, (long)A.root.len);
        CHECK(x != NULL && PEM_write_X509(f, x) == 1);
        X509_free(x);
        CHECK(fclose(f) == 0);
    }
    snprintf(json, sizeof json,
             "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"root.pem\","
             "\"mrtd\":\"%096d\",\"collateral_dir\":\"collateral\"}}", 0);
    ms_attest_policy p;
    ms_attest_policy_init(&p);
    CHECK_OK(ms_attest_policy_parse(&p, (const uint8_t *)json, strlen(json), dir));
    CHECK(p.have_tdx && p.tdx.pck_chain_pem != NULL && p.tdx.pck_chain_len == A.pem.len);
    ms_attest_policy_free(&p);
}

int main(void)
{
    tdx_fx_pck_opts po;
    tdx_fx_quote_opts qo;
    snprintf(dir, sizeof dir, "/tmp/ms-test-tdx-given-XXXXXX");
    if (!mkdtemp(dir)) {
        return 1;
    }
    tdx_fx_pck_opts_default(&po);
    tdx_fx_quote_opts_default(&qo);
    ms_buf_init(&QUOTE, MS_TDX_MAX_QUOTE);
    ms_buf_init(&Q, MS_TDX_MAX_QUOTE);
    CHECK(tdx_fx_chain_make(&A, &po) && tdx_fx_chain_make(&B, &po));
    CHECK(tdx_fx_quote_make(&QUOTE, &A, &qo, &L));
    RUN(test_decode_types);
    RUN(test_given_chain);
    RUN(test_given_chain_cap);
    RUN(test_given_leaf_only);
    RUN(test_pinned_root_must_be_ca);
    RUN(test_policy_folder);
    ms_buf_free(&QUOTE);
    ms_buf_free(&Q);
    tdx_fx_chain_free(&A);
    tdx_fx_chain_free(&B);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return TEST_SUMMARY();
}

/* TDX test fixture: loads Intel's real vectors; makes a P-256 DCAP chain, CRLs and signed quotes. */
#include "tests/secure/attest/tdx_fixture.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "secure/attest/devkey.h"
#include "tests/secure/attest/fx_file.h"
#include "tests/secure/attest/fx_x509.h"
#include "tests/secure/attest/tdx_coll_fixture.h"

#ifndef MS_TESTDATA_DIR
#error "MS_TESTDATA_DIR must name ../shared/testdata (set by tests/secure/attest/CMakeLists.txt)"
#endif

/* ---- real vectors ----------------------------------------------------------------------- */

int tdx_fx_intel_load(tdx_fx_intel *a)
{
    memset(a, 0, sizeof *a);
    int ok = tdx_fx_file("tdx_prod_quote_SPR_E4.dat", &a->spr);
    ok = tdx_fx_file("cos-113-tdx-quote.dat", &a->cos) && ok;
    ok = tdx_fx_file("nonce.dat", &a->nonce) && ok;
    ok = tdx_fx_file("quote_v5_sample.dat", &a->v5) && ok;
    ok = tdx_fx_file("pckcrl", &a->pck_crl) && ok;
    ok = tdx_fx_file("rootcrl.der", &a->root_crl) && ok;
    ok = tdx_fx_file("sample_tcbInfo_response", &a->tcb_info) && ok;
    ok = tdx_fx_file("sample_tcbinfo_response_v5", &a->tcb_info_v5) && ok;
    ok = tdx_fx_file("sample_qeIdentity_response", &a->qe_identity) && ok;
    ok = tdx_fx_file("tcb_signing_chain.pem", &a->signing_chain) && ok;
    ok = tdx_fx_pem_file_der("trusted_root.pem", &a->root) && ok;
    return ok;
}

void tdx_fx_intel_free(tdx_fx_intel *a)
{
    ms_buf *all[] = {&a->spr,      &a->cos,      &a->nonce,       &a->v5,
                     &a->root,     &a->pck_crl,  &a->root_crl,    &a->tcb_info,
                     &a->tcb_info_v5, &a->qe_identity, &a->signing_chain};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        ms_buf_free(all[i]);
    }
}

/* ---- DER bits for the SGX extensions (OID 1.2.840.113741.1.13.1) ------------------------ */

#define SGX_OID "1.2.840.113741.1.13.1"

/* Append tag, length (short or two-byte long form) and content. */
static int tlv(ms_buf *b, uint8_t tag, const uint8_t *p, size_t n)
{
    int ok = ms_buf_append_u8(b, tag) == MS_OK;
    if (n < 0x80) {
        ok = ok && ms_buf_append_u8(b, (uint8_t)n) == MS_OK;
    } else {
        ok = ok && ms_buf_append_u8(b, 0x82) == MS_OK && ms_buf_append_u16be(b, (uint16_t)n) == MS_OK;
    }
    return ok && (n == 0 || ms_buf_append(b, p, n) == MS_OK);
}

/* SEQUENCE { OID, value } where value is already DER. */
static int item(ms_buf *b, const char *oid, const uint8_t *value, size_t n)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    unsigned char *der = NULL;
    int dn = obj != NULL ? i2d_ASN1_OBJECT(obj, &der) : -1;
    ms_buf seq;
    ms_buf_init(&seq, 4096);
    int ok = dn > 0 && ms_buf_append(&seq, der, (size_t)dn) == MS_OK &&
             ms_buf_append(&seq, value, n) == MS_OK && tlv(b, 0x30, seq.p, seq.len);
    ms_buf_free(&seq);
    OPENSSL_free(der);
    ASN1_OBJECT_free(obj);
    return ok;
}

static int item_octets(ms_buf *b, const char *oid, const uint8_t *p, size_t n)
{
    ms_buf v;
    ms_buf_init(&v, 256);
    int ok = tlv(&v, 0x04, p, n) && item(b, oid, v.p, v.len);
    ms_buf_free(&v);
    return ok;
}

static int item_int(ms_buf *b, const char *oid, unsigned v, uint8_t tag)
{
    uint8_t c[3] = {0, (uint8_t)(v >> 8), (uint8_t)v};
    size_t n = v < 0x80 ? 1 : (v < 0x8000 ? 2 : 3);
    ms_buf enc;
    ms_buf_init(&enc, 16);
    int ok = tlv(&enc, tag, c + 3 - n, n) && item(b, oid, enc.p, enc.len);
    ms_buf_free(&enc);
    return ok;
}

int tdx_fx_sgx_ext_der(ms_buf *out, const tdx_fx_pck_opts *o)
{
    static const uint8_t ppid[16] = {0x99, 0x99};
    char oid[64];
    ms_buf tcb, seq, top;
    ms_buf_init(&tcb, 4096);
    ms_buf_init(&seq, 4096);
    ms_buf_init(&top, 4096);
    int ok = 1;
    for (unsigned i = 0; i < 16 && ok; i++) {
        snprintf(oid, sizeof oid, SGX_OID ".2.%u", i + 1);
        ok = item_int(&tcb, oid, o->sgx_comp[i], 0x02);
    }
    ok = ok && item_int(&tcb, SGX_OID ".2.17", o->pcesvn, 0x02) &&
         item_octets(&tcb, SGX_OID ".2.18", o->cpusvn, 16) && tlv(&seq, 0x30, tcb.p, tcb.len);
    ok = ok && item_octets(&top, SGX_OID ".1", ppid, sizeof ppid) &&
         item(&top, SGX_OID ".2", seq.p, seq.len) &&
         item_octets(&top, SGX_OID ".3", o->pceid, 2) &&
         item_octets(&top, SGX_OID ".4", o->fmspc, 6) && item_int(&top, SGX_OID ".5", 0, 0x0a);
    if (o->config_n > 0) {
        static const uint8_t no[] = {0x01, 0x01, 0x00}; /* BOOLEAN FALSE */
        ms_buf cfg;
        ms_buf_init(&cfg, 4096);
        for (size_t i = 0; i < o->config_n && ok; i++) {
            snprintf(oid, sizeof oid, SGX_OID ".7.%u", o->config[i]);
            ok = item(&cfg, oid, no, sizeof no);
        }
        ms_buf_clear(&seq);
        ok = ok && tlv(&seq, 0x30, cfg.p, cfg.len) && item(&top, SGX_OID ".7", seq.p, seq.len);
        ms_buf_free(&cfg);
    }
    ok = ok && tlv(out, 0x30, top.p, top.len);
    ms_buf_free(&tcb);
    ms_buf_free(&seq);
    ms_buf_free(&top);
    return ok;
}

void tdx_fx_pck_opts_default(tdx_fx_pck_opts *o)
{
    static const uint8_t comp[16] = {3, 3, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t fmspc[6] = {0x50, 0x80, 0x6f, 0x00, 0x00, 0x00};
    memset(o, 0, sizeof *o);
    memcpy(o->sgx_comp, comp, sizeof comp);
    memcpy(o->cpusvn, comp, sizeof comp);
    o->pcesvn = 11;
    memcpy(o->fmspc, fmspc, sizeof fmspc);
}

/* ---- certificates and CRLs -------------------------------------------------------------- */

static X509 *cert_new(EVP_PKEY *key, const char *cn, long serial)
{
    time_t now = time(NULL);
    return fx_x509_new(key, "Test Intel Corporation", cn, serial, now - 3600L,
                       now + 3600L * 24 * 365);
}

static int add_sgx_ext(X509 *x, const tdx_fx_pck_opts *o)
{
    ms_buf der;
    ms_buf_init(&der, 8192);
    ASN1_OBJECT *obj = OBJ_txt2obj(SGX_OID, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    int ok = tdx_fx_sgx_ext_der(&der, o) && obj != NULL && os != NULL &&
             ASN1_OCTET_STRING_set(os, der.p, (int)der.len);
    if (ok) {
        e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
        ok = e != NULL && X509_add_ext(x, e, -1);
    }
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    ms_buf_free(&der);
    return ok;
}

static int append_pem(X509 *x, ms_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    int ok = bio != NULL && PEM_write_bio_X509(bio, x) == 1;
    long n = ok ? BIO_get_mem_data(bio, &p) : 0;
    ok = ok && n > 0 && ms_buf_append(out, (const uint8_t *)p, (size_t)n) == MS_OK;
    BIO_free(bio);
    return ok;
}

int tdx_fx_chain_make(tdx_fx_chain *c, const tdx_fx_pck_opts *o)
{
    memset(c, 0, sizeof *c);
    c->root_key = EVP_EC_gen("P-256");
    c->ca_key = EVP_EC_gen("P-256");
    c->pck_key = EVP_EC_gen(o->pck_curve != NULL ? o->pck_curve : "P-256");
    c->ak = EVP_EC_gen("P-256");
    int ok = c->root_key && c->ca_key && c->pck_key && c->ak;
    c->root_x = ok ? cert_new(c->root_key, "Test Intel SGX Root CA", 1) : NULL;
    c->ca_x = ok ? cert_new(c->ca_key, "Test Intel SGX PCK Platform CA", 2) : NULL;
    c->pck_x = ok ? cert_new(c->pck_key, "Test Intel SGX PCK Certificate", 3) : NULL;
    ok = ok && c->root_x && c->ca_x && c->pck_x;
    ok = ok && X509_set_issuer_name(c->root_x, X509_get_subject_name(c->root_x)) &&
         fx_x509_ca_exts(c->root_x, c->root_x) && X509_sign(c->root_x, c->root_key, EVP_sha256()) > 0;
    ok = ok && X509_set_issuer_name(c->ca_x, X509_get_subject_name(c->root_x)) &&
         fx_x509_ca_exts(c->ca_x, c->root_x) && X509_sign(c->ca_x, c->root_key, EVP_sha256()) > 0;
    ok = ok && X509_set_issuer_name(c->pck_x, X509_get_subject_name(c->ca_x)) &&
         fx_x509_ext(c->pck_x, c->ca_x, NID_authority_key_identifier, "keyid:always") &&
         add_sgx_ext(c->pck_x, o) && X509_sign(c->pck_x, c->ca_key, EVP_sha256()) > 0;
    ok = ok && fx_x509_der(c->root_x, 16384, &c->root) && fx_x509_der(c->ca_x, 16384, &c->ca) && fx_x509_der(c->pck_x, 16384, &c->pck);
    ms_buf_init(&c->pem, 16384);
    ok = ok && append_pem(c->pck_x, &c->pem) && append_pem(c->ca_x, &c->pem) &&
         append_pem(c->root_x, &c->pem);
    return ok;
}

void tdx_fx_chain_free(tdx_fx_chain *c)
{
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->ca_key);
    EVP_PKEY_free(c->pck_key);
    EVP_PKEY_free(c->ak);
    X509_free(c->root_x);
    X509_free(c->ca_x);
    X509_free(c->pck_x);
    ms_buf_free(&c->root);
    ms_buf_free(&c->ca);
    ms_buf_free(&c->pck);
    ms_buf_free(&c->pem);
    memset(c, 0, sizeof *c);
}

int tdx_fx_crl(ms_buf *out, X509 *issuer, EVP_PKEY *key, long revoked_serial)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = X509_gmtime_adj(NULL, -86400L);
    ASN1_TIME *next = X509_gmtime_adj(NULL, 86400L);
    int ok = crl && last && next && X509_CRL_set_version(crl, 1) &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
             X509_CRL_set1_lastUpdate(crl, last) && X509_CRL_set1_nextUpdate(crl, next);
    if (ok && revoked_serial != 0) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *serial = ASN1_INTEGER_new();
        ok = r && serial && ASN1_INTEGER_set(serial, revoked_serial) &&
             X509_REVOKED_set_serialNumber(r, serial) && X509_REVOKED_set_revocationDate(r, last) &&
             X509_CRL_add0_revoked(crl, r);
        if (!ok) {
            X509_REVOKED_free(r);
        }
        ASN1_INTEGER_free(serial);
    }
    ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0;
    unsigned char *der = NULL;
    int n = ok ? i2d_X509_CRL(crl, &der) : -1;
    ms_buf_init(out, MS_TDX_MAX_CRL);
    ok = n > 0 && ms_buf_append(out, der, (size_t)n) == MS_OK;
    OPENSSL_free(der);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    return ok;
}

/* ---- quotes ----------------------------------------------------------------------------- */

static const uint8_t INTEL_QE_VENDOR[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

void tdx_fx_quote_opts_default(tdx_fx_quote_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = 4;
    o->body_type = MS_TDX_BODY_TD10;
    memset(o->tee_tcb_svn, 0x03, sizeof o->tee_tcb_svn);
    memset(o->mrtd, 0x3d, sizeof o->mrtd);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        memset(o->rtmr[i], (int)(0xa0 + i), MS_TDX_MEAS_LEN);
    }
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static int app_le(ms_buf *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    put_le(tmp, v, n);
    return ms_buf_append(b, tmp, n) == MS_OK;
}

/* ECDSA P-256 / SHA-256 over msg as r || s. */
static int sign_rs(EVP_PKEY *key, const uint8_t *msg, size_t n, uint8_t rs[64])
{
    unsigned char der[128];
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &der_len, msg, n) == 1;
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &p, (long)der_len) : NULL;
    ok = sig != NULL && BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

static int ak_xy(EVP_PKEY *ak, uint8_t xy[64])
{
    uint8_t pt[65];
    size_t n = 0;
    int ok = EVP_PKEY_get_octet_string_param(ak, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &n) == 1 &&
             n == 65 && pt[0] == 0x04;
    if (ok) {
        memcpy(xy, pt + 1, 64);
    }
    return ok;
}

static void td_body(uint8_t *b, const tdx_fx_quote_opts *o)
{
    memcpy(b + 0, o->tee_tcb_svn, 16);
    memset(b + 16, 0x5e, 48); /* MRSEAM */
    put_le(b + 120, o->td_attributes, 8);
    put_le(b + 128, 0x61e7, 8); /* XFAM */
    memcpy(b + 136, o->mrtd, 48);
    memcpy(b + 184, o->mrconfigid, 48);
    memcpy(b + 232, o->mrowner, 48);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        memcpy(b + 328 + 48 * i, o->rtmr[i], 48);
    }
    memcpy(b + 520, o->report_data, 64);
    if (o->body_type == MS_TDX_BODY_TD15) {
        memset(b + 584, 0x15, 16);
        memset(b + 600, 0x5d, 48);
    }
}

/* The QE report: QE fields fixed, report data = SHA-256(ak || auth) || zeros. */
static int qe_report(uint8_t r[MS_TDX_QE_REPORT_LEN], const uint8_t ak[64], const uint8_t *auth,
                     size_t auth_len, int bad)
{
    memset(r, 0, MS_TDX_QE_REPORT_LEN);
    memset(r, 0x0c, 16);           /* CPUSVN */
    memset(r + 48, 0x11, 8);       /* ATTRIBUTES (flags) */
    memset(r + 64, 0xe1, 32);      /* MRENCLAVE */
    memset(r + 128, 0x5a, 32);     /* MRSIGNER */
    put_le(r + 256, 2, 2);         /* ISVPRODID */
    put_le(r + 258, 8, 2);         /* ISVSVN */
    uint8_t msg[64 + 64];
    memcpy(msg, ak, 64);
    memcpy(msg + 64, auth, auth_len);
    unsigned int n = 0;
    int ok = EVP_Digest(msg, 64 + auth_len, r + 320, &n, EVP_sha256(), NULL) == 1 && n == 32;
    if (bad) {
        r[320] ^= 1;
    }
    return ok;
}

int tdx_fx_quote_make(ms_buf *out, const tdx_fx_chain *c, const tdx_fx_quote_opts *o,
                      tdx_fx_layout *l)
{
    static const uint8_t auth[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
    uint8_t head[MS_TDX_HEADER_LEN] = {0};
    uint8_t body[MS_TDX_TD15_LEN] = {0};
    uint8_t ak[64], qe[MS_TDX_QE_REPORT_LEN], qe_sig[64], sig[64];
    size_t body_len = o->body_type == MS_TDX_BODY_TD15 ? MS_TDX_TD15_LEN : MS_TDX_TD10_LEN;
    memset(l, 0, sizeof *l);
    put_le(head, o->version, 2);
    put_le(head + 2, MS_TDX_AK_ECDSA_P256, 2);
    put_le(head + 4, MS_TDX_TEE_TYPE, 4);
    memcpy(head + 12, INTEL_QE_VENDOR, 16);
    memset(head + 28, 0x75, 20); /* user data */
    td_body(body, o);
    ms_buf_init(out, MS_TDX_MAX_QUOTE);
    int ok = ms_buf_append(out, head, sizeof head) == MS_OK;
    if (o->version == MS_TDX_VERSION_5) {
        ok = ok && app_le(out, o->body_type, 2) && app_le(out, body_len, 4);
    }
    ok = ok && ms_buf_append(out, body, body_len) == MS_OK;
    l->signed_len = out->len;
    ok = ok && ak_xy(c->ak, ak) && sign_rs(c->ak, out->p, out->len, sig) &&
         qe_report(qe, ak, auth, sizeof auth, o->bad_qe_binding) &&
         sign_rs(c->pck_key, qe, sizeof qe, qe_sig);
    size_t cert5 = 2 + 4 + c->pem.len;
    size_t cert6 = sizeof qe + sizeof qe_sig + 2 + sizeof auth + cert5;
    size_t sig_data = 64 + 64 + 2 + 4 + cert6;
    ok = ok && app_le(out, sig_data, 4);
    l->sig_off = out->len;
    ok = ok && ms_buf_append(out, sig, 64) == MS_OK && ms_buf_append(out, ak, 64) == MS_OK &&
         app_le(out, MS_TDX_CERT_QE_REPORT, 2) && app_le(out, cert6, 4);
    l->qe_off = out->len;
    ok = ok && ms_buf_append(out, qe, sizeof qe) == MS_OK &&
         ms_buf_append(out, qe_sig, sizeof qe_sig) == MS_OK && app_le(out, sizeof auth, 2);
    l->auth_off = out->len;
    l->auth_len = sizeof auth;
    ok = ok && ms_buf_append(out, auth, sizeof auth) == MS_OK &&
         app_le(out, MS_TDX_CERT_PCK_CHAIN, 2) && app_le(out, c->pem.len, 4);
    l->chain_off = out->len;
    ok = ok && ms_buf_append(out, c->pem.p, c->pem.len) == MS_OK;
    l->len = out->len;
    return ok;
}

int tdx_fx_quote_relayout(const ms_buf *q, const tdx_fx_layout *l, const uint8_t *auth,
                          size_t auth_len, uint16_t type, const uint8_t *data, size_t n,
                          ms_buf *out)
{
    if (auth == NULL) {
        auth = q->p + l->auth_off;
        auth_len = l->auth_len;
    }
    ms_buf_clear(out);
    /* header, body, signature data up to the QE report's signature: as they were */
    int ok = auth_len <= 0xffff && n <= 0xffffffffu &&
             ms_buf_append(out, q->p, l->auth_off - 2) == MS_OK && app_le(out, auth_len, 2) &&
             ms_buf_append(out, auth, auth_len) == MS_OK && app_le(out, type, 2) &&
             app_le(out, n, 4) && ms_buf_append(out, data, n) == MS_OK;
    if (ok) {
        size_t t6 = l->sig_off + 128 + 2; /* the type 6 size */
        put_le(out->p + l->signed_len, out->len - l->sig_off, 4);
        put_le(out->p + t6, out->len - t6 - 4, 4);
    }
    return ok;
}

/* ---- collateral ------------------------------------------------------------------------- */

void tdx_fx_collateral_opts_default(tdx_fx_collateral_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tcb_status = "UpToDate";
    o->qe_status = "UpToDate";
    o->issue_offset_s = -3600;
    o->next_offset_s = 30L * 86400;
}

static int iso_time(long offset, char out[32])
{
    time_t t = time(NULL) + offset;
    struct tm tm;
    return gmtime_r(&t, &tm) != NULL && strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* A JSON list of 16 {"svn":N}. */
static int svn_list(ms_buf *b, const uint8_t v[16])
{
    char item[32];
    int ok = ms_buf_append(b, (const uint8_t *)"[", 1) == MS_OK;
    for (size_t i = 0; i < 16 && ok; i++) {
        int n = snprintf(item, sizeof item, "%s{\"svn\":%u}", i ? "," : "", v[i]);
        ok = ms_buf_append(b, (const uint8_t *)item, (size_t)n) == MS_OK;
    }
    return ok && ms_buf_append(b, (const uint8_t *)"]", 1) == MS_OK;
}

static int app_str(ms_buf *b, const char *s)
{
    return ms_buf_append(b, (const uint8_t *)s, strlen(s)) == MS_OK;
}

/* {"<key>":BODY,"signature":"hex r||s"} with the signature over BODY's exact bytes. */
static int signed_doc(ms_buf *out, const char *key, const ms_buf *body, EVP_PKEY *k, int bad)
{
    uint8_t rs[64];
    char hex[129], head[64];
    int ok = sign_rs(k, body->p, body->len, rs);
    if (bad) {
        rs[5] ^= 1;
    }
    hex_of(rs, sizeof rs, hex);
    snprintf(head, sizeof head, "{\"%s\":", key);
    ms_buf_init(out, MS_TDX_MAX_COLLATERAL_JSON);
    return ok && app_str(out, head) && ms_buf_append(out, body->p, body->len) == MS_OK &&
           app_str(out, ",\"signature\":\"") && app_str(out, hex) && app_str(out, "\"}");
}

static int tcb_info_body(ms_buf *b, const tdx_fx_pck_opts *po, const tdx_fx_quote_opts *qo,
                         const tdx_fx_collateral_opts *o, const char *issue, const char *next)
{
    char fmspc[13], pceid[5], text[512];
    hex_of(po->fmspc, 6, fmspc);
    hex_of(po->pceid, 2, pceid);
    int advisory = strcmp(o->tcb_status, "UpToDate") != 0;
    snprintf(text, sizeof text,
             "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"fmspc\":\"%s\",\"pceId\":\"%s\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,"
             "\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
             "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":",
             issue, next, fmspc, pceid, 0);
    int ok = app_str(b, text) && svn_list(b, po->sgx_comp);
    snprintf(text, sizeof text, ",\"pcesvn\":%u,\"tdxtcbcomponents\":", po->pcesvn);
    ok = ok && app_str(b, text) && svn_list(b, qo->tee_tcb_svn);
    snprintf(text, sizeof text, "},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"%s\"%s}]}",
             o->tcb_status, advisory ? ",\"advisoryIDs\":[\"INTEL-SA-00960\",\"INTEL-SA-00982\"]" : "");
    return ok && app_str(b, text);
}

static int qe_identity_body(ms_buf *b, const tdx_fx_collateral_opts *o, const char *issue,
                            const char *next)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":"
             "\"FFFFFFFF\",\"attributes\":\"11111111111111110000000000000000\",\"attributesMask\":"
             "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
             "\"5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A\",\"isvprodid\":2,"
             "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\","
             "\"tcbStatus\":\"%s\"}]}",
             issue, next, o->qe_status);
    return app_str(b, text);
}

int tdx_fx_collateral_make(tdx_fx_collateral *out, const tdx_fx_chain *c,
                           const tdx_fx_pck_opts *po, const tdx_fx_quote_opts *qo,
                           const tdx_fx_collateral_opts *o)
{
    char issue[32], next[32];
    ms_buf tcb, qe;
    memset(out, 0, sizeof *out);
    ms_buf_init(&tcb, MS_TDX_MAX_COLLATERAL_JSON);
    ms_buf_init(&qe, MS_TDX_MAX_COLLATERAL_JSON);
    ms_buf_init(&out->signing_chain, 16384);
    out->signer_key = EVP_EC_gen("P-256");
    X509 *signer = out->signer_key ? cert_new(out->signer_key, "Test Intel SGX TCB Signing", 9)
                                   : NULL;
    int ok = signer != NULL && X509_set_issuer_name(signer, X509_get_subject_name(c->root_x)) &&
             fx_x509_ext(signer, c->root_x, NID_authority_key_identifier, "keyid:always") &&
             X509_sign(signer, c->root_key, EVP_sha256()) > 0 &&
             append_pem(signer, &out->signing_chain) && append_pem(c->root_x, &out->signing_chain);
    ok = ok && iso_time(o->issue_offset_s, issue) && iso_time(o->next_offset_s, next) &&
         tcb_info_body(&tcb, po, qo, o, issue, next) && qe_identity_body(&qe, o, issue, next) &&
         signed_doc(&out->tcb_info, "tcbInfo", &tcb, out->signer_key, o->bad_signature) &&
         signed_doc(&out->qe_identity, "enclaveIdentity", &qe, out->signer_key, 0);
    X509_free(signer);
    ms_buf_free(&tcb);
    ms_buf_free(&qe);
    return ok;
}

void tdx_fx_collateral_free(tdx_fx_collateral *out)
{
    EVP_PKEY_free(out->signer_key);
    ms_buf_free(&out->tcb_info);
    ms_buf_free(&out->qe_identity);
    ms_buf_free(&out->signing_chain);
    memset(out, 0, sizeof *out);
}

/* ---- files -------------------------------------------------------------------------------- */

int tdx_fx_chain_write(const tdx_fx_chain *c, const char *dir)
{
    return fx_write_cert_pem(dir, "root.pem", c->root.p, c->root.len) &&
           fx_write_key_pem(dir, "pck.key", c->pck_key) && fx_write_key_pem(dir, "ak.key", c->ak) &&
           fx_write_file(dir, "pck_chain.pem", c->pem.p, c->pem.len);
}

int tdx_fx_collateral_write(const tdx_fx_collateral *col, const ms_buf *pck_crl,
                            const ms_buf *root_crl, const char *dir)
{
    return fx_write_file(dir, "tcb_info.json", col->tcb_info.p, col->tcb_info.len) &&
           fx_write_file(dir, "qe_identity.json", col->qe_identity.p, col->qe_identity.len) &&
           fx_write_file(dir, "tcb_signing_chain.pem", col->signing_chain.p,
                         col->signing_chain.len) &&
           (pck_crl == NULL || fx_write_file(dir, "pck_crl.der", pck_crl->p, pck_crl->len)) &&
           (root_crl == NULL || fx_write_file(dir, "root_crl.der", root_crl->p, root_crl->len));
}

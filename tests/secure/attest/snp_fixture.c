/* SEV-SNP test fixture: loads AMD's real vectors; makes a PSS chain, VCEKs and signed reports. */
#include "tests/secure/attest/snp_fixture.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secure/attest/devkey.h"
#include "tests/fixture/proc.h"
#include "tests/quick.h"
#include "tests/secure/attest/fx_file.h"
#include "tests/secure/attest/fx_x509.h"

#ifndef MS_TESTDATA_DIR
#error "MS_TESTDATA_DIR must name ../shared/testdata (set by tests/secure/attest/CMakeLists.txt)"
#endif

/* ---- real vectors ----------------------------------------------------------------------- */

static int load(const char *rel, ms_buf *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/sev-snp/%s", MS_TESTDATA_DIR, rel);
    ms_buf_init(out, 4u * MS_SNP_MAX_CERT);
    if (ms_file_read(path, 4u * MS_SNP_MAX_CERT, out) != MS_OK) {
        fprintf(stderr, "snp fixture: cannot read %s\n", path);
        return 0;
    }
    return 1;
}

static int load_pem(const char *rel, ms_buf *der)
{
    ms_buf pem;
    int ok = load(rel, &pem);
    ms_buf_init(der, MS_SNP_MAX_CERT);
    ok = ok && ms_snp_cert_pem_to_der(pem.p, pem.len, der) == MS_OK;
    ms_buf_free(&pem);
    return ok;
}

int snp_fx_amd_load(snp_fx_amd *a)
{
    ms_buf hex;
    memset(a, 0, sizeof *a);
    int ok = load("milan/report_milan.hex", &hex);
    ok = ok && ms_snp_report_from_hex((const char *)hex.p, hex.len, a->report) == MS_OK;
    ms_buf_free(&hex);
    ok = load("milan/vcek_milan.der", &a->vcek) && ok;
    ok = load_pem("milan/ask.pem", &a->ask) && ok;
    ok = load_pem("milan/ark.pem", &a->ark) && ok;
    ok = load_pem("genoa/ask.pem", &a->genoa_ask) && ok;
    ok = load_pem("genoa/ark.pem", &a->genoa_ark) && ok;
    return ok;
}

void snp_fx_amd_free(snp_fx_amd *a)
{
    ms_buf_free(&a->vcek);
    ms_buf_free(&a->ask);
    ms_buf_free(&a->ark);
    ms_buf_free(&a->genoa_ask);
    ms_buf_free(&a->genoa_ark);
}

/* ---- keys ------------------------------------------------------------------------------- */

static EVP_PKEY *rsa_keys[3];
static EVP_PKEY *ec_keys[2];

/*
 * The made-up roots only exercise the verifier's logic (AMD's are RSA-4096), and RSA-2048
 * generation takes 10-20 s under valgrind; 1024 bits still fit PSS with SHA-384 and salt 48.
 */
#define SNP_FX_RSA_BITS 1024u

EVP_PKEY *snp_fx_rsa_gen(unsigned bits)
{
    EVP_PKEY *key = NULL;
    if (ms_test_quick()) {
        char opt[48], dir[PATH_MAX];
        const char *tmp = getenv("TMPDIR");
        snprintf(opt, sizeof opt, "rsa_keygen_bits:%u", bits);
        snprintf(dir, sizeof dir, "%s", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
        char *argv[] = {"/usr/bin/openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", opt, NULL};
        ms_buf pem;
        ms_buf_init(&pem, 64u * 1024u);
        if (e2e_run(argv, 60000, dir, &pem, NULL) == 0) {
            BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
            key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
            BIO_free(bio);
        }
        ms_buf_free(&pem);
    }
    return key != NULL ? key : EVP_RSA_gen(bits);
}

EVP_PKEY *snp_fx_rsa_key(int which)
{
    if (rsa_keys[which] == NULL) {
        rsa_keys[which] = snp_fx_rsa_gen(SNP_FX_RSA_BITS);
    }
    return rsa_keys[which];
}

EVP_PKEY *snp_fx_p384_key(int which)
{
    if (ec_keys[which] == NULL) {
        ec_keys[which] = EVP_EC_gen("P-384");
    }
    return ec_keys[which];
}

void snp_fx_keys_free(void)
{
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY_free(rsa_keys[i]);
        rsa_keys[i] = NULL;
    }
    for (size_t i = 0; i < 2; i++) {
        EVP_PKEY_free(ec_keys[i]);
        ec_keys[i] = NULL;
    }
}

/* ---- certificates ----------------------------------------------------------------------- */

static X509 *cert_new(EVP_PKEY *key, const char *cn, long serial)
{
    time_t now = time(NULL);
    return fx_x509_new(key, "Test Micro Devices", cn, serial, now, now + 3600L * 24 * 365);
}

/* A non-critical extension `oid` holding `val` as its raw value (NULL on failure). */
static X509_EXTENSION *raw_ext(const char *oid, const uint8_t *val, int len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    if (obj != NULL && os != NULL && ASN1_OCTET_STRING_set(os, val, len)) {
        e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    }
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return e;
}

static int add_raw_ext(X509 *x, const char *oid, const uint8_t *val, int len)
{
    X509_EXTENSION *e = raw_ext(oid, val, len);
    int ok = e != NULL && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

int snp_fx_add_raw_ext(X509 *x, const char *oid, const uint8_t *val, size_t len)
{
    return len <= INT_MAX && add_raw_ext(x, oid, val, (int)len);
}

/* TCB byte index -> the spl extension that states it (1.3.6.1.4.1.3704.1.3.N), per layout. */
static const int SPL_ARC[8] = {1, 2, 4, 5, 6, 7, 3, 8};
static const int SPL_ARC_TURIN[8] = {9, 1, 2, 3, 5, 6, 7, 8};

static int add_spl(X509 *x, int tcb_byte, uint8_t v, int turin)
{
    char oid[64];
    snprintf(oid, sizeof oid, "1.3.6.1.4.1.3704.1.3.%d",
             turin ? SPL_ARC_TURIN[tcb_byte] : SPL_ARC[tcb_byte]);
    ASN1_INTEGER *ai = ASN1_INTEGER_new();
    unsigned char *der = NULL;
    int len = ai != NULL && ASN1_INTEGER_set(ai, v) ? i2d_ASN1_INTEGER(ai, &der) : -1;
    int ok = len > 0 && add_raw_ext(x, oid, der, len);
    OPENSSL_free(der);
    ASN1_INTEGER_free(ai);
    return ok;
}

static int add_vcek_exts(X509 *x, const snp_fx_vcek_opts *o)
{
    int ok = 1;
    for (int b = 0; b < 8 && ok; b++) {
        if (b != o->omit_spl) {
            ok = add_spl(x, b, o->tcb[b], o->turin);
        }
        if (ok && b == o->dup_spl) {
            ok = add_spl(x, b, o->tcb[b], o->turin);
        }
    }
    if (ok && o->hwid_len > 0) {
        ok = add_raw_ext(x, "1.3.6.1.4.1.3704.1.4", o->hwid, (int)o->hwid_len);
    }
    return ok;
}

static int sign_cert(X509 *x, EVP_PKEY *key, int salt, int pkcs1)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, key) == 1;
    if (ok && !pkcs1) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0;
    }
    ok = ok && X509_sign_ctx(x, md) > 0;
    EVP_MD_CTX_free(md);
    return ok;
}

static int bio_to_buf(BIO *bio, ms_buf *out)
{
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    return n > 0 && ms_buf_append(out, p, (size_t)n) == MS_OK;
}

int snp_fx_ca_pem(EVP_PKEY *key, const char *cn, ms_buf *key_pem, ms_buf *cert_pem)
{
    ms_buf_init(key_pem, 65536);
    ms_buf_init(cert_pem, 65536);
    X509 *x = cert_new(key, cn, 1);
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    int ok = x != NULL && kb != NULL && cb != NULL && X509_set_issuer_name(x, X509_get_subject_name(x)) &&
             fx_x509_ca_exts(x, x) && X509_sign(x, key, EVP_sha384()) > 0 &&
             PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1 &&
             PEM_write_bio_X509(cb, x) == 1 && bio_to_buf(kb, key_pem) && bio_to_buf(cb, cert_pem);
    BIO_free(kb);
    BIO_free(cb);
    X509_free(x);
    return ok;
}

void snp_fx_vcek_opts_default(snp_fx_vcek_opts *o)
{
    static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 115};
    memset(o, 0, sizeof *o);
    memcpy(o->tcb, tcb, sizeof tcb);
    o->omit_spl = -1;
    o->dup_spl = -1;
    memset(o->hwid, 0x11, sizeof o->hwid);
    o->hwid_len = sizeof o->hwid;
}

int snp_fx_chain_make(snp_fx_chain *c, EVP_PKEY *ark_key, EVP_PKEY *ask_key, EVP_PKEY *vcek_key,
                      const snp_fx_vcek_opts *o, int pss_salt, int pkcs1)
{
    memset(c, 0, sizeof *c);
    X509 *ark = cert_new(ark_key, "ARK-Test", 1);
    X509 *ask = cert_new(ask_key, o->vlek ? "SEV-VLEK-Test" : "SEV-Test", 2);
    X509 *vcek = cert_new(vcek_key, o->vlek ? "SEV-VLEK" : "SEV-VCEK", 3);
    int ok = ark != NULL && ask != NULL && vcek != NULL;
    ok = ok && X509_set_issuer_name(ark, X509_get_subject_name(ark)) && fx_x509_ca_exts(ark, ark) &&
         sign_cert(ark, ark_key, 48, 0);
    ok = ok && X509_set_issuer_name(ask, X509_get_subject_name(ark)) && fx_x509_ca_exts(ask, ark) &&
         sign_cert(ask, ark_key, pss_salt, 0);
    ok = ok && X509_set_issuer_name(vcek, X509_get_subject_name(ask)) && add_vcek_exts(vcek, o) &&
         sign_cert(vcek, ask_key, pss_salt, pkcs1);
    ok = ok && fx_x509_der(ark, MS_SNP_MAX_CERT, &c->ark) && fx_x509_der(ask, MS_SNP_MAX_CERT, &c->ask) && fx_x509_der(vcek, MS_SNP_MAX_CERT, &c->vcek);
    X509_free(ark);
    X509_free(ask);
    X509_free(vcek);
    c->ark_key = ark_key;
    c->ask_key = ask_key;
    c->vcek_key = vcek_key;
    EVP_PKEY_up_ref(ark_key);
    EVP_PKEY_up_ref(ask_key);
    EVP_PKEY_up_ref(vcek_key);
    return ok;
}

int snp_fx_ark_variant(ms_buf *out, EVP_PKEY *ark_key, EVP_PKEY *issuer_key, int ca)
{
    X509 *x = cert_new(ark_key, "ARK-Test", 1);
    X509 *issuer = issuer_key == ark_key ? x : cert_new(issuer_key, "ARK-Other", 9);
    int ok = x != NULL && issuer != NULL &&
             X509_set_issuer_name(x, X509_get_subject_name(issuer));
    if (ca) {
        ok = ok && fx_x509_ca_exts(x, x); /* no authority key id: it would name `issuer` */
    } else {
        /* No keyUsage either, so that the certificate still "issued" the ASK by name and key. */
        ok = ok && fx_x509_ext(x, x, NID_basic_constraints, "critical,CA:FALSE") &&
             fx_x509_ext(x, x, NID_subject_key_identifier, "hash");
    }
    ok = ok && sign_cert(x, issuer_key, 48, 0) && fx_x509_der(x, MS_SNP_MAX_CERT, out);
    if (issuer != x) {
        X509_free(issuer);
    }
    X509_free(x);
    return ok;
}

int snp_fx_ask_not_ca(ms_buf *out, const snp_fx_chain *c)
{
    X509 *ark = cert_new(c->ark_key, "ARK-Test", 1);
    X509 *x = cert_new(c->ask_key, "SEV-Test", 2);
    /* No keyUsage, so that it still "issued" the VCEK by name and key. */
    int ok = ark != NULL && x != NULL && X509_set_issuer_name(x, X509_get_subject_name(ark)) &&
             fx_x509_ext(x, x, NID_basic_constraints, "critical,CA:FALSE") &&
             fx_x509_ext(x, x, NID_subject_key_identifier, "hash") &&
             sign_cert(x, c->ark_key, 48, 0) && fx_x509_der(x, MS_SNP_MAX_CERT, out);
    X509_free(ark);
    X509_free(x);
    return ok;
}

/* An unassigned arc under the test-only example OID 2.999, for padding. */
#define CRL_PAD_OID "2.999.1"

/* The CRL of snp_fx_crl_make, with `pad` zero bytes in a padding extension when pad > 0. */
static int crl_make(ms_buf *out, const snp_fx_chain *c, EVP_PKEY *key, long revoked, size_t pad)
{
    const unsigned char *p = c->ark.p;
    X509 *ark = d2i_X509(NULL, &p, (long)c->ark.len);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ms_buf_init(out, 2u * MS_SNP_MAX_CRL);
    int ok = ark != NULL && crl != NULL && t != NULL && X509_CRL_set_version(crl, 1) &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(ark)) &&
             X509_gmtime_adj(t, 0) && X509_CRL_set1_lastUpdate(crl, t) &&
             X509_gmtime_adj(t, 3600L * 24 * 30) && X509_CRL_set1_nextUpdate(crl, t);
    if (ok && revoked >= 0) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *serial = ASN1_INTEGER_new();
        ok = r != NULL && serial != NULL && ASN1_INTEGER_set(serial, revoked) &&
             X509_REVOKED_set_serialNumber(r, serial) && X509_gmtime_adj(t, 0) &&
             X509_REVOKED_set_revocationDate(r, t) && X509_CRL_add0_revoked(crl, r);
        if (!ok) {
            X509_REVOKED_free(r);
        }
        ASN1_INTEGER_free(serial);
    }
    if (ok && pad > 0) {
        uint8_t *zeros = calloc(1, pad);
        X509_EXTENSION *e = zeros != NULL && pad <= INT_MAX ? raw_ext(CRL_PAD_OID, zeros, (int)pad)
                                                            : NULL;
        ok = e != NULL && X509_CRL_add_ext(crl, e, -1);
        X509_EXTENSION_free(e);
        free(zeros);
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    ok = ok && md != NULL && X509_CRL_sort(crl) &&
         EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, key) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0 && X509_CRL_sign_ctx(crl, md) > 0;
    unsigned char *der = NULL;
    int n = ok ? i2d_X509_CRL(crl, &der) : -1;
    ok = n > 0 && ms_buf_append(out, der, (size_t)n) == MS_OK;
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    X509_free(ark);
    return ok;
}

int snp_fx_crl_make(ms_buf *out, const snp_fx_chain *c, EVP_PKEY *key, long revoked)
{
    return crl_make(out, c, key, revoked, 0);
}

int snp_fx_crl_of_size(ms_buf *out, const snp_fx_chain *c, size_t total)
{
    /* RSA signatures have one length, and every length field keeps its size between the two
       tries (the guess and the result are both 256..65535 bytes of padding): one correction. */
    size_t guess = total > 4096u ? total - 2048u : 1u;
    if (!crl_make(out, c, c->ark_key, -1, guess)) {
        return 0;
    }
    size_t made = out->len;
    ms_buf_free(out);
    if (made >= guess + total) { /* more overhead than `total` */
        return 0;
    }
    return crl_make(out, c, c->ark_key, -1, guess + total - made) && out->len == total;
}

void snp_fx_chain_free(snp_fx_chain *c)
{
    EVP_PKEY_free(c->ark_key);
    EVP_PKEY_free(c->ask_key);
    EVP_PKEY_free(c->vcek_key);
    ms_buf_free(&c->ark);
    ms_buf_free(&c->ask);
    ms_buf_free(&c->vcek);
    memset(c, 0, sizeof *c);
}

/* ---- reports ---------------------------------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

void snp_fx_report_opts_default(snp_fx_report_opts *o)
{
    snp_fx_vcek_opts v;
    snp_fx_vcek_opts_default(&v);
    memset(o, 0, sizeof *o);
    o->version = 2;
    o->policy = 0x30000;
    memset(o->measurement, 0x5a, sizeof o->measurement);
    memcpy(o->tcb, v.tcb, sizeof o->tcb);
    memcpy(o->chip_id, v.hwid, sizeof o->chip_id);
}

int snp_fx_report_sign(uint8_t r[static MS_SNP_REPORT_LEN], EVP_PKEY *key)
{
    unsigned char der[256];
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &der_len, r, MS_SNP_SIGNED_LEN) == 1;
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &p, (long)der_len) : NULL;
    memset(r + MS_SNP_SIGNED_LEN, 0, MS_SNP_REPORT_LEN - MS_SNP_SIGNED_LEN);
    ok = sig != NULL &&
         BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), r + 0x2A0, MS_SNP_SIG_COMPONENT_LEN) > 0 &&
         BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), r + 0x2E8, MS_SNP_SIG_COMPONENT_LEN) > 0;
    ECDSA_SIG_free(sig);
    return ok;
}

int snp_fx_report_make(uint8_t r[static MS_SNP_REPORT_LEN], const snp_fx_report_opts *o,
                       EVP_PKEY *key)
{
    memset(r, 0, MS_SNP_REPORT_LEN);
    put_le(r + 0x000, o->version, 4);
    put_le(r + 0x004, 7, 4); /* guest_svn */
    put_le(r + 0x008, o->policy, 8);
    memset(r + 0x010, 0xf1, 16); /* family_id */
    memset(r + 0x020, 0x1d, 16); /* image_id */
    put_le(r + 0x030, o->vmpl, 4);
    put_le(r + 0x034, MS_SNP_SIG_ALGO_ECDSA_P384_SHA384, 4);
    memcpy(r + 0x038, o->tcb, 8); /* current */
    put_le(r + 0x040, 1, 8);      /* platform_info: SMT enabled */
    put_le(r + 0x048, o->key_info, 4);
    memcpy(r + 0x050, o->report_data, sizeof o->report_data);
    memcpy(r + 0x090, o->measurement, sizeof o->measurement);
    memset(r + 0x140, 0x4e, 32); /* report_id */
    memset(r + 0x160, 0xff, 32); /* report_id_ma: none */
    memcpy(r + 0x180, o->tcb, 8); /* reported */
    if (o->version >= 3) {
        r[0x188] = o->family ? o->family : 0x19; /* family 19h (Milan, Genoa) by default */
        r[0x189] = 0x11;
        r[0x18A] = 0x01;
    }
    memcpy(r + 0x1A0, o->chip_id, sizeof o->chip_id);
    memcpy(r + 0x1E0, o->tcb, 8); /* committed */
    r[0x1E8] = 4;                 /* current build, minor, major */
    r[0x1E9] = 52;
    r[0x1EA] = 1;
    memcpy(r + 0x1EC, r + 0x1E8, 3);
    memcpy(r + 0x1F0, o->tcb, 8); /* launch */
    if (o->version >= 5) {
        put_le(r + 0x1F8, 0x3, 8); /* launch_mit_vector */
        put_le(r + 0x200, 0x7, 8); /* current_mit_vector */
    }
    return snp_fx_report_sign(r, key);
}

/* ---- certificate tables ----------------------------------------------------------------- */

/* From the GUID strings of the GHCB specification, byte by byte in string order. */
const uint8_t SNP_FX_GUID_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
const uint8_t SNP_FX_GUID_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
const uint8_t SNP_FX_GUID_ARK[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
const uint8_t SNP_FX_GUID_VLEK[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                      0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};

int snp_fx_cert_table(ms_buf *out, const snp_fx_table_entry *e, size_t n)
{
    size_t off = (n + 1) * 24;
    uint8_t hdr[24];
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        memcpy(hdr, e[i].guid, 16);
        put_le(hdr + 16, off, 4);
        put_le(hdr + 20, e[i].len, 4);
        ok = ms_buf_append(out, hdr, sizeof hdr) == MS_OK;
        off += e[i].len;
    }
    memset(hdr, 0, sizeof hdr);
    ok = ok && ms_buf_append(out, hdr, sizeof hdr) == MS_OK;
    for (size_t i = 0; i < n && ok; i++) {
        ok = ms_buf_append(out, e[i].p, e[i].len) == MS_OK;
    }
    return ok;
}

int snp_fx_chain_write(const snp_fx_chain *c, const char *dir)
{
    ms_buf table;
    ms_buf_init(&table, MS_SNP_MAX_CERT_TABLE);
    snp_fx_table_entry e[] = {{SNP_FX_GUID_VCEK, c->vcek.p, c->vcek.len},
                              {SNP_FX_GUID_ASK, c->ask.p, c->ask.len}};
    int ok = fx_write_cert_pem(dir, "ark.pem", c->ark.p, c->ark.len) &&
             fx_write_cert_pem(dir, "ask.pem", c->ask.p, c->ask.len) &&
             fx_write_file(dir, "vcek.der", c->vcek.p, c->vcek.len) &&
             fx_write_key_pem(dir, "vcek.key", c->vcek_key) && snp_fx_cert_table(&table, e, 2) &&
             fx_write_file(dir, "certs.bin", table.p, table.len);
    ms_buf_free(&table);
    return ok;
}

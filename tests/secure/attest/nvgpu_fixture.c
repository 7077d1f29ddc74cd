/* NVIDIA GPU test fixture: loads the real H100 vector; makes a P-384 chain named as NVIDIA names devices. */
#include "tests/secure/attest/nvgpu_fixture.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "secure/attest/devkey.h"
#include "tests/secure/attest/fx_file.h"
#include "tests/secure/attest/fx_x509.h"

#ifndef MS_TESTDATA_DIR
#error "MS_TESTDATA_DIR must name ../shared/testdata (set by tests/secure/attest/CMakeLists.txt)"
#endif

#define FX_FILE_MAX (64u * 1024u)

int nv_fx_real_load(nv_fx_real *r)
{
    char path[1024];
    ms_buf text;
    int ok = 1;
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->report, MS_NVGPU_MAX_REPORT);
    ms_buf_init(&r->ders, MS_NVGPU_MAX_CHAIN * MS_NVGPU_MAX_CERT);
    snprintf(path, sizeof path, "%s/nvidia-h100/attestation_report.hex", MS_TESTDATA_DIR);
    ms_buf_init(&text, FX_FILE_MAX);
    ok = ms_file_read(path, FX_FILE_MAX, &text) == MS_OK &&
         ms_nvgpu_report_from_hex((const char *)text.p, text.len, &r->report) == MS_OK;
    ms_buf_free(&text);
    snprintf(path, sizeof path, "%s/nvidia-h100/gpu_ak_cert_chain.pem", MS_TESTDATA_DIR);
    ms_buf_init(&text, FX_FILE_MAX);
    ok = ok && ms_file_read(path, FX_FILE_MAX, &text) == MS_OK &&
         ms_nvgpu_pem_chain(text.p, text.len, &r->ders, r->off, r->len, &r->n) == MS_OK;
    ms_buf_free(&text);
    if (!ok) {
        fprintf(stderr, "nvgpu fixture: cannot load %s/nvidia-h100\n", MS_TESTDATA_DIR);
    }
    return ok;
}

void nv_fx_real_free(nv_fx_real *r)
{
    ms_buf_free(&r->report);
    ms_buf_free(&r->ders);
}

int nv_fx_item(ms_buf *out, const uint8_t *report, size_t report_len, uint8_t host_flags,
               const ms_buf *ders, const size_t *off, const size_t *len, size_t n)
{
    ms_nvgpu_item it;
    memset(&it, 0, sizeof it);
    it.host_flags = host_flags;
    it.report = report;
    it.report_len = report_len;
    it.n_certs = n;
    for (size_t i = 0; i < n && i < MS_NVGPU_MAX_CHAIN; i++) {
        it.cert[i] = ders->p + off[i];
        it.cert_len[i] = len[i];
    }
    ms_buf_init(out, MS_NVGPU_MAX_ITEM);
    return ms_nvgpu_item_encode(&it, out) == MS_OK;
}

/* ---- a made-up chain ---------------------------------------------------------------------- */

static int name_add(X509_NAME *n, const char *field, const char *v)
{
    return X509_NAME_add_entry_by_txt(n, field, MBSTRING_ASC, (const unsigned char *)v, -1, -1,
                                      0);
}

/* serialNumber (when serial > 0) as NVIDIA names certificates: the serial in upper-case hex. */
static int name_make(X509_NAME *n, const char *cn, long serial)
{
    char hex[32];
    snprintf(hex, sizeof hex, "%lX", (unsigned long)serial);
    return (serial <= 0 || name_add(n, "serialNumber", hex)) && name_add(n, "C", "US") &&
           name_add(n, "O", "Test NVIDIA") && name_add(n, "CN", cn);
}

static int cert_add(nv_fx_chain *c, size_t slot, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    int ok = n > 0;
    if (ok) {
        c->off[slot] = c->der.len;
        c->len[slot] = (size_t)n;
        ok = ms_buf_append(&c->der, der, (size_t)n) == MS_OK;
    }
    OPENSSL_free(der);
    return ok;
}

/*
 * subject key, serial, name (cn, name_serial: the serialNumber named, 0 none), issuer
 * (certificate, or NULL when self-signed).
 */
static X509 *cert_make(EVP_PKEY *key, const char *cn, long serial, long name_serial,
                       X509 *issuer, EVP_PKEY *issuer_key, long issuer_name_serial, int ca)
{
    X509 *x = X509_new();
    int ok = x != NULL && X509_set_version(x, 2) &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
             name_make(X509_get_subject_name(x), cn, name_serial) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365) && X509_set_pubkey(x, key);
    if (ok && issuer == NULL) {
        ok = X509_set_issuer_name(x, X509_get_subject_name(x));
    } else if (ok && issuer_name_serial == 0) {
        ok = X509_set_issuer_name(x, X509_get_subject_name(issuer));
    } else if (ok) {
        X509_NAME *in = X509_NAME_new();
        ok = in != NULL && name_make(in, "GH100 A01 GSP BROM", issuer_name_serial) &&
             X509_set_issuer_name(x, in);
        X509_NAME_free(in);
    }
    X509 *iss = issuer != NULL ? issuer : x;
    ok = ok && fx_x509_ext(x, iss, NID_subject_key_identifier, "hash") &&
         fx_x509_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (ok && ca) {
        ok = fx_x509_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
             fx_x509_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else if (ok) {
        ok = fx_x509_ext(x, iss, NID_key_usage, "critical,digitalSignature");
    }
    ok = ok && X509_sign(x, issuer_key, EVP_sha384()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int nv_fx_chain_make_under(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                           long leaf_issuer_serial)
{
    return nv_fx_chain_make_leaf_named(c, root_key, dev_serial, leaf_issuer_serial,
                                       dev_serial + 0x1000);
}

static int chain_make(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial, long dev_name_serial,
                      long leaf_issuer_serial, long leaf_name_serial, const char *leaf_curve)
{
    memset(c, 0, sizeof *c);
    ms_buf_init(&c->der, 3u * MS_NVGPU_MAX_CERT);
    c->root_key = root_key;
    EVP_PKEY_up_ref(root_key);
    c->dev_key = EVP_EC_gen("P-384");
    c->leaf_key = EVP_EC_gen(leaf_curve);
    if (c->dev_key == NULL || c->leaf_key == NULL) {
        return 0;
    }
    X509 *root = cert_make(root_key, "Test NVIDIA Device Identity CA", 0, 0, NULL, root_key, 0, 1);
    X509 *dev = root ? cert_make(c->dev_key, "GH100 A01 GSP BROM", dev_serial, dev_name_serial, root,
                                 root_key, 0, 1)
                     : NULL;
    X509 *leaf = NULL;
    if (dev != NULL) {
        /* The leaf's issuer is the device's subject, with the serialNumber asked for. */
        leaf = cert_make(c->leaf_key, "GH100 A01 GSP FMC LF", dev_serial + 0x1000,
                         leaf_name_serial, dev, c->dev_key, leaf_issuer_serial, 0);
    }
    int ok = leaf != NULL && cert_add(c, 0, leaf) && cert_add(c, 1, dev) && cert_add(c, 2, root);
    X509_free(leaf);
    X509_free(dev);
    X509_free(root);
    return ok;
}

int nv_fx_chain_make_leaf_named(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                                long leaf_issuer_serial, long leaf_name_serial)
{
    return chain_make(c, root_key, dev_serial, dev_serial, leaf_issuer_serial, leaf_name_serial,
                      "P-384");
}

int nv_fx_chain_make_leaf_curve(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                                const char *leaf_curve)
{
    return chain_make(c, root_key, dev_serial, dev_serial, dev_serial, dev_serial + 0x1000,
                      leaf_curve);
}

int nv_fx_chain_make_dev_named(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                               long dev_name_serial)
{
    return chain_make(c, root_key, dev_serial, dev_name_serial, dev_name_serial,
                      dev_serial + 0x1000, "P-384");
}

static X509 *chain_cert(const nv_fx_chain *c, size_t slot)
{
    const unsigned char *p = c->der.p + c->off[slot];
    return d2i_X509(NULL, &p, (long)c->len[slot]);
}

/* A well-formed chain, then the leaf's issuer entry `nid` replaced by `value` in its place
   and the leaf re-signed by the device key. */
static int reissue_leaf(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial, int nid,
                        const char *value)
{
    if (!nv_fx_chain_make_under(c, root_key, dev_serial, dev_serial)) {
        return 0;
    }
    X509 *leaf = chain_cert(c, 0), *dev = chain_cert(c, 1), *root = chain_cert(c, 2);
    X509_NAME *in = leaf ? X509_NAME_dup(X509_get_issuer_name(leaf)) : NULL;
    int at = in ? X509_NAME_get_index_by_NID(in, nid, -1) : -1;
    X509_NAME_ENTRY *old = at >= 0 ? X509_NAME_delete_entry(in, at) : NULL;
    int ok = old != NULL && dev != NULL && root != NULL &&
             X509_NAME_add_entry_by_NID(in, nid, MBSTRING_ASC, (const unsigned char *)value, -1,
                                        at, 0) &&
             X509_set_issuer_name(leaf, in) && X509_sign(leaf, c->dev_key, EVP_sha384()) > 0;
    ms_buf_clear(&c->der);
    ok = ok && cert_add(c, 0, leaf) && cert_add(c, 1, dev) && cert_add(c, 2, root);
    X509_NAME_ENTRY_free(old);
    X509_NAME_free(in);
    X509_free(leaf);
    X509_free(dev);
    X509_free(root);
    return ok;
}

int nv_fx_chain_make_issuer_cn(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                               const char *issuer_cn)
{
    return reissue_leaf(c, root_key, dev_serial, NID_commonName, issuer_cn);
}

int nv_fx_chain_make_issuer_serial(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                                   const char *issuer_serial)
{
    return reissue_leaf(c, root_key, dev_serial, NID_serialNumber, issuer_serial);
}

int nv_fx_chain_make(nv_fx_chain *c, long dev_serial, long leaf_issuer_serial)
{
    EVP_PKEY *root_key = EVP_EC_gen("P-384");
    int ok = root_key != NULL &&
             nv_fx_chain_make_under(c, root_key, dev_serial, leaf_issuer_serial);
    EVP_PKEY_free(root_key);
    return ok;
}

void nv_fx_chain_free(nv_fx_chain *c)
{
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->dev_key);
    EVP_PKEY_free(c->leaf_key);
    ms_buf_free(&c->der);
    memset(c, 0, sizeof *c);
}

int nv_fx_made_item(ms_buf *out, const nv_fx_chain *c, const uint8_t nonce[32], size_t n_blocks,
                    uint8_t fill, int feature_flag, uint8_t host_flags)
{
    uint8_t report[MS_NVGPU_MAX_REPORT];
    size_t n = nv_fx_report_build(report, sizeof report, nonce, n_blocks, fill, feature_flag,
                                  c->leaf_key);
    return n > 0 && nv_fx_item(out, report, n, host_flags, &c->der, c->off, c->len, 3);
}

int nv_fx_write_key(EVP_PKEY *key, const char *path)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (f != NULL) {
        ok = (fclose(f) == 0) && ok;
    }
    return ok;
}

static int write_pem(const nv_fx_chain *c, const char *path, size_t first)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL;
    for (size_t i = first; ok && i < 3; i++) {
        const unsigned char *p = c->der.p + c->off[i];
        X509 *x = d2i_X509(NULL, &p, (long)c->len[i]);
        ok = x != NULL && PEM_write_X509(f, x) == 1;
        X509_free(x);
    }
    if (f != NULL) {
        ok = (fclose(f) == 0) && ok;
    }
    return ok;
}

int nv_fx_write_chain_pem(const nv_fx_chain *c, const char *path)
{
    return write_pem(c, path, 0);
}

int nv_fx_write_root_pem(const nv_fx_chain *c, const char *path)
{
    return write_pem(c, path, 2);
}

int nv_fx_fake_gpus(nv_fx_chain gpu[static 2], const char *dir, const char *root_pem)
{
    char key[PATH_MAX], pem[PATH_MAX];
    if (mkdir(dir, 0700) != 0 || setenv("MS_FAKE_NVML_DIR", dir, 1) != 0 ||
        !nv_fx_chain_make(&gpu[0], 0x1111, 0x1111) ||
        !nv_fx_chain_make_under(&gpu[1], gpu[0].root_key, 0x2222, 0x2222) ||
        !nv_fx_write_root_pem(&gpu[0], root_pem)) {
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        int nk = snprintf(key, sizeof key, "%s/gpu%d.key", dir, i);
        int np = snprintf(pem, sizeof pem, "%s/gpu%d.pem", dir, i);
        if (nk < 0 || (size_t)nk >= sizeof key || np < 0 || (size_t)np >= sizeof pem ||
            !nv_fx_write_key(gpu[i].leaf_key, key) || !nv_fx_write_chain_pem(&gpu[i], pem)) {
            return 0;
        }
    }
    return fx_write_file(dir, "count", "2", 1);
}

/* SEV-SNP certificate files: one certificate (or AMD's CRL), PEM or DER, read into DER. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp.h"
#include "secure/attest/snp_produce.h"
#include "secure/attest/snp_x509.h"

#define PEM_MARK "-----BEGIN"
#define CERT_FILE_MAX (4u * MS_SNP_MAX_CERT) /* PEM is base64 plus headers: room for it */

static int looks_pem(const ms_buf *t)
{
    size_t i = 0;
    while (i < t->len && (t->p[i] == ' ' || t->p[i] == '\t' || t->p[i] == '\r' || t->p[i] == '\n')) {
        i++;
    }
    return t->len - i >= sizeof PEM_MARK - 1 && ms_ct_equal(t->p + i, PEM_MARK, sizeof PEM_MARK - 1);
}

ms_err ms_snp_cert_file_der(const char *path, ms_buf *der)
{
    ms_buf text;
    X509 *x = NULL;
    ENSURE(path != NULL && der != NULL, MS_ERR_ARG);
    ms_buf_init(&text, CERT_FILE_MAX);
    ms_err e = ms_file_read(path, CERT_FILE_MAX, &text);
    if (e == MS_OK && looks_pem(&text)) {
        e = ms_snp_cert_pem_to_der(text.p, text.len, der);
    } else if (e == MS_OK) {
        /* DER: exactly one certificate filling the file. */
        e = ms_snp_x509_parse(text.p, text.len, MS_ERR_FILE_FORMAT, &x);
        if (e == MS_OK) {
            e = ms_buf_append(der, text.p, text.len);
        }
        X509_free(x);
    }
    ms_buf_free(&text);
    return e;
}

/* DIR/<stem>.der, else DIR/<stem>.pem. MS_ERR_FILE_OPEN when neither can be opened. */
static ms_err load_one(const char *dir, const char *stem, ms_buf *der)
{
    static const char *const exts[] = {"der", "pem"};
    char path[4096];
    ms_err e = MS_ERR_FILE_OPEN;
    for (size_t i = 0; i < 2 && e == MS_ERR_FILE_OPEN; i++) {
        int n = snprintf(path, sizeof path, "%s/%s.%s", dir, stem, exts[i]);
        ENSURE(n > 0 && (size_t)n < sizeof path, MS_ERR_ARG);
        e = ms_snp_cert_file_der(path, der);
    }
    return e;
}

ms_err ms_snp_certs_dir_load(const char *dir, ms_buf *vcek, ms_buf *ask, int *have_ask)
{
    *have_ask = 0;
    ENSURE(dir != NULL, MS_ERR_ARG);
    TRY(load_one(dir, "vcek", vcek));
    ms_err e = load_one(dir, "ask", ask);
    if (e == MS_ERR_FILE_OPEN) {
        return MS_OK; /* no ASK file: the host's, or the client's policy holds it */
    }
    *have_ask = e == MS_OK;
    return e;
}

/* A CRL's DER: the PEM block's, or the file's own when it is exactly one DER CRL. */
static ms_err crl_to_der(const ms_buf *text, ms_buf *der)
{
    X509_CRL *crl = NULL;
    const unsigned char *p = text->p;
    if (looks_pem(text)) {
        BIO *bio = BIO_new_mem_buf(text->p, (int)text->len);
        ENSURE(bio != NULL, MS_ERR_NOMEM);
        crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
    } else {
        crl = d2i_X509_CRL(NULL, &p, (long)text->len);
        if (crl != NULL && p != text->p + text->len) {
            X509_CRL_free(crl);
            crl = NULL;
        }
    }
    unsigned char *out = NULL;
    int n = crl != NULL ? i2d_X509_CRL(crl, &out) : -1;
    X509_CRL_free(crl);
    ERR_clear_error();
    ms_err e = n > 0 ? MS_OK : MS_ERR_FILE_FORMAT;
    if (e == MS_OK) {
        e = (size_t)n <= MS_SNP_MAX_CRL ? ms_buf_append(der, out, (size_t)n) : MS_ERR_CAP_EXCEEDED;
    }
    OPENSSL_free(out);
    return e;
}

ms_err ms_snp_crl_file_der(const char *path, ms_buf *der)
{
    ms_buf text;
    ENSURE(path != NULL && der != NULL, MS_ERR_ARG);
    ms_buf_init(&text, 2u * MS_SNP_MAX_CRL);
    ms_err e = ms_file_read(path, 2u * MS_SNP_MAX_CRL, &text);
    if (e == MS_OK) {
        e = crl_to_der(&text, der);
    }
    ms_buf_free(&text);
    return e;
}

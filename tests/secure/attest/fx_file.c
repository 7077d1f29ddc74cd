/* Attestation test fixtures: files of test-made bytes, certificates and keys (see fx_file.h). */
#include "tests/secure/attest/fx_file.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <unistd.h>

static FILE *open_in(const char *dir, const char *name)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = n > 0 && (size_t)n < sizeof path ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fd >= 0 && f == NULL) {
        close(fd);
    }
    return f;
}

static int close_ok(FILE *f, int ok)
{
    return f != NULL && fclose(f) == 0 && ok;
}

int fx_write_file(const char *dir, const char *name, const void *p, size_t n)
{
    FILE *f = open_in(dir, name);
    return close_ok(f, f != NULL && (n == 0 || fwrite(p, 1, n, f) == n));
}

int fx_write_cert_pem(const char *dir, const char *name, const uint8_t *der, size_t len)
{
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    FILE *f = x != NULL ? open_in(dir, name) : NULL;
    int ok = close_ok(f, f != NULL && PEM_write_X509(f, x) == 1);
    X509_free(x);
    return ok;
}

int fx_write_key_pem(const char *dir, const char *name, EVP_PKEY *key)
{
    FILE *f = open_in(dir, name);
    return close_ok(f, f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
}

/* The OpenSSL verify callback that records and checks the server's TLS key. */
#include "secure/attest/tlspin.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"

static int pin_index = -1;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void make_index(void)
{
    pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int leaf_spki(X509 *cert, uint8_t out[static MS_SPKI_HASH_LEN])
{
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (n <= 0 || !der) {
        return 0;
    }
    SHA256(der, (size_t)n, out);
    OPENSSL_free(der);
    return 1;
}

static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    if (X509_STORE_CTX_get_error_depth(store) != 0) {
        return preverify_ok;
    }
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    ms_tls_pin *pin = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pin_index) : NULL;
    X509 *leaf = X509_STORE_CTX_get_current_cert(store);
    if (!pin || !leaf) {
        return 0; /* installed but unusable: fail closed */
    }
    pin->have_seen = leaf_spki(leaf, pin->seen);
    if (pin->have_expected &&
        (!pin->have_seen || !ms_ct_equal(pin->seen, pin->expected, MS_SPKI_HASH_LEN))) {
        pin->mismatch = 1;
        return 0;
    }
    return preverify_ok;
}

ms_err ms_tls_pin_install(void *ssl_ctx, ms_tls_pin *pin)
{
    pthread_once(&pin_once, make_index);
    ENSURE(ssl_ctx != NULL && pin_index >= 0, MS_ERR_INTERNAL);
    SSL_CTX *ctx = ssl_ctx;
    ENSURE(SSL_CTX_set_ex_data(ctx, pin_index, pin) == 1, MS_ERR_INTERNAL);
    /* Keep the mode the caller chose (peer verification on); add our callback. */
    SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
    return MS_OK;
}

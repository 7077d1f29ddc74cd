/* libFuzzer harness: the three handshake decoders must be safe on any bytes and canonical. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/hs_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoders leave *out zeroed on failure (hs_msg.h). */
static void require_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            abort();
        }
    }
}

/* Canonical encoding: what a decoder accepts re-encodes to exactly the input. */
static void require_same(const ms_buf *b, const uint8_t *data, size_t size)
{
    if (b->len != size || (size > 0 && memcmp(b->p, data, size) != 0)) {
        abort();
    }
}

static void client_hello(const uint8_t *data, size_t size)
{
    ms_client_hello ch;
    ms_buf b;
    if (ms_client_hello_decode(data, size, &ch) != MS_OK) {
        require_zero(&ch, sizeof ch);
        return;
    }
    if (size > MS_CLIENT_HELLO_MAX_LEN) {
        abort();
    }
    ms_buf_init(&b, MS_CLIENT_HELLO_MAX_LEN);
    if (ms_client_hello_encode(&ch, &b) != MS_OK) {
        abort();
    }
    require_same(&b, data, size);
    ms_buf_free(&b);
}

static void server_hello(const uint8_t *data, size_t size)
{
    ms_server_hello sh;
    ms_buf b;
    if (ms_server_hello_decode(data, size, &sh) != MS_OK) {
        require_zero(&sh, sizeof sh);
        return;
    }
    if (sh.core_len + MS_KEY_LEN != size ||
        size != MS_SERVER_HELLO_FIXED_LEN + (size_t)sh.evidence_len) {
        abort();
    }
    ms_buf_init(&b, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    if (ms_server_hello_encode_core(&sh, &b) != MS_OK || b.len != sh.core_len ||
        ms_buf_append(&b, sh.confirm, sizeof sh.confirm) != MS_OK) {
        abort();
    }
    require_same(&b, data, size);
    ms_buf_free(&b);
}

static void client_finish(const uint8_t *data, size_t size)
{
    ms_client_finish cf;
    ms_buf b;
    if (ms_client_finish_decode(data, size, &cf) != MS_OK) {
        require_zero(&cf, sizeof cf);
        return;
    }
    if (size > MS_CLIENT_FINISH_MAX_LEN) {
        abort();
    }
    ms_buf_init(&b, MS_CLIENT_FINISH_MAX_LEN);
    if (ms_client_finish_encode(&cf, &b) != MS_OK) {
        abort();
    }
    require_same(&b, data, size);
    ms_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    client_hello(data, size);
    server_hello(data, size);
    client_finish(data, size);
    return 0;
}

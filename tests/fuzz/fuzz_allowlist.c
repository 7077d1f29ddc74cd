/* libFuzzer harness: the allow-list parser must be safe on any bytes; what it accepts re-encodes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/buf.h"
#include "secure/idkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_idkey_list l;
    size_t line;
    uint8_t pk[MS_SIGN_PK_LEN];
    if (ms_idkey_list_parse(data, size, &l, &line) != MS_OK) {
        if (l.n != 0 || l.keys != NULL) {
            abort(); /* an error leaves the list empty */
        }
        return 0;
    }
    /* Every accepted key is found, and its keygen line decodes back to it. */
    for (size_t i = 0; i < l.n; i++) {
        ms_buf b;
        ms_buf_init(&b, 512);
        if (!ms_idkey_list_has(&l, l.keys[i]) || ms_idkey_line_encode(l.keys[i], "x", &b) != MS_OK ||
            ms_idkey_line_decode(b.p, b.len - 1, pk) != MS_OK ||
            !ms_idkey_list_has(&l, pk)) {
            abort();
        }
        ms_buf_free(&b);
    }
    ms_idkey_list_free(&l);
    return 0;
}

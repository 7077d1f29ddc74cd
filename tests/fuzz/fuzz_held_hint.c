/*
 * Fuzz the supervisor's reader of the Minions-Evidence-Held header (ms_sup_held_hint): the
 * input, up to its first NUL, is the header value. Its contract: either the value is ignored
 * (0, the digest all zeros), or it is exactly 64 lowercase hex digits, and the digest spelt
 * again in lowercase hex is the value itself.
 */
#include <stdlib.h>
#include <string.h>

#include "secure/supervisor/handlers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    char *value = malloc(size + 1);
    if (value == NULL) {
        return 0;
    }
    memcpy(value, data, size);
    value[size] = '\0';
    uint8_t out[MS_HELD_DIGEST_LEN];
    memset(out, 0xa5, sizeof out);
    int ok = ms_sup_held_hint(value, out);
    if (ok == 0) {
        for (size_t i = 0; i < sizeof out; i++) {
            if (out[i] != 0) {
                __builtin_trap(); /* an ignored value leaves no digest behind */
            }
        }
    } else if (ok == 1) {
        if (strlen(value) != 2 * MS_HELD_DIGEST_LEN) {
            __builtin_trap();
        }
        for (size_t i = 0; i < sizeof out; i++) {
            if (value[2 * i] != digits[out[i] >> 4] || value[2 * i + 1] != digits[out[i] & 15]) {
                __builtin_trap(); /* not the one spelling of the digest */
            }
        }
    } else {
        __builtin_trap();
    }
    free(value);
    return 0;
}

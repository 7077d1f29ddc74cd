/* libFuzzer harness for ms_text_escape: within its cap; its output needs no escape but '\'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CHARS 300u

static char out[MS_TEXT_ESCAPE_SIZE(MAX_CHARS) + 1];
static char again[MS_TEXT_ESCAPE_SIZE(MS_TEXT_ESCAPE_SIZE(MAX_CHARS))];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    /* The first two bytes choose the limits: max_chars, and a cap that may be too small. */
    size_t max_chars = data[0] % (MAX_CHARS + 1u);
    size_t cap = data[1] == 0xFF ? MS_TEXT_ESCAPE_SIZE(max_chars) : data[1];
    const char *s = (const char *)data + 2;
    size_t len = size - 2;
    memset(out, 0x5A, sizeof out);
    size_t used = ms_text_escape(s, len, max_chars, out, cap);
    if (out[cap] != 0x5A || used > len) {
        abort(); /* wrote past cap, or consumed what it was not given */
    }
    if (cap == 0) {
        return 0;
    }
    size_t n = strnlen(out, cap);
    if (n == cap || (used < len && cap >= 4 && (n < 3 || memcmp(out + n - 3, "...", 3) != 0))) {
        abort();
    }
    if (data[1] == 0xFF && used < len && used == 0 && max_chars > 0) {
        abort(); /* the cap it asks for never stops it before max_chars */
    }
    /*
     * Escaping the output again changes nothing but doubling each '\': so the output is
     * valid UTF-8 without controls or hidden characters (any of those would grow by more).
     */
    size_t backslashes = 0;
    for (size_t i = 0; i < n; i++) {
        backslashes += out[i] == '\\';
    }
    if (ms_text_escape(out, n, n, again, sizeof again) != n || strlen(again) != n + backslashes) {
        abort();
    }
    return 0;
}

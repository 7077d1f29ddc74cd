/* libFuzzer harness for the terminal filter: any split of a text shows as the whole; output safe. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN 4096u

typedef struct sink {
    char b[MAX_IN * MS_TEXT_ESCAPE_CHAR_MAX + 1];
    size_t n;
} sink;

static sink whole, split;
static char esc[MS_TEXT_ESCAPE_SIZE(MAX_IN * MS_TEXT_ESCAPE_CHAR_MAX)];

static void put(void *ctx, const char *p, size_t n)
{
    sink *s = ctx;
    if (n == 0 || n > sizeof s->b - s->n) {
        abort(); /* an empty call, or more than 8 bytes out per byte in */
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size - 2 > MAX_IN) {
        return 0;
    }
    /* The first two bytes seed the piece lengths (1 to 5 bytes: the cuts land inside
       sequences), the rest is the text. */
    uint32_t x = (uint32_t)data[0] << 8 | data[1];
    const char *s = (const char *)data + 2;
    size_t len = size - 2;
    ms_text_tty t;
    whole.n = split.n = 0;
    ms_text_tty_init(&t, put, &whole);
    ms_text_tty_write(&t, s, len);
    ms_text_tty_flush(&t);
    ms_text_tty_init(&t, put, &split);
    for (size_t i = 0; i < len;) {
        x = x * 1103515245u + 12345u;
        size_t n = 1u + (x >> 16) % 5u;
        n = n < len - i ? n : len - i;
        ms_text_tty_write(&t, s + i, n);
        i += n;
    }
    ms_text_tty_flush(&t);
    if (split.n != whole.n || memcmp(split.b, whole.b, whole.n) != 0 || t.nheld != 0) {
        abort(); /* split anywhere == whole */
    }
    /*
     * Escaping the output changes nothing but '\', LF and TAB (each one byte more): so it is
     * valid UTF-8 without any other control or hidden character.
     */
    size_t layout = 0, kept = 0;
    for (size_t i = 0; i < whole.n; i++) {
        layout += whole.b[i] == '\\' || whole.b[i] == '\n' || whole.b[i] == '\t';
    }
    if (ms_text_escape(whole.b, whole.n, whole.n, esc, sizeof esc) != whole.n ||
        strlen(esc) != whole.n + layout) {
        abort();
    }
    /* A text without '\', LF or TAB shows exactly as ms_text_escape shows it. */
    for (size_t i = 0; i < len; i++) {
        kept += s[i] == '\\' || s[i] == '\n' || s[i] == '\t';
    }
    if (kept == 0 && (ms_text_escape(s, len, len, esc, sizeof esc) != len ||
                      strlen(esc) != whole.n || memcmp(esc, whole.b, whole.n) != 0)) {
        abort();
    }
    return 0;
}

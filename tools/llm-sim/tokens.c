/* llm-sim's stand-in tokenizer (see tokens.h for the rules). */
#include "tools/llm-sim/tokens.h"

#include <stdint.h>

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_word(uint8_t c)
{
    return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static size_t skip_space(const uint8_t *p, size_t len, size_t i)
{
    while (i < len && is_space(p[i])) {
        i++;
    }
    return i;
}

bool llmsim_tokens_next(const char *s, size_t len, size_t *off, size_t *n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t start = *off;
    *n = 0;
    if (start >= len) {
        return false;
    }
    size_t i = skip_space(p, len, start);
    if (i < len && is_word(p[i])) {
        while (i < len && is_word(p[i])) {
            i++;
        }
    } else if (i < len) {
        i++; /* one punctuation or control byte */
    }
    if (skip_space(p, len, i) == len) {
        i = len; /* trailing whitespace goes with the last piece */
    }
    *n = i - start;
    *off = i;
    return true;
}

size_t llmsim_tokens_count(const char *s, size_t len)
{
    size_t off = 0, n, count = 0;
    while (llmsim_tokens_next(s, len, &off, &n)) {
        count++;
    }
    return count;
}

size_t llmsim_tokens_prefix(const char *s, size_t len, size_t max_pieces)
{
    size_t off = 0, n;
    for (size_t k = 0; k < max_pieces; k++) {
        if (!llmsim_tokens_next(s, len, &off, &n)) {
            break;
        }
    }
    return off;
}

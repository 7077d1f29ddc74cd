/* Capped growable buffers; growth and release wipe the old memory. */
#include "common/buf.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/cursor.h"

void ms_wipe(void *p, size_t n)
{
    if (p && n) {
        sodium_memzero(p, n);
    }
}

/* Blocks of 64, 32 and 16 bytes through libsodium's crypto_verify_* (SSE2 when the build has
   it: a 256-byte compare about 15 times fewer instructions than a byte loop), the tail
   through sodium_memcmp; every one constant-time, and only n (public) picks which. */
int ms_ct_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    int diff = 0;
    size_t i = 0;
    for (; n - i >= crypto_verify_64_BYTES; i += crypto_verify_64_BYTES) {
        diff |= crypto_verify_64(x + i, y + i);
    }
    if (n - i >= crypto_verify_32_BYTES) {
        diff |= crypto_verify_32(x + i, y + i);
        i += crypto_verify_32_BYTES;
    }
    if (n - i >= crypto_verify_16_BYTES) {
        diff |= crypto_verify_16(x + i, y + i);
        i += crypto_verify_16_BYTES;
    }
    if (n > i) {
        diff |= sodium_memcmp(x + i, y + i, n - i);
    }
    return diff == 0;
}

int ms_public_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t diff = 0;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        diff |= u ^ v;
    }
    for (; i < n; i++) {
        diff |= (uint64_t)(x[i] ^ y[i]);
    }
    return diff == 0;
}

void ms_buf_init(ms_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void ms_buf_free(ms_buf *b)
{
    if (b->p) {
        ms_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void ms_buf_free_public(ms_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void ms_buf_clear(ms_buf *b)
{
    ms_wipe(b->p, b->len);
    b->len = 0;
}

ms_err ms_buf_reserve(ms_buf *b, size_t extra)
{
    /* +1 keeps room for ms_buf_terminate without a second growth. */
    ENSURE(extra <= b->max - b->len, MS_ERR_CAP_EXCEEDED);
    ENSURE(b->len + extra < SIZE_MAX, MS_ERR_CAP_EXCEEDED);
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return MS_OK;
    }
    /* Doubling keeps appends amortised; a reservation past double is made exactly, so a
       buffer sized once (a declared length, a reply's exact size) has no untouched half
       to fault in and wipe. */
    size_t ncap = b->cap < 32 ? 64 : b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
    ncap = ncap < need ? need : ncap;
    size_t limit = b->max < SIZE_MAX ? b->max + 1 : SIZE_MAX;
    if (ncap > limit) {
        ncap = limit;
    }
    uint8_t *np = malloc(ncap);
    ENSURE(np != NULL, MS_ERR_NOMEM);
    if (b->p) {
        memcpy(np, b->p, b->len);
        ms_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = np;
    b->cap = ncap;
    return MS_OK;
}

ms_err ms_buf_extend(ms_buf *b, size_t n, uint8_t **where)
{
    *where = NULL;
    TRY(ms_buf_reserve(b, n));
    *where = b->p + b->len;
    b->len += n;
    return MS_OK;
}

ms_err ms_buf_append(ms_buf *b, const void *src, size_t n)
{
    uint8_t *dst;
    if (n == 0) {
        return MS_OK;
    }
    TRY(ms_buf_extend(b, n, &dst));
    memcpy(dst, src, n);
    return MS_OK;
}

ms_err ms_buf_append_u8(ms_buf *b, uint8_t v)
{
    return ms_buf_append(b, &v, 1);
}

ms_err ms_buf_append_u16be(ms_buf *b, uint16_t v)
{
    uint8_t t[2];
    ms_store_u16be(t, v);
    return ms_buf_append(b, t, sizeof t);
}

ms_err ms_buf_append_u32be(ms_buf *b, uint32_t v)
{
    uint8_t t[4];
    ms_store_u32be(t, v);
    return ms_buf_append(b, t, sizeof t);
}

ms_err ms_buf_append_u64be(ms_buf *b, uint64_t v)
{
    uint8_t t[8];
    ms_store_u64be(t, v);
    return ms_buf_append(b, t, sizeof t);
}

ms_err ms_buf_append_dec(ms_buf *b, uint64_t v)
{
    char t[20]; /* UINT64_MAX has 20 digits */
    size_t i = sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return ms_buf_append(b, t + i, sizeof t - i);
}

ms_err ms_buf_append_str(ms_buf *b, const char *s)
{
    return ms_buf_append(b, s, strlen(s));
}

ms_err ms_buf_terminate(ms_buf *b)
{
    TRY(ms_buf_reserve(b, 0));
    b->p[b->len] = 0;
    return MS_OK;
}

ms_err ms_buf_shrink(ms_buf *b, size_t n)
{
    ENSURE(n <= b->len, MS_ERR_ARG);
    ms_wipe(b->p + b->len - n, n);
    b->len -= n;
    return MS_OK;
}

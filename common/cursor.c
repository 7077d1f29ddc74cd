/* Bounded reader and writer cursors over byte strings. */
#include "common/cursor.h"

#include <string.h>

#include "common/check.h"

ms_cursor ms_cursor_init(const uint8_t *p, size_t len)
{
    ms_cursor c = {.p = p, .len = p ? len : 0, .off = 0};
    return c;
}

size_t ms_cursor_remaining(const ms_cursor *c)
{
    return c->len - c->off;
}

ms_err ms_cursor_borrow(ms_cursor *c, const uint8_t **out, size_t n)
{
    *out = NULL;
    ENSURE(n <= ms_cursor_remaining(c), MS_ERR_TRUNCATED);
    *out = c->p + c->off;
    c->off += n;
    return MS_OK;
}

ms_err ms_cursor_read_bytes(ms_cursor *c, uint8_t *out, size_t n)
{
    const uint8_t *src;
    if (ms_cursor_borrow(c, &src, n) != MS_OK) {
        if (n > 0) {
            memset(out, 0, n);
        }
        return MS_ERR_TRUNCATED;
    }
    if (n > 0) {
        memcpy(out, src, n);
    }
    return MS_OK;
}

ms_err ms_cursor_read_u8(ms_cursor *c, uint8_t *out)
{
    return ms_cursor_read_bytes(c, out, 1);
}

ms_err ms_cursor_read_u16be(ms_cursor *c, uint16_t *out)
{
    uint8_t b[2];
    *out = 0;
    TRY(ms_cursor_read_bytes(c, b, sizeof b));
    *out = ms_load_u16be(b);
    return MS_OK;
}

ms_err ms_cursor_read_u32be(ms_cursor *c, uint32_t *out)
{
    uint8_t b[4];
    *out = 0;
    TRY(ms_cursor_read_bytes(c, b, sizeof b));
    *out = ms_load_u32be(b);
    return MS_OK;
}

ms_err ms_cursor_read_u64be(ms_cursor *c, uint64_t *out)
{
    uint8_t b[8];
    *out = 0;
    TRY(ms_cursor_read_bytes(c, b, sizeof b));
    *out = ms_load_u64be(b);
    return MS_OK;
}

/* Read n (<= 8) bytes as a little-endian unsigned number. */
static ms_err read_le(ms_cursor *c, size_t n, uint64_t *out)
{
    uint8_t b[8];
    *out = 0;
    TRY(ms_cursor_read_bytes(c, b, n));
    for (size_t i = n; i-- > 0;) {
        *out = *out << 8 | b[i];
    }
    return MS_OK;
}

ms_err ms_cursor_read_u16le(ms_cursor *c, uint16_t *out)
{
    uint64_t v;
    ms_err e = read_le(c, 2, &v);
    *out = (uint16_t)v;
    return e;
}

ms_err ms_cursor_read_u32le(ms_cursor *c, uint32_t *out)
{
    uint64_t v;
    ms_err e = read_le(c, 4, &v);
    *out = (uint32_t)v;
    return e;
}

ms_err ms_cursor_read_u64le(ms_cursor *c, uint64_t *out)
{
    return read_le(c, 8, out);
}

ms_err ms_cursor_sub(ms_cursor *c, ms_cursor *sub, size_t n)
{
    const uint8_t *p;
    *sub = ms_cursor_init(NULL, 0);
    TRY(ms_cursor_borrow(c, &p, n));
    *sub = ms_cursor_init(p, n);
    return MS_OK;
}

ms_err ms_cursor_skip(ms_cursor *c, size_t n)
{
    const uint8_t *p;
    return ms_cursor_borrow(c, &p, n);
}

ms_err ms_cursor_expect_end(const ms_cursor *c)
{
    return ms_cursor_remaining(c) == 0 ? MS_OK : MS_ERR_TRAILING;
}

ms_wcursor ms_wcursor_init(uint8_t *p, size_t cap)
{
    ms_wcursor w = {.p = p, .cap = p ? cap : 0, .off = 0};
    return w;
}

ms_err ms_wcursor_put_bytes(ms_wcursor *w, const uint8_t *src, size_t n)
{
    ENSURE(n <= w->cap - w->off, MS_ERR_OUT_SPACE);
    if (n > 0) {
        memcpy(w->p + w->off, src, n);
    }
    w->off += n;
    return MS_OK;
}

ms_err ms_wcursor_put_u8(ms_wcursor *w, uint8_t v)
{
    return ms_wcursor_put_bytes(w, &v, 1);
}

ms_err ms_wcursor_put_u16be(ms_wcursor *w, uint16_t v)
{
    uint8_t b[2];
    ms_store_u16be(b, v);
    return ms_wcursor_put_bytes(w, b, sizeof b);
}

ms_err ms_wcursor_put_u32be(ms_wcursor *w, uint32_t v)
{
    uint8_t b[4];
    ms_store_u32be(b, v);
    return ms_wcursor_put_bytes(w, b, sizeof b);
}

ms_err ms_wcursor_put_u64be(ms_wcursor *w, uint64_t v)
{
    uint8_t b[8];
    ms_store_u64be(b, v);
    return ms_wcursor_put_bytes(w, b, sizeof b);
}

void ms_store_u16be(uint8_t out[static 2], uint16_t v)
{
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)v;
}

void ms_store_u32be(uint8_t out[static 4], uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        out[i] = (uint8_t)(v >> (24 - 8 * i));
    }
}

void ms_store_u64be(uint8_t out[static 8], uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

uint16_t ms_load_u16be(const uint8_t in[static 2])
{
    return (uint16_t)((unsigned)in[0] << 8 | in[1]);
}

uint32_t ms_load_u32be(const uint8_t in[static 4])
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = v << 8 | in[i];
    }
    return v;
}

uint64_t ms_load_u64be(const uint8_t in[static 8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | in[i];
    }
    return v;
}

/* Bounded cursors: the only place where pointer arithmetic on untrusted input happens. */
#ifndef MS_COMMON_CURSOR_H
#define MS_COMMON_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Reader over borrowed bytes. Reads never go past `len`; a failed read returns
 * MS_ERR_TRUNCATED, leaves the offset unchanged and sets the output to zero.
 * Not thread-safe; cheap to copy (a copy is a snapshot).
 */
typedef struct ms_cursor {
    const uint8_t *p;
    size_t len;
    size_t off;
} ms_cursor;

ms_cursor ms_cursor_init(const uint8_t *p, size_t len);
size_t ms_cursor_remaining(const ms_cursor *c);

MS_MUST_CHECK ms_err ms_cursor_read_u8(ms_cursor *c, uint8_t *out);
MS_MUST_CHECK ms_err ms_cursor_read_u16be(ms_cursor *c, uint16_t *out);
MS_MUST_CHECK ms_err ms_cursor_read_u32be(ms_cursor *c, uint32_t *out);
MS_MUST_CHECK ms_err ms_cursor_read_u64be(ms_cursor *c, uint64_t *out);
/* Little-endian forms, for formats that use them (AMD SEV-SNP reports). */
MS_MUST_CHECK ms_err ms_cursor_read_u16le(ms_cursor *c, uint16_t *out);
MS_MUST_CHECK ms_err ms_cursor_read_u32le(ms_cursor *c, uint32_t *out);
MS_MUST_CHECK ms_err ms_cursor_read_u64le(ms_cursor *c, uint64_t *out);
/* Copy exactly n bytes into out. */
MS_MUST_CHECK ms_err ms_cursor_read_bytes(ms_cursor *c, uint8_t *out, size_t n);
/* Borrow n bytes without copying: *out points into the input. */
MS_MUST_CHECK ms_err ms_cursor_borrow(ms_cursor *c, const uint8_t **out, size_t n);
/* A sub-cursor over the next n bytes (for length-prefixed fields); advances c past them. */
MS_MUST_CHECK ms_err ms_cursor_sub(ms_cursor *c, ms_cursor *sub, size_t n);
MS_MUST_CHECK ms_err ms_cursor_skip(ms_cursor *c, size_t n);
/* MS_OK when every byte was consumed, MS_ERR_TRAILING otherwise. */
MS_MUST_CHECK ms_err ms_cursor_expect_end(const ms_cursor *c);

/*
 * Writer into caller-owned fixed storage. A write that does not fit returns
 * MS_ERR_OUT_SPACE and writes nothing.
 */
typedef struct ms_wcursor {
    uint8_t *p;
    size_t cap;
    size_t off;
} ms_wcursor;

ms_wcursor ms_wcursor_init(uint8_t *p, size_t cap);
MS_MUST_CHECK ms_err ms_wcursor_put_u8(ms_wcursor *w, uint8_t v);
MS_MUST_CHECK ms_err ms_wcursor_put_u16be(ms_wcursor *w, uint16_t v);
MS_MUST_CHECK ms_err ms_wcursor_put_u32be(ms_wcursor *w, uint32_t v);
MS_MUST_CHECK ms_err ms_wcursor_put_u64be(ms_wcursor *w, uint64_t v);
MS_MUST_CHECK ms_err ms_wcursor_put_bytes(ms_wcursor *w, const uint8_t *src, size_t n);

/* Fixed-width big-endian helpers for headers of known size (no bounds: callers own sizes). */
void ms_store_u16be(uint8_t out[static 2], uint16_t v);
void ms_store_u32be(uint8_t out[static 4], uint32_t v);
void ms_store_u64be(uint8_t out[static 8], uint64_t v);
uint16_t ms_load_u16be(const uint8_t in[static 2]);
uint32_t ms_load_u32be(const uint8_t in[static 4]);
uint64_t ms_load_u64be(const uint8_t in[static 8]);

#endif

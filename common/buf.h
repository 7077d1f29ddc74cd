/* Growable byte buffers with a hard cap; every free wipes. */
#ifndef MS_COMMON_BUF_H
#define MS_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * A buffer owns `p` (heap, NULL until first growth). `max` is the cap fixed at init from
 * common/limits.h: growing past it is MS_ERR_CAP_EXCEEDED and leaves the contents as they
 * were. Growth reallocates by copy-and-wipe, so no stale copy of the contents stays on the
 * heap. Not thread-safe.
 */
typedef struct ms_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t max;
} ms_buf;

void ms_buf_init(ms_buf *b, size_t max);
/* Wipes and frees the contents; the buffer can be reused (same cap). */
void ms_buf_free(ms_buf *b);
/* Frees without a wipe: only for bytes that were public all along (a sealed record as it
   crossed the network). Reusable as after ms_buf_free. */
void ms_buf_free_public(ms_buf *b);
/* Wipes the contents and sets len to 0, keeping the allocation. */
void ms_buf_clear(ms_buf *b);
/* Ensure room for `extra` more bytes. */
MS_MUST_CHECK ms_err ms_buf_reserve(ms_buf *b, size_t extra);
MS_MUST_CHECK ms_err ms_buf_append(ms_buf *b, const void *src, size_t n);
MS_MUST_CHECK ms_err ms_buf_append_u8(ms_buf *b, uint8_t v);
MS_MUST_CHECK ms_err ms_buf_append_u16be(ms_buf *b, uint16_t v);
MS_MUST_CHECK ms_err ms_buf_append_u32be(ms_buf *b, uint32_t v);
MS_MUST_CHECK ms_err ms_buf_append_u64be(ms_buf *b, uint64_t v);
/* Append v in decimal ASCII (no sign, no leading zeros; "0" for 0): what snprintf's %llu
   writes, without printf on a hot path. */
MS_MUST_CHECK ms_err ms_buf_append_dec(ms_buf *b, uint64_t v);
/* Append a NUL-free C string without its terminator. */
MS_MUST_CHECK ms_err ms_buf_append_str(ms_buf *b, const char *s);
/* Make p[len] a NUL (not counted in len) so the contents can be read as a C string. */
MS_MUST_CHECK ms_err ms_buf_terminate(ms_buf *b);
/* Reserve `n` bytes at the end and return a pointer to them; len grows by n. */
MS_MUST_CHECK ms_err ms_buf_extend(ms_buf *b, size_t n, uint8_t **where);
/* Drop bytes from the end (wiping them). n > len is an error. */
MS_MUST_CHECK ms_err ms_buf_shrink(ms_buf *b, size_t n);

/* Wipe memory in a way the compiler cannot remove (sodium_memzero). */
void ms_wipe(void *p, size_t n);
/* Constant-time equality of two equal-length byte strings: 1 equal, 0 different. */
int ms_ct_equal(const void *a, const void *b, size_t n);
/* Equality of two equal-length byte strings that are public (evidence every client is sent,
   model output): eight bytes a step, XOR-folded, every byte read, no early exit; several
   times faster than ms_ct_equal's byte loop on long inputs. Secrets and MACs: ms_ct_equal.
   1 equal, 0 different. */
int ms_public_equal(const void *a, const void *b, size_t n);

#endif

/* libFuzzer harness for common/llm/sse: events must not depend on how the bytes are chunked. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cursor.h"
#include "common/limits.h"
#include "common/llm/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CUTS 8

/* Every event, length-prefixed, in order. */
struct record {
    ms_buf events;
    size_t max_event;
};

static ms_err on_event(void *ctx, const char *p, size_t n)
{
    struct record *r = ctx;
    if (n > r->max_event || p[n] != '\0') {
        abort();
    }
    if (ms_buf_append_u64be(&r->events, n) != MS_OK || ms_buf_append(&r->events, p, n) != MS_OK) {
        abort();
    }
    return MS_OK;
}

/* An "error:" line (llama.cpp): recorded after a marker, and it stops the stream. */
static ms_err on_error(void *ctx, const char *p, size_t n)
{
    struct record *r = ctx;
    if (p[n] != '\0' || ms_buf_append_u64be(&r->events, UINT64_MAX) != MS_OK ||
        ms_buf_append(&r->events, p, n) != MS_OK) {
        abort();
    }
    return MS_ERR_BACKEND_STATUS;
}

struct outcome {
    struct record rec;
    ms_err err;
    bool done;
};

/* Feed in[0..n) cut at the sorted offsets, then finish. */
static void run(const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts, size_t max_line,
                size_t max_event, struct outcome *o)
{
    ms_sse *s = NULL;
    ms_buf_init(&o->rec.events, 64u * 1024u * 1024u);
    o->rec.max_event = max_event;
    if (ms_sse_new(max_line, max_event, on_event, &o->rec, &s) != MS_OK) {
        abort();
    }
    ms_sse_set_error_fn(s, on_error);
    size_t at = 0;
    o->err = MS_OK;
    for (size_t i = 0; i <= ncuts && o->err == MS_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        o->err = ms_sse_feed(s, in + at, end - at);
        at = end;
    }
    if (o->err == MS_OK) {
        o->err = ms_sse_finish(s);
    }
    o->done = ms_sse_done(s);
    ms_sse_free(s);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/*
 * Input: one byte (cut count in the low 3 bits; small caps when bit 3 is set), then two
 * bytes per cut (offsets into the rest, modulo its length + 1), then the stream itself.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_cursor c = ms_cursor_init(data, size);
    uint8_t head;
    size_t cuts[MAX_CUTS];
    if (ms_cursor_read_u8(&c, &head) != MS_OK) {
        return 0;
    }
    size_t ncuts = head & 7u;
    size_t max_line = head & 8u ? 1u + (head >> 4) * 4u : MS_MAX_SSE_LINE;
    size_t max_event = head & 8u ? 1u + (head >> 4) * 8u : MS_MAX_SSE_EVENT;
    uint16_t raw[MAX_CUTS];
    for (size_t i = 0; i < ncuts; i++) {
        if (ms_cursor_read_u16be(&c, &raw[i]) != MS_OK) {
            return 0;
        }
    }
    const uint8_t *in = NULL;
    size_t n = ms_cursor_remaining(&c);
    if (ms_cursor_borrow(&c, &in, n) != MS_OK) {
        abort();
    }
    for (size_t i = 0; i < ncuts; i++) {
        cuts[i] = raw[i] % (n + 1);
    }
    qsort(cuts, ncuts, sizeof cuts[0], cmp_size);

    struct outcome whole, split;
    run(in, n, NULL, 0, max_line, max_event, &whole);
    run(in, n, cuts, ncuts, max_line, max_event, &split);
    if (whole.err != split.err || whole.done != split.done ||
        whole.rec.events.len != split.rec.events.len ||
        (whole.rec.events.len > 0 &&
         memcmp(whole.rec.events.p, split.rec.events.p, whole.rec.events.len) != 0)) {
        abort();
    }
    ms_buf_free(&whole.rec.events);
    ms_buf_free(&split.rec.events);
    return 0;
}

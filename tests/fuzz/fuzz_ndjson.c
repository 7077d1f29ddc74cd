/* libFuzzer harness for common/llm/ndjson: lines must not depend on how the bytes are chunked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cursor.h"
#include "common/limits.h"
#include "common/llm/ndjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CUTS 8

/* Every line, length-prefixed, in order. */
struct record {
    ms_buf lines;
    size_t max_line;
};

static ms_err on_line(void *ctx, const char *p, size_t n)
{
    struct record *r = ctx;
    if (n == 0 || n > r->max_line || p[n] != '\0' || p[n - 1] == '\n') {
        abort();
    }
    if (ms_buf_append_u64be(&r->lines, n) != MS_OK || ms_buf_append(&r->lines, p, n) != MS_OK) {
        abort();
    }
    return MS_OK;
}

struct outcome {
    struct record rec;
    ms_err err;
};

/* Feed in[0..n) cut at the sorted offsets, then finish. */
static void run(const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts, size_t max_line,
                struct outcome *o)
{
    ms_ndjson *j = NULL;
    ms_buf_init(&o->rec.lines, 64u * 1024u * 1024u);
    o->rec.max_line = max_line;
    if (ms_ndjson_new(max_line, on_line, &o->rec, &j) != MS_OK) {
        abort();
    }
    size_t at = 0;
    o->err = MS_OK;
    for (size_t i = 0; i <= ncuts && o->err == MS_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        o->err = ms_ndjson_feed(j, in + at, end - at);
        at = end;
    }
    if (o->err == MS_OK) {
        o->err = ms_ndjson_finish(j);
    }
    ms_ndjson_free(j);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/*
 * Input: one byte (cut count in the low 3 bits; a small cap when bit 3 is set), then two
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
    size_t max_line = head & 8u ? 1u + (head >> 4) * 4u : MS_MAX_NDJSON_LINE;
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
    run(in, n, NULL, 0, max_line, &whole);
    run(in, n, cuts, ncuts, max_line, &split);
    if (whole.err != split.err || whole.rec.lines.len != split.rec.lines.len ||
        (whole.rec.lines.len > 0 &&
         memcmp(whole.rec.lines.p, split.rec.lines.p, whole.rec.lines.len) != 0)) {
        abort();
    }
    ms_buf_free(&whole.rec.lines);
    ms_buf_free(&split.rec.lines);
    return 0;
}

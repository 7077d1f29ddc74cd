/* libFuzzer harness for protocols/chunk (every method) and BM25 over its chunks: invariants. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "common/limits.h"
#include "protocols/bm25.h"
#include "protocols/chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(bool ok)
{
    if (!ok) {
        abort();
    }
}

/* Length of a valid UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_len(const uint8_t *p, size_t avail)
{
    uint8_t c = p[0];
    size_t n = c < 0x80                 ? 1
               : c >= 0xC2 && c <= 0xDF ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    if (n <= 1 || n > avail) {
        return n == 1 ? 1 : 0;
    }
    uint8_t lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    uint8_t hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t k = 2; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* inside[i]: byte i continues a valid UTF-8 sequence (decoding greedily from the start). */
static bool *mark_inside(const uint8_t *p, size_t len)
{
    bool *in = calloc(len + 1, 1);
    need(in != NULL);
    for (size_t i = 0; i < len;) {
        size_t k = utf8_len(p + i, len - i);
        for (size_t j = 1; j < k; j++) {
            in[i + j] = true;
        }
        i += k > 0 ? k : 1;
    }
    return in;
}

static void check_spans(const uint8_t *p, size_t len, const ms_chunk_params *prm,
                        const ms_chunk_list *l)
{
    bool *in = mark_inside(p, len);
    size_t prev_off = 0, prev_end = 0;
    need(len == 0 || l->count > 0);
    need(l->count <= MS_MAX_CHUNKS);
    for (size_t i = 0; i < l->count; i++) {
        const ms_chunk *c = &l->items[i];
        need(c->len > 0 && c->len <= prm->size && c->off <= len && c->len <= len - c->off);
        need(!in[c->off] && !in[c->off + c->len]); /* never inside a valid sequence */
        size_t end = c->off + c->len;
        if (prm->method == MS_CHUNK_FIXED) {
            need(i == 0 ? c->off == 0
                        : c->off > prev_off && end > prev_end && c->off <= prev_end &&
                              prev_end - c->off <= prm->overlap);
            need(c->page == 0);
        } else {
            need(c->off == prev_end); /* exact cover, in order, no gap or overlap */
            need((prm->method == MS_CHUNK_PAGES) == (c->page != 0));
            need(i == 0 || c->page >= l->items[i - 1].page);
            need(i > 0 || c->page <= 1);
        }
        prev_off = c->off;
        prev_end = end;
    }
    need(prev_end == len);
    free(in);
}

static void check_bm25(const uint8_t *p, size_t len, const ms_chunk_list *l, const uint8_t *q,
                       size_t qn)
{
    ms_bm25_hit hits[8];
    size_t n = 99;
    ms_err e =
        ms_bm25_top_k((const char *)p, len, l->items, l->count, (const char *)q, qn, 8, hits, &n);
    need(e == MS_OK || e == MS_ERR_CAP_EXCEEDED);
    need(e == MS_OK || n == 0);
    need(n <= 8 && n <= l->count);
    for (size_t i = 0; i < n; i++) {
        need(hits[i].chunk < l->count && isfinite(hits[i].score) && hits[i].score > 0);
        need(i == 0 || hits[i - 1].score > hits[i].score ||
             (hits[i - 1].score == hits[i].score && hits[i - 1].chunk < hits[i].chunk));
    }
}

/*
 * Input: method (1 byte), size (2 bytes: MS_MIN_CHUNK_SIZE + value % 1024), overlap
 * (1 byte, a fraction of size/2), query length (1 byte, a prefix of the text), then text.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_cursor c = ms_cursor_init(data, size);
    uint8_t m = 0, ov = 0, ql = 0;
    uint16_t sz = 0;
    if (ms_cursor_read_u8(&c, &m) != MS_OK || ms_cursor_read_u16be(&c, &sz) != MS_OK ||
        ms_cursor_read_u8(&c, &ov) != MS_OK || ms_cursor_read_u8(&c, &ql) != MS_OK) {
        return 0;
    }
    const uint8_t *text = NULL;
    size_t len = ms_cursor_remaining(&c);
    need(ms_cursor_borrow(&c, &text, len) == MS_OK);
    ms_chunk_params prm = {.method = (ms_chunk_method)(m % MS_CHUNK_METHOD_COUNT),
                           .size = MS_MIN_CHUNK_SIZE + sz % 1024u};
    prm.overlap = prm.method == MS_CHUNK_FIXED ? (prm.size / 2) * ov / 255u : 0;
    need(ms_chunk_params_check(&prm) == MS_OK);

    ms_chunk_list a, b;
    ms_err e = ms_chunk_split((const char *)text, len, &prm, &a);
    need(e == MS_OK || e == MS_ERR_CAP_EXCEEDED);
    if (e != MS_OK) {
        need(a.count == 0 && a.items == NULL);
        return 0;
    }
    check_spans(text, len, &prm, &a);
    need(ms_chunk_split((const char *)text, len, &prm, &b) == MS_OK && a.count == b.count);
    for (size_t i = 0; i < a.count; i++) { /* fields: padding is not compared */
        need(a.items[i].off == b.items[i].off && a.items[i].len == b.items[i].len &&
             a.items[i].page == b.items[i].page);
    }
    check_bm25(text, len, &a, text, ql < len ? ql : len);
    ms_chunk_list_free(&a);
    ms_chunk_list_free(&b);
    return 0;
}

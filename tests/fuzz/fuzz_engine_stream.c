/*
 * libFuzzer harness for the engine stream reader (common/llm/call.c via ms_llm_stream_body):
 * the short path for events that differ from the last text-only one only in their text
 * must read every stream exactly as parsing each event does: the same error, the same
 * pieces in the same order, content, finish reason, usage and error text. Input: one byte
 * (the chunk size fed at a time, 0: whole), then the SSE body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/limits.h"
#include "common/llm/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    ms_err err;
    ms_buf pieces; /* each piece's length (4 bytes), then its bytes */
    ms_chat_result r;
    size_t hits;
};

static ms_err on_piece(void *ctx, const char *text, size_t len)
{
    ms_buf *b = ctx;
    if (len == 0 || memchr(text, '\0', len) != NULL) {
        abort(); /* pieces are non-empty text without NUL */
    }
    ms_err e = ms_buf_append_u32be(b, (uint32_t)len);
    return e != MS_OK ? e : ms_buf_append(b, text, len);
}

static void run(const uint8_t *in, size_t n, size_t chunk, bool fast, struct outcome *o)
{
    ms_buf_init(&o->pieces, MS_MAX_LLM_REPLY * 2);
    ms_chat_result_init(&o->r);
    o->err = ms_llm_stream_body(&ms_llm_format_openai, in, n, chunk, fast, on_piece, &o->pieces,
                                &o->r, &o->hits);
}

static int same(const ms_buf *a, const ms_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t chunk = data[0];
    struct outcome fast, slow;
    run(data + 1, size - 1, chunk, true, &fast);
    run(data + 1, size - 1, chunk, false, &slow);
    if (fast.err != slow.err || slow.hits != 0 || !same(&fast.pieces, &slow.pieces) ||
        !same(&fast.r.content, &slow.r.content) ||
        strcmp(fast.r.finish_reason, slow.r.finish_reason) != 0 ||
        fast.r.truncated != slow.r.truncated || fast.r.prompt_tokens != slow.r.prompt_tokens ||
        fast.r.completion_tokens != slow.r.completion_tokens ||
        strcmp(fast.r.error_text, slow.r.error_text) != 0) {
        abort();
    }
    ms_buf_free(&fast.pieces);
    ms_buf_free(&slow.pieces);
    ms_chat_result_free(&fast.r);
    ms_chat_result_free(&slow.r);
    return 0;
}

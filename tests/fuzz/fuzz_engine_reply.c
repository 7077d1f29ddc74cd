/* libFuzzer harness for the engine reply parsers (OpenAI-compatible and Ollama, whole bodies). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/llm/engine.h"
#include "common/turn_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef ms_err (*parse_fn)(const ms_buf *body, ms_chat_result *r);

/* What any parse must leave: bounded content, a terminated finish reason and error text. */
static void check(parse_fn parse, const ms_buf *body)
{
    ms_chat_result r;
    ms_chat_result_init(&r);
    ms_err e = parse(body, &r);
    if (r.content.len > MS_MAX_LLM_REPLY ||
        memchr(r.finish_reason, '\0', sizeof r.finish_reason) == NULL ||
        memchr(r.error_text, '\0', sizeof r.error_text) == NULL) {
        abort();
    }
    if (r.truncated != ms_finish_reason_cut(r.finish_reason, strlen(r.finish_reason))) {
        abort(); /* "cut at the token limit" is decided in one place, from finish_reason */
    }
    if (e == MS_OK && r.content.len > 0 && memchr(r.content.p, '\0', r.content.len) != NULL) {
        abort(); /* reply text never carries NUL into callers that treat it as a string */
    }
    ms_chat_result_free(&r);
}

/* ms_openai_take_body (which may take the body's buffer) gives what the kept parse gave. */
static void check_taken(const ms_buf *body, ms_err e_kept, const ms_chat_result *kept)
{
    ms_chat_result taken;
    ms_buf own;
    ms_chat_result_init(&taken);
    ms_buf_init(&own, body->max);
    taken.keep_escaped = true;
    if (ms_buf_append(&own, body->p, body->len) != MS_OK) {
        abort();
    }
    ms_err e = ms_openai_take_body(&own, &taken);
    if (e != e_kept || taken.content_escaped != kept->content_escaped ||
        taken.content.len != kept->content.len ||
        (kept->content.len > 0 && memcmp(taken.content.p, kept->content.p, kept->content.len) != 0) ||
        strcmp(taken.finish_reason, kept->finish_reason) != 0 ||
        taken.prompt_tokens != kept->prompt_tokens ||
        taken.completion_tokens != kept->completion_tokens ||
        strcmp(taken.error_text, kept->error_text) != 0 ||
        (body->len > 0 && own.p == NULL && !taken.content_escaped)) {
        abort();
    }
    ms_buf_free(&own);
    ms_chat_result_free(&taken);
}

/*
 * The supervisor's parse (keep_escaped: a long content kept as the engine escaped it) and
 * the decoding one agree on the outcome and on every field; a kept content decodes to the
 * decoding parse's text.
 */
static void check_kept(const ms_buf *body)
{
    ms_chat_result dec, kept;
    ms_buf text;
    ms_chat_result_init(&dec);
    ms_chat_result_init(&kept);
    ms_buf_init(&text, MS_MAX_LLM_REPLY);
    kept.keep_escaped = true;
    ms_err e1 = ms_openai_parse_body(body, &dec), e2 = ms_openai_parse_body(body, &kept);
    if (e1 != e2 || dec.content_escaped || strcmp(dec.finish_reason, kept.finish_reason) != 0 ||
        dec.prompt_tokens != kept.prompt_tokens || strcmp(dec.error_text, kept.error_text) != 0) {
        abort();
    }
    if (kept.content_escaped) {
        if (ms_json_unescape((const char *)kept.content.p, kept.content.len, &text) != MS_OK) {
            abort();
        }
    } else if (ms_buf_append(&text, kept.content.p, kept.content.len) != MS_OK) {
        abort();
    }
    if (e1 == MS_OK && (text.len != dec.content.len ||
                        (text.len > 0 && memcmp(text.p, dec.content.p, text.len) != 0))) {
        abort();
    }
    check_taken(body, e2, &kept);
    ms_buf_free(&text);
    ms_chat_result_free(&dec);
    ms_chat_result_free(&kept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_buf body;
    ms_buf_init(&body, MS_MAX_LLM_RESPONSE);
    if (ms_buf_append(&body, data, size) != MS_OK) {
        ms_buf_free(&body);
        return 0;
    }
    check(ms_openai_parse_body, &body);
    check(ms_ollama_parse_body, &body);
    check_kept(&body);
    ms_buf_free(&body);
    return 0;
}

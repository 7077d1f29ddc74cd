/*
 * libFuzzer harness for the client's reply parse (secure/client/payload.c): the decoding
 * parse (ms_client_reply_parse) and the kept one (ms_client_reply_parse_kept) must agree on
 * every input: the same error, the same fields, and a kept content must decode to the
 * decoding parse's text. First byte: bit 0 set, the rest is the whole reply; else the rest
 * is put after a 300-byte plain prefix into a long content's body (the kept path), and bit 1
 * asks for a FINAL (streamed).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "secure/client/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void agree(bool same)
{
    if (!same) {
        abort();
    }
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void compare(const uint8_t *json, size_t len, int streamed)
{
    ms_client_reply d, k;
    ms_err ed = ms_client_reply_parse(json, len, streamed, &d);
    ms_err ek = ms_client_reply_parse_kept(json, len, streamed, &k);
    agree(ed == ek);
    if (ed == MS_OK) {
        agree(d.ok == k.ok && !d.content_escaped && same_str(d.finish_reason, k.finish_reason));
        agree(d.truncated == k.truncated && d.prompt_tokens == k.prompt_tokens &&
              d.completion_tokens == k.completion_tokens);
        agree(same_str(d.error_code, k.error_code) && same_str(d.error_message, k.error_message));
        agree((d.content == NULL) == (k.content == NULL));
        if (k.content_escaped) {
            ms_buf text;
            ms_buf_init(&text, MS_MAX_RECORD_PLAINTEXT);
            agree(ms_json_unescape(k.content, k.content_len, &text) == MS_OK);
            agree(text.len == d.content_len && memcmp(text.p, d.content, text.len) == 0);
            ms_buf_free(&text);
        } else if (k.content != NULL) {
            agree(k.content_len == d.content_len &&
                  memcmp(k.content, d.content, d.content_len) == 0);
        }
    }
    ms_client_reply_free(&d);
    ms_client_reply_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "{\"ok\":true,\"content\":\"";
    static const char tail[] = "\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1,"
                               "\"completion_tokens\":2}}";
    if (size == 0 || size > 65536) {
        return 0;
    }
    if (data[0] & 1) {
        compare(data + 1, size - 1, (data[0] >> 1) & 1);
        return 0;
    }
    size_t n = sizeof head - 1 + 300 + (size - 1) + sizeof tail - 1;
    uint8_t *b = malloc(n);
    if (b == NULL) {
        return 0;
    }
    memcpy(b, head, sizeof head - 1);
    memset(b + sizeof head - 1, 'a', 300);
    memcpy(b + sizeof head - 1 + 300, data + 1, size - 1);
    memcpy(b + n - (sizeof tail - 1), tail, sizeof tail - 1);
    compare(b, n, (data[0] >> 1) & 1);
    free(b);
    return 0;
}

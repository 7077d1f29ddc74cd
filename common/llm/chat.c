/* Initialisation and release of the shared chat types; image type checks. */
#include "common/llm/chat.h"

#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/limits.h"

_Static_assert(sizeof(((ms_chat_result *)0)->error_text) > MS_MAX_LLM_ERROR_TEXT,
               "error_text holds MS_MAX_LLM_ERROR_TEXT characters and a NUL");

void ms_chat_opts_init(ms_chat_opts *o)
{
    o->max_tokens = 0;
    o->temperature = -1.0;
    o->json_format = NULL;
}

void ms_chat_result_init(ms_chat_result *r)
{
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->content, MS_MAX_LLM_REPLY);
}

void ms_chat_result_free(ms_chat_result *r)
{
    ms_buf_free(&r->content);
    ms_wipe(r->error_text, sizeof r->error_text);
    r->finish_reason[0] = '\0';
    r->truncated = false;
}

/* --- images (protocol.md §12.3 image parts) -------------------------------------------------- */

static int has_bytes(const uint8_t *p, size_t n, size_t off, const char *magic, size_t m)
{
    if (n < off + m) {
        return 0;
    }
    for (size_t i = 0; i < m; i++) {
        if (p[off + i] != (uint8_t)magic[i]) {
            return 0;
        }
    }
    return 1;
}

const char *ms_chat_image_sniff(const uint8_t *p, size_t n)
{
    if (has_bytes(p, n, 0, "\x89PNG\r\n\x1a\n", 8)) {
        return "image/png";
    }
    if (has_bytes(p, n, 0, "\xff\xd8\xff", 3)) {
        return "image/jpeg";
    }
    if (has_bytes(p, n, 0, "GIF87a", 6) || has_bytes(p, n, 0, "GIF89a", 6)) {
        return "image/gif";
    }
    if (has_bytes(p, n, 0, "RIFF", 4) && has_bytes(p, n, 8, "WEBP", 4)) {
        return "image/webp";
    }
    return NULL;
}

static const char *const IMAGE_TYPES[] = {"image/png", "image/jpeg", "image/webp", "image/gif"};

/* The text after "data:" up to ";base64,", as one of IMAGE_TYPES; *used: bytes consumed. */
static const char *url_mime(const char *url, size_t len, size_t *used)
{
    static const char pre[] = "data:", post[] = ";base64,";
    if (!has_bytes((const uint8_t *)url, len, 0, pre, sizeof pre - 1)) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof IMAGE_TYPES / sizeof IMAGE_TYPES[0]; i++) {
        size_t m = strlen(IMAGE_TYPES[i]), off = sizeof pre - 1;
        if (has_bytes((const uint8_t *)url, len, off, IMAGE_TYPES[i], m) &&
            has_bytes((const uint8_t *)url, len, off + m, post, sizeof post - 1)) {
            *used = off + m + sizeof post - 1;
            return IMAGE_TYPES[i];
        }
    }
    return NULL;
}

/*
 * Strict base64 of 1..MS_MAX_CHAT_IMAGE_BYTES bytes, decoded in slices on the stack (only
 * the last slice may hold padding); the first bytes are kept for the type check.
 */
static ms_err check_b64(const char *b64, size_t len, uint8_t head[static 12], size_t *head_len)
{
    enum { SLICE = 4096 };
    uint8_t tmp[SLICE / 4 * 3];
    size_t got, total = 0;
    ms_err err = MS_OK;
    *head_len = 0;
    ENSURE(len > 0 && len % 4 == 0, MS_ERR_BASE64);
    ENSURE(len / 4 * 3 <= MS_MAX_CHAT_IMAGE_BYTES + 2, MS_ERR_CAP_EXCEEDED);
    for (size_t off = 0; off < len; off += SLICE) {
        size_t n = len - off < SLICE ? len - off : SLICE;
        ENSURE_OUT(off + n == len || b64[off + n - 1] != '=', MS_ERR_BASE64);
        TRY_OUT(ms_base64_decode(b64 + off, n, tmp, sizeof tmp, &got));
        if (off == 0) {
            *head_len = got < 12 ? got : 12;
            memcpy(head, tmp, *head_len);
        }
        total += got;
    }
    ENSURE_OUT(total <= MS_MAX_CHAT_IMAGE_BYTES, MS_ERR_CAP_EXCEEDED);
out:
    ms_wipe(tmp, sizeof tmp);
    return err;
}

ms_err ms_chat_image_from_url(const char *url, size_t len, ms_chat_image *out)
{
    uint8_t head[12];
    size_t used = 0, head_len = 0;
    memset(out, 0, sizeof *out);
    ENSURE(url != NULL, MS_ERR_ARG);
    const char *mime = url_mime(url, len, &used);
    ENSURE(mime != NULL, MS_ERR_ARG);
    TRY(check_b64(url + used, len - used, head, &head_len));
    const char *seen = ms_chat_image_sniff(head, head_len);
    ENSURE(seen != NULL && strcmp(seen, mime) == 0, MS_ERR_ARG);
    *out = (ms_chat_image){.mime = mime, .b64 = url + used, .b64_len = len - used};
    return MS_OK;
}

/* Types shared by the model-engine chat clients (OpenAI-compatible, Ollama). */
#ifndef MS_COMMON_LLM_CHAT_H
#define MS_COMMON_LLM_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * One message of a conversation. role is "system", "user" or "assistant" (passed through as
 * given; must be non-empty). content is content_len bytes of UTF-8 without NUL (it need not
 * be NUL-terminated; NULL is allowed when content_len is 0). Borrowed: the clients copy what
 * they send and keep nothing after they return.
 */
typedef struct ms_chat_image ms_chat_image;
typedef struct ms_chat_msg {
    const char *role;
    const char *content;
    size_t content_len;
    const ms_chat_image *images; /* NULL when n_images is 0: a text-only message */
    size_t n_images;             /* images sent with the text (user messages, multimodal engines) */
} ms_chat_msg;

/*
 * An image that goes with a message (protocol.md §12.3 image parts). mime is one of
 * "image/png", "image/jpeg", "image/webp", "image/gif"; b64 is the image's bytes in
 * standard base64 (RFC 4648 §4, padded), b64_len characters, not NUL-terminated. Borrowed,
 * like the message. OpenAI-compatible engines get the message's content as parts, the text
 * first, then {"type":"image_url","image_url":{"url":"data:MIME;base64,B64"}} per image;
 * Ollama gets the text as content and the base64 strings in the message's "images".
 */
struct ms_chat_image {
    const char *mime;
    const char *b64;
    size_t b64_len;
};

/* The MIME type of an image by its magic bytes (PNG, JPEG, WebP, GIF), or NULL. */
const char *ms_chat_image_sniff(const uint8_t *p, size_t n);

/*
 * Read a data URL "data:MIME;base64,B64" as §12.3 allows it (untrusted input): MIME one of
 * the four above, B64 strict base64 of 1..MS_MAX_CHAT_IMAGE_BYTES bytes whose magic bytes
 * are MIME's. On success *out borrows from url (mime points to a static string). Errors:
 * MS_ERR_ARG (not such a data URL, or the bytes are not the type it names),
 * MS_ERR_CAP_EXCEEDED (too many bytes), MS_ERR_BASE64. *out is zeroed on failure.
 */
MS_MUST_CHECK ms_err ms_chat_image_from_url(const char *url, size_t len, ms_chat_image *out);

/*
 * Generation options. Zero-initialise, then set temperature = -1 unless you want 0: prefer
 * ms_chat_opts_init, which sets every field to "unset".
 *   max_tokens   0: unset (engine default); else the reply's token limit
 *   temperature  < 0: unset; else sent as is
 *   json_format  NULL: free text; "json": any JSON object; otherwise a JSON Schema text
 *                (an object) the reply must follow. OpenAI-compatible engines get it as
 *                response_format, Ollama as "format". A schema that is not a JSON object
 *                is MS_ERR_ARG.
 */
typedef struct ms_chat_opts {
    int max_tokens;
    double temperature;
    const char *json_format;
} ms_chat_opts;

void ms_chat_opts_init(ms_chat_opts *o);

/* "finish_reason" values are at most this many characters (plus NUL). */
#define MS_CHAT_FINISH_REASON_LEN 32

/*
 * What a chat call produced. Initialise once with ms_chat_result_init; each call clears it
 * on entry and fills it in; ms_chat_result_free wipes the content.
 *   content          the reply (capped at MS_MAX_LLM_REPLY), not NUL-terminated; empty
 *                    after any error (a stream's partial text went to on_delta only)
 *   finish_reason    "stop", "length", ... as the engine said it; "" if it did not
 *   truncated        the engine stopped at its token limit (finish_reason / done_reason
 *                    "length", ms_finish_reason_cut): the call succeeds (MS_OK) and content
 *                    holds what was generated, but it is a fragment, never a whole answer;
 *                    every caller must say so (docs/client.md, docs/protocols.md)
 *   prompt_tokens, completion_tokens  usage as reported by the engine (0 when absent)
 *   seconds          wall time of the call, retries and waits included
 *   http_status      the last HTTP status received (0 if none): for callers' messages
 *   error_text       on MS_ERR_BACKEND_STATUS, the engine's own error message (its
 *                    "error.message" or "error" string field, never the raw body), printable
 *                    ASCII only (other bytes become '?'), at most MS_MAX_LLM_ERROR_TEXT
 *                    characters, NUL-terminated; "" otherwise
 *   attempts         HTTP requests made (1 + retries)
 *   retry_after_s    on a final 429 or 503, the engine's Retry-After in seconds (0: none):
 *                    the retries ended (budget spent, or it asked for longer than the wait
 *                    cap); for callers' messages ("busy: retry after N s")
 */
typedef struct ms_chat_result {
    ms_buf content;
    char finish_reason[MS_CHAT_FINISH_REASON_LEN];
    bool truncated;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    double seconds;
    long http_status;
    char error_text[256];
    unsigned attempts;
    long retry_after_s;
    /*
     * keep_escaped (set by the caller after init; calls leave it): a plain reply's content
     * may come back as the engine escaped it, the bytes between the quotes of its JSON
     * string, when those are long (ms_json_parse_keep) and fit the cap, for a caller that
     * puts it into JSON of its own as it is. content_escaped says which it got: true, the
     * content is such a string body (valid JSON, decodes to UTF-8 without NUL: hand it to
     * ms_json_unescape for the text); false, text. OpenAI-compatible replies only; streamed
     * replies and Ollama's are always text.
     */
    bool keep_escaped;
    bool content_escaped;
} ms_chat_result;

void ms_chat_result_init(ms_chat_result *r);
/* Wipes and frees the content; the result can be reused after ms_chat_result_init. */
void ms_chat_result_free(ms_chat_result *r);

/*
 * Streaming: called with each piece of reply text as it arrives (len > 0, not
 * NUL-terminated, valid only during the call). Return MS_OK to go on; any other value
 * stops the call, which returns it. Once a piece has been delivered, the call is never
 * retried, so a caller never sees text twice.
 */
typedef ms_err (*ms_chat_delta_fn)(void *ctx, const char *text, size_t len);

#endif

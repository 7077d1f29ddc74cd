/* The JSON inside the channel (§12.3): the request a client sends, the reply it reads. */
#ifndef MS_SECURE_CLIENT_PAYLOAD_H
#define MS_SECURE_CLIENT_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/llm/chat.h"

/*
 * Append a §12.3 request to `out`: an optional system message, then the user's prompt.
 * max_tokens 0 and temperature < 0 leave those fields out. MS_ERR_ARG for a NULL prompt,
 * text that is not UTF-8 or holds a NUL, max_tokens above 1000000 or temperature above 2;
 * MS_ERR_CAP_EXCEEDED over out's cap.
 */
MS_MUST_CHECK ms_err ms_client_request_build(const char *system_prompt, const char *prompt,
                                             long max_tokens, double temperature, ms_buf *out);

/*
 * Append a §12.3 request holding a whole conversation: msgs[0..n) in order (roles
 * "system", "user", "assistant"). A message with images is sent as content parts: the text
 * part, then one image_url part per image (a data: URL; images in user messages only, at
 * most MS_MAX_MSG_PARTS - 1 per message and MS_MAX_REQUEST_IMAGES in all). max_tokens and
 * temperature as for ms_client_request_build. MS_ERR_ARG for n outside 1..256 (§12.3), an
 * unknown role, text that is not UTF-8 or holds a NUL, an image where none is allowed;
 * MS_ERR_CAP_EXCEEDED over out's cap (out is then as before).
 */
MS_MUST_CHECK ms_err ms_client_request_build_msgs(const ms_chat_msg *msgs, size_t n,
                                                  long max_tokens, double temperature,
                                                  ms_buf *out);

/* The codes a supervisor may give in {"ok": false, "error": {"code": ...}} (§12.3). */
extern const char *const MS_CLIENT_ERROR_CODES[];
#define MS_CLIENT_N_ERROR_CODES 5u

/*
 * A decoded §12.3 reply or stream FINAL. Strings borrow from `doc` (NUL-terminated, valid
 * until ms_client_reply_free). For ok: content (NULL in a stream FINAL), finish_reason,
 * usage, and truncated: the engine stopped at its token limit (finish_reason "length",
 * ms_finish_reason_cut), so the content is a fragment that must never be shown or used as
 * a whole answer. For !ok: error_code (one of MS_CLIENT_ERROR_CODES) and error_message (untrusted
 * text from the supervisor and its engine: sanitise before showing it on a terminal).
 */
typedef struct ms_client_reply {
    ms_json_doc *doc;
    bool ok;
    const char *content;
    size_t content_len;
    bool content_escaped; /* ms_client_reply_parse_kept: content is the string's escaped body */
    const char *finish_reason;
    bool truncated;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    const char *error_code;
    const char *error_message;
} ms_client_reply;

/*
 * Parse and check a reply (after decryption). `streamed`: a FINAL, which carries no content.
 * Errors: MS_ERR_PAYLOAD for anything that breaks §12.3 (not JSON, missing or mistyped
 * fields, an unknown error code); MS_ERR_NOMEM. *out is zeroed on failure.
 */
MS_MUST_CHECK ms_err ms_client_reply_parse(const uint8_t *json, size_t len, int streamed,
                                           ms_client_reply *out);
/*
 * ms_client_reply_parse, except that a long content (ms_json_parse_keep: 256 bytes or more)
 * is checked but not decoded: content_escaped true, content is content_len bytes between
 * the string's quotes in `json` as the supervisor wrote them (not NUL-terminated; valid
 * JSON string body that decodes to UTF-8 without NUL): decode it with ms_json_unescape, or
 * read it as it is when only the reply's validity matters. `json` must stay unchanged until
 * ms_client_reply_free. Same results and errors as ms_client_reply_parse in every other
 * respect (a kept parse that fails is done again decoding).
 */
MS_MUST_CHECK ms_err ms_client_reply_parse_kept(const uint8_t *json, size_t len, int streamed,
                                                ms_client_reply *out);
/* Wipes and frees the document; safe on a zeroed struct. */
void ms_client_reply_free(ms_client_reply *r);

/* Copy untrusted text into out[cap] as printable ASCII ('?' for anything else), NUL-ended. */
void ms_client_sanitize(const char *s, size_t len, char *out, size_t cap);

#endif

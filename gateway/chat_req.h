/* An OpenAI chat-completions request, read and checked, and its §12.3 form for the channel. */
#ifndef MS_GATEWAY_CHAT_REQ_H
#define MS_GATEWAY_CHAT_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/llm/chat.h"

/*
 * What a POST /v1/chat/completions body asks (docs/serve.md, "What the API takes"):
 *   model           any string (the supervisor serves its one model); echoed back
 *   messages        1..256 of {"role": "system" | "developer" | "user" | "assistant",
 *                   "content": STRING | [PART...]} (an optional "name" is ignored), PART one
 *                   {"type": "text", "text"} and image_url parts with data: URLs (user
 *                   messages; "detail" allowed and ignored), as §12.3 carries them
 *   stream, stream_options.include_usage, max_tokens (or max_completion_tokens),
 *   temperature (0..2), stop (a string or up to 4), n (1 only)
 *   ignored: top_p, presence_penalty, frequency_penalty, seed, user, store, metadata,
 *   service_tier, parallel_tool_calls, logprobs false, response_format {"type": "text"}
 *   anything else (tools, functions, a remote image URL, ...): refused, naming it.
 * JSON null counts as absent for the optional fields (SDKs send it).
 */
typedef struct ms_gw_chat_req {
    char model[128];
    bool stream, include_usage;
    long max_tokens;         /* 0: not given */
    double temperature;      /* < 0: not given */
    size_t n_stop;
    char stop[MS_GW_MAX_STOP][MS_GW_MAX_STOP_LEN + 1];
    size_t stop_len[MS_GW_MAX_STOP];
    ms_buf channel;          /* the §12.3 request (MS_MAX_RECORD_PLAINTEXT), wiped on free */
} ms_gw_chat_req;

/*
 * Read body (len bytes) into *out (§12.3 request in out->channel). MS_OK; or an error with
 * *param naming the field at fault (static text, e.g. "messages", "stop"), or NULL when the
 * body is not JSON: MS_ERR_JSON_* (not JSON, a wrong type or range), MS_ERR_GW_REQUEST (a
 * field refused or unknown), MS_ERR_CAP_EXCEEDED (over a cap: one record of the channel),
 * MS_ERR_ARG / MS_ERR_BASE64 (an image that is not a data: URL of PNG, JPEG, WebP or GIF),
 * MS_ERR_NOMEM. Free with ms_gw_chat_req_free whatever the result.
 */
MS_MUST_CHECK ms_err ms_gw_chat_req_parse(const char *body, size_t len, ms_gw_chat_req *out,
                                          const char **param);
void ms_gw_chat_req_free(ms_gw_chat_req *r);

/*
 * The first stop sequence in text[0..len): its offset into *at (true), or false. Used on the
 * whole reply, and on the streamed text as it grows.
 */
bool ms_gw_chat_find_stop(const ms_gw_chat_req *r, const char *text, size_t len, size_t *at);

#endif

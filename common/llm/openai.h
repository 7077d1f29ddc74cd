/* Chat on an OpenAI-compatible engine over a caller's HTTP client (format: engine.h). */
#ifndef MS_COMMON_LLM_OPENAI_H
#define MS_COMMON_LLM_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/http.h"
#include "common/llm/chat.h"

/*
 * Engine configuration (borrowed for the duration of a call).
 *   base_url          e.g. "http://127.0.0.1:8000/v1"; requests go to base_url +
 *                     "/chat/completions" (trailing slashes of base_url are ignored)
 *   model             the engine's model name (non-empty)
 *   api_key           bearer token, or NULL for none; never logged
 *   max_retries       extra attempts after a connect error, a 429 or a 5xx (0: none)
 *   backoff_base_ms   first wait (default 250); doubles per retry, plus up to 50% jitter
 *   max_retry_wait_ms cap on one wait (default MS_MAX_LLM_RETRY_WAIT_MS); a Retry-After
 *                     longer than this ends the retries instead of being waited out
 */
typedef struct ms_openai_cfg {
    const char *base_url;
    const char *model;
    const char *api_key;
    unsigned max_retries;
    uint32_t backoff_base_ms;
    uint32_t max_retry_wait_ms;
} ms_openai_cfg;

/*
 * One chat completion. msgs[0..n) (1..MS_MAX_LLM_MESSAGES), opts may be NULL (all unset).
 * r must be initialised (ms_chat_result_init); it is cleared on entry and, on success,
 * holds the reply, finish reason and usage. The HTTP client's timeouts apply per attempt.
 * Errors:
 *   MS_ERR_ARG                  bad msgs/cfg/opts (content not UTF-8 or holding NUL, a
 *                               json_format schema that is not a JSON object, ...)
 *   MS_ERR_HTTP_URL, MS_ERR_HTTP_INSECURE, MS_ERR_HTTP_TLS   from the HTTP client
 *   MS_ERR_BACKEND_UNAVAILABLE  cannot connect (after the retries)
 *   MS_ERR_BACKEND_TIMEOUT      a timeout of the HTTP client (never retried)
 *   MS_ERR_BACKEND_STATUS       non-2xx (after the retries), or an error object inside a
 *                               stream; r->http_status and r->error_text say more
 *   MS_ERR_BACKEND_FORMAT       the answer is malformed, over a cap (the client's
 *                               max_response, MS_MAX_LLM_RESPONSE, MS_MAX_LLM_REPLY, SSE
 *                               caps), has no choices, or a stream was cut short
 *   MS_ERR_NOMEM
 * Thread-safety: as the http client (one call at a time per client).
 */
MS_MUST_CHECK ms_err ms_openai_chat(ms_http_client *http, const ms_openai_cfg *cfg,
                                    const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                                    ms_chat_result *r);

/*
 * Streamed form: "stream": true with usage included; each piece of content goes to
 * on_delta as it arrives and is also collected in r->content. The call succeeds only if
 * the stream carried a finish_reason and ended with "data: [DONE]"; anything shorter is
 * MS_ERR_BACKEND_FORMAT even though on_delta saw part of the text. No retry happens once
 * on_delta has been called. An error returned by on_delta ends the call with that error.
 * The streamed body is capped by the client's max_response (size it with MS_MAX_LLM_STREAM).
 */
MS_MUST_CHECK ms_err ms_openai_chat_stream(ms_http_client *http, const ms_openai_cfg *cfg,
                                           const ms_chat_msg *msgs, size_t n,
                                           const ms_chat_opts *opts, ms_chat_delta_fn on_delta,
                                           void *ctx, ms_chat_result *r);

#endif

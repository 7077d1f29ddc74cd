/* Chat on Ollama's native /api/chat over a caller's HTTP client (format: engine.h). */
#ifndef MS_COMMON_LLM_OLLAMA_H
#define MS_COMMON_LLM_OLLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/http.h"
#include "common/llm/chat.h"

/*
 * Engine configuration (borrowed for the duration of a call).
 *   base_url          e.g. "http://127.0.0.1:11434"; requests go to base_url + "/api/chat"
 *                     (trailing slashes of base_url are ignored)
 *   model             e.g. "llama3.2:3b" (non-empty)
 *   api_key           bearer token for a proxy in front of Ollama, or NULL; never logged
 *   num_ctx           context window in tokens (options.num_ctx); 0: Ollama's default
 *                     (often 2048 or 4096: long contexts are silently cut, so set it)
 *   max_retries, backoff_base_ms, max_retry_wait_ms   as in ms_openai_cfg
 */
typedef struct ms_ollama_cfg {
    const char *base_url;
    const char *model;
    const char *api_key;
    uint32_t num_ctx;
    unsigned max_retries;
    uint32_t backoff_base_ms;
    uint32_t max_retry_wait_ms;
} ms_ollama_cfg;

/*
 * One chat turn with "stream": false (Ollama streams unless told not to). opts map to
 * options.num_predict (max_tokens), options.temperature and "format" ("json" or the schema
 * object). The reply must say "done": true; done_reason becomes r->finish_reason ("" when
 * absent) and prompt_eval_count / eval_count the usage (0 when absent).
 * Arguments, results and errors as ms_openai_chat (an {"error": ...} reply is
 * MS_ERR_BACKEND_STATUS with its text in r->error_text).
 */
MS_MUST_CHECK ms_err ms_ollama_chat(ms_http_client *http, const ms_ollama_cfg *cfg,
                                    const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                                    ms_chat_result *r);

/*
 * Streamed form: NDJSON lines, each piece of message.content to on_delta as it arrives.
 * Succeeds only when a line with "done": true arrives (and nothing but blank lines after
 * it); a stream that ends without one is MS_ERR_BACKEND_FORMAT even though on_delta saw
 * part of the text. No retry once on_delta has been called; its error ends the call.
 * The streamed body is capped by the client's max_response (size it with MS_MAX_LLM_STREAM).
 */
MS_MUST_CHECK ms_err ms_ollama_chat_stream(ms_http_client *http, const ms_ollama_cfg *cfg,
                                           const ms_chat_msg *msgs, size_t n,
                                           const ms_chat_opts *opts, ms_chat_delta_fn on_delta,
                                           void *ctx, ms_chat_result *r);

#endif

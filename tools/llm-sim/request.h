/* Decoding of chat request bodies (Ollama /api/chat, OpenAI /v1/chat/completions) into a struct. */
#ifndef MS_TOOLS_LLMSIM_REQUEST_H
#define MS_TOOLS_LLMSIM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"

typedef enum llmsim_api {
    LLMSIM_API_OLLAMA,
    LLMSIM_API_OPENAI,
} llmsim_api;

/* role and content are NUL-terminated, NUL-free UTF-8, borrowed from the request. */
typedef struct llmsim_msg {
    const char *role;
    const char *content;
    size_t content_len;
    size_t arena_off_; /* private */
    bool in_arena_;    /* private */
} llmsim_msg;

typedef struct llmsim_request {
    const char *model;    /* NULL when absent or "" */
    size_t model_len;
    llmsim_msg *msgs;     /* n_msgs entries, in request order */
    size_t n_msgs;
    bool stream;          /* Ollama's default is true, OpenAI's false */
    bool include_usage;   /* OpenAI stream_options.include_usage */
    uint64_t max_tokens;  /* 0: no limit (OpenAI max_completion_tokens / max_tokens,
                             Ollama options.num_predict when > 0) */
    ms_json_doc *doc_;    /* private */
    ms_buf arena_;        /* private: contents joined from OpenAI content-part arrays */
} llmsim_request;

/*
 * Decode body (p, len) for `api` into *out. Bounded: at most LLMSIM_MAX_MESSAGES messages,
 * each content at most LLMSIM_MAX_CONTENT bytes, roles LLMSIM_MAX_ROLE, model
 * LLMSIM_MAX_MODEL; the body itself at most LLMSIM_MAX_BODY. What is accepted:
 *   model            string (optional; "" counts as absent)
 *   messages         array of objects with "role" (non-empty string, required) and
 *                    "content": a string, absent or null (""), or for OpenAI an array of
 *                    parts whose {"type":"text","text":...} entries are joined with "\n"
 *                    (other part types are skipped). Required for OpenAI.
 *   stream           bool or null (null: the API's default)
 *   OpenAI only:     stream_options {include_usage: bool}, max_completion_tokens and
 *                    max_tokens (integer >= 1 or null), temperature (0..2 or null)
 *   Ollama only:     options (object or null) with num_predict (number; <= 0: no limit)
 * Every other member is ignored, as the real servers do.
 * Errors: MS_ERR_JSON_PARSE (also for an empty body), MS_ERR_JSON_DEPTH,
 * MS_ERR_CAP_EXCEEDED, MS_ERR_JSON_TYPE / _MISSING / _TOO_LONG / _RANGE, MS_ERR_NOMEM.
 * On error, why[0..why_cap) holds a NUL-terminated explanation for the HTTP 400 answer
 * (field path and reason; it may quote no request data) and *out is empty (free is
 * still allowed). On success the caller frees *out with llmsim_request_free. p may be
 * NULL when len is 0. Thread-safe (no shared state).
 */
MS_MUST_CHECK ms_err llmsim_request_decode(llmsim_api api, const char *p, size_t len,
                                           llmsim_request *out, char *why, size_t why_cap);
void llmsim_request_free(llmsim_request *r);

/* Tokens over every message's content (see tokens.h). */
uint64_t llmsim_request_prompt_tokens(const llmsim_request *r);

#endif

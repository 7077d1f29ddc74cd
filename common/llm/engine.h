/* The one engine layer under every chat client: wire-format tables, the request/retry/stream
 * shell, and their shared helpers. Not for callers outside common/llm/. */
#ifndef MS_COMMON_LLM_ENGINE_H
#define MS_COMMON_LLM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/http.h"
#include "common/json.h"
#include "common/llm/chat.h"

/* Retry policy; zero fields take the defaults documented in openai.h / ollama.h. */
typedef struct ms_llm_retry {
    unsigned max_retries;
    uint32_t backoff_base_ms;
    uint32_t max_wait_ms;
} ms_llm_retry;

/*
 * One HTTP attempt plus parsing. Returns a backend-level error and sets *retryable when the
 * failure may go away by itself (connect error, 429, 5xx) and nothing was delivered yet.
 */
typedef ms_err (*ms_llm_attempt_fn)(void *ctx, ms_chat_result *r, bool *retryable);

/*
 * Wait before retry number `retry` (0-based): backoff_base_ms << retry plus up to 50%
 * jitter, at least the server's Retry-After, capped at max_wait_ms. false when Retry-After
 * asks for longer than the cap (the retries end there).
 */
MS_MUST_CHECK bool ms_llm_retry_wait(const ms_llm_retry *rt, unsigned retry, long retry_after_s,
                                     uint32_t *wait_ms);

/* Clear what a reply's parse sets (content wiped, allocation kept; not http_status). */
void ms_llm_clear_parsed(ms_chat_result *r);

/* Clear every field of r (content wiped, allocation kept). */
void ms_llm_reset_result(ms_chat_result *r);

/*
 * The retry loop: clears r, runs fn up to 1 + max_retries times with exponential backoff
 * plus jitter (capped at max_wait_ms), waiting at least the server's Retry-After; a
 * Retry-After over max_wait_ms ends the retries. Counts r->attempts and sets r->seconds;
 * on error r->content is cleared.
 */
MS_MUST_CHECK ms_err ms_llm_run(const char *engine, ms_http_client *http, const ms_llm_retry *rt,
                                ms_llm_attempt_fn fn, void *ctx, ms_chat_result *r);

/* ms_llm_run's pieces, for a caller that drives the attempts itself (call.c's stepped
   stream): an attempt begins (r cleared, counted); after attempt i (0-based) ended with e,
   whether to try again (then it waited the backoff, logged); after the last attempt. */
void ms_llm_attempt_begin(ms_chat_result *r);
MS_MUST_CHECK bool ms_llm_retry_next(const char *engine, ms_http_client *http,
                                     const ms_llm_retry *rt, unsigned i, ms_err e,
                                     bool retryable, const ms_chat_result *r);
void ms_llm_run_end(ms_http_client *http, ms_err e, double t0, ms_chat_result *r);

/*
 * Map one HTTP outcome to a backend error and record status and error text in r:
 * non-2xx -> MS_ERR_BACKEND_STATUS (retryable if 429 or 5xx; error text from body when the
 * body is complete), HTTP_CONNECT -> BACKEND_UNAVAILABLE (retryable), HTTP_TIMEOUT ->
 * BACKEND_TIMEOUT, HTTP_BODY -> BACKEND_FORMAT, IO -> BACKEND_UNAVAILABLE before any
 * status, BACKEND_FORMAT after; others (URL, TLS, a callback's own error) unchanged.
 */
MS_MUST_CHECK ms_err ms_llm_outcome(ms_err http_err, long status, const ms_buf *body,
                                    ms_chat_result *r, bool *retryable);

/* Map an error met while parsing the engine's bytes: NOMEM stays, BACKEND_* stay, others
 * become BACKEND_FORMAT. */
ms_err ms_llm_format_err(ms_err e);

/* Copy the engine's error message from an error body {"error":{"message":..}},
 * {"error":".."} or {"message":".."} into out (sanitised, capped); "" if none. */
void ms_llm_error_text(const uint8_t *body, size_t len, char *out, size_t out_size);

/* Same, from an already parsed object (an error object inside a stream). */
void ms_llm_error_text_val(ms_json_val obj, char *out, size_t out_size);

/* An "error" member (not null) where a reply should be: its text into r, BACKEND_STATUS. */
MS_MUST_CHECK ms_err ms_llm_engine_error(ms_json_val root, ms_chat_result *r);

/* out = base_url without trailing '/' + suffix, NUL-terminated (cap MS_MAX_HTTP_URL). */
MS_MUST_CHECK ms_err ms_llm_url(const char *base_url, const char *suffix, ms_buf *out);

/* Check msgs/n and add "messages":[{"role":..,"content":..}, ...] to root; a message with
 * images gets OpenAI content parts (chat.h, ms_chat_image). */
MS_MUST_CHECK ms_err ms_llm_add_messages(ms_json_wval root, const ms_chat_msg *msgs, size_t n);
/* The same for Ollama: images go in each message's "images" (base64 strings). */
MS_MUST_CHECK ms_err ms_llm_add_messages_ollama(ms_json_wval root, const ms_chat_msg *msgs,
                                                size_t n);

/* Parse a JSON Schema text (must be an object) and copy it under parent as key. */
MS_MUST_CHECK ms_err ms_llm_add_schema(ms_json_wval parent, const char *key, const char *schema);

/* Read key as a string of at most max_len bytes, or NULL when absent or null. */
MS_MUST_CHECK ms_err ms_llm_str_or_null(ms_json_val obj, const char *key, size_t max_len,
                                        const char **s, size_t *n);

/* Copy a finish reason into r (FORMAT if it does not fit). */
MS_MUST_CHECK ms_err ms_llm_set_finish(ms_chat_result *r, const char *s, size_t n);

/*
 * Append a piece of reply text to r->content and, when on_delta is set, pass it on
 * (setting *delivered). Empty pieces are skipped. Over MS_MAX_LLM_REPLY is BACKEND_FORMAT;
 * on_delta's own error is returned unchanged and also stored in *user_err.
 */
MS_MUST_CHECK ms_err ms_llm_take_text(ms_chat_result *r, const char *s, size_t n,
                                      ms_chat_delta_fn on_delta, void *ctx, bool *delivered,
                                      ms_err *user_err);

/* --- wire formats and the request shell -------------------------------------------------- */

typedef struct ms_llm_format ms_llm_format;

/*
 * What a request needs besides its messages: the wire format, where, which model, the
 * token (never logged), Ollama's num_ctx (ignored by OpenAI), and the retry policy as is
 * (max_retries 0: none). Borrowed.
 */
typedef struct ms_llm_wire {
    const ms_llm_format *fmt;
    const char *base_url;
    const char *model;
    const char *api_key;
    uint32_t num_ctx;
    ms_llm_retry rt;
} ms_llm_wire;

/* One streamed reply in progress, as a format's stream_doc sees it. */
typedef struct ms_llm_stream {
    ms_chat_result *r;
    ms_chat_delta_fn on_delta;
    void *ctx;
    bool delivered; /* on_delta has seen text: no retry from here on */
    bool finished;  /* the format's last piece arrived (finish_reason, "done": true) */
    ms_err user_err;
    /* stream_doc sets it to the text string it took when that text was the document's only
       effect (no finish, usage or error): the next documents that differ from this one only
       inside that string are then read without a parse (call.c). Absent otherwise. */
    ms_json_val text;
} ms_llm_stream;

/* How a streamed body is cut into JSON documents. */
typedef enum ms_llm_framing {
    MS_LLM_SSE,    /* Server-Sent Events; complete only after "data: [DONE]" */
    MS_LLM_NDJSON, /* one JSON object a line */
} ms_llm_framing;

/*
 * One engine's wire format. build_body: the request ("stream" as given; MS_ERR_ARG for bad
 * msgs/opts). parse_body: a complete 2xx response into r (BACKEND_STATUS for an error
 * object, BACKEND_FORMAT for anything malformed or over a cap, NOMEM). stream_doc: one
 * document of a streamed reply (text through ms_llm_stream_text, st->finished on the last).
 */
struct ms_llm_format {
    const char *name;      /* log name: "openai", "ollama" */
    const char *chat_path; /* after base_url */
    const char *ping_path; /* a cheap GET after base_url */
    ms_llm_framing framing;
    ms_err (*build_body)(const ms_llm_wire *w, const ms_chat_msg *msgs, size_t n,
                         const ms_chat_opts *o, bool stream, ms_buf *out);
    ms_err (*parse_body)(const ms_buf *body, ms_chat_result *r);
    /* parse_body for a caller that gives the body up: it may become r->content's buffer
       (left empty then; NULL: the format has none, use parse_body) */
    ms_err (*take_body)(ms_buf *body, ms_chat_result *r);
    ms_err (*stream_doc)(ms_llm_stream *st, ms_json_val root);
};

extern const ms_llm_format ms_llm_format_openai; /* openai.c */
extern const ms_llm_format ms_llm_format_ollama; /* ollama.c */

/* ms_llm_take_text for a stream: to st->r and st->on_delta. */
MS_MUST_CHECK ms_err ms_llm_stream_text(ms_llm_stream *st, const char *s, size_t n);

/*
 * The request shell of every chat: check, build the body, run the attempts with retries
 * (ms_llm_run), plain or streamed. w NULL, http NULL, an empty model, or stream without
 * on_delta is MS_ERR_ARG. Results and errors as ms_openai_chat / ms_openai_chat_stream.
 */
MS_MUST_CHECK ms_err ms_llm_call(ms_http_client *http, const ms_llm_wire *w,
                                 const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                                 bool stream, ms_chat_delta_fn on_delta, void *ctx,
                                 ms_chat_result *r);

/*
 * ms_llm_call streamed, driven by the caller one step at a time (ms_http_stream_begin): open
 * builds the request and starts the first attempt (errors as ms_llm_call, r holding what it
 * would); each step waits up to timeout_ms and moves the transfer on, pieces going to
 * on_delta from inside it; when *done, the step's return is the call's result, r filled as
 * ms_llm_call fills it (retries, before any piece, happen inside the steps: a step may
 * sleep their backoff). close ends it whatever its state (a transfer not done is aborted:
 * its connection closed) and wipes the request. http, w and r are borrowed until close.
 */
typedef struct ms_llm_pump ms_llm_pump; /* step and close: pool.h */
MS_MUST_CHECK ms_err ms_llm_pump_open(ms_http_client *http, const ms_llm_wire *w,
                                      const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                                      ms_chat_delta_fn on_delta, void *ctx, ms_chat_result *r,
                                      ms_llm_pump **out);

/*
 * A whole streamed body (framed as fmt frames it) through a stream attempt's reader, for the
 * tests and fuzzers (tests/fuzz/fuzz_engine_stream.c): pieces to on_delta, the rest into r,
 * the error a streamed call would return. chunk > 0: fed in pieces of that many bytes.
 * fast false: every document parsed (the reference the short path must equal);
 * *fast_hits counts the documents the short path took.
 */
MS_MUST_CHECK ms_err ms_llm_stream_body(const ms_llm_format *fmt, const uint8_t *body,
                                        size_t len, size_t chunk, bool fast,
                                        ms_chat_delta_fn on_delta, void *ctx,
                                        ms_chat_result *r, size_t *fast_hits);

/* The reply parsers of the formats, for the fuzzers (tests/fuzz/fuzz_engine_reply.c). */
MS_MUST_CHECK ms_err ms_openai_parse_body(const ms_buf *body, ms_chat_result *r);
/*
 * The same parse, from a body the caller gives up: with r->keep_escaped, a kept content and
 * nothing allocated in r->content yet, the body's buffer becomes the content's (the content
 * moved to its start, the rest of the body wiped) and *body is left empty; otherwise body is
 * left as it was. Either way the caller frees body (ms_buf_free) as before.
 */
MS_MUST_CHECK ms_err ms_openai_take_body(ms_buf *body, ms_chat_result *r);
MS_MUST_CHECK ms_err ms_ollama_parse_body(const ms_buf *body, ms_chat_result *r);

#endif

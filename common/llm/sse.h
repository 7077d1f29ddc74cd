/* Incremental, bounded Server-Sent-Events parser: byte chunks in, each event's data out. */
#ifndef MS_COMMON_LLM_SSE_H
#define MS_COMMON_LLM_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Follows the WHATWG "event stream" interpretation rules, restricted to what a chat engine
 * needs:
 *   - lines end with "\r\n", "\n" or a lone "\r" (a "\r\n" split across two chunks is one
 *     line end); a UTF-8 BOM at the very start of the stream is skipped;
 *   - a line starting with ':' is a comment; "data" lines append their value (after the
 *     colon and one optional space) plus '\n' to the event's data; other fields ("event",
 *     "id", "retry", unknown names) are ignored;
 *   - an empty line dispatches the event: its data, without the last '\n', goes to the
 *     callback; an event with no data line is not dispatched;
 *   - with ms_sse_set_error_fn, a line whose field is "error" (llama.cpp's server ends a
 *     failed HTTP 200 stream with "error: {...}") passes its value at once to that callback
 *     (which should return an error); without it the field is ignored like any other;
 *   - an event whose data is exactly "[DONE]" (the OpenAI terminator) is not passed on: it
 *     marks the stream done (ms_sse_done). A data line after it is MS_ERR_TRAILING.
 * The result depends only on the bytes, never on how they were split into chunks.
 *
 * Errors (sticky: once a feed fails, every later feed and finish return the same error):
 *   MS_ERR_CAP_EXCEEDED  a line longer than max_line bytes (without its end), or an event's
 *                        data longer than max_event bytes
 *   MS_ERR_TRAILING      data after the [DONE] event
 *   MS_ERR_TRUNCATED     (finish only) the stream stopped inside a line or inside an event
 *                        that was never dispatched
 *   MS_ERR_NOMEM
 *   anything the callback returns: it stops the parser at once.
 *
 * Not thread-safe. Buffers are wiped when freed (events carry model output).
 */
typedef struct ms_sse ms_sse;

/*
 * Called once per event. `data` is `len` bytes, NUL-terminated for convenience, and may
 * contain NUL bytes itself; valid only during the call. Return MS_OK to go on.
 */
typedef ms_err (*ms_sse_event_fn)(void *ctx, const char *data, size_t len);

/*
 * max_line and max_event are caps from common/limits.h (MS_MAX_SSE_LINE, MS_MAX_SSE_EVENT);
 * tests pass smaller ones. Zero caps or a NULL fn are MS_ERR_ARG. *out is NULL on error.
 */
MS_MUST_CHECK ms_err ms_sse_new(size_t max_line, size_t max_event, ms_sse_event_fn fn,
                                void *ctx, ms_sse **out);
/* Wipes and frees; NULL is allowed. */
void ms_sse_free(ms_sse *s);

/* Feed the next n bytes (p may be NULL when n is 0). */
MS_MUST_CHECK ms_err ms_sse_feed(ms_sse *s, const uint8_t *p, size_t n);
/* The stream has ended: MS_OK if it ended on an event boundary (done or not). */
MS_MUST_CHECK ms_err ms_sse_finish(ms_sse *s);
/* Route "error" field lines to on_error (same ctx; value NUL-terminated, valid during the
   call). NULL: ignore them. */
void ms_sse_set_error_fn(ms_sse *s, ms_sse_event_fn on_error);
/* Whether the [DONE] event has been seen. */
bool ms_sse_done(const ms_sse *s);

#endif

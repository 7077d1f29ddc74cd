/* Incremental, bounded newline-delimited JSON splitter (Ollama streaming): chunks in, lines out. */
#ifndef MS_COMMON_LLM_NDJSON_H
#define MS_COMMON_LLM_NDJSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Splits a byte stream into lines at '\n'; one '\r' just before the '\n' is dropped, and
 * lines made only of spaces, tabs and CRs are skipped. Each other line goes to the callback
 * as it completes; the JSON inside is the callback's business (this layer never parses it).
 * At finish, a last line without its '\n' is passed on too (JSON Lines allows that; a line
 * cut in the middle of a JSON value fails the caller's JSON parse).
 * The result depends only on the bytes, never on how they were split into chunks.
 *
 * Errors (sticky: once a feed fails, every later feed and finish return the same error):
 *   MS_ERR_CAP_EXCEEDED  a line longer than max_line bytes (without its '\n')
 *   MS_ERR_NOMEM
 *   anything the callback returns: it stops the splitter at once.
 *
 * Not thread-safe. The line buffer is wiped when freed (lines carry model output).
 */
typedef struct ms_ndjson ms_ndjson;

/*
 * Called once per line. `line` is `len` bytes (> 0), NUL-terminated for convenience, and
 * may contain NUL bytes itself; valid only during the call. Return MS_OK to go on.
 */
typedef ms_err (*ms_ndjson_line_fn)(void *ctx, const char *line, size_t len);

/* max_line is MS_MAX_NDJSON_LINE (tests pass smaller). Zero or a NULL fn is MS_ERR_ARG. */
MS_MUST_CHECK ms_err ms_ndjson_new(size_t max_line, ms_ndjson_line_fn fn, void *ctx,
                                   ms_ndjson **out);
/* Wipes and frees; NULL is allowed. */
void ms_ndjson_free(ms_ndjson *j);

/* Feed the next n bytes (p may be NULL when n is 0). */
MS_MUST_CHECK ms_err ms_ndjson_feed(ms_ndjson *j, const uint8_t *p, size_t n);
/* The stream has ended: passes on a last unterminated line, if any. */
MS_MUST_CHECK ms_err ms_ndjson_finish(ms_ndjson *j);

#endif

/* The model bridge: a decrypted turn (protocol.md §12.3) to the engine and back. */
#ifndef MS_SECURE_SUPERVISOR_BRIDGE_H
#define MS_SECURE_SUPERVISOR_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

typedef struct ms_bridge_cfg {
    const char *base_url; /* OpenAI-compatible base, e.g. http://127.0.0.1:8000/v1 */
    const char *model;
    const char *api_key;  /* may be NULL; copied and wiped on free */
    long timeout_ms;      /* whole turn */
    long connect_timeout_ms;
    int max_retries;      /* before any output was produced */
} ms_bridge_cfg;

typedef struct ms_bridge ms_bridge;

/* Thread-safe after creation: each turn takes an HTTP client from an internal pool. */
MS_MUST_CHECK ms_err ms_bridge_new(ms_bridge **out, const ms_bridge_cfg *cfg);
void ms_bridge_free(ms_bridge *b);

/*
 * Drop the kept-alive engine connections that the engine closed while they waited in the
 * pool (an engine's idle time-out), so that none lingers half-closed (CLOSE-WAIT) until the
 * next turn. Says so at debug level. Returns how many were dropped (NULL: 0). Thread-safe; the
 * supervisor calls it every few seconds, and each turn checks the connection it borrows.
 */
size_t ms_bridge_prune(ms_bridge *b);

/* Called for each piece of a streamed answer; an error aborts the turn. */
typedef ms_err (*ms_bridge_piece_fn)(void *ctx, const char *text, size_t len);

/*
 * One turn. `req` is the request JSON of §12.3 (untrusted: it came out of the channel). The
 * reply JSON of §12.3 is appended to `reply`: engine failures become {"ok":false,...}
 * replies and the call returns MS_OK; a request that breaks §12.3 gets a bad_request reply
 * and MS_ERR_PAYLOAD. `stream` selects the streamed form: pieces go to on_piece, and the
 * reply is the FINAL's JSON (no "content").
 */
MS_MUST_CHECK ms_err ms_bridge_turn(ms_bridge *b, const uint8_t *req, size_t len, int stream,
                                    ms_bridge_piece_fn on_piece, void *ctx, ms_buf *reply);

/*
 * The streamed turn driven by the caller one step at a time (the connection thread of
 * secure/supervisor/stream.c: no engine thread, no hand-over per piece). open decodes the
 * request and starts the engine call (a request that breaks §12.3 or an engine that cannot
 * be asked ends the turn at once: its reply is in `reply` and the first step says done);
 * each step waits up to timeout_ms for the engine and passes what arrived to on_piece (from
 * inside the step; an error of on_piece aborts the turn); when *done, `reply` holds the
 * FINAL's JSON and the step returns what ms_bridge_turn would. close always, done or not:
 * a call not done is aborted (the client went away) and its engine connection dropped.
 * open's errors: MS_ERR_NOMEM (nothing to close). One thread at a time per stream.
 */
typedef struct ms_bridge_stream ms_bridge_stream;
MS_MUST_CHECK ms_err ms_bridge_stream_open(ms_bridge *b, const uint8_t *req, size_t len,
                                           ms_bridge_piece_fn on_piece, void *ctx, ms_buf *reply,
                                           ms_bridge_stream **out);
MS_MUST_CHECK ms_err ms_bridge_stream_step(ms_bridge_stream *bs, int timeout_ms, bool *done,
                                           ms_buf *reply);
void ms_bridge_stream_close(ms_bridge_stream *bs);

/* Decode and check a §12.3 request (for tests and fuzzing): MS_OK or MS_ERR_PAYLOAD. */
MS_MUST_CHECK ms_err ms_bridge_check_request(const uint8_t *req, size_t len);

#endif

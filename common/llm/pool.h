/* A local model engine as one value: one request, a kept-alive connection, or many at once. */
#ifndef MS_COMMON_LLM_POOL_H
#define MS_COMMON_LLM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/llm/chat.h"

typedef enum ms_llm_kind {
    MS_LLM_OLLAMA = 0, /* POST base_url/api/chat (NDJSON when streamed) */
    MS_LLM_OPENAI = 1, /* POST base_url/chat/completions (SSE when streamed) */
} ms_llm_kind;

/*
 * Which engine, and how to talk to it. Borrowed strings. Zero fields take defaults:
 * connect 10 s, timeout_ms (each request) 300 s, max_retries 2, backoff 250 ms.
 * allow_plain_http: http:// to a host that is not loopback (off: loopback only).
 */
typedef struct ms_llm_engine {
    ms_llm_kind kind;
    const char *base_url;
    const char *model;
    const char *api_key; /* never logged */
    uint32_t num_ctx;    /* Ollama's options.num_ctx; 0: the engine's default */
    unsigned max_retries;
    uint32_t backoff_base_ms;
    uint32_t max_retry_wait_ms;
    long connect_timeout_ms;
    long timeout_ms;
    bool allow_plain_http;
    const char *ca_file;
} ms_llm_engine;

/* "ollama" / "openai" (also accepts "llamacpp", "vllm", "sglang" as openai). MS_ERR_ARG. */
MS_MUST_CHECK ms_err ms_llm_kind_parse(const char *s, ms_llm_kind *out);
const char *ms_llm_kind_name(ms_llm_kind k);

/* One request, not streamed, on a connection of its own. Results and errors as ms_openai_chat. */
MS_MUST_CHECK ms_err ms_llm_engine_chat(const ms_llm_engine *e, const ms_chat_msg *msgs, size_t n,
                                        const ms_chat_opts *opts, ms_chat_result *r);

/*
 * The same, streamed (SSE for OpenAI, NDJSON for Ollama): pieces to on_delta as they arrive,
 * the whole reply in r. Results and errors as ms_openai_chat_stream / ms_ollama_chat_stream;
 * the streamed body is capped at MS_MAX_LLM_STREAM.
 */
MS_MUST_CHECK ms_err ms_llm_engine_chat_stream(const ms_llm_engine *e, const ms_chat_msg *msgs,
                                               size_t n, const ms_chat_opts *opts,
                                               ms_chat_delta_fn on_delta, void *ctx,
                                               ms_chat_result *r);

/*
 * A kept-alive connection to an engine for many requests, one after the other. NOT
 * thread-safe: one per thread, or a pool of them (secure/supervisor/bridge.c). The engine's
 * strings are borrowed for the connection's life. retries: extra attempts after a connect
 * error, a 429 or a 5xx, exactly as given (0: none), or -1 for e->max_retries (whose 0
 * means the default). Bodies are capped at MS_MAX_LLM_STREAM on the wire, a non-streamed
 * reply also at MS_MAX_LLM_RESPONSE. ms_llm_conn_new: MS_ERR_ARG, MS_ERR_NOMEM,
 * MS_ERR_INTERNAL; the calls: as ms_llm_engine_chat and ms_llm_engine_chat_stream.
 */
typedef struct ms_llm_conn ms_llm_conn;

MS_MUST_CHECK ms_err ms_llm_conn_new(const ms_llm_engine *e, int retries, ms_llm_conn **out);
/* NULL is allowed. */
void ms_llm_conn_free(ms_llm_conn *c);
/* Between requests: the engine closed the kept-alive connection (ms_http_client_idle_closed):
   drop it rather than keep a half-closed socket. */
bool ms_llm_conn_closed(ms_llm_conn *c);
MS_MUST_CHECK ms_err ms_llm_conn_chat(ms_llm_conn *c, const ms_chat_msg *msgs, size_t n,
                                      const ms_chat_opts *opts, ms_chat_result *r);
MS_MUST_CHECK ms_err ms_llm_conn_chat_stream(ms_llm_conn *c, const ms_chat_msg *msgs, size_t n,
                                             const ms_chat_opts *opts, ms_chat_delta_fn on_delta,
                                             void *ctx, ms_chat_result *r);

/*
 * ms_llm_conn_chat_stream driven by the caller one step at a time, for a server thread that
 * must return between pieces (secure/supervisor/stream.c): no thread of its own, no hand-over
 * per piece. open builds the request and starts it (an error: the call's, r as the call
 * leaves it, nothing to close); each step waits up to timeout_ms for the engine, moves the
 * transfer on and passes what arrived to on_delta (from inside the step); when *done the
 * step returns the call's result, r as ms_llm_conn_chat_stream fills it. Timeouts and
 * retries (before any piece; a step may sleep their backoff) are the connection's. close
 * always, done or not (not done: the transfer is aborted and the connection closed, so the
 * connection may go back to a pool all the same); it wipes the request. c and r are
 * borrowed until close; c serves nothing else meanwhile.
 */
typedef struct ms_llm_pump ms_llm_pump;
MS_MUST_CHECK ms_err ms_llm_conn_pump_open(ms_llm_conn *c, const ms_chat_msg *msgs, size_t n,
                                           const ms_chat_opts *opts, ms_chat_delta_fn on_delta,
                                           void *ctx, ms_chat_result *r, ms_llm_pump **out);
MS_MUST_CHECK ms_err ms_llm_pump_step(ms_llm_pump *p, int timeout_ms, bool *done);
void ms_llm_pump_close(ms_llm_pump *p);

/*
 * Is the engine there? A cheap GET (Ollama: /api/tags; OpenAI: base_url/models) so a
 * protocol can fail before spending a supervisor round. MS_ERR_BACKEND_UNAVAILABLE,
 * MS_ERR_BACKEND_STATUS (with the status in *status), MS_ERR_BACKEND_TIMEOUT.
 */
MS_MUST_CHECK ms_err ms_llm_engine_ping(const ms_llm_engine *e, long *status);

/* One job of a batch: inputs borrowed, outputs owned by the job (ms_llm_job_free). */
typedef struct ms_llm_job {
    const ms_chat_msg *msgs;
    size_t n_msgs;
    const ms_chat_opts *opts; /* may be NULL */
    ms_err err;               /* the job's own outcome; a failed job does not fail the batch */
    ms_chat_result result;    /* initialised by ms_llm_batch_run */
    /*
     * Optional (NULL: msgs and n_msgs as given): the messages made when the job's request is
     * built (its first attempt; retries resend that request), on the batch's thread, then
     * drop_msgs (may be NULL) right after, whether make_msgs succeeded or not. A caller with
     * many large prompts (a Minions round) so holds one at a time, not all of them. An error
     * of make_msgs ends the job with it (MS_ERR_NOMEM stops the batch, as any NOMEM does).
     */
    ms_err (*make_msgs)(void *ctx, const ms_chat_msg **msgs, size_t *n_msgs);
    void (*drop_msgs)(void *ctx);
    void *msgs_ctx;
} ms_llm_job;

void ms_llm_job_free(ms_llm_job *j);

/* After each finished job: done of total. Runs on the caller's thread. */
typedef void (*ms_llm_progress_fn)(void *ctx, size_t done, size_t total);

/*
 * Run jobs[0..n) with at most `parallel` (1..MS_MAX_LLM_PARALLEL) requests in flight, over
 * one ms_http_multi on the calling thread (connections reused). Each job gets the
 * engine's per-request timeout and its retries with backoff (a 429/5xx/connect error waits
 * without blocking the other jobs). Returns MS_OK when every job has an outcome in its
 * err (MS_OK or a backend error, e.g. MS_ERR_BACKEND_TIMEOUT for a job that timed out);
 * an error only for what stops everything (MS_ERR_ARG, MS_ERR_NOMEM, MS_ERR_INTERNAL).
 */
MS_MUST_CHECK ms_err ms_llm_batch_run(const ms_llm_engine *e, ms_llm_job *jobs, size_t n,
                                      unsigned parallel, ms_llm_progress_fn progress, void *ctx);

/*
 * Several engines that differ only in their base URL (the same kind, model, key and options:
 * the ms_llm_engine given to the batch, whose own base_url is not used), e.g. one per GPU.
 * The caller keeps it across batches: down_until is which engines are being skipped.
 */
typedef struct ms_llm_spread {
    const char *base_url[MS_MAX_LLM_ENGINES]; /* borrowed */
    size_t n;                                 /* 1..MS_MAX_LLM_ENGINES */
    unsigned per_engine; /* requests in flight at one engine, 0..MS_MAX_LLM_PARALLEL (0: the
                            batch's parallel) */
    uint32_t down_ms;    /* how long an engine that could not be reached is skipped; 0:
                            MS_LLM_ENGINE_DOWN_MS (set so by the first batch) */
    int64_t down_until[MS_MAX_LLM_ENGINES]; /* ms_clock_ms; 0 at first */
} ms_llm_spread;

/*
 * ms_llm_batch_run over s's engines: at most `parallel` requests in flight in all, at most
 * per_engine at each; an idle slot of any engine that is up takes the next job. With two or
 * more engines, an attempt that cannot reach its engine (MS_ERR_BACKEND_UNAVAILABLE: refused,
 * reset, no answer) marks that engine down until now + down_ms (one WARN line naming it) and
 * the job goes to another engine at once, without spending one of its retries; other
 * failures (a status, a timeout) are retried as ms_llm_batch_run does. When every engine is
 * down, the jobs not in flight end with MS_ERR_BACKEND_UNAVAILABLE and one ERROR line names
 * the engines. With one engine this is ms_llm_batch_run at that URL. Errors as
 * ms_llm_batch_run; MS_ERR_ARG for a bad s. Not thread-safe for one s.
 */
MS_MUST_CHECK ms_err ms_llm_batch_run_spread(const ms_llm_engine *e, ms_llm_spread *s,
                                             ms_llm_job *jobs, size_t n, unsigned parallel,
                                             ms_llm_progress_fn progress, void *ctx);

#endif

/* Minion and Minions: the supervisor sees the task and short worker answers, never the context. */
#ifndef MS_PROTOCOLS_PROTOCOL_H
#define MS_PROTOCOLS_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/llm/chat.h"
#include "common/turn_reply.h"

/*
 * The two interfaces a protocol runs over (and a third for its events). protocols/ knows no
 * transport, engine or log format: the program supplies them (apps/minions-secure: remote.c,
 * worker.c, session_log.c), tests use the same adapters.
 */

/*
 * The supervisor link: one turn = the whole conversation so far in, one reply out.
 * minions-secure implements it over the attested channel (secure/client); tests implement it
 * the same way, against a real supervisor. The protocol code never sees keys.
 */
typedef struct ms_remote {
    /* The reply into *reply (initialised by the caller with ms_turn_reply_init; the turn clears
     * it on entry): its content, usage, timings and, for a failure the supervisor reported
     * (MS_ERR_BACKEND_REMOTE), its error code and message. Any error ends the run (FAILED). */
    ms_err (*turn)(void *ctx, const ms_chat_msg *msgs, size_t n, ms_turn_reply *reply);
    void *ctx;
} ms_remote;

/* One request of a worker batch: inputs borrowed, outputs owned by the job. */
typedef struct ms_worker_job {
    const ms_chat_msg *msgs;
    size_t n_msgs;
    const ms_chat_opts *opts; /* may be NULL */
    ms_err err;               /* the job's own outcome; a failed job does not fail the batch */
    ms_chat_result result;    /* initialised by batch(); the caller frees it
                                 (ms_chat_result_free) whatever batch() returned */
    /* Optional (NULL: msgs and n_msgs as given): the messages made only when batch() builds
       the job's request, on the caller's thread, and dropped (drop_msgs, after every
       make_msgs) as soon as it is built, so that a batch holds one job's messages at a
       time besides the requests in flight (common/llm/pool.h, ms_llm_job). */
    ms_err (*make_msgs)(void *ctx, const ms_chat_msg **msgs, size_t *n_msgs);
    void (*drop_msgs)(void *ctx);
    void *msgs_ctx;
} ms_worker_job;

/* After each finished job of a batch: done of total. Runs on the caller's thread. */
typedef void (*ms_worker_progress_fn)(void *ctx, size_t done, size_t total);

/*
 * The worker model: the local engine that holds the context. minions-secure implements it
 * over common/llm (apps/minions-secure/worker.h). All calls run on the caller's thread.
 */
typedef struct ms_worker {
    const char *name; /* the engine's kind for messages ("ollama", "openai") */
    /* Is it there? A cheap check before any supervisor round. On an HTTP answer that is
     * not a success, MS_ERR_BACKEND_STATUS and the status in *status (else 0). */
    ms_err (*ping)(void *ctx, long *status);
    /* One request (Minion). r is initialised by the caller (ms_chat_result_init); usage,
     * error_text and http_status are set on errors too. */
    ms_err (*chat)(void *ctx, const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                   ms_chat_result *r);
    /* Many requests, at most `parallel` (1..MS_MAX_LLM_PARALLEL) at a time (Minions).
     * MS_OK when every job has its outcome in its err; an error only for what stops every
     * job (MS_ERR_ARG, MS_ERR_NOMEM, MS_ERR_INTERNAL). */
    ms_err (*batch)(void *ctx, ms_worker_job *jobs, size_t n, unsigned parallel,
                    ms_worker_progress_fn progress, void *progress_ctx);
    void *ctx;
} ms_worker;

/*
 * Where the run's events go (docs/logs.md: supervisor_turn, worker_turn, plan, jobs,
 * format_retry, final). event NULL: no events are built. An error from event() fails the
 * run ("the session log could not be written", log_failed). minions-secure's session log
 * implements it (apps/minions-secure/session_log.h, ms_slog_sink).
 */
typedef struct ms_proto_sink {
    ms_err (*event)(void *ctx, const char *type, const ms_json_builder *data);
    void *ctx;
} ms_proto_sink;

/* Called as the run goes (on the caller's thread): for a progress line. */
typedef struct ms_progress {
    unsigned round, max_rounds;
    size_t jobs_done, jobs_total; /* Minions: this round's jobs */
    const char *phase;            /* "supervisor", "worker", "jobs" */
} ms_progress;
typedef void (*ms_progress_fn)(void *ctx, const ms_progress *p);

/* Caps a plan must respect (Minions); zero fields take the MS_PLAN_* defaults of limits.h. */
typedef struct ms_plan_caps {
    size_t max_tasks;      /* tasks in one plan */
    size_t max_jobs;       /* jobs (tasks x chunks) in one round */
    size_t max_chunk_size; /* bytes */
    size_t max_top_k;      /* BM25 retrieval */
} ms_plan_caps;

typedef struct ms_proto_cfg {
    /* Texts are UTF-8 without NUL (else MS_ERR_ARG); task, doc_metadata and system_prompt
     * at most MS_MAX_PROTO_TASK bytes each. */
    const char *task;           /* the user's question: the supervisor sees it */
    const char *context;        /* the private documents, joined: only the worker sees it */
    size_t context_len;
    const char *doc_metadata;   /* what the supervisor may know about the documents (or NULL) */
    const char *system_prompt;  /* extra instructions for the supervisor (or NULL) */
    unsigned max_rounds;        /* supervisor rounds; 1..MS_MAX_PROTO_ROUNDS */
    unsigned max_format_retries; /* re-asks after unusable JSON, per round (default 2) */
    unsigned jobs;              /* Minions: parallel worker requests (--jobs) */
    ms_plan_caps caps;
    ms_worker worker;           /* the local engine */
    double worker_temperature;  /* < 0: engine default */
    int worker_max_tokens;      /* 0: engine default */
    ms_remote remote;
    ms_proto_sink sink;         /* events (the session log); {0}: none */
    bool log_context;           /* put context text (prompts to the worker, chunks) in the log */
    ms_progress_fn progress;    /* may be NULL */
    void *progress_ctx;
} ms_proto_cfg;

typedef enum ms_outcome {
    MS_OUTCOME_ANSWER = 0,    /* the supervisor gave a final answer */
    MS_OUTCOME_NO_ANSWER = 1, /* max_rounds reached, or the supervisor said it cannot answer */
    MS_OUTCOME_FAILED = 2,    /* an error stopped the run: err and why say which */
} ms_outcome;

typedef struct ms_proto_result {
    ms_outcome outcome;
    ms_buf answer;        /* the final answer (ANSWER only), UTF-8 */
    ms_err err;           /* FAILED: the error */
    char why[512];        /* NO_ANSWER / FAILED: for a person (no context text in it) */
    bool worker_failed;   /* FAILED because of the local engine (exit status 7) */
    bool log_failed;      /* FAILED because the session log could not be written */
    unsigned rounds;      /* supervisor rounds used */
    uint64_t remote_prompt_tokens, remote_completion_tokens;
    uint64_t local_prompt_tokens, local_completion_tokens;
    size_t jobs_run, jobs_failed; /* Minions, over all rounds */
    /* The worker's engine stopped at its token limit (docs/protocols.md): Minion answers that
       reached the supervisor marked INCOMPLETE; Minions jobs that failed for it (in
       jobs_failed too). */
    unsigned worker_cut;
    size_t jobs_cut;
    double seconds;
} ms_proto_result;

void ms_proto_result_init(ms_proto_result *r);
void ms_proto_result_free(ms_proto_result *r);

/*
 * Run the Minion protocol (one worker, a conversation). MS_OK whenever the run came to an
 * outcome (ANSWER, NO_ANSWER or FAILED, in *r); an error only for bad arguments.
 */
MS_MUST_CHECK ms_err ms_minion_run(const ms_proto_cfg *cfg, ms_proto_result *r);

/* Run the Minions protocol (declarative plans, parallel jobs). Same contract. */
MS_MUST_CHECK ms_err ms_minions_run(const ms_proto_cfg *cfg, ms_proto_result *r);

#endif

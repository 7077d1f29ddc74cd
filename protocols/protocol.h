/* Minion and Minions: the supervisor sees the task and short worker answers, never the context. */
#ifndef MS_PROTOCOLS_PROTOCOL_H
#define MS_PROTOCOLS_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/llm/chat.h"
#include "common/llm/pool.h"

struct ms_alog;

/*
 * The supervisor, as a protocol sees it: one turn = the whole conversation so far in, one
 * reply out. minions-secure implements it over the attested channel (secure/client); tests
 * implement it the same way, against a real supervisor. The protocol code never sees keys.
 */
typedef struct ms_remote_info {
    uint64_t prompt_tokens, completion_tokens;
    double seal_s, transport_s, open_s; /* as far as the implementation can tell; 0 if not */
    char error_code[24];                /* a sealed {"ok": false}: its code, else "" */
    char error_message[256];            /* printable ASCII */
    unsigned rehandshakes;              /* new sessions this turn needed (e.g. a 404) */
} ms_remote_info;

typedef struct ms_remote {
    /* Append the reply text to `reply`. Any error ends the run (outcome FAILED). */
    ms_err (*turn)(void *ctx, const ms_chat_msg *msgs, size_t n, ms_buf *reply,
                   ms_remote_info *info);
    void *ctx;
} ms_remote;

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
    const ms_llm_engine *worker; /* the local engine */
    double worker_temperature;  /* < 0: engine default */
    int worker_max_tokens;      /* 0: engine default */
    ms_remote remote;
    struct ms_alog *log;        /* may be NULL */
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

/* ms_worker over ms_llm_engine: a protocol's worker calls as common/llm/pool.h requests. */
#include "apps/minions-secure/worker.h"

#include <stdlib.h>

#include "common/check.h"

static ms_err ping(void *ctx, long *status)
{
    const ms_worker_engine *we = ctx;
    *status = 0;
    ENSURE(we != NULL && we->engine != NULL, MS_ERR_ARG);
    return ms_llm_engine_ping(we->engine, status);
}

static ms_err chat(void *ctx, const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                   ms_chat_result *r)
{
    const ms_worker_engine *we = ctx;
    ENSURE(we != NULL && we->engine != NULL, MS_ERR_ARG);
    return ms_llm_engine_chat(we->engine, msgs, n, opts, r);
}

/* The protocol's jobs as pool jobs, run, and their outcomes moved back (no copy of content). */
static ms_err batch(void *ctx, ms_worker_job *jobs, size_t n, unsigned parallel,
                    ms_worker_progress_fn progress, void *progress_ctx)
{
    const ms_worker_engine *we = ctx;
    ENSURE(we != NULL && we->engine != NULL && (jobs != NULL || n == 0), MS_ERR_ARG);
    ms_llm_job *lj = calloc(n ? n : 1, sizeof *lj);
    ENSURE(lj != NULL, MS_ERR_NOMEM);
    for (size_t i = 0; i < n; i++) {
        lj[i].msgs = jobs[i].msgs;
        lj[i].n_msgs = jobs[i].n_msgs;
        lj[i].opts = jobs[i].opts;
    }
    ms_err e = ms_llm_batch_run(we->engine, lj, n, parallel, progress, progress_ctx);
    for (size_t i = 0; i < n; i++) {
        jobs[i].err = lj[i].err;
        jobs[i].result = lj[i].result; /* ownership moves to the protocol's job */
    }
    free(lj); /* not ms_llm_job_free: the results are the protocol's now */
    return e;
}

ms_worker ms_worker_over_engine(ms_worker_engine *we)
{
    return (ms_worker){.name = we && we->engine ? ms_llm_kind_name(we->engine->kind) : "worker",
                       .ping = ping,
                       .chat = chat,
                       .batch = batch,
                       .ctx = we};
}

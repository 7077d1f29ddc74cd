/* ms_worker over ms_llm_engine: a protocol's worker calls as common/llm/pool.h requests. */
#include "apps/minions-secure/worker.h"

#include <stdlib.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/log.h"

/* Engine k of the spread: the template with its URL. */
static ms_llm_engine nth(const ms_worker_engine *we, size_t k)
{
    ms_llm_engine e = *we->engine;
    e.base_url = we->spread->base_url[k];
    return e;
}

static void mark_down(const ms_worker_engine *we, size_t k, ms_err why)
{
    ms_llm_spread *s = we->spread;
    s->down_ms = s->down_ms ? s->down_ms : MS_LLM_ENGINE_DOWN_MS;
    s->down_until[k] = (int64_t)ms_clock_ms() + (int64_t)s->down_ms;
    ms_log(MS_LOG_WARN, "worker", "engine %s: %s; skipped for %u s", s->base_url[k],
           ms_err_name(why), (unsigned)(s->down_ms / 1000));
}

/* Several engines: every one is asked; MS_OK when one answers, else the first error. */
static ms_err ping_spread(const ms_worker_engine *we, long *status)
{
    ms_err first = MS_OK;
    bool any = false;
    for (size_t k = 0; k < we->spread->n; k++) {
        ms_llm_engine e = nth(we, k);
        long st = 0;
        ms_err err = ms_llm_engine_ping(&e, &st);
        if (err == MS_OK) {
            any = true;
            continue;
        }
        mark_down(we, k, err);
        if (first == MS_OK) {
            first = err;
            *status = st;
        }
    }
    if (any) {
        *status = 0;
    }
    return any ? MS_OK : first;
}

/* Several engines: the first that is up; the next when it cannot be reached. */
static ms_err chat_spread(const ms_worker_engine *we, const ms_chat_msg *msgs, size_t n,
                          const ms_chat_opts *opts, ms_chat_result *r)
{
    ms_err err = MS_ERR_BACKEND_UNAVAILABLE;
    for (size_t k = 0; k < we->spread->n; k++) {
        if (we->spread->down_until[k] > (int64_t)ms_clock_ms()) {
            continue;
        }
        ms_llm_engine e = nth(we, k);
        err = ms_llm_engine_chat(&e, msgs, n, opts, r);
        if (err != MS_ERR_BACKEND_UNAVAILABLE) {
            return err;
        }
        mark_down(we, k, err);
    }
    ms_log(MS_LOG_ERROR, "worker", "every local engine is down");
    return err;
}

static ms_err ping(void *ctx, long *status)
{
    const ms_worker_engine *we = ctx;
    *status = 0;
    ENSURE(we != NULL && we->engine != NULL, MS_ERR_ARG);
    if (we->spread != NULL && we->spread->n > 1) {
        return ping_spread(we, status);
    }
    return ms_llm_engine_ping(we->engine, status);
}

static ms_err chat(void *ctx, const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                   ms_chat_result *r)
{
    const ms_worker_engine *we = ctx;
    ENSURE(we != NULL && we->engine != NULL, MS_ERR_ARG);
    if (we->spread != NULL && we->spread->n > 1) {
        return chat_spread(we, msgs, n, opts, r);
    }
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
        lj[i].make_msgs = jobs[i].make_msgs;
        lj[i].drop_msgs = jobs[i].drop_msgs;
        lj[i].msgs_ctx = jobs[i].msgs_ctx;
    }
    ms_err e = we->spread != NULL
                   ? ms_llm_batch_run_spread(we->engine, we->spread, lj, n, parallel, progress,
                                             progress_ctx)
                   : ms_llm_batch_run(we->engine, lj, n, parallel, progress, progress_ctx);
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

/* Minions: a round's jobs on the worker (prompts, batches, re-asks of unusable replies). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "protocols/minions_internal.h"
#include "protocols/prompts.h"

/* --- running the jobs ----------------------------------------------------------------------- */

typedef struct batch_ctx {
    ms_minions *m;
    size_t base, total;
} batch_ctx;

static void on_progress(void *ctx, size_t done, size_t total)
{
    batch_ctx *b = ctx;
    (void)total;
    ms_convo_progress(&b->m->cv, b->m->round, "jobs", b->base + done, b->total);
}

/* Run the jobs listed in idx[0..n) (first attempt or a re-ask), parse their replies. */
static ms_err run_batch(ms_minions *m, ms_minions_job *jobs, const size_t *idx, size_t n,
                        size_t total, ms_minions_stats *st)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    ms_chat_opts opts;
    ms_worker_job *lj = calloc(n, sizeof *lj);
    ENSURE(lj != NULL, MS_ERR_NOMEM);
    ms_chat_opts_init(&opts);
    opts.temperature = cfg->worker_temperature;
    opts.max_tokens = cfg->worker_max_tokens;
    opts.json_format = "json";
    for (size_t i = 0; i < n; i++) {
        ms_minions_job *j = &jobs[idx[i]];
        lj[i].msgs = j->msgs;
        lj[i].n_msgs = j->echo.len || j->fix.len ? 4 : 2;
        lj[i].opts = &opts;
    }
    batch_ctx bc = {.m = m, .base = total - n, .total = total};
    unsigned parallel = cfg->jobs == 0 ? 1 : cfg->jobs;
    ms_err e = cfg->worker.batch(cfg->worker.ctx, lj, n, parallel, on_progress, &bc);
    for (size_t i = 0; i < n; i++) {
        ms_minions_job *j = &jobs[idx[i]];
        st->prompt_tokens += lj[i].result.prompt_tokens;
        st->completion_tokens += lj[i].result.completion_tokens;
        j->err = e != MS_OK ? e : lj[i].err;
        if (j->err == MS_OK && lj[i].result.truncated) {
            /* docs/protocols.md: a fragment is never read as the job's output */
            j->err = MS_ERR_BACKEND_CUT;
            snprintf(j->problem, sizeof j->problem,
                     "the worker stopped at its token limit (finish_reason \"length\"): its "
                     "output is incomplete");
        } else if (j->err == MS_OK) {
            const ms_buf *c = &lj[i].result.content;
            j->err = ms_job_output_parse((const char *)c->p, c->len, &j->out, j->problem,
                                         sizeof j->problem);
            if (j->err != MS_OK && j->err != MS_ERR_NOMEM) {
                size_t keep = ms_utf8_prefix((const char *)c->p, c->len, MS_MAX_PROTO_ECHO);
                ms_buf_clear(&j->echo);
                if (ms_buf_append(&j->echo, c->p, keep) != MS_OK) {
                    j->err = MS_ERR_NOMEM;
                }
            }
        } else {
            snprintf(j->problem, sizeof j->problem, "%s%s%s", ms_err_str(j->err),
                     lj[i].result.error_text[0] ? ": " : "", lj[i].result.error_text);
        }
        ms_chat_result_free(&lj[i].result);
    }
    free(lj);
    return e;
}

/* Re-ask the jobs whose replies were unusable, up to max_format_retries times. */
static ms_err reask_jobs(ms_minions *m, ms_minions_job *jobs, size_t n_jobs, size_t *idx,
                         ms_minions_stats *st)
{
    for (unsigned attempt = 1; attempt <= m->cv.cfg->max_format_retries; attempt++) {
        size_t n = 0;
        const ms_minions_job *first = NULL;
        for (size_t i = 0; i < n_jobs; i++) {
            ms_minions_job *j = &jobs[i];
            if (!ms_minions_parse_failure(j->err)) {
                continue;
            }
            first = first ? first : j;
            ms_buf_clear(&j->fix);
            TRY(ms_prompt_job_correction(j->problem, &j->fix));
            j->msgs[2] = (ms_chat_msg){.role = "assistant", .content = (const char *)j->echo.p,
                                       .content_len = j->echo.len};
            j->msgs[3] = (ms_chat_msg){.role = "user", .content = (const char *)j->fix.p,
                                       .content_len = j->fix.len};
            idx[n++] = i;
        }
        if (n == 0) {
            return MS_OK;
        }
        TRY(ms_minions_event_retry(m, attempt, n, ms_minions_logged_problem(m, first)));
        TRY(run_batch(m, jobs, idx, n, n, st));
    }
    return MS_OK;
}

static void count(const ms_minions_job *jobs, size_t n, ms_minions_stats *st)
{
    st->total = n;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].err == MS_OK) {
            st->ok++;
            st->answered += jobs[i].out.has_answer;
        } else {
            st->failed++;
            st->timed_out += jobs[i].err == MS_ERR_BACKEND_TIMEOUT;
            st->cut += jobs[i].err == MS_ERR_BACKEND_CUT;
            st->parse_failed += ms_minions_parse_failure(jobs[i].err);
        }
    }
}

/* --- one round of jobs ---------------------------------------------------------------------- */

static void jobs_free(ms_minions_job *jobs, size_t n)
{
    for (size_t i = 0; jobs && i < n; i++) {
        ms_buf_free(&jobs[i].echo);
        ms_buf_free(&jobs[i].fix);
        ms_job_output_free(&jobs[i].out);
    }
    free(jobs);
}

static void bufs_free(ms_buf *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++) {
        ms_buf_free(&b[i]);
    }
    free(b);
}

/* The prompts: one system message per used chunk, one instruction per task (shared by jobs). */
static ms_err build_prompts(ms_minions *m, const ms_plan *p, ms_buf *sys, ms_buf *ins)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    for (size_t u = 0; u < m->prep.n_used; u++) {
        const ms_chunk *c = &m->prep.chunks.items[m->prep.used[u]];
        ms_buf_init(&sys[u], c->len + MS_MINIONS_JOB_OVERHEAD * 2);
        TRY(ms_prompt_job_system(cfg->context + c->off, c->len, m->prep.used[u],
                                 m->prep.chunks.count, c->page, &sys[u]));
    }
    for (size_t t = 0; t < p->n_tasks; t++) {
        ms_buf_init(&ins[t], MS_PLAN_MAX_INSTRUCTION + 128);
        TRY(ms_prompt_job_instruction(&p->tasks[t], &ins[t]));
    }
    return MS_OK;
}

static ms_err run_jobs(ms_minions *m, ms_minions_job *jobs, size_t n, ms_minions_stats *st)
{
    size_t *idx = calloc(n ? n : 1, sizeof *idx);
    ENSURE(idx != NULL, MS_ERR_NOMEM);
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
    }
    double t0 = ms_clock_s();
    ms_convo_progress(&m->cv, m->round, "jobs", 0, n);
    ms_err e = n ? run_batch(m, jobs, idx, n, n, st) : MS_OK;
    if (e == MS_OK) {
        e = reask_jobs(m, jobs, n, idx, st);
    }
    free(idx);
    st->seconds = ms_clock_s() - t0;
    return e;
}

ms_err ms_minions_round(ms_minions *m, const ms_decision *d)
{
    const ms_plan *p = &d->plan;
    size_t n = (size_t)m->prep.jobs;
    ms_minions_stats st;
    ms_err err;
    memset(&st, 0, sizeof st);
    ms_buf *sys = calloc(m->prep.n_used ? m->prep.n_used : 1, sizeof *sys);
    ms_buf *ins = calloc(p->n_tasks, sizeof *ins);
    ms_minions_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!sys || !ins || !jobs) {
        bufs_free(sys, 0);
        bufs_free(ins, 0);
        free(jobs);
        return ms_convo_fail(&m->cv, MS_ERR_NOMEM, false, "no memory for %zu jobs", n);
    }
    TRY_OUT(ms_minions_event_plan(m, d));
    TRY_OUT(build_prompts(m, p, sys, ins));
    for (size_t i = 0; i < n; i++) {
        ms_minions_job *j = &jobs[i];
        size_t u = i % m->prep.n_used;
        j->task = i / m->prep.n_used;
        j->chunk = m->prep.used[u];
        j->msgs[0] = (ms_chat_msg){.role = "system", .content = (const char *)sys[u].p,
                                   .content_len = sys[u].len};
        j->msgs[1] = (ms_chat_msg){.role = "user", .content = (const char *)ins[j->task].p,
                                   .content_len = ins[j->task].len};
        ms_buf_init(&j->echo, MS_MAX_PROTO_ECHO);
        ms_buf_init(&j->fix, MS_PLAN_WHY_MAX + 256);
    }
    TRY_OUT(run_jobs(m, jobs, n, &st));
    count(jobs, n, &st);
    m->cv.r->jobs_run += n;
    m->cv.r->jobs_failed += st.failed;
    m->cv.r->jobs_cut += st.cut;
    m->cv.r->local_prompt_tokens += st.prompt_tokens;
    m->cv.r->local_completion_tokens += st.completion_tokens;
    bool all_failed = n > 0 && st.failed == n;
    if (!all_failed) {
        /* first: the jobs event says which answers went up */
        TRY_OUT(ms_minions_aggregate(m, p, jobs, &st));
    }
    TRY_OUT(ms_minions_event_jobs(m, p, jobs, &st));
    if (all_failed) {
        /* Error names only: a job's problem may quote the worker's output, hence the context. */
        const ms_minions_job *j = &jobs[0];
        bool unusable = ms_minions_parse_failure(j->err);
        err = ms_convo_fail(&m->cv, unusable ? MS_ERR_MODEL_OUTPUT : j->err, true,
                            "all %zu jobs of round %u failed (%zu timed out, %zu without usable "
                            "output JSON); the first: %s",
                            n, m->round, st.timed_out, st.parse_failed,
                            unusable ? "no output JSON" : ms_err_str(j->err));
    }
out:
    if (err != MS_OK && m->cv.r->outcome != MS_OUTCOME_FAILED) {
        err = ms_convo_fail(&m->cv, err, false, "round %u: the jobs could not run: %s", m->round,
                            ms_err_str(err));
    }
    jobs_free(jobs, n);
    bufs_free(sys, m->prep.n_used);
    bufs_free(ins, p->n_tasks);
    return err;
}

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

/*
 * A job's messages, made when the worker builds its request: its chunk's system prompt is
 * written then into m->prompt (the only one that exists) and wiped once the request is
 * built (drop_msgs). Nothing of the chunk stays with the job.
 */
static ms_err make_msgs(void *ctx, const ms_chat_msg **msgs, size_t *n)
{
    ms_minions_job *j = ctx;
    ms_minions *m = j->m;
    const ms_chunk *c = &m->prep.chunks.items[j->chunk];
    ms_buf_clear(&m->prompt);
    TRY(ms_buf_reserve(&m->prompt, c->len + MS_MINIONS_JOB_OVERHEAD));
    TRY(ms_prompt_job_system(m->cv.cfg->context + c->off, c->len, j->chunk,
                             m->prep.chunks.count, c->page, &m->prompt));
    j->msgs[0] = (ms_chat_msg){.role = "system", .content = (const char *)m->prompt.p,
                               .content_len = m->prompt.len};
    *msgs = j->msgs;
    *n = j->echo.len || j->fix.len ? 4 : 2;
    return MS_OK;
}

static void drop_msgs(void *ctx)
{
    ms_minions_job *j = ctx;
    ms_buf_clear(&j->m->prompt);
    j->msgs[0] = (ms_chat_msg){.role = "system"};
}

/* A failed job's problem is kept on the heap (most jobs have none), wiped when dropped. */
static void drop_problem(ms_minions_job *j)
{
    if (j->problem) {
        ms_wipe(j->problem, strlen(j->problem));
        free(j->problem);
        j->problem = NULL;
    }
}

static void set_problem(ms_minions_job *j, const char *why)
{
    drop_problem(j);
    j->problem = strdup(why);
    if (j->problem == NULL) {
        j->err = MS_ERR_NOMEM;
    }
}

/* An attempt's reply (or error e) as the job's outcome: its output, or why it has none. */
static void outcome(ms_minions_job *j, ms_err e, const ms_chat_result *r)
{
    char why[MS_PLAN_WHY_MAX];
    why[0] = '\0';
    j->err = e;
    if (j->err == MS_OK && r->truncated) {
        /* docs/protocols.md: a fragment is never read as the job's output */
        j->err = MS_ERR_BACKEND_CUT;
        snprintf(why, sizeof why,
                 "the worker stopped at its token limit (finish_reason \"length\"): its "
                 "output is incomplete");
    } else if (j->err == MS_OK) {
        const ms_buf *c = &r->content;
        j->err = ms_job_output_parse((const char *)c->p, c->len, &j->out, why, sizeof why);
        if (j->err != MS_OK && j->err != MS_ERR_NOMEM) {
            size_t keep = ms_utf8_prefix((const char *)c->p, c->len, MS_MAX_PROTO_ECHO);
            ms_buf_clear(&j->echo);
            if (ms_buf_append(&j->echo, c->p, keep) != MS_OK) {
                j->err = MS_ERR_NOMEM;
            }
        }
    } else {
        snprintf(why, sizeof why, "%s%s%s", ms_err_str(j->err), r->error_text[0] ? ": " : "",
                 r->error_text);
    }
    if (j->err != MS_OK) {
        set_problem(j, why);
    }
    ms_wipe(why, sizeof why); /* it may quote the worker's output */
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
        lj[i].make_msgs = make_msgs;
        lj[i].drop_msgs = drop_msgs;
        lj[i].msgs_ctx = j;
    }
    batch_ctx bc = {.m = m, .base = total - n, .total = total};
    unsigned parallel = cfg->jobs == 0 ? 1 : cfg->jobs;
    ms_err e = cfg->worker.batch(cfg->worker.ctx, lj, n, parallel, on_progress, &bc);
    for (size_t i = 0; i < n; i++) {
        ms_minions_job *j = &jobs[idx[i]];
        st->prompt_tokens += lj[i].result.prompt_tokens;
        st->completion_tokens += lj[i].result.completion_tokens;
        outcome(j, e != MS_OK ? e : lj[i].err, &lj[i].result);
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
        drop_problem(&jobs[i]);
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

/* The instructions: one per task, shared by its jobs (their chunks are made one at a time). */
static ms_err build_prompts(const ms_plan *p, ms_buf *ins)
{
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
    ms_buf *ins = calloc(p->n_tasks, sizeof *ins);
    ms_minions_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!ins || !jobs) {
        bufs_free(ins, 0);
        free(jobs);
        return ms_convo_fail(&m->cv, MS_ERR_NOMEM, false, "no memory for %zu jobs", n);
    }
    TRY_OUT(ms_minions_event_plan(m, d));
    TRY_OUT(build_prompts(p, ins));
    for (size_t i = 0; i < n; i++) {
        ms_minions_job *j = &jobs[i];
        size_t u = i % m->prep.n_used;
        j->m = m;
        j->task = i / m->prep.n_used;
        j->chunk = m->prep.used[u];
        j->msgs[0] = (ms_chat_msg){.role = "system"}; /* made by make_msgs */
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
    bufs_free(ins, p->n_tasks);
    return err;
}

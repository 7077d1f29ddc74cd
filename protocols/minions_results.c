/* Minions: a round's job outputs as the next message for the supervisor, and as events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"
#include "protocols/minions_internal.h"
#include "protocols/prompts.h"

/* --- events ------------------------------------------------------------------------------- */

bool ms_minions_parse_failure(ms_err e)
{
    return ms_err_category_of(e) == MS_CAT_DECODE || e == MS_ERR_MODEL_OUTPUT;
}

const char *ms_minions_logged_problem(const ms_minions *m, const ms_minions_job *j)
{
    if (m->cv.cfg->log_context || !ms_minions_parse_failure(j->err)) {
        return j->problem ? j->problem : ms_err_str(j->err); /* NULL: no memory to say it */
    }
    return "the reply was not the output JSON (the reply is logged only with --log-context)";
}

typedef struct plan_ev {
    const ms_minions *m;
    const ms_decision *d;
} plan_ev;

static ms_err fill_plan(ms_json_wval o, const void *arg)
{
    const plan_ev *ev = arg;
    const ms_minions *m = ev->m;
    ms_json_doc *doc = NULL;
    ms_json_val plan;
    TRY(ms_json_add_u64(o, "round", m->round));
    TRY(ms_json_add_bool(o, "refused", false));
    ms_err e = ms_json_parse(ev->d->json, ev->d->json_len, &doc);
    if (e == MS_OK) {
        e = ms_json_get(ms_json_root(doc), "plan", &plan);
    }
    if (e == MS_OK) {
        e = ms_json_add_value(o, "plan", plan);
    }
    ms_json_free(doc);
    TRY(e);
    TRY(ms_json_add_u64(o, "chunks", m->prep.chunks.count));
    TRY(ms_json_add_u64(o, "used_chunks", m->prep.n_used));
    return ms_json_add_u64(o, "jobs", m->prep.jobs);
}

ms_err ms_minions_event_plan(ms_minions *m, const ms_decision *d)
{
    plan_ev ev = {.m = m, .d = d};
    return ms_convo_event(&m->cv, "plan", fill_plan, &ev);
}

/*
 * Without log_context a job's output is logged as the supervisor received it: each field cut
 * at MS_MAX_JOB_FIELD, and nothing of an answer that did not fit the results message.
 */
static ms_err fill_output(ms_json_wval arr, const ms_minions *m, const ms_plan *p,
                          const ms_minions_job *j)
{
    ms_json_wval o;
    const ms_chunk *c = &m->prep.chunks.items[j->chunk];
    const bool ctx = m->cv.cfg->log_context;
    const size_t cap = ctx ? MS_MAX_JOB_FIELD * 4 : MS_MAX_JOB_FIELD;
    TRY(ms_json_add_obj(arr, NULL, &o));
    TRY(ms_json_add_cstr(o, "task", p->tasks[j->task].id));
    TRY(ms_json_add_u64(o, "chunk", j->chunk));
    if (c->page) {
        TRY(ms_json_add_u64(o, "page", c->page));
    }
    if (j->err != MS_OK) {
        TRY(ms_json_add_cstr(o, "error", ms_err_name(j->err)));
        const char *problem = ms_minions_logged_problem(m, j);
        TRY(ms_convo_add_text(o, "problem", problem, strlen(problem), MS_MAX_PROTO_LOG_TEXT));
    } else {
        const ms_job_output *out = &j->out;
        if (!j->forwarded) {
            TRY(ms_json_add_bool(o, "forwarded", false));
        }
        if (ctx || j->forwarded) {
            TRY(ms_convo_add_text(o, "answer", out->answer, out->answer_len, cap));
            TRY(ms_convo_add_text(o, "citation", out->citation, out->citation_len, cap));
            TRY(ms_convo_add_text(o, "explanation", out->explanation, out->explanation_len, cap));
        }
    }
    if (ctx) {
        TRY(ms_convo_add_text(o, "excerpt", m->cv.cfg->context + c->off, c->len,
                              MS_MAX_PROTO_LOG_TEXT));
    }
    return MS_OK;
}

typedef struct jobs_ev {
    const ms_minions *m;
    const ms_plan *p;
    const ms_minions_job *jobs;
    const ms_minions_stats *st;
} jobs_ev;

static ms_err fill_jobs(ms_json_wval o, const void *arg)
{
    const jobs_ev *ev = arg;
    ms_json_wval arr;
    size_t listed = 0, more = 0;
    TRY(ms_json_add_u64(o, "round", ev->m->round));
    TRY(ms_json_add_u64(o, "total", ev->st->total));
    TRY(ms_json_add_u64(o, "ok", ev->st->ok));
    TRY(ms_json_add_u64(o, "answered", ev->st->answered));
    TRY(ms_json_add_u64(o, "failed", ev->st->failed));
    TRY(ms_json_add_u64(o, "timed_out", ev->st->timed_out));
    TRY(ms_json_add_u64(o, "cut", ev->st->cut)); /* at the worker's token limit: failed */
    TRY(ms_json_add_double(o, "seconds", ev->st->seconds));
    TRY(ms_convo_add_usage(o, "usage", ev->st->prompt_tokens, ev->st->completion_tokens));
    TRY(ms_json_add_arr(o, "outputs", &arr));
    for (size_t i = 0; i < ev->st->total; i++) {
        const ms_minions_job *j = &ev->jobs[i];
        if (j->err == MS_OK && !j->out.has_answer) {
            continue; /* nothing in that chunk: counted in ok, not listed */
        }
        if (listed == MS_MAX_PROTO_LOG_OUTPUTS) {
            more++;
            continue;
        }
        TRY(fill_output(arr, ev->m, ev->p, j));
        listed++;
    }
    TRY(ms_json_add_bool(o, "outputs_truncated", more > 0));
    return more ? ms_json_add_u64(o, "outputs_not_listed", more) : MS_OK;
}

ms_err ms_minions_event_jobs(ms_minions *m, const ms_plan *p, const ms_minions_job *jobs,
                             const ms_minions_stats *st)
{
    jobs_ev ev = {.m = m, .p = p, .jobs = jobs, .st = st};
    return ms_convo_event(&m->cv, "jobs", fill_jobs, &ev);
}

typedef struct retry_ev {
    unsigned round, attempt;
    size_t jobs;
    const char *problem;
} retry_ev;

static ms_err fill_retry(ms_json_wval o, const void *arg)
{
    const retry_ev *r = arg;
    TRY(ms_json_add_u64(o, "round", r->round));
    TRY(ms_json_add_u64(o, "attempt", r->attempt));
    TRY(ms_json_add_cstr(o, "who", "worker"));
    TRY(ms_json_add_u64(o, "jobs", r->jobs));
    return ms_convo_add_text(o, "problem", r->problem, strlen(r->problem), MS_MAX_PROTO_LOG_TEXT);
}

ms_err ms_minions_event_retry(ms_minions *m, unsigned attempt, size_t jobs, const char *problem)
{
    retry_ev ev = {.round = m->round, .attempt = attempt, .jobs = jobs, .problem = problem};
    return ms_convo_event(&m->cv, "format_retry", fill_retry, &ev);
}

/* --- the results message ------------------------------------------------------------------- */

static ms_err field(ms_buf *b, const char *label, const char *s, size_t n)
{
    size_t keep = ms_utf8_prefix(s, n, MS_MAX_JOB_FIELD);
    TRY(ms_buf_append_str(b, label));
    TRY(ms_buf_append(b, s, keep));
    if (keep < n) {
        TRY(ms_prompt_cut_note(n - keep, b));
    }
    return ms_buf_append_str(b, "\n");
}

static ms_err entry(const ms_minions *m, const ms_minions_job *j, ms_buf *b)
{
    const ms_chunk *c = &m->prep.chunks.items[j->chunk];
    char head[96];
    if (c->page) {
        snprintf(head, sizeof head, "- excerpt %zu (page %u): ", j->chunk + 1, c->page);
    } else {
        snprintf(head, sizeof head, "- excerpt %zu: ", j->chunk + 1);
    }
    TRY(field(b, head, j->out.answer, j->out.answer_len));
    if (j->out.citation && j->out.citation_len) {
        TRY(field(b, "  citation: ", j->out.citation, j->out.citation_len));
    }
    if (j->out.explanation && j->out.explanation_len) {
        TRY(field(b, "  explanation: ", j->out.explanation, j->out.explanation_len));
    }
    return MS_OK;
}

ms_err ms_minions_aggregate(ms_minions *m, const ms_plan *p, ms_minions_job *jobs,
                            const ms_minions_stats *st)
{
    ms_buf e, task_head;
    size_t omitted = 0;
    ms_err err;
    ms_buf_init(&e, 8 * MS_MAX_JOB_FIELD);
    ms_buf_init(&task_head, MS_PLAN_MAX_INSTRUCTION + 128);
    ms_buf_clear(&m->user);
    TRY_OUT(ms_prompt_minions_results_head(m->round, st->total, p->n_tasks, m->prep.n_used,
                                           st->answered, st->failed, st->timed_out, st->cut,
                                           &m->user));
    size_t head_len = m->user.len;
    for (size_t t = 0; t < p->n_tasks; t++) {
        bool headed = false;
        ms_buf_clear(&task_head);
        TRY_OUT(ms_buf_append_str(&task_head, "\n"));
        TRY_OUT(ms_prompt_job_instruction(&p->tasks[t], &task_head));
        TRY_OUT(ms_buf_append_str(&task_head, "\n"));
        for (size_t i = t * m->prep.n_used; i < (t + 1) * m->prep.n_used; i++) {
            if (jobs[i].err != MS_OK || !jobs[i].out.has_answer) {
                continue;
            }
            ms_buf_clear(&e);
            TRY_OUT(entry(m, &jobs[i], &e));
            size_t need = e.len + (headed ? 0 : task_head.len);
            if (m->user.len - head_len + need > MS_MAX_PROTO_AGGREGATE) {
                omitted++;
                continue;
            }
            if (!headed) {
                TRY_OUT(ms_buf_append(&m->user, task_head.p, task_head.len));
                headed = true;
            }
            TRY_OUT(ms_buf_append(&m->user, e.p, e.len));
            jobs[i].forwarded = true;
        }
    }
    TRY_OUT(ms_prompt_minions_results_tail(omitted, m->round + 1, m->cv.cfg->max_rounds,
                                           &m->user));
out:
    ms_buf_free(&e);
    ms_buf_free(&task_head);
    return err;
}

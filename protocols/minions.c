/* Minions: the supervisor plans (declarative JSON), many local jobs run on chunks in parallel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "protocols/bm25.h"
#include "protocols/chunk.h"
#include "protocols/convo.h"
#include "protocols/prompts.h"

/*
 * docs/protocols.md, "Minions". Per round r (1..max_rounds):
 *   1. supervisor -> run_plan / provide_final_answer / cannot_answer (re-asked on unusable
 *      replies). A plan is checked in this order, all before any job runs: its JSON and caps
 *      (plan.c), a lower bound of its jobs from the documents' length (ms_plan_precheck), the
 *      chunking itself and retrieval, then the exact job count and prompt bytes. A refusal
 *      goes back to the supervisor as the reason, within the same re-ask budget;
 *   2. jobs = tasks x used chunks run on the worker, cfg->jobs at a time; a job's reply that
 *      is not the output JSON is re-asked (the unusable jobs only) up to max_format_retries
 *      times, then counts as failed; engine errors and timeouts count as failed;
 *   3. all jobs failed -> FAILED (worker); else the answers (null and empty dropped), each
 *      field cut at MS_MAX_JOB_FIELD, the whole at MS_MAX_PROTO_AGGREGATE (what does not fit
 *      is counted and said), are the next round's user message.
 * In the last round a plan is not run: the run ends with NO_ANSWER.
 */

#define JOB_OVERHEAD 1024u /* prompt bytes of a job beyond its chunk and instruction */

/* The plan accepted for this round, with what the check prepared. */
typedef struct prepared {
    ms_chunk_list chunks;
    size_t *used; /* chunk indices the jobs run on (retrieval: best first) */
    size_t n_used;
    uint64_t jobs;
} prepared;

typedef struct minions {
    ms_convo cv;
    ms_plan_caps caps;
    ms_buf user; /* the next user message for the supervisor */
    prepared prep;
    unsigned round;
} minions;

/* One job's state across its attempts. */
typedef struct job {
    size_t task, chunk; /* plan task index; chunk index in the split */
    ms_chat_msg msgs[4]; /* system (chunk), user (instruction), [assistant echo, user fix] */
    ms_buf echo, fix;
    ms_err err;          /* MS_OK: out holds the output */
    char problem[MS_PLAN_WHY_MAX];
    ms_job_output out;
    bool forwarded; /* its answer is in the results sent to the supervisor */
} job;

static void prepared_free(prepared *p)
{
    ms_chunk_list_free(&p->chunks);
    free(p->used);
    memset(p, 0, sizeof *p);
}

/* --- the plan check (before anything runs) ------------------------------------------------ */

static ms_err retrieve(minions *m, const ms_plan *p, prepared *pr, char *why, size_t cap)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    ms_bm25_hit *hits = calloc(p->top_k, sizeof *hits);
    size_t n = 0;
    ENSURE(hits != NULL, MS_ERR_NOMEM);
    ms_err e = ms_bm25_top_k(cfg->context, cfg->context_len, pr->chunks.items, pr->chunks.count,
                             p->query, p->query_len, p->top_k, hits, &n);
    if (e == MS_ERR_CAP_EXCEEDED) {
        e = MS_ERR_PLAN_INVALID;
        snprintf(why, cap,
                 "plan.retrieval.query has more than %u distinct words or a word over %u bytes",
                 MS_MAX_BM25_QUERY_TERMS, MS_MAX_BM25_TERM);
    }
    if (e == MS_OK && n > 0 && (pr->used = calloc(n, sizeof *pr->used)) == NULL) {
        e = MS_ERR_NOMEM;
    }
    for (size_t i = 0; e == MS_OK && i < n; i++) {
        pr->used[i] = hits[i].chunk;
    }
    pr->n_used = e == MS_OK ? n : 0;
    free(hits);
    return e;
}

static ms_err check_plan(void *ctx, ms_decision *d, char *why, size_t cap)
{
    minions *m = ctx;
    const ms_proto_cfg *cfg = m->cv.cfg;
    const ms_plan *p = &d->plan;
    prepared pr;
    memset(&pr, 0, sizeof pr);
    if (d->kind != MS_DECISION_PLAN) {
        return MS_OK;
    }
    TRY(ms_plan_precheck(p, cfg->context_len, &m->caps, why, cap));
    ms_err e = ms_chunk_split(cfg->context, cfg->context_len, &p->chunking, &pr.chunks);
    if (e == MS_ERR_CAP_EXCEEDED) {
        snprintf(why, cap, "chunks of at most %zu bytes cut the documents into more than %u "
                           "chunks: use a larger size", p->chunking.size, MS_MAX_CHUNKS);
        return MS_ERR_PLAN_REFUSED;
    }
    TRY(e);
    if (p->retrieval) {
        e = retrieve(m, p, &pr, why, cap);
    } else if (pr.chunks.count > 0) {
        pr.used = calloc(pr.chunks.count, sizeof *pr.used);
        e = pr.used ? MS_OK : MS_ERR_NOMEM;
        for (size_t i = 0; e == MS_OK && i < pr.chunks.count; i++) {
            pr.used[i] = i;
        }
        pr.n_used = e == MS_OK ? pr.chunks.count : 0;
    }
    uint64_t bytes = 0, ins = 0;
    for (size_t i = 0; i < p->n_tasks; i++) {
        ins += p->tasks[i].instruction_len + JOB_OVERHEAD;
    }
    for (size_t i = 0; e == MS_OK && i < pr.n_used; i++) {
        bytes += (uint64_t)pr.chunks.items[pr.used[i]].len * p->n_tasks + ins;
    }
    if (e == MS_OK) {
        e = ms_plan_check_jobs(p, pr.n_used, bytes, &m->caps, &pr.jobs, why, cap);
    }
    if (e != MS_OK) {
        prepared_free(&pr);
        return e;
    }
    prepared_free(&m->prep);
    m->prep = pr;
    return MS_OK;
}

/* --- events ------------------------------------------------------------------------------- */

static bool parse_failure(ms_err e)
{
    return ms_err_category_of(e) == MS_CAT_DECODE || e == MS_ERR_MODEL_OUTPUT;
}

/*
 * A failed job's problem as the log may hold it. The reason for an unusable reply quotes
 * the worker's output (ms_extract_describe), which may be document text that never went to
 * the supervisor: only with log_context.
 */
static const char *logged_problem(const minions *m, const job *j)
{
    if (m->cv.cfg->log_context || !parse_failure(j->err)) {
        return j->problem;
    }
    return "the reply was not the output JSON (the reply is logged only with --log-context)";
}

static ms_err fill_plan(ms_json_wval o, const minions *m, const ms_decision *d)
{
    ms_json_doc *doc = NULL;
    ms_json_val plan;
    TRY(ms_json_add_u64(o, "round", m->round));
    TRY(ms_json_add_bool(o, "refused", false));
    ms_err e = ms_json_parse(d->json, d->json_len, &doc);
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

typedef ms_err (*fill_fn)(ms_json_wval o, const void *a, const void *b);

static ms_err event(minions *m, const char *type, fill_fn fill, const void *a, const void *b)
{
    ms_json_builder *bd = NULL;
    ms_json_wval root;
    if (!ms_convo_logging(&m->cv)) {
        return MS_OK;
    }
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &bd, &root);
    if (e == MS_OK) {
        e = fill(root, a, b);
    }
    if (e == MS_OK) {
        e = ms_convo_emit(&m->cv, type, bd);
    } else {
        e = ms_convo_fail(&m->cv, e, false, "the %s event could not be built", type);
    }
    ms_json_builder_free(bd);
    return e;
}

static ms_err fill_plan_ev(ms_json_wval o, const void *a, const void *b)
{
    return fill_plan(o, a, b);
}

typedef struct round_stats {
    size_t total, ok, answered, failed, timed_out, parse_failed;
    double seconds;
    uint64_t prompt_tokens, completion_tokens;
} round_stats;

/*
 * Without log_context a job's output is logged as the supervisor received it: each field cut
 * at MS_MAX_JOB_FIELD, and nothing of an answer that did not fit the results message.
 */
static ms_err fill_output(ms_json_wval arr, const minions *m, const ms_plan *p, const job *j)
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
        const char *problem = logged_problem(m, j);
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
    const minions *m;
    const ms_plan *p;
    const job *jobs;
    const round_stats *st;
} jobs_ev;

static ms_err fill_jobs(ms_json_wval o, const void *a, const void *b)
{
    const jobs_ev *ev = a;
    ms_json_wval arr;
    size_t listed = 0, more = 0;
    (void)b;
    TRY(ms_json_add_u64(o, "round", ev->m->round));
    TRY(ms_json_add_u64(o, "total", ev->st->total));
    TRY(ms_json_add_u64(o, "ok", ev->st->ok));
    TRY(ms_json_add_u64(o, "answered", ev->st->answered));
    TRY(ms_json_add_u64(o, "failed", ev->st->failed));
    TRY(ms_json_add_u64(o, "timed_out", ev->st->timed_out));
    TRY(ms_json_add_double(o, "seconds", ev->st->seconds));
    TRY(ms_convo_add_usage(o, "usage", ev->st->prompt_tokens, ev->st->completion_tokens));
    TRY(ms_json_add_arr(o, "outputs", &arr));
    for (size_t i = 0; i < ev->st->total; i++) {
        const job *j = &ev->jobs[i];
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

typedef struct retry_ev {
    unsigned round, attempt;
    size_t jobs;
    const char *problem;
} retry_ev;

static ms_err fill_retry(ms_json_wval o, const void *a, const void *b)
{
    const retry_ev *r = a;
    (void)b;
    TRY(ms_json_add_u64(o, "round", r->round));
    TRY(ms_json_add_u64(o, "attempt", r->attempt));
    TRY(ms_json_add_cstr(o, "who", "worker"));
    TRY(ms_json_add_u64(o, "jobs", r->jobs));
    return ms_convo_add_text(o, "problem", r->problem, strlen(r->problem), MS_MAX_PROTO_LOG_TEXT);
}

/* --- running the jobs ----------------------------------------------------------------------- */

typedef struct batch_ctx {
    minions *m;
    size_t base, total;
} batch_ctx;

static void on_progress(void *ctx, size_t done, size_t total)
{
    batch_ctx *b = ctx;
    (void)total;
    ms_convo_progress(&b->m->cv, b->m->round, "jobs", b->base + done, b->total);
}

/* Run the jobs listed in idx[0..n) (first attempt or a re-ask), parse their replies. */
static ms_err run_batch(minions *m, job *jobs, const size_t *idx, size_t n, size_t total,
                        round_stats *st)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    ms_chat_opts opts;
    ms_llm_job *lj = calloc(n, sizeof *lj);
    ENSURE(lj != NULL, MS_ERR_NOMEM);
    ms_chat_opts_init(&opts);
    opts.temperature = cfg->worker_temperature;
    opts.max_tokens = cfg->worker_max_tokens;
    opts.json_format = "json";
    for (size_t i = 0; i < n; i++) {
        job *j = &jobs[idx[i]];
        lj[i].msgs = j->msgs;
        lj[i].n_msgs = j->echo.len || j->fix.len ? 4 : 2;
        lj[i].opts = &opts;
    }
    batch_ctx bc = {.m = m, .base = total - n, .total = total};
    unsigned parallel = cfg->jobs == 0 ? 1 : cfg->jobs;
    ms_err e = ms_llm_batch_run(cfg->worker, lj, n, parallel, on_progress, &bc);
    for (size_t i = 0; i < n; i++) {
        job *j = &jobs[idx[i]];
        st->prompt_tokens += lj[i].result.prompt_tokens;
        st->completion_tokens += lj[i].result.completion_tokens;
        j->err = e != MS_OK ? e : lj[i].err;
        if (j->err == MS_OK) {
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
        ms_llm_job_free(&lj[i]);
    }
    free(lj);
    return e;
}

/* Re-ask the jobs whose replies were unusable, up to max_format_retries times. */
static ms_err reask_jobs(minions *m, job *jobs, size_t n_jobs, size_t *idx, round_stats *st)
{
    for (unsigned attempt = 1; attempt <= m->cv.cfg->max_format_retries; attempt++) {
        size_t n = 0;
        const job *first = NULL;
        for (size_t i = 0; i < n_jobs; i++) {
            job *j = &jobs[i];
            if (!parse_failure(j->err)) {
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
        retry_ev ev = {.round = m->round, .attempt = attempt, .jobs = n,
                       .problem = logged_problem(m, first)};
        TRY(event(m, "format_retry", fill_retry, &ev, NULL));
        TRY(run_batch(m, jobs, idx, n, n, st));
    }
    return MS_OK;
}

static void count(const job *jobs, size_t n, round_stats *st)
{
    st->total = n;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].err == MS_OK) {
            st->ok++;
            st->answered += jobs[i].out.has_answer;
        } else {
            st->failed++;
            st->timed_out += jobs[i].err == MS_ERR_BACKEND_TIMEOUT;
            st->parse_failed += parse_failure(jobs[i].err);
        }
    }
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

static ms_err entry(const minions *m, const job *j, ms_buf *b)
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

/* The next user message: answers grouped by task in job order, within MS_MAX_PROTO_AGGREGATE. */
static ms_err aggregate(minions *m, const ms_plan *p, job *jobs, const round_stats *st)
{
    ms_buf e, task_head;
    size_t omitted = 0;
    ms_err err;
    ms_buf_init(&e, 8 * MS_MAX_JOB_FIELD);
    ms_buf_init(&task_head, MS_PLAN_MAX_INSTRUCTION + 128);
    ms_buf_clear(&m->user);
    TRY_OUT(ms_prompt_minions_results_head(m->round, st->total, p->n_tasks, m->prep.n_used,
                                           st->answered, st->failed, st->timed_out, &m->user));
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

/* --- one round of jobs ---------------------------------------------------------------------- */

static void jobs_free(job *jobs, size_t n)
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
static ms_err build_prompts(minions *m, const ms_plan *p, ms_buf *sys, ms_buf *ins)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    for (size_t u = 0; u < m->prep.n_used; u++) {
        const ms_chunk *c = &m->prep.chunks.items[m->prep.used[u]];
        ms_buf_init(&sys[u], c->len + JOB_OVERHEAD * 2);
        TRY(ms_prompt_job_system(cfg->context + c->off, c->len, m->prep.used[u],
                                 m->prep.chunks.count, c->page, &sys[u]));
    }
    for (size_t t = 0; t < p->n_tasks; t++) {
        ms_buf_init(&ins[t], MS_PLAN_MAX_INSTRUCTION + 128);
        TRY(ms_prompt_job_instruction(&p->tasks[t], &ins[t]));
    }
    return MS_OK;
}

static ms_err run_jobs(minions *m, const ms_plan *p, job *jobs, size_t n, round_stats *st)
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
    (void)p;
    return e;
}

static ms_err run_round(minions *m, const ms_decision *d)
{
    const ms_plan *p = &d->plan;
    size_t n = (size_t)m->prep.jobs;
    round_stats st;
    ms_err err;
    memset(&st, 0, sizeof st);
    ms_buf *sys = calloc(m->prep.n_used ? m->prep.n_used : 1, sizeof *sys);
    ms_buf *ins = calloc(p->n_tasks, sizeof *ins);
    job *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!sys || !ins || !jobs) {
        bufs_free(sys, 0);
        bufs_free(ins, 0);
        free(jobs);
        return ms_convo_fail(&m->cv, MS_ERR_NOMEM, false, "no memory for %zu jobs", n);
    }
    TRY_OUT(event(m, "plan", fill_plan_ev, m, d));
    TRY_OUT(build_prompts(m, p, sys, ins));
    for (size_t i = 0; i < n; i++) {
        job *j = &jobs[i];
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
    TRY_OUT(run_jobs(m, p, jobs, n, &st));
    count(jobs, n, &st);
    m->cv.r->jobs_run += n;
    m->cv.r->jobs_failed += st.failed;
    m->cv.r->local_prompt_tokens += st.prompt_tokens;
    m->cv.r->local_completion_tokens += st.completion_tokens;
    bool all_failed = n > 0 && st.failed == n;
    if (!all_failed) {
        TRY_OUT(aggregate(m, p, jobs, &st)); /* first: the log says which answers went up */
    }
    jobs_ev ev = {.m = m, .p = p, .jobs = jobs, .st = &st};
    TRY_OUT(event(m, "jobs", fill_jobs, &ev, NULL));
    if (all_failed) {
        /* Error names only: a job's problem may quote the worker's output, hence the context. */
        const job *j = &jobs[0];
        err = ms_convo_fail(&m->cv, parse_failure(j->err) ? MS_ERR_MODEL_OUTPUT : j->err, true,
                            "all %zu jobs of round %u failed (%zu timed out, %zu without usable "
                            "output JSON); the first: %s",
                            n, m->round, st.timed_out, st.parse_failed,
                            parse_failure(j->err) ? "no output JSON" : ms_err_str(j->err));
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

/* --- the run --------------------------------------------------------------------------------- */

static ms_err round_once(minions *m, bool *done)
{
    const unsigned allowed = MS_DECIDE_MASK(MS_DECISION_PLAN) | MS_DECIDE_MASK(MS_DECISION_FINAL) |
                             MS_DECIDE_MASK(MS_DECISION_NO_ANSWER);
    bool last = m->round >= m->cv.cfg->max_rounds;
    ms_decision d;
    ms_err err;
    *done = true;
    ms_convo_progress(&m->cv, m->round, "supervisor", 0, 0);
    /* In the last round a plan would not run: it is not checked against the documents. */
    TRY_OUT(ms_convo_turn(&m->cv, m->round, &m->user, allowed, &m->caps,
                          last ? NULL : check_plan, m, &d));
    switch (d.kind) {
    case MS_DECISION_FINAL: err = ms_convo_answer(&m->cv, d.text, d.text_len); break;
    case MS_DECISION_NO_ANSWER:
        ms_convo_no_answer(&m->cv, "the supervisor cannot answer: %s", d.text);
        break;
    case MS_DECISION_PLAN:
        if (last) {
            ms_convo_no_answer(&m->cv,
                               "max_rounds (%u) reached: the supervisor still sent a plan in the "
                               "last round",
                               m->cv.cfg->max_rounds);
            break;
        }
        TRY_OUT(run_round(m, &d));
        *done = false;
        break;
    default: err = ms_convo_fail(&m->cv, MS_ERR_INTERNAL, false, "unexpected decision"); break;
    }
out:
    ms_decision_free(&d);
    prepared_free(&m->prep);
    return err;
}

static ms_err start(minions *m)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    ms_buf sys;
    if (cfg->context_len > MS_MAX_CHUNK_TEXT) {
        return ms_convo_fail(&m->cv, MS_ERR_CAP_EXCEEDED, false,
                             "the documents are %zu bytes; Minions splits at most %u",
                             cfg->context_len, MS_MAX_CHUNK_TEXT);
    }
    ms_buf_init(&sys, 64 * 1024 + (cfg->system_prompt ? strlen(cfg->system_prompt) : 0));
    ms_err e = ms_prompt_minions_system(cfg->system_prompt, &m->caps, &sys);
    if (e == MS_OK) {
        e = ms_convo_system(&m->cv, &sys);
    }
    if (e == MS_OK) {
        e = ms_prompt_minions_first(cfg->task, cfg->doc_metadata, cfg->context_len, 1,
                                    cfg->max_rounds, &m->user);
    }
    ms_buf_free(&sys);
    return e == MS_OK ? e : ms_convo_fail(&m->cv, e, false, "cannot build the prompts: %s",
                                          ms_err_str(e));
}

ms_err ms_minions_run(const ms_proto_cfg *cfg, ms_proto_result *r)
{
    minions m;
    memset(&m, 0, sizeof m);
    ENSURE(cfg != NULL && cfg->jobs <= MS_MAX_LLM_PARALLEL, MS_ERR_ARG);
    TRY(ms_plan_caps_resolve(&cfg->caps, &m.caps));
    TRY(ms_convo_init(&m.cv, cfg, r, "minions"));
    ms_buf_init(&m.user, MS_MAX_PROTO_AGGREGATE + 64 * 1024 + strlen(cfg->task) +
                             (cfg->doc_metadata ? strlen(cfg->doc_metadata) : 0));
    ms_err e = ms_convo_worker_ping(&m.cv);
    if (e == MS_OK) {
        e = start(&m);
    }
    bool done = false;
    for (m.round = 1; e == MS_OK && !done; m.round++) {
        e = round_once(&m, &done);
    }
    e = ms_convo_final(&m.cv);
    (void)e; /* a failure to write it is in the result */
    prepared_free(&m.prep);
    ms_convo_free(&m.cv);
    ms_buf_free(&m.user);
    return MS_OK;
}

/* Minions: the supervisor plans (declarative JSON), many local jobs run on chunks in parallel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "protocols/bm25.h"
#include "protocols/chunk.h"
#include "protocols/minions_internal.h"
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

static void prepared_free(ms_minions_prep *p)
{
    ms_chunk_list_free(&p->chunks);
    free(p->used);
    memset(p, 0, sizeof *p);
}

/* --- the plan check (before anything runs) ------------------------------------------------ */

static ms_err retrieve(ms_minions *m, const ms_plan *p, ms_minions_prep *pr, char *why,
                       size_t cap)
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
    ms_minions *m = ctx;
    const ms_proto_cfg *cfg = m->cv.cfg;
    const ms_plan *p = &d->plan;
    ms_minions_prep pr;
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
        ins += p->tasks[i].instruction_len + MS_MINIONS_JOB_OVERHEAD;
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

/* --- the run --------------------------------------------------------------------------------- */

static ms_err round_once(ms_minions *m, bool *done)
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
        TRY_OUT(ms_minions_round(m, &d));
        *done = false;
        break;
    default: err = ms_convo_fail(&m->cv, MS_ERR_INTERNAL, false, "unexpected decision"); break;
    }
out:
    ms_decision_free(&d);
    prepared_free(&m->prep);
    return err;
}

static ms_err start(ms_minions *m)
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
    ms_minions m;
    memset(&m, 0, sizeof m);
    ENSURE(cfg != NULL && cfg->jobs <= MS_MAX_LLM_PARALLEL && cfg->worker.batch != NULL,
           MS_ERR_ARG);
    TRY(ms_plan_caps_resolve(&cfg->caps, &m.caps));
    TRY(ms_convo_init(&m.cv, cfg, r, "minions"));
    ms_buf_init(&m.user, MS_MAX_PROTO_AGGREGATE + 64 * 1024 + strlen(cfg->task) +
                             (cfg->doc_metadata ? strlen(cfg->doc_metadata) : 0));
    ms_buf_init(&m.prompt, MS_MAX_CHUNK_SIZE + MS_MINIONS_JOB_OVERHEAD * 2);
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
    ms_buf_free(&m.prompt);
    return MS_OK;
}

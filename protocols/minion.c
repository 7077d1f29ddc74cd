/* Minion: the supervisor asks, the local worker (who holds the context) answers, round by round. */
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"
#include "protocols/convo.h"
#include "protocols/extract.h"
#include "protocols/prompts.h"

/*
 * docs/protocols.md, "Minion". Per round r (1..max_rounds):
 *   1. supervisor: conversation + this round's user message -> a decision (re-asked on
 *      unusable replies, convo.c);
 *   2. provide_final_answer -> ANSWER; cannot_answer -> NO_ANSWER;
 *   3. request_additional_info: in the last round it is re-asked (convo.c, final_refuse:
 *      only an answer or cannot_answer now), and if it still asks after max_format_retries
 *      re-asks -> NO_ANSWER; before the last round the worker gets the context and the
 *      question, its answer (reasoning blocks removed, cut at MS_MAX_WORKER_ANSWER) is the
 *      next round's user message.
 * So the worker is called at most max_rounds - 1 times, plus one re-ask each time its engine
 * stops at its token limit: a cut answer is asked again once with twice the limit (the
 * configured one, else the tokens the engine spent); an answer still cut (or when the re-ask
 * cannot be made or fails) goes to the supervisor marked INCOMPLETE, never as whole.
 */

/* The largest token limit a re-ask asks for (as §12.3 caps a request's max_tokens). */
#define REASK_MAX_TOKENS 1000000u

typedef struct minion {
    ms_convo cv;
    ms_buf worker_system; /* the worker's system message: holds the context */
    ms_buf user;          /* the next user message for the supervisor */
} minion;

typedef struct worker_ev {
    unsigned round;
    const char *question;
    size_t question_len;
    const ms_buf *answer;
    const ms_buf *prompt; /* the worker's messages, logged only with log_context */
    const ms_chat_result *res;
    bool log_context;
    int reask_max_tokens; /* 0: no re-ask at the token limit */
    bool reask_failed;    /* the re-ask failed: the first, cut answer was used */
} worker_ev;

static ms_err fill_worker(ms_json_wval o, const void *arg)
{
    const worker_ev *w = arg;
    TRY(ms_json_add_u64(o, "round", w->round));
    TRY(ms_convo_add_text(o, "question", w->question, w->question_len, MS_MAX_PROTO_LOG_TEXT));
    /* What the supervisor received (next_message's cut): the rest of a long answer may be
       document text the worker copied out, so it is logged only with log_context. */
    TRY(ms_convo_add_text(o, "answer", (const char *)w->answer->p, w->answer->len,
                          w->log_context ? MS_MAX_PROTO_LOG_TEXT : MS_MAX_WORKER_ANSWER));
    if (w->log_context) {
        TRY(ms_convo_add_text(o, "context_prompt", (const char *)w->prompt->p, w->prompt->len,
                              MS_MAX_PROTO_LOG_TEXT));
    }
    TRY(ms_convo_add_usage(o, "usage", w->res->prompt_tokens, w->res->completion_tokens));
    TRY(ms_json_add_cstr(o, "finish_reason", w->res->finish_reason));
    /* docs/logs.md: truncated = the answer went to the supervisor marked INCOMPLETE */
    TRY(ms_json_add_bool(o, "truncated", w->res->truncated));
    if (w->reask_max_tokens > 0) {
        TRY(ms_json_add_i64(o, "reask_max_tokens", w->reask_max_tokens));
        TRY(ms_json_add_bool(o, "reask_failed", w->reask_failed));
    }
    return ms_json_add_double(o, "seconds", w->res->seconds);
}

/* Twice the limit that cut the answer (the configured one, else the tokens spent), or 0. */
static int larger_limit(int max_tokens, uint64_t spent)
{
    uint64_t base = max_tokens > 0 ? (uint64_t)max_tokens : spent;
    if (base == 0 || base >= REASK_MAX_TOKENS) {
        return 0;
    }
    return (int)(base * 2 < REASK_MAX_TOKENS ? base * 2 : REASK_MAX_TOKENS);
}

/* One worker call; its usage counted whatever the outcome. */
static ms_err call_worker(minion *m, const ms_chat_msg *msgs, const ms_chat_opts *opts,
                          ms_chat_result *res)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    ms_err err = cfg->worker.chat(cfg->worker.ctx, msgs, 2, opts, res);
    m->cv.r->local_prompt_tokens += res->prompt_tokens;
    m->cv.r->local_completion_tokens += res->completion_tokens;
    return err;
}

/*
 * The worker's engine stopped at its token limit: ask once more with a larger limit. The
 * longer answer replaces the first when the re-ask succeeds (cut again or not); when it
 * fails, the first stays (*failed). Either way the caller marks what is still cut.
 */
static void reask_at_limit(minion *m, const ms_chat_msg *msgs, ms_chat_opts *opts,
                           ms_chat_result *res, worker_ev *w)
{
    ms_chat_result again;
    w->reask_max_tokens = larger_limit(opts->max_tokens, res->completion_tokens);
    if (w->reask_max_tokens == 0) {
        return;
    }
    opts->max_tokens = w->reask_max_tokens;
    ms_chat_result_init(&again);
    ms_err err = call_worker(m, msgs, opts, &again);
    w->reask_failed = err != MS_OK;
    if (err == MS_OK) {
        ms_chat_result tmp = *res;
        *res = again;
        again = tmp;
    }
    ms_chat_result_free(&again);
}

/* Ask the worker; its answer (think blocks stripped) into *answer, *cut when it is a
   fragment the token limit cut (after the one re-ask). */
static ms_err ask_worker(minion *m, unsigned round, const ms_decision *d, ms_buf *answer,
                         bool *cut)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    ms_buf q;
    ms_chat_result res;
    ms_chat_opts opts;
    ms_think_info think;
    ms_err err;
    ms_buf_init(&q, MS_MAX_PROTO_MESSAGE + MS_MAX_PROTO_ANSWER + 256);
    ms_chat_result_init(&res);
    ms_chat_opts_init(&opts);
    opts.temperature = cfg->worker_temperature;
    opts.max_tokens = cfg->worker_max_tokens;
    err = ms_prompt_worker_question(cfg->task, d->text, d->text_len, &q);
    if (err != MS_OK) {
        err = ms_convo_fail(&m->cv, err, false, "cannot build the worker's question");
        goto out;
    }
    ms_chat_msg msgs[2] = {
        {.role = "system", .content = (const char *)m->worker_system.p,
         .content_len = m->worker_system.len},
        {.role = "user", .content = (const char *)q.p, .content_len = q.len}};
    worker_ev w = {.round = round, .question = d->text, .question_len = d->text_len,
                   .answer = answer, .prompt = &m->worker_system, .res = &res,
                   .log_context = cfg->log_context};
    ms_convo_progress(&m->cv, round, "worker", 0, 1);
    err = call_worker(m, msgs, &opts, &res);
    if (err == MS_OK && res.truncated) {
        reask_at_limit(m, msgs, &opts, &res, &w);
    }
    if (err != MS_OK) {
        err = ms_convo_fail(&m->cv, err, true,
                            "the local model failed in round %u: %s%s%s (HTTP %ld)%s", round,
                            ms_err_str(err), res.error_text[0] ? ": " : "", res.error_text,
                            res.http_status,
                            res.retry_after_s > 0 ? "; it is busy and asked to be retried later"
                                                  : "");
        goto out;
    }
    ms_convo_progress(&m->cv, round, "worker", 1, 1);
    err = ms_extract_strip_think((const char *)res.content.p, res.content.len, answer, &think);
    if (err != MS_OK) {
        err = ms_convo_fail(&m->cv, err, true, "the local model's answer in round %u: %s", round,
                            ms_err_str(err));
        goto out;
    }
    *cut = res.truncated;
    m->cv.r->worker_cut += res.truncated;
    err = ms_convo_event(&m->cv, "worker_turn", fill_worker, &w);
out:
    ms_buf_free(&q);
    ms_chat_result_free(&res);
    return err;
}

/* The next round's message from the worker's answer, cut at MS_MAX_WORKER_ANSWER. */
static ms_err next_message(minion *m, const ms_buf *answer, bool cut, unsigned round)
{
    size_t keep = ms_utf8_prefix((const char *)answer->p, answer->len, MS_MAX_WORKER_ANSWER);
    ms_buf_clear(&m->user);
    ms_err e = ms_prompt_minion_next((const char *)answer->p, keep, answer->len, cut, round,
                                     m->cv.cfg->max_rounds, &m->user);
    return e == MS_OK ? e : ms_convo_fail(&m->cv, e, false, "cannot build round %u", round);
}

/* One round. *done when the run has an outcome. */
static ms_err round_once(minion *m, unsigned round, bool *done)
{
    const unsigned allowed = MS_DECIDE_MASK(MS_DECISION_ASK) | MS_DECIDE_MASK(MS_DECISION_FINAL) |
                             MS_DECIDE_MASK(MS_DECISION_NO_ANSWER);
    ms_decision d;
    ms_buf answer;
    ms_err err;
    bool cut = false;
    *done = true;
    ms_buf_init(&answer, MS_MAX_LLM_REPLY);
    bool last = round >= m->cv.cfg->max_rounds;
    ms_convo_progress(&m->cv, round, "supervisor", 0, 0);
    m->cv.final_refuse = last ? MS_DECIDE_MASK(MS_DECISION_ASK) : 0;
    TRY_OUT(ms_convo_turn(&m->cv, round, &m->user, allowed, NULL, NULL, NULL, &d));
    switch (d.kind) {
    case MS_DECISION_FINAL: err = ms_convo_answer(&m->cv, d.text, d.text_len); break;
    case MS_DECISION_NO_ANSWER:
        ms_convo_no_answer(&m->cv, "the supervisor cannot answer: %s", d.text);
        break;
    case MS_DECISION_ASK:
        if (last) { /* convo.c re-asked it already: it would not answer */
            ms_convo_no_answer(&m->cv,
                               "max_rounds (%u) reached: the supervisor still asked for more "
                               "information in the last round, after %u re-asks saying that "
                               "only an answer or cannot_answer were allowed",
                               m->cv.cfg->max_rounds, m->cv.cfg->max_format_retries);
            break;
        }
        TRY_OUT(ask_worker(m, round, &d, &answer, &cut));
        TRY_OUT(next_message(m, &answer, cut, round + 1));
        *done = false;
        break;
    default: err = ms_convo_fail(&m->cv, MS_ERR_INTERNAL, false, "unexpected decision"); break;
    }
out:
    ms_decision_free(&d);
    ms_buf_free(&answer);
    return err;
}

static ms_err start(minion *m)
{
    const ms_proto_cfg *cfg = m->cv.cfg;
    ms_buf sys;
    ms_buf_init(&sys, 64 * 1024 + (cfg->system_prompt ? strlen(cfg->system_prompt) : 0));
    ms_err e = ms_prompt_minion_system(cfg->system_prompt, &sys);
    if (e == MS_OK) {
        e = ms_convo_system(&m->cv, &sys);
    }
    if (e == MS_OK) {
        e = ms_prompt_worker_system(cfg->context, cfg->context_len, &m->worker_system);
    }
    if (e == MS_OK) {
        e = ms_prompt_minion_first(cfg->task, cfg->doc_metadata, 1, cfg->max_rounds, &m->user);
    }
    ms_buf_free(&sys);
    return e == MS_OK ? e : ms_convo_fail(&m->cv, e, false, "cannot build the prompts: %s",
                                          ms_err_str(e));
}

ms_err ms_minion_run(const ms_proto_cfg *cfg, ms_proto_result *r)
{
    minion m;
    memset(&m, 0, sizeof m);
    TRY(ms_convo_init(&m.cv, cfg, r, "minion"));
    ms_buf_init(&m.worker_system, cfg->context_len + 4096);
    ms_buf_init(&m.user, MS_MAX_WORKER_ANSWER + 4096 + strlen(cfg->task) +
                             (cfg->doc_metadata ? strlen(cfg->doc_metadata) : 0));
    /* The worker first: a local engine that is down must not cost a supervisor round. */
    ms_err e = ms_convo_worker_ping(&m.cv);
    if (e == MS_OK) {
        e = start(&m);
    }
    bool done = false;
    for (unsigned round = 1; e == MS_OK && !done; round++) {
        e = round_once(&m, round, &done);
    }
    e = ms_convo_final(&m.cv);
    (void)e; /* a failure to write it is in the result */
    ms_convo_free(&m.cv);
    ms_buf_free(&m.worker_system);
    ms_buf_free(&m.user);
    return MS_OK;
}

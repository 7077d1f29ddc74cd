/* The supervisor conversation shared by Minion and Minions: turns, re-asks, events, end states. */
#include "protocols/convo.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "protocols/prompts.h"

void ms_proto_result_init(ms_proto_result *r)
{
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->answer, MS_MAX_PROTO_ANSWER);
}

void ms_proto_result_free(ms_proto_result *r)
{
    ms_buf_free(&r->answer);
    ms_wipe(r->why, sizeof r->why);
}

static void reset_result(ms_proto_result *r)
{
    ms_buf answer = r->answer;
    ms_buf_clear(&answer);
    memset(r, 0, sizeof *r);
    r->answer = answer;
}

/* Well-formed UTF-8 without NUL (what every request builder requires), within max bytes. */
static bool text_ok(const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n > max) {
        return false;
    }
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
                   : c >= 0xF0 && c <= 0xF4 ? 3 : 4;
        if (c == 0 || k == 4 || n - i <= k) {
            return false;
        }
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range (RFC 3629) */
        lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : lo;
        hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : hi;
        for (size_t j = 1; j <= k; j++) {
            if (p[i + j] < (j == 1 ? lo : 0x80) || p[i + j] > (j == 1 ? hi : 0xBF)) {
                return false;
            }
        }
        i += k + 1;
    }
    return true;
}

static bool opt_text_ok(const char *s)
{
    return s == NULL || text_ok(s, strlen(s), MS_MAX_PROTO_TASK);
}

ms_err ms_convo_init(ms_convo *cv, const ms_proto_cfg *cfg, ms_proto_result *r,
                     const char *protocol)
{
    memset(cv, 0, sizeof *cv);
    ENSURE(cfg != NULL && r != NULL, MS_ERR_ARG);
    ENSURE(cfg->task != NULL && cfg->task[0] != '\0' && cfg->remote.turn != NULL &&
               cfg->worker.ping != NULL && cfg->worker.chat != NULL &&
               (cfg->context != NULL || cfg->context_len == 0),
           MS_ERR_ARG);
    ENSURE(cfg->max_rounds >= 1 && cfg->max_rounds <= MS_MAX_PROTO_ROUNDS, MS_ERR_ARG);
    ENSURE(cfg->max_format_retries <= MS_MAX_FORMAT_RETRIES, MS_ERR_ARG);
    ENSURE(opt_text_ok(cfg->task) && opt_text_ok(cfg->doc_metadata) &&
               opt_text_ok(cfg->system_prompt),
           MS_ERR_ARG);
    ENSURE(text_ok(cfg->context, cfg->context_len, SIZE_MAX), MS_ERR_ARG);
    reset_result(r);
    cv->cfg = cfg;
    cv->r = r;
    cv->protocol = protocol;
    cv->t0 = ms_clock_s();
    return MS_OK;
}

void ms_convo_free(ms_convo *cv)
{
    for (size_t i = 0; i < cv->n; i++) {
        char *p = (char *)cv->msgs[i].content;
        if (p) {
            ms_wipe(p, cv->msgs[i].content_len);
            free(p);
        }
    }
    cv->n = 0;
}

static ms_err push(ms_convo *cv, const char *role, const uint8_t *p, size_t n)
{
    ENSURE(cv->n < MS_CONVO_MAX_MSGS - 2, MS_ERR_INTERNAL); /* room for a re-ask's two */
    char *c = malloc(n + 1);
    ENSURE(c != NULL, MS_ERR_NOMEM);
    if (n) {
        memcpy(c, p, n);
    }
    c[n] = '\0';
    cv->msgs[cv->n++] = (ms_chat_msg){.role = role, .content = c, .content_len = n};
    return MS_OK;
}

ms_err ms_convo_system(ms_convo *cv, const ms_buf *text)
{
    ENSURE(cv->n == 0, MS_ERR_STATE);
    ms_err e = push(cv, "system", text->p, text->len);
    return e == MS_OK ? e : ms_convo_fail(cv, e, false, "cannot build the supervisor's prompt");
}

/* --- end states --------------------------------------------------------------------------- */

/* why: printable ASCII only, so it can go to a terminal as it is. */
static void set_why(ms_proto_result *r, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void set_why(ms_proto_result *r, const char *fmt, va_list ap)
{
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    for (char *p = r->why; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
            *p = '?';
        }
    }
}

ms_err ms_convo_fail(ms_convo *cv, ms_err e, bool worker, const char *fmt, ...)
{
    ms_proto_result *r = cv->r;
    if (r->outcome == MS_OUTCOME_FAILED) {
        return r->err; /* the first failure is the one reported */
    }
    r->outcome = MS_OUTCOME_FAILED;
    r->err = e;
    r->worker_failed = worker;
    ms_buf_clear(&r->answer);
    va_list ap;
    va_start(ap, fmt);
    set_why(r, fmt, ap);
    va_end(ap);
    return e;
}

void ms_convo_no_answer(ms_convo *cv, const char *fmt, ...)
{
    va_list ap;
    cv->r->outcome = MS_OUTCOME_NO_ANSWER;
    va_start(ap, fmt);
    set_why(cv->r, fmt, ap);
    va_end(ap);
}

ms_err ms_convo_answer(ms_convo *cv, const char *answer, size_t len)
{
    ms_buf_clear(&cv->r->answer);
    ms_err e = ms_buf_append(&cv->r->answer, answer, len);
    if (e != MS_OK) {
        return ms_convo_fail(cv, e, false, "the final answer could not be kept");
    }
    cv->r->outcome = MS_OUTCOME_ANSWER;
    cv->r->why[0] = '\0';
    return MS_OK;
}

void ms_convo_progress(ms_convo *cv, unsigned round, const char *phase, size_t done, size_t total)
{
    if (cv->cfg->progress) {
        ms_progress p = {.round = round, .max_rounds = cv->cfg->max_rounds,
                         .jobs_done = done, .jobs_total = total, .phase = phase};
        cv->cfg->progress(cv->cfg->progress_ctx, &p);
    }
}

/* --- events ------------------------------------------------------------------------------- */

bool ms_convo_logging(const ms_convo *cv)
{
    return cv->cfg->sink.event != NULL;
}

ms_err ms_convo_emit(ms_convo *cv, const char *type, const ms_json_builder *b)
{
    if (!ms_convo_logging(cv)) {
        return MS_OK;
    }
    ms_err e = cv->cfg->sink.event(cv->cfg->sink.ctx, type, b);
    if (e != MS_OK) {
        bool first = cv->r->outcome != MS_OUTCOME_FAILED; /* else that failure is reported */
        e = ms_convo_fail(cv, e, false, "the session log could not be written (%s event): %s",
                          type, ms_err_str(e));
        cv->r->log_failed = cv->r->log_failed || first;
    }
    return e;
}

ms_err ms_convo_add_text(ms_json_wval o, const char *key, const char *s, size_t n, size_t cap)
{
    size_t keep = ms_utf8_prefix(s, n, cap);
    TRY(ms_json_add_str(o, key, s ? s : "", keep));
    if (keep < n) {
        char k[64];
        snprintf(k, sizeof k, "%s_truncated", key);
        TRY(ms_json_add_bool(o, k, true));
    }
    return MS_OK;
}

ms_err ms_convo_add_usage(ms_json_wval o, const char *key, uint64_t p, uint64_t c)
{
    ms_json_wval u;
    TRY(ms_json_add_obj(o, key, &u));
    TRY(ms_json_add_u64(u, "prompt_tokens", p));
    return ms_json_add_u64(u, "completion_tokens", c);
}

ms_err ms_convo_event(ms_convo *cv, const char *type, ms_convo_fill_fn fill, const void *arg)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    if (!ms_convo_logging(cv)) {
        return MS_OK;
    }
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = fill(root, arg);
    }
    if (e != MS_OK) {
        ms_json_builder_free(b);
        return ms_convo_fail(cv, e, false, "the %s event could not be built: %s", type,
                             ms_err_str(e));
    }
    e = ms_convo_emit(cv, type, b);
    ms_json_builder_free(b);
    return e;
}

typedef struct turn_ev {
    unsigned round, attempt;
    const ms_chat_msg *sent;
    size_t n_sent, n_msgs;
    const ms_turn_reply *reply;
    double seconds;
    ms_err err;
} turn_ev;

static ms_err fill_turn(ms_json_wval o, const void *arg)
{
    const turn_ev *t = arg;
    ms_json_wval sent, m, tm;
    TRY(ms_json_add_u64(o, "round", t->round));
    TRY(ms_json_add_u64(o, "attempt", t->attempt));
    TRY(ms_json_add_u64(o, "messages", t->n_msgs));
    TRY(ms_json_add_arr(o, "sent", &sent));
    for (size_t i = 0; i < t->n_sent; i++) {
        TRY(ms_json_add_obj(sent, NULL, &m));
        TRY(ms_json_add_cstr(m, "role", t->sent[i].role));
        TRY(ms_convo_add_text(m, "content", t->sent[i].content, t->sent[i].content_len,
                              MS_MAX_PROTO_LOG_TEXT));
    }
    const ms_turn_reply *r = t->reply;
    TRY(ms_convo_add_text(o, "reply", (const char *)r->content.p, r->content.len,
                          MS_MAX_PROTO_LOG_TEXT));
    TRY(ms_convo_add_usage(o, "usage", r->prompt_tokens, r->completion_tokens));
    TRY(ms_json_add_cstr(o, "finish_reason", r->finish_reason));
    TRY(ms_json_add_bool(o, "truncated", r->truncated));
    TRY(ms_json_add_obj(o, "timings", &tm));
    TRY(ms_json_add_double(tm, "total_s", t->seconds));
    TRY(ms_json_add_double(tm, "seal_s", r->seal_s));
    TRY(ms_json_add_double(tm, "transport_s", r->transport_s));
    TRY(ms_json_add_double(tm, "open_s", r->open_s));
    TRY(ms_json_add_u64(o, "rehandshakes", r->rehandshakes));
    if (t->err != MS_OK) {
        TRY(ms_json_add_cstr(o, "error", ms_err_name(t->err)));
        if (r->error_code[0]) {
            TRY(ms_json_add_cstr(o, "error_code", r->error_code));
            TRY(ms_json_add_cstr(o, "error_message", r->error_message));
        }
    }
    return MS_OK;
}

typedef struct retry_ev {
    unsigned round, attempt;
    const char *who, *problem;
    ms_err err;
} retry_ev;

static ms_err fill_retry(ms_json_wval o, const void *arg)
{
    const retry_ev *t = arg;
    TRY(ms_json_add_u64(o, "round", t->round));
    TRY(ms_json_add_u64(o, "attempt", t->attempt));
    TRY(ms_json_add_cstr(o, "who", t->who));
    TRY(ms_convo_add_text(o, "problem", t->problem, strlen(t->problem), MS_MAX_PROTO_LOG_TEXT));
    return ms_json_add_cstr(o, "error", ms_err_name(t->err));
}

static ms_err fill_refused(ms_json_wval o, const void *arg)
{
    const retry_ev *t = arg;
    TRY(ms_json_add_u64(o, "round", t->round));
    TRY(ms_json_add_bool(o, "refused", true));
    TRY(ms_json_add_cstr(o, "error", ms_err_name(t->err)));
    return ms_convo_add_text(o, "reason", t->problem, strlen(t->problem), MS_MAX_PROTO_LOG_TEXT);
}

/* --- the supervisor round ------------------------------------------------------------------- */

static bool reaskable(ms_err e)
{
    return ms_err_category_of(e) == MS_CAT_DECODE || e == MS_ERR_MODEL_OUTPUT ||
           e == MS_ERR_PLAN_INVALID || e == MS_ERR_PLAN_REFUSED;
}

/* One request: the conversation (+ the re-ask pair when extra is 2); usage into the result. */
static ms_err send(ms_convo *cv, unsigned round, unsigned attempt, size_t extra,
                   ms_turn_reply *reply)
{
    size_t n = cv->n + extra;
    size_t first_new = attempt > 0 ? cv->n : (cv->system_logged ? cv->n - 1 : 0);
    ms_turn_reply_clear(reply);
    double t = ms_clock_s();
    ms_err e = cv->cfg->remote.turn(cv->cfg->remote.ctx, cv->msgs, n, reply);
    if (e == MS_OK && reply->truncated) {
        e = MS_ERR_BACKEND_CUT; /* a fragment of a decision is never acted on */
    }
    reply->error_code[sizeof reply->error_code - 1] = '\0';
    reply->error_message[sizeof reply->error_message - 1] = '\0';
    cv->r->rounds = round;
    cv->r->remote_prompt_tokens += reply->prompt_tokens;
    cv->r->remote_completion_tokens += reply->completion_tokens;
    turn_ev ev = {.round = round, .attempt = attempt, .sent = cv->msgs + first_new,
                  .n_sent = n - first_new, .n_msgs = n, .reply = reply,
                  .seconds = ms_clock_s() - t, .err = e};
    cv->system_logged = true;
    TRY(ms_convo_event(cv, "supervisor_turn", fill_turn, &ev));
    if (e == MS_ERR_BACKEND_REMOTE) {
        return ms_convo_fail(cv, e, false, "the supervisor's engine failed in round %u: %s: %s",
                             round, reply->error_code, reply->error_message);
    }
    if (e == MS_ERR_BACKEND_CUT) {
        return ms_convo_fail(cv, e, false,
                             "the supervisor's model stopped at its token limit in round %u "
                             "(finish_reason \"length\"): its reply is INCOMPLETE and was not "
                             "used; allow the supervisor's engine more tokens",
                             round);
    }
    if (e != MS_OK) {
        return ms_convo_fail(cv, e, false, "the supervisor turn of round %u failed: %s", round,
                             ms_err_str(e));
    }
    return MS_OK;
}

/* The re-ask pair after msgs[0..n): the unusable reply (cut) and the correction (the final
   round's when `late`). */
static ms_err reask_pair(ms_convo *cv, const ms_buf *reply, const char *problem, bool refused,
                         bool late, ms_buf *echo, ms_buf *corr)
{
    size_t keep = ms_utf8_prefix((const char *)reply->p, reply->len, MS_MAX_PROTO_ECHO);
    ms_buf_clear(echo);
    ms_buf_clear(corr);
    TRY(ms_buf_append(echo, reply->p, keep));
    if (keep < reply->len) {
        TRY(ms_prompt_cut_note(reply->len - keep, echo));
    }
    TRY(late ? ms_prompt_final_round_correction(corr)
             : ms_prompt_correction(problem, refused, corr));
    cv->msgs[cv->n] = (ms_chat_msg){.role = "assistant", .content = (const char *)echo->p,
                                    .content_len = echo->len};
    cv->msgs[cv->n + 1] = (ms_chat_msg){.role = "user", .content = (const char *)corr->p,
                                        .content_len = corr->len};
    return MS_OK;
}

/* Parse (and check) a reply; MS_OK or the reason in why. */
static ms_err judge(const ms_buf *reply, unsigned allowed, const ms_plan_caps *caps,
                    ms_convo_check_fn check, void *ctx, ms_decision *d, char *why, size_t cap)
{
    ms_err e = ms_decision_parse((const char *)reply->p, reply->len, allowed, caps, d, why, cap);
    if (e == MS_OK && check) {
        e = check(ctx, d, why, cap);
        if (e != MS_OK) {
            ms_decision_kind k = d->kind;
            ms_decision_free(d);
            d->kind = k;
        }
    }
    return e;
}

/* A valid decision the protocol no longer takes (cv->final_refuse): why says so. */
static bool too_late(const ms_convo *cv, const ms_decision *d, char *why, size_t cap)
{
    if (d->kind >= MS_DECISION_KIND_COUNT || !(cv->final_refuse & MS_DECIDE_MASK(d->kind))) {
        return false;
    }
    snprintf(why, cap,
             "asked again in the final round (\"%s\"): only \"%s\" or \"%s\" are allowed now",
             ms_decision_names[d->kind], ms_decision_names[MS_DECISION_FINAL],
             ms_decision_names[MS_DECISION_NO_ANSWER]);
    return true;
}

ms_err ms_convo_turn(ms_convo *cv, unsigned round, const ms_buf *user, unsigned allowed,
                     const ms_plan_caps *caps, ms_convo_check_fn check, void *check_ctx,
                     ms_decision *d)
{
    ms_turn_reply reply;
    ms_buf echo, corr;
    char why[MS_PLAN_WHY_MAX];
    ms_err err;
    memset(d, 0, sizeof *d);
    ms_turn_reply_init(&reply, MS_MAX_LLM_REPLY);
    ms_buf_init(&echo, MS_MAX_PROTO_ECHO + 64);
    ms_buf_init(&corr, MS_PLAN_WHY_MAX + 256);
    err = push(cv, "user", user->p, user->len);
    if (err != MS_OK) {
        return ms_convo_fail(cv, err, false, "cannot build the supervisor's prompt");
    }
    for (unsigned attempt = 0;; attempt++) {
        TRY_OUT(send(cv, round, attempt, attempt > 0 ? 2 : 0, &reply));
        ms_err pe = judge(&reply.content, allowed, caps, check, check_ctx, d, why, sizeof why);
        bool late = pe == MS_OK && too_late(cv, d, why, sizeof why);
        if (pe == MS_OK && (!late || attempt >= cv->cfg->max_format_retries)) {
            /* accepted; a late one after the last re-ask too: the protocol ends the run */
            TRY_OUT(push(cv, "assistant", (const uint8_t *)d->json, d->json_len));
            break;
        }
        if (late) {
            ms_decision_free(d); /* re-asked: the next reply is parsed into *d */
            pe = MS_ERR_JSON_ENUM; /* a "decision" not allowed now */
        }
        if (!reaskable(pe)) {
            err = ms_convo_fail(cv, pe, false, "the supervisor's reply in round %u: %s", round,
                                ms_err_str(pe));
            goto out;
        }
        bool plan = !late && d->kind == MS_DECISION_PLAN;
        retry_ev ev = {.round = round, .attempt = attempt, .who = "supervisor", .problem = why,
                       .err = pe};
        TRY_OUT(ms_convo_event(cv, "format_retry", fill_retry, &ev));
        if (plan) {
            TRY_OUT(ms_convo_event(cv, "plan", fill_refused, &ev));
        }
        if (attempt >= cv->cfg->max_format_retries) {
            ms_err fe = pe == MS_ERR_PLAN_REFUSED || pe == MS_ERR_PLAN_INVALID
                            ? pe
                            : MS_ERR_MODEL_OUTPUT;
            err = ms_convo_fail(cv, fe, false,
                                "the supervisor's reply in round %u was unusable after %u "
                                "re-asks: %s",
                                round, attempt, why);
            goto out;
        }
        TRY_OUT(reask_pair(cv, &reply.content, why, plan, late, &echo, &corr));
    }
out:
    if (err != MS_OK) {
        ms_decision_free(d);
        if (cv->r->outcome != MS_OUTCOME_FAILED) {
            err = ms_convo_fail(cv, err, false, "round %u: %s", round, ms_err_str(err));
        }
    }
    ms_turn_reply_free(&reply);
    ms_buf_free(&echo);
    ms_buf_free(&corr);
    return err;
}

ms_err ms_convo_worker_ping(ms_convo *cv)
{
    long status = 0;
    const ms_worker *w = &cv->cfg->worker;
    ms_err e = w->ping(w->ctx, &status);
    if (e == MS_OK) {
        return MS_OK;
    }
    if (status) {
        return ms_convo_fail(cv, e, true,
                             "the local model engine (%s) answered the check with HTTP %ld: %s; "
                             "no supervisor round was spent",
                             w->name ? w->name : "worker", status, ms_err_str(e));
    }
    return ms_convo_fail(cv, e, true,
                         "the local model engine (%s) cannot be used: %s; no supervisor round "
                         "was spent",
                         w->name ? w->name : "worker", ms_err_str(e));
}

/* --- the final event ------------------------------------------------------------------------ */

static const char *outcome_name(ms_outcome o)
{
    return o == MS_OUTCOME_ANSWER ? "answer" : o == MS_OUTCOME_NO_ANSWER ? "no_answer" : "failed";
}

static ms_err fill_final(ms_json_wval o, const void *arg)
{
    const ms_proto_result *r = arg;
    TRY(ms_json_add_cstr(o, "outcome", outcome_name(r->outcome)));
    if (r->outcome == MS_OUTCOME_ANSWER) {
        TRY(ms_json_add_str(o, "answer", (const char *)r->answer.p, r->answer.len));
    } else {
        TRY(ms_json_add_cstr(o, "why", r->why));
    }
    if (r->outcome == MS_OUTCOME_FAILED) {
        TRY(ms_json_add_cstr(o, "error", ms_err_name(r->err)));
        TRY(ms_json_add_bool(o, "worker_failed", r->worker_failed));
    }
    TRY(ms_json_add_u64(o, "rounds", r->rounds));
    TRY(ms_convo_add_usage(o, "usage_local", r->local_prompt_tokens, r->local_completion_tokens));
    TRY(ms_convo_add_usage(o, "usage_remote", r->remote_prompt_tokens,
                           r->remote_completion_tokens));
    TRY(ms_json_add_u64(o, "jobs_run", r->jobs_run));
    TRY(ms_json_add_u64(o, "jobs_failed", r->jobs_failed));
    return ms_json_add_double(o, "seconds", r->seconds);
}

ms_err ms_convo_final(ms_convo *cv)
{
    cv->r->seconds = ms_clock_s() - cv->t0;
    return ms_convo_event(cv, "final", fill_final, cv->r);
}

/* libFuzzer harness for protocols/plan: decisions, plans and job outputs from arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "protocols/chunk.h"
#include "protocols/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int ok)
{
    if (!ok) {
        abort();
    }
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return 0;
        }
    }
    return 1;
}

static void check_why(const char *why, size_t cap)
{
    need(memchr(why, '\0', cap) != NULL);
}

/* A plan that passed: within its caps, ids valid and distinct, chunking usable. */
static void check_plan(const ms_plan *p, const ms_plan_caps *caps)
{
    need(p->n_tasks >= 1 && p->n_tasks <= caps->max_tasks && p->tasks != NULL);
    for (size_t i = 0; i < p->n_tasks; i++) {
        size_t n = strlen(p->tasks[i].id);
        need(n >= 1 && n <= MS_PLAN_MAX_ID);
        need(p->tasks[i].instruction_len <= MS_PLAN_MAX_INSTRUCTION);
        need(strlen(p->tasks[i].instruction) == p->tasks[i].instruction_len);
        need(!blank(p->tasks[i].instruction, p->tasks[i].instruction_len));
        for (size_t k = 0; k < i; k++) {
            need(strcmp(p->tasks[i].id, p->tasks[k].id) != 0);
        }
    }
    need(ms_chunk_params_check(&p->chunking) == MS_OK);
    need(p->chunking.size <= caps->max_chunk_size);
    if (p->retrieval) {
        need(p->top_k >= 1 && p->top_k <= caps->max_top_k && p->query != NULL);
        need(p->query_len >= 1 && p->query_len <= MS_MAX_BM25_QUERY);
    } else {
        need(p->query == NULL && p->top_k == 0);
    }
}

static void check_decision(const char *text, size_t len, unsigned allowed,
                           const ms_plan_caps *caps)
{
    ms_decision d;
    char why[MS_PLAN_WHY_MAX];
    ms_err e = ms_decision_parse(text, len, allowed, caps, &d, why, sizeof why);
    check_why(why, sizeof why);
    if (e == MS_OK) {
        need(d.kind < MS_DECISION_KIND_COUNT && (allowed & MS_DECIDE_MASK(d.kind)));
        need(d.json != NULL && d.json_len >= 2 && d.json[0] == '{');
        if (d.kind == MS_DECISION_PLAN) {
            need(d.text == NULL);
            check_plan(&d.plan, caps);
        } else {
            need(d.text != NULL && !blank(d.text, d.text_len) && d.plan.tasks == NULL);
            need(strlen(d.text) == d.text_len);
        }
    } else {
        need(d.text == NULL && d.json == NULL && d.plan.tasks == NULL);
        need(e != MS_ERR_INTERNAL && e != MS_ERR_ARG);
    }
    ms_decision_free(&d);
}

/*
 * Input: one byte choosing caps (small or default), then model output. The same bytes are
 * read as a supervisor reply for Minion and for Minions, as a bare plan and as a job output.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    ms_plan_caps caps;
    ms_plan_caps small = {.max_tasks = 2, .max_jobs = 8, .max_chunk_size = 64, .max_top_k = 3};
    need(ms_plan_caps_resolve(data[0] & 1 ? &small : NULL, &caps) == MS_OK);

    check_decision(text, len,
                   MS_DECIDE_MASK(MS_DECISION_ASK) | MS_DECIDE_MASK(MS_DECISION_FINAL) |
                       MS_DECIDE_MASK(MS_DECISION_NO_ANSWER),
                   &caps);
    check_decision(text, len,
                   MS_DECIDE_MASK(MS_DECISION_PLAN) | MS_DECIDE_MASK(MS_DECISION_FINAL) |
                       MS_DECIDE_MASK(MS_DECISION_NO_ANSWER),
                   &caps);

    ms_plan p;
    char why[MS_PLAN_WHY_MAX];
    ms_err e = ms_plan_parse(text, len, &caps, &p, why, sizeof why);
    check_why(why, sizeof why);
    if (e == MS_OK) {
        check_plan(&p, &caps);
        uint64_t jobs;
        ms_err pe = ms_plan_precheck(&p, len * 1000, &caps, why, sizeof why);
        need(pe == MS_OK || pe == MS_ERR_PLAN_REFUSED);
        pe = ms_plan_check_jobs(&p, len, len, &caps, &jobs, why, sizeof why);
        need(pe == (jobs <= caps.max_jobs ? MS_OK : MS_ERR_PLAN_REFUSED));
    } else {
        need(p.tasks == NULL && p.query == NULL);
    }
    ms_plan_free(&p);

    ms_job_output o;
    e = ms_job_output_parse(text, len, &o, why, sizeof why);
    check_why(why, sizeof why);
    if (e == MS_OK) {
        need(o.has_answer == (o.answer != NULL && !blank(o.answer, o.answer_len)));
    } else {
        need(o.answer == NULL && o.citation == NULL && o.explanation == NULL);
    }
    ms_job_output_free(&o);

    size_t cut = ms_utf8_prefix(text, len, data[0]);
    need(cut <= len && (len <= data[0] ? cut == len : cut <= data[0]));
    return 0;
}

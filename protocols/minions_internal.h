/* Internal to Minions (minions*.c): a run's state, a round's jobs, what the files share. */
#ifndef MS_PROTOCOLS_MINIONS_INTERNAL_H
#define MS_PROTOCOLS_MINIONS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocols/chunk.h"
#include "protocols/convo.h"
#include "protocols/plan.h"

/*
 * docs/protocols.md, "Minions". minions.c runs the rounds and checks plans; minions_jobs.c
 * runs a round's jobs on the worker (batches, re-asks); minions_results.c turns their
 * outputs into the next message for the supervisor and into events. Single-threaded.
 */

#define MS_MINIONS_JOB_OVERHEAD 1024u /* prompt bytes of a job beyond its chunk and instruction */

/* The plan accepted for this round, with what the check prepared. */
typedef struct ms_minions_prep {
    ms_chunk_list chunks;
    size_t *used; /* chunk indices the jobs run on (retrieval: best first) */
    size_t n_used;
    uint64_t jobs;
} ms_minions_prep;

typedef struct ms_minions {
    ms_convo cv;
    ms_plan_caps caps;
    ms_buf user; /* the next user message for the supervisor */
    ms_minions_prep prep;
    unsigned round;
    ms_buf prompt; /* the one job system prompt (its chunk) that exists: made while the
                      worker builds that job's request, wiped right after (minions_jobs.c) */
} ms_minions;

/* One job's state across its attempts. */
typedef struct ms_minions_job {
    struct ms_minions *m;
    size_t task, chunk; /* plan task index; chunk index in the split */
    ms_chat_msg msgs[4]; /* system (chunk: made and dropped around its request), user
                            (instruction), [assistant echo, user fix] */
    ms_buf echo, fix;
    ms_err err;          /* MS_OK: out holds the output */
    char *problem;       /* why it failed (heap, NUL-terminated): NULL until it fails */
    ms_job_output out;
    bool forwarded; /* its answer is in the results sent to the supervisor */
} ms_minions_job;

/* A round's jobs, counted. */
typedef struct ms_minions_stats {
    size_t total, ok, answered, failed, timed_out, parse_failed;
    size_t cut; /* failed: the worker's engine stopped at its token limit (not re-asked) */
    double seconds;
    uint64_t prompt_tokens, completion_tokens;
} ms_minions_stats;

/* --- minions_jobs.c ---------------------------------------------------------------------- */

/*
 * Run the accepted plan d (m->prep prepared by the check): its jobs, their re-asks, the
 * next user message (m->user) and the plan and jobs events. MS_OK: the round ran and the
 * run goes on; otherwise the run has FAILED (the result says why).
 */
MS_MUST_CHECK ms_err ms_minions_round(ms_minions *m, const ms_decision *d);

/* --- minions_results.c ------------------------------------------------------------------- */

/* A job whose reply was not the output JSON (re-asked, then counted as failed). */
bool ms_minions_parse_failure(ms_err e);

/*
 * A failed job's problem as the log may hold it. The reason for an unusable reply quotes
 * the worker's output (ms_extract_describe), which may be document text that never went to
 * the supervisor: only with log_context.
 */
const char *ms_minions_logged_problem(const ms_minions *m, const ms_minions_job *j);

/* The next user message into m->user: answers grouped by task in job order, within
   MS_MAX_PROTO_AGGREGATE; marks the jobs whose answers went up as forwarded. */
MS_MUST_CHECK ms_err ms_minions_aggregate(ms_minions *m, const ms_plan *p, ms_minions_job *jobs,
                                          const ms_minions_stats *st);

/* Events; a failure to build or write one fails the run. */
MS_MUST_CHECK ms_err ms_minions_event_plan(ms_minions *m, const ms_decision *d);
MS_MUST_CHECK ms_err ms_minions_event_jobs(ms_minions *m, const ms_plan *p,
                                           const ms_minions_job *jobs, const ms_minions_stats *st);
MS_MUST_CHECK ms_err ms_minions_event_retry(ms_minions *m, unsigned attempt, size_t jobs,
                                            const char *problem);

#endif

/* What Minion and Minions share: the supervisor conversation with re-asks, events, outcomes. */
#ifndef MS_PROTOCOLS_CONVO_H
#define MS_PROTOCOLS_CONVO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "protocols/plan.h"
#include "protocols/protocol.h"

/*
 * Internal to protocols/ (minion.c, minions.c). Single-threaded: one convo per run.
 *
 * The conversation sent to the supervisor is: the system message, then for each round the
 * user message and the supervisor's accepted reply (the JSON object only, so reasoning
 * blocks and prose do not pile up). A re-ask sends the conversation plus the unusable reply
 * (cut at MS_MAX_PROTO_ECHO) and a correction; neither stays in the conversation.
 * Every message's text is owned by the convo and wiped on free.
 */
#define MS_CONVO_MAX_MSGS (1u + 2u * MS_MAX_PROTO_ROUNDS + 2u)

/*
 * A check of a parsed decision that needs more than its JSON (Minions: the jobs a plan makes
 * on these documents). MS_OK to accept; MS_ERR_PLAN_REFUSED (or another plan or JSON error)
 * with why filled to re-ask; any other error ends the run.
 */
typedef ms_err (*ms_convo_check_fn)(void *ctx, ms_decision *d, char *why, size_t why_cap);

typedef struct ms_convo {
    const ms_proto_cfg *cfg;
    ms_proto_result *r;
    const char *protocol; /* "minion" / "minions": for messages */
    ms_chat_msg msgs[MS_CONVO_MAX_MSGS];
    size_t n;
    /*
     * Decisions the protocol no longer takes (MS_DECIDE_MASK bits, 0: none), set before the
     * last round's ms_convo_turn. A valid reply with one of them is re-asked like an unusable
     * one (a format_retry "asked again in the final round", counted against
     * max_format_retries), with a correction saying that only provide_final_answer or
     * cannot_answer will do now. After the last re-ask it is accepted as it is, and the
     * protocol ends the run (NO_ANSWER, saying so).
     */
    unsigned final_refuse;
    bool system_logged;
    double t0; /* monotonic seconds at the start of the run */
} ms_convo;

/* Check cfg (MS_ERR_ARG), reset *r, start the clock. */
MS_MUST_CHECK ms_err ms_convo_init(ms_convo *cv, const ms_proto_cfg *cfg, ms_proto_result *r,
                                   const char *protocol);
/* Wipes and frees every message. */
void ms_convo_free(ms_convo *cv);

/* Add the system message (copied). */
MS_MUST_CHECK ms_err ms_convo_system(ms_convo *cv, const ms_buf *text);

/*
 * One supervisor round: send the conversation plus `user`, parse the reply into *d (zeroed
 * on entry), re-ask up to cfg->max_format_retries times. MS_OK: *d holds an accepted
 * decision and the round is in the conversation. Otherwise the run has failed: the result is
 * already FAILED with err and why (and *d is empty).
 */
MS_MUST_CHECK ms_err ms_convo_turn(ms_convo *cv, unsigned round, const ms_buf *user,
                                   unsigned allowed, const ms_plan_caps *caps,
                                   ms_convo_check_fn check, void *check_ctx, ms_decision *d);

/* Is the worker engine there? If not, the run FAILED (worker_failed) and this returns the error. */
MS_MUST_CHECK ms_err ms_convo_worker_ping(ms_convo *cv);

/* End states. They set the result; they return e (FAILED) or MS_OK. */
MS_MUST_CHECK ms_err ms_convo_fail(ms_convo *cv, ms_err e, bool worker, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ms_convo_no_answer(ms_convo *cv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
MS_MUST_CHECK ms_err ms_convo_answer(ms_convo *cv, const char *answer, size_t len);

/* Write the "final" event (after any end state). */
MS_MUST_CHECK ms_err ms_convo_final(ms_convo *cv);

/* Progress callback, if any. */
void ms_convo_progress(ms_convo *cv, unsigned round, const char *phase, size_t done,
                       size_t total);

/* --- events ------------------------------------------------------------------------------- */

/* Whether events are written (cfg->sink.event set). */
bool ms_convo_logging(const ms_convo *cv);
/* Write one event to cfg->sink; on error the run FAILED ("the session log could not be
   written"). */
MS_MUST_CHECK ms_err ms_convo_emit(ms_convo *cv, const char *type, const ms_json_builder *b);
/* Fills an event's object. */
typedef ms_err (*ms_convo_fill_fn)(ms_json_wval root, const void *arg);
/* Build an event with fill(arg) and write it (nothing when not logging); a failure to build
   or write it fails the run. */
MS_MUST_CHECK ms_err ms_convo_event(ms_convo *cv, const char *type, ms_convo_fill_fn fill,
                                    const void *arg);
/* A text field cut at `cap` bytes (UTF-8 kept whole), with "<key>_truncated": true when cut. */
MS_MUST_CHECK ms_err ms_convo_add_text(ms_json_wval o, const char *key, const char *s, size_t n,
                                       size_t cap);
/* {"prompt_tokens": p, "completion_tokens": c} under key. */
MS_MUST_CHECK ms_err ms_convo_add_usage(ms_json_wval o, const char *key, uint64_t p, uint64_t c);


#endif

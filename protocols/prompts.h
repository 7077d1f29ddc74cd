/* Every prompt text of Minion and Minions in one place: what each model is told, and when. */
#ifndef MS_PROTOCOLS_PROMPTS_H
#define MS_PROTOCOLS_PROMPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocols/plan.h"

/*
 * Builders append UTF-8 text to `out` (MS_ERR_CAP_EXCEEDED over its cap, MS_ERR_NOMEM).
 * What goes where (docs/protocols.md, "What the supervisor sees"):
 *   supervisor prompts  the task, the doc metadata, the documents' size in bytes (Minions),
 *                       the worker's answers and job outputs, correction notes;
 *                       NEVER the context
 *   worker prompts      the context (Minion) or one chunk of it (Minions), the task, the
 *                       supervisor's question or a plan's instruction
 * Strings given with a length need not be NUL-terminated.
 */

/* --- Minion ------------------------------------------------------------------------------- */

/* The supervisor's system message; `extra` (may be NULL) is the user's --system_prompt. */
MS_MUST_CHECK ms_err ms_prompt_minion_system(const char *extra, ms_buf *out);

/* Round 1's user message: the task, what is known about the documents, the round line. */
MS_MUST_CHECK ms_err ms_prompt_minion_first(const char *task, const char *doc_metadata,
                                            unsigned round, unsigned max_rounds, ms_buf *out);

/*
 * A later round: the worker's answer (already capped at len of full_len bytes), the round
 * line. limit_cut: the worker's engine stopped at its token limit (docs/protocols.md), so
 * the answer is marked INCOMPLETE for the supervisor (and, when empty, said to have been cut
 * while the worker was still reasoning).
 */
MS_MUST_CHECK ms_err ms_prompt_minion_next(const char *answer, size_t len, size_t full_len,
                                           bool limit_cut, unsigned round, unsigned max_rounds,
                                           ms_buf *out);

/* The worker's system message: its role and the whole context. */
MS_MUST_CHECK ms_err ms_prompt_worker_system(const char *context, size_t len, ms_buf *out);

/* The worker's user message: the task (for background) and the supervisor's question. */
MS_MUST_CHECK ms_err ms_prompt_worker_question(const char *task, const char *question, size_t len,
                                               ms_buf *out);

/* --- Minions ------------------------------------------------------------------------------ */

/* The supervisor's system message, with the plan format and the caps in force. */
MS_MUST_CHECK ms_err ms_prompt_minions_system(const char *extra, const ms_plan_caps *caps,
                                              ms_buf *out);

/* Round 1's user message: task, metadata, the documents' length, the round line. */
MS_MUST_CHECK ms_err ms_prompt_minions_first(const char *task, const char *doc_metadata,
                                             size_t doc_len, unsigned round, unsigned max_rounds,
                                             ms_buf *out);

/* The head of a results message: what ran ("Results of round 2: ..."); of the failed jobs,
   timed_out timed out and cut stopped at the worker's token limit. */
MS_MUST_CHECK ms_err ms_prompt_minions_results_head(unsigned round, size_t jobs, size_t n_tasks,
                                                    size_t chunks, size_t answered, size_t failed,
                                                    size_t timed_out, size_t cut, ms_buf *out);

/* The tail of a results message: outputs left out for the size cap, then the round line. */
MS_MUST_CHECK ms_err ms_prompt_minions_results_tail(size_t omitted, unsigned round,
                                                    unsigned max_rounds, ms_buf *out);

/* A Minions job's system message: its rules, the output form and one chunk of the context. */
MS_MUST_CHECK ms_err ms_prompt_job_system(const char *chunk, size_t len, size_t index,
                                          size_t count, unsigned page, ms_buf *out);

/* A job's user message: the task's id and instruction. */
MS_MUST_CHECK ms_err ms_prompt_job_instruction(const ms_plan_task *t, ms_buf *out);

/* --- corrections ---------------------------------------------------------------------------- */

/* After an unusable supervisor reply: what was wrong (plan.c's reason) and what to send. */
MS_MUST_CHECK ms_err ms_prompt_correction(const char *problem, bool refused_plan, ms_buf *out);

/* In the last round, after a decision that asks for more (a question, a plan): only an
   answer or cannot_answer will do now. */
MS_MUST_CHECK ms_err ms_prompt_final_round_correction(ms_buf *out);

/* After an unusable job reply. */
MS_MUST_CHECK ms_err ms_prompt_job_correction(const char *problem, ms_buf *out);

/* The notes marking a cut text: "[... N more bytes not shown]". */
MS_MUST_CHECK ms_err ms_prompt_cut_note(size_t more, ms_buf *out);

#endif

/* The prompt texts of Minion and Minions (our own wording) and the builders that fill them in. */
#include "protocols/prompts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"

/* --- fixed texts ---------------------------------------------------------------------------- */

static const char MINION_SYSTEM[] =
    "You are the lead of a two-model team working on a user's task about private documents.\n"
    "You cannot see the documents. A smaller model on the user's machine, the worker, has\n"
    "read all of them and answers one question from you per round. The worker is reliable on\n"
    "facts it can find but weak at long reasoning: ask one focused, self-contained question\n"
    "at a time, name exactly what you need (names, dates, times, figures, quotes), and do the\n"
    "reasoning yourself.\n"
    "\n"
    "Reply to every message with exactly one JSON object and nothing else, in one of these\n"
    "forms:\n"
    "  {\"decision\": \"request_additional_info\", \"message\": \"<your question for the "
    "worker>\"}\n"
    "  {\"decision\": \"provide_final_answer\", \"answer\": \"<the complete answer for the "
    "user>\"}\n"
    "  {\"decision\": \"cannot_answer\", \"reason\": \"<why the documents cannot answer the "
    "task>\"}\n"
    "Any of them may also carry \"reasoning\": \"<brief notes>\". No other fields.";

static const char MINIONS_SYSTEM_HEAD[] =
    "You are the lead of a team working on a user's task about private documents that you\n"
    "cannot see. On the user's machine a smaller model, the worker, runs many short jobs in\n"
    "parallel. The documents are cut into chunks; each job carries out one of your task\n"
    "instructions on one chunk and replies with an answer, the words it relied on (citation)\n"
    "and a short explanation, or with no answer when its chunk does not help. You receive\n"
    "the answers, then either answer the user or plan another round.\n"
    "\n"
    "Reply to every message with exactly one JSON object and nothing else, in one of these\n"
    "forms:\n"
    "  {\"decision\": \"run_plan\", \"plan\": PLAN}\n"
    "  {\"decision\": \"provide_final_answer\", \"answer\": \"<the complete answer for the "
    "user>\"}\n"
    "  {\"decision\": \"cannot_answer\", \"reason\": \"<why the documents cannot answer the "
    "task>\"}\n"
    "Any of them may also carry \"reasoning\": \"<brief notes>\". No other fields.\n"
    "\n"
    "PLAN is a JSON object:\n"
    "  {\"tasks\": [{\"id\": \"t1\", \"instruction\": \"<what to find in a chunk>\"}, ...],\n"
    "   \"chunking\": {\"method\": \"paragraphs\", \"size\": 4000},\n"
    "   \"retrieval\": {\"query\": \"<keywords>\", \"top_k\": 20}}\n"
    "tasks: ";

static const char MINIONS_SYSTEM_RULES[] =
    "  Each instruction must stand on its own: a job sees only its instruction and one chunk.\n"
    "chunking.method: \"fixed\" (windows of size bytes; \"overlap\": bytes shared with the\n"
    "  previous window, at most size/2, fixed only), \"paragraphs\" (paragraphs merged up to\n"
    "  size), \"pages\" (one page per chunk, long pages cut) or \"code\" (top-level functions\n"
    "  and classes merged up to size).\n";

static const char JOB_SYSTEM_HEAD[] =
    "You read one excerpt of a user's documents and carry out one instruction on it. Use only\n"
    "the excerpt. Reply with exactly one JSON object and nothing else:\n"
    "  {\"explanation\": \"<how the excerpt answers the instruction, briefly>\",\n"
    "   \"citation\": \"<the exact words of the excerpt you relied on>\" or null,\n"
    "   \"answer\": \"<your answer>\" or null}\n"
    "Give \"answer\": null when the excerpt holds nothing for the instruction.\n"
    "\n";

static const char WORKER_SYSTEM_HEAD[] =
    "You answer questions about the documents below, for a colleague who cannot read them.\n"
    "Use only these documents. Be precise and brief, and quote the exact words (names,\n"
    "times, figures) your answer rests on. If the documents do not say, reply that they do\n"
    "not, and do not guess.\n"
    "\n"
    "=== DOCUMENTS ===\n";

/* --- helpers -------------------------------------------------------------------------------- */

static ms_err put(ms_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static ms_err put(ms_buf *out, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ENSURE(n >= 0 && (size_t)n < sizeof tmp, MS_ERR_INTERNAL); /* fixed texts only */
    return ms_buf_append(out, tmp, (size_t)n);
}

static ms_err text(ms_buf *out, const char *s, size_t n)
{
    return n ? ms_buf_append(out, s, n) : MS_OK;
}

static ms_err round_line(unsigned round, unsigned max_rounds, bool minions, ms_buf *out)
{
    if (round >= max_rounds) {
        return put(out,
                   "This is round %u of %u, the last one: %s. Reply with \"provide_final_answer\", "
                   "or with \"cannot_answer\" if the task cannot be answered.",
                   round, max_rounds,
                   minions ? "no more jobs will run" : "the worker will not be asked again");
    }
    return put(out, "This is round %u of %u. Reply with %s, or with the final answer.", round,
               max_rounds, minions ? "a plan for the worker's jobs" : "a question for the worker");
}

static ms_err about_docs(const char *doc_metadata, ms_buf *out)
{
    TRY(ms_buf_append_str(out, "\n\nAbout the documents: "));
    if (doc_metadata && doc_metadata[0]) {
        return ms_buf_append_str(out, doc_metadata);
    }
    return ms_buf_append_str(out, "nothing is known beyond what the worker reports.");
}

/* --- Minion ----------------------------------------------------------------------------------- */

ms_err ms_prompt_minion_system(const char *extra, ms_buf *out)
{
    TRY(ms_buf_append_str(out, MINION_SYSTEM));
    if (extra && extra[0]) {
        TRY(ms_buf_append_str(out, "\n\nInstructions from the user:\n"));
        TRY(ms_buf_append_str(out, extra));
    }
    return MS_OK;
}

ms_err ms_prompt_minion_first(const char *task, const char *doc_metadata, unsigned round,
                              unsigned max_rounds, ms_buf *out)
{
    TRY(ms_buf_append_str(out, "Task: "));
    TRY(ms_buf_append_str(out, task));
    TRY(about_docs(doc_metadata, out));
    TRY(ms_buf_append_str(out, "\n\n"));
    return round_line(round, max_rounds, false, out);
}

ms_err ms_prompt_minion_next(const char *answer, size_t len, size_t full_len, bool limit_cut,
                             unsigned round, unsigned max_rounds, ms_buf *out)
{
    TRY(ms_buf_append_str(out, "The worker's answer:\n"));
    if (len == 0) {
        TRY(ms_buf_append_str(out, limit_cut ? "(the worker reached its token limit while still "
                                               "reasoning: it gave no answer)"
                                             : "(the worker gave no answer)"));
    }
    TRY(text(out, answer, len));
    if (full_len > len) {
        TRY(ms_prompt_cut_note(full_len - len, out));
    }
    if (limit_cut && len > 0) {
        TRY(ms_buf_append_str(out, "\n[INCOMPLETE: the worker reached its token limit and "
                                   "stopped mid-answer: the text above is a fragment, not its "
                                   "whole answer. Do not treat it as complete; ask a narrower "
                                   "question if you need the rest.]"));
    }
    TRY(ms_buf_append_str(out, "\n\n"));
    return round_line(round, max_rounds, false, out);
}

ms_err ms_prompt_worker_system(const char *context, size_t len, ms_buf *out)
{
    TRY(ms_buf_append_str(out, WORKER_SYSTEM_HEAD));
    TRY(text(out, context, len));
    return ms_buf_append_str(out, "\n=== END OF DOCUMENTS ===");
}

ms_err ms_prompt_worker_question(const char *task, const char *question, size_t len, ms_buf *out)
{
    TRY(ms_buf_append_str(out, "The overall task, for background: "));
    TRY(ms_buf_append_str(out, task));
    TRY(ms_buf_append_str(out, "\n\nQuestion: "));
    return text(out, question, len);
}

/* --- Minions ---------------------------------------------------------------------------------- */

ms_err ms_prompt_minions_system(const char *extra, const ms_plan_caps *caps, ms_buf *out)
{
    TRY(ms_buf_append_str(out, MINIONS_SYSTEM_HEAD));
    TRY(put(out,
            "1 to %zu tasks; ids of 1 to %u letters, digits, '_', '-' or '.', all different;\n"
            "  instructions of at most %u bytes.\n",
            caps->max_tasks, MS_PLAN_MAX_ID, MS_PLAN_MAX_INSTRUCTION));
    TRY(ms_buf_append_str(out, MINIONS_SYSTEM_RULES));
    TRY(put(out,
            "chunking.size: %u to %zu bytes.\n"
            "retrieval (optional; leave it out to use every chunk): only the top_k chunks (1 to\n"
            "  %zu) that best match the query's keywords (BM25) are used.\n"
            "A round runs one job per task and chunk used: at most %zu jobs. A plan over a limit\n"
            "is refused before anything runs, and you are told why. A plan is data: nothing in it\n"
            "is executed.",
            MS_MIN_CHUNK_SIZE, caps->max_chunk_size, caps->max_top_k, caps->max_jobs));
    if (extra && extra[0]) {
        TRY(ms_buf_append_str(out, "\n\nInstructions from the user:\n"));
        TRY(ms_buf_append_str(out, extra));
    }
    return MS_OK;
}

ms_err ms_prompt_minions_first(const char *task, const char *doc_metadata, size_t doc_len,
                               unsigned round, unsigned max_rounds, ms_buf *out)
{
    TRY(ms_buf_append_str(out, "Task: "));
    TRY(ms_buf_append_str(out, task));
    TRY(about_docs(doc_metadata, out));
    TRY(put(out, "\nThe documents are %zu bytes long in all.\n\n", doc_len));
    return round_line(round, max_rounds, true, out);
}

ms_err ms_prompt_minions_results_head(unsigned round, size_t jobs, size_t n_tasks, size_t chunks,
                                      size_t answered, size_t failed, size_t timed_out,
                                      size_t cut, ms_buf *out)
{
    TRY(put(out, "Results of round %u: %zu jobs ran (%zu tasks x %zu chunks); %zu gave an answer",
            round, jobs, n_tasks, chunks, answered));
    if (failed && cut) {
        TRY(put(out,
                "; %zu failed (%zu timed out, %zu cut off at the worker's token limit: their "
                "output was incomplete) and are not shown",
                failed, timed_out, cut));
    } else if (failed) {
        TRY(put(out, "; %zu failed (%zu timed out) and are not shown", failed, timed_out));
    }
    return ms_buf_append_str(out, ".\n");
}

ms_err ms_prompt_minions_results_tail(size_t omitted, unsigned round, unsigned max_rounds,
                                      ms_buf *out)
{
    if (omitted) {
        TRY(put(out, "\n[%zu more answers not shown: the results are capped at %u bytes]\n",
                omitted, MS_MAX_PROTO_AGGREGATE));
    }
    TRY(ms_buf_append_str(out, "\n"));
    return round_line(round, max_rounds, true, out);
}

ms_err ms_prompt_job_system(const char *chunk, size_t len, size_t index, size_t count,
                            unsigned page, ms_buf *out)
{
    TRY(ms_buf_append_str(out, JOB_SYSTEM_HEAD));
    if (page) {
        TRY(put(out, "=== EXCERPT %zu of %zu (page %u) ===\n", index + 1, count, page));
    } else {
        TRY(put(out, "=== EXCERPT %zu of %zu ===\n", index + 1, count));
    }
    TRY(text(out, chunk, len));
    return ms_buf_append_str(out, "\n=== END OF EXCERPT ===");
}

ms_err ms_prompt_job_instruction(const ms_plan_task *t, ms_buf *out)
{
    TRY(put(out, "Instruction (task %s): ", t->id));
    return text(out, t->instruction, t->instruction_len);
}

/* --- corrections ------------------------------------------------------------------------------ */

ms_err ms_prompt_correction(const char *problem, bool refused_plan, ms_buf *out)
{
    TRY(ms_buf_append_str(out, refused_plan ? "Your plan was refused before anything ran: "
                                            : "Your reply could not be used: "));
    TRY(ms_buf_append_str(out, problem));
    return ms_buf_append_str(
        out, refused_plan
                 ? "\nSend a plan within the limits, or a final answer, as one JSON object."
                 : "\nReply again with exactly one JSON object in one of the forms described, and "
                   "nothing else.");
}

ms_err ms_prompt_final_round_correction(ms_buf *out)
{
    return ms_buf_append_str(
        out, "This is the last round: nothing more will be asked or run for you, so more "
             "information cannot be requested now. Reply with \"provide_final_answer\" and "
             "your best answer from what you already have, or with \"cannot_answer\" and the "
             "reason, as one JSON object and nothing else.");
}

ms_err ms_prompt_job_correction(const char *problem, ms_buf *out)
{
    TRY(ms_buf_append_str(out, "Your reply could not be used: "));
    TRY(ms_buf_append_str(out, problem));
    return ms_buf_append_str(out, "\nReply with only the JSON object {\"explanation\": ..., "
                                  "\"citation\": ..., \"answer\": ...}.");
}

ms_err ms_prompt_cut_note(size_t more, ms_buf *out)
{
    return put(out, " [... %zu more bytes not shown]", more);
}

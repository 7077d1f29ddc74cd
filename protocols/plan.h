/* Untrusted model replies made typed and capped: supervisor decisions, plans, job outputs. */
#ifndef MS_PROTOCOLS_PLAN_H
#define MS_PROTOCOLS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/json.h"
#include "common/limits.h"
#include "protocols/chunk.h"
#include "protocols/extract.h"
#include "protocols/protocol.h"

/*
 * Everything here is a pure function of its input bytes (no I/O, nothing executed): the
 * supervisor's plan is data, and this file is the only place that reads it. docs/protocols.md
 * gives the JSON forms; the caps come from ms_plan_caps (defaults in common/limits.h).
 *
 * Error vocabulary (returned, with a one-line reason for a person and for the re-ask):
 *   MS_ERR_MODEL_OUTPUT   no usable JSON object in the reply (ms_extract_json said why)
 *   MS_ERR_JSON_MISSING / _TYPE / _TOO_LONG / _ENUM / _RANGE
 *                         a field is missing, mistyped, too long, not an allowed value, or
 *                         a number out of range (the reason names the field: "plan.tasks[2].id")
 *   MS_ERR_PLAN_INVALID   an unknown field, a duplicate task id, an empty text, a bad id,
 *                         overlap with a method other than "fixed", overlap over size/2,
 *                         size under MS_MIN_CHUNK_SIZE, top_k of 0
 *   MS_ERR_PLAN_REFUSED   over a cap: tasks, chunk size, top_k, jobs, chunks, round bytes
 *   MS_ERR_ARG, MS_ERR_NOMEM
 * Reasons quote field names and numbers, and previews of the reply itself (ms_extract_describe),
 * never the documents: the reasons go back to the supervisor.
 */

#define MS_PLAN_WHY_MAX (MS_EXTRACT_DESCRIBE_MAX + 256u)

/* Caps with every zero replaced by its default. MS_ERR_ARG when a cap is over its hard limit
 * (MS_PLAN_HARD_TASKS, MS_PLAN_HARD_JOBS, MS_MAX_CHUNK_SIZE, MS_MAX_CHUNKS) or a chunk-size
 * cap is below MS_MIN_CHUNK_SIZE. */
MS_MUST_CHECK ms_err ms_plan_caps_resolve(const ms_plan_caps *in, ms_plan_caps *out);

typedef struct ms_plan_task {
    char id[MS_PLAN_MAX_ID + 1]; /* 1..MS_PLAN_MAX_ID of [A-Za-z0-9_.-], unique in its plan */
    char *instruction;           /* owned, NUL-terminated UTF-8, 1..MS_PLAN_MAX_INSTRUCTION bytes */
    size_t instruction_len;
} ms_plan_task;

/* A plan that passed every static check. Owned: release with ms_plan_free. */
typedef struct ms_plan {
    ms_plan_task *tasks;
    size_t n_tasks;           /* 1..caps.max_tasks */
    ms_chunk_params chunking; /* passes ms_chunk_params_check, size <= caps.max_chunk_size */
    bool retrieval;           /* BM25 retrieval asked for */
    char *query;              /* retrieval: owned, 1..MS_MAX_BM25_QUERY bytes; else NULL */
    size_t query_len;
    size_t top_k;             /* retrieval: 1..caps.max_top_k; else 0 */
} ms_plan;

void ms_plan_free(ms_plan *p); /* wipes; safe on a zeroed plan */

/*
 * Read the plan object `plan` (a view into a parsed reply). On success *out owns copies of
 * every string and the view's document may be freed. *out is zeroed on entry and after any
 * error. why (NUL-terminated) says what is wrong.
 */
MS_MUST_CHECK ms_err ms_plan_read(ms_json_val plan, const ms_plan_caps *caps, ms_plan *out,
                                  char *why, size_t why_cap);

/* The same from the text of a plan object (tests and the fuzzer). */
MS_MUST_CHECK ms_err ms_plan_parse(const char *json, size_t len, const ms_plan_caps *caps,
                                   ms_plan *out, char *why, size_t why_cap);

/*
 * Before any chunking: can the plan fit the jobs cap on documents of doc_len bytes? A chunk
 * holds at most `size` bytes and the chunks cover the text, so there are at least
 * ceil(doc_len / size) of them. Refused (MS_ERR_PLAN_REFUSED) when that lower bound is over
 * MS_MAX_CHUNKS, or, without retrieval, when tasks x that bound is over caps.max_jobs.
 */
MS_MUST_CHECK ms_err ms_plan_precheck(const ms_plan *p, size_t doc_len, const ms_plan_caps *caps,
                                      char *why, size_t why_cap);

/*
 * After chunking: jobs = tasks x used chunks (used = min(top_k, hits) with retrieval, else
 * every chunk) must be within caps.max_jobs, and prompt_bytes (what the jobs would send to
 * the worker) within MS_PLAN_MAX_ROUND_BYTES. *jobs is set even when refused. No overflow:
 * products are computed in 64 bits with checks.
 */
MS_MUST_CHECK ms_err ms_plan_check_jobs(const ms_plan *p, size_t used_chunks,
                                        uint64_t prompt_bytes, const ms_plan_caps *caps,
                                        uint64_t *jobs, char *why, size_t why_cap);

/* --- supervisor decisions ----------------------------------------------------------------- */

typedef enum ms_decision_kind {
    MS_DECISION_ASK = 0,       /* "request_additional_info": message (Minion) */
    MS_DECISION_FINAL = 1,     /* "provide_final_answer": answer */
    MS_DECISION_NO_ANSWER = 2, /* "cannot_answer": reason */
    MS_DECISION_PLAN = 3,      /* "run_plan": plan (Minions) */
    MS_DECISION_KIND_COUNT
} ms_decision_kind;

/* The names as they appear in "decision". */
extern const char *const ms_decision_names[MS_DECISION_KIND_COUNT];

#define MS_DECIDE_MASK(k) (1u << (k))

typedef struct ms_decision {
    ms_decision_kind kind;
    char *text;       /* ASK message, FINAL answer, NO_ANSWER reason: owned, NUL-terminated */
    size_t text_len;
    ms_plan plan;     /* PLAN only */
    char *json;       /* the decision object's exact bytes as extracted: owned */
    size_t json_len;
} ms_decision;

void ms_decision_free(ms_decision *d); /* wipes; safe on a zeroed decision */

/*
 * Parse a supervisor reply (model output: fences, prose and <think> blocks allowed around
 * one JSON object). The object holds "decision" (one of the names allowed by `allowed`, a
 * mask of MS_DECIDE_MASK bits: any other name is MS_ERR_JSON_ENUM), the one field that
 * decision needs ("message", "answer", "reason" or "plan": a string with non-blank text,
 * or the plan object), an optional "reasoning" string (or null), and nothing else. caps may
 * be NULL for the defaults. *out is zeroed on entry and after any error, except that
 * out->kind then says which decision the reply named (MS_DECISION_KIND_COUNT if none was
 * read), so a caller can tell a refused plan from another unusable reply; why as above.
 */
MS_MUST_CHECK ms_err ms_decision_parse(const char *text, size_t len, unsigned allowed,
                                       const ms_plan_caps *caps, ms_decision *out, char *why,
                                       size_t why_cap);

/* --- Minions job outputs ------------------------------------------------------------------- */

/*
 * A job's reply: one JSON object {"explanation": S, "citation": S|null, "answer": S|null}.
 * "answer" is required; "explanation" and "citation" may be absent; a null, empty or
 * whitespace-only answer means the chunk held nothing (has_answer false). Other keys are
 * ignored (small models add them; nothing of them is used). Strings longer than
 * MS_MAX_JSON_STRING are MS_ERR_JSON_TOO_LONG; the object over MS_MAX_JOB_OUTPUT is
 * MS_ERR_MODEL_OUTPUT. Strings are owned copies.
 */
typedef struct ms_job_output {
    bool has_answer;
    char *answer, *citation, *explanation; /* NULL when null or absent */
    size_t answer_len, citation_len, explanation_len;
} ms_job_output;

void ms_job_output_free(ms_job_output *o);

MS_MUST_CHECK ms_err ms_job_output_parse(const char *text, size_t len, ms_job_output *out,
                                         char *why, size_t why_cap);

/* Length of the longest prefix of s[0..len) that is at most max bytes and does not end
 * inside a UTF-8 sequence (invalid bytes count as single characters). */
size_t ms_utf8_prefix(const char *s, size_t len, size_t max);

#endif

/* llm-sim reply scripts: rules matched against a request's messages, first match wins. */
#ifndef MS_TOOLS_LLMSIM_SCRIPT_H
#define MS_TOOLS_LLMSIM_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tools/llm-sim/request.h"

/*
 * Script format (one JSON object; every key optional; unknown keys are errors, to catch
 * typos):
 *   {"rules": [RULE, ...],           at most LLMSIM_MAX_RULES
 *    "default": "text",              reply when no rule matches (else LLMSIM_DEFAULT_REPLY)
 *    "models": ["name", ...]}        extra names listed by /api/tags and /v1/models
 * RULE:
 *   "role":     "user" (default) | "system" | "assistant" | "tool" | "developer"
 *   "contains": "substring"          the message must contain it (byte-wise)
 *   "equals":   "text"               the message must be exactly this
 *   "reply":    "text"               what the model answers
 *   "status":   400..599             answer with this HTTP error instead ("reply", if any,
 *                                    is the error message)
 *   "delay_ms": 0..LLMSIM_MAX_DELAY_MS   extra latency before the first byte
 *   "stream_fail_after": N           streamed replies only: send N token events, then
 *                                    close the connection without the final event
 *   "finish_reason": "stop" | "length"   "length": the whole reply is sent, then said to
 *                                    be cut at the token limit (finish_reason / Ollama's
 *                                    done_reason "length"), as a request's max_tokens does
 *   "quirks": ["crlf", ...]          engine quirks in the reply (formats.h LLMSIM_Q_*)
 *   "retry_after": 0..86400          with "status": a Retry-After header (seconds)
 * A rule needs "reply" or "status". It is checked against the LAST message whose role is
 * the rule's role; with neither "contains" nor "equals" it matches whenever such a message
 * exists. Rules are tried in order; the first match wins.
 */
typedef struct llmsim_script llmsim_script;

/* What to answer to one request. text is borrowed from the script (or static). */
typedef struct llmsim_plan {
    const char *text;
    size_t len;
    unsigned status;          /* 0: a normal reply; else the HTTP error to send */
    uint32_t delay_ms;
    bool cut;                 /* stream_fail_after was given */
    uint32_t cut_after;
    bool length;              /* finish_reason "length" whatever the request's limit */
    uint32_t quirks;          /* LLMSIM_Q_* (formats.h) */
    uint32_t retry_after;     /* with status: Retry-After seconds, 0: no header */
    int rule;                 /* index of the matching rule, -1 for the default */
} llmsim_plan;

/*
 * Parse a script from (p, len). Errors: MS_ERR_CAP_EXCEEDED (over LLMSIM_MAX_SCRIPT),
 * MS_ERR_JSON_* (what is wrong, with the field in why), MS_ERR_NOMEM. why[0..why_cap)
 * receives a NUL-terminated explanation naming the rule and field, e.g.
 * `rules[2].status: a JSON number is outside the allowed range`. On success free *out with
 * llmsim_script_free. A parsed script is immutable: any number of threads may match at once.
 */
MS_MUST_CHECK ms_err llmsim_script_parse(const char *p, size_t len, llmsim_script **out,
                                         char *why, size_t why_cap);
void llmsim_script_free(llmsim_script *s);

/* The plan for msgs[0..n). s may be NULL (no script: the built-in default reply). */
void llmsim_script_match(const llmsim_script *s, const llmsim_msg *msgs, size_t n,
                         llmsim_plan *out);

/* Extra model names (borrowed, NUL-terminated); *n may be 0. s may be NULL. */
const char *const *llmsim_script_models(const llmsim_script *s, size_t *n);
size_t llmsim_script_rule_count(const llmsim_script *s);

#endif

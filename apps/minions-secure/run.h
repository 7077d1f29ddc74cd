/* Inside minions-secure run: its options, the stdin JSON mode and the session log. */
#ifndef MS_APPS_MINIONS_SECURE_RUN_H
#define MS_APPS_MINIONS_SECURE_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/llm/pool.h"
#include "protocols/context.h"
#include "protocols/protocol.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/session_log.h"

#define MS_RUN_PROG "minions-secure"
#define MS_RUN_HELP_PROG "minions-secure run" /* in "Try '... --help'" */
#define MS_RUN_MAX_CONTEXT_ARGS 256u  /* --context options (each may be a directory) */
#define MS_RUN_MAX_STDIN (MS_MAX_JSON_TEXT) /* bytes of the --stdin-json document */
#define MS_RUN_DEFAULT_ROUNDS 3
#define MS_RUN_DEFAULT_JOBS 4
#define MS_RUN_DEFAULT_OLLAMA_URL "http://127.0.0.1:11434"
#define MS_RUN_DEFAULT_OPENAI_URL "http://127.0.0.1:8000/v1"
#define MS_RUN_DEFAULT_MODEL "llama3.2"

/* The Trend Cybertron presets (docs/cybertron.md). */
#define MS_RUN_CYBERTRON_OLLAMA "llama-primus-merged:8b"
#define MS_RUN_CYBERTRON_HF "trendmicro-ailab/Llama-Primus-Merged"
#define MS_RUN_CYBERTRON_R_OLLAMA "llama-primus-reasoning:8b"
#define MS_RUN_CYBERTRON_R_HF "trendmicro-ailab/Llama-Primus-Reasoning"

typedef enum ms_run_proto { MS_RUN_MINION = 0, MS_RUN_MINIONS = 1 } ms_run_proto;

/* Everything `run` was asked to do. Strings are borrowed (argv, environment, stdin doc). */
typedef struct ms_run_opts {
    ms_cli_conn conn;
    const char *task, *system_prompt, *doc_metadata;
    const char *contexts[MS_RUN_MAX_CONTEXT_ARGS];
    size_t n_contexts;
    ms_run_proto protocol;
    int protocol_given;
    long max_rounds, jobs, num_ctx;
    int json, stdin_json, allow_remote_worker;
    ms_slog_opts logo; /* --log, --log-dir, --log-key, --log-context, --no-log */
    /* The worker, as given (flags, then MINIONS_LOCAL, then defaults) and as resolved. */
    const char *kind_arg, *model_arg, *url_arg, *api_key_arg;
    const char *model_from; /* "from --local_model", "from MINIONS_LOCAL", "the default", ... */
    const char *preset;     /* "cybertron: Trend Cybertron Llama-Primus-Merged 8B", or NULL */
    char local_kind[32];    /* MINIONS_LOCAL's provider: each run's own (serve runs many) */
    ms_llm_engine engine;
    /* --local-url given more than once, or as a list: every URL (url_arg is the first);
       --local-jobs: requests at once per engine. spread: what cmd_run hands the worker
       (n is 0 for one engine without --local-jobs). */
    char url_list[MS_MAX_LLM_ENGINES][512];
    size_t n_urls;
    long local_jobs;
    ms_llm_spread spread;
    double worker_temperature;
    long worker_max_tokens;
    char model_buf[256];
    char url_buf[512];
    /* --stdin-json: the document the strings above may point into, and its texts. */
    ms_json_doc *stdin_doc;
    const char *stdin_texts[MS_RUN_MAX_CONTEXT_ARGS];
    size_t stdin_text_lens[MS_RUN_MAX_CONTEXT_ARGS];
    size_t n_stdin_texts;
    /* The reference's request shapes (run_stdin.c): local_client.port and .timeout,
       remote_client.kwargs; prompted answers and documents (run_compat.c) live in compat. */
    char port_url[64];
    long worker_timeout_s;
    long remote_max_tokens;
    double remote_temperature;
    const char *remote_kind; /* remote_client.type when not "secure": said, never used */
    int log_dir_make;        /* protocol.log_dir: made (0700) when missing, as the reference */
} ms_run_opts;

void ms_run_opts_init(ms_run_opts *o);
void ms_run_opts_free(ms_run_opts *o);

/*
 * Parse argv (argv[0] is the command's name). 0: run; -1: --help or --version was printed;
 * else an exit status after saying on stderr which option is wrong. The worker is resolved
 * too (ms_run_resolve_worker). With --stdin-json the connection options may come from the
 * document, so their check waits for ms_run_stdin_read.
 */
int ms_run_parse(int argc, char **argv, ms_run_opts *o);

/*
 * Resolve the worker: kind and model from the flags, else MINIONS_LOCAL=provider/model,
 * else ollama/llama3.2; the presets (cybertron, cybertron-reasoning); the URL from
 * --local-url, else OLLAMA_HOST / OPENAI_BASE_URL, else the defaults; OPENAI_API_KEY for
 * openai. A worker that is not on a loopback address needs allow_remote_worker.
 * MS_CLI_OK or MS_CLI_USAGE (said on stderr).
 */
int ms_run_resolve_worker(ms_run_opts *o);

/*
 * --stdin-json: read one JSON object (at most MS_RUN_MAX_STDIN bytes) from fd and map it
 * onto o (flags given on the command line win). `why` gets the reason of a refusal (a
 * field's name, never its value). MS_CLI_OK or MS_CLI_USAGE.
 */
int ms_run_stdin_read(ms_run_opts *o, int fd, char *why, size_t why_cap);

/*
 * The same from a request held in memory (text, len: at most MS_MAX_JSON_TEXT bytes), as
 * serve's POST /v1/minions/runs receives it. extra_keys (NULL-terminated, may be NULL) are
 * top-level fields the caller reads itself (o->stdin_doc keeps the parsed request); any
 * other unknown field is refused as ms_run_stdin_read refuses it. MS_CLI_OK or MS_CLI_USAGE.
 */
int ms_run_stdin_parse(ms_run_opts *o, const char *text, size_t len,
                       const char *const *extra_keys, char *why, size_t why_cap);

/* The help text. */
extern const char ms_run_usage[];

/* --- output (run_out.c) ------------------------------------------------------------------- */

/* What a run came to, for --json and --stdin-json. */
typedef struct ms_run_report {
    const ms_run_opts *o;
    const ms_proto_result *res; /* NULL: it stopped before the protocol ran */
    int code;                   /* the exit status */
    const char *why;            /* code != 0: for a person (no document text in it) */
    const ms_client_peer *peer; /* what was verified, or NULL */
    const char *log_path;       /* the sealed session log, or NULL */
    const struct ms_run_tee *tee; /* the run's events for the reference's fields, or NULL */
    const struct ms_alog_report *log_check; /* the sealed log verified (serve), or NULL */
} ms_run_report;

/*
 * Print one JSON object and a newline on stdout. --json: {"ok", "outcome", "answer", "rounds",
 * ["jobs_run", "jobs_failed",] "usage": {"local", "remote"}, "session", "evidence", "log",
 * "why", "exit_code"}. --stdin-json (stdin_shape): {"success", "result": {"outcome",
 * "final_answer", ...the same...} or null, "error", "exit_code"}. Returns r->code (or
 * MS_CLI_TURN if the JSON could not be printed).
 */
int ms_run_print_json(const ms_run_report *r, int stdin_shape);
/* The same object, appended to out (no newline); out's cap gives MS_ERR_CAP_EXCEEDED. */
MS_MUST_CHECK ms_err ms_run_json(const ms_run_report *r, int stdin_shape, ms_buf *out);

/* The answer on stdout, newline-ended; on a terminal through ms_text_tty (controls, C1, bidi
   and invalid UTF-8 shown as escapes), to a pipe or file byte for byte. */
void ms_run_print_answer(const char *p, size_t n);

/* The progress line: "round 2/5 · jobs 120/200" on stderr, only when it is a terminal. */
typedef struct ms_run_progress_state {
    int tty, shown;
} ms_run_progress_state;
void ms_run_progress(void *ctx, const ms_progress *p);
void ms_run_progress_end(ms_run_progress_state *s);

/* --- the session log (run_log.c; the log itself is apps/minions-secure/session_log.h's) ------- */

/*
 * The `task` event: protocol, task, doc_metadata, system_prompt, the context's summary and
 * SHA-256, the documents' names, kinds and sizes, the worker (kind, model, base_url),
 * max_rounds, jobs; with --log-context, then each document's text as `context` events.
 * MS_OK and nothing written when logging is off.
 */
MS_MUST_CHECK ms_err ms_run_log_task(ms_slog *s, const ms_run_opts *o, const ms_context *ctx,
                                     const char *joined, size_t joined_len);

#endif

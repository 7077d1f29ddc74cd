/* serve's Minions API (POST /v1/minions/runs): one run from the reference's request shape. */
#ifndef MS_APPS_MINIONS_SECURE_RUN_API_H
#define MS_APPS_MINIONS_SECURE_RUN_API_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/limits.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/run_exec.h"
#include "apps/minions-secure/session_log.h"

/*
 * What the operator set when starting serve. The request is the one `run --stdin-json`
 * takes (run_stdin.c, docs/client.md), plus two fields of this API:
 *   "stream": true    progress as events (ms_run_api_event_fn), the result as the last;
 *   "uploads": [{"name": "report.pdf", "data": BASE64} | {"name": "notes.md", "text": T}]
 *                     documents sent with the request, kept in memory only (never written
 *                     to disk); a PDF (by its name's extension) is read through poppler.
 * call_params.context (text) works as in run; call_params.context_paths only under a
 * --context-root folder (realpath containment: a path, or a symbolic link on the way,
 * that leads out of every root is refused). The request may not choose the supervisor,
 * its pin, policy or CA (remote_client: absent, or equal to the operator's), nor
 * protocol.log_dir: those stay the operator's. Each run opens its own attested session
 * (a handshake with every check) and writes its own session log, sealed and verified.
 */
typedef struct ms_run_api_cfg {
    const ms_cli_conn *conn; /* the operator's options: url, pin_file, policy_file, cacert,
                                allow_http, allow_tls_proxy, strict, timeout_s, identity */
    const char *roots[MS_SERVE_MAX_CONTEXT_ROOTS]; /* --context-root, as given */
    size_t n_roots;
    ms_slog_opts logo; /* where session logs go; no_signal_guard is set for each run */
    /* The worker when the request's local_client names none (NULL: run's defaults). */
    const char *worker_kind, *worker_model, *worker_url;
} ms_run_api_cfg;

/* Called on the run's thread: event is "documents", "progress" or "result"; data is one
   JSON object of len bytes (not NUL-terminated). */
typedef void (*ms_run_api_event_fn)(void *ctx, const char *event, const char *data, size_t len);

typedef struct ms_run_api_reply {
    int code;        /* the run's exit status (report.h's MS_CLI_*) */
    int http_status; /* 200 (an answer, or no answer after the last round), 400 (the request),
                        502 (the supervisor, its engine or its verification), 503 (the worker) */
    bool streamed;   /* the request asked "stream": true: the events went to the function */
    ms_buf body;     /* {"success", "result", "error", "exit_code"}: run --stdin-json's */
} ms_run_api_reply;

void ms_run_api_reply_init(ms_run_api_reply *out);
void ms_run_api_reply_free(ms_run_api_reply *out);

/*
 * Parse the request into r (ms_run_init'ed by the caller): options, the operator's
 * connection, the documents (text, paths under the roots, uploads) into r->ctx. Reads
 * files under the roots; no network. MS_CLI_OK, or MS_CLI_USAGE with the reason in why.
 * *stream is set from the request's "stream" (false when it could not be read).
 */
int ms_run_api_parse(const ms_run_api_cfg *cfg, const char *body, size_t len, ms_run *r,
                     bool *stream, char *why, size_t why_cap);

/*
 * The whole request: parse, run (ms_run_exec), reply. ev may be NULL (then nothing is
 * streamed whatever the request says). Safe to call from several threads at once (the
 * documents are read one request at a time: poppler is not thread-safe). Returns out->code.
 */
int ms_run_api_run(const ms_run_api_cfg *cfg, const char *body, size_t len,
                   ms_run_api_event_fn ev, void *ev_ctx, ms_run_api_reply *out);

/*
 * POST /v1/minions/documents: one upload ({"name", "data"} or {"name", "text"}, as in
 * "uploads") read in memory; {"name", "kind", "pages", "text"} appended to out, or an
 * OpenAI-style error object. Returns the HTTP status (200, 400; 500 when out is full).
 */
int ms_run_api_extract(const char *body, size_t len, ms_buf *out);

/*
 * A context path of a request: its real path (every symbolic link resolved) into out,
 * when it is inside one of the roots (relative paths are taken under the first root).
 * MS_ERR_SERVE_NO_CONTEXT_ROOT, MS_ERR_SERVE_CONTEXT_ROOT (outside, or missing: the two
 * look the same), MS_ERR_ARG.
 */
MS_MUST_CHECK ms_err ms_run_api_resolve(const ms_run_api_cfg *cfg, const char *path,
                                        char out[static PATH_MAX]);

#endif

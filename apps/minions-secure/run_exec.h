/* One run of Minion or Minions, as `run` does it: for the command and for serve's Minions API. */
#ifndef MS_APPS_MINIONS_SECURE_RUN_EXEC_H
#define MS_APPS_MINIONS_SECURE_RUN_EXEC_H

#include <stdbool.h>

#include "common/buf.h"
#include "apps/minions-secure/run.h"
#include "apps/minions-secure/run_compat.h"

/*
 * A run's state. ms_run_init, then fill o (ms_run_parse, ms_run_stdin_read or
 * ms_run_stdin_parse), optionally add documents to ctx (serve's uploads: they come before
 * o's paths and texts), then ms_run_exec, then ms_run_free. Large (paths, buffers): keep it
 * off the stack. One thread per run; runs in parallel need no_signal_guard in o.logo.
 */
typedef struct ms_run {
    ms_run_opts o;
    ms_context ctx;
    const char *text; /* the documents joined for the worker: ctx's buffer (in place), or "" */
    size_t text_len;
    ms_slog log;
    ms_proto_result res;
    int ran;
    ms_run_tee tee;           /* the reference's *_messages fields (run_compat.h) */
    ms_run_prompted prompted; /* the task and documents typed at the prompts */
    char why[1024];
    char summary[256];
    /* Set by a caller other than the command (all may stay zero): */
    ms_buf *json_out;        /* the --stdin-json answer goes here, not to standard output */
    ms_progress_fn progress; /* NULL: the progress line on a terminal */
    void *progress_ctx;
    bool verify_log;         /* after sealing, verify the log against its key (log_check) */
    ms_alog_report log_check;
    bool log_checked;
} ms_run;

void ms_run_init(ms_run *r);
void ms_run_free(ms_run *r);

/*
 * After parsing: the defaults and what must be there, the documents, the worker's ping,
 * the session log and the supervisor's handshake, the protocol, the outcome. Returns the
 * exit status (report.h's MS_CLI_*); in the JSON modes the answer object was printed (or
 * appended to json_out). Messages for a person go to standard error, as `run` says them.
 */
int ms_run_exec(ms_run *r);

/* A run that stops before ms_run_exec (a bad request): its JSON answer (in the JSON modes)
   says why; nothing is said on standard error. Returns code. */
int ms_run_refuse(ms_run *r, int code, const char *why);

#endif

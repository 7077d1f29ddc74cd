/* minions-secure run: the reference's habits (its result fields, its prompts, its CLI line). */
#ifndef MS_APPS_MINIONS_SECURE_RUN_COMPAT_H
#define MS_APPS_MINIONS_SECURE_RUN_COMPAT_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/json.h"
#include "protocols/protocol.h"
#include "apps/minions-secure/run.h"

/*
 * What the reference's result has and ours words otherwise: the supervisor's and the
 * worker's messages. A tee in front of the session log's sink keeps the supervisor_turn,
 * worker_turn and jobs events (as printed JSON lines, at most MS_COMPAT_MAX_MESSAGES bytes;
 * later ones are dropped and `truncated` set), whether or not a log is written.
 */
typedef struct ms_run_tee {
    ms_proto_sink next; /* the session log's (its event may be NULL: no log) */
    ms_buf lines;       /* one JSON object per line: {"type": T, "data": {...}} */
    bool truncated;
} ms_run_tee;

void ms_run_tee_init(ms_run_tee *t, ms_proto_sink next);
void ms_run_tee_free(ms_run_tee *t);
/* The sink to give the protocol: every event goes to next, the three kinds are kept too. */
ms_proto_sink ms_run_tee_sink(ms_run_tee *t);

/*
 * Add the reference's fields to a --stdin-json result object: supervisor_messages and
 * worker_messages ([{"role", "content"}]), remote_usage and local_usage
 * ({"prompt_tokens", "completion_tokens", "total_tokens"}), log_file (or null) and timing
 * ({"local_call_time", "remote_call_time", "total_time"}, seconds). tee may be NULL.
 */
MS_MUST_CHECK ms_err ms_run_add_reference(ms_json_wval res, const ms_proto_result *r,
                                          const ms_run_tee *tee, const char *log_path);

/*
 * The reference's secure CLI line without --task: on a terminal (standard input and error),
 * ask for the task, the documents (a path per line, an empty line ends) and an attachment
 * (a file, or nothing), with libedit's line editing; a line that is exactly `exit` (or the
 * end of input) quits. Owned answers go into `keep` (freed by ms_run_prompted_free).
 * Returns MS_CLI_OK (o filled), -1 when the user quit, or MS_CLI_USAGE.
 */
typedef struct ms_run_prompted {
    ms_buf task;
    ms_buf paths; /* NUL-separated */
} ms_run_prompted;

void ms_run_prompted_init(ms_run_prompted *k);
void ms_run_prompted_free(ms_run_prompted *k);
int ms_run_prompt(ms_run_opts *o, ms_run_prompted *k);

/* 1 when argv holds an option only `run` takes (--local_client_type, --max_rounds, ...):
   the reference's CLI line, which names no subcommand. */
int ms_run_wants(int argc, char **argv);

/*
 * What the reference's command lines leave out, from the environment (flags win): the
 * supervisor's pin MINIONS_TRUSTED_ATTESTATION_PEM or policy MINIONS_ATTESTATION_POLICY,
 * and MINIONS_CACERT. Each one used is said on standard error.
 */
void ms_cli_conn_from_env(ms_cli_conn *c, const char *prog);

#endif

/* The audit log of one minions-secure session: options, where it goes, and the "session" event. */
#ifndef MS_APPS_MINIONS_SECURE_SESSION_LOG_H
#define MS_APPS_MINIONS_SECURE_SESSION_LOG_H

#include <limits.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/json.h"
#include "protocols/protocol.h"
#include "secure/audit/alog.h"
#include "apps/minions-secure/cli.h"

/*
 * Every subcommand that keeps a session log (chat; run may reuse it) takes these options,
 * spelled the same, and documents them with MS_SLOG_HELP. Usage:
 *   ms_slog_opts lo = {0}; put MS_SLOG_OPTIONS in the subcommand's own option table;
 *   ms_slog_apply(&lo, c, optarg) for each getopt result (1 taken, 0 bad value, -1 not one);
 *   ms_slog_open(&log, &lo, "chat", prog) before connecting (a log that cannot be written
 *   stops the session before anything is sent);
 *   ms_slog_session(...) after each handshake; ms_slog_event(...) for the subcommand's own;
 *   ms_slog_close(&log, prog) at the end (seals it: docs/logs.md).
 * The log format and its verification are secure/audit/alog.h's. Not thread-safe.
 */
typedef struct ms_slog_opts {
    const char *file;     /* --log FILE: exactly this new file */
    const char *dir;      /* --log-dir DIR: a new file there */
    const char *key_file; /* --log-key FILE: the log key (default ms_alog_default_key_path) */
    int context;          /* --log-context: documents and images go into the log too */
    int off;              /* --no-log */
    /* --log-checkpoint-events N, --log-checkpoint-secs S (docs/logs.md "Checkpoints");
       *_set: given, else MS_ALOG_CHECKPOINT_EVENTS / _S */
    long ck_events, ck_secs;
    int ck_events_set, ck_secs_set;
    /* A process that runs many logs at once (serve's Minions API) seals each at its end and
       handles SIGINT/SIGTERM itself: no guard (ms_slog_guard_start is one per process). */
    int no_signal_guard;
} ms_slog_opts;

/* Option values (getopt_long) of the log options: between the connection options and a
 * subcommand's own (cli.h). */
#define MS_SLOG_OPT_BASE 448
#define MS_SLOG_OPTIONS                                                                         \
    {"log", 1, 0, MS_SLOG_OPT_BASE}, {"log-dir", 1, 0, MS_SLOG_OPT_BASE + 1},                   \
        {"log-key", 1, 0, MS_SLOG_OPT_BASE + 2}, {"log-context", 0, 0, MS_SLOG_OPT_BASE + 3},   \
        {"no-log", 0, 0, MS_SLOG_OPT_BASE + 4},                                                 \
        {"log-checkpoint-events", 1, 0, MS_SLOG_OPT_BASE + 5},                                  \
        {"log-checkpoint-secs", 1, 0, MS_SLOG_OPT_BASE + 6}

#define MS_SLOG_HELP                                                                            \
    "Session log (an append-only, hash-chained file sealed by the log key;\n"                   \
    "docs/logs.md):\n"                                                                          \
    "  --log FILE                   write the log to FILE (must not exist)\n"                   \
    "  --log-dir DIR                a new file in DIR (default\n"                               \
    "                               $XDG_STATE_HOME/minions-secure/logs, else\n"                \
    "                               ~/.local/state/minions-secure/logs)\n"                      \
    "  --log-key FILE               the log key (default $MINIONS_LOG_KEY, else\n"              \
    "                               ~/.config/minions-secure/log-key; created 0600 on\n"        \
    "                               first use)\n"                                               \
    "  --log-context                also log attached documents' text and images\n"             \
    "                               (off: only their names and sizes)\n"                        \
    "  --no-log                     keep no session log\n"                                     \
    "  --log-checkpoint-events N    sign a checkpoint into the log after N lines\n"             \
    "                               (default 64; 0: not by count), so that a crash or\n"     \
    "                               a kill leaves a log that verifies up to it\n"              \
    "  --log-checkpoint-secs S      ... and S seconds after a line (default 5; 0: not\n"       \
    "                               by time). Ctrl-C (SIGINT) or SIGTERM seals the\n"          \
    "                               log, then ends the program as that signal does\n"         \
    "                               (status 130, 143)\n"

/* 1: taken; 0: a log option with a bad value; -1: not a log option. */
int ms_slog_apply(ms_slog_opts *o, int opt, const char *arg);

struct ms_slog_guard;

typedef struct ms_slog {
    ms_alog *log; /* NULL with --no-log */
    bool context;
    char path[PATH_MAX];
    struct ms_slog_guard *guard; /* SIGINT/SIGTERM seal the log (session_log_signals.c) */
} ms_slog;

/*
 * Load (or create) the log key and create the log (O_EXCL, 0600; the default directory is
 * created 0700). The file name in a directory is KIND-YYYYMMDDTHHMMSSZ-RANDOM.ndjson. On
 * failure the reason is on stderr (prog: ...) and the error returned; s is then closed.
 */
MS_MUST_CHECK ms_err ms_slog_open(ms_slog *s, const ms_slog_opts *o, const char *kind,
                                  const char *prog);

/*
 * The "session" event: what the handshake proved (docs/logs.md, events-client): the
 * supervisor URL, session id, evidence type, mode, expiry and SHA-256, the transcript hash,
 * how TLS was bound, the dev-key fingerprint, the policy, a sentence of what was proved,
 * and the handshake's seconds. `failure` != MS_OK: the handshake failed (proved false,
 * "error": its name); p may then be NULL.
 */
MS_MUST_CHECK ms_err ms_slog_session(ms_slog *s, const ms_cli_conn *c, const ms_client_peer *p,
                                     double handshake_s, ms_err failure);

/* Append an event; MS_OK and nothing written when logging is off. */
MS_MUST_CHECK ms_err ms_slog_event(ms_slog *s, const char *type, const ms_json_builder *data);

/*
 * The event sink a protocol run writes to (protocols/protocol.h): each event goes through
 * ms_slog_event, so a run's events are lines of this log like any other. With logging off
 * the sink has no event function and the run builds no events. s is borrowed: it must
 * outlive the run.
 */
ms_proto_sink ms_slog_sink(ms_slog *s);

/*
 * SIGINT and SIGTERM while the log is open (ms_slog_open starts this, ms_slog_close ends
 * it): the handler only writes the signal's number to a pipe; a thread of ours reads it,
 * seals the log (ms_alog_seal: the log's lock orders it after an event being written, and
 * the log refuses every later one), says so on stderr and ends the process by the same
 * signal with its default action (a shell sees status 128 + the signal). The log has the
 * checkpoints of o (ms_alog_set_checkpoints). One guard per process: MS_ERR_STATE for a
 * second; MS_ERR_ALOG_SIGNALS when the pipe, the handlers or the thread cannot be set up.
 */
MS_MUST_CHECK ms_err ms_slog_guard_start(ms_slog *s, const char *prog);
/* Stop watching (the handlers are put back as they were). The log itself is untouched. */
void ms_slog_guard_stop(ms_slog *s);

/*
 * Seal and close. Says on stderr where the log is (unless quiet), or why it could not be
 * sealed. MS_OK when logging was off.
 */
MS_MUST_CHECK ms_err ms_slog_close(ms_slog *s, const char *prog, bool quiet);


#endif

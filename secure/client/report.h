/* What a client tells a person or a script about a session and a turn (minions-secure output). */
#ifndef MS_SECURE_CLIENT_REPORT_H
#define MS_SECURE_CLIENT_REPORT_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/client/client.h"

#define MS_CLIENT_DESCRIBE_LEN 512u

/*
 * One line, no newline: "verified: dev-key evidence (FAST, valid until 2026-11-21 06:40:00
 * UTC) from pinned key sha256:...; TLS key pinned (sha256:...); session 1a2b3c4d".
 * Truncated to fit `cap` (always NUL-terminated). An unconnected peer gives "not connected".
 */
void ms_client_describe(const ms_client_peer *p, char *out, size_t cap);

/* "FAST" / "STRICT"; "pinned" / "proxy" / "none"; "dev-key" / "0x0002"-style for others. */
const char *ms_client_mode_name(uint8_t mode);
const char *ms_client_tls_name(ms_client_tls tls);

/* The outcome of one turn, for --json. Strings need not be NUL-terminated where a length is given.
 */
typedef struct ms_client_outcome {
    int ok;
    const char *content; /* the whole answer (ok); !ok: the fragment of a truncated reply */
    size_t content_len;
    const char *finish_reason; /* ok, or truncated */
    int truncated; /* !ok: the engine stopped at its token limit; content is the fragment */
    uint64_t prompt_tokens, completion_tokens;
    const char *error_code;    /* !ok: the supervisor's code, or an MS_ERR_* name */
    const char *error_message; /* !ok: printable ASCII */
    int exit_code;
} ms_client_outcome;

/*
 * Append one JSON object to out: {"ok", "content", "finish_reason", "usage", "session",
 * "evidence": {...}, "rehandshakes"} or, on failure, {"ok": false, "error": {"code",
 * "message"}, "exit_code", ...}; "session" and "evidence" only when the peer was verified.
 * A truncated reply is a failure that keeps its text: {"ok": false, "error": {"code":
 * "truncated", ...}, "partial_content", "finish_reason": "length", "usage", "exit_code"}
 * (never "content": a script reading it gets no fragment as an answer).
 * MS_ERR_ARG when the content is not UTF-8.
 */
MS_MUST_CHECK ms_err ms_client_outcome_json(const ms_client_peer *p, const ms_client_outcome *o,
                                            ms_buf *out);

/* minions-secure's exit statuses (its --help documents them). */
enum {
    MS_CLI_OK = 0,     /* the reply is complete */
    MS_CLI_USAGE = 2,  /* bad options or files; http:// refused before connecting */
    MS_CLI_NET = 3,    /* cannot reach the supervisor, TLS or TLS pin failed, busy */
    MS_CLI_VERIFY = 4, /* handshake or evidence failed: nothing was sent */
    MS_CLI_TURN = 5,   /* the supervisor or its engine failed the turn */
    MS_CLI_CUT = 6,    /* a streamed reply was cut: the text shown is incomplete */
    MS_CLI_LOCAL = 7,  /* the local model engine (the worker) failed or cannot be reached */
    MS_CLI_NO_ANSWER = 8, /* a protocol run ended without a final answer (explicit outcome) */
    MS_CLI_LIMIT = 9,  /* a model stopped at its token limit: the text shown is incomplete */
};

/*
 * The exit status for an error. `connecting`: it came from ms_client_connect, before any
 * turn (then every failure that is not usage or transport is a verification failure).
 * A caller that already showed streamed text of a failed turn uses MS_CLI_CUT instead.
 * MS_ERR_BACKEND_CUT (a reply cut at a model's token limit) is MS_CLI_LIMIT.
 */
int ms_client_exit_code(ms_err e, int connecting);
/* What a person can do about an error: " (...)" naming the flag to check, or "". */
const char *ms_client_hint(ms_err e);

#endif

/* The supervisor's own audit log of sessions (docs/logs.md, events-supervisor): never content. */
#ifndef MS_SECURE_SUPERVISOR_AUDIT_H
#define MS_SECURE_SUPERVISOR_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/attest/devkey.h"
#include "secure/supervisor/sessions.h"

/*
 * One log per supervisor start, written through secure/audit/alog.h: log_start (what this
 * supervisor is), one session_end per session that ended, supervisor_stop, the seal. What
 * it holds: ids, fingerprints, digests, counts, sizes and times. Never a request, a reply,
 * a key or the engine's credentials.
 *
 * Which sessions get a session_end: every session that completed its handshake (a verified
 * ClientFinish), and every pending one dropped after its ClientFinish verified but its key
 * was no longer allowed ("evicted"); a ClientFinish that fails changes nothing.
 * A handshake that is never finished costs no line (anyone can start handshakes); they are
 * counted in supervisor_stop's handshakes_unfinished.
 *
 * Thread-safe: ms_sup_audit_session_end may run in any number of threads at once.
 */
typedef struct ms_sup_audit ms_sup_audit;

#define MS_SUP_AUDIT_KEY_NAME "minions-supervisor-log-key" /* the default key's file name */

typedef struct ms_sup_audit_cfg {
    const char *path;        /* a new file (never overwritten), or an existing directory */
    const char *key_path;    /* the log key, created 0600 (and .pub) on first use */
    const char *listen;      /* as given to --listen */
    const char *evidence;    /* the evidence type's name, e.g. "tpm2-quote" */
    const char *backend_url; /* logged without user:password@, query or fragment */
    int development;         /* dev-key evidence */
    /* checkpoints (ms_alog_set_checkpoints): every N lines / S seconds; 0 and 0: none */
    uint32_t checkpoint_events, checkpoint_s;
} ms_sup_audit_cfg;

/* Which part ms_sup_audit_open failed on. */
enum ms_sup_audit_part { MS_SUP_AUDIT_PART_LOG = 0, MS_SUP_AUDIT_PART_KEY = 1 };

/*
 * Load (or create) the key and start the log. With `path` an existing directory the file is
 * DIR/supervisor-YYYYMMDDTHHMMSSZ-RANDOM.ndjson. On error *part says what failed. LOG:
 * MS_ERR_CONFIG when `path` exists and is not a directory (an audit log is never reopened,
 * appended to or overwritten), MS_ERR_FILE_OPEN when it cannot be created. KEY: the errors
 * of ms_alog_key_load_or_create (a key file that is not the owner's alone, or malformed).
 */
MS_MUST_CHECK ms_err ms_sup_audit_open(ms_sup_audit **out, const ms_sup_audit_cfg *cfg,
                                       enum ms_sup_audit_part *part);
/* The log's file. */
const char *ms_sup_audit_path(const ms_sup_audit *a);
/* The log key's fingerprint ("sha256:..." as ms_devkey_fingerprint); 1 if it was just created. */
int ms_sup_audit_key(const ms_sup_audit *a, char fp[static MS_FINGERPRINT_LEN]);

/* The session table's ms_session_end_fn (ctx: the ms_sup_audit). */
void ms_sup_audit_session_end(void *ctx, const ms_session *s, uint64_t now_ms);

/*
 * client_refused: a client turned away by the allow-list (docs/logs.md), with its key's
 * fingerprint (pk NULL: it sent none), the error name and where ("handshake" or "finish").
 * allowed_clients: the allow-list in force after a load or reload (count, SHA-256 of the
 * file), or, when err is not MS_OK, a reload that failed (err's name, the line at fault) and
 * left the old list in force. NULL a is fine (no audit log). Thread-safe.
 */
void ms_sup_audit_client_refused(ms_sup_audit *a, const uint8_t *pk, ms_err why,
                                 const char *stage);
void ms_sup_audit_allowed_clients(ms_sup_audit *a, ms_err err, size_t line_no, size_t count,
                                  const uint8_t file_sha256[static 32]);

/*
 * supervisor_stop, then the seal (file and directory fsynced), then free. Call after every
 * session has ended (ms_sessions_free). NULL is fine. Returns the first error the log met:
 * then the log is left unsealed and a verifier calls it incomplete.
 */
MS_MUST_CHECK ms_err ms_sup_audit_close(ms_sup_audit *a);

/* The default key path: the --dev-key file's directory + MS_SUP_AUDIT_KEY_NAME. */
MS_MUST_CHECK ms_err ms_sup_audit_default_key(const char *dev_key_path, char *out, size_t cap);

/*
 * The engine URL as logged: scheme://host[:port][/path], without user:password@, query or
 * fragment (they may carry credentials); scheme:// and a note only when an '@' follows the
 * host (a password with an unescaped '/', '?' or '#'). MS_ERR_CAP_EXCEEDED when it does not fit `cap`,
 * MS_ERR_HTTP_URL without "://".
 */
MS_MUST_CHECK ms_err ms_sup_audit_url(const char *url, char *out, size_t cap);

#endif

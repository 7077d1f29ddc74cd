/* Audit logs: append-only, hash-chained NDJSON event logs sealed by an Ed25519 log key. */
#ifndef MS_SECURE_AUDIT_ALOG_H
#define MS_SECURE_AUDIT_ALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"

/*
 * Format (docs/logs.md is the normative description; verifying needs only it, the log and
 * the public half of the log key):
 *   - one JSON object per line, UTF-8, '\n'-terminated, no other whitespace rules needed:
 *     a line's hash is over its exact bytes (without the '\n');
 *   - every line: {"v":1,"seq":N,"ts":"2026-11-21T08:00:00.123Z","type":TYPE,
 *     "prev":HEX64,"data":{...}} in this key order; seq counts from 0; prev of line 0 is
 *     64 zeros, of line N the SHA-256 of line N-1's bytes;
 *   - line 0 has type "log_start": data {"kind": "minion"|"minions"|"chat"|"ask"|
 *     "supervisor", "log_id": 32 hex random, "key": "ed25519:" + hex public key,
 *     "program": "minions-secure 0.2.0", ...};
 *   - the last line has type "log_seal": data {"events": N (lines before it),
 *     "sig": hex Ed25519 signature by the log key over
 *     "minions-audit/1 seal" || log_id (16 bytes) || u64be(seq of the seal line) ||
 *     SHA-256 of the line before the seal || the seal line's ts (24 ASCII bytes)}
 *     and nothing follows it; the seal line is in exactly the writer's compact form, so
 *     every byte of a log is covered by the chain or by the signature.
 * A log without a seal (a crash, or a cut) is INCOMPLETE, never valid. A line that does not
 * hash to the next line's prev is TAMPERED at that line.
 *   - checkpoints: lines of type "log_checkpoint", in the seal's exact form with their own
 *     domain ("minions-audit/1 checkpoint"), each signing the chain up to it; a log cut
 *     after one is PARTIAL: valid up to that line, then incomplete (docs/logs.md).
 *
 * Writing is crash-safe: each event is one write(2) of a whole line to a file opened
 * O_APPEND|O_CREAT|O_EXCL (0600); each checkpoint and the seal are followed by fsync of the
 * file (and, the first time and at the seal, of its directory). Events are small
 * (MS_ALOG_MAX_LINE); a writer never holds more than one line.
 */

#define MS_ALOG_MAX_LINE (4u * 1024u * 1024u) /* bytes of one line (one event) */
#define MS_ALOG_MAX_EVENTS 1000000u           /* lines of one log */
#define MS_ALOG_MAX_FILE (512u * 1024u * 1024u) /* bytes of one log a verifier reads */
#define MS_ALOG_PK_LEN 32u
#define MS_ALOG_SK_LEN 64u  /* libsodium's Ed25519 secret key (seed || pk) */

/* The per-installation log key. */
typedef struct ms_alog_key {
    uint8_t pk[MS_ALOG_PK_LEN];
    uint8_t sk[MS_ALOG_SK_LEN]; /* wiped by ms_alog_key_wipe */
} ms_alog_key;

/*
 * Load the log key from `path` (the secret key file), creating it (0600, in a directory
 * created 0700 when missing) on first use; `path`.pub receives the public half (PEM, the
 * same form as the dev key's .pub, so the same readers work). A key file that is not
 * 0600/0400 owned by the user, or malformed, is refused (MS_ERR_CONFIG / MS_ERR_FILE_*):
 * a silent new key would break every earlier log's chain of trust.
 */
MS_MUST_CHECK ms_err ms_alog_key_load_or_create(const char *path, ms_alog_key *out, bool *created);
/* The default key path: $MINIONS_LOG_KEY, else $XDG_CONFIG_HOME/minions-secure/log-key, else
 * $HOME/.config/minions-secure/log-key. MS_ERR_CONFIG when none can be formed. */
MS_MUST_CHECK ms_err ms_alog_default_key_path(char *out, size_t cap);
void ms_alog_key_wipe(ms_alog_key *k);

typedef struct ms_alog ms_alog;

/*
 * Create a new log at `path` (must not exist: O_EXCL) and write its log_start line. `kind`
 * is one of the kinds above; `start_data` (may be NULL) adds members to log_start's data:
 * its "program" takes the place shown above (else "unknown": pass it), the others follow;
 * kind, log_id, key and started are the log's own (MS_ERR_ARG, and no file is left).
 * The key is copied (and wiped on close).
 */
MS_MUST_CHECK ms_err ms_alog_open(ms_alog **out, const char *path, const ms_alog_key *key,
                                  const char *kind, const ms_json_builder *start_data);

/*
 * Append one event. `data` is a builder whose root is an object (may be NULL: {}); it is
 * printed compactly. Thread-safe (a mutex), so parallel jobs may log. Errors: MS_ERR_ARG (a
 * type that is not [a-z_]{1,32} or that starts with "log_", reserved for the log's own
 * lines; a root that is not an object), MS_ERR_CAP_EXCEEDED (line or event cap; the log
 * goes on), MS_ERR_IO. After an I/O error the log refuses further events and reports it on
 * close. Internal format helpers (seal message, line reader, timestamps): alog_fmt.h.
 */
MS_MUST_CHECK ms_err ms_alog_event(ms_alog *l, const char *type, const ms_json_builder *data);

/* Same, with data given as the text of a JSON object (validated, then re-printed compactly). */
MS_MUST_CHECK ms_err ms_alog_event_json(ms_alog *l, const char *type, const char *json,
                                        size_t len);

/* Hex SHA-256 of the last line written (for "this event follows that one" messages). */
void ms_alog_head(const ms_alog *l, char out[65]);
const char *ms_alog_path(const ms_alog *l);

/*
 * A fresh log name in dir: "DIR/KIND-20261121T080000Z-1a2b3c4d.ndjson" (UTC start time and
 * 4 random bytes, so two logs started in the same second do not collide; ms_alog_open's
 * O_EXCL refuses the rare clash). MS_ERR_CONFIG when it does not fit cap, MS_ERR_RANDOM.
 */
MS_MUST_CHECK ms_err ms_alog_new_path(const char *dir, const char *kind, char *out, size_t cap);

/*
 * Write the log_seal line, fsync the file and its directory, close, wipe the key and free.
 * NULL is allowed. Returns the first error the log met (the log is then left unsealed, so
 * a verifier reports it incomplete).
 */
MS_MUST_CHECK ms_err ms_alog_close(ms_alog *l);
/* Close without sealing (a test's crash; or a program that cannot go on): INCOMPLETE. */
void ms_alog_abandon(ms_alog *l);

/*
 * Checkpoints (docs/logs.md "Checkpoints"): a signed log_checkpoint line, fsynced, once
 * `every_events` lines are not yet covered by one, or `every_s` seconds after the first
 * line not yet covered, whichever comes first (0: not by that rule; both 0: none, the
 * default of ms_alog_open). The time rule runs in a thread of the log (all signals blocked
 * in it), so a program waiting on something slow still gets its lines covered. A
 * checkpoint that no longer fits the log's caps (room is kept for the seal) is skipped.
 * MS_ERR_ARG: over MS_MAX_LOG_CHECKPOINT_EVENTS / _S (common/limits.h); MS_ERR_INTERNAL:
 * the thread could not start (the log goes on without the time rule).
 */
#define MS_ALOG_CHECKPOINT_EVENTS 64u /* the programs' default: lines between checkpoints */
#define MS_ALOG_CHECKPOINT_S 5u       /* the programs' default: seconds */
MS_MUST_CHECK ms_err ms_alog_set_checkpoints(ms_alog *l, uint32_t every_events, uint32_t every_s);

/*
 * Seal now, without freeing: write the seal, fsync the file and its directory, and refuse
 * every later event (MS_ERR_ALOG_SEALED). Thread-safe against ms_alog_event: a program
 * stopping on a signal may seal from another thread while its workers still log.
 * Calling it again returns the first call's result; ms_alog_close then only frees.
 */
MS_MUST_CHECK ms_err ms_alog_seal(ms_alog *l);

/* --- verification (minions-audit) ------------------------------------------------------- */

typedef enum ms_alog_verdict {
    MS_ALOG_VALID = 0,      /* chain intact, sealed, signature by the expected key */
    MS_ALOG_INCOMPLETE = 1, /* intact as far as it goes, but no seal (or a cut last line) */
    MS_ALOG_TAMPERED = 2,   /* a line changed, removed, inserted or reordered, or bad seal */
    MS_ALOG_WRONG_KEY = 3,  /* intact and sealed, but by another key than the one expected */
    MS_ALOG_MALFORMED = 4,  /* not a log at all (first line is not a log_start) */
    MS_ALOG_PARTIAL = 5,    /* no seal, but intact and signed up to a checkpoint: valid up to
                               that line, then incomplete */
} ms_alog_verdict;

#define MS_ALOG_CHECKPOINT_TS_SIZE 25u /* a ts (24 characters) and its NUL */

typedef struct ms_alog_report {
    ms_alog_verdict verdict;
    uint64_t events;        /* lines read that passed the chain */
    uint64_t bad_line;      /* 1-based line of the first problem (0 when valid) */
    char why[256];          /* what is wrong there, for a person */
    char kind[16];
    char log_id[33];
    uint8_t key[MS_ALOG_PK_LEN]; /* the key log_start names */
    uint64_t checkpoint_line;    /* 1-based line of the last checkpoint that verified, 0: none */
    char checkpoint_ts[MS_ALOG_CHECKPOINT_TS_SIZE]; /* its ts, "" when none */
} ms_alog_report;

/*
 * Verify a whole log held in memory. expected_pk may be NULL: then the key the log names
 * is used and the caller must compare it (minions-audit prints its fingerprint and says
 * that it was not checked against a trusted key). Never fails on bad input: bad input is a
 * verdict. MS_ERR_NOMEM only (and MS_ERR_ARG for a NULL log with a length); on an error
 * the report's verdict is MALFORMED, never VALID.
 */
MS_MUST_CHECK ms_err ms_alog_verify(const uint8_t *log, size_t len, const uint8_t *expected_pk,
                                    ms_alog_report *out);

const char *ms_alog_verdict_name(ms_alog_verdict v); /* "valid", "incomplete", ... */

#endif

/* minions-audit's output: verification reports and the timeline of a log, as text or JSON. */
#ifndef MS_APPS_MINIONS_AUDIT_SHOW_H
#define MS_APPS_MINIONS_AUDIT_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "secure/audit/alog.h"

/* Exit statuses of minions-audit (its --help lists them). */
#define MS_AUDIT_EXIT_VALID 0
#define MS_AUDIT_EXIT_BAD 1        /* tampered, wrong key, malformed */
#define MS_AUDIT_EXIT_USAGE 2      /* bad options, unreadable files */
#define MS_AUDIT_EXIT_INCOMPLETE 3 /* no seal: a crash or a cut; never valid, never tampering */
#define MS_AUDIT_EXIT_PARTIAL 4    /* no seal, but valid up to a signed checkpoint */

/* The exit status a verdict gives. */
int ms_audit_exit_status(ms_alog_verdict v);

/*
 * Read the log at `path` into `text` (initialised here with cap MS_ALOG_MAX_FILE; the
 * caller frees it) and verify it. MS_OK: *r holds the verdict (a file over the cap is
 * MALFORMED). Errors are about the file only: MS_ERR_FILE_OPEN (missing, unreadable, not a
 * regular file), MS_ERR_IO, MS_ERR_NOMEM.
 */
MS_MUST_CHECK ms_err ms_audit_verify_file(const char *path, const uint8_t *expected_pk,
                                          ms_buf *text, ms_alog_report *r);

/*
 * Text for people, one log: "LOG: VERDICT ..." and, when the key was not given, the
 * fingerprint of the key the log names with a warning that it was not checked. `name` is
 * printed escaped (ms_text_escape). file_err != MS_OK reports a file that could not be read.
 */
void ms_audit_print_report(FILE *out, const char *name, ms_err file_err, const ms_alog_report *r,
                           bool key_checked);

/*
 * verify --json: {"logs":[{...}, ...]} on one line. Each entry: log, verdict ("valid",
 * "partial", "incomplete", "tampered", "wrong_key", "malformed" or "unreadable"), lines,
 * bad_line, why, checkpoint_line (0: none verified), checkpoint_ts (when not 0), kind,
 * log_id, key ("ed25519:hex"), key_fingerprint, key_checked.
 */
typedef struct ms_audit_json_list ms_audit_json_list;
MS_MUST_CHECK ms_err ms_audit_json_list_new(ms_audit_json_list **out);
MS_MUST_CHECK ms_err ms_audit_json_list_add(ms_audit_json_list *l, const char *name,
                                            ms_err file_err, const ms_alog_report *r,
                                            bool key_checked);
MS_MUST_CHECK ms_err ms_audit_json_list_print(const ms_audit_json_list *l, FILE *out);
void ms_audit_json_list_free(ms_audit_json_list *l);

/*
 * One event for people, NUL-terminated: '\n' between its lines (the first says what
 * happened, the others add detail), cut to cap. Text from the log is escaped by
 * ms_text_escape (common/text.h): valid UTF-8 is kept, control bytes, invalid UTF-8 and
 * invisible or bidirectional formatting characters are shown as escapes, so the only
 * control byte in out is that '\n'. Known types of the session-log vocabulary
 * (docs/logs.md) have their own wording (a session by its evidence type: the pinned key's
 * fingerprint for dev-key, the evidence digest for tpm2-quote and sev-snp, and what was
 * proved); others show their type and compact data.
 */
void ms_audit_render_event(const char *type, ms_json_val data, char *out, size_t cap);

/*
 * The timeline of a verified log (r from ms_alog_verify over the same bytes): a header with
 * the verdict first, then one line per event with its time from the start. Every text
 * from the log is untrusted: escaped as above, cut to a short excerpt. Lines
 * at and after the first problem are marked as not verified.
 * json: {"report":{...as above...},"events":[{"line","seq","ts","offset_s","type","data",
 * "verified"}...]}. MS_ERR_IO when writing fails, MS_ERR_NOMEM.
 */
MS_MUST_CHECK ms_err ms_audit_show(FILE *out, const char *name, const uint8_t *log, size_t len,
                                   const ms_alog_report *r, bool key_checked, bool json);

/*
 * show --format reference-json: the session as the reference's log JSON, one object:
 * {"conversation": [{"user": "remote"|"local", "prompt", "output"}], "task", "session_id",
 * "context" (only when the log holds context events: their texts), "generated_final_answer",
 * "usage": {"remote", "local"}, "timing"}. Only from a VALID log (r from ms_alog_verify over
 * the same bytes): anything else is MS_ERR_COMPAT_LOG_UNVERIFIED. MS_ERR_IO, MS_ERR_NOMEM.
 */
MS_MUST_CHECK ms_err ms_audit_show_reference(FILE *out, const uint8_t *log, size_t len,
                                             const ms_alog_report *r);

#endif

/* Audit log format details shared by the writer, the verifier and the timeline (docs/logs.md). */
#ifndef MS_SECURE_AUDIT_ALOG_FMT_H
#define MS_SECURE_AUDIT_ALOG_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/audit/alog.h"

#define MS_ALOG_ID_LEN 16u   /* log_id: random bytes, 32 hex in the log */
#define MS_ALOG_HASH_LEN 32u /* SHA-256 */
#define MS_ALOG_SIG_LEN 64u  /* Ed25519 */
#define MS_ALOG_TS_LEN 24u   /* "2026-11-21T08:00:00.123Z" */
#define MS_ALOG_MAX_TYPE 32u /* bytes of an event type */
#define MS_ALOG_MAX_PROGRAM 128u /* bytes of log_start's "program" */

/*
 * The seal message: domain || log_id || u64be(seq of the seal line) || SHA-256(line before)
 * || the seal line's ts (24 ASCII bytes). The rest of the seal line is fixed by its exact
 * form, so every byte of a log is covered by the chain or the signature.
 */
#define MS_ALOG_SEAL_DOMAIN "minions-audit/1 seal"
#define MS_ALOG_SEAL_DOMAIN_LEN (sizeof MS_ALOG_SEAL_DOMAIN - 1u)
#define MS_ALOG_SEAL_MSG_LEN                                                                       \
    (MS_ALOG_SEAL_DOMAIN_LEN + MS_ALOG_ID_LEN + 8u + MS_ALOG_HASH_LEN + MS_ALOG_TS_LEN)

void ms_alog_seal_message(const uint8_t log_id[static MS_ALOG_ID_LEN], uint64_t seq,
                          const uint8_t prev_hash[static MS_ALOG_HASH_LEN],
                          const char ts[static MS_ALOG_TS_LEN],
                          uint8_t out[static MS_ALOG_SEAL_MSG_LEN]);

/*
 * A checkpoint's message: the same fields under another domain, so that a checkpoint's
 * signature can never stand for a seal (docs/logs.md "Checkpoints").
 */
#define MS_ALOG_CHECKPOINT_DOMAIN "minions-audit/1 checkpoint"
#define MS_ALOG_CHECKPOINT_DOMAIN_LEN (sizeof MS_ALOG_CHECKPOINT_DOMAIN - 1u)
#define MS_ALOG_CHECKPOINT_MSG_LEN                                                                 \
    (MS_ALOG_CHECKPOINT_DOMAIN_LEN + MS_ALOG_ID_LEN + 8u + MS_ALOG_HASH_LEN + MS_ALOG_TS_LEN)

void ms_alog_checkpoint_message(const uint8_t log_id[static MS_ALOG_ID_LEN], uint64_t seq,
                                const uint8_t prev_hash[static MS_ALOG_HASH_LEN],
                                const char ts[static MS_ALOG_TS_LEN],
                                uint8_t out[static MS_ALOG_CHECKPOINT_MSG_LEN]);

/*
 * Bounded line reader over a whole log in memory. From *off, find the next '\n' no further
 * than MS_ALOG_MAX_LINE bytes on. OK: (*line, *line_len) is the line without its '\n' and *off
 * moves past it. END: *off == len. CUT: the rest of the input (under the cap) has no '\n'.
 * LONG: no '\n' within the cap. For CUT and LONG (*line, *line_len) is what is there (LONG:
 * the first MS_ALOG_MAX_LINE bytes) and *off is not moved.
 */
typedef enum ms_alog_line_status {
    MS_ALOG_LINE_OK,
    MS_ALOG_LINE_END,
    MS_ALOG_LINE_CUT,
    MS_ALOG_LINE_LONG,
} ms_alog_line_status;

ms_alog_line_status ms_alog_line_next(const uint8_t *log, size_t len, size_t *off,
                                      const uint8_t **line, size_t *line_len);

/*
 * A timestamp exactly as the writer makes it (UTC, milliseconds, 'Z'); *ms is milliseconds
 * since 1970-01-01. false for anything else (other lengths, offsets, impossible dates).
 */
bool ms_alog_ts_parse(const char *ts, size_t len, int64_t *ms);

#endif

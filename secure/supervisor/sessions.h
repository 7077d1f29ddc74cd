/* The supervisor's session table: bounded, idle expiry, explicit close, reference counted. */
#ifndef MS_SECURE_SUPERVISOR_SESSIONS_H
#define MS_SECURE_SUPERVISOR_SESSIONS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/handshake.h"
#include "secure/record.h"

enum ms_session_state { MS_SESSION_PENDING = 1, MS_SESSION_OPEN = 2 };

/*
 * One session. `lock` guards state, pending, chan and the counters; hold it only for
 * channel operations, never across a call to the model engine. The table owns the memory;
 * a caller holds a reference from _acquire to _release.
 */
typedef struct ms_session {
    uint8_t sid[MS_SESSION_ID_LEN];
    int state;
    struct ms_hs_pending *pending; /* PENDING only */
    struct ms_channel *chan;       /* OPEN only */
    pthread_mutex_t lock;
    /* below: guarded by the table's lock */
    uint64_t last_used_ms;
    uint32_t refs;
    int removed;
    struct ms_session *next;
    /* counters for the audit/access log, guarded by `lock` */
    uint64_t created_ms;
    uint64_t records_in, records_out, bytes_in, bytes_out;
} ms_session;

typedef struct ms_session_table ms_session_table;

/*
 * `max` sessions at most (pending ones count); open ones expire when idle for `ttl_ms`,
 * pending ones (handshake done, ClientFinish not yet received) after min(ttl_ms, 30 s), so
 * unfinished handshakes cannot hold the table for long.
 */
MS_MUST_CHECK ms_err ms_sessions_new(ms_session_table **out, size_t max, uint64_t ttl_ms);
void ms_sessions_free(ms_session_table *t);

/*
 * Add a pending session, taking ownership of `p` (freed on any error). MS_ERR_SERVER_BUSY
 * when the table is full even after expired sessions were dropped.
 */
MS_MUST_CHECK ms_err ms_sessions_add(ms_session_table *t, struct ms_hs_pending *p, uint64_t now_ms);
/* Cheap pre-check before the handshake's cryptography: 0 when a new session cannot fit. */
int ms_sessions_has_room(ms_session_table *t, uint64_t now_ms);

/* A referenced session by id, or NULL when unknown or idle past its TTL (then dropped). */
ms_session *ms_sessions_acquire(ms_session_table *t, const uint8_t sid[static MS_SESSION_ID_LEN],
                                uint64_t now_ms);
void ms_sessions_release(ms_session_table *t, ms_session *s);
/* Drop a session now (close, failed finish). It is freed when the last reference goes. */
void ms_sessions_remove(ms_session_table *t, ms_session *s);

size_t ms_sessions_count(ms_session_table *t);
/* Bytes one idle open session costs, for docs and the RSS benchmark's sanity check. */
size_t ms_sessions_entry_bytes(void);

#endif

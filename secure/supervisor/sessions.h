/* The supervisor's session table: bounded, idle expiry, explicit close, reference counted. */
#ifndef MS_SECURE_SUPERVISOR_SESSIONS_H
#define MS_SECURE_SUPERVISOR_SESSIONS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/handshake.h"
#include "secure/record.h"
#include "secure/supervisor/peers.h"

enum ms_session_state { MS_SESSION_PENDING = 1, MS_SESSION_OPEN = 2 };

/* Why a session left the table (the audit log's outcome). */
enum ms_session_end {
    MS_SESSION_END_NONE = 0,
    MS_SESSION_END_CLOSED,   /* the client's sealed CLOSE */
    MS_SESSION_END_EXPIRED,  /* idle past its TTL */
    MS_SESSION_END_EVICTED,  /* dropped by the supervisor: its key not allowed at finish */
    MS_SESSION_END_SHUTDOWN, /* still live when the supervisor stopped */
};

/* What the handshake decided about a session, kept for the audit log. */
typedef struct ms_session_meta {
    uint8_t evidence_sha256[32]; /* of the evidence bytes in its ServerHello */
    uint8_t mode;                /* MS_MODE_FAST or MS_MODE_STRICT */
    uint64_t started_s;          /* Unix seconds */
    /* Per-address limits: the pending slot this session holds while PENDING, given back
       (ms_peers_done) when its ClientFinish verifies or when it is freed still pending. */
    struct ms_peers *peers;      /* NULL: it holds none */
    ms_peer_key peer;
    struct ms_allow *allow;      /* the allow-list its ClientFinish is checked against, or NULL */
} ms_session_meta;

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
    uint64_t requests;             /* turns: /request and /stream bodies opened */
    uint8_t has_client_id;         /* set by a ClientFinish that carried a client key */
    uint8_t client_id_pk[MS_SIGN_PK_LEN];
    ms_session_meta meta;          /* set once, before the session is in the table */
    enum ms_session_end end;       /* set when it leaves the table */
} ms_session;

typedef struct ms_session_table ms_session_table;

/*
 * `max` sessions at most (pending ones count); open ones expire when idle for `ttl_ms`,
 * pending ones (handshake done, ClientFinish not yet received) after min(ttl_ms, 30 s), so
 * unfinished handshakes cannot hold the table for long.
 */
MS_MUST_CHECK ms_err ms_sessions_new(ms_session_table **out, size_t max, uint64_t ttl_ms);
/* Every session still there ends (EXPIRED if idle past its TTL, else SHUTDOWN), then frees. */
void ms_sessions_free(ms_session_table *t);

/*
 * Called once per session as it is freed, after its last reference went: s->end says why,
 * its counters are final. Called without the table's lock, from whichever thread dropped
 * the session (or ms_sessions_free's), so it must be thread-safe; it must not call back into
 * the table. Set it before the table is shared.
 */
typedef void (*ms_session_end_fn)(void *ctx, const ms_session *s, uint64_t now_ms);
void ms_sessions_on_end(ms_session_table *t, ms_session_end_fn fn, void *ctx);

/*
 * Add a pending session, taking ownership of `p` (freed on any error); meta (may be NULL)
 * is copied into it. MS_ERR_SERVER_BUSY when the table is full even after expired sessions
 * were dropped.
 */
MS_MUST_CHECK ms_err ms_sessions_add(ms_session_table *t, struct ms_hs_pending *p,
                                     const ms_session_meta *meta, uint64_t now_ms);
/* Cheap pre-check before the handshake's cryptography: 0 when a new session cannot fit. */
int ms_sessions_has_room(ms_session_table *t, uint64_t now_ms);

/* A referenced session by id, or NULL when unknown or idle past its TTL (then dropped). */
ms_session *ms_sessions_acquire(ms_session_table *t, const uint8_t sid[static MS_SESSION_ID_LEN],
                                uint64_t now_ms);
void ms_sessions_release(ms_session_table *t, ms_session *s);
/* Drop a session now (close, failed finish). It is freed when the last reference goes. */
void ms_sessions_remove(ms_session_table *t, ms_session *s, enum ms_session_end why);

/*
 * Drop the sessions idle past their TTL now. The supervisor's periodic loop calls it; a
 * handshake sweeps on its own only when the last sweep is SWEEP_EVERY_MS old, even when the
 * table is full (then it is refused until a sweep makes room: no sweep under the table's
 * lock on every handshake of a flood).
 */
void ms_sessions_sweep(ms_session_table *t, uint64_t now_ms);

size_t ms_sessions_count(ms_session_table *t);
/* Bytes one idle open session costs, for docs and the RSS benchmark's sanity check. */
size_t ms_sessions_entry_bytes(void);

#endif

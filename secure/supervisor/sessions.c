/*
 * Session table: a hash of random session ids, bounded, with lazy and periodic idle expiry.
 * Sessions that leave the table while nobody holds them are collected on a local list and
 * freed (and reported to the on_end callback) after the table's lock is released.
 */
#include "secure/supervisor/sessions.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/clock.h"
#include "common/cursor.h"

#define SWEEP_EVERY_MS 1000u
/* A pending session waits only for its ClientFinish, which follows the ServerHello at once. */
#define PENDING_TTL_MS 30000u

struct ms_session_table {
    pthread_mutex_t lock;
    size_t max;
    size_t count;
    uint64_t ttl_ms;
    uint64_t last_sweep_ms;
    size_t nbuckets;
    ms_session **buckets;
    uint64_t *used; /* a bit a bucket, set while it holds a session: the sweep skips the rest */
    ms_session_end_fn on_end;
    void *on_end_ctx;
};

ms_err ms_sessions_new(ms_session_table **out, size_t max, uint64_t ttl_ms)
{
    *out = NULL;
    ENSURE(max > 0 && max <= (1u << 24) && ttl_ms > 0, MS_ERR_ARG);
    ms_session_table *t = calloc(1, sizeof *t);
    ENSURE(t != NULL, MS_ERR_NOMEM);
    t->max = max;
    t->ttl_ms = ttl_ms;
    t->nbuckets = 64;
    while (t->nbuckets < max) {
        t->nbuckets *= 2;
    }
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    t->used = calloc(t->nbuckets / 64, sizeof *t->used);
    if (!t->buckets || !t->used || pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->buckets);
        free(t->used);
        free(t);
        return MS_ERR_NOMEM;
    }
    *out = t;
    return MS_OK;
}

static void session_destroy(ms_session *s)
{
    if (s->meta.peers) {
        ms_peers_done(s->meta.peers, &s->meta.peer); /* freed while still pending */
    }
    ms_hs_pending_free(s->pending);
    ms_channel_free(s->chan);
    pthread_mutex_destroy(&s->lock);
    ms_wipe(s, sizeof *s);
    free(s);
}

void ms_sessions_on_end(ms_session_table *t, ms_session_end_fn fn, void *ctx)
{
    t->on_end = fn;
    t->on_end_ctx = ctx;
}

/* Report and free sessions that left the table (table lock NOT held: they are unreachable). */
static void bury(ms_session_table *t, ms_session *grave, uint64_t now_ms)
{
    while (grave) {
        ms_session *next = grave->next;
        if (t->on_end) {
            t->on_end(t->on_end_ctx, grave, now_ms);
        }
        session_destroy(grave);
        grave = next;
    }
}

static int expired(const ms_session_table *t, const ms_session *s, uint64_t now_ms);

void ms_sessions_free(ms_session_table *t)
{
    if (!t) {
        return;
    }
    uint64_t now = ms_clock_ms();
    for (size_t i = 0; i < t->nbuckets; i++) {
        ms_session *s = t->buckets[i];
        while (s) {
            ms_session *next = s->next;
            s->end = expired(t, s, now) ? MS_SESSION_END_EXPIRED : MS_SESSION_END_SHUTDOWN;
            s->next = NULL;
            bury(t, s, now);
            s = next;
        }
    }
    free(t->buckets);
    free(t->used);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Session ids are random: their first bytes are a fair hash an attacker cannot steer. */
static size_t bucket_of(const ms_session_table *t, const uint8_t sid[static MS_SESSION_ID_LEN])
{
    return (size_t)ms_load_u64be(sid) & (t->nbuckets - 1);
}

/* Unlink s (table lock held); onto *grave unless someone still holds a reference. */
static void unlink_locked(ms_session_table *t, ms_session *s, enum ms_session_end why,
                          ms_session **grave)
{
    size_t b = bucket_of(t, s->sid);
    ms_session **pp = &t->buckets[b];
    while (*pp && *pp != s) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = s->next;
        t->count--;
    }
    if (t->buckets[b] == NULL) {
        t->used[b / 64] &= ~((uint64_t)1 << (b % 64));
    }
    s->removed = 1;
    s->end = why;
    s->next = NULL;
    if (s->refs == 0) {
        s->next = *grave;
        *grave = s;
    }
}

/*
 * Table lock held. refs first: s->state is guarded by the session's own lock, and only with
 * no reference left (no handler inside it) may it be read under the table's lock alone.
 */
static int expired(const ms_session_table *t, const ms_session *s, uint64_t now_ms)
{
    if (s->refs != 0) {
        return 0;
    }
    uint64_t ttl = s->state == MS_SESSION_PENDING && t->ttl_ms > PENDING_TTL_MS ? PENDING_TTL_MS
                                                                              : t->ttl_ms;
    return now_ms >= s->last_used_ms && now_ms - s->last_used_ms > ttl;
}

/*
 * Every session, and only the buckets that hold one: a word of `used` covers 64 buckets, so
 * a sweep costs a load per 64 buckets (4,096 for a table of 200,000) and a visit per session,
 * not a visit per bucket (the table is sized for its cap: 262,144 buckets for 200,000).
 */
static void sweep_locked(ms_session_table *t, uint64_t now_ms, ms_session **grave)
{
    t->last_sweep_ms = now_ms;
    for (size_t w = 0; w < t->nbuckets / 64; w++) {
        for (uint64_t bits = t->used[w]; bits != 0; bits &= bits - 1) {
            ms_session *s = t->buckets[w * 64 + (size_t)__builtin_ctzll(bits)];
            while (s) {
                ms_session *next = s->next;
                if (expired(t, s, now_ms)) {
                    unlink_locked(t, s, MS_SESSION_END_EXPIRED, grave);
                }
                s = next;
            }
        }
    }
}

/*
 * Room for one more: sweep at most once per SWEEP_EVERY_MS, full or not. A flood of
 * handshakes against a full table is refused at the cost of a comparison, not a sweep each.
 */
static int room_locked(ms_session_table *t, uint64_t now_ms, ms_session **grave)
{
    if (now_ms - t->last_sweep_ms >= SWEEP_EVERY_MS) {
        sweep_locked(t, now_ms, grave);
    }
    return t->count < t->max;
}

void ms_sessions_sweep(ms_session_table *t, uint64_t now_ms)
{
    ms_session *grave = NULL;
    pthread_mutex_lock(&t->lock);
    sweep_locked(t, now_ms, &grave);
    pthread_mutex_unlock(&t->lock);
    bury(t, grave, now_ms);
}

int ms_sessions_has_room(ms_session_table *t, uint64_t now_ms)
{
    ms_session *grave = NULL;
    pthread_mutex_lock(&t->lock);
    int ok = room_locked(t, now_ms, &grave);
    pthread_mutex_unlock(&t->lock);
    bury(t, grave, now_ms);
    return ok;
}

ms_err ms_sessions_add(ms_session_table *t, struct ms_hs_pending *p, const ms_session_meta *meta,
                       uint64_t now_ms)
{
    ms_session *grave = NULL;
    ms_session *s = calloc(1, sizeof *s);
    if (!s || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        ms_hs_pending_free(p);
        return MS_ERR_NOMEM;
    }
    memcpy(s->sid, ms_hs_pending_session_id(p), MS_SESSION_ID_LEN);
    s->state = MS_SESSION_PENDING;
    s->pending = p;
    s->created_ms = s->last_used_ms = now_ms;
    if (meta) {
        s->meta = *meta;
    }
    pthread_mutex_lock(&t->lock);
    if (!room_locked(t, now_ms, &grave)) {
        pthread_mutex_unlock(&t->lock);
        bury(t, grave, now_ms);
        session_destroy(s); /* never in the table: not a session that ended */
        return MS_ERR_SERVER_BUSY;
    }
    size_t b = bucket_of(t, s->sid);
    s->next = t->buckets[b];
    t->buckets[b] = s;
    t->used[b / 64] |= (uint64_t)1 << (b % 64);
    t->count++;
    pthread_mutex_unlock(&t->lock);
    bury(t, grave, now_ms);
    return MS_OK;
}

ms_session *ms_sessions_acquire(ms_session_table *t, const uint8_t sid[static MS_SESSION_ID_LEN],
                                uint64_t now_ms)
{
    ms_session *grave = NULL;
    pthread_mutex_lock(&t->lock);
    ms_session *s = t->buckets[bucket_of(t, sid)];
    while (s && !ms_ct_equal(s->sid, sid, MS_SESSION_ID_LEN)) {
        s = s->next;
    }
    if (s && expired(t, s, now_ms)) {
        unlink_locked(t, s, MS_SESSION_END_EXPIRED, &grave);
        s = NULL;
    }
    if (s) {
        s->refs++;
        s->last_used_ms = now_ms;
    }
    pthread_mutex_unlock(&t->lock);
    bury(t, grave, now_ms);
    return s;
}

void ms_sessions_release(ms_session_table *t, ms_session *s)
{
    int last;
    pthread_mutex_lock(&t->lock);
    s->refs--;
    last = s->removed && s->refs == 0;
    pthread_mutex_unlock(&t->lock);
    if (last) {
        s->next = NULL;
        bury(t, s, ms_clock_ms());
    }
}

void ms_sessions_remove(ms_session_table *t, ms_session *s, enum ms_session_end why)
{
    ms_session *grave = NULL;
    pthread_mutex_lock(&t->lock);
    if (!s->removed) {
        unlink_locked(t, s, why, &grave);
    }
    pthread_mutex_unlock(&t->lock);
    bury(t, grave, ms_clock_ms());
}

size_t ms_sessions_count(ms_session_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t ms_sessions_entry_bytes(void)
{
    return sizeof(ms_session) + ms_channel_struct_size();
}

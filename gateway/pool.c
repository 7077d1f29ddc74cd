/*
 * The pool of attested sessions. An ms_client holds one session and is not thread-safe, so
 * each request borrows a client of its own for its turn: N clients, each its own session
 * (its own handshake, every check of the policy), used one request at a time. A session is
 * made when a client is first needed, and again (a new handshake, every check again) when
 * its evidence is past its not_after; the client itself re-handshakes once on a 404 (the
 * supervisor restarted, or dropped the session).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/log.h"
#include "gateway/internal.h"

typedef struct slot {
    ms_client *c;
    bool busy;
    uint64_t not_after; /* its session's evidence not_after, as read after its last handshake;
                           0: unknown (read it again) */
} slot;

struct ms_gw_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ms_client_cfg cfg;
    unsigned n, busy;
    slot s[MS_GW_MAX_SESSIONS];
    ms_client_peer last;       /* the newest verified session */
    unsigned handshakes_gone;  /* of clients dropped after a failure */
};

void ms_gw_pool_drop(ms_client *c)
{
    if (c) {
        ms_err e = ms_client_close(c);
        if (e != MS_OK) {
            ms_log(MS_LOG_DEBUG, "serve", "closing a session: %s", ms_err_str(e));
        }
        ms_client_free(c);
    }
}

ms_err ms_gw_pool_new(const ms_client_cfg *cfg, unsigned n, ms_client *first, ms_gw_pool **out)
{
    *out = NULL;
    ms_gw_pool *p = calloc(1, sizeof *p);
    if (!p || n < 1 || n > MS_GW_MAX_SESSIONS) {
        ms_gw_pool_drop(first);
        free(p);
        return p ? MS_ERR_CONFIG : MS_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->cfg = *cfg;
    p->n = n;
    p->s[0].c = first;
    if (first) {
        ms_client_peer_info(first, &p->last);
    }
    *out = p;
    return MS_OK;
}

void ms_gw_pool_free(ms_gw_pool *p)
{
    if (!p) {
        return;
    }
    for (unsigned i = 0; i < p->n; i++) {
        ms_gw_pool_drop(p->s[i].c);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* A free slot, preferring one whose client already holds a session. */
static int take(ms_gw_pool *p)
{
    int pick = -1;
    for (unsigned i = 0; i < p->n; i++) {
        if (!p->s[i].busy && (pick < 0 || (p->s[i].c && !p->s[pick].c))) {
            pick = (int)i;
        }
    }
    return pick;
}

/* A session this client may use now: made, or made again when its evidence expired. */
static ms_err ready(ms_client *c, ms_client_peer *peer)
{
    ms_client_peer_info(c, peer);
    if (peer->connected && peer->evidence_not_after > (uint64_t)time(NULL)) {
        return MS_OK;
    }
    if (peer->connected) {
        ms_log(MS_LOG_INFO, "serve", "a session's evidence expired: a new handshake");
    }
    TRY(ms_client_connect(c)); /* every check of the policy, again */
    ms_client_peer_info(c, peer);
    return MS_OK;
}

ms_err ms_gw_pool_get(ms_gw_pool *p, ms_client **c, unsigned *slot_out)
{
    ms_err err = MS_OK;
    *c = NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += MS_GW_POOL_WAIT_S;
    pthread_mutex_lock(&p->mu);
    int i;
    while ((i = take(p)) < 0) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0 && take(p) < 0) {
            pthread_mutex_unlock(&p->mu);
            return MS_ERR_GW_POOL_BUSY;
        }
    }
    p->s[i].busy = true;
    p->busy++;
    pthread_mutex_unlock(&p->mu);
    /* outside the lock: a handshake takes a round trip and the evidence checks */
    ms_client *cl = p->s[i].c;
    if (!cl) {
        TRY_OUT(ms_client_new(&cl, &p->cfg));
        p->s[i].c = cl; /* the slot is ours while busy */
    }
    /* The same session as after the last check (no handshake since, ms_gw_pool_put says):
       only its expiry to look at. */
    if (p->s[i].not_after <= (uint64_t)time(NULL)) {
        ms_client_peer peer;
        p->s[i].not_after = 0;
        TRY_OUT(ready(cl, &peer));
        p->s[i].not_after = peer.evidence_not_after;
        pthread_mutex_lock(&p->mu);
        if (peer.handshakes > 0 && peer.evidence_not_after >= p->last.evidence_not_after) {
            p->last = peer;
        }
        pthread_mutex_unlock(&p->mu);
    }
    *c = cl;
    *slot_out = (unsigned)i;
out:
    if (err != MS_OK) {
        ms_gw_pool_put(p, (unsigned)i, false);
    }
    return err;
}

void ms_gw_pool_put(ms_gw_pool *p, unsigned i, bool same_session)
{
    pthread_mutex_lock(&p->mu);
    if (i < p->n && p->s[i].busy) {
        if (!same_session) {
            p->s[i].not_after = 0; /* a handshake, or a failure: look at the session again */
        }
        p->s[i].busy = false;
        p->busy--;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

void ms_gw_pool_peer(ms_gw_pool *p, ms_client_peer *out, unsigned *handshakes, unsigned *size,
                     unsigned *busy)
{
    pthread_mutex_lock(&p->mu);
    *out = p->last;
    *size = p->n;
    *busy = p->busy;
    *handshakes = 0;
    for (unsigned i = 0; i < p->n; i++) {
        if (p->s[i].c && !p->s[i].busy) {
            ms_client_peer q;
            ms_client_peer_info(p->s[i].c, &q);
            *handshakes += q.handshakes;
        }
    }
    pthread_mutex_unlock(&p->mu);
}

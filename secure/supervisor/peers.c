/* Per-address handshake limits: a keyed hash of addresses, each with a bucket and a count. */
#include "secure/supervisor/peers.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/limits.h"
#include "secure/supervisor/ratelimit.h"

#define NBUCKETS 4096u
#define FULL_SWEEP_EVERY_MS 1000u

typedef struct peer {
    ms_peer_key k;
    ms_bucket bucket;
    uint32_t pending;
    struct peer *next;
} peer;

struct ms_peers {
    pthread_mutex_t lock;
    ms_peers_cfg cfg;
    uint8_t hash_key[crypto_shorthash_KEYBYTES]; /* addresses are the client's choice */
    size_t count;
    uint64_t last_sweep_ms;
    peer *buckets[NBUCKETS];
};

int ms_peer_key_of(const struct sockaddr *sa, ms_peer_key *k)
{
    memset(k, 0, sizeof *k);
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        k->b[10] = k->b[11] = 0xff;
        memcpy(k->b + 12, &a->sin_addr, 4);
        return 1;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(k->b, &a->sin6_addr, 16);
        if (!IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            memset(k->b + 8, 0, 8); /* the /64 */
        }
        return 1;
    }
    return 0;
}

ms_err ms_peers_new(ms_peers **out, const ms_peers_cfg *cfg)
{
    *out = NULL;
    ENSURE(cfg->rate_per_s <= MS_RATE_MAX && cfg->burst <= MS_RATE_MAX &&
               (cfg->rate_per_s == 0) == (cfg->burst == 0),
           MS_ERR_ARG);
    TRY(sodium_init() >= 0 ? MS_OK : MS_ERR_CRYPTO_INIT);
    ms_peers *p = calloc(1, sizeof *p);
    ENSURE(p != NULL, MS_ERR_NOMEM);
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return MS_ERR_NOMEM;
    }
    p->cfg = *cfg;
    crypto_shorthash_keygen(p->hash_key);
    *out = p;
    return MS_OK;
}

void ms_peers_free(ms_peers *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < NBUCKETS; i++) {
        while (p->buckets[i]) {
            peer *next = p->buckets[i]->next;
            free(p->buckets[i]);
            p->buckets[i] = next;
        }
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int ms_peers_applies(const ms_peers *p, const ms_peer_key *k)
{
    static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t v6_loop_net[16] = {0}; /* ::1 as its /64 */
    int loop = (ms_ct_equal(k->b, v4_prefix, 12) && k->b[12] == 127) ||
               ms_ct_equal(k->b, v6_loop_net, 16);
    return (p->cfg.rate_per_s || p->cfg.max_pending) && (!loop || p->cfg.loopback);
}

static peer **slot_of(ms_peers *p, const ms_peer_key *k)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, k->b, sizeof k->b, p->hash_key);
    peer **pp = &p->buckets[(h[0] | (size_t)h[1] << 8) & (NBUCKETS - 1)];
    while (*pp && !ms_ct_equal((*pp)->k.b, k->b, sizeof k->b)) {
        pp = &(*pp)->next;
    }
    return pp;
}

/* Lock held. Nothing to remember: no pending session and a bucket as full as a new one. */
static int idle(ms_peers *p, peer *e, uint64_t now_ms)
{
    return e->pending == 0 &&
           (p->cfg.rate_per_s == 0 ||
            ms_bucket_full(&e->bucket, p->cfg.rate_per_s, p->cfg.burst, now_ms));
}

static void sweep_locked(ms_peers *p, uint64_t now_ms)
{
    p->last_sweep_ms = now_ms;
    for (size_t i = 0; i < NBUCKETS; i++) {
        peer **pp = &p->buckets[i];
        while (*pp) {
            peer *e = *pp;
            if (idle(p, e, now_ms)) {
                *pp = e->next;
                free(e);
                p->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

void ms_peers_sweep(ms_peers *p, uint64_t now_ms)
{
    pthread_mutex_lock(&p->lock);
    sweep_locked(p, now_ms);
    pthread_mutex_unlock(&p->lock);
}

/* Lock held: the entry of k, made when there is room; NULL when the table is full. */
static peer *entry_of(ms_peers *p, const ms_peer_key *k, uint64_t now_ms)
{
    peer **pp = slot_of(p, k);
    if (*pp) {
        return *pp;
    }
    if (p->count >= MS_MAX_PEERS && now_ms - p->last_sweep_ms >= FULL_SWEEP_EVERY_MS) {
        sweep_locked(p, now_ms);
        pp = slot_of(p, k);
    }
    if (p->count >= MS_MAX_PEERS) {
        return NULL;
    }
    peer *e = calloc(1, sizeof *e);
    if (!e) {
        return NULL;
    }
    e->k = *k;
    ms_bucket_init(&e->bucket, p->cfg.burst, now_ms);
    *pp = e;
    p->count++;
    return e;
}

ms_err ms_peers_admit(ms_peers *p, const ms_peer_key *k, uint64_t now_ms, unsigned *retry_after_s)
{
    ms_err err = MS_OK;
    *retry_after_s = 1;
    pthread_mutex_lock(&p->lock);
    peer *e = entry_of(p, k, now_ms);
    if (!e) {
        err = MS_ERR_PEER_TABLE_FULL;
    } else if (p->cfg.max_pending && e->pending >= p->cfg.max_pending) {
        err = MS_ERR_PEER_PENDING; /* a slot frees when one of them finishes or expires */
    } else if (p->cfg.rate_per_s &&
               !ms_bucket_take(&e->bucket, p->cfg.rate_per_s, p->cfg.burst, now_ms,
                               retry_after_s)) {
        err = MS_ERR_PEER_HS_RATE;
    } else {
        e->pending++;
        *retry_after_s = 0;
    }
    pthread_mutex_unlock(&p->lock);
    return err;
}

void ms_peers_done(ms_peers *p, const ms_peer_key *k)
{
    pthread_mutex_lock(&p->lock);
    peer *e = *slot_of(p, k);
    if (e && e->pending > 0) {
        e->pending--;
    }
    pthread_mutex_unlock(&p->lock);
}

size_t ms_peers_count(ms_peers *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->count;
    pthread_mutex_unlock(&p->lock);
    return n;
}

uint32_t ms_peers_pending(ms_peers *p, const ms_peer_key *k)
{
    pthread_mutex_lock(&p->lock);
    peer *e = *slot_of(p, k);
    uint32_t n = e ? e->pending : 0;
    pthread_mutex_unlock(&p->lock);
    return n;
}

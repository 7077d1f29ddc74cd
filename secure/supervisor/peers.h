/* Per-address limits on handshakes: a rate and a count of pending sessions per client address. */
#ifndef MS_SECURE_SUPERVISOR_PEERS_H
#define MS_SECURE_SUPERVISOR_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

/*
 * An address as the limits see it: IPv4 addresses whole (as ::ffff:a.b.c.d), IPv6 ones by
 * their /64 (one host usually holds a whole /64, so counting single IPv6 addresses would
 * limit nothing). Connections over a unix socket have no address: no per-address limit.
 */
typedef struct ms_peer_key {
    uint8_t b[16];
} ms_peer_key;

/* 1 and *k set for AF_INET / AF_INET6; 0 for anything else (a unix socket, NULL). */
int ms_peer_key_of(const struct sockaddr *sa, ms_peer_key *k);

typedef struct ms_peers_cfg {
    uint64_t rate_per_s, burst; /* handshakes per second and at once (1..MS_RATE_MAX); 0: off */
    uint32_t max_pending;       /* pending sessions (handshake done, no ClientFinish); 0: off */
    int loopback;               /* limit loopback addresses too (by default they are a local
                                   proxy's, which would put every client under one limit) */
} ms_peers_cfg;

/*
 * At most MS_MAX_PEERS addresses are tracked; an address is forgotten (by the sweep) once
 * it holds no pending session and its bucket is full again, so a table that fills up empties
 * as fast as the rate refills. Thread-safe (one mutex, never held across other locks).
 */
typedef struct ms_peers ms_peers;

MS_MUST_CHECK ms_err ms_peers_new(ms_peers **out, const ms_peers_cfg *cfg);
void ms_peers_free(ms_peers *p);

/*
 * Admit one handshake from k at monotonic now_ms: takes a rate token and a pending slot.
 * Refusals (nothing taken): MS_ERR_PEER_PENDING, MS_ERR_PEER_HS_RATE, MS_ERR_PEER_TABLE_FULL,
 * with *retry_after_s (>= 1) for the 503's Retry-After.
 */
MS_MUST_CHECK ms_err ms_peers_admit(ms_peers *p, const ms_peer_key *k, uint64_t now_ms,
                                    unsigned *retry_after_s);
/* 1 when k is subject to the limits: they are on, and k is not loopback (unless cfg says). */
int ms_peers_applies(const ms_peers *p, const ms_peer_key *k);
/* Give back the pending slot of an admitted handshake (finished, failed or expired). */
void ms_peers_done(ms_peers *p, const ms_peer_key *k);
/* Forget idle addresses. Also run by _admit when the table is full, at most once a second. */
void ms_peers_sweep(ms_peers *p, uint64_t now_ms);
/* Addresses tracked, and pending slots held by k (for tests). */
size_t ms_peers_count(ms_peers *p);
uint32_t ms_peers_pending(ms_peers *p, const ms_peer_key *k);

#endif

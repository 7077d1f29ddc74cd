/* The supervisor's identity: a rotating X25519 static key and the evidence that vouches for it. */
#ifndef MS_SECURE_SUPERVISOR_IDENTITY_H
#define MS_SECURE_SUPERVISOR_IDENTITY_H

#include <pthread.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/devkey.h"
#include "secure/handshake.h"

/*
 * FAST mode (protocol.md §6): one static key and one evidence, replaced every `ttl_s`
 * seconds; the old static secret is wiped at once (sessions never need it again: their
 * keys are derived during the handshake). STRICT: fresh evidence over each client's
 * challenge, signed with the same dev key. Thread-safe.
 */
typedef struct ms_identity {
    pthread_mutex_t lock;
    ms_devkey dev;
    uint64_t ttl_s;
    uint8_t static_sk[MS_X25519_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    uint64_t not_after;
    uint8_t evidence[MS_DEVKEY_EVIDENCE_LEN];
    uint64_t rotations;
} ms_identity;

/* Takes a copy of `dev` (the caller wipes its own). */
MS_MUST_CHECK ms_err ms_identity_init(ms_identity *id, const ms_devkey *dev, uint64_t ttl_s,
                                      uint64_t now_s);
void ms_identity_destroy(ms_identity *id);

/*
 * What one handshake uses: a consistent copy of the current static key and evidence
 * (rotated first if due). Wipe with ms_identity_snapshot_wipe after the handshake.
 */
typedef struct ms_identity_snapshot {
    uint8_t static_sk[MS_X25519_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    uint64_t not_after;
    uint8_t evidence[MS_DEVKEY_EVIDENCE_LEN];
    const ms_identity *id; /* for STRICT evidence */
    ms_devkey dev;         /* copy for STRICT signing */
} ms_identity_snapshot;

void ms_identity_take(ms_identity *id, uint64_t now_s, ms_identity_snapshot *snap);
void ms_identity_snapshot_wipe(ms_identity_snapshot *snap);

/* The handshake's evidence provider (ms_evidence_provide_fn); ctx is a snapshot. */
ms_err ms_identity_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep);

#endif

/* The supervisor's identity: a rotating X25519 static key and the evidence that vouches for it. */
#ifndef MS_SECURE_SUPERVISOR_IDENTITY_H
#define MS_SECURE_SUPERVISOR_IDENTITY_H

#include <pthread.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/devkey.h"
#include "secure/attest/producer.h"
#include "secure/attest/snp_produce.h"
#include "secure/handshake.h"

/*
 * Where evidence comes from: one evidence type, made over a binding B (protocol.md §6).
 * `make` must be thread-safe and append to `out` only on success.
 */
typedef struct ms_evidence_source {
    uint16_t type;
    int can_strict; /* cheap enough to make per handshake */
    ms_err (*make)(void *ctx, const uint8_t binding[static MS_BINDING_LEN], ms_buf *out);
    void *ctx;
} ms_evidence_source;

/* Dev-key evidence (§12.5) from `k` (borrowed: must outlive the source). */
void ms_evidence_source_devkey(ms_evidence_source *src, const ms_devkey *k);

/*
 * SEV-SNP evidence (docs/attest-sev-snp.md §6): a report over B from configfs-tsm, else
 * /dev/sev-guest, with the certificates `cfg` names or the host's. `cfg` is borrowed: it
 * and the certificates it points to must outlive the source. STRICT capable: each call
 * uses its own configfs entry.
 */
void ms_evidence_source_snp(ms_evidence_source *src, const ms_snp_producer_cfg *cfg);

/* Whatever `p` makes (secure/attest/producer.h), STRICT capable. `p` is borrowed. */
void ms_evidence_source_producer(ms_evidence_source *src, struct ms_producer *p);

/*
 * FAST evidence over one static key, made once and never changed: the identity holds one
 * reference, each handshake's snapshot another (no copy per handshake); the last one frees
 * it. Its bytes are public (every client is sent them), so they are not wiped.
 */
typedef struct ms_shared_evidence ms_shared_evidence;

/*
 * FAST mode (§6): one static key and one evidence, replaced every `ttl_s` seconds; the old
 * static secret is wiped at once (sessions never need it again: their keys are derived
 * during the handshake). STRICT: fresh evidence over each client's challenge, when the
 * source can make it. Thread-safe.
 */
typedef struct ms_identity {
    pthread_mutex_t lock;
    ms_evidence_source src;
    uint64_t ttl_s;
    uint64_t grace_s; /* evidence outlives its key's rotation by this (MS_IDENTITY_GRACE_S) */
    uint8_t static_sk[MS_X25519_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    uint64_t not_after;
    ms_shared_evidence *evidence; /* FAST evidence over the current static key */
    uint8_t evidence_sha256[32]; /* of it, made once (the session log names it per session) */
    uint64_t rotations;
} ms_identity;

/* How long FAST evidence stays valid after its static key was replaced, so that a
   handshake in flight completes: the evidence's not_after is its rotation + ttl_s + this. */
#define MS_IDENTITY_GRACE_S 60

/* `src` is copied; its ctx is borrowed. Makes the first static key and evidence now. */
MS_MUST_CHECK ms_err ms_identity_init(ms_identity *id, const ms_evidence_source *src,
                                      uint64_t ttl_s, uint64_t now_s);
/* The same with another grace than MS_IDENTITY_GRACE_S (>= 1): what minions-supervisor's
   test-only MS_TEST_EVIDENCE_S sets in test builds, so tests see evidence expire in seconds. */
MS_MUST_CHECK ms_err ms_identity_init_grace(ms_identity *id, const ms_evidence_source *src,
                                            uint64_t ttl_s, uint64_t grace_s, uint64_t now_s);
void ms_identity_destroy(ms_identity *id);

/*
 * What one handshake uses: a consistent copy of the current static key and a reference to
 * its evidence (rotated first if due). Wipe with ms_identity_snapshot_wipe after the
 * handshake (it drops the reference).
 */
typedef struct ms_identity_snapshot {
    uint8_t static_sk[MS_X25519_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    uint64_t not_after;
    ms_shared_evidence *evidence; /* NULL when none was taken */
    uint8_t evidence_sha256[32]; /* of evidence */
    ms_evidence_source src; /* for STRICT evidence */
} ms_identity_snapshot;

/* MS_ERR_ATTEST_UNAVAILABLE when no evidence could be made at all. */
MS_MUST_CHECK ms_err ms_identity_take(ms_identity *id, uint64_t now_s, ms_identity_snapshot *snap);
void ms_identity_snapshot_wipe(ms_identity_snapshot *snap);

/* The handshake's evidence provider (ms_evidence_provide_fn); ctx is a snapshot. */
ms_err ms_identity_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep);

#endif

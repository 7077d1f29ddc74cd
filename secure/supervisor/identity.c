/* Static key rotation and evidence for the supervisor's handshakes, from any evidence source. */
#include "secure/supervisor/identity.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/log.h"
#include "secure/kdf.h"

static ms_err devkey_make(void *ctx, const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    return ms_devkey_evidence(ctx, binding, out);
}

void ms_evidence_source_devkey(ms_evidence_source *src, const ms_devkey *k)
{
    *src = (ms_evidence_source){.type = MS_EVIDENCE_DEV_KEY, .can_strict = 1, .make = devkey_make,
                                .ctx = (void *)k};
}

static ms_err snp_make(void *ctx, const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    return ms_snp_evidence(ctx, binding, out);
}

void ms_evidence_source_snp(ms_evidence_source *src, const ms_snp_producer_cfg *cfg)
{
    *src = (ms_evidence_source){.type = MS_EVIDENCE_SEV_SNP, .can_strict = 1, .make = snp_make,
                                .ctx = (void *)cfg};
}

void ms_evidence_source_producer(ms_evidence_source *src, struct ms_producer *p)
{
    *src = (ms_evidence_source){.type = ms_producer_type(p), .can_strict = 1,
                                .make = ms_producer_make, .ctx = p};
}

struct ms_shared_evidence {
    atomic_uint refs;
    size_t len;
    uint8_t data[];
};

/* One reference to bytes of exactly `len`, copied from `p` (once per static key). */
static ms_shared_evidence *shared_new(const uint8_t *p, size_t len)
{
    ms_shared_evidence *ev = malloc(sizeof *ev + len);
    if (ev != NULL) {
        atomic_init(&ev->refs, 1);
        ev->len = len;
        if (len > 0) {
            memcpy(ev->data, p, len);
        }
    }
    return ev;
}

static ms_shared_evidence *shared_ref(ms_shared_evidence *ev)
{
    if (ev != NULL) {
        atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
    }
    return ev;
}

/* The last reference frees the bytes (public: no wipe). */
static void shared_unref(ms_shared_evidence *ev)
{
    if (ev != NULL && atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1) {
        free(ev);
    }
}

/* New static key and its FAST evidence (lock held). On failure the old ones stay. */
static ms_err rotate_locked(ms_identity *id, uint64_t now_s)
{
    uint8_t b[MS_BINDING_LEN], sk[MS_X25519_LEN], pk[MS_X25519_LEN];
    ms_buf ev;
    randombytes_buf(sk, sizeof sk);
    crypto_scalarmult_base(pk, sk);
    /* Evidence stays valid a little past the rotation so a handshake in flight completes. */
    uint64_t not_after = now_s + id->ttl_s + id->grace_s;
    ms_binding_in in = {.evidence_type = id->src.type, .mode = MS_MODE_FAST, .not_after = not_after};
    memcpy(in.static_pk, pk, MS_X25519_LEN);
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    ms_err err = ms_kdf_binding(b, &in);
    if (err == MS_OK) {
        err = id->src.make(id->src.ctx, b, &ev);
    }
    ms_shared_evidence *made = err == MS_OK ? shared_new(ev.p, ev.len) : NULL;
    if (err == MS_OK && made == NULL) {
        err = MS_ERR_NOMEM;
    }
    if (err == MS_OK) {
        shared_unref(id->evidence); /* handshakes still using it hold their own reference */
        id->evidence = made;
        crypto_hash_sha256(id->evidence_sha256, made->data, made->len);
        memcpy(id->static_sk, sk, sizeof sk);
        memcpy(id->static_pk, pk, sizeof pk);
        id->not_after = not_after;
        id->rotations++;
    }
    ms_buf_free(&ev);
    ms_wipe(sk, sizeof sk);
    return err;
}

ms_err ms_identity_init(ms_identity *id, const ms_evidence_source *src, uint64_t ttl_s, uint64_t now_s)
{
    return ms_identity_init_grace(id, src, ttl_s, MS_IDENTITY_GRACE_S, now_s);
}

ms_err ms_identity_init_grace(ms_identity *id, const ms_evidence_source *src, uint64_t ttl_s,
                              uint64_t grace_s, uint64_t now_s)
{
    memset(id, 0, sizeof *id);
    ENSURE(ttl_s >= 1 && grace_s >= 1 && src && src->make, MS_ERR_ARG);
    ENSURE(pthread_mutex_init(&id->lock, NULL) == 0, MS_ERR_NOMEM);
    id->src = *src;
    id->ttl_s = ttl_s;
    id->grace_s = grace_s;
    return rotate_locked(id, now_s);
}

void ms_identity_destroy(ms_identity *id)
{
    shared_unref(id->evidence);
    pthread_mutex_destroy(&id->lock);
    ms_wipe(id, sizeof *id);
}

ms_err ms_identity_take(ms_identity *id, uint64_t now_s, ms_identity_snapshot *snap)
{
    ms_err err = MS_OK;
    memset(snap, 0, sizeof *snap);
    pthread_mutex_lock(&id->lock);
    /* Rotate when the current key is older than ttl_s (not_after = start + ttl_s + grace_s). */
    if (now_s + id->grace_s >= id->not_after) {
        ms_err e = rotate_locked(id, now_s);
        if (e != MS_OK) {
            ms_log(MS_LOG_WARN, "supervisor", "cannot renew evidence: %s", ms_err_name(e));
        }
    }
    /* An old key whose evidence has expired must not be offered: clients would refuse it. */
    if (now_s > id->not_after) {
        err = MS_ERR_ATTEST_UNAVAILABLE;
    } else {
        memcpy(snap->static_sk, id->static_sk, MS_X25519_LEN);
        memcpy(snap->static_pk, id->static_pk, MS_X25519_LEN);
        snap->not_after = id->not_after;
        snap->src = id->src;
        memcpy(snap->evidence_sha256, id->evidence_sha256, sizeof snap->evidence_sha256);
        snap->evidence = shared_ref(id->evidence); /* a reference, not a copy */
    }
    pthread_mutex_unlock(&id->lock);
    return err;
}

void ms_identity_snapshot_wipe(ms_identity_snapshot *snap)
{
    shared_unref(snap->evidence);
    ms_wipe(snap, sizeof *snap);
}

static int offered(const ms_evidence_request *req, uint16_t type)
{
    for (uint8_t i = 0; i < req->n_client_types; i++) {
        if (req->client_types[i] == type) {
            return 1;
        }
    }
    return 0;
}

ms_err ms_identity_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    const ms_identity_snapshot *snap = ctx;
    ENSURE(offered(req, snap->src.type), MS_ERR_HS_EVIDENCE_TYPE);
    rep->type = snap->src.type;
    rep->not_after = snap->not_after;
    if (!req->strict) {
        /* The snapshot's reference keeps the bytes until the handshake is answered. */
        ENSURE(snap->evidence != NULL, MS_ERR_ATTEST_UNAVAILABLE);
        rep->mode = MS_MODE_FAST;
        rep->shared = snap->evidence->data;
        rep->shared_len = snap->evidence->len;
        rep->shared_sha256 = snap->evidence_sha256; /* made once, at the rotation */
        return MS_OK;
    }
    ENSURE(snap->src.can_strict, MS_ERR_HS_MODE);
    uint8_t b[MS_BINDING_LEN];
    ms_binding_in in = {.evidence_type = snap->src.type, .mode = MS_MODE_STRICT,
                        .not_after = snap->not_after};
    memcpy(in.static_pk, req->static_pk, MS_X25519_LEN);
    memcpy(in.challenge, req->challenge, MS_CHALLENGE_LEN);
    memcpy(in.client_eph_pk, req->client_eph_pk, MS_X25519_LEN);
    memcpy(in.server_eph_pk, req->server_eph_pk, MS_X25519_LEN);
    TRY(ms_kdf_binding(b, &in));
    rep->mode = MS_MODE_STRICT;
    return snap->src.make(snap->src.ctx, b, &rep->evidence);
}

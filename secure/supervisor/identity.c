/* Static key rotation and dev-key evidence for the supervisor's handshakes. */
#include "secure/supervisor/identity.h"

#include <string.h>

#include "common/check.h"
#include "secure/kdf.h"

/* New static key and its FAST evidence (lock held). */
static ms_err rotate_locked(ms_identity *id, uint64_t now_s)
{
    uint8_t b[MS_BINDING_LEN];
    ms_buf ev;
    randombytes_buf(id->static_sk, sizeof id->static_sk);
    crypto_scalarmult_base(id->static_pk, id->static_sk);
    /* Evidence stays valid a little past the rotation so a handshake in flight completes. */
    id->not_after = now_s + id->ttl_s + 60;
    ms_binding_in in = {.evidence_type = MS_EVIDENCE_DEV_KEY, .mode = MS_MODE_FAST,
                        .not_after = id->not_after};
    memcpy(in.static_pk, id->static_pk, MS_X25519_LEN);
    TRY(ms_kdf_binding(b, &in));
    ms_buf_init(&ev, MS_DEVKEY_EVIDENCE_LEN);
    ms_err err = ms_devkey_evidence(&id->dev, b, &ev);
    if (err == MS_OK) {
        memcpy(id->evidence, ev.p, MS_DEVKEY_EVIDENCE_LEN);
        id->rotations++;
    }
    ms_buf_free(&ev);
    return err;
}

ms_err ms_identity_init(ms_identity *id, const ms_devkey *dev, uint64_t ttl_s, uint64_t now_s)
{
    memset(id, 0, sizeof *id);
    ENSURE(ttl_s >= 1, MS_ERR_ARG);
    ENSURE(pthread_mutex_init(&id->lock, NULL) == 0, MS_ERR_NOMEM);
    id->dev = *dev;
    id->ttl_s = ttl_s;
    return rotate_locked(id, now_s);
}

void ms_identity_destroy(ms_identity *id)
{
    pthread_mutex_destroy(&id->lock);
    ms_wipe(id, sizeof *id);
}

void ms_identity_take(ms_identity *id, uint64_t now_s, ms_identity_snapshot *snap)
{
    pthread_mutex_lock(&id->lock);
    /* Rotate when the current key is older than ttl_s (not_after = start + ttl_s + 60). */
    if (now_s + 60 >= id->not_after) {
        ms_err e = rotate_locked(id, now_s);
        (void)e; /* signing cannot fail; on failure the old evidence simply stays */
    }
    memcpy(snap->static_sk, id->static_sk, MS_X25519_LEN);
    memcpy(snap->static_pk, id->static_pk, MS_X25519_LEN);
    memcpy(snap->evidence, id->evidence, MS_DEVKEY_EVIDENCE_LEN);
    snap->not_after = id->not_after;
    snap->dev = id->dev;
    snap->id = id;
    pthread_mutex_unlock(&id->lock);
}

void ms_identity_snapshot_wipe(ms_identity_snapshot *snap)
{
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
    ENSURE(offered(req, MS_EVIDENCE_DEV_KEY), MS_ERR_HS_EVIDENCE_TYPE);
    rep->type = MS_EVIDENCE_DEV_KEY;
    rep->not_after = snap->not_after;
    if (!req->strict) {
        rep->mode = MS_MODE_FAST;
        return ms_buf_append(&rep->evidence, snap->evidence, MS_DEVKEY_EVIDENCE_LEN);
    }
    uint8_t b[MS_BINDING_LEN];
    ms_binding_in in = {.evidence_type = MS_EVIDENCE_DEV_KEY, .mode = MS_MODE_STRICT,
                        .not_after = snap->not_after};
    memcpy(in.static_pk, req->static_pk, MS_X25519_LEN);
    memcpy(in.challenge, req->challenge, MS_CHALLENGE_LEN);
    memcpy(in.client_eph_pk, req->client_eph_pk, MS_X25519_LEN);
    memcpy(in.server_eph_pk, req->server_eph_pk, MS_X25519_LEN);
    TRY(ms_kdf_binding(b, &in));
    rep->mode = MS_MODE_STRICT;
    return ms_devkey_evidence(&snap->dev, b, &rep->evidence);
}

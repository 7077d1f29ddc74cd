/* The channel demo's steps: a client and a supervisor in one process (tools/channel-demo). */
#ifndef MS_TOOLS_CHANNEL_DEMO_H
#define MS_TOOLS_CHANNEL_DEMO_H

#include "secure/handshake.h"
#include "secure/hs_msg.h"

/*
 * Development-key evidence (protocol.md §2.3): an Ed25519 signature by a pinned dev key over
 * the binding B. It proves only who holds the dev key, never what host runs the supervisor.
 */
typedef struct dev_key {
    uint8_t pk[MS_SIGN_PK_LEN];
    uint8_t sk[MS_SIGN_SK_LEN];
} dev_key;

typedef struct demo {
    dev_key dev;
    uint8_t static_sk[MS_X25519_LEN], static_pk[MS_X25519_LEN];
    struct ms_channel *cc, *sc;
} demo;

/* Development-key evidence: made by the supervisor, checked by the client (dev-key pinned). */
ms_err demo_dev_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep);
ms_err demo_dev_verify(void *ctx, const ms_evidence_view *ev);

/* Each step prints what it shows and returns 1 when every check held. */
int demo_handshake(demo *d);
int demo_exchange(demo *d);
int demo_attacks(demo *d);

#endif

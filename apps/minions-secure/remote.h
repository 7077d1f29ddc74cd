/* The supervisor link of protocols/protocol.h (ms_remote) over an attested ms_client session. */
#ifndef MS_APPS_MINIONS_SECURE_REMOTE_H
#define MS_APPS_MINIONS_SECURE_REMOTE_H

#include "protocols/protocol.h"
#include "secure/client/client.h"

/*
 * Each turn sends the whole conversation as one §12.3 request (ms_client_request_build_msgs)
 * over ms_client_turn_reply, so every byte travels inside the channel and only after the
 * supervisor was verified (the first turn connects if the client has no session). The
 * client decodes the reply once into the protocol's ms_turn_reply: content, usage, the
 * seal, open and transport times, the re-handshakes the turn needed, and for a sealed
 * {"ok": false} its error code and message (MS_ERR_BACKEND_REMOTE).
 * Errors: those of ms_client_request_build_msgs (MS_ERR_ARG; MS_ERR_CAP_EXCEEDED when the
 * conversation does not fit one record, MAX_RECORD_PLAINTEXT) and of ms_client_turn_reply
 * (MS_ERR_PAYLOAD for a reply that breaks §12.3). Nothing is logged here.
 * Not thread-safe (an ms_client is not): one run at a time per client.
 */
typedef struct ms_remote_client {
    ms_client *client;  /* borrowed; must outlive every turn */
    long max_tokens;    /* 0: the supervisor's default */
    double temperature; /* < 0: the supervisor's default */
} ms_remote_client;

/* The ms_remote whose turns use rc (borrowed: it must outlive the remote's use). */
ms_remote ms_remote_over_client(ms_remote_client *rc);

#endif

/* ms_remote over ms_client: a protocol's conversation as one sealed §12.3 request per turn. */
#include "apps/minions-secure/remote.h"

#include "common/check.h"
#include "common/limits.h"
#include "secure/client/payload.h"

/* The reply is decoded once, by the client (ms_client_turn_reply), into the protocol's own
   ms_turn_reply: nothing to parse or copy here. */
static ms_err turn(void *ctx, const ms_chat_msg *msgs, size_t n, ms_turn_reply *reply)
{
    ms_remote_client *rc = ctx;
    ms_buf req;
    ms_err err;
    ENSURE(rc != NULL && rc->client != NULL && reply != NULL, MS_ERR_ARG);
    ms_turn_reply_clear(reply);
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    TRY_OUT(ms_client_request_build_msgs(msgs, n, rc->max_tokens, rc->temperature, &req));
    err = ms_client_turn_reply(rc->client, req.p, req.len, reply, NULL);
out:
    ms_buf_free(&req);
    return err;
}

ms_remote ms_remote_over_client(ms_remote_client *rc)
{
    return (ms_remote){.turn = turn, .ctx = rc};
}

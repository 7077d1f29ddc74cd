/* ms_remote over ms_client: a protocol's conversation as one sealed §12.3 request per turn. */
#include "apps/minions-secure/remote.h"

#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "secure/client/payload.h"

_Static_assert(sizeof(((ms_remote_info *)0)->error_code) ==
                   sizeof(((ms_client_turn_info *)0)->error_code),
               "error code fields differ");
_Static_assert(sizeof(((ms_remote_info *)0)->error_message) ==
                   sizeof(((ms_client_turn_info *)0)->error_message),
               "error message fields differ");

static ms_err take_reply(const ms_buf *json, ms_buf *reply, ms_remote_info *info)
{
    ms_client_reply r;
    TRY(ms_client_reply_parse(json->p, json->len, 0, &r));
    ms_err e = r.ok ? MS_OK : MS_ERR_PAYLOAD; /* ms_client_turn reports ok:false itself */
    if (e == MS_OK) {
        info->prompt_tokens = r.prompt_tokens;
        info->completion_tokens = r.completion_tokens;
        e = ms_buf_append(reply, r.content, r.content_len);
    }
    ms_client_reply_free(&r);
    return e;
}

static ms_err turn(void *ctx, const ms_chat_msg *msgs, size_t n, ms_buf *reply,
                   ms_remote_info *info)
{
    ms_remote_client *rc = ctx;
    ms_client_turn_info ti;
    ms_client_peer before, after;
    ms_buf req, json;
    ms_err err;
    memset(info, 0, sizeof *info);
    ENSURE(rc != NULL && rc->client != NULL && reply != NULL, MS_ERR_ARG);
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&json, MS_MAX_RECORD_PLAINTEXT);
    TRY_OUT(ms_client_request_build_msgs(msgs, n, rc->max_tokens, rc->temperature, &req));
    ms_client_peer_info(rc->client, &before);
    memset(&ti, 0, sizeof ti);
    double t0 = ms_clock_s();
    err = ms_client_turn(rc->client, req.p, req.len, &json, &ti);
    double total = ms_clock_s() - t0;
    info->seal_s = ti.seal_s;
    info->open_s = ti.open_s;
    /* What is left of the turn: HTTP both ways, the supervisor and its engine. */
    info->transport_s = total > ti.seal_s + ti.open_s ? total - ti.seal_s - ti.open_s : 0.0;
    ms_client_peer_info(rc->client, &after);
    info->rehandshakes = after.rehandshakes - before.rehandshakes;
    if (err == MS_ERR_BACKEND_REMOTE) {
        memcpy(info->error_code, ti.error_code, sizeof info->error_code);
        info->error_code[sizeof info->error_code - 1] = '\0';
        memcpy(info->error_message, ti.error_message, sizeof info->error_message);
        info->error_message[sizeof info->error_message - 1] = '\0';
    }
    TRY_OUT(err);
    err = take_reply(&json, reply, info);
out:
    ms_buf_free(&req);
    ms_buf_free(&json);
    return err;
}

ms_remote ms_remote_over_client(ms_remote_client *rc)
{
    return (ms_remote){.turn = turn, .ctx = rc};
}

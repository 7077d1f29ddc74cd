/* common/turn_reply.h */
#include "common/turn_reply.h"

#include <string.h>

bool ms_finish_reason_cut(const char *reason, size_t len)
{
    static const char LENGTH[] = "length";
    return reason != NULL && len == sizeof LENGTH - 1 && strncmp(reason, LENGTH, len) == 0;
}

void ms_turn_reply_init(ms_turn_reply *r, size_t max)
{
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->content, max);
}

void ms_turn_reply_clear(ms_turn_reply *r)
{
    ms_buf content = r->content;
    ms_buf_clear(&content);
    ms_wipe(r->error_message, sizeof r->error_message);
    memset(r, 0, sizeof *r);
    r->content = content;
}

void ms_turn_reply_free(ms_turn_reply *r)
{
    ms_buf_free(&r->content); /* keeps its cap: the reply can be reused, as a buffer can */
    ms_turn_reply_clear(r);
}

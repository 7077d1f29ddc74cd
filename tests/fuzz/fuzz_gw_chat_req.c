/* Fuzz serve's reading of OpenAI chat-completions bodies (gateway/chat_req.c) and its stops. */
#include <string.h>

#include "gateway/chat_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ms_gw_chat_req r; /* large: not on the stack */
    const char *param;
    if (ms_gw_chat_req_parse((const char *)data, size, &r, &param) == MS_OK) {
        size_t at;
        if (ms_gw_chat_find_stop(&r, (const char *)r.channel.p, r.channel.len, &at) &&
            at >= r.channel.len) {
            __builtin_trap(); /* a stop found past the text */
        }
    }
    ms_gw_chat_req_free(&r);
    return 0;
}

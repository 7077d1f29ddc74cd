/* POST /v1/chat/completions: one turn over an attested session, whole or streamed. */
#include "gateway/internal.h"

void ms_gw_h_chat(const ms_gw_req *req, ms_gw_resp *resp)
{
    (void)req;
    ms_gw_error(resp, 503, "api_error", NULL, "not_ready", "chat completions come next");
}

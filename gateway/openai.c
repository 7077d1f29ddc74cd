/* GET /v1/models: the one model the supervisor serves, under the id serve was given. */
#include "gateway/internal.h"

void ms_gw_h_models(const ms_gw_req *req, ms_gw_resp *resp)
{
    ms_json_builder *b;
    ms_json_wval root, data, m;
    if (ms_json_builder_new(MS_JSON_OBJECT, &b, &root) != MS_OK) {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "out of memory");
        return;
    }
    if (ms_json_add_cstr(root, "object", "list") == MS_OK &&
        ms_json_add_arr(root, "data", &data) == MS_OK && ms_json_add_obj(data, NULL, &m) == MS_OK &&
        ms_json_add_cstr(m, "id", req->gw->model) == MS_OK &&
        ms_json_add_cstr(m, "object", "model") == MS_OK &&
        ms_json_add_u64(m, "created", req->gw->created) == MS_OK &&
        ms_json_add_cstr(m, "owned_by", "minions-secure") == MS_OK) {
        ms_gw_json(resp, b);
    } else {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "the reply could not be built");
    }
    ms_json_builder_free(b);
}

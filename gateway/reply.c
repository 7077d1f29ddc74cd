/* Replies: OpenAI-style errors, JSON bodies, and how a failed turn is told to an API client. */
#include <string.h>

#include "common/limits.h"
#include "gateway/internal.h"

void ms_gw_resp_init(ms_gw_resp *r)
{
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->body, MS_MAX_JSON_TEXT);
}

void ms_gw_resp_free(ms_gw_resp *r)
{
    ms_buf_free(&r->body);
}

static ms_err error_json(ms_buf *out, const char *type, const char *param, const char *code,
                         const char *message)
{
    ms_json_builder *b;
    ms_json_wval root, e;
    ms_err err = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (err != MS_OK) {
        return err;
    }
    if ((err = ms_json_add_obj(root, "error", &e)) == MS_OK &&
        (err = ms_json_add_cstr(e, "message", message)) == MS_OK &&
        (err = ms_json_add_cstr(e, "type", type)) == MS_OK &&
        (err = param ? ms_json_add_cstr(e, "param", param) : ms_json_add_null(e, "param")) == MS_OK &&
        (err = code ? ms_json_add_cstr(e, "code", code) : ms_json_add_null(e, "code")) == MS_OK) {
        err = ms_json_builder_print(b, out);
    }
    ms_json_builder_free(b);
    return err;
}

void ms_gw_error(ms_gw_resp *r, int status, const char *type, const char *param,
                 const char *code, const char *message)
{
    static const char FALLBACK[] =
        "{\"error\":{\"message\":\"internal error\",\"type\":\"api_error\",\"param\":null,"
        "\"code\":\"internal\"}}";
    ms_buf_clear(&r->body);
    r->status = status;
    r->content_type = "application/json";
    r->static_body = NULL;
    if (error_json(&r->body, type, param, code, message) != MS_OK) {
        ms_buf_clear(&r->body);
        r->static_body = (const uint8_t *)FALLBACK;
        r->static_len = sizeof FALLBACK - 1;
    }
}

void ms_gw_json(ms_gw_resp *r, const ms_json_builder *b)
{
    ms_buf_clear(&r->body);
    if (ms_json_builder_print(b, &r->body) != MS_OK) {
        ms_gw_error(r, 500, "api_error", NULL, "internal", "the reply could not be built");
        return;
    }
    if (r->status == 0) {
        r->status = 200;
    }
    r->content_type = "application/json";
}

/* Transport failures: the supervisor cannot be reached or answered badly. */
static bool is_transport(ms_err e)
{
    return e == MS_ERR_HTTP_CONNECT || e == MS_ERR_HTTP_TLS || e == MS_ERR_HTTP_TIMEOUT ||
           e == MS_ERR_HTTP_STATUS || e == MS_ERR_HTTP_BODY || e == MS_ERR_IO ||
           e == MS_ERR_HTTP_PIN;
}

void ms_gw_turn_error(ms_err e, const ms_client_turn_info *ti, int *status, const char **type,
                      const char **code, const char **message, int *retry_after)
{
    *retry_after = 0;
    *type = "api_error";
    *message = ms_err_str(e);
    *code = ms_err_name(e);
    if (e == MS_ERR_BACKEND_REMOTE && ti && ti->remote_failed) {
        /* the supervisor's sealed {"ok": false}: its code; its message is the engine's text,
           kept printable ASCII by the client */
        *code = ti->error_code;
        *message = ti->error_message[0] ? ti->error_message : "the model engine failed";
        *status = strcmp(ti->error_code, "bad_request") == 0 ? 400 : 502;
        *type = *status == 400 ? "invalid_request_error" : "api_error";
        return;
    }
    if (e == MS_ERR_SERVER_BUSY || e == MS_ERR_GW_POOL_BUSY) {
        *status = 503;
        *type = "rate_limit_error";
        *retry_after = ti && ti->retry_after_s > 0 ? (int)ti->retry_after_s : 1;
        return;
    }
    if (e == MS_ERR_CAP_EXCEEDED) {
        *status = 413;
        *type = "invalid_request_error";
        *message = "the request does not fit in one record of the channel (1 MiB)";
        return;
    }
    if (is_transport(e)) {
        *status = 503; /* the supervisor is down or unreachable: worth a retry */
        return;
    }
    *status = 502; /* verification, a broken reply, a cut stream: never retried blindly */
}

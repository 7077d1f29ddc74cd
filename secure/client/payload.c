/* §12.3 payloads: build the request JSON, read the reply JSON with the typed reader. */
#include "secure/client/payload.h"

#include <string.h>

#include "common/check.h"
#include "common/limits.h"
#include "common/turn_reply.h"

const char *const MS_CLIENT_ERROR_CODES[] = {"backend_unavailable", "backend_timeout",
                                             "backend_error", "reply_too_large",
                                             "bad_request"};

static ms_err add_message(ms_json_wval msgs, const char *role, const char *content)
{
    ms_json_wval m;
    TRY(ms_json_add_obj(msgs, NULL, &m));
    TRY(ms_json_add_cstr(m, "role", role));
    return ms_json_add_cstr(m, "content", content);
}

static ms_err build_fields(ms_json_wval root, const char *system_prompt, const char *prompt,
                           long max_tokens, double temperature)
{
    ms_json_wval msgs;
    TRY(ms_json_add_arr(root, "messages", &msgs));
    if (system_prompt) {
        TRY(add_message(msgs, "system", system_prompt));
    }
    TRY(add_message(msgs, "user", prompt));
    if (max_tokens > 0) {
        TRY(ms_json_add_i64(root, "max_tokens", max_tokens));
    }
    if (temperature >= 0.0) {
        TRY(ms_json_add_double(root, "temperature", temperature));
    }
    return MS_OK;
}

ms_err ms_client_request_build(const char *system_prompt, const char *prompt, long max_tokens,
                               double temperature, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ENSURE(prompt != NULL && max_tokens >= 0 && max_tokens <= 1000000 && temperature <= 2.0,
           MS_ERR_ARG);
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err err = build_fields(root, system_prompt, prompt, max_tokens, temperature);
    if (err == MS_OK) {
        err = ms_json_builder_print(b, out);
    }
    ms_json_builder_free(b);
    return err;
}

/* A message with images: {"type":"text",...} then {"type":"image_url",...} parts. */
static ms_err add_parts(ms_json_wval m, const ms_chat_msg *msg, ms_buf *url)
{
    ms_json_wval parts, p, iu;
    TRY(ms_json_add_arr(m, "content", &parts));
    TRY(ms_json_add_obj(parts, NULL, &p));
    TRY(ms_json_add_cstr(p, "type", "text"));
    TRY(ms_json_add_str(p, "text", msg->content ? msg->content : "", msg->content_len));
    for (size_t i = 0; i < msg->n_images; i++) {
        const ms_chat_image *im = &msg->images[i];
        ENSURE(im->mime != NULL && im->b64 != NULL, MS_ERR_ARG);
        ms_buf_clear(url);
        TRY(ms_buf_append_str(url, "data:"));
        TRY(ms_buf_append_str(url, im->mime));
        TRY(ms_buf_append_str(url, ";base64,"));
        TRY(ms_buf_append(url, im->b64, im->b64_len));
        TRY(ms_json_add_obj(parts, NULL, &p));
        TRY(ms_json_add_cstr(p, "type", "image_url"));
        TRY(ms_json_add_obj(p, "image_url", &iu));
        TRY(ms_json_add_str(iu, "url", (const char *)url->p, url->len));
    }
    return MS_OK;
}

static ms_err build_msgs(ms_json_wval root, const ms_chat_msg *msgs, size_t n, ms_buf *url)
{
    static const char *const roles[] = {"system", "user", "assistant"};
    ms_json_wval arr, m;
    size_t images = 0;
    TRY(ms_json_add_arr(root, "messages", &arr));
    for (size_t i = 0; i < n; i++) {
        const ms_chat_msg *msg = &msgs[i];
        int known = 0;
        for (size_t r = 0; r < 3 && msg->role; r++) {
            known |= strcmp(msg->role, roles[r]) == 0;
        }
        ENSURE(known && (msg->content != NULL || msg->content_len == 0), MS_ERR_ARG);
        ENSURE(msg->n_images == 0 || (msg->images != NULL && strcmp(msg->role, "user") == 0 &&
                                      msg->n_images < MS_MAX_MSG_PARTS),
               MS_ERR_ARG);
        images += msg->n_images;
        ENSURE(images <= MS_MAX_REQUEST_IMAGES, MS_ERR_ARG);
        TRY(ms_json_add_obj(arr, NULL, &m));
        TRY(ms_json_add_cstr(m, "role", msg->role));
        if (msg->n_images > 0) {
            TRY(add_parts(m, msg, url));
        } else {
            TRY(ms_json_add_str(m, "content", msg->content ? msg->content : "", msg->content_len));
        }
    }
    return MS_OK;
}

ms_err ms_client_request_build_msgs(const ms_chat_msg *msgs, size_t n, long max_tokens,
                                    double temperature, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_buf url;
    ENSURE(msgs != NULL && n >= 1 && n <= MS_MAX_CHAT_MESSAGES && max_tokens >= 0 &&
               max_tokens <= 1000000 && temperature <= 2.0,
           MS_ERR_ARG);
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_buf_init(&url, MS_MAX_RECORD_PLAINTEXT);
    ms_err err = build_msgs(root, msgs, n, &url);
    if (err == MS_OK && max_tokens > 0) {
        err = ms_json_add_i64(root, "max_tokens", max_tokens);
    }
    if (err == MS_OK && temperature >= 0.0) {
        err = ms_json_add_double(root, "temperature", temperature);
    }
    if (err == MS_OK) {
        err = ms_json_builder_print(b, out);
    }
    ms_buf_free(&url);
    ms_json_builder_free(b);
    return err;
}

/* A kept content (ms_json_parse_keep) as it is; any other string through the getter. An
   escaped length over the cap fails here and the decoding parse judges the text. */
static ms_err get_content(ms_client_reply *r, ms_json_val root)
{
    ms_json_val v;
    ms_json_text t;
    if (ms_json_get(root, "content", &v) == MS_OK && ms_json_as_text(v, &t) == MS_OK &&
        t.escaped) {
        ENSURE(t.len <= MS_MAX_RECORD_PLAINTEXT, MS_ERR_JSON_TOO_LONG);
        r->content = t.p;
        r->content_len = t.len;
        r->content_escaped = true;
        return MS_OK;
    }
    return ms_json_get_str(root, "content", MS_MAX_RECORD_PLAINTEXT, &r->content,
                           &r->content_len);
}

static ms_err parse_ok(ms_client_reply *r, ms_json_val root, int streamed)
{
    ms_json_val usage;
    size_t n;
    if (streamed) {
        /* A FINAL carries no content (§12.3): the text came in STREAM_DATA records. */
        ms_json_val v;
        ENSURE(ms_json_get(root, "content", &v) == MS_ERR_JSON_MISSING, MS_ERR_JSON_TYPE);
    } else {
        TRY(get_content(r, root));
    }
    TRY(ms_json_get_str(root, "finish_reason", MS_MAX_JSON_STRING, &r->finish_reason, &n));
    r->truncated = ms_finish_reason_cut(r->finish_reason, n);
    TRY(ms_json_get_obj(root, "usage", &usage));
    TRY(ms_json_get_u64(usage, "prompt_tokens", UINT32_MAX, &r->prompt_tokens));
    return ms_json_get_u64(usage, "completion_tokens", UINT32_MAX, &r->completion_tokens);
}

static ms_err parse_error(ms_client_reply *r, ms_json_val root)
{
    ms_json_val e;
    size_t idx, n;
    TRY(ms_json_get_obj(root, "error", &e));
    TRY(ms_json_get_enum(e, "code", MS_CLIENT_ERROR_CODES, MS_CLIENT_N_ERROR_CODES, &idx));
    r->error_code = MS_CLIENT_ERROR_CODES[idx];
    return ms_json_get_str(e, "message", MS_MAX_JSON_STRING, &r->error_message, &n);
}

static ms_err reply_parse(const uint8_t *json, size_t len, int streamed, bool keep,
                          ms_client_reply *out)
{
    memset(out, 0, sizeof *out);
    ms_err err = keep ? ms_json_parse_keep((const char *)json, len, &out->doc)
                      : ms_json_parse((const char *)json, len, &out->doc);
    if (err == MS_ERR_NOMEM) {
        return err;
    }
    ms_json_val root = ms_json_root(out->doc);
    if (err == MS_OK) {
        err = ms_json_get_bool(root, "ok", &out->ok);
    }
    if (err == MS_OK) {
        err = out->ok ? parse_ok(out, root, streamed) : parse_error(out, root);
    }
    if (err != MS_OK) {
        ms_client_reply_free(out);
        return MS_ERR_PAYLOAD;
    }
    return MS_OK;
}

ms_err ms_client_reply_parse(const uint8_t *json, size_t len, int streamed, ms_client_reply *out)
{
    return reply_parse(json, len, streamed, false, out);
}

/* Only the content is read as a kept string: another long one (an error message) refuses
   its getter, so a failed kept parse is done again decoding and its result is that one's. */
ms_err ms_client_reply_parse_kept(const uint8_t *json, size_t len, int streamed,
                                  ms_client_reply *out)
{
    ms_err err = reply_parse(json, len, streamed, true, out);
    return err == MS_OK ? MS_OK : reply_parse(json, len, streamed, false, out);
}

void ms_client_reply_free(ms_client_reply *r)
{
    ms_json_free(r->doc);
    memset(r, 0, sizeof *r);
}

void ms_client_sanitize(const char *s, size_t len, char *out, size_t cap)
{
    size_t i = 0;
    if (cap == 0) {
        return;
    }
    for (; s && i < len && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[i] = '\0';
}

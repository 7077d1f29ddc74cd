/* Retry loop, error mapping and request/response helpers shared by the engine clients. */
#include "common/llm/engine.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/turn_reply.h"

#define DEFAULT_BACKOFF_BASE_MS 250u

/* --- retry loop ------------------------------------------------------------------------------ */

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Jitter only spreads retries out: it needs no secrecy, and failing to get it is harmless. */
static uint32_t jitter(uint32_t below)
{
    uint32_t v = 0;
    if (below == 0 || getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        return 0;
    }
    return v % below;
}

/* Wait before retry number `retry` (0-based); false when Retry-After asks for too long. */
bool ms_llm_retry_wait(const ms_llm_retry *rt, unsigned retry, long retry_after_s,
                       uint32_t *wait_ms)
{
    uint32_t cap = rt->max_wait_ms ? rt->max_wait_ms : MS_MAX_LLM_RETRY_WAIT_MS;
    uint64_t base = rt->backoff_base_ms ? rt->backoff_base_ms : DEFAULT_BACKOFF_BASE_MS;
    uint64_t w = retry < 20 ? base << retry : cap;
    w += jitter((uint32_t)(w / 2 < UINT32_MAX ? w / 2 : UINT32_MAX));
    if (retry_after_s > 0) {
        uint64_t ra = (uint64_t)retry_after_s * 1000u;
        if (ra > cap) {
            return false;
        }
        w = w > ra ? w : ra;
    }
    *wait_ms = (uint32_t)(w < cap ? w : cap);
    return true;
}

void ms_llm_clear_parsed(ms_chat_result *r)
{
    ms_buf_clear(&r->content);
    r->finish_reason[0] = '\0';
    r->truncated = false;
    r->prompt_tokens = 0;
    r->completion_tokens = 0;
    r->error_text[0] = '\0';
    r->content_escaped = false;
}

/* What one attempt fills in. */
static void clear_reply(ms_chat_result *r)
{
    ms_llm_clear_parsed(r);
    r->http_status = 0;
}

void ms_llm_reset_result(ms_chat_result *r)
{
    clear_reply(r);
    r->seconds = 0;
    r->attempts = 0;
    r->retry_after_s = 0;
}

void ms_llm_attempt_begin(ms_chat_result *r)
{
    clear_reply(r);
    r->attempts++;
}

bool ms_llm_retry_next(const char *engine, ms_http_client *http, const ms_llm_retry *rt,
                       unsigned i, ms_err e, bool retryable, const ms_chat_result *r)
{
    uint32_t wait = 0;
    if (e == MS_OK || !retryable || i >= rt->max_retries ||
        !ms_llm_retry_wait(rt, i, ms_http_retry_after_s(http), &wait)) {
        return false;
    }
    ms_log(MS_LOG_WARN, engine, "attempt %u failed (%s, HTTP %ld); retrying in %u ms",
           r->attempts, ms_err_name(e), r->http_status, (unsigned)wait);
    sleep_ms(wait);
    return true;
}

void ms_llm_run_end(ms_http_client *http, ms_err e, double t0, ms_chat_result *r)
{
    if (e != MS_OK) {
        ms_buf_clear(&r->content); /* never hand back part of an answer as if it were one */
    }
    if (e == MS_ERR_BACKEND_STATUS && (r->http_status == 429 || r->http_status == 503)) {
        r->retry_after_s = ms_http_retry_after_s(http); /* busy: said in the caller's error */
    }
    r->seconds = ms_clock_s() - t0;
}

ms_err ms_llm_run(const char *engine, ms_http_client *http, const ms_llm_retry *rt,
                  ms_llm_attempt_fn fn, void *ctx, ms_chat_result *r)
{
    double t0 = ms_clock_s();
    ms_err e = MS_OK;
    ms_llm_reset_result(r);
    for (unsigned i = 0;; i++) {
        bool retryable = false;
        ms_llm_attempt_begin(r);
        e = fn(ctx, r, &retryable);
        if (!ms_llm_retry_next(engine, http, rt, i, e, retryable, r)) {
            break;
        }
    }
    ms_llm_run_end(http, e, t0, r);
    return e;
}

/* --- error mapping --------------------------------------------------------------------------- */

static bool status_2xx(long s)
{
    return s >= 200 && s <= 299;
}

ms_err ms_llm_outcome(ms_err http_err, long status, const ms_buf *body, ms_chat_result *r,
                      bool *retryable)
{
    r->http_status = status;
    *retryable = false;
    if (status != 0 && !status_2xx(status)) {
        if (http_err == MS_OK && body != NULL) {
            ms_llm_error_text(body->p, body->len, r->error_text, sizeof r->error_text);
        }
        *retryable = status == 429 || (status >= 500 && status <= 599);
        return MS_ERR_BACKEND_STATUS;
    }
    switch (http_err) {
    case MS_OK:
        return status_2xx(status) ? MS_OK : MS_ERR_BACKEND_FORMAT;
    case MS_ERR_HTTP_CONNECT:
        *retryable = true;
        return MS_ERR_BACKEND_UNAVAILABLE;
    case MS_ERR_HTTP_TIMEOUT:
        return MS_ERR_BACKEND_TIMEOUT;
    case MS_ERR_HTTP_BODY:
        return MS_ERR_BACKEND_FORMAT;
    case MS_ERR_IO:
        return status == 0 ? MS_ERR_BACKEND_UNAVAILABLE : MS_ERR_BACKEND_FORMAT;
    default:
        return http_err;
    }
}

ms_err ms_llm_format_err(ms_err e)
{
    if (e == MS_OK || e == MS_ERR_NOMEM || ms_err_category_of(e) == MS_CAT_BACKEND) {
        return e;
    }
    return MS_ERR_BACKEND_FORMAT;
}

static void copy_sanitised(const char *s, size_t n, char *out, size_t out_size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < MS_MAX_LLM_ERROR_TEXT && k + 1 < out_size; i++, k++) {
        unsigned char ch = (unsigned char)s[i];
        out[k] = ch >= 0x20 && ch <= 0x7e ? (char)ch : '?';
    }
    out[k] = '\0';
}

void ms_llm_error_text_val(ms_json_val obj, char *out, size_t out_size)
{
    ms_json_val err;
    const char *s = NULL;
    size_t n = 0;
    out[0] = '\0';
    ms_err e = MS_ERR_JSON_MISSING;
    if (ms_json_get_obj(obj, "error", &err) == MS_OK) {
        e = ms_json_get_str(err, "message", MS_MAX_JSON_STRING, &s, &n);
    } else if (ms_json_get_str(obj, "error", MS_MAX_JSON_STRING, &s, &n) == MS_OK) {
        e = MS_OK;
    } else {
        e = ms_json_get_str(obj, "message", MS_MAX_JSON_STRING, &s, &n);
    }
    if (e == MS_OK) {
        copy_sanitised(s, n, out, out_size);
    }
}

ms_err ms_llm_engine_error(ms_json_val root, ms_chat_result *r)
{
    ms_json_val v;
    if (ms_json_get(root, "error", &v) != MS_OK || ms_json_type_of(v) == MS_JSON_NULL) {
        return MS_OK;
    }
    ms_llm_error_text_val(root, r->error_text, sizeof r->error_text);
    return MS_ERR_BACKEND_STATUS;
}

void ms_llm_error_text(const uint8_t *body, size_t len, char *out, size_t out_size)
{
    ms_json_doc *doc = NULL;
    out[0] = '\0';
    if (len == 0 || ms_json_parse((const char *)body, len, &doc) != MS_OK) {
        return;
    }
    ms_llm_error_text_val(ms_json_root(doc), out, out_size);
    ms_json_free(doc);
}

/* --- requests -------------------------------------------------------------------------------- */

ms_err ms_llm_url(const char *base_url, const char *suffix, ms_buf *out)
{
    ENSURE(base_url != NULL && suffix != NULL, MS_ERR_ARG);
    size_t n = strnlen(base_url, MS_MAX_HTTP_URL + 1);
    while (n > 0 && base_url[n - 1] == '/') {
        n--;
    }
    ms_buf_init(out, MS_MAX_HTTP_URL);
    ms_err e = ms_buf_append(out, base_url, n);
    if (e == MS_OK) {
        e = ms_buf_append_str(out, suffix);
    }
    if (e == MS_OK) {
        e = ms_buf_terminate(out);
    }
    if (e != MS_OK) {
        ms_buf_free(out);
    }
    return e == MS_ERR_CAP_EXCEEDED ? MS_ERR_HTTP_URL : e;
}

/* OpenAI content parts: the text, then one image_url part per image (a data: URL). */
static ms_err add_parts(ms_json_wval m, const ms_chat_msg *msg)
{
    ms_json_wval parts, p, iu;
    ms_buf url;
    ms_err err = MS_OK;
    TRY(ms_json_add_arr(m, "content", &parts));
    TRY(ms_json_add_obj(parts, NULL, &p));
    TRY(ms_json_add_cstr(p, "type", "text"));
    TRY(ms_json_add_str(p, "text", msg->content ? msg->content : "", msg->content_len));
    ms_buf_init(&url, MS_MAX_LLM_REQUEST);
    for (size_t i = 0; i < msg->n_images; i++) {
        const ms_chat_image *im = &msg->images[i];
        ENSURE_OUT(im->mime != NULL && im->b64 != NULL, MS_ERR_ARG);
        ms_buf_clear(&url);
        TRY_OUT(ms_buf_append_str(&url, "data:"));
        TRY_OUT(ms_buf_append_str(&url, im->mime));
        TRY_OUT(ms_buf_append_str(&url, ";base64,"));
        TRY_OUT(ms_buf_append(&url, im->b64, im->b64_len));
        TRY_OUT(ms_json_add_obj(parts, NULL, &p));
        TRY_OUT(ms_json_add_cstr(p, "type", "image_url"));
        TRY_OUT(ms_json_add_obj(p, "image_url", &iu));
        TRY_OUT(ms_json_add_str(iu, "url", (const char *)url.p, url.len));
    }
out:
    ms_buf_free(&url);
    return err;
}

/* Ollama: the text as content, the images' base64 in "images". */
static ms_err add_images_field(ms_json_wval m, const ms_chat_msg *msg)
{
    ms_json_wval imgs;
    TRY(ms_json_add_str(m, "content", msg->content ? msg->content : "", msg->content_len));
    TRY(ms_json_add_arr(m, "images", &imgs));
    for (size_t i = 0; i < msg->n_images; i++) {
        ENSURE(msg->images[i].b64 != NULL, MS_ERR_ARG);
        TRY(ms_json_add_str(imgs, NULL, msg->images[i].b64, msg->images[i].b64_len));
    }
    return MS_OK;
}

static ms_err add_messages(ms_json_wval root, const ms_chat_msg *msgs, size_t n, bool ollama)
{
    ms_json_wval arr, m;
    ENSURE(msgs != NULL && n > 0 && n <= MS_MAX_LLM_MESSAGES, MS_ERR_ARG);
    TRY(ms_json_add_arr(root, "messages", &arr));
    for (size_t i = 0; i < n; i++) {
        ENSURE(msgs[i].role != NULL && msgs[i].role[0] != '\0', MS_ERR_ARG);
        ENSURE(msgs[i].content != NULL || msgs[i].content_len == 0, MS_ERR_ARG);
        ENSURE(msgs[i].images != NULL || msgs[i].n_images == 0, MS_ERR_ARG);
        TRY(ms_json_add_obj(arr, NULL, &m));
        TRY(ms_json_add_cstr(m, "role", msgs[i].role));
        if (msgs[i].n_images > 0) {
            TRY(ollama ? add_images_field(m, &msgs[i]) : add_parts(m, &msgs[i]));
            continue;
        }
        TRY(ms_json_add_str(m, "content", msgs[i].content ? msgs[i].content : "",
                            msgs[i].content_len));
    }
    return MS_OK;
}

ms_err ms_llm_add_messages(ms_json_wval root, const ms_chat_msg *msgs, size_t n)
{
    return add_messages(root, msgs, n, false);
}

ms_err ms_llm_add_messages_ollama(ms_json_wval root, const ms_chat_msg *msgs, size_t n)
{
    return add_messages(root, msgs, n, true);
}

ms_err ms_llm_add_schema(ms_json_wval parent, const char *key, const char *schema)
{
    ms_json_doc *doc = NULL;
    ENSURE(schema != NULL, MS_ERR_ARG);
    ms_err e = ms_json_parse(schema, strnlen(schema, MS_MAX_JSON_TEXT + 1), &doc);
    ENSURE(e == MS_OK || e == MS_ERR_NOMEM, MS_ERR_ARG);
    TRY(e);
    ms_json_val root = ms_json_root(doc);
    if (ms_json_type_of(root) != MS_JSON_OBJECT) {
        e = MS_ERR_ARG;
    } else {
        e = ms_json_add_value(parent, key, root);
    }
    ms_json_free(doc);
    return e;
}

/* --- responses ------------------------------------------------------------------------------- */

ms_err ms_llm_str_or_null(ms_json_val obj, const char *key, size_t max_len, const char **s,
                          size_t *n)
{
    ms_json_val v;
    *s = NULL;
    *n = 0;
    ms_err e = ms_json_get(obj, key, &v);
    if (e == MS_ERR_JSON_MISSING || (e == MS_OK && ms_json_type_of(v) == MS_JSON_NULL)) {
        return MS_OK;
    }
    TRY(e);
    return ms_json_as_str(v, max_len, s, n);
}

ms_err ms_llm_set_finish(ms_chat_result *r, const char *s, size_t n)
{
    ENSURE(n < sizeof r->finish_reason, MS_ERR_BACKEND_FORMAT);
    memcpy(r->finish_reason, s, n);
    r->finish_reason[n] = '\0';
    r->truncated = ms_finish_reason_cut(s, n);
    return MS_OK;
}

ms_err ms_llm_take_text(ms_chat_result *r, const char *s, size_t n, ms_chat_delta_fn on_delta,
                        void *ctx, bool *delivered, ms_err *user_err)
{
    if (n == 0) {
        return MS_OK;
    }
    ms_err e = ms_buf_append(&r->content, s, n);
    ENSURE(e != MS_ERR_CAP_EXCEEDED, MS_ERR_BACKEND_FORMAT);
    TRY(e);
    if (on_delta == NULL) {
        return MS_OK;
    }
    *delivered = true;
    e = on_delta(ctx, s, n);
    if (e != MS_OK) {
        *user_err = e;
    }
    return e;
}

/* Ollama's wire format: /api/chat replies (JSON and NDJSON streams), /api/tags, /api/version. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "tools/llm-sim/formats.h"

/* "2006-01-02T15:04:05.999999999Z" plus room. */
#define STAMP_LEN 40u

static const char *const done_reasons[] = {"stop", "length", "load"};

/*
 * Go's time.Time in JSON: RFC 3339 with nanoseconds, trailing zeros of the fraction dropped
 * (and the dot too when it is all zeros), UTC written as "Z".
 */
static void rfc3339_nano(const struct timespec *ts, char out[static STAMP_LEN])
{
    struct tm tm;
    char frac[16] = "";
    time_t sec = ts->tv_sec;
    if (gmtime_r(&sec, &tm) == NULL || strftime(out, STAMP_LEN, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(out, STAMP_LEN, "1970-01-01T00:00:00Z");
        return;
    }
    if (ts->tv_nsec > 0 && ts->tv_nsec < 1000000000L) {
        int n = snprintf(frac, sizeof frac, ".%09ld", (long)ts->tv_nsec);
        while (n > 1 && frac[n - 1] == '0') {
            frac[--n] = '\0';
        }
    }
    size_t used = strlen(out);
    snprintf(out + used, STAMP_LEN - used, "%sZ", frac);
}

static ms_err add_now(ms_json_wval obj, const char *key)
{
    struct timespec ts;
    char stamp[STAMP_LEN];
    ENSURE(clock_gettime(CLOCK_REALTIME, &ts) == 0, MS_ERR_INTERNAL);
    rfc3339_nano(&ts, stamp);
    return ms_json_add_cstr(obj, key, stamp);
}

/* {"model","created_at","message":{"role":"assistant","content":...[,"thinking":...]} */
static ms_err add_head_t(ms_json_wval root, const llmsim_turn *t, const char *text, size_t len,
                         bool thinking)
{
    ms_json_wval msg;
    TRY(ms_json_add_cstr(root, "model", t->model));
    TRY(add_now(root, "created_at"));
    TRY(ms_json_add_obj(root, "message", &msg));
    TRY(ms_json_add_cstr(msg, "role", "assistant"));
    TRY(ms_json_add_str(msg, "content", text, len));
    /* a thinking model's reasoning (quirk "reasoning"), beside the content */
    return thinking ? ms_json_add_cstr(msg, "thinking", LLMSIM_REASONING_TEXT) : MS_OK;
}

static ms_err add_head(ms_json_wval root, const llmsim_turn *t, const char *text, size_t len)
{
    return add_head_t(root, t, text, len, false);
}

static ms_err add_nonzero(ms_json_wval root, const char *key, uint64_t v)
{
    return v == 0 ? MS_OK : ms_json_add_u64(root, key, v);
}

/* The done object's tail, in the order of Ollama's ChatResponse and Metrics structs. */
static ms_err add_done(ms_json_wval root, const llmsim_turn *t)
{
    TRY(ms_json_add_cstr(root, "done_reason", done_reasons[t->finish]));
    TRY(ms_json_add_bool(root, "done", true));
    TRY(add_nonzero(root, "total_duration", t->total_ns));
    TRY(add_nonzero(root, "load_duration", t->load_ns));
    TRY(add_nonzero(root, "prompt_eval_count", t->prompt_tokens));
    TRY(add_nonzero(root, "prompt_eval_duration", t->prompt_eval_ns));
    TRY(add_nonzero(root, "eval_count", t->completion_tokens));
    return add_nonzero(root, "eval_duration", t->eval_ns);
}

static ms_err build_done(const llmsim_turn *t, const char *text, size_t len, ms_json_wval root)
{
    TRY(add_head(root, t, text, len));
    return add_done(root, t);
}

/* A whole reply: the done object, with the reasoning when asked for. */
static ms_err build_whole(const llmsim_turn *t, const char *text, size_t len, ms_json_wval root)
{
    TRY(add_head_t(root, t, text, len, (t->quirks & LLMSIM_Q_REASONING) != 0));
    return add_done(root, t);
}

static ms_err ollama_reply(const llmsim_turn *t, const char *text, size_t len, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build_whole(t, text, len, root);
    }
    return llmsim_emit(b, e, "", "", out);
}

/* Quirk "reasoning": a first line whose message holds only thinking. */
static ms_err ollama_open(const llmsim_turn *t, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    if (!(t->quirks & LLMSIM_Q_REASONING)) {
        return MS_OK;
    }
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = add_head_t(root, t, "", 0, true);
    }
    if (e == MS_OK) {
        e = ms_json_add_bool(root, "done", false);
    }
    return llmsim_emit(b, e, "", "\n", out);
}

static ms_err ollama_piece(const llmsim_turn *t, const char *piece, size_t len, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = add_head(root, t, piece, len);
    }
    if (e == MS_OK) {
        e = ms_json_add_bool(root, "done", false);
    }
    return llmsim_emit(b, e, "", "\n", out);
}

static ms_err ollama_close(const llmsim_turn *t, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    if (t->quirks & LLMSIM_Q_ERROR_OBJECT) { /* as Ollama reports a failure mid-stream */
        return ms_buf_append_str(out, "{\"error\":\"" LLMSIM_STREAM_ERROR "\"}\n");
    }
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build_done(t, "", 0, root);
    }
    return llmsim_emit(b, e, "", "\n", out);
}

static ms_err ollama_error(unsigned status, const char *msg, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    (void)status;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = ms_json_add_cstr(root, "error", msg);
    }
    return llmsim_emit(b, e, "", "", out);
}

const llmsim_format llmsim_ollama = {
    .json_type = "application/json; charset=utf-8",
    .stream_type = "application/x-ndjson",
    .reply = ollama_reply,
    .stream_open = ollama_open,
    .stream_piece = ollama_piece,
    .stream_close = ollama_close,
    .error = ollama_error,
};

/* A stable 64-hex-digit stand-in for a model's sha256 digest (FNV-1a, four seeds). */
static void fake_digest(const char *name, char out[static 65])
{
    for (unsigned k = 0; k < 4; k++) {
        uint64_t h = 14695981039346656037ull ^ k;
        for (const char *c = name; *c != '\0'; c++) {
            h = (h ^ (uint8_t)*c) * 1099511628211ull;
        }
        snprintf(out + 16 * k, 17, "%016llx", (unsigned long long)h);
    }
}

static ms_err add_details(ms_json_wval model)
{
    ms_json_wval d, fams;
    TRY(ms_json_add_obj(model, "details", &d));
    TRY(ms_json_add_cstr(d, "parent_model", ""));
    TRY(ms_json_add_cstr(d, "format", "gguf"));
    TRY(ms_json_add_cstr(d, "family", "llm-sim"));
    TRY(ms_json_add_arr(d, "families", &fams));
    TRY(ms_json_add_cstr(fams, NULL, "llm-sim"));
    TRY(ms_json_add_cstr(d, "parameter_size", "0B"));
    return ms_json_add_cstr(d, "quantization_level", "none");
}

static ms_err add_models(ms_json_wval root, const char *const *names, size_t n, int64_t modified)
{
    ms_json_wval list, m;
    char stamp[STAMP_LEN], digest[65];
    struct timespec ts = {.tv_sec = (time_t)modified, .tv_nsec = 0};
    rfc3339_nano(&ts, stamp);
    TRY(ms_json_add_arr(root, "models", &list));
    for (size_t i = 0; i < n; i++) {
        fake_digest(names[i], digest);
        TRY(ms_json_add_obj(list, NULL, &m));
        TRY(ms_json_add_cstr(m, "name", names[i]));
        TRY(ms_json_add_cstr(m, "model", names[i]));
        TRY(ms_json_add_cstr(m, "modified_at", stamp));
        TRY(ms_json_add_u64(m, "size", 0));
        TRY(ms_json_add_cstr(m, "digest", digest));
        TRY(add_details(m));
    }
    return MS_OK;
}

ms_err llmsim_ollama_tags(const char *const *names, size_t n, int64_t modified, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = add_models(root, names, n, modified);
    }
    return llmsim_emit(b, e, "", "", out);
}

ms_err llmsim_ollama_version(ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = ms_json_add_cstr(root, "version", LLMSIM_OLLAMA_VERSION);
    }
    return llmsim_emit(b, e, "", "", out);
}

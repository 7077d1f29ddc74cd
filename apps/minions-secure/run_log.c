/* minions-secure run: the `task` and `context` events of the session log (session_log.h writes the rest). */
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/digest.h"
#include "apps/minions-secure/run.h"

#define CONTEXT_PART (1u << 20) /* bytes of document text in one `context` event */

static ms_err add_hex(ms_json_wval w, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];
    size_t len;
    TRY(ms_hex_encode(p, n, hex, sizeof hex, &len));
    return ms_json_add_str(w, key, hex, len);
}

/* Bytes of d's text from `at` in one `context` event: at most CONTEXT_PART, whole UTF-8. */
static size_t part_len(const ms_doc *d, size_t at)
{
    size_t n = d->len - at < CONTEXT_PART ? d->len - at : CONTEXT_PART;
    while (n > 0 && at + n < d->len && ((unsigned char)d->text[at + n] & 0xC0) == 0x80) {
        n--;
    }
    return n;
}

static ms_err add_opt_str(ms_json_wval w, const char *key, const char *s)
{
    return s ? ms_json_add_cstr(w, key, s) : ms_json_add_null(w, key);
}

/* Names, kinds and sizes of the documents (their text only in `context` events). */
static ms_err documents(ms_json_wval r, const ms_context *ctx)
{
    ms_json_wval arr, d;
    TRY(ms_json_add_arr(r, "documents", &arr));
    for (size_t i = 0; i < ctx->n; i++) {
        TRY(ms_json_add_obj(arr, NULL, &d));
        TRY(ms_json_add_cstr(d, "name", ctx->docs[i].name));
        TRY(ms_json_add_cstr(d, "kind", ms_doc_kind_name(ctx->docs[i].kind)));
        TRY(ms_json_add_u64(d, "pages", ctx->docs[i].pages));
        TRY(ms_json_add_u64(d, "bytes", ctx->docs[i].len));
    }
    return MS_OK;
}

/* The number of `context` events context_events will write. */
static size_t context_parts(const ms_context *ctx)
{
    size_t parts = 0;
    for (size_t i = 0; i < ctx->n; i++) {
        const ms_doc *d = &ctx->docs[i];
        size_t at = 0;
        do {
            at += part_len(d, at);
            parts++;
        } while (at < d->len);
    }
    return parts;
}

/* The `task` event: what the run was asked, with whom; of the documents, names and sizes. */
static ms_err task_event(ms_alog *log, const ms_run_opts *o, const ms_context *ctx,
                         const char *joined, size_t joined_len)
{
    ms_json_builder *b;
    ms_json_wval r, w;
    char sum[256];
    uint8_t h[MS_SHA256_LEN];
    ms_err err;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &r));
    ms_context_summary(ctx, sum, sizeof sum);
    ms_sha256(joined, joined_len, h);
    TRY_OUT(ms_json_add_cstr(r, "protocol", o->protocol == MS_RUN_MINIONS ? "minions" : "minion"));
    TRY_OUT(ms_json_add_cstr(r, "task", o->task));
    TRY_OUT(add_opt_str(r, "doc_metadata", o->doc_metadata));
    TRY_OUT(add_opt_str(r, "system_prompt", o->system_prompt));
    TRY_OUT(ms_json_add_cstr(r, "context_summary", sum));
    TRY_OUT(add_hex(r, "context_sha256", h, sizeof h));
    TRY_OUT(ms_json_add_obj(r, "worker", &w));
    TRY_OUT(ms_json_add_cstr(w, "kind", ms_llm_kind_name(o->engine.kind)));
    TRY_OUT(ms_json_add_cstr(w, "model", o->engine.model));
    TRY_OUT(ms_json_add_cstr(w, "base_url", o->engine.base_url));
    TRY_OUT(ms_json_add_i64(r, "max_rounds", o->max_rounds));
    TRY_OUT(ms_json_add_i64(r, "jobs", o->jobs));
    TRY_OUT(documents(r, ctx));
    if (o->logo.context) { /* only then: the documents' text follows in `context` events */
        ms_json_wval c;
        TRY_OUT(ms_json_add_obj(r, "context", &c));
        TRY_OUT(ms_json_add_u64(c, "events", context_parts(ctx)));
    }
    err = ms_alog_event(log, "task", b);
out:
    ms_json_builder_free(b);
    return err;
}

/* --log-context: each document's text, in parts of at most CONTEXT_PART bytes. */
static ms_err context_part(ms_alog *log, const ms_doc *d, size_t part, size_t at, size_t n)
{
    ms_json_builder *b;
    ms_json_wval r;
    ms_err err;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &r));
    TRY_OUT(ms_json_add_cstr(r, "name", d->name));
    TRY_OUT(ms_json_add_cstr(r, "kind", ms_doc_kind_name(d->kind)));
    TRY_OUT(ms_json_add_u64(r, "part", part));
    TRY_OUT(ms_json_add_str(r, "text", d->text + at, n));
    err = ms_alog_event(log, "context", b);
out:
    ms_json_builder_free(b);
    return err;
}

static ms_err context_events(ms_alog *log, const ms_context *ctx)
{
    for (size_t i = 0; i < ctx->n; i++) {
        const ms_doc *d = &ctx->docs[i];
        size_t at = 0, part = 0;
        do {
            size_t n = part_len(d, at);
            TRY(context_part(log, d, ++part, at, n));
            at += n;
        } while (at < d->len);
    }
    return MS_OK;
}

ms_err ms_run_log_task(ms_slog *s, const ms_run_opts *o, const ms_context *ctx,
                       const char *joined, size_t joined_len)
{
    if (!s->log) {
        return MS_OK;
    }
    TRY(task_event(s->log, o, ctx, joined, joined_len));
    return s->context ? context_events(s->log, ctx) : MS_OK;
}

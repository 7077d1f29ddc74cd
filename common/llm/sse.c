/* Server-Sent-Events parsing: lines into a capped buffer, data fields into a capped event. */
#include "common/llm/sse.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"

struct ms_sse {
    ms_buf line; /* the current line, without its end */
    ms_buf data; /* data lines of the current event, each followed by '\n' */
    ms_sse_event_fn fn;
    ms_sse_event_fn on_error; /* an "error" field's value (ms_sse_set_error_fn), or NULL */
    void *ctx;
    bool after_cr; /* the last byte was a CR: an LF right after it ends nothing */
    bool started;  /* the first line is complete (a BOM can only precede it) */
    bool done;
    ms_err failed;
};

static const uint8_t bom[3] = {0xEF, 0xBB, 0xBF};

ms_err ms_sse_new(size_t max_line, size_t max_event, ms_sse_event_fn fn, void *ctx,
                  ms_sse **out)
{
    *out = NULL;
    ENSURE(max_line > 0 && max_event > 0 && max_event < SIZE_MAX && fn != NULL, MS_ERR_ARG);
    ms_sse *s = calloc(1, sizeof *s);
    ENSURE(s != NULL, MS_ERR_NOMEM);
    ms_buf_init(&s->line, max_line);
    /* +1: the data buffer also holds the '\n' that dispatch removes. */
    ms_buf_init(&s->data, max_event + 1);
    s->fn = fn;
    s->ctx = ctx;
    s->failed = MS_OK;
    *out = s;
    return MS_OK;
}

void ms_sse_free(ms_sse *s)
{
    if (s == NULL) {
        return;
    }
    ms_buf_free(&s->line);
    ms_buf_free(&s->data);
    ms_wipe(s, sizeof *s);
    free(s);
}

void ms_sse_set_error_fn(ms_sse *s, ms_sse_event_fn on_error)
{
    s->on_error = on_error;
}

bool ms_sse_done(const ms_sse *s)
{
    return s->done;
}

static bool is_lit(const uint8_t *p, size_t n, const char *lit)
{
    size_t ln = strlen(lit);
    return n == ln && ms_ct_equal(p, lit, n);
}

static ms_err dispatch(ms_sse *s)
{
    if (s->data.len == 0) {
        return MS_OK;
    }
    TRY(ms_buf_shrink(&s->data, 1));
    if (is_lit(s->data.p, s->data.len, "[DONE]")) {
        s->done = true;
        ms_buf_clear(&s->data);
        return MS_OK;
    }
    TRY(ms_buf_terminate(&s->data));
    ms_err e = s->fn(s->ctx, (const char *)s->data.p, s->data.len);
    ms_buf_clear(&s->data);
    return e;
}

/* An "error" line's value, to on_error at once (the line buffer is reused for the NUL). */
static ms_err error_field(ms_sse *s, size_t v)
{
    size_t n = s->line.len;
    TRY(ms_buf_terminate(&s->line));
    return s->on_error(s->ctx, (const char *)s->line.p + v, n - v);
}

/* One "name: value" line; "data" matters here, and "error" when on_error is set. */
static ms_err field(ms_sse *s, const uint8_t *p, size_t n)
{
    const uint8_t *colon = memchr(p, ':', n);
    size_t name_len = colon ? (size_t)(colon - p) : n;
    size_t v = colon ? name_len + 1 : n;
    if (v < n && p[v] == ' ') {
        v++;
    }
    if (s->on_error != NULL && is_lit(p, name_len, "error")) {
        return error_field(s, (size_t)(p - s->line.p) + v);
    }
    if (!is_lit(p, name_len, "data")) {
        return MS_OK;
    }
    ENSURE(!s->done, MS_ERR_TRAILING);
    TRY(ms_buf_append(&s->data, p + v, n - v));
    return ms_buf_append_u8(&s->data, '\n');
}

static ms_err end_line(ms_sse *s)
{
    const uint8_t *p = s->line.p;
    size_t n = s->line.len;
    if (!s->started) {
        s->started = true;
        if (n >= sizeof bom && ms_ct_equal(p, bom, sizeof bom)) {
            p += sizeof bom;
            n -= sizeof bom;
        }
    }
    ms_err e = MS_OK;
    if (n == 0) {
        e = dispatch(s);
    } else if (p[0] != ':') {
        e = field(s, p, n);
    }
    ms_buf_clear(&s->line);
    return e;
}

/* The first CR or LF at or after `from`, or n: two memchr scans (a line is one event, a
   few hundred bytes a token: a byte-at-a-time loop was most of the stream's parse). */
static size_t find_eol(const uint8_t *p, size_t from, size_t n)
{
    const uint8_t *lf = memchr(p + from, '\n', n - from);
    size_t end = lf != NULL ? (size_t)(lf - p) : n;
    const uint8_t *cr = memchr(p + from, '\r', end - from);
    return cr != NULL ? (size_t)(cr - p) : end;
}

static ms_err feed(ms_sse *s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s->after_cr && p[i] == '\n') {
            s->after_cr = false;
            i++;
            continue;
        }
        s->after_cr = false;
        size_t j = find_eol(p, i, n);
        TRY(ms_buf_append(&s->line, p + i, j - i));
        if (j == n) {
            break;
        }
        s->after_cr = p[j] == '\r';
        TRY(end_line(s));
        i = j + 1;
    }
    return MS_OK;
}

ms_err ms_sse_feed(ms_sse *s, const uint8_t *p, size_t n)
{
    ENSURE(p != NULL || n == 0, MS_ERR_ARG);
    if (s->failed == MS_OK) {
        s->failed = feed(s, p, n);
    }
    return s->failed;
}

ms_err ms_sse_finish(ms_sse *s)
{
    if (s->failed == MS_OK && (s->line.len > 0 || s->data.len > 0)) {
        s->failed = MS_ERR_TRUNCATED;
    }
    return s->failed;
}

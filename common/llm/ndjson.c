/* Newline-delimited JSON splitting: bytes into one capped line buffer, complete lines out. */
#include "common/llm/ndjson.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"

struct ms_ndjson {
    ms_buf line; /* the current line, without its '\n' */
    ms_ndjson_line_fn fn;
    void *ctx;
    ms_err failed;
};

ms_err ms_ndjson_new(size_t max_line, ms_ndjson_line_fn fn, void *ctx, ms_ndjson **out)
{
    *out = NULL;
    ENSURE(max_line > 0 && fn != NULL, MS_ERR_ARG);
    ms_ndjson *j = calloc(1, sizeof *j);
    ENSURE(j != NULL, MS_ERR_NOMEM);
    ms_buf_init(&j->line, max_line);
    j->fn = fn;
    j->ctx = ctx;
    j->failed = MS_OK;
    *out = j;
    return MS_OK;
}

void ms_ndjson_free(ms_ndjson *j)
{
    if (j == NULL) {
        return;
    }
    ms_buf_free(&j->line);
    ms_wipe(j, sizeof *j);
    free(j);
}

static bool blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

static ms_err end_line(ms_ndjson *j)
{
    if (j->line.len > 0 && j->line.p[j->line.len - 1] == '\r') {
        TRY(ms_buf_shrink(&j->line, 1));
    }
    ms_err e = MS_OK;
    if (!blank(j->line.p, j->line.len)) {
        TRY(ms_buf_terminate(&j->line));
        e = j->fn(j->ctx, (const char *)j->line.p, j->line.len);
    }
    ms_buf_clear(&j->line);
    return e;
}

static ms_err feed(ms_ndjson *j, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - p) : n;
        TRY(ms_buf_append(&j->line, p + i, end - i));
        if (nl == NULL) {
            break;
        }
        TRY(end_line(j));
        i = end + 1;
    }
    return MS_OK;
}

ms_err ms_ndjson_feed(ms_ndjson *j, const uint8_t *p, size_t n)
{
    ENSURE(p != NULL || n == 0, MS_ERR_ARG);
    if (j->failed == MS_OK) {
        j->failed = feed(j, p, n);
    }
    return j->failed;
}

ms_err ms_ndjson_finish(ms_ndjson *j)
{
    if (j->failed == MS_OK && j->line.len > 0) {
        j->failed = end_line(j);
    }
    return j->failed;
}

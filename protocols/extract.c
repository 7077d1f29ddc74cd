/* JSON object extraction from model output: reasoning tags, fences, candidate spans, checks. */
#include "protocols/extract.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/json.h"
#include "common/text.h"

_Static_assert(MS_MAX_EXTRACT_TEXT <= MS_MAX_JSON_TEXT, "every candidate must be parseable");
_Static_assert(MS_EXTRACT_PREVIEW_CHARS > 0, "previews need room");
_Static_assert(MS_EXTRACT_PREVIEW_MAX == MS_TEXT_ESCAPE_SIZE(MS_EXTRACT_PREVIEW_CHARS),
               "a preview is never cut by its storage");

static const char tag_open[] = "<think>";
static const char tag_close[] = "</think>";
#define TAG_OPEN_LEN (sizeof tag_open - 1)
#define TAG_CLOSE_LEN (sizeof tag_close - 1)

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool json_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- Reasoning tags --------------------------------------------------------------------- */

/* Does p[i..) start with the lowercase ASCII tag, ignoring case? */
static bool tag_at(const uint8_t *p, size_t len, size_t i, const char *tag, size_t n)
{
    if (i > len || len - i < n) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        if (lower(p[i + k]) != (uint8_t)tag[k]) {
            return false;
        }
    }
    return true;
}

/* Offset of the first tag in p[from..len), or len. */
static size_t find_tag(const uint8_t *p, size_t len, size_t from, const char *tag, size_t n)
{
    size_t i = from;
    while (i < len) {
        const uint8_t *lt = memchr(p + i, '<', len - i);
        if (lt == NULL) {
            return len;
        }
        i = (size_t)(lt - p);
        if (tag_at(p, len, i, tag, n)) {
            return i;
        }
        i++;
    }
    return len;
}

/* Where the visible text starts: after a "</think>" that no "<think>" precedes. */
static size_t visible_start(const uint8_t *p, size_t len, ms_think_info *t)
{
    size_t close = find_tag(p, len, 0, tag_close, TAG_CLOSE_LEN);
    if (close == len || find_tag(p, close, 0, tag_open, TAG_OPEN_LEN) < close) {
        return 0;
    }
    t->orphan_close = true;
    return close + TAG_CLOSE_LEN;
}

/* p[i..) starts with "<think>": the offset after its block, or len when it never closes. */
static size_t skip_think(const uint8_t *p, size_t len, size_t i, ms_think_info *t)
{
    size_t close = find_tag(p, len, i + TAG_OPEN_LEN, tag_close, TAG_CLOSE_LEN);
    if (close == len) {
        t->unclosed = true;
        return len;
    }
    t->blocks++;
    return close + TAG_CLOSE_LEN;
}

/* Append p[from..to) to out, dropping leading whitespace while out is still empty. */
static ms_err append_visible(ms_buf *out, const uint8_t *p, size_t from, size_t to)
{
    while (out->len == 0 && from < to && is_space(p[from])) {
        from++;
    }
    return from < to ? ms_buf_append(out, p + from, to - from) : MS_OK;
}

ms_err ms_extract_strip_think(const char *text, size_t len, ms_buf *out, ms_think_info *info)
{
    ms_think_info t = {0};
    if (info != NULL) {
        *info = t;
    }
    ENSURE(out != NULL && (text != NULL || len == 0), MS_ERR_ARG);
    ms_buf_clear(out);
    ENSURE(len <= MS_MAX_EXTRACT_TEXT, MS_ERR_CAP_EXCEEDED);
    const uint8_t *p = (const uint8_t *)text;
    ms_err err = MS_OK;
    size_t i = visible_start(p, len, &t);
    while (i < len && err == MS_OK) {
        size_t open = find_tag(p, len, i, tag_open, TAG_OPEN_LEN);
        err = append_visible(out, p, i, open);
        i = open < len ? skip_think(p, len, open, &t) : len;
    }
    while (err == MS_OK && out->len > 0 && is_space(out->p[out->len - 1])) {
        err = ms_buf_shrink(out, 1);
    }
    if (err != MS_OK) {
        ms_buf_clear(out);
    }
    if (info != NULL) {
        *info = t;
    }
    return err;
}

/* ---- Candidate spans -------------------------------------------------------------------- */

struct span {
    size_t off;
    size_t len;
    uint8_t kind; /* '{' or '[' */
    bool closed;  /* its matching bracket was found */
    bool strong;  /* its opening could start a JSON value */
    bool fenced;
};

struct scope {
    struct span s[MS_MAX_EXTRACT_CANDIDATES];
    size_t n;
};

struct scan {
    const uint8_t *p;
    size_t len;
    size_t i;
    bool in_fence;
    bool done;
    uint32_t fence;  /* ordinal of the current (or last) fenced block */
    uint32_t target; /* first fenced block holding a candidate; 0: none yet */
    unsigned rescans;
    size_t first_visible; /* first visible non-space byte, len if none */
    size_t seen;
    struct scope prose;
    struct scope fenced;
    ms_think_info think;
};

/* Length of the backtick run at i. */
static size_t tick_run(const uint8_t *p, size_t len, size_t i)
{
    size_t n = 0;
    while (i + n < len && p[i + n] == '`') {
        n++;
    }
    return n;
}

static bool is_marker(const uint8_t *p, size_t len, size_t i)
{
    return (p[i] == '`' && tick_run(p, len, i) >= 3) ||
           (p[i] == '<' && tag_at(p, len, i, tag_open, TAG_OPEN_LEN));
}

/* Is p[j..) the word, or (at the end of the text) a prefix of it? */
static bool word_at(const uint8_t *p, size_t len, size_t j, const char *w)
{
    size_t n = strlen(w);
    size_t k = 0;
    while (k < n && j + k < len && p[j + k] == (uint8_t)w[k]) {
        k++;
    }
    return k == n || j + k == len;
}

/* Could the bracket at i start a JSON value? ('{' needs '"' or '}' next, after whitespace.) */
static bool strong_opener(const uint8_t *p, size_t len, size_t i)
{
    size_t j = i + 1;
    while (j < len && json_ws(p[j])) {
        j++;
    }
    if (j == len) {
        return true;
    }
    uint8_t c = p[j];
    if (p[i] == '{') {
        return c == '"' || c == '}';
    }
    return c == '"' || c == '{' || c == '[' || c == ']' || c == '-' || (c >= '0' && c <= '9') ||
           word_at(p, len, j, "true") || word_at(p, len, j, "false") || word_at(p, len, j, "null");
}

static void record(struct scan *s, size_t off, size_t n, bool closed, bool strong)
{
    struct scope *sc = &s->prose;
    s->seen++;
    if (s->in_fence) {
        if (s->target == 0) {
            s->target = s->fence;
        }
        if (s->fence != s->target) {
            return;
        }
        sc = &s->fenced;
    } else if (s->target != 0) {
        return; /* a fenced block already holds the answer */
    }
    if (sc->n < MS_MAX_EXTRACT_CANDIDATES) {
        sc->s[sc->n++] = (struct span){.off = off,
                                       .len = n,
                                       .kind = s->p[off],
                                       .closed = closed,
                                       .strong = strong,
                                       .fenced = s->in_fence};
    }
}

/* s->i is at a top-level '{' or '[': follow it to its matching bracket, a cut or the end. */
static void scan_span(struct scan *s)
{
    const uint8_t *p = s->p;
    size_t start = s->i;
    size_t depth = 0;
    bool in_str = false;
    bool strong = strong_opener(p, s->len, start);
    for (size_t i = start; i < s->len; i++) {
        uint8_t c = p[i];
        if (in_str) {
            i += c == '\\'; /* the escaped byte cannot end the string */
            in_str = c != '"';
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                record(s, start, i + 1 - start, true, strong);
                s->i = i + 1;
                return;
            }
        } else if (is_marker(p, s->len, i)) {
            record(s, start, i - start, false, strong); /* the main loop handles the marker */
            s->i = i;
            return;
        }
    }
    record(s, start, s->len - start, false, strong);
    s->i = s->len;
    if (!strong && s->rescans < MS_MAX_EXTRACT_RESCANS) {
        s->rescans++; /* prose brace: look again just after it (fence state is unchanged) */
        s->i = start + 1;
    }
}

/* s->i is at a run of three or more backticks. */
static void fence_marker(struct scan *s)
{
    s->i += tick_run(s->p, s->len, s->i);
    if (s->in_fence) {
        s->in_fence = false;
        s->done = s->target != 0 && s->target == s->fence;
        return;
    }
    s->in_fence = true;
    s->fence++;
    while (s->i < s->len && (s->p[s->i] == '_' || s->p[s->i] == '-' || s->p[s->i] == '+' ||
                             s->p[s->i] == '.' || (s->p[s->i] >= '0' && s->p[s->i] <= '9') ||
                             (lower(s->p[s->i]) >= 'a' && lower(s->p[s->i]) <= 'z'))) {
        s->i++; /* info string, e.g. "json" */
    }
}

static void scan_text(struct scan *s)
{
    while (s->i < s->len && !s->done) {
        const uint8_t c = s->p[s->i];
        if (c == '<' && tag_at(s->p, s->len, s->i, tag_open, TAG_OPEN_LEN)) {
            s->i = skip_think(s->p, s->len, s->i, &s->think);
            continue;
        }
        if (!is_space(c) && s->first_visible == s->len) {
            s->first_visible = s->i;
        }
        if (c == '{' || c == '[') {
            scan_span(s);
        } else if (c == '`' && tick_run(s->p, s->len, s->i) >= 3) {
            fence_marker(s);
        } else {
            s->i++;
        }
    }
}

/* ---- Previews --------------------------------------------------------------------------- */

static void preview(const uint8_t *p, size_t n, char out[static MS_EXTRACT_PREVIEW_MAX])
{
    (void)ms_text_escape((const char *)p, n, MS_EXTRACT_PREVIEW_CHARS, out,
                         MS_EXTRACT_PREVIEW_MAX);
}

/* ---- Choice and report ------------------------------------------------------------------ */

/* Interim mapping onto the existing table; see the header for the codes asked for. */
static ms_err status_err(ms_extract_status st, ms_err json_err)
{
    switch (st) {
    case MS_EXTRACT_FOUND:
        return MS_OK;
    case MS_EXTRACT_NOT_OBJECT:
        return MS_ERR_JSON_TYPE;
    case MS_EXTRACT_TRUNCATED:
        return MS_ERR_TRUNCATED;
    case MS_EXTRACT_INVALID:
        return json_err == MS_ERR_JSON_DEPTH ? MS_ERR_JSON_DEPTH : MS_ERR_JSON_PARSE;
    case MS_EXTRACT_TOO_LARGE:
        return MS_ERR_CAP_EXCEEDED;
    case MS_EXTRACT_EMPTY:
    case MS_EXTRACT_NO_OBJECT:
        break;
    }
    return MS_ERR_JSON_PARSE;
}

/* The span an error is about: a strong unclosed one, an invalid object, a weak unclosed, an array.
 */
struct verdict {
    const struct span *found;
    const struct span *strong_open;
    const struct span *invalid;
    const struct span *weak_open;
    const struct span *array;
    ms_err json_err;
};

static ms_err judge(const uint8_t *p, const struct scope *sc, struct verdict *v)
{
    for (size_t k = 0; k < sc->n && v->found == NULL; k++) {
        const struct span *sp = &sc->s[k];
        const struct span **slot = !sp->closed ? (sp->strong ? &v->strong_open : &v->weak_open)
                                   : sp->kind == '[' ? &v->array
                                                     : NULL;
        if (slot != NULL) {
            *slot = *slot != NULL ? *slot : sp;
            continue;
        }
        ms_json_doc *doc = NULL;
        ms_err e = ms_json_parse((const char *)p + sp->off, sp->len, &doc);
        ms_json_free(doc);
        ENSURE(e != MS_ERR_NOMEM, e);
        if (e == MS_OK) {
            v->found = sp;
        } else if (v->invalid == NULL) {
            v->invalid = sp;
            v->json_err = e;
        }
    }
    return MS_OK;
}

static void report(const struct scan *s, const struct verdict *v, ms_extract_info *info)
{
    const struct span *sp = v->strong_open ? v->strong_open
                            : v->invalid   ? v->invalid
                            : v->weak_open ? v->weak_open
                                           : v->array;
    info->status = s->first_visible == s->len ? MS_EXTRACT_EMPTY
                   : sp == NULL               ? MS_EXTRACT_NO_OBJECT
                   : sp == v->invalid         ? MS_EXTRACT_INVALID
                   : sp == v->array           ? MS_EXTRACT_NOT_OBJECT
                                              : MS_EXTRACT_TRUNCATED;
    info->json_err = sp != NULL && sp == v->invalid ? v->json_err : MS_OK;
    if (s->first_visible < s->len) {
        preview(s->p + s->first_visible, s->len - s->first_visible, info->preview);
    } else {
        preview(s->p, s->len, info->preview);
    }
    if (sp != NULL) {
        info->offset = sp->off;
        info->length = sp->len;
        info->fenced = sp->fenced;
        preview(s->p + sp->off, sp->len, info->span_preview);
    }
}

static void info_reset(ms_extract_info *info)
{
    memset(info, 0, sizeof *info);
    info->status = MS_EXTRACT_EMPTY;
    info->json_err = MS_OK;
}

ms_err ms_extract_json(const char *text, size_t len, ms_buf *json_out, ms_extract_info *info)
{
    ENSURE(info != NULL, MS_ERR_ARG);
    info_reset(info);
    ENSURE(json_out != NULL && (text != NULL || len == 0), MS_ERR_ARG);
    ms_buf_clear(json_out);
    const uint8_t *p = (const uint8_t *)text;
    if (len > MS_MAX_EXTRACT_TEXT) {
        info->status = MS_EXTRACT_TOO_LARGE;
        preview(p, len, info->preview);
        return MS_ERR_CAP_EXCEEDED;
    }
    struct scan s = {.p = p, .len = len, .first_visible = len};
    s.i = visible_start(p, len, &s.think);
    scan_text(&s);
    info->think = s.think;
    info->candidates = s.seen;
    struct verdict v = {0};
    TRY(judge(p, s.target != 0 ? &s.fenced : &s.prose, &v));
    if (v.found == NULL) {
        report(&s, &v, info);
        return status_err(info->status, info->json_err);
    }
    info->offset = v.found->off;
    info->length = v.found->len;
    info->fenced = v.found->fenced;
    ms_err err = ms_buf_append(json_out, p + v.found->off, v.found->len);
    info->status = err == MS_OK                 ? MS_EXTRACT_FOUND
                   : err == MS_ERR_CAP_EXCEEDED ? MS_EXTRACT_TOO_LARGE
                                                : info->status;
    if (err != MS_OK) {
        preview(p + s.first_visible, len - s.first_visible, info->preview);
        preview(p + v.found->off, v.found->len, info->span_preview);
    }
    return err;
}

const char *ms_extract_status_name(ms_extract_status st)
{
    static const char *const names[] = {
        [MS_EXTRACT_FOUND] = "found",         [MS_EXTRACT_EMPTY] = "empty",
        [MS_EXTRACT_NO_OBJECT] = "no_object", [MS_EXTRACT_NOT_OBJECT] = "not_object",
        [MS_EXTRACT_TRUNCATED] = "truncated", [MS_EXTRACT_INVALID] = "invalid",
        [MS_EXTRACT_TOO_LARGE] = "too_large",
    };
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

static const char *what(const ms_extract_info *info)
{
    switch (info->status) {
    case MS_EXTRACT_FOUND:
        return "model output has a JSON object";
    case MS_EXTRACT_EMPTY:
        return info->think.unclosed
                   ? "model output is only reasoning (a <think> block never closed)"
                   : "model output is empty (or only reasoning)";
    case MS_EXTRACT_NO_OBJECT:
        return "model output has no JSON object";
    case MS_EXTRACT_NOT_OBJECT:
        return "model output has JSON, but an array where an object is required";
    case MS_EXTRACT_TRUNCATED:
        return "model output has a JSON object that is never closed (output cut short?)";
    case MS_EXTRACT_INVALID:
        return "model output has a JSON object that is not valid JSON";
    case MS_EXTRACT_TOO_LARGE:
        return "model output or its JSON object is over the size limit";
    }
    return "model output could not be read";
}

void ms_extract_describe(const ms_extract_info *info, char *out, size_t out_size)
{
    if (out == NULL || out_size == 0) {
        return;
    }
    if (info == NULL) {
        snprintf(out, out_size, "no extraction result");
        return;
    }
    const char *why = info->status == MS_EXTRACT_INVALID ? ms_err_str(info->json_err) : NULL;
    bool at = info->status != MS_EXTRACT_EMPTY && info->status != MS_EXTRACT_NO_OBJECT &&
              info->status != MS_EXTRACT_TOO_LARGE;
    snprintf(out, out_size, "%s%s%s%s%s", what(info), why ? " (" : "", why ? why : "",
             why ? ")" : "",
             info->think.unclosed && info->status != MS_EXTRACT_EMPTY
                 ? "; an unclosed <think> hid the rest of the output"
                 : "");
    size_t o = strlen(out);
    if (at && info->span_preview[0] != '\0' && o < out_size) {
        snprintf(out + o, out_size - o, " at offset %zu%s: \"%s\"", info->offset,
                 info->fenced ? " (in a ``` block)" : "", info->span_preview);
        o += strlen(out + o);
    }
    if (info->preview[0] != '\0' && o < out_size) {
        snprintf(out + o, out_size - o, "; the output begins: \"%s\"", info->preview);
    }
}

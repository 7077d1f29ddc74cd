/* Chunking: a UTF-8-safe fixed cutter, greedy merging of units, and the unit scanners. */
#include "protocols/chunk.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"

/* Cuts step back or forward at most 3 bytes; with 16 the windows always advance. */
_Static_assert(MS_MIN_CHUNK_SIZE >= 16u, "fixed windows need room for UTF-8 adjustments");
_Static_assert(MS_MAX_CHUNKS <= SIZE_MAX / sizeof(ms_chunk), "chunk list size overflows");

const char *const ms_chunk_method_names[MS_CHUNK_METHOD_COUNT] = {
    [MS_CHUNK_FIXED] = "fixed",
    [MS_CHUNK_PARAGRAPHS] = "paragraphs",
    [MS_CHUNK_PAGES] = "pages",
    [MS_CHUNK_CODE] = "code",
};

ms_err ms_chunk_params_check(const ms_chunk_params *params)
{
    ENSURE(params != NULL, MS_ERR_ARG);
    ENSURE((unsigned)params->method < (unsigned)MS_CHUNK_METHOD_COUNT, MS_ERR_ARG);
    ENSURE(params->size >= MS_MIN_CHUNK_SIZE, MS_ERR_ARG);
    ENSURE(params->size <= MS_MAX_CHUNK_SIZE, MS_ERR_CAP_EXCEEDED);
    if (params->method == MS_CHUNK_FIXED) {
        ENSURE(params->overlap <= params->size / 2, MS_ERR_ARG);
    } else {
        ENSURE(params->overlap == 0, MS_ERR_ARG);
    }
    return MS_OK;
}

void ms_chunk_list_free(ms_chunk_list *list)
{
    if (list == NULL) {
        return;
    }
    if (list->items != NULL) {
        ms_wipe(list->items, list->count * sizeof *list->items);
        free(list->items);
    }
    list->items = NULL;
    list->count = 0;
}

/* ---- Output and the fixed cutter ------------------------------------------------------- */

struct out {
    const uint8_t *p;
    size_t len;
    size_t size;
    ms_chunk *items;
    size_t n;
    size_t cap;
    uint32_t page; /* stamped on each chunk (PAGES only) */
};

static ms_err emit(struct out *o, size_t off, size_t n)
{
    /* Every method funnels through here: the contract is checked once, for all. */
    ENSURE(n > 0 && n <= o->size && off <= o->len && n <= o->len - off, MS_ERR_INTERNAL);
    if (o->n == o->cap) {
        ENSURE(o->cap < MS_MAX_CHUNKS, MS_ERR_CAP_EXCEEDED);
        size_t ncap = o->cap == 0 ? 64 : o->cap * 2;
        ncap = ncap > MS_MAX_CHUNKS ? MS_MAX_CHUNKS : ncap;
        ms_chunk *np = realloc(o->items, ncap * sizeof *np);
        ENSURE(np != NULL, MS_ERR_NOMEM);
        o->items = np;
        o->cap = ncap;
    }
    ms_chunk *c = &o->items[o->n++];
    memset(c, 0, sizeof *c); /* padding too: equal splits are equal bytes */
    c->off = off;
    c->len = n;
    c->page = o->page;
    return MS_OK;
}

static bool is_cont(uint8_t c)
{
    return (c & 0xC0) == 0x80;
}

/* A cut at e (lo < e < len) moved back to the first byte of the sequence it would split. */
static size_t cut_back(const uint8_t *p, size_t lo, size_t e)
{
    for (size_t k = 0; k < 4 && e - k > lo; k++) {
        if (!is_cont(p[e - k])) {
            return e - k;
        }
    }
    return e; /* not UTF-8 here: cut where asked */
}

/* Length of the sequence a byte leads: 2..4, or 1 (ASCII, or a byte that cannot lead). */
static size_t lead_len(uint8_t c)
{
    return c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 1;
}

/*
 * A window start s (< hi, where hi is a cut) moved forward past the rest of the sequence
 * it falls inside, if any: its lead is at most 3 bytes back, and the sequence ends by hi.
 */
static size_t start_fwd(const uint8_t *p, size_t s, size_t hi)
{
    if (!is_cont(p[s])) {
        return s;
    }
    for (size_t k = 1; k <= 3 && k <= s; k++) {
        if (is_cont(p[s - k])) {
            continue;
        }
        size_t n = lead_len(p[s - k]); /* the lead is at y = s - k */
        for (size_t j = k + 1; j < n; j++) {
            if (s - k + j >= hi || !is_cont(p[s - k + j])) {
                return s; /* a broken sequence: not UTF-8 here */
            }
        }
        return n > k ? s - k + n : s; /* n <= k: s is a stray continuation byte */
    }
    return s;
}

/* Windows of o->size bytes over [from, to), each starting `overlap` before the last end. */
static ms_err cut_fixed(struct out *o, size_t from, size_t to, size_t overlap)
{
    size_t s = from;
    while (to - s > o->size) {
        size_t e = cut_back(o->p, s, s + o->size);
        TRY(emit(o, s, e - s));
        s = start_fwd(o->p, e - overlap, e); /* e - s >= size - 3 > overlap: s advances */
    }
    return s < to ? emit(o, s, to - s) : MS_OK;
}

/* ---- Merging units that touch ([previous end, ue)) ------------------------------------- */

struct merge {
    size_t cs; /* pending chunk [cs, ce); cs == ce: none */
    size_t ce;
};

static ms_err flush(struct out *o, struct merge *m)
{
    if (m->ce > m->cs) {
        TRY(emit(o, m->cs, m->ce - m->cs));
    }
    m->cs = m->ce;
    return MS_OK;
}

static ms_err add_unit(struct out *o, struct merge *m, size_t ue)
{
    size_t us = m->ce;
    if (ue - m->cs <= o->size) {
        m->ce = ue;
        return MS_OK;
    }
    TRY(flush(o, m));
    if (ue - us <= o->size) {
        m->ce = ue;
        return MS_OK;
    }
    TRY(cut_fixed(o, us, ue, 0));
    m->cs = m->ce = ue;
    return MS_OK;
}

static ms_err finish_units(struct out *o, struct merge *m)
{
    if (o->len > m->ce) {
        TRY(add_unit(o, m, o->len));
    }
    return flush(o, m);
}

/* ---- Lines ------------------------------------------------------------------------------ */

/* The offset just after the '\n' that ends the line at s, or len. */
static size_t line_end(const uint8_t *p, size_t len, size_t s)
{
    const uint8_t *nl = memchr(p + s, '\n', len - s);
    return nl != NULL ? (size_t)(nl - p) + 1 : len;
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool blank_line(const uint8_t *p, size_t s, size_t e)
{
    for (size_t i = s; i < e; i++) {
        if (!is_blank(p[i]) && p[i] != '\n') {
            return false;
        }
    }
    return true;
}

/* ---- Paragraphs ------------------------------------------------------------------------- */

static ms_err split_paragraphs(struct out *o)
{
    struct merge m = {0, 0};
    bool content = false;
    bool after_blank = false;
    for (size_t ls = 0; ls < o->len;) {
        size_t le = line_end(o->p, o->len, ls);
        if (blank_line(o->p, ls, le)) {
            after_blank = true;
        } else {
            if (content && after_blank) {
                TRY(add_unit(o, &m, ls));
            }
            content = true;
            after_blank = false;
        }
        ls = le;
    }
    return finish_units(o, &m);
}

/* ---- Pages ------------------------------------------------------------------------------ */

/* A matcher over one line [i, e), ASCII only. */
struct lm {
    const uint8_t *p;
    size_t i;
    size_t e;
};

static size_t lm_run(struct lm *m, uint8_t c)
{
    size_t n = 0;
    while (m->i < m->e && m->p[m->i] == c) {
        m->i++;
        n++;
    }
    return n;
}

static size_t lm_spaces(struct lm *m)
{
    size_t n = 0;
    while (m->i < m->e && (m->p[m->i] == ' ' || m->p[m->i] == '\t' || m->p[m->i] == '\r')) {
        m->i++;
        n++;
    }
    return n;
}

/* A lowercase word, matched ignoring ASCII case. */
static bool lm_word(struct lm *m, const char *w)
{
    size_t n = strlen(w);
    if (m->e - m->i < n) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        uint8_t c = m->p[m->i + k];
        if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != (uint8_t)w[k]) {
            return false;
        }
    }
    m->i += n;
    return true;
}

static bool lm_number(struct lm *m)
{
    size_t n = 0;
    while (m->i < m->e && m->p[m->i] >= '0' && m->p[m->i] <= '9') {
        m->i++;
        n++;
    }
    return n >= 1 && n <= 9;
}

/* "--- Page N ---" */
static bool header_line(const uint8_t *p, size_t s, size_t e)
{
    struct lm m = {p, s, e};
    lm_spaces(&m);
    if (lm_run(&m, '-') < 3) {
        return false;
    }
    lm_spaces(&m);
    if (!lm_word(&m, "page") || lm_spaces(&m) == 0 || !lm_number(&m)) {
        return false;
    }
    lm_spaces(&m);
    if (lm_run(&m, '-') < 3) {
        return false;
    }
    lm_spaces(&m);
    return m.i == m.e;
}

/* "Page N of M" */
static bool footer_line(const uint8_t *p, size_t s, size_t e)
{
    struct lm m = {p, s, e};
    lm_spaces(&m);
    if (!lm_word(&m, "page") || lm_spaces(&m) == 0 || !lm_number(&m) || lm_spaces(&m) == 0) {
        return false;
    }
    if (!lm_word(&m, "of") || lm_spaces(&m) == 0 || !lm_number(&m)) {
        return false;
    }
    lm_spaces(&m);
    return m.i == m.e;
}

/* End the page that started at *start just before `at` (nothing if it would be empty). */
static ms_err page_break(struct out *o, size_t *start, size_t at)
{
    if (at > *start) {
        o->page++;
        TRY(cut_fixed(o, *start, at, 0));
        *start = at;
    }
    return MS_OK;
}

static ms_err split_pages(struct out *o)
{
    size_t start = 0;
    for (size_t ls = 0; ls < o->len;) {
        size_t ce = ls; /* the line's content: up to its '\n' or '\f' */
        while (ce < o->len && o->p[ce] != '\n' && o->p[ce] != '\f') {
            ce++;
        }
        size_t le = ce < o->len ? ce + 1 : ce;
        if (header_line(o->p, ls, ce)) {
            TRY(page_break(o, &start, ls));
        }
        if (footer_line(o->p, ls, ce) || (ce < o->len && o->p[ce] == '\f')) {
            TRY(page_break(o, &start, le));
        }
        ls = le;
    }
    return page_break(o, &start, o->len);
}

/* ---- Code ------------------------------------------------------------------------------- */

struct code {
    size_t depth;        /* ( [ { open outside strings and comments */
    bool in_block;       /* inside a slash-star comment */
    uint8_t triple;      /* '"' or '\'' inside a Python triple-quoted string, else 0 */
    bool hash_cont;      /* the last '#' comment line ended with a backslash */
    uint8_t last_sig;    /* last code byte outside comments and strings */
    bool prev_decorator; /* the last code line was a Python decorator */
    size_t run;          /* first of the comment lines directly above, or SIZE_MAX */
};

enum line_kind { LINE_BLANK, LINE_COMMENT, LINE_CODE };

static bool ends_with_backslash(const uint8_t *p, size_t s, size_t e)
{
    while (e > s && (p[e - 1] == '\r' || p[e - 1] == ' ' || p[e - 1] == '\t')) {
        e--;
    }
    return e > s && p[e - 1] == '\\';
}

static bool triple_at(const uint8_t *p, size_t i, size_t e, uint8_t q)
{
    return e - i >= 3 && p[i] == q && p[i + 1] == q && p[i + 2] == q;
}

/* p[i] is a quote: the offset after its string (or the line's end if it is not closed). */
static size_t skip_string(struct code *c, const uint8_t *p, size_t i, size_t e)
{
    uint8_t q = p[i];
    if (triple_at(p, i, e, q)) {
        c->triple = q;
        return i + 3;
    }
    for (size_t j = i + 1; j < e; j++) {
        if (p[j] == '\\') {
            j++;
        } else if (p[j] == q) {
            return j + 1;
        }
    }
    return e;
}

/* Inside a slash-star comment or a triple-quoted string: the offset after it ends, or e. */
static size_t skip_open(struct code *c, const uint8_t *p, size_t i, size_t e)
{
    for (; i < e; i++) {
        if (c->in_block && p[i] == '*' && i + 1 < e && p[i + 1] == '/') {
            c->in_block = false;
            return i + 2;
        }
        if (c->triple != 0 && triple_at(p, i, e, c->triple)) {
            c->triple = 0;
            c->last_sig = '"';
            return i + 3;
        }
        i += c->triple != 0 && p[i] == '\\';
    }
    return e;
}

static void count_bracket(struct code *c, uint8_t ch)
{
    if (ch == '(' || ch == '[' || ch == '{') {
        c->depth++;
    } else if ((ch == ')' || ch == ']' || ch == '}') && c->depth > 0) {
        c->depth--;
    }
    c->last_sig = ch;
}

/* Read one line [s, e) (without its '\n'), updating the bracket, comment and string state. */
static enum line_kind scan_line(struct code *c, const uint8_t *p, size_t s, size_t e)
{
    bool code = c->triple != 0;
    bool comment = c->in_block || c->hash_cont;
    if (c->hash_cont) {
        c->hash_cont = ends_with_backslash(p, s, e);
        return LINE_COMMENT;
    }
    for (size_t i = s; i < e;) {
        uint8_t ch = p[i];
        bool two = i + 1 < e;
        if (c->in_block || c->triple != 0) {
            i = skip_open(c, p, i, e);
        } else if (ch == '/' && two && (p[i + 1] == '/' || p[i + 1] == '*')) {
            comment = true;
            c->in_block = p[i + 1] == '*';
            i = c->in_block ? i + 2 : e;
        } else if (ch == '#' && (!code || is_blank(p[i - 1]))) {
            comment = true;
            c->hash_cont = ends_with_backslash(p, i, e);
            i = e;
        } else if (ch == '"' || ch == '\'') {
            code = true;
            c->last_sig = '"';
            i = skip_string(c, p, i, e);
        } else {
            code = code || !is_blank(ch);
            if (!is_blank(ch)) {
                count_bracket(c, ch);
            }
            i++;
        }
    }
    return code ? LINE_CODE : comment ? LINE_COMMENT : LINE_BLANK;
}

static bool is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ident(uint8_t c)
{
    return is_alpha(c) || c == '_' || (c >= '0' && c <= '9');
}

/* Does line [s, e) start with w (a keyword, or a prefix ending in a space)? */
static bool starts_word(const uint8_t *p, size_t s, size_t e, const char *w)
{
    size_t n = strlen(w);
    if (e - s < n) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        if (p[s + k] != (uint8_t)w[k]) {
            return false;
        }
    }
    return w[n - 1] == ' ' || s + n == e || !is_ident(p[s + n]);
}

/* Does a top-level definition start at line [s, e)? (State is that of the line's start.) */
static bool def_start(const struct code *c, const uint8_t *p, size_t s, size_t e)
{
    if (s == e || c->depth != 0 || c->in_block || c->triple != 0 || c->hash_cont) {
        return false;
    }
    uint8_t ch = p[s];
    if (ch == '@' || starts_word(p, s, e, "def ") || starts_word(p, s, e, "async def ") ||
        starts_word(p, s, e, "class ")) {
        return !c->prev_decorator;
    }
    if (ch != '_' && !is_alpha(ch)) {
        return false;
    }
    static const char *const cont[] = {"else", "elif", "except", "finally", "catch"};
    for (size_t k = 0; k < sizeof cont / sizeof cont[0]; k++) {
        if (starts_word(p, s, e, cont[k])) {
            return false;
        }
    }
    return c->last_sig == ';' || c->last_sig == '}' || c->last_sig == ')';
}

static ms_err split_code(struct out *o)
{
    struct merge m = {0, 0};
    struct code c = {.last_sig = ';', .run = SIZE_MAX};
    for (size_t ls = 0; ls < o->len;) {
        size_t le = line_end(o->p, o->len, ls);
        size_t ce = le - (o->p[le - 1] == '\n');
        if (def_start(&c, o->p, ls, ce)) {
            size_t b = c.run != SIZE_MAX ? c.run : ls;
            if (b > m.ce) {
                TRY(add_unit(o, &m, b));
            }
        }
        enum line_kind k = scan_line(&c, o->p, ls, ce);
        if (k == LINE_COMMENT) {
            c.run = c.run == SIZE_MAX ? ls : c.run;
        } else {
            c.run = SIZE_MAX;
        }
        if (k == LINE_CODE) {
            c.prev_decorator = o->p[ls] == '@';
        }
        ls = le;
    }
    return finish_units(o, &m);
}

/* ---- Entry ------------------------------------------------------------------------------ */

ms_err ms_chunk_split(const char *text, size_t len, const ms_chunk_params *params,
                      ms_chunk_list *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    out->items = NULL;
    out->count = 0;
    TRY(ms_chunk_params_check(params));
    ENSURE(text != NULL || len == 0, MS_ERR_ARG);
    ENSURE(len <= MS_MAX_CHUNK_TEXT, MS_ERR_CAP_EXCEEDED);
    struct out o = {.p = (const uint8_t *)text, .len = len, .size = params->size};
    ms_err err = MS_OK;
    switch (params->method) {
    case MS_CHUNK_FIXED:
        err = cut_fixed(&o, 0, len, params->overlap);
        break;
    case MS_CHUNK_PARAGRAPHS:
        err = split_paragraphs(&o);
        break;
    case MS_CHUNK_PAGES:
        err = split_pages(&o);
        break;
    case MS_CHUNK_CODE:
        err = split_code(&o);
        break;
    case MS_CHUNK_METHOD_COUNT:
        err = MS_ERR_INTERNAL; /* refused by ms_chunk_params_check */
        break;
    }
    ms_chunk_list l = {.items = o.items, .count = o.n};
    if (err != MS_OK) {
        ms_chunk_list_free(&l);
        return err;
    }
    *out = l;
    return MS_OK;
}

/* Strict JSON parsing over cJSON (the reader is json_read.c, the builder json_build.c). */
#include "common/json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/check.h"
#include "common/json_priv.h"
#include "common/limits.h"

/* Longest number token: no field needs more, and cJSON builds differ beyond it (upstream
 * 1.7.15 cuts numbers at 63 characters, patched ones do not). */
#define MAX_NUMBER_TEXT 63u

/* cJSON_ParseWithLengthOpts writes a process-wide error slot: one parse at a time. */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

static bool in_set(uint8_t c, const char *set)
{
    return c != 0 && strchr(set, c) != NULL;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

size_t ms_json_utf8_len_(const uint8_t *p, size_t avail)
{
    uint8_t c = p[0];
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    size_t n;
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n > avail || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t k = 2; k < n; k++) {
        if (p[k] < 0x80 || p[k] > 0xBF) {
            return 0;
        }
    }
    return n;
}

size_t ms_json_plain_run_(const uint8_t *p, size_t len, bool ascii)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
#if defined(__SSE2__)
    /* Sixteen bytes a step where SSE2 is there (every x86-64): the long strings of large
       replies are most of a 1 MiB turn's lexing. The steps below finish the run exactly. */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    for (; len - i >= 16; i += 16) {
        __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* a byte <= 0x1f (unsigned: max(w, 0x1f) is 0x1f), '"' or '\\' */
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(w, ctl), ctl),
                                   _mm_or_si128(_mm_cmpeq_epi8(w, quote),
                                                _mm_cmpeq_epi8(w, bslash)));
        if (_mm_movemask_epi8(hit) | (ascii ? _mm_movemask_epi8(w) : 0)) {
            break;
        }
    }
#endif
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        /* a byte < 0x20, or one equal to '"' or '\\', sets a high bit (exact: any such byte) */
        uint64_t hit = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b);
        if ((hit | (ascii ? w : 0)) & highs) {
            break;
        }
    }
    while (i < len && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\' && (!ascii || p[i] < 0x80)) {
        i++;
    }
    return i;
}

/* UTF-8 without NUL bytes: what a cJSON string can hold faithfully. */
bool ms_json_text_ok_(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        i += ms_json_plain_run_(p + i, len - i, true); /* plain ASCII: the usual text */
        if (i == len) {
            break;
        }
        size_t n = ms_json_utf8_len_(p + i, len - i);
        if (n == 0 || p[i] == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/*
 * ---- Lexical pre-check ----------------------------------------------------------------
 * cJSON is lax: it takes any byte <= 0x20 as whitespace, invalid \u digits as U+0000, raw
 * control characters and invalid UTF-8 in strings, and whatever strtod accepts as a
 * number. This pass enforces RFC 8259 on the tokens and counts nesting before cJSON
 * recurses; cJSON then checks the grammar between tokens.
 */
struct lex {
    const uint8_t *p;
    size_t len;
    size_t i;
    unsigned depth;
    struct longs *longs; /* lex_check: where long string values are listed (may be NULL) */
};

/*
 * String values of at least LONG_STRING bytes (quotes included) bypass cJSON's string
 * parse, which goes a byte at a time and copies twice: the text cJSON reads holds "" in
 * their place, each is decoded here (plain runs eight bytes a step, copied once) and put
 * into its node after the parse. They are found by their place among the text's string
 * values (a string followed by ':' is a key), which is the tree's order of string nodes.
 */
#define LONG_STRING 256u

struct long_str {
    size_t start, end; /* text[start] is the opening quote, text[end - 1] the closing one */
    size_t ordinal;    /* its place among the string values */
    char *dec;         /* decoded, NUL-terminated; owned until placed in the tree */
};

struct longs {
    struct long_str *v;
    size_t n, cap;
    size_t values; /* string values seen so far */
    size_t bytes;  /* sum of their raw lengths */
    bool keep;     /* ms_json_parse_keep: left as they are in the text, not decoded */
};

/* Four hex digits at lx->p[at..at+4) (the caller checked they are there). */
static ms_err lex_hex4(const struct lex *lx, size_t at, unsigned *v)
{
    *v = 0;
    for (size_t k = at; k < at + 4; k++) {
        uint8_t c = lx->p[k];
        ENSURE(in_set(c, "0123456789abcdefABCDEF"), MS_ERR_JSON_PARSE);
        *v = *v << 4 | (unsigned)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return MS_OK;
}

/*
 * One escape. UTF-16 surrogates must pair (a high half, then "\u" and a low half), as both
 * decoders (cJSON's, decode_escape) require: checked here too, so that a string kept as it
 * is in the text (ms_json_parse_keep) is one every reader decodes.
 */
static ms_err lex_escape(struct lex *lx)
{
    ENSURE(lx->len - lx->i >= 2, MS_ERR_JSON_PARSE);
    uint8_t e = lx->p[lx->i + 1];
    if (e != 'u') {
        ENSURE(in_set(e, "\"\\/bfnrt"), MS_ERR_JSON_PARSE);
        lx->i += 2;
        return MS_OK;
    }
    unsigned v, lo;
    ENSURE(lx->len - lx->i >= 6, MS_ERR_JSON_PARSE);
    TRY(lex_hex4(lx, lx->i + 2, &v));
    ENSURE(v != 0, MS_ERR_JSON_PARSE);                     /* \u0000: see json.h */
    ENSURE(v < 0xDC00 || v > 0xDFFF, MS_ERR_JSON_PARSE); /* a low half first */
    lx->i += 6;
    if (v >= 0xD800 && v <= 0xDBFF) {
        ENSURE(lx->len - lx->i >= 6 && lx->p[lx->i] == '\\' && lx->p[lx->i + 1] == 'u',
               MS_ERR_JSON_PARSE);
        TRY(lex_hex4(lx, lx->i + 2, &lo));
        ENSURE(lo >= 0xDC00 && lo <= 0xDFFF, MS_ERR_JSON_PARSE);
        lx->i += 6;
    }
    return MS_OK;
}

/* A string's characters up to its closing quote (left unread) or the end of the text. */
static ms_err lex_chars(struct lex *lx)
{
    while (lx->i < lx->len) {
        uint8_t c = lx->p[lx->i];
        size_t run = ms_json_plain_run_(lx->p + lx->i, lx->len - lx->i, true);
        if (run > 0) { /* plain ASCII: the usual text */
            lx->i += run;
            continue;
        }
        if (c == '"') {
            return MS_OK;
        }
        ENSURE(c >= 0x20, MS_ERR_JSON_PARSE);
        if (c == '\\') {
            TRY(lex_escape(lx));
            continue;
        }
        size_t n = ms_json_utf8_len_(lx->p + lx->i, lx->len - lx->i);
        ENSURE(n > 0, MS_ERR_JSON_PARSE);
        lx->i += n;
    }
    return MS_OK;
}

static ms_err lex_string(struct lex *lx)
{
    lx->i++; /* opening quote */
    TRY(lex_chars(lx));
    ENSURE(lx->i < lx->len, MS_ERR_JSON_PARSE);
    lx->i++; /* closing quote */
    return MS_OK;
}

static size_t count_digits(const struct lex *lx, size_t i)
{
    size_t n = 0;
    while (i + n < lx->len && is_digit(lx->p[i + n])) {
        n++;
    }
    return n;
}

/* RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static ms_err lex_number(struct lex *lx)
{
    const uint8_t *p = lx->p;
    size_t i = lx->i;
    i += p[i] == '-';
    size_t d = count_digits(lx, i);
    ENSURE(d > 0 && (p[i] != '0' || d == 1), MS_ERR_JSON_PARSE);
    i += d;
    if (i < lx->len && p[i] == '.') {
        d = count_digits(lx, i + 1);
        ENSURE(d > 0, MS_ERR_JSON_PARSE);
        i += 1 + d;
    }
    if (i < lx->len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        i += i < lx->len && (p[i] == '+' || p[i] == '-');
        d = count_digits(lx, i);
        ENSURE(d > 0, MS_ERR_JSON_PARSE);
        i += d;
    }
    ENSURE(i - lx->i <= MAX_NUMBER_TEXT, MS_ERR_JSON_PARSE);
    /* What follows ("1.5.3", "1-2") is cJSON's to reject: it needs a separator there. */
    lx->i = i;
    return MS_OK;
}

/* Outside strings and numbers: structure, whitespace and the letters of true/false/null. */
bool ms_json_number_ok_(const char *text)
{
    struct lex lx = {.p = (const uint8_t *)text, .len = strlen(text), .i = 0, .depth = 0};
    return lex_number(&lx) == MS_OK && lx.i == lx.len;
}

static ms_err lex_other(struct lex *lx)
{
    uint8_t c = lx->p[lx->i];
    if (c == '[' || c == '{') {
        ENSURE(lx->depth < MS_MAX_JSON_DEPTH, MS_ERR_JSON_DEPTH);
        lx->depth++;
    } else if (c == ']' || c == '}') {
        ENSURE(lx->depth > 0, MS_ERR_JSON_PARSE);
        lx->depth--;
    } else {
        ENSURE((c >= 'a' && c <= 'z') || in_set(c, " \t\n\r,:"), MS_ERR_JSON_PARSE);
    }
    lx->i++;
    return MS_OK;
}

static bool is_key(const struct lex *lx)
{
    size_t i = lx->i;
    while (i < lx->len && in_set(lx->p[i], " \t\n\r")) {
        i++;
    }
    return i < lx->len && lx->p[i] == ':';
}

/* The string that ended at lx->i began at start: list it if it is a long value. */
static ms_err note_string(struct lex *lx, size_t start)
{
    struct longs *l = lx->longs;
    if (l == NULL || is_key(lx)) {
        return MS_OK;
    }
    size_t ordinal = l->values++;
    if (lx->i - start < LONG_STRING) {
        return MS_OK;
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        struct long_str *nv = realloc(l->v, ncap * sizeof *nv);
        ENSURE(nv != NULL, MS_ERR_NOMEM);
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = (struct long_str){.start = start, .end = lx->i, .ordinal = ordinal};
    l->bytes += lx->i - start;
    return MS_OK;
}

static ms_err lex_check(const uint8_t *p, size_t len, struct longs *longs)
{
    struct lex lx = {.p = p, .len = len, .i = 0, .depth = 0, .longs = longs};
    while (lx.i < len) {
        uint8_t c = p[lx.i];
        if (c == '"') {
            size_t start = lx.i;
            TRY(lex_string(&lx));
            TRY(note_string(&lx, start));
        } else if (c == '-' || is_digit(c)) {
            TRY(lex_number(&lx));
        } else {
            TRY(lex_other(&lx));
        }
    }
    return MS_OK;
}

/* ---- Trees ----------------------------------------------------------------------------- */

/* Recursion is bounded by MS_MAX_JSON_DEPTH (parse and builder both enforce it). */
static void wipe_tree(cJSON *n)
{
    for (; n != NULL; n = n->next) {
        if (n->valuestring != NULL && !(n->type & cJSON_IsReference)) {
            ms_wipe(n->valuestring, strlen(n->valuestring));
        }
        if (n->string != NULL && !(n->type & cJSON_StringIsConst)) {
            ms_wipe(n->string, strlen(n->string));
        }
        n->valuedouble = 0;
        n->valueint = 0;
        wipe_tree(n->child);
    }
}

void ms_json_tree_free_(cJSON *root)
{
    if (root != NULL) {
        wipe_tree(root);
        cJSON_Delete(root);
    }
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorting keeps this O(n log n): a quadratic check would be a denial-of-service lever (an
   object of up to SMALL_OBJECT keys is checked pair by pair, a bounded cost). */
#define SMALL_OBJECT 8u
static ms_err check_dup_keys(const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        n++;
    }
    if (n < 2) {
        return MS_OK;
    }
    if (n <= SMALL_OBJECT) { /* at most 28 compares, no allocation: most objects are small */
        for (const cJSON *a = obj->child; a != NULL; a = a->next) {
            for (const cJSON *b = a->next; b != NULL; b = b->next) {
                ENSURE(strcmp(a->string, b->string) != 0, MS_ERR_JSON_PARSE);
            }
        }
        return MS_OK;
    }
    const char **keys = calloc(n, sizeof *keys);
    ENSURE(keys != NULL, MS_ERR_NOMEM);
    size_t i = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        keys[i++] = c->string;
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    ms_err err = MS_OK;
    for (i = 1; i < n && err == MS_OK; i++) {
        err = strcmp(keys[i - 1], keys[i]) == 0 ? MS_ERR_JSON_PARSE : MS_OK;
    }
    free(keys);
    return err;
}

/* Duplicate keys, per object, and numbers a double cannot hold, after cJSON built the tree. */
static ms_err walk(const cJSON *n, unsigned depth)
{
    if (cJSON_IsNumber(n)) { /* 1e400: strtod's infinity, which no JSON text can say back */
        return isfinite(n->valuedouble) ? MS_OK : MS_ERR_JSON_RANGE;
    }
    if (!cJSON_IsArray(n) && !cJSON_IsObject(n)) {
        return MS_OK;
    }
    /* lex_check already enforced the depth cap; this only guards the recursion. */
    ENSURE(depth <= MS_MAX_JSON_DEPTH, MS_ERR_INTERNAL);
    if (cJSON_IsObject(n)) {
        TRY(check_dup_keys(n));
    }
    for (const cJSON *c = n->child; c != NULL; c = c->next) {
        TRY(walk(c, depth + 1));
    }
    return MS_OK;
}

static unsigned hex4(const uint8_t *p)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        uint8_t c = p[k];
        v = v << 4 | (unsigned)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static size_t put_utf8(uint8_t *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xC0 | cp >> 6);
        d[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xE0 | cp >> 12);
        d[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        d[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (uint8_t)(0xF0 | cp >> 18);
    d[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    d[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    d[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * The escape at s[*i] (lex_escape checked its form: one of \"\\/bfnrt or \u and four hex
 * digits, not \u0000) into d; *i moves past it. UTF-16 surrogates must pair, as cJSON
 * requires: a lone one is MS_ERR_JSON_PARSE. Writes at most 4 bytes, never more than the
 * escape's own length.
 */
static ms_err decode_escape(const uint8_t *s, size_t n, size_t *i, uint8_t *d, size_t *w)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    uint8_t e = s[*i + 1];
    if (e != 'u') {
        d[0] = (uint8_t)to[strchr(from, e) - from];
        *w = 1;
        *i += 2;
        return MS_OK;
    }
    uint32_t cp = hex4(s + *i + 2);
    *i += 6;
    ENSURE(cp < 0xDC00 || cp > 0xDFFF, MS_ERR_JSON_PARSE); /* a low half first */
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        ENSURE(n - *i >= 6 && s[*i] == '\\' && s[*i + 1] == 'u', MS_ERR_JSON_PARSE);
        uint32_t lo = hex4(s + *i + 2);
        ENSURE(lo >= 0xDC00 && lo <= 0xDFFF, MS_ERR_JSON_PARSE);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        *i += 6;
    }
    *w = put_utf8(d, cp);
    return MS_OK;
}

/*
 * The n bytes between a string's quotes, lexed already (escapes well formed, surrogates
 * paired, UTF-8 valid, no control byte), decoded into d (room for n bytes: decoding never
 * lengthens); *o is the decoded length.
 */
static ms_err decode_span(const uint8_t *s, size_t n, uint8_t *d, size_t *o)
{
    size_t i = 0;
    *o = 0;
    while (i < n) {
        size_t run = ms_json_plain_run_(s + i, n - i, false);
        memcpy(d + *o, s + i, run);
        *o += run;
        i += run;
        if (i < n) {
            size_t w = 0;
            TRY(decode_escape(s, n, &i, d + *o, &w));
            *o += w;
        }
    }
    return MS_OK;
}

/* One long string, lexed already. */
static ms_err decode_long(const uint8_t *text, struct long_str *ls)
{
    size_t n = ls->end - ls->start - 2, o = 0;
    uint8_t *d = malloc(n + 1);
    ENSURE(d != NULL, MS_ERR_NOMEM);
    ms_err e = decode_span(text + ls->start + 1, n, d, &o);
    if (e != MS_OK) {
        ms_wipe(d, o);
        free(d);
        return e;
    }
    d[o] = '\0';
    ls->dec = (char *)d;
    return MS_OK;
}

/* ms_json_unescape when out has no room for len bytes: decoded in a buffer of its own. */
static ms_err unescape_beside(const uint8_t *s, size_t len, ms_buf *out)
{
    size_t o = 0;
    uint8_t *d = malloc(len);
    ENSURE(d != NULL, MS_ERR_NOMEM);
    ms_err e = decode_span(s, len, d, &o);
    e = e ? e : ms_buf_append(out, d, o);
    ms_wipe(d, o);
    free(d);
    return e;
}

ms_err ms_json_unescape(const char *esc, size_t len, ms_buf *out)
{
    struct lex lx = {.p = (const uint8_t *)esc, .len = len, .i = 0, .depth = 0};
    uint8_t *d;
    size_t o = 0;
    ENSURE(esc != NULL || len == 0, MS_ERR_ARG);
    TRY(lex_chars(&lx));
    ENSURE(lx.i == len, MS_ERR_JSON_PARSE); /* a bare '"' */
    ms_err e = ms_buf_extend(out, len, &d);
    if (e == MS_ERR_CAP_EXCEEDED) { /* the decoded text may still fit: decode beside, then */
        return unescape_beside(lx.p, len, out);
    }
    TRY(e);
    e = decode_span(lx.p, len, d, &o); /* cannot fail: lexed (its pairs checked) */
    ms_err s2 = ms_buf_shrink(out, e == MS_OK ? len - o : len);
    (void)s2; /* at most what was extended: cannot fail */
    return e;
}

static void longs_free(struct longs *l)
{
    for (size_t k = 0; k < l->n; k++) {
        if (l->v[k].dec != NULL) {
            ms_wipe(l->v[k].dec, strlen(l->v[k].dec));
            free(l->v[k].dec);
        }
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/*
 * A kept string's node: cJSON_Raw (no getter but ms_json_as_text reads it, see json_read.c)
 * and a reference (cJSON_Delete frees nothing of it, wipe_tree leaves it: the text is the
 * caller's) to the bytes between its quotes; their count in valuedouble (exact: < 2^53).
 */
static void keep_node(cJSON *n, const char *text, const struct long_str *ls)
{
    n->type = cJSON_Raw | cJSON_IsReference;
    n->valuestring = (char *)(uintptr_t)(text + ls->start + 1);
    n->valuedouble = (double)(ls->end - ls->start - 2);
}

/* Each long string into its node, in document order; *next counts string values. */
static void place_longs(cJSON *n, const char *text, struct longs *l, size_t *ordinal,
                        size_t *k)
{
    for (; n != NULL && *k < l->n; n = n->next) {
        if (cJSON_IsString(n)) {
            if (*ordinal == l->v[*k].ordinal) {
                cJSON_free(n->valuestring); /* the placeholder's "" */
                n->valuestring = l->v[*k].dec;
                if (l->keep) {
                    keep_node(n, text, &l->v[*k]);
                }
                l->v[*k].dec = NULL;
                (*k)++;
            }
            (*ordinal)++;
        }
        place_longs(n->child, text, l, ordinal, k); /* depth: bounded by the lexer */
    }
}

/* The text for cJSON: long string values as "", a NUL after it. */
static char *short_copy(const char *text, size_t len, const struct longs *l, size_t *out_len)
{
    size_t n = len - l->bytes + 2 * l->n, at = 0, o = 0;
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        return NULL;
    }
    for (size_t k = 0; k < l->n; k++) {
        memcpy(copy + o, text + at, l->v[k].start - at);
        o += l->v[k].start - at;
        copy[o++] = '"';
        copy[o++] = '"';
        at = l->v[k].end;
    }
    memcpy(copy + o, text + at, len - at);
    copy[n] = '\0';
    *out_len = n;
    return copy;
}

/* cJSON wants a NUL after the text; the end pointer proves it read all of it. */
static ms_err cjson_parse(const char *text, size_t len, struct longs *l, cJSON **out)
{
    const char *end = NULL;
    size_t n = 0, ordinal = 0, k = 0;
    *out = NULL;
    for (size_t i = 0; i < l->n && !l->keep; i++) {
        TRY(decode_long((const uint8_t *)text, &l->v[i]));
    }
    char *copy = short_copy(text, len, l, &n);
    ENSURE(copy != NULL, MS_ERR_NOMEM);
    pthread_mutex_lock(&parse_lock);
    cJSON *root = cJSON_ParseWithLengthOpts(copy, n + 1, &end, 1);
    pthread_mutex_unlock(&parse_lock);
    bool whole = root != NULL && end == copy + n;
    ms_wipe(copy, n + 1);
    free(copy);
    if (whole) {
        place_longs(root, text, l, &ordinal, &k);
    }
    if (!whole || k != l->n) {
        ms_json_tree_free_(root);
        return MS_ERR_JSON_PARSE;
    }
    *out = root;
    return MS_OK;
}

static ms_err parse(const char *text, size_t len, bool keep, ms_json_doc **out)
{
    ms_err err = MS_OK;
    cJSON *root = NULL;
    ms_json_doc *doc = NULL;
    struct longs longs = {.keep = keep};
    *out = NULL;
    ENSURE(text != NULL || len == 0, MS_ERR_ARG);
    ENSURE(len <= MS_MAX_JSON_TEXT, MS_ERR_CAP_EXCEEDED);
    ENSURE(len > 0, MS_ERR_JSON_PARSE);
    TRY_OUT(lex_check((const uint8_t *)text, len, &longs));
    TRY_OUT(cjson_parse(text, len, &longs, &root));
    TRY_OUT(walk(root, 1));
    doc = malloc(sizeof *doc);
    ENSURE_OUT(doc != NULL, MS_ERR_NOMEM);
    doc->root = root;
    root = NULL;
    *out = doc;
out:
    longs_free(&longs);
    ms_json_tree_free_(root);
    return err;
}

ms_err ms_json_parse(const char *text, size_t len, ms_json_doc **out)
{
    return parse(text, len, false, out);
}

ms_err ms_json_parse_keep(const char *text, size_t len, ms_json_doc **out)
{
    return parse(text, len, true, out);
}

void ms_json_free(ms_json_doc *doc)
{
    if (doc != NULL) {
        ms_json_tree_free_(doc->root);
        free(doc);
    }
}

/* ---- Raw spans --------------------------------------------------------------------------- */

static void lex_ws(struct lex *lx)
{
    while (lx->i < lx->len && in_set(lx->p[lx->i], " \t\n\r")) {
        lx->i++;
    }
}

/*
 * Step over one value of a text that already parsed: strings and numbers by their lexers,
 * containers by counting brackets outside strings, literals by their letters.
 */
static ms_err lex_skip_value(struct lex *lx)
{
    ENSURE(lx->i < lx->len, MS_ERR_JSON_PARSE);
    uint8_t c = lx->p[lx->i];
    if (c == '"') {
        return lex_string(lx);
    }
    if (c == '-' || is_digit(c)) {
        return lex_number(lx);
    }
    if (c != '{' && c != '[') {
        while (lx->i < lx->len && lx->p[lx->i] >= 'a' && lx->p[lx->i] <= 'z') {
            lx->i++;
        }
        return MS_OK;
    }
    unsigned depth = 0;
    while (lx->i < lx->len) {
        c = lx->p[lx->i];
        if (c == '"') {
            TRY(lex_string(lx));
            continue;
        }
        lx->i++;
        if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return MS_OK;
        }
    }
    return MS_ERR_JSON_PARSE;
}

ms_err ms_json_raw_member(const char *text, size_t len, const char *key, size_t *start,
                          size_t *n)
{
    ms_json_doc *doc = NULL;
    *start = 0;
    *n = 0;
    ENSURE(key != NULL, MS_ERR_ARG);
    TRY(ms_json_parse(text, len, &doc));
    bool is_obj = cJSON_IsObject(doc->root);
    ms_json_free(doc);
    ENSURE(is_obj, MS_ERR_JSON_TYPE);
    /* The parse proved the grammar: the walk below only finds the members' boundaries. */
    struct lex lx = {.p = (const uint8_t *)text, .len = len, .i = 0, .depth = 0};
    size_t key_len = strlen(key);
    lex_ws(&lx);
    lx.i++; /* '{' */
    for (;;) {
        lex_ws(&lx);
        ENSURE(lx.i < len && lx.p[lx.i] == '"', MS_ERR_JSON_MISSING); /* '}': not found */
        size_t k0 = lx.i + 1;
        TRY(lex_string(&lx));
        bool match = lx.i - 1 - k0 == key_len && ms_ct_equal(text + k0, key, key_len);
        lex_ws(&lx);
        lx.i++; /* ':' */
        lex_ws(&lx);
        size_t v0 = lx.i;
        TRY(lex_skip_value(&lx));
        if (match) {
            *start = v0;
            *n = lx.i - v0;
            return MS_OK;
        }
        lex_ws(&lx);
        ENSURE(lx.i < len && lx.p[lx.i] == ',', MS_ERR_JSON_MISSING);
        lx.i++;
    }
}

/* ---- A string value's place in its text ------------------------------------------------- */

/* The place of string node `want` among the tree's string values (document order, kept
   strings included), as note_string counts them in the text. */
static bool string_ordinal(const cJSON *n, const cJSON *want, size_t *ord)
{
    for (; n != NULL; n = n->next) {
        if (n == want) {
            return true;
        }
        *ord += cJSON_IsString(n) || cJSON_IsRaw(n);
        if (string_ordinal(n->child, want, ord)) { /* depth: bounded by the parse */
            return true;
        }
    }
    return false;
}

ms_err ms_json_str_span(const ms_json_doc *doc, ms_json_val v, const char *text, size_t len,
                        size_t *start, size_t *n)
{
    const cJSON *want = v.node_;
    size_t ord = 0, k = 0;
    *start = 0;
    *n = 0;
    ENSURE(doc != NULL && text != NULL, MS_ERR_ARG);
    ENSURE(want != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsString(want) || cJSON_IsRaw(want), MS_ERR_JSON_TYPE);
    ENSURE(string_ordinal(doc->root, want, &ord), MS_ERR_ARG);
    struct lex lx = {.p = (const uint8_t *)text, .len = len, .i = 0, .depth = 0};
    while (lx.i < len) {
        uint8_t c = lx.p[lx.i];
        size_t s0 = lx.i;
        if (c == '"') {
            TRY(lex_string(&lx));
            if (!is_key(&lx) && k++ == ord) {
                *start = s0 + 1;
                *n = lx.i - s0 - 2;
                return MS_OK;
            }
        } else if (c == '-' || is_digit(c)) {
            TRY(lex_number(&lx));
        } else {
            TRY(lex_other(&lx));
        }
    }
    return MS_ERR_ARG; /* not the text the document was parsed from */
}

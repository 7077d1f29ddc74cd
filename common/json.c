/* Typed JSON reader and builder over cJSON, adding the strictness cJSON lacks. */
#include "common/json.h"

#include <float.h>

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"

#define MAX_SAFE_INT 9007199254740991.0 /* 2^53 - 1: every integer up to here is exact */
/* Longest number token: no field needs more, and cJSON builds differ beyond it (upstream
 * 1.7.15 cuts numbers at 63 characters, patched ones do not). */
#define MAX_NUMBER_TEXT 63u

struct ms_json_doc {
    cJSON *root;
};

struct ms_json_builder {
    cJSON *root;
};

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

/* Length of the UTF-8 sequence at p (RFC 3629: no overlong, surrogate, > U+10FFFF), or 0. */
static size_t utf8_len(const uint8_t *p, size_t avail)
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

/* UTF-8 without NUL bytes: what a cJSON string can hold faithfully. */
static bool text_ok(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(p + i, len - i);
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
};

static ms_err lex_escape(struct lex *lx)
{
    ENSURE(lx->len - lx->i >= 2, MS_ERR_JSON_PARSE);
    uint8_t e = lx->p[lx->i + 1];
    if (e != 'u') {
        ENSURE(in_set(e, "\"\\/bfnrt"), MS_ERR_JSON_PARSE);
        lx->i += 2;
        return MS_OK;
    }
    ENSURE(lx->len - lx->i >= 6, MS_ERR_JSON_PARSE);
    unsigned v = 0;
    for (size_t k = 2; k < 6; k++) {
        uint8_t c = lx->p[lx->i + k];
        ENSURE(in_set(c, "0123456789abcdefABCDEF"), MS_ERR_JSON_PARSE);
        v = v << 4 | (unsigned)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    ENSURE(v != 0, MS_ERR_JSON_PARSE); /* \u0000: see json.h */
    lx->i += 6;
    return MS_OK;
}

static ms_err lex_string(struct lex *lx)
{
    lx->i++; /* opening quote */
    while (lx->i < lx->len) {
        uint8_t c = lx->p[lx->i];
        if (c == '"') {
            lx->i++;
            return MS_OK;
        }
        ENSURE(c >= 0x20, MS_ERR_JSON_PARSE);
        if (c == '\\') {
            TRY(lex_escape(lx));
            continue;
        }
        size_t n = utf8_len(lx->p + lx->i, lx->len - lx->i);
        ENSURE(n > 0, MS_ERR_JSON_PARSE);
        lx->i += n;
    }
    return MS_ERR_JSON_PARSE;
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

static ms_err lex_check(const uint8_t *p, size_t len)
{
    struct lex lx = {.p = p, .len = len, .i = 0, .depth = 0};
    while (lx.i < len) {
        uint8_t c = p[lx.i];
        if (c == '"') {
            TRY(lex_string(&lx));
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
        if (n->valuestring != NULL) {
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

static void free_tree(cJSON *root)
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

/* Sorting keeps this O(n log n): a quadratic check would be a denial-of-service lever. */
static ms_err check_dup_keys(const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        n++;
    }
    if (n < 2) {
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

/* Duplicate keys, per object, after cJSON built the tree. */
static ms_err walk(const cJSON *n, unsigned depth)
{
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

/* cJSON wants a NUL after the text; the end pointer proves it read all of it. */
static ms_err cjson_parse(const char *text, size_t len, cJSON **out)
{
    const char *end = NULL;
    *out = NULL;
    char *copy = malloc(len + 1);
    ENSURE(copy != NULL, MS_ERR_NOMEM);
    memcpy(copy, text, len);
    copy[len] = '\0';
    pthread_mutex_lock(&parse_lock);
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
    pthread_mutex_unlock(&parse_lock);
    bool whole = root != NULL && end == copy + len;
    ms_wipe(copy, len + 1);
    free(copy);
    if (!whole) {
        free_tree(root);
        return MS_ERR_JSON_PARSE;
    }
    *out = root;
    return MS_OK;
}

ms_err ms_json_parse(const char *text, size_t len, ms_json_doc **out)
{
    ms_err err = MS_OK;
    cJSON *root = NULL;
    ms_json_doc *doc = NULL;
    *out = NULL;
    ENSURE(text != NULL || len == 0, MS_ERR_ARG);
    ENSURE(len <= MS_MAX_JSON_TEXT, MS_ERR_CAP_EXCEEDED);
    ENSURE(len > 0, MS_ERR_JSON_PARSE);
    TRY(lex_check((const uint8_t *)text, len));
    TRY(cjson_parse(text, len, &root));
    TRY_OUT(walk(root, 1));
    doc = malloc(sizeof *doc);
    ENSURE_OUT(doc != NULL, MS_ERR_NOMEM);
    doc->root = root;
    root = NULL;
    *out = doc;
out:
    free_tree(root);
    return err;
}

void ms_json_free(ms_json_doc *doc)
{
    if (doc != NULL) {
        free_tree(doc->root);
        free(doc);
    }
}

/* ---- Reader ---------------------------------------------------------------------------- */

static ms_json_val view(const cJSON *n)
{
    ms_json_val v = {.node_ = n};
    return v;
}

ms_json_val ms_json_root(const ms_json_doc *doc)
{
    return view(doc != NULL ? doc->root : NULL);
}

ms_json_type ms_json_type_of(ms_json_val v)
{
    const cJSON *n = v.node_;
    if (n == NULL) {
        return MS_JSON_ABSENT;
    }
    switch (n->type & 0xFF) {
    case cJSON_NULL:
        return MS_JSON_NULL;
    case cJSON_False:
    case cJSON_True:
        return MS_JSON_BOOL;
    case cJSON_Number:
        return MS_JSON_NUMBER;
    case cJSON_String:
        return MS_JSON_STRING;
    case cJSON_Array:
        return MS_JSON_ARRAY;
    case cJSON_Object:
        return MS_JSON_OBJECT;
    default:
        return MS_JSON_ABSENT;
    }
}

/* An absent view reads as an empty object. */
static ms_err lookup(ms_json_val obj, const char *key, const cJSON **out)
{
    const cJSON *o = obj.node_;
    *out = NULL;
    ENSURE(key != NULL, MS_ERR_ARG);
    ENSURE(o != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsObject(o), MS_ERR_JSON_TYPE);
    *out = cJSON_GetObjectItemCaseSensitive(o, key);
    ENSURE(*out != NULL, MS_ERR_JSON_MISSING);
    return MS_OK;
}

static ms_err lookup_opt(ms_json_val obj, const char *key, const cJSON **out, bool *found)
{
    ms_err err = lookup(obj, key, out);
    *found = err == MS_OK;
    return err == MS_ERR_JSON_MISSING ? MS_OK : err;
}

/* The number in n if it is an integer that a double holds exactly. */
static ms_err exact_int(const cJSON *n, double *out)
{
    *out = 0;
    ENSURE(n != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsNumber(n), MS_ERR_JSON_TYPE);
    double d = n->valuedouble;
    /* Written so that NaN fails too. */
    ENSURE(d >= -MAX_SAFE_INT && d <= MAX_SAFE_INT, MS_ERR_JSON_RANGE);
    ENSURE((double)(int64_t)d == d, MS_ERR_JSON_RANGE);
    *out = d;
    return MS_OK;
}

ms_err ms_json_get(ms_json_val obj, const char *key, ms_json_val *out)
{
    const cJSON *n;
    *out = view(NULL);
    TRY(lookup(obj, key, &n));
    *out = view(n);
    return MS_OK;
}

ms_err ms_json_as_str(ms_json_val v, size_t max_len, const char **out, size_t *out_len)
{
    const cJSON *n = v.node_;
    *out = NULL;
    *out_len = 0;
    ENSURE(n != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsString(n) && n->valuestring != NULL, MS_ERR_JSON_TYPE);
    size_t len = strnlen(n->valuestring, max_len < SIZE_MAX ? max_len + 1 : SIZE_MAX);
    ENSURE(len <= max_len, MS_ERR_JSON_TOO_LONG);
    *out = n->valuestring;
    *out_len = len;
    return MS_OK;
}

ms_err ms_json_as_bool(ms_json_val v, bool *out)
{
    const cJSON *n = v.node_;
    *out = false;
    ENSURE(n != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsBool(n), MS_ERR_JSON_TYPE);
    *out = cJSON_IsTrue(n);
    return MS_OK;
}

ms_err ms_json_as_i64(ms_json_val v, int64_t min, int64_t max, int64_t *out)
{
    double d;
    *out = 0;
    ENSURE(min <= max, MS_ERR_ARG);
    TRY(exact_int(v.node_, &d));
    int64_t i = (int64_t)d;
    ENSURE(i >= min && i <= max, MS_ERR_JSON_RANGE);
    *out = i;
    return MS_OK;
}

ms_err ms_json_as_u64(ms_json_val v, uint64_t max, uint64_t *out)
{
    double d;
    *out = 0;
    TRY(exact_int(v.node_, &d));
    ENSURE(d >= 0, MS_ERR_JSON_RANGE);
    uint64_t u = (uint64_t)d;
    ENSURE(u <= max, MS_ERR_JSON_RANGE);
    *out = u;
    return MS_OK;
}

ms_err ms_json_as_double(ms_json_val v, double min, double max, double *out)
{
    const cJSON *n = v.node_;
    *out = 0;
    ENSURE(min <= max, MS_ERR_ARG);
    ENSURE(n != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsNumber(n), MS_ERR_JSON_TYPE);
    double d = n->valuedouble;
    ENSURE(isfinite(d) && d >= min && d <= max, MS_ERR_JSON_RANGE);
    *out = d;
    return MS_OK;
}

ms_err ms_json_as_obj(ms_json_val v, ms_json_val *out)
{
    const cJSON *n = v.node_;
    *out = view(NULL);
    ENSURE(n != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsObject(n), MS_ERR_JSON_TYPE);
    *out = v;
    return MS_OK;
}

ms_err ms_json_as_arr(ms_json_val v, size_t max_len, ms_json_val *out, size_t *out_len)
{
    const cJSON *n = v.node_;
    size_t count = 0;
    *out = view(NULL);
    *out_len = 0;
    ENSURE(n != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsArray(n), MS_ERR_JSON_TYPE);
    for (const cJSON *c = n->child; c != NULL; c = c->next) {
        ENSURE(count < max_len, MS_ERR_JSON_TOO_LONG);
        count++;
    }
    *out = v;
    *out_len = count;
    return MS_OK;
}

ms_err ms_json_as_enum(ms_json_val v, const char *const *allowed, size_t n_allowed,
                       size_t *out_index)
{
    const char *s;
    size_t len;
    *out_index = 0;
    ENSURE(allowed != NULL || n_allowed == 0, MS_ERR_ARG);
    TRY(ms_json_as_str(v, SIZE_MAX, &s, &len));
    for (size_t i = 0; i < n_allowed; i++) {
        if (allowed[i] != NULL && strcmp(allowed[i], s) == 0) {
            *out_index = i;
            return MS_OK;
        }
    }
    return MS_ERR_JSON_ENUM;
}

ms_err ms_json_arr_at(ms_json_val arr, size_t i, ms_json_val *out)
{
    const cJSON *a = arr.node_;
    *out = view(NULL);
    ENSURE(a != NULL, MS_ERR_JSON_MISSING);
    ENSURE(cJSON_IsArray(a), MS_ERR_JSON_TYPE);
    const cJSON *c = a->child;
    for (size_t k = 0; k < i && c != NULL; k++) {
        c = c->next;
    }
    ENSURE(c != NULL, MS_ERR_JSON_MISSING);
    *out = view(c);
    return MS_OK;
}

ms_json_iter ms_json_iter_init(ms_json_val container)
{
    const cJSON *c = container.node_;
    ms_json_iter it = {.next_ = NULL};
    if (c != NULL && (cJSON_IsArray(c) || cJSON_IsObject(c))) {
        it.next_ = c->child;
    }
    return it;
}

bool ms_json_iter_next(ms_json_iter *it, ms_json_val *out, const char **key)
{
    const cJSON *c = it->next_;
    *out = view(NULL);
    if (key != NULL) {
        *key = NULL;
    }
    if (c == NULL) {
        return false;
    }
    it->next_ = c->next;
    *out = view(c);
    if (key != NULL) {
        *key = c->string;
    }
    return true;
}

/* ---- Getters by key: look up, then the as_ check ------------------------------------- */

ms_err ms_json_get_str(ms_json_val obj, const char *key, size_t max_len, const char **out,
                       size_t *out_len)
{
    const cJSON *n;
    *out = NULL;
    *out_len = 0;
    TRY(lookup(obj, key, &n));
    return ms_json_as_str(view(n), max_len, out, out_len);
}

ms_err ms_json_get_bool(ms_json_val obj, const char *key, bool *out)
{
    const cJSON *n;
    *out = false;
    TRY(lookup(obj, key, &n));
    return ms_json_as_bool(view(n), out);
}

ms_err ms_json_get_i64(ms_json_val obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *n;
    *out = 0;
    TRY(lookup(obj, key, &n));
    return ms_json_as_i64(view(n), min, max, out);
}

ms_err ms_json_get_u64(ms_json_val obj, const char *key, uint64_t max, uint64_t *out)
{
    const cJSON *n;
    *out = 0;
    TRY(lookup(obj, key, &n));
    return ms_json_as_u64(view(n), max, out);
}

ms_err ms_json_get_double(ms_json_val obj, const char *key, double min, double max, double *out)
{
    const cJSON *n;
    *out = 0;
    TRY(lookup(obj, key, &n));
    return ms_json_as_double(view(n), min, max, out);
}

ms_err ms_json_get_obj(ms_json_val obj, const char *key, ms_json_val *out)
{
    const cJSON *n;
    *out = view(NULL);
    TRY(lookup(obj, key, &n));
    return ms_json_as_obj(view(n), out);
}

ms_err ms_json_get_arr(ms_json_val obj, const char *key, size_t max_len, ms_json_val *out,
                       size_t *out_len)
{
    const cJSON *n;
    *out = view(NULL);
    *out_len = 0;
    TRY(lookup(obj, key, &n));
    return ms_json_as_arr(view(n), max_len, out, out_len);
}

ms_err ms_json_get_enum(ms_json_val obj, const char *key, const char *const *allowed,
                        size_t n_allowed, size_t *out_index)
{
    const cJSON *n;
    *out_index = 0;
    TRY(lookup(obj, key, &n));
    return ms_json_as_enum(view(n), allowed, n_allowed, out_index);
}

ms_err ms_json_get_str_opt(ms_json_val obj, const char *key, size_t max_len, const char *def,
                           const char **out, size_t *out_len)
{
    const cJSON *n;
    bool found;
    *out = def;
    *out_len = def != NULL ? strlen(def) : 0;
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_str(view(n), max_len, out, out_len) : MS_OK;
}

ms_err ms_json_get_bool_opt(ms_json_val obj, const char *key, bool def, bool *out)
{
    const cJSON *n;
    bool found;
    *out = def;
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_bool(view(n), out) : MS_OK;
}

ms_err ms_json_get_i64_opt(ms_json_val obj, const char *key, int64_t min, int64_t max,
                           int64_t def, int64_t *out)
{
    const cJSON *n;
    bool found;
    *out = def;
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_i64(view(n), min, max, out) : MS_OK;
}

ms_err ms_json_get_u64_opt(ms_json_val obj, const char *key, uint64_t max, uint64_t def,
                           uint64_t *out)
{
    const cJSON *n;
    bool found;
    *out = def;
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_u64(view(n), max, out) : MS_OK;
}

ms_err ms_json_get_double_opt(ms_json_val obj, const char *key, double min, double max,
                              double def, double *out)
{
    const cJSON *n;
    bool found;
    *out = def;
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_double(view(n), min, max, out) : MS_OK;
}

ms_err ms_json_get_obj_opt(ms_json_val obj, const char *key, ms_json_val *out)
{
    const cJSON *n;
    bool found;
    *out = view(NULL);
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_obj(view(n), out) : MS_OK;
}

ms_err ms_json_get_arr_opt(ms_json_val obj, const char *key, size_t max_len, ms_json_val *out,
                           size_t *out_len)
{
    const cJSON *n;
    bool found;
    *out = view(NULL);
    *out_len = 0;
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_arr(view(n), max_len, out, out_len) : MS_OK;
}

ms_err ms_json_get_enum_opt(ms_json_val obj, const char *key, const char *const *allowed,
                            size_t n_allowed, size_t def, size_t *out_index)
{
    const cJSON *n;
    bool found;
    *out_index = def;
    TRY(lookup_opt(obj, key, &n, &found));
    return found ? ms_json_as_enum(view(n), allowed, n_allowed, out_index) : MS_OK;
}

/* ---- Builder --------------------------------------------------------------------------- */

static ms_json_wval wview(cJSON *n, unsigned depth)
{
    ms_json_wval w = {.node_ = n, .depth_ = depth};
    return w;
}

ms_err ms_json_builder_new(ms_json_type root_type, ms_json_builder **out, ms_json_wval *root)
{
    *out = NULL;
    *root = wview(NULL, 0);
    ENSURE(root_type == MS_JSON_OBJECT || root_type == MS_JSON_ARRAY, MS_ERR_ARG);
    ms_json_builder *b = malloc(sizeof *b);
    ENSURE(b != NULL, MS_ERR_NOMEM);
    b->root = root_type == MS_JSON_OBJECT ? cJSON_CreateObject() : cJSON_CreateArray();
    if (b->root == NULL) {
        free(b);
        return MS_ERR_NOMEM;
    }
    *out = b;
    *root = wview(b->root, 1);
    return MS_OK;
}

void ms_json_builder_free(ms_json_builder *b)
{
    if (b != NULL) {
        free_tree(b->root);
        free(b);
    }
}

ms_err ms_json_builder_print(const ms_json_builder *b, ms_buf *out)
{
    ENSURE(b != NULL && b->root != NULL, MS_ERR_ARG);
    char *text = cJSON_PrintUnformatted(b->root);
    ENSURE(text != NULL, MS_ERR_NOMEM);
    size_t n = strlen(text);
    ms_err err = ms_buf_append(out, text, n);
    ms_wipe(text, n);
    cJSON_free(text);
    return err;
}

/* An object slot needs a new UTF-8 key; an array slot needs none. */
static ms_err check_slot(ms_json_wval parent, const char *key)
{
    const cJSON *p = parent.node_;
    ENSURE(p != NULL, MS_ERR_ARG);
    if (cJSON_IsArray(p)) {
        ENSURE(key == NULL, MS_ERR_ARG);
        return MS_OK;
    }
    ENSURE(cJSON_IsObject(p) && key != NULL, MS_ERR_ARG);
    ENSURE(text_ok(key, strlen(key)), MS_ERR_ARG);
    ENSURE(cJSON_GetObjectItemCaseSensitive(p, key) == NULL, MS_ERR_ARG);
    return MS_OK;
}

/* Takes ownership of item (a NULL item is an allocation failure). */
static ms_err attach(ms_json_wval parent, const char *key, cJSON *item)
{
    ENSURE(item != NULL, MS_ERR_NOMEM);
    cJSON_bool ok = key != NULL ? cJSON_AddItemToObject(parent.node_, key, item)
                                : cJSON_AddItemToArray(parent.node_, item);
    if (!ok) {
        free_tree(item);
        return MS_ERR_NOMEM;
    }
    return MS_OK;
}

static ms_err add_container(ms_json_wval parent, const char *key, bool array, ms_json_wval *out)
{
    *out = wview(NULL, 0);
    TRY(check_slot(parent, key));
    ENSURE(parent.depth_ < MS_MAX_JSON_DEPTH, MS_ERR_JSON_DEPTH);
    cJSON *c = array ? cJSON_CreateArray() : cJSON_CreateObject();
    TRY(attach(parent, key, c));
    *out = wview(c, parent.depth_ + 1);
    return MS_OK;
}

ms_err ms_json_add_obj(ms_json_wval parent, const char *key, ms_json_wval *out)
{
    return add_container(parent, key, false, out);
}

ms_err ms_json_add_arr(ms_json_wval parent, const char *key, ms_json_wval *out)
{
    return add_container(parent, key, true, out);
}

ms_err ms_json_add_str(ms_json_wval parent, const char *key, const char *s, size_t len)
{
    TRY(check_slot(parent, key));
    ENSURE(s != NULL || len == 0, MS_ERR_ARG);
    ENSURE(len < SIZE_MAX && text_ok(s, len), MS_ERR_ARG);
    char *copy = malloc(len + 1);
    ENSURE(copy != NULL, MS_ERR_NOMEM);
    if (len > 0) {
        memcpy(copy, s, len);
    }
    copy[len] = '\0';
    cJSON *item = cJSON_CreateString(copy);
    ms_wipe(copy, len);
    free(copy);
    return attach(parent, key, item);
}

ms_err ms_json_add_cstr(ms_json_wval parent, const char *key, const char *s)
{
    ENSURE(s != NULL, MS_ERR_ARG);
    return ms_json_add_str(parent, key, s, strlen(s));
}

/* Numbers go in as raw text we printed ourselves: cJSON's own printer can lose digits. */
static ms_err add_number_text(ms_json_wval parent, const char *key, const char *text)
{
    TRY(check_slot(parent, key));
    return attach(parent, key, cJSON_CreateRaw(text));
}

ms_err ms_json_add_i64(ms_json_wval parent, const char *key, int64_t v)
{
    char text[24];
    ENSURE(v >= -(int64_t)MAX_SAFE_INT && v <= (int64_t)MAX_SAFE_INT, MS_ERR_JSON_RANGE);
    int n = snprintf(text, sizeof text, "%" PRId64, v);
    ENSURE(n > 0 && (size_t)n < sizeof text, MS_ERR_INTERNAL);
    return add_number_text(parent, key, text);
}

ms_err ms_json_add_u64(ms_json_wval parent, const char *key, uint64_t v)
{
    ENSURE(v <= (uint64_t)MAX_SAFE_INT, MS_ERR_JSON_RANGE);
    return ms_json_add_i64(parent, key, (int64_t)v);
}

/* Shortest of %.15g..%.17g that reads back exactly, with a '.' whatever the locale. */
static ms_err format_double(double v, char *text, size_t cap)
{
    ENSURE(isfinite(v), MS_ERR_JSON_RANGE);
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(text, cap, "%.*g", prec, v);
        ENSURE(n > 0 && (size_t)n < cap, MS_ERR_INTERNAL);
        if (strtod(text, NULL) == v) {
            break;
        }
    }
    for (char *c = text; *c != '\0'; c++) {
        if (!in_set((uint8_t)*c, "0123456789+-eE")) {
            *c = '.';
        }
    }
    struct lex lx = {.p = (const uint8_t *)text, .len = strlen(text), .i = 0, .depth = 0};
    ENSURE(lex_number(&lx) == MS_OK && lx.i == lx.len, MS_ERR_INTERNAL);
    return MS_OK;
}

ms_err ms_json_add_double(ms_json_wval parent, const char *key, double v)
{
    char text[40];
    TRY(format_double(v, text, sizeof text));
    return add_number_text(parent, key, text);
}

ms_err ms_json_add_bool(ms_json_wval parent, const char *key, bool v)
{
    TRY(check_slot(parent, key));
    return attach(parent, key, cJSON_CreateBool(v));
}

ms_err ms_json_add_null(ms_json_wval parent, const char *key)
{
    TRY(check_slot(parent, key));
    return attach(parent, key, cJSON_CreateNull());
}

static ms_err add_children(ms_json_val v, ms_json_wval w, bool object)
{
    ms_json_iter it = ms_json_iter_init(v);
    ms_json_val child;
    const char *key;
    while (ms_json_iter_next(&it, &child, &key)) {
        TRY(ms_json_add_value(w, object ? key : NULL, child));
    }
    return MS_OK;
}

ms_err ms_json_add_value(ms_json_wval parent, const char *key, ms_json_val v)
{
    const char *s;
    size_t n;
    int64_t i;
    double d;
    bool b;
    ms_json_wval w;
    switch (ms_json_type_of(v)) {
    case MS_JSON_OBJECT:
        TRY(ms_json_add_obj(parent, key, &w));
        return add_children(v, w, true);
    case MS_JSON_ARRAY:
        TRY(ms_json_add_arr(parent, key, &w));
        return add_children(v, w, false);
    case MS_JSON_STRING:
        TRY(ms_json_as_str(v, SIZE_MAX, &s, &n));
        return ms_json_add_str(parent, key, s, n);
    case MS_JSON_NUMBER:
        if (ms_json_as_i64(v, -(int64_t)MAX_SAFE_INT, (int64_t)MAX_SAFE_INT, &i) == MS_OK) {
            return ms_json_add_i64(parent, key, i);
        }
        TRY(ms_json_as_double(v, -DBL_MAX, DBL_MAX, &d));
        return ms_json_add_double(parent, key, d);
    case MS_JSON_BOOL:
        TRY(ms_json_as_bool(v, &b));
        return ms_json_add_bool(parent, key, b);
    case MS_JSON_NULL:
        return ms_json_add_null(parent, key);
    default:
        return MS_ERR_ARG; /* an absent view */
    }
}

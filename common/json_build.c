/* The JSON builder: objects and arrays made field by field, printed compactly (over cJSON). */
#include "common/json.h"

#include <float.h>

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/json_priv.h"
#include "common/limits.h"

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
        ms_json_tree_free_(b->root);
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
    ENSURE(ms_json_text_ok_(key, strlen(key)), MS_ERR_ARG);
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
        ms_json_tree_free_(item);
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
    ENSURE(len < SIZE_MAX && ms_json_text_ok_(s, len), MS_ERR_ARG);
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
        if (strchr("0123456789+-eE", *c) == NULL) {
            *c = '.';
        }
    }
    ENSURE(ms_json_number_ok_(text), MS_ERR_INTERNAL);
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

/* ---- String literals written in place ---------------------------------------------------- */

/* The escape of byte c (builder's spelling), or NULL when c stands for itself. */
static const char *short_escape(uint8_t c)
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return NULL;
    }
}

ms_err ms_json_str_size(const char *s, size_t len, size_t *size)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = 2;
    *size = 0;
    ENSURE(s != NULL || len == 0, MS_ERR_ARG);
    ENSURE(len < SIZE_MAX / 6 - 2, MS_ERR_ARG);
    /* One pass: plain ASCII as it is, UTF-8 checked where it is not ASCII, escapes counted. */
    for (size_t i = 0; i < len;) {
        size_t run = ms_json_plain_run_(p + i, len - i, true);
        n += run;
        i += run;
        if (i == len) {
            break;
        }
        if (p[i] >= 0x80) {
            size_t k = ms_json_utf8_len_(p + i, len - i);
            ENSURE(k > 0, MS_ERR_ARG);
            n += k;
            i += k;
            continue;
        }
        ENSURE(p[i] != 0, MS_ERR_ARG);
        n += short_escape(p[i]) ? 2 : 6;
        i++;
    }
    *size = n;
    return MS_OK;
}

ms_err ms_json_put_str(ms_buf *out, const char *s, size_t len, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s;
    ENSURE(s != NULL || len == 0, MS_ERR_ARG);
    ENSURE(out->p != NULL && size >= 2 && size <= out->cap - out->len, MS_ERR_OUT_SPACE);
    uint8_t *start = out->p + out->len, *d = start, *end = start + size - 1; /* before '"' */
    *d++ = '"';
    for (size_t i = 0; i < len && d <= end;) {
        size_t run = ms_json_plain_run_(p + i, len - i, false);
        if (run > 0) {
            if (run > (size_t)(end - d)) {
                d = end + 1; /* no room: size was not this string's */
                break;
            }
            memcpy(d, p + i, run);
            d += run;
            i += run;
            continue;
        }
        const char *esc = short_escape(p[i]);
        if (esc != NULL && end - d >= 2) {
            memcpy(d, esc, 2);
            d += 2;
        } else if (esc == NULL && end - d >= 6) {
            memcpy(d, "\\u00", 4);
            d[4] = (uint8_t)hex[p[i] >> 4];
            d[5] = (uint8_t)hex[p[i] & 15];
            d += 6;
        } else {
            d = end + 1;
        }
        i++;
    }
    if (d != end) {
        ms_wipe(start, (size_t)(d - start < end - start ? d - start : end - start)); /* the text written so far */
        return MS_ERR_ARG;
    }
    *d = '"';
    out->len += size;
    return MS_OK;
}

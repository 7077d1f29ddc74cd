/* The typed JSON reader: views, as_ checks, getters by key, iteration (over cJSON). */
#include "common/json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "common/check.h"
#include "common/json_priv.h"

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
    case cJSON_Raw: /* a string ms_json_parse_keep kept as it is (json.c, keep_node) */
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

ms_err ms_json_as_text(ms_json_val v, ms_json_text *out)
{
    const cJSON *n = v.node_;
    *out = (ms_json_text){.p = NULL, .len = 0, .escaped = false};
    ENSURE(n != NULL, MS_ERR_JSON_MISSING);
    if ((n->type & 0xFF) == cJSON_Raw && n->valuestring != NULL) {
        *out = (ms_json_text){.p = n->valuestring, .len = (size_t)n->valuedouble,
                              .escaped = true};
        return MS_OK;
    }
    ENSURE(cJSON_IsString(n) && n->valuestring != NULL, MS_ERR_JSON_TYPE);
    *out = (ms_json_text){.p = n->valuestring, .len = strlen(n->valuestring), .escaped = false};
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

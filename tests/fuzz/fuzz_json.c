/* libFuzzer harness for common/json: parse, walk with every getter, rebuild, re-parse. */
#include <float.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allowed[] = {"a", "b", "", "true"};

static void agree(bool same)
{
    if (!same) {
        abort();
    }
}

/* Getters by key must agree with the as_ checks on the value they find. */
static void probe_key(ms_json_val obj, const char *key, ms_json_val v)
{
    const char *s1, *s2;
    size_t n1, n2, i1, i2;
    int64_t a1, a2;
    uint64_t u1, u2;
    double d1, d2;
    bool b1, b2;
    ms_json_val x1, x2;
    agree(ms_json_get_str(obj, key, 8, &s1, &n1) == ms_json_as_str(v, 8, &s2, &n2));
    agree(s1 == s2 && n1 == n2);
    agree(ms_json_get_bool(obj, key, &b1) == ms_json_as_bool(v, &b2) && b1 == b2);
    agree(ms_json_get_i64(obj, key, -5, 1000, &a1) == ms_json_as_i64(v, -5, 1000, &a2));
    agree(a1 == a2);
    agree(ms_json_get_u64(obj, key, 1000, &u1) == ms_json_as_u64(v, 1000, &u2) && u1 == u2);
    agree(ms_json_get_double(obj, key, -1, 1, &d1) == ms_json_as_double(v, -1, 1, &d2));
    agree(d1 == d2);
    agree(ms_json_get_enum(obj, key, allowed, 4, &i1) == ms_json_as_enum(v, allowed, 4, &i2));
    agree(i1 == i2);
    agree(ms_json_get_obj(obj, key, &x1) == ms_json_as_obj(v, &x2));
    agree(ms_json_get_arr(obj, key, 3, &x1, &n1) == ms_json_as_arr(v, 3, &x2, &n2));
    agree(n1 == n2);
    agree(ms_json_get_i64_opt(obj, key, -5, 1000, 7, &a1) == ms_json_as_i64(v, -5, 1000, &a2));
}

/* Each successful read must honour the limits it was given. */
static void probe_value(ms_json_val v)
{
    const char *s;
    size_t n;
    int64_t i;
    uint64_t u;
    double d;
    if (ms_json_as_str(v, 16, &s, &n) == MS_OK && (n > 16 || strlen(s) != n)) {
        abort();
    }
    if (ms_json_as_i64(v, -1000, 1000, &i) == MS_OK && (i < -1000 || i > 1000)) {
        abort();
    }
    if (ms_json_as_u64(v, UINT64_MAX, &u) == MS_OK && u > 9007199254740991ull) {
        abort();
    }
    if (ms_json_as_double(v, -DBL_MAX, DBL_MAX, &d) == MS_OK && d != d) {
        abort();
    }
}

static void walk(ms_json_val v, unsigned depth)
{
    ms_json_iter it = ms_json_iter_init(v);
    ms_json_val child;
    const char *key;
    ms_json_type t = ms_json_type_of(v);
    agree(depth <= MS_MAX_JSON_DEPTH || (t != MS_JSON_ARRAY && t != MS_JSON_OBJECT));
    probe_value(v);
    while (ms_json_iter_next(&it, &child, &key)) {
        if (key != NULL) {
            probe_key(v, key, child);
        }
        walk(child, depth + 1);
    }
}

static bool rebuild(ms_json_val v, ms_json_wval parent, const char *key);

static bool rebuild_children(ms_json_val v, ms_json_wval w, bool object)
{
    ms_json_iter it = ms_json_iter_init(v);
    ms_json_val child;
    const char *key;
    while (ms_json_iter_next(&it, &child, &key)) {
        if (!rebuild(child, w, object ? key : NULL)) {
            return false;
        }
    }
    return true;
}

/* Copy v under parent; false when the builder cannot hold it (e.g. a number that is inf). */
static bool rebuild(ms_json_val v, ms_json_wval parent, const char *key)
{
    const char *s;
    size_t n;
    double d;
    bool b;
    ms_json_wval w;
    switch (ms_json_type_of(v)) {
    case MS_JSON_OBJECT:
        return ms_json_add_obj(parent, key, &w) == MS_OK && rebuild_children(v, w, true);
    case MS_JSON_ARRAY:
        return ms_json_add_arr(parent, key, &w) == MS_OK && rebuild_children(v, w, false);
    case MS_JSON_STRING:
        return ms_json_as_str(v, SIZE_MAX, &s, &n) == MS_OK &&
               ms_json_add_str(parent, key, s, n) == MS_OK;
    case MS_JSON_NUMBER:
        return ms_json_as_double(v, -DBL_MAX, DBL_MAX, &d) == MS_OK &&
               ms_json_add_double(parent, key, d) == MS_OK;
    case MS_JSON_BOOL:
        return ms_json_as_bool(v, &b) == MS_OK && ms_json_add_bool(parent, key, b) == MS_OK;
    case MS_JSON_NULL:
        return ms_json_add_null(parent, key) == MS_OK;
    default:
        abort();
    }
}

/* Print a document's root container through the builder; false if it cannot be rebuilt. */
static bool reprint(const ms_json_doc *doc, ms_buf *out)
{
    ms_json_val root = ms_json_root(doc);
    ms_json_type t = ms_json_type_of(root);
    ms_json_builder *b = NULL;
    ms_json_wval w;
    if (t != MS_JSON_OBJECT && t != MS_JSON_ARRAY) {
        return false;
    }
    if (ms_json_builder_new(t, &b, &w) != MS_OK) {
        abort();
    }
    bool ok = rebuild_children(root, w, t == MS_JSON_OBJECT) &&
              ms_json_builder_print(b, out) == MS_OK;
    ms_json_builder_free(b);
    return ok;
}

/* What the builder prints, the reader accepts, and printing again gives the same text. */
static void round_trip(const ms_json_doc *doc)
{
    ms_buf first, second;
    ms_json_doc *again = NULL;
    ms_buf_init(&first, MS_MAX_JSON_TEXT);
    ms_buf_init(&second, MS_MAX_JSON_TEXT);
    if (reprint(doc, &first)) {
        if (ms_json_parse((const char *)first.p, first.len, &again) != MS_OK) {
            abort();
        }
        if (!reprint(again, &second) || second.len != first.len ||
            memcmp(first.p, second.p, first.len) != 0) {
            abort();
        }
        ms_json_free(again);
    }
    ms_buf_free(&first);
    ms_buf_free(&second);
}

/*
 * The input as a string: ms_json_str_size refuses exactly what the builder refuses, and what
 * ms_json_put_str writes is the builder's text, which parses back to the input.
 */
static void put_str(const uint8_t *data, size_t size)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    ms_buf want, out;
    size_t n;
    if (size > 4096 || ms_json_builder_new(MS_JSON_ARRAY, &b, &root) != MS_OK) {
        ms_json_builder_free(b);
        return;
    }
    ms_buf_init(&want, 8 * size + 16);
    ms_buf_init(&out, 8 * size + 16);
    ms_err e = ms_json_str_size((const char *)data, size, &n);
    agree((e == MS_OK) == (ms_json_add_str(root, NULL, (const char *)data, size) == MS_OK));
    if (e == MS_OK) {
        agree(ms_json_builder_print(b, &want) == MS_OK && want.len == n + 2);
        agree(ms_buf_reserve(&out, n) == MS_OK);
        agree(ms_json_put_str(&out, (const char *)data, size, n) == MS_OK && out.len == n);
        agree(memcmp(out.p, want.p + 1, n) == 0);
        ms_json_doc *doc = NULL;
        const char *s;
        size_t len;
        agree(ms_json_parse((const char *)want.p, want.len, &doc) == MS_OK);
        ms_json_val v;
        agree(ms_json_arr_at(ms_json_root(doc), 0, &v) == MS_OK);
        agree(ms_json_as_str(v, SIZE_MAX, &s, &len) == MS_OK && len == size);
        agree(memcmp(s, data, size) == 0);
        ms_json_free(doc);
    }
    ms_buf_free(&want);
    ms_buf_free(&out);
    ms_json_builder_free(b);
}

/*
 * Every string value's span (ms_json_str_span) decodes to its text, and the text with that
 * span replaced by another string body still parses (what the engine stream's short path
 * relies on, common/llm/call.c).
 */
static void spans(const ms_json_doc *doc, ms_json_val v, const char *text, size_t len)
{
    ms_json_iter it = ms_json_iter_init(v);
    ms_json_val child;
    if (ms_json_type_of(v) == MS_JSON_STRING) {
        const char *s;
        size_t n, at, sl;
        ms_buf dec, spliced;
        ms_json_doc *again = NULL;
        ms_buf_init(&dec, MS_MAX_JSON_TEXT);
        ms_buf_init(&spliced, MS_MAX_JSON_TEXT);
        agree(ms_json_str_span(doc, v, text, len, &at, &sl) == MS_OK && at > 0);
        agree(text[at - 1] == '"' && at + sl < len && text[at + sl] == '"');
        agree(ms_json_unescape(text + at, sl, &dec) == MS_OK);
        agree(ms_json_as_str(v, SIZE_MAX, &s, &n) == MS_OK && n == dec.len);
        agree(n == 0 || memcmp(s, dec.p, n) == 0);
        agree(ms_buf_append(&spliced, text, at) == MS_OK &&
              ms_buf_append(&spliced, "\\u00e9", 6) == MS_OK &&
              ms_buf_append(&spliced, text + at + sl, len - at - sl) == MS_OK);
        agree(ms_json_parse((const char *)spliced.p, spliced.len, &again) == MS_OK ||
              spliced.len > MS_MAX_JSON_TEXT);
        ms_json_free(again);
        ms_buf_free(&dec);
        ms_buf_free(&spliced);
    }
    while (ms_json_iter_next(&it, &child, NULL)) {
        spans(doc, child, text, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_json_doc *doc = NULL;
    put_str(data, size);
    if (ms_json_parse((const char *)data, size, &doc) != MS_OK) {
        if (doc != NULL) {
            abort();
        }
        return 0;
    }
    walk(ms_json_root(doc), 1);
    spans(doc, ms_json_root(doc), (const char *)data, size);
    round_trip(doc);
    ms_json_free(doc);
    return 0;
}

/* llm-sim reply scripts: parsing with field-level errors, and first-match rule lookup. */
#include "tools/llm-sim/script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/json.h"
#include "tools/llm-sim/llmsim.h"

#define FIELD_LEN 64u

typedef struct rule {
    const char *role;
    const char *contains; /* NULL: no condition */
    const char *equals;   /* NULL: no condition */
    size_t equals_len;
    const char *reply; /* NULL when only a status is given */
    size_t reply_len;
    unsigned status;
    uint32_t delay_ms;
    bool cut;
    uint32_t cut_after;
    bool length; /* "finish_reason": "length" */
    uint32_t quirks;
    uint32_t retry_after; /* with status: the Retry-After header's seconds (0: none) */
} rule;

struct llmsim_script {
    ms_json_doc *doc; /* every string below points into it */
    rule *rules;
    size_t n_rules;
    const char *def;
    size_t def_len;
    const char **models;
    size_t n_models;
};

static const char *const roles[] = {"system", "user", "assistant", "tool", "developer"};
static const char *const top_keys[] = {"rules", "default", "models"};
static const char *const rule_keys[] = {"role",   "contains", "equals",           "reply",
                                        "status", "delay_ms", "stream_fail_after",
                                        "finish_reason", "quirks", "retry_after"};
/* In the order of the LLMSIM_Q_* bits (formats.h). */
static const char *const quirk_names[] = {"crlf",      "comments",     "no_space",
                                          "timings",   "reasoning",    "null_content",
                                          "error_object", "error_line"};
static const char *const finish_reasons[] = {"stop", "length"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static ms_err fail(char *why, size_t cap, ms_err e, const char *field, const char *extra)
{
    if (cap > 0) {
        snprintf(why, cap, "%s: %s%s", field, ms_err_str(e), extra);
    }
    return e;
}

/* Every member of obj must be one of keys[0..n); *bad names the first that is not. */
static ms_err known_keys(ms_json_val obj, const char *const *keys, size_t n, const char **bad)
{
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *key;
    *bad = NULL;
    while (ms_json_iter_next(&it, &v, &key)) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            found = strcmp(key, keys[i]) == 0;
        }
        if (!found) {
            *bad = key;
            return MS_ERR_JSON_ENUM;
        }
    }
    return MS_OK;
}

/* "quirks": ["crlf", ...] into LLMSIM_Q_* bits (an unknown name is MS_ERR_JSON_ENUM). */
static ms_err parse_quirks(ms_json_val obj, uint32_t *out)
{
    ms_json_val arr, v;
    size_t n, idx;
    *out = 0;
    ms_err e = ms_json_get_arr(obj, "quirks", COUNT(quirk_names), &arr, &n);
    if (e == MS_ERR_JSON_MISSING) {
        return MS_OK;
    }
    TRY(e);
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        TRY(ms_json_arr_at(arr, i, &v));
        TRY(ms_json_as_str(v, 32, &s, &len));
        for (idx = 0; idx < COUNT(quirk_names) && strcmp(s, quirk_names[idx]) != 0; idx++) {
        }
        ENSURE(idx < COUNT(quirk_names), MS_ERR_JSON_ENUM);
        *out |= 1u << idx;
    }
    return MS_OK;
}

static ms_err parse_rule_fields(ms_json_val obj, rule *r, const char **field)
{
    size_t role, n;
    int64_t v;
    *field = "role";
    TRY(ms_json_get_enum_opt(obj, "role", roles, COUNT(roles), 1, &role));
    r->role = roles[role];
    *field = "contains";
    TRY(ms_json_get_str_opt(obj, "contains", LLMSIM_MAX_REPLY, NULL, &r->contains, &n));
    *field = "equals";
    TRY(ms_json_get_str_opt(obj, "equals", LLMSIM_MAX_REPLY, NULL, &r->equals, &r->equals_len));
    *field = "reply";
    TRY(ms_json_get_str_opt(obj, "reply", LLMSIM_MAX_REPLY, NULL, &r->reply, &r->reply_len));
    *field = "status";
    TRY(ms_json_get_i64_opt(obj, "status", 400, 599, 0, &v));
    r->status = (unsigned)v;
    *field = "delay_ms";
    TRY(ms_json_get_i64_opt(obj, "delay_ms", 0, LLMSIM_MAX_DELAY_MS, 0, &v));
    r->delay_ms = (uint32_t)v;
    *field = "stream_fail_after";
    TRY(ms_json_get_i64_opt(obj, "stream_fail_after", 0, LLMSIM_MAX_FAIL_AFTER, -1, &v));
    r->cut = v >= 0;
    r->cut_after = r->cut ? (uint32_t)v : 0;
    *field = "finish_reason";
    TRY(ms_json_get_enum_opt(obj, "finish_reason", finish_reasons, COUNT(finish_reasons), 0, &n));
    r->length = n == 1;
    *field = "retry_after";
    TRY(ms_json_get_i64_opt(obj, "retry_after", 0, 86400, 0, &v));
    r->retry_after = (uint32_t)v;
    *field = "quirks";
    TRY(parse_quirks(obj, &r->quirks));
    *field = "reply";
    ENSURE(r->reply != NULL || r->status != 0, MS_ERR_JSON_MISSING);
    return MS_OK;
}

static ms_err parse_rule(ms_json_val elem, size_t i, rule *r, char *why, size_t why_cap)
{
    char name[FIELD_LEN];
    char extra[FIELD_LEN + 32] = "";
    const char *field = "", *bad;
    ms_json_val obj;
    ms_err e = ms_json_as_obj(elem, &obj);
    if (e == MS_OK) {
        e = known_keys(obj, rule_keys, COUNT(rule_keys), &bad);
        if (e != MS_OK) {
            snprintf(extra, sizeof extra, " (unknown key \"%.*s\")", (int)FIELD_LEN, bad);
        }
    }
    if (e == MS_OK) {
        e = parse_rule_fields(obj, r, &field);
        if (e == MS_ERR_JSON_MISSING && strcmp(field, "reply") == 0) {
            snprintf(extra, sizeof extra, " (a rule needs \"reply\" or \"status\")");
        }
    }
    if (e != MS_OK) {
        snprintf(name, sizeof name, "rules[%zu]%s%s", i, field[0] ? "." : "", field);
        return fail(why, why_cap, e, name, extra);
    }
    return MS_OK;
}

static ms_err parse_rules(ms_json_val root, llmsim_script *s, char *why, size_t why_cap)
{
    ms_json_val arr, elem;
    size_t n;
    char extra[FIELD_LEN] = "";
    ms_err e = ms_json_get_arr_opt(root, "rules", LLMSIM_MAX_RULES, &arr, &n);
    if (e != MS_OK) {
        if (e == MS_ERR_JSON_TOO_LONG) {
            snprintf(extra, sizeof extra, " (at most %u rules)", LLMSIM_MAX_RULES);
        }
        return fail(why, why_cap, e, "rules", extra);
    }
    s->rules = calloc(n > 0 ? n : 1, sizeof *s->rules);
    ENSURE(s->rules != NULL, MS_ERR_NOMEM);
    ms_json_iter it = ms_json_iter_init(arr);
    for (size_t i = 0; i < n && ms_json_iter_next(&it, &elem, NULL); i++) {
        TRY(parse_rule(elem, i, &s->rules[i], why, why_cap));
        s->n_rules = i + 1;
    }
    return MS_OK;
}

static ms_err parse_models(ms_json_val root, llmsim_script *s, char *why, size_t why_cap)
{
    ms_json_val arr, elem;
    size_t n, len;
    char name[FIELD_LEN];
    ms_err e = ms_json_get_arr_opt(root, "models", LLMSIM_MAX_MODELS, &arr, &n);
    if (e != MS_OK) {
        return fail(why, why_cap, e, "models", "");
    }
    s->models = calloc(n > 0 ? n : 1, sizeof *s->models);
    ENSURE(s->models != NULL, MS_ERR_NOMEM);
    ms_json_iter it = ms_json_iter_init(arr);
    for (size_t i = 0; i < n && ms_json_iter_next(&it, &elem, NULL); i++) {
        e = ms_json_as_str(elem, LLMSIM_MAX_MODEL, &s->models[i], &len);
        if (e == MS_OK && len == 0) {
            e = MS_ERR_JSON_MISSING;
        }
        if (e != MS_OK) {
            snprintf(name, sizeof name, "models[%zu]", i);
            return fail(why, why_cap, e, name, "");
        }
        s->n_models = i + 1;
    }
    return MS_OK;
}

static ms_err parse_root(ms_json_val root, llmsim_script *s, char *why, size_t why_cap)
{
    char extra[FIELD_LEN + 32];
    const char *bad;
    if (ms_json_type_of(root) != MS_JSON_OBJECT) {
        return fail(why, why_cap, MS_ERR_JSON_TYPE, "script", " (must be a JSON object)");
    }
    if (known_keys(root, top_keys, COUNT(top_keys), &bad) != MS_OK) {
        snprintf(extra, sizeof extra, " (unknown key \"%.*s\")", (int)FIELD_LEN, bad);
        return fail(why, why_cap, MS_ERR_JSON_ENUM, "script", extra);
    }
    ms_err e = ms_json_get_str_opt(root, "default", LLMSIM_MAX_REPLY, LLMSIM_DEFAULT_REPLY,
                                   &s->def, &s->def_len);
    if (e != MS_OK) {
        return fail(why, why_cap, e, "default", "");
    }
    TRY(parse_rules(root, s, why, why_cap));
    return parse_models(root, s, why, why_cap);
}

ms_err llmsim_script_parse(const char *p, size_t len, llmsim_script **out, char *why,
                           size_t why_cap)
{
    *out = NULL;
    if (why_cap > 0) {
        why[0] = '\0';
    }
    if (len > LLMSIM_MAX_SCRIPT) {
        return fail(why, why_cap, MS_ERR_CAP_EXCEEDED, "script", "");
    }
    llmsim_script *s = calloc(1, sizeof *s);
    ENSURE(s != NULL, MS_ERR_NOMEM);
    ms_err e = ms_json_parse(p, len, &s->doc);
    if (e != MS_OK) {
        e = fail(why, why_cap, e, "script", "");
    } else {
        e = parse_root(ms_json_root(s->doc), s, why, why_cap);
    }
    if (e != MS_OK) {
        if (why_cap > 0 && why[0] == '\0') {
            fail(why, why_cap, e, "script", "");
        }
        llmsim_script_free(s);
        return e;
    }
    *out = s;
    return MS_OK;
}

void llmsim_script_free(llmsim_script *s)
{
    if (s == NULL) {
        return;
    }
    free(s->rules);
    free(s->models);
    ms_json_free(s->doc);
    free(s);
}

/* The last message with this role, or NULL. */
static const llmsim_msg *last_with_role(const llmsim_msg *msgs, size_t n, const char *role)
{
    for (size_t i = n; i > 0; i--) {
        if (strcmp(msgs[i - 1].role, role) == 0) {
            return &msgs[i - 1];
        }
    }
    return NULL;
}

static bool rule_matches(const rule *r, const llmsim_msg *msgs, size_t n)
{
    const llmsim_msg *m = last_with_role(msgs, n, r->role);
    if (m == NULL) {
        return false;
    }
    /* Contents never hold a NUL (the JSON reader refuses \u0000), so C string search is exact. */
    if (r->contains != NULL && strstr(m->content, r->contains) == NULL) {
        return false;
    }
    if (r->equals != NULL &&
        (m->content_len != r->equals_len || memcmp(m->content, r->equals, r->equals_len) != 0)) {
        return false;
    }
    return true;
}

void llmsim_script_match(const llmsim_script *s, const llmsim_msg *msgs, size_t n,
                         llmsim_plan *out)
{
    memset(out, 0, sizeof *out);
    out->rule = -1;
    out->text = s != NULL ? s->def : LLMSIM_DEFAULT_REPLY;
    out->len = s != NULL ? s->def_len : strlen(LLMSIM_DEFAULT_REPLY);
    for (size_t i = 0; s != NULL && i < s->n_rules; i++) {
        const rule *r = &s->rules[i];
        if (!rule_matches(r, msgs, n)) {
            continue;
        }
        out->rule = (int)i;
        out->status = r->status;
        out->delay_ms = r->delay_ms;
        out->cut = r->cut;
        out->cut_after = r->cut_after;
        out->length = r->length;
        out->quirks = r->quirks;
        out->retry_after = r->retry_after;
        if (r->reply != NULL) {
            out->text = r->reply;
            out->len = r->reply_len;
        } else {
            out->text = "llm-sim: scripted engine error";
            out->len = strlen(out->text);
        }
        return;
    }
}

const char *const *llmsim_script_models(const llmsim_script *s, size_t *n)
{
    *n = s != NULL ? s->n_models : 0;
    return s != NULL ? s->models : NULL;
}

size_t llmsim_script_rule_count(const llmsim_script *s)
{
    return s != NULL ? s->n_rules : 0;
}

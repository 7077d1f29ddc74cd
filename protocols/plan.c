/* Supervisor decisions, Minions plans and job outputs: untrusted JSON to typed, capped values. */
#include "protocols/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/json.h"

#define MAX_EXACT_INT 9007199254740991ull /* 2^53 - 1: the largest integer JSON keeps exactly */

const char *const ms_decision_names[MS_DECISION_KIND_COUNT] = {
    "request_additional_info", "provide_final_answer", "cannot_answer", "run_plan"};

/* The field each decision carries, and its cap. */
static const char *const DECISION_FIELD[MS_DECISION_KIND_COUNT] = {"message", "answer", "reason",
                                                                   "plan"};
static const size_t DECISION_CAP[MS_DECISION_KIND_COUNT] = {
    MS_MAX_PROTO_MESSAGE, MS_MAX_PROTO_ANSWER, MS_MAX_PROTO_REASON, 0};

static ms_err fail(ms_err e, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ms_err fail(ms_err e, char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return e;
}

/* A getter's error, said with the field's path. */
static ms_err field_err(ms_err e, const char *path, size_t max, char *why, size_t cap)
{
    switch (e) {
    case MS_ERR_JSON_MISSING: return fail(e, why, cap, "%s is missing", path);
    case MS_ERR_JSON_TYPE: return fail(e, why, cap, "%s has the wrong JSON type", path);
    case MS_ERR_JSON_TOO_LONG:
        return fail(e, why, cap, "%s is longer than %zu (bytes or entries)", path, max);
    case MS_ERR_JSON_RANGE:
        return fail(e, why, cap, "%s is not a whole number from 0 to 2^53-1", path);
    case MS_ERR_JSON_ENUM: return fail(e, why, cap, "%s is not one of the allowed values", path);
    default: return fail(e, why, cap, "%s: %s", path, ms_err_str(e));
    }
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return false;
        }
    }
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void free_str(char **s, size_t n)
{
    if (*s) {
        ms_wipe(*s, n);
        free(*s);
        *s = NULL;
    }
}

/* Model text quoted in a reason: printable ASCII ('?' for other bytes), "..." when cut. */
static void printable(const char *s, size_t n, char *out, size_t cap)
{
    size_t room = cap > 4 ? cap - 4 : 0, o = 0; /* room for "..." and the NUL */
    for (; o < n && o < room; o++) {
        unsigned char c = (unsigned char)s[o];
        out[o] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
    }
    if (o < n && cap >= 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    if (cap > 0) {
        out[o < cap ? o : cap - 1] = '\0';
    }
}

/* Every key of obj must be in keys[0..n): the first other one is named in why. */
static ms_err only_keys(ms_json_val obj, const char *path, const char *const *keys, size_t n,
                        char *why, size_t cap)
{
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *key;
    while (ms_json_iter_next(&it, &v, &key)) {
        bool known = false;
        for (size_t i = 0; i < n && !known; i++) {
            known = strcmp(key, keys[i]) == 0;
        }
        if (!known) {
            char k[40];
            printable(key, strlen(key), k, sizeof k);
            return fail(MS_ERR_PLAN_INVALID, why, cap, "%s has an unknown field \"%s\"", path, k);
        }
    }
    return MS_OK;
}

ms_err ms_plan_caps_resolve(const ms_plan_caps *in, ms_plan_caps *out)
{
    ms_plan_caps c = in ? *in : (ms_plan_caps){0};
    memset(out, 0, sizeof *out);
    c.max_tasks = c.max_tasks ? c.max_tasks : MS_PLAN_MAX_TASKS;
    c.max_jobs = c.max_jobs ? c.max_jobs : MS_PLAN_MAX_JOBS;
    c.max_chunk_size = c.max_chunk_size ? c.max_chunk_size : MS_MAX_CHUNK_SIZE;
    c.max_top_k = c.max_top_k ? c.max_top_k : MS_PLAN_MAX_TOP_K;
    ENSURE(c.max_tasks <= MS_PLAN_HARD_TASKS && c.max_jobs <= MS_PLAN_HARD_JOBS &&
               c.max_chunk_size >= MS_MIN_CHUNK_SIZE && c.max_chunk_size <= MS_MAX_CHUNK_SIZE &&
               c.max_top_k <= MS_MAX_CHUNKS,
           MS_ERR_ARG);
    *out = c;
    return MS_OK;
}

/* --- plans ------------------------------------------------------------------------------- */

void ms_plan_free(ms_plan *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; p->tasks && i < p->n_tasks; i++) {
        free_str(&p->tasks[i].instruction, p->tasks[i].instruction_len);
    }
    free(p->tasks);
    free_str(&p->query, p->query_len);
    memset(p, 0, sizeof *p);
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

static ms_err read_task(ms_json_val v, size_t i, ms_plan *p, char *why, size_t cap)
{
    static const char *const KEYS[] = {"id", "instruction"};
    char path[64];
    const char *s;
    size_t n;
    ms_err e;
    ms_plan_task *t = &p->tasks[i];
    snprintf(path, sizeof path, "plan.tasks[%zu]", i);
    if (ms_json_type_of(v) != MS_JSON_OBJECT) {
        return fail(MS_ERR_JSON_TYPE, why, cap, "%s is not an object", path);
    }
    TRY(only_keys(v, path, KEYS, 2, why, cap));
    snprintf(path, sizeof path, "plan.tasks[%zu].id", i);
    if ((e = ms_json_get_str(v, "id", MS_PLAN_MAX_ID, &s, &n)) != MS_OK) {
        return field_err(e, path, MS_PLAN_MAX_ID, why, cap);
    }
    for (size_t k = 0; k < n; k++) {
        ENSURE(id_char(s[k]), fail(MS_ERR_PLAN_INVALID, why, cap,
                                   "%s may hold only letters, digits, '_', '-' and '.'", path));
    }
    ENSURE(n > 0, fail(MS_ERR_PLAN_INVALID, why, cap, "%s is empty", path));
    for (size_t k = 0; k < i; k++) {
        ENSURE(strcmp(p->tasks[k].id, s) != 0,
               fail(MS_ERR_PLAN_INVALID, why, cap, "%s \"%s\" repeats the id of plan.tasks[%zu]",
                    path, s, k));
    }
    memcpy(t->id, s, n + 1);
    snprintf(path, sizeof path, "plan.tasks[%zu].instruction", i);
    if ((e = ms_json_get_str(v, "instruction", MS_PLAN_MAX_INSTRUCTION, &s, &n)) != MS_OK) {
        return field_err(e, path, MS_PLAN_MAX_INSTRUCTION, why, cap);
    }
    ENSURE(!blank(s, n), fail(MS_ERR_PLAN_INVALID, why, cap, "%s is empty", path));
    ENSURE((t->instruction = dup_n(s, n)) != NULL, MS_ERR_NOMEM);
    t->instruction_len = n;
    return MS_OK;
}

static ms_err read_tasks(ms_json_val plan, const ms_plan_caps *caps, ms_plan *p, char *why,
                         size_t cap)
{
    ms_json_val arr, v;
    size_t n;
    ms_err e = ms_json_get_arr(plan, "tasks", MS_MAX_JSON_ARRAY, &arr, &n);
    if (e != MS_OK) {
        return field_err(e, "plan.tasks", MS_MAX_JSON_ARRAY, why, cap);
    }
    ENSURE(n > 0, fail(MS_ERR_PLAN_INVALID, why, cap, "plan.tasks is empty"));
    ENSURE(n <= caps->max_tasks,
           fail(MS_ERR_PLAN_REFUSED, why, cap, "plan.tasks has %zu tasks; the cap is %zu", n,
                caps->max_tasks));
    ENSURE((p->tasks = calloc(n, sizeof *p->tasks)) != NULL, MS_ERR_NOMEM);
    ms_json_iter it = ms_json_iter_init(arr);
    for (size_t i = 0; i < n && ms_json_iter_next(&it, &v, NULL); i++) {
        p->n_tasks = i + 1; /* so ms_plan_free sees the task being read */
        TRY(read_task(v, i, p, why, cap));
    }
    return MS_OK;
}

static ms_err read_chunking(ms_json_val plan, const ms_plan_caps *caps, ms_plan *p, char *why,
                            size_t cap)
{
    static const char *const KEYS[] = {"method", "size", "overlap"};
    ms_json_val ch;
    size_t m;
    uint64_t size, overlap;
    ms_err e = ms_json_get_obj(plan, "chunking", &ch);
    if (e != MS_OK) {
        return field_err(e, "plan.chunking", 0, why, cap);
    }
    TRY(only_keys(ch, "plan.chunking", KEYS, 3, why, cap));
    if ((e = ms_json_get_enum(ch, "method", ms_chunk_method_names, MS_CHUNK_METHOD_COUNT, &m)) !=
        MS_OK) {
        return e == MS_ERR_JSON_ENUM
                   ? fail(e, why, cap,
                          "plan.chunking.method must be \"fixed\", \"paragraphs\", \"pages\" "
                          "or \"code\"")
                   : field_err(e, "plan.chunking.method", 0, why, cap);
    }
    if ((e = ms_json_get_u64(ch, "size", MAX_EXACT_INT, &size)) != MS_OK) {
        return field_err(e, "plan.chunking.size", 0, why, cap);
    }
    if ((e = ms_json_get_u64_opt(ch, "overlap", MAX_EXACT_INT, 0, &overlap)) != MS_OK) {
        return field_err(e, "plan.chunking.overlap", 0, why, cap);
    }
    ENSURE(size <= caps->max_chunk_size,
           fail(MS_ERR_PLAN_REFUSED, why, cap,
                "plan.chunking.size %llu is over the cap of %zu bytes", (unsigned long long)size,
                caps->max_chunk_size));
    ENSURE(size >= MS_MIN_CHUNK_SIZE,
           fail(MS_ERR_PLAN_INVALID, why, cap, "plan.chunking.size %llu is under %u bytes",
                (unsigned long long)size, MS_MIN_CHUNK_SIZE));
    ENSURE(overlap == 0 || m == MS_CHUNK_FIXED,
           fail(MS_ERR_PLAN_INVALID, why, cap,
                "plan.chunking.overlap is only for the \"fixed\" method"));
    ENSURE(overlap <= size / 2,
           fail(MS_ERR_PLAN_INVALID, why, cap,
                "plan.chunking.overlap %llu is over half the size (%llu)",
                (unsigned long long)overlap, (unsigned long long)(size / 2)));
    p->chunking = (ms_chunk_params){.method = (ms_chunk_method)m, .size = (size_t)size,
                                    .overlap = (size_t)overlap};
    ENSURE(ms_chunk_params_check(&p->chunking) == MS_OK,
           fail(MS_ERR_PLAN_INVALID, why, cap, "plan.chunking is not valid"));
    return MS_OK;
}

static ms_err read_retrieval(ms_json_val plan, const ms_plan_caps *caps, ms_plan *p, char *why,
                             size_t cap)
{
    static const char *const KEYS[] = {"query", "top_k"};
    ms_json_val r;
    const char *q;
    size_t n;
    uint64_t k;
    ms_err e = ms_json_get(plan, "retrieval", &r);
    if (e == MS_ERR_JSON_MISSING || (e == MS_OK && ms_json_type_of(r) == MS_JSON_NULL)) {
        return MS_OK; /* no retrieval: every chunk is used */
    }
    if (e == MS_OK && ms_json_type_of(r) != MS_JSON_OBJECT) {
        e = MS_ERR_JSON_TYPE;
    }
    if (e != MS_OK) {
        return field_err(e, "plan.retrieval", 0, why, cap);
    }
    TRY(only_keys(r, "plan.retrieval", KEYS, 2, why, cap));
    if ((e = ms_json_get_str(r, "query", MS_MAX_BM25_QUERY, &q, &n)) != MS_OK) {
        return field_err(e, "plan.retrieval.query", MS_MAX_BM25_QUERY, why, cap);
    }
    ENSURE(!blank(q, n), fail(MS_ERR_PLAN_INVALID, why, cap, "plan.retrieval.query is empty"));
    if ((e = ms_json_get_u64(r, "top_k", MAX_EXACT_INT, &k)) != MS_OK) {
        return field_err(e, "plan.retrieval.top_k", 0, why, cap);
    }
    ENSURE(k > 0, fail(MS_ERR_PLAN_INVALID, why, cap, "plan.retrieval.top_k is 0"));
    ENSURE(k <= caps->max_top_k,
           fail(MS_ERR_PLAN_REFUSED, why, cap, "plan.retrieval.top_k %llu is over the cap of %zu",
                (unsigned long long)k, caps->max_top_k));
    ENSURE((p->query = dup_n(q, n)) != NULL, MS_ERR_NOMEM);
    p->query_len = n;
    p->top_k = (size_t)k;
    p->retrieval = true;
    return MS_OK;
}

ms_err ms_plan_read(ms_json_val plan, const ms_plan_caps *caps, ms_plan *out, char *why,
                    size_t why_cap)
{
    static const char *const KEYS[] = {"tasks", "chunking", "retrieval"};
    ms_plan_caps c;
    ms_err err;
    memset(out, 0, sizeof *out);
    if (why && why_cap) {
        why[0] = '\0';
    }
    TRY(ms_plan_caps_resolve(caps, &c));
    if (ms_json_type_of(plan) != MS_JSON_OBJECT) {
        return fail(MS_ERR_JSON_TYPE, why, why_cap, "plan is not an object");
    }
    TRY_OUT(only_keys(plan, "plan", KEYS, 3, why, why_cap));
    TRY_OUT(read_tasks(plan, &c, out, why, why_cap));
    TRY_OUT(read_chunking(plan, &c, out, why, why_cap));
    TRY_OUT(read_retrieval(plan, &c, out, why, why_cap));
out:
    if (err != MS_OK) {
        ms_plan_free(out);
    }
    return err;
}

ms_err ms_plan_parse(const char *json, size_t len, const ms_plan_caps *caps, ms_plan *out,
                     char *why, size_t why_cap)
{
    ms_json_doc *doc = NULL;
    memset(out, 0, sizeof *out);
    ms_err e = ms_json_parse(json, len, &doc);
    if (e != MS_OK) {
        return fail(e, why, why_cap, "plan: %s", ms_err_str(e));
    }
    e = ms_plan_read(ms_json_root(doc), caps, out, why, why_cap);
    ms_json_free(doc);
    return e;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

ms_err ms_plan_precheck(const ms_plan *p, size_t doc_len, const ms_plan_caps *caps, char *why,
                        size_t why_cap)
{
    ms_plan_caps c;
    TRY(ms_plan_caps_resolve(caps, &c));
    ENSURE(p->chunking.size > 0, MS_ERR_ARG);
    uint64_t chunks = (uint64_t)doc_len / p->chunking.size + (doc_len % p->chunking.size != 0);
    uint64_t jobs = mul_sat(chunks, p->n_tasks);
    ENSURE(chunks <= MS_MAX_CHUNKS,
           fail(MS_ERR_PLAN_REFUSED, why, why_cap,
                "chunks of at most %zu bytes cut the %zu bytes of documents into at least %llu "
                "chunks (%llu jobs); the cap is %u chunks: use a larger size",
                p->chunking.size, doc_len, (unsigned long long)chunks, (unsigned long long)jobs,
                MS_MAX_CHUNKS));
    ENSURE(p->retrieval || jobs <= c.max_jobs,
           fail(MS_ERR_PLAN_REFUSED, why, why_cap,
                "the plan needs at least %llu jobs (%zu tasks x %llu chunks); the cap is %zu "
                "jobs per round: use larger chunks, fewer tasks or retrieval",
                (unsigned long long)jobs, p->n_tasks, (unsigned long long)chunks, c.max_jobs));
    return MS_OK;
}

ms_err ms_plan_check_jobs(const ms_plan *p, size_t used_chunks, uint64_t prompt_bytes,
                          const ms_plan_caps *caps, uint64_t *jobs, char *why, size_t why_cap)
{
    ms_plan_caps c;
    *jobs = 0;
    TRY(ms_plan_caps_resolve(caps, &c));
    *jobs = mul_sat(p->n_tasks, used_chunks);
    ENSURE(*jobs <= c.max_jobs,
           fail(MS_ERR_PLAN_REFUSED, why, why_cap,
                "the plan needs %llu jobs (%zu tasks x %zu chunks); the cap is %zu jobs per "
                "round: use larger chunks, fewer tasks or retrieval with a smaller top_k",
                (unsigned long long)*jobs, p->n_tasks, used_chunks, c.max_jobs));
    ENSURE(prompt_bytes <= MS_PLAN_MAX_ROUND_BYTES,
           fail(MS_ERR_PLAN_REFUSED, why, why_cap,
                "the plan's jobs would send %llu bytes to the local model in one round; the cap "
                "is %u: use fewer tasks or retrieval",
                (unsigned long long)prompt_bytes, MS_PLAN_MAX_ROUND_BYTES));
    return MS_OK;
}

/* --- decisions --------------------------------------------------------------------------- */

void ms_decision_free(ms_decision *d)
{
    if (!d) {
        return;
    }
    free_str(&d->text, d->text_len);
    free_str(&d->json, d->json_len);
    ms_plan_free(&d->plan);
    memset(d, 0, sizeof *d);
}

/* The JSON object in model output, or MS_ERR_MODEL_OUTPUT with what came back. */
static ms_err extract(const char *text, size_t len, size_t max, ms_buf *json, char *why,
                      size_t cap)
{
    ms_extract_info info;
    char desc[MS_EXTRACT_DESCRIBE_MAX];
    ms_err e = ms_extract_json(text, len, json, &info);
    if (e == MS_OK && json->len <= max) {
        return MS_OK;
    }
    ENSURE(e != MS_ERR_NOMEM && e != MS_ERR_ARG, e);
    if (e == MS_OK) {
        return fail(MS_ERR_MODEL_OUTPUT, why, cap, "the JSON object is %zu bytes; the cap is %zu",
                    json->len, max);
    }
    ms_extract_describe(&info, desc, sizeof desc);
    return fail(MS_ERR_MODEL_OUTPUT, why, cap, "%s", desc);
}

static ms_err read_reasoning(ms_json_val root, char *why, size_t cap)
{
    ms_json_val v;
    const char *s;
    size_t n;
    ms_err e = ms_json_get(root, "reasoning", &v);
    if (e == MS_ERR_JSON_MISSING || (e == MS_OK && ms_json_type_of(v) == MS_JSON_NULL)) {
        return MS_OK;
    }
    if (e == MS_OK) {
        e = ms_json_as_str(v, MS_MAX_PROTO_REASONING, &s, &n);
    }
    return e == MS_OK ? MS_OK : field_err(e, "reasoning", MS_MAX_PROTO_REASONING, why, cap);
}

static ms_err read_decision(ms_json_val root, unsigned allowed, const ms_plan_caps *caps,
                            ms_decision *d, char *why, size_t cap)
{
    static const char *const KEYS[] = {"decision", "message", "answer",
                                       "reason",   "plan",    "reasoning"};
    size_t k;
    const char *s;
    size_t n;
    ms_err e;
    ENSURE(ms_json_type_of(root) == MS_JSON_OBJECT, MS_ERR_INTERNAL); /* extract gives objects */
    if ((e = only_keys(root, "the reply", KEYS, 6, why, cap)) != MS_OK) {
        return MS_ERR_MODEL_OUTPUT;
    }
    e = ms_json_get_enum(root, "decision", ms_decision_names, MS_DECISION_KIND_COUNT, &k);
    if (e == MS_OK && !(allowed & MS_DECIDE_MASK(k))) {
        e = MS_ERR_JSON_ENUM;
    }
    if (e == MS_ERR_JSON_ENUM) {
        char list[160] = "", said[48];
        ms_err e2 = ms_json_get_str(root, "decision", MS_MAX_JSON_STRING, &s, &n);
        printable(e2 == MS_OK ? s : "", e2 == MS_OK ? n : 0, said, sizeof said);
        for (size_t i = 0; i < MS_DECISION_KIND_COUNT; i++) {
            if (allowed & MS_DECIDE_MASK(i)) {
                size_t o = strlen(list);
                snprintf(list + o, sizeof list - o, "%s\"%s\"", o ? ", " : "",
                         ms_decision_names[i]);
            }
        }
        return fail(e, why, cap, "\"decision\" is \"%s\"; it must be one of %s", said, list);
    }
    if (e != MS_OK) {
        return field_err(e, "decision", 0, why, cap);
    }
    d->kind = (ms_decision_kind)k;
    for (size_t i = 0; i < MS_DECISION_KIND_COUNT; i++) {
        ms_json_val v;
        if (i != k && ms_json_get(root, DECISION_FIELD[i], &v) == MS_OK) {
            return fail(MS_ERR_MODEL_OUTPUT, why, cap,
                        "field \"%s\" does not belong with decision \"%s\" (it takes \"%s\")",
                        DECISION_FIELD[i], ms_decision_names[k], DECISION_FIELD[k]);
        }
    }
    TRY(read_reasoning(root, why, cap));
    if (k == MS_DECISION_PLAN) {
        ms_json_val plan;
        if ((e = ms_json_get(root, "plan", &plan)) != MS_OK) {
            return field_err(e, "plan", 0, why, cap);
        }
        return ms_plan_read(plan, caps, &d->plan, why, cap);
    }
    if ((e = ms_json_get_str(root, DECISION_FIELD[k], DECISION_CAP[k], &s, &n)) != MS_OK) {
        return field_err(e, DECISION_FIELD[k], DECISION_CAP[k], why, cap);
    }
    ENSURE(!blank(s, n), fail(MS_ERR_MODEL_OUTPUT, why, cap, "\"%s\" is empty", DECISION_FIELD[k]));
    ENSURE((d->text = dup_n(s, n)) != NULL, MS_ERR_NOMEM);
    d->text_len = n;
    return MS_OK;
}

ms_err ms_decision_parse(const char *text, size_t len, unsigned allowed, const ms_plan_caps *caps,
                         ms_decision *out, char *why, size_t why_cap)
{
    ms_buf json;
    ms_json_doc *doc = NULL;
    ms_err err;
    memset(out, 0, sizeof *out);
    if (why && why_cap) {
        why[0] = '\0';
    }
    out->kind = MS_DECISION_KIND_COUNT;
    ENSURE(text != NULL || len == 0, MS_ERR_ARG);
    ENSURE(allowed != 0 && allowed < MS_DECIDE_MASK(MS_DECISION_KIND_COUNT), MS_ERR_ARG);
    ms_buf_init(&json, MS_MAX_EXTRACT_TEXT);
    TRY_OUT(extract(text, len, MS_MAX_PROTO_REPLY_JSON, &json, why, why_cap));
    TRY_OUT(ms_json_parse((const char *)json.p, json.len, &doc));
    TRY_OUT(read_decision(ms_json_root(doc), allowed, caps, out, why, why_cap));
    ENSURE_OUT((out->json = dup_n((const char *)json.p, json.len)) != NULL, MS_ERR_NOMEM);
    out->json_len = json.len;
out:
    ms_json_free(doc);
    ms_buf_free(&json);
    if (err != MS_OK) {
        ms_decision_kind kind = out->kind;
        ms_decision_free(out);
        out->kind = kind;
    }
    return err;
}

/* --- job outputs ------------------------------------------------------------------------- */

void ms_job_output_free(ms_job_output *o)
{
    if (!o) {
        return;
    }
    free_str(&o->answer, o->answer_len);
    free_str(&o->citation, o->citation_len);
    free_str(&o->explanation, o->explanation_len);
    memset(o, 0, sizeof *o);
}

/* A string-or-null field: *s stays NULL for null (and absent, when !required). */
static ms_err str_or_null(ms_json_val root, const char *key, bool required, char **s, size_t *n,
                          char *why, size_t cap)
{
    ms_json_val v;
    const char *p;
    ms_err e = ms_json_get(root, key, &v);
    if ((e == MS_ERR_JSON_MISSING && !required) ||
        (e == MS_OK && ms_json_type_of(v) == MS_JSON_NULL)) {
        return MS_OK;
    }
    if (e == MS_OK) {
        e = ms_json_as_str(v, MS_MAX_JSON_STRING, &p, n);
    }
    if (e != MS_OK) {
        return field_err(e, key, MS_MAX_JSON_STRING, why, cap);
    }
    ENSURE((*s = dup_n(p, *n)) != NULL, MS_ERR_NOMEM);
    return MS_OK;
}

ms_err ms_job_output_parse(const char *text, size_t len, ms_job_output *out, char *why,
                           size_t why_cap)
{
    ms_buf json;
    ms_json_doc *doc = NULL;
    ms_err err;
    memset(out, 0, sizeof *out);
    if (why && why_cap) {
        why[0] = '\0';
    }
    ENSURE(text != NULL || len == 0, MS_ERR_ARG);
    ms_buf_init(&json, MS_MAX_EXTRACT_TEXT);
    TRY_OUT(extract(text, len, MS_MAX_JOB_OUTPUT, &json, why, why_cap));
    TRY_OUT(ms_json_parse((const char *)json.p, json.len, &doc));
    ms_json_val root = ms_json_root(doc);
    TRY_OUT(str_or_null(root, "answer", true, &out->answer, &out->answer_len, why, why_cap));
    TRY_OUT(str_or_null(root, "citation", false, &out->citation, &out->citation_len, why,
                        why_cap));
    TRY_OUT(str_or_null(root, "explanation", false, &out->explanation, &out->explanation_len, why,
                        why_cap));
    out->has_answer = out->answer != NULL && !blank(out->answer, out->answer_len);
out:
    ms_json_free(doc);
    ms_buf_free(&json);
    if (err != MS_OK) {
        ms_job_output_free(out);
    }
    return err;
}

size_t ms_utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max) {
        return len;
    }
    size_t n = max;
    /* s[n] starts the part cut off: if it continues a sequence, cut before that sequence. */
    for (unsigned back = 0; n > 0 && back < 4 && ((unsigned char)s[n] & 0xC0u) == 0x80u; back++) {
        n--;
    }
    if (((unsigned char)s[n] & 0xC0u) == 0x80u) {
        return max; /* not UTF-8 here: any cut is as good */
    }
    return n;
}

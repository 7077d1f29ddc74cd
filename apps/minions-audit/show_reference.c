/* minions-audit show --format reference-json: a verified log as the reference's log JSON. */
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "secure/audit/alog_fmt.h"
#include "apps/minions-audit/show.h"

typedef struct ref {
    ms_json_wval root, conv, ctx;
    bool have_task, have_answer, have_session, have_final, have_ctx;
    double local_s, remote_s;
    ms_json_val last_chat_reply; /* chat logs: the last complete reply */
    ms_json_doc *last_chat_doc;  /* owns last_chat_reply */
} ref;

static ms_err turn(ms_json_wval conv, const char *who, ms_json_val prompt, ms_json_val output)
{
    ms_json_wval t;
    TRY(ms_json_add_obj(conv, NULL, &t));
    TRY(ms_json_add_cstr(t, "user", who));
    TRY(ms_json_type_of(prompt) == MS_JSON_STRING ? ms_json_add_value(t, "prompt", prompt)
                                                  : ms_json_add_null(t, "prompt"));
    return ms_json_type_of(output) == MS_JSON_STRING ? ms_json_add_value(t, "output", output)
                                                     : ms_json_add_null(t, "output");
}

static ms_json_val member(ms_json_val o, const char *key)
{
    ms_json_val v;
    return ms_json_get(o, key, &v) == MS_OK ? v : (ms_json_val){0};
}

static double secs(ms_json_val o, const char *key)
{
    double s = 0;
    return ms_json_get_double(o, key, 0, 1e9, &s) == MS_OK ? s : 0;
}

/* supervisor_turn: the last message sent is the prompt of this turn. */
static ms_err supervisor_turn(ref *r, ms_json_val d)
{
    ms_json_val sent, last = {0}, v;
    size_t n;
    if (ms_json_get_arr(d, "sent", MS_ALOG_MAX_LINE, &sent, &n) == MS_OK && n > 0 &&
        ms_json_arr_at(sent, n - 1, &v) == MS_OK) {
        last = member(v, "content");
    }
    r->remote_s += secs(member(d, "timings"), "total_s");
    return turn(r->conv, "remote", last, member(d, "reply"));
}

static ms_err jobs(ref *r, ms_json_val d)
{
    ms_json_val outs, v;
    size_t n;
    r->local_s += secs(d, "seconds");
    if (ms_json_get_arr(d, "outputs", MS_ALOG_MAX_LINE, &outs, &n) != MS_OK) {
        return MS_OK;
    }
    ms_json_iter it = ms_json_iter_init(outs);
    while (ms_json_iter_next(&it, &v, NULL)) {
        if (ms_json_type_of(member(v, "answer")) == MS_JSON_STRING) {
            TRY(turn(r->conv, "local", (ms_json_val){0}, member(v, "answer")));
        }
    }
    return MS_OK;
}

static ms_err usage(ms_json_wval u, const char *key, ms_json_val src)
{
    ms_json_wval o;
    uint64_t in = 0, out = 0;
    if (ms_json_get_u64(src, "prompt_tokens", UINT64_MAX / 4, &in) != MS_OK) {
        in = 0;
    }
    if (ms_json_get_u64(src, "completion_tokens", UINT64_MAX / 4, &out) != MS_OK) {
        out = 0;
    }
    TRY(ms_json_add_obj(u, key, &o));
    TRY(ms_json_add_u64(o, "prompt_tokens", in));
    TRY(ms_json_add_u64(o, "completion_tokens", out));
    return ms_json_add_u64(o, "total_tokens", in + out);
}

static ms_err final(ref *r, ms_json_val d)
{
    ms_json_wval u, t;
    ms_json_val a = member(d, "answer");
    TRY(ms_json_type_of(a) == MS_JSON_STRING ? ms_json_add_value(r->root, "generated_final_answer", a)
                                             : ms_json_add_null(r->root, "generated_final_answer"));
    TRY(ms_json_add_obj(r->root, "usage", &u));
    TRY(usage(u, "remote", member(d, "usage_remote")));
    TRY(usage(u, "local", member(d, "usage_local")));
    TRY(ms_json_add_obj(r->root, "timing", &t));
    TRY(ms_json_add_double(t, "local_call_time", r->local_s));
    TRY(ms_json_add_double(t, "remote_call_time", r->remote_s));
    TRY(ms_json_add_double(t, "total_time", secs(d, "seconds")));
    r->have_answer = r->have_final = true;
    return MS_OK;
}

/* One event; doc is handed over when the event keeps a value from it (chat replies). */
static ms_err event(ref *r, const char *type, ms_json_val d, ms_json_doc **doc)
{
    if (strcmp(type, "task") == 0 && !r->have_task) {
        r->have_task = true;
        return ms_json_add_value(r->root, "task", member(d, "task"));
    }
    if (strcmp(type, "session") == 0 && !r->have_session &&
        ms_json_type_of(member(d, "session_id")) == MS_JSON_STRING) {
        r->have_session = true;
        return ms_json_add_value(r->root, "session_id", member(d, "session_id"));
    }
    if (strcmp(type, "context") == 0) {
        if (!r->have_ctx) {
            TRY(ms_json_add_arr(r->root, "context", &r->ctx));
            r->have_ctx = true;
        }
        return ms_json_add_value(r->ctx, NULL, member(d, "text")); /* one entry per part */
    }
    if (strcmp(type, "supervisor_turn") == 0) {
        return supervisor_turn(r, d);
    }
    if (strcmp(type, "worker_turn") == 0) {
        r->local_s += secs(d, "seconds");
        return turn(r->conv, "local", member(d, "question"), member(d, "answer"));
    }
    if (strcmp(type, "jobs") == 0) {
        return jobs(r, d);
    }
    if (strcmp(type, "final") == 0 && !r->have_final) {
        return final(r, d);
    }
    if (strcmp(type, "chat_turn") == 0) {
        bool ok = false;
        r->remote_s += secs(d, "seconds");
        if (ms_json_get_bool(d, "ok", &ok) == MS_OK && ok) {
            ms_json_free(r->last_chat_doc);
            r->last_chat_doc = *doc;
            r->last_chat_reply = member(d, "reply");
            *doc = NULL;
        }
        return turn(r->conv, "remote", member(d, "user"), member(d, "reply"));
    }
    return MS_OK;
}

static ms_err walk(ref *r, const uint8_t *log, size_t len)
{
    size_t off = 0;
    for (;;) {
        const uint8_t *p;
        size_t n, tn;
        const char *type;
        ms_json_val d;
        ms_json_doc *doc = NULL;
        ms_alog_line_status st = ms_alog_line_next(log, len, &off, &p, &n);
        if (st != MS_ALOG_LINE_OK) {
            return st == MS_ALOG_LINE_END ? MS_OK : MS_ERR_COMPAT_LOG_UNVERIFIED;
        }
        ms_err e = ms_json_parse((const char *)p, n, &doc);
        ms_json_val root = ms_json_root(doc);
        if (e == MS_OK && ms_json_get_str(root, "type", MS_ALOG_MAX_TYPE, &type, &tn) == MS_OK &&
            ms_json_get_obj(root, "data", &d) == MS_OK) {
            e = event(r, type, d, &doc);
        }
        ms_json_free(doc);
        TRY(e);
    }
}

/* What a log without a `final` (a chat) still owes the reader: the same members. */
static ms_err finish(ref *r)
{
    if (!r->have_task) {
        TRY(ms_json_add_null(r->root, "task"));
    }
    if (!r->have_session) {
        TRY(ms_json_add_null(r->root, "session_id"));
    }
    if (!r->have_final) {
        ms_json_wval u, t;
        TRY(r->last_chat_doc ? ms_json_add_value(r->root, "generated_final_answer",
                                                 r->last_chat_reply)
                             : ms_json_add_null(r->root, "generated_final_answer"));
        TRY(ms_json_add_obj(r->root, "usage", &u));
        TRY(usage(u, "remote", (ms_json_val){0}));
        TRY(usage(u, "local", (ms_json_val){0}));
        TRY(ms_json_add_obj(r->root, "timing", &t));
        TRY(ms_json_add_double(t, "local_call_time", r->local_s));
        TRY(ms_json_add_double(t, "remote_call_time", r->remote_s));
        TRY(ms_json_add_double(t, "total_time", r->local_s + r->remote_s));
    }
    return MS_OK;
}

ms_err ms_audit_show_reference(FILE *out, const uint8_t *log, size_t len, const ms_alog_report *rep)
{
    if (rep->verdict != MS_ALOG_VALID) {
        return MS_ERR_COMPAT_LOG_UNVERIFIED;
    }
    ms_json_builder *b = NULL;
    ref r = {0};
    ms_buf text;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &r.root));
    ms_buf_init(&text, MS_ALOG_MAX_FILE);
    ms_err e = ms_json_add_arr(r.root, "conversation", &r.conv);
    e = e ? e : walk(&r, log, len);
    e = e ? e : finish(&r);
    e = e ? e : ms_json_builder_print(b, &text);
    if (e == MS_OK && (fwrite(text.p, 1, text.len, out) != text.len || fputc('\n', out) == EOF)) {
        e = MS_ERR_IO;
    }
    ms_buf_free(&text);
    ms_json_builder_free(b);
    ms_json_free(r.last_chat_doc);
    return e;
}

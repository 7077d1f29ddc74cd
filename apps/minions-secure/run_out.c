/* minions-secure run: what it prints (the answer, --json, --stdin-json's reply, the progress line). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/limits.h"
#include "common/text.h"
#include "secure/attest/policy.h"
#include "apps/minions-secure/run.h"
#include "apps/minions-secure/run_compat.h"

static const char *outcome_name(const ms_run_report *r)
{
    if (!r->res) {
        return "failed";
    }
    switch (r->res->outcome) {
    case MS_OUTCOME_ANSWER: return "answer";
    case MS_OUTCOME_NO_ANSWER: return "no_answer";
    default: return "failed";
    }
}

static ms_err add_hex(ms_json_wval w, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];
    size_t len;
    TRY(ms_hex_encode(p, n, hex, sizeof hex, &len));
    return ms_json_add_str(w, key, hex, len);
}

static ms_err add_evidence(ms_json_wval root, const ms_client_peer *p)
{
    ms_json_wval ev;
    char when[32];
    struct tm tm;
    time_t t = (time_t)p->evidence_not_after;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    TRY(ms_json_add_obj(root, "evidence", &ev));
    TRY(ms_json_add_cstr(ev, "type", ms_evidence_type_name(p->evidence_type)));
    TRY(ms_json_add_cstr(ev, "mode", ms_client_mode_name(p->evidence_mode)));
    TRY(ms_json_add_u64(ev, "not_after", p->evidence_not_after));
    TRY(ms_json_add_cstr(ev, "not_after_utc", when));
    TRY(ms_json_add_bool(ev, "development_only", p->evidence_type == MS_EVIDENCE_DEV_KEY));
    if (p->dev_key_fp[0]) {
        TRY(ms_json_add_cstr(ev, "dev_key", p->dev_key_fp));
    }
    TRY(add_hex(ev, "evidence_sha256", p->evidence_sha256, sizeof p->evidence_sha256));
    TRY(add_hex(ev, "transcript_hash", p->transcript_hash, sizeof p->transcript_hash));
    TRY(ms_json_add_cstr(ev, "tls", ms_client_tls_name(p->tls)));
    if (p->tls == MS_CLIENT_TLS_PINNED) {
        TRY(add_hex(ev, "tls_spki_sha256", p->tls_spki_hash, sizeof p->tls_spki_hash));
    }
    return MS_OK;
}

static ms_err add_usage(ms_json_wval root, const ms_proto_result *res)
{
    ms_json_wval u, l, rm;
    TRY(ms_json_add_obj(root, "usage", &u));
    TRY(ms_json_add_obj(u, "local", &l));
    TRY(ms_json_add_u64(l, "prompt_tokens", res ? res->local_prompt_tokens : 0));
    TRY(ms_json_add_u64(l, "completion_tokens", res ? res->local_completion_tokens : 0));
    TRY(ms_json_add_obj(u, "remote", &rm));
    TRY(ms_json_add_u64(rm, "prompt_tokens", res ? res->remote_prompt_tokens : 0));
    TRY(ms_json_add_u64(rm, "completion_tokens", res ? res->remote_completion_tokens : 0));
    return MS_OK;
}

/* What a run came to, shared by --json and --stdin-json's result. */
static ms_err add_run(ms_json_wval o, const ms_run_report *r, const char *answer_key)
{
    const ms_proto_result *res = r->res;
    bool answered = res && res->outcome == MS_OUTCOME_ANSWER;
    TRY(ms_json_add_cstr(o, "outcome", outcome_name(r)));
    if (answered) {
        TRY(ms_json_add_str(o, answer_key, (const char *)res->answer.p, res->answer.len));
    } else {
        TRY(ms_json_add_null(o, answer_key));
    }
    TRY(ms_json_add_u64(o, "rounds", res ? res->rounds : 0));
    if (res && r->o->protocol == MS_RUN_MINIONS) {
        TRY(ms_json_add_u64(o, "jobs_run", res->jobs_run));
        TRY(ms_json_add_u64(o, "jobs_failed", res->jobs_failed));
        TRY(ms_json_add_u64(o, "jobs_cut", res->jobs_cut)); /* at the worker's token limit */
    } else if (res) {
        TRY(ms_json_add_u64(o, "worker_cut", res->worker_cut)); /* sent marked INCOMPLETE */
    }
    TRY(add_usage(o, res));
    if (r->peer && r->peer->connected) {
        TRY(ms_json_add_cstr(o, "session", r->peer->session_hex));
        TRY(add_evidence(o, r->peer));
    } else {
        TRY(ms_json_add_null(o, "session"));
        TRY(ms_json_add_null(o, "evidence"));
    }
    if (r->log_check) { /* serve's Minions API: the sealed log checked against its key */
        ms_json_wval lv;
        TRY(ms_json_add_obj(o, "log_verification", &lv));
        TRY(ms_json_add_cstr(lv, "verdict", ms_alog_verdict_name(r->log_check->verdict)));
        TRY(ms_json_add_u64(lv, "events", r->log_check->events));
        TRY(add_hex(lv, "key", r->log_check->key, sizeof r->log_check->key));
    }
    return r->log_path ? ms_json_add_cstr(o, "log", r->log_path) : ms_json_add_null(o, "log");
}

static ms_err build(const ms_run_report *r, int stdin_shape, ms_json_wval root)
{
    bool ok = r->code == MS_CLI_OK;
    if (!stdin_shape) {
        TRY(ms_json_add_bool(root, "ok", ok));
        TRY(add_run(root, r, "answer"));
        TRY(ok ? ms_json_add_null(root, "why") : ms_json_add_cstr(root, "why", r->why));
        return ms_json_add_i64(root, "exit_code", r->code);
    }
    ms_json_wval res;
    TRY(ms_json_add_bool(root, "success", ok));
    if (r->res) {
        TRY(ms_json_add_obj(root, "result", &res));
        TRY(add_run(res, r, "final_answer"));
        TRY(ms_run_add_reference(res, r->res, r->tee, r->log_path)); /* docs/migrating.md */
    } else {
        TRY(ms_json_add_null(root, "result"));
    }
    TRY(ok ? ms_json_add_null(root, "error") : ms_json_add_cstr(root, "error", r->why));
    return ms_json_add_i64(root, "exit_code", r->code);
}

ms_err ms_run_json(const ms_run_report *r, int stdin_shape, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = build(r, stdin_shape, root);
        if (e == MS_OK) {
            e = ms_json_builder_print(b, out);
        }
        ms_json_builder_free(b);
    }
    return e;
}

int ms_run_print_json(const ms_run_report *r, int stdin_shape)
{
    ms_buf out;
    ms_buf_init(&out, MS_MAX_JSON_TEXT);
    ms_err e = ms_run_json(r, stdin_shape, &out);
    if (e == MS_OK) {
        fwrite(out.p, 1, out.len, stdout);
        putchar('\n');
        fflush(stdout);
    } else {
        fprintf(stderr, "%s: cannot print the JSON result: %s\n", MS_RUN_PROG, ms_err_str(e));
    }
    ms_buf_free(&out);
    return e == MS_OK ? r->code : (r->code == MS_CLI_OK ? MS_CLI_TURN : r->code);
}

void ms_run_print_answer(const char *p, size_t n)
{
    if (isatty(STDOUT_FILENO)) {
        /* the answer is the supervisor's text: on a terminal, nothing that could drive it */
        ms_text_tty t;
        ms_text_tty_init(&t, ms_text_sink_file, stdout);
        ms_text_tty_write(&t, p, n);
        ms_text_tty_flush(&t);
    } else {
        fwrite(p, 1, n, stdout);
    }
    if (n == 0 || p[n - 1] != '\n') {
        putchar('\n');
    }
    fflush(stdout);
}

/* --- the progress line (stderr, only on a terminal) ---------------------------------------- */

void ms_run_progress(void *ctx, const ms_progress *p)
{
    ms_run_progress_state *s = ctx;
    if (!s->tty) {
        return;
    }
    if (p->jobs_total > 0) {
        fprintf(stderr, "\r\033[Kround %u/%u \xc2\xb7 jobs %zu/%zu", p->round, p->max_rounds,
                p->jobs_done, p->jobs_total);
    } else {
        fprintf(stderr, "\r\033[Kround %u/%u \xc2\xb7 %s", p->round, p->max_rounds,
                p->phase ? p->phase : "");
    }
    fflush(stderr);
    s->shown = 1;
}

void ms_run_progress_end(ms_run_progress_state *s)
{
    if (s->tty && s->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        s->shown = 0;
    }
}

/* One readable line per event of the session-log vocabulary (docs/logs.md); untrusted text escaped. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/text.h"
#include "apps/minions-audit/show.h"

#define EXCERPT 100u /* characters of a text field shown */
#define SHORT 48u    /* ... of a short one (ids, names) */
#define SENTENCE 240u /* ... of what a session's evidence proved (apps/minions-secure/session_log.c) */

/* A bounded line under construction; over the cap it is cut, never overrun. */
typedef struct sb {
    char *p;
    size_t cap, n;
} sb;

__attribute__((format(printf, 2, 3))) static void add(sb *b, const char *fmt, ...)
{
    if (b->n + 1 >= b->cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k > 0) {
        b->n += (size_t)k < b->cap - b->n ? (size_t)k : b->cap - b->n - 1;
    }
}

/* " (" ... ")" around what follows, dropped when nothing was added between. */
static size_t paren_open(sb *b)
{
    size_t at = b->n;
    add(b, " (");
    return at;
}

static void paren_close(sb *b, size_t at)
{
    if (b->n == at + 2u) {
        b->n = at;
        b->p[at] = '\0';
    } else {
        add(b, ")");
    }
}

/*
 * Untrusted text: its first line, at most max characters, "..." when cut. Escaped by
 * ms_text_escape (common/text.h): UTF-8 text stays readable, while control bytes, invalid
 * UTF-8 and characters that hide or reorder text are shown as escapes, so a log cannot
 * drive the terminal or disguise what it says. Written straight into b: whole characters
 * only, even when the line is at its cap.
 */
static void add_text(sb *b, const char *s, size_t len, size_t max)
{
    const char *nl = memchr(s, '\n', len);
    size_t n = nl != NULL ? (size_t)(nl - s) : len;
    if (b->n + 1 >= b->cap) {
        return;
    }
    size_t used = ms_text_escape(s, n, max, b->p + b->n, b->cap - b->n);
    b->n += strlen(b->p + b->n);
    if (used == n && n < len) {
        add(b, "...");
    }
}

/* A string member, or NULL (missing or not a string). */
static const char *str(ms_json_val o, const char *key, size_t *len)
{
    const char *s;
    if (ms_json_get_str(o, key, MS_ALOG_MAX_LINE, &s, len) != MS_OK) {
        *len = 0;
        return NULL;
    }
    return s;
}

/* Add a string member as an excerpt; `alt` when it is missing. */
static void add_field(sb *b, ms_json_val o, const char *key, size_t max, const char *alt)
{
    size_t len;
    const char *s = str(o, key, &len);
    if (s != NULL) {
        add_text(b, s, len, max);
    } else {
        add(b, "%s", alt);
    }
}

static bool num(ms_json_val o, const char *key, double *out)
{
    return ms_json_get_double(o, key, -1e15, 1e15, out) == MS_OK;
}

static bool count(ms_json_val o, const char *key, unsigned long long *out)
{
    uint64_t v;
    bool ok = ms_json_get_u64(o, key, UINT64_C(9007199254740991), &v) == MS_OK;
    *out = ok ? (unsigned long long)v : 0;
    return ok;
}

/* A boolean member, or def when it is missing or not a boolean. */
static bool flag(ms_json_val o, const char *key, bool def)
{
    bool v;
    return ms_json_get_bool(o, key, &v) == MS_OK ? v : def;
}

static bool has(ms_json_val o, const char *key)
{
    ms_json_val v;
    return ms_json_get(o, key, &v) == MS_OK;
}

/* 0.1 ms, 12.3 ms, 1.19 s, 12.5 s, 125 s */
static void add_dur(sb *b, double s)
{
    if (s < 1.0) {
        add(b, "%.1f ms", s * 1000.0);
    } else if (s < 10.0) {
        add(b, "%.2f s", s);
    } else if (s < 100.0) {
        add(b, "%.1f s", s);
    } else {
        add(b, "%.0f s", s);
    }
}

static void add_dur_field(sb *b, ms_json_val o, const char *key, const char *before)
{
    double s;
    if (num(o, key, &s)) {
        add(b, "%s", before);
        add_dur(b, s);
    }
}

/* usage {prompt_tokens, completion_tokens} as "120+40 tokens" */
static void add_usage(sb *b, ms_json_val o, const char *key, const char *before)
{
    ms_json_val u;
    unsigned long long p, c;
    if (ms_json_get_obj(o, key, &u) == MS_OK && count(u, "prompt_tokens", &p) &&
        count(u, "completion_tokens", &c)) {
        add(b, "%s%llu+%llu tokens", before, p, c);
    }
}

static void add_round(sb *b, ms_json_val d)
{
    unsigned long long r;
    if (count(d, "round", &r)) {
        add(b, "round %llu: ", r);
    }
}

static void r_log_start(sb *b, ms_json_val d)
{
    add(b, "log started: ");
    add_field(b, d, "kind", SHORT, "?");
    add(b, " log by ");
    add_field(b, d, "program", SHORT, "an unnamed program");
    if (has(d, "listen")) {
        add(b, "; listening on ");
        add_field(b, d, "listen", SHORT, "?");
        add(b, ", evidence ");
        add_field(b, d, "evidence", SHORT, "?");
        add(b, ", backend ");
        add_field(b, d, "backend", SHORT, "?");
        add(b, ", mode ");
        add_field(b, d, "mode", SHORT, "?");
    }
}

/* Does the string member equal want? */
static bool str_is(ms_json_val o, const char *key, const char *want)
{
    size_t len;
    const char *s = str(o, key, &len);
    return s != NULL && len == strlen(want) && strncmp(s, want, len) == 0;
}

/* "policy FILE (or built in): accepts dev-key, tpm2-quote; STRICT required" */
static void add_policy(sb *b, ms_json_val d)
{
    ms_json_val pol, acc, v;
    size_t n, len;
    const char *name;
    bool strict;
    if (ms_json_get_obj(d, "policy", &pol) != MS_OK) {
        return;
    }
    add(b, "\npolicy ");
    add_field(b, pol, "file", SHORT, "(built in)");
    if (ms_json_get_arr(pol, "accept", 8, &acc, &n) == MS_OK) {
        add(b, ": accepts");
        for (size_t i = 0; i < n; i++) {
            if (ms_json_arr_at(acc, i, &v) == MS_OK &&
                ms_json_as_str(v, SHORT, &name, &len) == MS_OK) {
                add(b, i == 0 ? " " : ", ");
                add_text(b, name, len, SHORT);
            }
        }
    }
    if (ms_json_get_bool(pol, "require_strict", &strict) == MS_OK && strict) {
        add(b, "; STRICT required");
    }
}

/*
 * What identifies the accepted evidence, by its type (docs/logs.md, "session"): for a dev
 * key the pinned key's fingerprint; for a TPM quote or an SEV-SNP report (their pins are
 * in the policy file, not in the event) the whole digest of the evidence bytes, which the
 * supervisor's session_end names as evidence_id. Always the handshake transcript the
 * channel keys are bound to. A dev_key_fp of null is never shown as a key.
 */
static void add_evidence_ids(sb *b, ms_json_val d)
{
    if (str_is(d, "evidence_type", "dev-key")) {
        add(b, "\npinned dev key ");
        add_field(b, d, "dev_key_fp", EXCERPT, "(not named)");
        add(b, "; evidence sha256 ");
        add_field(b, d, "evidence_sha256", 16, "?");
    } else {
        if (str_is(d, "evidence_type", "tpm2-quote")) {
            add(b, "\nTPM 2.0 quote");
        } else if (str_is(d, "evidence_type", "sev-snp")) {
            add(b, "\nSEV-SNP report");
        } else {
            add(b, "\nevidence");
        }
        add(b, ", sha256 ");
        add_field(b, d, "evidence_sha256", EXCERPT, "?");
    }
    add(b, "; handshake transcript ");
    add_field(b, d, "transcript_hash", 16, "?");
}

/* A handshake that failed or whose evidence a check refused: nothing was sent in it. */
static void r_session_failed(sb *b, ms_json_val d)
{
    add(b, "handshake with ");
    add_field(b, d, "supervisor_url", SHORT, "the supervisor");
    add(b, " FAILED: ");
    add_field(b, d, "error", SHORT, "no error named");
    size_t at = paren_open(b);
    add_dur_field(b, d, "handshake_s", "after ");
    paren_close(b, at);
    add(b, "; nothing proved, nothing sent in the channel");
    add_policy(b, d);
}

static void add_tls(sb *b, ms_json_val d)
{
    if (str_is(d, "tls", "pinned")) {
        add(b, "; TLS key pinned (sha256 ");
        add_field(b, d, "tls_spki_sha256", 16, "?");
        add(b, ")");
    } else if (str_is(d, "tls", "proxy")) {
        add(b, "; TLS through a proxy (key not pinned)");
    } else if (str_is(d, "tls", "none")) {
        add(b, "; no TLS (loopback)");
    }
}

static void r_session(sb *b, ms_json_val d)
{
    double t;
    if (!flag(d, "ok", true)) {
        r_session_failed(b, d);
        return;
    }
    add(b, "verified ");
    add_field(b, d, "supervisor_url", SHORT, "the supervisor");
    add(b, ": ");
    add_field(b, d, "evidence_type", SHORT, "?");
    add(b, " (");
    add_field(b, d, "evidence_mode", SHORT, "?");
    add(b, ") evidence");
    if (num(d, "evidence_not_after", &t) && t >= 0 && t < 253402300800.0) {
        time_t tt = (time_t)t;
        struct tm tm;
        char when[32];
        if (gmtime_r(&tt, &tm) != NULL && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm)) {
            add(b, " valid until %s UTC", when);
        }
    }
    add_tls(b, d);
    add(b, "; session ");
    add_field(b, d, "session_id", SHORT, "?");
    add_dur_field(b, d, "handshake_s", "; handshake ");
    if (has(d, "proved")) {
        add(b, "\nproved: ");
        add_field(b, d, "proved", SENTENCE, "");
    }
    if (has(d, "evidence_sha256") || has(d, "transcript_hash")) {
        add_evidence_ids(b, d);
    }
    add_policy(b, d);
}

static void r_task(sb *b, ms_json_val d)
{
    ms_json_val w;
    unsigned long long n;
    add(b, "task (");
    add_field(b, d, "protocol", SHORT, "?");
    add(b, "): \"");
    add_field(b, d, "task", EXCERPT, "");
    add(b, "\"");
    if (ms_json_get_obj(d, "worker", &w) == MS_OK) {
        add(b, "; worker ");
        add_field(b, w, "kind", SHORT, "?");
        add(b, " ");
        add_field(b, w, "model", SHORT, "?");
    }
    if (count(d, "max_rounds", &n)) {
        add(b, "; up to %llu rounds", n);
    }
    if (count(d, "jobs", &n)) {
        add(b, ", %llu parallel jobs", n);
    }
    if (has(d, "context")) {
        add(b, "; the context itself is in this log (--log-context)");
    }
    if (has(d, "context_summary")) {
        add(b, "\ncontext: ");
        add_field(b, d, "context_summary", EXCERPT, "");
    }
}

static void r_supervisor_turn(sb *b, ms_json_val d)
{
    ms_json_val t;
    double v;
    unsigned long long n;
    add_round(b, d);
    add(b, "supervisor replied");
    size_t at = paren_open(b);
    if (ms_json_get_obj(d, "timings", &t) == MS_OK && num(t, "total_s", &v)) {
        add_dur(b, v);
        add_dur_field(b, t, "seal_s", ": seal ");
        add_dur_field(b, t, "transport_s", ", transport ");
        add_dur_field(b, t, "open_s", ", open ");
        add_usage(b, d, "usage", "; ");
    } else {
        add_usage(b, d, "usage", "");
    }
    paren_close(b, at);
    if (count(d, "rehandshakes", &n) && n > 0) {
        add(b, "; %llu re-handshake%s", n, n == 1 ? "" : "s");
    }
    if (has(d, "reply")) {
        add(b, "\nreply: ");
        add_field(b, d, "reply", EXCERPT, "");
    }
}

static void r_worker_turn(sb *b, ms_json_val d)
{
    add_round(b, d);
    add(b, "worker answered");
    size_t at = paren_open(b);
    add_dur_field(b, d, "seconds", "");
    add_usage(b, d, "usage", b->n > at + 2u ? "; " : "");
    paren_close(b, at);
    add(b, ": ");
    add_field(b, d, "answer", EXCERPT, "");
}

static void r_plan(sb *b, ms_json_val d)
{
    unsigned long long n;
    add_round(b, d);
    if (flag(d, "refused", false)) { /* its value, not its presence: accepted plans say false */
        add(b, "plan refused: ");
        add_field(b, d, "reason", EXCERPT, "over the caps");
        return;
    }
    add(b, "plan");
    if (count(d, "chunks", &n)) {
        add(b, ": %llu chunks", n);
    }
    if (count(d, "jobs", &n)) {
        add(b, ", %llu jobs", n);
    }
}

static void r_jobs(sb *b, ms_json_val d)
{
    unsigned long long total = 0, ok = 0, failed = 0, timed_out = 0;
    add_round(b, d);
    (void)count(d, "total", &total);
    (void)count(d, "ok", &ok);
    add(b, "%llu jobs, %llu ok", total, ok);
    if (count(d, "failed", &failed) && failed > 0) {
        add(b, ", %llu failed", failed);
    }
    if (count(d, "timed_out", &timed_out) && timed_out > 0) {
        add(b, ", %llu timed out", timed_out);
    }
    size_t at = paren_open(b);
    add_dur_field(b, d, "seconds", "");
    add_usage(b, d, "usage", b->n > at + 2u ? "; " : "");
    paren_close(b, at);
}

static void r_format_retry(sb *b, ms_json_val d)
{
    add_round(b, d);
    add(b, "the ");
    add_field(b, d, "who", SHORT, "model");
    add(b, "'s reply was not usable (");
    add_field(b, d, "problem", EXCERPT, "?");
    add(b, "): asked again");
}

static void r_final(sb *b, ms_json_val d)
{
    size_t len;
    unsigned long long rounds = 0, code;
    const char *o = str(d, "outcome", &len);
    bool have_rounds = count(d, "rounds", &rounds);
    if (o != NULL && strcmp(o, "answer") == 0) {
        add(b, "ANSWER");
        if (have_rounds) {
            add(b, " after %llu round%s", rounds, rounds == 1 ? "" : "s");
        }
        add(b, ": ");
        add_field(b, d, "answer", EXCERPT, "");
    } else if (o != NULL && strcmp(o, "no_answer") == 0) {
        add(b, "NO ANSWER");
        if (have_rounds) {
            add(b, " after %llu round%s", rounds, rounds == 1 ? "" : "s");
        }
        add(b, ": ");
        add_field(b, d, "why", EXCERPT, "");
    } else {
        add(b, "FAILED: ");
        add_field(b, d, "why", EXCERPT, "no reason given");
    }
    if (count(d, "exit_code", &code) && code != 0) {
        add(b, " (exit status %llu)", code);
    }
    if (has(d, "seconds") || has(d, "usage_local") || has(d, "usage_remote")) {
        add(b, "\nin total");
        add_dur_field(b, d, "seconds", " ");
        add_usage(b, d, "usage_local", "; local ");
        add_usage(b, d, "usage_remote", "; remote ");
    }
}

static void r_chat_turn(sb *b, ms_json_val d)
{
    unsigned long long n;
    bool ok = flag(d, "ok", true), cut = flag(d, "cut", false);
    if (count(d, "turn", &n)) {
        add(b, "turn %llu: ", n);
    }
    add(b, "\"");
    add_field(b, d, "user", SHORT, "");
    add(b, "\" -> ");
    if (!ok) {
        add(b, "error: ");
        add_field(b, d, "error", EXCERPT, "?");
    } else {
        add(b, "\"");
        add_field(b, d, "reply", EXCERPT, "");
        add(b, "\"");
    }
    size_t at = paren_open(b);
    add_dur_field(b, d, "seconds", "");
    add_usage(b, d, "usage", b->n > at + 2u ? "; " : "");
    paren_close(b, at);
    if (cut) {
        add(b, "; CUT SHORT: the stream ended without its final record (not kept in the history)");
    }
}

static void r_chat_command(sb *b, ms_json_val d)
{
    add(b, "command ");
    add_field(b, d, "command", SHORT, "?");
    if (has(d, "detail")) {
        add(b, ": ");
        add_field(b, d, "detail", EXCERPT, "");
    }
}

static void r_error(sb *b, ms_json_val d)
{
    add(b, "error ");
    add_field(b, d, "code", SHORT, "?");
    add(b, ": ");
    add_field(b, d, "message", EXCERPT, "");
}

static void r_session_end(sb *b, ms_json_val d)
{
    unsigned long long req = 0, rin = 0, rout = 0, bin = 0, bout = 0;
    add(b, "session ");
    add_field(b, d, "session_id", SHORT, "?");
    add(b, " ");
    add_field(b, d, "outcome", SHORT, "ended");
    (void)count(d, "requests", &req);
    (void)count(d, "records_in", &rin);
    (void)count(d, "records_out", &rout);
    (void)count(d, "bytes_in", &bin);
    (void)count(d, "bytes_out", &bout);
    add(b, ": %llu requests, records %llu in / %llu out, bytes %llu in / %llu out", req, rin,
        rout, bin, bout);
    add_dur_field(b, d, "duration_s", ", lasted ");
    add(b, "\nclient key ");
    add_field(b, d, "client_key_fp", SHORT, "?");
    add(b, "; evidence ");
    add_field(b, d, "evidence_id", SHORT, "?");
    add(b, " (");
    add_field(b, d, "mode", SHORT, "?");
    add(b, ")");
}

static void r_supervisor_stop(sb *b, ms_json_val d)
{
    unsigned long long n = 0;
    (void)count(d, "sessions_total", &n);
    add(b, "supervisor stopped after %llu session%s", n, n == 1 ? "" : "s");
}

static void r_log_seal(sb *b, ms_json_val d)
{
    unsigned long long n = 0;
    (void)count(d, "events", &n);
    add(b, "log sealed by the log key (%llu lines before the seal)", n);
}

static void r_log_checkpoint(sb *b, ms_json_val d)
{
    unsigned long long n = 0;
    (void)count(d, "events", &n);
    add(b, "checkpoint: the log key signs the %llu lines before it", n);
}

static const struct renderer {
    const char *type;
    void (*fn)(sb *, ms_json_val);
} RENDERERS[] = {
    {"log_start", r_log_start},
    {"session", r_session},
    {"task", r_task},
    {"supervisor_turn", r_supervisor_turn},
    {"worker_turn", r_worker_turn},
    {"plan", r_plan},
    {"jobs", r_jobs},
    {"format_retry", r_format_retry},
    {"final", r_final},
    {"chat_turn", r_chat_turn},
    {"chat_command", r_chat_command},
    {"error", r_error},
    {"session_end", r_session_end},
    {"supervisor_stop", r_supervisor_stop},
    {"log_seal", r_log_seal},
    {"log_checkpoint", r_log_checkpoint},
};

/* An unknown type: its name and its data as compact JSON, cut. */
static void r_generic(sb *b, const char *type, ms_json_val d)
{
    ms_json_builder *jb = NULL;
    ms_json_wval root;
    ms_buf text;
    ms_buf_init(&text, MS_ALOG_MAX_LINE + 16u);
    add_text(b, type, strlen(type), SHORT);
    add(b, ": ");
    if (ms_json_builder_new(MS_JSON_ARRAY, &jb, &root) == MS_OK &&
        ms_json_add_value(root, NULL, d) == MS_OK && ms_json_builder_print(jb, &text) == MS_OK &&
        text.len >= 2) {
        add_text(b, (const char *)text.p + 1, text.len - 2, EXCERPT); /* without [ ] */
    } else {
        add(b, "(data not shown)");
    }
    ms_json_builder_free(jb);
    ms_buf_free(&text);
}

void ms_audit_render_event(const char *type, ms_json_val data, char *out, size_t cap)
{
    sb b = {.p = out, .cap = cap, .n = 0};
    if (cap == 0) {
        return;
    }
    out[0] = '\0';
    for (size_t i = 0; i < sizeof RENDERERS / sizeof RENDERERS[0]; i++) {
        if (strcmp(type, RENDERERS[i].type) == 0) {
            RENDERERS[i].fn(&b, data);
            return;
        }
    }
    r_generic(&b, type, data);
}

/* Audit log verifier: every line capped and strictly parsed, the chain walked, the seal checked. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "secure/audit/alog_fmt.h"

/* The envelope of one line (docs/logs.md "Lines"). Strings borrow from doc. */
typedef struct line_info {
    ms_json_doc *doc;
    uint64_t seq;
    const char *type;
    const char *ts; /* MS_ALOG_TS_LEN characters */
    uint8_t prev[MS_ALOG_HASH_LEN];
    ms_json_val data;
} line_info;

static const char *const MEMBERS[] = {"v", "seq", "ts", "type", "prev", "data"};
static const char *const SEAL_MEMBERS[] = {"events", "sig"};
static const char *const KINDS[] = {"minion", "minions", "chat", "ask", "supervisor"};
#define N_KINDS (sizeof KINDS / sizeof KINDS[0])
/* Every line starts with these bytes, line 1 with the longer form. */
static const char LINE0_PREFIX[] = "{\"v\":1,\"seq\":0,\"ts\":\"";

const char *ms_alog_verdict_name(ms_alog_verdict v)
{
    switch (v) {
    case MS_ALOG_VALID:
        return "valid";
    case MS_ALOG_INCOMPLETE:
        return "incomplete";
    case MS_ALOG_TAMPERED:
        return "tampered";
    case MS_ALOG_WRONG_KEY:
        return "wrong_key";
    case MS_ALOG_MALFORMED:
        return "malformed";
    case MS_ALOG_PARTIAL:
        return "partial";
    }
    return "unknown";
}

static void line_free(line_info *li)
{
    ms_json_free(li->doc);
    memset(li, 0, sizeof *li);
}

/* An object whose members are exactly names[0..n), in that order. */
static bool members_are(ms_json_val obj, const char *const *names, size_t n)
{
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *key;
    size_t i = 0;
    while (ms_json_iter_next(&it, &v, &key)) {
        if (i >= n || strcmp(key, names[i]) != 0) {
            return false;
        }
        i++;
    }
    return i == n;
}

/* Exactly 2*n lowercase hex digits, decoded into out. */
static bool lower_hex(const char *s, size_t len, uint8_t *out, size_t n)
{
    size_t got;
    if (len != 2u * n) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return ms_hex_decode(s, len, out, n, &got) == MS_OK && got == n;
}

static bool type_chars_ok(const char *t, size_t n)
{
    if (n == 0 || n > MS_ALOG_MAX_TYPE) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((t[i] >= 'a' && t[i] <= 'z') || t[i] == '_')) {
            return false;
        }
    }
    return true;
}

/*
 * Parse the envelope. MS_OK with *problem NULL when it is well-formed, MS_OK with *problem
 * set (a phrase that follows "line N ") when not; MS_ERR_NOMEM only.
 */
static ms_err parse_line(const uint8_t *p, size_t n, line_info *li, const char **problem)
{
    memset(li, 0, sizeof *li);
    *problem = NULL;
    ms_err e = ms_json_parse((const char *)p, n, &li->doc);
    if (e == MS_ERR_NOMEM) {
        return e;
    }
    if (e != MS_OK) {
        *problem = "is not valid JSON (strict RFC 8259: UTF-8, no duplicate keys)";
        return MS_OK;
    }
    ms_json_val root = ms_json_root(li->doc);
    const char *s;
    size_t len;
    uint64_t v;
    int64_t ms;
    if (ms_json_type_of(root) != MS_JSON_OBJECT || !members_are(root, MEMBERS, 6)) {
        *problem = "does not have exactly the members v, seq, ts, type, prev, data, in this order";
    } else if (ms_json_get_u64(root, "v", 1, &v) != MS_OK || v != 1) {
        *problem = "has a v other than 1";
    } else if (ms_json_get_u64(root, "seq", MS_ALOG_MAX_EVENTS, &li->seq) != MS_OK) {
        *problem = "has a seq that is not a whole number below the line cap";
    } else if (ms_json_get_str(root, "ts", MS_ALOG_TS_LEN, &li->ts, &len) != MS_OK ||
               !ms_alog_ts_parse(li->ts, len, &ms)) {
        *problem = "has a ts that is not a UTC time like 2026-11-21T08:00:00.123Z";
    } else if (ms_json_get_str(root, "type", MS_ALOG_MAX_TYPE, &li->type, &len) != MS_OK ||
               !type_chars_ok(li->type, len)) {
        *problem = "has a type that is not 1 to 32 characters of a-z and _";
    } else if (ms_json_get_str(root, "prev", 2u * MS_ALOG_HASH_LEN, &s, &len) != MS_OK ||
               !lower_hex(s, len, li->prev, MS_ALOG_HASH_LEN)) {
        *problem = "has a prev that is not 64 lowercase hex digits";
    } else if (ms_json_get_obj(root, "data", &li->data) != MS_OK) {
        *problem = "has a data member that is not an object";
    }
    return MS_OK;
}

/* A verdict at a 1-based line, with a message. Returns MS_OK so callers can return it. */
__attribute__((format(printf, 4, 5))) static ms_err judge(ms_alog_report *r, ms_alog_verdict v,
                                                          uint64_t line, const char *fmt, ...)
{
    va_list ap;
    r->verdict = v;
    r->bad_line = line;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    return MS_OK;
}

/* Line 1: a log_start naming the kind, the log id and the key (docs/logs.md "Lines"). */
static const char *check_start(const line_info *li, ms_alog_report *r, uint8_t log_id[static MS_ALOG_ID_LEN])
{
    static const uint8_t zero[MS_ALOG_HASH_LEN];
    const char *id, *s;
    size_t len, kind;
    int64_t ms;
    uint8_t key[MS_ALOG_PK_LEN];
    if (strcmp(li->type, "log_start") != 0) {
        return "is not a log_start: this is not an audit log (or its first line was changed)";
    }
    if (li->seq != 0 || !ms_ct_equal(li->prev, zero, sizeof zero)) {
        return "is a log_start whose seq is not 0 or whose prev is not 64 zeros";
    }
    if (ms_json_get_enum(li->data, "kind", KINDS, N_KINDS, &kind) != MS_OK) {
        return "is a log_start without a known kind (minion, minions, chat, ask, supervisor)";
    }
    if (ms_json_get_str(li->data, "log_id", 2u * MS_ALOG_ID_LEN, &id, &len) != MS_OK ||
        !lower_hex(id, len, log_id, MS_ALOG_ID_LEN)) {
        return "is a log_start whose log_id is not 32 lowercase hex digits";
    }
    if (ms_json_get_str(li->data, "key", 8u + 2u * MS_ALOG_PK_LEN, &s, &len) != MS_OK ||
        len != 8u + 2u * MS_ALOG_PK_LEN || strncmp(s, "ed25519:", 8) != 0 ||
        !lower_hex(s + 8, len - 8u, key, MS_ALOG_PK_LEN)) {
        return "is a log_start whose key is not \"ed25519:\" and 64 lowercase hex digits";
    }
    if (ms_json_get_str(li->data, "program", MS_ALOG_MAX_PROGRAM, &s, &len) != MS_OK) {
        return "is a log_start without a program (a string of at most 128 bytes)";
    }
    if (ms_json_get_str(li->data, "started", MS_ALOG_TS_LEN, &s, &len) != MS_OK ||
        !ms_alog_ts_parse(s, len, &ms)) {
        return "is a log_start whose started is not a UTC time like 2026-11-21T08:00:00.123Z";
    }
    /* the report names a log only once its first line is whole */
    snprintf(r->kind, sizeof r->kind, "%s", KINDS[kind]);
    snprintf(r->log_id, sizeof r->log_id, "%s", id);
    memcpy(r->key, key, sizeof key);
    return NULL;
}

static bool is_checkpoint(const line_info *li)
{
    return strcmp(li->type, "log_checkpoint") == 0;
}

/* A seal's or a checkpoint's signature (each under its own domain). */
static bool sig_ok(const uint8_t pk[static MS_ALOG_PK_LEN], const uint8_t log_id[static MS_ALOG_ID_LEN],
                   const line_info *seal, const uint8_t prev_hash[static MS_ALOG_HASH_LEN],
                   const uint8_t sig[static MS_ALOG_SIG_LEN])
{
    uint8_t msg[MS_ALOG_CHECKPOINT_MSG_LEN > MS_ALOG_SEAL_MSG_LEN ? MS_ALOG_CHECKPOINT_MSG_LEN
                                                                   : MS_ALOG_SEAL_MSG_LEN];
    size_t n = MS_ALOG_SEAL_MSG_LEN;
    if (is_checkpoint(seal)) {
        ms_alog_checkpoint_message(log_id, seal->seq, prev_hash, seal->ts, msg);
        n = MS_ALOG_CHECKPOINT_MSG_LEN;
    } else {
        ms_alog_seal_message(log_id, seal->seq, prev_hash, seal->ts, msg);
    }
    return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

/* The seal's data: exactly {"events": its seq, "sig": 128 lowercase hex}. */
static bool seal_fields(const line_info *li, uint8_t sig[static MS_ALOG_SIG_LEN])
{
    uint64_t events;
    const char *s;
    size_t len;
    return members_are(li->data, SEAL_MEMBERS, 2) &&
           ms_json_get_u64(li->data, "events", MS_ALOG_MAX_EVENTS, &events) == MS_OK &&
           events == li->seq &&
           ms_json_get_str(li->data, "sig", 2u * MS_ALOG_SIG_LEN, &s, &len) == MS_OK &&
           lower_hex(s, len, sig, MS_ALOG_SIG_LEN);
}

/* State of a walk over the lines. */
typedef struct walk {
    const uint8_t *log;
    size_t len;
    size_t off;                        /* after the current line */
    uint64_t i;                        /* 0-based index of the current line */
    uint8_t prev_hash[MS_ALOG_HASH_LEN]; /* SHA-256 of line i-1 */
    uint8_t hash[MS_ALOG_HASH_LEN];      /* SHA-256 of line i */
    uint8_t log_id[MS_ALOG_ID_LEN];
    const uint8_t *expected_pk;
    bool other_key; /* a checkpoint verified under the named key, which is not the expected one */
} walk;

/*
 * Line i's prev is not the hash of line i-1: say which line most likely changed. If line
 * i+1's prev is not line i's hash either, line i itself was edited (its prev); if line i is
 * a seal whose signature covers line i-1's real hash, the seal was edited. Otherwise line
 * i-1 (or lines between) changed. 1-based numbers in messages.
 */
static ms_err chain_break(walk *w, const line_info *li, ms_alog_report *r)
{
    uint64_t a = w->i, b = w->i + 1u; /* 1-based numbers of lines i-1 and i */
    uint8_t sig[MS_ALOG_SIG_LEN];
    if ((strcmp(li->type, "log_seal") == 0 || is_checkpoint(li)) && seal_fields(li, sig) &&
        sig_ok(r->key, w->log_id, li, w->prev_hash, sig)) {
        return judge(r, MS_ALOG_TAMPERED, b,
                     "line %llu (%s) was changed: its prev is not line %llu's hash, "
                     "though its signature covers line %llu",
                     (unsigned long long)b, is_checkpoint(li) ? "a checkpoint" : "the seal",
                     (unsigned long long)a, (unsigned long long)a);
    }
    size_t off = w->off;
    const uint8_t *p;
    size_t n;
    const char *problem;
    line_info next;
    if (ms_alog_line_next(w->log, w->len, &off, &p, &n) == MS_ALOG_LINE_OK) {
        TRY(parse_line(p, n, &next, &problem));
        bool edited = problem == NULL && !ms_ct_equal(next.prev, w->hash, MS_ALOG_HASH_LEN);
        line_free(&next);
        if (edited) {
            return judge(r, MS_ALOG_TAMPERED, b,
                         "line %llu was changed: its prev is not line %llu's hash, and line "
                         "%llu's prev is not its hash",
                         (unsigned long long)b, (unsigned long long)a, (unsigned long long)(b + 1u));
        }
    }
    return judge(r, MS_ALOG_TAMPERED, a,
                 "line %llu does not hash to line %llu's prev: line %llu was changed, or a line "
                 "between %llu and %llu was removed or inserted",
                 (unsigned long long)a, (unsigned long long)b, (unsigned long long)a,
                 (unsigned long long)a, (unsigned long long)b);
}

/*
 * The seal line must be exactly what the writer prints: the signature covers its ts, and
 * this covers every other byte (no extra spaces, no escapes, no other number forms).
 */
static bool seal_exact(const line_info *li, const uint8_t *p, size_t n)
{
    const char *type = is_checkpoint(li) ? "log_checkpoint" : "log_seal";
    char prev[MS_HEX_BUF_LEN(MS_ALOG_HASH_LEN)], want[512];
    const char *sig;
    size_t len;
    if (ms_hex_encode(li->prev, MS_ALOG_HASH_LEN, prev, sizeof prev, &len) != MS_OK ||
        ms_json_get_str(li->data, "sig", 2u * MS_ALOG_SIG_LEN, &sig, &len) != MS_OK) {
        return false;
    }
    int k = snprintf(want, sizeof want,
                     "{\"v\":1,\"seq\":%llu,\"ts\":\"%.24s\",\"type\":\"%s\",\"prev\":\"%s\","
                     "\"data\":{\"events\":%llu,\"sig\":\"%s\"}}",
                     (unsigned long long)li->seq, li->ts, type, prev, (unsigned long long)li->seq,
                     sig);
    return k > 0 && (size_t)k < sizeof want && (size_t)k == n && ms_ct_equal(want, p, n);
}

/* The seal line (already chained): its fields, its signature, and nothing after it. */
static ms_err check_seal(walk *w, const line_info *li, const uint8_t *p, size_t n,
                         ms_alog_report *r)
{
    uint64_t b = w->i + 1u;
    uint8_t sig[MS_ALOG_SIG_LEN];
    char fp_log[MS_FINGERPRINT_LEN], fp_want[MS_FINGERPRINT_LEN];
    if (!seal_fields(li, sig)) {
        return judge(r, MS_ALOG_TAMPERED, b,
                     "line %llu (the seal) does not hold exactly events (its seq, %llu) and sig "
                     "(128 lowercase hex digits)",
                     (unsigned long long)b, (unsigned long long)li->seq);
    }
    if (!seal_exact(li, p, n)) {
        return judge(r, MS_ALOG_TAMPERED, b,
                     "line %llu (the seal) is not in the exact form the writer prints "
                     "(docs/logs.md): it was edited",
                     (unsigned long long)b);
    }
    bool other = w->expected_pk != NULL && !ms_ct_equal(w->expected_pk, r->key, MS_ALOG_PK_LEN);
    const uint8_t *pk = other || w->expected_pk == NULL ? r->key : w->expected_pk;
    if (!sig_ok(pk, w->log_id, li, w->prev_hash, sig)) {
        return judge(r, MS_ALOG_TAMPERED, b,
                     "line %llu (the seal): its signature does not verify under the key the "
                     "log names: the log was changed after it was sealed",
                     (unsigned long long)b);
    }
    r->events = b;
    if (w->off < w->len) {
        return judge(r, MS_ALOG_TAMPERED, b + 1u,
                     "line %llu follows the seal (line %llu): nothing may be added after a seal",
                     (unsigned long long)(b + 1u), (unsigned long long)b);
    }
    if (other) {
        ms_devkey_fingerprint(r->key, fp_log);
        ms_devkey_fingerprint(w->expected_pk, fp_want);
        return judge(r, MS_ALOG_WRONG_KEY, b,
                     "sealed by %s (the key the log names), not by the expected key %s", fp_log,
                     fp_want);
    }
    return judge(r, MS_ALOG_VALID, 0, "intact and sealed");
}

/*
 * A checkpoint line (already chained): the seal's fields and exact form, its signature
 * under the key the log names. It is remembered; the log goes on. *done on a verdict.
 */
static ms_err check_checkpoint(walk *w, const line_info *li, const uint8_t *p, size_t n,
                               ms_alog_report *r, bool *done)
{
    uint64_t b = w->i + 1u;
    uint8_t sig[MS_ALOG_SIG_LEN];
    *done = true;
    if (!seal_fields(li, sig)) {
        return judge(r, MS_ALOG_TAMPERED, b,
                     "line %llu (a checkpoint) does not hold exactly events (its seq, %llu) and "
                     "sig (128 lowercase hex digits)",
                     (unsigned long long)b, (unsigned long long)li->seq);
    }
    if (!seal_exact(li, p, n)) {
        return judge(r, MS_ALOG_TAMPERED, b,
                     "line %llu (a checkpoint) is not in the exact form the writer prints "
                     "(docs/logs.md): it was edited",
                     (unsigned long long)b);
    }
    if (!sig_ok(r->key, w->log_id, li, w->prev_hash, sig)) {
        return judge(r, MS_ALOG_TAMPERED, b,
                     "line %llu (a checkpoint): its signature does not verify under the key the "
                     "log names: the lines before it were changed, or it was forged",
                     (unsigned long long)b);
    }
    w->other_key = w->expected_pk != NULL && !ms_ct_equal(w->expected_pk, r->key, MS_ALOG_PK_LEN);
    r->checkpoint_line = b;
    snprintf(r->checkpoint_ts, sizeof r->checkpoint_ts, "%.24s", li->ts);
    *done = false;
    return MS_OK;
}

/* One complete line (index w->i). *done when a verdict was given. */
static ms_err check_line(walk *w, const uint8_t *p, size_t n, ms_alog_report *r, bool *done)
{
    ms_err err = MS_OK;
    const char *problem;
    line_info li;
    uint64_t b = w->i + 1u;
    *done = true;
    crypto_hash_sha256(w->hash, p, n);
    TRY(parse_line(p, n, &li, &problem));
    if (w->i == 0) {
        if (problem == NULL) {
            problem = check_start(&li, r, w->log_id);
        }
        if (problem != NULL) {
            err = judge(r, MS_ALOG_MALFORMED, 1, "line 1 %s", problem);
            goto out;
        }
    } else if (problem != NULL) {
        err = judge(r, MS_ALOG_TAMPERED, b, "line %llu %s", (unsigned long long)b, problem);
        goto out;
    } else if (li.seq != w->i) {
        err = judge(r, MS_ALOG_TAMPERED, b,
                    "line %llu has seq %llu, expected %llu: a line before it was removed or "
                    "inserted, or lines were reordered",
                    (unsigned long long)b, (unsigned long long)li.seq, (unsigned long long)w->i);
        goto out;
    } else if (strcmp(li.type, "log_start") == 0) {
        err = judge(r, MS_ALOG_TAMPERED, b,
                    "line %llu is a second log_start: another log was joined to this one",
                    (unsigned long long)b);
        goto out;
    } else if (strncmp(li.type, "log_", 4) == 0 && strcmp(li.type, "log_seal") != 0 &&
               !is_checkpoint(&li)) {
        err = judge(r, MS_ALOG_TAMPERED, b,
                    "line %llu has a type in the log's own log_ namespace that the writer never "
                    "uses: it was edited",
                    (unsigned long long)b);
        goto out;
    } else if (!ms_ct_equal(li.prev, w->prev_hash, MS_ALOG_HASH_LEN)) {
        err = chain_break(w, &li, r);
        goto out;
    } else if (strcmp(li.type, "log_seal") == 0) {
        err = check_seal(w, &li, p, n, r);
        goto out;
    } else if (is_checkpoint(&li)) {
        err = check_checkpoint(w, &li, p, n, r, done);
        if (*done) {
            goto out;
        }
    }
    r->events = b;
    *done = false;
out:
    line_free(&li);
    return err;
}

/*
 * The log ends without a seal, at line `line` (1-based; `what` says how). After a
 * checkpoint that is PARTIAL: valid up to it, then incomplete (WRONG_KEY when the
 * checkpoints are by another key than the expected one); else INCOMPLETE (the caller's
 * words). Returns MS_OK with *judged when it gave the verdict.
 */
static ms_err end_after_checkpoint(const walk *w, uint64_t line, const char *what,
                                   ms_alog_report *r, bool *judged)
{
    char fp_log[MS_FINGERPRINT_LEN], fp_want[MS_FINGERPRINT_LEN];
    *judged = r->checkpoint_line > 0;
    if (!*judged) {
        return MS_OK;
    }
    if (w->other_key) {
        ms_devkey_fingerprint(r->key, fp_log);
        ms_devkey_fingerprint(w->expected_pk, fp_want);
        return judge(r, MS_ALOG_WRONG_KEY, r->checkpoint_line,
                     "checkpointed by %s (the key the log names), not by the expected key %s",
                     fp_log, fp_want);
    }
    return judge(r, MS_ALOG_PARTIAL, line,
                 "valid up to line %llu (checkpoint at %s), then incomplete: %s; what follows "
                 "line %llu is not covered by a signature",
                 (unsigned long long)r->checkpoint_line, r->checkpoint_ts, what,
                 (unsigned long long)r->checkpoint_line);
}

/* The last line has no '\n'. Line 1 must at least start like a log. */
static ms_err cut_line(const walk *w, const uint8_t *p, size_t n, ms_alog_report *r)
{
    uint64_t b = w->i + 1u;
    bool judged;
    size_t k = n < sizeof LINE0_PREFIX - 1u ? n : sizeof LINE0_PREFIX - 1u;
    if (w->i == 0 && !ms_ct_equal(p, LINE0_PREFIX, k)) {
        return judge(r, MS_ALOG_MALFORMED, 1, "line 1 is not a log_start: this is not an audit log");
    }
    TRY(end_after_checkpoint(w, b, "the last line is cut short (no newline at the end) and no "
                                   "seal follows",
                             r, &judged));
    if (judged) {
        return MS_OK;
    }
    return judge(r, MS_ALOG_INCOMPLETE, b,
                 "line %llu is cut short (the file does not end with a newline): the program "
                 "stopped while writing it, or the file was cut; the log has no seal",
                 (unsigned long long)b);
}

ms_err ms_alog_verify(const uint8_t *log, size_t len, const uint8_t *expected_pk,
                      ms_alog_report *out)
{
    memset(out, 0, sizeof *out);
    /* Fail closed: an error return (or a path that forgot its verdict) never reads as VALID. */
    judge(out, MS_ALOG_MALFORMED, 0, "not verified");
    ENSURE(log != NULL || len == 0, MS_ERR_ARG);
    ENSURE(sodium_init() >= 0, MS_ERR_CRYPTO_INIT);
    walk w = {.log = log, .len = len, .expected_pk = expected_pk};
    if (len > MS_ALOG_MAX_FILE) {
        return judge(out, MS_ALOG_MALFORMED, 0, "the file is larger than the %u MiB cap of a log",
                     MS_ALOG_MAX_FILE >> 20);
    }
    if (len == 0) {
        return judge(out, MS_ALOG_INCOMPLETE, 1,
                     "the log is empty: the program stopped before writing line 1");
    }
    for (;; w.i++) {
        const uint8_t *p;
        size_t n;
        bool done;
        uint64_t b = w.i + 1u;
        ms_alog_line_status st = ms_alog_line_next(log, len, &w.off, &p, &n);
        if (st == MS_ALOG_LINE_END) {
            bool judged;
            TRY(end_after_checkpoint(&w, w.i, "no seal follows the last line", out, &judged));
            if (judged) {
                return MS_OK;
            }
            return judge(out, MS_ALOG_INCOMPLETE, w.i,
                         "line %llu is the last line and no seal follows it: the program "
                         "stopped (crash, kill) or the log was cut at a line end",
                         (unsigned long long)w.i);
        }
        if (w.i >= MS_ALOG_MAX_EVENTS) {
            return judge(out, MS_ALOG_TAMPERED, b, "line %llu is beyond the cap of %u lines",
                         (unsigned long long)b, MS_ALOG_MAX_EVENTS);
        }
        if (st == MS_ALOG_LINE_CUT) {
            return cut_line(&w, p, n, out);
        }
        if (st == MS_ALOG_LINE_LONG) {
            return judge(out, w.i == 0 ? MS_ALOG_MALFORMED : MS_ALOG_TAMPERED, b,
                         "line %llu is longer than the %u MiB cap of a line",
                         (unsigned long long)b, MS_ALOG_MAX_LINE >> 20);
        }
        TRY(check_line(&w, p, n, out, &done));
        if (done) {
            return MS_OK;
        }
        memcpy(w.prev_hash, w.hash, sizeof w.hash);
    }
}

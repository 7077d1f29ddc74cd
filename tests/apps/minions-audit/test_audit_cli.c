/* minions-audit end to end: the real program on logs written by the library, and the doc's Python verifier. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "tests/fixture/proc.h"
#include "tests/test.h"

static const char *audit_bin, *source_dir;
static char dir[PATH_MAX];
static ms_alog_key key_a, key_b;
static char pub_a[PATH_MAX], pub_b[PATH_MAX];

/* --- a log with every event type of the vocabulary --------------------------------------- */

static ms_json_builder *obj(ms_json_wval *root)
{
    ms_json_builder *b = NULL;
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, root));
    return b;
}

static void put(ms_alog *l, const char *type, ms_json_builder *b)
{
    CHECK_OK(ms_alog_event(l, type, b));
    ms_json_builder_free(b);
}

static void usage(ms_json_wval parent, const char *key, int p, int c)
{
    ms_json_wval u;
    CHECK_OK(ms_json_add_obj(parent, key, &u));
    CHECK_OK(ms_json_add_i64(u, "prompt_tokens", p));
    CHECK_OK(ms_json_add_i64(u, "completion_tokens", c));
}

static void demo_log(const char *path, const ms_alog_key *k)
{
    ms_alog *l;
    ms_json_wval r, w, t;
    ms_json_builder *b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "program", "minions-secure 0.2.0"));
    CHECK_OK(ms_alog_open(&l, path, k, "minions", b));
    ms_json_builder_free(b);

    b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "supervisor_url", "https://127.0.0.1:8443"));
    CHECK_OK(ms_json_add_cstr(r, "session_id", "5f2a9c0e4b7d11aa5f2a9c0e4b7d11aa"));
    CHECK_OK(ms_json_add_cstr(r, "evidence_type", "dev-key"));
    CHECK_OK(ms_json_add_cstr(r, "evidence_mode", "FAST"));
    CHECK_OK(ms_json_add_i64(r, "evidence_not_after", 1795248300));
    CHECK_OK(ms_json_add_cstr(r, "evidence_sha256", "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"));
    CHECK_OK(ms_json_add_cstr(r, "transcript_hash", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    CHECK_OK(ms_json_add_cstr(r, "tls", "pinned"));
    CHECK_OK(ms_json_add_cstr(r, "tls_spki_sha256", "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"));
    CHECK_OK(ms_json_add_cstr(r, "dev_key_fp", "sha256:1234"));
    CHECK_OK(ms_json_add_cstr(r, "policy", "dev-key"));
    CHECK_OK(ms_json_add_cstr(r, "proved", "the supervisor holds the pinned dev key; not what host runs it"));
    CHECK_OK(ms_json_add_double(r, "handshake_s", 0.512));
    put(l, "session", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "protocol", "minions"));
    CHECK_OK(ms_json_add_cstr(r, "task", "What was the total revenue in 2023?\nAnd in 2022?"));
    CHECK_OK(ms_json_add_cstr(r, "context_summary", "2 documents, 120 KiB"));
    CHECK_OK(ms_json_add_obj(r, "worker", &w));
    CHECK_OK(ms_json_add_cstr(w, "kind", "ollama"));
    CHECK_OK(ms_json_add_cstr(w, "model", "llama3.2"));
    CHECK_OK(ms_json_add_i64(r, "max_rounds", 3));
    CHECK_OK(ms_json_add_i64(r, "jobs", 8));
    put(l, "task", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "round", 1));
    CHECK_OK(ms_json_add_bool(r, "refused", false)); /* as the Minions writer logs it */
    CHECK_OK(ms_json_add_i64(r, "chunks", 50));
    CHECK_OK(ms_json_add_i64(r, "jobs", 200));
    put(l, "plan", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "round", 1));
    CHECK_OK(ms_json_add_i64(r, "total", 200));
    CHECK_OK(ms_json_add_i64(r, "ok", 198));
    CHECK_OK(ms_json_add_i64(r, "failed", 0));
    CHECK_OK(ms_json_add_i64(r, "timed_out", 2));
    CHECK_OK(ms_json_add_double(r, "seconds", 12.5));
    usage(r, "usage", 1000, 200);
    put(l, "jobs", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "round", 2));
    CHECK_OK(ms_json_add_cstr(r, "sent", "..."));
    CHECK_OK(ms_json_add_cstr(r, "reply", "{\"decision\": \"provide_final_answer\"}"));
    usage(r, "usage", 120, 40);
    CHECK_OK(ms_json_add_obj(r, "timings", &t));
    CHECK_OK(ms_json_add_double(t, "seal_s", 0.0001));
    CHECK_OK(ms_json_add_double(t, "transport_s", 1.19));
    CHECK_OK(ms_json_add_double(t, "open_s", 0.0001));
    CHECK_OK(ms_json_add_double(t, "total_s", 1.2));
    CHECK_OK(ms_json_add_i64(r, "rehandshakes", 0));
    put(l, "supervisor_turn", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "round", 2));
    CHECK_OK(ms_json_add_cstr(r, "who", "worker"));
    CHECK_OK(ms_json_add_cstr(r, "problem", "no JSON object in the reply"));
    put(l, "format_retry", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "round", 1));
    CHECK_OK(ms_json_add_cstr(r, "question", "Which year?"));
    CHECK_OK(ms_json_add_cstr(r, "answer", "The report covers 2023."));
    usage(r, "usage", 300, 20);
    CHECK_OK(ms_json_add_double(r, "seconds", 2.5));
    put(l, "worker_turn", b);

    /* untrusted text with a terminal escape and a bidi override */
    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "turn", 1));
    CHECK_OK(ms_json_add_cstr(r, "user", "hi \x1b[31mRED"));
    CHECK_OK(ms_json_add_cstr(r, "reply", "ok \xe2\x80\xae desrever"));
    CHECK_OK(ms_json_add_bool(r, "ok", true));
    CHECK_OK(ms_json_add_bool(r, "cut", true));
    CHECK_OK(ms_json_add_double(r, "seconds", 0.25));
    put(l, "chat_turn", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "code", "MS_ERR_HTTP_CONNECT"));
    CHECK_OK(ms_json_add_cstr(r, "message", "cannot connect to the server"));
    put(l, "error", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "command", "/system"));
    CHECK_OK(ms_json_add_cstr(r, "detail", "be brief"));
    put(l, "chat_command", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "session_id", "abcd"));
    CHECK_OK(ms_json_add_cstr(r, "client_key_fp", "sha256:99"));
    CHECK_OK(ms_json_add_cstr(r, "evidence_id", "ev1"));
    CHECK_OK(ms_json_add_cstr(r, "mode", "FAST"));
    CHECK_OK(ms_json_add_i64(r, "requests", 3));
    CHECK_OK(ms_json_add_i64(r, "records_in", 3));
    CHECK_OK(ms_json_add_i64(r, "records_out", 4));
    CHECK_OK(ms_json_add_i64(r, "bytes_in", 1200));
    CHECK_OK(ms_json_add_i64(r, "bytes_out", 3400));
    CHECK_OK(ms_json_add_double(r, "duration_s", 4.2));
    CHECK_OK(ms_json_add_cstr(r, "outcome", "closed"));
    put(l, "session_end", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "sessions_total", 1));
    put(l, "supervisor_stop", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "a", 1));
    put(l, "custom_thing", b);

    b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "outcome", "answer"));
    CHECK_OK(ms_json_add_cstr(r, "answer", "The total revenue was $1.2M.\nIn 2022 it was $1.0M."));
    CHECK_OK(ms_json_add_i64(r, "rounds", 3));
    CHECK_OK(ms_json_add_double(r, "seconds", 15.2));
    usage(r, "usage_local", 1000, 200);
    usage(r, "usage_remote", 300, 90);
    CHECK_OK(ms_json_add_i64(r, "exit_code", 0));
    put(l, "final", b);
    CHECK_OK(ms_alog_close(l));
}

/* A session event as apps/minions-secure/session_log.c writes it for attested evidence. */
static void attested_session(ms_alog *l, const char *type, const char *digest, const char *proved)
{
    ms_json_wval r, pol, acc;
    ms_json_builder *b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "supervisor_url", "https://10.0.0.5:8443"));
    CHECK_OK(ms_json_add_cstr(r, "session_id", "00112233445566778899aabbccddeeff"));
    CHECK_OK(ms_json_add_cstr(r, "evidence_type", type));
    CHECK_OK(ms_json_add_cstr(r, "evidence_mode", "STRICT"));
    CHECK_OK(ms_json_add_i64(r, "evidence_not_after", 1795248300));
    CHECK_OK(ms_json_add_cstr(r, "evidence_sha256", digest));
    CHECK_OK(ms_json_add_cstr(r, "transcript_hash", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    CHECK_OK(ms_json_add_cstr(r, "tls", "pinned"));
    CHECK_OK(ms_json_add_cstr(r, "tls_spki_sha256", "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"));
    CHECK_OK(ms_json_add_null(r, "dev_key_fp"));
    CHECK_OK(ms_json_add_obj(r, "policy", &pol));
    CHECK_OK(ms_json_add_cstr(pol, "file", "/etc/minions/policy.json"));
    CHECK_OK(ms_json_add_arr(pol, "accept", &acc));
    CHECK_OK(ms_json_add_cstr(acc, NULL, type));
    CHECK_OK(ms_json_add_bool(pol, "require_strict", true));
    CHECK_OK(ms_json_add_bool(r, "ok", true));
    CHECK_OK(ms_json_add_cstr(r, "proved", proved));
    CHECK_OK(ms_json_add_double(r, "handshake_s", 0.05));
    put(l, "session", b);
}

#define TPM_PROVED "a TPM 2.0 quote by the pinned attestation key over the policy's PCR values, " \
                   "bound to the supervisor's channel key"
#define TPM_DIGEST "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SNP_PROVED "an AMD SEV-SNP report from a chip certified by the pinned AMD root, with the " \
                   "policy's launch measurement, bound to the supervisor's channel key"
#define SNP_DIGEST "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

/* A chat log with attested sessions (TPM, SEV-SNP, a refused one) and text in other scripts. */
static void sessions_log(const char *path, const ms_alog_key *k)
{
    ms_alog *l;
    ms_json_wval r, pol, acc;
    ms_json_builder *b = obj(&r);
    CHECK_OK(ms_json_add_cstr(r, "program", "minions-secure 0.2.0"));
    CHECK_OK(ms_alog_open(&l, path, k, "chat", b));
    ms_json_builder_free(b);
    attested_session(l, "tpm2-quote", TPM_DIGEST, TPM_PROVED);

    b = obj(&r);
    CHECK_OK(ms_json_add_i64(r, "turn", 1));
    CHECK_OK(ms_json_add_cstr(r, "user", "Quel \xc3\xa9tait le total ? \xe5\xa3\xb2\xe4\xb8\x8a\xe9\xab\x98\xe3\x81\xaf?"));
    CHECK_OK(ms_json_add_cstr(r, "reply", "R\xc3\xa9ponse : 1,2 M\xe2\x82\xac\xe2\x80\x8b \xe2\x81\xa6x\xe2\x81\xa9"));
    CHECK_OK(ms_json_add_bool(r, "ok", true));
    CHECK_OK(ms_json_add_double(r, "seconds", 0.5));
    put(l, "chat_turn", b);

    attested_session(l, "sev-snp", SNP_DIGEST, SNP_PROVED);

    b = obj(&r); /* a handshake whose evidence the policy refused */
    CHECK_OK(ms_json_add_cstr(r, "supervisor_url", "https://10.0.0.6:8443"));
    CHECK_OK(ms_json_add_obj(r, "policy", &pol));
    CHECK_OK(ms_json_add_null(pol, "file"));
    CHECK_OK(ms_json_add_arr(pol, "accept", &acc));
    CHECK_OK(ms_json_add_cstr(acc, NULL, "tpm2-quote"));
    CHECK_OK(ms_json_add_cstr(acc, NULL, "sev-snp"));
    CHECK_OK(ms_json_add_bool(pol, "require_strict", false));
    CHECK_OK(ms_json_add_bool(r, "ok", false));
    CHECK_OK(ms_json_add_cstr(r, "proved", "nothing: the handshake failed"));
    CHECK_OK(ms_json_add_cstr(r, "error", "MS_ERR_ATTEST_POLICY"));
    CHECK_OK(ms_json_add_double(r, "handshake_s", 0.01));
    put(l, "session", b);
    CHECK_OK(ms_alog_close(l));
}

/* --- running the programs ---------------------------------------------------------------- */

typedef struct run {
    int code;
    ms_buf out, err;
} run;

static void run_free(run *r)
{
    ms_buf_free(&r->out);
    ms_buf_free(&r->err);
}

/* Run argv (NULL-terminated) and keep its status and output (NUL-terminated). */
static run run_argv(char *const argv[])
{
    run r;
    ms_buf_init(&r.out, 16u << 20);
    ms_buf_init(&r.err, 1u << 20);
    r.code = e2e_run(argv, 60000, dir, &r.out, &r.err);
    if (ms_buf_terminate(&r.out) != MS_OK || ms_buf_terminate(&r.err) != MS_OK) {
        r.code = -1;
    }
    return r;
}

static const char *out_of(const run *r)
{
    return r->out.p ? (const char *)r->out.p : "";
}

/* minions-audit with up to five arguments; under valgrind when MS_AUDIT_VALGRIND is set. */
static run audit(const char *a, const char *b, const char *c, const char *d, const char *e)
{
    char *argv[] = {"/usr/bin/valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                    "--errors-for-leak-kinds=definite,indirect", (char *)audit_bin, (char *)a,
                    (char *)b, (char *)c, (char *)d, (char *)e, NULL};
    return run_argv(getenv("MS_AUDIT_VALGRIND") ? argv : argv + 5);
}

static run python_verify(const char *log, const char *pub)
{
    char script[PATH_MAX];
    e2e_path(script, "%s/tests/secure/audit/verify_log.py", source_dir);
    char *argv[] = {"/usr/bin/python3", script, (char *)log, (char *)pub, NULL};
    return run_argv(argv);
}

static void file_copy(const char *from, const char *to, size_t cut, long flip_at)
{
    ms_buf t;
    ms_buf_init(&t, MS_ALOG_MAX_FILE);
    CHECK(e2e_file_read(from, &t) == 0);
    size_t n = cut < t.len ? cut : t.len;
    if (flip_at >= 0 && (size_t)flip_at < n) {
        t.p[flip_at] ^= 0x01;
    }
    FILE *f = fopen(to, "wb");
    CHECK(f != NULL && fwrite(t.p, 1, n, f) == n);
    if (f) {
        fclose(f);
    }
    ms_buf_free(&t);
}

/* Offset of the n-th (1-based) line's first byte of its "data" member. */
static long data_offset(const char *path, int line)
{
    ms_buf t;
    ms_buf_init(&t, MS_ALOG_MAX_FILE);
    CHECK(e2e_file_read(path, &t) == 0 && ms_buf_terminate(&t) == MS_OK);
    const char *p = (const char *)t.p;
    for (int i = 1; i < line && p; i++) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    const char *d = p ? strstr(p, "\"data\":{") : NULL;
    long off = d ? (long)(d + 9 - (const char *)t.p) : -1;
    ms_buf_free(&t);
    return off;
}

/* --- tests -------------------------------------------------------------------------------- */

static char log_demo[PATH_MAX], log_b[PATH_MAX], log_flip[PATH_MAX], log_cut[PATH_MAX];
static char log_sessions[PATH_MAX];

/* Characters that must never reach a terminal raw: controls, and those that hide or reorder text. */
static bool unsafe_cp(uint32_t cp)
{
    return (cp < 0x20 && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

/* The output is valid UTF-8 whose only control byte is '\n' and that hides nothing. */
static bool terminal_safe(const ms_buf *out)
{
    const uint8_t *p = out->p;
    size_t i = 0;
    while (i < out->len) {
        uint8_t c = p[i];
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if ((c >= 0x80 && c < 0xC2) || c > 0xF4 || i + n > out->len) {
            return false;
        }
        uint32_t cp = n == 1 ? c : c & (0x7Fu >> n);
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || unsafe_cp(cp)) {
            return false;
        }
        i += n;
    }
    return true;
}

static void test_help_version(void)
{
    run r = audit("--help", NULL, NULL, NULL, NULL);
    CHECK(r.code == 0 && strstr(out_of(&r), "Usage: minions-audit verify") == out_of(&r));
    CHECK(strstr(out_of(&r), "Verdicts and exit status:") != NULL);
    CHECK(strstr(out_of(&r), "  3  INCOMPLETE") != NULL);
    run_free(&r);
    r = audit("--version", NULL, NULL, NULL, NULL);
    CHECK(r.code == 0 && strncmp(out_of(&r), "minions-audit ", 14) == 0);
    run_free(&r);
    r = audit("verify", "--bogus", log_demo, NULL, NULL);
    CHECK(r.code == 2 && strstr((const char *)r.err.p, "unknown option: --bogus") != NULL);
    run_free(&r);
    r = audit("verify", NULL, NULL, NULL, NULL);
    CHECK(r.code == 2);
    run_free(&r);
    r = audit("frobnicate", NULL, NULL, NULL, NULL);
    CHECK(r.code == 2);
    run_free(&r);
}

static void test_verify_statuses(void)
{
    run r = audit("verify", log_demo, NULL, NULL, NULL);
    CHECK(r.code == 0);
    CHECK(strstr(out_of(&r), ": VALID: intact and sealed (16 lines, minions log ") != NULL);
    CHECK(strstr(out_of(&r), "NOT checked against a trusted key") != NULL);
    char fp[MS_FINGERPRINT_LEN];
    ms_devkey_fingerprint(key_a.pk, fp);
    CHECK(strstr(out_of(&r), fp) != NULL);
    run_free(&r);

    r = audit("key", pub_a, NULL, NULL, NULL);
    CHECK(r.code == 0 && strncmp(out_of(&r), fp, strlen(fp)) == 0);
    run_free(&r);

    r = audit("verify", "--key", pub_a, log_demo, NULL);
    CHECK(r.code == 0 && strstr(out_of(&r), "(the expected key)") != NULL);
    CHECK(strstr(out_of(&r), "NOT checked") == NULL);
    run_free(&r);

    r = audit("verify", "--key", pub_a, log_b, NULL);
    CHECK(r.code == 1 && strstr(out_of(&r), ": WRONG KEY: sealed by sha256:") != NULL);
    run_free(&r);

    r = audit("verify", log_flip, NULL, NULL, NULL);
    CHECK(r.code == 1);
    CHECK(strstr(out_of(&r), ": TAMPERED at line 4: line 4 does not hash to line 5's prev: line 4 "
                             "was changed, or a line between 4 and 5 was removed or inserted") != NULL);
    run_free(&r);

    r = audit("verify", log_cut, NULL, NULL, NULL);
    CHECK(r.code == 3 && strstr(out_of(&r), ": INCOMPLETE at line 10: line 10 is cut short") != NULL);
    run_free(&r);

    char missing[PATH_MAX];
    e2e_path(missing, "%s/missing.log", dir);
    r = audit("verify", log_demo, missing, NULL, NULL);
    CHECK(r.code == 2 && strstr(out_of(&r), "missing.log: cannot read the log") != NULL);
    run_free(&r);
    /* the worst status wins: tampered over unreadable over incomplete */
    r = audit("verify", log_cut, missing, log_flip, log_demo);
    CHECK(r.code == 1);
    run_free(&r);
    r = audit("verify", log_cut, log_demo, NULL, NULL);
    CHECK(r.code == 3);
    run_free(&r);
    r = audit("verify", "--key", missing, log_demo, NULL);
    CHECK(r.code == 2 && strstr((const char *)r.err.p, "cannot use the key file") != NULL);
    run_free(&r);
}

static void test_verify_json(void)
{
    run r = audit("verify", "--json", "--key", pub_a, log_flip);
    ms_json_doc *doc = NULL;
    ms_json_val logs, first;
    size_t n;
    const char *s;
    size_t len;
    uint64_t line;
    bool checked;
    CHECK(r.code == 1);
    CHECK_OK(ms_json_parse(out_of(&r), r.out.len, &doc));
    CHECK_OK(ms_json_get_arr(ms_json_root(doc), "logs", 10, &logs, &n));
    CHECK(n == 1);
    CHECK_OK(ms_json_arr_at(logs, 0, &first));
    CHECK_OK(ms_json_get_str(first, "verdict", 32, &s, &len));
    CHECK(strcmp(s, "tampered") == 0);
    CHECK_OK(ms_json_get_u64(first, "bad_line", 100, &line));
    CHECK(line == 4);
    CHECK_OK(ms_json_get_bool(first, "key_checked", &checked));
    CHECK(checked);
    CHECK_OK(ms_json_get_str(first, "key_fingerprint", 80, &s, &len));
    CHECK(strncmp(s, "sha256:", 7) == 0 && len == 71);
    ms_json_free(doc);
    run_free(&r);
}

static void test_show(void)
{
    run r = audit("show", log_demo, NULL, NULL, NULL);
    const char *o = out_of(&r);
    CHECK(r.code == 0);
    const char *verdict = strstr(o, "verdict  VALID");
    const char *first_event = strstr(o, "log started: minions log by minions-secure 0.2.0");
    CHECK(verdict != NULL && first_event != NULL && verdict < first_event); /* verdict first */
    CHECK(strstr(o, "verified https://127.0.0.1:8443: dev-key (FAST) evidence valid until "
                    "2026-11-21 08:05:00 UTC; TLS key pinned (sha256 fedcba9876543210...); "
                    "session 5f2a9c0e4b7d11aa5f2a9c0e4b7d11aa; handshake 512.0 ms") != NULL);
    CHECK(strstr(o, "proved: the supervisor holds the pinned dev key; not what host runs it") != NULL);
    CHECK(strstr(o, "task (minions): \"What was the total revenue in 2023?...\"; worker ollama "
                    "llama3.2; up to 3 rounds, 8 parallel jobs") != NULL);
    CHECK(strstr(o, "round 1: plan: 50 chunks, 200 jobs") != NULL);
    CHECK(strstr(o, "plan refused") == NULL); /* "refused": false is an accepted plan */
    CHECK(strstr(o, "round 1: 200 jobs, 198 ok, 2 timed out (12.5 s; 1000+200 tokens)") != NULL);
    CHECK(strstr(o, "round 2: supervisor replied (1.20 s: seal 0.1 ms, transport 1.19 s, open "
                    "0.1 ms; 120+40 tokens)") != NULL);
    CHECK(strstr(o, "round 2: the worker's reply was not usable (no JSON object in the reply): "
                    "asked again") != NULL);
    CHECK(strstr(o, "turn 1: \"hi \\x1B[31mRED\" -> \"ok \\u{202E} desrever\" (250.0 ms); CUT SHORT") != NULL);
    CHECK(strstr(o, "pinned dev key sha256:1234; evidence sha256 aa11bb22cc33dd44...; handshake "
                    "transcript 0123456789abcdef...") != NULL);
    CHECK(strstr(o, "error MS_ERR_HTTP_CONNECT: cannot connect to the server") != NULL);
    CHECK(strstr(o, "custom_thing: {\"a\":1}") != NULL);
    CHECK(strstr(o, "round 1: worker answered (2.50 s; 300+20 tokens): The report covers 2023.") != NULL);
    CHECK(strstr(o, "command /system: be brief") != NULL);
    CHECK(strstr(o, "session abcd closed: 3 requests, records 3 in / 4 out, bytes 1200 in / 3400 "
                    "out, lasted 4.20 s\n") != NULL);
    CHECK(strstr(o, "client key sha256:99; evidence ev1 (FAST)") != NULL);
    CHECK(strstr(o, "supervisor stopped after 1 session\n") != NULL);
    CHECK(strstr(o, "ANSWER after 3 rounds: The total revenue was $1.2M....\n") != NULL);
    CHECK(strstr(o, "every line below is verified") != NULL);
    CHECK(strstr(o, "in total 15.2 s; local 1000+200 tokens; remote 300+90 tokens") != NULL);
    CHECK(strstr(o, "log sealed by the log key (15 lines before the seal)") != NULL);
    CHECK(strstr(o, "     +0.") != NULL);
    /* nothing from the log reaches the terminal raw */
    CHECK(terminal_safe(&r.out));
    run_free(&r);

    r = audit("show", log_flip, NULL, NULL, NULL);
    o = out_of(&r);
    CHECK(r.code == 1 && strstr(o, "verdict  TAMPERED at line 4") != NULL);
    CHECK(strstr(o, "  ---- line 4: TAMPERED: line 4 does not hash") != NULL);
    CHECK(strstr(o, "\n! ") != NULL && strstr(o, "NOT VERIFIED") != NULL);
    run_free(&r);

    r = audit("show", log_cut, NULL, NULL, NULL);
    CHECK(r.code == 3 && strstr(out_of(&r), "(line 10 is cut short: not shown)") != NULL);
    run_free(&r);

    r = audit("show", "--json", log_demo, NULL, NULL);
    ms_json_doc *doc = NULL;
    ms_json_val rep, events, e;
    size_t n, len;
    const char *s;
    CHECK(r.code == 0);
    CHECK_OK(ms_json_parse(out_of(&r), r.out.len, &doc));
    CHECK_OK(ms_json_get_obj(ms_json_root(doc), "report", &rep));
    CHECK_OK(ms_json_get_str(rep, "verdict", 32, &s, &len));
    CHECK(strcmp(s, "valid") == 0);
    CHECK_OK(ms_json_get_arr(ms_json_root(doc), "events", 100, &events, &n));
    CHECK(n == 16);
    CHECK_OK(ms_json_arr_at(events, 1, &e));
    CHECK_OK(ms_json_get_str(e, "type", 32, &s, &len));
    CHECK(strcmp(s, "session") == 0);
    ms_json_free(doc);
    run_free(&r);
    r = audit("show", log_demo, log_b, NULL, NULL);
    CHECK(r.code == 2);
    run_free(&r);
}

/* Sessions by evidence type: TPM and SEV-SNP by their digest (never "dev key ?"); UTF-8 kept. */
static void test_show_sessions(void)
{
    run r = audit("show", "--key", pub_a, log_sessions, NULL);
    const char *o = out_of(&r);
    CHECK(r.code == 0);
    CHECK(strstr(o, "verified https://10.0.0.5:8443: tpm2-quote (STRICT) evidence valid until "
                    "2026-11-21 08:05:00 UTC; TLS key pinned (sha256 fedcba9876543210...); "
                    "session 00112233445566778899aabbccddeeff; handshake 50.0 ms\n") != NULL);
    CHECK(strstr(o, "proved: " TPM_PROVED "\n") != NULL); /* the whole sentence */
    CHECK(strstr(o, "TPM 2.0 quote, sha256 " TPM_DIGEST "; handshake transcript "
                    "0123456789abcdef...\n") != NULL);
    CHECK(strstr(o, "policy /etc/minions/policy.json: accepts tpm2-quote; STRICT required\n") != NULL);
    CHECK(strstr(o, "verified https://10.0.0.5:8443: sev-snp (STRICT) evidence") != NULL);
    CHECK(strstr(o, "proved: " SNP_PROVED "\n") != NULL);
    CHECK(strstr(o, "SEV-SNP report, sha256 " SNP_DIGEST "; handshake transcript ") != NULL);
    CHECK(strstr(o, "dev key") == NULL);
    CHECK(strstr(o, "handshake with https://10.0.0.6:8443 FAILED: MS_ERR_ATTEST_POLICY (after "
                    "10.0 ms); nothing proved, nothing sent in the channel\n") != NULL);
    CHECK(strstr(o, "policy (built in): accepts tpm2-quote, sev-snp\n") != NULL);
    /* accented letters, CJK and the euro sign kept; zero-width space and bidi isolates escaped */
    CHECK(strstr(o, "turn 1: \"Quel \xc3\xa9tait le total ? \xe5\xa3\xb2\xe4\xb8\x8a\xe9\xab\x98\xe3\x81\xaf?\" -> "
                    "\"R\xc3\xa9ponse : 1,2 M\xe2\x82\xac\\u{200B} \\u{2066}x\\u{2069}\" (500.0 ms)") != NULL);
    CHECK(terminal_safe(&r.out));
    run_free(&r);
}

/* The doc's Python verifier (tests/secure/audit/verify_log.py, quoted in docs/logs.md) agrees. */
static void test_python_verifier(void)
{
    run r = python_verify(log_demo, pub_a);
    CHECK(r.code == 0 && strstr(out_of(&r), "valid") != NULL);
    if (r.code != 0) {
        fprintf(stderr, "%s%s", out_of(&r), (const char *)r.err.p);
    }
    run_free(&r);
    r = python_verify(log_b, pub_a);
    CHECK(r.code == 1 && strstr(out_of(&r), "wrong_key") != NULL);
    run_free(&r);
    r = python_verify(log_flip, pub_a);
    CHECK(r.code == 1 && strstr(out_of(&r), "tampered at line 4") != NULL);
    run_free(&r);
    r = python_verify(log_cut, pub_a);
    CHECK(r.code == 3 && strstr(out_of(&r), "incomplete at line 10") != NULL);
    run_free(&r);
}

/* A crashed log with a checkpoint every 3 lines: log_start, e, e, C(4), e (5 lines). */
static void partial_log(const char *path)
{
    ms_alog *l;
    CHECK_OK(ms_alog_open(&l, path, &key_a, "chat", NULL));
    CHECK_OK(ms_alog_set_checkpoints(l, 3, 0));
    static const char turn[] = "{\"turn\":1,\"user\":\"hi\"}";
    for (int i = 0; i < 3; i++) {
        CHECK_OK(ms_alog_event_json(l, "chat_turn", turn, sizeof turn - 1));
    }
    ms_alog_abandon(l);
}

/* "valid up to line L (checkpoint at TIME), then incomplete": exit 4, in text, JSON, show,
 * and the Python verifier. */
static void test_partial(void)
{
    char partial[PATH_MAX];
    e2e_path(partial, "%s/partial.log", dir);
    partial_log(partial);
    run r = audit("verify", "--key", pub_a, partial, NULL);
    CHECK(r.code == 4);
    CHECK(strstr(out_of(&r), ": PARTIAL: valid up to line 4 (checkpoint at 20") != NULL);
    CHECK(strstr(out_of(&r), "), then incomplete: no seal follows the last line") != NULL);
    CHECK(strstr(out_of(&r), "lines 1 to 4 are proven") != NULL);
    run_free(&r);
    r = audit("verify", "--key", pub_b, partial, NULL);
    CHECK(r.code == 1 && strstr(out_of(&r), ": WRONG KEY: checkpointed by sha256:") != NULL);
    run_free(&r);
    /* the worst status: incomplete (3) over partial (4) over valid (0) */
    r = audit("verify", partial, log_demo, NULL, NULL);
    CHECK(r.code == 4);
    run_free(&r);
    r = audit("verify", partial, log_cut, log_demo, NULL);
    CHECK(r.code == 3);
    run_free(&r);
    r = audit("verify", "--json", partial, NULL, NULL);
    ms_json_doc *doc = NULL;
    ms_json_val logs, first;
    size_t n, len;
    const char *v;
    uint64_t line;
    CHECK(r.code == 4);
    CHECK_OK(ms_json_parse(out_of(&r), r.out.len, &doc));
    CHECK_OK(ms_json_get_arr(ms_json_root(doc), "logs", 10, &logs, &n));
    CHECK_OK(ms_json_arr_at(logs, 0, &first));
    CHECK_OK(ms_json_get_str(first, "verdict", 32, &v, &len));
    CHECK(strcmp(v, "partial") == 0);
    CHECK_OK(ms_json_get_u64(first, "checkpoint_line", 100, &line));
    CHECK(line == 4);
    CHECK_OK(ms_json_get_str(first, "checkpoint_ts", 32, &v, &len));
    CHECK(len == 24);
    ms_json_free(doc);
    run_free(&r);
    r = audit("show", partial, NULL, NULL, NULL);
    CHECK(r.code == 4);
    CHECK(strstr(out_of(&r), "checkpoint: the log key signs the 3 lines before it") != NULL);
    CHECK(strstr(out_of(&r), "---- line 5 on: after the last checkpoint: NOT VERIFIED") != NULL);
    CHECK(strstr(out_of(&r), "lines 1 to 4 are verified") != NULL);
    run_free(&r);
    r = python_verify(partial, pub_a);
    CHECK(r.code == 4 && strstr(out_of(&r), "partial at line 5: valid up to line 4") != NULL);
    run_free(&r);
}

/* Every byte flipped and every cut of a small log: minions-audit and the Python agree. */
static void test_cross_check(void)
{
    char small[PATH_MAX], script[PATH_MAX], work[PATH_MAX];
    ms_alog *l;
    e2e_path(small, "%s/small.log", dir);
    e2e_path(work, "%s/variants", dir);
    e2e_path(script, "%s/tests/secure/audit/cross_check.py", source_dir);
    CHECK(mkdir(work, 0700) == 0);
    CHECK_OK(ms_alog_open(&l, small, &key_a, "chat", NULL));
    static const char turn[] = "{\"turn\":1,\"user\":\"hi\"}", cmd[] = "{\"command\":\"/clear\"}";
    CHECK_OK(ms_alog_event_json(l, "chat_turn", turn, sizeof turn - 1));
    CHECK_OK(ms_alog_event_json(l, "chat_command", cmd, sizeof cmd - 1));
    CHECK_OK(ms_alog_close(l));
    /* and a crashed log with a checkpoint */
    char crashed[PATH_MAX];
    e2e_path(crashed, "%s/crashed.log", dir);
    partial_log(crashed);
    const char *logs[] = {small, crashed};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {"/usr/bin/python3", script, (char *)audit_bin, (char *)logs[i], pub_a,
                        work, NULL};
        run r = run_argv(argv);
        CHECK(r.code == 0 && strstr(out_of(&r), " 0 disagreements") != NULL);
        if (r.code != 0) {
            fprintf(stderr, "%s%s", out_of(&r), r.err.p ? (const char *)r.err.p : "");
        }
        run_free(&r);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_audit_cli MINIONS_AUDIT SOURCE_DIR\n");
        return 2;
    }
    audit_bin = argv[1];
    source_dir = argv[2];
    if (e2e_tmpdir_new("test_audit_cli", dir) != 0) {
        return 1;
    }
    char ka[PATH_MAX], kb[PATH_MAX];
    bool created;
    e2e_path(ka, "%s/keys/log-key", dir);
    e2e_path(kb, "%s/keys/other-key", dir);
    e2e_path(pub_a, "%s.pub", ka);
    e2e_path(pub_b, "%s.pub", kb);
    if (ms_alog_key_load_or_create(ka, &key_a, &created) != MS_OK ||
        ms_alog_key_load_or_create(kb, &key_b, &created) != MS_OK) {
        fprintf(stderr, "cannot create the keys\n");
        return 1;
    }
    e2e_path(log_demo, "%s/demo.log", dir);
    e2e_path(log_b, "%s/other-key.log", dir);
    e2e_path(log_flip, "%s/flipped.log", dir);
    e2e_path(log_cut, "%s/cut.log", dir);
    e2e_path(log_sessions, "%s/sessions.log", dir);
    demo_log(log_demo, &key_a);
    demo_log(log_b, &key_b);
    sessions_log(log_sessions, &key_a);
    /* a change inside line 4's data (its JSON stays valid); a cut in line 10 */
    file_copy(log_demo, log_flip, SIZE_MAX, data_offset(log_demo, 4) + 2);
    file_copy(log_demo, log_cut, (size_t)data_offset(log_demo, 10), -1);

    RUN(test_help_version);
    RUN(test_verify_statuses);
    RUN(test_verify_json);
    RUN(test_show);
    RUN(test_show_sessions);
    RUN(test_python_verifier);
    RUN(test_partial);
    RUN(test_cross_check);
    ms_alog_key_wipe(&key_a);
    ms_alog_key_wipe(&key_b);
    if (test_fail_count_ == 0 && getenv("KEEP_AUDIT_TMP") == NULL) {
        e2e_tmpdir_remove(dir);
    }
    return TEST_SUMMARY();
}

/* The supervisor's audit log end to end: sessions closed, expired, unfinished and live at SIGTERM; the sealed log verified. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/version.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/rawclient.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

/* Text that must never reach the audit log: prompts, replies, the engine's API key. */
#define PROMPT_A "audit-prompt-alpha: what is in the vault?"
#define PROMPT_B "audit-prompt-beta: stream me the vault"
#define REPLY_A "audit-reply-omega the vault holds gold"
#define REPLY_B "audit-reply-sigma one two three four"
#define BACKEND_KEY "sk-audit-test-s3cret"

static e2e_world W; /* programs, certs/dev, the dev key, the script, the temp dir */
static struct {
    char logdir[PATH_MAX], logkey[PATH_MAX];
    e2e_stack st;
} E;

/* What the client saw of one session, to compare with the log. */
typedef struct seen {
    char sid[2 * MS_SESSION_ID_LEN + 1];
    char evidence[65];
    size_t req_len, reply_len;
} seen;

static void note_peer(ms_client *c, seen *s)
{
    ms_client_peer peer;
    size_t n;
    ms_client_peer_info(c, &peer);
    memcpy(s->sid, peer.session_hex, sizeof s->sid);
    if (ms_hex_encode(peer.evidence_sha256, 32, s->evidence, sizeof s->evidence, &n) != MS_OK) {
        s->evidence[0] = '\0';
    }
}

static ms_err count_piece(void *ctx, const char *text, size_t len)
{
    (void)text;
    *(size_t *)ctx += len;
    return MS_OK;
}

/* A: FAST, one whole turn, then a sealed CLOSE. */
static void session_closed(seen *a)
{
    ms_client *c = NULL;
    ms_buf req, reply;
    ms_client_cfg cfg = {.url = E.st.url, .cacert = W.ca, .pinned_dev_pk = W.pk};
    ms_buf_init(&req, 4096);
    ms_buf_init(&reply, 1 << 16);
    CHECK_OK(ms_client_new(&c, &cfg));
    CHECK_OK(ms_client_request_build(NULL, PROMPT_A, 0, -1.0, &req));
    CHECK_OK(ms_client_turn(c, req.p, req.len, &reply, NULL));
    CHECK(ms_buf_terminate(&reply) == MS_OK && strstr((const char *)reply.p, REPLY_A));
    note_peer(c, a);
    a->req_len = req.len;
    a->reply_len = reply.len;
    CHECK_OK(ms_client_close(c));
    ms_client_free(c);
    ms_buf_free(&req);
    ms_buf_free(&reply);
}

/* B: STRICT, one streamed turn, then left alone past the TTL. */
static void session_left(seen *b)
{
    ms_client *c = NULL;
    ms_buf req, final;
    size_t text = 0;
    ms_client_cfg cfg = {.url = E.st.url, .cacert = W.ca, .pinned_dev_pk = W.pk, .strict = 1};
    ms_buf_init(&req, 4096);
    ms_buf_init(&final, 1 << 16);
    CHECK_OK(ms_client_new(&c, &cfg));
    CHECK_OK(ms_client_request_build(NULL, PROMPT_B, 0, -1.0, &req));
    CHECK_OK(ms_client_turn_stream(c, req.p, req.len, count_piece, &text, &final, NULL));
    CHECK(text == strlen(REPLY_B));
    note_peer(c, b);
    b->req_len = req.len;
    b->reply_len = text;
    ms_client_free(c); /* no CLOSE: the supervisor is left to expire it */
    ms_buf_free(&req);
    ms_buf_free(&final);
}

/*
 * E: a handshake whose ClientFinish fails (its signature broken): refused, and the pending
 * session left as it was (anyone who knows the session id can send a bad one, §7.4); never
 * finished, it costs no line, only a count in supervisor_stop.
 */
static void session_evicted(seen *e)
{
    e2e_http *h = NULL;
    e2e_raw s;
    long status = 0;
    uint8_t pk[MS_SIGN_PK_LEN], sk[MS_SIGN_SK_LEN];
    crypto_sign_keypair(pk, sk);
    CHECK(e2e_http_new(&h, E.st.url, W.ca) == 0);
    CHECK_OK(e2e_raw_handshake_id(h, W.pk, sk, &s, &status));
    memcpy(e->sid, s.sid_hex, sizeof e->sid);
    s.cf[s.cf_len - 1] ^= 1; /* the signature no longer verifies */
    CHECK_ERR(e2e_raw_finish(h, &s, &status), MS_ERR_HTTP_STATUS);
    CHECK(status == 400);

    e2e_raw_free(&s);
    e2e_http_free(h);
}

/* D: a session in use when the supervisor stops. */
static void session_live(seen *d, ms_client **c)
{
    ms_buf req, reply;
    ms_client_cfg cfg = {.url = E.st.url, .cacert = W.ca, .pinned_dev_pk = W.pk};
    ms_buf_init(&req, 4096);
    ms_buf_init(&reply, 1 << 16);
    CHECK_OK(ms_client_new(c, &cfg));
    CHECK_OK(ms_client_request_build(NULL, PROMPT_A, 0, -1.0, &req));
    CHECK_OK(ms_client_turn(*c, req.p, req.len, &reply, NULL));
    note_peer(*c, d);
    d->req_len = req.len;
    d->reply_len = reply.len;
    ms_buf_free(&req);
    ms_buf_free(&reply);
}

/* The one file the supervisor made in the log directory. */
static int find_log(char out[static PATH_MAX])
{
    DIR *d = opendir(E.logdir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "supervisor-", 11) == 0 && len > 7 &&
            strcmp(e->d_name + len - 7, ".ndjson") == 0) {
            e2e_path(out, "%s/%s", E.logdir, e->d_name);
            n++;
        }
    }
    if (d) {
        closedir(d);
    }
    return n == 1 ? 0 : -1;
}

static int str_is(ms_json_val o, const char *key, const char *want)
{
    const char *s;
    size_t n;
    return ms_json_get_str(o, key, 4096, &s, &n) == MS_OK && strcmp(s, want) == 0;
}

static uint64_t u64_of(ms_json_val o, const char *key)
{
    uint64_t v = 0;
    return ms_json_get_u64(o, key, UINT64_MAX, &v) == MS_OK ? v : UINT64_MAX;
}

static void check_start(ms_json_val d)
{
    ms_json_val ev, first;
    size_t n = 0;
    char backend[96];
    snprintf(backend, sizeof backend, "http://127.0.0.1:%u/v1", E.st.sim.port);
    CHECK(str_is(d, "kind", "supervisor"));
    CHECK(str_is(d, "program", "minions-supervisor " MS_VERSION));
    CHECK(str_is(d, "listen", "127.0.0.1:0"));
    CHECK(str_is(d, "backend", backend));
    CHECK(str_is(d, "mode", "development"));
    CHECK(ms_json_get_arr(d, "evidence", 8, &ev, &n) == MS_OK && n == 1 &&
          ms_json_arr_at(ev, 0, &first) == MS_OK);
    const char *s;
    size_t len;
    CHECK(ms_json_as_str(first, 64, &s, &len) == MS_OK && strcmp(s, "dev-key") == 0);
}

/* A session_end against what the client saw. */
static void check_session(ms_json_val d, const seen *s, const char *mode, const char *outcome,
                          uint64_t t0, uint64_t t1)
{
    ms_json_val fp;
    double dur = -1;
    CHECK(str_is(d, "evidence_id", s->evidence));
    CHECK(str_is(d, "mode", mode));
    CHECK(str_is(d, "outcome", outcome));
    CHECK(ms_json_get(d, "client_key_fp", &fp) == MS_OK && ms_json_type_of(fp) == MS_JSON_NULL);
    CHECK(u64_of(d, "started") >= t0 && u64_of(d, "started") <= t1);
    CHECK(ms_json_get_double(d, "duration_s", 0, 86400, &dur) == MS_OK);
    if (strcmp(outcome, "evicted") == 0) { /* nothing was ever opened or sealed */
        CHECK(u64_of(d, "requests") == 0 && u64_of(d, "records_in") == 0 &&
              u64_of(d, "records_out") == 0 && u64_of(d, "bytes_in") == 0 &&
              u64_of(d, "bytes_out") == 0);
        return;
    }
    CHECK(u64_of(d, "requests") == 1);
    CHECK(u64_of(d, "bytes_in") == s->req_len);
    if (strcmp(outcome, "shutdown") == 0) {
        CHECK(u64_of(d, "records_in") == 1 && u64_of(d, "records_out") == 1);
        CHECK(u64_of(d, "bytes_out") == s->reply_len);
    } else if (strcmp(outcome, "closed") == 0) {
        CHECK(u64_of(d, "records_in") == 2);  /* the request, the CLOSE */
        CHECK(u64_of(d, "records_out") == 2); /* the reply, the CLOSE */
        CHECK(u64_of(d, "bytes_out") == s->reply_len);
    } else {
        CHECK(u64_of(d, "records_in") == 1);
        CHECK(u64_of(d, "records_out") >= 2); /* stream pieces, then the FINAL */
        CHECK(u64_of(d, "bytes_out") > s->reply_len);
        CHECK(dur >= 1.0); /* idle past --session-ttl 1 before it was dropped */
    }
}

/* Each line: type and data; the events and their counts. */
static void check_events(const ms_buf *log, const seen *a, const seen *b, const seen *dd,
                         const seen *e, uint64_t t0, uint64_t t1)
{
    const char *p = (const char *)log->p, *end = p + log->len;
    int lines = 0, ends = 0, got_a = 0, got_b = 0, got_d = 0, got_e = 0, stop = 0, ckpts = 0;
    char last[32] = "";
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        ms_json_doc *doc = NULL;
        ms_json_val d;
        const char *type;
        size_t tl;
        if (!nl || ms_json_parse(p, (size_t)(nl - p), &doc) != MS_OK ||
            ms_json_get_str(ms_json_root(doc), "type", 32, &type, &tl) != MS_OK ||
            ms_json_get_obj(ms_json_root(doc), "data", &d) != MS_OK) {
            CHECK(!"a line of the log is not an event");
            ms_json_free(doc);
            return;
        }
        if (lines == 0) {
            CHECK(strcmp(type, "log_start") == 0);
            check_start(d);
        } else if (strcmp(type, "session_end") == 0) {
            ends++;
            if (str_is(d, "session_id", a->sid)) {
                got_a++;
                check_session(d, a, "fast", "closed", t0, t1);
            } else if (str_is(d, "session_id", b->sid)) {
                got_b++;
                check_session(d, b, "strict", "expired", t0, t1);
            } else if (str_is(d, "session_id", dd->sid)) {
                got_d++;
                check_session(d, dd, "fast", "shutdown", t0, t1);
            } else if (str_is(d, "session_id", e->sid)) {
                got_e++;
                CHECK(str_is(d, "mode", "fast") && str_is(d, "outcome", "evicted"));
                check_session(d, e, "fast", "evicted", t0, t1);
            }
        } else if (strcmp(type, "log_checkpoint") == 0) {
            ckpts++; /* the time rule (every 5 s by default) may add some */
        } else if (strcmp(type, "supervisor_stop") == 0) {
            stop++;
            CHECK(u64_of(d, "sessions_total") == 3);
            CHECK(u64_of(d, "handshakes_unfinished") == 2);
            CHECK(u64_of(d, "events_failed") == 0);
        }
        snprintf(last, sizeof last, "%s", type);
        ms_json_free(doc);
        lines++;
        p = nl + 1;
    }
    CHECK(lines == 6 + ckpts && ends == 3 && stop == 1);
    CHECK(got_a == 1 && got_b == 1 && got_d == 1 && got_e == 0);
    CHECK(strcmp(last, "log_seal") == 0);
}

static void test_audit_log(void)
{
    seen a = {0}, b = {0}, d = {0}, e = {0};
    ms_client *live = NULL;
    char path[PATH_MAX];
    ms_buf log;
    ms_alog_key key;
    ms_alog_report rep;
    bool created = true;
    struct stat st;
    uint64_t t0 = (uint64_t)time(NULL);
    ms_buf_init(&log, 1 << 20);
    session_closed(&a);
    session_left(&b);
    e2e_sleep_ms(2200); /* past --session-ttl 1, and past the table's 1 s sweep interval */
    /* A handshake that never finishes: its room check sweeps B out ("expired"); itself it
       costs no line, only a count in supervisor_stop. */
    ms_client *c = NULL;
    ms_client_cfg cfg = {.url = E.st.url, .cacert = W.ca, .pinned_dev_pk = W.pk};
    CHECK_OK(ms_client_new(&c, &cfg));
    CHECK_OK(ms_client_connect(c));
    ms_client_free(c);
    session_evicted(&e);
    session_live(&d, &live);
    /* E got the FAST evidence of the current static key, as A and D did. */
    CHECK(strcmp(a.evidence, d.evidence) == 0);
    memcpy(e.evidence, d.evidence, sizeof e.evidence);
    uint64_t t1 = (uint64_t)time(NULL);
    CHECK(e2e_server_stop(&E.st.sup, 5000) == 0); /* SIGTERM: a clean exit seals the log */
    ms_client_free(live);

    CHECK(find_log(path) == 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(E.logkey, &st) == 0 && (st.st_mode & 0777) == 0600); /* the default key */
    CHECK_OK(ms_alog_key_load_or_create(E.logkey, &key, &created));
    CHECK(!created);
    CHECK(e2e_file_read(path, &log) == 0);
    CHECK_OK(ms_alog_verify(log.p, log.len, key.pk, &rep));
    CHECK(rep.verdict == MS_ALOG_VALID);
    CHECK(strcmp(rep.kind, "supervisor") == 0);
    ms_alog_key_wipe(&key);
    check_events(&log, &a, &b, &d, &e, t0, t1);
    /* Never content, never the engine's API key. */
    static const char *const never[] = {"audit-prompt", "audit-reply", "vault", BACKEND_KEY};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        CHECK(!e2e_file_contains(path, never[i]));
    }
    ms_buf_free(&log);
}

/* An existing file is never reopened: a usage error, and the file is left as it was. */
static void test_existing_file_refused(void)
{
    char file[PATH_MAX], backend[64];
    e2e_out r;
    e2e_world_path(&W, file, "old.ndjson");
    snprintf(backend, sizeof backend, "http://127.0.0.1:%u/v1", E.st.sim.port);
    CHECK(e2e_file_write(file, "an earlier log\n") == 0);
    CHECK(e2e_world_runl(&W, &(e2e_cmd){.bin = W.sup_bin, .timeout_ms = 20000}, &r, "--listen",
                         "127.0.0.1:0", "--plain-http", "--backend-url", backend,
                         "--backend-model", "m", "--dev-key", W.devkey, "--audit-log", file,
                         NULL) == 2);
    CHECK(r.err.p && strstr((const char *)r.err.p, "exists"));
    CHECK(e2e_file_contains(file, "an earlier log") && !e2e_file_contains(file, "log_start"));
    e2e_out_free(&r);
}

/* A supervisor killed outright: its log verifies up to its last checkpoint (PARTIAL). */
static void test_killed_checkpoint(void)
{
    char file[PATH_MAX];
    e2e_server v;
    ms_buf log;
    ms_alog_key key;
    ms_alog_report rep;
    bool created;
    e2e_world_path(&W, file, "killed.ndjson");
    CHECK(e2e_world_sup(&W, &v, &(e2e_sup_cfg){.backend_port = E.st.sim.port,
                                                .extra = {"--audit-log", file,
                                                          "--audit-checkpoint-events", "1",
                                                          "--audit-checkpoint-secs", "0"}}) == 0);
    int waited = 0;
    while (!e2e_file_contains(file, "\"type\":\"log_checkpoint\"") && waited < 20000) {
        e2e_sleep_ms(50);
        waited += 50;
    }
    CHECK(kill(v.p.pid, SIGKILL) == 0);
    CHECK(e2e_proc_stop(&v.p, 1000) == 128 + SIGKILL);
    ms_buf_init(&log, 1 << 20);
    CHECK(e2e_file_read(file, &log) == 0);
    CHECK_OK(ms_alog_key_load_or_create(E.logkey, &key, &created));
    CHECK_OK(ms_alog_verify(log.p, log.len, key.pk, &rep));
    CHECK(rep.verdict == MS_ALOG_PARTIAL && rep.checkpoint_line == 2);
    ms_alog_key_wipe(&key);
    ms_buf_free(&log);
}

static int setup(void)
{
    char rules[512];
    e2e_world_path(&W, E.logdir, "audit");
    e2e_world_path(&W, E.logkey, "minions-supervisor-log-key"); /* next to --dev-key */
    snprintf(rules, sizeof rules,
             "{\"rules\":[{\"contains\":\"audit-prompt-alpha\",\"reply\":\"%s\"},"
             "{\"contains\":\"audit-prompt-beta\",\"reply\":\"%s\"}],\"default\":\"no rule\"}\n",
             REPLY_A, REPLY_B);
    if (e2e_world_devkey(&W, "dev.pem") != 0 || mkdir(E.logdir, 0700) != 0 ||
        e2e_world_script(&W, rules) != 0) {
        return -1;
    }
    /* The engine's API key (the supervisor's environment) must never be logged. */
    setenv("MINIONS_BACKEND_API_KEY", BACKEND_KEY, 1);
    return e2e_world_stack(&W, &E.st, NULL,
                           &(e2e_sup_cfg){.extra = {"--audit-log", E.logdir, "--session-ttl", "1"}});
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_supervisor_audit", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    if (e2e_http_global_init() != 0 || setup() != 0) {
        fprintf(stderr, "test_supervisor_audit: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_audit_log);
        RUN(test_existing_file_refused);
        RUN(test_killed_checkpoint);
    }
    e2e_server_stop(&E.st.sup, 3000); /* stopped, and checked, by test_audit_log */
    CHECK(e2e_server_stop(&E.st.sim, 3000) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

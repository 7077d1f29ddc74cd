/*
 * minions-secure run end to end: the real minions-secure binary, a real minions-supervisor
 * (dev key, HTTPS with certs/dev), and llm-sim standing in for both engines (A behind the
 * supervisor, W as the local worker). What the user sees (answer, exit codes, JSON, messages)
 * and what the engines and the session log received.
 *
 * Usage: test_run_e2e SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR
 * MS_RUN_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") runs minions-secure under it.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/json.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "tests/fixture/pdf.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define CLI_TIMEOUT_MS 180000
#define MAX_ARGS 48

#define ANSWER_MINION "The first login was by m.vale from 192.0.2.44 at 04:10 UTC."
#define ANSWER_MINIONS "Round one found the badge reader entry at the north door."
#define WORKER_ANSWER "The access log shows m.vale logging in at 04:10 UTC."
#define TASK "Who logged in first, and from where?"

/* The private documents: no sentence of them may reach the supervisor's engine. */
#define PDF_SECRET "Badge 4471 was cloned in the car park on Tuesday."

static const char *const SECRETS[] = {
    PDF_SECRET,
    "The vault combination was changed to 7-19-42 by the night porter.",
    "Marguerite Vale keeps the spare server keys in the blue filing cabinet.",
    "Quarterly revenue for the Osprey account fell to 1.2 million.",
    "04:10:55 sshd accepted password for m.vale from 192.0.2.44",
};

/* Engine A: the supervisor's model. Rules are checked in order on the last user message. */
static const char SUP_SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"marker-sup-cut\", \"reply\": \"{\\\"decision\\\": \\\"provide_fi\", "
    "\"finish_reason\": \"length\"},\n"
    " {\"contains\": \"Results of round 1\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"" ANSWER_MINIONS "\\\"}\"},\n"
    " {\"contains\": \"marker-noanswer\", \"reply\": \"{\\\"decision\\\": \\\"cannot_answer\\\", "
    "\\\"reason\\\": \\\"the documents say nothing about it\\\"}\"},\n"
    " {\"contains\": \"bytes long in all\", \"reply\": \"```json\\n{\\\"decision\\\": "
    "\\\"run_plan\\\", \\\"plan\\\": {\\\"tasks\\\": [{\\\"id\\\": \\\"t1\\\", \\\"instruction\\\": "
    "\\\"Find who entered and when.\\\"}], \\\"chunking\\\": {\\\"method\\\": \\\"paragraphs\\\", "
    "\\\"size\\\": 200}}}\\n```\"},\n"
    " {\"contains\": \"The worker's answer:\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"" ANSWER_MINION "\\\"}\"},\n"
    " {\"contains\": \"Task: \", \"reply\": \"<think>plan the question</think>{\\\"decision\\\": "
    "\\\"request_additional_info\\\", \\\"message\\\": \\\"Who logged in first, when and from "
    "which address?\\\"}\"}\n"
    "], \"default\": \"{\\\"decision\\\": \\\"cannot_answer\\\", \\\"reason\\\": \\\"no rule\\\"}\"}\n";

/* Engine W: the local worker. */
static const char WORKER_SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"marker-worker-500\", \"status\": 500, \"reply\": \"simulated crash\"},\n"
    " {\"contains\": \"marker-worker-cut\", \"reply\": \"The access log shows m.vale\", "
    "\"finish_reason\": \"length\"},\n"
    " {\"contains\": \"Instruction (task t1)\", \"reply\": \"{\\\"explanation\\\": \\\"entry "
    "line\\\", \\\"citation\\\": null, \\\"answer\\\": \\\"north door at 04:02\\\"}\"},\n"
    " {\"contains\": \"Question: \", \"reply\": \"" WORKER_ANSWER "\"}\n"
    "], \"default\": \"I cannot tell.\"}\n";

static e2e_world W; /* programs, certs/dev, the dev key, the log key, the temp dir */
static struct env {
    char docs[PATH_MAX];
    char url[64], wurl[64], wurl_v1[64];
    e2e_server sim_a, sim_w, sup;
    char log_a[PATH_MAX], log_w[PATH_MAX];
    unsigned seq;
} E;

/* --- running minions-secure ------------------------------------------------------------------ */

/* minions-secure (under $MS_RUN_WRAPPER when set) with args after argv[0]. */
static const e2e_cmd CLI = {.timeout_ms = CLI_TIMEOUT_MS, .wrap = 1};

/*
 * Quick mode (the memcheck twin, tests/quick.h): of the runs that end in minions-secure's
 * option and request checks (usage errors, --help, refused worker URLs and engine lists,
 * refused --stdin-json requests) only the first of each group, and the caps, run under
 * $MS_RUN_WRAPPER; the others still run and are checked, unwrapped (the ASan stage runs
 * them all under its sanitizers). Every run that reaches an engine or the supervisor is
 * wrapped.
 */
static int unwrapped;

static void set_unwrapped(size_t loop_index)
{
    unwrapped = ms_test_quick() && loop_index > 0;
}

static void cli_argv(e2e_out *r, char **args)
{
    e2e_cmd cmd = CLI;
    cmd.wrap = !unwrapped;
    e2e_world_run(&W, &cmd, (const char *const *)args, r);
}

/*
 * minions-secure run with the connection options, then the given ones (NULL-terminated).
 * The worker is E.wurl unless the given ones name --local-url (a repeated --local-url adds
 * an engine, so the default must then be left out).
 */
static void run(e2e_out *r, ...)
{
    char *args[MAX_ARGS + 1] = {"run", "--supervisor_url", E.url, "--trusted_attestation_pem",
                                W.devpub, "--cacert", W.ca, "--log-key", W.logkey,
                                "--local-url", E.wurl};
    int n = 11, own_url = 0;
    va_list ap;
    va_start(ap, r);
    for (char *a; n < MAX_ARGS && (a = va_arg(ap, char *)) != NULL;) {
        own_url |= strcmp(a, "--local-url") == 0;
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    if (own_url) { /* drop the default "--local-url E.wurl" (args[9], args[10]) */
        memmove(&args[9], &args[11], (size_t)(n - 11 + 1) * sizeof args[0]);
    }
    cli_argv(r, args);
}

/* Exactly the arguments given. */
static void run_raw(e2e_out *r, ...)
{
    char *args[MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, r);
    for (char *a; n < MAX_ARGS && (a = va_arg(ap, char *)) != NULL;) {
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    cli_argv(r, args);
}

static int has(const ms_buf *b, const char *s)
{
    return b->p && strstr((const char *)b->p, s) != NULL;
}

static void next_path(char out[static PATH_MAX], const char *what)
{
    e2e_path(out, "%s/%s%u", W.dir, what, ++E.seq);
}

/* --- the stack ------------------------------------------------------------------------------- */

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX];
    e2e_path(p, "%s/%s", E.docs, rel);
    CHECK(e2e_file_write(p, text) == 0);
}

/* A one-page PDF holding `line` (tests/fixture/pdf.h). */
static void write_pdf(const char *path, const char *line)
{
    ms_buf b;
    ms_buf_init(&b, 4096);
    CHECK(e2e_pdf_one_page(&b, line) == 0 && ms_buf_terminate(&b) == MS_OK &&
          e2e_file_write(path, (const char *)b.p) == 0);
    ms_buf_free(&b);
}

static void write_docs(void)
{
    char p[PATH_MAX];
    e2e_path(E.docs, "%s/docs", W.dir);
    CHECK(mkdir(E.docs, 0700) == 0);
    e2e_path(p, "%s/logs", E.docs);
    CHECK(mkdir(p, 0700) == 0);
    char md[1024], lg[512];
    snprintf(md, sizeof md, "# Night shift notes\n\n%s\n\n%s\n\n%s\n", SECRETS[0], SECRETS[1],
             SECRETS[2]);
    put("notes.md", md);
    snprintf(lg, sizeof lg, "04:02:13 badge north-door granted\n%s\n", SECRETS[3]);
    put("logs/access.log", lg);
    put(".hidden-notes.txt", "hidden file: never read\n");
    e2e_path(p, "%s/logs/badge-report.pdf", E.docs);
    write_pdf(p, PDF_SECRET);
}

static int setup(void)
{
    /* Nothing of the user's real home: keys and default logs go under the test directory. */
    if (e2e_world_home(&W) != 0 || e2e_world_devkey(&W, "dev-attestation.pem") != 0) {
        return -1;
    }
    e2e_world_path(&W, W.logkey, "log-key");
    e2e_world_path(&W, E.log_a, "engine-a.log");
    e2e_world_path(&W, E.log_w, "engine-w.log");
    char sa[PATH_MAX], sw[PATH_MAX];
    e2e_world_path(&W, sa, "script-a.json");
    e2e_world_path(&W, sw, "script-w.json");
    if (e2e_file_write(sa, SUP_SCRIPT) != 0 || e2e_file_write(sw, WORKER_SCRIPT) != 0) {
        return -1;
    }
    write_docs();
    if (e2e_world_sim(&W, &E.sim_a, &(e2e_sim_cfg){.script = sa, .log = E.log_a}) != 0 ||
        e2e_world_sim(&W, &E.sim_w, &(e2e_sim_cfg){.script = sw, .log = E.log_w}) != 0 ||
        e2e_world_sup(&W, &E.sup, &(e2e_sup_cfg){.backend_port = E.sim_a.port}) != 0) {
        return -1;
    }
    e2e_url(E.url, "https", E.sup.port);
    e2e_url(E.wurl, "http", E.sim_w.port);
    snprintf(E.wurl_v1, sizeof E.wurl_v1, "http://127.0.0.1:%u/v1", E.sim_w.port);
    return 0;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int no_secret_in(const char *path)
{
    for (size_t i = 0; i < sizeof SECRETS / sizeof SECRETS[0]; i++) {
        if (e2e_file_contains(path, SECRETS[i])) {
            fprintf(stderr, "  secret %zu found in %s\n", i, path);
            return 0;
        }
    }
    return 1;
}

/* The log is sealed, chained and signed by the log key. */
static int log_valid(const char *path)
{
    uint8_t pk[MS_SIGN_PK_LEN];
    char pub[PATH_MAX];
    ms_buf b;
    ms_alog_report rep;
    e2e_path(pub, "%s.pub", W.logkey);
    ms_buf_init(&b, MS_ALOG_MAX_FILE);
    int ok = ms_devkey_read_public(pub, pk) == MS_OK && e2e_file_read(path, &b) == 0 &&
             ms_alog_verify(b.p, b.len, pk, &rep) == MS_OK && rep.verdict == MS_ALOG_VALID;
    if (!ok) {
        fprintf(stderr, "  log %s: %s\n", path, rep.why);
    }
    ms_buf_free(&b);
    return ok;
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* --- JSON helpers ---------------------------------------------------------------------------- */

static ms_json_doc *json_of(const ms_buf *b)
{
    ms_json_doc *d = NULL;
    size_t n = b->len;
    while (n > 0 && b->p[n - 1] == '\n') {
        n--;
    }
    CHECK_OK(ms_json_parse((const char *)b->p, n, &d));
    return d;
}

static int str_is(ms_json_val o, const char *key, const char *want)
{
    const char *s = NULL;
    size_t n;
    return ms_json_get_str(o, key, 1u << 20, &s, &n) == MS_OK && strcmp(s, want) == 0;
}

/* --- the tests ------------------------------------------------------------------------------- */

/* Minion: the answer on stdout, what was verified on stderr, the documents stay local. */
static void test_minion(void)
{
    e2e_out r;
    char log[PATH_MAX];
    next_path(log, "minion.ndjson");
    run(&r, "--task", TASK, "--context", E.docs, "--log", log, NULL);
    CHECK(r.code == 0);
    CHECK(r.out.len == strlen(ANSWER_MINION "\n") && has(&r.out, ANSWER_MINION "\n"));
    CHECK(has(&r.err, "verified: dev-key evidence (FAST"));
    CHECK(has(&r.err, "DEVELOPMENT MODE"));
    CHECK(has(&r.err, "documents: 3 documents: 1 text, 1 markdown, 1 PDF (1 page)"));
    CHECK(has(&r.err, "session log: "));
    CHECK(has(&r.err, log));
    e2e_out_free(&r);
    /* The supervisor's engine saw the task and the worker's answer, never a document. */
    CHECK(e2e_file_contains(E.log_a, TASK));
    CHECK(e2e_file_contains(E.log_a, WORKER_ANSWER));
    CHECK(no_secret_in(E.log_a));
    CHECK(!e2e_file_contains(E.log_a, "notes.md")); /* no file names either */
    /* The worker read them (and not the hidden file). */
    CHECK(e2e_file_contains(E.log_w, "Marguerite Vale keeps the spare server keys"));
    CHECK(!e2e_file_contains(E.log_w, "hidden file: never read"));
    CHECK(e2e_file_contains(E.log_w, PDF_SECRET)); /* the PDF's text, through poppler */
    /* The log: 0600, valid, holds the task and the session, not the documents. */
    CHECK(mode_of(log) == 0600);
    CHECK(log_valid(log));
    CHECK(e2e_file_contains(log, "\"type\":\"session\""));
    CHECK(e2e_file_contains(log, "\"type\":\"task\""));
    CHECK(e2e_file_contains(log, "\"evidence_type\":\"dev-key\""));
    CHECK(e2e_file_contains(log, TASK));
    CHECK(no_secret_in(log));
    /* Each supervisor round records its timings: seal and open are measured, not left 0. */
    CHECK(e2e_file_contains(log, "\"timings\":{\"total_s\":"));
    CHECK(!e2e_file_contains(log, "\"seal_s\":0,"));
    CHECK(!e2e_file_contains(log, "\"open_s\":0}"));
}

/* --json: the whole outcome as one object. */
static void test_json(void)
{
    e2e_out r;
    char log[PATH_MAX];
    next_path(log, "json.ndjson");
    run(&r, "--task", TASK, "--context", E.docs, "--json", "--log", log, NULL);
    CHECK(r.code == 0);
    ms_json_doc *d = json_of(&r.out);
    ms_json_val o = ms_json_root(d), u, l, ev;
    bool ok = false;
    uint64_t rounds = 0, pt = 0;
    CHECK_OK(ms_json_get_bool(o, "ok", &ok));
    CHECK(ok);
    CHECK(str_is(o, "outcome", "answer"));
    CHECK(str_is(o, "answer", ANSWER_MINION));
    CHECK_OK(ms_json_get_u64(o, "rounds", 100, &rounds));
    CHECK(rounds == 2);
    CHECK_OK(ms_json_get_obj(o, "usage", &u));
    CHECK_OK(ms_json_get_obj(u, "local", &l));
    CHECK_OK(ms_json_get_u64(l, "prompt_tokens", UINT32_MAX, &pt));
    CHECK(pt > 0);
    CHECK_OK(ms_json_get_obj(u, "remote", &l));
    CHECK_OK(ms_json_get_u64(l, "completion_tokens", UINT32_MAX, &pt));
    CHECK(pt > 0);
    const char *sid = NULL;
    size_t n = 0;
    CHECK_OK(ms_json_get_str(o, "session", 64, &sid, &n));
    CHECK(n == 32);
    CHECK_OK(ms_json_get_obj(o, "evidence", &ev));
    CHECK(str_is(ev, "type", "dev-key") && str_is(ev, "tls", "pinned"));
    CHECK(str_is(o, "log", log));
    ms_json_val why;
    CHECK_OK(ms_json_get(o, "why", &why));
    CHECK(ms_json_type_of(why) == MS_JSON_NULL);
    ms_json_free(d);
    e2e_out_free(&r);
    CHECK(log_valid(log));
}

/* Minions: a fenced plan, parallel jobs over chunks, then the synthesis. */
static void test_minions(void)
{
    e2e_out r;
    char log[PATH_MAX];
    next_path(log, "minions.ndjson");
    run(&r, "--protocol", "minions", "--jobs", "3", "--task", TASK, "--context", E.docs, "--json",
        "--log", log, NULL);
    CHECK(r.code == 0);
    ms_json_doc *d = json_of(&r.out);
    ms_json_val o = ms_json_root(d);
    uint64_t jobs = 0;
    CHECK(str_is(o, "answer", ANSWER_MINIONS));
    CHECK_OK(ms_json_get_u64(o, "jobs_run", 100000, &jobs));
    CHECK(jobs >= 3); /* one task over every chunk of three documents */
    ms_json_free(d);
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_a, "north door at 04:02")); /* the jobs' answers went up */
    CHECK(no_secret_in(E.log_a));
    CHECK(log_valid(log));
    CHECK(no_secret_in(log));
    CHECK(e2e_file_contains(log, "\"kind\":\"minions\""));
}

/* --log-context puts the documents into the log; the log still verifies. */
static void test_log_context(void)
{
    e2e_out r;
    char log[PATH_MAX];
    next_path(log, "ctx.ndjson");
    run(&r, "--task", TASK, "--context", E.docs, "--log", log, "--log-context", NULL);
    CHECK(r.code == 0);
    e2e_out_free(&r);
    CHECK(log_valid(log));
    CHECK(e2e_file_contains(log, SECRETS[1]));
    CHECK(e2e_file_contains(log, "\"type\":\"context\""));
    CHECK(no_secret_in(E.log_a));

    /* The default place: $XDG_STATE_HOME/minions-secure/logs, made 0700; --no-log: none. */
    char state[PATH_MAX], logs[PATH_MAX];
    e2e_path(state, "%s/state", W.dir);
    e2e_path(logs, "%s/minions-secure/logs", state);
    setenv("XDG_STATE_HOME", state, 1);
    run(&r, "--task", TASK, "--context", E.docs, NULL);
    CHECK(r.code == 0);
    CHECK(mode_of(logs) == 0700);
    CHECK(has(&r.err, logs));
    e2e_out_free(&r);
    unsetenv("XDG_STATE_HOME");
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 0 && !has(&r.err, "session log:"));
    e2e_out_free(&r);
}

/* The local engine is down: exit 7 before the supervisor is even contacted. */
static void test_worker_down(void)
{
    e2e_out r;
    char url[64], log[PATH_MAX];
    unsigned port = e2e_free_port();
    long before_a = file_size(E.log_a), before_sup = file_size(E.sup.out);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    next_path(log, "down.ndjson");
    run(&r, "--task", TASK, "--context", E.docs, "--local-url", url, "--log", log, NULL);
    CHECK(r.code == 7);
    CHECK(has(&r.err, "the local model engine (ollama at "));
    CHECK(has(&r.err, "cannot be reached"));
    CHECK(has(&r.err, "Nothing was sent to the supervisor"));
    e2e_out_free(&r);
    CHECK(file_size(E.log_a) == before_a);   /* no supervisor round */
    CHECK(file_size(E.sup.out) == before_sup); /* not even a handshake */
    CHECK(file_size(log) < 0);                 /* nothing to log: nothing happened */

    /* A worker that fails during the run: exit 7 too, after the supervisor's question. */
    run(&r, "--task", "marker-worker-500 " TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 7);
    CHECK(has(&r.err, "local model engine failed"));
    e2e_out_free(&r);
}

/*
 * Token limits (docs/protocols.md): a worker answer cut at its limit reaches the supervisor
 * marked INCOMPLETE and the user is told; a supervisor reply cut at its limit fails the run
 * with exit 9, no answer printed.
 */
static void test_limits(void)
{
    e2e_out r;
    char log[PATH_MAX];
    next_path(log, "cut.ndjson");
    run(&r, "--task", "marker-worker-cut " TASK, "--context", E.docs, "--log", log, NULL);
    CHECK(r.code == 0 && has(&r.out, ANSWER_MINION));
    CHECK(has(&r.err, "the local model stopped at its token limit: 1 answer went to the "
                      "supervisor marked INCOMPLETE"));
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_a, "The access log shows m.vale\\n[INCOMPLETE: the worker"));
    CHECK(e2e_file_contains(log, "\"truncated\":true"));
    CHECK(log_valid(log));
    run(&r, "--task", "marker-worker-cut " TASK, "--context", E.docs, "--no-log", "--json", NULL);
    CHECK(r.code == 0 && has(&r.out, "\"worker_cut\":1"));
    e2e_out_free(&r);

    run(&r, "--task", "marker-sup-cut " TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 9 && r.out.len == 0);
    CHECK(has(&r.err, "stopped at its token limit in round 1"));
    CHECK(has(&r.err, "MS_ERR_BACKEND_CUT"));
    e2e_out_free(&r);
}

/* Bytes of the log up to the end of its first event of this type (0: none). */
static size_t log_offset_after(const char *path, const char *type)
{
    ms_buf b;
    char t[64];
    size_t off = 0;
    snprintf(t, sizeof t, "\"type\":\"%s\"", type);
    ms_buf_init(&b, MS_ALOG_MAX_FILE);
    if (e2e_file_read(path, &b) == 0 && ms_buf_terminate(&b) == MS_OK) {
        const char *s = (const char *)b.p, *at = strstr(s, t);
        const char *nl = at ? strchr(at, '\n') : NULL;
        off = nl ? (size_t)(nl - s) + 1 : 0;
    }
    ms_buf_free(&b);
    return off;
}

/* A session log that stops taking writes mid-run (here a file size limit; a full disk in
   life): the run fails with exit 2, a file problem, not 3 (the network). */
static void test_log_write_fails(void)
{
    e2e_out r;
    char log[PATH_MAX], limited[PATH_MAX], script[256];
    next_path(log, "full.ndjson");
    run(&r, "--task", TASK, "--context", E.docs, "--log", log, NULL);
    CHECK(r.code == 0);
    e2e_out_free(&r);
    size_t task_end = log_offset_after(log, "task");
    size_t turn_end = log_offset_after(log, "supervisor_turn");
    unsigned blocks = (unsigned)(task_end / 512 + 1); /* ulimit -f counts 512-byte blocks */
    CHECK(task_end > 0 && turn_end > (size_t)blocks * 512);
    /* SIGXFSZ ignored (kept across exec): a write over the limit fails with EFBIG. */
    snprintf(script, sizeof script, "trap '' XFSZ; ulimit -f %u; exec \"$0\" \"$@\"", blocks);
    next_path(limited, "full.ndjson");
    char *args[] = {"/bin/sh", "-c", script, (char *)W.cli_bin, "run", "--supervisor_url", E.url,
                    "--trusted_attestation_pem", W.devpub, "--cacert", W.ca, "--local-url",
                    E.wurl, "--log-key", W.logkey, "--task", TASK, "--context", E.docs,
                    "--log", limited, NULL};
    ms_buf_init(&r.out, 1u << 20);
    ms_buf_init(&r.err, 1u << 20);
    r.code = e2e_run(args, CLI_TIMEOUT_MS, W.dir, &r.out, &r.err);
    CHECK(r.code == 2);
    CHECK(has(&r.err, "the session log could not be written (supervisor_turn event)"));
    CHECK(r.out.len == 0);
    e2e_out_free(&r);
}

/* The supervisor says it cannot answer: exit 8, no answer on stdout. */
static void test_no_answer(void)
{
    e2e_out r;
    run(&r, "--task", "marker-noanswer " TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 8);
    CHECK(r.out.len == 0);
    CHECK(has(&r.err, "no final answer"));
    CHECK(has(&r.err, "the documents say nothing about it"));
    e2e_out_free(&r);
    run(&r, "--task", "marker-noanswer " TASK, "--context", E.docs, "--no-log", "--json", NULL);
    CHECK(r.code == 8);
    ms_json_doc *d = json_of(&r.out);
    CHECK(str_is(ms_json_root(d), "outcome", "no_answer"));
    ms_json_free(d);
    e2e_out_free(&r);
}

/* MINIONS_LOCAL=provider/model, the flags over it, the presets, OpenAI-compatible workers. */
static void test_minions_local(void)
{
    e2e_out r;
    setenv("MINIONS_LOCAL", "ollama/sim-worker:3b", 1);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 0);
    CHECK(has(&r.err, "model sim-worker:3b") && has(&r.err, "from MINIONS_LOCAL"));
    CHECK(e2e_file_contains(E.log_w, "\"model\":\"sim-worker:3b\""));
    e2e_out_free(&r);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--local_model", "cybertron", NULL);
    CHECK(r.code == 0);
    CHECK(e2e_file_contains(E.log_w, "\"model\":\"llama-primus-merged:8b\""));
    e2e_out_free(&r);
    setenv("MINIONS_LOCAL", "openai/sim-openai-model", 1);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--local-url", E.wurl_v1, NULL);
    CHECK(r.code == 0);
    CHECK(e2e_file_contains(E.log_w, "/v1/chat/completions"));
    CHECK(e2e_file_contains(E.log_w, "\"model\":\"sim-openai-model\""));
    e2e_out_free(&r);
    setenv("MINIONS_LOCAL", "bogus/x", 1);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 2 && has(&r.err, "MINIONS_LOCAL=bogus/x") && has(&r.err, "'bogus'"));
    e2e_out_free(&r);
    /* both flags given: the variable is not needed, so not read */
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--local_client_type", "ollama",
        "--local-model", "flag-model", NULL);
    CHECK(r.code == 0 && has(&r.err, "model flag-model"));
    e2e_out_free(&r);
    setenv("MINIONS_LOCAL", "no-slash", 1);
    set_unwrapped(1); /* quick mode: the second refusal of MINIONS_LOCAL unwrapped */
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 2 && has(&r.err, "expected provider/model"));
    e2e_out_free(&r);
    set_unwrapped(0);
    unsetenv("MINIONS_LOCAL");
    /* A worker on another host would receive the documents: refused unless allowed. The
       host is the one libcurl would connect to, not a string that starts like loopback. */
    static const char *const remote[] = {
        "http://192.0.2.10:11434",
        "https://127.0.0.1.invalid:11434",
        "https://example.invalid?@127.0.0.1:11434",
        "https://example.invalid#@localhost:11434",
    };
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
        set_unwrapped(i);
        run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--local-url", remote[i], NULL);
        CHECK(r.code == 2 && has(&r.err, "--allow-remote-worker"));
        if (r.code != 2) {
            fprintf(stderr, "  worker URL %s taken for loopback (exit %d)\n", remote[i], r.code);
        }
        e2e_out_free(&r);
    }
    set_unwrapped(0);
}

/*
 * Several local engines (docs/scale-out.md): minions spreads its jobs over two llm-sims, at
 * most one request at a time at each; an engine down from the start is skipped; all down is
 * exit 7 naming them, before the supervisor is contacted. (An engine stopped in the middle
 * of a batch: test_pool's test_spread_failover.)
 */
static void test_minions_engines(void)
{
    e2e_out r;
    e2e_server w2;
    char sw[PATH_MAX], log2[PATH_MAX], list[160], dead1[64], dead2[64];
    e2e_world_path(&W, sw, "script-w.json");
    e2e_world_path(&W, log2, "engine-w2.log");
    if (e2e_world_sim(&W, &w2, &(e2e_sim_cfg){.script = sw, .log = log2}) != 0) {
        CHECK(!"second worker engine started");
        return;
    }
    char wurl2[64];
    e2e_url(wurl2, "http", w2.port);
    snprintf(list, sizeof list, "%s,%s", E.wurl, wurl2);
    long before = e2e_file_lines(E.log_w);
    run(&r, "--protocol", "minions", "--jobs", "4", "--local-jobs", "1", "--local-url", list,
        "--task", TASK, "--context", E.docs, "--no-log", "--json", NULL);
    CHECK(r.code == 0);
    CHECK(has(&r.out, ANSWER_MINIONS));
    CHECK(has(&r.err, "on 2 engines") && has(&r.err, "worker engine 2: "));
    e2e_out_free(&r);
    CHECK(e2e_file_lines(E.log_w) > before && e2e_file_lines(log2) > 0); /* both worked */

    snprintf(dead1, sizeof dead1, "http://127.0.0.1:%u", e2e_free_port());
    snprintf(dead2, sizeof dead2, "http://127.0.0.1:%u", e2e_free_port());
    run(&r, "--protocol", "minions", "--local-url", dead1, "--local-url", wurl2, "--task",
        TASK, "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 0 && has(&r.out, ANSWER_MINIONS));
    e2e_out_free(&r);

    long before_sup = e2e_file_lines(E.sup.out);
    run(&r, "--protocol", "minions", "--local-url", dead1, "--local-url", dead2, "--task", TASK,
        "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 7);
    CHECK(has(&r.err, "none of the 2 local model engines") && has(&r.err, dead1) &&
          has(&r.err, dead2) && has(&r.err, "Nothing was sent to the supervisor"));
    e2e_out_free(&r);
    CHECK(e2e_file_lines(E.sup.out) == before_sup); /* not even a handshake */

    /* at most 8 engines; none empty; --local-jobs 1..64; each URL checked like the first */
    run(&r, "--local-url", "http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3,"
        "http://127.0.0.1:4,http://127.0.0.1:5,http://127.0.0.1:6,http://127.0.0.1:7,"
        "http://127.0.0.1:8,http://127.0.0.1:9", "--task", TASK, "--no-log", NULL);
    CHECK(r.code == 2 && has(&r.err, "at most 8 engines"));
    e2e_out_free(&r);
    set_unwrapped(1); /* quick mode: the other refusals of the engine list unwrapped */
    run(&r, "--local-url", "http://127.0.0.1:1,,http://127.0.0.1:2", "--task", TASK, NULL);
    CHECK(r.code == 2);
    e2e_out_free(&r);
    run(&r, "--local-jobs", "0", "--task", TASK, NULL);
    CHECK(r.code == 2);
    e2e_out_free(&r);
    run(&r, "--local-url", E.wurl, "--local-url", "http://192.0.2.10:11434", "--task", TASK,
        "--context", E.docs, "--no-log", NULL);
    CHECK(r.code == 2 && has(&r.err, "--allow-remote-worker"));
    e2e_out_free(&r);
    set_unwrapped(0);
    CHECK(e2e_server_stop(&w2, E2E_STOP_GRACE_MS) == 0);
}

/* The supervisor's preset: --backend-model cybertron-70b asks its engine for the 70B model. */
static void test_supervisor_preset(void)
{
    e2e_server sup2;
    e2e_sup_cfg sc = {.bin = W.sup_bin, .dir = W.dir, .cert = W.cert, .key = W.key,
                      .devkey = W.devkey, .backend_port = E.sim_a.port,
                      .extra = {"--backend-model", "cybertron-70b"}};
    e2e_out r;
    char url[64];
    if (e2e_sup_start(&sup2, &sc) != 0) {
        CHECK(!"start");
        return;
    }
    snprintf(url, sizeof url, "https://127.0.0.1:%u", sup2.port);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--supervisor_url", url, NULL);
    CHECK(r.code == 0);
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_a, "\"model\":\"trend-cybertron/Llama-Primus-Nemotron-70B-Instruct\""));
    CHECK(e2e_server_stop(&sup2, 5000) == 0);
}

static void stdin_run(e2e_out *r, const char *request_file)
{
    const char *args[] = {"run", "--stdin-json", "--cacert", W.ca, "--log-key", W.logkey, NULL};
    e2e_cmd cmd = CLI;
    cmd.stdin_path = request_file;
    cmd.wrap = !unwrapped;
    e2e_world_run(&W, &cmd, args, r);
}

/* --stdin-json: the reference's container request in, {success, result, error} out. */
static void test_stdin_json(void)
{
    e2e_out r;
    char req[PATH_MAX], text[6 * PATH_MAX];
    next_path(req, "request.json");
    snprintf(text, sizeof text,
             "{\"local_client\": {\"type\": \"ollama\", \"model_name\": \"stdin-model\", "
             "\"base_url\": \"%s\"},\n"
             " \"remote_client\": {\"type\": \"secure\", \"supervisor_url\": \"%s\", "
             "\"trusted_attestation_pem\": \"%s\"},\n"
             " \"protocol\": \"minion\",\n"
             " \"call_params\": {\"task\": \"%s\", \"context\": [\"%s\"], \"context_paths\": "
             "[\"%s\"], \"max_rounds\": 3, \"doc_metadata\": \"shift notes\"}}\n",
             E.wurl, E.url, W.devpub, TASK, SECRETS[0], E.docs);
    CHECK(e2e_file_write(req, text) == 0);
    stdin_run(&r, req);
    CHECK(r.code == 0);
    ms_json_doc *d = json_of(&r.out);
    ms_json_val o = ms_json_root(d), res, err;
    bool ok = false;
    CHECK_OK(ms_json_get_bool(o, "success", &ok));
    CHECK(ok);
    CHECK_OK(ms_json_get_obj(o, "result", &res));
    CHECK(str_is(res, "final_answer", ANSWER_MINION));
    CHECK(str_is(res, "outcome", "answer"));
    CHECK_OK(ms_json_get(o, "error", &err));
    CHECK(ms_json_type_of(err) == MS_JSON_NULL);
    ms_json_free(d);
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_w, "\"model\":\"stdin-model\""));
    CHECK(e2e_file_contains(E.log_a, "shift notes")); /* the metadata, as asked */
    CHECK(no_secret_in(E.log_a));

    /* A remote that is not an attested supervisor is refused, naming the field. */
    snprintf(text, sizeof text,
             "{\"remote_client\": {\"type\": \"openai\", \"model_name\": \"gpt-4o\"}, "
             "\"call_params\": {\"task\": \"x\", \"context\": \"y\"}}");
    CHECK(e2e_file_write(req, text) == 0);
    stdin_run(&r, req);
    CHECK(r.code == 2);
    d = json_of(&r.out);
    o = ms_json_root(d);
    CHECK_OK(ms_json_get_bool(o, "success", &ok));
    CHECK(!ok);
    const char *msg = NULL;
    size_t n;
    CHECK_OK(ms_json_get_str(o, "error", 4096, &msg, &n));
    CHECK(msg && strstr(msg, "remote_client.type") && strstr(msg, "minions-supervisor"));
    ms_json_free(d);
    e2e_out_free(&r);

    /* Unknown fields, bad JSON, too big: refused with the reason, exit 2. */
    static const char *const bad[][2] = {
        {"{\"call_params\": {\"task\": \"x\", \"chunk_fn\": \"chunk_by_section\"}}",
         "call_params.chunk_fn"},
        {"{\"call_params\": {\"task\": \"x\"}, \"extra\": 1}", "extra: not a field"},
        {"{\"call_params\": {\"task\": \"x\", \"is_privacy\": true}}", "is_privacy"},
        {"{\"call_params\": [1, 2]}", "must be objects"},
        {"{\"call_params\": {\"task\": ", "not valid JSON"},
        {"[]", "must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(e2e_file_write(req, bad[i][0]) == 0);
        set_unwrapped(i);
        stdin_run(&r, req);
        CHECK(r.code == 2);
        CHECK(has(&r.out, "\"success\":false") && has(&r.out, bad[i][1]));
        e2e_out_free(&r);
    }
    set_unwrapped(0);
    FILE *f = fopen(req, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"call_params\": {\"task\": \"x\", \"context\": \"", f);
        for (size_t w = 0; w < 9u * 1024u * 1024u; w += strlen(SECRETS[2])) {
            fputs(SECRETS[2], f);
        }
        fputs("\"}}", f);
        fclose(f);
    }
    stdin_run(&r, req);
    CHECK(r.code == 2 && has(&r.out, "context_paths") && !has(&r.out, "Osprey"));
    e2e_out_free(&r);
}

/* Usage errors: exit 2, and the message names the flag. */
static void test_usage(void)
{
    static const struct {
        const char *flag, *value, *named;
    } cases[] = {
        {"--protocol", "minionz", "--protocol"},
        {"--jobs", "0", "--jobs"},
        {"--max_rounds", "33", "--max_rounds"},
        {"--max-rounds", "x", "--max-rounds"},
        {"--local_client_type", "lmstudio", "--local_client_type"},
        {"--num-ctx", "12", "--num-ctx"},
        {"--frobnicate", "1", "--frobnicate"},
    };
    e2e_out r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        set_unwrapped(i);
        run(&r, "--task", TASK, "--context", E.docs, cases[i].flag, cases[i].value, NULL);
        CHECK(r.code == 2);
        CHECK(has(&r.err, cases[i].named));
        CHECK(has(&r.err, "minions-secure run --help"));
        e2e_out_free(&r);
    }
    set_unwrapped(0);
    /* Texts the supervisor would receive: checked, and named, before it is contacted. */
    static char big[MS_MAX_PROTO_TASK + 2];
    memset(big, 'm', sizeof big - 1);
    long before_sup = file_size(E.sup.out);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--doc-metadata", big, NULL);
    CHECK(r.code == 2 && has(&r.err, "--doc-metadata is 65537 bytes"));
    e2e_out_free(&r);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--system_prompt", "bad \xff", NULL);
    CHECK(r.code == 2 && has(&r.err, "--system_prompt must be UTF-8 text"));
    e2e_out_free(&r);
    CHECK(file_size(E.sup.out) == before_sup); /* no handshake for either */
    set_unwrapped(1); /* quick mode: the option parser's other refusals and --help unwrapped */
    run(&r, "--context", E.docs, NULL);
    CHECK(r.code == 2 && has(&r.err, "--task is required"));
    e2e_out_free(&r);
    run(&r, "--task", TASK, NULL);
    CHECK(r.code == 2 && has(&r.err, "--context FILE|DIR is required"));
    e2e_out_free(&r);
    run(&r, "--task", TASK, "--context", E.docs, "--no-log", "--log", "/tmp/x", NULL);
    CHECK(r.code == 2 && has(&r.err, "--no-log"));
    e2e_out_free(&r);
    char missing[PATH_MAX];
    e2e_path(missing, "%s/no-such-file.txt", E.docs);
    run(&r, "--task", TASK, "--context", missing, NULL);
    CHECK(r.code == 2 && has(&r.err, missing) && has(&r.err, "No such file"));
    e2e_out_free(&r);
    /* No command: --task picks run. Help and exit statuses. */
    run_raw(&r, "--task", TASK, NULL);
    CHECK(r.code == 2 && has(&r.err, "--supervisor_url"));
    e2e_out_free(&r);
    run_raw(&r, "run", "--help", NULL);
    CHECK(r.code == 0 && has(&r.out, "Exit status:") && has(&r.out, "7  the local model") &&
          has(&r.out, "MINIONS_LOCAL") && has(&r.out, "--stdin-json"));
    e2e_out_free(&r);
    run_raw(&r, "--help", NULL);
    CHECK(r.code == 0 && has(&r.out, "run "));
    e2e_out_free(&r);
    set_unwrapped(0);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_run_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc, argv);
    W.wrapper_env = "MS_RUN_WRAPPER";
    if (rc != 0 || setup() != 0) {
        return e2e_world_close(&W, rc ? rc : 1);
    }
    RUN(test_minion);
    RUN(test_json);
    RUN(test_minions);
    RUN(test_log_context);
    RUN(test_worker_down);
    RUN(test_limits);
    RUN(test_no_answer);
    RUN(test_log_write_fails);
    RUN(test_minions_local);
    RUN(test_minions_engines);
    RUN(test_supervisor_preset);
    RUN(test_stdin_json);
    RUN(test_usage);
    CHECK(e2e_stop_all(&E.sup, &E.sim_a, &E.sim_w, NULL) == 0); /* clean exits, no reports */
    return e2e_world_close(&W, TEST_SUMMARY());
}

/*
 * Minion and Minions end to end: a real minions-supervisor (dev-key evidence, HTTPS) whose
 * engine is llm-sim A, llm-sim B as the local worker engine (Ollama wire format), and the
 * protocols driven in-process over the attested channel (apps/minions-secure/remote.c). Both
 * simulators record every request (--log): A's record is what the supervisor's model saw,
 * and the core check is that no sentence of the context is in it.
 *
 * Usage: test_protocols_e2e SUPERVISOR LLM-SIM SOURCE-DIR
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/json.h"
#include "common/limits.h"
#include "protocols/protocol.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "secure/client/client.h"
#include "apps/minions-secure/remote.h"
#include "apps/minions-secure/session_log.h"
#include "apps/minions-secure/worker.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define PAGES 200
#define WORKER_TIMEOUT_MS 20000
#define SLOW_TIMEOUT_MS 2500 /* the engine timeout in the timeout case */
#define SLOW_DELAY_MS 5000   /* the slow job's delay: over SLOW_TIMEOUT_MS */

static e2e_world W; /* programs, certs/dev, the dev key, the temp dir */
static struct env {
    char script_a[PATH_MAX], script_b[PATH_MAX], log_a[PATH_MAX], log_b[PATH_MAX];
    e2e_stack st;    /* llm-sim A and the supervisor */
    e2e_server sim_b; /* the worker's engine */
    char worker_url[64];
    ms_client *client;
    ms_remote_client rc;
    ms_alog_key log_key;
    unsigned logs;
} E;

/* --- scripts --------------------------------------------------------------------------------- */

/* Sentences of the small context (SLOW_MARKS) that some worker replies copy out. */
#define HOST_NOTE "Analyst note MARK-HOST-A: the host web-042 kept a beacon to a remote address"
#define STORAGE_NOTE "Storage note MARK-SLOW: the archive volume answered slowly during the export"
#define GARBLE_NOTE "Scanner note MARK-GARBLE: the scanned page could not be read by the converter"
#define BULK_PAGES 100

/*
 * Worker replies built at start-up (longer than the cuts applied to what the supervisor
 * receives, with a context sentence past the cut): the log must not hold more of them than
 * the supervisor received, unless log_context.
 */
static char g_host_reply[2 * MS_MAX_JOB_FIELD + 512]; /* its citation: padding, HOST_NOTE */
static char g_long_answer[MS_MAX_WORKER_ANSWER + 512]; /* padding, then STORAGE_NOTE */
static char g_bulk_reply[4 * MS_MAX_JOB_FIELD];        /* three fields just under the cut */

typedef struct rule {
    const char *role; /* NULL: user */
    const char *contains;
    const char *reply;
    unsigned delay_ms;
} rule;

/*
 * The supervisor's engine (A). Rules see the LAST user message: round 1 holds the task, later
 * rounds the worker's answer or the job results, a re-ask the correction (which quotes the
 * unusable reply or the reason a plan was refused).
 */
#define PLAN_FULL                                                                                  \
    "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":["                                             \
    "{\"id\":\"hosts\",\"instruction\":\"Name any compromised host in this excerpt.\"},"           \
    "{\"id\":\"time\",\"instruction\":\"Give the time of any intrusion in this excerpt.\"}],"      \
    "\"chunking\":{\"method\":\"pages\",\"size\":4000}}}"
#define PLAN_SLOW                                                                                  \
    "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":["                                             \
    "{\"id\":\"hosts\",\"instruction\":\"Name any compromised host in this excerpt.\"}],"          \
    "\"chunking\":{\"method\":\"pages\",\"size\":4000}}}"
#define PLAN_1GB                                                                                   \
    "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":[{\"id\":\"a\",\"instruction\":\"x\"}],"       \
    "\"chunking\":{\"method\":\"fixed\",\"size\":1073741824}}}"
#define T16(i) "{\"id\":\"t" #i "\",\"instruction\":\"find item " #i "\"}"
#define PLAN_1M_JOBS                                                                               \
    "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":[" T16(0) "," T16(1) "," T16(2) "," T16(3)     \
    "," T16(4) "," T16(5) "," T16(6) "," T16(7) "," T16(8) "," T16(9) "," T16(10) "," T16(11)      \
    "," T16(12) "," T16(13) "," T16(14) "," T16(15) "],"                                           \
    "\"chunking\":{\"method\":\"fixed\",\"size\":16}}}"
#define PLAN_CUT                                                                                   \
    "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":["                                             \
    "{\"id\":\"quote\",\"instruction\":\"Quote this excerpt in full. [cutjob]\"},"              \
    "{\"id\":\"hosts\",\"instruction\":\"Name any compromised host in this excerpt.\"}],"       \
    "\"chunking\":{\"method\":\"pages\",\"size\":4000}}}"
#define FINAL(a) "{\"decision\":\"provide_final_answer\",\"answer\":\"" a "\"}"
#define ASK(q) "{\"decision\":\"request_additional_info\",\"message\":\"" q "\"}"
#define INVALID "{\"decision\": \"provide_final_answer\", \"answer\": 'single quoted' [bad-json]}"

static const rule SUP_RULES[] = {
    /* Minion, full run */
    {NULL, "[minion-full]", "<think>I need the start time.</think>\n"
                            ASK("When did the intrusion begin, and how? [q-begin]"), 0},
    {NULL, "[w-begin]", FINAL("The intrusion began at 03:14 UTC through a phishing invoice."), 0},
    /* messy replies */
    {NULL, "[messy-fence]", "Here you go:\n```json\n" FINAL("fenced ok") "\n```\n", 0},
    {NULL, "[messy-prose]", "My decision follows. " FINAL("prose ok") " I hope this helps!", 0},
    {NULL, "[messy-think]", "<think>Maybe {\"decision\": \"cannot_answer\"}? No.</think>"
                            FINAL("think ok"), 0},
    {NULL, "[messy-invalid]", INVALID, 0},
    {NULL, "[bad-json]", INVALID, 0}, /* the re-ask quotes it: it stays invalid */
    {NULL, "[messy-recover]", "{\"decision\": provide_final_answer [oops-recover]}", 0},
    {NULL, "[oops-recover]", FINAL("recovered"), 0},
    {NULL, "[messy-unknown]", "{\"decision\":\"maybe_later\",\"answer\":\"x\"}", 0},
    {NULL, "is \"maybe_later\"", "{\"decision\":\"maybe_later\",\"answer\":\"x\"}", 0},
    {NULL, "[messy-empty]", FINAL(""), 0},
    {NULL, "\"answer\" is empty", FINAL("not empty now"), 0},
    /* a worker answer longer than what the supervisor receives */
    {NULL, "[minion-long]", ASK("Tell me everything. [q-long]"), 0},
    {NULL, "[w-long]", FINAL("long ok"), 0},
    /* Minions: more answers than the results message holds */
    {NULL, "[minions-bulk]", PLAN_SLOW, 0},
    {NULL, "more answers not shown", FINAL("bulk ok"), 0},
    /* max_rounds: a supervisor that keeps asking, even when re-asked in the last round (the
       re-ask's last assistant message is its own question, echoed) */
    {NULL, "[rounds]", ASK("Anything else? [q-rounds]"), 0},
    {NULL, "[w-rounds]", ASK("Anything else? [q-rounds]"), 0},
    {"assistant", "[q-rounds]", ASK("Anything else? [q-rounds]"), 0},
    /* the last round: asked again, then answers */
    {NULL, "[last-yield]", ASK("One more fact? [q-last-yield]"), 0},
    {"assistant", "[q-last-yield]", FINAL("answered when told to"), 0},
    /* Minions, a job that times out and one whose replies stay unusable (first: its results
       name web-042 too) */
    {NULL, "[minions-slow]", PLAN_SLOW, 0},
    {NULL, "2 failed (1 timed out)", FINAL("web-042, although two excerpts could not be read."),
     0},
    /* Minions, full run: 200 pages, two tasks */
    {NULL, "[minions-full]", PLAN_FULL, 0},
    {NULL, "web-042 is compromised", FINAL("Host web-042 was compromised; it beaconed out."), 0},
    /* Minions, plans over the caps */
    {NULL, "[minions-huge]", PLAN_1GB, 0},
    {NULL, "1073741824 is over the cap", PLAN_1M_JOBS, 0},
    {NULL, "(1000000 jobs)", FINAL("The plans were too large; no answer from the documents."), 0},
    /* token limits (docs/protocols.md): the worker's answer cut, the supervisor's reply cut */
    {NULL, "[minion-cut-think]", ASK("What does the report say? [q-cut-think]"), 0},
    {NULL, "token limit while still reasoning", FINAL("cut reasoning noted"), 0},
    {NULL, "[minion-cut-text]", ASK("Which host? [q-cut-text]"), 0},
    {NULL, "[INCOMPLETE: the worker reached its token limit", FINAL("fragment noted"), 0},
    {NULL, "[minion-reask]", ASK("Which host, in full? [q-reask]"), 0},
    {NULL, "[w-reask] five", FINAL("whole after the re-ask"), 0},
    {NULL, "[minions-cut]", PLAN_CUT, 0},
    {NULL, "4 cut off at the worker's token limit", FINAL("cut jobs noted"), 0},
    /* worker down: never reached */
    {NULL, "[worker-down]", FINAL("should not happen"), 0},
};

/* The worker engine (B): Minion questions by the last user message, jobs by their chunk. */
#define JOB_NULL "{\"explanation\":\"nothing relevant\",\"citation\":null,\"answer\":null}"
/* Replies cut at the token limit every time (re-asks too): llm-sim's finish_reason "length". */
static const rule SUP_CUT_RULES[] = {
    {NULL, "[sup-cut]", "{\"decision\": \"provide_final_answer\", \"answer\": \"The host", 0},
};
static const rule WORKER_CUT_RULES[] = {
    {NULL, "[cutjob]", "{\"explanation\":\"the excerpt says\",\"citation\":\"Entry", 0},
    {NULL, "[q-cut-think]", "<think>The report is long, so I", 0},
    {NULL, "[q-cut-text]", "Partial finding: the host web", 0},
};

static const rule WORKER_RULES[] = {
    {NULL, "[q-reask]", "[w-reask] five", 0},
    {NULL, "[q-long]", g_long_answer, 0},
    {NULL, "[q-begin]", "<think>Looking at the report.</think>The documents say it began at "
                        "03:14 UTC when someone opened an invoice attachment. [w-begin]", 0},
    {NULL, "[q-rounds]", "Nothing more found. [w-rounds]", 0},
    {"system", "MARK-HOST-A", g_host_reply, 0},
    {"system", "MARK-BULK", g_bulk_reply, 0},
    {"system", "MARK-SLOW", JOB_NULL, SLOW_DELAY_MS},
    /* unusable, and quoting its chunk: the re-ask's reason quotes this output */
    {"system", "MARK-GARBLE", "Sorry, I will not use JSON today. " GARBLE_NOTE ".", 0},
};

/* n bytes of filler text (no context sentence) into out. */
static void pad(char *out, size_t n, char c)
{
    memset(out, c, n);
    out[n] = '\0';
}

static void make_replies(void)
{
    static char p1[MS_MAX_JOB_FIELD + 101], p2[MS_MAX_WORKER_ANSWER + 101];
    static char fa[MS_MAX_JOB_FIELD - 23], fc[MS_MAX_JOB_FIELD - 23], fe[MS_MAX_JOB_FIELD - 23];
    pad(p1, sizeof p1 - 1, 'x');
    pad(p2, sizeof p2 - 1, 'y');
    pad(fa, sizeof fa - 1, 'a');
    pad(fc, sizeof fc - 1, 'c');
    pad(fe, sizeof fe - 1, 'e');
    snprintf(g_host_reply, sizeof g_host_reply,
             "```json\n{\"explanation\":\"the note names it\",\"citation\":\"beacon %s " HOST_NOTE
             "\",\"answer\":\"web-042 is compromised\"}\n```",
             p1);
    snprintf(g_long_answer, sizeof g_long_answer, "[w-long] %s " STORAGE_NOTE ".", p2);
    snprintf(g_bulk_reply, sizeof g_bulk_reply,
             "{\"explanation\":\"%s\",\"citation\":\"%s\",\"answer\":\"%s\"}", fe, fc, fa);
}

/* length: llm-sim says every reply of these rules was cut at the token limit. */
static ms_err add_rules(ms_json_wval arr, const rule *r, size_t n, bool length)
{
    ms_json_wval o;
    for (size_t i = 0; i < n; i++) {
        ms_err e = ms_json_add_obj(arr, NULL, &o);
        if (e == MS_OK && r[i].role) {
            e = ms_json_add_cstr(o, "role", r[i].role);
        }
        if (e == MS_OK) {
            e = ms_json_add_cstr(o, "contains", r[i].contains);
        }
        if (e == MS_OK) {
            e = ms_json_add_cstr(o, "reply", r[i].reply);
        }
        if (e == MS_OK && r[i].delay_ms) {
            e = ms_json_add_u64(o, "delay_ms", r[i].delay_ms);
        }
        if (e == MS_OK && length) {
            e = ms_json_add_cstr(o, "finish_reason", "length");
        }
        if (e != MS_OK) {
            return e;
        }
    }
    return MS_OK;
}

/* The script: the rules cut at the token limit first, then the others. */
static int write_script(const char *path, const rule *cut, size_t n_cut, const rule *r, size_t n,
                        const char *def)
{
    ms_json_builder *b = NULL;
    ms_json_wval root, arr;
    ms_buf out;
    ms_buf_init(&out, 1u << 20);
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (e == MS_OK) {
        e = ms_json_add_arr(root, "rules", &arr);
    }
    if (e == MS_OK) {
        e = add_rules(arr, cut, n_cut, true);
    }
    if (e == MS_OK) {
        e = add_rules(arr, r, n, false);
    }
    if (e == MS_OK) {
        e = ms_json_add_cstr(root, "default", def);
    }
    if (e == MS_OK) {
        e = ms_json_builder_print(b, &out);
    }
    if (e == MS_OK) {
        e = ms_buf_terminate(&out);
    }
    int rc = e == MS_OK ? e2e_file_write(path, (const char *)out.p) : -1;
    ms_json_builder_free(b);
    ms_buf_free(&out);
    return rc;
}

/* --- the documents ---------------------------------------------------------------------------- */

/*
 * PAGES pages separated by form feeds (one chunk each with the "pages" method). Every sentence
 * is distinct, ASCII, and free of characters JSON escapes, so it appears verbatim in a
 * simulator's record if it was ever sent.
 */
static void make_context(ms_buf *b, const char *const *marks, const unsigned *mark_pages,
                         size_t n_marks, unsigned pages)
{
    char line[512];
    for (unsigned i = 0; i < pages; i++) {
        snprintf(line, sizeof line,
                 "%sEntry %u of the incident log. At 02:%02u:%02u UTC the sensor on host "
                 "web-%03u logged event %u from 10.20.%u.%u. The operator on shift "
                 "acknowledged alert number %u without escalation.\n",
                 i ? "\f" : "", i, i % 60, (i * 7) % 60, i, 4000 + i * 13, i % 256, (i * 31) % 256,
                 90000 + i);
        CHECK_OK(ms_buf_append_str(b, line));
        for (size_t k = 0; k < n_marks; k++) {
            if (mark_pages[k] == i) {
                CHECK_OK(ms_buf_append_str(b, marks[k]));
            }
        }
    }
    CHECK_OK(ms_buf_terminate(b));
}

static const char *const FULL_MARKS[] = {
    "Analyst note MARK-HOST-A: the host web-042 kept a beacon to a remote address every sixty "
    "seconds after the invoice attachment was opened at 03:14 UTC.\n"};
static const unsigned FULL_MARK_PAGES[] = {42};
static const char *const SLOW_MARKS[] = {HOST_NOTE ".\n", STORAGE_NOTE ".\n", GARBLE_NOTE ".\n"};
static const unsigned SLOW_MARK_PAGES[] = {2, 5, 7};

/* How many of the context's sentences (24 characters or more) are in the record; `say` prints
 * each one found. */
static size_t sentences_in(const char *context, const char *record, bool say, size_t *checked)
{
    size_t found = 0;
    const char *s = context;
    *checked = 0;
    while (*s) {
        size_t n = strcspn(s, ".\n\f");
        while (n > 0 && *s == ' ') {
            s++;
            n--;
        }
        if (n >= 24) {
            char sentence[512];
            snprintf(sentence, sizeof sentence, "%.*s", (int)n, s);
            (*checked)++;
            if (strstr(record, sentence)) {
                found++;
                if (say) {
                    fprintf(stderr, "  context sentence in the record: \"%s\"\n", sentence);
                }
            }
        }
        s += n + (s[n] != '\0');
    }
    return found;
}

static size_t count_in(const char *path, const char *needle)
{
    ms_buf b;
    size_t n = 0;
    ms_buf_init(&b, 256u << 20);
    if (e2e_file_read(path, &b) == 0 && b.p) {
        for (const char *p = (const char *)b.p; (p = strstr(p, needle)) != NULL; p++) {
            n++;
        }
    }
    ms_buf_free(&b);
    return n;
}

#define A_TURNS() count_in(E.log_a, "\"path\":\"/v1/chat/completions\"")
#define B_CHATS() count_in(E.log_b, "\"path\":\"/api/chat\"")

/* --- running a protocol --------------------------------------------------------------------- */

typedef struct progress_rec {
    size_t calls, max_done, max_total;
    unsigned max_round;
} progress_rec;

static void on_progress(void *ctx, const ms_progress *p)
{
    progress_rec *r = ctx;
    r->calls++;
    if (p->round > r->max_round) {
        r->max_round = p->round;
    }
    if (strcmp(p->phase, "jobs") == 0 && p->jobs_done > r->max_done) {
        r->max_done = p->jobs_done;
        r->max_total = p->jobs_total;
    }
}

typedef struct run_opts {
    bool minions;
    const char *task;
    const char *context;
    unsigned max_rounds, jobs;
    const ms_llm_engine *worker; /* NULL: B with the default timeout */
    int worker_max_tokens;       /* 0: the engine's default */
    bool with_log, log_context;
    char log_path[PATH_MAX]; /* out: the log written */
    progress_rec progress;
} run_opts;

static void run(run_opts *o, ms_proto_result *r)
{
    ms_llm_engine worker = {.kind = MS_LLM_OLLAMA, .base_url = E.worker_url, .model = "worker",
                            .timeout_ms = WORKER_TIMEOUT_MS};
    ms_alog *log = NULL;
    ms_worker_engine we = {.engine = o->worker ? o->worker : &worker};
    if (o->with_log) {
        e2e_path(o->log_path, "%s/session%u.ndjson", W.dir, ++E.logs);
        CHECK_OK(ms_alog_open(&log, o->log_path, &E.log_key, o->minions ? "minions" : "minion",
                              NULL));
    }
    ms_slog slog = {.log = log}; /* the program's session log, over this test's file */
    ms_proto_cfg cfg = {.task = o->task,
                        .context = o->context,
                        .context_len = strlen(o->context),
                        .doc_metadata = "An incident report exported from the ticket system.",
                        .max_rounds = o->max_rounds ? o->max_rounds : 3,
                        .max_format_retries = 2,
                        .jobs = o->jobs ? o->jobs : 8,
                        .worker = ms_worker_over_engine(&we),
                        .worker_temperature = -1.0,
                        .worker_max_tokens = o->worker_max_tokens,
                        .remote = ms_remote_over_client(&E.rc),
                        .sink = ms_slog_sink(&slog),
                        .log_context = o->log_context,
                        .progress = on_progress,
                        .progress_ctx = &o->progress};
    ms_proto_result_init(r);
    CHECK_OK(o->minions ? ms_minions_run(&cfg, r) : ms_minion_run(&cfg, r));
    if (log) {
        CHECK_OK(ms_alog_close(log));
    }
    fprintf(stderr, "  outcome %d, %u rounds, jobs %zu (%zu failed), err %s, why \"%s\"\n",
            (int)r->outcome, r->rounds, r->jobs_run, r->jobs_failed, ms_err_name(r->err), r->why);
}

static bool answer_is(const ms_proto_result *r, const char *want)
{
    return r->outcome == MS_OUTCOME_ANSWER && r->answer.len == strlen(want) &&
           memcmp(r->answer.p, want, r->answer.len) == 0;
}

/* The log verifies, holds these event types, and (unless log_context) no context sentence. */
static void check_log(const run_opts *o, const char *const *types, size_t n_types)
{
    ms_buf b;
    ms_alog_report rep;
    size_t checked;
    ms_buf_init(&b, 64u << 20);
    CHECK(e2e_file_read(o->log_path, &b) == 0);
    CHECK_OK(ms_alog_verify(b.p, b.len, E.log_key.pk, &rep));
    CHECK(rep.verdict == MS_ALOG_VALID);
    for (size_t i = 0; i < n_types; i++) {
        char t[64];
        snprintf(t, sizeof t, "\"type\":\"%s\"", types[i]);
        if (!strstr((const char *)b.p, t)) {
            TEST_FAIL_("the log has no %s event", types[i]);
        }
    }
    size_t found = sentences_in(o->context, (const char *)b.p, !o->log_context, &checked);
    CHECK(o->log_context ? found > 0 : found == 0);
    ms_buf_free(&b);
}

/* --- Minion ------------------------------------------------------------------------------- */

static ms_buf g_ctx_full, g_ctx_slow, g_ctx_big, g_ctx_small;

static void test_minion_full(void)
{
    ms_proto_result r;
    size_t b0 = B_CHATS();
    run_opts o = {.task = "How did the intrusion begin? [minion-full]",
                  .context = (const char *)g_ctx_full.p, .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "The intrusion began at 03:14 UTC through a phishing invoice."));
    CHECK(r.rounds == 2);
    CHECK(B_CHATS() - b0 == 1); /* one question, one worker call */
    CHECK(r.remote_prompt_tokens > 0 && r.local_prompt_tokens > 0);
    CHECK(o.progress.calls >= 3);
    /* The worker's answer reached the supervisor without its <think> block. */
    CHECK(count_in(E.log_a, "opened an invoice attachment. [w-begin]") == 1);
    CHECK(count_in(E.log_a, "Looking at the report.") == 0);
    /* The context did reach the worker. */
    CHECK(count_in(E.log_b, "Analyst note MARK-HOST-A: the host web-042 kept a beacon") >= 1);
    static const char *const types[] = {"supervisor_turn", "worker_turn", "final"};
    check_log(&o, types, 3);
    ms_proto_result_free(&r);
}

/* One Minion run on the small context: outcome and A's requests in this run. */
static size_t minion_case(const char *task, unsigned max_rounds, ms_proto_result *r)
{
    size_t a0 = A_TURNS();
    run_opts o = {.task = task, .context = (const char *)g_ctx_slow.p, .max_rounds = max_rounds};
    run(&o, r);
    return A_TURNS() - a0;
}

static void test_messy_supervisor(void)
{
    ms_proto_result r;
    CHECK(minion_case("Summarise. [messy-fence]", 3, &r) == 1);
    CHECK(answer_is(&r, "fenced ok"));
    ms_proto_result_free(&r);
    CHECK(minion_case("Summarise. [messy-prose]", 3, &r) == 1);
    CHECK(answer_is(&r, "prose ok"));
    ms_proto_result_free(&r);
    CHECK(minion_case("Summarise. [messy-think]", 3, &r) == 1);
    CHECK(answer_is(&r, "think ok"));
    ms_proto_result_free(&r);

    /* Invalid JSON every time: the reply and two re-asks, then FAILED quoting the output. */
    CHECK(minion_case("Summarise. [messy-invalid]", 3, &r) == 3);
    CHECK(r.outcome == MS_OUTCOME_FAILED && r.err == MS_ERR_MODEL_OUTPUT && !r.worker_failed);
    CHECK(strstr(r.why, "unusable after 2 re-asks") != NULL);
    CHECK(strstr(r.why, "not valid JSON") != NULL);
    CHECK(strstr(r.why, "'single quoted' [bad-json]") != NULL);
    CHECK(count_in(E.log_a, "Your reply could not be used: model output has a JSON object") >= 2);
    ms_proto_result_free(&r);

    /* Invalid once, then usable. */
    CHECK(minion_case("Summarise. [messy-recover]", 3, &r) == 2);
    CHECK(answer_is(&r, "recovered"));
    ms_proto_result_free(&r);

    /* An unknown decision, every time. */
    CHECK(minion_case("Summarise. [messy-unknown]", 3, &r) == 3);
    CHECK(r.outcome == MS_OUTCOME_FAILED && r.err == MS_ERR_MODEL_OUTPUT);
    CHECK(strstr(r.why, "\"decision\" is \"maybe_later\"; it must be one of") != NULL);
    ms_proto_result_free(&r);

    /* An empty answer, corrected after the re-ask. */
    CHECK(minion_case("Summarise. [messy-empty]", 3, &r) == 2);
    CHECK(answer_is(&r, "not empty now"));
    ms_proto_result_free(&r);
}

/* A worker answer over MS_MAX_WORKER_ANSWER: the log keeps what the supervisor received. */
static void test_minion_long_answer(void)
{
    ms_proto_result r;
    run_opts o = {.task = "Tell me all. [minion-long]", .context = (const char *)g_ctx_slow.p,
                  .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "long ok"));
    CHECK(count_in(E.log_a, "[w-long] yyyy") == 1);
    static const char *const types[] = {"supervisor_turn", "worker_turn", "final"};
    check_log(&o, types, 3); /* STORAGE_NOTE, past the cut, is not in it */
    CHECK(count_in(o.log_path, "\"answer_truncated\":true") == 1);
    ms_proto_result_free(&r);
}

/* A question in the last round is re-asked (max_format_retries: 2); still asking: NO_ANSWER. */
static void test_max_rounds(void)
{
    ms_proto_result r;
    size_t b0 = B_CHATS(), a0 = A_TURNS(), c0 = count_in(E.log_a, "This is the last round:");
    run_opts o = {.task = "Keep asking. [rounds]", .context = (const char *)g_ctx_slow.p,
                  .max_rounds = 2, .with_log = true, .log_context = true};
    run(&o, &r);
    CHECK(r.outcome == MS_OUTCOME_NO_ANSWER && r.rounds == 2);
    CHECK(strstr(r.why, "max_rounds (2) reached") != NULL);
    CHECK(strstr(r.why, "in the last round, after 2 re-asks") != NULL);
    CHECK(B_CHATS() - b0 == 1); /* max_rounds - 1 worker calls */
    CHECK(A_TURNS() - a0 == 4); /* round 1; round 2 and its two re-asks */
    CHECK(count_in(E.log_a, "This is round 2 of 2, the last one") >= 1);
    CHECK(count_in(E.log_a, "This is the last round:") - c0 == 2); /* the re-asks' correction */
    static const char *const types[] = {"supervisor_turn", "worker_turn", "format_retry", "final"};
    check_log(&o, types, 4); /* with log_context the worker's prompt is in the log */
    CHECK(count_in(o.log_path, "\"type\":\"format_retry\"") == 2);
    CHECK(count_in(o.log_path, "\"round\":2,\"attempt\":0,\"who\":\"supervisor\",\"problem\":"
                               "\"asked again in the final round") == 1);
    CHECK(count_in(o.log_path, "\"outcome\":\"no_answer\"") == 1);
    ms_proto_result_free(&r);
}

/* A question in the last round, re-asked: the supervisor answers, and that is the outcome. */
static void test_last_round_reask(void)
{
    ms_proto_result r;
    size_t b0 = B_CHATS(), a0 = A_TURNS();
    run_opts o = {.task = "Answer now. [last-yield]", .context = (const char *)g_ctx_slow.p,
                  .max_rounds = 1, .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "answered when told to"));
    CHECK(r.rounds == 1);
    CHECK(A_TURNS() - a0 == 2); /* the question, then the answer to the re-ask */
    CHECK(B_CHATS() == b0);     /* the worker was not asked in the last round */
    static const char *const types[] = {"supervisor_turn", "format_retry", "final"};
    check_log(&o, types, 3);
    CHECK(count_in(o.log_path, "\"type\":\"format_retry\"") == 1);
    CHECK(count_in(o.log_path, "asked again in the final round") == 1);
    CHECK(count_in(o.log_path, "\"error\":\"MS_ERR_JSON_ENUM\"") == 1);
    ms_proto_result_free(&r);
}

/*
 * Token limits (docs/protocols.md, "When a model hits its token limit"). Minion: a worker
 * answer cut at the limit is asked again once with twice the limit; still cut, it reaches the
 * supervisor marked INCOMPLETE (or, cut inside <think>, as "no answer"), and the log says so.
 */
static void test_minion_worker_cut(void)
{
    ms_proto_result r;
    size_t b0 = B_CHATS();
    run_opts o = {.task = "What happened? [minion-cut-think]",
                  .context = (const char *)g_ctx_slow.p, .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "cut reasoning noted"));
    CHECK(B_CHATS() - b0 == 2); /* the question, and its one re-ask with a larger limit */
    CHECK(count_in(E.log_b, "\"num_predict\":") >= 1);
    CHECK(count_in(E.log_a, "The report is long") == 0); /* the reasoning never went up */
    static const char *const types[] = {"supervisor_turn", "worker_turn", "final"};
    check_log(&o, types, 3);
    CHECK(count_in(o.log_path, "\"finish_reason\":\"length\",\"truncated\":true") == 1);
    CHECK(count_in(o.log_path, "\"reask_max_tokens\":") == 1);
    ms_proto_result_free(&r);

    b0 = B_CHATS();
    run_opts o2 = {.task = "Which host? [minion-cut-text]", .context = (const char *)g_ctx_slow.p};
    run(&o2, &r);
    CHECK(answer_is(&r, "fragment noted"));
    CHECK(B_CHATS() - b0 == 2);
    CHECK(count_in(E.log_a, "Partial finding: the host web\\n[INCOMPLETE: the worker reached") >= 1);
    ms_proto_result_free(&r);

    /* cut by the configured limit (3 tokens), whole at twice it: the whole answer goes up */
    b0 = B_CHATS();
    run_opts o3 = {.task = "Which host? [minion-reask]", .context = (const char *)g_ctx_slow.p,
                   .worker_max_tokens = 3};
    run(&o3, &r);
    CHECK(answer_is(&r, "whole after the re-ask"));
    CHECK(B_CHATS() - b0 == 2);
    CHECK(count_in(E.log_b, "\"num_predict\":3") >= 1 && count_in(E.log_b, "\"num_predict\":6") >= 1);
    ms_proto_result_free(&r);
}

/* The supervisor's reply cut at its limit: the run fails, saying so; never acted on. */
static void test_supervisor_cut(void)
{
    ms_proto_result r;
    for (int minions = 0; minions <= 1; minions++) {
        size_t a0 = A_TURNS(), b0 = B_CHATS();
        run_opts o = {.minions = minions, .task = "Which host? [sup-cut]",
                      .context = (const char *)g_ctx_slow.p, .with_log = true};
        run(&o, &r);
        CHECK(r.outcome == MS_OUTCOME_FAILED && r.err == MS_ERR_BACKEND_CUT && !r.worker_failed);
        CHECK(strstr(r.why, "stopped at its token limit in round 1") != NULL);
        CHECK(strstr(r.why, "INCOMPLETE") != NULL);
        CHECK(A_TURNS() - a0 == 1 && B_CHATS() == b0);
        static const char *const types[] = {"supervisor_turn", "final"};
        check_log(&o, types, 2);
        CHECK(count_in(o.log_path, "\"truncated\":true") == 1);
        CHECK(count_in(o.log_path, "\"error\":\"MS_ERR_BACKEND_CUT\"") >= 1);
        ms_proto_result_free(&r);
    }
}

static void test_worker_down(void)
{
    ms_proto_result r;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", e2e_free_port());
    ms_llm_engine down = {.kind = MS_LLM_OLLAMA, .base_url = url, .model = "worker",
                          .timeout_ms = 5000, .connect_timeout_ms = 2000};
    for (int minions = 0; minions <= 1; minions++) {
        size_t a0 = A_TURNS();
        run_opts o = {.minions = minions, .task = "Anything? [worker-down]",
                      .context = (const char *)g_ctx_slow.p, .worker = &down};
        run(&o, &r);
        CHECK(r.outcome == MS_OUTCOME_FAILED && r.worker_failed);
        CHECK(r.err == MS_ERR_BACKEND_UNAVAILABLE);
        CHECK(strstr(r.why, "no supervisor round was spent") != NULL);
        CHECK(r.rounds == 0 && r.remote_prompt_tokens == 0);
        CHECK(A_TURNS() == a0); /* not one request reached the supervisor's engine */
        ms_proto_result_free(&r);
    }
}

/* --- Minions -------------------------------------------------------------------------------- */

static void test_minions_full(void)
{
    ms_proto_result r;
    size_t b0 = B_CHATS();
    run_opts o = {.minions = true, .task = "Which host was compromised, and when? [minions-full]",
                  .context = (const char *)g_ctx_full.p, .jobs = 8, .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "Host web-042 was compromised; it beaconed out."));
    CHECK(r.rounds == 2 && r.jobs_run == 2 * PAGES && r.jobs_failed == 0);
    CHECK(B_CHATS() - b0 == 2 * PAGES); /* 200 chunks x 2 tasks, no more */
    CHECK(o.progress.max_done == 2 * PAGES && o.progress.max_total == 2 * PAGES);
    CHECK(count_in(E.log_a, "Results of round 1: 400 jobs ran (2 tasks x 200 chunks); 2 gave "
                            "an answer") == 1);
    static const char *const types[] = {"supervisor_turn", "plan", "jobs", "final"};
    check_log(&o, types, 4);
    ms_proto_result_free(&r);
}

static void test_minions_timeout(void)
{
    ms_proto_result r;
    ms_llm_engine slow = {.kind = MS_LLM_OLLAMA, .base_url = E.worker_url, .model = "worker",
                          .timeout_ms = SLOW_TIMEOUT_MS};
    size_t b0 = B_CHATS();
    run_opts o = {.minions = true, .task = "Which host? [minions-slow]",
                  .context = (const char *)g_ctx_slow.p, .jobs = 4, .worker = &slow,
                  .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "web-042, although two excerpts could not be read."));
    CHECK(r.jobs_run == 10 && r.jobs_failed == 2);
    /* 10 jobs, and the unusable one re-asked twice; the slow one is not re-asked. */
    CHECK(B_CHATS() - b0 == 12);
    CHECK(count_in(E.log_a, "1 gave an answer; 2 failed (1 timed out) and are not shown") == 1);
    /* The unusable output quotes its chunk (GARBLE_NOTE) and the citation holds HOST_NOTE
       past the cut: neither went to the supervisor, so neither is in the log. */
    CHECK(count_in(E.log_b, "Your reply could not be used: model output") >= 2); /* quoted */
    static const char *const types[] = {"supervisor_turn", "plan", "jobs", "format_retry",
                                        "final"};
    check_log(&o, types, 5);
    CHECK(count_in(o.log_path, "\"citation_truncated\":true") == 1);
    ms_proto_result_free(&r);
}

/* Minions: a job whose output the worker's limit cut fails (not re-asked, never read). */
static void test_minions_job_cut(void)
{
    ms_proto_result r;
    size_t b0 = B_CHATS();
    run_opts o = {.minions = true, .task = "Quote and name. [minions-cut]",
                  .context = (const char *)g_ctx_small.p, .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "cut jobs noted"));
    CHECK(r.jobs_run == 8 && r.jobs_failed == 4);
    CHECK(B_CHATS() - b0 == 8); /* a cut job is not re-asked */
    CHECK(count_in(E.log_a, "the excerpt says") == 0); /* no fragment reached the supervisor */
    static const char *const types[] = {"supervisor_turn", "plan", "jobs", "final"};
    check_log(&o, types, 4);
    CHECK(count_in(o.log_path, "\"cut\":4") == 1);
    CHECK(count_in(o.log_path, "\"error\":\"MS_ERR_BACKEND_CUT\"") >= 1);
    ms_proto_result_free(&r);
}

static void test_minions_caps(void)
{
    ms_proto_result r;
    size_t a0 = A_TURNS(), b0 = B_CHATS();
    run_opts o = {.minions = true, .task = "Count everything. [minions-huge]",
                  .context = (const char *)g_ctx_big.p};
    run(&o, &r);
    CHECK(answer_is(&r, "The plans were too large; no answer from the documents."));
    CHECK(A_TURNS() - a0 == 3); /* the 1 GB plan, the 10^6-job plan, the answer */
    CHECK(B_CHATS() == b0);     /* nothing reached the worker */
    CHECK(r.jobs_run == 0);
    CHECK(count_in(E.log_a, "Your plan was refused before anything ran: plan.chunking.size "
                            "1073741824 is over the cap of 1048576 bytes") == 1);
    CHECK(count_in(E.log_a, "Your plan was refused before anything ran: chunks of at most 16 "
                            "bytes cut the 1000000 bytes of documents into at least 62500 "
                            "chunks (1000000 jobs)") == 1);
    ms_proto_result_free(&r);
}

/* The "outputs" of the log's one "jobs" event, through fn. */
static void jobs_outputs(const char *log_path, void (*fn)(ms_json_val out, void *ctx), void *ctx)
{
    ms_buf b;
    size_t events = 0;
    ms_buf_init(&b, 64u << 20);
    CHECK(e2e_file_read(log_path, &b) == 0 && b.len > 0);
    for (const char *l = (const char *)b.p, *end = l + b.len; l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        size_t n = nl ? (size_t)(nl - l) : (size_t)(end - l);
        ms_json_doc *doc = NULL;
        ms_json_val data, arr, o;
        const char *type;
        size_t tn, count;
        if (ms_json_parse(l, n, &doc) == MS_OK &&
            ms_json_get_str(ms_json_root(doc), "type", 64, &type, &tn) == MS_OK &&
            strcmp(type, "jobs") == 0) {
            events++;
            CHECK_OK(ms_json_get_obj(ms_json_root(doc), "data", &data));
            CHECK_OK(ms_json_get_arr(data, "outputs", MS_MAX_PROTO_LOG_OUTPUTS, &arr, &count));
            for (size_t i = 0; i < count && ms_json_arr_at(arr, i, &o) == MS_OK; i++) {
                fn(o, ctx);
            }
        }
        ms_json_free(doc);
        l += n + 1;
    }
    CHECK(events == 1);
    ms_buf_free(&b);
}

typedef struct bulk_count {
    size_t forwarded, withheld, bad;
} bulk_count;

static void count_forwarded(ms_json_val o, void *ctx)
{
    bulk_count *c = ctx;
    ms_json_val v;
    bool fwd = true;
    bool has_text = ms_json_get(o, "answer", &v) == MS_OK || ms_json_get(o, "citation", &v) == MS_OK;
    if (ms_json_get_bool_opt(o, "forwarded", true, &fwd) != MS_OK) {
        c->bad++;
    } else if (fwd) {
        c->forwarded++;
        c->bad += !has_text;
    } else {
        c->withheld++;
        c->bad += has_text; /* the supervisor never saw it: nothing of it in the log */
    }
}

/* More answers than the results message holds: those left out are not in the log either. */
static void test_minions_withheld(void)
{
    ms_proto_result r;
    ms_buf ctx;
    char line[128], want[96];
    ms_buf_init(&ctx, 1u << 20);
    for (unsigned i = 0; i < BULK_PAGES; i++) {
        snprintf(line, sizeof line, "%sBulk page %u MARK-BULK of the archive export list.\n",
                 i ? "\f" : "", i);
        CHECK_OK(ms_buf_append_str(&ctx, line));
    }
    CHECK_OK(ms_buf_terminate(&ctx));
    run_opts o = {.minions = true, .task = "List everything. [minions-bulk]",
                  .context = (const char *)ctx.p, .jobs = 8, .with_log = true};
    run(&o, &r);
    CHECK(answer_is(&r, "bulk ok"));
    bulk_count c = {0};
    jobs_outputs(o.log_path, count_forwarded, &c);
    fprintf(stderr, "  %zu answers forwarded, %zu withheld\n", c.forwarded, c.withheld);
    CHECK(c.bad == 0);
    CHECK(c.forwarded > 0 && c.withheld > 0 && c.forwarded + c.withheld == BULK_PAGES);
    snprintf(want, sizeof want, "[%zu more answers not shown", c.withheld);
    CHECK(count_in(E.log_a, want) == 1);
    ms_proto_result_free(&r);
    ms_buf_free(&ctx);
}

/* --- the core guarantee ----------------------------------------------------------------------- */

static void test_no_context_at_supervisor(void)
{
    ms_buf rec;
    size_t checked = 0, found;
    ms_buf_init(&rec, 256u << 20);
    CHECK(e2e_file_read(E.log_a, &rec) == 0 && rec.len > 0);
    const char *ctxs[] = {(const char *)g_ctx_full.p, (const char *)g_ctx_slow.p};
    for (size_t i = 0; i < 2; i++) {
        size_t c;
        found = sentences_in(ctxs[i], (const char *)rec.p, true, &c);
        CHECK(found == 0);
        checked += c;
    }
    fprintf(stderr, "  %zu context sentences checked against %zu bytes of the supervisor "
                    "engine's record: none found\n",
            checked, rec.len);
    CHECK(checked >= 3 * PAGES);
    /* The check can see: the worker's record holds them. */
    ms_buf_clear(&rec);
    CHECK(e2e_file_read(E.log_b, &rec) == 0);
    found = sentences_in((const char *)g_ctx_full.p, (const char *)rec.p, false, &checked);
    CHECK(found == checked);
    ms_buf_free(&rec);
}

/* --- set-up ---------------------------------------------------------------------------------- */

static int setup(void)
{
    char key_path[PATH_MAX];
    bool lc;
    e2e_world_path(&W, E.script_a, "sup-engine.json");
    e2e_world_path(&W, E.script_b, "worker-engine.json");
    e2e_world_path(&W, E.log_a, "sup-engine.jsonl");
    e2e_world_path(&W, E.log_b, "worker-engine.jsonl");
    e2e_world_path(&W, key_path, "keys/log-key");
    if (e2e_world_devkey(&W, "dev.pem") != 0 ||
        ms_alog_key_load_or_create(key_path, &E.log_key, &lc) != MS_OK ||
        write_script(E.script_a, SUP_CUT_RULES, sizeof SUP_CUT_RULES / sizeof SUP_CUT_RULES[0],
                     SUP_RULES, sizeof SUP_RULES / sizeof SUP_RULES[0],
                     "{\"decision\":\"cannot_answer\",\"reason\":\"no rule matched\"}") != 0 ||
        write_script(E.script_b, WORKER_CUT_RULES,
                     sizeof WORKER_CUT_RULES / sizeof WORKER_CUT_RULES[0], WORKER_RULES,
                     sizeof WORKER_RULES / sizeof WORKER_RULES[0],
                     JOB_NULL) != 0) {
        fprintf(stderr, "test_protocols_e2e: set-up failed in %s\n", W.dir);
        return -1;
    }
    if (e2e_world_stack(&W, &E.st, &(e2e_sim_cfg){.script = E.script_a, .log = E.log_a}, NULL) != 0 ||
        e2e_world_sim(&W, &E.sim_b, &(e2e_sim_cfg){.script = E.script_b, .log = E.log_b}) != 0) {
        return -1;
    }
    e2e_url(E.worker_url, "http", E.sim_b.port);
    ms_client_cfg cc = {.url = E.st.url, .cacert = W.ca, .pinned_dev_pk = W.pk,
                        .timeout_ms = 60000};
    if (ms_client_new(&E.client, &cc) != MS_OK) {
        return -1;
    }
    E.rc = (ms_remote_client){.client = E.client, .temperature = -1.0};
    return 0;
}

static void make_contexts(void)
{
    ms_buf_init(&g_ctx_full, 1u << 20);
    ms_buf_init(&g_ctx_slow, 1u << 20);
    ms_buf_init(&g_ctx_big, 2u << 20);
    ms_buf_init(&g_ctx_small, 1u << 16);
    make_context(&g_ctx_full, FULL_MARKS, FULL_MARK_PAGES, 1, PAGES);
    make_context(&g_ctx_slow, SLOW_MARKS, SLOW_MARK_PAGES, 3, 10);
    make_context(&g_ctx_small, NULL, NULL, 0, 4);
    /* Exactly 1,000,000 bytes: 62,500 chunks of 16 bytes. */
    CHECK_OK(ms_buf_reserve(&g_ctx_big, 1000001));
    while (g_ctx_big.len < 1000000) {
        size_t n = 1000000 - g_ctx_big.len;
        CHECK_OK(ms_buf_append(&g_ctx_big, "log line. ", n < 10 ? n : 10));
    }
    CHECK_OK(ms_buf_terminate(&g_ctx_big));
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_protocols_e2e", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    make_replies();
    if (rc != 0 || setup() != 0) {
        return e2e_world_close(&W, rc ? rc : 1);
    }
    make_contexts();
    RUN(test_worker_down);
    RUN(test_minion_full);
    RUN(test_messy_supervisor);
    RUN(test_minion_long_answer);
    RUN(test_max_rounds);
    RUN(test_last_round_reask);
    RUN(test_minion_worker_cut);
    RUN(test_supervisor_cut);
    RUN(test_minions_job_cut);
    RUN(test_minions_full);
    RUN(test_minions_timeout);
    RUN(test_minions_caps);
    RUN(test_minions_withheld);
    RUN(test_no_context_at_supervisor);
    CHECK_OK(ms_client_close(E.client));
    ms_client_free(E.client);
    ms_alog_key_wipe(&E.log_key);
    test_current_ = "shutdown";
    CHECK(e2e_stop_all(&E.st.sup, &E.st.sim, &E.sim_b, NULL) == 0);
    ms_buf_free(&g_ctx_full);
    ms_buf_free(&g_ctx_slow);
    ms_buf_free(&g_ctx_big);
    ms_buf_free(&g_ctx_small);
    return e2e_world_close(&W, TEST_SUMMARY());
}

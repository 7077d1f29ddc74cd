/* One run: Minion or Minions over the attested channel, the documents read locally (run_exec.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"
#include "secure/attest/devkey.h"
#include "apps/minions-secure/remote.h"
#include "apps/minions-secure/worker.h"
#include "apps/minions-secure/run_exec.h"
#include <errno.h>
#include <sys/stat.h>

#define PROG MS_RUN_PROG
#define MAX_SKIPS_SHOWN 20u

/*
 * The order is the safe one: everything that can be checked locally (options, documents,
 * the worker engine) is checked before the supervisor is contacted; the session log is
 * created before connecting, so a handshake that fails is logged too; nothing but the task,
 * the metadata and the worker's answers ever goes to the supervisor, and only inside the
 * channel, after its evidence passed.
 */
typedef ms_run run;

/* The exit status; in the JSON modes the outcome object is printed first. */
static int finish(run *r, int code)
{
    ms_run_report rep = {.o = &r->o,
                         .res = r->ran ? &r->res : NULL,
                         .code = code,
                         .why = r->why,
                         .peer = r->o.conn.peer.connected ? &r->o.conn.peer : NULL,
                         .log_path = r->log.path[0] && code != MS_CLI_USAGE ? r->log.path : NULL,
                         .tee = &r->tee,
                         .log_check = r->log_checked ? &r->log_check : NULL};
    if (r->json_out) {
        ms_err e = ms_run_json(&rep, 1, r->json_out);
        return e == MS_OK ? code : (code == MS_CLI_OK ? MS_CLI_TURN : code);
    }
    if (r->o.json || r->o.stdin_json) {
        return ms_run_print_json(&rep, r->o.stdin_json);
    }
    return code;
}

static int fail(run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(run *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", PROG, r->why);
    return finish(r, code);
}

/* After parsing (and --stdin-json): what must be there, and the defaults. */
static int complete(run *r)
{
    ms_run_opts *o = &r->o;
    if (!o->max_rounds) {
        o->max_rounds = MS_RUN_DEFAULT_ROUNDS;
    }
    if (!o->jobs) {
        o->jobs = MS_RUN_DEFAULT_JOBS;
    }
    ms_cli_conn_from_env(&o->conn, PROG); /* the reference's lines name no pin */
    if (ms_cli_conn_require(&o->conn, MS_RUN_HELP_PROG) != MS_CLI_OK) {
        snprintf(r->why, sizeof r->why, "--supervisor_url and one of --attestation-policy / "
                                        "--trusted_attestation_pem are required");
        return finish(r, MS_CLI_USAGE);
    }
    if ((!o->task || !o->task[0]) && !o->stdin_json && isatty(STDIN_FILENO) &&
        isatty(STDERR_FILENO)) {
        int asked = ms_run_prompt(o, &r->prompted); /* the reference's prompts */
        if (asked != MS_CLI_OK) {
            return asked;
        }
    }
    if (!o->task || !o->task[0]) {
        return fail(r, MS_CLI_USAGE, "--task is required (the question; the supervisor sees it)%s",
                    o->stdin_json ? "" : "; without it minions-secure asks for it only when "
                                         "standard input is a terminal");
    }
    /* The protocols refuse these too, but only after the handshake and without naming them. */
    const struct {
        const char *name, *text;
    } texts[] = {{"--task", o->task},
                 {"--doc-metadata", o->doc_metadata},
                 {"--system_prompt", o->system_prompt}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t n = texts[i].text ? strlen(texts[i].text) : 0;
        if (n > MS_MAX_PROTO_TASK) {
            return fail(r, MS_CLI_USAGE, "%s is %zu bytes; at most %u are sent to the supervisor",
                        texts[i].name, n, MS_MAX_PROTO_TASK);
        }
        if (!ms_context_text_ok((const uint8_t *)texts[i].text, n)) {
            return fail(r, MS_CLI_USAGE, "%s must be UTF-8 text", texts[i].name);
        }
    }
    if (r->ctx.n > 0) {
        /* the caller's documents (serve's uploads) are there already */
    } else if (o->n_contexts == 0 && o->n_stdin_texts == 0 && o->stdin_json) {
        /* the reference's README runs a request with a task alone: so does this */
        fprintf(stderr, "%s: no documents in the request: the worker answers from the task "
                        "alone\n",
                PROG);
    } else if (o->n_contexts == 0 && o->n_stdin_texts == 0) {
        return fail(r, MS_CLI_USAGE,
                    "--context FILE|DIR is required: the documents the worker reads");
    }
    if (ms_run_resolve_worker(o) != MS_CLI_OK) {
        snprintf(r->why, sizeof r->why, "the local model (worker) settings are not usable");
        return finish(r, MS_CLI_USAGE);
    }
    return MS_CLI_OK;
}

static void say_skipped(const ms_context *c)
{
    for (size_t i = 0; i < c->n_skipped && i < MAX_SKIPS_SHOWN; i++) {
        fprintf(stderr, "%s: skipped %s: %s\n", PROG, c->skipped[i].name, c->skipped[i].reason);
    }
    if (c->n_skipped > MAX_SKIPS_SHOWN) {
        fprintf(stderr, "%s: ... and %zu more skipped\n", PROG, c->n_skipped - MAX_SKIPS_SHOWN);
    }
}

/* The documents: files and trees, and --stdin-json's texts; then joined for the worker. */
static int load_context(run *r)
{
    char why[512], name[32];
    ms_err e;
    for (size_t i = 0; i < r->o.n_contexts; i++) {
        if ((e = ms_context_add(&r->ctx, r->o.contexts[i], why, sizeof why)) != MS_OK) {
            return fail(r, e == MS_ERR_NOMEM ? MS_CLI_TURN : MS_CLI_USAGE, "--context %s (%s)",
                        why[0] ? why : r->o.contexts[i], ms_err_str(e));
        }
    }
    for (size_t i = 0; i < r->o.n_stdin_texts; i++) {
        snprintf(name, sizeof name, "context[%zu]", i);
        e = ms_context_add_text(&r->ctx, name, MS_DOC_TEXT, r->o.stdin_texts[i],
                                r->o.stdin_text_lens[i], why, sizeof why);
        if (e != MS_OK) {
            return fail(r, MS_CLI_USAGE, "call_params.%s (%s)", why, ms_err_str(e));
        }
    }
    say_skipped(&r->ctx);
    if (r->ctx.n == 0 && r->o.n_contexts == 0 && r->o.n_stdin_texts == 0) { /* task alone */
        r->text = ""; /* an empty context, not a NULL one */
        r->text_len = 0;
        snprintf(r->summary, sizeof r->summary, "no documents");
        return MS_CLI_OK;
    }
    if (r->ctx.n == 0) {
        return fail(r, MS_CLI_USAGE, "no document to read: every file given was skipped");
    }
    /* joined where the documents were read: one copy of their text for the whole run */
    if ((e = ms_context_join_in_place(&r->ctx, &r->text, &r->text_len)) != MS_OK) {
        return fail(r, MS_CLI_USAGE, "the documents do not fit in one context: %s", ms_err_str(e));
    }
    ms_context_summary(&r->ctx, r->summary, sizeof r->summary);
    fprintf(stderr, "%s: documents: %s\n", PROG, r->summary);
    return MS_CLI_OK;
}

/* Several engines: each is asked; the run goes on when one answers (the others are skipped). */
static int check_engines(run *r)
{
    const ms_llm_spread *sp = &r->o.spread;
    size_t up = 0;
    char down[1024];
    size_t used = 0;
    down[0] = '\0';
    for (size_t k = 0; k < sp->n; k++) {
        ms_llm_engine e = r->o.engine;
        long status = 0;
        e.base_url = sp->base_url[k];
        ms_err err = ms_llm_engine_ping(&e, &status);
        fprintf(stderr, "%s: worker engine %zu: %s: %s\n", PROG, k + 1, e.base_url,
                err == MS_OK ? "answers" : ms_err_str(err));
        if (err == MS_OK) {
            up++;
        } else if (used < sizeof down) {
            int w = snprintf(down + used, sizeof down - used, "%s%s", used ? ", " : "",
                             e.base_url);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    if (up == 0) {
        return fail(r, MS_CLI_LOCAL,
                    "none of the %zu local model engines can be used (%s). Nothing was sent to "
                    "the supervisor",
                    sp->n, down);
    }
    return MS_CLI_OK;
}

/* Is the worker there? Checked before the supervisor is contacted. */
static int check_worker(run *r)
{
    const ms_llm_engine *e = &r->o.engine;
    long status = 0;
    if (r->o.spread.n > 1) {
        fprintf(stderr, "%s: worker: %s model %s on %zu engines (%s%s%s)\n", PROG,
                ms_llm_kind_name(e->kind), e->model, r->o.spread.n, r->o.model_from,
                r->o.preset ? "; " : "", r->o.preset ? r->o.preset : "");
        return check_engines(r);
    }
    fprintf(stderr, "%s: worker: %s model %s at %s (%s%s%s)\n", PROG,
            ms_llm_kind_name(e->kind), e->model, e->base_url, r->o.model_from,
            r->o.preset ? "; " : "", r->o.preset ? r->o.preset : "");
    ms_err err = ms_llm_engine_ping(e, &status);
    if (err == MS_OK) {
        return MS_CLI_OK;
    }
    if (err == MS_ERR_BACKEND_STATUS) {
        return fail(r, MS_CLI_LOCAL,
                    "the local model engine at %s answered HTTP %ld: nothing was sent to the "
                    "supervisor",
                    e->base_url, status);
    }
    return fail(r, MS_CLI_LOCAL,
                "the local model engine (%s at %s) cannot be reached: %s. Nothing was sent to "
                "the supervisor. Is it running%s?",
                ms_llm_kind_name(e->kind), e->base_url, ms_err_str(err),
                e->kind == MS_LLM_OLLAMA ? " ('ollama serve')" : "");
}

/* Create the log, connect and verify, log what was proved and the task. */
static int open_session(run *r)
{
    if (r->o.log_dir_make && mkdir(r->o.logo.dir, 0700) != 0 && errno != EEXIST) {
        return fail(r, MS_CLI_USAGE, "protocol.log_dir %s: %s", r->o.logo.dir, strerror(errno));
    }
    ms_err e = ms_slog_open(&r->log, &r->o.logo, r->o.protocol == MS_RUN_MINIONS ? "minions"
                                                                                  : "minion",
                            PROG);
    if (e != MS_OK) {
        snprintf(r->why, sizeof r->why, "cannot create the session log: %s", ms_err_str(e));
        return finish(r, MS_CLI_USAGE);
    }
    double t0 = ms_clock_s();
    int code = ms_cli_conn_open(&r->o.conn, PROG, 0, &e);
    double hs = ms_clock_s() - t0;
    ms_err le = ms_slog_session(&r->log, &r->o.conn, code == MS_CLI_OK ? &r->o.conn.peer : NULL,
                                hs, code == MS_CLI_OK ? MS_OK : e);
    if (code != MS_CLI_OK) {
        snprintf(r->why, sizeof r->why, "the supervisor at %s: %s (%s)", r->o.conn.url,
                 ms_err_str(e), ms_err_name(e));
        ms_err ce = ms_slog_close(&r->log, PROG, false); /* it records the failed handshake */
        (void)ce;                                         /* the failure is what is reported */
        return finish(r, code);
    }
    if (le == MS_OK) {
        le = ms_run_log_task(&r->log, &r->o, &r->ctx, r->text, r->text_len);
    }
    if (le != MS_OK) {
        return fail(r, MS_CLI_USAGE, "cannot write the session log %s: %s", r->log.path,
                    ms_err_str(le));
    }
    return MS_CLI_OK;
}

static int protocol(run *r)
{
    ms_run_progress_state ps = {.tty = !r->progress && isatty(STDERR_FILENO)};
    ms_remote_client rc = {.client = r->o.conn.client,
                           .max_tokens = r->o.remote_max_tokens,
                           .temperature = r->o.remote_temperature};
    r->tee.next = ms_slog_sink(&r->log); /* the log is open now */
    ms_worker_engine we = {.engine = &r->o.engine,
                           .spread = r->o.spread.n > 0 ? &r->o.spread : NULL};
    ms_proto_cfg cfg = {
        .task = r->o.task,
        .context = r->text,
        .context_len = r->text_len,
        /* without --doc-metadata the supervisor learns counts and sizes, never names */
        .doc_metadata = r->o.doc_metadata ? r->o.doc_metadata : r->summary,
        .system_prompt = r->o.system_prompt,
        .max_rounds = (unsigned)r->o.max_rounds,
        .max_format_retries = 2,
        .jobs = (unsigned)r->o.jobs,
        .worker = ms_worker_over_engine(&we),
        .worker_temperature = r->o.worker_temperature,
        .worker_max_tokens = (int)r->o.worker_max_tokens,
        .remote = ms_remote_over_client(&rc),
        .sink = ms_run_tee_sink(&r->tee),
        .log_context = r->o.logo.context != 0,
        .progress = r->progress ? r->progress : ms_run_progress,
        .progress_ctx = r->progress ? r->progress_ctx : &ps,
    };
    ms_err e = r->o.protocol == MS_RUN_MINIONS ? ms_minions_run(&cfg, &r->res)
                                               : ms_minion_run(&cfg, &r->res);
    ms_run_progress_end(&ps);
    if (e != MS_OK) {
        return fail(r, MS_CLI_USAGE, "the run could not start: %s", ms_err_str(e));
    }
    r->ran = 1;
    return MS_CLI_OK;
}

/* The sealed log, read back and verified against the log key's public half. */
static ms_err verify_log(run *r)
{
    char key[PATH_MAX];
    ms_alog_key k;
    bool created = false;
    ms_buf b;
    ms_err e = MS_OK;
    if (r->o.logo.key_file) {
        ENSURE(snprintf(key, sizeof key, "%s", r->o.logo.key_file) < (int)sizeof key,
               MS_ERR_CONFIG);
    } else {
        TRY(ms_alog_default_key_path(key, sizeof key));
    }
    TRY(ms_alog_key_load_or_create(key, &k, &created));
    ms_buf_init(&b, MS_ALOG_MAX_FILE);
    e = ms_file_read(r->log.path, MS_ALOG_MAX_FILE, &b);
    if (e == MS_OK) {
        e = ms_alog_verify(b.p, b.len, k.pk, &r->log_check);
    }
    ms_buf_free(&b);
    ms_alog_key_wipe(&k);
    return e;
}

/* The outcome: the answer on stdout, or why there is none; the log's place on stderr. */
static int report(run *r)
{
    const ms_proto_result *res = &r->res;
    int code = MS_CLI_OK;
    if (res->outcome == MS_OUTCOME_NO_ANSWER) {
        code = MS_CLI_NO_ANSWER;
        snprintf(r->why, sizeof r->why, "no final answer after %u round%s: %s", res->rounds,
                 res->rounds == 1 ? "" : "s", res->why);
    } else if (res->outcome == MS_OUTCOME_FAILED) {
        code = res->worker_failed ? MS_CLI_LOCAL : ms_client_exit_code(res->err, 0);
        code = res->err == MS_ERR_BACKEND_CUT ? MS_CLI_LIMIT : code; /* either model's limit */
        code = code == MS_CLI_OK || code == MS_CLI_USAGE ? MS_CLI_TURN : code;
        /* a log that cannot be written is a file problem (2), not the network's (3) */
        code = res->log_failed ? MS_CLI_USAGE : code;
        snprintf(r->why, sizeof r->why, "%s: %s (%s)",
                 res->worker_failed ? "the local model engine failed" : "the run failed",
                 res->why[0] ? res->why : ms_err_str(res->err), ms_err_name(res->err));
    }
    if (code != MS_CLI_OK) {
        fprintf(stderr, "%s: %s\n", PROG, r->why);
    }
    if (res->worker_cut > 0 || res->jobs_cut > 0) { /* docs/protocols.md: token limits */
        fprintf(stderr,
                "%s: the local model stopped at its token limit: %u answer%s went to the "
                "supervisor marked INCOMPLETE, %zu job%s failed for it (allow the worker more "
                "tokens: local_client.max_tokens)\n",
                PROG, res->worker_cut, res->worker_cut == 1 ? "" : "s", res->jobs_cut,
                res->jobs_cut == 1 ? "" : "s");
    }
    int lc = ms_slog_close(&r->log, PROG, r->o.json || r->o.stdin_json) == MS_OK ? MS_CLI_OK
                                                                                 : MS_CLI_TURN;
    if (lc == MS_CLI_OK && r->verify_log && r->log.path[0]) {
        r->log_checked = verify_log(r) == MS_OK;
    }
    if (lc != MS_CLI_OK) {
        r->log.path[0] = '\0';
        code = code == MS_CLI_OK ? lc : code;
        if (code == lc) {
            snprintf(r->why, sizeof r->why, "the session log could not be sealed");
        }
    }
    if (r->o.json || r->o.stdin_json) {
        if (r->log.path[0]) {
            fprintf(stderr, "%s: session log: %s\n", PROG, r->log.path);
        }
        return finish(r, code);
    }
    if (res->outcome == MS_OUTCOME_ANSWER) {
        ms_run_print_answer((const char *)res->answer.p, res->answer.len);
    }
    return code;
}

void ms_run_init(ms_run *r)
{
    memset(r, 0, sizeof *r);
    ms_run_opts_init(&r->o);
    ms_context_init(&r->ctx);
    ms_proto_result_init(&r->res);
    r->text = "";
    ms_run_tee_init(&r->tee, (ms_proto_sink){0});
    ms_run_prompted_init(&r->prompted);
}

void ms_run_free(ms_run *r)
{
    if (r->log.log) { /* a run stopped between open and report: seal what was written */
        ms_err ce = ms_slog_close(&r->log, PROG, true);
        (void)ce;
    }
    ms_proto_result_free(&r->res);
    ms_run_tee_free(&r->tee);
    ms_run_prompted_free(&r->prompted);
    ms_context_free(&r->ctx); /* wipes the joined text */
    r->text = "";
    r->text_len = 0;
    ms_run_opts_free(&r->o);
}

int ms_run_refuse(ms_run *r, int code, const char *why)
{
    snprintf(r->why, sizeof r->why, "%s", why);
    return finish(r, code);
}

int ms_run_exec(ms_run *r)
{
    int code = complete(r);
    code = code != 0 ? code : load_context(r);
    code = code != 0 ? code : check_worker(r);
    code = code != 0 ? code : open_session(r);
    code = code != 0 ? code : protocol(r);
    code = code != 0 ? code : report(r);
    return code;
}

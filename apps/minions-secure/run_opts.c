/* minions-secure run: options, --help, MINIONS_LOCAL and the worker presets and URLs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "apps/minions-secure/cmds.h"
#include "secure/client/link.h"
#include "apps/minions-secure/run.h"

#define PROG MS_RUN_PROG

const char ms_run_usage[] =
    "Usage: minions-secure run --supervisor_url URL --trusted_attestation_pem FILE\n"
    "                          --task TEXT --context FILE|DIR [options]\n"
    "       minions-secure run --stdin-json < request.json\n"
    "\n"
    "Runs the Minion or Minions protocol. A local model (the worker, on this machine)\n"
    "reads your documents; the supervisor's model, behind an attested\n"
    "minions-supervisor, sees the task and the worker's short answers, never the\n"
    "documents. Everything sent to the supervisor travels inside the end-to-end\n"
    "channel, opened only after its evidence passed the policy. The answer goes to\n"
    "standard output; what was verified, and where the signed session log is, to\n"
    "standard error.\n"
    "\n" MS_CLI_CONN_HELP
    "Task and documents:\n"
    "  --task TEXT                  the question (required; the supervisor sees it)\n"
    "  --context FILE|DIR           a document, or a directory read recursively\n"
    "                               (repeatable): text, markdown, code, PDF. Under a\n"
    "                               directory, hidden entries and symbolic links are\n"
    "                               skipped, and files that are not UTF-8 text are\n"
    "                               skipped and listed\n"
    "  --doc-metadata TEXT          what the supervisor may know about the documents;\n"
    "                               without it, only counts and sizes (never file\n"
    "                               names)\n"
    "  --protocol minion|minions    one worker conversation (default), or plans of\n"
    "                               parallel jobs over chunks of the documents\n"
    "  --max_rounds N               supervisor rounds, 1..32 (default 3)\n"
    "                               (--max-rounds)\n"
    "  --jobs N                     minions: worker requests at once, 1..64 (default\n"
    "                               4)\n"
    "  --system_prompt TEXT         extra instructions for the supervisor\n"
    "                               (--system-prompt)\n"
    "Local model (the worker):\n"
    "  --local_client_type TYPE     ollama (default), or openai for any OpenAI-\n"
    "    --local-client-type        compatible server (llama.cpp, vLLM, SGLang; also\n"
    "                               accepted by name)\n"
    "  --local_model NAME           the model (default llama3.2). Presets:\n"
    "    --local-model              cybertron = Trend Cybertron Llama-Primus-Merged\n"
    "                               8B (Ollama tag\n"
    "                               " MS_RUN_CYBERTRON_OLLAMA "), cybertron-reasoning =\n"
    "                               Llama-Primus-Reasoning 8B (docs/cybertron.md)\n"
    "  --local-url URL              the engine's base URL (default\n"
    "                               " MS_RUN_DEFAULT_OLLAMA_URL " for ollama,\n"
    "                               " MS_RUN_DEFAULT_OPENAI_URL " for openai).\n"
    "                               Repeat it, or give URL,URL,..., for up to 8\n"
    "                               engines of the same model: minions spreads its\n"
    "                               jobs over them, and one that cannot be reached\n"
    "                               is skipped for 30 s (docs/scale-out.md)\n"
    "  --local-jobs N               requests at once per engine, 1..64 (default: as\n"
    "                               --jobs, which caps them all together)\n"
    "  --num-ctx N                  ollama: the context window, in tokens\n"
    "  --allow-remote-worker        allow a worker that is not on a loopback address:\n"
    "                               it receives your documents over the network\n"
    "Output:\n"
    "  --json                       print one JSON object: {\"ok\",\"outcome\",\"answer\",\n"
    "                               \"why\",\"rounds\",\"usage\",\"session\",\"evidence\",\n"
    "                               \"log\"}\n"
    "  --stdin-json                 read the request from standard input as one JSON\n"
    "                               object {local_client, remote_client, protocol,\n"
    "                               call_params}; answer {success, result, error}\n"
    "                               (docs/client.md)\n"
    "  --help, --version\n"
    MS_SLOG_HELP
    "\n"
    "Environment:\n"
    "  MINIONS_LOCAL=provider/model the worker, e.g. ollama/llama3.2:3b (flags win)\n"
    "  OLLAMA_HOST                  ollama's address, as the ollama client reads it\n"
    "  OPENAI_BASE_URL, OPENAI_API_KEY  for --local_client_type openai\n"
    "\n"
    "DEVELOPMENT MODE: dev-key evidence proves that the supervisor holds the pinned\n"
    "key, not what host or software runs it.\n"
    "\n" MS_CLI_EXIT_HELP
    "  (2 also when the session log cannot be created or written)\n";

enum {
    O_TASK = MS_CLI_OPT_OWN_BASE,
    O_PROTOCOL,
    O_CONTEXT,
    O_META,
    O_KIND,
    O_MODEL,
    O_URL,
    O_LOCAL_JOBS,
    O_NUMCTX,
    O_ROUNDS,
    O_JOBS,
    O_SYSTEM,
    O_JSON,
    O_STDIN,
    O_REMOTE_WORKER,
    O_HELP,
    O_VERSION
};

static const struct option OWN[] = {{"task", 1, 0, O_TASK},
                                    {"protocol", 1, 0, O_PROTOCOL},
                                    {"context", 1, 0, O_CONTEXT},
                                    {"doc-metadata", 1, 0, O_META},
                                    {"doc_metadata", 1, 0, O_META},
                                    {"local_client_type", 1, 0, O_KIND},
                                    {"local-client-type", 1, 0, O_KIND},
                                    {"local_model", 1, 0, O_MODEL},
                                    {"local-model", 1, 0, O_MODEL},
                                    {"local-url", 1, 0, O_URL},
                                    {"local_url", 1, 0, O_URL},
                                    {"local-jobs", 1, 0, O_LOCAL_JOBS},
                                    {"local_jobs", 1, 0, O_LOCAL_JOBS},
                                    {"num-ctx", 1, 0, O_NUMCTX},
                                    {"num_ctx", 1, 0, O_NUMCTX},
                                    {"max_rounds", 1, 0, O_ROUNDS},
                                    {"max-rounds", 1, 0, O_ROUNDS},
                                    {"jobs", 1, 0, O_JOBS},
                                    {"system_prompt", 1, 0, O_SYSTEM},
                                    {"system-prompt", 1, 0, O_SYSTEM},
                                    {"json", 0, 0, O_JSON},
                                    {"stdin-json", 0, 0, O_STDIN},
                                    {"stdin_json", 0, 0, O_STDIN},
                                    MS_SLOG_OPTIONS,
                                    {"allow-remote-worker", 0, 0, O_REMOTE_WORKER},
                                    {"help", 0, 0, O_HELP},
                                    {"version", 0, 0, O_VERSION},
                                    {0, 0, 0, 0}};

void ms_run_opts_init(ms_run_opts *o)
{
    memset(o, 0, sizeof *o);
    ms_cli_conn_init(&o->conn);
    o->protocol = MS_RUN_MINION;
    o->max_rounds = 0; /* 0: not given (the default applies after --stdin-json) */
    o->jobs = 0;
    o->worker_temperature = -1.0;
    o->remote_temperature = -1.0;
}

void ms_run_opts_free(ms_run_opts *o)
{
    ms_cli_conn_free(&o->conn);
    ms_json_free(o->stdin_doc);
    o->stdin_doc = NULL;
}

static int nonempty(const char *s)
{
    return s && s[0];
}

/* --local-url: one URL or a comma-separated list, appended; url_arg is the first. */
static int add_urls(ms_run_opts *o, const char *arg)
{
    while (nonempty(arg)) {
        size_t n = strcspn(arg, ",");
        if (n == 0 || n >= sizeof o->url_list[0] || o->n_urls >= MS_MAX_LLM_ENGINES) {
            return 0;
        }
        memcpy(o->url_list[o->n_urls], arg, n);
        o->url_list[o->n_urls][n] = '\0';
        o->n_urls++;
        arg += n + (arg[n] == ',');
    }
    o->url_arg = o->n_urls > 0 ? o->url_list[0] : NULL;
    return o->n_urls > 0;
}

/* 1 taken, 0 bad value. */
static int apply(void *ctx, int c, const char *arg)
{
    ms_run_opts *o = ctx;
    switch (c) {
    case O_TASK: o->task = arg; return ms_cli_nonblank(arg);
    case O_PROTOCOL:
        if (strcmp(arg, "minion") == 0 || strcmp(arg, "minions") == 0) {
            o->protocol = arg[6] == 's' ? MS_RUN_MINIONS : MS_RUN_MINION;
            o->protocol_given = 1;
            return 1;
        }
        return 0;
    case O_CONTEXT:
        if (!nonempty(arg) || o->n_contexts >= MS_RUN_MAX_CONTEXT_ARGS) {
            return 0;
        }
        o->contexts[o->n_contexts++] = arg;
        return 1;
    case O_META: o->doc_metadata = arg; return 1;
    case O_KIND: {
        ms_llm_kind k;
        o->kind_arg = arg;
        return ms_llm_kind_parse(arg, &k) == MS_OK;
    }
    case O_MODEL: o->model_arg = arg; return nonempty(arg);
    case O_URL: return add_urls(o, arg);
    case O_LOCAL_JOBS: return ms_cli_parse_long(arg, 1, MS_MAX_LLM_PARALLEL, &o->local_jobs);
    case O_NUMCTX: return ms_cli_parse_long(arg, 256, 4194304, &o->num_ctx);
    case O_ROUNDS: return ms_cli_parse_long(arg, 1, MS_MAX_PROTO_ROUNDS, &o->max_rounds);
    case O_JOBS: return ms_cli_parse_long(arg, 1, MS_MAX_LLM_PARALLEL, &o->jobs);
    case O_SYSTEM: o->system_prompt = arg; return 1;
    case O_JSON: o->json = 1; return 1;
    case O_STDIN: o->stdin_json = 1; return 1;
    case O_REMOTE_WORKER: o->allow_remote_worker = 1; return 1;
    default: {
        int r = ms_slog_apply(&o->logo, c, arg);
        return r >= 0 ? r : ms_cli_conn_apply(&o->conn, c, arg) == 1;
    }
    }
}

/* What a bad value of an option should have been. */
static const char *expected(int c)
{
    switch (c) {
    case O_PROTOCOL: return " (minion or minions)";
    case O_KIND: return " (ollama, openai, llamacpp, vllm or sglang)";
    case O_NUMCTX: return " (256..4194304)";
    case O_ROUNDS: return " (1..32)";
    case O_JOBS: return " (1..64)";
    case O_LOCAL_JOBS: return " (1..64)";
    case O_URL: return " (URL[,URL...]; at most 8 engines, none empty)";
    case O_CONTEXT: return " (a path; at most 256 --context options)";
    default: return "";
    }
}

static int conflicts(const ms_run_opts *o)
{
    if (o->logo.off && (o->logo.file || o->logo.dir || o->logo.context)) {
        fprintf(stderr, "%s: --no-log cannot go with --log, --log-dir or --log-context\n", PROG);
        return MS_CLI_USAGE;
    }
    if (o->logo.file && o->logo.dir) {
        fprintf(stderr, "%s: give --log FILE or --log-dir DIR, not both\n", PROG);
        return MS_CLI_USAGE;
    }
    if (o->stdin_json && o->json) {
        fprintf(stderr, "%s: --stdin-json answers in JSON already; leave out --json\n", PROG);
        return MS_CLI_USAGE;
    }
    return MS_CLI_OK;
}

int ms_run_parse(int argc, char **argv, ms_run_opts *o)
{
    static const char *const help[] = {ms_run_usage, NULL};
    ms_cli_parser p = {.prog = MS_RUN_HELP_PROG, .own = OWN, .opt_help = O_HELP,
                       .opt_version = O_VERSION, .help = help, .apply = apply,
                       .expected = expected, .ctx = o};
    int code = ms_cli_getopt(&p, argc, argv);
    if (code != 0) {
        return code;
    }
    return conflicts(o);
}

/* --- the worker --------------------------------------------------------------------------- */

/* OLLAMA_HOST as Ollama reads it: [scheme://]host[:port], port 11434 by default. */
static int ollama_host_url(const char *env, char *out, size_t cap)
{
    const char *scheme = strstr(env, "://") ? "" : "http://";
    const char *host = strstr(env, "://") ? strstr(env, "://") + 3 : env;
    const char *port = (host[0] == '[') ? strstr(host, "]:") : strchr(host, ':');
    int k;
    if (strncmp(host, "0.0.0.0", 7) == 0 && (host[7] == '\0' || host[7] == ':')) {
        /* a bind-all address names this machine when a client dials it */
        k = snprintf(out, cap, "http://127.0.0.1%s", host[7] ? host + 7 : ":11434");
    } else {
        k = snprintf(out, cap, "%s%s%s", scheme, env, port ? "" : ":11434");
    }
    return k > 0 && (size_t)k < cap;
}

/* MINIONS_LOCAL=provider/model: fills what the flags left open. */
static int minions_local(ms_run_opts *o, const char **kind, const char **model)
{
    const char *env = getenv("MINIONS_LOCAL");
    char *prov = o->local_kind;
    ms_llm_kind k;
    if (!nonempty(env) || (o->kind_arg && o->model_arg)) {
        return MS_CLI_OK;
    }
    const char *slash = strchr(env, '/');
    size_t pn = slash ? (size_t)(slash - env) : 0;
    if (!slash || pn == 0 || pn >= sizeof o->local_kind || !slash[1]) {
        fprintf(stderr, "%s: MINIONS_LOCAL=%s: expected provider/model, e.g. ollama/llama3.2\n",
                PROG, env);
        return MS_CLI_USAGE;
    }
    memcpy(prov, env, pn);
    prov[pn] = '\0';
    if (ms_llm_kind_parse(prov, &k) != MS_OK) {
        fprintf(stderr,
                "%s: MINIONS_LOCAL=%s: provider '%s' is not one minions-secure runs locally "
                "(ollama, openai, llamacpp, vllm, sglang)\n",
                PROG, env, prov);
        return MS_CLI_USAGE;
    }
    if (!o->kind_arg) {
        *kind = prov;
    }
    if (!o->model_arg) {
        *model = slash + 1;
        o->model_from = "from MINIONS_LOCAL";
    }
    return MS_CLI_OK;
}

/* The Cybertron presets: a name users type, mapped to the engine's model name. */
static const char *preset(ms_run_opts *o, const char *model, ms_llm_kind k)
{
    if (strcmp(model, "cybertron") == 0) {
        o->preset = "preset cybertron: Trend Cybertron Llama-Primus-Merged 8B";
        return k == MS_LLM_OLLAMA ? MS_RUN_CYBERTRON_OLLAMA : MS_RUN_CYBERTRON_HF;
    }
    if (strcmp(model, "cybertron-reasoning") == 0) {
        o->preset = "preset cybertron-reasoning: Trend Cybertron Llama-Primus-Reasoning 8B";
        return k == MS_LLM_OLLAMA ? MS_RUN_CYBERTRON_R_OLLAMA : MS_RUN_CYBERTRON_R_HF;
    }
    return model;
}

/* The scheme, and a worker on another host only with --allow-remote-worker. */
static int url_ok(ms_run_opts *o, const char *url)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        fprintf(stderr, "%s: the worker's URL %s must start with http:// or https://\n", PROG,
                url);
        return MS_CLI_USAGE;
    }
    if (!ms_link_url_is_loopback(url)) {
        if (!o->allow_remote_worker) {
            fprintf(stderr,
                    "%s: the worker's URL %s is not a loopback address: that engine would "
                    "receive your documents over the network. Run the worker on this machine, "
                    "or add --allow-remote-worker if that host is yours.\n",
                    PROG, url);
            return MS_CLI_USAGE;
        }
        bool plain = strncmp(url, "http://", 7) == 0;
        o->engine.allow_plain_http = o->engine.allow_plain_http || plain;
        fprintf(stderr, "%s: WARNING: the worker at %s is another host: it receives your "
                        "documents%s\n",
                PROG, url, plain ? " in plain HTTP" : "");
    }
    return MS_CLI_OK;
}

static int worker_url(ms_run_opts *o)
{
    const char *url = o->url_arg;
    const char *env;
    if (!url && o->engine.kind == MS_LLM_OLLAMA && nonempty(env = getenv("OLLAMA_HOST"))) {
        if (!ollama_host_url(env, o->url_buf, sizeof o->url_buf)) {
            fprintf(stderr, "%s: OLLAMA_HOST is too long\n", PROG);
            return MS_CLI_USAGE;
        }
        url = o->url_buf;
    }
    if (!url && o->engine.kind == MS_LLM_OPENAI && nonempty(env = getenv("OPENAI_BASE_URL"))) {
        url = env;
    }
    if (!url) {
        url = o->engine.kind == MS_LLM_OLLAMA ? MS_RUN_DEFAULT_OLLAMA_URL
                                              : MS_RUN_DEFAULT_OPENAI_URL;
    }
    for (size_t k = 0; k < (o->n_urls > 1 ? o->n_urls : 1); k++) {
        int bad = url_ok(o, k == 0 ? url : o->url_list[k]);
        if (bad != MS_CLI_OK) {
            return bad;
        }
    }
    o->spread.n = 0;
    if (o->n_urls > 1 || o->local_jobs > 0) {
        o->spread.n = o->n_urls > 1 ? o->n_urls : 1;
        o->spread.base_url[0] = url;
        for (size_t k = 1; k < o->spread.n; k++) {
            o->spread.base_url[k] = o->url_list[k];
        }
        o->spread.per_engine = (unsigned)o->local_jobs;
    }
    o->engine.base_url = url;
    return MS_CLI_OK;
}

int ms_run_resolve_worker(ms_run_opts *o)
{
    const char *kind = o->kind_arg, *model = o->model_arg;
    if (model && !o->model_from) {
        o->model_from = "from --local_model";
    }
    int code = minions_local(o, &kind, &model);
    if (code != MS_CLI_OK) {
        return code;
    }
    if (!kind) {
        kind = "ollama";
    }
    if (!model) {
        model = MS_RUN_DEFAULT_MODEL;
        o->model_from = "the default";
    }
    if (ms_llm_kind_parse(kind, &o->engine.kind) != MS_OK) {
        fprintf(stderr, "%s: local client type '%s' is not one of ollama, openai, llamacpp, "
                        "vllm, sglang\n",
                PROG, kind);
        return MS_CLI_USAGE;
    }
    int k = snprintf(o->model_buf, sizeof o->model_buf, "%s", preset(o, model, o->engine.kind));
    if (k <= 0 || (size_t)k >= sizeof o->model_buf) {
        fprintf(stderr, "%s: the local model name is too long\n", PROG);
        return MS_CLI_USAGE;
    }
    o->engine.model = o->model_buf;
    o->engine.num_ctx = (uint32_t)o->num_ctx;
    o->engine.timeout_ms = o->worker_timeout_s * 1000; /* 0: the engine's default */
    o->engine.api_key = o->api_key_arg;
    if (!o->engine.api_key && o->engine.kind == MS_LLM_OPENAI) {
        o->engine.api_key = getenv("OPENAI_API_KEY");
    }
    if (o->engine.api_key && !o->engine.api_key[0]) {
        o->engine.api_key = NULL;
    }
    if (o->num_ctx && o->engine.kind != MS_LLM_OLLAMA) {
        fprintf(stderr, "%s: --num-ctx applies to ollama only (an OpenAI-compatible server "
                        "sets its context size when it starts)\n",
                PROG);
        return MS_CLI_USAGE;
    }
    return worker_url(o);
}

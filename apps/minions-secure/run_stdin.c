/* minions-secure run --stdin-json: the reference's container request, mapped onto run's options. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "apps/minions-secure/run.h"

/*
 * The request: {"local_client": {...}, "remote_client": {...}, "protocol": "minion" |
 * "minions" | {"type", "max_rounds", "log_dir", "kwargs"}, "call_params": {...}}, as the
 * reference's README writes it (docs/client.md lists every field, docs/migrating.md what
 * each is here). A field this program does not know is refused, naming it (inside the
 * kwargs objects too), so a request never silently means less than it says.
 */

#define WHY(...) (snprintf(why, why_cap, __VA_ARGS__), MS_CLI_USAGE)
#define FIELD_MAX 65536u /* bytes of a name, URL, path or model field */

static const char *const TOP_KEYS[] = {"local_client", "remote_client", "protocol",
                                       "call_params", NULL};
static const char *const LOCAL_KEYS[] = {"type",        "model_name", "base_url", "num_ctx",
                                         "temperature", "max_tokens", "api_key",  "port",
                                         "timeout",     "kwargs",     NULL};
static const char *const LOCAL_KWARGS[] = {"temperature", "max_tokens", "num_ctx", NULL};
static const char *const REMOTE_KEYS[] = {"type",   "supervisor_url", "trusted_attestation_pem",
                                          "attestation_policy", "cacert", "allow_http",
                                          "model_name", "kwargs", NULL};
static const char *const REMOTE_KWARGS[] = {"temperature", "max_tokens", NULL};
static const char *const PROTO_KEYS[] = {"type", "max_rounds", "log_dir", "kwargs", NULL};
static const char *const PROTO_KWARGS[] = {"max_rounds", "jobs", "system_prompt", NULL};
/* The reference's cloud clients: accepted as a remote_client.type when the attested
   supervisor is named, since the supervisor's engine answers in their place. */
static const char *const REMOTE_KINDS[] = {
    "openai",   "anthropic", "together", "perplexity", "openrouter", "groq",  "deepseek",
    "mistral",  "gemini",    "azure",    "azure_openai", "sambanova", "grok", "llama_api",
    "huggingface", "sarvam", "tokasaurus", "secure", NULL};
static const char *const CALL_KEYS[] = {"task",       "context",       "context_paths",
                                        "doc_metadata", "max_rounds",  "jobs",
                                        "system_prompt", "log_context", "logging_id",
                                        "is_privacy", NULL};

/* A name from the request, fit for a message: at most 48 printable ASCII characters. */
static const char *shown(const char *s, char out[static 52])
{
    size_t i = 0;
    for (; s[i] && i < 48; i++) {
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    }
    if (s[i]) {
        out[i++] = '.', out[i++] = '.', out[i++] = '.';
    }
    out[i] = '\0';
    return out;
}

static int known(const char *key, const char *const *keys)
{
    for (; *keys; keys++) {
        if (strcmp(key, *keys) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Every key of obj must be in keys; the first that is not is named in why. */
static int only_known(ms_json_val obj, const char *where, const char *const *keys, char *why,
                      size_t why_cap)
{
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *key;
    char k[52];
    while (ms_json_iter_next(&it, &v, &key)) {
        if (!known(key, keys)) {
            return WHY("%s%s%s: not a field minions-secure knows (docs/client.md lists them)",
                       where, where[0] ? "." : "", shown(key, k));
        }
    }
    return MS_CLI_OK;
}

static int get_str(ms_json_val obj, const char *where, const char *key, const char **out,
                   char *why, size_t why_cap)
{
    size_t n;
    ms_err e = ms_json_get_str_opt(obj, key, FIELD_MAX, NULL, out, &n);
    if (e != MS_OK) {
        return WHY("%s.%s: %s", where, key, ms_err_str(e));
    }
    return MS_CLI_OK;
}

/* The request holds the documents: the stack copy is wiped whatever happens. */
static int read_all(int fd, ms_buf *b, char *why, size_t why_cap)
{
    uint8_t tmp[65536];
    int code = -1;
    while (code < 0) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            code = WHY("standard input: %s", strerror(errno));
        } else if (n == 0) {
            code = MS_CLI_OK;
        } else if (ms_buf_append(b, tmp, (size_t)n) != MS_OK) {
            code = WHY("the request on standard input is over %u bytes; give large documents "
                       "as call_params.context_paths",
                       (unsigned)MS_RUN_MAX_STDIN);
        }
    }
    ms_wipe(tmp, sizeof tmp);
    return code;
}

/* An object of the reference's `kwargs`: only the keys that map to ours; the first other
   is named. ABSENT is fine. */
static int kwargs_of(ms_json_val parent, const char *where, const char *const *keys,
                     ms_json_val *kw, char *why, size_t why_cap)
{
    char w[64];
    if (ms_json_get_obj_opt(parent, "kwargs", kw) != MS_OK) {
        return WHY("%s.kwargs: must be an object", where);
    }
    if (ms_json_type_of(*kw) == MS_JSON_ABSENT) {
        return MS_CLI_OK;
    }
    snprintf(w, sizeof w, "%s.kwargs", where);
    return only_known(*kw, w, keys, why, why_cap);
}

/* local_client.port, .timeout and .kwargs (the reference's OllamaClient arguments). */
static int local_extras(ms_run_opts *o, ms_json_val lc, const char *type, int64_t *num_ctx,
                        int64_t *max_tokens, double *temp, char *why, size_t why_cap)
{
    ms_json_val kw;
    int64_t port, timeout;
    int code = kwargs_of(lc, "local_client", LOCAL_KWARGS, &kw, why, why_cap);
    if (code) {
        return code;
    }
    if (ms_json_type_of(kw) != MS_JSON_ABSENT &&
        (ms_json_get_i64_opt(kw, "num_ctx", 256, 4194304, *num_ctx, num_ctx) != MS_OK ||
         ms_json_get_i64_opt(kw, "max_tokens", 1, 1000000, *max_tokens, max_tokens) != MS_OK ||
         ms_json_get_double_opt(kw, "temperature", 0.0, 2.0, *temp, temp) != MS_OK)) {
        return WHY("local_client.kwargs: num_ctx (256..4194304), max_tokens (1..1000000) and "
                   "temperature (0..2) must be numbers in range");
    }
    if (ms_json_get_i64_opt(lc, "port", 1, 65535, 0, &port) != MS_OK) {
        return WHY("local_client.port: must be a whole number, 1..65535");
    }
    if (ms_json_get_i64_opt(lc, "timeout", 1, 86400, 0, &timeout) != MS_OK) {
        return WHY("local_client.timeout: must be a whole number of seconds, 1..86400");
    }
    if (port && !o->url_arg) {
        /* the reference's port is on this machine; an OpenAI-compatible server under /v1 */
        ms_llm_kind k = MS_LLM_OLLAMA;
        if (type && ms_llm_kind_parse(type, &k) != MS_OK) {
            k = MS_LLM_OLLAMA;
        }
        snprintf(o->port_url, sizeof o->port_url, "http://127.0.0.1:%u%s", (unsigned)port,
                 k == MS_LLM_OPENAI ? "/v1" : "");
        o->url_arg = o->port_url;
    }
    o->worker_timeout_s = o->worker_timeout_s ? o->worker_timeout_s : (long)timeout;
    return MS_CLI_OK;
}

static int local_client(ms_run_opts *o, ms_json_val lc, char *why, size_t why_cap)
{
    const char *type = NULL, *model = NULL, *url = NULL, *key = NULL;
    int64_t num_ctx, max_tokens;
    double temp;
    ms_llm_kind k;
    char t[52];
    int code;
    if ((code = only_known(lc, "local_client", LOCAL_KEYS, why, why_cap)) ||
        (code = get_str(lc, "local_client", "type", &type, why, why_cap)) ||
        (code = get_str(lc, "local_client", "model_name", &model, why, why_cap)) ||
        (code = get_str(lc, "local_client", "base_url", &url, why, why_cap)) ||
        (code = get_str(lc, "local_client", "api_key", &key, why, why_cap))) {
        return code;
    }
    if (type && ms_llm_kind_parse(type, &k) != MS_OK) {
        return WHY("local_client.type: '%s' is not one of ollama, openai, llamacpp, vllm, "
                   "sglang",
                   shown(type, t));
    }
    if (ms_json_get_i64_opt(lc, "num_ctx", 256, 4194304, 0, &num_ctx) != MS_OK ||
        ms_json_get_i64_opt(lc, "max_tokens", 1, 1000000, 0, &max_tokens) != MS_OK ||
        ms_json_get_double_opt(lc, "temperature", 0.0, 2.0, -1.0, &temp) != MS_OK) {
        return WHY("local_client: num_ctx (256..4194304), max_tokens (1..1000000) and "
                   "temperature (0..2) must be numbers in range");
    }
    if ((code = local_extras(o, lc, type ? type : o->kind_arg, &num_ctx, &max_tokens, &temp, why,
                             why_cap))) {
        return code;
    }
    o->kind_arg = o->kind_arg ? o->kind_arg : type;
    if (!o->model_arg && model) {
        o->model_arg = model;
        o->model_from = "from local_client.model_name";
    }
    o->url_arg = o->url_arg ? o->url_arg : url;
    o->num_ctx = o->num_ctx ? o->num_ctx : (long)num_ctx;
    o->worker_max_tokens = max_tokens;
    o->worker_temperature = temp;
    o->api_key_arg = key; /* never logged */
    return MS_CLI_OK;
}

/* remote_client.kwargs: what the supervisor's model is asked for (never an API key: the
   supervisor holds its engine's credentials). */
static int remote_kwargs(ms_run_opts *o, ms_json_val rc, char *why, size_t why_cap)
{
    ms_json_val kw;
    int64_t max_tokens;
    int code = kwargs_of(rc, "remote_client", REMOTE_KWARGS, &kw, why, why_cap);
    if (code || ms_json_type_of(kw) == MS_JSON_ABSENT) {
        return code;
    }
    if (ms_json_get_i64_opt(kw, "max_tokens", 1, 1000000, 0, &max_tokens) != MS_OK ||
        ms_json_get_double_opt(kw, "temperature", 0.0, 2.0, -1.0, &o->remote_temperature) !=
            MS_OK) {
        return WHY("remote_client.kwargs: max_tokens (1..1000000) and temperature (0..2) must "
                   "be numbers in range");
    }
    o->remote_max_tokens = (long)max_tokens;
    return MS_CLI_OK;
}

static int remote_client(ms_run_opts *o, ms_json_val rc, char *why, size_t why_cap)
{
    const char *type = NULL, *url = NULL, *pem = NULL, *policy = NULL, *ca = NULL;
    const char *model = NULL;
    bool allow_http;
    char t[52];
    int code;
    if ((code = only_known(rc, "remote_client", REMOTE_KEYS, why, why_cap)) ||
        (code = get_str(rc, "remote_client", "type", &type, why, why_cap)) ||
        (code = get_str(rc, "remote_client", "supervisor_url", &url, why, why_cap)) ||
        (code = get_str(rc, "remote_client", "trusted_attestation_pem", &pem, why, why_cap)) ||
        (code = get_str(rc, "remote_client", "attestation_policy", &policy, why, why_cap)) ||
        (code = get_str(rc, "remote_client", "cacert", &ca, why, why_cap)) ||
        (code = get_str(rc, "remote_client", "model_name", &model, why, why_cap))) {
        return code;
    }
    if (type && !known(type, REMOTE_KINDS)) {
        return WHY("remote_client.type: '%s' is not a client the reference names; "
                   "minions-secure talks only to an attested minions-supervisor (type "
                   "\"secure\")",
                   shown(type, t));
    }
    if (ms_json_get_bool_opt(rc, "allow_http", false, &allow_http) != MS_OK) {
        return WHY("remote_client.allow_http: must be true or false");
    }
    if ((code = remote_kwargs(o, rc, why, why_cap))) {
        return code;
    }
    if (type && strcmp(type, "secure") != 0) {
        /* A cloud client of the reference: its place is taken by the attested supervisor,
           which must then be named (on the command line: nothing in this remote names it). */
        if (!o->conn.url && !url) {
            return WHY("remote_client.type: '%s': minions-secure talks only to an attested "
                       "minions-supervisor; name it with --supervisor_url (the model behind "
                       "it then stands in for this remote)",
                       shown(type, t));
        }
        o->remote_kind = type;
    }
    if (model || o->remote_kind) {
        char m[52];
        fprintf(stderr,
                "%s: remote_client%s%s: the remote model is the one behind the attested "
                "supervisor%s%s; model_name '%s' is a request, not a choice (the supervisor's "
                "engine decides)\n",
                MS_RUN_PROG, o->remote_kind ? " of type " : "",
                o->remote_kind ? shown(o->remote_kind, t) : "",
                (o->conn.url || url) ? " at " : "", o->conn.url ? o->conn.url : url ? url : "",
                model ? shown(model, m) : "(none)");
    }
    ms_cli_conn *c = &o->conn;
    c->url = c->url ? c->url : url;
    c->pin_file = c->pin_file ? c->pin_file : pem;
    c->policy_file = c->policy_file ? c->policy_file : policy;
    c->cacert = c->cacert ? c->cacert : ca;
    c->allow_http = c->allow_http || allow_http;
    return MS_CLI_OK;
}

/* call_params.context: one string or an array of strings (the documents themselves). */
static int context_texts(ms_run_opts *o, ms_json_val cp, char *why, size_t why_cap)
{
    ms_json_val v, arr;
    size_t n;
    if (ms_json_get(cp, "context", &v) != MS_OK) {
        return MS_CLI_OK;
    }
    if (ms_json_type_of(v) == MS_JSON_STRING) {
        o->n_stdin_texts = 1;
        return ms_json_as_str(v, MS_MAX_JSON_STRING, &o->stdin_texts[0], &o->stdin_text_lens[0])
                       == MS_OK
                   ? MS_CLI_OK
                   : WHY("call_params.context: too long");
    }
    if (ms_json_as_arr(v, MS_RUN_MAX_CONTEXT_ARGS, &arr, &n) != MS_OK) {
        return WHY("call_params.context: must be a string or an array of at most %u strings",
                   MS_RUN_MAX_CONTEXT_ARGS);
    }
    ms_json_iter it = ms_json_iter_init(arr);
    for (size_t i = 0; ms_json_iter_next(&it, &v, NULL); i++) {
        if (ms_json_as_str(v, MS_MAX_JSON_STRING, &o->stdin_texts[i], &o->stdin_text_lens[i]) !=
            MS_OK) {
            return WHY("call_params.context[%zu]: must be a string", i);
        }
        o->n_stdin_texts = i + 1;
    }
    return MS_CLI_OK;
}

static int context_paths(ms_run_opts *o, ms_json_val cp, char *why, size_t why_cap)
{
    ms_json_val arr, v;
    size_t n;
    const char *p;
    size_t len;
    if (ms_json_get_arr_opt(cp, "context_paths", MS_RUN_MAX_CONTEXT_ARGS, &arr, &n) != MS_OK) {
        return WHY("call_params.context_paths: must be an array of at most %u paths",
                   MS_RUN_MAX_CONTEXT_ARGS);
    }
    ms_json_iter it = ms_json_iter_init(arr);
    for (size_t i = 0; ms_json_iter_next(&it, &v, NULL); i++) {
        if (ms_json_as_str(v, 4095, &p, &len) != MS_OK || len == 0) {
            return WHY("call_params.context_paths[%zu]: must be a non-empty path", i);
        }
        if (o->n_contexts >= MS_RUN_MAX_CONTEXT_ARGS) {
            return WHY("more than %u context paths in all", MS_RUN_MAX_CONTEXT_ARGS);
        }
        o->contexts[o->n_contexts++] = p;
    }
    return MS_CLI_OK;
}

static int call_params(ms_run_opts *o, ms_json_val cp, char *why, size_t why_cap)
{
    const char *task = NULL, *meta = NULL, *sys = NULL;
    int64_t rounds, jobs;
    bool log_ctx, privacy;
    int code;
    if ((code = only_known(cp, "call_params", CALL_KEYS, why, why_cap)) ||
        (code = get_str(cp, "call_params", "task", &task, why, why_cap)) ||
        (code = get_str(cp, "call_params", "doc_metadata", &meta, why, why_cap)) ||
        (code = get_str(cp, "call_params", "system_prompt", &sys, why, why_cap)) ||
        (code = context_texts(o, cp, why, why_cap)) ||
        (code = context_paths(o, cp, why, why_cap))) {
        return code;
    }
    if (ms_json_get_i64_opt(cp, "max_rounds", 1, MS_MAX_PROTO_ROUNDS, 0, &rounds) != MS_OK) {
        return WHY("call_params.max_rounds: must be a whole number, 1..%u", MS_MAX_PROTO_ROUNDS);
    }
    if (ms_json_get_i64_opt(cp, "jobs", 1, MS_MAX_LLM_PARALLEL, 0, &jobs) != MS_OK) {
        return WHY("call_params.jobs: must be a whole number, 1..%u", MS_MAX_LLM_PARALLEL);
    }
    if (ms_json_get_bool_opt(cp, "log_context", false, &log_ctx) != MS_OK ||
        ms_json_get_bool_opt(cp, "is_privacy", false, &privacy) != MS_OK) {
        return WHY("call_params.log_context and is_privacy: must be true or false");
    }
    if (privacy) {
        return WHY("call_params.is_privacy: true asks for the reference's privacy filter on "
                   "worker answers, which minions-secure does not have; leave it out or false");
    }
    o->task = o->task ? o->task : task;
    o->doc_metadata = o->doc_metadata ? o->doc_metadata : meta;
    o->system_prompt = o->system_prompt ? o->system_prompt : sys;
    o->max_rounds = o->max_rounds ? o->max_rounds : (long)rounds;
    o->jobs = o->jobs ? o->jobs : (long)jobs;
    o->logo.context = o->logo.context || log_ctx;
    return MS_CLI_OK;
}

/*
 * protocol: "minion" | "minions", or the reference's object {"type", "max_rounds",
 * "log_dir", "kwargs": {"max_rounds", "jobs", "system_prompt"}}. call_params and the
 * command line win over it (they are read after, and fill only what is still open).
 */
static int protocol_of(ms_run_opts *o, ms_json_val root, size_t *pi, char *why, size_t why_cap)
{
    static const char *const protos[] = {"minion", "minions"};
    ms_json_val p, kw;
    const char *dir = NULL, *sys = NULL;
    int64_t rounds = 0, krounds = 0, jobs = 0;
    int code;
    *pi = 0;
    if (ms_json_get(root, "protocol", &p) != MS_OK || ms_json_type_of(p) != MS_JSON_OBJECT) {
        return ms_json_get_enum_opt(root, "protocol", protos, 2, 0, pi) == MS_OK
                   ? MS_CLI_OK
                   : WHY("protocol: must be \"minion\", \"minions\" or an object with "
                         "\"type\"");
    }
    if ((code = only_known(p, "protocol", PROTO_KEYS, why, why_cap)) ||
        (code = get_str(p, "protocol", "log_dir", &dir, why, why_cap)) ||
        (code = kwargs_of(p, "protocol", PROTO_KWARGS, &kw, why, why_cap))) {
        return code;
    }
    if (ms_json_get_enum(p, "type", protos, 2, pi) != MS_OK) {
        return WHY("protocol.type: must be \"minion\" or \"minions\"");
    }
    if (ms_json_get_i64_opt(p, "max_rounds", 1, MS_MAX_PROTO_ROUNDS, 0, &rounds) != MS_OK ||
        (ms_json_type_of(kw) != MS_JSON_ABSENT &&
         ms_json_get_i64_opt(kw, "max_rounds", 1, MS_MAX_PROTO_ROUNDS, 0, &krounds) != MS_OK)) {
        return WHY("protocol.max_rounds: must be a whole number, 1..%u", MS_MAX_PROTO_ROUNDS);
    }
    if (ms_json_type_of(kw) != MS_JSON_ABSENT) {
        if (ms_json_get_i64_opt(kw, "jobs", 1, MS_MAX_LLM_PARALLEL, 0, &jobs) != MS_OK) {
            return WHY("protocol.kwargs.jobs: must be a whole number, 1..%u",
                       MS_MAX_LLM_PARALLEL);
        }
        if ((code = get_str(kw, "protocol.kwargs", "system_prompt", &sys, why, why_cap))) {
            return code;
        }
        rounds = rounds ? rounds : krounds;
        o->jobs = o->jobs ? o->jobs : (long)jobs;
        o->system_prompt = o->system_prompt ? o->system_prompt : sys;
    }
    if (dir && dir[0] && !o->logo.file && !o->logo.dir && !o->logo.off) {
        o->logo.dir = dir; /* the reference's log_dir: our signed session log goes there */
        o->log_dir_make = 1;
    }
    o->max_rounds = o->max_rounds ? o->max_rounds : (long)rounds;
    return MS_CLI_OK;
}

int ms_run_stdin_read(ms_run_opts *o, int fd, char *why, size_t why_cap)
{
    ms_buf text;
    int code;
    why[0] = '\0';
    ms_buf_init(&text, MS_RUN_MAX_STDIN);
    code = read_all(fd, &text, why, why_cap);
    if (code == MS_CLI_OK) {
        code = ms_run_stdin_parse(o, (const char *)text.p, text.len, NULL, why, why_cap);
    }
    ms_buf_free(&text);
    return code;
}

int ms_run_stdin_parse(ms_run_opts *o, const char *text, size_t len,
                       const char *const *extra_keys, char *why, size_t why_cap)
{
    ms_json_val root, lc, rc, cp;
    ms_json_iter it;
    ms_json_val v;
    const char *key;
    char k[52];
    size_t pi;
    ms_err e;
    int code;
    why[0] = '\0';
    if ((e = ms_json_parse(text, len, &o->stdin_doc)) != MS_OK) {
        return WHY("the request: %s", ms_err_str(e));
    }
    root = ms_json_root(o->stdin_doc);
    if (ms_json_type_of(root) != MS_JSON_OBJECT) {
        return WHY("the request must be a JSON object");
    }
    it = ms_json_iter_init(root);
    while (ms_json_iter_next(&it, &v, &key)) { /* the caller's own keys are the caller's */
        if (!known(key, TOP_KEYS) && !(extra_keys && known(key, extra_keys))) {
            return WHY("%s: not a field minions-secure knows (docs/client.md lists them)",
                       shown(key, k));
        }
    }
    if (ms_json_get_obj_opt(root, "local_client", &lc) != MS_OK ||
        ms_json_get_obj_opt(root, "remote_client", &rc) != MS_OK ||
        ms_json_get_obj(root, "call_params", &cp) != MS_OK) {
        return WHY("call_params (required), local_client and remote_client must be objects");
    }
    /* call_params first: the reference's call arguments win over its protocol object's */
    if ((code = local_client(o, lc, why, why_cap)) || (code = remote_client(o, rc, why, why_cap)) ||
        (code = call_params(o, cp, why, why_cap)) || (code = protocol_of(o, root, &pi, why, why_cap))) {
        return code;
    }
    if (!o->protocol_given) {
        o->protocol = pi == 1 ? MS_RUN_MINIONS : MS_RUN_MINION;
    }
    return MS_CLI_OK;
}

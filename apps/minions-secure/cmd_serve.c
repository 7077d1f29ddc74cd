/* minions-secure serve: the attested supervisor as a local OpenAI-compatible API (gateway/). */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/listen.h"
#include "common/log.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/cmd_attest.h"
#include "apps/minions-secure/cmds.h"
#include "apps/minions-secure/serve_runs.h"
#include "gateway/gateway.h"

#define PROG "minions-secure serve"

static const char USAGE[] =
    "Usage: minions-secure serve --supervisor_url URL --trusted_attestation_pem FILE\n"
    "                            [--listen 127.0.0.1:8181] [options]\n"
    "\n"
    "Serves the attested supervisor as a local OpenAI-compatible API\n"
    "(docs/serve.md): GET /v1/models, POST /v1/chat/completions (plain and\n"
    "streamed), GET /v1/attestation, and a web UI at /. It verifies the supervisor\n"
    "at start (and refuses to start if that fails), says what it verified, and\n"
    "runs each request as a turn over an attested, end-to-end encrypted session of\n"
    "a small pool; a session whose evidence expires is made again, with every\n"
    "check. Requests need the API key (Authorization: Bearer KEY) or the web\n"
    "UI's session, given once by the login URL printed at start.\n"
    "\n" MS_CLI_CONN_HELP
    "Serving:\n"
    "  --listen ADDR                127.0.0.1:PORT (default 127.0.0.1:8181),\n"
    "                               [::1]:PORT or unix:PATH\n"
    "  --allow-remote               allow a --listen address that is not loopback:\n"
    "                               anyone who can reach it and holds the key can\n"
    "                               use the supervisor (plain HTTP: the key and\n"
    "                               the prompts cross the network in clear)\n"
    "  --api-key-file FILE          the API key (created 0600 when missing; default\n"
    "                               $XDG_CONFIG_HOME/minions-secure/serve.key)\n"
    "  --sessions N                 attested sessions in the pool: requests served\n"
    "                               at once (1..32, default 4)\n"
    "  --model NAME                 the model id /v1/models lists (default\n"
    "                               minions-secure; requests may name any)\n"
    "  --port-file FILE             write the bound port there once listening\n"
    "  --quiet                      no line per request on standard error\n"
    "  --help, --version\n"
    MS_SERVE_RUNS_HELP
    "\n"
    "DEVELOPMENT MODE: dev-key evidence proves that the supervisor holds the pinned\n"
    "key, not what host or software runs it; /v1/attestation says \"dev_mode\".\n"
    "\n" MS_CLI_EXIT_HELP;

typedef struct opts {
    ms_cli_conn conn;
    const char *listen, *key_file, *model, *port_file;
    int allow_remote, quiet;
    long sessions;
    ms_run_api_cfg runs; /* POST /v1/minions/runs (serve_runs.h) */
} opts;

enum {
    O_LISTEN = MS_CLI_OPT_OWN_BASE,
    O_REMOTE,
    O_KEYFILE,
    O_SESSIONS,
    O_MODEL,
    O_PORTFILE,
    O_QUIET,
    O_HELP,
    O_VERSION
};

static int apply(void *ctx, int c, const char *arg)
{
    opts *o = ctx;
    switch (c) {
    case O_LISTEN: o->listen = arg; return *arg != 0;
    case O_REMOTE: o->allow_remote = 1; return 1;
    case O_KEYFILE: o->key_file = arg; return *arg != 0;
    case O_SESSIONS: return ms_cli_parse_long(arg, 1, MS_GW_MAX_SESSIONS, &o->sessions);
    case O_MODEL: o->model = arg; return ms_cli_nonblank(arg) && strlen(arg) < 128;
    case O_PORTFILE: o->port_file = arg; return *arg != 0;
    case O_QUIET: o->quiet = 1; return 1;
    default: {
        int r = ms_serve_runs_apply(&o->runs, c, arg);
        return r >= 0 ? r : ms_cli_conn_apply(&o->conn, c, arg) == 1;
    }
    }
}

static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option own[] = {{"listen", 1, 0, O_LISTEN},
                                        {"allow-remote", 0, 0, O_REMOTE},
                                        {"api-key-file", 1, 0, O_KEYFILE},
                                        {"sessions", 1, 0, O_SESSIONS},
                                        {"model", 1, 0, O_MODEL},
                                        {"port-file", 1, 0, O_PORTFILE},
                                        {"quiet", 0, 0, O_QUIET},
                                        MS_SERVE_RUNS_OPTIONS,
                                        {"help", 0, 0, O_HELP},
                                        {"version", 0, 0, O_VERSION},
                                        {0, 0, 0, 0}};
    static const char *const help[] = {USAGE, NULL};
    o->listen = "127.0.0.1:8181";
    o->sessions = MS_GW_DEFAULT_SESSIONS;
    o->model = "minions-secure";
    ms_cli_parser p = {.prog = PROG, .own = own, .opt_help = O_HELP, .opt_version = O_VERSION,
                       .help = help, .apply = apply, .ctx = o};
    int code = ms_cli_getopt(&p, argc, argv);
    if (code != 0) {
        return code;
    }
    return ms_cli_conn_require(&o->conn, PROG) == MS_CLI_OK ? 0 : MS_CLI_USAGE;
}

/* minions-secure attest's JSON report of the session just verified: every check, the
   evidence's facts, the policy they satisfy (shown by /v1/attestation). */
static ms_err verified_report(ms_cli_conn *c, char **json, size_t *len)
{
    ms_evidence_view ev;
    static ms_inspect ins; /* large: not on the stack; one serve per process */
    *json = NULL;
    *len = 0;
    ms_err e = ms_client_evidence(c->client, &ev);
    if (e != MS_OK) {
        return e;
    }
    ms_inspect_in in = {.type = ev.type, .data = ev.data, .len = ev.len, .have_session = 1,
                        .mode = ev.mode, .not_after = ev.not_after, .at = ev.now,
                        .static_pk = ev.static_pk, .binding = ev.binding, .binding_live = 1,
                        .policy = &c->policy};
    ms_err verdict = ms_attest_inspect(&in, &ins);
    attest_shown s = {.source = c->url, .live = 1, .have_session = 1, .mode = ev.mode,
                      .not_after = ev.not_after, .at = ev.now, .static_pk = ev.static_pk,
                      .ins = &ins, .verdict = verdict, .show_policy = 1};
    FILE *f = open_memstream(json, len);
    if (!f) {
        return MS_ERR_NOMEM;
    }
    e = attest_show_json(&s, f);
    if (fclose(f) != 0 && e == MS_OK) {
        e = MS_ERR_IO;
    }
    return e != MS_OK ? e : verdict;
}

static int key_path(const opts *o, char out[static PATH_MAX])
{
    if (o->key_file) {
        return snprintf(out, PATH_MAX, "%s", o->key_file) < PATH_MAX;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) {
        return snprintf(out, PATH_MAX, "%s/minions-secure/serve.key", xdg) < PATH_MAX;
    }
    return home && *home &&
           snprintf(out, PATH_MAX, "%s/.config/minions-secure/serve.key", home) < PATH_MAX;
}

/* Serve until SIGINT or SIGTERM. */
static int serve(opts *o, const char *key, const char *code, char *report, size_t report_len)
{
    ms_devkey id;
    ms_err e;
    if (ms_cli_load_identity(&o->conn, PROG, &id, &e) != MS_CLI_OK) {
        return MS_CLI_USAGE;
    }
    ms_client_cfg ccfg;
    ms_cli_conn_client_cfg(&o->conn, o->conn.identity_file ? id.sk : NULL, &ccfg);
    ms_gw_cfg cfg = {.listen = o->listen, .allow_remote = o->allow_remote, .api_key = key,
                     .login_code = code, .client = &ccfg, .first = o->conn.client,
                     .sessions = (unsigned)o->sessions, .model = o->model,
                     .supervisor_url = o->conn.url, .verified_json = report,
                     .verified_len = report_len, .quiet = o->quiet,
                     .runner = ms_serve_runner(&o->runs)};
    o->runs.conn = &o->conn;
    o->conn.client = NULL; /* the gateway's now */
    ms_gw *gw;
    uint16_t port;
    int rc = MS_CLI_OK;
    e = ms_gw_start(&cfg, &gw, &port);
    if (e != MS_OK) {
        fprintf(stderr, "%s: --listen %s: %s\n", PROG, o->listen, ms_err_str(e));
        ms_devkey_wipe(&id);
        return MS_CLI_USAGE;
    }
    char base[160];
    if (strncmp(o->listen, "unix:", 5) == 0) {
        snprintf(base, sizeof base, "http://localhost");
        fprintf(stderr, "%s: listening on the unix socket %s (OpenAI API: %s/v1 through it, "
                        "%u attested sessions)\n",
                PROG, o->listen + 5, base, (unsigned)o->sessions);
    } else {
        const char *colon = strrchr(o->listen, ':');
        snprintf(base, sizeof base, "http://%.*s:%u", (int)(colon - o->listen), o->listen,
                 (unsigned)port);
        fprintf(stderr, "%s: listening on %s (OpenAI API: %s/v1, %u attested sessions)\n", PROG,
                base, base, (unsigned)o->sessions);
    }
    fprintf(stderr, "%s: web UI: open %s/login?code=%s (works once)\n", PROG, base, code);
    if (o->port_file && ms_listen_write_port_file(o->port_file, port) != MS_OK) {
        fprintf(stderr, "%s: cannot write %s\n", PROG, o->port_file);
        rc = MS_CLI_USAGE;
    }
    sigset_t set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    while (rc == MS_CLI_OK && sigwait(&set, &sig) == 0 && sig != SIGINT && sig != SIGTERM) {
    }
    fprintf(stderr, "%s: stopping\n", PROG);
    ms_gw_stop(gw);
    ms_devkey_wipe(&id);
    return rc;
}

int ms_cmd_serve(int argc, char **argv)
{
    opts o;
    memset(&o, 0, sizeof o);
    ms_cli_conn_init(&o.conn);
    int code = parse_args(argc, argv, &o);
    if (code != 0) {
        ms_cli_conn_free(&o.conn);
        return code < 0 ? MS_CLI_OK : code;
    }
    ms_log_set_level(o.conn.verbose ? MS_LOG_DEBUG : MS_LOG_INFO);
    /* every thread (the server's, libcurl's) starts with these blocked; serve() waits */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    char path[PATH_MAX], key[MS_GW_MAX_KEY_LEN + 1], login[MS_GW_TOKEN_LEN + 1];
    int created = 0;
    char *report = NULL;
    size_t report_len = 0;
    ms_err e;
    if (!key_path(&o, path)) {
        fprintf(stderr, "%s: no --api-key-file and no $HOME\n", PROG);
        code = MS_CLI_USAGE;
    } else if ((e = ms_gw_key_file(path, key, &created)) != MS_OK) {
        fprintf(stderr, "%s: --api-key-file %s: %s\n", PROG, path, ms_err_str(e));
        code = MS_CLI_USAGE;
    } else if ((e = ms_gw_new_token(login)) != MS_OK) {
        fprintf(stderr, "%s: %s\n", PROG, ms_err_str(e));
        code = MS_CLI_USAGE;
    } else {
        code = ms_cli_conn_open(&o.conn, PROG, 0, &e); /* verified once, and said */
    }
    if (code == MS_CLI_OK && (e = verified_report(&o.conn, &report, &report_len)) != MS_OK) {
        fprintf(stderr, "%s: the evidence's report: %s\n", PROG, ms_err_str(e));
        code = MS_CLI_VERIFY;
    }
    if (code == MS_CLI_OK) {
        fprintf(stderr, "%s: API key: %s (%s; never printed)\n", PROG, path,
                created ? "created, 0600" : "read");
        code = serve(&o, key, login, report, report_len);
    }
    free(report);
    ms_wipe(key, sizeof key);
    ms_wipe(login, sizeof login);
    ms_cli_conn_free(&o.conn);
    return code;
}

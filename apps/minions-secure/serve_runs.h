/* minions-secure serve's Minions API: its options, and the runner it hands the gateway (run_api.h). */
#ifndef MS_APPS_MINIONS_SECURE_SERVE_RUNS_H
#define MS_APPS_MINIONS_SECURE_SERVE_RUNS_H

#include "gateway/gateway.h"
#include "apps/minions-secure/run_api.h"

/*
 * Usage in cmd_serve.c: MS_SERVE_RUNS_OPTIONS in its option table, MS_SERVE_RUNS_HELP in its
 * help, ms_serve_runs_apply(&cfg, c, arg) for each option (1 taken, 0 bad value, -1 not
 * one); after parsing, cfg.conn = &the connection options, and the gateway's runner is
 * ms_serve_runner(&cfg) (cfg must outlive the gateway).
 */
#define MS_SERVE_RUNS_OPT_BASE 640
#define MS_SERVE_RUNS_OPTIONS                                                                   \
    {"context-root", 1, 0, MS_SERVE_RUNS_OPT_BASE},                                             \
        {"local_client_type", 1, 0, MS_SERVE_RUNS_OPT_BASE + 1},                                \
        {"local-client-type", 1, 0, MS_SERVE_RUNS_OPT_BASE + 1},                                \
        {"local_model", 1, 0, MS_SERVE_RUNS_OPT_BASE + 2},                                      \
        {"local-model", 1, 0, MS_SERVE_RUNS_OPT_BASE + 2},                                      \
        {"local-url", 1, 0, MS_SERVE_RUNS_OPT_BASE + 3},                                        \
        {"local_url", 1, 0, MS_SERVE_RUNS_OPT_BASE + 3}, MS_SLOG_OPTIONS

#define MS_SERVE_RUNS_HELP                                                                      \
    "Minions runs (POST /v1/minions/runs, the web UI's documents):\n"                           \
    "  --context-root DIR           a folder whose files a request may name in\n"               \
    "                               call_params.context_paths (repeatable, at most\n"           \
    "                               16); without it only text and uploads are read\n"           \
    "  --local_client_type TYPE     the worker's engine: ollama (default) or openai\n"          \
    "  --local_model NAME           the worker's model (default llama3.2)\n"                    \
    "  --local-url URL              the worker's base URL (loopback only)\n"                    \
    MS_SLOG_HELP

int ms_serve_runs_apply(ms_run_api_cfg *cfg, int opt, const char *arg);

/* The runner of POST /v1/minions/runs over ms_run_api_run with cfg. */
ms_gw_runner ms_serve_runner(ms_run_api_cfg *cfg);

#endif

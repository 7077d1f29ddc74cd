/* minions-secure serve's Minions API: options and the gateway's runner (serve_runs.h). */
#include <string.h>

#include "apps/minions-secure/serve_runs.h"

int ms_serve_runs_apply(ms_run_api_cfg *cfg, int opt, const char *arg)
{
    switch (opt) {
    case MS_SERVE_RUNS_OPT_BASE:
        if (!arg[0] || cfg->n_roots >= MS_SERVE_MAX_CONTEXT_ROOTS) {
            return 0;
        }
        cfg->roots[cfg->n_roots++] = arg;
        return 1;
    case MS_SERVE_RUNS_OPT_BASE + 1: {
        ms_llm_kind k;
        cfg->worker_kind = arg;
        return ms_llm_kind_parse(arg, &k) == MS_OK;
    }
    case MS_SERVE_RUNS_OPT_BASE + 2: cfg->worker_model = arg; return arg[0] != 0;
    case MS_SERVE_RUNS_OPT_BASE + 3: cfg->worker_url = arg; return arg[0] != 0;
    default: return ms_slog_apply(&cfg->logo, opt, arg);
    }
}

static void run(void *ctx, const char *body, size_t len, ms_gw_run_event_fn ev, void *ev_ctx,
                ms_buf *out, int *status, bool *streamed)
{
    ms_run_api_reply rep;
    ms_run_api_reply_init(&rep);
    ms_run_api_run(ctx, body, len, ev, ev_ctx, &rep);
    *status = rep.http_status;
    *streamed = rep.streamed;
    if (ms_buf_append(out, rep.body.p, rep.body.len) != MS_OK) {
        *status = 500;
    }
    ms_run_api_reply_free(&rep);
}

static void extract(void *ctx, const char *body, size_t len, ms_buf *out, int *status)
{
    (void)ctx;
    *status = ms_run_api_extract(body, len, out);
}

ms_gw_runner ms_serve_runner(ms_run_api_cfg *cfg)
{
    return (ms_gw_runner){.fn = run, .extract = extract, .ctx = cfg};
}

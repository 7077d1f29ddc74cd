/* End-to-end helpers: llm-sim and minions-supervisor started on free loopback ports. */
#include "tests/e2e/stack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned g_seq;

int e2e_sim_start(e2e_server *s, const char *bin, const char *dir, const char *script,
                  const char *log)
{
    char pf[PATH_MAX];
    unsigned n = ++g_seq;
    char *argv[12] = {(char *)bin, "--listen", "127.0.0.1:0", "--port-file", pf};
    int i = 5;
    memset(s, 0, sizeof *s);
    e2e_path(pf, "%s/sim%u.port", dir, n);
    e2e_path(s->out, "%s/sim%u.out", dir, n);
    if (script) {
        argv[i++] = "--script";
        argv[i++] = (char *)script;
    }
    if (log) {
        argv[i++] = "--log";
        argv[i++] = (char *)log;
    }
    if (e2e_proc_start(&s->p, "llm-sim", argv, s->out) != 0) {
        return -1;
    }
    return e2e_proc_wait_port(&s->p, pf, E2E_START_TIMEOUT_MS, &s->port);
}

int e2e_sup_start(e2e_server *s, const e2e_sup_cfg *cfg)
{
    char pf[PATH_MAX], backend[96];
    unsigned n = ++g_seq;
    char *argv[24 + E2E_MAX_EXTRA_ARGS] = {
        (char *)cfg->bin, "--listen",      "127.0.0.1:0",      "--port-file",
        pf,               "--dev-key",     (char *)cfg->devkey, "--backend-url",
        backend,          "--backend-model", "sim-model",       "--backend-retries",
        "0",              "--tls-cert",    (char *)cfg->cert,  "--tls-key",
        (char *)cfg->key};
    int i = 17;
    memset(s, 0, sizeof *s);
    snprintf(backend, sizeof backend, "http://127.0.0.1:%u/v1", cfg->backend_port);
    e2e_path(pf, "%s/sup%u.port", cfg->dir, n);
    e2e_path(s->out, "%s/sup%u.out", cfg->dir, n);
    for (int k = 0; k < E2E_MAX_EXTRA_ARGS && cfg->extra[k]; k++) {
        argv[i++] = (char *)cfg->extra[k];
    }
    if (e2e_proc_start(&s->p, "minions-supervisor", argv, s->out) != 0) {
        return -1;
    }
    return e2e_proc_wait_port(&s->p, pf, E2E_START_TIMEOUT_MS, &s->port);
}

int e2e_server_stop(e2e_server *s, int grace_ms)
{
    return s->p.pid > 0 ? e2e_proc_stop(&s->p, grace_ms) : -1;
}

int e2e_find_in_path(const char *name, char out[static PATH_MAX])
{
    const char *path = getenv("PATH");
    if (!path || !*path) {
        path = "/usr/bin:/bin";
    }
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n + strlen(name) + 2 < PATH_MAX) {
            snprintf(out, PATH_MAX, "%.*s/%s", (int)n, path, name);
            if (access(out, X_OK) == 0) {
                return 0;
            }
        }
        path += n + (path[n] == ':');
    }
    out[0] = '\0';
    return -1;
}

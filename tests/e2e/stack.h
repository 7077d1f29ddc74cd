/* End-to-end helpers: start llm-sim and minions-supervisor on 127.0.0.1 and wait for their ports. */
#ifndef MS_TESTS_E2E_STACK_H
#define MS_TESTS_E2E_STACK_H

#include <limits.h>

#include "tests/e2e/proc.h"

/*
 * For the attack tests and bench-e2e. Processes are e2e_proc children (tests/e2e/proc.h):
 * recorded, killed at exit or on a fatal signal, stopped by PID. Their stdout and stderr go
 * to "<dir>/<name><n>.out". Single-threaded use (the caller's main thread).
 */
#define E2E_START_TIMEOUT_MS 20000
#define E2E_MAX_EXTRA_ARGS 16

typedef struct e2e_server {
    e2e_proc p;
    unsigned port;
    char out[PATH_MAX]; /* its stdout and stderr (the supervisor's access log) */
} e2e_server;

/* llm-sim on a free port; script and log may be NULL. 0 on success, -1 (printed) on failure. */
int e2e_sim_start(e2e_server *s, const char *bin, const char *dir, const char *script,
                  const char *log);

typedef struct e2e_sup_cfg {
    const char *bin;
    const char *dir;
    const char *cert, *key; /* PEM files for HTTPS */
    const char *devkey;     /* --dev-key (created on first start) */
    unsigned backend_port;  /* llm-sim */
    const char *extra[E2E_MAX_EXTRA_ARGS + 1]; /* more options, NULL-terminated */
} e2e_sup_cfg;

/* minions-supervisor over HTTPS on a free port. 0 on success, -1 (printed) on failure. */
int e2e_sup_start(e2e_server *s, const e2e_sup_cfg *cfg);

/*
 * Stop by PID (SIGTERM, SIGKILL after grace_ms) and return its exit code (0 is a clean exit;
 * a sanitizer's report makes it 1); -1 if it was not running. Safe to call twice.
 */
int e2e_server_stop(e2e_server *s, int grace_ms);

/* The first executable `name` in $PATH into out; 0 on success, -1 if there is none. */
int e2e_find_in_path(const char *name, char out[static PATH_MAX]);

#endif

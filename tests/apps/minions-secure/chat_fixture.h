/* Chat end-to-end fixture: llm-sim, minions-supervisor and minions-secure chat as real processes. */
#ifndef MS_TESTS_E2E_CHAT_FIXTURE_H
#define MS_TESTS_E2E_CHAT_FIXTURE_H

#include <limits.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/json.h"
#include "tests/fixture/proc.h"

/*
 * Single-threaded (the test's main thread). Every process is an e2e_proc (killed at exit or
 * on a fatal signal). The chat's standard input is a FIFO the test writes line by line, so
 * a test can act between turns (kill the engine, restart the supervisor); its standard
 * output and error go to files the test reads while it runs.
 * $MS_CHAT_WRAPPER (e.g. "valgrind --quiet --error-exitcode=99") is put in front of
 * minions-secure.
 */
typedef struct chat_env {
    const char *sup_bin, *sim_bin, *cli_bin, *src;
    char dir[PATH_MAX];
    char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
    char devkey[PATH_MAX], devpub[PATH_MAX];
    char logkey[PATH_MAX], logpub[PATH_MAX];
    char script[PATH_MAX];
    unsigned seq;
} chat_env;

extern chat_env CE;

/* argv: SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR. Writes the script, makes the keys,
 * points HOME, XDG_* and MINIONS_LOG_KEY into the temporary directory. 0 on success. */
int chat_env_setup(char **argv, const char *script);
void chat_env_done(int failed);

typedef struct csim {
    e2e_proc p;
    unsigned port;
    char log[PATH_MAX]; /* --log: one JSON line per request */
} csim;

/* llm-sim with the script; listen_port 0: any; tokens_per_sec NULL: unpaced. */
int csim_start(csim *s, unsigned listen_port, const char *tokens_per_sec);

typedef struct csup {
    e2e_proc p;
    unsigned port;
} csup;

/* minions-supervisor over HTTPS with the dev key and certs/dev; listen_port 0: any. */
int csup_start(csup *v, unsigned listen_port, unsigned backend_port);

/* Stop by PID (SIGTERM, then SIGKILL); a clean exit is checked. */
int cstop(e2e_proc *p); /* its exit status (0: clean; also when not running): CHECK it */

typedef struct cchat {
    e2e_proc p;
    int in_fd; /* the write end of its standard input, -1 once closed */
    char fifo[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
} cchat;

/*
 * minions-secure chat against https://127.0.0.1:sup_port with the dev pin, the dev CA and
 * the test's log key, plus `extra` (NULL-terminated; may be NULL). Without a --log or
 * --no-log in extra, the log goes to CE.dir. 0 on success.
 */
int cchat_start(cchat *c, unsigned sup_port, const char *const *extra);
/* Write one line (a '\n' is added). 0 on success. */
int cchat_send(cchat *c, const char *line);
/* Wait until its standard output (or error) contains `needle`: 0, or -1 after timeout_ms. */
int cchat_wait_out(const cchat *c, const char *needle, int timeout_ms);
int cchat_wait_err(const cchat *c, const char *needle, int timeout_ms);
/* Close its input and wait for it to end: its exit status, or -1. */
int cchat_end(cchat *c, int timeout_ms);
/* Its stdout / stderr as a NUL-terminated buffer (caller frees). */
void cchat_read(const char *path, ms_buf *out);

/*
 * The chat requests llm-sim logged (POST .../chat/completions or /api/chat), in order.
 * chat_reqs_count: how many. chat_req_get: request i's body (parsed; free the doc).
 */
int chat_reqs_count(const char *log);
int chat_req_get(const char *log, int i, ms_json_doc **doc, ms_json_val *body);

/* messages[i] of a request body: its role and text ("" when absent; parts: the text part). */
size_t chat_msgs(ms_json_val body, ms_json_val *arr);
const char *chat_msg_role(ms_json_val arr, size_t i);
const char *chat_msg_text(ms_json_val arr, size_t i);

int buf_contains(const ms_buf *b, const char *needle);

#endif

/* Chat end-to-end fixture: llm-sim, minions-supervisor and minions-secure chat as real processes. */
#ifndef MS_TESTS_E2E_CHAT_FIXTURE_H
#define MS_TESTS_E2E_CHAT_FIXTURE_H

#include <limits.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/json.h"
#include "tests/fixture/world.h"

/*
 * Single-threaded (the test's main thread). llm-sim and minions-supervisor come from the
 * e2e world (tests/fixture/world.h: e2e_world_sim, e2e_world_sup, e2e_server_stop); this
 * adds the chat process. Its standard input is a FIFO the test writes line by line, so
 * a test can act between turns (kill the engine, restart the supervisor); its standard
 * output and error go to files the test reads while it runs.
 * $MS_CHAT_WRAPPER (e.g. "valgrind --quiet --error-exitcode=99") is put in front of
 * minions-secure.
 */

/* The world: programs, certs/dev, the dev key, the log key, the script, the temp dir. */
extern e2e_world CE;

/*
 * argv: SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR. Opens the world, writes the script,
 * makes the keys, points HOME, XDG_* into the temporary directory (e2e_world_home).
 * 0 on success, else main's exit status.
 */
int chat_env_setup(int argc, char **argv, const char *script);
/* e2e_world_close: returns rc. */
int chat_env_done(int rc);

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
/*
 * Close its input and wait for it to end: its exit status, -1, or E2E_EXIT_REPORT when its
 * stderr holds a sanitizer or valgrind report.
 */
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

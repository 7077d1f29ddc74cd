/* End-to-end test helpers: child processes by PID, port files, temporary directories. */
#ifndef MS_TESTS_E2E_PROC_H
#define MS_TESTS_E2E_PROC_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

/*
 * For tests that run the real programs (minions-supervisor, llm-sim, minions-secure) on
 * 127.0.0.1. Single-threaded use (the test's main thread); not thread-safe.
 *
 * Every process started here is recorded in a small table and is killed (SIGKILL) by
 * e2e_proc_kill_all, which also runs at exit, on SIGINT/SIGTERM/SIGHUP/SIGABRT, and when
 * a sanitizer ends the test: a failing test never leaves a server running. Children get
 * /dev/null as stdin, a log file (or /dev/null) as stdout and stderr, no other inherited
 * file descriptor, and the test's environment.
 */
#define E2E_MAX_PROCS 32

typedef struct e2e_proc {
    pid_t pid;               /* > 0 while it may run; 0 once reaped */
    char name[32];           /* for messages */
    char log_path[PATH_MAX]; /* its stdout and stderr, "" for /dev/null */
    int exit_code;           /* once reaped: 0..255, or 128 + signal */
} e2e_proc;

/*
 * Start argv[0] (a path, not searched in PATH) with argv (NULL-terminated). log_path:
 * stdout and stderr are appended there (NULL: /dev/null). 0 on success, -1 (printed) on
 * failure.
 */
int e2e_proc_start(e2e_proc *p, const char *name, char *const argv[], const char *log_path);

/*
 * Wait until `port_file` holds a port number (programs write it via a temporary file and
 * rename, so it appears whole). 0 and *port on success; -1 when timeout_ms passes or the
 * process ends first (its log is printed to stderr).
 */
int e2e_proc_wait_port(e2e_proc *p, const char *port_file, int timeout_ms, unsigned *port);

/*
 * Stop by PID: SIGTERM, then SIGKILL if it still runs after grace_ms; reaps it. Returns
 * the exit code (0..255, or 128 + signal), -1 if it was not running. Safe to call twice.
 */
int e2e_proc_stop(e2e_proc *p, int grace_ms);

/* Wait for it to end by itself; after timeout_ms it is killed and -1 returned. */
int e2e_proc_wait(e2e_proc *p, int timeout_ms);

/* Kill (SIGKILL) every process still recorded; async-signal-safe. */
void e2e_proc_kill_all(void);

/*
 * Run a program to completion (killed after timeout_ms) with stdout and stderr captured
 * into `out` and `err` (may be NULL; NUL-terminated when given) through files in `dir`.
 * Returns its exit code, or -1 (start failure or timeout).
 */
int e2e_run(char *const argv[], int timeout_ms, const char *dir, ms_buf *out, ms_buf *err);

/* Make "$TMPDIR/<tag>.XXXXXX" (or under /tmp), mode 0700. 0 on success. */
int e2e_tmpdir_new(const char *tag, char out[static PATH_MAX]);
/* Remove a directory tree without following symbolic links. 0 on success. */
int e2e_tmpdir_remove(const char *path);

/* A TCP port on 127.0.0.1 that was free a moment ago (0 on failure). */
unsigned e2e_free_port(void);

/* Small file helpers: 0 on success. e2e_file_read NUL-terminates (within out's cap). */
int e2e_file_read(const char *path, ms_buf *out);
int e2e_file_write(const char *path, const char *text);
/* 1 when the file exists and contains `needle`, else 0. */
int e2e_file_contains(const char *path, const char *needle);

/* snprintf into a PATH_MAX buffer, aborting the test on truncation. */
void e2e_path(char out[static PATH_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sleep for ms milliseconds. */
void e2e_sleep_ms(int ms);

#endif

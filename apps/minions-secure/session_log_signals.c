/* SIGINT and SIGTERM during a session: the log is sealed by a thread, never in the handler. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "apps/minions-secure/session_log.h"

/*
 * The self-pipe: the handler's only resource (write(2) is async-signal-safe). Its write end
 * is non-blocking: a full pipe already holds a signal, and the handler must never block.
 * Byte 0 means "the session ended": the watcher returns.
 */
static int g_pipe[2] = {-1, -1};

static const int SIGNALS[] = {SIGINT, SIGTERM};
#define N_SIGNALS (sizeof SIGNALS / sizeof SIGNALS[0])

struct ms_slog_guard {
    pthread_t thread;
    ms_slog *s;
    const char *prog;
    struct sigaction old[N_SIGNALS];
};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(g_pipe[1], &b, 1);
    (void)w; /* EAGAIN: a signal is already waiting to be read */
    errno = saved;
}

static void *watch(void *arg)
{
    struct ms_slog_guard *g = arg;
    unsigned char b = 0;
    for (;;) {
        ssize_t n = read(g_pipe[0], &b, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || b == 0) {
            return NULL; /* the session ended (ms_slog_guard_stop) */
        }
        break;
    }
    int sig = b;
    ms_err e = ms_alog_seal(g->s->log);
    char line[PATH_MAX + 256];
    int k = e == MS_OK
                ? snprintf(line, sizeof line, "\n%s: %s: the session log %s is sealed\n", g->prog,
                           sig == SIGINT ? "interrupted (SIGINT)" : "stopped (SIGTERM)",
                           g->s->path)
                : snprintf(line, sizeof line,
                           "\n%s: %s: the session log %s could not be sealed: %s (a verifier "
                           "will call it incomplete, or valid up to its last checkpoint)\n",
                           g->prog, sig == SIGINT ? "interrupted (SIGINT)" : "stopped (SIGTERM)",
                           g->s->path, ms_err_str(e));
    if (k > 0) { /* one write: the main thread may be printing too */
        ssize_t w = write(STDERR_FILENO, line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
        (void)w;
    }
    /* End as the signal would have: its default action, delivered to this thread. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    _exit(128 + sig); /* not reached */
}

static void close_pipe(void)
{
    for (int i = 0; i < 2; i++) {
        if (g_pipe[i] >= 0) {
            close(g_pipe[i]);
            g_pipe[i] = -1;
        }
    }
}

/* Put back the handlers that were there before (the first `n` of SIGNALS). */
static void restore(const struct ms_slog_guard *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sigaction(SIGNALS[i], &g->old[i], NULL);
    }
}

ms_err ms_slog_guard_start(ms_slog *s, const char *prog)
{
    ENSURE(s != NULL && s->log != NULL && s->guard == NULL, MS_ERR_ARG);
    ENSURE(g_pipe[0] < 0, MS_ERR_STATE);
    struct ms_slog_guard *g = calloc(1, sizeof *g);
    ENSURE(g != NULL, MS_ERR_NOMEM);
    g->s = s;
    g->prog = prog;
    size_t set = 0;
    sigset_t all, old;
    int rc = -1;
    if (pipe(g_pipe) != 0 || fcntl(g_pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(g_pipe[1], F_SETFD, FD_CLOEXEC) != 0 || fcntl(g_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
        goto fail;
    }
    /* The watcher runs with every signal blocked: the handler runs in the other threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&g->thread, NULL, watch, g);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        goto fail;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* the watcher ends the process: nothing needs to be woken */
    for (; set < N_SIGNALS; set++) {
        /* A signal ignored from the start (a background job without job control) stays so. */
        if (sigaction(SIGNALS[set], NULL, &g->old[set]) != 0 ||
            (g->old[set].sa_handler != SIG_IGN && sigaction(SIGNALS[set], &sa, NULL) != 0)) {
            goto fail;
        }
    }
    s->guard = g;
    return MS_OK;
fail:
    restore(g, set);
    if (rc == 0) {
        unsigned char zero = 0;
        ssize_t w = write(g_pipe[1], &zero, 1);
        (void)w;
        pthread_join(g->thread, NULL);
    }
    close_pipe();
    free(g);
    return MS_ERR_ALOG_SIGNALS;
}

void ms_slog_guard_stop(ms_slog *s)
{
    struct ms_slog_guard *g = s ? s->guard : NULL;
    if (g == NULL) {
        return;
    }
    /*
     * The handlers go first: a signal from now on has its old action (the caller sealed the
     * log already). A signal already in the pipe comes before the 0 written next: the
     * watcher then ends the process (the seal is done, so that is all it does) and join
     * never returns.
     */
    restore(g, N_SIGNALS);
    unsigned char zero = 0;
    ssize_t w;
    do {
        w = write(g_pipe[1], &zero, 1);
    } while (w < 0 && errno == EINTR);
    if (w != 1) {
        for (;;) {
            pause(); /* a full pipe holds signals: the watcher is ending the process */
        }
    }
    pthread_join(g->thread, NULL);
    close_pipe();
    s->guard = NULL;
    free(g);
}

/* End-to-end test helpers: posix_spawn, port files, stop by PID, temporary directories. */
#define _GNU_SOURCE 1 /* posix_spawn_file_actions_addclosefrom_np (glibc >= 2.34) */

#include "tests/e2e/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* libsanitizer's hook (absent without a sanitizer: a weak reference stays NULL). */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static volatile pid_t g_pids[E2E_MAX_PROCS];
static int g_hooks_installed;

void e2e_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void e2e_path(char out[static PATH_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX) {
        fprintf(stderr, "e2e: path too long\n");
        abort();
    }
}

/* --- the table of children ------------------------------------------------------------------ */

void e2e_proc_kill_all(void)
{
    for (int i = 0; i < E2E_MAX_PROCS; i++) {
        pid_t pid = g_pids[i];
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            g_pids[i] = 0;
        }
    }
}

static void on_fatal_signal(int sig)
{
    e2e_proc_kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_hooks(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT};
    if (g_hooks_installed) {
        return;
    }
    g_hooks_installed = 1;
    atexit(e2e_proc_kill_all);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    if (__sanitizer_set_death_callback) {
        __sanitizer_set_death_callback(e2e_proc_kill_all);
    }
}

static void table_put(pid_t pid)
{
    for (int i = 0; i < E2E_MAX_PROCS; i++) {
        if (g_pids[i] == 0) {
            g_pids[i] = pid;
            return;
        }
    }
}

static void table_drop(pid_t pid)
{
    for (int i = 0; i < E2E_MAX_PROCS; i++) {
        if (g_pids[i] == pid) {
            g_pids[i] = 0;
        }
    }
}

static int table_full(void)
{
    for (int i = 0; i < E2E_MAX_PROCS; i++) {
        if (g_pids[i] == 0) {
            return 0;
        }
    }
    return 1;
}

/* --- one process ---------------------------------------------------------------------------- */

static int build_actions(posix_spawn_file_actions_t *fa, const char *log_path)
{
    const char *out = log_path && *log_path ? log_path : "/dev/null";
    int rc = posix_spawn_file_actions_init(fa);
    rc = rc ? rc : posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    rc =
        rc ? rc : posix_spawn_file_actions_addopen(fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0600);
    rc = rc ? rc : posix_spawn_file_actions_adddup2(fa, 1, 2);
    rc = rc ? rc : posix_spawn_file_actions_addclosefrom_np(fa, 3);
    return rc;
}

int e2e_proc_start(e2e_proc *p, const char *name, char *const argv[], const char *log_path)
{
    posix_spawn_file_actions_t fa;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    if (log_path) {
        snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
    }
    install_hooks();
    if (table_full()) {
        fprintf(stderr, "e2e: too many processes (raise E2E_MAX_PROCS)\n");
        return -1;
    }
    int rc = build_actions(&fa, log_path);
    if (rc == 0) {
        pid_t pid;
        rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        if (rc == 0) {
            p->pid = pid;
            table_put(pid);
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "e2e: cannot start %s (%s): %s\n", name, argv[0], strerror(rc));
        return -1;
    }
    return 0;
}

static int code_of(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

/* 1 when it has ended (and was reaped now), 0 if it runs. */
static int reap(e2e_proc *p, int block)
{
    int status;
    if (p->pid <= 0) {
        return 1;
    }
    pid_t r;
    do {
        r = waitpid(p->pid, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return 0;
    }
    p->exit_code = r == p->pid ? code_of(status) : 255;
    table_drop(p->pid);
    p->pid = 0;
    return 1;
}

static void print_log(const e2e_proc *p)
{
    ms_buf b;
    ms_buf_init(&b, 64 * 1024);
    if (p->log_path[0] && e2e_file_read(p->log_path, &b) == 0) {
        fprintf(stderr, "--- %s log (%s) ---\n%s\n--- end ---\n", p->name, p->log_path,
                b.p ? (const char *)b.p : "");
    }
    ms_buf_free(&b);
}

int e2e_proc_wait_port(e2e_proc *p, const char *port_file, int timeout_ms, unsigned *port)
{
    long long deadline = now_ms() + timeout_ms;
    *port = 0;
    for (;;) {
        ms_buf b;
        ms_buf_init(&b, 64);
        int have = e2e_file_read(port_file, &b) == 0 && b.len > 0;
        char *end = NULL;
        unsigned long v = have ? strtoul((const char *)b.p, &end, 10) : 0;
        int ok = have && end != (char *)b.p && (*end == '\n' || *end == '\0') && v > 0 && v < 65536;
        ms_buf_free(&b);
        if (ok) {
            *port = (unsigned)v;
            return 0;
        }
        if (reap(p, 0)) {
            fprintf(stderr, "e2e: %s ended (exit %d) before writing %s\n", p->name, p->exit_code,
                    port_file);
            print_log(p);
            return -1;
        }
        if (now_ms() > deadline) {
            fprintf(stderr, "e2e: %s did not write %s within %d ms\n", p->name, port_file,
                    timeout_ms);
            print_log(p);
            return -1;
        }
        e2e_sleep_ms(10);
    }
}

int e2e_proc_wait(e2e_proc *p, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    if (p->pid <= 0) {
        return -1;
    }
    while (!reap(p, 0)) {
        if (now_ms() > deadline) {
            fprintf(stderr, "e2e: %s still runs after %d ms: killed\n", p->name, timeout_ms);
            kill(p->pid, SIGKILL);
            reap(p, 1);
            return -1;
        }
        e2e_sleep_ms(5);
    }
    return p->exit_code;
}

int e2e_proc_stop(e2e_proc *p, int grace_ms)
{
    if (p->pid <= 0) {
        return -1;
    }
    kill(p->pid, SIGTERM);
    long long deadline = now_ms() + grace_ms;
    while (!reap(p, 0)) {
        if (now_ms() > deadline) {
            fprintf(stderr, "e2e: %s ignored SIGTERM for %d ms: SIGKILL\n", p->name, grace_ms);
            kill(p->pid, SIGKILL);
            reap(p, 1);
            break;
        }
        e2e_sleep_ms(5);
    }
    return p->exit_code;
}

int e2e_run(char *const argv[], int timeout_ms, const char *dir, ms_buf *out, ms_buf *err)
{
    static unsigned seq;
    char opath[PATH_MAX], epath[PATH_MAX];
    posix_spawn_file_actions_t fa;
    e2e_proc p;
    pid_t pid;
    seq++;
    e2e_path(opath, "%s/run%u.out", dir, seq);
    e2e_path(epath, "%s/run%u.err", dir, seq);
    install_hooks();
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", argv[0]);
    int rc = posix_spawn_file_actions_init(&fa);
    rc = rc ? rc : posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    rc = rc ? rc
            : posix_spawn_file_actions_addopen(&fa, 1, opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    rc = rc ? rc
            : posix_spawn_file_actions_addopen(&fa, 2, epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    rc = rc ? rc : posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    rc = rc ? rc : posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "e2e: cannot run %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    p.pid = pid;
    table_put(pid);
    int code = e2e_proc_wait(&p, timeout_ms);
    if (out && e2e_file_read(opath, out) != 0) {
        code = -1;
    }
    if (err && e2e_file_read(epath, err) != 0) {
        code = -1;
    }
    return code;
}

/* --- files and directories ------------------------------------------------------------------ */

int e2e_file_read(const char *path, ms_buf *out)
{
    uint8_t tmp[4096];
    ms_buf_clear(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return -1;
    }
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        if (ms_buf_append(out, tmp, (size_t)n) != MS_OK) {
            rc = -1;
            break;
        }
    }
    close(fd);
    if (rc == 0 && ms_buf_terminate(out) != MS_OK) {
        rc = -1;
    }
    return rc;
}

int e2e_file_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    int ok = fputs(text, f) >= 0;
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

int e2e_file_contains(const char *path, const char *needle)
{
    ms_buf b;
    ms_buf_init(&b, 16u * 1024u * 1024u);
    int found = e2e_file_read(path, &b) == 0 && b.p && strstr((const char *)b.p, needle) != NULL;
    ms_buf_free(&b);
    return found;
}

int e2e_tmpdir_new(const char *tag, char out[static PATH_MAX])
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) {
        base = "/tmp";
    }
    e2e_path(out, "%s/%s.XXXXXX", base, tag);
    if (!mkdtemp(out)) {
        fprintf(stderr, "e2e: mkdtemp %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

/* Remove what the directory `dfd` holds; never follows a symbolic link. */
static int remove_in(int dfd)
{
    int rc = 0;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            rc |= sub < 0 ? -1 : remove_in(sub);
            rc |= unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
        } else {
            rc |= unlinkat(dirfd(d), e->d_name, 0);
        }
    }
    closedir(d);
    return rc;
}

int e2e_tmpdir_remove(const char *path)
{
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        return -1;
    }
    int rc = remove_in(dfd);
    return rc | rmdir(path);
}

unsigned e2e_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

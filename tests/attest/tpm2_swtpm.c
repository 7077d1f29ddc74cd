/* Test helper: start, probe and stop a swtpm on loopback (see tpm2_swtpm.h). */
#include "tests/attest/tpm2_swtpm.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "secure/attest/tpm2_esys.h"

static volatile pid_t g_pid;  /* for the exit, signal and sanitizer-death handlers */
static char g_dir[PATH_MAX]; /* the state directory they remove */

/* Present when built with ASan/UBSan: they end a failing test with _exit, not exit. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void remove_dir(const char *path);

static void kill_now(void)
{
    if (g_pid > 0) {
        kill(g_pid, SIGKILL);
    }
}

static void kill_and_clean(void)
{
    kill_now();
    if (g_pid > 0) {
        waitpid(g_pid, NULL, 0); /* swtpm holds files open in the directory */
        g_pid = 0;
    }
    if (g_dir[0] != '\0') {
        remove_dir(g_dir);
        g_dir[0] = '\0';
    }
}

static void on_signal(int sig)
{
    kill_now();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Bind 127.0.0.1:port (0: any); the bound port, or 0. The socket stays open in *fd. */
static unsigned bind_port(unsigned port, int *fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(*fd, (struct sockaddr *)&a, &len) != 0) {
        return 0;
    }
    return ntohs(a.sin_port);
}

/* A port P such that P and P + 1 were both free a moment ago; 0 if none was found. */
static unsigned free_pair(void)
{
    for (int i = 0; i < 50; i++) {
        int a = -1, b = -1;
        unsigned p = bind_port(0, &a);
        unsigned ok = p > 0 && p < 65535 && bind_port(p + 1, &b) == p + 1 ? p : 0;
        if (a >= 0) {
            close(a);
        }
        if (b >= 0) {
            close(b);
        }
        if (ok) {
            return ok;
        }
    }
    return 0;
}

static void child(const tpm2_swtpm *s, pid_t parent)
{
    char server[96], ctrl[96], state[PATH_MAX + 8], log[PATH_MAX + 16];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(127); /* the test died before prctl took effect */
    }
    snprintf(server, sizeof server, "type=tcp,port=%u,bindaddr=127.0.0.1", s->port);
    snprintf(ctrl, sizeof ctrl, "type=tcp,port=%u,bindaddr=127.0.0.1", s->port + 1);
    snprintf(state, sizeof state, "dir=%s", s->dir);
    snprintf(log, sizeof log, "%s/swtpm.log", s->dir);
    int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
        _exit(126);
    }
    char *argv[] = {"swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl,
                    "--flags", "not-need-init,startup-clear", "--tpmstate", state, NULL};
    execvp(argv[0], argv);
    _exit(127);
}

static void print_log(const tpm2_swtpm *s)
{
    char path[PATH_MAX + 16], line[512];
    snprintf(path, sizeof path, "%s/swtpm.log", s->dir);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        fprintf(stderr, "swtpm: %s", line);
    }
    if (f != NULL) {
        fclose(f);
    }
}

/* Something listens on 127.0.0.1:port (probed before ESAPI, which logs failed attempts). */
static int listening(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Answers a command: TPM2_GetRandom through ESAPI, like the code under test will talk. */
static int answers(const tpm2_swtpm *s)
{
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    TPM2B_DIGEST *r = NULL;
    if (!listening(s->port) || !listening(s->port + 1) ||
        ms_tpm2_esys_open(s->tcti, &tcti, &esys) != MS_OK) {
        return 0;
    }
    int ok = Esys_GetRandom(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 8, &r) ==
             TSS2_RC_SUCCESS;
    Esys_Free(r);
    ms_tpm2_esys_close(&tcti, &esys);
    return ok;
}

/* Ready within 10 s: 1; swtpm ended (e.g. lost the port to another process): 0. */
static int wait_ready(tpm2_swtpm *s)
{
    for (int i = 0; i < 1000; i++) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = g_pid = 0;
            return 0;
        }
        if (answers(s)) {
            return 1;
        }
        sleep_ms(10);
    }
    return 0;
}

static void install_handlers(void)
{
    static int done;
    if (!done) {
        done = 1;
        atexit(kill_and_clean);
        if (__sanitizer_set_death_callback != NULL) {
            __sanitizer_set_death_callback(kill_and_clean);
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGABRT, on_signal);
    }
}

static int make_dir(tpm2_swtpm *s)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(s->dir, sizeof s->dir, "%s/ms-tpm2.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (n <= 0 || (size_t)n >= sizeof s->dir || mkdtemp(s->dir) == NULL) {
        return -1;
    }
    memcpy(g_dir, s->dir, sizeof g_dir);
    return 0;
}

int tpm2_swtpm_start(tpm2_swtpm *s)
{
    memset(s, 0, sizeof *s);
    install_handlers();
    if (make_dir(s) != 0) {
        fprintf(stderr, "swtpm: cannot make a state directory\n");
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        s->port = free_pair();
        snprintf(s->tcti, sizeof s->tcti, "swtpm:host=127.0.0.1,port=%u", s->port);
        pid_t parent = getpid();
        s->pid = fork();
        if (s->pid == 0) {
            child(s, parent);
        }
        if (s->pid < 0) {
            break;
        }
        g_pid = s->pid;
        if (wait_ready(s)) {
            return 0;
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = g_pid = 0;
        }
    }
    fprintf(stderr, "swtpm: did not start (is swtpm installed? see scripts/install-deps.sh)\n");
    print_log(s);
    tpm2_swtpm_stop(s);
    return -1;
}

static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char p[PATH_MAX + 256];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            unlink(p); /* swtpm makes only plain files here */
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(path);
}

void tpm2_swtpm_stop(tpm2_swtpm *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status, gone = 0;
        for (int i = 0; i < 200 && !gone; i++) {
            gone = waitpid(s->pid, &status, WNOHANG) == s->pid;
            if (!gone) {
                sleep_ms(10);
            }
        }
        if (!gone) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
        s->pid = g_pid = 0;
    }
    if (s->dir[0] != '\0') {
        remove_dir(s->dir);
        s->dir[0] = g_dir[0] = '\0';
    }
}

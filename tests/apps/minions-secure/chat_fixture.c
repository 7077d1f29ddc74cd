/* Chat end-to-end fixture: start the programs, drive the chat through a FIFO, read llm-sim's log. */
#include "tests/apps/minions-secure/chat_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"

#define START_TIMEOUT_MS 20000

chat_env CE;

static int make_dev_key(void)
{
    ms_devkey k;
    int created;
    int ok = ms_devkey_load_or_create(CE.devkey, &k, &created) == MS_OK &&
             ms_devkey_write_public(CE.devpub, k.pk) == MS_OK;
    ms_devkey_wipe(&k);
    return ok ? 0 : -1;
}

static int make_log_key(void)
{
    ms_alog_key k;
    bool created;
    int ok = ms_alog_key_load_or_create(CE.logkey, &k, &created) == MS_OK;
    ms_alog_key_wipe(&k);
    return ok ? 0 : -1;
}

int chat_env_setup(char **argv, const char *script)
{
    char home[PATH_MAX], state[PATH_MAX], config[PATH_MAX];
    CE.sup_bin = argv[1];
    CE.sim_bin = argv[2];
    CE.cli_bin = argv[3];
    CE.src = argv[4];
    if (e2e_tmpdir_new("ms-e2e-chat", CE.dir) != 0) {
        return -1;
    }
    e2e_path(CE.ca, "%s/certs/dev/ca.pem", CE.src);
    e2e_path(CE.cert, "%s/certs/dev/server.pem", CE.src);
    e2e_path(CE.key, "%s/certs/dev/server.key", CE.src);
    e2e_path(CE.devkey, "%s/dev.pem", CE.dir);
    e2e_path(CE.devpub, "%s/dev.pem.pub", CE.dir);
    e2e_path(CE.logkey, "%s/log-key", CE.dir);
    e2e_path(CE.logpub, "%s/log-key.pub", CE.dir);
    e2e_path(CE.script, "%s/script.json", CE.dir);
    /* Nothing of the user's own: ~/.editrc, default log directories and keys stay in dir. */
    e2e_path(home, "%s/home", CE.dir);
    e2e_path(state, "%s/state", CE.dir);
    e2e_path(config, "%s/config", CE.dir);
    if (mkdir(home, 0700) != 0 || setenv("HOME", home, 1) != 0 ||
        setenv("XDG_STATE_HOME", state, 1) != 0 || setenv("XDG_CONFIG_HOME", config, 1) != 0 ||
        unsetenv("MINIONS_LOG_KEY") != 0) {
        return -1;
    }
    if (make_dev_key() != 0 || make_log_key() != 0 || e2e_file_write(CE.script, script) != 0) {
        fprintf(stderr, "test_chat_e2e: set-up failed in %s\n", CE.dir);
        return -1;
    }
    return 0;
}

void chat_env_done(int failed)
{
    e2e_proc_kill_all();
    if (!failed || !getenv("MS_E2E_KEEP")) {
        e2e_tmpdir_remove(CE.dir);
    } else {
        fprintf(stderr, "test_chat_e2e: files kept in %s\n", CE.dir);
    }
}

int csim_start(csim *s, unsigned listen_port, const char *tokens_per_sec)
{
    char listen[64], pf[PATH_MAX], out[PATH_MAX];
    unsigned n = ++CE.seq;
    memset(s, 0, sizeof *s);
    snprintf(listen, sizeof listen, "127.0.0.1:%u", listen_port);
    e2e_path(pf, "%s/sim%u.port", CE.dir, n);
    e2e_path(out, "%s/sim%u.out", CE.dir, n);
    e2e_path(s->log, "%s/sim%u.log", CE.dir, n);
    char *argv[16] = {(char *)CE.sim_bin, "--listen", listen, "--port-file", pf,
                      "--script", CE.script, "--log", s->log};
    if (tokens_per_sec) {
        argv[9] = "--tokens-per-sec";
        argv[10] = (char *)tokens_per_sec;
    }
    if (e2e_proc_start(&s->p, "llm-sim", argv, out) != 0) {
        return -1;
    }
    return e2e_proc_wait_port(&s->p, pf, START_TIMEOUT_MS, &s->port);
}

int csup_start(csup *v, unsigned listen_port, unsigned backend_port)
{
    char listen[64], backend[96], pf[PATH_MAX], out[PATH_MAX];
    unsigned n = ++CE.seq;
    memset(v, 0, sizeof *v);
    snprintf(listen, sizeof listen, "127.0.0.1:%u", listen_port);
    snprintf(backend, sizeof backend, "http://127.0.0.1:%u/v1", backend_port);
    e2e_path(pf, "%s/sup%u.port", CE.dir, n);
    e2e_path(out, "%s/sup%u.out", CE.dir, n);
    char *argv[] = {(char *)CE.sup_bin, "--listen", listen, "--port-file", pf,
                    "--dev-key", CE.devkey, "--backend-url", backend, "--backend-model",
                    "sim-model", "--backend-retries", "0", "--tls-cert", CE.cert,
                    "--tls-key", CE.key, NULL};
    if (e2e_proc_start(&v->p, "minions-supervisor", argv, out) != 0) {
        return -1;
    }
    return e2e_proc_wait_port(&v->p, pf, START_TIMEOUT_MS, &v->port);
}

int cstop(e2e_proc *p)
{
    if (p->pid <= 0) {
        return 0;
    }
    int code = e2e_proc_stop(p, 5000);
    if (code != 0) {
        fprintf(stderr, "  (%s exited %d after SIGTERM; log %s)\n", p->name, code, p->log_path);
    }
    return code;
}

/* --- the chat process ------------------------------------------------------------------- */

/* The shell only wires the FIFO and the two files to fds 0-2, then becomes the command. */
static const char WIRE[] = "in=$1; out=$2; err=$3; shift 3; exec \"$@\" <\"$in\" >\"$out\" 2>\"$err\"";

static int add_wrapper(char **argv, int i, char *copy, size_t cap)
{
    const char *w = getenv("MS_CHAT_WRAPPER");
    if (!w || !*w || strlen(w) >= cap) {
        return i;
    }
    memcpy(copy, w, strlen(w) + 1);
    for (char *s = copy; *s && i < 40;) {
        s += strspn(s, " ");
        if (!*s) {
            break;
        }
        argv[i++] = s;
        s += strcspn(s, " ");
        if (*s) {
            *s++ = '\0';
        }
    }
    return i;
}

static int has_log_opt(const char *const *extra)
{
    for (size_t k = 0; extra && extra[k]; k++) {
        if (strcmp(extra[k], "--log") == 0 || strcmp(extra[k], "--no-log") == 0 ||
            strcmp(extra[k], "--log-dir") == 0) {
            return 1;
        }
    }
    return 0;
}

/* Open the FIFO's write end once the chat's shell opened the read end. */
static int open_fifo(cchat *c)
{
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
        int fd = open(c->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
            int fl = fcntl(fd, F_GETFL);
            if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
                close(fd);
                return -1;
            }
            c->in_fd = fd;
            return 0;
        }
        if (errno != ENXIO) {
            return -1;
        }
        e2e_sleep_ms(20);
    }
    return -1;
}

int cchat_start(cchat *c, unsigned sup_port, const char *const *extra)
{
    char url[64], wrap[512];
    char *argv[64] = {"/bin/sh", "-c", (char *)WIRE, "sh", c->fifo, c->out, c->err};
    int i = 7;
    unsigned n = ++CE.seq;
    memset(c, 0, sizeof *c);
    argv[4] = c->fifo;
    argv[5] = c->out;
    argv[6] = c->err;
    c->in_fd = -1;
    e2e_path(c->fifo, "%s/chat%u.in", CE.dir, n);
    e2e_path(c->out, "%s/chat%u.out", CE.dir, n);
    e2e_path(c->err, "%s/chat%u.err", CE.dir, n);
    snprintf(url, sizeof url, "https://127.0.0.1:%u", sup_port);
    if (mkfifo(c->fifo, 0600) != 0) {
        return -1;
    }
    i = add_wrapper(argv, i, wrap, sizeof wrap);
    const char *fixed[] = {CE.cli_bin, "chat", "--supervisor_url", url,
                           "--trusted_attestation_pem", CE.devpub, "--cacert", CE.ca,
                           "--log-key", CE.logkey, NULL};
    for (size_t k = 0; fixed[k]; k++) {
        argv[i++] = (char *)fixed[k];
    }
    if (!has_log_opt(extra)) {
        argv[i++] = "--log-dir";
        argv[i++] = CE.dir;
    }
    for (size_t k = 0; extra && extra[k] && i < 62; k++) {
        argv[i++] = (char *)extra[k];
    }
    argv[i] = NULL;
    if (e2e_proc_start(&c->p, "minions-secure", argv, NULL) != 0) {
        return -1;
    }
    return open_fifo(c);
}

int cchat_send(cchat *c, const char *line)
{
    size_t n = strlen(line);
    if (c->in_fd < 0) {
        return -1;
    }
    for (const char *parts[2] = {line, "\n"}, **p = parts; p < parts + 2; p++) {
        const char *s = *p;
        size_t len = p == parts ? n : 1;
        while (len > 0) {
            ssize_t w = write(c->in_fd, s, len);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                return -1;
            }
            s += w;
            len -= (size_t)w;
        }
    }
    return 0;
}

static int wait_file(const char *path, const char *needle, int timeout_ms)
{
    for (int waited = 0;; waited += 25) {
        if (e2e_file_contains(path, needle)) {
            return 0;
        }
        if (waited >= timeout_ms) {
            fprintf(stderr, "  (waited %d ms for \"%s\" in %s)\n", timeout_ms, needle, path);
            return -1;
        }
        e2e_sleep_ms(25);
    }
}

int cchat_wait_out(const cchat *c, const char *needle, int timeout_ms)
{
    return wait_file(c->out, needle, timeout_ms);
}

int cchat_wait_err(const cchat *c, const char *needle, int timeout_ms)
{
    return wait_file(c->err, needle, timeout_ms);
}

int cchat_end(cchat *c, int timeout_ms)
{
    if (c->in_fd >= 0) {
        close(c->in_fd);
        c->in_fd = -1;
    }
    int code = e2e_proc_wait(&c->p, timeout_ms);
    unlink(c->fifo);
    return code;
}

void cchat_read(const char *path, ms_buf *out)
{
    ms_buf_init(out, 64u << 20);
    if (e2e_file_read(path, out) != 0) {
        ms_buf_clear(out);
    }
}

int buf_contains(const ms_buf *b, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; b->p && n <= b->len && i + n <= b->len; i++) {
        if (memcmp(b->p + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* --- llm-sim's request log ------------------------------------------------------------------ */

/* Line k (0-based) of the log that is a chat request: its parsed document, or -1. */
static int nth_chat_line(const char *log, int want, ms_json_doc **doc, ms_json_val *body)
{
    ms_buf all;
    int seen = 0, found = -1;
    cchat_read(log, &all);
    for (size_t off = 0; all.p && off < all.len;) {
        const char *line = (const char *)all.p + off;
        const char *nl = memchr(line, '\n', all.len - off);
        size_t len = nl ? (size_t)(nl - line) : all.len - off;
        off += len + 1;
        ms_json_doc *d = NULL;
        const char *path;
        size_t plen;
        if (ms_json_parse(line, len, &d) != MS_OK) {
            continue;
        }
        ms_json_val root = ms_json_root(d);
        if (ms_json_get_str(root, "path", 256, &path, &plen) == MS_OK &&
            (strstr(path, "chat/completions") || strcmp(path, "/api/chat") == 0)) {
            if (seen++ == want && doc) {
                *doc = d;
                found = ms_json_get_obj(root, "body", body) == MS_OK ? 0 : -1;
                continue;
            }
        }
        ms_json_free(d);
    }
    ms_buf_free(&all);
    return doc ? found : seen;
}

int chat_reqs_count(const char *log)
{
    return nth_chat_line(log, -1, NULL, NULL);
}

int chat_req_get(const char *log, int i, ms_json_doc **doc, ms_json_val *body)
{
    *doc = NULL;
    int r = nth_chat_line(log, i, doc, body);
    if (r != 0) {
        ms_json_free(*doc);
        *doc = NULL;
    }
    return r;
}

size_t chat_msgs(ms_json_val body, ms_json_val *arr)
{
    size_t n = 0;
    if (ms_json_get_arr(body, "messages", 100000, arr, &n) != MS_OK) {
        return 0;
    }
    return n;
}

const char *chat_msg_role(ms_json_val arr, size_t i)
{
    ms_json_val m;
    const char *s;
    size_t n;
    if (ms_json_arr_at(arr, i, &m) != MS_OK || ms_json_get_str(m, "role", 64, &s, &n) != MS_OK) {
        return "";
    }
    return s;
}

const char *chat_msg_text(ms_json_val arr, size_t i)
{
    ms_json_val m, parts, p;
    const char *s, *type;
    size_t n, count;
    if (ms_json_arr_at(arr, i, &m) != MS_OK) {
        return "";
    }
    if (ms_json_get_str(m, "content", 64u << 20, &s, &n) == MS_OK) {
        return s;
    }
    if (ms_json_get_arr(m, "content", 64, &parts, &count) != MS_OK) {
        return "";
    }
    for (size_t k = 0; k < count; k++) {
        if (ms_json_arr_at(parts, k, &p) == MS_OK &&
            ms_json_get_str(p, "type", 64, &type, &n) == MS_OK && strcmp(type, "text") == 0 &&
            ms_json_get_str(p, "text", 64u << 20, &s, &n) == MS_OK) {
            return s;
        }
    }
    return "";
}

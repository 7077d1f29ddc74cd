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


#define START_TIMEOUT_MS 20000

e2e_world CE;
static unsigned g_seq;

int chat_env_setup(int argc, char **argv, const char *script)
{
    int rc = e2e_world_open(&CE, "test_chat_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc,
                            argv);
    if (rc != 0) {
        return rc;
    }
    CE.wrapper_env = "MS_CHAT_WRAPPER";
    /* Nothing of the user's own: ~/.editrc, default log directories and keys stay in dir. */
    if (e2e_world_home(&CE) != 0 || e2e_world_devkey(&CE, "dev.pem") != 0 ||
        e2e_world_logkey(&CE, "log-key") != 0 || e2e_world_script(&CE, script) != 0) {
        fprintf(stderr, "test_chat_e2e: set-up failed in %s\n", CE.dir);
        return 1;
    }
    return 0;
}

int chat_env_done(int rc)
{
    return e2e_world_close(&CE, rc);
}

/* --- the chat process ------------------------------------------------------------------- */

/* The shell only wires the FIFO and the two files to fds 0-2, then becomes the command. */
static const char WIRE[] = "in=$1; out=$2; err=$3; shift 3; exec \"$@\" <\"$in\" >\"$out\" 2>\"$err\"";

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
    char url[64], wrap[512], tool[PATH_MAX];
    char *argv[64] = {"/bin/sh", "-c", (char *)WIRE, "sh", c->fifo, c->out, c->err};
    int i = 7;
    unsigned n = ++g_seq;
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
    i += e2e_wrapper_words(CE.wrapper_env, argv + i, 16, wrap, tool);
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
    if (code >= 0 && e2e_report_in(c->err)) {
        fprintf(stderr, "  (minions-secure chat: a sanitizer or valgrind report in %s)\n", c->err);
        return E2E_EXIT_REPORT;
    }
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

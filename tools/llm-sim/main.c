/* llm-sim: command line, then serve until SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/listen.h"
#include "tools/llm-sim/listen.h"
#include "tools/llm-sim/llmsim.h"
#include "tools/llm-sim/opts.h"
#include "tools/llm-sim/reqlog.h"
#include "tools/llm-sim/script.h"
#include "tools/llm-sim/server.h"


static int load_script(const char *path, llmsim_script **out)
{
    char why[LLMSIM_WHY_LEN];
    ms_buf text;
    ms_buf_init(&text, LLMSIM_MAX_SCRIPT);
    FILE *f = fopen(path, "rb");
    ms_err e = f != NULL ? MS_OK : MS_ERR_FILE_OPEN;
    while (e == MS_OK) {
        uint8_t chunk[8192];
        size_t n = fread(chunk, 1, sizeof chunk, f);
        e = ms_buf_append(&text, chunk, n);
        if (n < sizeof chunk) {
            e = e == MS_OK && ferror(f) ? MS_ERR_IO : e;
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    if (e != MS_OK) {
        if (e == MS_ERR_CAP_EXCEEDED) {
            fprintf(stderr, "llm-sim: --script %s: the file is over %u bytes\n", path,
                    LLMSIM_MAX_SCRIPT);
        } else {
            fprintf(stderr, "llm-sim: --script %s: %s\n", path, ms_err_str(e));
        }
    } else if ((e = llmsim_script_parse((const char *)text.p, text.len, out, why, sizeof why)) !=
               MS_OK) {
        fprintf(stderr, "llm-sim: --script %s: %s\n", path, why);
    }
    ms_buf_free(&text);
    return e == MS_OK ? LLMSIM_CONTINUE : LLMSIM_EXIT_SCRIPT;
}

static void announce(const llmsim_config *cfg, uint16_t port)
{
    char host[64] = "?";
    inet_ntop(cfg->listen.family, cfg->listen.ip, host, sizeof host);
    bool v6 = cfg->listen.family == AF_INET6;
    fprintf(stderr, "llm-sim %s: listening on http://%s%s%s:%u\n", LLMSIM_VERSION, v6 ? "[" : "",
            host, v6 ? "]" : "", (unsigned)port);
}

/* Listen, serve, wait for SIGTERM or SIGINT, stop. Signals are blocked in every thread. */
static int serve(const llmsim_config *cfg, const llmsim_script *script, llmsim_reqlog *log)
{
    sigset_t stop_set;
    struct sigaction ign = {.sa_handler = SIG_IGN};
    int fd, sig = 0;
    uint16_t port;
    llmsim_server *srv;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    sigemptyset(&ign.sa_mask);
    if (pthread_sigmask(SIG_BLOCK, &stop_set, NULL) != 0 || sigaction(SIGPIPE, &ign, NULL) != 0) {
        return LLMSIM_EXIT_RUNTIME;
    }
    if (llmsim_listen(&cfg->listen, &fd, &port) != MS_OK) {
        fprintf(stderr, "llm-sim: cannot listen on the address: %s\n", strerror(errno));
        return LLMSIM_EXIT_RUNTIME;
    }
    if (llmsim_server_start(cfg, script, log, fd, &srv) != MS_OK) {
        fprintf(stderr, "llm-sim: cannot start the HTTP server\n");
        return LLMSIM_EXIT_RUNTIME;
    }
    if (cfg->port_file != NULL && ms_listen_write_port_file(cfg->port_file, port) != MS_OK) {
        fprintf(stderr, "llm-sim: cannot write --port-file %s\n", cfg->port_file);
        llmsim_server_stop(srv);
        return LLMSIM_EXIT_RUNTIME;
    }
    announce(cfg, port);
    if (sigwait(&stop_set, &sig) != 0) {
        sig = 0;
    }
    llmsim_server_stop(srv);
    fprintf(stderr, "llm-sim: stopped (signal %d)\n", sig);
    return LLMSIM_EXIT_OK;
}

int main(int argc, char **argv)
{
    llmsim_config cfg;
    llmsim_script *script = NULL;
    llmsim_reqlog *log = NULL;
    int rc = llmsim_parse_args(argc, argv, &cfg);
    if (rc == LLMSIM_CONTINUE && cfg.script_path != NULL) {
        rc = load_script(cfg.script_path, &script);
    }
    if (rc == LLMSIM_CONTINUE && cfg.log_path != NULL && llmsim_reqlog_open(cfg.log_path, &log) != MS_OK) {
        fprintf(stderr, "llm-sim: cannot open --log %s: %s\n", cfg.log_path, strerror(errno));
        rc = LLMSIM_EXIT_RUNTIME;
    }
    if (rc == LLMSIM_CONTINUE) {
        rc = serve(&cfg, script, log);
    }
    llmsim_reqlog_close(log);
    llmsim_script_free(script);
    return rc;
}

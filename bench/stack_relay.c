/*
 * bench-stack-relay: bench-e2e's floor of the project's own HTTP stack. A relay that does
 * nothing of ours, built of what minions-supervisor is built of: libmicrohttpd with a thread
 * per connection and GnuTLS in front, common/http (libcurl, kept alive) behind. It forwards
 * every POST to the upstream with the same path and answers with the upstream's status and
 * body (tests/fixture/proxy.c with `floor`). A separate process, as the supervisor is, so
 * that bench-e2e pins it and reads its CPU from /proc. It runs until SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/listen.h"
#include "tests/fixture/proxy.h"

static const char USAGE[] =
    "usage: bench-stack-relay --upstream URL --port-file FILE [--tls-cert PEM --tls-key PEM]\n"
    "Listens on 127.0.0.1 (a free port, written to FILE) and relays every POST to URL + its\n"
    "path: libmicrohttpd in, libcurl out, as minions-supervisor is built. For bench-e2e.\n";

int main(int argc, char **argv)
{
    e2e_proxy_cfg cfg = {.floor = 1};
    const char *port_file = NULL;
    for (int i = 1; i < argc; i += 2) { /* options and their values */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr, "bench-stack-relay: %s: a value is missing\n%s", a, USAGE);
            return 2;
        }
        if (strcmp(a, "--upstream") == 0) {
            cfg.upstream = v;
        } else if (strcmp(a, "--port-file") == 0) {
            port_file = v;
        } else if (strcmp(a, "--tls-cert") == 0) {
            cfg.cert_path = v;
        } else if (strcmp(a, "--tls-key") == 0) {
            cfg.key_path = v;
        } else {
            fprintf(stderr, "bench-stack-relay: unknown option %s\n%s", a, USAGE);
            return 2;
        }
    }
    if (cfg.upstream == NULL || port_file == NULL ||
        (cfg.cert_path == NULL) != (cfg.key_path == NULL)) {
        fprintf(stderr, "bench-stack-relay: --upstream and --port-file are needed, and "
                        "--tls-cert with --tls-key\n%s", USAGE);
        return 2;
    }
    /* Blocked before libmicrohttpd's threads start, so that only sigwait takes them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    e2e_proxy *px;
    unsigned port;
    if (e2e_proxy_start(&cfg, &px, &port) != 0) {
        return 1;
    }
    if (ms_listen_write_port_file(port_file, port) != MS_OK) {
        fprintf(stderr, "bench-stack-relay: cannot write --port-file %s\n", port_file);
        e2e_proxy_stop(px);
        return 1;
    }
    int sig;
    sigwait(&stop, &sig);
    e2e_proxy_stop(px);
    return 0;
}

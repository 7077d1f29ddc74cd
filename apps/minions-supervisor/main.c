/* minions-supervisor: options, objects, serve until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "apps/minions-supervisor/memory.h"
#include "apps/minions-supervisor/opts.h"
#include "apps/minions-supervisor/setup.h"
#include "common/log.h"

int main(int argc, char **argv)
{
    sup_opts o;
    sup_app a;
    sigset_t set;
    memset(&a, 0, sizeof a);
    int rc = sup_opts_parse(argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    ms_log_set_level(o.level);
    sup_memory_init();
    if ((rc = sup_tpm_enrol(&o)) >= 0) {
        return rc;
    }
    /* Every thread starts with these blocked; main waits for them below. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    sigaddset(&set, SIGHUP); /* reread --allowed-clients */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    a.access = stderr;
    if (o.access_log && strcmp(o.access_log, "-") != 0 && !(a.access = fopen(o.access_log, "a"))) {
        fprintf(stderr, "minions-supervisor: cannot open %s\n", o.access_log);
        return EXIT_USAGE;
    }
    if ((rc = sup_open_evidence(&a, &o)) != 0) {
        return rc;
    }
    rc = sup_open_audit(&a, &o);
    if (rc == 0) {
        rc = sup_open_clients(&a, &o);
    }
    if (rc == 0) {
        rc = sup_start(&a, &o);
    }
    if (rc == 0) {
        int sig;
        sigdelset(&set, SIGPIPE);
        /* Every few seconds, drop engine connections the engine closed (no CLOSE-WAIT). */
        const struct timespec tick = {.tv_sec = 2};
        while ((sig = sigtimedwait(&set, NULL, &tick)) < 0 || sig == SIGHUP) {
            if (sig == SIGHUP) {
                sup_reload_clients(&a);
                continue;
            }
            ms_bridge_prune(a.sup.bridge);
            sup_memory_tick();
            sup_periodic(&a); /* expired sessions and idle addresses, off the handshake path */
        }
        fprintf(stderr, "minions-supervisor: stopping (signal %d)\n", sig);
    }
    ms_sup_server_stop(a.srv);
    ms_bridge_free(a.sup.bridge);
    ms_sessions_free(a.sup.sessions); /* the last session_end lines */
    sup_close_clients(&a);
    if (a.audit && ms_sup_audit_close(a.audit) != MS_OK) {
        fprintf(stderr, "minions-supervisor: the audit log could not be sealed: it will verify "
                        "as incomplete\n");
        rc = rc ? rc : EXIT_AUDIT;
    }
    if (a.sup.strict_rate) {
        ms_rate_destroy(a.sup.strict_rate);
    }
    ms_identity_destroy(&a.id);
    ms_producer_free(a.ev);
    if (a.access && a.access != stderr) {
        fclose(a.access);
    }
    return rc;
}

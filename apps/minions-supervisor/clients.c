/* minions-supervisor's client admission: the allow-list (and SIGHUP), per-address limits. */
#include <stdio.h>

#include "apps/minions-supervisor/setup.h"
#include "common/clock.h"
#include "common/codec.h"
#include "common/log.h"

/* Say what a load or reload found; the audit log gets the same. */
static void say_list(sup_app *a, const char *path, const char *what, ms_err e,
                     const ms_allow_report *rep)
{
    if (e == MS_OK) {
        fprintf(stderr, "minions-supervisor: allowed clients: %zu key(s) from %s (%s)\n",
                rep->count, path, what);
    } else if (rep->line_no > 0) {
        fprintf(stderr, "minions-supervisor: --allowed-clients %s:%zu: %s\n", path, rep->line_no,
                ms_err_str(e));
    } else {
        fprintf(stderr, "minions-supervisor: --allowed-clients %s: %s\n", path, ms_err_str(e));
    }
    ms_sup_audit_allowed_clients(a->audit, e, rep->line_no, rep->count, rep->file_sha256);
}

int sup_open_clients(sup_app *a, const sup_opts *o)
{
    ms_allow_report rep;
    if (o->allowed_clients) {
        ms_err e = ms_allow_open(&a->allow, o->allowed_clients, &rep);
        say_list(a, o->allowed_clients, "loaded", e, &rep);
        if (e != MS_OK) {
            return EXIT_USAGE;
        }
        a->sup.allow = &a->allow;
    }
    ms_peers_cfg pc = {.rate_per_s = o->hs_rate, .burst = o->hs_rate ? o->hs_burst : 0,
                       .max_pending = (uint32_t)o->pending_per_addr,
                       .loopback = o->limit_loopback};
    if (pc.rate_per_s || pc.max_pending) {
        ms_err e = ms_peers_new(&a->peers, &pc);
        if (e != MS_OK) {
            fprintf(stderr, "minions-supervisor: per-address limits: %s\n", ms_err_str(e));
            return EXIT_USAGE;
        }
        a->sup.peers = a->peers;
    }
    a->sup.audit = a->audit;
    return 0;
}

void sup_reload_clients(sup_app *a)
{
    ms_allow_report rep;
    if (!a->sup.allow) {
        fprintf(stderr, "minions-supervisor: SIGHUP: no --allowed-clients to reread\n");
        return;
    }
    ms_err e = ms_allow_reload(&a->allow, &rep);
    say_list(a, a->allow.path, "reloaded on SIGHUP", e, &rep);
    if (e != MS_OK) {
        fprintf(stderr, "minions-supervisor: the allow-list in force is unchanged\n");
    }
}

void sup_periodic(sup_app *a)
{
    uint64_t now = ms_clock_ms();
    if (a->sup.sessions) {
        ms_sessions_sweep(a->sup.sessions, now);
    }
    if (a->peers) {
        ms_peers_sweep(a->peers, now);
    }
}

void sup_close_clients(sup_app *a)
{
    ms_peers_free(a->peers);
    a->peers = NULL;
    ms_allow_close(&a->allow);
}

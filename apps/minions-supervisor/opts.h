/* minions-supervisor's options: defaults, --help, and the checks made before anything starts. */
#ifndef MS_APPS_MINIONS_SUPERVISOR_OPTS_H
#define MS_APPS_MINIONS_SUPERVISOR_OPTS_H

#include "common/log.h"
#include "secure/attest/producer.h"
#include "secure/supervisor/bridge.h"
#include "secure/supervisor/server.h"

/* Exit statuses (USAGE's last paragraph). */
#define EXIT_USAGE 2
#define EXIT_START 3
#define EXIT_KEY 4
#define EXIT_AUDIT 5

typedef struct sup_opts {
    ms_sup_server_cfg srv;
    const char *port_file;
    size_t max_sessions;
    unsigned long session_ttl_s;
    ms_bridge_cfg bridge;
    const char *key_env;
    const char *evidence; /* as given; ev.kind once checked */
    ms_producer_cfg ev;
    unsigned long evidence_ttl_s;
    unsigned long strict_rate, strict_burst;
    const char *access_log;
    const char *audit_log, *audit_key;
    /* --audit-checkpoint-events / -secs (docs/logs.md "Checkpoints"); *_set: given */
    unsigned long audit_ck_events, audit_ck_s;
    int audit_ck_events_set, audit_ck_s_set;
    ms_log_level level;
    /* who may connect, and how fast (docs/supervisor.md, "Allowed clients") */
    const char *allowed_clients;
    unsigned long hs_rate, hs_burst, pending_per_addr;
    int limit_loopback;
    /* one-shot TPM enrolment steps (then exit): docs/attest-tpm2.md §7 */
    const char *tpm_enrol_request, *tpm_activate, *tpm_activate_out;
} sup_opts;

/*
 * Defaults, then argv. 0 to run; -1 when --help or --version was printed (exit 0); else
 * the exit status, after printing why on standard error. Strings borrow from argv.
 */
int sup_opts_parse(int argc, char **argv, sup_opts *o);

#endif

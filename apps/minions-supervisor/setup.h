/* minions-supervisor's start-up steps: each builds one object and says what went wrong. */
#ifndef MS_APPS_MINIONS_SUPERVISOR_SETUP_H
#define MS_APPS_MINIONS_SUPERVISOR_SETUP_H

#include <stdio.h>

#include "apps/minions-supervisor/opts.h"
#include "secure/attest/producer.h"
#include "secure/supervisor/allow.h"
#include "secure/supervisor/audit.h"
#include "secure/supervisor/identity.h"
#include "secure/supervisor/peers.h"
#include "secure/supervisor/ratelimit.h"
#include "secure/supervisor/server.h"

/* Everything the supervisor runs on; main tears it down in reverse. Zero it before use. */
typedef struct sup_app {
    struct ms_producer *ev;
    ms_evidence_source src;
    ms_identity id;
    ms_sup sup;
    ms_sup_server *srv;
    FILE *access;
    ms_rate strict_rate;
    ms_sup_audit *audit;
    ms_allow allow;     /* --allowed-clients, when given (a.sup.allow points here) */
    ms_peers *peers;    /* per-address limits, unless both are 0 */
} sup_app;

/*
 * Each returns 0, or the exit status after printing why on standard error, in this order:
 * the evidence producer (and what clients pin), the audit log (when --audit-log), then the
 * static key, sessions, STRICT rate, bridge and the listening server (and --port-file).
 */
int sup_open_evidence(sup_app *a, const sup_opts *o);
int sup_open_audit(sup_app *a, const sup_opts *o);
int sup_start(sup_app *a, sup_opts *o);

/*
 * clients.c: the allow-list (when --allowed-clients) and the per-address limits, after the
 * audit log (whose allowed_clients event records the list) and before sup_start; 0 or the
 * exit status (EXIT_USAGE for a file that does not parse, naming its line).
 * sup_reload_clients: SIGHUP; a file that does not parse keeps the list in force and says
 * why (standard error and the audit log). sup_periodic: the main loop's tick (sweeps).
 * sup_close_clients: after the sessions are freed.
 */
int sup_open_clients(sup_app *a, const sup_opts *o);
void sup_reload_clients(sup_app *a);
void sup_periodic(sup_app *a);
void sup_close_clients(sup_app *a);

/*
 * The one-shot TPM enrolment steps (docs/attest-tpm2.md §7): with --tpm-enrol-request
 * write the request, with --tpm-activate run TPM2_ActivateCredential and write the
 * response; the exit status (0 done). -1 when neither was asked for.
 */
int sup_tpm_enrol(const sup_opts *o);

#endif

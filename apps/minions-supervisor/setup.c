/* minions-supervisor's start-up: evidence, audit log, server; it prints, the libraries do not. */
#include "apps/minions-supervisor/setup.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/listen.h"
#include "common/text.h"
#include "secure/attest/tpm2_enrol.h"
#include "secure/attest/tpm2_producer.h"
#include "secure/attest/snp_produce.h"
#include "secure/attest/az_tdquote.h"
#include "secure/attest/tdx_produce.h"
#include "secure/attest/policy.h"
#include "secure/audit/alog.h"

/* --tpm-enrol-request / --tpm-activate: one TPM step of an AK enrolment, then exit. */
int sup_tpm_enrol(const sup_opts *o)
{
    if (!o->tpm_enrol_request && !o->tpm_activate) {
        return -1;
    }
    const char *out_path = o->tpm_enrol_request ? o->tpm_enrol_request : o->tpm_activate_out;
    ms_buf in, out;
    ms_buf_init(&in, MS_TPM2_MAX_ENROL);
    ms_buf_init(&out, MS_TPM2_MAX_ENROL);
    ms_err e = MS_OK;
    if (o->tpm_activate && (e = ms_file_read(o->tpm_activate, MS_TPM2_MAX_ENROL, &in)) != MS_OK) {
        fprintf(stderr, "minions-supervisor: --tpm-activate %s: %s\n", o->tpm_activate,
                ms_err_str(e));
    } else {
        e = o->tpm_enrol_request
                ? ms_tpm2_enrol_request(o->ev.tpm_tcti, MS_TPM2_HIERARCHY_ENDORSEMENT, &out)
                : ms_tpm2_enrol_activate(o->ev.tpm_tcti, MS_TPM2_HIERARCHY_ENDORSEMENT, in.p,
                                         in.len, &out);
        if (e == MS_OK) {
            e = ms_file_write_new(out_path, out.p, out.len, 0600);
        }
        fprintf(stderr, "minions-supervisor: TPM %s: %s%s%s\n",
                o->ev.tpm_tcti ? o->ev.tpm_tcti : "(default)", e == MS_OK ? "wrote " : "",
                e == MS_OK ? out_path : ms_err_str(e),
                e == MS_OK && o->tpm_enrol_request
                    ? " (give it to the operator: minions-secure attest enroll-tpm)"
                    : "");
    }
    ms_buf_free(&in);
    ms_buf_free(&out);
    return e == MS_OK ? 0 : e == MS_ERR_FILE_OPEN || e == MS_ERR_IO ? EXIT_USAGE : EXIT_START;
}

static void say_dev_key(const sup_opts *o, const ms_producer_pins *pins)
{
    fprintf(stderr,
            "minions-supervisor: DEVELOPMENT MODE: %s dev key %s (%s).\n"
            "  It proves that this process holds the key, NOT what host or software runs it.\n"
            "  Clients pin it with --trusted_attestation_pem %s.pub\n",
            pins->dev_created ? "created" : "loaded", o->ev.dev_key, pins->dev_fingerprint,
            o->ev.dev_key);
}

static void say_tpm(const ms_producer_pins *pins)
{
    char hex[2 * MS_TPM2_NAME_LEN + 1];
    size_t n;
    if (ms_hex_encode(pins->tpm_ak_name, sizeof pins->tpm_ak_name, hex, sizeof hex, &n) != MS_OK) {
        hex[0] = 0;
    }
    fprintf(stderr, "minions-supervisor: TPM 2.0 evidence: attestation key name %s\n"
                    "  (clients pin it and the PCR values: minions-secure attest prints a policy)\n",
            hex);
}

/* What an SEV-SNP report shows that clients pin: measurement and TCB (from the probe). */
static void say_snp(const ms_producer_pins *pins)
{
    char hex[2 * MS_SNP_MEASUREMENT_LEN + 1];
    size_t n;
    const ms_snp_tcb *t = &pins->snp_reported_tcb;
    if (!pins->snp_known || ms_hex_encode(pins->snp_measurement, sizeof pins->snp_measurement,
                                          hex, sizeof hex, &n) != MS_OK) {
        return;
    }
    fprintf(stderr, "minions-supervisor: SEV-SNP evidence: measurement %s, reported TCB "
                    "bootloader %u tee %u snp %u microcode %u%s\n"
                    "  (clients pin AMD's ARK and the measurement: minions-secure attest prints "
                    "a policy)\n",
            hex, t->bootloader, t->tee, t->snp, t->microcode,
            pins->snp_has_ask ? "" : "; no ASK: clients' policies must hold it");
}

/* Why the producer did not open, and the exit status that goes with it. */
static int say_failure(const sup_opts *o, ms_producer_step step, ms_err e, const char *nv_why)
{
    const char *tcti = o->ev.tpm_tcti ? o->ev.tpm_tcti : "(default)";
    const char *root = o->ev.snp_tsm ? o->ev.snp_tsm : MS_SNP_TSM_ROOT;
    const char *dev = o->ev.snp_device ? o->ev.snp_device : MS_SNP_GUEST_DEVICE;
    switch (step) {
    case MS_PRODUCER_STEP_DEV_KEY:
        fprintf(stderr, "minions-supervisor: dev key %s: %s\n", o->ev.dev_key, ms_err_str(e));
        return EXIT_KEY;
    case MS_PRODUCER_STEP_DEV_KEY_PUB:
        fprintf(stderr, "minions-supervisor: cannot write %s.pub\n", o->ev.dev_key);
        return EXIT_KEY;
    case MS_PRODUCER_STEP_TPM:
        fprintf(stderr, "minions-supervisor: TPM %s: %s%s\n", tcti, ms_err_str(e),
                e == MS_ERR_TPM_AK_CERT ? " (--tpm-ak-cert is not this TPM's AK)" : "");
        return EXIT_START;
    case MS_PRODUCER_STEP_TPM_AK_CERT:
        fprintf(stderr, "minions-supervisor: --tpm-ak-cert %s: %s\n", o->ev.tpm_ak_cert,
                ms_err_str(e));
        return EXIT_USAGE;
    case MS_PRODUCER_STEP_SNP_CERTS:
        fprintf(stderr, "minions-supervisor: --snp-certs %s: %s (it must hold vcek.der or "
                        "vcek.pem, and may hold ask.der or ask.pem)\n", o->ev.snp_certs,
                ms_err_str(e));
        return EXIT_USAGE;
    case MS_PRODUCER_STEP_SNP_INTERFACE:
        fprintf(stderr, "minions-supervisor: --evidence sev-snp: this machine has no SEV-SNP "
                        "guest interface: neither %s (configfs-tsm) nor %s exists.\n"
                        "  SEV-SNP evidence is made only inside an AMD SEV-SNP confidential VM "
                        "(configfs-tsm: Linux 6.7 or later; else the sev-guest driver).\n",
                root, dev);
        return EXIT_START;
    case MS_PRODUCER_STEP_TDX_COLLATERAL:
        fprintf(stderr, "minions-supervisor: --tdx-collateral %s: %s\n", o->ev.tdx_collateral,
                ms_err_str(e));
        return EXIT_START;
    case MS_PRODUCER_STEP_TDX_QUOTE:
        fprintf(stderr, "minions-supervisor: --evidence tdx: no quote from configfs-tsm (%s): %s\n"
                        "  TDX evidence is made only inside an Intel TDX guest (trust domain) whose "
                        "kernel has configfs-tsm (tdx_guest)\n",
                o->ev.tdx_tsm ? o->ev.tdx_tsm : MS_TDX_TSM_ROOT, ms_err_str(e));
        return EXIT_START;
    case MS_PRODUCER_STEP_AZ_REPORT:
        if (o->ev.kind == MS_PRODUCER_AZ_TDX_VTPM) {
            fprintf(stderr, "minions-supervisor: --evidence az-tdx-vtpm: no evidence: %s (an "
                            "Azure TDX confidential VM's paravisor answers NV 0x01400002 with a TD "
                            "report in 0x01400001, which Azure's quote service %s quotes)\n",
                    ms_err_str(e), o->ev.az_tdquote_url ? o->ev.az_tdquote_url : MS_AZ_TDQUOTE_URL);
            return EXIT_START;
        }
        fprintf(stderr, "minions-supervisor: --evidence az-snp-vtpm: no evidence from the vTPM: "
                        "%s (an Azure SEV-SNP confidential VM's paravisor answers NV 0x01400002 "
                        "with a report in 0x01400001)\n", ms_err_str(e));
        return EXIT_START;
    case MS_PRODUCER_STEP_SNP_REPORT:
        fprintf(stderr, "minions-supervisor: --evidence sev-snp: no report: %s%s\n", ms_err_str(e),
                e == MS_ERR_ATTEST_UNAVAILABLE ? " (the host gave no VCEK or ASK: use --snp-certs DIR)"
                                               : "");
        return EXIT_START;
    case MS_PRODUCER_STEP_NVML:
        fprintf(stderr, "minions-supervisor: --evidence nvidia-gpu: %s%s%s\n", ms_err_str(e),
                nv_why[0] ? ": " : "", nv_why);
        return e == MS_ERR_CONFIG ? EXIT_USAGE : EXIT_START;
    case MS_PRODUCER_STEP_NV_REPORT:
        fprintf(stderr, "minions-supervisor: --evidence nvidia-gpu: no GPU evidence: %s\n",
                ms_err_str(e));
        return EXIT_START;
    default:
        fprintf(stderr, "minions-supervisor: %s\n", ms_err_str(e));
        return o->ev.kind == MS_PRODUCER_DEV_KEY ? EXIT_KEY : EXIT_START;
    }
}

/* What a TDX quote shows that clients pin: MRTD and RTMRs (from the probe quote). */
static void say_tdx(const ms_producer_pins *pins)
{
    char hex[2 * MS_TDX_MEAS_LEN + 1];
    size_t n;
    if (!pins->tdx_known || ms_hex_encode(pins->tdx_mrtd, MS_TDX_MEAS_LEN, hex, sizeof hex, &n) !=
                                MS_OK) {
        fprintf(stderr, "minions-supervisor: TDX evidence (the probe quote could not be read)\n");
        return;
    }
    fprintf(stderr, "minions-supervisor: TDX evidence: MRTD %s\n", hex);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        if (ms_hex_encode(pins->tdx_rtmr[i], MS_TDX_MEAS_LEN, hex, sizeof hex, &n) == MS_OK) {
            fprintf(stderr, "minions-supervisor: TDX evidence: RTMR%zu %s\n", i, hex);
        }
    }
    if (pins->tdx_debug) {
        fprintf(stderr, "minions-supervisor: warning: this TD is a debug TD: clients refuse it\n");
    }
    if (!pins->tdx_has_collateral) {
        fprintf(stderr, "minions-supervisor: TDX evidence carries no TCB info / QE identity: "
                        "clients' policies must supply them (tdx.collateral_dir)\n");
    }
}

int sup_open_evidence(sup_app *a, const sup_opts *o)
{
    ms_producer_pins pins;
    ms_producer_step step;
    ms_err e = ms_producer_open(&a->ev, &o->ev, &pins, &step);
    if (e != MS_OK) {
        return say_failure(o, step, e, pins.nv_why);
    }
    if (o->ev.kind == MS_PRODUCER_TPM2) {
        say_tpm(&pins);
    } else if (o->ev.kind == MS_PRODUCER_SEV_SNP || o->ev.kind == MS_PRODUCER_AZ_SNP_VTPM) {
        say_snp(&pins);
    } else if (o->ev.kind == MS_PRODUCER_TDX || o->ev.kind == MS_PRODUCER_AZ_TDX_VTPM) {
        say_tdx(&pins);
    } else if (o->ev.kind == MS_PRODUCER_NVIDIA_GPU) {
        fprintf(stderr, "minions-supervisor: nvidia-gpu evidence from %zu GPU(s); clients pin "
                        "NVIDIA's root and the measurements (minions-secure attest)\n",
                pins.nv_count);
    } else {
        say_dev_key(o, &pins);
    }
    if (o->ev.with_gpus) {
        fprintf(stderr, "minions-supervisor: composite evidence: %s and %zu GPU item(s), all over "
                        "each session's binding; clients require the combination in their "
                        "policy (docs/attestation.md)\n",
                o->evidence, pins.nv_count);
    }
    ms_evidence_source_producer(&a->src, a->ev);
    return 0;
}

/* --audit-log: the key, then a new log whose log_start says what this supervisor is. */
int sup_open_audit(sup_app *a, const sup_opts *o)
{
    char key[PATH_MAX], fp[MS_FINGERPRINT_LEN];
    ms_sup_audit_cfg cfg = {.path = o->audit_log, .key_path = o->audit_key, .listen = o->srv.listen,
                            .evidence = ms_evidence_type_name(a->src.type),
                            .backend_url = o->bridge.base_url,
                            .development = a->src.type == MS_EVIDENCE_DEV_KEY,
                            .checkpoint_events = o->audit_ck_events_set
                                                     ? (uint32_t)o->audit_ck_events
                                                     : MS_ALOG_CHECKPOINT_EVENTS,
                            .checkpoint_s = o->audit_ck_s_set ? (uint32_t)o->audit_ck_s
                                                              : MS_ALOG_CHECKPOINT_S};
    if (!o->audit_log) {
        return 0;
    }
    if (!cfg.key_path) {
        if (ms_sup_audit_default_key(o->ev.dev_key, key, sizeof key) != MS_OK) {
            fprintf(stderr, "minions-supervisor: no room for the audit key's path: use --audit-key\n");
            return EXIT_USAGE;
        }
        cfg.key_path = key;
    }
    enum ms_sup_audit_part part;
    ms_err e = ms_sup_audit_open(&a->audit, &cfg, &part);
    if (e == MS_ERR_CONFIG && part == MS_SUP_AUDIT_PART_LOG) {
        fprintf(stderr, "minions-supervisor: --audit-log %s exists and is not a directory: an "
                        "audit log is never reopened or overwritten; give a new file or a "
                        "directory\n", o->audit_log);
        return EXIT_USAGE;
    }
    if (e != MS_OK) {
        fprintf(stderr, "minions-supervisor: %s %s: %s\n",
                part == MS_SUP_AUDIT_PART_KEY ? "audit log key" : "audit log",
                part == MS_SUP_AUDIT_PART_KEY ? cfg.key_path : o->audit_log, ms_err_str(e));
        return part == MS_SUP_AUDIT_PART_KEY ? EXIT_KEY : EXIT_START;
    }
    int created = ms_sup_audit_key(a->audit, fp);
    fprintf(stderr, "minions-supervisor: audit log %s, sealed by the log key %s (%s %s; "
                    "verifiers need %s.pub)\n",
            ms_sup_audit_path(a->audit), fp, created ? "created" : "loaded", cfg.key_path,
            cfg.key_path);
    return 0;
}

/*
 * Test builds only (MS_TESTS=ON defines MS_TEST_SEAMS for this program; release builds,
 * scripts/package-deb.sh, have MS_TESTS=OFF and never read it): MS_TEST_EVIDENCE_S=N, 1 to
 * 60, replaces the static key every N seconds instead of --evidence-ttl's, its evidence void
 * N seconds after that, so e2e tests see FAST evidence expire in seconds. The grace for
 * --evidence-ttl otherwise: MS_IDENTITY_GRACE_S.
 */
static uint64_t evidence_grace_s(uint64_t *ttl_s)
{
#ifdef MS_TEST_SEAMS
    const char *v = getenv("MS_TEST_EVIDENCE_S");
    uint64_t n;
    if (ms_text_read_u64(v, 60, &n) && n >= 1) { /* digits only: no sign, no space */
        fprintf(stderr, "minions-supervisor: TEST BUILD: evidence renewed every %" PRIu64
                        " s, void %" PRIu64 " s later (MS_TEST_EVIDENCE_S)\n", n, n);
        *ttl_s = n;
        return n;
    }
#endif
    (void)ttl_s;
    return MS_IDENTITY_GRACE_S;
}

int sup_start(sup_app *a, sup_opts *o)
{
    uint16_t port;
    uint64_t ttl_s = o->evidence_ttl_s;
    uint64_t grace_s = evidence_grace_s(&ttl_s);
    ms_err e = ms_identity_init_grace(&a->id, &a->src, ttl_s, grace_s, ms_now_s());
    if (e == MS_OK) {
        e = ms_sessions_new(&a->sup.sessions, o->max_sessions, (uint64_t)o->session_ttl_s * 1000);
    }
    if (e == MS_OK && (e = ms_rate_init(&a->strict_rate, o->strict_rate, o->strict_burst,
                                        ms_clock_ms())) == MS_OK) {
        a->sup.strict_rate = &a->strict_rate;
    }
    if (e == MS_OK && a->audit) {
        ms_sessions_on_end(a->sup.sessions, ms_sup_audit_session_end, a->audit);
    }
    const char *key = getenv(o->key_env);
    o->bridge.api_key = key && *key ? key : NULL;
    if (e == MS_OK) {
        e = ms_bridge_new(&a->sup.bridge, &o->bridge);
    }
    if (e != MS_OK) {
        fprintf(stderr, "minions-supervisor: %s\n", ms_err_str(e));
        return EXIT_USAGE;
    }
    a->sup.id = &a->id;
    a->sup.development = a->src.type == MS_EVIDENCE_DEV_KEY;
    o->srv.access_log = a->access;
    e = ms_sup_server_start(&a->sup, &o->srv, &a->srv, &port);
    if (e == MS_ERR_TLS_KEY_MISMATCH) {
        fprintf(stderr, "minions-supervisor: --tls-key %s is not the key of --tls-cert %s (%s)\n",
                o->srv.tls_key_path, o->srv.tls_cert_path, ms_err_str(e));
        return EXIT_USAGE;
    }
    if (e == MS_ERR_LISTEN_IN_USE) {
        const char *colon = strrchr(o->srv.listen, ':');
        fprintf(stderr, "minions-supervisor: cannot serve on %s: port %s is in use (%s; "
                "choose another --listen port, or stop the program that holds it)\n",
                o->srv.listen, colon ? colon + 1 : "?", ms_err_str(e));
        return EXIT_START;
    }
    if (e != MS_OK) {
        fprintf(stderr, "minions-supervisor: cannot serve on %s: %s%s\n", o->srv.listen,
                ms_err_str(e), e == MS_ERR_CONFIG && !o->srv.tls_cert_path
                    ? " (give --tls-cert and --tls-key, or --plain-http on a loopback address)" : "");
        return e == MS_ERR_CONFIG ? EXIT_USAGE : EXIT_START;
    }
    if (o->port_file && ms_listen_write_port_file(o->port_file, port) != MS_OK) {
        fprintf(stderr, "minions-supervisor: cannot write %s\n", o->port_file);
        return EXIT_START;
    }
    fprintf(stderr, "minions-supervisor: listening on %s (port %u, %s)\n", o->srv.listen,
            (unsigned)port, o->srv.tls_cert_path ? "HTTPS" : "plain HTTP");
    return 0;
}

/* minions-supervisor's options: the table, --help text, values and their checks. */
#include "apps/minions-supervisor/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/text.h"
#include "common/version.h"
#include "secure/attest/snp_produce.h"
#include "secure/attest/az_tdquote.h"
#include "secure/attest/tdx_produce.h"
#include "secure/supervisor/ratelimit.h"

static const char USAGE[] =
    "Usage: minions-supervisor [options]\n"
    "\n"
    "Serves the minions-secure channel (docs/protocol.md) and relays each decrypted\n"
    "turn to an OpenAI-compatible model engine (vLLM, SGLang, llama.cpp server, ...).\n"
    "\n"
    "Listening:\n"
    "  --listen ADDR            127.0.0.1:8443 (default), [::1]:PORT or\n"
    "                           unix:/path.sock; port 0 picks a free port\n"
    "  --port-file FILE         write the bound port there once listening\n"
    "  --tls-cert FILE          serve HTTPS with this PEM certificate (chain) ...\n"
    "  --tls-key FILE           ... and this PEM private key\n"
    "  --plain-http             serve plain HTTP instead; allowed only on a loopback\n"
    "                           address or a unix socket, for deployments behind a\n"
    "                           TLS-terminating proxy\n"
    "  --max-connections N      open connections at most (default 256)\n"
    "  --per-ip-connections N   from one address at most (default 64)\n"
    "  --connection-timeout S   close a connection idle or silent this long (default\n"
    "                           30)\n"
    "Sessions:\n"
    "  --max-sessions N         sessions at most, pending ones included (default\n"
    "                           10000); when full, handshakes get 503 with\n"
    "                           Retry-After\n"
    "  --session-ttl S          drop a session idle this long (default 600)\n"
    "Clients:\n"
    "  --allowed-clients FILE   admit only clients whose identity key is in FILE, one\n"
    "                           'ms-ed25519 KEY comment' line each (minions-secure\n"
    "                           keygen writes them); reread on SIGHUP\n"
    "  --handshake-rate N       handshakes per second from one address (default 20;\n"
    "                           0: no limit); over it, 503 with Retry-After\n"
    "  --handshake-burst N      ... and at once after a quiet period (default 40)\n"
    "  --pending-per-address N  unfinished handshakes one address may hold (default\n"
    "                           64; 0: no limit)\n"
    "  --limit-loopback         apply those two limits to loopback addresses too\n"
    "                           (by default not: behind a local proxy, every client\n"
    "                           has the proxy's address)\n"
    "Model engine:\n"
    "  --backend-url URL        OpenAI-compatible base URL, e.g.\n"
    "                           http://127.0.0.1:8000/v1\n"
    "  --backend-model NAME     model name to request; the preset cybertron-70b names\n"
    "                           Trend Cybertron's model\n"
    "                           trend-cybertron/Llama-Primus-Nemotron-70B-Instruct\n"
    "                           as vLLM or SGLang serve it (docs/cybertron.md)\n"
    "  --backend-key-env VAR    environment variable holding the engine's API key\n"
    "                           (default MINIONS_BACKEND_API_KEY; unset = no key)\n"
    "  --backend-timeout S      whole-turn timeout (default 120)\n"
    "  --backend-retries N      retries before any output, on connect errors, 429,\n"
    "                           5xx (default 1)\n"
    "Evidence:\n"
    "  --evidence TYPE          dev-key (default); tpm2: a TPM 2.0 quote by a\n"
    "                           restricted attestation key (clients pin its name\n"
    "                           and PCRs); sev-snp: an AMD SEV-SNP report (clients\n"
    "                           pin AMD's root and the measurement); tdx: an Intel\n"
    "                           TDX quote via configfs-tsm (clients pin Intel's\n"
    "                           root, MRTD, RTMRs); az-snp-vtpm: an Azure SEV-SNP\n"
    "                           VM's HCL report and vTPM quote (needs --snp-certs;\n"
    "                           uses --tpm-tcti, --tpm-pcrs); az-tdx-vtpm: an\n"
    "                           Azure TDX VM's HCL report, vTPM quote and a TDX\n"
    "                           quote from Azure's quote service (uses --tpm-tcti,\n"
    "                           --tpm-pcrs, --tdx-collateral, --az-tdquote-url);\n"
    "                           nvidia-gpu: each\n"
    "                           GPU's SPDM measurements; TYPE+nvidia-gpu: composite\n"
    "                           evidence, the CPU TEE's and each GPU's in one\n"
    "  --tpm-tcti STRING        TPM to use (default device:/dev/tpmrm0;\n"
    "                           swtpm:host=...,port=...)\n"
    "  --tpm-pcrs LIST          PCRs to quote, SHA-256 bank, e.g. 0,1,2,3,4,5,6,7\n"
    "                           (default 0-7)\n"
    "  --tpm-ak-cert FILE       send this AK certificate (PEM or DER) with each\n"
    "                           quote, for clients that pin the AK CA\n"
    "                           (docs/attest-tpm2.md section 7)\n"
    "  --tpm-enrol-request OUT  write this TPM's AK enrolment request (EK\n"
    "                           certificate, EK, AK) to OUT, then exit; for\n"
    "                           minions-secure attest enroll-tpm\n"
    "  --tpm-activate IN        recover the credential of the operator's\n"
    "    --tpm-activate-out OUT challenge IN with this TPM's EK and AK\n"
    "                           (TPM2_ActivateCredential), write it to OUT, exit.\n"
    "                           These two need no --backend-* options\n"
    "  --snp-certs DIR          SEV-SNP: the VCEK (DIR/vcek.der or .pem) and\n"
    "                           optionally the ASK (DIR/ask.der or .pem), e.g. from\n"
    "                           AMD's KDS; default: the host's certificate table\n"
    "                           (configfs-tsm auxblob)\n"
    "  --snp-tsm DIR            configfs-tsm report directory\n"
    "                           (default " MS_SNP_TSM_ROOT ")\n"
    "  --snp-device PATH        fallback guest device (default " MS_SNP_GUEST_DEVICE ")\n"
    "  --tdx-collateral DIR     TDX: Intel's collateral served with each quote\n"
    "                           (tcb_info.json, qe_identity.json,\n"
    "                           tcb_signing_chain.pem, pck_crl.der, root_crl.der from\n"
    "                           Intel's PCS; docs/attest-tdx.md)\n"
    "  --tdx-collateral-grace S\n"
    "                           TDX: serve collateral up to S s past its nextUpdate\n"
    "                           (default 0: stale collateral is refused at start and\n"
    "                           whenever evidence is made; at most 90 days)\n"
    "  --az-tdquote-url URL     az-tdx-vtpm: Azure's TD quote service (default\n"
    "                           " MS_AZ_TDQUOTE_URL ";\n"
    "                           plain http only to loopback or link-local hosts)\n"
    "  --tdx-tsm DIR            TDX: configfs-tsm report directory\n"
    "                           (default " MS_TDX_TSM_ROOT ")\n"
    "  --gpus all|LIST          nvidia-gpu: the GPUs to attest, e.g. 0,1 (default\n"
    "                           all)\n"
    "  --nvml-lib PATH          nvidia-gpu: the NVML library (default\n"
    "                           libnvidia-ml.so.1)\n"
    "  --dev-key FILE           development key (PEM, mode 0600), created on first\n"
    "                           start (default ./minions-dev-attestation.pem); its\n"
    "                           public half is written to FILE.pub: give that file to\n"
    "                           clients (minions-secure --trusted_attestation_pem\n"
    "                           FILE.pub)\n"
    "  --evidence-ttl S         replace the static key and its evidence this often\n"
    "                           (default 300)\n"
    "  --strict-rate N          fresh (STRICT) evidence at most N per second on\n"
    "                           average (default 5); over it, STRICT handshakes get\n"
    "                           503 with Retry-After; FAST ones never\n"
    "  --strict-burst N         ... and at most N at once after a quiet period\n"
    "                           (default 10)\n"
    "Logs:\n"
    "  --access-log FILE        one line per request (default: standard error; '-'\n"
    "                           too); never plaintext or keys\n"
    "  --log-level LEVEL        error, warn, info (default) or debug\n"
    "  --audit-log PATH         keep an audit log of sessions (ids, key fingerprints,\n"
    "                           evidence digests, counts, sizes, times; never\n"
    "                           content), hash-chained and sealed at exit\n"
    "                           (docs/logs.md). PATH is a new file (an existing file\n"
    "                           is refused) or a directory: a new file named by the\n"
    "                           start time is made there, one per start\n"
    "  --audit-key FILE         the Ed25519 key that seals it, created (0600, and\n"
    "                           FILE.pub) on first use (default:\n"
    "                           minions-supervisor-log-key next to --dev-key)\n"
    "  --audit-checkpoint-events N\n"
    "                           sign a checkpoint into it after N lines (default 64;\n"
    "                           0: not by count), so a crash leaves a prefix that\n"
    "                           verifies (docs/logs.md)\n"
    "  --audit-checkpoint-secs S  ... and S seconds after a line (default 5; 0: not\n"
    "                           by time)\n"
    "  --help, --version\n"
    "\n"
    "Development mode: dev-key evidence proves that this process holds the dev key.\n"
    "It does NOT prove what host, software or operator runs it. Use TPM or SEV-SNP\n"
    "evidence to have the client check the machine itself.\n"
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM; 2 bad options or configuration;\n"
    "3 cannot listen or start; 4 dev key or audit log key unusable; 5 stopped, but\n"
    "the audit log could not be sealed.\n";

static int parse_ul(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    uint64_t v;
    if (!ms_text_read_u64(s, hi, &v) || v < lo) { /* digits only: no sign, no space */
        return 0;
    }
    *out = (unsigned long)v;
    return 1;
}

static int parse_level(const char *s, ms_log_level *out)
{
    static const struct {
        const char *name;
        ms_log_level level;
    } levels[] = {{"error", MS_LOG_ERROR}, {"warn", MS_LOG_WARN}, {"info", MS_LOG_INFO},
                  {"debug", MS_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcmp(s, levels[i].name) == 0) {
            *out = levels[i].level;
            return 1;
        }
    }
    return 0;
}

enum {
    O_LISTEN = 256, O_PORT_FILE, O_TLS_CERT, O_TLS_KEY, O_PLAIN, O_MAX_CONN, O_PER_IP, O_CONN_TO,
    O_MAX_SESS, O_TTL, O_B_URL, O_B_MODEL, O_B_KEYENV, O_B_TO, O_B_RETRY, O_EVIDENCE, O_DEVKEY,
    O_EV_TTL, O_ACCESS, O_LEVEL, O_HELP, O_VERSION, O_TCTI, O_PCRS, O_STRICT_RATE, O_STRICT_BURST
};

/* Audit log options (numbered apart from the lists around). */
enum { O_AUDIT_LOG = 420, O_AUDIT_KEY };
/* the audit log's checkpoints */
enum { O_AUDIT_CK_EVENTS = 430, O_AUDIT_CK_SECS };

/* TPM key provenance options (numbered apart from the lists around). */
enum { O_TPM_AK_CERT = 440, O_TPM_REQUEST, O_TPM_ACTIVATE, O_TPM_ACTIVATE_OUT };

/* SEV-SNP options (numbered apart from the list above). */
enum { O_SNP_CERTS = 400, O_SNP_TSM, O_SNP_DEVICE };
/* NVIDIA GPU options. */
enum { O_NV_GPUS = 470, O_NV_LIB };

/* Client allow-list and per-address limits (numbered apart from the lists around). */
enum { O_ALLOWED = 480, O_HS_RATE, O_HS_BURST, O_PENDING_ADDR, O_LIMIT_LOOPBACK };

/* TDX options (numbered apart from the lists around). */
enum { O_TDX_COLLATERAL = 460, O_TDX_TSM, O_TDX_GRACE };
/* Azure TDX options. */
enum { O_AZ_TDQUOTE_URL = 537 };

static int apply_num(sup_opts *o, int c, const char *arg)
{
    unsigned long v;
    switch (c) {
    case O_MAX_CONN: if (!parse_ul(arg, 1, 65536, &v)) return 0; o->srv.max_connections = (unsigned)v; return 1;
    case O_PER_IP: if (!parse_ul(arg, 1, 65536, &v)) return 0; o->srv.per_ip_connections = (unsigned)v; return 1;
    case O_CONN_TO: if (!parse_ul(arg, 1, 3600, &v)) return 0; o->srv.connection_timeout_s = (unsigned)v; return 1;
    case O_MAX_SESS: if (!parse_ul(arg, 1, 1u << 24, &v)) return 0; o->max_sessions = v; return 1;
    case O_TTL: return parse_ul(arg, 1, 86400 * 7, &o->session_ttl_s);
    case O_B_TO: if (!parse_ul(arg, 1, 86400, &v)) return 0; o->bridge.timeout_ms = (long)v * 1000; return 1;
    case O_B_RETRY: if (!parse_ul(arg, 0, 10, &v)) return 0; o->bridge.max_retries = (int)v; return 1;
    case O_EV_TTL: return parse_ul(arg, 10, 86400, &o->evidence_ttl_s);
    case O_STRICT_RATE: return parse_ul(arg, 1, MS_RATE_MAX, &o->strict_rate);
    case O_STRICT_BURST: return parse_ul(arg, 1, MS_RATE_MAX, &o->strict_burst);
    case O_TDX_GRACE: if (!parse_ul(arg, 0, MS_TDX_MAX_GRACE_S, &v)) return 0; o->ev.tdx_collateral_grace_s = v; return 1;
    case O_HS_RATE: return parse_ul(arg, 0, MS_RATE_MAX, &o->hs_rate);
    case O_HS_BURST: return parse_ul(arg, 1, MS_RATE_MAX, &o->hs_burst);
    case O_PENDING_ADDR: return parse_ul(arg, 0, 1u << 24, &o->pending_per_addr);
    default: return 0;
    }
}

static int apply(sup_opts *o, int c, const char *arg)
{
    switch (c) {
    case O_LISTEN: o->srv.listen = arg; return 1;
    case O_PORT_FILE: o->port_file = arg; return 1;
    case O_TLS_CERT: o->srv.tls_cert_path = arg; return 1;
    case O_TLS_KEY: o->srv.tls_key_path = arg; return 1;
    case O_PLAIN: o->srv.plain_http = 1; return 1;
    case O_B_URL: o->bridge.base_url = arg; return 1;
    case O_B_MODEL: /* the Trend Cybertron preset: the served name of the HF repository */
        o->bridge.model = strcmp(arg, "cybertron-70b") == 0
                              ? "trend-cybertron/Llama-Primus-Nemotron-70B-Instruct"
                              : arg;
        return 1;
    case O_B_KEYENV: o->key_env = arg; return 1;
    case O_EVIDENCE: o->evidence = arg; return 1;
    case O_DEVKEY: o->ev.dev_key = arg; return 1;
    case O_ACCESS: o->access_log = arg; return 1;
    case O_AUDIT_LOG: o->audit_log = arg; return 1;
    case O_AUDIT_KEY: o->audit_key = arg; return 1;
    case O_AUDIT_CK_EVENTS:
        o->audit_ck_events_set = 1;
        return parse_ul(arg, 0, MS_MAX_LOG_CHECKPOINT_EVENTS, &o->audit_ck_events);
    case O_AUDIT_CK_SECS:
        o->audit_ck_s_set = 1;
        return parse_ul(arg, 0, MS_MAX_LOG_CHECKPOINT_S, &o->audit_ck_s);
    case O_LEVEL: return parse_level(arg, &o->level);
    case O_TCTI: o->ev.tpm_tcti = arg; return 1;
    case O_SNP_CERTS: o->ev.snp_certs = arg; return 1;
    case O_SNP_TSM: o->ev.snp_tsm = arg; return 1;
    case O_SNP_DEVICE: o->ev.snp_device = arg; return 1;
    case O_TDX_COLLATERAL: o->ev.tdx_collateral = arg; return 1;
    case O_TDX_TSM: o->ev.tdx_tsm = arg; return 1;
    case O_AZ_TDQUOTE_URL: o->ev.az_tdquote_url = arg; return 1;
    case O_NV_GPUS: o->ev.nv_gpus = arg; return 1;
    case O_NV_LIB: o->ev.nv_lib = arg; return 1;
    case O_PCRS: return ms_pcr_list_parse(arg, &o->ev.tpm_pcrs) == MS_OK;
    case O_TPM_AK_CERT: o->ev.tpm_ak_cert = arg; return 1;
    case O_ALLOWED: o->allowed_clients = arg; return 1;
    case O_LIMIT_LOOPBACK: o->limit_loopback = 1; return 1;
    case O_TPM_REQUEST: o->tpm_enrol_request = arg; return 1;
    case O_TPM_ACTIVATE: o->tpm_activate = arg; return 1;
    case O_TPM_ACTIVATE_OUT: o->tpm_activate_out = arg; return 1;
    default: return apply_num(o, c, arg);
    }
}

/* 0 to run, or the exit status (after printing why). */
/* The files a start needs, checked before anything is written (a dev key, a log): 0 or 2. */
static int files_readable(const sup_opts *o)
{
    const char *names[] = {"--tls-cert", "--tls-key"};
    const char *paths[] = {o->srv.tls_cert_path, o->srv.tls_key_path};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (paths[i] && access(paths[i], R_OK) != 0) {
            fprintf(stderr, "minions-supervisor: %s %s: cannot read the file: %s\n", names[i],
                    paths[i], strerror(errno));
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, sup_opts *o)
{
    static const struct option longs[] = {
        {"listen", 1, 0, O_LISTEN}, {"port-file", 1, 0, O_PORT_FILE}, {"tls-cert", 1, 0, O_TLS_CERT},
        {"tls-key", 1, 0, O_TLS_KEY}, {"plain-http", 0, 0, O_PLAIN},
        {"max-connections", 1, 0, O_MAX_CONN}, {"per-ip-connections", 1, 0, O_PER_IP},
        {"connection-timeout", 1, 0, O_CONN_TO}, {"max-sessions", 1, 0, O_MAX_SESS},
        {"session-ttl", 1, 0, O_TTL}, {"backend-url", 1, 0, O_B_URL},
        {"backend-model", 1, 0, O_B_MODEL}, {"backend-key-env", 1, 0, O_B_KEYENV},
        {"backend-timeout", 1, 0, O_B_TO}, {"backend-retries", 1, 0, O_B_RETRY},
        {"evidence", 1, 0, O_EVIDENCE}, {"dev-key", 1, 0, O_DEVKEY},
        {"evidence-ttl", 1, 0, O_EV_TTL}, {"access-log", 1, 0, O_ACCESS},
        {"log-level", 1, 0, O_LEVEL}, {"help", 0, 0, O_HELP}, {"version", 0, 0, O_VERSION},
        {"tpm-tcti", 1, 0, O_TCTI}, {"tpm-pcrs", 1, 0, O_PCRS},
        {"snp-certs", 1, 0, O_SNP_CERTS}, {"snp-tsm", 1, 0, O_SNP_TSM},
        {"snp-device", 1, 0, O_SNP_DEVICE},
        {"tdx-collateral", 1, 0, O_TDX_COLLATERAL}, {"tdx-tsm", 1, 0, O_TDX_TSM},
        {"tdx-collateral-grace", 1, 0, O_TDX_GRACE},
        {"az-tdquote-url", 1, 0, O_AZ_TDQUOTE_URL},
        {"gpus", 1, 0, O_NV_GPUS}, {"nvml-lib", 1, 0, O_NV_LIB},
        {"strict-rate", 1, 0, O_STRICT_RATE}, {"strict-burst", 1, 0, O_STRICT_BURST},
        {"audit-log", 1, 0, O_AUDIT_LOG}, {"audit-key", 1, 0, O_AUDIT_KEY},
        {"audit-checkpoint-events", 1, 0, O_AUDIT_CK_EVENTS},
        {"audit-checkpoint-secs", 1, 0, O_AUDIT_CK_SECS},
        {"tpm-ak-cert", 1, 0, O_TPM_AK_CERT}, {"tpm-enrol-request", 1, 0, O_TPM_REQUEST},
        {"tpm-activate", 1, 0, O_TPM_ACTIVATE}, {"tpm-activate-out", 1, 0, O_TPM_ACTIVATE_OUT},
        {"allowed-clients", 1, 0, O_ALLOWED}, {"handshake-rate", 1, 0, O_HS_RATE},
        {"handshake-burst", 1, 0, O_HS_BURST}, {"pending-per-address", 1, 0, O_PENDING_ADDR},
        {"limit-loopback", 0, 0, O_LIMIT_LOOPBACK},
        {0, 0, 0, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == O_HELP) {
            fputs(USAGE, stdout);
            return -1;
        }
        if (c == O_VERSION) {
            puts("minions-supervisor " MS_VERSION " (channel protocol 1)");
            return -1;
        }
        if (c == '?' || c == ':' || !apply(o, c, optarg)) {
            fprintf(stderr, "minions-supervisor: invalid option or value: %s\n"
                            "Try 'minions-supervisor --help'.\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "minions-supervisor: unexpected argument: %s\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!o->tpm_activate != !o->tpm_activate_out ||
        (o->tpm_enrol_request && o->tpm_activate)) {
        fprintf(stderr, "minions-supervisor: --tpm-activate needs --tpm-activate-out, and "
                        "--tpm-enrol-request goes alone\n");
        return EXIT_USAGE;
    }
    if (o->tpm_enrol_request || o->tpm_activate) {
        return 0; /* a one-shot TPM step: no server options are needed */
    }
    if (!o->bridge.base_url || !o->bridge.model) {
        fprintf(stderr, "minions-supervisor: --backend-url and --backend-model are required\n");
        return EXIT_USAGE;
    }
    if (ms_producer_evidence_parse(o->evidence, &o->ev.kind, &o->ev.with_gpus) != MS_OK) {
        fprintf(stderr, "minions-supervisor: --evidence %s: want dev-key, tpm2, sev-snp, tdx, "
                        "az-snp-vtpm, az-tdx-vtpm or nvidia-gpu\n",
                o->evidence);
        return EXIT_USAGE;
    }
    if (o->ev.tpm_ak_cert && o->ev.kind != MS_PRODUCER_TPM2) {
        fprintf(stderr, "minions-supervisor: --tpm-ak-cert needs --evidence tpm2\n");
        return EXIT_USAGE;
    }
    if (o->ev.kind == MS_PRODUCER_AZ_SNP_VTPM && (!o->ev.snp_certs || o->ev.snp_tsm ||
                                                  o->ev.snp_device)) {
        fprintf(stderr, "minions-supervisor: --evidence az-snp-vtpm needs --snp-certs DIR (the "
                        "VCEK Azure serves; docs/attest-azure.md) and no --snp-tsm/--snp-device\n");
        return EXIT_USAGE;
    }
    if ((o->ev.snp_certs || o->ev.snp_tsm || o->ev.snp_device) &&
        o->ev.kind != MS_PRODUCER_SEV_SNP && o->ev.kind != MS_PRODUCER_AZ_SNP_VTPM) {
        fprintf(stderr, "minions-supervisor: --snp-certs, --snp-tsm and --snp-device need "
                        "--evidence sev-snp\n");
        return EXIT_USAGE;
    }
    if (o->ev.az_tdquote_url && o->ev.kind != MS_PRODUCER_AZ_TDX_VTPM) {
        fprintf(stderr, "minions-supervisor: --az-tdquote-url needs --evidence az-tdx-vtpm\n");
        return EXIT_USAGE;
    }
    if (o->ev.kind == MS_PRODUCER_AZ_TDX_VTPM && o->ev.tdx_tsm) {
        fprintf(stderr, "minions-supervisor: --evidence az-tdx-vtpm takes its quote from Azure's "
                        "quote service, not configfs-tsm: no --tdx-tsm\n");
        return EXIT_USAGE;
    }
    if ((o->ev.tdx_collateral || o->ev.tdx_tsm || o->ev.tdx_collateral_grace_s) &&
        o->ev.kind != MS_PRODUCER_TDX && o->ev.kind != MS_PRODUCER_AZ_TDX_VTPM) {
        fprintf(stderr, "minions-supervisor: --tdx-collateral, --tdx-collateral-grace and "
                        "--tdx-tsm need --evidence tdx\n");
        return EXIT_USAGE;
    }
    if ((o->ev.nv_gpus || o->ev.nv_lib) && o->ev.kind != MS_PRODUCER_NVIDIA_GPU &&
        !o->ev.with_gpus) {
        fprintf(stderr, "minions-supervisor: --gpus and --nvml-lib need --evidence nvidia-gpu\n");
        return EXIT_USAGE;
    }
    return files_readable(o);
}

static void defaults(sup_opts *o)
{
    memset(o, 0, sizeof *o);
    o->srv.listen = "127.0.0.1:8443";
    o->srv.max_connections = 256;
    o->srv.per_ip_connections = 64;
    o->srv.connection_timeout_s = 30;
    o->max_sessions = 10000;
    o->session_ttl_s = 600;
    o->bridge.timeout_ms = 120000;
    o->bridge.connect_timeout_ms = 5000;
    o->bridge.max_retries = 1;
    o->key_env = "MINIONS_BACKEND_API_KEY";
    o->evidence = "dev-key";
    o->ev.tpm_pcrs = 0xffu; /* PCRs 0-7: firmware, boot loader and kernel measurements */
    o->ev.dev_key = "minions-dev-attestation.pem";
    o->evidence_ttl_s = 300;
    /* A hardware TPM makes a few quotes a second at best; a queue of them only adds latency. */
    o->strict_rate = 5;
    o->strict_burst = 10;
    /* Per address: far above what one client needs (a handshake per session), far below
       what it takes to fill a 10000-session table within the 30 s a pending one lives. */
    o->hs_rate = 20;
    o->hs_burst = 40;
    o->pending_per_addr = 64;
    o->level = MS_LOG_INFO;
}

int sup_opts_parse(int argc, char **argv, sup_opts *o)
{
    defaults(o);
    return parse_args(argc, argv, o);
}

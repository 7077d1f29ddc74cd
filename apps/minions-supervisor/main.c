/* minions-supervisor: options, objects, serve until SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/codec.h"
#include "common/log.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp_produce.h"
#include "secure/attest/policy.h"
#include "secure/attest/tpm2_producer.h"
#include "secure/supervisor/audit.h"
#include "secure/supervisor/server.h"

#define EXIT_USAGE 2
#define EXIT_START 3
#define EXIT_KEY 4
#define EXIT_AUDIT 5

static const char USAGE[] =
    "Usage: minions-supervisor [options]\n"
    "\n"
    "Serves the minions-secure channel (docs/protocol.md) and relays each decrypted turn to\n"
    "an OpenAI-compatible model engine (vLLM, SGLang, llama.cpp server, ...).\n"
    "\n"
    "Listening:\n"
    "  --listen ADDR            127.0.0.1:8443 (default), [::1]:PORT or unix:/path.sock;\n"
    "                           port 0 picks a free port\n"
    "  --port-file FILE         write the bound port there once listening\n"
    "  --tls-cert FILE          serve HTTPS with this PEM certificate (chain) ...\n"
    "  --tls-key FILE           ... and this PEM private key\n"
    "  --plain-http             serve plain HTTP instead; allowed only on a loopback address or\n"
    "                           a unix socket, for deployments behind a TLS-terminating proxy\n"
    "  --max-connections N      open connections at most (default 256)\n"
    "  --per-ip-connections N   from one address at most (default 64)\n"
    "  --connection-timeout S   close a connection idle or silent this long (default 30)\n"
    "Sessions:\n"
    "  --max-sessions N         sessions at most, pending ones included (default 10000);\n"
    "                           when full, handshakes get 503 with Retry-After\n"
    "  --session-ttl S          drop a session idle this long (default 600)\n"
    "Model engine:\n"
    "  --backend-url URL        OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1\n"
    "  --backend-model NAME     model name to request; the preset cybertron-70b names Trend\n"
    "                           Cybertron's trend-cybertron/Llama-Primus-Nemotron-70B-Instruct\n"
    "                           as vLLM or SGLang serve it (docs/cybertron.md)\n"
    "  --backend-key-env VAR    environment variable holding the engine's API key\n"
    "                           (default MINIONS_BACKEND_API_KEY; unset = no key)\n"
    "  --backend-timeout S      whole-turn timeout (default 120)\n"
    "  --backend-retries N      retries before any output, on connect errors, 429, 5xx (default 1)\n"
    "Evidence:\n"
    "  --evidence TYPE          dev-key (default), tpm2 (a TPM 2.0 quote by a restricted\n"
    "                           attestation key; clients pin its name and PCR values) or\n"
    "                           sev-snp (an AMD SEV-SNP report; clients pin AMD's root and the\n"
    "                           launch measurement); only inside an SEV-SNP guest\n"
    "  --tpm-tcti STRING        TPM to use (default device:/dev/tpmrm0; swtpm:host=...,port=...)\n"
    "  --tpm-pcrs LIST          PCRs to quote, SHA-256 bank, e.g. 0,1,2,3,4,5,6,7 (default 0-7)\n"
    "  --snp-certs DIR          SEV-SNP: the VCEK (DIR/vcek.der or .pem) and optionally the ASK\n"
    "                           (DIR/ask.der or .pem), e.g. from AMD's KDS; default: the host's\n"
    "                           certificate table (configfs-tsm auxblob)\n"
    "  --snp-tsm DIR            configfs-tsm report directory (default " MS_SNP_TSM_ROOT ")\n"
    "  --snp-device PATH        fallback guest device (default " MS_SNP_GUEST_DEVICE ")\n"
    "  --dev-key FILE           development key (PEM, mode 0600), created on first start\n"
    "                           (default ./minions-dev-attestation.pem); its public half is\n"
    "                           written to FILE.pub: give that file to clients\n"
    "                           (minions-secure --trusted_attestation_pem FILE.pub)\n"
    "  --evidence-ttl S         replace the static key and its evidence this often (default 300)\n"
    "  --strict-rate N          fresh (STRICT) evidence at most N per second on average (default 5);\n"
    "                           over it, STRICT handshakes get 503 with Retry-After; FAST ones never\n"
    "  --strict-burst N         ... and at most N at once after a quiet period (default 10)\n"
    "Logs:\n"
    "  --access-log FILE        one line per request (default: standard error; '-' too);\n"
    "                           never plaintext or keys\n"
    "  --log-level LEVEL        error, warn, info (default) or debug\n"
    "  --audit-log PATH         keep an audit log of sessions (ids, key fingerprints, evidence\n"
    "                           digests, counts, sizes, times; never content), hash-chained and\n"
    "                           sealed at exit (docs/logs.md). PATH is a new file (an existing\n"
    "                           file is refused) or a directory: a new file named by the start\n"
    "                           time is made there, one per start\n"
    "  --audit-key FILE         the Ed25519 key that seals it, created (0600, and FILE.pub) on\n"
    "                           first use (default: minions-supervisor-log-key next to --dev-key)\n"
    "  --help, --version\n"
    "\n"
    "Development mode: dev-key evidence proves that this process holds the dev key. It does\n"
    "NOT prove what host, software or operator runs it. Use TPM or SEV-SNP evidence to have\n"
    "the client check the machine itself.\n"
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM; 2 bad options or configuration;\n"
    "3 cannot listen or start; 4 dev key or audit log key unusable; 5 stopped, but the\n"
    "audit log could not be sealed.\n";

typedef struct opts {
    ms_sup_server_cfg srv;
    const char *port_file;
    size_t max_sessions;
    unsigned long session_ttl_s;
    ms_bridge_cfg bridge;
    const char *key_env;
    const char *evidence;
    const char *tpm_tcti;
    uint32_t tpm_pcrs;
    const char *snp_certs, *snp_tsm, *snp_device;
    const char *dev_key;
    unsigned long evidence_ttl_s;
    unsigned long strict_rate, strict_burst;
    const char *access_log;
    const char *audit_log, *audit_key;
    ms_log_level level;
} opts;

static int parse_ul(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-' || v < lo || v > hi) {
        return 0;
    }
    *out = v;
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

/* SEV-SNP options (numbered apart from the list above). */
enum { O_SNP_CERTS = 400, O_SNP_TSM, O_SNP_DEVICE };

/* "0,1,7" -> bit mask of PCRs 0..23. */
static int parse_pcrs(const char *s, uint32_t *mask)
{
    unsigned long v;
    char item[8];
    *mask = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof item) {
            return 0;
        }
        memcpy(item, s, n);
        item[n] = 0;
        if (!parse_ul(item, 0, 23, &v)) {
            return 0;
        }
        *mask |= 1u << v;
        s += n + (s[n] == ',');
    }
    return *mask != 0;
}

static int apply_num(opts *o, int c, const char *arg)
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
    default: return 0;
    }
}

static int apply(opts *o, int c, const char *arg)
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
    case O_DEVKEY: o->dev_key = arg; return 1;
    case O_ACCESS: o->access_log = arg; return 1;
    case O_AUDIT_LOG: o->audit_log = arg; return 1;
    case O_AUDIT_KEY: o->audit_key = arg; return 1;
    case O_LEVEL: return parse_level(arg, &o->level);
    case O_TCTI: o->tpm_tcti = arg; return 1;
    case O_SNP_CERTS: o->snp_certs = arg; return 1;
    case O_SNP_TSM: o->snp_tsm = arg; return 1;
    case O_SNP_DEVICE: o->snp_device = arg; return 1;
    case O_PCRS: return parse_pcrs(arg, &o->tpm_pcrs);
    default: return apply_num(o, c, arg);
    }
}

/* 0 to run, or the exit status (after printing why). */
static int parse_args(int argc, char **argv, opts *o)
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
        {"strict-rate", 1, 0, O_STRICT_RATE}, {"strict-burst", 1, 0, O_STRICT_BURST},
        {"audit-log", 1, 0, O_AUDIT_LOG}, {"audit-key", 1, 0, O_AUDIT_KEY},
        {0, 0, 0, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == O_HELP) {
            fputs(USAGE, stdout);
            return -1;
        }
        if (c == O_VERSION) {
            puts("minions-supervisor 0.1.0 (channel protocol 1)");
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
    if (!o->bridge.base_url || !o->bridge.model) {
        fprintf(stderr, "minions-supervisor: --backend-url and --backend-model are required\n");
        return EXIT_USAGE;
    }
    if (strcmp(o->evidence, "dev-key") != 0 && strcmp(o->evidence, "tpm2") != 0 &&
        strcmp(o->evidence, "sev-snp") != 0) {
        fprintf(stderr, "minions-supervisor: --evidence %s: want dev-key, tpm2 or sev-snp\n",
                o->evidence);
        return EXIT_USAGE;
    }
    if ((o->snp_certs || o->snp_tsm || o->snp_device) && strcmp(o->evidence, "sev-snp") != 0) {
        fprintf(stderr, "minions-supervisor: --snp-certs, --snp-tsm and --snp-device need "
                        "--evidence sev-snp\n");
        return EXIT_USAGE;
    }
    return 0;
}

static void defaults(opts *o)
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
    o->tpm_pcrs = 0xffu; /* PCRs 0-7: firmware, boot loader and kernel measurements */
    o->dev_key = "minions-dev-attestation.pem";
    o->evidence_ttl_s = 300;
    /* A hardware TPM makes a few quotes a second at best; a queue of them only adds latency. */
    o->strict_rate = 5;
    o->strict_burst = 10;
    o->level = MS_LOG_INFO;
}

static int write_port_file(const char *path, uint16_t port)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        return 0;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return 0;
    }
    int ok = fprintf(f, "%u\n", (unsigned)port) > 0;
    ok &= fclose(f) == 0;
    return ok && rename(tmp, path) == 0;
}

/* The dev key and its public file; prints what it proves and how clients pin it. */
static int load_dev_key(const opts *o, ms_devkey *dev)
{
    int created;
    char pub[PATH_MAX], fp[MS_FINGERPRINT_LEN];
    ms_err e = ms_devkey_load_or_create(o->dev_key, dev, &created);
    if (e != MS_OK) {
        fprintf(stderr, "minions-supervisor: dev key %s: %s\n", o->dev_key, ms_err_str(e));
        return 0;
    }
    if (snprintf(pub, sizeof pub, "%s.pub", o->dev_key) >= (int)sizeof pub ||
        ms_devkey_write_public(pub, dev->pk) != MS_OK) {
        fprintf(stderr, "minions-supervisor: cannot write %s.pub\n", o->dev_key);
        return 0;
    }
    ms_devkey_fingerprint(dev->pk, fp);
    fprintf(stderr,
            "minions-supervisor: DEVELOPMENT MODE: %s dev key %s (%s).\n"
            "  It proves that this process holds the key, NOT what host or software runs it.\n"
            "  Clients pin it with --trusted_attestation_pem %s\n",
            created ? "created" : "loaded", o->dev_key, fp, pub);
    return 1;
}

typedef struct app {
    ms_devkey dev;
    struct ms_tpm2_producer *tpm;
    ms_snp_producer_cfg snp;
    ms_buf snp_vcek, snp_ask; /* --snp-certs, DER */
    ms_evidence_source src;
    ms_identity id;
    ms_sup sup;
    ms_sup_server *srv;
    FILE *access;
    ms_rate strict_rate;
    ms_sup_audit *audit;
} app;

static ms_err tpm_make(void *ctx, const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    return ms_tpm2_producer_quote(ctx, binding, out);
}

/* --evidence tpm2: open the TPM, make the AK, say what clients must pin. */
static int open_tpm(app *a, const opts *o)
{
    ms_tpm2_producer_cfg cfg = {.tcti = o->tpm_tcti, .pcr_mask = o->tpm_pcrs,
                                .hierarchy = MS_TPM2_HIERARCHY_ENDORSEMENT};
    uint8_t name[MS_TPM2_NAME_LEN];
    char hex[2 * MS_TPM2_NAME_LEN + 1];
    size_t n;
    ms_err e = ms_tpm2_producer_new(&a->tpm, &cfg);
    if (e != MS_OK) {
        fprintf(stderr, "minions-supervisor: TPM %s: %s\n", o->tpm_tcti ? o->tpm_tcti : "(default)",
                ms_err_str(e));
        return 0;
    }
    ms_tpm2_producer_ak_name(a->tpm, name);
    if (ms_hex_encode(name, sizeof name, hex, sizeof hex, &n) != MS_OK) {
        hex[0] = 0;
    }
    fprintf(stderr, "minions-supervisor: TPM 2.0 evidence: attestation key name %s\n"
                    "  (clients pin it and the PCR values: minions-secure attest prints a policy)\n",
            hex);
    a->src = (ms_evidence_source){.type = MS_EVIDENCE_TPM2_QUOTE, .can_strict = 1,
                                  .make = tpm_make, .ctx = a->tpm};
    return 1;
}

/* What an SEV-SNP report shows that clients pin: measurement and TCB (from a first report). */
static void say_snp(const ms_buf *ev)
{
    ms_snp_bundle b;
    ms_snp_report r;
    char hex[2 * MS_SNP_MEASUREMENT_LEN + 1];
    size_t n;
    if (ms_snp_bundle_decode(ev->p, ev->len, &b) != MS_OK ||
        ms_snp_report_decode(b.report, MS_SNP_REPORT_LEN, &r) != MS_OK ||
        ms_hex_encode(r.measurement, sizeof r.measurement, hex, sizeof hex, &n) != MS_OK) {
        return;
    }
    fprintf(stderr, "minions-supervisor: SEV-SNP evidence: measurement %s, reported TCB "
                    "bootloader %u tee %u snp %u microcode %u%s\n"
                    "  (clients pin AMD's ARK and the measurement: minions-secure attest prints "
                    "a policy)\n",
            hex, r.reported_tcb.bootloader, r.reported_tcb.tee, r.reported_tcb.snp,
            r.reported_tcb.microcode, b.ask ? "" : "; no ASK: clients' policies must hold it");
}

/* --evidence sev-snp: certificates, the guest interface, and one report now, so that a
   machine without SEV-SNP fails at start-up rather than at the first handshake. */
static int open_snp(app *a, const opts *o)
{
    static const uint8_t probe[MS_BINDING_LEN]; /* all zero: binds nothing */
    const char *root = o->snp_tsm ? o->snp_tsm : MS_SNP_TSM_ROOT;
    const char *dev = o->snp_device ? o->snp_device : MS_SNP_GUEST_DEVICE;
    struct stat st;
    ms_buf ev;
    int have_ask = 0;
    ms_err e = MS_OK;
    a->snp = (ms_snp_producer_cfg){.tsm_root = o->snp_tsm, .guest_device = o->snp_device};
    ms_buf_init(&a->snp_vcek, MS_SNP_MAX_CERT);
    ms_buf_init(&a->snp_ask, MS_SNP_MAX_CERT);
    if (o->snp_certs &&
        (e = ms_snp_certs_dir_load(o->snp_certs, &a->snp_vcek, &a->snp_ask, &have_ask)) != MS_OK) {
        fprintf(stderr, "minions-supervisor: --snp-certs %s: %s (it must hold vcek.der or "
                        "vcek.pem, and may hold ask.der or ask.pem)\n", o->snp_certs, ms_err_str(e));
        return EXIT_USAGE;
    }
    a->snp.vcek_der = a->snp_vcek.len ? a->snp_vcek.p : NULL;
    a->snp.vcek_len = a->snp_vcek.len;
    a->snp.ask_der = have_ask ? a->snp_ask.p : NULL;
    a->snp.ask_len = have_ask ? a->snp_ask.len : 0;
    if (!(stat(root, &st) == 0 && S_ISDIR(st.st_mode)) && stat(dev, &st) != 0) {
        fprintf(stderr, "minions-supervisor: --evidence sev-snp: this machine has no SEV-SNP "
                        "guest interface: neither %s (configfs-tsm) nor %s exists.\n"
                        "  SEV-SNP evidence is made only inside an AMD SEV-SNP confidential VM "
                        "(configfs-tsm: Linux 6.7 or later; else the sev-guest driver).\n",
                root, dev);
        return EXIT_START;
    }
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    e = ms_snp_evidence(&a->snp, probe, &ev);
    if (e == MS_OK) {
        say_snp(&ev);
        ms_evidence_source_snp(&a->src, &a->snp);
    } else {
        fprintf(stderr, "minions-supervisor: --evidence sev-snp: no report: %s%s\n", ms_err_str(e),
                e == MS_ERR_ATTEST_UNAVAILABLE ? " (the host gave no VCEK or ASK: use --snp-certs DIR)"
                                               : "");
    }
    ms_buf_free(&ev);
    return e == MS_OK ? 0 : EXIT_START;
}

/* --audit-log: the key, then a new log whose log_start says what this supervisor is. */
static int open_audit(app *a, const opts *o)
{
    char key[PATH_MAX], fp[MS_FINGERPRINT_LEN];
    ms_sup_audit_cfg cfg = {.path = o->audit_log, .key_path = o->audit_key, .listen = o->srv.listen,
                            .evidence = ms_evidence_type_name(a->src.type),
                            .backend_url = o->bridge.base_url,
                            .development = a->src.type == MS_EVIDENCE_DEV_KEY};
    if (!o->audit_log) {
        return 0;
    }
    if (!cfg.key_path) {
        if (ms_sup_audit_default_key(o->dev_key, key, sizeof key) != MS_OK) {
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

static int start(app *a, opts *o)
{
    uint16_t port;
    ms_err e = ms_identity_init(&a->id, &a->src, o->evidence_ttl_s, ms_now_s());
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
    if (e != MS_OK) {
        fprintf(stderr, "minions-supervisor: cannot serve on %s: %s%s\n", o->srv.listen,
                ms_err_str(e), e == MS_ERR_CONFIG && !o->srv.tls_cert_path
                    ? " (give --tls-cert and --tls-key, or --plain-http on a loopback address)" : "");
        return e == MS_ERR_CONFIG ? EXIT_USAGE : EXIT_START;
    }
    if (o->port_file && !write_port_file(o->port_file, port)) {
        fprintf(stderr, "minions-supervisor: cannot write %s\n", o->port_file);
        return EXIT_START;
    }
    fprintf(stderr, "minions-supervisor: listening on %s (port %u, %s)\n", o->srv.listen,
            (unsigned)port, o->srv.tls_cert_path ? "HTTPS" : "plain HTTP");
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    app a;
    sigset_t set;
    memset(&a, 0, sizeof a);
    defaults(&o);
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    ms_log_set_level(o.level);
    /* Every thread starts with these blocked; main waits for them below. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    a.access = stderr;
    if (o.access_log && strcmp(o.access_log, "-") != 0 && !(a.access = fopen(o.access_log, "a"))) {
        fprintf(stderr, "minions-supervisor: cannot open %s\n", o.access_log);
        return EXIT_USAGE;
    }
    if (strcmp(o.evidence, "tpm2") == 0) {
        if (!open_tpm(&a, &o)) {
            return EXIT_START;
        }
    } else if (strcmp(o.evidence, "sev-snp") == 0) {
        if ((rc = open_snp(&a, &o)) != 0) {
            ms_buf_free(&a.snp_vcek);
            ms_buf_free(&a.snp_ask);
            return rc;
        }
    } else if (load_dev_key(&o, &a.dev)) {
        ms_evidence_source_devkey(&a.src, &a.dev);
    } else {
        return EXIT_KEY;
    }
    rc = open_audit(&a, &o);
    if (rc == 0) {
        rc = start(&a, &o);
    }
    if (rc == 0) {
        int sig;
        sigdelset(&set, SIGPIPE);
        sigwait(&set, &sig);
        fprintf(stderr, "minions-supervisor: stopping (signal %d)\n", sig);
    }
    ms_sup_server_stop(a.srv);
    ms_bridge_free(a.sup.bridge);
    ms_sessions_free(a.sup.sessions); /* the last session_end lines */
    if (a.audit && ms_sup_audit_close(a.audit) != MS_OK) {
        fprintf(stderr, "minions-supervisor: the audit log could not be sealed: it will verify "
                        "as incomplete\n");
        rc = rc ? rc : EXIT_AUDIT;
    }
    if (a.sup.strict_rate) {
        ms_rate_destroy(a.sup.strict_rate);
    }
    ms_identity_destroy(&a.id);
    ms_tpm2_producer_free(a.tpm);
    ms_buf_free(&a.snp_vcek);
    ms_buf_free(&a.snp_ask);
    ms_devkey_wipe(&a.dev);
    if (a.access && a.access != stderr) {
        fclose(a.access);
    }
    return rc;
}

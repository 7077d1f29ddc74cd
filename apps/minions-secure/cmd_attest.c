/* minions-secure attest: what a supervisor proves (and a policy for it); saved evidence offline. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "common/codec.h"
#include "common/digest.h"
#include "common/limits.h"
#include "common/log.h"
#include "secure/attest/devkey.h"
#include "secure/attest/inspect.h"
#include "secure/attest/nvgpu.h"
#include "secure/attest/snp_produce.h"
#include "secure/attest/tdx_produce.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/cmd_attest.h"
#include "apps/minions-secure/cmds.h"
#include "secure/attest/evfile.h"

#define PROG "minions-secure attest"
#define NO_SESSION_WHY "a raw file has no session: give --report-data HEX to check it"

static const char USAGE[] =
    "Usage: minions-secure attest --supervisor_url URL (--attestation-policy FILE |\n"
    "                             --trusted_attestation_pem FILE | --any-evidence)\n"
    "                             [--save FILE] [--json] [connection options]\n"
    "       minions-secure attest --verify FILE (--attestation-policy FILE |\n"
    "                             --any-evidence)\n"
    "                             [--vcek F] [--ask F] [--ark F] [--cert-table F]\n"
    "                             [--tdx-root F] [--tdx-collateral DIR]\n"
    "                             [--gpu-chain F] [--gpu-root F]\n"
    "                             [--report-data HEX] [--at UNIX_SECONDS] [--json]\n"
    "       minions-secure attest measure ...    (SEV-SNP launch digest: see --help)\n"
    "       minions-secure attest enroll-tpm ... (TPM AK enrolment: see --help)\n"
    "\n"
    "Shows what a minions-supervisor proves: its evidence type and mode, validity,\n"
    "for TPM 2.0 the attestation key's name and the quoted PCRs, for SEV-SNP the\n"
    "measurement, TCB, chip id and guest policy; then every check with PASS, FAIL or\n"
    "SKIPPED and why, and the policy (docs/attestation.md) this evidence satisfies,\n"
    "ready to edit. Nothing is sent inside the channel: the session is closed (or,\n"
    "with --any-evidence, abandoned) at once.\n"
    "\n"
    "Live:\n"
    "  --any-evidence               accept ANY evidence type WITHOUT pins, to\n"
    "                               discover what a supervisor proves: NOTHING IS\n"
    "                               TRUSTED. Signatures, chains and the binding are\n"
    "                               still checked where no pin is needed (--ark/--ask\n"
    "                               FILE: check an SEV-SNP chain against them)\n"
    "  --save FILE                  write the evidence and what is needed to check it\n"
    "                               again offline (type, mode, bytes, binding, static\n"
    "                               key, expiry, session, time, URL) as JSON; mode\n"
    "                               0600, never overwrites\n"
    "Offline:\n"
    "  --verify FILE                check saved evidence: what --save wrote, a TPM\n"
    "                               quote bundle or SEV-SNP bundle as a supervisor\n"
    "                               sends it, or an SEV-SNP report (AMD's raw 1184\n"
    "                               bytes, or their hex), an Azure HCL report\n"
    "                               (\"HCLA\", vTPM NV 0x01400001) or az-snp-vtpm\n"
    "                               bundle\n"
    "  --vcek F, --ask F            a raw report's (or HCL report's) VCEK and ASK\n"
    "                               (PEM or DER)\n"
    "  --cert-table F               ... or the GHCB certificate table (configfs-tsm\n"
    "                               auxblob)\n"
    "  --tdx-collateral DIR         a TDX quote's collateral: tcb_info.json,\n"
    "                               qe_identity.json, tcb_signing_chain.pem,\n"
    "                               pck_crl.der, root_crl.der (docs/attest-tdx.md);\n"
    "                               replaces a bundle's own; pck_chain.pem: for a\n"
    "                               quote without its PCK chain\n"
    "  --tdx-root F                 with --any-evidence only: an Intel SGX Root CA to\n"
    "                               check a TDX PCK chain against (NOT pinned; a\n"
    "                               policy pins its own)\n"
    "  --ark F                      with --any-evidence only: an ARK to check the\n"
    "                               chain against (NOT pinned; a policy pins its own)\n"
    "  --gpu-chain F                an NVIDIA GPU report's certificate chain (PEM,\n"
    "                               leaf first): --verify FILE is then the hex of\n"
    "                               its SPDM request||response\n"
    "  --gpu-root F                 with --any-evidence only: an NVIDIA root to check\n"
    "                               GPU chains against (NOT pinned; a policy pins its\n"
    "                               own)\n"
    "  --report-data HEX            the binding a raw file must carry (64 bytes; for\n"
    "                               a TPM quote its first 32 are enough); without it\n"
    "                               that check is SKIPPED: a raw file has no session\n"
    "  --at UNIX_SECONDS            judge a saved file's validity at this time\n"
    "                               (default: now); for TDX also the certificates,\n"
    "                               CRLs and collateral. The file's own captured_at\n"
    "                               is NOT authenticated; to check a past session,\n"
    "                               take the time from its verified log\n"
    "                               (minions-audit verify, then show)\n"
    "Output:\n"
    "  --json                       one JSON object:\n"
    "                               {\"ok\",\"trusted\",\"evidence\",\"checks\",\n"
    "                               \"policy\",...}\n"
    "  --help, --version\n"
    "\n" MS_CLI_CONN_HELP
    "\n"
    "Exit status: 0 every check that ran passed (with --any-evidence: nothing is\n"
    "trusted even then); 2 usage or unreadable files; 3 cannot reach the supervisor;\n"
    "4 a check failed.\n";

typedef struct opts {
    ms_cli_conn conn;
    int any, json;
    const char *save, *verify, *vcek, *ask, *ark, *table, *report_data;
    const char *tdx_root, *tdx_collateral;
    const char *gpu_chain, *gpu_root;
    long at; /* --at: judge validity at this Unix time; 0: now */
} opts;

enum {
    O_ANY = MS_CLI_OPT_OWN_BASE,
    O_SAVE,
    O_JSON,
    O_VERIFY,
    O_VCEK,
    O_ASK,
    O_ARK,
    O_TABLE,
    O_RDATA,
    O_AT,
    O_TDX_ROOT,
    O_TDX_COLLATERAL,
    O_GPU_CHAIN,
    O_GPU_ROOT,
    O_HELP,
    O_VERSION
};

/* One run: the options, what was loaded, and what is shown. */
typedef struct run {
    opts o;
    ms_buf ark, ask, vcek, table, bundle;
    ms_snp_policy roots; /* --any-evidence: --ark/--ask, NOT pinned */
    int have_roots;
    ms_buf tdx_root, tdx_bundle; /* --tdx-root (DER); a raw quote with its collateral */
    ms_tdx_files tdx_files;      /* --tdx-collateral */
    ms_tdx_policy tdx_roots;     /* --any-evidence: --tdx-root, NOT pinned */
    char tdx_root_abs[PATH_MAX], tdx_collateral_abs[PATH_MAX];
    uint8_t report_data[MS_BINDING_LEN];
    int have_report_data;
    char ark_abs[PATH_MAX], ask_abs[PATH_MAX], pub_abs[PATH_MAX];
    ms_buf nv_root;               /* --gpu-root, DER: NOT pinned */
    char nv_root_abs[PATH_MAX];
    uint8_t ark_sha256[MS_SHA256_LEN];
    /* --any-evidence live: what the handshake's verifier saw */
    ms_inspect ins;
    int inspected;
    ms_err verdict;
    ms_evidence_view seen; /* facts only: its pointers are not kept */
    uint8_t seen_static_pk[MS_X25519_LEN], seen_sid[MS_SESSION_ID_LEN];
    /* --verify of a bare Azure HCL report: its certificates (borrowed from vcek/ask/table) */
    const uint8_t *az_vcek, *az_ask;
    size_t az_vcek_len, az_ask_len;
} run;

static int apply(void *ctx, int c, const char *arg)
{
    opts *o = ctx;
    switch (c) {
    case O_ANY: o->any = 1; return 1;
    case O_SAVE: o->save = arg; return 1;
    case O_JSON: o->json = 1; return 1;
    case O_VERIFY: o->verify = arg; return 1;
    case O_VCEK: o->vcek = arg; return 1;
    case O_ASK: o->ask = arg; return 1;
    case O_ARK: o->ark = arg; return 1;
    case O_TABLE: o->table = arg; return 1;
    case O_RDATA: o->report_data = arg; return 1;
    case O_AT: return ms_cli_parse_long(arg, 1, 253402300799L, &o->at);
    case O_TDX_ROOT: o->tdx_root = arg; return 1;
    case O_TDX_COLLATERAL: o->tdx_collateral = arg; return 1;
    case O_GPU_CHAIN: o->gpu_chain = arg; return 1;
    case O_GPU_ROOT: o->gpu_root = arg; return 1;
    default: return ms_cli_conn_apply(&o->conn, c, arg) == 1;
    }
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "%s: %s. Try 'minions-secure attest --help'.\n", PROG, msg);
    return MS_CLI_USAGE;
}

/* The combinations that make sense; anything else is refused before any work. */
static int check_combination(const opts *o)
{
    const ms_cli_conn *c = &o->conn;
    int pinned = c->policy_file || c->pin_file;
    if (o->any && pinned) {
        return usage_error("--any-evidence pins nothing: it cannot be combined with "
                           "--attestation-policy or --trusted_attestation_pem");
    }
    if (!o->any && !pinned) {
        return usage_error("give --attestation-policy FILE, --trusted_attestation_pem FILE or "
                           "--any-evidence (trusts nothing)");
    }
    if (o->ark && !o->any) {
        return usage_error("--ark is for --any-evidence: a policy pins its own ARK");
    }
    if (o->tdx_root && !o->any) {
        return usage_error("--tdx-root is for --any-evidence: a policy pins its own root");
    }
    if (o->tdx_collateral && !o->verify) {
        return usage_error("--tdx-collateral is for --verify");
    }
    if (o->gpu_root && !o->any) {
        return usage_error("--gpu-root is for --any-evidence: a policy pins its own NVIDIA root");
    }
    if (o->gpu_chain && !o->verify) {
        return usage_error("--gpu-chain is for --verify");
    }
    if (o->verify) {
        if (c->url || o->save) {
            return usage_error("--verify checks a file offline: drop --supervisor_url and --save");
        }
        return MS_CLI_OK;
    }
    if (!c->url) {
        return usage_error("--supervisor_url (or --verify FILE) is required");
    }
    if (o->vcek || o->table || o->report_data || o->at) {
        return usage_error("--vcek, --cert-table, --report-data and --at are for --verify");
    }
    if (o->ask && !o->any) {
        return usage_error("--ask is for --verify or --any-evidence: a policy names its own ASK");
    }
    return MS_CLI_OK;
}

/* 0 to run, -1 after --help/--version, else the exit status (after saying why). */
static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option own[] = {
        {"any-evidence", 0, 0, O_ANY}, {"save", 1, 0, O_SAVE},     {"json", 0, 0, O_JSON},
        {"verify", 1, 0, O_VERIFY},    {"vcek", 1, 0, O_VCEK},     {"ask", 1, 0, O_ASK},
        {"ark", 1, 0, O_ARK},          {"cert-table", 1, 0, O_TABLE},
        {"report-data", 1, 0, O_RDATA}, {"at", 1, 0, O_AT},
        {"tdx-root", 1, 0, O_TDX_ROOT}, {"tdx-collateral", 1, 0, O_TDX_COLLATERAL},
        {"gpu-chain", 1, 0, O_GPU_CHAIN}, {"gpu-root", 1, 0, O_GPU_ROOT},
        {"help", 0, 0, O_HELP},   {"version", 0, 0, O_VERSION},
        {0, 0, 0, 0}};
    static const char *const help[] = {USAGE, NULL};
    ms_cli_parser p = {.prog = PROG, .own = own, .opt_help = O_HELP, .opt_version = O_VERSION,
                       .help = help, .apply = apply, .ctx = o};
    int code = ms_cli_getopt(&p, argc, argv);
    if (code != 0) {
        return code;
    }
    return check_combination(o);
}

/* --- certificates and other files ---------------------------------------------------------- */

static int read_cert(const char *flag, const char *path, ms_buf *der)
{
    ms_err e = ms_snp_cert_file_der(path, der);
    if (e != MS_OK) {
        fprintf(stderr, "%s: %s %s: %s\n", PROG, flag, path, ms_err_str(e));
        return 0;
    }
    return 1;
}

/* The policy suggestion names files relative to the policy's folder: give absolute paths. */
static void absolute(const char *path, char out[static PATH_MAX])
{
    char cwd[PATH_MAX];
    int n = path[0] != '/' && getcwd(cwd, sizeof cwd) ? snprintf(out, PATH_MAX, "%s/%s", cwd, path)
                                                       : -1;
    if (n < 0 || n >= PATH_MAX) {
        snprintf(out, PATH_MAX, "%s", path);
    }
}

/* --ark / --ask for --any-evidence: roots to check a chain against, shown as NOT pinned. */
static int load_roots(run *r)
{
    if (r->o.ark && !read_cert("--ark", r->o.ark, &r->ark)) {
        return 0;
    }
    if (r->o.ask && !read_cert("--ask", r->o.ask, &r->ask)) {
        return 0;
    }
    if (r->o.ark) {
        absolute(r->o.ark, r->ark_abs);
    }
    if (r->o.ask) {
        absolute(r->o.ask, r->ask_abs);
    }
    r->roots.ark_der = r->ark.len ? r->ark.p : NULL;
    r->roots.ark_len = r->ark.len;
    r->roots.ask_der = r->ask.len ? r->ask.p : NULL;
    r->roots.ask_len = r->ask.len;
    r->have_roots = r->o.any;
    if (r->o.tdx_root) {
        if (!read_cert("--tdx-root", r->o.tdx_root, &r->tdx_root)) {
            return 0;
        }
        absolute(r->o.tdx_root, r->tdx_root_abs);
        r->tdx_roots.root_der = r->tdx_root.p;
        r->tdx_roots.root_len = r->tdx_root.len;
    }
    if (r->o.tdx_collateral) {
        ms_err e = ms_tdx_files_load(&r->tdx_files, r->o.tdx_collateral);
        if (e != MS_OK) {
            fprintf(stderr, "%s: --tdx-collateral %s: %s\n", PROG, r->o.tdx_collateral,
                    ms_err_str(e));
            return 0;
        }
        absolute(r->o.tdx_collateral, r->tdx_collateral_abs);
    }
    if (r->o.gpu_root) {
        if (!read_cert("--gpu-root", r->o.gpu_root, &r->nv_root)) {
            return 0;
        }
        absolute(r->o.gpu_root, r->nv_root_abs);
    }
    return 1;
}

static int parse_report_data(run *r)
{
    size_t n = 0;
    const char *s = r->o.report_data;
    size_t len = s ? strlen(s) : 0;
    if (!s) {
        return 1;
    }
    if ((len != 2 * MS_BINDING_LEN && len != 2 * MS_TPM2_NONCE_LEN) ||
        ms_hex_decode(s, len, r->report_data, sizeof r->report_data, &n) != MS_OK) {
        fprintf(stderr, "%s: --report-data: want 128 hex digits (64 bytes) or, for a TPM quote, "
                        "64 (its 32 bytes of extraData)\n", PROG);
        return 0;
    }
    r->have_report_data = 1;
    return 1;
}

/* --- showing ------------------------------------------------------------------------------- */

static int show(run *r, attest_shown *s)
{
    s->any = r->o.any;
    s->ark_path = r->ark_abs[0] ? r->ark_abs : NULL;
    s->ask_path = r->ask_abs[0] ? r->ask_abs : NULL;
    if (r->o.conn.pin_file) {
        absolute(r->o.conn.pin_file, r->pub_abs);
        s->dev_pub_path = r->pub_abs;
    }
    if (r->o.any && r->roots.ark_der && s->ins->type == MS_EVIDENCE_SEV_SNP) {
        ms_sha256(r->roots.ark_der, r->roots.ark_len, r->ark_sha256);
        s->ark_sha256 = r->ark_sha256;
    }
    s->now = (uint64_t)time(NULL);
    s->tdx_root_path = r->tdx_root_abs[0] ? r->tdx_root_abs : NULL;
    s->tdx_collateral_path = r->tdx_collateral_abs[0] ? r->tdx_collateral_abs : NULL;
    s->nv_root_path = r->nv_root_abs[0] ? r->nv_root_abs : NULL;
    if (r->o.json) {
        ms_err e = attest_show_json(s, stdout);
        if (e != MS_OK) {
            fprintf(stderr, "%s: cannot print the JSON result: %s\n", PROG, ms_err_str(e));
            return MS_CLI_VERIFY;
        }
    } else {
        attest_show_text(s, stdout);
    }
    return s->verdict == MS_OK ? MS_CLI_OK : MS_CLI_VERIFY;
}

static void warn_untrusted(const run *r)
{
    if (r->o.any) {
        fprintf(stderr, "%s: WARNING: --any-evidence: NOTHING IS TRUSTED. Whatever the "
                        "evidence claims is shown, checked only where no pin is needed.\n",
                PROG);
    }
}

/* --- live ---------------------------------------------------------------------------------- */

/* --any-evidence: the handshake's verifier. Inspects without pins; fails closed on a failure. */
static ms_err discover(void *ctx, const ms_evidence_view *ev)
{
    run *r = ctx;
    ms_inspect_in in = {.type = ev->type, .data = ev->data, .len = ev->len, .have_session = 1,
                        .mode = ev->mode, .not_after = ev->not_after, .at = ev->now,
                        .static_pk = ev->static_pk, .binding = ev->binding, .binding_live = 1,
                        .policy = NULL, .snp_roots = r->have_roots ? &r->roots : NULL,
                        .tdx_roots = r->have_roots ? &r->tdx_roots : NULL,
                        .nv_root_der = r->nv_root.len ? r->nv_root.p : NULL,
                        .nv_root_len = r->nv_root.len};
    r->verdict = ms_attest_inspect(&in, &r->ins);
    r->inspected = 1;
    r->seen = *ev;
    memcpy(r->seen_static_pk, ev->static_pk, MS_X25519_LEN);
    memcpy(r->seen_sid, ev->session_id, MS_SESSION_ID_LEN);
    return r->verdict;
}

/* Connect with every pin in the options (the usual verifier), or with `discover`. */
static int connect_live(run *r)
{
    ms_cli_conn *c = &r->o.conn;
    ms_err e;
    if (!r->o.any) {
        return ms_cli_conn_open(c, PROG, 0, &e);
    }
    ms_attest_policy *p = &c->policy;
    p->accept[0] = MS_EVIDENCE_TPM2_QUOTE;
    p->accept[1] = MS_EVIDENCE_SEV_SNP;
    p->accept[2] = MS_EVIDENCE_DEV_KEY;
    p->accept[3] = MS_EVIDENCE_TDX;
    p->accept[4] = MS_EVIDENCE_AZ_SNP_VTPM;
    p->accept[5] = MS_EVIDENCE_NVIDIA_GPU;
    p->accept[6] = MS_EVIDENCE_COMPOSITE;
    p->accept[7] = MS_EVIDENCE_AZ_TDX_VTPM;
    p->n_accept = 8;
    ms_devkey id; /* --identity, for a supervisor with an allow-list */
    if (ms_cli_load_identity(c, PROG, &id, &e) != MS_CLI_OK) {
        return MS_CLI_USAGE;
    }
    ms_client_cfg cfg = {.url = c->url, .cacert = c->cacert, .allow_http = c->allow_http,
                         .allow_tls_proxy = c->allow_tls_proxy, .policy = p,
                         .strict = c->strict, .timeout_ms = c->timeout_s * 1000,
                         .verify = discover, .verify_ctx = r,
                         .client_id_sk = c->identity_file ? id.sk : NULL};
    e = ms_client_new(&c->client, &cfg);
    ms_devkey_wipe(&id);
    if (e == MS_OK) {
        e = ms_client_connect(c->client);
    }
    if (e == MS_OK) {
        return MS_CLI_OK;
    }
    int code = ms_client_exit_code(e, 1);
    if (!(r->inspected && r->verdict != MS_OK)) { /* that one is shown check by check */
        ms_cli_say_error(c, PROG, e, code, NULL);
    }
    return code;
}

static int save(run *r, const ms_evidence_view *ev)
{
    ms_buf js;
    ms_buf_init(&js, MS_MAX_EVIDENCE_FILE);
    ms_err e = ms_evfile_json(ev, r->o.conn.url, r->o.any, &js);
    if (e == MS_OK) {
        e = ms_evfile_write(r->o.save, js.p, js.len);
    }
    ms_buf_free(&js);
    if (e != MS_OK) {
        fprintf(stderr, "%s: --save %s: %s%s\n", PROG, r->o.save, ms_err_str(e),
                e == MS_ERR_FILE_OPEN ? " (it must not exist yet: it is never overwritten)" : "");
        return MS_CLI_USAGE;
    }
    fprintf(stderr, "%s: evidence saved to %s (check it with --verify %s)\n", PROG, r->o.save,
            r->o.save);
    return MS_CLI_OK;
}

/* After a failed --any-evidence handshake: show what the checks found, nothing else. */
static int show_refused(run *r)
{
    attest_shown s = {.source = r->o.conn.url, .live = 1, .have_session = 1,
                      .mode = r->seen.mode, .not_after = r->seen.not_after, .at = r->seen.now,
                      .static_pk = r->seen_static_pk, .ins = &r->ins, .verdict = r->verdict};
    show(r, &s);
    fprintf(stderr, "%s: the evidence failed a check; the handshake was abandoned\n", PROG);
    return MS_CLI_VERIFY;
}

static int run_live(run *r)
{
    ms_evidence_view ev;
    ms_cli_conn *c = &r->o.conn;
    warn_untrusted(r);
    int code = connect_live(r);
    if (code != MS_CLI_OK) {
        return r->inspected && r->verdict != MS_OK ? show_refused(r) : code;
    }
    ms_err e = ms_client_evidence(c->client, &ev);
    if (e != MS_OK) {
        fprintf(stderr, "%s: %s\n", PROG, ms_err_str(e));
        return MS_CLI_VERIFY;
    }
    if (!r->o.any) { /* the policy's verifier accepted it: now every check, for the record */
        ms_inspect_in in = {.type = ev.type, .data = ev.data, .len = ev.len, .have_session = 1,
                            .mode = ev.mode, .not_after = ev.not_after, .at = ev.now,
                            .static_pk = ev.static_pk, .binding = ev.binding, .binding_live = 1,
                            .policy = &c->policy};
        r->verdict = ms_attest_inspect(&in, &r->ins);
    }
    attest_shown s = {.source = c->url, .live = 1, .have_session = 1, .mode = ev.mode,
                      .not_after = ev.not_after, .at = ev.now, .static_pk = ev.static_pk,
                      .session_id = ev.session_id, .ins = &r->ins, .verdict = r->verdict,
                      .show_policy = 1};
    code = show(r, &s);
    if (code == MS_CLI_OK && r->o.save) {
        code = save(r, &ev);
    }
    return code;
}

/* --- offline ------------------------------------------------------------------------------- */

/*
 * A raw SEV-SNP or bare Azure HCL report's VCEK and ASK: --vcek / --ask (read by load_roots),
 * else those of --cert-table, whose ARK --any-evidence shows (NOT pinned). Either may be NULL
 * (length 0); the table stays in r->table. 0 on error (printed).
 */
static int report_certs(run *r, const uint8_t **vcek, size_t *vcek_len, const uint8_t **ask,
                        size_t *ask_len)
{
    ms_snp_certs t;
    memset(&t, 0, sizeof t);
    if (r->o.table) {
        ms_err e = ms_file_read(r->o.table, MS_SNP_MAX_CERT_TABLE, &r->table);
        if (e == MS_OK) {
            e = ms_snp_cert_table_parse(r->table.p, r->table.len, &t);
        }
        if (e != MS_OK) {
            fprintf(stderr, "%s: --cert-table %s: %s\n", PROG, r->o.table, ms_err_str(e));
            return 0;
        }
    }
    if ((r->o.vcek && !read_cert("--vcek", r->o.vcek, &r->vcek)) ||
        (r->o.ask && !r->ask.len && !read_cert("--ask", r->o.ask, &r->ask))) {
        return 0;
    }
    *vcek = r->vcek.len ? r->vcek.p : t.vcek;
    *vcek_len = r->vcek.len ? r->vcek.len : t.vcek_len;
    *ask = r->ask.len ? r->ask.p : t.ask;
    *ask_len = r->ask.len ? r->ask.len : t.ask_len;
    if (r->o.any && !r->roots.ark_der && t.ark) { /* the table's ARK: shown, NOT pinned */
        r->roots.ark_der = t.ark;
        r->roots.ark_len = t.ark_len;
    }
    return 1;
}

/* A raw report and its certificates (report_certs) as a bundle. */
static int bundle_report(run *r, const ms_evfile *f)
{
    const uint8_t *vcek, *ask;
    size_t vcek_len, ask_len;
    if (!report_certs(r, &vcek, &vcek_len, &ask, &ask_len)) {
        return 0;
    }
    if (!vcek) {
        fprintf(stderr, "%s: a raw SEV-SNP report needs its VCEK: --vcek FILE or --cert-table "
                        "FILE\n", PROG);
        return 0;
    }
    ms_err e = ms_snp_bundle_encode(f->evidence.p, vcek, vcek_len, ask, ask_len, &r->bundle);
    if (e != MS_OK) {
        fprintf(stderr, "%s: cannot assemble the report with its certificates: %s\n", PROG,
                ms_err_str(e));
    }
    return e == MS_OK;
}

/*
 * A TDX quote (raw, as configfs-tsm returns it, or a bundle's) with --tdx-collateral as a
 * bundle. Zero padding after a raw quote is dropped with a notice; anything else after it
 * stays, so that the format check fails on it.
 */
static int bundle_tdx(run *r, const ms_evfile *f)
{
    ms_tdx_bundle b;
    memset(&b, 0, sizeof b);
    if (f->form == MS_EVFILE_TDX_BUNDLE) {
        if (!r->o.tdx_collateral) {
            return 1; /* checked as it came */
        }
        if (ms_tdx_bundle_decode(f->evidence.p, f->evidence.len, &b) != MS_OK) {
            return 1; /* the format check says so */
        }
    } else {
        size_t qlen, pad;
        b.quote = f->evidence.p;
        b.quote_len = f->evidence.len;
        if (ms_tdx_quote_unpad(f->evidence.p, f->evidence.len, &qlen, &pad) == MS_OK && pad > 0) {
            fprintf(stderr, "%s: notice: %s: %zu zero bytes after the %zu-byte quote ignored "
                            "(configfs-tsm's buffer padding)\n", PROG, r->o.verify, pad, qlen);
            b.quote_len = qlen;
        }
        if (b.quote_len > MS_TDX_MAX_QUOTE) {
            fprintf(stderr, "%s: --verify %s: a TDX quote of at most %u bytes\n", PROG,
                    r->o.verify, MS_TDX_MAX_QUOTE);
            return 0;
        }
    }
    if (r->o.tdx_collateral) {
        ms_tdx_files_view(&r->tdx_files, &b.collateral, &b.pck_crl, &b.pck_crl_len);
    }
    ms_err e = ms_tdx_bundle_encode(&b, &r->tdx_bundle);
    if (e != MS_OK) {
        fprintf(stderr, "%s: cannot assemble the quote with its collateral: %s\n", PROG,
                ms_err_str(e));
    }
    return e == MS_OK;
}

/* A GPU report in hex and its chain (--gpu-chain) as nvidia-gpu evidence of one GPU. */
static int nvgpu_assemble(run *r, const ms_evfile *f)
{
    ms_buf pem, ders;
    ms_nvgpu_item it;
    size_t off[MS_NVGPU_MAX_CHAIN], lens[MS_NVGPU_MAX_CHAIN];
    if (!r->o.gpu_chain) {
        fprintf(stderr, "%s: an NVIDIA GPU report needs its certificate chain: --gpu-chain FILE\n",
                PROG);
        return 0;
    }
    memset(&it, 0, sizeof it);
    ms_buf_init(&pem, MS_NVGPU_MAX_CHAIN * 2u * MS_NVGPU_MAX_CERT);
    ms_buf_init(&ders, MS_NVGPU_MAX_CHAIN * MS_NVGPU_MAX_CERT);
    ms_err e = ms_file_read(r->o.gpu_chain, MS_NVGPU_MAX_CHAIN * 2u * MS_NVGPU_MAX_CERT, &pem);
    if (e == MS_OK) {
        e = ms_nvgpu_pem_chain(pem.p, pem.len, &ders, off, lens, &it.n_certs);
    }
    if (e == MS_OK) {
        it.report = f->evidence.p;
        it.report_len = f->evidence.len;
        for (size_t i = 0; i < it.n_certs; i++) {
            it.cert[i] = ders.p + off[i];
            it.cert_len[i] = lens[i];
        }
        ms_buf item;
        ms_buf_init(&item, MS_NVGPU_MAX_ITEM);
        e = ms_nvgpu_item_encode(&it, &item);
        if (e == MS_OK) {
            e = ms_nvgpu_evidence_begin(1, &r->bundle);
        }
        if (e == MS_OK) {
            e = ms_nvgpu_evidence_add(item.p, item.len, &r->bundle);
        }
        ms_buf_free(&item);
    }
    ms_buf_free(&pem);
    ms_buf_free(&ders);
    if (e != MS_OK) {
        fprintf(stderr, "%s: --gpu-chain %s: %s\n", PROG, r->o.gpu_chain, ms_err_str(e));
    }
    return e == MS_OK;
}

/* A bare Azure HCL report's VCEK and ASK (report_certs); optional. */
static int az_certs(run *r)
{
    return report_certs(r, &r->az_vcek, &r->az_vcek_len, &r->az_ask, &r->az_ask_len);
}

static int load_file(run *r, ms_evfile *f)
{
    ms_buf text;
    ms_buf_init(&text, MS_MAX_EVIDENCE_FILE);
    ms_err e = ms_file_read(r->o.verify, MS_MAX_EVIDENCE_FILE, &text);
    if (e == MS_OK) {
        e = ms_evfile_parse(text.p, text.len, f);
    }
    ms_buf_free(&text);
    if (e != MS_OK) {
        fprintf(stderr, "%s: --verify %s: %s%s%s\n", PROG, r->o.verify, ms_err_str(e),
                f->why[0] ? ": " : "", f->why);
        return 0;
    }
    int raw_report = f->form == MS_EVFILE_SNP_REPORT || f->form == MS_EVFILE_SNP_REPORT_HEX;
    int az_hcl = f->form == MS_EVFILE_AZ_HCL;
    if (!raw_report && !az_hcl && (r->o.vcek || r->o.table)) {
        fprintf(stderr, "%s: --vcek and --cert-table are for a raw SEV-SNP report; %s carries "
                        "its certificates\n", PROG, r->o.verify);
        return 0;
    }
    if (f->form == MS_EVFILE_SAVED && r->o.report_data) {
        fprintf(stderr, "%s: --report-data is for raw files: %s carries its binding\n", PROG,
                r->o.verify);
        return 0;
    }
    int tdx = f->form == MS_EVFILE_TDX_QUOTE || f->form == MS_EVFILE_TDX_BUNDLE;
    if (!tdx && r->o.tdx_collateral) {
        fprintf(stderr, "%s: --tdx-collateral is for a TDX quote or bundle\n", PROG);
        return 0;
    }
    if (f->form == MS_EVFILE_NVGPU_REPORT_HEX) {
        return nvgpu_assemble(r, f);
    }
    if (r->o.gpu_chain) {
        fprintf(stderr, "%s: --gpu-chain is for an NVIDIA GPU report in hex; %s is not one\n",
                PROG, r->o.verify);
        return 0;
    }
    return raw_report ? bundle_report(r, f)
           : tdx      ? bundle_tdx(r, f)
           : az_hcl   ? az_certs(r)
                      : 1;
}

static int run_offline(run *r)
{
    ms_evfile f;
    ms_err e;
    int code = MS_CLI_USAGE;
    warn_untrusted(r);
    ms_evfile_init(&f);
    if (!r->o.any && ms_cli_conn_load_policy(&r->o.conn, PROG, &e) != MS_CLI_OK) {
        goto out;
    }
    if (!load_file(r, &f)) {
        goto out;
    }
    const ms_buf *ev = r->bundle.len       ? &r->bundle
                       : r->tdx_bundle.len ? &r->tdx_bundle
                                           : &f.evidence;
    /* Validity is judged now (or --at), never at the file's captured_at: nothing signs that. */
    uint64_t check_at = r->o.at > 0 ? (uint64_t)r->o.at : (uint64_t)time(NULL);
    int saved = f.form == MS_EVFILE_SAVED;
    ms_inspect_in in = {.type = f.type, .data = ev->p, .len = ev->len,
                        .have_session = f.have_session, .mode = f.mode,
                        .not_after = f.not_after, .at = check_at,
                        .static_pk = saved ? f.static_pk : NULL,
                        .binding = saved ? f.binding : r->have_report_data ? r->report_data : NULL,
                        .binding_why = NO_SESSION_WHY,
                        .policy = r->o.any ? NULL : &r->o.conn.policy,
                        .snp_roots = r->have_roots ? &r->roots : NULL,
                        .tdx_roots = r->have_roots ? &r->tdx_roots : NULL,
                        .az_vcek = r->az_vcek, .az_vcek_len = r->az_vcek_len,
                        .az_ask = r->az_ask, .az_ask_len = r->az_ask_len,
                        .nv_root_der = r->nv_root.len ? r->nv_root.p : NULL,
                        .nv_root_len = r->nv_root.len,
                        .tdx_pck_chain = r->tdx_files.pck_chain.len ? r->tdx_files.pck_chain.p
                                                                    : NULL,
                        .tdx_pck_chain_len = r->tdx_files.pck_chain.len};
    r->tdx_roots.at = check_at;
    r->verdict = ms_attest_inspect(&in, &r->ins);
    attest_shown s = {.source = r->o.verify, .have_session = f.have_session, .mode = f.mode,
                      .not_after = f.not_after, .at = f.captured_at,
                      .static_pk = saved ? f.static_pk : NULL,
                      .session_id = saved ? f.session_id : NULL, .ins = &r->ins,
                      .verdict = r->verdict, .show_policy = r->o.any};
    if (saved && !r->o.json) {
        printf("saved from %s%s\n", f.url,
               f.any_evidence ? " with --any-evidence (nothing was pinned then)" : "");
    }
    code = show(r, &s);
out:
    ms_evfile_free(&f);
    return code;
}

/* --- the command --------------------------------------------------------------------------- */

static void run_init(run *r)
{
    memset(r, 0, sizeof *r);
    ms_cli_conn_init(&r->o.conn);
    ms_buf_init(&r->ark, MS_SNP_MAX_CERT);
    ms_buf_init(&r->ask, MS_SNP_MAX_CERT);
    ms_buf_init(&r->vcek, MS_SNP_MAX_CERT);
    ms_buf_init(&r->table, MS_SNP_MAX_CERT_TABLE);
    ms_buf_init(&r->bundle, MS_SNP_MAX_BUNDLE);
    ms_buf_init(&r->tdx_root, MS_SNP_MAX_CERT);
    ms_buf_init(&r->tdx_bundle, MS_MAX_EVIDENCE);
    ms_tdx_files_init(&r->tdx_files);
    ms_buf_init(&r->nv_root, MS_SNP_MAX_CERT);
}

static void run_free(run *r)
{
    if (r->o.any && r->o.conn.client) {
        /* Never finish this session: no ClientFinish, no CLOSE, nothing inside the channel.
           The supervisor drops the pending session by itself (docs/supervisor.md). */
        ms_client_free(r->o.conn.client);
        r->o.conn.client = NULL;
    }
    ms_cli_conn_free(&r->o.conn);
    ms_buf_free(&r->ark);
    ms_buf_free(&r->ask);
    ms_buf_free(&r->vcek);
    ms_buf_free(&r->table);
    ms_buf_free(&r->bundle);
    ms_buf_free(&r->tdx_root);
    ms_buf_free(&r->tdx_bundle);
    ms_tdx_files_free(&r->tdx_files);
    ms_buf_free(&r->nv_root);
}

int ms_cmd_attest(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "measure") == 0) {
        return ms_cmd_attest_measure(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "enroll-tpm") == 0) {
        return ms_cmd_attest_enroll_tpm(argc - 1, argv + 1);
    }
    run *r = malloc(sizeof *r); /* several KiB of reports and buffers: not on the stack */
    if (!r) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return MS_CLI_USAGE;
    }
    run_init(r);
    int code = parse_args(argc, argv, &r->o);
    if (code == 0) {
        ms_log_set_level(r->o.conn.verbose ? MS_LOG_DEBUG : MS_LOG_INFO);
        code = load_roots(r) && parse_report_data(r) ? 0 : MS_CLI_USAGE;
    }
    if (code == 0) {
        code = r->o.verify ? run_offline(r) : run_live(r);
    }
    run_free(r);
    free(r);
    return code < 0 ? MS_CLI_OK : code;
}

/* minions-secure attest enroll-tpm: the operator's side of a TPM AK enrolment (docs/attest-tpm2.md §7). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/cmds.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/attest/tpm2_enrol.h"

#define PROG "minions-secure attest enroll-tpm"

static const char USAGE[] =
    "Usage: minions-secure attest enroll-tpm --request FILE --ek-roots FILE\n"
    "           --ak-ca-key FILE --ak-ca-cert FILE\n"
    "           (--challenge-out FILE | --response FILE --cert-out FILE [--days N])\n"
    "\n"
    "Enrols a supervisor's TPM attestation key (AK) so that clients can pin the AK CA\n"
    "(policy tpm2.ak_ca_pem) instead of one AK name (docs/attest-tpm2.md §7):\n"
    "  1. on the supervisor host: minions-supervisor --tpm-enrol-request REQ\n"
    "  2. here: --request REQ ... --challenge-out CH checks that the TPM's EK\n"
    "     certificate chains to --ek-roots and makes a credential only that TPM can\n"
    "     recover, and only for that AK\n"
    "  3. on the supervisor host: minions-supervisor --tpm-activate CH\n"
    "     --tpm-activate-out RESP (TPM2_ActivateCredential)\n"
    "  4. here: --request REQ ... --response RESP --cert-out AK.der issues the AK\n"
    "     certificate, signed by --ak-ca-key, if RESP is the credential\n"
    "  5. the supervisor serves it: --tpm-ak-cert AK.der\n"
    "Nothing is kept between steps 2 and 4: the credential is derived from the CA key\n"
    "and the request.\n"
    "\n"
    "  --request FILE      the supervisor's enrolment request\n"
    "  --ek-roots FILE     PEM: the TPM maker's root and intermediate certificates\n"
    "  --ak-ca-key FILE    PEM private key of the AK CA (EC, RSA or Ed25519)\n"
    "  --ak-ca-cert FILE   PEM certificate of the AK CA: what clients pin\n"
    "  --challenge-out F   write the challenge to F (a new file)\n"
    "  --response FILE     what --tpm-activate wrote\n"
    "  --cert-out FILE     write the AK certificate (DER, a new file)\n"
    "  --days N            the AK certificate's validity (default 365)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 done; 2 usage or unreadable files; 4 a check failed (the EK\n"
    "chain, the AK, or the response is not the credential).\n";

typedef struct opts {
    const char *request, *roots, *ca_key, *ca_cert, *challenge_out, *response, *cert_out;
    long days;
} opts;

enum { O_REQ = MS_CLI_OPT_OWN_BASE, O_ROOTS, O_KEY, O_CERT, O_CH, O_RESP, O_OUT, O_DAYS,
       O_HELP, O_VERSION };

static int apply(void *ctx, int c, const char *arg)
{
    opts *o = ctx;
    switch (c) {
    case O_REQ: o->request = arg; return 1;
    case O_ROOTS: o->roots = arg; return 1;
    case O_KEY: o->ca_key = arg; return 1;
    case O_CERT: o->ca_cert = arg; return 1;
    case O_CH: o->challenge_out = arg; return 1;
    case O_RESP: o->response = arg; return 1;
    case O_OUT: o->cert_out = arg; return 1;
    case O_DAYS: return ms_cli_parse_long(arg, 1, 36500, &o->days);
    default: return 0; /* no connection options: nothing is contacted */
    }
}

static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option own[] = {
        {"request", 1, 0, O_REQ},     {"ek-roots", 1, 0, O_ROOTS},  {"ak-ca-key", 1, 0, O_KEY},
        {"ak-ca-cert", 1, 0, O_CERT}, {"challenge-out", 1, 0, O_CH}, {"response", 1, 0, O_RESP},
        {"cert-out", 1, 0, O_OUT},    {"days", 1, 0, O_DAYS},        {"help", 0, 0, O_HELP},
        {"version", 0, 0, O_VERSION}, {0, 0, 0, 0}};
    static const char *const help[] = {USAGE, NULL};
    ms_cli_parser p = {.prog = PROG, .own = own, .opt_help = O_HELP, .opt_version = O_VERSION,
                       .help = help, .apply = apply, .ctx = o};
    int code = ms_cli_getopt(&p, argc, argv);
    if (code != 0) {
        return code;
    }
    int issue = o->response || o->cert_out;
    if (!o->request || !o->roots || !o->ca_key || !o->ca_cert ||
        (issue ? !(o->response && o->cert_out) || o->challenge_out : !o->challenge_out)) {
        fprintf(stderr, "%s: give --request, --ek-roots, --ak-ca-key, --ak-ca-cert and either "
                        "--challenge-out or --response with --cert-out. Try '%s --help'.\n",
                PROG, PROG);
        return MS_CLI_USAGE;
    }
    return 0;
}

/* The files every step reads. */
typedef struct inputs {
    ms_buf req, roots, key, cert, resp;
} inputs;

static int read_file(const char *flag, const char *path, size_t max, ms_buf *out)
{
    ms_err e = ms_file_read(path, max, out);
    if (e != MS_OK) {
        fprintf(stderr, "%s: %s %s: %s\n", PROG, flag, path, ms_err_str(e));
        return 0;
    }
    return 1;
}

static int load(const opts *o, inputs *in)
{
    return read_file("--request", o->request, MS_TPM2_MAX_ENROL, &in->req) &&
           read_file("--ek-roots", o->roots, MS_TPM2_MAX_CA_FILE, &in->roots) &&
           read_file("--ak-ca-key", o->ca_key, MS_MAX_KEY_FILE, &in->key) &&
           read_file("--ak-ca-cert", o->ca_cert, MS_TPM2_MAX_CA_FILE, &in->cert) &&
           (!o->response || read_file("--response", o->response, 64, &in->resp));
}

static int failed(const char *what, ms_err e)
{
    fprintf(stderr, "%s: %s: %s\n", PROG, what, ms_err_str(e));
    return e == MS_ERR_CONFIG || e == MS_ERR_FILE_OPEN || e == MS_ERR_IO ? MS_CLI_USAGE
                                                                         : MS_CLI_VERIFY;
}

static int write_out(const char *flag, const char *path, const ms_buf *b)
{
    ms_err e = ms_file_write_new(path, b->p, b->len, 0644);
    if (e != MS_OK) {
        fprintf(stderr, "%s: %s %s: %s\n", PROG, flag, path, ms_err_str(e));
        return MS_CLI_USAGE;
    }
    return MS_CLI_OK;
}

static int steps(const opts *o, const inputs *in, int64_t now)
{
    uint8_t name[MS_TPM2_NAME_LEN], cred[MS_TPM2_ENROL_CRED_LEN];
    char hex[2 * MS_TPM2_NAME_LEN + 1];
    size_t n;
    ms_buf out;
    ms_err e = ms_tpm2_enrol_check(in->req.p, in->req.len, in->roots.p, in->roots.len, now, name);
    if (e != MS_OK) {
        return failed("the request", e);
    }
    if (ms_hex_encode(name, sizeof name, hex, sizeof hex, &n) == MS_OK) {
        printf("EK certificate chains to --ek-roots; attestation key name %s\n", hex);
    }
    e = ms_tpm2_enrol_credential(in->key.p, in->key.len, in->req.p, in->req.len, cred);
    if (e != MS_OK) {
        return failed("the credential", e);
    }
    ms_buf_init(&out, o->challenge_out ? MS_TPM2_MAX_ENROL : MS_TPM2_MAX_AK_CERT);
    int code;
    if (o->challenge_out) {
        e = ms_tpm2_enrol_challenge(in->req.p, in->req.len, cred, &out);
        code = e != MS_OK ? failed("the challenge", e)
                          : write_out("--challenge-out", o->challenge_out, &out);
    } else {
        e = ms_tpm2_enrol_issue(in->req.p, in->req.len, in->roots.p, in->roots.len, now, cred,
                                in->resp.p, in->resp.len, in->key.p, in->key.len, in->cert.p,
                                in->cert.len, now + (int64_t)o->days * 86400, &out);
        code = e != MS_OK ? failed("the AK certificate", e)
                          : write_out("--cert-out", o->cert_out, &out);
        if (code == MS_CLI_OK) {
            printf("activated by the EK: AK certificate written to %s\n", o->cert_out);
        }
    }
    ms_wipe(cred, sizeof cred);
    ms_buf_free(&out);
    return code;
}

int ms_cmd_attest_enroll_tpm(int argc, char **argv)
{
    opts o = {.days = 365};
    inputs in;
    int code = parse_args(argc, argv, &o);
    if (code != 0) {
        return code < 0 ? MS_CLI_OK : code;
    }
    ms_buf_init(&in.req, MS_TPM2_MAX_ENROL);
    ms_buf_init(&in.roots, MS_TPM2_MAX_CA_FILE);
    ms_buf_init(&in.key, MS_MAX_KEY_FILE);
    ms_buf_init(&in.cert, MS_TPM2_MAX_CA_FILE);
    ms_buf_init(&in.resp, 64);
    code = load(&o, &in) ? steps(&o, &in, (int64_t)time(NULL)) : MS_CLI_USAGE;
    ms_buf_free(&in.req);
    ms_buf_free(&in.roots);
    ms_buf_free(&in.key);
    ms_buf_free(&in.cert);
    ms_buf_free(&in.resp);
    return code;
}

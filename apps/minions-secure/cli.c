/* Connection options, policy loading, connect-and-verify and error messages for minions-secure. */
#include "apps/minions-secure/cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/text.h"
#include "protocols/extract.h"
#include "apps/minions-secure/cmds.h"

enum {
    C_URL = MS_CLI_OPT_CONN_BASE,
    C_PIN,
    C_POLICY,
    C_CACERT,
    C_HTTP,
    C_PROXY,
    C_STRICT,
    C_TIMEOUT,
    C_VERBOSE,
    C_IDENTITY
};

const struct option ms_cli_conn_options[] = {{"supervisor_url", 1, 0, C_URL},
                                             {"supervisor-url", 1, 0, C_URL},
                                             {"trusted_attestation_pem", 1, 0, C_PIN},
                                             {"trusted-attestation-pem", 1, 0, C_PIN},
                                             {"attestation-policy", 1, 0, C_POLICY},
                                             {"attestation_policy", 1, 0, C_POLICY},
                                             {"cacert", 1, 0, C_CACERT},
                                             {"allow-http", 0, 0, C_HTTP},
                                             {"allow-tls-proxy", 0, 0, C_PROXY},
                                             {"strict-evidence", 0, 0, C_STRICT},
                                             {"timeout", 1, 0, C_TIMEOUT},
                                             {"verbose", 0, 0, C_VERBOSE},
                                             {"identity", 1, 0, C_IDENTITY},
                                             {0, 0, 0, 0}};

int ms_cli_parse_long(const char *s, long lo, long hi, long *out)
{
    uint64_t v; /* digits only: no sign, no space (every caller's lo is 0 or more) */
    if (hi < 0 || !ms_text_read_u64(s, (uint64_t)hi, &v) || (long)v < lo) {
        return 0;
    }
    *out = (long)v;
    return 1;
}

int ms_cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v) || v < lo || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

int ms_cli_nonblank(const char *s)
{
    for (; s && *s; s++) {
        if (!isspace((unsigned char)*s)) {
            return 1;
        }
    }
    return 0;
}

int ms_cli_bad_option(const char *prog, const char *what, const char *name, const char *value)
{
    if (name) {
        fprintf(stderr, "%s: %s --%s: %s\n", prog, what, name, value ? value : "");
    } else {
        fprintf(stderr, "%s: %s: %s\n", prog, what, value ? value : "");
    }
    fprintf(stderr, "Try '%s --help'.\n", prog);
    return MS_CLI_USAGE;
}

void ms_cli_conn_init(ms_cli_conn *c)
{
    memset(c, 0, sizeof *c);
    c->timeout_s = 300;
    ms_attest_policy_init(&c->policy);
}

void ms_cli_conn_free(ms_cli_conn *c)
{
    if (c->client) {
        ms_err e = ms_client_close(c->client);
        if (e != MS_OK) {
            ms_log(MS_LOG_DEBUG, "client", "close: %s", ms_err_name(e));
        }
        ms_client_free(c->client);
        c->client = NULL;
    }
    ms_attest_policy_free(&c->policy);
}

int ms_cli_conn_apply(ms_cli_conn *c, int opt, const char *arg)
{
    switch (opt) {
    case C_URL: c->url = arg; return 1;
    case C_PIN: c->pin_file = arg; return 1;
    case C_POLICY: c->policy_file = arg; return 1;
    case C_CACERT: c->cacert = arg; return access(arg, R_OK) == 0; /* a usage error, not TLS's */
    case C_HTTP: c->allow_http = 1; return 1;
    case C_PROXY: c->allow_tls_proxy = 1; return 1;
    case C_STRICT: c->strict = 1; return 1;
    case C_TIMEOUT: return ms_cli_parse_long(arg, 1, 86400, &c->timeout_s);
    case C_VERBOSE: c->verbose = 1; return 1;
    case C_IDENTITY: c->identity_file = arg; return 1;
    default: return -1;
    }
}

int ms_cli_conn_require(const ms_cli_conn *c, const char *prog)
{
    if (!c->url || !(c->pin_file || c->policy_file)) {
        fprintf(stderr,
                "%s: --supervisor_url and one of --attestation-policy / "
                "--trusted_attestation_pem are required. Try '%s --help'.\n",
                prog, prog);
        return MS_CLI_USAGE;
    }
    return MS_CLI_OK;
}

int ms_cli_options_merge(const struct option *own, struct option *out, size_t cap)
{
    size_t n = 0;
    for (const struct option *o = own; o && o->name; o++) {
        if (n + 1 >= cap) {
            return -1;
        }
        out[n++] = *o;
    }
    for (const struct option *o = ms_cli_conn_options; o->name; o++) {
        if (n + 1 >= cap) {
            return -1;
        }
        out[n++] = *o;
    }
    memset(&out[n], 0, sizeof out[n]);
    return 0;
}

int ms_cli_getopt(const ms_cli_parser *p, int argc, char **argv)
{
    struct option longs[96];
    char what[96];
    int c, idx = -1;
    if (ms_cli_options_merge(p->own, longs, sizeof longs / sizeof longs[0]) != 0) {
        fprintf(stderr, "%s: too many options (a bug)\n", p->prog);
        return MS_CLI_USAGE;
    }
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longs, &idx)) != -1) {
        if (c == p->opt_help) {
            for (const char *const *h = p->help; *h; h++) {
                fputs(*h, stdout);
            }
            return -1;
        }
        if (c == p->opt_version) {
            fputs(MS_CLI_VERSION_LINE, stdout);
            return -1;
        }
        if (c == '?' || c == ':') {
            return ms_cli_bad_option(p->prog, "unknown option or missing value", NULL,
                                     argv[optind - 1]);
        }
        int taken = p->apply(p->ctx, c, optarg);
        if (!taken && optarg && !ms_cli_nonblank(optarg)) {
            /* say what is wrong with an empty or blank value; the value itself says nothing */
            fprintf(stderr, "%s: --%s is %s. Try '%s --help'.\n", p->prog,
                    idx >= 0 ? longs[idx].name : "?",
                    optarg[0] ? "blank (only white space)" : "empty", p->prog);
            return MS_CLI_USAGE;
        }
        if (!taken && idx >= 0 && strcmp(longs[idx].name, "cacert") == 0) {
            fprintf(stderr, "%s: --cacert %s: cannot read the file: %s\nTry '%s --help'.\n",
                    p->prog, optarg, strerror(errno), p->prog);
            return MS_CLI_USAGE;
        }
        if (!taken) {
            snprintf(what, sizeof what, "invalid value%s for", p->expected ? p->expected(c) : "");
            return ms_cli_bad_option(p->prog, what, idx >= 0 ? longs[idx].name : "?", optarg);
        }
        idx = -1;
    }
    if (optind < argc) {
        return ms_cli_bad_option(p->prog, "unexpected argument", NULL, argv[optind]);
    }
    return 0;
}

/* 1 when the file looks like a PEM private key: the pin wants the public half. */
static int is_private_pem(const char *path)
{
    ms_buf text;
    ms_buf_init(&text, MS_MAX_KEY_FILE);
    int yes = ms_file_read(path, MS_MAX_KEY_FILE, &text) == MS_OK && text.len > 0 &&
              ms_buf_append(&text, (const uint8_t *)"", 1) == MS_OK &&
              strstr((const char *)text.p, "PRIVATE KEY-----") != NULL;
    ms_buf_free(&text);
    return yes;
}

int ms_cli_conn_load_policy(ms_cli_conn *c, const char *prog, ms_err *err)
{
    uint8_t pk[MS_SIGN_PK_LEN];
    ms_err e = MS_OK;
    if (c->policy_file && (e = ms_attest_policy_load(&c->policy, c->policy_file)) != MS_OK) {
        fprintf(stderr, "%s: --attestation-policy %s: %s: %s\n", prog, c->policy_file,
                c->policy.why[0] ? c->policy.why : "unusable", ms_err_str(e));
    } else if (c->pin_file) {
        e = ms_devkey_read_public(c->pin_file, pk);
        if (e == MS_OK) {
            e = ms_attest_policy_allow_dev_key(&c->policy, pk);
        }
        if (e != MS_OK) {
            fprintf(stderr, "%s: --trusted_attestation_pem %s: %s\n", prog, c->pin_file,
                    ms_err_str(e));
            if (is_private_pem(c->pin_file)) {
                fprintf(stderr, "%s: that file is a private key: pass its public half, the "
                                "%s.pub the supervisor wrote next to it\n",
                        prog, c->pin_file);
            }
        }
    }
    if (e == MS_OK && c->snp_hashfile) {
        e = ms_cli_pin_snp_hashfile(c, prog);
    }
    if (err) {
        *err = e;
    }
    return e == MS_OK ? MS_CLI_OK : MS_CLI_USAGE;
}

int ms_cli_load_identity(const ms_cli_conn *c, const char *prog, ms_devkey *id, ms_err *err)
{
    memset(id, 0, sizeof *id);
    *err = c->identity_file ? ms_devkey_load(c->identity_file, id) : MS_OK;
    if (*err != MS_OK) {
        fprintf(stderr, "%s: --identity %s: %s%s\n", prog, c->identity_file, ms_err_str(*err),
                *err == MS_ERR_FILE_FORMAT ? " (give the private key minions-secure keygen "
                                             "wrote, not its .pub)"
                                           : "");
        return MS_CLI_USAGE;
    }
    return MS_CLI_OK;
}

void ms_cli_conn_client_cfg(const ms_cli_conn *c, const uint8_t *id_sk, ms_client_cfg *cfg)
{
    *cfg = (ms_client_cfg){.url = c->url,
                           .cacert = c->cacert,
                           .allow_http = c->allow_http,
                           .allow_tls_proxy = c->allow_tls_proxy,
                           .policy = &c->policy,
                           .strict = c->strict,
                           .timeout_ms = c->timeout_s * 1000,
                           .client_id_sk = id_sk};
}

int ms_cli_conn_open(ms_cli_conn *c, const char *prog, int quiet, ms_err *err)
{
    char line[MS_CLIENT_DESCRIBE_LEN];
    ms_err e;
    int code = ms_cli_conn_load_policy(c, prog, &e);
    if (code != MS_CLI_OK) {
        if (err) {
            *err = e;
        }
        return code;
    }
    ms_devkey id;
    if (ms_cli_load_identity(c, prog, &id, &e) != MS_CLI_OK) {
        if (err) {
            *err = e;
        }
        return MS_CLI_USAGE;
    }
    ms_client_cfg cfg;
    ms_cli_conn_client_cfg(c, c->identity_file ? id.sk : NULL, &cfg);
    e = ms_client_new(&c->client, &cfg); /* copies the key */
    ms_devkey_wipe(&id);
    if (e == MS_OK) {
        e = ms_client_connect(c->client);
    }
    if (err) {
        *err = e;
    }
    if (e != MS_OK) {
        code = ms_client_exit_code(e, 1);
        ms_cli_say_error(c, prog, e, code, NULL);
        return code;
    }
    ms_client_peer_info(c->client, &c->peer);
    if (c->snp_hashfile && (e = ms_cli_check_snp_hashfile(c, prog)) != MS_OK) {
        if (err) {
            *err = e;
        }
        return MS_CLI_VERIFY;
    }
    if (!quiet) {
        ms_client_describe(&c->peer, line, sizeof line);
        fprintf(stderr, "%s: %s\n", prog, line);
        if (c->peer.evidence_type == MS_EVIDENCE_DEV_KEY) {
            fprintf(stderr, "%s: DEVELOPMENT MODE: dev-key evidence proves the supervisor "
                            "holds the pinned key, not what host runs it\n",
                    prog);
        }
    }
    return MS_CLI_OK;
}

bool ms_cli_cut_visible(const char *text, size_t len, ms_buf *visible)
{
    ms_think_info think;
    memset(&think, 0, sizeof think);
    if (ms_extract_strip_think(text, len, visible, &think) != MS_OK) {
        ms_buf_clear(visible);
        return true; /* cannot tell what is reasoning: show none of it as an answer */
    }
    return think.unclosed;
}

void ms_cli_say_limit(const char *prog, bool in_think, bool shown, const char *raise)
{
    fprintf(stderr,
            "%s: the model stopped at its token limit (finish_reason \"length\"): the reply "
            "is INCOMPLETE, not an answer%s%s%s\n",
            prog, raise ? " (allow more tokens: " : "", raise ? raise : "", raise ? ")" : "");
    if (in_think) {
        fprintf(stderr, "%s: it was cut while still reasoning (a <think> block never closed): %s\n",
                prog, shown ? "the text shown is unfinished reasoning; the model gave no answer"
                            : "its reasoning is not shown; the model gave no answer");
    }
}

void ms_cli_say_error(const ms_cli_conn *c, const char *prog, ms_err e, int code,
                      const ms_client_turn_info *ti)
{
    long st = 0, retry_after_s = 0;
    if (c->client) {
        ms_client_last_http(c->client, &st, &retry_after_s);
    }
    if (e == MS_ERR_SERVER_BUSY) {
        fprintf(stderr,
                "%s: the supervisor at %s is busy (its session table is full, or it is "
                "limiting STRICT evidence requests): retry after %ld s\n",
                prog, c->url, retry_after_s > 0 ? retry_after_s : 1);
    } else if (e == MS_ERR_BACKEND_REMOTE && ti && ti->remote_failed) {
        fprintf(stderr, "%s: the supervisor's model engine failed this turn: %s: %s\n", prog,
                ti->error_code, ti->error_message);
    } else if (code == MS_CLI_VERIFY) {
        fprintf(stderr, "%s: the supervisor at %s failed verification, nothing was sent: %s (%s)%s\n",
                prog, c->url, ms_err_str(e), ms_err_name(e), ms_client_hint(e));
    } else if (code == MS_CLI_NET) {
        fprintf(stderr, "%s: cannot talk to the supervisor at %s: %s%s\n", prog, c->url,
                ms_err_str(e), ms_client_hint(e));
    } else if (e == MS_ERR_HTTP_INSECURE) {
        fprintf(stderr, "%s: --supervisor_url %s: refused before connecting: %s\n", prog, c->url,
                c->allow_http ? "--allow-http permits http:// only to a loopback "
                                "address (127.0.0.0/8, ::1, localhost); use https://"
                              : "plain http:// needs --allow-http, and only to a "
                                "loopback address; otherwise use https://");
    } else if (code == MS_CLI_USAGE) {
        fprintf(stderr, "%s: --supervisor_url %s: %s%s\n", prog, c->url, ms_err_str(e),
                ms_client_hint(e));
    } else {
        fprintf(stderr, "%s: the turn failed: %s (%s)%s\n", prog, ms_err_str(e), ms_err_name(e),
                ms_client_hint(e));
    }
    if (ti && ti->transport != MS_OK) {
        fprintf(stderr, "%s: the connection ended early: %s\n", prog, ms_err_str(ti->transport));
    }
    if (code == MS_CLI_CUT) {
        fprintf(stderr, "%s: the reply was cut before its end: the text shown is INCOMPLETE\n",
                prog);
    }
}

/* What every minions-secure subcommand shares: the connection options, policy, connect, errors. */
#ifndef MS_APPS_MINIONS_SECURE_CLI_H
#define MS_APPS_MINIONS_SECURE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "secure/attest/devkey.h"
#include "secure/attest/policy.h"
#include "secure/client/client.h"
#include "secure/client/report.h"

/*
 * The options that say which supervisor to talk to and what it must prove. Every
 * subcommand that connects (ask, run, chat, attest) takes exactly these, spelled the same,
 * and documents them with MS_CLI_CONN_HELP.
 *
 * Usage in a subcommand:
 *   ms_cli_conn conn; ms_cli_conn_init(&conn);
 *   build its option table with ms_cli_options_merge(own, conn options);
 *   for each getopt result: ms_cli_conn_apply(&conn, c, optarg) -> 1 taken, 0 bad value,
 *   -1 not a connection option (the subcommand's own);
 *   ms_cli_conn_require(&conn, prog) after parsing;
 *   ms_cli_conn_open(&conn, prog, ...) to load the policy, connect and verify;
 *   ms_cli_conn_free(&conn) at the end (closes the session first if one is open).
 */
typedef struct ms_cli_conn {
    const char *url, *pin_file, *policy_file, *cacert;
    int allow_http, allow_tls_proxy, strict, verbose;
    long timeout_s; /* default 300 */
    const char *identity_file; /* --identity: the client's key (minions-secure keygen) */
    const char *snp_hashfile; /* chat --vm_launch_measurement_hashfile (cli_compat.c) */
    /* After ms_cli_conn_open: */
    ms_attest_policy policy;
    ms_client *client;
    ms_client_peer peer; /* what the first handshake verified */
} ms_cli_conn;

/* Option values of the connection options start here; a subcommand's own start at 512. */
#define MS_CLI_OPT_CONN_BASE 256
#define MS_CLI_OPT_OWN_BASE 512

/* The connection options, terminated by a zero entry (getopt_long form). */
extern const struct option ms_cli_conn_options[];

/* Help text for the connection options (lines indented two spaces, 80 columns). */
#define MS_CLI_CONN_HELP                                                                        \
    "Supervisor and what it must prove:\n"                                                      \
    "  --supervisor_url URL         https://host:port of the supervisor (also\n"                \
    "    --supervisor-url           http://127.0.0.1:port with --allow-http)\n"                 \
    "  --attestation-policy FILE    what evidence to accept and what it must show\n"            \
    "                               (JSON, docs/attestation.md): TPM 2.0 quotes,\n"             \
    "                               SEV-SNP reports\n"                                          \
    "  --trusted_attestation_pem FILE  accept dev-key evidence by this key (PEM),\n"            \
    "    --trusted-attestation-pem  i.e. the FILE.pub written next to the\n"                    \
    "                               supervisor's --dev-key FILE (one of the two above\n"        \
    "                               is required)\n"                                             \
    "  --cacert FILE                CA bundle (PEM) that signed the supervisor's TLS\n"         \
    "                               certificate (default: the system store)\n"                  \
    "  --allow-http                 allow http:// to a loopback address (127.0.0.0/8,\n"        \
    "                               ::1, localhost) only; never to another host\n"              \
    "  --allow-tls-proxy            accept a supervisor that binds no TLS key,\n"               \
    "                               because TLS ends at a proxy in front of it; the\n"          \
    "                               proxy can then see the traffic's metadata, never\n"         \
    "                               the channel's content\n"                                    \
    "  --strict-evidence            ask for fresh evidence over this session (STRICT\n"         \
    "                               mode)\n"                                                    \
    "  --timeout S                  give up on an HTTP request after S seconds\n"               \
    "                               (default 300)\n"                                            \
    "  --identity FILE              prove this identity key (minions-secure keygen)\n"         \
    "                               to a supervisor with --allowed-clients\n"                   \
    "  --verbose                    log transport details to standard error\n"

void ms_cli_conn_init(ms_cli_conn *c);
/* Closes an open session (errors only logged at DEBUG), frees the client and the policy. */
void ms_cli_conn_free(ms_cli_conn *c);

/* 1: taken; 0: a connection option with a bad value; -1: not a connection option. */
int ms_cli_conn_apply(ms_cli_conn *c, int opt, const char *arg);

/* MS_CLI_OK, or MS_CLI_USAGE after saying on stderr which option is missing. */
int ms_cli_conn_require(const ms_cli_conn *c, const char *prog);

/*
 * out = own (zero-terminated) followed by ms_cli_conn_options, zero-terminated. cap counts
 * entries of out. Returns 0, or -1 when it does not fit.
 */
int ms_cli_options_merge(const struct option *own, struct option *out, size_t cap);

/*
 * Load the policy (and the dev-key pin), make the client, connect (handshake + every
 * check), and say on stderr what was verified (unless quiet). On failure the reason is on
 * stderr and the exit status (MS_CLI_USAGE/NET/VERIFY) is returned with *err set; MS_CLI_OK
 * on success. err may be NULL.
 */
int ms_cli_conn_open(ms_cli_conn *c, const char *prog, int quiet, ms_err *err);

/*
 * The client configuration the options say (the policy loaded by ms_cli_conn_load_policy),
 * with id_sk as the identity key (--identity, or NULL): what ms_cli_conn_open connects with,
 * for a caller that makes more clients of its own (serve's pool). Borrows from c and id_sk.
 */
void ms_cli_conn_client_cfg(const ms_cli_conn *c, const uint8_t *id_sk, ms_client_cfg *cfg);

/* --identity: the key into *id (zero when none given); MS_CLI_OK or MS_CLI_USAGE (said). */
int ms_cli_load_identity(const ms_cli_conn *c, const char *prog, ms_devkey *id, ms_err *err);
/*
 * The reference's --vm_launch_measurement_hashfile (cli_compat.c): pin the SEV-SNP launch
 * measurement the file holds in c->policy (loaded), and after a handshake check that the
 * evidence was SEV-SNP. MS_OK or an MS_ERR_COMPAT_HASHFILE* code (said on stderr).
 */
MS_MUST_CHECK ms_err ms_cli_pin_snp_hashfile(ms_cli_conn *c, const char *prog);
MS_MUST_CHECK ms_err ms_cli_check_snp_hashfile(const ms_cli_conn *c, const char *prog);
/* The pin alone, on a loaded policy: `text` is the file's (whitespace around the 96 hex
   digits allowed); *changed: it differs from the policy's sev_snp.measurement it replaces. */
MS_MUST_CHECK ms_err ms_cli_pin_snp_text(ms_attest_policy *p, const char *text, size_t len,
                                         bool *changed);

/* Load the policy only (for offline checks): MS_CLI_OK or MS_CLI_USAGE (reason printed). */
int ms_cli_conn_load_policy(ms_cli_conn *c, const char *prog, ms_err *err);

/*
 * Say on stderr why a connect or a turn failed, for a person: busy, verification, network,
 * insecure URL, the engine's own error (ti->remote_failed), a cut stream (code MS_CLI_CUT).
 * ti may be NULL.
 */
void ms_cli_say_error(const ms_cli_conn *c, const char *prog, ms_err e, int code,
                      const ms_client_turn_info *ti);

/*
 * A reply the model cut at its token limit (finish_reason "length": ms_client_reply.truncated;
 * docs/client.md, "When a model hits its token limit"). ms_cli_cut_visible: the part of text
 * that is not reasoning (closed <think> blocks dropped, trimmed) into *visible, and true when
 * a <think> block never closed (the model was cut while still reasoning: none of what follows
 * the tag is an answer). ms_cli_say_limit says on stderr that the text is INCOMPLETE, which
 * limit to raise, and, in_think, that the text is unfinished reasoning (`shown`: it was
 * already printed, as a stream prints it; else it was left out).
 */
bool ms_cli_cut_visible(const char *text, size_t len, ms_buf *visible);
void ms_cli_say_limit(const char *prog, bool in_think, bool shown, const char *raise);

/*
 * One subcommand's option loop (getopt_long over its own options plus the connection
 * options). --help prints the help pieces in order, --version the version line: both
 * return -1. An unknown option, a missing or bad value, or a positional argument is said on
 * stderr (naming the option; `expected` may add what a good value looks like) and returns
 * MS_CLI_USAGE. Otherwise 0: every option went through apply (1 taken, 0 bad value).
 */
typedef struct ms_cli_parser {
    const char *prog;           /* "minions-secure chat" */
    const struct option *own;   /* zero-terminated; includes opt_help and opt_version */
    int opt_help, opt_version;
    const char *const *help;    /* NULL-terminated pieces printed for --help */
    int (*apply)(void *ctx, int opt, const char *arg);
    const char *(*expected)(int opt); /* may be NULL: " (1..64)" etc. after "invalid value" */
    void *ctx;
} ms_cli_parser;

int ms_cli_getopt(const ms_cli_parser *p, int argc, char **argv);

/* Strict number parsing for option values: 1 when s is a whole number / finite number in range.
   A whole number is digits only (ms_text_read_u64): no sign, no space, never negative. */
int ms_cli_parse_long(const char *s, long lo, long hi, long *out);
int ms_cli_parse_double(const char *s, double lo, double hi, double *out);

/* The standard complaint for getopt errors; returns MS_CLI_USAGE. */
int ms_cli_bad_option(const char *prog, const char *what, const char *name, const char *value);
/* 1 when s holds something other than white space (a task or prompt worth sending). */
int ms_cli_nonblank(const char *s);

#endif

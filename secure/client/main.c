/* minions-secure: one verified, encrypted turn with a minions-supervisor. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "secure/attest/policy.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "secure/client/report.h"

enum {
    EXIT_OK = MS_CLI_OK,
    EXIT_USAGE = MS_CLI_USAGE,
    EXIT_NET = MS_CLI_NET,
    EXIT_VERIFY = MS_CLI_VERIFY,
    EXIT_TURN = MS_CLI_TURN,
    EXIT_CUT = MS_CLI_CUT
};

static const char USAGE[] =
    "Usage: minions-secure --supervisor_url URL --trusted_attestation_pem FILE --prompt TEXT\n"
    "                      [options]\n"
    "\n"
    "Sends one turn to a minions-supervisor over its end-to-end channel (docs/protocol.md):\n"
    "the supervisor must prove, with evidence signed by the pinned key, that it holds the\n"
    "channel's static key, and (over HTTPS) that the TLS connection ends at it. Nothing is\n"
    "sent inside the channel before those checks pass. The reply is printed to standard\n"
    "output as it arrives; what was verified is said on standard error first.\n"
    "\n"
    "Required:\n"
    "  --supervisor_url URL         https://host:port of the supervisor (also\n"
    "    --supervisor-url           http://127.0.0.1:port with --allow-http)\n"
    "  --attestation-policy FILE    what evidence to accept and what it must show (JSON,\n"
    "                               docs/attestation.md): TPM 2.0 quotes, SEV-SNP reports\n"
    "  and/or\n"
    "  --trusted_attestation_pem FILE  accept dev-key evidence by this key (PEM), i.e. the\n"
    "    --trusted-attestation-pem  FILE.pub written next to the supervisor's --dev-key FILE\n"
    "  --prompt TEXT                the user's message\n"
    "Options:\n"
    "  --system_prompt TEXT         a system message before the prompt (--system-prompt)\n"
    "  --max-tokens N               ask for at most N tokens (1..1000000)\n"
    "  --temperature X              sampling temperature (0..2)\n"
    "  --no-stream                  wait for the whole reply, then print it\n"
    "  --json                       print one JSON object instead of the text:\n"
    "                               {\"ok\",\"content\",\"usage\",\"session\",\"evidence\",...}\n"
    "  --cacert FILE                CA bundle (PEM) that signed the supervisor's TLS\n"
    "                               certificate (default: the system store)\n"
    "  --allow-http                 allow http:// to a loopback address (127.0.0.0/8, ::1,\n"
    "                               localhost) only; never to another host\n"
    "  --allow-tls-proxy            accept a supervisor that binds no TLS key, because TLS\n"
    "                               ends at a proxy in front of it; the proxy can then see\n"
    "                               the traffic's metadata, never the channel's content\n"
    "  --strict-evidence            ask for fresh evidence over this session (STRICT mode)\n"
    "  --timeout S                  give up on an HTTP request after S seconds (default 300)\n"
    "  --verbose                    log transport details to standard error\n"
    "  --help, --version\n"
    "\n"
    "DEVELOPMENT MODE: dev-key evidence proves that the supervisor holds the pinned key, not\n"
    "what host or software runs it.\n"
    "\n"
    "Exit status:\n"
    "  0  the reply is complete\n"
    "  2  usage: a bad option, an unreadable --trusted_attestation_pem, or an http:// URL\n"
    "     without --allow-http or to a host that is not loopback (refused before connecting)\n"
    "  3  cannot reach the supervisor, or TLS failed (certificate, or the TLS key pin)\n"
    "  4  the supervisor failed verification (handshake or evidence): nothing was sent\n"
    "  5  the supervisor or its model engine failed the turn (no reply text was printed)\n"
    "  6  a streamed reply was cut: the text printed so far is INCOMPLETE\n";

typedef struct opts {
    const char *url, *pin_file, *policy_file, *cacert, *prompt, *system_prompt;
    int allow_http, allow_tls_proxy, strict, no_stream, json, verbose;
    long max_tokens;
    double temperature;
    long timeout_s;
} opts;

enum {
    O_URL = 256,
    O_PIN,
    O_POLICY,
    O_CACERT,
    O_HTTP,
    O_PROXY,
    O_STRICT,
    O_PROMPT,
    O_SYSTEM,
    O_MAXTOK,
    O_TEMP,
    O_NOSTREAM,
    O_TIMEOUT,
    O_JSON,
    O_VERBOSE,
    O_HELP,
    O_VERSION
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_temp(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v) || v < 0.0 || v > 2.0) {
        return 0;
    }
    *out = v;
    return 1;
}

static int apply(opts *o, int c, const char *arg)
{
    switch (c) {
    case O_URL: o->url = arg; return 1;
    case O_PIN: o->pin_file = arg; return 1;
    case O_POLICY: o->policy_file = arg; return 1;
    case O_CACERT: o->cacert = arg; return 1;
    case O_HTTP: o->allow_http = 1; return 1;
    case O_PROXY: o->allow_tls_proxy = 1; return 1;
    case O_STRICT: o->strict = 1; return 1;
    case O_PROMPT: o->prompt = arg; return 1;
    case O_SYSTEM: o->system_prompt = arg; return 1;
    case O_MAXTOK: return parse_long(arg, 1, 1000000, &o->max_tokens);
    case O_TEMP: return parse_temp(arg, &o->temperature);
    case O_NOSTREAM: o->no_stream = 1; return 1;
    case O_TIMEOUT: return parse_long(arg, 1, 86400, &o->timeout_s);
    case O_JSON: o->json = 1; return 1;
    case O_VERBOSE: o->verbose = 1; return 1;
    default: return 0;
    }
}

/* 0 to run, -1 after --help/--version, else the exit status (after saying why). */
static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option longs[] = {{"supervisor_url", 1, 0, O_URL},
                                          {"supervisor-url", 1, 0, O_URL},
                                          {"trusted_attestation_pem", 1, 0, O_PIN},
                                          {"trusted-attestation-pem", 1, 0, O_PIN},
                                          {"attestation-policy", 1, 0, O_POLICY},
                                          {"attestation_policy", 1, 0, O_POLICY},
                                          {"cacert", 1, 0, O_CACERT},
                                          {"allow-http", 0, 0, O_HTTP},
                                          {"allow-tls-proxy", 0, 0, O_PROXY},
                                          {"strict-evidence", 0, 0, O_STRICT},
                                          {"prompt", 1, 0, O_PROMPT},
                                          {"system_prompt", 1, 0, O_SYSTEM},
                                          {"system-prompt", 1, 0, O_SYSTEM},
                                          {"max-tokens", 1, 0, O_MAXTOK},
                                          {"temperature", 1, 0, O_TEMP},
                                          {"no-stream", 0, 0, O_NOSTREAM},
                                          {"timeout", 1, 0, O_TIMEOUT},
                                          {"json", 0, 0, O_JSON},
                                          {"verbose", 0, 0, O_VERBOSE},
                                          {"help", 0, 0, O_HELP},
                                          {"version", 0, 0, O_VERSION},
                                          {0, 0, 0, 0}};
    int c, idx = -1;
    memset(o, 0, sizeof *o);
    o->temperature = -1.0;
    o->timeout_s = 300;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, &idx)) != -1) {
        if (c == O_HELP || c == O_VERSION) {
            fputs(c == O_HELP ? USAGE : "minions-secure 0.1.0 (channel protocol 1)\n", stdout);
            return -1;
        }
        if (c == '?' || c == ':') {
            fprintf(stderr,
                    "minions-secure: unknown option or missing value: %s\n"
                    "Try 'minions-secure --help'.\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (!apply(o, c, optarg)) {
            fprintf(stderr,
                    "minions-secure: invalid value for --%s: %s\n"
                    "Try 'minions-secure --help'.\n",
                    longs[idx].name, optarg);
            return EXIT_USAGE;
        }
        idx = -1;
    }
    if (optind < argc) {
        fprintf(stderr, "minions-secure: unexpected argument: %s\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!o->url || !(o->pin_file || o->policy_file) || !o->prompt) {
        fprintf(stderr, "minions-secure: --supervisor_url, --prompt and one of "
                        "--attestation-policy / --trusted_attestation_pem are required. "
                        "Try 'minions-secure --help'.\n");
        return EXIT_USAGE;
    }
    return 0;
}

static void say_error(const opts *o, ms_err e, int code, const ms_client_turn_info *ti,
                      long retry_after_s)
{
    if (e == MS_ERR_SERVER_BUSY) {
        fprintf(stderr,
                "minions-secure: the supervisor at %s is busy (its session table is "
                "full): retry after %ld s\n",
                o->url, retry_after_s > 0 ? retry_after_s : 1);
    } else if (e == MS_ERR_BACKEND_REMOTE && ti && ti->remote_failed) {
        fprintf(stderr, "minions-secure: the supervisor's model engine failed this turn: %s: %s\n",
                ti->error_code, ti->error_message);
    } else if (code == EXIT_VERIFY) {
        fprintf(stderr,
                "minions-secure: the supervisor at %s failed verification, nothing was "
                "sent: %s (%s)%s\n",
                o->url, ms_err_str(e), ms_err_name(e), ms_client_hint(e));
    } else if (code == EXIT_NET) {
        fprintf(stderr, "minions-secure: cannot talk to the supervisor at %s: %s%s\n", o->url,
                ms_err_str(e), ms_client_hint(e));
    } else if (e == MS_ERR_HTTP_INSECURE) {
        fprintf(stderr, "minions-secure: --supervisor_url %s: refused before connecting: %s\n",
                o->url,
                o->allow_http ? "--allow-http permits http:// only to a loopback "
                                "address (127.0.0.0/8, ::1, localhost); use https://"
                              : "plain http:// needs --allow-http, and only to a "
                                "loopback address; otherwise use https://");
    } else if (code == EXIT_USAGE) {
        fprintf(stderr, "minions-secure: --supervisor_url %s: %s%s\n", o->url, ms_err_str(e),
                ms_client_hint(e));
    } else {
        fprintf(stderr, "minions-secure: the turn failed: %s (%s)%s\n", ms_err_str(e),
                ms_err_name(e), ms_client_hint(e));
    }
    if (ti && ti->transport != MS_OK) {
        fprintf(stderr, "minions-secure: the connection ended early: %s\n",
                ms_err_str(ti->transport));
    }
    if (code == EXIT_CUT) {
        fprintf(stderr, "minions-secure: the reply was cut before its end: the text printed "
                        "above is INCOMPLETE\n");
    }
}

/* Streamed text: to stdout at once (controls shown as '?' on a terminal), or kept for --json. */
typedef struct sink {
    int json, tty;
    ms_buf text;
    size_t printed;
    char last;
} sink;

static ms_err on_piece(void *ctx, const char *p, size_t n)
{
    sink *s = ctx;
    if (s->json) {
        return ms_buf_append(&s->text, p, n);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        int ok = !s->tty || ch >= 0x20 || ch == '\n' || ch == '\t';
        putchar(ok && ch != 0x7f ? ch : '?');
    }
    fflush(stdout);
    s->printed += n;
    s->last = p[n - 1];
    return MS_OK;
}

static void print_text(sink *s, const char *p, size_t n)
{
    if (n > 0) {
        ms_err e = on_piece(s, p, n);
        (void)e; /* printing cannot fail */
    }
}

typedef struct run {
    opts o;
    ms_attest_policy policy;
    ms_client *c;
    ms_client_peer peer;
    ms_client_turn_info ti;
    ms_buf req, reply;
    sink out;
} run;

static int finish_json(run *r, ms_err e, int code)
{
    ms_client_outcome oc = {.ok = e == MS_OK, .exit_code = code};
    ms_client_reply rep;
    ms_buf js;
    char msg[320];
    ms_client_peer now;
    memset(&rep, 0, sizeof rep);
    ms_client_peer_info(r->c, &now);
    if (now.connected) {
        r->peer = now;
    }
    r->peer.rehandshakes = now.rehandshakes;
    if (e == MS_OK &&
        ms_client_reply_parse(r->reply.p, r->reply.len, !r->o.no_stream, &rep) == MS_OK) {
        oc.content = r->o.no_stream ? rep.content : (const char *)r->out.text.p;
        oc.content_len = r->o.no_stream ? rep.content_len : r->out.text.len;
        oc.finish_reason = rep.finish_reason;
        oc.prompt_tokens = rep.prompt_tokens;
        oc.completion_tokens = rep.completion_tokens;
    } else if (r->ti.remote_failed) {
        oc.error_code = r->ti.error_code;
        oc.error_message = r->ti.error_message;
    } else {
        snprintf(msg, sizeof msg, "%s", ms_err_str(e));
        oc.error_code = ms_err_name(e);
        oc.error_message = msg;
    }
    ms_buf_init(&js, MS_MAX_JSON_TEXT);
    ms_err je = ms_client_outcome_json(&r->peer, &oc, &js);
    if (je == MS_OK) {
        fwrite(js.p, 1, js.len, stdout);
        putchar('\n');
    } else {
        fprintf(stderr, "minions-secure: cannot print the JSON result: %s\n", ms_err_str(je));
        code = code == EXIT_OK ? EXIT_TURN : code;
    }
    ms_buf_free(&js);
    ms_client_reply_free(&rep);
    return code;
}

/* The turn, then what to print. */
static int do_turn(run *r)
{
    ms_err e;
    if (r->o.no_stream) {
        e = ms_client_turn(r->c, r->req.p, r->req.len, &r->reply, &r->ti);
    } else {
        e = ms_client_turn_stream(r->c, r->req.p, r->req.len, on_piece, &r->out, &r->reply, &r->ti);
    }
    int code = e == MS_OK ? EXIT_OK : ms_client_exit_code(e, 0);
    if (e != MS_OK && r->ti.streamed_bytes > 0) {
        code = EXIT_CUT; /* text arrived (and was shown), and it is not a whole answer */
    }
    if (r->out.printed > 0 && r->out.last != '\n') {
        putchar('\n');
    }
    if (e != MS_OK) {
        long st, ra;
        ms_client_last_http(r->c, &st, &ra);
        say_error(&r->o, e, code, &r->ti, ra);
    }
    if (r->o.json) {
        return finish_json(r, e, code);
    }
    if (e == MS_OK && r->o.no_stream) {
        ms_client_reply rep;
        if (ms_client_reply_parse(r->reply.p, r->reply.len, 0, &rep) == MS_OK) {
            print_text(&r->out, rep.content, rep.content_len);
            if (r->out.printed > 0 && r->out.last != '\n') {
                putchar('\n');
            }
        }
        ms_client_reply_free(&rep);
    }
    fflush(stdout);
    return code;
}

/* The policy file and/or the dev-key pin, merged: the pin is an explicit opt-in to dev-key. */
static ms_err load_policy(run *r)
{
    uint8_t pk[MS_SIGN_PK_LEN];
    ms_err e;
    if (r->o.policy_file && (e = ms_attest_policy_load(&r->policy, r->o.policy_file)) != MS_OK) {
        fprintf(stderr, "minions-secure: --attestation-policy %s: %s: %s\n", r->o.policy_file,
                r->policy.why[0] ? r->policy.why : "unusable", ms_err_str(e));
        return e;
    }
    if (!r->o.pin_file) {
        return MS_OK;
    }
    e = ms_devkey_read_public(r->o.pin_file, pk);
    if (e == MS_OK) {
        e = ms_attest_policy_allow_dev_key(&r->policy, pk);
    }
    if (e != MS_OK) {
        fprintf(stderr, "minions-secure: --trusted_attestation_pem %s: %s\n", r->o.pin_file,
                ms_err_str(e));
    }
    return e;
}

static int start(run *r)
{
    char line[MS_CLIENT_DESCRIBE_LEN];
    ms_err e = load_policy(r);
    if (e != MS_OK) {
        return r->o.json ? finish_json(r, e, EXIT_USAGE) : EXIT_USAGE;
    }
    e = ms_client_request_build(r->o.system_prompt, r->o.prompt, r->o.max_tokens, r->o.temperature,
                                &r->req);
    if (e != MS_OK) {
        fprintf(stderr, "minions-secure: --prompt/--system_prompt: %s (text must be UTF-8)\n",
                ms_err_str(e));
        return r->o.json ? finish_json(r, e, EXIT_USAGE) : EXIT_USAGE;
    }
    ms_client_cfg cfg = {.url = r->o.url,
                         .cacert = r->o.cacert,
                         .allow_http = r->o.allow_http,
                         .allow_tls_proxy = r->o.allow_tls_proxy,
                         .policy = &r->policy,
                         .strict = r->o.strict,
                         .timeout_ms = r->o.timeout_s * 1000};
    e = ms_client_new(&r->c, &cfg);
    if (e == MS_OK) {
        e = ms_client_connect(r->c);
    }
    if (e != MS_OK) {
        int code = ms_client_exit_code(e, 1);
        long st, ra;
        ms_client_last_http(r->c, &st, &ra);
        say_error(&r->o, e, code, NULL, ra);
        return r->o.json ? finish_json(r, e, code) : code;
    }
    ms_client_peer_info(r->c, &r->peer);
    ms_client_describe(&r->peer, line, sizeof line);
    fprintf(stderr, "minions-secure: %s\n", line);
    if (r->peer.evidence_type == MS_EVIDENCE_DEV_KEY) {
        fprintf(stderr, "minions-secure: DEVELOPMENT MODE: dev-key evidence proves the supervisor "
                        "holds the pinned key, not what host runs it\n");
    }
    return -1;
}

int main(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    int code = parse_args(argc, argv, &r.o);
    if (code != 0) {
        return code < 0 ? EXIT_OK : code;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed peer or stdout is an error, not a silent death */
    ms_log_set_level(r.o.verbose ? MS_LOG_DEBUG : MS_LOG_INFO);
    ms_attest_policy_init(&r.policy);
    ms_buf_init(&r.req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&r.reply, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&r.out.text, MS_MAX_STREAM_BYTES);
    r.out.json = r.o.json;
    r.out.tty = isatty(STDOUT_FILENO);
    code = start(&r);
    if (code < 0) {
        code = do_turn(&r);
        ms_err e = ms_client_close(r.c);
        if (e != MS_OK) {
            ms_log(MS_LOG_DEBUG, "client", "close: %s", ms_err_name(e));
        }
    }
    ms_client_free(r.c);
    ms_attest_policy_free(&r.policy);
    ms_buf_free(&r.req);
    ms_buf_free(&r.reply);
    ms_buf_free(&r.out.text);
    return code;
}

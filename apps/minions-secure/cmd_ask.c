/* minions-secure ask: one verified, encrypted turn with a minions-supervisor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/text.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/cmds.h"
#include "secure/client/payload.h"

#define PROG "minions-secure"

static const char USAGE[] =
    "Usage: minions-secure [ask] --supervisor_url URL --trusted_attestation_pem FILE\n"
    "                      --prompt TEXT [options]\n"
    "\n"
    "Sends one turn to a minions-supervisor over its end-to-end channel\n"
    "(docs/protocol.md): the supervisor must prove, with evidence its policy accepts,\n"
    "that it holds the channel's static key, and (over HTTPS) that the TLS connection\n"
    "ends at it. Nothing is sent inside the channel before those checks pass. The\n"
    "reply is printed to standard output as it arrives; what was verified is said on\n"
    "standard error first. A reply the model cut at its token limit (finish_reason\n"
    "\"length\") is never an answer: standard error says INCOMPLETE, the exit status is\n"
    "9, --json gives \"ok\": false with the error code \"truncated\" and the text as\n"
    "\"partial_content\", and with --no-stream a <think> block the limit cut is not\n"
    "printed.\n"
    "\n" MS_CLI_CONN_HELP
    "Turn:\n"
    "  --prompt TEXT                the user's message (required)\n"
    "  --system_prompt TEXT         a system message before the prompt\n"
    "                               (--system-prompt)\n"
    "  --max-tokens N               ask for at most N tokens (1..1000000)\n"
    "  --temperature X              sampling temperature (0..2)\n"
    "  --no-stream                  wait for the whole reply, then print it\n"
    "  --json                       print one JSON object instead of the text:\n"
    "                               {\"ok\",\"content\",\"usage\",\"session\",\"evidence\",...}\n"
    "  --help, --version\n"
    "\n"
    "DEVELOPMENT MODE: dev-key evidence proves that the supervisor holds the pinned\n"
    "key, not what host or software runs it.\n"
    "\n" MS_CLI_EXIT_HELP;

typedef struct opts {
    ms_cli_conn conn;
    const char *prompt, *system_prompt;
    int no_stream, json;
    long max_tokens;
    double temperature;
} opts;

enum {
    O_PROMPT = MS_CLI_OPT_OWN_BASE,
    O_SYSTEM,
    O_MAXTOK,
    O_TEMP,
    O_NOSTREAM,
    O_JSON,
    O_HELP,
    O_VERSION
};

static int apply(void *ctx, int c, const char *arg)
{
    opts *o = ctx;
    switch (c) {
    case O_PROMPT: o->prompt = arg; return ms_cli_nonblank(arg);
    case O_SYSTEM: o->system_prompt = arg; return 1;
    case O_MAXTOK: return ms_cli_parse_long(arg, 1, 1000000, &o->max_tokens);
    case O_TEMP: return ms_cli_parse_double(arg, 0.0, 2.0, &o->temperature);
    case O_NOSTREAM: o->no_stream = 1; return 1;
    case O_JSON: o->json = 1; return 1;
    default: return ms_cli_conn_apply(&o->conn, c, arg) == 1;
    }
}

/* 0 to run, -1 after --help/--version, else the exit status (after saying why). */
static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option own[] = {{"prompt", 1, 0, O_PROMPT},
                                        {"system_prompt", 1, 0, O_SYSTEM},
                                        {"system-prompt", 1, 0, O_SYSTEM},
                                        {"max-tokens", 1, 0, O_MAXTOK},
                                        {"temperature", 1, 0, O_TEMP},
                                        {"no-stream", 0, 0, O_NOSTREAM},
                                        {"json", 0, 0, O_JSON},
                                        {"help", 0, 0, O_HELP},
                                        {"version", 0, 0, O_VERSION},
                                        {0, 0, 0, 0}};
    static const char *const help[] = {USAGE, NULL};
    o->temperature = -1.0;
    ms_cli_parser p = {.prog = PROG, .own = own, .opt_help = O_HELP, .opt_version = O_VERSION,
                       .help = help, .apply = apply, .ctx = o};
    int code = ms_cli_getopt(&p, argc, argv);
    if (code != 0) {
        return code;
    }
    if (ms_cli_conn_require(&o->conn, PROG) != MS_CLI_OK) {
        return MS_CLI_USAGE;
    }
    if (!o->prompt) {
        fprintf(stderr, "%s: --prompt is required. Try '%s --help'.\n", PROG, PROG);
        return MS_CLI_USAGE;
    }
    return 0;
}

/*
 * Streamed text: to stdout at once (and kept: a reply cut at the token limit is looked at
 * again), or only kept for --json. On a terminal through the filter of
 * common/text.h (controls, C1, bidi and invalid UTF-8 shown as escapes, even when a piece
 * cuts a character); to a pipe or file byte for byte.
 */
typedef struct sink {
    int json, tty;
    ms_text_tty filt;
    ms_buf text;
    size_t printed;
    char last;
} sink;

static ms_err on_piece(void *ctx, const char *p, size_t n)
{
    sink *s = ctx;
    ms_err e = ms_buf_append(&s->text, p, n); /* the same cap as the stream's (§10) */
    if (s->json || e != MS_OK) {
        return e;
    }
    if (s->tty) {
        ms_text_tty_write(&s->filt, p, n);
    } else {
        fwrite(p, 1, n, stdout);
    }
    fflush(stdout);
    s->printed += n;
    s->last = p[n - 1];
    return MS_OK;
}

/* The end of the text: a character cut at its end is shown as escaped bytes. */
static void end_text(sink *s)
{
    if (s->tty && !s->json) {
        ms_text_tty_flush(&s->filt);
    }
}

static void print_text(sink *s, const char *p, size_t n)
{
    if (n > 0) {
        ms_err e = on_piece(s, p, n);
        (void)e; /* printing cannot fail */
    }
    end_text(s);
}

typedef struct run {
    opts o;
    ms_client_peer peer;
    ms_client_turn_info ti;
    ms_buf req, reply;
    sink out;
} run;

/* The reply's text: the whole content, or what the stream delivered. */
static void reply_text(const run *r, const ms_client_reply *rep, const char **p, size_t *n)
{
    *p = r->o.no_stream ? rep->content : (const char *)r->out.text.p;
    *n = r->o.no_stream ? rep->content_len : r->out.text.len;
}

/* rep: the parsed reply when the turn succeeded (a truncated one is ok: false here). */
static int finish_json(run *r, ms_err e, int code, const ms_client_reply *rep)
{
    ms_client_outcome oc = {.ok = e == MS_OK, .exit_code = code};
    ms_buf js;
    char msg[320];
    ms_client_peer now;
    ms_client_peer_info(r->o.conn.client, &now);
    if (now.connected) {
        r->peer = now;
    }
    r->peer.rehandshakes = now.rehandshakes;
    if (rep != NULL && rep->ok) {
        reply_text(r, rep, &oc.content, &oc.content_len);
        oc.finish_reason = rep->finish_reason;
        oc.prompt_tokens = rep->prompt_tokens;
        oc.completion_tokens = rep->completion_tokens;
        if (rep->truncated) {
            oc.ok = 0;
            oc.truncated = 1;
            oc.error_code = "truncated";
            oc.error_message = ms_err_str(MS_ERR_BACKEND_CUT);
        }
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
        code = code == MS_CLI_OK ? MS_CLI_TURN : code;
    }
    ms_buf_free(&js);
    return code;
}

/* A reply the model cut at its token limit: never shown as an answer (docs/client.md). */
static int say_cut(run *r, const ms_client_reply *rep)
{
    const char *p;
    size_t n;
    ms_buf visible;
    ms_buf_init(&visible, MS_MAX_RECORD_PLAINTEXT);
    reply_text(r, rep, &p, &n);
    bool in_think = ms_cli_cut_visible(p, n, &visible);
    if (r->o.no_stream && !r->o.json) {
        /* the reasoning of an unclosed <think> is left out: it is not an answer */
        print_text(&r->out, in_think ? (const char *)visible.p : p, in_think ? visible.len : n);
        if (r->out.printed > 0 && r->out.last != '\n') {
            putchar('\n');
        }
        fflush(stdout);
    }
    ms_cli_say_limit(PROG, in_think, !r->o.no_stream && !r->o.json, "--max-tokens");
    ms_buf_free(&visible);
    return MS_CLI_LIMIT;
}

/* The turn, then what to print. */
static int do_turn(run *r)
{
    ms_err e;
    if (r->o.no_stream) {
        e = ms_client_turn(r->o.conn.client, r->req.p, r->req.len, &r->reply, &r->ti);
    } else {
        e = ms_client_turn_stream(r->o.conn.client, r->req.p, r->req.len, on_piece, &r->out, &r->reply, &r->ti);
    }
    int code = e == MS_OK ? MS_CLI_OK : ms_client_exit_code(e, 0);
    if (e != MS_OK && r->ti.streamed_bytes > 0) {
        code = MS_CLI_CUT; /* text arrived (and was shown), and it is not a whole answer */
    }
    end_text(&r->out);
    if (r->out.printed > 0 && r->out.last != '\n') {
        putchar('\n');
    }
    if (e != MS_OK) {
        ms_cli_say_error(&r->o.conn, PROG, e, code, &r->ti);
    }
    ms_client_reply rep;
    memset(&rep, 0, sizeof rep);
    bool parsed = e == MS_OK &&
                  ms_client_reply_parse(r->reply.p, r->reply.len, !r->o.no_stream, &rep) == MS_OK;
    if (parsed && rep.truncated) {
        code = say_cut(r, &rep);
    } else if (parsed && r->o.no_stream && !r->o.json) {
        print_text(&r->out, rep.content, rep.content_len);
        if (r->out.printed > 0 && r->out.last != '\n') {
            putchar('\n');
        }
    }
    if (r->o.json) {
        code = finish_json(r, e, code, parsed ? &rep : NULL);
    }
    ms_client_reply_free(&rep);
    fflush(stdout);
    return code;
}

static int start(run *r)
{
    ms_err e = ms_client_request_build(r->o.system_prompt, r->o.prompt, r->o.max_tokens,
                                       r->o.temperature, &r->req);
    if (e != MS_OK) {
        fprintf(stderr, "%s: --prompt/--system_prompt: %s (text must be UTF-8)\n", PROG,
                ms_err_str(e));
        return r->o.json ? finish_json(r, e, MS_CLI_USAGE, NULL) : MS_CLI_USAGE;
    }
    int code = ms_cli_conn_open(&r->o.conn, PROG, 0, &e);
    if (code != MS_CLI_OK) {
        return r->o.json ? finish_json(r, e, code, NULL) : code;
    }
    r->peer = r->o.conn.peer;
    return -1;
}

int ms_cmd_ask(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    ms_cli_conn_init(&r.o.conn);
    int code = parse_args(argc, argv, &r.o);
    if (code != 0) {
        ms_cli_conn_free(&r.o.conn);
        return code < 0 ? MS_CLI_OK : code;
    }
    ms_log_set_level(r.o.conn.verbose ? MS_LOG_DEBUG : MS_LOG_INFO);
    ms_buf_init(&r.req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&r.reply, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&r.out.text, MS_MAX_STREAM_BYTES);
    r.out.json = r.o.json;
    r.out.tty = isatty(STDOUT_FILENO);
    ms_text_tty_init(&r.out.filt, ms_text_sink_file, stdout);
    code = start(&r);
    if (code < 0) {
        code = do_turn(&r);
    }
    ms_cli_conn_free(&r.o.conn);
    ms_buf_free(&r.req);
    ms_buf_free(&r.reply);
    ms_buf_free(&r.out.text);
    return code;
}

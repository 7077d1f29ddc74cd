/* minions-secure chat: a conversation with a verified supervisor, kept on the client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/text.h"
#include "apps/minions-secure/chat_internal.h"
#include "apps/minions-secure/cmds.h"
#include "apps/minions-secure/run_compat.h"
#include "secure/client/payload.h"
#include "secure/client/report.h"

#define P MS_CHAT_PROG

static const char USAGE[] =
    "Usage: minions-secure chat --supervisor_url URL --trusted_attestation_pem FILE\n"
    "                           [options]\n"
    "\n"
    "A conversation with a minions-supervisor over its end-to-end channel\n"
    "(docs/chat.md). The supervisor is verified first (as for 'ask'); nothing is sent\n"
    "before. Each line you type is a message, unless it is a /command; the reply\n"
    "streams as it arrives. The conversation stays on this machine and is sent whole\n"
    "with each message; a reply that is cut or fails is shown as such and is not\n"
    "added to it.\n"
    "\n"
    "On a terminal: line editing and a history of your lines, in memory only (never\n"
    "written to disk). From a pipe: one message per line, replies to standard output,\n"
    "no prompts; commands still work. Notices and errors go to standard error.\n"
    "\n" MS_CLI_CONN_HELP
    "Chat:\n"
    "  --system TEXT                the system message (also --system_prompt;\n"
    "                               /system)\n"
    "  --max-tokens N               ask for at most N tokens per reply (1..1000000)\n"
    "  --temperature X              sampling temperature (0..2)\n"
    "  --vm_launch_measurement_hashfile FILE\n"
    "                               the reference's pin: FILE holds the SEV-SNP\n"
    "                               launch measurement (96 hex digits), in place of\n"
    "                               the policy's sev_snp.measurement; evidence of\n"
    "                               another type is then refused\n"
    "  --help, --version\n"
    "\n" MS_SLOG_HELP
    "  The log holds what you typed and the replies (that is what the session was),\n"
    "  the names and sizes of attached files, and what the supervisor proved.\n"
    "\n";

static const char USAGE_TAIL[] =
    "\n"
    "DEVELOPMENT MODE: dev-key evidence proves that the supervisor holds the pinned\n"
    "key, not what host or software runs it.\n"
    "\n"
    "Exit status: 0 when the chat ended (/exit or end of input) and every turn and\n"
    "command succeeded; otherwise the status of the last failure, as below (2 also\n"
    "for a command that failed, a message refused before sending, a session log that\n"
    "could not be written, or standard output that failed).\n"
    "\n" MS_CLI_EXIT_HELP;

enum { O_SYSTEM = MS_CLI_OPT_OWN_BASE, O_MAXTOK, O_TEMP, O_HELP, O_VERSION, O_HASHFILE };

static int apply(void *ctx, int c, const char *arg)
{
    ms_chat *ch = ctx;
    switch (c) {
    case O_SYSTEM: ch->system = arg; return 1;
    case O_MAXTOK: return ms_cli_parse_long(arg, 1, 1000000, &ch->max_tokens);
    case O_TEMP: return ms_cli_parse_double(arg, 0.0, 2.0, &ch->temperature);
    case O_HASHFILE: ch->conn.snp_hashfile = arg; return arg[0] != '\0';
    default: break;
    }
    int r = ms_slog_apply(&ch->logo, c, arg);
    return r >= 0 ? r : ms_cli_conn_apply(&ch->conn, c, arg) == 1;
}

/* 0 to run, -1 after --help/--version, else the exit status (after saying why). */
static int parse_args(int argc, char **argv, ms_chat *ch)
{
    static const struct option own[] = {{"system", 1, 0, O_SYSTEM},
                                        {"system_prompt", 1, 0, O_SYSTEM},
                                        {"system-prompt", 1, 0, O_SYSTEM},
                                        {"max-tokens", 1, 0, O_MAXTOK},
                                        {"temperature", 1, 0, O_TEMP},
                                        {"vm_launch_measurement_hashfile", 1, 0, O_HASHFILE},
                                        {"vm-launch-measurement-hashfile", 1, 0, O_HASHFILE},
                                        {"help", 0, 0, O_HELP},
                                        {"version", 0, 0, O_VERSION},
                                        MS_SLOG_OPTIONS,
                                        {0, 0, 0, 0}};
    static const char *const help[] = {USAGE, MS_CHAT_COMMANDS_HELP, USAGE_TAIL, NULL};
    ms_cli_parser p = {.prog = P " chat", .own = own, .opt_help = O_HELP,
                       .opt_version = O_VERSION, .help = help, .apply = apply, .ctx = ch};
    int code = ms_cli_getopt(&p, argc, argv);
    if (code != 0) {
        return code;
    }
    ms_cli_conn_from_env(&ch->conn, P " chat"); /* the reference's lines name no pin */
    return ms_cli_conn_require(&ch->conn, P " chat") == MS_CLI_OK ? 0 : MS_CLI_USAGE;
}

void ms_chat_fail(ms_chat *ch, int status)
{
    ch->status = status;
}

void ms_chat_log_event(ms_chat *ch, const char *type, const ms_json_builder *data)
{
    ms_err e = ms_slog_event(&ch->log, type, data);
    if (e != MS_OK) {
        fprintf(stderr, "%s: the session log %s cannot be written: %s: the chat ends here\n", P,
                ch->log.path, ms_err_str(e));
        ms_chat_fail(ch, MS_CLI_USAGE);
        ch->done = true;
    }
}

void ms_chat_refused(ms_chat *ch, ms_err code, const char *why, size_t bytes)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_chat_fail(ch, MS_CLI_USAGE);
    if (!ch->log.log || ms_json_builder_new(MS_JSON_OBJECT, &b, &root) != MS_OK) {
        return;
    }
    ms_err r = ms_json_add_cstr(root, "code", ms_err_name(code));
    r = r ? r : ms_json_add_cstr(root, "message", why);
    r = r ? r : ms_json_add_u64(root, "bytes", bytes);
    if (r == MS_OK) {
        ms_chat_log_event(ch, "error", b);
    }
    ms_json_builder_free(b);
}

/* --- one turn ----------------------------------------------------------------------------- */

/* Each authenticated piece: shown at once, and kept (the conversation takes it if the turn completes). */
static ms_err on_piece(void *ctx, const char *p, size_t n)
{
    ms_chat *ch = ctx;
    if (ms_buf_append(&ch->reply, p, n) != MS_OK) {
        return MS_ERR_CAP_EXCEEDED; /* stops the turn: a reply the conversation cannot hold */
    }
    if (ch->tty_out) {
        ms_text_tty_write(&ch->filt, p, n); /* escapes what could drive the terminal */
    } else {
        fwrite(p, 1, n, stdout);
    }
    fflush(stdout);
    ch->printed += n;
    ch->last = p[n - 1];
    return MS_OK;
}

static void log_turn(ms_chat *ch, const char *text, size_t len, ms_err e, const ms_client_turn_info *ti,
                     const ms_client_reply *rep, double seconds, bool sent)
{
    ms_json_builder *b;
    ms_json_wval root, x;
    if (!ch->log.log || ms_json_builder_new(MS_JSON_OBJECT, &b, &root) != MS_OK) {
        return;
    }
    bool cut = e != MS_OK && (ti->streamed_bytes > 0 || e == MS_ERR_BACKEND_CUT);
    ms_err r = ms_json_add_u64(root, "turn", ch->attempts);
    r = r ? r : ms_json_add_str(root, "user", text, len);
    r = r ? r : ms_json_add_str(root, "reply", (const char *)ch->reply.p, ch->reply.len);
    r = r ? r : ms_json_add_bool(root, "ok", e == MS_OK);
    if (r == MS_OK && e == MS_OK) {
        r = ms_json_add_null(root, "error");
    } else if (r == MS_OK) {
        r = ms_json_add_obj(root, "error", &x);
        r = r ? r : ms_json_add_cstr(x, "code", ti->remote_failed ? ti->error_code : ms_err_name(e));
        r = r ? r : ms_json_add_cstr(x, "message", ti->remote_failed ? ti->error_message : ms_err_str(e));
    }
    r = r ? r : ms_json_add_bool(root, "cut", cut);
    r = r ? r : ms_json_add_bool(root, "sent", sent);
    if (r == MS_OK && rep && rep->ok) {
        r = ms_json_add_obj(root, "usage", &x);
        r = r ? r : ms_json_add_u64(x, "prompt_tokens", rep->prompt_tokens);
        r = r ? r : ms_json_add_u64(x, "completion_tokens", rep->completion_tokens);
    } else if (r == MS_OK) {
        r = ms_json_add_null(root, "usage");
    }
    if (r == MS_OK && (ch->conv.n_docs > 0 || ch->conv.npending > 0)) {
        r = ms_json_add_obj(root, "attached", &x); /* names and text: the chat_command events */
        r = r ? r : ms_json_add_u64(x, "documents", ch->conv.n_docs);
        r = r ? r : ms_json_add_u64(x, "bytes", ch->conv.attached.len);
        r = r ? r : ms_json_add_u64(x, "images", ch->conv.npending);
    }
    r = r ? r : ms_json_add_u64(root, "handshakes", ti->handshakes);
    r = r ? r : ms_json_add_double(root, "seconds", seconds);
    if (r == MS_OK) {
        ms_chat_log_event(ch, "chat_turn", b);
    }
    ms_json_builder_free(b);
}

/* A turn that made a new handshake (the supervisor restarted, or the session expired). */
static void after_rehandshake(ms_chat *ch, const ms_client_turn_info *ti)
{
    char line[MS_CLIENT_DESCRIBE_LEN];
    ms_client_peer now;
    if (ti->handshakes == 0) {
        return;
    }
    ms_client_peer_info(ch->conn.client, &now);
    if (!now.connected) {
        return;
    }
    ms_client_describe(&now, line, sizeof line);
    fprintf(stderr, "%s: the supervisor did not know the session any more (restarted or "
                    "expired): a new handshake, checked again: %s\n",
            P, line);
    ms_err e = ms_slog_session(&ch->log, &ch->conn, &now, 0, MS_OK);
    if (e != MS_OK) {
        fprintf(stderr, "%s: the session log cannot be written: %s: the chat ends here\n", P,
                ms_err_str(e));
        ms_chat_fail(ch, MS_CLI_USAGE);
        ch->done = true;
    }
}

static void say_refused(ms_conv_limit why)
{
    switch (why) {
    case MS_CONV_TOO_MANY_MESSAGES:
        fprintf(stderr, "%s: not sent: the conversation would have more than %u messages or %u "
                        "images; /clear starts a new one (/save FILE first to keep this one)\n",
                P, MS_MAX_CHAT_MESSAGES, MS_MAX_REQUEST_IMAGES);
        break;
    case MS_CONV_TOO_LARGE:
        fprintf(stderr, "%s: not sent: with this message the conversation would not fit one "
                        "request (%u KiB); /clear starts a new one (/save FILE first to keep "
                        "this one)\n",
                P, MS_MAX_RECORD_PLAINTEXT / 1024u);
        break;
    default:
        fprintf(stderr, "%s: not sent: the message is not valid UTF-8 text\n", P);
        break;
    }
}

/* A reply the model cut at its token limit (MS_ERR_BACKEND_CUT): shown, said INCOMPLETE. */
static void say_cut(ms_chat *ch)
{
    ms_buf visible;
    ms_buf_init(&visible, MS_MAX_RECORD_PLAINTEXT);
    bool in_think = ms_cli_cut_visible((const char *)ch->reply.p, ch->reply.len, &visible);
    ms_cli_say_limit(P, in_think, true, "--max-tokens");
    ms_buf_free(&visible);
}

static void turn_failed(ms_chat *ch, ms_err e, const ms_client_turn_info *ti)
{
    int code = ms_client_exit_code(e, 0);
    if (ti->streamed_bytes > 0 && e != MS_ERR_BACKEND_CUT) {
        code = MS_CLI_CUT; /* text was shown, and it is not a whole answer */
    }
    if (e == MS_ERR_CAP_EXCEEDED && ti->streamed_bytes > 0) {
        fprintf(stderr, "%s: the reply is longer than a chat keeps (%u KiB): stopped\n", P,
                MS_MAX_RECORD_PLAINTEXT / 1024u);
    }
    if (e == MS_ERR_BACKEND_CUT) {
        say_cut(ch);
    } else {
        ms_cli_say_error(&ch->conn, P, e, code, ti);
    }
    fprintf(stderr, "%s: this turn is not in the conversation: your next message is sent "
                    "without it%s\n",
            P, ch->conv.n_docs + ch->conv.npending > 0 ? " (what you attached stays for it)" : "");
    ms_chat_fail(ch, code);
    if (code == MS_CLI_VERIFY) {
        fprintf(stderr, "%s: the supervisor no longer passes verification: the chat ends\n", P);
        ch->done = true;
    }
}

static void turn(ms_chat *ch, const char *text, size_t len)
{
    ms_client_turn_info ti;
    ms_client_reply rep;
    ms_conv_limit why;
    double t0 = ms_clock_s();
    memset(&ti, 0, sizeof ti);
    memset(&rep, 0, sizeof rep);
    ch->attempts++;
    ms_buf_clear(&ch->reply);
    ms_buf_clear(&ch->final);
    ms_err e = ms_conv_request(&ch->conv, text, len, ch->max_tokens, ch->temperature, &ch->user,
                               &ch->req, &why);
    if (e != MS_OK) {
        say_refused(why);
        log_turn(ch, text, len, e, &ti, NULL, ms_clock_s() - t0, false);
        ms_chat_fail(ch, MS_CLI_USAGE);
        return;
    }
    ch->printed = 0;
    e = ms_client_turn_stream(ch->conn.client, ch->req.p, ch->req.len, on_piece, ch, &ch->final, &ti);
    ms_text_tty_flush(&ch->filt); /* a character the reply's end cut: shown escaped */
    if (ch->printed > 0 && ch->last != '\n') {
        putchar('\n');
    }
    fflush(stdout);
    if (e == MS_OK && ms_client_reply_parse(ch->final.p, ch->final.len, 1, &rep) != MS_OK) {
        e = MS_ERR_PAYLOAD; /* cannot happen: the client checked the FINAL */
    }
    if (e == MS_OK && rep.truncated) {
        e = MS_ERR_BACKEND_CUT; /* a fragment: shown, said INCOMPLETE, kept out of the history */
    }
    after_rehandshake(ch, &ti);
    if (e != MS_OK) {
        turn_failed(ch, e, &ti);
    }
    log_turn(ch, text, len, e, &ti, &rep, ms_clock_s() - t0, true);
    if (e == MS_OK && ms_conv_commit(&ch->conv, &ch->user, (const char *)ch->reply.p,
                                     ch->reply.len) != MS_OK) {
        fprintf(stderr, "%s: out of memory: the turn could not be kept; the chat ends\n", P);
        ms_chat_fail(ch, MS_CLI_USAGE);
        ch->done = true;
    }
    ms_client_reply_free(&rep);
    ms_buf_clear(&ch->user);
    ms_buf_clear(&ch->req);
    if (ferror(stdout)) { /* e.g. a reader that went away: stop spending turns on nobody */
        fprintf(stderr, "%s: standard output failed: the chat ends\n", P);
        ms_chat_fail(ch, MS_CLI_USAGE);
        ch->done = true;
    }
}

/* --- the session ---------------------------------------------------------------------------- */

static void loop(ms_chat *ch)
{
    while (!ch->done) {
        size_t bytes = 0;
        ms_chat_line r = ms_chat_input_read(ch->in, "you> ", &ch->line, &bytes);
        if (r == MS_CHAT_LINE_EOF) {
            if (ch->interactive) {
                putchar('\n');
            }
            break;
        }
        if (r == MS_CHAT_LINE_TOO_LONG) {
            fprintf(stderr, "%s: not sent: a line may have at most %u KiB\n", P,
                    MS_MAX_CHAT_LINE / 1024u);
            ms_chat_refused(ch, MS_ERR_CAP_EXCEEDED, "line refused: over the line cap", bytes);
            continue;
        }
        const char *s = (const char *)ch->line.p;
        size_t n = ch->line.len;
        if (n == 0) {
            continue;
        }
        /* Messages and commands alike: what the log and the request cannot hold faithfully. */
        if (!ms_text_utf8_valid(s, n) || memchr(s, 0, n) != NULL) {
            fprintf(stderr, "%s: not sent: the line is not valid UTF-8 text (or holds a NUL "
                            "byte)\n",
                    P);
            ms_chat_refused(ch, MS_ERR_ARG,
                            "line refused: not valid UTF-8 text, or holds a NUL byte", n);
            continue;
        }
        if (s[0] == '/' && (n < 2 || s[1] != '/')) {
            ms_chat_command(ch, s);
            continue;
        }
        if (ms_chat_habit(s)) { /* the reference's bare exit, quit, clear */
            ms_chat_command(ch, ms_chat_habit(s));
            continue;
        }
        if (s[0] == '/') { /* "//text" sends "/text" */
            s++;
            n--;
        }
        turn(ch, s, n);
    }
}

static int connect_and_log(ms_chat *ch)
{
    ms_err e = MS_OK;
    double t0 = ms_clock_s();
    int code = ms_cli_conn_open(&ch->conn, P, 0, &e);
    ms_err le = ms_slog_session(&ch->log, &ch->conn, code == MS_CLI_OK ? &ch->conn.peer : NULL,
                                ms_clock_s() - t0, code == MS_CLI_OK ? MS_OK : e);
    if (le != MS_OK) {
        fprintf(stderr, "%s: the session log %s cannot be written: %s\n", P, ch->log.path,
                ms_err_str(le));
        return code == MS_CLI_OK ? MS_CLI_USAGE : code;
    }
    return code;
}

static int start(ms_chat *ch)
{
    if (ch->system && ms_conv_set_system(&ch->conv, ch->system, strlen(ch->system)) != MS_OK) {
        fprintf(stderr, "%s: --system: the text is too long\n", P);
        return MS_CLI_USAGE;
    }
    if (ms_slog_open(&ch->log, &ch->logo, "chat", P) != MS_OK) {
        return MS_CLI_USAGE;
    }
    int code = connect_and_log(ch);
    if (code != MS_CLI_OK) {
        return code;
    }
    if (ms_chat_input_new(&ch->in, ch->interactive) != MS_OK) {
        fprintf(stderr, "%s: out of memory\n", P);
        return MS_CLI_USAGE;
    }
    if (ch->interactive) {
        fprintf(stderr, "Chat with the supervisor at %s. /help lists the commands; /exit or "
                        "Ctrl-D ends the chat.%s%s\n",
                ch->conn.url, ch->log.log ? " Session log: " : "", ch->log.log ? ch->log.path : "");
    }
    return MS_CLI_OK;
}

int ms_cmd_chat(int argc, char **argv)
{
    ms_chat ch;
    memset(&ch, 0, sizeof ch);
    ch.temperature = -1.0;
    ms_cli_conn_init(&ch.conn);
    ms_conv_init(&ch.conv);
    int code = parse_args(argc, argv, &ch);
    if (code == 0) {
        ms_log_set_level(ch.conn.verbose ? MS_LOG_DEBUG : MS_LOG_INFO);
        ch.tty_out = isatty(STDOUT_FILENO);
        ms_text_tty_init(&ch.filt, ms_text_sink_file, stdout);
        ch.interactive = ch.tty_out && isatty(STDIN_FILENO);
        ms_buf_init(&ch.line, MS_MAX_CHAT_LINE);
        ms_buf_init(&ch.user, MS_MAX_RECORD_PLAINTEXT);
        ms_buf_init(&ch.req, MS_MAX_RECORD_PLAINTEXT);
        ms_buf_init(&ch.final, MS_MAX_RECORD_PLAINTEXT);
        ms_buf_init(&ch.reply, MS_MAX_RECORD_PLAINTEXT);
        code = start(&ch);
        if (code == MS_CLI_OK) {
            loop(&ch);
            code = ch.status;
        }
        if (ms_slog_close(&ch.log, P, false) != MS_OK && code == MS_CLI_OK) {
            code = MS_CLI_USAGE;
        }
    }
    ms_chat_input_free(ch.in);
    ms_cli_conn_free(&ch.conn);
    ms_conv_free(&ch.conv);
    ms_buf_free(&ch.line);
    ms_buf_free(&ch.user);
    ms_buf_free(&ch.req);
    ms_buf_free(&ch.final);
    ms_buf_free(&ch.reply);
    return code < 0 ? MS_CLI_OK : code;
}

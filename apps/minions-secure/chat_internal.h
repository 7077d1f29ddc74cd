/* minions-secure chat: the state its files share (cmd_chat.c runs it, chat_cmds.c has the /commands). */
#ifndef MS_APPS_MINIONS_SECURE_CHAT_INTERNAL_H
#define MS_APPS_MINIONS_SECURE_CHAT_INTERNAL_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/text.h"
#include "apps/minions-secure/chat_conv.h"
#include "apps/minions-secure/chat_input.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/session_log.h"

#define MS_CHAT_PROG "minions-secure"

typedef struct ms_chat {
    /* options */
    ms_cli_conn conn;
    ms_slog_opts logo;
    const char *system;
    long max_tokens;
    double temperature;
    /* state */
    bool interactive; /* standard input and output are terminals */
    bool tty_out;     /* standard output is a terminal: replies go through filt */
    ms_text_tty filt; /* escapes controls, C1, bidi and invalid UTF-8 (common/text.h) */
    ms_conv conv;
    ms_slog log;
    ms_chat_input *in;
    ms_buf line, user, req, final, reply;
    size_t printed; /* reply bytes printed this turn */
    char last;      /* the last byte printed */
    unsigned attempts; /* turns tried (the log's "turn") */
    int status; /* exit status: 0, or the last failure's */
    bool done;  /* /exit, or the chat cannot go on */
} ms_chat;

/* Record a failure's exit status (the chat's status is the last failure's). */
void ms_chat_fail(ms_chat *ch, int status);

/* A line that starts with one '/': run the command. */
void ms_chat_command(ms_chat *ch, const char *line);

/*
 * A line refused before it was sent or run (the caller says why on standard error): the
 * status becomes 2, and the log gets an "error" event with the error's name, a fixed
 * sentence and the line's length in bytes, never its text (it may be what the log cannot
 * hold).
 */
void ms_chat_refused(ms_chat *ch, ms_err code, const char *why, size_t bytes);

/* Append an event; on failure say so, set the status and end the chat. */
void ms_chat_log_event(ms_chat *ch, const char *type, const ms_json_builder *data);

/* A line that is exactly "exit", "quit" or "clear" (the reference chat's habit): the
   command it stands for ("/exit", ...), else NULL. */
const char *ms_chat_habit(const char *line);

/* The one-line help of the commands (for /help and --help). */
extern const char MS_CHAT_COMMANDS_HELP[];

#endif

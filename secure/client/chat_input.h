/* minions-secure chat: where the user's lines come from (a terminal with line editing, or a pipe). */
#ifndef MS_SECURE_CLIENT_CHAT_INPUT_H
#define MS_SECURE_CLIENT_CHAT_INPUT_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * On a terminal (interactive): libedit's line editing, with a history of the lines typed
 * in this chat, kept in memory only and never written to disk (it holds what the user
 * typed), cleared on close. Otherwise standard input is read line by line, no prompt.
 * Lines are at most MS_MAX_CHAT_LINE bytes. One instance per process (libedit's readline
 * interface is global); not thread-safe.
 */
typedef struct ms_chat_input ms_chat_input;

MS_MUST_CHECK ms_err ms_chat_input_new(ms_chat_input **out, bool interactive);
/* Wipes the line history and the last line. NULL is allowed. */
void ms_chat_input_free(ms_chat_input *in);

typedef enum ms_chat_line {
    MS_CHAT_LINE_OK = 0,   /* a line (without its newline) is in `line`, NUL-terminated */
    MS_CHAT_LINE_EOF,      /* end of input (Ctrl-D on a terminal) */
    MS_CHAT_LINE_TOO_LONG, /* over MS_MAX_CHAT_LINE: the whole line was read and dropped */
} ms_chat_line;

/* The next line; `prompt` is shown on a terminal only. `line` is cleared first. */
ms_chat_line ms_chat_input_read(ms_chat_input *in, const char *prompt, ms_buf *line);

#endif

/* minions-secure chat: where the user's lines come from (a terminal with line editing, or a pipe). */
#ifndef MS_APPS_MINIONS_SECURE_CHAT_INPUT_H
#define MS_APPS_MINIONS_SECURE_CHAT_INPUT_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * On a terminal (interactive): libedit's line editing, with a history of the lines typed
 * in this chat, kept in memory only and never written to disk (it holds what the user
 * typed), wiped and freed on close. Otherwise standard input is read line by line, no
 * prompt.
 * Lines are at most MS_MAX_CHAT_LINE bytes. One instance per process (libedit's readline
 * interface is global); not thread-safe.
 */
typedef struct ms_chat_input ms_chat_input;

MS_MUST_CHECK ms_err ms_chat_input_new(ms_chat_input **out, bool interactive);
/*
 * Wipes the text of every history entry, then frees the history. NULL is allowed. What
 * libedit keeps elsewhere (its edit buffer, the copy of a line recalled from the history)
 * is freed by libedit without being wiped: docs/chat.md says so.
 */
void ms_chat_input_free(ms_chat_input *in);

/* Zero the text of the `oldest` oldest entries of libedit's history (SIZE_MAX: all); the
   entries stay, empty. For ms_chat_input_free, for the entry a full history drops when a
   line is added, and for tests. */
void ms_chat_history_wipe(size_t oldest);

typedef enum ms_chat_line {
    MS_CHAT_LINE_OK = 0,   /* a line (without its newline) is in `line`, NUL-terminated */
    MS_CHAT_LINE_EOF,      /* end of input (Ctrl-D on a terminal) */
    MS_CHAT_LINE_TOO_LONG, /* over MS_MAX_CHAT_LINE: the whole line was read and dropped */
} ms_chat_line;

/* The next line; `prompt` is shown on a terminal only. `line` is cleared first. *bytes: the
   line's length as read (without its newline), also for a line too long to keep. */
ms_chat_line ms_chat_input_read(ms_chat_input *in, const char *prompt, ms_buf *line,
                                size_t *bytes);

#endif

/* minions-secure chat: lines from a terminal (libedit, history in memory only) or from a pipe. */
#include "secure/client/chat_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <editline/readline.h>

#include "common/limits.h"

#define HISTORY_LINES 500

struct ms_chat_input {
    bool tty;
};

ms_err ms_chat_input_new(ms_chat_input **out, bool interactive)
{
    *out = calloc(1, sizeof **out);
    if (!*out) {
        return MS_ERR_NOMEM;
    }
    (*out)->tty = interactive;
    if (interactive) {
        rl_readline_name = "minions-secure"; /* for "minions-secure:" lines in ~/.editrc */
        using_history();
        stifle_history(HISTORY_LINES); /* memory only: nothing here ever writes a file */
    }
    return MS_OK;
}

void ms_chat_input_free(ms_chat_input *in)
{
    if (in && in->tty) {
        clear_history();
    }
    free(in);
}

static ms_chat_line read_pipe(ms_buf *line)
{
    int ch = EOF;
    bool any = false, over = false;
    while ((ch = getc(stdin)) != EOF) {
        any = true;
        if (ch == '\n') {
            break;
        }
        if (!over && ms_buf_append_u8(line, (uint8_t)ch) != MS_OK) {
            over = true; /* keep reading to the end of the line, keep nothing */
            ms_buf_clear(line);
        }
    }
    if (!any) {
        return MS_CHAT_LINE_EOF;
    }
    if (over) {
        return MS_CHAT_LINE_TOO_LONG;
    }
    if (line->len > 0 && line->p[line->len - 1] == '\r') {
        ms_err e = ms_buf_shrink(line, 1);
        (void)e; /* len > 0 */
    }
    return ms_buf_terminate(line) == MS_OK ? MS_CHAT_LINE_OK : MS_CHAT_LINE_TOO_LONG;
}

static ms_chat_line read_tty(const char *prompt, ms_buf *line)
{
    char *s = readline(prompt);
    if (!s) {
        return MS_CHAT_LINE_EOF;
    }
    size_t n = strlen(s);
    ms_chat_line r = MS_CHAT_LINE_OK;
    if (n > MS_MAX_CHAT_LINE || ms_buf_append(line, s, n) != MS_OK ||
        ms_buf_terminate(line) != MS_OK) {
        ms_buf_clear(line);
        r = MS_CHAT_LINE_TOO_LONG;
    } else if (n > 0) {
        add_history(s);
    }
    ms_wipe(s, n);
    free(s);
    return r;
}

ms_chat_line ms_chat_input_read(ms_chat_input *in, const char *prompt, ms_buf *line)
{
    ms_buf_clear(line);
    return in->tty ? read_tty(prompt, line) : read_pipe(line);
}

/* minions-secure chat: lines from a terminal (libedit, history in memory only) or from a pipe. */
#include "apps/minions-secure/chat_input.h"

#include <stdint.h>
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

/* Zero one entry's text. It is libedit's own heap copy of the line (HIST_ENTRY declares it
   const for callers that only read it), so writing to it is allowed. */
static void wipe_entry(const HIST_ENTRY *h)
{
    if (h && h->line) {
        char *s = (char *)h->line;
        ms_wipe(s, strlen(s));
    }
}

void ms_chat_history_wipe(size_t oldest)
{
    HIST_ENTRY **all = history_list(); /* oldest first; NULL when empty */
    for (size_t i = 0; all && all[i] && i < oldest; i++) {
        wipe_entry(all[i]);
    }
}

void ms_chat_input_free(ms_chat_input *in)
{
    if (in && in->tty) {
        ms_chat_history_wipe(SIZE_MAX); /* clear_history frees them without wiping */
        clear_history();
    }
    free(in);
}

/* A line into the history. When it is full the oldest entry is dropped, freed unwiped by
   libedit: wipe its text first. */
static void history_add(const char *line)
{
    if (history_length >= HISTORY_LINES) {
        ms_chat_history_wipe(1);
    }
    add_history(line);
}

static ms_chat_line read_pipe(ms_buf *line, size_t *bytes)
{
    int ch = EOF;
    bool any = false, over = false;
    while ((ch = getc(stdin)) != EOF) {
        any = true;
        if (ch == '\n') {
            break;
        }
        *bytes += *bytes < SIZE_MAX;
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
        (*bytes)--;
    }
    return ms_buf_terminate(line) == MS_OK ? MS_CHAT_LINE_OK : MS_CHAT_LINE_TOO_LONG;
}

static ms_chat_line read_tty(const char *prompt, ms_buf *line, size_t *bytes)
{
    char *s = readline(prompt);
    if (!s) {
        return MS_CHAT_LINE_EOF;
    }
    size_t n = strlen(s);
    *bytes = n;
    ms_chat_line r = MS_CHAT_LINE_OK;
    if (n > MS_MAX_CHAT_LINE || ms_buf_append(line, s, n) != MS_OK ||
        ms_buf_terminate(line) != MS_OK) {
        ms_buf_clear(line);
        r = MS_CHAT_LINE_TOO_LONG;
    } else if (n > 0) {
        history_add(s);
    }
    ms_wipe(s, n);
    free(s);
    return r;
}

ms_chat_line ms_chat_input_read(ms_chat_input *in, const char *prompt, ms_buf *line,
                                size_t *bytes)
{
    ms_buf_clear(line);
    *bytes = 0;
    return in->tty ? read_tty(prompt, line, bytes) : read_pipe(line, bytes);
}

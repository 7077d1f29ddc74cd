/* Tests for the chat's input (apps/minions-secure/chat_input.c): line lengths, and the history wiped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "common/limits.h"
#include "apps/minions-secure/chat_input.h"
#include "tests/test.h"

static bool all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* The history's text is zeroed before libedit frees it (clear_history alone does not). */
static void test_history_wiped(void)
{
    ms_chat_input *in = NULL;
    CHECK_OK(ms_chat_input_new(&in, true));
    add_history("first secret line");
    add_history("second: the passphrase is TANGERINE");
    HIST_ENTRY **all = history_list();
    CHECK(all != NULL && all[0] != NULL && all[1] != NULL && all[2] == NULL);
    if (!all || !all[0] || !all[1]) {
        ms_chat_input_free(in);
        return;
    }
    /* libedit's own copies, oldest first: these are what clear_history frees */
    const char *p0 = all[0]->line, *p1 = all[1]->line;
    CHECK(strcmp(p0, "first secret line") == 0);
    size_t n0 = strlen(p0), n1 = strlen(p1);
    ms_chat_history_wipe(1); /* the oldest only */
    CHECK(all_zero(p0, n0) && strcmp(p1, "second: the passphrase is TANGERINE") == 0);
    ms_chat_history_wipe(SIZE_MAX);
    CHECK(all_zero(p0, n0) && all_zero(p1, n1));
    ms_chat_history_wipe(SIZE_MAX); /* entries of length 0 now: nothing to do, no harm */
    ms_chat_input_free(in);
    ms_chat_input_free(NULL);
}

/* A full history drops its oldest entry when a line is added: the one wiped first. */
static void test_full_history_drops_oldest(void)
{
    ms_chat_input *in = NULL;
    CHECK_OK(ms_chat_input_new(&in, true));
    stifle_history(2);
    add_history("one");
    add_history("two");
    ms_chat_history_wipe(1);
    add_history("three");
    HIST_ENTRY **all = history_list();
    CHECK(all != NULL && all[0] != NULL && all[1] != NULL && all[2] == NULL);
    if (all && all[0] && all[1]) {
        CHECK(strcmp(all[0]->line, "two") == 0 && strcmp(all[1]->line, "three") == 0);
    }
    ms_chat_input_free(in);
}

/* From a pipe: each line's length as read, a '\r' before the newline dropped, an over-long
   line read to its end and counted whole. */
static void test_pipe_bytes(void)
{
    char path[] = "/tmp/ms-test-chat-input-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) {
        return;
    }
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    if (!f) {
        close(fd);
        unlink(path);
        return;
    }
    fputs("hello\r\n", f);
    for (size_t i = 0; i < MS_MAX_CHAT_LINE + 10u; i++) {
        fputc('x', f);
    }
    fputs("\n\xff\nlast", f);
    CHECK(fclose(f) == 0);
    CHECK(freopen(path, "r", stdin) != NULL);
    ms_chat_input *in = NULL;
    ms_buf line;
    size_t bytes = 99;
    ms_buf_init(&line, MS_MAX_CHAT_LINE);
    CHECK_OK(ms_chat_input_new(&in, false));
    CHECK(ms_chat_input_read(in, "", &line, &bytes) == MS_CHAT_LINE_OK);
    CHECK(bytes == 5 && line.len == 5 && strcmp((const char *)line.p, "hello") == 0);
    CHECK(ms_chat_input_read(in, "", &line, &bytes) == MS_CHAT_LINE_TOO_LONG);
    CHECK(bytes == MS_MAX_CHAT_LINE + 10u && line.len == 0);
    CHECK(ms_chat_input_read(in, "", &line, &bytes) == MS_CHAT_LINE_OK);
    CHECK(bytes == 1 && line.len == 1);
    CHECK(ms_chat_input_read(in, "", &line, &bytes) == MS_CHAT_LINE_OK);
    CHECK(bytes == 4 && strcmp((const char *)line.p, "last") == 0);
    CHECK(ms_chat_input_read(in, "", &line, &bytes) == MS_CHAT_LINE_EOF);
    CHECK(bytes == 0);
    ms_chat_input_free(in);
    ms_buf_free(&line);
    unlink(path);
}

int main(void)
{
    RUN(test_history_wiped);
    RUN(test_full_history_drops_oldest);
    RUN(test_pipe_bytes);
    return TEST_SUMMARY();
}

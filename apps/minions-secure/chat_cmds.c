/* minions-secure chat: the /commands (attach, image, save, system, clear, help, exit). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/check.h"
#include "common/limits.h"
#include "protocols/context.h"
#include "apps/minions-secure/chat_internal.h"
#include "secure/client/report.h"

#define P MS_CHAT_PROG

const char MS_CHAT_COMMANDS_HELP[] =
    "Commands (a line that starts with '/'; start a line with '//' to send it as a\n"
    "message that starts with '/'):\n"
    "  /help              this list\n"
    "  /exit              end the chat (also /quit, or the end of input: Ctrl-D)\n"
    "  /clear             forget the conversation and anything attached; the system\n"
    "                     message stays\n"
    "  /system TEXT       set the system message, sent first in every request\n"
    "                     (/system alone removes it)\n"
    "  /attach FILE|DIR   send the text of a file or of a directory's files (text,\n"
    "                     markdown, code, PDF) with your next message\n"
    "  /image FILE        send a PNG, JPEG, WebP or GIF image (at most 512 KiB) with\n"
    "                     your next message, for engines that read images\n"
    "  /save FILE         write the conversation to FILE: a new file, mode 0600;\n"
    "                     markdown, or JSON when FILE ends in .json (/save --force\n"
    "                     FILE replaces FILE)\n"
    "A line that is exactly exit, quit or clear acts as /exit, /quit or /clear, as\n"
    "in the reference's chat (to send the word itself, add a space or a full stop).\n";

/* {"command": NAME, "ok": OK, "detail": {...}}: the builder and its detail object. */
static ms_err event_new(const char *name, bool ok, ms_json_builder **b, ms_json_wval *detail)
{
    ms_json_wval root;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, b, &root));
    ms_err e = ms_json_add_cstr(root, "command", name);
    e = e ? e : ms_json_add_bool(root, "ok", ok);
    e = e ? e : ms_json_add_obj(root, "detail", detail);
    if (e != MS_OK) {
        ms_json_builder_free(*b);
        *b = NULL;
    }
    return e;
}

/* Log a command whose detail is one file name (and, for failures, the error's name). */
static void log_simple(ms_chat *ch, const char *name, bool ok, const char *file, ms_err err)
{
    ms_json_builder *b;
    ms_json_wval d;
    if (!ch->log.log || event_new(name, ok, &b, &d) != MS_OK) {
        return;
    }
    ms_err e = file ? ms_json_add_cstr(d, "file", file) : MS_OK;
    if (e == MS_OK && err != MS_OK) {
        e = ms_json_add_cstr(d, "error", ms_err_name(err));
    }
    if (e == MS_OK) {
        ms_chat_log_event(ch, "chat_command", b);
    }
    ms_json_builder_free(b);
}

/* --- /attach ---------------------------------------------------------------------------- */

static void say_skipped(const ms_context *ctx)
{
    for (size_t i = 0; i < ctx->n_skipped && i < 10; i++) {
        fprintf(stderr, "%s: /attach: skipped %s: %s\n", P, ctx->skipped[i].name,
                ctx->skipped[i].reason);
    }
    if (ctx->n_skipped > 10) {
        fprintf(stderr, "%s: /attach: ... and %zu more skipped\n", P, ctx->n_skipped - 10);
    }
}

static void log_attach(ms_chat *ch, const char *path, const ms_context *ctx, const ms_buf *text)
{
    ms_json_builder *b;
    ms_json_wval d;
    if (!ch->log.log || event_new("attach", true, &b, &d) != MS_OK) {
        return;
    }
    ms_err e = ms_json_add_cstr(d, "file", path);
    e = e ? e : ms_json_add_u64(d, "documents", ctx->n);
    e = e ? e : ms_json_add_u64(d, "bytes", text->len);
    e = e ? e : ms_json_add_u64(d, "skipped", ctx->n_skipped);
    if (e == MS_OK && ch->log.context) { /* --log-context: the text itself */
        e = ms_json_add_str(d, "text", (const char *)text->p, text->len);
    }
    if (e == MS_OK) {
        ms_chat_log_event(ch, "chat_command", b);
    }
    ms_json_builder_free(b);
}

static void cmd_attach(ms_chat *ch, const char *path)
{
    ms_context ctx;
    ms_buf text;
    char why[512] = "";
    char summary[160];
    ms_context_init(&ctx);
    ctx.max_bytes = MS_MAX_RECORD_PLAINTEXT; /* more could never be sent in one request */
    ms_buf_init(&text, MS_MAX_RECORD_PLAINTEXT);
    ms_err e = ms_context_add(&ctx, path, why, sizeof why);
    if (e == MS_OK) {
        e = ms_context_join(&ctx, &text);
    }
    if (e == MS_OK) {
        e = ms_conv_attach_text(&ch->conv, (const char *)text.p, text.len, ctx.n);
    }
    say_skipped(&ctx);
    if (e == MS_OK && ctx.n == 0) {
        fprintf(stderr, "%s: /attach %s: no document to attach\n", P, path);
        ms_chat_fail(ch, MS_CLI_USAGE);
        log_simple(ch, "attach", false, path, MS_ERR_FILE_OPEN);
    } else if (e == MS_OK) {
        ms_context_summary(&ctx, summary, sizeof summary);
        fprintf(stderr, "%s: attached %s: %s; %zu bytes of text go with your next message\n", P,
                path, summary, text.len);
        log_attach(ch, path, &ctx, &text);
    } else {
        if (e == MS_ERR_CAP_EXCEEDED) {
            fprintf(stderr, "%s: /attach %s: too large: what is attached must fit one request "
                            "(%u KiB) with the conversation; nothing was attached\n",
                    P, path, MS_MAX_RECORD_PLAINTEXT / 1024u);
        } else if (why[0]) { /* names the file and the reason, never its content */
            fprintf(stderr, "%s: /attach: %s\n", P, why);
        } else {
            fprintf(stderr, "%s: /attach %s: %s\n", P, path, ms_err_str(e));
        }
        ms_chat_fail(ch, MS_CLI_USAGE);
        log_simple(ch, "attach", false, path, e);
    }
    ms_buf_free(&text);
    ms_context_free(&ctx);
}

/* --- /image ----------------------------------------------------------------------------- */

/* The whole file, if it is a regular file of at most MS_MAX_CHAT_IMAGE_BYTES. */
static ms_err read_image(const char *path, ms_buf *out, size_t *size)
{
    struct stat st;
    uint8_t *p;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    ENSURE(fd >= 0, MS_ERR_FILE_OPEN);
    ms_err err = MS_OK;
    ENSURE_OUT(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), MS_ERR_FILE_OPEN);
    *size = (size_t)st.st_size;
    ENSURE_OUT(st.st_size > 0 && (size_t)st.st_size <= MS_MAX_CHAT_IMAGE_BYTES, MS_ERR_CAP_EXCEEDED);
    TRY_OUT(ms_buf_extend(out, (size_t)st.st_size, &p));
    for (size_t got = 0; got < (size_t)st.st_size;) {
        ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        ENSURE_OUT(r > 0, MS_ERR_IO); /* a file that shrank while read is an error too */
        got += (size_t)r;
    }
out:
    close(fd);
    return err;
}

static void cmd_image(ms_chat *ch, const char *path)
{
    ms_buf bytes;
    size_t size = 0;
    ms_json_builder *b;
    ms_json_wval d;
    ms_buf_init(&bytes, MS_MAX_CHAT_IMAGE_BYTES);
    ms_err e = read_image(path, &bytes, &size);
    if (e == MS_OK) {
        e = ms_conv_attach_image(&ch->conv, path, bytes.p, bytes.len);
    }
    ms_buf_free(&bytes);
    if (e == MS_ERR_CAP_EXCEEDED && size > MS_MAX_CHAT_IMAGE_BYTES) {
        fprintf(stderr, "%s: /image %s: %zu bytes; an image may have at most %u KiB\n", P, path,
                size, MS_MAX_CHAT_IMAGE_BYTES / 1024u);
    } else if (e == MS_ERR_CAP_EXCEEDED) {
        fprintf(stderr, "%s: /image %s: %s\n", P, path,
                size == 0 ? "the file is empty"
                          : "already 4 images wait for your next message; send it first");
    } else if (e == MS_ERR_ARG) {
        fprintf(stderr, "%s: /image %s: not a PNG, JPEG, WebP or GIF image (by its first bytes)\n",
                P, path);
    } else if (e != MS_OK) {
        fprintf(stderr, "%s: /image %s: %s: %s\n", P, path, ms_err_str(e), strerror(errno));
    }
    if (e != MS_OK) {
        ms_chat_fail(ch, MS_CLI_USAGE);
        log_simple(ch, "image", false, path, e);
        return;
    }
    const ms_conv_img *im = &ch->conv.pending[ch->conv.npending - 1];
    fprintf(stderr, "%s: image %s (%s, %zu bytes) goes with your next message\n", P, path,
            im->mime, im->bytes);
    if (!ch->log.log || event_new("image", true, &b, &d) != MS_OK) {
        return;
    }
    e = ms_json_add_cstr(d, "file", path);
    e = e ? e : ms_json_add_cstr(d, "mime", im->mime);
    e = e ? e : ms_json_add_u64(d, "bytes", im->bytes);
    if (e == MS_OK && ch->log.context) {
        e = ms_json_add_str(d, "base64", im->b64, im->b64_len);
    }
    if (e == MS_OK) {
        ms_chat_log_event(ch, "chat_command", b);
    }
    ms_json_builder_free(b);
}

/* --- /save, /system, /clear ------------------------------------------------------------- */

static void cmd_save(ms_chat *ch, const char *arg)
{
    char verified[MS_CLIENT_DESCRIBE_LEN];
    ms_client_peer peer;
    bool force = strncmp(arg, "--force ", 8) == 0;
    const char *path = force ? arg + 8 + strspn(arg + 8, " ") : arg;
    ms_client_peer_info(ch->conn.client, &peer);
    ms_client_describe(&peer, verified, sizeof verified);
    ms_conv_meta meta = {.supervisor_url = ch->conn.url,
                         .verified = verified,
                         .session = peer.connected ? peer.session_hex : ""};
    if (!path[0]) {
        fprintf(stderr, "%s: /save needs a file name: /save FILE\n", P);
        ms_chat_fail(ch, MS_CLI_USAGE);
        return;
    }
    ms_err e = ms_conv_save(&ch->conv, &meta, path, force);
    if (e == MS_OK) {
        fprintf(stderr, "%s: saved the conversation (%zu messages) to %s (mode 0600)\n", P,
                ch->conv.n + (ch->conv.system ? 1 : 0), path);
    } else if (e == MS_ERR_FILE_OPEN && errno == EEXIST) {
        fprintf(stderr, "%s: /save %s: the file exists: choose another name, or /save --force %s\n",
                P, path, path);
    } else {
        fprintf(stderr, "%s: /save %s: %s: %s\n", P, path, ms_err_str(e), strerror(errno));
    }
    if (e != MS_OK) {
        ms_chat_fail(ch, MS_CLI_USAGE);
    }
    log_simple(ch, "save", e == MS_OK, path, e);
}

static void cmd_system(ms_chat *ch, const char *text)
{
    ms_json_builder *b;
    ms_json_wval d;
    size_t n = strlen(text);
    ms_err e = ms_conv_set_system(&ch->conv, text, n);
    if (e != MS_OK) {
        fprintf(stderr, "%s: /system: %s\n", P, ms_err_str(e));
        ms_chat_fail(ch, MS_CLI_USAGE);
    } else if (n > 0) {
        fprintf(stderr, "%s: system message set (%zu bytes); it goes first in every request\n", P, n);
    } else {
        fprintf(stderr, "%s: no system message any more\n", P);
    }
    /* The system message is the user's own text, logged like the messages (docs/logs.md). */
    if (ch->log.log && event_new("system", e == MS_OK, &b, &d) == MS_OK) {
        if (ms_json_add_str(d, "text", text, n) == MS_OK) {
            ms_chat_log_event(ch, "chat_command", b);
        }
        ms_json_builder_free(b);
    }
}

static void cmd_clear(ms_chat *ch)
{
    ms_json_builder *b;
    ms_json_wval d;
    size_t dropped = ch->conv.n, pending = ch->conv.n_docs + ch->conv.npending;
    ms_conv_clear(&ch->conv);
    fprintf(stderr, "%s: the conversation is empty (%zu messages and %zu attachments dropped)%s\n",
            P, dropped, pending, ch->conv.system ? "; the system message stays" : "");
    if (ch->log.log && event_new("clear", true, &b, &d) == MS_OK) {
        if (ms_json_add_u64(d, "messages", dropped) == MS_OK) {
            ms_chat_log_event(ch, "chat_command", b);
        }
        ms_json_builder_free(b);
    }
}

/* "/name arg" -> name (without '/') and arg (spaces around it trimmed). */
static void split(const char *line, char *name, size_t cap, const char **arg)
{
    size_t n = strcspn(line + 1, " \t");
    snprintf(name, cap, "%.*s", (int)(n < cap ? n : cap - 1), line + 1);
    *arg = line + 1 + n;
    *arg += strspn(*arg, " \t");
}

void ms_chat_command(ms_chat *ch, const char *line)
{
    char name[32], arg[PATH_MAX];
    const char *a;
    split(line, name, sizeof name, &a);
    /* The argument without trailing blanks (file names keep inner spaces). */
    size_t n = strlen(a);
    while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t')) {
        n--;
    }
    if (strcmp(name, "system") == 0) {
        ms_buf t; /* the system text may be long: not cut to arg's size */
        ms_buf_init(&t, MS_MAX_CHAT_LINE + 1);
        if (ms_buf_append(&t, a, n) == MS_OK && ms_buf_terminate(&t) == MS_OK) {
            cmd_system(ch, (const char *)(t.p ? t.p : (const uint8_t *)""));
        }
        ms_buf_free(&t);
        return;
    }
    if (n >= sizeof arg) {
        fprintf(stderr, "%s: /%s: the argument is too long\n", P, name);
        ms_chat_refused(ch, MS_ERR_CAP_EXCEEDED, "command refused: its argument is too long",
                        strlen(line));
        return;
    }
    memcpy(arg, a, n);
    arg[n] = '\0';
    bool needs_arg = strcmp(name, "attach") == 0 || strcmp(name, "image") == 0;
    if (needs_arg && !arg[0]) {
        fprintf(stderr, "%s: /%s needs a file name: /%s FILE\n", P, name, name);
        ms_chat_refused(ch, MS_ERR_ARG, "command refused: no file name", strlen(line));
    } else if (strcmp(name, "exit") == 0 || strcmp(name, "quit") == 0) {
        ch->done = true;
        log_simple(ch, "exit", true, NULL, MS_OK);
    } else if (strcmp(name, "help") == 0) {
        fputs(MS_CHAT_COMMANDS_HELP, ch->interactive ? stdout : stderr);
    } else if (strcmp(name, "clear") == 0) {
        cmd_clear(ch);
    } else if (strcmp(name, "attach") == 0) {
        cmd_attach(ch, arg);
    } else if (strcmp(name, "image") == 0) {
        cmd_image(ch, arg);
    } else if (strcmp(name, "save") == 0) {
        cmd_save(ch, arg);
    } else {
        fprintf(stderr, "%s: unknown command /%s: /help lists them (start a line with // to send "
                        "it as a message)\n",
                P, name);
        ms_chat_refused(ch, MS_ERR_ARG, "command refused: unknown command", strlen(line));
    }
}

const char *ms_chat_habit(const char *line)
{
    static const char *const HABITS[][2] = {
        {"exit", "/exit"}, {"quit", "/quit"}, {"clear", "/clear"}};
    for (size_t i = 0; i < sizeof HABITS / sizeof HABITS[0]; i++) {
        if (strcmp(line, HABITS[i][0]) == 0) {
            return HABITS[i][1];
        }
    }
    return NULL;
}

/* minions-audit's output: reading a log file, reports (text, JSON) and the timeline. */
#include "apps/minions-audit/show.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/text.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog_fmt.h"

#define NAME_MAX_SHOWN 512u /* characters of a file name in reports */
#define NAME_SHOWN_SIZE MS_TEXT_ESCAPE_SIZE(NAME_MAX_SHOWN)
#define EVENT_TEXT 2048u    /* one rendered event */

int ms_audit_exit_status(ms_alog_verdict v)
{
    switch (v) {
    case MS_ALOG_VALID:
        return MS_AUDIT_EXIT_VALID;
    case MS_ALOG_INCOMPLETE:
        return MS_AUDIT_EXIT_INCOMPLETE;
    case MS_ALOG_PARTIAL:
        return MS_AUDIT_EXIT_PARTIAL;
    case MS_ALOG_TAMPERED:
    case MS_ALOG_WRONG_KEY:
    case MS_ALOG_MALFORMED:
        break;
    }
    return MS_AUDIT_EXIT_BAD;
}

/* Read a regular file (symlinks followed: the user named it) of at most `max` bytes. */
static ms_err read_file(const char *path, size_t max, ms_buf *out, bool *too_big)
{
    ms_err err = MS_OK;
    struct stat st;
    uint8_t extra;
    *too_big = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, MS_ERR_FILE_OPEN);
    ENSURE_OUT(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), MS_ERR_FILE_OPEN);
    if ((uint64_t)st.st_size > max) {
        *too_big = true;
        goto out;
    }
    TRY_OUT(ms_buf_reserve(out, (size_t)st.st_size)); /* one allocation in the usual case */
    for (;;) {
        size_t want = max - out->len < 65536u ? max - out->len : 65536u;
        uint8_t *where;
        TRY_OUT(ms_buf_reserve(out, want));
        ssize_t n = want > 0 ? read(fd, out->p + out->len, want) : read(fd, &extra, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ENSURE_OUT(n >= 0, MS_ERR_IO);
        if (n == 0) {
            break;
        }
        if (want == 0) { /* the file grew past the cap while we read it */
            *too_big = true;
            break;
        }
        TRY_OUT(ms_buf_extend(out, (size_t)n, &where)); /* the bytes are already there */
    }
out:
    close(fd);
    return err;
}

ms_err ms_audit_verify_file(const char *path, const uint8_t *expected_pk, ms_buf *text,
                            ms_alog_report *r)
{
    bool too_big;
    memset(r, 0, sizeof *r);
    r->verdict = MS_ALOG_MALFORMED; /* until ms_alog_verify says otherwise: never VALID on error */
    snprintf(r->why, sizeof r->why, "not verified");
    ms_buf_init(text, MS_ALOG_MAX_FILE);
    ENSURE(path != NULL, MS_ERR_ARG);
    TRY(read_file(path, MS_ALOG_MAX_FILE, text, &too_big));
    if (too_big) {
        r->verdict = MS_ALOG_MALFORMED;
        snprintf(r->why, sizeof r->why, "the file is larger than the %u MiB cap of a log",
                 MS_ALOG_MAX_FILE >> 20);
        return MS_OK;
    }
    return ms_alog_verify(text->p, text->len, expected_pk, r);
}

/* A file name as given (untrusted: a log may be named to fool a terminal), escaped. */
static void clean_name(const char *name, char out[static NAME_SHOWN_SIZE])
{
    (void)ms_text_escape(name, name ? strlen(name) : 0, NAME_MAX_SHOWN, out, NAME_SHOWN_SIZE);
}

static const char *verdict_upper(ms_alog_verdict v)
{
    switch (v) {
    case MS_ALOG_VALID:
        return "VALID";
    case MS_ALOG_INCOMPLETE:
        return "INCOMPLETE";
    case MS_ALOG_TAMPERED:
        return "TAMPERED";
    case MS_ALOG_WRONG_KEY:
        return "WRONG KEY";
    case MS_ALOG_PARTIAL:
        return "PARTIAL";
    case MS_ALOG_MALFORMED:
        break;
    }
    return "MALFORMED";
}

/* Whether line 1 was read far enough to name a key. */
static bool key_known(const ms_alog_report *r)
{
    return r->log_id[0] != '\0';
}

/* The verdict and what it means, in two or three lines; `pad` indents the later ones. */
static void verdict_text(FILE *out, const ms_alog_report *r, bool key_checked, const char *pad)
{
    char fp[MS_FINGERPRINT_LEN];
    fputs(verdict_upper(r->verdict), out);
    if (r->verdict == MS_ALOG_VALID) {
        fprintf(out, ": intact and sealed (%llu lines, %s log %s)\n",
                (unsigned long long)r->events, r->kind, r->log_id);
    } else if (r->verdict == MS_ALOG_PARTIAL) {
        fprintf(out, ": %s\n", r->why); /* "valid up to line L (checkpoint at T), then ..." */
    } else if (r->bad_line > 0 && r->verdict != MS_ALOG_WRONG_KEY) {
        fprintf(out, " at line %llu: %s\n", (unsigned long long)r->bad_line, r->why);
    } else {
        fprintf(out, ": %s\n", r->why);
    }
    if (r->verdict == MS_ALOG_INCOMPLETE) {
        fprintf(out, "%sa log without its seal is not authenticated: its lines may be read as "
                     "notes, not as proof\n", pad);
    }
    if (r->verdict == MS_ALOG_PARTIAL) {
        fprintf(out, "%slines 1 to %llu are proven by the checkpoint's signature; the lines "
                     "after it are notes, not proof, and lines cut off after it leave no trace\n",
                pad, (unsigned long long)r->checkpoint_line);
    }
    if (!key_known(r) || r->verdict == MS_ALOG_WRONG_KEY) {
        return;
    }
    ms_devkey_fingerprint(r->key, fp);
    if (key_checked) {
        fprintf(out, "%slog key %s (the expected key)\n", pad, fp);
    } else {
        fprintf(out, "%slog key %s, named by the log itself: NOT checked against a trusted "
                     "key (pass --key FILE.pub to check it)\n", pad, fp);
    }
}

void ms_audit_print_report(FILE *out, const char *name, ms_err file_err, const ms_alog_report *r,
                           bool key_checked)
{
    char shown[NAME_SHOWN_SIZE];
    clean_name(name, shown);
    if (file_err != MS_OK) {
        fprintf(out, "%s: cannot read the log: %s\n", shown, ms_err_str(file_err));
        return;
    }
    fprintf(out, "%s: ", shown);
    verdict_text(out, r, key_checked, "  ");
}

/* One report as the members of obj. */
static ms_err report_json(ms_json_wval obj, const char *name, ms_err file_err,
                          const ms_alog_report *r, bool key_checked)
{
    char shown[NAME_SHOWN_SIZE], fp[MS_FINGERPRINT_LEN], key[8 + MS_HEX_BUF_LEN(MS_ALOG_PK_LEN)];
    size_t n;
    clean_name(name, shown);
    TRY(ms_json_add_cstr(obj, "log", shown));
    if (file_err != MS_OK) {
        TRY(ms_json_add_cstr(obj, "verdict", "unreadable"));
        return ms_json_add_cstr(obj, "why", ms_err_str(file_err));
    }
    TRY(ms_json_add_cstr(obj, "verdict", ms_alog_verdict_name(r->verdict)));
    TRY(ms_json_add_u64(obj, "lines", r->events));
    TRY(ms_json_add_u64(obj, "bad_line", r->bad_line));
    TRY(ms_json_add_cstr(obj, "why", r->why));
    TRY(ms_json_add_u64(obj, "checkpoint_line", r->checkpoint_line));
    if (r->checkpoint_line > 0) {
        TRY(ms_json_add_cstr(obj, "checkpoint_ts", r->checkpoint_ts));
    }
    if (!key_known(r)) {
        return MS_OK;
    }
    TRY(ms_json_add_cstr(obj, "kind", r->kind));
    TRY(ms_json_add_cstr(obj, "log_id", r->log_id));
    memcpy(key, "ed25519:", 8);
    TRY(ms_hex_encode(r->key, MS_ALOG_PK_LEN, key + 8, sizeof key - 8, &n));
    TRY(ms_json_add_cstr(obj, "key", key));
    ms_devkey_fingerprint(r->key, fp);
    TRY(ms_json_add_cstr(obj, "key_fingerprint", fp));
    return ms_json_add_bool(obj, "key_checked", key_checked);
}

struct ms_audit_json_list {
    ms_json_builder *b;
    ms_json_wval logs;
};

ms_err ms_audit_json_list_new(ms_audit_json_list **out)
{
    ms_json_wval root;
    *out = calloc(1, sizeof **out);
    ENSURE(*out != NULL, MS_ERR_NOMEM);
    ms_err err = ms_json_builder_new(MS_JSON_OBJECT, &(*out)->b, &root);
    if (err == MS_OK) {
        err = ms_json_add_arr(root, "logs", &(*out)->logs);
    }
    if (err != MS_OK) {
        ms_audit_json_list_free(*out);
        *out = NULL;
    }
    return err;
}

ms_err ms_audit_json_list_add(ms_audit_json_list *l, const char *name, ms_err file_err,
                              const ms_alog_report *r, bool key_checked)
{
    ms_json_wval obj;
    TRY(ms_json_add_obj(l->logs, NULL, &obj));
    return report_json(obj, name, file_err, r, key_checked);
}

/* Print a builder's compact text, then `end`. */
static ms_err print_builder(const ms_json_builder *b, FILE *out, const char *end)
{
    ms_buf text;
    ms_buf_init(&text, MS_ALOG_MAX_LINE * 2u);
    ms_err err = ms_json_builder_print(b, &text);
    if (err == MS_OK && (fwrite(text.p, 1, text.len, out) != text.len || fputs(end, out) < 0)) {
        err = MS_ERR_IO;
    }
    ms_buf_free(&text);
    return err;
}

ms_err ms_audit_json_list_print(const ms_audit_json_list *l, FILE *out)
{
    return print_builder(l->b, out, "\n");
}

void ms_audit_json_list_free(ms_audit_json_list *l)
{
    if (l != NULL) {
        ms_json_builder_free(l->b);
        free(l);
    }
}

/* --- the timeline ------------------------------------------------------------------------ */

/* The envelope of a line as far as it reads (a timeline shows what it can). */
typedef struct ev {
    ms_json_doc *doc;
    bool parsed;
    uint64_t seq;
    const char *ts, *type;
    bool has_ms;
    int64_t ms;
    ms_json_val data;
} ev;

static ms_err ev_read(const uint8_t *p, size_t n, ev *e)
{
    size_t len;
    memset(e, 0, sizeof *e);
    ms_err err = ms_json_parse((const char *)p, n, &e->doc);
    if (err == MS_ERR_NOMEM) {
        return err;
    }
    ms_json_val root = ms_json_root(e->doc);
    if (err != MS_OK || ms_json_get_str(root, "type", MS_ALOG_MAX_TYPE, &e->type, &len) != MS_OK ||
        ms_json_get_obj_opt(root, "data", &e->data) != MS_OK) {
        return MS_OK; /* shown as "not an event" */
    }
    e->parsed = true;
    if (ms_json_get_u64(root, "seq", MS_ALOG_MAX_EVENTS, &e->seq) != MS_OK) {
        e->seq = UINT64_MAX;
    }
    if (ms_json_get_str(root, "ts", MS_ALOG_TS_LEN, &e->ts, &len) == MS_OK) {
        e->has_ms = ms_alog_ts_parse(e->ts, len, &e->ms);
    }
    return MS_OK;
}

static void ev_free(ev *e)
{
    ms_json_free(e->doc);
    memset(e, 0, sizeof *e);
}

/* "   +1.234s" from the start, or blanks when either time is unknown. */
static void offset_text(const ev *e, bool have_start, int64_t start_ms, char out[static 24])
{
    if (!e->has_ms || !have_start) {
        snprintf(out, 24, "%10s", "?");
        return;
    }
    snprintf(out, 24, "%+9.3fs", (double)(e->ms - start_ms) / 1000.0);
}

static void print_event_text(FILE *out, const char *mark, const char *when, const char *text)
{
    const char *line = text;
    bool first = true;
    for (;;) {
        const char *nl = strchr(line, '\n');
        int n = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(out, "%s%s  %.*s\n", mark, first ? when : "          ", n, line);
        if (nl == NULL) {
            break;
        }
        line = nl + 1;
        first = false;
    }
}

static ms_err event_json(FILE *out, uint64_t line, const ev *e, bool verified, bool have_start,
                         int64_t start_ms, bool first)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err err = ms_json_add_u64(root, "line", line);
    if (err == MS_OK && e->parsed) {
        if (e->seq != UINT64_MAX) {
            err = ms_json_add_u64(root, "seq", e->seq);
        }
        if (err == MS_OK && e->ts != NULL) {
            err = ms_json_add_cstr(root, "ts", e->ts);
        }
        if (err == MS_OK && e->has_ms && have_start) {
            err = ms_json_add_double(root, "offset_s", (double)(e->ms - start_ms) / 1000.0);
        }
        if (err == MS_OK) {
            err = ms_json_add_cstr(root, "type", e->type);
        }
        if (err == MS_OK && ms_json_type_of(e->data) != MS_JSON_ABSENT) {
            err = ms_json_add_value(root, "data", e->data);
        }
    } else if (err == MS_OK) {
        err = ms_json_add_cstr(root, "error", "not an event (not a JSON object with a type)");
    }
    if (err == MS_OK) {
        err = ms_json_add_bool(root, "verified", verified);
    }
    if (err == MS_OK && !first && fputc(',', out) == EOF) {
        err = MS_ERR_IO;
    }
    if (err == MS_OK) {
        err = print_builder(b, out, "");
    }
    ms_json_builder_free(b);
    return err;
}

typedef struct show_state {
    FILE *out;
    const ms_alog_report *r;
    bool json;
    bool have_start;
    int64_t start_ms;
    uint64_t shown;
} show_state;


static ms_err show_line(show_state *s, uint64_t line, const uint8_t *p, size_t n)
{
    ev e;
    char when[24], text[EVENT_TEXT];
    TRY(ev_read(p, n, &e));
    if (line == 1 && e.has_ms) {
        s->have_start = true;
        s->start_ms = e.ms;
    }
    /*
     * Only a valid log proves its lines: without a good seal any line may have been
     * rewritten (hashes can be recomputed), also those before the first break.
     */
    bool verified = s->r->verdict == MS_ALOG_VALID ||
                    (s->r->verdict == MS_ALOG_PARTIAL && line <= s->r->checkpoint_line);
    ms_err err = MS_OK;
    if (s->json) {
        err = event_json(s->out, line, &e, verified, s->have_start, s->start_ms, s->shown == 0);
    } else {
        bool partial = s->r->verdict == MS_ALOG_PARTIAL;
        bool marked = !verified && (partial || (s->r->bad_line > 0 && line >= s->r->bad_line));
        if (partial && line == s->r->checkpoint_line + 1u) {
            fprintf(s->out, "  ---- line %llu on: after the last checkpoint: NOT VERIFIED\n",
                    (unsigned long long)line);
        } else if (!partial && s->r->bad_line == line && s->r->verdict != MS_ALOG_VALID) {
            fprintf(s->out, "  ---- line %llu: %s: %s\n", (unsigned long long)line,
                    verdict_upper(s->r->verdict), s->r->why);
        }
        offset_text(&e, s->have_start, s->start_ms, when);
        if (e.parsed) {
            ms_audit_render_event(e.type, e.data, text, sizeof text);
        } else {
            snprintf(text, sizeof text, "line %llu is not an event (%zu bytes not shown)",
                     (unsigned long long)line, n);
        }
        print_event_text(s->out, marked ? "! " : "  ", when, text);
    }
    s->shown++;
    ev_free(&e);
    return err;
}

static void header_text(FILE *out, const char *name, const ms_alog_report *r, bool key_checked)
{
    char shown[NAME_SHOWN_SIZE];
    clean_name(name, shown);
    fprintf(out, "audit log %s\n", shown);
    fputs("  verdict  ", out);
    verdict_text(out, r, key_checked, "           ");
    if (key_known(r)) {
        fprintf(out, "  log      %s session, log id %s\n", r->kind, r->log_id);
    }
    fputs("  times    from the first line's time (UTC)\n", out);
    if (r->verdict == MS_ALOG_VALID) {
        fputs("  lines    every line below is verified\n\n", out);
    } else if (r->verdict == MS_ALOG_PARTIAL) {
        fprintf(out, "  lines    lines 1 to %llu are verified (signed by the checkpoint at line "
                     "%llu); ! marks\n           the lines after it: NOT VERIFIED\n\n",
                (unsigned long long)r->checkpoint_line, (unsigned long long)r->checkpoint_line);
    } else {
        fputs("  lines    NOT VERIFIED: a log that is not valid proves none of its lines; they\n"
              "           are shown as found, and ! marks the first problem and what follows\n\n",
              out);
    }
}

ms_err ms_audit_show(FILE *out, const char *name, const uint8_t *log, size_t len,
                     const ms_alog_report *r, bool key_checked, bool json)
{
    ms_err err = MS_OK;
    show_state s = {.out = out, .r = r, .json = json};
    size_t off = 0;
    if (json) {
        ms_json_builder *b = NULL;
        ms_json_wval root;
        TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
        err = report_json(root, name, MS_OK, r, key_checked);
        if (err == MS_OK) {
            fputs("{\"report\":", out);
            err = print_builder(b, out, ",\"events\":[");
        }
        ms_json_builder_free(b);
        TRY(err);
    } else {
        header_text(out, name, r, key_checked);
    }
    for (uint64_t line = 1; err == MS_OK && len <= MS_ALOG_MAX_FILE; line++) {
        const uint8_t *p;
        size_t n;
        ms_alog_line_status st = ms_alog_line_next(log, len, &off, &p, &n);
        if (st == MS_ALOG_LINE_END) {
            break;
        }
        if (st != MS_ALOG_LINE_OK) {
            if (!json) {
                fprintf(out, "  (line %llu %s: not shown)\n", (unsigned long long)line,
                        st == MS_ALOG_LINE_CUT ? "is cut short" : "is over the line cap");
            }
            break;
        }
        err = show_line(&s, line, p, n);
    }
    if (err == MS_OK && json) {
        fputs("]}\n", out);
    }
    if (err == MS_OK && ferror(out)) {
        err = MS_ERR_IO;
    }
    return err;
}

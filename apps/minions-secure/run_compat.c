/* minions-secure run: the reference's habits (its result fields, its prompts, its CLI line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "common/limits.h"
#include "apps/minions-secure/chat_input.h"
#include "apps/minions-secure/run_compat.h"

/* --- the tee: the events the reference's *_messages fields are made of --------------------- */

static const char *const KEPT[] = {"supervisor_turn", "worker_turn", "jobs", NULL};

void ms_run_tee_init(ms_run_tee *t, ms_proto_sink next)
{
    memset(t, 0, sizeof *t);
    t->next = next;
    ms_buf_init(&t->lines, MS_COMPAT_MAX_MESSAGES);
}

void ms_run_tee_free(ms_run_tee *t)
{
    ms_buf_free(&t->lines);
}

static int kept(const char *type)
{
    for (const char *const *k = KEPT; *k; k++) {
        if (strcmp(type, *k) == 0) {
            return 1;
        }
    }
    return 0;
}

/* {"type": T, "data": ...}: the builder printed, then wrapped by hand (type is ours). */
static ms_err keep(ms_run_tee *t, const char *type, const ms_json_builder *data)
{
    ms_buf one;
    ms_buf_init(&one, MS_COMPAT_MAX_MESSAGES);
    ms_err e = ms_json_builder_print(data, &one);
    size_t before = t->lines.len;
    if (e == MS_OK) {
        e = ms_buf_append(&t->lines, "{\"type\":\"", 9);
    }
    e = e ? e : ms_buf_append(&t->lines, type, strlen(type));
    e = e ? e : ms_buf_append(&t->lines, "\",\"data\":", 9);
    e = e ? e : ms_buf_append(&t->lines, one.p, one.len);
    e = e ? e : ms_buf_append(&t->lines, "}\n", 2);
    if (e != MS_OK) {
        t->lines.len = before; /* whole lines only */
        t->truncated = true;
    }
    ms_buf_free(&one);
    return MS_OK; /* a result field cut short never fails the run: `truncated` says it */
}

static ms_err tee_event(void *ctx, const char *type, const ms_json_builder *data)
{
    ms_run_tee *t = ctx;
    if (kept(type) && !t->truncated) {
        TRY(keep(t, type, data));
    }
    return t->next.event ? t->next.event(t->next.ctx, type, data) : MS_OK;
}

ms_proto_sink ms_run_tee_sink(ms_run_tee *t)
{
    return (ms_proto_sink){.event = tee_event, .ctx = t};
}

/* --- the reference's result fields ----------------------------------------------------------- */

static ms_err add_msg(ms_json_wval arr, const char *role, ms_json_val content)
{
    ms_json_wval m;
    TRY(ms_json_add_obj(arr, NULL, &m));
    TRY(ms_json_add_cstr(m, "role", role));
    return ms_json_add_value(m, "content", content);
}

typedef struct walk {
    ms_json_wval sup, wrk;
    double local_s, remote_s;
} walk;

static double seconds_of(ms_json_val o, const char *key)
{
    double s = 0;
    return ms_json_get_double(o, key, 0, 1e9, &s) == MS_OK ? s : 0;
}

/* supervisor_turn: what was sent, then the reply; worker_turn: question, answer; jobs: each
   answered output. */
static ms_err walk_event(walk *w, const char *type, ms_json_val d)
{
    ms_json_val v, arr, tm, role;
    const char *r;
    size_t n;
    if (strcmp(type, "supervisor_turn") == 0) {
        if (ms_json_get_arr(d, "sent", MS_MAX_JSON_TEXT, &arr, &n) == MS_OK) {
            ms_json_iter it = ms_json_iter_init(arr);
            while (ms_json_iter_next(&it, &v, NULL)) {
                if (ms_json_get(v, "role", &role) == MS_OK &&
                    ms_json_as_str(role, 32, &r, &n) == MS_OK &&
                    ms_json_get(v, "content", &role) == MS_OK) {
                    TRY(add_msg(w->sup, r, role));
                }
            }
        }
        if (ms_json_get(d, "reply", &v) == MS_OK && ms_json_type_of(v) == MS_JSON_STRING) {
            TRY(add_msg(w->sup, "assistant", v));
        }
        if (ms_json_get_obj(d, "timings", &tm) == MS_OK) {
            w->remote_s += seconds_of(tm, "total_s");
        }
    } else if (strcmp(type, "worker_turn") == 0) {
        if (ms_json_get(d, "question", &v) == MS_OK && ms_json_type_of(v) == MS_JSON_STRING) {
            TRY(add_msg(w->wrk, "user", v));
        }
        if (ms_json_get(d, "answer", &v) == MS_OK && ms_json_type_of(v) == MS_JSON_STRING) {
            TRY(add_msg(w->wrk, "assistant", v));
        }
        w->local_s += seconds_of(d, "seconds");
    } else if (strcmp(type, "jobs") == 0) {
        if (ms_json_get_arr(d, "outputs", MS_MAX_JSON_TEXT, &arr, &n) == MS_OK) {
            ms_json_iter it = ms_json_iter_init(arr);
            while (ms_json_iter_next(&it, &v, NULL)) {
                if (ms_json_get(v, "answer", &role) == MS_OK &&
                    ms_json_type_of(role) == MS_JSON_STRING) {
                    TRY(add_msg(w->wrk, "assistant", role));
                }
            }
        }
        w->local_s += seconds_of(d, "seconds");
    }
    return MS_OK;
}

static ms_err walk_lines(walk *w, const ms_run_tee *tee)
{
    const char *p = tee ? (const char *)tee->lines.p : NULL;
    size_t left = tee ? tee->lines.len : 0;
    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        size_t n = nl ? (size_t)(nl - p) : left;
        ms_json_doc *doc = NULL;
        ms_json_val root, d;
        const char *type;
        size_t tn;
        ms_err e = ms_json_parse(p, n, &doc);
        if (e == MS_OK) {
            root = ms_json_root(doc);
            if (ms_json_get_str(root, "type", 32, &type, &tn) == MS_OK &&
                ms_json_get_obj(root, "data", &d) == MS_OK) {
                e = walk_event(w, type, d);
            }
        }
        ms_json_free(doc);
        TRY(e);
        p += n + (nl ? 1 : 0);
        left -= n + (nl ? 1 : 0);
    }
    return MS_OK;
}

static ms_err add_usage(ms_json_wval res, const char *key, uint64_t in, uint64_t out)
{
    ms_json_wval u;
    TRY(ms_json_add_obj(res, key, &u));
    TRY(ms_json_add_u64(u, "prompt_tokens", in));
    TRY(ms_json_add_u64(u, "completion_tokens", out));
    return ms_json_add_u64(u, "total_tokens", in + out);
}

ms_err ms_run_add_reference(ms_json_wval res, const ms_proto_result *r, const ms_run_tee *tee,
                            const char *log_path)
{
    walk w = {0};
    ms_json_wval tm;
    TRY(ms_json_add_arr(res, "supervisor_messages", &w.sup));
    TRY(ms_json_add_arr(res, "worker_messages", &w.wrk));
    TRY(walk_lines(&w, tee));
    if (tee && tee->truncated) {
        TRY(ms_json_add_bool(res, "messages_truncated", true));
    }
    TRY(add_usage(res, "remote_usage", r->remote_prompt_tokens, r->remote_completion_tokens));
    TRY(add_usage(res, "local_usage", r->local_prompt_tokens, r->local_completion_tokens));
    TRY(log_path ? ms_json_add_cstr(res, "log_file", log_path) : ms_json_add_null(res, "log_file"));
    TRY(ms_json_add_obj(res, "timing", &tm));
    TRY(ms_json_add_double(tm, "local_call_time", w.local_s));
    TRY(ms_json_add_double(tm, "remote_call_time", w.remote_s));
    return ms_json_add_double(tm, "total_time", r->seconds);
}

/* --- the reference's CLI line: prompts when --task is not given ----------------------------- */

void ms_run_prompted_init(ms_run_prompted *k)
{
    ms_buf_init(&k->task, MS_MAX_PROTO_TASK + 1);
    ms_buf_init(&k->paths, (size_t)MS_COMPAT_MAX_PROMPTED * (PATH_MAX + 1));
}

void ms_run_prompted_free(ms_run_prompted *k)
{
    ms_buf_free(&k->task); /* wiped: it is what the user typed */
    ms_buf_free(&k->paths);
}

/* One answer: 1 a line (in line, NUL-terminated), 0 the user quit (exit, Ctrl-D). */
static int ask(ms_chat_input *in, const char *prompt, ms_buf *line)
{
    size_t bytes;
    for (;;) {
        ms_chat_line r = ms_chat_input_read(in, prompt, line, &bytes);
        if (r == MS_CHAT_LINE_EOF) {
            return 0;
        }
        if (r == MS_CHAT_LINE_OK) {
            return strcmp((const char *)line->p, "exit") != 0;
        }
        fprintf(stderr, "%s: that line is over %u KiB; type it again, shorter\n", MS_RUN_PROG,
                MS_MAX_CHAT_LINE / 1024u);
    }
}

/* A line typed: kept in k->paths (NUL-separated); a path to a document, or else (as the
   reference's context prompt takes it) the text of one. */
static int add_path(ms_run_opts *o, ms_run_prompted *k, const ms_buf *line)
{
    if (o->n_contexts + o->n_stdin_texts >= MS_RUN_MAX_CONTEXT_ARGS ||
        ms_buf_append(&k->paths, line->p, line->len + 1) != MS_OK) {
        fprintf(stderr, "%s: not kept: at most %u documents\n", MS_RUN_PROG,
                MS_COMPAT_MAX_PROMPTED);
        return 0;
    }
    return 1;
}

static int prompt_all(ms_run_opts *o, ms_run_prompted *k, ms_chat_input *in, ms_buf *line)
{
    while (k->task.len == 0) {
        if (!ask(in, "Task (exit quits): ", line)) {
            return -1;
        }
        if (ms_buf_append(&k->task, line->p, line->len + 1) != MS_OK) {
            fprintf(stderr, "%s: a task is at most %u bytes\n", MS_RUN_PROG, MS_MAX_PROTO_TASK);
            ms_buf_clear(&k->task);
        } else if (line->len == 0) {
            ms_buf_clear(&k->task);
        }
    }
    /* offsets, not pointers: k->paths may move as it grows */
    size_t first = o->n_contexts, tfirst = o->n_stdin_texts, offs[MS_RUN_MAX_CONTEXT_ARGS],
           toffs[MS_RUN_MAX_CONTEXT_ARGS];
    fputs("Documents: a file or directory per line (a line that names none is taken as the\n"
          "text of a document); an empty line ends the list.\n",
          stderr);
    for (;;) {
        if (!ask(in, "Document: ", line)) {
            return -1;
        }
        if (line->len == 0) {
            break;
        }
        size_t at = k->paths.len;
        if (!add_path(o, k, line)) {
            continue;
        }
        if (access((const char *)line->p, F_OK) == 0) {
            offs[o->n_contexts++] = at;
        } else {
            o->stdin_text_lens[o->n_stdin_texts] = line->len;
            toffs[o->n_stdin_texts++] = at;
        }
    }
    if (!ask(in, "Attachment (a file such as a PDF, or empty for none): ", line)) {
        return -1;
    }
    if (line->len > 0) {
        size_t at = k->paths.len;
        if (add_path(o, k, line)) {
            offs[o->n_contexts++] = at;
        }
    }
    for (size_t i = first; i < o->n_contexts; i++) {
        o->contexts[i] = (const char *)k->paths.p + offs[i];
    }
    for (size_t i = tfirst; i < o->n_stdin_texts; i++) {
        o->stdin_texts[i] = (const char *)k->paths.p + toffs[i];
    }
    o->task = (const char *)k->task.p;
    return MS_CLI_OK;
}

int ms_run_prompt(ms_run_opts *o, ms_run_prompted *k)
{
    ms_chat_input *in = NULL;
    ms_buf line;
    if (ms_chat_input_new(&in, true) != MS_OK) {
        fprintf(stderr, "%s: out of memory\n", MS_RUN_PROG);
        return MS_CLI_USAGE;
    }
    ms_buf_init(&line, MS_MAX_CHAT_LINE);
    int code = prompt_all(o, k, in, &line);
    ms_buf_free(&line);
    ms_chat_input_free(in);
    return code;
}

/* --- the reference's CLI line names no subcommand ------------------------------------------- */

int ms_run_wants(int argc, char **argv)
{
    static const char *const RUN_ONLY[] = {
        "--local_client_type", "--local-client-type", "--local_model", "--local-model",
        "--local-url",         "--local_url",         "--max_rounds",  "--max-rounds",
        "--context",           "--doc-metadata",      "--doc_metadata", "--jobs",
        "--num-ctx",           "--num_ctx",           "--allow-remote-worker", NULL};
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        for (const char *const *o = RUN_ONLY; *o; o++) {
            size_t n = strlen(*o);
            if (strncmp(argv[i], *o, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '=')) {
                return 1;
            }
        }
    }
    return 0;
}

/* --- what the reference's lines leave out, from the environment ----------------------------- */

static void from_env(const char **field, const char *var, const char *prog, const char *what)
{
    const char *v = getenv(var);
    if (!*field && v && v[0]) {
        *field = v;
        fprintf(stderr, "%s: %s from %s\n", prog, what, var);
    }
}

void ms_cli_conn_from_env(ms_cli_conn *c, const char *prog)
{
    if (!c->pin_file && !c->policy_file) {
        from_env(&c->policy_file, "MINIONS_ATTESTATION_POLICY", prog, "attestation policy");
    }
    if (!c->pin_file && !c->policy_file) {
        from_env(&c->pin_file, "MINIONS_TRUSTED_ATTESTATION_PEM", prog, "dev-key pin");
    }
    from_env(&c->cacert, "MINIONS_CACERT", prog, "CA bundle");
}

/* POST /v1/minions/runs and /v1/minions/documents: the program's runner, whole or as SSE events. */
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"

/*
 * Streamed (the request's "stream": true), each event of the runner is one SSE event:
 * "event: documents|progress|result\ndata: {...}\n\n"; the result (run --stdin-json's
 * object) is the last. The status is 200 once the stream started; the result says how the
 * run went. A client that went away stops the writing, not the run (its log is still
 * sealed).
 */
typedef struct runner_job {
    ms_gw *gw;
    ms_gw_stream *s;
    ms_buf body;   /* the request, copied: the handler's buffer ends with the handler */
    ms_buf line;
    bool gone;     /* the client went away */
} runner_job;

static void job_free(void *ctx)
{
    runner_job *j = ctx;
    ms_buf_free(&j->body); /* wiped: it holds the documents */
    ms_buf_free(&j->line);
    free(j);
}

static void on_event(void *ctx, const char *event, const char *data, size_t len)
{
    runner_job *j = ctx;
    ms_buf_clear(&j->line);
    ms_err e = ms_buf_append(&j->line, "event: ", 7);
    e = e ? e : ms_buf_append(&j->line, event, strlen(event));
    e = e ? e : ms_buf_append(&j->line, "\ndata: ", 7);
    e = e ? e : ms_buf_append(&j->line, data, len); /* printed JSON: one line, no newline */
    e = e ? e : ms_buf_append(&j->line, "\n\n", 2);
    if (e == MS_OK && !j->gone && ms_gw_stream_write(j->s, j->line.p, j->line.len) != MS_OK) {
        j->gone = true;
    }
}

static void job_run(ms_gw_stream *s, void *ctx)
{
    runner_job *j = ctx;
    ms_buf out;
    int status = 0;
    bool streamed = false;
    j->s = s;
    ms_buf_init(&out, MS_MAX_JSON_TEXT);
    j->gw->runner.fn(j->gw->runner.ctx, (const char *)j->body.p, j->body.len, on_event, j,
                     &out, &status, &streamed);
    if (!streamed) { /* a runner that did not stream: its answer as the one event */
        on_event(j, "result", (const char *)out.p, out.len);
    }
    ms_buf_free(&out);
}

/* Does the request ask for a stream? (The runner reads it again, with every other field.) */
static bool wants_stream(const ms_gw_req *req)
{
    ms_json_doc *doc = NULL;
    bool stream = false;
    if (ms_json_parse((const char *)req->body, req->body_len, &doc) == MS_OK &&
        ms_json_get_bool(ms_json_root(doc), "stream", &stream) != MS_OK) {
        stream = false;
    }
    ms_json_free(doc);
    return stream;
}

static void streamed(const ms_gw_req *req, ms_gw_resp *resp)
{
    runner_job *j = calloc(1, sizeof *j);
    if (!j) {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "out of memory");
        return;
    }
    j->gw = req->gw;
    ms_buf_init(&j->body, MS_SERVE_MAX_RUN_BODY);
    ms_buf_init(&j->line, MS_MAX_JSON_TEXT + 64);
    if (ms_buf_append(&j->body, req->body, req->body_len) != MS_OK) {
        job_free(j);
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "out of memory");
        return;
    }
    if (ms_gw_stream_start(req, resp, "text/event-stream; charset=utf-8", job_run, j,
                           job_free) != MS_OK) {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "cannot start the stream");
    }
}

void ms_gw_h_minions_run(const ms_gw_req *req, ms_gw_resp *resp)
{
    int status = 0;
    bool streamed_ = false;
    if (!req->gw->runner.fn) {
        ms_gw_error(resp, 404, "not_found_error", NULL, "unknown_url",
                    "Minions runs are not served by this gateway");
        return;
    }
    if (wants_stream(req)) {
        streamed(req, resp);
        return;
    }
    req->gw->runner.fn(req->gw->runner.ctx, (const char *)req->body, req->body_len, NULL, NULL,
                       &resp->body, &status, &streamed_);
    resp->status = status ? status : 500;
    resp->content_type = "application/json";
}

void ms_gw_h_minions_doc(const ms_gw_req *req, ms_gw_resp *resp)
{
    int status = 0;
    if (!req->gw->runner.extract) {
        ms_gw_error(resp, 404, "not_found_error", NULL, "unknown_url",
                    "documents are not read by this gateway");
        return;
    }
    req->gw->runner.extract(req->gw->runner.ctx, (const char *)req->body, req->body_len,
                            &resp->body, &status);
    resp->status = status ? status : 500;
    resp->content_type = "application/json";
}

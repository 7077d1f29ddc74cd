/* A model engine as one value: single chats, kept-alive connections, pings, and job batches. */
#include "common/llm/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/limits.h"
#include "common/llm/engine.h"
#include "common/log.h"

#define LOG_NAME "llm-pool"
#define DEFAULT_TIMEOUT_MS 300000L
#define DEFAULT_MAX_RETRIES 2u
#define DEFAULT_BACKOFF_MS 250u
/* A ping is a small GET: it may take the connect time plus this much, whatever timeout_ms is. */
#define PING_EXTRA_MS 5000L
/* Longest sleep of the batch loop when nothing is due; libcurl's own timers cut it short. */
#define IDLE_POLL_MS 1000
/* With several engines: the longest wait on one engine's transfers before looking at the next. */
#define SPREAD_WAIT_MS 10

/* The engine with its defaults applied, as the HTTP layer and the retry loop want it. */
struct eng {
    ms_llm_engine e;
    ms_http_opts http;
    ms_llm_wire w;
};

static ms_err resolve(const ms_llm_engine *in, struct eng *g)
{
    ENSURE(in != NULL && in->base_url != NULL && in->model != NULL && in->model[0] != '\0',
           MS_ERR_ARG);
    ENSURE(in->kind == MS_LLM_OLLAMA || in->kind == MS_LLM_OPENAI, MS_ERR_ARG);
    ENSURE(in->connect_timeout_ms >= 0 && in->timeout_ms >= 0, MS_ERR_ARG);
    g->e = *in;
    g->http = (ms_http_opts){
        .connect_timeout_ms =
            in->connect_timeout_ms ? in->connect_timeout_ms : MS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS,
        .total_timeout_ms = in->timeout_ms ? in->timeout_ms : DEFAULT_TIMEOUT_MS,
        .max_response = MS_MAX_LLM_RESPONSE,
        .ca_file = in->ca_file,
        .allow_plain_http = in->allow_plain_http,
        .user_agent = MS_HTTP_DEFAULT_USER_AGENT,
    };
    g->w = (ms_llm_wire){
        .fmt = in->kind == MS_LLM_OLLAMA ? &ms_llm_format_ollama : &ms_llm_format_openai,
        .base_url = in->base_url,
        .model = in->model,
        .api_key = in->api_key,
        .num_ctx = in->num_ctx,
        .rt = {.max_retries = in->max_retries ? in->max_retries : DEFAULT_MAX_RETRIES,
               .backoff_base_ms = in->backoff_base_ms ? in->backoff_base_ms : DEFAULT_BACKOFF_MS,
               .max_wait_ms = in->max_retry_wait_ms}, /* 0: MS_MAX_LLM_RETRY_WAIT_MS */
    };
    return MS_OK;
}

/* --- names ----------------------------------------------------------------------------------- */

ms_err ms_llm_kind_parse(const char *s, ms_llm_kind *out)
{
    static const struct {
        const char *name;
        ms_llm_kind kind;
    } names[] = {{"ollama", MS_LLM_OLLAMA}, {"openai", MS_LLM_OPENAI},
                 {"llamacpp", MS_LLM_OPENAI}, {"vllm", MS_LLM_OPENAI},
                 {"sglang", MS_LLM_OPENAI}};
    ENSURE(s != NULL && out != NULL, MS_ERR_ARG);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].kind;
            return MS_OK;
        }
    }
    return MS_ERR_ARG;
}

const char *ms_llm_kind_name(ms_llm_kind k)
{
    switch (k) {
    case MS_LLM_OLLAMA:
        return "ollama";
    case MS_LLM_OPENAI:
        return "openai";
    }
    return "unknown";
}

/* --- connections and single requests -------------------------------------------------------- */

struct ms_llm_conn {
    struct eng g;
    ms_http_client *http;
};

static ms_err conn_open(const ms_llm_engine *e, int retries, size_t max_response,
                        ms_llm_conn **out)
{
    *out = NULL;
    ms_llm_conn *c = calloc(1, sizeof *c);
    ENSURE(c != NULL, MS_ERR_NOMEM);
    ms_err err = resolve(e, &c->g);
    if (err == MS_OK && retries >= 0) {
        c->g.w.rt.max_retries = (unsigned)retries;
    }
    c->g.http.max_response = max_response;
    if (err == MS_OK) {
        err = ms_http_client_new(&c->g.http, &c->http);
    }
    if (err != MS_OK) {
        ms_llm_conn_free(c);
        return err;
    }
    *out = c;
    return MS_OK;
}

ms_err ms_llm_conn_new(const ms_llm_engine *e, int retries, ms_llm_conn **out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    return conn_open(e, retries, MS_MAX_LLM_STREAM, out);
}

void ms_llm_conn_free(ms_llm_conn *c)
{
    if (c != NULL) {
        ms_http_client_free(c->http);
        ms_wipe(c, sizeof *c);
        free(c);
    }
}

bool ms_llm_conn_closed(ms_llm_conn *c)
{
    return c != NULL && ms_http_client_idle_closed(c->http);
}

ms_err ms_llm_conn_chat(ms_llm_conn *c, const ms_chat_msg *msgs, size_t n,
                        const ms_chat_opts *opts, ms_chat_result *r)
{
    ENSURE(c != NULL, MS_ERR_ARG);
    return ms_llm_call(c->http, &c->g.w, msgs, n, opts, false, NULL, NULL, r);
}

ms_err ms_llm_conn_chat_stream(ms_llm_conn *c, const ms_chat_msg *msgs, size_t n,
                               const ms_chat_opts *opts, ms_chat_delta_fn on_delta, void *ctx,
                               ms_chat_result *r)
{
    ENSURE(c != NULL, MS_ERR_ARG);
    return ms_llm_call(c->http, &c->g.w, msgs, n, opts, true, on_delta, ctx, r);
}

ms_err ms_llm_conn_pump_open(ms_llm_conn *c, const ms_chat_msg *msgs, size_t n,
                             const ms_chat_opts *opts, ms_chat_delta_fn on_delta, void *ctx,
                             ms_chat_result *r, ms_llm_pump **out)
{
    *out = NULL;
    ENSURE(c != NULL, MS_ERR_ARG);
    return ms_llm_pump_open(c->http, &c->g.w, msgs, n, opts, on_delta, ctx, r, out);
}

/* One request on a connection of its own. */
static ms_err chat_once(const ms_llm_engine *e, const ms_chat_msg *msgs, size_t n,
                        const ms_chat_opts *opts, bool stream, ms_chat_delta_fn on_delta,
                        void *ctx, ms_chat_result *r)
{
    ms_llm_conn *c = NULL;
    ENSURE(r != NULL, MS_ERR_ARG);
    ms_llm_reset_result(r);
    TRY(conn_open(e, -1, stream ? MS_MAX_LLM_STREAM : MS_MAX_LLM_RESPONSE, &c));
    ms_err err = ms_llm_call(c->http, &c->g.w, msgs, n, opts, stream, on_delta, ctx, r);
    ms_llm_conn_free(c);
    return err;
}

ms_err ms_llm_engine_chat(const ms_llm_engine *e, const ms_chat_msg *msgs, size_t n,
                          const ms_chat_opts *opts, ms_chat_result *r)
{
    return chat_once(e, msgs, n, opts, false, NULL, NULL, r);
}

ms_err ms_llm_engine_chat_stream(const ms_llm_engine *e, const ms_chat_msg *msgs, size_t n,
                                 const ms_chat_opts *opts, ms_chat_delta_fn on_delta, void *ctx,
                                 ms_chat_result *r)
{
    return chat_once(e, msgs, n, opts, true, on_delta, ctx, r);
}

ms_err ms_llm_engine_ping(const ms_llm_engine *e, long *status)
{
    ms_err err = MS_OK;
    struct eng g;
    ms_http_client *http = NULL;
    ms_buf url, resp;
    ms_chat_result scratch; /* ms_llm_outcome's status mapping wants one */
    bool retryable = false;
    ENSURE(status != NULL, MS_ERR_ARG);
    *status = 0;
    TRY(resolve(e, &g));
    ms_buf_init(&url, MS_MAX_HTTP_URL);
    ms_buf_init(&resp, MS_MAX_HTTP_BODY);
    ms_chat_result_init(&scratch);
    g.http.max_response = MS_MAX_HTTP_BODY;
    if (g.http.total_timeout_ms > g.http.connect_timeout_ms + PING_EXTRA_MS) {
        g.http.total_timeout_ms = g.http.connect_timeout_ms + PING_EXTRA_MS;
    }
    TRY_OUT(ms_llm_url(g.e.base_url, g.w.fmt->ping_path, &url));
    TRY_OUT(ms_http_client_new(&g.http, &http));
    err = ms_http_get(http, (const char *)url.p, g.e.api_key, status, &resp);
    err = ms_llm_outcome(err, *status, &resp, &scratch, &retryable);
out:
    ms_http_client_free(http);
    ms_chat_result_free(&scratch);
    ms_buf_free(&resp);
    ms_buf_free(&url);
    return err;
}

/* --- batches --------------------------------------------------------------------------------- */

void ms_llm_job_free(ms_llm_job *j)
{
    if (j != NULL) {
        ms_chat_result_free(&j->result);
    }
}

/* A job's state across its attempts. */
struct task {
    ms_buf body;     /* the request, built at the first attempt; wiped when the job ends */
    double t0;       /* first attempt began */
    int64_t due_ms;  /* when waiting for a retry: the earliest start of the next attempt */
    unsigned retries;
    size_t lane;     /* the engine of its current attempt */
    bool ended;
};

/* One engine of the batch: its own transfers, at most `slots` in flight. */
struct lane {
    const char *base_url;
    ms_http_multi *multi;
    unsigned slots;
};

struct batch {
    struct eng g;
    ms_llm_job *jobs;
    size_t n;
    struct task *t;
    unsigned parallel;     /* in flight over every engine */
    struct lane lane[MS_MAX_LLM_ENGINES];
    size_t n_lanes;
    ms_llm_spread *spread; /* which engines are down, across batches; NULL for one engine */
    size_t next;           /* first job not started yet */
    size_t *waiting;       /* jobs waiting for a retry (unordered) */
    size_t n_waiting;
    size_t done;
    ms_llm_progress_fn progress;
    void *ctx;
};

static void end_job(struct batch *b, size_t i, ms_err e)
{
    ms_llm_job *j = &b->jobs[i];
    j->err = e;
    if (e != MS_OK) {
        ms_buf_clear(&j->result.content); /* never part of an answer as if it were one */
    }
    j->result.seconds = ms_clock_s() - b->t[i].t0;
    ms_buf_free(&b->t[i].body);
    b->t[i].ended = true;
    b->done++;
    if (b->progress != NULL) {
        b->progress(b->ctx, b->done, b->n);
    }
}

/* A job's request; messages the job makes for it (make_msgs) are dropped once it is built. */
static ms_err build(const struct batch *b, const ms_llm_job *j, ms_buf *body)
{
    const ms_chat_msg *msgs = j->msgs;
    size_t n = j->n_msgs;
    ms_err e = j->make_msgs != NULL ? j->make_msgs(j->msgs_ctx, &msgs, &n) : MS_OK;
    if (e == MS_OK) {
        e = b->g.w.fmt->build_body(&b->g.w, msgs, n, j->opts, false, body);
    }
    if (j->make_msgs != NULL && j->drop_msgs != NULL) {
        j->drop_msgs(j->msgs_ctx);
    }
    return e;
}

/* Start an attempt of job i on an idle slot. A job whose request cannot be built ends here. */
static ms_err launch(struct batch *b, size_t i, size_t lane)
{
    b->t[i].lane = lane;
    ms_llm_job *j = &b->jobs[i];
    struct task *t = &b->t[i];
    if (j->result.attempts == 0) {
        t->t0 = ms_clock_s();
        ms_err e = build(b, j, &t->body);
        if (e != MS_OK) {
            end_job(b, i, e);
            return e == MS_ERR_NOMEM ? e : MS_OK;
        }
    }
    unsigned attempts = j->result.attempts;
    ms_llm_reset_result(&j->result);
    j->result.attempts = attempts + 1;
    return ms_http_multi_start(b->lane[t->lane].multi, i, (const char *)t->body.p, t->body.len);
}

/* The waiting job due first, if it is due by now; removed from the list. */
static bool take_due(struct batch *b, int64_t now, size_t *job)
{
    size_t best = b->n_waiting;
    for (size_t k = 0; k < b->n_waiting; k++) {
        if (best == b->n_waiting || b->t[b->waiting[k]].due_ms < b->t[b->waiting[best]].due_ms) {
            best = k;
        }
    }
    if (best == b->n_waiting || b->t[b->waiting[best]].due_ms > now) {
        return false;
    }
    *job = b->waiting[best];
    b->waiting[best] = b->waiting[--b->n_waiting];
    return true;
}

static unsigned running(const struct batch *b)
{
    unsigned n = 0;
    for (size_t k = 0; k < b->n_lanes; k++) {
        n += b->lane[k].slots - ms_http_multi_idle(b->lane[k].multi);
    }
    return n;
}

static bool lane_up(const struct batch *b, size_t k, int64_t now)
{
    return b->spread == NULL || b->spread->down_until[k] <= now;
}

/* Every engine is down: the jobs not in flight end now, rather than wait for one to return. */
static void end_stranded(struct batch *b)
{
    char names[512];
    size_t used = 0;
    names[0] = '\0';
    for (size_t k = 0; k < b->n_lanes && used < sizeof names; k++) {
        int w = snprintf(names + used, sizeof names - used, "%s%s", k ? ", " : "",
                         b->lane[k].base_url);
        used += w > 0 ? (size_t)w : 0;
    }
    ms_log(MS_LOG_ERROR, LOG_NAME, "every local engine is down (%s): %zu jobs end unanswered", names,
           b->n - b->next + b->n_waiting);
    while (b->n_waiting > 0) {
        end_job(b, b->waiting[--b->n_waiting], MS_ERR_BACKEND_UNAVAILABLE);
    }
    while (b->next < b->n) {
        size_t i = b->next++;
        b->t[i].t0 = ms_clock_s();
        end_job(b, i, MS_ERR_BACKEND_UNAVAILABLE);
    }
}

/* Fill idle slots of the engines that are up: due retries first, then jobs not started yet. */
static ms_err fill(struct batch *b)
{
    int64_t now = (int64_t)ms_clock_ms();
    bool any_up = false;
    for (size_t k = 0; k < b->n_lanes; k++) {
        if (!lane_up(b, k, now)) {
            continue;
        }
        any_up = true;
        while (ms_http_multi_idle(b->lane[k].multi) > 0 && running(b) < b->parallel) {
            size_t i;
            if (take_due(b, now, &i)) {
                TRY(launch(b, i, k));
            } else if (b->next < b->n) {
                TRY(launch(b, b->next++, k));
            } else {
                break;
            }
        }
    }
    if (!any_up) {
        end_stranded(b);
    }
    return MS_OK;
}

/* With several engines, one that cannot be reached is skipped for a while and the job goes to
   another at once (not counted as a retry). */
static bool fail_over(struct batch *b, size_t i, ms_err e)
{
    if (b->spread == NULL || b->n_lanes < 2 || e != MS_ERR_BACKEND_UNAVAILABLE) {
        return false;
    }
    size_t k = b->t[i].lane;
    int64_t now = (int64_t)ms_clock_ms();
    if (b->spread->down_until[k] <= now) {
        ms_log(MS_LOG_WARN, LOG_NAME, "engine %s cannot be reached: skipped for %u s",
               b->lane[k].base_url, (unsigned)(b->spread->down_ms / 1000));
    }
    b->spread->down_until[k] = now + (int64_t)b->spread->down_ms;
    b->t[i].due_ms = now;
    b->waiting[b->n_waiting++] = i;
    return true;
}

/* An attempt ended: map it, then end the job or queue its retry (no wait on this thread). */
static ms_err complete(struct batch *b, const ms_http_done *d)
{
    size_t i = d->tag;
    ms_llm_job *j = &b->jobs[i];
    struct task *t = &b->t[i];
    bool retryable = false;
    uint32_t wait = 0;
    ms_err e = ms_llm_outcome(d->err, d->status, d->resp, &j->result, &retryable);
    if (e == MS_OK) {
        e = b->g.w.fmt->parse_body(d->resp, &j->result);
    }
    ms_buf_clear(d->resp);
    if (fail_over(b, i, e)) {
        return MS_OK;
    }
    if (e != MS_OK && retryable && t->retries < b->g.w.rt.max_retries &&
        ms_llm_retry_wait(&b->g.w.rt, t->retries, d->retry_after_s, &wait)) {
        ms_log(MS_LOG_WARN, LOG_NAME, "job %zu attempt %u failed (%s, HTTP %ld); retrying in %u ms",
               i, j->result.attempts, ms_err_name(e), d->status, (unsigned)wait);
        t->retries++;
        t->due_ms = (int64_t)ms_clock_ms() + wait;
        b->waiting[b->n_waiting++] = i;
        return MS_OK;
    }
    if (e == MS_ERR_BACKEND_STATUS && (d->status == 429 || d->status == 503)) {
        j->result.retry_after_s = d->retry_after_s; /* busy: as ms_llm_run records it */
    }
    end_job(b, i, e);
    return e == MS_ERR_NOMEM ? e : MS_OK;
}

/* Handle every finished transfer of every engine; *count says how many there were. */
static ms_err reap(struct batch *b, size_t *count)
{
    ms_http_done d;
    *count = 0;
    for (size_t k = 0; k < b->n_lanes; k++) {
        bool got = true;
        while (got) {
            TRY(ms_http_multi_next(b->lane[k].multi, &d, &got));
            if (got) {
                TRY(complete(b, &d));
                (*count)++;
            }
        }
    }
    return MS_OK;
}

/* How long the loop may sleep: until the first retry is due when a slot could take it. */
static int poll_timeout(const struct batch *b)
{
    if (running(b) >= b->parallel || b->n_waiting == 0) {
        return IDLE_POLL_MS;
    }
    int64_t first = INT64_MAX;
    for (size_t k = 0; k < b->n_waiting; k++) {
        first = b->t[b->waiting[k]].due_ms < first ? b->t[b->waiting[k]].due_ms : first;
    }
    int64_t d = first - (int64_t)ms_clock_ms();
    return d <= 0 ? 0 : d > IDLE_POLL_MS ? IDLE_POLL_MS : (int)d;
}

/* One engine: sleep in its multi. Several: a short wait on each that has transfers, so that
   none waits behind another (the engines' answers take far longer than this). */
static ms_err wait_any(struct batch *b)
{
    int t = poll_timeout(b);
    if (b->n_lanes == 1) {
        return ms_http_multi_wait(b->lane[0].multi, t);
    }
    int slice = t < SPREAD_WAIT_MS ? t : SPREAD_WAIT_MS;
    bool waited = false;
    for (size_t k = 0; k < b->n_lanes; k++) {
        if (ms_http_multi_idle(b->lane[k].multi) < b->lane[k].slots) {
            TRY(ms_http_multi_wait(b->lane[k].multi, slice));
            waited = true;
        }
    }
    return waited ? MS_OK : ms_http_multi_wait(b->lane[0].multi, t);
}

static ms_err run(struct batch *b)
{
    while (b->done < b->n) {
        TRY(fill(b));
        /* Every job not ended is running, waiting, or not started: none may be lost. */
        ENSURE(running(b) > 0 || b->n_waiting > 0 || b->done == b->n, MS_ERR_INTERNAL);
        for (size_t k = 0; k < b->n_lanes; k++) {
            TRY(ms_http_multi_perform(b->lane[k].multi));
        }
        size_t finished = 0;
        TRY(reap(b, &finished));
        if (finished == 0 && b->done < b->n) {
            TRY(wait_any(b));
        }
    }
    return MS_OK;
}

static ms_err setup(struct batch *b)
{
    b->t = calloc(b->n, sizeof *b->t);
    b->waiting = calloc(b->n, sizeof *b->waiting);
    ENSURE(b->t != NULL && b->waiting != NULL, MS_ERR_NOMEM);
    for (size_t i = 0; i < b->n; i++) {
        ms_buf_init(&b->t[i].body, MS_MAX_LLM_REQUEST);
    }
    for (size_t k = 0; k < b->n_lanes; k++) {
        ms_buf url;
        TRY(ms_llm_url(b->lane[k].base_url, b->g.w.fmt->chat_path, &url));
        ms_err e = ms_http_multi_new(&b->g.http, (const char *)url.p, b->g.e.api_key,
                                     b->lane[k].slots, &b->lane[k].multi);
        ms_buf_free(&url);
        TRY(e);
    }
    return MS_OK;
}

static void teardown(struct batch *b, ms_err err)
{
    for (size_t k = 0; k < b->n_lanes; k++) {
        ms_http_multi_free(b->lane[k].multi);
    }
    /* Jobs that a fatal error left without an outcome get that error. */
    for (size_t i = 0; i < b->n; i++) {
        if (b->t == NULL || !b->t[i].ended) {
            b->jobs[i].err = err;
            ms_buf_clear(&b->jobs[i].result.content);
        }
        if (b->t != NULL) {
            ms_buf_free(&b->t[i].body);
        }
    }
    free(b->t);
    free(b->waiting);
}

/* The one batch loop, over one engine (spread NULL) or several; pre: an error found before. */
static ms_err batch_run(struct batch *b, ms_err pre)
{
    ms_llm_job *jobs = b->jobs;
    ENSURE(jobs != NULL || b->n == 0, MS_ERR_ARG);
    for (size_t i = 0; i < b->n; i++) {
        ms_chat_result_init(&jobs[i].result);
        jobs[i].err = MS_ERR_INTERNAL; /* until it has an outcome */
    }
    ms_err err = pre;
    if (err == MS_OK && (b->parallel == 0 || b->parallel > MS_MAX_LLM_PARALLEL)) {
        err = MS_ERR_ARG;
    }
    if (err != MS_OK || b->n == 0) {
        teardown(b, err);
        return err;
    }
    err = setup(b);
    if (err == MS_OK) {
        err = run(b);
    }
    teardown(b, err);
    return err;
}

/*
 * Besides MS_ERR_ARG, MS_ERR_NOMEM and MS_ERR_INTERNAL, a URL that the policy refuses
 * (MS_ERR_HTTP_URL, MS_ERR_HTTP_INSECURE) stops the batch before any request: it would fail
 * every job alike. A job whose own messages or options are invalid ends with MS_ERR_ARG
 * (attempts 0) and the others run.
 */
ms_err ms_llm_batch_run(const ms_llm_engine *e, ms_llm_job *jobs, size_t n, unsigned parallel,
                        ms_llm_progress_fn progress, void *ctx)
{
    struct batch b = {.jobs = jobs, .n = n, .parallel = parallel, .progress = progress,
                      .ctx = ctx};
    ms_err pre = resolve(e, &b.g);
    if (pre == MS_OK) {
        b.lane[0] = (struct lane){.base_url = e->base_url, .slots = parallel};
        b.n_lanes = 1;
    }
    return batch_run(&b, pre);
}

ms_err ms_llm_batch_run_spread(const ms_llm_engine *e, ms_llm_spread *s, ms_llm_job *jobs,
                               size_t n, unsigned parallel, ms_llm_progress_fn progress,
                               void *ctx)
{
    struct batch b = {.jobs = jobs, .n = n, .parallel = parallel, .progress = progress,
                      .ctx = ctx, .spread = s};
    ms_err pre = resolve(e, &b.g);
    if (pre == MS_OK && (s == NULL || s->n < 1 || s->n > MS_MAX_LLM_ENGINES ||
                         s->per_engine > MS_MAX_LLM_PARALLEL)) {
        pre = MS_ERR_ARG;
    }
    for (size_t k = 0; pre == MS_OK && k < s->n; k++) {
        unsigned slots = s->per_engine && s->per_engine < parallel ? s->per_engine : parallel;
        b.lane[k] = (struct lane){.base_url = s->base_url[k], .slots = slots ? slots : 1};
        pre = s->base_url[k] != NULL ? MS_OK : MS_ERR_ARG;
    }
    if (pre == MS_OK) {
        b.n_lanes = s->n;
        s->down_ms = s->down_ms ? s->down_ms : MS_LLM_ENGINE_DOWN_MS;
    }
    return batch_run(&b, pre);
}

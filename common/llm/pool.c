/* A model engine as one value: single chats, pings, and job batches over one curl multi handle. */
#include "common/llm/pool.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/http_internal.h"
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

/* The engine with its defaults applied, as the HTTP layer and the retry loop want it. */
struct eng {
    ms_llm_engine e;
    ms_http_opts http;
    ms_llm_retry rt;
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
    g->rt = (ms_llm_retry){
        .max_retries = in->max_retries ? in->max_retries : DEFAULT_MAX_RETRIES,
        .backoff_base_ms = in->backoff_base_ms ? in->backoff_base_ms : DEFAULT_BACKOFF_MS,
        .max_wait_ms = in->max_retry_wait_ms, /* 0: engine.c's MS_MAX_LLM_RETRY_WAIT_MS */
    };
    return MS_OK;
}

static ms_openai_cfg openai_cfg(const struct eng *g)
{
    return (ms_openai_cfg){g->e.base_url,       g->e.model,            g->e.api_key,
                           g->rt.max_retries,   g->rt.backoff_base_ms, g->rt.max_wait_ms};
}

static ms_ollama_cfg ollama_cfg(const struct eng *g)
{
    return (ms_ollama_cfg){g->e.base_url,       g->e.model,        g->e.api_key,
                           g->e.num_ctx,        g->rt.max_retries, g->rt.backoff_base_ms,
                           g->rt.max_wait_ms};
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

/* --- one request ----------------------------------------------------------------------------- */

ms_err ms_llm_engine_chat(const ms_llm_engine *e, const ms_chat_msg *msgs, size_t n,
                          const ms_chat_opts *opts, ms_chat_result *r)
{
    struct eng g;
    ms_http_client *http = NULL;
    ENSURE(r != NULL, MS_ERR_ARG);
    ms_llm_reset_result(r);
    TRY(resolve(e, &g));
    TRY(ms_http_client_new(&g.http, &http));
    ms_err err;
    if (g.e.kind == MS_LLM_OLLAMA) {
        ms_ollama_cfg cfg = ollama_cfg(&g);
        err = ms_ollama_chat(http, &cfg, msgs, n, opts, r);
    } else {
        ms_openai_cfg cfg = openai_cfg(&g);
        err = ms_openai_chat(http, &cfg, msgs, n, opts, r);
    }
    ms_http_client_free(http);
    return err;
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
    TRY_OUT(ms_llm_url(g.e.base_url, g.e.kind == MS_LLM_OLLAMA ? "/api/tags" : "/models", &url));
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
    bool ended;
};

/* One transfer in flight: an easy handle reused job after job. */
struct slot {
    CURL *easy;
    bool busy;
    size_t job;
    ms_buf resp; /* the reply of the attempt; wiped after parsing */
    ms_http_xfer x;
    char errbuf[CURL_ERROR_SIZE];
};

struct batch {
    struct eng g;
    ms_llm_job *jobs;
    size_t n;
    struct task *t;
    struct slot *s;
    unsigned parallel;
    unsigned running;
    CURLM *multi;
    CURLU *url;             /* checked once; libcurl copies it per transfer */
    struct curl_slist *hdr; /* shared by every transfer; one line holds the token */
    size_t next;            /* first job not started yet */
    size_t *waiting;        /* jobs waiting for a retry (unordered) */
    size_t n_waiting;
    size_t done;
    ms_llm_progress_fn progress;
    void *ctx;
};

static ms_err build_body(const struct batch *b, const ms_llm_job *j, ms_buf *out)
{
    if (b->g.e.kind == MS_LLM_OLLAMA) {
        ms_ollama_cfg cfg = ollama_cfg(&b->g);
        return ms_ollama_build_body(&cfg, j->msgs, j->n_msgs, j->opts, false, out);
    }
    ms_openai_cfg cfg = openai_cfg(&b->g);
    return ms_openai_build_body(&cfg, j->msgs, j->n_msgs, j->opts, false, out);
}

static ms_err parse_body(const struct batch *b, const ms_buf *body, ms_chat_result *r)
{
    return b->g.e.kind == MS_LLM_OLLAMA ? ms_ollama_parse_body(body, r)
                                         : ms_openai_parse_body(body, r);
}

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

static struct slot *free_slot(struct batch *b)
{
    for (unsigned k = 0; k < b->parallel; k++) {
        if (!b->s[k].busy) {
            return &b->s[k];
        }
    }
    return NULL;
}

/* Start an attempt of job i on slot s. A job whose request cannot be built ends here. */
static ms_err launch(struct batch *b, struct slot *s, size_t i)
{
    ms_llm_job *j = &b->jobs[i];
    struct task *t = &b->t[i];
    if (j->result.attempts == 0) {
        t->t0 = ms_clock_s();
        ms_err e = build_body(b, j, &t->body);
        if (e != MS_OK) {
            end_job(b, i, e);
            return e == MS_ERR_NOMEM ? e : MS_OK;
        }
    }
    unsigned attempts = j->result.attempts;
    ms_llm_reset_result(&j->result);
    j->result.attempts = attempts + 1;
    ms_buf_clear(&s->resp);
    s->x = (ms_http_xfer){.resp = &s->resp};
    TRY(ms_http_easy_setup(s->easy, &b->g.http, &s->x, b->url, b->hdr, s->errbuf,
                           (const char *)t->body.p, t->body.len));
    ENSURE(curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (void *)s) == CURLE_OK, MS_ERR_INTERNAL);
    ENSURE(curl_multi_add_handle(b->multi, s->easy) == CURLM_OK, MS_ERR_INTERNAL);
    s->busy = true;
    s->job = i;
    b->running++;
    return MS_OK;
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

/* Fill free slots: due retries first, then jobs not started yet. */
static ms_err fill(struct batch *b)
{
    int64_t now = (int64_t)ms_clock_ms();
    struct slot *s;
    while ((s = free_slot(b)) != NULL) {
        size_t i;
        if (take_due(b, now, &i)) {
            TRY(launch(b, s, i));
        } else if (b->next < b->n) {
            TRY(launch(b, s, b->next++));
        } else {
            break;
        }
    }
    return MS_OK;
}

/* An attempt ended: map it, then end the job or queue its retry (no wait on this thread). */
static ms_err complete(struct batch *b, struct slot *s, CURLcode rc)
{
    size_t i = s->job;
    ms_llm_job *j = &b->jobs[i];
    struct task *t = &b->t[i];
    long status = 0, retry_after_s = 0;
    bool retryable = false;
    uint32_t wait = 0;
    ENSURE(curl_multi_remove_handle(b->multi, s->easy) == CURLM_OK, MS_ERR_INTERNAL);
    s->busy = false;
    b->running--;
    ms_err e = ms_http_easy_finish(s->easy, rc, &s->x, s->errbuf, &status, &retry_after_s);
    e = ms_llm_outcome(e, status, &s->resp, &j->result, &retryable);
    if (e == MS_OK) {
        e = parse_body(b, &s->resp, &j->result);
    }
    ms_buf_clear(&s->resp);
    if (e != MS_OK && retryable && t->retries < b->g.rt.max_retries &&
        ms_llm_retry_wait(&b->g.rt, t->retries, retry_after_s, &wait)) {
        ms_log(MS_LOG_WARN, LOG_NAME, "job %zu attempt %u failed (%s, HTTP %ld); retrying in %u ms",
               i, j->result.attempts, ms_err_name(e), status, (unsigned)wait);
        t->retries++;
        t->due_ms = (int64_t)ms_clock_ms() + wait;
        b->waiting[b->n_waiting++] = i;
        return MS_OK;
    }
    end_job(b, i, e);
    return e == MS_ERR_NOMEM ? e : MS_OK;
}

/* Handle every finished transfer; *count says how many there were. */
static ms_err reap(struct batch *b, size_t *count)
{
    CURLMsg *m;
    int left = 0;
    *count = 0;
    while ((m = curl_multi_info_read(b->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        CURLcode rc = m->data.result; /* m dies with curl_multi_remove_handle */
        char *priv = NULL;
        ENSURE(curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) == CURLE_OK &&
                   priv != NULL,
               MS_ERR_INTERNAL);
        TRY(complete(b, (struct slot *)(void *)priv, rc));
        (*count)++;
    }
    return MS_OK;
}

/* How long the loop may sleep: until the first retry is due when a slot could take it. */
static int poll_timeout(const struct batch *b)
{
    if (b->running >= b->parallel || b->n_waiting == 0) {
        return IDLE_POLL_MS;
    }
    int64_t first = INT64_MAX;
    for (size_t k = 0; k < b->n_waiting; k++) {
        first = b->t[b->waiting[k]].due_ms < first ? b->t[b->waiting[k]].due_ms : first;
    }
    int64_t d = first - (int64_t)ms_clock_ms();
    return d <= 0 ? 0 : d > IDLE_POLL_MS ? IDLE_POLL_MS : (int)d;
}

static ms_err run(struct batch *b)
{
    while (b->done < b->n) {
        int still = 0;
        TRY(fill(b));
        /* Every job not ended is running, waiting, or not started: none may be lost. */
        ENSURE(b->running > 0 || b->n_waiting > 0 || b->done == b->n, MS_ERR_INTERNAL);
        ENSURE(curl_multi_perform(b->multi, &still) == CURLM_OK, MS_ERR_INTERNAL);
        size_t finished = 0;
        TRY(reap(b, &finished));
        if (finished == 0 && b->done < b->n) {
            ENSURE(curl_multi_poll(b->multi, NULL, 0, poll_timeout(b), NULL) == CURLM_OK,
                   MS_ERR_INTERNAL);
        }
    }
    return MS_OK;
}

static ms_err setup(struct batch *b)
{
    ms_buf url;
    TRY(ms_http_global_init());
    b->t = calloc(b->n, sizeof *b->t);
    b->waiting = calloc(b->n, sizeof *b->waiting);
    b->s = calloc(b->parallel, sizeof *b->s);
    ENSURE(b->t != NULL && b->waiting != NULL && b->s != NULL, MS_ERR_NOMEM);
    for (size_t i = 0; i < b->n; i++) {
        ms_buf_init(&b->t[i].body, MS_MAX_LLM_REQUEST);
    }
    for (unsigned k = 0; k < b->parallel; k++) {
        ms_buf_init(&b->s[k].resp, MS_MAX_LLM_RESPONSE);
        b->s[k].easy = curl_easy_init();
        ENSURE(b->s[k].easy != NULL, MS_ERR_NOMEM);
    }
    TRY(ms_llm_url(b->g.e.base_url,
                   b->g.e.kind == MS_LLM_OLLAMA ? MS_OLLAMA_CHAT_PATH : MS_OPENAI_CHAT_PATH,
                   &url));
    ms_err e = ms_http_url_check((const char *)url.p, b->g.http.allow_plain_http, &b->url);
    ms_buf_free(&url);
    TRY(e);
    TRY(ms_http_headers_new(b->g.e.api_key, true, &b->hdr));
    b->multi = curl_multi_init();
    ENSURE(b->multi != NULL, MS_ERR_NOMEM);
    /* Never more connections than transfers in flight, and keep them all for reuse. */
    long p = (long)b->parallel;
    ENSURE(curl_multi_setopt(b->multi, CURLMOPT_MAX_HOST_CONNECTIONS, p) == CURLM_OK &&
               curl_multi_setopt(b->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, p) == CURLM_OK &&
               curl_multi_setopt(b->multi, CURLMOPT_MAXCONNECTS, p) == CURLM_OK,
           MS_ERR_INTERNAL);
    return MS_OK;
}

static void teardown(struct batch *b, ms_err err)
{
    for (unsigned k = 0; b->s != NULL && k < b->parallel; k++) {
        if (b->s[k].busy) {
            curl_multi_remove_handle(b->multi, b->s[k].easy);
        }
        if (b->s[k].easy != NULL) {
            curl_easy_cleanup(b->s[k].easy);
        }
        ms_buf_free(&b->s[k].resp);
    }
    if (b->multi != NULL) {
        curl_multi_cleanup(b->multi);
    }
    ms_http_headers_free(b->hdr);
    curl_url_cleanup(b->url);
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
    free(b->s);
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
    ENSURE(jobs != NULL || n == 0, MS_ERR_ARG);
    for (size_t i = 0; i < n; i++) {
        ms_chat_result_init(&jobs[i].result);
        jobs[i].err = MS_ERR_INTERNAL; /* until it has an outcome */
    }
    ms_err err = resolve(e, &b.g);
    if (err == MS_OK && (parallel == 0 || parallel > MS_MAX_LLM_PARALLEL)) {
        err = MS_ERR_ARG;
    }
    if (err != MS_OK || n == 0) {
        teardown(&b, err);
        return err;
    }
    err = setup(&b);
    if (err == MS_OK) {
        err = run(&b);
    }
    teardown(&b, err);
    return err;
}

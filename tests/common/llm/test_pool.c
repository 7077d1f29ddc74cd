/*
 * Tests for common/llm/pool: engine chat and ping, and batches of jobs over curl multi,
 * against a real llm-sim process (both wire formats), plus the in-process HTTP fixture for
 * what llm-sim cannot script (500 then 200, Retry-After, TLS, connection counts).
 *
 * Usage: test_pool LLM-SIM
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/llm/pool.h"
#include "tests/fixture/http_fixture.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define MAX_JOBS 200
#define TEXT_LEN 64

static e2e_world W; /* llm-sim, its script, the temp dir */

/* --- llm-sim --------------------------------------------------------------------------------- */

typedef e2e_server sim; /* .log: its request log */

/* Every job "job <i>" gets "answer i"; markers in angle brackets pick the other rules. */
static int write_script(void)
{
    static char text[32768];
    size_t off = 0;
    int k = snprintf(text, sizeof text,
                     "{\"rules\": [\n"
                     " {\"contains\": \"<sleepy>\", \"reply\": \"too late\",\n"
                     "  \"delay_ms\": 30000},\n"
                     " {\"contains\": \"<overload\", \"status\": 503,\n"
                     "  \"reply\": \"engine overloaded\"}");
    if (k < 0 || (size_t)k >= sizeof text) {
        return -1;
    }
    off = (size_t)k;
    for (unsigned i = 0; i < MAX_JOBS; i++) {
        k = snprintf(text + off, sizeof text - off,
                     ",\n {\"contains\": \"job <%u>\", \"reply\": \"answer %u\"}", i, i);
        if (k < 0 || (size_t)k >= sizeof text - off) {
            return -1;
        }
        off += (size_t)k;
    }
    k = snprintf(text + off, sizeof text - off, "],\n \"default\": \"no rule\"}\n");
    if (k < 0 || (size_t)k >= sizeof text - off) {
        return -1;
    }
    return e2e_world_script(&W, text);
}

/* llm-sim with the script, a request log and extra flags (NULL-terminated, may be NULL). */
static int sim_start(sim *s, const char *const *extra)
{
    e2e_sim_cfg cfg = {.record = 1};
    for (int k = 0; extra != NULL && extra[k] != NULL && k < E2E_MAX_EXTRA_ARGS; k++) {
        cfg.extra[k] = extra[k];
    }
    return e2e_world_sim(&W, s, &cfg);
}

static void sim_stop(sim *s)
{
    CHECK(e2e_server_stop(s, E2E_STOP_GRACE_MS) == 0);
}

/* Lines of the request log that contain needle. */
static size_t log_count(const sim *s, const char *needle)
{
    ms_buf b;
    size_t n = 0;
    ms_buf_init(&b, 64u << 20);
    if (e2e_file_read(s->log, &b) != 0) {
        ms_buf_free(&b);
        return 0;
    }
    for (const char *p = (const char *)b.p; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        for (size_t i = 0; i + strlen(needle) <= len; i++) {
            if (strncmp(p + i, needle, strlen(needle)) == 0) {
                n++;
                break;
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    ms_buf_free(&b);
    return n;
}

/* Index (0-based) of the k-th (0-based) log line containing needle; -1 if none. */
static long log_line_of(const sim *s, const char *needle, size_t k)
{
    ms_buf b;
    long line = 0, found = -1;
    ms_buf_init(&b, 64u << 20);
    if (e2e_file_read(s->log, &b) != 0) {
        ms_buf_free(&b);
        return -1;
    }
    for (const char *p = (const char *)b.p; p != NULL && *p != '\0' && found < 0; line++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        for (size_t i = 0; i + strlen(needle) <= len; i++) {
            if (strncmp(p + i, needle, strlen(needle)) == 0) {
                if (k == 0) {
                    found = line;
                } else {
                    k--;
                }
                break;
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    ms_buf_free(&b);
    return found;
}

/* --- jobs ------------------------------------------------------------------------------------ */

static ms_llm_job g_jobs[MAX_JOBS];
static ms_chat_msg g_msgs[MAX_JOBS][2];
static char g_text[MAX_JOBS][TEXT_LEN];
static char g_url[128];

static void set_job(size_t i, const char *text)
{
    snprintf(g_text[i], TEXT_LEN, "%s", text);
    g_msgs[i][0] = (ms_chat_msg){.role = "system", .content = "You answer one question.",
                                 .content_len = 24};
    g_msgs[i][1] = (ms_chat_msg){.role = "user", .content = g_text[i],
                                 .content_len = strlen(g_text[i])};
    g_jobs[i] = (ms_llm_job){.msgs = g_msgs[i], .n_msgs = 2};
}

/* Jobs 0..n-1 asking "job <i>". */
static void make_jobs(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char t[TEXT_LEN];
        snprintf(t, sizeof t, "Please do job <%zu> now.", i);
        set_job(i, t);
    }
}

static void free_jobs(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ms_llm_job_free(&g_jobs[i]);
    }
}

static int content_is(const ms_chat_result *r, const char *want)
{
    size_t n = strlen(want);
    return r->content.len == n && (n == 0 || memcmp(r->content.p, want, n) == 0);
}

static int answered(size_t i)
{
    char want[32];
    snprintf(want, sizeof want, "answer %zu", i);
    return g_jobs[i].err == MS_OK && content_is(&g_jobs[i].result, want);
}

static ms_llm_engine engine(ms_llm_kind kind, unsigned port)
{
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%u%s", port,
             kind == MS_LLM_OPENAI ? "/v1" : "");
    return (ms_llm_engine){.kind = kind, .base_url = g_url, .model = "sim-model",
                           .connect_timeout_ms = 5000, .timeout_ms = 20000,
                           .backoff_base_ms = 5};
}

typedef struct progress {
    size_t calls, last, total;
    int in_order;
} progress;

static void on_progress(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    p->in_order = p->in_order && done == p->last + 1 && (p->total == 0 || total == p->total);
    p->calls++;
    p->last = done;
    p->total = total;
}

/* --- tests ----------------------------------------------------------------------------------- */

static void test_kind_names(void)
{
    ms_llm_kind k = MS_LLM_OPENAI;
    CHECK_OK(ms_llm_kind_parse("ollama", &k));
    CHECK(k == MS_LLM_OLLAMA);
    const char *openai[] = {"openai", "llamacpp", "vllm", "sglang"};
    for (size_t i = 0; i < 4; i++) {
        k = MS_LLM_OLLAMA;
        CHECK_OK(ms_llm_kind_parse(openai[i], &k));
        CHECK(k == MS_LLM_OPENAI);
    }
    CHECK_ERR(ms_llm_kind_parse("Ollama", &k), MS_ERR_ARG);
    CHECK_ERR(ms_llm_kind_parse("", &k), MS_ERR_ARG);
    CHECK_ERR(ms_llm_kind_parse(NULL, &k), MS_ERR_ARG);
    CHECK(strcmp(ms_llm_kind_name(MS_LLM_OLLAMA), "ollama") == 0);
    CHECK(strcmp(ms_llm_kind_name(MS_LLM_OPENAI), "openai") == 0);
}

/* Arguments refused before any network activity (port 9 is never contacted). */
static void test_args(void)
{
    ms_llm_engine e = engine(MS_LLM_OLLAMA, 9);
    long status = -1;
    ms_chat_result r;
    make_jobs(3);
    CHECK_ERR(ms_llm_batch_run(&e, g_jobs, 3, 0, NULL, NULL), MS_ERR_ARG);
    CHECK(g_jobs[0].err == MS_ERR_ARG && g_jobs[2].err == MS_ERR_ARG);
    free_jobs(3);
    CHECK_ERR(ms_llm_batch_run(&e, g_jobs, 3, MS_MAX_LLM_PARALLEL + 1, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 0, 4, NULL, NULL));
    CHECK_OK(ms_llm_batch_run(&e, NULL, 0, MS_MAX_LLM_PARALLEL, NULL, NULL));
    CHECK_ERR(ms_llm_batch_run(&e, NULL, 1, 4, NULL, NULL), MS_ERR_ARG);
    CHECK_ERR(ms_llm_batch_run(NULL, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);

    ms_llm_engine bad = e;
    bad.model = "";
    CHECK_ERR(ms_llm_batch_run(&bad, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
    bad = e;
    bad.timeout_ms = -1;
    CHECK_ERR(ms_llm_batch_run(&bad, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
    bad = e;
    bad.kind = (ms_llm_kind)7;
    CHECK_ERR(ms_llm_batch_run(&bad, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
    bad = e;
    bad.api_key = "has space";
    CHECK_ERR(ms_llm_batch_run(&bad, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    CHECK(g_jobs[1].err == MS_ERR_ARG && g_jobs[1].result.attempts == 0);
    free_jobs(3);

    /* plain http to a host that is not loopback: refused for every job, nothing sent */
    bad = e;
    bad.base_url = "http://192.0.2.1:11434";
    CHECK_ERR(ms_llm_batch_run(&bad, g_jobs, 3, 4, NULL, NULL), MS_ERR_HTTP_INSECURE);
    CHECK(g_jobs[0].err == MS_ERR_HTTP_INSECURE && g_jobs[2].err == MS_ERR_HTTP_INSECURE);
    free_jobs(3);
    bad.base_url = "ftp://127.0.0.1/";
    CHECK_ERR(ms_llm_batch_run(&bad, g_jobs, 3, 4, NULL, NULL), MS_ERR_HTTP_URL);
    free_jobs(3);

    ms_chat_result_init(&r);
    CHECK_ERR(ms_llm_engine_chat(NULL, g_msgs[0], 2, NULL, &r), MS_ERR_ARG);
    CHECK_ERR(ms_llm_engine_chat(&e, g_msgs[0], 2, NULL, NULL), MS_ERR_ARG);
    bad = e;
    bad.base_url = "http://192.0.2.1:11434";
    CHECK_ERR(ms_llm_engine_chat(&bad, g_msgs[0], 2, NULL, &r), MS_ERR_HTTP_INSECURE);
    CHECK_ERR(ms_llm_engine_ping(&bad, &status), MS_ERR_HTTP_INSECURE);
    CHECK(status == 0);
    CHECK_ERR(ms_llm_engine_ping(NULL, &status), MS_ERR_ARG);
    CHECK_ERR(ms_llm_engine_ping(&e, NULL), MS_ERR_ARG);
    ms_chat_result_free(&r);
}

/* 200 jobs, 8 in flight: every job gets its own answer, once. */
static void batch_200(ms_llm_kind kind)
{
    sim s;
    progress pr = {.in_order = 1};
    if (sim_start(&s, NULL) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(kind, s.port);
    make_jobs(MAX_JOBS);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, MAX_JOBS, 8, on_progress, &pr));
    size_t ok = 0;
    for (size_t i = 0; i < MAX_JOBS; i++) {
        const ms_chat_result *r = &g_jobs[i].result;
        ok += answered(i) && r->attempts == 1 && r->http_status == 200 &&
              strcmp(r->finish_reason, "stop") == 0 && r->prompt_tokens > 0 &&
              r->completion_tokens == 2 && r->seconds > 0 && r->error_text[0] == '\0';
    }
    CHECK(ok == MAX_JOBS);
    CHECK(pr.calls == MAX_JOBS && pr.last == MAX_JOBS && pr.total == MAX_JOBS && pr.in_order);
    const char *path = kind == MS_LLM_OPENAI ? "/v1/chat/completions" : "/api/chat";
    CHECK(log_count(&s, path) == MAX_JOBS);
    CHECK(log_count(&s, "\"stream\":false") == MAX_JOBS);
    CHECK(log_count(&s, "job <17>") == 1 && log_count(&s, "job <199>") == 1);
    free_jobs(MAX_JOBS);
    sim_stop(&s);
}

static void test_batch_200_ollama(void)
{
    batch_200(MS_LLM_OLLAMA);
}

static void test_batch_200_openai(void)
{
    batch_200(MS_LLM_OPENAI);
}

/* A job whose own message is invalid ends alone; jobs with options carry them. */
static void test_job_errors_are_the_jobs(void)
{
    sim s;
    ms_chat_opts o;
    if (sim_start(&s, NULL) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OPENAI, s.port);
    make_jobs(6);
    g_jobs[2].n_msgs = 0;
    ms_chat_opts_init(&o);
    o.max_tokens = 1;
    g_jobs[4].opts = &o;
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 6, 2, NULL, NULL));
    CHECK(g_jobs[2].err == MS_ERR_ARG && g_jobs[2].result.attempts == 0);
    CHECK(answered(0) && answered(1) && answered(3) && answered(5));
    CHECK(g_jobs[4].err == MS_OK && content_is(&g_jobs[4].result, "answer") &&
          strcmp(g_jobs[4].result.finish_reason, "length") == 0);
    free_jobs(6);
    sim_stop(&s);
}

/* --- messages made when a job's request is built (make_msgs, drop_msgs) --------------------- */

typedef struct made {
    ms_chat_msg msgs[2];
    char text[TEXT_LEN];
    size_t job, live, max_live, drops;
    size_t makes[MAX_JOBS];
    size_t fail_job; /* its make_msgs fails (MAX_JOBS: none) */
    ms_err fail_with;
} made;

typedef struct made_job {
    made *m;
    size_t i;
} made_job;

static made_job g_made[MAX_JOBS];

static ms_err make_job_msgs(void *ctx, const ms_chat_msg **msgs, size_t *n)
{
    made_job *mj = ctx;
    made *m = mj->m;
    m->makes[mj->i]++;
    m->live++;
    m->max_live = m->live > m->max_live ? m->live : m->max_live;
    if (mj->i == m->fail_job) {
        return m->fail_with;
    }
    snprintf(m->text, sizeof m->text, "%s", g_text[mj->i]);
    m->msgs[0] = (ms_chat_msg){.role = "system", .content = "You answer one question.",
                               .content_len = 24};
    m->msgs[1] = (ms_chat_msg){.role = "user", .content = m->text, .content_len = strlen(m->text)};
    *msgs = m->msgs;
    *n = 2;
    return MS_OK;
}

static void drop_job_msgs(void *ctx)
{
    made_job *mj = ctx;
    memset(mj->m->text, 0, sizeof mj->m->text);
    mj->m->live--;
    mj->m->drops++;
}

/* Jobs 0..n-1 whose messages exist only while their request is built, one at a time. */
static void make_lazy_jobs(made *m, size_t n)
{
    memset(m, 0, sizeof *m);
    m->fail_job = MAX_JOBS;
    make_jobs(n);
    for (size_t i = 0; i < n; i++) {
        g_made[i] = (made_job){.m = m, .i = i};
        g_jobs[i] = (ms_llm_job){.make_msgs = make_job_msgs, .drop_msgs = drop_job_msgs,
                                 .msgs_ctx = &g_made[i]};
    }
}

/*
 * make_msgs runs once per job (its retries resend the request built then), never two at a
 * time, and drop_msgs after each, also after a failed make_msgs: that job ends with the
 * error and the others run; MS_ERR_NOMEM stops the batch.
 */
static void test_made_msgs(void)
{
    sim s;
    made m;
    if (sim_start(&s, NULL) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OLLAMA, s.port);
    e.max_retries = 2;
    make_lazy_jobs(&m, 12);
    snprintf(g_text[5], TEXT_LEN, "<overload-lazy>");
    m.fail_job = 7;
    m.fail_with = MS_ERR_CAP_EXCEEDED;
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 12, 4, NULL, NULL));
    for (size_t i = 0; i < 12; i++) {
        CHECK(m.makes[i] == 1);
        if (i != 5 && i != 7) {
            CHECK(answered(i));
        }
    }
    CHECK(m.max_live == 1 && m.live == 0 && m.drops == 12);
    CHECK(g_jobs[5].err == MS_ERR_BACKEND_STATUS && g_jobs[5].result.attempts == 3);
    CHECK(log_count(&s, "<overload-lazy>") == 3);
    CHECK(g_jobs[7].err == MS_ERR_CAP_EXCEEDED && g_jobs[7].result.attempts == 0);
    CHECK(log_count(&s, "job <7>") == 0);
    free_jobs(12);

    make_lazy_jobs(&m, 6);
    m.fail_job = 2;
    m.fail_with = MS_ERR_NOMEM;
    CHECK_ERR(ms_llm_batch_run(&e, g_jobs, 6, 1, NULL, NULL), MS_ERR_NOMEM);
    CHECK(m.live == 0 && m.drops == m.makes[0] + m.makes[1] + m.makes[2] && m.makes[2] == 1);
    CHECK(g_jobs[2].err == MS_ERR_NOMEM);
    free_jobs(6);
    sim_stop(&s);
}

static void test_engine_chat_and_ping(void)
{
    sim s;
    ms_chat_result r;
    long status = -1;
    if (sim_start(&s, NULL) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    make_jobs(6);
    ms_chat_result_init(&r);
    for (int k = 0; k < 2; k++) {
        ms_llm_engine e = engine(k ? MS_LLM_OPENAI : MS_LLM_OLLAMA, s.port);
        CHECK_OK(ms_llm_engine_chat(&e, g_msgs[5], 2, NULL, &r));
        CHECK(content_is(&r, "answer 5") && r.attempts == 1 && r.http_status == 200);
        CHECK_OK(ms_llm_engine_ping(&e, &status));
        CHECK(status == 200);
    }
    CHECK(log_count(&s, "/api/tags") == 1 && log_count(&s, "/v1/models") == 1);
    /* a base URL with the wrong path: the engine is there but says 404 */
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%u/nope", s.port);
    ms_llm_engine e = {.kind = MS_LLM_OPENAI, .base_url = g_url, .model = "m"};
    CHECK_ERR(ms_llm_engine_ping(&e, &status), MS_ERR_BACKEND_STATUS);
    CHECK(status == 404);
    e.backoff_base_ms = 1;
    CHECK_ERR(ms_llm_engine_chat(&e, g_msgs[5], 2, NULL, &r), MS_ERR_BACKEND_STATUS);
    CHECK(r.http_status == 404 && r.attempts == 1 && r.content.len == 0);
    ms_chat_result_free(&r);
    sim_stop(&s);
}

/* One job over the engine's timeout: reported as a timeout, the others are answered. */
static void test_timeout_is_the_jobs(void)
{
    sim s;
    if (sim_start(&s, NULL) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OLLAMA, s.port);
    e.timeout_ms = 2000;
    make_jobs(10);
    set_job(3, "<sleepy> job");
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 10, 4, NULL, NULL));
    CHECK(g_jobs[3].err == MS_ERR_BACKEND_TIMEOUT);
    CHECK(g_jobs[3].result.attempts == 1 && g_jobs[3].result.content.len == 0);
    size_t ok = 0;
    for (size_t i = 0; i < 10; i++) {
        ok += i != 3 && answered(i);
    }
    CHECK(ok == 9);
    CHECK(log_count(&s, "<sleepy>") == 1); /* a timeout is not retried */
    free_jobs(10);
    sim_stop(&s);
}

/* 503 every time: retried max_retries times, then BACKEND_STATUS with the engine's text. */
static void test_status_retries(void)
{
    sim s;
    if (sim_start(&s, NULL) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OPENAI, s.port);
    e.max_retries = 2;
    make_jobs(9);
    set_job(1, "<overload-a>");
    set_job(4, "<overload-b>");
    set_job(7, "<overload-c>");
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 9, 3, NULL, NULL));
    for (size_t i = 1; i < 9; i += 3) {
        const ms_chat_result *r = &g_jobs[i].result;
        CHECK_ERR(g_jobs[i].err, MS_ERR_BACKEND_STATUS);
        CHECK(r->attempts == 1 + e.max_retries && r->http_status == 503);
        CHECK(strcmp(r->error_text, "engine overloaded") == 0 && r->content.len == 0);
    }
    CHECK(log_count(&s, "<overload-a>") == 3 && log_count(&s, "<overload-b>") == 3 &&
          log_count(&s, "<overload-c>") == 3);
    CHECK(answered(0) && answered(2) && answered(3) && answered(5) && answered(6) &&
          answered(8));
    CHECK(g_jobs[0].result.attempts == 1 && g_jobs[8].result.attempts == 1);
    free_jobs(9);

    /* max_retries 0 takes the default (2) */
    e.max_retries = 0;
    make_jobs(1);
    set_job(0, "<overload-d>");
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 1, 1, NULL, NULL));
    CHECK(g_jobs[0].err == MS_ERR_BACKEND_STATUS && g_jobs[0].result.attempts == 3);
    free_jobs(1);
    sim_stop(&s);
}

/*
 * A job waiting for its retry does not hold its slot: with one slot and a 1 s backoff, the
 * other five jobs are sent between the failing job's two attempts (an order in the log).
 */
static void test_retry_wait_does_not_block(void)
{
    sim s;
    if (sim_start(&s, NULL) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OLLAMA, s.port);
    e.max_retries = 1;
    e.backoff_base_ms = 1000;
    make_jobs(6);
    set_job(0, "<overload-first>");
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 6, 1, NULL, NULL));
    CHECK(g_jobs[0].err == MS_ERR_BACKEND_STATUS && g_jobs[0].result.attempts == 2);
    CHECK(answered(1) && answered(5));
    long first = log_line_of(&s, "<overload-first>", 0);
    long second = log_line_of(&s, "<overload-first>", 1);
    CHECK(first == 0 && second == 6);
    CHECK(log_line_of(&s, "job <1>", 0) == 1 && log_line_of(&s, "job <5>", 0) == 5);
    free_jobs(6);
    sim_stop(&s);
}

/* Nothing listens: every job is BACKEND_UNAVAILABLE after its retries, and ping says so. */
static void test_engine_down(void)
{
    unsigned port = e2e_free_port();
    long status = -1;
    ms_chat_result r;
    CHECK(port != 0);
    for (int k = 0; k < 2; k++) {
        ms_llm_engine e = engine(k ? MS_LLM_OPENAI : MS_LLM_OLLAMA, port);
        e.max_retries = 1;
        e.backoff_base_ms = 1;
        make_jobs(12);
        CHECK_OK(ms_llm_batch_run(&e, g_jobs, 12, 4, NULL, NULL));
        size_t down = 0;
        for (size_t i = 0; i < 12; i++) {
            down += g_jobs[i].err == MS_ERR_BACKEND_UNAVAILABLE &&
                    g_jobs[i].result.attempts == 2 && g_jobs[i].result.http_status == 0 &&
                    g_jobs[i].result.content.len == 0;
        }
        CHECK(down == 12);
        free_jobs(12);
        CHECK_ERR(ms_llm_engine_ping(&e, &status), MS_ERR_BACKEND_UNAVAILABLE);
        CHECK(status == 0);
        ms_chat_result_init(&r);
        CHECK_ERR(ms_llm_engine_chat(&e, g_msgs[0], 2, NULL, &r), MS_ERR_BACKEND_UNAVAILABLE);
        CHECK(r.attempts == 2);
        ms_chat_result_free(&r);
    }
}

/*
 * Never more connections than `parallel`: llm-sim with --max-connections 8 closes any
 * ninth connection at once, which would fail a job (such failures are not retried). The
 * control run shows the limit does bite: 8 jobs held 1 s each against a limit of 4.
 */
static void test_connections_within_parallel(void)
{
    sim s;
    const char *limit8[] = {"--max-connections", "8", "--latency-ms", "30", NULL};
    if (sim_start(&s, limit8) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OPENAI, s.port);
    make_jobs(96);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 96, 8, NULL, NULL));
    size_t ok = 0;
    for (size_t i = 0; i < 96; i++) {
        ok += answered(i) && g_jobs[i].result.attempts == 1;
    }
    CHECK(ok == 96);
    free_jobs(96);
    sim_stop(&s);

    const char *limit4[] = {"--max-connections", "4", "--latency-ms", "1000", NULL};
    if (sim_start(&s, limit4) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    e = engine(MS_LLM_OPENAI, s.port);
    make_jobs(8);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 8, 8, NULL, NULL));
    size_t refused = 0;
    for (size_t i = 0; i < 8; i++) {
        refused += g_jobs[i].err == MS_ERR_BACKEND_UNAVAILABLE;
    }
    CHECK(refused > 0);
    free_jobs(8);
    sim_stop(&s);
}

/* --- what llm-sim cannot script: the in-process fixture -------------------------------------- */

#define FX_REPLY                                                                                   \
    "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"fx answer\"}," \
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}"

static char *g_huge;

static ms_llm_engine fx_engine(const fx_server *f, const char *scheme, const char *prefix)
{
    snprintf(g_url, sizeof g_url, "%s://127.0.0.1:%u%s", scheme, (unsigned)fx_port(f), prefix);
    return (ms_llm_engine){.kind = MS_LLM_OPENAI, .base_url = g_url, .model = "m",
                           .timeout_ms = 20000, .backoff_base_ms = 5};
}

static void test_fixture_retries(void)
{
    static const fx_route routes[] = {
        {.path = "/a/chat/completions", .body = FX_REPLY, .fail_first = 1, .fail_status = 500,
         .fail_body = "{\"error\":{\"message\":\"hiccup\"}}"},
        {.path = "/b/chat/completions", .status = 429, .retry_after = "100", .body = "{}"},
        {.path = "/c/chat/completions", .body = FX_REPLY, .fail_first = 1, .fail_status = 429,
         .retry_after = "1", .fail_body = "{}"},
    };
    fx_server *f = fx_start(routes, 3);
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    /* 500 then 200: the job succeeds on its second attempt */
    ms_llm_engine e = fx_engine(f, "http", "/a");
    make_jobs(1);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 1, 1, NULL, NULL));
    CHECK(g_jobs[0].err == MS_OK && content_is(&g_jobs[0].result, "fx answer"));
    CHECK(g_jobs[0].result.attempts == 2 && g_jobs[0].result.error_text[0] == '\0');
    CHECK(g_jobs[0].result.prompt_tokens == 7 && g_jobs[0].result.completion_tokens == 2);
    free_jobs(1);
    /* Retry-After over max_retry_wait_ms ends the retries */
    e = fx_engine(f, "http", "/b");
    e.max_retry_wait_ms = 1000;
    make_jobs(1);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 1, 1, NULL, NULL));
    CHECK(g_jobs[0].err == MS_ERR_BACKEND_STATUS && g_jobs[0].result.attempts == 1 &&
          g_jobs[0].result.http_status == 429);
    CHECK(fx_hits(f, "/b/chat/completions") == 1);
    free_jobs(1);
    /* Retry-After within the cap is waited out, then the retry succeeds */
    e = fx_engine(f, "http", "/c");
    e.max_retry_wait_ms = 5000;
    make_jobs(1);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 1, 1, NULL, NULL));
    CHECK(g_jobs[0].err == MS_OK && g_jobs[0].result.attempts == 2);
    CHECK(g_jobs[0].result.seconds >= 1.0); /* the wait is part of the job's time */
    free_jobs(1);
    fx_stop(f);
}

/* Connections are reused (never more than parallel in all), the token is sent, caps hold. */
static void test_fixture_reuse_token_cap(void)
{
    static fx_route routes[] = {
        {.path = "/chat/completions", .body = FX_REPLY},
        {.path = "/huge/chat/completions", .body = NULL},
    };
    size_t huge = MS_MAX_LLM_RESPONSE + 1024;
    g_huge = malloc(huge + 1);
    CHECK(g_huge != NULL);
    if (g_huge == NULL) {
        return;
    }
    memset(g_huge, 'x', huge);
    g_huge[huge] = '\0';
    routes[1].body = g_huge;
    fx_server *f = fx_start(routes, 2);
    CHECK(f != NULL);
    if (f == NULL) {
        free(g_huge);
        return;
    }
    ms_llm_engine e = fx_engine(f, "http", "");
    e.api_key = "tok-pool-123";
    make_jobs(50);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 50, 4, NULL, NULL));
    size_t ok = 0;
    for (size_t i = 0; i < 50; i++) {
        ok += g_jobs[i].err == MS_OK && content_is(&g_jobs[i].result, "fx answer");
    }
    CHECK(ok == 50);
    CHECK(fx_hits(f, "/chat/completions") == 50);
    CHECK(fx_connections(f) >= 1 && fx_connections(f) <= 4);
    char auth[64];
    fx_last_auth(f, "/chat/completions", auth, sizeof auth);
    CHECK(strcmp(auth, "Bearer tok-pool-123") == 0);
    free_jobs(50);

    e = fx_engine(f, "http", "/huge");
    make_jobs(2);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 2, 2, NULL, NULL));
    CHECK(g_jobs[0].err == MS_ERR_BACKEND_FORMAT && g_jobs[1].err == MS_ERR_BACKEND_FORMAT);
    CHECK(g_jobs[0].result.content.len == 0 && g_jobs[0].result.attempts == 1);
    free_jobs(2);
    fx_stop(f);
    free(g_huge);
}

static void test_fixture_tls(void)
{
    static const fx_route routes[] = {{.path = "/v1/chat/completions", .body = FX_REPLY}};
    fx_server *f = fx_start_tls(routes, 1, MS_SOURCE_DIR "/certs/dev/server.pem",
                                MS_SOURCE_DIR "/certs/dev/server.key");
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    ms_llm_engine e = fx_engine(f, "https", "/v1");
    e.ca_file = MS_SOURCE_DIR "/certs/dev/ca.pem";
    make_jobs(4);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 4, 2, NULL, NULL));
    CHECK(g_jobs[0].err == MS_OK && g_jobs[3].err == MS_OK);
    free_jobs(4);
    /* another CA: verification fails, for every job, and nothing is retried */
    e.ca_file = MS_SOURCE_DIR "/certs/dev/other/ca.pem";
    make_jobs(2);
    CHECK_OK(ms_llm_batch_run(&e, g_jobs, 2, 2, NULL, NULL));
    CHECK(g_jobs[0].err == MS_ERR_HTTP_TLS && g_jobs[1].err == MS_ERR_HTTP_TLS);
    CHECK(g_jobs[0].result.attempts == 1);
    free_jobs(2);
    fx_stop(f);
}


/* --- several engines (ms_llm_batch_run_spread) ---------------------------------------------- */

/* How many of jobs 0..n-1 reached the engines' logs exactly once in all. */
static size_t once_in(const sim *a, const sim *b, size_t n)
{
    size_t once = 0;
    for (size_t i = 0; i < n; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "job <%zu>", i);
        once += log_count(a, needle) + (b ? log_count(b, needle) : 0) == 1;
    }
    return once;
}

static void spread_of(ms_llm_spread *sp, const char *u0, const char *u1, unsigned per_engine)
{
    memset(sp, 0, sizeof *sp);
    sp->base_url[0] = u0;
    sp->base_url[1] = u1;
    sp->n = u1 ? 2 : 1;
    sp->per_engine = per_engine;
}

/*
 * Two engines, each closing any third connection at once (--max-connections 2): 40 jobs, 8
 * in flight, at most 2 at each engine. Every job answered once, both engines used.
 */
static void test_spread_two_engines(void)
{
    sim a, b;
    char ua[64], ub[64];
    /* 200 ms per answer: far longer than the control's retry waits (5 and 10 ms) */
    const char *const two[] = {"--max-connections", "2", "--latency-ms", "200", NULL};
    if (sim_start(&a, two) != 0 || sim_start(&b, two) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OLLAMA, a.port);
    snprintf(ua, sizeof ua, "http://127.0.0.1:%u", a.port);
    snprintf(ub, sizeof ub, "http://127.0.0.1:%u", b.port);
    ms_llm_spread sp;
    spread_of(&sp, ua, ub, 2);
    make_jobs(40);
    progress pr = {.in_order = 1};
    CHECK_OK(ms_llm_batch_run_spread(&e, &sp, g_jobs, 40, 8, on_progress, &pr));
    size_t ok = 0;
    for (size_t i = 0; i < 40; i++) {
        ok += answered(i) && g_jobs[i].result.attempts == 1;
    }
    CHECK(ok == 40);
    CHECK(pr.calls == 40 && pr.in_order);
    CHECK(once_in(&a, &b, 40) == 40);
    CHECK(log_count(&a, "/api/chat") > 0 && log_count(&b, "/api/chat") > 0);
    CHECK(sp.down_until[0] == 0 && sp.down_until[1] == 0);
    free_jobs(40);

    /* the control: 4 at one engine that takes 2 fails jobs, so the cap above did bite */
    spread_of(&sp, ua, NULL, 4);
    make_jobs(8);
    CHECK_OK(ms_llm_batch_run_spread(&e, &sp, g_jobs, 8, 4, NULL, NULL));
    size_t failed = 0;
    for (size_t i = 0; i < 8; i++) {
        failed += g_jobs[i].err != MS_OK;
    }
    CHECK(failed > 0);
    free_jobs(8);
    sim_stop(&a);
    sim_stop(&b);
}

/* Stop one engine mid-batch: its jobs go to the other, and it is skipped afterwards. */
typedef struct stopper {
    sim *victim;
    size_t at;
    int stopped;
} stopper;

static void stop_at(void *ctx, size_t done, size_t total)
{
    stopper *st = ctx;
    (void)total;
    if (done == st->at && !st->stopped) {
        st->stopped = 1;
        CHECK(e2e_proc_stop(&st->victim->p, 1000) >= 0);
    }
}

static void test_spread_failover(void)
{
    sim a, b;
    char ua[64], ub[64];
    const char *const slow[] = {"--latency-ms", "30", NULL};
    if (sim_start(&a, slow) != 0 || sim_start(&b, slow) != 0) {
        CHECK(!"llm-sim started");
        return;
    }
    ms_llm_engine e = engine(MS_LLM_OLLAMA, a.port);
    e.max_retries = 1;
    snprintf(ua, sizeof ua, "http://127.0.0.1:%u", a.port);
    snprintf(ub, sizeof ub, "http://127.0.0.1:%u", b.port);
    ms_llm_spread sp;
    spread_of(&sp, ua, ub, 3);
    stopper st = {.victim = &b, .at = 10};
    make_jobs(60);
    CHECK_OK(ms_llm_batch_run_spread(&e, &sp, g_jobs, 60, 6, stop_at, &st));
    size_t ok = 0;
    for (size_t i = 0; i < 60; i++) {
        ok += answered(i);
    }
    CHECK(st.stopped && ok == 60);
    CHECK(sp.down_until[1] > 0 && sp.down_until[0] == 0);
    free_jobs(60);

    /* the next batch skips the stopped engine: every job answered at the first attempt */
    long before = (long)log_count(&a, "/api/chat");
    make_jobs(10);
    CHECK_OK(ms_llm_batch_run_spread(&e, &sp, g_jobs, 10, 6, NULL, NULL));
    ok = 0;
    for (size_t i = 0; i < 10; i++) {
        ok += answered(i) && g_jobs[i].result.attempts == 1;
    }
    CHECK(ok == 10);
    CHECK((long)log_count(&a, "/api/chat") == before + 10);
    free_jobs(10);
    sim_stop(&a);
}

/* Every engine down: each job ends unavailable at once (no wait for an engine to return). */
static void test_spread_all_down(void)
{
    char u0[64], u1[64];
    snprintf(u0, sizeof u0, "http://127.0.0.1:%u", e2e_free_port());
    snprintf(u1, sizeof u1, "http://127.0.0.1:%u", e2e_free_port());
    ms_llm_engine e = engine(MS_LLM_OLLAMA, 9);
    e.max_retries = 1;
    ms_llm_spread sp;
    spread_of(&sp, u0, u1, 2);
    make_jobs(12);
    CHECK_OK(ms_llm_batch_run_spread(&e, &sp, g_jobs, 12, 4, NULL, NULL));
    size_t down = 0;
    for (size_t i = 0; i < 12; i++) {
        down += g_jobs[i].err == MS_ERR_BACKEND_UNAVAILABLE && g_jobs[i].result.content.len == 0;
    }
    CHECK(down == 12);
    CHECK(sp.down_until[0] > 0 && sp.down_until[1] > 0 && sp.down_ms == MS_LLM_ENGINE_DOWN_MS);
    free_jobs(12);

    /* bad spreads: no engine, too many, a missing URL, per_engine over the cap */
    spread_of(&sp, u0, u1, 2);
    sp.n = 0;
    CHECK_ERR(ms_llm_batch_run_spread(&e, &sp, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    CHECK(g_jobs[0].err == MS_ERR_ARG);
    free_jobs(3);
    sp.n = MS_MAX_LLM_ENGINES + 1;
    CHECK_ERR(ms_llm_batch_run_spread(&e, &sp, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
    sp.n = 3;
    CHECK_ERR(ms_llm_batch_run_spread(&e, &sp, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
    spread_of(&sp, u0, u1, MS_MAX_LLM_PARALLEL + 1);
    CHECK_ERR(ms_llm_batch_run_spread(&e, &sp, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
    CHECK_ERR(ms_llm_batch_run_spread(&e, NULL, g_jobs, 3, 4, NULL, NULL), MS_ERR_ARG);
    free_jobs(3);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_pool", E2E_SIM, argc, argv);
    if (rc != 0 || write_script() != 0) {
        fprintf(stderr, "test_pool: set-up failed\n");
        return e2e_world_close(&W, rc ? rc : 1);
    }
    RUN(test_kind_names);
    RUN(test_args);
    RUN(test_batch_200_ollama);
    RUN(test_batch_200_openai);
    RUN(test_job_errors_are_the_jobs);
    RUN(test_made_msgs);
    RUN(test_engine_chat_and_ping);
    RUN(test_timeout_is_the_jobs);
    RUN(test_status_retries);
    RUN(test_retry_wait_does_not_block);
    RUN(test_engine_down);
    RUN(test_connections_within_parallel);
    RUN(test_fixture_retries);
    RUN(test_fixture_reuse_token_cap);
    RUN(test_fixture_tls);
    RUN(test_spread_two_engines);
    RUN(test_spread_failover);
    RUN(test_spread_all_down);
    return e2e_world_close(&W, TEST_SUMMARY());
}

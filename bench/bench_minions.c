/*
 * Minions jobs benchmark: Minions-shaped chat jobs through ms_llm_batch_run against llm-sim
 * answering each after a fixed latency, compared with the ideal (count x latency / jobs).
 *
 * It starts its own llm-sim (by default build/bin/llm-sim next to this program) on a free
 * loopback port. Each job is a system prompt, a ~2 KB chunk of its own text and an
 * instruction asking for JSON {explanation, citation, answer}; the simulator's scripted reply
 * is such JSON, and every reply is checked. A short warm-up batch is not measured.
 * Also measured in the same run: a few jobs with one request in flight, whose ratio to
 * count x latency is the per-job overhead of the client and the simulator; then
 * client_rss_vs_context (bench_minions_rss.c): minions-secure run --protocol minions over a
 * generated folder (60 MiB, --quick 4), its peak RSS over the documents' size.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_minions.h"
#include "common/limits.h"
#include "common/llm/pool.h"
#include "tests/fixture/stack.h"
#include "tests/fixture/world.h"

#define CHUNK_BYTES 2048u
#define MAX_COUNT 100000u
#define TARGET_RATIO 1.15
#define RSS_TARGET 1.5
#define RSS_MB 60u
#define RSS_QUICK_MB 4u
#define RSS_JOBS 8u

#ifndef MS_SOURCE_DIR
#define MS_SOURCE_DIR "."
#endif

#define SYSTEM_PROMPT                                                                              \
    "You are a careful analyst working on one chunk of a larger document. Read the chunk, "     \
    "answer the task only from what the chunk says, and reply with a JSON object with the keys " \
    "explanation, citation and answer. If the chunk does not contain the answer, say so in "   \
    "explanation and set answer to null."
#define INSTRUCTION                                                                                \
    "\n\nTask: Which systems were affected by the incident, and when was it first detected?\n"  \
    "Return only JSON: {\"explanation\": \"...\", \"citation\": \"...\", \"answer\": \"...\"}"
#define REPLY                                                                                      \
    "{\"explanation\": \"The chunk lists the hosts that raised alerts and the first alert "     \
    "time.\", \"citation\": \"First alert on web-03 at 02:14 UTC\", \"answer\": \"web-03 and "  \
    "db-01; first detected at 02:14 UTC\"}"

typedef struct opts {
    int json;
    int quick;
    unsigned parallel;
    unsigned count;
    unsigned latency_ms;
    unsigned serial_count;
    unsigned context_mb; /* client_rss_vs_context's folder; 0: not measured */
    int rss_only;
    const char *sim_bin;
    char sup_bin[PATH_MAX], cli_bin[PATH_MAX];
} opts;

typedef struct run {
    unsigned count, parallel;
    double elapsed_s, ideal_s;
    unsigned failures;
} run;

static struct {
    char dir[PATH_MAX];
    char script[PATH_MAX];
    e2e_server sim;
    char url[64];
    char *chunks;      /* count x (CHUNK_BYTES + instruction) */
    ms_chat_msg *msgs; /* count x 2 */
    ms_llm_job *jobs;
} B;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || v < lo || v > hi) {
        return 0;
    }
    *out = (unsigned)v;
    return 1;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    static char sim[PATH_MAX];
    e2e_beside_self(sim, "llm-sim");
    *o = (opts){.parallel = 16, .count = 1000, .latency_ms = 20, .serial_count = 50,
                .context_mb = RSS_MB, .sim_bin = sim};
    e2e_beside_self(o->sup_bin, "minions-supervisor");
    e2e_beside_self(o->cli_bin, "minions-secure");
    int mb_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
            o->count = 160;
            o->serial_count = 10;
        } else if (v && strcmp(a, "--context-mb") == 0 &&
                   parse_uint(v, 0, RSS_MB, &o->context_mb)) {
            mb_given = 1;
            i++;
        } else if (strcmp(a, "--rss-only") == 0) {
            o->rss_only = 1;
        } else if (v && strcmp(a, "--jobs") == 0 &&
                   parse_uint(v, 1, MS_MAX_LLM_PARALLEL, &o->parallel)) {
            i++;
        } else if (v && strcmp(a, "--count") == 0 && parse_uint(v, 1, MAX_COUNT, &o->count)) {
            i++;
        } else if (v && strcmp(a, "--latency-ms") == 0 &&
                   parse_uint(v, 1, 60000, &o->latency_ms)) {
            i++;
        } else if (v && strcmp(a, "--llm-sim") == 0) {
            o->sim_bin = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: %s [--json] [--quick] [--jobs N] [--count N] [--latency-ms N]\n"
                    "          [--llm-sim PATH] [--context-mb N] [--rss-only]\n"
                    "Defaults: --jobs 16 --count 1000 --latency-ms 20 (--quick: --count 160).\n"
                    "--context-mb: MiB of documents for client_rss_vs_context, 0 to 60\n"
                    "(default 60, --quick 4; 0: not measured). --rss-only: only that.\n"
                    "--json: one JSON object on stdout. Exit 1 if any job or run failed.\n",
                    argv[0]);
            return 0;
        }
    }
    if (o->serial_count > o->count) {
        o->serial_count = o->count;
    }
    if (o->quick && !mb_given) {
        o->context_mb = RSS_QUICK_MB;
    }
    if (o->rss_only && o->context_mb == 0) {
        fprintf(stderr, "%s: --rss-only needs --context-mb 1 or more\n", argv[0]);
        return 0;
    }
    return 1;
}

/* llm-sim answering every Minions job with the JSON reply after latency_ms. */
static int start_sim(const opts *o)
{
    char lat[16];
    char rules[1024], reply[2 * sizeof REPLY];
    size_t k = 0;
    for (const char *p = REPLY; *p != '\0'; p++) { /* as a JSON string: escape " and \ */
        if (*p == '"' || *p == '\\') {
            reply[k++] = '\\';
        }
        reply[k++] = *p;
    }
    reply[k] = '\0';
    snprintf(lat, sizeof lat, "%u", o->latency_ms);
    snprintf(rules, sizeof rules,
             "{\"rules\": [{\"contains\": \"Return only JSON\", \"reply\": \"%s\"}]}\n", reply);
    if (e2e_tmpdir_new("ms-bench-minions", B.dir) != 0) {
        return -1;
    }
    e2e_path(B.script, "%s/script.json", B.dir);
    if (e2e_file_write(B.script, rules) != 0) {
        return -1;
    }
    e2e_sim_cfg cfg = {.bin = o->sim_bin, .dir = B.dir, .script = B.script,
                       .extra = {"--latency-ms", lat, "--max-connections", "64"}};
    if (e2e_sim_start(&B.sim, &cfg) != 0) {
        return -1;
    }
    snprintf(B.url, sizeof B.url, "http://127.0.0.1:%u/v1", B.sim.port);
    return 0;
}

/* A chunk of log-like prose, different for every job. */
static void fill_chunk(char *p, size_t cap, unsigned job)
{
    static const char *const lines[][2] = {
        {"Firewall denied outbound connection from web-03 to 203.0.113.", " port 4444. "},
        {"User svc-backup", " authenticated to db-01 from an unusual subnet. "},
        {"Scheduled task ", " on web-03 launched powershell with an encoded command. "},
        {"EDR quarantined a dropped binary (sha256 prefix ", ") on host web-03. "},
        {"Ticket INC-", " notes that the on-call engineer acknowledged the page. "},
    };
    size_t off = 0;
    for (unsigned k = 0; off < CHUNK_BYTES; k++) {
        int n = snprintf(p + off, cap - off, "%s%u%s", lines[k % 5][0], (job * 7u + k) % 1000u,
                         lines[k % 5][1]);
        if (n < 0 || (size_t)n >= cap - off) {
            break;
        }
        off += (size_t)n;
    }
    off = off > CHUNK_BYTES ? CHUNK_BYTES : off;
    snprintf(p + off, cap - off, "%s", INSTRUCTION);
}

static int make_jobs(unsigned count)
{
    size_t stride = CHUNK_BYTES + sizeof INSTRUCTION + 64;
    B.chunks = calloc(count, stride);
    B.msgs = calloc((size_t)count * 2, sizeof *B.msgs);
    B.jobs = calloc(count, sizeof *B.jobs);
    if (B.chunks == NULL || B.msgs == NULL || B.jobs == NULL) {
        return -1;
    }
    for (unsigned i = 0; i < count; i++) {
        char *c = B.chunks + (size_t)i * stride;
        fill_chunk(c, stride, i);
        B.msgs[2 * i] = (ms_chat_msg){.role = "system", .content = SYSTEM_PROMPT,
                                      .content_len = sizeof SYSTEM_PROMPT - 1};
        B.msgs[2 * i + 1] = (ms_chat_msg){.role = "user", .content = c, .content_len = strlen(c)};
    }
    return 0;
}

/* Run jobs[0..count) with `parallel` in flight; time it and check every reply. */
static int run_batch(const opts *o, unsigned count, unsigned parallel, run *r)
{
    ms_llm_engine e = {.kind = MS_LLM_OPENAI, .base_url = B.url, .model = "sim-model",
                       .timeout_ms = 60000, .max_retries = 1};
    for (unsigned i = 0; i < count; i++) {
        B.jobs[i] = (ms_llm_job){.msgs = &B.msgs[2 * i], .n_msgs = 2};
    }
    double t0 = now_s();
    ms_err err = ms_llm_batch_run(&e, B.jobs, count, parallel, NULL, NULL);
    double t1 = now_s();
    *r = (run){.count = count, .parallel = parallel, .elapsed_s = t1 - t0,
               .ideal_s = (double)count * o->latency_ms / 1000.0 / parallel};
    for (unsigned i = 0; i < count; i++) {
        const ms_chat_result *res = &B.jobs[i].result;
        int ok = err == MS_OK && B.jobs[i].err == MS_OK && res->content.len == sizeof REPLY - 1 &&
                 memcmp(res->content.p, REPLY, sizeof REPLY - 1) == 0;
        r->failures += !ok;
        ms_llm_job_free(&B.jobs[i]);
    }
    if (err != MS_OK) {
        fprintf(stderr, "bench-minions: batch failed: %s\n", ms_err_str(err));
        return -1;
    }
    return 0;
}

static double rss_ratio(const rss_result *x)
{
    return x->full.context_bytes ? (double)x->full.peak_bytes / (double)x->full.context_bytes : 0;
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

static void print_table(const opts *o, const run *m, const run *s)
{
    printf("bench-minions: %u jobs, %u in flight, llm-sim latency %u ms, ~%u B chunk per job\n",
           m->count, m->parallel, o->latency_ms, CHUNK_BYTES);
    printf("%-10s %6s %8s %10s %10s %8s %8s\n", "run", "jobs", "inflight", "elapsed s",
           "ideal s", "ratio", "failed");
    printf("%-10s %6u %8u %10.3f %10.3f %8.3f %8u\n", "parallel", m->count, m->parallel,
           m->elapsed_s, m->ideal_s, m->elapsed_s / m->ideal_s, m->failures);
    printf("%-10s %6u %8u %10.3f %10.3f %8.3f %8u\n", "serial", s->count, s->parallel,
           s->elapsed_s, s->ideal_s, s->elapsed_s / s->ideal_s, s->failures);
    printf("jobs_vs_ideal %.3f (target <= %.2f: %s); per-job overhead serial %.2f ms\n",
           m->elapsed_s / m->ideal_s, TARGET_RATIO,
           m->elapsed_s / m->ideal_s <= TARGET_RATIO ? "met" : "NOT met",
           (s->elapsed_s - s->ideal_s) * 1000.0 / s->count);
}

static void print_rss_table(const rss_result *x)
{
    printf("client memory: minions-secure run --protocol minions --jobs %u\n", RSS_JOBS);
    printf("%-10s %6s %12s %12s %8s %10s\n", "context", "files", "bytes", "peak RSS MiB",
           "jobs", "seconds");
    const rss_run *rs[] = {&x->base, &x->full};
    for (int i = 0; i < 2; i++) {
        printf("%-10s %6u %12llu %12.1f %8llu %10.2f\n", i ? "full" : "base", rs[i]->files,
               (unsigned long long)rs[i]->context_bytes, mib(rs[i]->peak_bytes),
               (unsigned long long)rs[i]->jobs_run, rs[i]->seconds);
    }
    printf("client_rss_vs_context %.3f (target <= %.2f: %s); above the base run %.3f bytes per "
           "context byte; bench's own VmHWM %.1f MiB\n",
           rss_ratio(x), RSS_TARGET, rss_ratio(x) <= RSS_TARGET ? "met" : "NOT met",
           ((double)x->full.peak_bytes - (double)x->base.peak_bytes) /
               (double)x->full.context_bytes,
           mib(x->bench_hwm_bytes));
}

static void print_jobs_json(const opts *o, const run *m, const run *s)
{
    printf("\"jobs_vs_ideal\": %.4f, \"elapsed_s\": %.4f, \"ideal_s\": %.4f, \"count\": %u, "
           "\"jobs\": %u, \"parallel\": %u, \"latency_ms\": %u, \"chunk_bytes\": %u, "
           "\"failures\": %u, \"target\": %.2f, \"mode\": \"%s\", "
           "\"serial\": {\"serial_vs_ideal\": %.4f, \"count\": %u, \"parallel\": 1, "
           "\"elapsed_s\": %.4f, \"ideal_s\": %.4f, \"overhead_ms_per_job\": %.3f, "
           "\"failures\": %u}",
           m->elapsed_s / m->ideal_s, m->elapsed_s, m->ideal_s, m->count, m->parallel,
           m->parallel, o->latency_ms, CHUNK_BYTES, m->failures, TARGET_RATIO,
           o->quick ? "quick" : "full", s->elapsed_s / s->ideal_s, s->count, s->elapsed_s,
           s->ideal_s, (s->elapsed_s - s->ideal_s) * 1000.0 / s->count, s->failures);
}

static void print_rss_json(const opts *o, const rss_result *x)
{
    const rss_run *rs[] = {&x->base, &x->full};
    printf("\"client_rss_vs_context\": %.4f, \"rss\": {\"target\": %.2f, \"mode\": \"%s\", "
           "\"jobs\": %u, \"bench_hwm_bytes\": %llu",
           rss_ratio(x), RSS_TARGET, o->quick ? "quick" : "full", RSS_JOBS,
           (unsigned long long)x->bench_hwm_bytes);
    for (int i = 0; i < 2; i++) {
        printf(", \"%s\": {\"context_bytes\": %llu, \"files\": %u, \"peak_rss_bytes\": %llu, "
               "\"jobs_run\": %llu, \"seconds\": %.3f, \"ok\": %s}",
               i ? "full" : "base", (unsigned long long)rs[i]->context_bytes, rs[i]->files,
               (unsigned long long)rs[i]->peak_bytes, (unsigned long long)rs[i]->jobs_run,
               rs[i]->seconds, rs[i]->ok ? "true" : "false");
    }
    printf("}");
}

/* The jobs figures (NULL m: not run) and client_rss_vs_context (NULL x: not measured). */
static void print_all(const opts *o, const run *m, const run *s, const rss_result *x)
{
    if (o->json) {
        printf("{");
        if (m) {
            print_jobs_json(o, m, s);
        }
        if (x) {
            printf("%s", m ? ", " : "");
            print_rss_json(o, x);
        }
        printf("}\n");
        return;
    }
    if (m) {
        print_table(o, m, s);
    }
    if (x) {
        print_rss_table(x);
    }
}

static int jobs_bench(const opts *o, run *m, run *s)
{
    run warm;
    if (start_sim(o) != 0 || make_jobs(o->count) != 0 ||
        run_batch(o, o->parallel < o->count ? o->parallel : o->count, o->parallel, &warm) != 0 ||
        run_batch(o, o->count, o->parallel, m) != 0 || run_batch(o, o->serial_count, 1, s) != 0) {
        fprintf(stderr, "bench-minions: set-up failed (llm-sim: %s)\n", o->sim_bin);
        return -1;
    }
    unsigned failed = m->failures + s->failures + warm.failures;
    if (failed != 0) {
        fprintf(stderr, "bench-minions: %u jobs failed\n", failed);
    }
    return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    opts o;
    run m, s;
    rss_result x;
    if (!parse_opts(argc, argv, &o)) {
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int jobs_rc = o.rss_only ? 0 : jobs_bench(&o, &m, &s);
    e2e_server_stop(&B.sim, 5000);
    if (B.dir[0] != '\0') {
        e2e_tmpdir_remove(B.dir);
    }
    free(B.chunks);
    free(B.msgs);
    free(B.jobs);
    int rss_rc = 0;
    if (o.context_mb > 0 && jobs_rc >= 0) {
        rss_cfg rc = {.sim_bin = o.sim_bin, .sup_bin = o.sup_bin, .cli_bin = o.cli_bin,
                      .src = MS_SOURCE_DIR, .context_mb = o.context_mb, .jobs = RSS_JOBS};
        rss_rc = rss_bench(&rc, &x);
    }
    if (jobs_rc >= 0) {
        print_all(&o, o.rss_only ? NULL : &m, &s, o.context_mb > 0 ? &x : NULL);
    }
    return jobs_rc == 0 && rss_rc == 0 ? 0 : 1;
}

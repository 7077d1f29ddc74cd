/*
 * End-to-end benchmark: a secure turn against a direct engine call, attested handshakes
 * against new TLS 1.3 connections, TPM-attested handshakes (FAST against dev-key, and
 * STRICT), TDX-attested FAST handshakes against dev-key (on the fake configfs-tsm),
 * composite (TPM + two fake-NVML GPUs) FAST handshakes against dev-key, and the supervisor's
 * memory with 10,000 idle sessions. It starts its own llm-sim, minions-supervisors, swtpm,
 * fake-tsm and openssl s_server on free loopback ports and stops them by PID, also on failure.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench/affinity.h"
#include "bench/bench_e2e.h"
#include "common/http.h"
#include "common/limits.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "secure/hs_msg.h"
#include "tests/fixture/haproxy.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/rawclient.h"
#include "tests/fixture/stack.h"
#include "tests/fixture/world.h"

#ifndef MS_SOURCE_DIR
#define MS_SOURCE_DIR "."
#endif

#define PROMPT "Summarise the quarterly report for the board in three sentences, please."
/* 435 bytes, the same on both sides of the turn comparison (one llm-sim, one rule). */
#define REPLY                                                                                      \
    "Revenue grew eight percent over the quarter, driven by the new enterprise contracts and "    \
    "steady renewals in the existing customer base. Operating costs rose more slowly than "       \
    "revenue, so the margin improved by two points, although hiring for the platform team "       \
    "will raise costs next quarter. The board is asked to approve the revised budget and the "    \
    "plan to expand the support organisation into two more regions before the end of the year."

/* The gateway's streamed run: a reply of ten times REPLY (bench_e2e_gateway.c). */
#define LONG_PROMPT "Tell the long story of the quarter."
/* The sized replies' content: 1 KiB, 64 KiB, and 1 MiB less 1 KiB (the whole reply's JSON
   must fit in one record, MS_MAX_RECORD_PLAINTEXT). */
static const size_t SIZED_BYTES[BENCH_N_SIZES] = {1024, 64 * 1024, (1u << 20) - 1024};
#define SIZED_PROMPT "Write the long answer number %zu, please."

/* Everything started, so one function can stop it all. */
static e2e_world S; /* the temp dir, certs/dev, the dev key, llm-sim's script */
static struct env {
    char openssl[PATH_MAX];
    char *sized[BENCH_N_SIZES]; /* the replies of the sized turns (NUL-terminated) */
    e2e_server sim, sup;
    e2e_server relay[BENCH_N_RELAYS]; /* the floor's HAProxy relays (bench_floor) */
    e2e_proc tls;
    unsigned tls_port;
    char url[64];
} E;

/* --- small things --------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, ms_err e)
{
    fprintf(stderr, "bench-e2e: %s: %s\n", what, e == MS_OK ? "failed" : ms_err_name(e));
    return -1;
}

/* VmRSS and VmHWM of a process, in KiB. */
static int proc_mem_kib(pid_t pid, long *rss, long *hwm)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    *rss = *hwm = -1;
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *rss = strtol(line + 6, NULL, 10);
        } else if (strncmp(line, "VmHWM:", 6) == 0) {
            *hwm = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return *rss > 0 ? 0 : -1;
}

/* CPU seconds (user + system) a process has used so far, its exited threads included. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], line[1024];
    unsigned long ut = 0, st = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(line, 1, sizeof line - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    line[n] = '\0';
    const char *p = strrchr(line, ')'); /* the command name may hold spaces */
    /* after it: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
        return 0.0;
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* --- turns: ms_client_turn against a direct POST to llm-sim ----------------------------------- */

typedef struct turn_ctx {
    ms_client *c;
    ms_buf req, reply;
    ms_http_client *http;
    char url[96];
    char body[512], body_stream[512]; /* what the bridge sends the engine, whole and streamed */
    size_t body_len, body_stream_len;
    ms_buf resp;
    const char *want; /* the reply's content on both sides */
    size_t want_len;
    /* the floor: "ours" is then the same POST through a relay (NULL: a secure turn) */
    ms_http_client *relay;
    char relay_url[96];
    pid_t ours_pid; /* whose CPU the "ours" side counts: the supervisor's or the relay's */
} turn_ctx;

ms_err bench_secure_turns(ms_client *c, const ms_buf *req, ms_buf *reply, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        ms_buf_clear(reply);
        ms_err e = ms_client_turn(c, req->p, req->len, reply, NULL);
        if (e != MS_OK) {
            return e;
        }
    }
    return MS_OK;
}

/* n POSTs of the engine's request to url (llm-sim, or a relay in front of it). */
static ms_err post_n(turn_ctx *x, ms_http_client *http, const char *url, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        long status = 0;
        ms_buf_clear(&x->resp);
        ms_err e = ms_http_post_json(http, url, NULL, x->body, x->body_len, &status, &x->resp);
        if (e != MS_OK || status != 200) {
            return e != MS_OK ? e : MS_ERR_HTTP_STATUS;
        }
    }
    return MS_OK;
}

static ms_err turn_ours(turn_ctx *x, unsigned n)
{
    return x->relay ? post_n(x, x->relay, x->relay_url, n)
                    : bench_secure_turns(x->c, &x->req, &x->reply, n);
}

static ms_err turn_base(turn_ctx *x, unsigned n)
{
    return post_n(x, x->http, x->url, n);
}

/* The last POST's reply holds the wanted content. */
static ms_err resp_has_want(turn_ctx *x)
{
    return ms_buf_terminate(&x->resp) == MS_OK && strstr((char *)x->resp.p, x->want) ? MS_OK
                                                                                     : MS_ERR_PAYLOAD;
}

/* Both sides answer with the same text before anything is timed. */
static ms_err turn_check(turn_ctx *x)
{
    ms_client_reply r;
    ms_err e = turn_ours(x, 1);
    if (x->relay && e == MS_OK) {
        e = resp_has_want(x);
    } else if (e == MS_OK && (e = ms_client_reply_parse(x->reply.p, x->reply.len, 0, &r)) == MS_OK) {
        int same = r.content_len == x->want_len && memcmp(r.content, x->want, r.content_len) == 0;
        ms_client_reply_free(&r);
        e = same ? MS_OK : MS_ERR_PAYLOAD;
    }
    if (e == MS_OK && (e = turn_base(x, 1)) == MS_OK) {
        e = resp_has_want(x);
    }
    return e;
}

static bench_cpus g_cpus;

/* Pin the bench (the client of both sides), the supervisor, the floor's relays (placed as the
   supervisor) and llm-sim for placement pl. */
static int place(int pl)
{
    int client = pl == BENCH_PL_UNPINNED ? -1 : g_cpus.a;
    int servers = pl == BENCH_PL_UNPINNED ? -1 : pl == BENCH_PL_SPLIT ? g_cpus.b : g_cpus.a;
    int relays_ok = 1;
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        relays_ok = relays_ok && (E.relay[k].p.pid <= 0 ||
                                  bench_pin_process(&g_cpus, E.relay[k].p.pid, servers) == 0);
    }
    if (bench_pin_self(&g_cpus, client) != 0 || bench_pin_process(&g_cpus, E.sup.p.pid, servers) != 0 ||
        bench_pin_process(&g_cpus, E.sim.p.pid, servers) != 0 || !relays_ok) {
        fprintf(stderr, "bench-e2e: cannot set the CPU placement %s\n", bench_placement_names[pl]);
        return -1;
    }
    return 0;
}

/*
 * Paired rounds of one placement: warm both, size the rounds (both sides of one last about
 * round_s), then ABBA. Each side also counts the CPU of the server it exercises: the
 * supervisor's for the secure turns, llm-sim's for the direct POSTs.
 */
static ms_err turn_rounds(const bench_opts *o, turn_ctx *x, double round_s, bench_turn_res *t)
{
    ms_err e;
    double t0 = now_s();
    if ((e = turn_base(x, o->warmup)) != MS_OK || (e = turn_ours(x, o->warmup)) != MS_OK) {
        fail("turn warm-up", e);
        return e;
    }
    double per = (now_s() - t0) / o->warmup; /* one direct POST plus one secure turn */
    unsigned iters = (unsigned)(round_s / (per > 1e-6 ? per : 1e-6));
    t->iters = iters < 5 ? 5 : iters;
    for (unsigned r = 0; r < o->rounds; r++) {
        for (int side = 0; side < 2; side++) {
            int ours = (side == 0) == (r % 2 == 1); /* ABBA: neither side always runs first */
            pid_t server = ours ? x->ours_pid : E.sim.p.pid;
            double c0 = proc_cpu_s(server), s0 = now_s();
            e = ours ? turn_ours(x, t->iters) : turn_base(x, t->iters);
            double dt = (now_s() - s0) / t->iters;
            double cpu = (proc_cpu_s(server) - c0) / t->iters;
            if (e != MS_OK) {
                fail(ours ? x->relay ? "POST through the relay" : "secure turn" : "direct POST", e);
                return e;
            }
            *(ours ? &t->ours_s[r] : &t->base_s[r]) = dt;
            *(ours ? &t->sup_cpu[r] : &t->sim_cpu[r]) = cpu;
        }
    }
    t->done = 1;
    return MS_OK;
}

/*
 * A client of each side for `prompt`, whose reply is `want`; both sides checked once. relay:
 * BENCH_RELAY_* (the "ours" side POSTs the engine's request through that relay), or -1 (a
 * secure turn).
 */
static ms_err turn_ctx_open_via(turn_ctx *x, const char *prompt, const char *want, int relay)
{
    ms_err e;
    memset(x, 0, sizeof *x);
    ms_buf_init(&x->req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&x->reply, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&x->resp, MS_MAX_LLM_RESPONSE);
    x->want = want;
    x->want_len = strlen(want);
    ms_client_cfg cc = {.url = E.url, .cacert = S.ca, .pinned_dev_pk = S.pk};
    ms_http_opts ho = {.connect_timeout_ms = 10000, .total_timeout_ms = 60000};
    snprintf(x->url, sizeof x->url, "http://127.0.0.1:%u/v1/chat/completions", E.sim.port);
    x->ours_pid = E.sup.p.pid;
    /* What the bridge sends the engine for this request (common/llm/openai.c). */
#define BODY_FMT "{\"model\":\"sim-model\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}],\"stream\":%s}"
    x->body_len = (size_t)snprintf(x->body, sizeof x->body, BODY_FMT, prompt, "false");
    x->body_stream_len = (size_t)snprintf(x->body_stream, sizeof x->body_stream, BODY_FMT, prompt,
                                          "true,\"stream_options\":{\"include_usage\":true}");
#undef BODY_FMT
    if (relay >= 0) { /* the same libcurl client as the direct side's; the CA for TLS */
        ms_http_opts rho = ho;
        int tls = relay != BENCH_RELAY_PLAIN;
        rho.ca_file = tls ? S.ca : NULL;
        snprintf(x->relay_url, sizeof x->relay_url, "%s://127.0.0.1:%u/v1/chat/completions",
                 tls ? "https" : "http", E.relay[relay].port);
        x->ours_pid = E.relay[relay].p.pid;
        if ((e = ms_http_client_new(&rho, &x->relay)) != MS_OK ||
            (e = ms_http_client_new(&ho, &x->http)) != MS_OK || (e = turn_check(x)) != MS_OK) {
            fail("relay set-up", e);
        }
        return e;
    }
    if ((e = ms_client_new(&x->c, &cc)) != MS_OK || (e = ms_http_client_new(&ho, &x->http)) != MS_OK ||
        (e = ms_client_request_build(NULL, prompt, 0, -1.0, &x->req)) != MS_OK ||
        (e = turn_check(x)) != MS_OK) {
        fail("turn set-up", e);
    }
    return e;
}

static ms_err turn_ctx_open(turn_ctx *x, const char *prompt, const char *want)
{
    return turn_ctx_open_via(x, prompt, want, -1);
}

static void turn_ctx_close(turn_ctx *x)
{
    ms_client_free(x->c);
    ms_http_client_free(x->http);
    ms_http_client_free(x->relay);
    ms_buf_free(&x->req);
    ms_buf_free(&x->reply);
    ms_buf_free(&x->resp);
}

static int bench_turns(const bench_opts *o, bench_results *res)
{
    turn_ctx x;
    int rc = -1;
    if (turn_ctx_open(&x, PROMPT, REPLY) != MS_OK) {
        goto out;
    }
    for (int pl = 0; pl < BENCH_N_PLACEMENTS; pl++) {
        if (pl == BENCH_PL_SPLIT && g_cpus.n < 2) {
            continue; /* one CPU: nothing to split */
        }
        if (o->floor_only && pl != (g_cpus.n < 2 ? BENCH_PL_ONE_CPU : BENCH_PL_SPLIT)) {
            continue; /* --only-floor: the headline placement, the floor's */
        }
        if (place(pl) != 0 || turn_rounds(o, &x, o->turn_round_s, &res->turn[pl]) != MS_OK) {
            place(BENCH_PL_UNPINNED);
            goto out;
        }
    }
    place(BENCH_PL_UNPINNED);
    rc = 0;
out:
    turn_ctx_close(&x);
    return rc;
}

/*
 * Sized replies in the headline placement (split, or one_cpu on one CPU): each size its own
 * client and prompt; the 1 KiB rounds last cpu_round_s (the CPU figure counts clock ticks).
 */
static int bench_sized(const bench_opts *o, bench_results *res)
{
    int pl = g_cpus.n < 2 ? BENCH_PL_ONE_CPU : BENCH_PL_SPLIT;
    for (int sz = 0; sz < BENCH_N_SIZES; sz++) {
        turn_ctx x;
        char prompt[96];
        snprintf(prompt, sizeof prompt, SIZED_PROMPT, SIZED_BYTES[sz]);
        res->sized_bytes[sz] = SIZED_BYTES[sz];
        double round_s = sz == BENCH_SZ_1K ? o->cpu_round_s : o->turn_round_s;
        int ok = turn_ctx_open(&x, prompt, E.sized[sz]) == MS_OK && place(pl) == 0 &&
                 turn_rounds(o, &x, round_s, &res->sized[sz]) == MS_OK;
        place(BENCH_PL_UNPINNED);
        turn_ctx_close(&x);
        if (!ok) {
            return -1;
        }
    }
    return 0;
}

/* --- the floor: relays in front of the same llm-sim ----------------------------------------- */

/* Every relay on a free port: HAProxy plain and TLS (the supervisor's certificate), the
   project's HTTP stack (TLS, the same). 1 when there is no haproxy program
   (res->floor_skipped says so), 0 started, -1 failed (printed). */
static int floor_start(const bench_opts *o, bench_results *res)
{
    char bin[PATH_MAX];
    if (!e2e_haproxy_find(bin)) {
        res->floor_skipped = "no haproxy program";
        return 1;
    }
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        int tls = k != BENCH_RELAY_PLAIN, rc;
        if (k == BENCH_RELAY_STACK) {
            e2e_relay_cfg cfg = {.bin = o->relay_bin, .dir = S.dir, .cert = S.cert,
                                 .key = S.key, .backend_port = E.sim.port};
            rc = e2e_relay_start(&E.relay[k], &cfg);
        } else {
            e2e_haproxy_relay_cfg cfg = {.bin = bin, .dir = S.dir, .backend_port = E.sim.port,
                                         .cert = tls ? S.cert : NULL, .key = tls ? S.key : NULL};
            rc = e2e_haproxy_relay_start(&E.relay[k], &cfg);
        }
        if (rc != 0) {
            fprintf(stderr, "bench-e2e: the %s relay did not start\n", bench_relay_names[k]);
            return -1;
        }
    }
    return 0;
}

/* 0 when every relay that ran exited cleanly. */
static int floor_stop(void)
{
    int rc = 0;
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        rc |= (k == BENCH_RELAY_STACK ? e2e_server_stop(&E.relay[k], E2E_STOP_GRACE_MS)
                                      : e2e_haproxy_stop(&E.relay[k], 5000)) != 0;
    }
    return rc;
}

/*
 * The floor in the headline placement (the relay where the supervisor runs): per relay, the
 * turn_vs_direct request and the sized replies, each against direct POSTs in the same ABBA
 * rounds; the 1 KiB rounds last cpu_round_s (the CPU figure counts clock ticks).
 */
static int bench_floor(const bench_opts *o, bench_results *res)
{
    int pl = g_cpus.n < 2 ? BENCH_PL_ONE_CPU : BENCH_PL_SPLIT;
    int started = floor_start(o, res);
    int rc = started < 0 ? -1 : 0;
    for (int k = 0; started == 0 && rc == 0 && k < BENCH_N_RELAYS; k++) {
        for (int fl = 0; rc == 0 && fl < BENCH_N_FL; fl++) {
            turn_ctx x;
            char prompt[96];
            int sz = fl - BENCH_FL_1K; /* BENCH_SZ_* for the sized ones */
            if (fl == BENCH_FL_TURN) {
                snprintf(prompt, sizeof prompt, "%s", PROMPT);
            } else {
                snprintf(prompt, sizeof prompt, SIZED_PROMPT, SIZED_BYTES[sz]);
            }
            double round_s = fl == BENCH_FL_1K ? o->cpu_round_s : o->turn_round_s;
            int ok = turn_ctx_open_via(&x, prompt, fl == BENCH_FL_TURN ? REPLY : E.sized[sz], k) == MS_OK &&
                     place(pl) == 0 && turn_rounds(o, &x, round_s, &res->floor[k][fl]) == MS_OK;
            place(BENCH_PL_UNPINNED);
            turn_ctx_close(&x);
            rc = ok ? 0 : -1;
        }
    }
    if (floor_stop() != 0) {
        rc = -1;
    }
    return rc;
}

/* --- concurrency: N clients at once through the supervisor, against N straight to llm-sim --- */

/* Which way a worker's turns go: straight to llm-sim, a secure turn, or the direct side's
   request through bench-stack-relay (the concurrency figures' floor). */
enum { CONC_DIRECT, CONC_SECURE, CONC_RELAY };

typedef struct conc_worker {
    pthread_t th;
    const turn_ctx *x; /* the request on both sides (read only) */
    ms_client *c;      /* its own session */
    ms_http_client *http;
    ms_http_client *relay; /* its own kept-alive connection to the relay (TLS) */
    const char *relay_url;
    ms_buf out;
    int side, stream;
    double until;
    unsigned n;
    ms_err err;
} conc_worker;

static ms_err drop_piece(void *ctx, const char *text, size_t len)
{
    (void)ctx, (void)text, (void)len;
    return MS_OK;
}

static ms_err drop_chunk(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx, (void)p, (void)n;
    return MS_OK;
}

/* One turn of the worker's kind: secure or direct, whole or streamed. */
static ms_err conc_one(conc_worker *w)
{
    const turn_ctx *x = w->x;
    long status = 0;
    ms_err e;
    ms_buf_clear(&w->out);
    if (w->side == CONC_SECURE) {
        return w->stream ? ms_client_turn_stream(w->c, x->req.p, x->req.len, drop_piece, NULL,
                                                 &w->out, NULL)
                         : ms_client_turn(w->c, x->req.p, x->req.len, &w->out, NULL);
    }
    ms_http_client *h = w->side == CONC_RELAY ? w->relay : w->http;
    const char *url = w->side == CONC_RELAY ? w->relay_url : x->url;
    e = w->stream ? ms_http_post_stream(h, url, NULL, x->body_stream, x->body_stream_len, &status,
                                        drop_chunk, NULL, NULL)
                  : ms_http_post_json(h, url, NULL, x->body, x->body_len, &status, &w->out);
    return e != MS_OK ? e : status == 200 ? MS_OK : MS_ERR_HTTP_STATUS;
}

static void *conc_run(void *arg)
{
    conc_worker *w = arg;
    do {
        w->err = conc_one(w);
        w->n += w->err == MS_OK;
    } while (w->err == MS_OK && now_s() < w->until);
    return NULL;
}

/* The CPU seconds so far of the bench (every client thread), the process in the middle (the
   supervisor, or the floor's relay) and llm-sim. */
static void conc_cpu(double cpu[BENCH_N_CPU], pid_t middle)
{
    cpu[BENCH_CPU_CLIENT] = proc_cpu_s(getpid());
    cpu[BENCH_CPU_SUP] = proc_cpu_s(middle);
    cpu[BENCH_CPU_SIM] = proc_cpu_s(E.sim.p.pid);
}

/*
 * Every worker on one side (CONC_*) for `secs` (at least one turn each): turns per second,
 * or -1. With c, the side's CPU (each process's; `middle`: the supervisor, or the floor's
 * relay) and turns are added to c's totals ("ours" for any side but CONC_DIRECT).
 */
static double conc_side(conc_worker *w, unsigned nw, int side, int stream, double secs,
                        bench_conc_res *c, pid_t middle)
{
    unsigned total = 0, started = 0;
    double cpu0[BENCH_N_CPU], cpu1[BENCH_N_CPU];
    int ours = side != CONC_DIRECT;
    conc_cpu(cpu0, middle);
    double t0 = now_s();
    for (; started < nw; started++) {
        w[started].side = side;
        w[started].stream = stream;
        w[started].until = t0 + secs;
        w[started].n = 0;
        w[started].err = MS_OK;
        if (pthread_create(&w[started].th, NULL, conc_run, &w[started]) != 0) {
            w[started].err = MS_ERR_INTERNAL;
            break;
        }
    }
    ms_err e = MS_OK;
    for (unsigned i = 0; i < nw; i++) {
        if (i < started) {
            pthread_join(w[i].th, NULL);
        }
        total += w[i].n;
        e = e != MS_OK ? e : w[i].err;
    }
    double dt = now_s() - t0;
    conc_cpu(cpu1, middle);
    if (e != MS_OK) {
        fail(side == CONC_SECURE  ? "concurrent secure turn"
             : side == CONC_RELAY ? "concurrent POST through the relay"
                                  : "concurrent direct POST",
             e);
        return -1.0;
    }
    for (int k = 0; c && k < BENCH_N_CPU; k++) {
        *(ours ? &c->cpu_ours[k] : &c->cpu_base[k]) += cpu1[k] - cpu0[k];
    }
    if (c) {
        *(ours ? &c->turns_ours : &c->turns_base) += total;
    }
    return total / dt;
}

/*
 * --profile-turns N: N secure turns of one size and nothing else, untimed, for a profiler
 * run on the supervisor (a --supervisor wrapper running it under callgrind or perf);
 * --profile-stream: streamed turns (conc_one's). --profile-gateway serve|ask: the gateway
 * figures' turns (435-byte reply; streamed: the long reply) through serve or ask's path, for
 * a profiler run on bench-e2e itself.
 */
static int bench_profile(const bench_opts *o)
{
    turn_ctx x;
    char prompt[96];
    conc_worker w = {.x = &x, .side = CONC_SECURE, .stream = o->profile_stream};
    snprintf(prompt, sizeof prompt, SIZED_PROMPT, SIZED_BYTES[o->profile_size]);
    if (o->profile_gateway) { /* serve's turns or ask's (bench_e2e_gateway.c) */
        return bench_gateway_profile(o, E.url, S.ca, S.pk, PROMPT, LONG_PROMPT);
    }
    ms_buf_init(&w.out, MS_MAX_LLM_RESPONSE);
    int ok = turn_ctx_open(&x, prompt, E.sized[o->profile_size]) == MS_OK;
    w.c = x.c;
    for (unsigned i = 0; ok && i < o->profile_turns; i++) {
        ok = conc_one(&w) == MS_OK;
    }
    ms_buf_free(&w.out);
    turn_ctx_close(&x);
    return ok ? 0 : -1;
}

/* Both concurrency figures (whole, streamed) of `side` (CONC_SECURE or CONC_RELAY) against
   direct, in ABBA rounds, into c[BENCH_N_CONC]. 0, or -1 (printed). */
static int conc_figures(const bench_opts *o, conc_worker *w, int side, bench_conc_res *c)
{
    pid_t middle = side == CONC_RELAY ? E.relay[BENCH_RELAY_STACK].p.pid : E.sup.p.pid;
    for (int k = 0; k < BENCH_N_CONC; k++) {
        int stream = k == BENCH_CONC_STREAM;
        /* warm-up: every session opened, every connection made, both sides once */
        if (conc_side(w, o->conc_clients, side, stream, 0.0, NULL, middle) < 0 ||
            conc_side(w, o->conc_clients, CONC_DIRECT, stream, 0.0, NULL, middle) < 0) {
            return -1;
        }
        for (unsigned r = 0; r < o->rounds; r++) {
            for (int i = 0; i < 2; i++) {
                int ours = (i == 0) == (r % 2 == 1); /* ABBA */
                double rate = conc_side(w, o->conc_clients, ours ? side : CONC_DIRECT, stream,
                                        o->conc_round_s, &c[k], middle);
                if (rate < 0) {
                    return -1;
                }
                *(ours ? &c[k].ours[r] : &c[k].base[r]) = rate;
            }
        }
        c[k].done = 1;
    }
    return 0;
}

static int bench_concurrent(const bench_opts *o, bench_results *res)
{
    static conc_worker w[BENCH_CONC_CLIENTS];
    static char relay_url[96];
    turn_ctx x;
    ms_client_cfg cc = {.url = E.url, .cacert = S.ca, .pinned_dev_pk = S.pk};
    ms_http_opts ho = {.connect_timeout_ms = 10000, .total_timeout_ms = 60000};
    int rc = -1;
    memset(w, 0, sizeof w);
    if (turn_ctx_open(&x, PROMPT, REPLY) != MS_OK) {
        goto out;
    }
    for (unsigned i = 0; i < BENCH_CONC_CLIENTS; i++) {
        w[i].x = &x;
        ms_buf_init(&w[i].out, MS_MAX_LLM_RESPONSE);
        if (ms_client_new(&w[i].c, &cc) != MS_OK || ms_http_client_new(&ho, &w[i].http) != MS_OK) {
            fail("concurrent set-up", MS_OK);
            goto out;
        }
    }
    res->conc_round_s = o->conc_round_s;
    if (conc_figures(o, w, CONC_SECURE, res->conc) != 0) {
        goto out;
    }
    /* The floor: the same rounds through bench-stack-relay (TLS, certs/dev), then stopped. */
    e2e_relay_cfg rcfg = {.bin = o->relay_bin, .dir = S.dir, .cert = S.cert, .key = S.key,
                          .backend_port = E.sim.port};
    ms_http_opts rho = ho;
    rho.ca_file = S.ca;
    if (e2e_relay_start(&E.relay[BENCH_RELAY_STACK], &rcfg) != 0) {
        fprintf(stderr, "bench-e2e: the stack relay did not start\n");
        goto out;
    }
    snprintf(relay_url, sizeof relay_url, "https://127.0.0.1:%u/v1/chat/completions",
             E.relay[BENCH_RELAY_STACK].port);
    for (unsigned i = 0; i < BENCH_CONC_CLIENTS; i++) {
        w[i].relay_url = relay_url;
        if (ms_http_client_new(&rho, &w[i].relay) != MS_OK) {
            fail("concurrent relay set-up", MS_OK);
            goto out;
        }
    }
    int floor_ok = conc_figures(o, w, CONC_RELAY, res->conc_floor) == 0;
    if (e2e_server_stop(&E.relay[BENCH_RELAY_STACK], E2E_STOP_GRACE_MS) != 0 || !floor_ok) {
        goto out;
    }
    rc = 0;
out:
    for (unsigned i = 0; i < BENCH_CONC_CLIENTS; i++) {
        ms_client_free(w[i].c);
        ms_http_client_free(w[i].http);
        ms_http_client_free(w[i].relay);
        ms_buf_free(&w[i].out);
    }
    turn_ctx_close(&x);
    return rc;
}

/*
 * The gateway against ask's library path, first placed as the turn headline (split: the bench,
 * which is the tool, serve's gateway and ask's client, on one core; the supervisor and llm-sim,
 * which stand in for the remote machine, on the other; the gateway's threads, made after the
 * pin, inherit it), then every process on one core (the turns only: the work per turn).
 */
static int gateway_run(const bench_opts *o, bench_results *res)
{
    res->gw.placement = g_cpus.n >= 2 ? BENCH_PL_SPLIT : g_cpus.n >= 1 ? BENCH_PL_ONE_CPU : BENCH_PL_UNPINNED;
    if (place(res->gw.placement) != 0) {
        return -1;
    }
    int rc = bench_gateway(o, E.url, S.ca, S.pk, PROMPT, LONG_PROMPT, &res->gw);
    if (rc == 0 && res->gw.placement == BENCH_PL_SPLIT) {
        res->gw_one_cpu.placement = BENCH_PL_ONE_CPU;
        res->gw_one_cpu.turns_only = 1;
        rc = place(BENCH_PL_ONE_CPU) == 0 ? bench_gateway(o, E.url, S.ca, S.pk, PROMPT, LONG_PROMPT,
                                                           &res->gw_one_cpu)
                                          : -1;
    }
    place(BENCH_PL_UNPINNED);
    return rc;
}

/* --- handshakes: ms_client_connect against openssl s_time -new -------------------------------- */

/* Wait until something accepts on 127.0.0.1:port. */
static int wait_listening(unsigned port, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0) {
            close(fd);
        }
        if (ok) {
            return 0;
        }
        e2e_sleep_ms(50);
    }
    return -1;
}

static int tls_server_start(void)
{
    char accept[16];
    E.tls_port = e2e_free_port();
    snprintf(accept, sizeof accept, "%u", E.tls_port);
    char log[PATH_MAX];
    e2e_path(log, "%s/s_server.out", S.dir);
    char *argv[] = {E.openssl, "s_server", "-accept", accept, "-cert", S.cert, "-key", S.key,
                    "-tls1_3", "-quiet", NULL};
    if (E.tls_port == 0 || e2e_proc_start(&E.tls, "openssl s_server", argv, log) != 0) {
        return -1;
    }
    return wait_listening(E.tls_port, 10000);
}

/*
 * One s_time run. Its "N connections in T real seconds" counts whole seconds of time(NULL)
 * (on OpenSSL 3.0 it reports T+1 for -time T while the run lasts between T and T+1 s), so
 * the rate is also computed over the run's measured wall time, the headline figure.
 */
static int tls_round(const bench_opts *o, double *rate_wall, double *rate_real)
{
    char connect[32], secs[16];
    ms_buf out;
    snprintf(connect, sizeof connect, "127.0.0.1:%u", E.tls_port);
    snprintf(secs, sizeof secs, "%u", o->tls_secs);
    char *argv[] = {E.openssl, "s_time", "-connect", connect, "-new", "-time", secs, NULL};
    ms_buf_init(&out, 1u << 20);
    double t0 = now_s();
    int code = e2e_run(argv, (int)(o->tls_secs + 30) * 1000, S.dir, &out, NULL);
    double wall = now_s() - t0;
    long conns = -1, real = -1;
    for (char *line = code == 0 && out.p ? (char *)out.p : NULL; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        if (strstr(line, " real seconds") && sscanf(line, "%ld connections in %ld", &conns, &real) != 2) {
            conns = -1;
        }
        line = nl ? nl + 1 : NULL;
    }
    ms_buf_free(&out);
    if (conns <= 0 || real <= 0) {
        fprintf(stderr, "bench-e2e: openssl s_time failed (exit %d)\n", code);
        return -1;
    }
    *rate_wall = (double)conns / wall;
    *rate_real = (double)conns / (double)real;
    return 0;
}

/* --profile-handshakes N: each handshake round makes exactly N handshakes, untimed. */
static unsigned g_hs_count;

unsigned bench_hs_profiling(void)
{
    return g_hs_count;
}

/* ms_client_connect for `secs`: each a full handshake, every §7.3 check, evidence verified. */
int bench_hs_round(ms_client *c, double secs, double *rate)
{
    unsigned n = 0;
    double t0 = now_s(), t;
    do {
        ms_err e = ms_client_connect(c);
        if (e != MS_OK) {
            return fail("ms_client_connect", e);
        }
        n++;
        t = now_s() - t0;
    } while (g_hs_count ? n < g_hs_count : t < secs);
    *rate = n / (t > 1e-9 ? t : 1e-9);
    return 0;
}

/* Under --profile-handshakes: what one handshake of this client carried (stderr). */
static void hs_round_said(const ms_client *c)
{
    ms_evidence_view ev;
    ms_client_peer peer;
    ms_client_peer_info(c, &peer);
    if (g_hs_count && ms_client_evidence(c, &ev) == MS_OK) {
        fprintf(stderr, "bench-e2e: %u handshakes, evidence type 0x%04x mode %u: %zu bytes, "
                        "ServerHello %zu bytes%s\n",
                g_hs_count, ev.type, ev.mode, ev.len,
                (peer.evidence_held ? MS_HELD_DIGEST_LEN : ev.len) + MS_SERVER_HELLO_FIXED_LEN,
                peer.evidence_held ? " (the evidence held, named by its SHA-256)" : "");
    }
}

/* The two sides of a round under two names, so that a profile of the client tells them
   apart (different bodies: the compiler cannot fold them into one). */
__attribute__((noinline)) static int hs_round_dev(ms_client *c, double secs, double *rate)
{
    int rc = bench_hs_round(c, secs, rate);
    hs_round_said(c);
    return rc;
}

__attribute__((noinline)) static int hs_round_attested(ms_client *c, double secs, double *rate)
{
    int rc = bench_hs_round(c, secs, rate);
    if (rc == 0) {
        hs_round_said(c);
    }
    return rc;
}

int bench_hs_abba(ms_client *dev, ms_client *other, unsigned r, double secs, double *dev_rate,
                  double *other_rate)
{
    if (r % 2 == 0) {
        return hs_round_dev(dev, secs, dev_rate) == 0 &&
                       hs_round_attested(other, secs, other_rate) == 0
                   ? 0
                   : -1;
    }
    return hs_round_attested(other, secs, other_rate) == 0 && hs_round_dev(dev, secs, dev_rate) == 0
               ? 0
               : -1;
}

/* A complete handshake: ServerHello checked, then the ClientFinish sent alone (204). */
static int full_round(e2e_http *h, double secs, double *rate)
{
    unsigned n = 0;
    double t0 = now_s(), t;
    do {
        e2e_raw s;
        long st;
        ms_err e = e2e_raw_handshake(h, S.pk, &s, &st);
        if (e == MS_OK) {
            e = e2e_raw_finish(h, &s, &st);
            e2e_raw_free(&s);
        }
        if (e != MS_OK) {
            return fail("handshake + finish", e);
        }
        n++;
    } while ((t = now_s() - t0) < secs);
    *rate = n / t;
    return 0;
}

static int bench_handshakes(const bench_opts *o, bench_results *res)
{
    ms_client *c = NULL;
    e2e_http *h = NULL;
    ms_client_cfg cc = {.url = E.url, .cacert = S.ca, .pinned_dev_pk = S.pk};
    int rc = -1;
    double ours_s = o->tls_secs;
    if (tls_server_start() != 0) {
        fprintf(stderr, "bench-e2e: openssl s_server did not start\n");
        return -1;
    }
    if (ms_client_new(&c, &cc) != MS_OK || e2e_http_new(&h, E.url, S.ca) != 0 ||
        bench_hs_round(c, 0.2, &res->hs_ours[0]) != 0 || full_round(h, 0.1, &res->hs_full[0]) != 0) {
        fail("handshake set-up", MS_OK);
        goto out;
    }
    for (unsigned r = 0; r < o->hs_rounds; r++) {
        int tls_first = r % 2 == 0;
        if (tls_first && tls_round(o, &res->tls_wall[r], &res->tls_real[r]) != 0) {
            goto out;
        }
        if (bench_hs_round(c, ours_s, &res->hs_ours[r]) != 0 ||
            full_round(h, ours_s / 2, &res->hs_full[r]) != 0) {
            goto out;
        }
        if (!tls_first && tls_round(o, &res->tls_wall[r], &res->tls_real[r]) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    ms_client_free(c);
    e2e_http_free(h);
    e2e_proc_stop(&E.tls, 3000);
    return rc;
}

/* --- memory: the supervisor's RSS with N idle open sessions --------------------------------- */

static int bench_rss(const bench_opts *o, bench_results *res)
{
    e2e_http *h = NULL;
    long rss, hwm;
    char max[16];
    snprintf(max, sizeof max, "%u", o->sessions > 10000 ? o->sessions : 10000);
    e2e_sup_cfg cfg = {.bin = o->sup_bin, .dir = S.dir, .cert = S.cert, .key = S.key,
                       .devkey = S.devkey, .backend_port = E.sim.port,
                       .extra = {"--max-sessions", max}};
    int rc = -1;
    if (e2e_sup_start(&E.sup, &cfg) != 0) {
        return -1;
    }
    snprintf(E.url, sizeof E.url, "https://127.0.0.1:%u", E.sup.port);
    if (e2e_http_new(&h, E.url, S.ca) != 0 || e2e_http_call(h, "GET", "/v1/health", NULL, 0, NULL) != 200 ||
        proc_mem_kib(E.sup.p.pid, &rss, &hwm) != 0) {
        fail("supervisor for the memory run", MS_OK);
        goto out;
    }
    res->rss_base_mib = rss / 1024.0;
    for (unsigned i = 0; i < o->sessions; i++) {
        e2e_raw s;
        long st;
        ms_err e = e2e_raw_handshake(h, S.pk, &s, &st);
        if (e == MS_OK) {
            e = e2e_raw_finish(h, &s, &st); /* the session is open, and stays idle */
            e2e_raw_free(&s);
        }
        if (e != MS_OK) {
            fprintf(stderr, "bench-e2e: session %u: HTTP %ld\n", i, st);
            fail("opening sessions", e);
            goto out;
        }
    }
    res->sessions = o->sessions;
    e2e_sleep_ms(200);
    if (proc_mem_kib(E.sup.p.pid, &rss, &hwm) != 0) {
        goto out;
    }
    res->rss_mib = rss / 1024.0;
    res->hwm_mib = hwm / 1024.0;
    rc = 0;
out:
    e2e_http_free(h);
    return rc;
}

/* --- set-up --------------------------------------------------------------------------------- */

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        return 0;
    }
    *out = (unsigned)v;
    return 1;
}

static int parse_opts(int argc, char **argv, bench_opts *o)
{
    static char sup[PATH_MAX], sim[PATH_MAX], hcl[PATH_MAX], relay[PATH_MAX];
    *o = (bench_opts){.rounds = 15, .hs_rounds = 5, .turn_round_s = 0.3, .cpu_round_s = 1.0,
                .conc_round_s = 0.5, .warmup = 20, .tls_secs = 2, .sessions = 10000,
                .tpm_secs = 1.0, .src = MS_SOURCE_DIR,
                      .conc_clients = BENCH_CONC_CLIENTS};
    /* By default the programs are this one's neighbours in build/bin. */
    e2e_beside_self(sup, "minions-supervisor");
    e2e_beside_self(sim, "llm-sim");
    e2e_beside_self(hcl, "hcl-paravisor");
    e2e_beside_self(relay, "bench-stack-relay");
    o->relay_bin = relay;
    o->sup_bin = sup;
    o->sim_bin = sim;
    o->hcl_bin = hcl;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
            o->rounds = 3;
            o->hs_rounds = 1;
            o->turn_round_s = 0.02;
            o->cpu_round_s = 0.1;
            o->conc_round_s = 0.05;
            o->warmup = 3;
            o->tls_secs = 1;
            o->sessions = 300;
            o->tpm_secs = 0.25;
        } else if (v && strcmp(a, "--rounds") == 0 && parse_uint(v, 1, MAX_ROUNDS, &o->rounds)) {
            i++;
        } else if (v && strcmp(a, "--hs-rounds") == 0 &&
                   parse_uint(v, 1, MAX_ROUNDS, &o->hs_rounds)) {
            i++;
        } else if (v && strcmp(a, "--sessions") == 0 && parse_uint(v, 1, 1000000, &o->sessions)) {
            i++;
        } else if (v && strcmp(a, "--profile-turns") == 0 &&
                   parse_uint(v, 1, 100000, &o->profile_turns)) {
            i++;
        } else if (strcmp(a, "--only-concurrent") == 0) {
            o->conc_only = 1;
        } else if (strcmp(a, "--only-gateway") == 0) {
            o->gw_only = 1;
        } else if (strcmp(a, "--only-floor") == 0) {
            o->floor_only = 1;
        } else if (v && strcmp(a, "--clients") == 0 &&
                   parse_uint(v, 1, BENCH_CONC_CLIENTS, &o->conc_clients)) {
            i++;
        } else if (v && strcmp(a, "--profile-handshakes") == 0 &&
                   parse_uint(v, 1, 100000, &o->profile_hs)) {
            o->hs_rounds = 1;
            i++;
        } else if (v && strcmp(a, "--profile-evidence") == 0 &&
                   (strcmp(v, "tpm2") == 0 || strcmp(v, "az-snp-vtpm") == 0 ||
                    strcmp(v, "az-tdx-vtpm") == 0 || strcmp(v, "tdx") == 0 || strcmp(v, "composite") == 0)) {
            o->profile_evidence = argv[++i];
        } else if (strcmp(a, "--profile-stream") == 0) {
            o->profile_stream = 1;
        } else if (v && strcmp(a, "--profile-gateway") == 0 &&
                   (strcmp(v, "serve") == 0 || strcmp(v, "ask") == 0)) {
            o->profile_gateway = strcmp(v, "serve") == 0 ? 1 : 2;
            i++;
        } else if (v && strcmp(a, "--profile-size") == 0) {
            o->profile_size = strcmp(v, "1m") == 0 ? BENCH_SZ_1M : strcmp(v, "64k") == 0 ? BENCH_SZ_64K
                                                                                         : BENCH_SZ_1K;
            i++;
        } else if (v && strcmp(a, "--supervisor") == 0) {
            o->sup_bin = argv[++i];
        } else if (v && strcmp(a, "--llm-sim") == 0) {
            o->sim_bin = argv[++i];
        } else if (v && strcmp(a, "--hcl-paravisor") == 0) {
            o->hcl_bin = argv[++i];
        } else if (v && strcmp(a, "--source") == 0) {
            o->src = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: %s [--json] [--quick] [--rounds N] [--hs-rounds N]\n"
                    "          [--sessions N] [--supervisor PATH] [--llm-sim PATH] [--source DIR]\n"
                    "          [--hcl-paravisor PATH]\n"
                    "          [--profile-turns N [--profile-size 1k|64k|1m] [--profile-stream]\n"
                    "           [--profile-gateway serve|ask]]\n"
                    "          [--only-concurrent [--clients N]] [--only-gateway] [--only-floor]\n"
                    "          [--profile-handshakes N [--profile-evidence TYPE]]\n"
                    "Needs the openssl and swtpm programs in PATH (haproxy for the floor:\n"
                    "without it the floor is not measured). --json: one JSON object on stdout,\n"
                    "the table on stderr.\n",
                    argv[0]);
            return 0;
        }
    }
    return 1;
}

/* n bytes of words, deterministic, nothing JSON escapes. */
static char *sized_text(size_t n)
{
    static const char *const words[] = {"revenue", "grew", "over", "the", "quarter", "and",
                                        "margins", "improved", "while", "costs", "rose"};
    char *t = malloc(n + 1);
    size_t len = 0;
    for (unsigned i = 0; t && len < n; i++) {
        const char *w = words[(i * 7u + i / 11u) % (sizeof words / sizeof words[0])];
        size_t wl = strlen(w);
        for (size_t j = 0; j <= wl && len < n; j++) {
            t[len++] = j < wl ? w[j] : ' ';
        }
    }
    if (t) {
        t[n] = '\0';
    }
    return t;
}

/* The script: the 435-byte reply, the gateway's long reply (ten of it), then one rule per sized reply. */
static int write_script(void)
{
    FILE *f = fopen(S.script, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "{\"rules\": [{\"contains\": \"quarterly report\", \"reply\": \"%s\"}", REPLY);
    fprintf(f, ", {\"contains\": \"" LONG_PROMPT "\", \"reply\": \"%s %s %s %s %s %s %s %s %s %s\"}",
            REPLY, REPLY, REPLY, REPLY, REPLY, REPLY, REPLY, REPLY, REPLY, REPLY);
    for (int sz = 0; sz < BENCH_N_SIZES; sz++) {
        char prompt[96];
        snprintf(prompt, sizeof prompt, SIZED_PROMPT, SIZED_BYTES[sz]);
        E.sized[sz] = sized_text(SIZED_BYTES[sz]);
        if (!E.sized[sz]) {
            fclose(f);
            return -1;
        }
        fprintf(f, ", {\"equals\": \"%s\", \"reply\": \"%s\"}", prompt, E.sized[sz]);
    }
    fputs("]}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

static int setup(const bench_opts *o)
{
    if (e2e_world_bench(&S, "bench-e2e", o->src) != 0) {
        return -1;
    }
    e2e_world_path(&S, S.script, "script.json");
    if (e2e_find_in_path("openssl", E.openssl) != 0) {
        fprintf(stderr, "bench-e2e: no openssl program in PATH\n");
        return -1;
    }
    if (write_script() != 0 || e2e_http_global_init() != 0) {
        fprintf(stderr, "bench-e2e: set-up failed in %s\n", S.dir);
        return -1;
    }
    if (bench_tpm_start(S.dir) != 0 || bench_comp_start(S.dir) != 0) { /* before any other child: see bench_e2e.h */
        return -1;
    }
    return bench_tdx_start(S.dir) < 0 ? -1 : 0; /* 1: not measurable here, said so */
}

/* Whether the evidence part `name` runs: all do, but under --profile-evidence NAME. */
static int part_runs(const bench_opts *o, const char *name)
{
    return o->profile_evidence == NULL || strcmp(o->profile_evidence, name) == 0;
}

/* TPM, Azure, TDX and composite handshakes, against the dev-key supervisor of the other runs (still up). */
static int tpm_handshakes(const bench_opts *o, bench_results *res)
{
    bench_tpm_env env = {.dir = S.dir, .ca = S.ca, .cert = S.cert, .key = S.key,
                         .devkey = S.devkey, .dev_url = E.url, .dev_pk = S.pk,
                         .backend_port = E.sim.port};
    return (!part_runs(o, "tpm2") || bench_tpm_handshakes(o, &env, res) == 0) &&
                   (!part_runs(o, "az-snp-vtpm") || bench_az_handshakes(o, &env, res) == 0) &&
                   (!part_runs(o, "az-tdx-vtpm") || bench_aztdx_handshakes(o, &env, res) == 0) &&
                   (!part_runs(o, "tdx") || bench_tdx_handshakes(o, &env, res) == 0) &&
                   (!part_runs(o, "composite") || bench_comp_handshakes(o, &env, res) == 0)
               ? 0
               : -1;
}

/* llm-sim (no latency, unlimited tokens/s) and a supervisor whose table holds every pending session. */
static int start_stack(const bench_opts *o)
{
    e2e_sup_cfg cfg = {.bin = o->sup_bin, .dir = S.dir, .cert = S.cert, .key = S.key,
                       .devkey = S.devkey, .extra = {"--max-sessions", "200000"}};
    if (e2e_sim_start(&E.sim, &(e2e_sim_cfg){.bin = o->sim_bin, .dir = S.dir, .script = S.script}) != 0) {
        return -1;
    }
    cfg.backend_port = E.sim.port;
    if (e2e_sup_start(&E.sup, &cfg) != 0) {
        return -1;
    }
    snprintf(E.url, sizeof E.url, "https://127.0.0.1:%u", E.sup.port);
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    static bench_results res;
    if (!parse_opts(argc, argv, &o)) {
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0 || bench_cpus_init(&g_cpus) != 0) {
        fprintf(stderr, "bench-e2e: %s\n", ms_err_str(MS_ERR_CRYPTO_INIT));
        return 1;
    }
    g_hs_count = o.profile_hs;
    if (o.profile_turns > 0 || o.profile_hs > 0 || o.conc_only || o.gw_only || o.floor_only) {
        /* nothing else */
        int prc = setup(&o) == 0 && start_stack(&o) == 0 &&
                          (o.conc_only     ? bench_concurrent(&o, &res)
                           : o.gw_only     ? gateway_run(&o, &res)
                           : o.floor_only  ? (bench_turns(&o, &res) == 0 && bench_sized(&o, &res) == 0 &&
                                             bench_floor(&o, &res) == 0 ? 0 : -1)
                           : o.profile_hs > 0 ? tpm_handshakes(&o, &res)
                                             : bench_profile(&o)) == 0
                      ? 0
                      : 1;
        res.reply_bytes = strlen(REPLY);
        if (prc == 0 && o.conc_only) {
            bench_print_conc(stdout, &o, &res);
        }
        if (prc == 0 && o.floor_only) {
            res.cpu_a = g_cpus.a;
            res.cpu_b = g_cpus.b;
            bench_print_floor(o.json ? stderr : stdout, &o, &res);
            if (o.json) {
                bench_print_json_floor(&o, &res);
            }
        }
        if (prc == 0 && o.gw_only) {
            bench_print_gateway(stdout, &o, &res.gw);
            if (res.gw_one_cpu.done) {
                bench_print_gateway(stdout, &o, &res.gw_one_cpu);
            }
        }
        floor_stop();
        prc |= e2e_server_stop(&E.sup, 60000) != 0;
        e2e_server_stop(&E.sim, 5000);
        bench_comp_stop();
        bench_tpm_stop();
        bench_tdx_stop();
        e2e_proc_kill_all();
        for (int sz = 0; sz < BENCH_N_SIZES; sz++) {
            free(E.sized[sz]);
        }
        if (S.dir[0]) {
            e2e_tmpdir_remove(S.dir);
        }
        return prc;
    }
    int rc = setup(&o) == 0 && start_stack(&o) == 0 && bench_turns(&o, &res) == 0 &&
                     gateway_run(&o, &res) == 0 &&
                     bench_sized(&o, &res) == 0 && bench_floor(&o, &res) == 0 &&
                     bench_concurrent(&o, &res) == 0 &&
                     bench_handshakes(&o, &res) == 0 && tpm_handshakes(&o, &res) == 0
                 ? 0
                 : 1;
    /* The memory run gets a supervisor of its own: no pending sessions from the handshakes. */
    if (rc == 0 && e2e_server_stop(&E.sup, 5000) != 0) {
        fprintf(stderr, "bench-e2e: the supervisor did not exit cleanly (log %s)\n", E.sup.out);
        rc = 1;
    }
    rc = rc == 0 && bench_rss(&o, &res) == 0 ? 0 : 1;
    floor_stop();
    e2e_server_stop(&E.sup, 5000);
    e2e_server_stop(&E.sim, 5000);
    bench_comp_stop();
    bench_tpm_stop();
    bench_tdx_stop();
    e2e_proc_kill_all();
    res.reply_bytes = strlen(REPLY);
    res.cpu_a = g_cpus.a;
    res.cpu_b = g_cpus.b;
    if (rc == 0) {
        bench_print_table(o.json ? stderr : stdout, &o, &res);
        if (o.json) {
            bench_print_json(&o, &res);
        }
    }
    for (int sz = 0; sz < BENCH_N_SIZES; sz++) {
        free(E.sized[sz]);
    }
    if (S.dir[0] && !getenv("MS_BENCH_KEEP")) {
        e2e_tmpdir_remove(S.dir);
    } else if (S.dir[0]) {
        fprintf(stderr, "bench-e2e: logs kept in %s\n", S.dir);
    }
    return rc;
}

/*
 * bench-soak: one minions-supervisor (--session-ttl 30, an audit log) in front of llm-sim,
 * under N concurrent clients for a bounded time, to see whether its memory, file
 * descriptors and threads stay flat (docs/performance.md, "Soak"). Each client thread loops
 * over a mix of what real clients do, each time as a new client (its own connections):
 *   ask     one turn, then a sealed CLOSE
 *   stream  one streamed turn, then CLOSE
 *   chat    3-5 turns of one conversation (the history re-sent each turn), then CLOSE
 *   minion  a Minion run (protocols/) with llm-sim as both the supervisor's engine and the
 *           local worker
 *   abandon a handshake whose ClientFinish never comes (the pending session expires)
 *   kill    a streamed turn cut after its first piece: the connection is dropped mid-stream
 *           and the session is never closed (it expires after the TTL)
 * Every 30 s it prints the supervisor's RSS, its high-water mark, open fds (connections to
 * clients, to the engine, and the rest: held), threads, the handshakes made and the errors
 * seen. After the warm-up, the load and a drain (the TTL
 * plus a margin, with no traffic) it compares with the end of the warm-up: the verdict is
 * PASS when RSS is at most 5% above it at the end of the load and after the drain, fds at
 * most 5% above it after the drain (under load they follow the moment's traffic), and no
 * operation failed. With --rest-after-warmup the same drain also follows the warm-up (the
 * clients pause, then carry on for the M minutes): its figures, "warm-up rested", compare
 * like with like with the state after the final drain (both after the idle trim); they are
 * printed beside the verdict, which they do not change. Exit status: 0 on
 * PASS; 1 on FAIL or when the stack could not run. With --quick (about 20 s, the ctest
 * smoke run) the verdict is printed but only errors fail the run: 20 s is too short for a
 * memory verdict.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <sodium.h>

#include "apps/minions-secure/remote.h"
#include "apps/minions-secure/worker.h"
#include "common/limits.h"
#include "protocols/protocol.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/rawclient.h"
#include "tests/fixture/stack.h"
#include "tests/fixture/world.h"

#ifndef MS_SOURCE_DIR
#define MS_SOURCE_DIR "."
#endif

#define MAX_CLIENTS 256u
#define MAX_CHAT_TURNS 5u
#define CHAT_MSG_CAP 1024u

/* llm-sim's script. Rules see the last user message; the first match wins. */
#define REPLY_ASK                                                                                  \
    "The quarter closed with revenue up eight percent and costs up three, so the margin "         \
    "improved by two points; the board is asked to approve the revised budget."
#define REPLY_STREAM                                                                               \
    "Here is the summary you asked for, one point at a time. Revenue grew eight percent over "    \
    "the quarter, driven by new enterprise contracts and steady renewals. Operating costs rose "  \
    "more slowly than revenue, so the margin improved by two points. Hiring for the platform "    \
    "team will raise costs next quarter. Support will expand into two more regions before the "  \
    "end of the year, and the board is asked to approve the revised budget for that plan."
#define SCRIPT                                                                                     \
    "{\"rules\": ["                                                                                \
    "{\"contains\": \"[soak-w]\", \"reply\": \"{\\\"decision\\\": \\\"provide_final_answer\\\", "  \
    "\\\"answer\\\": \\\"web-042 on port 8443.\\\"}\"},"                                           \
    "{\"contains\": \"[soak-q]\", \"reply\": \"The host is web-042, port 8443. [soak-w]\"},"        \
    "{\"contains\": \"[soak-minion]\", \"reply\": \"{\\\"decision\\\": "                           \
    "\\\"request_additional_info\\\", \\\"message\\\": \\\"Which host and port? [soak-q]\\\"}\"},"  \
    "{\"contains\": \"[soak-stream]\", \"reply\": \"" REPLY_STREAM "\"}],"                         \
    "\"default\": \"" REPLY_ASK "\"}\n"
#define MINION_CONTEXT                                                                             \
    "Change log, week 41. The web tier moved to host web-042, which now serves on port 8443. "    \
    "The old host web-017 was retired on Tuesday after its disks were wiped."

enum { K_ASK, K_STREAM, K_CHAT, K_MINION, K_ABANDON, K_KILL, N_KINDS };
static const char *const KIND_NAMES[N_KINDS] = {"ask", "stream", "chat", "minion", "abandon", "kill"};
/* Out of 100 operations. */
static const unsigned KIND_WEIGHTS[N_KINDS] = {30, 20, 15, 10, 10, 15};

typedef struct soak_opts {
    double minutes, warmup_s;
    unsigned clients, ttl_s, sample_s;
    int quick, json;
    int rest; /* --rest-after-warmup: a drain after the warm-up too, measured, then the load */
    const char *sup_bin, *sim_bin, *src;
    const char *sup_level; /* the supervisor's --log-level (info) */
} soak_opts;

/*
 * One reading of the supervisor's /proc. fds counts every descriptor; conns the connections
 * of clients to its port and engine its connections to llm-sim, which both come and go with
 * the load (the engine pool keeps at most 32 idle ones, each with libcurl's own descriptors
 * beside it), and held the rest. Under load every figure follows the moment's traffic, so
 * the verdict compares fds at rest: after the drain against the end of the warm-up.
 */
typedef struct sample {
    long rss_kib, hwm_kib, fds, conns, engine, threads;
} sample;

static e2e_world S; /* the temp dir, certs/dev, the dev key, llm-sim's script */
static struct env {
    char audit_log[PATH_MAX], audit_key[PATH_MAX];
    e2e_server sim, sup;
    char url[64], worker_url[64];
} E;

static atomic_int g_stop;
static atomic_int g_pause, g_busy; /* --rest-after-warmup: no new operation; those running */
static atomic_ulong g_handshakes, g_errors, g_ops[N_KINDS], g_err_kind[N_KINDS];
static pthread_mutex_t g_err_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_first_error[160];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- the supervisor's /proc ----------------------------------------------------------------- */

/*
 * Socket inodes of the supervisor's connections from /proc/PID/net/tcp: those on its own
 * port (the listening socket aside) into clients[], those to llm-sim's into engine[].
 */
#define MAX_INODES 4096
typedef struct inode_set {
    unsigned long v[MAX_INODES];
    size_t n;
} inode_set;

static void add_inode(inode_set *set, unsigned long inode)
{
    if (inode != 0 && set->n < MAX_INODES) {
        set->v[set->n++] = inode;
    }
}

static int in_set(const inode_set *set, unsigned long inode)
{
    for (size_t i = 0; i < set->n; i++) {
        if (set->v[i] == inode) {
            return 1;
        }
    }
    return 0;
}

static void conn_inodes(pid_t pid, inode_set *clients, inode_set *engine)
{
    static const char *const tables[] = {"tcp", "tcp6"};
    char path[64], line[512];
    clients->n = engine->n = 0;
    for (size_t t = 0; t < 2; t++) {
        snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, tables[t]);
        FILE *f = fopen(path, "r");
        if (!f) {
            continue;
        }
        while (fgets(line, sizeof line, f)) {
            char local[64], rem[64], st[8];
            unsigned long inode;
            unsigned lport, rport;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, " %*s %63s %63s %7s %*s %*s %*s %*s %*s %lu", local, rem, st,
                       &inode) != 4) {
                continue; /* the header */
            }
            char *lc = strrchr(local, ':'), *rc = strrchr(rem, ':');
            if (!lc || !rc || sscanf(lc + 1, "%x", &lport) != 1 ||
                sscanf(rc + 1, "%x", &rport) != 1) {
                continue;
            }
            if (lport == E.sup.port && strcmp(st, "0A") != 0 /* not the listening socket */) {
                add_inode(clients, inode);
            } else if (rport == E.sim.port) {
                add_inode(engine, inode);
            }
        }
        fclose(f);
    }
}

static int read_sample(pid_t pid, sample *s)
{
    char path[64], line[256];
    static inode_set clients, engine;
    *s = (sample){-1, -1, -1, 0, 0, -1};
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            s->rss_kib = strtol(line + 6, NULL, 10);
        } else if (strncmp(line, "VmHWM:", 6) == 0) {
            s->hwm_kib = strtol(line + 6, NULL, 10);
        } else if (strncmp(line, "Threads:", 8) == 0) {
            s->threads = strtol(line + 8, NULL, 10);
        }
    }
    fclose(f);
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    conn_inodes(pid, &clients, &engine);
    DIR *d = opendir(path);
    if (d) {
        long n = 0;
        for (struct dirent *e; (e = readdir(d));) {
            char link[PATH_MAX], target[64];
            unsigned long inode;
            if (e->d_name[0] == '.') {
                continue;
            }
            n++;
            snprintf(link, sizeof link, "%s/%s", path, e->d_name);
            ssize_t len = readlink(link, target, sizeof target - 1);
            target[len > 0 ? len : 0] = '\0';
            if (sscanf(target, "socket:[%lu]", &inode) == 1) {
                s->conns += in_set(&clients, inode);
                s->engine += in_set(&engine, inode);
            }
        }
        closedir(d);
        s->fds = n;
    }
    return s->rss_kib > 0 && s->fds >= 0 ? 0 : -1;
}

/* --- the client mix ------------------------------------------------------------------------- */

static void op_failed(int kind, const char *what, ms_err e)
{
    atomic_fetch_add(&g_errors, 1);
    atomic_fetch_add(&g_err_kind[kind], 1);
    pthread_mutex_lock(&g_err_lock);
    if (!g_first_error[0]) {
        snprintf(g_first_error, sizeof g_first_error, "%s: %s: %s", KIND_NAMES[kind], what,
                 ms_err_name(e));
    }
    pthread_mutex_unlock(&g_err_lock);
}

typedef struct worker {
    pthread_t t;
    unsigned id;
    uint32_t rng;
    ms_buf req, reply;
} worker;

static uint32_t rnd(worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 17;
    w->rng ^= w->rng << 5;
    return w->rng;
}

static ms_err new_client(ms_client **c)
{
    ms_client_cfg cc = {.url = E.url, .cacert = S.ca, .pinned_dev_pk = S.pk,
                        .timeout_ms = 60000};
    return ms_client_new(c, &cc);
}

/* The handshakes a client made over its life, into the total. */
static void count_handshakes(const ms_client *c)
{
    ms_client_peer p;
    ms_client_peer_info(c, &p);
    atomic_fetch_add(&g_handshakes, p.handshakes);
}

/* One whole turn; with content (cap CHAT_MSG_CAP) the reply's text is copied there. */
static ms_err ask_turn(worker *w, ms_client *c, char *content, size_t *content_len)
{
    ms_client_reply r;
    ms_buf_clear(&w->reply);
    ms_err e = ms_client_turn(c, w->req.p, w->req.len, &w->reply, NULL);
    if (e == MS_OK && (e = ms_client_reply_parse(w->reply.p, w->reply.len, 0, &r)) == MS_OK) {
        if (!r.ok || r.content_len == 0 || r.content_len >= CHAT_MSG_CAP) {
            e = MS_ERR_PAYLOAD;
        } else if (content) {
            memcpy(content, r.content, r.content_len);
            *content_len = r.content_len;
        }
        ms_client_reply_free(&r);
    }
    return e;
}

typedef struct stream_ctx {
    size_t bytes;
    size_t cut_after; /* 0: never */
    int cut;          /* set when on_piece cut the stream */
} stream_ctx;

static ms_err on_piece(void *ctx, const char *text, size_t len)
{
    stream_ctx *s = ctx;
    (void)text;
    s->bytes += len;
    s->cut = s->cut_after && s->bytes >= s->cut_after;
    return s->cut ? MS_ERR_STATE : MS_OK; /* the client drops the connection mid-stream */
}

static ms_err do_stream(worker *w, ms_client *c, int cut)
{
    stream_ctx s = {.cut_after = cut ? 1 : 0};
    ms_err e = ms_client_request_build(NULL, "Summarise the quarter, one point at a time. [soak-stream]",
                                       0, -1.0, &w->req);
    if (e != MS_OK) {
        return e;
    }
    ms_buf_clear(&w->reply);
    e = ms_client_turn_stream(c, w->req.p, w->req.len, on_piece, &s, &w->reply, NULL);
    if (cut) {
        return s.cut ? MS_OK : e == MS_OK ? MS_ERR_STATE : e;
    }
    return e == MS_OK && s.bytes != strlen(REPLY_STREAM) ? MS_ERR_PAYLOAD : e;
}

static ms_err do_chat(worker *w, ms_client *c)
{
    static const char *const QUESTIONS[] = {
        "How did the quarter go?", "And the costs?", "What does the board decide?",
        "Anything about hiring?", "Summarise it in one line."};
    char answers[MAX_CHAT_TURNS][CHAT_MSG_CAP];
    ms_chat_msg msgs[2 * MAX_CHAT_TURNS];
    unsigned turns = 3 + rnd(w) % 3;
    size_t n = 0;
    for (unsigned t = 0; t < turns; t++) {
        size_t len = 0;
        msgs[n++] = (ms_chat_msg){.role = "user", .content = QUESTIONS[t],
                                  .content_len = strlen(QUESTIONS[t])};
        ms_buf_clear(&w->req);
        ms_err e = ms_client_request_build_msgs(msgs, n, 0, -1.0, &w->req);
        if (e != MS_OK || (e = ask_turn(w, c, answers[t], &len)) != MS_OK) {
            return e;
        }
        msgs[n++] = (ms_chat_msg){.role = "assistant", .content = answers[t], .content_len = len};
    }
    return MS_OK;
}

static ms_err do_minion(ms_client *c)
{
    ms_llm_engine engine = {.kind = MS_LLM_OLLAMA, .base_url = E.worker_url, .model = "worker",
                            .timeout_ms = 60000};
    ms_worker_engine we = {.engine = &engine};
    ms_remote_client rc = {.client = c, .temperature = -1.0};
    ms_proto_cfg cfg = {.task = "Which host serves the web tier now? [soak-minion]",
                        .context = MINION_CONTEXT,
                        .context_len = strlen(MINION_CONTEXT),
                        .max_rounds = 3,
                        .max_format_retries = 2,
                        .jobs = 1,
                        .worker = ms_worker_over_engine(&we),
                        .worker_temperature = -1.0,
                        .remote = ms_remote_over_client(&rc)};
    ms_proto_result r;
    ms_proto_result_init(&r);
    ms_err e = ms_minion_run(&cfg, &r);
    if (e == MS_OK && r.outcome != MS_OUTCOME_ANSWER) {
        e = r.err != MS_OK ? r.err : MS_ERR_PAYLOAD;
    }
    ms_proto_result_free(&r);
    return e;
}

/* A handshake whose ClientFinish never comes, over a connection of its own. */
static ms_err do_abandon(void)
{
    e2e_http *h = NULL;
    e2e_raw s;
    long st = 0;
    if (e2e_http_new(&h, E.url, S.ca) != 0) {
        return MS_ERR_NOMEM;
    }
    ms_err e = e2e_raw_handshake(h, S.pk, &s, &st);
    if (e == MS_OK) {
        atomic_fetch_add(&g_handshakes, 1);
        e2e_raw_free(&s);
    }
    e2e_http_free(h);
    return e;
}

static ms_err run_one(worker *w, int kind)
{
    ms_client *c = NULL;
    ms_err e;
    if (kind == K_ABANDON) {
        return do_abandon();
    }
    if ((e = new_client(&c)) != MS_OK) {
        return e;
    }
    switch (kind) {
    case K_ASK:
        e = ms_client_request_build(NULL, "How did the quarter go?", 0, -1.0, &w->req);
        e = e == MS_OK ? ask_turn(w, c, NULL, NULL) : e;
        break;
    case K_STREAM: e = do_stream(w, c, 0); break;
    case K_CHAT: e = do_chat(w, c); break;
    case K_MINION: e = do_minion(c); break;
    default: e = do_stream(w, c, 1); break; /* K_KILL */
    }
    /* A killed client never closes; the others do. */
    if (e == MS_OK && kind != K_KILL) {
        e = ms_client_close(c);
    }
    count_handshakes(c);
    ms_client_free(c);
    return e;
}

static void *client_main(void *arg)
{
    worker *w = arg;
    while (!atomic_load(&g_stop)) {
        if (atomic_load(&g_pause)) {
            e2e_sleep_ms(100);
            continue;
        }
        atomic_fetch_add(&g_busy, 1);
        unsigned pick = rnd(w) % 100, kind = 0;
        while (pick >= KIND_WEIGHTS[kind]) {
            pick -= KIND_WEIGHTS[kind++];
        }
        ms_buf_clear(&w->req);
        ms_err e = run_one(w, (int)kind);
        atomic_fetch_add(&g_ops[kind], 1);
        if (e != MS_OK) {
            op_failed((int)kind, "operation", e);
        }
        atomic_fetch_sub(&g_busy, 1);
    }
    return NULL;
}

/* --- set-up --------------------------------------------------------------------------------- */

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) {
        return 0;
    }
    *out = v;
    return 1;
}

static const char USAGE[] =
    "usage: bench-soak [--quick] [--json] [--minutes M] [--warmup S] [--clients N]\n"
    "                  [--session-ttl S] [--log-level LEVEL] [--supervisor PATH]\n"
    "                  [--llm-sim PATH] [--source DIR] [--rest-after-warmup]\n"
    "One minions-supervisor and llm-sim under N clients (default 24) that mix asks,\n"
    "streams, chats, Minion runs, abandoned handshakes and clients cut mid-stream:\n"
    "a warm-up of S seconds (default 60), M minutes of load (default 10), then a\n"
    "drain. Prints RSS, HWM, fds, threads, handshakes and errors every 30 s, and a\n"
    "verdict: RSS at the end of the load and after the drain, and fds after the\n"
    "drain, at most 5% above the end of the warm-up, and no errors (exit 0).\n"
    "--quick: about 20 s, for ctest; only errors fail it. --json: one JSON object\n"
    "on stdout. --log-level: the supervisor's (debug adds malloc's figures every\n"
    "30 s); with MS_BENCH_KEEP set its log is kept. --rest-after-warmup: the same\n"
    "drain after the warm-up too, measured (\"warm-up rested\"), then the load.\n";

static int parse_opts(int argc, char **argv, soak_opts *o)
{
    static char sup[PATH_MAX], sim[PATH_MAX];
    double v;
    *o = (soak_opts){.minutes = 10, .warmup_s = 60, .clients = 24, .ttl_s = 30, .sample_s = 30,
                     .src = MS_SOURCE_DIR, .sup_level = "info"};
    e2e_beside_self(sup, "minions-supervisor");
    e2e_beside_self(sim, "llm-sim");
    o->sup_bin = sup;
    o->sim_bin = sim;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--rest-after-warmup") == 0) {
            o->rest = 1;
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
            o->minutes = 10.0 / 60;
            o->warmup_s = 4;
            o->clients = 8;
            o->ttl_s = 3;
            o->sample_s = 5;
        } else if (val && strcmp(a, "--minutes") == 0 && parse_num(val, 0.05, 1440, &o->minutes)) {
            i++;
        } else if (val && strcmp(a, "--warmup") == 0 && parse_num(val, 1, 3600, &o->warmup_s)) {
            i++;
        } else if (val && strcmp(a, "--clients") == 0 && parse_num(val, 1, MAX_CLIENTS, &v)) {
            o->clients = (unsigned)v;
            i++;
        } else if (val && strcmp(a, "--session-ttl") == 0 && parse_num(val, 1, 3600, &v)) {
            o->ttl_s = (unsigned)v;
            i++;
        } else if (val && strcmp(a, "--log-level") == 0) {
            o->sup_level = argv[++i];
        } else if (val && strcmp(a, "--supervisor") == 0) {
            o->sup_bin = argv[++i];
        } else if (val && strcmp(a, "--llm-sim") == 0) {
            o->sim_bin = argv[++i];
        } else if (val && strcmp(a, "--source") == 0) {
            o->src = argv[++i];
        } else {
            fputs(USAGE, strcmp(a, "--help") == 0 ? stdout : stderr);
            return strcmp(a, "--help") == 0 ? -1 : 0;
        }
    }
    return 1;
}

static int setup(const soak_opts *o)
{
    if (e2e_world_bench(&S, "bench-soak", o->src) != 0) {
        return -1;
    }
    e2e_world_path(&S, E.audit_log, "audit.ndjson");
    e2e_world_path(&S, E.audit_key, "audit.key");
    if (e2e_world_script(&S, SCRIPT) != 0 || e2e_http_global_init() != 0) {
        fprintf(stderr, "bench-soak: set-up failed in %s\n", S.dir);
        return -1;
    }
    return 0;
}

/* llm-sim streams 400 tokens a second (a streamed reply lasts about 0.2 s, so a cut comes
   mid-stream); the supervisor keeps an audit log and drops sessions idle for the TTL. */
static int start_stack(const soak_opts *o)
{
    static char ttl[16], conns[16];
    snprintf(ttl, sizeof ttl, "%u", o->ttl_s);
    snprintf(conns, sizeof conns, "%u", 4 * o->clients + 16);
    e2e_sim_cfg sc = {.bin = o->sim_bin,
                      .extra = {"--tokens-per-sec", "400", "--max-connections", "1024"}};
    if (e2e_world_sim(&S, &E.sim, &sc) != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.bin = o->sup_bin, .backend_port = E.sim.port,
                       .extra = {"--session-ttl", ttl, "--audit-log", E.audit_log, "--audit-key",
                                 E.audit_key, "--max-connections", conns,
                                 "--per-ip-connections", conns, "--log-level", o->sup_level}};
    if (e2e_world_sup(&S, &E.sup, &cfg) != 0) {
        return -1;
    }
    snprintf(E.url, sizeof E.url, "https://127.0.0.1:%u", E.sup.port);
    snprintf(E.worker_url, sizeof E.worker_url, "http://127.0.0.1:%u", E.sim.port);
    return 0;
}

/* --- the run -------------------------------------------------------------------------------- */

static long held(const sample *s)
{
    return s->fds - s->conns - s->engine;
}

static void print_sample(double t, const char *phase, const sample *s, unsigned long hs_prev)
{
    unsigned long hs = atomic_load(&g_handshakes);
    printf("%5.0fs %-8s rss %6.2f MiB hwm %6.2f MiB fds %3ld (clients %3ld engine %2ld "
           "held %2ld) threads %3ld handshakes %6lu (+%lu) errors %lu\n",
           t, phase, s->rss_kib / 1024.0, s->hwm_kib / 1024.0, s->fds, s->conns, s->engine,
           held(s), s->threads, hs, hs - hs_prev, atomic_load(&g_errors));
    fflush(stdout);
}

/* Sleep until `until` (monotonic seconds), printing a sample every o->sample_s. */
static int wait_sampling(const soak_opts *o, double t0, double until, const char *phase,
                         double *next_print, unsigned long *hs_prev)
{
    while (now_s() < until) {
        double left = until - now_s(), step = left < 0.5 ? left : 0.5;
        if (step > 0) {
            e2e_sleep_ms((int)(step * 1000) + 1);
        }
        if (e2e_proc_ended(&E.sup.p)) {
            fprintf(stderr, "bench-soak: the supervisor ended during the %s\n", phase);
            e2e_proc_print_log(&E.sup.p);
            return -1;
        }
        if (now_s() - t0 >= *next_print) {
            sample s;
            if (read_sample(E.sup.p.pid, &s) == 0) {
                print_sample(now_s() - t0, phase, &s, *hs_prev);
            }
            *hs_prev = atomic_load(&g_handshakes);
            *next_print += o->sample_s;
        }
    }
    return 0;
}

static double ratio(long a, long b)
{
    return b > 0 ? (double)a / (double)b : 0;
}

/* No more than 5% above the reference (less is fine: memory or fds given back). */
static int within(long v, long ref)
{
    return ref > 0 && v <= ref + ref / 20;
}

/*
 * The drain: no traffic for the TTL (pending sessions: at most 30 s) and the sweep's
 * margin; then one more client, so that a supervisor that sweeps only on handshakes has
 * swept, and its sessions and connections are gone. The figures then into *out.
 */
static int rest(const soak_opts *o, double t0, const char *phase, double *next_print,
                unsigned long *hs_prev, sample *out)
{
    *next_print = now_s() - t0 + o->sample_s;
    if (wait_sampling(o, t0, now_s() + o->ttl_s + 5, phase, next_print, hs_prev) != 0) {
        return -1;
    }
    ms_client *c = NULL;
    if (new_client(&c) != MS_OK || ms_client_connect(c) != MS_OK || ms_client_close(c) != MS_OK) {
        op_failed(K_ASK, "the handshake after a drain", MS_ERR_STATE);
    }
    ms_client_free(c);
    e2e_sleep_ms(1000);
    return read_sample(E.sup.p.pid, out);
}

int main(int argc, char **argv)
{
    soak_opts o;
    static worker W[MAX_CLIENTS];
    sample idle, warm, rested = {0}, load, drain;
    int rc = parse_opts(argc, argv, &o);
    if (rc <= 0) {
        return rc < 0 ? 0 : 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        fprintf(stderr, "bench-soak: %s\n", ms_err_str(MS_ERR_CRYPTO_INIT));
        return 1;
    }
    if (setup(&o) != 0 || start_stack(&o) != 0 || read_sample(E.sup.p.pid, &idle) != 0) {
        e2e_proc_kill_all();
        return 1;
    }
    printf("bench-soak: %u clients, warm-up %.0f s, load %.1f min, session TTL %u s; "
           "supervisor pid %d\n",
           o.clients, o.warmup_s, o.minutes, o.ttl_s, (int)E.sup.p.pid);
    print_sample(0, "idle", &idle, 0);
    unsigned started = 0;
    for (unsigned i = 0; i < o.clients; i++) {
        W[i].id = i;
        W[i].rng = 0x9e3779b9u * (i + 1);
        ms_buf_init(&W[i].req, MS_MAX_RECORD_PLAINTEXT);
        ms_buf_init(&W[i].reply, MS_MAX_RECORD_PLAINTEXT);
        if (pthread_create(&W[i].t, NULL, client_main, &W[i]) != 0) {
            fprintf(stderr, "bench-soak: cannot start client thread %u\n", i);
            atomic_store(&g_stop, 1);
            break;
        }
        started++;
    }
    double t0 = now_s(), next_print = o.sample_s;
    unsigned long hs_prev = 0;
    double load_end = o.warmup_s + o.minutes * 60;
    int ok = started == o.clients &&
             wait_sampling(&o, t0, t0 + o.warmup_s, "warm-up", &next_print, &hs_prev) == 0 &&
             read_sample(E.sup.p.pid, &warm) == 0;
    unsigned long hs_warm = atomic_load(&g_handshakes), err_warm = atomic_load(&g_errors);
    if (ok) {
        print_sample(now_s() - t0, "warm", &warm, hs_prev);
    }
    if (ok && o.rest) { /* the clients finish what they do, then the same drain as at the end */
        double t_rest = now_s();
        atomic_store(&g_pause, 1);
        while (atomic_load(&g_busy) > 0 && now_s() - t_rest < 120) {
            e2e_sleep_ms(100);
        }
        ok = rest(&o, t0, "rest", &next_print, &hs_prev, &rested) == 0;
        if (ok) {
            print_sample(now_s() - t0, "rested", &rested, hs_prev);
        }
        load_end += now_s() - t_rest; /* M minutes of load after the rest */
        next_print = now_s() - t0 + o.sample_s;
        atomic_store(&g_pause, 0);
    }
    ok = ok && wait_sampling(&o, t0, t0 + load_end, "load", &next_print, &hs_prev) == 0 &&
         read_sample(E.sup.p.pid, &load) == 0;
    if (ok) {
        print_sample(now_s() - t0, "loaded", &load, hs_prev);
    }
    atomic_store(&g_stop, 1);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(W[i].t, NULL);
    }
    ok = ok && rest(&o, t0, "drain", &next_print, &hs_prev, &drain) == 0;
    if (ok) {
        print_sample(now_s() - t0, "drained", &drain, hs_prev);
    }
    int stop_rc = e2e_server_stop(&E.sup, 10000);
    e2e_server_stop(&E.sim, 5000);
    e2e_proc_kill_all();
    for (unsigned i = 0; i < started; i++) {
        ms_buf_free(&W[i].req);
        ms_buf_free(&W[i].reply);
    }
    if (!ok) {
        fprintf(stderr, "bench-soak: the run did not complete (logs in %s)\n", S.dir);
        return 1;
    }
    unsigned long errors = atomic_load(&g_errors), hs = atomic_load(&g_handshakes);
    if (stop_rc != 0) {
        fprintf(stderr, "bench-soak: the supervisor did not stop cleanly (log %s)\n", E.sup.out);
        errors++;
    }
    int mem_ok = within(load.rss_kib, warm.rss_kib) && within(drain.rss_kib, warm.rss_kib) &&
                 within(drain.fds, warm.fds);
    int pass = mem_ok && errors == 0;
    printf("\noperations:");
    for (int k = 0; k < N_KINDS; k++) {
        printf(" %s %lu%s", KIND_NAMES[k], atomic_load(&g_ops[k]), k + 1 < N_KINDS ? "," : "\n");
    }
    printf("handshakes %lu (%lu after the warm-up), errors %lu (%lu after the warm-up)%s%s\n", hs,
           hs - hs_warm, errors, errors - err_warm, g_first_error[0] ? "; first: " : "",
           g_first_error);
    printf("%-22s %10s %10s %10s %8s\n", "", "idle", "warm-up", "load end", "drained");
    printf("%-22s %10.2f %10.2f %10.2f %8.2f\n", "RSS (MiB)", idle.rss_kib / 1024.0,
           warm.rss_kib / 1024.0, load.rss_kib / 1024.0, drain.rss_kib / 1024.0);
    printf("%-22s %10.2f %10.2f %10.2f %8.2f\n", "HWM (MiB)", idle.hwm_kib / 1024.0,
           warm.hwm_kib / 1024.0, load.hwm_kib / 1024.0, drain.hwm_kib / 1024.0);
    printf("%-22s %10ld %10ld %10ld %8ld\n", "fds", idle.fds, warm.fds, load.fds, drain.fds);
    printf("%-22s %10ld %10ld %10ld %8ld\n", "  clients' connections", idle.conns, warm.conns,
           load.conns, drain.conns);
    printf("%-22s %10ld %10ld %10ld %8ld\n", "  engine connections", idle.engine, warm.engine,
           load.engine, drain.engine);
    printf("%-22s %10ld %10ld %10ld %8ld\n", "  held (the rest)", held(&idle), held(&warm),
           held(&load), held(&drain));
    printf("%-22s %10ld %10ld %10ld %8ld\n", "threads", idle.threads, warm.threads, load.threads,
           drain.threads);
    printf("RSS load end / warm-up %.3f, drained / warm-up %.3f; fds load end / warm-up %.3f "
           "(not judged: it follows the load), drained / warm-up %.3f\n",
           ratio(load.rss_kib, warm.rss_kib), ratio(drain.rss_kib, warm.rss_kib),
           ratio(load.fds, warm.fds), ratio(drain.fds, warm.fds));
    if (o.rest) { /* like with like: both after the same drain (not part of the verdict) */
        printf("warm-up rested: RSS %.2f MiB, fds %ld; RSS drained / warm-up rested %.3f, "
               "load end / warm-up rested %.3f; fds drained / warm-up rested %.3f\n",
               rested.rss_kib / 1024.0, rested.fds, ratio(drain.rss_kib, rested.rss_kib),
               ratio(load.rss_kib, rested.rss_kib), ratio(drain.fds, rested.fds));
    }
    printf("verdict: %s (RSS at the end of the load and after the drain, fds after the drain: "
           "at most 5%% above the end of the warm-up: %s; "
           "errors: %lu)%s\n",
           pass ? "PASS" : "FAIL", mem_ok ? "yes" : "no", errors,
           o.quick ? " [--quick: too short for a memory verdict; only errors count]" : "");
    if (o.json) {
        printf("{\"bench\": \"soak\", \"minutes\": %.2f, \"clients\": %u, \"handshakes\": %lu, "
               "\"errors\": %lu, \"rss_mib_warm\": %.2f, \"rss_load_vs_warm\": %.3f, "
               "\"rss_drained_vs_warm\": %.3f, \"fds_load_vs_warm\": %.3f, "
               "\"fds_drained_vs_warm\": %.3f, \"verdict\": \"%s\"}\n",
               o.minutes, o.clients, hs, errors, warm.rss_kib / 1024.0,
               ratio(load.rss_kib, warm.rss_kib), ratio(drain.rss_kib, warm.rss_kib),
               ratio(load.fds, warm.fds), ratio(drain.fds, warm.fds), pass ? "PASS" : "FAIL");
    }
    if (!getenv("MS_BENCH_KEEP")) {
        e2e_tmpdir_remove(S.dir);
    } else {
        fprintf(stderr, "bench-soak: logs kept in %s\n", S.dir);
    }
    return o.quick ? (errors == 0 ? 0 : 1) : (pass ? 0 : 1);
}

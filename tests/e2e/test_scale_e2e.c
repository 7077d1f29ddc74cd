/* Scale-out: supervisors behind HAProxy (the shipped example config), one replica killed mid-run. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/turn_reply.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/haproxy.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

/*
 * docs/scale-out.md, "What the test proves". Quick by default (50 conversations of 4
 * turns); MS_SCALE_FULL=1: 50 conversations of 16 turns. What "answered twice" means here:
 * a turn whose reply the client accepted twice, or an earlier turn present twice in a later
 * request's history. The ENGINE may compute one turn twice, only the turn that was in
 * flight when its replica died (the dead replica's answer reached nobody; the client sent
 * it again under its new session): counted and printed, allowed only there.
 */
#define N_REPLICAS 3
#define N_CONV 50
#define QUICK_TURNS 4
#define FULL_TURNS 16
#define MAX_TURNS FULL_TURNS
#define KILLED 1 /* replica2 */
#define REPLY "llm-sim default reply"

static e2e_world W;
static e2e_server SIM, SUP[N_REPLICAS], LB;
static char LB_URL[64];
static uint8_t STATIC_PK[N_REPLICAS][MS_X25519_LEN];
static unsigned TURNS;
static atomic_uint TURNS_DONE;
static atomic_int KILL_DONE;

typedef struct conv {
    int id;
    pthread_t th;
    ms_err err;
    int turns_ok;          /* turns answered, each accepted once */
    int replica;           /* of its first session: 0..N_REPLICAS-1, -1 unknown */
    int turn_after_kill;   /* some turn started after the replica was killed */
    unsigned rehandshakes; /* over the conversation */
    int rehs_turn;         /* the turn (1..) that made the re-handshake, 0 none */
    int new_replica;       /* of the session after it */
    int evidence_changed;  /* the new session's evidence differs from the first's */
    int bad_reply;         /* a reply that was not the script's */
} conv;

static conv CONV[N_CONV];

static int replica_of(const uint8_t pk[MS_X25519_LEN])
{
    for (int r = 0; r < N_REPLICAS; r++) {
        if (memcmp(pk, STATIC_PK[r], MS_X25519_LEN) == 0) {
            return r;
        }
    }
    return -1;
}

static ms_err new_client(const char *url, ms_client **c)
{
    ms_client_cfg cfg = {.url = url, .allow_http = 1, .pinned_dev_pk = W.pk};
    return ms_client_new(c, &cfg);
}

/* One conversation: turn k sends the whole history (user "cNN tKK", the replies). */
static void *run_conv(void *arg)
{
    conv *cv = arg;
    ms_client *c = NULL;
    ms_client_peer peer;
    uint8_t first_ev[32];
    char user[MAX_TURNS][16];
    ms_chat_msg msgs[2 * MAX_TURNS];
    ms_buf req;
    ms_turn_reply rep;
    ms_buf_init(&req, 1u << 16);
    ms_turn_reply_init(&rep, 4096);
    cv->replica = cv->new_replica = -1;
    cv->err = new_client(LB_URL, &c);
    if (cv->err == MS_OK) {
        cv->err = ms_client_connect(c); /* which replica made the first session */
    }
    if (cv->err == MS_OK) {
        ms_client_peer_info(c, &peer);
        cv->replica = replica_of(peer.static_pk);
        memcpy(first_ev, peer.evidence_sha256, sizeof first_ev);
    }
    for (unsigned t = 0; cv->err == MS_OK && t < TURNS; t++) {
        snprintf(user[t], sizeof user[t], "c%02d t%02u", cv->id, t + 1);
        msgs[2 * t] = (ms_chat_msg){.role = "user", .content = user[t],
                                    .content_len = strlen(user[t])};
        ms_buf_clear(&req);
        cv->err = ms_client_request_build_msgs(msgs, 2 * t + 1, 0, -1.0, &req);
        cv->turn_after_kill |= atomic_load(&KILL_DONE);
        ms_turn_reply_clear(&rep);
        if (cv->err == MS_OK) {
            cv->err = ms_client_turn_reply(c, req.p, req.len, &rep, NULL);
        }
        if (cv->err != MS_OK) {
            break;
        }
        ms_client_peer_info(c, &peer);
        if (rep.rehandshakes > 0) {
            cv->rehs_turn = cv->rehs_turn ? cv->rehs_turn : (int)t + 1;
            cv->new_replica = replica_of(peer.static_pk);
            cv->evidence_changed = memcmp(first_ev, peer.evidence_sha256, 32) != 0;
        }
        cv->rehandshakes += rep.rehandshakes;
        cv->bad_reply |= !e2e_buf_is(&rep.content, REPLY);
        msgs[2 * t + 1] = (ms_chat_msg){.role = "assistant", .content = REPLY,
                                        .content_len = strlen(REPLY)};
        cv->turns_ok++;
        atomic_fetch_add(&TURNS_DONE, 1);
    }
    ms_client_free(c);
    ms_turn_reply_free(&rep);
    ms_buf_free(&req);
    return NULL;
}

/* Each replica's static key, from a handshake straight to it (not through HAProxy). */
static int learn_replicas(void)
{
    for (int r = 0; r < N_REPLICAS; r++) {
        char url[64];
        ms_client *c = NULL;
        ms_client_peer peer;
        e2e_url(url, "http", SUP[r].port);
        ms_err e = new_client(url, &c);
        if (e == MS_OK) {
            e = ms_client_connect(c);
        }
        ms_client_peer_info(c, &peer);
        memcpy(STATIC_PK[r], peer.static_pk, MS_X25519_LEN);
        ms_client_free(c);
        if (e != MS_OK) {
            fprintf(stderr, "  replica %d: %s\n", r + 1, ms_err_name(e));
            return -1;
        }
    }
    return 0;
}

/* The engine's request log: how often it saw each turn, and whether each history was whole. */
typedef struct seen {
    unsigned count[N_CONV][MAX_TURNS];
    unsigned lines, bad;
} seen;

/* msgs must be user "cNN t01", REPLY, ..., user "cNN tKK": the turn K of conversation NN. */
static int turn_of(ms_json_val msgs, size_t n, int *cid, int *turn)
{
    int first = -1;
    if (n % 2 != 1) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ms_json_val m;
        const char *role = NULL, *text = NULL;
        size_t rl, tl;
        int c, t;
        if (ms_json_arr_at(msgs, i, &m) != MS_OK ||
            ms_json_get_str(m, "role", 16, &role, &rl) != MS_OK ||
            ms_json_get_str(m, "content", 64, &text, &tl) != MS_OK) {
            return -1;
        }
        if (i % 2 == 1) {
            if (strcmp(role, "assistant") != 0 || strcmp(text, REPLY) != 0) {
                return -1;
            }
            continue;
        }
        if (strcmp(role, "user") != 0 || sscanf(text, "c%d t%d", &c, &t) != 2 ||
            t != (int)i / 2 + 1 || (first >= 0 && c != first)) {
            return -1;
        }
        first = c;
        *cid = c;
        *turn = t;
    }
    return *cid >= 0 && *cid < N_CONV && *turn >= 1 && *turn <= (int)TURNS ? 0 : -1;
}

static void read_log(const char *path, seen *s)
{
    ms_buf log;
    ms_buf_init(&log, 64u << 20);
    memset(s, 0, sizeof *s);
    if (e2e_file_read(path, &log) != 0 || log.len == 0) {
        s->bad++;
        ms_buf_free(&log);
        return;
    }
    const char *p = (const char *)log.p;
    while (*p) {
        size_t n = strcspn(p, "\n");
        ms_json_doc *d = NULL;
        ms_json_val body, msgs;
        size_t nm = 0;
        int c = -1, t = -1;
        s->lines++;
        if (ms_json_parse(p, n, &d) == MS_OK &&
            ms_json_get_obj(ms_json_root(d), "body", &body) == MS_OK &&
            ms_json_get_arr(body, "messages", 2 * MAX_TURNS, &msgs, &nm) == MS_OK &&
            turn_of(msgs, nm, &c, &t) == 0) {
            s->count[c][t - 1]++;
        } else {
            s->bad++;
        }
        ms_json_free(d);
        p += n + (p[n] == '\n');
    }
    ms_buf_free(&log);
}

static int start_all(void)
{
    char example[PATH_MAX];
    unsigned ports[N_REPLICAS];
    const char *lat = getenv("MS_SCALE_FULL") ? "40" : "20";
    if (e2e_world_sim(&W, &SIM, &(e2e_sim_cfg){.record = 1,
                                                .extra = {"--latency-ms", lat, NULL}}) != 0) {
        return -1;
    }
    for (int r = 0; r < N_REPLICAS; r++) {
        /* Each replica its own static key and evidence; the one dev key stands for the
           TEE's root of trust that every replica shares (as one measurement would). */
        if (e2e_world_sup(&W, &SUP[r], &(e2e_sup_cfg){.plain = 1, .backend_port = SIM.port}) !=
            0) {
            return -1;
        }
        ports[r] = SUP[r].port;
    }
    e2e_path(example, "%s/examples/haproxy/minions.cfg", W.src);
    if (e2e_haproxy_start(&LB, &(e2e_haproxy_cfg){.dir = W.dir, .example = example,
                                                  .replica_ports = ports,
                                                  .n_replicas = N_REPLICAS}) != 0) {
        return -1;
    }
    e2e_url(LB_URL, "http", LB.port);
    return learn_replicas();
}

static void test_kill_replica(void)
{
    unsigned total = N_CONV * TURNS;
    for (int i = 0; i < N_CONV; i++) {
        CONV[i].id = i;
        CHECK(pthread_create(&CONV[i].th, NULL, run_conv, &CONV[i]) == 0);
    }
    /* Kill replica2 (SIGKILL: no goodbye) once a third of the turns are answered. */
    while (atomic_load(&TURNS_DONE) < total / 3) {
        e2e_sleep_ms(5);
    }
    CHECK(kill(SUP[KILLED].p.pid, SIGKILL) == 0);
    CHECK(e2e_proc_wait(&SUP[KILLED].p, 10000) == 128 + SIGKILL);
    atomic_store(&KILL_DONE, 1);
    unsigned at_kill = atomic_load(&TURNS_DONE);
    for (int i = 0; i < N_CONV; i++) {
        CHECK(pthread_join(CONV[i].th, NULL) == 0);
    }

    seen s;
    read_log(SIM.log, &s);
    unsigned convs_done = 0, rehs = 0, affected = 0, on_killed = 0, engine_twice = 0;
    unsigned turns_checked = 0;
    for (int i = 0; i < N_CONV; i++) {
        conv *cv = &CONV[i];
        if (cv->err != MS_OK) {
            fprintf(stderr, "  conversation %d: %s after %d turns\n", i, ms_err_name(cv->err),
                    cv->turns_ok);
        }
        CHECK(cv->err == MS_OK && cv->turns_ok == (int)TURNS && !cv->bad_reply);
        convs_done += cv->err == MS_OK && cv->turns_ok == (int)TURNS;
        CHECK(cv->replica >= 0);
        /* Exactly one re-handshake where the session's replica died while it still had a
           turn to send; none anywhere else. */
        CHECK(cv->rehandshakes <= 1);
        if (cv->replica != KILLED) {
            CHECK(cv->rehandshakes == 0);
        } else {
            on_killed++;
            if (cv->turn_after_kill) {
                CHECK(cv->rehandshakes == 1);
            }
        }
        if (cv->rehandshakes == 1) {
            affected++;
            /* The new session is on a live replica, under evidence verified anew. */
            CHECK(cv->new_replica >= 0 && cv->new_replica != KILLED);
            CHECK(cv->evidence_changed);
        }
        rehs += cv->rehandshakes;
        for (unsigned t = 0; t < TURNS; t++) {
            unsigned n = s.count[i][t];
            turns_checked += n > 0;
            CHECK(n >= 1); /* no turn lost */
            /* Twice at the engine only for the turn that re-handshook. */
            CHECK(n == 1 || (n == 2 && cv->rehs_turn == (int)t + 1));
            engine_twice += n == 2;
        }
    }
    printf("scale-out: %d conversations x %u turns over %d replicas, replica%d killed after "
           "%u of %u turns; %u conversations finished, %u were on it, %u re-handshakes, "
           "%u turns checked in the engine log (%u lines), %u computed twice by the engine "
           "(the in-flight turn of a re-handshaken conversation)\n",
           N_CONV, TURNS, N_REPLICAS, KILLED + 1, at_kill, total, convs_done, on_killed, rehs,
           turns_checked, s.lines, engine_twice);
    CHECK(convs_done == N_CONV);
    CHECK(affected > 0 && affected == rehs);
    CHECK(turns_checked == total);
    CHECK(s.bad == 0);
    CHECK(s.lines == total + engine_twice);
}

int main(int argc, char **argv)
{
    char bin[PATH_MAX];
    if (!e2e_haproxy_find(bin)) {
        printf("skipped: no haproxy\n");
        return 77;
    }
    int rc = e2e_world_open(&W, "test_scale_e2e", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    TURNS = getenv("MS_SCALE_FULL") ? FULL_TURNS : QUICK_TURNS;
    if (rc != 0 || e2e_world_devkey(&W, "dev.key") != 0 || start_all() != 0) {
        return e2e_world_close(&W, rc ? rc : 1);
    }
    ms_log_set_level(MS_LOG_ERROR); /* the 404s' WARN lines are expected */
    RUN(test_kill_replica);
    CHECK(e2e_haproxy_stop(&LB, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_stop_all(&SUP[0], &SUP[2], &SIM, NULL) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

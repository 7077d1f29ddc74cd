/* --strict-rate against a real supervisor: a burst of STRICT handshakes meets 503 + Retry-After, FAST ones never. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "secure/attest/devkey.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/stack.h"
#include "tests/test.h"

#define BURST 2
#define MAX_TRIES 50

static struct {
    const char *sup_bin, *sim_bin, *src;
    char dir[PATH_MAX], ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], devkey[PATH_MAX];
    char url[64];
    uint8_t pk[MS_SIGN_PK_LEN];
    e2e_server sim, sup;
} E;

static ms_client *client(int strict)
{
    ms_client *c = NULL;
    ms_client_cfg cfg = {.url = E.url, .cacert = E.ca, .pinned_dev_pk = E.pk, .strict = strict};
    return ms_client_new(&c, &cfg) == MS_OK ? c : NULL;
}

/*
 * The bucket starts full (BURST) and refills at 1/s: STRICT handshakes in a row get the
 * burst, then 503 with Retry-After (MS_ERR_SERVER_BUSY on the client). FAST handshakes
 * right after, with the bucket empty, all succeed. After Retry-After, STRICT works again.
 */
static void test_strict_burst(void)
{
    ms_client *s = client(1), *f = client(0);
    ms_client_peer peer;
    long status = 0, retry = 0;
    int ok = 0, busy = 0, first_ok = 0;
    CHECK(s != NULL && f != NULL);
    if (!s || !f) {
        goto out;
    }
    for (int i = 0; i < MAX_TRIES && busy == 0; i++) {
        ms_err e = ms_client_connect(s);
        if (e == MS_OK) {
            ok++;
            first_ok += i < BURST;
            ms_client_peer_info(s, &peer);
            CHECK(peer.evidence_mode == MS_MODE_STRICT);
        } else {
            CHECK_ERR(e, MS_ERR_SERVER_BUSY);
            ms_client_last_http(s, &status, &retry);
            CHECK(status == 503);
            CHECK(retry >= 1 && retry <= 2);
            busy++;
        }
    }
    CHECK(first_ok == BURST); /* the burst is served in full */
    CHECK(busy == 1);
    for (int i = 0; i < 40; i++) {
        CHECK_OK(ms_client_connect(f));
    }
    ms_client_peer_info(f, &peer);
    CHECK(peer.evidence_mode == MS_MODE_FAST);
    ms_client_last_http(f, &status, &retry);
    CHECK(status == 200 && retry == 0);
    /* The reason is in the supervisor's log, the 503 in its access log. */
    CHECK(e2e_file_contains(E.sup.out, "MS_ERR_STRICT_RATE"));
    CHECK(e2e_file_contains(E.sup.out, "handshake 503"));
    /* After the Retry-After it gave, a token is there again. */
    e2e_sleep_ms((int)(retry > 0 ? retry : 1) * 1000 + 100);
    CHECK_OK(ms_client_connect(s));
out:
    ms_client_free(s);
    ms_client_free(f);
}

/*
 * Out-of-range values are usage errors (exit 2) before anything starts. These command lines
 * (no TLS, no --plain-http) would exit 2 later anyway, so the option parser's own message
 * is what shows that the value itself was refused.
 */
static void test_bad_flags(void)
{
    static const char *const bad[][2] = {{"--strict-rate", "0"}, {"--strict-rate", "-1"},
                                         {"--strict-burst", "0"}, {"--strict-rate", "1000001"},
                                         {"--strict-burst", "x"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms_buf err;
        char want[64];
        ms_buf_init(&err, 1 << 16);
        snprintf(want, sizeof want, "invalid option or value: %s\n", bad[i][1]);
        char *argv[] = {(char *)E.sup_bin, "--backend-url", "http://127.0.0.1:9/v1",
                        "--backend-model", "m", (char *)bad[i][0], (char *)bad[i][1], NULL};
        CHECK(e2e_run(argv, 10000, E.dir, NULL, &err) == 2);
        CHECK(err.p != NULL && strstr((const char *)err.p, want) != NULL);
        ms_buf_free(&err);
    }
}

static int setup(void)
{
    ms_devkey k;
    int created;
    if (e2e_tmpdir_new("ms-strict-rate", E.dir) != 0) {
        return -1;
    }
    e2e_path(E.ca, "%s/certs/dev/ca.pem", E.src);
    e2e_path(E.cert, "%s/certs/dev/server.pem", E.src);
    e2e_path(E.key, "%s/certs/dev/server.key", E.src);
    e2e_path(E.devkey, "%s/dev.pem", E.dir);
    int ok = ms_devkey_load_or_create(E.devkey, &k, &created) == MS_OK;
    memcpy(E.pk, k.pk, sizeof E.pk);
    ms_devkey_wipe(&k);
    if (!ok || e2e_sim_start(&E.sim, E.sim_bin, E.dir, NULL, NULL) != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.bin = E.sup_bin, .dir = E.dir, .cert = E.cert, .key = E.key,
                       .devkey = E.devkey, .backend_port = E.sim.port,
                       .extra = {"--strict-rate", "1", "--strict-burst", "2", NULL}};
    if (e2e_sup_start(&E.sup, &cfg) != 0) {
        return -1;
    }
    snprintf(E.url, sizeof E.url, "https://127.0.0.1:%u", E.sup.port);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SUPERVISOR LLM-SIM SOURCE-DIR\n", argv[0]);
        return 2;
    }
    E.sup_bin = argv[1];
    E.sim_bin = argv[2];
    E.src = argv[3];
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0 || setup() != 0) {
        fprintf(stderr, "test_strict_rate_e2e: set-up failed (see %s)\n", E.dir);
        CHECK(0);
    } else {
        RUN(test_strict_burst);
        RUN(test_bad_flags);
    }
    CHECK(e2e_server_stop(&E.sup, 3000) == 0); /* a clean exit: no sanitizer report */
    CHECK(e2e_server_stop(&E.sim, 3000) == 0);
    if (E.dir[0] && !getenv("MS_E2E_KEEP")) {
        e2e_tmpdir_remove(E.dir);
    }
    return TEST_SUMMARY();
}

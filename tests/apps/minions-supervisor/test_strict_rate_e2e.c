/* --strict-rate against a real supervisor: a burst of STRICT handshakes meets 503 + Retry-After, FAST ones never. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "secure/attest/devkey.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define BURST 2
#define MAX_TRIES 50

static e2e_world W; /* programs, certs/dev, the dev key, the temp dir */
static e2e_stack ST;

static ms_client *client(int strict)
{
    ms_client *c = NULL;
    ms_client_cfg cfg = {.url = ST.url, .cacert = W.ca, .pinned_dev_pk = W.pk, .strict = strict};
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
    CHECK(e2e_file_contains(ST.sup.out, "MS_ERR_STRICT_RATE"));
    CHECK(e2e_file_contains(ST.sup.out, "handshake 503"));
    /* After the Retry-After it gave, a token is there again. */
    e2e_sleep_ms((int)(retry > 0 ? retry : 1) * 1000 + 100);
    CHECK_OK(ms_client_connect(s));
out:
    ms_client_free(s);
    ms_client_free(f);
}

/*
 * Out-of-range values are usage errors (exit 2) before anything starts, and so are values
 * that are not digits only (a sign, a space: strtoul took "+5" and " 5"). These command lines
 * (no TLS, no --plain-http) would exit 2 later anyway, so the option parser's own message
 * is what shows that the value itself was refused.
 */
static void test_bad_flags(void)
{
    static const char *const bad[][2] = {{"--strict-rate", "0"}, {"--strict-rate", "-1"},
                                         {"--strict-burst", "0"}, {"--strict-rate", "1000001"},
                                         {"--strict-burst", "x"}, {"--strict-rate", "+5"},
                                         {"--strict-burst", " 5"},
                                         {"--strict-rate", "-18446744073709551611"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e2e_out r;
        char want[64];
        snprintf(want, sizeof want, "invalid option or value: %s\n", bad[i][1]);
        CHECK(e2e_world_runl(&W, &(e2e_cmd){.bin = W.sup_bin, .timeout_ms = 10000}, &r,
                             "--backend-url", "http://127.0.0.1:9/v1", "--backend-model", "m",
                             bad[i][0], bad[i][1], NULL) == 2);
        CHECK(r.err.p != NULL && strstr((const char *)r.err.p, want) != NULL);
        e2e_out_free(&r);
    }
}

/*
 * Start-up errors a new user meets (issue 13): the --listen port held by another program
 * (here the running supervisor) is named as in use, not "port 0" and "input/output error";
 * a --tls-key that is not the --tls-cert's key names both files, not a GnuTLS warning; a
 * --listen port with a sign is refused as a usage error.
 */
static void test_start_errors(void)
{
    e2e_out r;
    char listen[64], want[96], cakey[PATH_MAX];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", ST.sup.port);
    CHECK(e2e_world_runl(&W, &(e2e_cmd){.bin = W.sup_bin, .timeout_ms = 10000}, &r,
                         "--backend-url", "http://127.0.0.1:9/v1", "--backend-model", "m",
                         "--dev-key", W.devkey, "--tls-cert", W.cert, "--tls-key", W.key,
                         "--listen", listen, NULL) == 3);
    snprintf(want, sizeof want, "port %u is in use", ST.sup.port);
    CHECK(e2e_buf_has(&r.err, want) && !e2e_buf_has(&r.err, "port 0") &&
          !e2e_buf_has(&r.err, "input/output error"));
    e2e_out_free(&r);
    e2e_path(cakey, "%s/certs/dev/ca.key", W.src);
    CHECK(e2e_world_runl(&W, &(e2e_cmd){.bin = W.sup_bin, .timeout_ms = 10000}, &r,
                         "--backend-url", "http://127.0.0.1:9/v1", "--backend-model", "m",
                         "--dev-key", W.devkey, "--tls-cert", W.cert, "--tls-key", cakey,
                         "--listen", "127.0.0.1:0", NULL) == 2);
    CHECK(e2e_buf_has(&r.err, cakey) && e2e_buf_has(&r.err, W.cert) &&
          e2e_buf_has(&r.err, "is not the key of --tls-cert") && !e2e_buf_has(&r.err, "GnuTLS"));
    e2e_out_free(&r);
    /* a port is digits only: strtoul took "+80" as 80 */
    CHECK(e2e_world_runl(&W, &(e2e_cmd){.bin = W.sup_bin, .timeout_ms = 10000}, &r,
                         "--backend-url", "http://127.0.0.1:9/v1", "--backend-model", "m",
                         "--dev-key", W.devkey, "--tls-cert", W.cert, "--tls-key", W.key,
                         "--listen", "127.0.0.1:+80", NULL) == 2);
    CHECK(e2e_buf_has(&r.err, "cannot serve on 127.0.0.1:+80: invalid configuration"));
    e2e_out_free(&r);
}

static int setup(void)
{
    if (e2e_world_devkey(&W, "dev.pem") != 0) {
        return -1;
    }
    return e2e_world_stack(&W, &ST, NULL,
                           &(e2e_sup_cfg){.extra = {"--strict-rate", "1", "--strict-burst", "2"}});
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_strict_rate_e2e", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    if (setup() != 0) {
        fprintf(stderr, "test_strict_rate_e2e: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_strict_burst);
        RUN(test_bad_flags);
        RUN(test_start_errors);
    }
    CHECK(e2e_stack_stop(&ST) == 0); /* clean exits: no sanitizer report */
    return e2e_world_close(&W, TEST_SUMMARY());
}

/*
 * The README's way to try `run` without a model: llm-sim with the shipped scripts in
 * examples/demo/ stands in for both engines, and both --protocol minion and minions reach
 * a final answer over examples/incident (no "no rule for this message").
 * Arguments: SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR.
 */
#include <stdio.h>

#include "tests/fixture/world.h"
#include "tests/test.h"

static e2e_world W;

static void one_protocol(const e2e_stack *st, const char *worker_url, const char *proto)
{
    char docs[PATH_MAX], logdir[PATH_MAX], logkey[PATH_MAX];
    e2e_path(docs, "%s/examples/incident", W.src);
    e2e_world_path(&W, logdir, "home");
    e2e_world_path(&W, logkey, "log-key");
    e2e_out r;
    test_current_ = proto;
    e2e_world_runl(&W, NULL, &r, "run", "--supervisor_url", st->url, "--trusted_attestation_pem",
                   W.devpub, "--cacert", W.ca, "--local-url", worker_url, "--local_model",
                   "cybertron", "--context", docs, "--protocol", proto, "--task",
                   "Which host sent data out, where to and how much?", "--log-dir", logdir,
                   "--log-key", logkey, NULL);
    CHECK(r.code == 0);
    CHECK(e2e_buf_has(&r.out, "build-02"));
    CHECK(e2e_buf_has(&r.out, "432,013,312 bytes"));
    CHECK(!e2e_buf_has(&r.err, "no rule"));
    if (r.code != 0) {
        fprintf(stderr, "stderr:\n%s\n", (const char *)r.err.p);
    }
    e2e_out_free(&r);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "demo_scripts", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc, argv);
    if (rc != 0) {
        return rc;
    }
    char sup_script[PATH_MAX], worker_script[PATH_MAX], worker_url[64];
    e2e_path(sup_script, "%s/examples/demo/supervisor-engine.json", W.src);
    e2e_path(worker_script, "%s/examples/demo/worker-engine.json", W.src);
    e2e_stack st;
    e2e_server worker;
    test_current_ = "setup";
    CHECK(e2e_world_home(&W) == 0);
    CHECK(e2e_world_devkey(&W, "dev.pem") == 0);
    CHECK(e2e_world_stack(&W, &st, &(e2e_sim_cfg){.script = sup_script}, NULL) == 0);
    CHECK(e2e_world_sim(&W, &worker, &(e2e_sim_cfg){.script = worker_script}) == 0);
    e2e_url(worker_url, "http", worker.port);
    one_protocol(&st, worker_url, "minion");
    one_protocol(&st, worker_url, "minions");
    CHECK(e2e_stack_stop(&st) == 0);
    CHECK(e2e_server_stop(&worker, E2E_STOP_GRACE_MS) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

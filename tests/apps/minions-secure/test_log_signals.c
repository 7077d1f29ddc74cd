/*
 * The session log survives a crash and a Ctrl-C: minions-secure run as a real process
 * against a real minions-supervisor and llm-sim (both engines), its worker made to wait on
 * a slow reply so that the signal lands mid-session. SIGKILL leaves a log that
 * minions-audit verifies up to its last checkpoint (PARTIAL, exit 4); SIGINT and SIGTERM
 * leave a sealed, VALID log and end the run by that signal (status 130, 143).
 *
 * Usage: test_log_signals SUPERVISOR LLM-SIM MINIONS-SECURE MINIONS-AUDIT SOURCE-DIR
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "secure/audit/alog.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define WAIT_MS 60000

/* One llm-sim for both engines: the supervisor asks the worker a question that the worker
   answers only after 10 minutes (llm-sim's longest delay). */
static const char SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"slow-question\", \"delay_ms\": 600000, \"reply\": \"too late\"},\n"
    " {\"contains\": \"Task: \", \"reply\": \"{\\\"decision\\\": \\\"request_additional_info\\\", "
    "\\\"message\\\": \\\"slow-question: who came first?\\\"}\"}\n"
    "], \"default\": \"{\\\"decision\\\": \\\"cannot_answer\\\", \\\"reason\\\": \\\"no rule\\\"}\"}\n";

static e2e_world W;
static e2e_stack ST;
static char DOC[PATH_MAX];
static unsigned SEQ;

/* Start run with its log at `log` (checkpoints every second); 0 when it runs. */
static int start_run(e2e_proc *p, const char *log, char err[static PATH_MAX])
{
    char wurl[64];
    e2e_url(wurl, "http", ST.sim.port);
    e2e_world_path(&W, err, "run%u.err", ++SEQ);
    char *argv[] = {(char *)W.cli_bin, "run", "--supervisor_url", ST.url,
                    "--trusted_attestation_pem", W.devpub, "--cacert", W.ca, "--local-url", wurl,
                    "--log-key", W.logkey, "--log", (char *)log, "--log-checkpoint-secs", "1",
                    "--max_rounds", "2", "--task", "Who came first?", "--context", DOC, NULL};
    return e2e_proc_start(p, "minions-secure", argv, err);
}

/* Wait until the log holds the supervisor's turn and ends with a checkpoint after it. */
static int wait_mid_session(const char *log)
{
    ms_buf b;
    ms_buf_init(&b, MS_ALOG_MAX_FILE);
    int ok = 0;
    for (int waited = 0; !ok && waited < WAIT_MS; waited += 50) {
        ms_buf_clear(&b);
        if (e2e_file_read(log, &b) == 0 && b.len > 0) {
            const char *s = (const char *)b.p, *turn = strstr(s, "\"type\":\"supervisor_turn\"");
            const char *last = s + b.len - 1; /* its '\n' */
            while (last > s && last[-1] != '\n') {
                last--;
            }
            ok = turn != NULL && last > turn && strstr(last, "\"type\":\"log_checkpoint\"") != NULL;
        }
        if (!ok) {
            e2e_sleep_ms(50);
        }
    }
    ms_buf_free(&b);
    return ok ? 0 : -1;
}

static ms_alog_verdict verify_lib(const char *log, ms_alog_report *r)
{
    ms_buf b;
    uint8_t pk[MS_SIGN_PK_LEN];
    ms_buf_init(&b, MS_ALOG_MAX_FILE);
    CHECK(e2e_file_read(log, &b) == 0);
    CHECK_OK(ms_devkey_read_public(W.logpub, pk));
    CHECK_OK(ms_alog_verify(b.p, b.len, pk, r));
    ms_buf_free(&b);
    return r->verdict;
}

/* minions-audit verify --key: its exit status, its output in out. */
static int audit_verify(const char *log, e2e_out *out)
{
    e2e_cmd cmd = {.bin = W.audit_bin};
    return e2e_world_runl(&W, &cmd, out, "verify", "--key", W.logpub, log, NULL);
}

/* SIGKILL mid-session: minions-audit says valid up to the last checkpoint, then incomplete. */
static void test_kill(void)
{
    e2e_proc p;
    char log[PATH_MAX], err[PATH_MAX], want[64];
    e2e_world_path(&W, log, "killed.ndjson");
    CHECK(start_run(&p, log, err) == 0);
    CHECK(wait_mid_session(log) == 0);
    CHECK(kill(p.pid, SIGKILL) == 0);
    CHECK(e2e_proc_wait(&p, WAIT_MS) == 128 + SIGKILL);
    ms_alog_report r;
    CHECK(verify_lib(log, &r) == MS_ALOG_PARTIAL);
    CHECK(r.checkpoint_line >= 5 && r.checkpoint_line == r.events); /* all of it covered */
    e2e_out o;
    CHECK(audit_verify(log, &o) == 4);
    snprintf(want, sizeof want, ": PARTIAL: valid up to line %llu (checkpoint at ",
             (unsigned long long)r.checkpoint_line);
    CHECK(e2e_buf_has(&o.out, want));
    CHECK(e2e_buf_has(&o.out, "then incomplete"));
    e2e_out_free(&o);
    CHECK(e2e_file_contains(log, "\"type\":\"task\""));
    CHECK(!e2e_file_contains(log, "\"type\":\"log_seal\""));
}

/* SIGINT or SIGTERM mid-session: the log is sealed, the run ends by that signal. */
static void interrupted(int sig, const char *said)
{
    e2e_proc p;
    char log[PATH_MAX], err[PATH_MAX];
    e2e_world_path(&W, log, "signal%d.ndjson", sig);
    CHECK(start_run(&p, log, err) == 0);
    CHECK(wait_mid_session(log) == 0);
    CHECK(kill(p.pid, sig) == 0);
    CHECK(e2e_proc_wait(&p, WAIT_MS) == 128 + sig);
    ms_alog_report r;
    CHECK(verify_lib(log, &r) == MS_ALOG_VALID);
    e2e_out o;
    CHECK(audit_verify(log, &o) == 0);
    CHECK(e2e_buf_has(&o.out, ": VALID: intact and sealed"));
    e2e_out_free(&o);
    CHECK(e2e_file_contains(err, said));
    CHECK(e2e_file_contains(err, "the session log "));
    CHECK(e2e_file_contains(err, " is sealed"));
    CHECK(!e2e_report_in(err));
}

static void test_sigint(void)
{
    interrupted(SIGINT, "interrupted (SIGINT)");
}

static void test_sigterm(void)
{
    interrupted(SIGTERM, "stopped (SIGTERM)");
}

/* The options: bad values are usage errors before anything happens. */
static void test_options(void)
{
    e2e_out o;
    CHECK(e2e_world_runl(&W, NULL, &o, "run", "--log-checkpoint-secs", "86401", "--task", "x",
                         NULL) == 2);
    e2e_out_free(&o);
    CHECK(e2e_world_runl(&W, NULL, &o, "run", "--log-checkpoint-events", "-1", "--task", "x",
                         NULL) == 2);
    e2e_out_free(&o);
    CHECK(e2e_world_runl(&W, NULL, &o, "chat", "--help", NULL) == 0);
    CHECK(e2e_buf_has(&o.out, "--log-checkpoint-events N") &&
          e2e_buf_has(&o.out, "--log-checkpoint-secs S"));
    e2e_out_free(&o);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_log_signals", E2E_SUP | E2E_SIM | E2E_CLI | E2E_AUDIT | E2E_SRC,
                            argc, argv);
    if (rc != 0) {
        return rc;
    }
    e2e_world_path(&W, DOC, "doc.txt");
    if (e2e_world_devkey(&W, "dev.pem") != 0 || e2e_world_logkey(&W, "log-key") != 0 ||
        e2e_world_script(&W, SCRIPT) != 0 || e2e_world_home(&W) != 0 ||
        e2e_file_write(DOC, "Alice came first, then Bob.\n") != 0 ||
        e2e_world_stack(&W, &ST, NULL, NULL) != 0) {
        fprintf(stderr, "test_log_signals: set-up failed\n");
        return e2e_world_close(&W, 1);
    }
    RUN(test_options);
    RUN(test_kill);
    RUN(test_sigint);
    RUN(test_sigterm);
    CHECK(e2e_stack_stop(&ST) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

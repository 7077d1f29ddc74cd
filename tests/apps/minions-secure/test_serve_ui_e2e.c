/*
 * The web UI of minions-secure serve in headless Chromium (tests/node/test_webui.mjs, driven
 * by playwright-core): llm-sim as the supervisor's engine (A) and as the local worker (W), a
 * real minions-supervisor (dev key, HTTPS), and serve in front with --context-root. Chat with
 * text and PDF attachments, a Minion run over an uploaded PDF, the attestation panel, the Minions API
 * with context paths under the root and out of it, another origin and a foreign Host header
 * refused. Screenshots go to ARTIFACTS (the build tree).
 *
 * Usage: test_serve_ui_e2e SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR ARTIFACTS
 * MS_UI_DOC_SHOT=FILE copies the main screenshot there (the README's docs/images/serve-ui.png).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fixture/pdf.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

/* A: the supervisor's model. The Minion asks once, then answers from the worker's answer. */
static const char SUP_SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"Results of round 1\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"The jobs found the north door.\\\"}\"},\n"
    " {\"contains\": \"bytes long in all\", \"reply\": \"{\\\"decision\\\": \\\"run_plan\\\", "
    "\\\"plan\\\": {\\\"tasks\\\": [{\\\"id\\\": \\\"t1\\\", \\\"instruction\\\": \\\"Find "
    "the door.\\\"}], \\\"chunking\\\": {\\\"method\\\": \\\"paragraphs\\\", "
    "\\\"size\\\": 200}}}\"},\n"
    " {\"contains\": \"The worker's answer:\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"The badge was cloned in the car "
    "park.\\\"}\"},\n"
    " {\"contains\": \"Task: \", \"reply\": \"{\\\"decision\\\": \\\"request_additional_info\\\", "
    "\\\"message\\\": \\\"What does the report say about badge 4471?\\\"}\"},\n"
    " {\"contains\": \"hello\", \"reply\": \"Hello from the attested supervisor. <b>not "
    "bold</b>\"}\n"
    "], \"default\": \"I am the supervisor's model.\"}\n";

/* W: the local worker, which reads the documents. */
static const char WORKER_SCRIPT[] =
    "{\"rules\": [{\"contains\": \"Instruction (task t1)\", \"reply\": \"{\\\"explanation\\\": "
    "\\\"entry line\\\", \\\"citation\\\": null, \\\"answer\\\": \\\"north door\\\"}\"},\n"
    " {\"contains\": \"Question: \", \"reply\": \"The report says badge 4471 was "
    "cloned in the car park.\"}], \"default\": \"I cannot tell.\"}\n";

static e2e_world W;
static e2e_stack ST;
static e2e_server SIM_W, SRV;

static int write_pdf(const char *path, const char *line)
{
    ms_buf b;
    ms_buf_init(&b, 4096);
    int rc = e2e_pdf_one_page(&b, line) == 0 && ms_buf_terminate(&b) == MS_OK &&
                     e2e_file_write(path, (const char *)b.p) == 0
                 ? 0
                 : -1;
    ms_buf_free(&b);
    return rc;
}

/* The login URL serve printed at start (the line "web UI: open URL (works once)"). */
static int login_url(char out[static 256])
{
    ms_buf b;
    ms_buf_init(&b, 1u << 20);
    int rc = -1;
    if (e2e_file_read(SRV.out, &b) == 0 && ms_buf_terminate(&b) == MS_OK) {
        const char *at = strstr((const char *)b.p, "web UI: open ");
        if (at) {
            at += 13;
            size_t n = strcspn(at, " \n");
            if (n < 256) {
                memcpy(out, at, n);
                out[n] = '\0';
                rc = 0;
            }
        }
    }
    ms_buf_free(&b);
    return rc;
}

static int read_key(char out[static 300])
{
    char path[PATH_MAX];
    ms_buf b;
    ms_buf_init(&b, 4096);
    e2e_path(path, "%s/serve.key", W.dir);
    int rc = e2e_file_read(path, &b) == 0 && b.len > 32 && b.len < 290 ? 0 : -1;
    if (rc == 0) {
        snprintf(out, 300, "%.*s", (int)b.len - 1, (const char *)b.p);
    }
    ms_buf_free(&b);
    return rc;
}

static void browser(const char *artifacts)
{
    char url[64], login[256], key[300];
    char text[PATH_MAX], pdf[PATH_MAX], root[PATH_MAX], outside[PATH_MAX], cpdf[PATH_MAX];
    test_current_ = "browser";
    CHECK(access("/usr/bin/chromium", X_OK) == 0);
    CHECK(mkdir(artifacts, 0755) == 0 || access(artifacts, W_OK) == 0);
    CHECK(login_url(login) == 0 && read_key(key) == 0);
    e2e_path(root, "%s/docs", W.dir);
    e2e_path(text, "%s/docs/notes.txt", W.dir);
    e2e_path(pdf, "%s/report.pdf", W.dir);
    e2e_path(outside, "%s/outside.txt", W.dir);
    e2e_path(cpdf, "%s/chat.pdf", W.dir);
    CHECK(write_pdf(cpdf, "CHAT-PDF-MARKER: the minutes of the meeting.") == 0);
    CHECK(e2e_file_write(text, "ATTACHED-TEXT-MARKER: the night shift saw nothing.\n") == 0);
    CHECK(e2e_file_write(outside, "OUTSIDE-MARKER: never read\n") == 0);
    CHECK(write_pdf(pdf, "Badge 4471 was cloned in the car park on Tuesday.") == 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", SRV.port);
    setenv("MS_UI_URL", url, 1);
    setenv("MS_UI_LOGIN", login, 1);
    setenv("MS_UI_KEY", key, 1);
    setenv("MS_UI_ARTIFACTS", artifacts, 1);
    setenv("MS_UI_TEXT", text, 1);
    setenv("MS_UI_PDF", pdf, 1);
    setenv("MS_UI_CHAT_PDF", cpdf, 1);
    setenv("MS_UI_ROOT", root, 1);
    setenv("MS_UI_SIM_LOG", ST.sim.log, 1);
    e2e_out o;
    CHECK(e2e_world_node(&W, "playwright-core", "test_webui.mjs", 300000, &o) == 0);
    CHECK(e2e_buf_has(&o.out, "all passed"));
    e2e_out_free(&o);
    unsetenv("MS_UI_KEY");
    /* nothing of the document outside the root reached either model */
    CHECK(!e2e_file_contains(ST.sim.log, "OUTSIDE-MARKER"));
    CHECK(!e2e_file_contains(SIM_W.log, "OUTSIDE-MARKER"));
    /* the uploaded PDF reached the worker, never the supervisor's model */
    CHECK(e2e_file_contains(SIM_W.log, "Badge 4471 was cloned"));
    CHECK(!e2e_file_contains(ST.sim.log, "Badge 4471 was cloned"));
}

int main(int argc, char **argv)
{
    const char *artifacts = argc == 6 ? argv[5] : NULL;
    int rc = e2e_world_open(&W, "serve_ui_e2e", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC,
                            argc == 6 ? 5 : argc, argv);
    if (rc != 0 || !artifacts) {
        return rc ? rc : 2;
    }
    char sa[PATH_MAX], sw[PATH_MAX], docs[PATH_MAX], logkey[PATH_MAX], wurl[64];
    test_current_ = "setup";
    CHECK(e2e_world_home(&W) == 0);
    CHECK(e2e_world_devkey(&W, "dev.pem") == 0);
    e2e_world_path(&W, sa, "script-a.json");
    e2e_world_path(&W, sw, "script-w.json");
    e2e_world_path(&W, docs, "docs");
    e2e_world_path(&W, logkey, "log-key");
    CHECK(e2e_file_write(sa, SUP_SCRIPT) == 0 && e2e_file_write(sw, WORKER_SCRIPT) == 0);
    CHECK(mkdir(docs, 0700) == 0);
    CHECK(e2e_world_stack(&W, &ST, &(e2e_sim_cfg){.script = sa, .record = 1}, NULL) == 0);
    CHECK(e2e_world_sim(&W, &SIM_W, &(e2e_sim_cfg){.script = sw, .record = 1}) == 0);
    e2e_url(wurl, "http", SIM_W.port);
    CHECK(e2e_world_serve(&W, &ST, &SRV,
                          &(e2e_serve_cfg){.extra = {"--local-url", wurl, "--context-root", docs,
                                                     "--log-key", logkey}}) == 0);
    if (test_fail_count_ == 0) {
        browser(artifacts);
    }
    CHECK(e2e_server_stop(&SRV, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_server_stop(&SIM_W, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_stack_stop(&ST) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

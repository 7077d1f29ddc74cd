/*
 * The reference's documented interfaces, end to end (issue 17): its README's stdin JSON
 * requests piped verbatim (the supervisor named on the command line), its secure CLI line
 * verbatim in a terminal (tmux) and in a pipe, its chat habits (bare exit/quit/clear,
 * --vm_launch_measurement_hashfile), and minions-audit show --format reference-json. Real
 * minions-secure, minions-supervisor (dev key, HTTPS) and minions-audit; llm-sim for both
 * engines (A behind the supervisor, W the local worker).
 *
 * Usage: test_compat_e2e SUPERVISOR LLM-SIM MINIONS-SECURE MINIONS-AUDIT SOURCE-DIR
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "tests/fixture/stack.h"
#include "tests/fixture/tmux.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define A_MINION "The task names nothing to check: no risk can be judged."
#define A_MINIONS "The night log shows badge 4471 at the north door at 04:02."
#define A_TTY "The badge opened the north door."
#define WORKER_ANSWER "The log says badge 4471 opened the north door."
#define JOB_ANSWER "north door at 04:02"
#define DOC_SECRET "Night log: badge 4471 granted at the north door at 04:02."
#define ATTACH_SECRET "Attached memo: the car park camera was off on Tuesday."

/* The reference README's first request, exactly as the issue quotes it. */
static const char README_MINION[] =
    "{\"local_client\": {\"type\": \"ollama\", \"model_name\": \"llama3.2:3b\"}, "
    "\"remote_client\": {\"type\": \"openai\", \"model_name\": \"gpt-4o\"}, "
    "\"protocol\": {\"type\": \"minion\", \"max_rounds\": 1}, "
    "\"call_params\": {\"task\": \"...\"}}";

/* Its second: Minions over a context array with doc_metadata (the reference's field names
   and shapes; the text is ours). */
#define TASK_MINIONS "Which door did badge 4471 open, and when?"
static const char README_MINIONS[] =
    "{\"local_client\": {\"type\": \"ollama\", \"model_name\": \"llama3.2\", \"port\": 11434, "
    "\"timeout\": 120, \"kwargs\": {\"temperature\": 0.0, \"num_ctx\": 4096}},\n"
    " \"remote_client\": {\"type\": \"openai\", \"model_name\": \"gpt-4o\"},\n"
    " \"protocol\": {\"type\": \"minions\", \"max_rounds\": 2, \"log_dir\": \"minion_logs\", "
    "\"kwargs\": {}},\n"
    " \"call_params\": {\"task\": \"" TASK_MINIONS "\", \"doc_metadata\": \"Security log\", "
    "\"context\": [\"" DOC_SECRET "\"], \"max_rounds\": 2}}\n";

/*
 * The reference README's two "Usage Examples" of its stdin interface (its Docker section,
 * "Basic Minion Protocol" and "Minions (Parallel) Protocol"), byte for byte as its `echo`
 * pipes them (github.com/HazyResearch/minions, README.md): the Minion one carries its
 * context in call_params, the Minions one its doc_metadata.
 */
static const char README_USAGE_MINION[] =
    "{\n"
    "  \"local_client\": {\n"
    "    \"type\": \"ollama\",\n"
    "    \"model_name\": \"llama3.2:3b\"\n"
    "  },\n"
    "  \"remote_client\": {\n"
    "    \"type\": \"openai\",\n"
    "    \"model_name\": \"gpt-4o\"\n"
    "  },\n"
    "  \"protocol\": {\n"
    "    \"type\": \"minion\",\n"
    "    \"max_rounds\": 3\n"
    "  },\n"
    "  \"call_params\": {\n"
    "    \"task\": \"Analyze the patient data and provide a diagnosis\",\n"
    "    \"context\": [\"Patient John Doe is a 60-year-old male with hypertension. Blood pressure: 160/100 mmHg. LDL cholesterol: 170 mg/dL.\"]\n"
    "  }\n"
    "}\n";

static const char README_USAGE_MINIONS[] =
    "{\n"
    "  \"local_client\": {\n"
    "    \"type\": \"ollama\",\n"
    "    \"model_name\": \"llama3.2:3b\"\n"
    "  },\n"
    "  \"remote_client\": {\n"
    "    \"type\": \"openai\",\n"
    "    \"model_name\": \"gpt-4o\"\n"
    "  },\n"
    "  \"protocol\": {\n"
    "    \"type\": \"minions\"\n"
    "  },\n"
    "  \"call_params\": {\n"
    "    \"task\": \"Analyze the financial data and extract key insights\",\n"
    "    \"doc_metadata\": \"Financial report\",\n"
    "    \"context\": [\"Revenue increased by 15% year-over-year. Operating expenses rose by 8%. Net profit margin improved to 12%.\"]\n"
    "  }\n"
    "}\n";

static const char SUP_SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"Results of round 1\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"" A_MINIONS "\\\"}\"},\n"
    " {\"contains\": \"bytes long in all\", \"reply\": \"{\\\"decision\\\": \\\"run_plan\\\", "
    "\\\"plan\\\": {\\\"tasks\\\": [{\\\"id\\\": \\\"t1\\\", \\\"instruction\\\": \\\"Find the "
    "door and time.\\\"}], \\\"chunking\\\": {\\\"method\\\": \\\"paragraphs\\\", \\\"size\\\": "
    "200}}}\"},\n"
    " {\"contains\": \"The worker's answer:\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"" A_TTY "\\\"}\"},\n"
    " {\"contains\": \"marker-tty\", \"reply\": \"{\\\"decision\\\": "
    "\\\"request_additional_info\\\", \\\"message\\\": \\\"Which door?\\\"}\"},\n"
    " {\"contains\": \"chat-\", \"reply\": \"Chat reply.\"}\n"
    "], \"default\": \"{\\\"decision\\\": \\\"provide_final_answer\\\", \\\"answer\\\": \\\"" A_MINION
    "\\\"}\"}\n";

static const char WORKER_SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"Instruction (task t1)\", \"reply\": \"{\\\"explanation\\\": \\\"log "
    "line\\\", \\\"citation\\\": null, \\\"answer\\\": \\\"" JOB_ANSWER "\\\"}\"},\n"
    " {\"contains\": \"Question: \", \"reply\": \"" WORKER_ANSWER "\"}\n"
    "], \"default\": \"I cannot tell.\"}\n";

static e2e_world W;
static struct {
    e2e_server sim_a, sim_w, sup;
    char url[64], wurl[64];
    char log_a[PATH_MAX], log_w[PATH_MAX];
    char ref_log[PATH_MAX]; /* the Minions run's log, for minions-audit */
} E;

static const e2e_cmd CLI = {.wrap = 1};

#define has e2e_buf_has
#define str_is e2e_json_str_is

static ms_json_doc *json_of(const ms_buf *b)
{
    ms_json_doc *d = e2e_json_of(b);
    CHECK(d != NULL);
    if (!d) { /* the checks that follow then fail on an empty object, without a crash */
        CHECK_OK(ms_json_parse("{}", 2, &d));
    }
    return d;
}

/* The request in a file, piped to `minions-secure --stdin-json` with the supervisor, its pin
   and CA and the worker's URL on the command line (no subcommand, as the issue pipes it). */
static void pipe_request(e2e_out *r, const char *name, const char *request)
{
    char req[PATH_MAX];
    e2e_world_path(&W, req, "%s", name);
    CHECK(e2e_file_write(req, request) == 0);
    const char *args[] = {"--stdin-json", "--supervisor_url", E.url, "--trusted_attestation_pem",
                          W.devpub, "--cacert", W.ca, "--local-url", E.wurl, "--log-key",
                          W.logkey, NULL};
    e2e_cmd cmd = CLI;
    cmd.stdin_path = req;
    e2e_world_run(&W, &cmd, args, r);
}

/* The reference's result fields, present and of the right kinds. */
static void check_reference_fields(ms_json_val res, size_t min_sup, size_t min_wrk)
{
    ms_json_val arr, v;
    size_t n;
    uint64_t total = 0;
    double t = -1;
    CHECK_OK(ms_json_get_arr(res, "supervisor_messages", 4096, &arr, &n));
    CHECK(n >= min_sup);
    if (n > 0) {
        CHECK_OK(ms_json_arr_at(arr, n - 1, &v));
        CHECK(str_is(v, "role", "assistant"));
    }
    CHECK_OK(ms_json_get_arr(res, "worker_messages", 4096, &arr, &n));
    CHECK(n >= min_wrk);
    CHECK_OK(ms_json_get_obj(res, "remote_usage", &v));
    CHECK_OK(ms_json_get_u64(v, "total_tokens", UINT64_MAX / 2, &total));
    CHECK(total > 0);
    CHECK_OK(ms_json_get_obj(res, "local_usage", &v));
    CHECK_OK(ms_json_get_u64(v, "total_tokens", UINT64_MAX / 2, &total));
    CHECK_OK(ms_json_get_obj(res, "timing", &v));
    CHECK_OK(ms_json_get_double(v, "total_time", 0, 1e6, &t));
    CHECK(t > 0);
    CHECK_OK(ms_json_get_double(v, "remote_call_time", 0, 1e6, &t));
    CHECK_OK(ms_json_get_double(v, "local_call_time", 0, 1e6, &t));
}

/* README example 1, verbatim: a cloud remote stands for the attested supervisor. */
static void test_readme_minion(void)
{
    e2e_out r;
    pipe_request(&r, "readme-minion.json", README_MINION);
    CHECK(r.code == 0);
    CHECK(has(&r.err, "remote_client of type openai"));
    CHECK(has(&r.err, "the remote model is the one behind the attested supervisor at "));
    CHECK(has(&r.err, "model_name 'gpt-4o' is a request, not a choice"));
    ms_json_doc *d = json_of(&r.out);
    ms_json_val o = ms_json_root(d), res;
    bool ok = false;
    CHECK_OK(ms_json_get_bool(o, "success", &ok));
    CHECK(ok);
    CHECK_OK(ms_json_get_obj(o, "result", &res));
    CHECK(str_is(res, "final_answer", A_MINION));
    CHECK(str_is(res, "outcome", "answer")); /* ours, beside the reference's */
    check_reference_fields(res, 2, 0);
    const char *lf = NULL;
    size_t n;
    CHECK_OK(ms_json_get_str(res, "log_file", 4096, &lf, &n));
    CHECK(lf && access(lf, R_OK) == 0);
    ms_json_free(d);
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_a, "Task: ..."));
}

/* README example 2: Minions over a context array; log_dir is where the signed log goes. */
static void test_readme_minions(void)
{
    e2e_out r;
    pipe_request(&r, "readme-minions.json", README_MINIONS);
    CHECK(r.code == 0);
    ms_json_doc *d = json_of(&r.out);
    ms_json_val o = ms_json_root(d), res, arr, v;
    CHECK_OK(ms_json_get_obj(o, "result", &res));
    CHECK(str_is(res, "final_answer", A_MINIONS));
    check_reference_fields(res, 4, 1);
    size_t n;
    CHECK_OK(ms_json_get_arr(res, "worker_messages", 4096, &arr, &n));
    CHECK(n >= 1 && ms_json_arr_at(arr, 0, &v) == MS_OK && str_is(v, "content", JOB_ANSWER));
    const char *lf = NULL;
    CHECK_OK(ms_json_get_str(res, "log_file", 4096, &lf, &n));
    CHECK(lf && strncmp(lf, "minion_logs/minions-", 20) == 0);
    if (lf) {
        e2e_world_path(&W, E.ref_log, "%s", lf);
    }
    ms_json_free(d);
    e2e_out_free(&r);
    struct stat st;
    CHECK(stat(E.ref_log, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* the metadata and the task reached the supervisor; the document only the worker */
    CHECK(e2e_file_contains(E.log_a, "Security log"));
    CHECK(!e2e_file_contains(E.log_a, DOC_SECRET));
    CHECK(e2e_file_contains(E.log_w, DOC_SECRET));
    CHECK(e2e_file_contains(E.log_w, "\"model\":\"llama3.2\""));
}

/* The README's usage examples, verbatim: each runs, and its context reaches only the worker. */
static void test_readme_usage_examples(void)
{
    e2e_out r;
    pipe_request(&r, "readme-usage-minion.json", README_USAGE_MINION);
    CHECK(r.code == 0);
    CHECK(has(&r.err, "model_name 'gpt-4o' is a request, not a choice"));
    ms_json_doc *d = json_of(&r.out);
    ms_json_val o = ms_json_root(d), res;
    bool ok = false;
    CHECK_OK(ms_json_get_bool(o, "success", &ok));
    CHECK(ok);
    CHECK_OK(ms_json_get_obj(o, "result", &res));
    CHECK(str_is(res, "final_answer", A_MINION));
    check_reference_fields(res, 2, 0);
    ms_json_free(d);
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_a, "Analyze the patient data and provide a diagnosis"));
    CHECK(!e2e_file_contains(E.log_a, "160/100 mmHg"));

    pipe_request(&r, "readme-usage-minions.json", README_USAGE_MINIONS);
    CHECK(r.code == 0);
    d = json_of(&r.out);
    o = ms_json_root(d);
    CHECK_OK(ms_json_get_obj(o, "result", &res));
    CHECK(str_is(res, "final_answer", A_MINIONS));
    check_reference_fields(res, 4, 1);
    ms_json_free(d);
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_a, "Financial report"));
    CHECK(!e2e_file_contains(E.log_a, "Revenue increased by 15% year-over-year"));
    CHECK(e2e_file_contains(E.log_w, "Revenue increased by 15% year-over-year"));
    CHECK(e2e_file_contains(E.log_w, "\"model\":\"llama3.2:3b\""));
}

/* What the reference's shapes may not carry: refused, naming the key. */
static void test_refusals(void)
{
    static const char *const bad[][2] = {
        {"{\"protocol\": {\"type\": \"minion\", \"kwargs\": {\"callback\": 1}}, "
         "\"call_params\": {\"task\": \"x\"}}",
         "protocol.kwargs.callback: not a field"},
        {"{\"protocol\": {\"type\": \"minion\", \"private\": true}, \"call_params\": {\"task\": "
         "\"x\"}}",
         "protocol.private: not a field"},
        {"{\"protocol\": {\"type\": \"minionz\"}, \"call_params\": {\"task\": \"x\"}}",
         "protocol.type"},
        {"{\"local_client\": {\"type\": \"ollama\", \"kwargs\": {\"structured_output_schema\": "
         "{}}}, \"call_params\": {\"task\": \"x\"}}",
         "local_client.kwargs.structured_output_schema: not a field"},
        {"{\"local_client\": {\"port\": 70000}, \"call_params\": {\"task\": \"x\"}}",
         "local_client.port"},
        {"{\"remote_client\": {\"type\": \"openai\", \"kwargs\": {\"api_key\": \"sk-1\"}}, "
         "\"call_params\": {\"task\": \"x\"}}",
         "remote_client.kwargs.api_key: not a field"},
        {"{\"remote_client\": {\"type\": \"carrier-pigeon\"}, \"call_params\": {\"task\": "
         "\"x\"}}",
         "remote_client.type"},
    };
    e2e_out r;
    long before = 0;
    ms_buf b;
    ms_buf_init(&b, 1u << 26);
    if (e2e_file_read(E.sup.out, &b) == 0) {
        before = (long)b.len;
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pipe_request(&r, "bad.json", bad[i][0]);
        CHECK(r.code == 2);
        CHECK(has(&r.out, "\"success\":false") && has(&r.out, bad[i][1]));
        CHECK(!has(&r.out, "sk-1") && !has(&r.err, "sk-1"));
        e2e_out_free(&r);
    }
    ms_buf_clear(&b);
    CHECK(e2e_file_read(E.sup.out, &b) == 0 && (long)b.len == before); /* nothing contacted */
    ms_buf_free(&b);
    /* A cloud remote without the supervisor named anywhere: it says what to add. */
    char req[PATH_MAX];
    e2e_world_path(&W, req, "no-sup.json");
    CHECK(e2e_file_write(req, README_MINION) == 0);
    e2e_cmd cmd = CLI;
    cmd.stdin_path = req;
    e2e_world_runl(&W, &cmd, &r, "--stdin-json", NULL);
    CHECK(r.code == 2 && has(&r.out, "remote_client.type") && has(&r.out, "--supervisor_url"));
    e2e_out_free(&r);
}

/* The reference's secure CLI line in a pipe: no terminal to ask on, so it names what is
   missing; never "unknown option". */
static void test_cli_line_pipe(void)
{
    e2e_out r;
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", E.url, "--local_client_type", "ollama",
                   "--local_model", "llama3.2", "--max_rounds", "3", NULL);
    CHECK(r.code == 2);
    CHECK(has(&r.err, "--trusted_attestation_pem") && !has(&r.err, "unknown option"));
    e2e_out_free(&r);
    setenv("MINIONS_TRUSTED_ATTESTATION_PEM", W.devpub, 1);
    setenv("MINIONS_CACERT", W.ca, 1);
    e2e_world_runl(&W, &CLI, &r, "--supervisor_url", E.url, "--local_client_type", "ollama",
                   "--local_model", "llama3.2", "--max_rounds", "3", NULL);
    CHECK(r.code == 2);
    CHECK(has(&r.err, "dev-key pin from MINIONS_TRUSTED_ATTESTATION_PEM"));
    CHECK(has(&r.err, "--task is required") && has(&r.err, "standard input is a terminal"));
    e2e_out_free(&r);
    unsetenv("MINIONS_TRUSTED_ATTESTATION_PEM");
    unsetenv("MINIONS_CACERT");
}

static int wait_file(const char *path, const char *needle)
{
    for (int waited = 0; waited < 60000; waited += 50) {
        if (e2e_file_contains(path, needle)) {
            return 0;
        }
        e2e_sleep_ms(50);
    }
    return -1;
}

/* The same line on a terminal: it asks for the task, the documents and an attachment; a
   second run quits at the first prompt with `exit`. */
static void test_cli_line_tty(void)
{
    tmux t = {.dir = W.dir, .session = "ref", .wait_ms = 60000};
    char script[PATH_MAX], st1[PATH_MAX], st2[PATH_MAX], doc[PATH_MAX], memo[PATH_MAX],
        cmd[PATH_MAX + 8], body[8 * PATH_MAX];
    if (e2e_find_in_path("tmux", t.bin) != 0) {
        if (getenv("MS_E2E_NO_TTY")) {
            fprintf(stderr, "  SKIP test_cli_line_tty: no tmux and MS_E2E_NO_TTY is set\n");
        } else {
            TEST_FAIL_("tmux is not installed (set MS_E2E_NO_TTY=1 to skip knowingly)");
        }
        return;
    }
    e2e_world_path(&W, t.sock, "tmux.sock");
    e2e_world_path(&W, script, "ref-line.sh");
    e2e_world_path(&W, st1, "ref-line-1.status");
    e2e_world_path(&W, st2, "ref-line-2.status");
    e2e_world_path(&W, doc, "night.log");
    e2e_world_path(&W, memo, "memo.txt");
    CHECK(e2e_file_write(doc, DOC_SECRET "\n") == 0);
    CHECK(e2e_file_write(memo, ATTACH_SECRET "\n") == 0);
    const char *w = getenv("MS_RUN_WRAPPER");
    /* The reference's line verbatim; what it leaves out comes from the environment. */
    snprintf(body, sizeof body,
             "#!/bin/sh\nexport MINIONS_TRUSTED_ATTESTATION_PEM='%s' MINIONS_CACERT='%s' "
             "OLLAMA_HOST='127.0.0.1:%u' MINIONS_LOG_KEY='%s'\n"
             "%s '%s' --supervisor_url %s --local_client_type ollama --local_model llama3.2 "
             "--max_rounds 3\necho $? > '%s'\nclear\n"
             "%s '%s' --supervisor_url %s --local_client_type ollama --local_model llama3.2 "
             "--max_rounds 3\necho $? > '%s'\nsleep 300\n",
             W.devpub, W.ca, E.sim_w.port, W.logkey, w ? w : "", W.cli_bin, E.url, st1,
             w ? w : "", W.cli_bin, E.url, st2);
    CHECK(e2e_file_write(script, body) == 0);
    snprintf(cmd, sizeof cmd, "sh %s", script);
    CHECK(tmux_start(&t, cmd) == 0);
    CHECK(tmux_wait(&t, "Task (exit quits):") == 0);
    CHECK(tmux_line(&t, "marker-tty: which door did the badge open?") == 0);
    CHECK(tmux_wait(&t, "Document:") == 0);
    CHECK(tmux_line(&t, doc) == 0);
    CHECK(tmux_line(&t, "Typed note: the alarm stayed silent.") == 0); /* text, not a path */
    CHECK(tmux_line(&t, "") == 0);
    CHECK(tmux_wait(&t, "Attachment") == 0);
    CHECK(tmux_line(&t, memo) == 0);
    CHECK(wait_file(st1, "\n") == 0);
    CHECK(e2e_file_contains(st1, "0\n"));
    CHECK(e2e_file_contains(E.log_w, DOC_SECRET) && e2e_file_contains(E.log_w, ATTACH_SECRET));
    CHECK(e2e_file_contains(E.log_w, "Typed note: the alarm stayed silent."));
    CHECK(e2e_file_contains(E.log_a, "marker-tty"));
    CHECK(!e2e_file_contains(E.log_a, ATTACH_SECRET));
    /* the second run: `exit` at the first prompt, nothing sent anywhere */
    CHECK(tmux_wait(&t, "Task (exit quits):") == 0);
    ms_buf b;
    ms_buf_init(&b, 1u << 26);
    CHECK(e2e_file_read(E.sup.out, &b) == 0);
    size_t before = b.len;
    CHECK(tmux_line(&t, "exit") == 0);
    CHECK(wait_file(st2, "\n") == 0);
    CHECK(e2e_file_contains(st2, "0\n"));
    ms_buf_clear(&b);
    CHECK(e2e_file_read(E.sup.out, &b) == 0 && b.len == before);
    ms_buf_free(&b);
    tmux_stop(&t);
}

/* Chat: a line that is exactly exit, quit or clear is the command (the reference's habit). */
static void test_chat_habits(void)
{
    char in[PATH_MAX], log[PATH_MAX];
    e2e_out r;
    e2e_world_path(&W, in, "chat-in.txt");
    e2e_world_path(&W, log, "chat.ndjson");
    CHECK(e2e_file_write(in, "chat-one\nclear\nchat-two\nquit\nchat-never\n") == 0);
    e2e_cmd cmd = CLI;
    cmd.stdin_path = in;
    e2e_world_runl(&W, &cmd, &r, "chat", "--supervisor_url", E.url, "--trusted_attestation_pem",
                   W.devpub, "--cacert", W.ca, "--log-key", W.logkey, "--log", log, NULL);
    CHECK(r.code == 0);
    CHECK(has(&r.out, "Chat reply."));
    e2e_out_free(&r);
    CHECK(e2e_file_contains(E.log_a, "chat-two"));
    CHECK(!e2e_file_contains(E.log_a, "chat-never")); /* quit ended it */
    CHECK(!e2e_file_contains(E.log_a, "\"content\":\"clear\""));
    CHECK(!e2e_file_contains(E.log_a, "\"content\":\"quit\""));
    CHECK(e2e_file_contains(log, "\"command\":\"clear\""));
    /* /help says so */
    e2e_world_runl(&W, &CLI, &r, "chat", "--help", NULL);
    CHECK(r.code == 0 && has(&r.out, "exactly exit, quit or clear") &&
          has(&r.out, "--vm_launch_measurement_hashfile"));
    e2e_out_free(&r);
}

/* --vm_launch_measurement_hashfile: a SEV-SNP pin; with dev-key trust there is no SEV-SNP
   policy to pin it in, and a file that is not one measurement is refused. */
static void test_chat_hashfile(void)
{
    char good[PATH_MAX], bad[PATH_MAX], hex[97];
    e2e_out r;
    memset(hex, 'a', 96);
    hex[96] = '\0';
    e2e_world_path(&W, good, "launch.hash");
    e2e_world_path(&W, bad, "launch-bad.hash");
    CHECK(e2e_file_write(good, hex) == 0);
    CHECK(e2e_file_write(bad, "not hex\n") == 0);
    e2e_world_runl(&W, &CLI, &r, "chat", "--supervisor_url", E.url, "--trusted_attestation_pem",
                   W.devpub, "--cacert", W.ca, "--no-log", "--vm_launch_measurement_hashfile",
                   good, NULL);
    CHECK(r.code == 2 && has(&r.err, "--vm_launch_measurement_hashfile") &&
          has(&r.err, "accepts SEV-SNP evidence"));
    e2e_out_free(&r);
    e2e_world_runl(&W, &CLI, &r, "chat", "--supervisor_url", E.url, "--trusted_attestation_pem",
                   W.devpub, "--cacert", W.ca, "--no-log", "--vm_launch_measurement_hashfile",
                   bad, NULL);
    CHECK(r.code == 2 && has(&r.err, "96 hex digits"));
    e2e_out_free(&r);
}

/* minions-audit show --format reference-json, from the Minions run's log. */
static void test_audit_reference_json(void)
{
    e2e_out r;
    const e2e_cmd audit = {.bin = W.audit_bin};
    e2e_world_runl(&W, &audit, &r, "show", "--key", W.logpub, "--format", "reference-json",
                   E.ref_log, NULL);
    CHECK(r.code == 0);
    ms_json_doc *d = json_of(&r.out);
    ms_json_val o = ms_json_root(d), arr, v, u;
    size_t n;
    const char *s;
    CHECK(str_is(o, "task", TASK_MINIONS));
    CHECK(str_is(o, "generated_final_answer", A_MINIONS));
    CHECK_OK(ms_json_get_str(o, "session_id", 64, &s, &n));
    CHECK_OK(ms_json_get_arr(o, "conversation", 4096, &arr, &n));
    CHECK(n >= 3);
    CHECK(ms_json_arr_at(arr, 0, &v) == MS_OK && str_is(v, "user", "remote"));
    bool local = false;
    for (size_t i = 0; i < n; i++) {
        local = local || (ms_json_arr_at(arr, i, &v) == MS_OK && str_is(v, "user", "local") &&
                          str_is(v, "output", JOB_ANSWER));
    }
    CHECK(local);
    CHECK_OK(ms_json_get_obj(o, "usage", &u));
    CHECK_OK(ms_json_get_obj(u, "remote", &v));
    CHECK_OK(ms_json_get_obj(o, "timing", &v));
    CHECK(ms_json_get(o, "context", &v) != MS_OK); /* the log holds no context */
    ms_json_free(d);
    e2e_out_free(&r);
    /* Only from a verified log: one byte changed, nothing printed. */
    char copy[PATH_MAX];
    ms_buf b;
    ms_buf_init(&b, 1u << 26);
    e2e_world_path(&W, copy, "tampered.ndjson");
    CHECK(e2e_file_read(E.ref_log, &b) == 0);
    char *at = b.p ? strstr((char *)b.p, A_MINIONS) : NULL;
    CHECK(at != NULL);
    if (at) {
        at[0] = 'X';
        CHECK(e2e_file_write(copy, (const char *)b.p) == 0);
        e2e_world_runl(&W, &audit, &r, "show", "--key", W.logpub, "--format", "reference-json",
                       copy, NULL);
        CHECK(r.code == 1 && r.out.len == 0 && has(&r.err, "verifies as VALID"));
        e2e_out_free(&r);
    }
    ms_buf_free(&b);
}

static int setup(void)
{
    char sa[PATH_MAX], sw[PATH_MAX];
    if (e2e_world_home(&W) != 0 || e2e_world_devkey(&W, "dev-attestation.pem") != 0 ||
        e2e_world_logkey(&W, "log-key") != 0) {
        return -1;
    }
    e2e_world_path(&W, E.log_a, "engine-a.log");
    e2e_world_path(&W, E.log_w, "engine-w.log");
    e2e_world_path(&W, sa, "script-a.json");
    e2e_world_path(&W, sw, "script-w.json");
    if (e2e_file_write(sa, SUP_SCRIPT) != 0 || e2e_file_write(sw, WORKER_SCRIPT) != 0 ||
        e2e_world_sim(&W, &E.sim_a, &(e2e_sim_cfg){.script = sa, .log = E.log_a}) != 0 ||
        e2e_world_sim(&W, &E.sim_w, &(e2e_sim_cfg){.script = sw, .log = E.log_w}) != 0 ||
        e2e_world_sup(&W, &E.sup, &(e2e_sup_cfg){.backend_port = E.sim_a.port}) != 0) {
        return -1;
    }
    e2e_url(E.url, "https", E.sup.port);
    e2e_url(E.wurl, "http", E.sim_w.port);
    /* the reference's relative log_dir ("minion_logs") lands in the test's directory */
    return chdir(W.dir);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_compat_e2e",
                            E2E_SUP | E2E_SIM | E2E_CLI | E2E_AUDIT | E2E_SRC, argc, argv);
    W.wrapper_env = "MS_RUN_WRAPPER";
    if (rc != 0 || setup() != 0) {
        return e2e_world_close(&W, rc ? rc : 1);
    }
    RUN(test_readme_minion);
    RUN(test_readme_minions);
    RUN(test_readme_usage_examples);
    RUN(test_refusals);
    RUN(test_cli_line_pipe);
    RUN(test_cli_line_tty);
    RUN(test_chat_habits);
    RUN(test_chat_hashfile);
    RUN(test_audit_reference_json);
    CHECK(e2e_stop_all(&E.sup, &E.sim_a, &E.sim_w, NULL) == 0);
    return e2e_world_close(&W, TEST_SUMMARY());
}

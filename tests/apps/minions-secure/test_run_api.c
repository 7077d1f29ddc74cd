/*
 * serve's Minions API without the network: context paths only under --context-root
 * (realpath containment, symbolic links out refused), uploads read in memory (text and
 * PDF), the request's fields that stay the operator's, and the reply of a refused request.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/json.h"
#include "apps/minions-secure/run_api.h"
#include "tests/fixture/pdf.h"
#include "tests/test.h"

static char g_dir[PATH_MAX], g_root[PATH_MAX], g_out[PATH_MAX];
static ms_cli_conn g_conn;
static ms_run_api_cfg g_cfg;

static void path(char out[static PATH_MAX], const char *rel)
{
    CHECK(snprintf(out, PATH_MAX, "%s/%s", g_dir, rel) < PATH_MAX);
}

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX];
    path(p, rel);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* <dir>/root/{a.txt, sub/b.md, in-link -> a.txt, out-link -> ../out/secret.txt,
   out-dir -> ../out}, <dir>/out/secret.txt, <dir>/root-evil/c.txt */
static void setup(void)
{
    char p[PATH_MAX], t[PATH_MAX];
    snprintf(g_dir, sizeof g_dir, "%s/ms-run-api.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(g_dir) != NULL);
    path(g_root, "root");
    path(g_out, "out");
    CHECK(mkdir(g_root, 0700) == 0 && mkdir(g_out, 0700) == 0);
    path(p, "root/sub");
    CHECK(mkdir(p, 0700) == 0);
    path(p, "root-evil");
    CHECK(mkdir(p, 0700) == 0);
    put("root/a.txt", "alpha document\n");
    put("root/sub/b.md", "# beta\n");
    put("out/secret.txt", "the secret outside the root\n");
    put("root-evil/c.txt", "next door\n");
    path(p, "root/in-link");
    CHECK(symlink("a.txt", p) == 0);
    path(p, "root/out-link");
    CHECK(symlink("../out/secret.txt", p) == 0);
    path(p, "root/out-dir");
    path(t, "out");
    CHECK(symlink(t, p) == 0);
    ms_cli_conn_init(&g_conn);
    g_conn.url = "https://127.0.0.1:1";
    g_conn.pin_file = "/nonexistent/dev.pub";
    memset(&g_cfg, 0, sizeof g_cfg);
    g_cfg.conn = &g_conn;
    g_cfg.roots[0] = g_root;
    g_cfg.n_roots = 1;
    g_cfg.logo.off = 1;
}

static void cleanup(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    CHECK(system(cmd) == 0);
}

static ms_err resolve(const char *p)
{
    char out[PATH_MAX];
    ms_err e = ms_run_api_resolve(&g_cfg, p, out);
    if (e == MS_OK) {
        CHECK(strncmp(out, g_dir, strlen(g_dir)) == 0 || strstr(out, "/root") != NULL);
    } else {
        CHECK(out[0] == '\0');
    }
    return e;
}

static void test_resolve(void)
{
    char p[PATH_MAX];
    CHECK(resolve("a.txt") == MS_OK); /* relative: under the first root */
    CHECK(resolve("sub/b.md") == MS_OK);
    CHECK(resolve("sub") == MS_OK);
    CHECK(resolve("in-link") == MS_OK); /* a link that stays inside */
    path(p, "root/a.txt");
    CHECK(resolve(p) == MS_OK);
    CHECK(resolve(g_root) == MS_OK);
    /* out of the root, every way */
    CHECK(resolve("../out/secret.txt") == MS_ERR_SERVE_CONTEXT_ROOT);
    CHECK(resolve("sub/../../out/secret.txt") == MS_ERR_SERVE_CONTEXT_ROOT);
    CHECK(resolve("out-link") == MS_ERR_SERVE_CONTEXT_ROOT);
    CHECK(resolve("out-dir/secret.txt") == MS_ERR_SERVE_CONTEXT_ROOT);
    CHECK(resolve("out-dir") == MS_ERR_SERVE_CONTEXT_ROOT);
    path(p, "out/secret.txt");
    CHECK(resolve(p) == MS_ERR_SERVE_CONTEXT_ROOT);
    path(p, "root-evil/c.txt"); /* a name that starts with the root's is not inside it */
    CHECK(resolve(p) == MS_ERR_SERVE_CONTEXT_ROOT);
    CHECK(resolve("/etc/passwd") == MS_ERR_SERVE_CONTEXT_ROOT);
    CHECK(resolve("missing.txt") == MS_ERR_SERVE_CONTEXT_ROOT); /* as outside: nothing leaks */
    CHECK(resolve("") == MS_ERR_ARG);
    /* a relative path too long to join to the root: refused, never cut short ("./" repeated
       would otherwise resolve to the root itself) */
    static char lng[PATH_MAX + 200];
    for (size_t len = strlen(g_root) + 1, i = 0; len < PATH_MAX; len++, i++) {
        lng[i] = i % 2 ? '/' : '.'; /* root + '/' + this: exactly PATH_MAX bytes */
        lng[i + 1] = '\0';
    }
    CHECK(strlen(g_root) + 1 + strlen(lng) == PATH_MAX);
    CHECK(resolve(lng) == MS_ERR_SERVE_CONTEXT_ROOT);
    memset(lng + strlen(lng), '/', 150);
    lng[PATH_MAX + 100] = '\0';
    CHECK(resolve(lng) == MS_ERR_SERVE_CONTEXT_ROOT);
    /* a second root; none at all */
    g_cfg.roots[1] = g_out;
    g_cfg.n_roots = 2;
    CHECK(resolve("out-link") == MS_OK);
    g_cfg.n_roots = 0;
    CHECK(resolve("a.txt") == MS_ERR_SERVE_NO_CONTEXT_ROOT);
    g_cfg.n_roots = 1;
}

/* Parse `body`; code, and the documents' names joined by '|' into names. */
static int parse(const char *body, bool *stream, char *names, size_t cap, char *why,
                 size_t why_cap)
{
    static ms_run r;
    ms_run_init(&r);
    int code = ms_run_api_parse(&g_cfg, body, strlen(body), &r, stream, why, why_cap);
    names[0] = '\0';
    for (size_t i = 0; i < r.ctx.n; i++) {
        size_t n = strlen(names);
        snprintf(names + n, cap - n, "%s%s", i ? "|" : "", r.ctx.docs[i].name);
    }
    if (code == MS_CLI_OK) {
        CHECK(r.o.n_contexts == 0 && r.o.n_stdin_texts == 0); /* all read already */
        CHECK(r.o.stdin_json && r.o.logo.no_signal_guard);
        CHECK(r.o.conn.url == g_conn.url); /* the operator's supervisor */
    }
    ms_run_free(&r);
    return code;
}

static int refused(const char *body, const char *why_has)
{
    char names[1024], why[1024];
    bool st;
    int code = parse(body, &st, names, sizeof names, why, sizeof why);
    if (code != MS_CLI_USAGE || !strstr(why, why_has)) {
        fprintf(stderr, "  expected a refusal with '%s': code %d, why '%s'\n", why_has, code, why);
        return 0;
    }
    return 1;
}

static void test_documents(void)
{
    char names[1024], why[1024], body[8192], b64[4096];
    bool stream = true;
    size_t n;
    ms_buf pdf;
    ms_buf_init(&pdf, 4096);
    CHECK(e2e_pdf_one_page(&pdf, "Badge 4471 was cloned in the car park.") == 0);
    CHECK(ms_base64_encode(pdf.p, pdf.len, b64, sizeof b64, &n) == MS_OK);
    snprintf(body, sizeof body,
             "{\"call_params\": {\"task\": \"Who?\", \"context\": [\"inline text\"], "
             "\"context_paths\": [\"a.txt\", \"sub\"]}, \"protocol\": \"minions\", "
             "\"stream\": true, \"uploads\": [{\"name\": \"notes.md\", \"text\": \"# notes\"}, "
             "{\"name\": \"report.pdf\", \"data\": \"%s\"}, {\"name\": \"plain.txt\", "
             "\"data\": \"aGVsbG8K\"}]}",
             b64);
    CHECK(parse(body, &stream, names, sizeof names, why, sizeof why) == MS_CLI_OK);
    CHECK(stream);
    CHECK(strstr(names, "context[0]|") == names);
    CHECK(strstr(names, "/root/a.txt|") != NULL);
    CHECK(strstr(names, "/root/sub/b.md|") != NULL);
    CHECK(strstr(names, "upload:notes.md|upload:report.pdf|upload:plain.txt") != NULL);
    CHECK(strstr(names, "in-link") == NULL && strstr(names, "secret") == NULL); /* links skipped */
    /* the PDF's text, read in memory */
    static ms_run r;
    ms_run_init(&r);
    CHECK(ms_run_api_parse(&g_cfg, body, strlen(body), &r, &stream, why, sizeof why) == MS_CLI_OK);
    int found = 0;
    for (size_t i = 0; i < r.ctx.n; i++) {
        if (r.ctx.docs[i].kind == MS_DOC_PDF && r.ctx.docs[i].pages == 1 &&
            strstr(r.ctx.docs[i].text, "Badge 4471")) {
            found = 1;
        }
    }
    CHECK(found);
    CHECK(r.o.protocol == MS_RUN_MINIONS);
    ms_run_free(&r);
    CHECK(parse("{\"call_params\": {\"task\": \"t\"}}", &stream, names, sizeof names, why,
                sizeof why) == MS_CLI_OK);
    CHECK(!stream && names[0] == '\0');
    ms_buf_free(&pdf);
}

static void test_refused(void)
{
    /* paths out of the roots */
    CHECK(refused("{\"call_params\": {\"task\": \"t\", \"context_paths\": [\"../out/secret.txt\"]}}",
                  "inside a folder the operator allowed"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\", \"context_paths\": [\"out-link\"]}}",
                  "context_paths[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\", \"context_paths\": [\"/etc/passwd\"]}}",
                  "--context-root"));
    g_cfg.n_roots = 0;
    CHECK(refused("{\"call_params\": {\"task\": \"t\", \"context_paths\": [\"a.txt\"]}}",
                  "without --context-root"));
    g_cfg.n_roots = 1;
    /* the operator's fields */
    CHECK(refused("{\"remote_client\": {\"supervisor_url\": \"https://evil.example\"}, "
                  "\"call_params\": {\"task\": \"t\"}}",
                  "remote_client.supervisor_url"));
    CHECK(refused("{\"remote_client\": {\"trusted_attestation_pem\": \"/tmp/x.pub\"}, "
                  "\"call_params\": {\"task\": \"t\"}}",
                  "remote_client.trusted_attestation_pem"));
    CHECK(refused("{\"remote_client\": {\"attestation_policy\": \"/tmp/p.json\"}, "
                  "\"call_params\": {\"task\": \"t\"}}",
                  "remote_client.attestation_policy"));
    CHECK(refused("{\"remote_client\": {\"cacert\": \"/tmp/ca.pem\"}, \"call_params\": "
                  "{\"task\": \"t\"}}",
                  "remote_client.cacert"));
    CHECK(refused("{\"remote_client\": {\"allow_http\": true}, \"call_params\": {\"task\": \"t\"}}",
                  "remote_client.allow_http"));
    CHECK(refused("{\"protocol\": {\"type\": \"minion\", \"log_dir\": \"/tmp\"}, "
                  "\"call_params\": {\"task\": \"t\"}}",
                  "protocol.log_dir"));
    /* the operator's own values are fine */
    char names[256], why[512], body[512];
    bool st;
    snprintf(body, sizeof body,
             "{\"remote_client\": {\"type\": \"secure\", \"supervisor_url\": \"%s\", "
             "\"trusted_attestation_pem\": \"%s\", \"allow_http\": false}, "
             "\"call_params\": {\"task\": \"t\"}}",
             g_conn.url, g_conn.pin_file);
    CHECK(parse(body, &st, names, sizeof names, why, sizeof why) == MS_CLI_OK);
    /* uploads */
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": {}}", "uploads"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [7]}", "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a/b.txt\", "
                  "\"text\": \"x\"}]}",
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"..\", "
                  "\"text\": \"x\"}]}",
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a\\u0001\", "
                  "\"text\": \"x\"}]}",
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"\", "
                  "\"text\": \"x\"}]}",
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a.txt\"}]}",
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a.txt\", "
                  "\"text\": \"x\", \"data\": \"eA==\"}]}",
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a.txt\", "
                  "\"data\": \"not base64!\"}]}",
                  "uploads[0].data"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a.txt\", "
                  "\"data\": \"/w==\"}]}", /* 0xFF: not UTF-8 */
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a.pdf\", "
                  "\"data\": \"aGVsbG8K\"}]}", /* not a PDF */
                  "uploads[0]"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a.pdf\", "
                  "\"text\": \"x\"}]}",
                  "base64"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uploads\": [{\"name\": \"a.txt\", "
                  "\"text\": \"x\", \"path\": \"/etc/passwd\"}]}",
                  "a field other than"));
    /* the rest is run --stdin-json's parser */
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"stream\": 1}", "stream"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\"}, \"uplaods\": []}", "uplaods"));
    CHECK(refused("[]", "JSON object"));
    CHECK(refused("{\"call_params\": {\"task\": \"t\", \"is_privacy\": true}}", "is_privacy"));
    CHECK(refused("{", "the request"));
}

/* A refused request: run's JSON answer with the reason, HTTP 400, nothing streamed. */
typedef struct seen {
    int events;
} seen;

static void on_event(void *ctx, const char *event, const char *data, size_t len)
{
    (void)event, (void)data, (void)len;
    ((seen *)ctx)->events++;
}

static void test_reply(void)
{
    const char *body = "{\"call_params\": {\"task\": \"t\", \"context_paths\": [\"out-link\"]}, "
                       "\"stream\": true}";
    ms_run_api_reply rep;
    seen s = {0};
    ms_json_doc *doc = NULL;
    ms_run_api_reply_init(&rep);
    CHECK(ms_run_api_run(&g_cfg, body, strlen(body), on_event, &s, &rep) == MS_CLI_USAGE);
    CHECK(rep.http_status == 400 && rep.code == MS_CLI_USAGE);
    CHECK(rep.streamed && s.events == 1); /* the result alone */
    CHECK(ms_json_parse((const char *)rep.body.p, rep.body.len, &doc) == MS_OK);
    if (doc) {
        ms_json_val root = ms_json_root(doc), v;
        bool ok = true;
        const char *err;
        size_t n;
        int64_t code;
        CHECK(ms_json_get_bool(root, "success", &ok) == MS_OK && !ok);
        CHECK(ms_json_get(root, "result", &v) == MS_OK && ms_json_type_of(v) == MS_JSON_NULL);
        CHECK(ms_json_get_str(root, "error", 1024, &err, &n) == MS_OK &&
              strstr(err, "context_paths[0]") && !strstr(err, "secret"));
        CHECK(ms_json_get_i64(root, "exit_code", 0, 255, &code) == MS_OK && code == 2);
    }
    ms_json_free(doc);
    ms_run_api_reply_free(&rep);
}

/* POST /v1/minions/documents: one upload's text, or an OpenAI-style error. */
static void test_extract(void)
{
    char body[8192], b64[4096];
    size_t n;
    ms_buf pdf, out;
    ms_buf_init(&pdf, 4096);
    ms_buf_init(&out, 1u << 20);
    CHECK(e2e_pdf_one_page(&pdf, "Minutes of the meeting.") == 0);
    CHECK(ms_base64_encode(pdf.p, pdf.len, b64, sizeof b64, &n) == MS_OK);
    snprintf(body, sizeof body, "{\"name\": \"m.pdf\", \"data\": \"%s\"}", b64);
    CHECK(ms_run_api_extract(body, strlen(body), &out) == 200);
    CHECK(ms_buf_terminate(&out) == MS_OK);
    CHECK(strstr((const char *)out.p, "\"name\":\"m.pdf\"") != NULL);
    CHECK(strstr((const char *)out.p, "\"kind\":\"PDF\"") != NULL);
    CHECK(strstr((const char *)out.p, "\"pages\":1") != NULL);
    CHECK(strstr((const char *)out.p, "Minutes of the meeting.") != NULL);
    const char *bad[] = {"{", "[]", "{\"name\": \"m.pdf\", \"data\": \"aGVsbG8K\"}",
                         "{\"name\": \"../m.txt\", \"text\": \"x\"}", "{\"name\": \"m.txt\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms_buf_clear(&out);
        CHECK(ms_run_api_extract(bad[i], strlen(bad[i]), &out) == 400);
        CHECK(ms_buf_terminate(&out) == MS_OK &&
              strstr((const char *)out.p, "\"code\":\"invalid_document\"") != NULL);
    }
    ms_buf_free(&out);
    ms_buf_free(&pdf);
}

int main(void)
{
    setup();
    RUN(test_resolve);
    RUN(test_documents);
    RUN(test_refused);
    RUN(test_reply);
    RUN(test_extract);
    cleanup();
    ms_cli_conn_free(&g_conn);
    return TEST_SUMMARY();
}

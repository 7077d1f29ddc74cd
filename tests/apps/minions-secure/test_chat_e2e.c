/*
 * End-to-end tests of minions-secure chat: a real minions-supervisor (dev key, HTTPS),
 * llm-sim and the chat, driven from a pipe (a FIFO, line by line) and from a terminal
 * (tmux). What reached the engine is read from llm-sim's request log.
 *
 * Usage: test_chat_e2e SUPERVISOR LLM-SIM MINIONS-SECURE SOURCE-DIR
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "common/codec.h"
#include "common/limits.h"
#include "common/llm/chat.h"
#include "common/llm/ollama.h"
#include "common/http.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"
#include "tests/apps/minions-secure/chat_fixture.h"
#include "tests/fixture/stack.h"
#include "tests/fixture/tmux.h"
#include "tests/test.h"

#define WAIT_MS 60000
#define END_MS 60000

#define STORY                                                                                  \
    "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 " \
    "w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 w39 w40 w41 w42 w43 w44 w45 w46"

static const char SCRIPT[] =
    "{\"rules\": [\n"
    "  {\"contains\": \"alpha\", \"reply\": \"Answer alpha.\"},\n"
    "  {\"contains\": \"beta\", \"reply\": \"Answer beta.\"},\n"
    "  {\"contains\": \"gamma\", \"reply\": \"Answer gamma.\"},\n"
    "  {\"contains\": \"cut me\", \"reply\": \"one two three four five six seven eight\","
    " \"stream_fail_after\": 3},\n"
    "  {\"contains\": \"slow story\", \"reply\": \"" STORY "\"},\n"
    "  {\"contains\": \"think forever\", \"reply\": \"<think>still reasoning\","
    " \"finish_reason\": \"length\"},\n"
    /* replies that would drive a terminal: ESC and OSC, C1 controls as UTF-8, bidi */
    "  {\"contains\": \"hostile run\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"Run: \\\\u001b[1m\\\\u0085 "
    "\\\\u202dend\\\"}\"},\n"
    "  {\"contains\": \"hostile ask\", \"reply\": \"Ask: \\u001b[2J\\u009d0;t\\u0007 "
    "\\u2066x\\u2069 end\"},\n"
    "  {\"contains\": \"hostile\", \"reply\": \"Look: \\u001b]0;pwned\\u0007 \\u009b2J "
    "\\u202etxt.exe done\"}\n"
    "], \"default\": \"I do not know.\"}\n";

static e2e_server SIM, SUP;

/* --- helpers ------------------------------------------------------------------------------- */

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(p, 1, n, f) == n);
    if (f) {
        CHECK(fclose(f) == 0);
    }
}

/* A one-page PDF whose text is `text` (Helvetica), with a correct cross-reference table. */
static void write_pdf(const char *path, const char *text)
{
    char obj[5][256], content[160], out[4096];
    size_t off[6], len = 0;
    int cl = snprintf(content, sizeof content, "BT /F1 18 Tf 20 80 Td (%s) Tj ET\n", text);
    snprintf(obj[0], sizeof obj[0], "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    snprintf(obj[1], sizeof obj[1], "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
    snprintf(obj[2], sizeof obj[2],
             "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R "
             "/Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n");
    snprintf(obj[3], sizeof obj[3], "4 0 obj\n<< /Length %d >>\nstream\n%sendstream\nendobj\n",
             cl, content);
    snprintf(obj[4], sizeof obj[4],
             "5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
    len = (size_t)snprintf(out, sizeof out, "%%PDF-1.4\n");
    for (int i = 0; i < 5; i++) {
        off[i] = len;
        len += (size_t)snprintf(out + len, sizeof out - len, "%s", obj[i]);
    }
    off[5] = len;
    len += (size_t)snprintf(out + len, sizeof out - len, "xref\n0 6\n0000000000 65535 f \n");
    for (int i = 0; i < 5; i++) {
        len += (size_t)snprintf(out + len, sizeof out - len, "%010zu 00000 n \n", off[i]);
    }
    len += (size_t)snprintf(out + len, sizeof out - len,
                            "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", off[5]);
    write_bytes(path, out, len);
}

/* Request i (negative: from the end) of the current llm-sim: its messages. */
typedef struct req {
    ms_json_doc *doc;
    ms_json_val body, msgs;
    size_t n;
} req;

static int req_get(const char *log, int i, req *r)
{
    memset(r, 0, sizeof *r);
    int count = chat_reqs_count(log);
    if (i < 0) {
        i += count;
    }
    if (i < 0 || chat_req_get(log, i, &r->doc, &r->body) != 0) {
        fprintf(stderr, "  (no request %d in %s: %d there)\n", i, log, count);
        return -1;
    }
    r->n = chat_msgs(r->body, &r->msgs);
    return 0;
}

static int msg_is(const req *r, size_t i, const char *role, const char *text)
{
    int ok = i < r->n && strcmp(chat_msg_role(r->msgs, i), role) == 0 &&
             strcmp(chat_msg_text(r->msgs, i), text) == 0;
    if (!ok) {
        fprintf(stderr, "  (message %zu: want %s \"%s\", have %s \"%.80s\")\n", i, role, text,
                chat_msg_role(r->msgs, i), chat_msg_text(r->msgs, i));
    }
    return ok;
}

static int msg_has(const req *r, size_t i, const char *needle)
{
    return i < r->n && strstr(chat_msg_text(r->msgs, i), needle) != NULL;
}

static void path_in(char out[static PATH_MAX], const char *name)
{
    e2e_path(out, "%s/%s", CE.dir, name);
}

static int file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* Start a chat with `extra`, send `lines`, end it; its exit status. */
static int chat_lines(cchat *c, const char *const *extra, const char *const *lines)
{
    if (cchat_start(c, SUP.port, extra) != 0) {
        CHECK(!"chat start");
        return -1;
    }
    for (size_t i = 0; lines[i]; i++) {
        CHECK(cchat_send(c, lines[i]) == 0);
    }
    return cchat_end(c, END_MS);
}

/* --- the tests ---------------------------------------------------------------------------- */

/* From a pipe: three turns, replies on stdout in order, the history sent whole each time. */
static void test_pipe_turns(void)
{
    cchat c;
    req r;
    ms_buf out, err;
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, NULL, (const char *const[]){"alpha one", "beta two", "gamma three", NULL});
    CHECK(code == 0);
    cchat_read(c.out, &out);
    cchat_read(c.err, &err);
    CHECK(buf_contains(&out, "Answer alpha.\nAnswer beta.\nAnswer gamma.\n"));
    CHECK(!buf_contains(&out, "you>")); /* no prompt from a pipe */
    CHECK(buf_contains(&err, "verified: dev-key evidence"));
    CHECK(chat_reqs_count(SIM.log) == before + 3);
    if (req_get(SIM.log, -1, &r) == 0) {
        CHECK(r.n == 5);
        CHECK(msg_is(&r, 0, "user", "alpha one") && msg_is(&r, 1, "assistant", "Answer alpha."));
        CHECK(msg_is(&r, 2, "user", "beta two") && msg_is(&r, 3, "assistant", "Answer beta."));
        CHECK(msg_is(&r, 4, "user", "gamma three"));
    }
    ms_json_free(r.doc);
    ms_buf_free(&out);
    ms_buf_free(&err);
}

/* /system sets the first message; /clear empties the conversation; //x sends "/x". */
static void test_clear_system(void)
{
    cchat c;
    req r;
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, NULL,
                          (const char *const[]){"/system Be brief.", "alpha", "/clear", "beta",
                                                "/system", "/clear", "//gamma slash", NULL});
    CHECK(code == 0);
    CHECK(chat_reqs_count(SIM.log) == before + 3);
    if (req_get(SIM.log, before, &r) == 0) {
        CHECK(r.n == 2 && msg_is(&r, 0, "system", "Be brief.") && msg_is(&r, 1, "user", "alpha"));
        ms_json_free(r.doc);
    }
    if (req_get(SIM.log, before + 1, &r) == 0) { /* after /clear: the system message stays */
        CHECK(r.n == 2 && msg_is(&r, 0, "system", "Be brief.") && msg_is(&r, 1, "user", "beta"));
        ms_json_free(r.doc);
    }
    if (req_get(SIM.log, before + 2, &r) == 0) { /* /system alone removed it: one message */
        CHECK(r.n == 1 && msg_is(&r, 0, "user", "/gamma slash"));
        ms_json_free(r.doc);
    }
}

/* /attach of markdown, of a PDF and of a directory: the text goes into the next message. */
static void test_attach(void)
{
    cchat c;
    req r;
    ms_buf err;
    char md[PATH_MAX], pdf[PATH_MAX], dir[PATH_MAX], dmd[PATH_MAX], l1[PATH_MAX + 16],
        l2[PATH_MAX + 16], l3[PATH_MAX + 16], l4[PATH_MAX + 32];
    path_in(md, "notes.md");
    path_in(pdf, "figures.pdf");
    path_in(dir, "docs");
    e2e_path(dmd, "%s/readme.txt", dir);
    CHECK(e2e_file_write(md, "# Notes\n\nThe codeword is PINEAPPLE.\n") == 0);
    write_pdf(pdf, "Quarterly figures ZEBRA");
    CHECK(mkdir(dir, 0700) == 0 && e2e_file_write(dmd, "Directory text KIWI.\n") == 0);
    snprintf(l1, sizeof l1, "/attach %s", md);
    snprintf(l2, sizeof l2, "/attach %s", pdf);
    snprintf(l3, sizeof l3, "/attach %s", dir);
    snprintf(l4, sizeof l4, "/attach %s/missing.md", CE.dir);
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, NULL,
                          (const char *const[]){l1, "alpha: what is the codeword?", l2, l3,
                                                "beta: and the figures?", l4, NULL});
    CHECK(code == 2); /* the missing file was the last failure */
    cchat_read(c.err, &err);
    CHECK(buf_contains(&err, "attached "));
    CHECK(buf_contains(&err, "bytes of text go with your next message"));
    CHECK(buf_contains(&err, "missing.md"));
    CHECK(chat_reqs_count(SIM.log) == before + 2);
    if (req_get(SIM.log, before, &r) == 0) {
        CHECK(r.n == 1 && msg_has(&r, 0, "PINEAPPLE") && msg_has(&r, 0, "alpha: what is the codeword?"));
        CHECK(msg_has(&r, 0, "=== FILE"));
        ms_json_free(r.doc);
    }
    if (req_get(SIM.log, before + 1, &r) == 0) {
        CHECK(r.n == 3 && msg_has(&r, 0, "PINEAPPLE")); /* history keeps what was sent */
        CHECK(msg_has(&r, 2, "ZEBRA") && msg_has(&r, 2, "KIWI") && !msg_has(&r, 2, "PINEAPPLE"));
        CHECK(msg_has(&r, 2, "beta: and the figures?"));
        ms_json_free(r.doc);
    }
    ms_buf_free(&err);
}

/* /image: an image part reaches the engine, and stays in the conversation; non-images refused. */
static void test_image(void)
{
    cchat c;
    req r;
    ms_buf err;
    char png[PATH_MAX], txt[PATH_MAX], l1[PATH_MAX + 16], l2[PATH_MAX + 16], b64[256], url[300];
    size_t n;
    path_in(png, "pic.png");
    path_in(txt, "not-an-image.png");
    write_bytes(png, e2e_png_1x1, e2e_png_1x1_len);
    CHECK(e2e_file_write(txt, "just text\n") == 0);
    CHECK_OK(ms_base64_encode(e2e_png_1x1, e2e_png_1x1_len, b64, sizeof b64, &n));
    snprintf(url, sizeof url, "data:image/png;base64,%s", b64);
    snprintf(l1, sizeof l1, "/image %s", png);
    snprintf(l2, sizeof l2, "/image %s", txt);
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, NULL, (const char *const[]){l1, "alpha: describe it", "gamma", l2, NULL});
    CHECK(code == 2);
    cchat_read(c.err, &err);
    CHECK(buf_contains(&err, "(image/png, 67 bytes) goes with your next message"));
    CHECK(buf_contains(&err, "not a PNG, JPEG, WebP or GIF image"));
    ms_buf_free(&err);
    CHECK(chat_reqs_count(SIM.log) == before + 2);
    for (int k = 0; k < 2; k++) {
        if (req_get(SIM.log, before + k, &r) != 0) {
            continue;
        }
        ms_json_val m, parts, p, iu;
        const char *type, *u;
        size_t np, len;
        CHECK(ms_json_arr_at(r.msgs, 0, &m) == MS_OK);
        CHECK(ms_json_get_arr(m, "content", 16, &parts, &np) == MS_OK && np == 2);
        CHECK(ms_json_arr_at(parts, 1, &p) == MS_OK);
        CHECK(ms_json_get_str(p, "type", 32, &type, &len) == MS_OK && strcmp(type, "image_url") == 0);
        CHECK(ms_json_get_obj(p, "image_url", &iu) == MS_OK);
        CHECK(ms_json_get_str(iu, "url", 4096, &u, &len) == MS_OK && strcmp(u, url) == 0);
        CHECK(msg_is(&r, 0, "user", "alpha: describe it"));
        ms_json_free(r.doc);
    }
}

/* /save: markdown and JSON, 0600, never over an existing file unless --force. */
static void test_save(void)
{
    cchat c;
    ms_buf err, f;
    char md[PATH_MAX], js[PATH_MAX], l1[PATH_MAX + 16], l2[PATH_MAX + 16], l3[PATH_MAX + 24];
    path_in(md, "transcript.md");
    path_in(js, "transcript.json");
    snprintf(l1, sizeof l1, "/save %s", md);
    snprintf(l2, sizeof l2, "/save %s", js);
    snprintf(l3, sizeof l3, "/save --force %s", md);
    int code = chat_lines(&c, NULL,
                          (const char *const[]){"/system Be brief.", "alpha", l1, l2, l1, "beta", l3, NULL});
    CHECK(code == 2); /* the second /save of the same file was refused */
    cchat_read(c.err, &err);
    CHECK(buf_contains(&err, "the file exists"));
    ms_buf_free(&err);
    CHECK(file_mode(md) == 0600 && file_mode(js) == 0600);
    cchat_read(md, &f);
    CHECK(buf_contains(&f, "## system\n\nBe brief.\n"));
    CHECK(buf_contains(&f, "## user\n\nalpha\n") && buf_contains(&f, "## assistant\n\nAnswer alpha.\n"));
    CHECK(buf_contains(&f, "## assistant\n\nAnswer beta.\n")); /* --force wrote the later one */
    ms_buf_free(&f);
    cchat_read(js, &f);
    ms_json_doc *doc = NULL;
    ms_json_val arr;
    size_t n = 0;
    CHECK_OK(ms_json_parse((const char *)f.p, f.len, &doc));
    CHECK(ms_json_get_arr(ms_json_root(doc), "messages", 16, &arr, &n) == MS_OK && n == 3);
    CHECK(strcmp(chat_msg_role(arr, 0), "system") == 0);
    CHECK(strcmp(chat_msg_text(arr, 2), "Answer alpha.") == 0);
    ms_json_free(doc);
    ms_buf_free(&f);
}

/* A stream the engine cuts (stream_fail_after): shown, said INCOMPLETE, not in the history. */
static void test_cut_rule(void)
{
    cchat c;
    req r;
    ms_buf out, err;
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, NULL, (const char *const[]){"cut me please", "alpha after the cut", NULL});
    CHECK(code == 6);
    cchat_read(c.out, &out);
    cchat_read(c.err, &err);
    CHECK(buf_contains(&out, "one two three"));
    CHECK(buf_contains(&out, "Answer alpha."));
    CHECK(buf_contains(&err, "the reply was cut") && buf_contains(&err, "INCOMPLETE"));
    CHECK(buf_contains(&err, "this turn is not in the conversation"));
    CHECK(chat_reqs_count(SIM.log) == before + 2);
    if (req_get(SIM.log, -1, &r) == 0) {
        CHECK(r.n == 1 && msg_is(&r, 0, "user", "alpha after the cut"));
        ms_json_free(r.doc);
    }
    ms_buf_free(&out);
    ms_buf_free(&err);
}

/*
 * The engine stops at its token limit (finish_reason "length"): shown, said INCOMPLETE (and
 * unfinished reasoning when a <think> never closed), not in the history, exit status 9.
 */
static void test_limit(void)
{
    cchat c;
    req r;
    ms_buf out, err;
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, NULL,
                          (const char *const[]){"think forever please", "alpha after the limit", NULL});
    CHECK(code == 9);
    cchat_read(c.out, &out);
    cchat_read(c.err, &err);
    CHECK(buf_contains(&out, "<think>still reasoning") && buf_contains(&out, "Answer alpha."));
    CHECK(buf_contains(&err, "token limit") && buf_contains(&err, "INCOMPLETE"));
    CHECK(buf_contains(&err, "unfinished reasoning; the model gave no answer"));
    CHECK(buf_contains(&err, "this turn is not in the conversation"));
    CHECK(chat_reqs_count(SIM.log) == before + 2);
    if (req_get(SIM.log, -1, &r) == 0) { /* the fragment is not in the history */
        CHECK(r.n == 1 && msg_is(&r, 0, "user", "alpha after the limit"));
        ms_json_free(r.doc);
    }
    ms_buf_free(&out);
    ms_buf_free(&err);

    /* --max-tokens: the engine cuts a plain answer the same way */
    code = chat_lines(&c, (const char *const[]){"--max-tokens", "1", NULL},
                      (const char *const[]){"alpha", NULL});
    CHECK(code == 9);
    cchat_read(c.out, &out);
    cchat_read(c.err, &err);
    CHECK(buf_contains(&out, "Answer") && !buf_contains(&out, "Answer alpha."));
    CHECK(buf_contains(&err, "INCOMPLETE") && !buf_contains(&err, "reasoning"));
    ms_buf_free(&out);
    ms_buf_free(&err);
}

/* The engine process killed while a paced reply streams; a new engine on the same port. */
static void test_cut_killed(void)
{
    cchat c;
    e2e_server slow;
    req r;
    ms_buf err;
    e2e_server v;
    if (e2e_world_sim(&CE, &slow, &(e2e_sim_cfg){.record = 1, .extra = {"--tokens-per-sec", "4"}}) != 0 || e2e_world_sup(&CE, &v, &(e2e_sup_cfg){.backend_port = slow.port}) != 0 ||
        cchat_start(&c, v.port, NULL) != 0) {
        CHECK(!"start");
        CHECK(e2e_server_stop(&slow, E2E_STOP_GRACE_MS) == 0);
        return;
    }
    unsigned sim_port = slow.port;
    CHECK(cchat_send(&c, "slow story please") == 0);
    CHECK(cchat_wait_out(&c, "w1 w2", WAIT_MS) == 0);
    CHECK(kill(slow.p.pid, SIGKILL) == 0);
    CHECK(e2e_proc_stop(&slow.p, 1000) == 128 + SIGKILL);
    CHECK(cchat_wait_err(&c, "INCOMPLETE", WAIT_MS) == 0);
    CHECK(e2e_world_sim(&CE, &slow, &(e2e_sim_cfg){.record = 1, .listen_port = sim_port}) == 0);
    CHECK(cchat_send(&c, "alpha once more") == 0);
    CHECK(cchat_wait_out(&c, "Answer alpha.", WAIT_MS) == 0);
    CHECK(cchat_end(&c, END_MS) == 6);
    cchat_read(c.err, &err);
    CHECK(buf_contains(&err, "the reply was cut"));
    ms_buf_free(&err);
    CHECK(!e2e_file_contains(c.out, "w46")); /* the story never finished */
    if (req_get(slow.log, -1, &r) == 0) { /* the partial story is not in the history */
        CHECK(r.n == 1 && msg_is(&r, 0, "user", "alpha once more"));
        ms_json_free(r.doc);
    }
    CHECK(e2e_server_stop(&v, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_server_stop(&slow, E2E_STOP_GRACE_MS) == 0);
}

/* The supervisor restarted between turns (same port, same dev key): a new handshake. */
static void test_restart(void)
{
    cchat c;
    e2e_server v;
    req r;
    if (e2e_world_sup(&CE, &v, &(e2e_sup_cfg){.backend_port = SIM.port}) != 0 || cchat_start(&c, v.port, NULL) != 0) {
        CHECK(!"start");
        return;
    }
    unsigned port = v.port;
    CHECK(cchat_send(&c, "alpha before") == 0);
    /* the reply's end: the chat prints the newline once the stream's FINAL record is in, so
       the supervisor is not stopped while the turn is still arriving */
    CHECK(cchat_wait_out(&c, "Answer alpha.\n", WAIT_MS) == 0);
    CHECK(e2e_server_stop(&v, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_world_sup(&CE, &v, &(e2e_sup_cfg){.listen_port = port, .backend_port = SIM.port}) == 0);
    CHECK(cchat_send(&c, "beta after") == 0);
    CHECK(cchat_wait_out(&c, "Answer beta.", WAIT_MS) == 0);
    CHECK(cchat_end(&c, END_MS) == 0);
    CHECK(e2e_file_contains(c.err, "did not know the session any more"));
    CHECK(e2e_file_contains(c.err, "a new handshake, checked again: verified: dev-key"));
    if (req_get(SIM.log, -1, &r) == 0) { /* the history lives on the client: it survived */
        CHECK(r.n == 3 && msg_is(&r, 0, "user", "alpha before"));
        CHECK(msg_is(&r, 1, "assistant", "Answer alpha.") && msg_is(&r, 2, "user", "beta after"));
        ms_json_free(r.doc);
    }
    CHECK(e2e_server_stop(&v, E2E_STOP_GRACE_MS) == 0);
}

/* Over a cap: refused with a clear message, nothing dropped; /clear makes room. */
static void test_caps(void)
{
    cchat c;
    req r;
    ms_buf err, big;
    char md[PATH_MAX], l1[PATH_MAX + 16];
    path_in(md, "big.md");
    ms_buf_init(&big, 1u << 20);
    for (size_t i = 0; i < 400u * 1024u / 64u; i++) {
        CHECK_OK(ms_buf_append_str(&big, "filler text for the size cap of one chat request ........\n"));
    }
    CHECK_OK(ms_buf_terminate(&big));
    CHECK(e2e_file_write(md, (const char *)big.p) == 0);
    ms_buf_free(&big);
    ms_buf_init(&big, 400u * 1024u);
    uint8_t *x;
    CHECK_OK(ms_buf_extend(&big, 300u * 1024u, &x));
    memset(x, 'x', 300u * 1024u);
    CHECK_OK(ms_buf_terminate(&big));
    snprintf(l1, sizeof l1, "/attach %s", md);
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, NULL,
                          (const char *const[]){l1, "alpha 1", l1, "alpha 2", l1, "alpha 3",
                                                (const char *)big.p, "/clear", "gamma", NULL});
    CHECK(code == 2); /* refusals count, even though the last turn worked */
    cchat_read(c.err, &err);
    CHECK(buf_contains(&err, "not sent: with this message the conversation would not fit one "
                             "request"));
    CHECK(buf_contains(&err, "/clear starts a new one"));
    CHECK(buf_contains(&err, "not sent: a line may have at most 256 KiB"));
    ms_buf_free(&err);
    ms_buf_free(&big);
    CHECK(chat_reqs_count(SIM.log) == before + 3);
    if (req_get(SIM.log, before + 1, &r) == 0) { /* nothing was dropped to make room */
        CHECK(r.n == 3 && msg_has(&r, 0, "alpha 1") && msg_has(&r, 2, "alpha 2"));
        ms_json_free(r.doc);
    }
    if (req_get(SIM.log, -1, &r) == 0) {
        CHECK(r.n == 1 && msg_is(&r, 0, "user", "gamma"));
        ms_json_free(r.doc);
    }
}

/* The session log: verifies, holds the session, turns and commands; file text only with
 * --log-context. */
static void check_log(const char *path, int context)
{
    ms_buf log;
    ms_alog_report rep;
    uint8_t pk[MS_SIGN_PK_LEN];
    cchat_read(path, &log);
    CHECK(file_mode(path) == 0600);
    CHECK_OK(ms_devkey_read_public(CE.logpub, pk));
    CHECK_OK(ms_alog_verify(log.p, log.len, pk, &rep));
    CHECK(rep.verdict == MS_ALOG_VALID && strcmp(rep.kind, "chat") == 0);
    CHECK(buf_contains(&log, "\"type\":\"session\""));
    CHECK(buf_contains(&log, "\"evidence_type\":\"dev-key\""));
    CHECK(buf_contains(&log, "\"transcript_hash\":\""));
    CHECK(buf_contains(&log, "\"user\":\"alpha with the notes\",\"reply\":\"Answer alpha.\",\"ok\":true"));
    CHECK(buf_contains(&log, "\"cut\":true"));
    CHECK(buf_contains(&log, "\"reply\":\"one two three\""));
    CHECK(buf_contains(&log, "\"command\":\"attach\",\"ok\":true"));
    CHECK(buf_contains(&log, "log-notes.md\""));
    CHECK(buf_contains(&log, "\"command\":\"image\",\"ok\":true"));
    CHECK(buf_contains(&log, "\"mime\":\"image/png\",\"bytes\":67"));
    CHECK(buf_contains(&log, "SECRET-MANGO") == context); /* the file's content */
    CHECK(buf_contains(&log, "iVBORw0KGgo") == context);  /* the image's bytes */
    ms_buf_free(&log);
}

static void test_log(void)
{
    cchat c;
    char md[PATH_MAX], png[PATH_MAX], l1[PATH_MAX + 16], l2[PATH_MAX + 16];
    char log1[PATH_MAX], log2[PATH_MAX];
    path_in(md, "log-notes.md");
    path_in(png, "log-pic.png");
    path_in(log1, "chat1.ndjson");
    path_in(log2, "chat2.ndjson");
    CHECK(e2e_file_write(md, "The fruit is SECRET-MANGO.\n") == 0);
    write_bytes(png, e2e_png_1x1, e2e_png_1x1_len);
    snprintf(l1, sizeof l1, "/attach %s", md);
    snprintf(l2, sizeof l2, "/image %s", png);
    const char *const lines[] = {l1, "alpha with the notes", "cut me", l2, "beta", NULL};
    CHECK(chat_lines(&c, (const char *const[]){"--log", log1, NULL}, lines) == 6);
    CHECK(e2e_file_contains(c.err, "session log: "));
    check_log(log1, 0);
    CHECK(chat_lines(&c, (const char *const[]){"--log", log2, "--log-context", NULL}, lines) == 6);
    check_log(log2, 1);
    /* An existing log file is refused before connecting; --no-log writes none. */
    CHECK(chat_lines(&c, (const char *const[]){"--log", log1, NULL}, (const char *const[]){"alpha", NULL}) == 2);
    CHECK(e2e_file_contains(c.err, "cannot create the session log"));
    CHECK(!e2e_file_contains(c.err, "verified:"));
}

/* Refused lines leave a trace in the log: why and how many bytes, never the bytes. */
static void test_refused_logged(void)
{
    cchat c;
    ms_buf log, err;
    ms_alog_report rep;
    uint8_t pk[MS_SIGN_PK_LEN];
    char path[PATH_MAX];
    path_in(path, "refused.ndjson");
    int before = chat_reqs_count(SIM.log);
    const char *const lines[] = {"alpha QUINCE-\xff-\x1b[2J!!!", "/attach QUINCE-\xfe.md",
                                 "/nosuch QUINCE", "/image", "beta", NULL};
    CHECK(chat_lines(&c, (const char *const[]){"--log", path, NULL}, lines) == 2);
    CHECK(chat_reqs_count(SIM.log) == before + 1); /* only "beta" was sent */
    cchat_read(c.err, &err);
    CHECK(buf_contains(&err, "not sent: the line is not valid UTF-8 text"));
    ms_buf_free(&err);
    cchat_read(path, &log);
    CHECK_OK(ms_devkey_read_public(CE.logpub, pk));
    CHECK_OK(ms_alog_verify(log.p, log.len, pk, &rep));
    CHECK(rep.verdict == MS_ALOG_VALID);
    CHECK(buf_contains(&log, "\"type\":\"error\""));
    CHECK(buf_contains(&log, "{\"code\":\"MS_ERR_ARG\",\"message\":\"line refused: not valid "
                             "UTF-8 text, or holds a NUL byte\",\"bytes\":19}"));
    CHECK(buf_contains(&log, "\"message\":\"line refused: not valid UTF-8 text, or holds a NUL "
                             "byte\",\"bytes\":22}"));
    CHECK(buf_contains(&log, "\"message\":\"command refused: unknown command\",\"bytes\":14}"));
    CHECK(buf_contains(&log, "\"message\":\"command refused: no file name\",\"bytes\":6}"));
    CHECK(buf_contains(&log, "\"user\":\"beta\""));
    CHECK(!buf_contains(&log, "QUINCE") && !buf_contains(&log, "\xff") &&
          !buf_contains(&log, "\xfe")); /* not the bytes, nor the text around them */
    ms_buf_free(&log);
}

/* A supervisor that fails verification: nothing sent, exit 4, the log says so. */
static void test_wrong_pin(void)
{
    cchat c;
    char other[PATH_MAX], otherpub[PATH_MAX], log[PATH_MAX];
    ms_devkey k;
    int created;
    path_in(other, "other-dev.pem");
    path_in(otherpub, "other-dev.pem.pub");
    path_in(log, "wrong-pin.ndjson");
    CHECK_OK(ms_devkey_load_or_create(other, &k, &created));
    CHECK_OK(ms_devkey_write_public(otherpub, k.pk));
    ms_devkey_wipe(&k);
    int before = chat_reqs_count(SIM.log);
    int code = chat_lines(&c, (const char *const[]){"--trusted_attestation_pem", otherpub, "--log", log, NULL},
                          (const char *const[]){"alpha", NULL});
    CHECK(code == 4);
    CHECK(chat_reqs_count(SIM.log) == before);
    CHECK(e2e_file_contains(c.err, "failed verification, nothing was sent"));
    CHECK(e2e_file_contains(log, "\"ok\":false,\"proved\":\"nothing: the handshake failed\""));
    CHECK(e2e_file_contains(log, "\"type\":\"log_seal\""));
}

/* --help answers; usage errors are said before anything else happens. */
static void test_usage(void)
{
    ms_buf out, err;
    ms_buf_init(&out, 1u << 20);
    ms_buf_init(&err, 1u << 20);
    char *help[] = {(char *)CE.cli_bin, "chat", "--help", NULL};
    CHECK(e2e_run(help, END_MS, CE.dir, &out, &err) == 0);
    CHECK(buf_contains(&out, "/attach FILE|DIR") && buf_contains(&out, "--log-context"));
    CHECK(buf_contains(&out, "Exit status:") && buf_contains(&out, "--supervisor_url"));
    char *top[] = {(char *)CE.cli_bin, "--help", NULL};
    CHECK(e2e_run(top, END_MS, CE.dir, &out, &err) == 0 && buf_contains(&out, "  chat "));
    char *bad[] = {(char *)CE.cli_bin, "chat", "--max-tokens", "0", NULL};
    CHECK(e2e_run(bad, END_MS, CE.dir, &out, &err) == 2);
    CHECK(buf_contains(&err, "invalid value for --max-tokens"));
    char *signed_v[] = {(char *)CE.cli_bin, "chat", "--max-tokens", "+5", NULL};
    CHECK(e2e_run(signed_v, END_MS, CE.dir, &out, &err) == 2); /* digits only */
    CHECK(buf_contains(&err, "invalid value for --max-tokens: +5"));
    ms_buf_free(&out);
    ms_buf_free(&err);
}

/* --- §12.3 content parts through the real supervisor (the library, not the chat) ------------ */

static ms_client *lib_client(void)
{
    char url[64];
    uint8_t pk[MS_SIGN_PK_LEN];
    ms_client *c = NULL;
    snprintf(url, sizeof url, "https://127.0.0.1:%u", SUP.port);
    CHECK_OK(ms_devkey_read_public(CE.devpub, pk));
    ms_client_cfg cfg = {.url = url, .cacert = CE.ca, .pinned_dev_pk = pk, .timeout_ms = 30000};
    CHECK_OK(ms_client_new(&c, &cfg));
    return c;
}

static ms_err raw_turn(ms_client *c, const char *json, ms_client_turn_info *ti)
{
    ms_buf reply;
    ms_buf_init(&reply, MS_MAX_RECORD_PLAINTEXT);
    ms_err e = ms_client_turn(c, (const uint8_t *)json, strlen(json), &reply, ti);
    ms_buf_free(&reply);
    return e;
}

/* fmt with each '@' replaced by s. */
static void subst(char *out, size_t cap, const char *fmt, const char *s)
{
    size_t n = 0, sl = strlen(s);
    for (const char *p = fmt; *p && n + sl + 1 < cap; p++) {
        if (*p == '@') {
            memcpy(out + n, s, sl);
            n += sl;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

static void test_parts_supervisor(void)
{
    char b64[256], good[1024], bad[1024];
    size_t n;
    ms_client_turn_info ti;
    ms_client *c = lib_client();
    if (!c) {
        return;
    }
    CHECK_OK(ms_base64_encode(e2e_png_1x1, e2e_png_1x1_len, b64, sizeof b64, &n));
    snprintf(good, sizeof good,
             "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"alpha "
             "parts\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,%s\"}}]}]}",
             b64);
    int before = chat_reqs_count(SIM.log);
    CHECK_OK(raw_turn(c, good, &ti));
    CHECK(chat_reqs_count(SIM.log) == before + 1);
    CHECK(e2e_file_contains(SIM.log, b64));
    /* Malformed parts: a sealed bad_request, nothing forwarded, the session lives on. */
    static const char *const shapes[] = {
        "{\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,@\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/jpeg;base64,@\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,@\",\"detail\":\"high\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\",\"x\":\"@\"}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[]}],\"x\":\"@\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"@\"}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/@.png\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,@=\"}}]}]}",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        subst(bad, sizeof bad, shapes[i], b64);
        CHECK_ERR(raw_turn(c, bad, &ti), MS_ERR_BACKEND_REMOTE);
        CHECK(strcmp(ti.error_code, "bad_request") == 0);
    }
    CHECK(chat_reqs_count(SIM.log) == before + 1);
    CHECK_OK(raw_turn(c, good, &ti)); /* the same session still works */
    CHECK_OK(ms_client_close(c));
    ms_client_free(c);
}

/* Ollama engines get the images in the message's "images" (common/llm, against llm-sim). */
static void test_ollama_images(void)
{
    char base[64], b64[256];
    size_t n;
    ms_http_client *http = NULL;
    ms_chat_result res;
    ms_http_opts ho = {.connect_timeout_ms = 5000, .total_timeout_ms = 30000, .max_response = 1u << 20};
    CHECK_OK(ms_base64_encode(e2e_png_1x1, e2e_png_1x1_len, b64, sizeof b64, &n));
    snprintf(base, sizeof base, "http://127.0.0.1:%u", SIM.port);
    ms_chat_image im = {.mime = "image/png", .b64 = b64, .b64_len = n};
    ms_chat_msg m = {.role = "user", .content = "alpha ollama", .content_len = 12, .images = &im, .n_images = 1};
    ms_ollama_cfg cfg = {.base_url = base, .model = "llava"};
    ms_chat_result_init(&res);
    CHECK_OK(ms_http_client_new(&ho, &http));
    CHECK_OK(ms_ollama_chat(http, &cfg, &m, 1, NULL, &res));
    ms_http_client_free(http);
    ms_chat_result_free(&res);
    req r;
    if (req_get(SIM.log, -1, &r) == 0) {
        ms_json_val msg, imgs, first;
        const char *s;
        size_t len, k;
        CHECK(ms_json_arr_at(r.msgs, 0, &msg) == MS_OK);
        CHECK(ms_json_get_arr(msg, "images", 4, &imgs, &k) == MS_OK && k == 1);
        CHECK(ms_json_arr_at(imgs, 0, &first) == MS_OK);
        CHECK(ms_json_as_str(first, 256, &s, &len) == MS_OK && strcmp(s, b64) == 0);
        CHECK(msg_is(&r, 0, "user", "alpha ollama"));
        ms_json_free(r.doc);
    }
}

/* --- SIGINT and SIGTERM seal the log (docs/logs.md "Signals") ------------------------------- */

/* The log verifies VALID with the test's key. */
static void check_sealed(const char *path)
{
    ms_buf log;
    ms_alog_report rep;
    uint8_t pk[MS_SIGN_PK_LEN];
    cchat_read(path, &log);
    CHECK_OK(ms_devkey_read_public(CE.logpub, pk));
    CHECK_OK(ms_alog_verify(log.p, log.len, pk, &rep));
    CHECK(rep.verdict == MS_ALOG_VALID);
    CHECK(buf_contains(&log, "\"type\":\"log_seal\""));
    ms_buf_free(&log);
}

/* From a pipe: SIGINT between turns, SIGTERM in the middle of a streamed reply. */
/* No finding in a signalled chat's standard error; what it holds is printed when there is one. */
static void check_no_report_signalled(const char *err)
{
    if (!e2e_report_in_signalled(err)) {
        return;
    }
    ms_buf b;
    ms_buf_init(&b, 1u << 20);
    if (e2e_file_read(err, &b) == 0 && b.p) {
        fprintf(stderr, "  (%s:)\n%s\n", err, (const char *)b.p);
    }
    ms_buf_free(&b);
    TEST_FAIL_("a sanitizer or valgrind finding in %s", err);
}

static void test_signals_pipe(void)
{
    cchat c;
    char log[PATH_MAX];
    path_in(log, "sigint.ndjson");
    CHECK(cchat_start(&c, SUP.port, (const char *const[]){"--log", log, NULL}) == 0);
    CHECK(cchat_send(&c, "alpha before the signal") == 0);
    CHECK(cchat_wait_out(&c, "Answer alpha.", WAIT_MS) == 0);
    /* the reply is shown before its chat_turn event is written: wait for that too */
    for (int waited = 0; !e2e_file_contains(log, "\"user\":\"alpha before the signal\"") &&
                         waited < WAIT_MS;
         waited += 50) {
        e2e_sleep_ms(50);
    }
    CHECK(kill(c.p.pid, SIGINT) == 0);
    CHECK(e2e_proc_wait(&c.p, END_MS) == 128 + SIGINT); /* ended by the signal itself */
    (void)cchat_end(&c, END_MS);                         /* its input, its FIFO */
    check_no_report_signalled(c.err);
    CHECK(e2e_file_contains(c.err, "interrupted (SIGINT): the session log "));
    check_sealed(log);
    CHECK(e2e_file_contains(log, "\"user\":\"alpha before the signal\""));

    e2e_server slow, v;
    path_in(log, "sigterm.ndjson");
    if (e2e_world_sim(&CE, &slow, &(e2e_sim_cfg){.record = 1, .extra = {"--tokens-per-sec", "4"}}) != 0 ||
        e2e_world_sup(&CE, &v, &(e2e_sup_cfg){.backend_port = slow.port}) != 0 ||
        cchat_start(&c, v.port, (const char *const[]){"--log", log, NULL}) != 0) {
        CHECK(!"start");
        CHECK(e2e_server_stop(&slow, E2E_STOP_GRACE_MS) == 0);
        return;
    }
    CHECK(cchat_send(&c, "slow story please") == 0);
    CHECK(cchat_wait_out(&c, "w1 w2", WAIT_MS) == 0);
    CHECK(kill(c.p.pid, SIGTERM) == 0);
    CHECK(e2e_proc_wait(&c.p, END_MS) == 128 + SIGTERM);
    (void)cchat_end(&c, END_MS);
    check_no_report_signalled(c.err);
    CHECK(e2e_file_contains(c.err, "stopped (SIGTERM): the session log "));
    check_sealed(log);
    CHECK(!e2e_file_contains(c.out, "w46")); /* it stopped mid-reply */
    CHECK(e2e_server_stop(&v, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_server_stop(&slow, E2E_STOP_GRACE_MS) == 0);
}

/* --- a real terminal (tmux) ----------------------------------------------------------------- */

static void test_tty(void)
{
    tmux t;
    char script[PATH_MAX], status[PATH_MAX], ask_status[PATH_MAX], run_status[PATH_MAX],
        doc[PATH_MAX], cmd[PATH_MAX + 16], body[16 * PATH_MAX];
    req r;
    if (e2e_find_in_path("tmux", t.bin) != 0) {
        /* The issue asks for a chat on a terminal: without tmux that is a failure, unless the
           caller says, by setting MS_E2E_NO_TTY, that this machine cannot run it. */
        if (getenv("MS_E2E_NO_TTY")) {
            fprintf(stderr, "  SKIP test_tty: tmux is not installed and MS_E2E_NO_TTY is set\n");
        } else {
            TEST_FAIL_("tmux is not installed (scripts/install-deps.sh installs it; set "
                       "MS_E2E_NO_TTY=1 to skip this test knowingly)");
        }
        return;
    }
    path_in(t.sock, "tmux.sock");
    t.dir = CE.dir, t.session = NULL, t.wait_ms = WAIT_MS;
    path_in(script, "tty.sh");
    path_in(status, "tty.status");
    path_in(ask_status, "tty-ask.status");
    path_in(run_status, "tty-run.status");
    path_in(doc, "tty-doc.txt");
    CHECK(e2e_file_write(doc, "A document.\n") == 0);
    const char *w = getenv("MS_CHAT_WRAPPER");
    /* The chat, then ask and run (one round: the supervisor answers at once, the worker is
       llm-sim too) on the same terminal; the pane stays open until kill-server. */
    snprintf(body, sizeof body,
             "#!/bin/sh\n%s '%s' chat --supervisor_url https://127.0.0.1:%u "
             "--trusted_attestation_pem '%s' --cacert '%s' --log-key '%s' --log-dir '%s'\n"
             "echo $? > '%s'\n"
             "%s '%s' ask --supervisor_url https://127.0.0.1:%u --trusted_attestation_pem '%s' "
             "--cacert '%s' --prompt 'hostile ask'\n"
             "echo $? > '%s'\n"
             "%s '%s' run --supervisor_url https://127.0.0.1:%u --trusted_attestation_pem '%s' "
             "--cacert '%s' --local-url http://127.0.0.1:%u --no-log --max_rounds 1 "
             "--task 'hostile run' --context '%s'\n"
             "echo $? > '%s'\nsleep 300\n",
             w ? w : "", CE.cli_bin, SUP.port, CE.devpub, CE.ca, CE.logkey, CE.dir, status,
             w ? w : "", CE.cli_bin, SUP.port, CE.devpub, CE.ca, ask_status,
             w ? w : "", CE.cli_bin, SUP.port, CE.devpub, CE.ca, SIM.port, doc, run_status);
    CHECK(e2e_file_write(script, body) == 0);
    snprintf(cmd, sizeof cmd, "sh %s", script);
    int before = chat_reqs_count(SIM.log);
    char *argv[] = {t.bin, "-S", t.sock, "-f", "/dev/null", "new-session", "-d", "-x", "120",
                    "-y", "40", "-s", "chat", cmd, NULL};
    ms_buf o;
    ms_buf_init(&o, 1u << 16);
    int started = e2e_run(argv, 20000, CE.dir, &o, NULL);
    ms_buf_free(&o);
    CHECK(started == 0);
    if (started != 0) {
        return;
    }
    CHECK(tmux_wait(&t, "/help lists the commands") == 0);
    CHECK(tmux_wait(&t, "you>") == 0); /* capture-pane drops trailing blanks */
    /* Line editing: type "lpha typed", go to the start of the line (Ctrl-A), insert "a". */
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "lpha typed") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "C-a", NULL) == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "a") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "Enter", NULL) == 0);
    CHECK(tmux_wait(&t, "Answer alpha.") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "/system Be brief.") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "Enter", NULL) == 0);
    CHECK(tmux_wait(&t, "system message set") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "beta typed") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "Enter", NULL) == 0);
    CHECK(tmux_wait(&t, "Answer beta.") == 0);
    /* A reply with terminal controls is shown escaped (a cut character too, see test_text) */
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "hostile reply") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "Enter", NULL) == 0);
    CHECK(tmux_wait(&t, "Look: \\x1B]0;pwned\\x07 \\u{009B}2J \\u{202E}txt.exe done") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "/exit") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "Enter", NULL) == 0);
    int waited = 0;
    while (!e2e_file_contains(status, "\n") && waited < WAIT_MS) {
        e2e_sleep_ms(50);
        waited += 50;
    }
    CHECK(e2e_file_contains(status, "0\n"));
    /* ask prints the reply through the same filter */
    CHECK(tmux_wait(&t, "Ask: \\x1B[2J\\u{009D}0;t\\x07 \\u{2066}x\\u{2069} end") == 0);
    for (waited = 0; !e2e_file_contains(ask_status, "\n") && waited < WAIT_MS; waited += 50) {
        e2e_sleep_ms(50);
    }
    CHECK(e2e_file_contains(ask_status, "0\n"));
    /* and run prints its answer through it */
    CHECK(tmux_wait(&t, "Run: \\x1B[1m\\u{0085} \\u{202D}end") == 0);
    for (waited = 0; !e2e_file_contains(run_status, "\n") && waited < WAIT_MS; waited += 50) {
        e2e_sleep_ms(50);
    }
    CHECK(e2e_file_contains(run_status, "0\n"));
    char *kill_srv[] = {t.bin, "-S", t.sock, "kill-server", NULL};
    (void)e2e_run(kill_srv, 20000, CE.dir, NULL, NULL);
    /* the chat's three turns, the ask, the run's one supervisor turn (the worker is only pinged) */
    CHECK(chat_reqs_count(SIM.log) == before + 5);
    if (req_get(SIM.log, before + 1, &r) == 0) { /* beta: the chat's second turn */
        CHECK(r.n == 4 && msg_is(&r, 0, "system", "Be brief."));
        CHECK(msg_is(&r, 1, "user", "alpha typed") && msg_is(&r, 3, "user", "beta typed"));
        ms_json_free(r.doc);
    }
}

/* Ctrl-C in a terminal chat (libedit at its prompt): the log is sealed, the shell sees 130. */
static void test_tty_sigint(void)
{
    tmux t = {.dir = CE.dir, .session = NULL, .wait_ms = WAIT_MS};
    char script[PATH_MAX], status[PATH_MAX], log[PATH_MAX], body[8 * PATH_MAX], cmd[PATH_MAX + 16];
    if (e2e_find_in_path("tmux", t.bin) != 0) {
        return; /* test_tty says why */
    }
    path_in(t.sock, "tmux-int.sock");
    path_in(script, "tty-int.sh");
    path_in(status, "tty-int.status");
    path_in(log, "tty-int.ndjson");
    const char *w = getenv("MS_CHAT_WRAPPER");
    snprintf(body, sizeof body,
             /* the shell gets Ctrl-C too: a trap keeps it (its child gets the default) */
             "#!/bin/sh\ntrap 'true' INT\n%s '%s' chat --supervisor_url https://127.0.0.1:%u "
             "--trusted_attestation_pem '%s' --cacert '%s' --log-key '%s' --log '%s'\n"
             "echo $? > '%s'\nsleep 300\n",
             w ? w : "", CE.cli_bin, SUP.port, CE.devpub, CE.ca, CE.logkey, log, status);
    CHECK(e2e_file_write(script, body) == 0);
    snprintf(cmd, sizeof cmd, "sh %s", script);
    char *argv[] = {t.bin, "-S", t.sock, "-f", "/dev/null", "new-session", "-d", "-x", "120",
                    "-y", "40", "-s", "chat", cmd, NULL};
    if (e2e_run(argv, 20000, CE.dir, NULL, NULL) != 0) {
        CHECK(!"tmux new-session");
        return;
    }
    CHECK(tmux_wait(&t, "you>") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "alpha typed") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "Enter", NULL) == 0);
    CHECK(tmux_wait(&t, "Answer alpha.") == 0);
    CHECK(tmux_wait(&t, "you>") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "-l", "half a line") == 0);
    CHECK(tmux_cmd(&t, NULL, "send-keys", "-t", "chat", "C-c", NULL) == 0);
    int waited = 0;
    while (!e2e_file_contains(status, "\n") && waited < WAIT_MS) {
        e2e_sleep_ms(50);
        waited += 50;
    }
    CHECK(e2e_file_contains(status, "130\n"));
    CHECK(tmux_wait(&t, "interrupted (SIGINT): the session log") == 0);
    char *kill_srv[] = {t.bin, "-S", t.sock, "kill-server", NULL};
    (void)e2e_run(kill_srv, 20000, CE.dir, NULL, NULL);
    check_sealed(log);
    CHECK(e2e_file_contains(log, "\"user\":\"alpha typed\""));
    CHECK(!e2e_file_contains(log, "half a line")); /* never sent, never logged */
}

int main(int argc, char **argv)
{
    int rc = chat_env_setup(argc, argv, SCRIPT);
    if (rc != 0) {
        return chat_env_done(rc);
    }
    if (e2e_world_sim(&CE, &SIM, &(e2e_sim_cfg){.record = 1}) != 0 || e2e_world_sup(&CE, &SUP, &(e2e_sup_cfg){.backend_port = SIM.port}) != 0) {
        fprintf(stderr, "test_chat_e2e: cannot start llm-sim and the supervisor\n");
        return chat_env_done(1);
    }
    RUN(test_usage);
    RUN(test_pipe_turns);
    RUN(test_clear_system);
    RUN(test_attach);
    RUN(test_image);
    RUN(test_save);
    RUN(test_cut_rule);
    RUN(test_cut_killed);
    RUN(test_limit);
    RUN(test_restart);
    RUN(test_caps);
    RUN(test_log);
    RUN(test_refused_logged);
    RUN(test_wrong_pin);
    RUN(test_parts_supervisor);
    RUN(test_ollama_images);
    RUN(test_tty);
    RUN(test_signals_pipe);
    RUN(test_tty_sigint);
    CHECK(e2e_server_stop(&SUP, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_server_stop(&SIM, E2E_STOP_GRACE_MS) == 0);
    return chat_env_done(TEST_SUMMARY());
}

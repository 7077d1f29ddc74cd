/* Unit tests of llm-sim's decoders: tokenizer, chat request bodies, reply scripts and matching. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/test.h"
#include "tools/llm-sim/llmsim.h"
#include "tools/llm-sim/request.h"
#include "tools/llm-sim/formats.h"
#include "tools/llm-sim/script.h"
#include "tools/llm-sim/tokens.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* ---- tokens ------------------------------------------------------------------------------ */

/* Pieces must concatenate back to the text, and their number must be the count. */
static void check_pieces(const char *text, size_t want)
{
    size_t len = strlen(text), off = 0, n, count = 0, rebuilt = 0;
    char buf[256];
    while (llmsim_tokens_next(text, len, &off, &n)) {
        CHECK(n > 0);
        memcpy(buf + rebuilt, text + off - n, n);
        rebuilt += n;
        count++;
    }
    CHECK(count == want);
    CHECK(llmsim_tokens_count(text, len) == want);
    CHECK(rebuilt == len && memcmp(buf, text, len) == 0);
}

static void test_tokens(void)
{
    check_pieces("", 0);
    check_pieces("   ", 1);
    check_pieces("hello", 1);
    check_pieces("hello world", 2);
    check_pieces("  hello,  world!  ", 4);
    check_pieces("The capital of France is Paris.", 7);
    check_pieces("caf\xc3\xa9 cr\xc3\xa8me", 2); /* UTF-8 stays whole */
    check_pieces("a\nb\tc", 3);
    check_pieces("x+y=z", 5);
    /* prefixes end on a piece boundary and re-tokenize to the same count */
    const char *t = "one two, three";
    size_t p = llmsim_tokens_prefix(t, strlen(t), 2);
    CHECK(p == 7 && llmsim_tokens_count(t, p) == 2);
    CHECK(llmsim_tokens_prefix(t, strlen(t), 0) == 0);
    CHECK(llmsim_tokens_prefix(t, strlen(t), 99) == strlen(t));
    size_t off = 3, n = 7;
    CHECK(!llmsim_tokens_next("abc", 3, &off, &n) && n == 0);
    off = 0;
    CHECK(!llmsim_tokens_next(NULL, 0, &off, &n));
}

/* ---- requests ---------------------------------------------------------------------------- */

static ms_err decode(llmsim_api api, const char *body, llmsim_request *r, char *why)
{
    return llmsim_request_decode(api, body, strlen(body), r, why, LLMSIM_WHY_LEN);
}

static void test_request_ollama(void)
{
    llmsim_request r;
    char why[LLMSIM_WHY_LEN];
    CHECK_OK(decode(LLMSIM_API_OLLAMA,
                    "{\"model\":\"llama3\",\"messages\":[{\"role\":\"system\",\"content\":\"be "
                    "brief\"},{\"role\":\"user\",\"content\":\"hi there\",\"images\":[]}],"
                    "\"options\":{\"temperature\":0.2,\"num_predict\":5},\"format\":\"json\","
                    "\"keep_alive\":\"5m\"}",
                    &r, why));
    CHECK(r.model != NULL && strcmp(r.model, "llama3") == 0 && r.model_len == 6);
    CHECK(r.n_msgs == 2 && strcmp(r.msgs[0].role, "system") == 0);
    CHECK(strcmp(r.msgs[1].content, "hi there") == 0 && r.msgs[1].content_len == 8);
    CHECK(r.stream); /* Ollama's default */
    CHECK(r.max_tokens == 5);
    CHECK(llmsim_request_prompt_tokens(&r) == 4);
    llmsim_request_free(&r);

    CHECK_OK(decode(LLMSIM_API_OLLAMA, "{\"stream\":false,\"options\":{\"num_predict\":-1}}", &r,
                    why));
    CHECK(!r.stream && r.n_msgs == 0 && r.model == NULL && r.max_tokens == 0);
    llmsim_request_free(&r);

    CHECK_OK(decode(LLMSIM_API_OLLAMA, "{\"model\":\"\",\"stream\":null,\"messages\":null}", &r,
                    why));
    CHECK(r.model == NULL && r.stream && r.n_msgs == 0);
    llmsim_request_free(&r);
}

static void test_request_openai(void)
{
    llmsim_request r;
    char why[LLMSIM_WHY_LEN];
    CHECK_OK(decode(LLMSIM_API_OPENAI,
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                    "\"text\",\"text\":\"a\"},{\"type\":\"image_url\",\"image_url\":{}},{\"type\":"
                    "\"text\",\"text\":\"b c\"}]},{\"role\":\"assistant\",\"content\":null,"
                    "\"tool_calls\":[]}],\"stream\":true,\"stream_options\":{\"include_usage\":"
                    "true},\"max_tokens\":9,\"max_completion_tokens\":3,\"temperature\":0,"
                    "\"n\":1,\"response_format\":{\"type\":\"json_object\"}}",
                    &r, why));
    CHECK(r.stream && r.include_usage && r.max_tokens == 3);
    CHECK(r.n_msgs == 2 && strcmp(r.msgs[0].content, "a\nb c") == 0);
    CHECK(r.msgs[0].content_len == 5 && r.msgs[1].content_len == 0);
    llmsim_request_free(&r);

    CHECK_OK(decode(LLMSIM_API_OPENAI,
                    "{\"messages\":[],\"max_tokens\":null,\"temperature\":null,"
                    "\"stream_options\":null}",
                    &r, why));
    CHECK(!r.stream && !r.include_usage && r.max_tokens == 0);
    llmsim_request_free(&r);
}

/* Each body must fail with `want`, and the explanation must name `field`. */
static void reject(llmsim_api api, const char *body, ms_err want, const char *field)
{
    llmsim_request r;
    char why[LLMSIM_WHY_LEN];
    CHECK_ERR(decode(api, body, &r, why), want);
    if (strstr(why, field) == NULL) {
        TEST_FAIL_("explanation \"%s\" does not name \"%s\"", why, field);
    }
    CHECK(r.msgs == NULL && r.n_msgs == 0);
    llmsim_request_free(&r);
}

static void test_request_negative(void)
{
    llmsim_api o = LLMSIM_API_OLLAMA, a = LLMSIM_API_OPENAI;
    reject(o, "", MS_ERR_JSON_PARSE, "missing request body");
    reject(o, "{bad", MS_ERR_JSON_PARSE, "body");
    reject(o, "[]", MS_ERR_JSON_TYPE, "body");
    reject(o, "{\"a\":1,\"a\":2}", MS_ERR_JSON_PARSE, "body");
    reject(o, "{\"model\":7}", MS_ERR_JSON_TYPE, "model");
    reject(o, "{\"stream\":\"yes\"}", MS_ERR_JSON_TYPE, "stream");
    reject(o, "{\"messages\":{}}", MS_ERR_JSON_TYPE, "messages");
    reject(o, "{\"messages\":[1]}", MS_ERR_JSON_TYPE, "messages[0]");
    reject(o, "{\"messages\":[{\"content\":\"x\"}]}", MS_ERR_JSON_MISSING, "messages[0].role");
    reject(o, "{\"messages\":[{\"role\":\"\"}]}", MS_ERR_JSON_MISSING, "messages[0].role");
    reject(o, "{\"messages\":[{\"role\":\"user\"},{\"role\":\"user\",\"content\":[]}]}",
           MS_ERR_JSON_TYPE, "messages[1].content");
    reject(o, "{\"options\":[]}", MS_ERR_JSON_TYPE, "options");
    reject(o, "{\"options\":{\"num_predict\":\"5\"}}", MS_ERR_JSON_TYPE, "options.num_predict");
    reject(a, "{}", MS_ERR_JSON_MISSING, "messages");
    reject(a, "{\"messages\":[],\"max_tokens\":0}", MS_ERR_JSON_RANGE, "max_tokens");
    reject(a, "{\"messages\":[],\"max_tokens\":1.5}", MS_ERR_JSON_RANGE, "max_tokens");
    reject(a, "{\"messages\":[],\"temperature\":3}", MS_ERR_JSON_RANGE, "temperature");
    reject(a, "{\"messages\":[],\"stream_options\":{\"include_usage\":1}}", MS_ERR_JSON_TYPE,
           "stream_options.include_usage");
    reject(a, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}",
           MS_ERR_JSON_MISSING, "messages[0].content");
    reject(a, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}",
           MS_ERR_JSON_MISSING, "messages[0].content");
    reject(a, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}", MS_ERR_JSON_PARSE,
           "body");
}

/* Overfill every cap by one, and check that exactly the cap passes. */
static void test_request_caps(void)
{
    llmsim_request r;
    char why[LLMSIM_WHY_LEN];
    ms_buf b;
    ms_buf_init(&b, LLMSIM_MAX_BODY + 64);
    for (unsigned extra = 0; extra <= 1; extra++) {
        ms_buf_clear(&b);
        CHECK_OK(ms_buf_append_str(&b, "{\"messages\":["));
        for (unsigned i = 0; i < LLMSIM_MAX_MESSAGES + extra; i++) {
            CHECK_OK(ms_buf_append_str(&b, i ? ",{\"role\":\"u\"}" : "{\"role\":\"u\"}"));
        }
        CHECK_OK(ms_buf_append_str(&b, "]}"));
        CHECK_ERR(llmsim_request_decode(LLMSIM_API_OLLAMA, (const char *)b.p, b.len, &r, why,
                                        sizeof why),
                  extra ? MS_ERR_JSON_TOO_LONG : MS_OK);
        CHECK(r.n_msgs == (extra ? 0 : LLMSIM_MAX_MESSAGES));
        llmsim_request_free(&r);
    }
    for (unsigned extra = 0; extra <= 1; extra++) {
        for (int parts = 0; parts <= 1; parts++) {
            ms_buf_clear(&b);
            CHECK_OK(ms_buf_append_str(&b, parts ? "{\"messages\":[{\"role\":\"u\",\"content\":"
                                                   "[{\"type\":\"text\",\"text\":\"x\"},{\"type\":"
                                                   "\"text\",\"text\":\""
                                                 : "{\"messages\":[{\"role\":\"u\",\"content\":\""));
            /* with parts: "x" + "\n" + the rest must stay within the cap */
            size_t n = LLMSIM_MAX_CONTENT + extra - (parts ? 2 : 0);
            uint8_t *w;
            CHECK_OK(ms_buf_extend(&b, n, &w));
            memset(w, 'a', n);
            CHECK_OK(ms_buf_append_str(&b, parts ? "\"}]}]}" : "\"}]}"));
            ms_err e = llmsim_request_decode(LLMSIM_API_OPENAI, (const char *)b.p, b.len, &r, why,
                                             sizeof why);
            CHECK_ERR(e, extra ? MS_ERR_JSON_TOO_LONG : MS_OK);
            CHECK(extra || (r.n_msgs == 1 && r.msgs[0].content_len == LLMSIM_MAX_CONTENT));
            llmsim_request_free(&r);
        }
    }
    CHECK_ERR(llmsim_request_decode(LLMSIM_API_OLLAMA, "{}", LLMSIM_MAX_BODY + 1, &r, why,
                                    sizeof why),
              MS_ERR_CAP_EXCEEDED);
    llmsim_request_free(&r);
    ms_buf_free(&b);
}

/* Every prefix of a valid body is refused, never read past its length. */
static void test_request_truncated(void)
{
    const char body[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    llmsim_request r;
    char why[LLMSIM_WHY_LEN];
    for (size_t n = 0; n < sizeof body - 1; n++) {
        char *copy = malloc(n + 1);
        memcpy(copy, body, n);
        CHECK(llmsim_request_decode(LLMSIM_API_OPENAI, copy, n, &r, why, sizeof why) != MS_OK);
        llmsim_request_free(&r);
        free(copy);
    }
    CHECK_OK(llmsim_request_decode(LLMSIM_API_OPENAI, S(body), &r, why, sizeof why));
    llmsim_request_free(&r);
}

/* ---- scripts ----------------------------------------------------------------------------- */

static void script_rejects(const char *text, ms_err want, const char *needle)
{
    llmsim_script *s = (llmsim_script *)&s;
    char why[LLMSIM_WHY_LEN];
    CHECK_ERR(llmsim_script_parse(text, strlen(text), &s, why, sizeof why), want);
    CHECK(s == NULL);
    if (strstr(why, needle) == NULL) {
        TEST_FAIL_("explanation \"%s\" does not contain \"%s\"", why, needle);
    }
}

static void test_script_negative(void)
{
    script_rejects("", MS_ERR_JSON_PARSE, "script");
    script_rejects("{\"rules\":[", MS_ERR_JSON_PARSE, "script");
    script_rejects("[]", MS_ERR_JSON_TYPE, "must be a JSON object");
    script_rejects("{\"rule\":[]}", MS_ERR_JSON_ENUM, "unknown key \"rule\"");
    script_rejects("{\"rules\":{}}", MS_ERR_JSON_TYPE, "rules");
    script_rejects("{\"default\":5}", MS_ERR_JSON_TYPE, "default");
    script_rejects("{\"models\":[\"a\",3]}", MS_ERR_JSON_TYPE, "models[1]");
    script_rejects("{\"models\":[\"\"]}", MS_ERR_JSON_MISSING, "models[0]");
    script_rejects("{\"rules\":[5]}", MS_ERR_JSON_TYPE, "rules[0]");
    script_rejects("{\"rules\":[{\"reply\":\"a\"},{\"contains\":\"x\"}]}", MS_ERR_JSON_MISSING,
                   "rules[1].reply: a required JSON field is missing (a rule needs");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"contain\":\"x\"}]}", MS_ERR_JSON_ENUM,
                   "rules[0]: a JSON field has a value that is not one of the allowed values "
                   "(unknown key \"contain\")");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"role\":\"robot\"}]}", MS_ERR_JSON_ENUM,
                   "rules[0].role");
    script_rejects("{\"rules\":[{\"reply\":1}]}", MS_ERR_JSON_TYPE, "rules[0].reply");
    script_rejects("{\"rules\":[{\"contains\":[],\"reply\":\"a\"}]}", MS_ERR_JSON_TYPE,
                   "rules[0].contains");
    script_rejects("{\"rules\":[{\"status\":200}]}", MS_ERR_JSON_RANGE, "rules[0].status");
    script_rejects("{\"rules\":[{\"status\":\"500\"}]}", MS_ERR_JSON_TYPE, "rules[0].status");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"delay_ms\":-1}]}", MS_ERR_JSON_RANGE,
                   "rules[0].delay_ms");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"delay_ms\":600001}]}", MS_ERR_JSON_RANGE,
                   "rules[0].delay_ms");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"stream_fail_after\":1.5}]}",
                   MS_ERR_JSON_RANGE, "rules[0].stream_fail_after");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"finish_reason\":\"max_tokens\"}]}",
                   MS_ERR_JSON_ENUM, "rules[0].finish_reason");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"finish_reason\":1}]}", MS_ERR_JSON_TYPE,
                   "rules[0].finish_reason");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"quirks\":[\"crlf\",\"lf\"]}]}",
                   MS_ERR_JSON_ENUM, "rules[0].quirks");
    script_rejects("{\"rules\":[{\"reply\":\"a\",\"quirks\":\"crlf\"}]}", MS_ERR_JSON_TYPE,
                   "rules[0].quirks");
    script_rejects("{\"rules\":[{\"status\":429,\"retry_after\":-1}]}", MS_ERR_JSON_RANGE,
                   "rules[0].retry_after");

    /* too many rules: the cap passes, one more is refused with the cap in the message */
    ms_buf b;
    ms_buf_init(&b, 1u << 20);
    for (unsigned extra = 0; extra <= 1; extra++) {
        llmsim_script *s = NULL;
        char why[LLMSIM_WHY_LEN];
        ms_buf_clear(&b);
        CHECK_OK(ms_buf_append_str(&b, "{\"rules\":["));
        for (unsigned i = 0; i < LLMSIM_MAX_RULES + extra; i++) {
            CHECK_OK(ms_buf_append_str(&b, i ? ",{\"reply\":\"r\"}" : "{\"reply\":\"r\"}"));
        }
        CHECK_OK(ms_buf_append_str(&b, "]}"));
        ms_err e = llmsim_script_parse((const char *)b.p, b.len, &s, why, sizeof why);
        CHECK_ERR(e, extra ? MS_ERR_JSON_TOO_LONG : MS_OK);
        CHECK(extra ? strstr(why, "at most 256 rules") != NULL
                    : llmsim_script_rule_count(s) == LLMSIM_MAX_RULES);
        llmsim_script_free(s);
    }
    ms_buf_free(&b);
    llmsim_script *s = NULL;
    char why[LLMSIM_WHY_LEN];
    CHECK_ERR(llmsim_script_parse("{}", LLMSIM_MAX_SCRIPT + 1, &s, why, sizeof why),
              MS_ERR_CAP_EXCEEDED);
}

static const char script_text[] =
    "{\"rules\":["
    "{\"role\":\"system\",\"contains\":\"pirate\",\"reply\":\"Arr.\"},"
    "{\"contains\":\"France\",\"reply\":\"Paris.\",\"delay_ms\":5},"
    "{\"equals\":\"ping\",\"reply\":\"pong\"},"
    "{\"contains\":\"explode\",\"status\":503},"
    "{\"contains\":\"cut\",\"reply\":\"a b c\",\"stream_fail_after\":0},"
    "{\"contains\":\"limit\",\"reply\":\"<think>a\",\"finish_reason\":\"length\"},"
    "{\"contains\":\"whole\",\"reply\":\"b\",\"finish_reason\":\"stop\"},"
    "{\"contains\":\"quirky\",\"reply\":\"c\",\"quirks\":[\"crlf\",\"error_line\"]},"
    "{\"contains\":\"busy\",\"status\":429,\"retry_after\":7}],"
    "\"default\":\"dunno\",\"models\":[\"m1\",\"m2\"]}";

static void plan_for(const llmsim_script *s, const llmsim_msg *m, size_t n, const char *text,
                     int rule)
{
    llmsim_plan p;
    llmsim_script_match(s, m, n, &p);
    CHECK(p.rule == rule);
    CHECK(p.len == strlen(text) && memcmp(p.text, text, p.len) == 0);
}

static void test_script_match(void)
{
    llmsim_script *s = NULL;
    char why[LLMSIM_WHY_LEN];
    CHECK_OK(llmsim_script_parse(S(script_text), &s, why, sizeof why));
    size_t n;
    const char *const *models = llmsim_script_models(s, &n);
    CHECK(n == 2 && strcmp(models[0], "m1") == 0 && strcmp(models[1], "m2") == 0);

    llmsim_msg m[3] = {{.role = "system", .content = "talk like a pirate", .content_len = 18},
                       {.role = "user", .content = "ping", .content_len = 4},
                       {.role = "user", .content = "capital of France?", .content_len = 18}};
    plan_for(s, m, 3, "Arr.", 0);          /* the system rule comes first */
    plan_for(s, m + 1, 2, "Paris.", 1);    /* only the LAST user message counts */
    plan_for(s, m + 1, 1, "pong", 2);      /* equals: exact */
    m[1].content = "ping!";
    m[1].content_len = 5;
    plan_for(s, m + 1, 1, "dunno", -1);    /* equals is not contains */
    plan_for(s, m, 0, "dunno", -1);        /* no messages: the default */

    llmsim_msg boom = {.role = "user", .content = "please explode", .content_len = 14};
    llmsim_plan p;
    llmsim_script_match(s, &boom, 1, &p);
    CHECK(p.rule == 3 && p.status == 503 && p.len > 0);
    llmsim_msg cut = {.role = "user", .content = "cut", .content_len = 3};
    llmsim_script_match(s, &cut, 1, &p);
    CHECK(p.rule == 4 && p.cut && p.cut_after == 0 && p.status == 0 && !p.length);
    llmsim_msg limit = {.role = "user", .content = "limit", .content_len = 5};
    llmsim_script_match(s, &limit, 1, &p);
    CHECK(p.rule == 5 && p.length && !p.cut && p.status == 0);
    llmsim_msg whole = {.role = "user", .content = "whole", .content_len = 5};
    llmsim_script_match(s, &whole, 1, &p);
    CHECK(p.rule == 6 && !p.length && p.quirks == 0);
    llmsim_msg quirky = {.role = "user", .content = "quirky", .content_len = 6};
    llmsim_script_match(s, &quirky, 1, &p);
    CHECK(p.rule == 7 && p.quirks == (LLMSIM_Q_CRLF | LLMSIM_Q_ERROR_LINE) && p.retry_after == 0);
    llmsim_msg busy = {.role = "user", .content = "busy", .content_len = 4};
    llmsim_script_match(s, &busy, 1, &p);
    CHECK(p.rule == 8 && p.status == 429 && p.retry_after == 7);
    llmsim_script_match(s, m + 2, 1, &p);
    CHECK(p.delay_ms == 5 && !p.cut);

    /* no script: the built-in reply */
    llmsim_script_match(NULL, m, 3, &p);
    CHECK(p.rule == -1 && strcmp(p.text, LLMSIM_DEFAULT_REPLY) == 0);
    CHECK(llmsim_script_models(NULL, &n) == NULL && n == 0);
    llmsim_script_free(s);

    /* an empty script: the built-in default too */
    CHECK_OK(llmsim_script_parse(S("{}"), &s, why, sizeof why));
    llmsim_script_match(s, m, 3, &p);
    CHECK(strcmp(p.text, LLMSIM_DEFAULT_REPLY) == 0);
    llmsim_script_free(s);
}

int main(void)
{
    RUN(test_tokens);
    RUN(test_request_ollama);
    RUN(test_request_openai);
    RUN(test_request_negative);
    RUN(test_request_caps);
    RUN(test_request_truncated);
    RUN(test_script_negative);
    RUN(test_script_match);
    return TEST_SUMMARY();
}

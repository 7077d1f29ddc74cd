/* Tests for protocols/plan: decisions, plans and job outputs from untrusted model text; caps. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "protocols/plan.h"
#include "protocols/prompts.h"
#include "protocols/protocol.h"
#include "apps/minions-secure/worker.h"
#include "tests/fixture/http_fixture.h"
#include "tests/test.h"

#define TASK1 "{\"id\":\"t1\",\"instruction\":\"find the attacker's IP address\"}"
#define CHUNKING "\"chunking\":{\"method\":\"paragraphs\",\"size\":4000}"
#define VALID "{\"tasks\":[" TASK1 "]," CHUNKING "}"

static ms_err parse(const char *json, ms_plan *p, char *why, size_t cap)
{
    return ms_plan_parse(json, strlen(json), NULL, p, why, cap);
}

/* Expect an error and a reason containing `needle`; the plan stays empty. */
static void expect_plan_err(const char *json, ms_err want, const char *needle)
{
    ms_plan p;
    char why[MS_PLAN_WHY_MAX] = "";
    ms_err e = parse(json, &p, why, sizeof why);
    if (e != want) {
        TEST_FAIL_("%s: got %s, want %s (%s)", json, ms_err_name(e), ms_err_name(want), why);
    } else if (needle && !strstr(why, needle)) {
        TEST_FAIL_("%s: reason \"%s\" lacks \"%s\"", json, why, needle);
    } else {
        test_pass_count_++;
    }
    CHECK(p.tasks == NULL && p.n_tasks == 0 && p.query == NULL);
    ms_plan_free(&p);
}

static void test_valid_plans(void)
{
    ms_plan p;
    char why[MS_PLAN_WHY_MAX];
    CHECK_OK(parse(VALID, &p, why, sizeof why));
    CHECK(p.n_tasks == 1 && strcmp(p.tasks[0].id, "t1") == 0);
    CHECK(strcmp(p.tasks[0].instruction, "find the attacker's IP address") == 0);
    CHECK(p.chunking.method == MS_CHUNK_PARAGRAPHS && p.chunking.size == 4000);
    CHECK(p.chunking.overlap == 0 && !p.retrieval && p.query == NULL && p.top_k == 0);
    ms_plan_free(&p);
    CHECK(p.tasks == NULL);

    const char *full =
        "{\"tasks\":[" TASK1 ",{\"id\":\"T-2.b_c\",\"instruction\":\"list hosts\"}],"
        "\"chunking\":{\"method\":\"fixed\",\"size\":1000,\"overlap\":500},"
        "\"retrieval\":{\"query\":\"ssh login failed\",\"top_k\":256}}";
    CHECK_OK(parse(full, &p, why, sizeof why));
    CHECK(p.n_tasks == 2 && strcmp(p.tasks[1].id, "T-2.b_c") == 0);
    CHECK(p.chunking.method == MS_CHUNK_FIXED && p.chunking.size == 1000 &&
          p.chunking.overlap == 500);
    CHECK(p.retrieval && p.top_k == 256 && strcmp(p.query, "ssh login failed") == 0);
    ms_plan_free(&p);

    /* Each method by name; retrieval null means none; the smallest and largest sizes. */
    const char *methods[] = {"fixed", "paragraphs", "pages", "code"};
    for (int i = 0; i < 4; i++) {
        char j[256];
        snprintf(j, sizeof j,
                 "{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"%s\",\"size\":%u},"
                 "\"retrieval\":null}",
                 methods[i], i % 2 ? MS_MIN_CHUNK_SIZE : MS_MAX_CHUNK_SIZE);
        CHECK_OK(parse(j, &p, why, sizeof why));
        CHECK(p.chunking.method == (ms_chunk_method)i && !p.retrieval);
        ms_plan_free(&p);
    }

    /* The most tasks the default cap allows. */
    char big[4096] = "{\"tasks\":[";
    for (unsigned i = 0; i < MS_PLAN_MAX_TASKS; i++) {
        size_t o = strlen(big);
        snprintf(big + o, sizeof big - o, "%s{\"id\":\"t%u\",\"instruction\":\"x\"}", i ? "," : "",
                 i);
    }
    strncat(big, "]," CHUNKING "}", sizeof big - strlen(big) - 1);
    CHECK_OK(parse(big, &p, why, sizeof why));
    CHECK(p.n_tasks == MS_PLAN_MAX_TASKS);
    ms_plan_free(&p);
}

static void test_plan_fields(void)
{
    /* missing */
    expect_plan_err("{" CHUNKING "}", MS_ERR_JSON_MISSING, "plan.tasks is missing");
    expect_plan_err("{\"tasks\":[" TASK1 "]}", MS_ERR_JSON_MISSING, "plan.chunking is missing");
    expect_plan_err("{\"tasks\":[{\"instruction\":\"x\"}]," CHUNKING "}", MS_ERR_JSON_MISSING,
                    "plan.tasks[0].id is missing");
    expect_plan_err("{\"tasks\":[{\"id\":\"a\"}]," CHUNKING "}", MS_ERR_JSON_MISSING,
                    "plan.tasks[0].instruction is missing");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"size\":100}}", MS_ERR_JSON_MISSING,
                    "plan.chunking.method");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\"}}",
                    MS_ERR_JSON_MISSING, "plan.chunking.size is missing");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING ",\"retrieval\":{\"top_k\":3}}",
                    MS_ERR_JSON_MISSING, "plan.retrieval.query is missing");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING ",\"retrieval\":{\"query\":\"ip\"}}",
                    MS_ERR_JSON_MISSING, "plan.retrieval.top_k is missing");
    /* mistyped */
    expect_plan_err("[]", MS_ERR_JSON_TYPE, "plan is not an object");
    expect_plan_err("{\"tasks\":{}," CHUNKING "}", MS_ERR_JSON_TYPE, "plan.tasks has the wrong");
    expect_plan_err("{\"tasks\":[\"t1\"]," CHUNKING "}", MS_ERR_JSON_TYPE,
                    "plan.tasks[0] is not an object");
    expect_plan_err("{\"tasks\":[{\"id\":1,\"instruction\":\"x\"}]," CHUNKING "}",
                    MS_ERR_JSON_TYPE, "plan.tasks[0].id");
    expect_plan_err("{\"tasks\":[{\"id\":\"a\",\"instruction\":null}]," CHUNKING "}",
                    MS_ERR_JSON_TYPE, "plan.tasks[0].instruction");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":\"paragraphs\"}", MS_ERR_JSON_TYPE,
                    "plan.chunking");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":1,\"size\":100}}",
                    MS_ERR_JSON_TYPE, "plan.chunking.method");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\",\"size\":\"100\"}}",
                    MS_ERR_JSON_TYPE, "plan.chunking.size");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\",\"size\":-1}}",
                    MS_ERR_JSON_RANGE, "plan.chunking.size");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\",\"size\":100.5}}",
                    MS_ERR_JSON_RANGE, "plan.chunking.size");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\",\"size\":100,"
                    "\"overlap\":true}}",
                    MS_ERR_JSON_TYPE, "plan.chunking.overlap");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING ",\"retrieval\":\"ip\"}", MS_ERR_JSON_TYPE,
                    "plan.retrieval");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING ",\"retrieval\":{\"query\":[],\"top_k\":1}}",
                    MS_ERR_JSON_TYPE, "plan.retrieval.query");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING
                    ",\"retrieval\":{\"query\":\"ip\",\"top_k\":\"5\"}}",
                    MS_ERR_JSON_TYPE, "plan.retrieval.top_k");
    /* unknown fields, at every level */
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING ",\"code\":\"import os\"}",
                    MS_ERR_PLAN_INVALID, "plan has an unknown field \"code\"");
    expect_plan_err("{\"tasks\":[{\"id\":\"a\",\"instruction\":\"x\",\"run\":1}]," CHUNKING "}",
                    MS_ERR_PLAN_INVALID, "plan.tasks[0] has an unknown field \"run\"");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\",\"size\":100,"
                    "\"regex\":\".*\"}}",
                    MS_ERR_PLAN_INVALID, "plan.chunking has an unknown field \"regex\"");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING
                    ",\"retrieval\":{\"query\":\"ip\",\"top_k\":1,\"k1\":2}}",
                    MS_ERR_PLAN_INVALID, "plan.retrieval has an unknown field \"k1\"");
    /* A hostile key is quoted as printable ASCII only. */
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING ",\"\\u001b[31mred\":1}",
                    MS_ERR_PLAN_INVALID, "unknown field \"?[31mred\"");
    /* empty, bad and inconsistent values */
    expect_plan_err("{\"tasks\":[]," CHUNKING "}", MS_ERR_PLAN_INVALID, "plan.tasks is empty");
    expect_plan_err("{\"tasks\":[{\"id\":\"\",\"instruction\":\"x\"}]," CHUNKING "}",
                    MS_ERR_PLAN_INVALID, "plan.tasks[0].id is empty");
    expect_plan_err("{\"tasks\":[{\"id\":\"a b\",\"instruction\":\"x\"}]," CHUNKING "}",
                    MS_ERR_PLAN_INVALID, "may hold only");
    expect_plan_err("{\"tasks\":[{\"id\":\"a\",\"instruction\":\" \\n\"}]," CHUNKING "}",
                    MS_ERR_PLAN_INVALID, "plan.tasks[0].instruction is empty");
    expect_plan_err("{\"tasks\":[" TASK1 "," TASK1 "]," CHUNKING "}", MS_ERR_PLAN_INVALID,
                    "plan.tasks[1].id \"t1\" repeats the id of plan.tasks[0]");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"sentences\",\"size\":100}}",
                    MS_ERR_JSON_ENUM, "plan.chunking.method must be");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\",\"size\":15}}",
                    MS_ERR_PLAN_INVALID, "plan.chunking.size 15 is under 16 bytes");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"paragraphs\",\"size\":100,"
                    "\"overlap\":10}}",
                    MS_ERR_PLAN_INVALID, "only for the \"fixed\" method");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\",\"size\":100,"
                    "\"overlap\":51}}",
                    MS_ERR_PLAN_INVALID, "over half the size");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING
                    ",\"retrieval\":{\"query\":\" \",\"top_k\":1}}",
                    MS_ERR_PLAN_INVALID, "plan.retrieval.query is empty");
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING
                    ",\"retrieval\":{\"query\":\"ip\",\"top_k\":0}}",
                    MS_ERR_PLAN_INVALID, "plan.retrieval.top_k is 0");
    /* not JSON at all */
    expect_plan_err("{\"tasks\":", MS_ERR_JSON_PARSE, "plan:");
}

static void test_plan_lengths(void)
{
    char j[8192];
    char id[MS_PLAN_MAX_ID + 2];
    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0'; /* one over the cap */
    snprintf(j, sizeof j, "{\"tasks\":[{\"id\":\"%s\",\"instruction\":\"x\"}]," CHUNKING "}", id);
    expect_plan_err(j, MS_ERR_JSON_TOO_LONG, "plan.tasks[0].id is longer than 32");
    id[sizeof id - 2] = '\0'; /* exactly the cap */
    snprintf(j, sizeof j, "{\"tasks\":[{\"id\":\"%s\",\"instruction\":\"x\"}]," CHUNKING "}", id);
    ms_plan p;
    char why[MS_PLAN_WHY_MAX];
    CHECK_OK(parse(j, &p, why, sizeof why));
    ms_plan_free(&p);

    char ins[MS_PLAN_MAX_INSTRUCTION + 2];
    memset(ins, 'x', sizeof ins - 1);
    ins[sizeof ins - 1] = '\0';
    snprintf(j, sizeof j, "{\"tasks\":[{\"id\":\"a\",\"instruction\":\"%s\"}]," CHUNKING "}", ins);
    expect_plan_err(j, MS_ERR_JSON_TOO_LONG, "plan.tasks[0].instruction is longer than 2048");

    char q[MS_MAX_BM25_QUERY + 2];
    memset(q, 'q', sizeof q - 1);
    q[sizeof q - 1] = '\0';
    snprintf(j, sizeof j, "{\"tasks\":[" TASK1 "]," CHUNKING
                          ",\"retrieval\":{\"query\":\"%s\",\"top_k\":1}}", q);
    expect_plan_err(j, MS_ERR_JSON_TOO_LONG, "plan.retrieval.query is longer than 4096");
}

static void test_plan_caps(void)
{
    /* 17 tasks: one over the default cap. */
    char big[4096] = "{\"tasks\":[";
    for (unsigned i = 0; i <= MS_PLAN_MAX_TASKS; i++) {
        size_t o = strlen(big);
        snprintf(big + o, sizeof big - o, "%s{\"id\":\"t%u\",\"instruction\":\"x\"}", i ? "," : "",
                 i);
    }
    strncat(big, "]," CHUNKING "}", sizeof big - strlen(big) - 1);
    expect_plan_err(big, MS_ERR_PLAN_REFUSED, "plan.tasks has 17 tasks; the cap is 16");

    /* A 1 GB chunk size, and one byte over the cap. */
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\","
                    "\"size\":1073741824}}",
                    MS_ERR_PLAN_REFUSED,
                    "plan.chunking.size 1073741824 is over the cap of 1048576 bytes");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\","
                    "\"size\":1048577}}",
                    MS_ERR_PLAN_REFUSED, "over the cap");
    expect_plan_err("{\"tasks\":[" TASK1 "],\"chunking\":{\"method\":\"fixed\","
                    "\"size\":1e300}}",
                    MS_ERR_JSON_RANGE, "plan.chunking.size");

    /* top_k over its cap. */
    expect_plan_err("{\"tasks\":[" TASK1 "]," CHUNKING
                    ",\"retrieval\":{\"query\":\"ip\",\"top_k\":257}}",
                    MS_ERR_PLAN_REFUSED, "plan.retrieval.top_k 257 is over the cap of 256");

    /* A caller's own, smaller caps. */
    ms_plan_caps caps = {.max_tasks = 1, .max_chunk_size = 100, .max_top_k = 2};
    ms_plan p;
    char why[MS_PLAN_WHY_MAX];
    const char *two = "{\"tasks\":[" TASK1 ",{\"id\":\"b\",\"instruction\":\"y\"}]," CHUNKING "}";
    CHECK_ERR(ms_plan_parse(two, strlen(two), &caps, &p, why, sizeof why), MS_ERR_PLAN_REFUSED);
    CHECK_ERR(ms_plan_parse(VALID, strlen(VALID), &caps, &p, why, sizeof why),
              MS_ERR_PLAN_REFUSED);
    CHECK(strstr(why, "4000 is over the cap of 100") != NULL);

    /* Caps over their hard limits are the caller's error. */
    ms_plan_caps out;
    ms_plan_caps bad1 = {.max_tasks = MS_PLAN_HARD_TASKS + 1};
    ms_plan_caps bad2 = {.max_jobs = MS_PLAN_HARD_JOBS + 1};
    ms_plan_caps bad3 = {.max_chunk_size = MS_MAX_CHUNK_SIZE + 1};
    ms_plan_caps bad4 = {.max_chunk_size = MS_MIN_CHUNK_SIZE - 1};
    CHECK_ERR(ms_plan_caps_resolve(&bad1, &out), MS_ERR_ARG);
    CHECK_ERR(ms_plan_caps_resolve(&bad2, &out), MS_ERR_ARG);
    CHECK_ERR(ms_plan_caps_resolve(&bad3, &out), MS_ERR_ARG);
    CHECK_ERR(ms_plan_caps_resolve(&bad4, &out), MS_ERR_ARG);
    CHECK_OK(ms_plan_caps_resolve(NULL, &out));
    CHECK(out.max_tasks == MS_PLAN_MAX_TASKS && out.max_jobs == MS_PLAN_MAX_JOBS &&
          out.max_chunk_size == MS_MAX_CHUNK_SIZE && out.max_top_k == MS_PLAN_MAX_TOP_K);
}

/* A plan of n tasks with chunks of `size` bytes, retrieval optional. */
static void make_plan(ms_plan *p, size_t n, size_t size, bool retrieval)
{
    char j[4096];
    int o = snprintf(j, sizeof j, "{\"tasks\":[");
    for (size_t i = 0; i < n; i++) {
        o += snprintf(j + o, sizeof j - (size_t)o, "%s{\"id\":\"t%zu\",\"instruction\":\"x\"}",
                      i ? "," : "", i);
    }
    snprintf(j + o, sizeof j - (size_t)o,
             "],\"chunking\":{\"method\":\"fixed\",\"size\":%zu}%s}", size,
             retrieval ? ",\"retrieval\":{\"query\":\"ip\",\"top_k\":10}" : "");
    char why[MS_PLAN_WHY_MAX];
    ms_err e = ms_plan_parse(j, strlen(j), NULL, p, why, sizeof why);
    if (e != MS_OK) {
        TEST_FAIL_("make_plan: %s", why);
    }
}

static void test_jobs_caps(void)
{
    ms_plan p;
    char why[MS_PLAN_WHY_MAX];
    uint64_t jobs;

    /* 10^6 jobs: 16 tasks x 62,500 chunks of 16 bytes over 1,000,000 bytes of documents. */
    make_plan(&p, 16, 16, false);
    CHECK_ERR(ms_plan_precheck(&p, 1000000, NULL, why, sizeof why), MS_ERR_PLAN_REFUSED);
    CHECK(strstr(why, "at least 62500 chunks (1000000 jobs)") != NULL);
    CHECK_ERR(ms_plan_check_jobs(&p, 62500, 0, NULL, &jobs, why, sizeof why), MS_ERR_PLAN_REFUSED);
    CHECK(jobs == 1000000);
    CHECK(strstr(why, "the plan needs 1000000 jobs (16 tasks x 62500 chunks); the cap is 4096") !=
          NULL);
    /* Exactly at the cap, and one over it. */
    CHECK_OK(ms_plan_check_jobs(&p, 256, 0, NULL, &jobs, why, sizeof why));
    CHECK(jobs == 4096);
    CHECK_ERR(ms_plan_check_jobs(&p, 257, 0, NULL, &jobs, why, sizeof why), MS_ERR_PLAN_REFUSED);
    /* No overflow in the product. */
    CHECK_ERR(ms_plan_check_jobs(&p, SIZE_MAX, 0, NULL, &jobs, why, sizeof why),
              MS_ERR_PLAN_REFUSED);
    CHECK(jobs == UINT64_MAX);
    /* Prompt bytes for one round. */
    CHECK_ERR(ms_plan_check_jobs(&p, 1, (uint64_t)MS_PLAN_MAX_ROUND_BYTES + 1, NULL, &jobs, why,
                                 sizeof why),
              MS_ERR_PLAN_REFUSED);
    CHECK(strstr(why, "bytes to the local model in one round") != NULL);
    ms_plan_free(&p);

    /* Within the chunk cap but over the jobs cap: 16 x 300 = 4800 jobs. */
    make_plan(&p, 16, 1000, false);
    CHECK_ERR(ms_plan_precheck(&p, 300000, NULL, why, sizeof why), MS_ERR_PLAN_REFUSED);
    CHECK(strstr(why, "at least 4800 jobs (16 tasks x 300 chunks)") != NULL);
    CHECK_OK(ms_plan_precheck(&p, 256000, NULL, why, sizeof why)); /* 4096 */
    CHECK_OK(ms_plan_precheck(&p, 0, NULL, why, sizeof why));
    ms_plan_free(&p);
    /* Retrieval bounds the jobs by top_k: the count waits for the split. */
    make_plan(&p, 16, 1000, true);
    CHECK_OK(ms_plan_precheck(&p, 300000, NULL, why, sizeof why));
    CHECK_ERR(ms_plan_precheck(&p, (size_t)MS_MAX_CHUNKS * 1000 + 1, NULL, why, sizeof why),
              MS_ERR_PLAN_REFUSED);
    ms_plan_free(&p);
}

/* --- decisions ----------------------------------------------------------------------------- */

#define MINION_ALLOWED                                                                             \
    (MS_DECIDE_MASK(MS_DECISION_ASK) | MS_DECIDE_MASK(MS_DECISION_FINAL) |                        \
     MS_DECIDE_MASK(MS_DECISION_NO_ANSWER))
#define MINIONS_ALLOWED                                                                            \
    (MS_DECIDE_MASK(MS_DECISION_PLAN) | MS_DECIDE_MASK(MS_DECISION_FINAL) |                       \
     MS_DECIDE_MASK(MS_DECISION_NO_ANSWER))

static ms_err decide(const char *text, unsigned allowed, ms_decision *d, char *why)
{
    return ms_decision_parse(text, strlen(text), allowed, NULL, d, why, MS_PLAN_WHY_MAX);
}

static void expect_decision(const char *text, unsigned allowed, ms_decision_kind kind,
                            const char *payload)
{
    ms_decision d;
    char why[MS_PLAN_WHY_MAX];
    ms_err e = decide(text, allowed, &d, why);
    if (e != MS_OK || d.kind != kind || (payload && (!d.text || strcmp(d.text, payload) != 0))) {
        TEST_FAIL_("%s: %s kind %d (%s)", text, ms_err_name(e), (int)d.kind, why);
    } else {
        test_pass_count_++;
    }
    ms_decision_free(&d);
}

static void expect_decision_err(const char *text, unsigned allowed, ms_err want,
                                const char *needle)
{
    ms_decision d;
    char why[MS_PLAN_WHY_MAX] = "";
    ms_err e = decide(text, allowed, &d, why);
    if (e != want || (needle && !strstr(why, needle))) {
        TEST_FAIL_("%s: got %s (%s), want %s with \"%s\"", text, ms_err_name(e), why,
                   ms_err_name(want), needle ? needle : "");
    } else {
        test_pass_count_++;
    }
    CHECK(d.text == NULL && d.json == NULL && d.plan.tasks == NULL);
    ms_decision_free(&d);
}

static void test_decisions(void)
{
    expect_decision("{\"decision\":\"request_additional_info\",\"message\":\"Which host?\"}",
                    MINION_ALLOWED, MS_DECISION_ASK, "Which host?");
    expect_decision("{\"decision\":\"provide_final_answer\",\"answer\":\"42\",\"reasoning\":\"r\"}",
                    MINION_ALLOWED, MS_DECISION_FINAL, "42");
    expect_decision("{\"decision\":\"cannot_answer\",\"reason\":\"not in the logs\","
                    "\"reasoning\":null}",
                    MINION_ALLOWED, MS_DECISION_NO_ANSWER, "not in the logs");
    /* Messy output: fences, prose, think blocks. */
    expect_decision("```json\n{\"decision\":\"provide_final_answer\",\"answer\":\"fenced\"}\n```",
                    MINION_ALLOWED, MS_DECISION_FINAL, "fenced");
    expect_decision("Sure! Here is my decision: {\"decision\":\"provide_final_answer\","
                    "\"answer\":\"prose\"} Hope that helps.",
                    MINION_ALLOWED, MS_DECISION_FINAL, "prose");
    expect_decision("<think>maybe {\"decision\":\"cannot_answer\"}</think>\n"
                    "{\"decision\":\"provide_final_answer\",\"answer\":\"thought\"}",
                    MINION_ALLOWED, MS_DECISION_FINAL, "thought");
    /* A plan decision keeps the plan and the JSON's exact bytes. */
    ms_decision d;
    char why[MS_PLAN_WHY_MAX];
    const char *pj = "x {\"decision\":\"run_plan\",\"plan\":" VALID "} y";
    CHECK_OK(decide(pj, MINIONS_ALLOWED, &d, why));
    CHECK(d.kind == MS_DECISION_PLAN && d.plan.n_tasks == 1 && d.text == NULL);
    CHECK(d.json_len == strlen(pj) - 4 && memcmp(d.json, pj + 2, d.json_len) == 0);
    ms_decision_free(&d);

    /* Unusable replies, each with its reason. */
    expect_decision_err("", MINION_ALLOWED, MS_ERR_MODEL_OUTPUT, "");
    expect_decision_err("I think the answer is 42.", MINION_ALLOWED, MS_ERR_MODEL_OUTPUT,
                        "the output begins: \"I think the answer is 42.\"");
    expect_decision_err("{\"decision\": \"provide_final_answer\", \"answer\": \"x\",}",
                        MINION_ALLOWED, MS_ERR_MODEL_OUTPUT, "not valid JSON");
    expect_decision_err("{\"decision\": \"provide_final_answer\", \"answer\": \"cut",
                        MINION_ALLOWED, MS_ERR_MODEL_OUTPUT, "never closed");
    expect_decision_err("<think>still thinking {\"decision\"", MINION_ALLOWED, MS_ERR_MODEL_OUTPUT,
                        "a <think> block never closed");
    expect_decision_err("{\"answer\":\"x\"}", MINION_ALLOWED, MS_ERR_JSON_MISSING,
                        "decision is missing");
    expect_decision_err("{\"decision\":\"shrug\",\"answer\":\"x\"}", MINION_ALLOWED,
                        MS_ERR_JSON_ENUM,
                        "\"decision\" is \"shrug\"; it must be one of \"request_additional_info\", "
                        "\"provide_final_answer\", \"cannot_answer\"");
    expect_decision_err("{\"decision\":\"run_plan\",\"plan\":" VALID "}", MINION_ALLOWED,
                        MS_ERR_JSON_ENUM, "\"decision\" is \"run_plan\"");
    expect_decision_err("{\"decision\":\"request_additional_info\",\"message\":\"q\"}",
                        MINIONS_ALLOWED, MS_ERR_JSON_ENUM,
                        "must be one of \"provide_final_answer\"");
    expect_decision_err("{\"decision\":\"provide_final_answer\",\"answer\":\"\"}", MINION_ALLOWED,
                        MS_ERR_MODEL_OUTPUT, "\"answer\" is empty");
    expect_decision_err("{\"decision\":\"provide_final_answer\",\"answer\":\" \\n\\t\"}",
                        MINION_ALLOWED, MS_ERR_MODEL_OUTPUT, "\"answer\" is empty");
    expect_decision_err("{\"decision\":\"provide_final_answer\",\"answer\":null}", MINION_ALLOWED,
                        MS_ERR_JSON_TYPE, "answer has the wrong JSON type");
    expect_decision_err("{\"decision\":\"provide_final_answer\"}", MINION_ALLOWED,
                        MS_ERR_JSON_MISSING, "answer is missing");
    expect_decision_err("{\"decision\":\"provide_final_answer\",\"answer\":\"a\","
                        "\"message\":\"m\"}",
                        MINION_ALLOWED, MS_ERR_MODEL_OUTPUT,
                        "field \"message\" does not belong with decision \"provide_final_answer\"");
    expect_decision_err("{\"decision\":\"provide_final_answer\",\"answer\":\"a\",\"confidence\":1}",
                        MINION_ALLOWED, MS_ERR_MODEL_OUTPUT, "unknown field \"confidence\"");
    expect_decision_err("{\"decision\":\"provide_final_answer\",\"answer\":\"a\",\"reasoning\":1}",
                        MINION_ALLOWED, MS_ERR_JSON_TYPE, "reasoning");
    /* A refused plan still says it was a plan (kind), so the caller can log it as one. */
    const char *huge = "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":[" TASK1 "],"
                       "\"chunking\":{\"method\":\"fixed\",\"size\":1073741824}}}";
    CHECK_ERR(decide(huge, MINIONS_ALLOWED, &d, why), MS_ERR_PLAN_REFUSED);
    CHECK(d.kind == MS_DECISION_PLAN && d.plan.tasks == NULL);
    ms_decision_free(&d);
    CHECK_ERR(decide("nope", MINIONS_ALLOWED, &d, why), MS_ERR_MODEL_OUTPUT);
    CHECK(d.kind == MS_DECISION_KIND_COUNT);
    ms_decision_free(&d);

    /* Caps on the fields and the object. */
    size_t n = MS_MAX_PROTO_ANSWER + 1;
    char *big = malloc(n + 64);
    int o = snprintf(big, 64, "{\"decision\":\"provide_final_answer\",\"answer\":\"");
    memset(big + o, 'a', n);
    memcpy(big + o + n, "\"}", 3);
    CHECK_ERR(decide(big, MINION_ALLOWED, &d, why), MS_ERR_JSON_TOO_LONG);
    big[o + n - 1] = '"';
    big[o + n] = '}';
    big[o + n + 1] = '\0';
    CHECK_OK(decide(big, MINION_ALLOWED, &d, why)); /* exactly the cap */
    CHECK(d.text_len == MS_MAX_PROTO_ANSWER);
    ms_decision_free(&d);
    free(big);
    CHECK_ERR(ms_decision_parse("{}", 2, 0, NULL, &d, why, sizeof why), MS_ERR_ARG);
    CHECK_ERR(ms_decision_parse(NULL, 3, MINION_ALLOWED, NULL, &d, why, sizeof why), MS_ERR_ARG);
}

/* --- job outputs ---------------------------------------------------------------------------- */

static void test_job_outputs(void)
{
    ms_job_output o;
    char why[MS_PLAN_WHY_MAX];
    const char *full = "{\"explanation\":\"line 3 shows it\",\"citation\":\"from 10.0.0.5\","
                       "\"answer\":\"10.0.0.5\"}";
    CHECK_OK(ms_job_output_parse(full, strlen(full), &o, why, sizeof why));
    CHECK(o.has_answer && strcmp(o.answer, "10.0.0.5") == 0 &&
          strcmp(o.citation, "from 10.0.0.5") == 0 && o.explanation_len == 15);
    ms_job_output_free(&o);
    const char *none =
        "```json\n{\"explanation\":\"nothing\",\"citation\":null,\"answer\":null}\n```";
    CHECK_OK(ms_job_output_parse(none, strlen(none), &o, why, sizeof why));
    CHECK(!o.has_answer && o.answer == NULL && o.citation == NULL && o.explanation != NULL);
    ms_job_output_free(&o);
    const char *blank = "{\"answer\":\"  \",\"extra\":[1,2]}";
    CHECK_OK(ms_job_output_parse(blank, strlen(blank), &o, why, sizeof why));
    CHECK(!o.has_answer && o.explanation == NULL);
    ms_job_output_free(&o);
    const char *missing = "{\"explanation\":\"x\"}";
    CHECK_ERR(ms_job_output_parse(missing, strlen(missing), &o, why, sizeof why),
              MS_ERR_JSON_MISSING);
    CHECK(strstr(why, "answer is missing") != NULL && o.explanation == NULL);
    const char *typed = "{\"answer\":5}";
    CHECK_ERR(ms_job_output_parse(typed, strlen(typed), &o, why, sizeof why), MS_ERR_JSON_TYPE);
    const char *cit = "{\"answer\":\"a\",\"citation\":[\"x\"]}";
    CHECK_ERR(ms_job_output_parse(cit, strlen(cit), &o, why, sizeof why), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_job_output_parse("no json here", 12, &o, why, sizeof why), MS_ERR_MODEL_OUTPUT);
    CHECK(strstr(why, "no json here") != NULL);
}

static void test_utf8_prefix(void)
{
    const char *s = "ab\xc3\xa9z"; /* a b é z */
    CHECK(ms_utf8_prefix(s, 5, 10) == 5);
    CHECK(ms_utf8_prefix(s, 5, 4) == 4);
    CHECK(ms_utf8_prefix(s, 5, 3) == 2); /* not inside é */
    CHECK(ms_utf8_prefix(s, 5, 2) == 2);
    CHECK(ms_utf8_prefix("\xe2\x82\xac", 3, 2) == 0);
    CHECK(ms_utf8_prefix("\x80\x80\x80\x80\x80\x80", 6, 5) == 5); /* not UTF-8: any cut */
}

/* --- a refused plan runs nothing ------------------------------------------------------------ */

typedef struct fake_sup {
    const char *const *replies;
    size_t n, calls;
    char last_user[16384];
} fake_sup;

/* The supervisor as a script: reply i to turn i (the last one repeats). */
static ms_err fake_turn(void *ctx, const ms_chat_msg *msgs, size_t n, ms_turn_reply *reply)
{
    fake_sup *f = ctx;
    const ms_chat_msg *last = &msgs[n - 1];
    ms_turn_reply_clear(reply);
    snprintf(f->last_user, sizeof f->last_user, "%.*s", (int)last->content_len, last->content);
    const char *r = f->replies[f->calls < f->n ? f->calls : f->n - 1];
    f->calls++;
    return ms_buf_append_str(&reply->content, r);
}

static void test_refused_plan_runs_nothing(void)
{
    static const char ok_reply[] = "{\"message\":{\"role\":\"assistant\",\"content\":\"{}\"},"
                                   "\"done\":true}";
    fx_route routes[] = {{.path = "/api/tags", .body = "{\"models\":[]}"},
                         {.path = "/api/chat", .body = ok_reply}};
    fx_server *fx = fx_start(routes, 2);
    CHECK(fx != NULL);
    if (!fx) {
        return;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", fx_port(fx));
    ms_llm_engine worker = {.kind = MS_LLM_OLLAMA, .base_url = url, .model = "m"};
    ms_worker_engine we = {.engine = &worker};
    static const char *const replies[] = {
        "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":[" TASK1 "],"
        "\"chunking\":{\"method\":\"fixed\",\"size\":1073741824}}}",
        "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":[" TASK1 "],"
        "\"chunking\":{\"method\":\"fixed\",\"size\":16}}}"};
    fake_sup sup = {.replies = replies, .n = 2};
    static char context[64 * 1024];
    memset(context, 'x', sizeof context);
    ms_proto_cfg cfg = {.task = "find the IP", .context = context, .context_len = sizeof context,
                        .max_rounds = 3, .max_format_retries = 2, .jobs = 4,
                        .caps = {.max_jobs = 100}, .worker = ms_worker_over_engine(&we),
                        .worker_temperature = -1, .remote = {.turn = fake_turn, .ctx = &sup}};
    ms_proto_result r;
    ms_proto_result_init(&r);
    CHECK_OK(ms_minions_run(&cfg, &r));
    CHECK(r.outcome == MS_OUTCOME_FAILED && r.err == MS_ERR_PLAN_REFUSED && !r.worker_failed);
    CHECK(sup.calls == 3); /* the plan and two re-asks */
    CHECK(strstr(sup.last_user, "Your plan was refused before anything ran: the plan needs at "
                                "least 4096 jobs (1 tasks x 4096 chunks); the cap is 100") != NULL);
    CHECK(strstr(r.why, "after 2 re-asks") != NULL);
    CHECK(fx_hits(fx, "/api/chat") == 0); /* nothing ran */
    CHECK(fx_hits(fx, "/api/tags") == 1); /* the worker check before round 1 */
    CHECK(r.jobs_run == 0 && r.rounds == 1);
    ms_proto_result_free(&r);
    fx_stop(fx);
}

/* Every job fails on the engine: the run fails as the worker's, after one supervisor round. */
static void test_all_jobs_failed(void)
{
    fx_route routes[] = {{.path = "/api/tags", .body = "{\"models\":[]}"},
                         {.path = "/api/chat", .status = 500,
                          .body = "{\"error\":\"out of memory\"}"}};
    fx_server *fx = fx_start(routes, 2);
    CHECK(fx != NULL);
    if (!fx) {
        return;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", fx_port(fx));
    ms_llm_engine worker = {.kind = MS_LLM_OLLAMA, .base_url = url, .model = "m",
                            .max_retries = 1, .backoff_base_ms = 1};
    ms_worker_engine we = {.engine = &worker};
    static const char *const replies[] = {
        "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":[" TASK1 "],"
        "\"chunking\":{\"method\":\"fixed\",\"size\":1000}}}"};
    fake_sup sup = {.replies = replies, .n = 1};
    static char context[3000];
    memset(context, 'x', sizeof context);
    ms_proto_cfg cfg = {.task = "find the IP", .context = context, .context_len = sizeof context,
                        .max_rounds = 3, .max_format_retries = 2, .jobs = 2,
                        .worker = ms_worker_over_engine(&we), .worker_temperature = -1,
                        .remote = {.turn = fake_turn, .ctx = &sup}};
    ms_proto_result r;
    ms_proto_result_init(&r);
    CHECK_OK(ms_minions_run(&cfg, &r));
    CHECK(r.outcome == MS_OUTCOME_FAILED && r.worker_failed && r.err == MS_ERR_BACKEND_STATUS);
    CHECK(r.jobs_run == 3 && r.jobs_failed == 3 && sup.calls == 1);
    CHECK(strstr(r.why, "all 3 jobs of round 1 failed") != NULL);
    CHECK(fx_hits(fx, "/api/chat") == 6); /* each job: one try and one retry */
    ms_proto_result_free(&r);
    fx_stop(fx);
}

/* A long worker answer reaches the supervisor cut, with a note saying how much is missing. */
static void test_worker_answer_cut(void)
{
    static char body[8192];
    int o = snprintf(body, sizeof body, "{\"message\":{\"role\":\"assistant\",\"content\":\"");
    memset(body + o, 'w', 5000);
    snprintf(body + o + 5000, sizeof body - (size_t)o - 5000, "\"},\"done\":true}");
    fx_route routes[] = {{.path = "/api/tags", .body = "{\"models\":[]}"},
                         {.path = "/api/chat", .body = body}};
    fx_server *fx = fx_start(routes, 2);
    CHECK(fx != NULL);
    if (!fx) {
        return;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", fx_port(fx));
    ms_llm_engine worker = {.kind = MS_LLM_OLLAMA, .base_url = url, .model = "m"};
    ms_worker_engine we = {.engine = &worker};
    static const char *const replies[] = {
        "{\"decision\":\"request_additional_info\",\"message\":\"all of it\"}",
        "{\"decision\":\"provide_final_answer\",\"answer\":\"done\"}"};
    fake_sup sup = {.replies = replies, .n = 2};
    ms_proto_cfg cfg = {.task = "t", .context = "ctx", .context_len = 3, .max_rounds = 2,
                        .worker = ms_worker_over_engine(&we), .worker_temperature = -1,
                        .remote = {.turn = fake_turn, .ctx = &sup}};
    ms_proto_result r;
    ms_proto_result_init(&r);
    CHECK_OK(ms_minion_run(&cfg, &r));
    CHECK(r.outcome == MS_OUTCOME_ANSWER && r.rounds == 2 && sup.calls == 2);
    CHECK(strstr(sup.last_user, " [... 904 more bytes not shown]") != NULL);
    CHECK(strstr(sup.last_user, "This is round 2 of 2, the last one") != NULL);
    ms_proto_result_free(&r);
    fx_stop(fx);
}

/* --- a round's job prompts: made one at a time, when the worker builds the request ---------- */

typedef struct lazy_worker {
    const char *context;
    size_t jobs, made, live, max_live, prebuilt, wrong, not_wiped, four_msgs;
    bool bad_once; /* job 1's first reply is not the output JSON (a re-ask follows) */
} lazy_worker;

static ms_err lazy_ping(void *ctx, long *status)
{
    (void)ctx;
    *status = 0;
    return MS_OK;
}

/* Chunks of 1000 bytes (fixed, no overlap) of a 3000-byte context: job i has chunk i % 3. */
static void lazy_one(lazy_worker *w, ms_worker_job *j, size_t i)
{
    const ms_chat_msg *msgs = NULL;
    size_t n = 0;
    ms_buf want;
    ms_chat_result_init(&j->result);
    w->prebuilt += j->msgs[0].content != NULL;
    j->err = j->make_msgs(j->msgs_ctx, &msgs, &n);
    w->made++;
    w->live++;
    w->max_live = w->live > w->max_live ? w->live : w->max_live;
    ms_buf_init(&want, 8192);
    size_t chunk = w->jobs == 0 ? i % 3 : 1; /* jobs 0..5 in order, then job 1 re-asked */
    ms_err e = ms_prompt_job_system(w->context + chunk * 1000, 1000, chunk, 3, 0, &want);
    const char *seen = n > 0 ? msgs[0].content : NULL;
    size_t seen_len = n > 0 ? msgs[0].content_len : 0;
    w->wrong += j->err != MS_OK || e != MS_OK || seen_len != want.len ||
                memcmp(seen, want.p, want.len) != 0;
    w->four_msgs += n == 4;
    j->drop_msgs(j->msgs_ctx);
    w->live--;
    for (size_t k = 0; seen != NULL && k < seen_len; k++) {
        if (seen[k] != 0) { /* the prompt's bytes, wiped as soon as the request is built */
            w->not_wiped++;
            break;
        }
    }
    ms_buf_free(&want);
    const char *reply = w->bad_once && i == 1 && w->jobs == 0
                            ? "not the output JSON"
                            : "{\"explanation\":\"e\",\"citation\":null,\"answer\":\"a\"}";
    j->err = j->err == MS_OK ? ms_buf_append_str(&j->result.content, reply) : j->err;
}

static ms_err lazy_chat(void *ctx, const ms_chat_msg *msgs, size_t n, const ms_chat_opts *opts,
                        ms_chat_result *r)
{
    (void)ctx, (void)msgs, (void)n, (void)opts, (void)r;
    return MS_ERR_INTERNAL; /* Minions batches every job */
}

static ms_err lazy_batch(void *ctx, ms_worker_job *jobs, size_t n, unsigned parallel,
                         ms_worker_progress_fn progress, void *progress_ctx)
{
    lazy_worker *w = ctx;
    (void)parallel;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].make_msgs == NULL || jobs[i].drop_msgs == NULL) {
            w->wrong++;
            return MS_ERR_INTERNAL;
        }
        lazy_one(w, &jobs[i], i);
        if (progress) {
            progress(progress_ctx, i + 1, n);
        }
    }
    w->jobs += n;
    return MS_OK;
}

static void test_job_prompts_one_at_a_time(void)
{
    static const char *const replies[] = {
        "{\"decision\":\"run_plan\",\"plan\":{\"tasks\":[" TASK1 ",{\"id\":\"t2\","
        "\"instruction\":\"find the time\"}],\"chunking\":{\"method\":\"fixed\",\"size\":1000}}}",
        "{\"decision\":\"provide_final_answer\",\"answer\":\"done\"}"};
    fake_sup sup = {.replies = replies, .n = 2};
    static char context[3001];
    for (size_t i = 0; i < 3000; i++) {
        context[i] = (char)('a' + (i * 7 + i / 100) % 26);
    }
    lazy_worker w = {.context = context, .bad_once = true};
    ms_worker worker = {.name = "lazy", .ping = lazy_ping, .chat = lazy_chat,
                        .batch = lazy_batch, .ctx = &w};
    ms_proto_cfg cfg = {.task = "find the IP", .context = context, .context_len = 3000,
                        .max_rounds = 3, .max_format_retries = 1, .jobs = 2, .worker = worker,
                        .worker_temperature = -1, .remote = {.turn = fake_turn, .ctx = &sup}};
    ms_proto_result r;
    ms_proto_result_init(&r);
    CHECK_OK(ms_minions_run(&cfg, &r));
    CHECK(r.outcome == MS_OUTCOME_ANSWER && r.jobs_run == 6 && r.jobs_failed == 0);
    CHECK(w.jobs == 7 && w.made == 7); /* 2 tasks x 3 chunks, then job 1 re-asked */
    CHECK(w.max_live == 1 && w.live == 0 && w.prebuilt == 0);
    CHECK(w.wrong == 0 && w.not_wiped == 0);
    CHECK(w.four_msgs == 1); /* the re-ask: its chunk again, the echo and the correction */
    ms_proto_result_free(&r);
}

/* Bad arguments are the caller's error, before anything is contacted. */
static void test_bad_args(void)
{
    static const char *const replies[] = {"{}"};
    fake_sup sup = {.replies = replies, .n = 1};
    ms_llm_engine worker = {.kind = MS_LLM_OLLAMA, .base_url = "http://127.0.0.1:1", .model = "m"};
    ms_worker_engine we = {.engine = &worker};
    ms_proto_cfg ok = {.task = "t", .context = "c", .context_len = 1, .max_rounds = 1,
                       .worker = ms_worker_over_engine(&we),
                       .remote = {.turn = fake_turn, .ctx = &sup}};
    ms_proto_cfg c[8];
    for (size_t i = 0; i < 8; i++) {
        c[i] = ok;
    }
    c[0].max_rounds = 0;
    c[1].max_rounds = MS_MAX_PROTO_ROUNDS + 1;
    c[2].max_format_retries = MS_MAX_FORMAT_RETRIES + 1;
    c[3].task = "bad \xc3\x28 utf-8";
    c[4].context = "a\0b";
    c[4].context_len = 3;
    c[5].doc_metadata = "\xed\xa0\x80"; /* a surrogate */
    c[6].task = "";
    c[7].remote.turn = NULL;
    ms_proto_result r;
    ms_proto_result_init(&r);
    for (size_t i = 0; i < 8; i++) {
        CHECK_ERR(ms_minion_run(&c[i], &r), MS_ERR_ARG);
        CHECK_ERR(ms_minions_run(&c[i], &r), MS_ERR_ARG);
    }
    ok.jobs = MS_MAX_LLM_PARALLEL + 1;
    CHECK_ERR(ms_minions_run(&ok, &r), MS_ERR_ARG);
    ok.jobs = 1;
    ok.caps.max_tasks = MS_PLAN_HARD_TASKS + 1;
    CHECK_ERR(ms_minions_run(&ok, &r), MS_ERR_ARG);
    CHECK(sup.calls == 0);
    ms_proto_result_free(&r);
}

int main(void)
{
    RUN(test_valid_plans);
    RUN(test_plan_fields);
    RUN(test_plan_lengths);
    RUN(test_plan_caps);
    RUN(test_jobs_caps);
    RUN(test_decisions);
    RUN(test_job_outputs);
    RUN(test_utf8_prefix);
    RUN(test_refused_plan_runs_nothing);
    RUN(test_all_jobs_failed);
    RUN(test_worker_answer_cut);
    RUN(test_job_prompts_one_at_a_time);
    RUN(test_bad_args);
    return TEST_SUMMARY();
}

/*
 * The stream reader's short path (common/llm/call.c): an event that is the last text-only
 * event but for its text string is read without a parse. Every stream here is read twice,
 * short path on and off, whole and cut into small chunks, and the two must agree on every
 * piece passed on, the content, the finish reason, the usage and the error; the short path
 * must be taken where it can be (else the comparison proves nothing), and never where the
 * bytes in the text's place are anything but one JSON string (an injected key, a duplicate,
 * a bad escape, a bare quote, a control byte): those are parsed, and fail or pass as parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/llm/engine.h"
#include "tests/common/llm/engine_examples.h"
#include "tests/test.h"

/* What one read of a stream left. */
typedef struct outcome {
    ms_err err;
    ms_buf pieces; /* each piece as its length (4 bytes) then its bytes */
    ms_chat_result r;
    size_t hits;
} outcome;

static ms_err on_piece(void *ctx, const char *text, size_t len)
{
    ms_buf *b = ctx;
    ms_err e = ms_buf_append_u32be(b, (uint32_t)len);
    return e != MS_OK ? e : ms_buf_append(b, text, len);
}

static void read_stream(const char *body, size_t chunk, bool fast, outcome *o)
{
    ms_buf_init(&o->pieces, MS_MAX_LLM_REPLY * 2);
    ms_chat_result_init(&o->r);
    o->err = ms_llm_stream_body(&ms_llm_format_openai, (const uint8_t *)body, strlen(body), chunk,
                                fast, on_piece, &o->pieces, &o->r, &o->hits);
}

static void outcome_free(outcome *o)
{
    ms_buf_free(&o->pieces);
    ms_chat_result_free(&o->r);
}

static bool same_buf(const ms_buf *a, const ms_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/*
 * Read body both ways at several chunk sizes: the same outcome each time, `want` as the
 * error, and at least min_hits events on the short path. With first, the short path's
 * outcome of the whole body is left there for the caller's own checks (outcome_free).
 */
static bool whole_only; /* a body of megabytes: fed whole only */

static void both_ways(const char *body, ms_err want, size_t min_hits, outcome *first)
{
    static const size_t chunks[] = {0, 1, 7, 64};
    for (size_t k = 0; k < (whole_only ? 1 : sizeof chunks / sizeof chunks[0]); k++) {
        outcome fast, slow;
        read_stream(body, chunks[k], true, &fast);
        read_stream(body, chunks[k], false, &slow);
        CHECK(fast.err == want);
        CHECK(slow.err == want);
        CHECK(slow.hits == 0);
        CHECK(fast.hits >= min_hits);
        CHECK(same_buf(&fast.pieces, &slow.pieces));
        CHECK(same_buf(&fast.r.content, &slow.r.content));
        CHECK(strcmp(fast.r.finish_reason, slow.r.finish_reason) == 0);
        CHECK(fast.r.truncated == slow.r.truncated);
        CHECK(fast.r.prompt_tokens == slow.r.prompt_tokens);
        CHECK(fast.r.completion_tokens == slow.r.completion_tokens);
        CHECK(strcmp(fast.r.error_text, slow.r.error_text) == 0);
        if (fast.err != want || fast.hits < min_hits) {
            fprintf(stderr, "  chunk %zu: %s (%zu hits), want %s\n", chunks[k],
                    ms_err_name(fast.err), fast.hits, ms_err_name(want));
        }
        outcome_free(&slow);
        if (k == 0 && first != NULL) {
            *first = fast;
        } else {
            outcome_free(&fast);
        }
    }
}

/* llm-sim's shape (tools/llm-sim/openai.c): one chunk a token, usage null on each. */
#define TOK(content) OPENAI_CHUNK("{\"content\":\"" content "\"}", "null")
#define STOP OPENAI_CHUNK("{}", "\"stop\"")
#define USAGE                                                                                      \
    "data: {\"id\":\"chatcmpl-x2\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"   \
    "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,"                     \
    "\"completion_tokens\":6,\"total_tokens\":15}}\n\n"
#define ROLE OPENAI_CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
#define DONE "data: [DONE]\n\n"

static bool content_is(const outcome *o, const char *want)
{
    return o->r.content.len == strlen(want) && memcmp(o->r.content.p, want, o->r.content.len) == 0;
}

/* A usual stream: every token after the second is on the short path; escapes decoded. */
static void test_tokens(void)
{
    outcome o;
    both_ways(ROLE TOK("The") TOK(" inc") TOK("ident") TOK(" \\\"began\\\"") TOK("\\u00e9\\n")
                  TOK("\\ud83d\\ude00") TOK("") TOK(" at 04:10") STOP USAGE DONE,
              MS_OK, 6, &o);
    CHECK(content_is(&o, "The incident \"began\"\xc3\xa9\n\xf0\x9f\x98\x80 at 04:10"));
    CHECK(strcmp(o.r.finish_reason, "stop") == 0 && !o.r.truncated);
    CHECK(o.r.prompt_tokens == 9 && o.r.completion_tokens == 6);
    outcome_free(&o);
    /* the examples of real engines read the same both ways */
    both_ways(OPENAI_STREAM_LENGTH, MS_OK, 0, NULL);
    both_ways(VLLM_STREAM_REASONING, MS_OK, 0, NULL);
    both_ways(LLAMACPP_STREAM_QUIRKS, MS_OK, 0, NULL);
    both_ways(LLAMACPP_STREAM_ERROR_LINE, MS_ERR_BACKEND_STATUS, 0, NULL);
}

/* A reply cut at the token limit keeps its finish reason; a stream cut short is an error. */
static void test_cut(void)
{
    outcome o;
    both_ways(ROLE TOK("a") TOK("b") TOK("c") OPENAI_CHUNK("{}", "\"length\"") USAGE DONE, MS_OK,
              2, &o);
    CHECK(content_is(&o, "abc") && o.r.truncated && strcmp(o.r.finish_reason, "length") == 0);
    outcome_free(&o);
    /* the finish reason in the same event as the last text: not the short path's */
    both_ways(ROLE TOK("a") TOK("b") OPENAI_CHUNK("{\"content\":\"c\"}", "\"length\"") DONE,
              MS_OK, 1, &o);
    CHECK(content_is(&o, "abc") && o.r.truncated);
    outcome_free(&o);
    both_ways(ROLE TOK("a") TOK("b") TOK("c"), MS_ERR_BACKEND_FORMAT, 2, NULL);       /* no end */
    both_ways(ROLE TOK("a") TOK("b") TOK("c") DONE, MS_ERR_BACKEND_FORMAT, 2, NULL);  /* no finish */
    both_ways(ROLE TOK("a") TOK("b") STOP, MS_ERR_BACKEND_FORMAT, 1, NULL);           /* no [DONE] */
    both_ways(ROLE TOK("a") TOK("b") "data: {\"choices\":[{\"delta\":", MS_ERR_BACKEND_FORMAT, 1,
              NULL); /* inside an event */
    both_ways(ROLE TOK("a") TOK("b") "data: {\"error\":{\"message\":\"overloaded\"}}\n\n" DONE,
              MS_ERR_BACKEND_STATUS, 1, &o);
    CHECK(strcmp(o.r.error_text, "overloaded") == 0);
    outcome_free(&o);
}

/*
 * In the text's place, bytes that are not one string: an injected key (a valid document of
 * another shape), a duplicate "content" (refused), a bare quote, an escaped closing quote, a
 * lone surrogate, \u0000, a raw control byte, invalid UTF-8, a template's end cut off. Each
 * is parsed and comes out as the parse says.
 */
static void test_not_a_string(void)
{
    outcome o;
    both_ways(ROLE TOK("a") TOK("b") TOK("c\",\"x\":\"y") STOP DONE, MS_OK, 1, &o);
    CHECK(content_is(&o, "abc")); /* the parse's reading: "x" is another member of delta */
    outcome_free(&o);
    both_ways(ROLE TOK("a") TOK("b") TOK("c\",\"content\":\"d") STOP DONE,
              MS_ERR_BACKEND_FORMAT, 1, NULL);
    const char *bad[] = {
        "data: {\"id\":\"chatcmpl-x2\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"
        "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"c\"d\"},"
        "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
        TOK("c\\"),
        TOK("\\ud83d"),
        TOK("\\u0000"),
        TOK("\\x"),
        TOK("c\x01"),
        TOK("c\xc3"),
        TOK("\xed\xa0\x80"),
        "data: {\"id\":\"chatcmpl-x2\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"
        "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"c\"}\n\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(ROLE TOK("a") TOK("b")) + strlen(bad[i]) + strlen(STOP DONE) + 1;
        char *body = malloc(n);
        CHECK(body != NULL);
        if (body == NULL) {
            return;
        }
        snprintf(body, n, "%s%s%s", ROLE TOK("a") TOK("b"), bad[i], STOP DONE);
        both_ways(body, MS_ERR_BACKEND_FORMAT, 1, NULL);
        free(body);
    }
}

/* Events that differ elsewhere (a clock, an id) are parsed, and learnt again. */
#define AT(t, content)                                                                             \
    "data: {\"id\":\"c\",\"created\":" t ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""    \
    content "\"},\"finish_reason\":null}]}\n\n"
static void test_changing_events(void)
{
    outcome o;
    both_ways(AT("1", "a") AT("1", "b") AT("2", "c") AT("2", "d") AT("3", "e") AT("3", "f") STOP
                  DONE,
              MS_OK, 3, &o);
    CHECK(content_is(&o, "abcdef"));
    outcome_free(&o);
    /* a clock that changes every event: never the short path, nothing lost */
    both_ways(AT("1", "a") AT("2", "b") AT("3", "c") AT("4", "d") AT("5", "e") AT("6", "f")
                  AT("7", "g") AT("8", "h") AT("9", "i") AT("10", "j") AT("11", "k") STOP DONE,
              MS_OK, 0, &o);
    CHECK(content_is(&o, "abcdefghijk") && o.hits == 0);
    outcome_free(&o);
    /* usage on every event, or content null: no template (their effect is not only text) */
    both_ways(OPENAI_CHUNK("{\"content\":\"a\"}", "null") "data: {\"choices\":[{\"delta\":"
              "{\"content\":\"b\"},\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":1}}\n\n"
              "data: {\"choices\":[{\"delta\":{\"content\":\"c\"},\"finish_reason\":null}],"
              "\"usage\":{\"prompt_tokens\":2}}\n\n" STOP DONE,
              MS_OK, 0, &o);
    CHECK(content_is(&o, "abc") && o.r.prompt_tokens == 2 && o.hits == 0);
    outcome_free(&o);
}

/* The text's cap holds on the short path as on the parse: five events of near 1 MiB
   (MS_MAX_SSE_LINE each) pass MS_MAX_LLM_REPLY together. */
static void test_cap(void)
{
    static const char head[] = ROLE TOK("a") TOK("b");
    size_t big = MS_MAX_SSE_LINE - 1024, n = strlen(head) + 5 * (big + 256) + 64;
    char *body = malloc(n), *fill = malloc(big + 1);
    CHECK(body != NULL && fill != NULL);
    if (body == NULL || fill == NULL) {
        free(body);
        free(fill);
        return;
    }
    memset(fill, 'x', big);
    fill[big] = '\0';
    size_t o = (size_t)snprintf(body, n, "%s", head);
    for (int i = 0; i < 5; i++) {
        o += (size_t)snprintf(body + o, n - o,
                              "data: {\"id\":\"chatcmpl-x2\",\"object\":\"chat.completion.chunk\","
                              "\"created\":1733000000,\"model\":\"gpt-4o-mini\",\"choices\":[{"
                              "\"index\":0,\"delta\":{\"content\":\"%s\"},\"logprobs\":null,"
                              "\"finish_reason\":null}],\"usage\":null}\n\n",
                              fill);
    }
    snprintf(body + o, n - o, "%s", STOP DONE);
    whole_only = true;
    both_ways(body, MS_ERR_BACKEND_FORMAT, 5, NULL);
    whole_only = false;
    free(fill);
    free(body);
}

int main(void)
{
    RUN(test_tokens);
    RUN(test_cut);
    RUN(test_not_a_string);
    RUN(test_changing_events);
    RUN(test_cap);
    return TEST_SUMMARY();
}

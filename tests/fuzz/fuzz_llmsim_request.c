/* libFuzzer harness for llm-sim's decoders: chat request bodies (both APIs), scripts, tokenizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/llm-sim/llmsim.h"
#include "tools/llm-sim/request.h"
#include "tools/llm-sim/script.h"
#include "tools/llm-sim/tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok)
{
    if (!ok) {
        abort();
    }
}

/* A decoded request honours every cap, and its strings are what they claim to be. */
static void check_request(const llmsim_request *r)
{
    require(r->n_msgs <= LLMSIM_MAX_MESSAGES);
    require(r->model == NULL || (r->model_len > 0 && r->model_len <= LLMSIM_MAX_MODEL &&
                                 strlen(r->model) == r->model_len));
    for (size_t i = 0; i < r->n_msgs; i++) {
        const llmsim_msg *m = &r->msgs[i];
        size_t role_len = strlen(m->role);
        require(role_len > 0 && role_len <= LLMSIM_MAX_ROLE);
        require(m->content_len <= LLMSIM_MAX_CONTENT && strlen(m->content) == m->content_len);
    }
}

/* The pieces of any text concatenate back to it, and a prefix re-counts to its limit. */
static void check_tokens(const char *s, size_t len)
{
    size_t off = 0, n, count = 0, end = 0;
    while (llmsim_tokens_next(s, len, &off, &n)) {
        require(n > 0 && off - n == end);
        end = off;
        count++;
    }
    require(end == len && count == llmsim_tokens_count(s, len));
    size_t p = llmsim_tokens_prefix(s, len, count / 2);
    require(p <= len && llmsim_tokens_count(s, p) == count / 2);
}

static void one_api(llmsim_api api, const char *text, size_t size)
{
    llmsim_request r;
    char why[LLMSIM_WHY_LEN];
    ms_err e = llmsim_request_decode(api, text, size, &r, why, sizeof why);
    if (e == MS_OK) {
        check_request(&r);
        llmsim_plan p;
        llmsim_script_match(NULL, r.msgs, r.n_msgs, &p);
        require(p.text != NULL);
        for (size_t i = 0; i < r.n_msgs; i++) {
            check_tokens(r.msgs[i].content, r.msgs[i].content_len);
        }
    } else {
        require(r.msgs == NULL && r.n_msgs == 0 && strlen(why) > 0);
    }
    llmsim_request_free(&r);
}

/* A script that parses is matched against the same input decoded as a request. */
static void script_and_request(const char *text, size_t size)
{
    llmsim_script *s = NULL;
    char why[LLMSIM_WHY_LEN];
    if (llmsim_script_parse(text, size, &s, why, sizeof why) != MS_OK) {
        require(s == NULL && strlen(why) > 0);
        return;
    }
    require(llmsim_script_rule_count(s) <= LLMSIM_MAX_RULES);
    static const char body[] =
        "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\","
        "\"content\":\"hello\"}]}";
    llmsim_request r;
    if (llmsim_request_decode(LLMSIM_API_OLLAMA, body, sizeof body - 1, &r, why, sizeof why) ==
        MS_OK) {
        llmsim_plan p;
        llmsim_script_match(s, r.msgs, r.n_msgs, &p);
        require(p.text != NULL && strlen(p.text) == p.len);
        require(p.status == 0 || (p.status >= 400 && p.status <= 599));
    }
    llmsim_request_free(&r);
    llmsim_script_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    one_api(LLMSIM_API_OLLAMA, text, size);
    one_api(LLMSIM_API_OPENAI, text, size);
    script_and_request(text, size);
    check_tokens(text, size);
    return 0;
}

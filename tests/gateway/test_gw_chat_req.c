/* serve's reading of OpenAI chat-completions bodies (gateway/chat_req.c): each check on its own. */
#include <string.h>

#include "common/json.h"
#include "gateway/chat_req.h"
#include "tests/test.h"

#define PNG_URL                                                                                \
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAACklEQVR4nGMAAQAABQAB" \
    "DQottAAAAABJRU5ErkJggg=="
#define USER "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"

static ms_gw_chat_req R;

/* Parse; the error (MS_OK on success) and the param it names. */
static ms_err parse(const char *body, const char **param)
{
    ms_gw_chat_req_free(&R);
    return ms_gw_chat_req_parse(body, strlen(body), &R, param);
}

/* The body is refused with `want`, naming `param` (NULL: none). */
static void refused(const char *body, ms_err want, const char *want_param)
{
    const char *param;
    ms_err e = parse(body, &param);
    CHECK_ERR(e, want);
    if (want_param) {
        CHECK(param != NULL && strcmp(param, want_param) == 0);
    } else {
        CHECK(param == NULL);
    }
}

static void test_accepts(void)
{
    const char *param;
    CHECK_ERR(parse("{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"be "
                   "brief\"},{\"role\":\"user\",\"content\":\"hi\",\"name\":\"u\"},{\"role\":"
                   "\"assistant\",\"content\":\"yes\"}],\"max_tokens\":7,\"temperature\":0.5,"
                   "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"stop\":\"S\","
                   "\"n\":1,\"top_p\":0.9,\"logprobs\":false,\"response_format\":{\"type\":"
                   "\"text\"},\"user\":\"x\",\"seed\":null}",
                   &param),
             MS_OK);
    CHECK(strcmp(R.model, "m") == 0 && R.stream && R.include_usage);
    CHECK(R.max_tokens == 7 && R.temperature == 0.5 && R.n_stop == 1 && R.stop_len[0] == 1);
    /* the §12.3 request: developer sent as system, the fields the channel carries */
    ms_json_doc *doc = NULL;
    CHECK_ERR(ms_json_parse((const char *)R.channel.p, R.channel.len, &doc), MS_OK);
    ms_json_val root = ms_json_root(doc), msgs, m0;
    size_t n;
    int64_t mt;
    CHECK_ERR(ms_json_get_arr(root, "messages", 10, &msgs, &n), MS_OK);
    CHECK(n == 3);
    CHECK_ERR(ms_json_arr_at(msgs, 0, &m0), MS_OK);
    const char *role;
    size_t rl;
    CHECK_ERR(ms_json_get_str(m0, "role", 16, &role, &rl), MS_OK);
    CHECK(strcmp(role, "system") == 0);
    CHECK_ERR(ms_json_get_i64(root, "max_tokens", 1, 10, &mt), MS_OK);
    ms_json_free(doc);
    /* max_completion_tokens, null as absent, stop as a list */
    CHECK_ERR(parse("{" USER ",\"max_completion_tokens\":9,\"temperature\":null,"
                   "\"stop\":[\"a\",\"bc\"],\"stream_options\":null}",
                   &param),
             MS_OK);
    CHECK(R.max_tokens == 9 && R.temperature < 0 && R.n_stop == 2 && !R.stream);
    /* an image part with its text */
    CHECK_ERR(parse("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
                   "\"what\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"" PNG_URL
                   "\",\"detail\":\"low\"}}]}]}",
                   &param),
             MS_OK);
    CHECK(strstr((const char *)R.channel.p, "image_url") != NULL);
    /* an image alone */
    CHECK_ERR(parse("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                   "\"image_url\":{\"url\":\"" PNG_URL "\"}}]}]}",
                   &param),
             MS_OK);
}

static void test_refuses(void)
{
    refused("{\"messages\": [", MS_ERR_JSON_PARSE, NULL);
    refused("[]", MS_ERR_JSON_TYPE, NULL);
    refused("{}", MS_ERR_JSON_MISSING, "messages");
    refused("{\"messages\":[]}", MS_ERR_GW_REQUEST, "messages");
    /* A message that is an array (its elements have no key): refused, not read (fuzz). */
    refused("{\"messages\":[[{\"role\":\"user\",\"content\":\"hi\"}]]}", MS_ERR_JSON_TYPE,
            "messages");
    refused("{\"messages\":[\"hi\"]}", MS_ERR_JSON_TYPE, "messages");
    refused("{" USER ",\"tools\":[]}", MS_ERR_GW_REQUEST, "tools");
    refused("{" USER ",\"whatever\":1}", MS_ERR_GW_REQUEST, "(an unknown field)");
    refused("{" USER ",\"temperature\":2.5}", MS_ERR_JSON_RANGE, "temperature");
    refused("{" USER ",\"max_tokens\":0}", MS_ERR_JSON_RANGE, "max_tokens");
    refused("{" USER ",\"n\":2}", MS_ERR_JSON_RANGE, "n");
    refused("{" USER ",\"logprobs\":true}", MS_ERR_GW_REQUEST, "logprobs");
    refused("{" USER ",\"response_format\":{\"type\":\"json_object\"}}", MS_ERR_JSON_ENUM,
            "response_format");
    refused("{" USER ",\"stream\":\"yes\"}", MS_ERR_JSON_TYPE, "stream");
    refused("{" USER ",\"stream_options\":{\"other\":true}}", MS_ERR_GW_REQUEST,
            "stream_options");
    refused("{" USER ",\"stop\":\"\"}", MS_ERR_GW_REQUEST, "stop");
    refused("{" USER ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", MS_ERR_JSON_TOO_LONG, "stop");
    refused("{" USER ",\"model\":7}", MS_ERR_JSON_TYPE, "model");
    refused("{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", MS_ERR_JSON_ENUM,
            "messages");
    refused("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[]}]}",
            MS_ERR_GW_REQUEST, "messages");
    refused("{\"messages\":[{\"role\":\"assistant\",\"content\":null}]}", MS_ERR_JSON_TYPE,
            "messages");
    refused("{\"messages\":[{\"role\":\"user\",\"content\":[]}]}", MS_ERR_GW_REQUEST,
            "messages");
    refused("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
            "{\"type\":\"text\",\"text\":\"b\"}]}]}",
            MS_ERR_GW_REQUEST, "messages");
    refused("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\","
            "\"x\":1}]}]}",
            MS_ERR_GW_REQUEST, "messages");
    refused("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}",
            MS_ERR_JSON_ENUM, "messages");
    /* images: user messages only, data: URLs only, no other member */
    refused("{\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"image_url\","
            "\"image_url\":{\"url\":\"" PNG_URL "\"}}]}]}",
            MS_ERR_GW_REQUEST, "messages");
    refused("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
            "\"image_url\":{\"url\":\"https://example.com/a.png\"}}]}]}",
            MS_ERR_ARG, "messages");
    refused("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
            "\"image_url\":{\"url\":\"" PNG_URL "\",\"x\":1}}]}]}",
            MS_ERR_GW_REQUEST, "messages");
}

/* A body of two user messages carrying `total` image parts (9, then the rest). */
static ms_err parse_images(int total)
{
    char body[8192];
    const char *param;
    size_t n = (size_t)snprintf(body, sizeof body, "{\"messages\":[");
    for (int m = 0; m < 2; m++) {
        n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"role\":\"user\",\"content\":[",
                              m ? "," : "");
        int here = m == 0 ? 9 : total - 9;
        for (int i = 0; i < here; i++) {
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "%s{\"type\":\"image_url\",\"image_url\":{\"url\":\"" PNG_URL
                                  "\"}}",
                                  i ? "," : "");
        }
        n += (size_t)snprintf(body + n, sizeof body - n, "]}");
    }
    snprintf(body + n, sizeof body - n, "]}");
    return parse(body, &param);
}

/* The request's 16 images pass, spread over messages; the 17th is refused. */
static void test_too_many_images(void)
{
    CHECK_ERR(parse_images(MS_MAX_REQUEST_IMAGES), MS_OK);
    CHECK_ERR(parse_images(MS_MAX_REQUEST_IMAGES + 1), MS_ERR_GW_REQUEST);
    CHECK_ERR(parse_images(18), MS_ERR_GW_REQUEST);
}

static void test_stop_search(void)
{
    const char *param;
    size_t at = 99;
    CHECK_ERR(parse("{" USER ",\"stop\":[\"cd\",\"b\"]}", &param), MS_OK);
    CHECK(ms_gw_chat_find_stop(&R, "abcd", 4, &at) && at == 1); /* the earliest wins */
    CHECK(ms_gw_chat_find_stop(&R, "xxcd", 4, &at) && at == 2);
    CHECK(!ms_gw_chat_find_stop(&R, "xxc", 3, &at));
    CHECK(!ms_gw_chat_find_stop(&R, "", 0, &at));
    CHECK_ERR(parse("{" USER "}", &param), MS_OK);
    CHECK(!ms_gw_chat_find_stop(&R, "abcd", 4, &at)); /* none asked */
}

int main(void)
{
    RUN(test_accepts);
    RUN(test_refuses);
    RUN(test_too_many_images);
    RUN(test_stop_search);
    ms_gw_chat_req_free(&R);
    return TEST_SUMMARY();
}

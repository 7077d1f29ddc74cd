/*
 * Replies as real engines send them, for the engine layer's tests (test_engine_formats.c:
 * the worker's clients; tests/secure/supervisor/test_bridge_formats.c: the supervisor's
 * bridge). Each example follows the shape an engine's own documentation gives (field names,
 * nesting, framing, the quirk it shows); ids, times and texts are ours. Source of each:
 *   OPENAI_*   OpenAI API reference, "Create chat completion" and its streaming chunk
 *              object (chat.completion.chunk; stream_options.include_usage adds a last chunk
 *              whose "choices" is empty and whose "usage" is set; every other chunk then
 *              carries "usage": null)
 *   VLLM_*     vLLM docs, OpenAI-compatible server and "Reasoning Outputs": the reasoning
 *              arrives as "reasoning_content" (message and delta) beside "content"; a model
 *              cut while reasoning leaves "content": null
 *   LLAMACPP_* llama.cpp tools/server README: /v1/chat/completions chunks with a
 *              "timings" object on the last one; an error after the stream began is sent as
 *              an SSE line "error: {...}" on the HTTP 200 stream
 *   SSE_*      the WHATWG event-stream format all of them use: comment lines (": ...",
 *              proxies' keep-alives such as OpenRouter's ": OPENROUTER PROCESSING"), CRLF
 *              line ends, "data:" with or without a space
 *   OLLAMA_*   Ollama docs/api.md, "Generate a chat completion": NDJSON lines, the last
 *              with "done": true, "done_reason" and the durations; a thinking model's
 *              text in message.thinking; an error after the stream began as {"error": ".."}
 *   RATE_*     OpenAI's 429 error body (error.type/code rate_limit_exceeded) with a
 *              Retry-After header; vLLM/TGI answer 503 when overloaded
 * A reply cut at the token limit says finish_reason / done_reason "length" in all of them.
 */
#ifndef MS_TESTS_COMMON_LLM_ENGINE_EXAMPLES_H
#define MS_TESTS_COMMON_LLM_ENGINE_EXAMPLES_H

/* OpenAI, plain, cut at max_tokens. */
#define OPENAI_PLAIN_LENGTH                                                                        \
    "{\"id\":\"chatcmpl-x1\",\"object\":\"chat.completion\",\"created\":1733000000,"               \
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","     \
    "\"content\":\"The incident began\",\"refusal\":null},\"logprobs\":null,"                      \
    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":4,"      \
    "\"total_tokens\":25},\"system_fingerprint\":\"fp_x\"}"

/* OpenAI, streamed with include_usage: role chunk, pieces, finish chunk, usage-only chunk. */
#define OPENAI_CHUNK(delta, finish)                                                                \
    "data: {\"id\":\"chatcmpl-x2\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"   \
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":" delta ",\"logprobs\":null,"   \
    "\"finish_reason\":" finish "}],\"usage\":null}\n\n"
#define OPENAI_STREAM_LENGTH                                                                       \
    OPENAI_CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")                              \
    OPENAI_CHUNK("{\"content\":\"The incident\"}", "null")                                         \
    OPENAI_CHUNK("{\"content\":\" began\"}", "null")                                               \
    OPENAI_CHUNK("{}", "\"length\"")                                                               \
    "data: {\"id\":\"chatcmpl-x2\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"   \
    "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,"                    \
    "\"completion_tokens\":4,\"total_tokens\":25}}\n\n"                                            \
    "data: [DONE]\n\n"

/* vLLM, plain: cut while reasoning, content null. */
#define VLLM_PLAIN_REASONING_CUT                                                                   \
    "{\"id\":\"chatcmpl-v1\",\"object\":\"chat.completion\",\"created\":1733000000,"               \
    "\"model\":\"primus-reasoning\",\"choices\":[{\"index\":0,\"message\":{\"role\":"              \
    "\"assistant\",\"reasoning_content\":\"The user asks about the logs, so\",\"content\":null,"   \
    "\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null}],"    \
    "\"usage\":{\"prompt_tokens\":30,\"total_tokens\":38,\"completion_tokens\":8}}"

/* vLLM, streamed: reasoning_content deltas, then content, stop; no "usage" member. */
#define VLLM_CHUNK(delta, finish)                                                                  \
    "data: {\"id\":\"chatcmpl-v2\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"   \
    "\"model\":\"primus-reasoning\",\"choices\":[{\"index\":0,\"delta\":" delta ","                \
    "\"logprobs\":null,\"finish_reason\":" finish "}]}\n\n"
#define VLLM_STREAM_REASONING                                                                      \
    VLLM_CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")                                \
    VLLM_CHUNK("{\"reasoning_content\":\"Check the sshd lines.\"}", "null")                        \
    VLLM_CHUNK("{\"content\":\"m.vale at 04:10\"}", "null")                                        \
    VLLM_CHUNK("{\"content\":\"\"}", "\"stop\"")                                                   \
    "data: [DONE]\n\n"

/* llama.cpp server, streamed, CRLF, keep-alive comments, "data:" without a space, the
   last chunk with "timings"; cut at n_predict. */
#define LLAMACPP_STREAM_QUIRKS                                                                     \
    ": keep-alive\r\n\r\n"                                                                         \
    "data:{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"Host\"}}],"   \
    "\"created\":1733000000,\"id\":\"chatcmpl-l1\",\"model\":\"gguf\",\"system_fingerprint\":"     \
    "\"b4000\",\"object\":\"chat.completion.chunk\"}\r\n\r\n"                                      \
    ": OPENROUTER PROCESSING\r\n\r\n"                                                              \
    "data:{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" web\"}}],"   \
    "\"object\":\"chat.completion.chunk\"}\r\n\r\n"                                                \
    "data: {\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"delta\":{}}],"                \
    "\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":2,"                     \
    "\"prompt_tokens\":12,\"total_tokens\":14},\"timings\":{\"prompt_n\":12,\"prompt_ms\":30.5,"   \
    "\"predicted_n\":2,\"predicted_ms\":41.2,\"predicted_per_second\":48.5}}\r\n\r\n"              \
    "data: [DONE]\r\n\r\n"

/* llama.cpp server, an error after the stream began (HTTP 200). */
#define LLAMACPP_STREAM_ERROR_LINE                                                                 \
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"Ho\"}}],"    \
    "\"object\":\"chat.completion.chunk\"}\n\n"                                                    \
    "error: {\"code\":500,\"message\":\"context shift is disabled\",\"type\":\"server_error\"}\n\n"

/* Ollama, plain, a thinking model cut at num_predict while thinking. */
#define OLLAMA_PLAIN_THINKING_CUT                                                                  \
    "{\"model\":\"qwen3\",\"created_at\":\"2025-06-01T10:00:00.123456789Z\",\"message\":"          \
    "{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"The logs show two logins, so\"},"     \
    "\"done_reason\":\"length\",\"done\":true,\"total_duration\":912000000,"                       \
    "\"load_duration\":21000000,\"prompt_eval_count\":40,\"prompt_eval_duration\":80000000,"       \
    "\"eval_count\":8,\"eval_duration\":790000000}"

/* Ollama, streamed: thinking lines, content lines, the final line cut at num_predict. */
#define OLLAMA_LINE(msg)                                                                           \
    "{\"model\":\"qwen3\",\"created_at\":\"2025-06-01T10:00:00.1Z\",\"message\":{\"role\":"        \
    "\"assistant\"," msg "},\"done\":false}\n"
#define OLLAMA_STREAM_THINKING_LENGTH                                                              \
    OLLAMA_LINE("\"content\":\"\",\"thinking\":\"Two logins.\"")                                   \
    OLLAMA_LINE("\"content\":\"m.vale\"")                                                          \
    OLLAMA_LINE("\"content\":\" logged\"")                                                         \
    "{\"model\":\"qwen3\",\"created_at\":\"2025-06-01T10:00:00.2Z\",\"message\":{\"role\":"        \
    "\"assistant\",\"content\":\"\"},\"done_reason\":\"length\",\"done\":true,"                    \
    "\"total_duration\":500000000,\"load_duration\":1000000,\"prompt_eval_count\":40,"             \
    "\"prompt_eval_duration\":9000000,\"eval_count\":3,\"eval_duration\":400000000}\n"

/* Ollama, an error line after the stream began (HTTP 200). */
#define OLLAMA_STREAM_ERROR                                                                        \
    OLLAMA_LINE("\"content\":\"m.vale\"")                                                          \
    "{\"error\":\"an error was encountered while running the model: unexpected EOF\"}\n"

/* OpenAI's 429 body (the Retry-After header is the route's). */
#define RATE_LIMIT_BODY                                                                            \
    "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":\"requests\","           \
    "\"param\":null,\"code\":\"rate_limit_exceeded\"}}"

#endif

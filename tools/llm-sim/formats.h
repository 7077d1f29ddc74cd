/* Wire formats of the engines llm-sim stands in for: Ollama (ollama.c) and OpenAI (openai.c). */
#ifndef MS_TOOLS_LLMSIM_FORMATS_H
#define MS_TOOLS_LLMSIM_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "tools/llm-sim/llmsim.h"

typedef enum llmsim_finish {
    LLMSIM_FINISH_STOP,   /* the reply ended */
    LLMSIM_FINISH_LENGTH, /* the request's token limit cut it */
    LLMSIM_FINISH_LOAD,   /* Ollama: no messages, the model was only loaded */
} llmsim_finish;

/*
 * Quirks real engines show, asked for by a script rule's "quirks" (README.md). OpenAI-format
 * ones apply to SSE streams (timings and reasoning to whole replies too); reasoning and
 * error_object apply to Ollama as well; the others are ignored there.
 */
enum {
    LLMSIM_Q_CRLF = 1u << 0,         /* SSE lines end in CRLF */
    LLMSIM_Q_COMMENTS = 1u << 1,     /* a ": keep-alive" comment before every event */
    LLMSIM_Q_NO_SPACE = 1u << 2,     /* "data:" without the space */
    LLMSIM_Q_TIMINGS = 1u << 3,      /* llama.cpp's "timings" object on the last chunk/reply */
    LLMSIM_Q_REASONING = 1u << 4,    /* reasoning_content (OpenAI) / thinking (Ollama) first */
    LLMSIM_Q_NULL_CONTENT = 1u << 5, /* the last chunk's delta is {"content": null} */
    LLMSIM_Q_ERROR_OBJECT = 1u << 6, /* stream: an error document instead of the last one */
    LLMSIM_Q_ERROR_LINE = 1u << 7,   /* OpenAI stream: an "error: {...}" line instead */
};
#define LLMSIM_REASONING_TEXT "Let me think about this."
#define LLMSIM_STREAM_ERROR "llm-sim: simulated failure mid-stream"

/* One chat turn as the formats need it. Plain data, owned by the caller. */
typedef struct llmsim_turn {
    char model[LLMSIM_MAX_MODEL + 1];
    char id[48];          /* "chatcmpl-" + 32 hex digits */
    int64_t created;      /* unix seconds */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    bool include_usage;   /* OpenAI streams: usage chunk before [DONE] */
    llmsim_finish finish;
    uint32_t quirks;      /* LLMSIM_Q_* */
    /* Ollama metrics in nanoseconds; zero values are left out, as Ollama's omitempty does. */
    uint64_t total_ns, load_ns, prompt_eval_ns, eval_ns;
} llmsim_turn;

/*
 * Every function appends complete wire text to out (JSON documents, NDJSON lines or SSE
 * events) and leaves out as it was on error (MS_ERR_NOMEM, MS_ERR_CAP_EXCEEDED from out's
 * cap, MS_ERR_ARG for text that is not UTF-8). Stateless and thread-safe; only
 * created_at stamps read the clock.
 */
typedef struct llmsim_format {
    const char *json_type;   /* Content-Type of JSON answers */
    const char *stream_type; /* Content-Type of streamed answers */
    /* The whole reply of a non-streamed request. */
    ms_err (*reply)(const llmsim_turn *t, const char *text, size_t len, ms_buf *out);
    /* Streams: before the first piece (may append nothing), one piece, after the last. */
    ms_err (*stream_open)(const llmsim_turn *t, ms_buf *out);
    ms_err (*stream_piece)(const llmsim_turn *t, const char *piece, size_t len, ms_buf *out);
    ms_err (*stream_close)(const llmsim_turn *t, ms_buf *out);
    /* An HTTP error body in this API's shape; msg is printable ASCII or UTF-8. */
    ms_err (*error)(unsigned status, const char *msg, ms_buf *out);
} llmsim_format;

extern const llmsim_format llmsim_ollama;
extern const llmsim_format llmsim_openai;

/* GET /api/tags, GET /api/version, GET /v1/models. names[0..n) are NUL-terminated. */
MS_MUST_CHECK ms_err llmsim_ollama_tags(const char *const *names, size_t n, int64_t modified,
                                        ms_buf *out);
MS_MUST_CHECK ms_err llmsim_ollama_version(ms_buf *out);
MS_MUST_CHECK ms_err llmsim_openai_models(const char *const *names, size_t n, int64_t created,
                                          ms_buf *out);

/*
 * Shared by the formats: print b's document between prefix and suffix onto out and free
 * b. `built` is the result of building it: anything but MS_OK is returned unchanged and
 * nothing is appended. b may be NULL only when built is not MS_OK.
 */
MS_MUST_CHECK ms_err llmsim_emit(ms_json_builder *b, ms_err built, const char *prefix,
                                 const char *suffix, ms_buf *out);

#endif

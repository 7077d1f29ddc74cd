/* Every size cap in the project, in one place. Over a cap is an error, never a truncation. */
#ifndef MS_COMMON_LIMITS_H
#define MS_COMMON_LIMITS_H

/* Channel (docs/protocol.md) */
#define MS_MAX_RECORD_PLAINTEXT (1u << 20)     /* bytes of plaintext in one record */
#define MS_MAX_EVIDENCE (256u * 1024u)         /* bytes of opaque evidence in a ServerHello */
#define MS_MAX_HS_LIST 8u                      /* entries in each ClientHello list */
#define MS_MAX_STREAM_BYTES (64u * 1024u * 1024u) /* plaintext collected from one stream */

/* JSON (common/json) */
#define MS_MAX_JSON_TEXT (8u * 1024u * 1024u)  /* bytes of one JSON document */
#define MS_MAX_JSON_DEPTH 32u                  /* nesting of arrays and objects */
#define MS_MAX_JSON_STRING (4u * 1024u * 1024u) /* default cap for a string field */
#define MS_MAX_JSON_ARRAY 100000u              /* default cap for array elements */

/* Text codecs (common/codec) */
#define MS_MAX_CODEC_TEXT (64u * 1024u * 1024u) /* bytes of hex or base64 text decoded at once */

/* Logging (common/log) */
#define MS_MAX_LOG_LINE 1024u                  /* bytes of one formatted log line */
#define MS_MAX_LOG_STRING_ARG 256u             /* characters of one %s argument in a log line */

/* HTTP (later layers) */
#define MS_MAX_HTTP_BODY (MS_MAX_RECORD_PLAINTEXT + 4096u)

/* --- model-engine HTTP clients (common/http, common/llm) --------------------------------- */
#define MS_MAX_HTTP_URL 2048u                  /* characters of one request URL */
#define MS_MAX_HTTP_TOKEN 4096u                /* characters of one bearer token */
#define MS_MAX_HTTP_ERROR_BODY (64u * 1024u)   /* bytes of a non-2xx body kept by a stream call */
#define MS_MAX_SSE_LINE (1u << 20)             /* bytes of one Server-Sent-Events line */
#define MS_MAX_SSE_EVENT (2u << 20)            /* bytes of one SSE event's data */
#define MS_MAX_NDJSON_LINE (2u << 20)          /* bytes of one newline-delimited JSON line */
#define MS_MAX_LLM_REQUEST MS_MAX_JSON_TEXT    /* bytes of one chat request body */
#define MS_MAX_LLM_RESPONSE MS_MAX_JSON_TEXT   /* bytes of one non-streamed chat response */
#define MS_MAX_LLM_STREAM (64u * 1024u * 1024u) /* bytes of one streamed chat response */
#define MS_MAX_LLM_REPLY (4u * 1024u * 1024u)  /* bytes of a reply's content */
#define MS_MAX_LLM_MESSAGES 4096u              /* messages in one chat request */
#define MS_MAX_LLM_ERROR_TEXT 200u             /* characters of an engine's error message kept */
#define MS_MAX_LLM_RETRY_WAIT_MS 30000u        /* default cap of one wait between retries */
/* --- end model-engine HTTP clients ----------------------------------------------------- */

/* --- protocols/ building blocks: JSON extraction, chunking, BM25 ------------------------- */
#define MS_MAX_EXTRACT_TEXT MS_MAX_LLM_REPLY   /* bytes of model output searched for JSON */
#define MS_MAX_EXTRACT_CANDIDATES 64u          /* JSON-looking spans kept per scope (prose, fence) */
#define MS_MAX_EXTRACT_RESCANS 4u              /* rescans after an unclosed prose brace ('{x') */
#define MS_EXTRACT_PREVIEW_CHARS 120u          /* characters of model output quoted in an error */
#define MS_MAX_CHUNK_TEXT (64u * 1024u * 1024u) /* bytes of one document split into chunks */
#define MS_MAX_CHUNKS 16384u                   /* chunks from one split */
#define MS_MIN_CHUNK_SIZE 16u                  /* smallest chunk size a plan may ask for */
#define MS_MAX_CHUNK_SIZE (1u << 20)           /* largest chunk size a plan may ask for */
#define MS_MAX_BM25_QUERY 4096u                /* bytes of one retrieval query */
#define MS_MAX_BM25_QUERY_TERMS 64u            /* distinct terms in a query (the vocabulary) */
#define MS_MAX_BM25_TERM 64u                   /* bytes of one query term */
#define MS_MAX_BM25_TOKENS (1u << 24)          /* tokens counted over all chunks of a search */
/* --- end protocols/ ------------------------------------------------------------------- */

#endif

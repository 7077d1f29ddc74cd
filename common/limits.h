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
#define MS_MAX_LLM_PARALLEL 64u                /* requests in flight in one batch (llm/pool) */
/* --- end model-engine HTTP clients ----------------------------------------------------- */

/* --- chat: image parts in §12.3 requests, minions-secure chat's history ---------------- */
#define MS_MAX_CHAT_IMAGE_BYTES (512u * 1024u) /* bytes of one image (its base64 fits a record) */
#define MS_MAX_MSG_PARTS 16u                   /* parts in one message's content array (§12.3) */
#define MS_MAX_REQUEST_IMAGES 16u              /* image parts in one §12.3 request */
#define MS_MAX_CHAT_MESSAGES 256u              /* messages in one chat request (§12.3's cap) */
#define MS_MAX_CHAT_LINE (256u * 1024u)        /* bytes of one line typed or piped into chat */
#define MS_MAX_CHAT_PENDING_IMAGES 4u          /* /image files waiting for the next message */
/* --- end chat -------------------------------------------------------------------------- */

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

/* --- attestation (secure/attest, minions-secure attest) ----------------------------------- */
#define MS_MAX_POLICY_FILE (64u * 1024u)       /* bytes of an attestation policy file */
#define MS_COMPOSITE_MAX_ITEMS 17u             /* items of composite evidence: one CPU TEE, 16 GPUs */
#define MS_MAX_KEY_FILE 16384u                 /* bytes of a PEM key file */
#define MS_TPM2_MAX_BUNDLE 8192u               /* bytes of a TPM quote bundle (a P-256 one is ~400) */
#define MS_TPM2_QUOTE_TRIES 8u                 /* quotes made before giving up on PCRs that keep changing */
#define MS_TPM2_MAX_EK_CERT 4096u              /* bytes of a TPM's EK certificate (NV index; swtpm's is ~1000) */
#define MS_TPM2_MAX_AK_CERT 4096u              /* bytes of an AK certificate in a bundle (ours ~500, Azure's ~1500) */
#define MS_TPM2_MAX_CA_FILE 65536u             /* bytes of a PEM file of pinned EK roots or AK CAs */
#define MS_TPM2_MAX_ENROL 8192u                /* bytes of a TPM enrolment request or challenge */
#define MS_SNP_MAX_CERT 16384u                 /* bytes of one DER certificate of SEV-SNP evidence */
#define MS_SNP_MAX_OUTBLOB 32768u              /* bytes read from configfs-tsm outblob (a report is 1184) */
#define MS_SNP_MAX_CERT_TABLE 32768u           /* bytes of the certificate table (auxblob) */
#define MS_SNP_MAX_CERT_ENTRIES 16u            /* entries in it, not counting the terminator */
#define MS_SNP_MAX_ATTR_TEXT 64u               /* bytes of a configfs-tsm text attribute */
#define MS_SNP_MAX_CRL 65536u                  /* bytes of AMD's CRL for an ARK's intermediates (DER) */
#define MS_TDX_MAX_QUOTE 16384u               /* bytes of one TDX quote (a v4 / v5 quote is ~5000) */
#define MS_TDX_MAX_OUTBLOB 32768u              /* bytes read from configfs-tsm outblob for TDX (zero-padded) */
#define MS_TDX_MAX_QE_AUTH 1024u               /* bytes of the QE authentication data (Intel's QE sends 32) */
#define MS_TDX_MAX_PCK_CHAIN 12288u            /* bytes of the PEM PCK chain in a quote (Intel's is ~3700) */
#define MS_TDX_MAX_CRL 65536u                  /* bytes of one CRL in TDX evidence or collateral */
#define MS_MAX_EVIDENCE_FILE (2u * MS_MAX_EVIDENCE + 8192u) /* bytes of a saved evidence file (hex) */
#define MS_AZ_MAX_HCL 8192u                    /* bytes of an Azure HCL report with its NV zero fill (2048..2600 seen) */
#define MS_AZ_MAX_VAR_DATA 4096u               /* bytes of its variable data (JSON; ~600..1200 seen) */
#define MS_AZ_MAX_JWK_KEYS 8u                  /* keys in the variable data's "keys" array */
#define MS_AZ_MAX_TDQUOTE_RESPONSE 65536u      /* bytes of the TD quote service's JSON answer (a ~5 KB quote in base64url) */
/* NVIDIA GPU evidence (docs/attest-nvidia.md) */
#define MS_NVGPU_MAX_REPORT 8192u              /* bytes of SPDM request || response (NVML's buffer) */
#define MS_NVGPU_MAX_BLOCKS 255u               /* measurement blocks in one response */
#define MS_NVGPU_MAX_MEAS_VALUE 64u            /* bytes of one measurement value (SHA-512 at most) */
#define MS_NVGPU_MAX_OPAQUE 1024u              /* bytes of the opaque data (SPDM 1.1's bound) */
#define MS_NVGPU_MAX_OPAQUE_FIELDS 64u         /* NVIDIA fields in the opaque data */
#define MS_NVGPU_MAX_CERT 3072u                /* bytes of one DER certificate of a GPU chain */
#define MS_NVGPU_MAX_CHAIN 6u                  /* certificates in one GPU chain */
#define MS_NVGPU_MAX_GPUS 8u                   /* GPUs in one nvidia-gpu evidence */
/* --- end attestation ---------------------------------------------------------------------- */

/* --- protocols/ runs: Minion and Minions (docs/protocols.md) ----------------------------- */
#define MS_MAX_PROTO_ROUNDS 32u                /* supervisor rounds of one run (max_rounds) */
#define MS_MAX_PROTO_TASK (64u * 1024u)        /* bytes of the task (and of doc metadata, system prompt) */
#define MS_MAX_FORMAT_RETRIES 8u               /* re-asks after an unusable reply, per round */
#define MS_MAX_PROTO_REPLY_JSON (256u * 1024u) /* bytes of the JSON object in a supervisor reply */
#define MS_MAX_PROTO_MESSAGE (16u * 1024u)     /* bytes of a supervisor question (Minion) */
#define MS_MAX_PROTO_ANSWER (128u * 1024u)     /* bytes of a final answer */
#define MS_MAX_PROTO_REASON (4u * 1024u)       /* bytes of a cannot_answer reason */
#define MS_MAX_PROTO_REASONING (64u * 1024u)   /* bytes of a reply's optional "reasoning" */
#define MS_MAX_WORKER_ANSWER 4096u             /* bytes of a Minion worker answer forwarded */
#define MS_MAX_JOB_FIELD 1024u                 /* bytes of a job's answer/citation/explanation forwarded */
#define MS_MAX_JOB_OUTPUT (64u * 1024u)        /* bytes of the JSON object in a job's reply */
#define MS_MAX_PROTO_AGGREGATE (192u * 1024u)  /* bytes of job results sent in one round */
#define MS_MAX_PROTO_ECHO 1024u                /* bytes of an unusable reply echoed in a re-ask */
#define MS_MAX_PROTO_LOG_TEXT (16u * 1024u)    /* bytes of one text field in a log event */
#define MS_MAX_PROTO_LOG_OUTPUTS 256u          /* job outputs listed in one "jobs" event */
#define MS_PLAN_MAX_TASKS 16u                  /* default: tasks in one plan */
#define MS_PLAN_MAX_JOBS 4096u                 /* default: jobs (tasks x chunks) in one round */
#define MS_PLAN_MAX_TOP_K 256u                 /* default: chunks kept by BM25 retrieval */
#define MS_PLAN_HARD_TASKS 64u                 /* the most a caller may allow: tasks */
#define MS_PLAN_HARD_JOBS 65536u               /* the most a caller may allow: jobs per round */
#define MS_PLAN_MAX_ID 32u                     /* bytes of a task id */
#define MS_PLAN_MAX_INSTRUCTION 2048u          /* bytes of a task instruction */
#define MS_PLAN_MAX_ROUND_BYTES (256u * 1024u * 1024u) /* prompt bytes sent to the worker per round */
/* --- end protocols/ runs ------------------------------------------------------------- */

/* --- harden: allow-list, handshake limits, log checkpoints (issue 13) --------------- */
#define MS_MAX_LOG_CHECKPOINT_EVENTS 1000000u /* --log-checkpoint-events: lines between checkpoints */
#define MS_MAX_LOG_CHECKPOINT_S 86400u        /* --log-checkpoint-secs: seconds between checkpoints */
#define MS_MAX_ALLOW_FILE (1024u * 1024u) /* bytes of an --allowed-clients file */
#define MS_MAX_ALLOW_LINE 1024u           /* bytes of one of its lines, without the newline */
#define MS_MAX_ALLOWED_CLIENTS 16384u     /* keys in it */
#define MS_MAX_PEERS 16384u               /* client addresses tracked for per-address limits */
#define MS_MAX_IDKEY_COMMENT 256u         /* bytes of the comment keygen writes into a .pub */
#define MS_MAX_HTTP_DISCARD MS_MAX_HTTP_BODY /* bytes of a chunked body past its cap that the
                                               supervisor drops before its 413 (§12.2) */
/* --- compat: the reference's interfaces (issue 17) ---------------------------------- */
#define MS_COMPAT_MAX_MESSAGES (4u * 1024u * 1024u) /* bytes of the run's events kept for
                                                       the reference's *_messages fields */
#define MS_COMPAT_MAX_HASHFILE 4096u /* bytes of a --vm_launch_measurement_hashfile */
#define MS_COMPAT_MAX_PROMPTED 256u  /* documents typed at run's interactive prompt */
/* --- soak and memory (issue 20) ----------------------------------------------------- */
#define MS_SUP_ARENA_MAX 2u     /* the supervisor's malloc arenas (M_ARENA_MAX; glibc: 8 per core) */
#define MS_SUP_TRIM_EVERY_S 30u /* the supervisor hands free heap pages back this often */

/* --- serve: the local gateway and web UI (issue 14) ------------------------------ */
#define MS_SERVE_MAX_CONTEXT_ROOTS 16u /* --context-root folders */
#define MS_SERVE_MAX_UPLOADS 32u       /* documents uploaded with one Minions run */
#define MS_SERVE_MAX_UPLOAD_NAME 255u  /* bytes of an uploaded document's name */
#define MS_SERVE_MAX_RUN_BODY (8u << 20) /* bytes of a POST /v1/minions/runs body (uploads) */
#define MS_GW_MAX_CHAT_BODY (2u << 20)   /* bytes of a POST /v1/chat/completions body */
#define MS_GW_MAX_SMALL_BODY (16u * 1024u) /* bytes of any other request body */
#define MS_GW_MAX_SESSIONS 32u            /* attested sessions in serve's pool (--sessions) */
#define MS_GW_DEFAULT_SESSIONS 4u         /* its default size */
#define MS_GW_MAX_CONNECTIONS 64u         /* HTTP connections serve holds at once */
#define MS_GW_MAX_STOP 4u                 /* "stop" sequences in one request (as OpenAI) */
#define MS_GW_MAX_STOP_LEN 256u           /* bytes of one stop sequence */
#define MS_GW_MAX_TOKEN_FILE 4096u        /* bytes of an --api-key-file */
#define MS_GW_MAX_COOKIES 16u             /* web sessions (cookies) one serve remembers */
#define MS_GW_STREAM_QUEUE (1u << 20)     /* bytes of SSE a slow reader may leave queued */
#define MS_GW_POOL_WAIT_S 60u             /* seconds a request waits for a free session */
/* --- perf: buffers and concurrency (issue 15) ------------------------------------- */
#define MS_STREAM_COALESCE_MAX (16u * 1024u) /* bytes of waiting pieces one STREAM_DATA joins */
#define MS_GW_CONN_MEMORY (16u * 1024u) /* serve: libmicrohttpd memory per connection */
/* The supervisor's malloc: a whole reply's buffers (engine body, reply, record: about 1 MiB
   each) come from the heap, not fresh mappings, and up to this much free top of an arena
   stays for the next turn (pages not faulted in and zeroed again; sup_memory_tick trims) */
#define MS_SUP_MMAP_THRESHOLD (2u * 1024u * 1024u)
#define MS_SUP_TRIM_THRESHOLD (4u * 1024u * 1024u)
/* --- deploy: install, service, package, scale-out (issue 16) ---------------------- */
#define MS_MAX_LLM_ENGINES 8u         /* local engines one batch spreads over (llm/pool) */
#define MS_LLM_ENGINE_DOWN_MS 30000u  /* an engine that could not be reached is skipped this long */
#endif

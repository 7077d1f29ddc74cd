/* llm-sim: caps, exit codes and run-time configuration of the model-engine simulator. */
#ifndef MS_TOOLS_LLMSIM_H
#define MS_TOOLS_LLMSIM_H

#include <stdint.h>

#include "common/limits.h"
#include "common/version.h"

#define LLMSIM_VERSION MS_VERSION
/* What GET /api/version reports: a recent Ollama, so clients that gate features accept it. */
#define LLMSIM_OLLAMA_VERSION "0.6.0"
/* The model reported when neither the request nor --model names one. */
#define LLMSIM_DEFAULT_MODEL "llm-sim"
/* The reply when no --script is given, or the script has no "default". */
#define LLMSIM_DEFAULT_REPLY "llm-sim default reply"

/*
 * Caps. Over a cap is an error answer (413 or 400), never a truncation.
 * The body cap equals the JSON reader's own cap, so every accepted body can be parsed.
 */
#define LLMSIM_MAX_BODY (8u * 1024u * 1024u)   /* bytes of one request body (else 413) */
#define LLMSIM_MAX_BODY_TEXT "8 MiB"          /* the same, for messages */
#define LLMSIM_MAX_DRAIN (64u * 1024u * 1024u) /* over-cap bytes read and dropped, then close */
#define LLMSIM_MAX_MESSAGES 1024u              /* messages in one chat request */
#define LLMSIM_MAX_CONTENT (2u * 1024u * 1024u) /* bytes of one message's content */
#define LLMSIM_MAX_PARTS 256u                  /* parts in one OpenAI content array */
#define LLMSIM_MAX_ROLE 32u                    /* bytes of a role name */
#define LLMSIM_MAX_MODEL 256u                  /* bytes of a model name */
#define LLMSIM_MAX_SCRIPT (4u * 1024u * 1024u) /* bytes of the --script file */
#define LLMSIM_MAX_RULES 256u                  /* rules in a script */
#define LLMSIM_MAX_MODELS 64u                  /* extra model names in a script */
#define LLMSIM_MAX_REPLY (1024u * 1024u)       /* bytes of one scripted reply or match text */
#define LLMSIM_MAX_DELAY_MS 600000u            /* --latency-ms and a rule's delay_ms */
#define LLMSIM_MAX_FAIL_AFTER 1000000u         /* a rule's stream_fail_after */
#define LLMSIM_MAX_CONNECTIONS 1024u           /* --max-connections */
#define LLMSIM_MAX_IDLE_TIMEOUT_S 86400u       /* --idle-timeout */
#define LLMSIM_DEFAULT_IDLE_TIMEOUT_S 120u
#define LLMSIM_MAX_TPS 1000000.0               /* --tokens-per-sec */
#define LLMSIM_WHY_LEN 256u                    /* bytes of a decoder's error explanation */

_Static_assert(LLMSIM_MAX_BODY <= MS_MAX_JSON_TEXT, "every accepted body must be parseable");
_Static_assert(LLMSIM_MAX_CONTENT <= MS_MAX_JSON_STRING, "content cap within the reader's");

/* Exit codes (documented in --help). */
#define LLMSIM_EXIT_OK 0      /* stopped by SIGTERM or SIGINT, or --help / --version */
#define LLMSIM_EXIT_RUNTIME 1 /* cannot listen, start, or write the port or log file */
#define LLMSIM_EXIT_USAGE 2   /* bad command line, or a listen address that is not loopback */
#define LLMSIM_EXIT_SCRIPT 3  /* the --script file cannot be read or is invalid */

/* Listen address, already checked to be loopback. */
typedef struct llmsim_addr {
    int family;      /* AF_INET or AF_INET6 */
    uint8_t ip[16];  /* network order; 4 bytes used for AF_INET */
    uint16_t port;   /* 0: the kernel picks one */
} llmsim_addr;

/* Everything main() gathers from the command line. Strings are borrowed from argv. */
typedef struct llmsim_config {
    llmsim_addr listen;
    const char *port_file;   /* NULL: none */
    const char *script_path; /* NULL: every reply is LLMSIM_DEFAULT_REPLY */
    const char *log_path;    /* NULL: no request log */
    const char *model;       /* never NULL */
    uint32_t latency_ms;
    double tokens_per_sec;   /* 0: unlimited */
    unsigned max_connections;
    unsigned idle_timeout_s; /* an idle keep-alive connection is closed after this */
} llmsim_config;

#endif

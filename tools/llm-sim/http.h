/* Inside llm-sim's server: the shared state and the helpers that server.c and chat.c both use. */
#ifndef MS_TOOLS_LLMSIM_HTTP_H
#define MS_TOOLS_LLMSIM_HTTP_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tools/llm-sim/formats.h"
#include "tools/llm-sim/llmsim.h"
#include "tools/llm-sim/reqlog.h"
#include "tools/llm-sim/request.h"
#include "tools/llm-sim/script.h"

/* Bytes of one JSON answer: the longest reply with every byte escaped, plus framing. */
#define LLMSIM_MAX_ANSWER (6u * LLMSIM_MAX_REPLY + 64u * 1024u)

struct llmsim_server {
    struct MHD_Daemon *daemon;
    const llmsim_config *cfg;
    const llmsim_script *script;
    llmsim_reqlog *log;
    atomic_bool stopping;  /* set first by llmsim_server_stop: sleeps and streams end */
    int64_t started;       /* unix seconds, reported as the models' creation time */
    const char **models;   /* --model, then the script's names without repeats */
    size_t n_models;
};

/* Queue a copy of body[0..len) with this status and Content-Type. */
enum MHD_Result llmsim_http_send(struct MHD_Connection *c, unsigned status, const char *type,
                                 const void *body, size_t len);
/* Queue an error in f's shape (msg: UTF-8); falls back to plain text if that fails. */
enum MHD_Result llmsim_http_error(struct MHD_Connection *c, const llmsim_format *f,
                                  unsigned status, const char *msg);
/* The same with "Retry-After: retry_after_s" when it is not 0 (429 and 503 of a busy engine). */
enum MHD_Result llmsim_http_error_after(struct MHD_Connection *c, const llmsim_format *f,
                                        unsigned status, const char *msg, uint32_t retry_after_s);

/*
 * POST /api/chat and /v1/chat/completions: decode the body, match the script, wait the
 * configured latency, then queue the whole reply or a streamed one. Runs on the
 * connection's own thread (it may sleep). MHD_NO closes the connection (server stopping).
 */
enum MHD_Result llmsim_chat(struct llmsim_server *s, struct MHD_Connection *c, llmsim_api api,
                            const uint8_t *body, size_t len);

#endif

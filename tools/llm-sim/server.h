/* llm-sim's HTTP server: the Ollama and OpenAI-compatible endpoints over libmicrohttpd. */
#ifndef MS_TOOLS_LLMSIM_SERVER_H
#define MS_TOOLS_LLMSIM_SERVER_H

#include <stdint.h>

#include "common/err.h"
#include "tools/llm-sim/llmsim.h"
#include "tools/llm-sim/reqlog.h"
#include "tools/llm-sim/script.h"

typedef struct llmsim_server llmsim_server;

/*
 * Start serving on a listening socket fd (ownership passes to the server, also on error).
 * cfg, script (may be NULL) and log (may be NULL) are borrowed and must outlive the
 * server. One thread per connection, so streamed replies may sleep between tokens.
 * Endpoints:
 *   GET  /                      "Ollama is running"
 *   GET  /api/version, /api/tags
 *   POST /api/chat
 *   GET  /v1/models, /health
 *   POST /v1/chat/completions
 * Errors: MS_ERR_NOMEM, MS_ERR_IO (the daemon did not start).
 */
MS_MUST_CHECK ms_err llmsim_server_start(const llmsim_config *cfg, const llmsim_script *script,
                                         llmsim_reqlog *log, int fd, llmsim_server **out);
/* Cut every sleep and stream short, close all connections, join their threads, free. */
void llmsim_server_stop(llmsim_server *s);

#endif

/* A model's reply as one turn returns it, decoded once: text, usage, errors, timings. */
#ifndef MS_COMMON_TURN_REPLY_H
#define MS_COMMON_TURN_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define MS_TURN_REPLY_FINISH_LEN 32        /* finish_reason, NUL included */
#define MS_TURN_REPLY_ERROR_CODE_LEN 24    /* error_code, NUL included */
#define MS_TURN_REPLY_ERROR_MESSAGE_LEN 256 /* error_message, NUL included */

/*
 * What one supervisor turn produced: the type both sides of the supervisor link share
 * (secure/client's ms_client_turn_reply fills it, protocols/ reads it), so a reply is
 * decoded once and never copied field by field. Single-owner, not thread-safe.
 *   content            the reply text, UTF-8 (owned; wiped on clear and free)
 *   finish_reason      "stop", "length", ... as the engine said it (a label for logs: cut
 *                      at MS_TURN_REPLY_FINISH_LEN - 1 bytes); "" if it did not
 *   truncated          the engine stopped at its token limit (ms_finish_reason_cut): the
 *                      content is a fragment, never a whole answer
 *   prompt_tokens, completion_tokens   usage as reported (0 when absent)
 *   error_code         a failure the far end reported ({"ok": false}, MS_ERR_BACKEND_REMOTE):
 *                      its code; "" otherwise
 *   error_message      its message, printable ASCII only; "" otherwise
 *   seal_s, open_s     time spent sealing the request / opening the reply (0: not measured)
 *   transport_s        the rest of the turn's wall time (HTTP both ways, the far end)
 *   rehandshakes       new sessions the turn needed (e.g. after a 404)
 * Strings are always NUL-terminated.
 */
typedef struct ms_turn_reply {
    ms_buf content;
    char finish_reason[MS_TURN_REPLY_FINISH_LEN];
    bool truncated;
    uint64_t prompt_tokens, completion_tokens;
    char error_code[MS_TURN_REPLY_ERROR_CODE_LEN];
    char error_message[MS_TURN_REPLY_ERROR_MESSAGE_LEN];
    double seal_s, transport_s, open_s;
    unsigned rehandshakes;
} ms_turn_reply;

/*
 * Did the model stop at its token limit? finish_reason "length" (OpenAI, and the engines that
 * copy its format: vLLM, llama.cpp's server, SGLang, TGI, LM Studio) or done_reason "length"
 * (Ollama). The one place this is decided: the engine layer sets ms_chat_result.truncated and
 * the client ms_turn_reply.truncated from it. reason is len bytes (need not end in NUL).
 */
bool ms_finish_reason_cut(const char *reason, size_t len);

/* An empty reply whose content may grow to max bytes. */
void ms_turn_reply_init(ms_turn_reply *r, size_t max);
/* Empty again (content wiped, every other field zero); the cap is kept. */
void ms_turn_reply_clear(ms_turn_reply *r);
/* Wipes and frees the content, zeroes the rest; it can be reused (same cap). */
void ms_turn_reply_free(ms_turn_reply *r);

#endif

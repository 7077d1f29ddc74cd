/* Initialisation and release of the shared chat types. */
#include "common/llm/chat.h"

#include <string.h>

#include "common/limits.h"

_Static_assert(sizeof(((ms_chat_result *)0)->error_text) > MS_MAX_LLM_ERROR_TEXT,
               "error_text holds MS_MAX_LLM_ERROR_TEXT characters and a NUL");

void ms_chat_opts_init(ms_chat_opts *o)
{
    o->max_tokens = 0;
    o->temperature = -1.0;
    o->json_format = NULL;
}

void ms_chat_result_init(ms_chat_result *r)
{
    memset(r, 0, sizeof *r);
    ms_buf_init(&r->content, MS_MAX_LLM_REPLY);
}

void ms_chat_result_free(ms_chat_result *r)
{
    ms_buf_free(&r->content);
    ms_wipe(r->error_text, sizeof r->error_text);
    r->finish_reason[0] = '\0';
}

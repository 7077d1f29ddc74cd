/* The worker model of protocols/protocol.h (ms_worker) over a local engine (common/llm). */
#ifndef MS_APPS_MINIONS_SECURE_WORKER_H
#define MS_APPS_MINIONS_SECURE_WORKER_H

#include "common/llm/pool.h"
#include "protocols/protocol.h"

/*
 * ping is ms_llm_engine_ping, chat is ms_llm_engine_chat, batch is ms_llm_batch_run (one
 * libcurl multi handle on the calling thread); errors, timeouts and retries are theirs.
 * name is the engine's kind (ms_llm_kind_name). Nothing is logged here. Thread-safety as
 * common/llm/pool.h's: calls on one engine may run on different threads, but a protocol run
 * makes them from its own.
 */
typedef struct ms_worker_engine {
    const ms_llm_engine *engine; /* borrowed; must outlive every call */
    /* NULL: engine alone. Else several engines like `engine` at spread's URLs (borrowed,
       kept across calls: which are down): batch is ms_llm_batch_run_spread; ping succeeds
       when one of them answers and marks the others down; chat takes the first engine up,
       and the next when it cannot be reached. */
    ms_llm_spread *spread;
} ms_worker_engine;

/* The ms_worker whose calls use we (borrowed: it must outlive the worker's use). */
ms_worker ms_worker_over_engine(ms_worker_engine *we);

#endif

/* The supervisor's allocator settings and its periodic memory upkeep (docs/supervisor.md). */
#ifndef MS_APPS_MINIONS_SUPERVISOR_MEMORY_H
#define MS_APPS_MINIONS_SUPERVISOR_MEMORY_H

/* Before any thread starts: bound malloc's arenas (MS_SUP_ARENA_MAX) and fix its mapping
   and trim thresholds (MS_SUP_MMAP_THRESHOLD, MS_SUP_TRIM_THRESHOLD). */
void sup_memory_init(void);

/*
 * From main's periodic loop (every few seconds): every MS_SUP_TRIM_EVERY_S seconds, give
 * the allocator's free pages back to the system (malloc_trim) and, at debug level, log
 * malloc's figures (bytes in use, free, mapped) so that a long run shows where memory goes.
 */
void sup_memory_tick(void);

#endif

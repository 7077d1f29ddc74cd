/* bench-minions' parts: the client's peak memory for a Minions run over a generated folder. */
#ifndef MS_BENCH_MINIONS_H
#define MS_BENCH_MINIONS_H

#include <stdint.h>

/* Where the programs are (build/bin, next to bench-minions) and what to run. */
typedef struct rss_cfg {
    const char *sim_bin, *sup_bin, *cli_bin;
    const char *src;     /* the source tree: certs/dev */
    unsigned context_mb; /* MiB of documents generated (1..60) */
    unsigned jobs;       /* run --jobs */
} rss_cfg;

/* One run of `minions-secure run --protocol minions`: its peak RSS and what it did. */
typedef struct rss_run {
    uint64_t context_bytes; /* the documents' bytes on disk */
    unsigned files;
    uint64_t peak_bytes;    /* wait4's ru_maxrss */
    uint64_t jobs_run;      /* from its --json output */
    double seconds;
    int ok;                 /* exit 0, the final answer, the jobs counted */
} rss_run;

typedef struct rss_result {
    rss_run base; /* one 64 KiB document: what the program costs without documents */
    rss_run full; /* context_mb MiB of documents */
    uint64_t bench_hwm_bytes; /* this program's own VmHWM when it started them */
} rss_result;

/*
 * client_rss_vs_context (issue 15): llm-sim (both the supervisor's engine and the worker,
 * no latency), a supervisor (dev key, HTTPS), a folder of generated log files, and
 * minions-secure run over it as a process of its own; its peak RSS from wait4. Returns 0
 * when both runs ended well (r filled in either way), -1 otherwise (said on stderr).
 */
int rss_bench(const rss_cfg *cfg, rss_result *r);

#endif

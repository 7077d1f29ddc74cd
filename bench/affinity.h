/* CPU placement for bench-e2e: pin this thread and every thread of a child process to CPUs. */
#ifndef MS_BENCH_AFFINITY_H
#define MS_BENCH_AFFINITY_H

#include <sys/types.h>

/*
 * On a small VM the cost of waking a process on the other core (an inter-processor
 * interrupt through the hypervisor) can exceed the work of a whole loopback request, and
 * the scheduler's placement changes from one round to the next. Pinning fixes the topology
 * so that both sides of a comparison cross the same number of cores.
 *
 * bench_cpus_init records the CPUs this process may use (at most 2 are used: "a", "b").
 * A cpu argument of -1 means "every CPU of the original set" (no pinning).
 */
typedef struct bench_cpus {
    int n;      /* CPUs in the original set */
    int a, b;   /* the first two of them (b == a when there is one) */
} bench_cpus;

/* 0 on success. */
int bench_cpus_init(bench_cpus *c);
/* Pin the calling thread. 0 on success. */
int bench_pin_self(const bench_cpus *c, int cpu);
/* Pin every thread of process pid (threads it creates later inherit it). 0 on success. */
int bench_pin_process(const bench_cpus *c, pid_t pid, int cpu);

#endif

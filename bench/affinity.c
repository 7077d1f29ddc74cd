/* CPU placement for bench-e2e: pin this thread and every thread of a child process to CPUs. */
#define _GNU_SOURCE 1 /* cpu_set_t, sched_setaffinity */

#include "bench/affinity.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cpu_set_t g_orig;

int bench_cpus_init(bench_cpus *c)
{
    memset(c, 0, sizeof *c);
    c->a = c->b = -1;
    if (sched_getaffinity(0, sizeof g_orig, &g_orig) != 0) {
        return -1;
    }
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (CPU_ISSET(i, &g_orig)) {
            if (c->n == 0) {
                c->a = i;
            } else if (c->n == 1) {
                c->b = i;
            }
            c->n++;
        }
    }
    if (c->n == 1) {
        c->b = c->a;
    }
    return c->n > 0 ? 0 : -1;
}

static void set_of(int cpu, cpu_set_t *set)
{
    if (cpu < 0) {
        *set = g_orig;
        return;
    }
    CPU_ZERO(set);
    CPU_SET(cpu, set);
}

int bench_pin_self(const bench_cpus *c, int cpu)
{
    cpu_set_t set;
    (void)c;
    set_of(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int bench_pin_process(const bench_cpus *c, pid_t pid, int cpu)
{
    char path[64];
    cpu_set_t set;
    (void)c;
    set_of(cpu, &set);
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) {
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*e->d_name != '\0' && *end == '\0' && tid > 0) {
            if (sched_setaffinity((pid_t)tid, sizeof set, &set) != 0 && errno != ESRCH) {
                rc = -1; /* ESRCH: the thread has just ended */
            }
        }
    }
    closedir(d);
    return rc;
}

/*
 * bench-minions' client_rss_vs_context: the peak memory of `minions-secure run --protocol
 * minions` over a folder of generated documents, divided by the documents' size.
 *
 * One llm-sim plays both engines (rules on the last user message): the supervisor's first
 * turn gets a plan (paragraphs of at most 32 KiB, one task), each worker job a JSON answer,
 * the second turn a final answer. The folder is written at run time in a temp dir: files of
 * 1 MiB of log-like lines in paragraphs, half under logs/ (text), half under notes/
 * (markdown). The client runs as a process of its own, and wait4 gives its peak RSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_minions.h"
#include "common/json.h"
#include "tests/fixture/world.h"

#define FILE_BYTES (1u << 20)
#define BASE_BYTES (64u * 1024u)
#define RUN_TIMEOUT_MS 900000
#define FINAL "The incident began on web-03; db-01 followed."
#define TASK "Which hosts were affected, and when did it start?"

/* Rules in order, on the last user message: round 2's results quote the instruction too. */
static const char SCRIPT[] =
    "{\"rules\": [\n"
    " {\"contains\": \"Results of round 1\", \"reply\": \"{\\\"decision\\\": "
    "\\\"provide_final_answer\\\", \\\"answer\\\": \\\"" FINAL "\\\"}\"},\n"
    " {\"contains\": \"Instruction (task t1)\", \"reply\": \"{\\\"explanation\\\": \\\"the "
    "chunk lists alerts\\\", \\\"citation\\\": \\\"first alert on web-03\\\", \\\"answer\\\": "
    "\\\"web-03 at 02:14 UTC\\\"}\"},\n"
    " {\"contains\": \"bytes long in all\", \"reply\": \"{\\\"decision\\\": \\\"run_plan\\\", "
    "\\\"plan\\\": {\\\"tasks\\\": [{\\\"id\\\": \\\"t1\\\", \\\"instruction\\\": \\\"List the "
    "hosts with alerts and the first alert's time.\\\"}], \\\"chunking\\\": {\\\"method\\\": "
    "\\\"paragraphs\\\", \\\"size\\\": 32768}}}\"}\n"
    "], \"default\": \"{\\\"decision\\\": \\\"cannot_answer\\\", \\\"reason\\\": \\\"no "
    "rule\\\"}\"}\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* This process's VmHWM in bytes (0 if unreadable). */
static uint64_t self_hwm(void)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmHWM: %llu kB", &kb) == 1) {
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return (uint64_t)kb * 1024u;
}

/* `bytes` of log lines in paragraphs (a blank line every 12 lines), different per seed. */
static int write_doc(const char *path, size_t bytes, unsigned seed)
{
    static const char *const what[][3] = {
        {"sshd accepted publickey for svc-backup from 198.51.100.", " port ", ""},
        {"firewall denied outbound connection to 203.0.113.", " port ", ""},
        {"EDR quarantined a dropped binary (pid ", ", parent ", ")"},
        {"scheduled task ran powershell with an encoded command (job ", ".", ")"},
        {"badge reader north-door granted badge ", " at gate ", ""},
    };
    char *buf = malloc(bytes);
    if (buf == NULL) {
        return -1;
    }
    size_t off = 0;
    uint32_t x = seed * 2654435761u + 1u;
    for (unsigned k = 0; off < bytes; k++) {
        x = x * 1664525u + 1013904223u;
        char line[256];
        int n = snprintf(line, sizeof line, "2026-03-14T%02u:%02u:%02u web-%02u ", (x >> 8) % 24,
                         (x >> 13) % 60, (x >> 19) % 60, (x >> 25) % 40);
        const char *const *t = what[k % 5];
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%u%s%u%s", t[0], (x >> 3) % 250, t[1],
                      (x >> 11) % 65000, t[2]);
        n += snprintf(line + n, sizeof line - (size_t)n, k % 12 == 11 ? "\n\n" : "\n");
        size_t take = bytes - off < (size_t)n ? bytes - off : (size_t)n;
        memcpy(buf + off, line, take);
        off += take;
    }
    buf[bytes - 1] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ssize_t w = fd >= 0 ? write(fd, buf, bytes) : -1;
    int rc = fd >= 0 && w == (ssize_t)bytes && close(fd) == 0 ? 0 : -1;
    if (fd >= 0 && rc != 0) {
        close(fd);
    }
    free(buf);
    return rc;
}

/* <dir>/<name>/{logs,notes}/: mb files of 1 MiB (mb 0: one file of BASE_BYTES). */
static int make_folder(const e2e_world *w, const char *name, unsigned mb, char out[PATH_MAX],
                       rss_run *r)
{
    char sub[PATH_MAX], f[PATH_MAX];
    e2e_world_path(w, out, "%s", name);
    if (mkdir(out, 0700) != 0) {
        return -1;
    }
    for (const char *const *d = (const char *const[]){"logs", "notes", NULL}; *d; d++) {
        e2e_path(sub, "%s/%s", out, *d);
        if (mkdir(sub, 0700) != 0) {
            return -1;
        }
    }
    unsigned files = mb ? mb : 1;
    for (unsigned i = 0; i < files; i++) {
        size_t bytes = mb ? FILE_BYTES : BASE_BYTES;
        if (i % 2 == 0) {
            e2e_path(f, "%s/logs/host-%03u.log", out, i);
        } else {
            e2e_path(f, "%s/notes/shift-%03u.md", out, i);
        }
        if (write_doc(f, bytes, i + 1) != 0) {
            fprintf(stderr, "bench-minions: cannot write %s\n", f);
            return -1;
        }
        r->context_bytes += bytes;
    }
    r->files = files;
    return 0;
}

/* jobs_run from the run's --json line (the one line of its output that starts with '{'). */
static int jobs_of(const ms_buf *log, uint64_t *jobs)
{
    const char *p = (const char *)log->p;
    for (const char *l = p; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (*l != '{') {
            continue;
        }
        const char *end = strchr(l, '\n');
        ms_json_doc *d = NULL;
        int ok = ms_json_parse(l, end ? (size_t)(end - l) : strlen(l), &d) == MS_OK &&
                 ms_json_get_u64(ms_json_root(d), "jobs_run", UINT32_MAX, jobs) == MS_OK;
        ms_json_free(d);
        return ok ? 0 : -1;
    }
    return -1;
}

/* minions-secure run over `folder`; its peak RSS and outcome into r. */
static int run_client(const e2e_world *w, const char *url, unsigned sim_port,
                      const rss_cfg *cfg, const char *folder, rss_run *r)
{
    char wurl[64], jobs[16], out[PATH_MAX];
    static unsigned seq;
    e2e_url(wurl, "http", sim_port);
    snprintf(jobs, sizeof jobs, "%u", cfg->jobs);
    e2e_world_path(w, out, "client%u.out", ++seq);
    char *argv[] = {(char *)cfg->cli_bin, "run", "--supervisor_url", (char *)url,
                    "--trusted_attestation_pem", (char *)w->devpub, "--cacert", (char *)w->ca,
                    "--log-key", (char *)w->logkey, "--local-url", wurl, "--protocol", "minions",
                    "--jobs", jobs, "--task", TASK, "--context", (char *)folder, "--json", NULL};
    e2e_proc p;
    double t0 = now_s();
    if (e2e_proc_start(&p, "minions-secure", argv, out) != 0) {
        return -1;
    }
    int code = e2e_proc_wait(&p, RUN_TIMEOUT_MS);
    r->seconds = now_s() - t0;
    r->peak_bytes = (uint64_t)p.maxrss_kb * 1024u;
    ms_buf log;
    ms_buf_init(&log, 1u << 20);
    r->ok = code == 0 && e2e_file_read(out, &log) == 0 && log.p &&
            strstr((const char *)log.p, FINAL) != NULL && jobs_of(&log, &r->jobs_run) == 0 &&
            r->jobs_run > 0;
    if (!r->ok) {
        fprintf(stderr, "bench-minions: minions-secure run over %s: exit %d\n", folder, code);
        e2e_proc_print_log(&p);
    }
    ms_buf_free(&log);
    return r->ok ? 0 : -1;
}

static int setup(e2e_world *w, const rss_cfg *cfg)
{
    char *argv[] = {"bench-minions", (char *)cfg->sup_bin, (char *)cfg->sim_bin,
                    (char *)cfg->cli_bin, (char *)cfg->src, NULL};
    if (e2e_world_open(w, "bench-minions-rss", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, 5, argv) !=
        0) {
        return -1;
    }
    if (e2e_world_home(w) != 0 || e2e_world_devkey(w, "dev.pem") != 0 ||
        e2e_world_logkey(w, "log-key") != 0 || e2e_world_script(w, SCRIPT) != 0) {
        fprintf(stderr, "bench-minions: cannot make the keys and the script\n");
        return -1;
    }
    return 0;
}

int rss_bench(const rss_cfg *cfg, rss_result *r)
{
    e2e_world w;
    e2e_stack st;
    char base[PATH_MAX], full[PATH_MAX];
    memset(r, 0, sizeof *r);
    memset(&st, 0, sizeof st);
    int rc = setup(&w, cfg);
    if (rc == 0) {
        rc = make_folder(&w, "base", 0, base, &r->base) == 0 &&
                     make_folder(&w, "context", cfg->context_mb, full, &r->full) == 0
                 ? 0
                 : -1;
    }
    if (rc == 0) {
        rc = e2e_world_stack(&w, &st, NULL, NULL);
    }
    r->bench_hwm_bytes = self_hwm();
    if (rc == 0) {
        rc = run_client(&w, st.url, st.sim.port, cfg, base, &r->base);
    }
    if (rc == 0) {
        rc = run_client(&w, st.url, st.sim.port, cfg, full, &r->full);
    }
    if (e2e_stack_stop(&st) != 0) {
        rc = -1;
    }
    return e2e_world_close(&w, rc);
}

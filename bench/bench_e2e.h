/* bench-e2e's figures and how they are printed (bench_e2e.c measures, bench_e2e_report.c prints). */
#ifndef MS_BENCH_BENCH_E2E_H
#define MS_BENCH_BENCH_E2E_H

#include <stddef.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/client/client.h"

#define MAX_ROUNDS 64

typedef struct bench_opts {
    int json, quick;
    unsigned rounds;    /* turn rounds */
    unsigned hs_rounds; /* handshake rounds */
    double turn_round_s;
    double cpu_round_s;  /* the 1 KiB rounds (CPU ticks) */
    double conc_round_s; /* each side of a concurrency round */
    unsigned warmup;     /* turns of each side before a comparison */
    unsigned profile_turns, profile_size; /* --profile-turns N, --profile-size (BENCH_SZ_*) */
    int profile_stream;                   /* --profile-stream */
    int profile_gateway; /* --profile-gateway serve|ask: 1 serve's turns, 2 ask's (same turn) */
    int conc_only;                        /* --only-concurrent: the concurrency rounds alone */
    int gw_only;                          /* --only-gateway: the gateway rounds alone */
    int floor_only; /* --only-floor: the floor and the secure figures it is the floor of */
    unsigned conc_clients;                /* --clients N (BENCH_CONC_CLIENTS at most) */
    unsigned profile_hs;                  /* --profile-handshakes N (0: timed rounds) */
    const char *profile_evidence;         /* --profile-evidence TYPE: only its part */
    unsigned tls_secs; /* s_time -time */
    unsigned sessions;
    double tpm_secs; /* each side of a TPM handshake round */
    const char *sup_bin, *sim_bin, *src;
    const char *hcl_bin; /* tests/tools/hcl-paravisor (az-snp-vtpm handshakes) */
    const char *relay_bin; /* bench-stack-relay (the floor of the project's HTTP stack) */
} bench_opts;

/*
 * Where the processes run during the turn comparison. "one_cpu" (the headline) puts the
 * bench, the supervisor and llm-sim on one core: the ratio is then the ratio of the work
 * done per turn, whatever the VM's cross-core wake-up cost. "split" puts the client on one
 * core and the supervisor and the engine on the other, as deployed (the client is remote,
 * the supervisor runs next to its engine): each side crosses cores once per request.
 * "unpinned" leaves placement to the scheduler (it varies from round to round).
 */
enum { BENCH_PL_ONE_CPU, BENCH_PL_SPLIT, BENCH_PL_UNPINNED, BENCH_N_PLACEMENTS };
extern const char *const bench_placement_names[BENCH_N_PLACEMENTS];

typedef struct bench_turn_res {
    double ours_s[MAX_ROUNDS], base_s[MAX_ROUNDS]; /* per operation, per round */
    /* CPU seconds per operation, per round (/proc/<pid>/stat, utime + stime): the
       supervisor's during the secure side, llm-sim's during the direct side */
    double sup_cpu[MAX_ROUNDS], sim_cpu[MAX_ROUNDS];
    unsigned iters;
    int done;
} bench_turn_res;

/* The gateway (minions-secure serve, bench_e2e_gateway.c): a turn through it against the same
   turn in ask's library path; a long streamed reply through its SSE against a direct stream. */
typedef struct bench_gw_res {
    double gw_s[MAX_ROUNDS], ask_s[MAX_ROUNDS];                   /* per turn, per round */
    double stream_gw_s[MAX_ROUNDS], stream_direct_s[MAX_ROUNDS]; /* per long stream */
    unsigned iters;
    unsigned stream_iters; /* long streams a side a round (a round's time over one stream's) */
    size_t stream_bytes;   /* the long reply's text */
    int placement;       /* BENCH_PL_*: where the rounds ran */
    int turns_only;      /* set by the caller: no streamed rounds */
    int done;
} bench_gw_res;

/* n secure turns with req on c (ask's library path), each reply into reply (cleared first). */
ms_err bench_secure_turns(ms_client *c, const ms_buf *req, ms_buf *reply, unsigned n);

int bench_gateway(const bench_opts *o, const char *url, const char *ca, const unsigned char *pk,
                  const char *prompt, const char *long_prompt, bench_gw_res *r);
/* --only-gateway's lines: the gateway figures of bench_gateway's rounds. */
void bench_print_gateway(FILE *f, const bench_opts *o, const bench_gw_res *r);
/* --profile-gateway: profile_turns turns (streamed with --profile-stream) of one side only. */
int bench_gateway_profile(const bench_opts *o, const char *url, const char *ca,
                          const unsigned char *pk, const char *prompt, const char *long_prompt);
/*
 * Turns whose reply has a given size (one llm-sim rule each), in the headline placement:
 * 1 KiB (its rounds last longer: the CPU figure counts clock ticks), 64 KiB, and the
 * largest reply one record holds.
 */
enum { BENCH_SZ_1K, BENCH_SZ_64K, BENCH_SZ_1M, BENCH_N_SIZES };
extern const char *const bench_size_names[BENCH_N_SIZES];

/*
 * The floor (docs/performance.md, "The floor"): relays that do nothing of ours in front of
 * the same llm-sim, placed as the supervisor, against the same direct POSTs in the same ABBA
 * rounds (turn_rounds). Three relays: HAProxy with a plain HTTP frontend, HAProxy with a TLS
 * one (the supervisor's certificate and TLS version), and the project's own HTTP stack
 * (bench-stack-relay: libmicrohttpd with GnuTLS in, libcurl out, as the supervisor); each at
 * the turn_vs_direct request (435-byte reply) and the three sized replies. Its CPU figure:
 * the relay's per 1 KiB request over llm-sim's per direct POST (the sized 1 KiB rounds, as
 * supervisor_cpu_per_turn_vs_engine).
 */
enum { BENCH_RELAY_PLAIN, BENCH_RELAY_TLS, BENCH_RELAY_STACK, BENCH_N_RELAYS };
enum { BENCH_FL_TURN, BENCH_FL_1K, BENCH_FL_64K, BENCH_FL_1M, BENCH_N_FL };
extern const char *const bench_relay_names[BENCH_N_RELAYS];

/* N clients at once, each its own session (ours) or connection (direct): turns per second. */
#define BENCH_CONC_CLIENTS 16u
enum { BENCH_CONC_WHOLE, BENCH_CONC_STREAM, BENCH_N_CONC };
/* Whose CPU a concurrency round counts (/proc/<pid>/stat): the bench's own (the 16 clients),
   the supervisor's, llm-sim's. */
enum { BENCH_CPU_CLIENT, BENCH_CPU_SUP, BENCH_CPU_SIM, BENCH_N_CPU };
typedef struct bench_conc_res {
    double ours[MAX_ROUNDS], base[MAX_ROUNDS]; /* turns per second, per round */
    /* CPU seconds over all rounds of each side, and the turns they made */
    double cpu_ours[BENCH_N_CPU], cpu_base[BENCH_N_CPU];
    double turns_ours, turns_base;
    int done;
} bench_conc_res;

typedef struct bench_results {
    bench_turn_res turn[BENCH_N_PLACEMENTS];
    double hs_ours[MAX_ROUNDS], hs_full[MAX_ROUNDS];       /* per second */
    double tls_wall[MAX_ROUNDS], tls_real[MAX_ROUNDS];     /* per second */
    /* per second: dev-key and TPM FAST back to back (ABBA), then TPM STRICT, each round */
    double hs_dev[MAX_ROUNDS], hs_tpm_fast[MAX_ROUNDS], hs_tpm_strict[MAX_ROUNDS];
    int tpm_done;
    /* the same for az-snp-vtpm (swtpm behind the hcl-paravisor stand-in) */
    double hs_az_dev[MAX_ROUNDS], hs_az_fast[MAX_ROUNDS], hs_az_strict[MAX_ROUNDS];
    int az_done;
    /* the same for az-tdx-vtpm (hcl-paravisor --tdx and its stand-in TD quote service) */
    double hs_aztdx_dev[MAX_ROUNDS], hs_aztdx_fast[MAX_ROUNDS], hs_aztdx_strict[MAX_ROUNDS];
    int aztdx_done;
    /* per second: dev-key and TDX FAST (the fake configfs-tsm) back to back (ABBA), each round */
    double hs_tdx_dev[MAX_ROUNDS], hs_tdx_fast[MAX_ROUNDS];
    int tdx_done;
    /* per second: dev-key and composite (TPM + 2 GPUs) FAST back to back (ABBA), each round */
    double hs_comp_dev[MAX_ROUNDS], hs_comp_fast[MAX_ROUNDS];
    int comp_done;
    bench_gw_res gw;         /* split (the headline): serve and its tool on the client's core */
    bench_gw_res gw_one_cpu; /* every process on one core: the gateway's work per turn */
    bench_turn_res sized[BENCH_N_SIZES];
    size_t sized_bytes[BENCH_N_SIZES]; /* the reply's content */
    bench_conc_res conc[BENCH_N_CONC];
    /* the same threads, rounds and requests through bench-stack-relay (the project's HTTP
       stack relaying, nothing of ours) against direct: the floor of the concurrency figures;
       its "supervisor" CPU is the relay's */
    bench_conc_res conc_floor[BENCH_N_CONC];
    double conc_round_s;
    /* the floor: per relay, the turn request then the sized replies (BENCH_FL_*) */
    bench_turn_res floor[BENCH_N_RELAYS][BENCH_N_FL];
    const char *floor_skipped; /* why the floor was not measured (no haproxy), or NULL */
    double rss_base_mib, rss_mib, hwm_mib;
    unsigned sessions;
    size_t reply_bytes;
    int cpu_a, cpu_b; /* the CPUs of the placements */
} bench_results;

struct ms_client;
struct ms_attest_policy;
/*
 * A client of url under the policy file at path (loaded into pol), connected once: the
 * evidence it verified must be of `type` (MS_EVIDENCE_*) and FAST or STRICT as asked. 0, or
 * -1 (printed, `what` naming the evidence).
 */
int bench_policy_client(struct ms_client **c, struct ms_attest_policy *pol, const char *ca,
                        const char *url, const char *path, int strict, unsigned type,
                        const char *what);
/*
 * ms_client_connect in a loop for at least `secs`: each a full handshake whose evidence the
 * client verifies. 0 and *rate (handshakes per second), or -1 (printed) on the first error.
 */
int bench_hs_round(struct ms_client *c, double secs, double *rate);
/*
 * --profile-handshakes N: N (each round makes exactly N handshakes, untimed, and STRICT is
 * left out: the profile is of FAST handshakes), else 0.
 */
unsigned bench_hs_profiling(void);
/* Round r of two clients back to back, dev first in even rounds (ABBA): bench_hs_round each. */
int bench_hs_abba(struct ms_client *dev, struct ms_client *other, unsigned r, double secs,
                  double *dev_rate, double *other_rate);

/*
 * TPM handshakes (bench_e2e_tpm.c). bench_tpm_start: a swtpm on a free port (temporary
 * state, stopped by PID), enrolled into two client policies (FAST, STRICT) that pin its AK
 * and PCRs 0-7; call it before any other child starts (the process helpers' fatal-signal
 * hooks then stay in charge). bench_tpm_handshakes starts a supervisor with --evidence tpm2
 * on it and measures against the dev-key supervisor at dev_url (still running).
 */
typedef struct bench_tpm_env {
    const char *dir, *ca, *cert, *key, *devkey, *dev_url;
    const unsigned char *dev_pk; /* MS_SIGN_PK_LEN */
    unsigned backend_port;
} bench_tpm_env;
int bench_tpm_start(const char *dir);
int bench_tpm_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res);
/*
 * After bench_tpm_handshakes, on the same swtpm: o->hcl_bin in front of it (provisioning it
 * like an Azure vTPM, the paravisor's report regeneration stood in), a supervisor with
 * --evidence az-snp-vtpm, the same rounds against the dev-key supervisor.
 */
int bench_az_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res);
/*
 * After bench_az_handshakes, on the same swtpm: o->hcl_bin --tdx (TD reports of a test TD
 * platform, Azure's TD quote service stood in), a supervisor with --evidence az-tdx-vtpm and
 * --tdx-collateral, the same rounds. 0 measured or skipped (the stand-in missing or not
 * starting: bench_aztdx_skipped() says why), -1 failure (printed).
 */
int bench_aztdx_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res);
const char *bench_aztdx_skipped(void);
void bench_tpm_stop(void);
/* For the composite part: the swtpm's TCTI, and the policy's "tpm2" section (AK name, PCRs). */
#define BENCH_TPM_PCR_LIST "0,1,2,3,4,5,6,7"
const char *bench_tpm_tcti(void);
int bench_tpm_section(FILE *f);

/*
 * Composite handshakes (bench_e2e_composite.c): a supervisor with --evidence
 * tpm2+nvidia-gpu on the same swtpm (after the TPM supervisor stopped: swtpm serves one
 * connection) and the fake NVML with two test-made GPUs; its FAST handshakes against the
 * dev-key supervisor at env->dev_url, ABBA. bench_comp_start makes the GPUs' chains and
 * the client policy (tpm2, nvidia_gpu, composite requiring tpm2-quote and 2 GPUs).
 */
int bench_comp_start(const char *dir);
int bench_comp_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res);
void bench_comp_stop(void);

/*
 * TDX handshakes (bench_e2e_tdx.c; bench_e2e_tdx_none.c where tests/tools/fake-tsm is not
 * built). bench_tdx_start: a test-made TD platform (tests/secure/attest/tdx_platform.c) in
 * dir and the fake configfs-tsm mounted there; 0 ready, 1 not measurable here (FUSE
 * unavailable, or not built: bench_tdx_skipped() says why), -1 failure (printed). Call it
 * after bench_tpm_start. bench_tdx_handshakes starts a supervisor with --evidence tdx on it
 * and measures FAST handshakes against the dev-key supervisor at env->dev_url, ABBA.
 */
int bench_tdx_start(const char *dir);
int bench_tdx_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res);
void bench_tdx_stop(void);
const char *bench_tdx_skipped(void);

struct e2e_server;
/*
 * A supervisor under test on s: the dev-key one's configuration (env) and --max-sessions
 * 200000, then `args` (NULL-ended: the evidence and its options); its URL into url. 0, or -1
 * (printed). bench_e2e_tpm.c; the TDX and composite parts use it too.
 */
int bench_sup_start(const bench_opts *o, const bench_tpm_env *env, struct e2e_server *s,
                    const char *const *args, char url[static 64]);

/* The median of v[0..n), n <= MAX_ROUNDS. */
double bench_median(const double *v, unsigned n);
/* Median over rounds of a[i] / b[i]: each round's two sides ran back to back. */
double bench_paired(const double *a, const double *b, unsigned n);
/* The smallest and largest a[i] / b[i] (the spread around bench_paired). */
void bench_spread(const double *a, const double *b, unsigned n, double *lo, double *hi);

/* The table people read; the one JSON object (stdout) for scripts and CTest. */
void bench_print_table(FILE *f, const bench_opts *o, const bench_results *r);
void bench_print_json(const bench_opts *o, const bench_results *r);
/* --only-floor: the floor's rows beside the secure figures of the same run. */
void bench_print_floor(FILE *f, const bench_opts *o, const bench_results *r);
void bench_print_json_floor(const bench_opts *o, const bench_results *r);
/* --only-concurrent: the concurrency rows alone (with each side's CPU per turn). */
void bench_print_conc(FILE *f, const bench_opts *o, const bench_results *r);

#endif

/* bench-e2e's output: the table people read and the one JSON object scripts and CTest read. */
#include "bench/bench_e2e.h"

#include <stdlib.h>
#include <string.h>

const char *const bench_placement_names[BENCH_N_PLACEMENTS] = {"one_cpu", "split", "unpinned"};
const char *const bench_size_names[BENCH_N_SIZES] = {"1k", "64k", "1m"};
const char *const bench_relay_names[BENCH_N_RELAYS] = {"plain", "tls", "stack"};
/* In the table's labels, and the JSON's keys ("relay_tls_vs_direct", ...). */
static const char *const relay_labels[BENCH_N_RELAYS] = {"HTTP relay", "TLS relay",
                                                         "MHD+curl relay"};
static const char *const relay_keys[BENCH_N_RELAYS] = {"relay", "relay_tls", "relay_stack"};

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(const double *v, unsigned n)
{
    double t[MAX_ROUNDS];
    memcpy(t, v, n * sizeof *t);
    qsort(t, n, sizeof *t, dbl_cmp);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

double bench_paired(const double *a, const double *b, unsigned n)
{
    double r[MAX_ROUNDS];
    for (unsigned i = 0; i < n; i++) {
        r[i] = a[i] / b[i];
    }
    return bench_median(r, n);
}

void bench_spread(const double *a, const double *b, unsigned n, double *lo, double *hi)
{
    *lo = *hi = n > 0 ? a[0] / b[0] : 0.0;
    for (unsigned i = 1; i < n; i++) {
        double r = a[i] / b[i];
        *lo = r < *lo ? r : *lo;
        *hi = r > *hi ? r : *hi;
    }
}

/* A ratio of two sides measured in the same rounds: median of the paired ratios, spread. */
typedef struct pair_fig {
    double ratio, lo, hi;
    double ours, base; /* medians of each side */
} pair_fig;

static pair_fig pair_of(const double *ours, const double *base, unsigned n)
{
    pair_fig f = {.ratio = bench_paired(ours, base, n), .ours = bench_median(ours, n),
                  .base = bench_median(base, n)};
    bench_spread(ours, base, n, &f.lo, &f.hi);
    return f;
}

/*
 * The "ours" server's CPU per 1 KiB request of t (the supervisor's per secure turn, or a
 * relay's) over llm-sim's per direct request. /proc counts clock ticks (10 ms): when a round
 * saw no tick on either side (short --quick rounds) the figure is the ratio of the totals
 * over all rounds instead, and *paired says so.
 */
static pair_fig cpu_fig_of(const bench_opts *o, const bench_turn_res *t, int *paired)
{
    double so = 0, sb = 0;
    *paired = 1;
    for (unsigned i = 0; i < o->rounds; i++) {
        *paired = *paired && t->sup_cpu[i] > 0 && t->sim_cpu[i] > 0;
        so += t->sup_cpu[i];
        sb += t->sim_cpu[i];
    }
    if (*paired) {
        return pair_of(t->sup_cpu, t->sim_cpu, o->rounds);
    }
    double q = sb > 0 ? so / sb : 0.0;
    return (pair_fig){.ratio = q, .lo = q, .hi = q, .ours = so / o->rounds, .base = sb / o->rounds};
}

static pair_fig cpu_fig(const bench_opts *o, const bench_results *r, int *paired)
{
    return cpu_fig_of(o, &r->sized[BENCH_SZ_1K], paired);
}

/* The floor's figure of relay k at fl (BENCH_FL_*): relay time over direct time, paired. */
static pair_fig floor_fig(const bench_opts *o, const bench_results *r, int k, int fl)
{
    return pair_of(r->floor[k][fl].ours_s, r->floor[k][fl].base_s, o->rounds);
}

static int floor_done(const bench_results *r)
{
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        for (int fl = 0; fl < BENCH_N_FL; fl++) {
            if (!r->floor[k][fl].done) {
                return 0;
            }
        }
    }
    return 1;
}

/* The floor's rows: each relay at each reply, then each relay's CPU per 1 KiB request. */
static void print_floor_rows(FILE *f, const bench_opts *o, const bench_results *r)
{
    if (!floor_done(r)) {
        fprintf(f, "%-46s not measured: %s\n", "floor: relay (haproxy) vs direct POST",
                r->floor_skipped ? r->floor_skipped : "failed");
        return;
    }
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        for (int fl = 0; fl < BENCH_N_FL; fl++) {
            pair_fig p = floor_fig(o, r, k, fl);
            char label[64];
            snprintf(label, sizeof label, "floor: %s, %zu-byte reply", relay_labels[k],
                     fl == BENCH_FL_TURN ? r->reply_bytes : r->sized_bytes[fl - BENCH_FL_1K]);
            fprintf(f, "%-46s %9.1f us %9.1f us %8.3f %8.3f   [%.3f .. %.3f]\n", label,
                    p.ours * 1e6, p.base * 1e6, p.ours / p.base, p.ratio, p.lo, p.hi);
        }
    }
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        int paired;
        pair_fig c = cpu_fig_of(o, &r->floor[k][BENCH_FL_1K], &paired);
        char label[64];
        snprintf(label, sizeof label, "floor CPU: %s per POST vs llm-sim", relay_labels[k]);
        fprintf(f, "%-46s %9.1f us %9.1f us %8s %8.3f   [%.3f .. %.3f]%s\n", label, c.ours * 1e6,
                c.base * 1e6, "", c.ratio, c.lo, c.hi,
                paired ? "" : " (totals: too few ticks per round)");
    }
}

static void print_floor_note(FILE *f, const bench_opts *o, const bench_results *r)
{
    fprintf(f, "floor: HAProxy (nbthread 1, no log, keep-alive both sides, http-reuse always) "
               "in front of the same llm-sim, on the supervisor's CPU (%d); the same libcurl "
               "client and body as the direct side (the TLS relay: certs/dev, TLS 1.3, the CA "
               "set); %u ABBA rounds per relay and reply against direct POSTs (%u/%u/%u/%u "
               "requests per side for the HTTP relay); its CPU figure: HAProxy's utime + stime "
               "per 1 KiB request over llm-sim's per direct POST (1 KiB rounds of %.2f s). "
               "MHD+curl relay: bench-stack-relay, the project's HTTP stack and nothing of "
               "ours (libmicrohttpd thread per connection + GnuTLS in, libcurl kept alive out, "
               "as the supervisor).\n",
            r->cpu_b, o->rounds, r->floor[0][0].iters, r->floor[0][1].iters,
            r->floor[0][2].iters, r->floor[0][3].iters, o->cpu_round_s);
}

static pair_fig sized_fig(const bench_opts *o, const bench_results *r, int sz)
{
    return pair_of(r->sized[sz].ours_s, r->sized[sz].base_s, o->rounds);
}

/* A concurrency figure (ours over direct, turns a second, paired). */
static pair_fig conc_fig(const bench_opts *o, const bench_conc_res *c)
{
    return pair_of(c->ours, c->base, o->rounds);
}

/* CPU per turn of each process on one side of a concurrency figure, and their sum. */
static double conc_cpu_per_turn(const bench_conc_res *c, int ours, int k)
{
    double turns = ours ? c->turns_ours : c->turns_base;
    const double *cpu = ours ? c->cpu_ours : c->cpu_base;
    if (turns <= 0) {
        return 0.0;
    }
    if (k >= 0) {
        return cpu[k] / turns;
    }
    return (cpu[BENCH_CPU_CLIENT] + cpu[BENCH_CPU_SUP] + cpu[BENCH_CPU_SIM]) / turns;
}

/*
 * The most the concurrency ratio can be when the machine's cores are the limit (both sides
 * keep them busy): the direct side's CPU per turn (bench + llm-sim) over the secure side's
 * (bench + supervisor + llm-sim).
 */
static double conc_ceiling(const bench_conc_res *c)
{
    double ours = conc_cpu_per_turn(c, 1, -1);
    return ours > 0 ? conc_cpu_per_turn(c, 0, -1) / ours : 0.0;
}

/* middle: who stands between the clients and llm-sim ("supervisor", "relay"). */
static void print_conc_cpu(FILE *f, const bench_conc_res *c, int stream, const char *middle)
{
    fprintf(f, "  CPU per turn%-33s %7.1f us %9.1f us  ceiling %.3f (client %.1f / %.1f, "
               "%s %.1f, llm-sim %.1f / %.1f us)\n",
            stream ? ", streamed" : "", conc_cpu_per_turn(c, 1, -1) * 1e6,
            conc_cpu_per_turn(c, 0, -1) * 1e6, conc_ceiling(c),
            conc_cpu_per_turn(c, 1, BENCH_CPU_CLIENT) * 1e6,
            conc_cpu_per_turn(c, 0, BENCH_CPU_CLIENT) * 1e6, middle,
            conc_cpu_per_turn(c, 1, BENCH_CPU_SUP) * 1e6,
            conc_cpu_per_turn(c, 1, BENCH_CPU_SIM) * 1e6,
            conc_cpu_per_turn(c, 0, BENCH_CPU_SIM) * 1e6);
}

static void print_conc_rows(FILE *f, const bench_opts *o, const bench_results *r)
{
    for (int k = 0; k < BENCH_N_CONC; k++) {
        pair_fig p = conc_fig(o, &r->conc[k]);
        char label[64];
        snprintf(label, sizeof label, "%u clients at once vs direct%s", o->conc_clients,
                 k == BENCH_CONC_STREAM ? ", streamed" : "");
        fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   [%.3f .. %.3f] (target >= %.1f)\n",
                label, p.ours, p.base, p.ours / p.base, p.ratio, p.lo, p.hi,
                k == BENCH_CONC_STREAM ? 0.8 : 0.6);
        print_conc_cpu(f, &r->conc[k], k == BENCH_CONC_STREAM, "supervisor");
    }
    for (int k = 0; k < BENCH_N_CONC; k++) {
        pair_fig p = conc_fig(o, &r->conc_floor[k]);
        char label[64];
        snprintf(label, sizeof label, "floor: %u at once, MHD+curl relay%s", o->conc_clients,
                 k == BENCH_CONC_STREAM ? ", streamed" : "");
        fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   [%.3f .. %.3f]\n", label, p.ours,
                p.base, p.ours / p.base, p.ratio, p.lo, p.hi);
        print_conc_cpu(f, &r->conc_floor[k], k == BENCH_CONC_STREAM, "relay");
    }
}

static void print_conc_note(FILE *f, const bench_opts *o, const bench_results *r)
{
    fprintf(f, "concurrency: %u rounds of %.2f s per side, unpinned; %u threads, each its own "
               "session (ours: ms_client_turn / ms_client_turn_stream) or its own kept-alive "
               "connection to llm-sim (direct: the same body the bridge sends), %zu-byte reply; "
               "turns per second of all threads together. CPU per turn: utime + stime of the "
               "bench (the clients), the supervisor and llm-sim over all rounds of a side, "
               "summed; the ceiling (direct's CPU per turn over ours) is the ratio when the "
               "cores are the limit. floor: the same threads and requests through "
               "bench-stack-relay (libmicrohttpd + GnuTLS in, libcurl out, nothing of ours; "
               "TLS, certs/dev), in rounds of their own against direct.\n",
            o->rounds, r->conc_round_s, o->conc_clients, r->reply_bytes);
}

/* --only-concurrent: the concurrency rows and their note. */
void bench_print_conc(FILE *f, const bench_opts *o, const bench_results *r)
{
    fprintf(f, "%-46s %12s %12s %8s %8s\n", "", "ours", "baseline", "ratio", "paired");
    print_conc_rows(f, o, r);
    fputc('\n', f);
    print_conc_note(f, o, r);
}

static double turn_med(const bench_turn_res *t, unsigned n, int ours)
{
    return bench_median(ours ? t->ours_s : t->base_s, n);
}

/*
 * The headline placement: client on one core, supervisor and engine on the other, as
 * deployed (they run on different machines; the direct baseline crosses the same way).
 * one_cpu packs all three processes on one core: it measures CPU work per turn, where one
 * HTTPS round trip alone costs about 2x a direct call; it is reported next to it.
 */
static int headline(const bench_results *r)
{
    return r->turn[BENCH_PL_SPLIT].done ? BENCH_PL_SPLIT : BENCH_PL_ONE_CPU;
}

/* TPM handshakes per second (medians over rounds); ratio of FAST to dev-key. */
typedef struct tpm_fig {
    double dev, fast, strict, ratio, paired;
} tpm_fig;

static tpm_fig fig_of(const bench_opts *o, int done, const double *dev, const double *fast,
                      const double *strict)
{
    tpm_fig t = {0};
    if (done) {
        t.dev = bench_median(dev, o->hs_rounds);
        t.fast = bench_median(fast, o->hs_rounds);
        t.strict = strict != NULL ? bench_median(strict, o->hs_rounds) : 0.0;
        t.ratio = t.fast / t.dev;
        t.paired = bench_paired(fast, dev, o->hs_rounds);
    }
    return t;
}

static tpm_fig tpm_figures(const bench_opts *o, const bench_results *r)
{
    return fig_of(o, r->tpm_done, r->hs_dev, r->hs_tpm_fast, r->hs_tpm_strict);
}

/* az-snp-vtpm: its own dev-key rounds, interleaved with its FAST ones. */
static tpm_fig az_figures(const bench_opts *o, const bench_results *r)
{
    return fig_of(o, r->az_done, r->hs_az_dev, r->hs_az_fast, r->hs_az_strict);
}

/* az-tdx-vtpm: its own dev-key rounds, interleaved with its FAST ones. */
static tpm_fig aztdx_figures(const bench_opts *o, const bench_results *r)
{
    return fig_of(o, r->aztdx_done, r->hs_aztdx_dev, r->hs_aztdx_fast, r->hs_aztdx_strict);
}

/* TDX: FAST against its own interleaved dev-key rounds (no STRICT figure). */
static tpm_fig tdx_figures(const bench_opts *o, const bench_results *r)
{
    return fig_of(o, r->tdx_done, r->hs_tdx_dev, r->hs_tdx_fast, NULL);
}

/* Composite (TPM + 2 GPUs): FAST against its own interleaved dev-key rounds. */
static tpm_fig comp_figures(const bench_opts *o, const bench_results *r)
{
    return fig_of(o, r->comp_done, r->hs_comp_dev, r->hs_comp_fast, NULL);
}

/* The turn rows (each placement that ran), the sized replies and the supervisor's CPU. */
static void print_turn_rows(FILE *f, const bench_opts *o, const bench_results *r)
{
    for (int pl = 0; pl < BENCH_N_PLACEMENTS; pl++) {
        const bench_turn_res *t = &r->turn[pl];
        char label[64];
        if (!t->done) {
            continue;
        }
        double ours = turn_med(t, o->rounds, 1), base = turn_med(t, o->rounds, 0);
        snprintf(label, sizeof label, "%s, %s", pl == headline(r) ? "turn vs direct POST" : "  same",
                 bench_placement_names[pl]);
        fprintf(f, "%-46s %9.1f us %9.1f us %8.3f %8.3f%s\n", label, ours * 1e6, base * 1e6,
                ours / base, bench_paired(t->ours_s, t->base_s, o->rounds),
                pl == headline(r) ? "   (target <= 2.3; headline)" : "");
    }
    for (int sz = 0; sz < BENCH_N_SIZES; sz++) {
        pair_fig p = sized_fig(o, r, sz);
        char label[64];
        snprintf(label, sizeof label, "turn vs direct POST, %zu-byte reply", r->sized_bytes[sz]);
        fprintf(f, "%-46s %9.1f us %9.1f us %8.3f %8.3f   [%.3f .. %.3f]%s\n", label, p.ours * 1e6,
                p.base * 1e6, p.ours / p.base, p.ratio, p.lo, p.hi,
                sz == BENCH_SZ_1K ? "" : "   (target <= 2.0)");
    }
    int cpu_paired;
    pair_fig cpu = cpu_fig(o, r, &cpu_paired);
    fprintf(f, "%-46s %9.1f us %9.1f us %8s %8.3f   [%.3f .. %.3f] (target <= 1.5)%s\n",
            "CPU: supervisor per turn vs llm-sim per POST", cpu.ours * 1e6, cpu.base * 1e6, "",
            cpu.ratio, cpu.lo, cpu.hi, cpu_paired ? "" : " (totals: too few ticks per round)");
}

static void print_head(FILE *f, const bench_opts *o)
{
    fprintf(f, "bench-e2e (%s): medians over interleaved rounds, 127.0.0.1, HTTPS (certs/dev)\n\n",
            o->quick ? "quick" : "default");
    fprintf(f, "%-46s %12s %12s %8s %8s\n", "", "ours", "baseline", "ratio", "paired");
}

static void print_sized_note(FILE *f, const bench_opts *o, const bench_results *r)
{
    fprintf(f, "sized replies: %u rounds in the headline placement, %u/%u/%u turns per side "
               "(the %zu-byte rounds last %.2f s: CPU is counted in clock ticks); [lo .. hi] is the "
               "spread of the paired ratios. CPU: utime + stime from /proc/<pid>/stat of the "
               "supervisor over the secure side, of llm-sim over the direct side, per turn.\n",
            o->rounds, r->sized[0].iters, r->sized[1].iters, r->sized[2].iters,
            r->sized_bytes[BENCH_SZ_1K], o->cpu_round_s);
}

void bench_print_floor(FILE *f, const bench_opts *o, const bench_results *r)
{
    print_head(f, o);
    print_turn_rows(f, o, r);
    print_floor_rows(f, o, r);
    fputc('\n', f);
    print_sized_note(f, o, r);
    print_floor_note(f, o, r);
}

void bench_print_table(FILE *f, const bench_opts *o, const bench_results *r)
{
    tpm_fig tp = tpm_figures(o, r), az = az_figures(o, r), tx = tdx_figures(o, r),
            cp = comp_figures(o, r);
    double hs = bench_median(r->hs_ours, o->hs_rounds), full = bench_median(r->hs_full, o->hs_rounds);
    double tw = bench_median(r->tls_wall, o->hs_rounds), tr = bench_median(r->tls_real, o->hs_rounds);
    print_head(f, o);
    print_turn_rows(f, o, r);
    print_floor_rows(f, o, r);
    print_conc_rows(f, o, r);
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   (target >= 1.0)\n",
            "handshakes vs new TLS 1.3 connections", hs, tw, hs / tw,
            bench_paired(r->hs_ours, r->tls_wall, o->hs_rounds));
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f\n", "  same, s_time's whole 'real seconds'", hs, tr,
            hs / tr);
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f\n", "  complete handshake (+ ClientFinish, 204)",
            full, tw, full / tw);
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   (target >= 0.9)\n",
            "TPM FAST handshakes vs dev-key handshakes", tp.fast, tp.dev, tp.ratio, tp.paired);
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f\n", "TPM STRICT handshakes (a quote each) vs FAST",
            tp.strict, tp.fast, tp.fast > 0 ? tp.strict / tp.fast : 0.0);
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   (target >= 0.9)\n",
            "az-snp-vtpm FAST handshakes vs dev-key", az.fast, az.dev, az.ratio, az.paired);
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f\n", "az-snp-vtpm STRICT (report + quote) vs FAST",
            az.strict, az.fast, az.fast > 0 ? az.strict / az.fast : 0.0);
    if (r->aztdx_done) {
        tpm_fig ax = aztdx_figures(o, r);
        fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   (target >= 0.9)\n",
                "az-tdx-vtpm FAST handshakes vs dev-key", ax.fast, ax.dev, ax.ratio, ax.paired);
        fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f\n", "az-tdx-vtpm STRICT (report + 2 quotes) vs FAST",
                ax.strict, ax.fast, ax.fast > 0 ? ax.strict / ax.fast : 0.0);
    } else {
        fprintf(f, "%-46s not measured: %s\n", "az-tdx-vtpm FAST handshakes vs dev-key",
                bench_aztdx_skipped() ? bench_aztdx_skipped() : "failed");
    }
    if (r->tdx_done) {
        fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   (target >= 0.9)\n",
                "TDX FAST handshakes vs dev-key handshakes", tx.fast, tx.dev, tx.ratio, tx.paired);
    } else {
        fprintf(f, "%-46s not measured: %s\n", "TDX FAST handshakes vs dev-key handshakes",
                bench_tdx_skipped() ? bench_tdx_skipped() : "failed");
    }
    fprintf(f, "%-46s %10.0f/s %10.0f/s %8.3f %8.3f   (target >= 0.8)\n",
            "composite (TPM + 2 GPUs) FAST vs dev-key", cp.fast, cp.dev, cp.ratio, cp.paired);
    fprintf(f, "%-46s %9.1f MiB (baseline %.1f MiB, peak %.1f MiB, %.0f B/session)"
               "   (target <= 50)\n",
            "supervisor VmRSS, idle open sessions", r->rss_mib, r->rss_base_mib, r->hwm_mib,
            (r->rss_mib - r->rss_base_mib) * 1048576.0 / (r->sessions ? r->sessions : 1));
    fprintf(f, "\nturn: %u rounds per placement (%u/%u/%u turns per side), %zu-byte reply, one "
               "kept-alive session, non-streamed. one_cpu: bench, supervisor and llm-sim on CPU "
               "%d (the work per turn); split: bench on CPU %d, supervisor and llm-sim on CPU %d "
               "(as deployed: one cross-core hop per request on each side); unpinned: the "
               "scheduler's choice.\n",
            o->rounds, r->turn[0].iters, r->turn[1].iters, r->turn[2].iters, r->reply_bytes,
            r->cpu_a, r->cpu_a, r->cpu_b);
    print_sized_note(f, o, r);
    if (floor_done(r)) {
        print_floor_note(f, o, r);
    }
    print_conc_note(f, o, r);
    fprintf(f, "handshakes: %u rounds; ours = ms_client_connect on one kept-alive HTTPS connection "
               "(ServerHello, every 7.3 check, FAST dev-key evidence checked (verified once per "
               "static key, then recognised by the client's FAST cache), TLS key bound); the "
               "ClientFinish is NOT sent (it rides on the first request in real use). TLS = "
               "openssl s_time -new -time %u against openssl s_server -tls1_3 (ECDSA P-256 "
               "certs/dev), rate over the run's wall time.\n",
            o->hs_rounds, o->tls_secs);
    fprintf(f, "TPM: %u rounds of %.2f s per side; supervisor --evidence tpm2 on a swtpm "
               "(loopback TCP), PCRs 0-7; the client checks the quote against a policy pinning the "
               "AK name and the PCR values (FAST: one quote over the rotating static key, made "
               "once per --evidence-ttl, verified in full once and then recognised by the "
               "client's FAST cache until it expires, as dev-key evidence is; STRICT: a fresh "
               "TPM2_Quote + PCR_Read per handshake, verified in full each time, --strict-rate "
               "lifted). dev-key and FAST alternate ABBA "
               "against two supervisors of the same build.\n",
            o->hs_rounds, o->tpm_secs);
    fprintf(f, "az-snp-vtpm: the same rounds with --evidence az-snp-vtpm on that swtpm behind "
               "tests/tools/hcl-paravisor (the Azure paravisor stood in: each user-data write "
               "makes a fresh HCL report, SEV-SNP signed by a test chain); the client checks the "
               "SEV-SNP chain and report, the variable data, the binding and the quote against a "
               "policy pinning the test ARK, measurement, TCB and PCRs 0-7 (FAST: once per "
               "static key, then the FAST cache; STRICT: a new report and quote each).\n");
    fprintf(f, "az-tdx-vtpm: the same rounds with --evidence az-tdx-vtpm on that swtpm behind "
               "tests/tools/hcl-paravisor --tdx (each user-data write makes a fresh HCL report "
               "holding a TD report of a test TD platform; Azure's TD quote service stood in by "
               "the same program, over loopback HTTP) with --tdx-collateral; the client checks "
               "the DCAP chain, collateral and quote, td-match, the variable data, the binding "
               "and the vTPM quote against a policy pinning the test Intel root, MRTD, RTMR0..3 "
               "and PCRs 0-7 (FAST: once per static key, then the FAST cache; STRICT: a new "
               "report, TD quote and vTPM quote each).\n");
    fprintf(f, "TDX: %u rounds of %.2f s per side; supervisor --evidence tdx on the fake "
               "configfs-tsm (tests/tools/fake-tsm over FUSE: quotes made by the TDX test "
               "fixture under a test-made Intel root) with --tdx-collateral (test-signed TCB "
               "info, QE identity, CRLs); the client's policy pins the root, MRTD and RTMR0..3 "
               "(FAST: one quote per static key, verified in full once with its collateral, "
               "then recognised by the client's FAST cache). dev-key and FAST alternate ABBA.\n",
            o->hs_rounds, o->tpm_secs);
    fprintf(f, "composite: %u rounds of %.2f s per side; supervisor --evidence tpm2+nvidia-gpu "
               "on the same swtpm and a fake NVML serving two GPUs (reports signed over the nonce "
               "by test-made P-384 chains); the client's policy requires tpm2-quote AND 2 GPUs and "
               "pins the AK, PCRs 0-7, the NVIDIA root and 8 measurements per GPU; FAST evidence "
               "verified in full once per static key (every item), then recognised by the "
               "client's FAST cache. dev-key and composite alternate ABBA.\n",
            o->hs_rounds, o->tpm_secs);
    fprintf(f, "memory: %u sessions, each a handshake + ClientFinish (POST /finish), then idle.\n",
            r->sessions);
}

static void print_json_turn(const bench_opts *o, const bench_turn_res *t, int pl)
{
    double ours = turn_med(t, o->rounds, 1), base = turn_med(t, o->rounds, 0);
    printf("%s\"%s\": {\"ratio\": %.4f, \"ratio_paired\": %.4f, \"secure_us\": %.1f, "
           "\"direct_us\": %.1f, \"turns_per_round\": %u}",
           pl ? ", " : "", bench_placement_names[pl], ours / base, bench_paired(t->ours_s, t->base_s, o->rounds),
           ours * 1e6, base * 1e6, t->iters);
}

/* "gateway_turn_vs_ask" (<= 1.3 wanted) and the streamed tokens per second through the
   gateway against a direct stream (>= 0.8 wanted): same tokens both ways, so the ratio of
   the times, inverted. docs/serve.md. */
static void print_json_gateway(const bench_opts *o, const bench_gw_res *g, const bench_gw_res *one)
{
    if (!g->done) {
        printf("\"gateway_turn_vs_ask\": null, ");
        return;
    }
    double gw = bench_median(g->gw_s, o->rounds), ask = bench_median(g->ask_s, o->rounds);
    double sg = bench_median(g->stream_gw_s, o->rounds);
    double sd = bench_median(g->stream_direct_s, o->rounds);
    printf("\"gateway_turn_vs_ask\": %.4f, \"gateway_stream_tokens_per_s_vs_direct\": %.4f, "
           "\"gateway\": {\"turn_us\": %.1f, \"ask_turn_us\": %.1f, \"ratio_paired\": %.4f, "
           "\"turns_per_round\": %u, \"stream_ms\": %.2f, \"direct_stream_ms\": %.2f, "
           "\"stream_ratio_paired\": %.4f, \"streams_per_round\": %u, "
           "\"stream_text_bytes\": %zu, \"placement\": \"%s\"",
           gw / ask, sd / sg, gw * 1e6, ask * 1e6, bench_paired(g->gw_s, g->ask_s, o->rounds),
           g->iters, sg * 1e3, sd * 1e3, bench_paired(g->stream_direct_s, g->stream_gw_s, o->rounds),
           g->stream_iters, g->stream_bytes, bench_placement_names[g->placement]);
    if (one->done) { /* the work per turn: every process on one core */
        double ogw = bench_median(one->gw_s, o->rounds), oask = bench_median(one->ask_s, o->rounds);
        printf(", \"one_cpu\": {\"ratio\": %.4f, \"ratio_paired\": %.4f, \"turn_us\": %.1f, "
               "\"ask_turn_us\": %.1f}",
               ogw / oask, bench_paired(one->gw_s, one->ask_s, o->rounds), ogw * 1e6, oask * 1e6);
    }
    printf("}, ");
}

/* ours names the measured side's value ("secure", "relay"). */
static void print_json_pair_as(const char *name, const pair_fig *p, const char *ours,
                               const char *unit, double scale)
{
    printf("\"%s\": {\"ratio_paired\": %.4f, \"min\": %.4f, \"max\": %.4f, \"%s_%s\": %.1f, "
           "\"direct_%s\": %.1f}, ",
           name, p->ratio, p->lo, p->hi, ours, unit, p->ours * scale, unit, p->base * scale);
}

static void print_json_pair(const char *name, const pair_fig *p, const char *unit, double scale)
{
    print_json_pair_as(name, p, "secure", unit, scale);
}

/*
 * The floor: "relay_vs_direct", "relay_tls_vs_direct" (the turn_vs_direct request) and the
 * relays' CPU figures at the top, then "floor" with every figure's paired median and spread:
 * each relay at the turn request, 1 KiB, 64 KiB and 1 MiB - 1 KiB, and its CPU per request.
 */
static void print_json_floor_figs(const bench_opts *o, const bench_results *r)
{
    if (!floor_done(r)) {
        /* the reason is a fixed text of ours: no quotes in it */
        printf("\"relay_vs_direct\": null, \"relay_tls_vs_direct\": null, "
               "\"relay_stack_vs_direct\": null, "
               "\"relay_cpu_per_turn_vs_engine\": null, \"relay_tls_cpu_per_turn_vs_engine\": null, "
               "\"relay_stack_cpu_per_turn_vs_engine\": null, "
               "\"floor\": {\"skipped\": \"%s\"}, ",
               r->floor_skipped ? r->floor_skipped : "failed");
        return;
    }
    int paired[BENCH_N_RELAYS];
    pair_fig cpu[BENCH_N_RELAYS];
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        cpu[k] = cpu_fig_of(o, &r->floor[k][BENCH_FL_1K], &paired[k]);
    }
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        printf("\"%s_vs_direct\": %.4f, ", relay_keys[k], floor_fig(o, r, k, BENCH_FL_TURN).ratio);
    }
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        printf("\"%s_cpu_per_turn_vs_engine\": %.4f, ", relay_keys[k], cpu[k].ratio);
    }
    printf("\"floor\": {\"relay\": \"haproxy\", \"relay_stack\": \"bench-stack-relay\", "
           "\"rounds\": %u, ", o->rounds);
    static const char *const fl_names[BENCH_N_FL] = {"", "_1k", "_64k", "_1m"};
    for (int k = 0; k < BENCH_N_RELAYS; k++) {
        const char *rel = relay_keys[k];
        char name[64];
        for (int fl = 0; fl < BENCH_N_FL; fl++) {
            pair_fig p = floor_fig(o, r, k, fl);
            snprintf(name, sizeof name, "%s%s_vs_direct", rel, fl_names[fl]);
            print_json_pair_as(name, &p, "relay", "us", 1e6);
        }
        snprintf(name, sizeof name, "%s_cpu_per_turn_vs_engine", rel);
        print_json_pair_as(name, &cpu[k], "relay", "us", 1e6);
    }
    printf("\"cpu_paired\": %s, \"reply_bytes\": [%zu, %zu, %zu, %zu], "
           "\"requests_per_round\": [%u, %u, %u, %u]}, ",
           paired[0] && paired[1] && paired[2] ? "true" : "false", r->reply_bytes, r->sized_bytes[0],
           r->sized_bytes[1], r->sized_bytes[2], r->floor[0][0].iters, r->floor[0][1].iters,
           r->floor[0][2].iters, r->floor[0][3].iters);
}

void bench_print_json_floor(const bench_opts *o, const bench_results *r)
{
    const bench_turn_res *t = &r->turn[headline(r)];
    int cpu_paired;
    pair_fig cpu = cpu_fig(o, r, &cpu_paired);
    printf("{\"turn_vs_direct\": %.4f, \"reply_64k_vs_direct\": %.4f, \"reply_1m_vs_direct\": %.4f, "
           "\"supervisor_cpu_per_turn_vs_engine\": %.4f, ",
           turn_med(t, o->rounds, 1) / turn_med(t, o->rounds, 0),
           sized_fig(o, r, BENCH_SZ_64K).ratio, sized_fig(o, r, BENCH_SZ_1M).ratio, cpu.ratio);
    print_json_floor_figs(o, r);
    printf("\"perf\": {\"rounds\": %u, ", o->rounds); /* the secure side's, as the full JSON's */
    for (int sz = 0; sz < BENCH_N_SIZES; sz++) {
        char name[32];
        pair_fig p = sized_fig(o, r, sz);
        snprintf(name, sizeof name, "reply_%s", bench_size_names[sz]);
        print_json_pair(name, &p, "us", 1e6);
    }
    print_json_pair("cpu_per_turn", &cpu, "us", 1e6);
    printf("\"cpu_paired\": %s}, ", cpu_paired ? "true" : "false");
    printf("\"turn\": {\"headline\": \"%s\", \"rounds\": %u, \"reply_bytes\": %zu%s",
           bench_placement_names[headline(r)], o->rounds, r->reply_bytes,
           headline(r) == 0 ? ", " : ""); /* print_json_turn puts ", " before the others */
    print_json_turn(o, t, headline(r));
    printf("}, \"mode\": \"%s\"}\n", o->quick ? "quick" : "default");
}

/* Issue 15's figures: each a paired median; the details (spread, both sides) after them. */
static void print_json_perf(const bench_opts *o, const bench_results *r)
{
    int cpu_paired;
    pair_fig cpu = cpu_fig(o, r, &cpu_paired), r64 = sized_fig(o, r, BENCH_SZ_64K),
             r1m = sized_fig(o, r, BENCH_SZ_1M), c16 = conc_fig(o, &r->conc[BENCH_CONC_WHOLE]),
             c16s = conc_fig(o, &r->conc[BENCH_CONC_STREAM]), r1k = sized_fig(o, r, BENCH_SZ_1K);
    printf("\"reply_64k_vs_direct\": %.4f, \"reply_1m_vs_direct\": %.4f, "
           "\"concurrent16_vs_direct\": %.4f, \"concurrent16_stream_vs_direct\": %.4f, "
           "\"supervisor_cpu_per_turn_vs_engine\": %.4f, ",
           r64.ratio, r1m.ratio, c16.ratio, c16s.ratio, cpu.ratio);
    printf("\"perf\": {\"rounds\": %u, ", o->rounds);
    for (int sz = 0; sz < BENCH_N_SIZES; sz++) {
        char name[32];
        const pair_fig *p = sz == BENCH_SZ_1K ? &r1k : sz == BENCH_SZ_64K ? &r64 : &r1m;
        snprintf(name, sizeof name, "reply_%s", bench_size_names[sz]);
        print_json_pair(name, p, "us", 1e6);
    }
    print_json_pair("concurrent16", &c16, "per_s", 1.0);
    print_json_pair("concurrent16_stream", &c16s, "per_s", 1.0);
    for (int k = 0; k < BENCH_N_CONC; k++) {
        pair_fig p = conc_fig(o, &r->conc_floor[k]);
        print_json_pair_as(k == BENCH_CONC_STREAM ? "relay_stack_concurrent16_stream"
                                                  : "relay_stack_concurrent16",
                           &p, "relay", "per_s", 1.0);
    }
    for (int k = 0; k < 2 * BENCH_N_CONC; k++) {
        const bench_conc_res *c = k < BENCH_N_CONC ? &r->conc[k] : &r->conc_floor[k - BENCH_N_CONC];
        static const char *const names[2 * BENCH_N_CONC] = {
            "concurrent16", "concurrent16_stream", "relay_stack_concurrent16",
            "relay_stack_concurrent16_stream"};
        /* all processes on our side ("secure", "via_relay"), and the one in the middle */
        const char *ours = k < BENCH_N_CONC ? "secure" : "via_relay",
                   *middle = k < BENCH_N_CONC ? "supervisor" : "relay";
        printf("\"%s_cpu\": {\"ceiling\": %.4f, \"%s_us\": %.1f, \"direct_us\": %.1f, "
               "\"client_us\": [%.1f, %.1f], \"%s_us\": %.1f, \"llm_sim_us\": [%.1f, "
               "%.1f]}, ",
               names[k], conc_ceiling(c), ours,
               conc_cpu_per_turn(c, 1, -1) * 1e6, conc_cpu_per_turn(c, 0, -1) * 1e6,
               conc_cpu_per_turn(c, 1, BENCH_CPU_CLIENT) * 1e6,
               conc_cpu_per_turn(c, 0, BENCH_CPU_CLIENT) * 1e6, middle,
               conc_cpu_per_turn(c, 1, BENCH_CPU_SUP) * 1e6,
               conc_cpu_per_turn(c, 1, BENCH_CPU_SIM) * 1e6,
               conc_cpu_per_turn(c, 0, BENCH_CPU_SIM) * 1e6);
    }
    print_json_pair("cpu_per_turn", &cpu, "us", 1e6);
    printf("\"cpu_paired\": %s, \"reply_bytes\": [%zu, %zu, %zu], \"clients\": %u, "
           "\"conc_secs_per_side\": %.2f}, ",
           cpu_paired ? "true" : "false", r->sized_bytes[0], r->sized_bytes[1], r->sized_bytes[2],
           o->conc_clients, r->conc_round_s);
}

void bench_print_json(const bench_opts *o, const bench_results *r)
{
    const bench_turn_res *t = &r->turn[headline(r)];
    double hs = bench_median(r->hs_ours, o->hs_rounds), full = bench_median(r->hs_full, o->hs_rounds);
    double tw = bench_median(r->tls_wall, o->hs_rounds), tr = bench_median(r->tls_real, o->hs_rounds);
    tpm_fig tp = tpm_figures(o, r), az = az_figures(o, r), tx = tdx_figures(o, r),
            cp = comp_figures(o, r);
    printf("{\"turn_vs_direct\": %.4f, \"handshakes_vs_tls_new\": %.4f, "
           "\"rss_mib_10k_sessions\": %.2f, \"handshakes_tpm_fast_vs_dev\": %.4f, "
           "\"handshakes_tpm_strict_per_s\": %.1f, \"handshakes_composite_fast_vs_dev\": %.4f, ",
           turn_med(t, o->rounds, 1) / turn_med(t, o->rounds, 0), hs / tw, r->rss_mib, tp.ratio,
           tp.strict, cp.ratio);
    printf("\"handshakes_az-snp-vtpm_fast_vs_dev\": %.4f, "
           "\"handshakes_az-snp-vtpm_strict_per_s\": %.1f, ",
           az.ratio, az.strict);
    if (r->tdx_done) {
        printf("\"handshakes_tdx_fast_vs_dev\": %.4f, \"tdx\": {\"dev_key_per_s\": %.1f, "
               "\"fast_per_s\": %.1f, \"fast_vs_dev_paired\": %.4f, \"rounds\": %u, "
               "\"secs_per_side\": %.2f, \"tsm\": \"fake-tsm\"}, ",
               tx.ratio, tx.dev, tx.fast, tx.paired, o->hs_rounds, o->tpm_secs);
    } else {
        /* the reason is ours (a fixed text or fake-tsm's one line): no quotes in it */
        printf("\"handshakes_tdx_fast_vs_dev\": null, \"tdx\": {\"skipped\": \"%s\"}, ",
               bench_tdx_skipped() ? bench_tdx_skipped() : "failed");
    }
    if (r->aztdx_done) {
        tpm_fig ax = aztdx_figures(o, r);
        printf("\"handshakes_az-tdx-vtpm_fast_vs_dev\": %.4f, "
               "\"handshakes_az-tdx-vtpm_strict_per_s\": %.1f, \"az_tdx_vtpm\": "
               "{\"dev_key_per_s\": %.1f, \"fast_per_s\": %.1f, \"fast_vs_dev_paired\": %.4f, "
               "\"pcrs\": \"0-7\", \"tpm\": \"swtpm behind hcl-paravisor --tdx\"}, ",
               ax.ratio, ax.strict, ax.dev, ax.fast, ax.paired);
    } else {
        /* the reason is a fixed text of ours: no quotes in it */
        printf("\"handshakes_az-tdx-vtpm_fast_vs_dev\": null, \"az_tdx_vtpm\": "
               "{\"skipped\": \"%s\"}, ",
               bench_aztdx_skipped() ? bench_aztdx_skipped() : "failed");
    }
    print_json_gateway(o, &r->gw, &r->gw_one_cpu);
    print_json_perf(o, r);
    print_json_floor_figs(o, r);
    printf("\"turn\": {\"headline\": \"%s\", \"rounds\": %u, \"reply_bytes\": %zu, ",
           bench_placement_names[headline(r)], o->rounds, r->reply_bytes);
    for (int pl = 0; pl < BENCH_N_PLACEMENTS; pl++) {
        if (r->turn[pl].done) {
            print_json_turn(o, &r->turn[pl], pl);
        }
    }
    printf("}, \"handshake\": {\"per_s\": %.1f, \"tls_new_per_s\": %.1f, "
           "\"tls_new_per_s_real_seconds\": %.1f, \"ratio_paired\": %.4f, "
           "\"complete_with_finish_per_s\": %.1f, \"rounds\": %u, \"s_time_secs\": %u, "
           "\"client_finish_sent\": false}, ",
           hs, tw, tr, bench_paired(r->hs_ours, r->tls_wall, o->hs_rounds), full, o->hs_rounds,
           o->tls_secs);
    printf("\"tpm\": {\"dev_key_per_s\": %.1f, \"fast_per_s\": %.1f, \"strict_per_s\": %.1f, "
           "\"fast_vs_dev_paired\": %.4f, \"rounds\": %u, \"secs_per_side\": %.2f, "
           "\"pcrs\": \"0-7\", \"tpm\": \"swtpm\"}, ",
           tp.dev, tp.fast, tp.strict, tp.paired, o->hs_rounds, o->tpm_secs);
    printf("\"az_snp_vtpm\": {\"dev_key_per_s\": %.1f, \"fast_per_s\": %.1f, "
           "\"strict_per_s\": %.1f, \"fast_vs_dev_paired\": %.4f, \"pcrs\": \"0-7\", "
           "\"tpm\": \"swtpm behind hcl-paravisor\"}, ",
           az.dev, az.fast, az.strict, az.paired);
    printf("\"composite\": {\"dev_key_per_s\": %.1f, \"fast_per_s\": %.1f, "
           "\"fast_vs_dev_paired\": %.4f, \"gpus\": 2, \"cpu\": \"tpm2-quote\"}, ",
           cp.dev, cp.fast, cp.paired);
    printf("\"memory\": {\"sessions\": %u, \"rss_mib\": %.2f, \"rss_baseline_mib\": %.2f, "
           "\"hwm_mib\": %.2f, \"bytes_per_session\": %.0f}, \"mode\": \"%s\"}\n",
           r->sessions, r->rss_mib, r->rss_base_mib, r->hwm_mib,
           (r->rss_mib - r->rss_base_mib) * 1048576.0 / (r->sessions ? r->sessions : 1),
           o->quick ? "quick" : "default");
}

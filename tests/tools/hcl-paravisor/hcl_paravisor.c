/*
 * hcl-paravisor: a test-only stand-in for the Azure paravisor (HCL) in front of a swtpm.
 *
 * On an Azure confidential VM the paravisor implements the vTPM: when the guest writes 64
 * bytes of user data to NV 0x01400002 it puts a fresh hardware report, whose variable data
 * holds the AK (HCLAkPub) and that user data, into NV 0x01400001. A swtpm cannot do that.
 * This program sits between a TPM client (minions-supervisor's swtpm TCTI: a command port
 * P and a control port P + 1) and a swtpm, forwards every command and every control
 * message unchanged, and after a successful TPM2_NV_Write of the whole user data (before
 * the client sees the response) writes a new HCL report into 0x01400001 over the same
 * swtpm connection: SEV-SNP report signed by a test-made VCEK (tests/secure/attest/
 * snp_fixture.c), report_data = SHA-256(variable data) (az_fixture.c). So the supervisor
 * runs unchanged, as on Azure (docs/attest-azure.md §5).
 *
 * At start, as Azure's paravisor does, it provisions the vTPM (az_fx_provision: the AK
 * persisted at 0x81000003, the 2048-byte report index) and makes the "AMD" chain; it
 * writes what a supervisor and a client need into --dir:
 *   certs/vcek.der, certs/ask.der   the supervisor's --snp-certs DIR
 *   ark.pem                          the root a client pins
 *   sev_snp.json                     a policy's sev_snp section: ark_pem, measurement, min_tcb
 * then listens on 127.0.0.1 and writes P to --port-file. SIGTERM/SIGINT end it (exit 0).
 *
 * --tdx: an Azure TDX CVM instead. The HCL report holds a TD report (report type 4) whose
 * REPORTDATA is SHA-256(variable data), with the TD fields of a test TD platform
 * (tests/secure/attest/tdx_platform.c: a test "Intel" chain, its CRLs and collateral), and
 * this program also stands in Azure's TD quote service: an HTTP server on 127.0.0.1
 * (tests/fixture/http_fixture.c) whose POST /acc/tdquote {"report": base64url(TD report)}
 * answers {"quote": base64url(a TDX quote of that TD report, signed by the test PCK chain)}.
 * Two more paths answer wrongly, for the refusal tests: /other-td/acc/tdquote quotes
 * another TD (MRTD changed) and /garbage/acc/tdquote answers HTML. Into --dir it also
 * writes the platform's files (root.pem, tdx-collateral/: the supervisor's
 * --tdx-collateral), tdx.json (a policy's tdx section: root_pem, MRTD, RTMR0..3) and
 * tdquote.url (the service's URL: the supervisor's --az-tdquote-url).
 * Frames are read through tests/fixture/tpm_frame.h (bounded cursor, at most 4096 bytes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "secure/attest/az.h"
#include "tests/fixture/http_fixture.h"
#include "tests/fixture/proc.h"
#include "tests/fixture/tpm_frame.h"
#include "tests/secure/attest/az_fixture.h"

#define MAX_CONNECTIONS 16  /* at once; more are refused (closed at once) */
#define REPORT_CHUNK 512u   /* bytes of the report per TPM2_NV_Write */

static const char USAGE[] =
    "usage: hcl-paravisor --swtpm-port P --dir DIR --port-file FILE [--tdx]\n"
    "Test-only: the Azure paravisor in front of a swtpm (command port P, control\n"
    "port P+1, on 127.0.0.1). Forwards every TPM command unchanged; after a\n"
    "successful TPM2_NV_Write of 64 bytes to NV 0x01400002 it writes a fresh HCL\n"
    "report (test-made SEV-SNP chain) into NV 0x01400001. Provisions the AK at\n"
    "0x81000003 first; writes certs/, ark.pem and sev_snp.json into DIR and its\n"
    "own command port (control: port + 1) to FILE.\n"
    "--tdx: a TDX HCL report (TD report of a test TD platform) instead, and Azure's\n"
    "TD quote service stood in on 127.0.0.1 (its URL in DIR/tdquote.url; the\n"
    "platform's root.pem, tdx-collateral/ and a policy's tdx.json in DIR).\n";

static struct {
    unsigned swtpm_port;
    EVP_PKEY *ak;
    snp_fx_chain chain;
    int tdx;              /* --tdx: TD reports, and the quote service */
    tdx_fx_platform plat; /* --tdx: the test TD platform (chain, collateral, TD fields) */
    fx_server *quotes;    /* --tdx: Azure's TD quote service stood in */
    pthread_mutex_t lock; /* around reports, the counters and closing */
    int closing;
    unsigned connections, reports;
    int stop_pipe[2];
} G = {.lock = PTHREAD_MUTEX_INITIALIZER, .stop_pipe = {-1, -1}};

typedef struct conn {
    int down, up;
    int control;
} conn;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    ssize_t w = write(G.stop_pipe[1], "x", 1);
    (void)w;
    errno = saved;
}

/* ---- sockets ------------------------------------------------------------------------- */

/* A listening socket on 127.0.0.1:port (0: any); its port in *bound. -1 on failure. */
static int listen_local(unsigned port, unsigned *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof a;
    int one = 1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Two listening sockets on consecutive ports (the swtpm TCTI's P and P + 1). */
static int listen_pair(int fd[2], unsigned *port)
{
    for (int i = 0; i < 50; i++) {
        unsigned p = 0, q = 0;
        fd[0] = listen_local(0, &p);
        fd[1] = fd[0] >= 0 && p < 65535 ? listen_local(p + 1, &q) : -1;
        if (fd[1] >= 0) {
            *port = p;
            return 0;
        }
        if (fd[0] >= 0) {
            close(fd[0]);
        }
    }
    return -1;
}

/* 1: n bytes read; 0: the peer closed before the first byte; -1: error or closed midway. */
static int read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return r == 0 && got == 0 ? 0 : -1;
        }
        got += (size_t)r;
    }
    return 1;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One whole frame: 1 read (h, *len), 0 closed cleanly, -1 error (printed). */
static int read_frame(int fd, uint8_t buf[static E2E_TPM_FRAME_MAX], size_t *len,
                      e2e_tpm_header *h, const char *side)
{
    int r = read_full(fd, buf, E2E_TPM_HEADER_LEN);
    if (r <= 0) {
        return r;
    }
    ms_err e = e2e_tpm_header_decode(buf, E2E_TPM_HEADER_LEN, h);
    if (e != MS_OK) {
        fprintf(stderr, "hcl-paravisor: %s: %s\n", side, ms_err_str(e));
        return -1;
    }
    if (read_full(fd, buf + E2E_TPM_HEADER_LEN, h->size - E2E_TPM_HEADER_LEN) != 1) {
        fprintf(stderr, "hcl-paravisor: %s: connection closed inside a frame\n", side);
        return -1;
    }
    *len = h->size;
    return 1;
}

/* ---- the paravisor --------------------------------------------------------------------- */

/* One command to swtpm on `up` and its response code; -1 on a transport failure. */
static long exchange(int up, const uint8_t *cmd, size_t n)
{
    uint8_t rsp[E2E_TPM_FRAME_MAX];
    size_t len = 0;
    e2e_tpm_header h;
    if (write_full(up, cmd, n) != 0 || read_frame(up, rsp, &len, &h, "swtpm") != 1) {
        return -1;
    }
    return (long)h.code;
}

static const int SERVICE_OK = 0, SERVICE_OTHER_TD = 1;

/* Azure's TD quote service: a quote of the TD report asked for (or of another TD). */
static int quote_service(void *ctx, const char *req, size_t len, unsigned *status, char **body,
                         size_t *body_len)
{
    ms_buf out;
    ms_buf_init(&out, MS_AZ_MAX_TDQUOTE_RESPONSE);
    pthread_mutex_lock(&G.lock);
    int ok = !G.closing &&
             az_fx_tdquote_answer(&G.plat, req, len, *(const int *)ctx == SERVICE_OTHER_TD, &out);
    pthread_mutex_unlock(&G.lock);
    *status = ok ? 200 : 400;
    *body = malloc(out.len + 1);
    if (*body != NULL) {
        memcpy(*body, out.p ? (const char *)out.p : "", out.len);
        *body_len = out.len;
    }
    if (!ok) {
        fprintf(stderr, "hcl-paravisor: quote service: not a TD report request\n");
    }
    ms_buf_free(&out);
    return *body != NULL ? 0 : -1;
}

/* A fresh HCL report for user data `ud` into NV 0x01400001, over the client's connection. */
static int make_report(int up, const uint8_t ud[static MS_AZ_USER_DATA_LEN])
{
    ms_buf var, hcl;
    uint8_t cmd[E2E_TPM_FRAME_MAX];
    size_t n = 0;
    ms_buf_init(&var, MS_AZ_MAX_VAR_DATA);
    ms_buf_init(&hcl, MS_AZ_MAX_HCL);
    pthread_mutex_lock(&G.lock);
    int ok = !G.closing && az_fx_var_data(&var, G.ak, NULL, ud, NULL) &&
             (G.tdx ? az_fx_tdx_hcl(&hcl, &G.plat, var.p, var.len)
                    : az_fx_snp_hcl(&hcl, G.chain.vcek_key, NULL, var.p, var.len));
    G.reports += ok;
    pthread_mutex_unlock(&G.lock);
    for (size_t off = 0; ok && off < hcl.len; off += REPORT_CHUNK) {
        size_t part = hcl.len - off < REPORT_CHUNK ? hcl.len - off : REPORT_CHUNK;
        ok = e2e_tpm_nv_write_encode(MS_AZ_NV_HCL_REPORT, hcl.p + off, part, (uint16_t)off, cmd,
                                     sizeof cmd, &n) == MS_OK &&
             exchange(up, cmd, n) == 0;
    }
    ms_buf_free(&var);
    ms_buf_free(&hcl);
    if (!ok) {
        fprintf(stderr, "hcl-paravisor: could not write a new report to NV 0x01400001\n");
    }
    return ok ? 0 : -1;
}

/* After a command and its response: the paravisor's part, when it was a user-data write. */
static int after(int up, const uint8_t *cmd, size_t n, const e2e_tpm_header *ch,
                 const e2e_tpm_header *rh)
{
    e2e_nv_write w;
    if (ch->code != E2E_TPM_CC_NV_WRITE || rh->code != 0) {
        return 0;
    }
    ms_err e = e2e_tpm_nv_write_decode(cmd, n, &w);
    if (e != MS_OK) {
        fprintf(stderr, "hcl-paravisor: %s\n", ms_err_str(e));
        return -1;
    }
    if (w.index != MS_AZ_NV_USER_DATA) {
        return 0;
    }
    if (w.offset != 0 || w.data_len != MS_AZ_USER_DATA_LEN) {
        /* The paravisor answers a write of the whole user data only. */
        fprintf(stderr, "hcl-paravisor: a partial user-data write: no new report\n");
        return 0;
    }
    return make_report(up, w.data);
}

static void relay_commands(conn *c)
{
    uint8_t cmd[E2E_TPM_FRAME_MAX], rsp[E2E_TPM_FRAME_MAX];
    size_t cn = 0, rn = 0;
    e2e_tpm_header ch, rh;
    while (read_frame(c->down, cmd, &cn, &ch, "client") == 1) {
        if (write_full(c->up, cmd, cn) != 0 || read_frame(c->up, rsp, &rn, &rh, "swtpm") != 1 ||
            after(c->up, cmd, cn, &ch, &rh) != 0 || write_full(c->down, rsp, rn) != 0) {
            break;
        }
    }
}

/* The control channel (locality, cancel, ...): bytes both ways until either side closes. */
static void relay_bytes(conn *c)
{
    uint8_t buf[E2E_TPM_FRAME_MAX];
    struct pollfd p[2] = {{.fd = c->down, .events = POLLIN}, {.fd = c->up, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t r = read(p[i].fd, buf, sizeof buf);
                if (r <= 0 || write_full(p[1 - i].fd, buf, (size_t)r) != 0) {
                    return;
                }
            }
        }
    }
}

static void *serve(void *arg)
{
    conn *c = arg;
    c->up = e2e_tcp_connect(G.swtpm_port + (unsigned)c->control);
    if (c->up < 0) {
        fprintf(stderr, "hcl-paravisor: cannot reach swtpm\n");
    } else if (c->control) {
        relay_bytes(c);
    } else {
        relay_commands(c);
    }
    if (c->up >= 0) {
        close(c->up);
    }
    close(c->down);
    free(c);
    pthread_mutex_lock(&G.lock);
    G.connections--;
    pthread_mutex_unlock(&G.lock);
    return NULL;
}

static void accept_one(int lfd, int control)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        return;
    }
    pthread_mutex_lock(&G.lock);
    int room = G.connections < MAX_CONNECTIONS;
    G.connections += room;
    pthread_mutex_unlock(&G.lock);
    conn *c = room ? calloc(1, sizeof *c) : NULL;
    pthread_t t;
    pthread_attr_t attr;
    if (c != NULL) {
        *c = (conn){.down = fd, .up = -1, .control = control};
        if (pthread_attr_init(&attr) == 0 &&
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
            pthread_create(&t, &attr, serve, c) == 0) {
            pthread_attr_destroy(&attr);
            return;
        }
        free(c);
    }
    if (!room) {
        fprintf(stderr, "hcl-paravisor: more than %d connections at once: refused\n",
                MAX_CONNECTIONS);
    } else {
        pthread_mutex_lock(&G.lock);
        G.connections--;
        pthread_mutex_unlock(&G.lock);
    }
    close(fd);
}

/* ---- start-up -------------------------------------------------------------------------- */

static int write_bytes(const char *path, const ms_buf *b)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(b->p, 1, b->len, f) == b->len;
    return f != NULL && fclose(f) == 0 && ok ? 0 : -1;
}

static int write_pem(const char *path, const ms_buf *der)
{
    const unsigned char *p = der->p;
    X509 *x = d2i_X509(NULL, &p, (long)der->len);
    FILE *f = x != NULL ? fopen(path, "w") : NULL;
    int ok = f != NULL && PEM_write_X509(f, x) == 1;
    X509_free(x);
    return f != NULL && fclose(f) == 0 && ok ? 0 : -1;
}

/* certs/, ark.pem and sev_snp.json (the pins of the reports this stand-in signs). */
static int write_outputs(const char *dir)
{
    char path[PATH_MAX], ark[PATH_MAX], hex[MS_HEX_BUF_LEN(MS_SNP_MEASUREMENT_LEN)];
    char text[PATH_MAX + 512];
    size_t n = 0;
    snp_fx_vcek_opts vo;
    snp_fx_report_opts ro;
    snp_fx_vcek_opts_default(&vo);
    snp_fx_report_opts_default(&ro); /* what az_fx_snp_hcl signs */
    e2e_path(path, "%s/certs", dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        return -1;
    }
    e2e_path(path, "%s/certs/vcek.der", dir);
    int ok = write_bytes(path, &G.chain.vcek) == 0;
    e2e_path(path, "%s/certs/ask.der", dir);
    ok = ok && write_bytes(path, &G.chain.ask) == 0;
    e2e_path(ark, "%s/ark.pem", dir);
    ok = ok && write_pem(ark, &G.chain.ark) == 0 &&
         ms_hex_encode(ro.measurement, MS_SNP_MEASUREMENT_LEN, hex, sizeof hex, &n) == MS_OK;
    int w = snprintf(text, sizeof text,
                     "{\"ark_pem\": \"%s\", \"measurement\": \"%s\", \"min_tcb\": {\"bootloader\": "
                     "%u, \"tee\": %u, \"snp\": %u, \"microcode\": %u}}",
                     ark, hex, vo.tcb[0], vo.tcb[1], vo.tcb[6], vo.tcb[7]);
    e2e_path(path, "%s/sev_snp.json", dir);
    return ok && w > 0 && (size_t)w < sizeof text && e2e_file_write(path, text) == 0 ? 0 : -1;
}

/* --tdx: the platform's files, tdx.json and the quote service (its URL in tdquote.url). */
static int start_tdx(const char *dir)
{
    static const fx_route routes[] = {
        {.path = "/acc/tdquote", .respond = quote_service, .respond_ctx = (void *)&SERVICE_OK},
        {.path = "/other-td/acc/tdquote", .respond = quote_service,
         .respond_ctx = (void *)&SERVICE_OTHER_TD},
        {.path = "/garbage/acc/tdquote", .content_type = "text/html",
         .body = "<html><body>garbage</body></html>"},
    };
    char path[PATH_MAX], root[PATH_MAX], url[128], text[PATH_MAX + 1024];
    char mrtd[MS_HEX_BUF_LEN(MS_TDX_MEAS_LEN)], rtmr[MS_TDX_RTMRS][MS_HEX_BUF_LEN(MS_TDX_MEAS_LEN)];
    size_t n = 0;
    if (!tdx_fx_platform_make(&G.plat, dir)) {
        return -1;
    }
    int ok = ms_hex_encode(G.plat.qo.mrtd, MS_TDX_MEAS_LEN, mrtd, sizeof mrtd, &n) == MS_OK;
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        ok = ok && ms_hex_encode(G.plat.qo.rtmr[i], MS_TDX_MEAS_LEN, rtmr[i], sizeof rtmr[i],
                                 &n) == MS_OK;
    }
    e2e_path(root, "%s/root.pem", dir);
    int w = snprintf(text, sizeof text,
                     "{\"root_pem\": \"%s\", \"mrtd\": \"%s\", \"rtmrs\": {\"0\": \"%s\", "
                     "\"1\": \"%s\", \"2\": \"%s\", \"3\": \"%s\"}}",
                     root, mrtd, rtmr[0], rtmr[1], rtmr[2], rtmr[3]);
    e2e_path(path, "%s/tdx.json", dir);
    ok = ok && w > 0 && (size_t)w < sizeof text && e2e_file_write(path, text) == 0;
    G.quotes = ok ? fx_start(routes, sizeof routes / sizeof routes[0]) : NULL;
    if (G.quotes == NULL) {
        return -1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/acc/tdquote\n", fx_port(G.quotes));
    e2e_path(path, "%s/tdquote.url", dir);
    return e2e_file_write(path, url);
}

static int provision(void)
{
    char tcti[96];
    tpm2_conn c;
    snp_fx_vcek_opts vo;
    snprintf(tcti, sizeof tcti, "swtpm:host=127.0.0.1,port=%u", G.swtpm_port);
    if (tpm2_conn_open(&c, tcti) != 0) {
        fprintf(stderr, "hcl-paravisor: cannot open the swtpm at %s\n", tcti);
        return -1;
    }
    int ok = az_fx_provision(&c, &G.ak);
    tpm2_conn_close(&c); /* swtpm serves one connection at a time: the clients' from now on */
    snp_fx_vcek_opts_default(&vo);
    ok = ok && snp_fx_chain_make(&G.chain, snp_fx_rsa_key(0), snp_fx_rsa_key(1),
                                 snp_fx_p384_key(0), &vo, 48, 0);
    if (!ok) {
        fprintf(stderr, "hcl-paravisor: provisioning the vTPM or making the chain failed\n");
    }
    return ok ? 0 : -1;
}

static int write_port(const char *file, unsigned port)
{
    char tmp[PATH_MAX], text[16];
    e2e_path(tmp, "%s.tmp", file);
    snprintf(text, sizeof text, "%u\n", port);
    return e2e_file_write(tmp, text) == 0 && rename(tmp, file) == 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, const char **dir, const char **port_file)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        } else if (strcmp(argv[i], "--tdx") == 0) {
            G.tdx = 1;
            continue;
        } else if (v != NULL && strcmp(argv[i], "--swtpm-port") == 0) {
            char *end = NULL;
            unsigned long p = strtoul(v, &end, 10);
            if (end == v || *end != '\0' || p == 0 || p >= 65535) {
                return -1;
            }
            G.swtpm_port = (unsigned)p;
        } else if (v != NULL && strcmp(argv[i], "--dir") == 0) {
            *dir = v;
        } else if (v != NULL && strcmp(argv[i], "--port-file") == 0) {
            *port_file = v;
        } else {
            return -1;
        }
        i++;
    }
    return G.swtpm_port && *dir && *port_file ? 0 : -1;
}

static void serve_until_stopped(const int lfd[2])
{
    struct pollfd p[3] = {{.fd = lfd[0], .events = POLLIN},
                          {.fd = lfd[1], .events = POLLIN},
                          {.fd = G.stop_pipe[0], .events = POLLIN}};
    for (;;) {
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (p[2].revents) {
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].revents & POLLIN) {
                accept_one(lfd[i], i);
            }
        }
    }
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *port_file = NULL;
    int lfd[2] = {-1, -1};
    unsigned port = 0;
    if (parse_args(argc, argv, &dir, &port_file) != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setenv("TSS2_LOG", "all+none", 0);
    if (pipe(G.stop_pipe) != 0 || signal(SIGTERM, on_signal) == SIG_ERR ||
        signal(SIGINT, on_signal) == SIG_ERR) {
        return 1;
    }
    int rc = provision() == 0 && write_outputs(dir) == 0 && (!G.tdx || start_tdx(dir) == 0) &&
                     listen_pair(lfd, &port) == 0 &&
                     write_port(port_file, port) == 0
                 ? 0
                 : 1;
    if (rc == 0) {
        printf("hcl-paravisor: 127.0.0.1:%u (control %u) -> swtpm %u\n", port, port + 1,
               G.swtpm_port);
        fflush(stdout);
        serve_until_stopped(lfd);
    } else {
        fprintf(stderr, "hcl-paravisor: start-up failed\n");
    }
    for (int i = 0; i < 2; i++) {
        if (lfd[i] >= 0) {
            close(lfd[i]);
        }
    }
    fx_stop(G.quotes); /* before the platform's keys go */
    pthread_mutex_lock(&G.lock); /* no report is being made after this */
    G.closing = 1;
    printf("hcl-paravisor: %u reports made\n", G.reports);
    EVP_PKEY_free(G.ak);
    snp_fx_chain_free(&G.chain);
    if (G.tdx) {
        tdx_fx_platform_free(&G.plat);
    }
    snp_fx_keys_free();
    pthread_mutex_unlock(&G.lock);
    return rc;
}

/*
 * tls_rng.c's gnutls_rnd takes the place of GnuTLS's own in the built minions-supervisor
 * (docs/supervisor.md, "Memory over a long run"). Asked of the dynamic linker itself
 * (LD_DEBUG=bindings) about the real program: (1) with every symbol bound at start
 * (LD_BIND_NOW), libgnutls's gnutls_rnd resolves to the executable's; (2) in a supervisor
 * that served a TLS request with lazy binding, the call libgnutls made went to the
 * executable's. Fails if tls_rng.c is left out, the symbol is not exported, or GnuTLS
 * stops calling it through its PLT (then the override would be dead code again).
 *
 * Usage: test_tls_rng SUPERVISOR LLM-SIM SOURCE-DIR
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixture/rawclient.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

static e2e_world W;

/* Every LD_DEBUG output file <W.dir>/<prefix>.<pid>, one after the other, into out. */
static void read_ld_files(const char *prefix, ms_buf *out)
{
    char path[PATH_MAX];
    size_t n = strlen(prefix);
    ms_buf one;
    DIR *d = opendir(W.dir);
    CHECK(d != NULL);
    if (!d) {
        return;
    }
    ms_buf_init(&one, 64u << 20);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, prefix, n) == 0 && e->d_name[n] == '.') {
            e2e_path(path, "%s/%s", W.dir, e->d_name);
            if (e2e_file_read(path, &one) == 0) {
                CHECK_OK(ms_buf_append(out, one.p, one.len));
            }
        }
    }
    closedir(d);
    ms_buf_free(&one);
    CHECK_OK(ms_buf_terminate(out));
}

/*
 * A line of the linker's output binding `sym` from a file whose name holds `from` to one
 * whose name holds `to` (is exactly `to`, when `exact`).
 */
static int has_binding_x(const ms_buf *ld, const char *from, const char *to, int exact,
                         const char *sym)
{
    char want[160];
    snprintf(want, sizeof want, " [0]: normal symbol `%s'", sym);
    const char *p = (const char *)ld->p;
    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[1024];
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            char *file = strstr(line, "binding file ");
            char *arrow = file ? strstr(file, "] to ") : NULL;
            char *tail = arrow ? strstr(arrow, want) : NULL;
            if (tail) {
                *arrow = '\0';
                *tail = '\0';
                const char *got = arrow + 5;
                if (strstr(file, from) && (exact ? strcmp(got, to) == 0 : strstr(got, to) != NULL)) {
                    return 1;
                }
            }
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* The program as the linker names it: the path it was started by, exactly. */
static const char *exe_tag(void)
{
    return W.sup_bin;
}

static int has_binding(const ms_buf *ld, const char *from, const char *to, const char *sym)
{
    return has_binding_x(ld, from, to, 0, sym);
}

static int bound_to_program(const ms_buf *ld, const char *sym)
{
    return has_binding_x(ld, "libgnutls", exe_tag(), 1, sym);
}

static void test_bound_at_start(void)
{
    char out_prefix[PATH_MAX];
    ms_buf ld, so;
    ms_buf_init(&ld, 256u << 20);
    ms_buf_init(&so, 4096);
    e2e_path(out_prefix, "%s/bindnow", W.dir);
    setenv("LD_BIND_NOW", "1", 1);
    setenv("LD_DEBUG", "bindings", 1);
    setenv("LD_DEBUG_OUTPUT", out_prefix, 1);
    char *argv[] = {(char *)W.sup_bin, "--version", NULL};
    int rc = e2e_run(argv, 30000, W.dir, &so, NULL);
    unsetenv("LD_DEBUG_OUTPUT");
    unsetenv("LD_DEBUG");
    unsetenv("LD_BIND_NOW");
    CHECK(rc == 0);
    read_ld_files("bindnow", &ld);
    /* The check reads the linker's lines: some of libgnutls's symbols bind to itself... */
    CHECK(has_binding(&ld, "libgnutls", "libgnutls", "gnutls_free"));
    /* ... but gnutls_rnd to the program's (tls_rng.c), not the library's. */
    CHECK(bound_to_program(&ld, "gnutls_rnd"));
    CHECK(!has_binding(&ld, "libgnutls", "libgnutls", "gnutls_rnd"));
    ms_buf_free(&ld);
    ms_buf_free(&so);
}

static void test_called_when_serving(void)
{
    char out_prefix[PATH_MAX];
    e2e_stack st;
    e2e_http *h = NULL;
    ms_buf ld, resp;
    ms_buf_init(&ld, 256u << 20);
    ms_buf_init(&resp, 4096);
    memset(&st, 0, sizeof st);
    e2e_path(out_prefix, "%s/lazy", W.dir);
    setenv("LD_DEBUG", "bindings", 1);
    setenv("LD_DEBUG_OUTPUT", out_prefix, 1);
    int rc = e2e_world_stack(&W, &st, NULL, NULL);
    unsetenv("LD_DEBUG_OUTPUT");
    unsetenv("LD_DEBUG");
    CHECK(rc == 0);
    if (rc == 0) {
        CHECK(e2e_http_new(&h, st.url, W.ca) == 0);
        CHECK(h && e2e_http_call(h, "GET", "/v1/health", NULL, 0, &resp) == 200);
        e2e_http_free(h);
    }
    CHECK(e2e_stack_stop(&st) == 0);
    read_ld_files("lazy", &ld);
    CHECK(bound_to_program(&ld, "gnutls_rnd"));
    ms_buf_free(&ld);
    ms_buf_free(&resp);
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_tls_rng", E2E_SUP | E2E_SIM | E2E_SRC, argc, argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    if (e2e_world_devkey(&W, "dev.pem") != 0 || e2e_http_global_init() != 0) {
        fprintf(stderr, "test_tls_rng: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_bound_at_start);
        RUN(test_called_when_serving);
    }
    return e2e_world_close(&W, TEST_SUMMARY());
}

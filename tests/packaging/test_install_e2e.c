/* The install, end to end: `cmake --install` into a scratch prefix puts every file in its
   FHS place; the units pass `systemd-analyze verify` and `systemd-analyze security`'s
   threshold; the supervisor runs from the installed tree, with a certificate made by
   certs/dev/regen.sh (a stand-in CA) and the installed tls-csr.sh, exactly as its unit says
   (EnvironmentFile, ExecStart with %S and $VARIABLES, StateDirectory, ExecReload, KillSignal)
   as a normal process. systemd is not PID 1 here, so nothing can start the unit under
   systemd-run: its user and sandbox are left to `systemd-analyze` (docs/deploy.md). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fixture/world.h"
#include "tests/test.h"

/* systemd-analyze security's overall exposure, in tenths (1.6 -> 16), that the supervisor's
   unit must stay under; the serve user unit, which cannot use the system sandbox, its own. */
#define SUP_EXPOSURE_MAX "20"
#define SERVE_EXPOSURE_MAX "70"

static e2e_world W;
static char PREFIX[PATH_MAX];  /* cmake --install --prefix */
static char STATE[PATH_MAX];   /* what %S (/var/lib) stands for */
static char SUP_UNIT[PATH_MAX], SERVE_UNIT[PATH_MAX], ENV_FILE[PATH_MAX];
static char BIN_SUP[PATH_MAX], BIN_CLI[PATH_MAX], BIN_AUDIT[PATH_MAX], BIN_SIM[PATH_MAX];
static char ANALYZE[PATH_MAX], ZCAT[PATH_MAX], OPENSSL[PATH_MAX]; /* from PATH */

static int is_file(const char *path, mode_t bits)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
           (st.st_mode & bits) == bits;
}

/* The value of the unit's `key=` lines, the n-th of them (continuation lines joined). */
static int unit_value(const char *unit, const char *key, int nth, char *out, size_t cap)
{
    ms_buf b;
    int found = 0;
    size_t klen = strlen(key);
    ms_buf_init(&b, 1u << 16);
    if (e2e_file_read(unit, &b) != 0) {
        ms_buf_free(&b);
        return 0;
    }
    const char *s = (const char *)b.p;
    for (const char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) != 0 || line[klen] != '=' || nth-- > 0) {
            continue;
        }
        size_t n = 0;
        for (const char *p = line + klen + 1; *p && n + 1 < cap; p++) {
            if (p[0] == '\\' && p[1] == '\n') {
                out[n++] = ' ';
                p++;
            } else if (*p == '\n') {
                break;
            } else {
                out[n++] = *p;
            }
        }
        out[n] = '\0';
        found = 1;
        break;
    }
    ms_buf_free(&b);
    return found;
}

/* An EnvironmentFile's NAME=value lines, as systemd reads them (enough for ours). */
#define ENV_MAX 32
typedef struct unit_env {
    int n;
    char name[ENV_MAX][64];
    char value[ENV_MAX][1024];
} unit_env;

static int env_load(unit_env *e, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq || e->n == ENV_MAX) {
            continue;
        }
        size_t nlen = (size_t)(eq - line), vlen = strlen(eq + 1);
        if (nlen >= sizeof e->name[0] || vlen >= sizeof e->value[0]) {
            fclose(f);
            return -1;
        }
        memcpy(e->name[e->n], line, nlen);
        e->name[e->n][nlen] = '\0';
        memcpy(e->value[e->n], eq + 1, vlen + 1);
        e->n++;
    }
    fclose(f);
    return 0;
}

static const char *env_get(const unit_env *e, const char *name, size_t len)
{
    for (int i = e->n - 1; i >= 0; i--) {
        if (strlen(e->name[i]) == len && strncmp(e->name[i], name, len) == 0) {
            return e->value[i];
        }
    }
    return "";
}

/*
 * A command line of the unit as systemd expands it: words split at blanks; a word that is
 * exactly $NAME becomes the value's words, ${NAME} inside a word its value, %S the state
 * root, %% a %. argv points into `store`. Returns argc, or -1 on what we do not expand.
 */
#define ARGV_MAX 64
static int unit_argv(const char *line, const unit_env *e, char store[static 8192],
                     char *argv[static ARGV_MAX])
{
    int argc = 0;
    size_t used = 0;
    char words[4096];
    snprintf(words, sizeof words, "%s", line);
    for (char *save = NULL, *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (w[0] == '$' && w[1] != '{') { /* $NAME: split */
            char split[1024];
            snprintf(split, sizeof split, "%s", env_get(e, w + 1, strlen(w + 1)));
            for (char *s2 = NULL, *v = strtok_r(split, " \t", &s2); v; v = strtok_r(NULL, " \t", &s2)) {
                size_t n = strlen(v) + 1;
                if (argc + 1 >= ARGV_MAX || used + n > 8192) {
                    return -1;
                }
                argv[argc++] = memcpy(store + used, v, n);
                used += n;
            }
            continue;
        }
        char *start = store + used;
        for (const char *p = w; *p; p++) {
            const char *add = NULL;
            size_t alen = 1;
            if (p[0] == '%' && p[1] == 'S') {
                add = STATE, alen = strlen(STATE), p++;
            } else if (p[0] == '%' && p[1] == '%') {
                add = "%", p++;
            } else if (p[0] == '$' && p[1] == '{' && strchr(p, '}')) {
                const char *end = strchr(p, '}');
                add = env_get(e, p + 2, (size_t)(end - p - 2)), alen = strlen(add), p = end;
            } else if (p[0] == '%' || p[0] == '$') {
                return -1;
            } else {
                add = p;
            }
            if (used + alen + 1 > 8192) {
                return -1;
            }
            memcpy(store + used, add, alen);
            used += alen;
        }
        store[used++] = '\0';
        if (argc + 1 >= ARGV_MAX) {
            return -1;
        }
        argv[argc++] = start;
    }
    argv[argc] = NULL;
    return argc;
}

static void test_install_places(void)
{
    e2e_out r;
    char path[PATH_MAX], line[4096];
    e2e_world_runl(&W, &(e2e_cmd){.bin = MS_CMAKE, .timeout_ms = 120000}, &r,
                   "--install", MS_BUILD_DIR, "--prefix", PREFIX, NULL);
    CHECK(r.code == 0);
    if (r.code != 0) {
        fprintf(stderr, "%s%s", (const char *)r.out.p, (const char *)r.err.p);
    }
    e2e_out_free(&r);
    CHECK(is_file(BIN_SUP, 0755) && is_file(BIN_CLI, 0755) && is_file(BIN_AUDIT, 0755));
    CHECK(is_file(BIN_SIM, 0755)); /* a development tool, off PATH */
    static const char *const files[] = {
        "share/man/man1/minions-secure.1.gz", "share/man/man1/minions-supervisor.1.gz",
        "share/man/man1/minions-audit.1.gz", "lib/systemd/system/minions-supervisor.service",
        "lib/systemd/user/minions-secure-serve.service", "etc/minions/supervisor.env",
        "share/doc/minions-secure/deploy.md", "share/doc/minions-secure/operations.md",
        "share/doc/minions-secure/supervisor.md", "share/doc/minions-secure/examples/serve.env",
        "share/doc/minions-secure/examples/tsm.conf",
        "share/doc/minions-secure/examples/nvidia.conf", "libexec/minions-secure/tls-csr.sh"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        e2e_path(path, "%s/%s", PREFIX, files[i]);
        if (!is_file(path, 0444)) {
            fprintf(stderr, "not installed: %s\n", path);
            CHECK(!"installed");
        }
    }
    /* The man pages come from --help: minions-supervisor's names its options. */
    e2e_path(path, "%s/share/man/man1/minions-supervisor.1.gz", PREFIX);
    e2e_world_runl(&W, &(e2e_cmd){.bin = ZCAT}, &r, path, NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, ".TH MINIONS-SUPERVISOR 1") &&
          e2e_buf_has(&r.out, "\\-\\-allowed\\-clients FILE"));
    e2e_out_free(&r);
    /* The units name the installed program and configuration (the prefix of the install). */
    CHECK(unit_value(SUP_UNIT, "ExecStart", 0, line, sizeof line) && strstr(line, BIN_SUP) == line);
    CHECK(unit_value(SUP_UNIT, "EnvironmentFile", 0, line, sizeof line) && strcmp(line, ENV_FILE) == 0);
    CHECK(unit_value(SERVE_UNIT, "ExecStart", 0, line, sizeof line) && strstr(line, BIN_CLI) == line);
    CHECK(unit_value(SUP_UNIT, "LimitCORE", 0, line, sizeof line) && strcmp(line, "0") == 0);
    CHECK(unit_value(SUP_UNIT, "User", 0, line, sizeof line) && strcmp(line, "minions-supervisor") == 0);

    /* A second install never replaces a configuration an operator has edited. */
    CHECK(e2e_file_write(ENV_FILE, "MINIONS_LISTEN=127.0.0.1:1\n") == 0);
    e2e_world_runl(&W, &(e2e_cmd){.bin = MS_CMAKE, .timeout_ms = 120000}, &r,
                   "--install", MS_BUILD_DIR, "--prefix", PREFIX, NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, "Kept: "));
    e2e_out_free(&r);
    CHECK(e2e_file_contains(ENV_FILE, "MINIONS_LISTEN=127.0.0.1:1\n"));
    e2e_path(path, "%s.new", ENV_FILE);
    CHECK(e2e_file_contains(path, "MINIONS_TLS=--tls-cert /var/lib/minions-supervisor/tls/"));
    CHECK(rename(path, ENV_FILE) == 0);
}

/* systemd-analyze: verify passes on both units, and fails on a broken one (so it checks). */
static void test_units_verify(void)
{
    e2e_out r;
    char man[PATH_MAX], run[PATH_MAX], broken[PATH_MAX];
    const e2e_cmd sa = {.bin = ANALYZE, .timeout_ms = 60000};
    e2e_path(man, "%s/share/man", PREFIX); /* Documentation=man:... is looked up */
    CHECK(setenv("MANPATH", man, 1) == 0);
    e2e_world_runl(&W, &sa, &r, "verify", SUP_UNIT, NULL);
    CHECK(r.code == 0 && r.err.len == 0);
    if (r.code != 0 || r.err.len) {
        fprintf(stderr, "verify %s:\n%s", SUP_UNIT, (const char *)r.err.p);
    }
    e2e_out_free(&r);
    /* A user unit is verified by a user manager, which wants a runtime directory. */
    e2e_world_path(&W, run, "run");
    CHECK(mkdir(run, 0700) == 0 && setenv("XDG_RUNTIME_DIR", run, 1) == 0);
    e2e_world_runl(&W, &sa, &r, "--user", "verify", SERVE_UNIT, NULL);
    CHECK(r.code == 0 && r.err.len == 0);
    if (r.code != 0 || r.err.len) {
        fprintf(stderr, "verify %s:\n%s", SERVE_UNIT, (const char *)r.err.p);
    }
    e2e_out_free(&r);
    /* The unit with each shipped drop-in appended (as systemd merges them) verifies too. */
    static const char *const dropins[] = {"tsm", "nvidia"};
    for (size_t i = 0; i < sizeof dropins / sizeof dropins[0]; i++) {
        ms_buf unit, dropin;
        char path[PATH_MAX], merged[PATH_MAX];
        ms_buf_init(&unit, 1u << 17);
        ms_buf_init(&dropin, 1u << 16);
        e2e_path(path, "%s/share/doc/minions-secure/examples/%s.conf", PREFIX, dropins[i]);
        e2e_world_path(&W, merged, "minions-supervisor-%s.service", dropins[i]);
        CHECK(e2e_file_read(SUP_UNIT, &unit) == 0 && e2e_file_read(path, &dropin) == 0 &&
              ms_buf_append(&unit, dropin.p, dropin.len) == MS_OK &&
              ms_buf_terminate(&unit) == MS_OK && e2e_file_write(merged, (const char *)unit.p) == 0);
        ms_buf_free(&unit);
        ms_buf_free(&dropin);
        e2e_world_runl(&W, &sa, &r, "verify", merged, NULL);
        CHECK(r.code == 0 && r.err.len == 0);
        if (r.code != 0 || r.err.len) {
            fprintf(stderr, "verify with %s.conf:\n%s", dropins[i], (const char *)r.err.p);
        }
        e2e_out_free(&r);
    }
    e2e_world_path(&W, broken, "broken.service");
    CHECK(e2e_file_write(broken, "[Service]\nExecStart=/nonexistent/minions-supervisor\n") == 0);
    e2e_world_runl(&W, &sa, &r, "verify", broken, NULL);
    CHECK(r.code != 0 && e2e_buf_has(&r.err, "/nonexistent/minions-supervisor"));
    e2e_out_free(&r);
}

/* systemd-analyze security --offline: the units' exposure stays under the threshold; a unit
   with the same command and no sandbox does not (so the threshold means something). */
static void test_units_security(void)
{
    e2e_out r;
    char bare[PATH_MAX], text[PATH_MAX + 64];
    const e2e_cmd sa = {.bin = ANALYZE, .timeout_ms = 60000};
    e2e_world_runl(&W, &sa, &r, "security", "--offline=true", "--threshold=" SUP_EXPOSURE_MAX,
                   SUP_UNIT, NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, "Overall exposure level for minions-supervisor"));
    const char *lvl = strstr((const char *)r.out.p, "Overall exposure level");
    printf("%.*s\n", lvl ? (int)strcspn(lvl, "\n") : 0, lvl ? lvl : "");
    e2e_out_free(&r);
    e2e_world_runl(&W, &sa, &r, "--user", "security", "--offline=true",
                   "--threshold=" SERVE_EXPOSURE_MAX, SERVE_UNIT, NULL);
    CHECK(r.code == 0);
    lvl = strstr((const char *)r.out.p, "Overall exposure level");
    printf("%.*s\n", lvl ? (int)strcspn(lvl, "\n") : 0, lvl ? lvl : "");
    e2e_out_free(&r);
    e2e_world_path(&W, bare, "bare.service");
    snprintf(text, sizeof text, "[Service]\nExecStart=%s --help\n", BIN_SUP);
    CHECK(e2e_file_write(bare, text) == 0);
    e2e_world_runl(&W, &sa, &r, "security", "--offline=true", "--threshold=" SUP_EXPOSURE_MAX,
                   bare, NULL);
    CHECK(r.code != 0);
    e2e_out_free(&r);
}

/* The operator's edits of the installed supervisor.env for this test: loopback, port file,
   the test's engine and allow-list; TLS from the state directory, where the file puts it. */
static int write_env(unsigned sim_port, const char *allowed, const char *port_file)
{
    ms_buf in, out;
    char line[2048];
    int rc = -1, tls = 0;
    ms_buf_init(&in, 1u << 16);
    ms_buf_init(&out, 1u << 16);
    if (e2e_file_read(ENV_FILE, &in) != 0) {
        goto done;
    }
    for (const char *p = (const char *)in.p; *p;) {
        size_t n = strcspn(p, "\n");
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        p += n + (p[n] == '\n');
        char set[PATH_MAX * 3];
        if (strncmp(line, "MINIONS_LISTEN=", 15) == 0) {
            snprintf(set, sizeof set, "MINIONS_LISTEN=127.0.0.1:0");
        } else if (strncmp(line, "MINIONS_BACKEND_URL=", 20) == 0) {
            snprintf(set, sizeof set, "MINIONS_BACKEND_URL=http://127.0.0.1:%u/v1", sim_port);
        } else if (strncmp(line, "MINIONS_TLS=", 12) == 0) {
            /* every /var/lib (%S of the unit) in it becomes the scratch state root */
            const char *q = line, *at;
            size_t len = 0;
            while ((at = strstr(q, "/var/lib/")) != NULL && len < sizeof set) {
                len += (size_t)snprintf(set + len, sizeof set - len, "%.*s%s", (int)(at - q), q,
                                        STATE);
                q = at + strlen("/var/lib");
                tls++;
            }
            if (len < sizeof set) {
                snprintf(set + len, sizeof set - len, "%s", q);
            }
        } else if (strncmp(line, "MINIONS_SUPERVISOR_OPTS=", 24) == 0) {
            snprintf(set, sizeof set, "%s --port-file %s --allowed-clients %s", line, port_file,
                     allowed);
        } else {
            snprintf(set, sizeof set, "%s", line);
        }
        if (ms_buf_append_str(&out, set) != MS_OK || ms_buf_append_str(&out, "\n") != MS_OK) {
            goto done;
        }
    }
    if (tls == 2 && ms_buf_terminate(&out) == MS_OK) {
        rc = e2e_file_write(ENV_FILE, (const char *)out.p);
    }
done:
    ms_buf_free(&in);
    ms_buf_free(&out);
    return rc;
}

/* The single file a directory holds, into out; 0 when there is exactly one. */
static int only_file(const char *dir, char out[static PATH_MAX])
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            e2e_path(out, "%s/%s", dir, de->d_name);
            n++;
        }
    }
    closedir(d);
    return n == 1 ? 0 : -1;
}

static int sup_said(const e2e_server *s, const char *text)
{
    for (int i = 0; i < 100; i++) {
        if (e2e_file_contains(s->out, text)) {
            return 1;
        }
        e2e_sleep_ms(100);
    }
    return 0;
}

/*
 * The certificate as docs/deploy.md says for a real host, with a development CA standing
 * for the real one: certs/dev/regen.sh makes a CA for the names given; the installed
 * tls-csr.sh makes the key (0600) and request in the state directory's tls/; the CA signs
 * the request into tls/server.pem. The CA's certificate into ca.
 */
static int make_tls(const char *sdir, char ca[static PATH_MAX])
{
    e2e_out r;
    char regen[PATH_MAX], cadir[PATH_MAX], csr_tool[PATH_MAX], tls[PATH_MAX], key[PATH_MAX];
    char csr[PATH_MAX], pem[PATH_MAX], cakey[PATH_MAX], caserver[PATH_MAX];
    struct stat st;
    int ok = 1;
    e2e_path(regen, "%s/certs/dev/regen.sh", W.src);
    e2e_world_path(&W, cadir, "ca");
    e2e_path(ca, "%s/ca.pem", cadir);
    e2e_path(cakey, "%s/ca.key", cadir);
    e2e_path(caserver, "%s/server.pem", cadir);
    e2e_world_runl(&W, &(e2e_cmd){.bin = regen, .timeout_ms = 60000}, &r, "--out", cadir,
                   "supervisor.test", "127.0.0.1", "::1", NULL);
    ok &= r.code == 0;
    e2e_out_free(&r);
    /* regen.sh took the names given (no longer localhost alone) */
    e2e_world_runl(&W, &(e2e_cmd){.bin = OPENSSL}, &r, "x509", "-noout", "-subject", "-ext",
                   "subjectAltName", "-in", caserver, NULL);
    ok &= r.code == 0 && e2e_buf_has(&r.out, "CN = supervisor.test") &&
          e2e_buf_has(&r.out, "DNS:supervisor.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1") &&
          !e2e_buf_has(&r.out, "localhost");
    e2e_out_free(&r);
    e2e_world_runl(&W, &(e2e_cmd){.bin = regen}, &r, "--out", cadir, "bad name", NULL);
    ok &= r.code == 2;
    e2e_out_free(&r);

    e2e_path(csr_tool, "%s/libexec/minions-secure/tls-csr.sh", PREFIX);
    e2e_path(tls, "%s/tls", sdir);
    e2e_path(key, "%s/server.key", tls);
    e2e_path(csr, "%s/server.csr", tls);
    e2e_path(pem, "%s/server.pem", tls);
    e2e_world_runl(&W, &(e2e_cmd){.bin = csr_tool, .timeout_ms = 60000}, &r, "--dir", tls,
                   "127.0.0.1", "supervisor.test", NULL);
    ok &= r.code == 0 && e2e_buf_has(&r.out, "request ") && e2e_buf_has(&r.out, "sha256:");
    e2e_out_free(&r);
    ok &= stat(key, &st) == 0 && (st.st_mode & 0777) == 0600;
    e2e_world_runl(&W, &(e2e_cmd){.bin = OPENSSL}, &r, "x509", "-req", "-in", csr, "-CA", ca,
                   "-CAkey", cakey, "-CAcreateserial", "-days", "2", "-sha256",
                   "-copy_extensions", "copy", "-out", pem, NULL);
    ok &= r.code == 0;
    e2e_out_free(&r);
    return ok ? 0 : -1;
}

/*
 * The supervisor as its unit runs it: StateDirectory made, EnvironmentFile read, ExecStart
 * expanded; a client not yet allowed is refused, ExecReload (SIGHUP) admits it with the
 * supervisor running on, KillSignal (SIGTERM) ends it cleanly with its audit log sealed.
 */
static void test_unit_runs(void)
{
    e2e_server sim, sup;
    e2e_out r;
    unit_env env = {0};
    char line[4096], store[8192], *argv[ARGV_MAX];
    char sdir[PATH_MAX], path[PATH_MAX], allowed[PATH_MAX], port_file[PATH_MAX], id[PATH_MAX];
    char url[64], devpub[PATH_MAX], audit[PATH_MAX], alog[PATH_MAX], akey[PATH_MAX];
    char ca[PATH_MAX];
    struct stat st;
    memset(&sup, 0, sizeof sup);
    if (e2e_world_sim(&W, &sim, &(e2e_sim_cfg){.bin = BIN_SIM}) != 0) {
        CHECK(!"llm-sim from the installed tree starts");
        return;
    }
    /* StateDirectory=: each name under %S, mode StateDirectoryMode. */
    CHECK(unit_value(SUP_UNIT, "StateDirectory", 0, line, sizeof line));
    CHECK(unit_value(SUP_UNIT, "StateDirectoryMode", 0, path, sizeof path) && strcmp(path, "0700") == 0);
    CHECK(mkdir(STATE, 0755) == 0);
    for (char *save = NULL, *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        e2e_path(sdir, "%s/%s", STATE, w);
        CHECK(mkdir(sdir, 0700) == 0);
    }
    e2e_path(sdir, "%s/minions-supervisor", STATE);
    if (make_tls(sdir, ca) != 0) {
        CHECK(!"the TLS key and certificate are made");
        e2e_stop_all(&sim, NULL);
        return;
    }

    e2e_world_path(&W, id, "identity");
    e2e_world_runl(&W, &(e2e_cmd){.bin = BIN_CLI}, &r, "keygen", "--comment", "operator", id, NULL);
    CHECK(r.code == 0);
    e2e_out_free(&r);
    e2e_world_path(&W, allowed, "allowed_clients");
    e2e_world_path(&W, port_file, "port");
    CHECK(e2e_file_write(allowed, "# nobody yet\n") == 0);
    CHECK(write_env(sim.port, allowed, port_file) == 0);

    for (int i = 0; unit_value(SUP_UNIT, "EnvironmentFile", i, line, sizeof line); i++) {
        const char *f = line[0] == '-' ? line + 1 : line;
        CHECK(env_load(&env, f) == 0 || line[0] == '-');
    }
    CHECK(unit_value(SUP_UNIT, "ExecStart", 0, line, sizeof line));
    int argc = unit_argv(line, &env, store, argv);
    CHECK(argc > 10 && strcmp(argv[0], BIN_SUP) == 0);
    e2e_world_path(&W, sup.out, "supervisor.out");
    if (argc <= 0 || e2e_proc_start(&sup.p, "minions-supervisor", argv, sup.out) != 0 ||
        e2e_proc_wait_port(&sup.p, port_file, E2E_START_TIMEOUT_MS, &sup.port) != 0) {
        CHECK(!"the supervisor starts as its unit says");
        e2e_stop_all(&sup, &sim, NULL);
        return;
    }
    e2e_url(url, "https", sup.port);
    e2e_path(devpub, "%s/dev-attestation.pem.pub", sdir);
    const e2e_cmd ask = {.bin = BIN_CLI, .timeout_ms = 60000};
    e2e_world_runl(&W, &ask, &r, "ask", "--supervisor_url", url, "--cacert", ca,
                   "--trusted_attestation_pem", devpub, "--identity", id, "--prompt", "hello",
                   NULL);
    CHECK(r.code != 0); /* not in the allow-list yet */
    e2e_out_free(&r);

    /* ExecReload, with $MAINPID, after the operator added the client's line. */
    e2e_path(path, "%s.pub", id);
    ms_buf pub;
    ms_buf_init(&pub, 4096);
    CHECK(e2e_file_read(path, &pub) == 0 && ms_buf_terminate(&pub) == MS_OK &&
          e2e_file_write(allowed, (const char *)pub.p) == 0);
    ms_buf_free(&pub);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)sup.p.pid);
    CHECK(unit_value(SUP_UNIT, "ExecReload", 0, line, sizeof line));
    unit_env mainpid = {.n = 1};
    snprintf(mainpid.name[0], sizeof mainpid.name[0], "MAINPID");
    snprintf(mainpid.value[0], sizeof mainpid.value[0], "%s", pid);
    CHECK(unit_argv(line, &mainpid, store, argv) == 3);
    CHECK(e2e_run(argv, 10000, W.dir, NULL, NULL) == 0);
    CHECK(sup_said(&sup, "allowed clients: 1 key(s)"));
    CHECK(!e2e_proc_ended(&sup.p));
    e2e_world_runl(&W, &ask, &r, "ask", "--supervisor_url", url, "--cacert", ca,
                   "--trusted_attestation_pem", devpub, "--identity", id, "--prompt", "hello",
                   NULL);
    CHECK(r.code == 0 && r.out.len > 0);
    e2e_out_free(&r);

    /* KillSignal (SIGTERM, what systemctl stop sends): a clean stop, the audit log sealed. */
    CHECK(unit_value(SUP_UNIT, "KillSignal", 0, line, sizeof line) && strcmp(line, "SIGTERM") == 0);
    CHECK(e2e_server_stop(&sup, E2E_STOP_GRACE_MS) == 0);
    CHECK(e2e_server_stop(&sim, E2E_STOP_GRACE_MS) == 0);
    e2e_path(path, "%s/dev-attestation.pem", sdir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    e2e_path(akey, "%s/audit-log-key", sdir);
    CHECK(stat(akey, &st) == 0 && (st.st_mode & 0777) == 0600);
    e2e_path(audit, "%s/audit", sdir);
    CHECK(only_file(audit, alog) == 0);
    e2e_path(path, "%s.pub", akey);
    e2e_world_runl(&W, &(e2e_cmd){.bin = BIN_AUDIT}, &r, "verify", "--key", path, alog, NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, "VALID: intact and sealed"));
    e2e_out_free(&r);
}

int main(int argc, char **argv)
{
    if (e2e_world_open(&W, "install", E2E_SRC, argc, argv) != 0) {
        return 2;
    }
    CHECK(e2e_world_home(&W) == 0);
    if (e2e_find_in_path("systemd-analyze", ANALYZE) != 0 || e2e_find_in_path("zcat", ZCAT) != 0 ||
        e2e_find_in_path("openssl", OPENSSL) != 0) {
        fprintf(stderr, "test_install_e2e: systemd-analyze, zcat and openssl are needed "
                        "(scripts/install-deps.sh)\n");
        return e2e_world_close(&W, 1);
    }
    e2e_world_path(&W, PREFIX, "usr");
    e2e_world_path(&W, STATE, "var-lib");
    e2e_path(SUP_UNIT, "%s/lib/systemd/system/minions-supervisor.service", PREFIX);
    e2e_path(SERVE_UNIT, "%s/lib/systemd/user/minions-secure-serve.service", PREFIX);
    e2e_path(ENV_FILE, "%s/etc/minions/supervisor.env", PREFIX);
    e2e_path(BIN_SUP, "%s/bin/minions-supervisor", PREFIX);
    e2e_path(BIN_CLI, "%s/bin/minions-secure", PREFIX);
    e2e_path(BIN_AUDIT, "%s/bin/minions-audit", PREFIX);
    e2e_path(BIN_SIM, "%s/libexec/minions-secure/llm-sim", PREFIX);
    RUN(test_install_places);
    RUN(test_units_verify);
    RUN(test_units_security);
    RUN(test_unit_runs);
    return e2e_world_close(&W, TEST_SUMMARY());
}

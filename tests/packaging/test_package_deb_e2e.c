/* The Debian package, end to end: scripts/package-deb.sh packages this build; dpkg-deb
   lists the programs and units owned by root; Depends come from shlibs; the postinst makes
   the user and state directory; no private key is inside; lintian reports no error; the
   package unpacked into a scratch root (dpkg-deb -x: nothing of this machine is touched)
   runs each program's --help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fixture/world.h"
#include "tests/test.h"

static e2e_world W;
static char DEB[PATH_MAX];
static char LINTIAN[PATH_MAX], DPKG_DEB[PATH_MAX], GREP[PATH_MAX];

static void test_build(void)
{
    e2e_out r;
    char script[PATH_MAX], out[PATH_MAX];
    e2e_path(script, "%s/scripts/package-deb.sh", W.src);
    e2e_world_path(&W, out, "dist");
    e2e_world_runl(&W, &(e2e_cmd){.bin = script, .timeout_ms = 240000}, &r, "--build-dir",
                   MS_BUILD_DIR, "--out", out, "--compress", "gzip", NULL);
    CHECK(r.code == 0);
    const char *at = strstr((const char *)r.out.p, "package-deb.sh: ");
    if (r.code != 0 || !at) {
        fprintf(stderr, "%s%s", (const char *)r.out.p, (const char *)r.err.p);
    } else {
        snprintf(DEB, sizeof DEB, "%.*s", (int)strcspn(at + 16, "\n"), at + 16);
    }
    e2e_out_free(&r);
}

static void test_contents(void)
{
    e2e_out r;
    static const char *const want[] = {
        " ./usr/bin/minions-secure\n", " ./usr/bin/minions-supervisor\n",
        " ./usr/bin/minions-audit\n", " ./usr/libexec/minions-secure/llm-sim\n",
        " ./usr/lib/systemd/system/minions-supervisor.service\n",
        " ./usr/lib/systemd/user/minions-secure-serve.service\n",
        " ./etc/minions/supervisor.env\n", " ./usr/share/man/man1/minions-supervisor.1.gz\n",
        " ./usr/share/doc/minions-secure/copyright\n",
        " ./usr/share/doc/minions-secure/changelog.gz\n",
        " ./usr/share/doc/minions-secure/deploy.md\n"};
    e2e_world_runl(&W, &(e2e_cmd){.bin = DPKG_DEB, .out_cap = 1u << 20}, &r, "-c", DEB, NULL);
    CHECK(r.code == 0);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!e2e_buf_has(&r.out, want[i])) {
            fprintf(stderr, "dpkg-deb -c does not list%s", want[i]);
            CHECK(!"listed");
        }
    }
    /* Every entry root's (fakeroot), nothing under /var (postinst makes the state). */
    size_t lines = 0, rooted = 0;
    for (const char *p = (const char *)r.out.p; *p; p = strchr(p, '\n') + 1) {
        lines++;
        rooted += strncmp(p + 11, "root/root ", 10) == 0;
        if (!strchr(p, '\n')) {
            break;
        }
    }
    CHECK(lines > 20 && rooted == lines);
    CHECK(!e2e_buf_has(&r.out, " ./var/"));
    e2e_out_free(&r);

    e2e_world_runl(&W, &(e2e_cmd){.bin = DPKG_DEB}, &r, "-f", DEB, "Depends", NULL);
    CHECK(r.code == 0 && e2e_buf_has(&r.out, "libc6 (>= ") && e2e_buf_has(&r.out, "libsodium") &&
          e2e_buf_has(&r.out, "libmicrohttpd") && e2e_buf_has(&r.out, "adduser"));
    printf("Depends: %s", (const char *)r.out.p);
    e2e_out_free(&r);
}

static void test_control(void)
{
    e2e_out r;
    char dir[PATH_MAX], path[PATH_MAX];
    struct stat st;
    e2e_world_path(&W, dir, "control");
    e2e_world_runl(&W, &(e2e_cmd){.bin = DPKG_DEB}, &r, "-e", DEB, dir, NULL);
    CHECK(r.code == 0);
    e2e_out_free(&r);
    e2e_path(path, "%s/postinst", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0755);
    CHECK(e2e_file_contains(path, "adduser --system --group --home \"$state\""));
    CHECK(e2e_file_contains(path, "user=minions-supervisor"));
    CHECK(e2e_file_contains(path, "state=/var/lib/minions-supervisor"));
    e2e_path(path, "%s/conffiles", dir);
    CHECK(e2e_file_contains(path, "/etc/minions/supervisor.env\n"));
}

/* lintian: no E: line. Its summary is printed (the report asks for it). */
static void test_lintian(void)
{
    e2e_out r;
    e2e_world_runl(&W, &(e2e_cmd){.bin = LINTIAN, .timeout_ms = 240000, .out_cap = 1u << 20},
                   &r, "--no-cfg", DEB, NULL);
    size_t e = 0, w = 0, other = 0;
    for (const char *p = (const char *)r.out.p; *p;) {
        e += strncmp(p, "E: ", 3) == 0;
        w += strncmp(p, "W: ", 3) == 0;
        other += strncmp(p, "E: ", 3) != 0 && strncmp(p, "W: ", 3) != 0;
        const char *nl = strchr(p, '\n');
        if (!nl) {
            break;
        }
        p = nl + 1;
    }
    printf("lintian: %zu error(s), %zu warning(s), %zu other line(s)\n%s", e, w, other,
           (const char *)r.out.p);
    CHECK(e == 0);
    CHECK(r.code == 0); /* lintian fails on errors only */
    e2e_out_free(&r);
}

static void test_unpacked_runs(void)
{
    e2e_out r;
    char root[PATH_MAX], bin[PATH_MAX];
    e2e_world_path(&W, root, "root");
    e2e_world_runl(&W, &(e2e_cmd){.bin = DPKG_DEB}, &r, "-x", DEB, root, NULL);
    CHECK(r.code == 0);
    e2e_out_free(&r);
    static const char *const progs[] = {"usr/bin/minions-secure", "usr/bin/minions-supervisor",
                                        "usr/bin/minions-audit",
                                        "usr/libexec/minions-secure/llm-sim"};
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        e2e_path(bin, "%s/%s", root, progs[i]);
        e2e_world_runl(&W, &(e2e_cmd){.bin = bin}, &r, "--help", NULL);
        CHECK(r.code == 0 && e2e_buf_has(&r.out, "Usage"));
        if (r.code != 0) {
            fprintf(stderr, "%s --help: exit %d\n%s", bin, r.code, (const char *)r.err.p);
        }
        e2e_out_free(&r);
    }
    /* No private key anywhere in it (a PEM block of one). */
    e2e_world_runl(&W, &(e2e_cmd){.bin = GREP}, &r, "-rlzP", "-e",
                   "-----BEGIN [A-Z ]*PRIVATE KEY-----\\r?\\n[A-Za-z0-9+/=]{40,}", root, NULL);
    CHECK(r.code == 1 && r.out.len == 0);
    if (r.code != 1) {
        fprintf(stderr, "grep: exit %d\n%s%s", r.code, (const char *)r.out.p, (const char *)r.err.p);
    }
    e2e_out_free(&r);
}

int main(int argc, char **argv)
{
    if (e2e_world_open(&W, "package-deb", E2E_SRC, argc, argv) != 0) {
        return 2;
    }
    if (e2e_find_in_path("lintian", LINTIAN) != 0 || e2e_find_in_path("dpkg-deb", DPKG_DEB) != 0 ||
        e2e_find_in_path("grep", GREP) != 0) {
        fprintf(stderr, "test_package_deb_e2e: lintian and dpkg-deb are needed "
                        "(scripts/install-deps.sh)\n");
        return e2e_world_close(&W, 1);
    }
    RUN(test_build);
    if (DEB[0]) {
        RUN(test_contents);
        RUN(test_control);
        RUN(test_lintian);
        RUN(test_unpacked_runs);
    }
    return e2e_world_close(&W, TEST_SUMMARY());
}

/*
 * What a new user gets wrong, and what the programs then say (issue 13): each mistake is a
 * usage error (exit 2) that names the cause, found before anything is sent or written.
 * Arguments: minions-secure minions-supervisor SOURCE_DIR.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fixture/proc.h"
#include "tests/test.h"

static char dir[PATH_MAX], cacert[PATH_MAX];
static char *sec, *sup;
static ms_buf out, err;

static int run(char *const argv[])
{
    ms_buf_clear(&out);
    ms_buf_clear(&err);
    int rc = e2e_run(argv, 30000, dir, &out, &err);
    return rc;
}

static int said(const char *needle)
{
    int ok = err.p && strstr((const char *)err.p, needle) != NULL;
    if (!ok) {
        fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, err.p ? (const char *)err.p : "");
    }
    return ok;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* --task "" / "  ", --prompt "": refused, saying it is empty or blank. */
static void test_empty_text(void)
{
    char *url = "https://127.0.0.1:1";
    CHECK(run((char *[]){sec, "run", "--task", "", NULL}) == 2);
    CHECK(said("--task is empty"));
    CHECK(run((char *[]){sec, "run", "--task", " \t ", NULL}) == 2);
    CHECK(said("--task is blank (only white space)"));
    CHECK(run((char *[]){sec, "--supervisor_url", url, "--prompt", "", NULL}) == 2);
    CHECK(said("--prompt is empty"));
    CHECK(run((char *[]){sec, "ask", "--prompt", "\n", NULL}) == 2);
    CHECK(said("--prompt is blank"));
}

/* A --cacert that cannot be read is a usage error naming the file, not a TLS failure. */
static void test_missing_cacert(void)
{
    char missing[PATH_MAX];
    e2e_path(missing, "%s/no-such-ca.pem", dir);
    CHECK(run((char *[]){sec, "--supervisor_url", "https://127.0.0.1:1", "--cacert", missing,
                         "--prompt", "hi", NULL}) == 2);
    CHECK(said(missing));
    CHECK(said("cannot read the file"));
}

/* A private key as the pin: the hint to pass the .pub. */
static void test_private_key_as_pin(void)
{
    char key[PATH_MAX];
    e2e_path(key, "%s/dev.pem", dir);
    CHECK(e2e_file_write(key, "-----BEGIN PRIVATE KEY-----\n"
                              "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
                              "-----END PRIVATE KEY-----\n") == 0);
    CHECK(run((char *[]){sec, "--supervisor_url", "https://127.0.0.1:1", "--cacert", cacert,
                         "--trusted_attestation_pem", key, "--prompt", "hi", NULL}) == 2);
    CHECK(said("is a private key: pass its public half"));
    CHECK(said("dev.pem.pub"));
}

/* The supervisor checks its options before it writes a dev key. */
static void test_supervisor_checks_first(void)
{
    char key[PATH_MAX], missing[PATH_MAX];
    e2e_path(key, "%s/sup-dev.pem", dir);
    e2e_path(missing, "%s/no-such-cert.pem", dir);
    CHECK(run((char *[]){sup, "--listen", "127.0.0.1:0", "--dev-key", key, "--backend-url",
                         "http://127.0.0.1:1/v1", NULL}) == 2);
    CHECK(!exists(key));
    CHECK(run((char *[]){sup, "--listen", "127.0.0.1:0", "--dev-key", key, "--backend-url",
                         "http://127.0.0.1:1/v1", "--backend-model", "m", "--tls-cert", missing,
                         "--tls-key", missing, NULL}) == 2);
    CHECK(said(missing));
    CHECK(!exists(key));
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s minions-secure minions-supervisor SOURCE_DIR\n", argv[0]);
        return 2;
    }
    sec = argv[1];
    sup = argv[2];
    e2e_path(cacert, "%s/certs/dev/ca.pem", argv[3]);
    if (e2e_tmpdir_new("newuser", dir) != 0) {
        return 1;
    }
    ms_buf_init(&out, 1 << 20);
    ms_buf_init(&err, 1 << 20);
    RUN(test_empty_text);
    RUN(test_missing_cacert);
    RUN(test_private_key_as_pin);
    RUN(test_supervisor_checks_first);
    ms_buf_free(&out);
    ms_buf_free(&err);
    e2e_tmpdir_remove(dir);
    return TEST_SUMMARY();
}

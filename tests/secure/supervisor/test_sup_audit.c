/* Tests of the supervisor audit log's helpers: the engine URL as logged, the default key path, refusals. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure/supervisor/audit.h"
#include "tests/test.h"

static int url_is(const char *in, const char *want)
{
    char out[128];
    return ms_sup_audit_url(in, out, sizeof out) == MS_OK && strcmp(out, want) == 0;
}

static void test_url(void)
{
    CHECK(url_is("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"));
    CHECK(url_is("https://user:pw@engine.example:443/v1", "https://engine.example:443/v1"));
    CHECK(url_is("https://a@b:p@ss@host/v1?key=sk-123#frag", "https://host/v1"));
    CHECK(url_is("http://host?token=abc", "http://host"));
    CHECK(url_is("http://u:p@host#x", "http://host"));
    CHECK(url_is("http://[::1]:8000/v1/", "http://[::1]:8000/v1/"));
    /* A password with an unescaped '/', '?' or '#': no part of it is kept. */
    static const char *const cut_pw[] = {"https://user:pa/ss-s3cret@host/v1",
                                         "https://user:pa?ss-s3cret@host/v1",
                                         "https://user:pa#ss-s3cret@host/v1"};
    for (size_t i = 0; i < sizeof cut_pw / sizeof cut_pw[0]; i++) {
        char got[128];
        CHECK_OK(ms_sup_audit_url(cut_pw[i], got, sizeof got));
        CHECK(strstr(got, "s3cret") == NULL && strstr(got, "user") == NULL);
        CHECK(strstr(got, "pa") == NULL);
        CHECK(strncmp(got, "https://", 8) == 0);
    }
    char out[16];
    CHECK_ERR(ms_sup_audit_url("no scheme here", out, sizeof out), MS_ERR_HTTP_URL);
    CHECK_ERR(ms_sup_audit_url("http://a-rather-long-host.example/v1", out, sizeof out),
              MS_ERR_CAP_EXCEEDED);
    CHECK(out[0] == '\0'); /* nothing half-written */
}

static void test_default_key(void)
{
    char out[64];
    CHECK_OK(ms_sup_audit_default_key("/var/lib/ms/dev.pem", out, sizeof out));
    CHECK(strcmp(out, "/var/lib/ms/" MS_SUP_AUDIT_KEY_NAME) == 0);
    CHECK_OK(ms_sup_audit_default_key("dev.pem", out, sizeof out));
    CHECK(strcmp(out, MS_SUP_AUDIT_KEY_NAME) == 0);
    CHECK_OK(ms_sup_audit_default_key("/dev.pem", out, sizeof out));
    CHECK(strcmp(out, "/" MS_SUP_AUDIT_KEY_NAME) == 0);
    char small[8];
    CHECK_ERR(ms_sup_audit_default_key("/var/lib/ms/dev.pem", small, sizeof small),
              MS_ERR_CAP_EXCEEDED);
}

/* An existing file is refused before the key is touched; a missing directory cannot be made. */
static void test_open_refusals(void)
{
    char dir[] = "/tmp/ms-sup-audit.XXXXXX", file[64], key[64], missing[80];
    ms_sup_audit *a = (ms_sup_audit *)&a;
    enum ms_sup_audit_part part;
    struct stat st;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof file, "%s/old.ndjson", dir);
    snprintf(key, sizeof key, "%s/key", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/log.ndjson", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL && fclose(f) == 0);
    ms_sup_audit_cfg cfg = {.path = file, .key_path = key, .listen = "x", .evidence = "dev-key",
                            .backend_url = "http://h/v1"};
    CHECK_ERR(ms_sup_audit_open(&a, &cfg, &part), MS_ERR_CONFIG);
    CHECK(a == NULL && part == MS_SUP_AUDIT_PART_LOG);
    CHECK(stat(key, &st) != 0); /* refused first: no key made for nothing */
    cfg.path = missing;
    CHECK(ms_sup_audit_open(&a, &cfg, &part) != MS_OK && a == NULL);
    CHECK(part == MS_SUP_AUDIT_PART_LOG);
    CHECK_OK(ms_sup_audit_close(NULL));
    char pub[80];
    snprintf(pub, sizeof pub, "%s.pub", key);
    unlink(pub);
    unlink(key);
    unlink(file);
    CHECK(rmdir(dir) == 0);
}

int main(void)
{
    RUN(test_url);
    RUN(test_default_key);
    RUN(test_open_refusals);
    return TEST_SUMMARY();
}

/*
 * Every program and subcommand's --help, run as a user runs it: exit status 0, something
 * printed on standard output, every line within 80 columns (counted in characters, tabs
 * as 8) and nothing on standard error. minions-channel-demo --help prints help instead of
 * running the demo, and the demo's own output holds no raw Unix time.
 * Arguments: minions-secure minions-supervisor minions-audit llm-sim minions-channel-demo.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/fixture/proc.h"
#include "tests/test.h"

#define MAX_COLS 80

static char dir[PATH_MAX];

/* The widest line of text, in columns (UTF-8 continuation bytes not counted). */
static size_t widest(const char *text, size_t *line_no)
{
    size_t w = 0, max = 0, line = 1;
    *line_no = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n') {
            w = 0;
            line++;
            continue;
        }
        w = *p == '\t' ? (w / 8 + 1) * 8 : w + ((*p & 0xC0) != 0x80);
        if (w > max) {
            max = w;
            *line_no = line;
        }
    }
    return max;
}

/* Run argv (NULL-terminated) and check its help text. */
static void help_ok(char *const argv[])
{
    ms_buf out, err;
    ms_buf_init(&out, 1 << 20);
    ms_buf_init(&err, 1 << 16);
    static char what[256];
    size_t n = 0;
    for (char *const *a = argv; *a && n < sizeof what; a++) {
        const char *base = a == argv && strrchr(*a, '/') ? strrchr(*a, '/') + 1 : *a;
        int k = snprintf(what + n, sizeof what - n, "%s ", base);
        n += k > 0 ? (size_t)k : 0;
    }
    test_current_ = what;
    int rc = e2e_run(argv, 30000, dir, &out, &err);
    CHECK(rc == 0);
    CHECK(out.len > 100);
    CHECK(err.len == 0);
    size_t line = 0, w = out.p ? widest((const char *)out.p, &line) : 0;
    if (w > MAX_COLS) {
        TEST_FAIL_("line %zu is %zu columns wide (at most %d)", line, w, MAX_COLS);
    } else {
        test_pass_count_++;
    }
    if (rc != 0 || w > MAX_COLS) {
        fprintf(stderr, "exit %d; stdout:\n%s\nstderr:\n%s\n", rc, out.p ? (char *)out.p : "",
                err.p ? (char *)err.p : "");
    }
    ms_buf_free(&out);
    ms_buf_free(&err);
}

/* The demo run itself: passes, fits 80 columns, and prints no Unix time (a 10-digit number
   within a day of now). */
static void demo_output(char *demo)
{
    ms_buf out;
    ms_buf_init(&out, 1 << 20);
    test_current_ = "minions-channel-demo";
    CHECK(e2e_run((char *[]){demo, NULL}, 30000, dir, &out, NULL) == 0);
    const char *s = out.p ? (const char *)out.p : "";
    CHECK(strstr(s, "demo: all checks passed") != NULL);
    size_t line;
    CHECK(widest(s, &line) <= MAX_COLS);
    char now[16];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL) / 100000);
    CHECK(strstr(s, now) == NULL); /* the first 5 digits of a current Unix time */
    /* extra arguments are a usage error, not a run */
    CHECK(e2e_run((char *[]){demo, "--bogus", NULL}, 30000, dir, NULL, NULL) == 2);
    ms_buf_free(&out);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s minions-secure minions-supervisor minions-audit llm-sim "
                        "minions-channel-demo\n", argv[0]);
        return 2;
    }
    char *sec = argv[1], *sup = argv[2], *aud = argv[3], *sim = argv[4], *demo = argv[5];
    if (e2e_tmpdir_new("help", dir) != 0) {
        return 1;
    }
    help_ok((char *[]){sec, "--help", NULL});
    const char *subs[] = {"ask", "attest", "chat", "run", "serve"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        help_ok((char *[]){sec, (char *)subs[i], "--help", NULL});
    }
    help_ok((char *[]){sec, "attest", "measure", "--help", NULL});
    help_ok((char *[]){sec, "attest", "enroll-tpm", "--help", NULL});
    help_ok((char *[]){sup, "--help", NULL});
    help_ok((char *[]){aud, "--help", NULL});
    const char *audit_subs[] = {"verify", "show", "key"};
    for (size_t i = 0; i < sizeof audit_subs / sizeof audit_subs[0]; i++) {
        help_ok((char *[]){aud, (char *)audit_subs[i], "--help", NULL});
    }
    help_ok((char *[]){sim, "--help", NULL});
    help_ok((char *[]){demo, "--help", NULL});
    demo_output(demo);
    e2e_tmpdir_remove(dir);
    return TEST_SUMMARY();
}

/* Unit tests of the reference's habits in minions-secure: the launch-measurement pin
 * (cli_compat.c), the chat's bare words (chat_cmds.c), run's own options routing (run_compat.c);
 * and the whole numbers every option value is read with (cli.c). */
#include <string.h>

#include "apps/minions-secure/chat_internal.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/run_compat.h"
#include "tests/test.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_pin(void)
{
    ms_attest_policy p;
    bool changed = false;
    ms_attest_policy_init(&p);
    /* no SEV-SNP section: nothing to pin in */
    CHECK(ms_cli_pin_snp_text(&p, HEX_A, 96, &changed) == MS_ERR_COMPAT_HASHFILE_POLICY);
    p.have_snp = 1;
    memset(p.snp.measurement, 0x11, sizeof p.snp.measurement);
    /* not one measurement */
    static const char *const bad[] = {"", "aa", HEX_A "a", "zz" HEX_A, "\n\n",
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(ms_cli_pin_snp_text(&p, bad[i], strlen(bad[i]), &changed) == MS_ERR_COMPAT_HASHFILE);
    }
    uint8_t before[MS_SNP_MEASUREMENT_LEN];
    memcpy(before, p.snp.measurement, sizeof before);
    CHECK(memcmp(p.snp.measurement, before, sizeof before) == 0); /* refusals changed nothing */
    /* whitespace around it, as `sha384sum`-like files and editors leave it */
    const char *t = "  " HEX_A "\r\n";
    CHECK_OK(ms_cli_pin_snp_text(&p, t, strlen(t), &changed));
    CHECK(changed);
    for (size_t i = 0; i < MS_SNP_MEASUREMENT_LEN; i++) {
        CHECK(p.snp.measurement[i] == 0xaa && p.az_snp.snp.measurement[i] == 0xaa);
    }
    CHECK_OK(ms_cli_pin_snp_text(&p, HEX_A, 96, &changed));
    CHECK(!changed);
    ms_attest_policy_free(&p);
}

static void test_habits(void)
{
    CHECK(strcmp(ms_chat_habit("exit"), "/exit") == 0);
    CHECK(strcmp(ms_chat_habit("quit"), "/quit") == 0);
    CHECK(strcmp(ms_chat_habit("clear"), "/clear") == 0);
    static const char *const sent[] = {"exit ", " exit", "Exit", "exit.", "clear the table", "",
                                       "/exit", "quitting"};
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++) {
        CHECK(ms_chat_habit(sent[i]) == NULL);
    }
}

static void test_run_wants(void)
{
    char *line[] = {"minions-secure", "--supervisor_url", "https://x", "--local_client_type",
                    "ollama", "--local_model", "llama3.2", "--max_rounds", "3", NULL};
    CHECK(ms_run_wants(9, line));
    char *eq[] = {"minions-secure", "--max_rounds=3", NULL};
    CHECK(ms_run_wants(2, eq));
    char *ask[] = {"minions-secure", "--supervisor_url", "https://x", "--prompt", "hi", NULL};
    CHECK(!ms_run_wants(5, ask));
    char *after[] = {"minions-secure", "--prompt", "x", "--", "--context", NULL};
    CHECK(!ms_run_wants(5, after));
    char *prefix[] = {"minions-secure", "--contextual", NULL};
    CHECK(!ms_run_wants(2, prefix));
}

/* ms_cli_parse_long: digits only, within [lo, hi]; a refusal leaves *out as it was. */
static void test_parse_long(void)
{
    long v = 7;
    CHECK(ms_cli_parse_long("30", 1, 86400, &v) == 1 && v == 30);
    CHECK(ms_cli_parse_long("86400", 1, 86400, &v) == 1 && v == 86400);
    CHECK(ms_cli_parse_long("0", 0, 255, &v) == 1 && v == 0);
    CHECK(ms_cli_parse_long("007", 0, 255, &v) == 1 && v == 7);
    CHECK(ms_cli_parse_long("253402300799", 1, 253402300799L, &v) == 1 && v == 253402300799L);
    static const char *const bad[] = {"+30", "-1", " 30", "30 ", "", "0", "86401", "3e1",
                                      "-18446744073709551586", /* a wrap, were it unsigned */
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        CHECK(ms_cli_parse_long(bad[i], 1, 86400, &v) == 0);
        CHECK(v == 7);
    }
    CHECK(ms_cli_parse_long("1", 0, -1, &v) == 0 && v == 7); /* an empty range */
}

int main(void)
{
    RUN(test_pin);
    RUN(test_habits);
    RUN(test_run_wants);
    RUN(test_parse_long);
    return TEST_SUMMARY();
}

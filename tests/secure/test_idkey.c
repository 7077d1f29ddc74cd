/* Identity key lines and allow-list files: the round trip, and every refusal at its line. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "secure/idkey.h"
#include "tests/test.h"

/* A key line for pk with `comment`, as keygen writes it, into out (NUL-terminated). */
static void line_of(const uint8_t pk[static MS_SIGN_PK_LEN], const char *comment, ms_buf *out)
{
    ms_buf_clear(out);
    if (ms_idkey_line_encode(pk, comment, out) != MS_OK || ms_buf_terminate(out) != MS_OK) {
        abort();
    }
}

static void test_round_trip(void)
{
    uint8_t pk[MS_SIGN_PK_LEN], sk[MS_SIGN_SK_LEN], got[MS_SIGN_PK_LEN];
    ms_buf line;
    ms_buf_init(&line, 1024);
    crypto_sign_keypair(pk, sk);
    line_of(pk, "alice@laptop with spaces", &line);
    CHECK(strncmp((const char *)line.p, "ms-ed25519 ", 11) == 0);
    CHECK(line.p[line.len - 1] == '\n');
    CHECK_OK(ms_idkey_line_decode(line.p, line.len - 1, got));
    CHECK(memcmp(got, pk, sizeof pk) == 0);
    line_of(pk, NULL, &line); /* no comment */
    CHECK_OK(ms_idkey_line_decode(line.p, line.len - 1, got));
    CHECK(memcmp(got, pk, sizeof pk) == 0);
    ms_buf_clear(&line);
    CHECK_ERR(ms_idkey_line_encode(pk, "bad\ncomment", &line), MS_ERR_IDKEY_CONTROL);
    char long_comment[MS_MAX_IDKEY_COMMENT + 2];
    memset(long_comment, 'c', sizeof long_comment - 1);
    long_comment[sizeof long_comment - 1] = 0;
    CHECK_ERR(ms_idkey_line_encode(pk, long_comment, &line), MS_ERR_CAP_EXCEEDED);
    ms_buf_free(&line);
}

static void test_line_refusals(void)
{
    static const struct {
        const char *line;
        ms_err want;
    } cases[] = {
        {"", MS_ERR_IDKEY_TYPE},
        {"ssh-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= x", MS_ERR_IDKEY_TYPE},
        {"MS-ED25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", MS_ERR_IDKEY_TYPE},
        {"ms-ed25519", MS_ERR_IDKEY_SPACE},
        {"ms-ed25519 ", MS_ERR_IDKEY_KEY},
        {"ms-ed25519 AAAA", MS_ERR_IDKEY_KEY},
        {"ms-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", MS_ERR_IDKEY_KEY}, /* no pad */
        {"ms-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", MS_ERR_IDKEY_KEY}, /* bits */
        {"ms-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*=", MS_ERR_IDKEY_KEY},
        {"ms-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=x", MS_ERR_IDKEY_KEY},
        {"ms-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= a\x01z", MS_ERR_IDKEY_CONTROL},
        {"ms-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \x7f", MS_ERR_IDKEY_CONTROL},
    };
    uint8_t pk[MS_SIGN_PK_LEN];
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_err e = ms_idkey_line_decode((const uint8_t *)cases[i].line, strlen(cases[i].line), pk);
        if (e != cases[i].want) {
            fprintf(stderr, "case %zu: %s\n", i, ms_err_name(e));
            bad++;
        }
        for (size_t j = 0; j < sizeof pk; j++) {
            bad += pk[j] != 0; /* zeroed on error */
        }
    }
    CHECK(bad == 0);
    const char ok[] = "\t ms-ed25519\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\t";
    CHECK_OK(ms_idkey_line_decode((const uint8_t *)ok, strlen(ok), pk));
}

/* Parse text; the error and the line it names. */
static ms_err parse(const char *text, size_t *line, ms_idkey_list *l)
{
    return ms_idkey_list_parse((const uint8_t *)text, strlen(text), l, line);
}

static void test_list(void)
{
    uint8_t pk[3][MS_SIGN_PK_LEN], sk[MS_SIGN_SK_LEN];
    ms_buf text, line;
    ms_idkey_list l;
    size_t at;
    ms_buf_init(&text, 1 << 16);
    ms_buf_init(&line, 1024);
    for (int i = 0; i < 3; i++) {
        crypto_sign_keypair(pk[i], sk);
    }
    CHECK_OK(ms_buf_append_str(&text, "# the team's clients\n\n   \n"));
    line_of(pk[0], "alice", &line);
    CHECK_OK(ms_buf_append(&text, line.p, line.len));
    CHECK_OK(ms_buf_append_str(&text, "  # bob left\r\n"));
    line_of(pk[1], "carol", &line);
    CHECK_OK(ms_buf_append(&text, line.p, line.len - 1));
    CHECK_OK(ms_buf_append_str(&text, "\r\n"));
    CHECK_OK(ms_buf_terminate(&text));
    CHECK_OK(parse((const char *)text.p, &at, &l));
    CHECK(l.n == 2 && at == 0);
    CHECK(ms_idkey_list_has(&l, pk[0]) && ms_idkey_list_has(&l, pk[1]));
    CHECK(!ms_idkey_list_has(&l, pk[2]));
    ms_idkey_list_free(&l);

    /* A duplicate, named at its second line; a bad line 3; the last line without '\n'. */
    ms_buf_clear(&text);
    line_of(pk[0], "a", &line);
    CHECK_OK(ms_buf_append(&text, line.p, line.len));
    CHECK_OK(ms_buf_append_str(&text, "#\n"));
    CHECK_OK(ms_buf_append(&text, line.p, line.len - 1));
    CHECK_OK(ms_buf_terminate(&text));
    CHECK_ERR(parse((const char *)text.p, &at, &l), MS_ERR_IDKEY_DUPLICATE);
    CHECK(at == 3 && l.n == 0 && l.keys == NULL);
    CHECK_ERR(parse("# one\n\nssh-rsa AAAA bob\n", &at, &l), MS_ERR_IDKEY_TYPE);
    CHECK(at == 3);
    CHECK_ERR(parse("# a comment with a \x1b escape\n", &at, &l), MS_ERR_IDKEY_CONTROL);
    CHECK(at == 1);
    CHECK_OK(parse("", &at, &l)); /* empty: admits nobody */
    CHECK(l.n == 0 && !ms_idkey_list_has(&l, pk[0]));
    ms_idkey_list_free(&l);

    /* Caps: a line one byte too long, a file one byte too long, one key too many. */
    char *big = malloc(MS_MAX_ALLOW_FILE + 2);
    CHECK(big != NULL);
    memset(big, '#', MS_MAX_ALLOW_LINE + 1);
    big[MS_MAX_ALLOW_LINE + 1] = 0;
    CHECK_ERR(parse(big, &at, &l), MS_ERR_IDKEY_LINE_LONG);
    CHECK(at == 1);
    big[MS_MAX_ALLOW_LINE] = 0;
    CHECK_OK(parse(big, &at, &l));
    ms_idkey_list_free(&l);
    CHECK_ERR(ms_idkey_list_parse((const uint8_t *)big, MS_MAX_ALLOW_FILE + 1, &l, &at),
              MS_ERR_CAP_EXCEEDED);
    ms_buf_free(&text);
    ms_buf_init(&text, MS_MAX_ALLOW_FILE);
    uint8_t k[MS_SIGN_PK_LEN] = {0};
    for (uint32_t i = 0; i <= MS_MAX_ALLOWED_CLIENTS; i++) {
        k[0] = (uint8_t)i;
        k[1] = (uint8_t)(i >> 8);
        k[2] = (uint8_t)(i >> 16);
        line_of(k, NULL, &line);
        CHECK_OK(ms_buf_append(&text, line.p, line.len));
    }
    CHECK_ERR(ms_idkey_list_parse(text.p, text.len, &l, &at), MS_ERR_IDKEY_TOO_MANY);
    CHECK(at == MS_MAX_ALLOWED_CLIENTS + 1);
    free(big);
    ms_buf_free(&text);
    ms_buf_free(&line);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_round_trip);
    RUN(test_line_refusals);
    RUN(test_list);
    return TEST_SUMMARY();
}

/* Tests for the error table: every code is named, described and categorised, uniquely. */
#include <string.h>

#include "common/err.h"
#include "tests/test.h"

static void test_every_code_described(void)
{
    for (int i = 0; i < (int)MS_ERR_COUNT_; i++) {
        ms_err e = (ms_err)i;
        const char *msg = ms_err_str(e);
        const char *name = ms_err_name(e);
        CHECK(msg != NULL && msg[0] != '\0');
        CHECK(name != NULL && strncmp(name, "MS_", 3) == 0 && strlen(name) > 3);
        CHECK(strcmp(msg, "unknown error code") != 0);
        CHECK(strcmp(name, "MS_ERR_UNKNOWN") != 0);
        const char *cat = ms_err_category_str(ms_err_category_of(e));
        CHECK(cat != NULL && cat[0] != '\0' && strcmp(cat, "UNKNOWN") != 0);
    }
}

static void test_only_ok_is_category_none(void)
{
    CHECK(ms_err_category_of(MS_OK) == MS_CAT_NONE);
    CHECK(strcmp(ms_err_name(MS_OK), "MS_OK") == 0);
    for (int i = 1; i < (int)MS_ERR_COUNT_; i++) {
        CHECK(ms_err_category_of((ms_err)i) != MS_CAT_NONE);
    }
}

static void test_names_and_messages_unique(void)
{
    for (int i = 0; i < (int)MS_ERR_COUNT_; i++) {
        for (int j = i + 1; j < (int)MS_ERR_COUNT_; j++) {
            CHECK(strcmp(ms_err_name((ms_err)i), ms_err_name((ms_err)j)) != 0);
            CHECK(strcmp(ms_err_str((ms_err)i), ms_err_str((ms_err)j)) != 0);
        }
    }
}

static void test_names_match_enum(void)
{
    CHECK(strcmp(ms_err_name(MS_ERR_HEX), "MS_ERR_HEX") == 0);
    CHECK(strcmp(ms_err_name(MS_ERR_JSON_RANGE), "MS_ERR_JSON_RANGE") == 0);
    CHECK(strcmp(ms_err_name(MS_ERR_REC_AUTH), "MS_ERR_REC_AUTH") == 0);
    CHECK(ms_err_category_of(MS_ERR_REC_AUTH) == MS_CAT_CRYPTO);
    CHECK(ms_err_category_of(MS_ERR_CAP_EXCEEDED) == MS_CAT_LIMIT);
    CHECK(ms_err_category_of(MS_ERR_JSON_PARSE) == MS_CAT_DECODE);
    CHECK(strcmp(ms_err_category_str(MS_CAT_PROTO), "PROTO") == 0);
}

static void test_unknown_codes(void)
{
    ms_err bad[] = {MS_ERR_COUNT_, (ms_err)(MS_ERR_COUNT_ + 100), (ms_err)-1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(strcmp(ms_err_str(bad[i]), "unknown error code") == 0);
        CHECK(strcmp(ms_err_name(bad[i]), "MS_ERR_UNKNOWN") == 0);
        CHECK(ms_err_category_of(bad[i]) == MS_CAT_INTERNAL);
    }
    CHECK(strcmp(ms_err_category_str((ms_err_category)99), "UNKNOWN") == 0);
    CHECK(strcmp(ms_err_category_str((ms_err_category)-1), "UNKNOWN") == 0);
}

int main(void)
{
    RUN(test_every_code_described);
    RUN(test_only_ok_is_category_none);
    RUN(test_names_and_messages_unique);
    RUN(test_names_match_enum);
    RUN(test_unknown_codes);
    return TEST_SUMMARY();
}

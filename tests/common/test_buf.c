/* Tests for capped buffers: exact cap, one over, growth, terminate, shrink, clear. */
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "tests/test.h"

static void test_cap_boundary(void)
{
    ms_buf b;
    ms_buf_init(&b, 10);
    CHECK_OK(ms_buf_append(&b, "0123456789", 10));
    CHECK(b.len == 10);
    CHECK_ERR(ms_buf_append(&b, "x", 1), MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 10);
    CHECK_MEM(b.p, "0123456789", 10);
    CHECK_ERR(ms_buf_append_u8(&b, 1), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_buf_append_u16be(&b, 1), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_buf_reserve(&b, 1), MS_ERR_CAP_EXCEEDED);
    CHECK_OK(ms_buf_reserve(&b, 0));
    CHECK(b.len == 10);
    CHECK_MEM(b.p, "0123456789", 10);
    ms_buf_free(&b);
}

static void test_one_over_from_partial(void)
{
    ms_buf b;
    ms_buf_init(&b, 10);
    CHECK_OK(ms_buf_append_str(&b, "abcd"));
    /* 4 + 7 = 11: one over, whatever the granularity of the append. */
    CHECK_ERR(ms_buf_append(&b, "0123456", 7), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_buf_append_u64be(&b, 0), MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 4);
    CHECK_MEM(b.p, "abcd", 4);
    uint8_t *where = (uint8_t *)"sentinel";
    CHECK_ERR(ms_buf_extend(&b, 7, &where), MS_ERR_CAP_EXCEEDED);
    CHECK(where == NULL && b.len == 4);
    CHECK_OK(ms_buf_append_u32be(&b, 0x01020304u));
    CHECK_OK(ms_buf_append_u16be(&b, 0x0506));
    CHECK(b.len == 10);
    CHECK_MEM(b.p, "abcd\x01\x02\x03\x04\x05\x06", 10);
    ms_buf_free(&b);
}

static void test_overflowing_sizes(void)
{
    ms_buf b;
    ms_buf_init(&b, SIZE_MAX);
    CHECK_OK(ms_buf_append(&b, "ab", 2));
    CHECK_ERR(ms_buf_reserve(&b, SIZE_MAX), MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_buf_reserve(&b, SIZE_MAX - 2), MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 2);
    CHECK_MEM(b.p, "ab", 2);
    ms_buf_free(&b);
}

/* Decimal: what %llu writes, at the edges; a cap one short fails and leaves the buffer. */
static void test_append_dec(void)
{
    static const struct {
        uint64_t v;
        const char *want;
    } cases[] = {{0, "0"}, {7, "7"}, {10, "10"}, {1796608187u, "1796608187"},
                 {UINT64_MAX, "18446744073709551615"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_buf b;
        ms_buf_init(&b, 64);
        CHECK_OK(ms_buf_append_str(&b, "n="));
        CHECK_OK(ms_buf_append_dec(&b, cases[i].v));
        CHECK(b.len == 2 + strlen(cases[i].want));
        CHECK_MEM(b.p + 2, cases[i].want, strlen(cases[i].want));
        ms_buf_free(&b);
    }
    ms_buf b;
    ms_buf_init(&b, 4);
    CHECK_OK(ms_buf_append_str(&b, "ab"));
    CHECK_ERR(ms_buf_append_dec(&b, 123), MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 2);
    CHECK_OK(ms_buf_append_dec(&b, 12));
    CHECK_MEM(b.p, "ab12", 4);
    ms_buf_free(&b);
}

static void test_zero_cap(void)
{
    ms_buf b;
    ms_buf_init(&b, 0);
    CHECK_ERR(ms_buf_append_u8(&b, 1), MS_ERR_CAP_EXCEEDED);
    CHECK_OK(ms_buf_append(&b, "", 0));
    CHECK_OK(ms_buf_terminate(&b));
    CHECK(b.len == 0 && b.p[0] == 0);
    ms_buf_free(&b);
}

static void test_growth_preserves_content(void)
{
    ms_buf b;
    ms_buf_init(&b, 100000);
    int all_ok = 1;
    for (size_t i = 0; i < 100000; i++) {
        all_ok &= ms_buf_append_u8(&b, (uint8_t)(i * 7 + (i >> 8))) == MS_OK;
    }
    CHECK(all_ok);
    int same = 1;
    for (size_t i = 0; i < 100000; i++) {
        same &= b.p[i] == (uint8_t)(i * 7 + (i >> 8));
    }
    CHECK(same);
    CHECK(b.len == 100000 && b.cap <= 100001);
    CHECK_ERR(ms_buf_append_u8(&b, 0), MS_ERR_CAP_EXCEEDED);
    ms_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && b.max == 100000);
}

static void test_terminate(void)
{
    ms_buf b;
    ms_buf_init(&b, 3);
    CHECK_OK(ms_buf_append_str(&b, "abc"));
    /* A full buffer still has room for the NUL: terminate never hits the cap. */
    CHECK_OK(ms_buf_terminate(&b));
    CHECK(b.len == 3);
    CHECK(strcmp((const char *)b.p, "abc") == 0);
    ms_buf_free(&b);
}

static void test_extend(void)
{
    ms_buf b;
    uint8_t *w;
    ms_buf_init(&b, 16);
    CHECK_OK(ms_buf_append_str(&b, "xy"));
    CHECK_OK(ms_buf_extend(&b, 3, &w));
    CHECK(w == b.p + 2 && b.len == 5);
    memcpy(w, "123", 3);
    CHECK_MEM(b.p, "xy123", 5);
    ms_buf_free(&b);
}

static void test_shrink_wipes(void)
{
    ms_buf b;
    ms_buf_init(&b, 16);
    CHECK_OK(ms_buf_append_str(&b, "secret"));
    CHECK_OK(ms_buf_shrink(&b, 4));
    CHECK(b.len == 2);
    CHECK_MEM(b.p, "se\0\0\0\0", 6);
    CHECK_ERR(ms_buf_shrink(&b, 3), MS_ERR_ARG);
    CHECK(b.len == 2);
    CHECK_MEM(b.p, "se", 2);
    CHECK_OK(ms_buf_shrink(&b, 2));
    CHECK(b.len == 0);
    CHECK_OK(ms_buf_shrink(&b, 0));
    ms_buf_free(&b);
}

static void test_clear_and_reuse(void)
{
    ms_buf b;
    ms_buf_init(&b, 8);
    CHECK_OK(ms_buf_append_str(&b, "key!"));
    uint8_t *p = b.p;
    ms_buf_clear(&b);
    CHECK(b.len == 0 && b.p == p);
    CHECK_MEM(b.p, "\0\0\0\0", 4);
    CHECK_OK(ms_buf_append_str(&b, "12345678"));
    ms_buf_free(&b);
    CHECK_OK(ms_buf_append_str(&b, "again"));
    CHECK_MEM(b.p, "again", 5);
    ms_buf_free(&b);
    ms_buf_free(&b);
}

/* Public bytes (a sealed record): freed without a wipe, the buffer usable again, its cap kept. */
static void test_free_public(void)
{
    ms_buf b;
    ms_buf_init(&b, 8);
    CHECK_OK(ms_buf_append_str(&b, "sealed"));
    ms_buf_free_public(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && b.max == 8);
    CHECK_OK(ms_buf_append_str(&b, "12345678"));
    CHECK_ERR(ms_buf_append_u8(&b, 1), MS_ERR_CAP_EXCEEDED);
    ms_buf_free_public(&b);
    ms_buf_free_public(&b);
}

static void test_ct_equal_and_wipe(void)
{
    uint8_t a[4] = {1, 2, 3, 4};
    uint8_t c[4] = {1, 2, 3, 5};
    CHECK(ms_ct_equal(a, a, 4) == 1);
    CHECK(ms_ct_equal(a, c, 4) == 0);
    CHECK(ms_ct_equal(a, c, 3) == 1);
    ms_wipe(a, sizeof a);
    CHECK_MEM(a, "\0\0\0\0", 4);
    ms_wipe(NULL, 0);
}

/* Every length 0..40 (word steps and the byte tail), a difference at every position, in
   every bit of that byte, against ms_ct_equal's answer. */
static void test_public_equal(void)
{
    uint8_t a[40], b[40];
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)(i * 37 + 11);
    }
    for (size_t n = 0; n <= sizeof a; n++) {
        memcpy(b, a, sizeof a);
        CHECK(ms_public_equal(a, b, n) == 1);
        for (size_t at = 0; at < n; at++) {
            for (int bit = 0; bit < 8; bit++) {
                b[at] ^= (uint8_t)(1u << bit);
                CHECK(ms_public_equal(a, b, n) == 0);
                CHECK(ms_public_equal(a, b, n) == ms_ct_equal(a, b, n));
                CHECK(ms_public_equal(a, b, at) == 1); /* the bytes before it still equal */
                b[at] ^= (uint8_t)(1u << bit);
            }
        }
    }
}

/* Every length 0..300 (64-, 32- and 16-byte blocks, the byte tail), a difference at every
   position (each bit at a few lengths), against a plain compare. */
static void test_ct_equal_blocks(void)
{
    uint8_t a[300], b[300];
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)(i * 53 + 7);
    }
    for (size_t n = 0; n <= sizeof a; n++) {
        memcpy(b, a, sizeof a);
        CHECK(ms_ct_equal(a, b, n) == 1);
        for (size_t at = 0; at < n; at++) {
            int bits = n == 15 || n == 16 || n == 64 || n == 113 || n == 256 ? 8 : 1;
            for (int bit = 0; bit < bits; bit++) {
                b[at] ^= (uint8_t)(1u << bit);
                CHECK(ms_ct_equal(a, b, n) == 0);
                CHECK(ms_ct_equal(a, b, at) == 1); /* the bytes before it still equal */
                b[at] ^= (uint8_t)(1u << bit);
            }
        }
    }
}

int main(void)
{
    RUN(test_cap_boundary);
    RUN(test_one_over_from_partial);
    RUN(test_overflowing_sizes);
    RUN(test_append_dec);
    RUN(test_zero_cap);
    RUN(test_growth_preserves_content);
    RUN(test_terminate);
    RUN(test_extend);
    RUN(test_shrink_wipes);
    RUN(test_clear_and_reuse);
    RUN(test_free_public);
    RUN(test_ct_equal_and_wipe);
    RUN(test_ct_equal_blocks);
    RUN(test_public_equal);
    return TEST_SUMMARY();
}

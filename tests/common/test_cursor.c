/* Tests for the bounded cursors: every read at every truncation point, sub-cursors, writers. */
#include <stdint.h>
#include <string.h>

#include "common/cursor.h"
#include "tests/test.h"

static const uint8_t data[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

enum reader { R_U8, R_U16, R_U32, R_U64, R_BYTES, R_BORROW, R_SUB, R_SKIP, R_COUNT };

/* Bytes each reader needs (the variable-length ones take 5). */
static size_t need(enum reader r)
{
    static const size_t n[R_COUNT] = {1, 2, 4, 8, 5, 5, 5, 5};
    return n[r];
}

/* Run one reader; *zeroed says whether its output was left at zero. */
static ms_err run_reader(enum reader r, ms_cursor *c, int *zeroed)
{
    uint8_t u8 = 0xAA;
    uint8_t bytes[5];
    uint16_t u16 = 0xAAAA;
    uint32_t u32 = 0xAAAAAAAAu;
    uint64_t u64 = 0xAAAAAAAAAAAAAAAAull;
    const uint8_t *ptr = data;
    ms_cursor sub = {.p = data, .len = 3, .off = 1};
    ms_err e = MS_ERR_INTERNAL;
    memset(bytes, 0xAA, sizeof bytes);
    switch (r) {
    case R_U8:
        e = ms_cursor_read_u8(c, &u8);
        *zeroed = u8 == 0;
        break;
    case R_U16:
        e = ms_cursor_read_u16be(c, &u16);
        *zeroed = u16 == 0;
        break;
    case R_U32:
        e = ms_cursor_read_u32be(c, &u32);
        *zeroed = u32 == 0;
        break;
    case R_U64:
        e = ms_cursor_read_u64be(c, &u64);
        *zeroed = u64 == 0;
        break;
    case R_BYTES:
        e = ms_cursor_read_bytes(c, bytes, sizeof bytes);
        *zeroed = memcmp(bytes, "\0\0\0\0\0", 5) == 0;
        break;
    case R_BORROW:
        e = ms_cursor_borrow(c, &ptr, 5);
        *zeroed = ptr == NULL;
        break;
    case R_SUB:
        e = ms_cursor_sub(c, &sub, 5);
        *zeroed = sub.p == NULL && sub.len == 0 && sub.off == 0;
        break;
    case R_SKIP:
        e = ms_cursor_skip(c, 5);
        *zeroed = 1;
        break;
    default:
        break;
    }
    return e;
}

static void test_every_reader_every_truncation(void)
{
    for (int r = 0; r < R_COUNT; r++) {
        /* Input of `len` bytes, of which `pre` are consumed first: too short by 1..need. */
        for (size_t len = 0; len < need((enum reader)r) + 3; len++) {
            for (size_t pre = 0; pre <= len; pre++) {
                if (len - pre >= need((enum reader)r)) {
                    continue;
                }
                ms_cursor c = ms_cursor_init(data, len);
                CHECK_OK(ms_cursor_skip(&c, pre));
                int zeroed = 0;
                CHECK_ERR(run_reader((enum reader)r, &c, &zeroed), MS_ERR_TRUNCATED);
                CHECK(c.off == pre);
                CHECK(zeroed);
            }
        }
    }
}

static void test_every_reader_exact_fit(void)
{
    for (int r = 0; r < R_COUNT; r++) {
        for (size_t pre = 0; pre < 4; pre++) {
            ms_cursor c = ms_cursor_init(data, pre + need((enum reader)r));
            CHECK_OK(ms_cursor_skip(&c, pre));
            int zeroed = 1;
            CHECK_OK(run_reader((enum reader)r, &c, &zeroed));
            CHECK(c.off == c.len);
            CHECK_OK(ms_cursor_expect_end(&c));
        }
    }
}

static void test_values_big_endian(void)
{
    ms_cursor c = ms_cursor_init(data, sizeof data);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    CHECK_OK(ms_cursor_read_u8(&c, &u8));
    CHECK(u8 == 0x01);
    CHECK_OK(ms_cursor_read_u16be(&c, &u16));
    CHECK(u16 == 0x0203);
    CHECK_OK(ms_cursor_read_u32be(&c, &u32));
    CHECK(u32 == 0x04050607u);
    CHECK_OK(ms_cursor_read_u64be(&c, &u64));
    CHECK(u64 == 0x08090a0b0c0d0e0full);
    CHECK(ms_cursor_remaining(&c) == 1);
    CHECK_ERR(ms_cursor_expect_end(&c), MS_ERR_TRAILING);
    const uint8_t *p;
    CHECK_OK(ms_cursor_borrow(&c, &p, 1));
    CHECK(p == data + 15 && *p == 0x10);
    CHECK_OK(ms_cursor_expect_end(&c));
    CHECK_OK(ms_cursor_borrow(&c, &p, 0));
    CHECK_OK(ms_cursor_read_bytes(&c, NULL, 0));
}

static void test_sub_cursor(void)
{
    ms_cursor c = ms_cursor_init(data, sizeof data);
    ms_cursor sub;
    uint32_t v;
    uint8_t b;
    CHECK_OK(ms_cursor_skip(&c, 2));
    CHECK_OK(ms_cursor_sub(&c, &sub, 3));
    CHECK(c.off == 5);
    CHECK(sub.p == data + 2 && sub.len == 3 && sub.off == 0);
    /* The sub-cursor stops at its own end, not the parent's. */
    CHECK_ERR(ms_cursor_read_u32be(&sub, &v), MS_ERR_TRUNCATED);
    CHECK(sub.off == 0 && v == 0);
    CHECK_OK(ms_cursor_read_u8(&sub, &b));
    CHECK(b == 0x03);
    CHECK_ERR(ms_cursor_expect_end(&sub), MS_ERR_TRAILING);
    CHECK_OK(ms_cursor_skip(&sub, 2));
    CHECK_OK(ms_cursor_expect_end(&sub));
    /* Parent unaffected by reads in the sub-cursor. */
    CHECK_OK(ms_cursor_read_u8(&c, &b));
    CHECK(b == 0x06);
    /* A sub-cursor longer than what is left fails and leaves the parent as it was. */
    CHECK_ERR(ms_cursor_sub(&c, &sub, 11), MS_ERR_TRUNCATED);
    CHECK(c.off == 6 && sub.len == 0 && sub.p == NULL);
    CHECK_OK(ms_cursor_sub(&c, &sub, 10));
    CHECK_OK(ms_cursor_expect_end(&c));
}

static void test_init_null(void)
{
    ms_cursor c = ms_cursor_init(NULL, 5);
    uint8_t b;
    CHECK(c.len == 0);
    CHECK_ERR(ms_cursor_read_u8(&c, &b), MS_ERR_TRUNCATED);
    ms_wcursor w = ms_wcursor_init(NULL, 5);
    CHECK(w.cap == 0);
    CHECK_ERR(ms_wcursor_put_u8(&w, 1), MS_ERR_OUT_SPACE);
}

static void test_huge_length_does_not_wrap(void)
{
    ms_cursor c = ms_cursor_init(data, sizeof data);
    const uint8_t *p;
    CHECK_OK(ms_cursor_skip(&c, 1));
    CHECK_ERR(ms_cursor_borrow(&c, &p, SIZE_MAX), MS_ERR_TRUNCATED);
    CHECK_ERR(ms_cursor_skip(&c, SIZE_MAX - 1), MS_ERR_TRUNCATED);
    CHECK(c.off == 1 && p == NULL);
}

static void test_writer(void)
{
    uint8_t out[16];
    memset(out, 0xEE, sizeof out);
    ms_wcursor w = ms_wcursor_init(out, 15);
    CHECK_OK(ms_wcursor_put_u8(&w, 0x01));
    CHECK_OK(ms_wcursor_put_u16be(&w, 0x0203));
    CHECK_OK(ms_wcursor_put_u32be(&w, 0x04050607u));
    CHECK_OK(ms_wcursor_put_u64be(&w, 0x08090a0b0c0d0e0full));
    CHECK(w.off == 15);
    CHECK_MEM(out, data, 15);
    CHECK(out[15] == 0xEE);
    CHECK_ERR(ms_wcursor_put_u8(&w, 0x10), MS_ERR_OUT_SPACE);
    CHECK(w.off == 15 && out[15] == 0xEE);
}

static void test_writer_overflow_writes_nothing(void)
{
    uint8_t out[8];
    uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (size_t room = 0; room < 8; room++) {
        for (int kind = 0; kind < 4; kind++) {
            size_t width = (size_t)1 << kind;
            if (width <= room) {
                continue;
            }
            memset(out, 0xEE, sizeof out);
            ms_wcursor w = ms_wcursor_init(out, sizeof out);
            w.off = sizeof out - room;
            ms_err e = kind == 0   ? ms_wcursor_put_u8(&w, 0x11)
                       : kind == 1 ? ms_wcursor_put_u16be(&w, 0x1122)
                       : kind == 2 ? ms_wcursor_put_u32be(&w, 0x11223344u)
                                   : ms_wcursor_put_u64be(&w, 0x1122334455667788ull);
            CHECK_ERR(e, MS_ERR_OUT_SPACE);
            CHECK(w.off == sizeof out - room);
            CHECK_MEM(out, "\xEE\xEE\xEE\xEE\xEE\xEE\xEE\xEE", 8);
        }
        memset(out, 0xEE, sizeof out);
        ms_wcursor w = ms_wcursor_init(out, sizeof out);
        w.off = sizeof out - room;
        CHECK_ERR(ms_wcursor_put_bytes(&w, src, room + 1), MS_ERR_OUT_SPACE);
        CHECK_MEM(out, "\xEE\xEE\xEE\xEE\xEE\xEE\xEE\xEE", 8);
        CHECK_OK(ms_wcursor_put_bytes(&w, src, room));
        CHECK(w.off == sizeof out);
    }
}

static void test_store_load(void)
{
    uint8_t b[8];
    ms_store_u16be(b, 0xBEEF);
    CHECK_MEM(b, "\xBE\xEF", 2);
    CHECK(ms_load_u16be(b) == 0xBEEF);
    ms_store_u32be(b, 0xDEADBEEFu);
    CHECK_MEM(b, "\xDE\xAD\xBE\xEF", 4);
    CHECK(ms_load_u32be(b) == 0xDEADBEEFu);
    ms_store_u64be(b, 0x0123456789ABCDEFull);
    CHECK_MEM(b, "\x01\x23\x45\x67\x89\xAB\xCD\xEF", 8);
    CHECK(ms_load_u64be(b) == 0x0123456789ABCDEFull);
}

static void test_little_endian(void)
{
    const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    ms_cursor c = ms_cursor_init(b, sizeof b);
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    CHECK_OK(ms_cursor_read_u16le(&c, &v16));
    CHECK(v16 == 0x0201);
    CHECK_OK(ms_cursor_read_u32le(&c, &v32));
    CHECK(v32 == 0x06050403);
    CHECK_ERR(ms_cursor_read_u32le(&c, &v32), MS_ERR_TRUNCATED);
    CHECK(v32 == 0 && c.off == 6);
    c = ms_cursor_init(b, sizeof b);
    CHECK_OK(ms_cursor_read_u64le(&c, &v64));
    CHECK(v64 == 0x0807060504030201ull);
    CHECK_ERR(ms_cursor_read_u64le(&c, &v64), MS_ERR_TRUNCATED);
}

int main(void)
{
    RUN(test_every_reader_every_truncation);
    RUN(test_every_reader_exact_fit);
    RUN(test_values_big_endian);
    RUN(test_sub_cursor);
    RUN(test_init_null);
    RUN(test_huge_length_does_not_wrap);
    RUN(test_writer);
    RUN(test_writer_overflow_writes_nothing);
    RUN(test_store_load);
    RUN(test_little_endian);
    return TEST_SUMMARY();
}

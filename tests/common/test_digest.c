/* Tests for common/digest: SHA-256 against FIPS 180-2's examples, and the empty input. */
#include <string.h>

#include "common/digest.h"
#include "tests/test.h"

/* SHA-256 of p as lower-case hex. */
static void hex_of(const void *p, size_t n, char out[2 * MS_SHA256_LEN + 1])
{
    uint8_t h[MS_SHA256_LEN];
    ms_sha256(p, n, h);
    for (size_t i = 0; i < sizeof h; i++) {
        static const char digits[] = "0123456789abcdef";
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * MS_SHA256_LEN] = '\0';
}

static void test_known_answers(void)
{
    char hex[2 * MS_SHA256_LEN + 1];
    hex_of("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
}

static void test_empty(void)
{
    char a[2 * MS_SHA256_LEN + 1], b[2 * MS_SHA256_LEN + 1];
    hex_of(NULL, 0, a);
    hex_of("x", 0, b);
    CHECK(strcmp(a, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    CHECK(strcmp(a, b) == 0);
}

int main(void)
{
    RUN(test_known_answers);
    RUN(test_empty);
    return TEST_SUMMARY();
}

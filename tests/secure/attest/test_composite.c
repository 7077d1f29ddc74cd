/* Composite evidence: the container's layout (every truncation, every bad field) and its
   shape against a policy's combinations, each refusal with its own error. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cursor.h"
#include "secure/attest/composite.h"
#include "secure/suite.h"
#include "tests/test.h"

static const uint8_t CPU[] = {1, 2, 3};
static const uint8_t GPU_A[] = {4, 5};
static const uint8_t GPU_B[] = {6};

/* tpm2-quote, then two GPUs: 2 + (6+3) + (6+2) + (6+1) bytes. */
static void make_three(ms_buf *b)
{
    ms_composite_item items[] = {{MS_EVIDENCE_TPM2_QUOTE, CPU, sizeof CPU},
                                 {MS_EVIDENCE_NVIDIA_GPU, GPU_A, sizeof GPU_A},
                                 {MS_EVIDENCE_NVIDIA_GPU, GPU_B, sizeof GPU_B}};
    CHECK_ERR(ms_composite_encode(items, 3, b), MS_OK);
}

static void test_round_trip_and_layout(void)
{
    ms_buf b;
    ms_buf_init(&b, MS_MAX_EVIDENCE);
    make_three(&b);
    CHECK(b.len == 2u + 9u + 8u + 7u);
    static const uint8_t want[] = {0x01, 0x03, 0x00, 0x02, 0, 0, 0, 3,    1, 2, 3,
                                   0x00, 0x07, 0,    0,    0, 2, 4, 5,    0x00, 0x07,
                                   0,    0,    0,    1,    6};
    CHECK(b.len == sizeof want && memcmp(b.p, want, sizeof want) == 0);
    ms_composite c;
    CHECK_ERR(ms_composite_decode(b.p, b.len, &c), MS_OK);
    CHECK(c.n == 3);
    CHECK(c.items[0].type == MS_EVIDENCE_TPM2_QUOTE && c.items[0].len == 3 &&
          c.items[0].data == b.p + 8);
    CHECK(c.items[2].type == MS_EVIDENCE_NVIDIA_GPU && c.items[2].len == 1 &&
          c.items[2].data[0] == 6);
    ms_buf_free(&b);
}

static void test_every_truncation_and_trailing_byte(void)
{
    ms_buf b;
    ms_buf_init(&b, MS_MAX_EVIDENCE);
    make_three(&b);
    ms_composite c;
    for (size_t n = 0; n < b.len; n++) {
        c.n = 9;
        CHECK_ERR(ms_composite_decode(b.p, n, &c), MS_ERR_COMPOSITE_FORMAT);
        CHECK(c.n == 0); /* zeroed on failure */
    }
    uint8_t longer[64];
    memcpy(longer, b.p, b.len);
    longer[b.len] = 0;
    CHECK_ERR(ms_composite_decode(longer, b.len + 1, &c), MS_ERR_COMPOSITE_FORMAT);
    ms_buf_free(&b);
}

static void test_bad_fields(void)
{
    ms_buf b;
    ms_buf_init(&b, MS_MAX_EVIDENCE);
    make_three(&b);
    uint8_t m[64];
    ms_composite c;
    /* format byte */
    memcpy(m, b.p, b.len);
    m[0] = 0x02;
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    /* count 0, count above the cap, count larger than the items present */
    memcpy(m, b.p, b.len);
    m[1] = 0;
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    m[1] = MS_COMPOSITE_MAX_ITEMS + 1;
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    m[1] = 4;
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    /* count smaller than the items present: the rest are trailing bytes */
    m[1] = 2;
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    /* an empty item; an item longer than MAX_EVIDENCE; a length past the end */
    memcpy(m, b.p, b.len);
    ms_store_u32be(m + 4, 0);
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    ms_store_u32be(m + 4, MS_MAX_EVIDENCE + 1u);
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    ms_store_u32be(m + 4, 0xFFFFFFFFu);
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    ms_store_u32be(m + 4, 4); /* swallows one byte of the next header */
    CHECK_ERR(ms_composite_decode(m, b.len, &c), MS_ERR_COMPOSITE_FORMAT);
    CHECK_ERR(ms_composite_decode(NULL, 0, &c), MS_ERR_COMPOSITE_FORMAT);
    CHECK_ERR(ms_composite_decode(m, b.len, NULL), MS_ERR_ARG);
    ms_buf_free(&b);
}

/* The count alone refuses: 0 with nothing after it, the cap plus one with every item there. */
static void test_count_alone(void)
{
    static const uint8_t zero[] = {MS_COMPOSITE_FORMAT, 0};
    ms_composite c;
    CHECK_ERR(ms_composite_decode(zero, sizeof zero, &c), MS_ERR_COMPOSITE_FORMAT);
    static const uint8_t item[] = {0x00, 0x07, 0, 0, 0, 2, 4, 5};
    uint8_t m[2 + (MS_COMPOSITE_MAX_ITEMS + 1) * sizeof item];
    m[0] = MS_COMPOSITE_FORMAT;
    for (size_t i = 0; i <= MS_COMPOSITE_MAX_ITEMS; i++) {
        memcpy(m + 2 + i * sizeof item, item, sizeof item);
    }
    m[1] = MS_COMPOSITE_MAX_ITEMS;
    CHECK_ERR(ms_composite_decode(m, sizeof m - sizeof item, &c), MS_OK);
    m[1] = MS_COMPOSITE_MAX_ITEMS + 1;
    CHECK_ERR(ms_composite_decode(m, sizeof m, &c), MS_ERR_COMPOSITE_FORMAT);
    m[1] = 1;
    CHECK_ERR(ms_composite_decode(m, 2 + sizeof item, &c), MS_OK);
    CHECK(c.n == 1 && c.items[0].len == 2);
}

/* An item's length alone refuses: 0, and MS_MAX_EVIDENCE + 1 with every byte there. */
static void test_item_length_alone(void)
{
    static const uint8_t empty[] = {MS_COMPOSITE_FORMAT, 1, 0x00, 0x07, 0, 0, 0, 0};
    ms_composite c;
    CHECK_ERR(ms_composite_decode(empty, sizeof empty, &c), MS_ERR_COMPOSITE_FORMAT);
    uint8_t *m = calloc(1, 2 + 6 + MS_MAX_EVIDENCE + 1u);
    CHECK(m != NULL);
    if (m == NULL) {
        return;
    }
    m[0] = MS_COMPOSITE_FORMAT;
    m[1] = 1;
    ms_store_u16be(m + 2, MS_EVIDENCE_NVIDIA_GPU);
    ms_store_u32be(m + 4, MS_MAX_EVIDENCE);
    CHECK_ERR(ms_composite_decode(m, 2 + 6 + MS_MAX_EVIDENCE, &c), MS_OK);
    CHECK(c.n == 1 && c.items[0].len == MS_MAX_EVIDENCE);
    ms_store_u32be(m + 4, MS_MAX_EVIDENCE + 1u);
    CHECK_ERR(ms_composite_decode(m, 2 + 6 + MS_MAX_EVIDENCE + 1u, &c), MS_ERR_COMPOSITE_FORMAT);
    free(m);
}

static void test_encode_refusals(void)
{
    ms_buf b;
    ms_buf_init(&b, 2 * MS_MAX_EVIDENCE);
    ms_composite_item items[MS_COMPOSITE_MAX_ITEMS + 1];
    for (size_t i = 0; i < MS_COMPOSITE_MAX_ITEMS + 1; i++) {
        items[i] = (ms_composite_item){MS_EVIDENCE_NVIDIA_GPU, GPU_A, sizeof GPU_A};
    }
    CHECK_ERR(ms_composite_encode(items, 0, &b), MS_ERR_ARG);
    CHECK_ERR(ms_composite_encode(items, MS_COMPOSITE_MAX_ITEMS + 1, &b), MS_ERR_ARG);
    CHECK_ERR(ms_composite_encode(items, MS_COMPOSITE_MAX_ITEMS, &b), MS_OK);
    ms_composite c;
    CHECK_ERR(ms_composite_decode(b.p, b.len, &c), MS_OK);
    CHECK(c.n == MS_COMPOSITE_MAX_ITEMS);
    b.len = 0;
    items[1].len = 0;
    CHECK_ERR(ms_composite_encode(items, 2, &b), MS_ERR_ARG);
    CHECK(b.len == 0);
    /* two items of MAX_EVIDENCE bytes cannot fit in one ServerHello */
    uint8_t *big = calloc(1, MS_MAX_EVIDENCE);
    CHECK(big != NULL);
    ms_composite_item two[] = {{MS_EVIDENCE_SEV_SNP, big, MS_MAX_EVIDENCE},
                               {MS_EVIDENCE_NVIDIA_GPU, big, MS_MAX_EVIDENCE}};
    CHECK_ERR(ms_composite_encode(two, 2, &b), MS_ERR_CAP_EXCEEDED);
    two[0].len = MS_MAX_EVIDENCE - 2u - 6u - 6u - 1u;
    two[1].len = 1;
    CHECK_ERR(ms_composite_encode(two, 2, &b), MS_OK); /* exactly MS_MAX_EVIDENCE */
    CHECK(b.len == MS_MAX_EVIDENCE);
    free(big);
    ms_buf_free(&b);
}

static ms_composite shape(const uint16_t *types, uint8_t n)
{
    ms_composite c;
    memset(&c, 0, sizeof c);
    c.n = n;
    for (uint8_t i = 0; i < n; i++) {
        c.items[i] = (ms_composite_item){types[i], CPU, sizeof CPU};
    }
    return c;
}

static void test_shape(void)
{
    const ms_composite_rule rules[] = {{MS_EVIDENCE_TPM2_QUOTE, 2}, {MS_EVIDENCE_SEV_SNP, 8},
                                       {MS_EVIDENCE_SEV_SNP, 0}};
    const uint16_t T = MS_EVIDENCE_TPM2_QUOTE, G = MS_EVIDENCE_NVIDIA_GPU,
                   S = MS_EVIDENCE_SEV_SNP, D = MS_EVIDENCE_DEV_KEY;
    ms_composite c;
    c = shape((const uint16_t[]){T, G, G}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_OK);
    c = shape((const uint16_t[]){S}, 1);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_OK);
    /* missing: one GPU of two */
    c = shape((const uint16_t[]){T, G}, 2);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_MISSING);
    /* one GPU too many */
    c = shape((const uint16_t[]){T, G, G, G}, 4);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_COUNT);
    /* sev-snp with 3 GPUs: more than 0, fewer than 8 */
    c = shape((const uint16_t[]){S, G, G, G}, 4);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_MISSING);
    /* reordered: a GPU first; a CPU item after a GPU */
    c = shape((const uint16_t[]){G, T, G}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_ORDER);
    c = shape((const uint16_t[]){T, G, T}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_ORDER);
    /* a second CPU TEE item */
    c = shape((const uint16_t[]){T, S, G, G}, 4);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_DUPLICATE);
    /* a CPU type no rule names; an unknown type; a nested composite; reserved values */
    c = shape((const uint16_t[]){D, G, G}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_TYPE);
    c = shape((const uint16_t[]){T, G, 0x7777}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_TYPE);
    c = shape((const uint16_t[]){MS_EVIDENCE_COMPOSITE, G, G}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_TYPE);
    c = shape((const uint16_t[]){T, G, 0xFFFF}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_TYPE);
    /* no rules: nothing is acceptable */
    c = shape((const uint16_t[]){T, G, G}, 3);
    CHECK_ERR(ms_composite_check_shape(&c, NULL, 0), MS_ERR_COMPOSITE_TYPE);
    c.n = 0;
    CHECK_ERR(ms_composite_check_shape(&c, rules, 3), MS_ERR_COMPOSITE_FORMAT);
    CHECK(ms_composite_is_cpu_type(MS_EVIDENCE_TDX) && !ms_composite_is_gpu_type(MS_EVIDENCE_TDX));
    CHECK(ms_composite_is_gpu_type(G) && !ms_composite_is_cpu_type(G));
}

int main(void)
{
    RUN(test_round_trip_and_layout);
    RUN(test_every_truncation_and_trailing_byte);
    RUN(test_bad_fields);
    RUN(test_count_alone);
    RUN(test_item_length_alone);
    RUN(test_encode_refusals);
    RUN(test_shape);
    return TEST_SUMMARY();
}

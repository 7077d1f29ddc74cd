/* Composite evidence: the container's decoder and encoder, and its shape against a policy. */
#include "secure/attest/composite.h"

#include <string.h>

#include "common/check.h"
#include "common/cursor.h"
#include "secure/suite.h"

int ms_composite_is_cpu_type(uint16_t type)
{
    switch (type) {
    case MS_EVIDENCE_DEV_KEY:
    case MS_EVIDENCE_TPM2_QUOTE:
    case MS_EVIDENCE_SEV_SNP:
    case MS_EVIDENCE_TDX:
    case MS_EVIDENCE_AZ_SNP_VTPM:
    case MS_EVIDENCE_AZ_TDX_VTPM:
        return 1;
    default:
        return 0;
    }
}

int ms_composite_is_gpu_type(uint16_t type)
{
    return type == MS_EVIDENCE_NVIDIA_GPU;
}

/* Reads the layout; any problem is the caller's MS_ERR_COMPOSITE_FORMAT. */
static ms_err read_items(ms_cursor *c, ms_composite *out)
{
    uint8_t format, count;
    TRY(ms_cursor_read_u8(c, &format));
    ENSURE(format == MS_COMPOSITE_FORMAT, MS_ERR_COMPOSITE_FORMAT);
    TRY(ms_cursor_read_u8(c, &count));
    ENSURE(count >= 1 && count <= MS_COMPOSITE_MAX_ITEMS, MS_ERR_COMPOSITE_FORMAT);
    for (uint8_t i = 0; i < count; i++) {
        ms_composite_item *it = &out->items[i];
        uint32_t n;
        TRY(ms_cursor_read_u16be(c, &it->type));
        TRY(ms_cursor_read_u32be(c, &n));
        ENSURE(n >= 1 && n <= MS_MAX_EVIDENCE, MS_ERR_COMPOSITE_FORMAT);
        TRY(ms_cursor_borrow(c, &it->data, n));
        it->len = n;
    }
    TRY(ms_cursor_expect_end(c));
    out->n = count;
    return MS_OK;
}

ms_err ms_composite_decode(const uint8_t *ev, size_t len, ms_composite *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(ev != NULL || len == 0, MS_ERR_ARG);
    ms_cursor c = ms_cursor_init(ev, len);
    if (read_items(&c, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_COMPOSITE_FORMAT;
    }
    return MS_OK;
}

ms_err ms_composite_encode(const ms_composite_item *items, size_t n, ms_buf *out)
{
    ENSURE(items != NULL && out != NULL, MS_ERR_ARG);
    ENSURE(n >= 1 && n <= MS_COMPOSITE_MAX_ITEMS, MS_ERR_ARG);
    size_t total = 2;
    for (size_t i = 0; i < n; i++) {
        ENSURE(items[i].data != NULL && items[i].len >= 1 && items[i].len <= MS_MAX_EVIDENCE,
               MS_ERR_ARG);
        total += 6 + items[i].len;
        ENSURE(total <= MS_MAX_EVIDENCE, MS_ERR_CAP_EXCEEDED);
    }
    uint8_t head[6];
    head[0] = MS_COMPOSITE_FORMAT;
    head[1] = (uint8_t)n;
    TRY(ms_buf_append(out, head, 2));
    for (size_t i = 0; i < n; i++) {
        ms_store_u16be(head, items[i].type);
        ms_store_u32be(head + 2, (uint32_t)items[i].len);
        TRY(ms_buf_append(out, head, sizeof head));
        TRY(ms_buf_append(out, items[i].data, items[i].len));
    }
    return MS_OK;
}

ms_err ms_composite_check_shape(const ms_composite *c, const ms_composite_rule *rules,
                                size_t n_rules)
{
    ENSURE(c != NULL && (rules != NULL || n_rules == 0), MS_ERR_ARG);
    ENSURE(c->n >= 1, MS_ERR_COMPOSITE_FORMAT);
    for (uint8_t i = 0; i < c->n; i++) {
        uint16_t t = c->items[i].type;
        ENSURE(ms_composite_is_cpu_type(t) || ms_composite_is_gpu_type(t), MS_ERR_COMPOSITE_TYPE);
    }
    ENSURE(ms_composite_is_cpu_type(c->items[0].type), MS_ERR_COMPOSITE_ORDER);
    int seen_gpu = 0;
    for (uint8_t i = 1; i < c->n; i++) {
        if (ms_composite_is_gpu_type(c->items[i].type)) {
            seen_gpu = 1;
            continue;
        }
        ENSURE(!seen_gpu, MS_ERR_COMPOSITE_ORDER);
        return MS_ERR_COMPOSITE_DUPLICATE;
    }
    size_t gpus = (size_t)c->n - 1u;
    int named = 0, fewer = 0;
    for (size_t r = 0; r < n_rules; r++) {
        if (rules[r].cpu != c->items[0].type) {
            continue;
        }
        named = 1;
        if (rules[r].gpus == gpus) {
            return MS_OK;
        }
        fewer |= gpus < rules[r].gpus;
    }
    ENSURE(named, MS_ERR_COMPOSITE_TYPE);
    return fewer ? MS_ERR_COMPOSITE_MISSING : MS_ERR_COMPOSITE_COUNT;
}

/* Composite evidence (type 0x0008): one CPU TEE item and GPU items, all over the same B. */
#ifndef MS_SECURE_ATTEST_COMPOSITE_H
#define MS_SECURE_ATTEST_COMPOSITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

/*
 * Wire format (docs/protocol.md §2.4), big-endian:
 *   u8  format = MS_COMPOSITE_FORMAT
 *   u8  count  (1..MS_COMPOSITE_MAX_ITEMS)
 *   count times: u16 type || u32 len (1..MS_MAX_EVIDENCE) || len bytes (the item's own
 *   evidence bytes, exactly as that type would carry them alone)
 *   no further bytes.
 * Every item is made over the composite's binding B (computed with evidence_type 0x0008),
 * so an item taken from another session, or from a single-type handshake, fails its own
 * binding check.
 */
#define MS_COMPOSITE_FORMAT 0x01u

typedef struct ms_composite_item {
    uint16_t type;       /* MS_EVIDENCE_* */
    const uint8_t *data; /* borrowed from the composite's bytes */
    size_t len;
} ms_composite_item;

typedef struct ms_composite {
    uint8_t n;
    ms_composite_item items[MS_COMPOSITE_MAX_ITEMS];
} ms_composite;

/*
 * The layout only: format byte, count, each item's header and length, no trailing bytes.
 * Item types are not judged here (ms_composite_check_shape does that against a policy).
 * MS_ERR_COMPOSITE_FORMAT on any problem; *out is zeroed on entry and on failure.
 */
MS_MUST_CHECK ms_err ms_composite_decode(const uint8_t *ev, size_t len, ms_composite *out);

/* Append a composite of `n` items to `out`. MS_ERR_ARG for n outside 1..MAX or an empty
   item; MS_ERR_CAP_EXCEEDED when the result would exceed MS_MAX_EVIDENCE. */
MS_MUST_CHECK ms_err ms_composite_encode(const ms_composite_item *items, size_t n, ms_buf *out);

/* Whether a type is a CPU TEE's evidence (may be a composite's first item) or a GPU's. */
int ms_composite_is_cpu_type(uint16_t type);
int ms_composite_is_gpu_type(uint16_t type);

/* One acceptable combination in a policy: this CPU TEE type and exactly `gpus` GPU items. */
#define MS_COMPOSITE_MAX_RULES 8u /* combinations in one policy */

typedef struct ms_composite_rule {
    uint16_t cpu;
    uint8_t gpus;
} ms_composite_rule;

/*
 * The shape against the policy's combinations, in this order:
 *   every item's type is a known CPU or GPU type and the composite names no composite
 *     (MS_ERR_COMPOSITE_TYPE);
 *   the first item is the CPU TEE's and no other is (MS_ERR_COMPOSITE_ORDER for a GPU item
 *     first or a CPU item after a GPU item; MS_ERR_COMPOSITE_DUPLICATE for a second CPU item);
 *   some rule names the CPU type (MS_ERR_COMPOSITE_TYPE);
 *   the GPU items are as many as such a rule requires: fewer is MS_ERR_COMPOSITE_MISSING,
 *     more is MS_ERR_COMPOSITE_COUNT.
 * Each item's own verification (and its binding) is the caller's, with the item's type.
 */
MS_MUST_CHECK ms_err ms_composite_check_shape(const ms_composite *c, const ms_composite_rule *rules,
                                              size_t n_rules);

#endif

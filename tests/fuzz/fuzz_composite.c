/* libFuzzer harness for composite evidence: what the decoder accepts re-encodes to the same
   bytes, and the shape check never reads past the decoded items. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "secure/attest/composite.h"
#include "secure/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_composite c;
    if (ms_composite_decode(data, size, &c) != MS_OK) {
        if (c.n != 0) {
            abort();
        }
        return 0;
    }
    ms_buf b;
    ms_buf_init(&b, MS_MAX_EVIDENCE);
    if (ms_composite_encode(c.items, c.n, &b) != MS_OK || b.len != size ||
        memcmp(b.p, data, size) != 0) {
        abort();
    }
    ms_buf_free(&b);
    static const ms_composite_rule rules[] = {{MS_EVIDENCE_TPM2_QUOTE, 2}, {MS_EVIDENCE_SEV_SNP, 0}};
    ms_err e = ms_composite_check_shape(&c, rules, 2);
    if (e == MS_OK && c.items[0].type != MS_EVIDENCE_TPM2_QUOTE &&
        c.items[0].type != MS_EVIDENCE_SEV_SNP) {
        abort();
    }
    return 0;
}

/*
 * libFuzzer harness for the Azure TD quote service's response reader
 * (ms_az_tdquote_response_parse). Seeds in tests/fuzz/corpus/fuzz_az_tdquote/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "secure/attest/az_tdquote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_buf q;
    ms_buf_init(&q, MS_TDX_MAX_QUOTE);
    ms_err e = ms_az_tdquote_response_parse(data, size, &q);
    /* accepted: 1..MS_TDX_MAX_QUOTE bytes; refused: nothing appended, one error */
    if ((e == MS_OK && (q.len == 0 || q.len > MS_TDX_MAX_QUOTE)) ||
        (e != MS_OK && (q.len != 0 || e != MS_ERR_AZ_TDQUOTE_RESPONSE))) {
        abort();
    }
    ms_buf_free(&q);
    return 0;
}

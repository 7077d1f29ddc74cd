/* libFuzzer harness for minions-audit show --format reference-json: any bytes taken as a
 * VALID log (the verifier is fuzz_alog_verify's) never crash the walk, and whatever is
 * printed is one JSON object the project's reader parses. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "apps/minions-audit/show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_alog_report r;
    char *out = NULL;
    size_t out_len = 0;
    memset(&r, 0, sizeof r);
    r.verdict = MS_ALOG_VALID;
    FILE *f = open_memstream(&out, &out_len);
    if (!f) {
        return 0;
    }
    ms_err e = ms_audit_show_reference(f, data, size, &r);
    fclose(f);
    if (e == MS_OK) {
        ms_json_doc *d = NULL;
        if (out_len == 0 || out[out_len - 1] != '\n' ||
            ms_json_parse(out, out_len - 1, &d) != MS_OK) {
            abort();
        }
        ms_json_free(d);
    }
    free(out);
    /* Not VALID: nothing at all. */
    r.verdict = MS_ALOG_TAMPERED;
    if (ms_audit_show_reference(stdout, data, size, &r) != MS_ERR_COMPAT_LOG_UNVERIFIED) {
        abort();
    }
    return 0;
}

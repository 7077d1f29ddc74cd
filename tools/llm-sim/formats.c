/* What the wire formats share: printing a built document with its framing, all or nothing. */
#include "tools/llm-sim/formats.h"

#include <string.h>

ms_err llmsim_emit(ms_json_builder *b, ms_err built, const char *prefix, const char *suffix,
                   ms_buf *out)
{
    size_t before = out->len;
    ms_err err = built;
    if (err == MS_OK) {
        err = ms_buf_append_str(out, prefix);
    }
    if (err == MS_OK) {
        err = ms_json_builder_print(b, out);
    }
    if (err == MS_OK) {
        err = ms_buf_append_str(out, suffix);
    }
    if (err != MS_OK && out->len > before) {
        /* Cannot fail: it only drops what this call appended. */
        (void)!ms_buf_shrink(out, out->len - before);
    }
    ms_json_builder_free(b);
    return err;
}

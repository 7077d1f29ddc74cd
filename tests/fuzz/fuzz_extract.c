/* libFuzzer harness for protocols/extract: no crash, exact spans, valid objects, linear time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/limits.h"
#include "protocols/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TILE (64u * 1024u)

static void need(int ok)
{
    if (!ok) {
        abort();
    }
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void check_extract(const char *text, size_t len)
{
    ms_buf out;
    ms_extract_info info;
    char msg[MS_EXTRACT_DESCRIBE_MAX];
    ms_buf_init(&out, MS_MAX_EXTRACT_TEXT);
    ms_err e = ms_extract_json(text, len, &out, &info);
    need(strlen(info.preview) < sizeof info.preview);
    need(strlen(info.span_preview) < sizeof info.span_preview);
    need(info.offset <= len && info.length <= len - info.offset);
    if (e == MS_OK) {
        /* The exact bytes of the text, an object that the strict parser accepts. */
        need(info.status == MS_EXTRACT_FOUND && out.len == info.length && out.len >= 2);
        need(memcmp(out.p, text + info.offset, out.len) == 0);
        need(out.p[0] == '{' && out.p[out.len - 1] == '}');
        ms_json_doc *doc = NULL;
        need(ms_json_parse((const char *)out.p, out.len, &doc) == MS_OK);
        need(ms_json_type_of(ms_json_root(doc)) == MS_JSON_OBJECT);
        ms_json_free(doc);
    } else {
        need(info.status != MS_EXTRACT_FOUND && out.len == 0 && e != MS_ERR_INTERNAL);
    }
    ms_extract_describe(&info, msg, sizeof msg);
    need(strlen(msg) < sizeof msg);
    /* Same input, same answer. */
    ms_buf again;
    ms_extract_info info2;
    ms_buf_init(&again, MS_MAX_EXTRACT_TEXT);
    need(ms_extract_json(text, len, &again, &info2) == e && again.len == out.len);
    need(out.len == 0 || memcmp(out.p, again.p, out.len) == 0);
    need(info2.status == info.status && info2.offset == info.offset);
    ms_buf_free(&again);
    ms_buf_free(&out);
}

static void check_strip(const char *text, size_t len)
{
    ms_buf out;
    ms_think_info t;
    ms_buf_init(&out, MS_MAX_EXTRACT_TEXT);
    need(ms_extract_strip_think(text, len, &out, &t) == MS_OK);
    need(out.len <= len);
    need(out.len == 0 || (!is_space(out.p[0]) && !is_space(out.p[out.len - 1])));
    need(t.blocks <= len / 15); /* each block is at least "<think></think>" */
    ms_buf_free(&out);
}

/*
 * Input: one flag byte, then the model output. Flag bits 0..2 all set tile the output up to
 * 64 KiB, so pathological patterns ("{{{{", "<think>" without an end, '"' runs) run at a
 * size where quadratic work would time out (one input in eight: the rest stay fast).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char *tiled = NULL;
    if ((data[0] & 7u) == 7u && len > 0) {
        tiled = malloc(TILE);
        need(tiled != NULL);
        for (size_t i = 0; i < TILE; i += len) {
            memcpy(tiled + i, text, TILE - i < len ? TILE - i : len);
        }
        text = tiled;
        len = TILE;
    }
    check_extract(text, len);
    check_strip(text, len);
    free(tiled);
    return 0;
}

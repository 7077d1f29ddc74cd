/*
 * libFuzzer harness for the kept-string path (ms_json_parse_keep, ms_json_as_text,
 * ms_json_unescape): the input is a string body after a long plain prefix. Kept and decoded
 * parses must agree on every error; a kept body must decode to the decoded parse's bytes,
 * and carried as it is into new JSON (the supervisor's reply) must read back the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAD 300u /* a kept string: 256 bytes or more */

static void agree(bool same)
{
    if (!same) {
        abort();
    }
}

/* The decoded text of "c" in text, into out (len 0 when it is not there). */
static ms_err read_c(const char *text, size_t len, ms_buf *out)
{
    ms_json_doc *doc = NULL;
    const char *s;
    size_t n;
    ms_err e = ms_json_parse(text, len, &doc);
    if (e == MS_OK && (e = ms_json_get_str(ms_json_root(doc), "c", SIZE_MAX, &s, &n)) == MS_OK) {
        e = ms_buf_append(out, s, n);
    }
    ms_json_free(doc);
    return e;
}

/* Kept: "c" through ms_json_as_text (unescaped), and carried into {"c":"..."} as it is. */
static void check_kept(const char *text, size_t len, const ms_buf *want)
{
    ms_json_doc *doc = NULL;
    ms_json_val v;
    ms_json_text t;
    ms_buf dec, again, carried;
    agree(ms_json_parse_keep(text, len, &doc) == MS_OK);
    if (ms_json_get(ms_json_root(doc), "c", &v) != MS_OK || ms_json_as_text(v, &t) != MS_OK) {
        ms_json_free(doc); /* "c" missing or not a string: the decoded read said so too */
        agree(want->len == 0);
        return;
    }
    ms_buf_init(&dec, MS_MAX_JSON_TEXT);
    ms_buf_init(&again, MS_MAX_JSON_TEXT);
    ms_buf_init(&carried, MS_MAX_JSON_TEXT);
    if (t.escaped) {
        agree(ms_json_unescape(t.p, t.len, &dec) == MS_OK);
        agree(ms_buf_append(&carried, "{\"c\":\"", 6) == MS_OK);
        agree(ms_buf_append(&carried, t.p, t.len) == MS_OK);
        agree(ms_buf_append(&carried, "\"}", 2) == MS_OK);
        agree(read_c((const char *)carried.p, carried.len, &again) == MS_OK);
        agree(again.len == want->len && memcmp(again.p, want->p, want->len) == 0);
    } else {
        agree(ms_buf_append(&dec, t.p, t.len) == MS_OK);
    }
    agree(dec.len == want->len && memcmp(dec.p, want->p, want->len) == 0);
    ms_buf_free(&dec);
    ms_buf_free(&again);
    ms_buf_free(&carried);
    ms_json_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 16) {
        return 0;
    }
    size_t len = 6 + PAD + size + 2;
    char *text = malloc(len);
    ms_buf want, direct;
    ms_json_doc *doc = NULL;
    if (text == NULL) {
        return 0;
    }
    memcpy(text, "{\"c\":\"", 6);
    memset(text + 6, 'x', PAD);
    if (size > 0) {
        memcpy(text + 6 + PAD, data, size);
    }
    memcpy(text + 6 + PAD + size, "\"}", 2);
    ms_buf_init(&want, MS_MAX_JSON_TEXT);
    ms_buf_init(&direct, MS_MAX_JSON_TEXT);
    ms_err dec_err = ms_json_parse(text, len, &doc);
    ms_json_free(doc);
    ms_err keep_err = ms_json_parse_keep(text, len, &doc);
    ms_json_free(doc);
    agree(dec_err == keep_err);
    if (dec_err == MS_OK) {
        ms_err e = read_c(text, len, &want);
        agree(e == MS_OK || e == MS_ERR_JSON_MISSING || e == MS_ERR_JSON_TYPE);
        check_kept(text, len, &want);
    }
    /* the body alone: when it decodes, the whole text does, to the prefix and it */
    if (ms_json_unescape((const char *)data, size, &direct) == MS_OK) {
        agree(dec_err == MS_OK && want.len == PAD + direct.len);
        agree(memcmp(want.p + PAD, direct.p, direct.len) == 0);
    }
    ms_buf_free(&want);
    ms_buf_free(&direct);
    free(text);
    return 0;
}

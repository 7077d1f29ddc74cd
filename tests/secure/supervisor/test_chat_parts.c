/*
 * §12.3 content parts: the image checks (common/llm/chat.c), the supervisor's request decoder
 * (bridge.c), the client's request builder (payload.c) and the chat's conversation
 * (apps/minions-secure/chat_conv.c): caps, refusals, and what a turn sends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/limits.h"
#include "common/llm/chat.h"
#include "apps/minions-secure/chat_conv.h"
#include "secure/client/payload.h"
#include "secure/supervisor/bridge.h"
#include "tests/test.h"

static const uint8_t PNG_MAGIC[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};

/* "data:MIME;base64," + base64 of bytes, NUL-terminated, in a buffer the caller frees. */
static char *data_url(const char *mime, const uint8_t *p, size_t n)
{
    ms_buf b;
    ms_buf_init(&b, MS_MAX_JSON_TEXT);
    CHECK_OK(ms_buf_append_str(&b, "data:"));
    CHECK_OK(ms_buf_append_str(&b, mime));
    CHECK_OK(ms_buf_append_str(&b, ";base64,"));
    CHECK_OK(ms_base64_encode_buf(p, n, &b));
    CHECK_OK(ms_buf_terminate(&b));
    return (char *)b.p;
}

/* An image of n bytes that starts with the PNG magic. */
static uint8_t *png_of(size_t n)
{
    uint8_t *p = calloc(1, n);
    memcpy(p, PNG_MAGIC, n < sizeof PNG_MAGIC ? n : sizeof PNG_MAGIC);
    return p;
}

static void test_sniff(void)
{
    static const uint8_t jpg[] = {0xff, 0xd8, 0xff, 0xe0}, gif[] = "GIF89a..", gif7[] = "GIF87a";
    static const uint8_t webp[] = "RIFF\x10\0\0\0WEBPVP8 ", riff[] = "RIFF\x10\0\0\0WAVEfmt ";
    CHECK(strcmp(ms_chat_image_sniff(PNG_MAGIC, sizeof PNG_MAGIC), "image/png") == 0);
    CHECK(strcmp(ms_chat_image_sniff(jpg, sizeof jpg), "image/jpeg") == 0);
    CHECK(strcmp(ms_chat_image_sniff(gif, 8), "image/gif") == 0);
    CHECK(strcmp(ms_chat_image_sniff(gif7, 6), "image/gif") == 0);
    CHECK(strcmp(ms_chat_image_sniff(webp, 16), "image/webp") == 0);
    CHECK(ms_chat_image_sniff(riff, 16) == NULL);
    CHECK(ms_chat_image_sniff(PNG_MAGIC, 7) == NULL); /* every prefix is too short */
    CHECK(ms_chat_image_sniff(webp, 11) == NULL);
    CHECK(ms_chat_image_sniff((const uint8_t *)"%PDF-1.4", 8) == NULL);
    CHECK(ms_chat_image_sniff(NULL, 0) == NULL);
}

static void test_from_url(void)
{
    ms_chat_image im;
    uint8_t *img = png_of(100);
    char *url = data_url("image/png", img, 100);
    size_t len = strlen(url);
    CHECK_OK(ms_chat_image_from_url(url, len, &im));
    CHECK(strcmp(im.mime, "image/png") == 0 && im.b64 == url + 22 && im.b64_len == len - 22);
    /* Cut anywhere: an error, or (at a 4-character boundary of the base64) a shorter image. */
    for (size_t cut = 0; cut < len; cut++) {
        ms_err e = ms_chat_image_from_url(url, cut, &im);
        int aligned = cut > 22 && (cut - 22) % 4 == 0 && (cut - 22) / 4 * 3 >= 9;
        CHECK((e == MS_OK) == aligned && (e == MS_OK || (im.mime == NULL && im.b64 == NULL)));
    }
    /* Another type named than the bytes are; a type not allowed; not base64. */
    char *jpeg = data_url("image/jpeg", img, 100);
    CHECK_ERR(ms_chat_image_from_url(jpeg, strlen(jpeg), &im), MS_ERR_ARG);
    char *svg = data_url("image/svg+xml", img, 100);
    CHECK_ERR(ms_chat_image_from_url(svg, strlen(svg), &im), MS_ERR_ARG);
    static const char *const bad[] = {"data:image/png;base64,", "data:image/png,iVBORw0KGgo=",
                                      "DATA:image/png;base64,iVBORw0KGgoAAAAN",
                                      "data:image/png;base64,iVBORw0KGgoAAAAN\n",
                                      "data:image/png;base64,iVBO Rw0KGgoAAAA",
                                      "https://example.com/x.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(ms_chat_image_from_url(bad[i], strlen(bad[i]), &im) != MS_OK);
    }
    /* Flip each byte of the base64: never accepted as something else silently. */
    for (size_t i = 22; i < len; i++) {
        char keep = url[i];
        url[i] = '*';
        CHECK_ERR(ms_chat_image_from_url(url, len, &im), MS_ERR_BASE64);
        url[i] = keep;
    }
    free(url);
    free(jpeg);
    free(svg);
    free(img);
}

static void test_from_url_caps(void)
{
    ms_chat_image im;
    uint8_t *img = png_of(MS_MAX_CHAT_IMAGE_BYTES + 3);
    char *url = data_url("image/png", img, MS_MAX_CHAT_IMAGE_BYTES);
    CHECK_OK(ms_chat_image_from_url(url, strlen(url), &im));
    free(url);
    for (size_t extra = 1; extra <= 3; extra++) {
        url = data_url("image/png", img, MS_MAX_CHAT_IMAGE_BYTES + extra);
        CHECK_ERR(ms_chat_image_from_url(url, strlen(url), &im), MS_ERR_CAP_EXCEEDED);
        free(url);
    }
    /* Padding is only allowed at the very end, not at the end of an inner decoding slice. */
    url = data_url("image/png", img, 6000);
    size_t len = strlen(url);
    url[22 + 4095] = '=';
    CHECK(ms_chat_image_from_url(url, len, &im) != MS_OK);
    free(url);
    free(img);
}

/* --- the supervisor's decoder ------------------------------------------------------------ */

static ms_err check_json(const char *fmt, const char *url)
{
    ms_buf b;
    ms_buf_init(&b, MS_MAX_JSON_TEXT);
    for (const char *p = fmt; *p; p++) {
        ms_err e = *p == '@' ? ms_buf_append_str(&b, url) : ms_buf_append_u8(&b, (uint8_t)*p);
        CHECK_OK(e);
    }
    ms_err e = ms_bridge_check_request(b.p, b.len);
    ms_buf_free(&b);
    return e;
}

#define IMG "{\"type\":\"image_url\",\"image_url\":{\"url\":\"@\"}}"
#define TXT "{\"type\":\"text\",\"text\":\"look\"}"

static void test_decoder(void)
{
    uint8_t *img = png_of(64);
    char *url = data_url("image/png", img, 64);
    char *gif = data_url("image/gif", (const uint8_t *)"GIF89a\1\0\1\0\0\0", 12);
    static const char *const good[] = {
        "{\"messages\":[{\"role\":\"user\",\"content\":[" TXT "," IMG "]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[" IMG "," TXT "]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[" IMG "]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[" TXT "]}]}",
        "{\"messages\":[{\"role\":\"system\",\"content\":[" TXT "]},{\"role\":\"user\",\"content\":\"x\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[" IMG "]},{\"role\":\"assistant\","
        "\"content\":\"ok\"},{\"role\":\"user\",\"content\":[" TXT "," IMG "," IMG "]}]}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_OK(check_json(good[i], url));
    }
    CHECK_OK(check_json("{\"messages\":[{\"role\":\"user\",\"content\":[" IMG "]}]}", gif));
    static const char *const bad[] = {
        "{\"messages\":[{\"role\":\"user\",\"content\":[]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[" TXT "," TXT "]}]}",
        "{\"messages\":[{\"role\":\"system\",\"content\":[" IMG "]}]}",
        "{\"messages\":[{\"role\":\"assistant\",\"content\":[" IMG "]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\",\"audio\":{}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"no type\"}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":1,\"text\":\"x\"}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\",\"y\":1}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"image_url\":{\"url\":\"@\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":7}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":\"@\"}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"@\",\"detail\":\"low\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":5}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/@\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[\"just a string\"]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[[]]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"x\"}}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":null}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[" TXT "],\"images\":[\"@\"]}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms_err e = check_json(bad[i], url);
        if (e != MS_ERR_PAYLOAD) {
            fprintf(stderr, "  bad[%zu] accepted\n", i);
        }
        CHECK_ERR(e, MS_ERR_PAYLOAD);
    }
    char *jpeg_named = data_url("image/jpeg", img, 64);
    CHECK_ERR(check_json("{\"messages\":[{\"role\":\"user\",\"content\":[" IMG "]}]}", jpeg_named),
              MS_ERR_PAYLOAD);
    free(jpeg_named);
    free(gif);
    free(url);
    free(img);
}

/* Parts per message and images per request, at and over their caps. */
static void test_decoder_caps(void)
{
    uint8_t *img = png_of(16);
    char *url = data_url("image/png", img, 16);
    ms_buf j;
    ms_buf_init(&j, MS_MAX_JSON_TEXT);
    for (unsigned parts = MS_MAX_MSG_PARTS; parts <= MS_MAX_MSG_PARTS + 1; parts++) {
        ms_buf_clear(&j);
        CHECK_OK(ms_buf_append_str(&j, "{\"messages\":[{\"role\":\"user\",\"content\":[" TXT));
        for (unsigned i = 1; i < parts; i++) {
            CHECK_OK(ms_buf_append_str(&j, "," IMG));
        }
        CHECK_OK(ms_buf_append_str(&j, "]}]}"));
        CHECK_OK(ms_buf_terminate(&j));
        CHECK_ERR(check_json((const char *)j.p, url), parts <= MS_MAX_MSG_PARTS ? MS_OK : MS_ERR_PAYLOAD);
    }
    /* Two messages of 9 images: 18 in the request, over MS_MAX_REQUEST_IMAGES. */
    for (unsigned per = 8; per <= 9; per++) {
        ms_buf_clear(&j);
        CHECK_OK(ms_buf_append_str(&j, "{\"messages\":["));
        for (int m = 0; m < 2; m++) {
            CHECK_OK(ms_buf_append_str(&j, m ? ",{\"role\":\"user\",\"content\":[" TXT
                                             : "{\"role\":\"user\",\"content\":[" TXT));
            for (unsigned i = 0; i < per; i++) {
                CHECK_OK(ms_buf_append_str(&j, "," IMG));
            }
            CHECK_OK(ms_buf_append_str(&j, "]}"));
        }
        CHECK_OK(ms_buf_append_str(&j, "]}"));
        CHECK_OK(ms_buf_terminate(&j));
        CHECK_ERR(check_json((const char *)j.p, url), 2 * per <= MS_MAX_REQUEST_IMAGES ? MS_OK : MS_ERR_PAYLOAD);
    }
    ms_buf_free(&j);
    free(url);
    free(img);
}

/* --- the client's builder ------------------------------------------------------------------ */

static void test_builder(void)
{
    uint8_t *img = png_of(40);
    char *url = data_url("image/png", img, 40);
    const char *b64 = url + 22;
    ms_chat_image im = {.mime = "image/png", .b64 = b64, .b64_len = strlen(b64)};
    ms_chat_msg msgs[3] = {
        {.role = "system", .content = "sys", .content_len = 3},
        {.role = "user", .content = "look", .content_len = 4, .images = &im, .n_images = 1},
        {.role = "assistant", .content = "a cat", .content_len = 5},
    };
    ms_buf out;
    ms_buf_init(&out, MS_MAX_RECORD_PLAINTEXT);
    CHECK_OK(ms_client_request_build_msgs(msgs, 3, 100, 0.5, &out));
    CHECK_OK(ms_bridge_check_request(out.p, out.len));
    CHECK_OK(ms_buf_terminate(&out));
    CHECK(strstr((const char *)out.p, "\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
                                      "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,") != NULL);
    CHECK(strstr((const char *)out.p, "\"max_tokens\":100") != NULL);
    size_t len = out.len;
    /* Refusals leave out as it was. */
    msgs[0].images = &im;
    msgs[0].n_images = 1;
    CHECK_ERR(ms_client_request_build_msgs(msgs, 3, 0, -1, &out), MS_ERR_ARG); /* image in system */
    msgs[0].n_images = 0;
    msgs[0].images = NULL;
    msgs[2].role = "tool";
    CHECK_ERR(ms_client_request_build_msgs(msgs, 3, 0, -1, &out), MS_ERR_ARG);
    msgs[2].role = "assistant";
    msgs[2].content = "bad \xff";
    CHECK_ERR(ms_client_request_build_msgs(msgs, 3, 0, -1, &out), MS_ERR_ARG);
    msgs[2].content = "a cat";
    CHECK_ERR(ms_client_request_build_msgs(msgs, 0, 0, -1, &out), MS_ERR_ARG);
    CHECK_ERR(ms_client_request_build_msgs(msgs, MS_MAX_CHAT_MESSAGES + 1, 0, -1, &out), MS_ERR_ARG);
    CHECK(out.len == len);
    ms_buf small;
    ms_buf_init(&small, 64);
    CHECK_ERR(ms_client_request_build_msgs(msgs, 3, 0, -1, &small), MS_ERR_CAP_EXCEEDED);
    CHECK(small.len == 0);
    ms_buf_free(&small);
    ms_buf_free(&out);
    free(url);
    free(img);
}

/* --- the chat's conversation ---------------------------------------------------------------- */

static ms_err request(const ms_conv *c, const char *text, ms_buf *user, ms_buf *req, ms_conv_limit *why)
{
    return ms_conv_request(c, text, strlen(text), 0, -1.0, user, req, why);
}

static void test_conv(void)
{
    ms_conv c;
    ms_buf user, req;
    ms_conv_limit why;
    ms_conv_init(&c);
    ms_buf_init(&user, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    CHECK_OK(ms_conv_set_system(&c, "be brief", 8));
    CHECK_OK(request(&c, "hello", &user, &req, &why));
    CHECK_OK(ms_buf_terminate(&req));
    CHECK(strcmp((const char *)req.p, "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                                      "{\"role\":\"user\",\"content\":\"hello\"}]}") == 0);
    CHECK_OK(ms_conv_commit(&c, &user, "hi there", 8));
    CHECK(c.n == 2 && c.turns == 1);
    /* Attached text goes first in the next message, then it is consumed. */
    CHECK_OK(ms_conv_attach_text(&c, "=== FILE a ===\nA", 16, 1));
    CHECK_OK(ms_conv_attach_text(&c, "=== FILE b ===\nB", 16, 1));
    CHECK(c.n_docs == 2);
    CHECK_OK(ms_conv_attach_image(&c, "x.png", PNG_MAGIC, sizeof PNG_MAGIC));
    CHECK_OK(request(&c, "what?", &user, &req, &why));
    CHECK(strcmp((const char *)user.p, "=== FILE a ===\nA\n\n=== FILE b ===\nB\n\nwhat?") == 0);
    CHECK_OK(ms_bridge_check_request(req.p, req.len));
    CHECK_OK(ms_conv_commit(&c, &user, "two files", 9));
    CHECK(c.n == 4 && c.n_docs == 0 && c.npending == 0 && c.attached.len == 0);
    CHECK(c.msgs[2].nimg == 1 && strcmp(c.msgs[2].imgs[0].name, "x.png") == 0);
    /* The image stays in the conversation: the next request carries it again. */
    CHECK_OK(request(&c, "and now?", &user, &req, &why));
    CHECK_OK(ms_buf_terminate(&req));
    CHECK(strstr((const char *)req.p, "image_url") != NULL);
    /* Not images; too many pending. */
    CHECK_ERR(ms_conv_attach_image(&c, "t.txt", (const uint8_t *)"hello world!", 12), MS_ERR_ARG);
    for (unsigned i = 0; i < MS_MAX_CHAT_PENDING_IMAGES; i++) {
        CHECK_OK(ms_conv_attach_image(&c, "x.png", PNG_MAGIC, sizeof PNG_MAGIC));
    }
    CHECK_ERR(ms_conv_attach_image(&c, "x.png", PNG_MAGIC, sizeof PNG_MAGIC), MS_ERR_CAP_EXCEEDED);
    /* /clear keeps the system message only. */
    ms_conv_clear(&c);
    CHECK(c.n == 0 && c.npending == 0 && c.system != NULL);
    CHECK_OK(ms_conv_set_system(&c, "", 0));
    CHECK(c.system == NULL);
    CHECK_ERR(request(&c, "bad \xff text", &user, &req, &why), MS_ERR_ARG);
    CHECK(why == MS_CONV_BAD_TEXT);
    ms_conv_free(&c);
    ms_buf_free(&user);
    ms_buf_free(&req);
}

static void test_conv_caps(void)
{
    ms_conv c;
    ms_buf user, req;
    ms_conv_limit why;
    ms_conv_init(&c);
    ms_buf_init(&user, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    CHECK_OK(ms_conv_set_system(&c, "s", 1));
    /* Messages: system + 2 per turn + the new one, at most MS_MAX_CHAT_MESSAGES. */
    while (c.n + 2 < MS_MAX_CHAT_MESSAGES) {
        CHECK_OK(request(&c, "q", &user, &req, &why));
        CHECK_OK(ms_conv_commit(&c, &user, "a", 1));
    }
    CHECK(c.n + 2 == MS_MAX_CHAT_MESSAGES);
    CHECK_OK(request(&c, "last one that fits", &user, &req, &why));
    CHECK_OK(ms_conv_commit(&c, &user, "a", 1));
    size_t n = c.n;
    CHECK_ERR(request(&c, "one too many", &user, &req, &why), MS_ERR_CAP_EXCEEDED);
    CHECK(why == MS_CONV_TOO_MANY_MESSAGES && c.n == n && req.len == 0);
    ms_conv_clear(&c);
    /* Bytes: the attachments must fit a record; the whole request must too. */
    char *big = malloc(600u * 1024u);
    memset(big, 'x', 600u * 1024u);
    CHECK_OK(ms_conv_attach_text(&c, big, 600u * 1024u, 1));
    CHECK_ERR(ms_conv_attach_text(&c, big, 600u * 1024u, 1), MS_ERR_CAP_EXCEEDED);
    CHECK(c.attached.len == 600u * 1024u && c.n_docs == 1); /* nothing half-added */
    CHECK_OK(request(&c, "first", &user, &req, &why));
    CHECK_OK(ms_conv_commit(&c, &user, "ok", 2));
    CHECK_OK(ms_conv_attach_text(&c, big, 600u * 1024u, 1));
    CHECK_ERR(request(&c, "second", &user, &req, &why), MS_ERR_CAP_EXCEEDED);
    CHECK(why == MS_CONV_TOO_LARGE && c.n == 2 && c.n_docs == 1); /* nothing dropped */
    free(big);
    ms_conv_free(&c);
    ms_buf_free(&user);
    ms_buf_free(&req);
}

static void test_conv_save(void)
{
    char dir[] = "/tmp/ms-chat-save.XXXXXX", md[64], js[64];
    ms_conv c;
    ms_buf user, req;
    ms_conv_limit why;
    struct stat st;
    ms_conv_meta meta = {.supervisor_url = "https://127.0.0.1:1", .verified = "verified: test", .session = "ab"};
    CHECK(mkdtemp(dir) != NULL);
    snprintf(md, sizeof md, "%s/t.md", dir);
    snprintf(js, sizeof js, "%s/t.json", dir);
    ms_conv_init(&c);
    ms_buf_init(&user, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    CHECK_OK(ms_conv_attach_image(&c, "pic.png", PNG_MAGIC, sizeof PNG_MAGIC));
    CHECK_OK(request(&c, "hello", &user, &req, &why));
    CHECK_OK(ms_conv_commit(&c, &user, "hi", 2));
    CHECK_OK(ms_conv_save(&c, &meta, md, false));
    CHECK(stat(md, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_ERR(ms_conv_save(&c, &meta, md, false), MS_ERR_FILE_OPEN);
    CHECK(errno == EEXIST);
    CHECK(chmod(md, 0644) == 0);
    CHECK_OK(ms_conv_save(&c, &meta, md, true));
    CHECK(stat(md, &st) == 0 && (st.st_mode & 0777) == 0600); /* replaced by a new 0600 file */
    CHECK_OK(ms_conv_save(&c, &meta, js, false));
    FILE *f = fopen(js, "r");
    char text[2048] = "";
    CHECK(f != NULL && fread(text, 1, sizeof text - 1, f) > 0);
    if (f) {
        fclose(f);
    }
    CHECK(strstr(text, "\"images\":[{\"name\":\"pic.png\",\"mime\":\"image/png\",\"bytes\":12}]") != NULL);
    CHECK(strstr(text, "iVBOR") == NULL); /* never the image's bytes */
    unlink(md);
    unlink(js);
    rmdir(dir);
    ms_conv_free(&c);
    ms_buf_free(&user);
    ms_buf_free(&req);
}

int main(void)
{
    RUN(test_sniff);
    RUN(test_from_url);
    RUN(test_from_url_caps);
    RUN(test_decoder);
    RUN(test_decoder_caps);
    RUN(test_builder);
    RUN(test_conv);
    RUN(test_conv_caps);
    RUN(test_conv_save);
    return TEST_SUMMARY();
}

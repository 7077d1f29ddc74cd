/* minions-secure chat: the conversation on the client, the request it makes, the transcript. */
#include "apps/minions-secure/chat_conv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"
#include "common/llm/chat.h"
#include "secure/client/payload.h"

#define DOC_SEP "\n\n"

static char *dup_text(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n > 0) {
            memcpy(d, s, n);
        }
        d[n] = '\0';
    }
    return d;
}

static void free_text(char *s, size_t n)
{
    if (s) {
        ms_wipe(s, n);
        free(s);
    }
}

static void free_img(ms_conv_img *im)
{
    free_text(im->b64, im->b64_len);
    memset(im, 0, sizeof *im);
}

static void free_msg(ms_conv_msg *m)
{
    free_text(m->text, m->len);
    for (size_t i = 0; i < m->nimg; i++) {
        free_img(&m->imgs[i]);
    }
    free(m->imgs);
    memset(m, 0, sizeof *m);
}

void ms_conv_init(ms_conv *c)
{
    memset(c, 0, sizeof *c);
    ms_buf_init(&c->attached, MS_MAX_RECORD_PLAINTEXT);
}

void ms_conv_drop_pending(ms_conv *c)
{
    ms_buf_free(&c->attached);
    c->n_docs = 0;
    for (size_t i = 0; i < c->npending; i++) {
        free_img(&c->pending[i]);
    }
    c->npending = 0;
}

void ms_conv_clear(ms_conv *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free_msg(&c->msgs[i]);
    }
    c->n = 0;
    c->turns = 0;
    ms_conv_drop_pending(c);
}

void ms_conv_free(ms_conv *c)
{
    ms_conv_clear(c);
    free(c->msgs);
    free_text(c->system, c->system_len);
    memset(c, 0, sizeof *c);
}

ms_err ms_conv_set_system(ms_conv *c, const char *text, size_t len)
{
    char *s = NULL;
    if (len > 0) {
        ENSURE(len < MS_MAX_RECORD_PLAINTEXT && memchr(text, '\0', len) == NULL, MS_ERR_ARG);
        s = dup_text(text, len);
        ENSURE(s != NULL, MS_ERR_NOMEM);
    }
    free_text(c->system, c->system_len);
    c->system = s;
    c->system_len = len;
    return MS_OK;
}

ms_err ms_conv_attach_text(ms_conv *c, const char *text, size_t len, size_t docs)
{
    size_t mark = c->attached.len;
    ms_err e = MS_OK;
    if (mark > 0) {
        e = ms_buf_append(&c->attached, DOC_SEP, sizeof DOC_SEP - 1);
    }
    if (e == MS_OK) {
        e = ms_buf_append(&c->attached, text, len);
    }
    if (e != MS_OK) {
        ms_err s = ms_buf_shrink(&c->attached, c->attached.len - mark);
        (void)s; /* cannot fail: mark <= len */
        return e;
    }
    c->n_docs += docs;
    return MS_OK;
}

ms_err ms_conv_attach_image(ms_conv *c, const char *name, const uint8_t *bytes, size_t len)
{
    ms_buf b64;
    const char *mime = ms_chat_image_sniff(bytes, len);
    ENSURE(mime != NULL, MS_ERR_ARG);
    ENSURE(len <= MS_MAX_CHAT_IMAGE_BYTES && c->npending < MS_MAX_CHAT_PENDING_IMAGES,
           MS_ERR_CAP_EXCEEDED);
    ms_buf_init(&b64, MS_BASE64_BUF_LEN(MS_MAX_CHAT_IMAGE_BYTES));
    ms_err e = ms_base64_encode_buf(bytes, len, &b64);
    if (e == MS_OK) {
        e = ms_buf_terminate(&b64);
    }
    if (e != MS_OK) {
        ms_buf_free(&b64);
        return e;
    }
    ms_conv_img *im = &c->pending[c->npending++];
    memset(im, 0, sizeof *im);
    im->mime = mime;
    im->b64 = (char *)b64.p; /* ownership moves to the image */
    im->b64_len = b64.len;
    im->bytes = len;
    snprintf(im->name, sizeof im->name, "%s", name);
    return MS_OK;
}

/* --- the request -------------------------------------------------------------------------- */

static void to_chat_images(const ms_conv_img *src, size_t n, ms_chat_image *dst)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = (ms_chat_image){.mime = src[i].mime, .b64 = src[i].b64, .b64_len = src[i].b64_len};
    }
}

static ms_err compose_user(const ms_conv *c, const char *text, size_t len, ms_buf *user)
{
    ms_buf_clear(user);
    if (c->attached.len > 0) {
        TRY(ms_buf_append(user, c->attached.p, c->attached.len));
        TRY(ms_buf_append(user, DOC_SEP, sizeof DOC_SEP - 1));
    }
    TRY(ms_buf_append(user, text, len));
    return ms_buf_terminate(user);
}

/* msgs[] and imgs[] hold the system message, the history and the new user message. */
static ms_err fill(const ms_conv *c, const ms_buf *user, ms_chat_msg *msgs, ms_chat_image *imgs,
                   size_t *n_out)
{
    size_t n = 0, k = 0;
    if (c->system) {
        msgs[n++] = (ms_chat_msg){.role = "system", .content = c->system, .content_len = c->system_len};
    }
    for (size_t i = 0; i < c->n; i++) {
        const ms_conv_msg *m = &c->msgs[i];
        msgs[n] = (ms_chat_msg){.role = m->role, .content = m->text, .content_len = m->len};
        if (m->nimg > 0) {
            to_chat_images(m->imgs, m->nimg, &imgs[k]);
            msgs[n].images = &imgs[k];
            msgs[n].n_images = m->nimg;
            k += m->nimg;
        }
        n++;
    }
    msgs[n] = (ms_chat_msg){.role = "user", .content = (const char *)user->p, .content_len = user->len};
    if (c->npending > 0) {
        to_chat_images(c->pending, c->npending, &imgs[k]);
        msgs[n].images = &imgs[k];
        msgs[n].n_images = c->npending;
    }
    *n_out = n + 1;
    return MS_OK;
}

static size_t count_images(const ms_conv *c)
{
    size_t k = c->npending;
    for (size_t i = 0; i < c->n; i++) {
        k += c->msgs[i].nimg;
    }
    return k;
}

ms_err ms_conv_request(const ms_conv *c, const char *text, size_t len, long max_tokens,
                       double temperature, ms_buf *user, ms_buf *req, ms_conv_limit *why)
{
    size_t n = 0, nimg = count_images(c), total = c->n + 1 + (c->system ? 1 : 0);
    *why = MS_CONV_FITS;
    ms_buf_clear(req);
    if (total > MS_MAX_CHAT_MESSAGES || nimg > MS_MAX_REQUEST_IMAGES) {
        *why = MS_CONV_TOO_MANY_MESSAGES;
        return MS_ERR_CAP_EXCEEDED;
    }
    ms_err e = compose_user(c, text, len, user);
    if (e != MS_OK) {
        *why = e == MS_ERR_CAP_EXCEEDED ? MS_CONV_TOO_LARGE : MS_CONV_FITS;
        return e;
    }
    ms_chat_msg *msgs = calloc(total, sizeof *msgs);
    ms_chat_image *imgs = calloc(nimg > 0 ? nimg : 1, sizeof *imgs);
    e = msgs && imgs ? fill(c, user, msgs, imgs, &n) : MS_ERR_NOMEM;
    if (e == MS_OK) {
        e = ms_client_request_build_msgs(msgs, n, max_tokens, temperature, req);
    }
    free(msgs);
    free(imgs);
    if (e == MS_ERR_CAP_EXCEEDED) {
        *why = MS_CONV_TOO_LARGE;
    } else if (e == MS_ERR_ARG) {
        *why = MS_CONV_BAD_TEXT;
    }
    return e;
}

static ms_err grow(ms_conv *c)
{
    if (c->n + 2 <= c->cap) {
        return MS_OK;
    }
    size_t cap = c->cap ? 2 * c->cap : 16;
    ENSURE(cap <= 2 * MS_MAX_CHAT_MESSAGES, MS_ERR_CAP_EXCEEDED);
    ms_conv_msg *m = realloc(c->msgs, cap * sizeof *m); /* pointers only: no text moves */
    ENSURE(m != NULL, MS_ERR_NOMEM);
    c->msgs = m;
    c->cap = cap;
    return MS_OK;
}

ms_err ms_conv_commit(ms_conv *c, const ms_buf *user, const char *reply, size_t reply_len)
{
    ms_conv_msg u = {.role = "user"}, a = {.role = "assistant"};
    TRY(grow(c));
    u.text = dup_text((const char *)user->p, user->len);
    u.len = user->len;
    a.text = dup_text(reply, reply_len);
    a.len = reply_len;
    if (c->npending > 0) {
        u.imgs = calloc(c->npending, sizeof *u.imgs);
    }
    if (!u.text || !a.text || (c->npending > 0 && !u.imgs)) {
        free_msg(&u);
        free_msg(&a);
        return MS_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->npending; i++) {
        u.imgs[i] = c->pending[i]; /* moved: the pending slot no longer owns it */
        memset(&c->pending[i], 0, sizeof c->pending[i]);
    }
    u.nimg = c->npending;
    c->npending = 0;
    ms_buf_free(&c->attached);
    c->n_docs = 0;
    c->msgs[c->n++] = u;
    c->msgs[c->n++] = a;
    c->turns++;
    return MS_OK;
}

/* --- the transcript ----------------------------------------------------------------------- */

static void utc_now(char out[static 32])
{
    struct tm tm;
    time_t t = time(NULL);
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "unknown");
    }
}

static ms_err md_section(ms_buf *b, const char *role, const char *text, size_t len,
                         const ms_conv_img *imgs, size_t nimg)
{
    char line[400];
    TRY(ms_buf_append_str(b, "\n## "));
    TRY(ms_buf_append_str(b, role));
    TRY(ms_buf_append_str(b, "\n\n"));
    TRY(ms_buf_append(b, text, len));
    TRY(ms_buf_append_str(b, "\n"));
    for (size_t i = 0; i < nimg; i++) {
        snprintf(line, sizeof line, "\n[image: %s, %s, %zu bytes]\n", imgs[i].name, imgs[i].mime,
                 imgs[i].bytes);
        TRY(ms_buf_append_str(b, line));
    }
    return MS_OK;
}

static ms_err markdown(const ms_conv *c, const ms_conv_meta *m, ms_buf *b)
{
    char when[32];
    utc_now(when);
    TRY(ms_buf_append_str(b, "# minions-secure chat transcript\n\n- supervisor: "));
    TRY(ms_buf_append_str(b, m->supervisor_url ? m->supervisor_url : "?"));
    TRY(ms_buf_append_str(b, "\n- session: "));
    TRY(ms_buf_append_str(b, m->session ? m->session : "?"));
    TRY(ms_buf_append_str(b, "\n- "));
    TRY(ms_buf_append_str(b, m->verified ? m->verified : "not verified"));
    TRY(ms_buf_append_str(b, "\n- saved: "));
    TRY(ms_buf_append_str(b, when));
    TRY(ms_buf_append_str(b, "\n"));
    if (c->system) {
        TRY(md_section(b, "system", c->system, c->system_len, NULL, 0));
    }
    for (size_t i = 0; i < c->n; i++) {
        const ms_conv_msg *x = &c->msgs[i];
        TRY(md_section(b, x->role, x->text, x->len, x->imgs, x->nimg));
    }
    return MS_OK;
}

static ms_err json_msg(ms_json_wval arr, const char *role, const char *text, size_t len,
                       const ms_conv_img *imgs, size_t nimg)
{
    ms_json_wval m, ia, im;
    TRY(ms_json_add_obj(arr, NULL, &m));
    TRY(ms_json_add_cstr(m, "role", role));
    TRY(ms_json_add_str(m, "content", text, len));
    if (nimg == 0) {
        return MS_OK;
    }
    TRY(ms_json_add_arr(m, "images", &ia));
    for (size_t i = 0; i < nimg; i++) {
        TRY(ms_json_add_obj(ia, NULL, &im));
        TRY(ms_json_add_cstr(im, "name", imgs[i].name));
        TRY(ms_json_add_cstr(im, "mime", imgs[i].mime));
        TRY(ms_json_add_u64(im, "bytes", imgs[i].bytes));
    }
    return MS_OK;
}

static ms_err json_fields(const ms_conv *c, const ms_conv_meta *m, ms_json_wval root)
{
    char when[32];
    ms_json_wval arr;
    utc_now(when);
    TRY(ms_json_add_cstr(root, "format", "minions-secure-chat-transcript/1"));
    TRY(ms_json_add_cstr(root, "supervisor_url", m->supervisor_url ? m->supervisor_url : ""));
    TRY(ms_json_add_cstr(root, "session", m->session ? m->session : ""));
    TRY(ms_json_add_cstr(root, "verified", m->verified ? m->verified : ""));
    TRY(ms_json_add_cstr(root, "saved", when));
    TRY(ms_json_add_arr(root, "messages", &arr));
    if (c->system) {
        TRY(json_msg(arr, "system", c->system, c->system_len, NULL, 0));
    }
    for (size_t i = 0; i < c->n; i++) {
        const ms_conv_msg *x = &c->msgs[i];
        TRY(json_msg(arr, x->role, x->text, x->len, x->imgs, x->nimg));
    }
    return MS_OK;
}

static ms_err json_text(const ms_conv *c, const ms_conv_meta *m, ms_buf *b)
{
    ms_json_builder *jb;
    ms_json_wval root;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &jb, &root));
    ms_err e = json_fields(c, m, root);
    if (e == MS_OK) {
        e = ms_json_builder_print(jb, b);
    }
    ms_json_builder_free(jb);
    return e == MS_OK ? ms_buf_append_u8(b, '\n') : e;
}

/* A new 0600 file: O_EXCL at `path`, or (force) a temporary file renamed over it. */
static ms_err write_file(const char *path, const ms_buf *b, bool force)
{
    char tmp[4096];
    if (!force) {
        return ms_file_write_new(path, b->p, b->len, 0600);
    }
    ENSURE(snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) < (int)sizeof tmp, MS_ERR_FILE_OPEN);
    int fd = mkstemp(tmp); /* 0600 */
    ENSURE(fd >= 0, MS_ERR_FILE_OPEN);
    ms_err e = ms_file_write_all(fd, b->p, b->len);
    if (e == MS_OK && fsync(fd) != 0) {
        e = MS_ERR_IO;
    }
    int saved = errno;
    if (close(fd) != 0 && e == MS_OK) {
        e = MS_ERR_IO;
    }
    if (e == MS_OK && rename(tmp, path) != 0) {
        saved = errno;
        e = MS_ERR_FILE_OPEN;
    }
    if (e != MS_OK) {
        if (unlink(tmp) != 0) {
            /* nothing more to do: the error below says the save failed */
        }
        errno = saved;
    }
    return e;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

ms_err ms_conv_save(const ms_conv *c, const ms_conv_meta *meta, const char *path, bool force)
{
    ms_buf b;
    ms_buf_init(&b, MS_MAX_JSON_TEXT);
    ms_err e = ends_with(path, ".json") ? json_text(c, meta, &b) : markdown(c, meta, &b);
    if (e == MS_OK) {
        e = write_file(path, &b, force);
    }
    int saved = errno;
    ms_buf_free(&b);
    errno = saved;
    return e;
}

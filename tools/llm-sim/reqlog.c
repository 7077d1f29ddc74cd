/* llm-sim's request log: builds each line with the JSON builder, writes it in one append. */
#include "tools/llm-sim/reqlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/codec.h"
#include "common/json.h"
#include "tools/llm-sim/llmsim.h"

#define LINE_MAX_BYTES (2u * LLMSIM_MAX_BODY + 4096u) /* room for a base64 body */

struct llmsim_reqlog {
    int fd;
    pthread_mutex_t lock;
    bool failed; /* reported once */
};

/* How the body goes into the line; tried in this order until one can be built. */
typedef enum body_mode {
    BODY_JSON,
    BODY_STRING,
    BODY_BASE64,
} body_mode;

typedef struct entry {
    const char *method, *path;
    const uint8_t *body;
    size_t len;
    uint64_t received;
    bool too_large;
    const ms_json_doc *doc; /* NULL when the body is not JSON */
} entry;

static ms_err add_body(ms_json_wval root, const entry *e, body_mode mode, ms_buf *scratch)
{
    if (e->too_large) {
        TRY(ms_json_add_null(root, "body"));
        TRY(ms_json_add_bool(root, "body_too_large", true));
        return ms_json_add_u64(root, "body_bytes", e->received);
    }
    if (mode == BODY_JSON) {
        ENSURE(e->doc != NULL, MS_ERR_JSON_PARSE);
        return ms_json_add_value(root, "body", ms_json_root(e->doc));
    }
    if (mode == BODY_STRING) {
        return ms_json_add_str(root, "body", (const char *)e->body, e->len);
    }
    TRY(ms_json_add_null(root, "body"));
    TRY(ms_base64_encode_buf(e->body, e->len, scratch));
    return ms_json_add_str(root, "body_base64", (const char *)scratch->p, scratch->len);
}

static ms_err add_fields(ms_json_wval root, const entry *e, body_mode mode, ms_buf *scratch)
{
    struct timespec ts;
    ENSURE(clock_gettime(CLOCK_REALTIME, &ts) == 0, MS_ERR_INTERNAL);
    TRY(ms_json_add_double(root, "ts", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9));
    TRY(ms_json_add_cstr(root, "method", e->method));
    /* MHD percent-decodes the path, so it may not be UTF-8: then it is logged as "". */
    if (ms_json_add_cstr(root, "path", e->path) != MS_OK) {
        TRY(ms_json_add_cstr(root, "path", ""));
    }
    return add_body(root, e, mode, scratch);
}

static ms_err build_line(const entry *e, body_mode mode, ms_buf *line)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_buf scratch;
    ms_buf_init(&scratch, LINE_MAX_BYTES);
    ms_err err = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (err == MS_OK) {
        err = add_fields(root, e, mode, &scratch);
    }
    if (err == MS_OK) {
        err = ms_json_builder_print(b, line);
    }
    if (err == MS_OK) {
        err = ms_buf_append_u8(line, '\n');
    }
    ms_json_builder_free(b);
    ms_buf_free(&scratch);
    return err;
}

static ms_err write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(w > 0, MS_ERR_IO);
        p += w;
        n -= (size_t)w;
    }
    return MS_OK;
}

ms_err llmsim_reqlog_open(const char *path, llmsim_reqlog **out)
{
    *out = NULL;
    llmsim_reqlog *l = calloc(1, sizeof *l);
    ENSURE(l != NULL, MS_ERR_NOMEM);
    l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0 || pthread_mutex_init(&l->lock, NULL) != 0) {
        if (l->fd >= 0) {
            close(l->fd);
        }
        free(l);
        return MS_ERR_FILE_OPEN;
    }
    *out = l;
    return MS_OK;
}

void llmsim_reqlog_write(llmsim_reqlog *l, const char *method, const char *path,
                         const uint8_t *body, size_t len, uint64_t received, bool too_large)
{
    if (l == NULL) {
        return;
    }
    entry e = {.method = method, .path = path, .body = body, .len = len,
               .received = received, .too_large = too_large, .doc = NULL};
    ms_json_doc *doc = NULL;
    if (!too_large && ms_json_parse((const char *)body, len, &doc) == MS_OK) {
        e.doc = doc;
    }
    ms_buf line;
    ms_buf_init(&line, LINE_MAX_BYTES);
    ms_err err = MS_ERR_INTERNAL;
    for (int mode = BODY_JSON; mode <= BODY_BASE64 && err != MS_OK; mode++) {
        ms_buf_clear(&line);
        err = build_line(&e, (body_mode)mode, &line);
    }
    ms_json_free(doc);
    pthread_mutex_lock(&l->lock);
    if (err == MS_OK) {
        err = write_all(l->fd, line.p, line.len);
    }
    if (err != MS_OK && !l->failed) {
        l->failed = true;
        fprintf(stderr, "llm-sim: cannot write the request log: %s\n", ms_err_str(err));
    }
    pthread_mutex_unlock(&l->lock);
    ms_buf_free(&line);
}

void llmsim_reqlog_close(llmsim_reqlog *l)
{
    if (l == NULL) {
        return;
    }
    close(l->fd);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* The user's private documents: files and directory trees read into one bounded context. */
#include "protocols/context.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/check.h"
#include "protocols/context_pdf.h"

#define READ_CHUNK 65536u
#define HEAD_MAX 4200u /* bytes of one document's header line in the joined text */

/* Bounds of one walk beyond the documents themselves (entries looked at, names kept). */
#define MAX_ENTRIES_FACTOR 4u

typedef struct walk {
    ms_context *c;
    char *why;
    size_t why_cap;
    size_t seen; /* visible directory entries looked at, all directories together */
} walk;

static const char *const MD_EXT[] = {"md", "markdown", NULL};
static const char *const CODE_EXT[] = {"c",  "h",     "cc",  "cpp", "cxx", "hpp",  "hh",  "py",
                                       "js", "mjs",   "ts",  "jsx", "tsx", "go",   "rs",  "java",
                                       "kt", "scala", "cs",  "rb",  "php", "pl",   "lua", "sh",
                                       "bash", "zsh", "ps1", "sql", "swift", "r",  "m",   "mm",
                                       "yara", "yar", "rules", NULL};

static void say(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(walk *w, const char *fmt, ...)
{
    if (!w->why || w->why_cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, w->why_cap, fmt, ap);
    va_end(ap);
}

const char *ms_doc_kind_name(ms_doc_kind k)
{
    switch (k) {
    case MS_DOC_TEXT: return "text";
    case MS_DOC_MARKDOWN: return "markdown";
    case MS_DOC_CODE: return "code";
    case MS_DOC_PDF: return "PDF";
    }
    return "?";
}

void ms_context_init(ms_context *c)
{
    memset(c, 0, sizeof *c);
    c->max_bytes = MS_MAX_CONTEXT_BYTES;
    c->max_files = MS_MAX_CONTEXT_FILES;
}

void ms_context_free(ms_context *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->docs[i].name);
    }
    free(c->docs);
    ms_wipe(c->buf, c->buf_len); /* the documents' text, loaded or joined */
    free(c->buf);
    for (size_t i = 0; i < c->n_skipped; i++) {
        free(c->skipped[i].name);
    }
    free(c->skipped);
    ms_context_init(c);
}

/* --- kinds and text checks ------------------------------------------------------------------ */

static int ext_is(const char *ext, const char *const *list)
{
    for (; *list; list++) {
        size_t i = 0;
        for (; ext[i] && (*list)[i]; i++) {
            char a = ext[i] >= 'A' && ext[i] <= 'Z' ? (char)(ext[i] - 'A' + 'a') : ext[i];
            if (a != (*list)[i]) {
                break;
            }
        }
        if (ext[i] == '\0' && (*list)[i] == '\0') {
            return 1;
        }
    }
    return 0;
}

/* The kind an extension names; an unknown one is text (its bytes are checked later). */
static ms_doc_kind kind_of(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) {
        return MS_DOC_TEXT;
    }
    const char *ext = dot + 1;
    if (ext_is(ext, (const char *const[]){"pdf", NULL})) {
        return MS_DOC_PDF;
    }
    if (ext_is(ext, MD_EXT)) {
        return MS_DOC_MARKDOWN;
    }
    return ext_is(ext, CODE_EXT) ? MS_DOC_CODE : MS_DOC_TEXT;
}

ms_doc_kind ms_doc_kind_of_name(const char *name)
{
    return kind_of(name);
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) and no NUL byte. */
int ms_context_text_ok(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        if (b == 0) {
            return 0;
        }
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t min, cp;
        if ((b & 0xE0) == 0xC0) {
            len = 2, min = 0x80, cp = b & 0x1Fu;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, min = 0x800, cp = b & 0x0Fu;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, cp = b & 0x07u;
        } else {
            return 0;
        }
        if (n - i < len) {
            return 0;
        }
        for (size_t j = 1; j < len; j++) {
            if ((p[i + j] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (p[i + j] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        i += len;
    }
    return 1;
}

/* --- documents ----------------------------------------------------------------------------- */

/*
 * Room for `need` more bytes in the context's buffer. The first call reserves what the caps
 * allow (a malloc this large is a mapping of its own: its pages cost memory once written),
 * so the buffer normally never moves; only caps raised after the first document can make
 * it grow (a copy, the old one wiped, the documents' pointers moved over).
 */
static ms_err room(ms_context *c, size_t need)
{
    ENSURE(!c->joined, MS_ERR_ARG);
    if (c->buf_cap - c->buf_len >= need) {
        return MS_OK;
    }
    ENSURE(need <= SIZE_MAX / 4 - c->buf_len, MS_ERR_CAP_EXCEEDED);
    size_t want = c->buf_len + need;
    if (c->buf == NULL) {
        size_t all = c->max_bytes < SIZE_MAX / 8 && c->max_files < SIZE_MAX / 8 / (HEAD_MAX + 2u)
                         ? c->max_bytes + c->max_files * (HEAD_MAX + 2u) + 1u
                         : 0;
        want = want > all ? want : all;
    } else {
        want = want > 2 * c->buf_cap ? want : 2 * c->buf_cap;
    }
    char *nb = malloc(want);
    ENSURE(nb != NULL, MS_ERR_NOMEM);
    if (c->buf != NULL) {
        memcpy(nb, c->buf, c->buf_len);
        for (size_t i = 0; i < c->n; i++) {
            c->docs[i].text = nb + (c->docs[i].text - c->buf);
        }
        ms_wipe(c->buf, c->buf_len);
        free(c->buf);
    }
    c->buf = nb;
    c->buf_cap = want;
    return MS_OK;
}

/*
 * The document whose len bytes of text were just written at the end of the buffer (room
 * was made for them and their NUL). On an error they are wiped and the buffer is as it was.
 */
static ms_err add_doc(ms_context *c, const char *name, ms_doc_kind kind, size_t len,
                      uint32_t pages)
{
    char *text = c->buf + c->buf_len;
    char *nm = strdup(name);
    ms_doc *docs = nm ? realloc(c->docs, (c->n + 1) * sizeof *docs) : NULL;
    if (docs == NULL) {
        free(nm);
        ms_wipe(text, len);
        return MS_ERR_NOMEM;
    }
    c->docs = docs;
    text[len] = '\0';
    ms_doc *d = &c->docs[c->n++];
    d->name = nm;
    d->kind = kind;
    d->len = len;
    d->text = text;
    d->pages = pages;
    c->total += len;
    c->buf_len += len + 1;
    return MS_OK;
}

/* Text held elsewhere (a PDF's, a caller's) copied to the end of the buffer as a document. */
static ms_err add_copy(ms_context *c, const char *name, ms_doc_kind kind, const void *text,
                       size_t len, uint32_t pages)
{
    TRY(room(c, len + 1));
    if (len > 0) {
        memcpy(c->buf + c->buf_len, text, len);
    }
    return add_doc(c, name, kind, len, pages);
}

static ms_err add_skip(ms_context *c, const char *name, const char *reason)
{
    ms_context_skip *s = realloc(c->skipped, (c->n_skipped + 1) * sizeof *s);
    ENSURE(s, MS_ERR_NOMEM);
    c->skipped = s;
    char *nm = strdup(name);
    ENSURE(nm, MS_ERR_NOMEM);
    c->skipped[c->n_skipped].name = nm;
    c->skipped[c->n_skipped].reason = reason;
    c->n_skipped++;
    return MS_OK;
}

/* Read fd into dst[0..cap) until its end or cap is full; *n bytes were read (on errors too). */
static ms_err read_span(int fd, uint8_t *dst, size_t cap, size_t *n)
{
    *n = 0;
    while (*n < cap) {
        size_t want = cap - *n < READ_CHUNK ? cap - *n : READ_CHUNK;
        ssize_t got = read(fd, dst + *n, want);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(got >= 0, MS_ERR_IO);
        if (got == 0) {
            break;
        }
        *n += (size_t)got;
    }
    return MS_OK;
}

/* After a full read_span: is that the end? *more: 1 and the next byte in *byte if not. */
static ms_err probe_end(int fd, uint8_t *byte, int *more)
{
    ssize_t got;
    do {
        got = read(fd, byte, 1);
    } while (got < 0 && errno == EINTR);
    ENSURE(got >= 0, MS_ERR_IO);
    *more = got == 1;
    return MS_OK;
}

/*
 * Read all of fd (a regular file of about `hint` bytes) into b, refusing more than b's cap.
 * The size is a hint only: the file may grow or shrink while it is read. b is reserved to
 * the hint once; it grows only for a file that grew since.
 */
static ms_err read_all(int fd, ms_buf *b, uint64_t hint)
{
    size_t want = hint < b->max ? (size_t)hint : b->max;
    for (;;) {
        uint8_t *at, next = 0;
        size_t n = 0;
        int more = 0;
        want = want ? want : (b->max - b->len < READ_CHUNK ? b->max - b->len : READ_CHUNK);
        if (want > 0) {
            TRY(ms_buf_extend(b, want, &at));
            ms_err e = read_span(fd, at, want, &n);
            TRY(ms_buf_shrink(b, want - n));
            TRY(e);
            if (n < want) {
                return MS_OK;
            }
        }
        TRY(probe_end(fd, &next, &more));
        if (!more) {
            return MS_OK;
        }
        ms_err e = b->len < b->max ? ms_buf_append_u8(b, next) : MS_ERR_CAP_EXCEEDED;
        ms_wipe(&next, 1);
        TRY(e);
        want = 0;
    }
}

static int cap_left(const ms_context *c, size_t *left)
{
    *left = c->total < c->max_bytes ? c->max_bytes - c->total : 0;
    return *left > 0;
}

/* A PDF's text (pdf, len: the file's bytes) as a document. */
static ms_err add_pdf_bytes(ms_context *c, const char *name, const uint8_t *pdf, size_t len,
                            char *why, size_t why_cap)
{
    ms_buf text;
    uint32_t pages = 0;
    size_t left;
    cap_left(c, &left);
    ms_buf_init(&text, left);
    ms_err err = ms_context_pdf_text(pdf, len, &text, &pages, why, why_cap, name, c->max_bytes);
    if (err == MS_OK) {
        err = add_copy(c, name, MS_DOC_PDF, text.p, text.len, pages);
    }
    ms_buf_free(&text);
    return err;
}

/* A PDF file: its bytes (at most MS_MAX_CONTEXT_FILE) for a moment, its text kept. */
static ms_err add_pdf_fd(walk *w, int fd, const char *name, const struct stat *st)
{
    ms_buf raw;
    if ((uint64_t)st->st_size > MS_MAX_CONTEXT_FILE) {
        say(w, "%s: larger than %u MiB (the cap on one file)", name, MS_MAX_CONTEXT_FILE >> 20);
        return MS_ERR_CAP_EXCEEDED;
    }
    ms_buf_init(&raw, MS_MAX_CONTEXT_FILE);
    ms_err err = read_all(fd, &raw, (uint64_t)st->st_size);
    if (err == MS_ERR_CAP_EXCEEDED) {
        say(w, "%s: larger than %u MiB (the cap on one file)", name, MS_MAX_CONTEXT_FILE >> 20);
    } else if (err != MS_OK) {
        say(w, "%s: cannot read: %s", name, strerror(errno));
    } else {
        err = add_pdf_bytes(w->c, name, raw.p, raw.len, w->why, w->why_cap);
    }
    ms_buf_free(&raw);
    return err;
}

/*
 * A text file, read straight into the context's buffer (no copy): checked there, kept or
 * wiped. `named`: the user named this file itself (then text that is not UTF-8 is an
 * error, not a skip).
 */
static ms_err add_text_fd(walk *w, int fd, const char *name, ms_doc_kind kind, int named)
{
    ms_context *c = w->c;
    size_t left, n = 0;
    uint8_t next = 0;
    int more = 0, keep = 0;
    cap_left(c, &left);
    TRY(room(c, left + 1));
    uint8_t *at = (uint8_t *)c->buf + c->buf_len;
    ms_err err = read_span(fd, at, left, &n);
    if (err == MS_OK && n == left) { /* full: only the end of the file may come now */
        err = probe_end(fd, &next, &more);
        err = err == MS_OK && more ? MS_ERR_CAP_EXCEEDED : err;
        ms_wipe(&next, 1);
    }
    if (err == MS_ERR_CAP_EXCEEDED) {
        say(w, "%s: the documents together exceed %zu bytes of text (the context cap)", name,
            c->max_bytes);
        goto out;
    }
    if (err != MS_OK) {
        say(w, "%s: cannot read: %s", name, strerror(errno));
        goto out;
    }
    size_t skip = n >= 3 && at[0] == 0xEF && at[1] == 0xBB && at[2] == 0xBF ? 3 : 0;
    if (!ms_context_text_ok(at + skip, n - skip)) {
        const char *reason = memchr(at, 0, n) ? "binary (contains NUL bytes)" : "not UTF-8 text";
        if (named) {
            say(w, "%s: %s; convert it to UTF-8 (e.g. iconv) or leave it out", name, reason);
            ENSURE_OUT(0, MS_ERR_FILE_FORMAT);
        }
        TRY_OUT(add_skip(c, name, reason));
        goto out;
    }
    if (skip) {
        memmove(at, at + skip, n - skip);
        ms_wipe(at + n - skip, skip);
        n -= skip;
    }
    err = add_doc(c, name, kind, n, 0); /* it wipes the text itself if it fails */
    keep = 1;
out:
    if (!keep) {
        ms_wipe(at, n);
    }
    return err;
}

/*
 * One regular file, open as fd (closed here). `named`: the user named this file itself
 * (then text that is not UTF-8 is an error, not a skip).
 */
static ms_err add_file_fd(walk *w, int fd, const char *name, int named)
{
    ms_context *c = w->c;
    ms_err err = MS_OK;
    struct stat st;
    ms_doc_kind kind = kind_of(name);
    ENSURE_OUT(fstat(fd, &st) == 0, MS_ERR_IO);
    if (!S_ISREG(st.st_mode)) {
        if (named) {
            say(w, "%s: not a regular file", name);
            ENSURE_OUT(0, MS_ERR_FILE_OPEN);
        }
        TRY_OUT(add_skip(c, name, "not a regular file"));
        goto out;
    }
    if (c->n >= c->max_files) {
        say(w, "%s: more than %zu documents (the cap on files in one context)", name,
            c->max_files);
        ENSURE_OUT(0, MS_ERR_CAP_EXCEEDED);
    }
    err = kind == MS_DOC_PDF ? add_pdf_fd(w, fd, name, &st)
                             : add_text_fd(w, fd, name, kind, named);
out:
    close(fd);
    return err;
}

/* --- directories ----------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* The visible (not hidden) names in a directory, sorted by bytes. Takes dfd (a dup is read). */
static ms_err list_dir(walk *w, int dfd, const char *path, char ***out, size_t *out_n)
{
    size_t limit = w->c->max_files * MAX_ENTRIES_FACTOR, n = 0;
    char **names = NULL;
    ms_err err = MS_OK;
    *out = NULL;
    *out_n = 0;
    int fd2 = dup(dfd);
    ENSURE(fd2 >= 0, MS_ERR_IO);
    DIR *d = fdopendir(fd2);
    if (!d) {
        close(fd2);
        return MS_ERR_IO;
    }
    for (struct dirent *e; (errno = 0, e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') {
            continue; /* ".", ".." and hidden entries (.git, .env, ...) */
        }
        if (++w->seen > limit) {
            say(w, "%s: more than %zu entries under the directories given", path, limit);
            ENSURE_OUT(0, MS_ERR_CAP_EXCEEDED);
        }
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        ENSURE_OUT(nn, MS_ERR_NOMEM);
        names = nn;
        ENSURE_OUT((names[n] = strdup(e->d_name)) != NULL, MS_ERR_NOMEM);
        n++;
    }
    ENSURE_OUT(errno == 0, MS_ERR_IO);
    if (n > 1) { /* an empty folder leaves names NULL: qsort must not be given it */
        qsort(names, n, sizeof *names, by_name);
    }
out:
    closedir(d);
    if (err != MS_OK) {
        free_names(names, n);
        return err;
    }
    *out = names;
    *out_n = n;
    return MS_OK;
}

static ms_err walk_dir(walk *w, int dfd, const char *path, unsigned depth);

static ms_err walk_entry(walk *w, int dfd, const char *dir, const char *nm, unsigned depth)
{
    char path[4096];
    struct stat st;
    int k = snprintf(path, sizeof path, "%s/%s", dir, nm);
    if (k < 0 || (size_t)k >= sizeof path) {
        say(w, "%s: a path under it is too long", dir);
        return MS_ERR_CAP_EXCEEDED;
    }
    if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        say(w, "%s: cannot read: %s", path, strerror(errno));
        return MS_ERR_FILE_OPEN;
    }
    if (S_ISLNK(st.st_mode)) {
        return add_skip(w->c, path, "symbolic link (not followed)");
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth + 1 > MS_MAX_CONTEXT_DEPTH) {
            say(w, "%s: directories nested deeper than %u levels", path, MS_MAX_CONTEXT_DEPTH);
            return MS_ERR_CAP_EXCEEDED;
        }
        int sub = openat(dfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            say(w, "%s: cannot open: %s", path, strerror(errno));
            return MS_ERR_FILE_OPEN;
        }
        ms_err e = walk_dir(w, sub, path, depth + 1);
        close(sub);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        return add_skip(w->c, path, "not a regular file");
    }
    int fd = openat(dfd, nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        say(w, "%s: cannot open: %s", path, strerror(errno));
        return MS_ERR_FILE_OPEN;
    }
    return add_file_fd(w, fd, path, 0);
}

static ms_err walk_dir(walk *w, int dfd, const char *path, unsigned depth)
{
    char **names;
    size_t n;
    ms_err e = list_dir(w, dfd, path, &names, &n);
    if (e == MS_ERR_IO) {
        say(w, "%s: cannot list the directory: %s", path, strerror(errno));
    }
    for (size_t i = 0; e == MS_OK && i < n; i++) {
        e = walk_entry(w, dfd, path, names[i], depth);
    }
    free_names(names, n);
    return e;
}

/* --- the API ------------------------------------------------------------------------------- */

ms_err ms_context_add(ms_context *c, const char *path, char *why, size_t why_cap)
{
    walk w = {.c = c, .why = why, .why_cap = why_cap};
    char dir[4096];
    if (why && why_cap) {
        why[0] = '\0';
    }
    ENSURE(c && path && path[0] && !c->joined, MS_ERR_ARG);
    /* The user named this path: a symbolic link here is followed (it is their choice). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        say(&w, "%s: cannot open: %s", path, strerror(errno));
        return MS_ERR_FILE_OPEN;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        say(&w, "%s: cannot read: %s", path, strerror(errno));
        return MS_ERR_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        return add_file_fd(&w, fd, path, 1);
    }
    /* Names under it are "DIR/relative/path", DIR as given without trailing slashes. */
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') {
        len--;
    }
    if (len >= sizeof dir) {
        close(fd);
        say(&w, "%s: path too long", path);
        return MS_ERR_CAP_EXCEEDED;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';
    ms_err e = walk_dir(&w, fd, strcmp(dir, "/") == 0 ? "" : dir, 0);
    close(fd);
    return e;
}

ms_err ms_context_add_text(ms_context *c, const char *name, ms_doc_kind kind, const char *text,
                           size_t len, char *why, size_t why_cap)
{
    walk w = {.c = c, .why = why, .why_cap = why_cap};
    size_t left;
    if (why && why_cap) {
        why[0] = '\0';
    }
    ENSURE(c && name && (text || len == 0) && kind != MS_DOC_PDF && !c->joined, MS_ERR_ARG);
    if (c->n >= c->max_files) {
        say(&w, "%s: more than %zu documents (the cap on files in one context)", name,
            c->max_files);
        return MS_ERR_CAP_EXCEEDED;
    }
    if (!ms_context_text_ok((const uint8_t *)text, len)) {
        say(&w, "%s: not UTF-8 text (or it contains NUL)", name);
        return MS_ERR_FILE_FORMAT;
    }
    cap_left(c, &left);
    if (len > left) {
        say(&w, "%s: the documents together exceed %zu bytes of text (the context cap)", name,
            c->max_bytes);
        return MS_ERR_CAP_EXCEEDED;
    }
    return add_copy(c, name, kind, text, len, 0);
}

ms_err ms_context_add_pdf(ms_context *c, const char *name, const uint8_t *pdf, size_t len,
                          char *why, size_t why_cap)
{
    walk w = {.c = c, .why = why, .why_cap = why_cap};
    if (why && why_cap) {
        why[0] = '\0';
    }
    ENSURE(c && name && (pdf || len == 0) && !c->joined, MS_ERR_ARG);
    if (c->n >= c->max_files) {
        say(&w, "%s: more than %zu documents (the cap on files in one context)", name,
            c->max_files);
        return MS_ERR_CAP_EXCEEDED;
    }
    if (len > MS_MAX_CONTEXT_FILE) {
        say(&w, "%s: larger than %u MiB (the cap on one file)", name, MS_MAX_CONTEXT_FILE >> 20);
        return MS_ERR_CAP_EXCEEDED;
    }
    return add_pdf_bytes(c, name, pdf, len, why, why_cap);
}

/* A document's header line in the joined text: its length, or 0 when over HEAD_MAX. */
static size_t head_of(const ms_doc *d, char head[static HEAD_MAX])
{
    int k = d->kind == MS_DOC_PDF
                ? snprintf(head, HEAD_MAX, "=== FILE %s (%s, %u page%s) ===\n", d->name,
                           ms_doc_kind_name(d->kind), (unsigned)d->pages, d->pages == 1 ? "" : "s")
                : snprintf(head, HEAD_MAX, "=== FILE %s (%s) ===\n", d->name,
                           ms_doc_kind_name(d->kind));
    return k > 0 && (size_t)k < HEAD_MAX ? (size_t)k : 0;
}

/* 1 when the joined text adds a newline after the document's text. */
static size_t newline_after(const ms_doc *d)
{
    return d->len > 0 && d->text[d->len - 1] != '\n';
}

ms_err ms_context_join(const ms_context *c, ms_buf *out)
{
    char head[HEAD_MAX];
    for (size_t i = 0; i < c->n; i++) {
        const ms_doc *d = &c->docs[i];
        size_t k = head_of(d, head);
        ENSURE(k > 0, MS_ERR_CAP_EXCEEDED);
        if (i > 0) {
            TRY(ms_buf_append_u8(out, '\n'));
        }
        TRY(ms_buf_append(out, head, k));
        TRY(ms_buf_append(out, d->text, d->len));
        if (newline_after(d)) {
            TRY(ms_buf_append_u8(out, '\n'));
        }
    }
    return MS_OK;
}

/*
 * In place: the joined text is longer than the documents with their NULs (every header is
 * longer than a NUL), so each document only moves up. Going from the last document down,
 * each is moved to its place, then its header and newlines are written around it: those
 * bytes lie above every document not yet moved, so nothing is overwritten before it moved.
 */
ms_err ms_context_join_in_place(ms_context *c, const char **text, size_t *len)
{
    char head[HEAD_MAX];
    size_t total = 0;
    ENSURE(c && text && len, MS_ERR_ARG);
    *text = "";
    *len = 0;
    if (c->joined || c->n == 0) {
        c->joined = true;
        if (c->n > 0) {
            *text = c->buf;
            *len = c->buf_len - 1;
        }
        return MS_OK;
    }
    for (size_t i = 0; i < c->n; i++) {
        size_t k = head_of(&c->docs[i], head);
        ENSURE(k > 0, MS_ERR_CAP_EXCEEDED);
        total += (i > 0) + k + c->docs[i].len + newline_after(&c->docs[i]);
    }
    if (total + 1 > c->buf_len) {
        TRY(room(c, total + 1 - c->buf_len));
    }
    size_t end = total;
    for (size_t i = c->n; i-- > 0;) {
        ms_doc *d = &c->docs[i];
        size_t nl = newline_after(d), k = head_of(d, head);
        size_t at = end - nl - d->len;
        memmove(c->buf + at, d->text, d->len);
        d->text = c->buf + at;
        if (nl) {
            d->text[d->len] = '\n';
        }
        memcpy(c->buf + at - k, head, k);
        if (i > 0) {
            c->buf[at - k - 1] = '\n';
        }
        end = at - k - (i > 0);
    }
    c->buf[total] = '\0';
    c->buf_len = total + 1;
    c->joined = true;
    *text = c->buf;
    *len = total;
    return MS_OK;
}

static size_t chars_of(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += ((unsigned char)p[i] & 0xC0) != 0x80;
    }
    return k;
}

void ms_context_summary(const ms_context *c, char *out, size_t cap)
{
    size_t count[4] = {0}, chars = 0, used = 0;
    uint64_t pages = 0;
    static const char *const label[4] = {"text", "markdown", "code", "PDF"};
    if (!out || cap == 0) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        count[c->docs[i].kind]++;
        pages += c->docs[i].pages;
        chars += chars_of(c->docs[i].text, c->docs[i].len);
    }
    int k = snprintf(out, cap, "%zu document%s", c->n, c->n == 1 ? "" : "s");
    used = k > 0 ? (size_t)k : 0;
    const char *sep = ": ";
    for (int i = 0; i < 4 && used < cap; i++) {
        if (count[i] == 0) {
            continue;
        }
        k = i == MS_DOC_PDF ? snprintf(out + used, cap - used, "%s%zu PDF (%llu page%s)", sep,
                                       count[i], (unsigned long long)pages,
                                       pages == 1 ? "" : "s")
                            : snprintf(out + used, cap - used, "%s%zu %s", sep, count[i],
                                       label[i]);
        used += k > 0 ? (size_t)k : 0;
        sep = ", ";
    }
    if (used < cap) {
        snprintf(out + used, cap - used, "; %zu characters", chars);
    }
}

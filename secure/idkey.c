/* Identity key lines and allow-list files: a bounded cursor per line, one error per check. */
#include "secure/idkey.h"

#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/cursor.h"
#include "common/limits.h"

static int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static int is_control(uint8_t c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* The next run of non-blank bytes (possibly empty), borrowed. */
static size_t word(ms_cursor *c, const uint8_t **w)
{
    size_t n = 0;
    *w = c->p + c->off;
    while (n < ms_cursor_remaining(c) && !is_blank(c->p[c->off + n])) {
        n++;
    }
    if (ms_cursor_skip(c, n) != MS_OK) {
        return 0; /* cannot happen: n <= remaining */
    }
    return n;
}

/* Skip blanks; 1 when at least one was there. */
static int blanks(ms_cursor *c)
{
    size_t n = 0;
    while (n < ms_cursor_remaining(c) && is_blank(c->p[c->off + n])) {
        n++;
    }
    return ms_cursor_skip(c, n) == MS_OK && n > 0;
}

ms_err ms_idkey_line_decode(const uint8_t *line, size_t len, uint8_t pk[static MS_SIGN_PK_LEN])
{
    const uint8_t *w;
    size_t n, got;
    memset(pk, 0, MS_SIGN_PK_LEN);
    for (size_t i = 0; i < len; i++) {
        ENSURE(!is_control(line[i]), MS_ERR_IDKEY_CONTROL);
    }
    ms_cursor c = ms_cursor_init(line, len);
    (void)blanks(&c);
    n = word(&c, &w);
    ENSURE(n == sizeof(MS_IDKEY_TYPE) - 1 && strncmp((const char *)w, MS_IDKEY_TYPE, n) == 0,
           MS_ERR_IDKEY_TYPE);
    ENSURE(blanks(&c), MS_ERR_IDKEY_SPACE);
    n = word(&c, &w);
    ENSURE(n == MS_IDKEY_B64_LEN, MS_ERR_IDKEY_KEY);
    ENSURE(ms_base64_decode((const char *)w, n, pk, MS_SIGN_PK_LEN, &got) == MS_OK &&
               got == MS_SIGN_PK_LEN,
           MS_ERR_IDKEY_KEY);
    /* Whatever follows is a comment, but only after a blank: "KEYxyz" is no key. */
    if (ms_cursor_remaining(&c) > 0 && !blanks(&c)) {
        memset(pk, 0, MS_SIGN_PK_LEN);
        return MS_ERR_IDKEY_SPACE;
    }
    return MS_OK;
}

ms_err ms_idkey_line_encode(const uint8_t pk[static MS_SIGN_PK_LEN], const char *comment,
                            ms_buf *out)
{
    char b64[MS_IDKEY_B64_LEN + 1];
    size_t n, clen = comment ? strnlen(comment, MS_MAX_IDKEY_COMMENT + 1) : 0;
    ENSURE(clen <= MS_MAX_IDKEY_COMMENT, MS_ERR_CAP_EXCEEDED);
    for (size_t i = 0; i < clen; i++) {
        ENSURE(!is_control((uint8_t)comment[i]), MS_ERR_IDKEY_CONTROL);
    }
    TRY(ms_base64_encode(pk, MS_SIGN_PK_LEN, b64, sizeof b64, &n));
    TRY(ms_buf_append_str(out, MS_IDKEY_TYPE " "));
    TRY(ms_buf_append(out, b64, n));
    if (clen > 0) {
        TRY(ms_buf_append_str(out, " "));
        TRY(ms_buf_append(out, comment, clen));
    }
    return ms_buf_append_str(out, "\n");
}

/* Keys are public: an ordinary byte order (no memcmp in library code: scripts/lint.sh). */
static int cmp_key(const void *a, const void *b)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < MS_SIGN_PK_LEN; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

/* A key and the line it came from, so that a duplicate is reported at its line. */
typedef struct entry {
    uint8_t pk[MS_SIGN_PK_LEN];
    size_t line;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = cmp_key(x->pk, y->pk);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Is this line nothing but blanks, or a comment? */
static int skipped(const uint8_t *line, size_t len)
{
    size_t i = 0;
    while (i < len && is_blank(line[i])) {
        i++;
    }
    return i == len || line[i] == '#';
}

/* Every line into e[] (*n keys); *line_no at the first fault. */
static ms_err parse_lines(const uint8_t *text, size_t len, entry *e, size_t *n, size_t *line_no)
{
    ms_cursor c = ms_cursor_init(text, len);
    const uint8_t *line;
    while (ms_cursor_remaining(&c) > 0) {
        size_t rest = ms_cursor_remaining(&c), ll = 0;
        while (ll < rest && c.p[c.off + ll] != '\n') {
            ll++;
        }
        (*line_no)++;
        TRY(ms_cursor_borrow(&c, &line, ll));
        TRY(ms_cursor_skip(&c, ll < rest ? 1 : 0)); /* the newline, when there is one */
        if (ll > 0 && line[ll - 1] == '\r') {
            ll--;
        }
        ENSURE(ll <= MS_MAX_ALLOW_LINE, MS_ERR_IDKEY_LINE_LONG);
        if (skipped(line, ll)) {
            for (size_t i = 0; i < ll; i++) {
                ENSURE(!is_control(line[i]), MS_ERR_IDKEY_CONTROL);
            }
            continue;
        }
        ENSURE(*n < MS_MAX_ALLOWED_CLIENTS, MS_ERR_IDKEY_TOO_MANY);
        TRY(ms_idkey_line_decode(line, ll, e[*n].pk));
        e[*n].line = *line_no;
        (*n)++;
    }
    return MS_OK;
}

ms_err ms_idkey_list_parse(const uint8_t *text, size_t len, ms_idkey_list *out, size_t *line_no)
{
    ms_err err = MS_OK;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    *line_no = 0;
    ENSURE(len <= MS_MAX_ALLOW_FILE, MS_ERR_CAP_EXCEEDED);
    entry *e = calloc(MS_MAX_ALLOWED_CLIENTS, sizeof *e);
    ENSURE(e != NULL, MS_ERR_NOMEM);
    TRY_OUT(parse_lines(text, len, e, &n, line_no));
    qsort(e, n, sizeof *e, cmp_entry);
    for (size_t i = 1; i < n; i++) {
        if (cmp_key(e[i - 1].pk, e[i].pk) == 0) {
            *line_no = e[i].line;
            err = MS_ERR_IDKEY_DUPLICATE;
            goto out;
        }
    }
    *line_no = 0;
    out->keys = calloc(n ? n : 1, sizeof *out->keys);
    ENSURE_OUT(out->keys != NULL, MS_ERR_NOMEM);
    for (size_t i = 0; i < n; i++) {
        memcpy(out->keys[i], e[i].pk, MS_SIGN_PK_LEN);
    }
    out->n = n;
out:
    free(e);
    return err;
}

void ms_idkey_list_free(ms_idkey_list *l)
{
    if (l) {
        free(l->keys);
        memset(l, 0, sizeof *l);
    }
}

int ms_idkey_list_has(const ms_idkey_list *l, const uint8_t pk[static MS_SIGN_PK_LEN])
{
    return l->n > 0 && bsearch(pk, l->keys, l->n, sizeof *l->keys, cmp_key) != NULL;
}

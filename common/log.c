/* Log lines built by a tiny formatter that redacts binary strings, behind one locked sink. */
#include "common/log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/limits.h"

_Static_assert(crypto_generichash_BYTES_MIN >= 8, "fingerprint takes 8 bytes of the hash");
_Static_assert(MS_LOG_FP_LEN == 3 + 16 + 1, "fp: + 16 hex digits + NUL");

#define CUT_MARK "...(cut)"

static void stderr_sink(void *ctx, ms_log_level lvl, const char *line, size_t len);

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static ms_log_sink_fn sink_fn = stderr_sink;
static void *sink_ctx;
static _Atomic int cur_level = MS_LOG_INFO;

/* One line under construction; bytes past the cap are dropped and remembered. */
struct line {
    char buf[MS_MAX_LOG_LINE + 1];
    size_t len;
    bool cut;
};

enum len_mod { MOD_NONE, MOD_L, MOD_LL, MOD_Z };

static bool printable(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e;
}

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = MS_MAX_LOG_LINE - l->len;
    size_t k = n < room ? n : room;
    memcpy(l->buf + l->len, s, k);
    l->len += k;
    l->cut |= k < n;
}

static void put_cstr(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_char(struct line *l, char c)
{
    put(l, &c, 1);
}

static void put_str_arg(struct line *l, const char *s)
{
    char note[64];
    if (s == NULL) {
        put_cstr(l, "(null)");
        return;
    }
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (!printable((unsigned char)s[i])) {
            snprintf(note, sizeof note, "<redacted: %zu bytes non-text>", n);
            put_cstr(l, note);
            return;
        }
    }
    if (n <= MS_MAX_LOG_STRING_ARG) {
        put(l, s, n);
        return;
    }
    put(l, s, MS_MAX_LOG_STRING_ARG);
    snprintf(note, sizeof note, "...(%zu bytes)", n);
    put_cstr(l, note);
}

static void put_unsigned(struct line *l, unsigned long long v, unsigned base)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = digits[v % base];
        v /= base;
    } while (v != 0);
    put(l, tmp + i, sizeof tmp - i);
}

static void put_signed(struct line *l, long long v)
{
    if (v < 0) {
        put_char(l, '-');
        /* Negate in unsigned arithmetic so LLONG_MIN is fine. */
        put_unsigned(l, 0ull - (unsigned long long)v, 10);
        return;
    }
    put_unsigned(l, (unsigned long long)v, 10);
}

static long long arg_signed(va_list *ap, enum len_mod mod)
{
    switch (mod) {
    case MOD_L:
        return va_arg(*ap, long);
    case MOD_LL:
        return va_arg(*ap, long long);
    case MOD_Z:
        return va_arg(*ap, ssize_t);
    default:
        return va_arg(*ap, int);
    }
}

static unsigned long long arg_unsigned(va_list *ap, enum len_mod mod)
{
    switch (mod) {
    case MOD_L:
        return va_arg(*ap, unsigned long);
    case MOD_LL:
        return va_arg(*ap, unsigned long long);
    case MOD_Z:
        return va_arg(*ap, size_t);
    default:
        return va_arg(*ap, unsigned);
    }
}

static enum len_mod parse_mod(const char **f)
{
    if (**f == 'z') {
        (*f)++;
        return MOD_Z;
    }
    if (**f != 'l') {
        return MOD_NONE;
    }
    (*f)++;
    if (**f != 'l') {
        return MOD_L;
    }
    (*f)++;
    return MOD_LL;
}

/* One conversion; *f points just past the '%'. False for anything unsupported. */
static bool put_conv(struct line *l, const char **f, va_list *ap)
{
    enum len_mod mod = parse_mod(f);
    char conv = **f;
    if (conv == 'd' || conv == 'i') {
        put_signed(l, arg_signed(ap, mod));
    } else if (conv == 'u' || conv == 'x') {
        put_unsigned(l, arg_unsigned(ap, mod), conv == 'x' ? 16 : 10);
    } else if (mod != MOD_NONE) {
        return false;
    } else if (conv == 's') {
        put_str_arg(l, va_arg(*ap, const char *));
    } else if (conv == 'c') {
        int c = va_arg(*ap, int);
        put_char(l, printable((unsigned char)c) ? (char)c : '?');
    } else if (conv == '%') {
        put_char(l, '%');
    } else {
        return false;
    }
    (*f)++;
    return true;
}

static void put_message(struct line *l, const char *fmt, va_list *ap)
{
    if (fmt == NULL) {
        put_cstr(l, "<bad-format>");
        return;
    }
    for (const char *f = fmt; *f != '\0';) {
        if (*f != '%') {
            put_char(l, printable((unsigned char)*f) ? *f : '?');
            f++;
            continue;
        }
        f++;
        if (!put_conv(l, &f, ap)) {
            put_cstr(l, "<bad-format>");
            return;
        }
    }
}

static const char *level_name(ms_log_level lvl)
{
    static const char *const names[] = {
        [MS_LOG_ERROR] = "ERROR", [MS_LOG_WARN] = "WARN",
        [MS_LOG_INFO] = "INFO",   [MS_LOG_DEBUG] = "DEBUG",
    };
    return names[lvl];
}

static bool level_valid(ms_log_level lvl)
{
    return (unsigned)lvl <= (unsigned)MS_LOG_DEBUG;
}

static void stderr_sink(void *ctx, ms_log_level lvl, const char *line, size_t len)
{
    (void)ctx;
    (void)lvl;
    fprintf(stderr, "%.*s\n", (int)len, line);
}

void ms_log_set_level(ms_log_level lvl)
{
    if (level_valid(lvl)) {
        atomic_store(&cur_level, (int)lvl);
    }
}

ms_log_level ms_log_get_level(void)
{
    return (ms_log_level)atomic_load(&cur_level);
}

bool ms_log_enabled(ms_log_level lvl)
{
    return !level_valid(lvl) || (int)lvl <= atomic_load(&cur_level);
}

void ms_log_set_sink(ms_log_sink_fn fn, void *ctx)
{
    pthread_mutex_lock(&sink_lock);
    sink_fn = fn != NULL ? fn : stderr_sink;
    sink_ctx = fn != NULL ? ctx : NULL;
    pthread_mutex_unlock(&sink_lock);
}

void ms_log_va(ms_log_level lvl, const char *component, const char *fmt, va_list ap)
{
    struct line l;
    va_list args;
    if (!ms_log_enabled(lvl)) {
        return;
    }
    lvl = level_valid(lvl) ? lvl : MS_LOG_ERROR;
    l.len = 0;
    l.cut = false;
    put_cstr(&l, level_name(lvl));
    put_char(&l, ' ');
    put_str_arg(&l, component);
    put_cstr(&l, ": ");
    va_copy(args, ap);
    put_message(&l, fmt, &args);
    va_end(args);
    if (l.cut) {
        memcpy(l.buf + MS_MAX_LOG_LINE - strlen(CUT_MARK), CUT_MARK, strlen(CUT_MARK));
    }
    l.buf[l.len] = '\0';
    pthread_mutex_lock(&sink_lock);
    sink_fn(sink_ctx, lvl, l.buf, l.len);
    pthread_mutex_unlock(&sink_lock);
    /* The line may carry printable secrets a caller chose to log: do not leave it behind. */
    ms_wipe(l.buf, l.len);
}

void ms_log(ms_log_level lvl, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ms_log_va(lvl, component, fmt, ap);
    va_end(ap);
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void ms_log_mask_hex_runs(char *s)
{
    if (s == NULL) {
        return;
    }
    size_t r = 0, w = 0;
    while (s[r] != '\0') {
        size_t run = 0;
        while (is_hex(s[r + run])) {
            run++;
        }
        if (run >= MS_LOG_HEX_RUN) {
            memmove(s + w, s + r, 8);
            memcpy(s + w + 8, "...", 3);
            w += 11;
            r += run;
        } else if (run > 0) {
            memmove(s + w, s + r, run);
            w += run;
            r += run;
        } else {
            s[w++] = s[r++];
        }
    }
    s[w] = '\0';
}

void ms_log_http_server(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = 0;
    ms_log_mask_hex_runs(line);
    ms_log(MS_LOG_WARN, "http", "%s", line);
}

void ms_log_fingerprint(const void *p, size_t n, char out[static MS_LOG_FP_LEN])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t h[crypto_generichash_BYTES_MIN];
    memcpy(out, "fp:", 3);
    if (crypto_generichash(h, sizeof h, p, n, NULL, 0) != 0) {
        memset(out + 3, '?', 16);
    } else {
        for (size_t i = 0; i < 8; i++) {
            out[3 + 2 * i] = digits[h[i] >> 4];
            out[4 + 2 * i] = digits[h[i] & 15];
        }
    }
    out[MS_LOG_FP_LEN - 1] = '\0';
    ms_wipe(h, sizeof h);
}

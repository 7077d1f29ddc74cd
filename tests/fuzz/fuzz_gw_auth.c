/*
 * Fuzz serve's header checks (gateway/auth.c: Host, Origin, Authorization, Cookie) against
 * their contracts, computed here a second way, with no server: the checks take the headers'
 * values (gateway/internal.h). Input: byte 0 picks serve's setup (a loopback IPv4 listen
 * address with a 32-byte key, [::1] with a key as long as the pad, a LAN address with a key
 * past the pad (compared by hashes), a unix socket); byte 1's bits shape the headers; the rest
 * is up to six NUL-separated fields f0..f5:
 *   Host           f0 (none when bit 0 is set)
 *   Origin         f1, or "http://" f1 (bit 3); none without f1
 *   Authorization  f2, or f2 KEY f3 (bit 1: the setup's key inside, so that tokens pass)
 *   Cookie         f4, or f4 "ms_session=" SESSION f5 (bit 2: a web session's cookie inside)
 * The contracts:
 *   Host passes exactly when it is, ASCII case folded, one this setup names us by (written out
 *   here per setup: "127.0.0.1:8080" and "localhost:8080", ...), or on a unix socket always.
 *   Origin passes exactly when it starts "http://" and the rest is such a Host (a unix
 *   socket: the request's own Host, case folded).
 *   Authorization passes exactly when it is "Bearer " (any case), any spaces, then the key,
 *   byte for byte and nothing after.
 *   The cookie found is the first ';'-separated pair whose name, after leading spaces, is
 *   exactly ms_session: a substring of the header, just after "ms_session=", at the header's
 *   start or after ';' and spaces, running to the next ';' or the end. A session passes
 *   exactly when that value is SESSION.
 *   No check changes the auth state (bad input changes nothing else).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "gateway/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_FIELDS 6
#define SESSION "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct setup {
    const char *listen;
    uint16_t port;
    bool is_unix;
    size_t key_len;
    const char *names[3]; /* the Host values that name us (NULL-ended) */
} setup;

static const setup setups[] = {
    {"127.0.0.1:8080", 8080, false, 32, {"127.0.0.1:8080", "localhost:8080", NULL}},
    {"[::1]:8443", 8443, false, MS_GW_KEY_PAD, {"[::1]:8443", "localhost:8443", NULL}},
    {"10.1.2.3:80", 80, false, MS_GW_KEY_PAD + 44, {"10.1.2.3:80", NULL}},
    {"unix:/run/serve.sock", 0, true, 33, {NULL}},
};
#define N_SETUPS (sizeof setups / sizeof setups[0])

static ms_gw_auth auths[N_SETUPS];
static char keys[N_SETUPS][MS_GW_KEY_PAD + 64];

static void agree(bool same)
{
    if (!same) {
        abort();
    }
}

static void init_once(void)
{
    static bool done;
    if (done) {
        return;
    }
    for (size_t i = 0; i < N_SETUPS; i++) {
        for (size_t j = 0; j < setups[i].key_len; j++) {
            keys[i][j] = (char)('!' + (j * 7 + i) % 94); /* printable, varied */
        }
        keys[i][setups[i].key_len] = '\0';
        agree(ms_gw_auth_init(&auths[i], keys[i], NULL, setups[i].listen, setups[i].port,
                              setups[i].is_unix) == MS_OK);
        ms_sha256(SESSION, 64, auths[i].cookies[0]); /* one web session, as /login gives */
        auths[i].n_cookies = 1;
        auths[i].next_cookie = 1;
    }
    done = true;
}

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool same_folded(const char *x, const char *y)
{
    for (; *x && *y; x++, y++) {
        if (fold(*x) != fold(*y)) {
            return false;
        }
    }
    return *x == *y;
}

static bool names_us(const setup *s, const char *host)
{
    if (s->is_unix) {
        return true;
    }
    if (host == NULL) {
        return false;
    }
    for (size_t i = 0; s->names[i]; i++) {
        if (same_folded(host, s->names[i])) {
            return true;
        }
    }
    return false;
}

static bool want_origin(const setup *s, const char *origin, const char *host)
{
    if (strncmp(origin, "http://", 7) != 0) {
        return false;
    }
    return s->is_unix ? host != NULL && same_folded(origin + 7, host) : names_us(s, origin + 7);
}

static bool want_bearer(const char *hdr, const char *key)
{
    static const char prefix[] = "bearer ";
    for (size_t i = 0; i < sizeof prefix - 1; i++) {
        if (fold(hdr[i]) != prefix[i]) { /* stops at the NUL too: it folds to itself */
            return false;
        }
    }
    const char *t = hdr + 7;
    while (*t == ' ') {
        t++;
    }
    return strcmp(t, key) == 0;
}

/* Our cookie by splitting on ';' and stripping leading spaces: the first pair so named. */
static bool want_cookie(const char *hdr, size_t *off, size_t *len)
{
    size_t start = 0, n = strlen(hdr);
    while (start <= n) {
        size_t end = start;
        while (end < n && hdr[end] != ';') {
            end++;
        }
        size_t name = start;
        while (name < end && hdr[name] == ' ') {
            name++;
        }
        if (end - name >= 11 && strncmp(hdr + name, "ms_session=", 11) == 0) {
            *off = name + 11;
            *len = end - *off;
            return true;
        }
        start = end + 1;
    }
    return false;
}

static void check_cookie(ms_gw_auth *a, const char *hdr)
{
    size_t off = 0, len = 0;
    bool want = want_cookie(hdr, &off, &len);
    const char *p = NULL;
    size_t n = 0;
    bool got = ms_gw_auth_find_cookie(hdr, &p, &n);
    agree(got == want);
    if (got) {
        size_t hl = strlen(hdr);
        agree(p >= hdr + 11 && p + n <= hdr + hl); /* within the header */
        agree((size_t)(p - hdr) == off && n == len);
        agree(memcmp(p - 11, "ms_session=", 11) == 0);
        const char *b = p - 11; /* a name boundary: the start, or ';' then spaces */
        while (b > hdr && b[-1] == ' ') {
            b--;
        }
        agree(b == hdr || b[-1] == ';');
        agree(p[n] == ';' || p[n] == '\0');
        agree(memchr(p, ';', n) == NULL);
    }
    bool ours = want && len == 64 && memcmp(hdr + off, SESSION, 64) == 0;
    agree(ms_gw_auth_cookie_ok(a, hdr) == ours);
}

/* The auth state but its mutex: what a check must leave as it was. */
static bool unchanged(const ms_gw_auth *a, const ms_gw_auth *before)
{
    size_t from = offsetof(ms_gw_auth, key_hash);
    return memcmp((const char *)a + from, (const char *)before + from, sizeof *a - from) == 0;
}

/* x y z as one string (malloc'd), y between. */
static char *join(const char *x, const char *y, const char *z)
{
    size_t xl = strlen(x), yl = strlen(y), zl = strlen(z);
    char *s = malloc(xl + yl + zl + 1);
    if (s) {
        memcpy(s, x, xl);
        memcpy(s + xl, y, yl);
        memcpy(s + xl + yl, z, zl + 1);
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size < 2) {
        return 0;
    }
    size_t si = data[0] % N_SETUPS;
    uint8_t bits = data[1];
    const setup *s = &setups[si];
    ms_gw_auth *a = &auths[si];
    char *text = malloc(size - 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';
    const char *f[N_FIELDS] = {NULL};
    size_t nf = 0;
    for (size_t i = 0; i < size - 1 && nf < N_FIELDS; nf++) {
        f[nf] = text + i;
        i += strlen(text + i) + 1;
    }
    static ms_gw_auth before;
    memcpy(&before, a, sizeof before);

    const char *host = bits & 1 ? NULL : f[0];
    agree(ms_gw_auth_host_ok(a, host) == names_us(s, host));
    if (f[1]) {
        char *origin = bits & 8 ? join("http://", f[1], "") : NULL;
        const char *o = origin ? origin : f[1];
        agree(ms_gw_auth_origin_ok(a, o, host) == want_origin(s, o, host));
        free(origin);
    }
    if (f[2]) {
        char *authz = bits & 2 ? join(f[2], keys[si], f[3] ? f[3] : "") : NULL;
        const char *h = authz ? authz : f[2];
        agree(ms_gw_auth_bearer_ok(a, h) == want_bearer(h, keys[si]));
        free(authz);
    }
    if (f[4]) {
        char *pre = bits & 4 ? join(f[4], "ms_session=", SESSION) : NULL;
        char *cookie = pre ? join(pre, f[5] ? f[5] : "", "") : NULL;
        check_cookie(a, cookie ? cookie : f[4]);
        free(cookie);
        free(pre);
    }
    agree(unchanged(a, &before));
    free(text);
    return 0;
}

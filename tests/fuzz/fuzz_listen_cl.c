/*
 * Fuzz the servers' Content-Length check (ms_listen_content_length) against its contract,
 * computed here a second way. The first byte picks the cap: a fixed one (0, small, the
 * servers' real route caps, around SIZE_MAX), eight raw bytes after it, or the value's own
 * number give or take one; the rest, up to its first NUL, is the header value. An empty
 * input is a request without the header (NULL). The contract: MS_OK exactly when the value
 * is one or more ASCII digits (leading zeros allowed; no sign, space or other byte, as
 * RFC 9110's 1*DIGIT) whose number is at most the cap, with *len that number; anything else
 * is MS_ERR_CAP_EXCEEDED with *len 0. NULL is MS_OK with *len 0 under any cap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/listen.h"
#include "secure/supervisor/handlers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t caps[] = {
    0,
    1,
    9,
    10,
    99,
    MS_SUP_SMALL_BODY,     /* the supervisor's handshake, finish and health routes */
    MS_MAX_HTTP_BODY,      /* the supervisor's record routes */
    MS_GW_MAX_SMALL_BODY,  /* the gateway's small bodies */
    MS_GW_MAX_CHAT_BODY,   /* POST /v1/chat/completions */
    MS_SERVE_MAX_RUN_BODY, /* POST /v1/minions/runs and /documents */
    UINT32_MAX,
    SIZE_MAX / 10,
    SIZE_MAX / 10 + 1,
    SIZE_MAX - 1,
    SIZE_MAX,
};
#define N_CAPS (sizeof caps / sizeof caps[0])
#define RAW_CAP N_CAPS      /* selector: the cap is the next eight bytes */
#define OWN_CAP (N_CAPS + 1) /* selector: the cap is the value's own number, -1, 0 or +1 */

static void agree(bool same)
{
    if (!same) {
        abort();
    }
}

/* The decimal digits of v, without leading zeros ("0" for zero), in out[32]. */
static size_t spell(size_t v, char out[32])
{
    int n = snprintf(out, 32, "%zu", v);
    agree(n > 0 && n < 32);
    return (size_t)n;
}

/*
 * The expected answer, by comparing digit strings rather than by arithmetic: the value is
 * all digits, and without its leading zeros it is shorter than the cap's spelling or as
 * long and not greater. Only then is it converted (it fits, being at most the cap).
 */
static bool expect(const char *value, size_t cap, size_t *want)
{
    *want = 0;
    size_t n = strlen(value);
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (value[i] < '0' || value[i] > '9') {
            return false;
        }
    }
    const char *d = value;
    while (d[0] == '0' && d[1] != '\0') {
        d++;
    }
    size_t dn = strlen(d);
    char c[32];
    size_t cn = spell(cap, c);
    if (dn > cn || (dn == cn && memcmp(d, c, dn) > 0)) {
        return false;
    }
    size_t v = 0;
    for (size_t i = 0; i < dn; i++) {
        size_t digit = (size_t)(d[i] - '0');
        agree(v <= (SIZE_MAX - digit) / 10); /* no wrap: the number is at most the cap */
        v = v * 10 + digit;
    }
    agree(v <= cap);
    *want = v;
    return true;
}

static void check(const char *value, size_t cap)
{
    size_t want, got = 12345;
    bool ok = expect(value, cap, &want);
    ms_err e = ms_listen_content_length(value, cap, &got);
    if (ok) {
        agree(e == MS_OK && got == want);
    } else {
        agree(e == MS_ERR_CAP_EXCEEDED && got == 0);
    }
}

/* The value's number, when it is all digits and fits a size_t: the cap for OWN_CAP. */
static bool own_number(const char *value, size_t *v)
{
    *v = 0;
    if (*value == '\0') {
        return false;
    }
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9' || *v > (SIZE_MAX - (size_t)(*p - '0')) / 10) {
            return false;
        }
        *v = *v * 10 + (size_t)(*p - '0');
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        for (size_t i = 0; i < N_CAPS; i++) {
            size_t got = 12345;
            agree(ms_listen_content_length(NULL, caps[i], &got) == MS_OK && got == 0);
        }
        return 0;
    }
    size_t sel = data[0] % (N_CAPS + 2);
    data++;
    size--;
    size_t cap = sel < N_CAPS ? caps[sel] : 0;
    if (sel == RAW_CAP) {
        uint8_t raw[8] = {0};
        size_t take = size < sizeof raw ? size : sizeof raw;
        memcpy(raw, data, take);
        data += take;
        size -= take;
        for (size_t i = 0; i < sizeof raw; i++) {
            cap = (cap << 8) | raw[sizeof raw - 1 - i]; /* little-endian */
        }
    }
    char *value = malloc(size + 1);
    if (value == NULL) {
        return 0;
    }
    memcpy(value, data, size);
    value[size] = '\0';
    if (sel == OWN_CAP) {
        size_t v;
        if (own_number(value, &v)) {
            check(value, v);
            if (v > 0) {
                check(value, v - 1); /* one under: refused */
            }
            if (v < SIZE_MAX) {
                check(value, v + 1);
            }
        }
        cap = 0;
    }
    check(value, cap);
    check(value, SIZE_MAX); /* every value, against the widest cap too */
    free(value);
    return 0;
}

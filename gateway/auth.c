/* Local access control: Host and Origin, the bearer token, the one-time login, the cookie. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/digest.h"
#include "common/random.h"
#include "gateway/internal.h"

#define COOKIE_NAME "ms_session"

static void hash_text(const char *s, size_t n, uint8_t out[32])
{
    ms_sha256(s, n, out);
}

ms_err ms_gw_auth_init(ms_gw_auth *a, const char *api_key, const char *login_code,
                       const char *listen, uint16_t port, bool is_unix)
{
    memset(a, 0, sizeof *a);
    ENSURE(api_key != NULL && strlen(api_key) >= 32, MS_ERR_CONFIG);
    pthread_mutex_init(&a->mu, NULL);
    size_t key_len = strlen(api_key);
    hash_text(api_key, key_len, a->key_hash);
    if (key_len <= MS_GW_KEY_PAD) {
        memcpy(a->key_pad, api_key, key_len); /* the rest stays zero (memset above) */
        a->key_len = key_len;
    }
    if (login_code) {
        hash_text(login_code, strlen(login_code), a->code_hash);
        a->code_live = true;
    }
    if (is_unix) {
        a->any_host = true; /* no browser reaches a unix socket by a name it could rebind */
        return MS_OK;
    }
    const char *colon = strrchr(listen, ':');
    ENSURE(colon != NULL, MS_ERR_CONFIG);
    int hl = (int)(colon - listen);
    snprintf(a->hosts[a->n_hosts++], sizeof a->hosts[0], "%.*s:%u", hl, listen, port);
    if (strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]", 5) == 0) {
        snprintf(a->hosts[a->n_hosts++], sizeof a->hosts[0], "localhost:%u", port);
    }
    return MS_OK;
}

void ms_gw_auth_free(ms_gw_auth *a)
{
    ms_wipe(a->key_hash, sizeof a->key_hash);
    ms_wipe(a->key_pad, sizeof a->key_pad);
    a->key_len = 0;
    ms_wipe(a->code_hash, sizeof a->code_hash);
    ms_wipe(a->cookies, sizeof a->cookies);
    pthread_mutex_destroy(&a->mu);
}

bool ms_gw_auth_host_ok(const ms_gw_auth *a, const char *host)
{
    if (a->any_host) {
        return true;
    }
    if (!host) {
        return false;
    }
    for (unsigned i = 0; i < a->n_hosts; i++) {
        if (strcasecmp(host, a->hosts[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* An Origin is ours when it is http:// and a Host we answer to (the page we served). */
bool ms_gw_auth_origin_ok(const ms_gw_auth *a, const char *origin, const char *host)
{
    if (strncmp(origin, "http://", 7) != 0) {
        return false;
    }
    return a->any_host ? host && strcasecmp(origin + 7, host) == 0
                       : ms_gw_auth_host_ok(a, origin + 7);
}

/* The value of our cookie in a Cookie header, as (p, n); false when absent. */
bool ms_gw_auth_find_cookie(const char *hdr, const char **p, size_t *n)
{
    const char *s = hdr;
    while (s && *s) {
        while (*s == ' ' || *s == ';') {
            s++;
        }
        size_t len = strcspn(s, ";");
        if (strncmp(s, COOKIE_NAME "=", sizeof COOKIE_NAME) == 0) {
            *p = s + sizeof COOKIE_NAME;
            *n = len - sizeof COOKIE_NAME;
            return true;
        }
        s += len;
    }
    return false;
}

bool ms_gw_auth_cookie_ok(ms_gw_auth *a, const char *hdr)
{
    const char *v;
    size_t n;
    if (!hdr || !ms_gw_auth_find_cookie(hdr, &v, &n) || n != 64) {
        return false;
    }
    uint8_t h[32];
    hash_text(v, n, h);
    int found = 0;
    pthread_mutex_lock(&a->mu);
    for (unsigned i = 0; i < a->n_cookies; i++) {
        found |= ms_ct_equal(h, a->cookies[i], sizeof h);
    }
    pthread_mutex_unlock(&a->mu);
    return found != 0;
}

/*
 * A token against the key, in time that says nothing about the key, its length included: a
 * key that fits the pad (every key serve takes: a key file holds at most 256 characters) is
 * compared padded to it, the token copied into a zeroed buffer of the same size (its own
 * length decides only how much is copied), both lengths compared without a branch; a longer
 * key (only through the library) by the hashes of both. No hash per request: a turn's auth
 * costs a copy and a 256-byte compare.
 */
static bool token_ok(const ms_gw_auth *a, const char *t)
{
    size_t n = strlen(t);
    if (a->key_len == 0) {
        uint8_t h[32]; /* hashes of equal length: the comparison says nothing about the length */
        hash_text(t, n, h);
        return ms_ct_equal(h, a->key_hash, sizeof h) == 1;
    }
    uint8_t pad[MS_GW_KEY_PAD] = {0};
    memcpy(pad, t, n < sizeof pad ? n : sizeof pad);
    int same = ms_ct_equal(pad, a->key_pad, sizeof pad);
    ms_wipe(pad, sizeof pad);
    return (same & (n == a->key_len)) == 1;
}

bool ms_gw_auth_bearer_ok(const ms_gw_auth *a, const char *hdr)
{
    if (strncasecmp(hdr, "Bearer ", 7) != 0) {
        return false;
    }
    const char *t = hdr + 7;
    while (*t == ' ') {
        t++;
    }
    return token_ok(a, t);
}

int ms_gw_auth_check(ms_gw_auth *a, const ms_gw_req *req, const ms_gw_route *route,
                     bool *by_cookie, ms_gw_resp *resp)
{
    *by_cookie = false;
    const char *host = ms_gw_req_header(req, "Host");
    if (!ms_gw_auth_host_ok(a, host)) {
        ms_gw_error(resp, 403, "permission_error", NULL, "host_not_allowed",
                    "the Host header does not name this server's listen address "
                    "(a DNS-rebinding guard): use the address serve printed");
        return -1;
    }
    const char *origin = ms_gw_req_header(req, "Origin");
    if (origin && !ms_gw_auth_origin_ok(a, origin, host)) {
        ms_gw_error(resp, 403, "permission_error", NULL, "origin_not_allowed",
                    "requests from pages of another origin are refused");
        return -1;
    }
    if (!route || route->auth == MS_GW_AUTH_NONE) {
        return 0;
    }
    const char *authz = ms_gw_req_header(req, "Authorization");
    if (authz) {
        if (ms_gw_auth_bearer_ok(a, authz)) {
            return 0;
        }
        ms_gw_error(resp, 401, "invalid_request_error", NULL, "invalid_api_key",
                    "incorrect API key: use the token in serve's --api-key-file");
        return -1;
    }
    if (ms_gw_auth_cookie_ok(a, ms_gw_req_header(req, "Cookie"))) {
        /* a browser: the request must come from our own page (CSRF) */
        const char *site = ms_gw_req_header(req, "Sec-Fetch-Site");
        if ((site && strcmp(site, "same-origin") != 0) || (!site && !origin)) {
            ms_gw_error(resp, 403, "permission_error", NULL, "cross_site_request",
                        "a request with the web session cookie must come from this server's "
                        "own page");
            return -1;
        }
        *by_cookie = true;
        return 0;
    }
    ms_gw_error(resp, 401, "invalid_request_error", NULL, "missing_api_key",
                "no API key: send 'Authorization: Bearer TOKEN' with the token in serve's "
                "--api-key-file, or open the login URL serve printed");
    return -1;
}

void ms_gw_h_login(const ms_gw_req *req, ms_gw_resp *resp)
{
    ms_gw_auth *a = &req->gw->auth;
    const char *code = ms_gw_req_query(req, "code");
    uint8_t h[32], raw[32];
    char hex[65];
    if (!code) {
        ms_gw_error(resp, 400, "invalid_request_error", "code", "missing_code",
                    "open the login URL serve printed at start");
        return;
    }
    hash_text(code, strlen(code), h);
    pthread_mutex_lock(&a->mu);
    bool ok = a->code_live && ms_ct_equal(h, a->code_hash, sizeof h) == 1;
    if (ok) {
        a->code_live = false; /* one time */
    }
    pthread_mutex_unlock(&a->mu);
    if (!ok) {
        ms_gw_error(resp, 403, "permission_error", "code", "invalid_code",
                    "this login code is wrong or was already used: restart serve for a new one");
        return;
    }
    size_t hn;
    if (ms_random_bytes(raw, sizeof raw) != MS_OK ||
        ms_hex_encode(raw, sizeof raw, hex, sizeof hex, &hn) != MS_OK) {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "no random bytes for a session");
        return;
    }
    hash_text(hex, 64, h);
    pthread_mutex_lock(&a->mu);
    memcpy(a->cookies[a->next_cookie], h, sizeof h);
    a->next_cookie = (a->next_cookie + 1) % MS_GW_MAX_COOKIES;
    if (a->n_cookies < MS_GW_MAX_COOKIES) {
        a->n_cookies++;
    }
    pthread_mutex_unlock(&a->mu);
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict", hex);
    snprintf(resp->location, sizeof resp->location, "/");
    resp->status = 303;
    resp->content_type = "text/plain";
    ms_wipe(raw, sizeof raw);
    ms_wipe(hex, sizeof hex);
}

/*
 * serve's access control (gateway/auth.c), in-process: the Host and Origin checks, the bearer
 * token, the one-time login code and the web session cookie, each refusal with its HTTP status
 * and OpenAI error code. The test compiles auth.c into itself and answers its request lookups
 * (ms_gw_req_header, ms_gw_req_query) from a table, so no server runs
 * (tests/apps/minions-secure/test_serve_e2e.c checks the same over HTTP).
 */
#include "gateway/auth.c"

#include "tests/test.h"

#define KEY "ms-0123456789abcdef0123456789abcdef"
#define CODE "ms-login-code-0123456789"
#define HOST "127.0.0.1:8080"

/* One request: its headers and query arguments, as name/value pairs (NULL-ended). */
typedef struct fake_req {
    const char *hdr[16];
    const char *query[4];
} fake_req;

static const char *lookup(const char *const *kv, const char *name, int fold)
{
    for (unsigned i = 0; kv[i]; i += 2) {
        if (fold ? strcasecmp(kv[i], name) == 0 : strcmp(kv[i], name) == 0) {
            return kv[i + 1];
        }
    }
    return NULL;
}

const char *ms_gw_req_header(const ms_gw_req *r, const char *name)
{
    return lookup(((const fake_req *)r->conn_)->hdr, name, 1);
}

const char *ms_gw_req_query(const ms_gw_req *r, const char *name)
{
    return lookup(((const fake_req *)r->conn_)->query, name, 0);
}

/* gateway/reply.c's error, reduced to what the test asserts: the status and the code. */
static const char *last_code;

void ms_gw_error(ms_gw_resp *r, int status, const char *type, const char *param,
                 const char *code, const char *message)
{
    (void)type, (void)param, (void)message;
    r->status = status;
    last_code = code;
}

static const ms_gw_route API = {"GET", "/v1/models", MS_GW_AUTH_API, 0, NULL};
static const ms_gw_route OPEN = {"GET", "/", MS_GW_AUTH_NONE, 0, NULL};

/* serve's gateway: its auth is the one the login handler reaches (req->gw->auth) */
static ms_gw g_gw;
#define A (g_gw.auth)

/* ms_gw_auth_check's answer to `f` on `route`: 0, or the refusal's status (and last_code). */
static int check(ms_gw_auth *a, const fake_req *f, const ms_gw_route *route, bool *by_cookie)
{
    ms_gw_req req = {.gw = &g_gw, .method = "GET", .path = "/", .conn_ = (void *)f};
    ms_gw_resp resp = {0};
    last_code = NULL;
    int rc = ms_gw_auth_check(a, &req, route, by_cookie, &resp);
    CHECK(rc == 0 || rc == -1);
    CHECK((rc == 0) == (resp.status == 0));
    return rc == 0 ? 0 : resp.status;
}

/* The request is refused with `status` and `code`. */
static void refused(ms_gw_auth *a, const fake_req *f, const ms_gw_route *route, int status,
                    const char *code)
{
    bool by_cookie = true;
    CHECK(check(a, f, route, &by_cookie) == status);
    CHECK(last_code != NULL && strcmp(last_code, code) == 0);
    CHECK(!by_cookie);
}

/* The request passes; by_cookie as `cookie`. */
static void passes(ms_gw_auth *a, const fake_req *f, const ms_gw_route *route, bool cookie)
{
    bool by_cookie = !cookie;
    CHECK(check(a, f, route, &by_cookie) == 0);
    CHECK(by_cookie == cookie);
}

static void test_init(void)
{
    ms_gw_auth a;
    /* the API key has at least 32 characters */
    CHECK_ERR(ms_gw_auth_init(&a, "ms-0123456789abcdef0123456789ab", NULL, HOST, 8080, false),
              MS_ERR_CONFIG);
    CHECK_ERR(ms_gw_auth_init(&a, NULL, NULL, HOST, 8080, false), MS_ERR_CONFIG);
    CHECK_OK(ms_gw_auth_init(&a, "ms-0123456789abcdef0123456789abc", NULL, HOST, 8080, false));
    ms_gw_auth_free(&a);
    /* a TCP listen address is host:port */
    CHECK_ERR(ms_gw_auth_init(&a, KEY, NULL, "127.0.0.1", 8080, false), MS_ERR_CONFIG);
}

static void test_host(void)
{
    fake_req none = {.hdr = {NULL}};
    refused(&A, &none, &OPEN, 403, "host_not_allowed");
    fake_req other = {.hdr = {"Host", "attacker.example:8080", NULL}};
    refused(&A, &other, &OPEN, 403, "host_not_allowed");
    fake_req port = {.hdr = {"Host", "127.0.0.1:8081", NULL}};
    refused(&A, &port, &OPEN, 403, "host_not_allowed");
    fake_req ours = {.hdr = {"Host", HOST, NULL}};
    passes(&A, &ours, &OPEN, false);
    fake_req local = {.hdr = {"Host", "LocalHost:8080", NULL}};
    passes(&A, &local, &OPEN, false);
    /* localhost names us only on a loopback address */
    ms_gw_auth lan;
    CHECK_OK(ms_gw_auth_init(&lan, KEY, NULL, "10.1.2.3:8080", 8080, false));
    refused(&lan, &local, &OPEN, 403, "host_not_allowed");
    fake_req lan_host = {.hdr = {"Host", "10.1.2.3:8080", NULL}};
    passes(&lan, &lan_host, &OPEN, false);
    ms_gw_auth_free(&lan);
    /* a unix socket: any Host (no browser reaches it by name) */
    ms_gw_auth unix_a;
    CHECK_OK(ms_gw_auth_init(&unix_a, KEY, NULL, "/run/serve.sock", 0, true));
    passes(&unix_a, &other, &OPEN, false);
    passes(&unix_a, &none, &OPEN, false);
    ms_gw_auth_free(&unix_a);
}

static void test_origin(void)
{
    fake_req ours = {.hdr = {"Host", HOST, "Origin", "http://" HOST, NULL}};
    passes(&A, &ours, &OPEN, false);
    fake_req https = {.hdr = {"Host", HOST, "Origin", "https://" HOST, NULL}};
    refused(&A, &https, &OPEN, 403, "origin_not_allowed");
    fake_req other = {.hdr = {"Host", HOST, "Origin", "http://attacker.example", NULL}};
    refused(&A, &other, &OPEN, 403, "origin_not_allowed");
    fake_req null = {.hdr = {"Host", HOST, "Origin", "null", NULL}};
    refused(&A, &null, &OPEN, 403, "origin_not_allowed");
    /* even with the key */
    fake_req keyed = {.hdr = {"Host", HOST, "Origin", "http://attacker.example", "Authorization",
                       "Bearer " KEY, NULL}};
    refused(&A, &keyed, &API, 403, "origin_not_allowed");
    /* a unix socket: the Origin must be the Host the request names */
    ms_gw_auth unix_a;
    CHECK_OK(ms_gw_auth_init(&unix_a, KEY, NULL, "/run/serve.sock", 0, true));
    fake_req same = {.hdr = {"Host", "serve.local", "Origin", "http://serve.local", NULL}};
    passes(&unix_a, &same, &OPEN, false);
    fake_req apart = {.hdr = {"Host", "serve.local", "Origin", "http://other.local", NULL}};
    refused(&unix_a, &apart, &OPEN, 403, "origin_not_allowed");
    ms_gw_auth_free(&unix_a);
}

static void test_token(void)
{
    fake_req none = {.hdr = {"Host", HOST, NULL}};
    refused(&A, &none, &API, 401, "missing_api_key");
    passes(&A, &none, &OPEN, false);
    passes(&A, &none, NULL, false);
    fake_req good = {.hdr = {"Host", HOST, "Authorization", "Bearer " KEY, NULL}};
    passes(&A, &good, &API, false);
    fake_req spaced = {.hdr = {"Host", HOST, "Authorization", "bearer   " KEY, NULL}};
    passes(&A, &spaced, &API, false);
    fake_req wrong = {.hdr = {"Host", HOST, "Authorization", "Bearer " KEY "0", NULL}};
    refused(&A, &wrong, &API, 401, "invalid_api_key");
    fake_req basic = {.hdr = {"Host", HOST, "Authorization", "Basic " KEY, NULL}};
    refused(&A, &basic, &API, 401, "invalid_api_key");
    fake_req bare = {.hdr = {"Host", HOST, "Authorization", KEY, NULL}};
    refused(&A, &bare, &API, 401, "invalid_api_key");
    /* the key compared padded: a prefix, one byte changed, the empty token */
    char cut[] = "Bearer " KEY;
    cut[sizeof cut - 2] = 0;
    fake_req prefix = {.hdr = {"Host", HOST, "Authorization", cut, NULL}};
    refused(&A, &prefix, &API, 401, "invalid_api_key");
    char flip[] = "Bearer " KEY;
    flip[sizeof flip - 2] ^= 1;
    fake_req flipped = {.hdr = {"Host", HOST, "Authorization", flip, NULL}};
    refused(&A, &flipped, &API, 401, "invalid_api_key");
    fake_req empty = {.hdr = {"Host", HOST, "Authorization", "Bearer ", NULL}};
    refused(&A, &empty, &API, 401, "invalid_api_key");
}

/* Keys at the pad's length, past it (compared by their hashes), and tokens longer than it. */
static void test_token_lengths(void)
{
    for (size_t len = MS_GW_KEY_PAD - 1; len <= MS_GW_KEY_PAD + 2; len++) {
        char key[MS_GW_KEY_PAD + 3], hdr[MS_GW_KEY_PAD + 16], other[MS_GW_KEY_PAD + 16];
        memset(key, 'k', len);
        key[0] = 'a';
        key[len] = 0;
        ms_gw_auth a;
        CHECK_OK(ms_gw_auth_init(&a, key, NULL, HOST, 8080, false));
        snprintf(hdr, sizeof hdr, "Bearer %s", key);
        fake_req good = {.hdr = {"Host", HOST, "Authorization", hdr, NULL}};
        passes(&a, &good, &API, false);
        snprintf(other, sizeof other, "Bearer %sk", key); /* one byte more */
        fake_req longer = {.hdr = {"Host", HOST, "Authorization", other, NULL}};
        refused(&a, &longer, &API, 401, "invalid_api_key");
        snprintf(other, sizeof other, "Bearer %s", key);
        other[7] = 'b'; /* the first byte differs */
        fake_req first = {.hdr = {"Host", HOST, "Authorization", other, NULL}};
        refused(&a, &first, &API, 401, "invalid_api_key");
        other[7] = 'a';
        other[strlen(other) - 1] = 0; /* one byte less */
        fake_req shorter = {.hdr = {"Host", HOST, "Authorization", other, NULL}};
        refused(&a, &shorter, &API, 401, "invalid_api_key");
        ms_gw_auth_free(&a);
    }
}

/* Logs in with CODE: the cookie header value ("ms_session=<64 hex>") into out. */
static void login(char out[128])
{
    fake_req f = {.hdr = {"Host", HOST, NULL}, .query = {"code", CODE, NULL}};
    ms_gw_req req = {.gw = &g_gw, .method = "GET", .path = "/login", .conn_ = &f};
    ms_gw_resp resp = {0};
    ms_gw_h_login(&req, &resp);
    CHECK(resp.status == 303);
    CHECK(strcmp(resp.location, "/") == 0);
    CHECK(strncmp(resp.set_cookie, "ms_session=", 11) == 0 &&
          strstr(resp.set_cookie, "; HttpOnly; SameSite=Strict") != NULL);
    snprintf(out, 128, "%.75s", resp.set_cookie);
}

static int login_status(const char *code)
{
    fake_req f = {.hdr = {"Host", HOST, NULL}, .query = {"code", code, NULL}};
    ms_gw_req req = {.gw = &g_gw, .method = "GET", .path = "/login", .conn_ = &f};
    ms_gw_resp resp = {0};
    last_code = NULL;
    ms_gw_h_login(&req, &resp);
    return resp.status;
}

static void test_login_and_cookie(void)
{
    char cookie[128];
    fake_req nocode = {.hdr = {"Host", HOST, NULL}};
    ms_gw_req req = {.gw = &g_gw, .method = "GET", .path = "/login", .conn_ = &nocode};
    ms_gw_resp resp = {0};
    ms_gw_h_login(&req, &resp);
    CHECK(resp.status == 400 && last_code && strcmp(last_code, "missing_code") == 0);
    CHECK(login_status("ms-login-code-0123456780") == 403);
    CHECK(last_code && strcmp(last_code, "invalid_code") == 0);
    login(cookie);
    /* one time */
    CHECK(login_status(CODE) == 403);
    CHECK(last_code && strcmp(last_code, "invalid_code") == 0);

    /* the cookie from our own page passes, by cookie */
    fake_req same = {.hdr = {"Host", HOST, "Cookie", cookie, "Sec-Fetch-Site", "same-origin", NULL}};
    passes(&A, &same, &API, true);
    fake_req origin = {.hdr = {"Host", HOST, "Cookie", cookie, "Origin", "http://" HOST, NULL}};
    passes(&A, &origin, &API, true);
    /* from another site, or saying neither where it comes from: CSRF */
    fake_req cross = {.hdr = {"Host", HOST, "Cookie", cookie, "Sec-Fetch-Site", "cross-site", NULL}};
    refused(&A, &cross, &API, 403, "cross_site_request");
    fake_req crossed = {.hdr = {"Host", HOST, "Cookie", cookie, "Origin", "http://" HOST,
                         "Sec-Fetch-Site", "same-site", NULL}};
    refused(&A, &crossed, &API, 403, "cross_site_request");
    fake_req silent = {.hdr = {"Host", HOST, "Cookie", cookie, NULL}};
    refused(&A, &silent, &API, 403, "cross_site_request");
    /* a token, when sent, decides even beside a good cookie */
    fake_req both = {.hdr = {"Host", HOST, "Cookie", cookie, "Sec-Fetch-Site", "same-origin",
                      "Authorization", "Bearer wrong", NULL}};
    refused(&A, &both, &API, 401, "invalid_api_key");
    /* a cookie we did not give, or cut short */
    char forged[128];
    snprintf(forged, sizeof forged, "%s", cookie);
    forged[20] = forged[20] == '0' ? '1' : '0';
    fake_req bad = {.hdr = {"Host", HOST, "Cookie", forged, "Sec-Fetch-Site", "same-origin", NULL}};
    refused(&A, &bad, &API, 401, "missing_api_key");
    forged[74] = '\0';
    snprintf(forged, sizeof forged, "%.74s", cookie);
    fake_req cut = {.hdr = {"Host", HOST, "Cookie", forged, "Sec-Fetch-Site", "same-origin", NULL}};
    refused(&A, &cut, &API, 401, "missing_api_key");
}

int main(void)
{
    CHECK_OK(ms_gw_auth_init(&A, KEY, CODE, HOST, 8080, false));
    RUN(test_init);
    RUN(test_host);
    RUN(test_origin);
    RUN(test_token);
    RUN(test_token_lengths);
    RUN(test_login_and_cookie);
    ms_gw_auth_free(&A);
    return TEST_SUMMARY();
}
